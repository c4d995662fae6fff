/* summary.c - per-frame class aggregates, rolling window, sparkline buckets,
 * alert rules, session totals and history -> immutable struct summary. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emotop/summary.h"

/* One analysed frame in the rolling window. */
struct frame {
	double t;
	int faces;
	int neg;                         /* faces confidently negative */
	float val;                       /* sum of the faces' valence */
	float mean[EMO_NUM_CLASSES];
};

/* Accumulator of a time span (bucket or history point): exact sums. */
struct acc {
	long long idx;                   /* slot index: t0 = start + idx * step */
	double t0;
	int frames;
	double faces;                    /* sum of faces */
	double neg, val;                 /* sums of negative faces and of valence */
	double sum[EMO_NUM_CLASSES];     /* sum of mean[k] * faces */
};

struct rule_state {
	struct summary_rule r;
	char name[SUMMARY_RULE_NAME_MAX];
	int holding;                     /* condition held at the last frame */
	double since;
	int fired;                       /* fired in this episode */
	long long total;                 /* alerts fired over the session */
};

/* Longest gap between two frames credited to the mood shares (pauses). */
#define SUMMARY_MAX_GAP SUMMARY_MAX_GAP_S

/* One student of the session (struct summary_attendee as it accumulates). */
struct attend {
	int id, seat;                    /* seat >= 0: the key is the seat, else id */
	char name[TRACK_NAME_MAX];
	double first_seen, last_seen;
	double present;
	long long frames;
	double mood_time[EMO_NUM_CLASSES];
	long long mood_frames[EMO_NUM_CLASSES];
	int prev_present;                /* present at the previous update */
	int prev_dominant;               /* its expression then */
};

struct summary_ctx {
	struct summary_opts o;
	int n_rules;
	struct rule_state rules[SUMMARY_MAX_RULES];
	struct rule_state down;          /* source_down (down.r.for_s > 0: on) */
	int src_state;                   /* enum summary_source_state */

	int started;
	double start, last;
	double last_dt;                  /* the interval before the last frame */
	unsigned long long seq;

	/* Window ring. */
	struct frame *win;
	int win_cap, win_head, win_n;    /* head = index of the oldest */

	/* Latest frame. */
	int faces;
	float frame_mean[EMO_NUM_CLASSES];
	int frame_dominant;
	int frame_neg;                   /* faces confidently negative */
	float frame_val;                 /* sum of the faces' valence */
	float frame_negative, frame_valence;

	int n_students;
	struct summary_student students[SUMMARY_MAX_STUDENTS];

	long long alerts_total;
	int alert_head, n_alerts;
	struct summary_alert alerts[SUMMARY_MAX_ALERTS];

	/* Sparkline: ring of buckets; bucket b covers start + b * bucket_s. */
	long long cur_bucket;            /* absolute index of the last bucket */
	int n_buckets;
	struct acc buckets[SUMMARY_SPARK_MAX];

	/* History: points with data, oldest first; the last one is filling. */
	double hist_step;
	int n_hist;
	struct acc hist[SUMMARY_HISTORY_MAX];

	/* Totals. */
	long long frames, face_frames;
	double tot_neg, tot_val;
	int max_faces;
	double tot_sum[EMO_NUM_CLASSES];
	double mood_time[EMO_NUM_CLASSES];
	int prev_dominant;
	int prev_faces;

	/* Students of the session, ordered seats first (by seat), then by id. */
	struct attend *att;              /* SUMMARY_ATTEND_MAX */
	int n_att;
	long long att_lost;              /* tracks that found no room */
	int att_lost_id;                 /* the last of them (ids only grow) */

	struct summary_stats stats;
};

void summary_opts_default(struct summary_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->window = 60.0;
	o->window_cap = 0;
	o->bucket_s = 5.0;
	o->history_step = 5.0;
}

const char *summary_source_state_name(int state)
{
	static const char *const names[SUMMARY_SOURCE_STATES] = {"up", "reconnecting", "lost", "ended"};

	return state >= 0 && state < SUMMARY_SOURCE_STATES ? names[state] : "unknown";
}

double summary_metric_value(const struct summary_rule *r, int faces,
			    const float mean[EMO_NUM_CLASSES], float negative, float valence)
{
	switch (r->metric) {
	case SUMMARY_METRIC_NEGATIVE:
		return faces > 0 ? negative : NAN;
	case SUMMARY_METRIC_VALENCE:
		return faces > 0 ? valence : NAN;
	case SUMMARY_METRIC_EMOTION:
		return faces > 0 && r->emotion >= 0 && r->emotion < EMO_NUM_CLASSES ? mean[r->emotion]
										    : NAN;
	case SUMMARY_METRIC_FACES:
		return faces;
	}
	return NAN;
}

static int argmax(const float *v, int n)
{
	int best = 0;

	for (int k = 1; k < n; k++)
		if (v[k] > v[best])
			best = k;
	return best;
}

struct summary_ctx *summary_new(const struct summary_opts *o, struct emo_err *err)
{
	struct summary_opts def;
	struct summary_ctx *s;

	if (!o) {
		summary_opts_default(&def);
		o = &def;
	}
	if (!(o->window > 0) || !isfinite(o->window) || !(o->bucket_s > 0) ||
	    !isfinite(o->bucket_s) || !(o->history_step > 0) || !isfinite(o->history_step) ||
	    o->window_cap < 0 || o->window_cap > (1 << 24) || o->window > 86400.0 ||
	    !(o->source_down >= 0) || !isfinite(o->source_down)) {
		emo_seterr(err, EMO_EINVAL, NULL, 0, 0,
			   "summary: window (at most a day), bucket and history step must be > 0, window_cap 0..%d",
			   1 << 24);
		return NULL;
	}
	if (o->n_rules < 0 || o->n_rules > SUMMARY_MAX_RULES || (o->n_rules && !o->rules)) {
		emo_seterr(err, EMO_EINVAL, NULL, 0, 0, "summary: %d alert rules, at most %d",
			   o->n_rules, SUMMARY_MAX_RULES);
		return NULL;
	}
	for (int i = 0; i < o->n_rules; i++) {
		const struct summary_rule *r = &o->rules[i];
		const char *name = r->name ? r->name : "";

		if ((r->metric != SUMMARY_METRIC_NEGATIVE && r->metric != SUMMARY_METRIC_EMOTION &&
		     r->metric != SUMMARY_METRIC_FACES && r->metric != SUMMARY_METRIC_VALENCE) ||
		    (r->cmp != SUMMARY_CMP_GT && r->cmp != SUMMARY_CMP_LT) ||
		    (r->metric == SUMMARY_METRIC_EMOTION &&
		     (r->emotion < 0 || r->emotion >= EMO_NUM_CLASSES)) ||
		    !isfinite(r->threshold) || !(r->for_s >= 0) || !isfinite(r->for_s) ||
		    strlen(name) >= SUMMARY_RULE_NAME_MAX) {
			emo_seterr(err, EMO_EINVAL, NULL, 0, 0, "summary: alert rule %d (%.40s) is invalid",
				   i + 1, name);
			return NULL;
		}
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		goto nomem;
	s->win_cap = o->window_cap;
	if (!s->win_cap) {
		double want = ceil(o->window * 50.0);

		s->win_cap = want > 8192 ? (int)want : 8192;
	}
	s->win = calloc((size_t)s->win_cap, sizeof(*s->win));
	s->att = calloc(SUMMARY_ATTEND_MAX, sizeof(*s->att));
	if (!s->win || !s->att)
		goto nomem;
	s->o = *o;
	s->o.rules = NULL;
	s->n_rules = o->n_rules;
	for (int i = 0; i < o->n_rules; i++) {
		struct rule_state *rs = &s->rules[i];

		rs->r = o->rules[i];
		strcpy(rs->name, o->rules[i].name ? o->rules[i].name : "");
		rs->r.name = NULL;
	}
	s->down.r.for_s = o->source_down;
	snprintf(s->down.name, sizeof(s->down.name), "%s", SUMMARY_SOURCE_DOWN_RULE);
	s->hist_step = o->history_step;
	s->frame_dominant = -1;
	s->prev_dominant = -1;
	return s;
nomem:
	summary_free(s);
	emo_seterr(err, EMO_ENOMEM, NULL, 0, 0, "summary: out of memory");
	return NULL;
}

void summary_free(struct summary_ctx *s)
{
	if (!s)
		return;
	free(s->win);
	free(s->att);
	free(s);
}

static void acc_add(struct acc *a, int faces, int neg, float val, const float mean[EMO_NUM_CLASSES])
{
	a->frames++;
	a->faces += faces;
	a->neg += neg;
	a->val += val;
	for (int k = 0; k < EMO_NUM_CLASSES; k++)
		a->sum[k] += (double)mean[k] * faces;
}

static void acc_merge(struct acc *a, const struct acc *b)
{
	a->frames += b->frames;
	a->faces += b->faces;
	a->neg += b->neg;
	a->val += b->val;
	for (int k = 0; k < EMO_NUM_CLASSES; k++)
		a->sum[k] += b->sum[k];
}

static void acc_point(const struct acc *a, double span, struct summary_point *p)
{
	memset(p, 0, sizeof(*p));
	p->t0 = a->t0;
	p->span = span;
	p->frames = a->frames;
	p->faces = a->frames ? (float)(a->faces / a->frames) : 0.0f;
	p->dominant = -1;
	if (a->faces > 0) {
		for (int k = 0; k < EMO_NUM_CLASSES; k++)
			p->mean[k] = (float)(a->sum[k] / a->faces);
		p->dominant = argmax(p->mean, EMO_NUM_CLASSES);
		p->negative = (float)(a->neg / a->faces);
		p->valence = (float)(a->val / a->faces);
	}
}

static void add_alert(struct summary_ctx *s, struct rule_state *rs, double now, double v)
{
	int slot = (s->alert_head + s->n_alerts) % SUMMARY_MAX_ALERTS;
	struct summary_alert *a;

	if (s->n_alerts == SUMMARY_MAX_ALERTS) {
		slot = s->alert_head;
		s->alert_head = (s->alert_head + 1) % SUMMARY_MAX_ALERTS;
	} else {
		s->n_alerts++;
	}
	a = &s->alerts[slot];
	memset(a, 0, sizeof(*a));
	a->seq = ++s->alerts_total;
	rs->total++;
	memcpy(a->rule, rs->name, sizeof(a->rule));
	a->time = now;
	a->since = rs->since;
	a->value = v;
}

static void eval_rules(struct summary_ctx *s, double now)
{
	for (int i = 0; i < s->n_rules; i++) {
		struct rule_state *rs = &s->rules[i];
		double v = summary_metric_value(&rs->r, s->faces, s->frame_mean, s->frame_negative,
						s->frame_valence);
		int hold = !isnan(v) &&
			   (rs->r.cmp == SUMMARY_CMP_GT ? v > rs->r.threshold : v < rs->r.threshold);

		if (!hold) {
			rs->holding = 0;
			rs->fired = 0;
			continue;
		}
		if (!rs->holding) {
			rs->holding = 1;
			rs->since = now;
		}
		if (!rs->fired && now - rs->since >= rs->r.for_s) {
			rs->fired = 1;
			add_alert(s, rs, now, v);
		}
	}
}

static void win_evict(struct summary_ctx *s, double now)
{
	while (s->win_n > 0 && !(now - s->win[s->win_head].t < s->o.window)) {
		s->win_head = (s->win_head + 1) % s->win_cap;
		s->win_n--;
	}
}

static void bucket_add(struct summary_ctx *s, double now)
{
	long long b = (long long)floor((now - s->start) / s->o.bucket_s);

	if (s->n_buckets == 0 || b > s->cur_bucket) {
		long long steps = s->n_buckets == 0 ? 1 : b - s->cur_bucket;
		long long shown = s->n_buckets + steps;

		if (steps > SUMMARY_SPARK_MAX)
			steps = SUMMARY_SPARK_MAX;
		for (long long i = b - steps + 1; i <= b; i++) {
			struct acc *a = &s->buckets[i % SUMMARY_SPARK_MAX];

			memset(a, 0, sizeof(*a));
			a->idx = i;
			a->t0 = s->start + (double)i * s->o.bucket_s;
		}
		s->n_buckets = (int)(shown < SUMMARY_SPARK_MAX ? shown : SUMMARY_SPARK_MAX);
		s->cur_bucket = b;
	}
	acc_add(&s->buckets[s->cur_bucket % SUMMARY_SPARK_MAX], s->faces, s->frame_neg, s->frame_val,
		s->frame_mean);
}

static void history_add(struct summary_ctx *s, double now)
{
	long long k = (long long)floor((now - s->start) / s->hist_step);

	if (s->n_hist == 0 || s->hist[s->n_hist - 1].idx != k) {
		/* Full: merge neighbours that share a slot of twice the step,
		 * until one is free or the new frame falls in the last one
		 * (points further apart than twice the step merge nothing at
		 * first). */
		while (s->n_hist == SUMMARY_HISTORY_MAX && s->hist[s->n_hist - 1].idx != k) {
			int j = 0;

			for (int i = 0; i < s->n_hist; i++) {
				struct acc a = s->hist[i];

				a.idx /= 2;
				a.t0 = s->start + (double)a.idx * 2 * s->hist_step;
				if (j > 0 && s->hist[j - 1].idx == a.idx)
					acc_merge(&s->hist[j - 1], &a);
				else
					s->hist[j++] = a;
			}
			s->n_hist = j;
			s->hist_step *= 2;
			k = (long long)floor((now - s->start) / s->hist_step);
		}
		if (s->n_hist == 0 || s->hist[s->n_hist - 1].idx != k) {
			struct acc *a = &s->hist[s->n_hist++];

			memset(a, 0, sizeof(*a));
			a->idx = k;
			a->t0 = s->start + (double)k * s->hist_step;
		}
	}
	acc_add(&s->hist[s->n_hist - 1], s->faces, s->frame_neg, s->frame_val, s->frame_mean);
}

/* Order of the students: seats first by seat index, then the rest by id. */
static int attend_before(int seat_a, int id_a, int seat_b, int id_b)
{
	if ((seat_a >= 0) != (seat_b >= 0))
		return seat_a >= 0;
	return seat_a >= 0 ? seat_a < seat_b : id_a < id_b;
}

/* The student of track tr: found, or inserted in order; NULL when full. */
static struct attend *attend_of(struct summary_ctx *s, const struct track *tr, double now)
{
	int lo = 0, hi = s->n_att;
	struct attend *a;

	while (lo < hi) { /* first entry not before tr */
		int mid = (lo + hi) / 2;

		if (attend_before(s->att[mid].seat, s->att[mid].id, tr->seat, tr->id))
			lo = mid + 1;
		else
			hi = mid;
	}
	a = &s->att[lo];
	if (lo < s->n_att && a->seat == tr->seat && (tr->seat >= 0 || a->id == tr->id)) {
		a->id = tr->id;
		return a;
	}
	if (s->n_att == SUMMARY_ATTEND_MAX) {
		if (tr->id != s->att_lost_id) {
			s->att_lost++;
			s->att_lost_id = tr->id;
		}
		return NULL;
	}
	memmove(a + 1, a, (size_t)(s->n_att - lo) * sizeof(*a));
	s->n_att++;
	memset(a, 0, sizeof(*a));
	a->id = tr->id;
	a->seat = tr->seat;
	memcpy(a->name, tr->name, sizeof(a->name));
	a->name[sizeof(a->name) - 1] = '\0';
	a->first_seen = now;
	a->prev_dominant = -1;
	return a;
}

/* Credit the time since the previous update to the students present then,
 * and note who is present now. Before s->last moves to now. */
static void attend_update(struct summary_ctx *s, double now, const struct tracker *t)
{
	double dt = s->frames > 0 ? now - s->last : 0;
	int n = track_count(t);

	if (dt > SUMMARY_MAX_GAP)
		dt = SUMMARY_MAX_GAP;
	for (int i = 0; i < s->n_att; i++) {
		struct attend *a = &s->att[i];

		if (a->prev_present) {
			a->present += dt;
			if (a->prev_dominant >= 0)
				a->mood_time[a->prev_dominant] += dt;
		}
		a->prev_present = 0;
	}
	for (int i = 0; i < n; i++) {
		const struct track *tr = track_at(t, i);
		struct attend *a;

		if (!tr->present || !(a = attend_of(s, tr, now)) || a->prev_present)
			continue; /* two tracks in one seat count once */
		a->prev_present = 1;
		a->prev_dominant = tr->dominant >= 0 && tr->dominant < EMO_NUM_CLASSES ? tr->dominant : -1;
		a->frames++;
		if (a->prev_dominant >= 0)
			a->mood_frames[a->prev_dominant]++;
		a->last_seen = now;
	}
}

int summary_update(struct summary_ctx *s, double now, const struct tracker *t)
{
	int n, faces = 0, neg = 0;
	float mean[EMO_NUM_CLASSES] = {0}, val = 0.0f;

	if (!s || !isfinite(now))
		return EMO_EINVAL;
	if (!s->started) {
		s->started = 1;
		s->start = now;
		s->last = now;
	}
	if (now < s->last)
		now = s->last;
	s->src_state = SUMMARY_SOURCE_UP; /* a frame arrived */
	s->down.holding = s->down.fired = 0;
	/* A gap (a pause, an outage, a cut in a recording) ends every alert's
	 * episode: 'for' counts only time the condition was seen to hold. A
	 * gap is longer than SUMMARY_MAX_GAP and than 2.5 usual intervals (at
	 * fps 0.1 frames are 10 s apart). */
	if (s->frames > 0 && now - s->last > SUMMARY_MAX_GAP && now - s->last > 2.5 * s->last_dt)
		for (int i = 0; i < s->n_rules; i++)
			s->rules[i].holding = s->rules[i].fired = 0;

	/* Students and the frame aggregate over present tracks. */
	n = track_count(t);
	s->n_students = 0;
	for (int i = 0; i < n && i < SUMMARY_MAX_STUDENTS; i++) {
		const struct track *tr = track_at(t, i);
		struct summary_student *st = &s->students[s->n_students++];

		memset(st, 0, sizeof(*st));
		st->id = tr->id;
		st->seat = tr->seat;
		memcpy(st->name, tr->name, sizeof(st->name));
		st->box = tr->box;
		memcpy(st->probs, tr->probs, sizeof(st->probs));
		memcpy(st->raw, tr->raw, sizeof(st->raw));
		st->dominant = tr->dominant;
		st->confidence = tr->confidence;
		st->negative = (float)emo_face_negative(tr->probs);
		st->valence = emo_face_valence(tr->probs);
		st->first_seen = tr->first_seen;
		st->last_seen = tr->last_seen;
		st->present = tr->present;
		if (tr->present) {
			faces++;
			neg += emo_face_negative(tr->probs);
			val += st->valence;
			for (int k = 0; k < EMO_NUM_CLASSES; k++)
				mean[k] += tr->probs[k];
		}
	}
	for (int k = 0; faces && k < EMO_NUM_CLASSES; k++)
		mean[k] /= (float)faces;
	s->faces = faces;
	memcpy(s->frame_mean, mean, sizeof(mean));
	s->frame_dominant = faces ? argmax(mean, EMO_NUM_CLASSES) : -1;
	s->frame_neg = neg;
	s->frame_val = val;
	s->frame_negative = faces ? (float)neg / (float)faces : 0.0f;
	s->frame_valence = faces ? val / (float)faces : 0.0f;

	attend_update(s, now, t);

	/* Totals: credit the time since the previous frame to its mood. */
	if (s->frames > 0 && s->prev_dominant >= 0) {
		double dt = now - s->last;

		if (dt > SUMMARY_MAX_GAP)
			dt = SUMMARY_MAX_GAP;
		s->mood_time[s->prev_dominant] += dt * s->prev_faces;
	}
	s->frames++;
	s->face_frames += faces;
	if (faces > s->max_faces)
		s->max_faces = faces;
	for (int k = 0; k < EMO_NUM_CLASSES; k++)
		s->tot_sum[k] += (double)mean[k] * faces;
	s->tot_neg += neg;
	s->tot_val += val;
	s->prev_dominant = s->frame_dominant;
	s->prev_faces = faces;

	/* Window. */
	win_evict(s, now);
	if (s->win_n == s->win_cap) { /* over capacity: evict the oldest early */
		s->win_head = (s->win_head + 1) % s->win_cap;
		s->win_n--;
	}
	{
		struct frame *f = &s->win[(s->win_head + s->win_n) % s->win_cap];

		f->t = now;
		f->faces = faces;
		f->neg = neg;
		f->val = val;
		memcpy(f->mean, mean, sizeof(mean));
		s->win_n++;
	}

	bucket_add(s, now);
	history_add(s, now);
	eval_rules(s, now);
	if (s->frames > 1)
		s->last_dt = now - s->last;
	s->last = now;
	s->seq++;
	return EMO_OK;
}

int summary_source(struct summary_ctx *s, double now, int state)
{
	if (!s || !isfinite(now) || state < 0 || state >= SUMMARY_SOURCE_STATES)
		return EMO_EINVAL;
	if (s->started && now < s->last)
		now = s->last;
	s->src_state = state;
	if (state == SUMMARY_SOURCE_UP) {
		s->down.holding = s->down.fired = 0;
		return EMO_OK;
	}
	/* nothing is seen: no face, no mood, nobody present */
	s->faces = 0;
	memset(s->frame_mean, 0, sizeof(s->frame_mean));
	s->frame_dominant = -1;
	s->frame_neg = 0;
	s->frame_val = 0;
	s->frame_negative = s->frame_valence = 0;
	for (int i = 0; i < s->n_students; i++)
		s->students[i].present = 0;
	for (int i = 0; i < s->n_att; i++)
		s->att[i].prev_present = 0; /* nobody is seen: no time credited */
	if (state == SUMMARY_SOURCE_ENDED || !(s->down.r.for_s > 0))
		return EMO_OK;
	if (!s->down.holding) {
		s->down.holding = 1;
		s->down.since = now;
	}
	if (!s->down.fired && now - s->down.since >= s->down.r.for_s) {
		s->down.fired = 1;
		add_alert(s, &s->down, now, now - s->down.since);
	}
	return EMO_OK;
}

void summary_set_stats(struct summary_ctx *s, const struct summary_stats *st)
{
	if (s && st) {
		s->stats = *st;
		s->stats.source[SUMMARY_SOURCE_MAX - 1] = '\0';
	}
}

void summary_snapshot(const struct summary_ctx *s, double now, struct summary *out)
{
	double faces = 0, neg = 0, val = 0, sum[EMO_NUM_CLASSES] = {0}, oldest = now;
	int frames = 0;

	memset(out, 0, sizeof(*out));
	out->dominant = -1;
	out->frame_dominant = -1;
	if (!s)
		return;
	if (!isfinite(now) || (s->started && now < s->last))
		now = s->last;
	out->seq = s->seq;
	out->time = now;
	out->start = s->started ? s->start : now;
	out->uptime = s->started ? now - s->start : 0.0;
	out->window = s->o.window;

	for (int i = 0; i < s->win_n; i++) {
		const struct frame *f = &s->win[(s->win_head + i) % s->win_cap];

		if (!(now - f->t < s->o.window))
			continue;
		if (!frames)
			oldest = f->t;
		frames++;
		faces += f->faces;
		neg += f->neg;
		val += f->val;
		for (int k = 0; k < EMO_NUM_CLASSES; k++)
			sum[k] += (double)f->mean[k] * f->faces;
	}
	out->window_frames = frames;
	out->window_span = frames ? now - oldest : 0.0;
	out->mean_faces = frames ? (float)(faces / frames) : 0.0f;
	if (faces > 0) {
		for (int k = 0; k < EMO_NUM_CLASSES; k++)
			out->mean[k] = (float)(sum[k] / faces);
		out->dominant = argmax(out->mean, EMO_NUM_CLASSES);
		out->confidence = out->mean[out->dominant];
		out->negative = (float)(neg / faces);
		out->valence = (float)(val / faces);
	}

	out->frame_time = s->last;
	out->faces = s->faces;
	memcpy(out->frame_mean, s->frame_mean, sizeof(out->frame_mean));
	out->frame_dominant = s->frame_dominant;
	out->frame_negative = s->frame_negative;
	out->frame_valence = s->frame_valence;

	out->n_students = s->n_students;
	memcpy(out->students, s->students, (size_t)s->n_students * sizeof(s->students[0]));

	out->alerts_total = s->alerts_total;
	out->n_rules = s->n_rules;
	for (int i = 0; i < s->n_rules; i++) {
		memcpy(out->rules[i].rule, s->rules[i].name, sizeof(out->rules[i].rule));
		out->rules[i].fired = s->rules[i].total;
	}
	if (s->down.r.for_s > 0) {
		memcpy(out->rules[out->n_rules].rule, s->down.name, sizeof(out->rules[0].rule));
		out->rules[out->n_rules++].fired = s->down.total;
	}
	out->n_alerts = s->n_alerts;
	for (int i = 0; i < s->n_alerts; i++)
		out->alerts[i] = s->alerts[(s->alert_head + i) % SUMMARY_MAX_ALERTS];

	out->bucket_s = s->o.bucket_s;
	out->n_buckets = s->n_buckets;
	for (int i = 0; i < s->n_buckets; i++) {
		long long b = s->cur_bucket - (s->n_buckets - 1) + i;

		acc_point(&s->buckets[b % SUMMARY_SPARK_MAX], s->o.bucket_s, &out->buckets[i]);
		out->buckets[i].t0 = s->start + (double)b * s->o.bucket_s;
	}
	out->stats = s->stats;
	out->stats.source_state = s->src_state;
}

void summary_reset(struct summary_ctx *s)
{
	if (!s)
		return;
	s->win_n = 0;
	s->win_head = 0;
	for (int i = 0; i < s->n_rules; i++) {
		s->rules[i].holding = 0;
		s->rules[i].fired = 0;
	}
}

void summary_totals(const struct summary_ctx *s, struct summary_totals *out)
{
	double mt = 0;

	memset(out, 0, sizeof(*out));
	out->dominant = -1;
	if (!s || !s->started)
		return;
	out->start = s->start;
	out->end = s->last;
	out->duration = s->last - s->start;
	out->frames = s->frames;
	out->face_frames = s->face_frames;
	out->max_faces = s->max_faces;
	if (s->face_frames > 0) {
		for (int k = 0; k < EMO_NUM_CLASSES; k++)
			out->mean[k] = (float)(s->tot_sum[k] / (double)s->face_frames);
		out->negative = (float)(s->tot_neg / (double)s->face_frames);
		out->valence = (float)(s->tot_val / (double)s->face_frames);
	}
	for (int k = 0; k < EMO_NUM_CLASSES; k++)
		mt += s->mood_time[k];
	if (mt > 0) {
		for (int k = 0; k < EMO_NUM_CLASSES; k++)
			out->mood_share[k] = (float)(s->mood_time[k] / mt);
		out->dominant = argmax(out->mood_share, EMO_NUM_CLASSES);
	} else if (s->face_frames > 0) {
		/* A single frame (no elapsed time): its mood is the whole share. */
		out->dominant = argmax(out->mean, EMO_NUM_CLASSES);
		out->mood_share[out->dominant] = 1.0f;
	}
	out->alerts = s->alerts_total;
	out->attendees = s->n_att;
	out->attendees_lost = s->att_lost;
	out->stats = s->stats;
	out->stats.source_state = s->src_state;
}

int summary_attendance(const struct summary_ctx *s, struct summary_attendee *out, int max)
{
	double duration;

	if (!s)
		return 0;
	duration = s->last - s->start;
	for (int i = 0; i < s->n_att && i < max; i++) {
		const struct attend *a = &s->att[i];
		struct summary_attendee *o = &out[i];
		double mt = 0;

		memset(o, 0, sizeof(*o));
		o->id = a->id;
		o->seat = a->seat;
		memcpy(o->name, a->name, sizeof(o->name));
		o->first_seen = a->first_seen;
		o->last_seen = a->last_seen;
		o->present = a->present;
		o->present_share = duration > 0 ? (float)fmin(1.0, a->present / duration)
						: a->frames > 0 ? 1.0f : 0.0f;
		o->frames = a->frames;
		o->dominant = -1;
		for (int k = 0; k < EMO_NUM_CLASSES; k++)
			mt += a->mood_time[k];
		if (mt > 0) {
			for (int k = 0; k < EMO_NUM_CLASSES; k++)
				o->share[k] = (float)(a->mood_time[k] / mt);
		} else {
			long long mf = 0;

			for (int k = 0; k < EMO_NUM_CLASSES; k++)
				mf += a->mood_frames[k];
			for (int k = 0; mf > 0 && k < EMO_NUM_CLASSES; k++)
				o->share[k] = (float)((double)a->mood_frames[k] / (double)mf);
			if (!mf)
				continue;
		}
		o->dominant = argmax(o->share, EMO_NUM_CLASSES);
	}
	return s->n_att;
}

int summary_history(const struct summary_ctx *s, struct summary_point *out, int max)
{
	if (!s)
		return 0;
	for (int i = 0; i < s->n_hist && i < max; i++)
		acc_point(&s->hist[i], s->hist_step, &out[i]);
	return s->n_hist;
}
