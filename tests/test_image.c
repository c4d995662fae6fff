/* test_image.c - gray8 image helpers: allocation, resize, affine warp, IoU. */
#include "unit.h"

#include "emotop/err.h"
#include "emotop/image.h"

static void fill_ramp(struct emo_image *im)
{
	for (int y = 0; y < im->h; y++)
		for (int x = 0; x < im->w; x++)
			im->px[(size_t)y * im->stride + x] = (uint8_t)(3 * x + 5 * y);
}

TEST(new_free)
{
	struct emo_image im;

	ASSERT_EQ(image_new(&im, 0, 5), EMO_EINVAL);
	ASSERT(!im.px);
	ASSERT_EQ(image_new(&im, 5, -1), EMO_EINVAL);
	ASSERT_EQ(image_new(&im, 40000, 5), EMO_EINVAL);
	ASSERT_EQ(image_new(NULL, 5, 5), EMO_EINVAL);
	ASSERT_EQ(image_new(&im, 7, 3), EMO_OK);
	ASSERT(im.w == 7 && im.h == 3 && im.stride == 7 && im.px);
	for (int i = 0; i < 21; i++)
		ASSERT_EQ(im.px[i], 0);
	image_free(&im);
	ASSERT(!im.px && !im.w);
	image_free(&im); /* idempotent */
	image_free(NULL);
}

TEST(resize_identity_and_constant)
{
	struct emo_image a, b;

	ASSERT_EQ(image_new(&a, 20, 13), EMO_OK);
	ASSERT_EQ(image_new(&b, 20, 13), EMO_OK);
	fill_ramp(&a);
	image_resize(&a, &b);
	ASSERT(!memcmp(a.px, b.px, 20 * 13));
	image_free(&b);
	/* a constant image stays constant at any size */
	memset(a.px, 77, 20 * 13);
	ASSERT_EQ(image_new(&b, 7, 31), EMO_OK);
	image_resize(&a, &b);
	for (int i = 0; i < 7 * 31; i++)
		ASSERT_EQ(b.px[i], 77);
	image_free(&a);
	image_free(&b);
}

TEST(resize_shrink_averages)
{
	struct emo_image a, b;

	/* 2x2 blocks of 0 / 200 alternating in x: halving gives 0, 200, ... */
	ASSERT_EQ(image_new(&a, 16, 16), EMO_OK);
	ASSERT_EQ(image_new(&b, 8, 8), EMO_OK);
	for (int y = 0; y < 16; y++)
		for (int x = 0; x < 16; x++)
			a.px[y * 16 + x] = (x / 2) % 2 ? 200 : 0;
	image_resize(&a, &b);
	for (int x = 0; x < 8; x++)
		ASSERT_EQ(b.px[3 * 8 + x], x % 2 ? 200 : 0);
	/* 1-pixel stripes shrunk 4x average to the mean (no aliasing) */
	for (int i = 0; i < 256; i++)
		a.px[i] = (i % 2) ? 200 : 0;
	image_free(&b);
	ASSERT_EQ(image_new(&b, 4, 4), EMO_OK);
	image_resize(&a, &b);
	for (int i = 0; i < 16; i++)
		ASSERT_NEAR(b.px[i], 100, 1);
	image_free(&a);
	image_free(&b);
}

TEST(warp_translate_and_border)
{
	struct emo_image a, b;
	const float shift[6] = {1, 0, 2, 0, 1, -1}; /* src = dst + (2, -1) */

	ASSERT_EQ(image_new(&a, 10, 8), EMO_OK);
	ASSERT_EQ(image_new(&b, 10, 8), EMO_OK);
	fill_ramp(&a);
	image_warp_affine(&a, &b, shift);
	for (int y = 0; y < 8; y++)
		for (int x = 0; x < 10; x++) {
			int sx = x + 2 > 9 ? 9 : x + 2, sy = y - 1 < 0 ? 0 : y - 1;
			ASSERT_EQ(b.px[y * 10 + x], a.px[sy * 10 + sx]);
		}
	/* a half-pixel shift interpolates */
	const float half[6] = {1, 0, 0.5f, 0, 1, 0};
	image_warp_affine(&a, &b, half);
	ASSERT_EQ(b.px[0], (a.px[0] + a.px[1] + 1) / 2);
	/* garbage matrices do not crash */
	const float bad[6] = {NAN, 0, 1e30f, INFINITY, 1, -1e30f};
	image_warp_affine(&a, &b, bad);
	image_warp_affine(&a, &b, NULL);
	image_free(&a);
	image_free(&b);
}

TEST(warp_mirror_with_stride)
{
	struct emo_image a, b;
	uint8_t buf[6 * 12];
	const float mirror[6] = {-1, 0, 5, 0, 1, 0};

	a.w = 6;
	a.h = 6;
	a.stride = 12; /* a view into a wider buffer */
	a.px = buf;
	for (int i = 0; i < 72; i++)
		buf[i] = (uint8_t)i;
	ASSERT_EQ(image_new(&b, 6, 6), EMO_OK);
	image_warp_affine(&a, &b, mirror);
	for (int y = 0; y < 6; y++)
		for (int x = 0; x < 6; x++)
			ASSERT_EQ(b.px[y * 6 + x], buf[y * 12 + 5 - x]);
	image_free(&b);
}

TEST(box_iou)
{
	struct emo_box a = {0, 0, 10, 10}, b = {5, 0, 10, 10}, c = {20, 20, 5, 5}, z = {0, 0, 0, 5};

	ASSERT_NEAR(emo_box_iou(&a, &a), 1.0, 1e-6);
	ASSERT_NEAR(emo_box_iou(&a, &b), 50.0 / 150.0, 1e-6);
	ASSERT_NEAR(emo_box_iou(&a, &c), 0, 0);
	ASSERT_NEAR(emo_box_iou(&a, &z), 0, 0);
	ASSERT_NEAR(emo_box_iou(&a, NULL), 0, 0);
}

int main(int argc, char **argv)
{
	unit_init(argc, argv);
	RUN(new_free);
	RUN(resize_identity_and_constant);
	RUN(resize_shrink_averages);
	RUN(warp_translate_and_border);
	RUN(warp_mirror_with_stride);
	RUN(box_iou);
	return unit_done();
}
