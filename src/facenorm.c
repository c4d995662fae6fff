/* facenorm.c - per-face contrast normalisation (see facenorm.h). */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "emotop/facenorm.h"

int facenorm_from_meta(const struct qnn_model *m, const char *name, int *norm, float *blur,
		       struct emo_err *err)
{
	char v[32];

	*norm = 0;
	*blur = 0;
	if (!qnn_meta_get(m, "input_norm", v, sizeof(v))) {
		if (strcmp(v, "facenorm"))
			return emo_seterr(err, EMO_EFORMAT, name, 0, 0,
					  "unknown input_norm '%s' in model metadata", v);
		*norm = 1;
	}
	if (!qnn_meta_get(m, "input_blur", v, sizeof(v))) {
		char *end;
		*blur = strtof(v, &end);
		if (end == v || *end || !(*blur >= 0 && *blur <= 8))
			return emo_seterr(err, EMO_EFORMAT, name, 0, 0, "bad input_blur '%s' in model metadata",
					  v);
	}
	return EMO_OK;
}

void facenorm_prepare(uint8_t *px, int w, int h, float blur, int norm, uint8_t *tmp)
{
	facenorm_blur(px, w, h, blur, tmp);
	if (norm)
		facenorm_apply(px, w * h);
}

void facenorm_apply(uint8_t *px, int n)
{
	int64_t sum = 0, sq = 0;
	double mean, var, gain;

	if (n <= 0)
		return;
	for (int i = 0; i < n; i++) {
		sum += px[i];
		sq += (int64_t)px[i] * px[i];
	}
	/* integer sums: exact, so the result does not depend on the machine */
	mean = (double)sum / n;
	var = (double)sq / n - mean * mean;
	gain = FACENORM_STD / fmax(sqrt(var > 0 ? var : 0), FACENORM_MIN_STD);
	for (int i = 0; i < n; i++) {
		long v = lrint(FACENORM_MEAN + ((double)px[i] - mean) * gain);
		px[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
	}
}

#define FACENORM_BLUR_MAX_R 24
#define FACENORM_BLUR_STRIP 256 /* columns per pass */

void facenorm_blur(uint8_t *px, int w, int h, float sigma, uint8_t *tmp)
{
	int32_t k[2 * FACENORM_BLUR_MAX_R + 1];
	double g[2 * FACENORM_BLUR_MAX_R + 1], gsum = 0;
	int r, sum = 0;

	if (!(sigma > 0 && sigma <= 8) || w <= 0 || h <= 0)
		return;
	r = (int)ceil(3.0 * sigma);
	if (r > FACENORM_BLUR_MAX_R)
		r = FACENORM_BLUR_MAX_R;
	for (int i = -r; i <= r; i++)
		gsum += g[i + r] = exp(-(double)i * i / (2.0 * sigma * sigma));
	for (int i = -r; i <= r; i++)
		sum += k[i + r] = (int32_t)lrint(65536.0 * g[i + r] / gsum);
	/* make the weights sum to exactly 65536 */
	k[r] += 65536 - sum;
	/* each sum is at most 65536 * 255 < 2^31: int32 is exact. Rows, then
	 * columns, a tap at a time over a strip of a line, so the inner loops
	 * vectorize; border pixels are replicated. */
	for (int x0 = 0; x0 < w; x0 += FACENORM_BLUR_STRIP) {
		const int n = w - x0 < FACENORM_BLUR_STRIP ? w - x0 : FACENORM_BLUR_STRIP;
		int32_t acc[FACENORM_BLUR_STRIP];
		uint8_t line[FACENORM_BLUR_STRIP + 2 * FACENORM_BLUR_MAX_R];
		for (int y = 0; y < h; y++) {
			const uint8_t *row = px + (size_t)y * w;
			for (int i = 0; i < n + 2 * r; i++) {
				int xx = x0 + i - r;
				line[i] = row[xx < 0 ? 0 : xx >= w ? w - 1 : xx];
			}
			for (int x = 0; x < n; x++)
				acc[x] = 32768;
			for (int i = 0; i <= 2 * r; i++)
				for (int x = 0; x < n; x++)
					acc[x] += k[i] * line[x + i];
			for (int x = 0; x < n; x++)
				tmp[(size_t)y * w + x0 + x] = (uint8_t)(acc[x] >> 16);
		}
	}
	for (int x0 = 0; x0 < w; x0 += FACENORM_BLUR_STRIP) {
		const int n = w - x0 < FACENORM_BLUR_STRIP ? w - x0 : FACENORM_BLUR_STRIP;
		int32_t acc[FACENORM_BLUR_STRIP];
		for (int y = 0; y < h; y++) {
			for (int x = 0; x < n; x++)
				acc[x] = 32768;
			for (int i = -r; i <= r; i++) {
				const int yy = y + i < 0 ? 0 : y + i >= h ? h - 1 : y + i;
				const uint8_t *src = tmp + (size_t)yy * w + x0;
				for (int x = 0; x < n; x++)
					acc[x] += k[i + r] * src[x];
			}
			for (int x = 0; x < n; x++)
				px[(size_t)y * w + x0 + x] = (uint8_t)(acc[x] >> 16);
		}
	}
}
