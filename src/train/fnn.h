/* fnn.h - float32 layers for training (emotop-train only; never linked into
 * emotop). A network is a sequence of layers over NHWC batches; each layer
 * has forward/backward through a small vtable and owns its parameters,
 * gradients and saved activations. Convolutions are im2col + OpenBLAS sgemm
 * over the whole batch, depthwise ones direct loops; element-wise loops use
 * OpenMP.
 *
 * Ownership: fnn_new() returns a network that owns every buffer; free with
 * fnn_free(). Buffers for a batch are (re)allocated by fnn_reserve().
 */
#ifndef EMOTOP_TRAIN_FNN_H
#define EMOTOP_TRAIN_FNN_H

#include <stdint.h>
#include <stdio.h>

enum fnn_type {
	FNN_CONV = 1,    /* kh x kw conv, stride, pad; bias used only without BN */
	FNN_BN = 2,      /* batch norm over N*H*W per channel */
	FNN_RELU = 3,
	FNN_MAXPOOL = 4, /* k x k, stride k */
	FNN_DROPOUT = 5,
	FNN_GAP = 6,     /* global average pool */
	FNN_DWCONV = 7,  /* depthwise kh x kw conv: output channel c filters input
			  * channel c only (cout == in.c); no bias (BN follows) */
};

struct fnn_shape {
	int h, w, c;
};

struct fnn_param {
	float *w, *g;       /* value, gradient (n floats each) */
	float *m, *v;       /* optimizer state (momentum / Adam moments) */
	long n;
	int decay;          /* apply weight decay */
};

struct fnn_layer {
	enum fnn_type type;
	struct fnn_shape in, out;
	/* conv */
	int kh, kw, stride, pad, cout, has_bias;
	float *w, *b;         /* [cout][kh][kw][cin], [cout]; depthwise: w is
			       * [cout][kh][kw] (the int8 engine's [cout][kh][kw][1])
			       * and b is NULL */
	float *gw, *gb;
	/* bn */
	float *gamma, *beta, *ggamma, *gbeta, *rmean, *rvar;
	float *bmean, *binvstd; /* batch statistics saved by forward */
	float *xhat;            /* normalised input saved by forward */
	/* maxpool / dropout */
	int k;
	float p;
	int32_t *argmax;
	uint8_t *mask;
	/* activations: output of this layer for the current batch, and the
	 * gradient w.r.t. it */
	float *y, *dy;
};

struct fnn {
	int n_layers;
	struct fnn_layer *layers;
	struct fnn_shape in;
	int n_out;            /* outputs of the last layer (h*w*c) */
	int batch;            /* reserved batch size */
	float *col;           /* shared im2col scratch */
	long col_size;
	int n_params;
	struct fnn_param params[256];
	char arch[512];       /* the spec it was built from */
	uint64_t rng;         /* dropout RNG state (saved in checkpoints) */
	int opt;              /* enum fnn_opt: whose state params[].m/v hold */
	float bn_momentum;    /* of the BN running statistics in training-mode
			       * forward passes; 0: the default, 0.1 */
};

/* Build from an architecture spec, a comma-separated list:
 *   cN     conv3x3 pad 1 -> N channels, then BN and ReLU
 *   cN/s2  same with stride 2
 *   kN     conv1x1 -> N, BN, ReLU
 *   w      depthwise conv3x3 pad 1 (channels unchanged, one 3x3 kernel per
 *          channel, He-normal with fan-in 9), then BN and ReLU; with kN after
 *          it, a MobileNet block
 *   w/s2   same with stride 2
 *   p      maxpool 2x2
 *   g      global average pool
 *   dP     dropout with probability P (e.g. d0.4)
 *   fN     fully connected -> N, BN, ReLU
 *   oN     output: fully connected -> N logits (bias, no BN, no ReLU)
 *   hN     output head: conv1x1 -> N maps (bias, no BN, no ReLU)
 * e.g. "c32,c32,p,c64,c64,p,c128,c128,p,c256,c256,p,d0.4,f256,d0.4,o7".
 * Weights get He-normal init from seed. Returns NULL on a bad spec (message
 * on stderr). */
struct fnn *fnn_new(const char *arch, struct fnn_shape in, uint64_t seed);
void fnn_free(struct fnn *net);

/* Make room for batches of up to n. Returns 0 or -1 (out of memory). */
int fnn_reserve(struct fnn *net, int n);

/* Forward n inputs (NHWC floats). train: batch statistics + dropout, else
 * running statistics. Returns the last layer's output [n][n_out]. */
const float *fnn_forward(struct fnn *net, const float *x, int n, int train);

/* Backward from dlogits [n][n_out] (gradients are accumulated into g,
 * call fnn_zero_grad first). */
void fnn_backward(struct fnn *net, const float *x, const float *dlogits, int n);
void fnn_zero_grad(struct fnn *net);

/* Softmax cross-entropy with label smoothing and per-class weights
 * (NULL = 1). Writes dlogits (already divided by the weight sum), returns
 * the mean loss; *correct counts argmax hits. */
float fnn_softmax_xent(const float *logits, const int *labels, int n, int k, float smooth,
		       const float *class_w, float *dlogits, int *correct);

/* Knowledge distillation's term (Hinton et al. 2015): the cross-entropy of
 * softmax(logits / T) against the target probabilities target [n][k]
 * (a teacher's, at the same temperature), times T^2 so that its gradient
 * keeps its scale as T grows, averaged over the n rows. Writes its
 * gradient with respect to the logits into dlogits (already divided by
 * n) when non-NULL; returns the loss. */
float fnn_soft_xent(const float *logits, const float *target, int n, int k, float T,
		    float *dlogits);

/* FNN_OPT_NONE: no optimizer state (a new net, or a checkpoint saved
 * without it); FNN_OPT_UNKNOWN: moments from a checkpoint older than the
 * record of the optimizer (EMOFNN01). */
enum fnn_opt { FNN_OPT_NONE = -1, FNN_SGD = 0, FNN_ADAMW = 1, FNN_OPT_UNKNOWN = 2 };
/* One optimizer step over all parameters (t counts steps from 1); net->opt
 * becomes opt. */
void fnn_step(struct fnn *net, enum fnn_opt opt, float lr, float momentum, float wd, long t);
/* Zero the optimizer state (net->opt becomes FNN_OPT_NONE). */
void fnn_reset_opt(struct fnn *net);
/* Is an optimizer state whose type is `have` (net->opt after fnn_load) one
 * that a resumed run with optimizer `want` may continue? 0 yes, or -1 with a
 * message on stderr naming path and the flag (reset_flag) that starts the
 * optimizer afresh instead. FNN_OPT_UNKNOWN (EMOFNN01) is taken as want,
 * with a note. */
int fnn_resume_check(const struct fnn *net, const char *path, enum fnn_opt want,
		     const char *reset_flag);

/* Checkpoint: params, BN running stats, the dropout RNG state, optimizer
 * state (with_opt: the moments and which optimizer they belong to) and
 * extra user bytes (training state). Written to a temporary file beside
 * path, synced and renamed over it: on failure path is left as it was.
 * Returns 0 or -1 with a message on stderr. */
int fnn_save(const struct fnn *net, const char *path, const void *extra, uint32_t extra_len,
	     int with_opt);
/* Load a checkpoint into a network built from the same arch (the arch is
 * stored in the file; fnn_load_arch reads it first). extra NULL skips the
 * stored extra bytes; had_opt may be NULL. net->opt says whose optimizer
 * state was loaded (FNN_OPT_NONE: none, the moments are zeroed); net->rng
 * is restored from checkpoints that store it (not EMOFNN01 ones). */
int fnn_load_arch(const char *path, char *arch, size_t len);
int fnn_load(struct fnn *net, const char *path, void *extra, uint32_t extra_len, int *had_opt);

/* Widen src into dst without changing what it computes (Net2WiderNet,
 * Chen et al. 2016): dst is built from src's spec with some conv/fc widths
 * raised (same layers otherwise, same output). A new channel copies a random
 * old one (weights, BN parameters and statistics, optimizer moments) and the
 * next layer divides the input weights of each copied channel by its number
 * of copies, so dst computes src's function exactly in eval mode; `noise`
 * (relative, e.g. 0.01) on the copies' weights breaks their symmetry.
 * Networks with depthwise layers (w) are refused. Neither net is freed.
 * Returns 0, or -1 with a message on stderr. */
int fnn_grow(struct fnn *dst, struct fnn *src, uint64_t seed, float noise);
/* The extra bytes stored in a checkpoint: copied into buf (cap bytes),
 * their length in *len. Returns 0, or -1 with a message. */
int fnn_load_extra(const char *path, void *buf, uint32_t cap, uint32_t *len);

/* Weight averaging (SWA): avg's weights become the mean of those of the n
 * checkpoints at paths (each loaded into tmp, a net of the same spec), and
 * its batch-norm statistics are reset, to be measured again by training-mode
 * passes over training data. 0, or -1 with a message on stderr. */
int fnn_average(struct fnn *avg, struct fnn *tmp, const char *const *paths, int n);

long fnn_param_count(const struct fnn *net);
/* Multiply-accumulates of one forward pass of one input. */
double fnn_macs(const struct fnn *net);

#endif
