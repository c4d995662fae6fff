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

/* New renderer, free with dashboard_chafa_free(); NULL when out of memory. */
struct dashboard_chafa *dashboard_chafa_new(enum dashboard_chafa_symbols sym);
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

#endif
