/* quantize.h - float network -> int8 qnn model. */
#ifndef EMOTOP_TRAIN_QUANTIZE_H
#define EMOTOP_TRAIN_QUANTIZE_H

#include "emotop/qnn.h"
#include "train/data.h"
#include "train/fnn.h"

/* Quantize net: conv[+BN][+ReLU] groups become int8 conv layers (BN folded,
 * per-output-channel symmetric weights, int32 bias), maxpool/GAP keep their
 * input's scale, dropout disappears, and a final conv without ReLU writes
 * float logits. Activation ranges come from the first n_cal faces of cal
 * (pixels / 255, as in training), clipped at percentile pct of each
 * layer's positive activations (100 = max). meta is copied into the model.
 * On success *out is a new model (free with qnn_model_free) and 0 is
 * returned; -1 on failure. */
int quantize_fnn(struct fnn *net, const struct fer_set *cal, int n_cal, double pct,
		 const char *meta, struct qnn_model **out);

#endif
