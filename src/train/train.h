/* train.h - emotop-train's commands and shared helpers. */
#ifndef EMOTOP_TRAIN_TRAIN_H
#define EMOTOP_TRAIN_TRAIN_H

#include <stdint.h>
#include <stdio.h>

#include "train/data.h"
#include "train/fnn.h"

/* The blur of the validation faces in `fer` (--input-blur): none. emotop
 * classifies faces as they are; an earlier copy of FER2013's training split
 * was blurred, and the classifier then blurred what it saw to match. */
#define TRAIN_INPUT_BLUR 0.0f
/* Most models (or checkpoints) `eval` averages into one ensemble. */
#define TRAIN_MAX_ENSEMBLE 8

/* Load one split of FER2013 (path: a root with train/ and test/, a split
 * folder, or fer2013.csv; usage "Training", "PublicTest", "PrivateTest")
 * and preprocess it as the classifier does (blur sigma, 0 none, then
 * contrast normalisation; blur < 0: raw pixels, no preprocessing). 0 or -1. */
int train_load_split(const char *path, const char *usage, float blur, struct fer_set *out);

/* Accuracy and confusion [true][pred] of a float network on a set, with
 * optional horizontal-flip test-time augmentation. */
void train_eval_float_ens(struct fnn *const *nets, int n_nets, const struct fer_set *set, int tta,
			  int conf[7][7], double *acc);
void train_eval_float(struct fnn *net, const struct fer_set *set, int tta, int conf[7][7],
		      double *acc);

/* order[] = a permutation of 0..n-1 drawn from seed (Fisher-Yates, LCG). */
void train_shuffle(int *order, int n, uint64_t seed);

/* Monotonic seconds. */
double train_now(void);
/* Room for element n in the array *arr points to (arr: the address of a
 * T * with capacity *cap elements of elem bytes): when n == *cap, the
 * capacity doubles (first when 0). 0, or -1 with the array and *cap as
 * they were (out of memory). */
int train_grow(void *arr, int *cap, int n, size_t elem, int first);
/* The number arg from lo to hi into *v, 0; or -1 with a message on stderr
 * naming the option and what it wants (what: e.g. "a sigma in px"). */
int train_parse_range(const char *opt, const char *what, const char *arg, float lo, float hi, float *v);
/* The same for a whole number (decimal, nothing after it) from lo to hi. */
int train_parse_int(const char *opt, const char *what, const char *arg, long lo, long hi, long *v);
/* --resume: the seed draws every sample, so a resumed run keeps the one
 * stored in ckpt; a different --seed given (seed_set) is refused with a
 * message. Returns 0, or -1. */
int train_resume_seed(const char *ckpt, uint64_t stored, int seed_set, int seed);
/* Create the folder path's file goes in, and its parents, where they do not
 * exist (mkdir -p). 0, or -1 with a message naming the one that fails. */
int train_mkdir_parent(const char *path);
/* printf to stderr and, when log is non-NULL, to log (flushed). */
void train_log(FILE *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* p[0..nc) += w * softmax(z / t + b) over nc <= 7 logits (b NULL: no
 * bias). */
void train_add_softmax(const float *z, int nc, float t, const float *b, float w, float *p);
/* A classifier's float checkpoint (its architecture read from the file,
 * output o7 or o2) into a new *out the caller frees with fnn_free; 0, or
 * -1 with a message on stderr. */
int train_load_classifier(const char *path, struct fnn **out);

int train_cmd_fer(int argc, char **argv);
int train_cmd_quantize(int argc, char **argv);
int train_cmd_eval(int argc, char **argv);
int train_cmd_grow(int argc, char **argv);
int train_cmd_average(int argc, char **argv);
int train_cmd_robust(int argc, char **argv);

#endif
