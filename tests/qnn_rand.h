/* qnn_rand.h - random int8 models for the engine's tests and benchmark
 * (header-only, test code). Weights, zero points and requantization are
 * random but consistent (M = s_in * w_scale / s_out), with outputs spread
 * over the uint8 range rather than saturated. */
#ifndef EMOTOP_QNN_RAND_H
#define EMOTOP_QNN_RAND_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emotop/qnn.h"

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static inline uint32_t rnd_u32(void)
{
	/* xorshift64* */
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return (uint32_t)((rnd_state * 0x2545f4914f6cdd1dull) >> 32);
}

static inline int rnd_int(int lo, int hi) /* inclusive */
{
	return lo + (int)(rnd_u32() % (uint32_t)(hi - lo + 1));
}

static inline double rnd_unit(void)
{
	return rnd_u32() / 4294967296.0;
}

static inline void rnd_fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd_u32();
}

/* New empty model with an input tensor of c channels (scale 1/255, z 0). */
static inline struct qnn_model *rm_new(int c)
{
	struct qnn_model *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->n_tensors = 1;
	m->tensors[0] = (struct qnn_tensor){.scale = 1.0f / 255, .zero_point = 0, .c = c};
	snprintf(m->meta, sizeof(m->meta), "task=test\n");
	return m;
}

static inline int rm_tensor(struct qnn_model *m, int c, float scale, int zp)
{
	int t = m->n_tensors++;
	m->tensors[t] = (struct qnn_tensor){.scale = scale, .zero_point = zp, .c = c};
	return t;
}

/* Conv layer in -> new tensor; returns the new tensor id. spread: the
 * typical |output| in output LSBs. */
static inline int rm_conv(struct qnn_model *m, int in, int cout, int kh, int kw, int stride,
			  int pad, int dw, int relu, int float_out, double spread)
{
	const struct qnn_tensor *ti = &m->tensors[in];
	const int cin = ti->c, groups = dw ? cin : 1, cg = cin / groups;
	const size_t K = (size_t)kh * kw * cg;
	int zo = float_out ? 0 : relu ? rnd_int(0, 20) : rnd_int(100, 156);
	float so = (float)(0.01 + 0.05 * rnd_unit());
	int out = rm_tensor(m, dw ? cin : cout, so, zo);
	struct qnn_layer *l = &m->layers[m->n_layers++];

	if (dw)
		cout = cin;
	*l = (struct qnn_layer){.type = QNN_CONV, .in = in, .in2 = -1, .out = out, .kh = kh, .kw = kw,
				.stride = stride, .pad = pad, .groups = groups, .relu = relu,
				.float_out = float_out, .cin = cin, .cout = cout};
	l->w = malloc(K * cout);
	l->bias = malloc(sizeof(int32_t) * cout);
	l->mult = malloc(sizeof(int32_t) * cout);
	l->shift = malloc(sizeof(int32_t) * cout);
	l->w_scale = malloc(sizeof(float) * cout);
	for (size_t i = 0; i < K * cout; i++)
		l->w[i] = (int8_t)rnd_int(-127, 127);
	/* |acc| is about sqrt(K) * 70 * 73 for centred input */
	double accs = sqrt((double)K) * 70 * 73;
	for (int c = 0; c < cout; c++) {
		double M = spread / accs * (0.5 + rnd_unit());
		if (c % 11 == 5)
			M *= 0.001; /* tiny multipliers: long right shifts */
		l->w_scale[c] = (float)(M * so / ti->scale);
		l->bias[c] = (int32_t)((rnd_unit() - 0.5) * accs);
		qnn_quantize_multiplier(M, &l->mult[c], &l->shift[c]);
	}
	if (cout > 3) {
		l->mult[cout - 1] = l->shift[cout - 1] = 0; /* a dead channel */
		l->w_scale[cout - 1] = 0;
	}
	return out;
}

static inline int rm_pool(struct qnn_model *m, int in, int type, int k, int stride, int pad)
{
	const struct qnn_tensor ti = m->tensors[in];
	int out = rm_tensor(m, ti.c, ti.scale, ti.zero_point);
	struct qnn_layer *l = &m->layers[m->n_layers++];

	*l = (struct qnn_layer){.type = (uint32_t)type, .in = in, .in2 = -1, .out = out,
				.cin = ti.c, .cout = ti.c};
	if (type == QNN_MAXPOOL) {
		l->kh = l->kw = k;
		l->stride = stride;
		l->pad = pad;
	}
	return out;
}

static inline int rm_add(struct qnn_model *m, int a, int b, int relu)
{
	const struct qnn_tensor ta = m->tensors[a], tb = m->tensors[b];
	float so = (ta.scale + tb.scale) * 0.75f;
	int out = rm_tensor(m, ta.c, so, relu ? 10 : 128);
	struct qnn_layer *l = &m->layers[m->n_layers++];

	*l = (struct qnn_layer){.type = QNN_ADD, .in = a, .in2 = b, .out = out, .relu = relu,
				.cin = ta.c, .cout = ta.c};
	qnn_quantize_multiplier(ta.scale / so, &l->add_mult[0], &l->add_shift[0]);
	qnn_quantize_multiplier(tb.scale / so, &l->add_mult[1], &l->add_shift[1]);
	return out;
}

/* The shipped classifier's architecture (48x48x1 -> 7 float logits),
 * channel widths scaled by wmul/8 (8: 32-64-128-256). */
static inline struct qnn_model *rm_classifier(int wmul)
{
	struct qnn_model *m = rm_new(1);
	int t = 0, c = 4 * wmul;

	if (!m)
		return NULL;
	for (int stage = 0; stage < 4; stage++, c *= 2) {
		t = rm_conv(m, t, c, 3, 3, 1, 1, 0, 1, 0, 40);
		t = rm_conv(m, t, c, 3, 3, 1, 1, 0, 1, 0, 40);
		t = rm_pool(m, t, QNN_MAXPOOL, 2, 2, 0);
	}
	t = rm_conv(m, t, 32 * wmul, 3, 3, 1, 0, 0, 1, 0, 40);
	rm_conv(m, t, 7, 1, 1, 1, 0, 0, 0, 1, 40);
	snprintf(m->meta, sizeof(m->meta),
		 "task=classify\ninput_w=48\ninput_h=48\nlabels=angry,disgust,fear,happy,sad,surprise,neutral\n");
	return m;
}

#endif
