/* test_detect.c - the face detector: NMS, box/landmark decoding through a
 * hand-made model, every kernel path identical to scalar, int8 against the
 * float network, the stand-in, bad input; and with ../shared and the
 * shipped model: synthetic galleries of FER2013 faces on negatives (every
 * face found at IoU >= 0.5, nothing else) and false alarms on negatives. */
#include "unit.h"

#include <dirent.h>
#include <strings.h>
#include <unistd.h>

#include "emotop/align.h"
#include "emotop/blob.h"
#include "emotop/facenorm.h"
#include "emotop/detect.h"
#include "emotop/image.h"
#include "emotop/qnn.h"
#include "sort.h"
#include "train/data.h"
#include "train/detect_train.h"
#include "train/fnn.h"
#include "train/quantize.h"

/* int8 against float on the same network: heat logits may differ by at
 * most this much (logit units) at any cell... */
#define DET_TOL_LOGIT 0.75
/* ...and every float face scoring >= 0.6 has an int8 face at IoU >= 0.7
 * with a score within 0.15. */
#define DET_TOL_IOU 0.7
#define DET_TOL_SCORE 0.15
/* int8 against the float network (fnn) it was quantized from, for networks
 * of depthwise (w) blocks: a classifier's logits may differ by at most this
 * fraction of their spread (std), the bound test_qnn.c's QNN_TOL_LOGIT_REL
 * sets on the engine against its float path; a detector's head maps by at
 * most DET_TOL_LOGIT. */
#define DET_TOL_DW_LOGIT_REL 0.08
/* false alarms per held-out negative image at the default threshold */
#define DET_MAX_FA_PER_NEG 0.05
/* Synthetic galleries, scored by the criterion (a tile's face is
 * found by a box at IoU >= 0.3 with its face box; a box on no tile's face
 * is a false alarm; images of FER2013 that are no face left out). The
 * issue's target is every face found and no false alarm; the shipped
 * detector (WIDER boxes, with its verifier) finds 78 of the 85 faces with
 * no false alarm here (the square-box detector before it: 78 with 1).
 * These bounds guard against regressions; raise them with a better model. */
#define DET_MIN_GALLERY_RECALL 0.8
#define DET_MAX_GALLERY_FA 8
/* galleries of 50 blurred non-face tiles: faces found (measured 0; 4 with
 * the square-box detector before) */
#define DET_MAX_DECOY_FA 5

static int have_model(void)
{
	return emo_blob_face_end - emo_blob_face > 0;
}

static struct emo_face mkface(float x, float y, float w, float s)
{
	struct emo_face f;
	memset(&f, 0, sizeof(f));
	f.box = (struct emo_box){x, y, w, w};
	f.score = s;
	return f;
}

/* emo_sort (the allocation-free heapsort under NMS and the tracker) gives
 * qsort's order, with runs of equal keys, for elements larger than its
 * 64-byte swap buffer (the detector's 64-byte faces and the tracker's
 * 8-byte pairs are sorted in their own tests). */
struct sort_elem {
	int key;
	unsigned char pad[96];
};

static int sort_before(const void *a, const void *b)
{
	return ((const struct sort_elem *)a)->key < ((const struct sort_elem *)b)->key;
}

static int sort_cmp(const void *a, const void *b)
{
	int x = ((const struct sort_elem *)a)->key, y = ((const struct sort_elem *)b)->key;
	return (x > y) - (x < y);
}

TEST(sort_matches_qsort)
{
	static struct sort_elem a[300], b[300];
	unsigned s = 7;

	for (int n = 0; n <= 300; n += 37) {
		for (int i = 0; i < n; i++) {
			s = s * 1103515245u + 12345u;
			memset(&a[i], 0, sizeof(a[i]));
			a[i].key = (int)(s >> 16) % (n / 3 + 1); /* many equal keys */
			a[i].pad[95] = (unsigned char)a[i].key;  /* the whole element moves */
		}
		memcpy(b, a, sizeof(a[0]) * (size_t)n);
		emo_sort(a, (size_t)n, sizeof(a[0]), sort_before);
		qsort(b, (size_t)n, sizeof(b[0]), sort_cmp);
		for (int i = 0; i < n; i++) {
			ASSERT_EQ(a[i].key, b[i].key);
			ASSERT_EQ(a[i].pad[95], (unsigned char)a[i].key);
		}
	}
}

TEST(nms_order_and_suppression)
{
	struct emo_face f[5] = {mkface(0, 0, 10, 0.6f), mkface(1, 1, 10, 0.9f), mkface(50, 50, 10, 0.7f),
				mkface(100, 0, 20, 0.8f), mkface(103, 2, 20, 0.5f)};
	int n = detect_nms(f, 5, 0.4f);
	ASSERT_EQ(n, 3);
	ASSERT_NEAR(f[0].score, 0.9, 1e-6);
	ASSERT_NEAR(f[1].score, 0.8, 1e-6);
	ASSERT_NEAR(f[2].score, 0.7, 1e-6);
	ASSERT_NEAR(f[0].box.x, 1, 1e-6);
	/* IoU of the 10-px pair is 81/119 = 0.68: kept when the limit is above */
	n = detect_nms((struct emo_face[2]){mkface(0, 0, 10, 0.6f), mkface(1, 1, 10, 0.9f)}, 2, 0.7f);
	ASSERT_EQ(n, 2);
	ASSERT_EQ(detect_nms(NULL, 0, 0.4f), 0);
}

/* A model whose heat logit is the sum of an 8x8 block (stride 8) and whose
 * regression maps are constants (biases): decoding is then known exactly. */
static int write_decode_model(const char *path, const float *reg, int nch)
{
	struct qnn_model *m = calloc(1, sizeof(*m));
	struct qnn_layer *l;
	struct emo_err e;
	int rc;

	if (!m)
		return -1;
	m->n_tensors = 2;
	m->n_layers = 1;
	m->tensors[0] = (struct qnn_tensor){1.0f / 255, 0, 1};
	m->tensors[1] = (struct qnn_tensor){1.0f, 0, nch};
	l = &m->layers[0];
	l->type = QNN_CONV;
	l->in = 0;
	l->in2 = -1;
	l->out = 1;
	l->kh = l->kw = l->stride = 8;
	l->groups = 1;
	l->float_out = 1;
	l->cin = 1;
	l->cout = nch;
	l->w = calloc((size_t)nch * 64, 1);
	l->bias = calloc((size_t)nch, sizeof(int32_t));
	l->mult = calloc((size_t)nch, sizeof(int32_t));
	l->shift = calloc((size_t)nch, sizeof(int32_t));
	l->w_scale = calloc((size_t)nch, sizeof(float));
	if (!l->w || !l->bias || !l->mult || !l->shift || !l->w_scale)
		return -1;
	/* heat = (sum of the block / 255) * 1 - 20: > 0 only for a bright block */
	for (int k = 0; k < 64; k++)
		l->w[k] = 1;
	l->w_scale[0] = 1.0f;
	l->bias[0] = -20 * 255;
	for (int c = 1; c < nch; c++) {
		l->w_scale[c] = 1.0f / 1024;
		/* bias in units of s_in * w_scale: real = bias / 255 / 1024 */
		l->bias[c] = (int32_t)lroundf(reg[c - 1] * 255 * 1024);
	}
	snprintf(m->meta, sizeof(m->meta),
		 "task=face-detect\nstride=8\nsize_base=32\nlevel_min=20\nlevel_max=1000\n");
	rc = qnn_model_save(m, path, &e);
	qnn_model_free(m);
	return rc;
}

/* One bright 8x8 block at cell (5, 3) of a 160x96 frame through a
 * decode model with the given constant maps; the faces found into f. */
static int decode_one(const float *reg, int nch, struct emo_face *f, int max)
{
	char path[] = "/tmp/emotop-test-detect-XXXXXX";
	int fd = mkstemp(path), n = -100;
	struct detect_opts o;
	struct detect *d;
	struct emo_err e;
	struct emo_image img;

	if (fd < 0)
		return -100;
	close(fd);
	if (write_decode_model(path, reg, nch)) {
		unlink(path);
		return -100;
	}
	detect_opts_default(&o);
	o.model_path = path;
	d = detect_new(&o, &e);
	unlink(path);
	if (!d || image_new(&img, 160, 96)) {
		detect_free(d);
		return -100;
	}
	for (int y = 24; y < 32; y++)
		for (int x = 40; x < 48; x++)
			img.px[y * img.w + x] = 255;
	n = detect_run(d, &img, f, max);
	if (n == 1 && max > 0) {
		/* max limits the output; 0 is allowed; no bright block: nothing */
		if (detect_run(d, &img, f + 1, 0) != 0)
			n = -101;
		memset(img.px, 0, (size_t)img.w * img.h);
		if (detect_run(d, &img, f + 1, max - 1) != 0)
			n = -102;
	}
	image_free(&img);
	detect_free(d);
	return n;
}

/* The rectangular head: log w and log h apart, landmarks in units of
 * sqrt(w h). */
TEST(decode_boxes_and_landmarks)
{
	const float reg[14] = {0.25f, -0.5f, 0.1f, 0.3f, -0.2f, -0.1f, 0.2f, -0.1f, 0, 0.05f, -0.15f, 0.25f, 0.15f, 0.25f};
	const float w = 32 * expf(0.1f), h = 32 * expf(0.3f), s = sqrtf(w * h);
	struct emo_face f[8];

	ASSERT_EQ(decode_one(reg, 15, f, 8), 1);
	ASSERT_NEAR(f[0].score, 1.0, 1e-4);
	/* centre ((5 + 0.5 + 0.25) * 8, (3 + 0.5 - 0.5) * 8) */
	ASSERT_NEAR(f[0].box.w, w, 0.05);
	ASSERT_NEAR(f[0].box.h, h, 0.05);
	ASSERT_NEAR(f[0].box.x + f[0].box.w / 2, 46, 0.05);
	ASSERT_NEAR(f[0].box.y + f[0].box.h / 2, 24, 0.05);
	ASSERT_EQ(f[0].n_landmarks, 5);
	for (int k = 0; k < 5; k++) {
		ASSERT_NEAR(f[0].lm[k][0], 46 + reg[4 + 2 * k] * s, 0.05);
		ASSERT_NEAR(f[0].lm[k][1], 24 + reg[5 + 2 * k] * s, 0.05);
	}
}

/* A square-box model (the first format, 14 maps) still loads; its
 * brows-to-chin square becomes the WIDER box (0.955 x 1.227 of the side,
 * centre 0.073 sides higher) and its landmarks stay in units of the side. */
TEST(decode_square_model)
{
	const float reg[13] = {0.25f, -0.5f, 0.0f, -0.2f, -0.1f, 0.2f, -0.1f, 0, 0.05f, -0.15f, 0.25f, 0.15f, 0.25f};
	struct emo_face f[8];

	ASSERT_EQ(decode_one(reg, 14, f, 8), 1);
	ASSERT_NEAR(f[0].box.w, 32 * 0.955, 0.05);
	ASSERT_NEAR(f[0].box.h, 32 * 1.227, 0.05);
	ASSERT_NEAR(f[0].box.x + f[0].box.w / 2, 46, 0.05);
	ASSERT_NEAR(f[0].box.y + f[0].box.h / 2, 24 - 0.073 * 32, 0.05);
	for (int k = 0; k < 5; k++) {
		ASSERT_NEAR(f[0].lm[k][0], 46 + reg[3 + 2 * k] * 32, 0.05);
		ASSERT_NEAR(f[0].lm[k][1], 24 + reg[4 + 2 * k] * 32, 0.05);
	}
	/* any other count of maps is refused */
	ASSERT_EQ(decode_one(reg, 13, f, 8), -100);
}

/* Part-face suppression: a box mostly inside a larger, better one goes; a
 * smaller face beside it, a larger box inside nothing, and a part scored
 * higher than the whole stay. With loose, a larger box around a better
 * face goes too. */
TEST(drop_parts)
{
	struct emo_face f[6];

	f[0] = mkface(100, 100, 200, 0.9f); /* a large face */
	f[1] = mkface(150, 200, 100, 0.7f); /* its nose and mouth: all inside */
	f[2] = mkface(260, 100, 60, 0.6f);  /* 40 of 60 px wide inside: 0.67 of its area */
	f[3] = mkface(400, 100, 50, 0.5f);  /* a face of its own */
	f[4] = mkface(120, 110, 60, 0.4f);  /* one eye: inside */
	ASSERT_EQ(detect_drop_parts(f, 5, 0), 3);
	ASSERT_NEAR(f[0].score, 0.9, 1e-6);
	ASSERT_NEAR(f[1].score, 0.6, 1e-6);
	ASSERT_NEAR(f[2].score, 0.5, 1e-6);
	/* the part first (better scored): the whole stays, it is not inside */
	f[0] = mkface(150, 200, 100, 0.9f);
	f[1] = mkface(100, 100, 200, 0.8f);
	ASSERT_EQ(detect_drop_parts(f, 2, 0), 2);
	ASSERT_EQ(detect_drop_parts(f, 0, 0), 0);
	/* loose: the face first, then a box twice its side around it (IoU
	 * 0.25: NMS keeps both), then a face of its own */
	f[0] = mkface(150, 150, 100, 0.9f);
	f[1] = mkface(100, 100, 200, 0.8f);
	f[2] = mkface(400, 100, 60, 0.7f);
	ASSERT_EQ(detect_drop_parts(f, 3, 0), 3);
	ASSERT_EQ(detect_drop_parts(f, 3, 1), 2);
	ASSERT_NEAR(f[0].score, 0.9, 1e-6);
	ASSERT_NEAR(f[1].score, 0.7, 1e-6);
	/* the larger box first: the smaller one is a part, either way */
	f[0] = mkface(100, 100, 200, 0.9f);
	f[1] = mkface(150, 150, 100, 0.8f);
	ASSERT_EQ(detect_drop_parts(f, 2, 1), 1);
	ASSERT_NEAR(f[0].box.w, 200, 1e-6);
}

/* A detector with random weights (the shipped architecture), as a file. */
static int write_random_model(const char *path, uint64_t seed)
{
	struct fnn *net = fnn_new(DT_ARCH, (struct fnn_shape){64, 64, 1}, seed);
	float *calib = malloc(sizeof(float) * 8 * 64 * 64);
	struct qnn_model *m;
	struct emo_err e;
	int rc = -1;

	if (!net || !calib)
		goto out;
	for (int i = 0; i < 8 * 64 * 64; i++)
		calib[i] = (float)((i * 2654435761u >> 7) % 256) / 255.0f;
	/* some spread in the BN statistics */
	for (int i = 0; i < net->n_layers; i++)
		if (net->layers[i].type == FNN_BN)
			for (int c = 0; c < net->layers[i].in.c; c++) {
				net->layers[i].rmean[c] = 0.1f * (float)(c % 5);
				net->layers[i].rvar[c] = 0.5f + 0.1f * (float)(c % 7);
			}
	net->layers[net->n_layers - 1].b[0] = -0.5f;
	m = dt_to_qnn(net, calib, 8,
		      "task=face-detect\nstride=8\nsize_base=32\nlevel_min=20\nlevel_max=48\n");
	if (m && !qnn_model_save(m, path, &e))
		rc = 0;
	qnn_model_free(m);
out:
	fnn_free(net);
	free(calib);
	return rc;
}

static void fill_pattern(struct emo_image *img, uint32_t seed)
{
	for (int y = 0; y < img->h; y++)
		for (int x = 0; x < img->w; x++) {
			uint32_t v = (uint32_t)(x * 73856093u) ^ (uint32_t)(y * 19349663u) ^ seed;
			v = (v ^ (v >> 13)) * 0x5bd1e995u;
			img->px[(size_t)y * img->stride + x] =
				(uint8_t)(((x / 9 + y / 7) & 1) * 90 + (v >> 24) % 100 + 30);
		}
}

static int faces_equal(const struct emo_face *a, int na, const struct emo_face *b, int nb)
{
	return na == nb && (na == 0 || !memcmp(a, b, sizeof(*a) * (size_t)na));
}

TEST(paths_identical_to_scalar)
{
	static const enum qnn_path paths[] = {QNN_PATH_AVX2, QNN_PATH_AVX512VNNI};
	char path[] = "/tmp/emotop-test-detect-XXXXXX";
	int fd = mkstemp(path), tested = 0;
	struct emo_image img;
	struct emo_face *ref = malloc(sizeof(*ref) * 512), *got = malloc(sizeof(*got) * 512);

	ASSERT(fd >= 0 && ref && got);
	close(fd);
	ASSERT_EQ(write_random_model(path, 7), 0);
	ASSERT(image_new(&img, 173, 131) == 0);
	fill_pattern(&img, 1);
	for (int mdl = 0; mdl < 2; mdl++) {
		struct detect_opts o;
		struct detect *d;
		struct emo_err e;
		int nref;
		if (mdl == 1 && !have_model())
			break;
		detect_opts_default(&o);
		o.model_path = mdl == 0 ? path : NULL;
		o.threshold = mdl == 0 ? 0.05f : 0.3f;
		o.min_face = 12;
		o.path = QNN_PATH_SCALAR;
		d = detect_new(&o, &e);
		ASSERT(d != NULL);
		nref = detect_run(d, &img, ref, 512);
		detect_free(d);
		ASSERT(nref >= 0);
		for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
			int n;
			if (!qnn_path_supported(paths[p]))
				continue;
			o.path = paths[p];
			d = detect_new(&o, &e);
			ASSERT(d != NULL);
			ASSERT_STR(detect_kernel_path(d), qnn_path_name(paths[p]));
			n = detect_run(d, &img, got, 512);
			detect_free(d);
			ASSERT(faces_equal(ref, nref, got, n));
			tested++;
		}
	}
	unlink(path);
	image_free(&img);
	free(ref);
	free(got);
	if (!tested)
		SKIP("this CPU has no SIMD path");
}

/* A verifier with random weights: a small two-class (or n_out) CNN on
 * 48x48 crops, quantized like the shipped one, with meta. */
static int write_random_verifier(const char *path, uint64_t seed, int n_out, const char *meta)
{
	char arch[64];
	struct fnn *net;
	struct fer_set cal = {0};
	struct qnn_model *m = NULL;
	struct emo_err e;
	int rc = -1;

	snprintf(arch, sizeof(arch), "c8,p,c8,p,f8,o%d", n_out);
	net = fnn_new(arch, (struct fnn_shape){48, 48, 1}, seed);
	cal.n = 4;
	cal.px = malloc(4 * 48 * 48);
	cal.label = calloc(4, sizeof(int));
	if (!net || !cal.px || !cal.label)
		goto out;
	for (int i = 0; i < 4 * 48 * 48; i++)
		cal.px[i] = (uint8_t)((i * 2654435761u) >> 24);
	if (!quantize_fnn(net, &cal, 4, 100, meta, &m) && !qnn_model_save(m, path, &e))
		rc = 0;
out:
	qnn_model_free(m);
	fnn_free(net);
	free(cal.px);
	free(cal.label);
	return rc;
}

static float logit(float p)
{
	p = p < 1e-6f ? 1e-6f : p > 1 - 1e-6f ? 1 - 1e-6f : p;
	return logf(p / (1 - p));
}

/* The second stage: each first-stage candidate at verify_pre or more is
 * re-scored as sigmoid((z1 + z2) / 2 + verify_shift) from its aligned crop
 * (z2 computed here from the verifier network directly), the others are
 * dropped; kernel paths agree; bad verifier files are refused. */
TEST(verifier_second_stage)
{
	static const char *meta = "task=face-verify\ninput_w=48\ninput_h=48\ninput_c=1\n"
				  "input_norm=facenorm\ninput_blur=0\nverify_pre=0.3\nverify_shift=0.4\n";
	char det[] = "/tmp/emotop-test-detect-XXXXXX", ver[] = "/tmp/emotop-test-verify-XXXXXX";
	char bad[] = "/tmp/emotop-test-verify-bad-XXXXXX";
	int fd1 = mkstemp(det), fd2 = mkstemp(ver), fd3 = mkstemp(bad), n1, n2, nv = 0;
	struct emo_image img, crop;
	struct emo_face *one = malloc(sizeof(*one) * 512), *two = malloc(sizeof(*two) * 512);
	struct detect_opts o;
	struct detect *d;
	struct emo_err e;
	struct qnn_model *vm = NULL;
	struct qnn_ctx *vc = NULL;

	ASSERT(fd1 >= 0 && fd2 >= 0 && fd3 >= 0 && one && two);
	close(fd1);
	close(fd2);
	close(fd3);
	ASSERT_EQ(write_random_model(det, 7), 0);
	ASSERT_EQ(write_random_verifier(ver, 3, 2, meta), 0);
	ASSERT(image_new(&img, 173, 131) == 0 && image_new(&crop, 48, 48) == 0);
	fill_pattern(&img, 1);
	detect_opts_default(&o);
	o.model_path = det;
	o.min_face = 12;
	o.threshold = 0.3f;
	o.verify_path = "none";
	ASSERT((d = detect_new(&o, &e)) != NULL);
	ASSERT_EQ(detect_has_verifier(d), 0);
	n1 = detect_run(d, &img, one, 512);
	detect_free(d);
	ASSERT(n1 > 0); /* something to verify */
	o.verify_path = ver;
	o.threshold = 0;
	ASSERT((d = detect_new(&o, &e)) != NULL);
	ASSERT_EQ(detect_has_verifier(d), 1);
	n2 = detect_run(d, &img, two, 512);
	detect_free(d);
	/* threshold 0: every candidate at verify_pre stays, re-scored, but for
	 * nested boxes, of which the one the verifier scored higher stays */
	ASSERT(n2 > 0 && n2 <= n1);
	ASSERT_EQ(qnn_model_load(ver, &vm, &e), 0);
	ASSERT((vc = qnn_ctx_new(vm, 48, 48, QNN_PATH_AUTO, &e)) != NULL);
	for (int i = 0; i < n1; i++) {
		const float *z;
		float want;
		int j = 0;
		while (j < n2 && memcmp(&two[j].box, &one[i].box, sizeof(one[i].box)))
			j++;
		ASSERT_EQ(face_align_ss(&img, &one[i], &crop, DETECT_VERIFY_SS), 0);
		facenorm_apply(crop.px, 48 * 48);
		ASSERT_EQ(qnn_run(vc, crop.px, 48, 48, 48), 0);
		ASSERT_EQ(qnn_tensor_get(vc, vm->layers[vm->n_layers - 1].out, NULL, NULL, NULL, NULL, &z), 0);
		want = 1 / (1 + expf(-(0.5f * (logit(one[i].score) + z[1] - z[0]) + 0.4f)));
		if (j < n2) { /* the same face, re-scored */
			ASSERT_NEAR(two[j].score, want, 1e-4);
			nv++;
			continue;
		}
		/* dropped: a kept face scored higher lies mostly inside it, or
		 * it mostly inside that face (the verifier's scores now) */
		for (j = 0; j < n2; j++) {
			const struct emo_box *a = &two[j].box, *b = &one[i].box;
			const float ix = fminf(a->x + a->w, b->x + b->w) - fmaxf(a->x, b->x);
			const float iy = fminf(a->y + a->h, b->y + b->h) - fmaxf(a->y, b->y);
			const float aa = a->w * a->h, ab = b->w * b->h;
			if (two[j].score >= want && ix > 0 && iy > 0 && aa != ab &&
			    ix * iy > 0.7f * (aa < ab ? aa : ab))
				break;
		}
		ASSERT(j < n2);
	}
	ASSERT_EQ(nv, n2);
	for (int j = 1; j < n2; j++)
		ASSERT(two[j].score <= two[j - 1].score);
	/* paths agree on the verified faces */
	{
		static const enum qnn_path paths[] = {QNN_PATH_SCALAR, QNN_PATH_AVX2, QNN_PATH_AVX512VNNI};
		o.threshold = 0.4f;
		o.path = QNN_PATH_SCALAR;
		ASSERT((d = detect_new(&o, &e)) != NULL);
		n1 = detect_run(d, &img, one, 512);
		detect_free(d);
		for (size_t p = 1; p < sizeof(paths) / sizeof(paths[0]); p++) {
			if (!qnn_path_supported(paths[p]))
				continue;
			o.path = paths[p];
			ASSERT((d = detect_new(&o, &e)) != NULL);
			n2 = detect_run(d, &img, two, 512);
			detect_free(d);
			ASSERT(faces_equal(one, n1, two, n2));
		}
		o.path = QNN_PATH_AUTO;
	}
	/* refused: a missing file, a detector, a classifier, three outputs,
	 * metadata out of range, an input preparation it does not know */
	o.verify_path = "/nonexistent/verify.qnn";
	ASSERT(detect_new(&o, &e) == NULL);
	o.verify_path = det;
	ASSERT(detect_new(&o, &e) == NULL);
	ASSERT(strstr(e.msg, "not a face verifier") != NULL);
	ASSERT_EQ(write_random_verifier(bad, 3, 2, "task=classify\n"), 0);
	o.verify_path = bad;
	ASSERT(detect_new(&o, &e) == NULL);
	ASSERT(strstr(e.msg, "not a face verifier") != NULL);
	ASSERT_EQ(write_random_verifier(bad, 3, 3, meta), 0);
	ASSERT(detect_new(&o, &e) == NULL);
	ASSERT(strstr(e.msg, "2 float logits") != NULL);
	ASSERT_EQ(write_random_verifier(bad, 3, 2, "task=face-verify\nverify_pre=1.5\n"), 0);
	ASSERT(detect_new(&o, &e) == NULL);
	ASSERT(strstr(e.msg, "out of range") != NULL);
	ASSERT_EQ(write_random_verifier(bad, 3, 2, "task=face-verify\ninput_norm=zscore\n"), 0);
	ASSERT(detect_new(&o, &e) == NULL);
	ASSERT(strstr(e.msg, "unknown input_norm") != NULL);
	/* the embedded verifier goes with the embedded detector only */
	o.verify_path = NULL;
	ASSERT((d = detect_new(&o, &e)) != NULL);
	ASSERT_EQ(detect_has_verifier(d), 0);
	detect_free(d);
	if (have_model()) {
		o.model_path = NULL;
		ASSERT((d = detect_new(&o, &e)) != NULL);
		ASSERT_EQ(detect_has_verifier(d), emo_blob_faceverify_end - emo_blob_faceverify > 0);
		detect_free(d);
	}
	ASSERT(nv > 0);
	qnn_ctx_free(vc);
	qnn_model_free(vm);
	unlink(det);
	unlink(ver);
	unlink(bad);
	image_free(&img);
	image_free(&crop);
	free(one);
	free(two);
}

/* Heat logits of the int8 and float runs of the detector's network. */
TEST(int8_vs_float)
{
	char path[] = "/tmp/emotop-test-detect-XXXXXX";
	int fd = mkstemp(path);
	struct emo_image img;

	ASSERT(fd >= 0);
	close(fd);
	ASSERT_EQ(write_random_model(path, 11), 0);
	ASSERT(image_new(&img, 160, 120) == 0);
	fill_pattern(&img, 5);
	for (int mdl = 0; mdl < 2; mdl++) {
		struct qnn_model *m = NULL;
		struct qnn_ctx *a, *b;
		struct emo_err e;
		const float *fa, *fb;
		const uint8_t *q;
		int h, w, c, out;
		double worst = 0;
		if (mdl == 0)
			ASSERT_EQ(qnn_model_load(path, &m, &e), 0);
		else if (!have_model())
			break;
		else
			ASSERT_EQ(qnn_model_load_mem(emo_blob_face, (size_t)(emo_blob_face_end - emo_blob_face),
						     "face", &m, &e), 0);
		out = m->layers[m->n_layers - 1].out;
		a = qnn_ctx_new(m, 120, 160, QNN_PATH_AUTO, &e);
		b = qnn_ctx_new(m, 120, 160, QNN_PATH_SCALAR, &e);
		ASSERT(a && b);
		ASSERT_EQ(qnn_run(a, img.px, 120, 160, 160), 0);
		ASSERT_EQ(qnn_run_float(b, img.px, 120, 160, 160), 0);
		ASSERT_EQ(qnn_tensor_get(a, out, &h, &w, &c, &q, &fa), 0);
		ASSERT_EQ(qnn_tensor_get(b, out, NULL, NULL, NULL, &q, &fb), 0);
		ASSERT(fa && fb && c == DT_NCH);
		for (int i = 0; i < h * w; i++)
			worst = fmax(worst, fabs((double)fa[i * DT_NCH] - (double)fb[i * DT_NCH]));
		fprintf(stderr, "  %s model: max |heat logit int8 - float| = %.3f\n",
			mdl ? "shipped" : "random", worst);
		ASSERT(worst <= DET_TOL_LOGIT);
		qnn_ctx_free(a);
		qnn_ctx_free(b);
		qnn_model_free(m);
	}
	unlink(path);
	image_free(&img);
}

/* A smooth gray test image h x w (seed k) with a little noise. */
static void dw_image(uint8_t *px, int h, int w, int k)
{
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint32_t v = (uint32_t)(x * 73856093u) ^ (uint32_t)(y * 19349663u) ^
				     (uint32_t)k * 83492791u;
			double s = sin(0.11 * (k + 1) * x + 0.07 * (k + 2) * y) +
				   0.5 * cos(0.23 * y - 0.05 * k * x);
			s = 128 + 80 * s + (double)((v >> 24) % 21) - 10;
			px[y * w + x] = (uint8_t)fmin(255, fmax(0, s));
		}
}

/* BN of a random net made realistic: random gamma and beta, running
 * statistics those of a training-mode pass over x (n inputs). */
static void dw_prepare(struct fnn *net, const float *x, int n)
{
	uint64_t r = 99;

	for (int i = 0; i < net->n_layers; i++) {
		struct fnn_layer *l = &net->layers[i];
		for (int c = 0; l->type == FNN_BN && c < l->in.c; c++) {
			r = r * 6364136223846793005ULL + 1442695040888963407ULL;
			l->gamma[c] = 0.6f + 0.8f * (float)((r >> 40) & 0xffff) / 65536.0f;
			l->beta[c] = 0.4f * (float)((r >> 24) & 0xffff) / 65536.0f - 0.2f;
		}
	}
	net->bn_momentum = 1.0f;
	fnn_forward(net, x, n, 1);
	net->bn_momentum = 0;
}

/* Runs m on the h x w gray image px on the scalar path and on AVX2 (with
 * its conv + pool fusion, and keeping every tensor): every tensor of the
 * two paths byte-identical. The float output (last layer's) of the scalar
 * run goes to out (n floats). 0, or -1 (a failure, or a difference). */
static int dw_run_paths(const struct qnn_model *m, const uint8_t *px, int h, int w, float *out,
			int n)
{
	struct qnn_ctx *sc = qnn_ctx_new(m, h, w, QNN_PATH_SCALAR, NULL);
	struct qnn_ctx *av = qnn_ctx_new(m, h, w, QNN_PATH_AVX2, NULL);
	int last = m->layers[m->n_layers - 1].out, rc = -1, oh, ow, oc;
	const float *fs, *fa;
	const uint8_t *q;

	if (!sc || !av || qnn_ctx_path(av) != QNN_PATH_AVX2 || qnn_run(sc, px, h, w, w) ||
	    qnn_tensor_get(sc, last, &oh, &ow, &oc, &q, &fs) || !fs || oh * ow * oc != n)
		goto out;
	memcpy(out, fs, sizeof(float) * (size_t)n);
	if (qnn_run(av, px, h, w, w) || qnn_tensor_get(av, last, NULL, NULL, NULL, &q, &fa) ||
	    memcmp(fa, fs, sizeof(float) * (size_t)n))
		goto out;
	qnn_ctx_keep_all(av, 1);
	if (qnn_run(av, px, h, w, w))
		goto out;
	for (int t = 1; t < m->n_tensors; t++) {
		const uint8_t *qa, *qs;
		int th, tw, tc;
		if (qnn_tensor_get(sc, t, &th, &tw, &tc, &qs, &fs) ||
		    qnn_tensor_get(av, t, NULL, NULL, NULL, &qa, &fa))
			goto out;
		if (qs ? memcmp(qs, qa, (size_t)th * tw * tc)
		       : memcmp(fs, fa, sizeof(float) * (size_t)th * tw * tc)) {
			fprintf(stderr, "  tensor %d differs between scalar and AVX2\n", t);
			goto out;
		}
	}
	rc = 0;
out:
	qnn_ctx_free(sc);
	qnn_ctx_free(av);
	return rc;
}

/* Networks of MobileNet-style blocks (w then k) quantized by quantize_fnn
 * (a classifier) and dt_to_qnn (a detector): valid models whose depthwise
 * layers are groups = cin = cout convs with [cout][3][3][1] weights, run by
 * the int8 engine on the scalar and AVX2 paths byte for byte alike, close
 * to the float network. The images compared are calibration images: on
 * others activations may clip at the calibrated ranges, which measures the
 * calibration, not the conversion. */
TEST(dwconv_int8_vs_float)
{
	enum { NC = 8, NT = 4, S = FER_SIZE, D = 64 };
	static const char *carch = "k8,w,k12,w/s2,k16,p,w,k16,g,o7";
	static const char *darch = "c8/s2,w,k16,w/s2,k16,w/s2,k24,h15";
	struct fer_set cal = {0};
	float *x = malloc(sizeof(float) * NC * D * D), zq[D / 8 * D / 8 * DT_NCH];
	struct fnn *net = NULL;
	struct qnn_model *m = NULL;
	struct emo_err e;
	double worst = 0, worst_det = 0;
	int n_dw = 0;

	if (!qnn_path_supported(QNN_PATH_AVX2))
		SKIP("this CPU has no AVX2");
	cal.n = NC;
	cal.px = malloc((size_t)NC * D * D);
	cal.label = calloc(NC, sizeof(int));
	ASSERT(x && cal.px && cal.label);
	/* the classifier, on 48 x 48 faces */
	for (int k = 0; k < NC; k++)
		dw_image(cal.px + (size_t)k * S * S, S, S, k);
	for (int i = 0; i < NC * S * S; i++)
		x[i] = cal.px[i] / 255.0f;
	net = fnn_new(carch, (struct fnn_shape){S, S, 1}, 17);
	ASSERT(net);
	dw_prepare(net, x, NC);
	ASSERT_EQ(quantize_fnn(net, &cal, NC, 100, "task=classify\n", &m), 0);
	ASSERT_EQ(qnn_model_validate(m, &e), EMO_OK);
	for (int i = 0; i < m->n_layers; i++) {
		const struct qnn_layer *q = &m->layers[i];
		if (q->type != QNN_CONV || q->groups == 1)
			continue;
		ASSERT(q->groups == q->cin && q->cout == q->cin && q->kh == 3 && q->kw == 3 &&
		       q->pad == 1 && q->relu && !q->float_out);
		n_dw++;
	}
	ASSERT_EQ(n_dw, 3);
	ASSERT_EQ(m->layers[3].stride, 2);
	for (int k = 0; k < NT; k++) {
		uint8_t px[S * S];
		float in[S * S], zf[7];
		double mean = 0, var = 0, d = 0;
		dw_image(px, S, S, k);
		for (int i = 0; i < S * S; i++)
			in[i] = px[i] / 255.0f;
		memcpy(zf, fnn_forward(net, in, 1, 0), sizeof(zf));
		ASSERT_EQ(dw_run_paths(m, px, S, S, zq, 7), 0);
		for (int c = 0; c < 7; c++)
			mean += zf[c] / 7;
		for (int c = 0; c < 7; c++) {
			var += (zf[c] - mean) * (zf[c] - mean) / 7;
			d = fmax(d, fabs(zf[c] - zq[c]));
		}
		ASSERT(var > 0);
		worst = fmax(worst, d / sqrt(var));
	}
	qnn_model_free(m);
	m = NULL;
	fnn_free(net);
	/* the detector, on 64 x 64 crops */
	for (int k = 0; k < NC; k++)
		dw_image(cal.px + (size_t)k * D * D, D, D, k);
	for (int i = 0; i < NC * D * D; i++)
		x[i] = cal.px[i] / 255.0f;
	net = fnn_new(darch, (struct fnn_shape){D, D, 1}, 23);
	ASSERT(net && net->n_out == D / 8 * D / 8 * DT_NCH);
	dw_prepare(net, x, NC);
	m = dt_to_qnn(net, x, NC, "task=face-detect\n");
	ASSERT(m);
	ASSERT_EQ(qnn_model_validate(m, &e), EMO_OK);
	n_dw = 0;
	for (int i = 0; i < m->n_layers; i++)
		n_dw += m->layers[i].type == QNN_CONV && m->layers[i].groups == m->layers[i].cin &&
			m->layers[i].groups > 1;
	ASSERT_EQ(n_dw, 3);
	for (int k = 0; k < NT; k++) {
		uint8_t px[D * D];
		float in[D * D];
		const float *zf;
		dw_image(px, D, D, k);
		for (int i = 0; i < D * D; i++)
			in[i] = px[i] / 255.0f;
		zf = fnn_forward(net, in, 1, 0);
		ASSERT_EQ(dw_run_paths(m, px, D, D, zq, D / 8 * D / 8 * DT_NCH), 0);
		for (int i = 0; i < D / 8 * D / 8 * DT_NCH; i++)
			worst_det = fmax(worst_det, fabs((double)zf[i] - zq[i]));
	}
	fprintf(stderr, "  classifier: max |logit int8 - float| = %.3f std; "
			"detector: max |map int8 - float| = %.3f\n", worst, worst_det);
	ASSERT(worst <= DET_TOL_DW_LOGIT_REL);
	ASSERT(worst_det <= DET_TOL_LOGIT);
	qnn_model_free(m);
	fnn_free(net);
	free(x);
	free(cal.px);
	free(cal.label);
}

TEST(standin_regions_without_model)
{
	struct emo_box r[2] = {{10, 10, 40, 40}, {90, 10, 8, 8}};
	struct detect_opts o;
	struct detect *d;
	struct emo_err e;
	struct emo_image img;
	struct emo_face f[4];

	detect_opts_default(&o);
	o.no_model = 1;
	o.regions = r;
	o.n_regions = 2;
	d = detect_new(&o, &e);
	ASSERT(d != NULL);
	ASSERT_STR(detect_kernel_path(d), "regions");
	ASSERT(image_new(&img, 100, 60) == 0);
	ASSERT_EQ(detect_run(d, &img, f, 4), 1); /* the 8 px one is below min_face */
	ASSERT_NEAR(f[0].box.w, 40, 0);
	ASSERT_EQ(f[0].n_landmarks, 0);
	ASSERT(detect_macs(d, 640, 480) == 0);
	image_free(&img);
	detect_free(d);
}

/* min_face auto (0): a 48th of the frame's shorter side, 10 to 20 px. The
 * seat stand-in keeps a 12 px seat of a 320x240 frame with it and drops it
 * at 20; with a network, auto costs on each frame what the number its rule
 * gives costs there (the same pyramid). */
TEST(min_face_auto)
{
	struct emo_box r[1] = {{10, 10, 12, 12}};
	struct detect_opts o;
	struct detect *d, *dn;
	struct emo_err e;
	struct emo_image img;
	struct emo_face f[2];
	static const int frames[][3] = {{640, 352, 10}, {640, 480, 10}, {480, 640, 10}, {1280, 720, 15},
					{1920, 1080, 20}, {3840, 2160, 20}, {100, 60, 10}};
	char path[] = "/tmp/emotop-test-detect-XXXXXX";
	int fd = mkstemp(path);

	for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++)
		ASSERT_EQ(detect_min_face(0, frames[i][0], frames[i][1]), frames[i][2]);
	ASSERT_EQ(detect_min_face(24, 640, 480), 24);
	ASSERT_EQ(detect_min_face(40, 1920, 1080), 40);

	detect_opts_default(&o);
	o.no_model = 1;
	o.regions = r;
	o.n_regions = 1;
	ASSERT(image_new(&img, 320, 240) == 0);
	o.min_face = 0;
	ASSERT((d = detect_new(&o, &e)) != NULL);
	ASSERT_EQ(detect_run(d, &img, f, 2), 1);
	detect_free(d);
	o.min_face = 20;
	ASSERT((d = detect_new(&o, &e)) != NULL);
	ASSERT_EQ(detect_run(d, &img, f, 2), 0);
	detect_free(d);
	image_free(&img);

	ASSERT(fd >= 0);
	close(fd);
	ASSERT_EQ(write_random_model(path, 5), 0);
	detect_opts_default(&o);
	o.model_path = path;
	o.verify_path = "none";
	o.min_face = 0;
	ASSERT((d = detect_new(&o, &e)) != NULL);
	for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		o.min_face = frames[i][2];
		ASSERT((dn = detect_new(&o, &e)) != NULL);
		ASSERT(detect_macs(d, frames[i][0], frames[i][1]) > 0);
		ASSERT(detect_macs(d, frames[i][0], frames[i][1]) == detect_macs(dn, frames[i][0], frames[i][1]));
		detect_free(dn);
	}
	o.min_face = 20;
	ASSERT((dn = detect_new(&o, &e)) != NULL);
	ASSERT(detect_macs(d, 640, 480) > 2 * detect_macs(dn, 640, 480));
	ASSERT(detect_macs(d, 1920, 1080) == detect_macs(dn, 1920, 1080));
	detect_free(dn);
	detect_free(d);
	unlink(path);
}

/* The cell prior: with regions (seats, gallery cells) and a cell
 * threshold below the threshold, a region holding no face's centre at the
 * threshold gets its best candidate at the cell threshold, no more; off
 * (0) or without regions, nothing changes. Checked against the full list
 * of candidates of the same random network. */
TEST(cell_prior)
{
	char path[] = "/tmp/emotop-test-detect-XXXXXX";
	int fd = mkstemp(path);
	struct emo_image img;
	struct emo_face all[512], got[512], want[16];
	const struct emo_box cell[5] = {{0, 0, 100, 80}, {100, 0, 100, 80}, {0, 80, 100, 80},
					{100, 80, 100, 80}, {300, 300, 5, 5} /* outside: none */};
	struct detect_opts o;
	struct detect *d;
	struct emo_err e;
	int n_all, n, nw = 0;

	ASSERT(fd >= 0);
	close(fd);
	ASSERT_EQ(write_random_model(path, 3), 0);
	ASSERT(image_new(&img, 200, 160) == 0);
	fill_pattern(&img, 9);
	detect_opts_default(&o);
	o.model_path = path;
	o.threshold = 0.02f;
	o.min_face = 12;
	ASSERT((d = detect_new(&o, &e)));
	n_all = detect_run(d, &img, all, 512);
	detect_free(d);
	ASSERT(n_all >= 4 && all[0].score < 0.99f);
	/* expected: each cell's best candidate (all[] is in score order) */
	for (int r = 0; r < 5; r++)
		for (int i = 0; i < n_all; i++) {
			float cx = all[i].box.x + 0.5f * all[i].box.w, cy = all[i].box.y + 0.5f * all[i].box.h;
			if (cx >= cell[r].x && cy >= cell[r].y && cx < cell[r].x + cell[r].w &&
			    cy < cell[r].y + cell[r].h) {
				want[nw++] = all[i];
				break;
			}
		}
	ASSERT(nw >= 2);
	o.regions = cell;
	o.n_regions = 5;
	o.threshold = 0.99f;
	o.cell_threshold = 0.02f;
	ASSERT((d = detect_new(&o, &e)));
	n = detect_run(d, &img, got, 512);
	detect_free(d);
	/* in score order, like want[] once sorted */
	detect_nms(want, nw, 1.0f);
	ASSERT(faces_equal(got, n, want, nw));
	/* a face at the threshold holds its cell: only the top candidate's
	 * cell keeps it, and every candidate at least as good stays */
	o.threshold = all[0].score;
	ASSERT((d = detect_new(&o, &e)));
	n = detect_run(d, &img, got, 512);
	detect_free(d);
	ASSERT_EQ(n, nw);
	ASSERT(!memcmp(&got[0], &all[0], sizeof(all[0])));
	/* off, or no regions: the plain threshold */
	o.threshold = 0.99f;
	o.cell_threshold = 0;
	ASSERT((d = detect_new(&o, &e)));
	ASSERT_EQ(detect_run(d, &img, got, 512), 0);
	detect_free(d);
	o.cell_threshold = 0.02f;
	o.n_regions = 0;
	o.regions = NULL;
	ASSERT((d = detect_new(&o, &e)));
	ASSERT_EQ(detect_run(d, &img, got, 512), 0);
	detect_free(d);
	o.cell_threshold = 1.5f;
	ASSERT(!detect_new(&o, &e));
	unlink(path);
	image_free(&img);
}

TEST(bad_input)
{
	struct detect_opts o;
	struct detect *d;
	struct emo_err e;
	struct emo_image img;
	struct emo_face f[16];
	char path[] = "/tmp/emotop-test-detect-XXXXXX";
	int fd = mkstemp(path);

	ASSERT(fd >= 0);
	close(fd);
	ASSERT_EQ(write_random_model(path, 3), 0);
	detect_opts_default(&o);
	o.model_path = path;
	o.min_face = -1;
	ASSERT(detect_new(&o, &e) == NULL);
	o.min_face = 20;
	o.threshold = 2;
	ASSERT(detect_new(&o, &e) == NULL);
	o.threshold = 0.5f;
	o.model_path = "/nonexistent/face.qnn";
	ASSERT(detect_new(&o, &e) == NULL);
	o.model_path = path;
	d = detect_new(&o, &e);
	unlink(path);
	ASSERT(d != NULL);
	ASSERT(detect_run(d, NULL, f, 16) == EMO_EINVAL);
	/* 1x1 */
	ASSERT(image_new(&img, 1, 1) == 0);
	ASSERT_EQ(detect_run(d, &img, f, 16), 0);
	image_free(&img);
	/* all black */
	ASSERT(image_new(&img, 320, 240) == 0);
	ASSERT(detect_run(d, &img, f, 16) >= 0);
	ASSERT(detect_run(d, &img, NULL, 16) == EMO_EINVAL);
	img.stride = 10;
	ASSERT(detect_run(d, &img, f, 16) == EMO_EINVAL);
	image_free(&img);
	detect_free(d);
	/* 8000 x 8000, looking for faces of 400 px and more (a small pyramid) */
	o.min_face = 400;
	d = detect_new(&o, &e);
	ASSERT(d == NULL); /* the model file is gone: a clear error */
	o.model_path = NULL;
	o.no_model = !have_model();
	d = detect_new(&o, &e);
	ASSERT(d != NULL);
	ASSERT(image_new(&img, 8000, 8000) == 0);
	memset(img.px, 128, (size_t)8000 * 8000);
	ASSERT(detect_run(d, &img, f, 16) >= 0);
	image_free(&img);
	/* strips: a level the network cannot run on (400x40 is 20x2 px on
	 * the level for 400-px faces) is left out, found nothing, twice (a
	 * failed run must not leave the next one with stale shapes) */
	if (!o.no_model) {
		static const int wh[][2] = {{400, 40}, {40, 400}, {8000, 1}, {1, 8000}, {640, 12}};
		for (size_t i = 0; i < sizeof(wh) / sizeof(wh[0]); i++) {
			ASSERT(image_new(&img, wh[i][0], wh[i][1]) == 0);
			memset(img.px, 100, (size_t)img.stride * (size_t)img.h);
			ASSERT_EQ(detect_run(d, &img, f, 16), 0);
			ASSERT_EQ(detect_run(d, &img, f, 16), 0);
			image_free(&img);
		}
	}
	detect_free(d);
}

/* ---- with ../shared and the shipped model ---- */

static int shared_dirs(char *faces, char *fer, size_t len)
{
	snprintf(faces, len, "%s/data/faces", unit_shared());
	snprintf(fer, len, "%s/data/fer2013/test", unit_shared());
	return access(faces, R_OK) == 0 && access(fer, R_OK) == 0;
}

TEST(galleries_faces_found)
{
	char faces[4096], fer[4096];
	struct fer_set set = {0};
	struct detect_opts o;
	struct detect *d;
	struct emo_err e;
	static const int layout[][4] = {{1920, 1080, 5, 5}, {1280, 720, 3, 4}, {640, 480, 2, 3},
					{1920, 1080, 6, 7}};
	struct emo_image bg = {0};
	int missed = 0, extra = 0, total = 0;

	if (!shared_dirs(faces, fer, sizeof(faces)))
		SKIP("%s/data/faces or fer2013/test not found (set SHARED)", unit_shared());
	if (!have_model())
		SKIP("no models/face.qnn in this build");
	ASSERT_EQ(fer_load(fer, NULL, &set), 0);
	{
		char neg[4200];
		int w, h;
		snprintf(neg, sizeof(neg), "%s/negatives/UMD_010.jpg", faces);
		if (!jpeg_load_gray(neg, &bg.px, &w, &h)) {
			bg.w = bg.stride = w;
			bg.h = h;
		}
	}
	detect_opts_default(&o);
	d = detect_new(&o, &e);
	ASSERT(d != NULL);
	for (size_t g = 0; g < sizeof(layout) / sizeof(layout[0]); g++) {
		struct emo_image img;
		const uint8_t *tiles[64];
		struct emo_box gt[64];
		struct emo_face f[128];
		int n, k = layout[g][2] * layout[g][3];
		ASSERT(image_new(&img, layout[g][0], layout[g][1]) == 0);
		for (int i = 0; i < k; i++)
			for (int j = i * 97 + (int)g * 31;; j++) /* faces only */
				if (dt_fer_face_like(tiles[i] = set.px + (size_t)(j % set.n) * 48 * 48))
					break;
		dt_gallery_draw(&img, bg.px ? &bg : NULL, tiles, layout[g][2], layout[g][3], gt);
		n = detect_run(d, &img, f, 128);
		ASSERT(n >= 0);
		for (int i = 0; i < k; i++) {
			int found = 0;
			for (int j = 0; j < n; j++)
				found |= emo_box_iou(&gt[i], &f[j].box) >= 0.3f;
			missed += !found;
		}
		for (int j = 0; j < n; j++) {
			int match = 0;
			for (int i = 0; i < k; i++)
				match |= emo_box_iou(&gt[i], &f[j].box) >= 0.3f;
			extra += !match;
		}
		total += k;
		image_free(&img);
	}
	fprintf(stderr, "  galleries: %d faces, %d missed, %d false alarms\n", total, missed, extra);
	ASSERT((double)(total - missed) / total >= DET_MIN_GALLERY_RECALL);
	ASSERT(extra <= DET_MAX_GALLERY_FA);
	free(bg.px);
	fer_free(&set);
	detect_free(d);
}

/* One face, one box: large faces (landmark crops and FER2013 test faces,
 * 120 to 400 px) alone in a 640x480 frame on a negative must each give
 * exactly one box at the default threshold, on the face. The detector
 * shipped before part-face suppression put a second box of about half
 * the size on the nose and mouth of such faces. */
TEST(one_large_face_one_box)
{
	char faces[4096], fer[4096], path[4200];
	struct fer_set set = {0};
	struct detect_opts o;
	struct detect *d;
	struct emo_err e;
	struct emo_image img, bg = {0};
	int extra = 0, none = 0, tried = 0;

	if (!shared_dirs(faces, fer, sizeof(faces)))
		SKIP("%s/data/faces or fer2013/test not found (set SHARED)", unit_shared());
	if (!have_model())
		SKIP("no models/face.qnn in this build");
	ASSERT_EQ(fer_load(fer, NULL, &set), 0);
	snprintf(path, sizeof(path), "%s/negatives/UMD_010.jpg", faces);
	{
		int w, h;
		if (!jpeg_load_gray(path, &bg.px, &w, &h)) {
			bg.w = bg.stride = w;
			bg.h = h;
		}
	}
	detect_opts_default(&o);
	d = detect_new(&o, &e);
	ASSERT(d != NULL);
	ASSERT(image_new(&img, 640, 480) == 0);
	for (int i = 0; i < 40; i++) {
		struct emo_face f[16];
		struct emo_image tile = {48, 48, 48, set.px + (size_t)((i * 89) % set.n) * 48 * 48};
		const int T = 120 + (i * 37) % 281, x0 = (i * 53) % (640 - T), y0 = (i * 29) % (480 - T);
		struct emo_image dst = {T, T, img.stride, img.px + (size_t)y0 * img.stride + x0};
		int n;
		if (bg.px)
			image_resize(&bg, &img);
		else
			memset(img.px, 90, (size_t)img.stride * img.h);
		image_resize(&tile, &dst);
		n = detect_run(d, &img, f, 16);
		ASSERT(n >= 0);
		tried++;
		none += n == 0;
		extra += n > 1 ? n - 1 : 0;
		for (int j = 0; j < n; j++) /* every box on the face */
			ASSERT(f[j].box.x + f[j].box.w * 0.5f > (float)x0 && f[j].box.x + f[j].box.w * 0.5f < (float)(x0 + T) &&
			       f[j].box.y + f[j].box.h * 0.5f > (float)y0 && f[j].box.y + f[j].box.h * 0.5f < (float)(y0 + T));
	}
	fprintf(stderr, "  %d large faces: %d with no box, %d extra boxes\n", tried, none, extra);
	ASSERT_EQ(extra, 0);
	ASSERT(none <= tried / 10);
	image_free(&img);
	free(bg.px);
	fer_free(&set);
	detect_free(d);
}

/* No oversized box around a gallery face: 1080p 5x5 galleries put faces of
 * 158 px on the third pyramid level at 27 px and on the fourth at 11, below
 * the trained range there; the fourth used to report them also as boxes of
 * about 250 px around the right one (IoU about 0.39, which the NMS keeps),
 * each one a false alarm. Counted at a low threshold (0.05) over 8
 * galleries (200 faces): boxes 1.35x or more the face's side that hold its
 * centre. Measured: 41 before the decoder dropped boxes under level_min on
 * the levels after the first, 1 since. */
TEST(no_oversized_gallery_boxes)
{
	char faces[4096], fer[4096];
	struct fer_set set = {0};
	struct detect_opts o;
	struct detect *d;
	struct emo_err e;
	int big = 0;

	if (!shared_dirs(faces, fer, sizeof(faces)))
		SKIP("%s/data/faces or fer2013/test not found (set SHARED)", unit_shared());
	if (!have_model())
		SKIP("no models/face.qnn in this build");
	ASSERT_EQ(fer_load(fer, NULL, &set), 0);
	detect_opts_default(&o);
	o.threshold = 0.05f;
	d = detect_new(&o, &e);
	ASSERT(d != NULL);
	for (int g = 0; g < 8; g++) {
		struct emo_image img;
		const uint8_t *tiles[25];
		struct emo_box gt[25];
		struct emo_face f[256];
		int n;
		ASSERT(image_new(&img, 1920, 1080) == 0);
		for (int i = 0; i < 25; i++)
			for (int j = (g * 25 + i) * 17;; j++) /* faces only */
				if (dt_fer_face_like(tiles[i] = set.px + (size_t)(j % set.n) * 48 * 48))
					break;
		dt_gallery_draw(&img, NULL, tiles, 5, 5, gt);
		n = detect_run(d, &img, f, 256);
		ASSERT(n >= 0);
		for (int i = 0; i < 25; i++) {
			const float cx = gt[i].x + 0.5f * gt[i].w, cy = gt[i].y + 0.5f * gt[i].h;
			for (int j = 0; j < n; j++)
				big += f[j].box.w >= 1.35f * gt[i].w && f[j].box.x < cx && f[j].box.y < cy &&
				       f[j].box.x + f[j].box.w > cx && f[j].box.y + f[j].box.h > cy;
		}
		image_free(&img);
	}
	fprintf(stderr, "  %d boxes 1.35x a gallery face or larger around it\n", big);
	ASSERT(big <= 3);
	fer_free(&set);
	detect_free(d);
}

/* Galleries whose tiles hold no face: squares cut from held-out negatives,
 * 48x48 and blurred like FER2013's training faces (sigma 3). A detector
 * trained on blurred FER2013 faces alone learns that a blurred square in a
 * gallery is a face: the detector shipped before decoys were trained
 * found 26 of these 50 tiles; those trained with them find 3 (4 with the
 * decoder's level gate). */
TEST(decoy_galleries_no_faces)
{
	char faces[4096], fer[4096];
	static const char *const neg[] = {"neg-4801.jpg", "neg-4812.jpg", "neg-4833.jpg", "neg-4857.jpg"};
	static uint8_t tile_px[25][48 * 48];
	struct emo_image src[4] = {{0}};
	struct detect_opts o;
	struct detect *d;
	struct emo_err e;
	int fa = 0;

	if (!shared_dirs(faces, fer, sizeof(faces)))
		SKIP("%s/data/faces not found (set SHARED)", unit_shared());
	if (!have_model())
		SKIP("no models/face.qnn in this build");
	for (int i = 0; i < 4; i++) {
		char path[4200];
		int w, h;
		snprintf(path, sizeof(path), "%s/negatives/%s", faces, neg[i]);
		ASSERT_EQ(jpeg_load_gray(path, &src[i].px, &w, &h), 0);
		src[i].w = src[i].stride = w;
		src[i].h = h;
	}
	detect_opts_default(&o);
	d = detect_new(&o, &e);
	ASSERT(d != NULL);
	for (int g = 0; g < 2; g++) {
		struct emo_image img;
		const uint8_t *tiles[25];
		struct emo_box gt[25];
		struct emo_face f[128];
		int n;
		for (int k = 0; k < 25; k++) {
			const struct emo_image *s = &src[(k + g) % 4];
			const int m = s->w < s->h ? s->w : s->h, side = m / 5 + (k * 37 + g * 11) % (m / 2);
			const int x0 = (k * 53 + g * 7) % (s->w - side + 1), y0 = (k * 29 + g * 13) % (s->h - side + 1);
			struct emo_image part = {side, side, s->stride, s->px + (size_t)y0 * s->stride + x0};
			struct emo_image t = {48, 48, 48, tile_px[k]};
			uint8_t tmp[48 * 48];
			image_resize(&part, &t);
			facenorm_blur(tile_px[k], 48, 48, 3.0f, tmp);
			tiles[k] = tile_px[k];
		}
		ASSERT(image_new(&img, 1920, 1080) == 0);
		dt_gallery_draw(&img, &src[g], tiles, 5, 5, gt);
		n = detect_run(d, &img, f, 128);
		ASSERT(n >= 0);
		fa += n;
		image_free(&img);
	}
	fprintf(stderr, "  decoy galleries: 50 blurred non-face tiles, %d faces found\n", fa);
	ASSERT(fa <= DET_MAX_DECOY_FA);
	for (int i = 0; i < 4; i++)
		free(src[i].px);
	detect_free(d);
}

TEST(negatives_false_alarm_rate)
{
	char faces[4096], fer[4096], dir[4200];
	struct detect_opts o;
	struct detect *d;
	struct emo_err e;
	struct emo_face f[64];
	int n_img = 0, fa = 0;

	if (!shared_dirs(faces, fer, sizeof(faces)))
		SKIP("%s/data/faces not found (set SHARED)", unit_shared());
	if (!have_model())
		SKIP("no models/face.qnn in this build");
	detect_opts_default(&o);
	d = detect_new(&o, &e);
	ASSERT(d != NULL);
	/* the trainer's held-out negatives: every 10th by name (i % 10 == 3) */
	snprintf(dir, sizeof(dir), "%s/negatives", faces);
	{
		struct dirent **nl = NULL;
		int nn = scandir(dir, &nl, NULL, alphasort), k = 0;
		for (int i = 0; i < nn; i++) {
			char p[4600];
			struct emo_image img;
			int w, h, n;
			size_t len = strlen(nl[i]->d_name);
			if (len < 5 || strcasecmp(nl[i]->d_name + len - 4, ".jpg")) {
				free(nl[i]);
				continue;
			}
			snprintf(p, sizeof(p), "%s/%s", dir, nl[i]->d_name);
			free(nl[i]);
			if (k++ % 10 != 3 || n_img >= 100 || jpeg_load_gray(p, &img.px, &w, &h))
				continue;
			img.w = img.stride = w;
			img.h = h;
			n = detect_run(d, &img, f, 64);
			free(img.px);
			if (n > 0)
				fa += n;
			n_img++;
		}
		free(nl);
	}
	fprintf(stderr, "  %d false alarms on %d negatives\n", fa, n_img);
	ASSERT(n_img > 0);
	ASSERT((double)fa / n_img <= DET_MAX_FA_PER_NEG);
	detect_free(d);
}

int main(int argc, char **argv)
{
	unit_init(argc, argv);
	RUN(sort_matches_qsort);
	RUN(nms_order_and_suppression);
	RUN(decode_boxes_and_landmarks);
	RUN(decode_square_model);
	RUN(drop_parts);
	RUN(paths_identical_to_scalar);
	RUN(verifier_second_stage);
	RUN(int8_vs_float);
	RUN(dwconv_int8_vs_float);
	RUN(standin_regions_without_model);
	RUN(min_face_auto);
	RUN(cell_prior);
	RUN(bad_input);
	RUN(galleries_faces_found);
	RUN(one_large_face_one_box);
	RUN(no_oversized_gallery_boxes);
	RUN(decoy_galleries_no_faces);
	RUN(negatives_false_alarm_rate);
	return unit_done();
}
