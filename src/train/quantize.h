/* quantize.h - float network -> int8 qnn model. */
#ifndef EMOTOP_TRAIN_QUANTIZE_H
#define EMOTOP_TRAIN_QUANTIZE_H

#include "emotop/qnn.h"
#include "train/data.h"
#include "train/fnn.h"

/* Quantize net: conv[+BN][+ReLU] groups become int8 conv layers (BN folded,
 * per-output-channel symmetric weights, int32 bias; a depthwise conv, w,
 * becomes one with groups = cin = cout), maxpool/GAP keep their
 * input's scale, dropout disappears, and a final conv without ReLU writes
 * float logits. Activation ranges come from the first n_cal faces of cal
 * (pixels / 255, as in training), clipped at percentile pct of each
 * layer's positive activations (100 = max). meta is copied into the model.
 * On success *out is a new model (free with qnn_model_free) and 0 is
 * returned; -1 on failure. */
int quantize_fnn(struct fnn *net, const struct fer_set *cal, int n_cal, double pct,
		 const char *meta, struct qnn_model **out);

/* What `eval` reports of a classifier on a set. */
struct eval_res {
	int conf[7][7];  /* [true][predicted] */
	double acc;      /* accuracy */
	double ece;      /* expected calibration error (15 bins of the top probability) */
	double nll;      /* mean negative log-likelihood */
};

/* Int8 accuracy and calibration of an ensemble of n models on set (each
 * model's softmax of its logits / temperature, averaged, as emotop does),
 * with optional flip TTA. 0, or -1 with a message. */
int train_eval_int8(struct qnn_model *const *ms, int n, const struct fer_set *set, int tta,
		    struct eval_res *r);

#endif
