/* detect_eval.c - emotop-train detect eval: the held-out set (WebFaces and
 * WIDER photos, negatives, synthetic galleries of FER2013 faces and of
 * decoys), scoring the runtime detector (detect.c) on it at a false-alarm
 * budget, and printing the figures.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emotop/detect.h"
#include "emotop/facenorm.h"
#include "emotop/image.h"
#include "train/data.h"
#include "train/detect_int.h"
#include "train/train.h"

void dt_fer_box(float *cx, float *cy, float *w, float *h)
{
	*cx = DT_FER_CX;
	*cy = DT_FER_CY;
	*w = DT_FER_W;
	*h = DT_FER_H;
}

void dt_gallery_draw(struct emo_image *out, const struct emo_image *bg, const uint8_t *const *faces,
		     int rows, int cols, struct emo_box *gt)
{
	float cw = (float)out->w / (float)cols, ch = (float)out->h / (float)rows;
	float T = fminf(cw, ch) * 0.8f;

	if (bg && bg->w > 0)
		image_resize(bg, out);
	else
		memset(out->px, 40, (size_t)out->stride * out->h);
	for (int r = 0; r < rows; r++)
		for (int c = 0; c < cols; c++) {
			int k = r * cols + c;
			float x0 = c * cw + (cw - T) * 0.5f, y0 = r * ch + (ch - T) * 0.5f;
			struct emo_image tile = {FER_SIZE, FER_SIZE, FER_SIZE, (uint8_t *)(uintptr_t)faces[k]};
			int ix0 = (int)x0, iy0 = (int)y0, it = (int)T;
			struct emo_image dst = {it, it, out->stride, out->px + (size_t)iy0 * out->stride + ix0};
			/* a darker cell behind the tile, like a call window */
			for (int y = (int)(r * ch) + 2; y < (int)((r + 1) * ch) - 2; y++)
				for (int x = (int)(c * cw) + 2; x < (int)((c + 1) * cw) - 2; x++)
					out->px[(size_t)y * out->stride + x] = (uint8_t)(out->px[(size_t)y * out->stride + x] / 3);
			image_resize(&tile, &dst);
			gt[k].w = DT_FER_W * (float)it / FER_SIZE;
			gt[k].h = DT_FER_H * (float)it / FER_SIZE;
			gt[k].x = (float)ix0 + DT_FER_CX * (float)it / FER_SIZE - gt[k].w * 0.5f;
			gt[k].y = (float)iy0 + DT_FER_CY * (float)it / FER_SIZE - gt[k].h * 0.5f;
		}
}

static int dt_ev_push(struct dt_evset *s, int *cap)
{
	if (train_grow(&s->im, cap, s->n, sizeof(*s->im), 1024))
		return -1;
	memset(&s->im[s->n], 0, sizeof(s->im[s->n]));
	return 0;
}

static int dt_ev_jpeg(struct dt_evimg *e, const char *path)
{
	uint8_t *px;
	int w, h;

	snprintf(e->path, sizeof(e->path), "%s", path);
	if (jpeg_load_gray(path, &px, &w, &h))
		return -1;
	e->img.w = w;
	e->img.h = h;
	e->img.stride = w;
	e->img.px = px;
	return 0;
}

int dt_evset_load(struct dt_evset *s, const char *faces_dir, const char *fer_dir, int n_gallery,
		  int gw, int gh, int rows, int cols, float gallery_blur, int decoys, const char *gallery_dir)
{
	struct dt_data d;
	struct fer_set fer = {0};
	int cap = 0, rc = -1;

	memset(s, 0, sizeof(*s));
	if (dt_load(&d, faces_dir, NULL))
		return -1;
	if (n_gallery > 0 && fer_dir && fer_load(fer_dir, NULL, &fer))
		goto out;
	for (int i = 0; gallery_blur > 0 && i < fer.n; i++) {
		uint8_t tmp[FER_SIZE * FER_SIZE];
		facenorm_blur(fer.px + (size_t)i * FER_SIZE * FER_SIZE, FER_SIZE, FER_SIZE, gallery_blur, tmp);
	}
	for (int i = d.n_train_photo; i < d.n_photo; i++) {
		struct dt_evimg *e;
		const int wider = i >= d.n_web;
		if (i >= d.n_web && i < d.n_web + d.n_train_wider)
			continue; /* WIDER's training photos */
		if (dt_ev_push(s, &cap))
			goto out;
		e = &s->im[s->n];
		if (dt_ev_jpeg(e, d.photo[i].path))
			continue;
		e->kind = wider ? DT_EV_WIDER : DT_EV_PHOTO;
		for (int k = 0; k < d.photo[i].n && k < DT_EV_MAXGT; k++) {
			e->ign[e->n_gt] = (uint8_t)d.faces[d.photo[i].first + k].ignore;
			e->gt[e->n_gt++] = dt_face_box(&d.faces[d.photo[i].first + k]);
		}
		s->n++;
		if (wider)
			s->n_wider++;
		else
			s->n_photo++;
	}
	for (int i = d.n_train_neg; i < d.n_neg; i++) {
		if (dt_ev_push(s, &cap))
			goto out;
		if (dt_ev_jpeg(&s->im[s->n], d.neg[i]))
			continue;
		s->im[s->n].kind = DT_EV_NEG;
		s->n++;
		s->n_neg++;
	}
	for (int g = 0; fer.n && g < (decoys ? 2 : 1) * n_gallery && rows * cols <= 64; g++) {
		struct dt_evimg *e;
		const uint8_t *faces[64];
		static uint8_t decoy[64][FER_SIZE * FER_SIZE];
		struct emo_image bg = {0};
		const int is_decoy = g >= n_gallery;
		uint64_t r = (is_decoy ? 0xdec0ULL : 0x6a11e7ULL) + (uint64_t)g;
		int w, h;
		if (dt_ev_push(s, &cap))
			goto out;
		e = &s->im[s->n];
		if (image_new(&e->img, gw, gh))
			goto out;
		for (int k = 0; k < rows * cols; k++) {
			if (is_decoy) { /* blurred like FER2013's training faces, no face */
				dt_decoy_tile(&d, d.n_train_neg, d.n_neg - d.n_train_neg, &r, 3.0f, decoy[k]);
				faces[k] = decoy[k];
			} else {
				faces[k] = dt_fer_pick(&fer, &r);
			}
		}
		if (!jpeg_load_gray(d.neg[d.n_train_neg + dt_int(&r, d.n_neg - d.n_train_neg)], &bg.px, &w, &h)) {
			bg.w = bg.stride = w;
			bg.h = h;
		}
		dt_gallery_draw(&e->img, bg.px ? &bg : NULL, faces, rows, cols, e->gt);
		free(bg.px);
		e->n_gt = is_decoy ? 0 : rows * cols;
		e->kind = is_decoy ? DT_EV_DECOY : DT_EV_GALLERY;
		snprintf(e->path, sizeof(e->path), "%s/%s%03d.pgm", gallery_dir ? gallery_dir : ".",
			 is_decoy ? "decoys" : "gallery", g);
		if (gallery_dir) {
			FILE *f = fopen(e->path, "wb");
			if (!f) {
				fprintf(stderr, "emotop-train: %s: %s\n", e->path, strerror(errno));
				image_free(&e->img);
				goto out;
			}
			fprintf(f, "P5\n%d %d\n255\n", gw, gh);
			fwrite(e->img.px, 1, (size_t)gw * gh, f);
			fclose(f);
		}
		s->n++;
		s->n_gallery++;
	}
	rc = 0;
out:
	fer_free(&fer);
	dt_free(&d);
	if (rc)
		dt_evset_free(s);
	return rc;
}

void dt_evset_free(struct dt_evset *s)
{
	for (int i = 0; s->im && i < s->n; i++)
		image_free(&s->im[i].img);
	free(s->im);
	memset(s, 0, sizeof(*s));
}

/* dt_evaluate's face-size bins (their lower edges after the first) and
 * its false-alarm budgets per negative */
#define DT_EV_SIZES 20.0f, 30.0f, 50.0f, 100.0f
#define DT_EV_BUDGETS 0.005f, 0.01f, 0.02f, 0.05f

int dt_cmp_float_desc(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

/* The score threshold that allows budget false alarms per negative: the
 * score of the first alarm past the allowance in sc[0..n) (sorted,
 * highest first) over n_neg negatives, 0 when there are fewer. */
static float dt_budget_score(const float *sc, int n, int n_neg, float budget)
{
	const int allowed = (int)floorf(budget * (float)n_neg);

	return allowed < n ? sc[allowed] : 0.0f;
}

/* A box's size, as the detector measures faces: sqrt(w h). */
static float dt_box_size(const struct emo_box *b)
{
	return sqrtf(b->w * b->h);
}

/* Greedy matching (best score first) of dets above thr to gt at IoU >=
 * min_iou. Counts matched gt (only those of size >= min_face into *hit, all
 * into *hit_all) and unmatched dets into *fa; a det on an ignore region
 * (ign[j], may be NULL) counts neither way. used[0..DT_EV_MAXGT) is set to
 * 1 for each matched gt. */
static void dt_match(const struct emo_face *f, int n, const struct emo_box *gt, const uint8_t *ign,
		     int n_gt, float thr, float min_iou, int min_face, int *hit, int *hit_all, int *fa,
		     uint8_t used[DT_EV_MAXGT])
{
	memset(used, 0, DT_EV_MAXGT);
	if (n_gt > DT_EV_MAXGT)
		n_gt = DT_EV_MAXGT;
	for (int i = 0; i < n; i++) {
		int best = -1, on_ign = 0;
		float bi = min_iou;
		if (!(f[i].score > thr))
			continue;
		for (int j = 0; j < n_gt; j++) {
			float v = emo_box_iou(&f[i].box, &gt[j]);
			if (ign && ign[j]) {
				on_ign |= v >= min_iou;
				continue;
			}
			if (!used[j] && v >= bi) {
				bi = v;
				best = j;
			}
		}
		if (best < 0) {
			*fa += !on_ign;
			continue;
		}
		used[best] = 1;
		(*hit_all)++;
		if (dt_box_size(&gt[best]) >= (float)min_face)
			(*hit)++;
	}
}

/* IoU a tile's face must reach in a gallery (FER2013 faces fill their 48x48
 * image to different degrees: the tile's box is only approximate) */
#define DT_EV_GALLERY_IOU 0.3f
#define DT_EV_WSIZES 10.0f, 20.0f, 40.0f

int dt_evaluate(struct detect *det, const struct dt_evset *s, float budget, int min_face,
		struct dt_evres *r)
{
	enum { MAXF = 1024 };
	struct emo_face *f = malloc(sizeof(*f) * MAXF);
	struct emo_face **all = calloc((size_t)s->n, sizeof(*all));
	int *nf = calloc((size_t)s->n, sizeof(int)), n_negsc = 0, rc = -1;
	float *negsc = NULL;
	uint8_t *used = malloc(DT_EV_MAXGT), *used2 = malloc(DT_EV_MAXGT);
	double t = 0;
	struct timespec a, b;

	memset(r, 0, sizeof(*r));
	r->min_face = min_face;
	if (!f || !all || !nf || !used || !used2)
		goto fail;
	for (int i = 0; i < s->n; i++) {
		int n;
		clock_gettime(CLOCK_MONOTONIC, &a);
		n = detect_run(det, &s->im[i].img, f, MAXF);
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (s->im[i].kind != DT_EV_WIDER) /* the speed of ordinary frames */
			t += (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) * 1e-6;
		if (n < 0) {
			fprintf(stderr, "emotop-train: %s: detection failed (%d)\n", s->im[i].path, n);
			goto fail;
		}
		nf[i] = n;
		if (n && !(all[i] = malloc(sizeof(*f) * (size_t)n)))
			goto fail;
		if (n)
			memcpy(all[i], f, sizeof(*f) * (size_t)n);
		if (s->im[i].kind == DT_EV_NEG)
			n_negsc += n;
	}
	r->ms = s->n - s->n_wider ? t / (s->n - s->n_wider) : 0;
	negsc = malloc(sizeof(float) * (size_t)(n_negsc + 1));
	if (!negsc)
		goto fail;
	n_negsc = 0;
	for (int i = 0; i < s->n; i++)
		for (int k = 0; s->im[i].kind == DT_EV_NEG && k < nf[i]; k++)
			negsc[n_negsc++] = all[i][k].score;
	qsort(negsc, (size_t)n_negsc, sizeof(float), dt_cmp_float_desc);
	r->thr = dt_budget_score(negsc, n_negsc, s->n_neg, budget);
	{
		struct detect_opts o;
		detect_opts_default(&o);
		r->t5_thr = o.threshold;
	}
	for (int i = 0; i < s->n; i++) {
		const struct dt_evimg *e = &s->im[i];
		const int gal = e->kind == DT_EV_GALLERY || e->kind == DT_EV_DECOY;
		const float iou = gal ? DT_EV_GALLERY_IOU : 0.5f;
		int hit = 0, hit_all = 0, fa = 0;
		dt_match(all[i], nf[i], e->gt, e->ign, e->n_gt, r->thr, iou, min_face, &hit, &hit_all, &fa,
			 used);
		if (e->kind == DT_EV_GALLERY) {
			int h50 = 0, h50_all = 0, fa50 = 0;
			dt_match(all[i], nf[i], e->gt, e->ign, e->n_gt, r->thr, 0.5f, min_face, &h50, &h50_all,
				 &fa50, used2);
			r->g_hit50 += h50_all;
		}
		{ /* at the application's default threshold */
			int h5 = 0, h5_all = 0, fa5 = 0;
			dt_match(all[i], nf[i], e->gt, e->ign, e->n_gt, r->t5_thr, iou, min_face, &h5, &h5_all,
				 &fa5, used2);
			if (e->kind == DT_EV_PHOTO)
				r->t5_hit += h5;
			else if (e->kind == DT_EV_NEG)
				r->t5_neg_fa += fa5;
			else if (e->kind == DT_EV_GALLERY) {
				r->t5_g_hit += h5_all;
				r->t5_g_fa += fa5;
			} else if (e->kind == DT_EV_DECOY)
				r->t5_d_fa += fa5;
		}
		for (int j = 0; e->kind == DT_EV_PHOTO && j < e->n_gt && j < DT_EV_MAXGT; j++) {
			static const float edges[4] = {DT_EV_SIZES};
			int k = 0;
			while (k < 4 && dt_box_size(&e->gt[j]) >= edges[k])
				k++;
			r->sz_gt[k]++;
			r->sz_hit[k] += used[j];
		}
		if (e->kind == DT_EV_WIDER) {
			static const float edges[3] = {DT_EV_WSIZES};
			int h = 0, ha = 0, f2 = 0;
			r->w_images++;
			r->w_fa += fa;
			/* where the misses are: no box at all, or one placed badly */
			dt_match(all[i], nf[i], e->gt, e->ign, e->n_gt, -1.0f, 0.5f, (int)edges[0], &h, &ha, &f2,
				 used2);
			r->w_any += h;
			h = 0;
			dt_match(all[i], nf[i], e->gt, e->ign, e->n_gt, r->thr, 0.3f, (int)edges[0], &h, &ha, &f2,
				 used2);
			r->w_loose += h;
			for (int j = 0; j < e->n_gt && j < DT_EV_MAXGT; j++) {
				const float sz = dt_box_size(&e->gt[j]);
				int k = 2;
				if (e->ign[j] || sz < edges[0])
					continue;
				while (k > 0 && sz < edges[k])
					k--;
				r->w_gt[k]++;
				r->w_hit[k] += used[j];
			}
		}
		if (e->kind == DT_EV_NEG) {
			r->n_neg++;
			r->neg_fa += fa;
		} else if (e->kind == DT_EV_DECOY) {
			r->d_frames++;
			r->d_fa += fa;
		} else if (e->kind == DT_EV_PHOTO) {
			for (int j = 0; j < e->n_gt; j++) {
				r->n_gt_all++;
				r->n_gt += dt_box_size(&e->gt[j]) >= (float)min_face;
			}
			r->n_hit += hit;
			r->n_hit_all += hit_all;
		} else if (e->kind == DT_EV_GALLERY) {
			r->g_gt += e->n_gt;
			r->g_hit += hit_all;
			r->g_fa += fa;
		}
	}
	/* the recall of photo faces >= min_face at other false-alarm budgets */
	for (int q = 0; q < 4; q++) {
		static const float budgets[4] = {DT_EV_BUDGETS};
		int hit = 0, hit_all = 0, fa = 0;
		r->sw_thr[q] = dt_budget_score(negsc, n_negsc, s->n_neg, budgets[q]);
		for (int i = 0; i < s->n; i++)
			if (s->im[i].kind == DT_EV_PHOTO)
				dt_match(all[i], nf[i], s->im[i].gt, s->im[i].ign, s->im[i].n_gt, r->sw_thr[q], 0.5f,
					 min_face, &hit, &hit_all, &fa, used);
		r->sw_recall[q] = r->n_gt ? (float)hit / (float)r->n_gt : 0.0f;
	}
	rc = 0;
fail:
	for (int i = 0; all && i < s->n; i++)
		free(all[i]);
	free(all);
	free(nf);
	free(f);
	free(negsc);
	free(used);
	free(used2);
	return rc;
}

void dt_evres_print_breakdown(const struct dt_evres *r)
{
	static const char *bin[5] = {"< 20", "20-30", "30-50", "50-100", ">= 100"};
	static const float budgets[4] = {DT_EV_BUDGETS};

	if (r->w_images) {
		static const char *wb[3] = {"10-20", "20-40", ">= 40"};
		const int nw = r->w_gt[0] + r->w_gt[1] + r->w_gt[2];
		printf("held-out WIDER (%d photos) recall by face size sqrt(w h) at threshold %.3f:",
		       r->w_images, (double)r->thr);
		for (int k = 0; k < 3; k++)
			printf("%s %s px %.3f (%d/%d)", k ? "," : "", wb[k],
			       (double)r->w_hit[k] / (r->w_gt[k] ? r->w_gt[k] : 1), r->w_hit[k], r->w_gt[k]);
		printf("; over 20 px %.3f; %d boxes on no face\n",
		       (double)(r->w_hit[1] + r->w_hit[2]) / (r->w_gt[1] + r->w_gt[2] ? r->w_gt[1] + r->w_gt[2] : 1),
		       r->w_fa);
		printf("held-out WIDER faces >= 10 px with a box at IoU >= 0.5 at any score (>= 0.05): %.3f; "
		       "at IoU >= 0.3 at threshold %.3f: %.3f\n",
		       (double)r->w_any / (nw ? nw : 1), (double)r->thr, (double)r->w_loose / (nw ? nw : 1));
	}
	printf("held-out WebFaces recall by face size sqrt(w h) at threshold %.3f:", (double)r->thr);
	for (int k = 0; k < 5; k++)
		printf("%s %s px %.3f (%d/%d)", k ? "," : "", bin[k],
		       (double)r->sz_hit[k] / (r->sz_gt[k] ? r->sz_gt[k] : 1), r->sz_hit[k], r->sz_gt[k]);
	printf("\nheld-out WebFaces recall (faces >= %d px) at false alarms per negative:", r->min_face);
	for (int b = 0; b < 4; b++)
		printf("%s %.3f: %.4f (threshold %.3f)", b ? "," : "", (double)budgets[b],
		       (double)r->sw_recall[b], (double)r->sw_thr[b]);
	printf("\nat the default threshold %.2f: held-out recall %.4f (%d/%d), %d false alarms on "
	       "%d negatives; galleries %d/%d with %d false alarms",
	       (double)r->t5_thr, (double)r->t5_hit / (r->n_gt ? r->n_gt : 1), r->t5_hit, r->n_gt,
	       r->t5_neg_fa, r->n_neg, r->t5_g_hit, r->g_gt, r->t5_g_fa);
	if (r->d_frames)
		printf("; decoys %d false alarms", r->t5_d_fa);
	printf("\n");
}

int dt_eval_cmd(int argc, char **argv)
{
	struct dt_args a = {.epochs = 1, .batch = 1, .steps = 1, .seed = 1};
	struct dt_evset s;
	struct detect_opts o;
	struct detect *det;
	struct dt_evres r;
	struct emo_err e = {0};
	int rc;

	if ((rc = dt_parse(argc, argv, &a)))
		return rc == 1 ? 0 : rc;
	if (dt_evset_load(&s, a.faces, a.fer, a.fer ? 20 : 0, 1920, 1080, 5, 5, a.gallery_blur, 1, NULL))
		return 1;
	detect_opts_default(&o);
	o.threshold = 0.05f;
	o.model_path = a.model;
	o.verify_path = a.verifier; /* NULL: the embedded verifier; "none": the first stage alone */
	if (a.min_face)
		o.min_face = a.min_face;
	if (!(det = detect_new(&o, &e))) {
		fprintf(stderr, "emotop-train: %s\n", e.msg);
		dt_evset_free(&s);
		return 1;
	}
	rc = dt_evaluate(det, &s, 0.01f, o.min_face, &r) ? 1 : 0;
	if (!rc)
		printf("held-out WebFaces: recall %.4f (%d/%d faces >= %d px), all sizes %.4f (%d/%d) "
		       "at threshold %.3f = %d false alarms on %d held-out negatives (%.4f per image)\n"
		       "galleries 1920x1080 5x5 FER test faces (IoU >= 0.3): recall %.4f (%d/%d), %d false "
		       "alarms; at IoU >= 0.5 %d/%d\n"
		       "decoy galleries 1920x1080 5x5 (blurred squares of negatives, no face): "
		       "%d false alarms on %d tiles\n"
		       "mean %.2f ms per image (path %s)\n",
		       (double)r.n_hit / (r.n_gt ? r.n_gt : 1), r.n_hit, r.n_gt, o.min_face,
		       (double)r.n_hit_all / (r.n_gt_all ? r.n_gt_all : 1), r.n_hit_all, r.n_gt_all,
		       (double)r.thr, r.neg_fa, r.n_neg, (double)r.neg_fa / (r.n_neg ? r.n_neg : 1),
		       (double)r.g_hit / (r.g_gt ? r.g_gt : 1), r.g_hit, r.g_gt, r.g_fa, r.g_hit50, r.g_gt,
		       r.d_fa, r.d_frames * 25, r.ms,
		       detect_kernel_path(det));
	if (!rc)
		dt_evres_print_breakdown(&r);
	detect_free(det);
	dt_evset_free(&s);
	return rc;
}
