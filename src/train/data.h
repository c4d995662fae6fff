/* data.h - FER2013 loading (image folders or Kaggle CSV) and augmentation
 * for emotop-train. Images are kept as 48x48 uint8. */
#ifndef EMOTOP_TRAIN_DATA_H
#define EMOTOP_TRAIN_DATA_H

#include <stdint.h>

#define FER_SIZE 48

struct fer_set {
	int n;
	uint8_t *px;   /* n * 48 * 48 */
	int *label;    /* n, 0..6 */
	int count[7];
};

/* Load a FER2013 set. path is either a folder with <emotion>/ *.jpg
 * subfolders (angry, disgust, fear, happy, sad, surprise, neutral), or
 * Kaggle's fer2013.csv, in which case usage selects the rows ("Training",
 * "PublicTest", "PrivateTest"; NULL = all). Faces are as stored; see
 * fer_preprocess(). Returns 0 or -1 with a message
 * on stderr. Free with fer_free(). */
int fer_load(const char *path, const char *usage, struct fer_set *out);
void fer_free(struct fer_set *s);

/* The classifier's input preprocessing, on every face of s: Gaussian blur
 * of the given sigma (0: none) then contrast normalisation (facenorm.h). */
void fer_preprocess(struct fer_set *s, float blur);

/* Gaussian blur of a w x h gray8 image in place (border replicated), with
 * integer weights so every machine gives the same bytes. tmp holds w*h
 * bytes. sigma <= 0 or > 8 leaves the image as it is. The trainer's
 * augmentation (a webcam's soft focus) and the detector's decoys; emotop
 * itself classifies faces unblurred. */
void facenorm_blur(uint8_t *px, int w, int h, float sigma, uint8_t *tmp);

/* Decode a gray JPEG file into a malloc'ed buffer; returns 0, or -1 when
 * the file cannot be opened or is not a complete, valid JPEG (libjpeg's
 * warnings, e.g. a truncated file it would pad, count as failure). */
int jpeg_load_gray(const char *path, uint8_t **px, int *w, int *h);
/* The size of a JPEG file from its header (nothing decoded); 0 or -1. */
int jpeg_size(const char *path, int *w, int *h);

/* Compress the w x h gray image px (dense rows) to JPEG at quality 1..100
 * in memory and decode it back into px: the blocking and ringing of a
 * real camera or stream. Returns 0, or -1 (px then unspecified). */
int jpeg_roundtrip_gray(uint8_t *px, int w, int h, int quality);

struct augment {
	float rot_deg;     /* max rotation, degrees */
	float scale;       /* max relative scale change */
	float shift;       /* max shift, fraction of the side */
	int flip;          /* horizontal flip with p = 0.5 */
	float brightness;  /* max additive change, fraction of 255 */
	float contrast;    /* max relative contrast change */
	float erase;       /* probability of random erasing */
	float blur;        /* half the faces get a Gaussian blur of sigma
			    * uniform in (0, blur] px before the rest (0: off) */
	/* a camera's and a stream's faults, each drawn only when on (the other
	 * draws stay as they were): */
	int jpeg;          /* a third of the faces JPEG-compressed at a quality
			    * uniform in [jpeg, 95] first (0: off) */
	float noise;       /* half the faces get Gaussian noise of sd uniform in
			    * (0, noise] (fraction of full scale) last (0: off) */
	float lowlight;    /* probability of a dark frame stretched by emotop's
			    * contrast normalisation: 12 to 48 grey levels left,
			    * with noise of sd 1.5 to 4 levels (0: off) */
	float sidelight;   /* probability of light from one side: the face times
			    * a linear ramp across it in a random direction,
			    * from 1 - k to 1 + k (k up to 0.6), then brought
			    * back to facenorm's mean and spread, as emotop's
			    * normalisation does; last (0: off) */
};

/* The trainer's random numbers: the next 64 bits of the splitmix64 sequence
 * whose state is *s (reproducible from a seed). */
uint64_t train_rand_next(uint64_t *s);

/* A Beta(a, a) draw in [0, 1] (a > 0), from the same sequence. */
float train_rand_beta(uint64_t *s, float a);

/* Write one augmented sample (float, pixels/255) from src into dst (48*48).
 * seed makes it reproducible. aug NULL = plain copy. Order: JPEG, blur,
 * geometry and photometry, erasing, low light, noise. */
void fer_augment(const uint8_t *src, float *dst, const struct augment *aug, uint64_t seed);

#endif
