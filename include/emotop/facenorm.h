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

/* Gaussian blur of a w x h gray8 image in place (border replicated), with
 * integer weights so every machine gives the same bytes. tmp holds w*h
 * bytes. sigma <= 0 or > 8 leaves the image as it is. The FER2013 training
 * faces at hand are blurred (median absolute Laplacian 3.5 against 34 for
 * the test faces), so the classifier blurs what it sees the same way
 * (model metadata input_blur=SIGMA). */
void facenorm_blur(uint8_t *px, int w, int h, float sigma, uint8_t *tmp);

/* In place on n pixels: out = clamp(round(128 + (x - mean) * 64 / max(std, 4)), 0, 255).
 * Deterministic (the same bytes on every machine). */
void facenorm_apply(uint8_t *px, int n);

/* A model's input preparation, from its metadata: input_norm=facenorm
 * (*norm 1) and input_blur=SIGMA (0..8; *blur, 0 when absent). EMO_OK, or
 * EMO_EFORMAT with *err naming the bad value (name: the model, for the
 * message). */
int facenorm_from_meta(const struct qnn_model *m, const char *name, int *norm, float *blur,
		       struct emo_err *err);

/* Prepare a w x h crop in place as the trainer prepared its faces: the
 * blur, then (norm) the contrast normalisation. tmp holds w*h bytes. */
void facenorm_prepare(uint8_t *px, int w, int h, float blur, int norm, uint8_t *tmp);

#endif
