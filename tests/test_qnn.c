/* test_qnn.c - the int8 engine: requantization, layer semantics on golden
 * values, every SIMD path bit-identical to the scalar reference on many
 * layer shapes and whole random networks, int8 against float. */
#include "unit.h"

#include "emotop/cpu.h"
#include "emotop/qnn.h"
#include "qnn_rand.h"

/* int8 logits against the float path of the same network: the largest
 * difference, relative to the spread (std) of the float logits. */
#define QNN_TOL_LOGIT_REL 0.08
/* mean |q_int8 - q_float| over a uint8 hidden tensor, in LSB */
#define QNN_TOL_HIDDEN_LSB 0.25

static const enum qnn_path simd_paths[] = {QNN_PATH_AVX2, QNN_PATH_AVX512VNNI};

static size_t tensor_bytes(const struct qnn_ctx *x, int t, int *isf)
{
	int h, w, c;
	const uint8_t *q;
	const float *f;

	if (qnn_tensor_get(x, t, &h, &w, &c, &q, &f))
		return 0;
	*isf = f != NULL;
	return (size_t)h * w * c * (f ? sizeof(float) : 1);
}

/* Compare every tensor of two contexts after a run; 0 when identical. A
 * tensor b did not keep (a conv fused with its max pool) is skipped; the
 * last one never is. */
static int ctx_diff(const struct qnn_ctx *a, const struct qnn_ctx *b, int nt, int *where)
{
	for (int t = 1; t < nt; t++) {
		int fa, fb;
		if (t < nt - 1 && qnn_tensor_get(b, t, NULL, NULL, NULL, NULL, NULL) == EMO_EUNSUPPORTED)
			continue;
		size_t na = tensor_bytes(a, t, &fa), nb = tensor_bytes(b, t, &fb);
		const uint8_t *qa, *qb;
		const float *pa, *pb;
		qnn_tensor_get(a, t, NULL, NULL, NULL, &qa, &pa);
		qnn_tensor_get(b, t, NULL, NULL, NULL, &qb, &pb);
		if (na != nb || fa != fb || !na ||
		    memcmp(fa ? (const void *)pa : (const void *)qa,
			   fb ? (const void *)pb : (const void *)qb, na)) {
			*where = t;
			return 1;
		}
	}
	return 0;
}

/* Inputs of check_paths_fill(): random bytes, all 255, all 0, each byte 0
 * or 255 at random. */
enum fill { FILL_RANDOM, FILL_MAX, FILL_ZERO, FILL_EXTREME, FILL_COUNT };

/* Run m on every path this CPU has at h x w (input rows spad bytes longer
 * than w*c, in a buffer of exactly h rows, so that a sanitizer sees any
 * read past the last one; the input filled as fill says); returns the
 * number of paths that differ from scalar (-1 on setup error). */
static int check_paths_stride(const struct qnn_model *m, int h, int w, enum fill fill, int spad,
			      int *n_paths)
{
	const int c = m->tensors[0].c, stride = w * c + spad;
	uint8_t *in = malloc((size_t)h * stride);
	struct emo_err err;
	struct qnn_ctx *ref = qnn_ctx_new(m, h, w, QNN_PATH_SCALAR, &err);
	int bad = 0;

	*n_paths = 0;
	if (!in || !ref) {
		if (!ref)
			fprintf(stderr, "  ctx: %s\n", err.msg);
		free(in);
		qnn_ctx_free(ref);
		return -1;
	}
	rnd_fill(in, (size_t)h * stride);
	if (fill == FILL_MAX || fill == FILL_ZERO)
		memset(in, fill == FILL_MAX ? 255 : 0, (size_t)h * stride);
	else if (fill == FILL_EXTREME)
		for (size_t i = 0; i < (size_t)h * stride; i++)
			in[i] = in[i] & 1 ? 255 : 0;
	if (qnn_run(ref, in, h, w, stride)) {
		bad = -1;
		goto out;
	}
	for (size_t p = 0; p < sizeof(simd_paths) / sizeof(simd_paths[0]); p++) {
		if (!qnn_path_supported(simd_paths[p]))
			continue;
		struct qnn_ctx *x = qnn_ctx_new(m, h, w, simd_paths[p], &err);
		int where = 0;
		if (!x) {
			bad = -1;
			break;
		}
		(*n_paths)++;
		/* as run (conv + pool fused where possible), then keeping all */
		for (int keep = 0; keep < 2; keep++) {
			qnn_ctx_keep_all(x, keep);
			if (qnn_run(x, in, h, w, stride) || ctx_diff(ref, x, m->n_tensors, &where)) {
				fprintf(stderr, "  %s%s differs from scalar at tensor %d (%dx%dx%d)\n",
					qnn_path_name(simd_paths[p]), keep ? " (keep all)" : "", where, h, w, c);
				bad++;
				break;
			}
		}
		qnn_ctx_free(x);
	}
out:
	qnn_ctx_free(ref);
	free(in);
	return bad;
}

/* check_paths_stride() with input rows 7 bytes longer than w*c. */
static int check_paths_fill(const struct qnn_model *m, int h, int w, enum fill fill, int *n_paths)
{
	return check_paths_stride(m, h, w, fill, 7, n_paths);
}

/* check_paths_fill() on random bytes. */
static int check_paths(const struct qnn_model *m, int h, int w, int *n_paths)
{
	return check_paths_fill(m, h, w, FILL_RANDOM, n_paths);
}

TEST(paths_avx2_available)
{
	if (!qnn_path_supported(QNN_PATH_AVX2))
		SKIP("CPU has no AVX2+FMA: AVX2 kernels not tested against scalar");
	ASSERT(qnn_path_supported(QNN_PATH_SCALAR));
}

TEST(paths_vnni_available)
{
	struct cpu_info ci;

	cpu_detect(&ci);
	fprintf(stderr, "  CPU: %s, best path %s\n", ci.model, qnn_path_name(qnn_best_path()));
	if (!qnn_path_supported(QNN_PATH_AVX512VNNI))
		SKIP("CPU has no AVX-512 VNNI: VNNI kernels not tested against scalar");
	ASSERT(ci.avx512 && ci.avx2);
}

TEST(quantize_multiplier)
{
	int32_t m, s;

	qnn_quantize_multiplier(0.5, &m, &s);
	ASSERT_EQ(m, 1 << 30);
	ASSERT_EQ(s, 0);
	qnn_quantize_multiplier(1.0, &m, &s);
	ASSERT_EQ(m, 1 << 30);
	ASSERT_EQ(s, 1);
	qnn_quantize_multiplier(0.75 / 16, &m, &s);
	ASSERT_EQ(m, 3 << 29);
	ASSERT_EQ(s, -4);
	qnn_quantize_multiplier(0, &m, &s);
	ASSERT_EQ(m, 0);
	qnn_quantize_multiplier(-1, &m, &s);
	ASSERT_EQ(m, 0);
	qnn_quantize_multiplier(NAN, &m, &s);
	ASSERT_EQ(m, 0);
	qnn_quantize_multiplier(1e-12, &m, &s); /* below 2^-32: zero */
	ASSERT_EQ(m, 0);
	qnn_quantize_multiplier(1e12, &m, &s); /* saturates */
	ASSERT_EQ(s, 30);
	ASSERT_EQ(m, INT32_MAX);
	/* just below 1: rounding of the mantissa carries into the exponent */
	qnn_quantize_multiplier(1.0 - 1e-12, &m, &s);
	ASSERT_EQ(m, 1 << 30);
	ASSERT_EQ(s, 1);
	for (int i = 0; i < 1000; i++) {
		double M = exp((rnd_unit() - 0.7) * 30);
		qnn_quantize_multiplier(M, &m, &s);
		ASSERT(m >= (1 << 30));
		ASSERT(s >= -31 && s <= 30);
		ASSERT_NEAR(ldexp((double)m, s - 31) / M, 1.0, 1e-9);
	}
}

TEST(requantize_golden)
{
	/* M = 0.5: SRDHM rounds half up, so 1.5 -> 2 and -1.5 -> -1 */
	ASSERT_EQ(qnn_requantize(3, 1 << 30, 0), 2);
	ASSERT_EQ(qnn_requantize(-3, 1 << 30, 0), -1);
	/* M = 0.25: 1.25 -> SRDHM 3 (2.5 up) -> /2 = 1.5 away -> 2 (double rounding) */
	ASSERT_EQ(qnn_requantize(5, 1 << 30, -1), 2);
	ASSERT_EQ(qnn_requantize(-5, 1 << 30, -1), -1);
	ASSERT_EQ(qnn_requantize(-6, 1 << 30, -1), -2); /* -1.5 away from zero */
	ASSERT_EQ(qnn_requantize(1000, 0, 0), 0);
	ASSERT_EQ(qnn_requantize(7, 1 << 30, 3), 28); /* M = 4 */
	ASSERT_EQ(qnn_requantize(INT32_MAX, INT32_MAX, 0), INT32_MAX - 1);
	ASSERT_EQ(qnn_requantize(INT32_MIN, 1 << 30, -31), -1); /* -2^30 / 2^31 = -0.5 -> -1 */
	ASSERT_EQ(qnn_requantize(INT32_MIN, INT32_MAX, 0), INT32_MIN + 1);
}

TEST(requantize_close_to_real)
{
	for (int i = 0; i < 20000; i++) {
		int32_t mult, shift, acc = (int32_t)rnd_u32() >> rnd_int(0, 20);
		double M = exp((rnd_unit() - 0.8) * 12);
		qnn_quantize_multiplier(M, &mult, &shift);
		double real = (double)acc * ldexp((double)mult, shift - 31);
		if (fabs(real) > 2e9 || (shift > 0 && fabs(ldexp(acc, shift)) >= 2147483648.0))
			continue; /* out of range, or the documented wrapping left shift */
		ASSERT_NEAR(qnn_requantize(acc, mult, shift), real, 1.0);
	}
}

/* 1x1 conv by hand: cin 2, w = {1, -2}, bias 10, z_in 3, input {5, 7}:
 * acc = 10 + 2*1 + 4*(-2) = 4; M = 0.5 -> 2; z_out 100 -> 102. */
TEST(conv_golden)
{
	struct qnn_model *m = rm_new(2);
	int8_t w[2] = {1, -2};
	int32_t b = 10, mult = 1 << 30, sh = 0;
	float ws = 1;
	const uint8_t in[2 * 2 * 2] = {5, 7, 3, 3, 0, 0, 255, 255};
	const uint8_t *q;
	int ok = 1;

	ASSERT(m);
	m->tensors[0].zero_point = 3;
	m->tensors[0].scale = 0.5f;
	rm_tensor(m, 1, 1.0f, 100);
	m->n_layers = 1;
	m->layers[0] = (struct qnn_layer){.type = QNN_CONV, .in = 0, .in2 = -1, .out = 1, .kh = 1,
					  .kw = 1, .stride = 1, .groups = 1, .cin = 2, .cout = 1,
					  .relu = 1};
	struct qnn_layer *l = &m->layers[0];
	l->w = malloc(2);
	l->bias = malloc(4);
	l->mult = malloc(4);
	l->shift = malloc(4);
	l->w_scale = malloc(4);
	memcpy(l->w, w, 2);
	*l->bias = b;
	*l->mult = mult;
	*l->shift = sh;
	*l->w_scale = ws;
	for (int p = QNN_PATH_SCALAR; p <= QNN_PATH_AVX512VNNI; p++) {
		if (!qnn_path_supported((enum qnn_path)p))
			continue;
		struct qnn_ctx *x = qnn_ctx_new(m, 2, 2, (enum qnn_path)p, NULL);
		if (!x || qnn_run(x, in, 2, 2, 4) || qnn_tensor_get(x, 1, NULL, NULL, NULL, &q, NULL)) {
			ok = 0;
		} else {
			/* pixel 1: acc 10 -> 5 -> 105; pixel 2: 10 + (-3) - 2*(-3) = 13 -> 6.5 -> 7
			 * -> 107; pixel 3: 10 + 252 - 504 = -242 -> -121 -> clamp at z (relu) 100 */
			if (q[0] != 102 || q[1] != 105 || q[2] != 107 || q[3] != 100) {
				fprintf(stderr, "  %s: %d %d %d %d\n", qnn_path_name((enum qnn_path)p), q[0], q[1],
					q[2], q[3]);
				ok = 0;
			}
		}
		qnn_ctx_free(x);
	}
	qnn_model_free(m);
	ASSERT(ok);
}

/* Pooling and the other layers by hand. */
TEST(pool_gap_add_golden)
{
	struct qnn_model *m = rm_new(1);
	const uint8_t in[4 * 4] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 200};
	const uint8_t *q;

	ASSERT(m);
	m->tensors[0].zero_point = 10;
	int mp = rm_pool(m, 0, QNN_MAXPOOL, 2, 2, 0);
	int mp3 = rm_pool(m, 0, QNN_MAXPOOL, 3, 2, 1);
	int gap = rm_pool(m, 0, QNN_GAP, 0, 0, 0);
	int up = rm_pool(m, mp, QNN_UPSAMPLE2, 0, 0, 0);
	int add = rm_add(m, 0, up, 0);
	/* add: output scale = input scale, both multipliers 1 (mult 2^30, shift 1) */
	m->tensors[add].scale = m->tensors[0].scale;
	m->tensors[add].zero_point = 128;
	for (int k = 0; k < 2; k++) {
		m->layers[m->n_layers - 1].add_mult[k] = 1 << 30;
		m->layers[m->n_layers - 1].add_shift[k] = 1;
	}
	for (int p = QNN_PATH_SCALAR; p <= QNN_PATH_AVX512VNNI; p++) {
		if (!qnn_path_supported((enum qnn_path)p))
			continue;
		struct qnn_ctx *x = qnn_ctx_new(m, 4, 4, (enum qnn_path)p, NULL);
		ASSERT(x);
		ASSERT_EQ(qnn_run(x, in, 4, 4, 4), EMO_OK);
		int h, w;
		ASSERT_EQ(qnn_tensor_get(x, mp, &h, &w, NULL, &q, NULL), EMO_OK);
		ASSERT(h == 2 && w == 2 && q[0] == 6 && q[1] == 8 && q[2] == 14 && q[3] == 200);
		ASSERT_EQ(qnn_tensor_get(x, mp3, &h, &w, NULL, &q, NULL), EMO_OK);
		ASSERT(h == 2 && w == 2 && q[0] == 6 && q[1] == 8 && q[2] == 14 && q[3] == 200);
		/* gap: sum(q - 10) = 136 + 185 - 160 = 321... computed: (sum - 160) / 16 */
		int s = 0;
		for (int i = 0; i < 16; i++)
			s += in[i] - 10;
		ASSERT_EQ(qnn_tensor_get(x, gap, &h, &w, NULL, &q, NULL), EMO_OK);
		ASSERT(h == 1 && w == 1);
		ASSERT_EQ(q[0], 10 + (s + 8) / 16);
		ASSERT_EQ(qnn_tensor_get(x, add, &h, &w, NULL, &q, NULL), EMO_OK);
		/* add: 128 + (in - 10) + (up - 10); pixel 0: 128 - 9 - 4 = 115 */
		ASSERT(h == 4 && w == 4);
		ASSERT_EQ(q[0], 115);
		ASSERT_EQ(q[15], 255); /* 128 + 190 + 190 saturates */
		qnn_ctx_free(x);
	}
	qnn_model_free(m);
}

struct shape {
	int h, w, cin, cout, kh, kw, stride, pad, dw, relu, float_out;
};

TEST(conv_shapes_identical)
{
	static const struct shape sh[] = {
		{48, 48, 1, 32, 3, 3, 1, 1, 0, 1, 0},  /* first layer: im2col */
		{7, 5, 3, 5, 3, 3, 2, 1, 0, 0, 0},     /* cin 3, stride 2, odd sizes */
		{9, 9, 5, 17, 3, 3, 1, 1, 0, 1, 0},    /* cin padded to 8, cout tail */
		{6, 6, 16, 33, 1, 1, 1, 0, 0, 0, 0},   /* 1x1, input used in place */
		{3, 3, 12, 7, 3, 3, 1, 0, 0, 0, 0},    /* FC: kernel == input */
		{3, 3, 64, 40, 3, 3, 1, 0, 0, 1, 0},   /* FC, 2304-like */
		{1, 1, 48, 7, 1, 1, 1, 0, 0, 0, 1},    /* float logits */
		{5, 7, 9, 23, 3, 3, 1, 1, 0, 0, 1},    /* float_out with padding */
		{11, 13, 8, 64, 5, 5, 2, 2, 0, 1, 0},  /* 5x5 stride 2 */
		{10, 10, 24, 48, 3, 3, 1, 1, 0, 1, 0},
		{12, 12, 32, 96, 3, 3, 1, 1, 0, 1, 0}, /* nb 6: blocks of 4 + 2 */
		{6, 6, 40, 80, 3, 3, 1, 1, 0, 0, 0},   /* nb 5 */
		{4, 4, 16, 48, 3, 3, 1, 1, 0, 1, 0},   /* nb 3 */
		{9, 9, 24, 24, 3, 3, 2, 1, 1, 1, 0},   /* depthwise */
		{8, 8, 6, 20, 3, 1, 1, 0, 0, 0, 0},    /* kh != kw */
		{5, 5, 4, 65, 2, 2, 1, 0, 0, 0, 0},    /* even kernel */
		{1, 1, 3, 3, 1, 1, 1, 0, 0, 0, 0},
		{2, 9, 2, 16, 3, 3, 1, 1, 0, 1, 0},    /* cin 2 im2col */
		{61, 47, 1, 16, 3, 3, 2, 1, 0, 1, 0},  /* detector's first layer: gray8, stride 2, odd sizes */
		{9, 4, 1, 20, 3, 3, 1, 1, 0, 0, 0},    /* gray8, narrower than 4 + border */
		{7, 8, 1, 16, 3, 2, 1, 0, 0, 1, 0},    /* gray8, kw 2 */
		{8, 8, 1, 16, 2, 4, 2, 0, 0, 1, 0},    /* gray8, kw 4 */
		{9, 9, 1, 8, 5, 5, 2, 2, 0, 1, 0},     /* gray8, kw 5: generic im2col */
		{5, 6, 1, 3, 1, 1, 1, 0, 0, 0, 1},     /* gray8 1x1, float out */
		{40, 1500, 1, 16, 3, 3, 1, 1, 0, 1, 0}, /* wide: im2col in several bands */
		{40, 1500, 1, 16, 3, 3, 1, 1, 0, 0, 1}, /* ... float out */
		{33, 900, 2, 24, 3, 3, 2, 1, 0, 1, 0},  /* ... cin 2, stride 2 */
		{17, 3, 7, 9, 3, 3, 3, 2, 0, 0, 0},    /* stride 3, pad 2 */
	};
	for (size_t i = 0; i < sizeof(sh) / sizeof(sh[0]); i++) {
		const struct shape *s = &sh[i];
		struct qnn_model *m = rm_new(s->cin);
		int n;
		ASSERT(m);
		rm_conv(m, 0, s->cout, s->kh, s->kw, s->stride, s->pad, s->dw, s->relu, s->float_out, 60);
		int bad = check_paths(m, s->h, s->w, &n);
		qnn_model_free(m);
		if (bad)
			UNIT_FAILF("shape %zu: %d path(s) differ", i, bad);
	}
}

TEST(maxpool_shapes_identical)
{
	static const int sh[][5] = {/* h, w, c, k, stride, (pad = k / 2 when odd) */
				    {48, 48, 32, 2, 2}, {7, 9, 33, 3, 2}, {5, 5, 70, 3, 1},
				    {6, 6, 1, 2, 2},    {9, 4, 64, 3, 3},  {11, 7, 16, 2, 2},
				    {5, 6, 48, 3, 2},   {4, 4, 24, 2, 2}};
	for (size_t i = 0; i < sizeof(sh) / sizeof(sh[0]); i++) {
		struct qnn_model *m = rm_new(sh[i][2]);
		int n;
		ASSERT(m);
		rm_pool(m, 0, QNN_MAXPOOL, sh[i][3], sh[i][4], sh[i][3] % 2 ? sh[i][3] / 2 : 0);
		int bad = check_paths(m, sh[i][0], sh[i][1], &n);
		qnn_model_free(m);
		if (bad)
			UNIT_FAILF("maxpool shape %zu: %d path(s) differ", i, bad);
	}
}

/* conv + 2x2 max pool on the VNNI and AVX2 paths run as one pass: the pool output is
 * byte-identical to scalar, the conv output is not kept (and says so), and
 * keep_all brings it back. Shapes: gray8 im2col with an odd conv output,
 * stride 2, cin padded, 1 or 2 channel blocks, odd pooled pixel counts,
 * several bands of rows, with and without ReLU; wider layers (3 to 5 blocks) and a layer with
 * a left shift (which can wrap) are not fused, and match as well. */
TEST(conv_pool_fusion)
{
	static const int sh[][7] = {/* h, w, cin, cout, stride, relu, pad */
				    {61, 47, 1, 16, 2, 1, 1}, {9, 11, 1, 20, 1, 0, 1}, {7, 5, 3, 8, 1, 1, 1},
				    {7, 7, 1, 16, 1, 1, 1},   /* 3x3 pooled: an odd count */
				    {11, 7, 3, 8, 1, 0, 1},   /* 5x3 pooled, generic im2col */
				    {21, 1000, 1, 16, 1, 1, 1}, /* pooled rows in two bands */
				    {13, 9, 16, 32, 1, 1, 1}, {12, 12, 5, 40, 2, 1, 1},
				    {8, 10, 24, 80, 1, 0, 0}, {7, 7, 64, 48, 1, 1, 1}};
	if (!qnn_path_supported(QNN_PATH_AVX2))
		SKIP("CPU has no AVX2: the fused conv + pool paths are not used");
	for (size_t i = 0; i < sizeof(sh) / sizeof(sh[0]); i++) {
		for (int variant = 0; variant < 2; variant++) {
			struct qnn_model *m = rm_new(sh[i][2]);
			int n, conv, pool, h, w;
			ASSERT(m);
			conv = rm_conv(m, 0, sh[i][3], 3, 3, sh[i][4], sh[i][6], 0, sh[i][5], 0, 40);
			pool = rm_pool(m, conv, QNN_MAXPOOL, 2, 2, 0);
			rm_conv(m, pool, 7, 1, 1, 1, 0, 0, 0, 1, 40);
			if (variant == 1)
				m->layers[0].shift[2] = 1; /* a left shift may wrap: not fused */
			int bad = check_paths(m, sh[i][0], sh[i][1], &n);
			uint8_t *in = malloc((size_t)sh[i][0] * sh[i][1] * sh[i][2]);
			ASSERT(in);
			rnd_fill(in, (size_t)sh[i][0] * sh[i][1] * sh[i][2]);
			for (int p = QNN_PATH_AVX2; p <= QNN_PATH_AVX512VNNI; p++) {
				if (!qnn_path_supported((enum qnn_path)p))
					continue;
				struct qnn_ctx *x = qnn_ctx_new(m, sh[i][0], sh[i][1], (enum qnn_path)p, NULL);
				ASSERT(x);
				ASSERT_EQ(qnn_run(x, in, sh[i][0], sh[i][1], sh[i][1] * sh[i][2]), EMO_OK);
				int rc = qnn_tensor_get(x, conv, &h, &w, NULL, NULL, NULL);
				/* fused: narrow layers (<= 32 channels) without a left shift */
				ASSERT_EQ(rc, variant == 0 && sh[i][3] <= 32 ? EMO_EUNSUPPORTED : EMO_OK);
				ASSERT_EQ(qnn_tensor_get(x, pool, &h, &w, NULL, NULL, NULL), EMO_OK);
				qnn_ctx_keep_all(x, 1);
				ASSERT_EQ(qnn_run(x, in, sh[i][0], sh[i][1], sh[i][1] * sh[i][2]), EMO_OK);
				ASSERT_EQ(qnn_tensor_get(x, conv, &h, &w, NULL, NULL, NULL), EMO_OK);
				qnn_ctx_free(x);
			}
			free(in);
			qnn_model_free(m);
			if (bad)
				UNIT_FAILF("conv + pool shape %zu variant %d: %d path(s) differ", i, variant, bad);
		}
	}
}

/* Every requantization shift the SIMD paths may meet, against scalar: the
 * channels' real multipliers run from 2^3 down to 2^-32 (left shifts that
 * may wrap, then right shifts of 0 to 31), on layers with and without ReLU
 * (the VNNI path rounds once where the clamp at the zero point allows) and
 * zero points from 0 to 255, plain and fused with a 2x2 max pool (which
 * only layers without a left shift are). */
TEST(requant_shifts_identical)
{
	static const int zps[] = {0, 3, 128, 255};
	for (int relu = 0; relu < 2; relu++)
		for (int pooled = 0; pooled < 2; pooled++)
			for (size_t z = 0; z < sizeof(zps) / sizeof(zps[0]); z++) {
				/* two channels (an even and an odd lane) per exponent;
				 * fused layers have at most 32 channels: 2^-16..2^-1 */
				const int cout = pooled ? 32 : 72, top = pooled ? -1 : 3;
				struct qnn_model *m = rm_new(16);
				int n, conv;
				ASSERT(m);
				conv = rm_conv(m, 0, cout, 3, 3, 1, 1, 0, relu, 0, 40);
				m->tensors[m->layers[0].out].zero_point = zps[z];
				for (int c = 0; c < cout; c++) {
					const int e = top - c / 2; /* 2^e <= M < 2^(e+1) */
					const double M = ldexp(1.0 + (double)(c * 37 % 64) / 64, e);
					struct qnn_layer *l = &m->layers[0];
					qnn_quantize_multiplier(M, &l->mult[c], &l->shift[c]);
					/* weights of |w| <= 2^-(e+2) * 127 and no bias where
					 * M is large, so that outputs do not all saturate */
					if (e > -9) {
						const int a = e >= -2 ? 1 : 127 >> (e + 9);
						for (int i = 0; i < 9 * 16; i++)
							l->w[(size_t)c * 9 * 16 + i] = (int8_t)rnd_int(-a, a);
						l->bias[c] = 0;
					}
				}
				if (pooled)
					rm_pool(m, conv, QNN_MAXPOOL, 2, 2, 0);
				for (int f = 0; f < FILL_COUNT; f++) {
					int bad = check_paths_fill(m, 10, 14, (enum fill)f, &n);
					if (bad)
						UNIT_FAILF("relu %d pooled %d zero point %d fill %d: %d path(s) differ",
							   relu, pooled, zps[z], f, bad);
				}
				qnn_model_free(m);
			}
}

/* A gray8 first layer fused with its pool reads the padded image in place
 * (bands of rows, 4 bytes per kernel row): every kernel width up to 4,
 * kernel heights 1 to 5, strides 1 to 3, with and without padding, odd
 * sizes, an input zero point (the padding) other than 0, and an image so
 * wide that each band holds one pooled row. */
TEST(conv_pool_gray8_in_place)
{
	static const int sh[][8] = {/* h, w, cout, kh, kw, stride, pad, relu */
				    {13, 17, 16, 3, 2, 1, 0, 1}, {12, 15, 16, 2, 4, 2, 1, 0},
				    {19, 23, 32, 5, 4, 2, 2, 1}, {9, 9, 16, 1, 1, 1, 0, 1},
				    {25, 31, 8, 3, 3, 3, 1, 1},  {10, 9, 16, 4, 3, 2, 2, 0},
				    {12, 12, 16, 3, 3, 1, 1, 1}, /* rows of 6 pooled: 4 + 2 */
				    {8, 30000, 16, 3, 3, 3, 1, 1}};
	if (!qnn_path_supported(QNN_PATH_AVX2))
		SKIP("CPU has no AVX2: the fused gray8 paths are not used");
	for (size_t i = 0; i < sizeof(sh) / sizeof(sh[0]); i++) {
		struct qnn_model *m = rm_new(1);
		int n, conv, pool, h, w;
		ASSERT(m);
		m->tensors[0].zero_point = 17 + 29 * (int)i; /* the padding must be this */
		conv = rm_conv(m, 0, sh[i][2], sh[i][3], sh[i][4], sh[i][5], sh[i][6], 0, sh[i][7], 0, 40);
		pool = rm_pool(m, conv, QNN_MAXPOOL, 2, 2, 0);
		rm_conv(m, pool, 7, 1, 1, 1, 0, 0, 0, 1, 40);
		int bad = check_paths(m, sh[i][0], sh[i][1], &n);
		uint8_t *in = malloc((size_t)sh[i][0] * sh[i][1]);
		ASSERT(in);
		rnd_fill(in, (size_t)sh[i][0] * sh[i][1]);
		for (int p = QNN_PATH_AVX2; p <= QNN_PATH_AVX512VNNI; p++) {
			if (!qnn_path_supported((enum qnn_path)p))
				continue;
			struct qnn_ctx *x = qnn_ctx_new(m, sh[i][0], sh[i][1], (enum qnn_path)p, NULL);
			ASSERT(x);
			ASSERT_EQ(qnn_run(x, in, sh[i][0], sh[i][1], sh[i][1]), EMO_OK);
			/* it did run fused */
			ASSERT_EQ(qnn_tensor_get(x, conv, &h, &w, NULL, NULL, NULL), EMO_EUNSUPPORTED);
			qnn_ctx_free(x);
		}
		free(in);
		qnn_model_free(m);
		if (bad)
			UNIT_FAILF("gray8 conv + pool shape %zu: %d path(s) differ", i, bad);
	}
}

/* A branchy random network: every layer type, odd widths. */
static struct qnn_model *rm_branchy(void)
{
	struct qnn_model *m = rm_new(3);
	int a = rm_conv(m, 0, 12, 3, 3, 2, 1, 0, 1, 0, 40);
	int b = rm_conv(m, a, 12, 3, 3, 1, 1, 1, 1, 0, 40);
	int c = rm_conv(m, b, 12, 1, 1, 1, 0, 0, 0, 0, 40);
	int d = rm_add(m, a, c, 1);
	int e = rm_pool(m, d, QNN_MAXPOOL, 3, 2, 1);
	int f = rm_conv(m, e, 20, 3, 3, 1, 1, 0, 1, 0, 40);
	int g = rm_pool(m, f, QNN_UPSAMPLE2, 0, 0, 0);
	int h = rm_conv(m, g, 5, 3, 3, 1, 1, 0, 0, 1, 40);
	int i = rm_pool(m, f, QNN_GAP, 0, 0, 0);
	rm_conv(m, i, 7, 1, 1, 1, 0, 0, 0, 1, 40);
	(void)h;
	return m;
}

TEST(random_networks_identical)
{
	for (int r = 0; r < 6; r++) {
		struct qnn_model *m = r < 3 ? rm_classifier(1 + r) : rm_branchy();
		struct emo_err err;
		int n, hw = r < 3 ? 48 : 13 + 6 * r;
		ASSERT(m);
		ASSERT_EQ(qnn_model_validate(m, &err), EMO_OK);
		int bad = check_paths(m, hw, hw + (r > 3), &n);
		qnn_model_free(m);
		if (bad)
			UNIT_FAILF("network %d: %d path(s) differ", r, bad);
	}
}

TEST(full_classifier_identical)
{
	struct qnn_model *m = rm_classifier(8);
	int n;

	ASSERT(m);
	/* 48x48: conv 1-32-32, 32-64-64, 64-128-128, 128-256-256, FC 2304-256, 256-7 */
	uint64_t macs = 0;
	int hw = 48, cin = 1;
	for (int c = 32; c <= 256; c *= 2, hw /= 2) {
		macs += (uint64_t)hw * hw * 9 * (cin * c + c * c);
		cin = c;
	}
	macs += 2304 * 256 + 256 * 7;
	ASSERT_EQ(qnn_macs(m, 48, 48), macs);
	int bad = check_paths(m, 48, 48, &n);
	qnn_model_free(m);
	ASSERT_EQ(bad, 0);
}

/* Extreme requantizations on the channels of conv layer l, by channel
 * number mod 8 (the others keep rm_conv's): the largest multiplier with a
 * left shift, the longest right shift, a zero multiplier, a bias next to
 * INT32_MAX or INT32_MIN so that the uint32 accumulation wraps (with a
 * right shift: the reference's z_out + requant must not overflow int), and
 * a left shift that wraps the accumulator (mult 2^30 keeps the product
 * within int32). */
static void conv_extremes(struct qnn_layer *l)
{
	for (int c = 0; c < l->cout; c++) {
		switch (c % 8) {
		case 0:
			l->mult[c] = INT32_MAX;
			l->shift[c] = rnd_int(1, 8);
			break;
		case 1:
			l->mult[c] = 1 << 30;
			l->shift[c] = -31;
			break;
		case 2:
			l->mult[c] = 0;
			l->shift[c] = 0;
			break;
		case 3:
		case 4:
			l->bias[c] = c % 8 == 3 ? INT32_MAX - rnd_int(0, 1000)
						: INT32_MIN + rnd_int(0, 1000);
			l->mult[c] = (int32_t)(((uint32_t)1 << 30) + (rnd_u32() >> 2));
			l->shift[c] = -rnd_int(1, 31);
			break;
		case 5:
			l->mult[c] = 1 << 30;
			l->shift[c] = rnd_int(20, 30);
			break;
		default:
			break;
		}
	}
}

/* One depthwise layer (s: h, w, c, kh, kw, stride, pad, relu, float_out,
 * z_in, z_out), plain or with extreme requantizations, on every fill and
 * every row padding in spads; 0 when every path matches scalar. */
static int dw_check(const int *s, int ext, const int *spads, int n_spads, const char *what,
		    size_t i)
{
	struct qnn_model *m = rm_new(s[2]);
	struct emo_err err;
	int n, t, bad = 0;

	if (!m)
		return -1;
	m->tensors[0].zero_point = s[9];
	t = rm_conv(m, 0, s[2], s[3], s[4], s[5], s[6], 1, s[7], s[8], 60);
	if (!s[8])
		m->tensors[t].zero_point = s[10];
	if (ext)
		conv_extremes(&m->layers[0]);
	if (qnn_model_validate(m, &err) != EMO_OK) {
		fprintf(stderr, "  %s %zu: %s\n", what, i, err.msg);
		bad = -1;
	}
	for (int p = 0; p < n_spads && !bad; p++)
		for (int f = 0; f < FILL_COUNT && !bad; f++) {
			bad = check_paths_stride(m, s[0], s[1], (enum fill)f, spads[p], &n);
			if (bad)
				fprintf(stderr, "  %s %zu (%dx%dx%d, %dx%d/%d pad %d), extremes %d, "
					"fill %d, row padding %d: %d path(s) differ\n", what, i, s[0],
					s[1], s[2], s[3], s[4], s[5], s[6], ext, f, spads[p], bad);
			else if (n < 1)
				bad = -1;
		}
	qnn_model_free(m);
	return bad;
}

/* Depthwise conv (groups == cin == cout) on the AVX2 kernel, against
 * scalar: channel counts below, at and past 16 and 32 (tails), kernels
 * 1x1 to 7x3, strides 1 to 3, padding, relu on and off, float_out, input
 * and output zero points 0 and 255, extreme requantizations (both shift
 * signs, wrapping bias and left shift), on random, constant and 0/255
 * inputs with a padded row stride. Then the 3x3 kernel's split of each
 * output row into border pixels (every tap checked) and interior ones
 * (loads unchecked, two pixels at a time, rows outside the input by zero
 * weights): widths 1 to 5 and 17 (no interior, an odd one out, pairs),
 * heights 1 to 3, strides 1 and 2 on odd and even sizes, pads 0 to 2,
 * 8 to 100 channels (tails whose 16-byte loads run past the pixel), on
 * rows exactly w*c long in a buffer that ends with the tensor (only the
 * last pixels' loads may need the checks) and on longer rows. */
TEST(dwconv_identical)
{
	static const int sh[][11] = {/* h, w, c, kh, kw, stride, pad, relu, float_out, z_in, z_out */
				     {9, 11, 3, 3, 3, 1, 1, 1, 0, 0, 0},
				     {12, 10, 17, 3, 3, 2, 1, 0, 0, 255, 128},
				     {7, 7, 33, 5, 5, 1, 2, 1, 0, 128, 255},
				     {8, 9, 16, 3, 3, 2, 0, 0, 0, 77, 0},
				     {6, 5, 40, 1, 1, 1, 0, 0, 0, 255, 3},
				     {10, 7, 24, 3, 1, 1, 0, 1, 0, 200, 13},
				     {9, 9, 21, 2, 2, 2, 1, 0, 0, 3, 250},
				     {5, 6, 13, 3, 3, 1, 1, 0, 1, 250, 0},
				     {11, 9, 35, 3, 3, 2, 1, 1, 1, 0, 0},
				     {3, 3, 64, 3, 3, 1, 0, 0, 0, 1, 129},
				     {1, 1, 9, 3, 3, 1, 1, 1, 0, 0, 1},
				     {11, 3, 48, 7, 3, 3, 2, 0, 0, 128, 0},
				     {2, 40, 31, 4, 4, 1, 3, 1, 0, 255, 255},
				     {13, 17, 7, 3, 3, 2, 1, 0, 0, 64, 192}};
	static const int sh3[][11] = {/* 3x3 shapes of the detector's blocks, any size */
				      {6, 6, 96, 3, 3, 1, 1, 1, 0, 0, 5},
				      {6, 6, 96, 3, 3, 2, 1, 0, 0, 128, 128},
				      {13, 17, 100, 3, 3, 2, 1, 1, 0, 255, 0},
				      {15, 21, 24, 3, 3, 2, 0, 0, 0, 30, 140},
				      {12, 20, 32, 3, 3, 1, 2, 1, 0, 90, 7},
				      {11, 23, 96, 3, 3, 2, 2, 0, 1, 13, 0},
				      {9, 14, 40, 3, 3, 1, 1, 0, 1, 200, 0},
				      {20, 16, 128, 3, 3, 1, 1, 1, 0, 66, 66}};
	static const int ws[] = {1, 2, 3, 4, 5, 17}, cs[] = {8, 16, 24, 96, 100};
	static const int zs[] = {0, 255, 128, 77}, spads[] = {0, 7, 61};
	size_t i = 0;

	if (!qnn_path_supported(QNN_PATH_AVX2))
		SKIP("CPU has no AVX2: the depthwise kernel is not tested against scalar");
	for (i = 0; i < sizeof(sh) / sizeof(sh[0]); i++)
		for (int ext = 0; ext < 2; ext++)
			if (dw_check(sh[i], ext, spads + 1, 1, "depthwise shape", i))
				UNIT_FAILF("depthwise shape %zu, extremes %d differs", i, ext);
	for (i = 0; i < sizeof(sh3) / sizeof(sh3[0]); i++)
		for (int ext = 0; ext < 2; ext++)
			if (dw_check(sh3[i], ext, spads, 3, "3x3 shape", i))
				UNIT_FAILF("3x3 shape %zu, extremes %d differs", i, ext);
	i = 0;
	for (size_t wi = 0; wi < sizeof(ws) / sizeof(ws[0]); wi++)
		for (int h = 1; h <= 3; h++)
			for (int st = 1; st <= 2; st++)
				for (size_t ci = 0; ci < sizeof(cs) / sizeof(cs[0]); ci++, i++) {
					/* pad 1 mostly; 0 and 2 where the output is not empty */
					int pad = i % 4 == 1 ? 0 : i % 4 == 3 ? 2 : 1;
					if (h + 2 * pad < 3 || ws[wi] + 2 * pad < 3)
						pad = 1;
					const int s[11] = {h, ws[wi], cs[ci], 3, 3, st, pad, (int)(i % 2),
							   i % 7 == 3, zs[i % 4], zs[(i / 4) % 4]};
					if (dw_check(s, (int)(i / 2 % 2), spads, 3, "3x3 split", i))
						UNIT_FAILF("3x3 split case %zu differs", i);
				}
}

/* Global average pool on the AVX2 kernel, against scalar: 1 to 17M pixels
 * (the kernel's uint16 partial sums flushed every 256 pixels; above 2^31 /
 * 255 pixels a 32-bit sum of q - z would overflow), ties of the rounding
 * (even pixel counts, both signs), channel tails, zero points 0, 255 and
 * between, the input read with a padded row stride and after a layer. */
TEST(gap_identical)
{
	static const int sh[][4] = {/* h, w, c, z */
				    {1, 1, 5, 0},      {1, 2, 37, 255},  {2, 2, 37, 128},
				    {3, 5, 16, 1},     {2, 1, 3, 254},   {4, 2, 70, 127},
				    {16, 16, 17, 0},   {1, 257, 33, 255}, {23, 23, 19, 128},
				    {700, 731, 3, 77}, {4100, 4100, 1, 0}};
	if (!qnn_path_supported(QNN_PATH_AVX2))
		SKIP("CPU has no AVX2: the GAP kernel is not tested against scalar");
	for (size_t i = 0; i < sizeof(sh) / sizeof(sh[0]); i++) {
		const int big = (int64_t)sh[i][0] * sh[i][1] > 1000000;
		for (int after = 0; after < (big ? 1 : 2); after++) {
			struct qnn_model *m = rm_new(sh[i][2]);
			int n, t = 0;
			ASSERT(m);
			m->tensors[0].zero_point = sh[i][3];
			if (after) { /* a dense internal tensor, zero point 255 - z */
				t = rm_conv(m, 0, sh[i][2], 3, 3, 1, 1, 1, 0, 0, 60);
				m->tensors[t].zero_point = 255 - sh[i][3];
			}
			rm_pool(m, t, QNN_GAP, 0, 0, 0);
			for (int f = 0; f < FILL_COUNT; f++) {
				int bad = check_paths_fill(m, sh[i][0], sh[i][1], (enum fill)f, &n);
				if (bad) {
					qnn_model_free(m);
					UNIT_FAILF("gap shape %zu, after %d, fill %d: "
						   "%d path(s) differ", i, after, f, bad);
				}
				ASSERT(n >= 1);
			}
			qnn_model_free(m);
		}
	}
}

/* Residual add on the AVX2 kernel, against scalar: the network input (a
 * padded row stride: rows done apart) plus a depthwise conv's output, then
 * two dense tensors (one run), with different zero points and scales,
 * relu on and off, multipliers 0, 2^30 and INT32_MAX, shifts -31 to 30
 * (the validator's range: the sums wrap, see qnn.h) and random ones,
 * output zero points 0, 255 and between, odd row lengths. */
TEST(add_identical)
{
	/* h, w, c, z_a, z_b, z_out, relu, mult0, shift0, mult1, shift1 (mult -1: random) */
	static const int sh[][11] = {
		{5, 7, 5, 0, 255, 128, 0, 1 << 30, 1, 1 << 30, 1},
		{6, 9, 3, 255, 0, 0, 1, INT32_MAX, 22, 1 << 30, -31},
		{4, 4, 16, 128, 3, 255, 0, 0, 0, INT32_MAX, -1},
		{7, 3, 33, 17, 240, 10, 1, 1 << 30, -31, 0, 0},
		{9, 11, 19, 200, 100, 77, 0, -1, 0, -1, 0},
		{3, 5, 32, 1, 254, 128, 1, -1, 0, -1, 0},
		{1, 1, 7, 255, 255, 255, 1, INT32_MAX, 0, INT32_MAX, 0},
		{5, 6, 9, 255, 0, 0, 0, INT32_MAX, 30, INT32_MAX, 30},
		{3, 7, 21, 0, 255, 255, 1, 1 << 30, 30, INT32_MAX, 29},
		{13, 2, 1, 0, 0, 0, 0, -1, 0, -1, 0}};
	if (!qnn_path_supported(QNN_PATH_AVX2))
		SKIP("CPU has no AVX2: the add kernel is not tested against scalar");
	for (size_t i = 0; i < sizeof(sh) / sizeof(sh[0]); i++) {
		const int *s = sh[i];
		struct qnn_model *m = rm_new(s[2]);
		struct emo_err err;
		int n, b, a1, a2;
		ASSERT(m);
		m->tensors[0].zero_point = s[3];
		b = rm_conv(m, 0, s[2], 3, 3, 1, 1, 1, 0, 0, 60);
		m->tensors[b].zero_point = s[4];
		a1 = rm_add(m, 0, b, s[6]);
		a2 = rm_add(m, b, a1, !s[6]);
		m->tensors[a1].zero_point = s[5];
		m->tensors[a2].zero_point = 255 - s[5];
		for (int j = 1; j <= 2; j++) {
			struct qnn_layer *l = &m->layers[j];
			for (int k = 0; k < 2; k++) {
				const int kk = j == 1 ? k : 1 - k; /* the second add swaps them */
				if (s[7 + 2 * kk] >= 0) { /* else random: M from 2^-20 to 2^20 */
					l->add_mult[k] = s[7 + 2 * kk];
					l->add_shift[k] = s[8 + 2 * kk];
				} else {
					const double mr = exp2((rnd_unit() - 0.5) * 40);
					int32_t *am = &l->add_mult[k], *as = &l->add_shift[k];
					qnn_quantize_multiplier(mr, am, as);
				}
			}
		}
		ASSERT_EQ(qnn_model_validate(m, &err), EMO_OK);
		for (int f = 0; f < FILL_COUNT; f++) {
			int bad = check_paths_fill(m, s[0], s[1], (enum fill)f, &n);
			if (bad) {
				qnn_model_free(m);
				UNIT_FAILF("add case %zu, fill %d: %d path(s) differ", i, f, bad);
			}
			ASSERT(n >= 1);
		}
		qnn_model_free(m);
	}
}

/* Depthwise convs, adds and a GAP in one network (every internal tensor
 * dense), with extreme requantizations, at several sizes. */
TEST(dw_add_gap_network_identical)
{
	if (!qnn_path_supported(QNN_PATH_AVX2))
		SKIP("CPU has no AVX2: depthwise, add and GAP kernels not tested against scalar");
	for (int r = 0; r < 4; r++) {
		struct qnn_model *m = rm_new(3);
		struct emo_err err;
		int n;
		ASSERT(m);
		m->tensors[0].zero_point = r * 85;
		int a = rm_conv(m, 0, 19 + 8 * r, 3, 3, 2, 1, 0, 1, 0, 40);
		int b = rm_conv(m, a, 0, 3, 3, 1, 1, 1, r & 1, 0, 40);
		conv_extremes(&m->layers[m->n_layers - 1]);
		int d = rm_add(m, a, b, 1);
		int e = rm_conv(m, d, 0, 5, 5, 2, 2, 1, 0, 0, 40);
		int g = rm_pool(m, e, QNN_GAP, 0, 0, 0);
		rm_conv(m, g, 7, 1, 1, 1, 0, 0, 0, 1, 40);
		rm_conv(m, e, 0, 3, 3, 1, 0, 1, 0, 1, 40); /* depthwise float_out */
		ASSERT_EQ(qnn_model_validate(m, &err), EMO_OK);
		int bad = check_paths(m, 11 + 9 * r, 17 + 5 * r, &n);
		qnn_model_free(m);
		if (bad)
			UNIT_FAILF("network %d: %d path(s) differ", r, bad);
		ASSERT(n >= 1);
	}
}

/* The float path of the same network and the int8 path agree within the
 * stated bounds; a smaller input than the context's maximum works. */
TEST(float_vs_int8)
{
	struct qnn_model *m;
	uint64_t seed = getenv("QNN_TEST_SEED") ? strtoull(getenv("QNN_TEST_SEED"), NULL, 0) : 0x9e3779b97f4a7c15ull;
	rnd_state = seed; /* the same network whatever ran before */
	m = rm_classifier(2);
	uint8_t in[48 * 48];
	int nl = 0;
	double worst = 0, worst_hidden = 0;

	ASSERT(m);
	for (int p = QNN_PATH_SCALAR; p <= QNN_PATH_AVX512VNNI; p++) {
		if (!qnn_path_supported((enum qnn_path)p))
			continue;
		struct qnn_ctx *x = qnn_ctx_new(m, 48, 48, (enum qnn_path)p, NULL);
		ASSERT(x);
		for (int r = 0; r < 4; r++) {
			float lq[7], lf[7];
			const float *f;
			const uint8_t *q;
			/* smooth random image: hidden activations are not noise */
			for (int y = 0; y < 48; y++)
				for (int xx = 0; xx < 48; xx++)
					in[y * 48 + xx] = (uint8_t)(128 + 100 * sin(0.1 * (r + 1) * xx + 0.07 * y * (r + 2)));
			int out = m->n_tensors - 1, hid = 3;
			ASSERT_EQ(qnn_run(x, in, 48, 48, 48), EMO_OK);
			ASSERT_EQ(qnn_tensor_get(x, out, NULL, NULL, NULL, &q, &f), EMO_OK);
			ASSERT(f && !q);
			memcpy(lq, f, sizeof(lq));
			int h, w, c;
			ASSERT_EQ(qnn_tensor_get(x, hid, &h, &w, &c, &q, NULL), EMO_OK);
			uint8_t *hq = malloc((size_t)h * w * c);
			ASSERT(hq);
			memcpy(hq, q, (size_t)h * w * c);
			ASSERT_EQ(qnn_run_float(x, in, 48, 48, 48), EMO_OK);
			ASSERT_EQ(qnn_tensor_get(x, out, NULL, NULL, NULL, &q, &f), EMO_OK);
			memcpy(lf, f, sizeof(lf));
			ASSERT_EQ(qnn_tensor_get(x, hid, NULL, NULL, NULL, &q, NULL), EMO_OK);
			double dh = 0;
			for (int k = 0; k < h * w * c; k++)
				dh += abs(q[k] - hq[k]);
			dh /= h * w * c;
			free(hq);
			double mean = 0, var = 0, d = 0;
			for (int k = 0; k < 7; k++)
				mean += lf[k] / 7;
			for (int k = 0; k < 7; k++) {
				var += (lf[k] - mean) * (lf[k] - mean) / 7;
				d = fmax(d, fabs(lf[k] - lq[k]));
			}
			ASSERT(var > 0);
			double rel = d / sqrt(var);
			worst = fmax(worst, rel);
			worst_hidden = fmax(worst_hidden, dh);
			nl++;
		}
		qnn_ctx_free(x);
	}
	qnn_model_free(m);
	fprintf(stderr, "  worst logit diff %.3f std, hidden %.3f LSB over %d runs\n", worst,
		worst_hidden, nl);
	ASSERT(worst <= QNN_TOL_LOGIT_REL);
	ASSERT(worst_hidden <= QNN_TOL_HIDDEN_LSB);
}

/* A context made for a bigger input runs a smaller one exactly like a
 * context made for that size. */
TEST(smaller_than_max)
{
	struct qnn_model *m = rm_classifier(2);
	uint8_t in[64 * 64];
	const float *fa, *fb;
	int h, w;

	ASSERT(m);
	rnd_fill(in, sizeof(in));
	struct qnn_ctx *a = qnn_ctx_new(m, 64, 64, QNN_PATH_AUTO, NULL);
	struct qnn_ctx *b = qnn_ctx_new(m, 48, 48, QNN_PATH_AUTO, NULL);
	ASSERT(a && b);
	ASSERT_EQ(qnn_run(a, in, 64, 64, 64), EMO_OK);
	ASSERT_EQ(qnn_tensor_get(a, m->n_tensors - 1, &h, &w, NULL, NULL, &fa), EMO_OK);
	ASSERT(h == 2 && w == 2);
	ASSERT_EQ(qnn_run(a, in, 48, 48, 64), EMO_OK);
	ASSERT_EQ(qnn_run(b, in, 48, 48, 64), EMO_OK);
	ASSERT_EQ(qnn_tensor_get(a, m->n_tensors - 1, &h, &w, NULL, NULL, &fa), EMO_OK);
	ASSERT(h == 1 && w == 1);
	ASSERT_EQ(qnn_tensor_get(b, m->n_tensors - 1, NULL, NULL, NULL, NULL, &fb), EMO_OK);
	ASSERT(!memcmp(fa, fb, 7 * sizeof(float)));
	ASSERT_EQ(qnn_run_float(a, in, 48, 48, 64), EMO_OK);
	ASSERT_EQ(qnn_run_float(b, in, 48, 48, 64), EMO_OK);
	ASSERT_EQ(qnn_tensor_get(a, m->n_tensors - 1, NULL, NULL, NULL, NULL, &fa), EMO_OK);
	ASSERT_EQ(qnn_tensor_get(b, m->n_tensors - 1, NULL, NULL, NULL, NULL, &fb), EMO_OK);
	for (int k = 0; k < 7; k++)
		ASSERT_NEAR(fa[k], fb[k], 1e-4 * (1 + fabs(fb[k])));
	qnn_ctx_free(a);
	qnn_ctx_free(b);
	qnn_model_free(m);
}

TEST(bad_input)
{
	struct qnn_model *m = rm_classifier(1);
	struct emo_err err;
	uint8_t in[48 * 48] = {0};

	ASSERT(m);
	ASSERT(!qnn_ctx_new(NULL, 48, 48, QNN_PATH_AUTO, &err));
	ASSERT(!qnn_ctx_new(m, 0, 48, QNN_PATH_AUTO, &err));
	/* too small for the FC window after 4 pools */
	ASSERT(!qnn_ctx_new(m, 16, 16, QNN_PATH_AUTO, &err));
	ASSERT(strstr(err.msg, "too small"));
	ASSERT(!qnn_ctx_new(m, 48, 48, (enum qnn_path)9, &err));
	struct qnn_ctx *x = qnn_ctx_new(m, 48, 48, QNN_PATH_AUTO, &err);
	ASSERT(x);
	ASSERT_EQ(qnn_tensor_get(x, 1, NULL, NULL, NULL, NULL, NULL), EMO_EINVAL); /* before run */
	ASSERT_EQ(qnn_run(x, in, 49, 48, 48), EMO_EINVAL);
	ASSERT_EQ(qnn_run(x, in, 48, 48, 47), EMO_EINVAL);
	ASSERT_EQ(qnn_run(x, NULL, 48, 48, 48), EMO_EINVAL);
	ASSERT_EQ(qnn_run(x, in, 20, 20, 48), EMO_EINVAL); /* window does not fit */
	ASSERT_EQ(qnn_run(x, in, 48, 48, 48), EMO_OK);
	ASSERT_EQ(qnn_tensor_get(x, -1, NULL, NULL, NULL, NULL, NULL), EMO_EINVAL);
	ASSERT_EQ(qnn_tensor_get(x, m->n_tensors, NULL, NULL, NULL, NULL, NULL), EMO_EINVAL);
	qnn_ctx_free(x);
	qnn_ctx_free(NULL);
	/* an invalid model is refused */
	m->layers[0].cin = 2;
	ASSERT(!qnn_ctx_new(m, 48, 48, QNN_PATH_AUTO, &err));
	ASSERT(strstr(err.msg, "cin"));
	qnn_model_free(m);
}

/* Run m on path in a 64x64 context: a good size, a size too small for some
 * layer twice (input buffers exactly that big, so that a read past them is
 * an ASan error), then a good size, compared with a scalar context made for
 * it, and again after two more refused runs. 0 when all is as expected. */
static int refused_then_good(const struct qnn_model *m, enum qnn_path path, int bh, int bw)
{
	const int c = m->tensors[0].c, gh = 17, gw = 13, last = m->n_tensors - 1;
	uint8_t *bad = malloc((size_t)bh * bw * c), *good = malloc((size_t)gh * gw * c);
	uint8_t *first = malloc((size_t)64 * 64 * c);
	struct emo_err err;
	struct qnn_ctx *x = qnn_ctx_new(m, 64, 64, path, &err);
	struct qnn_ctx *ref = qnn_ctx_new(m, gh, gw, QNN_PATH_SCALAR, &err);
	int rc = 1, h, w, where = 0;

	if (!bad || !good || !first || !x || !ref)
		goto out;
	rnd_fill(bad, (size_t)bh * bw * c);
	rnd_fill(good, (size_t)gh * gw * c);
	rnd_fill(first, (size_t)64 * 64 * c);
	if (qnn_run(x, first, 64, 64, 64 * c) || qnn_run(ref, good, gh, gw, gw * c))
		goto out;
	for (int round = 0; round < 2; round++) {
		if (qnn_tensor_get(x, last, &h, &w, NULL, NULL, NULL))
			goto out;
		for (int k = 0; k < 2; k++)
			if (qnn_run(x, bad, bh, bw, bw * c) != EMO_EINVAL) {
				fprintf(stderr, "  %s: %dx%d run %d not refused\n", qnn_path_name(path), bh,
					bw, k + 1);
				goto out;
			}
		if (qnn_run_float(x, bad, bh, bw, bw * c) != EMO_EINVAL)
			goto out;
		/* the last good run's shapes are still reported */
		int h2, w2;
		if (qnn_tensor_get(x, last, &h2, &w2, NULL, NULL, NULL) || h2 != h || w2 != w) {
			fprintf(stderr, "  %s: shapes changed by a refused run\n", qnn_path_name(path));
			goto out;
		}
		if (qnn_run(x, good, gh, gw, gw * c) || ctx_diff(ref, x, m->n_tensors, &where)) {
			fprintf(stderr, "  %s: %dx%d after a refused %dx%d differs at tensor %d\n",
				qnn_path_name(path), gh, gw, bh, bw, where);
			goto out;
		}
	}
	rc = 0;
out:
	qnn_ctx_free(x);
	qnn_ctx_free(ref);
	free(bad);
	free(good);
	free(first);
	return rc;
}

/* A run refused because its input is too small for a layer changes no
 * shape: the same size again is refused again (the shapes of the refused
 * run's first layers were kept, so the second call skipped the check and
 * ran every layer on mixed shapes, reading the caller's 2x2 input in place
 * as if 62x62 on VNNI), and a good size after it is computed right. */
TEST(refused_run_keeps_shapes)
{
	static const enum qnn_path paths[] = {QNN_PATH_SCALAR, QNN_PATH_AVX2, QNN_PATH_AVX512VNNI};
	struct qnn_model *one = rm_new(4), *three = rm_new(4);
	int t;

	ASSERT(one && three);
	/* the reviewer's case: one 3x3 conv, pad 0, 4 channels (read in
	 * place on VNNI) */
	rm_conv(one, 0, 16, 3, 3, 1, 0, 0, 1, 0, 40);
	/* conv (fused with its pool on the SIMD paths), pool, conv: 6x6 fits
	 * the first two layers, not the last */
	t = rm_conv(three, 0, 16, 3, 3, 1, 0, 0, 1, 0, 40);
	t = rm_pool(three, t, QNN_MAXPOOL, 2, 2, 0);
	rm_conv(three, t, 8, 3, 3, 1, 0, 0, 0, 1, 40);
	for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
		if (!qnn_path_supported(paths[p]))
			continue;
		ASSERT_EQ(refused_then_good(one, paths[p], 2, 2), 0);
		ASSERT_EQ(refused_then_good(one, paths[p], 2, 40), 0);
		ASSERT_EQ(refused_then_good(three, paths[p], 6, 6), 0);
		ASSERT_EQ(refused_then_good(three, paths[p], 2, 2), 0);
	}
	qnn_model_free(one);
	qnn_model_free(three);
}

/* Hostile shapes are refused before anything is allocated, with no int
 * overflow on the way: a chain of upsampling layers (2 * h overflowed),
 * a tensor of exactly 2^31 elements (accepted before), an input of 65536
 * channels (its size was never checked; w * c overflowed int). */
TEST(huge_tensors_refused)
{
	struct qnn_model *up = rm_new(1), *wide = rm_new(2), *deep = rm_new(65536);
	struct emo_err err;
	struct qnn_ctx *x;
	int t = 0;

	ASSERT(up && wide && deep);
	for (int i = 0; i < 40; i++)
		t = rm_pool(up, t, QNN_UPSAMPLE2, 0, 0, 0);
	ASSERT(!qnn_ctx_new(up, 64, 64, QNN_PATH_SCALAR, &err));
	ASSERT(strstr(err.msg, "layer 9: output"));
	ASSERT(!qnn_ctx_new(up, 32768, 32768, QNN_PATH_AUTO, &err));
	ASSERT(strstr(err.msg, "layer 0: output"));
	ASSERT_EQ(qnn_macs(up, 32768, 32768), 0);

	/* 32768 x 32768 x 2 = 2^31 elements */
	rm_conv(wide, 0, 2, 1, 1, 1, 0, 0, 1, 0, 40);
	ASSERT(!qnn_ctx_new(wide, 32768, 32768, QNN_PATH_AUTO, &err));
	ASSERT(strstr(err.msg, "above"));

	/* 65536 channels in: 16384 pixels is the limit */
	rm_pool(deep, 0, QNN_GAP, 0, 0, 0);
	ASSERT(!qnn_ctx_new(deep, 32768, 32768, QNN_PATH_AUTO, &err));
	ASSERT(strstr(err.msg, "input 32768x32768x65536"));
	ASSERT(!qnn_ctx_new(deep, 2, 16384, QNN_PATH_AUTO, &err));
	x = qnn_ctx_new(deep, 1, 16384, QNN_PATH_AUTO, &err);
	ASSERT(x);
	{
		uint8_t *in = malloc(2 * 65536);
		const uint8_t *q;
		int c;
		ASSERT(in);
		for (int k = 0; k < 2 * 65536; k++)
			in[k] = (uint8_t)(k % 65536 % 251);
		ASSERT_EQ(qnn_run(x, in, 1, 2, 2 * 65536), EMO_OK);
		ASSERT_EQ(qnn_tensor_get(x, 1, NULL, NULL, &c, &q, NULL), EMO_OK);
		ASSERT_EQ(c, 65536);
		ASSERT_EQ(q[65535], 65535 % 251);
		free(in);
	}
	qnn_ctx_free(x);
	qnn_model_free(up);
	qnn_model_free(wide);
	qnn_model_free(deep);
}

TEST(profile_and_env)
{
	struct qnn_model *m = rm_classifier(1);
	uint64_t ns[QNN_MAX_LAYERS] = {0}, sum = 0;
	uint8_t in[48 * 48] = {0};

	ASSERT(m);
	struct qnn_ctx *x = qnn_ctx_new(m, 48, 48, QNN_PATH_AUTO, NULL);
	ASSERT(x);
	qnn_ctx_profile(x, ns);
	ASSERT_EQ(qnn_run(x, in, 48, 48, 48), EMO_OK);
	for (int i = 0; i < m->n_layers; i++)
		sum += ns[i];
	ASSERT(sum > 0);
	qnn_ctx_free(x);
	qnn_model_free(m);
	setenv("EMOTOP_QNN_PATH", "scalar", 1);
	ASSERT_EQ(qnn_best_path(), QNN_PATH_SCALAR);
	unsetenv("EMOTOP_QNN_PATH");
	ASSERT(qnn_best_path() >= QNN_PATH_SCALAR);
	ASSERT_STR(qnn_path_name(QNN_PATH_AVX512VNNI), "avx512-vnni");
}

/* The float path's uint8 views of a non-finite result (a huge finite
 * weight scale, as a fuzzed model may carry, overflows to +-inf, and inf -
 * inf is NaN): NaN becomes the tensor's zero point (real 0), +inf 255 and
 * -inf 0, never an undefined float-to-integer conversion (UBSan). */
TEST(float_path_non_finite)
{
	struct qnn_model *m = rm_new(1);
	struct qnn_ctx *x;
	uint8_t in[4 * 4];
	const uint8_t *q;
	int t, h, w, c;

	ASSERT(m);
	t = rm_conv(m, 0, 4, 1, 1, 1, 0, 0, 0, 0, 40);
	m->tensors[t].zero_point = 77;
	for (int k = 0; k < 4; k++) {
		m->layers[0].w[k] = k == 2 ? -100 : 100;
		m->layers[0].bias[k] = k == 0 ? -1000 : 0;
		m->layers[0].w_scale[k] = k == 3 ? 0.001f : 3e38f;
	}
	memset(in, 200, sizeof(in));
	x = qnn_ctx_new(m, 4, 4, QNN_PATH_SCALAR, NULL);
	ASSERT(x);
	ASSERT_EQ(qnn_run_float(x, in, 4, 4, 4), EMO_OK);
	ASSERT_EQ(qnn_tensor_get(x, t, &h, &w, &c, &q, NULL), EMO_OK);
	ASSERT(q != NULL);
	for (int k = 0; k < h * w; k++) {
		ASSERT_EQ(q[k * c + 0], 77);
		ASSERT_EQ(q[k * c + 1], 255);
		ASSERT_EQ(q[k * c + 2], 0);
	}
	qnn_ctx_free(x);
	qnn_model_free(m);
}

int main(int argc, char **argv)
{
	unit_init(argc, argv);
	RUN(paths_avx2_available);
	RUN(paths_vnni_available);
	RUN(quantize_multiplier);
	RUN(requantize_golden);
	RUN(requantize_close_to_real);
	RUN(conv_golden);
	RUN(pool_gap_add_golden);
	RUN(conv_shapes_identical);
	RUN(maxpool_shapes_identical);
	RUN(conv_pool_fusion);
	RUN(requant_shifts_identical);
	RUN(conv_pool_gray8_in_place);
	RUN(random_networks_identical);
	RUN(full_classifier_identical);
	RUN(dwconv_identical);
	RUN(gap_identical);
	RUN(add_identical);
	RUN(dw_add_gap_network_identical);
	RUN(float_vs_int8);
	RUN(smaller_than_max);
	RUN(bad_input);
	RUN(refused_run_keeps_shapes);
	RUN(huge_tensors_refused);
	RUN(profile_and_env);
	RUN(float_path_non_finite);
	return unit_done();
}
