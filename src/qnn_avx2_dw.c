/* qnn_avx2_dw.c - the AVX2 depthwise conv (qnn_dwconv_avx2), bit-identical
 * to qnn_ref_conv()'s depthwise branch; planned by plan_dwconv() in
 * qnn.c (weight layout in qnn_kern.h). Compiled with function target
 * attributes; qnn.c calls it only when cpuid says so.
 *
 * It reads its input in place and pairs taps of one channel through
 * vpmaddwd. A 3x3 kernel of stride 1 or 2 splits each output row:
 * interior pixels, two at a time, load without checks (each block's last
 * safe column is computed once per row) on raw q, with -z_in * sum(w)
 * folded into the accumulators' start; border pixels check every tap.
 * Other kernels go pixel by pixel with every check.
 */
#include <stddef.h>
#include <string.h>

#include "qnn_kern.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include "qnn_avx2.h"

/* Adds one pair of depthwise taps (x0, x1: 16 channels as int16, q - z_in
 * or q, so each in -255..255) to the accumulators: lo holds channels 0-3
 * and 8-11, hi 4-7 and 12-15, in the order vpunpck{l,h}wd leave them (w: the pair's packed
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
 * LS = 0 when no channel has a left shift (then it is a shift by 0). A
 * copy, not a call: one requant_v() taking mo and rh ready made bench_qnn's
 * depthwise line 5 % slower (17.0 against 18.1 GMAC/s, GCC 12). */
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

#else
void qnn_dwconv_avx2(const struct qnn_convk *k, const uint8_t *in, int h, int w, int in_stride,
		     int oh, int ow, void *out)
{
	(void)k, (void)in, (void)h, (void)w, (void)in_stride, (void)oh, (void)ow, (void)out;
}
#endif
