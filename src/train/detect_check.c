/* detect_check.c - emotop-train detect fer-framing, align-check and
 * verifier-data: the runtime detector on FER2013 faces pasted into frames
 * (where it frames them; how classification fares after detection and
 * alignment) and on photos, negatives and galleries (candidates labelled
 * face or not, the verifier's training data).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emotop/align.h"
#include "emotop/classify.h"
#include "emotop/detect.h"
#include "emotop/image.h"
#include "train/data.h"
#include "train/detect_int.h"

/* The face box of a FER2013 face drawn as a T x T tile with its top-left
 * corner at (x0, y0) (before any rotation about the tile's centre). */
static struct emo_box dt_fer_tile_box(float x0, float y0, float T)
{
	struct emo_box b;

	b.w = DT_FER_W / FER_SIZE * T;
	b.h = DT_FER_H / FER_SIZE * T;
	b.x = x0 + (DT_FER_CX - 0.5f * DT_FER_W) / FER_SIZE * T;
	b.y = y0 + (DT_FER_CY - 0.5f * DT_FER_H) / FER_SIZE * T;
	return b;
}

/* A frame made of a random negative (held-out when held, else a training
 * one) resized to img (left as it is when the negative cannot be read). */
static void dt_neg_frame(const struct dt_data *d, uint64_t *r, struct emo_image *img, int held)
{
	struct emo_image bg = {0};
	const int first = held ? d->n_train_neg : 0, n = held ? d->n_neg - d->n_train_neg : d->n_train_neg;
	int w, h;

	if (n < 1 || jpeg_load_gray(d->neg[first + dt_int(r, n)], &bg.px, &w, &h))
		return;
	bg.w = bg.stride = w;
	bg.h = h;
	image_resize(&bg, img);
	free(bg.px);
}

/* Index of the face of f[0..n) overlapping gt most, by more than min_iou;
 * -1 when none does. */
static int dt_best_match(const struct emo_face *f, int n, const struct emo_box *gt, float min_iou)
{
	int best = -1;

	for (int j = 0; j < n; j++) {
		float v = emo_box_iou(&f[j].box, gt);
		if (v > min_iou) {
			min_iou = v;
			best = j;
		}
	}
	return best;
}

/* Where the detector puts the landmarks and the box of FER2013 faces: each
 * face pasted at 100..160 px at a random place on a held-out negative,
 * detected, mapped back to 48x48 face coordinates and averaged. The
 * classifier's alignment (classify_align) uses these constants. */
int dt_fer_framing(int argc, char **argv)
{
	struct dt_args a = {.epochs = 1, .batch = 1, .steps = 1, .seed = 1};
	struct dt_data d;
	struct detect_opts o;
	struct detect *det;
	struct emo_err e = {0};
	struct emo_image img = {0};
	double sum[7][2] = {{0}}, sq[7][2] = {{0}};
	int n = 0, tried = 0, rc;

	if ((rc = dt_parse(argc, argv, &a)))
		return rc == 1 ? 0 : rc;
	if (!a.fer || dt_load(&d, a.faces, a.fer))
		return 2;
	detect_opts_default(&o);
	o.model_path = a.model;
	o.threshold = 0.3f;
	if (!(det = detect_new(&o, &e)) || image_new(&img, 320, 320)) {
		fprintf(stderr, "emotop-train: %s\n", e.msg);
		dt_free(&d);
		return 1;
	}
	for (int i = 0; i < d.fer.n && tried < 2000; i += 1 + d.fer.n / 2000, tried++) {
		uint64_t r = 0xfe5ULL + (uint64_t)i;
		struct emo_image tile = {FER_SIZE, FER_SIZE, FER_SIZE, d.fer.px + (size_t)i * FER_SIZE * FER_SIZE};
		struct emo_face f[16];
		int T = 100 + dt_int(&r, 61), x0 = dt_int(&r, 320 - T), y0 = dt_int(&r, 320 - T), best;
		float k = (float)T / FER_SIZE;
		struct emo_box gt;
		dt_neg_frame(&d, &r, &img, 1);
		{
			struct emo_image dst = {T, T, img.stride, img.px + (size_t)y0 * img.stride + x0};
			image_resize(&tile, &dst);
		}
		gt = dt_fer_tile_box((float)x0, (float)y0, (float)T);
		best = dt_best_match(f, detect_run(det, &img, f, 16), &gt, 0.3f);
		if (best < 0)
			continue;
		for (int q = 0; q < 5; q++)
			for (int c = 0; c < 2; c++) {
				double v = (f[best].lm[q][c] - (float)(c ? y0 : x0)) / k;
				sum[q][c] += v;
				sq[q][c] += v * v;
			}
		{
			double cx = (f[best].box.x + f[best].box.w * 0.5f - (float)x0) / k;
			double cy = (f[best].box.y + f[best].box.h * 0.5f - (float)y0) / k;
			double bw = f[best].box.w / k, bh = f[best].box.h / k;
			sum[5][0] += cx;
			sum[5][1] += cy;
			sum[6][0] += bw;
			sum[6][1] += bh;
			sq[5][0] += cx * cx;
			sq[5][1] += cy * cy;
			sq[6][0] += bw * bw;
			sq[6][1] += bh * bh;
		}
		n++;
	}
	if (n) {
		static const char *nm[7] = {"left eye", "right eye", "nose", "mouth left", "mouth right",
					    "box centre", "box w, h"};
		printf("FER2013 framing measured by the detector on %d of %d pasted test faces "
		       "(48x48 face pixels, mean +- std):\n", n, tried);
		for (int q = 0; q < 7; q++) {
			double mx = sum[q][0] / n, my = sum[q][1] / n;
			double sx = sqrt(fmax(0, sq[q][0] / n - mx * mx)), sy = sqrt(fmax(0, sq[q][1] / n - my * my));
			printf("  %-12s %s %6.2f +- %.2f   %s %6.2f +- %.2f\n", nm[q], q == 6 ? "w" : "x", mx, sx,
			       q == 6 ? "h" : "y", my, sy);
		}
		/* align.c's framing: a square of side s * h centred dy * h below
		 * the box centre covers the 48x48 face */
		printf("  framing (align.c): ALIGN_BOX_SCALE %.3f, ALIGN_BOX_DY %+.3f of the box height\n",
		       FER_SIZE / (sum[6][1] / n), (FER_SIZE * 0.5 - sum[5][1] / n) / (sum[6][1] / n));
	}
	image_free(&img);
	detect_free(det);
	dt_free(&d);
	return n ? 0 : 1;
}

/* Paste the 48x48 face tile into img so that it covers side T px with its
 * top-left corner near (x0, y0), rotated by angle (radians) about its
 * centre; only pixels that fall inside the tile are written. tmp is a
 * scratch image of img's size. */
static void dt_paste_rotated(struct emo_image *img, struct emo_image *tmp, const struct emo_image *tile,
			     float x0, float y0, float T, float angle)
{
	float k = (float)tile->w / T, c = cosf(angle) * k, s = sinf(angle) * k;
	float cx = x0 + 0.5f * T, cy = y0 + 0.5f * T, tc = 0.5f * (float)tile->w;
	/* tile = R(angle) * (frame - centre) * k + tile centre, pixel centres */
	float a[6] = {c, s, 0, -s, c, 0};

	a[2] = tc - 0.5f - (c * (cx - 0.5f) + s * (cy - 0.5f));
	a[5] = tc - 0.5f - (-s * (cx - 0.5f) + c * (cy - 0.5f));
	image_warp_affine(tile, tmp, a);
	for (int y = 0; y < img->h; y++)
		for (int x = 0; x < img->w; x++) {
			float sx = a[0] * (float)x + a[1] * (float)y + a[2];
			float sy = a[3] * (float)x + a[4] * (float)y + a[5];
			if (sx >= -0.5f && sy >= -0.5f && sx <= (float)tile->w - 0.5f &&
			    sy <= (float)tile->h - 0.5f)
				img->px[(size_t)y * img->stride + x] = tmp->px[(size_t)y * tmp->stride + x];
		}
}

static int dt_argmax7(const float *p)
{
	int b = 0;

	for (int k = 1; k < EMO_NUM_CLASSES; k++)
		if (p[k] > p[b])
			b = k;
	return b;
}

/* The alignment check of the detector issue: FER2013 faces (--fer, e.g. the
 * test split) pasted into 320x320 frames on held-out negatives at random
 * places, sizes (80-160 px) and small rotations (up to 10 degrees), then
 * detected, aligned and classified as emotop does; the accuracy is compared
 * with classifying the original 48x48 crops. A face the detector misses
 * counts as wrong. */
int dt_align_check(int argc, char **argv)
{
	struct dt_args a = {.epochs = 1, .batch = 1, .steps = 1, .seed = 1};
	struct dt_data d;
	struct fer_set fs = {0};
	struct detect_opts o;
	struct classify_opts co;
	struct detect *det = NULL;
	struct classify *cl = NULL, *cl1 = NULL; /* emotop's default framing(s), one framing */
	struct emo_err e = {0};
	struct emo_image img = {0}, tmp = {0};
	long ok_crop = 0, ok_paste = 0, found = 0, ok_crop_found = 0, rot_n = 0, rot_ok = 0;
	long ok_true = 0, ok_true_found = 0, ok_paste1 = 0;
	double err[3] = {0, 0, 0}, err2[3] = {0, 0, 0}; /* box vs truth: dx, dy, log side */
	const int W = 320;
	struct emo_image back = {0};
	int rc;

	if ((rc = dt_parse(argc, argv, &a)))
		return rc == 1 ? 0 : rc;
	if (!a.fer || !a.faces) {
		dt_usage(stderr);
		return 2;
	}
	if (dt_load(&d, a.faces, NULL))
		return 1;
	rc = 1;
	if (fer_load(a.fer, "PublicTest", &fs))
		goto out; /* fer_load said why */
	if (a.limit > 0 && a.limit < fs.n) {
		/* N faces spread evenly over the split (it is sorted by class);
		 * fer_free() frees the whole buffers */
		for (int j = 0; j < a.limit; j++) {
			const int src = (int)((long)j * fs.n / a.limit);
			memmove(fs.px + (size_t)j * FER_SIZE * FER_SIZE, fs.px + (size_t)src * FER_SIZE * FER_SIZE,
				FER_SIZE * FER_SIZE);
			fs.label[j] = fs.label[src];
		}
		fs.n = a.limit;
	}
	if (d.n_neg - d.n_train_neg < 1) {
		fprintf(stderr, "emotop-train: %s has no held-out negatives\n", a.faces);
		goto out;
	}
	detect_opts_default(&o);
	o.model_path = a.model;
	o.verify_path = a.verifier; /* NULL: the embedded verifier; "none": the first stage alone */
	classify_opts_default(&co);
	co.model_path = a.emo;
	if (!(det = detect_new(&o, &e)) || !(cl = classify_new(&co, &e))) {
		fprintf(stderr, "emotop-train: %s\n", e.msg);
		goto out;
	}
	co.scale_tta = 0;
	if (!(cl1 = classify_new(&co, &e))) {
		fprintf(stderr, "emotop-train: %s\n", e.msg);
		goto out;
	}
	if (image_new(&img, W, W) || image_new(&tmp, W, W) || image_new(&back, FER_SIZE, FER_SIZE))
		goto out;
	for (int i = 0; i < fs.n; i++) {
		uint64_t r = 0xa11ca7eULL + (uint64_t)i * 0x9e3779b97f4a7c15ULL;
		struct emo_image tile = {FER_SIZE, FER_SIZE, FER_SIZE, fs.px + (size_t)i * FER_SIZE * FER_SIZE};
		struct emo_face f[16];
		float p[EMO_NUM_CLASSES], T = dt_range(&r, 80, 160), ang = 0;
		float x0 = dt_range(&r, 10, (float)W - T - 10), y0 = dt_range(&r, 10, (float)W - T - 10);
		struct emo_box gt;
		int best, crop_ok, true_ok;

		if (dt_unit(&r) < 0.5f)
			ang = dt_range(&r, -10, 10) * (float)M_PI / 180.0f;
		if (classify_crop(cl, &tile, p))
			goto out;
		crop_ok = dt_argmax7(p) == fs.label[i];
		ok_crop += crop_ok;
		memset(img.px, 128, (size_t)W * W);
		dt_neg_frame(&d, &r, &img, 1);
		dt_paste_rotated(&img, &tmp, &tile, x0, y0, T, ang);
		/* the pasted face cut out again where it truly is (the inverse of
		 * the paste): what is lost to resampling alone, no detector */
		{
			const float K = T / FER_SIZE, c = cosf(ang) * K, s = sinf(ang) * K;
			const float u = 0.5f - 0.5f * FER_SIZE;
			const float at[6] = {c, -s, x0 + 0.5f * T - 0.5f + c * u - s * u,
					     s, c,  y0 + 0.5f * T - 0.5f + s * u + c * u};
			image_warp_affine(&img, &back, at);
			if (classify_crop(cl, &back, p))
				goto out;
			true_ok = dt_argmax7(p) == fs.label[i];
			ok_true += true_ok;
		}
		/* the face box of a FER2013 face (the detector's training convention) */
		gt = dt_fer_tile_box(x0, y0, T);
		best = dt_best_match(f, detect_run(det, &img, f, 16), &gt, 0.3f);
		if (ang != 0)
			rot_n++;
		if (best < 0)
			continue;
		found++;
		ok_crop_found += crop_ok;
		ok_true_found += true_ok;
		{
			const struct emo_box *b = &f[best].box;
			const double e3[3] = {(b->x + 0.5 * b->w - gt.x - 0.5 * gt.w) / gt.w,
					      (b->y + 0.5 * b->h - gt.y - 0.5 * gt.h) / gt.w, log(b->w / gt.w)};
			for (int k = 0; k < 3; k++) {
				err[k] += e3[k];
				err2[k] += e3[k] * e3[k];
			}
		}
		if (classify_face(cl1, &img, &f[best], p))
			goto out;
		ok_paste1 += dt_argmax7(p) == fs.label[i];
		if (classify_face(cl, &img, &f[best], p))
			goto out;
		if (dt_argmax7(p) == fs.label[i]) {
			ok_paste++;
			rot_ok += ang != 0;
		}
	}
	if (!fs.n)
		goto out;
	printf("FER2013 faces: %d (%s)\n", fs.n, a.fer);
	printf("original 48x48 crops:          accuracy %.2f %%\n", 100.0 * ok_crop / fs.n);
	printf("pasted, detected, aligned:     accuracy %.2f %% (a missed face counts as wrong)\n",
	       100.0 * ok_paste / fs.n);
	printf("  faces detected (IoU > 0.3):  %ld (%.2f %%)\n", found, 100.0 * found / fs.n);
	printf("  on the detected faces:       %.2f %% aligned, %.2f %% original crops\n",
	       found ? 100.0 * ok_paste / found : 0.0, found ? 100.0 * ok_crop_found / found : 0.0);
	printf("  one framing (scale_tta off): %.2f %% aligned (the line above: emotop's default)\n",
	       found ? 100.0 * ok_paste1 / found : 0.0);
	printf("  cut out at the true place:   %.2f %% (all faces), %.2f %% (detected ones)\n",
	       100.0 * ok_true / fs.n, found ? 100.0 * ok_true_found / found : 0.0);
	for (int k = 0; k < 3 && found; k++) {
		err[k] /= (double)found;
		err2[k] = sqrt(fmax(0, err2[k] / (double)found - err[k] * err[k]));
	}
	printf("  box error (mean, sd):        centre x %+.3f %.3f, y %+.3f %.3f sides, log side %+.3f %.3f\n",
	       err[0], err2[0], err[1], err2[1], err[2], err2[2]);
	printf("  rotated faces (%ld):         %.2f %% correct\n", rot_n, rot_n ? 100.0 * rot_ok / rot_n : 0.0);
	printf("difference: %+.2f points\n", 100.0 * (ok_paste - ok_crop) / fs.n);
	rc = 0;
out:
	image_free(&img);
	image_free(&tmp);
	image_free(&back);
	classify_free(cl);
	classify_free(cl1);
	detect_free(det);
	fer_free(&fs);
	dt_free(&d);
	return rc;
}

/* Training data for the verifier, the detector's second stage: every
 * candidate the detector (--model; default the embedded one, without its
 * verifier) finds at score >= --threshold on the photos, the negatives and
 * synthetic galleries of FER2013 faces (--fer), cut out as the classifier
 * cuts faces (face_align, 48x48) and labelled 1 when it matches an
 * annotated face (IoU >= 0.5) and 0 when it is on a negative image or
 * overlaps no gallery face (IoU < 0.3). Unmatched candidates on photos may
 * be unannotated faces and are left out. Written as a FER2013-style CSV
 * (label, pixels, Usage: PublicTest for the held-out photos, negatives and
 * one gallery or pasted frame in ten) for `emotop-train fer` with a
 * two-class network. --pasted adds frames with one FER2013 face pasted on a
 * negative; --keep-other thins out the non-face candidates of galleries and
 * pasted frames. */
enum { DT_V_GW = 1920, DT_V_GH = 1080, DT_V_MAXF = 256, DT_V_PW = 320 };

static int dt_v_emit(FILE *out, const struct emo_image *img, const struct emo_face *f,
		     struct emo_image *crop, int label, int held, long *count)
{
	if (face_align_ss(img, f, crop, DETECT_VERIFY_SS))
		return 0;
	fprintf(out, "%d,", label);
	for (int i = 0; i < FER_SIZE * FER_SIZE; i++)
		fprintf(out, i ? " %d" : "%d", crop->px[i]);
	fprintf(out, ",%s\n", held ? "PublicTest" : "Training");
	count[label * 2 + held]++;
	return ferror(out) ? -1 : 0;
}

/* Candidates of one image labelled against gt[0..n_gt) (ign[j] set: an
 * ignore region; ign may be NULL): 1 at IoU >= 0.5 with a face, 0 below 0.3
 * with every face and ignore region when neg_ok (each kept with
 * probability keep0, drawn from r), left out otherwise. */
static int dt_v_image(struct detect *det, FILE *out, const struct emo_image *img, const struct emo_box *gt,
		      const uint8_t *ign, int n_gt, int neg_ok, float keep0, uint64_t *r, int held,
		      struct emo_face *f, struct emo_image *crop, long *count)
{
	int n = detect_run(det, img, f, DT_V_MAXF);

	for (int k = 0; k < n; k++) {
		float best = 0, any = 0;
		for (int j = 0; j < n_gt; j++) {
			const float v = emo_box_iou(&gt[j], &f[k].box);
			any = fmaxf(any, v);
			if (!ign || !ign[j])
				best = fmaxf(best, v);
		}
		if (best < 0.5f && neg_ok && keep0 < 1 && dt_unit(r) >= keep0)
			continue;
		if (best >= 0.5f || (neg_ok && any < 0.3f))
			if (dt_v_emit(out, img, &f[k], crop, best >= 0.5f, held, count))
				return -1;
	}
	return 0;
}

int dt_verifier_data(int argc, char **argv)
{
	struct dt_args a = {.epochs = 1, .batch = 1, .steps = 1, .seed = 1, .thr = 0.05f,
			    .galleries = DT_V_NGAL, .pasted = DT_V_NPASTE, .keep0 = 1};
	struct dt_data d;
	struct detect_opts o;
	struct detect *det = NULL;
	struct emo_err e = {0};
	struct emo_face *f = NULL;
	struct emo_image crop = {0}, gal = {0}, pimg = {0}, ptmp = {0};
	struct emo_box *gt = NULL; /* DT_EV_MAXGT: a WIDER photo has up to 811 faces */
	uint8_t *ign = NULL;
	long count[4] = {0, 0, 0, 0};
	FILE *out = NULL;
	int rc;

	if ((rc = dt_parse(argc, argv, &a)))
		return rc == 1 ? 0 : rc;
	if (!a.fer || !a.out || !(a.thr > 0 && a.thr < 1)) {
		dt_usage(stderr);
		return 2;
	}
	if (dt_load(&d, a.faces, a.fer))
		return 1;
	rc = 1;
	if (dt_sharp_setup(&d, &a))
		goto out;
	detect_opts_default(&o);
	o.model_path = a.model;
	o.verify_path = "none";
	o.threshold = a.thr;
	if (a.min_face)
		o.min_face = a.min_face;
	f = malloc(sizeof(*f) * DT_V_MAXF);
	gt = malloc(sizeof(*gt) * DT_EV_MAXGT);
	ign = malloc(DT_EV_MAXGT);
	if (!f || !gt || !ign || image_new(&crop, FER_SIZE, FER_SIZE) || image_new(&gal, DT_V_GW, DT_V_GH) ||
	    image_new(&pimg, DT_V_PW, DT_V_PW) || image_new(&ptmp, DT_V_PW, DT_V_PW)) {
		fprintf(stderr, "emotop-train: out of memory\n");
		goto out;
	}
	if (!(det = detect_new(&o, &e)) || !strcmp(detect_kernel_path(det), "regions")) {
		fprintf(stderr, "emotop-train: %s\n", det ? "no detector network" : e.msg);
		goto out;
	}
	if (!d.fer.n) {
		fprintf(stderr, "emotop-train: no FER2013 faces in %s\n", a.fer);
		goto out;
	}
	if (!(out = fopen(a.out, "w"))) {
		fprintf(stderr, "emotop-train: %s: %s\n", a.out, strerror(errno));
		goto out;
	}
	fprintf(out, "emotion,pixels,Usage\n");
	/* photos: WebFaces (training ones, then held-out ones), WIDER (the
	 * same), then negatives. WIDER annotates every face, so its unmatched
	 * candidates are non-faces; WebFaces' may be unannotated faces. */
	for (int i = 0; i < d.n_photo + d.n_neg; i++) {
		const int neg = i >= d.n_photo, k = neg ? i - d.n_photo : i, wider = !neg && k >= d.n_web;
		const int held = neg ? k >= d.n_train_neg : wider ? k >= d.n_web + d.n_train_wider : k >= d.n_train_photo;
		struct emo_image img;
		uint8_t *px;
		int w, h, n_gt = 0, bad;
		if (jpeg_load_gray(neg ? d.neg[k] : d.photo[k].path, &px, &w, &h))
			continue;
		img = (struct emo_image){w, h, w, px};
		for (int j = 0; !neg && j < d.photo[k].n && n_gt < DT_EV_MAXGT; j++) {
			ign[n_gt] = d.faces[d.photo[k].first + j].ignore;
			gt[n_gt++] = dt_face_box(&d.faces[d.photo[k].first + j]);
		}
		bad = dt_v_image(det, out, &img, gt, ign, n_gt, neg || wider, 1, NULL, held, f, &crop, count);
		free(px);
		if (bad)
			goto write_error;
	}
	/* galleries: 1280x720 and (every other one) 1920x1080, 2-6 rows and
	 * columns, like a video call's screen share */
	for (int g = 0; g < a.galleries; g++) {
		uint64_t r = 0x7e12f1ULL + (uint64_t)g * 0x9e3779b97f4a7c15ULL;
		const int rows = 2 + dt_int(&r, 5), cols = 2 + dt_int(&r, 5), held = g % 10 == 7;
		const int big = g % 2;
		struct emo_image view = {big ? DT_V_GW : 1280, big ? DT_V_GH : 720, gal.stride, gal.px};
		const uint8_t *faces[64];
		static uint8_t decoys[64][FER_SIZE * FER_SIZE];
		int is_decoy[64], n_gt = 0;
		struct emo_image bg = {0};
		int w, h, n_ng = held ? d.n_neg - d.n_train_neg : d.n_train_neg;
		for (int k = 0; k < rows * cols; k++) {
			faces[k] = dt_tile_pick(&d, &r);
			if ((is_decoy[k] = dt_unit(&r) < DT_DECOY_SHARE)) {
				dt_decoy_tile(&d, held ? d.n_train_neg : 0, n_ng, &r, dt_decoy_sigma(&r), decoys[k]);
				faces[k] = decoys[k];
			}
		}
		if (n_ng > 0 && !jpeg_load_gray(d.neg[(held ? d.n_train_neg : 0) + dt_int(&r, n_ng)], &bg.px, &w, &h)) {
			bg.w = bg.stride = w;
			bg.h = h;
		}
		dt_gallery_draw(&view, bg.px ? &bg : NULL, faces, rows, cols, gt);
		free(bg.px);
		for (int k = 0; k < rows * cols; k++) /* a decoy is no face: its candidates are non-faces */
			if (!is_decoy[k])
				gt[n_gt++] = gt[k];
		if (dt_v_image(det, out, &view, gt, NULL, n_gt, 1, a.keep0, &r, held, f, &crop, count))
			goto write_error;
	}
	/* one FER2013 face pasted on a negative at a random place, size (24 to
	 * 220 px) and, half of the time, tilt (up to 15 degrees), as
	 * `align-check` pastes them */
	for (int i = 0; i < a.pasted; i++) {
		uint64_t r = 0x9a57edULL + (uint64_t)i * 0x9e3779b97f4a7c15ULL;
		const int held = i % 10 == 7;
		struct emo_image tile = {FER_SIZE, FER_SIZE, FER_SIZE, (uint8_t *)(uintptr_t)dt_tile_pick(&d, &r)};
		const float T = 24.0f * expf(dt_unit(&r) * logf(220.0f / 24.0f));
		const float x0 = dt_range(&r, 0, (float)DT_V_PW - T), y0 = dt_range(&r, 0, (float)DT_V_PW - T);
		float ang = 0;
		if (dt_unit(&r) < 0.5f)
			ang = dt_range(&r, -15, 15) * (float)M_PI / 180.0f;
		memset(pimg.px, 128, (size_t)DT_V_PW * DT_V_PW);
		dt_neg_frame(&d, &r, &pimg, held);
		dt_paste_rotated(&pimg, &ptmp, &tile, x0, y0, T, ang);
		gt[0] = dt_fer_tile_box(x0, y0, T);
		if (dt_v_image(det, out, &pimg, gt, NULL, 1, 1, a.keep0, &r, held, f, &crop, count))
			goto write_error;
	}
	if (fclose(out)) {
		out = NULL;
		goto write_error;
	}
	out = NULL;
	printf("wrote %s: %ld faces and %ld non-faces for training, %ld and %ld held out "
	       "(candidates at score >= %.2f)\n",
	       a.out, count[2], count[0], count[3], count[1], (double)a.thr);
	rc = 0;
	goto out;
write_error:
	fprintf(stderr, "emotop-train: %s: write error\n", a.out);
out:
	if (out)
		fclose(out);
	image_free(&crop);
	image_free(&gal);
	image_free(&pimg);
	image_free(&ptmp);
	detect_free(det);
	dt_free(&d);
	free(f);
	free(gt);
	free(ign);
	return rc;
}
