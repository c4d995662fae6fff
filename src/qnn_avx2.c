/* qnn_avx2.c - AVX2 kernels: int8 conv (bit-identical to qnn_ref_conv()),
 * the float conv of qnn_run_float() and maxpool. Compiled with function
 * target attributes; qnn.c calls them only when cpuid says so.
 *
 * The int8 conv widens activations to int16 when preparing its input and
 * keeps weights as int16, so vpmaddwd (int16 pairs -> int32) is exact;
 * vpmaddubsw would saturate at 2 * 255 * 127. A tile is 4 output pixels x
 * 16 output channels (8 ymm accumulators).
 */
#include <string.h>

#include "qnn_kern.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define TGT __attribute__((target("avx2,fma")))
#define INL static inline __attribute__((always_inline)) TGT

INL __m256i requant8(__m256i x, const struct qnn_convk *k, int co)
{
	const __m256i m = _mm256_loadu_si256((const __m256i *)(k->mult + co));
	const __m256i ls = _mm256_loadu_si256((const __m256i *)(k->lsh + co));
	const __m256i rs = _mm256_loadu_si256((const __m256i *)(k->rsh + co));
	const __m256i rm = _mm256_loadu_si256((const __m256i *)(k->rmask + co));
	const __m256i r = _mm256_set1_epi64x((long long)1 << 30);

	x = _mm256_sllv_epi32(x, ls);
	__m256i pe = _mm256_add_epi64(_mm256_mul_epi32(x, m), r);
	__m256i po = _mm256_add_epi64(
		_mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(m, 32)), r);
	pe = _mm256_srli_epi64(pe, 31);
	po = _mm256_slli_epi64(po, 1);
	x = _mm256_blend_epi32(pe, po, 0xAA);
	__m256i rem = _mm256_and_si256(x, rm);
	__m256i thr = _mm256_sub_epi32(_mm256_srli_epi32(rm, 1), _mm256_srai_epi32(x, 31));
	x = _mm256_srav_epi32(x, rs);
	/* cmpgt gives -1 where rounding up */
	return _mm256_sub_epi32(x, _mm256_cmpgt_epi32(rem, thr));
}

INL void store16(const struct qnn_convk *k, __m256i a0, __m256i a1, void *out, size_t pix, int co)
{
	const int n = k->cout - co < 16 ? k->cout - co : 16;

	if (k->float_out) {
		float t[16];
		float *o = (float *)out + pix * k->cout + co;
		_mm256_storeu_ps(t, _mm256_mul_ps(_mm256_cvtepi32_ps(a0), _mm256_loadu_ps(k->fscale + co)));
		_mm256_storeu_ps(t + 8,
				 _mm256_mul_ps(_mm256_cvtepi32_ps(a1), _mm256_loadu_ps(k->fscale + co + 8)));
		memcpy(o, t, (size_t)n * sizeof(float));
		return;
	}
	const __m256i z = _mm256_set1_epi32(k->zout), lo = _mm256_set1_epi32(k->lo);
	const __m256i hi = _mm256_set1_epi32(255);
	__m256i v0 = _mm256_add_epi32(requant8(a0, k, co), z);
	__m256i v1 = _mm256_add_epi32(requant8(a1, k, co + 8), z);
	v0 = _mm256_min_epi32(_mm256_max_epi32(v0, lo), hi);
	v1 = _mm256_min_epi32(_mm256_max_epi32(v1, lo), hi);
	__m256i v = _mm256_permute4x64_epi64(_mm256_packs_epi32(v0, v1), 0xD8);
	__m128i b = _mm_packus_epi16(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
	uint8_t *o = (uint8_t *)out + pix * k->cout + co;
	if (n == 16) {
		_mm_storeu_si128((__m128i *)o, b);
	} else {
		uint8_t t[16];
		_mm_storeu_si128((__m128i *)t, b);
		memcpy(o, t, (size_t)n);
	}
}

#define P2 4

static TGT void conv_block(const struct qnn_convk *k, const int16_t *in, int wp, int ow, int n,
			   int b, void *out)
{
	const int c4 = k->c4;
	const size_t wblock = (size_t)k->kh * k->kw * c4 * 16; /* int16 elements */

	for (int i0 = 0; i0 < n; i0 += P2) {
		const int np = n - i0 < P2 ? n - i0 : P2;
		const int16_t *px[P2];
		__m256i acc[P2][2];
		size_t idx[P2];
		qnn_tile_index(i0, np, P2, ow, wp, k->stride, c4, idx);
		for (int p = 0; p < P2; p++) {
			px[p] = in + idx[p];
			acc[p][0] = _mm256_loadu_si256((const __m256i *)(k->bias + 16 * b));
			acc[p][1] = _mm256_loadu_si256((const __m256i *)(k->bias + 16 * b + 8));
		}
		const int16_t *w = (const int16_t *)k->w + (size_t)b * wblock;
		for (int ky = 0; ky < k->kh; ky++)
			for (int kx = 0; kx < k->kw; kx++) {
				const size_t off = ((size_t)ky * wp + kx) * c4;
				const int16_t *q0 = px[0] + off, *q1 = px[1] + off, *q2 = px[2] + off,
					      *q3 = px[3] + off;
				for (int g = 0; g < c4; g += 2, w += 32) {
					const __m256i w0 = _mm256_loadu_si256((const __m256i *)w);
					const __m256i w1 = _mm256_loadu_si256((const __m256i *)(w + 16));
					int32_t a;
					__m256i av;
#define STEP(p, qp)                                                                                \
	memcpy(&a, qp + g, 4);                                                                     \
	av = _mm256_set1_epi32(a);                                                                 \
	acc[p][0] = _mm256_add_epi32(acc[p][0], _mm256_madd_epi16(av, w0));                        \
	acc[p][1] = _mm256_add_epi32(acc[p][1], _mm256_madd_epi16(av, w1));
					STEP(0, q0)
					STEP(1, q1)
					STEP(2, q2)
					STEP(3, q3)
#undef STEP
				}
			}
		for (int p = 0; p < np; p++)
			store16(k, acc[p][0], acc[p][1], out, (size_t)(i0 + p), 16 * b);
	}
}

TGT void qnn_conv_avx2(const struct qnn_convk *k, const int16_t *in, int wp, int oh, int ow,
		       void *out)
{
	for (int b = 0; b < k->nb; b++)
		conv_block(k, in, wp, ow, oh * ow, b, out);
}

/* Conv then 2x2 / stride 2 max pool in one pass (see qnn_conv_pool_vnni):
 * the four conv pixels of a pool window are accumulated side by side, only
 * their maximum is requantized and stored. The input (int16) is addressed
 * through v in elements: pair g of a tap at (g / 4) * grp + g % 4 (grp 4
 * for a prepared input, the row length for a row4 image read in place). */
TGT void qnn_conv_pool_avx2(const struct qnn_convk *k, const int16_t *in, const struct qnn_inview *v,
			    int ph, int pw, void *out)
{
	const int c4 = k->c4;
	const size_t wblock = (size_t)k->kh * k->kw * c4 * 16;

	for (int b = 0; b < k->nb; b++)
		for (int py = 0; py < ph; py++)
			for (int px = 0; px < pw; px++) {
				const int16_t *q[4];
				__m256i acc[4][2];
				for (int p = 0; p < 4; p++) {
					const int oy = 2 * py + (p >> 1), ox = 2 * px + (p & 1);
					q[p] = in + (size_t)oy * v->stride * v->row + (size_t)ox * v->stride * v->pix;
					acc[p][0] = _mm256_loadu_si256((const __m256i *)(k->bias + 16 * b));
					acc[p][1] = _mm256_loadu_si256((const __m256i *)(k->bias + 16 * b + 8));
				}
				const int16_t *w = (const int16_t *)k->w + (size_t)b * wblock;
				for (int ky = 0; ky < k->kh; ky++)
					for (int kx = 0; kx < k->kw; kx++) {
						const size_t off = (size_t)ky * v->row + (size_t)kx * v->pix;
						for (int g = 0; g < c4; g += 2, w += 32) {
							const __m256i w0 = _mm256_loadu_si256((const __m256i *)w);
							const __m256i w1 = _mm256_loadu_si256((const __m256i *)(w + 16));
							for (int p = 0; p < 4; p++) {
								int32_t a;
								memcpy(&a, q[p] + off + (size_t)(g >> 2) * v->grp + (g & 3), 4);
								const __m256i av = _mm256_set1_epi32(a);
								acc[p][0] = _mm256_add_epi32(acc[p][0], _mm256_madd_epi16(av, w0));
								acc[p][1] = _mm256_add_epi32(acc[p][1], _mm256_madd_epi16(av, w1));
							}
						}
					}
				store16(k,
					_mm256_max_epi32(_mm256_max_epi32(acc[0][0], acc[1][0]),
							 _mm256_max_epi32(acc[2][0], acc[3][0])),
					_mm256_max_epi32(_mm256_max_epi32(acc[0][1], acc[1][1]),
							 _mm256_max_epi32(acc[2][1], acc[3][1])),
					out, (size_t)py * pw + px, 16 * b);
			}
}

/* Float conv: 4 pixels x 16 channels, FMA. */
TGT void qnn_fconv_avx2(const struct qnn_fconvk *k, const float *in, int wp, int oh, int ow,
			float *out)
{
	const int n = oh * ow, cin = k->cin;
	const size_t wblock = (size_t)k->kh * k->kw * cin * 16;
	const __m256 zero = _mm256_setzero_ps();

	for (int b = 0; b < k->nb; b++) {
		const int cn = k->cout - 16 * b < 16 ? k->cout - 16 * b : 16;
		for (int i0 = 0; i0 < n; i0 += 4) {
			const int np = n - i0 < 4 ? n - i0 : 4;
			const float *px[4];
			__m256 acc[4][2];
			size_t idx[4];
			qnn_tile_index(i0, np, 4, ow, wp, k->stride, cin, idx);
			for (int p = 0; p < 4; p++) {
				px[p] = in + idx[p];
				acc[p][0] = _mm256_loadu_ps(k->bias + 16 * b);
				acc[p][1] = _mm256_loadu_ps(k->bias + 16 * b + 8);
			}
			const float *w = k->w + b * wblock;
			for (int ky = 0; ky < k->kh; ky++)
				for (int kx = 0; kx < k->kw; kx++) {
					const size_t off = ((size_t)ky * wp + kx) * cin;
					for (int ci = 0; ci < cin; ci++, w += 16) {
						const __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8);
						for (int p = 0; p < 4; p++) {
							__m256 x = _mm256_broadcast_ss(px[p] + off + ci);
							acc[p][0] = _mm256_fmadd_ps(x, w0, acc[p][0]);
							acc[p][1] = _mm256_fmadd_ps(x, w1, acc[p][1]);
						}
					}
				}
			for (int p = 0; p < np; p++) {
				float t[16];
				__m256 a0 = acc[p][0], a1 = acc[p][1];
				if (k->relu) {
					a0 = _mm256_max_ps(a0, zero);
					a1 = _mm256_max_ps(a1, zero);
				}
				_mm256_storeu_ps(t, a0);
				_mm256_storeu_ps(t + 8, a1);
				memcpy(out + (size_t)(i0 + p) * k->cout + 16 * b, t, (size_t)cn * sizeof(float));
			}
		}
	}
}

TGT void qnn_maxpool_avx2(const struct qnn_layer *l, const uint8_t *in, int h, int w,
			  int in_stride, int oh, int ow, uint8_t *out)
{
	const int c = l->cin;

	for (int oy = 0; oy < oh; oy++)
		for (int ox = 0; ox < ow; ox++) {
			uint8_t *o = out + ((size_t)oy * ow + ox) * c;
			/* the window clipped to the input, once per output pixel */
			const int y0 = oy * l->stride - l->pad, x0 = ox * l->stride - l->pad;
			const int ya = y0 < 0 ? 0 : y0, yb = y0 + l->kh > h ? h : y0 + l->kh;
			const int xa = x0 < 0 ? 0 : x0, xb = x0 + l->kw > w ? w : x0 + l->kw;
			const uint8_t *p0 = in + (size_t)ya * in_stride + (size_t)xa * c;
			const int ny = yb - ya, nx = xb - xa;
#define POOL_AT(j, i, k) (p0 + (size_t)(j) * in_stride + (size_t)(i) * c + (k))
			int k = 0;
			for (; k + 32 <= c; k += 32) {
				__m256i m = _mm256_setzero_si256();
				for (int j = 0; j < ny; j++)
					for (int i = 0; i < nx; i++)
						m = _mm256_max_epu8(m, _mm256_loadu_si256((const __m256i *)POOL_AT(j, i, k)));
				_mm256_storeu_si256((__m256i *)(o + k), m);
			}
			for (; k + 16 <= c; k += 16) { /* 16 channels: a detector's first layers */
				__m128i m = _mm_setzero_si128();
				for (int j = 0; j < ny; j++)
					for (int i = 0; i < nx; i++)
						m = _mm_max_epu8(m, _mm_loadu_si128((const __m128i *)POOL_AT(j, i, k)));
				_mm_storeu_si128((__m128i *)(o + k), m);
			}
			for (; k < c; k++) {
				uint8_t m = 0;
				for (int j = 0; j < ny; j++)
					for (int i = 0; i < nx; i++)
						m = *POOL_AT(j, i, k) > m ? *POOL_AT(j, i, k) : m;
				o[k] = m;
			}
#undef POOL_AT
		}
}

#else
void qnn_conv_pool_avx2(const struct qnn_convk *k, const int16_t *in, const struct qnn_inview *v,
			int ph, int pw, void *out)
{
	(void)k, (void)in, (void)v, (void)ph, (void)pw, (void)out;
}
void qnn_conv_avx2(const struct qnn_convk *k, const int16_t *in, int wp, int oh, int ow,
		   void *out)
{
	(void)k, (void)in, (void)wp, (void)oh, (void)ow, (void)out;
}
void qnn_fconv_avx2(const struct qnn_fconvk *k, const float *in, int wp, int oh, int ow,
		    float *out)
{
	qnn_fconv_ref(k, in, wp, oh, ow, out);
}
void qnn_maxpool_avx2(const struct qnn_layer *l, const uint8_t *in, int h, int w,
		      int in_stride, int oh, int ow, uint8_t *out)
{
	qnn_ref_maxpool(l, in, h, w, in_stride, oh, ow, out);
}
#endif
