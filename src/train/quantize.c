/* quantize.c - float checkpoint -> int8 qnn model (BN folding, activation
 * calibration on training faces, per-channel symmetric int8 weights,
 * fixed-point multipliers), and the `eval` command (int8 and float
 * accuracy, per-class accuracy, confusion matrix, optional JSON). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emotop/blob.h"
#include "emotop/classify.h"
#include "emotop/facenorm.h"
#include "emotop/emotion.h"
#include "emotop/qnn.h"
#include "train/quantize.h"
#include "train/train.h"

#define QUANT_BN_EPS 1e-5f
#define QUANT_HIST_BINS 8192

/* A run of fnn layers that becomes one qnn layer. */
struct qgroup {
	int first, last;     /* fnn layer indices (inclusive) */
	int conv, bn, relu;  /* fnn indices or -1; conv: FNN_CONV or FNN_DWCONV */
	int pool, gap;
};

static int group_layers(const struct fnn *net, struct qgroup *g, int max)
{
	int n = 0;

	for (int i = 0; i < net->n_layers;) {
		const struct fnn_layer *l = &net->layers[i];
		struct qgroup q = {.first = i, .conv = -1, .bn = -1, .relu = -1, .pool = -1, .gap = -1};

		if (l->type == FNN_DROPOUT) {
			i++;
			continue;
		}
		if (n == max)
			return -1;
		if (l->type == FNN_CONV || l->type == FNN_DWCONV) {
			q.conv = i++;
			if (i < net->n_layers && net->layers[i].type == FNN_BN)
				q.bn = i++;
			if (i < net->n_layers && net->layers[i].type == FNN_RELU)
				q.relu = i++;
		} else if (l->type == FNN_MAXPOOL) {
			q.pool = i++;
		} else if (l->type == FNN_GAP) {
			q.gap = i++;
		} else {
			fprintf(stderr, "emotop-train: layer %d (type %d) cannot be quantized on its own\n", i,
				l->type);
			return -1;
		}
		q.last = i - 1;
		g[n++] = q;
	}
	return n;
}

/* Calibrate the clip value of each group's output over calibration images:
 * a histogram of |activation| per group, clip at the given percentile. */
static int calibrate(struct fnn *net, const struct qgroup *g, int ng, const struct fer_set *cal,
		     int n_cal, double pct, float *clip_out, float *min_out)
{
	const int B = 128, N = FER_SIZE * FER_SIZE;
	float *x = malloc(sizeof(float) * (size_t)B * N);
	float *mx = calloc((size_t)ng, sizeof(float)), *mn = calloc((size_t)ng, sizeof(float));
	double *hist = calloc((size_t)ng * QUANT_HIST_BINS, sizeof(double));
	int rc = -1;

	if (!x || !mx || !mn || !hist)
		goto out;
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < n_cal; i += B) {
			int n = n_cal - i < B ? n_cal - i : B;
			for (int j = 0; j < n; j++)
				fer_augment(cal->px + (size_t)(i + j) * N, x + (size_t)j * N, NULL, 0);
			fnn_forward(net, x, n, 0);
			for (int k = 0; k < ng; k++) {
				const struct fnn_layer *l = &net->layers[g[k].last];
				long sz = (long)l->out.h * l->out.w * l->out.c * n;
				for (long t = 0; t < sz; t++) {
					float v = l->y[t];
					if (pass == 0) {
						if (v > mx[k])
							mx[k] = v;
						if (v < mn[k])
							mn[k] = v;
					} else if (mx[k] > 0 && v > 0) {
						int b = (int)(v / mx[k] * (QUANT_HIST_BINS - 1));
						hist[(size_t)k * QUANT_HIST_BINS + b]++;
					}
				}
			}
		}
	}
	for (int k = 0; k < ng; k++) {
		double tot = 0, acc = 0;
		int b;
		for (b = 0; b < QUANT_HIST_BINS; b++)
			tot += hist[(size_t)k * QUANT_HIST_BINS + b];
		for (b = 0; b < QUANT_HIST_BINS; b++) {
			acc += hist[(size_t)k * QUANT_HIST_BINS + b];
			if (acc >= tot * pct / 100.0)
				break;
		}
		clip_out[k] = tot > 0 ? mx[k] * (float)(b + 1) / QUANT_HIST_BINS : 1.0f;
		if (pct >= 100.0 || clip_out[k] > mx[k])
			clip_out[k] = mx[k] > 0 ? mx[k] : 1.0f;
		min_out[k] = mn[k];
	}
	rc = 0;
out:
	free(x);
	free(mx);
	free(mn);
	free(hist);
	return rc;
}

int quantize_fnn(struct fnn *net, const struct fer_set *cal, int n_cal, double pct,
		 const char *meta, struct qnn_model **out)
{
	struct qgroup g[QNN_MAX_LAYERS];
	float clip[QNN_MAX_LAYERS], mn[QNN_MAX_LAYERS];
	struct qnn_model *m = NULL;
	int ng, cur = 0;

	*out = NULL;
	ng = group_layers(net, g, QNN_MAX_LAYERS - 1);
	if (ng <= 0)
		return -1;
	if (n_cal > cal->n)
		n_cal = cal->n;
	if (fnn_reserve(net, 128) || calibrate(net, g, ng, cal, n_cal, pct, clip, mn))
		return -1;
	if (!(m = calloc(1, sizeof(*m))))
		return -1;
	snprintf(m->meta, sizeof(m->meta), "%s", meta ? meta : "");
	m->n_tensors = 1;
	m->tensors[0].scale = 1.0f / 255.0f;
	m->tensors[0].zero_point = 0;
	m->tensors[0].c = net->in.c;
	for (int k = 0; k < ng; k++) {
		struct qnn_layer *q = &m->layers[m->n_layers++];
		struct qnn_tensor *ti = &m->tensors[cur], *to = &m->tensors[m->n_tensors];
		const struct fnn_layer *last = &net->layers[g[k].last];
		int final = k == ng - 1;

		memset(q, 0, sizeof(*q));
		q->in = cur;
		q->in2 = -1;
		q->out = m->n_tensors++;
		to->c = last->out.c;
		if (g[k].pool >= 0 || g[k].gap >= 0) {
			const struct fnn_layer *l = &net->layers[g[k].pool >= 0 ? g[k].pool : g[k].gap];
			q->type = g[k].pool >= 0 ? QNN_MAXPOOL : QNN_GAP;
			q->kh = q->kw = q->stride = l->k;
			q->cin = q->cout = l->in.c;
			to->scale = ti->scale;
			to->zero_point = ti->zero_point;
		} else {
			const struct fnn_layer *c = &net->layers[g[k].conv];
			const struct fnn_layer *bn = g[k].bn >= 0 ? &net->layers[g[k].bn] : NULL;
			/* depthwise: groups = cin = cout, weights [cout][kh][kw][1],
			 * the layout fnn keeps them in */
			int dw = c->type == FNN_DWCONV;
			long K = (long)c->kh * c->kw * (dw ? 1 : c->in.c);
			float s_out;

			q->type = QNN_CONV;
			q->kh = c->kh;
			q->kw = c->kw;
			q->stride = c->stride;
			q->pad = c->pad;
			q->groups = dw ? c->in.c : 1;
			q->relu = g[k].relu >= 0;
			q->float_out = final && g[k].relu < 0;
			q->cin = c->in.c;
			q->cout = c->cout;
			if (q->float_out) {
				to->scale = 1.0f;
				to->zero_point = 0;
			} else if (q->relu) {
				to->scale = clip[k] / 255.0f;
				to->zero_point = 0;
			} else {
				float lo = mn[k] < 0 ? mn[k] : 0, hi = clip[k] > 0 ? clip[k] : 1e-3f;
				to->scale = (hi - lo) / 255.0f;
				to->zero_point = (int32_t)lrintf(-lo / to->scale);
			}
			s_out = to->scale;
			q->w = malloc((size_t)q->cout * (size_t)K);
			q->bias = malloc(sizeof(int32_t) * (size_t)q->cout);
			q->mult = malloc(sizeof(int32_t) * (size_t)q->cout);
			q->shift = malloc(sizeof(int32_t) * (size_t)q->cout);
			q->w_scale = malloc(sizeof(float) * (size_t)q->cout);
			if (!q->w || !q->bias || !q->mult || !q->shift || !q->w_scale)
				goto fail;
			for (int co = 0; co < q->cout; co++) {
				float a = 1.0f, b = c->has_bias ? c->b[co] : 0.0f, amax = 0, ws;
				const float *wr = c->w + (size_t)co * K;
				double bq;
				if (bn) {
					a = bn->gamma[co] / sqrtf(bn->rvar[co] + QUANT_BN_EPS);
					b = bn->beta[co] + a * (b - bn->rmean[co]);
				}
				for (long t = 0; t < K; t++)
					if (fabsf(a * wr[t]) > amax)
						amax = fabsf(a * wr[t]);
				ws = amax > 0 ? amax / 127.0f : 1e-8f;
				q->w_scale[co] = ws;
				for (long t = 0; t < K; t++) {
					long v = lrintf(a * wr[t] / ws);
					q->w[(size_t)co * K + t] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
				}
				bq = (double)b / ((double)ti->scale * ws);
				if (bq > 2147483647.0)
					bq = 2147483647.0;
				if (bq < -2147483647.0)
					bq = -2147483647.0;
				q->bias[co] = (int32_t)llround(bq);
				qnn_quantize_multiplier((double)ti->scale * ws / s_out, &q->mult[co], &q->shift[co]);
			}
		}
		cur = q->out;
	}
	*out = m;
	return 0;
fail:
	qnn_model_free(m);
	return -1;
}

/* The int8 logits of model m for every face of set, or of its mirror
 * image (flip): out[n][*nc] (nc 2 to 7, alike for every call when *nc is
 * set). 0, or -1 with a message. */
static int int8_logits(struct qnn_model *m, const struct fer_set *set, int flip, float *out, int *nc)
{
	struct emo_err err = {0};
	struct qnn_ctx *ctx = qnn_ctx_new(m, FER_SIZE, FER_SIZE, QNN_PATH_AUTO, &err);
	int rc = -1;

	if (!ctx) {
		fprintf(stderr, "emotop-train: %s\n", err.msg);
		return -1;
	}
	for (int i = 0; i < set->n; i++) {
		uint8_t mir[FER_SIZE * FER_SIZE];
		const uint8_t *src = set->px + (size_t)i * FER_SIZE * FER_SIZE;
		const float *z = NULL;
		const uint8_t *qz = NULL;
		int c = 0;
		if (flip) {
			for (int y = 0; y < FER_SIZE; y++)
				for (int x = 0; x < FER_SIZE; x++)
					mir[y * FER_SIZE + x] = src[y * FER_SIZE + FER_SIZE - 1 - x];
			src = mir;
		}
		if (qnn_run(ctx, src, FER_SIZE, FER_SIZE, FER_SIZE) ||
		    qnn_tensor_get(ctx, m->layers[m->n_layers - 1].out, NULL, NULL, &c, &qz, &z) || !z ||
		    c < 2 || c > 7 || (*nc && c != *nc)) {
			fprintf(stderr, "emotop-train: the models do not output 2 to 7 float logits alike\n");
			goto out;
		}
		*nc = c;
		memcpy(out + (size_t)i * 7, z, sizeof(float) * (size_t)c);
	}
	rc = 0;
out:
	qnn_ctx_free(ctx);
	return rc;
}

void train_add_softmax(const float *z, int nc, float t, const float *b, float w, float *p)
{
	float mx = z[0], s = 0, e[7];

	for (int k = 1; k < nc; k++)
		mx = z[k] > mx ? z[k] : mx;
	for (int k = 0; k < nc; k++)
		s += e[k] = expf((z[k] - mx) / t + (b ? b[k] : 0));
	for (int k = 0; k < nc; k++)
		p[k] += w * e[k] / s;
}

/* The temperature that minimises the mean negative log-likelihood of
 * logits z[n][7] (nc classes) for labels y: golden-section search over
 * log T in [log 0.2, log 5] (the NLL is convex in 1/T). */
static float fit_temperature(const float *z, const int *y, int n, int nc)
{
	double a = log(0.2), b = log(5.0);
	const double g = 0.5 * (sqrt(5.0) - 1);

	for (int it = 0; it < 60; it++) {
		double c = b - g * (b - a), d = a + g * (b - a), nll[2] = {0, 0};
		for (int q = 0; q < 2; q++) {
			const float t = (float)exp(q ? d : c);
			for (int i = 0; i < n; i++) {
				float p[7] = {0};
				train_add_softmax(z + (size_t)i * 7, nc, t, NULL, 1.0f, p);
				nll[q] -= log(fmax(p[y[i]], 1e-12));
			}
		}
		if (nll[0] < nll[1])
			b = d;
		else
			a = c;
	}
	return (float)exp(0.5 * (a + b));
}

/* A bias per class on z / t that makes each class predicted about as often
 * as it occurs in labels y (n faces, nc classes): 40 damped steps of
 * b_k += 0.5 log(true count / predicted count), each within +-1.5. Only
 * what the argmax counts need: the temperature keeps the calibration. */
static void fit_class_bias(const float *z, const int *y, int n, int nc, float t, float b[7])
{
	int truth[7] = {0};

	for (int k = 0; k < 7; k++)
		b[k] = 0;
	for (int i = 0; i < n; i++)
		truth[y[i]]++;
	for (int it = 0; it < 40; it++) {
		int pred[7] = {0};
		for (int i = 0; i < n; i++) {
			int am = 0;
			for (int k = 1; k < nc; k++)
				if (z[(size_t)i * 7 + k] / t + b[k] > z[(size_t)i * 7 + am] / t + b[am])
					am = k;
			pred[am]++;
		}
		for (int k = 0; k < nc; k++)
			if (truth[k])
				b[k] = fminf(1.5f, fmaxf(-1.5f, b[k] + 0.5f * logf((float)truth[k] / (float)(pred[k] ? pred[k] : 1))));
	}
}

/* Score probabilities p[n][7] against set's labels: confusion, accuracy,
 * expected calibration error (15 equal bins of the top probability) and
 * mean negative log-likelihood. */
static void score_probs(const float *p, const struct fer_set *set, int nc, struct eval_res *r)
{
	double bin_n[15] = {0}, bin_conf[15] = {0}, bin_hit[15] = {0};
	int hits = 0;

	memset(r, 0, sizeof(*r));
	for (int i = 0; i < set->n; i++) {
		const float *pi = p + (size_t)i * 7;
		int am = 0, b;
		for (int k = 1; k < nc; k++)
			if (pi[k] > pi[am])
				am = k;
		r->conf[set->label[i]][am]++;
		hits += am == set->label[i];
		r->nll -= log(fmax(pi[set->label[i]], 1e-12));
		b = (int)(pi[am] * 15);
		b = b < 0 ? 0 : b > 14 ? 14 : b;
		bin_n[b]++;
		bin_conf[b] += pi[am];
		bin_hit[b] += am == set->label[i];
	}
	for (int b = 0; b < 15; b++)
		r->ece += fabs(bin_conf[b] - bin_hit[b]) / (set->n ? set->n : 1);
	r->acc = set->n ? (double)hits / set->n : 0;
	r->nll /= set->n ? set->n : 1;
}

/* Score the logits z[n][7] (nc classes) of one model on set as emotop reads
 * them: the softmax of z / t + b (b NULL: none). 0, or -1 (out of memory). */
static int score_logits(const float *z, const struct fer_set *set, int nc, float t, const float *b,
			struct eval_res *r)
{
	float *p = calloc((size_t)(set->n ? set->n : 1) * 7, sizeof(float));

	if (!p)
		return -1;
	for (int i = 0; i < set->n; i++)
		train_add_softmax(z + (size_t)i * 7, nc, t, b, 1.0f, p + (size_t)i * 7);
	score_probs(p, set, nc, r);
	free(p);
	return 0;
}

/* Int8 accuracy and calibration of an ensemble of n models (each one's
 * softmax of its logits / temperature, averaged, as classify.c does), with
 * optional flip TTA. */
int train_eval_int8(struct qnn_model *const *ms, int n, const struct fer_set *set, int tta,
		    struct eval_res *r)
{
	float *z = malloc(sizeof(float) * 7 * (size_t)(set->n ? set->n : 1));
	float *p = calloc((size_t)(set->n ? set->n : 1) * 7, sizeof(float));
	int rc = -1, nc = 0;

	if (!z || !p || n < 1 || n > TRAIN_MAX_ENSEMBLE)
		goto out;
	for (int pass = 0; pass < (tta ? 2 : 1) * n; pass++) {
		struct emo_err err = {0};
		float t, b[EMO_NUM_CLASSES];
		if (classify_calibration(ms[pass % n], "model", &t, b, &err)) {
			fprintf(stderr, "emotop-train: %s\n", err.msg);
			goto out;
		}
		if (int8_logits(ms[pass % n], set, pass >= n, z, &nc))
			goto out;
		for (int i = 0; i < set->n; i++)
			train_add_softmax(z + (size_t)i * 7, nc, t, b, 1.0f / (float)((tta ? 2 : 1) * n), p + (size_t)i * 7);
	}
	score_probs(p, set, nc, r);
	rc = 0;
out:
	free(z);
	free(p);
	return rc;
}

/* Of a confusion matrix: the mean of the per-class recalls, and each
 * class's predictions over its true count (1: predicted as often as it
 * occurs). */
static double macro_recall(const int conf[7][7], double ratio[7])
{
	double m = 0;

	for (int t = 0; t < 7; t++) {
		int tot = 0, pred = 0;
		for (int p = 0; p < 7; p++) {
			tot += conf[t][p];
			pred += conf[p][t];
		}
		m += tot ? (double)conf[t][t] / tot / 7 : 0;
		ratio[t] = tot ? (double)pred / tot : 0;
	}
	return m;
}

/* "accuracy":..,"macro_recall":..,"per_class":{..},"predicted_ratio":{..},
 * ["ece":..,"nll":..,]"confusion":[[..]..] (no braces); cal: r's ece and
 * nll are measured */
static void print_json_fields(FILE *f, const struct eval_res *r, int cal)
{
	double ratio[7], mr = macro_recall(r->conf, ratio);

	fprintf(f, "\"accuracy\":%.4f,\"macro_recall\":%.4f,\"per_class\":{", r->acc, mr);
	for (int t = 0; t < 7; t++) {
		int tot = 0;
		for (int p = 0; p < 7; p++)
			tot += r->conf[t][p];
		fprintf(f, "%s\"%s\":%.4f", t ? "," : "", emo_class_name(t),
			tot ? (double)r->conf[t][t] / tot : 0.0);
	}
	fprintf(f, "},\"predicted_ratio\":{");
	for (int t = 0; t < 7; t++)
		fprintf(f, "%s\"%s\":%.3f", t ? "," : "", emo_class_name(t), ratio[t]);
	fprintf(f, "},");
	if (cal)
		fprintf(f, "\"ece\":%.4f,\"nll\":%.4f,", r->ece, r->nll);
	fprintf(f, "\"confusion\":[");
	for (int t = 0; t < 7; t++) {
		fprintf(f, "%s[", t ? "," : "");
		for (int p = 0; p < 7; p++)
			fprintf(f, "%s%d", p ? "," : "", r->conf[t][p]);
		fprintf(f, "]");
	}
	fprintf(f, "]");
}

static void print_table(FILE *f, const char *what, const struct eval_res *r, int cal)
{
	int tot[7] = {0};
	double ratio[7], mr = macro_recall(r->conf, ratio);

	for (int t = 0; t < 7; t++)
		for (int p = 0; p < 7; p++)
			tot[t] += r->conf[t][p];
	fprintf(f, "%s accuracy: %.2f %% (macro recall %.2f %%)", what, r->acc * 100, mr * 100);
	if (cal)
		fprintf(f, ", expected calibration error %.4f, NLL %.4f", r->ece, r->nll);
	fprintf(f, "\n%-9s %6s %6s  confusion (rows: true, columns: predicted)\n", "class", "recall",
		"pred/n");
	fprintf(f, "%-9s %6s %6s ", "", "", "");
	for (int p = 0; p < 7; p++)
		fprintf(f, " %8.8s", emo_class_name(p));
	fprintf(f, "\n");
	for (int t = 0; t < 7; t++) {
		fprintf(f, "%-9s %5.1f%% %6.2f ", emo_class_name(t), tot[t] ? 100.0 * r->conf[t][t] / tot[t] : 0.0,
			ratio[t]);
		for (int p = 0; p < 7; p++)
			fprintf(f, " %8d", r->conf[t][p]);
		fprintf(f, "\n");
	}
}

int train_load_classifier(const char *path, struct fnn **out)
{
	char arch[512], *last;
	struct fnn *net;

	*out = NULL;
	if (fnn_load_arch(path, arch, sizeof(arch)))
		return -1;
	net = fnn_new(arch, (struct fnn_shape){FER_SIZE, FER_SIZE, 1}, 1);
	if (!net)
		return -1;
	/* the training state stored beside the weights is not needed here */
	if (fnn_load(net, path, NULL, 0, NULL)) {
		fnn_free(net);
		return -1;
	}
	/* a classifier: an output head oN with 7 emotions or 2 (the face
	 * verifier), not a detector (hN) or another network */
	last = strrchr(arch, ',');
	last = last ? last + 1 : arch;
	if (last[0] != 'o' || (net->n_out != 7 && net->n_out != 2)) {
		fprintf(stderr,
			"emotop-train: %s is not a classifier checkpoint (architecture '%s': it must end "
			"with o7, the emotions, or o2, the face verifier; a detector is `detect quantize`'s)\n",
			path, arch);
		fnn_free(net);
		return -1;
	}
	*out = net;
	return 0;
}

int train_cmd_quantize(int argc, char **argv)
{
	static const struct option lo[] = {{"ckpt", 1, 0, 'k'}, {"data", 1, 0, 'd'}, {"out", 1, 0, 'o'},
					   {"calib", 1, 0, 'n'}, {"percentile", 1, 0, 'p'},
					   {"temperature", 1, 0, 't'}, {"class-bias", 1, 0, 'c'},
					   {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
	const char *ckpt = NULL, *data = NULL, *outp = "models/emo7.qnn";
	int n_cal = 3000, o, rc = 1;
	long lv;
	float fv, temp = 0; /* 0: fitted on the validation split */
	int class_bias = 0; /* --class-bias auto (fitted) or none (the default) */
	double pct = 99.99;
	struct fer_set train = {0}, test = {0};
	struct fnn *net = NULL;
	struct qnn_model *m = NULL;
	struct emo_err err = {0};
	char meta[QNN_META_MAX];

	optind = 1;
	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (o) {
		case 'k': ckpt = optarg; break;
		case 'd': data = optarg; break;
		case 'o': outp = optarg; break;
		case 'n':
			if (train_parse_int("--calib", "a count of faces", optarg, 1, 10000000, &lv))
				return 2;
			n_cal = (int)lv;
			break;
		case 'p':
			if (train_parse_range("--percentile", "a percentile", optarg, 50, 100, &fv) || fv <= 50)
				return 2;
			pct = fv;
			break;
		case 'c':
			if (strcmp(optarg, "auto") && strcmp(optarg, "none")) {
				fprintf(stderr, "emotop-train quantize: --class-bias wants auto or none, not '%s'\n",
					optarg);
				return 2;
			}
			class_bias = !strcmp(optarg, "auto");
			break;
		case 't':
			if (!strcmp(optarg, "auto"))
				temp = 0;
			else if (train_parse_range("--temperature", "a temperature (or auto)", optarg, 0.05f, 20, &temp))
				return 2;
			break;
		case 'h':
		default:
			fprintf(o == 'h' ? stdout : stderr,
				"usage: emotop-train quantize --ckpt FILE --data DIR|CSV [--out FILE]\n"
				"         [--calib N (3000)] [--percentile P (99.99)] [--temperature T|auto]\n"
				"         [--class-bias none|auto]\n"
				"Folds batch norm, calibrates activation ranges on N training faces\n"
				"(clipping at the P-th percentile), writes the int8 model and prints\n"
				"float and int8 accuracy on the validation (test) split. The model's\n"
				"probabilities are calibrated by a temperature (its logits divided by T\n"
				"before the softmax): by default the T that minimises the int8 model's\n"
				"negative log-likelihood on the validation split; --class-bias auto\n"
				"also fits a bias per class there that makes each class predicted about\n"
				"as often as it occurs in that split (none by default).\n");
			return o == 'h' ? 0 : 2;
		}
	}
	if (!ckpt || !data || optind != argc) {
		fprintf(stderr, "emotop-train quantize: --ckpt and --data are required\n");
		return 2;
	}
	if (train_load_classifier(ckpt, &net) || train_load_split(data, "Training", 0, &train) ||
	    train_load_split(data, "PublicTest", 0, &test))
		goto out;
	{
		/* calibration faces: a fixed, class-mixed sample of the training set */
		struct fer_set cal = train;
		uint8_t *px = malloc((size_t)n_cal * FER_SIZE * FER_SIZE);
		if (!px)
			goto out;
		if (n_cal > train.n)
			n_cal = train.n;
		for (int i = 0; i < n_cal; i++) {
			long j = (long)((uint64_t)i * 2654435761ULL % (uint64_t)train.n);
			memcpy(px + (size_t)i * FER_SIZE * FER_SIZE, train.px + (size_t)j * FER_SIZE * FER_SIZE,
			       FER_SIZE * FER_SIZE);
		}
		cal.px = px;
		cal.n = n_cal;
		/* 7 outputs: the emotion classifier; 2: the face detector's
		 * verifier (detect.c; `emotop-train detect verifier-data`) */
		snprintf(meta, sizeof(meta),
			 "task=%s\ninput_w=48\ninput_h=48\ninput_c=1\ninput_norm=facenorm\n"
			 "labels=%s\narch=%s\n"
			 "calibration=%d faces, percentile %.3f\n",
			 net->n_out == 2 ? "face-verify" : "classify",
			 net->n_out == 2 ? "other,face" : "angry,disgust,fear,happy,sad,surprise,neutral",
			 net->arch, n_cal, pct);
		rc = quantize_fnn(net, &cal, n_cal, pct, meta, &m);
		free(px);
		if (rc) {
			fprintf(stderr, "emotop-train: quantization failed\n");
			rc = 1;
			goto out;
		}
		rc = 1;
	}
	{
		int conf[7][7], nc = 0;
		double af;
		float t, bias[7];
		struct eval_res before, after;
		/* the int8 logits once: scored as they are, then as the model's
		 * metadata calibrates them */
		float *z = malloc(sizeof(float) * 7 * (size_t)(test.n ? test.n : 1));
		if (!z || int8_logits(m, &test, 0, z, &nc) || score_logits(z, &test, nc, 1.0f, NULL, &before)) {
			free(z);
			goto out;
		}
		if (net->n_out == 7) {
			/* calibration: the temperature of the int8 logits */
			if (!(temp > 0))
				temp = fit_temperature(z, test.label, test.n, nc);
			snprintf(m->meta + strlen(m->meta), sizeof(m->meta) - strlen(m->meta), "temperature=%.4f\n",
				 (double)temp);
			if (class_bias) {
				float b[7];
				fit_class_bias(z, test.label, test.n, nc, temp, b);
				snprintf(m->meta + strlen(m->meta), sizeof(m->meta) - strlen(m->meta),
					 "logit_bias=%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f\n", (double)b[0], (double)b[1],
					 (double)b[2], (double)b[3], (double)b[4], (double)b[5], (double)b[6]);
			}
		}
		if (classify_calibration(m, "the model", &t, bias, &err) ||
		    score_logits(z, &test, nc, t, bias, &after)) {
			free(z);
			goto out;
		}
		free(z);
		if (qnn_model_save(m, outp, &err)) {
			fprintf(stderr, "emotop-train: %s: %s\n", outp, err.msg);
			goto out;
		}
		train_eval_float(net, &test, 0, conf, &af);
		printf("wrote %s: float %.2f %%, int8 %.2f %% on %d validation faces (loss %.2f points)\n", outp,
		       af * 100, after.acc * 100, test.n, (af - after.acc) * 100);
		if (net->n_out == 7)
			printf("temperature %.4f%s: expected calibration error %.4f -> %.4f, NLL %.4f -> %.4f\n",
			       (double)temp, class_bias ? " and the class bias" : "", before.ece, after.ece, before.nll,
			       after.nll);
	}
	rc = 0;
out:
	qnn_model_free(m);
	fnn_free(net);
	fer_free(&train);
	fer_free(&test);
	return rc;
}

int train_cmd_eval(int argc, char **argv)
{
	static const struct option lo[] = {{"data", 1, 0, 'd'}, {"model", 1, 0, 'm'}, {"ckpt", 1, 0, 'k'},
					   {"json", 0, 0, 'j'}, {"tta", 0, 0, 't'}, {"usage", 1, 0, 'u'},
					   {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
	const char *data = NULL, *model[TRAIN_MAX_ENSEMBLE], *ckpt[TRAIN_MAX_ENSEMBLE];
	const char *usage = "PublicTest";
	int n_model = 0, n_ckpt = 0, json = 0, tta = 0, o, rc = 1;
	struct eval_res res;
	struct fer_set set = {0};
	struct qnn_model *m[TRAIN_MAX_ENSEMBLE] = {0};
	struct fnn *net[TRAIN_MAX_ENSEMBLE] = {0};
	struct emo_err err = {0};
	double acc;

	optind = 1;
	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (o) {
		case 'd': data = optarg; break;
		case 'm':
		case 'k':
			if ((o == 'm' ? n_model : n_ckpt) == TRAIN_MAX_ENSEMBLE) {
				fprintf(stderr, "emotop-train eval: at most %d --model and %d --ckpt\n",
					TRAIN_MAX_ENSEMBLE, TRAIN_MAX_ENSEMBLE);
				return 2;
			}
			if (o == 'm')
				model[n_model++] = optarg;
			else
				ckpt[n_ckpt++] = optarg;
			break;
		case 'j': json = 1; break;
		case 't': tta = 1; break;
		case 'u': usage = optarg; break;
		case 'h':
		default:
			fprintf(o == 'h' ? stdout : stderr,
				"usage: emotop-train eval --data DIR|CSV [--model FILE]... [--ckpt FILE]...\n"
				"         [--json] [--tta] [--usage PublicTest|PrivateTest|Training]\n"
				"Accuracy, per-class accuracy and confusion of the int8 model (default:\n"
				"the embedded one or ensemble) and, with --ckpt, of the float network. DIR is a\n"
				"FER2013 root (its test/ split is used), a split folder, or fer2013.csv\n"
				"(rows of --usage). --tta averages the face and its mirror image.\n"
				"Several --model (or --ckpt) are evaluated as one ensemble: their\n"
				"probabilities averaged.\n");
			return o == 'h' ? 0 : 2;
		}
	}
	if (!data) {
		fprintf(stderr, "emotop-train eval: --data is required\n");
		return 2;
	}
	rc = 0;
	for (int k = 0; k < n_model && !rc; k++)
		rc = qnn_model_load(model[k], &m[k], &err);
	if (!n_model) {
		/* the embedded ensemble, as emotop runs it */
		struct emo_blob b[EMO_MAX_BLOBS];
		const int nb = emo_blobs(b, EMO_MAX_BLOBS);
		for (int i = 0; i < nb && !rc && n_model < TRAIN_MAX_ENSEMBLE; i++)
			if (b[i].classifier && b[i].len)
				rc = qnn_model_load_mem(b[i].data, b[i].len, b[i].name, &m[n_model++], &err);
		if (!rc && !n_model)
			rc = emo_seterr(&err, EMO_EINVAL, NULL, 0, 0, "this build embeds no emotion model");
	}
	if (rc) {
		char buf[1024];
		emo_err_format(&err, buf, sizeof(buf));
		fprintf(stderr, "emotop-train: %s\n", buf);
		rc = 1;
		goto out;
	}
	rc = 1;
	for (int k = 0; k < n_model; k++) {
		/* the model's own preprocessing, as classify.c checks it */
		int norm;
		if (facenorm_from_meta(m[k], n_model > 1 ? "an ensemble member" : "the model", &norm, &err)) {
			fprintf(stderr, "emotop-train: %s\n", err.msg);
			goto out;
		}
	}
	if (train_load_split(data, usage, 0, &set))
		goto out;
	if (train_eval_int8(m, n_model, &set, tta, &res))
		goto out;
	if (json) {
		printf("{\"n\":%d,\"tta\":%s,\"models\":%d,\"model\":\"int8\",", set.n,
		       tta ? "true" : "false", n_model);
		print_json_fields(stdout, &res, 1);
	} else {
		printf("%d faces%s%s\n", set.n, tta ? ", flip test-time augmentation" : "",
		       n_model > 1 ? ", ensemble" : "");
		print_table(stdout, "int8", &res, 1);
	}
	if (n_ckpt) {
		for (int k = 0; k < n_ckpt; k++)
			if (train_load_classifier(ckpt[k], &net[k]))
				goto out;
		train_eval_float_ens(net, n_ckpt, &set, tta, res.conf, &acc);
		res.acc = acc;
		if (json) {
			printf(",\"float\":{");
			print_json_fields(stdout, &res, 0);
			printf("}");
		} else {
			print_table(stdout, "float", &res, 0);
		}
	}
	if (json)
		printf("}\n");
	rc = 0;
out:
	for (int k = 0; k < TRAIN_MAX_ENSEMBLE; k++) {
		qnn_model_free(m[k]);
		fnn_free(net[k]);
	}
	fer_free(&set);
	return rc;
}
