/* qnn_avx2.c - AVX2 kernels: the dense int8 conv (bit-identical to
 * qnn_ref_conv()), global average pool and add (to qnn_ref_gap() and
 * qnn_ref_add()), the float conv of qnn_run_float() and maxpool; the
 * depthwise conv is in qnn_avx2_dw.c, the pieces both share in qnn_avx2.h.
 * Compiled with function target attributes; qnn.c calls them only when
 * cpuid says so.
 *
 * The int8 conv widens activations to int16 when preparing its input and
 * keeps weights as int16, so vpmaddwd (int16 pairs -> int32) is exact;
 * vpmaddubsw would saturate at 2 * 255 * 127. A tile is 4 output pixels x
 * 16 output channels (8 ymm accumulators).
 */
#include <stddef.h>
#include <string.h>

#include "qnn_kern.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include "qnn_avx2.h"

#define P2 4

/* One step of a tile of 4 pixels x 16 output channels: the int16 pair at
 * element e of each pixel's input (q[p] + e) times the 16 channels' weight
 * pairs at w (32 int16), added to the pixel's accumulators. Unrolled, so
 * that the caller's accumulators stay in registers. */
INL void tile_step(__m256i acc[P2][2], const int16_t *const q[P2], size_t e, const int16_t *w)
{
	const __m256i w0 = _mm256_loadu_si256((const __m256i *)w);
	const __m256i w1 = _mm256_loadu_si256((const __m256i *)(w + 16));

#pragma GCC unroll 4
	for (int p = 0; p < P2; p++) {
		int32_t a;
		memcpy(&a, q[p] + e, 4);
		const __m256i av = _mm256_set1_epi32(a);
		acc[p][0] = _mm256_add_epi32(acc[p][0], _mm256_madd_epi16(av, w0));
		acc[p][1] = _mm256_add_epi32(acc[p][1], _mm256_madd_epi16(av, w1));
	}
}

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
				const int16_t *const q[P2] = {px[0] + off, px[1] + off, px[2] + off, px[3] + off};
				for (int g = 0; g < c4; g += 2, w += 32)
					tile_step(acc, q, (size_t)g, w);
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
	/* v's fields in locals: the stores below could alias them otherwise,
	 * and the four pixels' accumulators stay in registers (unrolled) */
	const size_t row = v->row, pix = v->pix, grp = v->grp, sr = (size_t)v->stride * row,
		     sp = (size_t)v->stride * pix;

	for (int b = 0; b < k->nb; b++)
		for (int py = 0; py < ph; py++)
			for (int px = 0; px < pw; px++) {
				const int16_t *q0 = in + 2 * (size_t)py * sr + 2 * (size_t)px * sp;
				const int16_t *const q[P2] = {q0, q0 + sp, q0 + sr, q0 + sr + sp};
				__m256i acc[P2][2];
				for (int p = 0; p < P2; p++) {
					acc[p][0] = _mm256_loadu_si256((const __m256i *)(k->bias + 16 * b));
					acc[p][1] = _mm256_loadu_si256((const __m256i *)(k->bias + 16 * b + 8));
				}
				const int16_t *w = (const int16_t *)k->w + (size_t)b * wblock;
				for (int ky = 0; ky < k->kh; ky++)
					for (int kx = 0; kx < k->kw; kx++) {
						const size_t off = (size_t)ky * row + (size_t)kx * pix;
						for (int g = 0; g < c4; g += 2, w += 32)
							tile_step(acc, q, off + (size_t)(g >> 2) * grp + (size_t)(g & 3), w);
					}
				store16(k,
					_mm256_max_epi32(_mm256_max_epi32(acc[0][0], acc[1][0]),
							 _mm256_max_epi32(acc[2][0], acc[3][0])),
					_mm256_max_epi32(_mm256_max_epi32(acc[0][1], acc[1][1]),
							 _mm256_max_epi32(acc[2][1], acc[3][1])),
					out, (size_t)py * pw + px, 16 * b);
			}
}

/* n bytes widened to int16 (the AVX2 conv's prepared input). */
TGT void qnn_widen_avx2(int16_t *dst, const uint8_t *src, size_t n)
{
	size_t i = 0;

	for (; i + 16 <= n; i += 16)
		_mm256_storeu_si256((__m256i *)(dst + i), ld16(src + i));
	for (; i < n; i++)
		dst[i] = src[i];
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
void qnn_widen_avx2(int16_t *dst, const uint8_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = src[i];
}
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
