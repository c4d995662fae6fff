/* detect_sample.c - emotop-train detect's training samples: DT_IN x DT_IN
 * crops of photos, composites of pasted faces, video-call galleries and
 * negatives, with decoy tiles, rotation, flips and photometric
 * augmentation (gain, gamma, blur, noise, JPEG artefacts, low light); the
 * sharp FER2013-style tiles; `emotop-train detect samples` writes a few to
 * look at.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emotop/facenorm.h"
#include "train/data.h"
#include "train/detect_int.h"

/* share of composite and gallery tiles turned far (dt_tile_angle), and of
 * gallery faces larger than their cell (close-ups cut by its edges) */
#define DT_BIGROT_SHARE 0.12f
#define DT_CLOSEUP_SHARE 0.1f

/* a small WIDER face is enlarged at most this much (dt_sample_make) */
#define DT_WIDER_ZOOM 2.5f

/* ------------------------------------------------------------- sampling */

struct dt_src {
	uint8_t *px;
	int w, h;
};

static float dt_bilinear(const struct dt_src *s, float x, float y)
{
	int x0, y0;
	float fx, fy;
	const uint8_t *r0, *r1;

	x -= 0.5f;
	y -= 0.5f;
	if (x < 0)
		x = 0;
	if (y < 0)
		y = 0;
	if (x > s->w - 1)
		x = (float)(s->w - 1);
	if (y > s->h - 1)
		y = (float)(s->h - 1);
	x0 = (int)x;
	y0 = (int)y;
	if (x0 > s->w - 2)
		x0 = s->w - 2 < 0 ? 0 : s->w - 2;
	if (y0 > s->h - 2)
		y0 = s->h - 2 < 0 ? 0 : s->h - 2;
	fx = x - (float)x0;
	fy = y - (float)y0;
	r0 = s->px + (size_t)y0 * s->w;
	r1 = s->h > 1 ? r0 + s->w : r0;
	if (s->w < 2)
		return (1 - fy) * r0[0] + fy * r1[0];
	return (1 - fy) * ((1 - fx) * r0[x0] + fx * r0[x0 + 1]) +
	       fy * ((1 - fx) * r1[x0] + fx * r1[x0 + 1]);
}

/* Box-filter src by an integer factor f (>= 2) into a new buffer. */
static int dt_shrink(struct dt_src *s, int f)
{
	int w = s->w / f, h = s->h / f;
	uint8_t *n;

	if (w < 2 || h < 2)
		return 0;
	if (!(n = malloc((size_t)w * h)))
		return -1;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			int acc = 0;
			for (int j = 0; j < f; j++)
				for (int i = 0; i < f; i++)
					acc += s->px[(size_t)(y * f + j) * s->w + x * f + i];
			n[(size_t)y * w + x] = (uint8_t)((acc + f * f / 2) / (f * f));
		}
	free(s->px);
	s->px = n;
	s->w = w;
	s->h = h;
	return f;
}

/* Output -> source affine: src = A (out - p) / k + c, rotation theta. */
struct dt_xf {
	float k, c, s; /* scale, cos, sin */
	float px, py;  /* output point mapped to the source point cx, cy */
	float cx, cy;
};

static void xf_out_to_src(const struct dt_xf *t, float ox, float oy, float *sx, float *sy)
{
	float u = (ox - t->px) / t->k, v = (oy - t->py) / t->k;
	*sx = t->c * u + t->s * v + t->cx;
	*sy = -t->s * u + t->c * v + t->cy;
}

static void xf_src_to_out(const struct dt_xf *t, float sx, float sy, float *ox, float *oy)
{
	float u = sx - t->cx, v = sy - t->cy;
	*ox = t->k * (t->c * u - t->s * v) + t->px;
	*oy = t->k * (t->s * u + t->c * v) + t->py;
}

/* A 48x48 tile sampled from src through t (bilinear, rounded to 8 bits). */
static void dt_tile_sample(const struct dt_src *src, const struct dt_xf *t, uint8_t out[FER_SIZE * FER_SIZE])
{
	for (int y = 0; y < FER_SIZE; y++)
		for (int x = 0; x < FER_SIZE; x++) {
			float sx, sy, v;
			xf_out_to_src(t, (float)x + 0.5f, (float)y + 0.5f, &sx, &sy);
			v = dt_bilinear(src, sx, sy);
			out[y * FER_SIZE + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5f);
		}
}

/* FER2013's training split at hand is blurred (a Gaussian of sigma about
 * 3 px at 48x48; README), its test split and real video-call tiles are not.
 * Every landmark crop (sharp, 80x80) is also cut as a 48x48 tile in
 * FER2013's framing (its face box onto DT_FER_CX/CY/SIDE, eyes level), and
 * a share d->sharp of the FER2013-style tiles of composites and galleries
 * comes from these, so that sharp faces in that framing are seen too. (What
 * removed the detector's blurred-square shortcut were the decoys,
 * dt_decoy_tile; sharp tiles alone did not.) */
static int dt_crop_tiles(struct dt_data *d)
{
	d->crop_fer = malloc((size_t)d->n_crops * FER_SIZE * FER_SIZE);
	if (!d->crop_fer)
		return -1;
	for (int i = 0; i < d->n_crops; i++) {
		const struct dt_crop *c = &d->crops[i];
		const struct dt_src src = {.px = (uint8_t *)(uintptr_t)c->px, .w = 80, .h = 80};
		float a = -atan2f(c->f.lm[1][1] - c->f.lm[0][1], c->f.lm[1][0] - c->f.lm[0][0]);
		struct dt_xf t = {.k = DT_FER_H / c->f.h, .c = cosf(a), .s = sinf(a),
				  .px = DT_FER_CX, .py = DT_FER_CY, .cx = c->f.cx, .cy = c->f.cy};
		dt_tile_sample(&src, &t, d->crop_fer + (size_t)i * FER_SIZE * FER_SIZE);
	}
	return 0;
}

/* Render src through t into the DT_IN x DT_IN float canvas (0..255). If the
 * scale shrinks a lot, box-filter the source first. */
static void dt_render(struct dt_src *src, struct dt_xf t, float *out, int x0, int y0, int w, int h)
{
	int f = t.k < 0.7f ? (int)(1.0f / t.k) : 1;

	if (f >= 2 && dt_shrink(src, f) == f) {
		t.k *= (float)f;
		t.cx /= (float)f;
		t.cy /= (float)f;
	}
	for (int y = y0; y < y0 + h; y++)
		for (int x = x0; x < x0 + w; x++) {
			float sx, sy;
			if (x < 0 || y < 0 || x >= DT_IN || y >= DT_IN)
				continue;
			xf_out_to_src(&t, (float)x + 0.5f, (float)y + 0.5f, &sx, &sy);
			out[y * DT_IN + x] = dt_bilinear(src, sx, sy);
		}
}

static void dt_face_xf(const struct dt_xf *t, const struct dt_face *in, struct dt_face *o, float sf)
{
	const float k = t->k * sf, wc = in->w * t->c, ws = in->w * t->s, hc = in->h * t->c, hs = in->h * t->s;

	*o = *in;
	xf_src_to_out(t, in->cx, in->cy, &o->cx, &o->cy);
	/* a turned face's upright box: that of the ellipse in its box */
	dt_face_size(o, k * sqrtf(wc * wc + hs * hs), k * sqrtf(ws * ws + hc * hc));
	for (int i = 0; i < 5; i++)
		xf_src_to_out(t, in->lm[i][0], in->lm[i][1], &o->lm[i][0], &o->lm[i][1]);
}

/* A private copy of image i (photos, or negatives when neg), from the cache
 * when there is one. */
static int dt_load_src(const struct dt_data *d, int neg, int i, struct dt_src *s)
{
	const struct dt_pix *c = neg ? (d->neg_px ? &d->neg_px[i] : NULL)
				     : (d->photo_px ? &d->photo_px[i] : NULL);
	if (!c)
		return jpeg_load_gray(neg ? d->neg[i] : d->photo[i].path, &s->px, &s->w, &s->h);
	if (!c->px || !(s->px = malloc((size_t)c->w * c->h)))
		return -1;
	memcpy(s->px, c->px, (size_t)c->w * c->h);
	s->w = c->w;
	s->h = c->h;
	return 0;
}

static void dt_fill(float *x, float v)
{
	for (int i = 0; i < DT_IN * DT_IN; i++)
		x[i] = v;
}

/* Background from a negative image at a random scale and angle. */
static void dt_background(const struct dt_data *d, int neg_lo, int neg_n, struct dt_sample *s,
			  uint64_t *r)
{
	struct dt_src src;
	struct dt_xf t;

	if (dt_load_src(d, 1, neg_lo + dt_int(r, neg_n), &src)) {
		dt_fill(s->x, dt_range(r, 20, 230));
		return;
	}
	t.k = expf(dt_range(r, logf(0.25f), logf(1.6f)));
	{
		float a = dt_range(r, -0.2f, 0.2f);
		t.c = cosf(a);
		t.s = sinf(a);
	}
	t.px = t.py = DT_IN * 0.5f;
	t.cx = dt_range(r, 0, (float)src.w);
	t.cy = dt_range(r, 0, (float)src.h);
	dt_render(&src, t, s->x, 0, 0, DT_IN, DT_IN);
	free(src.px);
}

int dt_fer_face_like(const uint8_t *px)
{
	int hist[256] = {0}, mode = 0, flat = 0;
	double sum = 0, sum2 = 0;

	for (int i = 0; i < FER_SIZE * FER_SIZE; i++) {
		hist[px[i]]++;
		sum += px[i];
		sum2 += (double)px[i] * px[i];
	}
	sum /= FER_SIZE * FER_SIZE;
	if (sum2 / (FER_SIZE * FER_SIZE) - sum * sum < 25.0)
		return 0;
	for (int v = 1; v < 256; v++)
		if (hist[v] > hist[mode])
			mode = v;
	for (int v = mode - 3; v <= mode + 3; v++)
		flat += v >= 0 && v < 256 ? hist[v] : 0;
	return flat * 10 < FER_SIZE * FER_SIZE * 6;
}

/* A random FER2013 image that is a face (dt_fer_face_like): galleries and
 * verifier-data's pasted faces skip the rest. */
const uint8_t *dt_fer_pick(const struct fer_set *fer, uint64_t *r)
{
	const uint8_t *px = fer->px;

	for (int tries = 0; tries < 16; tries++) {
		px = fer->px + (size_t)dt_int(r, fer->n) * FER_SIZE * FER_SIZE;
		if (dt_fer_face_like(px))
			break;
	}
	return px;
}

/* A FER2013-style 48x48 tile: a sharp landmark crop in FER2013's framing
 * with probability d->sharp (see dt_crop_tiles), else a FER2013 face. */
const uint8_t *dt_tile_pick(const struct dt_data *d, uint64_t *r)
{
	if (d->crop_fer && d->n_crops > 0 && (!d->fer.n || dt_unit(r) < d->sharp))
		return d->crop_fer + (size_t)dt_int(r, d->n_crops) * FER_SIZE * FER_SIZE;
	return dt_fer_pick(&d->fer, r);
}

/* A decoy tile: no face, but a square of a negative image (index from
 * [neg_lo, neg_lo+neg_n)) resampled to 48x48 and blurred by sigma px.
 * Trained with blurred FER2013 faces only, the detector had learned that
 * a blurred square in a gallery is a face: in `detect eval`'s galleries of
 * such decoys (sigma 3) it had 307 false alarms on 500 tiles, with sharp
 * squares 9. Decoys among the faces of composites and galleries take that
 * shortcut away (48 after). */
void dt_decoy_tile(const struct dt_data *d, int neg_lo, int neg_n, uint64_t *r, float sigma,
			  uint8_t out[FER_SIZE * FER_SIZE])
{
	struct dt_src src;
	uint8_t tmp[FER_SIZE * FER_SIZE];

	if (neg_n < 1 || dt_load_src(d, 1, neg_lo + dt_int(r, neg_n), &src)) {
		memset(out, 128, FER_SIZE * FER_SIZE);
		return;
	}
	{
		const int m = src.w < src.h ? src.w : src.h;
		const float side = dt_range(r, (float)m / 6, (float)m / 1.5f);
		const float x0 = dt_range(r, 0, (float)src.w - side), y0 = dt_range(r, 0, (float)src.h - side);
		const struct dt_xf t = {.k = FER_SIZE / side, .c = 1, .s = 0, .cx = x0, .cy = y0};
		dt_tile_sample(&src, &t, out);
	}
	free(src.px);
	if (sigma > 0)
		facenorm_blur(out, FER_SIZE, FER_SIZE, sigma, tmp);
}

/* The blur of a training decoy: mostly FER2013's own (about 3 px), else
 * milder. */
float dt_decoy_sigma(uint64_t *r)
{
	return dt_unit(r) < 0.6f ? dt_range(r, 2.0f, 4.0f) : dt_range(r, 0.0f, 2.0f);
}

/* The angle of a pasted tile: with probability p within +-a radians, else
 * with probability DT_BIGROT_SHARE a head lying sideways (0.5..1.6 rad
 * either way, like FER2013's faces of people lying down), else upright. */
static float dt_tile_angle(uint64_t *r, float p, float a)
{
	float u = dt_unit(r);

	if (u < p)
		return dt_range(r, -a, a);
	if (u < p + DT_BIGROT_SHARE)
		return (dt_unit(r) < 0.5f ? -1.0f : 1.0f) * dt_range(r, 0.5f, 1.6f);
	return 0;
}

/* Paste a face tile (a crop or a FER face) so that its face gets side fs
 * centred at (ox, oy); the whole tile is drawn, clipped to [bx0,bx1)x[by0,by1). */
static void dt_paste(const struct dt_data *d, struct dt_sample *s, float fs, float ox, float oy,
		     float angle, int use_fer, const uint8_t *decoy, uint64_t *r, const int clip[4])
{
	struct dt_src src;
	struct dt_face face;
	struct dt_xf t;
	float half;
	uint8_t buf[80 * 80];
	int x0, y0, x1, y1;

	/* no landmark crops: a FER tile instead (kind 1 and 2 need one of them) */
	if (decoy || ((use_fer || d->n_crops < 1) && (d->fer.n || (d->crop_fer && d->n_crops > 0)))) {
		src.w = src.h = FER_SIZE;
		memcpy(buf, decoy ? decoy : dt_tile_pick(d, r), FER_SIZE * FER_SIZE);
		memset(&face, 0, sizeof(face));
		face.cx = DT_FER_CX;
		face.cy = DT_FER_CY;
		dt_face_size(&face, DT_FER_W, DT_FER_H);
		face.lm_kind = 0;
	} else {
		int i = dt_int(r, d->n_crops);
		src.w = src.h = 80;
		memcpy(buf, d->crops[i].px, 80 * 80);
		face = d->crops[i].f;
	}
	src.px = malloc((size_t)src.w * src.h);
	if (!src.px)
		return;
	memcpy(src.px, buf, (size_t)src.w * src.h);
	t.k = fs / face.side;
	t.c = cosf(angle);
	t.s = sinf(angle);
	t.px = ox;
	t.py = oy;
	t.cx = face.cx;
	t.cy = face.cy;
	/* the tile's corners in output space bound the drawn area */
	half = (float)src.w * t.k * 0.75f + 2;
	x0 = (int)floorf(ox - half);
	y0 = (int)floorf(oy - half);
	x1 = (int)ceilf(ox + half);
	y1 = (int)ceilf(oy + half);
	if (x0 < clip[0])
		x0 = clip[0];
	if (y0 < clip[1])
		y0 = clip[1];
	if (x1 > clip[2])
		x1 = clip[2];
	if (y1 > clip[3])
		y1 = clip[3];
	{
		int f = t.k < 0.7f ? (int)(1.0f / t.k) : 1;
		struct dt_xf tt = t;
		if (f >= 2 && dt_shrink(&src, f) == f) {
			tt.k *= (float)f;
			tt.cx /= (float)f;
			tt.cy /= (float)f;
		}
		for (int y = y0; y < y1; y++)
			for (int x = x0; x < x1; x++) {
				float sx, sy;
				xf_out_to_src(&tt, (float)x + 0.5f, (float)y + 0.5f, &sx, &sy);
				if (sx < 0 || sy < 0 || sx >= (float)src.w || sy >= (float)src.h)
					continue;
				s->x[y * DT_IN + x] = dt_bilinear(&src, sx, sy);
			}
	}
	free(src.px);
	if (!decoy && s->nf < DT_MAXF)
		dt_face_xf(&t, &face, &s->f[s->nf++], 1.0f);
}

static void dt_flip(struct dt_sample *s)
{
	for (int y = 0; y < DT_IN; y++)
		for (int x = 0; x < DT_IN / 2; x++) {
			float t = s->x[y * DT_IN + x];
			s->x[y * DT_IN + x] = s->x[y * DT_IN + DT_IN - 1 - x];
			s->x[y * DT_IN + DT_IN - 1 - x] = t;
		}
	for (int i = 0; i < s->nf; i++) {
		struct dt_face *f = &s->f[i];
		float t[2];
		f->cx = DT_IN - f->cx;
		for (int k = 0; k < 5; k++)
			f->lm[k][0] = DT_IN - f->lm[k][0];
		memcpy(t, f->lm[0], sizeof(t));
		memcpy(f->lm[0], f->lm[1], sizeof(t));
		memcpy(f->lm[1], t, sizeof(t));
		memcpy(t, f->lm[3], sizeof(t));
		memcpy(f->lm[3], f->lm[4], sizeof(t));
		memcpy(f->lm[4], t, sizeof(t));
	}
}

/* Photometric augmentation and scaling to 0..1. */
static void dt_photometric(struct dt_sample *s, uint64_t *r)
{
	float gain = expf(dt_range(r, -0.5f, 0.4f)), bias = dt_range(r, -40, 40);
	float gamma = expf(dt_range(r, -0.4f, 0.4f)), noise = 0;
	float *x = s->x;

	if (dt_unit(r) < 0.12f) { /* low light */
		gain = dt_range(r, 0.15f, 0.45f);
		bias = dt_range(r, -10, 5);
		noise = dt_range(r, 2, 8);
	} else if (dt_unit(r) < 0.3f) {
		noise = dt_range(r, 1, 9);
	}
	if (dt_unit(r) < 0.25f) { /* blur: 3x3 box, or two passes */
		static __thread float tmp[DT_IN * DT_IN];
		int passes = 1 + (dt_unit(r) < 0.4f);
		for (int p = 0; p < passes; p++) {
			for (int y = 0; y < DT_IN; y++)
				for (int xx = 0; xx < DT_IN; xx++) {
					float acc = 0;
					for (int j = -1; j <= 1; j++)
						for (int i = -1; i <= 1; i++) {
							int yy = y + j < 0 ? 0 : y + j >= DT_IN ? DT_IN - 1 : y + j;
							int xi = xx + i < 0 ? 0 : xx + i >= DT_IN ? DT_IN - 1 : xx + i;
							acc += x[yy * DT_IN + xi];
						}
					tmp[y * DT_IN + xx] = acc / 9.0f;
				}
			memcpy(x, tmp, sizeof(tmp));
		}
	}
	for (int i = 0; i < DT_IN * DT_IN; i++) {
		float v = x[i] / 255.0f;
		v = v <= 0 ? 0 : powf(v, gamma);
		v = (v - 0.5f) * gain + 0.5f + bias / 255.0f;
		if (noise > 0) {
			float u1 = 1.0f - dt_unit(r), u2 = dt_unit(r); /* u1 in (0, 1]: log <= 0 */
			v += noise / 255.0f * sqrtf(-2 * logf(u1)) * cosf(6.2831853f * u2);
		}
		/* the engine sees 8-bit pixels: round like a real frame */
		if (!isfinite(v))
			v = 0.5f;
		v = floorf((v < 0 ? 0 : v > 1 ? 1 : v) * 255.0f + 0.5f) / 255.0f;
		x[i] = v;
	}
	if (dt_unit(r) < 0.2f) { /* JPEG artefacts of a webcam or a stream */
		uint8_t px[DT_IN * DT_IN];
		int q = 15 + dt_int(r, 61);
		for (int i = 0; i < DT_IN * DT_IN; i++)
			px[i] = (uint8_t)(x[i] * 255.0f + 0.5f);
		if (!jpeg_roundtrip_gray(px, DT_IN, DT_IN, q))
			for (int i = 0; i < DT_IN * DT_IN; i++)
				x[i] = (float)px[i] / 255.0f;
	}
}

/* Draw one sample. kind < 0 picks at random, with the shares mix (NULL:
 * DT_MIX_DEFAULT); photos from [p_lo, p_lo+p_n), negatives from
 * [n_lo, n_lo+n_n). */
void dt_sample_make(const struct dt_data *d, struct dt_sample *s, uint64_t seed, int kind,
			   int p_lo, int p_n, int n_lo, int n_n, const float mix[4])
{
	static const float mix0[4] = {DT_MIX_DEFAULT};
	uint64_t r = seed;
	float u;

	s->nf = 0;
	u = dt_unit(&r);
	if (!mix)
		mix = mix0;
	if (kind < 0)
		kind = u < mix[0] ? 0 : u < mix[0] + mix[1] ? 1 : u < mix[0] + mix[1] + mix[2] ? 2 : 3;
	if ((kind == 1 || kind == 2) && !d->n_crops && !d->fer.n)
		kind = 3;
	s->kind = kind;
	if (kind == 0) {
		const int wider = p_lo == 0 && d->n_train_wider > 0 && dt_unit(&r) < d->wider_share;
		int pi = wider ? d->n_web + dt_int(&r, d->n_train_wider) : p_lo + dt_int(&r, p_n);
		const struct dt_photo *ph = &d->photo[pi];
		struct dt_src src;
		struct dt_xf t;
		float a = dt_unit(&r) < 0.4f ? dt_range(&r, -0.45f, 0.45f) : 0; /* tilted heads */

		if (dt_load_src(d, 0, pi, &src)) {
			dt_fill(s->x, 128);
			goto photometric;
		}
		t.c = cosf(a);
		t.s = sinf(a);
		if (ph->n && dt_unit(&r) < 0.85f) {
			const struct dt_face *f = &d->faces[ph->first + dt_int(&r, ph->n)];
			float side = expf(dt_range(&r, logf(DT_LEVEL_MIN), logf(DT_LEVEL_MAX)));
			/* a face to centre on: not an ignore region (a few tries) */
			for (int k = 0; k < 8 && f->ignore; k++)
				f = &d->faces[ph->first + dt_int(&r, ph->n)];
			t.k = side / f->side;
			/* a small WIDER face is enlarged at most as emotop enlarges
			 * frames (--min-face 10: 2x); smaller than the trained
			 * range, it is ignored there (dt_target_make) */
			if (wider && t.k > DT_WIDER_ZOOM)
				t.k = DT_WIDER_ZOOM;
			t.cx = f->cx;
			t.cy = f->cy;
			t.px = dt_range(&r, 8, DT_IN - 8);
			t.py = dt_range(&r, 8, DT_IN - 8);
		} else {
			t.k = expf(dt_range(&r, logf(0.15f), logf(1.3f)));
			t.cx = dt_range(&r, 0, (float)src.w);
			t.cy = dt_range(&r, 0, (float)src.h);
			t.px = t.py = DT_IN * 0.5f;
		}
		for (int i = 0; i < ph->n && s->nf < DT_MAXF; i++)
			dt_face_xf(&t, &d->faces[ph->first + i], &s->f[s->nf++], 1.0f);
		for (int i = 0; i < ph->ign_n && s->nf < DT_MAXF; i++)
			dt_face_xf(&t, &d->ign[ph->ign_first + i], &s->f[s->nf++], 1.0f);
		dt_render(&src, t, s->x, 0, 0, DT_IN, DT_IN);
		free(src.px);
	} else if (kind == 1) {
		int n = 1 + dt_int(&r, 5);
		const int clip[4] = {0, 0, DT_IN, DT_IN};
		dt_background(d, n_lo, n_n, s, &r);
		for (int i = 0; i < n; i++) {
			float fs = expf(dt_range(&r, logf(DT_LEVEL_MIN - 2), logf(DT_LEVEL_MAX + 4)));
			uint8_t decoy[FER_SIZE * FER_SIZE];
			const int is_decoy = dt_unit(&r) < DT_DECOY_SHARE;
			if (is_decoy)
				dt_decoy_tile(d, n_lo, n_n, &r, dt_decoy_sigma(&r), decoy);
			dt_paste(d, s, fs, dt_range(&r, 4, DT_IN - 4), dt_range(&r, 4, DT_IN - 4),
				 dt_tile_angle(&r, 0.4f, 0.5f),
				 dt_unit(&r) < 0.4f, is_decoy ? decoy : NULL, &r, clip);
		}
	} else if (kind == 2) {
		/* a video-call gallery: tiles of side T with gaps, a face each */
		float T = expf(dt_range(&r, logf(DT_LEVEL_MIN / 0.9f), logf(DT_LEVEL_MAX / 0.8f)));
		float gap = dt_range(&r, 0, 6), ox = dt_range(&r, -T, 0), oy = dt_range(&r, -T, 0);
		float bg = dt_unit(&r) < 0.5f ? dt_range(&r, 10, 60) : dt_range(&r, 60, 240);
		float aspect = dt_unit(&r) < 0.5f ? 1.0f : dt_range(&r, 1.0f, 1.5f);
		int fer = dt_unit(&r) < 0.6f;
		if (dt_unit(&r) < 0.3f)
			dt_background(d, n_lo, n_n, s, &r);
		else
			dt_fill(s->x, bg);
		for (float ty = oy; ty < DT_IN; ty += T + gap)
			for (float tx = ox; tx < DT_IN; tx += T * aspect + gap) {
				int clip[4] = {(int)tx, (int)ty, (int)(tx + T * aspect), (int)(ty + T)};
				float fs = T * (dt_unit(&r) < DT_CLOSEUP_SHARE ? dt_range(&r, 0.95f, 1.25f)
									      : dt_range(&r, 0.65f, 0.95f));
				uint8_t decoy[FER_SIZE * FER_SIZE];
				int is_decoy;
				if (clip[0] < 0)
					clip[0] = 0;
				if (clip[1] < 0)
					clip[1] = 0;
				if (clip[2] > DT_IN)
					clip[2] = DT_IN;
				if (clip[3] > DT_IN)
					clip[3] = DT_IN;
				if (dt_unit(&r) < 0.1f) /* empty seat */
					continue;
				for (int y = clip[1]; y < clip[3]; y++)
					for (int x = clip[0]; x < clip[2]; x++)
						s->x[y * DT_IN + x] = bg * 0.7f;
				if ((is_decoy = dt_unit(&r) < DT_DECOY_SHARE))
					dt_decoy_tile(d, n_lo, n_n, &r, dt_decoy_sigma(&r), decoy);
				dt_paste(d, s, fs, tx + T * aspect * 0.5f + dt_range(&r, -0.08f, 0.08f) * T,
					 ty + T * 0.5f + dt_range(&r, -0.05f, 0.1f) * T,
					 dt_tile_angle(&r, 0.35f, 0.45f),
					 fer || !d->n_crops, is_decoy ? decoy : NULL, &r, clip);
			}
	} else {
		dt_background(d, n_lo, n_n, s, &r);
	}
photometric:
	if (dt_unit(&r) < 0.5f)
		dt_flip(s);
	dt_photometric(s, &r);
}

/* For the commands that draw training samples: the share of sharp
 * FER2013-style tiles (--sharp, else DT_SHARP_DEFAULT) and those tiles
 * (dt_crop_tiles). 0, or -1 with a message. */
int dt_sharp_setup(struct dt_data *d, const struct dt_args *a)
{
	d->sharp = a->has_sharp ? a->sharp : DT_SHARP_DEFAULT;
	d->wider_share = a->wider >= 0 ? a->wider : DT_WIDER_DEFAULT;
	if (d->sharp > 0 && d->n_crops && !d->crop_fer && dt_crop_tiles(d)) {
		fprintf(stderr, "emotop-train: out of memory\n");
		return -1;
	}
	return 0;
}

/* Write a few training samples with their faces drawn (PGM), to check
 * the data pipeline by eye: emotop-train detect samples --faces DIR --out DIR */
int dt_samples(int argc, char **argv)
{
	struct dt_args a = {.epochs = 1, .batch = 1, .steps = 1, .seed = 1};
	struct dt_data d;
	struct dt_sample *s;
	int rc;

	if ((rc = dt_parse(argc, argv, &a)))
		return rc == 1 ? 0 : rc;
	if (!a.out || dt_load(&d, a.faces, a.fer))
		return 2;
	if (dt_sharp_setup(&d, &a)) {
		dt_free(&d);
		return 1;
	}
	s = malloc(sizeof(*s));
	for (int i = 0; s && i < 24; i++) {
		char path[4096];
		uint8_t img[DT_IN * DT_IN];
		FILE *f;
		dt_sample_make(&d, s, (uint64_t)a.seed * 1000 + (uint64_t)i, i % 4, 0, d.n_train_photo, 0,
			       d.n_train_neg, NULL);
		for (int k = 0; k < DT_IN * DT_IN; k++)
			img[k] = (uint8_t)(s->x[k] * 255.0f);
		for (int j = 0; j < s->nf; j++) {
			const struct dt_face *fc = &s->f[j];
			int x0 = (int)(fc->cx - fc->w / 2), x1 = (int)(fc->cx + fc->w / 2);
			int y0 = (int)(fc->cy - fc->h / 2), y1 = (int)(fc->cy + fc->h / 2);
			uint8_t col = fc->side >= DT_POS_MIN && fc->side <= DT_POS_MAX ? 255 : 0;
			for (int t = x0; t <= x1; t++)
				for (int yy = 0; yy < 2; yy++) {
					int y = yy ? y1 : y0;
					if (t >= 0 && t < DT_IN && y >= 0 && y < DT_IN)
						img[y * DT_IN + t] = col;
				}
			for (int t = y0; t <= y1; t++)
				for (int xx = 0; xx < 2; xx++) {
					int x = xx ? x1 : x0;
					if (t >= 0 && t < DT_IN && x >= 0 && x < DT_IN)
						img[t * DT_IN + x] = col;
				}
			for (int k = 0; fc->lm_kind && k < 5; k++) {
				int x = (int)fc->lm[k][0], y = (int)fc->lm[k][1];
				if (x >= 0 && y >= 0 && x < DT_IN && y < DT_IN)
					img[y * DT_IN + x] = k == 0 ? 255 : 0;
			}
		}
		snprintf(path, sizeof(path), "%s/s%02d.pgm", a.out, i);
		if ((f = fopen(path, "wb"))) {
			fprintf(f, "P5 %d %d 255\n", DT_IN, DT_IN);
			fwrite(img, 1, sizeof(img), f);
			fclose(f);
		}
	}
	free(s);
	dt_free(&d);
	return 0;
}
