/* facenorm.h - contrast normalisation of a face crop, applied identically
 * by the trainer (to every FER2013 face) and by the classifier (to every
 * aligned crop), so that the network sees faces of one brightness and
 * contrast whatever the camera, the lighting or the data set's own
 * processing (FER2013's test faces have a pixel standard deviation of 65,
 * its training faces 52). */
#ifndef EMOTOP_FACENORM_H
#define EMOTOP_FACENORM_H

#include <stdint.h>

#include "emotop/err.h"
#include "emotop/qnn.h"

#define FACENORM_MEAN 128.0f
#define FACENORM_STD 64.0f
#define FACENORM_MIN_STD 4.0f /* flat crops are not stretched beyond this */

/* In place on n pixels: out = clamp(round(128 + (x - mean) * 64 / max(std, 4)), 0, 255).
 * Deterministic (the same bytes on every machine). */
void facenorm_apply(uint8_t *px, int n);

/* A model's input preparation, from its metadata: input_norm=facenorm
 * (*norm 1). Models of emotop before 0.2 could ask for a blurred input
 * (input_blur=SIGMA, when FER2013's training split at hand was blurred):
 * input_blur=0 is accepted, any other value refused. EMO_OK, or
 * EMO_EFORMAT with *err naming the bad value (name: the model, for the
 * message). */
int facenorm_from_meta(const struct qnn_model *m, const char *name, int *norm, struct emo_err *err);

#endif
