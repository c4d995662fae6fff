/* fnn.c - float32 training layers: conv (im2col + sgemm), depthwise conv,
 * batch norm, ReLU, max pool, global average pool, dropout, softmax
 * cross-entropy, SGD/AdamW, checkpoints. NHWC throughout, matching the int8
 * engine's layout. */
#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "train/fnn.h"

#define FNN_BN_EPS 1e-5f
#define FNN_BN_MOMENTUM 0.1f
#define FNN_CKPT_MAGIC "EMOFNN02"
#define FNN_CKPT_MAGIC_V1 "EMOFNN01" /* no optimizer type, no RNG state: still read */

static uint64_t fnn_rand_next(uint64_t *s)
{
	/* splitmix64 */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static float fnn_rand_uniform(uint64_t *s)
{
	return (float)((fnn_rand_next(s) >> 40) * (1.0 / 16777216.0));
}

static float fnn_rand_normal(uint64_t *s)
{
	float u1 = fnn_rand_uniform(s), u2 = fnn_rand_uniform(s);
	if (u1 < 1e-7f)
		u1 = 1e-7f;
	return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853f * u2);
}

static long shape_size(struct fnn_shape s)
{
	return (long)s.h * s.w * s.c;
}

static float *fnn_zalloc(long n)
{
	return calloc((size_t)(n > 0 ? n : 1), sizeof(float));
}

static void add_param(struct fnn *net, float *w, float *g, long n, int decay)
{
	struct fnn_param *p = &net->params[net->n_params++];
	p->w = w;
	p->g = g;
	p->n = n;
	p->decay = decay;
	p->m = fnn_zalloc(n);
	p->v = fnn_zalloc(n);
}

static struct fnn_layer *push_layer(struct fnn *net, enum fnn_type t, struct fnn_shape in)
{
	struct fnn_layer *l = &net->layers[net->n_layers++];
	memset(l, 0, sizeof(*l));
	l->type = t;
	l->in = in;
	l->out = in;
	return l;
}

static void conv_init(struct fnn *net, struct fnn_layer *l, int k, int stride, int pad, int cout,
		      int has_bias, uint64_t *rng)
{
	long nw;
	float std;

	l->kh = l->kw = k;
	l->stride = stride;
	l->pad = pad;
	l->cout = cout;
	l->has_bias = has_bias;
	l->out.h = (l->in.h + 2 * pad - k) / stride + 1;
	l->out.w = (l->in.w + 2 * pad - k) / stride + 1;
	l->out.c = cout;
	nw = (long)cout * k * k * l->in.c;
	l->w = fnn_zalloc(nw);
	l->gw = fnn_zalloc(nw);
	l->b = fnn_zalloc(cout);
	l->gb = fnn_zalloc(cout);
	std = sqrtf(2.0f / (float)(k * k * l->in.c));
	for (long i = 0; i < nw; i++)
		l->w[i] = std * fnn_rand_normal(rng);
	add_param(net, l->w, l->gw, nw, 1);
	if (has_bias)
		add_param(net, l->b, l->gb, cout, 0);
}

/* Depthwise k x k conv, pad k / 2, channels unchanged: weights [c][k][k],
 * He-normal over the fan-in k * k; no bias (a BN follows). Draws c * k * k
 * normals from rng, in weight order. Returns 0, or -1 out of memory. */
static int dwconv_init(struct fnn *net, struct fnn_layer *l, int k, int stride, uint64_t *rng)
{
	int c = l->in.c;
	long nw = (long)c * k * k;
	float std = sqrtf(2.0f / (float)(k * k));

	l->kh = l->kw = k;
	l->stride = stride;
	l->pad = k / 2;
	l->cout = c;
	l->out.h = (l->in.h + 2 * l->pad - k) / stride + 1;
	l->out.w = (l->in.w + 2 * l->pad - k) / stride + 1;
	l->out.c = c;
	l->w = fnn_zalloc(nw);
	l->gw = fnn_zalloc(nw);
	if (!l->w || !l->gw)
		return -1;
	for (long i = 0; i < nw; i++)
		l->w[i] = std * fnn_rand_normal(rng);
	add_param(net, l->w, l->gw, nw, 1);
	return 0;
}

static void bn_init(struct fnn *net, struct fnn_layer *l)
{
	int c = l->in.c;
	l->gamma = fnn_zalloc(c);
	l->beta = fnn_zalloc(c);
	l->ggamma = fnn_zalloc(c);
	l->gbeta = fnn_zalloc(c);
	l->rmean = fnn_zalloc(c);
	l->rvar = fnn_zalloc(c);
	l->bmean = fnn_zalloc(c);
	l->binvstd = fnn_zalloc(c);
	for (int i = 0; i < c; i++)
		l->gamma[i] = l->rvar[i] = 1.0f;
	add_param(net, l->gamma, l->ggamma, c, 0);
	add_param(net, l->beta, l->gbeta, c, 0);
}

struct fnn *fnn_new(const char *arch, struct fnn_shape in, uint64_t seed)
{
	struct fnn *net = calloc(1, sizeof(*net));
	char *spec = NULL, *save = NULL, *tok;
	struct fnn_shape cur = in;
	uint64_t rng = seed * 2654435761ULL + 12345;

	if (!net)
		return NULL;
	net->layers = calloc(256, sizeof(struct fnn_layer));
	spec = strdup(arch);
	if (!net->layers || !spec || strlen(arch) >= sizeof(net->arch))
		goto fail;
	snprintf(net->arch, sizeof(net->arch), "%s", arch);
	net->in = in;
	net->rng = seed ^ 0x5deece66dULL;
	net->opt = FNN_OPT_NONE;
	for (tok = strtok_r(spec, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct fnn_layer *l;
		char *end = NULL;
		long v = 0;
		double dv = 0;

		if (net->n_layers > 240 || net->n_params > 240)
			goto bad;
		if (strchr("ckfoh", tok[0])) {
			v = strtol(tok + 1, &end, 10);
			if (end == tok + 1 || v <= 0 || v > 4096)
				goto bad;
		}
		switch (tok[0]) {
		case 'c':
		case 'k': {
			int stride = 1, k = tok[0] == 'c' ? 3 : 1;
			if (!strcmp(end, "/s2"))
				stride = 2;
			else if (*end)
				goto bad;
			l = push_layer(net, FNN_CONV, cur);
			conv_init(net, l, k, stride, k / 2, (int)v, 0, &rng);
			cur = l->out;
			push_layer(net, FNN_BN, cur);
			bn_init(net, &net->layers[net->n_layers - 1]);
			push_layer(net, FNN_RELU, cur);
			break;
		}
		case 'w': {
			int stride = 1;
			if (!strcmp(tok + 1, "/s2"))
				stride = 2;
			else if (tok[1])
				goto bad;
			l = push_layer(net, FNN_DWCONV, cur);
			if (dwconv_init(net, l, 3, stride, &rng)) {
				fprintf(stderr, "emotop-train: out of memory building '%s'\n", arch);
				goto fail;
			}
			cur = l->out;
			push_layer(net, FNN_BN, cur);
			bn_init(net, &net->layers[net->n_layers - 1]);
			push_layer(net, FNN_RELU, cur);
			break;
		}
		case 'h':
			if (*end)
				goto bad;
			l = push_layer(net, FNN_CONV, cur);
			conv_init(net, l, 1, 1, 0, (int)v, 1, &rng);
			cur = l->out;
			break;
		case 'f':
		case 'o':
			if (*end || cur.h != cur.w)
				goto bad;
			l = push_layer(net, FNN_CONV, cur);
			/* a full-kernel conv: the int8 engine's FC */
			conv_init(net, l, cur.h, 1, 0, (int)v, tok[0] == 'o', &rng);
			cur = l->out;
			if (tok[0] == 'f') {
				push_layer(net, FNN_BN, cur);
				bn_init(net, &net->layers[net->n_layers - 1]);
				push_layer(net, FNN_RELU, cur);
			}
			break;
		case 'p':
			if (tok[1] || cur.h < 2 || cur.w < 2)
				goto bad;
			l = push_layer(net, FNN_MAXPOOL, cur);
			l->k = 2;
			l->out.h = cur.h / 2;
			l->out.w = cur.w / 2;
			cur = l->out;
			break;
		case 'g':
			if (tok[1])
				goto bad;
			l = push_layer(net, FNN_GAP, cur);
			l->out.h = l->out.w = 1;
			cur = l->out;
			break;
		case 'd':
			dv = strtod(tok + 1, &end);
			if (end == tok + 1 || *end || dv < 0 || dv >= 1)
				goto bad;
			l = push_layer(net, FNN_DROPOUT, cur);
			l->p = (float)dv;
			break;
		default:
			goto bad;
		}
		if (cur.h <= 0 || cur.w <= 0)
			goto bad;
		continue;
bad:
		fprintf(stderr, "emotop-train: bad architecture element '%s' in '%s'\n", tok, arch);
		goto fail;
	}
	if (!net->n_layers)
		goto fail;
	net->n_out = (int)shape_size(cur);
	free(spec);
	return net;
fail:
	free(spec);
	fnn_free(net);
	return NULL;
}

static void layer_free_bufs(struct fnn_layer *l)
{
	free(l->y);
	free(l->dy);
	free(l->argmax);
	free(l->mask);
	free(l->xhat);
	l->y = l->dy = l->xhat = NULL;
	l->argmax = NULL;
	l->mask = NULL;
}

void fnn_free(struct fnn *net)
{
	if (!net)
		return;
	for (int i = 0; net->layers && i < net->n_layers; i++) {
		struct fnn_layer *l = &net->layers[i];
		layer_free_bufs(l);
		free(l->w);
		free(l->gw);
		free(l->b);
		free(l->gb);
		free(l->gamma);
		free(l->beta);
		free(l->ggamma);
		free(l->gbeta);
		free(l->rmean);
		free(l->rvar);
		free(l->bmean);
		free(l->binvstd);
	}
	for (int i = 0; i < net->n_params; i++) {
		free(net->params[i].m);
		free(net->params[i].v);
	}
	free(net->layers);
	free(net->col);
	free(net);
}

static int conv_is_full(const struct fnn_layer *l)
{
	return l->kh == l->in.h && l->kw == l->in.w && l->pad == 0;
}

int fnn_reserve(struct fnn *net, int n)
{
	long col = 0;

	if (n <= net->batch)
		return 0;
	for (int i = 0; i < net->n_layers; i++) {
		struct fnn_layer *l = &net->layers[i];
		long out = shape_size(l->out) * n;
		layer_free_bufs(l);
		l->y = fnn_zalloc(out);
		l->dy = fnn_zalloc(out);
		if (!l->y || !l->dy)
			return -1;
		if (l->type == FNN_MAXPOOL && !(l->argmax = calloc((size_t)out, sizeof(int32_t))))
			return -1;
		if (l->type == FNN_DROPOUT && !(l->mask = calloc((size_t)out, 1)))
			return -1;
		if (l->type == FNN_BN && !(l->xhat = fnn_zalloc(out)))
			return -1;
		if (l->type == FNN_CONV && !conv_is_full(l)) {
			long c = (long)n * l->out.h * l->out.w * l->kh * l->kw * l->in.c;
			if (c > col)
				col = c;
		}
		/* dwconv_forward/backward: three [kh * kw][c] arrays */
		if (l->type == FNN_DWCONV && 3L * l->kh * l->kw * l->in.c > col)
			col = 3L * l->kh * l->kw * l->in.c;
	}
	free(net->col);
	net->col = fnn_zalloc(col);
	net->col_size = col;
	if (!net->col)
		return -1;
	net->batch = n;
	return 0;
}

/* col[(n,oy,ox)][(ky,kx,ci)] from NHWC x */
static void im2col(const struct fnn_layer *l, const float *x, float *col, int n)
{
	int H = l->in.h, W = l->in.w, C = l->in.c, OH = l->out.h, OW = l->out.w;
	long K = (long)l->kh * l->kw * C;

#pragma omp parallel for schedule(static)
	for (long r = 0; r < (long)n * OH * OW; r++) {
		int b = (int)(r / (OH * OW)), oy = (int)(r / OW % OH), ox = (int)(r % OW);
		float *dst = col + r * K;
		for (int ky = 0; ky < l->kh; ky++) {
			int iy = oy * l->stride - l->pad + ky;
			for (int kx = 0; kx < l->kw; kx++) {
				int ix = ox * l->stride - l->pad + kx;
				if (iy < 0 || iy >= H || ix < 0 || ix >= W) {
					for (int c = 0; c < C; c++)
						dst[c] = 0;
				} else {
					const float *src = x + (((long)b * H + iy) * W + ix) * C;
					for (int c = 0; c < C; c++)
						dst[c] = src[c];
				}
				dst += C;
			}
		}
	}
}

/* dx += col2im(dcol); parallel over images (no write conflicts). */
static void col2im(const struct fnn_layer *l, const float *col, float *dx, int n)
{
	int H = l->in.h, W = l->in.w, C = l->in.c, OH = l->out.h, OW = l->out.w;
	long K = (long)l->kh * l->kw * C;

#pragma omp parallel for schedule(static)
	for (int b = 0; b < n; b++) {
		for (int oy = 0; oy < OH; oy++)
			for (int ox = 0; ox < OW; ox++) {
				const float *src = col + (((long)b * OH + oy) * OW + ox) * K;
				for (int ky = 0; ky < l->kh; ky++) {
					int iy = oy * l->stride - l->pad + ky;
					for (int kx = 0; kx < l->kw; kx++, src += C) {
						int ix = ox * l->stride - l->pad + kx;
						float *d;
						if (iy < 0 || iy >= H || ix < 0 || ix >= W)
							continue;
						d = dx + (((long)b * H + iy) * W + ix) * C;
						for (int c = 0; c < C; c++)
							d[c] += src[c];
					}
				}
			}
	}
}

static void conv_forward(struct fnn *net, struct fnn_layer *l, const float *x, int n)
{
	long M = (long)n * l->out.h * l->out.w, K = (long)l->kh * l->kw * l->in.c;
	const float *a = x;

	if (!conv_is_full(l)) {
		im2col(l, x, net->col, n);
		a = net->col;
	}
	/* y[M][cout] = a[M][K] * w[cout][K]^T */
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, l->cout, (int)K, 1.0f, a,
		    (int)K, l->w, (int)K, 0.0f, l->y, l->cout);
	if (l->has_bias) {
#pragma omp parallel for schedule(static)
		for (long r = 0; r < M; r++)
			for (int c = 0; c < l->cout; c++)
				l->y[r * l->cout + c] += l->b[c];
	}
}

static void conv_backward(struct fnn *net, struct fnn_layer *l, const float *x, float *dx, int n)
{
	long M = (long)n * l->out.h * l->out.w, K = (long)l->kh * l->kw * l->in.c;
	const float *a = x;
	int full = conv_is_full(l);

	if (!full) {
		im2col(l, x, net->col, n);
		a = net->col;
	}
	/* gw[cout][K] += dy^T[cout][M] * a[M][K] */
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, l->cout, (int)K, (int)M, 1.0f, l->dy,
		    l->cout, a, (int)K, 1.0f, l->gw, (int)K);
	if (l->has_bias)
		for (long r = 0; r < M; r++)
			for (int c = 0; c < l->cout; c++)
				l->gb[c] += l->dy[r * l->cout + c];
	if (!dx)
		return;
	if (full) {
		/* dx[M][K] += dy[M][cout] * w[cout][K] */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)K, l->cout, 1.0f,
			    l->dy, l->cout, l->w, (int)K, 1.0f, dx, (int)K);
		return;
	}
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)K, l->cout, 1.0f, l->dy,
		    l->cout, l->w, (int)K, 0.0f, net->col, (int)K);
	col2im(l, net->col, dx, n);
}

/* The depthwise kernel w[c][t] transposed into wt[t][c] (t = ky*kw + kx),
 * so that the inner loops run over contiguous channels. */
static void dwconv_weights_by_tap(const struct fnn_layer *l, float *wt)
{
	const int C = l->in.c, T = l->kh * l->kw;

	for (int c = 0; c < C; c++)
		for (int t = 0; t < T; t++)
			wt[(long)t * C + c] = l->w[(long)c * T + t];
}

/* Depthwise conv (FNN_DWCONV), NHWC, zero padding:
 *   y[b][oy][ox][c] = sum_{ky,kx} w[c][ky][kx] * x[b][oy*s - pad + ky][ox*s - pad + kx][c]
 * The kernel is transposed into net->col as wt[ky*kw + kx][c] so that the
 * inner loops run over contiguous channels. Parallel over output pixels. */
static void dwconv_forward(struct fnn *net, struct fnn_layer *l, const float *x, int n)
{
	int H = l->in.h, W = l->in.w, C = l->in.c, OH = l->out.h, OW = l->out.w;
	int kh = l->kh, kw = l->kw;
	float *wt = net->col;

	dwconv_weights_by_tap(l, wt);
#pragma omp parallel for schedule(static)
	for (long r = 0; r < (long)n * OH * OW; r++) {
		int b = (int)(r / (OH * OW)), oy = (int)(r / OW % OH), ox = (int)(r % OW);
		float *y = l->y + r * C;

		memset(y, 0, sizeof(float) * (size_t)C);
		for (int ky = 0; ky < kh; ky++) {
			int iy = oy * l->stride - l->pad + ky;
			if (iy < 0 || iy >= H)
				continue;
			for (int kx = 0; kx < kw; kx++) {
				int ix = ox * l->stride - l->pad + kx;
				const float *src, *k;
				if (ix < 0 || ix >= W)
					continue;
				src = x + (((long)b * H + iy) * W + ix) * C;
				k = wt + (long)(ky * kw + kx) * C;
				for (int c = 0; c < C; c++)
					y[c] += src[c] * k[c];
			}
		}
	}
}

/* Gradients of dwconv_forward from l->dy: gw[c][t] += sum over output
 * pixels of dy * the input under tap t (parallel over the taps, each summing
 * image by image in net->col before adding), and, when dx is non-NULL,
 * dx += the input gradient, gathered per input pixel (parallel over input
 * pixels, no write conflicts). net->col: wt [T][C], per-tap sums [T][C],
 * per-image partial sums [T][C]. */
static void dwconv_backward(struct fnn *net, struct fnn_layer *l, const float *x, float *dx, int n)
{
	int H = l->in.h, W = l->in.w, C = l->in.c, OH = l->out.h, OW = l->out.w;
	int kh = l->kh, kw = l->kw, T = kh * kw, s = l->stride;
	float *wt = net->col, *gt = wt + (long)T * C, *part = gt + (long)T * C;

#pragma omp parallel for schedule(static)
	for (int t = 0; t < T; t++) {
		int ky = t / kw, kx = t % kw;
		float *g = gt + (long)t * C, *p = part + (long)t * C;

		memset(g, 0, sizeof(float) * (size_t)C);
		for (int b = 0; b < n; b++) {
			memset(p, 0, sizeof(float) * (size_t)C);
			for (int oy = 0; oy < OH; oy++) {
				int iy = oy * s - l->pad + ky;
				if (iy < 0 || iy >= H)
					continue;
				for (int ox = 0; ox < OW; ox++) {
					int ix = ox * s - l->pad + kx;
					const float *src, *d;
					if (ix < 0 || ix >= W)
						continue;
					src = x + (((long)b * H + iy) * W + ix) * C;
					d = l->dy + (((long)b * OH + oy) * OW + ox) * C;
					for (int c = 0; c < C; c++)
						p[c] += d[c] * src[c];
				}
			}
			for (int c = 0; c < C; c++)
				g[c] += p[c];
		}
	}
	for (int c = 0; c < C; c++)
		for (int t = 0; t < T; t++)
			l->gw[(long)c * T + t] += gt[(long)t * C + c];
	if (!dx)
		return;
	dwconv_weights_by_tap(l, wt);
	/* dx[b][iy][ix][c] += sum over the taps (ky,kx) that reach it from an
	 * output pixel (oy*s - pad + ky == iy) of dy[b][oy][ox][c] * w[c][ky][kx] */
#pragma omp parallel for schedule(static)
	for (long r = 0; r < (long)n * H * W; r++) {
		int b = (int)(r / ((long)H * W)), iy = (int)(r / W % H), ix = (int)(r % W);
		float *d = dx + r * C;

		for (int ky = 0; ky < kh; ky++) {
			int ny = iy + l->pad - ky, oy = ny / s;
			if (ny < 0 || ny % s || oy >= OH)
				continue;
			for (int kx = 0; kx < kw; kx++) {
				int nx = ix + l->pad - kx, ox = nx / s;
				const float *g, *k;
				if (nx < 0 || nx % s || ox >= OW)
					continue;
				g = l->dy + (((long)b * OH + oy) * OW + ox) * C;
				k = wt + (long)(ky * kw + kx) * C;
				for (int c = 0; c < C; c++)
					d[c] += g[c] * k[c];
			}
		}
	}
}

static void bn_forward(struct fnn_layer *l, const float *x, int n, int train, float mom)
{
	int C = l->in.c;
	long R = (long)n * l->in.h * l->in.w;

	if (train) {
		double *sum = calloc((size_t)C, sizeof(double)), *sq = calloc((size_t)C, sizeof(double));
		if (!sum || !sq) {
			fprintf(stderr, "emotop-train: out of memory\n");
			exit(1);
		}
		for (long r = 0; r < R; r++)
			for (int c = 0; c < C; c++) {
				double v = x[r * C + c];
				sum[c] += v;
				sq[c] += v * v;
			}
		for (int c = 0; c < C; c++) {
			double mean = sum[c] / (double)R, var = sq[c] / (double)R - mean * mean;
			if (var < 0)
				var = 0;
			l->bmean[c] = (float)mean;
			l->binvstd[c] = (float)(1.0 / sqrt(var + FNN_BN_EPS));
			l->rmean[c] = (1 - mom) * l->rmean[c] + mom * (float)mean;
			l->rvar[c] = (1 - mom) * l->rvar[c] +
				     mom * (float)(var * (double)R / (double)(R > 1 ? R - 1 : 1));
		}
		free(sum);
		free(sq);
	} else {
		for (int c = 0; c < C; c++) {
			l->bmean[c] = l->rmean[c];
			l->binvstd[c] = 1.0f / sqrtf(l->rvar[c] + FNN_BN_EPS);
		}
	}
#pragma omp parallel for schedule(static)
	for (long r = 0; r < R; r++)
		for (int c = 0; c < C; c++) {
			float xh = (x[r * C + c] - l->bmean[c]) * l->binvstd[c];
			l->xhat[r * C + c] = xh;
			l->y[r * C + c] = l->gamma[c] * xh + l->beta[c];
		}
}

static void bn_backward(struct fnn_layer *l, float *dx, int n)
{
	int C = l->in.c;
	long R = (long)n * l->in.h * l->in.w;
	double *sdy = calloc((size_t)C, sizeof(double)), *sdyx = calloc((size_t)C, sizeof(double));

	if (!sdy || !sdyx) {
		fprintf(stderr, "emotop-train: out of memory\n");
		exit(1);
	}
	for (long r = 0; r < R; r++)
		for (int c = 0; c < C; c++) {
			sdy[c] += l->dy[r * C + c];
			sdyx[c] += (double)l->dy[r * C + c] * l->xhat[r * C + c];
		}
	for (int c = 0; c < C; c++) {
		l->gbeta[c] += (float)sdy[c];
		l->ggamma[c] += (float)sdyx[c];
	}
	if (dx) {
#pragma omp parallel for schedule(static)
		for (long r = 0; r < R; r++)
			for (int c = 0; c < C; c++) {
				float g = l->gamma[c] * l->binvstd[c];
				dx[r * C + c] += g * (l->dy[r * C + c] - (float)(sdy[c] / (double)R) -
						     l->xhat[r * C + c] * (float)(sdyx[c] / (double)R));
			}
	}
	free(sdy);
	free(sdyx);
}

static void maxpool_forward(struct fnn_layer *l, const float *x, int n)
{
	int H = l->in.h, W = l->in.w, C = l->in.c, OH = l->out.h, OW = l->out.w, k = l->k;

#pragma omp parallel for schedule(static)
	for (long r = 0; r < (long)n * OH * OW; r++) {
		int b = (int)(r / (OH * OW)), oy = (int)(r / OW % OH), ox = (int)(r % OW);
		for (int c = 0; c < C; c++) {
			float best = -INFINITY;
			int32_t bi = 0;
			for (int ky = 0; ky < k; ky++)
				for (int kx = 0; kx < k; kx++) {
					int32_t idx = (int32_t)((((long)b * H + oy * k + ky) * W + ox * k + kx) * C + c);
					if (x[idx] > best) {
						best = x[idx];
						bi = idx;
					}
				}
			l->y[r * C + c] = best;
			l->argmax[r * C + c] = bi;
		}
	}
}

static void gap_forward(struct fnn_layer *l, const float *x, int n)
{
	int HW = l->in.h * l->in.w, C = l->in.c;

	for (int b = 0; b < n; b++)
		for (int c = 0; c < C; c++) {
			float s = 0;
			for (int i = 0; i < HW; i++)
				s += x[((long)b * HW + i) * C + c];
			l->y[(long)b * C + c] = s / (float)HW;
		}
}

const float *fnn_forward(struct fnn *net, const float *x, int n, int train)
{
	const float *in = x;

	if (fnn_reserve(net, n)) {
		fprintf(stderr, "emotop-train: out of memory for batch %d\n", n);
		exit(1);
	}
	for (int i = 0; i < net->n_layers; i++) {
		struct fnn_layer *l = &net->layers[i];
		long sz = shape_size(l->out) * n;
		switch (l->type) {
		case FNN_CONV:
			conv_forward(net, l, in, n);
			break;
		case FNN_DWCONV:
			dwconv_forward(net, l, in, n);
			break;
		case FNN_BN:
			bn_forward(l, in, n, train, net->bn_momentum > 0 ? net->bn_momentum : FNN_BN_MOMENTUM);
			break;
		case FNN_RELU:
#pragma omp parallel for schedule(static)
			for (long j = 0; j < sz; j++)
				l->y[j] = in[j] > 0 ? in[j] : 0;
			break;
		case FNN_MAXPOOL:
			maxpool_forward(l, in, n);
			break;
		case FNN_GAP:
			gap_forward(l, in, n);
			break;
		case FNN_DROPOUT:
			if (!train || l->p <= 0) {
				memcpy(l->y, in, sizeof(float) * (size_t)sz);
				break;
			}
			for (long j = 0; j < sz; j++) {
				l->mask[j] = fnn_rand_uniform(&net->rng) >= l->p;
				l->y[j] = l->mask[j] ? in[j] / (1 - l->p) : 0;
			}
			break;
		}
		in = l->y;
	}
	return in;
}

void fnn_backward(struct fnn *net, const float *x, const float *dlogits, int n)
{
	struct fnn_layer *last = &net->layers[net->n_layers - 1];

	memcpy(last->dy, dlogits, sizeof(float) * (size_t)net->n_out * (size_t)n);
	for (int i = net->n_layers - 1; i >= 0; i--) {
		struct fnn_layer *l = &net->layers[i];
		const float *in = i ? net->layers[i - 1].y : x;
		float *dx = i ? net->layers[i - 1].dy : NULL;
		long isz = shape_size(l->in) * n;

		if (dx)
			memset(dx, 0, sizeof(float) * (size_t)isz);
		switch (l->type) {
		case FNN_CONV:
			conv_backward(net, l, in, dx, n);
			break;
		case FNN_DWCONV:
			dwconv_backward(net, l, in, dx, n);
			break;
		case FNN_BN:
			bn_backward(l, dx, n);
			break;
		case FNN_RELU:
			if (dx) {
#pragma omp parallel for schedule(static)
				for (long j = 0; j < isz; j++)
					dx[j] = in[j] > 0 ? l->dy[j] : 0;
			}
			break;
		case FNN_MAXPOOL:
			if (dx) {
				long osz = shape_size(l->out) * n;
				for (long j = 0; j < osz; j++)
					dx[l->argmax[j]] += l->dy[j];
			}
			break;
		case FNN_GAP:
			if (dx) {
				int HW = l->in.h * l->in.w, C = l->in.c;
				for (int b = 0; b < n; b++)
					for (int p = 0; p < HW; p++)
						for (int c = 0; c < C; c++)
							dx[((long)b * HW + p) * C + c] =
								l->dy[(long)b * C + c] / (float)HW;
			}
			break;
		case FNN_DROPOUT:
			if (dx) {
				for (long j = 0; j < isz; j++)
					dx[j] = l->p > 0 ? (l->mask[j] ? l->dy[j] / (1 - l->p) : 0) : l->dy[j];
			}
			break;
		}
	}
}

void fnn_zero_grad(struct fnn *net)
{
	for (int i = 0; i < net->n_params; i++)
		memset(net->params[i].g, 0, sizeof(float) * (size_t)net->params[i].n);
}

float fnn_softmax_xent(const float *logits, const int *labels, int n, int k, float smooth,
		       const float *class_w, float *dlogits, int *correct)
{
	double loss = 0, wsum = 0;
	int hits = 0;

	for (int i = 0; i < n; i++)
		wsum += class_w ? class_w[labels[i]] : 1.0;
	if (wsum <= 0)
		wsum = 1;
	for (int i = 0; i < n; i++) {
		const float *z = logits + (long)i * k;
		float *d = dlogits ? dlogits + (long)i * k : NULL;
		float mx = z[0], s = 0, w = class_w ? class_w[labels[i]] : 1.0f;
		int am = 0;
		for (int j = 1; j < k; j++)
			if (z[j] > mx) {
				mx = z[j];
				am = j;
			}
		hits += am == labels[i];
		for (int j = 0; j < k; j++)
			s += expf(z[j] - mx);
		for (int j = 0; j < k; j++) {
			float p = expf(z[j] - mx) / s;
			float t = (j == labels[i] ? 1.0f - smooth : 0.0f) + smooth / (float)k;
			loss -= w * t * (z[j] - mx - logf(s));
			if (d)
				d[j] = (float)(w * (p - t) / wsum);
		}
	}
	if (correct)
		*correct = hits;
	return (float)(loss / wsum);
}

float fnn_soft_xent(const float *logits, const float *target, int n, int k, float T,
		    float *dlogits)
{
	double loss = 0;

	for (int i = 0; i < n; i++) {
		const float *z = logits + (long)i * k, *t = target + (long)i * k;
		float *d = dlogits ? dlogits + (long)i * k : NULL;
		float mx = z[0] / T, s = 0;

		for (int j = 1; j < k; j++)
			if (z[j] / T > mx)
				mx = z[j] / T;
		for (int j = 0; j < k; j++)
			s += expf(z[j] / T - mx);
		for (int j = 0; j < k; j++) {
			float lq = z[j] / T - mx - logf(s);
			loss -= (double)t[j] * lq;
			/* d(T^2 CE)/dz = T (q - t) */
			if (d)
				d[j] = T * (expf(lq) - t[j]) / (float)n;
		}
	}
	return (float)(loss * T * T / n);
}

void fnn_step(struct fnn *net, enum fnn_opt opt, float lr, float momentum, float wd, long t)
{
	const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
	float c1 = 1.0f - powf(b1, (float)t), c2 = 1.0f - powf(b2, (float)t);

	net->opt = opt;
	for (int i = 0; i < net->n_params; i++) {
		struct fnn_param *p = &net->params[i];
		float d = p->decay ? wd : 0.0f;
#pragma omp parallel for schedule(static)
		for (long j = 0; j < p->n; j++) {
			float g = p->g[j];
			if (opt == FNN_SGD) {
				g += d * p->w[j];
				p->m[j] = momentum * p->m[j] + g;
				/* Nesterov */
				p->w[j] -= lr * (g + momentum * p->m[j]);
			} else {
				p->m[j] = b1 * p->m[j] + (1 - b1) * g;
				p->v[j] = b2 * p->v[j] + (1 - b2) * g * g;
				p->w[j] -= lr * ((p->m[j] / c1) / (sqrtf(p->v[j] / c2) + eps) + d * p->w[j]);
			}
		}
	}
}

void fnn_reset_opt(struct fnn *net)
{
	for (int i = 0; i < net->n_params; i++) {
		memset(net->params[i].m, 0, sizeof(float) * (size_t)net->params[i].n);
		memset(net->params[i].v, 0, sizeof(float) * (size_t)net->params[i].n);
	}
	net->opt = FNN_OPT_NONE;
}

static const char *fnn_opt_name(int opt)
{
	return opt == FNN_SGD ? "SGD" : opt == FNN_ADAMW ? "AdamW" : "an unknown optimizer";
}

int fnn_resume_check(const struct fnn *net, const char *path, enum fnn_opt want,
		     const char *reset_flag)
{
	if (net->opt == FNN_OPT_NONE) {
		fprintf(stderr,
			"emotop-train: %s holds no optimizer state (a .best, .eN or averaged checkpoint?): "
			"resume from the checkpoint written every epoch, or pass %s to continue with a "
			"new optimizer state\n",
			path, reset_flag);
		return -1;
	}
	if (net->opt == FNN_OPT_UNKNOWN) {
		fprintf(stderr,
			"emotop-train: note: %s predates the record of the optimizer and of the dropout "
			"state: its moments are taken as %s's, dropout draws anew\n",
			path, fnn_opt_name(want));
		return 0;
	}
	if (net->opt != (int)want) {
		fprintf(stderr,
			"emotop-train: %s was trained with %s, this run asks for %s: pass the same "
			"optimizer, or %s to start %s afresh\n",
			path, fnn_opt_name(net->opt), fnn_opt_name(want), reset_flag, fnn_opt_name(want));
		return -1;
	}
	return 0;
}

static struct fnn_param *param_of(struct fnn *net, const float *w)
{
	for (int i = 0; i < net->n_params; i++)
		if (net->params[i].w == w)
			return &net->params[i];
	return NULL;
}

/* dst[j] = src[map[j]] * scale for j < n, for a value and its optimizer
 * moments (the second moment scales with the square). */
static void grow_copy(struct fnn *dn, float *dw, struct fnn *sn, const float *sw, long n,
		      const int *map, const float *scale)
{
	struct fnn_param *dp = param_of(dn, dw), *sp = param_of(sn, sw);

	for (long j = 0; j < n; j++) {
		float k = scale ? scale[j] : 1.0f;
		dw[j] = sw[map[j]] * k;
		if (dp && sp) {
			dp->m[j] = sp->m[map[j]] * k;
			dp->v[j] = sp->v[map[j]] * k * k;
		}
	}
}

/* Is dst->layers[j..j+2] a 3x3 stride-1 conv + BN + ReLU with as many
 * outputs as inputs, right after a BN + ReLU (so its input is >= 0)? */
static int grow_insertable(const struct fnn *dst, int j)
{
	const struct fnn_layer *l = &dst->layers[j];

	return j >= 2 && j + 2 < dst->n_layers && l->type == FNN_CONV && l->kh == 3 && l->kw == 3 &&
	       l->stride == 1 && l->pad == 1 && l->cout == l->in.c && !l->has_bias &&
	       dst->layers[j + 1].type == FNN_BN && dst->layers[j + 2].type == FNN_RELU &&
	       dst->layers[j - 1].type == FNN_RELU && dst->layers[j - 2].type == FNN_BN;
}

/* An inserted conv + BN + ReLU that passes its input through: identity
 * kernel, and a BN whose statistics are those of the input (the previous
 * BN's output N(beta, gamma^2) after the ReLU, a rectified Gaussian), so
 * that it is exact in eval mode and close with batch statistics. */
static void grow_identity(struct fnn *dst, int j)
{
	struct fnn_layer *l = &dst->layers[j], *bn = &dst->layers[j + 1];
	const struct fnn_layer *prev = &dst->layers[j - 2];
	int c = l->cout;

	memset(l->w, 0, sizeof(float) * (size_t)c * 9 * (size_t)c);
	for (int k = 0; k < c; k++) {
		double g = fabs(prev->gamma[k]) + 1e-6, b = prev->beta[k], z = b / g;
		double pdf = exp(-0.5 * z * z) / sqrt(2 * M_PI), cdf = 0.5 * erfc(-z / sqrt(2.0));
		double mean = b * cdf + g * pdf, sq = (b * b + g * g) * cdf + b * g * pdf;
		double var = sq - mean * mean > 1e-4 ? sq - mean * mean : 1e-4;

		l->w[((long)k * 9 + 4) * c + k] = 1.0f;
		bn->rmean[k] = (float)mean;
		bn->rvar[k] = (float)var;
		bn->gamma[k] = sqrtf((float)var + FNN_BN_EPS);
		bn->beta[k] = (float)mean;
	}
}

int fnn_grow(struct fnn *dst, struct fnn *src, uint64_t seed, float noise)
{
	int *in_map = NULL, *out_map = NULL, *in_cnt = NULL, *out_cnt = NULL, *wmap = NULL;
	float *wscale = NULL;
	int max_c = src->in.c, rc = -1, i, j;
	long max_w = 1;
	uint64_t rng = seed * 0x9e3779b97f4a7c15ULL + 1;

	/* widening a depthwise layer would widen its input too: not done */
	for (j = 0; j < src->n_layers || j < dst->n_layers; j++)
		if ((j < src->n_layers && src->layers[j].type == FNN_DWCONV) ||
		    (j < dst->n_layers && dst->layers[j].type == FNN_DWCONV)) {
			fprintf(stderr, "emotop-train: cannot grow '%s' into '%s': networks with "
					"depthwise layers (w) cannot be grown\n",
				src->arch, dst->arch);
			return -1;
		}
	if (dst->in.h != src->in.h || dst->in.w != src->in.w || dst->in.c != src->in.c ||
	    dst->n_out != src->n_out)
		goto mismatch;
	for (j = 0; j < dst->n_layers; j++) {
		const struct fnn_layer *d = &dst->layers[j];
		if (d->out.c > max_c)
			max_c = d->out.c;
		if (d->type == FNN_CONV && (long)d->cout * d->kh * d->kw * d->in.c > max_w)
			max_w = (long)d->cout * d->kh * d->kw * d->in.c;
	}
	in_map = malloc(sizeof(int) * (size_t)max_c);
	out_map = malloc(sizeof(int) * (size_t)max_c);
	in_cnt = calloc((size_t)max_c, sizeof(int));
	out_cnt = calloc((size_t)max_c, sizeof(int));
	wmap = malloc(sizeof(int) * (size_t)max_w);
	wscale = malloc(sizeof(float) * (size_t)max_w);
	if (!in_map || !out_map || !in_cnt || !out_cnt || !wmap || !wscale) {
		fprintf(stderr, "emotop-train: out of memory\n");
		goto out;
	}
	for (int c = 0; c < src->in.c; c++) {
		in_map[c] = c;
		in_cnt[c] = 1;
	}
	/* walk both nets: corresponding layers are copied (widened), extra
	 * conv + BN + ReLU groups in dst are inserted as identities */
	for (i = 0, j = 0; j < dst->n_layers; j++) {
		struct fnn_layer *d = &dst->layers[j], *s = i < src->n_layers ? &src->layers[i] : NULL;
		int cin = d->in.c, kk = d->kh * d->kw, scin;

		if (!s || d->type != s->type || d->out.h != s->out.h || d->out.w != s->out.w ||
		    d->out.c < s->out.c || d->kh != s->kh || d->kw != s->kw || d->stride != s->stride ||
		    d->has_bias != s->has_bias || d->k != s->k || d->in.c < s->in.c) {
			if (!grow_insertable(dst, j))
				goto mismatch;
			grow_identity(dst, j);
			j += 2;
			continue;
		}
		scin = s->in.c;
		i++;
		if (d->type == FNN_CONV) {
			/* new output channels copy a random old one */
			memset(out_cnt, 0, sizeof(int) * (size_t)max_c);
			for (int o = 0; o < d->cout; o++) {
				out_map[o] = o < s->cout ? o : (int)(fnn_rand_next(&rng) % (uint64_t)s->cout);
				out_cnt[out_map[o]]++;
			}
			for (int o = 0; o < d->cout; o++)
				for (int t = 0; t < kk; t++)
					for (int c = 0; c < cin; c++) {
						long di = ((long)o * kk + t) * cin + c;
						wmap[di] = (int)(((long)out_map[o] * kk + t) * scin + in_map[c]);
						wscale[di] = 1.0f / (float)in_cnt[in_map[c]];
					}
			grow_copy(dst, d->w, src, s->w, (long)d->cout * kk * cin, wmap, wscale);
			/* break the symmetry of the copies */
			for (int o = s->cout; o < d->cout; o++)
				for (long t = 0; t < (long)kk * cin; t++)
					d->w[(long)o * kk * cin + t] *= 1.0f + noise * fnn_rand_normal(&rng);
			if (d->has_bias)
				grow_copy(dst, d->b, src, s->b, d->cout, out_map, NULL);
			memcpy(in_map, out_map, sizeof(int) * (size_t)d->cout);
			memcpy(in_cnt, out_cnt, sizeof(int) * (size_t)max_c);
		} else if (d->type == FNN_BN) {
			grow_copy(dst, d->gamma, src, s->gamma, cin, in_map, NULL);
			grow_copy(dst, d->beta, src, s->beta, cin, in_map, NULL);
			grow_copy(dst, d->rmean, src, s->rmean, cin, in_map, NULL);
			grow_copy(dst, d->rvar, src, s->rvar, cin, in_map, NULL);
		} else if (d->type == FNN_DROPOUT) {
			d->p = s->p;
		}
	}
	if (i != src->n_layers)
		goto mismatch;
	rc = 0;
	goto out;
mismatch:
	fprintf(stderr, "emotop-train: cannot grow '%s' into '%s': the layers must correspond "
			"(widths may grow, 3x3 conv layers may be inserted after a ReLU)\n",
		src->arch, dst->arch);
out:
	free(in_map);
	free(out_map);
	free(in_cnt);
	free(out_cnt);
	free(wmap);
	free(wscale);
	return rc;
}

int fnn_average(struct fnn *avg, struct fnn *tmp, const char *const *paths, int n)
{
	if (n < 1)
		return -1;
	for (int i = 0; i < avg->n_params; i++)
		memset(avg->params[i].w, 0, sizeof(float) * (size_t)avg->params[i].n);
	for (int k = 0; k < n; k++) {
		if (fnn_load(tmp, paths[k], NULL, 0, NULL))
			return -1;
		for (int i = 0; i < avg->n_params; i++)
			for (long j = 0; j < avg->params[i].n; j++)
				avg->params[i].w[j] += tmp->params[i].w[j] / (float)n;
	}
	for (int i = 0; i < avg->n_layers; i++) {
		struct fnn_layer *l = &avg->layers[i];
		for (int c = 0; l->type == FNN_BN && c < l->in.c; c++) {
			l->rmean[c] = 0;
			l->rvar[c] = 1;
		}
	}
	return 0;
}

long fnn_param_count(const struct fnn *net)
{
	long n = 0;
	for (int i = 0; i < net->n_params; i++)
		n += net->params[i].n;
	return n;
}

double fnn_macs(const struct fnn *net)
{
	double m = 0;
	for (int i = 0; i < net->n_layers; i++) {
		const struct fnn_layer *l = &net->layers[i];
		if (l->type == FNN_CONV)
			m += (double)l->out.h * l->out.w * l->cout * l->kh * l->kw * l->in.c;
		else if (l->type == FNN_DWCONV)
			m += (double)l->out.h * l->out.w * l->cout * l->kh * l->kw;
	}
	return m;
}

/* Checkpoint layout (little-endian host, trainer-private):
 * magic[8] "EMOFNN02", u32 arch_len, arch, u32 with_opt, i32 opt (enum
 * fnn_opt of the moments), u64 rng (dropout), u32 extra_len, extra, then
 * per param: u64 n, w[n] (+ m[n], v[n] if with_opt), then per BN layer:
 * rmean[c], rvar[c]. "EMOFNN01" files lack opt and rng and are still read. */
static int wr(FILE *f, const void *p, size_t n)
{
	return fwrite(p, 1, n, f) == n ? 0 : -1;
}

static int rd(FILE *f, void *p, size_t n)
{
	return fread(p, 1, n, f) == n ? 0 : -1;
}

int fnn_save(const struct fnn *net, const char *path, const void *extra, uint32_t extra_len,
	     int with_opt)
{
	char *tmp = malloc(strlen(path) + sizeof(".tmp"));
	FILE *f = NULL;
	uint32_t al = (uint32_t)strlen(net->arch), wo = (uint32_t)with_opt;
	int32_t opt = with_opt ? net->opt : FNN_OPT_NONE;
	int rc = 0;

	if (!tmp) {
		fprintf(stderr, "emotop-train: out of memory\n");
		return -1;
	}
	sprintf(tmp, "%s.tmp", path);
	if (!(f = fopen(tmp, "wb"))) {
		fprintf(stderr, "emotop-train: %s: %s\n", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	rc |= wr(f, FNN_CKPT_MAGIC, 8) | wr(f, &al, 4) | wr(f, net->arch, al) | wr(f, &wo, 4) |
	      wr(f, &opt, 4) | wr(f, &net->rng, 8) | wr(f, &extra_len, 4) |
	      (extra_len ? wr(f, extra, extra_len) : 0);
	for (int i = 0; i < net->n_params; i++) {
		const struct fnn_param *p = &net->params[i];
		uint64_t n = (uint64_t)p->n;
		rc |= wr(f, &n, 8) | wr(f, p->w, sizeof(float) * n);
		if (with_opt)
			rc |= wr(f, p->m, sizeof(float) * n) | wr(f, p->v, sizeof(float) * n);
	}
	for (int i = 0; i < net->n_layers; i++) {
		const struct fnn_layer *l = &net->layers[i];
		if (l->type == FNN_BN)
			rc |= wr(f, l->rmean, sizeof(float) * (size_t)l->in.c) |
			      wr(f, l->rvar, sizeof(float) * (size_t)l->in.c);
	}
	/* on disk before the rename makes it the checkpoint */
	if (fflush(f) || fsync(fileno(f)))
		rc = -1;
	if (fclose(f))
		rc = -1;
	if (rc || rename(tmp, path)) {
		fprintf(stderr, "emotop-train: cannot write checkpoint %s: %s\n", path, strerror(errno));
		remove(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/* Open a checkpoint and read its header up to with_opt: the arch into arch
 * (len bytes), the format's version into *ver (1 or 2). */
static FILE *ckpt_open(const char *path, char *arch, size_t len, int *ver)
{
	char magic[8];
	uint32_t al;
	FILE *f = fopen(path, "rb");

	if (!f) {
		fprintf(stderr, "emotop-train: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (rd(f, magic, 8) ||
	    (memcmp(magic, FNN_CKPT_MAGIC, 8) && memcmp(magic, FNN_CKPT_MAGIC_V1, 8)) ||
	    rd(f, &al, 4) || al >= len || rd(f, arch, al)) {
		fprintf(stderr, "emotop-train: %s: not an emotop-train checkpoint\n", path);
		fclose(f);
		return NULL;
	}
	*ver = memcmp(magic, FNN_CKPT_MAGIC, 8) ? 1 : 2;
	arch[al] = '\0';
	return f;
}

/* After the arch: with_opt, and in version 2 the optimizer and RNG state
 * (opt FNN_OPT_UNKNOWN and rng untouched for version 1), then extra_len. */
static int ckpt_read_state(FILE *f, int ver, uint32_t *wo, int32_t *opt, uint64_t *rng, uint32_t *el)
{
	if (rd(f, wo, 4) || *wo > 1)
		return -1;
	*opt = *wo ? FNN_OPT_UNKNOWN : FNN_OPT_NONE;
	if (ver >= 2) {
		if (rd(f, opt, 4) || rd(f, rng, 8))
			return -1;
		if (*opt != FNN_SGD && *opt != FNN_ADAMW && *opt != FNN_OPT_UNKNOWN)
			*opt = FNN_OPT_NONE;
		if (!*wo)
			*opt = FNN_OPT_NONE;
	}
	return rd(f, el, 4);
}

int fnn_load_arch(const char *path, char *arch, size_t len)
{
	int ver;
	FILE *f = ckpt_open(path, arch, len, &ver);
	if (!f)
		return -1;
	fclose(f);
	return 0;
}

int fnn_load_extra(const char *path, void *buf, uint32_t cap, uint32_t *len)
{
	char arch[512];
	uint32_t wo, el;
	int32_t opt;
	uint64_t rng = 0;
	int ver;
	FILE *f = ckpt_open(path, arch, sizeof(arch), &ver);

	if (!f)
		return -1;
	if (ckpt_read_state(f, ver, &wo, &opt, &rng, &el) || el > cap || (el && rd(f, buf, el))) {
		fprintf(stderr, "emotop-train: %s: truncated or damaged checkpoint\n", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	*len = el;
	return 0;
}

int fnn_load(struct fnn *net, const char *path, void *extra, uint32_t extra_len, int *had_opt)
{
	char arch[512];
	uint32_t wo, el;
	int32_t opt;
	uint64_t rng = net->rng;
	int ver;
	FILE *f = ckpt_open(path, arch, sizeof(arch), &ver);

	if (!f)
		return -1;
	if (strcmp(arch, net->arch)) {
		fprintf(stderr, "emotop-train: %s: architecture '%s' differs from '%s'\n", path, arch,
			net->arch);
		goto fail;
	}
	if (ckpt_read_state(f, ver, &wo, &opt, &rng, &el))
		goto bad;
	if (!extra) {
		if (el && fseek(f, (long)el, SEEK_CUR))
			goto bad;
	} else if (el != extra_len || (el && rd(f, extra, el))) {
		goto bad;
	}
	for (int i = 0; i < net->n_params; i++) {
		struct fnn_param *p = &net->params[i];
		uint64_t n;
		if (rd(f, &n, 8) || n != (uint64_t)p->n || rd(f, p->w, sizeof(float) * n))
			goto bad;
		if (wo && (rd(f, p->m, sizeof(float) * n) || rd(f, p->v, sizeof(float) * n)))
			goto bad;
		if (!wo) {
			memset(p->m, 0, sizeof(float) * n);
			memset(p->v, 0, sizeof(float) * n);
		}
	}
	for (int i = 0; i < net->n_layers; i++) {
		struct fnn_layer *l = &net->layers[i];
		if (l->type == FNN_BN && (rd(f, l->rmean, sizeof(float) * (size_t)l->in.c) ||
					  rd(f, l->rvar, sizeof(float) * (size_t)l->in.c)))
			goto bad;
	}
	fclose(f);
	net->opt = opt;
	net->rng = rng;
	if (had_opt)
		*had_opt = (int)wo;
	return 0;
bad:
	fprintf(stderr, "emotop-train: %s: truncated or damaged checkpoint\n", path);
fail:
	fclose(f);
	return -1;
}
