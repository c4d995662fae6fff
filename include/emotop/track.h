/* track.h - stable per-face identities across frames, seat/name mapping and
 * per-face smoothed emotion probabilities.
 *
 * Each analysed frame, the pipeline hands the tracker the faces it found
 * (box + 7 raw probabilities). The tracker associates them with its live
 * tracks by IoU (greedy, highest IoU first, against a constant-velocity
 * prediction of each track's box), starts new tracks for the rest (ids are
 * monotonic, never reused), and drops tracks not seen for `ttl` seconds.
 *
 * Names come only from the configuration: fixed seats {name, box} and/or a
 * rows x cols gallery grid over the frame (names in row-major order). A track
 * whose box centre lies in a seat or cell takes that seat (index) and name;
 * an unmatched face in a seat rejoins the live track that holds the seat, so
 * identity = seat.
 *
 * Smoothing is an EMA whose weight depends on the time since the track's
 * previous update: alpha = 1 - 0.5^(dt / half_life); the first observation
 * initialises the state. After one half-life of constant input the state has
 * moved half way to it, however many frames that half-life spans.
 *
 * Time is always passed in (double seconds, any epoch, non-decreasing); the
 * tracker never reads a clock. Storage is preallocated by track_new(); updates
 * allocate nothing. Not thread-safe: one thread updates and reads.
 */
#ifndef EMOTOP_TRACK_H
#define EMOTOP_TRACK_H

#include "emotop/emotion.h"
#include "emotop/err.h"
#include "emotop/image.h"

#define TRACK_MAX 256        /* live tracks at most */
#define TRACK_MAX_SEATS 256  /* seats + gallery cells at most */
#define TRACK_NAME_MAX 64    /* bytes of a name, including the NUL */

/* A fixed region of the frame (pixels) that belongs to a named student. */
struct track_seat {
	const char *name; /* NULL or "": seat without a name */
	struct emo_box box;
};

struct track_opts {
	float iou_threshold;  /* min IoU to continue a track, default 0.3 */
	double ttl;           /* seconds unseen before a track is dropped, default 2 */
	double half_life;     /* EMA half-life in seconds, default 1; <= 0: no smoothing */
	int max_tracks;       /* 1..TRACK_MAX, default TRACK_MAX */
	/* Seats, checked first (indices 0..n_seats-1). Copied by track_new(). */
	const struct track_seat *seats;
	int n_seats;
	/* Gallery grid over the whole frame, 0 x 0 for none; cell (r, c) has
	 * seat index n_seats + r * grid_cols + c and name grid_names[r * cols + c]
	 * when that exists (fewer names than cells is fine). Copied. */
	int grid_rows, grid_cols;
	const char *const *grid_names;
	int n_grid_names;
};

/* One face found in the current frame. */
struct track_obs {
	struct emo_box box;                 /* frame pixels, w and h > 0 */
	float probs[EMO_NUM_CLASSES];       /* classifier output (sanitised: negative
					     * or NaN entries count as 0, renormalised) */
};

/* A live track. Read through track_at(); valid until the next update/reset. */
struct track {
	int id;                             /* >= 1, monotonic per tracker */
	int seat;                           /* seat/cell index, -1 when none */
	char name[TRACK_NAME_MAX];          /* from the config; "" when none */
	struct emo_box box;                 /* last observed box */
	float vx, vy;                       /* estimated centre velocity, px/s */
	float raw[EMO_NUM_CLASSES];         /* last observation */
	float probs[EMO_NUM_CLASSES];       /* smoothed (EMA) */
	int dominant;                       /* argmax of probs */
	float confidence;                   /* probs[dominant] */
	double first_seen, last_seen;       /* times of first and last observation */
	int present;                        /* observed in the latest update */
	long hits;                          /* observations so far */
};

/* Defaults for *o (no seats, no grid). */
void track_opts_default(struct track_opts *o);

/* New tracker; copies everything it needs from *o (o may be NULL: defaults).
 * Free with track_free(). NULL on error with *err set: EMO_EINVAL for a bad
 * option (threshold outside 0..1, ttl <= 0, too many seats, a name too long,
 * a seat box not finite or with w or h < 0; an empty one, a seat clipped
 * away by a smaller frame, holds nobody), EMO_ENOMEM. */
struct tracker *track_new(const struct track_opts *o, struct emo_err *err);
/* NULL-safe. */
void track_free(struct tracker *t);

/* Associate the n faces of the frame at time `now` (frame_w x frame_h pixels,
 * needed for the gallery grid; <= 0 when unknown: no grid naming this frame).
 * If ids is non-NULL, ids[j] receives the track id given to obs[j], or -1 when
 * the face was ignored (invalid box or all TRACK_MAX slots busy).
 * Returns the number of live tracks (>= 0) or EMO_EINVAL (t NULL, n < 0,
 * obs NULL with n > 0, now not finite); on error nothing changes. A `now`
 * earlier than the previous update is treated as equal to it. */
int track_update(struct tracker *t, double now, int frame_w, int frame_h,
		 const struct track_obs *obs, int n, int *ids);

/* Live tracks, ordered by id (oldest first). */
int track_count(const struct tracker *t);
/* i-th live track (0 <= i < track_count()), NULL when out of range. The pointer
 * is valid until the next track_update() or track_reset(). */
const struct track *track_at(const struct tracker *t, int i);
/* Live track by id, or NULL. Same validity as track_at(). */
const struct track *track_find(const struct tracker *t, int id);

/* Replace the fixed seats (e.g. when the frame size changed and seats given
 * as fractions were resolved again); the grid is kept. Copies seats. Every
 * track loses its seat and regains one at its next observation. EMO_OK or
 * EMO_EINVAL (same checks as track_new(); nothing changes on error). */
int track_set_seats(struct tracker *t, const struct track_seat *seats, int n_seats);

/* Forget all tracks (ids keep increasing). */
void track_reset(struct tracker *t);

/* Seat index containing point (x, y) of a frame_w x frame_h frame, or -1.
 * Copies its name (or "") into name[TRACK_NAME_MAX] when name is non-NULL. */
int track_seat_at(const struct tracker *t, float x, float y, int frame_w, int frame_h,
		  char *name);

#endif
