/* facenorm.h - contrast normalisation of a face crop, applied identically
 * by the trainer (to every FER2013 face) and by the classifier (to every
 * aligned crop), so that the network sees faces of one brightness and
 * contrast whatever the camera, the lighting or the data set's own
 * processing (FER2013's test faces have a pixel standard deviation of 65,
 * its training faces 52). */
#ifndef EMOTOP_FACENORM_H
#define EMOTOP_FACENORM_H

#include <stdint.h>

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

#endif
