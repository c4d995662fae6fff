/* qnn_kern.c - scalar reference kernels of the int8 engine (and of its
 * float twin): the definition the SIMD kernels are tested against. */
#include <string.h>

#include "qnn_kern.h"

static uint8_t clamp_u8(int32_t v, int32_t lo)
{
	return (uint8_t)(v < lo ? lo : v > 255 ? 255 : v);
}

/* a + b modulo 2^32, as the SIMD kernels' 32-bit lanes add: a requantized
 * value near 2^31 (a left shift, a bias near the limit) wraps instead of
 * overflowing, which C leaves undefined */
static int32_t wrap_add(int32_t a, int32_t b)
{
	return (int32_t)((uint32_t)a + (uint32_t)b);
}

void qnn_ref_conv(const struct qnn_layer *l, const struct qnn_tensor *ti,
		  const struct qnn_tensor *to, const uint8_t *in, int h, int w, int in_stride,
		  int oh, int ow, void *out)
{
	const int cin = l->cin, cout = l->cout, cg = cin / l->groups, dw = l->groups > 1;
	const int32_t zi = ti->zero_point, zo = to->zero_point, lo = l->relu ? zo : 0;
	uint8_t *qo = out;
	float *fo = out;

	for (int oy = 0; oy < oh; oy++)
		for (int ox = 0; ox < ow; ox++) {
			size_t opix = ((size_t)oy * ow + ox) * cout;
			for (int c = 0; c < cout; c++) {
				/* uint32: the accumulation wraps, as documented */
				uint32_t acc = (uint32_t)l->bias[c];
				const int8_t *wc = l->w + (size_t)c * l->kh * l->kw * cg;
				for (int ky = 0; ky < l->kh; ky++) {
					int iy = oy * l->stride - l->pad + ky;
					if (iy < 0 || iy >= h)
						continue;
					for (int kx = 0; kx < l->kw; kx++) {
						int ix = ox * l->stride - l->pad + kx;
						if (ix < 0 || ix >= w)
							continue;
						const uint8_t *px = in + (size_t)iy * in_stride + (size_t)ix * cin;
						const int8_t *wk = wc + ((size_t)ky * l->kw + kx) * cg;
						if (dw) {
							acc += (uint32_t)((px[c] - zi) * wk[0]);
						} else {
							for (int ci = 0; ci < cin; ci++)
								acc += (uint32_t)((px[ci] - zi) * wk[ci]);
						}
					}
				}
				if (l->float_out)
					fo[opix + c] = (float)(int32_t)acc * (ti->scale * l->w_scale[c]);
				else
					qo[opix + c] = clamp_u8(
						wrap_add(zo, qnn_requantize((int32_t)acc, l->mult[c],
									    l->shift[c])),
						lo);
			}
		}
}

void qnn_ref_maxpool(const struct qnn_layer *l, const uint8_t *in, int h, int w, int in_stride,
		     int oh, int ow, uint8_t *out)
{
	const int c = l->cin;

	for (int oy = 0; oy < oh; oy++)
		for (int ox = 0; ox < ow; ox++) {
			uint8_t *o = out + ((size_t)oy * ow + ox) * c;
			memset(o, 0, (size_t)c);
			for (int ky = 0; ky < l->kh; ky++) {
				int iy = oy * l->stride - l->pad + ky;
				if (iy < 0 || iy >= h)
					continue;
				for (int kx = 0; kx < l->kw; kx++) {
					int ix = ox * l->stride - l->pad + kx;
					if (ix < 0 || ix >= w)
						continue;
					const uint8_t *p = in + (size_t)iy * in_stride + (size_t)ix * c;
					for (int k = 0; k < c; k++)
						if (p[k] > o[k])
							o[k] = p[k];
				}
			}
		}
}

void qnn_ref_gap(const struct qnn_layer *l, const struct qnn_tensor *ti, const uint8_t *in,
		 int h, int w, int in_stride, uint8_t *out)
{
	const int c = l->cin, z = ti->zero_point;
	const int64_t n = (int64_t)h * w;

	for (int k = 0; k < c; k++) {
		int64_t s = 0;
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++)
				s += in[(size_t)y * in_stride + (size_t)x * c + k] - z;
		/* round half away from zero */
		int64_t q = s >= 0 ? (s + n / 2) / n : -((-s + n / 2) / n);
		out[k] = clamp_u8((int32_t)(q + z), 0);
	}
}

void qnn_ref_add(const struct qnn_layer *l, const struct qnn_tensor *ti,
		 const struct qnn_tensor *ti2, const struct qnn_tensor *to, const uint8_t *a,
		 int a_stride, const uint8_t *b, int b_stride, int h, int w, uint8_t *out)
{
	const int c = l->cin;
	const int32_t zo = to->zero_point, lo = l->relu ? zo : 0;

	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			for (int k = 0; k < c; k++) {
				int32_t va = a[(size_t)y * a_stride + (size_t)x * c + k] - ti->zero_point;
				int32_t vb = b[(size_t)y * b_stride + (size_t)x * c + k] - ti2->zero_point;
				int32_t v = wrap_add(wrap_add(zo, qnn_requantize(va, l->add_mult[0],
										  l->add_shift[0])),
						     qnn_requantize(vb, l->add_mult[1], l->add_shift[1]));
				out[((size_t)y * w + x) * c + k] = clamp_u8(v, lo);
			}
}

void qnn_ref_upsample2(const struct qnn_layer *l, const uint8_t *in, int h, int w,
		       int in_stride, uint8_t *out)
{
	const size_t c = (size_t)l->cin;

	for (int y = 0; y < 2 * h; y++)
		for (int x = 0; x < 2 * w; x++)
			memcpy(out + ((size_t)y * 2 * w + x) * c, in + (size_t)(y / 2) * in_stride + (x / 2) * c,
			       c);
}

/* Float conv, dense groups == 1: tiles of 4 pixels x 16 channels. */
void qnn_fconv_ref(const struct qnn_fconvk *k, const float *in, int wp, int oh, int ow,
		   float *out)
{
	const int n = oh * ow, cin = k->cin;
	const size_t wblock = (size_t)k->kh * k->kw * cin * 16;

	for (int b = 0; b < k->nb; b++) {
		int cn = k->cout - 16 * b < 16 ? k->cout - 16 * b : 16;
		for (int i0 = 0; i0 < n; i0 += 4) {
			float acc[4][16];
			const float *px[4];
			int np = n - i0 < 4 ? n - i0 : 4;
			size_t idx[4];
			qnn_tile_index(i0, np, 4, ow, wp, k->stride, cin, idx);
			for (int p = 0; p < 4; p++) {
				px[p] = in + idx[p];
				for (int j = 0; j < 16; j++)
					acc[p][j] = k->bias[16 * b + j];
			}
			const float *wk = k->w + b * wblock;
			for (int ky = 0; ky < k->kh; ky++)
				for (int kx = 0; kx < k->kw; kx++) {
					size_t off = ((size_t)ky * wp + kx) * cin;
					for (int ci = 0; ci < cin; ci++, wk += 16)
						for (int p = 0; p < 4; p++) {
							float x = px[p][off + ci];
							for (int j = 0; j < 16; j++)
								acc[p][j] += x * wk[j];
						}
				}
			for (int p = 0; p < np; p++) {
				float *o = out + (size_t)(i0 + p) * k->cout + 16 * b;
				for (int j = 0; j < cn; j++)
					o[j] = k->relu && acc[p][j] < 0 ? 0 : acc[p][j];
			}
		}
	}
}

void qnn_fref_dwconv(const struct qnn_layer *l, const struct qnn_tensor *ti, const float *in,
		     int h, int w, int oh, int ow, float *out)
{
	const int c = l->cin;

	for (int oy = 0; oy < oh; oy++)
		for (int ox = 0; ox < ow; ox++)
			for (int k = 0; k < c; k++) {
				float s = 0;
				for (int ky = 0; ky < l->kh; ky++) {
					int iy = oy * l->stride - l->pad + ky;
					if (iy < 0 || iy >= h)
						continue;
					for (int kx = 0; kx < l->kw; kx++) {
						int ix = ox * l->stride - l->pad + kx;
						if (ix < 0 || ix >= w)
							continue;
						s += in[((size_t)iy * w + ix) * c + k] *
						     (float)l->w[((size_t)k * l->kh + ky) * l->kw + kx];
					}
				}
				float v = (s + (float)l->bias[k] * ti->scale) * l->w_scale[k];
				if (l->relu && v < 0)
					v = 0;
				out[((size_t)oy * ow + ox) * c + k] = v;
			}
}

void qnn_fref_maxpool(const struct qnn_layer *l, const float *in, int h, int w, int oh, int ow,
		      float *out)
{
	const int c = l->cin;

	for (int oy = 0; oy < oh; oy++)
		for (int ox = 0; ox < ow; ox++)
			for (int k = 0; k < c; k++) {
				int any = 0;
				float m = 0;
				for (int ky = 0; ky < l->kh; ky++) {
					int iy = oy * l->stride - l->pad + ky;
					if (iy < 0 || iy >= h)
						continue;
					for (int kx = 0; kx < l->kw; kx++) {
						int ix = ox * l->stride - l->pad + kx;
						if (ix < 0 || ix >= w)
							continue;
						float v = in[((size_t)iy * w + ix) * c + k];
						if (!any || v > m)
							m = v;
						any = 1;
					}
				}
				out[((size_t)oy * ow + ox) * c + k] = m;
			}
}

void qnn_fref_gap(const struct qnn_layer *l, const float *in, int h, int w, float *out)
{
	const int c = l->cin;

	for (int k = 0; k < c; k++) {
		double s = 0;
		for (int i = 0; i < h * w; i++)
			s += in[(size_t)i * c + k];
		out[k] = (float)(s / ((double)h * w));
	}
}

void qnn_fref_add(const struct qnn_layer *l, const float *a, const float *b, int h, int w,
		  float *out)
{
	const size_t n = (size_t)h * w * l->cin;

	for (size_t i = 0; i < n; i++) {
		float v = a[i] + b[i];
		out[i] = l->relu && v < 0 ? 0 : v;
	}
}

void qnn_fref_upsample2(const struct qnn_layer *l, const float *in, int h, int w, float *out)
{
	const size_t c = (size_t)l->cin;

	for (int y = 0; y < 2 * h; y++)
		for (int x = 0; x < 2 * w; x++)
			memcpy(out + ((size_t)y * 2 * w + x) * c, in + ((size_t)(y / 2) * w + x / 2) * c,
			       c * sizeof(float));
}
