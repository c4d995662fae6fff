/* test_model.c - the .qnn file: round trip, and rejection of truncated,
 * corrupted, wrong-version and inconsistent files (CRC re-computed so the
 * field validator itself is exercised), never crashing. */
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#include "emotop/blob.h"
#include "emotop/qnn.h"
#include "qnn_rand.h"

/* Independent CRC-32 (bitwise), to re-seal corrupted files. */
static uint32_t crc32_bitwise(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void reseal(uint8_t *buf, size_t n)
{
	put32(buf + n - 4, crc32_bitwise(buf, n - 4));
}

static char tmpdir[64];

static const char *tmp_path(const char *name)
{
	static char p[128];

	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/emotop-test-model.XXXXXX");
		if (!mkdtemp(tmpdir))
			return NULL;
	}
	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	return p;
}

/* A small model with every layer type, written to a file and read back
 * into *buf / *len. */
static struct qnn_model *small_model(void)
{
	struct qnn_model *m = rm_new(1);
	int a = rm_conv(m, 0, 5, 3, 3, 1, 1, 0, 1, 0, 40);
	int b = rm_conv(m, a, 5, 3, 3, 1, 1, 1, 1, 0, 40);
	int c = rm_add(m, a, b, 0);
	int d = rm_pool(m, c, QNN_MAXPOOL, 2, 2, 0);
	int e = rm_pool(m, d, QNN_UPSAMPLE2, 0, 0, 0);
	int f = rm_pool(m, e, QNN_GAP, 0, 0, 0);
	rm_conv(m, f, 7, 1, 1, 1, 0, 0, 0, 1, 40);
	snprintf(m->meta, sizeof(m->meta), "task=classify\ninput_w=8\ninput_h=8\nempty=\n");
	return m;
}

static uint8_t *save_to_mem(const struct qnn_model *m, size_t *len)
{
	const char *p = tmp_path("m.qnn");
	struct emo_err err;
	FILE *f;
	uint8_t *buf;
	long n;

	if (qnn_model_save(m, p, &err)) {
		fprintf(stderr, "  save: %s\n", err.msg);
		return NULL;
	}
	f = fopen(p, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int models_equal(const struct qnn_model *a, const struct qnn_model *b)
{
	if (a->n_tensors != b->n_tensors || a->n_layers != b->n_layers || strcmp(a->meta, b->meta))
		return 0;
	if (memcmp(a->tensors, b->tensors, sizeof(a->tensors[0]) * (size_t)a->n_tensors))
		return 0;
	for (int i = 0; i < a->n_layers; i++) {
		const struct qnn_layer *x = &a->layers[i], *y = &b->layers[i];
		if (x->type != y->type || x->in != y->in || x->in2 != y->in2 || x->out != y->out ||
		    x->kh != y->kh || x->kw != y->kw || x->stride != y->stride || x->pad != y->pad ||
		    x->groups != y->groups || x->relu != y->relu || x->float_out != y->float_out ||
		    x->cin != y->cin || x->cout != y->cout || x->add_mult[0] != y->add_mult[0] ||
		    x->add_mult[1] != y->add_mult[1] || x->add_shift[0] != y->add_shift[0] ||
		    x->add_shift[1] != y->add_shift[1])
			return 0;
		if (x->type != QNN_CONV)
			continue;
		size_t n = (size_t)x->cout, ws = n * x->kh * x->kw * (x->cin / x->groups);
		if (memcmp(x->w, y->w, ws) || memcmp(x->bias, y->bias, 4 * n) ||
		    memcmp(x->mult, y->mult, 4 * n) || memcmp(x->shift, y->shift, 4 * n) ||
		    memcmp(x->w_scale, y->w_scale, 4 * n))
			return 0;
	}
	return 1;
}

TEST(round_trip)
{
	struct qnn_model *m = small_model(), *r = NULL;
	struct emo_err err;
	char v[32];
	size_t len;
	uint8_t *buf;

	ASSERT(m);
	buf = save_to_mem(m, &len);
	ASSERT(buf);
	ASSERT(!memcmp(buf, "EMOQNN\r\n", 8));
	ASSERT_EQ(get32(buf + 12), len);
	ASSERT_EQ(qnn_model_load(tmp_path("m.qnn"), &r, &err), EMO_OK);
	ASSERT(r && models_equal(m, r));
	ASSERT_EQ(qnn_meta_get(r, "input_w", v, sizeof(v)), EMO_OK);
	ASSERT_STR(v, "8");
	ASSERT_EQ(qnn_meta_get(r, "empty", v, sizeof(v)), EMO_OK);
	ASSERT_STR(v, "");
	ASSERT_EQ(qnn_meta_get(r, "input", v, sizeof(v)), EMO_EINVAL); /* prefix only */
	ASSERT_EQ(qnn_meta_get(r, "task", v, 4), EMO_EINVAL);          /* too small */
	qnn_model_free(r);
	r = NULL;
	ASSERT_EQ(qnn_model_load_mem(buf, len, "mem", &r, &err), EMO_OK);
	ASSERT(models_equal(m, r));
	/* a second save of the loaded model gives the same bytes */
	size_t len2;
	uint8_t *buf2 = save_to_mem(r, &len2);
	ASSERT(buf2 && len2 == len && !memcmp(buf, buf2, len));
	free(buf2);
	free(buf);
	qnn_model_free(r);
	qnn_model_free(m);
}

TEST(truncated_every_offset)
{
	struct qnn_model *m = small_model(), *r;
	struct emo_err err;
	size_t len;
	uint8_t *buf = m ? save_to_mem(m, &len) : NULL;

	ASSERT(buf);
	for (size_t n = 0; n < len; n++) {
		uint8_t *cut = malloc(n ? n : 1); /* exact size so ASan sees overreads */
		memcpy(cut, buf, n);
		int rc = qnn_model_load_mem(cut, n, "cut", &r, &err);
		free(cut);
		if (rc != EMO_EFORMAT || r)
			UNIT_FAILF("truncated at %zu: rc %d", n, rc);
	}
	/* and one extra byte */
	uint8_t *big = malloc(len + 1);
	memcpy(big, buf, len);
	big[len] = 0;
	ASSERT_EQ(qnn_model_load_mem(big, len + 1, "big", &r, &err), EMO_EFORMAT);
	free(big);
	free(buf);
	qnn_model_free(m);
}

TEST(every_byte_flipped)
{
	struct qnn_model *m = small_model(), *r;
	struct emo_err err;
	size_t len;
	uint8_t *buf = m ? save_to_mem(m, &len) : NULL;
	int nsum = 0;

	ASSERT(buf);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			buf[i] ^= (uint8_t)(1u << bit);
			int rc = qnn_model_load_mem(buf, len, "flip", &r, &err);
			buf[i] ^= (uint8_t)(1u << bit);
			if (rc == EMO_OK || r)
				UNIT_FAILF("flip at %zu bit %d accepted", i, bit);
			if (i >= 16 && rc != EMO_ECHECKSUM)
				UNIT_FAILF("flip at %zu: rc %d, want checksum error", i, rc);
			nsum += rc == EMO_ECHECKSUM;
		}
	}
	ASSERT(nsum > 0);
	free(buf);
	qnn_model_free(m);
}

TEST(wrong_version_and_magic)
{
	struct qnn_model *m = small_model(), *r;
	struct emo_err err;
	size_t len;
	uint8_t *buf = m ? save_to_mem(m, &len) : NULL;

	ASSERT(buf);
	put32(buf + 8, 2);
	reseal(buf, len);
	ASSERT_EQ(qnn_model_load_mem(buf, len, "v2", &r, &err), EMO_EVERSION);
	ASSERT(strstr(err.msg, "version 2"));
	ASSERT(!r);
	put32(buf + 8, 1);
	buf[0] = 'X';
	reseal(buf, len);
	ASSERT_EQ(qnn_model_load_mem(buf, len, "magic", &r, &err), EMO_EFORMAT);
	ASSERT(strstr(err.msg, "magic"));
	free(buf);
	qnn_model_free(m);
}

/* Offsets in the file of small_model(). */
#define OFF_TENSORS 32
#define OFF_LAYERS(m) (OFF_TENSORS + 12 * (m)->n_tensors)
#define LAYER_FIELD(m, i, f) (OFF_LAYERS(m) + 72 * (i) + 4 * (f))

struct corruption {
	const char *what;
	int off;   /* -1: computed below */
	uint32_t value;
	const char *msg; /* expected in err.msg */
};

TEST(inconsistent_fields_resealed)
{
	struct qnn_model *m = small_model(), *r;
	struct emo_err err;
	size_t len;
	uint8_t *buf = m ? save_to_mem(m, &len) : NULL, *c;
	const int nt = m ? m->n_tensors : 0;
	float nanv = NAN, neg = -1.0f;
	uint32_t unan, uneg;

	ASSERT(buf);
	memcpy(&unan, &nanv, 4);
	memcpy(&uneg, &neg, 4);
	const struct corruption cs[] = {
		{"n_tensors 0", 16, 0, "n_tensors"},
		{"n_tensors 300", 16, 300, "n_tensors"},
		{"n_tensors - 1", 16, (uint32_t)nt - 1, ""},
		{"n_layers 0", 20, 0, "n_layers"},
		{"n_layers + 1", 20, (uint32_t)m->n_layers + 1, ""},
		{"meta_len 0", 24, 0, "metadata"},
		{"meta_len huge", 24, 100000, "metadata"},
		{"meta_len - 1", 24, (uint32_t)strlen(m->meta), ""},
		{"reserved", 28, 1, "reserved"},
		{"file size", 12, (uint32_t)len + 4, "header says"},
		{"tensor scale NaN", OFF_TENSORS + 12, unan, "scale"},
		{"tensor scale < 0", OFF_TENSORS + 12, uneg, "scale"},
		{"zero point 256", OFF_TENSORS + 12 + 4, 256, "zero point"},
		{"channels 0", OFF_TENSORS + 12 * 2 + 8, 0, ""},
		{"layer type 9", LAYER_FIELD(m, 0, 0), 9, "type"},
		{"input tensor out of range", LAYER_FIELD(m, 0, 1), 99, "out of range"},
		{"input not yet written", LAYER_FIELD(m, 1, 1), 2, ""},
		{"in2 on conv", LAYER_FIELD(m, 0, 2), 0, "in2"},
		{"output written twice", LAYER_FIELD(m, 1, 3), 1, ""},
		{"cin mismatch", LAYER_FIELD(m, 0, 11), 2, ""},
		{"cout mismatch (array sizes)", LAYER_FIELD(m, 0, 12), 6, ""},
		{"stride 0", LAYER_FIELD(m, 0, 6), 0, "stride"},
		{"pad >= kernel", LAYER_FIELD(m, 0, 7), 3, "pad"},
		{"kernel 0", LAYER_FIELD(m, 0, 4), 0, ""},
		{"groups 3", LAYER_FIELD(m, 0, 8), 3, ""},
		{"relu 2", LAYER_FIELD(m, 0, 9), 2, "relu"},
		{"float_out on maxpool", LAYER_FIELD(m, 3, 10), 1, "float_out"},
		{"maxpool kernel 0", LAYER_FIELD(m, 3, 4), 0, "kernel"},
		{"gap stride", LAYER_FIELD(m, 5, 6), 1000, "out of range"},
		{"add mult < 2^30", LAYER_FIELD(m, 2, 13), 5, "add_mult"},
		{"add in2 -1", LAYER_FIELD(m, 2, 2), 0xffffffffu, ""},
		{"layer reserved", LAYER_FIELD(m, 0, 17), 1, "reserved"},
	};
	for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
		c = malloc(len);
		memcpy(c, buf, len);
		put32(c + cs[i].off, cs[i].value);
		reseal(c, len);
		int rc = qnn_model_load_mem(c, len, "bad", &r, &err);
		free(c);
		if (rc != EMO_EFORMAT || r)
			UNIT_FAILF("%s: rc %d (want EMO_EFORMAT)", cs[i].what, rc);
		if (!strstr(err.msg, cs[i].msg))
			UNIT_FAILF("%s: message \"%s\" lacks \"%s\"", cs[i].what, err.msg, cs[i].msg);
	}
	/* per-channel arrays: the first conv's arrays start after the meta */
	size_t meta_len = strlen(m->meta) + 1;
	size_t arr = (size_t)OFF_LAYERS(m) + 72 * (size_t)m->n_layers + ((meta_len + 3) & ~(size_t)3);
	size_t ws = 5 * 9, cs4 = 5 * 4, wpad = (ws + 3) & ~(size_t)3;
	const struct {
		const char *what;
		size_t off;
		uint32_t v;
		const char *msg;
	} as[] = {
		{"weight padding", arr + ws, 0x01, "padding"},
		{"mult 12345", arr + wpad + cs4, 12345, "mult"},
		{"shift 31", arr + wpad + 2 * cs4, 31, "shift"},
		{"shift -32", arr + wpad + 2 * cs4 + 4, (uint32_t)-32, "shift"},
		{"w_scale NaN", arr + wpad + 3 * cs4, unan, "w_scale"},
		{"mult negative", arr + wpad + cs4 + 8, 0x80000000u, "mult"},
		{"meta NUL inside", (size_t)OFF_LAYERS(m) + 72 * (size_t)m->n_layers, 0, "NUL"},
	};
	for (size_t i = 0; i < sizeof(as) / sizeof(as[0]); i++) {
		c = malloc(len);
		memcpy(c, buf, len);
		if (as[i].v == 0x01)
			c[as[i].off] = 1; /* one byte */
		else
			put32(c + as[i].off, as[i].v);
		reseal(c, len);
		int rc = qnn_model_load_mem(c, len, "bad", &r, &err);
		free(c);
		if (rc != EMO_EFORMAT || r)
			UNIT_FAILF("%s: rc %d (want EMO_EFORMAT)", as[i].what, rc);
		if (!strstr(err.msg, as[i].msg))
			UNIT_FAILF("%s: message \"%s\" lacks \"%s\"", as[i].what, err.msg, as[i].msg);
	}
	free(buf);
	qnn_model_free(m);
}

TEST(random_garbage_never_crashes)
{
	struct qnn_model *m = small_model(), *r;
	struct emo_err err;
	size_t len;
	uint8_t *buf = m ? save_to_mem(m, &len) : NULL;

	ASSERT(buf);
	/* resealed random edits of the tables: anything but a crash or leak */
	for (int it = 0; it < 3000; it++) {
		uint8_t *c = malloc(len);
		memcpy(c, buf, len);
		int n = rnd_int(1, 4);
		for (int k = 0; k < n; k++) {
			size_t off = (size_t)rnd_int(16, OFF_LAYERS(m) + 72 * m->n_layers - 1);
			c[off] = rnd_int(0, 3) ? (uint8_t)rnd_u32() : (uint8_t)(c[off] ^ 1);
		}
		reseal(c, len);
		int rc = qnn_model_load_mem(c, len, "fuzz", &r, &err);
		if (rc == EMO_OK) {
			ASSERT_EQ(qnn_model_validate(r, NULL), EMO_OK);
			qnn_model_free(r);
		} else {
			ASSERT(!r);
		}
		free(c);
	}
	free(buf);
	qnn_model_free(m);
}

TEST(empty_and_missing_files)
{
	struct qnn_model *r = (struct qnn_model *)1;
	struct emo_err err;
	const char *p = tmp_path("empty.qnn");
	FILE *f = fopen(p, "wb");

	ASSERT(f);
	fclose(f);
	ASSERT_EQ(qnn_model_load(p, &r, &err), EMO_EFORMAT);
	ASSERT(!r);
	ASSERT(strstr(err.msg, "empty"));
	ASSERT_STR(err.file, p);
	unlink(p);
	ASSERT_EQ(qnn_model_load(tmp_path("missing.qnn"), &r, &err), EMO_EIO);
	ASSERT(strstr(err.msg, "No such file"));
	/* a directory (fopen opens it, ftell says LONG_MAX): said as such */
	ASSERT_EQ(mkdir(tmp_path("dir.qnn"), 0700), 0);
	ASSERT_EQ(qnn_model_load(tmp_path("dir.qnn"), &r, &err), EMO_EIO);
	rmdir(tmp_path("dir.qnn"));
	ASSERT(!r);
	ASSERT(strstr(err.msg, "is a directory"));
	ASSERT(!strstr(err.msg, "too big"));
	ASSERT_EQ(qnn_model_load_mem(NULL, 0, NULL, &r, &err), EMO_EFORMAT);
	ASSERT_EQ(qnn_model_load_mem("x", 1, NULL, NULL, &err), EMO_EINVAL);
	/* saving into a missing directory */
	struct qnn_model *m = small_model();
	ASSERT_EQ(qnn_model_save(m, "/nonexistent-dir/x.qnn", &err), EMO_EIO);
	/* saving an invalid model */
	m->tensors[1].zero_point = -1;
	ASSERT_EQ(qnn_model_save(m, tmp_path("bad.qnn"), &err), EMO_EFORMAT);
	qnn_model_free(m);
	qnn_model_free(NULL);
}

/* A save that fails part-way (here the file size limit, as a full disk
 * would) leaves the file it was to replace as it was, and no temporary
 * file; a save that succeeds replaces it, keeping its mode. */
TEST(save_is_atomic)
{
	struct qnn_model *m = small_model(), *r = NULL;
	struct emo_err err;
	const char *p0 = tmp_path("keep.qnn");
	char p[128];
	const char old[] = "the previous model";
	char buf[64] = {0};
	struct rlimit rl, small = {.rlim_cur = 64, .rlim_max = RLIM_INFINITY};
	void (*prev)(int);
	struct stat sb;
	FILE *f;
	DIR *d;
	struct dirent *e;
	int left = 0, rc;

	ASSERT(m && p0);
	snprintf(p, sizeof(p), "%s", p0);
	f = fopen(p, "wb");
	ASSERT(f && fwrite(old, 1, sizeof(old), f) == sizeof(old));
	fclose(f);
	ASSERT_EQ(chmod(p, 0640), 0);
	ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &rl), 0);
	small.rlim_max = rl.rlim_max;
	prev = signal(SIGXFSZ, SIG_IGN);
	ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
	rc = qnn_model_save(m, p, &err);
	setrlimit(RLIMIT_FSIZE, &rl);
	signal(SIGXFSZ, prev);
	ASSERT_EQ(rc, EMO_EIO);
	f = fopen(p, "rb");
	ASSERT(f);
	ASSERT_EQ(fread(buf, 1, sizeof(buf), f), sizeof(old));
	fclose(f);
	ASSERT_STR(buf, old);
	d = opendir(tmpdir);
	ASSERT(d);
	while ((e = readdir(d)))
		left += !strncmp(e->d_name, "keep.qnn.", 9);
	closedir(d);
	ASSERT_EQ(left, 0);
	ASSERT_EQ(qnn_model_save(m, p, &err), EMO_OK);
	ASSERT_EQ(qnn_model_load(p, &r, &err), EMO_OK);
	ASSERT(models_equal(m, r));
	ASSERT_EQ(stat(p, &sb), 0);
	ASSERT_EQ(sb.st_mode & 0777, 0640);
	unlink(p);
	/* a new file: 0666 less the umask, as fopen gives */
	{
		mode_t um = umask(077);
		rc = qnn_model_save(m, p, &err);
		umask(022);
		ASSERT_EQ(rc, EMO_OK);
		ASSERT_EQ(stat(p, &sb), 0);
		ASSERT_EQ(sb.st_mode & 0777, 0600);
		unlink(p);
		ASSERT_EQ(qnn_model_save(m, p, &err), EMO_OK);
		umask(um);
		ASSERT_EQ(stat(p, &sb), 0);
		ASSERT_EQ(sb.st_mode & 0777, 0644);
		unlink(p);
	}
	qnn_model_free(r);
	qnn_model_free(m);
}

/* Every embedded model loads: classifiers end in 7 logits, the detector
 * and its verifier say what they are; emo_blobs() lists the classifiers
 * first. */
TEST(embedded_blobs)
{
	struct emo_blob b[EMO_MAX_BLOBS];
	int n = emo_blobs(b, EMO_MAX_BLOBS), have = 0, seen_detector = 0;
	char task[32];

	ASSERT(n >= 4 && n <= EMO_MAX_BLOBS);
	ASSERT_EQ(emo_blobs(b, 2), 2);
	n = emo_blobs(b, EMO_MAX_BLOBS);
	for (int i = 0; i < n; i++) {
		struct qnn_model *r;
		struct emo_err err;
		ASSERT(!seen_detector || !b[i].classifier); /* classifiers first */
		seen_detector |= !b[i].classifier;
		if (!b[i].len)
			continue;
		have++;
		ASSERT_EQ(qnn_model_load_mem(b[i].data, b[i].len, b[i].name, &r, &err), EMO_OK);
		if (b[i].classifier) {
			ASSERT(r->tensors[r->layers[r->n_layers - 1].out].c == 7);
		} else {
			ASSERT_EQ(qnn_meta_get(r, "task", task, sizeof(task)), EMO_OK);
			if (!strcmp(b[i].name, "faceverify")) {
				ASSERT_STR(task, "face-verify");
				ASSERT(r->tensors[r->layers[r->n_layers - 1].out].c == 2);
			} else {
				ASSERT_STR(task, "face-detect");
			}
		}
		qnn_model_free(r);
	}
	if (!have)
		SKIP("no models embedded in this build");
	ASSERT_EQ((size_t)(emo_blob_emo7_end - emo_blob_emo7), b[0].len);
}

int main(int argc, char **argv)
{
	unit_init(argc, argv);
	RUN(round_trip);
	RUN(truncated_every_offset);
	RUN(every_byte_flipped);
	RUN(wrong_version_and_magic);
	RUN(inconsistent_fields_resealed);
	RUN(random_garbage_never_crashes);
	RUN(empty_and_missing_files);
	RUN(save_is_atomic);
	RUN(embedded_blobs);
	if (tmpdir[0]) {
		unlink(tmp_path("m.qnn"));
		unlink(tmp_path("bad.qnn"));
		rmdir(tmpdir);
	}
	return unit_done();
}
