/* qnn.c - the int8 graph executor: context (arena, packed weights) built
 * once per model and input size, then qnn_run() allocates nothing.
 *
 * A dense conv on the SIMD paths runs in two steps: the input is copied
 * into a prepared buffer (spatial border = input zero point, channels
 * zero-padded to a multiple of 4; im2col when cin < 4) and a packed kernel
 * computes sum(q_in * w) + (bias - z_in * sum(w)), which equals the
 * reference bias + sum((q_in - z_in) * w) modulo 2^32. Depthwise conv, GAP
 * and ADD run AVX2 kernels on both SIMD paths (every AVX-512 VNNI CPU has
 * AVX2; a depthwise conv reads its input in place); UPSAMPLE2 (a copy) uses
 * the scalar reference on every path.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emotop/cpu.h"
#include "emotop/qnn.h"
#include "qnn_kern.h"

#define QNN_ALIGN 64
/* im2col layers are prepared and run in bands of output rows of about this
 * many bytes (at least one row; two for a conv fused with its pool), so the
 * prepared input stays in the L2 cache and the scratch stays small. */
#define QNN_BAND_BYTES 131072

struct qnn_plan {
	int simd;               /* dense conv on a packed SIMD kernel */
	int dw;                 /* depthwise conv on qnn_dwconv_avx2 (k, wpack, ints, fscale) */
	int im2col;
	int row4;               /* one input channel, kw <= 4: im2col rows of
				 * 4 bytes (kw taps, then bytes whose weight is 0) */
	int pool_fuse;          /* VNNI, AVX2: the next layer, a 2x2/2 max pool, is done
				 * by this conv (its own output is not kept) */
	struct qnn_convk k;
	void *wpack;            /* packed weights (aligned) */
	int32_t *ints;          /* bias, mult, lsh, rsh, rmask: 5 x nb*16 */
	float *fscale;          /* nb*16 */
	/* float path (built on first qnn_run_float) */
	struct qnn_fconvk fk;
	float *fw, *fbias;
};

struct qnn_ctx {
	const struct qnn_model *m;
	enum qnn_path path;
	int max_h, max_w;
	int th[QNN_MAX_TENSORS], tw[QNN_MAX_TENSORS];   /* shapes of the last run */
	size_t cap[QNN_MAX_TENSORS];                    /* elements at max size */
	uint8_t *q[QNN_MAX_TENSORS];                    /* uint8 tensors (not 0) */
	float *f[QNN_MAX_TENSORS];                      /* float_out tensors */
	float *ff[QNN_MAX_TENSORS];                     /* float path, all tensors */
	const uint8_t *in;                              /* last input */
	int in_stride;
	int last_float;
	struct qnn_plan *plan;                          /* [n_layers] */
	void *scratch;                                  /* prepared conv input */
	size_t scratch_sz;
	float *fscratch;
	size_t fscratch_sz;
	uint64_t *prof;
	int keep_all;                                   /* no fusion: every tensor kept */
	int float_ready;                                /* float_setup() done */
	uint8_t stale[QNN_MAX_TENSORS];                 /* not written by the last run */
};

static void *qnn_alloc(size_t n)
{
	void *p = NULL;

	if (posix_memalign(&p, QNN_ALIGN, n ? (n + QNN_ALIGN - 1) & ~(size_t)(QNN_ALIGN - 1) : QNN_ALIGN))
		return NULL;
	return p;
}

void qnn_quantize_multiplier(double m, int32_t *mult, int32_t *shift)
{
	int e;
	double f;
	int64_t q;

	if (!(m > 0) || !isfinite(m)) {
		*mult = 0;
		*shift = 0;
		return;
	}
	f = frexp(m, &e); /* m = f * 2^e, f in [0.5, 1) */
	q = (int64_t)llround(f * 2147483648.0);
	if (q == ((int64_t)1 << 31)) {
		q /= 2;
		e++;
	}
	if (e < -31) { /* too small to represent: rounds to 0 */
		*mult = 0;
		*shift = 0;
		return;
	}
	if (e > 30) { /* saturate to the largest representable multiplier */
		q = ((int64_t)1 << 31) - 1;
		e = 30;
	}
	*mult = (int32_t)q;
	*shift = e;
}

int32_t qnn_requantize(int32_t acc, int32_t mult, int32_t shift)
{
	const int ls = shift > 0 ? shift : 0, rs = shift > 0 ? 0 : -shift;
	/* the left shift wraps (as TFLite's x * (1 << left_shift) on hardware) */
	int32_t x = (int32_t)((uint32_t)acc << ls);
	/* gemmlowp SaturatingRoundingDoublingHighMul; mult >= 0 never saturates */
	int64_t ab = (int64_t)x * mult;
	int64_t nudge = ab >= 0 ? (1 << 30) : 1 - (1 << 30);
	int32_t hi = (int32_t)((ab + nudge) / ((int64_t)1 << 31));
	/* gemmlowp RoundingDivideByPOT: round half away from zero */
	int32_t mask = (int32_t)(((uint32_t)1 << rs) - 1);
	int32_t rem = hi & mask, thr = (mask >> 1) + (hi < 0);
	return (hi >> rs) + (rem > thr);
}

const char *qnn_path_name(enum qnn_path path)
{
	switch (path) {
	case QNN_PATH_AUTO: return "auto";
	case QNN_PATH_SCALAR: return "scalar";
	case QNN_PATH_AVX2: return "avx2";
	case QNN_PATH_AVX512VNNI: return "avx512-vnni";
	default: return "unknown";
	}
}

int qnn_path_supported(enum qnn_path path)
{
	struct cpu_info ci;

	cpu_detect(&ci);
	switch (path) {
	case QNN_PATH_AUTO:
	case QNN_PATH_SCALAR: return 1;
	case QNN_PATH_AVX2: return ci.avx2;
	case QNN_PATH_AVX512VNNI: return ci.avx512vnni;
	default: return 0;
	}
}

enum qnn_path qnn_best_path(void)
{
	struct cpu_info ci;
	enum qnn_path p = QNN_PATH_SCALAR, cap = QNN_PATH_AVX512VNNI;
	const char *env = getenv("EMOTOP_QNN_PATH");

	cpu_detect(&ci);
	if (ci.avx2)
		p = QNN_PATH_AVX2;
	if (ci.avx512vnni)
		p = QNN_PATH_AVX512VNNI;
	if (env && !strcmp(env, "scalar"))
		cap = QNN_PATH_SCALAR;
	else if (env && !strcmp(env, "avx2"))
		cap = QNN_PATH_AVX2;
	return p < cap ? p : cap;
}

/* Output size of a window op; 0 when the window does not fit. */
static int out_dim(int n, int k, int s, int p)
{
	return n + 2 * p < k ? 0 : (n + 2 * p - k) / s + 1;
}

/* Shapes of every tensor for an h x w input into th/tw, written only on
 * success (a failed run keeps the last good shapes: qnn_run() compares
 * th[0]/tw[0] to skip this). EMO_EINVAL when a layer does not fit or a
 * tensor would have more than QNN_MAX_ELEMS elements (the message says
 * which). Computed in 64 bits: chains of upsampling layers or wide
 * tensors cannot overflow. */
static int qnn_shapes(const struct qnn_model *m, int h, int w, int *th, int *tw,
		      struct emo_err *err)
{
	int sh[QNN_MAX_TENSORS], sw[QNN_MAX_TENSORS];

	if ((int64_t)h * w * m->tensors[0].c > QNN_MAX_ELEMS)
		return emo_seterr(err, EMO_EINVAL, NULL, 0, 0, "input %dx%dx%d above %d elements", h, w,
				  (int)m->tensors[0].c, QNN_MAX_ELEMS);
	sh[0] = h;
	sw[0] = w;
	for (int i = 0; i < m->n_layers; i++) {
		const struct qnn_layer *l = &m->layers[i];
		const int ih = sh[l->in], iw = sw[l->in];
		int64_t oh = ih, ow = iw;
		switch (l->type) {
		case QNN_CONV:
		case QNN_MAXPOOL:
			oh = out_dim(ih, l->kh, l->stride, l->pad);
			ow = out_dim(iw, l->kw, l->stride, l->pad);
			break;
		case QNN_GAP:
			oh = ow = 1;
			break;
		case QNN_ADD:
			if (sh[l->in2] != ih || sw[l->in2] != iw)
				return emo_seterr(err, EMO_EINVAL, NULL, 0, 0,
						  "layer %d (add): inputs %dx%d and %dx%d differ", i, ih, iw,
						  sh[l->in2], sw[l->in2]);
			break;
		case QNN_UPSAMPLE2:
			oh = 2 * (int64_t)ih;
			ow = 2 * (int64_t)iw;
			break;
		default:
			break;
		}
		if (oh < 1 || ow < 1)
			return emo_seterr(err, EMO_EINVAL, NULL, 0, 0,
					  "layer %d: %dx%d input too small for its window", i, ih, iw);
		/* oh, ow <= 2^31 here (the input had at most 2^30 elements) */
		if (oh * ow * m->tensors[l->out].c > QNN_MAX_ELEMS)
			return emo_seterr(err, EMO_EINVAL, NULL, 0, 0,
					  "layer %d: output %lldx%lldx%d above %d elements", i, (long long)oh,
					  (long long)ow, (int)m->tensors[l->out].c, QNN_MAX_ELEMS);
		sh[l->out] = (int)oh;
		sw[l->out] = (int)ow;
	}
	memcpy(th, sh, (size_t)m->n_tensors * sizeof(*th));
	memcpy(tw, sw, (size_t)m->n_tensors * sizeof(*tw));
	return EMO_OK;
}

static int round_up(int n, int a)
{
	return (n + a - 1) / a * a;
}

/* Zeroed buffers of a SIMD conv plan, owned by pl (freed by qnn_ctx_free,
 * also after a failure here): wbytes of packed weights, the five int32
 * arrays of n16 entries each (bias, mult, lsh, rsh, rmask) and fscale. */
static int plan_alloc(struct qnn_plan *pl, size_t wbytes, size_t n16)
{
	pl->wpack = qnn_alloc(wbytes);
	pl->ints = qnn_alloc(5 * n16 * sizeof(int32_t));
	pl->fscale = qnn_alloc(n16 * sizeof(float));
	if (!pl->wpack || !pl->ints || !pl->fscale)
		return EMO_ENOMEM;
	memset(pl->wpack, 0, wbytes);
	memset(pl->ints, 0, 5 * n16 * sizeof(int32_t));
	memset(pl->fscale, 0, n16 * sizeof(float));
	return EMO_OK;
}

/* The per-channel requantization of layer l into pl's arrays (channels
 * past cout stay 0) and pl->k's pointers to them; bias is the caller's. */
static void plan_requant(struct qnn_plan *pl, const struct qnn_layer *l, float s_in, size_t n16)
{
	struct qnn_convk *k = &pl->k;
	int32_t *bias = pl->ints, *mult = bias + n16, *lsh = mult + n16, *rsh = lsh + n16,
		*rmask = rsh + n16;

	for (int co = 0; co < l->cout; co++) {
		mult[co] = l->mult[co];
		lsh[co] = l->shift[co] > 0 ? l->shift[co] : 0;
		rsh[co] = l->shift[co] > 0 ? 0 : -l->shift[co];
		rmask[co] = (int32_t)(((uint32_t)1 << rsh[co]) - 1);
		pl->fscale[co] = s_in * l->w_scale[co];
	}
	k->w = pl->wpack;
	k->bias = bias;
	k->mult = mult;
	k->lsh = lsh;
	k->rsh = rsh;
	k->rmask = rmask;
	k->fscale = pl->fscale;
}

/* Pack weights and fold the zero point for a dense conv on a SIMD path. */
static int plan_conv(struct qnn_ctx *ctx, const struct qnn_layer *l, struct qnn_plan *pl,
		     int max_ih, int max_iw, int oh, int ow)
{
	const struct qnn_tensor *ti = &ctx->m->tensors[l->in], *to = &ctx->m->tensors[l->out];
	const int vnni = ctx->path == QNN_PATH_AVX512VNNI;
	const int esz = vnni ? 1 : 2;
	struct qnn_convk *k = &pl->k;
	size_t kk, n16, need;
	int K;

	pl->simd = 1;
	pl->im2col = l->cin < 4;
	pl->row4 = l->cin == 1 && l->kw <= 4;
	if (pl->im2col) {
		k->kh = k->kw = k->stride = 1;
		k->c4 = pl->row4 ? 4 * l->kh : round_up(l->kh * l->kw * l->cin, 4);
		/* a band at a time (run_conv, run_conv_pool), not the whole output */
		const size_t row = (size_t)ow * k->c4 * esz, band = 2 * row > QNN_BAND_BYTES ? 2 * row : QNN_BAND_BYTES;
		need = (size_t)oh * row < band ? (size_t)oh * row : band;
		if (pl->row4) {
			/* or, fused with a pool (run_conv_pool), bands of the padded image */
			const size_t ws = ((size_t)max_iw + 2 * l->pad + 3) * esz, pair = 2 * (size_t)l->stride * ws;
			const size_t img = (pair > QNN_BAND_BYTES ? pair : QNN_BAND_BYTES) + (size_t)l->kh * ws;
			need = img > need ? img : need;
		}
	} else {
		k->kh = l->kh;
		k->kw = l->kw;
		k->stride = l->stride;
		k->c4 = round_up(l->cin, 4);
		need = (size_t)(max_ih + 2 * l->pad) * (max_iw + 2 * l->pad) * k->c4 * esz;
	}
	if (need > ctx->scratch_sz)
		ctx->scratch_sz = need;
	k->cout = l->cout;
	k->nb = (l->cout + 15) / 16;
	k->float_out = l->float_out;
	k->zout = to->zero_point;
	k->lo = l->relu ? to->zero_point : 0;
	kk = (size_t)k->kh * k->kw;
	n16 = (size_t)k->nb * 16;
	K = l->kh * l->kw * l->cin; /* natural weights per output channel */

	if (plan_alloc(pl, n16 * kk * k->c4 * esz, n16))
		return EMO_ENOMEM;
	int32_t *bias = pl->ints;
	for (int co = 0; co < l->cout; co++) {
		const int8_t *wc = l->w + (size_t)co * K;
		uint32_t sum = 0;
		int b = co / 16, j = co % 16;
		for (int kidx = 0; kidx < K; kidx++) {
			/* position in the prepared input: tap t, channel ci */
			size_t t, ci;
			if (pl->row4) {
				t = 0;
				ci = (size_t)(kidx / l->kw) * 4 + (size_t)(kidx % l->kw);
			} else if (pl->im2col) {
				t = 0;
				ci = (size_t)kidx;
			} else {
				t = (size_t)kidx / l->cin;
				ci = (size_t)kidx % l->cin;
			}
			sum += (uint32_t)(int32_t)wc[kidx];
			if (vnni) {
				int8_t *wp = pl->wpack;
				wp[(((b * kk + t) * (k->c4 / 4) + ci / 4) * 16 + j) * 4 + ci % 4] = wc[kidx];
			} else {
				int16_t *wp = pl->wpack;
				wp[(((b * kk + t) * (k->c4 / 2) + ci / 2) * 16 + j) * 2 + ci % 2] = wc[kidx];
			}
		}
		bias[co] = (int32_t)((uint32_t)l->bias[co] - (uint32_t)ti->zero_point * sum);
	}
	plan_requant(pl, l, ti->scale, n16);
	return EMO_OK;
}

/* Pair and widen the weights of a depthwise conv for qnn_dwconv_avx2 (the
 * layout in qnn_kern.h), on either SIMD path. */
static int plan_dwconv(struct qnn_ctx *ctx, const struct qnn_layer *l, struct qnn_plan *pl)
{
	const struct qnn_tensor *ti = &ctx->m->tensors[l->in], *to = &ctx->m->tensors[l->out];
	const int kk = l->kh * l->kw, np = (kk + 1) / 2, c = l->cout;
	struct qnn_convk *k = &pl->k;
	size_t n16;

	pl->dw = 1;
	k->kh = l->kh;
	k->kw = l->kw;
	k->stride = l->stride;
	k->pad = l->pad;
	k->c4 = 0;
	k->cout = c;
	k->nb = (c + 15) / 16;
	k->float_out = l->float_out;
	k->zin = ti->zero_point;
	k->zout = to->zero_point;
	k->lo = l->relu ? to->zero_point : 0;
	n16 = (size_t)k->nb * 16;
	if (plan_alloc(pl, n16 * np * 2 * sizeof(int16_t), n16))
		return EMO_ENOMEM;
	int16_t *wp = pl->wpack;
	for (size_t i = 0; i < n16 * np * 2; i++) {
		/* i = ((b * np + p) * 2 + hf) * 16 + e */
		const int e = (int)(i % 16), hf = (int)(i / 16 % 2), p = (int)(i / 32 % np);
		const int co = (int)(i / 32 / np) * 16 + e / 8 * 8 + 4 * hf + e % 8 / 2;
		const int t = 2 * p + e % 2;
		if (co < c && t < kk)
			wp[i] = l->w[(size_t)co * kk + t];
	}
	for (int co = 0; co < c; co++)
		pl->ints[co] = l->bias[co];
	plan_requant(pl, l, ti->scale, n16);
	return EMO_OK;
}

/* Whether conv layer i and the 2x2 / stride 2 max pool after it can run as
 * one VNNI or AVX2 pass: a narrow layer (at most 32 channels, where requantizing
 * every pixel costs more than the MACs: a detector's first layer) whose
 * output nothing else reads, and whose requantization never decreases with
 * the accumulator (multipliers >= 0, no left shift), so that pooling the
 * accumulators equals pooling the requantized values. */
static int can_fuse_pool(const struct qnn_model *m, int i, const struct qnn_plan *pl)
{
	const struct qnn_layer *l = &m->layers[i], *p;

	if (i + 1 >= m->n_layers || !pl->simd || l->type != QNN_CONV || l->groups != 1 || l->float_out ||
	    pl->k.nb > 2) /* wider layers are dominated by MACs: the plain tiles win */
		return 0;
	p = &m->layers[i + 1];
	if (p->type != QNN_MAXPOOL || p->in != l->out || p->kh != 2 || p->kw != 2 || p->stride != 2 ||
	    p->pad != 0)
		return 0;
	for (int c = 0; c < l->cout; c++)
		if (l->mult[c] < 0 || l->shift[c] > 0)
			return 0;
	for (int j = 0; j < m->n_layers; j++)
		if (j != i + 1 && (m->layers[j].in == l->out ||
				   (m->layers[j].type == QNN_ADD && m->layers[j].in2 == l->out)))
			return 0;
	return 1;
}

struct qnn_ctx *qnn_ctx_new(const struct qnn_model *m, int max_h, int max_w,
			    enum qnn_path path, struct emo_err *err)
{
	struct qnn_ctx *ctx;
	int rc;

	if (!m || max_h < 1 || max_w < 1 || max_h > 32768 || max_w > 32768) {
		emo_seterr(err, EMO_EINVAL, NULL, 0, 0, "qnn_ctx_new: bad model or size %dx%d", max_h, max_w);
		return NULL;
	}
	if (qnn_model_validate(m, err))
		return NULL;
	if (path == QNN_PATH_AUTO)
		path = qnn_best_path();
	if (path < QNN_PATH_SCALAR || path > QNN_PATH_AVX512VNNI || !qnn_path_supported(path)) {
		emo_seterr(err, EMO_EUNSUPPORTED, NULL, 0, 0, "kernel path %s not supported by this CPU",
			   qnn_path_name(path));
		return NULL;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		emo_seterr(err, EMO_ENOMEM, NULL, 0, 0, "out of memory");
		return NULL;
	}
	ctx->m = m;
	ctx->path = path;
	ctx->max_h = max_h;
	ctx->max_w = max_w;
	rc = qnn_shapes(m, max_h, max_w, ctx->th, ctx->tw, err);
	if (rc)
		goto fail;
	ctx->plan = calloc((size_t)m->n_layers, sizeof(*ctx->plan));
	if (!ctx->plan)
		goto nomem;
	/* at most QNN_MAX_ELEMS each (qnn_shapes), the input included: sizes
	 * at or below the maximum fit in int everywhere */
	for (int t = 0; t < m->n_tensors; t++)
		ctx->cap[t] = (size_t)ctx->th[t] * ctx->tw[t] * m->tensors[t].c;
	for (int i = 0; i < m->n_layers; i++) {
		const struct qnn_layer *l = &m->layers[i];
		if (l->float_out)
			ctx->f[l->out] = qnn_alloc(ctx->cap[l->out] * sizeof(float));
		else
			ctx->q[l->out] = qnn_alloc(ctx->cap[l->out]);
		if (!ctx->f[l->out] && !ctx->q[l->out])
			goto nomem;
		if (l->type == QNN_CONV && l->groups == 1 && path != QNN_PATH_SCALAR) {
			if (plan_conv(ctx, l, &ctx->plan[i], ctx->th[l->in], ctx->tw[l->in],
				      ctx->th[l->out], ctx->tw[l->out]))
				goto nomem;
		} else if (l->type == QNN_CONV && path != QNN_PATH_SCALAR) {
			if (plan_dwconv(ctx, l, &ctx->plan[i]))
				goto nomem;
		}
	}
	if (path == QNN_PATH_AVX512VNNI || path == QNN_PATH_AVX2)
		for (int i = 0; i < m->n_layers; i++)
			ctx->plan[i].pool_fuse = can_fuse_pool(m, i, &ctx->plan[i]);
	if (ctx->scratch_sz && !(ctx->scratch = qnn_alloc(ctx->scratch_sz)))
		goto nomem;
	return ctx;
nomem:
	emo_seterr(err, EMO_ENOMEM, NULL, 0, 0, "out of memory creating the qnn context");
fail:
	qnn_ctx_free(ctx);
	return NULL;
}

void qnn_ctx_free(struct qnn_ctx *ctx)
{
	if (!ctx)
		return;
	for (int t = 0; t < QNN_MAX_TENSORS; t++) {
		free(ctx->q[t]);
		free(ctx->f[t]);
		free(ctx->ff[t]);
	}
	if (ctx->plan)
		for (int i = 0; i < ctx->m->n_layers; i++) {
			free(ctx->plan[i].wpack);
			free(ctx->plan[i].ints);
			free(ctx->plan[i].fscale);
			free(ctx->plan[i].fw);
			free(ctx->plan[i].fbias);
		}
	free(ctx->plan);
	free(ctx->scratch);
	free(ctx->fscratch);
	free(ctx);
}

enum qnn_path qnn_ctx_path(const struct qnn_ctx *ctx)
{
	return ctx ? ctx->path : QNN_PATH_AUTO;
}

void qnn_ctx_keep_all(struct qnn_ctx *ctx, int on)
{
	if (ctx)
		ctx->keep_all = on != 0;
}

void qnn_ctx_profile(struct qnn_ctx *ctx, uint64_t *ns)
{
	if (ctx)
		ctx->prof = ns;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	/* thread CPU time: other processes' time slices are not counted */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Prepared input of a SIMD conv: bytes (VNNI) or int16 (AVX2). With im2col,
 * only output rows [oy0, oy1) are prepared (row oy0 first in dst); without,
 * the whole padded input. */
static void prepare_input(const struct qnn_layer *l, const struct qnn_plan *pl, int z,
			  const uint8_t *in, int h, int w, int stride, int oy0, int oy1, int ow,
			  void *dst, int esz)
{
	const int c4 = pl->k.c4, cin = l->cin;
	uint8_t *d8 = dst;
	int16_t *d16 = dst;

	if (pl->row4 || (pl->im2col && cin == 1)) {
		/* the first layer of a gray8 network, as bytes or int16, without
		 * library calls per tap: rw pixels per kernel row (4 for row4, the
		 * ones past kw meeting zero weights; else kw), then zeros to c4 */
		const int rw = pl->row4 ? 4 : l->kw;
#define GRAY_IM2COL(T, D)                                                                          \
	do {                                                                                       \
		for (int oy = oy0; oy < oy1; oy++)                                                 \
			for (int ox = 0; ox < ow; ox++) {                                          \
				T *o = (D) + ((size_t)(oy - oy0) * ow + ox) * c4;                   \
				const int iy0 = oy * l->stride - l->pad, ix0 = ox * l->stride - l->pad; \
				const int inner = ix0 >= 0 && ix0 + rw <= w;                       \
				for (int ky = 0; ky < l->kh; ky++) {                               \
					const int iy = iy0 + ky;                                   \
					const uint8_t *row = iy >= 0 && iy < h ? in + (size_t)iy * stride : in; \
					for (int kx = 0; kx < rw; kx++) {                          \
						const int ix = ix0 + kx;                           \
						*o++ = (T)(iy < 0 || iy >= h ? (kx < l->kw ? z : 0) \
							   : inner          ? row[ix]              \
							   : kx >= l->kw    ? 0                    \
							   : ix >= 0 && ix < w ? row[ix] : z);     \
					}                                                          \
				}                                                                  \
				for (int k = l->kh * rw; k < c4; k++)                              \
					*o++ = 0;                                                  \
			}                                                                          \
	} while (0)
		if (esz == 1)
			GRAY_IM2COL(uint8_t, d8);
		else
			GRAY_IM2COL(int16_t, d16);
#undef GRAY_IM2COL
		return;
	}
	if (pl->im2col && esz == 1) {
		/* bytes: runs of cin per tap, zero point outside the input */
		const size_t run = (size_t)cin;
		for (int oy = oy0; oy < oy1; oy++)
			for (int ox = 0; ox < ow; ox++) {
				uint8_t *o = d8 + ((size_t)(oy - oy0) * ow + ox) * c4;
				const int iy0 = oy * l->stride - l->pad, ix0 = ox * l->stride - l->pad;
				for (int ky = 0; ky < l->kh; ky++) {
					const int iy = iy0 + ky;
					if (iy < 0 || iy >= h) {
						memset(o, z, run * l->kw);
						o += run * l->kw;
						continue;
					}
					const uint8_t *row = in + (size_t)iy * stride;
					for (int kx = 0; kx < l->kw; kx++, o += run) {
						const int ix = ix0 + kx;
						if (ix < 0 || ix >= w)
							memset(o, z, run);
						else if (run == 1)
							*o = row[ix];
						else
							memcpy(o, row + (size_t)ix * run, run);
					}
				}
				memset(o, 0, (size_t)(c4 - l->kh * l->kw * cin));
			}
		return;
	}
	if (pl->im2col) {
		size_t o = 0;
		for (int oy = oy0; oy < oy1; oy++)
			for (int ox = 0; ox < ow; ox++) {
				int k = 0;
				for (int ky = 0; ky < l->kh; ky++) {
					int iy = oy * l->stride - l->pad + ky;
					for (int kx = 0; kx < l->kw; kx++) {
						int ix = ox * l->stride - l->pad + kx;
						int ok = iy >= 0 && iy < h && ix >= 0 && ix < w;
						const uint8_t *p = ok ? in + (size_t)iy * stride + (size_t)ix * cin : in;
						for (int ci = 0; ci < cin; ci++, k++) {
							int v = ok ? p[ci] : z;
							if (esz == 1)
								d8[o + k] = (uint8_t)v;
							else
								d16[o + k] = (int16_t)v;
						}
					}
				}
				for (; k < c4; k++) {
					if (esz == 1)
						d8[o + k] = 0;
					else
						d16[o + k] = 0;
				}
				o += (size_t)c4;
			}
		return;
	}
	const int p = l->pad, wp = w + 2 * p, hp = h + 2 * p;
	if (c4 == cin) {
		/* channels already a multiple of 4: whole rows at once (bytes
		 * copied, or widened to int16 in a loop that vectorizes) */
		const size_t px = (size_t)c4, n = (size_t)wp * px;
		for (int y = 0; y < hp; y++) {
			const int iy = y - p;
			const uint8_t *src = iy >= 0 && iy < h ? in + (size_t)iy * stride : NULL;
			if (esz == 1) {
				uint8_t *o = d8 + (size_t)y * n;
				if (!src) {
					memset(o, z, n);
					continue;
				}
				memset(o, z, (size_t)p * px);
				memcpy(o + (size_t)p * px, src, (size_t)w * px);
				memset(o + (size_t)(p + w) * px, z, (size_t)p * px);
			} else {
				int16_t *o = d16 + (size_t)y * n;
				const size_t lo = src ? (size_t)p * px : n, hi = src ? (size_t)(p + w) * px : n;
				for (size_t i = 0; i < lo; i++)
					o[i] = (int16_t)z;
				qnn_widen_avx2(o + lo, src, hi - lo);
				for (size_t i = hi; i < n; i++)
					o[i] = (int16_t)z;
			}
		}
		return;
	}
	for (int y = 0; y < hp; y++) {
		int iy = y - p;
		for (int x = 0; x < wp; x++) {
			int ix = x - p;
			size_t o = ((size_t)y * wp + x) * c4;
			if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
				if (esz == 1) {
					memset(d8 + o, z, (size_t)cin);
					memset(d8 + o + cin, 0, (size_t)(c4 - cin));
				} else {
					for (int ci = 0; ci < c4; ci++)
						d16[o + ci] = (int16_t)(ci < cin ? z : 0);
				}
				continue;
			}
			const uint8_t *s = in + (size_t)iy * stride + (size_t)ix * cin;
			if (esz == 1) {
				memcpy(d8 + o, s, (size_t)cin);
				memset(d8 + o + cin, 0, (size_t)(c4 - cin));
			} else {
				for (int ci = 0; ci < c4; ci++)
					d16[o + ci] = (int16_t)(ci < cin ? s[ci] : 0);
			}
		}
	}
}

static void run_conv(struct qnn_ctx *ctx, int i, const uint8_t *in, int h, int w, int stride,
		     int oh, int ow, void *out)
{
	const struct qnn_model *m = ctx->m;
	const struct qnn_layer *l = &m->layers[i];
	const struct qnn_plan *pl = &ctx->plan[i];

	if (pl->dw) {
		qnn_dwconv_avx2(&pl->k, in, h, w, stride, oh, ow, out);
		return;
	}
	if (!pl->simd) {
		qnn_ref_conv(l, &m->tensors[l->in], &m->tensors[l->out], in, h, w, stride, oh, ow, out);
		return;
	}
	const int z = m->tensors[l->in].zero_point;
	const int vnni = ctx->path == QNN_PATH_AVX512VNNI, esz = vnni ? 1 : 2;
	if (pl->im2col) {
		/* bands of output rows whose im2col rows stay in the L2 cache
		 * (a 1080p frame's first layer would stream 6 MB otherwise) */
		const size_t row = (size_t)ow * pl->k.c4 * esz, osz = l->float_out ? sizeof(float) : 1;
		const int band = row >= QNN_BAND_BYTES ? 1 : (int)(QNN_BAND_BYTES / row);
		for (int oy0 = 0; oy0 < oh; oy0 += band) {
			const int nb = oh - oy0 < band ? oh - oy0 : band;
			void *o = (uint8_t *)out + (size_t)oy0 * ow * l->cout * osz;
			prepare_input(l, pl, z, in, h, w, stride, oy0, oy0 + nb, ow, ctx->scratch, esz);
			if (vnni)
				qnn_conv_vnni(&pl->k, ctx->scratch, ow, nb, ow, o);
			else
				qnn_conv_avx2(&pl->k, ctx->scratch, ow, nb, ow, o);
		}
		return;
	}
	const int wp = w + 2 * l->pad;
	if (vnni) {
		const uint8_t *src = ctx->scratch;
		if (l->pad == 0 && l->cin == pl->k.c4 && stride == w * l->cin)
			src = in; /* already in the kernel's layout */
		else
			prepare_input(l, pl, z, in, h, w, stride, 0, oh, ow, ctx->scratch, 1);
		qnn_conv_vnni(&pl->k, src, wp, oh, ow, out);
	} else {
		prepare_input(l, pl, z, in, h, w, stride, 0, oh, ow, ctx->scratch, 2);
		qnn_conv_avx2(&pl->k, ctx->scratch, wp, oh, ow, out);
	}
}

/* Conv layer i and the max pool after it in one pass (VNNI, AVX2; see
 * can_fuse_pool), ph x pw pooled pixels into out. */
static void run_conv_pool(struct qnn_ctx *ctx, int i, const uint8_t *in, int h, int w, int stride,
			  int oh, int ow, int ph, int pw, uint8_t *out)
{
	const struct qnn_layer *l = &ctx->m->layers[i];
	const struct qnn_plan *pl = &ctx->plan[i];
	const int z = ctx->m->tensors[l->in].zero_point;

	/* the prepared input is bytes (VNNI) or int16 (AVX2); v counts elements */
	const int vnni = ctx->path == QNN_PATH_AVX512VNNI, esz = vnni ? 1 : 2;
	if (pl->row4) {
		/* a gray8 first layer: bands of the image, padded with the zero
		 * point (and 3 more columns for the 4-pixel reads), read in place
		 * (widened to int16 for AVX2) */
		const int s = l->stride, p = l->pad, ws = w + 2 * p + 3;
		const size_t pair = 2 * (size_t)s * ws * esz;
		const int band = pair >= QNN_BAND_BYTES ? 1 : (int)(QNN_BAND_BYTES / pair);
		const struct qnn_inview v = {(size_t)ws, 1, (size_t)ws, s};
		uint8_t *img = ctx->scratch;
		int16_t *img16 = ctx->scratch;
		for (int py0 = 0; py0 < ph; py0 += band) {
			const int nb = ph - py0 < band ? ph - py0 : band, rows = (2 * nb - 1) * s + l->kh;
			uint8_t *o = out + (size_t)py0 * pw * l->cout;
			for (int r = 0; r < rows; r++) {
				const int iy = 2 * py0 * s - p + r;
				const uint8_t *src = iy >= 0 && iy < h ? in + (size_t)iy * stride : NULL;
				if (vnni) {
					uint8_t *d = img + (size_t)r * ws;
					if (!src) {
						memset(d, z, (size_t)ws);
						continue;
					}
					memset(d, z, (size_t)p);
					memcpy(d + p, src, (size_t)w);
					memset(d + p + w, z, (size_t)(ws - p - w));
				} else {
					int16_t *d = img16 + (size_t)r * ws;
					const int lo = src ? p : ws, hi = src ? p + w : ws;
					for (int x = 0; x < lo; x++)
						d[x] = (int16_t)z;
					qnn_widen_avx2(d + lo, src, (size_t)(hi - lo));
					for (int x = hi; x < ws; x++)
						d[x] = (int16_t)z;
				}
			}
			if (vnni)
				qnn_conv_pool_vnni(&pl->k, img, &v, nb, pw, o);
			else
				qnn_conv_pool_avx2(&pl->k, img16, &v, nb, pw, o);
		}
		return;
	}
	if (pl->im2col) {
		/* bands of pooled rows, two conv rows each, as in run_conv */
		const size_t rows2 = 2 * (size_t)ow * pl->k.c4 * esz;
		const int band = rows2 >= QNN_BAND_BYTES ? 1 : (int)(QNN_BAND_BYTES / rows2);
		const struct qnn_inview v = {(size_t)ow * pl->k.c4, (size_t)pl->k.c4, 4, 1};
		for (int py0 = 0; py0 < ph; py0 += band) {
			const int nb = ph - py0 < band ? ph - py0 : band;
			uint8_t *o = out + (size_t)py0 * pw * l->cout;
			prepare_input(l, pl, z, in, h, w, stride, 2 * py0, 2 * (py0 + nb), ow, ctx->scratch, esz);
			if (vnni)
				qnn_conv_pool_vnni(&pl->k, ctx->scratch, &v, nb, pw, o);
			else
				qnn_conv_pool_avx2(&pl->k, ctx->scratch, &v, nb, pw, o);
		}
		return;
	}
	const void *src = ctx->scratch;
	const int wp = w + 2 * l->pad;
	const struct qnn_inview v = {(size_t)wp * pl->k.c4, (size_t)pl->k.c4, 4, pl->k.stride};
	if (vnni && l->pad == 0 && l->cin == pl->k.c4 && stride == w * l->cin)
		src = in;
	else
		prepare_input(l, pl, z, in, h, w, stride, 0, oh, ow, ctx->scratch, esz);
	if (vnni)
		qnn_conv_pool_vnni(&pl->k, src, &v, ph, pw, out);
	else
		qnn_conv_pool_avx2(&pl->k, src, &v, ph, pw, out);
}

int qnn_run(struct qnn_ctx *ctx, const uint8_t *in, int h, int w, int stride)
{
	const struct qnn_model *m;

	if (!ctx || !in || h < 1 || w < 1 || h > ctx->max_h || w > ctx->max_w)
		return EMO_EINVAL;
	m = ctx->m;
	if (stride < w * m->tensors[0].c)
		return EMO_EINVAL;
	/* th/tw hold the shapes of the last good run (qnn_shapes() writes
	 * them only on success), so equal input sizes need no recomputation */
	if (h != ctx->th[0] || w != ctx->tw[0])
		if (qnn_shapes(m, h, w, ctx->th, ctx->tw, NULL))
			return EMO_EINVAL;
	ctx->in = in;
	ctx->in_stride = stride;
	ctx->last_float = 0;
	memset(ctx->stale, 0, sizeof(ctx->stale));
	for (int i = 0; i < m->n_layers; i++) {
		const struct qnn_layer *l = &m->layers[i];
		const int ih = ctx->th[l->in], iw = ctx->tw[l->in];
		const int oh = ctx->th[l->out], ow = ctx->tw[l->out];
		const uint8_t *src = l->in ? ctx->q[l->in] : in;
		const int sstride = l->in ? iw * l->cin : stride;
		const int fuse = ctx->plan[i].pool_fuse && !ctx->keep_all;
		uint64_t t0 = ctx->prof ? now_ns() : 0;
		if (i > 0 && ctx->plan[i - 1].pool_fuse && !ctx->keep_all)
			continue; /* this pool ran inside the conv before it */
		switch (l->type) {
		case QNN_CONV:
			if (fuse) {
				const int po = m->layers[i + 1].out;
				run_conv_pool(ctx, i, src, ih, iw, sstride, oh, ow, ctx->th[po], ctx->tw[po],
					      ctx->q[po]);
				ctx->stale[l->out] = 1;
				break;
			}
			run_conv(ctx, i, src, ih, iw, sstride, oh, ow,
				 l->float_out ? (void *)ctx->f[l->out] : (void *)ctx->q[l->out]);
			break;
		case QNN_MAXPOOL:
			if (ctx->path == QNN_PATH_SCALAR)
				qnn_ref_maxpool(l, src, ih, iw, sstride, oh, ow, ctx->q[l->out]);
			else
				qnn_maxpool_avx2(l, src, ih, iw, sstride, oh, ow, ctx->q[l->out]);
			break;
		case QNN_GAP: {
			const struct qnn_tensor *ti = &m->tensors[l->in];
			if (ctx->path == QNN_PATH_SCALAR)
				qnn_ref_gap(l, ti, src, ih, iw, sstride, ctx->q[l->out]);
			else
				qnn_gap_avx2(l, ti, src, ih, iw, sstride, ctx->q[l->out]);
			break;
		}
		case QNN_ADD: {
			const uint8_t *src2 = l->in2 ? ctx->q[l->in2] : in;
			int s2 = l->in2 ? iw * l->cin : stride;
			const struct qnn_tensor *ta = &m->tensors[l->in], *tb = &m->tensors[l->in2];
			const struct qnn_tensor *to = &m->tensors[l->out];
			uint8_t *dst = ctx->q[l->out];
			if (ctx->path == QNN_PATH_SCALAR)
				qnn_ref_add(l, ta, tb, to, src, sstride, src2, s2, ih, iw, dst);
			else
				qnn_add_avx2(l, ta, tb, to, src, sstride, src2, s2, ih, iw, dst);
			break;
		}
		case QNN_UPSAMPLE2:
			qnn_ref_upsample2(l, src, ih, iw, sstride, ctx->q[l->out]);
			break;
		default:
			break;
		}
		if (ctx->prof)
			ctx->prof[i] += now_ns() - t0;
	}
	return EMO_OK;
}

/* Float weights of every conv and float buffers, on first use; after a
 * failure (out of memory) the next call completes what is missing. */
static int float_setup(struct qnn_ctx *ctx)
{
	const struct qnn_model *m = ctx->m;
	int th[QNN_MAX_TENSORS], tw[QNN_MAX_TENSORS];
	size_t need = 0;

	/* sized for the context's maximum input (qnn_ctx_new checked it) */
	if (qnn_shapes(m, ctx->max_h, ctx->max_w, th, tw, NULL))
		return EMO_EINVAL;
	for (int t = 0; t < m->n_tensors; t++) {
		if (!ctx->ff[t] && !(ctx->ff[t] = qnn_alloc(ctx->cap[t] * sizeof(float))))
			return EMO_ENOMEM;
	}
	for (int i = 0; i < m->n_layers; i++) {
		const struct qnn_layer *l = &m->layers[i];
		struct qnn_plan *pl = &ctx->plan[i];
		if (l->type != QNN_CONV || l->groups != 1)
			continue;
		size_t s = (size_t)(th[l->in] + 2 * l->pad) * (size_t)(tw[l->in] + 2 * l->pad) * l->cin;
		if (s > need)
			need = s;
		if (pl->fw)
			continue; /* done before */
		const int K = l->kh * l->kw * l->cin, nb = (l->cout + 15) / 16;
		const float si = m->tensors[l->in].scale;
		free(pl->fbias);
		pl->fbias = qnn_alloc((size_t)nb * 16 * sizeof(float));
		if (!pl->fbias)
			return EMO_ENOMEM;
		pl->fw = qnn_alloc((size_t)nb * 16 * K * sizeof(float));
		if (!pl->fw)
			return EMO_ENOMEM;
		memset(pl->fw, 0, (size_t)nb * 16 * K * sizeof(float));
		memset(pl->fbias, 0, (size_t)nb * 16 * sizeof(float));
		for (int co = 0; co < l->cout; co++) {
			for (int k = 0; k < K; k++)
				pl->fw[((size_t)(co / 16) * K + k) * 16 + co % 16] =
					(float)l->w[(size_t)co * K + k] * l->w_scale[co];
			pl->fbias[co] = (float)l->bias[co] * si * l->w_scale[co];
		}
		pl->fk = (struct qnn_fconvk){.kh = l->kh, .kw = l->kw, .stride = l->stride,
					     .cin = l->cin, .cout = l->cout, .nb = nb,
					     .relu = l->relu, .w = pl->fw, .bias = pl->fbias};
	}
	if (need && !ctx->fscratch) {
		ctx->fscratch = qnn_alloc(need * sizeof(float));
		if (!ctx->fscratch)
			return EMO_ENOMEM;
		ctx->fscratch_sz = need;
	}
	ctx->float_ready = 1;
	return EMO_OK;
}

int qnn_run_float(struct qnn_ctx *ctx, const uint8_t *in, int h, int w, int stride)
{
	const struct qnn_model *m;
	int rc;

	if (!ctx || !in || h < 1 || w < 1 || h > ctx->max_h || w > ctx->max_w)
		return EMO_EINVAL;
	m = ctx->m;
	if (stride < w * m->tensors[0].c)
		return EMO_EINVAL;
	if (!ctx->float_ready) {
		rc = float_setup(ctx);
		if (rc)
			return rc;
	}
	/* on failure the shapes of the last good run stay */
	if (qnn_shapes(m, h, w, ctx->th, ctx->tw, NULL))
		return EMO_EINVAL;
	memset(ctx->stale, 0, sizeof(ctx->stale));
	ctx->in = in;
	ctx->in_stride = stride;
	ctx->last_float = 1;
	{
		const struct qnn_tensor *t0 = &m->tensors[0];
		const int c = t0->c;
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w * c; x++)
				ctx->ff[0][(size_t)y * w * c + x] = t0->scale * (float)(in[(size_t)y * stride + x] - t0->zero_point);
	}
	for (int i = 0; i < m->n_layers; i++) {
		const struct qnn_layer *l = &m->layers[i];
		const int ih = ctx->th[l->in], iw = ctx->tw[l->in];
		const int oh = ctx->th[l->out], ow = ctx->tw[l->out];
		const float *src = ctx->ff[l->in];
		float *dst = ctx->ff[l->out];
		uint64_t t0 = ctx->prof ? now_ns() : 0;
		switch (l->type) {
		case QNN_CONV:
			if (l->groups != 1) {
				qnn_fref_dwconv(l, &m->tensors[l->in], src, ih, iw, oh, ow, dst);
				break;
			}
			{
				const int p = l->pad, wp = iw + 2 * p, hp = ih + 2 * p, c = l->cin;
				float *pad = ctx->fscratch;
				for (int y = 0; y < hp; y++)
					for (int x = 0; x < wp; x++) {
						float *d = pad + ((size_t)y * wp + x) * c;
						int iy = y - p, ix = x - p;
						if (iy < 0 || iy >= ih || ix < 0 || ix >= iw)
							memset(d, 0, (size_t)c * sizeof(float));
						else
							memcpy(d, src + ((size_t)iy * iw + ix) * c, (size_t)c * sizeof(float));
					}
				if (ctx->path == QNN_PATH_SCALAR)
					qnn_fconv_ref(&ctx->plan[i].fk, pad, wp, oh, ow, dst);
				else if (ctx->path == QNN_PATH_AVX2)
					qnn_fconv_avx2(&ctx->plan[i].fk, pad, wp, oh, ow, dst);
				else
					qnn_fconv_avx512(&ctx->plan[i].fk, pad, wp, oh, ow, dst);
			}
			break;
		case QNN_MAXPOOL:
			qnn_fref_maxpool(l, src, ih, iw, oh, ow, dst);
			break;
		case QNN_GAP:
			qnn_fref_gap(l, src, ih, iw, dst);
			break;
		case QNN_ADD:
			qnn_fref_add(l, src, ctx->ff[l->in2], ih, iw, dst);
			break;
		case QNN_UPSAMPLE2:
			qnn_fref_upsample2(l, src, ih, iw, dst);
			break;
		default:
			break;
		}
		if (ctx->prof)
			ctx->prof[i] += now_ns() - t0;
	}
	/* uint8 views of the float result */
	for (int t = 1; t < m->n_tensors; t++) {
		if (!ctx->q[t])
			continue;
		const size_t n = (size_t)ctx->th[t] * ctx->tw[t] * m->tensors[t].c;
		const float inv = 1.0f / m->tensors[t].scale;
		const float z = (float)m->tensors[t].zero_point;
		for (size_t k = 0; k < n; k++) {
			float v = nearbyintf(ctx->ff[t][k] * inv) + z;
			/* NaN (inf - inf of a huge weight scale): the zero point,
			 * real 0; converting it would be undefined */
			if (isnan(v))
				v = z < 0 ? 0 : z > 255 ? 255 : z;
			ctx->q[t][k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
		}
	}
	return EMO_OK;
}

int qnn_tensor_get(const struct qnn_ctx *ctx, int tensor, int *h, int *w, int *c,
		   const uint8_t **q, const float **f)
{
	if (!ctx || tensor < 0 || tensor >= ctx->m->n_tensors || !ctx->in)
		return EMO_EINVAL;
	if (ctx->stale[tensor])
		return EMO_EUNSUPPORTED; /* computed on the fly, not kept */
	if (h)
		*h = ctx->th[tensor];
	if (w)
		*w = ctx->tw[tensor];
	if (c)
		*c = ctx->m->tensors[tensor].c;
	if (q)
		*q = tensor == 0 ? ctx->in : ctx->q[tensor];
	if (f)
		*f = ctx->f[tensor] ? (ctx->last_float ? ctx->ff[tensor] : ctx->f[tensor]) : NULL;
	return EMO_OK;
}

uint64_t qnn_macs(const struct qnn_model *m, int h, int w)
{
	int th[QNN_MAX_TENSORS], tw[QNN_MAX_TENSORS];
	uint64_t n = 0;

	if (!m || qnn_shapes(m, h, w, th, tw, NULL))
		return 0;
	for (int i = 0; i < m->n_layers; i++) {
		const struct qnn_layer *l = &m->layers[i];
		if (l->type == QNN_CONV)
			n += (uint64_t)th[l->out] * tw[l->out] * l->cout * l->kh * l->kw *
			     (uint64_t)(l->cin / l->groups);
	}
	return n;
}
