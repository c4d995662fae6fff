/* test_facenorm.c - the contrast normalisation shared by trainer and classifier. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "emotop/facenorm.h"
#include "train/data.h"
#include "unit.h"

static void stats(const uint8_t *px, int n, double *mean, double *sd)
{
	double s = 0, q = 0;
	for (int i = 0; i < n; i++) {
		s += px[i];
		q += (double)px[i] * px[i];
	}
	*mean = s / n;
	*sd = sqrt(q / n - *mean * *mean);
}

TEST(flat_face_goes_to_mid_gray)
{
	uint8_t px[100];
	memset(px, 17, sizeof(px));
	facenorm_apply(px, 100);
	for (int i = 0; i < 100; i++)
		ASSERT_EQ(px[i], 128);
}

TEST(low_and_high_contrast_meet)
{
	uint8_t a[2304], b[2304];
	double ma, sa, mb, sb;
	/* the same face pattern at two contrasts and brightnesses */
	for (int i = 0; i < 2304; i++) {
		double v = sin(i * 0.37) * 0.5 + cos(i * 0.011) * 0.5;
		a[i] = (uint8_t)lrint(60 + 20 * v);
		b[i] = (uint8_t)lrint(150 + 70 * v);
	}
	facenorm_apply(a, 2304);
	facenorm_apply(b, 2304);
	stats(a, 2304, &ma, &sa);
	stats(b, 2304, &mb, &sb);
	ASSERT_NEAR(ma, FACENORM_MEAN, 1.5);
	ASSERT_NEAR(mb, FACENORM_MEAN, 1.5);
	ASSERT_NEAR(sa, FACENORM_STD, 2.0);
	ASSERT_NEAR(sb, FACENORM_STD, 2.0);
	for (int i = 0; i < 2304; i++)
		ASSERT(abs((int)a[i] - (int)b[i]) <= 4);
}

TEST(clamps_and_idempotent_enough)
{
	uint8_t px[4] = {0, 0, 0, 255}, again[4];
	facenorm_apply(px, 4);
	/* mean 63.75, sd 110.4: 0 -> 128 - 37 = 91, 255 -> 128 + 111 = 239 */
	ASSERT_EQ(px[0], 91);
	ASSERT_EQ(px[3], 239);
	memcpy(again, px, 4);
	facenorm_apply(again, 4);
	for (int i = 0; i < 4; i++)
		ASSERT(abs((int)again[i] - (int)px[i]) <= 1);
	facenorm_apply(px, 0); /* no-op, no crash */
}

static double laplacian(const uint8_t *p, int w, int h)
{
	double s = 0;
	for (int y = 1; y < h - 1; y++)
		for (int x = 1; x < w - 1; x++)
			s += abs(4 * p[y * w + x] - p[y * w + x - 1] - p[y * w + x + 1] - p[(y - 1) * w + x] -
				 p[(y + 1) * w + x]);
	return s / ((w - 2) * (h - 2));
}

/* The blur, straight from its definition: 65536-scaled integer Gaussian
 * taps (r = ceil(3 sigma), summing to 65536), rows then columns, border
 * replicated, each pass rounded to bytes. */
static void ref_blur(uint8_t *px, int w, int h, float sigma, uint8_t *tmp)
{
	int32_t k[49];
	double g[49], gsum = 0;
	int r = (int)ceil(3.0 * sigma), sum = 0;

	r = r > 24 ? 24 : r;
	for (int i = -r; i <= r; i++)
		gsum += g[i + r] = exp(-(double)i * i / (2.0 * sigma * sigma));
	for (int i = -r; i <= r; i++)
		sum += k[i + r] = (int32_t)lrint(65536.0 * g[i + r] / gsum);
	k[r] += 65536 - sum;
	for (int pass = 0; pass < 2; pass++) {
		const uint8_t *src = pass ? tmp : px;
		uint8_t *dst = pass ? px : tmp;
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++) {
				int64_t acc = 0;
				for (int i = -r; i <= r; i++) {
					int xx = pass ? x : x + i, yy = pass ? y + i : y;
					xx = xx < 0 ? 0 : xx >= w ? w - 1 : xx;
					yy = yy < 0 ? 0 : yy >= h ? h - 1 : yy;
					acc += (int64_t)k[i + r] * src[yy * w + xx];
				}
				dst[y * w + x] = (uint8_t)((acc + 32768) >> 16);
			}
	}
}

/* The (vectorized, strip by strip) blur gives exactly the reference's
 * bytes: sizes from 1 pixel to wider than a strip, sigmas up to the cap. */
TEST(blur_matches_reference)
{
	uint32_t s = 12345;
	for (int t = 0; t < 400; t++) {
		s = s * 1664525u + 1013904223u;
		int w = 1 + (int)(s >> 8) % 700, h = 1 + (int)(s >> 20) % 50;
		float sigma = (float)((s >> 3) % 801) / 100.0f; /* 0 .. 8 */
		uint8_t *a = malloc((size_t)w * h), *b = malloc((size_t)w * h), *tmp = malloc((size_t)w * h);
		ASSERT(a && b && tmp);
		for (int i = 0; i < w * h; i++) {
			s = s * 1664525u + 1013904223u;
			a[i] = b[i] = (uint8_t)(s >> 24);
		}
		facenorm_blur(a, w, h, sigma, tmp);
		if (sigma > 0)
			ref_blur(b, w, h, sigma, tmp);
		if (memcmp(a, b, (size_t)w * h))
			UNIT_FAILF("blur %dx%d sigma %.2f differs from the reference", w, h, (double)sigma);
		free(a);
		free(b);
		free(tmp);
	}
}

TEST(blur_smooths_and_keeps_flat)
{
	uint8_t px[48 * 40], flat[48 * 40], tmp[48 * 40], keep[48 * 40];
	double before, after;
	for (int i = 0; i < 48 * 40; i++)
		px[i] = (uint8_t)((i * 37 + (i / 48) * 11) % 256);
	memcpy(keep, px, sizeof(px));
	before = laplacian(px, 48, 40);
	facenorm_blur(px, 48, 40, 2.8f, tmp);
	after = laplacian(px, 48, 40);
	ASSERT(after < before / 10);
	/* no-ops */
	memcpy(px, keep, sizeof(px));
	facenorm_blur(px, 48, 40, 0.0f, tmp);
	ASSERT(!memcmp(px, keep, sizeof(px)));
	facenorm_blur(px, 48, 40, 100.0f, tmp);
	ASSERT(!memcmp(px, keep, sizeof(px)));
	/* a flat image stays flat: the weights sum to one exactly */
	memset(flat, 201, sizeof(flat));
	facenorm_blur(flat, 48, 40, 1.7f, tmp);
	for (int i = 0; i < 48 * 40; i++)
		ASSERT_EQ(flat[i], 201);
}

int main(int argc, char **argv)
{
	unit_init(argc, argv);
	RUN(flat_face_goes_to_mid_gray);
	RUN(low_and_high_contrast_meet);
	RUN(clamps_and_idempotent_enough);
	RUN(blur_smooths_and_keeps_flat);
	RUN(blur_matches_reference);
	return unit_done();
}
