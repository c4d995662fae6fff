/* detect.h - the face-detection stage: gray8 frame in, faces out.
 *
 * Until the CNN detector lands, detect_new() with no model reports the
 * configured seat regions as faces (score 1, no landmarks); the interface
 * stays the same when the real detector arrives.
 */
#ifndef EMOTOP_DETECT_H
#define EMOTOP_DETECT_H

#include "emotop/err.h"
#include "emotop/image.h"

#define DETECT_NUM_LANDMARKS 5 /* left eye, right eye, nose, mouth left, mouth right */

struct emo_face {
	struct emo_box box;     /* pixels of the analysed frame */
	float score;            /* 0..1 */
	int n_landmarks;        /* 0 or DETECT_NUM_LANDMARKS */
	float lm[DETECT_NUM_LANDMARKS][2]; /* x, y in frame pixels ("left" as seen) */
};

struct detect_opts {
	int min_face;           /* px, default 20 */
	float threshold;        /* score threshold, default 0.5 */
	float nms_iou;          /* default 0.4 */
	const char *model_path; /* NULL: embedded model (if any) */
	/* Stand-in when no detector model exists: fixed regions in frame
	 * pixels (owned by the caller, must outlive the detector). */
	const struct emo_box *regions;
	int n_regions;
};

/* Defaults for *o. */
void detect_opts_default(struct detect_opts *o);

/* New detector; free with detect_free(). NULL on error with *err set. */
struct detect *detect_new(const struct detect_opts *o, struct emo_err *err);
void detect_free(struct detect *d);

/* Find faces in img; writes at most max faces to out (sorted by score),
 * returns their count (>= 0) or a negative EMO_* code. Allocates nothing
 * per call once it has seen the largest frame. */
int detect_run(struct detect *d, const struct emo_image *img, struct emo_face *out, int max);

#endif
