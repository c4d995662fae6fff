/* test_facenorm.c - the contrast normalisation shared by trainer and classifier. */
#include <math.h>
#include <stdint.h>

#include "emotop/facenorm.h"
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
	return unit_done();
}
