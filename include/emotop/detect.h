/* detect.h - the face-detection stage: gray8 frame in, faces out.
 *
 * The detector is an int8 CNN (models/face.qnn, embedded in the binary, or
 * opts.model_path) run on the qnn engine over an image pyramid; see
 * src/detect.c for the network and its decoding. Only when no model exists
 * at all (a build without models/face.qnn and no model_path), or when
 * model_path is "none", does detect_new() fall back to the stand-in that
 * reports the configured seat regions as faces (score 1, no landmarks).
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
	int min_face;           /* px (detect_opts_default: 20); 0: auto
				 * (detect_min_face), emotop's and scan's default */
	float threshold;        /* score threshold, default 0.5 */
	float nms_iou;          /* default 0.4 */
	const char *model_path; /* NULL: embedded model (if any); "none": the
				 * seat-region stand-in below */
	/* Configured seats or gallery cells, in frame pixels (owned by the
	 * caller, must outlive the detector): without a model, each is
	 * reported as a face (the stand-in); with one, see cell_threshold. */
	const struct emo_box *regions;
	int n_regions;
	/* With a model and regions: a region whose area holds no face's
	 * centre at threshold takes its best candidate scoring at least this
	 * (a tile of a video-call gallery is expected to show a face). 0: off;
	 * only used when below threshold. */
	float cell_threshold;
	/* Added with the CNN detector (0 = default): */
	int path;               /* enum qnn_path: kernel path, QNN_PATH_AUTO = best */
	int use_float;          /* run the float reference of the network (tests) */
	int no_model;           /* force the seat-region stand-in even with a model */
	const char *verify_path; /* the second stage: NULL the embedded verifier
				  * (if any), "none" no verifier, else a file */
};

/* min_face 0 (auto): the smallest face looked for is a 48th of the frame's
 * shorter side, from 10 to 20 px (10 up to 480 px, 15 at 720, 20 from
 * 960): small faces in small frames (a classroom on a webcam), not the 4x
 * cost of an upscaled 1080p frame. */
#define DETECT_AUTO_FRACTION 48
#define DETECT_AUTO_MIN 10
#define DETECT_AUTO_MAX 20
/* The smallest face (px) looked for on a w x h frame with the option
 * min_face: min_face itself, or the auto rule above when it is 0. */
int detect_min_face(int min_face, int w, int h);

/* Defaults for *o. */
void detect_opts_default(struct detect_opts *o);

/* New detector; free with detect_free(). NULL on error with *err set. */
struct detect *detect_new(const struct detect_opts *o, struct emo_err *err);
void detect_free(struct detect *d);

/* Replace the regions and cell_threshold of detect_opts (a new frame size
 * moves seats given as fractions; the model, its contexts and the buffers
 * sized for the largest frame stay). regions is owned by the caller and
 * must outlive the detector. EMO_EINVAL on bad arguments (d unchanged). */
int detect_set_regions(struct detect *d, const struct emo_box *regions, int n_regions,
		       float cell_threshold);

/* Find faces in img; writes at most max faces to out (sorted by score),
 * returns their count (>= 0) or a negative EMO_* code. Allocates nothing
 * per call once it has seen the largest frame. */
int detect_run(struct detect *d, const struct emo_image *img, struct emo_face *out, int max);

/* Name of the kernel path in use ("scalar", "avx2", "avx512-vnni"), or
 * "regions" for the stand-in. */
const char *detect_kernel_path(const struct detect *d);

/* Samples per axis and pixel of the verifier's crop (face_align_ss): the
 * training data (`emotop-train detect verifier-data`) is cut the same way. */
#define DETECT_VERIFY_SS 2

/* 1 when the detector runs a second-stage verifier (detect_opts.verify_path). */
int detect_has_verifier(const struct detect *d);

/* Multiply-accumulates of one detect_run() on a w x h frame, all pyramid
 * levels together (0 for the stand-in). */
double detect_macs(const struct detect *d, int w, int h);

/* Non-maximum suppression in place: sorts f[0..n) by score (descending)
 * and drops every face overlapping a better one by IoU > iou. Returns the
 * number kept. */
int detect_nms(struct emo_face *f, int n, float iou);

/* Nested-box suppression, after NMS (f sorted by score, as detect_nms
 * leaves it): drops, in place, every face whose box lies for more than 70 %
 * of its area inside a larger box scored higher (a part of that face). With
 * loose, also every larger box that holds a smaller face scored higher that
 * way (a loose box around that face). Returns the number kept. */
int detect_drop_parts(struct emo_face *f, int n, int loose);

#endif
