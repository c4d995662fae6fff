/* facenorm.c - per-face contrast normalisation (see facenorm.h). */
#include <math.h>

#include "emotop/facenorm.h"

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
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			int64_t acc = 0;
			for (int i = -r; i <= r; i++) {
				int xx = x + i < 0 ? 0 : x + i >= w ? w - 1 : x + i;
				acc += (int64_t)k[i + r] * px[y * w + xx];
			}
			tmp[y * w + x] = (uint8_t)((acc + 32768) >> 16);
		}
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			int64_t acc = 0;
			for (int i = -r; i <= r; i++) {
				int yy = y + i < 0 ? 0 : y + i >= h ? h - 1 : y + i;
				acc += (int64_t)k[i + r] * tmp[yy * w + x];
			}
			px[y * w + x] = (uint8_t)((acc + 32768) >> 16);
		}
}
