/* test_track.c - ids across frames, ttl, crossing faces, seats and grid, EMA. */
#include <math.h>

#include "emotop/track.h"
#include "unit.h"

static struct track_obs face(float x, float y, float w, float h, int cls)
{
	struct track_obs o;

	memset(&o, 0, sizeof(o));
	o.box.x = x;
	o.box.y = y;
	o.box.w = w;
	o.box.h = h;
	if (cls >= 0)
		o.probs[cls] = 1.0f;
	return o;
}

static struct tracker *mk(double half_life)
{
	struct track_opts o;

	track_opts_default(&o);
	o.half_life = half_life;
	return track_new(&o, NULL);
}

TEST(defaults)
{
	struct track_opts o;

	track_opts_default(&o);
	ASSERT_NEAR(o.iou_threshold, 0.3, 1e-6);
	ASSERT_NEAR(o.ttl, 2.0, 1e-9);
	ASSERT_EQ(o.max_tracks, TRACK_MAX);
	ASSERT_EQ(o.n_seats, 0);
}

TEST(id_stable_through_motion)
{
	struct tracker *t = mk(1.0);
	int id = 0;

	ASSERT(t);
	for (int f = 0; f < 30; f++) {
		struct track_obs o = face(50.0f + 12.0f * f, 80.0f + 3.0f * f, 90, 90, EMO_HAPPY);

		ASSERT_EQ(track_update(t, f * 0.2, 640, 480, &o, 1, &id), 1);
		ASSERT_EQ(id, 1);
	}
	ASSERT_EQ(track_count(t), 1);
	ASSERT_EQ(track_at(t, 0)->hits, 30);
	ASSERT_NEAR(track_at(t, 0)->first_seen, 0.0, 1e-12);
	ASSERT_NEAR(track_at(t, 0)->last_seen, 29 * 0.2, 1e-9);
	ASSERT(track_at(t, 0)->vx > 50.0f); /* 60 px/s */
	track_free(t);
}

TEST(short_occlusion_keeps_id)
{
	struct tracker *t = mk(1.0);
	struct track_obs o = face(100, 100, 80, 80, EMO_NEUTRAL);
	int id = 0;

	for (int f = 0; f < 5; f++)
		track_update(t, f * 0.2, 640, 480, &o, 1, &id);
	ASSERT_EQ(id, 1);
	/* 1.5 s without the face: still alive, not present. */
	for (int f = 0; f < 7; f++) {
		ASSERT_EQ(track_update(t, 1.0 + f * 0.2, 640, 480, NULL, 0, NULL), 1);
		ASSERT_EQ(track_at(t, 0)->present, 0);
	}
	o.box.x += 5;
	ASSERT_EQ(track_update(t, 2.4, 640, 480, &o, 1, &id), 1);
	ASSERT_EQ(id, 1);
	ASSERT_EQ(track_at(t, 0)->present, 1);
	track_free(t);
}

TEST(dropped_after_ttl)
{
	struct tracker *t = mk(1.0);
	struct track_obs o = face(100, 100, 80, 80, EMO_NEUTRAL);
	int id = 0;

	track_update(t, 10.0, 640, 480, &o, 1, &id);
	ASSERT_EQ(id, 1);
	/* exactly ttl unseen: kept; beyond: dropped */
	ASSERT_EQ(track_update(t, 12.0, 640, 480, NULL, 0, NULL), 1);
	ASSERT_EQ(track_update(t, 12.001, 640, 480, NULL, 0, NULL), 0);
	ASSERT(track_find(t, 1) == NULL);
	track_update(t, 12.2, 640, 480, &o, 1, &id);
	ASSERT_EQ(id, 2); /* new, monotonic id */
	track_free(t);
}

TEST(expired_track_not_matched_same_frame)
{
	struct tracker *t = mk(1.0);
	struct track_obs o = face(100, 100, 80, 80, EMO_NEUTRAL);
	int id = 0;

	track_update(t, 0.0, 640, 480, &o, 1, &id);
	track_update(t, 5.0, 640, 480, &o, 1, &id);
	ASSERT_EQ(id, 2);
	ASSERT_EQ(track_count(t), 1);
	track_free(t);
}

TEST(two_faces_crossing_do_not_swap)
{
	struct tracker *t = mk(1.0);
	int ids[2], first[2] = {0, 0};

	/* A moves right, B moves left along the same row; they pass through
	 * each other. Right after the crossing each face overlaps the other
	 * track's last box more than its own: only the motion model helps. */
	for (int f = 0; f <= 16; f++) {
		struct track_obs o[2] = {
			face(40.0f + 30.0f * f, 200, 80, 80, EMO_HAPPY),
			face(530.0f - 30.0f * f, 200, 80, 80, EMO_SAD),
		};

		track_update(t, f * 0.2, 640, 480, o, 2, ids);
		if (f == 0) {
			first[0] = ids[0];
			first[1] = ids[1];
			ASSERT(first[0] != first[1]);
		} else {
			ASSERT_EQ(ids[0], first[0]);
			ASSERT_EQ(ids[1], first[1]);
		}
	}
	ASSERT_EQ(track_count(t), 2);
	/* A's smoothed state is still mostly happy (EMA, no swap). */
	ASSERT_EQ(track_find(t, first[0])->dominant, EMO_HAPPY);
	ASSERT_EQ(track_find(t, first[1])->dominant, EMO_SAD);
	track_free(t);
}

TEST(two_faces_passing_vertically_offset)
{
	struct tracker *t = mk(1.0);
	int ids[2];

	for (int f = 0; f <= 12; f++) {
		struct track_obs o[2] = {
			face(60.0f + 40.0f * f, 150, 100, 100, EMO_HAPPY),
			face(540.0f - 40.0f * f, 190, 100, 100, EMO_SAD),
		};

		track_update(t, f * 0.2, 640, 480, o, 2, ids);
		ASSERT_EQ(ids[0], 1);
		ASSERT_EQ(ids[1], 2);
	}
	track_free(t);
}

TEST(new_faces_get_new_ids)
{
	struct tracker *t = mk(1.0);
	struct track_obs o[3] = {face(0, 0, 50, 50, 0), face(200, 0, 50, 50, 1),
				 face(400, 0, 50, 50, 2)};
	int ids[3];

	ASSERT_EQ(track_update(t, 0, 640, 480, o, 1, ids), 1);
	ASSERT_EQ(track_update(t, 0.2, 640, 480, o, 3, ids), 3);
	ASSERT_EQ(ids[0], 1);
	ASSERT_EQ(ids[1], 2);
	ASSERT_EQ(ids[2], 3);
	/* ordered by id */
	ASSERT_EQ(track_at(t, 0)->id, 1);
	ASSERT_EQ(track_at(t, 2)->id, 3);
	ASSERT(track_at(t, 3) == NULL);
	ASSERT(track_at(t, -1) == NULL);
	track_reset(t);
	ASSERT_EQ(track_count(t), 0);
	track_update(t, 0.4, 640, 480, o, 1, ids);
	ASSERT_EQ(ids[0], 4); /* ids never reused */
	track_free(t);
}

TEST(seats_name_tracks)
{
	struct track_seat seats[2] = {
		{"Ann", {0, 0, 320, 480}},
		{"Bob", {320, 0, 320, 480}},
	};
	struct track_opts opt;
	struct tracker *t;
	struct track_obs o[3] = {face(100, 100, 80, 80, 0), face(420, 100, 80, 80, 0),
				 face(700, 100, 80, 80, 0)};
	int ids[3];
	char name[TRACK_NAME_MAX];

	track_opts_default(&opt);
	opt.seats = seats;
	opt.n_seats = 2;
	t = track_new(&opt, NULL);
	ASSERT(t);
	track_update(t, 0, 800, 480, o, 3, ids);
	ASSERT_STR(track_find(t, ids[0])->name, "Ann");
	ASSERT_EQ(track_find(t, ids[0])->seat, 0);
	ASSERT_STR(track_find(t, ids[1])->name, "Bob");
	ASSERT_EQ(track_find(t, ids[1])->seat, 1);
	ASSERT_STR(track_find(t, ids[2])->name, ""); /* outside every seat */
	ASSERT_EQ(track_find(t, ids[2])->seat, -1);
	ASSERT_EQ(track_seat_at(t, 330, 10, 800, 480, name), 1);
	ASSERT_STR(name, "Bob");
	ASSERT_EQ(track_seat_at(t, 700, 10, 800, 480, name), -1);
	ASSERT_STR(name, "");
	track_free(t);
}

TEST(identity_is_seat)
{
	struct track_seat seats[1] = {{"Ann", {0, 0, 320, 480}}};
	struct track_opts opt;
	struct tracker *t;
	struct track_obs a = face(20, 20, 60, 60, EMO_HAPPY), b = face(200, 350, 60, 60, EMO_HAPPY);
	int id1, id2;

	track_opts_default(&opt);
	opt.seats = seats;
	opt.n_seats = 1;
	t = track_new(&opt, NULL);
	track_update(t, 0, 640, 480, &a, 1, &id1);
	/* No IoU with the previous box, but the same seat: same student. */
	track_update(t, 0.5, 640, 480, &b, 1, &id2);
	ASSERT_EQ(id1, id2);
	ASSERT_EQ(track_count(t), 1);
	ASSERT_STR(track_at(t, 0)->name, "Ann");
	track_free(t);
}

TEST(seat_kept_by_first_holder)
{
	struct track_seat seats[1] = {{"Ann", {0, 0, 320, 480}}};
	struct track_opts opt;
	struct tracker *t;
	struct track_obs o[2] = {face(20, 20, 60, 60, 0), face(200, 300, 60, 60, 0)};
	int ids[2];

	track_opts_default(&opt);
	opt.seats = seats;
	opt.n_seats = 1;
	t = track_new(&opt, NULL);
	track_update(t, 0, 640, 480, o, 2, ids);
	ASSERT(ids[0] != ids[1]);
	ASSERT_STR(track_find(t, ids[0])->name, "Ann");
	ASSERT_STR(track_find(t, ids[1])->name, ""); /* one name per seat */
	track_free(t);
}

/* The seat's holder walks out (present, centre in no seat) while another
 * face sits down in it: the face in the seat has its name (it stayed with
 * the one who left). */
TEST(seat_passes_to_the_face_in_it)
{
	struct track_seat seats[1] = {{"Alice", {0, 0, 200, 480}}};
	struct track_opts opt;
	struct tracker *t;
	struct track_obs a = face(60, 100, 80, 80, 0), two[2];
	int ids[2], id_a;

	track_opts_default(&opt);
	opt.seats = seats;
	opt.n_seats = 1;
	t = track_new(&opt, NULL);
	track_update(t, 0, 640, 480, &a, 1, &id_a);
	ASSERT_STR(track_find(t, id_a)->name, "Alice");
	/* A walks out in steps its track follows (IoU 0.45) */
	for (int f = 1; f <= 10; f++) {
		a = face(60 + 30.0f * f, 100, 80, 80, 0);
		track_update(t, 0.1 * f, 640, 480, &a, 1, ids);
		ASSERT_EQ(ids[0], id_a);
	}
	ASSERT_STR(track_find(t, id_a)->name, "Alice"); /* kept while in no seat */
	two[0] = a;                        /* A, outside every seat */
	two[1] = face(60, 300, 80, 80, 0); /* B sits down in the seat */
	track_update(t, 1.1, 640, 480, two, 2, ids);
	ASSERT_EQ(ids[0], id_a);
	ASSERT(ids[1] != id_a);
	ASSERT_STR(track_find(t, ids[1])->name, "Alice");
	ASSERT_STR(track_find(t, id_a)->name, "");
	track_free(t);
}

/* Two faces side by side lean the same way: greedy matching paired the
 * best IoU (the right track with the left face) first and left the left
 * track without a face: the left face got the right one's id. Every face
 * keeps its own. */
TEST(adjacent_faces_leaning_keep_ids)
{
	struct tracker *t = mk(0);
	struct track_obs o[2] = {face(100, 100, 100, 100, EMO_HAPPY), face(160, 100, 100, 100, EMO_SAD)};
	int ids0[2], ids1[2];

	track_update(t, 0, 640, 480, o, 2, ids0);
	ASSERT(ids0[0] != ids0[1]);
	o[0] = face(150, 100, 100, 100, EMO_HAPPY);
	o[1] = face(190, 100, 100, 100, EMO_SAD);
	ASSERT_EQ(track_update(t, 0.1, 640, 480, o, 2, ids1), 2);
	ASSERT_EQ(ids1[0], ids0[0]);
	ASSERT_EQ(ids1[1], ids0[1]);
	ASSERT_EQ(track_count(t), 2);
	track_free(t);
}

TEST(gallery_grid_names_row_major)
{
	static const char *const names[3] = {"r0c0", "r0c1", "r1c0"};
	struct track_opts opt;
	struct tracker *t;
	struct track_obs o[4] = {face(10, 10, 50, 50, 0), face(330, 10, 50, 50, 0),
				 face(10, 250, 50, 50, 0), face(330, 250, 50, 50, 0)};
	int ids[4];

	track_opts_default(&opt);
	opt.grid_rows = 2;
	opt.grid_cols = 2;
	opt.grid_names = names;
	opt.n_grid_names = 3;
	t = track_new(&opt, NULL);
	ASSERT(t);
	track_update(t, 0, 640, 480, o, 4, ids);
	ASSERT_STR(track_find(t, ids[0])->name, "r0c0");
	ASSERT_STR(track_find(t, ids[1])->name, "r0c1");
	ASSERT_STR(track_find(t, ids[2])->name, "r1c0");
	ASSERT_STR(track_find(t, ids[3])->name, ""); /* more cells than names */
	ASSERT_EQ(track_find(t, ids[3])->seat, 3);
	/* Unknown frame size: no grid naming. */
	ASSERT_EQ(track_seat_at(t, 10, 10, 0, 0, NULL), -1);
	track_free(t);
}

TEST(set_seats_renames)
{
	struct track_seat a[1] = {{"Ann", {0, 0, 320, 480}}}, b[2] = {{"Bob", {0, 0, 200, 200}},
								     {"Cy", {200, 0, 200, 200}}};
	struct track_opts opt;
	struct tracker *t;
	struct track_obs o = face(20, 20, 60, 60, 0);
	int id;

	track_opts_default(&opt);
	opt.seats = a;
	opt.n_seats = 1;
	t = track_new(&opt, NULL);
	track_update(t, 0, 640, 480, &o, 1, &id);
	ASSERT_STR(track_at(t, 0)->name, "Ann");
	ASSERT_EQ(track_set_seats(t, b, 2), EMO_OK);
	ASSERT_STR(track_at(t, 0)->name, "");
	track_update(t, 0.2, 640, 480, &o, 1, &id);
	ASSERT_EQ(id, 1);
	ASSERT_STR(track_at(t, 0)->name, "Bob");
	b[1].box.w = -1;
	ASSERT_EQ(track_set_seats(t, b, 2), EMO_EINVAL);
	ASSERT_STR(track_at(t, 0)->name, "Bob"); /* unchanged on error */
	ASSERT_EQ(track_set_seats(NULL, b, 1), EMO_EINVAL);
	ASSERT_EQ(track_set_seats(t, NULL, 1), EMO_EINVAL);
	ASSERT_EQ(track_set_seats(t, NULL, 0), EMO_OK);
	track_update(t, 0.4, 640, 480, &o, 1, &id);
	ASSERT_STR(track_at(t, 0)->name, "");
	ASSERT_EQ(track_at(t, 0)->seat, -1);
	track_free(t);
}

TEST(ema_half_life_one_step)
{
	struct tracker *t = mk(2.0);
	struct track_obs o = face(100, 100, 80, 80, EMO_HAPPY);

	track_update(t, 0, 640, 480, &o, 1, NULL);
	ASSERT_NEAR(track_at(t, 0)->probs[EMO_HAPPY], 1.0, 1e-6); /* first obs initialises */
	o.probs[EMO_HAPPY] = 0;
	o.probs[EMO_SAD] = 1;
	track_update(t, 2.0, 640, 480, &o, 1, NULL);
	ASSERT_NEAR(track_at(t, 0)->probs[EMO_SAD], 0.5, 1e-6);
	ASSERT_NEAR(track_at(t, 0)->probs[EMO_HAPPY], 0.5, 1e-6);
	ASSERT_NEAR(track_at(t, 0)->raw[EMO_SAD], 1.0, 1e-6);
	track_free(t);
}

TEST(ema_half_life_many_frames)
{
	struct tracker *t = mk(1.0);
	struct track_obs o = face(100, 100, 80, 80, EMO_NEUTRAL);

	track_update(t, 0, 640, 480, &o, 1, NULL);
	o.probs[EMO_NEUTRAL] = 0;
	o.probs[EMO_ANGRY] = 1;
	/* 1 s of constant input in 8 uneven steps = one half-life. */
	{
		static const double ts[8] = {0.05, 0.1, 0.3, 0.35, 0.6, 0.7, 0.95, 1.0};

		for (int i = 0; i < 8; i++)
			track_update(t, ts[i], 640, 480, &o, 1, NULL);
	}
	ASSERT_NEAR(track_at(t, 0)->probs[EMO_ANGRY], 0.5, 1e-5);
	/* one more half-life: three quarters */
	for (int i = 1; i <= 10; i++)
		track_update(t, 1.0 + i * 0.1, 640, 480, &o, 1, NULL);
	ASSERT_NEAR(track_at(t, 0)->probs[EMO_ANGRY], 0.75, 1e-5);
	ASSERT_EQ(track_at(t, 0)->dominant, EMO_ANGRY);
	ASSERT_NEAR(track_at(t, 0)->confidence, 0.75, 1e-5);
	track_free(t);
}

TEST(no_smoothing_when_half_life_zero)
{
	struct tracker *t = mk(0.0);
	struct track_obs o = face(100, 100, 80, 80, EMO_HAPPY);

	track_update(t, 0, 640, 480, &o, 1, NULL);
	o.probs[EMO_HAPPY] = 0;
	o.probs[EMO_FEAR] = 1;
	track_update(t, 0.1, 640, 480, &o, 1, NULL);
	ASSERT_NEAR(track_at(t, 0)->probs[EMO_FEAR], 1.0, 1e-6);
	track_free(t);
}

TEST(bad_input)
{
	struct tracker *t = mk(1.0);
	struct track_obs o[3] = {face(10, 10, 0, 50, 0), face(10, 10, 50, 50, -1),
				 face(NAN, 10, 50, 50, 0)};
	int ids[3];
	float sum = 0;

	ASSERT_EQ(track_update(NULL, 0, 640, 480, o, 1, ids), EMO_EINVAL);
	ASSERT_EQ(track_update(t, 0, 640, 480, o, -1, ids), EMO_EINVAL);
	ASSERT_EQ(track_update(t, 0, 640, 480, NULL, 1, ids), EMO_EINVAL);
	ASSERT_EQ(track_update(t, NAN, 640, 480, o, 1, ids), EMO_EINVAL);
	ASSERT_EQ(track_update(t, INFINITY, 640, 480, o, 1, ids), EMO_EINVAL);
	ASSERT_EQ(track_count(t), 0);
	/* empty box and NaN box ignored; all-zero probs become uniform */
	o[1].probs[2] = NAN;
	o[1].probs[3] = -1;
	ASSERT_EQ(track_update(t, 0, 640, 480, o, 3, ids), 1);
	ASSERT_EQ(ids[0], -1);
	ASSERT_EQ(ids[1], 1);
	ASSERT_EQ(ids[2], -1);
	for (int k = 0; k < EMO_NUM_CLASSES; k++) {
		ASSERT(isfinite(track_at(t, 0)->probs[k]));
		sum += track_at(t, 0)->probs[k];
	}
	ASSERT_NEAR(sum, 1.0, 1e-5);
	ASSERT_EQ(track_count(NULL), 0);
	ASSERT(track_at(NULL, 0) == NULL);
	ASSERT(track_find(NULL, 1) == NULL);
	track_reset(NULL);
	track_free(NULL);
	track_free(t);
}

TEST(time_going_backwards_is_clamped)
{
	struct tracker *t = mk(1.0);
	struct track_obs o = face(100, 100, 80, 80, EMO_HAPPY);
	int id;

	track_update(t, 100.0, 640, 480, &o, 1, &id);
	/* an earlier time acts as 100.0: no drop, no negative dt (so another
	 * expression then weighs nothing) */
	o = face(100, 100, 80, 80, EMO_SAD);
	ASSERT_EQ(track_update(t, 50.0, 640, 480, &o, 1, &id), 1);
	ASSERT_EQ(id, 1);
	ASSERT_NEAR(track_at(t, 0)->last_seen, 100.0, 1e-9);
	ASSERT_NEAR(track_at(t, 0)->probs[EMO_HAPPY], 1.0, 1e-6);
	ASSERT_NEAR(track_at(t, 0)->probs[EMO_SAD], 0.0, 1e-6);
	track_free(t);
}

TEST(capacity_bounded)
{
	struct track_opts opt;
	struct tracker *t;
	struct track_obs o[6];
	int ids[6];

	track_opts_default(&opt);
	opt.max_tracks = 4;
	t = track_new(&opt, NULL);
	for (int i = 0; i < 6; i++)
		o[i] = face(100.0f * i, 0, 60, 60, 0);
	ASSERT_EQ(track_update(t, 0, 640, 480, o, 6, ids), 4);
	ASSERT_EQ(ids[3], 4);
	ASSERT_EQ(ids[4], -1);
	ASSERT_EQ(ids[5], -1);
	track_free(t);
}

TEST(many_faces_full_capacity)
{
	static struct track_obs o[TRACK_MAX + 10];
	static int ids[TRACK_MAX + 10];
	struct tracker *t = mk(1.0);

	for (int i = 0; i < TRACK_MAX + 10; i++)
		o[i] = face((float)(i % 20) * 30, (float)(i / 20) * 30, 25, 25, i % 7);
	for (int f = 0; f < 3; f++)
		ASSERT_EQ(track_update(t, f * 0.2, 640, 480, o, TRACK_MAX + 10, ids), TRACK_MAX);
	for (int i = 0; i < TRACK_MAX; i++)
		ASSERT_EQ(ids[i], i + 1);
	ASSERT_EQ(ids[TRACK_MAX], -1);
	track_free(t);
}

TEST(bad_options)
{
	struct track_opts o;
	struct emo_err err;
	struct track_seat seat = {"x", {0, 0, 10, 10}};
	char longname[TRACK_NAME_MAX + 8];
	const char *names[5] = {"a", "b", "c", "d", "e"};

	track_opts_default(&o);
	o.iou_threshold = 1.5f;
	memset(&err, 0, sizeof(err));
	ASSERT(track_new(&o, &err) == NULL);
	ASSERT(strstr(err.msg, "iou"));
	track_opts_default(&o);
	o.ttl = 0;
	ASSERT(track_new(&o, NULL) == NULL);
	track_opts_default(&o);
	o.max_tracks = TRACK_MAX + 1;
	ASSERT(track_new(&o, NULL) == NULL);
	track_opts_default(&o);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	seat.name = longname;
	o.seats = &seat;
	o.n_seats = 1;
	ASSERT(track_new(&o, &err) == NULL);
	ASSERT(strstr(err.msg, "longer"));
	seat.name = "x";
	seat.box.w = -1;
	ASSERT(track_new(&o, NULL) == NULL);
	seat.box.w = NAN;
	ASSERT(track_new(&o, NULL) == NULL);
	/* an empty seat (clipped away by a smaller frame) holds nobody, no error */
	seat.box.w = 0;
	{
		struct tracker *t0 = track_new(&o, NULL);
		ASSERT(t0 != NULL);
		track_free(t0);
	}
	track_opts_default(&o);
	o.grid_rows = 2;
	o.grid_cols = 2;
	o.grid_names = names;
	o.n_grid_names = 5;
	ASSERT(track_new(&o, &err) == NULL);
	o.grid_cols = 0;
	o.n_grid_names = 0;
	ASSERT(track_new(&o, NULL) == NULL);
	track_opts_default(&o);
	o.grid_rows = 20;
	o.grid_cols = 20;
	ASSERT(track_new(&o, NULL) == NULL);
	/* NULL options: defaults */
	{
		struct tracker *t = track_new(NULL, NULL);

		ASSERT(t);
		track_free(t);
	}
}

int main(int argc, char **argv)
{
	unit_init(argc, argv);
	RUN(defaults);
	RUN(id_stable_through_motion);
	RUN(short_occlusion_keeps_id);
	RUN(dropped_after_ttl);
	RUN(expired_track_not_matched_same_frame);
	RUN(two_faces_crossing_do_not_swap);
	RUN(two_faces_passing_vertically_offset);
	RUN(new_faces_get_new_ids);
	RUN(seats_name_tracks);
	RUN(identity_is_seat);
	RUN(seat_kept_by_first_holder);
	RUN(seat_passes_to_the_face_in_it);
	RUN(adjacent_faces_leaning_keep_ids);
	RUN(gallery_grid_names_row_major);
	RUN(set_seats_renames);
	RUN(ema_half_life_one_step);
	RUN(ema_half_life_many_frames);
	RUN(no_smoothing_when_half_life_zero);
	RUN(bad_input);
	RUN(time_going_backwards_is_clamped);
	RUN(capacity_bounded);
	RUN(many_faces_full_capacity);
	RUN(bad_options);
	return unit_done();
}
