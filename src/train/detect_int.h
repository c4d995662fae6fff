/* detect_int.h - what the files of emotop-train detect share, and nothing
 * else uses: the training data's structures, the options, the random
 * draws, and the functions one stage calls in another. Tests and benches
 * use detect_train.h.
 *
 *   detect_data.c    WebFaces, WIDER, landmark crops, FER2013, negatives
 *   detect_sample.c  synthetic training samples and their augmentation
 *   detect_train.c   targets, loss, the training loop (train, debug)
 *   detect_calib.c   int8 conversion, calibration, checkpoint averaging
 *   detect_eval.c    held-out evaluation through the runtime detector
 *   detect_check.c   FER2013 faces pasted into frames: fer-framing,
 *                    align-check, verifier-data
 *   detect_cmd.c     options, usage and the subcommand dispatcher
 */
#ifndef EMOTOP_TRAIN_DETECT_INT_H
#define EMOTOP_TRAIN_DETECT_INT_H

#include <stdint.h>
#include <stdio.h>

#include "emotop/image.h"
#include "train/data.h"
#include "train/detect_train.h"

#define DT_IN 96                  /* training crop side */
#define DT_G (DT_IN / DT_STRIDE)  /* head grid side */
#define DT_POS_MIN 13.0f          /* smaller faces: ignored */
#define DT_POS_MAX 72.0f          /* larger faces: ignored */
#define DT_MAXF 64                /* faces per training crop */
/* verifier-data defaults: synthetic galleries, frames with a pasted face */
#define DT_V_NGAL 400
#define DT_V_NPASTE 0
/* train: photo crops, composites, galleries, negatives (--mix) */
#define DT_MIX_DEFAULT 0.5,0.18,0.12,0.2
/* train: share of photo samples drawn from WIDER's crowd photos (--wider) */
#define DT_WIDER_DEFAULT 0.4
/* share of FER2013-style tiles cut from the sharp landmark crops (dt_crop_tiles) */
#define DT_SHARP_DEFAULT 0.3
/* share of the tiles of composites and galleries that are decoys, blurred
 * squares of negatives with no face (dt_decoy_tile) */
#define DT_DECOY_SHARE 0.15f

/* FER2013 framing used for pasted FER faces until measured otherwise: the
 * face box (brows to chin) of a 48x48 FER face, centre and side in px. */
#define DT_FER_CX 24.0f
#define DT_FER_CY 23.7f
#define DT_FER_W 42.9f
#define DT_FER_H 55.0f

/* ------------------------------------------------------------------ data */

struct dt_face {
	float cx, cy, w, h; /* box centre and size, WIDER convention */
	float side;         /* its geometric mean sqrt(w h): the face's scale */
	float lm[5][2];  /* left eye, right eye, nose, mouth left, mouth right */
	int lm_kind;     /* 0 none, 1 all five, 2 eyes + nose + mouth centre (in lm[3] = lm[4]) */
	int ignore;      /* an unannotated face (mined): neither positive nor negative */
};

struct dt_photo {
	char *path;
	int first, n;    /* faces[first .. first + n) */
	int ign_first, ign_n; /* ign[ign_first .. + ign_n): mined unannotated faces */
};

/* A decoded image kept in memory (px NULL: not cached or unreadable). */
struct dt_pix {
	uint8_t *px;
	int w, h;
};

struct dt_crop {
	uint8_t px[80 * 80];
	struct dt_face f;
};

struct dt_data {
	struct dt_photo *photo;
	/* photos: WebFaces [0, n_train_photo) train, [n_train_photo, n_web)
	 * held out; then WIDER [n_web, n_web + n_train_wider) train, the rest
	 * [.., n_photo) held out */
	int n_photo, n_train_photo, n_web, n_train_wider;
	float wider_share;    /* share of photo samples drawn from WIDER */
	struct dt_face *faces;
	int n_faces;
	struct dt_face *ign;  /* see dt_mine_ignore */
	int n_ign;
	char **neg;
	int n_neg, n_train_neg;
	struct dt_crop *crops;
	int n_crops;
	uint8_t *crop_fer;    /* n_crops 48x48 tiles: the crops in FER2013's framing */
	float sharp;          /* share of FER2013-style tiles drawn from crop_fer */
	struct fer_set fer;
	struct dt_pix *photo_px, *neg_px; /* decoded once (dt_preload) */
};

/* The random draws of every sample: the trainer's splitmix64
 * (train_rand_next, data.h) on a caller's state. */
static inline float dt_unit(uint64_t *s)
{
	return (float)((train_rand_next(s) >> 40) * (1.0 / 16777216.0));
}

static inline float dt_range(uint64_t *s, float a, float b)
{
	return a + (b - a) * dt_unit(s);
}

static inline int dt_int(uint64_t *s, int n)
{
	return n > 0 ? (int)(train_rand_next(s) % (uint64_t)n) : 0;
}

/* detect_data.c */

/* Load the face data of root (webfaces/, wider/, crops/, crops.csv,
 * negatives/) and, when fer is not NULL, FER2013 faces into *d (free with
 * dt_free; nothing decoded yet: dt_preload). 0, or -1 with a message and
 * *d empty. */
int dt_load(struct dt_data *d, const char *root, const char *fer);
/* Decode every photo and negative of d into d->photo_px, d->neg_px (freed
 * by dt_free). 0, or -1 with a message. */
int dt_preload(struct dt_data *d);
/* Ignore regions on WebFaces photos from a detector's unmatched detections
 * (model, threshold thr) into d->ign. 0, or -1 with a message. */
int dt_mine_ignore(struct dt_data *d, const char *model, float thr);
/* Free everything d holds and empty it. */
void dt_free(struct dt_data *d);
/* The box of a face, in the pixels its centre is given in. */
struct emo_box dt_face_box(const struct dt_face *f);
/* Set f's w and h and its side sqrt(w h). */
void dt_face_size(struct dt_face *f, float w, float h);

/* ------------------------------------------------------------- options */

struct dt_args {
	const char *faces, *fer, *ckpt, *arch, *out, *model, *emo, *ignore_model, *verifier;
	const char *init;  /* train: start from this square-box (h14) checkpoint */
	float wider;       /* train: share of photo samples from WIDER (< 0: default) */
	int epochs, batch, steps, resume, restart, seed, threads, limit, galleries, pasted;
	int seed_set;      /* --seed given */
	int reset_opt;     /* --reset-optimizer: resume with a new optimizer state */
	int min_face;      /* eval: the detector's minimum face (0: 20) */
	float lr, wd, budget, ignore_thr, thr, keep0;
	float mix[4];      /* train: share of photos, composites, galleries, negatives */
	float sharp;       /* train, verifier-data: share of sharp FER-style tiles */
	int has_sharp;     /* --sharp given (else DT_SHARP_DEFAULT) */
	float gallery_blur; /* eval: Gaussian sigma for the galleries' FER2013 faces */
};

/* detect_cmd.c */

/* The usage of every subcommand, to f. */
void dt_usage(FILE *f);
/* Parse argv into *a (its defaults set by the caller). 0; 1 after --help
 * (callers exit 0); 2 on a bad option (usage or message on stderr). */
int dt_parse(int argc, char **argv, struct dt_args *a);

/* ------------------------------------------------------------- samples */

/* One sample: an augmented DT_IN x DT_IN crop (floats 0..1) and its faces. */
struct dt_sample {
	float x[DT_IN * DT_IN];
	struct dt_face f[DT_MAXF];
	int nf;
	int kind;          /* 0 photo, 1 composite, 2 gallery, 3 negative */
	uint64_t seed;     /* what made it (for hard-negative replay) */
};

/* detect_sample.c */

/* Draw sample s from seed; kind < 0 picks one by mix (NULL: the default
 * shares). Photos from [p_lo, p_lo+p_n), negatives from [n_lo, n_lo+n_n). */
void dt_sample_make(const struct dt_data *d, struct dt_sample *s, uint64_t seed, int kind,
		    int p_lo, int p_n, int n_lo, int n_n, const float mix[4]);
/* d's share of sharp tiles and of WIDER photos from a's options, and the
 * sharp tiles (owned by d). 0, or -1 with a message. */
int dt_sharp_setup(struct dt_data *d, const struct dt_args *a);
/* A FER2013 face of fer (not a blank one), drawn from r; points into fer. */
const uint8_t *dt_fer_pick(const struct fer_set *fer, uint64_t *r);
/* A FER2013-style 48x48 tile drawn from r; points into d. */
const uint8_t *dt_tile_pick(const struct dt_data *d, uint64_t *r);
/* A 48x48 decoy tile into out: a blurred square of a negative, no face. */
void dt_decoy_tile(const struct dt_data *d, int neg_lo, int neg_n, uint64_t *r, float sigma,
		   uint8_t out[FER_SIZE * FER_SIZE]);
/* The blur sigma of a training decoy, drawn from r. */
float dt_decoy_sigma(uint64_t *r);

/* ---------------------------------------------------------- train state */

/* The extra block of a detector checkpoint (fnn_save's extra). */
struct dt_state {
	uint32_t version;
	int32_t epoch;
	int64_t step;
	uint64_t seed;
	float best;
	int32_t best_epoch;
	int32_t sched_from; /* epoch the learning-rate schedule started at */
	int64_t opt_from;   /* step the optimizer state started at (version 3;
			     * --reset-optimizer): Adam counts steps from it */
};

/* detect_eval.c */

/* qsort comparator: floats, highest first. */
int dt_cmp_float_desc(const void *a, const void *b);

/* The subcommands (argv[0] is the subcommand's name); each returns the
 * exit status. */
int dt_train(int argc, char **argv);          /* detect_train.c */
int dt_debug(int argc, char **argv);          /* detect_train.c */
int dt_samples(int argc, char **argv);        /* detect_sample.c */
int dt_quantize(int argc, char **argv);       /* detect_calib.c */
int dt_calibrate(int argc, char **argv);      /* detect_calib.c */
int dt_average(int argc, char **argv);        /* detect_calib.c */
int dt_eval_cmd(int argc, char **argv);       /* detect_eval.c */
int dt_fer_framing(int argc, char **argv);    /* detect_check.c */
int dt_align_check(int argc, char **argv);    /* detect_check.c */
int dt_verifier_data(int argc, char **argv);  /* detect_check.c */

#endif
