/* dashboard_chafa.h - the preview pane's picture: a struct dashboard_preview
 * (frame, face boxes, seat outlines) turned into terminal symbols with
 * libchafa. App code beside dashboard.c; no curses here, no chafa types
 * out of this header.
 */
#ifndef EMOTOP_DASHBOARD_CHAFA_H
#define EMOTOP_DASHBOARD_CHAFA_H

#include <wchar.h>

#include "dashboard.h"

enum dashboard_chafa_symbols {
	DASHBOARD_CHAFA_BLOCKS = 0, /* block, border and space symbols (UTF-8) */
	DASHBOARD_CHAFA_HALF = 1,   /* half blocks and solid only (TERM=linux fonts) */
	DASHBOARD_CHAFA_ASCII = 2,  /* ASCII only (--ascii, non-UTF-8 locales) */
};

struct dashboard_chafa;

/* New renderer in symbol mode (the terminal's own two colours), free with
 * dashboard_chafa_free(); NULL when out of memory. */
struct dashboard_chafa *dashboard_chafa_new(enum dashboard_chafa_symbols sym);
/* on 1: shade mode, for terminals with 256 colours: each cell gets two
 * colours of the palette as well (dashboard_chafa_cell_colors), and the
 * boxes are drawn in colour; 0: symbol mode. NULL-safe. */
void dashboard_chafa_set_shades(struct dashboard_chafa *r, int on);
/* NULL-safe; *r is set to NULL. */
void dashboard_chafa_free(struct dashboard_chafa **r);

/* Draw p (its frame scaled to cols x rows cells, the boxes as 1-pixel
 * outlines, faces solid and seats dashed) and return the rows: rows
 * strings of cols wide characters each (single-column symbols), NUL
 * ended, stride cols + 1; owned by r, valid until the next call. The
 * buffers grow only when the geometry does. NULL when out of memory or
 * when cols or rows is below 1. */
const wchar_t *dashboard_chafa_render(struct dashboard_chafa *r, const struct dashboard_preview *p,
				      int cols, int rows);

/* In shade mode, the palette indices (16-255) of the symbol's foreground
 * and background at cell (x, y) of the last render: 0. -1 (and *fg, *bg
 * untouched) in symbol mode, outside the canvas or for a cell chafa left
 * in the terminal's default colours. */
int dashboard_chafa_cell_colors(const struct dashboard_chafa *r, int x, int y, short *fg, short *bg);

#endif
