/* detect_train.h - emotop-train detect: the face detector's training data,
 * targets, loss, training loop, int8 conversion and evaluation. */
#ifndef EMOTOP_TRAIN_DETECT_TRAIN_H
#define EMOTOP_TRAIN_DETECT_TRAIN_H

#include <stdint.h>

#include "emotop/qnn.h"
#include "train/fnn.h"

/* The network: a sequential stride-8 backbone ending in a 1x1 head with
 * DT_NCH maps per cell (see detect.c for the decoding):
 *   0      centre heat logit (sigmoid)
 *   1, 2   centre offset dx, dy in cells from the cell centre
 *   3      log(side / DT_SIZE_BASE), side of the square face box in px
 *   4..13  five landmarks (x, y) relative to the centre, in units of side */
#define DT_ARCH "c16/s2,p,c32/s2,c32,c32,c32,c32,h14"
#define DT_STRIDE 8
#define DT_NCH 14
#define DT_SIZE_BASE 32.0f
/* Face sides (px at one pyramid level) the head is trained for. */
#define DT_LEVEL_MIN 16.0f
#define DT_LEVEL_MAX 56.0f

/* emotop-train detect train|quantize|eval ... */
int train_cmd_detect(int argc, char **argv);

/* Convert a float detector (BN folded, per-channel int8 weights,
 * activation ranges calibrated on calib[n][h*w] floats in 0..1 of size
 * h x w) into a new qnn model (free with qnn_model_free). meta is appended
 * to the model's metadata. Returns NULL with a message on stderr. Works for
 * any fnn made of c/k/p/h layers. */
struct qnn_model *dt_to_qnn(struct fnn *net, const float *calib, int n, const char *meta);

#endif
