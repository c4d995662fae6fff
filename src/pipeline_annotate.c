/* pipeline_annotate.c - pictures of the frame: the --annotate PNG shots
 * (the frame with the seats, the faces' boxes and their labels drawn in,
 * one written per report line, numbered on from an earlier run's) and the
 * dashboard's preview pane (the frame shrunk, with the faces and seats as
 * boxes, handed to the dashboard). Writes only the shot's fields and the
 * preview's frame of struct run (see pipeline_int.h).
 */
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dashboard.h"
#include "emotop/capture.h"
#include "emotop/config.h"
#include "emotop/emotion.h"
#include "emotop/engine.h"
#include "emotop/image.h"
#include "emotop/track.h"
#include "pipeline_int.h"
#include "scan_font.h"

/* ---- annotate ---------------------------------------------------------- */

static void draw_rect(struct emo_image *im, const struct emo_box *b)
{
	int x0 = (int)b->x, y0 = (int)b->y, x1 = (int)(b->x + b->w) - 1, y1 = (int)(b->y + b->h) - 1;

	if (x0 < 0)
		x0 = 0;
	if (y0 < 0)
		y0 = 0;
	if (x1 >= im->w)
		x1 = im->w - 1;
	if (y1 >= im->h)
		y1 = im->h - 1;
	if (x1 < x0 || y1 < y0)
		return;
	for (int t = 0; t < 2; t++) {
		uint8_t v = t ? 0 : 255;

		for (int x = x0; x <= x1; x++) {
			if (y0 + t <= y1)
				im->px[(y0 + t) * im->stride + x] = v;
			if (y1 - t >= y0)
				im->px[(y1 - t) * im->stride + x] = v;
		}
		for (int y = y0; y <= y1; y++) {
			if (x0 + t <= x1)
				im->px[y * im->stride + x0 + t] = v;
			if (x1 - t >= x0)
				im->px[y * im->stride + x1 - t] = v;
		}
	}
}

/* A face's track (NULL when untracked) and label: the track's dominant
 * class, as the dashboard shows it, else the frame's argmax; -1 without a
 * classifier. */
static const struct track *face_track(const struct run *r, const struct engine_face *f)
{
	const struct tracker *tr = engine_tracker(r->eng);

	return tr && f->track_id >= 0 ? track_find(tr, f->track_id) : NULL;
}

static int face_class(const struct run *r, const struct engine_face *f, const struct track *t)
{
	int cls = 0;

	if (!r->classify)
		return -1;
	if (t)
		return t->dominant;
	for (int k = 1; k < EMO_NUM_CLASSES; k++)
		if (f->probs[k] > f->probs[cls])
			cls = k;
	return cls;
}

static void shot_px(struct emo_image *im, int x, int y, uint8_t v)
{
	if (x >= 0 && y >= 0 && x < im->w && y < im->h)
		im->px[(size_t)y * im->stride + x] = v;
}

/* Text in white with a black shadow, sc pixels a font pixel. */
static void shot_text(struct emo_image *im, int x, int y, const char *s, int sc)
{
	for (int pass = 0; pass < 2; pass++) {
		int cx = x + (pass ? 0 : 1), cy = y + (pass ? 0 : 1);

		for (const char *c = s; *c; c++, cx += (SCAN_FONT_W + 1) * sc) {
			const uint8_t *rows = scan_font_glyph((unsigned char)*c);

			for (int ry = 0; rows && ry < SCAN_FONT_H; ry++)
				for (int b = 0; b < SCAN_FONT_W; b++)
					if (rows[ry] & (16 >> b))
						for (int j = 0; j < sc * sc; j++)
							shot_px(im, cx + b * sc + j % sc, cy + ry * sc + j / sc,
								pass ? 255 : 0);
		}
	}
}

/* A seat or gallery cell: a dashed outline (8 on, 8 off; white outside,
 * black inside) with its name inside the bottom edge. */
static void shot_seat(struct emo_image *im, const struct emo_box *b, const char *name, int sc)
{
	int x0 = (int)b->x, y0 = (int)b->y, x1 = (int)(b->x + b->w) - 1, y1 = (int)(b->y + b->h) - 1;

	for (int t = 0; t < 2; t++) {
		uint8_t v = t ? 0 : 255;

		for (int x = x0 + t; x <= x1 - t; x++)
			if ((x / 8) % 2 == 0) {
				shot_px(im, x, y0 + t, v);
				shot_px(im, x, y1 - t, v);
			}
		for (int y = y0 + t; y <= y1 - t; y++)
			if ((y / 8) % 2 == 0) {
				shot_px(im, x0 + t, y, v);
				shot_px(im, x1 - t, y, v);
			}
	}
	if (name && name[0])
		shot_text(im, x0 + 4, y1 - 3 - SCAN_FONT_H * sc, name, sc);
}

void pipeline_annotate_keep_shot(struct run *r, const struct emo_image *g)
{
	struct emo_box regions[CONFIG_MAX_SEATS];
	const char *names[CONFIG_MAX_SEATS];
	int n, sc;
	const struct engine_face *f;

	if (!r->cfg->output.annotate[0])
		return;
	if (r->shot.w != g->w || r->shot.h != g->h) {
		image_free(&r->shot);
		if (image_new(&r->shot, g->w, g->h))
			return;
	}
	for (int y = 0; y < g->h; y++)
		memcpy(r->shot.px + y * r->shot.stride, g->px + y * g->stride, (size_t)g->w);
	sc = g->w >= 1280 ? 2 : 1;
	n = config_regions(r->cfg, g->w, g->h, regions, names, CONFIG_MAX_SEATS);
	for (int i = 0; i < n; i++)
		shot_seat(&r->shot, &regions[i], names[i], sc);
	f = engine_faces(r->eng, &n);
	for (int i = 0; i < n; i++)
		draw_rect(&r->shot, &f[i].face.box);
	/* "#id name label" above each box (inside when at the top) */
	for (int i = 0; i < n; i++) {
		const struct track *t = face_track(r, &f[i]);
		int cls = face_class(r, &f[i], t), y = (int)f[i].face.box.y - 3 - SCAN_FONT_H * sc;
		char label[160];

		snprintf(label, sizeof label, "#%d%s%s %s", f[i].track_id, t && t->name[0] ? " " : "",
			 t ? t->name : "", cls >= 0 ? emo_class_name(cls) : "face");
		if (f[i].track_id < 0)
			snprintf(label, sizeof label, "%s", cls >= 0 ? emo_class_name(cls) : "face");
		shot_text(&r->shot, (int)f[i].face.box.x, y < 0 ? (int)f[i].face.box.y + 4 : y, label, sc);
	}
	r->shot_valid = 1;
}

/* The highest N of the emotop-N.png files in dir (0: none), so that a run
 * numbers its shots on from an earlier run's instead of over them. */
int pipeline_annotate_last_shot(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int last = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char tail[8];
		int n;
		if (sscanf(de->d_name, "emotop-%9d%7s", &n, tail) == 2 && !strcmp(tail, ".png") &&
		    n > last)
			last = n;
	}
	closedir(d);
	return last;
}

int pipeline_annotate_write_shot(struct run *r)
{
	char stem[32];
	struct emo_err err;

	if (!r->shot_valid)
		return 0;
	r->shot_valid = 0;
	if (r->shots == INT_MAX)
		return 0;
	/* a new file (0600, no link followed); taken meanwhile: STEM-2.png */
	snprintf(stem, sizeof(stem), "emotop-%06d", ++r->shots);
	memset(&err, 0, sizeof(err));
	if (capture_write_png_new(r->cfg->output.annotate, stem, &r->shot, 1, NULL, 0, &err)) {
		pipeline_say(r, 0, "cannot write %s: %s", err.file[0] ? err.file : r->cfg->output.annotate,
			     err.msg);
		r->write_failed = 1;
		return -1;
	}
	return 0;
}

/* ---- the dashboard's preview pane --------------------------------------- */

static void preview_box(struct dashboard_preview_box *o, const struct emo_box *b, double s, int id,
			int cls, const char *name)
{
	o->x = (int)(b->x * s);
	o->y = (int)(b->y * s);
	o->w = (int)(b->w * s + 0.5);
	o->h = (int)(b->h * s + 0.5);
	o->id = id;
	o->cls = cls;
	snprintf(o->name, sizeof o->name, "%s", name ? name : "");
}

/* While the pane is shown: the frame averaged down to fit the preview,
 * the faces of the last analysis with their tracks' names and labels, and
 * the seats or gallery cells, handed to the dashboard (which copies it).
 * Nothing is written anywhere. */
void pipeline_annotate_feed_preview(struct run *r, const struct emo_image *g)
{
	struct dashboard_preview *p = r->preview;
	struct emo_box regions[DASHBOARD_PREVIEW_MAX_REGIONS];
	const char *names[DASHBOARD_PREVIEW_MAX_REGIONS];
	const struct engine_face *f;
	double s;
	int n;

	if (!p || !dashboard_preview_on(r->dash) || g->w < 1 || g->h < 1)
		return;
	s = fmin(1.0, fmin((double)DASHBOARD_PREVIEW_MAX_W / g->w, (double)DASHBOARD_PREVIEW_MAX_H / g->h));
	p->frame_w = g->w;
	p->frame_h = g->h;
	p->w = (int)fmax(1, fmin(DASHBOARD_PREVIEW_MAX_W, floor(g->w * s)));
	p->h = (int)fmax(1, fmin(DASHBOARD_PREVIEW_MAX_H, floor(g->h * s)));
	for (int y = 0; y < p->h; y++) {
		int y0 = (int)((long long)y * g->h / p->h), y1 = (int)((long long)(y + 1) * g->h / p->h);

		if (y1 <= y0)
			y1 = y0 + 1;
		for (int x = 0; x < p->w; x++) {
			int x0 = (int)((long long)x * g->w / p->w), x1 = (int)((long long)(x + 1) * g->w / p->w);
			unsigned sum = 0, cnt = 0;

			if (x1 <= x0)
				x1 = x0 + 1;
			for (int yy = y0; yy < y1; yy++)
				for (int xx = x0; xx < x1; xx++, cnt++)
					sum += g->px[(size_t)yy * g->stride + xx];
			p->px[(size_t)y * p->w + x] = (unsigned char)(sum / cnt);
		}
	}
	s = (double)p->w / g->w;
	f = engine_faces(r->eng, &n);
	p->n_faces = 0;
	for (int i = 0; i < n && p->n_faces < DASHBOARD_PREVIEW_MAX_FACES; i++) {
		const struct track *t = face_track(r, &f[i]);

		preview_box(&p->faces[p->n_faces++], &f[i].face.box, s, f[i].track_id,
			    face_class(r, &f[i], t), t ? t->name : NULL);
	}
	n = config_regions(r->cfg, g->w, g->h, regions, names, DASHBOARD_PREVIEW_MAX_REGIONS);
	p->n_regions = 0;
	for (int i = 0; i < n; i++)
		preview_box(&p->regions[p->n_regions++], &regions[i], s, i, -1, names[i]);
	dashboard_preview(r->dash, p);
}
