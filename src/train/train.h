/* train.h - emotop-train's commands and shared helpers. */
#ifndef EMOTOP_TRAIN_TRAIN_H
#define EMOTOP_TRAIN_TRAIN_H

#include "train/data.h"
#include "train/fnn.h"

/* Load one split of FER2013: path is a root with train/ and test/, a split
 * folder, or fer2013.csv (usage "Training" or "PublicTest"). 0 or -1. */
int train_load_split(const char *path, const char *usage, struct fer_set *out);

/* Accuracy and confusion [true][pred] of a float network on a set, with
 * optional horizontal-flip test-time augmentation. */
void train_eval_float(struct fnn *net, const struct fer_set *set, int tta, int conf[7][7],
		      double *acc);

int train_cmd_fer(int argc, char **argv);
int train_cmd_quantize(int argc, char **argv);
int train_cmd_eval(int argc, char **argv);

#endif
