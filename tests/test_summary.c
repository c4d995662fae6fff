/* test_summary.c - rolling window, dominant/negative share, alerts, buckets,
 * session totals and history. */
#include <math.h>

#include "emotop/summary.h"
#include "unit.h"

/* A tracker without smoothing, so a frame's mean is exactly its inputs. */
static struct tracker *mk_tracker(void)
{
	struct track_opts o;

	track_opts_default(&o);
	o.half_life = 0;
	o.ttl = 0.01; /* a face absent for a frame is gone */
	return track_new(&o, NULL);
}

/* Frame at time t with n faces (n <= 4), face i one-hot on cls[i]. */
static void frame(struct tracker *tr, struct summary_ctx *s, double t, int n, const int *cls)
{
	struct track_obs o[4];

	memset(o, 0, sizeof(o));
	for (int i = 0; i < n; i++) {
		o[i].box.x = 10.0f + 150.0f * i;
		o[i].box.y = 10;
		o[i].box.w = 100;
		o[i].box.h = 100;
		o[i].probs[cls[i]] = 1.0f;
	}
	track_update(tr, t, 640, 480, o, n, NULL);
	summary_update(s, t, tr);
}

/* Frame at time t with n faces (n <= 4), every face with probabilities p. */
static void frame_probs(struct tracker *tr, struct summary_ctx *s, double t, int n, const float *p)
{
	struct track_obs o[4];

	memset(o, 0, sizeof(o));
	for (int i = 0; i < n; i++) {
		o[i].box.x = 10.0f + 150.0f * i;
		o[i].box.y = 10;
		o[i].box.w = 100;
		o[i].box.h = 100;
		memcpy(o[i].probs, p, sizeof(o[i].probs));
	}
	track_update(tr, t, 640, 480, o, n, NULL);
	summary_update(s, t, tr);
}

static struct summary snap; /* large: static */

static struct summary_ctx *mk(double window, const struct summary_rule *rules, int n_rules)
{
	struct summary_opts o;

	summary_opts_default(&o);
	o.window = window;
	o.rules = rules;
	o.n_rules = n_rules;
	return summary_new(&o, NULL);
}

TEST(defaults)
{
	struct summary_opts o;

	summary_opts_default(&o);
	ASSERT_NEAR(o.window, 60.0, 1e-9);
	ASSERT_EQ(o.n_rules, 0);
	ASSERT_EQ(o.window_cap, 0); /* automatic */
}

TEST(dominant_and_negative_share)
{
	struct tracker *tr = mk_tracker();
	struct summary_ctx *s = mk(60, NULL, 0);
	int cls[4] = {EMO_SAD, EMO_ANGRY, EMO_HAPPY, EMO_SAD};

	frame(tr, s, 0.0, 4, cls);
	summary_snapshot(s, 0.0, &snap);
	ASSERT_EQ(snap.faces, 4);
	ASSERT_NEAR(snap.frame_mean[EMO_SAD], 0.5, 1e-6);
	ASSERT_NEAR(snap.frame_mean[EMO_ANGRY], 0.25, 1e-6);
	ASSERT_EQ(snap.frame_dominant, EMO_SAD);
	ASSERT_NEAR(snap.frame_negative, 0.75, 1e-6);
	ASSERT_EQ(snap.dominant, EMO_SAD);
	ASSERT_NEAR(snap.confidence, 0.5, 1e-6);
	ASSERT_NEAR(snap.negative, 0.75, 1e-6);
	ASSERT_EQ(snap.n_students, 4);
	ASSERT_EQ(snap.students[0].id, 1);
	ASSERT_EQ(snap.students[0].dominant, EMO_SAD);
	ASSERT_NEAR(snap.students[0].negative, 1.0, 1e-6);
	ASSERT_NEAR(snap.students[2].negative, 0.0, 1e-6);
	ASSERT_EQ(snap.students[0].present, 1);
	summary_free(s);
	track_free(tr);
}

/* A calm neutral class: the mass on the four negative classes is 0.35 (the
 * old `negative` read that), yet no face looks negative. */
TEST(neutral_class_reads_not_negative)
{
	struct tracker *tr = mk_tracker();
	struct summary_ctx *s = mk(60, NULL, 0);
	/* angry disgust fear happy sad surprise neutral */
	const float p[EMO_NUM_CLASSES] = {0.10f, 0.05f, 0.05f, 0.10f, 0.15f, 0.05f, 0.50f};
	struct summary_totals tot;

	for (int i = 0; i < 20; i++)
		frame_probs(tr, s, i * 0.5, 4, p);
	summary_snapshot(s, 9.5, &snap);
	ASSERT_EQ(snap.dominant, EMO_NEUTRAL);
	ASSERT_NEAR(snap.negative, 0.0, 1e-6);
	ASSERT_NEAR(snap.frame_negative, 0.0, 1e-6);
	ASSERT_NEAR(snap.valence, 0.0, 0.02);
	ASSERT_NEAR(snap.frame_valence, 0.0, 0.02);
	ASSERT_NEAR(snap.students[0].negative, 0.0, 1e-6);
	ASSERT_NEAR(snap.students[0].valence, 0.0, 0.02);
	ASSERT_NEAR(snap.buckets[0].negative, 0.0, 1e-6);
	summary_totals(s, &tot);
	ASSERT_NEAR(tot.negative, 0.0, 1e-6);
	ASSERT_NEAR(tot.valence, 0.0, 0.02);
	summary_free(s);
	track_free(tr);
}

TEST(angry_class_reads_negative)
{
	struct tracker *tr = mk_tracker();
	struct summary_ctx *s = mk(60, NULL, 0);
	const float p[EMO_NUM_CLASSES] = {0.70f, 0.10f, 0.05f, 0.02f, 0.05f, 0.03f, 0.05f};
	const float calm[EMO_NUM_CLASSES] = {0.10f, 0.05f, 0.05f, 0.10f, 0.15f, 0.05f, 0.50f};

	for (int i = 0; i < 20; i++)
		frame_probs(tr, s, i * 0.5, 4, p);
	summary_snapshot(s, 9.5, &snap);
	ASSERT_NEAR(snap.negative, 1.0, 1e-6);
	ASSERT(snap.valence < -0.5);
	ASSERT(snap.valence >= -1.0);
	ASSERT_NEAR(snap.students[0].negative, 1.0, 1e-6);
	summary_free(s);
	track_free(tr);
	/* a quarter of the class angry, the rest calm: the share says a quarter */
	tr = mk_tracker();
	s = mk(60, NULL, 0);
	for (int i = 0; i < 20; i++) {
		struct track_obs o[4];

		memset(o, 0, sizeof(o));
		for (int k = 0; k < 4; k++) {
			o[k].box.x = 10.0f + 150.0f * k;
			o[k].box.y = 10;
			o[k].box.w = o[k].box.h = 100;
			memcpy(o[k].probs, k ? calm : p, sizeof(o[k].probs));
		}
		track_update(tr, i * 0.5, 640, 480, o, 4, NULL);
		summary_update(s, i * 0.5, tr);
	}
	summary_snapshot(s, 9.5, &snap);
	ASSERT_NEAR(snap.negative, 0.25, 1e-6);
	summary_free(s);
	track_free(tr);
}

/* Unsure (uniform) faces: 4/7 of their mass is on the negative classes,
 * none is negative, and the valence is 0; a happy face is positive. */
TEST(unsure_face_reads_zero)
{
	struct tracker *tr = mk_tracker();
	struct summary_ctx *s = mk(60, NULL, 0);
	float p[EMO_NUM_CLASSES];

	for (int k = 0; k < EMO_NUM_CLASSES; k++)
		p[k] = 1.0f / EMO_NUM_CLASSES;
	frame_probs(tr, s, 0, 3, p);
	summary_snapshot(s, 0, &snap);
	ASSERT_NEAR(snap.negative, 0.0, 1e-6);
	ASSERT_NEAR(snap.valence, 0.0, 1e-6);
	ASSERT_EQ(emo_face_negative(p), 0);
	/* mass 0.6 on the negatives but neutral on top: not negative */
	{
		const float q[EMO_NUM_CLASSES] = {0.15f, 0.15f, 0.15f, 0.0f, 0.15f, 0.0f, 0.40f};
		const float r[EMO_NUM_CLASSES] = {0.30f, 0.10f, 0.10f, 0.0f, 0.10f, 0.0f, 0.40f};

		ASSERT_EQ(emo_face_negative(q), 0);
		ASSERT_EQ(emo_face_negative(r), 0); /* 0.6 on the four, but neutral tops */
	}
	{
		const float h[EMO_NUM_CLASSES] = {0, 0, 0, 1, 0, 0, 0};
		const float a[EMO_NUM_CLASSES] = {1, 0, 0, 0, 0, 0, 0};

		ASSERT_NEAR(emo_face_valence(h), 1.0, 1e-6);
		ASSERT_NEAR(emo_face_valence(a), emo_class_valence(EMO_ANGRY), 1e-6);
	}
	summary_free(s);
	track_free(tr);
}

/* A source that is not up: no faces from frames that did not arrive, the
 * window keeps only the frames that came, the built-in alert after
 * source_down seconds, once per outage; the end of a file is no outage. */
TEST(source_down_reports_no_faces_and_alerts)
{
	struct tracker *tr = mk_tracker();
	struct summary_opts o;
	struct summary_ctx *s;
	int cls[2] = {EMO_HAPPY, EMO_SAD};

	summary_opts_default(&o);
	o.source_down = 5;
	s = summary_new(&o, NULL);
	ASSERT(s);
	for (int i = 0; i <= 4; i++)
		frame(tr, s, i * 0.5, 2, cls);
	summary_snapshot(s, 2.0, &snap);
	ASSERT_EQ(snap.faces, 2);
	ASSERT_EQ(snap.stats.source_state, SUMMARY_SOURCE_UP);
	ASSERT_EQ(summary_source(s, 2.5, SUMMARY_SOURCE_RECONNECTING), EMO_OK);
	summary_snapshot(s, 2.5, &snap);
	ASSERT_EQ(snap.stats.source_state, SUMMARY_SOURCE_RECONNECTING);
	ASSERT_EQ(snap.faces, 0);
	ASSERT_EQ(snap.frame_dominant, -1);
	ASSERT_NEAR(snap.frame_negative, 0, 1e-9);
	ASSERT_EQ(snap.n_students, 2);
	ASSERT_EQ(snap.students[0].present, 0);
	ASSERT_EQ(snap.students[1].present, 0);
	ASSERT_EQ(snap.window_frames, 5); /* only frames that arrived */
	ASSERT_EQ(snap.alerts_total, 0);
	summary_source(s, 7.4, SUMMARY_SOURCE_RECONNECTING);
	summary_snapshot(s, 7.4, &snap);
	ASSERT_EQ(snap.alerts_total, 0);
	summary_source(s, 7.6, SUMMARY_SOURCE_RECONNECTING);
	summary_source(s, 9.0, SUMMARY_SOURCE_RECONNECTING);
	summary_snapshot(s, 9.0, &snap);
	ASSERT_EQ(snap.alerts_total, 1);
	ASSERT_STR(snap.alerts[0].rule, SUMMARY_SOURCE_DOWN_RULE);
	ASSERT_NEAR(snap.alerts[0].since, 2.5, 1e-9);
	ASSERT_NEAR(snap.alerts[0].time, 7.6, 1e-9);
	ASSERT_NEAR(snap.alerts[0].value, 5.1, 1e-9);
	ASSERT_EQ(snap.n_rules, 1);
	ASSERT_STR(snap.rules[0].rule, SUMMARY_SOURCE_DOWN_RULE);
	ASSERT_EQ(snap.rules[0].fired, 1);
	ASSERT_EQ(snap.window_frames, 5);
	/* frames again: up, faces back; a new outage fires again */
	frame(tr, s, 10.0, 2, cls);
	summary_snapshot(s, 10.0, &snap);
	ASSERT_EQ(snap.stats.source_state, SUMMARY_SOURCE_UP);
	ASSERT_EQ(snap.faces, 2);
	summary_source(s, 11, SUMMARY_SOURCE_RECONNECTING);
	summary_source(s, 16, SUMMARY_SOURCE_RECONNECTING);
	summary_snapshot(s, 16, &snap);
	ASSERT_EQ(snap.alerts_total, 2);
	/* the end of the input: no faces, no alert however long */
	frame(tr, s, 17.0, 2, cls);
	summary_source(s, 17.5, SUMMARY_SOURCE_ENDED);
	summary_source(s, 100, SUMMARY_SOURCE_ENDED);
	summary_snapshot(s, 100, &snap);
	ASSERT_EQ(snap.stats.source_state, SUMMARY_SOURCE_ENDED);
	ASSERT_EQ(snap.faces, 0);
	ASSERT_EQ(snap.alerts_total, 2);
	ASSERT_EQ(summary_source(s, 100, 9), EMO_EINVAL);
	ASSERT_STR(summary_source_state_name(SUMMARY_SOURCE_LOST), "lost");
	summary_free(s);
	track_free(tr);
}

TEST(no_faces_means_no_mood)
{
	struct tracker *tr = mk_tracker();
	struct summary_ctx *s = mk(60, NULL, 0);

	frame(tr, s, 0.0, 0, NULL);
	summary_snapshot(s, 0.0, &snap);
	ASSERT_EQ(snap.faces, 0);
	ASSERT_EQ(snap.dominant, -1);
	ASSERT_EQ(snap.frame_dominant, -1);
	ASSERT_NEAR(snap.negative, 0.0, 1e-9);
	ASSERT_EQ(snap.window_frames, 1);
	summary_free(s);
	track_free(tr);
}

TEST(window_weights_faces)
{
	struct tracker *tr = mk_tracker();
	struct summary_ctx *s = mk(60, NULL, 0);
	int happy3[3] = {EMO_HAPPY, EMO_HAPPY, EMO_HAPPY}, sad[1] = {EMO_SAD};

	frame(tr, s, 0.0, 3, happy3);
	frame(tr, s, 1.0, 1, sad);
	summary_snapshot(s, 1.0, &snap);
	/* 4 face observations: 3 happy, 1 sad */
	ASSERT_NEAR(snap.mean[EMO_HAPPY], 0.75, 1e-6);
	ASSERT_NEAR(snap.mean[EMO_SAD], 0.25, 1e-6);
	ASSERT_NEAR(snap.mean_faces, 2.0, 1e-6);
	ASSERT_NEAR(snap.window_span, 1.0, 1e-9);
	summary_free(s);
	track_free(tr);
}

TEST(window_rolls_off_exactly)
{
	struct tracker *tr = mk_tracker();
	struct summary_ctx *s = mk(10, NULL, 0);
	int happy[1] = {EMO_HAPPY}, sad[1] = {EMO_SAD};

	frame(tr, s, 0.0, 1, happy);
	for (int i = 1; i <= 9; i++)
		frame(tr, s, i, 1, sad);
	summary_snapshot(s, 9.0, &snap);
	ASSERT_EQ(snap.window_frames, 10);
	ASSERT_NEAR(snap.mean[EMO_HAPPY], 0.1, 1e-6);
	summary_snapshot(s, 9.999, &snap);
	ASSERT_EQ(snap.window_frames, 10);
	/* at now = 10 the frame of t = 0 is exactly `window` old: out */
	summary_snapshot(s, 10.0, &snap);
	ASSERT_EQ(snap.window_frames, 9);
	ASSERT_NEAR(snap.mean[EMO_HAPPY], 0.0, 1e-9);
	ASSERT_NEAR(snap.mean[EMO_SAD], 1.0, 1e-6);
	/* the same through an update */
	frame(tr, s, 10.0, 1, sad);
	summary_snapshot(s, 10.0, &snap);
	ASSERT_EQ(snap.window_frames, 10);
	ASSERT_NEAR(snap.mean[EMO_HAPPY], 0.0, 1e-9);
	/* much later: everything rolled off */
	summary_snapshot(s, 100.0, &snap);
	ASSERT_EQ(snap.window_frames, 0);
	ASSERT_EQ(snap.dominant, -1);
	ASSERT_NEAR(snap.uptime, 100.0, 1e-9);
	summary_free(s);
	track_free(tr);
}

TEST(window_capacity_evicts_oldest)
{
	struct summary_opts o;
	struct summary_ctx *s;
	struct tracker *tr = mk_tracker();
	int happy[1] = {EMO_HAPPY};

	summary_opts_default(&o);
	o.window_cap = 5;
	s = summary_new(&o, NULL);
	for (int i = 0; i < 8; i++)
		frame(tr, s, i * 0.1, 1, happy);
	summary_snapshot(s, 0.7, &snap);
	ASSERT_EQ(snap.window_frames, 5);
	summary_free(s);
	track_free(tr);
}

TEST(reset_clears_window_keeps_totals)
{
	struct tracker *tr = mk_tracker();
	struct summary_ctx *s = mk(60, NULL, 0);
	struct summary_totals tot;
	int happy[1] = {EMO_HAPPY}, sad[1] = {EMO_SAD};

	for (int i = 0; i < 5; i++)
		frame(tr, s, i, 1, happy);
	summary_reset(s);
	summary_snapshot(s, 5.0, &snap);
	ASSERT_EQ(snap.window_frames, 0);
	ASSERT_EQ(snap.dominant, -1);
	frame(tr, s, 5.0, 1, sad);
	summary_snapshot(s, 5.0, &snap);
	ASSERT_EQ(snap.window_frames, 1);
	ASSERT_EQ(snap.dominant, EMO_SAD);
	summary_totals(s, &tot);
	ASSERT_EQ(tot.frames, 6);
	ASSERT_NEAR(tot.mean[EMO_HAPPY], 5.0 / 6, 1e-6);
	summary_free(s);
	track_free(tr);
}

TEST(alert_fires_after_for_seconds_once)
{
	struct summary_rule rule = {"gloom", SUMMARY_METRIC_NEGATIVE, 0, SUMMARY_CMP_GT, 0.5, 3.0};
	struct tracker *tr = mk_tracker();
	struct summary_ctx *s = mk(60, &rule, 1);
	int sad[1] = {EMO_SAD}, happy[1] = {EMO_HAPPY};

	/* t = 0 .. 2.5: held 2.5 s, not yet */
	for (int i = 0; i <= 5; i++)
		frame(tr, s, i * 0.5, 1, sad);
	summary_snapshot(s, 2.5, &snap);
	ASSERT_EQ(snap.alerts_total, 0);
	frame(tr, s, 3.0, 1, sad);
	summary_snapshot(s, 3.0, &snap);
	ASSERT_EQ(snap.alerts_total, 1);
	ASSERT_EQ(snap.n_alerts, 1);
	ASSERT_STR(snap.alerts[0].rule, "gloom");
	ASSERT_NEAR(snap.alerts[0].time, 3.0, 1e-9);
	ASSERT_NEAR(snap.alerts[0].since, 0.0, 1e-9);
	ASSERT_NEAR(snap.alerts[0].value, 1.0, 1e-6);
	ASSERT_EQ(snap.alerts[0].seq, 1);
	/* still holding: once per episode */
	for (int i = 7; i <= 20; i++)
		frame(tr, s, i * 0.5, 1, sad);
	summary_snapshot(s, 10.0, &snap);
	ASSERT_EQ(snap.alerts_total, 1);
	/* clears, then holds again from 11: fires at 14, not before */
	frame(tr, s, 10.5, 1, happy);
	for (int i = 22; i <= 27; i++)
		frame(tr, s, i * 0.5, 1, sad);
	summary_snapshot(s, 13.5, &snap);
	ASSERT_EQ(snap.alerts_total, 1);
	frame(tr, s, 14.0, 1, sad);
	summary_snapshot(s, 14.0, &snap);
	ASSERT_EQ(snap.alerts_total, 2);
	ASSERT_NEAR(snap.alerts[1].time, 14.0, 1e-9);
	ASSERT_NEAR(snap.alerts[1].since, 11.0, 1e-9);
	summary_free(s);
	track_free(tr);
}

/* The snapshot counts each rule's alerts over the session (the metrics
 * file's emotop_alerts_total{rule}); summary_reset() keeps them. */
TEST(rule_totals_count_each_rule)
{
	struct summary_rule rules[2] = {
		{"gloom", SUMMARY_METRIC_NEGATIVE, 0, SUMMARY_CMP_GT, 0.5, 1.0},
		{"joy", SUMMARY_METRIC_EMOTION, EMO_HAPPY, SUMMARY_CMP_GT, 0.5, 1.0},
	};
	struct tracker *tr = mk_tracker();
	struct summary_ctx *s = mk(60, rules, 2);
	int sad[1] = {EMO_SAD}, happy[1] = {EMO_HAPPY};

	summary_snapshot(s, 0, &snap);
	ASSERT_EQ(snap.n_rules, 2);
	ASSERT_STR(snap.rules[0].rule, "gloom");
	ASSERT_STR(snap.rules[1].rule, "joy");
	ASSERT_EQ(snap.rules[0].fired + snap.rules[1].fired, 0);
	/* sad 0..2 (gloom fires), happy 2.5..4.5 (joy), sad again 5..7 (gloom) */
	for (int i = 0; i <= 14; i++)
		frame(tr, s, i * 0.5, 1, i < 5 || i >= 10 ? sad : happy);
	summary_snapshot(s, 7.0, &snap);
	ASSERT_EQ(snap.rules[0].fired, 2);
	ASSERT_EQ(snap.rules[1].fired, 1);
	ASSERT_EQ(snap.alerts_total, 3);
	summary_reset(s);
	summary_snapshot(s, 7.0, &snap);
	ASSERT_EQ(snap.rules[0].fired, 2);
	summary_free(s);
	track_free(tr);
}

/* A gap in the frames (a pause, an outage, a cut in a recording) ends the
 * episode: a condition seen for under a second before a minute's gap fired
 * at the first frame after it, as if it had held all along. Frames 10 s
 * apart (fps 0.1) are no gap. */
TEST(alert_gap_ends_the_episode)
{
	struct summary_rule rule = {"gloom", SUMMARY_METRIC_NEGATIVE, 0, SUMMARY_CMP_GT, 0.5, 30.0};
	struct tracker *tr = mk_tracker();
	struct summary_ctx *s = mk(60, &rule, 1);
	int sad[1] = {EMO_SAD};

	for (int i = 0; i <= 4; i++)
		frame(tr, s, i * 0.2, 1, sad);
	frame(tr, s, 60.0, 1, sad);
	summary_snapshot(s, 60.0, &snap);
	ASSERT_EQ(snap.alerts_total, 0);
	for (int i = 1; i <= 59; i++)
		frame(tr, s, 60.0 + i * 0.5, 1, sad);
	summary_snapshot(s, 89.5, &snap);
	ASSERT_EQ(snap.alerts_total, 0);
	frame(tr, s, 90.0, 1, sad);
	summary_snapshot(s, 90.0, &snap);
	ASSERT_EQ(snap.alerts_total, 1);
	ASSERT_NEAR(snap.alerts[0].since, 60.0, 1e-9);
	summary_free(s);
	track_free(tr);

	/* fps 0.1: held from 0, fires at 30 */
	tr = mk_tracker();
	s = mk(60, &rule, 1);
	for (int i = 0; i <= 3; i++)
		frame(tr, s, i * 10.0, 1, sad);
	summary_snapshot(s, 30.0, &snap);
	ASSERT_EQ(snap.alerts_total, 1);
	ASSERT_NEAR(snap.alerts[0].since, 0.0, 1e-9);
	summary_free(s);
	track_free(tr);
}

TEST(alert_interrupted_episode_does_not_fire)
{
	struct summary_rule rule = {"gloom", SUMMARY_METRIC_NEGATIVE, 0, SUMMARY_CMP_GT, 0.5, 2.0};
	struct tracker *tr = mk_tracker();
	struct summary_ctx *s = mk(60, &rule, 1);
	int sad[1] = {EMO_SAD}, happy[1] = {EMO_HAPPY};

	/* 1.5 s sad, a happy frame, 1.5 s sad, a frame with nobody: never 2 s */
	for (int i = 0; i <= 3; i++)
		frame(tr, s, i * 0.5, 1, sad);
	frame(tr, s, 2.0, 1, happy);
	for (int i = 5; i <= 8; i++)
		frame(tr, s, i * 0.5, 1, sad);
	frame(tr, s, 4.5, 0, NULL);
	for (int i = 10; i <= 13; i++)
		frame(tr, s, i * 0.5, 1, sad);
	summary_snapshot(s, 6.5, &snap);
	ASSERT_EQ(snap.alerts_total, 0);
	summary_free(s);
	track_free(tr);
}

TEST(alert_on_emotion_and_faces)
{
	struct summary_rule rules[2] = {
		{"all happy", SUMMARY_METRIC_EMOTION, EMO_HAPPY, SUMMARY_CMP_GT, 0.9, 1.0},
		{"empty room", SUMMARY_METRIC_FACES, 0, SUMMARY_CMP_LT, 1, 2.0},
	};
	struct tracker *tr = mk_tracker();
	struct summary_ctx *s = mk(60, rules, 2);
	int happy[2] = {EMO_HAPPY, EMO_HAPPY};

	frame(tr, s, 0.0, 2, happy);
	frame(tr, s, 1.0, 2, happy);
	summary_snapshot(s, 1.0, &snap);
	ASSERT_EQ(snap.alerts_total, 1);
	ASSERT_STR(snap.alerts[0].rule, "all happy");
	frame(tr, s, 2.0, 0, NULL);
	frame(tr, s, 3.0, 0, NULL);
	summary_snapshot(s, 3.0, &snap);
	ASSERT_EQ(snap.alerts_total, 1);
	frame(tr, s, 4.0, 0, NULL);
	summary_snapshot(s, 4.0, &snap);
	ASSERT_EQ(snap.alerts_total, 2);
	ASSERT_STR(snap.alerts[1].rule, "empty room");
	ASSERT_NEAR(snap.alerts[1].value, 0.0, 1e-9);
	summary_free(s);
	track_free(tr);
}

TEST(alert_ring_keeps_recent)
{
	struct summary_rule rule = {"any", SUMMARY_METRIC_FACES, 0, SUMMARY_CMP_GT, 0, 0.0};
	struct tracker *tr = mk_tracker();
	struct summary_ctx *s = mk(60, &rule, 1);
	int happy[1] = {EMO_HAPPY};
	double t = 0;

	/* for = 0: fires on the first frame of each episode */
	for (int i = 0; i < SUMMARY_MAX_ALERTS + 5; i++) {
		frame(tr, s, t, 1, happy);
		frame(tr, s, t + 0.5, 0, NULL);
		t += 1.0;
	}
	summary_snapshot(s, t, &snap);
	ASSERT_EQ(snap.alerts_total, SUMMARY_MAX_ALERTS + 5);
	ASSERT_EQ(snap.n_alerts, SUMMARY_MAX_ALERTS);
	ASSERT_EQ(snap.alerts[0].seq, 6);
	ASSERT_EQ(snap.alerts[SUMMARY_MAX_ALERTS - 1].seq, SUMMARY_MAX_ALERTS + 5);
	summary_free(s);
	track_free(tr);
}

TEST(sparkline_buckets)
{
	struct tracker *tr = mk_tracker();
	struct summary_ctx *s = mk(60, NULL, 0);
	int happy[1] = {EMO_HAPPY}, sad[1] = {EMO_SAD};

	/* buckets of 5 s: [0,5) happy, [5,10) sad, [10,15) nothing, [15,20) happy */
	for (int i = 0; i < 5; i++)
		frame(tr, s, i, 1, happy);
	for (int i = 5; i < 10; i++)
		frame(tr, s, i, 1, sad);
	frame(tr, s, 16, 1, happy);
	summary_snapshot(s, 16, &snap);
	ASSERT_NEAR(snap.bucket_s, 5.0, 1e-9);
	ASSERT_EQ(snap.n_buckets, 4);
	ASSERT_EQ(snap.buckets[0].dominant, EMO_HAPPY);
	ASSERT_EQ(snap.buckets[0].frames, 5);
	ASSERT_NEAR(snap.buckets[0].t0, 0.0, 1e-9);
	ASSERT_EQ(snap.buckets[1].dominant, EMO_SAD);
	ASSERT_NEAR(snap.buckets[1].negative, 1.0, 1e-6);
	ASSERT_EQ(snap.buckets[2].frames, 0);
	ASSERT_EQ(snap.buckets[2].dominant, -1);
	ASSERT_EQ(snap.buckets[3].dominant, EMO_HAPPY);
	ASSERT_NEAR(snap.buckets[3].t0, 15.0, 1e-9);
	/* long run: capped, the last bucket is the newest */
	for (int i = 17; i < 2000; i += 3)
		frame(tr, s, i, 1, happy);
	summary_snapshot(s, 1998, &snap);
	ASSERT_EQ(snap.n_buckets, SUMMARY_SPARK_MAX);
	ASSERT_NEAR(snap.buckets[SUMMARY_SPARK_MAX - 1].t0, 1995.0, 1e-9);
	ASSERT_NEAR(snap.buckets[0].t0, 1995.0 - 5.0 * (SUMMARY_SPARK_MAX - 1), 1e-9);
	/* a gap longer than the whole sparkline */
	frame(tr, s, 5000, 1, sad);
	summary_snapshot(s, 5000, &snap);
	ASSERT_EQ(snap.n_buckets, SUMMARY_SPARK_MAX);
	ASSERT_EQ(snap.buckets[SUMMARY_SPARK_MAX - 1].dominant, EMO_SAD);
	ASSERT_EQ(snap.buckets[SUMMARY_SPARK_MAX - 2].frames, 0);
	summary_free(s);
	track_free(tr);
}

TEST(totals_mood_share)
{
	struct tracker *tr = mk_tracker();
	struct summary_ctx *s = mk(60, NULL, 0);
	struct summary_totals tot;
	int happy[1] = {EMO_HAPPY}, sad[1] = {EMO_SAD};

	for (int i = 0; i < 10; i++)
		frame(tr, s, i, 1, happy);  /* happy credited 0..10 */
	for (int i = 10; i <= 40; i++)
		frame(tr, s, i, 1, sad);    /* sad credited 10..40 */
	summary_totals(s, &tot);
	ASSERT_NEAR(tot.duration, 40.0, 1e-9);
	ASSERT_EQ(tot.frames, 41);
	ASSERT_EQ(tot.max_faces, 1);
	ASSERT_NEAR(tot.mood_share[EMO_HAPPY], 0.25, 1e-6);
	ASSERT_NEAR(tot.mood_share[EMO_SAD], 0.75, 1e-6);
	ASSERT_EQ(tot.dominant, EMO_SAD);
	ASSERT_NEAR(tot.mean[EMO_SAD], 31.0 / 41, 1e-6);
	ASSERT_NEAR(tot.negative, 31.0 / 41, 1e-6);
	summary_free(s);
	track_free(tr);
}

TEST(history_downsamples_and_covers_session)
{
	static struct summary_point pts[SUMMARY_HISTORY_MAX];
	struct tracker *tr = mk_tracker();
	struct summary_ctx *s = mk(60, NULL, 0);
	int happy[1] = {EMO_HAPPY}, sad[1] = {EMO_SAD};
	long frames = 0;
	int n;

	/* 2 hours at 1 frame/s: 1440 points of 5 s would not fit */
	for (int i = 0; i < 7200; i++)
		frame(tr, s, i, 1, i < 3600 ? happy : sad);
	n = summary_history(s, NULL, 0);
	ASSERT(n > 100 && n <= SUMMARY_HISTORY_MAX);
	ASSERT_EQ(summary_history(s, pts, SUMMARY_HISTORY_MAX), n);
	for (int i = 0; i < n; i++) {
		frames += pts[i].frames;
		if (i)
			ASSERT(pts[i].t0 > pts[i - 1].t0);
	}
	ASSERT_EQ(frames, 7200);
	ASSERT_NEAR(pts[0].t0, 0.0, 1e-9);
	ASSERT_NEAR(pts[0].span, 10.0, 1e-9);
	ASSERT(pts[n - 1].t0 + pts[n - 1].span >= 7199.0);
	ASSERT_EQ(pts[0].dominant, EMO_HAPPY);
	ASSERT_EQ(pts[n - 1].dominant, EMO_SAD);
	summary_free(s);
	track_free(tr);
}

/* Frames further apart than twice the history step (fps 0.1): the first
 * merge of a full history frees nothing, and the points must still stay
 * within SUMMARY_HISTORY_MAX without touching the totals. */
TEST(history_sparse_frames_stay_in_bounds)
{
	static struct summary_point pts[SUMMARY_HISTORY_MAX + 1];
	struct tracker *tr = mk_tracker();
	struct summary_ctx *s = mk(60, NULL, 0);
	struct summary_totals tot;
	int happy[1] = {EMO_HAPPY};
	long long frames = 0;
	int n;

	for (int i = 0; i < 2000; i++)
		frame(tr, s, 10.0 * i, 1, happy);
	n = summary_history(s, pts, SUMMARY_HISTORY_MAX + 1);
	ASSERT(n > 100 && n <= SUMMARY_HISTORY_MAX);
	for (int i = 0; i < n; i++) {
		frames += pts[i].frames;
		if (i)
			ASSERT(pts[i].t0 > pts[i - 1].t0);
	}
	ASSERT_EQ(frames, 2000);
	summary_totals(s, &tot);
	ASSERT_EQ(tot.frames, 2000);
	ASSERT_EQ(tot.face_frames, 2000);
	ASSERT_EQ(tot.max_faces, 1);
	ASSERT_NEAR(tot.mean[EMO_HAPPY], 1.0, 1e-6);
	ASSERT_EQ(tot.dominant, EMO_HAPPY);
	summary_free(s);
	track_free(tr);
}

TEST(history_skips_empty_time)
{
	static struct summary_point pts[8];
	struct tracker *tr = mk_tracker();
	struct summary_ctx *s = mk(60, NULL, 0);
	int happy[1] = {EMO_HAPPY};

	frame(tr, s, 100, 1, happy);
	frame(tr, s, 101, 1, happy);
	frame(tr, s, 200, 1, happy);
	ASSERT_EQ(summary_history(s, pts, 8), 2);
	ASSERT_NEAR(pts[0].t0, 100.0, 1e-9);
	ASSERT_EQ(pts[0].frames, 2);
	ASSERT_NEAR(pts[1].t0, 200.0, 1e-9);
	summary_free(s);
	track_free(tr);
}

TEST(stats_published)
{
	struct summary_ctx *s = mk(60, NULL, 0);
	struct summary_stats st;

	memset(&st, 0, sizeof(st));
	st.frames_analysed = 42;
	st.frames_dropped = 7;
	st.fps = 4.9;
	st.lat_detect_ms = 12.5;
	strcpy(st.source, "demo");
	st.width = 640;
	st.height = 480;
	summary_set_stats(s, &st);
	summary_update(s, 1.0, NULL);
	summary_snapshot(s, 1.5, &snap);
	ASSERT_EQ(snap.stats.frames_analysed, 42);
	ASSERT_EQ(snap.stats.frames_dropped, 7);
	ASSERT_STR(snap.stats.source, "demo");
	ASSERT_EQ(snap.stats.width, 640);
	ASSERT_NEAR(snap.time, 1.5, 1e-12);
	ASSERT_NEAR(snap.uptime, 0.5, 1e-12);
	ASSERT_EQ(snap.seq, 1);
	summary_free(s);
}

TEST(snapshot_is_a_copy)
{
	static struct summary copy;
	struct tracker *tr = mk_tracker();
	struct summary_ctx *s = mk(60, NULL, 0);
	int happy[1] = {EMO_HAPPY}, sad[1] = {EMO_SAD};

	frame(tr, s, 0, 1, happy);
	summary_snapshot(s, 0, &copy);
	frame(tr, s, 0.5, 1, sad);
	track_free(tr); /* the snapshot owns nothing of the tracker */
	summary_free(s);
	ASSERT_EQ(copy.n_students, 1);
	ASSERT_EQ(copy.students[0].dominant, EMO_HAPPY);
	ASSERT_EQ(copy.dominant, EMO_HAPPY);
}

TEST(bad_input)
{
	struct summary_rule bad[4] = {
		{"x", (enum summary_metric)9, 0, SUMMARY_CMP_GT, 0.5, 1},
		{"x", SUMMARY_METRIC_EMOTION, 7, SUMMARY_CMP_GT, 0.5, 1},
		{"x", SUMMARY_METRIC_NEGATIVE, 0, SUMMARY_CMP_GT, 0.5, -1},
		{"x", SUMMARY_METRIC_NEGATIVE, 0, (enum summary_cmp)3, NAN, 1},
	};
	struct summary_opts o;
	struct summary_totals tot;
	struct emo_err err;
	struct summary_ctx *s;

	for (int i = 0; i < 4; i++) {
		summary_opts_default(&o);
		o.rules = &bad[i];
		o.n_rules = 1;
		memset(&err, 0, sizeof(err));
		ASSERT(summary_new(&o, &err) == NULL);
		ASSERT(strstr(err.msg, "rule"));
	}
	summary_opts_default(&o);
	o.window = 0;
	ASSERT(summary_new(&o, NULL) == NULL);
	summary_opts_default(&o);
	o.n_rules = SUMMARY_MAX_RULES + 1;
	o.rules = bad;
	ASSERT(summary_new(&o, NULL) == NULL);
	s = summary_new(NULL, NULL);
	ASSERT(s);
	ASSERT_EQ(summary_update(s, NAN, NULL), EMO_EINVAL);
	ASSERT_EQ(summary_update(NULL, 0, NULL), EMO_EINVAL);
	ASSERT_EQ(summary_update(s, 5.0, NULL), EMO_OK);
	ASSERT_EQ(summary_update(s, 4.0, NULL), EMO_OK); /* clamped to 5 */
	summary_snapshot(s, 3.0, &snap);
	ASSERT_NEAR(snap.time, 5.0, 1e-12);
	summary_totals(s, &tot);
	ASSERT_NEAR(tot.duration, 0.0, 1e-12);
	ASSERT_EQ(tot.dominant, -1);
	summary_snapshot(NULL, 0, &snap);
	ASSERT_EQ(snap.n_students, 0);
	ASSERT_EQ(snap.dominant, -1);
	summary_totals(NULL, &tot);
	ASSERT_EQ(tot.frames, 0);
	ASSERT_EQ(summary_history(NULL, NULL, 0), 0);
	summary_reset(NULL);
	summary_set_stats(NULL, NULL);
	summary_free(NULL);
	summary_free(s);
}

/* Attendance over a session: seats are students whichever track holds
 * them, others are their track; time goes to who was present at the start
 * of each interval, expressions share that time; an outage credits nobody. */
static void seat_frame(struct tracker *tr, struct summary_ctx *s, double t, int ana, int ben,
		       int other)
{
	struct track_obs o[3];
	int n = 0;

	memset(o, 0, sizeof(o));
	if (ana) { /* seat 0, happy; sad from t = 8 */
		o[n].box = (struct emo_box){40, 40, 100, 100};
		o[n++].probs[t >= 8 ? EMO_SAD : EMO_HAPPY] = 1.0f;
	}
	if (ben) { /* seat 1, sad */
		o[n].box = (struct emo_box){360, 20, 100, 100};
		o[n++].probs[EMO_SAD] = 1.0f;
	}
	if (other) { /* no seat, neutral */
		o[n].box = (struct emo_box){400, 300, 100, 100};
		o[n++].probs[EMO_NEUTRAL] = 1.0f;
	}
	track_update(tr, t, 640, 480, o, n, NULL);
	summary_update(s, t, tr);
}

TEST(attendance_per_student)
{
	struct track_seat seats[2] = {{"Ana", {0, 0, 320, 480}}, {"Ben", {320, 0, 320, 240}}};
	struct track_opts to;
	struct tracker *tr;
	struct summary_ctx *s = mk(60, NULL, 0);
	struct summary_attendee a[4];
	struct summary_totals tot;
	int n;

	track_opts_default(&to);
	to.half_life = 0;
	to.ttl = 1.5; /* frames are 1 s apart: the unseated face keeps its track */
	to.seats = seats;
	to.n_seats = 2;
	tr = track_new(&to, NULL);
	ASSERT(tr && s);
	ASSERT_EQ(summary_attendance(s, a, 4), 0);
	for (int t = 0; t <= 10; t++)
		seat_frame(tr, s, t, 1, t <= 4, t >= 5 && t <= 7);
	summary_reset(s); /* the dashboard's r: attendance is kept */
	n = summary_attendance(s, a, 4);
	ASSERT_EQ(n, 3);
	/* seats first, by seat */
	ASSERT_STR(a[0].name, "Ana");
	ASSERT_EQ(a[0].seat, 0);
	ASSERT_NEAR(a[0].present, 10.0, 1e-9);
	ASSERT_NEAR(a[0].present_share, 1.0, 1e-6);
	ASSERT_EQ(a[0].frames, 11);
	ASSERT_NEAR(a[0].first_seen, 0.0, 1e-9);
	ASSERT_NEAR(a[0].last_seen, 10.0, 1e-9);
	ASSERT_NEAR(a[0].share[EMO_HAPPY], 0.8, 1e-6); /* 0..8 happy, 8..10 sad */
	ASSERT_NEAR(a[0].share[EMO_SAD], 0.2, 1e-6);
	ASSERT_EQ(a[0].dominant, EMO_HAPPY);
	ASSERT_STR(a[1].name, "Ben");
	ASSERT_EQ(a[1].seat, 1);
	ASSERT_NEAR(a[1].present, 5.0, 1e-9); /* present at 0..4: intervals up to 5 */
	ASSERT_NEAR(a[1].present_share, 0.5, 1e-6);
	ASSERT_EQ(a[1].dominant, EMO_SAD);
	ASSERT_NEAR(a[1].share[EMO_SAD], 1.0, 1e-6);
	/* then the others, by track id */
	ASSERT_STR(a[2].name, "");
	ASSERT_EQ(a[2].seat, -1);
	ASSERT(a[2].id > a[0].id);
	ASSERT_NEAR(a[2].present, 3.0, 1e-9);
	ASSERT_EQ(a[2].frames, 3);
	ASSERT_EQ(a[2].dominant, EMO_NEUTRAL);
	summary_totals(s, &tot);
	ASSERT_EQ(tot.attendees, 3);
	ASSERT_EQ(tot.attendees_lost, 0);
	/* sizing with max 0, and a short buffer */
	ASSERT_EQ(summary_attendance(s, NULL, 0), 3);
	ASSERT_EQ(summary_attendance(s, a, 1), 3);
	ASSERT_STR(a[0].name, "Ana");

	/* an outage from 10 to 20: nobody is credited for it */
	summary_source(s, 12, SUMMARY_SOURCE_RECONNECTING);
	seat_frame(tr, s, 20, 1, 0, 0);
	seat_frame(tr, s, 21, 1, 0, 0);
	summary_attendance(s, a, 4);
	ASSERT_NEAR(a[0].present, 11.0, 1e-9);
	ASSERT_EQ(a[0].frames, 13);
	track_free(tr);
	summary_free(s);
}

/* A one-frame session: those seen count as present the whole (zero) time,
 * their expression by frames. */
TEST(attendance_one_frame)
{
	struct tracker *tr = mk_tracker();
	struct summary_ctx *s = mk(60, NULL, 0);
	struct summary_attendee a[2];
	int cls[2] = {EMO_FEAR, EMO_HAPPY};

	frame(tr, s, 5, 2, cls);
	ASSERT_EQ(summary_attendance(s, a, 2), 2);
	ASSERT_NEAR(a[0].present, 0.0, 1e-9);
	ASSERT_NEAR(a[0].present_share, 1.0, 1e-6);
	ASSERT_EQ(a[0].dominant, EMO_FEAR);
	ASSERT_EQ(a[1].dominant, EMO_HAPPY);
	ASSERT(a[0].id < a[1].id);
	track_free(tr);
	summary_free(s);
}

TEST(metric_value)
{
	struct summary_rule r = {"x", SUMMARY_METRIC_EMOTION, EMO_FEAR, SUMMARY_CMP_GT, 0, 0};
	float mean[EMO_NUM_CLASSES] = {0, 0, 0.4f, 0, 0, 0, 0.6f};

	ASSERT_NEAR(summary_metric_value(&r, 2, mean, 0.4f, 0), 0.4, 1e-6);
	ASSERT(isnan(summary_metric_value(&r, 0, mean, 0.4f, 0)));
	r.metric = SUMMARY_METRIC_FACES;
	ASSERT_NEAR(summary_metric_value(&r, 0, mean, 0.4f, 0), 0.0, 1e-9);
	r.metric = SUMMARY_METRIC_NEGATIVE;
	ASSERT_NEAR(summary_metric_value(&r, 3, mean, 0.4f, -0.5f), 0.4, 1e-6);
	r.metric = SUMMARY_METRIC_VALENCE;
	ASSERT_NEAR(summary_metric_value(&r, 3, mean, 0.4f, -0.5f), -0.5, 1e-6);
	ASSERT(isnan(summary_metric_value(&r, 0, mean, 0.4f, -0.5f)));
}

int main(int argc, char **argv)
{
	unit_init(argc, argv);
	RUN(defaults);
	RUN(dominant_and_negative_share);
	RUN(neutral_class_reads_not_negative);
	RUN(angry_class_reads_negative);
	RUN(unsure_face_reads_zero);
	RUN(source_down_reports_no_faces_and_alerts);
	RUN(no_faces_means_no_mood);
	RUN(window_weights_faces);
	RUN(window_rolls_off_exactly);
	RUN(window_capacity_evicts_oldest);
	RUN(reset_clears_window_keeps_totals);
	RUN(alert_fires_after_for_seconds_once);
	RUN(rule_totals_count_each_rule);
	RUN(alert_gap_ends_the_episode);
	RUN(alert_interrupted_episode_does_not_fire);
	RUN(alert_on_emotion_and_faces);
	RUN(alert_ring_keeps_recent);
	RUN(sparkline_buckets);
	RUN(totals_mood_share);
	RUN(history_downsamples_and_covers_session);
	RUN(history_sparse_frames_stay_in_bounds);
	RUN(history_skips_empty_time);
	RUN(stats_published);
	RUN(snapshot_is_a_copy);
	RUN(bad_input);
	RUN(metric_value);
	RUN(attendance_per_student);
	RUN(attendance_one_frame);
	return unit_done();
}
