/* image.c - gray8 images: allocation, bilinear resize and affine warp
 * (anti-aliased when shrinking), box IoU. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "emotop/err.h"
#include "emotop/image.h"

#define IMAGE_MAX_DIM 32768

int image_new(struct emo_image *img, int w, int h)
{
	if (!img)
		return EMO_EINVAL;
	memset(img, 0, sizeof(*img));
	if (w <= 0 || h <= 0 || w > IMAGE_MAX_DIM || h > IMAGE_MAX_DIM)
		return EMO_EINVAL;
	img->px = calloc((size_t)w * h, 1);
	if (!img->px)
		return EMO_ENOMEM;
	img->w = w;
	img->h = h;
	img->stride = w;
	return EMO_OK;
}

void image_free(struct emo_image *img)
{
	if (!img)
		return;
	free(img->px);
	img->px = NULL;
	img->w = img->h = img->stride = 0;
}

/* Bilinear sample at (x, y) in pixel-centre coordinates; inside: (x, y)
 * is known to lie within the image, else it is clamped (the border
 * replicated) and a coordinate that is not a number reads pixel (0, 0).
 * The arithmetic is the same either way, so are the bytes. */
static inline __attribute__((always_inline)) float sample(const struct emo_image *s, float x, float y,
							   int inside)
{
	if (!inside) {
		if (!isfinite(x) || !isfinite(y))
			x = y = 0;
		if (x < 0)
			x = 0;
		if (y < 0)
			y = 0;
		if (x > s->w - 1)
			x = (float)(s->w - 1);
		if (y > s->h - 1)
			y = (float)(s->h - 1);
	}
	int x0 = (int)x, y0 = (int)y;
	int x1 = x0 + 1 < s->w ? x0 + 1 : x0, y1 = y0 + 1 < s->h ? y0 + 1 : y0;
	float fx = x - (float)x0, fy = y - (float)y0;
	const uint8_t *r0 = s->px + (size_t)y0 * s->stride, *r1 = s->px + (size_t)y1 * s->stride;
	float top = r0[x0] + fx * (float)(r0[x1] - r0[x0]);
	float bot = r1[x0] + fx * (float)(r1[x1] - r1[x0]);
	return top + fy * (bot - top);
}

/* The warp proper, nx x ny samples per destination pixel at offsets qx, qy;
 * inlined twice, with and without the border handling. */
static inline __attribute__((always_inline)) void warp(const struct emo_image *src, struct emo_image *dst,
						       const float a[6], int nx, int ny, const float *qx,
						       const float *qy, int inside)
{
	const float inv = 1.0f / (float)(nx * ny);

	for (int y = 0; y < dst->h; y++) {
		uint8_t *row = dst->px + (size_t)y * dst->stride;
		for (int x = 0; x < dst->w; x++) {
			float acc = 0;
			for (int j = 0; j < ny; j++) {
				float dy = (float)y + qy[j] - 0.5f;
				for (int i = 0; i < nx; i++) {
					float dx = (float)x + qx[i] - 0.5f;
					acc += sample(src, a[0] * dx + a[1] * dy + a[2], a[3] * dx + a[4] * dy + a[5],
						      inside);
				}
			}
			float v = acc * inv + 0.5f;
			row[x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
		}
	}
}

void image_warp_affine(const struct emo_image *src, struct emo_image *dst, const float a[6])
{
	image_warp_affine_ss(src, dst, a, IMAGE_MAX_SS);
}

void image_warp_affine_ss(const struct emo_image *src, struct emo_image *dst, const float a[6],
			  int max_ss)
{
	float qx[IMAGE_MAX_SS], qy[IMAGE_MAX_SS]; /* sample offsets in a pixel */
	float lo_x = INFINITY, hi_x = -INFINITY, lo_y = INFINITY, hi_y = -INFINITY;

	if (!src || !dst || !src->px || !dst->px || src->w < 1 || src->h < 1 || dst->w < 1 ||
	    dst->h < 1 || !a)
		return;
	/* Samples per axis: how many source pixels one destination pixel
	 * spans, so shrinking averages instead of aliasing. */
	float sxs = hypotf(a[0], a[3]), sys = hypotf(a[1], a[4]);
	float fx = isfinite(sxs) ? ceilf(sxs - 0.01f) : 1, fy = isfinite(sys) ? ceilf(sys - 0.01f) : 1;
	int nx, ny;
	max_ss = max_ss < 1 ? 1 : max_ss > IMAGE_MAX_SS ? IMAGE_MAX_SS : max_ss;
	/* clamped as floats: a huge box's scale does not fit an int */
	nx = fx < 1 ? 1 : fx > (float)max_ss ? max_ss : (int)fx;
	ny = fy < 1 ? 1 : fy > (float)max_ss ? max_ss : (int)fy;
	for (int i = 0; i < nx; i++)
		qx[i] = ((float)i + 0.5f) / (float)nx;
	for (int j = 0; j < ny; j++)
		qy[j] = ((float)j + 0.5f) / (float)ny;
	/* Every sample inside the image (the usual crop): the border handling
	 * changes nothing, and the warp runs several times faster without it.
	 * The map is affine, so the extreme sample positions are at the
	 * corners of the sampled area; a margin covers rounding, and a map
	 * that is not finite fails the test (fminf/fmaxf skip NaN). */
	for (int c = 0; c < 4; c++) {
		const float dx = (float)((c & 1) ? dst->w - 1 : 0) + qx[(c & 1) ? nx - 1 : 0] - 0.5f;
		const float dy = (float)((c & 2) ? dst->h - 1 : 0) + qy[(c & 2) ? ny - 1 : 0] - 0.5f;
		const float sx = a[0] * dx + a[1] * dy + a[2], sy = a[3] * dx + a[4] * dy + a[5];
		lo_x = fminf(lo_x, sx);
		hi_x = fmaxf(hi_x, sx);
		lo_y = fminf(lo_y, sy);
		hi_y = fmaxf(hi_y, sy);
	}
	if (isfinite(lo_x) && isfinite(hi_x) && isfinite(lo_y) && isfinite(hi_y) && lo_x >= 0.01f &&
	    lo_y >= 0.01f && hi_x <= (float)(src->w - 1) - 0.01f && hi_y <= (float)(src->h - 1) - 0.01f)
		warp(src, dst, a, nx, ny, qx, qy, 1);
	else
		warp(src, dst, a, nx, ny, qx, qy, 0);
}

void image_resize(const struct emo_image *src, struct emo_image *dst)
{
	if (!src || !dst || src->w < 1 || src->h < 1 || dst->w < 1 || dst->h < 1)
		return;
	/* pixel centres map to pixel centres */
	float sx = (float)src->w / (float)dst->w, sy = (float)src->h / (float)dst->h;
	const float a[6] = {sx, 0, 0.5f * sx - 0.5f, 0, sy, 0.5f * sy - 0.5f};
	image_warp_affine(src, dst, a);
}

float emo_box_iou(const struct emo_box *a, const struct emo_box *b)
{
	if (!a || !b || !(a->w > 0) || !(a->h > 0) || !(b->w > 0) || !(b->h > 0))
		return 0;
	float x0 = fmaxf(a->x, b->x), y0 = fmaxf(a->y, b->y);
	float x1 = fminf(a->x + a->w, b->x + b->w), y1 = fminf(a->y + a->h, b->y + b->h);
	if (x1 <= x0 || y1 <= y0)
		return 0;
	float in = (x1 - x0) * (y1 - y0);
	float un = a->w * a->h + b->w * b->h - in;
	return un > 0 ? in / un : 0;
}
