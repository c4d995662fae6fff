/* summary.h - the class summary: rolling window, sparkline timeline, alert
 * rules, session totals and history, published as an immutable snapshot.
 *
 * Model/view split: the pipeline calls summary_update() once per analysed
 * frame with the tracker; the dashboard and the report sinks only read a
 * struct summary filled by summary_snapshot(). That struct is a value type:
 * fixed-size arrays, no pointers into live state, safe to memcpy and to hand
 * to another thread. It is large (about 60 KB): keep it static or on the heap.
 *
 * Definitions (per analysed frame, over the tracks present in that frame):
 *   faces      number of present tracks;
 *   mean[k]    mean of the present tracks' smoothed probability of class k
 *              (all zero when no face);
 *   dominant   argmax of mean, -1 when no face;
 *   negative   the negative share: the share of present tracks whose
 *              smoothed probabilities look confidently negative
 *              (emo_face_negative(): angry+disgust+fear+sad >= 0.6 and the
 *              top class one of them), 0..1; for one student 1 or 0;
 *   valence    mean of the tracks' emo_face_valence(), -1..1, neutral and
 *              unsure faces 0.
 * The window values average the frames of the last `window` seconds weighted
 * by their faces (= the mean over every face observation in the window).
 * A frame at time t is in the window at time now while now - t < window.
 *
 * Alert rules compare one per-frame metric with a threshold; the alert fires
 * once when the condition has held continuously for `for_s` seconds (a frame
 * with no faces breaks a negative/emotion condition), and re-arms when the
 * condition stops holding.
 *
 * Time is passed in (double seconds, non-decreasing); nothing reads a clock.
 * Not thread-safe: serialise calls on one struct summary_ctx.
 */
#ifndef EMOTOP_SUMMARY_H
#define EMOTOP_SUMMARY_H

#include "emotop/emotion.h"
#include "emotop/err.h"
#include "emotop/image.h"
#include "emotop/track.h"

#define SUMMARY_MAX_STUDENTS TRACK_MAX
#define SUMMARY_MAX_ALERTS 32     /* recent alerts kept in the snapshot */
#define SUMMARY_MAX_RULES 16
#define SUMMARY_RULE_NAME_MAX 64
#define SUMMARY_SPARK_MAX 120     /* sparkline buckets kept */
#define SUMMARY_HISTORY_MAX 720   /* session history points (downsampled when full) */
#define SUMMARY_SOURCE_MAX 256
#define SUMMARY_ATTEND_MAX 1024   /* students recorded for the session summary */

enum summary_metric {
	SUMMARY_METRIC_NEGATIVE = 0, /* per-frame negative share, 0..1 */
	SUMMARY_METRIC_EMOTION = 1,  /* per-frame mean probability of rule.emotion */
	SUMMARY_METRIC_FACES = 2,    /* faces present */
	SUMMARY_METRIC_VALENCE = 3,  /* per-frame mean valence, -1..1 */
};

enum summary_cmp {
	SUMMARY_CMP_GT = 0, /* metric > threshold */
	SUMMARY_CMP_LT = 1, /* metric < threshold */
};

struct summary_rule {
	const char *name;            /* shown in alerts; copied (< SUMMARY_RULE_NAME_MAX) */
	enum summary_metric metric;
	int emotion;                 /* class index for SUMMARY_METRIC_EMOTION */
	enum summary_cmp cmp;
	double threshold;
	double for_s;                /* seconds the condition must hold, >= 0 */
};

/* The built-in alert on the source (summary_opts.source_down). */
#define SUMMARY_SOURCE_DOWN_RULE "source_down"

struct summary_opts {
	double window;               /* rolling window seconds, default 60 */
	int window_cap;              /* frames the window can hold; 0 (default):
				      * max(8192, 50 * window), i.e. 50 fps; the
				      * oldest are evicted early beyond it */
	double bucket_s;             /* sparkline bucket seconds, default 5 */
	double history_step;         /* initial history step seconds, default 5 */
	const struct summary_rule *rules; /* copied by summary_new() */
	int n_rules;                 /* 0..SUMMARY_MAX_RULES */
	double source_down;          /* fire the alert "source_down" when the source
				      * has not been up for this many seconds
				      * (summary_source()); 0: off */
};

/* The video source as the application sees it. */
enum summary_source_state {
	SUMMARY_SOURCE_UP = 0,           /* frames arriving */
	SUMMARY_SOURCE_RECONNECTING = 1, /* no frame for a while, or being reopened */
	SUMMARY_SOURCE_LOST = 2,         /* failed for good: no more frames */
	SUMMARY_SOURCE_ENDED = 3,        /* end of the input (a file, a finite demo) */
};
#define SUMMARY_SOURCE_STATES 4
/* "up", "reconnecting", "lost", "ended"; "unknown" otherwise. */
const char *summary_source_state_name(int state);

/* What the times of a snapshot are (summary_stats.clock). */
enum summary_clock {
	SUMMARY_CLOCK_NONE = 0,  /* plain seconds (tests, tools) */
	SUMMARY_CLOCK_WALL = 1,  /* time + clock_offset is Unix time (live sources) */
	SUMMARY_CLOCK_MEDIA = 2, /* time is seconds of media (files read at full speed) */
};

/* Counters and labels the application fills in (summary_set_stats()). */
struct summary_stats {
	long long frames_analysed;
	long long frames_dropped;
	double fps;                  /* analysis frames per second achieved */
	double lat_capture_ms, lat_detect_ms, lat_classify_ms;
	char source[SUMMARY_SOURCE_MAX]; /* "" when unknown */
	int width, height;           /* analysed frame size, 0 when unknown */
	int source_up;               /* 1 while the source is open and delivering */
	long long reconnects;        /* successful reopenings of the source */
	int source_state;            /* enum summary_source_state */
	int clock;                   /* enum summary_clock */
	double clock_offset;         /* SUMMARY_CLOCK_WALL: Unix time - time */
	double media_time;           /* position of the latest analysed frame in the
				      * media (files), NAN when none */
};

/* One student row: a copy of a live track at the last update. */
struct summary_student {
	int id;                      /* track id */
	int seat;                    /* -1 when none */
	char name[TRACK_NAME_MAX];   /* "" when no name (print the id) */
	struct emo_box box;
	float probs[EMO_NUM_CLASSES];/* smoothed */
	float raw[EMO_NUM_CLASSES];  /* last observation */
	int dominant;
	float confidence;
	float negative;              /* 1 when probs look confidently negative, else 0 */
	float valence;               /* emo_face_valence(probs), -1..1 */
	double first_seen, last_seen;
	int present;                 /* seen in the last update */
};

/* How often one alert rule fired over the session (never reset). */
struct summary_rule_total {
	char rule[SUMMARY_RULE_NAME_MAX];
	long long fired;
};

struct summary_alert {
	long long seq;               /* 1, 2, ... over the session */
	char rule[SUMMARY_RULE_NAME_MAX];
	double time;                 /* when it fired */
	double since;                /* when the condition started holding */
	double value;                /* metric value when it fired */
};

/* A sparkline bucket or a session history point: face-weighted means of the
 * frames with time in [t0, t0 + span). frames == 0: no data (dominant -1). */
struct summary_point {
	double t0, span;
	int frames;                  /* analysed frames in it */
	float faces;                 /* mean faces present */
	float mean[EMO_NUM_CLASSES];
	int dominant;
	float negative;              /* negative share */
	float valence;
};

struct summary {
	unsigned long long seq;      /* number of updates so far (changes on update) */
	double time;                 /* the `now` of summary_snapshot() */
	double start;                /* time of the first update */
	double uptime;               /* time - start (0 before the first update) */
	double window;               /* configured window seconds */
	double window_span;          /* seconds actually covered (time - oldest frame) */
	int window_frames;           /* frames in the window */

	/* The latest frame. */
	double frame_time;
	int faces;
	float frame_mean[EMO_NUM_CLASSES];
	int frame_dominant;
	float frame_negative;        /* negative share of the frame */
	float frame_valence;

	/* The rolling window. */
	float mean[EMO_NUM_CLASSES];
	int dominant;                /* class mood, -1 when no face in the window */
	float confidence;            /* mean[dominant] */
	float negative;              /* negative share */
	float valence;
	float mean_faces;            /* mean faces per frame */

	int n_students;              /* live tracks, ordered by id */
	struct summary_student students[SUMMARY_MAX_STUDENTS];

	long long alerts_total;      /* alerts fired this session */
	int n_rules;                 /* the rules, in the order of summary_opts, then
				      * source_down when it is on */
	struct summary_rule_total rules[SUMMARY_MAX_RULES + 1];
	int n_alerts;                /* recent alerts, oldest first */
	struct summary_alert alerts[SUMMARY_MAX_ALERTS];

	double bucket_s;
	int n_buckets;               /* oldest first; the last one is filling */
	struct summary_point buckets[SUMMARY_SPARK_MAX];

	struct summary_stats stats;
};

/* Totals over the whole session (never reset by summary_reset()). */
struct summary_totals {
	double start, end, duration;  /* first and last update times */
	long long frames;             /* updates */
	long long face_frames;        /* sum of faces over updates */
	int max_faces;
	float mean[EMO_NUM_CLASSES];  /* over every face observation */
	float negative;               /* negative share over every face observation */
	float valence;
	int dominant;                 /* argmax of mood_share, -1 when no face */
	/* Share of the session's face time during which class k was the frame's
	 * dominant mood (sums to 1 when any face was seen). */
	float mood_share[EMO_NUM_CLASSES];
	long long alerts;
	/* Students of the session (summary_attendance()): recorded, and those
	 * that found no room (more than SUMMARY_ATTEND_MAX). */
	int attendees;
	long long attendees_lost;
	struct summary_stats stats;
};

/* One student over the whole session (attendance and expressions). A
 * student is a seat or gallery cell when the track holds one (whichever
 * tracks held it: identity = seat), else one track (its id). Time is
 * credited like the class totals: the interval from one update to the next
 * (at most SUMMARY_MAX_GAP_S) goes to whoever was present at the first one
 * with the expression they showed then; an outage (summary_source() not up)
 * credits nobody. */
struct summary_attendee {
	int id;                       /* the track id seen last */
	int seat;                     /* seat/cell index, -1 when none */
	char name[TRACK_NAME_MAX];    /* "" when none (print the id) */
	double first_seen, last_seen; /* update times */
	double present;               /* seconds present */
	float present_share;          /* present / session duration, 0..1 (a one-frame
				       * session: 1 for those seen) */
	long long frames;             /* updates in which present */
	/* Share of the present time per dominant expression (the track's
	 * smoothed argmax; sums to 1 when frames > 0; by frames when no time
	 * was credited). Meaningless without a classifier: do not show it. */
	float share[EMO_NUM_CLASSES];
	int dominant;                 /* argmax of share, -1 when frames == 0 */
};

/* Longest gap between two updates credited to the totals (pauses). */
#define SUMMARY_MAX_GAP_S 10.0

void summary_opts_default(struct summary_opts *o);

/* New summary; copies *o (NULL: defaults). Free with summary_free().
 * NULL on error, *err set: EMO_EINVAL (window <= 0, bucket_s <= 0, bad rule:
 * metric/cmp/emotion out of range, for_s < 0 or not finite, name too long),
 * EMO_ENOMEM. */
struct summary_ctx *summary_new(const struct summary_opts *o, struct emo_err *err);
/* NULL-safe. */
void summary_free(struct summary_ctx *s);

/* Account for one analysed frame at `now`: reads the tracker's live tracks
 * (t may be NULL: a frame with no tracks). Returns EMO_OK or EMO_EINVAL
 * (s NULL, now not finite); earlier times are treated as the previous one. */
int summary_update(struct summary_ctx *s, double now, const struct tracker *t);

/* Store the application's counters; published by the next snapshot. */
void summary_set_stats(struct summary_ctx *s, const struct summary_stats *st);

/* The source's state at now (call it as often as it may change; for live
 * sources between frames too). While it is not up, no face is reported
 * from frames that did not arrive: the latest frame's figures read 0 faces
 * and no mood, every student is absent; the next summary_update() brings
 * them back. The window keeps only frames that arrived. With
 * opts.source_down > 0, the alert SUMMARY_SOURCE_DOWN_RULE fires once per
 * outage when the source has not been up for that long (ended: not an
 * outage). EMO_OK or EMO_EINVAL. */
int summary_source(struct summary_ctx *s, double now, int state);

/* Fill *out with the state as seen at `now` (window evaluated at now).
 * out owns nothing; it stays valid forever. */
void summary_snapshot(const struct summary_ctx *s, double now, struct summary *out);

/* Clear the rolling window and the alert episodes (dashboard key r). The
 * sparkline, history, recent alerts and session totals are kept. */
void summary_reset(struct summary_ctx *s);

/* Session totals up to the last update. */
void summary_totals(const struct summary_ctx *s, struct summary_totals *out);

/* Copy at most max students of the session into out, seats first (by seat
 * index), then the others by track id; returns how many there are in all
 * (call with max 0 to size; at most SUMMARY_ATTEND_MAX). Not cleared by
 * summary_reset(). */
int summary_attendance(const struct summary_ctx *s, struct summary_attendee *out, int max);

/* Copy at most max session history points (oldest first) into out; returns
 * how many there are in all (call with max 0 to size). At most
 * SUMMARY_HISTORY_MAX (the last one still filling); the step doubles each time it fills up. */
int summary_history(const struct summary_ctx *s, struct summary_point *out, int max);

/* Value of a rule's metric for frame values (faces, mean, negative share,
 * valence); NAN when undefined (emotion/negative/valence metric with no
 * face). For tests and UIs. */
double summary_metric_value(const struct summary_rule *r, int faces,
			    const float mean[EMO_NUM_CLASSES], float negative, float valence);

#endif
