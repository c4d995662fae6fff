/* qnn_avx512.c - AVX-512 VNNI conv kernel (vpdpbusd: u8 activations x s8
 * weights into int32), bit-identical to qnn_ref_conv(). Compiled with
 * function target attributes; qnn.c calls it only when cpuid says so.
 *
 * Register blocking: a tile is P output pixels x NB blocks of 16 output
 * channels (P*NB zmm accumulators); each step loads NB weight vectors of
 * 16 channels x 4 input channels and broadcasts 4 input bytes of each
 * pixel. The weights of NB blocks stay hot in L1/L2 across all tiles.
 * P is 16, 12, 8, 6 for NB = 1..4: as many accumulators as leave room for
 * the weights and the broadcast in the 32 zmm registers (12 rather than 8
 * pixels made the detector's 32-channel layers 8 % faster; 14 was no
 * better).
 */
#include <string.h>

#include "qnn_kern.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define TGT __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define INL static inline __attribute__((always_inline)) TGT

/* The requantization constants of one 16-channel block (qnn_requantize()
 * on 16 lanes), loaded once for many pixels. */
struct rq16 {
	__m512i ls, m, mo, rs, rm, half, zout, lo;
	__m512i ce, co, se, so; /* one rounding: even / odd lanes (see rq16_store) */
	__mmask16 msk;
	int one;                /* lo >= zout: one rounding is exact */
};

INL void rq16_load(struct rq16 *q, const struct qnn_convk *k, int co)
{
	const int n = k->cout - co < 16 ? k->cout - co : 16;
	const __m512i r = _mm512_set1_epi64((long long)1 << 30);

	q->ls = _mm512_loadu_si512(k->lsh + co);
	q->m = _mm512_loadu_si512(k->mult + co);
	q->mo = _mm512_srli_epi64(q->m, 32); /* the odd lanes' multipliers */
	q->rs = _mm512_loadu_si512(k->rsh + co);
	q->rm = _mm512_loadu_si512(k->rmask + co);
	q->half = _mm512_srli_epi32(q->rm, 1);
	q->zout = _mm512_set1_epi32(k->zout);
	q->lo = _mm512_set1_epi32(k->lo);
	q->msk = (__mmask16)((1u << n) - 1);
	q->one = k->lo >= k->zout;
	/* 2^30 + (rs > 0 ? 2^(30 + rs) : 0) and 31 + rs, as 64-bit lanes */
	const __m512i rse = _mm512_and_si512(q->rs, _mm512_set1_epi64(0xffffffff)),
		      rso = _mm512_srli_epi64(q->rs, 32);
	q->ce = _mm512_add_epi64(r, _mm512_maskz_sllv_epi64(_mm512_test_epi64_mask(rse, rse), r, rse));
	q->co = _mm512_add_epi64(r, _mm512_maskz_sllv_epi64(_mm512_test_epi64_mask(rso, rso), r, rso));
	q->se = _mm512_add_epi64(rse, _mm512_set1_epi64(31));
	q->so = _mm512_add_epi64(rso, _mm512_set1_epi64(31));
}

/* qnn_requantize() on 16 lanes after the left shift: SRDHM by m, then the
 * rounding right shift rs; the int32 result before + zout. */
INL __m512i requant16_rs(__m512i x, const struct rq16 *q)
{
	const __m512i r = _mm512_set1_epi64((long long)1 << 30);

	/* (x * m + 2^30) >> 31 on even and odd lanes, equal to gemmlowp's SRDHM */
	__m512i pe = _mm512_add_epi64(_mm512_mul_epi32(x, q->m), r);
	__m512i po = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), q->mo), r);
	pe = _mm512_srli_epi64(pe, 31);
	po = _mm512_slli_epi64(po, 1);
	x = _mm512_mask_blend_epi32(0xAAAA, pe, po);
	/* rounding divide by 2^rs, half away from zero */
	__m512i rem = _mm512_and_si512(x, q->rm);
	__m512i thr = _mm512_sub_epi32(q->half, _mm512_srai_epi32(x, 31));
	x = _mm512_srav_epi32(x, q->rs);
	__mmask16 up = _mm512_cmpgt_epi32_mask(rem, thr);
	return _mm512_mask_add_epi32(x, up, x, _mm512_set1_epi32(1));
}

/* Requantize (after the left shift, if any), add the zero point, clamp and
 * store pixel pix's 16 channels from co.
 *
 * With lo >= zout (every ReLU layer), one rounding replaces the two: for a
 * product x m >= 0 the two roundings are floors, floor((x m + 2^30) / 2^31)
 * and then floor((t + 2^(rs-1)) / 2^rs), and nested floors by powers of two
 * are one floor: floor((x m + 2^30 + 2^(30+rs)) / 2^(31+rs)) (rs > 0; the
 * 2^(30+rs) term is 0 when rs = 0). For x m < 0 both give <= 0, which the
 * clamp at lo >= zout maps to lo alike. At most 2^62 + 2^30 + 2^61 in the
 * 64-bit lanes (|x|, m < 2^31, rs <= 31): no overflow. */
INL void rq16_store(const struct rq16 *q, __m512i x, uint8_t *out, size_t pix, int cout, int co)
{
	if (q->one) {
		__m512i pe = _mm512_add_epi64(_mm512_mul_epi32(x, q->m), q->ce);
		__m512i po = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), q->mo), q->co);
		pe = _mm512_srav_epi64(pe, q->se);
		po = _mm512_slli_epi64(_mm512_srav_epi64(po, q->so), 32);
		x = _mm512_mask_blend_epi32(0xAAAA, pe, po);
	} else {
		x = requant16_rs(x, q);
	}
	/* clamp below at lo >= 0; the unsigned saturating narrowing clamps at 255 */
	x = _mm512_max_epi32(_mm512_add_epi32(x, q->zout), q->lo);
	_mm512_mask_cvtusepi32_storeu_epi8(out + pix * (size_t)cout + co, q->msk, x);
}

/* A float_out layer's 16 channels of pixel pix from co (the logits). */
INL void fstore16(const struct qnn_convk *k, __m512i acc, void *out, size_t pix, int co)
{
	const int n = k->cout - co < 16 ? k->cout - co : 16;
	float *o = (float *)out + pix * k->cout + co;
	__m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_loadu_ps(k->fscale + co));

	_mm512_mask_storeu_ps(o, (__mmask16)((1u << n) - 1), v);
}

/* One tile: pixels i0 .. i0+np-1 (np <= P; missing ones repeat the last),
 * channel blocks b0 .. b0+NB-1. P and NB are constants after inlining. */
INL void tile(const struct qnn_convk *k, const uint8_t *in, int wp, int ow, int i0, int np,
	      int b0, void *out, const int P, const int NB)
{
	const int c4 = k->c4;
	const size_t wblock = (size_t)k->kh * k->kw * c4 * 16;
	const uint8_t *px[16];
	__m512i acc[16][4];

	size_t idx[16];

	qnn_tile_index(i0, np, P, ow, wp, k->stride, c4, idx);
#pragma GCC unroll 16
	for (int p = 0; p < P; p++)
		px[p] = in + idx[p];
#pragma GCC unroll 4
	for (int j = 0; j < NB; j++) {
		__m512i b = _mm512_loadu_si512(k->bias + 16 * (b0 + j));
#pragma GCC unroll 16
		for (int p = 0; p < P; p++)
			acc[p][j] = b;
	}
	const int8_t *w = (const int8_t *)k->w + (size_t)b0 * wblock;
	for (int ky = 0; ky < k->kh; ky++)
		for (int kx = 0; kx < k->kw; kx++) {
			const size_t off = ((size_t)ky * wp + kx) * c4;
			const uint8_t *q[16];
#pragma GCC unroll 16
			for (int p = 0; p < P; p++)
				q[p] = px[p] + off;
#pragma GCC unroll 4
			for (int g = 0; g < c4; g += 4, w += 64) {
				__m512i wv[4];
#pragma GCC unroll 4
				for (int j = 0; j < NB; j++)
					wv[j] = _mm512_loadu_si512(w + j * wblock);
#pragma GCC unroll 16
				for (int p = 0; p < P; p++) {
					int32_t a;
					memcpy(&a, q[p] + g, 4);
					const __m512i av = _mm512_set1_epi32(a);
#pragma GCC unroll 4
					for (int j = 0; j < NB; j++)
						acc[p][j] = _mm512_dpbusd_epi32(acc[p][j], av, wv[j]);
				}
			}
		}
	if (k->float_out) {
#pragma GCC unroll 16
		for (int p = 0; p < P; p++) {
			if (p >= np)
				break;
#pragma GCC unroll 4
			for (int j = 0; j < NB; j++)
				fstore16(k, acc[p][j], out, (size_t)(i0 + p), 16 * (b0 + j));
		}
		return;
	}
	/* one channel block at a time: its constants loaded once per tile,
	 * into registers (loaded once per call and passed in, they live in
	 * memory, which every byte store may alias: reloaded per store, the
	 * detector's first stage took 5.3 -> 5.9 ms) */
#pragma GCC unroll 4
	for (int j = 0; j < NB; j++) {
		struct rq16 q;
		rq16_load(&q, k, 16 * (b0 + j));
#pragma GCC unroll 16
		for (int p = 0; p < P; p++) {
			if (p >= np)
				break;
			rq16_store(&q, _mm512_sllv_epi32(acc[p][j], q.ls), out, (size_t)(i0 + p), k->cout,
				   16 * (b0 + j));
		}
	}
}

#define TILE_FN(NAME, NB, P)                                                                 \
	static TGT void NAME(const struct qnn_convk *k, const uint8_t *in, int wp, int ow, int n, \
			     int b0, void *out)                                                 \
	{                                                                                      \
		for (int i0 = 0; i0 < n; i0 += P)                                              \
			tile(k, in, wp, ow, i0, n - i0 < P ? n - i0 : P, b0, out, P, NB);       \
	}
TILE_FN(tile_1, 1, 16)
TILE_FN(tile_2, 2, 12)
TILE_FN(tile_3, 3, 8)
TILE_FN(tile_4, 4, 6)
/* one output pixel (fully connected layers): no repeated pixels */
TILE_FN(tile_fc, 4, 1)

TGT void qnn_conv_vnni(const struct qnn_convk *k, const uint8_t *in, int wp, int oh, int ow,
		       void *out)
{
	const int n = oh * ow;

	for (int b0 = 0; b0 < k->nb; b0 += 4) {
		if (n == 1 && k->nb - b0 >= 4) {
			tile_fc(k, in, wp, ow, n, b0, out);
			continue;
		}
		switch (k->nb - b0 < 4 ? k->nb - b0 : 4) {
		case 1: tile_1(k, in, wp, ow, n, b0, out); break;
		case 2: tile_2(k, in, wp, ow, n, b0, out); break;
		case 3: tile_3(k, in, wp, ow, n, b0, out); break;
		default: tile_4(k, in, wp, ow, n, b0, out); break;
		}
	}
}

/* Conv then 2x2 / stride 2 max pool in one pass: the four conv pixels of
 * each of two pool windows are accumulated side by side and only their
 * maximum is requantized and stored, at the pooled position. Exact because
 * the requantization (non-negative multiplier, no left shift, clamp) never
 * decreases with the accumulator; qnn.c checks that before fusing, and
 * fuses only narrow layers (at most 2 channel blocks), whose cost is mostly
 * requantization. The input is addressed through v (qnn_kern.h): a
 * prepared input, or a padded gray8 image read in place. */
INL void pool_tile(const struct qnn_convk *k, const uint8_t *in, const struct qnn_inview *v, int pw,
		   int py, int px0, int nw, int b0, const struct rq16 *rq, void *out, const int NB,
		   const int W)
{
	const int c4 = k->c4, pi0 = py * pw + px0;
	const size_t wblock = (size_t)k->kh * k->kw * c4 * 16;
	const uint8_t *pp[16];
	__m512i acc[16][2];

	/* W pool windows: window q = p / 4 (the last one repeated past nw),
	 * conv pixel (p / 2 % 2, p % 2) in it */
#pragma GCC unroll 16
	for (int p = 0; p < 4 * W; p++) {
		const int px = px0 + ((p >> 2) < nw ? p >> 2 : nw - 1);
		const int oy = 2 * py + ((p >> 1) & 1), ox = 2 * px + (p & 1);
		pp[p] = in + (size_t)oy * v->stride * v->row + (size_t)ox * v->stride * v->pix;
	}
#pragma GCC unroll 2
	for (int j = 0; j < NB; j++) {
		__m512i b = _mm512_loadu_si512(k->bias + 16 * (b0 + j));
#pragma GCC unroll 16
		for (int p = 0; p < 4 * W; p++)
			acc[p][j] = b;
	}
	const int8_t *w = (const int8_t *)k->w + (size_t)b0 * wblock;
	for (int ky = 0; ky < k->kh; ky++)
		for (int kx = 0; kx < k->kw; kx++) {
			const size_t off = (size_t)ky * v->row + (size_t)kx * v->pix;
			for (int g = 0; g < c4; g += 4, w += 64) {
				const size_t go = off + (size_t)(g >> 2) * v->grp;
				__m512i wv[2];
#pragma GCC unroll 2
				for (int j = 0; j < NB; j++)
					wv[j] = _mm512_loadu_si512(w + j * wblock);
#pragma GCC unroll 16
				for (int p = 0; p < 4 * W; p++) {
					int32_t a;
					memcpy(&a, pp[p] + go, 4);
					const __m512i av = _mm512_set1_epi32(a);
#pragma GCC unroll 2
					for (int j = 0; j < NB; j++)
						acc[p][j] = _mm512_dpbusd_epi32(acc[p][j], av, wv[j]);
				}
			}
		}
#pragma GCC unroll 4
	for (int q = 0; q < W; q++) {
		if (q >= nw)
			break;
#pragma GCC unroll 2
		for (int j = 0; j < NB; j++) {
			__m512i m = _mm512_max_epi32(_mm512_max_epi32(acc[4 * q][j], acc[4 * q + 1][j]),
						     _mm512_max_epi32(acc[4 * q + 2][j], acc[4 * q + 3][j]));
			rq16_store(&rq[j], m, out, (size_t)(pi0 + q), k->cout, 16 * (b0 + j));
		}
	}
}

/* W pool windows of a row at a time (tiles never straddle rows): 4 for
 * one channel block, 2 for two (16 accumulators) */
static TGT void pool_1(const struct qnn_convk *k, const uint8_t *in, const struct qnn_inview *v,
		       int ph, int pw, void *out)
{
	struct rq16 rq[1];

	rq16_load(&rq[0], k, 0);
	for (int py = 0; py < ph; py++)
		for (int px = 0; px < pw; px += 4)
			pool_tile(k, in, v, pw, py, px, pw - px < 4 ? pw - px : 4, 0, rq, out, 1, 4);
}

static TGT void pool_2(const struct qnn_convk *k, const uint8_t *in, const struct qnn_inview *v,
		       int ph, int pw, void *out)
{
	struct rq16 rq[2];

	rq16_load(&rq[0], k, 0);
	rq16_load(&rq[1], k, 16);
	for (int py = 0; py < ph; py++)
		for (int px = 0; px < pw; px += 2)
			pool_tile(k, in, v, pw, py, px, pw - px < 2 ? 1 : 2, 0, rq, out, 2, 2);
}

TGT void qnn_conv_pool_vnni(const struct qnn_convk *k, const uint8_t *in, const struct qnn_inview *v,
			    int ph, int pw, void *out)
{
	if (k->nb == 1)
		pool_1(k, in, v, ph, pw, out);
	else if (k->nb == 2)
		pool_2(k, in, v, ph, pw, out);
}

/* Float conv of qnn_run_float(): P pixels x NB blocks of 16 channels. */
INL void ftile(const struct qnn_fconvk *k, const float *in, int wp, int ow, int i0, int np, int b0,
	       float *out, const int P, const int NB)
{
	const int cin = k->cin;
	const size_t wblock = (size_t)k->kh * k->kw * cin * 16;
	const float *px[8];
	__m512 acc[8][2];

	size_t idx[8];

	qnn_tile_index(i0, np, P, ow, wp, k->stride, cin, idx);
#pragma GCC unroll 16
	for (int p = 0; p < P; p++)
		px[p] = in + idx[p];
#pragma GCC unroll 2
	for (int j = 0; j < NB; j++) {
		__m512 b = _mm512_loadu_ps(k->bias + 16 * (b0 + j));
#pragma GCC unroll 8
		for (int p = 0; p < P; p++)
			acc[p][j] = b;
	}
	const float *w = k->w + (size_t)b0 * wblock;
	for (int ky = 0; ky < k->kh; ky++)
		for (int kx = 0; kx < k->kw; kx++) {
			const size_t off = ((size_t)ky * wp + kx) * cin;
			const float *q[8];
#pragma GCC unroll 8
			for (int p = 0; p < P; p++)
				q[p] = px[p] + off;
			for (int ci = 0; ci < cin; ci++, w += 16) {
				__m512 wv[2];
#pragma GCC unroll 2
				for (int j = 0; j < NB; j++)
					wv[j] = _mm512_loadu_ps(w + j * wblock);
#pragma GCC unroll 8
				for (int p = 0; p < P; p++) {
					const __m512 x = _mm512_set1_ps(q[p][ci]);
#pragma GCC unroll 2
					for (int j = 0; j < NB; j++)
						acc[p][j] = _mm512_fmadd_ps(x, wv[j], acc[p][j]);
				}
			}
		}
	const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 8
	for (int p = 0; p < P; p++) {
		if (p >= np)
			break;
#pragma GCC unroll 2
		for (int j = 0; j < NB; j++) {
			const int co = 16 * (b0 + j), n = k->cout - co < 16 ? k->cout - co : 16;
			__m512 v = k->relu ? _mm512_max_ps(acc[p][j], zero) : acc[p][j];
			_mm512_mask_storeu_ps(out + (size_t)(i0 + p) * k->cout + co,
					      (__mmask16)((1u << n) - 1), v);
		}
	}
}

TGT void qnn_fconv_avx512(const struct qnn_fconvk *k, const float *in, int wp, int oh, int ow,
			  float *out)
{
	const int n = oh * ow;

	for (int b0 = 0; b0 < k->nb; b0 += 2) {
		if (k->nb - b0 >= 2)
			for (int i0 = 0; i0 < n; i0 += 8)
				ftile(k, in, wp, ow, i0, n - i0 < 8 ? n - i0 : 8, b0, out, 8, 2);
		else
			for (int i0 = 0; i0 < n; i0 += 8)
				ftile(k, in, wp, ow, i0, n - i0 < 8 ? n - i0 : 8, b0, out, 8, 1);
	}
}

#else
void qnn_fconv_avx512(const struct qnn_fconvk *k, const float *in, int wp, int oh, int ow,
		      float *out)
{
	qnn_fconv_ref(k, in, wp, oh, ow, out);
}
void qnn_conv_vnni(const struct qnn_convk *k, const uint8_t *in, int wp, int oh, int ow,
		   void *out)
{
	(void)k, (void)in, (void)wp, (void)oh, (void)ow, (void)out;
}
void qnn_conv_pool_vnni(const struct qnn_convk *k, const uint8_t *in, const struct qnn_inview *v,
			int ph, int pw, void *out)
{
	(void)k, (void)in, (void)v, (void)ph, (void)pw, (void)out;
}
#endif
