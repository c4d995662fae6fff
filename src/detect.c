/* detect.c - the face detector: an int8 CNN on the qnn engine, run over an
 * image pyramid, decoded from centre heatmaps, then NMS.
 *
 * Network (trained by emotop-train detect, src/train/detect_train.c): a
 * sequential fully convolutional net over the gray frame, stride 8, ending in
 * a 1x1 head with 15 float maps per cell (anchor-free, CenterNet-style):
 *   0      centre heat logit: a face's centre lies in this cell (plus the
 *          model's score_shift, set by `emotop-train detect calibrate` so
 *          that 0.5 is the operating point)
 *   1, 2   sub-cell offset of the centre (dx, dy in cells)
 *   3, 4   log(w / size_base), log(h / size_base): the face box in the
 *          WIDER FACE convention (top of the forehead to under the chin,
 *          cheek to cheek; taller than wide)
 *   5..14  five landmarks (left eye, right eye, nose, mouth left, mouth
 *          right as seen) relative to the centre, in units of sqrt(w h)
 * A face's size (min_face, level_min) is sqrt(w h). Models of the first
 * format (14 maps: one square side at 3, landmarks at 4..13 in units of
 * it) still load.
 * The receptive field (76 px) covers faces of level_min..level_max px
 * (20..48), so larger faces are found on smaller pyramid levels: level k is
 * the frame scaled by s0 / (level_max/level_min)^k, s0 = level_min /
 * min_face (so a min_face of 10 runs the first level on a 2x upscaled frame,
 * 4x the cost; 40 starts at half size, 1/4 of the cost). min_face 0 is
 * auto: per frame, a 48th of its shorter side, 10 to 20 px
 * (detect_min_face). A cell is a face
 * when its heat is a 3x3 local maximum above the threshold; its box and
 * landmarks come from the regression maps of that cell (on levels after the
 * first only boxes of at least level_min px there: see detect_decode); NMS
 * over all levels.
 *
 * Verifier (second stage, optional: models/faceverify.qnn, embedded): the
 * heat map alone mistakes tiles, chair backs or cloth for faces at its
 * coarse pyramid levels. Every candidate of the first stage scoring at
 * least the verifier's verify_pre (after NMS) is cut out with the
 * classifier's framing (face_align_ss, 48x48, at most DETECT_VERIFY_SS
 * samples per axis and pixel) and scored by a small two-class CNN
 * trained on the first stage's own candidates (`emotop-train detect
 * verifier-data`); the face's score is then sigmoid((z1 + z2) / 2 +
 * verify_shift), z1 the heat logit, z2 the verifier's face-minus-other
 * logit, verify_shift set by `emotop-train detect calibrate --verifier`.
 * The shipped one costs 6.8 M MAC and about 0.1 ms per candidate (its
 * crop included), a few candidates per frame.
 *
 * Memory: the qnn context, the pyramid buffers and the candidate list are
 * allocated for the largest frame seen; detect_run() allocates nothing for
 * a frame no larger than an earlier one.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emotop/align.h"
#include "emotop/blob.h"
#include "emotop/detect.h"
#include "emotop/facenorm.h"
#include "emotop/qnn.h"
#include "sort.h"

#define DETECT_MAX_LEVELS 12
#define DETECT_MAX_CAND 4096
#define DETECT_NCH 15     /* maps per cell; DETECT_NCH_SQ for square-box models */
#define DETECT_NCH_SQ 14
#define DETECT_INSIDE 0.7f   /* a box this much inside a better, larger one: part of its face */

struct detect {
	struct detect_opts o;
	int mf;                  /* the frame's smallest face (detect_min_face) */
	struct qnn_model *m;     /* NULL: seat-region stand-in */
	struct qnn_ctx *ctx;
	enum qnn_path path;
	int ctx_w, ctx_h;        /* context capacity */
	int out_tensor;
	int nch;                 /* DETECT_NCH or DETECT_NCH_SQ */
	int stride;
	float size_base, level_min, level_max;
	float score_shift;       /* added to the heat logit (calibration) */
	float size_shift;        /* added to the log-size map (calibration) */
	uint8_t *lvl[2];         /* pyramid images (ping-pong) */
	size_t lvl_cap;
	int32_t *rs_x0, *rs_x1;  /* resampling: source columns of each output column
				    (rs_x0: one more, the end of the last) */
	float *rs_wx;            /* bilinear: weights of its two columns, and two
				    source rows interpolated along x (4 x rs_cap) */
	uint32_t *rs_col;        /* cumulative column sums of a band of source
				    rows (one more entry than columns) */
	int rs_cap, rs_col_cap;  /* their entries */
	struct emo_face *cand;   /* DETECT_MAX_CAND */
	uint8_t *keep;           /* DETECT_MAX_CAND: detect_cells() */
	/* the verifier (second stage); vm NULL: none */
	struct qnn_model *vm;
	struct qnn_ctx *vctx;
	int v_out;               /* its logits tensor (2: other, face) */
	int v_norm;              /* meta input_norm=facenorm */
	float v_pre;             /* first-stage score a candidate needs */
	float v_shift;           /* added to the combined logit (calibration) */
	struct emo_image vcrop;  /* aligned candidate */
};

void detect_opts_default(struct detect_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->min_face = 20;
	o->threshold = 0.5f;
	o->nms_iou = 0.4f;
}

static float meta_float(const struct qnn_model *m, const char *key, float def)
{
	char buf[64], *end;
	double v;

	if (qnn_meta_get(m, key, buf, sizeof(buf)))
		return def;
	v = strtod(buf, &end);
	return end != buf && isfinite(v) ? (float)v : def;
}

static int detect_load(struct detect *d, struct emo_err *err)
{
	const struct qnn_model *m;
	char task[64];
	int rc;

	if (d->o.model_path && *d->o.model_path)
		rc = qnn_model_load(d->o.model_path, &d->m, err);
	else if (emo_blob_face_end - emo_blob_face > 0)
		rc = qnn_model_load_mem(emo_blob_face, (size_t)(emo_blob_face_end - emo_blob_face),
					"embedded face.qnn", &d->m, err);
	else
		return EMO_OK; /* no model: stand-in */
	if (rc)
		return rc;
	m = d->m;
	if (qnn_meta_get(m, "task", task, sizeof(task)) || strcmp(task, "face-detect"))
		return emo_seterr(err, EMO_EFORMAT, d->o.model_path, 0, 0,
				  "not a face detector model (meta task=face-detect missing)");
	d->out_tensor = m->layers[m->n_layers - 1].out;
	d->nch = m->tensors[d->out_tensor].c;
	if (m->tensors[0].c != 1 || !m->layers[m->n_layers - 1].float_out ||
	    (d->nch != DETECT_NCH && d->nch != DETECT_NCH_SQ))
		return emo_seterr(err, EMO_EFORMAT, d->o.model_path, 0, 0,
				  "face detector must take gray input and end in %d (or %d) float maps",
				  DETECT_NCH, DETECT_NCH_SQ);
	d->stride = (int)meta_float(m, "stride", 8);
	d->size_base = meta_float(m, "size_base", 32);
	d->level_min = meta_float(m, "level_min", 20);
	d->level_max = meta_float(m, "level_max", 48);
	d->score_shift = meta_float(m, "score_shift", 0);
	d->size_shift = meta_float(m, "size_shift", 0);
	if (d->stride < 1 || d->stride > 64 || !(d->size_base > 0) || !(d->level_min >= 4) ||
	    !(d->level_max > d->level_min * 1.2f))
		return emo_seterr(err, EMO_EFORMAT, d->o.model_path, 0, 0,
				  "face detector metadata out of range");
	return EMO_OK;
}

/* The second stage: a verifier model (file, or the embedded one). */
static int detect_load_verifier(struct detect *d, struct emo_err *err)
{
	const char *path = d->o.verify_path;
	const struct qnn_model *m;
	char buf[64];
	int rc, last, side;

	if (path && !strcmp(path, "none"))
		return EMO_OK;
	/* the embedded verifier was trained on the embedded detector's
	 * candidates and calibrated with it: not used with another model */
	if ((!path || !*path) && d->o.model_path && *d->o.model_path)
		return EMO_OK;
	if (path && *path)
		rc = qnn_model_load(path, &d->vm, err);
	else if (emo_blob_faceverify_end - emo_blob_faceverify > 0)
		rc = qnn_model_load_mem(emo_blob_faceverify,
					(size_t)(emo_blob_faceverify_end - emo_blob_faceverify),
					"embedded faceverify.qnn", &d->vm, err);
	else
		return EMO_OK;
	if (rc)
		return rc;
	m = d->vm;
	last = m->n_layers - 1;
	if (qnn_meta_get(m, "task", buf, sizeof(buf)) || strcmp(buf, "face-verify"))
		return emo_seterr(err, EMO_EFORMAT, path, 0, 0,
				  "not a face verifier model (meta task=face-verify missing)");
	side = (int)meta_float(m, "input_w", 48);
	if (m->tensors[0].c != 1 || side < 8 || side > 256 || (int)meta_float(m, "input_h", 48) != side ||
	    !m->layers[last].float_out || m->tensors[m->layers[last].out].c != 2)
		return emo_seterr(err, EMO_EFORMAT, path, 0, 0,
				  "face verifier must take a square gray crop and end in 2 float logits");
	d->v_out = m->layers[last].out;
	if ((rc = facenorm_from_meta(m, path ? path : "embedded faceverify.qnn", &d->v_norm,
				     err)))
		return rc;
	d->v_pre = meta_float(m, "verify_pre", 0.15f);
	d->v_shift = meta_float(m, "verify_shift", 0);
	if (!(d->v_pre > 0 && d->v_pre < 1) || !(fabsf(d->v_shift) < 50))
		return emo_seterr(err, EMO_EFORMAT, path, 0, 0, "face verifier metadata out of range");
	if (image_new(&d->vcrop, side, side))
		return emo_seterr(err, EMO_ENOMEM, NULL, 0, 0, "out of memory");
	if (!(d->vctx = qnn_ctx_new(d->vm, side, side, d->path, err)))
		return EMO_EFORMAT; /* *err says why */
	{
		/* one logit pair per crop, not a map */
		int h, w, c;
		memset(d->vcrop.px, 128, (size_t)side * side);
		if ((rc = qnn_run(d->vctx, d->vcrop.px, side, side, side)) ||
		    qnn_tensor_get(d->vctx, d->v_out, &h, &w, &c, NULL, NULL) || h != 1 || w != 1 || c != 2)
			return emo_seterr(err, EMO_EFORMAT, path, 0, 0,
					  "face verifier must end in 2 logits for the whole crop");
	}
	return EMO_OK;
}

struct detect *detect_new(const struct detect_opts *o, struct emo_err *err)
{
	struct detect *d;
	int rc;

	if (!o || o->n_regions < 0 || (o->n_regions > 0 && !o->regions) || o->min_face < 0 ||
	    o->min_face > 4096 || !(o->threshold >= 0 && o->threshold <= 1) ||
	    !(o->nms_iou >= 0 && o->nms_iou <= 1) || !(o->cell_threshold >= 0 && o->cell_threshold <= 1) ||
	    o->path < QNN_PATH_AUTO ||
	    o->path > QNN_PATH_AVX512VNNI) {
		emo_seterr(err, EMO_EINVAL, NULL, 0, 0, "detect_new: bad options");
		return NULL;
	}
	if (!(d = calloc(1, sizeof(*d)))) {
		emo_seterr(err, EMO_ENOMEM, NULL, 0, 0, "out of memory");
		return NULL;
	}
	d->o = *o;
	if (!o->no_model && !(o->model_path && !strcmp(o->model_path, "none")) &&
	    (rc = detect_load(d, err)))
		goto fail;
	if (d->m) {
		d->path = o->path == QNN_PATH_AUTO ? qnn_best_path() : (enum qnn_path)o->path;
		if (!(d->cand = malloc(sizeof(*d->cand) * DETECT_MAX_CAND)) ||
		    !(d->keep = malloc(DETECT_MAX_CAND))) {
			emo_seterr(err, EMO_ENOMEM, NULL, 0, 0, "out of memory");
			goto fail;
		}
		/* check the path now rather than at the first frame */
		if (!(d->ctx = qnn_ctx_new(d->m, 64, 64, d->path, err)))
			goto fail;
		d->ctx_w = d->ctx_h = 64;
		if ((rc = detect_load_verifier(d, err)))
			goto fail;
	}
	d->o.model_path = NULL;
	d->o.verify_path = NULL;
	return d;
fail:
	detect_free(d);
	return NULL;
}

void detect_free(struct detect *d)
{
	if (!d)
		return;
	qnn_ctx_free(d->ctx);
	qnn_model_free(d->m);
	free(d->lvl[0]);
	free(d->lvl[1]);
	free(d->rs_x0);
	free(d->rs_x1);
	free(d->rs_wx);
	free(d->rs_col);
	free(d->cand);
	free(d->keep);
	qnn_ctx_free(d->vctx);
	qnn_model_free(d->vm);
	image_free(&d->vcrop);
	free(d);
}

const char *detect_kernel_path(const struct detect *d)
{
	if (!d || !d->m)
		return "regions";
	return d->o.use_float ? "float" : qnn_path_name(d->path);
}

int detect_set_regions(struct detect *d, const struct emo_box *regions, int n_regions,
		       float cell_threshold)
{
	if (!d || n_regions < 0 || (n_regions > 0 && !regions) ||
	    !(cell_threshold >= 0 && cell_threshold <= 1))
		return EMO_EINVAL;
	d->o.regions = regions;
	d->o.n_regions = n_regions;
	d->o.cell_threshold = cell_threshold;
	return EMO_OK;
}

int detect_has_verifier(const struct detect *d)
{
	return d && d->vm;
}

int detect_min_face(int min_face, int w, int h)
{
	int side = w < h ? w : h;
	long a = lround(side / (double)DETECT_AUTO_FRACTION);

	if (min_face > 0)
		return min_face;
	return a < DETECT_AUTO_MIN ? DETECT_AUTO_MIN : a > DETECT_AUTO_MAX ? DETECT_AUTO_MAX : (int)a;
}

/* Pyramid levels for a w x h frame: scales s[k] (level size = round(w s)). */
static int detect_levels(const struct detect *d, int w, int h, float *s)
{
	float f = d->level_max / d->level_min,
	      sc = d->level_min / (float)detect_min_face(d->o.min_face, w, h);
	int n = 0, side = w < h ? w : h;

	if (sc > 4)
		sc = 4; /* min_face below level_min/4: not supported, clamp */
	while (n < DETECT_MAX_LEVELS && (float)side * sc >= d->level_min) {
		s[n++] = sc;
		sc /= f;
	}
	if (!n && side >= 8)
		s[n++] = sc; /* tiny frame: one level as it is */
	/* a level the network cannot run on (a frame of 400x40 at min_face
	 * 400 is 20x2 px there) finds nothing: leave it out, and the smaller
	 * ones after it (a walk over the layers' shapes per level: well under
	 * a microsecond a frame) */
	for (int k = 0; k < n; k++) {
		int lw = (int)lroundf((float)w * s[k]), lh = (int)lroundf((float)h * s[k]);
		if (lw < 1 || lh < 1 || !qnn_macs(d->m, lh, lw))
			return k;
	}
	return n;
}

double detect_macs(const struct detect *d, int w, int h)
{
	float s[DETECT_MAX_LEVELS];
	double macs = 0;
	int n;

	if (!d || !d->m || w < 1 || h < 1)
		return 0;
	n = detect_levels(d, w, h, s);
	for (int k = 0; k < n; k++) {
		int lw = (int)lroundf((float)w * s[k]), lh = (int)lroundf((float)h * s[k]);
		if (lw >= 1 && lh >= 1)
			macs += (double)qnn_macs(d->m, lh, lw);
	}
	return macs;
}

/* Box average of src (sw x sh, stride ss) into dst (dw x dh, packed), dw <=
 * sw, dh <= sh. Output (x, y) is the rounded mean of source columns [x0(x),
 * x0(x+1)) and rows [y0(y), y0(y+1)), x0(x) = floor(x sw / dw) (stepped
 * without a division). Separable: the rows of an output row are summed
 * column by column (a loop that vectorizes) and those column sums made
 * cumulative, so that an output's sum is the difference of two (wrapping
 * uint32: each span's sum fits). The rounding division by the box area n
 * is a multiplication by floor(2^40 / n) + 1: exact while n < 2^16 (sums
 * of at most 255.5 n); larger boxes divide. */
static void resample_area(struct detect *d, const uint8_t *src, int sw, int sh, int ss,
			  uint8_t *dst, int dw, int dh)
{
	const int qx = sw / dw, rx = sw % dw;
	int32_t *x0 = d->rs_x0;
	uint32_t *col = d->rs_col;
	int r = 0;
	x0[0] = 0;
	for (int x = 1; x < dw; x++) {
		x0[x] = x0[x - 1] + qx;
		r += rx;
		if (r >= dw) {
			r -= dw;
			x0[x]++;
		}
	}
	x0[dw] = sw;
	for (int y = 0; y < dh; y++) {
		const int y0 = (int)((int64_t)y * sh / dh), y1 = (int)((int64_t)(y + 1) * sh / dh);
		const uint32_t ny = (uint32_t)(y1 - y0), na = ny * (uint32_t)qx, nb = na + ny;
		const uint64_t ia = ((uint64_t)1 << 40) / na + 1, ib = ((uint64_t)1 << 40) / nb + 1;
		const uint8_t *row = src + (size_t)y0 * ss;
		uint8_t *o = dst + (size_t)y * dw;
		uint32_t run = 0;
		for (int xx = 0; xx < sw; xx++)
			col[xx] = row[xx];
		for (int yy = y0 + 1; yy < y1; yy++) {
			row = src + (size_t)yy * ss;
			for (int xx = 0; xx < sw; xx++)
				col[xx] += row[xx];
		}
		for (int xx = 0; xx <= sw; xx++) { /* col[i]: the sum of columns < i */
			const uint32_t v = xx < sw ? col[xx] : 0;
			col[xx] = run;
			run += v;
		}
		if (nb < 65536) {
			for (int x = 0; x < dw; x++) {
				const int wide = x0[x + 1] - x0[x] - qx;
				const uint32_t sum = col[x0[x + 1]] - col[x0[x]] + (wide ? nb : na) / 2;
				o[x] = (uint8_t)(((uint64_t)sum * (wide ? ib : ia)) >> 40);
			}
		} else {
			for (int x = 0; x < dw; x++) {
				const uint32_t n = x0[x + 1] - x0[x] - qx ? nb : na;
				o[x] = (uint8_t)((col[x0[x + 1]] - col[x0[x]] + n / 2) / n);
			}
		}
	}
}

/* Bilinear resampling of src into dst (growing), pixel centres aligned.
 * Separable: the source columns and weights of each output column are
 * computed once; each source row is interpolated along x once (kept in one
 * of two row buffers while output rows still read it), then each output row
 * blends two of those (a loop that vectorizes). The same float expression
 * as per pixel: (1 - wy) ((1 - wx) a + wx b) + wy ((1 - wx) c + wx d). */
static void resample_bilinear(struct detect *d, const uint8_t *src, int sw, int sh, int ss,
			      uint8_t *dst, int dw, int dh)
{
	int32_t *xa = d->rs_x0, *xb = d->rs_x1;
	float *wxs = d->rs_wx, *wxa = wxs + dw, *hbuf[2] = {wxs + 2 * (size_t)dw, wxs + 3 * (size_t)dw};
	int hkey[2] = {-1, -1};
	for (int x = 0; x < dw; x++) {
		float fx = ((float)x + 0.5f) * (float)sw / (float)dw - 0.5f;
		if (fx < 0)
			fx = 0;
		xa[x] = (int)fx;
		if (xa[x] > sw - 1)
			xa[x] = sw - 1;
		xb[x] = xa[x] + 1 < sw ? xa[x] + 1 : xa[x];
		wxs[x] = fx - (float)xa[x];
		wxa[x] = 1 - wxs[x];
	}
	for (int y = 0; y < dh; y++) {
		float fy = ((float)y + 0.5f) * (float)sh / (float)dh - 0.5f;
		int y0, need[2];
		const float *h[2];
		float wy;
		if (fy < 0)
			fy = 0;
		y0 = (int)fy;
		if (y0 > sh - 1)
			y0 = sh - 1;
		wy = fy - (float)y0;
		need[0] = y0;
		need[1] = y0 + 1 < sh ? y0 + 1 : y0;
		for (int i = 0; i < 2; i++) {
			int b = hkey[0] == need[i] ? 0 : hkey[1] == need[i] ? 1 : -1;
			if (b < 0) {
				/* the buffer the other needed row is not in */
				b = hkey[0] == need[1 - i] ? 1 : 0;
				const uint8_t *r = src + (size_t)need[i] * ss;
				float *o = hbuf[b];
				for (int x = 0; x < dw; x++)
					o[x] = wxa[x] * r[xa[x]] + wxs[x] * r[xb[x]];
				hkey[b] = need[i];
			}
			h[i] = hbuf[b];
		}
		const float *h0 = h[0], *h1 = h[1];
		const float wy0 = 1 - wy;
		uint8_t *o = dst + (size_t)y * dw;
		for (int x = 0; x < dw; x++)
			o[x] = (uint8_t)(wy0 * h0[x] + wy * h1[x] + 0.5f);
	}
}

/* Resample src (sw x sh, stride ss) to dst (dw x dh, packed): box average
 * when shrinking, bilinear when growing. d's tables hold dw entries (rs_x0
 * one more). */
static void detect_resample(struct detect *d, const uint8_t *src, int sw, int sh, int ss,
			    uint8_t *dst, int dw, int dh)
{
	if (dw <= sw && dh <= sh)
		resample_area(d, src, sw, sh, ss, dst, dw, dh);
	else
		resample_bilinear(d, src, sw, sh, ss, dst, dw, dh);
}

/* Make room for a w x h frame: context and pyramid buffers. */
static int detect_reserve(struct detect *d, int w, int h, const float *s, int n)
{
	int mw = 0, mh = 0;
	size_t need = 0;

	for (int k = 0; k < n; k++) {
		int lw = (int)lroundf((float)w * s[k]), lh = (int)lroundf((float)h * s[k]);
		mw = lw > mw ? lw : mw;
		mh = lh > mh ? lh : mh;
		if ((size_t)lw * lh > need)
			need = (size_t)lw * lh;
	}
	if (mw > d->ctx_w || mh > d->ctx_h) {
		struct qnn_ctx *c;
		int nw = mw > d->ctx_w ? mw : d->ctx_w, nh = mh > d->ctx_h ? mh : d->ctx_h;
		if (nw > 32768 || nh > 32768)
			return EMO_EINVAL;
		if (!(c = qnn_ctx_new(d->m, nh, nw, d->path, NULL)))
			return EMO_ENOMEM;
		qnn_ctx_free(d->ctx);
		d->ctx = c;
		d->ctx_w = nw;
		d->ctx_h = nh;
	}
	if (mw > d->rs_cap) {
		int32_t *x0 = realloc(d->rs_x0, sizeof(*x0) * ((size_t)mw + 1));
		if (x0)
			d->rs_x0 = x0;
		int32_t *x1 = realloc(d->rs_x1, sizeof(*x1) * (size_t)mw);
		if (x1)
			d->rs_x1 = x1;
		float *wx = realloc(d->rs_wx, sizeof(*wx) * 4 * (size_t)mw);
		if (wx)
			d->rs_wx = wx;
		if (!x0 || !x1 || !wx)
			return EMO_ENOMEM;
		d->rs_cap = mw;
	}
	/* a level is resampled from the frame or from a larger level (an
	 * upscaled first level is wider than the frame) */
	if ((w > mw ? w : mw) + 1 > d->rs_col_cap) {
		const int nc = (w > mw ? w : mw) + 1;
		uint32_t *col = realloc(d->rs_col, sizeof(*col) * (size_t)nc);
		if (!col)
			return EMO_ENOMEM;
		d->rs_col = col;
		d->rs_col_cap = nc;
	}
	if (need > d->lvl_cap) {
		for (int i = 0; i < 2; i++) {
			uint8_t *p = realloc(d->lvl[i], need);
			if (!p)
				return EMO_ENOMEM;
			d->lvl[i] = p;
		}
		d->lvl_cap = need;
	}
	return EMO_OK;
}

static float detect_sigmoid(float z)
{
	return 1.0f / (1.0f + expf(-z));
}

/* Candidates of one level: local maxima of the heat above the threshold,
 * with a box of at least lvl_min px on this level. The levels after the
 * first pass lvl_min = level_min: a face smaller than that on level k is
 * 2.4x larger, inside the trained range, on level k - 1, and the coarse
 * level's guess of its size is poor (the trainer ignores faces under 13
 * px): in 1080p galleries faces of 158 px (27 px on the third level, 11
 * on the fourth) came back from the fourth also as boxes of about 250 px
 * around the right one (IoU 0.39, under the NMS's 0.4), each a false
 * alarm, some scored above the right box. */
static int detect_decode(struct detect *d, const float *f, int gh, int gw, float sx, float sy,
			 float thr, float lvl_min, int n)
{
	float zt = thr <= 0 ? -INFINITY : thr >= 1 ? INFINITY : logf(thr / (1 - thr));
	float min_side = 0.8f * (float)d->mf;
	const int nch = d->nch, rect = nch == DETECT_NCH, lm0 = rect ? 5 : 4;

	for (int gy = 0; gy < gh; gy++)
		for (int gx = 0; gx < gw; gx++) {
			const float *c = f + ((size_t)gy * gw + gx) * nch;
			float z = c[0] + d->score_shift, cx, cy, lcy, side, lw, lh, bw, bh;
			struct emo_face *o;
			int peak = 1;
			if (!(z > zt))
				continue;
			for (int k = 1; k < nch && peak; k++)
				peak = isfinite(c[k]); /* a damaged model's inf/NaN: no face */
			for (int j = -1; j <= 1 && peak; j++)
				for (int i = -1; i <= 1; i++) {
					int yy = gy + j, xx = gx + i;
					if ((i || j) && yy >= 0 && xx >= 0 && yy < gh && xx < gw) {
						float v = f[((size_t)yy * gw + xx) * nch] + d->score_shift;
						/* ties: the first cell in scan order wins */
						if (v > z || (v == z && (j < 0 || (j == 0 && i < 0)))) {
							peak = 0;
							break;
						}
					}
				}
			if (!peak || n >= DETECT_MAX_CAND)
				continue;
			lw = fminf(fmaxf(c[3] + d->size_shift, -6), 6);
			lh = rect ? fminf(fmaxf(c[4] + d->size_shift, -6), 6) : lw;
			cx = ((float)gx + 0.5f + c[1]) * (float)d->stride * sx;
			cy = ((float)gy + 0.5f + c[2]) * (float)d->stride * sy;
			lcy = cy; /* the landmarks' origin */
			bw = d->size_base * expf(lw);
			bh = d->size_base * expf(lh);
			side = sqrtf(bw * bh); /* the face's size on this level */
			if (!rect) {
				/* a square brows-to-chin box (2.2 eye-to-mouth distances
				 * d, centred 0.5 d below the eyes) as the WIDER box: 2.1 d
				 * by 2.7 d, centred 0.34 d below the eyes */
				cy -= 0.073f * bh * sy;
				bw *= 0.955f;
				bh *= 1.227f;
			}
			if (side * 0.5f * (sx + sy) < min_side || side < lvl_min)
				continue;
			o = &d->cand[n++];
			o->score = detect_sigmoid(z);
			o->box.w = bw * sx;
			o->box.h = bh * sy;
			o->box.x = cx - o->box.w * 0.5f;
			o->box.y = cy - o->box.h * 0.5f;
			o->n_landmarks = DETECT_NUM_LANDMARKS;
			for (int k = 0; k < DETECT_NUM_LANDMARKS; k++) {
				o->lm[k][0] = cx + c[lm0 + 2 * k] * side * sx;
				o->lm[k][1] = lcy + c[lm0 + 1 + 2 * k] * side * sy;
			}
		}
	return n;
}

/* Does face x come before y: higher score first, then (a deterministic
 * order for equal scores) top to bottom, left to right, smaller first. */
static int detect_before(const void *a, const void *b)
{
	const struct emo_face *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score;
	if (x->box.y != y->box.y)
		return x->box.y < y->box.y;
	if (x->box.x != y->box.x)
		return x->box.x < y->box.x;
	return x->box.w < y->box.w;
}

int detect_nms(struct emo_face *f, int n, float iou)
{
	int kept = 0;

	if (!f || n <= 0)
		return 0;
	emo_sort(f, (size_t)n, sizeof(*f), detect_before); /* in place: no allocation */
	for (int i = 0; i < n; i++) {
		int keep = 1;
		for (int j = 0; j < kept && keep; j++)
			if (emo_box_iou(&f[i].box, &f[j].box) > iou)
				keep = 0;
		if (keep)
			f[kept++] = f[i];
	}
	return kept;
}

/* Does box in lie mostly (DETECT_INSIDE of its area) inside box out, out
 * being the larger? */
static int detect_nested(const struct emo_box *in, const struct emo_box *out)
{
	const float area = in->w * in->h;
	const float ix = fminf(out->x + out->w, in->x + in->w) - fmaxf(out->x, in->x);
	const float iy = fminf(out->y + out->h, in->y + in->h) - fmaxf(out->y, in->y);

	return ix > 0 && iy > 0 && out->w * out->h > area && ix * iy > DETECT_INSIDE * area;
}

/* Drop every box that lies mostly inside a larger box scored higher: a
 * nose-and-mouth or one-eye box on a large face, never a face of its own
 * (a face cannot sit inside another face). With loose (the verifier's
 * scores, which judge whole aligned faces), also every larger box around a
 * face scored higher: the same face boxed too loosely. f is sorted by
 * score; returns the count kept, in order. */
int detect_drop_parts(struct emo_face *f, int n, int loose)
{
	int kept = 0;

	for (int i = 0; i < n; i++) {
		int keep = 1;
		for (int j = 0; j < kept && keep; j++)
			if (detect_nested(&f[i].box, &f[j].box) || (loose && detect_nested(&f[j].box, &f[i].box)))
				keep = 0;
		if (keep)
			f[kept++] = f[i];
	}
	return kept;
}

/* The cell prior on the n candidates (sorted by score, after NMS, down to
 * cell_threshold): keep those at threshold, and in each region the best
 * candidate whose centre lies in it (if it is not at threshold already, no
 * face at threshold is centred there). Returns the count kept, in score
 * order. */
static int detect_cells(struct detect *d, int n)
{
	uint8_t *keep = d->keep;
	int k = 0;

	for (int i = 0; i < n; i++)
		keep[i] = d->cand[i].score >= d->o.threshold;
	for (int r = 0; r < d->o.n_regions; r++) {
		const struct emo_box *b = &d->o.regions[r];
		for (int i = 0; i < n; i++) {
			const float cx = d->cand[i].box.x + 0.5f * d->cand[i].box.w;
			const float cy = d->cand[i].box.y + 0.5f * d->cand[i].box.h;
			if (cx >= b->x && cy >= b->y && cx < b->x + b->w && cy < b->y + b->h) {
				keep[i] = 1;
				break;
			}
		}
	}
	for (int i = 0; i < n; i++)
		if (keep[i])
			d->cand[k++] = d->cand[i];
	return k;
}

static int detect_regions(struct detect *d, const struct emo_image *img, struct emo_face *out, int max)
{
	int n = 0;

	for (int i = 0; i < d->o.n_regions && n < max; i++) {
		struct emo_box b = d->o.regions[i];
		float x1 = b.x + b.w, y1 = b.y + b.h;

		if (b.x < 0)
			b.x = 0;
		if (b.y < 0)
			b.y = 0;
		if (x1 > (float)img->w)
			x1 = (float)img->w;
		if (y1 > (float)img->h)
			y1 = (float)img->h;
		b.w = x1 - b.x;
		b.h = y1 - b.y;
		if (b.w < (float)d->mf || b.h < (float)d->mf)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].box = b;
		out[n].score = 1.0f;
		n++;
	}
	return n;
}

static float detect_logit(float p)
{
	p = p < 1e-6f ? 1e-6f : p > 1 - 1e-6f ? 1 - 1e-6f : p;
	return logf(p / (1 - p));
}

/* Second stage on the n candidates (sorted, after NMS): each is scored
 * again from its aligned crop (see the top of the file); those the first
 * stage scored below verify_pre are dropped. Returns the count kept,
 * sorted by the new score. */
static int detect_verify(struct detect *d, const struct emo_image *img, int n)
{
	const int side = d->vcrop.w;
	int k = 0, rc;

	for (int i = 0; i < n; i++) {
		struct emo_face *f = &d->cand[i];
		const float *z;
		if (f->score < d->v_pre || face_align_ss(img, f, &d->vcrop, DETECT_VERIFY_SS))
			continue;
		if (d->v_norm)
			facenorm_apply(d->vcrop.px, side * side);
		rc = d->o.use_float ? qnn_run_float(d->vctx, d->vcrop.px, side, side, d->vcrop.stride)
				    : qnn_run(d->vctx, d->vcrop.px, side, side, d->vcrop.stride);
		if (rc || qnn_tensor_get(d->vctx, d->v_out, NULL, NULL, NULL, NULL, &z) || !z)
			return rc ? rc : EMO_EFORMAT;
		d->cand[k] = *f;
		d->cand[k].score = detect_sigmoid(0.5f * (detect_logit(f->score) + z[1] - z[0]) + d->v_shift);
		k++;
	}
	return detect_nms(d->cand, k, 1.0f); /* sorts; IoU 1 drops nothing */
}

int detect_run(struct detect *d, const struct emo_image *img, struct emo_face *out, int max)
{
	float s[DETECT_MAX_LEVELS];
	int nl, n = 0, rc, cur = 0, cells;
	const uint8_t *prev = NULL;
	int pw = 0, ph = 0, ps = 0;

	if (!d || !img || !img->px || img->w <= 0 || img->h <= 0 || img->stride < img->w ||
	    img->w > 32768 || img->h > 32768 || max < 0 || (max > 0 && !out))
		return EMO_EINVAL;
	d->mf = detect_min_face(d->o.min_face, img->w, img->h);
	if (!d->m)
		return detect_regions(d, img, out, max);
	cells = d->o.n_regions > 0 && d->o.cell_threshold > 0 && d->o.cell_threshold < d->o.threshold;
	nl = detect_levels(d, img->w, img->h, s);
	if (!nl)
		return 0;
	if ((rc = detect_reserve(d, img->w, img->h, s, nl)))
		return rc;
	for (int k = 0; k < nl; k++) {
		int lw = (int)lroundf((float)img->w * s[k]), lh = (int)lroundf((float)img->h * s[k]);
		const uint8_t *in;
		int stride, gh, gw, gc;
		const float *f;
		const uint8_t *q;

		if (lw < 1 || lh < 1)
			break;
		if (lw == img->w && lh == img->h) {
			in = img->px;
			stride = img->stride;
		} else {
			/* each level from the previous one when it is larger (cheaper) */
			if (prev && pw >= lw && ph >= lh)
				detect_resample(d, prev, pw, ph, ps, d->lvl[cur], lw, lh);
			else
				detect_resample(d, img->px, img->w, img->h, img->stride, d->lvl[cur], lw, lh);
			in = d->lvl[cur];
			stride = lw;
			cur ^= 1;
		}
		prev = in;
		pw = lw;
		ph = lh;
		ps = stride;
		rc = d->o.use_float ? qnn_run_float(d->ctx, in, lh, lw, stride)
				    : qnn_run(d->ctx, in, lh, lw, stride);
		if (rc)
			return rc;
		if ((rc = qnn_tensor_get(d->ctx, d->out_tensor, &gh, &gw, &gc, &q, &f)) || !f ||
		    gc != d->nch)
			return rc ? rc : EMO_EFORMAT;
		n = detect_decode(d, f, gh, gw, (float)img->w / (float)lw, (float)img->h / (float)lh,
				  d->vm ? d->v_pre : cells ? d->o.cell_threshold : d->o.threshold,
				  k ? d->level_min : 0, n);
	}
	n = detect_nms(d->cand, n, d->o.nms_iou);
	/* parts of a face go before the verifier scores anything */
	n = detect_drop_parts(d->cand, n, 0);
	if (d->vm) {
		/* the verifier's scores decide: drop what is below threshold
		 * (or, with cells, below the cell threshold) */
		const float t = cells ? d->o.cell_threshold : d->o.threshold;
		int k = 0;
		if ((n = detect_verify(d, img, n)) < 0)
			return n;
		for (int i = 0; i < n; i++)
			if (d->cand[i].score >= t)
				d->cand[k++] = d->cand[i];
		n = detect_drop_parts(d->cand, k, 1);
	}
	if (cells)
		n = detect_cells(d, n);
	if (n > max)
		n = max;
	if (n)
		memcpy(out, d->cand, sizeof(*out) * (size_t)n);
	return n;
}
