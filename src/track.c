/* track.c - box association (greedy IoU), stable ids, seat/name map, EMA. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "emotop/track.h"
#include "sort.h"

struct seat {
	char name[TRACK_NAME_MAX];
	struct emo_box box;
	int holder;               /* id of the live track holding it, 0 when free */
};

struct tracker {
	float iou_threshold;
	double ttl;
	double half_life;
	int max_tracks;
	int n_seats;              /* fixed seats */
	int grid_rows, grid_cols;
	struct seat seats[TRACK_MAX_SEATS]; /* fixed seats, then grid cells */
	int next_id;
	int have_time;
	double last_now;
	int n;
	struct track tracks[TRACK_MAX];
	/* Scratch for one update. */
	struct pair {
		float iou;
		short ti, oj;
	} pairs[TRACK_MAX * 64];
	int obs_track[TRACK_MAX * 4];
};

/* Observations considered per update (the rest are ignored, ids[j] = -1). */
#define TRACK_MAX_OBS (TRACK_MAX * 4)
#define TRACK_MAX_PAIRS (TRACK_MAX * 64)

void track_opts_default(struct track_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->iou_threshold = 0.3f;
	o->ttl = 2.0;
	o->half_life = 1.0;
	o->max_tracks = TRACK_MAX;
}

static int copy_name(char *dst, const char *src)
{
	size_t len = src ? strlen(src) : 0;

	if (len >= TRACK_NAME_MAX)
		return -1;
	if (len)
		memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

static int box_ok(const struct emo_box *b)
{
	return isfinite(b->x) && isfinite(b->y) && isfinite(b->w) && isfinite(b->h) && b->w > 0 &&
	       b->h > 0;
}

/* A seat's box: finite, and empty at worst (a seat clipped away by a
 * smaller frame holds nobody, but is no error). */
static int seat_box_ok(const struct emo_box *b)
{
	return isfinite(b->x) && isfinite(b->y) && isfinite(b->w) && isfinite(b->h) && b->w >= 0 &&
	       b->h >= 0;
}

struct tracker *track_new(const struct track_opts *o, struct emo_err *err)
{
	struct track_opts def;
	struct tracker *t;
	int cells;

	if (!o) {
		track_opts_default(&def);
		o = &def;
	}
	if (!(o->iou_threshold >= 0.0f && o->iou_threshold <= 1.0f)) {
		emo_seterr(err, EMO_EINVAL, NULL, 0, 0, "track: iou threshold %g outside 0..1",
			   (double)o->iou_threshold);
		return NULL;
	}
	if (!(o->ttl > 0) || !isfinite(o->ttl) || isnan(o->half_life)) {
		emo_seterr(err, EMO_EINVAL, NULL, 0, 0, "track: ttl must be > 0 and finite");
		return NULL;
	}
	if (o->max_tracks < 1 || o->max_tracks > TRACK_MAX) {
		emo_seterr(err, EMO_EINVAL, NULL, 0, 0, "track: max_tracks %d outside 1..%d",
			   o->max_tracks, TRACK_MAX);
		return NULL;
	}
	if (o->n_seats < 0 || (o->n_seats > 0 && !o->seats) || o->grid_rows < 0 || o->grid_cols < 0 ||
	    (o->grid_rows > 0) != (o->grid_cols > 0) || o->n_grid_names < 0 ||
	    (o->n_grid_names > 0 && !o->grid_names)) {
		emo_seterr(err, EMO_EINVAL, NULL, 0, 0, "track: bad seat or grid options");
		return NULL;
	}
	cells = o->grid_rows > 0 ? o->grid_rows * o->grid_cols : 0;
	if (o->grid_rows > TRACK_MAX_SEATS || o->grid_cols > TRACK_MAX_SEATS ||
	    o->n_seats + cells > TRACK_MAX_SEATS) {
		emo_seterr(err, EMO_EINVAL, NULL, 0, 0, "track: %d seats and %d grid cells, at most %d",
			   o->n_seats, cells, TRACK_MAX_SEATS);
		return NULL;
	}
	if (o->n_grid_names > cells) {
		emo_seterr(err, EMO_EINVAL, NULL, 0, 0, "track: %d gallery names for %d cells",
			   o->n_grid_names, cells);
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		emo_seterr(err, EMO_ENOMEM, NULL, 0, 0, "track: out of memory");
		return NULL;
	}
	t->iou_threshold = o->iou_threshold;
	t->ttl = o->ttl;
	t->half_life = o->half_life;
	t->max_tracks = o->max_tracks;
	t->n_seats = o->n_seats;
	t->grid_rows = o->grid_rows;
	t->grid_cols = o->grid_cols;
	t->next_id = 1;
	for (int i = 0; i < o->n_seats; i++) {
		if (!seat_box_ok(&o->seats[i].box)) {
			emo_seterr(err, EMO_EINVAL, NULL, 0, 0, "track: seat %d has a bad box", i + 1);
			goto fail;
		}
		if (copy_name(t->seats[i].name, o->seats[i].name)) {
			emo_seterr(err, EMO_EINVAL, NULL, 0, 0, "track: seat %d name longer than %d bytes",
				   i + 1, TRACK_NAME_MAX - 1);
			goto fail;
		}
		t->seats[i].box = o->seats[i].box;
	}
	for (int i = 0; i < o->n_grid_names; i++)
		if (copy_name(t->seats[o->n_seats + i].name, o->grid_names[i])) {
			emo_seterr(err, EMO_EINVAL, NULL, 0, 0,
				   "track: gallery name %d longer than %d bytes", i + 1,
				   TRACK_NAME_MAX - 1);
			goto fail;
		}
	return t;
fail:
	free(t);
	return NULL;
}

void track_free(struct tracker *t)
{
	free(t);
}

static float iou(const struct emo_box *a, const struct emo_box *b)
{
	float x0 = fmaxf(a->x, b->x), y0 = fmaxf(a->y, b->y);
	float x1 = fminf(a->x + a->w, b->x + b->w), y1 = fminf(a->y + a->h, b->y + b->h);
	float inter, uni;

	if (!(a->w > 0 && a->h > 0 && b->w > 0 && b->h > 0) || x1 <= x0 || y1 <= y0)
		return 0.0f;
	inter = (x1 - x0) * (y1 - y0);
	uni = a->w * a->h + b->w * b->h - inter;
	return uni > 0 ? inter / uni : 0.0f;
}

static int point_in(const struct emo_box *b, float x, float y)
{
	return x >= b->x && x < b->x + b->w && y >= b->y && y < b->y + b->h;
}

/* Seat index of a point, or -1; fixed seats first, then the grid. */
static int seat_index(const struct tracker *t, float x, float y, int fw, int fh)
{
	for (int i = 0; i < t->n_seats; i++)
		if (point_in(&t->seats[i].box, x, y))
			return i;
	if (t->grid_rows > 0 && fw > 0 && fh > 0 && x >= 0 && y >= 0 && x < fw && y < fh) {
		int c = (int)(x * t->grid_cols / fw), r = (int)(y * t->grid_rows / fh);

		if (c >= t->grid_cols)
			c = t->grid_cols - 1;
		if (r >= t->grid_rows)
			r = t->grid_rows - 1;
		return t->n_seats + r * t->grid_cols + c;
	}
	return -1;
}

int track_seat_at(const struct tracker *t, float x, float y, int frame_w, int frame_h, char *name)
{
	int s = t ? seat_index(t, x, y, frame_w, frame_h) : -1;

	if (name)
		strcpy(name, s >= 0 ? t->seats[s].name : "");
	return s;
}

/* Probabilities with NaN/negative entries as 0, renormalised; uniform when
 * nothing is left. */
static void sanitise(const float in[EMO_NUM_CLASSES], float out[EMO_NUM_CLASSES])
{
	float sum = 0.0f;

	for (int k = 0; k < EMO_NUM_CLASSES; k++) {
		out[k] = isfinite(in[k]) && in[k] > 0.0f ? in[k] : 0.0f;
		sum += out[k];
	}
	for (int k = 0; k < EMO_NUM_CLASSES; k++)
		out[k] = sum > 0.0f ? out[k] / sum : 1.0f / EMO_NUM_CLASSES;
}

static void set_dominant(struct track *tr)
{
	int best = 0;

	for (int k = 1; k < EMO_NUM_CLASSES; k++)
		if (tr->probs[k] > tr->probs[best])
			best = k;
	tr->dominant = best;
	tr->confidence = tr->probs[best];
}

/* Does pair a come before b: higher IoU first, then the older track, then
 * the first face. */
static int pair_before(const void *a, const void *b)
{
	const struct pair *p = a, *q = b;

	if (p->iou != q->iou)
		return p->iou > q->iou;
	if (p->ti != q->ti)
		return p->ti < q->ti;
	return p->oj < q->oj;
}

/* After the greedy pass: a track i and a face j left apart, where a matched
 * pair (i2, j2) could give way (i takes j2 and i2 takes j, both candidate
 * pairs): swap, one more match each time (two faces leaning the same way
 * lost one identity to the other: the best IoU, the second track with the
 * first face, went first). */
static void augment(const struct pair *pairs, int n_pairs, unsigned char *matched, int *ot)
{
	int more = 1;

	while (more) {
		more = 0;
		for (int p = 0; p < n_pairs && !more; p++) {
			int i = pairs[p].ti, j2 = pairs[p].oj, i2 = ot[j2];

			if (matched[i] || i2 < 0)
				continue;
			for (int q = 0; q < n_pairs; q++)
				if (pairs[q].ti == i2 && ot[pairs[q].oj] == -1) {
					ot[pairs[q].oj] = i2;
					ot[j2] = i;
					matched[i] = 1;
					more = 1;
					break;
				}
		}
	}
}

static void observe(struct tracker *t, struct track *tr, double now, const struct track_obs *o)
{
	float p[EMO_NUM_CLASSES];
	double dt = now - tr->last_seen;

	sanitise(o->probs, p);
	if (dt > 0) {
		float cx0 = tr->box.x + tr->box.w / 2, cy0 = tr->box.y + tr->box.h / 2;
		float cx1 = o->box.x + o->box.w / 2, cy1 = o->box.y + o->box.h / 2;
		float vx = (float)((cx1 - cx0) / dt), vy = (float)((cy1 - cy0) / dt);

		/* Light smoothing; the first step sets it. */
		tr->vx = tr->hits > 1 ? 0.5f * tr->vx + 0.5f * vx : vx;
		tr->vy = tr->hits > 1 ? 0.5f * tr->vy + 0.5f * vy : vy;
	}
	tr->box = o->box;
	memcpy(tr->raw, p, sizeof(p));
	if (t->half_life > 0 && dt >= 0) {
		float a = (float)(1.0 - pow(0.5, dt / t->half_life));

		for (int k = 0; k < EMO_NUM_CLASSES; k++)
			tr->probs[k] += a * (p[k] - tr->probs[k]);
	} else {
		memcpy(tr->probs, p, sizeof(p));
	}
	set_dominant(tr);
	tr->last_seen = now;
	tr->present = 1;
	tr->hits++;
}

static void release_seat(struct tracker *t, struct track *tr)
{
	if (tr->seat >= 0 && t->seats[tr->seat].holder == tr->id)
		t->seats[tr->seat].holder = 0;
	tr->seat = -1;
	tr->name[0] = '\0';
}

static void take_seat(struct tracker *t, struct track *tr, int s)
{
	release_seat(t, tr);
	tr->seat = s;
	t->seats[s].holder = tr->id;
	memcpy(tr->name, t->seats[s].name, TRACK_NAME_MAX);
}

/* Seat holder's index in tracks[], or -1. */
static int holder_index(const struct tracker *t, int s)
{
	int id = t->seats[s].holder;

	for (int i = 0; id && i < t->n; i++)
		if (t->tracks[i].id == id)
			return i;
	return -1;
}

int track_update(struct tracker *t, double now, int frame_w, int frame_h,
		 const struct track_obs *obs, int n, int *ids)
{
	int *ot, n_pairs = 0, n_old, m;
	unsigned char matched[TRACK_MAX];

	if (!t || n < 0 || (n > 0 && !obs) || !isfinite(now))
		return EMO_EINVAL;
	if (t->have_time && now < t->last_now)
		now = t->last_now;
	t->have_time = 1;
	t->last_now = now;
	m = n < TRACK_MAX_OBS ? n : TRACK_MAX_OBS;
	ot = t->obs_track;

	/* 1. Drop tracks unseen for longer than ttl. */
	for (int i = 0; i < t->n;) {
		if (now - t->tracks[i].last_seen > t->ttl) {
			release_seat(t, &t->tracks[i]);
			memmove(&t->tracks[i], &t->tracks[i + 1], (size_t)(t->n - i - 1) * sizeof(t->tracks[0]));
			t->n--;
		} else {
			i++;
		}
	}
	n_old = t->n;

	/* 2. Candidate pairs: IoU with the predicted box (constant velocity)
	 * or with the last box, whichever is higher. */
	for (int j = 0; j < m; j++)
		ot[j] = box_ok(&obs[j].box) ? -1 : -2;
	for (int i = 0; i < n_old; i++) {
		const struct track *tr = &t->tracks[i];
		double dt = now - tr->last_seen;
		struct emo_box pred = tr->box;

		if (dt > t->ttl)
			dt = t->ttl;
		pred.x += (float)(tr->vx * dt);
		pred.y += (float)(tr->vy * dt);
		for (int j = 0; j < m && n_pairs < TRACK_MAX_PAIRS; j++) {
			float v;

			if (ot[j] == -2)
				continue;
			v = fmaxf(iou(&pred, &obs[j].box), iou(&tr->box, &obs[j].box));
			if (v >= t->iou_threshold && v > 0.0f) {
				t->pairs[n_pairs].iou = v;
				t->pairs[n_pairs].ti = (short)i;
				t->pairs[n_pairs].oj = (short)j;
				n_pairs++;
			}
		}
	}
	emo_sort(t->pairs, (size_t)n_pairs, sizeof(t->pairs[0]), pair_before); /* no allocation */

	/* 3. Greedy assignment, best IoU first. */
	memset(matched, 0, sizeof(matched));
	for (int p = 0; p < n_pairs; p++) {
		int i = t->pairs[p].ti, j = t->pairs[p].oj;

		if (matched[i] || ot[j] != -1)
			continue;
		matched[i] = 1;
		ot[j] = i;
	}
	augment(t->pairs, n_pairs, matched, ot);

	/* 4. Identity = seat: an unmatched face in a seat rejoins the unmatched
	 * live track holding that seat. */
	for (int j = 0; j < m; j++) {
		int s, h;

		if (ot[j] != -1)
			continue;
		s = seat_index(t, obs[j].box.x + obs[j].box.w / 2, obs[j].box.y + obs[j].box.h / 2,
			       frame_w, frame_h);
		if (s < 0)
			continue;
		h = holder_index(t, s);
		if (h >= 0 && h < n_old && !matched[h]) {
			matched[h] = 1;
			ot[j] = h;
		}
	}

	/* 5. Update matched tracks, mark the others absent. */
	for (int i = 0; i < n_old; i++)
		t->tracks[i].present = 0;
	for (int j = 0; j < m; j++)
		if (ot[j] >= 0)
			observe(t, &t->tracks[ot[j]], now, &obs[j]);

	/* 6. New tracks for the remaining faces. */
	for (int j = 0; j < m; j++) {
		struct track *tr;

		if (ot[j] != -1)
			continue;
		if (t->n >= t->max_tracks) {
			ot[j] = -2;
			continue;
		}
		tr = &t->tracks[t->n];
		memset(tr, 0, sizeof(*tr));
		tr->id = t->next_id++;
		tr->seat = -1;
		tr->first_seen = now;
		tr->last_seen = now;
		sanitise(obs[j].probs, tr->probs);
		observe(t, tr, now, &obs[j]); /* dt = 0: probs stay the observation */
		ot[j] = t->n++;
	}

	/* 7. Seats: a present track whose centre lies in a seat takes it if
	 * free, or if its holder is present with its centre elsewhere (the
	 * face in the seat has its name); a track keeps its seat while alive
	 * otherwise (absent, or its centre wandering off into no seat). */
	for (int i = 0; i < t->n; i++) {
		struct track *tr = &t->tracks[i];
		int s, h;

		if (!tr->present)
			continue;
		s = seat_index(t, tr->box.x + tr->box.w / 2, tr->box.y + tr->box.h / 2, frame_w,
			       frame_h);
		if (s < 0 || s == tr->seat)
			continue;
		h = holder_index(t, s);
		if (h >= 0 && t->tracks[h].present) {
			const struct track *o = &t->tracks[h];
			if (seat_index(t, o->box.x + o->box.w / 2, o->box.y + o->box.h / 2, frame_w,
				       frame_h) == s)
				continue;
			release_seat(t, &t->tracks[h]);
			h = -1;
		}
		if (h < 0)
			take_seat(t, tr, s);
	}

	if (ids) {
		for (int j = 0; j < n; j++)
			ids[j] = j < m && ot[j] >= 0 ? t->tracks[ot[j]].id : -1;
	}
	return t->n;
}

int track_count(const struct tracker *t)
{
	return t ? t->n : 0;
}

const struct track *track_at(const struct tracker *t, int i)
{
	return t && i >= 0 && i < t->n ? &t->tracks[i] : NULL;
}

const struct track *track_find(const struct tracker *t, int id)
{
	for (int i = 0; t && i < t->n; i++)
		if (t->tracks[i].id == id)
			return &t->tracks[i];
	return NULL;
}

int track_set_seats(struct tracker *t, const struct track_seat *seats, int n_seats)
{
	int cells;

	if (!t || n_seats < 0 || (n_seats > 0 && !seats))
		return EMO_EINVAL;
	cells = t->grid_rows * t->grid_cols;
	if (n_seats + cells > TRACK_MAX_SEATS)
		return EMO_EINVAL;
	for (int i = 0; i < n_seats; i++)
		if (!seat_box_ok(&seats[i].box) || (seats[i].name && strlen(seats[i].name) >= TRACK_NAME_MAX))
			return EMO_EINVAL;
	/* Grid cells move to their new place, then the seats are written. */
	memmove(&t->seats[n_seats], &t->seats[t->n_seats], (size_t)cells * sizeof(t->seats[0]));
	for (int i = 0; i < n_seats; i++) {
		copy_name(t->seats[i].name, seats[i].name);
		t->seats[i].box = seats[i].box;
	}
	for (int i = 0; i < TRACK_MAX_SEATS; i++) {
		t->seats[i].holder = 0;
		if (i >= n_seats + cells)
			memset(&t->seats[i], 0, sizeof(t->seats[i]));
	}
	t->n_seats = n_seats;
	for (int i = 0; i < t->n; i++) {
		t->tracks[i].seat = -1;
		t->tracks[i].name[0] = '\0';
	}
	return EMO_OK;
}

void track_reset(struct tracker *t)
{
	if (!t)
		return;
	for (int i = 0; i < TRACK_MAX_SEATS; i++)
		t->seats[i].holder = 0;
	t->n = 0;
}
