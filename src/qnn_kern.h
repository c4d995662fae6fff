/* qnn_kern.h - private interface between the executor (qnn.c) and its
 * kernels: the scalar reference (qnn_kern.c), AVX2 (qnn_avx2.c) and
 * AVX-512 VNNI (qnn_avx512.c). Not installed; library-internal. */
#ifndef EMOTOP_QNN_KERN_H
#define EMOTOP_QNN_KERN_H

#include <stdint.h>

#include "emotop/qnn.h"

/* A dense (groups == 1) conv prepared at context creation for one SIMD
 * path. The kernel reads a prepared input: rows of wp pixels of c4
 * elements each (channels zero-padded to a multiple of 4, spatial border
 * filled with the input zero point), or an im2col buffer (kh = kw = 1,
 * stride 1, c4 = kh*kw*cin rounded up to 4; for a gray8 layer with kw <= 4,
 * "row4", c4 = 4*kh: each kernel row in 4 pixels, zero weights past kw).
 * Output channels are handled in
 * blocks of 16 (nb blocks; weights of the padding channels are 0). */
struct qnn_convk {
	int kh, kw, stride;     /* as the kernel sees them */
	int c4;                 /* elements per prepared input pixel, multiple of 4 */
	int cout, nb;           /* output channels, 16-channel blocks */
	int float_out;
	const void *w;          /* packed weights, see the path's packer */
	const int32_t *bias;    /* [nb*16] bias - z_in * sum(w), wrapping */
	const int32_t *mult;    /* [nb*16] requantization, see qnn_requantize() */
	const int32_t *lsh;     /* [nb*16] left shift = max(shift, 0) */
	const int32_t *rsh;     /* [nb*16] right shift = max(-shift, 0) */
	const int32_t *rmask;   /* [nb*16] (1 << rsh) - 1 */
	const float *fscale;    /* [nb*16] float_out: s_in * w_scale[c] */
	int32_t zout, lo;       /* output zero point; clamp floor (z_out if relu) */
	int pad;                /* depthwise only: the layer's padding */
	int32_t zin;            /* depthwise only: input zero point */
};

/* A depthwise conv (groups == cin == cout) uses the same struct for
 * qnn_dwconv_avx2(), which reads its input in place (no prepared copy):
 * kh, kw, stride and pad are the layer's, c4 is unused (0), cout is the
 * channel count, w is int16 [nb][(kh*kw + 1) / 2][2][16]: taps t = 2p and
 * 2p + 1 (t = ky*kw + kx; past kh*kw, weight 0) of 16 channels, interleaved
 * as vpunpcklwd (half 0) and vpunpckhwd (half 1) interleave two vectors of
 * 16 channels: element e of half hf is channel 8*(e/8) + 4*hf + (e%8)/2 of
 * tap 2p + e%2. bias is the model's (not folded: the kernel subtracts zin
 * from the input, or for 3x3 adds -zin * sum(w) to its accumulators at run
 * time); mult, lsh, rsh, rmask and fscale as for a dense conv. */

/* Element offsets into a prepared input (rows of wp pixels of c elements)
 * of the P output pixels i0, i0 + 1, ... of a conv with this stride, the
 * ones past np repeating the last: one division per tile, not per pixel. */
static inline void qnn_tile_index(int i0, int np, int P, int ow, int wp, int stride, int c, size_t *idx)
{
	int oy = i0 / ow, ox = i0 - oy * ow;

	for (int p = 0; p < P; p++) {
		idx[p] = ((size_t)oy * stride * wp + (size_t)ox * stride) * c;
		if (p + 1 < np && ++ox == ow) {
			ox = 0;
			oy++;
		}
	}
}

/* Packed weight layouts, w[co][k] with k = (ky*kw + kx)*c4 + ci:
 *  VNNI: int8  [nb][kh*kw][c4/4][16][4]
 *  AVX2: int16 [nb][kh*kw][c4/2][16][2]
 * out: oh*ow pixels of cout uint8 (or float when float_out), dense HWC. */
void qnn_conv_vnni(const struct qnn_convk *k, const uint8_t *in, int wp, int oh, int ow,
		   void *out);
void qnn_conv_avx2(const struct qnn_convk *k, const int16_t *in, int wp, int oh, int ow,
		   void *out);
/* How a kernel addresses its input, in bytes: conv output pixel (oy, ox)
 * starts at oy*stride*row + ox*stride*pix, its tap (ky, kx) is ky*row +
 * kx*pix further and the tap's 4-byte group g (of c4/4) g*grp further.
 * A prepared input: row = wp*c4, pix = c4, grp = 4, stride = k->stride.
 * A row4 layer read in place from a padded gray8 image of row elements per
 * line (kh = kw = 1 to the kernel, c4 = 4 * the layer's kh): pix = 1,
 * grp = row, stride = the layer's stride. On AVX2 elements are int16 and
 * the pair of elements g (even) of a tap is at (g / 4) * grp + g % 4. */
struct qnn_inview {
	size_t row, pix, grp;
	int stride;
};

/* The VNNI conv followed by a 2x2 / stride 2 max pool: ph x pw pooled pixels
 * out, the input addressed through v. Only for non-negative multipliers
 * without a left shift (the requantization must be monotone), nb <= 2. */
void qnn_conv_pool_vnni(const struct qnn_convk *k, const uint8_t *in, const struct qnn_inview *v,
			int ph, int pw, void *out);
/* The same on AVX2, on a prepared int16 input (v in elements). */
void qnn_conv_pool_avx2(const struct qnn_convk *k, const int16_t *in, const struct qnn_inview *v,
			int ph, int pw, void *out);
/* dst[i] = src[i] for i < n: bytes widened to the AVX2 kernels' int16. */
void qnn_widen_avx2(int16_t *dst, const uint8_t *src, size_t n);

/* Float conv on a prepared float input (rows of wp pixels of cin floats,
 * border 0.0): weights [nb][kh*kw][cin][16] already scaled, bias [nb*16]. */
struct qnn_fconvk {
	int kh, kw, stride, cin, cout, nb, relu;
	const float *w, *bias;
};
void qnn_fconv_ref(const struct qnn_fconvk *k, const float *in, int wp, int oh, int ow,
		   float *out);
void qnn_fconv_avx2(const struct qnn_fconvk *k, const float *in, int wp, int oh, int ow,
		    float *out);
void qnn_fconv_avx512(const struct qnn_fconvk *k, const float *in, int wp, int oh, int ow,
		      float *out);

/* Scalar reference kernels, straight from the semantics in qnn.h. Inputs
 * are h x w x c with a row stride in bytes (in_stride); outputs dense. */
void qnn_ref_conv(const struct qnn_layer *l, const struct qnn_tensor *ti,
		  const struct qnn_tensor *to, const uint8_t *in, int h, int w, int in_stride,
		  int oh, int ow, void *out);
void qnn_ref_maxpool(const struct qnn_layer *l, const uint8_t *in, int h, int w, int in_stride,
		     int oh, int ow, uint8_t *out);
void qnn_ref_gap(const struct qnn_layer *l, const struct qnn_tensor *ti, const uint8_t *in,
		 int h, int w, int in_stride, uint8_t *out);
void qnn_ref_add(const struct qnn_layer *l, const struct qnn_tensor *ti,
		 const struct qnn_tensor *ti2, const struct qnn_tensor *to, const uint8_t *a,
		 int a_stride, const uint8_t *b, int b_stride, int h, int w, uint8_t *out);
void qnn_ref_upsample2(const struct qnn_layer *l, const uint8_t *in, int h, int w,
		       int in_stride, uint8_t *out);
void qnn_maxpool_avx2(const struct qnn_layer *l, const uint8_t *in, int h, int w,
		      int in_stride, int oh, int ow, uint8_t *out);
/* AVX2 twins of qnn_ref_conv() for a depthwise layer (k as above; in, h, w,
 * in_stride, oh, ow, out as for the reference), of qnn_ref_gap() and of
 * qnn_ref_add(): bit-identical to them for every input. */
void qnn_dwconv_avx2(const struct qnn_convk *k, const uint8_t *in, int h, int w, int in_stride,
		     int oh, int ow, void *out);
void qnn_gap_avx2(const struct qnn_layer *l, const struct qnn_tensor *ti, const uint8_t *in,
		  int h, int w, int in_stride, uint8_t *out);
void qnn_add_avx2(const struct qnn_layer *l, const struct qnn_tensor *ti,
		  const struct qnn_tensor *ti2, const struct qnn_tensor *to, const uint8_t *a,
		  int a_stride, const uint8_t *b, int b_stride, int h, int w, uint8_t *out);

/* Float reference of the non-conv layers (dense float tensors). */
void qnn_fref_dwconv(const struct qnn_layer *l, const struct qnn_tensor *ti, const float *in,
		     int h, int w, int oh, int ow, float *out);
void qnn_fref_maxpool(const struct qnn_layer *l, const float *in, int h, int w, int oh, int ow,
		      float *out);
void qnn_fref_gap(const struct qnn_layer *l, const float *in, int h, int w, float *out);
void qnn_fref_add(const struct qnn_layer *l, const float *a, const float *b, int h, int w,
		  float *out);
void qnn_fref_upsample2(const struct qnn_layer *l, const float *in, int h, int w, float *out);

#endif
