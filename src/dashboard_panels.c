/* dashboard_panels.c - one frame of the dashboard: the drawing helpers
 * (class labels and colours, text fitted to a width), each panel (header,
 * students or the selected student's detail, class, mood, alerts, footer),
 * the preview pane, the help overlay, and dashboard_panels_paint(), which
 * draws them off-screen (werase + wnoutrefresh per window) and shows the
 * frame with one doupdate. Text layout (widths, bars, sparklines) comes
 * from layout.c, the preview's picture from dashboard_chafa.c. Reads the
 * copies struct dashboard holds; of its fields it writes only last_paint,
 * dirty, scroll and the preview's colour pairs (see dashboard_int.h).
 */
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <curses.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "dashboard.h"
#include "dashboard_chafa.h"
#include "emotop/emotion.h"
#include "emotop/layout.h"
#include "emotop/summary.h"
#include "dashboard_int.h"

/* ---- drawing helpers ---- */

static const char *class_label(int k)
{
	return emo_class_name(k);
}

/* A class name that fits w columns: full, 4-5 letters, or 3 letters. */
static const char *class_label_fit(int k, int w)
{
	static const char *const mid[EMO_NUM_CLASSES] = {
		"angry", "disg", "fear", "happy", "sad", "surpr", "neutr",
	};
	static const char *const shrt[EMO_NUM_CLASSES] = {
		"ang", "dis", "fea", "hap", "sad", "sur", "neu",
	};

	if (k < 0 || k >= EMO_NUM_CLASSES)
		return "?";
	if (w >= 8)
		return emo_class_name(k);
	return w >= 5 ? mid[k] : shrt[k];
}

static char class_letter(int k)
{
	static const char l[EMO_NUM_CLASSES] = {'A', 'D', 'F', 'H', 'S', 'U', 'N'};
	return k >= 0 && k < EMO_NUM_CLASSES ? l[k] : '?';
}

static attr_t pair_attr(const struct dashboard *d, int pair)
{
	return d->color ? (attr_t)COLOR_PAIR(pair) : 0;
}

static attr_t class_attr(const struct dashboard *d, int k)
{
	return k >= 0 && k < EMO_NUM_CLASSES ? pair_attr(d, k + 1) : 0;
}

/* Draw s fitted to w columns at (y, x). Returns the columns used. */
static int put(const struct dashboard *d, WINDOW *win, int y, int x, int w, attr_t a,
	       const char *s, enum layout_align al)
{
	char buf[4096];
	int n;

	if (w <= 0)
		return 0;
	if (w > 1000)
		w = 1000;
	n = layout_fit(buf, sizeof buf, s, w, al, d->utf8);
	wattrset(win, a);
	mvwaddstr(win, y, x, buf);
	wattrset(win, A_NORMAL);
	return n;
}

/* Draw s at its natural width if it fits before `end`; returns new x. */
static int put_seg(const struct dashboard *d, WINDOW *win, int y, int x, int end, attr_t a,
		   const char *s)
{
	int w = layout_str_width(s);

	if (x + w > end)
		w = end - x;
	if (w <= 0)
		return x;
	return x + put(d, win, y, x, w, a, s, LAYOUT_LEFT);
}

static void title_bar(const struct dashboard *d, WINDOW *win, int y, const char *s)
{
	put(d, win, y, 0, getmaxx(win), A_REVERSE | A_BOLD | pair_attr(d, PAIR_TITLE), s,
	    LAYOUT_LEFT);
}

/* ---- panels ---- */

/* Milliseconds: one decimal below 10 ms, whole above. */
static void fmt_ms(char *b, size_t cap, double ms)
{
	if (!(ms >= 0))
		snprintf(b, cap, "-");
	else if (ms < 9.95)
		snprintf(b, cap, "%.1f", ms);
	else
		snprintf(b, cap, "%.0f", ms > 99999 ? 99999 : ms);
}

static void draw_header(struct dashboard *d, WINDOW *w)
{
	const struct summary *s = d->snap;
	const struct summary_stats *st = &s->stats;
	static const char paused[] = " PAUSED ";
	int cols = getmaxx(w), x, end = cols, pw = layout_str_width(paused);
	char b[256], src[SUMMARY_SOURCE_MAX], up[32];
	attr_t lab = pair_attr(d, PAIR_LABEL), val = A_BOLD;

	/* line 0: name, source, resolution, fps, latencies (right part first) */
	x = put_seg(d, w, 0, 0, end, A_BOLD, " emotop ");
	if (!d->have_snap) {
		put_seg(d, w, 0, x, end, A_NORMAL, " waiting for the first frame...");
	} else {
		char right[160];
		int rw;

		char lc[16], ld[16], lk[16];

		fmt_ms(lc, sizeof lc, st->lat_capture_ms);
		fmt_ms(ld, sizeof ld, st->lat_detect_ms);
		fmt_ms(lk, sizeof lk, st->lat_classify_ms);
		snprintf(right, sizeof right, " %dx%d  fps %.1f  lat cap %s det %s cls %s ms",
			 st->width, st->height, st->fps, lc, ld, lk);
		rw = layout_str_width(right);
		x = put_seg(d, w, 0, x, end, lab, "src ");
		snprintf(src, sizeof src, "%s", st->source[0] ? st->source : "-");
		if (end - x - rw > 4) {
			x += put(d, w, 0, x, end - x - rw < layout_str_width(src) ? end - x - rw : layout_str_width(src),
				 val, src, LAYOUT_LEFT);
			put_seg(d, w, 0, x, end, A_NORMAL, right);
		} else {
			put_seg(d, w, 0, x, end, val, src);
		}
	}
	/* line 1: faces, uptime, frames, dropped, window, state; PAUSED keeps
	 * its place at the right edge, the counters give way to it */
	x = 0;
	if (d->paused)
		end = cols - pw - 1;
	layout_uptime(up, sizeof up, d->have_snap ? s->uptime : 0);
	/* the source's state first: a dead feed must not look alive (not up:
	 * reverse video, so it shows without colour too) */
	if (d->have_snap) {
		int up_now = st->source_state == SUMMARY_SOURCE_UP;

		x = put_seg(d, w, 1, x, end, lab, " source ");
		snprintf(b, sizeof b, up_now ? "%s" : " %s ", summary_source_state_name(st->source_state));
		for (char *c = b; !up_now && *c; c++)
			*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
		x = put_seg(d, w, 1, x, end,
			    up_now ? A_BOLD | pair_attr(d, PAIR_UP)
				   : A_BOLD | A_REVERSE | pair_attr(d, PAIR_ALERT),
			    b);
		x = put_seg(d, w, 1, x, end, lab, " ");
	}
	x = put_seg(d, w, 1, x, end, lab, " faces ");
	snprintf(b, sizeof b, "%d", d->have_snap ? s->faces : 0);
	x = put_seg(d, w, 1, x, end, val, b);
	x = put_seg(d, w, 1, x, end, lab, "  up ");
	x = put_seg(d, w, 1, x, end, val, up);
	x = put_seg(d, w, 1, x, end, lab, "  frames ");
	snprintf(b, sizeof b, "%lld", st->frames_analysed);
	x = put_seg(d, w, 1, x, end, val, b);
	x = put_seg(d, w, 1, x, end, lab, "  dropped ");
	snprintf(b, sizeof b, "%lld", st->frames_dropped);
	x = put_seg(d, w, 1, x, end, st->frames_dropped ? A_BOLD | pair_attr(d, PAIR_ALERT) : val, b);
	if (d->paused) {
		put(d, w, 1, cols - pw > 0 ? cols - pw : 0, pw,
		    A_BOLD | A_REVERSE | pair_attr(d, PAIR_PAUSED), paused, LAYOUT_LEFT);
	} else if (d->have_snap) {
		snprintf(b, sizeof b, "window %.0fs ", s->window);
		int bw = layout_str_width(b);
		if (cols - bw > x + 1)
			put(d, w, 1, cols - bw, bw, lab, b, LAYOUT_LEFT);
	}
}

static void draw_probs_seven(struct dashboard *d, WINDOW *w, int y, int x,
			     const struct layout_cols *c, const float *p, attr_t dim)
{
	char b[256];
	int bw = c->bar_w - c->pct; /* roomy bars end in their number */

	for (int k = 0; k < EMO_NUM_CLASSES; k++) {
		int bx = x + k * (c->bar_w + 1);

		layout_bar(b, sizeof b, p[k], bw, d->utf8, '.');
		wattrset(w, class_attr(d, k) | dim);
		mvwaddstr(w, y, bx, b);
		if (c->pct) {
			snprintf(b, sizeof b, "%3.0f%%", 100.0 * p[k]);
			put(d, w, y, bx + bw + 1, c->pct - 1, class_attr(d, k) | dim, b, LAYOUT_RIGHT);
		}
	}
	wattrset(w, A_NORMAL);
}

static void draw_probs_stacked(struct dashboard *d, WINDOW *w, int y, int x, int width,
			       const float *p, attr_t dim)
{
	int cells[EMO_NUM_CLASSES], cx = x;

	layout_split(p, EMO_NUM_CLASSES, width, cells);
	for (int k = 0; k < EMO_NUM_CLASSES; k++) {
		for (int i = 0; i < cells[k]; i++) {
			if (d->color && d->utf8) {
				wattrset(w, class_attr(d, k) | dim);
				mvwaddstr(w, y, cx, "\xe2\x96\x88");
			} else {
				char ch[2] = {class_letter(k), 0};

				wattrset(w, (d->color ? A_REVERSE : 0) | class_attr(d, k) | dim);
				mvwaddstr(w, y, cx, ch);
			}
			cx++;
		}
	}
	wattrset(w, A_NORMAL);
}

static void draw_students(struct dashboard *d, WINDOW *w)
{
	const struct summary *s = d->snap;
	struct layout_cols c;
	int rows = getmaxy(w), cols = getmaxx(w), vis, x;
	char b[512], nb[16];

	dashboard_model_build_rows(d);
	vis = rows - 2;
	if (vis < 1)
		vis = 1;
	/* the view follows the selection */
	if (d->sel < d->scroll)
		d->scroll = d->sel;
	if (d->sel >= d->scroll + vis)
		d->scroll = d->sel - vis + 1;
	if (d->scroll > d->n_rows - vis)
		d->scroll = d->n_rows - vis;
	if (d->scroll < 0)
		d->scroll = 0;

	/* title: counts, sort, filter, scroll position */
	{
		int n = d->have_snap ? s->n_students : 0;
		char f[FILTER_MAX + 16] = "";
		char pos[48] = "";

		if (d->filter[0])
			snprintf(f, sizeof f, "  filter: %s", d->filter);
		if (d->n_rows > vis)
			snprintf(pos, sizeof pos, "  rows %d-%d of %d", d->scroll + 1,
				 d->scroll + vis < d->n_rows ? d->scroll + vis : d->n_rows, d->n_rows);
		if (d->filter[0])
			snprintf(b, sizeof b, " STUDENTS %d of %d  sort: %s%s%s", d->n_rows, n,
				 dashboard_sort_name(d->sort), f, pos);
		else
			snprintf(b, sizeof b, " STUDENTS %d  sort: %s%s", n,
				 dashboard_sort_name(d->sort), pos);
		title_bar(d, w, 0, b);
	}
	if (layout_student_cols(cols, d->stacked, &c) < 0)
		return;
	/* column header */
	wattrset(w, A_BOLD | pair_attr(d, PAIR_LABEL));
	x = 1;
	put(d, w, 1, x, c.name, A_BOLD | (d->sort == DASHBOARD_SORT_NAME ? A_REVERSE : 0), "NAME",
	    LAYOUT_LEFT);
	x += c.name + 1;
	if (c.bar_w) {
		for (int k = 0; k < EMO_NUM_CLASSES; k++)
			put(d, w, 1, x + k * (c.bar_w + 1), c.bar_w, A_BOLD | class_attr(d, k),
			    class_label_fit(k, c.bar_w), LAYOUT_LEFT);
	} else {
		char legend[32];

		snprintf(legend, sizeof legend, "MIX %s", "ADFHSUN");
		put(d, w, 1, x, c.bars, A_BOLD, legend, LAYOUT_LEFT);
	}
	x += c.bars + 1;
	/* the column the rows are sorted by in reverse video, as htop does */
	put(d, w, 1, x, c.dom, A_BOLD | (d->sort == DASHBOARD_SORT_EMOTION ? A_REVERSE : 0), "MOOD",
	    LAYOUT_LEFT);
	x += c.dom + 1;
	if (c.neg) {
		put(d, w, 1, x, c.neg, A_BOLD | (d->sort == DASHBOARD_SORT_NEGATIVE ? A_REVERSE : 0),
		    "NEG", LAYOUT_RIGHT);
		x += c.neg + 1;
	}
	put(d, w, 1, x, c.seen, A_BOLD | (d->sort == DASHBOARD_SORT_SEEN ? A_REVERSE : 0), "SEEN",
	    LAYOUT_RIGHT);

	if (d->have_snap && d->n_rows == 0) {
		put(d, w, 2, 1, cols - 2, A_DIM,
		    d->filter[0] ? "no student matches the filter" : "no faces yet", LAYOUT_LEFT);
		return;
	}
	for (int r = 0; r < vis && d->scroll + r < d->n_rows; r++) {
		const struct summary_student *st = &s->students[d->rows[d->scroll + r]];
		attr_t dim = st->present ? 0 : A_DIM;
		/* the selected row's name in reverse video (Enter: its detail view) */
		attr_t selv = d->scroll + r == d->sel ? A_REVERSE : 0;
		int y = 2 + r;

		x = 1;
		put(d, w, y, x, c.name, A_BOLD | dim | selv,
		    dashboard_model_student_name(st, nb, sizeof nb), LAYOUT_LEFT);
		x += c.name + 1;
		if (c.bar_w)
			draw_probs_seven(d, w, y, x, &c, st->probs, dim);
		else
			draw_probs_stacked(d, w, y, x, c.bars, st->probs, dim);
		x += c.bars + 1;
		if (dashboard_model_informative(st->probs)) {
			snprintf(b, sizeof b, "%-8s %3.0f%%", class_label(st->dominant),
				 100.0 * st->confidence);
			put(d, w, y, x, c.dom, A_BOLD | class_attr(d, st->dominant) | dim, b,
			    LAYOUT_LEFT);
		} else {
			put(d, w, y, x, c.dom, dim, "-", LAYOUT_LEFT);
		}
		x += c.dom + 1;
		if (c.neg) {
			/* the student's negative share: angry, disgust, fear, sad */
			if (dashboard_model_informative(st->probs))
				snprintf(b, sizeof b, "%3.0f%%", 100.0 * st->negative);
			else
				snprintf(b, sizeof b, "-");
			put(d, w, y, x, c.neg, dim, b, LAYOUT_RIGHT);
			x += c.neg + 1;
		}
		if (st->present)
			snprintf(b, sizeof b, "now");
		else
			layout_age(b, sizeof b, s->time - st->last_seen);
		put(d, w, y, x, c.seen, dim, b, LAYOUT_RIGHT);
	}
}

/* The selected student: now, and a timeline of each class's share over
 * the session (one cell a bucket, the newest at the right) with the
 * dominant class of each bucket below (its letter in the class colour). */
static void draw_detail(struct dashboard *d, WINDOW *w)
{
	const struct summary *s = d->snap;
	const struct summary_student *st = NULL;
	const struct hist *h = d->sel_id >= 0 ? dashboard_model_hist_find(d, d->sel_id) : NULL;
	int rows = getmaxy(w), cols = getmaxx(w), x, y = 1, tw, first;
	char b[512], nb[16], span[32];
	float v[HIST_MAX];

	for (int i = 0; d->have_snap && i < s->n_students && i < SUMMARY_MAX_STUDENTS; i++)
		if (s->students[i].id == d->sel_id)
			st = &s->students[i];
	if (st)
		snprintf(b, sizeof b, " STUDENT %s  (track #%d)  Esc back",
			 dashboard_model_student_name(st, nb, sizeof nb), st->id);
	else
		snprintf(b, sizeof b, " STUDENT #%d  Esc back", d->sel_id);
	title_bar(d, w, 0, b);
	if (!st) {
		put(d, w, y, 1, cols - 2, A_DIM, "no longer tracked", LAYOUT_LEFT);
		y++;
	} else {
		char age[16];

		if (st->present)
			snprintf(age, sizeof age, "now");
		else
			layout_age(age, sizeof age, s->time - st->last_seen);
		x = put_seg(d, w, y, 1, cols, pair_attr(d, PAIR_LABEL), "mood ");
		if (dashboard_model_informative(st->probs)) {
			snprintf(b, sizeof b, "%s %.0f%%", class_label(st->dominant), 100.0 * st->confidence);
			x = put_seg(d, w, y, x, cols, A_BOLD | class_attr(d, st->dominant), b);
			x = put_seg(d, w, y, x, cols, pair_attr(d, PAIR_LABEL), "  NEG ");
			snprintf(b, sizeof b, "%.0f%%", 100.0 * st->negative);
			x = put_seg(d, w, y, x, cols, A_BOLD, b);
		} else {
			x = put_seg(d, w, y, x, cols, A_BOLD, "-");
		}
		x = put_seg(d, w, y, x, cols, pair_attr(d, PAIR_LABEL), "  seen ");
		x = put_seg(d, w, y, x, cols, A_BOLD, age);
		x = put_seg(d, w, y, x, cols, pair_attr(d, PAIR_LABEL), "  tracked for ");
		layout_uptime(b, sizeof b, s->time - st->first_seen);
		put_seg(d, w, y, x, cols, A_BOLD, b);
		y++;
	}
	/* "angry     " sparkline " 42%" */
	tw = cols - 1 - 10 - 5;
	if (tw < 1 || y >= rows)
		return;
	if (h && h->n) {
		double sec = h->bucket_s * h->n;

		if (sec >= 120)
			snprintf(span, sizeof span, "%.0fm", sec / 60);
		else
			snprintf(span, sizeof span, "%.0fs", sec);
		snprintf(b, sizeof b, "timeline: %s of the session, %gs a cell, newest at the right", span,
			 h->bucket_s);
	} else {
		snprintf(b, sizeof b, "timeline: nothing yet");
	}
	put(d, w, y++, 1, cols - 2, A_DIM, b, LAYOUT_LEFT);
	first = h && h->n > tw ? h->n - tw : 0;
	for (int k = 0; k < EMO_NUM_CLASSES && y < rows; k++, y++) {
		int n = 0;

		for (int i = first; h && i < h->n; i++)
			v[n++] = h->cnt[i] ? h->sum[i][k] / (float)h->cnt[i] : NAN;
		put(d, w, y, 1, 9, class_attr(d, k), class_label(k), LAYOUT_LEFT);
		if (n && d->line) {
			layout_sparkline(d->line, d->line_cap, v, n, tw, 0, 1, d->utf8);
			wattrset(w, class_attr(d, k));
			mvwaddstr(w, y, 11, d->line);
			wattrset(w, A_NORMAL);
		}
		if (st && dashboard_model_informative(st->probs)) {
			snprintf(b, sizeof b, "%3.0f%%", 100.0 * st->probs[k]);
			put(d, w, y, cols - 5, 4, class_attr(d, k), b, LAYOUT_RIGHT);
		}
	}
	/* the dominant class of each bucket, as its letter */
	if (y < rows && h) {
		put(d, w, y, 1, 9, pair_attr(d, PAIR_LABEL), "mood", LAYOUT_LEFT);
		x = 11 + tw - (h->n - first);
		for (int i = first; i < h->n; i++, x++) {
			int dom = -1;
			char ch[2] = {' ', 0};

			for (int k = 0; h->cnt[i] && k < EMO_NUM_CLASSES; k++)
				if (dom < 0 || h->sum[i][k] > h->sum[i][dom])
					dom = k;
			if (dom >= 0)
				ch[0] = class_letter(dom);
			put(d, w, y, x, 1, A_BOLD | class_attr(d, dom), ch, LAYOUT_LEFT);
		}
	}
}

static void draw_class(struct dashboard *d, WINDOW *w)
{
	const struct summary *s = d->snap;
	int cols = getmaxx(w), bw;
	char b[256];

	if (d->have_snap)
		snprintf(b, sizeof b, " CLASS  window %.0fs  (%.0fs, %d frames)", s->window,
			 s->window_span, s->window_frames);
	else
		snprintf(b, sizeof b, " CLASS");
	title_bar(d, w, 0, b);
	/* " label    bar  100%" */
	bw = cols - 1 - 9 - 1 - 5;
	for (int k = 0; k < EMO_NUM_CLASSES && 1 + k < getmaxy(w); k++) {
		int dom = d->have_snap && s->dominant == k && dashboard_model_informative(s->mean);
		float v = d->have_snap ? s->mean[k] : 0;

		put(d, w, 1 + k, 1, 9, (dom ? A_BOLD : 0) | class_attr(d, k), class_label(k),
		    LAYOUT_LEFT);
		if (bw > 0 && d->line) {
			layout_bar(d->line, d->line_cap, v, bw, d->utf8, ' ');
			wattrset(w, class_attr(d, k) | (dom ? A_BOLD : 0));
			mvwaddstr(w, 1 + k, 11, d->line);
			wattrset(w, A_NORMAL);
		}
		snprintf(b, sizeof b, "%3.0f%%", 100.0 * v);
		put(d, w, 1 + k, cols - 5, 5, dom ? A_BOLD : 0, b, LAYOUT_RIGHT);
	}
}

/* Mood of a bucket on a -1..1 scale: its valence. NaN when the bucket has
 * no frame (a gap). */
static float bucket_mood(const struct summary_point *p)
{
	if (p->frames <= 0 || p->faces <= 0)
		return NAN;
	return p->valence;
}

static void draw_spark(struct dashboard *d, WINDOW *w, int y, int x, int width)
{
	const struct summary *s = d->snap;
	float v[SUMMARY_SPARK_MAX];
	int n = d->have_snap ? s->n_buckets : 0, first, i, cx;
	char b[1024];

	if (width <= 0)
		return;
	if (n > SUMMARY_SPARK_MAX)
		n = SUMMARY_SPARK_MAX;
	for (i = 0; i < n; i++)
		v[i] = bucket_mood(&s->buckets[i]);
	first = n > width ? n - width : 0;
	/* one cell at a time so each takes its bucket's dominant colour */
	cx = x + width - (n - first);
	for (i = first; i < n; i++, cx++) {
		layout_sparkline(b, sizeof b, &v[i], 1, 1, -1, 1, d->utf8);
		wattrset(w, class_attr(d, s->buckets[i].dominant));
		mvwaddstr(w, y, cx, b);
	}
	wattrset(w, A_NORMAL);
}

static void draw_mood(struct dashboard *d, WINDOW *w)
{
	const struct summary *s = d->snap;
	int rows = getmaxy(w), cols = getmaxx(w), x, y;
	char b[256];
	int dom = d->have_snap && dashboard_model_informative(s->mean) ? s->dominant : -1;

	/* title: mood and negative share */
	if (dom >= 0) {
		/* the valence when there is room for it */
		snprintf(b, sizeof b, " MOOD %s %.0f%%  negative %.0f%%  valence %+.2f", class_label(dom),
			 100.0 * s->confidence, 100.0 * s->negative, s->valence);
		if (layout_str_width(b) > cols)
			snprintf(b, sizeof b, " MOOD %s %.0f%%  negative %.0f%%", class_label(dom),
				 100.0 * s->confidence, 100.0 * s->negative);
	} else
		snprintf(b, sizeof b, " MOOD -  negative -");
	title_bar(d, w, 0, b);
	y = 1;
	if (rows >= 5) {
		/* roomy: one fact per line */
		x = put_seg(d, w, y, 1, cols, pair_attr(d, PAIR_LABEL), "mood      ");
		put_seg(d, w, y++, x, cols, A_BOLD | class_attr(d, dom), dom >= 0 ? class_label(dom) : "-");
		x = put_seg(d, w, y, 1, cols, pair_attr(d, PAIR_LABEL), "negative  ");
		if (cols - x - 6 > 0 && d->line) {
			layout_bar(d->line, d->line_cap, d->have_snap ? s->negative : 0, cols - x - 6,
				   d->utf8, ' ');
			wattrset(w, pair_attr(d, PAIR_ALERT));
			mvwaddstr(w, y, x, d->line);
			wattrset(w, A_NORMAL);
			snprintf(b, sizeof b, "%4.0f%%", d->have_snap ? 100.0 * s->negative : 0.0);
			put(d, w, y, cols - 5, 5, A_BOLD, b, LAYOUT_RIGHT);
		}
		y++;
		x = put_seg(d, w, y, 1, cols, pair_attr(d, PAIR_LABEL), "faces     ");
		snprintf(b, sizeof b, "%d now, %.1f mean", d->have_snap ? s->faces : 0,
			 d->have_snap ? s->mean_faces : 0.0);
		put_seg(d, w, y++, x, cols, A_BOLD, b);
		x = put_seg(d, w, y, 1, cols, pair_attr(d, PAIR_LABEL), "alerts    ");
		snprintf(b, sizeof b, "%lld", d->have_snap ? s->alerts_total : 0LL);
		put_seg(d, w, y++, x, cols, A_BOLD, b);
	}
	if (y < rows) {
		/* "timeline " then the sparkline, last bucket at the right */
		int span = d->have_snap ? (int)(s->bucket_s * s->n_buckets) : 0;
		char lab[32];

		if (span >= 120)
			snprintf(lab, sizeof lab, "%dm ", span / 60);
		else
			snprintf(lab, sizeof lab, "%ds ", span);
		x = put_seg(d, w, y, 1, cols, pair_attr(d, PAIR_LABEL), "timeline ");
		x = put_seg(d, w, y, x, cols, A_DIM, lab);
		draw_spark(d, w, y, x, cols - x - 1);
	}
}

static void draw_alerts(struct dashboard *d, WINDOW *w)
{
	const struct summary *s = d->snap;
	int rows = getmaxy(w), cols = getmaxx(w);
	char b[512], tb[32];

	snprintf(b, sizeof b, " ALERTS %lld", d->have_snap ? s->alerts_total : 0LL);
	title_bar(d, w, 0, b);
	if (!d->have_snap || s->n_alerts == 0) {
		if (rows > 1)
			put(d, w, 1, 1, cols - 1, A_DIM, "no alerts", LAYOUT_LEFT);
		return;
	}
	/* newest first */
	for (int r = 1, i = s->n_alerts - 1; r < rows && i >= 0; r++, i--) {
		const struct summary_alert *a = &s->alerts[i];
		int x;

		layout_clock(tb, sizeof tb, d->snap_wall - (s->time - a->time));
		x = put_seg(d, w, r, 1, cols, pair_attr(d, PAIR_LABEL), tb);
		x = put_seg(d, w, r, x, cols, A_NORMAL, "  ");
		x = put_seg(d, w, r, x, cols, A_BOLD | pair_attr(d, PAIR_ALERT), a->rule);
		snprintf(b, sizeof b, "  %.2f for %.0fs", a->value, a->time - a->since);
		put_seg(d, w, r, x, cols, A_NORMAL, b);
	}
}

static void draw_footer(struct dashboard *d, WINDOW *w)
{
	static const char *const keys[][2] = {
		{"q", "quit"}, {"p", "pause"}, {"s", "sort"}, {"/", "filter"},
		{"r", "reset"}, {"v", "view"}, {"f", "frame"}, {"h", "help"},
	};
	int cols = getmaxx(w), x = 0;
	char b[256];

	if (d->editing) {
		x = put_seg(d, w, 0, 0, cols, A_BOLD, "filter: ");
		x = put_seg(d, w, 0, x, cols, A_NORMAL, d->edit);
		x = put_seg(d, w, 0, x, cols, A_REVERSE, " ");
		put_seg(d, w, 0, x, cols, A_DIM, "   Enter apply  Esc cancel");
		return;
	}
	if (d->msg[0] && dashboard_mono_now() < d->msg_until) {
		/* the message takes the line; help stays reachable at the right */
		int hw = cols >= 30 ? 8 : 0;

		put(d, w, 0, 0, cols - hw - (hw ? 1 : 0), A_BOLD, d->msg, LAYOUT_LEFT);
		if (hw) {
			x = put_seg(d, w, 0, cols - hw, cols, A_BOLD | A_REVERSE | pair_attr(d, PAIR_KEY), "h");
			put_seg(d, w, 0, x, cols, A_NORMAL, " help");
		}
		return;
	}
	if (d->detail) {
		static const char *const dkeys[][2] = {
			{"Esc", "back"}, {"Up/Down", "other student"}, {"p", "pause"}, {"h", "help"},
		};

		for (size_t i = 0; i < sizeof dkeys / sizeof dkeys[0]; i++) {
			snprintf(b, sizeof b, " %s  ", dkeys[i][1]);
			x = put_seg(d, w, 0, x, cols, A_BOLD | A_REVERSE | pair_attr(d, PAIR_KEY), dkeys[i][0]);
			x = put_seg(d, w, 0, x, cols, A_NORMAL, b);
		}
		return;
	}
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const char *label = keys[i][1];

		if (!strcmp(keys[i][0], "p") && d->paused)
			label = "resume";
		snprintf(b, sizeof b, " %s  ", label);
		x = put_seg(d, w, 0, x, cols, A_BOLD | A_REVERSE | pair_attr(d, PAIR_KEY), keys[i][0]);
		x = put_seg(d, w, 0, x, cols, A_NORMAL, b);
	}
}

static void draw_help(struct dashboard *d)
{
	WINDOW *w = d->help_win;
	int h, wd;

	if (!w)
		return;
	getmaxyx(w, h, wd);
	werase(w); /* also marks it changed: it goes over the panels every frame */
	if (d->utf8)
		box(w, 0, 0);
	else
		wborder(w, '|', '|', '-', '-', '+', '+', '+', '+');
	for (int i = 0; i < dashboard_help_lines && i + 1 < h - 1; i++)
		put(d, w, i + 1, 2, wd - 4, i == 0 ? A_BOLD : A_NORMAL, dashboard_help_text[i],
		    LAYOUT_LEFT);
	wnoutrefresh(w);
}

/* The curses pair of a palette foreground and background, made at first
 * use; 0 (the default colours) once the terminal's pairs run out. */
static short shade_pair(struct dashboard *d, short fg, short bg)
{
	short *p = &d->shade_pair[fg * 256 + bg];

	if (!*p && d->next_pair < COLOR_PAIRS && d->next_pair <= SHRT_MAX &&
	    init_pair((short)d->next_pair, fg, bg) == OK)
		*p = (short)d->next_pair++;
	return *p;
}

/* Row y of the picture at screen row sy, each cell in its two colours. */
static void put_shaded_row(struct dashboard *d, WINDOW *w, int sy, const wchar_t *txt, int n, int y)
{
	for (int x = 0; x < n; x++) {
		wchar_t c[2] = {txt[x], L'\0'};
		short fg, bg, pair = 0;
		cchar_t cc;

		if (!dashboard_chafa_cell_colors(d->chafa, x, y, &fg, &bg))
			pair = shade_pair(d, fg, bg);
		if (setcchar(&cc, c, A_NORMAL, pair, NULL) == OK)
			mvwadd_wch(w, sy, x, &cc);
	}
}

/* The preview pane: title, the frame's symbols on the left with each
 * face's "id label" on its box's top edge and each seat's name inside its
 * bottom edge, the legend (id, name -> label) on the right or below. */
static void draw_preview(struct dashboard *d, WINDOW *w)
{
	const struct dashboard_preview *p = d->pv;
	int rows = getmaxy(w), cols = getmaxx(w), ir, ic, lx, ly, lw;
	const wchar_t *txt;
	char b[256];

	werase(w);
	if (d->have_pv && p->w > 0)
		snprintf(b, sizeof b, " PREVIEW  frame %dx%d  faces %d  seats %d  (f: close)", p->frame_w,
			 p->frame_h, p->n_faces, p->n_regions);
	else
		snprintf(b, sizeof b, " PREVIEW  waiting for a frame  (f: close)");
	title_bar(d, w, 0, b);
	if (rows < 3 || cols < 10)
		return;
	/* the picture: the frame's aspect with cells twice as tall as wide,
	 * beside a legend of 28 columns when there is room, else above it */
	{
		double aspect = d->have_pv && p->w > 0 ? (double)p->w / p->h : 4.0 / 3.0;
		int side = cols >= 70;
		int maxc = side ? cols - 29 : cols, maxr = side ? rows - 1 : rows - 1 - 4;

		if (maxr < 2)
			maxr = rows - 1;
		ir = maxr;
		ic = (int)(ir * 2 * aspect + 0.5);
		if (ic > maxc) {
			ic = maxc;
			ir = (int)(ic / (2 * aspect) + 0.5);
		}
		if (ir < 1)
			ir = 1;
		if (ic < 1)
			ic = 1;
		lx = side ? ic + 1 : 0;
		ly = side ? 1 : 1 + ir;
		lw = cols - lx;
	}
	txt = d->have_pv ? dashboard_chafa_render(d->chafa, p, ic, ir) : NULL;
	if (txt) {
		for (int y = 0; y < ir; y++)
			if (d->shade_pair)
				put_shaded_row(d, w, 1 + y, txt + (size_t)y * (ic + 1), ic, y);
			else
				mvwaddnwstr(w, 1 + y, 0, txt + (size_t)y * (ic + 1), ic);
		/* seat names first: the faces' labels go over them */
		for (int i = 0; i < p->n_regions; i++) {
			const struct dashboard_preview_box *r = &p->regions[i];
			int cx = (int)((long long)r->x * ic / p->w) + 1;
			int cy = (int)((long long)(r->y + r->h) * ir / p->h) - 1;

			if (!r->name[0] || cy < 0 || cy >= ir || cx >= ic)
				continue;
			put(d, w, 1 + cy, cx, ic - cx, A_DIM, r->name, LAYOUT_LEFT);
		}
		for (int i = 0; i < p->n_faces; i++) {
			const struct dashboard_preview_box *f = &p->faces[i];
			int cx = (int)((long long)f->x * ic / p->w);
			int cy = (int)((long long)f->y * ir / p->h);
			char id[16];

			if (cy < 0 || cy >= ir || cx >= ic)
				continue;
			if (f->id >= 0)
				snprintf(id, sizeof id, "%d", f->id);
			else
				snprintf(id, sizeof id, "?");
			snprintf(b, sizeof b, "%s %s", id, f->cls >= 0 ? class_label(f->cls) : "face");
			put(d, w, 1 + cy, cx, layout_str_width(b) < ic - cx ? layout_str_width(b) : ic - cx,
			    A_BOLD | A_REVERSE | class_attr(d, f->cls), b, LAYOUT_LEFT);
		}
	} else if (!d->have_pv) {
		put(d, w, 1 + ir / 2, 2, ic - 2, A_DIM, "waiting for a frame", LAYOUT_LEFT);
	}
	/* the legend: who is who */
	if (lw < 8 || ly >= rows)
		return;
	put(d, w, ly, lx, lw, A_BOLD, "ID   NAME        LABEL", LAYOUT_LEFT);
	for (int i = 0; d->have_pv && i < p->n_faces && ly + 1 + i < rows; i++) {
		const struct dashboard_preview_box *f = &p->faces[i];
		char id[16];
		int x;

		if (f->id >= 0)
			snprintf(id, sizeof id, "#%d", f->id);
		else
			snprintf(id, sizeof id, "-");
		snprintf(b, sizeof b, "%-4s %-11.11s ", id, f->name[0] ? f->name : "-");
		x = put_seg(d, w, ly + 1 + i, lx, cols, A_NORMAL, b);
		put_seg(d, w, ly + 1 + i, x, cols, class_attr(d, f->cls),
			f->cls >= 0 ? class_label(f->cls) : "(faces only)");
	}
	if (d->have_pv && !p->n_faces && ly + 1 < rows)
		put(d, w, ly + 1, lx, lw, A_DIM, "no face in this frame", LAYOUT_LEFT);
}

/* ---- the frame ---- */

void dashboard_panels_paint(struct dashboard *d)
{
	d->last_paint = dashboard_mono_now();
	d->dirty = 0;
	werase(stdscr);
	if (d->ls.too_small) {
		char b[96];

		int y = d->lines > 2 ? d->lines / 2 - 1 : 0;

		/* short lines: this must fit the smallest terminals */
		snprintf(b, sizeof b, "too small: %dx%d", d->cols, d->lines);
		put(d, stdscr, y, 0, d->cols, A_BOLD, b, LAYOUT_LEFT);
		snprintf(b, sizeof b, "need %dx%d, q quits", LAYOUT_MIN_COLS, LAYOUT_MIN_LINES);
		if (y + 1 < d->lines)
			put(d, stdscr, y + 1, 0, d->cols, A_NORMAL, b, LAYOUT_LEFT);
		wnoutrefresh(stdscr);
		doupdate();
		return;
	}
	wnoutrefresh(stdscr);
	for (int i = 0; i < W_COUNT; i++)
		if (d->win[i])
			werase(d->win[i]);
	if (d->win[W_HEADER])
		draw_header(d, d->win[W_HEADER]);
	if (d->preview && d->preview_win) {
		draw_preview(d, d->preview_win);
		if (d->win[W_FOOTER])
			draw_footer(d, d->win[W_FOOTER]);
		if (d->win[W_HEADER])
			wnoutrefresh(d->win[W_HEADER]);
		wnoutrefresh(d->preview_win);
		if (d->win[W_FOOTER])
			wnoutrefresh(d->win[W_FOOTER]);
		if (d->help)
			draw_help(d);
		doupdate();
		return;
	}
	if (d->win[W_STUDENTS]) {
		if (d->detail) {
			dashboard_model_build_rows(d); /* the selection on this snapshot */
			draw_detail(d, d->win[W_STUDENTS]);
		} else {
			draw_students(d, d->win[W_STUDENTS]);
		}
	}
	if (d->win[W_CLS])
		draw_class(d, d->win[W_CLS]);
	if (d->win[W_MOOD])
		draw_mood(d, d->win[W_MOOD]);
	if (d->win[W_ALERTS])
		draw_alerts(d, d->win[W_ALERTS]);
	if (d->win[W_FOOTER])
		draw_footer(d, d->win[W_FOOTER]);
	for (int i = 0; i < W_COUNT; i++)
		if (d->win[i])
			wnoutrefresh(d->win[i]);
	if (d->help)
		draw_help(d);
	doupdate();
}

