/* average.c - `emotop-train average`: stochastic weight averaging (Izmailov
 * et al. 2018) of checkpoints of one classifier run, e.g. the epochs kept by
 * `fer --keep` along the tail of its schedule. The weights are averaged;
 * batch-norm statistics of an average are not the average of statistics,
 * so they are measured again on the training split (forward passes in
 * training mode, no augmentation, no weight update). */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/train.h"

#define AVG_MAX 64
#define AVG_EXTRA_MAX 65536
#define AVG_MIN_FACES 16 /* the smallest split batch norm is measured on */

static void avg_usage(FILE *f)
{
	fprintf(f,
		"usage: emotop-train average --ckpt FILE --ckpt FILE ... --data DIR|CSV --out FILE\n"
		"  --ckpt FILE     a checkpoint (at least two, one architecture, up to %d)\n"
		"  --data P        FER2013 (its training split re-measures batch norm)\n"
		"  --out FILE      the averaged checkpoint (quantize and eval read it)\n",
		AVG_MAX);
}

int train_cmd_average(int argc, char **argv)
{
	static const struct option lo[] = {{"ckpt", 1, 0, 'k'}, {"data", 1, 0, 'd'},
					   {"out", 1, 0, 'o'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
	const char *ckpt[AVG_MAX], *data = NULL, *out = NULL;
	char arch[512];
	void *extra = NULL;
	uint32_t extra_len = 0;
	int n = 0, rc = 1, o;
	struct fnn *avg = NULL, *one = NULL;
	struct fer_set train = {0};
	float *x = NULL;
	int *order = NULL, nb = 0, measured = 0;
	const int B = 128, N = FER_SIZE * FER_SIZE;

	optind = 1;
	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (o) {
		case 'k':
			if (n == AVG_MAX) {
				fprintf(stderr, "emotop-train: at most %d checkpoints\n", AVG_MAX);
				return 2;
			}
			ckpt[n++] = optarg;
			break;
		case 'd': data = optarg; break;
		case 'o': out = optarg; break;
		case 'h': avg_usage(stdout); return 0;
		default: avg_usage(stderr); return 2;
		}
	}
	if (n < 2 || !data || !out || optind != argc) {
		avg_usage(stderr);
		return 2;
	}
	if (fnn_load_arch(ckpt[0], arch, sizeof(arch)))
		return 1;
	extra = malloc(AVG_EXTRA_MAX);
	avg = fnn_new(arch, (struct fnn_shape){FER_SIZE, FER_SIZE, 1}, 1);
	one = fnn_new(arch, (struct fnn_shape){FER_SIZE, FER_SIZE, 1}, 1);
	x = malloc(sizeof(float) * (size_t)B * N);
	if (!extra || !avg || !one || !x || fnn_reserve(avg, B)) {
		fprintf(stderr, "emotop-train: out of memory or a bad architecture in %s\n", ckpt[0]);
		goto out;
	}
	if (fnn_load_extra(ckpt[0], extra, AVG_EXTRA_MAX, &extra_len))
		goto out;
	if (fnn_average(avg, one, ckpt, n))
		goto out;
	if (train_load_split(data, "Training", 0, &train))
		goto out;
	/* batch norm: fresh statistics, the mean over batches of the batch
	 * statistics of training-mode passes over the whole split (dropout as
	 * trained), every face in one batch of nearly equal ones, in a fixed
	 * shuffled order (the split is sorted by class, and a batch of one class
	 * has other statistics) */
	if (train.n < AVG_MIN_FACES) {
		fprintf(stderr, "emotop-train: %s: %d training faces, too few to measure batch norm (at least %d)\n",
			data, train.n, AVG_MIN_FACES);
		goto out;
	}
	if (!(order = malloc(sizeof(int) * (size_t)train.n))) {
		fprintf(stderr, "emotop-train: out of memory\n");
		goto out;
	}
	train_shuffle(order, train.n, 12345);
	nb = (train.n + B - 1) / B;
	for (int k = 0; k < nb; k++) {
		int first = (int)((long)k * train.n / nb), end = (int)((long)(k + 1) * train.n / nb);
		for (int b = 0; b < end - first; b++)
			for (int j = 0; j < N; j++)
				x[(size_t)b * N + j] = train.px[(size_t)order[first + b] * N + j] / 255.0f;
		/* cumulative: batch k weighs 1/(k+1), so all weigh the same */
		avg->bn_momentum = 1.0f / (float)(k + 1);
		fnn_forward(avg, x, end - first, 1);
		measured += end - first;
	}
	avg->bn_momentum = 0;
	if (fnn_save(avg, out, extra, extra_len, 0))
		goto out;
	printf("averaged %d checkpoints of %s into %s (batch norm re-measured on %d faces in %d batches)\n",
	       n, arch, out, measured, nb);
	rc = 0;
out:
	fer_free(&train);
	fnn_free(avg);
	fnn_free(one);
	free(extra);
	free(x);
	free(order);
	return rc;
}
