/* bench_detect.c - `make bench`: the face detector's speed (one core, 640x480
 * and 1920x1080, min face 20 and 40) and accuracy (held-out WebFaces at a
 * budget of 0.01 false alarms per negative image, 1080p 5x5 FER2013
 * galleries), and OpenCV's Haar cascade on the same frames in the same run
 * (tests/bench/haar_bench.py; benchmark only, skipped without python3-opencv).
 *
 * Times are the thread's CPU time (CLOCK_THREAD_CPUTIME_ID; the detector runs
 * on one thread), so a training run on the other core does not lengthen them;
 * haar_bench.py measures OpenCV the same way.
 *
 * Env: SHARED (default ../shared), EMOTOP_FACE_MODEL (default: embedded),
 * EMOTOP_VERIFY_MODEL (default: the embedded verifier with the embedded
 * detector, none with EMOTOP_FACE_MODEL: the verifier is calibrated for one
 * first stage), BENCH_QUICK=1 (fewer frames).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "emotop/detect.h"
#include "emotop/image.h"
#include "emotop/qnn.h"
#include "train/detect_train.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void cpu_name(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	snprintf(buf, len, "unknown CPU");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
			char *p = strchr(line, ':') + 2;
			p[strcspn(p, "\n")] = '\0';
			snprintf(buf, len, "%s", p);
			break;
		}
	fclose(f);
}

static float box_iou(const struct emo_box *a, const struct emo_box *b)
{
	float iw = fminf(a->x + a->w, b->x + b->w) - fmaxf(a->x, b->x);
	float ih = fminf(a->y + a->h, b->y + b->h) - fmaxf(a->y, b->y);
	float i = iw > 0 && ih > 0 ? iw * ih : 0;
	return i / (a->w * a->h + b->w * b->h - i);
}

/* The galleries of set as emotop runs them when the config names the grid
 * (rows x cols cells, detector.cell_threshold cell_thr), with the models
 * benchmarked (NULL: the embedded ones): faces found at IoU >= 0.3 (issue
 * 18's gallery criterion, as dt_evaluate counts them) and false alarms. Returns 0, or -1 when the detector cannot be made. */
static int gallery_mode(const struct dt_evset *set, const char *model, const char *vmodel, int rows,
			int cols, float cell_thr, int *hit, int *gt, int *fa)
{
	struct emo_box cells[64];
	struct emo_face f[256];
	struct detect_opts o;
	struct emo_err e;

	*hit = *gt = *fa = 0;
	for (int i = 0; i < set->n; i++) {
		const struct dt_evimg *im = &set->im[i];
		struct detect *d;
		int n, used[256] = {0};
		if (im->kind != DT_EV_GALLERY)
			continue;
		for (int r = 0; r < rows; r++)
			for (int c = 0; c < cols; c++)
				cells[r * cols + c] = (struct emo_box){(float)c * im->img.w / cols,
								(float)r * im->img.h / rows,
								(float)im->img.w / cols, (float)im->img.h / rows};
		detect_opts_default(&o);
		o.model_path = model;
		o.verify_path = vmodel;
		o.regions = cells;
		o.n_regions = rows * cols;
		o.cell_threshold = cell_thr;
		if (!(d = detect_new(&o, &e))) {
			fprintf(stderr, "bench_detect: gallery mode: %s\n", e.msg);
			return -1;
		}
		n = detect_run(d, &im->img, f, 256);
		detect_free(d);
		for (int k = 0; k < im->n_gt; k++)
			for (int j = 0; j < n; j++)
				if (!used[j] && box_iou(&im->gt[k], &f[j].box) >= 0.3f) {
					used[j] = 1;
					(*hit)++;
					break;
				}
		*gt += im->n_gt;
		for (int j = 0; j < n; j++)
			*fa += !used[j];
	}
	return 0;
}

static int write_pgm(const char *path, const struct emo_image *im)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	fprintf(f, "P5\n%d %d\n255\n", im->w, im->h);
	for (int y = 0; y < im->h; y++)
		fwrite(im->px + (size_t)y * im->stride, 1, (size_t)im->w, f);
	return fclose(f);
}

/* Median ms of detect_run over frames (each run reps times). */
static double time_frames(struct detect *d, struct emo_image *fr, int n, int reps, int *faces)
{
	struct emo_face out[256];
	double *t = malloc(sizeof(double) * (size_t)(n * reps)), med;
	int k = 0;

	*faces = 0;
	for (int i = 0; i < n; i++)
		detect_run(d, &fr[i], out, 256); /* warm up, sizes the arena */
	for (int r = 0; r < reps; r++)
		for (int i = 0; i < n; i++) {
			double t0 = now_ms();
			int m = detect_run(d, &fr[i], out, 256);
			t[k++] = now_ms() - t0;
			if (r == 0 && m > 0)
				*faces += m;
		}
	qsort(t, (size_t)k, sizeof(double), cmp_d);
	med = t[k / 2];
	free(t);
	return med;
}

int main(void)
{
	const char *shared = getenv("SHARED") && *getenv("SHARED") ? getenv("SHARED") : "../shared";
	const char *model = getenv("EMOTOP_FACE_MODEL");
	const char *vmodel = getenv("EMOTOP_VERIFY_MODEL"); /* NULL: the embedded verifier */
	struct detect *d20s = NULL, *dlows = NULL; /* the first stage alone */
	int quick = getenv("BENCH_QUICK") != NULL;
	char cpu[256], faces[4096], fer[4096], dir[] = "/tmp/emotop-bench-XXXXXX", path[4200];
	struct detect_opts o;
	struct detect *d20, *d40, *d10, *dlow, *dauto;
	struct emo_err e = {0};
	struct emo_image fr640[8], fr1080[4];
	const int n640 = 8, n1080 = 4;
	double ms[2][2];
	int nf, have_shared;
	struct stat sb;
	struct dt_evset set;
	struct dt_evres r;
	FILE *man;

	cpu_name(cpu, sizeof(cpu));
	snprintf(faces, sizeof(faces), "%s/data/faces", shared);
	snprintf(fer, sizeof(fer), "%s/data/fer2013/test", shared);
	have_shared = !stat(faces, &sb) && S_ISDIR(sb.st_mode);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	detect_opts_default(&o);
	o.model_path = model;
	o.verify_path = vmodel;
	if (!(d20 = detect_new(&o, &e))) {
		fprintf(stderr, "bench_detect: %s\n", e.msg);
		return 1;
	}
	if (!strcmp(detect_kernel_path(d20), "regions")) {
		printf("SKIP: no face detector model in this build\n");
		detect_free(d20);
		return 0;
	}
	o.min_face = 40;
	d40 = detect_new(&o, &e);
	o.min_face = 10; /* a wide classroom camera: the first level upscaled 2x */
	d10 = detect_new(&o, &e);
	o.min_face = 0; /* auto, emotop's default: 10 at 640x480, 15 at 720p, 20 at 1080p */
	dauto = detect_new(&o, &e);
	o.min_face = 20;
	o.threshold = 0.05f;
	dlow = detect_new(&o, &e);
	o.verify_path = "none";
	dlows = detect_new(&o, &e);
	o.threshold = 0.5f;
	d20s = detect_new(&o, &e);
	if (!d40 || !d10 || !dauto || !dlow || !dlows || !d20s)
		return 1;
	printf("CPU: %s; kernel path %s; one thread, its CPU time\n", cpu, detect_kernel_path(d20));
	if (model && !vmodel)
		printf("EMOTOP_FACE_MODEL without EMOTOP_VERIFY_MODEL: the first stage alone (the "
		       "embedded verifier is calibrated for the embedded first stage)\n");

	/* timing frames: held-out photos (or a synthetic pattern) stretched */
	if (have_shared && dt_evset_load(&set, faces, NULL, 0, 0, 0, 0, 0, 0, 0, NULL) == 0) {
		for (int i = 0; i < n640; i++) {
			image_new(&fr640[i], 640, 480);
			image_resize(&set.im[i * 7 % set.n_photo].img, &fr640[i]);
		}
		for (int i = 0; i < n1080; i++) {
			image_new(&fr1080[i], 1920, 1080);
			image_resize(&set.im[i * 13 % set.n_photo].img, &fr1080[i]);
		}
		dt_evset_free(&set);
	} else {
		for (int i = 0; i < n640; i++) {
			image_new(&fr640[i], 640, 480);
			for (int p = 0; p < 640 * 480; p++)
				fr640[i].px[p] = (uint8_t)((p * 7 + i * 31) ^ (p >> 9));
		}
		for (int i = 0; i < n1080; i++) {
			image_new(&fr1080[i], 1920, 1080);
			for (int p = 0; p < 1920 * 1080; p++)
				fr1080[i].px[p] = (uint8_t)((p * 5 + i * 17) ^ (p >> 10));
		}
	}
	ms[0][0] = time_frames(d20, fr640, n640, quick ? 3 : 10, &nf);
	ms[0][1] = time_frames(d40, fr640, n640, quick ? 3 : 10, &nf);
	ms[1][0] = time_frames(d20, fr1080, n1080, quick ? 2 : 6, &nf);
	ms[1][1] = time_frames(d40, fr1080, n1080, quick ? 2 : 6, &nf);
	printf("emotop detector, median ms/frame (MMAC):\n"
	       "  640x480   min face 20: %7.2f ms (%.0f)   min face 40: %7.2f ms (%.0f)\n"
	       "  1920x1080 min face 20: %7.2f ms (%.0f)   min face 40: %7.2f ms (%.0f)\n",
	       ms[0][0], detect_macs(d20, 640, 480) / 1e6, ms[0][1], detect_macs(d40, 640, 480) / 1e6,
	       ms[1][0], detect_macs(d20, 1920, 1080) / 1e6, ms[1][1],
	       detect_macs(d40, 1920, 1080) / 1e6);
	{
		double ms10 = time_frames(d10, fr640, n640, quick ? 2 : 5, &nf);
		struct emo_image fr720[4];
		double ms720;

		printf("  640x480   min face 10: %7.2f ms (%.0f; %.1fx min face 20)\n", ms10,
		       detect_macs(d10, 640, 480) / 1e6, ms10 / ms[0][0]);
		for (int i = 0; i < n1080; i++) {
			image_new(&fr720[i], 1280, 720);
			image_resize(&fr1080[i], &fr720[i]);
		}
		ms720 = time_frames(dauto, fr720, n1080, quick ? 2 : 5, &nf);
		printf("  emotop's default, min face auto: 640x480 the min face 10 row, 1920x1080 the "
		       "min face 20 row, 1280x720 (15): %.2f ms (%.0f)\n",
		       ms720, detect_macs(dauto, 1280, 720) / 1e6);
		for (int i = 0; i < n1080; i++)
			image_free(&fr720[i]);
	}
	if (detect_has_verifier(d20)) {
		double s640 = time_frames(d20s, fr640, n640, quick ? 3 : 10, &nf);
		double s1080 = time_frames(d20s, fr1080, n1080, quick ? 2 : 6, &nf);
		printf("  the first stage alone (no verifier), min face 20: 640x480 %.2f ms, 1920x1080 "
		       "%.2f ms (the verifier adds %.0f %% / %.0f %%)\n",
		       s640, s1080, 100 * (ms[0][0] / s640 - 1), 100 * (ms[1][0] / s1080 - 1));
	}
	snprintf(path, sizeof(path), "%s/manifest.txt", dir);
	man = fopen(path, "w");
	if (!man)
		return 1;
	for (int i = 0; i < n640; i++) {
		snprintf(path, sizeof(path), "%s/t640_%d.pgm", dir, i);
		write_pgm(path, &fr640[i]);
		fprintf(man, "time640 %s\n", path);
	}
	for (int i = 0; i < n1080; i++) {
		snprintf(path, sizeof(path), "%s/t1080_%d.pgm", dir, i);
		write_pgm(path, &fr1080[i]);
		fprintf(man, "time1080 %s\n", path);
	}

	if (!have_shared) {
		printf("SKIP accuracy: %s not found (set SHARED)\n", faces);
	} else if (dt_evset_load(&set, faces, !stat(fer, &sb) ? fer : NULL, quick ? 5 : 20, 1920,
				 1080, 5, 5, 0, 0, dir) == 0) {
		if (dt_evaluate(dlow, &set, 0.01f, 20, &r) == 0) {
			printf("emotop held-out WebFaces (%d photos): recall %.4f (%d/%d faces >= 20 px; all "
			       "sizes %.4f) at threshold %.3f: %d false alarms on %d held-out negatives "
			       "(%.4f per image)\n",
			       set.n_photo, (double)r.n_hit / (r.n_gt ? r.n_gt : 1), r.n_hit, r.n_gt,
			       (double)r.n_hit_all / (r.n_gt_all ? r.n_gt_all : 1), (double)r.thr, r.neg_fa,
			       r.n_neg, (double)r.neg_fa / (r.n_neg ? r.n_neg : 1));
			printf("emotop 1920x1080 5x5 FER2013 galleries (%d frames): recall %.4f (%d/%d), "
			       "%d false alarms\n",
			       set.n_gallery, (double)r.g_hit / (r.g_gt ? r.g_gt : 1), r.g_hit, r.g_gt, r.g_fa);
			/* by face side, by false-alarm budget and at the default
			 * threshold 0.5 (as the application runs), same detections */
			dt_evres_print_breakdown(&r);
		}
		if (detect_has_verifier(d20) && dt_evaluate(dlows, &set, 0.01f, 20, &r) == 0)
			printf("  the first stage alone: recall %.4f at threshold %.3f (%d false alarms), "
			       "galleries %d/%d with %d false alarms\n",
			       (double)r.n_hit / (r.n_gt ? r.n_gt : 1), (double)r.thr, r.neg_fa, r.g_hit, r.g_gt,
			       r.g_fa);
		{
			int hit, gt, fa;
			if (!gallery_mode(&set, model, vmodel, 5, 5, 0.2f, &hit, &gt, &fa))
				printf("emotop galleries with the 5x5 grid configured (gallery mode, cell "
				       "threshold 0.2): %d/%d found (IoU >= 0.3), %d false alarms\n",
				       hit, gt, fa);
		}
		for (int i = 0; i < set.n; i++) {
			const struct dt_evimg *im = &set.im[i];
			fprintf(man, "%s %s", im->kind == DT_EV_PHOTO ? "photo" : im->kind == DT_EV_NEG ? "neg" : "gallery",
				im->path);
			for (int k = 0; k < im->n_gt; k++)
				fprintf(man, " %.1f,%.1f,%.1f,%.1f", (double)im->gt[k].x, (double)im->gt[k].y,
					(double)im->gt[k].w, (double)im->gt[k].h);
			fprintf(man, "\n");
		}
		dt_evset_free(&set);
	}
	fclose(man);
	/* Haar, same frames, same run */
	{
		char cmd[8192];
		const char *py = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
		snprintf(cmd, sizeof(cmd), "%s tests/bench/haar_bench.py %s/manifest.txt %.4f %.4f", py, dir,
			 ms[0][0], ms[1][0]);
		fflush(stdout);
		if (system(cmd) != 0)
			printf("SKIP Haar comparison: tests/bench/haar_bench.py failed (python3-opencv?)\n");
	}
	if (getenv("BENCH_KEEP")) {
		printf("kept the benchmark frames and their manifest in %s (BENCH_KEEP)\n", dir);
	} else {
		char cmd[4200];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "bench_detect: could not remove %s\n", dir);
	}
	for (int i = 0; i < n640; i++)
		image_free(&fr640[i]);
	for (int i = 0; i < n1080; i++)
		image_free(&fr1080[i]);
	detect_free(d20);
	detect_free(d40);
	detect_free(d10);
	detect_free(dauto);
	detect_free(dlow);
	detect_free(dlows);
	detect_free(d20s);
	return 0;
}
