/* fuzz_model_seeds.c - writes small models covering every layer type into
 * a directory, seeds for fuzz_model (make fuzz prefixes each with the
 * harness's selector byte). The shipped models are too big for the
 * fuzzer's max_len; these load in microseconds and run at 8x8.
 *
 *   fuzz_model_seeds DIR
 */
#include <stdio.h>

#include "emotop/qnn.h"
#include "qnn_rand.h"

static int save(struct qnn_model *m, const char *dir, const char *name)
{
	char path[4096];
	struct emo_err err;
	int rc;

	if (!m)
		return 1;
	snprintf(path, sizeof(path), "%s/%s.qnn", dir, name);
	rc = qnn_model_save(m, path, &err);
	if (rc)
		fprintf(stderr, "fuzz_model_seeds: %s: %s\n", path, err.msg);
	qnn_model_free(m);
	return rc != 0;
}

int main(int argc, char **argv)
{
	struct qnn_model *m;
	int t, a, bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_model_seeds DIR\n");
		return 2;
	}
	/* gray8 classifier: conv (row4) + pool (fused on SIMD), depthwise,
	 * 1x1, global average pool, float logits */
	m = rm_new(1);
	t = rm_conv(m, 0, 8, 3, 3, 1, 1, 0, 1, 0, 40);
	t = rm_pool(m, t, QNN_MAXPOOL, 2, 2, 0);
	t = rm_conv(m, t, 8, 3, 3, 1, 1, 1, 1, 0, 40);
	t = rm_conv(m, t, 16, 1, 1, 1, 0, 0, 1, 0, 40);
	t = rm_pool(m, t, QNN_GAP, 0, 0, 0);
	rm_conv(m, t, 7, 1, 1, 1, 0, 0, 0, 1, 40);
	bad |= save(m, argv[1], "seed_classify");
	/* 3 channels: strided conv (im2col), residual add, upsample, float head */
	m = rm_new(3);
	a = rm_conv(m, 0, 8, 3, 3, 2, 1, 0, 1, 0, 40);
	t = rm_conv(m, a, 8, 3, 3, 1, 1, 0, 0, 0, 40);
	t = rm_add(m, a, t, 1);
	t = rm_pool(m, t, QNN_UPSAMPLE2, 0, 0, 0);
	rm_conv(m, t, 5, 1, 1, 1, 0, 0, 0, 1, 40);
	bad |= save(m, argv[1], "seed_branchy");
	/* 4 channels, pad 0: read in place on VNNI; too small below 3x3 */
	m = rm_new(4);
	t = rm_conv(m, 0, 16, 3, 3, 1, 0, 0, 1, 0, 40);
	rm_conv(m, t, 20, 3, 3, 1, 0, 0, 0, 0, 40);
	bad |= save(m, argv[1], "seed_pad0");
	/* padded 3x3/2 max pool, 5x5 gray conv (im2col, not row4), 2 channels */
	m = rm_new(1);
	t = rm_pool(m, 0, QNN_MAXPOOL, 3, 2, 1);
	t = rm_conv(m, t, 2, 5, 5, 2, 2, 0, 1, 0, 40);
	t = rm_conv(m, t, 33, 3, 3, 1, 1, 0, 1, 0, 40);
	rm_conv(m, t, 3, 2, 2, 1, 0, 0, 0, 1, 40);
	bad |= save(m, argv[1], "seed_windows");
	return bad;
}
