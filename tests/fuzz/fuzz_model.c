/* fuzz_model.c - libFuzzer target for the model loader (not part of make
 * test). Every input must load or be refused with an error, never crash;
 * a model that loads must also validate, get a context and run. Inputs
 * whose first byte is odd get their size field and CRC fixed up first, so
 * the fuzzer also reaches the field validator behind the checksum.
 *
 *   make fuzz [FUZZ_SECONDS=60]     (clang; builds build/fuzz/fuzz_model and
 *                                    runs it on a corpus of the shipped models)
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
	for (int hw = 8; hw <= 32 && chans * 64 * 64 * 4 < ((size_t)256 << 20); hw *= 2) {
		struct qnn_ctx *x = qnn_ctx_new(m, hw, hw, QNN_PATH_AUTO, &err);
		if (!x)
			continue;
		size_t n = (size_t)hw * hw * (size_t)m->tensors[0].c;
		uint8_t *in = calloc(n ? n : 1, 1);
		if (in) {
			qnn_run(x, in, hw, hw, hw * m->tensors[0].c);
			qnn_run_float(x, in, hw, hw, hw * m->tensors[0].c);
		}
		free(in);
		qnn_ctx_free(x);
	}
	qnn_model_free(m);
	return 0;
}
