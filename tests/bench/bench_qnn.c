/* bench_qnn.c - the emotion classifier on one core: per-face latency and
 * throughput of every kernel path this CPU has, GMAC/s against the core's
 * int8 MAC peak measured in the same run, per-layer conv times, and the
 * float32 path of the same network; ratios against scalar from this run.
 *
 *   build/bench/bench_qnn [model.qnn] [-s seconds per path]
 *
 * Times are thread CPU time (CLOCK_THREAD_CPUTIME_ID), so a training run
 * in the background does not stretch them; the per-layer profile of
 * qnn_ctx_profile() uses the same clock.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emotop/cpu.h"
#include "emotop/classify.h"
#include "emotop/qnn.h"
#include "qnn_rand.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define BENCH_MAX_RUNS 4000

/* Thread CPU time: on a busy machine, time slices lost to other processes
 * are not counted (on an idle one it equals wall time). */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

#if defined(__x86_64__)
/* 16 independent vpdpbusd chains (latency hidden): 64 MACs each. Written
 * in asm so the compiler cannot keep the accumulators in memory. */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"), noinline)) static double
peak_vnni(long iters)
{
	long n = iters;
	double t0 = now_s();
	__asm__ volatile(
		"vpxord %%zmm16, %%zmm16, %%zmm16\n\t"
		"vpternlogd $0xff, %%zmm17, %%zmm17, %%zmm17\n\t"
		"1:\n\t"
		"vpdpbusd %%zmm17, %%zmm16, %%zmm0\n\t"
		"vpdpbusd %%zmm17, %%zmm16, %%zmm1\n\t"
		"vpdpbusd %%zmm17, %%zmm16, %%zmm2\n\t"
		"vpdpbusd %%zmm17, %%zmm16, %%zmm3\n\t"
		"vpdpbusd %%zmm17, %%zmm16, %%zmm4\n\t"
		"vpdpbusd %%zmm17, %%zmm16, %%zmm5\n\t"
		"vpdpbusd %%zmm17, %%zmm16, %%zmm6\n\t"
		"vpdpbusd %%zmm17, %%zmm16, %%zmm7\n\t"
		"vpdpbusd %%zmm17, %%zmm16, %%zmm8\n\t"
		"vpdpbusd %%zmm17, %%zmm16, %%zmm9\n\t"
		"vpdpbusd %%zmm17, %%zmm16, %%zmm10\n\t"
		"vpdpbusd %%zmm17, %%zmm16, %%zmm11\n\t"
		"vpdpbusd %%zmm17, %%zmm16, %%zmm12\n\t"
		"vpdpbusd %%zmm17, %%zmm16, %%zmm13\n\t"
		"vpdpbusd %%zmm17, %%zmm16, %%zmm14\n\t"
		"vpdpbusd %%zmm17, %%zmm16, %%zmm15\n\t"
		"dec %0\n\t"
		"jnz 1b\n\t"
		"vzeroupper\n\t"
		: "+r"(n)
		:
		: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
		  "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "cc");
	return (double)iters * 16 * 64 / (now_s() - t0);
}

/* AVX2 int8 MACs as our AVX2 kernel does them: vpmaddwd + vpaddd (16 MACs),
 * 6 independent chains. */
__attribute__((target("avx2,fma"), noinline)) static double peak_avx2(long iters)
{
	long n = iters;
	double t0 = now_s();
	__asm__ volatile(
		"vpcmpeqd %%ymm14, %%ymm14, %%ymm14\n\t"
		"vpcmpeqd %%ymm15, %%ymm15, %%ymm15\n\t"
		"1:\n\t"
		"vpmaddwd %%ymm15, %%ymm14, %%ymm6\n\t"
		"vpmaddwd %%ymm15, %%ymm14, %%ymm7\n\t"
		"vpmaddwd %%ymm15, %%ymm14, %%ymm8\n\t"
		"vpmaddwd %%ymm15, %%ymm14, %%ymm9\n\t"
		"vpmaddwd %%ymm15, %%ymm14, %%ymm10\n\t"
		"vpmaddwd %%ymm15, %%ymm14, %%ymm11\n\t"
		"vpaddd %%ymm6, %%ymm0, %%ymm0\n\t"
		"vpaddd %%ymm7, %%ymm1, %%ymm1\n\t"
		"vpaddd %%ymm8, %%ymm2, %%ymm2\n\t"
		"vpaddd %%ymm9, %%ymm3, %%ymm3\n\t"
		"vpaddd %%ymm10, %%ymm4, %%ymm4\n\t"
		"vpaddd %%ymm11, %%ymm5, %%ymm5\n\t"
		"dec %0\n\t"
		"jnz 1b\n\t"
		"vzeroupper\n\t"
		: "+r"(n)
		:
		: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
		  "xmm10", "xmm11", "xmm14", "xmm15", "cc");
	return (double)iters * 6 * 16 / (now_s() - t0);
}
#endif

/* Best of many short tries of a peak probe: on a busy machine some of
 * them get the core to themselves. */
static double best_peak(double (*f)(long))
{
	double best = 0;
	for (int i = 0; i < 40; i++) {
		double v = f(200000);
		best = v > best ? v : best;
	}
	return best;
}

struct result {
	enum qnn_path path;
	int ok;
	double med, min;           /* seconds per face */
	double conv_s, conv_macs;  /* per run, conv layers */
	uint64_t *layer_ns;
	int runs;
};

/* Run fn(ctx) for about secs seconds (at least 5 runs), median and min. */
static int time_runs(struct qnn_ctx *x, const uint8_t *in, int isfloat, double secs, double *med,
		     double *min)
{
	static double t[BENCH_MAX_RUNS];
	int n = 0;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	const double start = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;

	for (int w = 0; w < 3; w++) /* warm up */
		if (isfloat ? qnn_run_float(x, in, 48, 48, 48) : qnn_run(x, in, 48, 48, 48))
			return 0;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (n >= BENCH_MAX_RUNS || (n >= 5 && (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec - start > secs))
			break;
		double t0 = now_s();
		if (isfloat)
			qnn_run_float(x, in, 48, 48, 48);
		else
			qnn_run(x, in, 48, 48, 48);
		t[n++] = now_s() - t0;
	}
	qsort(t, (size_t)n, sizeof(t[0]), cmp_d);
	*med = t[n / 2];
	*min = t[0];
	return n;
}

/* A MobileNet-style network of random weights on a 48x48 face: a 3x3
 * stride-2 conv to 32 channels, three blocks of depthwise 3x3, 1x1 and a
 * residual add, a global average pool and 7 float logits: the depthwise,
 * add and GAP kernels, which the shipped networks do not use. Median ms
 * per run on every path this CPU has, against scalar in the same run. */
static void bench_mobile(double secs, const uint8_t *in)
{
	struct qnn_model *m = rm_new(1);
	double base = 0;
	int t;

	if (!m)
		return;
	t = rm_conv(m, 0, 32, 3, 3, 2, 1, 0, 1, 0, 40);
	for (int b = 0; b < 3; b++) {
		int d = rm_conv(m, t, 32, 3, 3, 1, 1, 1, 1, 0, 40);
		int k = rm_conv(m, d, 32, 1, 1, 1, 0, 0, 0, 0, 40);
		t = rm_add(m, t, k, 1);
	}
	t = rm_pool(m, t, QNN_GAP, 0, 0, 0);
	rm_conv(m, t, 7, 1, 1, 1, 0, 0, 0, 1, 40);
	printf("\nMobileNet-style blocks (random weights; depthwise 3x3, 1x1, add, GAP), "
	       "%.2f M MAC per 48x48 face:\n", qnn_macs(m, 48, 48) / 1e6);
	for (enum qnn_path p = QNN_PATH_SCALAR; p <= QNN_PATH_AVX512VNNI; p++) {
		struct emo_err err;
		struct qnn_ctx *x;
		double med = 0, min = 0;

		if (!qnn_path_supported(p) || !(x = qnn_ctx_new(m, 48, 48, p, &err)))
			continue;
		if (time_runs(x, in, 0, secs / 2, &med, &min) > 0) {
			if (p == QNN_PATH_SCALAR)
				base = med;
			printf("  path %-12s %8.4f ms median  %6.1fx scalar\n", qnn_path_name(p),
			       med * 1e3, base > 0 && med > 0 ? base / med : 0);
		}
		qnn_ctx_free(x);
	}
	qnn_model_free(m);
}

/* One depthwise 3x3 layer alone (random weights, stride 1, pad 1, relu) on
 * a 80x60x96 map, the stride-8 map of a 640x480 frame in the face
 * detector: median thread CPU time per run on the scalar and AVX2 paths,
 * GMAC/s and the ratio to scalar from the same run. */
static void bench_dw(double secs)
{
	enum { DW_H = 60, DW_W = 80, DW_C = 96 };
	static double t[BENCH_MAX_RUNS];
	const enum qnn_path paths[2] = {QNN_PATH_SCALAR, QNN_PATH_AVX2};
	struct qnn_model *m = rm_new(DW_C);
	uint8_t *in = malloc((size_t)DW_H * DW_W * DW_C);
	double base = 0, macs;

	if (!m || !in)
		goto out;
	rm_conv(m, 0, DW_C, 3, 3, 1, 1, 1, 1, 0, 40);
	macs = (double)qnn_macs(m, DW_H, DW_W);
	rnd_fill(in, (size_t)DW_H * DW_W * DW_C);
	printf("\ndepthwise 3x3 alone, %dx%dx%d stride 1 (random weights), %.2f M MAC:\n", DW_W, DW_H,
	       DW_C, macs / 1e6);
	for (int p = 0; p < 2; p++) {
		struct emo_err err;
		struct qnn_ctx *x;
		struct timespec ts;
		int n = 0;

		if (!qnn_path_supported(paths[p]) ||
		    !(x = qnn_ctx_new(m, DW_H, DW_W, paths[p], &err)))
			continue;
		for (int w = 0; w < 3; w++) /* warm up */
			qnn_run(x, in, DW_H, DW_W, DW_W * DW_C);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		const double start = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
		for (;;) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			if (n >= BENCH_MAX_RUNS ||
			    (n >= 5 && (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec - start > secs / 2))
				break;
			double t0 = now_s();
			qnn_run(x, in, DW_H, DW_W, DW_W * DW_C);
			t[n++] = now_s() - t0;
		}
		qnn_ctx_free(x);
		qsort(t, (size_t)n, sizeof(t[0]), cmp_d);
		if (p == 0)
			base = t[n / 2];
		printf("  path %-12s %8.4f ms median  %6.2f GMAC/s  %6.1fx scalar\n",
		       qnn_path_name(paths[p]), t[n / 2] * 1e3, macs / t[n / 2] / 1e9,
		       base > 0 ? base / t[n / 2] : 0);
	}
out:
	free(in);
	qnn_model_free(m);
}

int main(int argc, char **argv)
{
	const char *path = "models/emo7.qnn";
	double secs = 2.0;
	struct qnn_model *m = NULL;
	struct emo_err err;
	struct cpu_info ci;
	uint8_t in[48 * 48];
	int explicit_model = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-s") && i + 1 < argc)
			secs = atof(argv[++i]);
		else {
			path = argv[i];
			explicit_model = 1;
		}
	}
	/* one core: stay on the CPU we start on */
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(sched_getcpu(), &set);
	sched_setaffinity(0, sizeof(set), &set);

	cpu_detect(&ci);
	printf("cpu: %s (avx2 %s, avx512 %s, avx512-vnni %s), one core (cpu %d)\n", ci.model,
	       ci.avx2 ? "yes" : "no", ci.avx512 ? "yes" : "no", ci.avx512vnni ? "yes" : "no",
	       sched_getcpu());
	if (qnn_model_load(path, &m, &err)) {
		if (explicit_model) {
			fprintf(stderr, "bench_qnn: %s: %s\n", path, err.msg);
			return 1;
		}
		printf("model: %s not loaded (%s); using a RANDOM model of the shipped architecture\n",
		       path, err.msg);
		m = rm_classifier(8);
	} else {
		printf("model: %s\n", path);
	}
	if (!m)
		return 1;
	const uint64_t macs = qnn_macs(m, 48, 48);
	printf("network: %d layers, %.1f M MAC per 48x48 face\n", m->n_layers, macs / 1e6);
	for (int i = 0; i < 48 * 48; i++)
		in[i] = (uint8_t)(128 + 90 * sin(i * 0.05) * cos(i * 0.013));

	double peak = 0, peak2 = 0;
#if defined(__x86_64__)
	if (ci.avx512vnni)
		peak = best_peak(peak_vnni);
	if (ci.avx2)
		peak2 = best_peak(peak_avx2);
#endif
	if (peak > 0)
		printf("int8 MAC peak (vpdpbusd zmm, 16 chains):   %.1f GMAC/s\n", peak / 1e9);
	if (peak2 > 0)
		printf("avx2 int8 MAC peak (vpmaddwd+vpaddd ymm):  %.1f GMAC/s\n", peak2 / 1e9);
	if (peak <= 0)
		peak = peak2;

	struct result res[3];
	const enum qnn_path paths[3] = {QNN_PATH_SCALAR, QNN_PATH_AVX2, QNN_PATH_AVX512VNNI};
	int best = -1;
	for (int p = 0; p < 3; p++) {
		struct result *r = &res[p];
		memset(r, 0, sizeof(*r));
		r->path = paths[p];
		if (!qnn_path_supported(paths[p])) {
			printf("path %-12s skipped: not supported by this CPU\n", qnn_path_name(paths[p]));
			continue;
		}
		struct qnn_ctx *x = qnn_ctx_new(m, 48, 48, paths[p], &err);
		if (!x) {
			fprintf(stderr, "bench_qnn: %s\n", err.msg);
			return 1;
		}
		r->runs = time_runs(x, in, 0, p == 0 ? secs / 2 : secs, &r->med, &r->min);
		r->ok = r->runs > 0;
		/* per-layer profile: median of each layer over the profiled runs */
		r->layer_ns = calloc((size_t)m->n_layers, sizeof(uint64_t));
		const int pr = p == 0 ? 5 : 201;
		uint64_t *ns = calloc((size_t)m->n_layers, sizeof(uint64_t));
		double *samp = calloc((size_t)pr * m->n_layers, sizeof(double));
		if (!r->layer_ns || !ns || !samp)
			return 1;
		qnn_ctx_profile(x, ns);
		for (int i = 0; i < pr; i++) {
			memset(ns, 0, sizeof(uint64_t) * (size_t)m->n_layers);
			qnn_run(x, in, 48, 48, 48);
			for (int l = 0; l < m->n_layers; l++)
				samp[(size_t)l * pr + i] = (double)ns[l];
		}
		qnn_ctx_profile(x, NULL);
		for (int l = 0; l < m->n_layers; l++) {
			qsort(samp + (size_t)l * pr, (size_t)pr, sizeof(double), cmp_d);
			r->layer_ns[l] = (uint64_t)samp[(size_t)l * pr + pr / 2];
			if (m->layers[l].type == QNN_CONV)
				r->conv_s += r->layer_ns[l] * 1e-9;
		}
		free(ns);
		free(samp);
		qnn_ctx_free(x);
		if (r->ok)
			best = p;
	}
	/* conv MACs per layer */
	int th[QNN_MAX_TENSORS], tw[QNN_MAX_TENSORS];
	th[0] = tw[0] = 48;
	double conv_macs = 0;
	uint64_t lmacs[QNN_MAX_LAYERS] = {0};
	for (int i = 0; i < m->n_layers; i++) {
		const struct qnn_layer *l = &m->layers[i];
		int ih = th[l->in], iw = tw[l->in];
		if (l->type == QNN_CONV || l->type == QNN_MAXPOOL) {
			th[l->out] = (ih + 2 * l->pad - l->kh) / l->stride + 1;
			tw[l->out] = (iw + 2 * l->pad - l->kw) / l->stride + 1;
		} else if (l->type == QNN_GAP) {
			th[l->out] = tw[l->out] = 1;
		} else if (l->type == QNN_UPSAMPLE2) {
			th[l->out] = 2 * ih;
			tw[l->out] = 2 * iw;
		} else {
			th[l->out] = ih;
			tw[l->out] = iw;
		}
		if (l->type == QNN_CONV) {
			lmacs[i] = (uint64_t)th[l->out] * tw[l->out] * l->cout * l->kh * l->kw *
				   (uint64_t)(l->cin / l->groups);
			conv_macs += (double)lmacs[i];
		}
	}

	const double base = res[0].ok ? res[0].med : 0;
	const double base_min = res[0].ok ? res[0].min : 0;
	printf("\n(GMAC/s, %% of the int8 peak and faces/s from the median; the last column\n"
	       " compares minimum times, less sensitive to other load on the machine)\n");
	printf("%-12s %10s %10s %10s %9s %9s %10s %10s\n", "path", "median ms", "min ms", "faces/s",
	       "GMAC/s", "% peak", "x scalar", "x (min)");
	for (int p = 0; p < 3; p++) {
		const struct result *r = &res[p];
		if (!r->ok)
			continue;
		double g = macs / r->med;
		printf("%-12s %10.3f %10.3f %10.0f %9.1f %8.1f%% %9.1fx %9.1fx\n", qnn_path_name(r->path),
		       r->med * 1e3, r->min * 1e3, 1 / r->med, g / 1e9, peak > 0 ? 100 * g / peak : 0,
		       base > 0 ? base / r->med : 0, base_min > 0 ? base_min / r->min : 0);
	}
	/* float path: the best path's context (AVX-512F or AVX2/FMA float kernel) */
	{
		enum qnn_path fp = best >= 0 ? paths[best] : QNN_PATH_SCALAR;
		struct qnn_ctx *x = qnn_ctx_new(m, 48, 48, fp, &err);
		double med, min;
		if (x && time_runs(x, in, 1, secs, &med, &min))
			printf("%-12s %10.3f %10.3f %10.0f %9.1f %9s %9.1fx %9.1fx   (float32 path: %s)\n",
			       "float32", med * 1e3, min * 1e3, 1 / med, macs / med / 1e9, "-",
			       base > 0 ? base / med : 0, base_min > 0 ? base_min / min : 0,
			       fp == QNN_PATH_SCALAR ? "scalar" : fp == QNN_PATH_AVX2 ? "avx2+fma" : "avx512f");
		qnn_ctx_free(x);
	}

	if (best >= 0) {
		const struct result *r = &res[best];
		printf("\nper layer, path %s (median of profiled runs; scalar ms for reference):\n",
		       qnn_path_name(r->path));
		printf("%-5s %-28s %9s %9s %8s %11s\n", "layer", "shape", "ms", "GMAC/s", "% peak",
		       "scalar ms");
		for (int i = 0; i < m->n_layers; i++) {
			const struct qnn_layer *l = &m->layers[i];
			char shape[64];
			if (l->type == QNN_CONV)
				snprintf(shape, sizeof(shape), "conv%dx%d %dx%dx%d->%d%s", l->kh, l->kw,
					 th[l->in], tw[l->in], l->cin, l->cout, l->float_out ? " f" : "");
			else
				snprintf(shape, sizeof(shape), "%s %dx%dx%d",
					 l->type == QNN_MAXPOOL ? "maxpool" : "other", th[l->in], tw[l->in],
					 l->cin);
			double ms = r->layer_ns[i] * 1e-6;
			double g = lmacs[i] && ms > 0 ? lmacs[i] / (ms * 1e-3) : 0;
			printf("%-5d %-28s %9.4f %9.1f %7.1f%% %11.3f\n", i, shape, ms, g / 1e9,
			       peak > 0 ? 100 * g / peak : 0, res[0].ok ? res[0].layer_ns[i] * 1e-6 : 0);
		}
		double cg = conv_macs / r->conv_s;
		printf("conv layers: %.1f M MAC in %.3f ms = %.1f GMAC/s = %.1f%% of the int8 peak\n",
		       conv_macs / 1e6, r->conv_s * 1e3, cg / 1e9, peak > 0 ? 100 * cg / peak : 0);
		printf("per face: %.3f ms median (%s), target <= 1 ms: %s\n", r->med * 1e3,
		       qnn_path_name(r->path), r->med <= 1e-3 ? "met" : "NOT met");
	}
	/* the embedded classifier as emotop runs it on a face of a frame:
	 * alignment, every network of the ensemble, preprocessing and softmax
	 * included; one framing (the default), three (classifier.scale_tta),
	 * and three with flip test-time augmentation */
	{
		static const int cfg[3][2] = {{0, 0}, {1, 0}, {1, 1}}; /* scale_tta, flip_tta */
		static const char *name[3] = {"one framing (the default)", "three framings (scale_tta)",
					      "three framings and flip TTA"};
		double one = 0;
		struct emo_image frame = {0}, tile = {48, 48, 48, in};
		struct emo_face face;
		memset(&face, 0, sizeof(face));
		face.box = (struct emo_box){40, 40, 80, 80};
		if (!explicit_model && image_new(&frame, 160, 160) == EMO_OK) {
			struct emo_image dst = {96, 96, frame.stride, frame.px + 32 * frame.stride + 32};
			memset(frame.px, 128, (size_t)frame.stride * frame.h);
			image_resize(&tile, &dst);
		}
		for (int k = 0; k < 3 && frame.px; k++) {
			struct classify_opts co;
			struct classify *c;
			float pr[EMO_NUM_CLASSES];
			static double t[BENCH_MAX_RUNS];
			int n = 0;
			classify_opts_default(&co);
			co.scale_tta = cfg[k][0];
			co.flip_tta = cfg[k][1];
			if (!(c = classify_new(&co, NULL)))
				break;
			for (int w = 0; w < 3; w++)
				classify_face(c, &frame, &face, pr);
			double t_end = now_s() + secs;
			while (n < BENCH_MAX_RUNS && (n < 5 || now_s() < t_end)) {
				double t0 = now_s();
				classify_face(c, &frame, &face, pr);
				t[n++] = now_s() - t0;
			}
			qsort(t, (size_t)n, sizeof(t[0]), cmp_d);
			if (!k)
				one = t[n / 2];
			/* classify_new takes QNN_PATH_AUTO: the best path, capped by
			 * EMOTOP_QNN_PATH */
			printf("%sembedded classifier (%d network%s), as emotop runs it, %s, path %s: %.3f ms "
			       "per face median (%.2fx one framing)\n",
			       k ? "" : "\n", classify_n_nets(c), classify_n_nets(c) > 1 ? "s averaged" : "",
			       name[k], qnn_path_name(qnn_best_path()), t[n / 2] * 1e3,
			       one > 0 ? t[n / 2] / one : 0);
			classify_free(c);
		}
		image_free(&frame);
	}
	bench_mobile(secs, in);
	bench_dw(secs);
	for (int p = 0; p < 3; p++)
		free(res[p].layer_ns);
	qnn_model_free(m);
	return 0;
}
