/* model.c - the .qnn model file: read, write, validate, CRC32.
 *
 * File format, version 1. All fields little-endian, fixed width; i32/u32 are
 * 4 bytes, f32 is an IEEE-754 binary32. Offsets in bytes.
 *
 *   header, 32 bytes
 *     0  u8[8]  magic "EMOQNN\r\n"
 *     8  u32    version (1)
 *    12  u32    file_size: total bytes including the CRC trailer
 *    16  u32    n_tensors (2..256)
 *    20  u32    n_layers (1..256)
 *    24  u32    meta_len: bytes of metadata text including its NUL (1..4096)
 *    28  u32    reserved, 0
 *   tensor table, n_tensors records of 12 bytes
 *     f32 scale, i32 zero_point, i32 channels
 *   layer table, n_layers records of 72 bytes (18 x i32)
 *     type, in, in2, out, kh, kw, stride, pad, groups, relu, float_out,
 *     cin, cout, add_mult[0], add_shift[0], add_mult[1], add_shift[1],
 *     reserved (0)
 *   metadata: meta_len bytes of "key=value\n" text ending in one NUL, then
 *     zero bytes up to a multiple of 4
 *   arrays, for each QNN_CONV layer in layer order:
 *     i8  w[cout * kh * kw * cin / groups], then zero bytes up to a
 *         multiple of 4
 *     i32 bias[cout], i32 mult[cout], i32 shift[cout], f32 w_scale[cout]
 *   u32 CRC-32 (IEEE 802.3, as zlib's crc32) of every byte before it
 *
 * The loader checks, in order: size >= header, magic, version (EMO_EVERSION),
 * file_size == actual size, CRC (EMO_ECHECKSUM), that the tables and arrays
 * exactly fill the file, then every field with qnn_model_validate()
 * (EMO_EFORMAT). Meanings of the fields: include/emotop/qnn.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emotop/blob.h"
#include "emotop/qnn.h"

#define MODEL_MAGIC "EMOQNN\r\n"
#define MODEL_VERSION 1u
#define MODEL_HEADER 32u
#define MODEL_TENSOR_REC 12u
#define MODEL_LAYER_REC 72u
#define MODEL_MAX_FILE (256u << 20) /* 256 MiB: far above any sane model */
#define MODEL_MAX_K 65536           /* kh * kw * cin / groups: |sum| < 2^31 */
#define MODEL_MAX_C 65536
#define MODEL_MAX_KERNEL 255
#define MODEL_MAX_STRIDE 64

static uint32_t crc_table[256];
static int crc_ready;

static void crc_init(void)
{
	/* Racing threads compute identical values; the flag is set last. */
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
	__atomic_store_n(&crc_ready, 1, __ATOMIC_RELEASE);
}

static uint32_t model_crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	if (!__atomic_load_n(&crc_ready, __ATOMIC_ACQUIRE))
		crc_init();
	while (n--)
		c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int32_t get_i32(const uint8_t *p)
{
	return (int32_t)get_u32(p);
}

static float get_f32(const uint8_t *p)
{
	uint32_t u = get_u32(p);
	float f;

	memcpy(&f, &u, 4);
	return f;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put_f32(uint8_t *p, float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	put_u32(p, u);
}

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static const char *layer_name(uint32_t type)
{
	switch (type) {
	case QNN_CONV: return "conv";
	case QNN_MAXPOOL: return "maxpool";
	case QNN_GAP: return "gap";
	case QNN_ADD: return "add";
	case QNN_UPSAMPLE2: return "upsample2";
	default: return "unknown";
	}
}

/* Bytes of the weight array of a conv layer (fields already validated). */
static size_t conv_wsize(const struct qnn_layer *l)
{
	return (size_t)l->cout * (size_t)l->kh * (size_t)l->kw * (size_t)(l->cin / l->groups);
}

static int mult_ok(int32_t m)
{
	return m == 0 || m >= (1 << 30);
}

static int shift_ok(int32_t s)
{
	return s >= -31 && s <= 30;
}

#define VERR(...) emo_seterr(err, EMO_EFORMAT, NULL, 0, 0, __VA_ARGS__)

static int validate_layer(const struct qnn_model *m, int i, const unsigned char *written,
			  struct emo_err *err)
{
	const struct qnn_layer *l = &m->layers[i];
	const char *nm = layer_name(l->type);
	const struct qnn_tensor *ti, *to;

	if (l->type < QNN_CONV || l->type > QNN_UPSAMPLE2)
		return VERR("layer %d: unknown type %u", i, (unsigned)l->type);
	if (l->in < 0 || l->in >= m->n_tensors)
		return VERR("layer %d (%s): input tensor %d out of range", i, nm, (int)l->in);
	if (l->out <= 0 || l->out >= m->n_tensors)
		return VERR("layer %d (%s): output tensor %d out of range", i, nm, (int)l->out);
	if (!written[l->in])
		return VERR("layer %d (%s): input tensor %d used before it is written", i, nm, (int)l->in);
	if (written[l->in] == 2)
		return VERR("layer %d (%s): input tensor %d is a float output", i, nm, (int)l->in);
	if (written[l->out])
		return VERR("layer %d (%s): tensor %d written twice", i, nm, (int)l->out);
	if (l->out <= l->in)
		return VERR("layer %d (%s): output tensor %d must follow input %d", i, nm,
			    (int)l->out, (int)l->in);
	if (l->type == QNN_ADD) {
		if (l->in2 < 0 || l->in2 >= m->n_tensors)
			return VERR("layer %d (add): second input %d out of range", i, (int)l->in2);
		if (written[l->in2] != 1)
			return VERR("layer %d (add): second input %d not written before use or float",
				    i, (int)l->in2);
		if (l->out <= l->in2)
			return VERR("layer %d (add): output tensor must follow its inputs", i);
	} else if (l->in2 != -1) {
		return VERR("layer %d (%s): in2 must be -1", i, nm);
	}
	if (l->relu != 0 && l->relu != 1)
		return VERR("layer %d (%s): relu must be 0 or 1", i, nm);
	if (l->float_out != 0 && l->float_out != 1)
		return VERR("layer %d (%s): float_out must be 0 or 1", i, nm);
	if (l->float_out && l->type != QNN_CONV)
		return VERR("layer %d (%s): float_out only for conv", i, nm);
	ti = &m->tensors[l->in];
	to = &m->tensors[l->out];
	if (l->cin != ti->c)
		return VERR("layer %d (%s): cin %d but input tensor %d has %d channels", i, nm,
			    (int)l->cin, (int)l->in, (int)ti->c);
	if (l->cout != to->c)
		return VERR("layer %d (%s): cout %d but output tensor %d has %d channels", i, nm,
			    (int)l->cout, (int)l->out, (int)to->c);
	if (l->type != QNN_CONV && (l->w || l->bias || l->mult || l->shift || l->w_scale))
		return VERR("layer %d (%s): has conv arrays", i, nm);
	if (l->type != QNN_ADD && (l->add_mult[0] || l->add_mult[1] || l->add_shift[0] || l->add_shift[1]))
		return VERR("layer %d (%s): add_mult/add_shift must be 0", i, nm);

	if (l->type == QNN_CONV || l->type == QNN_MAXPOOL) {
		if (l->kh < 1 || l->kh > MODEL_MAX_KERNEL || l->kw < 1 || l->kw > MODEL_MAX_KERNEL)
			return VERR("layer %d (%s): kernel %dx%d out of range 1..%d", i, nm,
				    (int)l->kh, (int)l->kw, MODEL_MAX_KERNEL);
		if (l->stride < 1 || l->stride > MODEL_MAX_STRIDE)
			return VERR("layer %d (%s): stride %d out of range 1..%d", i, nm, (int)l->stride,
				    MODEL_MAX_STRIDE);
		if (l->pad < 0 || l->pad >= l->kh || l->pad >= l->kw)
			return VERR("layer %d (%s): pad %d must be 0..kernel-1", i, nm, (int)l->pad);
	} else if (l->kh < 0 || l->kh > MODEL_MAX_KERNEL || l->kw < 0 || l->kw > MODEL_MAX_KERNEL ||
		   l->stride < 0 || l->stride > MODEL_MAX_STRIDE || l->pad < 0 || l->pad > MODEL_MAX_KERNEL) {
		/* unused by gap/add/upsample2 (writers may leave the pool size) */
		return VERR("layer %d (%s): kh, kw, stride or pad out of range", i, nm);
	}
	if (l->type != QNN_CONV && l->groups != 0)
		return VERR("layer %d (%s): groups must be 0", i, nm);

	switch (l->type) {
	case QNN_CONV: {
		if (l->groups != 1 && !(l->groups == l->cin && l->cout == l->cin))
			return VERR("layer %d (conv): groups %d must be 1 or cin = cout (depthwise)", i,
				    (int)l->groups);
		int64_t k = (int64_t)l->kh * l->kw * (l->cin / l->groups);
		if (k > MODEL_MAX_K)
			return VERR("layer %d (conv): kernel size %lld above %d", i, (long long)k,
				    MODEL_MAX_K);
		if (!l->w || !l->bias || !l->mult || !l->shift || !l->w_scale)
			return VERR("layer %d (conv): missing weight arrays", i);
		for (int c = 0; c < l->cout; c++) {
			if (!mult_ok(l->mult[c]))
				return VERR("layer %d (conv): mult[%d] = %d not 0 or in [2^30, 2^31)", i, c,
					    (int)l->mult[c]);
			if (!shift_ok(l->shift[c]))
				return VERR("layer %d (conv): shift[%d] = %d out of -31..30", i, c,
					    (int)l->shift[c]);
			if (!isfinite(l->w_scale[c]) || l->w_scale[c] < 0)
				return VERR("layer %d (conv): w_scale[%d] not finite and >= 0", i, c);
		}
		break;
	}
	case QNN_MAXPOOL:
	case QNN_GAP:
	case QNN_UPSAMPLE2:
		if (l->cin != l->cout)
			return VERR("layer %d (%s): cin %d != cout %d", i, nm, (int)l->cin, (int)l->cout);
		if (ti->scale != to->scale || ti->zero_point != to->zero_point)
			return VERR("layer %d (%s): output scale/zero point must equal the input's", i, nm);
		if (l->relu)
			return VERR("layer %d (%s): relu not supported", i, nm);
		break;
	case QNN_ADD:
		if (m->tensors[l->in2].c != l->cin || l->cout != l->cin)
			return VERR("layer %d (add): channel counts differ", i);
		for (int k = 0; k < 2; k++)
			if (!mult_ok(l->add_mult[k]) || !shift_ok(l->add_shift[k]))
				return VERR("layer %d (add): add_mult/add_shift[%d] out of range", i, k);
		break;
	default:
		break;
	}
	return EMO_OK;
}

int qnn_model_validate(const struct qnn_model *m, struct emo_err *err)
{
	unsigned char written[QNN_MAX_TENSORS];

	if (!m)
		return VERR("no model");
	if (m->n_tensors < 2 || m->n_tensors > QNN_MAX_TENSORS)
		return VERR("n_tensors %d out of range 2..%d", (int)m->n_tensors, QNN_MAX_TENSORS);
	if (m->n_layers < 1 || m->n_layers > QNN_MAX_LAYERS)
		return VERR("n_layers %d out of range 1..%d", (int)m->n_layers, QNN_MAX_LAYERS);
	if (!memchr(m->meta, '\0', sizeof(m->meta)))
		return VERR("metadata not NUL-terminated");
	for (int t = 0; t < m->n_tensors; t++) {
		const struct qnn_tensor *tt = &m->tensors[t];
		if (!isfinite(tt->scale) || !(tt->scale > 0))
			return VERR("tensor %d: scale not finite and > 0", t);
		if (tt->zero_point < 0 || tt->zero_point > 255)
			return VERR("tensor %d: zero point %d out of 0..255", t, (int)tt->zero_point);
		if (tt->c < 1 || tt->c > MODEL_MAX_C)
			return VERR("tensor %d: %d channels out of 1..%d", t, (int)tt->c, MODEL_MAX_C);
	}
	memset(written, 0, sizeof(written));
	written[0] = 1; /* the input */
	for (int i = 0; i < m->n_layers; i++) {
		int rc = validate_layer(m, i, written, err);
		if (rc)
			return rc;
		written[m->layers[i].out] = m->layers[i].float_out ? 2 : 1;
	}
	for (int t = 1; t < m->n_tensors; t++)
		if (!written[t])
			return VERR("tensor %d is never written", t);
	return EMO_OK;
}

void qnn_model_free(struct qnn_model *m)
{
	if (!m)
		return;
	for (int i = 0; i < QNN_MAX_LAYERS; i++) {
		struct qnn_layer *l = &m->layers[i];
		free(l->w);
		free(l->bias);
		free(l->mult);
		free(l->shift);
		free(l->w_scale);
	}
	free(m);
}

/* Bytes of the file for a validated model. */
static size_t model_file_size(const struct qnn_model *m, size_t meta_len)
{
	size_t n = MODEL_HEADER + (size_t)m->n_tensors * MODEL_TENSOR_REC +
		   (size_t)m->n_layers * MODEL_LAYER_REC + pad4(meta_len);
	for (int i = 0; i < m->n_layers; i++) {
		const struct qnn_layer *l = &m->layers[i];
		if (l->type == QNN_CONV)
			n += pad4(conv_wsize(l)) + 16 * (size_t)l->cout;
	}
	return n + 4;
}

#define LERR(code, ...) emo_seterr(err, code, name, 0, 0, __VA_ARGS__)

int qnn_model_load_mem(const void *buf, size_t len, const char *name, struct qnn_model **out,
		       struct emo_err *err)
{
	const uint8_t *p = buf, *q, *end;
	struct qnn_model *m;
	uint32_t version, fsize, nt, nl, meta_len, crc;
	int rc;

	if (!out)
		return emo_seterr(err, EMO_EINVAL, name, 0, 0, "no output pointer");
	*out = NULL;
	if (!name)
		name = "(memory)";
	if (!buf || len == 0)
		return LERR(EMO_EFORMAT, "empty model file");
	if (len < MODEL_HEADER + 4)
		return LERR(EMO_EFORMAT, "truncated model: %zu bytes, less than a header", len);
	if (memcmp(p, MODEL_MAGIC, 8))
		return LERR(EMO_EFORMAT, "not an emotop qnn model (bad magic)");
	version = get_u32(p + 8);
	if (version != MODEL_VERSION)
		return LERR(EMO_EVERSION, "model format version %u, this build reads version %u",
			    (unsigned)version, MODEL_VERSION);
	fsize = get_u32(p + 12);
	if (fsize != len)
		return LERR(EMO_EFORMAT, "model is %zu bytes but its header says %u (truncated?)", len,
			    (unsigned)fsize);
	crc = get_u32(p + len - 4);
	if (model_crc32(p, len - 4) != crc)
		return LERR(EMO_ECHECKSUM, "model checksum mismatch (corrupt file)");
	nt = get_u32(p + 16);
	nl = get_u32(p + 20);
	meta_len = get_u32(p + 24);
	if (nt < 2 || nt > QNN_MAX_TENSORS)
		return LERR(EMO_EFORMAT, "n_tensors %u out of range 2..%d", (unsigned)nt, QNN_MAX_TENSORS);
	if (nl < 1 || nl > QNN_MAX_LAYERS)
		return LERR(EMO_EFORMAT, "n_layers %u out of range 1..%d", (unsigned)nl, QNN_MAX_LAYERS);
	if (meta_len < 1 || meta_len > QNN_META_MAX)
		return LERR(EMO_EFORMAT, "metadata length %u out of range 1..%d", (unsigned)meta_len,
			    QNN_META_MAX);
	if (get_u32(p + 28))
		return LERR(EMO_EFORMAT, "reserved header field not 0");
	end = p + len - 4;
	if ((size_t)(end - p) < MODEL_HEADER + nt * MODEL_TENSOR_REC + nl * MODEL_LAYER_REC + pad4(meta_len))
		return LERR(EMO_EFORMAT, "model tables exceed the file");

	m = calloc(1, sizeof(*m));
	if (!m)
		return LERR(EMO_ENOMEM, "out of memory loading model");
	m->n_tensors = (int32_t)nt;
	m->n_layers = (int32_t)nl;
	q = p + MODEL_HEADER;
	for (uint32_t t = 0; t < nt; t++, q += MODEL_TENSOR_REC) {
		m->tensors[t].scale = get_f32(q);
		m->tensors[t].zero_point = get_i32(q + 4);
		m->tensors[t].c = get_i32(q + 8);
	}
	for (uint32_t i = 0; i < nl; i++, q += MODEL_LAYER_REC) {
		struct qnn_layer *l = &m->layers[i];
		l->type = get_u32(q);
		l->in = get_i32(q + 4);
		l->in2 = get_i32(q + 8);
		l->out = get_i32(q + 12);
		l->kh = get_i32(q + 16);
		l->kw = get_i32(q + 20);
		l->stride = get_i32(q + 24);
		l->pad = get_i32(q + 28);
		l->groups = get_i32(q + 32);
		l->relu = get_i32(q + 36);
		l->float_out = get_i32(q + 40);
		l->cin = get_i32(q + 44);
		l->cout = get_i32(q + 48);
		l->add_mult[0] = get_i32(q + 52);
		l->add_shift[0] = get_i32(q + 56);
		l->add_mult[1] = get_i32(q + 60);
		l->add_shift[1] = get_i32(q + 64);
		if (l->type < QNN_CONV || l->type > QNN_UPSAMPLE2) {
			rc = LERR(EMO_EFORMAT, "layer %u: unknown type %u", (unsigned)i, (unsigned)l->type);
			goto fail;
		}
		if (get_i32(q + 68)) {
			rc = LERR(EMO_EFORMAT, "layer %u: reserved field not 0", (unsigned)i);
			goto fail;
		}
	}
	if (q[meta_len - 1] != '\0' || memchr(q, '\0', meta_len) != q + meta_len - 1) {
		rc = LERR(EMO_EFORMAT, "metadata not a NUL-terminated string of its length");
		goto fail;
	}
	memcpy(m->meta, q, meta_len);
	for (size_t k = meta_len; k < pad4(meta_len); k++)
		if (q[k]) {
			rc = LERR(EMO_EFORMAT, "metadata padding not zero");
			goto fail;
		}
	q += pad4(meta_len);

	/* Conv arrays: check each layer's header fields enough to size them,
	 * the full check comes from qnn_model_validate() below. */
	for (uint32_t i = 0; i < nl; i++) {
		struct qnn_layer *l = &m->layers[i];
		if (l->type != QNN_CONV)
			continue;
		if (l->kh < 1 || l->kh > MODEL_MAX_KERNEL || l->kw < 1 || l->kw > MODEL_MAX_KERNEL ||
		    l->cin < 1 || l->cin > MODEL_MAX_C || l->cout < 1 || l->cout > MODEL_MAX_C ||
		    l->groups < 1 || l->cin % l->groups) {
			rc = LERR(EMO_EFORMAT, "layer %u (conv): bad kernel/channel/group fields", (unsigned)i);
			goto fail;
		}
		size_t ws = conv_wsize(l), cs = (size_t)l->cout * 4;
		if ((size_t)(end - q) < pad4(ws) + 4 * cs) {
			rc = LERR(EMO_EFORMAT, "layer %u (conv): arrays exceed the file", (unsigned)i);
			goto fail;
		}
		l->w = malloc(ws);
		l->bias = malloc(cs);
		l->mult = malloc(cs);
		l->shift = malloc(cs);
		l->w_scale = malloc(cs);
		if (!l->w || !l->bias || !l->mult || !l->shift || !l->w_scale) {
			rc = LERR(EMO_ENOMEM, "out of memory loading model");
			goto fail;
		}
		memcpy(l->w, q, ws);
		for (size_t k = ws; k < pad4(ws); k++)
			if (q[k]) {
				rc = LERR(EMO_EFORMAT, "layer %u (conv): weight padding not zero", (unsigned)i);
				goto fail;
			}
		q += pad4(ws);
		for (int c = 0; c < l->cout; c++) {
			l->bias[c] = get_i32(q + 4 * c);
			l->mult[c] = get_i32(q + cs + 4 * c);
			l->shift[c] = get_i32(q + 2 * cs + 4 * c);
			l->w_scale[c] = get_f32(q + 3 * cs + 4 * c);
		}
		q += 4 * cs;
	}
	if (q != end) {
		rc = LERR(EMO_EFORMAT, "model has %zu unexplained bytes before its checksum",
			  (size_t)(end - q));
		goto fail;
	}
	rc = qnn_model_validate(m, err);
	if (rc) {
		if (err)
			snprintf(err->file, sizeof(err->file), "%s", name);
		goto fail;
	}
	*out = m;
	return EMO_OK;
fail:
	qnn_model_free(m);
	return rc;
}

int qnn_model_load(const char *path, struct qnn_model **out, struct emo_err *err)
{
	FILE *f;
	uint8_t *buf = NULL;
	long sz;
	int rc;

	if (!out || !path)
		return emo_seterr(err, EMO_EINVAL, path, 0, 0, "no model path");
	*out = NULL;
	f = fopen(path, "rb");
	if (!f)
		return emo_seterr(err, EMO_EIO, path, 0, 0, "cannot open model: %s", strerror(errno));
	{
		/* a directory opens, and sizes as LONG_MAX: say what it is */
		struct stat st;
		if (fstat(fileno(f), &st) == 0 && !S_ISREG(st.st_mode)) {
			rc = emo_seterr(err, EMO_EIO, path, 0, 0, "cannot read model: %s",
					S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
			goto out;
		}
	}
	if (fseek(f, 0, SEEK_END) || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		rc = emo_seterr(err, EMO_EIO, path, 0, 0, "cannot size model: %s", strerror(errno));
		goto out;
	}
	if ((unsigned long)sz > MODEL_MAX_FILE) {
		rc = emo_seterr(err, EMO_EFORMAT, path, 0, 0, "model file too big (%ld bytes)", sz);
		goto out;
	}
	buf = malloc(sz ? (size_t)sz : 1);
	if (!buf) {
		rc = emo_seterr(err, EMO_ENOMEM, path, 0, 0, "out of memory reading model");
		goto out;
	}
	if (sz && fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
		rc = emo_seterr(err, EMO_EIO, path, 0, 0, "cannot read model: %s",
				ferror(f) ? strerror(errno) : "short read");
		goto out;
	}
	rc = qnn_model_load_mem(buf, (size_t)sz, path, out, err);
out:
	free(buf);
	fclose(f);
	return rc;
}

int qnn_model_save(const struct qnn_model *m, const char *path, struct emo_err *err)
{
	uint8_t *buf, *q;
	size_t meta_len, n;
	char *tmp = NULL;
	FILE *f;
	struct stat sb;
	int rc, fd = -1;

	rc = qnn_model_validate(m, err);
	if (rc)
		return rc;
	meta_len = strlen(m->meta) + 1;
	n = model_file_size(m, meta_len);
	if (n > MODEL_MAX_FILE)
		return emo_seterr(err, EMO_EINVAL, path, 0, 0, "model too big (%zu bytes)", n);
	buf = calloc(1, n);
	if (!buf)
		return emo_seterr(err, EMO_ENOMEM, path, 0, 0, "out of memory writing model");
	memcpy(buf, MODEL_MAGIC, 8);
	put_u32(buf + 8, MODEL_VERSION);
	put_u32(buf + 12, (uint32_t)n);
	put_u32(buf + 16, (uint32_t)m->n_tensors);
	put_u32(buf + 20, (uint32_t)m->n_layers);
	put_u32(buf + 24, (uint32_t)meta_len);
	q = buf + MODEL_HEADER;
	for (int t = 0; t < m->n_tensors; t++, q += MODEL_TENSOR_REC) {
		put_f32(q, m->tensors[t].scale);
		put_u32(q + 4, (uint32_t)m->tensors[t].zero_point);
		put_u32(q + 8, (uint32_t)m->tensors[t].c);
	}
	for (int i = 0; i < m->n_layers; i++, q += MODEL_LAYER_REC) {
		const struct qnn_layer *l = &m->layers[i];
		const int32_t v[17] = {(int32_t)l->type, l->in, l->in2, l->out, l->kh, l->kw,
				       l->stride, l->pad, l->groups, l->relu, l->float_out, l->cin,
				       l->cout, l->add_mult[0], l->add_shift[0], l->add_mult[1],
				       l->add_shift[1]};
		for (int k = 0; k < 17; k++)
			put_u32(q + 4 * k, (uint32_t)v[k]);
	}
	memcpy(q, m->meta, meta_len);
	q += pad4(meta_len);
	for (int i = 0; i < m->n_layers; i++) {
		const struct qnn_layer *l = &m->layers[i];
		if (l->type != QNN_CONV)
			continue;
		size_t ws = conv_wsize(l), cs = (size_t)l->cout * 4;
		memcpy(q, l->w, ws);
		q += pad4(ws);
		for (int c = 0; c < l->cout; c++) {
			put_u32(q + 4 * c, (uint32_t)l->bias[c]);
			put_u32(q + cs + 4 * c, (uint32_t)l->mult[c]);
			put_u32(q + 2 * cs + 4 * c, (uint32_t)l->shift[c]);
			put_f32(q + 3 * cs + 4 * c, l->w_scale[c]);
		}
		q += 4 * cs;
	}
	put_u32(q, model_crc32(buf, n - 4));

	/* a temporary file beside the destination, synced, then renamed over
	 * it: a failed write (full disk, file size limit) leaves the old file */
	if (!(tmp = malloc(strlen(path) + 48))) {
		rc = emo_seterr(err, EMO_ENOMEM, path, 0, 0, "out of memory writing model");
		goto out;
	}
	/* created 0666 less the umask, as fopen would (mkstemp gives 0600) */
	for (int i = 0; i < 100; i++) {
		sprintf(tmp, "%s.tmp.%ld.%d", path, (long)getpid(), i);
		if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666)) >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		rc = emo_seterr(err, EMO_EIO, path, 0, 0, "cannot create model: %s", strerror(errno));
		goto out;
	}
	if (!(f = fdopen(fd, "wb"))) {
		rc = emo_seterr(err, EMO_EIO, path, 0, 0, "cannot create model: %s", strerror(errno));
		close(fd);
		goto out;
	}
	if (fwrite(buf, 1, n, f) != n || fflush(f) || fsync(fileno(f))) {
		rc = emo_seterr(err, EMO_EIO, path, 0, 0, "cannot write model: %s", strerror(errno));
		fclose(f);
		goto out;
	}
	if (fclose(f)) {
		rc = emo_seterr(err, EMO_EIO, path, 0, 0, "cannot write model: %s", strerror(errno));
		goto out;
	}
	/* a file replaced keeps its mode */
	if ((!stat(path, &sb) && chmod(tmp, sb.st_mode & 07777)) || rename(tmp, path)) {
		rc = emo_seterr(err, EMO_EIO, path, 0, 0, "cannot write model: %s", strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	rc = EMO_OK;
out:
	if (tmp) {
		if (fd >= 0)
			remove(tmp);
		free(tmp);
	}
	free(buf);
	return rc;
}

int qnn_meta_get(const struct qnn_model *m, const char *key, char *buf, size_t len)
{
	size_t kl;
	const char *p;

	if (!m || !key || !*key || !buf || !len)
		return EMO_EINVAL;
	kl = strlen(key);
	for (p = m->meta; *p;) {
		const char *nl = strchr(p, '\n');
		size_t ll = nl ? (size_t)(nl - p) : strlen(p);
		if (ll > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			size_t vl = ll - kl - 1;
			if (vl >= len)
				return EMO_EINVAL;
			memcpy(buf, p + kl + 1, vl);
			buf[vl] = '\0';
			return EMO_OK;
		}
		p += ll;
		if (*p == '\n')
			p++;
	}
	return EMO_EINVAL;
}

int emo_blobs(struct emo_blob *out, int max)
{
	static const struct {
		const unsigned char *b, *e;
		const char *name;
		int classifier;
	} t[] = {{emo_blob_emo7, emo_blob_emo7_end, "emo7", 1},
		 {emo_blob_emo7b, emo_blob_emo7b_end, "emo7b", 1},
		 {emo_blob_emo7c, emo_blob_emo7c_end, "emo7c", 1},
		 {emo_blob_face, emo_blob_face_end, "face", 0},
		 {emo_blob_faceverify, emo_blob_faceverify_end, "faceverify", 0}};
	int n = 0;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]) && n < max; i++, n++)
		out[n] = (struct emo_blob){t[i].b, (size_t)(t[i].e - t[i].b), t[i].name, t[i].classifier};
	return n;
}
