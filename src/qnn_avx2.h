/* qnn_avx2.h - private to the AVX2 kernels (qnn_avx2.c, qnn_avx2_dw.c): the
 * target attributes and the inline pieces they share (requantization,
 * packing and stores, bounded loads). Include only inside the
 * x86-64 GCC/clang branch of those files. */
#ifndef EMOTOP_QNN_AVX2_H
#define EMOTOP_QNN_AVX2_H

#include <string.h>
#include <immintrin.h>

#include "qnn_kern.h"

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

/* 16 bytes at p, widened to int16 (no end check: the caller has
 * proved p + 16 <= end). */
INL __m256i ld16(const uint8_t *p)
{
	return _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)p));
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

#endif
