/* dashboard_model.c - what the dashboard shows, before any drawing: the
 * rows of the students list (the snapshot's students filtered by name,
 * sorted, one of them selected, the selection following its student from
 * snapshot to snapshot) and each student's timeline for the detail view
 * (buckets of class probabilities that merge in pairs when full). Fields of
 * struct dashboard only: no curses calls, no allocation.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "emotop/emotion.h"
#include "emotop/layout.h"
#include "emotop/summary.h"
#include "dashboard_int.h"

/* ---- rows: filter, sort, selection ---- */

/* Uniform probabilities (no classifier model: faces only) carry no mood. */
int dashboard_model_informative(const float *p)
{
	float lo = p[0], hi = p[0];

	for (int k = 1; k < EMO_NUM_CLASSES; k++) {
		lo = p[k] < lo ? p[k] : lo;
		hi = p[k] > hi ? p[k] : hi;
	}
	return hi - lo > 1e-3f;
}

const char *dashboard_model_student_name(const struct summary_student *st, char *buf, size_t cap)
{
	if (st->name[0])
		return st->name;
	snprintf(buf, cap, "#%d", st->id);
	return buf;
}

/* ASCII case-insensitive substring test (non-ASCII bytes must match). */
static int contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (!n)
		return 1;
	for (; *hay; hay++)
		if (!strncasecmp(hay, needle, n))
			return 1;
	return 0;
}

static int cmp_students(const struct dashboard *d, const struct summary_student *a,
			const struct summary_student *b)
{
	char ba[16], bb[16];
	int c;

	switch (d->sort) {
	case DASHBOARD_SORT_EMOTION:
		if (a->dominant != b->dominant)
			return a->dominant < b->dominant ? -1 : 1;
		if (a->confidence != b->confidence)
			return a->confidence > b->confidence ? -1 : 1;
		break;
	case DASHBOARD_SORT_NEGATIVE:
		if (a->negative != b->negative)
			return a->negative > b->negative ? -1 : 1;
		if (a->valence != b->valence) /* the least pleasant first */
			return a->valence < b->valence ? -1 : 1;
		break;
	case DASHBOARD_SORT_SEEN:
		if (a->last_seen != b->last_seen)
			return a->last_seen > b->last_seen ? -1 : 1;
		break;
	case DASHBOARD_SORT_NAME:
		break;
	}
	/* then by name, numbers by value (Seat 9 before Seat 10); unnamed
	 * tracks after named ones, by id (#9 before #10) */
	if (!!a->name[0] != !!b->name[0])
		return a->name[0] ? -1 : 1;
	if (a->name[0]) {
		c = layout_natcmp(dashboard_model_student_name(a, ba, sizeof ba),
				  dashboard_model_student_name(b, bb, sizeof bb));
		if (c)
			return c;
	}
	return a->id < b->id ? -1 : a->id > b->id;
}

/* Filter and sort the snapshot's students into d->rows (insertion sort:
 * stable, at most SUMMARY_MAX_STUDENTS). */
void dashboard_model_build_rows(struct dashboard *d)
{
	const struct summary *s = d->snap;
	char nb[16];
	int n = 0;

	for (int i = 0; d->have_snap && i < s->n_students && i < SUMMARY_MAX_STUDENTS; i++) {
		const struct summary_student *st = &s->students[i];

		if (d->filter[0] &&
		    !contains_ci(dashboard_model_student_name(st, nb, sizeof nb), d->filter))
			continue;
		int j = n++;
		while (j > 0 && cmp_students(d, st, &s->students[d->rows[j - 1]]) < 0) {
			d->rows[j] = d->rows[j - 1];
			j--;
		}
		d->rows[j] = i;
	}
	d->n_rows = n;
	/* the selection follows its student; gone (or none yet): same place */
	for (int r = 0; d->sel_id >= 0 && r < n; r++)
		if (s->students[d->rows[r]].id == d->sel_id) {
			d->sel = r;
			return;
		}
	if (d->sel >= n)
		d->sel = n - 1;
	if (d->sel < 0)
		d->sel = 0;
	d->sel_id = n ? s->students[d->rows[d->sel]].id : -1;
}

/* Move the selection by delta rows (clamped) on the current snapshot. */
void dashboard_model_move_sel(struct dashboard *d, int delta)
{
	dashboard_model_build_rows(d);
	if (!d->n_rows)
		return;
	d->sel += delta;
	if (d->sel >= d->n_rows)
		d->sel = d->n_rows - 1;
	if (d->sel < 0)
		d->sel = 0;
	d->sel_id = d->snap->students[d->rows[d->sel]].id;
}

/* Back to the top row (a new sort or filter). */
void dashboard_model_sel_top(struct dashboard *d)
{
	d->sel = 0;
	d->sel_id = -1;
	d->scroll = 0;
}

/* ---- timelines (the detail view) ---- */

struct hist *dashboard_model_hist_find(struct dashboard *d, int id)
{
	for (int i = 0; i < SUMMARY_MAX_STUDENTS; i++)
		if (d->hist[i].id == id)
			return &d->hist[i];
	return NULL;
}

/* Add each present student's probabilities of a new snapshot to its
 * timeline; a new track takes a free slot, or the one updated longest ago. */
void dashboard_model_hist_add(struct dashboard *d, const struct summary *s)
{
	if (s->seq == d->hist_seq)
		return;
	d->hist_seq = s->seq;
	for (int i = 0; i < s->n_students && i < SUMMARY_MAX_STUDENTS; i++) {
		const struct summary_student *st = &s->students[i];
		struct hist *h = dashboard_model_hist_find(d, st->id);
		double f;
		int b;

		if (!st->present || !dashboard_model_informative(st->probs))
			continue;
		if (!h) {
			h = &d->hist[0];
			for (int k = 1; k < SUMMARY_MAX_STUDENTS && h->id >= 0; k++)
				if (d->hist[k].id < 0 || d->hist[k].last < h->last)
					h = &d->hist[k];
			memset(h, 0, sizeof *h);
			h->id = st->id;
			h->t0 = st->first_seen < s->time ? st->first_seen : s->time;
			h->bucket_s = HIST_BUCKET_S;
		}
		h->last = s->time;
		f = s->time > h->t0 ? (s->time - h->t0) / h->bucket_s : 0; /* NaN: 0 */
		while (f >= HIST_MAX) {
			/* full: merge pairs, twice as long a bucket */
			for (int j = 0; j < HIST_MAX / 2; j++) {
				for (int k = 0; k < EMO_NUM_CLASSES; k++)
					h->sum[j][k] = h->sum[2 * j][k] + h->sum[2 * j + 1][k];
				h->cnt[j] = h->cnt[2 * j] + h->cnt[2 * j + 1];
			}
			memset(h->sum[HIST_MAX / 2], 0, sizeof h->sum[0] * (HIST_MAX / 2));
			memset(&h->cnt[HIST_MAX / 2], 0, sizeof h->cnt[0] * (HIST_MAX / 2));
			h->n = (h->n + 1) / 2;
			h->bucket_s *= 2;
			f /= 2;
		}
		b = (int)f;
		for (int k = 0; k < EMO_NUM_CLASSES; k++)
			h->sum[b][k] += st->probs[k];
		h->cnt[b]++;
		if (b + 1 > h->n)
			h->n = b + 1;
	}
}
