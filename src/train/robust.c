/* robust.c - `emotop-train robust`: how the classifier reads faces that a
 * camera, a stream and emotop's own framing change. Every face of the
 * validation split is degraded one way at a time (blur, noise, JPEG, low
 * resolution, low light, light from one side, a looser or tighter or
 * shifted or turned crop), then contrast-normalised as emotop does, and
 * classified by the int8 model(s); for each way: accuracy, macro recall,
 * expected calibration error, neutral recall and what the neutral faces
 * were taken for. A model that has learned FER2013's registration and
 * camera alone loses its neutral faces to angry or sad here first. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emotop/blob.h"
#include "emotop/emotion.h"
#include "emotop/facenorm.h"
#include "emotop/image.h"
#include "train/quantize.h"
#include "train/train.h"

enum rb_kind { RB_NONE, RB_BLUR, RB_NOISE, RB_JPEG, RB_LOWRES, RB_DARK, RB_SIDE, RB_FRAME };

struct rb_way {
	const char *name;
	enum rb_kind kind;
	float a, b, c;  /* blur sigma; noise sd; JPEG quality; side; gain, bias, noise;
			 * side light's k (gain 1 - k on the left to 1 + k on
			 * the right); frame scale, shift (of the side), angle
			 * (degrees) */
};

static const struct rb_way rb_ways[] = {
	{"as is", RB_NONE, 0, 0, 0},
	{"blur 1 px", RB_BLUR, 1.0f, 0, 0},
	{"blur 2 px", RB_BLUR, 2.0f, 0, 0},
	{"noise sd 8", RB_NOISE, 8, 0, 0},
	{"JPEG q 30", RB_JPEG, 30, 0, 0},
	{"24 px face", RB_LOWRES, 24, 0, 0},
	{"16 px face", RB_LOWRES, 16, 0, 0},
	{"low light", RB_DARK, 0.35f, -20, 4},
	{"bright, flat", RB_DARK, 0.6f, 70, 0},
	{"side light 0.5", RB_SIDE, 0.5f, 0, 0},
	{"crop 0.85x", RB_FRAME, 0.85f, 0, 0},
	{"crop 1.15x", RB_FRAME, 1.15f, 0, 0},
	{"shifted 8 %", RB_FRAME, 1.0f, 0.08f, 0},
	{"turned 12 deg", RB_FRAME, 1.0f, 0, 12},
};

static float rb_gauss(uint64_t *s)
{
	double u1 = ((train_rand_next(s) >> 11) + 1.0) / 9007199254740993.0, u2 = (train_rand_next(s) >> 11) / 9007199254740992.0;
	return (float)(sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2));
}

static uint8_t rb_clamp(float v)
{
	return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5f);
}

/* Degrade one raw 48x48 face in place (seed: its noise). */
static void rb_apply(const struct rb_way *w, uint8_t *px, uint64_t seed)
{
	const int N = FER_SIZE * FER_SIZE;
	uint8_t tmp[FER_SIZE * FER_SIZE];
	struct emo_image img = {FER_SIZE, FER_SIZE, FER_SIZE, px}, t = {FER_SIZE, FER_SIZE, FER_SIZE, tmp};

	switch (w->kind) {
	case RB_NONE:
		break;
	case RB_BLUR:
		facenorm_blur(px, FER_SIZE, FER_SIZE, w->a, tmp);
		break;
	case RB_NOISE:
		for (int i = 0; i < N; i++)
			px[i] = rb_clamp(px[i] + w->a * rb_gauss(&seed));
		break;
	case RB_JPEG:
		jpeg_roundtrip_gray(px, FER_SIZE, FER_SIZE, (int)w->a);
		break;
	case RB_LOWRES: {
		uint8_t small[FER_SIZE * FER_SIZE];
		struct emo_image s = {(int)w->a, (int)w->a, (int)w->a, small};
		image_resize(&img, &s);
		image_resize(&s, &img);
		break;
	}
	case RB_DARK:
		for (int i = 0; i < N; i++)
			px[i] = rb_clamp(px[i] * w->a + w->b + (w->c > 0 ? w->c * rb_gauss(&seed) : 0));
		break;
	case RB_SIDE:
		for (int i = 0; i < N; i++)
			px[i] = rb_clamp(px[i] * (1 + w->a * ((float)(i % FER_SIZE) / (FER_SIZE - 1) * 2 - 1)));
		break;
	case RB_FRAME: {
		/* dst -> src about the centre: scale, turn, shift */
		const float th = w->c * 3.14159265f / 180, k = w->a, cs = cosf(th), sn = sinf(th);
		const float c0 = 0.5f * FER_SIZE - 0.5f, d = w->b * FER_SIZE;
		float a[6] = {k * cs, -k * sn, 0, k * sn, k * cs, 0};
		a[2] = c0 - a[0] * c0 - a[1] * c0 + d;
		a[5] = c0 - a[3] * c0 - a[4] * c0 + d;
		memcpy(tmp, px, (size_t)N);
		image_warp_affine(&t, &img, a);
		break;
	}
	}
}

static void rb_usage(FILE *f)
{
	fprintf(f, "usage: emotop-train robust --data DIR|CSV [--model FILE]... [--usage PublicTest|PrivateTest]\n"
		   "How the int8 classifier (default: the embedded one) reads the validation faces\n"
		   "degraded as cameras, streams and framing degrade them: accuracy, macro recall,\n"
		   "neutral recall and what the neutral faces were taken for.\n");
}

int train_cmd_robust(int argc, char **argv)
{
	static const struct option lo[] = {{"data", 1, 0, 'd'}, {"model", 1, 0, 'm'}, {"usage", 1, 0, 'u'},
					   {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
	const char *data = NULL, *usage = "PublicTest", *model[TRAIN_MAX_ENSEMBLE];
	struct qnn_model *m[TRAIN_MAX_ENSEMBLE] = {0};
	struct fer_set raw = {0}, set = {0};
	struct emo_err err = {0};
	int n_model = 0, o, rc = 1;

	optind = 1;
	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (o) {
		case 'd': data = optarg; break;
		case 'u': usage = optarg; break;
		case 'm':
			if (n_model == TRAIN_MAX_ENSEMBLE) {
				fprintf(stderr, "emotop-train robust: at most %d --model\n", TRAIN_MAX_ENSEMBLE);
				return 2;
			}
			model[n_model++] = optarg;
			break;
		case 'h':
			rb_usage(stdout);
			return 0;
		default:
			rb_usage(stderr);
			return 2;
		}
	}
	if (!data || optind != argc) {
		rb_usage(stderr);
		return 2;
	}
	for (int k = 0; k < n_model; k++)
		if (qnn_model_load(model[k], &m[k], &err))
			goto bad_model;
	if (!n_model) {
		struct emo_blob b[EMO_MAX_BLOBS];
		const int nb = emo_blobs(b, EMO_MAX_BLOBS);
		for (int i = 0; i < nb && n_model < TRAIN_MAX_ENSEMBLE; i++)
			if (b[i].classifier && b[i].len &&
			    qnn_model_load_mem(b[i].data, b[i].len, b[i].name, &m[n_model++], &err))
				goto bad_model;
		if (!n_model) {
			fprintf(stderr, "emotop-train: this build embeds no emotion model\n");
			goto out;
		}
	}
	for (int k = 0; k < n_model; k++) {
		int norm;
		if (facenorm_from_meta(m[k], "the model", &norm, &err))
			goto bad_model;
	}
	if (train_load_split(data, usage, -1, &raw) || train_load_split(data, usage, -1, &set))
		goto out;
	printf("%d faces (%s), %d model%s\n", raw.n, usage, n_model, n_model > 1 ? "s" : "");
	printf("%-14s %7s %7s %6s %8s   neutral faces taken for (%%)\n%47s", "degradation", "acc %",
	       "macro %", "ECE", "neutral%", "");
	for (int c = 0; c < 7; c++)
		printf(" %6.6s", emo_class_name(c));
	printf("\n");
	for (size_t w = 0; w < sizeof(rb_ways) / sizeof(rb_ways[0]); w++) {
		struct eval_res r;
		double macro = 0;
		int n_neut = 0;
		for (int i = 0; i < raw.n; i++) {
			uint8_t *px = set.px + (size_t)i * FER_SIZE * FER_SIZE;
			memcpy(px, raw.px + (size_t)i * FER_SIZE * FER_SIZE, FER_SIZE * FER_SIZE);
			rb_apply(&rb_ways[w], px, 0x5eedULL * (uint64_t)(i + 1));
			facenorm_apply(px, FER_SIZE * FER_SIZE);
		}
		if (train_eval_int8(m, n_model, &set, 0, &r))
			goto out;
		for (int t = 0; t < 7; t++) {
			int tot = 0;
			for (int p = 0; p < 7; p++)
				tot += r.conf[t][p];
			macro += tot ? (double)r.conf[t][t] / tot / 7 : 0;
		}
		for (int p = 0; p < 7; p++)
			n_neut += r.conf[EMO_NEUTRAL][p];
		printf("%-14s %7.2f %7.2f %6.3f %8.2f ", rb_ways[w].name, 100 * r.acc, 100 * macro, r.ece,
		       n_neut ? 100.0 * r.conf[EMO_NEUTRAL][EMO_NEUTRAL] / n_neut : 0.0);
		for (int p = 0; p < 7; p++)
			printf(" %6.1f", n_neut ? 100.0 * r.conf[EMO_NEUTRAL][p] / n_neut : 0.0);
		printf("\n");
	}
	rc = 0;
	goto out;
bad_model:
	fprintf(stderr, "emotop-train: %s\n", err.msg);
out:
	for (int k = 0; k < TRAIN_MAX_ENSEMBLE; k++)
		qnn_model_free(m[k]);
	fer_free(&raw);
	fer_free(&set);
	return rc;
}
