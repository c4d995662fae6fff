/* grow.c - `emotop-train grow`: widen a trained network's layers and keep
 * what it computes (fnn_grow), so that training resumes with more capacity
 * instead of starting over. Works on classifier and detector checkpoints;
 * the training state (epoch, seed, schedule) and optimizer moments carry
 * over, so `--resume` with the new arch continues where the old run was. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/train.h"

#define GROW_EXTRA_MAX 65536

static void grow_usage(FILE *f)
{
	fprintf(f,
		"usage: emotop-train grow --ckpt IN --arch SPEC --out OUT [options]\n"
		"  --ckpt FILE     trained checkpoint (classifier or detector)\n"
		"  --arch SPEC     the checkpoint's arch with some conv/fc widths raised\n"
		"  --out FILE      widened checkpoint (resume it with --arch SPEC --resume)\n"
		"  --input N       input side (default 96 for a detector head hN, else 48)\n"
		"  --seed N        which channels are copied (default 1)\n"
		"  --noise X       relative noise on the copies' weights (default 0.01)\n");
}

int train_cmd_grow(int argc, char **argv)
{
	static const struct option lo[] = {
		{"ckpt", 1, 0, 'k'}, {"arch", 1, 0, 'a'}, {"out", 1, 0, 'o'}, {"input", 1, 0, 'i'},
		{"seed", 1, 0, 's'}, {"noise", 1, 0, 'n'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
	const char *ckpt = NULL, *arch = NULL, *out = NULL;
	char old_arch[512], *extra = NULL, *last;
	uint32_t extra_len = 0;
	int input = 0, had_opt = 0, rc = 1, o;
	long seed = 1, lv;
	float noise = 0.01f;
	struct fnn *src = NULL, *dst = NULL;

	optind = 1;
	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (o) {
		case 'k': ckpt = optarg; break;
		case 'a': arch = optarg; break;
		case 'o': out = optarg; break;
		case 'i':
			if (train_parse_int("--input", "a side in px", optarg, 1, 4096, &lv))
				return 2;
			input = (int)lv;
			break;
		case 's':
			if (train_parse_int("--seed", "a number", optarg, 0, 2147483647, &seed))
				return 2;
			break;
		case 'n':
			if (train_parse_range("--noise", "a relative noise", optarg, 0, 0.99f, &noise))
				return 2;
			break;
		case 'h': grow_usage(stdout); return 0;
		default: grow_usage(stderr); return 2;
		}
	}
	if (!ckpt || !arch || !out || optind != argc || input < 0 || input > 4096 ||
	    !(noise >= 0 && noise < 1)) {
		grow_usage(stderr);
		return 2;
	}
	if (fnn_load_arch(ckpt, old_arch, sizeof(old_arch)))
		return 1;
	if (!input) {
		last = strrchr(old_arch, ',');
		input = (last ? last[1] : old_arch[0]) == 'h' ? 96 : 48;
	}
	extra = malloc(GROW_EXTRA_MAX);
	src = fnn_new(old_arch, (struct fnn_shape){input, input, 1}, 1);
	dst = fnn_new(arch, (struct fnn_shape){input, input, 1}, (uint64_t)seed);
	if (!extra || !src || !dst)
		goto out;
	if (fnn_load_extra(ckpt, extra, GROW_EXTRA_MAX, &extra_len) ||
	    fnn_load(src, ckpt, extra_len ? extra : NULL, extra_len, &had_opt) ||
	    fnn_grow(dst, src, (uint64_t)seed, noise))
		goto out;
	/* the moments were copied: they stay those of src's optimizer, and
	 * dropout continues from src's state */
	dst->opt = src->opt;
	dst->rng = src->rng;
	if (fnn_save(dst, out, extra, extra_len, had_opt))
		goto out;
	printf("grew %s (%s, %ld params) into %s (%s, %ld params)\n", ckpt, old_arch,
	       fnn_param_count(src), out, arch, fnn_param_count(dst));
	rc = 0;
out:
	fnn_free(src);
	fnn_free(dst);
	free(extra);
	return rc;
}
