/* detect_train.c - emotop-train detect train: centre-heatmap targets,
 * focal + Huber loss, the training loop (AdamW, warm-up and cosine
 * schedule, online hard-negative mining, validation, checkpoints, --init
 * from a square-box detector) and `detect debug`.
 *
 *   emotop-train detect train    --faces DIR [--fer DIR] [--epochs N] [--resume] ...
 *
 * The data is detect_data.c's, the samples detect_sample.c's; int8
 * conversion is in detect_calib.c, evaluation in detect_eval.c and the
 * subcommands' options in detect_cmd.c.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/detect_int.h"
#include "train/fnn.h"
#include "train/train.h"

#define DT_HARD_CAP 4096
#define DT_VAL_N 384

/* ------------------------------------------------------------- targets */

struct dt_target {
	float heat[DT_G * DT_G];   /* gaussian target */
	float hw[DT_G * DT_G];     /* 0 where ignored */
	uint8_t pos[DT_G * DT_G];  /* peak cells */
	float reg[DT_G * DT_G][DT_NCH - 1];
	float rw[DT_G * DT_G];     /* regression weight */
	int8_t lmk[DT_G * DT_G];   /* landmark kind of the owning face */
	float own[DT_G * DT_G];    /* heat value of the owner */
};

static void dt_target_make(const struct dt_sample *s, struct dt_target *t)
{
	for (int i = 0; i < DT_G * DT_G; i++) {
		t->heat[i] = 0;
		t->hw[i] = 1;
		t->pos[i] = 0;
		t->rw[i] = 0;
		t->lmk[i] = 0;
		t->own[i] = 0;
	}
	/* ignore regions first: faces out of the trained size range or with
	 * their centre outside the crop */
	for (int i = 0; i < s->nf; i++) {
		const struct dt_face *f = &s->f[i];
		int inside = f->cx >= 0 && f->cy >= 0 && f->cx < DT_IN && f->cy < DT_IN;
		if (inside && f->side >= DT_POS_MIN && f->side <= DT_POS_MAX && !f->ignore)
			continue;
		for (int gy = 0; gy < DT_G; gy++)
			for (int gx = 0; gx < DT_G; gx++) {
				float ccx = gx * DT_STRIDE + DT_STRIDE * 0.5f, ccy = gy * DT_STRIDE + DT_STRIDE * 0.5f;
				float hx = f->w * 0.5f + DT_STRIDE * 0.5f, hy = f->h * 0.5f + DT_STRIDE * 0.5f;
				if (fabsf(ccx - f->cx) <= hx && fabsf(ccy - f->cy) <= hy)
					t->hw[gy * DT_G + gx] = 0;
			}
	}
	for (int i = 0; i < s->nf; i++) {
		const struct dt_face *f = &s->f[i];
		int gx0, gy0;
		float sig;
		if (!(f->cx >= 0 && f->cy >= 0 && f->cx < DT_IN && f->cy < DT_IN) || f->side < DT_POS_MIN ||
		    f->side > DT_POS_MAX || f->ignore)
			continue;
		gx0 = (int)(f->cx / DT_STRIDE);
		gy0 = (int)(f->cy / DT_STRIDE);
		sig = fmaxf(0.4f, 0.17f * f->side / DT_STRIDE);
		for (int gy = 0; gy < DT_G; gy++)
			for (int gx = 0; gx < DT_G; gx++) {
				float dx = (float)(gx - gx0), dy = (float)(gy - gy0);
				float h = expf(-(dx * dx + dy * dy) / (2 * sig * sig));
				int c = gy * DT_G + gx;
				float ccx = gx * DT_STRIDE + DT_STRIDE * 0.5f, ccy = gy * DT_STRIDE + DT_STRIDE * 0.5f;
				if (h < 0.01f)
					continue;
				if (h > t->heat[c])
					t->heat[c] = h;
				t->hw[c] = 1;
				/* regression: the peak cell and close neighbours */
				if ((gx == gx0 && gy == gy0) ||
				    (abs(gx - gx0) <= 1 && abs(gy - gy0) <= 1 && fabsf(ccx - f->cx) < f->side * 0.25f &&
				     fabsf(ccy - f->cy) < f->side * 0.25f)) {
					if (h <= t->own[c])
						continue;
					t->own[c] = h;
					t->rw[c] = gx == gx0 && gy == gy0 ? 1.0f : 0.5f;
					t->reg[c][0] = (f->cx - ccx) / DT_STRIDE;
					t->reg[c][1] = (f->cy - ccy) / DT_STRIDE;
					t->reg[c][2] = logf(f->w / DT_SIZE_BASE);
					t->reg[c][3] = logf(f->h / DT_SIZE_BASE);
					for (int k = 0; k < 5; k++) {
						t->reg[c][DT_LM0 + 2 * k] = (f->lm[k][0] - f->cx) / f->side;
						t->reg[c][DT_LM0 + 1 + 2 * k] = (f->lm[k][1] - f->cy) / f->side;
					}
					t->lmk[c] = (int8_t)f->lm_kind;
				}
			}
		t->pos[gy0 * DT_G + gx0] = 1;
		t->heat[gy0 * DT_G + gx0] = 1;
	}
}

static float dt_huber(float d, float delta, float *g)
{
	float a = fabsf(d);
	if (a <= delta) {
		*g = d / delta;
		return 0.5f * d * d / delta;
	}
	*g = d > 0 ? 1.0f : -1.0f;
	return a - 0.5f * delta;
}

struct dt_loss {
	double heat, reg, lm;
	long npos;
};

/* Focal loss on the heat logits and Huber on the regressions. Writes the
 * gradient into dz (same layout as z: [n][G][G][DT_NCH]). */
static void dt_loss(const float *z, const struct dt_target *t, int n, float *dz, struct dt_loss *L)
{
	long npos = 0;
	double rsum = 0, heat = 0, reg = 0, lm = 0;
	const float delta = 0.1f, w_lm = 1.0f;

	for (int b = 0; b < n; b++)
		for (int c = 0; c < DT_G * DT_G; c++) {
			npos += t[b].pos[c];
			rsum += t[b].rw[c];
		}
	if (npos < 1)
		npos = 1;
	if (rsum < 1)
		rsum = 1;
	for (int b = 0; b < n; b++)
		for (int c = 0; c < DT_G * DT_G; c++) {
			const float *zc = z + ((long)b * DT_G * DT_G + c) * DT_NCH;
			float *dc = dz + ((long)b * DT_G * DT_G + c) * DT_NCH;
			const struct dt_target *tt = &t[b];
			float p = 1.0f / (1.0f + expf(-zc[0])), g;
			memset(dc, 0, sizeof(float) * DT_NCH);
			if (p < 1e-4f)
				p = 1e-4f;
			if (p > 1 - 1e-4f)
				p = 1 - 1e-4f;
			if (tt->pos[c]) {
				heat += -(1 - p) * (1 - p) * logf(p);
				g = 2 * p * (1 - p) * (1 - p) * logf(p) - (1 - p) * (1 - p) * (1 - p);
				dc[0] = g / (float)npos;
			} else if (tt->hw[c] > 0) {
				float w = powf(1 - tt->heat[c], 4);
				heat += -w * p * p * logf(1 - p);
				g = -w * (2 * p * p * (1 - p) * logf(1 - p) - p * p * p);
				dc[0] = g / (float)npos;
			}
			if (tt->rw[c] > 0) {
				float w = tt->rw[c] / (float)rsum;
				for (int k = 0; k < DT_LM0; k++) {
					reg += tt->rw[c] * dt_huber(zc[1 + k] - tt->reg[c][k], delta, &g);
					dc[1 + k] = w * g;
				}
				if (tt->lmk[c] == 1) {
					for (int k = DT_LM0; k < DT_NCH - 1; k++) {
						lm += tt->rw[c] * dt_huber(zc[1 + k] - tt->reg[c][k], delta, &g);
						dc[1 + k] = w * w_lm * g;
					}
				} else if (tt->lmk[c] == 2) {
					/* eyes and nose, and the mouth centre as the mean of the corners */
					const int mo = DT_LM0 + 6; /* the left mouth corner's x */
					for (int k = DT_LM0; k < mo; k++) {
						lm += tt->rw[c] * dt_huber(zc[1 + k] - tt->reg[c][k], delta, &g);
						dc[1 + k] = w * w_lm * g;
					}
					for (int k = 0; k < 2; k++) {
						float m = 0.5f * (zc[1 + mo + k] + zc[3 + mo + k]);
						lm += tt->rw[c] * dt_huber(m - tt->reg[c][mo + k], delta, &g);
						dc[1 + mo + k] = dc[3 + mo + k] = 0.5f * w * w_lm * g;
					}
				}
			}
		}
	L->heat = heat / (double)npos;
	L->reg = reg / rsum;
	L->lm = lm / rsum;
	L->npos = npos;
}

/* Peak recall and false peaks on the head output, threshold 0.5. */
static void dt_peaks(const float *z, const struct dt_target *t, int n, long *hit, long *pos, long *fp)
{
	for (int b = 0; b < n; b++)
		for (int gy = 0; gy < DT_G; gy++)
			for (int gx = 0; gx < DT_G; gx++) {
				int c = gy * DT_G + gx, peak = 1;
				float v = z[((long)b * DT_G * DT_G + c) * DT_NCH];
				if (t[b].pos[c]) {
					int found = 0;
					(*pos)++;
					for (int j = -1; j <= 1; j++)
						for (int i = -1; i <= 1; i++) {
							int yy = gy + j, xx = gx + i;
							if (yy >= 0 && xx >= 0 && yy < DT_G && xx < DT_G &&
							    z[((long)b * DT_G * DT_G + yy * DT_G + xx) * DT_NCH] > 0)
								found = 1;
						}
					*hit += found;
				}
				if (v <= 0)
					continue;
				for (int j = -1; j <= 1; j++)
					for (int i = -1; i <= 1; i++) {
						int yy = gy + j, xx = gx + i;
						if (yy >= 0 && xx >= 0 && yy < DT_G && xx < DT_G && (i || j) &&
						    z[((long)b * DT_G * DT_G + yy * DT_G + xx) * DT_NCH] > v)
							peak = 0;
					}
				if (peak && t[b].heat[c] < 0.3f && t[b].hw[c] > 0)
					(*fp)++;
			}
}

/* ---------------------------------------------------------------- train */

/* Start a rectangular-box detector (head of DT_NCH maps) from a trained
 * square-box one (format 1: 14 maps, one log side at map 3, landmarks from
 * map 4) of the same backbone: every layer is copied, the head's log side
 * feeds both log w and log h, shifted by the WIDER box's mean size against
 * the old brows-to-chin square (w 2.1 and h 2.7 eye-to-mouth distances
 * against 2.2). 0, or -1 with a message. */
static int dt_init_from_square(struct fnn *net, const char *path)
{
	char arch[512];
	struct fnn *old = NULL;
	int rc = -1;

	if (fnn_load_arch(path, arch, sizeof(arch)))
		return -1;
	if (!(old = fnn_new(arch, net->in, 1)) || fnn_load(old, path, NULL, 0, NULL))
		goto out;
	if (old->n_layers != net->n_layers) {
		fprintf(stderr, "emotop-train: %s: --init needs the same backbone (%s)\n", path, arch);
		goto out;
	}
	for (int i = 0; i < net->n_layers; i++) {
		struct fnn_layer *d = &net->layers[i];
		const struct fnn_layer *s = &old->layers[i];
		const int last = i == net->n_layers - 1;
		if (d->type != s->type || d->in.c != s->in.c ||
		    (d->type == FNN_CONV && (d->kh != s->kh || d->kw != s->kw || (!last && d->cout != s->cout))) ||
		    (last && (s->cout != DT_NCH - 1 || d->cout != DT_NCH))) {
			fprintf(stderr, "emotop-train: %s: --init needs the same backbone and a %d-map head\n",
				path, DT_NCH - 1);
			goto out;
		}
		if (d->type == FNN_CONV) {
			const long per = (long)d->kh * d->kw * d->in.c;
			for (int o = 0; o < d->cout; o++) {
				/* new map o from old map so; 3 and 4 both from 3 */
				const int so = !last || o <= 3 ? o : o - 1;
				memcpy(d->w + o * per, s->w + so * per, sizeof(float) * (size_t)per);
				if (d->b && s->b)
					d->b[o] = s->b[so];
			}
			if (last) {
				d->b[3] += logf(2.1f / 2.2f);
				d->b[4] += logf(2.7f / 2.2f);
			}
		} else if (d->type == FNN_BN) {
			const size_t c = sizeof(float) * (size_t)d->in.c;
			memcpy(d->gamma, s->gamma, c);
			memcpy(d->beta, s->beta, c);
			memcpy(d->rmean, s->rmean, c);
			memcpy(d->rvar, s->rvar, c);
		}
	}
	fprintf(stderr, "emotop-train: started from %s (%s)\n", path, arch);
	rc = 0;
out:
	fnn_free(old);
	return rc;
}

int dt_train(int argc, char **argv)
{
	struct dt_args a = {.ckpt = "runs/face.ckpt", .arch = DT_ARCH, .epochs = 30, .batch = 32,
			    .steps = 200, .seed = 1, .lr = 0.003f, .wd = 5e-4f, .ignore_thr = 0.25f,
			    .mix = {DT_MIX_DEFAULT}, .wider = -1};
	struct dt_data d;
	struct fnn *net = NULL;
	struct dt_state st = {.version = 3};
	struct dt_sample *smp = NULL;
	struct dt_target *tg = NULL, *vtg = NULL;
	float *x = NULL, *dz = NULL, *vx = NULL;
	uint64_t *hard = NULL;
	int n_hard = 0, hard_pos = 0, rc;
	char logpath[4096], best[4096];
	FILE *log = NULL;
	double t0;

	if ((rc = dt_parse(argc, argv, &a)))
		return rc == 1 ? 0 : rc;
	if (dt_load(&d, a.faces, a.fer))
		return 1;
	if (dt_sharp_setup(&d, &a)) {
		dt_free(&d);
		return 1;
	}
	rc = 1;
	if (dt_preload(&d) || (a.ignore_model && dt_mine_ignore(&d, a.ignore_model, a.ignore_thr)))
		goto out;
	if (train_mkdir_parent(a.ckpt))
		goto out;
	snprintf(logpath, sizeof(logpath), "%s.log", a.ckpt);
	snprintf(best, sizeof(best), "%s.best", a.ckpt);
	log = fopen(logpath, "a");
	net = fnn_new(a.arch, (struct fnn_shape){DT_IN, DT_IN, 1}, (uint64_t)a.seed);
	if (!net || net->n_out != DT_G * DT_G * DT_NCH) {
		fprintf(stderr, "emotop-train: the detector must be stride %d with %d head maps\n",
			DT_STRIDE, DT_NCH);
		goto out;
	}
	/* heat prior 0.01 (focal-loss init) */
	net->layers[net->n_layers - 1].b[0] = -4.6f;
	st.seed = (uint64_t)a.seed;
	if (a.init && !a.resume && dt_init_from_square(net, a.init))
		goto out;
	if (a.resume) {
		/* version 1 states lack sched_from: it stays 0 (a schedule from
		 * epoch 0) */
		uint32_t len = 0;
		if (fnn_load_extra(a.ckpt, &st, sizeof(st), &len) || fnn_load(net, a.ckpt, NULL, 0, NULL))
			goto out;
		st.version = 3;
		if (len < offsetof(struct dt_state, sched_from) || st.epoch < 0 || st.sched_from < 0 ||
		    st.sched_from > st.epoch || st.opt_from < 0 || st.opt_from > st.step) {
			fprintf(stderr, "emotop-train: %s: not a detector training checkpoint\n", a.ckpt);
			goto out;
		}
		if (train_resume_seed(a.ckpt, st.seed, a.seed_set, a.seed)) {
			rc = 2;
			goto out;
		}
		if (a.reset_opt) {
			fnn_reset_opt(net);
			st.opt_from = st.step;
		} else if (fnn_resume_check(net, a.ckpt, FNN_ADAMW, "--reset-optimizer")) {
			rc = 2;
			goto out;
		}
		if (a.restart) {
			st.sched_from = st.epoch;
			st.best = 0;
			st.best_epoch = 0;
		}
		train_log(log, "resumed %s at epoch %d%s (schedule from epoch %d)\n", a.ckpt, st.epoch,
			  a.restart ? ", restarting the learning-rate schedule" : "", st.sched_from);
	}
	smp = malloc(sizeof(*smp) * (size_t)(a.batch > DT_VAL_N ? a.batch : DT_VAL_N));
	tg = malloc(sizeof(*tg) * (size_t)a.batch);
	vtg = malloc(sizeof(*vtg) * DT_VAL_N);
	x = malloc(sizeof(float) * (size_t)a.batch * DT_IN * DT_IN);
	vx = malloc(sizeof(float) * (size_t)DT_VAL_N * DT_IN * DT_IN);
	dz = malloc(sizeof(float) * (size_t)(a.batch > 64 ? a.batch : 64) * net->n_out);
	hard = calloc(DT_HARD_CAP, sizeof(uint64_t));
	if (!smp || !tg || !vtg || !x || !vx || !dz || !hard || fnn_reserve(net, a.batch)) {
		fprintf(stderr, "emotop-train: out of memory\n");
		goto out;
	}
	/* fixed validation crops from held-out photos and negatives */
#pragma omp parallel for schedule(dynamic)
	for (int i = 0; i < DT_VAL_N; i++) {
		dt_sample_make(&d, &smp[i], 0xabcdef12345ULL + (uint64_t)i * 7777, i % 4 == 3 ? 3 : i % 4 == 2 ? 2 : 0,
			       d.n_train_photo, d.n_web - d.n_train_photo, d.n_train_neg,
			       d.n_neg - d.n_train_neg, NULL);
		memcpy(vx + (size_t)i * DT_IN * DT_IN, smp[i].x, sizeof(smp[i].x));
		dt_target_make(&smp[i], &vtg[i]);
	}
	train_log(log, "detect: arch %s, %ld params, %.1f M MAC per %dx%d crop (%.0f M at 640x480); "
		    "batch %d, %d steps/epoch, %d epochs, AdamW lr %g wd %g\n",
	       a.arch, fnn_param_count(net), fnn_macs(net) / 1e6, DT_IN, DT_IN,
	       fnn_macs(net) * 640 * 480 / (DT_IN * DT_IN) / 1e6, a.batch, a.steps, a.epochs, a.lr, a.wd);
	t0 = train_now();
	for (int ep = st.epoch; ep < a.epochs; ep++) {
		double te = train_now(), lh = 0, lr_ = 0, ll = 0, score;
		long hit = 0, pos = 0, fp = 0;
		struct dt_loss L;

		for (int b = 0; b < a.steps; b++) {
			int len = a.epochs - st.sched_from;
			double prog = (double)((ep - st.sched_from) * a.steps + b) / ((double)len * a.steps);
			double wu = 0.5 / len;
			float lr = prog < wu ? a.lr * (float)(prog / wu)
					     : a.lr * 0.5f * (1.0f + cosf((float)(M_PI * (prog - wu) / (1 - wu))));
			const float *z;
			uint64_t base = st.seed * 0x9e3779b97f4a7c15ULL + (uint64_t)st.step * 1000003ULL;

#pragma omp parallel for schedule(dynamic)
			for (int j = 0; j < a.batch; j++) {
				uint64_t sd = base + (uint64_t)j * 0x632be59bd9b4e019ULL;
				int kind = -1;
				/* online hard-negative mining: replay negatives that fired */
				if (n_hard && j % 8 == 7) {
					sd = hard[(sd >> 7) % (uint64_t)n_hard];
					kind = 3;
				}
				dt_sample_make(&d, &smp[j], sd, kind, 0, d.n_train_photo, 0, d.n_train_neg, a.mix);
				smp[j].kind = kind == 3 ? 3 : smp[j].kind;
				memcpy(x + (size_t)j * DT_IN * DT_IN, smp[j].x, sizeof(smp[j].x));
				dt_target_make(&smp[j], &tg[j]);
				smp[j].seed = sd;
			}
			z = fnn_forward(net, x, a.batch, 1);
			dt_loss(z, tg, a.batch, dz, &L);
			for (int j = 0; j < a.batch; j++) {
				float mx = -1e9f;
				if (smp[j].kind != 3)
					continue;
				for (int c = 0; c < DT_G * DT_G; c++)
					mx = fmaxf(mx, z[((long)j * DT_G * DT_G + c) * DT_NCH]);
				if (mx > -1.4f) { /* p > 0.2 */
					hard[hard_pos] = smp[j].seed;
					hard_pos = (hard_pos + 1) % DT_HARD_CAP;
					if (n_hard < DT_HARD_CAP)
						n_hard++;
				}
			}
			fnn_zero_grad(net);
			fnn_backward(net, x, dz, a.batch);
			st.step++;
			fnn_step(net, FNN_ADAMW, lr, 0.9f, a.wd, st.step - st.opt_from);
			lh += L.heat;
			lr_ += L.reg;
			ll += L.lm;
			if (!isfinite(L.heat) || !isfinite(L.reg)) {
				train_log(log, "loss is not finite at epoch %d step %d: stopping\n", ep + 1, b);
				goto out;
			}
			if ((b + 1) % 10 == 0 || b + 1 == a.steps) {
				double el = train_now() - te;
				fprintf(stderr, "\repoch %d/%d %4d/%d heat %.4f reg %.4f lm %.4f lr %.5f hard %d %.1f img/s ",
					ep + 1, a.epochs, b + 1, a.steps, lh / (b + 1), lr_ / (b + 1), ll / (b + 1),
					lr, n_hard, (b + 1) * a.batch / el);
			}
		}
		fprintf(stderr, "\n");
		/* validation */
		{
			double vh = 0, vr = 0, vl = 0;
			int nb = 0;
			for (int i = 0; i < DT_VAL_N; i += a.batch) {
				int n = DT_VAL_N - i < a.batch ? DT_VAL_N - i : a.batch;
				const float *z = fnn_forward(net, vx + (size_t)i * DT_IN * DT_IN, n, 0);
				dt_loss(z, vtg + i, n, dz, &L);
				dt_peaks(z, vtg + i, n, &hit, &pos, &fp);
				vh += L.heat;
				vr += L.reg;
				vl += L.lm;
				nb++;
			}
			score = (double)hit / (pos ? pos : 1) - 0.002 * (double)fp;
			st.epoch = ep + 1;
			if (score > st.best) {
				st.best = (float)score;
				st.best_epoch = ep + 1;
				if (fnn_save(net, best, &st, sizeof(st), 0))
					goto out;
			}
			if (fnn_save(net, a.ckpt, &st, sizeof(st), 1))
				goto out;
			train_log(log,
			       "epoch %d/%d train heat %.4f reg %.4f lm %.4f | val heat %.4f reg %.4f lm %.4f "
			       "peak recall %.4f (%ld/%ld) false peaks %ld | %.0f s/epoch, %.0f s\n",
			       ep + 1, a.epochs, lh / a.steps, lr_ / a.steps, ll / a.steps, vh / nb, vr / nb,
			       vl / nb, (double)hit / (pos ? pos : 1), hit, pos, fp, train_now() - te, train_now() - t0);
		}
	}
	rc = 0;
out:
	if (log)
		fclose(log);
	free(smp);
	free(tg);
	free(vtg);
	free(x);
	free(vx);
	free(dz);
	free(hard);
	fnn_free(net);
	dt_free(&d);
	return rc;
}

/* Print heat logits against targets for a few samples (debugging aid). */
int dt_debug(int argc, char **argv)
{
	struct dt_args a = {.epochs = 1, .batch = 1, .steps = 1, .seed = 1, .ckpt = "runs/face.ckpt"};
	struct dt_data d;
	struct fnn *net;
	struct dt_sample *s = malloc(sizeof(*s));
	struct dt_target *t = malloc(sizeof(*t));
	char arch[512];
	int rc;

	if ((rc = dt_parse(argc, argv, &a)))
		return rc == 1 ? 0 : rc;
	if (!s || !t || fnn_load_arch(a.ckpt, arch, sizeof(arch)) || dt_load(&d, a.faces, a.fer) ||
	    dt_sharp_setup(&d, &a))
		return 1;
	net = fnn_new(arch, (struct fnn_shape){DT_IN, DT_IN, 1}, 1);
	if (!net || fnn_load(net, a.ckpt, NULL, 0, NULL))
		return 1;
	if (getenv("DT_SCAN")) {
		for (int i = 0; i < atoi(getenv("DT_SCAN")); i++) {
			int bad = 0;
			dt_sample_make(&d, s, 0x1234567ULL * (uint64_t)i, -1, 0, d.n_train_photo, 0, d.n_train_neg, NULL);
			for (int k = 0; k < DT_IN * DT_IN; k++)
				if (!isfinite(s->x[k]) || s->x[k] < 0 || s->x[k] > 1) {
					bad++;
					printf("px %d = %g\n", k, (double)s->x[k]);
				}
			for (int k = 0; k < s->nf; k++)
				bad += !isfinite(s->f[k].cx) || !isfinite(s->f[k].side) || !isfinite(s->f[k].lm[0][0]);
			if (bad)
				printf("sample %d kind %d: %d bad values\n", i, s->kind, bad);
		}
		return 0;
	}
	for (int i = 0; i < 3; i++) {
		const float *z;
		dt_sample_make(&d, s, 777 + (uint64_t)i, i == 2 ? 2 : 0, 0, d.n_train_photo, 0, d.n_train_neg, NULL);
		dt_target_make(s, t);
		z = fnn_forward(net, s->x, 1, 0);
		for (int l = 0; l < net->n_layers; l++) {
			const struct fnn_layer *L = &net->layers[l];
			long n = (long)L->out.h * L->out.w * L->out.c;
			double m = 0, q = 0;
			int zero = 0;
			for (long k = 0; k < n; k++) {
				m += L->y[k];
				q += (double)L->y[k] * L->y[k];
				zero += L->y[k] == 0;
			}
			m /= (double)n;
			printf("  layer %d type %d: mean %.4f std %.4f zeros %.2f\n", l, L->type, m,
			       sqrt(fmax(0, q / (double)n - m * m)), (double)zero / (double)n);
		}
		printf("sample %d kind %d faces %d\n", i, s->kind, s->nf);
		for (int k = 0; k < s->nf; k++)
			printf("  face c=(%.1f,%.1f) side %.1f\n", (double)s->f[k].cx, (double)s->f[k].cy, (double)s->f[k].side);
		for (int gy = 0; gy < DT_G; gy++) {
			for (int gx = 0; gx < DT_G; gx++)
				printf("%5.1f%c", (double)z[(gy * DT_G + gx) * DT_NCH], t->pos[gy * DT_G + gx] ? '*' : t->heat[gy * DT_G + gx] > 0.3f ? '+' : t->hw[gy * DT_G + gx] == 0 ? 'i' : ' ');
			printf("\n");
		}
	}
	fnn_free(net);
	dt_free(&d);
	return 0;
}
