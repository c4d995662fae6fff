/* dashboard_chafa.c - the preview pane's picture with libchafa: the gray
 * frame is sampled onto chafa's own cell raster (8 x 8 pixels a cell), the
 * face boxes (solid) and seat or gallery outlines (dashed) are drawn there
 * one pixel wide, and a chafa canvas picks one symbol a cell. In FGBG mode
 * only the symbols are used (chafa_canvas_get_char_at); in shade mode (a
 * 256-colour terminal) the canvas is INDEXED_240 and the caller reads each
 * cell's two palette indices back from it and draws them with curses colour
 * pairs: colour escapes and sixel or kitty images cannot pass through
 * curses, which owns the screen. In shade mode the face boxes are drawn
 * green and the seats yellow, so they stand out of the gray picture.
 * The raster and the canvas are kept and remade only when the geometry
 * changes: a frame allocates nothing.
 */
#include <chafa.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard_chafa.h"

#define CELL_PX 8 /* chafa's cell raster */

struct dashboard_chafa {
	enum dashboard_chafa_symbols sym;
	int shades;            /* 1: INDEXED_240, cell colours kept */
	int cols, rows;        /* the canvas' geometry */
	ChafaCanvas *canvas;
	uint8_t *rgba;         /* cols * rows * CELL_PX^2 * 4 bytes */
	wchar_t *text;         /* rows * (cols + 1) */
};

struct dashboard_chafa *dashboard_chafa_new(enum dashboard_chafa_symbols sym)
{
	struct dashboard_chafa *r = calloc(1, sizeof *r);

	if (r)
		r->sym = sym;
	return r;
}

static void drop_canvas(struct dashboard_chafa *r)
{
	if (r->canvas)
		chafa_canvas_unref(r->canvas);
	r->canvas = NULL;
	free(r->rgba);
	free(r->text);
	r->rgba = NULL;
	r->text = NULL;
	r->cols = r->rows = 0;
}

void dashboard_chafa_set_shades(struct dashboard_chafa *r, int on)
{
	if (!r || r->shades == !!on)
		return;
	drop_canvas(r); /* the next render makes it in the other mode */
	r->shades = !!on;
}

void dashboard_chafa_free(struct dashboard_chafa **r)
{
	if (!r || !*r)
		return;
	drop_canvas(*r);
	free(*r);
	*r = NULL;
}

static int make_canvas(struct dashboard_chafa *r, int cols, int rows)
{
	ChafaSymbolMap *map;
	ChafaCanvasConfig *cc;
	ChafaSymbolTags tags;

	drop_canvas(r);
	r->rgba = malloc((size_t)cols * rows * CELL_PX * CELL_PX * 4);
	r->text = malloc((size_t)rows * (cols + 1) * sizeof *r->text);
	if (!r->rgba || !r->text) {
		drop_canvas(r);
		return -1;
	}
	tags = r->sym == DASHBOARD_CHAFA_ASCII  ? CHAFA_SYMBOL_TAG_ASCII | CHAFA_SYMBOL_TAG_SPACE
	       : r->sym == DASHBOARD_CHAFA_HALF ? CHAFA_SYMBOL_TAG_HALF | CHAFA_SYMBOL_TAG_SOLID |
						      CHAFA_SYMBOL_TAG_SPACE
						: CHAFA_SYMBOL_TAG_BLOCK | CHAFA_SYMBOL_TAG_BORDER |
						      CHAFA_SYMBOL_TAG_SPACE;
	map = chafa_symbol_map_new();
	chafa_symbol_map_add_by_tags(map, tags);
	cc = chafa_canvas_config_new();
	chafa_canvas_config_set_geometry(cc, cols, rows);
	chafa_canvas_config_set_canvas_mode(cc, r->shades ? CHAFA_CANVAS_MODE_INDEXED_240
							  : CHAFA_CANVAS_MODE_FGBG);
	chafa_canvas_config_set_symbol_map(cc, map);
	chafa_canvas_config_set_work_factor(cc, 0.3f);
	r->canvas = chafa_canvas_new(cc);
	chafa_canvas_config_unref(cc);
	chafa_symbol_map_unref(map);
	if (!r->canvas) {
		drop_canvas(r);
		return -1;
	}
	r->cols = cols;
	r->rows = rows;
	return 0;
}

static void put_px(struct dashboard_chafa *r, int w, int h, int x, int y, const uint8_t rgb[3])
{
	uint8_t *q;

	if (x < 0 || y < 0 || x >= w || y >= h)
		return;
	q = r->rgba + ((size_t)y * w + x) * 4;
	memcpy(q, rgb, 3);
}

/* A box of the preview (its pixels) onto the raster (w x h): a white line
 * with a black one inside it, so it shows on light and dark faces alike
 * (in shade mode green for faces, yellow for seats, then black); dashed (3
 * on, 3 off) for seats. */
static void outline(struct dashboard_chafa *r, const struct dashboard_preview *p, int w, int h,
		    const struct dashboard_preview_box *b, int dashed)
{
	static const uint8_t black[3] = {0, 0, 0}, white[3] = {255, 255, 255};
	static const uint8_t green[3] = {0, 255, 0}, yellow[3] = {255, 255, 0};
	int x0 = (int)((long long)b->x * w / p->w), y0 = (int)((long long)b->y * h / p->h);
	int x1 = (int)((long long)(b->x + b->w) * w / p->w) - 1;
	int y1 = (int)((long long)(b->y + b->h) * h / p->h) - 1;

	if (x1 <= x0 || y1 <= y0)
		return;
	for (int t = 0; t < 2; t++) {
		const uint8_t *v = t ? black : !r->shades ? white : dashed ? yellow : green;

		for (int x = x0 + t; x <= x1 - t; x++)
			if (!dashed || (x / 3) % 2 == 0) {
				put_px(r, w, h, x, y0 + t, v);
				put_px(r, w, h, x, y1 - t, v);
			}
		for (int y = y0 + t; y <= y1 - t; y++)
			if (!dashed || (y / 3) % 2 == 0) {
				put_px(r, w, h, x0 + t, y, v);
				put_px(r, w, h, x1 - t, y, v);
			}
	}
}

const wchar_t *dashboard_chafa_render(struct dashboard_chafa *r, const struct dashboard_preview *p,
				      int cols, int rows)
{
	int w, h;

	if (!r || !p || cols < 1 || rows < 1)
		return NULL;
	if ((cols != r->cols || rows != r->rows || !r->canvas) && make_canvas(r, cols, rows))
		return NULL;
	w = cols * CELL_PX;
	h = rows * CELL_PX;
	if (p->w > 0 && p->h > 0) {
		/* nearest neighbour: the preview is already small */
		for (int y = 0; y < h; y++) {
			const unsigned char *src = p->px + (size_t)((long long)y * p->h / h) * p->w;
			uint8_t *q = r->rgba + (size_t)y * w * 4;

			for (int x = 0; x < w; x++, q += 4) {
				q[0] = q[1] = q[2] = src[(long long)x * p->w / w];
				q[3] = 255;
			}
		}
		for (int i = 0; i < p->n_regions; i++)
			outline(r, p, w, h, &p->regions[i], 1);
		for (int i = 0; i < p->n_faces; i++)
			outline(r, p, w, h, &p->faces[i], 0);
	} else {
		memset(r->rgba, 0, (size_t)w * h * 4);
		for (size_t i = 3; i < (size_t)w * h * 4; i += 4)
			r->rgba[i] = 255;
	}
	chafa_canvas_draw_all_pixels(r->canvas, CHAFA_PIXEL_RGBA8_UNASSOCIATED, r->rgba, w, h, w * 4);
	for (int y = 0; y < rows; y++) {
		wchar_t *t = r->text + (size_t)y * (cols + 1);

		for (int x = 0; x < cols; x++) {
			gunichar c = chafa_canvas_get_char_at(r->canvas, x, y);

			t[x] = c >= 32 && c != 127 ? (wchar_t)c : L' ';
		}
		t[cols] = L'\0';
	}
	return r->text;
}

int dashboard_chafa_cell_colors(const struct dashboard_chafa *r, int x, int y, short *fg, short *bg)
{
	gint f, b;

	if (!r || !r->shades || !r->canvas || x < 0 || y < 0 || x >= r->cols || y >= r->rows)
		return -1;
	/* the canvas keeps each cell's colours until the next render */
	chafa_canvas_get_raw_colors_at(r->canvas, x, y, &f, &b);
	if (f < 0 || f > 255 || b < 0 || b > 255)
		return -1;
	*fg = (short)f;
	*bg = (short)b;
	return 0;
}
