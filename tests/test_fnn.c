/* test_fnn.c - the trainer's float layers: forward against naive reference
 * code, backward against numerical gradients, checkpoints, the FER readers,
 * and a tiny end-to-end training run on synthetic data that must learn. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>

#include "train/data.h"
#include "train/fnn.h"
#include "train/train.h"
#include "unit.h"

static uint64_t trng = 12345;

static float frand(void)
{
	trng = trng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (float)((trng >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

/* Naive NHWC conv: out[b][oy][ox][co] = sum w[co][ky][kx][ci] * in + bias */
static void naive_conv(const struct fnn_layer *l, const float *x, float *y, int n)
{
	for (int b = 0; b < n; b++)
		for (int oy = 0; oy < l->out.h; oy++)
			for (int ox = 0; ox < l->out.w; ox++)
				for (int co = 0; co < l->cout; co++) {
					double s = l->has_bias ? l->b[co] : 0;
					for (int ky = 0; ky < l->kh; ky++)
						for (int kx = 0; kx < l->kw; kx++)
							for (int ci = 0; ci < l->in.c; ci++) {
								int iy = oy * l->stride - l->pad + ky;
								int ix = ox * l->stride - l->pad + kx;
								if (iy < 0 || ix < 0 || iy >= l->in.h || ix >= l->in.w)
									continue;
								s += (double)l->w[((co * l->kh + ky) * l->kw + kx) * l->in.c + ci] *
								     x[((b * l->in.h + iy) * l->in.w + ix) * l->in.c + ci];
							}
					y[((b * l->out.h + oy) * l->out.w + ox) * l->cout + co] = (float)s;
				}
}

TEST(conv_matches_naive)
{
	const char *archs[] = {"h5", "c4/s2", "k3"};
	for (int a = 0; a < 3; a++) {
		struct fnn *net = fnn_new(archs[a], (struct fnn_shape){7, 6, 3}, 3);
		int n = 2;
		float x[2 * 7 * 6 * 3], ref[2 * 7 * 6 * 8];
		const float *y;
		ASSERT(net);
		for (int i = 0; i < 2 * 7 * 6 * 3; i++)
			x[i] = frand();
		for (int i = 0; i < net->layers[0].cout; i++)
			net->layers[0].b[i] = frand();
		fnn_forward(net, x, n, 0);
		y = net->layers[0].y;
		naive_conv(&net->layers[0], x, ref, n);
		for (int i = 0; i < n * net->layers[0].out.h * net->layers[0].out.w * net->layers[0].cout; i++)
			ASSERT_NEAR(y[i], ref[i], 1e-4);
		fnn_free(net);
	}
}

/* Naive NHWC depthwise conv: out[b][oy][ox][c] = sum w[c][ky][kx] * in[..][c] */
static void naive_dwconv(const struct fnn_layer *l, const float *x, float *y, int n)
{
	for (int b = 0; b < n; b++)
		for (int oy = 0; oy < l->out.h; oy++)
			for (int ox = 0; ox < l->out.w; ox++)
				for (int c = 0; c < l->in.c; c++) {
					double s = 0;
					for (int ky = 0; ky < l->kh; ky++)
						for (int kx = 0; kx < l->kw; kx++) {
							int iy = oy * l->stride - l->pad + ky;
							int ix = ox * l->stride - l->pad + kx;
							if (iy < 0 || ix < 0 || iy >= l->in.h || ix >= l->in.w)
								continue;
							s += (double)l->w[(c * l->kh + ky) * l->kw + kx] *
							     x[((b * l->in.h + iy) * l->in.w + ix) * l->in.c + c];
						}
					y[((b * l->out.h + oy) * l->out.w + ox) * l->in.c + c] = (float)s;
				}
}

/* The depthwise element: w and w/s2 parse (depthwise conv, BN, ReLU;
 * channels kept; He-normal weights with fan-in 9), malformed ones do not,
 * the forward pass matches naive code, params and MACs are counted, and
 * grow refuses it. */
TEST(dwconv_parse_and_forward)
{
	static const struct {
		const char *arch;
		int h, w, c, oh, ow;
	} ok[] = {
		{"w", 7, 5, 3, 7, 5},
		{"w/s2", 7, 5, 3, 4, 3},
		{"w/s2", 8, 6, 2, 4, 3},
		{"w", 1, 1, 4, 1, 1},
	};
	const char *bad[] = {"w3", "w/s3", "w/s1", "w/s2x", "ws2", "w/", "w,w3", "k4,w/s3"};
	float x[2 * 8 * 6 * 3], ref[2 * 8 * 6 * 3];

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fnn *net = fnn_new(bad[i], (struct fnn_shape){8, 8, 2}, 1);
		if (net) {
			fnn_free(net);
			UNIT_FAILF("accepted bad arch '%s'", bad[i]);
		}
	}
	for (unsigned a = 0; a < sizeof(ok) / sizeof(ok[0]); a++) {
		struct fnn *net = fnn_new(ok[a].arch, (struct fnn_shape){ok[a].h, ok[a].w, ok[a].c}, 3);
		const struct fnn_layer *l;
		const int n = 2, nin = ok[a].h * ok[a].w * ok[a].c;
		double sq = 0;
		ASSERT(net);
		ASSERT_EQ(net->n_layers, 3);
		l = &net->layers[0];
		ASSERT_EQ(l->type, FNN_DWCONV);
		ASSERT_EQ(net->layers[1].type, FNN_BN);
		ASSERT_EQ(net->layers[2].type, FNN_RELU);
		ASSERT_EQ(l->kh * 10 + l->kw, 33);
		ASSERT_EQ(l->pad, 1);
		ASSERT_EQ(l->stride, ok[a].arch[1] ? 2 : 1);
		ASSERT_EQ(l->out.h, ok[a].oh);
		ASSERT_EQ(l->out.w, ok[a].ow);
		ASSERT_EQ(l->out.c, ok[a].c);
		ASSERT_EQ(l->cout, ok[a].c);
		ASSERT(!l->has_bias && !l->b);
		ASSERT_EQ(net->n_out, ok[a].oh * ok[a].ow * ok[a].c);
		/* depthwise weights, then BN gamma and beta */
		ASSERT_EQ(net->n_params, 3);
		ASSERT_EQ(net->params[0].n, 9 * ok[a].c);
		ASSERT(net->params[0].w == l->w && net->params[0].decay);
		ASSERT_EQ(fnn_param_count(net), 11 * ok[a].c);
		ASSERT_NEAR(fnn_macs(net), 9.0 * ok[a].oh * ok[a].ow * ok[a].c, 0);
		for (int i = 0; i < 9 * ok[a].c; i++)
			sq += (double)l->w[i] * l->w[i];
		/* He-normal over a fan-in of 9: variance 2/9 (loose: few samples) */
		ASSERT(sq / (9 * ok[a].c) > 0.02 && sq / (9 * ok[a].c) < 1.0);
		for (int i = 0; i < n * nin; i++)
			x[i] = frand();
		fnn_forward(net, x, n, 0);
		naive_dwconv(l, x, ref, n);
		for (int i = 0; i < n * ok[a].oh * ok[a].ow * ok[a].c; i++)
			ASSERT_NEAR(l->y[i], ref[i], 1e-5);
		fnn_free(net);
	}
	/* in a network: shapes follow, the RNG is drawn in layer order */
	{
		struct fnn *net = fnn_new("k4,w/s2,w,k6,g,o3", (struct fnn_shape){9, 7, 1}, 3);
		struct fnn *k = fnn_new("k4", (struct fnn_shape){9, 7, 1}, 3);
		ASSERT(net && k);
		ASSERT_EQ(net->layers[3].type, FNN_DWCONV);
		ASSERT_EQ(net->layers[3].out.h * 100 + net->layers[3].out.w * 10 + net->layers[3].out.c,
			  544);
		ASSERT_EQ(net->layers[6].out.h * 100 + net->layers[6].out.w * 10 + net->layers[6].out.c,
			  544);
		ASSERT_EQ(net->n_out, 3);
		/* the first layer's weights are those of the net without w */
		ASSERT(!memcmp(net->layers[0].w, k->layers[0].w, sizeof(float) * 4));
		fnn_free(net);
		fnn_free(k);
	}
	/* grow refuses depthwise networks */
	{
		struct fnn *a = fnn_new("k4,w,g,o3", (struct fnn_shape){6, 6, 1}, 5);
		struct fnn *b = fnn_new("k6,w,g,o3", (struct fnn_shape){6, 6, 1}, 5);
		ASSERT(a && b);
		ASSERT(fnn_grow(b, a, 3, 0.0f) != 0);
		fnn_free(a);
		fnn_free(b);
	}
}

TEST(bad_arch_rejected)
{
	const char *bad[] = {"", "c", "c0", "x3", "c8/s3", "d1.5", "p,p,p,p", "o7junk", "f0"};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fnn *net = fnn_new(bad[i], (struct fnn_shape){8, 8, 1}, 1);
		if (net) {
			fnn_free(net);
			UNIT_FAILF("accepted bad arch '%s'", bad[i]);
		}
	}
}

/* loss of the network on fixed inputs, BN in training mode, no dropout */
static double net_loss(struct fnn *net, const float *x, const int *lab, int n)
{
	const float *z = fnn_forward(net, x, n, 1);
	float *dz = malloc(sizeof(float) * (size_t)n * net->n_out);
	double l = fnn_softmax_xent(z, lab, n, net->n_out, 0.1f, NULL, dz, NULL);
	free(dz);
	return l;
}

TEST(gradient_check)
{
	/* every layer type the classifier uses, small enough for finite
	 * differences in double-checked float */
	struct fnn *net = fnn_new("c3,p,k4,c4/s2,g,f5,o4", (struct fnn_shape){8, 8, 2}, 7);
	const int n = 3, nin = 8 * 8 * 2;
	float x[3 * 8 * 8 * 2], dz[3 * 4];
	int lab[3] = {0, 3, 1}, checked = 0, bad = 0;
	const float *z;

	ASSERT(net);
	for (int i = 0; i < n * nin; i++)
		x[i] = frand();
	z = fnn_forward(net, x, n, 1);
	fnn_softmax_xent(z, lab, n, 4, 0.1f, NULL, dz, NULL);
	fnn_zero_grad(net);
	fnn_backward(net, x, dz, n);
	for (int p = 0; p < net->n_params; p++) {
		struct fnn_param *pr = &net->params[p];
		for (long j = 0; j < pr->n; j += 1 + pr->n / 7) {
			float keep = pr->w[j], eps = 2e-3f;
			double lp, lm, num, ana = pr->g[j];
			pr->w[j] = keep + eps;
			lp = net_loss(net, x, lab, n);
			pr->w[j] = keep - eps;
			lm = net_loss(net, x, lab, n);
			pr->w[j] = keep;
			num = (lp - lm) / (2 * eps);
			checked++;
			if (fabs(num - ana) > 2e-3 + 0.05 * fabs(num)) {
				bad++;
				fprintf(stderr, "  param %d[%ld]: numeric %g analytic %g\n", p, j, num, ana);
			}
		}
	}
	fnn_free(net);
	ASSERT(checked > 40);
	ASSERT_EQ(bad, 0);
}

/* Central difference of the loss in *v (an input or a weight) at step eps. */
static double numeric_grad(struct fnn *net, float *v, const float *x, const int *lab, int n,
			   float eps)
{
	float keep = *v;
	double lp, lm;

	*v = keep + eps;
	lp = net_loss(net, x, lab, n);
	*v = keep - eps;
	lm = net_loss(net, x, lab, n);
	*v = keep;
	return (lp - lm) / (2 * eps);
}

/* Does the analytic gradient ana match the numeric one of *v? A ReLU input
 * within eps of its kink spoils a difference: a mismatch is retried with a
 * step 8 times smaller before it counts. */
static int grad_ok(struct fnn *net, float *v, const float *x, const int *lab, int n, double ana,
		   double *num)
{
	for (float eps = 2e-3f; eps > 2e-4f; eps /= 8) {
		*num = numeric_grad(net, v, x, lab, n, eps);
		if (fabs(*num - ana) <= 2e-3 + 0.05 * fabs(*num))
			return 1;
	}
	return 0;
}

/* Numerical gradient check of the depthwise layer: its weight gradient,
 * and its input gradient, read from a leading d0 (dropout with p = 0, an
 * identity whose dy is then dL/dx), at stride 1 and 2, on odd sizes, in a
 * network with BN in training mode. */
TEST(dwconv_gradient_check)
{
	static const struct {
		const char *arch;
		struct fnn_shape in;
		int dw[2]; /* layer indices of the depthwise layers (-1: none) */
	} nets[] = {
		{"d0,w,g,o4", {7, 5, 3}, {1, -1}},
		{"d0,w/s2,g,o4", {7, 9, 2}, {1, -1}},
		{"d0,w/s2,k3,w,g,o4", {5, 7, 2}, {1, 7}},
	};
	int checked = 0, bad = 0;

	for (unsigned a = 0; a < sizeof(nets) / sizeof(nets[0]); a++) {
		struct fnn *net = fnn_new(nets[a].arch, nets[a].in, 7 + a);
		const int n = 3, nin = nets[a].in.h * nets[a].in.w * nets[a].in.c;
		float *x = malloc(sizeof(float) * (size_t)n * nin);
		float *gx = malloc(sizeof(float) * (size_t)n * nin);
		float dz[3 * 4];
		int lab[3] = {0, 3, 1};
		const float *z;

		ASSERT(net && x && gx);
		for (int k = 0; k < 2; k++)
			ASSERT(nets[a].dw[k] < 0 || net->layers[nets[a].dw[k]].type == FNN_DWCONV);
		for (int i = 0; i < n * nin; i++)
			x[i] = frand();
		z = fnn_forward(net, x, n, 1);
		fnn_softmax_xent(z, lab, n, 4, 0.1f, NULL, dz, NULL);
		fnn_zero_grad(net);
		fnn_backward(net, x, dz, n);
		memcpy(gx, net->layers[0].dy, sizeof(float) * (size_t)n * nin);
		/* input gradient: every element */
		for (int j = 0; j < n * nin; j++) {
			double num;
			checked++;
			if (!grad_ok(net, &x[j], x, lab, n, gx[j], &num)) {
				bad++;
				fprintf(stderr, "  %s: dx[%d]: numeric %g analytic %g\n", nets[a].arch, j, num,
					(double)gx[j]);
			}
		}
		/* weight gradients of the depthwise layers: every element */
		for (int k = 0; k < 2 && nets[a].dw[k] >= 0; k++) {
			struct fnn_layer *l = &net->layers[nets[a].dw[k]];
			for (int j = 0; j < 9 * l->in.c; j++) {
				double num, ana = l->gw[j];
				checked++;
				if (!grad_ok(net, &l->w[j], x, lab, n, ana, &num)) {
					bad++;
					fprintf(stderr, "  %s: layer %d gw[%d]: numeric %g analytic %g\n",
						nets[a].arch, nets[a].dw[k], j, num, ana);
				}
			}
		}
		fnn_free(net);
		free(x);
		free(gx);
	}
	ASSERT(checked > 500);
	ASSERT_EQ(bad, 0);
}

TEST(softmax_xent)
{
	float z[2 * 3] = {1, 2, 3, 0, 0, 0}, d[6];
	int lab[2] = {2, 0}, hits = 0;
	float w[3] = {1, 1, 1};
	double l = fnn_softmax_xent(z, lab, 2, 3, 0.0f, w, d, &hits);
	/* -log softmax: (log(e+e^2+e^3) - 3 + log 3) / 2 */
	double ref = (log(exp(1) + exp(2) + exp(3)) - 3 + log(3)) / 2;
	ASSERT_NEAR(l, ref, 1e-5);
	ASSERT_EQ(hits, 2); /* row 2 ties: argmax 0 */
	/* gradients of each row sum to zero */
	ASSERT_NEAR(d[0] + d[1] + d[2], 0, 1e-6);
	ASSERT_NEAR(d[3], (1.0 / 3 - 1) / 2, 1e-6);
}

TEST(checkpoint_roundtrip)
{
	char path[] = "/tmp/emotop-fnn-XXXXXX";
	int fd = mkstemp(path), had = 0;
	struct fnn *a = fnn_new("c4,p,f6,o3", (struct fnn_shape){6, 6, 1}, 5);
	struct fnn *b = fnn_new("c4,p,f6,o3", (struct fnn_shape){6, 6, 1}, 99);
	struct fnn *c = fnn_new("c5,p,f6,o3", (struct fnn_shape){6, 6, 1}, 5);
	long extra = 4242, got = 0;
	float x[36];
	const float *ya;
	float keep[3];

	ASSERT(fd >= 0 && a && b && c);
	close(fd);
	for (int i = 0; i < 36; i++)
		x[i] = frand();
	a->layers[1].rmean[0] = 0.25f;
	ya = fnn_forward(a, x, 1, 0);
	memcpy(keep, ya, sizeof(keep));
	ASSERT_EQ(fnn_save(a, path, &extra, sizeof(extra), 1), 0);
	ASSERT_EQ(fnn_load(b, path, &got, sizeof(got), &had), 0);
	ASSERT_EQ(got, 4242);
	ASSERT_EQ(had, 1);
	ya = fnn_forward(b, x, 1, 0);
	for (int i = 0; i < 3; i++)
		ASSERT_NEAR(ya[i], keep[i], 1e-6);
	/* a different architecture is refused */
	ASSERT(fnn_load(c, path, NULL, 0, NULL) != 0);
	/* a truncated file is refused */
	ASSERT_EQ(truncate(path, 100), 0);
	ASSERT(fnn_load(b, path, NULL, 0, NULL) != 0);
	unlink(path);
	fnn_free(a);
	fnn_free(b);
	fnn_free(c);
}

static void randomise_bn(struct fnn *n)
{
	for (int i = 0; i < n->n_layers; i++) {
		struct fnn_layer *l = &n->layers[i];
		if (l->type != FNN_BN)
			continue;
		for (int c = 0; c < l->in.c; c++) {
			l->gamma[c] = 1.0f + 0.5f * frand();
			l->beta[c] = 0.5f * frand();
			l->rmean[c] = 0.5f * frand();
			l->rvar[c] = 1.0f + 0.5f * frand();
		}
	}
}

/* The bytes of a file into a new buffer (*len bytes); NULL on error. */
static char *slurp(const char *path, long *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (*len = ftell(f)) > 0 && !fseek(f, 0, SEEK_SET) &&
	    (buf = malloc((size_t)*len)) && fread(buf, 1, (size_t)*len, f) != (size_t)*len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* An architecture without depthwise layers builds as before that element
 * existed: the same parameters in the same order, the same initial weights
 * from the same random stream (golden values measured on the trainer before
 * w), the same checkpoint size; a checkpoint loaded into a net of another
 * seed and saved again is byte-identical, and computes the same. */
TEST(checkpoint_existing_arch_unchanged)
{
	static const long sizes[] = {36, 4, 4, 12, 3, 3, 135, 5, 5, 120, 6, 6, 18, 3};
	char p1[] = "/tmp/emotop-fnn-XXXXXX", p2[] = "/tmp/emotop-fnn-XXXXXX";
	int f1 = mkstemp(p1), f2 = mkstemp(p2), np;
	struct fnn *a = fnn_new("c4,k3,p,c5/s2,d0.2,f6,o3", (struct fnn_shape){9, 9, 1}, 5);
	struct fnn *b = fnn_new("c4,k3,p,c5/s2,d0.2,f6,o3", (struct fnn_shape){9, 9, 1}, 99);
	float x[2 * 81], keep[6];
	double sum = 0;
	char *ba = NULL, *bb = NULL;
	long la = 0, lb = 0;

	ASSERT(f1 >= 0 && f2 >= 0 && a && b);
	close(f1);
	close(f2);
	ASSERT_EQ(a->n_params, (int)(sizeof(sizes) / sizeof(sizes[0])));
	for (int i = 0; i < a->n_params; i++) {
		ASSERT_EQ(a->params[i].n, sizes[i]);
		for (long j = 0; j < a->params[i].n; j++)
			sum += a->params[i].w[j];
	}
	np = a->n_params;
	ASSERT_NEAR(sum, 17.3052424, 1e-5);
	ASSERT_NEAR(a->params[0].w[0], 0.00220981659, 1e-8);
	ASSERT_NEAR(a->params[np - 2].w[a->params[np - 2].n - 1], 0.457120836, 1e-6);
	ASSERT_NEAR(fnn_macs(a), 4566, 0);
	for (int i = 0; i < 2 * 81; i++)
		x[i] = frand();
	randomise_bn(a);
	memcpy(keep, fnn_forward(a, x, 2, 0), sizeof(keep));
	ASSERT_EQ(fnn_save(a, p1, "xy", 2, 1), 0);
	ASSERT_EQ(fnn_load(b, p1, NULL, 0, NULL), 0);
	ASSERT_EQ(fnn_save(b, p2, "xy", 2, 1), 0);
	ba = slurp(p1, &la);
	bb = slurp(p2, &lb);
	ASSERT(ba && bb);
	ASSERT_EQ(la, 4634);
	ASSERT(la == lb && !memcmp(ba, bb, (size_t)la));
	free(ba);
	free(bb);
	{
		const float *y = fnn_forward(b, x, 2, 0);
		for (int i = 0; i < 6; i++)
			ASSERT_NEAR(y[i], keep[i], 0);
	}
	unlink(p1);
	unlink(p2);
	fnn_free(a);
	fnn_free(b);
}

/* A network with depthwise layers: its checkpoint round-trips (weights and
 * BN statistics), and averaging two copies of it gives the same weights. */
TEST(dwconv_checkpoint_and_average)
{
	char p1[] = "/tmp/emotop-fnn-XXXXXX";
	int f1 = mkstemp(p1);
	const char *paths[2] = {p1, p1};
	struct fnn *a = fnn_new("k4,w/s2,w,k5,g,o3", (struct fnn_shape){7, 7, 1}, 5);
	struct fnn *b = fnn_new("k4,w/s2,w,k5,g,o3", (struct fnn_shape){7, 7, 1}, 6);
	struct fnn *c = fnn_new("k4,w/s2,w,k5,g,o3", (struct fnn_shape){7, 7, 1}, 7);
	float x[2 * 49], keep[6];
	const float *y;

	ASSERT(f1 >= 0 && a && b && c);
	close(f1);
	for (int i = 0; i < 2 * 49; i++)
		x[i] = frand();
	randomise_bn(a);
	memcpy(keep, fnn_forward(a, x, 2, 0), sizeof(keep));
	ASSERT_EQ(fnn_save(a, p1, NULL, 0, 1), 0);
	ASSERT_EQ(fnn_load(b, p1, NULL, 0, NULL), 0);
	y = fnn_forward(b, x, 2, 0);
	for (int i = 0; i < 6; i++)
		ASSERT_NEAR(y[i], keep[i], 0);
	ASSERT_EQ(fnn_average(c, b, paths, 2), 0);
	for (int i = 0; i < a->n_params; i++)
		for (long j = 0; j < a->params[i].n; j++)
			ASSERT_NEAR(c->params[i].w[j], a->params[i].w[j], 1e-6 * (1 + fabs(a->params[i].w[j])));
	unlink(p1);
	fnn_free(a);
	fnn_free(b);
	fnn_free(c);
}

TEST(grow_keeps_function)
{
	struct fnn *a = fnn_new("c4,k5,p,c3/s2,f6,o3", (struct fnn_shape){8, 8, 1}, 5);
	struct fnn *b = fnn_new("c7,k9,p,c6/s2,f10,o3", (struct fnn_shape){8, 8, 1}, 6);
	struct fnn *c = fnn_new("c7,k9,p,c6/s2,f10,o3", (struct fnn_shape){8, 8, 1}, 6);
	struct fnn *bad1 = fnn_new("c3,k5,p,c3/s2,f6,o3", (struct fnn_shape){8, 8, 1}, 6);
	struct fnn *bad2 = fnn_new("c4,k5,p,c3,f6,o3", (struct fnn_shape){8, 8, 1}, 6);
	struct fnn *bad3 = fnn_new("c4,k5,c3/s2,f6,o3", (struct fnn_shape){8, 8, 1}, 6);
	float x[4 * 64], ya[4 * 3], ta[4 * 3];
	const float *y;
	double dmax = 0;

	ASSERT(a && b && c && bad1 && bad2 && bad3);
	ASSERT_EQ(fnn_reserve(a, 4), 0);
	ASSERT_EQ(fnn_reserve(b, 4), 0);
	ASSERT_EQ(fnn_reserve(c, 4), 0);
	for (int i = 0; i < 4 * 64; i++)
		x[i] = frand();
	randomise_bn(a);
	a->params[0].m[3] = 0.125f;
	a->params[0].v[3] = 0.5f;
	memcpy(ya, fnn_forward(a, x, 4, 0), sizeof(ya));
	/* exact copies (no noise): the same function */
	ASSERT_EQ(fnn_grow(b, a, 3, 0.0f), 0);
	/* with symmetry-breaking noise: close, not equal */
	ASSERT_EQ(fnn_grow(c, a, 3, 0.01f), 0);
	y = fnn_forward(b, x, 4, 0);
	for (int i = 0; i < 12; i++)
		ASSERT_NEAR(y[i], ya[i], 1e-4 * (1 + fabs(ya[i])));
	y = fnn_forward(c, x, 4, 0);
	for (int i = 0; i < 12; i++) {
		ASSERT_NEAR(y[i], ya[i], 0.05 * (1 + fabs(ya[i])));
		if (fabs(y[i] - ya[i]) > dmax)
			dmax = fabs(y[i] - ya[i]);
	}
	ASSERT(dmax > 0);
	/* old channels keep their weights and optimizer moments */
	ASSERT_NEAR(b->params[0].m[3], 0.125f, 1e-7);
	ASSERT_NEAR(b->params[0].v[3], 0.5f, 1e-7);
	ASSERT_NEAR(b->layers[0].w[3], a->layers[0].w[3], 1e-7);
	/* batch statistics (train mode) agree too */
	memcpy(ta, fnn_forward(a, x, 4, 1), sizeof(ta));
	y = fnn_forward(b, x, 4, 1);
	for (int i = 0; i < 12; i++)
		ASSERT_NEAR(y[i], ta[i], 1e-3 * (1 + fabs(ta[i])));
	/* narrower, another stride, a missing layer: refused */
	ASSERT(fnn_grow(bad1, a, 3, 0.0f) != 0);
	ASSERT(fnn_grow(bad2, a, 3, 0.0f) != 0);
	ASSERT(fnn_grow(bad3, a, 3, 0.0f) != 0);
	fnn_free(a);
	fnn_free(b);
	fnn_free(c);
	fnn_free(bad1);
	fnn_free(bad2);
	fnn_free(bad3);
}

TEST(grow_deeper)
{
	/* inserted 3x3 layers start as identities (eval mode exact) */
	const char *to[] = {"c4,c4,k5,p,c3/s2,c3,f6,o3", "c7,c7,k9,p,c6/s2,c6,f10,o3"};
	struct fnn *a = fnn_new("c4,k5,p,c3/s2,f6,o3", (struct fnn_shape){8, 8, 1}, 5);
	struct fnn *bad = fnn_new("c4,k5,p,c4/s2,c3,f6,o3", (struct fnn_shape){8, 8, 1}, 6);
	float x[4 * 64], ya[12];
	const float *y;

	ASSERT(a && bad);
	ASSERT_EQ(fnn_reserve(a, 4), 0);
	for (int i = 0; i < 4 * 64; i++)
		x[i] = frand();
	randomise_bn(a);
	memcpy(ya, fnn_forward(a, x, 4, 0), sizeof(ya));
	for (int t = 0; t < 2; t++) {
		struct fnn *b = fnn_new(to[t], (struct fnn_shape){8, 8, 1}, 6);
		ASSERT(b);
		ASSERT_EQ(fnn_reserve(b, 4), 0);
		ASSERT_EQ(b->n_layers, a->n_layers + 6);
		ASSERT_EQ(fnn_grow(b, a, 3, 0.0f), 0);
		y = fnn_forward(b, x, 4, 0);
		for (int i = 0; i < 12; i++)
			ASSERT_NEAR(y[i], ya[i], 1e-4 * (1 + fabs(ya[i])));
		/* batch statistics: finite, the inserted BN starts near the data */
		y = fnn_forward(b, x, 4, 1);
		for (int i = 0; i < 12; i++)
			ASSERT(isfinite(y[i]));
		fnn_free(b);
	}
	/* an inserted layer that changes the width is not an identity */
	ASSERT(fnn_grow(bad, a, 3, 0.0f) != 0);
	fnn_free(a);
	fnn_free(bad);
}

TEST(checkpoint_extra)
{
	char path[] = "/tmp/emotop-fnn-XXXXXX", buf[16];
	int fd = mkstemp(path);
	uint32_t len = 0;
	struct fnn *a = fnn_new("c4,p,f6,o3", (struct fnn_shape){6, 6, 1}, 5);

	ASSERT(fd >= 0 && a);
	close(fd);
	ASSERT_EQ(fnn_save(a, path, "training", 8, 0), 0);
	ASSERT_EQ(fnn_load_extra(path, buf, sizeof(buf), &len), 0);
	ASSERT_EQ(len, 8);
	ASSERT(!memcmp(buf, "training", 8));
	ASSERT(fnn_load_extra(path, buf, 4, &len) != 0); /* no room */
	ASSERT_EQ(truncate(path, 20), 0);
	ASSERT(fnn_load_extra(path, buf, sizeof(buf), &len) != 0);
	unlink(path);
	fnn_free(a);
}

TEST(learns_synthetic)
{
	/* three classes of 12x12 images: a bright bar that is horizontal,
	 * vertical or diagonal, at random positions, with noise */
	const int S = 12, N = 384, B = 32;
	struct fnn *net = fnn_new("c8,p,c16,p,d0.1,f16,o3", (struct fnn_shape){S, S, 1}, 11);
	float *x = calloc((size_t)N * S * S, sizeof(float)), dz[32 * 3];
	int *lab = calloc((size_t)N, sizeof(int)), hits = 0;

	ASSERT(net && x && lab);
	for (int i = 0; i < N; i++) {
		int k = i % 3, o = (int)((frand() + 1) * 4) + 2;
		float *im = x + (size_t)i * S * S;
		lab[i] = k;
		for (int p = 0; p < S * S; p++)
			im[p] = 0.2f * (frand() + 1);
		for (int t = 1; t < S - 1; t++) {
			int yy = k == 0 ? o : t, xx = k == 1 ? o : t;
			im[yy * S + xx] = 1.0f;
		}
	}
	for (long step = 1; step <= 150; step++) {
		int off = (int)((step * B) % N);
		const float *z = fnn_forward(net, x + (size_t)off * S * S, B, 1);
		fnn_softmax_xent(z, lab + off, B, 3, 0.0f, NULL, dz, NULL);
		fnn_zero_grad(net);
		fnn_backward(net, x + (size_t)off * S * S, dz, B);
		fnn_step(net, FNN_SGD, 0.05f, 0.9f, 1e-4f, step);
	}
	for (int i = 0; i < N; i += B) {
		int c = 0;
		const float *z = fnn_forward(net, x + (size_t)i * S * S, B, 0);
		fnn_softmax_xent(z, lab + i, B, 3, 0.0f, NULL, NULL, &c);
		hits += c;
	}
	fnn_free(net);
	free(x);
	free(lab);
	/* chance is 1/3 */
	ASSERT(hits > N * 9 / 10);
}

TEST(adamw_learns)
{
	/* a linear problem AdamW must fit: class = sign of the first input */
	struct fnn *net = fnn_new("o2", (struct fnn_shape){1, 1, 4}, 3);
	float x[64 * 4], dz[64 * 2];
	int lab[64], hits = 0;
	ASSERT(net);
	for (int i = 0; i < 64; i++) {
		for (int j = 0; j < 4; j++)
			x[i * 4 + j] = frand();
		lab[i] = x[i * 4] > 0;
	}
	for (long t = 1; t <= 200; t++) {
		const float *z = fnn_forward(net, x, 64, 1);
		fnn_softmax_xent(z, lab, 64, 2, 0.0f, NULL, dz, NULL);
		fnn_zero_grad(net);
		fnn_backward(net, x, dz, 64);
		fnn_step(net, FNN_ADAMW, 0.05f, 0.9f, 0.0f, t);
	}
	fnn_softmax_xent(fnn_forward(net, x, 64, 0), lab, 64, 2, 0, NULL, NULL, &hits);
	fnn_free(net);
	ASSERT(hits >= 62);
}

/* Distillation's term: its gradient is the loss's (central differences),
 * it is T^2 times the cross-entropy at temperature T, and a target that is
 * the network's own softened output gives no gradient. */
TEST(soft_xent_gradient)
{
	const int n = 3, k = 7;
	float z[21], t[21], d[21], d2[21];
	const float T = 2.5f;

	for (int i = 0; i < n * k; i++)
		z[i] = (float)((i * 37) % 11) * 0.4f - 2.0f;
	for (int i = 0; i < n; i++) {
		float s = 0;
		for (int j = 0; j < k; j++)
			s += t[i * k + j] = (float)(1 + (i + 2 * j) % 5);
		for (int j = 0; j < k; j++)
			t[i * k + j] /= s;
	}
	float L = fnn_soft_xent(z, t, n, k, T, d);
	ASSERT(L > 0);
	for (int i = 0; i < n * k; i++) {
		float zp[21], zm[21];
		memcpy(zp, z, sizeof(z));
		memcpy(zm, z, sizeof(z));
		zp[i] += 1e-2f;
		zm[i] -= 1e-2f;
		float g = (fnn_soft_xent(zp, t, n, k, T, NULL) - fnn_soft_xent(zm, t, n, k, T, NULL)) / 2e-2f;
		ASSERT_NEAR(d[i], g, 2e-3);
	}
	/* the same targets at T = 1 without the factor: plain cross-entropy */
	double ce = 0;
	for (int i = 0; i < n; i++) {
		double mx = -1e9, s = 0;
		for (int j = 0; j < k; j++)
			mx = z[i * k + j] > mx ? z[i * k + j] : mx;
		for (int j = 0; j < k; j++)
			s += exp(z[i * k + j] - mx);
		for (int j = 0; j < k; j++)
			ce -= t[i * k + j] * (z[i * k + j] - mx - log(s));
	}
	ASSERT_NEAR(fnn_soft_xent(z, t, n, k, 1, NULL), ce / n, 1e-4);
	/* its own softened output: no gradient */
	for (int i = 0; i < n; i++) {
		double s = 0;
		for (int j = 0; j < k; j++)
			s += exp(z[i * k + j] / T);
		for (int j = 0; j < k; j++)
			t[i * k + j] = (float)(exp(z[i * k + j] / T) / s);
	}
	fnn_soft_xent(z, t, n, k, T, d2);
	for (int i = 0; i < n * k; i++)
		ASSERT_NEAR(d2[i], 0, 1e-6);
}

/* Mixup's weight (train_rand_beta): Beta(a, a) draws stay in [0, 1] with
 * mean 1/2 and variance 1 / (4 (2a + 1)), for a below 1 (the Gamma draw's
 * boost) and above, and a tiny a stays near 0 and 1. */
TEST(beta_draws)
{
	const float as[] = {0.2f, 1.0f, 4.0f};
	uint64_t s0 = 7;
	int extreme = 0;

	/* a tiny a: nearly every draw at 0 or 1, none at the 1/2 that an
	 * underflow of both Gamma draws gave */
	for (int i = 0; i < 1000; i++) {
		float v = train_rand_beta(&s0, 0.001f);
		ASSERT(v >= 0 && v <= 1 && v != 0.5f);
		extreme += v < 0.01f || v > 0.99f;
	}
	ASSERT(extreme >= 990);
	for (int k = 0; k < 3; k++) {
		uint64_t s = 42;
		double sum = 0, sq = 0, want = 1.0 / (4.0 * (2.0 * as[k] + 1.0));
		const int n = 20000;

		for (int i = 0; i < n; i++) {
			float v = train_rand_beta(&s, as[k]);
			ASSERT(v >= 0 && v <= 1);
			sum += v;
			sq += (double)v * v;
		}
		ASSERT_NEAR(sum / n, 0.5, 0.01);
		ASSERT_NEAR(sq / n - (sum / n) * (sum / n), want, 0.1 * want);
	}
}

TEST(augment_identity_and_bounds)
{
	uint8_t src[48 * 48];
	float dst[48 * 48];
	struct augment aug = {.rot_deg = 15, .scale = 0.2f, .shift = 0.1f, .flip = 1,
			      .brightness = 0.2f, .contrast = 0.3f, .erase = 1.0f};
	for (int i = 0; i < 48 * 48; i++)
		src[i] = (uint8_t)(i * 7);
	fer_augment(src, dst, NULL, 1);
	for (int i = 0; i < 48 * 48; i++)
		ASSERT_NEAR(dst[i], src[i] / 255.0, 1e-6);
	for (uint64_t s = 0; s < 50; s++) {
		float again[48 * 48];
		fer_augment(src, dst, &aug, s);
		fer_augment(src, again, &aug, s);
		ASSERT(!memcmp(dst, again, sizeof(dst)));
		for (int i = 0; i < 48 * 48; i++)
			ASSERT(dst[i] >= 0 && dst[i] <= 1);
	}
}

/* Camera faults (--jpeg, --noise, --lowlight), each alone: a draw is
 * reproducible, stays in 0..1, and changes the face the way it should in
 * about the share of draws it should: noise adds pixel-to-pixel variation
 * on a flat face, low light leaves few grey levels on a smooth ramp, JPEG
 * changes a busy face. */
TEST(augment_camera_faults)
{
	uint8_t flat[48 * 48], ramp[48 * 48], busy[48 * 48];
	float dst[48 * 48], again[48 * 48];
	struct augment noise = {.noise = 0.1f}, dark = {.lowlight = 1.0f}, jpeg = {.jpeg = 20};
	int noisy = 0, posterized = 0, compressed = 0;

	for (int i = 0; i < 48 * 48; i++) {
		flat[i] = 128;
		ramp[i] = (uint8_t)(i % 48 * 5);
		busy[i] = (uint8_t)((i * 2654435761u) >> 24);
	}
	for (uint64_t s = 0; s < 60; s++) {
		double var = 0;
		int levels = 0;
		uint8_t seen[256] = {0};
		fer_augment(flat, dst, &noise, s);
		fer_augment(flat, again, &noise, s);
		ASSERT(!memcmp(dst, again, sizeof(dst)));
		for (int i = 0; i < 48 * 48; i++) {
			ASSERT(dst[i] >= 0 && dst[i] <= 1);
			var += (dst[i] - 128 / 255.0) * (dst[i] - 128 / 255.0) / (48 * 48);
		}
		noisy += var > 1e-6;
		fer_augment(ramp, dst, &dark, s);
		for (int i = 0; i < 48; i++) /* one row of the ramp, noise aside */
			seen[(int)(dst[i] * 255 + 0.5f)] = 1;
		for (int v = 0; v < 256; v++)
			levels += seen[v];
		posterized += levels < 48;
		fer_augment(busy, dst, &jpeg, s);
		for (int i = 0; i < 48 * 48; i++)
			if (fabsf(dst[i] - busy[i] / 255.0f) > 1.5f / 255) {
				compressed++;
				break;
			}
	}
	ASSERT(noisy >= 15 && noisy <= 45);         /* about half */
	ASSERT(posterized >= 50);                   /* every draw (a few by chance not) */
	ASSERT(compressed >= 8 && compressed <= 35); /* about a third */
}

/* Side light (--sidelight 1): every draw is reproducible, stays in 0..1,
 * turns a flat face into a plane tilted some way (a light from one side)
 * and puts the mean and spread back to facenorm's. */
TEST(augment_side_light)
{
	uint8_t flat[48 * 48], busy[48 * 48];
	float dst[48 * 48], again[48 * 48];
	struct augment side = {.sidelight = 1.0f};
	int dirs[4] = {0, 0, 0, 0}, full = 0;

	for (int i = 0; i < 48 * 48; i++) {
		flat[i] = 128;
		busy[i] = (uint8_t)(64 + ((i * 2654435761u) >> 25));
	}
	for (uint64_t s = 0; s < 80; s++) {
		double sum = 0, sq = 0, gx = 0, gy = 0, sd;
		fer_augment(flat, dst, &side, s);
		fer_augment(flat, again, &side, s);
		ASSERT(!memcmp(dst, again, sizeof(dst)));
		for (int y = 0; y < 48; y++)
			for (int x = 0; x < 48; x++) {
				float v = dst[y * 48 + x];
				ASSERT(v >= 0 && v <= 1);
				sum += v;
				sq += (double)v * v;
				gx += v * (x - 23.5);
				gy += v * (y - 23.5);
			}
		/* mean 128/255; the spread 64/255 (clamping may cut it a bit) */
		ASSERT_NEAR(sum / (48 * 48), 128 / 255.0, 0.02);
		sd = sqrt(sq / (48 * 48) - (sum / (48 * 48)) * (sum / (48 * 48)));
		ASSERT(sd < 1.02 * 64 / 255.0);
		full += sd > 0.8 * 64 / 255.0;
		ASSERT(fabs(gx) + fabs(gy) > 1.0);
		dirs[(gx > 0) * 2 + (gy > 0)]++;
		fer_augment(busy, dst, &side, s);
		for (int i = 0; i < 48 * 48; i++)
			ASSERT(dst[i] >= 0 && dst[i] <= 1);
	}
	for (int q = 0; q < 4; q++) /* the light comes from every side */
		ASSERT(dirs[q] >= 8);
	/* stretched to the full spread, but for the faintest ramps (k < 0.08,
	 * one draw in eight), which facenorm's minimum spread holds back */
	ASSERT(full >= 60);
}

/* Blur augmentation (--aug-blur): only geometry-free settings, so what
 * changes is the blur alone. About half the draws blur (a checkerboard's
 * pixel-to-pixel contrast drops), the rest leave the face as it is, and a
 * draw is reproducible. */
TEST(augment_blur)
{
	uint8_t src[48 * 48];
	float dst[48 * 48], again[48 * 48];
	struct augment aug = {.blur = 3};
	int blurred = 0, same = 0, strong = 0;
	double tv0 = 0;

	for (int y = 0; y < 48; y++)
		for (int x = 0; x < 48; x++)
			src[y * 48 + x] = (uint8_t)(((x / 2 + y / 2) % 2) ? 200 : 50);
	for (int y = 0; y < 48; y++)
		for (int x = 0; x + 1 < 48; x++)
			tv0 += abs(src[y * 48 + x + 1] - src[y * 48 + x]) / 255.0;
	for (uint64_t s = 0; s < 200; s++) {
		double tv = 0;
		fer_augment(src, dst, &aug, s);
		fer_augment(src, again, &aug, s);
		ASSERT(!memcmp(dst, again, sizeof(dst)));
		for (int y = 0; y < 48; y++)
			for (int x = 0; x + 1 < 48; x++)
				tv += fabs(dst[y * 48 + x + 1] - dst[y * 48 + x]);
		/* total variation: as it was, or lower (strongly: sigma up to 3) */
		ASSERT(tv < tv0 + 1e-3);
		same += fabs(tv - tv0) < 1e-3;
		blurred += tv < tv0 - 1e-3;
		strong += tv < 0.3 * tv0;
	}
	ASSERT_EQ(same + blurred, 200);
	ASSERT(blurred > 70 && blurred < 130);
	ASSERT(strong > 10 && strong < blurred);
}

/* train_grow: room appears only when the array is full, doubling from
 * `first`, and the elements already there are kept. */
TEST(array_grow_doubles_and_keeps)
{
	int *v = NULL, cap = 0;

	for (int n = 0; n < 100; n++) {
		ASSERT_EQ(train_grow(&v, &cap, n, sizeof(*v), 8), 0);
		ASSERT(cap > n);
		ASSERT(cap == 8 || cap == 16 || cap == 32 || cap == 64 || cap == 128);
		v[n] = n * 3;
	}
	ASSERT_EQ(cap, 128);
	ASSERT_EQ(train_grow(&v, &cap, 50, sizeof(*v), 8), 0); /* not full: as it was */
	ASSERT_EQ(cap, 128);
	for (int n = 0; n < 100; n++)
		ASSERT_EQ(v[n], n * 3);
	free(v);
}

/* The detector's JPEG-artefact augmentation: a round trip keeps the image
 * close (a smooth gradient survives quality 50 within a few levels), a low
 * quality visibly degrades texture, and bad arguments are refused. */
TEST(jpeg_roundtrip)
{
	uint8_t img[96 * 96], orig[96 * 96];
	double err50 = 0, err5 = 0;

	for (int y = 0; y < 96; y++)
		for (int x = 0; x < 96; x++)
			orig[y * 96 + x] = (uint8_t)(x * 2 + y + ((x / 4 + y / 4) % 2) * 40);
	memcpy(img, orig, sizeof(img));
	ASSERT_EQ(jpeg_roundtrip_gray(img, 96, 96, 50), 0);
	for (int i = 0; i < 96 * 96; i++)
		err50 += abs(img[i] - orig[i]);
	memcpy(img, orig, sizeof(img));
	ASSERT_EQ(jpeg_roundtrip_gray(img, 96, 96, 5), 0);
	for (int i = 0; i < 96 * 96; i++)
		err5 += abs(img[i] - orig[i]);
	err50 /= 96 * 96;
	err5 /= 96 * 96;
	ASSERT(err50 > 0 && err50 < 6);
	ASSERT(err5 > err50);
	ASSERT_EQ(jpeg_roundtrip_gray(img, 96, 96, 0), -1);
	ASSERT_EQ(jpeg_roundtrip_gray(img, 0, 96, 50), -1);
	ASSERT_EQ(jpeg_roundtrip_gray(NULL, 96, 96, 50), -1);
}

TEST(fer_csv_reader)
{
	char path[] = "/tmp/emotop-fer-XXXXXX.csv";
	int fd = mkstemps(path, 4);
	FILE *f;
	struct fer_set s;

	ASSERT(fd >= 0);
	f = fdopen(fd, "w");
	fprintf(f, "emotion,pixels,Usage\n");
	for (int r = 0; r < 3; r++) {
		fprintf(f, "%d,", r * 2);
		for (int i = 0; i < 2304; i++)
			fprintf(f, "%s%d", i ? " " : "", (i + r) % 256);
		fprintf(f, ",%s\n", r == 1 ? "PublicTest" : "Training");
	}
	fclose(f);
	ASSERT_EQ(fer_load(path, "Training", &s), 0);
	ASSERT_EQ(s.n, 2);
	ASSERT_EQ(s.label[0], 0);
	ASSERT_EQ(s.label[1], 4);
	ASSERT_EQ(s.px[2304 + 5], 7);
	fer_free(&s);
	ASSERT_EQ(fer_load(path, "PublicTest", &s), 0);
	ASSERT_EQ(s.n, 1);
	ASSERT_EQ(s.label[0], 2);
	fer_free(&s);
	/* a malformed row: too few pixels */
	f = fopen(path, "w");
	fprintf(f, "emotion,pixels,Usage\n3,1 2 3,Training\n");
	fclose(f);
	ASSERT(fer_load(path, NULL, &s) != 0);
	/* a bad label */
	f = fopen(path, "w");
	fprintf(f, "9,");
	for (int i = 0; i < 2304; i++)
		fprintf(f, "0 ");
	fprintf(f, ",Training\n");
	fclose(f);
	ASSERT(fer_load(path, NULL, &s) != 0);
	ASSERT(fer_load("/nonexistent/fer2013.csv", NULL, &s) != 0);
	unlink(path);
}

TEST(fer_folder_reader)
{
	char dir[4096];
	struct fer_set s;
	snprintf(dir, sizeof(dir), "%s/data/fer2013/test", unit_shared());
	if (access(dir, R_OK))
		SKIP("FER2013 not found at %s", dir);
	ASSERT_EQ(fer_load(dir, NULL, &s), 0);
	ASSERT_EQ(s.n, 3589);
	ASSERT_EQ(s.count[1], 56);
	ASSERT_EQ(s.count[3], 895);
	fer_free(&s);
}


/* A checkpoint path longer than 1024 bytes (five nested folders of 250
 * characters): saved under its own name, the temporary file beside it gone
 * (the temporary name was cut at 1024 bytes). */
TEST(checkpoint_long_path)
{
	char root[] = "/tmp/emotop-fnn-XXXXXX", path[2048], seg[251], tmp[2100];
	struct fnn *a = fnn_new("c4,p,f6,o3", (struct fnn_shape){6, 6, 1}, 5);
	struct fnn *b = fnn_new("c4,p,f6,o3", (struct fnn_shape){6, 6, 1}, 7);
	char dirs[5][2048];

	ASSERT(mkdtemp(root) && a && b);
	memset(seg, 'd', 250);
	seg[250] = '\0';
	snprintf(path, sizeof(path), "%s", root);
	for (int i = 0; i < 5; i++) {
		size_t n = strlen(path);
		snprintf(path + n, sizeof(path) - n, "/%s", seg);
		ASSERT_EQ(mkdir(path, 0755), 0);
		snprintf(dirs[i], sizeof(dirs[i]), "%s", path);
	}
	{
		size_t n = strlen(path);
		snprintf(path + n, sizeof(path) - n, "/net.ckpt");
	}
	ASSERT(strlen(path) > 1100);
	ASSERT_EQ(fnn_save(a, path, NULL, 0, 1), 0);
	ASSERT_EQ(fnn_load(b, path, NULL, 0, NULL), 0);
	ASSERT(!memcmp(a->params[0].w, b->params[0].w, sizeof(float) * (size_t)a->params[0].n));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ASSERT(access(tmp, F_OK) != 0);
	unlink(path);
	for (int i = 4; i >= 0; i--)
		rmdir(dirs[i]);
	rmdir(root);
	fnn_free(a);
	fnn_free(b);
}

/* The optimizer's type and the dropout RNG are stored (EMOFNN02); a
 * checkpoint without optimizer state loads as none, with zeroed moments;
 * an EMOFNN01 checkpoint (the shipped ones) still loads, its optimizer
 * unknown; fnn_resume_check refuses what a resume cannot continue. */
TEST(checkpoint_optimizer_state)
{
	char path[] = "/tmp/emotop-fnn-XXXXXX";
	int fd = mkstemp(path);
	struct fnn *a = fnn_new("c4,p,d0.3,f6,o3", (struct fnn_shape){6, 6, 1}, 5);
	struct fnn *b = fnn_new("c4,p,d0.3,f6,o3", (struct fnn_shape){6, 6, 1}, 99);
	float x[2 * 36];
	int lab[2] = {0, 2};
	float dz[6];
	FILE *f;
	char *buf;
	long n;

	ASSERT(fd >= 0 && a && b);
	close(fd);
	ASSERT_EQ(a->opt, FNN_OPT_NONE);
	for (int i = 0; i < 72; i++)
		x[i] = frand();
	for (int step = 1; step <= 2; step++) {
		const float *z = fnn_forward(a, x, 2, 1);
		fnn_softmax_xent(z, lab, 2, 3, 0, NULL, dz, NULL);
		fnn_zero_grad(a);
		fnn_backward(a, x, dz, 2);
		fnn_step(a, FNN_ADAMW, 0.01f, 0.9f, 0, step);
	}
	ASSERT_EQ(a->opt, FNN_ADAMW);
	ASSERT_EQ(fnn_save(a, path, NULL, 0, 1), 0);
	ASSERT_EQ(fnn_load(b, path, NULL, 0, NULL), 0);
	ASSERT_EQ(b->opt, FNN_ADAMW);
	ASSERT(b->rng == a->rng);
	ASSERT(!memcmp(a->params[0].m, b->params[0].m, sizeof(float) * (size_t)a->params[0].n));
	ASSERT_EQ(fnn_resume_check(b, path, FNN_ADAMW, "--reset-optimizer"), 0);
	ASSERT(fnn_resume_check(b, path, FNN_SGD, "--reset-optimizer") != 0);
	/* the same dropout masks follow */
	{
		const float *za = fnn_forward(a, x, 2, 1);
		float keep[6];
		memcpy(keep, za, sizeof(keep));
		za = fnn_forward(b, x, 2, 1);
		for (int i = 0; i < 6; i++)
			ASSERT_NEAR(za[i], keep[i], 0);
	}
	/* without optimizer state: none, moments zeroed */
	ASSERT_EQ(fnn_save(a, path, NULL, 0, 0), 0);
	ASSERT_EQ(fnn_load(b, path, NULL, 0, NULL), 0);
	ASSERT_EQ(b->opt, FNN_OPT_NONE);
	ASSERT(b->params[0].m[0] == 0 && b->params[0].v[0] == 0);
	ASSERT(fnn_resume_check(b, path, FNN_ADAMW, "--reset-optimizer") != 0);
	/* EMOFNN01: the same without the 12 bytes of opt and rng */
	ASSERT_EQ(fnn_save(a, path, NULL, 0, 1), 0);
	f = fopen(path, "rb");
	ASSERT(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n);
	ASSERT(buf && fread(buf, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	{
		uint32_t al;
		long at;
		memcpy(&al, buf + 8, 4);
		at = 12 + (long)al + 4; /* after with_opt */
		memcpy(buf, "EMOFNN01", 8);
		memmove(buf + at, buf + at + 12, (size_t)(n - at - 12));
		f = fopen(path, "wb");
		ASSERT(f && fwrite(buf, 1, (size_t)(n - 12), f) == (size_t)(n - 12));
		fclose(f);
	}
	free(buf);
	b->rng = 77;
	ASSERT_EQ(fnn_load(b, path, NULL, 0, NULL), 0);
	ASSERT_EQ(b->opt, FNN_OPT_UNKNOWN);
	ASSERT(b->rng == 77);
	ASSERT(!memcmp(a->params[0].w, b->params[0].w, sizeof(float) * (size_t)a->params[0].n));
	ASSERT(!memcmp(a->params[0].v, b->params[0].v, sizeof(float) * (size_t)a->params[0].n));
	ASSERT_EQ(fnn_resume_check(b, path, FNN_SGD, "--reset-optimizer"), 0);
	fnn_reset_opt(b);
	ASSERT_EQ(b->opt, FNN_OPT_NONE);
	ASSERT(b->params[0].v[0] == 0);
	unlink(path);
	fnn_free(a);
	fnn_free(b);
}

/* A w x h gray JPEG of a gradient, written with libjpeg. */
static int write_jpeg(const char *path, int w, int h)
{
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr e;
	FILE *f = fopen(path, "wb");
	uint8_t row[512];

	if (!f || w > 512)
		return -1;
	c.err = jpeg_std_error(&e);
	jpeg_create_compress(&c);
	jpeg_stdio_dest(&c, f);
	c.image_width = (JDIMENSION)w;
	c.image_height = (JDIMENSION)h;
	c.input_components = 1;
	c.in_color_space = JCS_GRAYSCALE;
	jpeg_set_defaults(&c);
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < c.image_height) {
		JSAMPROW r = row;
		for (int x = 0; x < w; x++)
			row[x] = (uint8_t)((x * 7 + (int)c.next_scanline * 13) & 255);
		jpeg_write_scanlines(&c, &r, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	return fclose(f);
}

/* A truncated JPEG (libjpeg pads it and warns) is not a readable image: not
 * for jpeg_load_gray, and a FER folder holding one is an error. */
TEST(jpeg_truncated_refused)
{
	char root[] = "/tmp/emotop-jpg-XXXXXX", p[4200];
	uint8_t *px = NULL;
	int w = 0, h = 0;
	struct fer_set s;
	struct stat sb;
	const char *const cls[7] = {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"};

	ASSERT(mkdtemp(root));
	for (int c = 0; c < 7; c++) {
		snprintf(p, sizeof(p), "%s/%s", root, cls[c]);
		ASSERT_EQ(mkdir(p, 0755), 0);
		snprintf(p, sizeof(p), "%s/%s/a.jpg", root, cls[c]);
		ASSERT_EQ(write_jpeg(p, 48, 48), 0);
	}
	ASSERT_EQ(jpeg_load_gray(p, &px, &w, &h), 0);
	ASSERT(w == 48 && h == 48);
	free(px);
	ASSERT_EQ(jpeg_size(p, &w, &h), 0);
	ASSERT(w == 48 && h == 48);
	ASSERT_EQ(fer_load(root, NULL, &s), 0);
	ASSERT_EQ(s.n, 7);
	fer_free(&s);
	ASSERT_EQ(stat(p, &sb), 0);
	ASSERT_EQ(truncate(p, sb.st_size / 2), 0);
	ASSERT(jpeg_load_gray(p, &px, &w, &h) != 0);
	ASSERT(px == NULL);
	ASSERT(fer_load(root, NULL, &s) != 0);
	ASSERT_EQ(s.n, 0);
	for (int c = 0; c < 7; c++) {
		snprintf(p, sizeof(p), "%s/%s/a.jpg", root, cls[c]);
		unlink(p);
		snprintf(p, sizeof(p), "%s/%s", root, cls[c]);
		rmdir(p);
	}
	rmdir(root);
}

/* Usage values other than FER2013's three, and labels that only fit after
 * a cast to int, are errors naming the line. */
TEST(fer_csv_strict)
{
	char path[] = "/tmp/emotop-fer-XXXXXX.csv";
	int fd = mkstemps(path, 4);
	FILE *f;
	struct fer_set s;
	const char *bad[2] = {"4294967299", "3"};
	const char *use[2] = {"Training", "Trainig"};

	ASSERT(fd >= 0);
	close(fd);
	for (int k = 0; k < 2; k++) {
		f = fopen(path, "w");
		ASSERT(f);
		fprintf(f, "emotion,pixels,Usage\n");
		for (int r = 0; r < 2; r++) {
			fprintf(f, "%s,", r ? bad[k] : "1");
			for (int i = 0; i < 2304; i++)
				fprintf(f, "%s%d", i ? " " : "", i % 256);
			fprintf(f, ",%s\n", r ? use[k] : "Training");
		}
		fclose(f);
		ASSERT(fer_load(path, "Training", &s) != 0);
		ASSERT_EQ(s.n, 0);
	}
	unlink(path);
}

/* Strict numbers for options: all of it a number, within the range. */
TEST(parse_int_strict)
{
	long v = 0;
	float fv = 0;

	ASSERT_EQ(train_parse_int("--epochs", "a count", "12", 1, 100, &v), 0);
	ASSERT_EQ(v, 12);
	ASSERT(train_parse_int("--epochs", "a count", "1x", 1, 100, &v) != 0);
	ASSERT(train_parse_int("--epochs", "a count", "", 1, 100, &v) != 0);
	ASSERT(train_parse_int("--epochs", "a count", "0", 1, 100, &v) != 0);
	ASSERT(train_parse_int("--seed", "a number", "99999999999999999999", 0, 2147483647, &v) != 0);
	ASSERT(train_parse_range("--lr", "a rate", "abc", 0, 10, &fv) != 0);
	ASSERT(train_parse_range("--lr", "a rate", "nan", 0, 10, &fv) != 0);
}

int main(int argc, char **argv)
{
	unit_init(argc, argv);
	RUN(conv_matches_naive);
	RUN(bad_arch_rejected);
	RUN(softmax_xent);
	RUN(gradient_check);
	RUN(dwconv_parse_and_forward);
	RUN(dwconv_gradient_check);
	RUN(checkpoint_roundtrip);
	RUN(checkpoint_existing_arch_unchanged);
	RUN(dwconv_checkpoint_and_average);
	RUN(grow_keeps_function);
	RUN(grow_deeper);
	RUN(checkpoint_extra);
	RUN(learns_synthetic);
	RUN(adamw_learns);
	RUN(soft_xent_gradient);
	RUN(beta_draws);
	RUN(augment_identity_and_bounds);
	RUN(augment_blur);
	RUN(augment_camera_faults);
	RUN(augment_side_light);
	RUN(array_grow_doubles_and_keeps);
	RUN(jpeg_roundtrip);
	RUN(fer_csv_reader);
	RUN(fer_folder_reader);
	RUN(checkpoint_long_path);
	RUN(checkpoint_optimizer_state);
	RUN(jpeg_truncated_refused);
	RUN(fer_csv_strict);
	RUN(parse_int_strict);
	return unit_done();
}
