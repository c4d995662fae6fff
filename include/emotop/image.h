/* image.h - gray8 images and boxes, the currency between stages.
 *
 * struct emo_image does not own px unless made by image_new(); see each API.
 */
#ifndef EMOTOP_IMAGE_H
#define EMOTOP_IMAGE_H

#include <stdint.h>

struct emo_image {
	int w, h;
	int stride;     /* bytes between rows, >= w */
	uint8_t *px;    /* gray8, row-major */
};

/* Axis-aligned box in pixels of the frame it refers to. */
struct emo_box {
	float x, y, w, h;
};

/* Allocate a w x h image (stride = w), zeroed. Returns EMO_OK or EMO_ENOMEM /
 * EMO_EINVAL (w or h <= 0 or > 32768). Free with image_free(). */
int image_new(struct emo_image *img, int w, int h);
/* Free pixels of an image made by image_new(); NULL-safe, idempotent. */
void image_free(struct emo_image *img);

/* Bilinear resize of the whole of src into dst (both allocated by caller). */
void image_resize(const struct emo_image *src, struct emo_image *dst);

/* Sample dst from src through the affine map src = A * dst + t, i.e.
 * sx = a[0]*x + a[1]*y + a[2], sy = a[3]*x + a[4]*y + a[5], bilinear,
 * replicating border pixels. Used for crops and eye-level alignment. */
void image_warp_affine(const struct emo_image *src, struct emo_image *dst, const float a[6]);
/* Most samples per axis and destination pixel when shrinking. */
#define IMAGE_MAX_SS 8
/* The same with at most max_ss (1..IMAGE_MAX_SS) samples per axis and
 * destination pixel when shrinking (image_warp_affine: IMAGE_MAX_SS);
 * fewer is faster and aliases more. */
void image_warp_affine_ss(const struct emo_image *src, struct emo_image *dst, const float a[6],
			  int max_ss);

/* Intersection over union of two boxes (0 when either is empty). */
float emo_box_iou(const struct emo_box *a, const struct emo_box *b);

#endif
