/* classify.h - the emotion stage: a face in a frame in, 7 probabilities out.
 *
 * The face is aligned (eyes level when landmarks are known), cropped to the
 * framing of FER2013 faces, resized to the model's input and run through the
 * int8 network (qnn.h).
 */
#ifndef EMOTOP_CLASSIFY_H
#define EMOTOP_CLASSIFY_H

#include "emotop/detect.h"
#include "emotop/emotion.h"
#include "emotop/err.h"
#include "emotop/image.h"
#include "emotop/qnn.h"

/* Most networks in one ensemble. */
#define CLASSIFY_MAX_NETS 4

struct classify_opts {
	/* NULL: the embedded model(s). Otherwise a model file, or an ensemble
	 * of up to CLASSIFY_MAX_NETS files separated by commas, whose
	 * probabilities are averaged (they must prepare their input alike);
	 * in a name, "\\," is a comma and "\\\\" a backslash.
	 * Borrowed: read during classify_new() only. */
	const char *model_path;
	int flip_tta;           /* also run the mirrored face, average */
	int scale_tta;          /* classify_face(): also frame the face 15 % tighter
				 * and 15 % looser, average (default off) */
	enum qnn_path path;     /* QNN_PATH_AUTO normally */
};

void classify_opts_default(struct classify_opts *o);

struct qnn_model;
/* A classifier model's calibration, from its metadata: the softmax is taken
 * of z / T + b, z the logits, T the temperature (temperature=T, 1 when
 * absent, 0.05..20) and b a bias per class (logit_bias=b0,...,b6, 0 when
 * absent, each within +-3), both fitted by `emotop-train quantize` on the
 * validation split: T so that the probabilities are calibrated, b so that
 * no class is predicted far more or less often than it occurs. EMO_OK, or
 * EMO_EFORMAT with *err set (name: the model) for a bad value (t and bias
 * are then 1 and 0). */
int classify_calibration(const struct qnn_model *m, const char *name, float *t,
			 float bias[EMO_NUM_CLASSES], struct emo_err *err);

/* New classifier; free with classify_free(). NULL on error, *err set
 * (e.g. no model file and none embedded). */
struct classify *classify_new(const struct classify_opts *o, struct emo_err *err);
void classify_free(struct classify *c);
/* Networks in the ensemble (1 for a single model). */
int classify_n_nets(const struct classify *c);

/* Classify an already aligned model-sized crop (48x48 gray8 for FER2013
 * models): probs[EMO_NUM_CLASSES] sum to 1. Returns EMO_OK or EMO_EINVAL. */
int classify_crop(struct classify *c, const struct emo_image *crop, float probs[EMO_NUM_CLASSES]);

/* Align, crop and classify one face of a frame (with scale_tta: three
 * framings, their probabilities averaged). */
int classify_face(struct classify *c, const struct emo_image *frame, const struct emo_face *face,
		  float probs[EMO_NUM_CLASSES]);

/* The aligned crop classify_face() would use (crop allocated by caller at the
 * model's input size), for tests and --annotate. */
int classify_align(const struct classify *c, const struct emo_image *frame,
		   const struct emo_face *face, struct emo_image *crop);

#endif
