/* align.c - cut a face out of a frame with the framing of FER2013 faces
 * (align.h). */
#include <math.h>

#include "emotop/align.h"
#include "emotop/err.h"

/* FER2013 framing. The crop is a square around the detector's box (WIDER
 * FACE convention: forehead to under the chin, taller than wide),
 * ALIGN_BOX_SCALE box heights wide and centred ALIGN_BOX_DY box heights
 * below the box centre: a 48x48 FER2013 face holds a box of 42.9 x 55.0 px
 * centred at (24, 23.7) (the WIDER rule of ../shared/data/faces/README.md
 * on the landmark crops in FER2013's framing); `emotop-train detect
 * fer-framing` measures the same on the detector's own boxes of pasted
 * FER2013 test faces. With landmarks, the crop is also turned by the angle of
 * the least-squares similarity transform taking the five points onto where
 * the same detector puts them on FER2013 faces (means over 1,503 pasted
 * test faces, made symmetric about the vertical centre line, in pixels of
 * a 48x48 face). Scale and centre come from the box and only the angle
 * from the landmarks: each point is off by about 3 px at this scale, which
 * moves a crop fitted to the points more than it moves the box; measured
 * by `emotop-train detect align-check`, the box framing classifies pasted
 * faces 1-2 points better than the five-point fit, and 4 points better
 * than the two eyes alone. */
static const float fer_lm[DETECT_NUM_LANDMARKS][2] = {
	{15.4f, 18.2f}, {32.6f, 18.2f}, /* eyes */
	{24.0f, 31.6f},                 /* nose */
	{16.8f, 37.0f}, {31.2f, 37.0f}, /* mouth corners */
};
#define ALIGN_BOX_SCALE 0.873f
#define ALIGN_BOX_DY 0.005f

int face_align(const struct emo_image *frame, const struct emo_face *face, struct emo_image *crop)
{
	return face_align_ss(frame, face, crop, IMAGE_MAX_SS);
}

int face_align_ss(const struct emo_image *frame, const struct emo_face *face, struct emo_image *crop,
		  int max_ss)
{
	float a[6];

	if (!frame || !frame->px || frame->w < 1 || frame->h < 1 || !face || !crop || !crop->px ||
	    crop->w < 1 || crop->h < 1)
		return EMO_EINVAL;
	const float S = (float)crop->w, Sy = (float)crop->h;
	const struct emo_box *b = &face->box;
	float th = 0;

	if (!isfinite(b->x) || !isfinite(b->y) || !(b->w > 0) || !(b->h > 0) || !isfinite(b->w) ||
	    !isfinite(b->h))
		return EMO_EINVAL;
	if (face->n_landmarks == DETECT_NUM_LANDMARKS) {
		/* angle of the least-squares fit  points = [p -q; q p] template + t;
		 * landmarks that are not numbers, all at one point, mirrored or
		 * turned by more than 45 degrees say nothing usable: upright */
		float qc[2] = {0, 0}, pc[2] = {0, 0}, p = 0, q = 0;
		int ok = 1;
		for (int i = 0; i < DETECT_NUM_LANDMARKS; i++) {
			if (!isfinite(face->lm[i][0]) || !isfinite(face->lm[i][1]))
				ok = 0;
			qc[0] += fer_lm[i][0] / DETECT_NUM_LANDMARKS;
			qc[1] += fer_lm[i][1] / DETECT_NUM_LANDMARKS;
			pc[0] += face->lm[i][0] / DETECT_NUM_LANDMARKS;
			pc[1] += face->lm[i][1] / DETECT_NUM_LANDMARKS;
		}
		for (int i = 0; ok && i < DETECT_NUM_LANDMARKS; i++) {
			float qx = fer_lm[i][0] - qc[0], qy = fer_lm[i][1] - qc[1];
			float px = face->lm[i][0] - pc[0], py = face->lm[i][1] - pc[1];
			p += qx * px + qy * py;
			q += qx * py - qy * px;
		}
		if (ok && isfinite(p) && isfinite(q) && p > 0 && fabsf(q) <= p) /* |angle| <= 45 deg */
			th = atan2f(q, p);
	}
	{
		/* crop (pixel centres) -> frame: rotate by th about the crop
		 * centre, scale, move to the box centre shifted "up" the face */
		const float bs = b->h, k = bs * ALIGN_BOX_SCALE / S;
		const float cs = cosf(th), sn = sinf(th), dy = ALIGN_BOX_DY * bs;
		const float cx = b->x + 0.5f * b->w - sn * dy, cy = b->y + 0.5f * b->h + cs * dy;
		const float ux = 0.5f - 0.5f * S, uy = 0.5f - 0.5f * Sy; /* crop pixel 0 from its centre */
		a[0] = k * cs;
		a[1] = -k * sn;
		a[2] = k * cs * ux - k * sn * uy + cx - 0.5f;
		a[3] = k * sn;
		a[4] = k * cs;
		a[5] = k * sn * ux + k * cs * uy + cy - 0.5f;
	}
	image_warp_affine_ss(frame, crop, a, max_ss);
	return EMO_OK;
}
