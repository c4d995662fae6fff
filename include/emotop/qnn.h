/* qnn.h - the int8 neural-network engine: model representation, loader,
 * writer and executor. Library code: no terminal, no FFmpeg.
 *
 * Quantization scheme (TFLite/gemmlowp style):
 *  - activation tensors are uint8 with a per-tensor scale s and zero point z:
 *    real = s * (q - z). Tensor 0 is the network input (the image, gray8 or
 *    HWC uint8), laid out HWC, one image at a time.
 *  - conv weights are int8, symmetric (zero point 0), one scale per output
 *    channel; BatchNorm is folded into weights and bias by the trainer.
 *  - conv: acc[c] = bias[c] + sum_k (q_in - z_in) * w[c][k]      (int32)
 *          q_out   = clamp(z_out + qnn_requantize(acc, mult[c], shift[c]),
 *                          relu ? z_out : 0, 255)
 *    mult/shift encode M = s_in * w_scale[c] / s_out as in TFLite's
 *    MultiplyByQuantizedMultiplier: mult in [2^30, 2^31) (0 when M == 0),
 *    shift > 0 is a left shift, < 0 a right shift with round-half-away.
 *  - a conv with float_out set writes float32 (acc * s_in * w_scale[c]),
 *    used for logits and detector heads; its out tensor scale is ignored.
 *    Accumulation wraps modulo 2^32 (the validator bounds K so that the sum
 *    alone never wraps; keep |bias| well below 2^31, e.g. give channels with
 *    all-zero weights w_scale 1 rather than a tiny one); the left shift of a
 *    positive shift wraps too, and so does z_out plus the requantized value
 *    (and an add's sum of two). Every kernel path wraps identically.
 *  - add: q_out = clamp(z_out + requant(q_in - z_in, add_mult[0], add_shift[0])
 *                       + requant(q_in2 - z_in2, add_mult[1], add_shift[1]),
 *                       relu ? z_out : 0, 255)
 *  - maxpool and global average pool keep the scale and zero point of their
 *    input (gap rounds half away from zero: (sum + n/2) / n on q - z, + z).
 *  - a fully connected layer is a conv whose kernel covers its whole input
 *    (kh = H, kw = W, pad 0); weights are always [cout][kh][kw][cin/groups].
 *
 * Ownership: a struct qnn_model from qnn_model_load*() owns all its arrays
 * and is freed with qnn_model_free(). It is read-only after load, so several
 * contexts (threads) may share one. A struct qnn_ctx owns its arena.
 */
#ifndef EMOTOP_QNN_H
#define EMOTOP_QNN_H

#include <stddef.h>
#include <stdint.h>

#include "emotop/err.h"

#define QNN_MAX_TENSORS 256
#define QNN_MAX_LAYERS 256
/* Largest tensor, in elements (h * w * c), the input included: a context
 * whose maximum size would need more is refused. */
#define QNN_MAX_ELEMS (1 << 30)
#define QNN_META_MAX 4096

enum qnn_layer_type {
	QNN_CONV = 1,       /* conv / depthwise (groups == cin == cout) / FC */
	QNN_MAXPOOL = 2,    /* kh x kw window, stride, pad (padding never wins) */
	QNN_GAP = 3,        /* global average pool: H x W x C -> 1 x 1 x C */
	QNN_ADD = 4,        /* out = requant(in - z_in) + requant(in2 - z_in2); relu optional */
	QNN_UPSAMPLE2 = 5,  /* nearest-neighbour x2; keeps scale and zero point */
};

struct qnn_tensor {
	float scale;        /* real = scale * (q - zero_point) */
	int32_t zero_point; /* 0..255 */
	int32_t c;          /* channels; H and W follow from the input size */
};

struct qnn_layer {
	uint32_t type;      /* enum qnn_layer_type */
	int32_t in, in2;    /* input tensor ids (in2 = -1 unless QNN_ADD) */
	int32_t out;        /* output tensor id (> in, each written once) */
	int32_t kh, kw, stride, pad; /* conv/maxpool; symmetric zero padding */
	int32_t groups;     /* conv: 1, or cin for depthwise */
	int32_t relu;       /* clamp at the output zero point */
	int32_t float_out;  /* conv only: output float32 instead of uint8 */
	int32_t cin, cout;
	/* conv only (NULL otherwise), each owned by the model: */
	int8_t *w;          /* [cout][kh][kw][cin/groups] */
	int32_t *bias;      /* [cout], in units of s_in * w_scale[c] */
	int32_t *mult;      /* [cout] */
	int32_t *shift;     /* [cout] */
	float *w_scale;     /* [cout] */
	/* QNN_ADD only: requantize each input to the output scale */
	int32_t add_mult[2], add_shift[2];
};

struct qnn_model {
	int32_t n_tensors, n_layers;
	struct qnn_tensor tensors[QNN_MAX_TENSORS];
	struct qnn_layer layers[QNN_MAX_LAYERS];
	char meta[QNN_META_MAX]; /* NUL-terminated "key=value\n" lines: task,
				    input size, labels, detector decoding... */
};

enum qnn_path {
	QNN_PATH_AUTO = 0,  /* best the CPU supports */
	QNN_PATH_SCALAR = 1,
	QNN_PATH_AVX2 = 2,
	QNN_PATH_AVX512VNNI = 3,
};

/* Compute mult/shift for a real multiplier M >= 0 (TFLite QuantizeMultiplier). */
void qnn_quantize_multiplier(double m, int32_t *mult, int32_t *shift);
/* The reference requantization: round(acc * M) as described above. */
int32_t qnn_requantize(int32_t acc, int32_t mult, int32_t shift);

/* Check every field, bound and tensor reference of a model in memory.
 * Returns EMO_OK or EMO_EFORMAT with the reason in *err. */
int qnn_model_validate(const struct qnn_model *m, struct emo_err *err);

/* Load from a file / from memory (the embedded models). On success *out is a
 * new model (free with qnn_model_free); on error *out is NULL, *err says why
 * (EMO_EIO, EMO_EFORMAT, EMO_EVERSION, EMO_ECHECKSUM, EMO_ENOMEM). */
int qnn_model_load(const char *path, struct qnn_model **out, struct emo_err *err);
int qnn_model_load_mem(const void *buf, size_t len, const char *name,
		       struct qnn_model **out, struct emo_err *err);
/* Write a model (validated first). Arrays stay owned by the caller. The
 * file is written to a temporary file in the same folder, synced and renamed
 * over path, so that on any error (EMO_EIO, EMO_ENOMEM, EMO_EINVAL) path is
 * left as it was. */
int qnn_model_save(const struct qnn_model *m, const char *path, struct emo_err *err);
/* Free a model from qnn_model_load*() or a model whose arrays were malloc'ed;
 * NULL-safe. */
void qnn_model_free(struct qnn_model *m);
/* Look up "key=value" in meta; copies value into buf, returns EMO_OK or EMO_EINVAL. */
int qnn_meta_get(const struct qnn_model *m, const char *key, char *buf, size_t len);

/* Execution context for inputs up to max_h x max_w (HWC, tensors[0].c
 * channels). All memory is allocated here, none per run. Returns new ctx
 * (free with qnn_ctx_free) or NULL with *err set (EMO_EINVAL: a layer's
 * window does not fit, or a tensor would be above QNN_MAX_ELEMS). The model
 * must outlive it. */
struct qnn_ctx *qnn_ctx_new(const struct qnn_model *m, int max_h, int max_w,
			    enum qnn_path path, struct emo_err *err);
void qnn_ctx_free(struct qnn_ctx *ctx);
enum qnn_path qnn_ctx_path(const struct qnn_ctx *ctx);
const char *qnn_path_name(enum qnn_path path);
/* Best path this CPU supports (cpuid + OS xsave check), capped by the
 * environment variable EMOTOP_QNN_PATH=scalar|avx2|vnni when set. */
enum qnn_path qnn_best_path(void);
/* Whether this CPU can run path (AUTO and SCALAR always can). */
int qnn_path_supported(enum qnn_path path);

/* Run on an h x w input (row stride in bytes, HWC uint8). Returns EMO_OK or
 * EMO_EINVAL (bigger than the context, or too small for a layer's window).
 * A failed run changes nothing: tensors and shapes stay those of the last
 * run that succeeded. */
int qnn_run(struct qnn_ctx *ctx, const uint8_t *in, int h, int w, int stride);
/* Float path of the same network: dequantized weights and bias, float32
 * math and activations (no rounding to the uint8 grid); float_out tensors
 * and uint8 tensors are then readable as with qnn_run (uint8 ones quantized
 * from the float result: saturated to 0..255, and a NaN, as huge weight
 * scales may give, read as the zero point). For tests (int8 vs float
 * bound) and benchmarks. */
int qnn_run_float(struct qnn_ctx *ctx, const uint8_t *in, int h, int w, int stride);

/* Output tensor after a run: shape through h/w/c (any may be NULL). For a
 * float_out tensor returns float data via *f and NULL via *q; else the
 * reverse. Pointers are valid until the next run. Returns EMO_OK, EMO_EINVAL
 * (bad index, no run yet) or EMO_EUNSUPPORTED: an intermediate tensor the
 * last qnn_run() did not keep (the VNNI path runs a conv and the 2x2 max
 * pool after it in one pass; see qnn_ctx_keep_all()). */
int qnn_tensor_get(const struct qnn_ctx *ctx, int tensor, int *h, int *w, int *c,
		   const uint8_t **q, const float **f);

/* on != 0: keep every tensor (no conv + pool fusion) in later runs, for
 * inspecting intermediate tensors; results are the same either way. */
void qnn_ctx_keep_all(struct qnn_ctx *ctx, int on);

/* Per-layer profiling: when ns is non-NULL (m->n_layers entries, owned by
 * the caller), every later run adds each layer's time in nanoseconds
 * (thread CPU time) to ns[layer]. NULL turns it off. A max pool run inside
 * the conv before it (VNNI) counts in that conv's entry and adds 0. */
void qnn_ctx_profile(struct qnn_ctx *ctx, uint64_t *ns);

/* Multiply-accumulates of one run at h x w (for benchmarks). */
uint64_t qnn_macs(const struct qnn_model *m, int h, int w);

#endif
