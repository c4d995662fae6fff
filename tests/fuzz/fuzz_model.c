/* fuzz_model.c - libFuzzer target for the model loader and executor (not
 * part of make test). Every input must load or be refused with an error,
 * never crash; a model that loads must also validate, get a context and
 * run. The first byte selects: when odd, the size field and CRC of the
 * rest are fixed up first, so the fuzzer also reaches the field validator
 * behind the checksum; the model file is the rest.
 *
 * A model that loads runs on every kernel path the CPU has: the SIMD ones
 * must match the scalar reference bit for bit, a size too small for the
 * network must be refused the same way twice running (a refused run once
 * left half-written shapes that the second call used), and a good run
 * after refused ones must still match.
 *
 *   make fuzz [FUZZ_SECONDS=60] [FUZZ_MAX_LEN=65536]   (clang; builds
 *       build/fuzz/fuzz_model and runs it on a corpus seeded with small
 *       generated models, fuzz_model_seeds.c, and the shipped models that
 *       fit in FUZZ_MAX_LEN, each behind the selector byte 0x01)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "emotop/qnn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t crc32_ieee(const uint8_t *p, size_t n)
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

/* Whether every tensor b kept after a run equals a's (same shape, same
 * bytes); tensors b computed on the fly (a conv fused with its pool) are
 * skipped. */
static int same_tensors(const struct qnn_model *m, const struct qnn_ctx *a, const struct qnn_ctx *b)
{
	for (int t = 1; t < m->n_tensors; t++) {
		int ha, wa, ca, hb, wb, cb;
		const uint8_t *qa, *qb;
		const float *fa, *fb;
		if (qnn_tensor_get(b, t, &hb, &wb, &cb, &qb, &fb) == EMO_EUNSUPPORTED)
			continue;
		if (qnn_tensor_get(a, t, &ha, &wa, &ca, &qa, &fa) ||
		    qnn_tensor_get(b, t, &hb, &wb, &cb, &qb, &fb))
			return 0;
		if (ha != hb || wa != wb || ca != cb || !fa != !fb)
			return 0;
		const size_t n = (size_t)ha * wa * ca * (fa ? sizeof(float) : 1);
		if (memcmp(fa ? (const void *)fa : (const void *)qa, fb ? (const void *)fb : (const void *)qb, n))
			return 0;
	}
	return 1;
}

/* qnn_run at hw x hw on every path (each against scalar), then sizes 1..3
 * twice each from buffers of exactly their size, then hw again. */
static void run_paths(const struct qnn_model *m, int hw)
{
	static const enum qnn_path paths[] = {QNN_PATH_SCALAR, QNN_PATH_AVX2, QNN_PATH_AVX512VNNI};
	const int c = m->tensors[0].c;
	struct qnn_ctx *ref = NULL;
	struct emo_err err;
	int ref_rc = 0;
	uint8_t *in = calloc((size_t)hw * hw * c, 1);

	if (!in)
		return;
	for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
		if (!qnn_path_supported(paths[p]))
			continue;
		struct qnn_ctx *x = qnn_ctx_new(m, hw, hw, paths[p], &err);
		if (!x) {
			if (!p)
				break; /* no scalar reference (too small, out of memory) */
			continue;
		}
		int rc = qnn_run(x, in, hw, hw, hw * c);
		if (!p)
			ref_rc = rc;
		else if (rc != ref_rc || (!rc && !same_tensors(m, ref, x)))
			abort(); /* a SIMD path differs from scalar */
		for (int s = 1; s <= 3; s++) {
			uint8_t *small = calloc((size_t)s * s * c, 1);
			if (!small)
				break;
			int r1 = qnn_run(x, small, s, s, s * c);
			int r2 = qnn_run(x, small, s, s, s * c);
			free(small);
			if (r1 != r2)
				abort(); /* refused once, not twice (stale shapes) */
		}
		if (qnn_run(x, in, hw, hw, hw * c) != rc || (!rc && p && !same_tensors(m, ref, x)))
			abort(); /* the same run after small ones differs */
		if (!p) {
			ref = x; /* kept for comparison: its float run comes last */
			continue;
		}
		qnn_run_float(x, in, hw, hw, hw * c);
		qnn_ctx_free(x);
	}
	if (ref)
		qnn_run_float(ref, in, hw, hw, hw * c);
	qnn_ctx_free(ref);
	free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qnn_model *m = NULL;
	struct emo_err err;
	uint8_t *buf;
	int rc;

	if (size < 1)
		return 0;
	buf = malloc(size - 1 ? size - 1 : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	if ((data[0] & 1) && size - 1 >= 36) {
		memcpy(buf, "EMOQNN\r\n", 8);
		put32(buf + 8, 1);
		put32(buf + 12, (uint32_t)(size - 1));
		put32(buf + size - 1 - 4, crc32_ieee(buf, size - 1 - 4));
	}
	rc = qnn_model_load_mem(buf, size - 1, "fuzz", &m, &err);
	free(buf);
	if (rc) {
		if (m)
			abort(); /* refused but returned a model */
		return 0;
	}
	if (qnn_model_validate(m, &err))
		abort();
	/* run small inputs: a valid model must never crash the executor
	 * (skipped when its tensors would be huge: fuzzer memory limits) */
	size_t chans = 0;
	for (int t = 0; t < m->n_tensors; t++)
		chans += (size_t)m->tensors[t].c;
	for (int hw = 8; hw <= 32 && chans * 64 * 64 * 4 < ((size_t)256 << 20); hw *= 2)
		run_paths(m, hw);
	qnn_model_free(m);
	return 0;
}
