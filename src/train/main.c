/* main.c - emotop-train: trains, evaluates and quantizes emotop's networks.
 *
 *   emotop-train fer --data DIR|CSV [--epochs N] [--resume] ...
 *   emotop-train quantize --ckpt FILE --data DIR|CSV --out models/emo7.qnn
 *   emotop-train eval --data DIR|CSV [--model FILE] [--ckpt FILE] [--json] [--tta]
 */
#include <stdio.h>
#include <string.h>

#include "train/detect_train.h"
#include "train/train.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: emotop-train COMMAND [options]\n"
		"commands:\n"
		"  fer        train the emotion classifier on FER2013 (float32, checkpoints)\n"
		"  quantize   calibrate and write the int8 model file from a checkpoint\n"
		"  eval       accuracy, per-class accuracy, confusion and calibration of a model\n"
		"  robust     the classifier on faces degraded as cameras and framing degrade them\n"
		"  detect     train, quantize, calibrate and evaluate the face detector\n"
		"  grow       widen a checkpoint's layers, keeping what it computes\n"
		"  average    average checkpoints of one run (SWA), batch norm re-measured\n"
		"run 'emotop-train COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("emotop-train %s\n", EMOTOP_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "fer"))
		return train_cmd_fer(argc - 1, argv + 1);
	if (!strcmp(argv[1], "quantize"))
		return train_cmd_quantize(argc - 1, argv + 1);
	if (!strcmp(argv[1], "eval"))
		return train_cmd_eval(argc - 1, argv + 1);
	if (!strcmp(argv[1], "robust"))
		return train_cmd_robust(argc - 1, argv + 1);
	if (!strcmp(argv[1], "average"))
		return train_cmd_average(argc - 1, argv + 1);
	if (!strcmp(argv[1], "grow"))
		return train_cmd_grow(argc - 1, argv + 1);
	if (!strcmp(argv[1], "detect"))
		return train_cmd_detect(argc - 1, argv + 1);
	fprintf(stderr, "emotop-train: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
