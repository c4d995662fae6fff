/* test_engine.c - the analysis step (detect: the seat-region stand-in or
 * the embedded CNN -> classify -> track -> summary) built from a config,
 * with and without a classifier model.
 *
 * `test_engine --write-model PATH` writes the random classifier used here
 * and exits (the shell tests use it to run emotop with a model). */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#include "emotop/config.h"
#include "emotop/engine.h"
#include "emotop/summary.h"
#include "emotop/track.h"
#include "qnn_rand.h"

static char dir[64], model[128];

static const char *random_model(void)
{
	if (!model[0]) {
		struct qnn_model *m = rm_classifier(1);

		snprintf(dir, sizeof(dir), "/tmp/emotop-test-engine.XXXXXX");
		if (!m || !mkdtemp(dir)) {
			qnn_model_free(m);
			return NULL;
		}
		snprintf(model, sizeof(model), "%s/emo.qnn", dir);
		if (qnn_model_save(m, model, NULL))
			model[0] = '\0';
		qnn_model_free(m);
	}
	return model[0] ? model : NULL;
}

/* A 320x240 frame: left half dark, right half a bright gradient. */
static void frame(struct emo_image *img, int shift)
{
	for (int y = 0; y < img->h; y++)
		for (int x = 0; x < img->w; x++)
			img->px[y * img->stride + x] =
				(uint8_t)(x < img->w / 2 ? 30 + (y % 7) : 100 + ((x + y + shift) % 150));
}

TEST(rules_from_alerts)
{
	struct emo_config c;
	struct emo_err err;
	struct summary_rule r[CONFIG_MAX_ALERTS];
	const char *y = "alerts:\n"
			"  - {name: a, condition: \"negative_share > 0.5\", for: 3}\n"
			"  - {name: b, emotion: sad, below: 0.2}\n"
			"  - {name: c, condition: faces < 1, for: 10}\n"
			"  - {name: d, condition: \"valence < -0.3\"}\n";

	config_defaults(&c);
	ASSERT_EQ(config_load_mem(&c, y, strlen(y), "t", &err), EMO_OK);
	ASSERT_EQ(engine_rules(&c, r), 4);
	ASSERT_STR(r[0].name, "a");
	ASSERT_EQ(r[0].metric, SUMMARY_METRIC_NEGATIVE);
	ASSERT_EQ(r[0].cmp, SUMMARY_CMP_GT);
	ASSERT_NEAR(r[0].threshold, 0.5, 1e-6);
	ASSERT_NEAR(r[0].for_s, 3, 0);
	ASSERT_EQ(r[1].metric, SUMMARY_METRIC_EMOTION);
	ASSERT_EQ(r[1].emotion, EMO_SAD);
	ASSERT_EQ(r[1].cmp, SUMMARY_CMP_LT);
	ASSERT_EQ(r[2].metric, SUMMARY_METRIC_FACES);
	ASSERT_NEAR(r[2].threshold, 1, 0);
	ASSERT_EQ(r[3].metric, SUMMARY_METRIC_VALENCE);
	ASSERT_EQ(r[3].cmp, SUMMARY_CMP_LT);
	ASSERT_NEAR(r[3].threshold, -0.3, 1e-6);
}

TEST(no_model_counts_faces)
{
	struct emo_config c;
	struct emo_err err;
	struct emo_image img;
	struct engine *e;
	struct engine_frame_stats st;
	const struct engine_face *f;
	int n;

	config_defaults(&c);
	/* the seat-region stand-in, not the CNN detector, and no classifier
	 * (what a build without an embedded model does as well) */
	ASSERT_EQ(config_set(&c, "detector.model", "none", &err), EMO_OK);
	ASSERT_EQ(config_set(&c, "classifier.model", "none", &err), EMO_OK);
	ASSERT_EQ(image_new(&img, 320, 240), EMO_OK);
	frame(&img, 0);
	memset(&err, 0, sizeof(err));
	e = engine_new(&c, &err);
	ASSERT(e);
	ASSERT(!engine_has_classifier(e));
	ASSERT(strstr(engine_status(e), "classifier off"));
	ASSERT(engine_tracker(e) == NULL);
	/* no seats: the whole frame is one face */
	ASSERT_EQ(engine_frame(e, &img, 0.0, &st, &err), 1);
	ASSERT_EQ(st.faces, 1);
	f = engine_faces(e, &n);
	ASSERT_EQ(n, 1);
	ASSERT_NEAR(f[0].face.box.w, 320, 0);
	ASSERT_NEAR(f[0].face.box.h, 240, 0);
	for (int k = 0; k < EMO_NUM_CLASSES; k++)
		ASSERT_NEAR(f[0].probs[k], 0, 0); /* nothing made up */
	ASSERT(f[0].track_id >= 1);
	ASSERT_EQ(track_count(engine_tracker(e)), 1);
	engine_free(e);
	image_free(&img);
}

/* Frame i (at time i) of w x h through e: the faces, or < 0 with *err. */
static int sized_frame(struct engine *e, int w, int h, int i, struct emo_err *err)
{
	struct emo_image img;
	int n;

	memset(err, 0, sizeof(*err));
	if (image_new(&img, w, h) != EMO_OK)
		return emo_seterr(err, EMO_ENOMEM, NULL, 0, 0, "out of memory");
	frame(&img, i);
	n = engine_frame(e, &img, (double)i, NULL, err);
	image_free(&img);
	return n;
}

/* The embedded CNN detector through the engine: frames of changing size
 * (the detector is kept, only its regions change), and a strip too thin for
 * the network at min_face 100, twice (once made a failed run the next one's
 * success on stale shapes). */
TEST(cnn_detector_across_frame_sizes)
{
	static const int wh[][2] = {{320, 240}, {640, 480}, {320, 240}, {640, 12}, {640, 12}, {320, 240}};
	struct emo_config c;
	struct emo_err err;
	struct engine *e;

	config_defaults(&c);
	ASSERT_EQ(config_set(&c, "classifier.model", "none", &err), EMO_OK);
	ASSERT_EQ(config_set(&c, "detector.min_face", "100", &err), EMO_OK);
	memset(&err, 0, sizeof(err));
	e = engine_new(&c, &err);
	ASSERT(e);
	for (size_t i = 0; i < sizeof(wh) / sizeof(wh[0]); i++) {
		int n = sized_frame(e, wh[i][0], wh[i][1], (int)i, &err);

		if (n < 0)
			UNIT_FAILF("frame %zu (%dx%d): %s", i, wh[i][0], wh[i][1], err.msg);
		if (wh[i][1] == 12)
			ASSERT_EQ(n, 0);
	}
	engine_free(e);
}

/* The summary window holds every frame at the configured rate: at fps 120
 * a 300 s window kept only 125 s (room for 50 frames a second). */
TEST(window_holds_the_configured_rate)
{
	struct emo_config c;
	struct emo_err err;
	struct emo_image img;
	struct engine *e;
	struct summary *s = calloc(1, sizeof(*s));

	ASSERT(s);
	config_defaults(&c);
	ASSERT_EQ(config_set(&c, "detector.model", "none", &err), EMO_OK);
	ASSERT_EQ(config_set(&c, "classifier.model", "none", &err), EMO_OK);
	ASSERT_EQ(config_set(&c, "fps", "120", &err), EMO_OK);
	ASSERT_EQ(config_set(&c, "summary.window", "300", &err), EMO_OK);
	ASSERT_EQ(image_new(&img, 32, 24), EMO_OK);
	frame(&img, 0);
	e = engine_new(&c, &err);
	ASSERT(e);
	for (int i = 0; i <= 310 * 120; i++)
		ASSERT_EQ(engine_frame(e, &img, i / 120.0, NULL, &err), 1);
	summary_snapshot(engine_summary(e), 310.0, s);
	ASSERT(s->window_span > 299.0);
	ASSERT(s->window_frames >= 300 * 120 - 1);
	engine_free(e);
	image_free(&img);
	free(s);
}

/* A pixel seat that a smaller frame leaves outside (a source reconnecting
 * at a lower resolution) holds nobody: the run goes on (the tracker
 * refused the seats, and the session ended with a config error). */
TEST(seat_outside_a_smaller_frame)
{
	struct emo_config c;
	struct emo_err err;
	struct engine *e;
	const char *y = "seats:\n"
			"  - {name: Ann, x: 10, y: 10, w: 200, h: 200}\n"
			"  - {name: Bob, x: 700, y: 10, w: 200, h: 200}\n";
	static const int wh[][2] = {{1280, 720}, {640, 360}, {1280, 720}};

	config_defaults(&c);
	ASSERT_EQ(config_load_mem(&c, y, strlen(y), "t", &err), EMO_OK);
	ASSERT_EQ(config_set(&c, "detector.model", "none", &err), EMO_OK);
	ASSERT_EQ(config_set(&c, "classifier.model", "none", &err), EMO_OK);
	e = engine_new(&c, &err);
	ASSERT(e);
	for (size_t i = 0; i < sizeof(wh) / sizeof(wh[0]); i++) {
		int n = sized_frame(e, wh[i][0], wh[i][1], (int)i, &err);

		if (n < 0)
			UNIT_FAILF("frame %zu (%dx%d): %s", i, wh[i][0], wh[i][1], err.msg);
		ASSERT_EQ(n, wh[i][0] == 640 ? 1 : 2); /* Bob's seat is off the small frame */
	}
	engine_free(e);
}

TEST(bad_model_file_is_an_error)
{
	struct emo_config c;
	struct emo_err err;

	config_defaults(&c);
	ASSERT_EQ(config_set(&c, "classifier.model", "/nonexistent/emo.qnn", &err), EMO_OK);
	memset(&err, 0, sizeof(err));
	ASSERT(engine_new(&c, &err) == NULL);
	ASSERT(err.msg[0]);
}

TEST(seats_are_faces_with_names)
{
	struct emo_config c;
	struct emo_err err;
	struct emo_image img;
	struct engine *e;
	struct summary *s = calloc(1, sizeof(*s));
	const char *mp = random_model();
	const char *y = "seats:\n"
			"  - {name: Ana, x: 0, y: 0, w: 0.5, h: 1}\n"
			"  - {name: Ben, x: 0.5, y: 0, w: 0.5, h: 1}\n"
			"  - {name: Tiny, x: 0, y: 0, w: 9, h: 9}\n"; /* below min_face (auto: 10 here) */
	int n;

	ASSERT(s);
	ASSERT(mp);
	config_defaults(&c);
	ASSERT_EQ(config_load_mem(&c, y, strlen(y), "t", &err), EMO_OK);
	ASSERT_EQ(config_set(&c, "classifier.model", mp, &err), EMO_OK);
	ASSERT_EQ(config_set(&c, "detector.model", "none", &err), EMO_OK);
	ASSERT_EQ(image_new(&img, 320, 240), EMO_OK);
	memset(&err, 0, sizeof(err));
	e = engine_new(&c, &err);
	if (!e) {
		free(s);
		image_free(&img);
		UNIT_FAILF("engine_new: %s", err.msg);
	}
	ASSERT(engine_has_classifier(e));
	ASSERT_STR(engine_status(e), "");
	for (int i = 0; i < 10; i++) {
		frame(&img, i);
		ASSERT_EQ(engine_frame(e, &img, i * 0.2, NULL, &err), 2);
	}
	const struct engine_face *f = engine_faces(e, &n);
	ASSERT_EQ(n, 2);
	for (int i = 0; i < n; i++) {
		float sum = 0;

		for (int k = 0; k < EMO_NUM_CLASSES; k++) {
			ASSERT(f[i].probs[k] >= 0 && f[i].probs[k] <= 1);
			sum += f[i].probs[k];
		}
		ASSERT_NEAR(sum, 1, 1e-3);
	}
	ASSERT(f[0].track_id != f[1].track_id);
	summary_snapshot(engine_summary(e), 1.8, s);
	ASSERT_EQ(s->faces, 2);
	ASSERT_EQ(s->n_students, 2);
	ASSERT((!strcmp(s->students[0].name, "Ana") && !strcmp(s->students[1].name, "Ben")) ||
	       (!strcmp(s->students[0].name, "Ben") && !strcmp(s->students[1].name, "Ana")));
	/* a new frame size re-resolves the fractional seats, tracks go on */
	{
		struct emo_image big;

		ASSERT_EQ(image_new(&big, 640, 480), EMO_OK);
		frame(&big, 0);
		ASSERT_EQ(engine_frame(e, &big, 2.0, NULL, &err), 2);
		f = engine_faces(e, &n);
		ASSERT_NEAR(f[1].face.box.x, 320, 0);
		ASSERT_NEAR(f[1].face.box.w, 320, 0);
		image_free(&big);
	}
	ASSERT_EQ(engine_frame(e, NULL, 3.0, NULL, &err), EMO_EINVAL);
	engine_free(e);
	image_free(&img);
	free(s);
}

TEST(gallery_cells_are_faces)
{
	struct emo_config c;
	struct emo_err err;
	struct emo_image img;
	struct engine *e;
	const char *y = "gallery: {rows: 2, cols: 3, names: [a, b, c, d]}\n";

	config_defaults(&c);
	ASSERT_EQ(config_load_mem(&c, y, strlen(y), "t", &err), EMO_OK);
	ASSERT_EQ(config_set(&c, "detector.model", "none", &err), EMO_OK);
	ASSERT_EQ(image_new(&img, 300, 200), EMO_OK);
	frame(&img, 0);
	e = engine_new(&c, &err);
	ASSERT(e);
	ASSERT_EQ(engine_frame(e, &img, 0, NULL, &err), 6);
	ASSERT_EQ(track_count(engine_tracker(e)), 6);
	ASSERT_STR(track_at(engine_tracker(e), 3)->name, "d");
	engine_free(e);
	image_free(&img);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--write-model")) {
		struct qnn_model *m = rm_classifier(1);
		int rc = m ? qnn_model_save(m, argv[2], NULL) : EMO_ENOMEM;

		qnn_model_free(m);
		return rc ? 1 : 0;
	}
	unit_init(argc, argv);
	RUN(rules_from_alerts);
	RUN(no_model_counts_faces);
	RUN(cnn_detector_across_frame_sizes);
	RUN(window_holds_the_configured_rate);
	RUN(seat_outside_a_smaller_frame);
	RUN(bad_model_file_is_an_error);
	RUN(seats_are_faces_with_names);
	RUN(gallery_cells_are_faces);
	if (model[0]) {
		unlink(model);
		rmdir(dir);
	}
	return unit_done();
}
