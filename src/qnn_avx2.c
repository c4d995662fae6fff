/* qnn_avx2.c - AVX2 kernels: int8 conv, dense and depthwise (bit-identical
 * to qnn_ref_conv()), global average pool and add (to qnn_ref_gap() and
 * qnn_ref_add()), the float conv of qnn_run_float() and maxpool. Compiled
 * with function target attributes; qnn.c calls them only when cpuid says so.
 *
 * The int8 conv widens activations to int16 when preparing its input and
 * keeps weights as int16, so vpmaddwd (int16 pairs -> int32) is exact;
 * vpmaddubsw would saturate at 2 * 255 * 127. A tile is 4 output pixels x
 * 16 output channels (8 ymm accumulators).
 *
 * The depthwise conv reads its input in place and pairs taps of one
 * channel through vpmaddwd. A 3x3 kernel of stride 1 or 2 splits each
 * output row: interior pixels, two at a time, load without checks (each
 * block's last safe column is computed once per row) on raw q, with
 * -z_in * sum(w) folded into the accumulators' start; border pixels check
 * every tap. Other kernels go pixel by pixel with every check.
 */
#include <stddef.h>
#include <string.h>

#include "qnn_kern.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define TGT __attribute__((target("avx2,fma")))
#define INL static inline __attribute__((always_inline)) TGT

/* qnn_requantize() on 8 lanes, bit for bit: multiplier m, left shift ls,
 * right shift rs and its mask rm = (1 << rs) - 1 per lane. */
INL __m256i requant_v(__m256i x, __m256i m, __m256i ls, __m256i rs, __m256i rm)
{
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

/* Output channels co..co + 7 of a conv's accumulators requantized. */
INL __m256i requant8(__m256i x, const struct qnn_convk *k, int co)
{
	return requant_v(x, _mm256_loadu_si256((const __m256i *)(k->mult + co)),
			 _mm256_loadu_si256((const __m256i *)(k->lsh + co)),
			 _mm256_loadu_si256((const __m256i *)(k->rsh + co)),
			 _mm256_loadu_si256((const __m256i *)(k->rmask + co)));
}

/* 16 int32 (v0 then v1) clamped to lo..255, as 16 bytes in order. */
INL __m128i pack_u8(__m256i v0, __m256i v1, __m256i lo)
{
	const __m256i hi = _mm256_set1_epi32(255);

	v0 = _mm256_min_epi32(_mm256_max_epi32(v0, lo), hi);
	v1 = _mm256_min_epi32(_mm256_max_epi32(v1, lo), hi);
	__m256i v = _mm256_permute4x64_epi64(_mm256_packs_epi32(v0, v1), 0xD8);
	return _mm_packus_epi16(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
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
	const __m128i b = pack_u8(_mm256_add_epi32(requant8(a0, k, co), z),
				  _mm256_add_epi32(requant8(a1, k, co + 8), z), lo);
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

/* 16 bytes at p, of which the first n (<= 16) are wanted; when fewer than 16
 * bytes are left before end (the end of the tensor's last row), the others
 * read as 0 instead of past the buffer. */
INL __m128i load_upto16(const uint8_t *p, const uint8_t *end, int n)
{
	uint8_t t[16] = {0};

	if (end - p >= 16)
		return _mm_loadu_si128((const __m128i *)p);
	memcpy(t, p, (size_t)n);
	return _mm_loadu_si128((const __m128i *)t);
}

/* Adds one pair of depthwise taps (x0, x1: 16 channels as int16, q - z_in
 * or q, so each in -255..255) to the accumulators: lo holds channels 0-3 and 8-11, hi 4-7 and
 * 12-15, in the order vpunpck{l,h}wd leave them (w: the pair's packed
 * weights, see qnn_kern.h). */
INL void dw_pair(__m256i x0, __m256i x1, const int16_t *w, __m256i *lo, __m256i *hi)
{
	const __m256i w0 = _mm256_loadu_si256((const __m256i *)w);
	const __m256i w1 = _mm256_loadu_si256((const __m256i *)(w + 16));

	*lo = _mm256_add_epi32(*lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(x0, x1), w0));
	*hi = _mm256_add_epi32(*hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(x0, x1), w1));
}

/* One output pixel (oy, ox), channels 16b..16b + 15 of a depthwise conv,
 * with every check: taps outside the input count 0 (as the reference skips
 * them), loads near the tensor's end go through load_upto16(). Taps are
 * paired through vpmaddwd on q - z_in as int16: a product is at most
 * 255 * 128 in magnitude and a pair's sum fits int32 exactly; the int32
 * additions (and the bias) wrap modulo 2^32 as the reference's uint32 sum
 * does, in any order. Channels past cout have weight 0 and are not stored.
 * end: the end of the tensor's last row. */
static TGT void dw_pixel(const struct qnn_convk *k, const uint8_t *in, int h, int w,
			 int in_stride, const uint8_t *end, int oy, int ox, int ow, int b, void *out)
{
	const int c = k->cout, np = (k->kh * k->kw + 1) / 2, co = 16 * b;
	const int n = c - co < 16 ? c - co : 16;
	const int iy0 = oy * k->stride - k->pad, ix0 = ox * k->stride - k->pad;
	const __m256i zi = _mm256_set1_epi16((short)k->zin), zero = _mm256_setzero_si256();
	const int16_t *wp = (const int16_t *)k->w + (size_t)b * np * 32;
	__m256i lo = zero, hi = zero, x0 = zero;
	int odd = 0; /* x0 holds a tap waiting for its pair */

	for (int ky = 0; ky < k->kh; ky++) {
		const int iy = iy0 + ky, rowok = iy >= 0 && iy < h;
		const uint8_t *row = in + (size_t)(rowok ? iy : 0) * in_stride;
		for (int kx = 0; kx < k->kw; kx++) {
			const int ix = ix0 + kx;
			__m256i x = zero;
			if (rowok && ix >= 0 && ix < w) {
				const uint8_t *p = row + (size_t)ix * c + co;
				x = _mm256_cvtepu8_epi16(load_upto16(p, end, n));
				x = _mm256_sub_epi16(x, zi);
			}
			if (!odd) {
				x0 = x;
				odd = 1;
				continue;
			}
			dw_pair(x0, x, wp, &lo, &hi);
			wp += 32;
			odd = 0;
		}
	}
	if (odd)
		dw_pair(x0, zero, wp, &lo, &hi);
	/* back to channel order: 0-3 4-7 and 8-11 12-15 */
	const __m256i a0 = _mm256_add_epi32(_mm256_permute2x128_si256(lo, hi, 0x20),
					    _mm256_loadu_si256((const __m256i *)(k->bias + co)));
	const __m256i a1 = _mm256_add_epi32(_mm256_permute2x128_si256(lo, hi, 0x31),
					    _mm256_loadu_si256((const __m256i *)(k->bias + co + 8)));
	store16(k, a0, a1, out, (size_t)oy * ow + ox, co);
}

/* 16 channels of q at p, widened to int16 (no end check: the caller has
 * proved p + 16 <= end). */
INL __m256i ld16(const uint8_t *p)
{
	return _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)p));
}

/* Output pixel of a 3x3 depthwise conv, channels co..co + 15, all taps
 * read without checks: r0, r1, r2 point at its tap (ky, 0) in each of its
 * three input rows, plus co; c is the bytes per input pixel. The caller
 * proves every 16-byte load inside the tensor and gives weights whose taps
 * in rows outside the input are 0 (those rows' pointers point at a row
 * inside instead). The taps pair as the packed weights do, (0,1) (2,3)
 * (4,5) (6,7) (8,-), on raw q: ilo, ihi (bias - z_in * sum(w) in the
 * accumulators' order) hold the z_in part, so the sum equals bias +
 * sum(w * (q - z_in)) modulo 2^32 as the reference's. lo, hi: dw_pair's
 * order. */
INL void dw3_pxv(__m256i a0, __m256i a1, __m256i a2, __m256i b0, __m256i b1, __m256i b2,
		 __m256i c0, __m256i c1, __m256i c2, const int16_t *wk, __m256i ilo, __m256i ihi,
		 __m256i *lo, __m256i *hi)
{
	*lo = ilo;
	*hi = ihi;
	dw_pair(a0, a1, wk, lo, hi);
	dw_pair(a2, b0, wk + 32, lo, hi);
	dw_pair(b1, b2, wk + 64, lo, hi);
	dw_pair(c0, c1, wk + 96, lo, hi);
	dw_pair(c2, _mm256_setzero_si256(), wk + 128, lo, hi);
}

INL void dw3_px(const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, size_t c,
		const int16_t *wk, __m256i ilo, __m256i ihi, __m256i *lo, __m256i *hi)
{
	dw3_pxv(ld16(r0), ld16(r0 + c), ld16(r0 + 2 * c), ld16(r1), ld16(r1 + c), ld16(r1 + 2 * c),
		ld16(r2), ld16(r2 + c), ld16(r2 + 2 * c), wk, ilo, ihi, lo, hi);
}

/* An output pixel of a 3x3 depthwise conv anywhere (left and right border,
 * the tensor's last bytes), as dw3_px(): ix0 is its first tap's input
 * column, r[ky] its (clamped) input rows, n the channels of the block that
 * exist. A tap at a column outside the input reads z_in, which adds
 * z_in * w - z_in * w = 0 with ilo and ihi, as the reference skips it;
 * loads go through load_upto16(). */
INL void dw3_edge(const uint8_t *const *r, int ix0, int w, size_t c, int co, int n,
		  const uint8_t *end, __m256i zi, const int16_t *wk, __m256i ilo, __m256i ihi,
		  __m256i *lo, __m256i *hi)
{
	__m256i x[9];

	for (int t = 0; t < 9; t++) {
		const int ix = ix0 + t % 3;
		x[t] = zi;
		if (ix >= 0 && ix < w) {
			const uint8_t *p = r[t / 3] + (size_t)ix * c + co;
			x[t] = _mm256_cvtepu8_epi16(load_upto16(p, end, n));
		}
	}
	dw3_pxv(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], wk, ilo, ihi, lo, hi);
}

/* Requantizes and stores pixel pix of dw3_px()'s accumulators (any
 * block: float_out, fewer than 16 channels). */
INL void dw_store(const struct qnn_convk *k, __m256i lo, __m256i hi, void *out, size_t pix, int co)
{
	store16(k, _mm256_permute2x128_si256(lo, hi, 0x20), _mm256_permute2x128_si256(lo, hi, 0x31),
		out, pix, co);
}

/* A block's requantization in dw_pair's lane order ([0]: channels 0-3 and
 * 8-11, [1]: 4-7 and 12-15), with requant_v()'s derived values ready: mo =
 * m >> 32 (64-bit lanes), rh = rm >> 1. */
struct dw_rq {
	__m256i m[2], mo[2], ls[2], rs[2], rm[2], rh[2];
	__m256i z, lo8; /* z_out per int32 lane; clamp floor per byte */
};

INL void dw_rq_init(struct dw_rq *q, const struct qnn_convk *k, int co)
{
	const int32_t *src[4] = {k->mult, k->lsh, k->rsh, k->rmask};
	__m256i *dst[4] = {q->m, q->ls, q->rs, q->rm};

	for (int i = 0; i < 4; i++) {
		/* [nb*16] arrays: co + 15 is inside */
		const __m256i v0 = _mm256_loadu_si256((const __m256i *)(src[i] + co));
		const __m256i v1 = _mm256_loadu_si256((const __m256i *)(src[i] + co + 8));
		dst[i][0] = _mm256_permute2x128_si256(v0, v1, 0x20);
		dst[i][1] = _mm256_permute2x128_si256(v0, v1, 0x31);
	}
	for (int hf = 0; hf < 2; hf++) {
		q->mo[hf] = _mm256_srli_epi64(q->m[hf], 32);
		q->rh[hf] = _mm256_srli_epi32(q->rm[hf], 1);
	}
	q->z = _mm256_set1_epi32(k->zout);
	q->lo8 = _mm256_set1_epi8((char)k->lo);
}

/* requant_v() on half hf of a dw_pair accumulator, the same operations on
 * the same values (bit for bit), plus z_out (wrapping, as the reference).
 * LS = 0 when no channel has a left shift (then it is a shift by 0). */
INL __m256i dw_requant(__m256i x, const struct dw_rq *q, int hf, int LS)
{
	const __m256i r = _mm256_set1_epi64x((long long)1 << 30);

	if (LS)
		x = _mm256_sllv_epi32(x, q->ls[hf]);
	__m256i pe = _mm256_add_epi64(_mm256_mul_epi32(x, q->m[hf]), r);
	__m256i po = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), q->mo[hf]), r);
	pe = _mm256_srli_epi64(pe, 31);
	po = _mm256_slli_epi64(po, 1);
	x = _mm256_blend_epi32(pe, po, 0xAA);
	const __m256i rem = _mm256_and_si256(x, q->rm[hf]);
	const __m256i thr = _mm256_sub_epi32(q->rh[hf], _mm256_srai_epi32(x, 31));
	x = _mm256_srav_epi32(x, q->rs[hf]);
	return _mm256_add_epi32(_mm256_sub_epi32(x, _mm256_cmpgt_epi32(rem, thr)), q->z);
}

/* A pixel's 16 channels (dw_pair accumulators lo, hi) requantized, plus
 * z_out, as int16 saturated (vpackssdw), channels 0-7 | 8-15. */
INL __m256i dw_pack(const struct dw_rq *q, __m256i lo, __m256i hi, int LS)
{
	return _mm256_packs_epi32(dw_requant(lo, q, 0, LS), dw_requant(hi, q, 1, LS));
}

/* Two pixels' dw_pack() values stored at oa and ob (16 bytes each):
 * vpackuswb saturates to 0..255; with vpackssdw before it that is a
 * monotone clamp of the int32 value, and max with the floor after it
 * equals the reference's clamp(v, lo, 255) for any int32 v. */
INL void dw_store2(const struct dw_rq *q, __m256i pa, __m256i pb, uint8_t *oa, uint8_t *ob)
{
	/* bytes a 0-7, b 0-7 | a 8-15, b 8-15 -> a 0-15, b 0-15 */
	__m256i v = _mm256_permute4x64_epi64(_mm256_packus_epi16(pa, pb), 0xD8);

	v = _mm256_max_epu8(v, q->lo8);
	_mm_storeu_si128((__m128i *)oa, _mm256_castsi256_si128(v));
	_mm_storeu_si128((__m128i *)ob, _mm256_extracti128_si256(v, 1));
}

/* np pairs of neighbouring output pixels through dw3_pxv() and dw_store2():
 * p0, p1, p2 as for dw3_px() for the first pixel (every load of the 2 * np
 * pixels proved inside the tensor by the caller), o its output (pixels c
 * bytes apart). The widened input columns slide along: a pair reads 4
 * (S = 1) or 5 (S = 2) columns of each row, of which the next pair's first
 * 2 or 1 are this pair's last, kept from one pair to the next. */
INL void dw3_pairs(const uint8_t *p0, const uint8_t *p1, const uint8_t *p2, size_t c, int S,
		   int LS, int np, const int16_t *wk, __m256i ilo, __m256i ihi,
		   const struct dw_rq *q, uint8_t *o)
{
	__m256i a0 = ld16(p0), b0 = ld16(p1), c0 = ld16(p2);
	__m256i a1 = ld16(p0 + c), b1 = ld16(p1 + c), c1 = ld16(p2 + c);

	for (int i = 0; i < np; i++) {
		__m256i l, hh, pa, a2, b2, c2, a3, b3, c3;
		if (S == 2) {
			a1 = ld16(p0 + c);
			b1 = ld16(p1 + c);
			c1 = ld16(p2 + c);
		}
		a2 = ld16(p0 + 2 * c);
		b2 = ld16(p1 + 2 * c);
		c2 = ld16(p2 + 2 * c);
		dw3_pxv(a0, a1, a2, b0, b1, b2, c0, c1, c2, wk, ilo, ihi, &l, &hh);
		pa = dw_pack(q, l, hh, LS);
		a3 = ld16(p0 + 3 * c);
		b3 = ld16(p1 + 3 * c);
		c3 = ld16(p2 + 3 * c);
		if (S == 1) {
			dw3_pxv(a1, a2, a3, b1, b2, b3, c1, c2, c3, wk, ilo, ihi, &l, &hh);
			a0 = a2, b0 = b2, c0 = c2;
			a1 = a3, b1 = b3, c1 = c3;
		} else {
			a0 = ld16(p0 + 4 * c);
			b0 = ld16(p1 + 4 * c);
			c0 = ld16(p2 + 4 * c);
			dw3_pxv(a2, a3, a0, b2, b3, b0, c2, c3, c0, wk, ilo, ihi, &l, &hh);
		}
		dw_store2(q, pa, dw_pack(q, l, hh, LS), o, o + c);
		p0 += 2 * S * c;
		p1 += 2 * S * c;
		p2 += 2 * S * c;
		o += 2 * c;
	}
}

/* 3x3 depthwise conv of stride S (1 or 2), LS as for dw_requant(): per
 * output row and block of 16 channels, the pixels whose taps all lie in the
 * input columns and whose loads provably stay before end go through
 * dw3_pairs() (dw3_px() for an odd one out, and for a block that is
 * float_out or has fewer than 16 channels); the others (left and right
 * border, the tensor's last bytes) through dw3_edge(). Taps in rows above
 * or below the input get weight 0 (wm) and read a row inside instead. */
INL void dw3(const struct qnn_convk *k, const uint8_t *in, int h, int w, int in_stride, int oh,
	     int ow, void *out, int S, int LS)
{
	const int c = k->cout, pad = k->pad;
	const uint8_t *end = in + (size_t)(h - 1) * in_stride + (size_t)w * c;
	const __m256i zi = _mm256_set1_epi16((short)k->zin);
	/* first output column whose taps are all at ix >= 0 */
	const int ox_lo = (pad + S - 1) / S < ow ? (pad + S - 1) / S : ow;

	for (int oy = 0; oy < oh; oy++) {
		const int iy0 = oy * S - pad;
		const uint8_t *r[3];
		int rowok[3], allok = 1;
		for (int ky = 0; ky < 3; ky++) {
			const int iy = iy0 + ky;
			rowok[ky] = iy >= 0 && iy < h;
			allok &= rowok[ky];
			r[ky] = in + (size_t)(iy < 0 ? 0 : iy >= h ? h - 1 : iy) * in_stride;
		}
		/* r[2] is the highest of the three: a 16-byte load at column ix,
		 * channel co of any of them ends at or before r[2] + ix*c + co +
		 * 16, inside the tensor when that is <= end */
		const ptrdiff_t room = end - r[2];
		for (int b = 0; b < k->nb; b++) {
			const int co = 16 * b;
			const int16_t *wk = (const int16_t *)k->w + (size_t)b * 5 * 32;
			int16_t wm[5 * 32];
			if (!allok) {
				/* element e of pair p's halves is tap 2p + e % 2 */
				for (int i = 0; i < 5 * 32; i++) {
					const int t = 2 * (i / 32) + i % 2;
					wm[i] = t < 9 && rowok[t / 3] ? wk[i] : 0;
				}
				wk = wm;
			}
			/* bias - z_in * sum(w) per channel (taps of rows inside), in
			 * dw_pair's order: each product at most 255 * 128, pair sums
			 * exact; wraps as the reference's uint32 sum */
			const __m256i nz = _mm256_set1_epi16((short)-k->zin);
			const __m256i b0 = _mm256_loadu_si256((const __m256i *)(k->bias + co));
			const __m256i b1 = _mm256_loadu_si256((const __m256i *)(k->bias + co + 8));
			__m256i ilo = _mm256_permute2x128_si256(b0, b1, 0x20);
			__m256i ihi = _mm256_permute2x128_si256(b0, b1, 0x31);
			for (int p = 0; p < 5; p++) {
				const int16_t *wp = wk + 32 * p;
				const __m256i w0 = _mm256_loadu_si256((const __m256i *)wp);
				const __m256i w1 = _mm256_loadu_si256((const __m256i *)(wp + 16));
				ilo = _mm256_add_epi32(ilo, _mm256_madd_epi16(w0, nz));
				ihi = _mm256_add_epi32(ihi, _mm256_madd_epi16(w1, nz));
			}
			/* last input column every load of this block may touch */
			const ptrdiff_t rb = room - co - 16;
			const int ixmax = rb < 0 ? -1 : rb / c < w - 1 ? (int)(rb / c) : w - 1;
			/* output columns past ox_hi need a tap past ixmax */
			int ox_hi = ixmax - 2 + pad < 0 ? 0 : (ixmax - 2 + pad) / S + 1;
			ox_hi = ox_hi > ow ? ow : ox_hi < ox_lo ? ox_lo : ox_hi;
			const size_t pix = (size_t)oy * ow;
			const int n = c - co < 16 ? c - co : 16;
			int ox = 0;
			for (; ox < ox_lo; ox++) {
				__m256i l0, h0;
				dw3_edge(r, ox * S - pad, w, c, co, n, end, zi, wk, ilo, ihi, &l0, &h0);
				dw_store(k, l0, h0, out, pix + ox, co);
			}
			if (!k->float_out && co + 16 <= c) {
				struct dw_rq q;
				uint8_t *o8 = (uint8_t *)out + pix * c + co;
				dw_rq_init(&q, k, co);
				const int np = (ox_hi - ox) / 2;
				if (np > 0) {
					const size_t o = (size_t)(ox * S - pad) * c + co;
					dw3_pairs(r[0] + o, r[1] + o, r[2] + o, c, S, LS, np, wk, ilo,
						  ihi, &q, o8 + (size_t)ox * c);
					ox += 2 * np;
				}
				if (ox < ox_hi) {
					const size_t o = (size_t)(ox * S - pad) * c + co;
					__m256i l0, h0;
					dw3_px(r[0] + o, r[1] + o, r[2] + o, c, wk, ilo, ihi, &l0, &h0);
					const __m256i pa = dw_pack(&q, l0, h0, LS);
					dw_store2(&q, pa, pa, o8 + (size_t)ox * c, o8 + (size_t)ox * c);
					ox++;
				}
			}
			for (; ox < ox_hi; ox++) {
				const size_t o = (size_t)(ox * S - pad) * c + co;
				__m256i l0, h0;
				dw3_px(r[0] + o, r[1] + o, r[2] + o, c, wk, ilo, ihi, &l0, &h0);
				dw_store(k, l0, h0, out, pix + ox, co);
			}
			for (; ox < ow; ox++) {
				__m256i l0, h0;
				dw3_edge(r, ox * S - pad, w, c, co, n, end, zi, wk, ilo, ihi, &l0, &h0);
				dw_store(k, l0, h0, out, pix + ox, co);
			}
		}
	}
}

/* dw3() for each stride, with (_ls) and without left shifts */
static TGT void dw3_s1(const struct qnn_convk *k, const uint8_t *in, int h, int w,
		       int in_stride, int oh, int ow, void *out)
{
	dw3(k, in, h, w, in_stride, oh, ow, out, 1, 0);
}

static TGT void dw3_s1_ls(const struct qnn_convk *k, const uint8_t *in, int h, int w,
			  int in_stride, int oh, int ow, void *out)
{
	dw3(k, in, h, w, in_stride, oh, ow, out, 1, 1);
}

static TGT void dw3_s2(const struct qnn_convk *k, const uint8_t *in, int h, int w,
		       int in_stride, int oh, int ow, void *out)
{
	dw3(k, in, h, w, in_stride, oh, ow, out, 2, 0);
}

static TGT void dw3_s2_ls(const struct qnn_convk *k, const uint8_t *in, int h, int w,
			  int in_stride, int oh, int ow, void *out)
{
	dw3(k, in, h, w, in_stride, oh, ow, out, 2, 1);
}

/* Depthwise conv, read in place: 3x3 kernels of stride 1 or 2 through
 * dw3(), the others pixel by pixel through dw_pixel(). */
TGT void qnn_dwconv_avx2(const struct qnn_convk *k, const uint8_t *in, int h, int w, int in_stride,
			 int oh, int ow, void *out)
{
	const uint8_t *end = in + (size_t)(h - 1) * in_stride + (size_t)w * k->cout;

	if (k->kh == 3 && k->kw == 3 && (k->stride == 1 || k->stride == 2)) {
		int ls = 0;
		for (int i = 0; i < k->nb * 16; i++)
			ls |= k->lsh[i];
		if (k->stride == 1)
			(ls ? dw3_s1_ls : dw3_s1)(k, in, h, w, in_stride, oh, ow, out);
		else
			(ls ? dw3_s2_ls : dw3_s2)(k, in, h, w, in_stride, oh, ow, out);
		return;
	}
	for (int oy = 0; oy < oh; oy++)
		for (int ox = 0; ox < ow; ox++)
			for (int b = 0; b < k->nb; b++)
				dw_pixel(k, in, h, w, in_stride, end, oy, ox, ow, b, out);
}

/* Global average pool: per block of 16 channels, sums of q over up to 256
 * pixels in uint16 lanes (255 * 256 < 2^16), added into uint64 sums; then,
 * per channel, sum(q - z) = sum(q) - z * n, exact in int64, rounded half
 * away from zero as qnn_ref_gap() does. */
TGT void qnn_gap_avx2(const struct qnn_layer *l, const struct qnn_tensor *ti, const uint8_t *in,
		      int h, int w, int in_stride, uint8_t *out)
{
	const int c = l->cin, z = ti->zero_point;
	const int64_t n = (int64_t)h * w;
	const uint8_t *end = in + (size_t)(h - 1) * in_stride + (size_t)w * c;

	for (int co = 0; co < c; co += 16) {
		const int nc = c - co < 16 ? c - co : 16;
		uint64_t sum[16] = {0};
		uint16_t t[16];
		__m256i s16 = _mm256_setzero_si256();
		int cnt = 0;
		for (int y = 0; y < h; y++) {
			const uint8_t *row = in + (size_t)y * in_stride + co;
			for (int x = 0; x < w; x++) {
				const __m128i v = load_upto16(row + (size_t)x * c, end, nc);
				s16 = _mm256_add_epi16(s16, _mm256_cvtepu8_epi16(v));
				if (++cnt == 256) {
					_mm256_storeu_si256((__m256i *)t, s16);
					for (int j = 0; j < 16; j++)
						sum[j] += t[j];
					s16 = _mm256_setzero_si256();
					cnt = 0;
				}
			}
		}
		_mm256_storeu_si256((__m256i *)t, s16);
		for (int j = 0; j < nc; j++) {
			const int64_t s = (int64_t)(sum[j] + t[j]) - (int64_t)z * n;
			const int64_t q = (s >= 0 ? (s + n / 2) / n : -((-s + n / 2) / n)) + z;
			out[co + j] = (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
		}
	}
}

/* n elements of an add: 16 at a time, the last ones through a copy. */
static TGT void add_run(const uint8_t *a, const uint8_t *b, uint8_t *o, size_t n, __m256i za,
			__m256i zb, const __m256i *pa, const __m256i *pb, __m256i zo, __m256i lo)
{
	for (size_t i = 0; i < n; i += 16) {
		const size_t m = n - i < 16 ? n - i : 16;
		uint8_t ta[16] = {0}, tb[16] = {0}, to[16];
		const uint8_t *sa = a + i, *sb = b + i;
		if (m < 16) {
			memcpy(ta, sa, m);
			memcpy(tb, sb, m);
			sa = ta;
			sb = tb;
		}
		const __m128i va = _mm_loadu_si128((const __m128i *)sa);
		const __m128i vb = _mm_loadu_si128((const __m128i *)sb);
		__m256i v[2];
		for (int hf = 0; hf < 2; hf++) {
			const __m128i ha = hf ? _mm_srli_si128(va, 8) : va;
			const __m128i hb = hf ? _mm_srli_si128(vb, 8) : vb;
			const __m256i xa = _mm256_sub_epi32(_mm256_cvtepu8_epi32(ha), za);
			const __m256i xb = _mm256_sub_epi32(_mm256_cvtepu8_epi32(hb), zb);
			const __m256i ra = requant_v(xa, pa[0], pa[1], pa[2], pa[3]);
			v[hf] = _mm256_add_epi32(_mm256_add_epi32(zo, ra),
						 requant_v(xb, pb[0], pb[1], pb[2], pb[3]));
		}
		const __m128i r = pack_u8(v[0], v[1], lo);
		if (m < 16) {
			_mm_storeu_si128((__m128i *)to, r);
			memcpy(o + i, to, m);
		} else {
			_mm_storeu_si128((__m128i *)(o + i), r);
		}
	}
}

/* Residual add: both requantizations as requant_v with the layer's
 * multiplier and shifts in every lane; int32 sums (the reference's
 * z_out + ra + rb) then the clamp to lo..255. Rows are done apart unless
 * both inputs are dense. */
TGT void qnn_add_avx2(const struct qnn_layer *l, const struct qnn_tensor *ti,
		      const struct qnn_tensor *ti2, const struct qnn_tensor *to, const uint8_t *a,
		      int a_stride, const uint8_t *b, int b_stride, int h, int w, uint8_t *out)
{
	const size_t row = (size_t)w * l->cin;
	const int32_t zo = to->zero_point;
	__m256i p[2][4];

	for (int k = 0; k < 2; k++) {
		const int32_t s = l->add_shift[k], ls = s > 0 ? s : 0, rs = s > 0 ? 0 : -s;
		p[k][0] = _mm256_set1_epi32(l->add_mult[k]);
		p[k][1] = _mm256_set1_epi32(ls);
		p[k][2] = _mm256_set1_epi32(rs);
		p[k][3] = _mm256_set1_epi32((int32_t)(((uint32_t)1 << rs) - 1));
	}
	const __m256i za = _mm256_set1_epi32(ti->zero_point);
	const __m256i zb = _mm256_set1_epi32(ti2->zero_point);
	const __m256i vzo = _mm256_set1_epi32(zo), lo = _mm256_set1_epi32(l->relu ? zo : 0);
	if ((size_t)a_stride == row && (size_t)b_stride == row) {
		add_run(a, b, out, (size_t)h * row, za, zb, p[0], p[1], vzo, lo);
		return;
	}
	for (int y = 0; y < h; y++)
		add_run(a + (size_t)y * a_stride, b + (size_t)y * b_stride, out + (size_t)y * row,
			row, za, zb, p[0], p[1], vzo, lo);
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
void qnn_dwconv_avx2(const struct qnn_convk *k, const uint8_t *in, int h, int w, int in_stride,
		     int oh, int ow, void *out)
{
	(void)k, (void)in, (void)h, (void)w, (void)in_stride, (void)oh, (void)ow, (void)out;
}
void qnn_gap_avx2(const struct qnn_layer *l, const struct qnn_tensor *ti, const uint8_t *in,
		  int h, int w, int in_stride, uint8_t *out)
{
	qnn_ref_gap(l, ti, in, h, w, in_stride, out);
}
void qnn_add_avx2(const struct qnn_layer *l, const struct qnn_tensor *ti,
		  const struct qnn_tensor *ti2, const struct qnn_tensor *to, const uint8_t *a,
		  int a_stride, const uint8_t *b, int b_stride, int h, int w, uint8_t *out)
{
	qnn_ref_add(l, ti, ti2, to, a, a_stride, b, b_stride, h, w, out);
}
#endif
