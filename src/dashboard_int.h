/* dashboard_int.h - what the dashboard's files share, private to them (not
 * under include/: only src/dashboard*.c include it, and dashboard_chafa.c
 * does not need it). The public API is dashboard.h; these are the pieces
 * behind it:
 *
 *   dashboard.c         the exit paths' process-wide state (signals, atexit,
 *                       stderr), open/close, the windows, the help text,
 *                       dashboard_draw() and dashboard_poll(), the keys
 *   dashboard_model.c   the rows (the snapshot's students filtered, sorted,
 *                       one selected) and each student's timeline; no curses
 *   dashboard_panels.c  the drawing helpers and the panels: one frame,
 *                       dashboard_panels_paint()
 *   dashboard_chafa.c   the preview's picture (dashboard_chafa.h)
 *
 * Who owns what: dashboard.c makes struct dashboard in dashboard_open() and
 * frees it in dashboard_close(), with everything it points to (the snapshot
 * copy, the timelines, the preview frame, the picture renderer, the shade
 * pairs' table, the line buffer) and the windows, which only it makes and
 * deletes (make_windows(): at open and on a resize). dashboard_model.c and
 * dashboard_panels.c allocate and free nothing: they read the fields and
 * write a few, each its own. dashboard_model.c: the rows (rows, n_rows, sel,
 * sel_id; scroll back to 0 on a new sort or filter) and the timelines
 * (hist[], hist_seq). dashboard_panels.c: last_paint and dirty, scroll (the
 * list follows the selection) and the preview's colour pairs (shade_pair[],
 * next_pair). dashboard.c writes the rest (open, the keys). The renderer
 * of the picture remakes its own buffers when the pane's size changes
 * (dashboard_chafa_render(), dashboard_chafa.h).
 */
#ifndef EMOTOP_DASHBOARD_INT_H
#define EMOTOP_DASHBOARD_INT_H

#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <curses.h>

#include <stddef.h>
#include <stdio.h>

#include "dashboard.h"
#include "emotop/emotion.h"
#include "emotop/layout.h"
#include "emotop/summary.h"

#define FILTER_MAX 64
/* A student's timeline in the detail view: buckets of the smoothed class
 * probabilities over the session; when they are full, pairs merge and a
 * bucket lasts twice as long, so the whole session fits in HIST_MAX. */
#define HIST_MAX 96
#define HIST_BUCKET_S 1.0 /* seconds per bucket to begin with */

enum win_id { W_HEADER, W_STUDENTS, W_CLS, W_MOOD, W_ALERTS, W_FOOTER, W_COUNT };

/* Colour pairs: 1..7 the emotion classes, then UI roles. */
enum {
	PAIR_TITLE = EMO_NUM_CLASSES + 1,
	PAIR_PAUSED,
	PAIR_ALERT,
	PAIR_LABEL,
	PAIR_KEY,
	PAIR_UP,
	PAIR_SHADES, /* the preview's palette pairs from here, made on demand */
};

struct hist {
	int id;                /* track id; -1: a free slot */
	double t0;             /* session time where bucket 0 starts */
	double bucket_s;       /* seconds per bucket */
	double last;           /* last update (session time): the slot to reuse */
	int n;                 /* buckets used */
	float sum[HIST_MAX][EMO_NUM_CLASSES];
	int cnt[HIST_MAX];     /* updates summed in each bucket */
};

struct dashboard {
	SCREEN *scr;
	struct summary *snap;  /* our copy of the last snapshot */
	int have_snap;
	double snap_wall;      /* wall clock (s) when snap arrived: for alert times */

	WINDOW *win[W_COUNT];
	WINDOW *help_win;      /* the help overlay, made with the panels */
	WINDOW *preview_win;   /* the preview pane: between header and footer */
	struct layout_screen ls;
	int lines, cols;
	char *line;            /* a screen line of bar cells: 4 * cols + 1 bytes */
	size_t line_cap;       /* grown by make_windows() only */

	int utf8, color, mouse, stacked;
	enum dashboard_sort sort;
	int scroll;
	int paused;
	int help;
	int preview;           /* 1: the preview pane is shown (key f) */
	struct dashboard_preview *pv; /* its last frame, made at open */
	int have_pv;
	struct dashboard_chafa *chafa; /* its picture */
	short *shade_pair;     /* 256-colour terminals: the pair of each palette
				* fg * 256 + bg the picture used, 0: none yet;
				* NULL: the picture in symbols only */
	int next_pair;
	int editing;
	char filter[FILTER_MAX];
	char edit[FILTER_MAX];

	double interval;     /* seconds between snapshot-driven paints */
	double last_paint;   /* monotonic seconds */
	int dirty;

	char msg[160];
	double msg_until;    /* monotonic seconds */

	int rows[SUMMARY_MAX_STUDENTS]; /* filtered, sorted student indices */
	int n_rows;
	int sel;             /* the selected row (index into rows) */
	int sel_id;          /* its track id (the selection follows it); -1: top */
	int detail;          /* 1: the selected student's detail view */

	struct hist *hist;   /* SUMMARY_MAX_STUDENTS slots, made at open */
	unsigned long long hist_seq; /* the snapshot last added */

	FILE *tty_in;        /* /dev/tty opened for the keys (stdin is the video), or NULL */
	int gone;            /* the terminal hung up: poll says quit, no painting */
	int early_errs;      /* consecutive early empty reads, see EARLY_ERR_MAX (dashboard.c) */
};

/* ---- dashboard.c ------------------------------------------------------ */

/* CLOCK_MONOTONIC in seconds: paint times and message deadlines. */
double dashboard_mono_now(void);

/* The help overlay's lines, dashboard_help_lines of them; static data owned
 * by dashboard.c, beside the keys they describe. */
extern const char *const dashboard_help_text[];
extern const int dashboard_help_lines;

/* ---- dashboard_model.c ------------------------------------------------ */

/* 0 when the probabilities p[EMO_NUM_CLASSES] are uniform (no classifier
 * model: faces only) and so carry no mood, else 1. */
int dashboard_model_informative(const float *p);

/* st's name, or "#id" written into buf[cap] when it has none; returns
 * st->name or buf. */
const char *dashboard_model_student_name(const struct summary_student *st, char *buf, size_t cap);

/* Filter and sort d->snap's students into d->rows[d->n_rows] (the filter
 * d->filter, the order d->sort); the selection (d->sel, d->sel_id) follows
 * its student, else keeps its place. */
void dashboard_model_build_rows(struct dashboard *d);

/* Move the selection by delta rows (clamped) on the current snapshot. */
void dashboard_model_move_sel(struct dashboard *d, int delta);

/* Back to the top row, scrolled to the top (a new sort or filter). */
void dashboard_model_sel_top(struct dashboard *d);

/* The timeline of track id in d->hist, or NULL when it has none. */
struct hist *dashboard_model_hist_find(struct dashboard *d, int id);

/* Add each present student's probabilities of snapshot s to its timeline,
 * once per s->seq; a new track takes a free slot, or the one updated
 * longest ago. */
void dashboard_model_hist_add(struct dashboard *d, const struct summary *s);

/* ---- dashboard_panels.c ----------------------------------------------- */

/* Draw one frame from d's copies (the snapshot, the preview frame) into the
 * windows made by dashboard.c, off-screen, then show it with one doupdate():
 * the panels, or the preview pane, or the "too small" notice, and the help
 * over them; a window that could not be made (NULL) is left out. Sets
 * d->last_paint, clears d->dirty. */
void dashboard_panels_paint(struct dashboard *d);

#endif
