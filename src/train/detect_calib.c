/* detect_calib.c - emotop-train detect quantize, calibrate and average:
 * a float detector to an int8 qnn model (BN folded, per-channel weights,
 * activation ranges from training samples), the score_shift, size_shift
 * and verifier thresholds at a false-alarm budget on the training
 * negatives, and weight averaging of checkpoints.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emotop/detect.h"
#include "emotop/image.h"
#include "emotop/qnn.h"
#include "train/data.h"
#include "train/detect_int.h"
#include "train/fnn.h"
#include "train/train.h"

/* ------------------------------------------------------------ quantize */

/* Value below which a fraction q of v[0..n) lies (v >= 0 mostly: ReLU). */
static float dt_percentile(const float *v, long n, double q)
{
	enum { NB = 4096 };
	static long hist[NB];
	float mx = 0;
	long acc = 0, want;

	for (long i = 0; i < n; i++)
		mx = fmaxf(mx, v[i]);
	if (!(mx > 0))
		return 1e-3f;
	memset(hist, 0, sizeof(hist));
	for (long i = 0; i < n; i++) {
		int b = (int)(v[i] / mx * (NB - 1));
		hist[b < 0 ? 0 : b]++;
	}
	want = (long)ceil(q * (double)n);
	for (int b = 0; b < NB; b++) {
		acc += hist[b];
		if (acc >= want)
			return mx * (float)(b + 1) / NB;
	}
	return mx;
}

struct qnn_model *dt_to_qnn(struct fnn *net, const float *calib, int n, const char *meta)
{
	struct qnn_model *m = calloc(1, sizeof(*m));
	float *range = calloc((size_t)net->n_layers, sizeof(float));
	int t = 0; /* current tensor */

	if (!m || !range)
		goto fail;
	m->tensors[0] = (struct qnn_tensor){.scale = 1.0f / 255.0f, .zero_point = 0, .c = net->in.c};
	/* activation ranges: 99.999th percentile of each ReLU output */
	for (int i = 0; i < net->n_layers; i++)
		range[i] = 0;
	{
		int B = 32;
		for (int i0 = 0; i0 < n; i0 += B) {
			int nb = n - i0 < B ? n - i0 : B;
			fnn_forward(net, calib + (size_t)i0 * net->in.h * net->in.w * net->in.c, nb, 0);
			for (int i = 0; i < net->n_layers; i++) {
				const struct fnn_layer *l = &net->layers[i];
				long sz = (long)l->out.h * l->out.w * l->out.c * nb;
				if (l->type == FNN_RELU)
					range[i] = fmaxf(range[i], dt_percentile(l->y, sz, 0.99999));
			}
		}
	}
	for (int i = 0; i < net->n_layers; i++) {
		struct fnn_layer *l = &net->layers[i];
		struct qnn_layer *q;
		if (m->n_layers >= QNN_MAX_LAYERS - 1 || t >= QNN_MAX_TENSORS - 2)
			goto fail;
		if (l->type == FNN_MAXPOOL) {
			q = &m->layers[m->n_layers++];
			q->type = QNN_MAXPOOL;
			q->in = t;
			q->in2 = -1;
			q->out = t + 1;
			q->kh = q->kw = q->stride = l->k;
			q->cin = q->cout = l->in.c;
			m->tensors[t + 1] = m->tensors[t];
			t++;
			continue;
		}
		if (l->type == FNN_DROPOUT)
			continue;
		if (l->type != FNN_CONV && l->type != FNN_DWCONV) {
			fprintf(stderr, "emotop-train: layer %d: only conv, depthwise conv, BN, ReLU and "
					"maxpool convert\n", i);
			goto fail;
		}
		{
			const struct fnn_layer *bn = i + 1 < net->n_layers && net->layers[i + 1].type == FNN_BN
							     ? &net->layers[i + 1] : NULL;
			int relu = bn && i + 2 < net->n_layers && net->layers[i + 2].type == FNN_RELU;
			/* depthwise: groups = cin = cout, weights [cout][kh][kw][1] */
			int dw = l->type == FNN_DWCONV;
			int K = l->kh * l->kw * (dw ? 1 : l->in.c), C = l->cout;
			float s_in = m->tensors[t].scale, s_out;
			q = &m->layers[m->n_layers++];
			q->type = QNN_CONV;
			q->in = t;
			q->in2 = -1;
			q->out = t + 1;
			q->kh = l->kh;
			q->kw = l->kw;
			q->stride = l->stride;
			q->pad = l->pad;
			q->groups = dw ? l->in.c : 1;
			q->relu = relu;
			q->float_out = !relu;
			q->cin = l->in.c;
			q->cout = C;
			q->w = malloc((size_t)C * K);
			q->bias = malloc(sizeof(int32_t) * (size_t)C);
			q->mult = malloc(sizeof(int32_t) * (size_t)C);
			q->shift = malloc(sizeof(int32_t) * (size_t)C);
			q->w_scale = malloc(sizeof(float) * (size_t)C);
			if (!q->w || !q->bias || !q->mult || !q->shift || !q->w_scale)
				goto fail;
			if (relu) {
				s_out = range[i + 2] / 255.0f;
				if (!(s_out > 0))
					s_out = 1e-4f;
			} else {
				s_out = 1.0f;
			}
			m->tensors[t + 1] = (struct qnn_tensor){.scale = s_out, .zero_point = 0, .c = C};
			for (int c = 0; c < C; c++) {
				float g = 1, b = l->has_bias ? l->b[c] : 0, mx = 0;
				const float *w = l->w + (size_t)c * K;
				if (bn) {
					float inv = 1.0f / sqrtf(bn->rvar[c] + 1e-5f);
					g = bn->gamma[c] * inv;
					b = bn->beta[c] + (b - bn->rmean[c]) * g;
				}
				for (int k = 0; k < K; k++)
					mx = fmaxf(mx, fabsf(w[k] * g));
				q->w_scale[c] = mx > 0 ? mx / 127.0f : 1e-8f;
				for (int k = 0; k < K; k++) {
					long v = lroundf(w[k] * g / q->w_scale[c]);
					q->w[(size_t)c * K + k] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
				}
				{
					double bq = (double)b / ((double)s_in * q->w_scale[c]);
					if (bq > 1e9)
						bq = 1e9;
					if (bq < -1e9)
						bq = -1e9;
					q->bias[c] = (int32_t)llround(bq);
				}
				if (relu)
					qnn_quantize_multiplier((double)s_in * q->w_scale[c] / s_out, &q->mult[c],
								&q->shift[c]);
				else
					q->mult[c] = q->shift[c] = 0;
			}
			t++;
			i += bn ? (relu ? 2 : 1) : 0;
		}
	}
	m->n_tensors = t + 1;
	snprintf(m->meta, sizeof(m->meta), "%s", meta ? meta : "");
	{
		struct emo_err e = {0};
		if (qnn_model_validate(m, &e)) {
			fprintf(stderr, "emotop-train: converted model invalid: %s\n", e.msg);
			goto fail;
		}
	}
	free(range);
	return m;
fail:
	fprintf(stderr, "emotop-train: cannot convert the network to int8\n");
	free(range);
	qnn_model_free(m);
	return NULL;
}

/* The decoding constants detect.c reads from the model. */
static void dt_meta(char *buf, size_t len, const char *arch)
{
	snprintf(buf, len,
		 "task=face-detect\nname=emotop face detector\narch=%s\ninput=gray\nstride=%d\n"
		 "heads=%d\nsize_base=%g\nlevel_min=%g\nlevel_max=%g\n"
		 "landmarks=left_eye,right_eye,nose,mouth_left,mouth_right\n",
		 arch, DT_STRIDE, DT_NCH, (double)DT_SIZE_BASE, 20.0, 48.0);
}

int dt_quantize(int argc, char **argv)
{
	struct dt_args a = {.ckpt = "runs/face.ckpt.best", .out = "models/face.qnn", .epochs = 1,
			    .batch = 1, .steps = 1, .seed = 1};
	struct dt_data d;
	struct fnn *net = NULL;
	struct qnn_model *m = NULL;
	struct dt_sample *s = NULL;
	float *calib = NULL;
	char arch[512], meta[1024];
	struct dt_state st = {0};
	uint32_t st_len = 0;
	struct emo_err e = {0};
	const int N = 256;
	int rc;

	if ((rc = dt_parse(argc, argv, &a)))
		return rc == 1 ? 0 : rc;
	if (fnn_load_arch(a.ckpt, arch, sizeof(arch)))
		return 1;
	if (dt_load(&d, a.faces, a.fer))
		return 1;
	rc = 1;
	net = fnn_new(arch, (struct fnn_shape){DT_IN, DT_IN, 1}, 1);
	s = malloc(sizeof(*s) * (size_t)N);
	calib = malloc(sizeof(float) * (size_t)N * DT_IN * DT_IN);
	if (!net || !s || !calib || dt_sharp_setup(&d, &a) || fnn_load_extra(a.ckpt, &st, sizeof(st), &st_len) ||
	    fnn_load(net, a.ckpt, NULL, 0, NULL))
		goto out;
#pragma omp parallel for schedule(dynamic)
	for (int i = 0; i < N; i++) {
		dt_sample_make(&d, &s[i], 0x5eed0000ULL + (uint64_t)i, -1, 0, d.n_train_photo, 0,
			       d.n_train_neg, NULL);
		memcpy(calib + (size_t)i * DT_IN * DT_IN, s[i].x, sizeof(s[i].x));
	}
	dt_meta(meta, sizeof(meta), arch);
	if (!(m = dt_to_qnn(net, calib, N, meta)))
		goto out;
	if (qnn_model_save(m, a.out, &e)) {
		fprintf(stderr, "emotop-train: %s: %s\n", a.out, e.msg);
		goto out;
	}
	fprintf(stderr, "wrote %s from %s (epoch %d)\n", a.out, a.ckpt, st.epoch);
	rc = 0;
out:
	qnn_model_free(m);
	fnn_free(net);
	free(s);
	free(calib);
	dt_free(&d);
	return rc;
}

/* ----------------------------------------------------------- calibrate */

/* Drop the metadata lines holding k1 or k2 (a calibration measures the
 * model without its previous shifts). */
static void dt_meta_drop(struct qnn_model *m, const char *k1, const char *k2)
{
	char *p;

	while ((p = strstr(m->meta, k1)) || (p = strstr(m->meta, k2))) {
		size_t len = strcspn(p, "\n");
		memmove(p, p + len + (p[len] ? 1 : 0), strlen(p + len + (p[len] ? 1 : 0)) + 1);
	}
}

/* The score threshold at which det makes at most budget false alarms per
 * training negative (every detection on them is one), clamped to
 * 0.02..0.98; *allowed is that many alarms. 0, or -1 out of memory. */
static int dt_budget_threshold(struct detect *det, const struct dt_data *d, float budget, float *thr,
			       int *allowed)
{
	struct emo_face *f = malloc(sizeof(*f) * 1024);
	float *sc = NULL;
	int nsc = 0, cap = 0, rc = -1;

	if (!f)
		goto out;
	for (int i = 0; i < d->n_train_neg; i++) {
		struct emo_image im;
		int w, h, n;
		if (jpeg_load_gray(d->neg[i], &im.px, &w, &h))
			continue;
		im.w = im.stride = w;
		im.h = h;
		n = detect_run(det, &im, f, 1024);
		free(im.px);
		for (int k = 0; k < n; k++) {
			if (train_grow(&sc, &cap, nsc, sizeof(*sc), 1024))
				goto out;
			sc[nsc++] = f[k].score;
		}
	}
	if (nsc)
		qsort(sc, (size_t)nsc, sizeof(float), dt_cmp_float_desc);
	*allowed = (int)floorf(budget * (float)d->n_train_neg);
	*thr = *allowed < nsc ? sc[*allowed] : 0.02f;
	*thr = *thr < 0.02f ? 0.02f : *thr > 0.98f ? 0.98f : *thr;
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "emotop-train: out of memory\n");
	free(sc);
	free(f);
	return rc;
}

/* Calibrate the verifier (second stage) with its detector (--model, default
 * the embedded one): the combined score of the candidates on the training
 * negatives, its threshold at --budget false alarms per image moved to 0.5
 * by verify_shift; verify_pre (--threshold, default 0.15) is the
 * first-stage score a candidate needs to be verified. */
static int dt_calibrate_verifier(struct dt_args *a, struct dt_data *d)
{
	struct qnn_model *m = NULL;
	struct detect_opts o;
	struct detect *det = NULL;
	struct emo_err e = {0};
	float thr, shift, pre = a->thr > 0 ? a->thr : 0.15f;
	int rc = 1, allowed;
	char tmp[4200];

	if (!(pre > 0 && pre < 1)) {
		fprintf(stderr, "emotop-train: --threshold must be between 0 and 1\n");
		return 2;
	}
	if (qnn_model_load(a->verifier, &m, &e)) {
		fprintf(stderr, "emotop-train: %s: %s\n", a->verifier, e.msg);
		goto out;
	}
	dt_meta_drop(m, "verify_shift=", "verify_pre=");
	snprintf(m->meta + strlen(m->meta), sizeof(m->meta) - strlen(m->meta), "verify_pre=%.4f\n",
		 (double)pre);
	snprintf(tmp, sizeof(tmp), "%s.tmp", a->out);
	if (qnn_model_save(m, tmp, &e)) {
		fprintf(stderr, "emotop-train: %s: %s\n", tmp, e.msg);
		goto out;
	}
	detect_opts_default(&o);
	o.threshold = 0.01f;
	o.model_path = a->model;
	o.verify_path = tmp;
	det = detect_new(&o, &e);
	remove(tmp);
	if (!det) {
		fprintf(stderr, "emotop-train: %s\n", e.msg);
		goto out;
	}
	if (dt_budget_threshold(det, d, a->budget, &thr, &allowed))
		goto out;
	shift = -logf(thr / (1 - thr));
	snprintf(m->meta + strlen(m->meta), sizeof(m->meta) - strlen(m->meta), "verify_shift=%.4f\n",
		 (double)shift);
	if (qnn_model_save(m, a->out, &e)) {
		fprintf(stderr, "emotop-train: %s: %s\n", a->out, e.msg);
		goto out;
	}
	fprintf(stderr,
		"calibrated verifier %s -> %s: combined threshold %.3f gives %d false alarms on %d "
		"training negatives (budget %.4f per image); verify_shift %.3f makes it 0.5; "
		"candidates from first-stage score %.2f\n",
		a->verifier, a->out, (double)thr, allowed, d->n_train_neg, (double)a->budget, (double)shift,
		(double)pre);
	rc = 0;
out:
	detect_free(det);
	qnn_model_free(m);
	return rc;
}

/* Set the model's score_shift so that a score of 0.5 is the threshold
 * giving `budget` false alarms per training negative image. */
int dt_calibrate(int argc, char **argv)
{
	struct dt_args a = {.epochs = 1, .batch = 1, .steps = 1, .seed = 1, .budget = 0.005f};
	struct dt_data d;
	struct qnn_model *m = NULL;
	struct detect_opts o;
	struct detect *det = NULL;
	struct emo_err e = {0};
	struct emo_face *f = NULL;
	float thr, shift;
	int rc = 1, allowed;
	const char *in;

	if ((rc = dt_parse(argc, argv, &a)))
		return rc == 1 ? 0 : rc;
	rc = 1;
	f = malloc(sizeof(*f) * 1024);
	in = a.ckpt ? a.ckpt : "models/face.qnn"; /* --ckpt names the input model here */
	if (!a.out || !f || dt_load(&d, a.faces, NULL)) {
		fprintf(stderr, "emotop-train detect calibrate: --faces DIR --ckpt IN.qnn --out OUT.qnn\n");
		free(f);
		return 2;
	}
	if (a.verifier) {
		free(f);
		rc = dt_calibrate_verifier(&a, &d);
		dt_free(&d);
		return rc;
	}
	if (qnn_model_load(in, &m, &e)) {
		fprintf(stderr, "emotop-train: %s: %s\n", in, e.msg);
		goto out;
	}
	/* measure without any previous shift */
	dt_meta_drop(m, "score_shift=", "size_shift=");
	{
		char tmp[4200];
		snprintf(tmp, sizeof(tmp), "%s.tmp", a.out);
		if (qnn_model_save(m, tmp, &e))
			goto out;
		detect_opts_default(&o);
		o.threshold = 0.02f;
		o.model_path = tmp;
		det = detect_new(&o, &e);
		remove(tmp);
		if (!det)
			goto out;
	}
	if (dt_budget_threshold(det, &d, a.budget, &thr, &allowed))
		goto out;
	/* size: median log ratio of annotated to detected side on training
	 * photos (faces matched by centre), applied as size_shift */
	{
		float *lr = malloc(sizeof(float) * 4096);
		int nlr = 0;
		for (int i = 0; lr && i < d.n_train_photo && nlr < 4000; i += 7) {
			struct emo_image im;
			int w, h, n;
			if (jpeg_load_gray(d.photo[i].path, &im.px, &w, &h))
				continue;
			im.w = im.stride = w;
			im.h = h;
			n = detect_run(det, &im, f, 1024);
			free(im.px);
			for (int k = 0; k < d.photo[i].n; k++) {
				const struct dt_face *g = &d.faces[d.photo[i].first + k];
				int best = -1;
				float bd = 0.3f * g->side;
				if (g->side < 24)
					continue;
				for (int j = 0; j < n; j++) {
					float dx = f[j].box.x + f[j].box.w * 0.5f - g->cx;
					float dy = f[j].box.y + f[j].box.h * 0.5f - g->cy;
					if (f[j].score > 0.3f && hypotf(dx, dy) < bd) {
						bd = hypotf(dx, dy);
						best = j;
					}
				}
				if (best >= 0 && nlr < 4096)
					lr[nlr++] = logf(g->side / sqrtf(f[best].box.w * f[best].box.h));
			}
		}
		if (nlr > 20) {
			float ss;
			qsort(lr, (size_t)nlr, sizeof(float), dt_cmp_float_desc);
			ss = lr[nlr / 2];
			snprintf(m->meta + strlen(m->meta), sizeof(m->meta) - strlen(m->meta),
				 "size_shift=%.4f\n", (double)ss);
			fprintf(stderr, "size: median log(annotated/detected side) %.3f over %d faces\n",
				(double)ss, nlr);
		}
		free(lr);
	}
	shift = -logf(thr / (1 - thr));
	snprintf(m->meta + strlen(m->meta), sizeof(m->meta) - strlen(m->meta), "score_shift=%.4f\n",
		 (double)shift);
	if (qnn_model_save(m, a.out, &e)) {
		fprintf(stderr, "emotop-train: %s: %s\n", a.out, e.msg);
		goto out;
	}
	fprintf(stderr,
		"calibrated %s -> %s: raw threshold %.3f gives %d false alarms on %d training "
		"negatives (budget %.4f per image); score_shift %.3f makes it 0.5\n",
		in, a.out, (double)thr, allowed, d.n_train_neg, (double)a.budget, (double)shift);
	rc = 0;
out:
	detect_free(det);
	qnn_model_free(m);
	free(f);
	dt_free(&d);
	return rc;
}

/* ------------------------------------------------------------- average */

/* Weight averaging (SWA) of checkpoints of one run, e.g. snapshots along
 * the tail of its schedule: the scores of single epochs on negatives swing
 * from epoch to epoch; an average is one network with less of that noise.
 * Batch-norm statistics are measured again on training crops (training-mode
 * passes, no weight update). */
int dt_average(int argc, char **argv)
{
	struct dt_args a = {.epochs = 1, .batch = 32, .steps = 200, .seed = 1};
	struct dt_data d;
	struct dt_state st = {0};
	struct dt_sample *smp = NULL;
	struct fnn *avg = NULL, *one = NULL;
	float *x = NULL;
	char arch[512];
	uint32_t st_len = 0;
	int rc, first, n;

	if ((rc = dt_parse(argc, argv, &a)))
		return rc == 1 ? 0 : rc;
	first = optind;
	n = argc - first;
	if (!a.out || n < 2) {
		dt_usage(stderr);
		return 2;
	}
	if (fnn_load_arch(argv[first], arch, sizeof(arch)) ||
	    fnn_load_extra(argv[first], &st, sizeof(st), &st_len))
		return 1;
	avg = fnn_new(arch, (struct fnn_shape){DT_IN, DT_IN, 1}, 1);
	one = fnn_new(arch, (struct fnn_shape){DT_IN, DT_IN, 1}, 1);
	smp = malloc(sizeof(*smp) * (size_t)a.batch);
	x = malloc(sizeof(float) * (size_t)a.batch * DT_IN * DT_IN);
	rc = 1;
	if (!avg || !one || !smp || !x || fnn_reserve(avg, a.batch)) {
		fprintf(stderr, "emotop-train: out of memory or a bad architecture in %s\n", argv[first]);
		goto out_nodata;
	}
	if (avg->n_out != DT_G * DT_G * DT_NCH) {
		fprintf(stderr, "emotop-train: %s: not a detector (stride %d, %d head maps)\n", argv[first],
			DT_STRIDE, DT_NCH);
		goto out_nodata;
	}
	if (fnn_average(avg, one, (const char *const *)argv + first, n))
		goto out_nodata;
	if (dt_load(&d, a.faces, a.fer))
		goto out_nodata;
	if (dt_sharp_setup(&d, &a) || dt_preload(&d))
		goto out;
	for (int b = 0; b < a.steps; b++) {
#pragma omp parallel for schedule(dynamic)
		for (int j = 0; j < a.batch; j++) {
			dt_sample_make(&d, &smp[j], 0xa11a5ULL + (uint64_t)(b * a.batch + j) * 7919, -1, 0,
				       d.n_train_photo, 0, d.n_train_neg, NULL);
			memcpy(x + (size_t)j * DT_IN * DT_IN, smp[j].x, sizeof(smp[j].x));
		}
		fnn_forward(avg, x, a.batch, 1);
	}
	if (fnn_save(avg, a.out, &st, st_len, 0))
		goto out;
	printf("averaged %d checkpoints of %s into %s (batch norm re-measured on %d crops)\n", n, arch,
	       a.out, a.steps * a.batch);
	rc = 0;
out:
	dt_free(&d);
out_nodata:
	fnn_free(avg);
	fnn_free(one);
	free(smp);
	free(x);
	return rc;
}
