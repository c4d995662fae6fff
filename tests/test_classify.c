/* test_classify.c - the emotion stage: model loading errors, softmax and
 * flip TTA on a random classifier, temperature, face alignment geometry;
 * with ../shared, clear faces keep their label through detection and
 * alignment. */
#include <dirent.h>
#include <unistd.h>

#include "unit.h"

#include "emotop/blob.h"
#include "emotop/classify.h"
#include "emotop/detect.h"
#include "qnn_rand.h"
#include "train/data.h"

static char model_path[64];

static const char *write_model(struct qnn_model *m, const char *name)
{
	static char p[128];

	if (!model_path[0]) {
		snprintf(model_path, sizeof(model_path), "/tmp/emotop-test-classify.XXXXXX");
		if (!mkdtemp(model_path))
			return NULL;
	}
	snprintf(p, sizeof(p), "%s/%s", model_path, name);
	if (qnn_model_save(m, p, NULL))
		return NULL;
	return p;
}

/* A classifier on one random model (the same weights every call). */
static struct classify *new_random(int flip)
{
	static const char *path;
	struct classify_opts o;

	if (!path) {
		struct qnn_model *m = rm_classifier(1);
		const char *p = write_model(m, "emo.qnn");
		static char keep[128];
		qnn_model_free(m);
		if (!p)
			return NULL;
		snprintf(keep, sizeof(keep), "%s", p);
		path = keep;
	}
	classify_opts_default(&o);
	o.model_path = path;
	o.flip_tta = flip;
	return classify_new(&o, NULL);
}

TEST(model_errors)
{
	struct classify_opts o;
	struct emo_err err;

	classify_opts_default(&o);
	ASSERT(o.model_path == NULL && o.path == QNN_PATH_AUTO);
	o.model_path = "/nonexistent/emo7.qnn";
	ASSERT(!classify_new(&o, &err));
	ASSERT(strstr(err.msg, "cannot open"));
	/* a valid model that is not a 7-class gray8 classifier */
	struct qnn_model *m = rm_new(3);
	rm_conv(m, 0, 7, 1, 1, 1, 0, 0, 0, 1, 40);
	o.model_path = write_model(m, "rgb.qnn");
	qnn_model_free(m);
	ASSERT(o.model_path);
	ASSERT(!classify_new(&o, &err));
	ASSERT(strstr(err.msg, "not an emotion classifier"));
	/* 7 logits but not 1x1 at 48x48 */
	m = rm_new(1);
	rm_conv(m, 0, 7, 3, 3, 1, 1, 0, 0, 1, 40);
	o.model_path = write_model(m, "map.qnn");
	qnn_model_free(m);
	ASSERT(!classify_new(&o, &err));
	ASSERT(strstr(err.msg, "1x1"));
	/* embedded model: absent in builds without models/emo7.qnn */
	o.model_path = NULL;
	struct classify *c = classify_new(&o, &err);
	if ((size_t)(emo_blob_emo7_end - emo_blob_emo7) == 0) {
		ASSERT(!c);
		ASSERT(strstr(err.msg, "no emotion model"));
	} else {
		ASSERT(c);
	}
	classify_free(c);
	classify_free(NULL);
}

TEST(crop_softmax_and_flip)
{
	struct classify *c = new_random(0), *cf = new_random(1);
	struct emo_image a, b;
	float p[EMO_NUM_CLASSES], pm[EMO_NUM_CLASSES], pf[EMO_NUM_CLASSES];

	ASSERT(c && cf);
	ASSERT_EQ(image_new(&a, 48, 48), EMO_OK);
	ASSERT_EQ(image_new(&b, 48, 48), EMO_OK);
	for (int y = 0; y < 48; y++)
		for (int x = 0; x < 48; x++) {
			a.px[y * 48 + x] = (uint8_t)(x * 5 + y);
			b.px[y * 48 + 47 - x] = a.px[y * 48 + x];
		}
	ASSERT_EQ(classify_crop(c, &a, p), EMO_OK);
	double s = 0;
	for (int k = 0; k < EMO_NUM_CLASSES; k++) {
		ASSERT(p[k] >= 0 && p[k] <= 1);
		s += p[k];
	}
	ASSERT_NEAR(s, 1, 1e-5);
	/* softmax of the network's logits */
	ASSERT_EQ(classify_crop(c, &b, pm), EMO_OK);
	int differ = 0;
	for (int k = 0; k < EMO_NUM_CLASSES; k++)
		differ |= fabsf(p[k] - pm[k]) > 1e-6f;
	ASSERT(differ); /* the ramp is not symmetric: mirrored input differs */
	ASSERT_EQ(classify_crop(cf, &a, pf), EMO_OK);
	for (int k = 0; k < EMO_NUM_CLASSES; k++)
		ASSERT_NEAR(pf[k], 0.5 * (p[k] + pm[k]), 1e-6);
	/* flip TTA is symmetric in the mirror */
	ASSERT_EQ(classify_crop(cf, &b, pm), EMO_OK);
	for (int k = 0; k < EMO_NUM_CLASSES; k++)
		ASSERT_NEAR(pf[k], pm[k], 1e-6);
	/* wrong sizes */
	struct emo_image small;
	ASSERT_EQ(image_new(&small, 47, 48), EMO_OK);
	ASSERT_EQ(classify_crop(c, &small, p), EMO_EINVAL);
	ASSERT_EQ(classify_crop(c, NULL, p), EMO_EINVAL);
	ASSERT_EQ(classify_crop(NULL, &a, p), EMO_EINVAL);
	image_free(&small);
	image_free(&a);
	image_free(&b);
	classify_free(c);
	classify_free(cf);
}

/* The darkest pixel of a crop region (x0..x1, y0..y1). */
static void darkest(const struct emo_image *im, int x0, int x1, int y0, int y1, int *bx, int *by)
{
	int best = 256;

	for (int y = y0; y <= y1; y++)
		for (int x = x0; x <= x1; x++)
			if (im->px[y * im->stride + x] < best) {
				best = im->px[y * im->stride + x];
				*bx = x;
				*by = y;
			}
}

/* Several model files separated by commas are one ensemble: the mean of
 * every network's probabilities (and of the mirror's with flip TTA); bad
 * lists and members that prepare their input differently are refused. */
TEST(ensemble)
{
	char pa[160], pb[160], pc[160], list[800];
	struct classify_opts o;
	struct emo_err err;
	struct emo_image a;
	float p[4][EMO_NUM_CLASSES], q[EMO_NUM_CLASSES];
	struct qnn_model *m;
	const char *w;

	m = rm_classifier(1);
	ASSERT(m && (w = write_model(m, "ensA.qnn")));
	snprintf(pa, sizeof(pa), "%s", w);
	qnn_model_free(m);
	m = rm_classifier(1); /* other random weights */
	ASSERT(m && (w = write_model(m, "ensB.qnn")));
	snprintf(pb, sizeof(pb), "%s", w);
	strcat(m->meta, "input_norm=facenorm\n");
	ASSERT((w = write_model(m, "ensC.qnn")));
	snprintf(pc, sizeof(pc), "%s", w);
	qnn_model_free(m);
	ASSERT_EQ(image_new(&a, 48, 48), EMO_OK);
	for (int i = 0; i < 48 * 48; i++)
		a.px[i] = (uint8_t)(i * 7 % 251);

	classify_opts_default(&o);
	for (int flip = 0; flip < 2; flip++) {
		struct classify *c;
		o.flip_tta = flip;
		o.model_path = pa;
		ASSERT((c = classify_new(&o, &err)));
		ASSERT_EQ(classify_n_nets(c), 1);
		ASSERT_EQ(classify_crop(c, &a, p[2 * flip]), EMO_OK);
		classify_free(c);
		o.model_path = pb;
		ASSERT((c = classify_new(&o, &err)));
		ASSERT_EQ(classify_crop(c, &a, p[2 * flip + 1]), EMO_OK);
		classify_free(c);
		snprintf(list, sizeof(list), "%s,%s", pa, pb);
		o.model_path = list;
		ASSERT((c = classify_new(&o, &err)));
		ASSERT_EQ(classify_n_nets(c), 2);
		ASSERT_EQ(classify_crop(c, &a, q), EMO_OK);
		classify_free(c);
		int differ = 0;
		for (int k = 0; k < EMO_NUM_CLASSES; k++) {
			ASSERT_NEAR(q[k], 0.5 * (p[2 * flip][k] + p[2 * flip + 1][k]), 1e-6);
			differ |= fabsf(p[2 * flip][k] - p[2 * flip + 1][k]) > 1e-4f;
		}
		ASSERT(differ); /* two different networks */
	}
	o.flip_tta = 0;
	snprintf(list, sizeof(list), "%s,", pa);
	o.model_path = list;
	ASSERT(!classify_new(&o, &err));
	ASSERT(strstr(err.msg, "empty model path"));
	snprintf(list, sizeof(list), "%s,%s,%s,%s,%s", pa, pa, pa, pa, pa);
	ASSERT(!classify_new(&o, &err));
	ASSERT(strstr(err.msg, "more than 4"));
	snprintf(list, sizeof(list), "%s,/nonexistent/emo7.qnn", pa);
	ASSERT(!classify_new(&o, &err));
	ASSERT(strstr(err.msg, "cannot open"));
	snprintf(list, sizeof(list), "%s,%s", pa, pc);
	ASSERT(!classify_new(&o, &err));
	ASSERT(strstr(err.msg, "ensemble member"));
	image_free(&a);
}

/* Model metadata: a temperature divides the logits before the softmax
 * (a calibrated model's probabilities: the same ranking, softer or
 * sharper); a bad one, and a model that asks for blurred faces (made for
 * the blurred FER2013 copy; input_blur=0 is fine), are refused. */
TEST(temperature_and_input_blur)
{
	struct classify_opts o;
	struct emo_err err;
	struct emo_image a;
	struct qnn_model *m = rm_classifier(1);
	float p1[EMO_NUM_CLASSES], p2[EMO_NUM_CLASSES];
	const char *w;
	char base[160], hot[160];
	struct classify *c;
	double lr1 = 0, lr2 = 0;

	ASSERT(m && (w = write_model(m, "tempA.qnn")));
	snprintf(base, sizeof(base), "%s", w);
	strcat(m->meta, "temperature=2.0000\ninput_blur=0.00\n");
	ASSERT((w = write_model(m, "tempB.qnn")));
	snprintf(hot, sizeof(hot), "%s", w);
	ASSERT_EQ(image_new(&a, 48, 48), EMO_OK);
	for (int i = 0; i < 48 * 48; i++)
		a.px[i] = (uint8_t)(i * 13 % 251);
	classify_opts_default(&o);
	o.model_path = base;
	ASSERT((c = classify_new(&o, &err)));
	ASSERT_EQ(classify_crop(c, &a, p1), EMO_OK);
	classify_free(c);
	o.model_path = hot;
	ASSERT((c = classify_new(&o, &err)));
	ASSERT_EQ(classify_crop(c, &a, p2), EMO_OK);
	classify_free(c);
	/* log p_k - log p_0 is (z_k - z_0) / T: halved at T = 2 */
	for (int k = 1; k < EMO_NUM_CLASSES; k++) {
		lr1 = log(p1[k] / p1[0]);
		lr2 = log(p2[k] / p2[0]);
		ASSERT_NEAR(lr2, 0.5 * lr1, 1e-3);
	}
	ASSERT(fabs(lr1) > 1e-3); /* the logits differ: the test means something */
	m->meta[strlen(m->meta) - strlen("temperature=2.0000\ninput_blur=0.00\n")] = 0;
	strcat(m->meta, "temperature=0\n");
	ASSERT((w = write_model(m, "tempC.qnn")));
	o.model_path = w;
	ASSERT(!classify_new(&o, &err));
	ASSERT(strstr(err.msg, "temperature"));
	m->meta[strlen(m->meta) - strlen("temperature=0\n")] = 0;
	/* a class bias: added after the temperature, log p_k - log p_0 moves by
	 * b_k - b_0; a bad one is refused */
	strcat(m->meta, "logit_bias=0.5,0,0,0,0,0,-0.25\n");
	ASSERT((w = write_model(m, "tempE.qnn")));
	o.model_path = w;
	ASSERT((c = classify_new(&o, &err)));
	ASSERT_EQ(classify_crop(c, &a, p2), EMO_OK);
	classify_free(c);
	for (int k = 1; k < EMO_NUM_CLASSES; k++)
		ASSERT_NEAR(log(p2[k] / p2[0]), log(p1[k] / p1[0]) - 0.5 + (k == 6 ? -0.25 : 0), 1e-3);
	m->meta[strlen(m->meta) - strlen("logit_bias=0.5,0,0,0,0,0,-0.25\n")] = 0;
	strcat(m->meta, "logit_bias=0.5,0,0\n");
	ASSERT((w = write_model(m, "tempF.qnn")));
	o.model_path = w;
	ASSERT(!classify_new(&o, &err));
	ASSERT(strstr(err.msg, "logit_bias"));
	m->meta[strlen(m->meta) - strlen("logit_bias=0.5,0,0\n")] = 0;
	strcat(m->meta, "input_blur=2.80\n");
	ASSERT((w = write_model(m, "tempD.qnn")));
	o.model_path = w;
	ASSERT(!classify_new(&o, &err));
	ASSERT(strstr(err.msg, "blurred"));
	qnn_model_free(m);
	image_free(&a);
}

/* A model file whose name holds a comma or a backslash: "\\," and "\\\\"
 * in the list, alone or as an ensemble member. */
TEST(model_path_escapes)
{
	struct qnn_model *m = rm_classifier(1);
	struct classify_opts o;
	struct emo_err err;
	struct classify *c;
	char plain[160], odd[160], list[800];
	const char *w;

	ASSERT(m && (w = write_model(m, "a,b\\c.qnn")));
	snprintf(odd, sizeof(odd), "%s", w);
	ASSERT((w = write_model(m, "plain.qnn")));
	snprintf(plain, sizeof(plain), "%s", w);
	qnn_model_free(m);
	classify_opts_default(&o);
	snprintf(list, sizeof(list), "%s/a\\,b\\\\c.qnn", model_path);
	o.model_path = list;
	c = classify_new(&o, &err);
	if (!c)
		fprintf(stderr, "  %s: %s\n", err.file, err.msg);
	ASSERT(c);
	ASSERT_EQ(classify_n_nets(c), 1);
	classify_free(c);
	snprintf(list, sizeof(list), "%s,%s/a\\,b\\\\c.qnn", plain, model_path);
	ASSERT((c = classify_new(&o, &err)));
	ASSERT_EQ(classify_n_nets(c), 2);
	classify_free(c);
	/* unescaped, the comma still separates: "DIR/a" is no file */
	snprintf(list, sizeof(list), "%s", odd);
	ASSERT(!classify_new(&o, &err));
	unlink(odd);
	unlink(plain);
}

TEST(align_landmarks_levels_eyes)
{
	struct classify *c = new_random(0);
	struct emo_image frame, crop;
	struct emo_face f;

	ASSERT(c);
	ASSERT_EQ(image_new(&frame, 320, 240), EMO_OK);
	ASSERT_EQ(image_new(&crop, 48, 48), EMO_OK);
	memset(frame.px, 200, 320 * 240);
	/* two dark eyes, tilted by about 20 degrees, 60 px apart */
	const float lx = 130, ly = 100, rx = 130 + 60 * cosf(0.35f), ry = 100 + 60 * sinf(0.35f);
	for (int y = -2; y <= 2; y++)
		for (int x = -2; x <= 2; x++) {
			frame.px[(int)(ly + y) * 320 + (int)(lx + x)] = 0;
			frame.px[(int)(ry + y) * 320 + (int)(rx + x)] = 0;
		}
	memset(&f, 0, sizeof(f));
	f.n_landmarks = DETECT_NUM_LANDMARKS;
	/* landmark coordinates: centres of the drawn 5x5 blocks; nose and
	 * mouth where a face of that size and tilt has them (FER2013 framing:
	 * eyes 17.2 px apart, nose 13.4 px and mouth 18.8 px below the eyes,
	 * mouth corners 14.4 px apart) */
	f.lm[0][0] = (float)(int)lx + 0.5f;
	f.lm[0][1] = (float)(int)ly + 0.5f;
	f.lm[1][0] = (float)(int)rx + 0.5f;
	f.lm[1][1] = (float)(int)ry + 0.5f;
	{
		const float k = 60.0f / 17.2f, cs = cosf(0.35f), sn = sinf(0.35f);
		const float mx = 0.5f * (f.lm[0][0] + f.lm[1][0]), my = 0.5f * (f.lm[0][1] + f.lm[1][1]);
		const float rel[3][2] = {{0, 13.4f}, {-7.2f, 18.8f}, {7.2f, 18.8f}};
		for (int i = 0; i < 3; i++) {
			f.lm[2 + i][0] = mx + k * (cs * rel[i][0] - sn * rel[i][1]);
			f.lm[2 + i][1] = my + k * (sn * rel[i][0] + cs * rel[i][1]);
		}
	}
	{
		/* the box the detector gives such a face (WIDER convention):
		 * 42.9 x 55.0 FER2013 pixels, centred 5.5 below the eye midpoint */
		const float k = 60.0f / 17.2f, cs = cosf(0.35f), sn = sinf(0.35f), bw = 42.9f * k, bh = 55.0f * k;
		const float cx = 0.5f * (f.lm[0][0] + f.lm[1][0]) - sn * 5.5f * k;
		const float cy = 0.5f * (f.lm[0][1] + f.lm[1][1]) + cs * 5.5f * k;
		f.box = (struct emo_box){cx - 0.5f * bw, cy - 0.5f * bh, bw, bh};
	}
	ASSERT_EQ(classify_align(c, &frame, &f, &crop), EMO_OK);
	int ax = 0, ay = 0, bx = 0, by = 0;
	darkest(&crop, 0, 23, 0, 47, &ax, &ay);
	darkest(&crop, 24, 47, 0, 47, &bx, &by);
	/* level, symmetric about the centre, at the FER2013 framing */
	ASSERT(abs(ay - by) <= 1);
	ASSERT(abs((ax + bx) - 47) <= 2);
	ASSERT(bx - ax >= 15 && bx - ax <= 19); /* 32.6 - 15.4 = 17.2 */
	ASSERT(ay >= 16 && ay <= 19);            /* 18.2 - 0.5 = 17.7 */
	float p[EMO_NUM_CLASSES];
	ASSERT_EQ(classify_face(c, &frame, &f, p), EMO_OK);
	/* unusable landmarks (not a number, all at one point, upside down):
	 * the box alone frames the face, upright, as without landmarks */
	{
		struct emo_image upright;
		struct emo_face nolm = f;
		ASSERT_EQ(image_new(&upright, 48, 48), EMO_OK);
		nolm.n_landmarks = 0;
		ASSERT_EQ(classify_align(c, &frame, &nolm, &upright), EMO_OK);
		ASSERT(memcmp(upright.px, crop.px, 48 * 48) != 0); /* the tilt mattered */
		f.lm[3][0] = NAN;
		ASSERT_EQ(classify_align(c, &frame, &f, &crop), EMO_OK);
		ASSERT(memcmp(upright.px, crop.px, 48 * 48) == 0);
		struct emo_face flipped = nolm;
		flipped.n_landmarks = DETECT_NUM_LANDMARKS;
		for (int i = 0; i < DETECT_NUM_LANDMARKS; i++) { /* upside down */
			flipped.lm[i][0] = 2 * (f.box.x + 0.5f * f.box.w) - f.lm[i][0];
			flipped.lm[i][1] = 2 * (f.box.y + 0.5f * f.box.h) - f.lm[i][1];
		}
		flipped.lm[3][0] = flipped.lm[4][0];
		ASSERT_EQ(classify_align(c, &frame, &flipped, &crop), EMO_OK);
		ASSERT(memcmp(upright.px, crop.px, 48 * 48) == 0);
		for (int i = 0; i < DETECT_NUM_LANDMARKS; i++) {
			f.lm[i][0] = f.lm[0][0];
			f.lm[i][1] = 100;
		}
		ASSERT_EQ(classify_align(c, &frame, &f, &crop), EMO_OK);
		ASSERT(memcmp(upright.px, crop.px, 48 * 48) == 0);
		image_free(&upright);
	}
	/* a box that is not a number is refused */
	f.box.w = NAN;
	ASSERT_EQ(classify_align(c, &frame, &f, &crop), EMO_EINVAL);
	image_free(&frame);
	image_free(&crop);
	classify_free(c);
}

TEST(align_box_squares)
{
	struct classify *c = new_random(0);
	struct emo_image frame, crop;
	struct emo_face f;

	ASSERT(c);
	ASSERT_EQ(image_new(&frame, 200, 200), EMO_OK);
	ASSERT_EQ(image_new(&crop, 48, 48), EMO_OK);
	memset(frame.px, 220, 200 * 200);
	/* a dark rectangle at 80..119 x 70..129 in a tall box 80..119 x
	 * 60..139: the crop is a square of 0.873 box heights (69.8 px) centred
	 * 0.005 heights (0.4 px) below the box's, so the dark band is
	 * 40/69.8*48 ~ 27.5 px wide, centred, over rows ~3.1..44.4 */
	for (int y = 70; y < 130; y++)
		for (int x = 80; x < 120; x++)
			frame.px[y * 200 + x] = 20;
	memset(&f, 0, sizeof(f));
	f.box = (struct emo_box){80, 60, 40, 80};
	ASSERT_EQ(classify_align(c, &frame, &f, &crop), EMO_OK);
	int dark_cols = 0;
	for (int x = 0; x < 48; x++)
		dark_cols += crop.px[24 * 48 + x] < 120;
	ASSERT(dark_cols >= 26 && dark_cols <= 29);
	ASSERT(crop.px[24 * 48 + 23] < 60 && crop.px[24 * 48 + 2] > 180);
	ASSERT(crop.px[5 * 48 + 24] < 120 && crop.px[43 * 48 + 24] < 120);
	ASSERT(crop.px[1 * 48 + 24] > 180 && crop.px[46 * 48 + 24] > 180);
	/* bad boxes and a crop of the wrong size */
	f.box.w = 0;
	ASSERT_EQ(classify_align(c, &frame, &f, &crop), EMO_EINVAL);
	f.box.w = NAN;
	ASSERT_EQ(classify_align(c, &frame, &f, &crop), EMO_EINVAL);
	f.box = (struct emo_box){-500, -500, 30, 30}; /* off frame: border replicated */
	ASSERT_EQ(classify_align(c, &frame, &f, &crop), EMO_OK);
	struct emo_image wrong;
	ASSERT_EQ(image_new(&wrong, 32, 32), EMO_OK);
	ASSERT_EQ(classify_align(c, &frame, &f, &wrong), EMO_EINVAL);
	image_free(&wrong);
	image_free(&frame);
	image_free(&crop);
	classify_free(c);
}

/* scale_tta: the mean of the face framed 0.85x, 1x and 1.15x (box scaled
 * about its centre), each classified alone; a bad box is still refused */
TEST(scale_tta_averages_three_framings)
{
	struct classify *c1, *c0, *probe = new_random(0);
	struct classify_opts o;
	struct emo_image frame;
	struct emo_face f, g;
	float p[EMO_NUM_CLASSES], q[EMO_NUM_CLASSES], one[EMO_NUM_CLASSES], mean[EMO_NUM_CLASSES] = {0};
	static const float sc[3] = {0.85f, 1.0f, 1.15f};
	float sum = 0, d1 = 0;
	char path[128];

	ASSERT(probe);
	classify_free(probe);
	snprintf(path, sizeof(path), "%s/emo.qnn", model_path); /* new_random's model */
	classify_opts_default(&o);
	ASSERT_EQ(o.scale_tta, 0); /* off by default, as the config */
	o.model_path = path;
	o.scale_tta = 1;
	ASSERT((c1 = classify_new(&o, NULL)));
	ASSERT_EQ(image_new(&frame, 160, 120), EMO_OK);
	for (int y = 0; y < 120; y++)
		for (int x = 0; x < 160; x++)
			frame.px[y * 160 + x] = (uint8_t)(x * 11 + y * 7); /* wraps: sharp edges */
	memset(&f, 0, sizeof(f));
	f.box = (struct emo_box){50, 30, 60, 60};
	ASSERT_EQ(classify_face(c1, &frame, &f, p), EMO_OK);
	/* the same model without it: the three framings one by one */
	o.model_path = path;
	o.scale_tta = 0;
	ASSERT((c0 = classify_new(&o, NULL)));
	for (int k = 0; k < 3; k++) {
		g = f;
		g.box.w = g.box.h = 60 * sc[k];
		g.box.x = 80 - 0.5f * g.box.w;
		g.box.y = 60 - 0.5f * g.box.h;
		ASSERT_EQ(classify_face(c0, &frame, &g, q), EMO_OK);
		for (int j = 0; j < EMO_NUM_CLASSES; j++)
			mean[j] += q[j] / 3;
		if (k == 1)
			memcpy(one, q, sizeof(one));
	}
	for (int j = 0; j < EMO_NUM_CLASSES; j++) {
		ASSERT_NEAR(p[j], mean[j], 1e-6);
		sum += p[j];
		d1 += fabsf(p[j] - one[j]);
	}
	ASSERT_NEAR(sum, 1, 1e-5);
	ASSERT(d1 > 1e-6f); /* the other two framings changed the answer */
	f.box.w = NAN;
	ASSERT_EQ(classify_face(c1, &frame, &f, p), EMO_EINVAL);
	ASSERT_EQ(classify_face(c0, &frame, &f, p), EMO_EINVAL);
	image_free(&frame);
	classify_free(c0);
	classify_free(c1);
}

/* A clearly happy and a clearly neutral face keep their label through the
 * whole pipeline: the first 12 test faces of each that the embedded
 * classifier reads right with p >= 0.7 from the 48x48 image itself, pasted
 * at 150 px into a 480x360 frame (on a negative image), found by the
 * embedded detector and aligned and classified as emotop does. */
TEST(clear_faces_keep_their_label)
{
	char fer[4096], neg[4096];
	struct fer_set set = {0};
	struct classify_opts co;
	struct detect_opts dopt;
	struct classify *c;
	struct detect *d;
	struct emo_err err;
	struct emo_image frame, bg = {0};
	static const int cls[2] = {3, 6}; /* happy, neutral */
	int kept[2] = {0, 0}, tried[2] = {0, 0};

	snprintf(fer, sizeof(fer), "%s/data/fer2013/test", unit_shared());
	snprintf(neg, sizeof(neg), "%s/data/faces/negatives/UMD_010.jpg", unit_shared());
	if (access(fer, R_OK))
		SKIP("%s not found (set SHARED)", fer);
	if (emo_blob_emo7_end - emo_blob_emo7 == 0 || emo_blob_face_end - emo_blob_face == 0)
		SKIP("this build embeds no classifier or detector");
	ASSERT_EQ(fer_load(fer, NULL, &set), 0);
	{
		int w, h;
		if (!jpeg_load_gray(neg, &bg.px, &w, &h)) {
			bg.w = bg.stride = w;
			bg.h = h;
		}
	}
	classify_opts_default(&co);
	detect_opts_default(&dopt);
	ASSERT((c = classify_new(&co, &err)) != NULL);
	ASSERT((d = detect_new(&dopt, &err)) != NULL);
	ASSERT_EQ(image_new(&frame, 480, 360), EMO_OK);
	for (int i = 0; i < set.n && (tried[0] < 12 || tried[1] < 12); i++) {
		struct emo_image face = {48, 48, 48, set.px + (size_t)i * 48 * 48};
		struct emo_image dst = {150, 150, frame.stride, frame.px + (size_t)100 * frame.stride + 160};
		struct emo_face f[8];
		float p[EMO_NUM_CLASSES];
		int k = set.label[i] == cls[0] ? 0 : set.label[i] == cls[1] ? 1 : -1, n, best = 0, am = 0;
		if (k < 0 || tried[k] >= 12)
			continue;
		ASSERT_EQ(classify_crop(c, &face, p), EMO_OK);
		if (!(p[cls[k]] >= 0.7f))
			continue; /* not a clear face of its class */
		if (bg.px)
			image_resize(&bg, &frame);
		else
			memset(frame.px, 100, (size_t)frame.stride * frame.h);
		image_resize(&face, &dst);
		n = detect_run(d, &frame, f, 8);
		ASSERT(n >= 0);
		tried[k]++;
		for (int j = 1; j < n; j++)
			if (f[j].score > f[best].score)
				best = j;
		if (!n)
			continue; /* not found: counts as lost */
		ASSERT_EQ(classify_face(c, &frame, &f[best], p), EMO_OK);
		for (int j = 1; j < EMO_NUM_CLASSES; j++)
			if (p[j] > p[am])
				am = j;
		kept[k] += am == cls[k];
	}
	fprintf(stderr, "  happy %d of %d kept, neutral %d of %d\n", kept[0], tried[0], kept[1], tried[1]);
	ASSERT_EQ(tried[0], 12);
	ASSERT_EQ(tried[1], 12);
	ASSERT(kept[0] >= 11 && kept[1] >= 10);
	image_free(&frame);
	free(bg.px);
	fer_free(&set);
	classify_free(c);
	detect_free(d);
}

int main(int argc, char **argv)
{
	unit_init(argc, argv);
	RUN(model_errors);
	RUN(crop_softmax_and_flip);
	RUN(ensemble);
	RUN(temperature_and_input_blur);
	RUN(model_path_escapes);
	RUN(align_landmarks_levels_eyes);
	RUN(align_box_squares);
	RUN(scale_tta_averages_three_framings);
	RUN(clear_faces_keep_their_label);
	if (model_path[0]) {
		DIR *dir = opendir(model_path);
		struct dirent *de;
		char p[400];
		while (dir && (de = readdir(dir)))
			if (de->d_name[0] != '.') {
				snprintf(p, sizeof(p), "%s/%s", model_path, de->d_name);
				unlink(p);
			}
		if (dir)
			closedir(dir);
		rmdir(model_path);
	}
	return unit_done();
}
