/* scan.c - `emotop scan`: run the detector and the classifier over still
 * images, directories of images and video files (all read through FFmpeg by
 * capture.c), print one NDJSON object or table row per face, and optionally
 * write annotated PNGs (boxes, landmarks, emotion labels). */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "emotop/capture.h"
#include "emotop/classify.h"
#include "emotop/config.h"
#include "emotop/detect.h"
#include "emotop/emotion.h"
#include "emotop/image.h"
#include "emotop/report.h"
#include "scan.h"
#include "scan_font.h"

#define SCAN_MAX_FACES 512
#define SCAN_MAX_SIDE 4096 /* larger frames are analysed downscaled */

struct scan {
	int json;
	const char *annotate;
	double interval;
	struct detect *det;
	struct classify *cls;
	struct emo_face faces[SCAN_MAX_FACES];
	float probs[SCAN_MAX_FACES][EMO_NUM_CLASSES];
	struct emo_image small; /* downscaled copy for huge frames */
	int failed;
	int out_dead;           /* standard output cannot be written: stop */
	long n_faces;
	long n_files;           /* files tried (read or not) */
	char models[8192], model_list[8192]; /* repeated --model joined */
};

static void scan_usage(FILE *f)
{
	fputs("Usage: emotop scan [OPTION]... PATH...\n"
	      "Find faces and their expressions in images, directories of images (their\n"
	      "sub-folders too) and videos (one frame per --interval seconds).\n"
	      "  --json               one NDJSON object per face: file, t (videos), box [x,y,w,h],\n"
	      "                       score, landmarks [[x,y],...] (left eye, right eye, nose,\n"
	      "                       mouth left, mouth right), emotion, probs\n"
	      "  --annotate DIR       write a PNG per image (per sampled frame) with the faces drawn\n"
	      "  --min-face PX|auto   smallest face to look for (default auto: a 48th of the\n"
	      "                       picture's shorter side, 10 to 20 px; or 10 to 4096)\n"
	      "  --threshold S        face score threshold 0..1 (default 0.5)\n"
	      "  --interval S         seconds between sampled video frames (default 1)\n"
	      "  --model FILE         emotion classifier model (default: built in); again, or\n"
	      "                       FILE,FILE: an ensemble (\\, is a comma in a name)\n"
	      "  --detector-model FILE  face detector model (default: built in)\n"
	      "  --verifier-model FILE  its second-stage verifier (default: built in, with the\n"
	      "                       built-in detector; none: off)\n"
	      "Exit status: 0 all paths read; 1 some could not be read (a directory with no\n"
	      "file in it or its sub-folders included), a model given could not be loaded\n"
	      "or standard output could not be written; 2 bad usage.\n",
	      f);
}

/* s as a JSON string (the report's escaper: control characters escaped,
 * bytes that are not UTF-8 replaced by U+FFFD, so every line parses). */
static void json_str(FILE *f, const char *s)
{
	char buf[4096], *p = buf;
	unsigned long n = report_json_string(buf, sizeof(buf), s);

	if (n >= sizeof(buf)) {
		if (!(p = malloc(n + 1))) {
			fputs("null", f); /* out of memory */
			return;
		}
		report_json_string(p, n + 1, s);
	}
	fputs(p, f);
	if (p != buf)
		free(p);
}

/* s for the terminal: control characters (config_has_control's: C0, DEL,
 * C1, bidirectional marks) become '?'. Returns buf. */
static const char *shown(const char *s, char *buf, size_t len)
{
	size_t i = 0, o = 0;

	while (s[i] && o + 1 < len) {
		char one[4] = {0};
		size_t n = 1;
		int c;

		if ((unsigned char)s[i] >= 0xc0) /* a UTF-8 lead byte: its sequence */
			while (n < 3 && ((unsigned char)s[i + n] & 0xc0) == 0x80)
				n++;
		memcpy(one, s + i, n);
		c = config_has_control(one);
		if (c)
			buf[o++] = '?';
		else
			for (size_t k = 0; k < n && o + 1 < len; k++)
				buf[o++] = s[i + k];
		i += n;
	}
	buf[o] = '\0';
	return buf;
}

static int argmax7(const float *p)
{
	int k = 0;
	for (int i = 1; i < EMO_NUM_CLASSES; i++)
		if (p[i] > p[k])
			k = i;
	return k;
}

/* ---- drawing for --annotate: RGB24 boxes, dots and a 5x7 font ---- */

static void put_px(struct emo_image *rgb, int x, int y, const uint8_t c[3])
{
	uint8_t *p;
	if (x < 0 || y < 0 || x >= rgb->w || y >= rgb->h)
		return;
	p = rgb->px + (size_t)y * rgb->stride + (size_t)x * 3;
	p[0] = c[0];
	p[1] = c[1];
	p[2] = c[2];
}

static void draw_rect(struct emo_image *rgb, int x0, int y0, int x1, int y1, int t, const uint8_t c[3])
{
	for (int k = 0; k < t; k++) {
		for (int x = x0; x <= x1; x++) {
			put_px(rgb, x, y0 + k, c);
			put_px(rgb, x, y1 - k, c);
		}
		for (int y = y0; y <= y1; y++) {
			put_px(rgb, x0 + k, y, c);
			put_px(rgb, x1 - k, y, c);
		}
	}
}

static void draw_text(struct emo_image *rgb, int x, int y, const char *s, int scale, const uint8_t c[3])
{
	for (; *s; s++, x += (SCAN_FONT_W + 1) * scale) {
		const uint8_t *rows = scan_font_glyph((unsigned char)*s);
		if (!rows)
			continue;
		for (int r = 0; r < SCAN_FONT_H; r++)
			for (int b = 0; b < SCAN_FONT_W; b++)
				if (rows[r] & (16 >> b))
					for (int j = 0; j < scale; j++)
						for (int i = 0; i < scale; i++)
							put_px(rgb, x + b * scale + i, y + r * scale + j, c);
	}
}

static void annotate(struct emo_image *rgb, const struct emo_face *f, int n, float probs[][EMO_NUM_CLASSES],
		     int have_probs)
{
	static const uint8_t green[3] = {40, 230, 40}, red[3] = {255, 40, 40}, black[3] = {0, 0, 0};

	for (int i = 0; i < n; i++) {
		int x0 = (int)lroundf(f[i].box.x), y0 = (int)lroundf(f[i].box.y);
		int x1 = (int)lroundf(f[i].box.x + f[i].box.w), y1 = (int)lroundf(f[i].box.y + f[i].box.h);
		int t = f[i].box.w > 120 ? 3 : f[i].box.w > 50 ? 2 : 1, sc = f[i].box.w > 150 ? 2 : 1;
		char label[64];
		draw_rect(rgb, x0, y0, x1, y1, t, green);
		for (int k = 0; k < f[i].n_landmarks; k++)
			for (int dy = -t; dy <= t; dy++)
				for (int dx = -t; dx <= t; dx++)
					put_px(rgb, (int)lroundf(f[i].lm[k][0]) + dx, (int)lroundf(f[i].lm[k][1]) + dy, red);
		if (have_probs) {
			int k = argmax7(probs[i]);
			snprintf(label, sizeof(label), "%s %.2f", emo_class_name(k), (double)probs[i][k]);
		} else {
			snprintf(label, sizeof(label), "%.2f", (double)f[i].score);
		}
		/* label above the box (inside when at the top edge), with a shadow */
		{
			int ly = y0 - 9 * sc - 2 < 0 ? y0 + t + 2 : y0 - 9 * sc - 2;
			draw_text(rgb, x0 + 1, ly + 1, label, sc, black);
			draw_text(rgb, x0, ly, label, sc, green);
		}
	}
}

/* ---- one frame ---- */

/* The annotated PNG's name for path: its base name less its extension
 * ("a/b/x.jpg" -> "x"), "_tSSSS.SS" added for a video frame at t >= 0. */
static void png_stem(const char *path, double t, char *buf, size_t len)
{
	const char *b = strrchr(path, '/'), *dot;
	int n;

	b = b && b[1] ? b + 1 : path;
	dot = strrchr(b, '.');
	n = dot && dot > b ? (int)(dot - b) : (int)strlen(b);
	if (t >= 0)
		snprintf(buf, len, "%.*s_t%07.2f", n, b, t);
	else
		snprintf(buf, len, "%.*s", n, b);
}

static int scan_frame(struct scan *s, const char *file, double t, const struct emo_image *gray,
		      struct emo_image *rgb)
{
	float (*probs)[EMO_NUM_CLASSES] = s->probs;
	const struct emo_image *in = gray;
	float k = 1;
	int n;

	if (gray->w > SCAN_MAX_SIDE || gray->h > SCAN_MAX_SIDE) {
		int w, h;
		k = (float)(gray->w > gray->h ? gray->w : gray->h) / SCAN_MAX_SIDE;
		w = (int)((float)gray->w / k);
		h = (int)((float)gray->h / k);
		if (w < 1)
			w = 1;
		if (h < 1)
			h = 1;
		image_free(&s->small);
		if (image_new(&s->small, w, h))
			return EMO_ENOMEM;
		image_resize(gray, &s->small);
		in = &s->small;
		k = (float)gray->w / (float)w;
	}
	n = detect_run(s->det, in, s->faces, SCAN_MAX_FACES);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		struct emo_face *f = &s->faces[i];
		f->box.x *= k;
		f->box.y *= k;
		f->box.w *= k;
		f->box.h *= k;
		for (int j = 0; j < f->n_landmarks; j++) {
			f->lm[j][0] *= k;
			f->lm[j][1] *= k;
		}
		if (!s->cls || classify_face(s->cls, gray, f, probs[i]))
			memset(probs[i], 0, sizeof(probs[i]));
	}
	s->n_faces += n;
	for (int i = 0; i < n; i++) {
		const struct emo_face *f = &s->faces[i];
		int have = s->cls != NULL, em = have ? argmax7(probs[i]) : -1;
		if (s->json) {
			printf("{\"file\":");
			json_str(stdout, file);
			if (t >= 0)
				printf(",\"t\":%.3f", t);
			printf(",\"box\":[%.1f,%.1f,%.1f,%.1f],\"score\":%.6g,\"landmarks\":[", (double)f->box.x,
			       (double)f->box.y, (double)f->box.w, (double)f->box.h, (double)f->score);
			for (int j = 0; j < f->n_landmarks; j++)
				printf("%s[%.1f,%.1f]", j ? "," : "", (double)f->lm[j][0], (double)f->lm[j][1]);
			printf("],\"emotion\":");
			if (have) {
				printf("\"%s\",\"probs\":{", emo_class_name(em));
				for (int c = 0; c < EMO_NUM_CLASSES; c++)
					printf("%s\"%s\":%.6g", c ? "," : "", emo_class_name(c), (double)probs[i][c]);
				printf("}}\n");
			} else {
				printf("null,\"probs\":null}\n");
			}
		} else {
			char ts[32], name[4096];
			snprintf(ts, sizeof(ts), t >= 0 ? "%.2f" : "-", t);
			printf("%-32s %8s %6.0f %6.0f %5.0f %5.0f  %5.3f  %-8s", shown(file, name, sizeof(name)), ts, (double)f->box.x,
			       (double)f->box.y, (double)f->box.w, (double)f->box.h, (double)f->score,
			       have ? emo_class_name(em) : "-");
			if (have)
				printf(" %.2f", (double)probs[i][em]);
			printf("\n");
		}
	}
	if (s->annotate && rgb && rgb->px) {
		char stem[1024], name[4096];
		struct emo_err e = {0};
		int rc;
		annotate(rgb, s->faces, n, probs, s->cls != NULL);
		/* a new file, 0600: never over an earlier run's, nor over a
		 * same-named input's from another folder (STEM-2.png ...) */
		png_stem(file, t, stem, sizeof(stem));
		if ((rc = capture_write_png_new(s->annotate, stem, rgb, 3, NULL, 0, &e))) {
			fprintf(stderr, "emotop scan: %s: %s\n", shown(e.file[0] ? e.file : s->annotate,
				name, sizeof(name)), e.msg[0] ? e.msg : emo_strerror(rc));
			s->failed = 1;
		}
	}
	if (fflush(stdout) || ferror(stdout)) {
		if (!s->out_dead)
			fprintf(stderr, "emotop scan: cannot write to standard output: %s\n", strerror(errno));
		s->out_dead = 1;
		s->failed = 1;
	}
	return n;
}

static int is_video_name(const char *p)
{
	static const char *ext[] = {".mp4", ".mkv", ".avi", ".mov", ".webm", ".m4v", ".mpg", ".mpeg",
				    ".ts", ".flv", ".wmv", ".3gp", ".ogv", ".m2ts", ".y4m", ".gif"};
	size_t n = strlen(p);
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		size_t m = strlen(ext[i]);
		if (n > m && !strcasecmp(p + n - m, ext[i]))
			return 1;
	}
	return 0;
}

/* path could not be read (msg says why): say so, go on, exit 1 at the end */
static void scan_failmsg(struct scan *s, const char *path, const char *msg)
{
	char name[4096];

	fprintf(stderr, "emotop scan: %s: %s\n", shown(path, name, sizeof(name)), msg);
	s->failed = 1;
}

static void scan_fail(struct scan *s, const char *path, const struct emo_err *e, int rc)
{
	scan_failmsg(s, path, e && e->msg[0] ? e->msg : emo_strerror(rc));
}

static void scan_image(struct scan *s, const char *path)
{
	struct emo_image gray = {0}, rgb = {0};
	struct emo_err e = {0};
	int rc = capture_read_image(path, &gray, s->annotate ? &rgb : NULL, &e);

	if (rc) {
		scan_fail(s, path, &e, rc);
		return;
	}
	if ((rc = scan_frame(s, path, -1, &gray, &rgb)) < 0)
		scan_fail(s, path, NULL, rc);
	image_free(&gray);
	image_free(&rgb);
}

static void scan_video(struct scan *s, const char *path)
{
	struct capture_opts o;
	struct capture *c = NULL;
	struct emo_err e = {0};
	int rc, frames = 0, bad = 0;

	capture_opts_default(&o);
	o.source = path;
	o.realtime = 0;
	o.fps = s->interval > 0 ? 1.0 / s->interval : 1.0;
	o.want_rgb = s->annotate != NULL;
	o.reconnect = 0;
	if ((rc = capture_open(&c, &o, &e))) {
		scan_fail(s, path, &e, rc);
		return;
	}
	for (;;) {
		struct emo_image gray, rgb;
		struct capture_frame_info info;
		rc = capture_next(c, &gray, &info, -1, &e);
		if (rc == EMO_EEOF)
			break;
		if (rc == EMO_EAGAIN)
			continue;
		if (rc) {
			scan_fail(s, path, &e, rc);
			bad = 1;
			break;
		}
		rgb = info.rgb;
		if ((rc = scan_frame(s, path, info.media_time, &gray, s->annotate ? &rgb : NULL)) < 0) {
			scan_fail(s, path, NULL, rc);
			bad = 1;
			break;
		}
		frames++;
		if (s->out_dead)
			break;
	}
	if (!frames && !bad) /* this file's own failure, said above */
		scan_fail(s, path, NULL, EMO_EFORMAT);
	capture_close(&c);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

#define SCAN_MAX_DEPTH 64 /* folders within folders: deeper ones are reported */

static void scan_file(struct scan *s, const char *path)
{
	s->n_files++;
	if (is_video_name(path))
		scan_video(s, path);
	else
		scan_image(s, path);
}

/* The files of the directory path, in name order, then its sub-folders the
 * same way (hidden entries skipped; symbolic links to folders not followed,
 * so no loop). Returns the number of files found in it and below. */
static long scan_dir(struct scan *s, const char *path, int depth)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char **names = NULL;
	int n = 0, cap = 0;
	long found = 0;

	if (!d) {
		scan_failmsg(s, path, strerror(errno));
		return 0;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn = realloc(names, sizeof(char *) * (size_t)(cap ? cap * 2 : 64));
			if (!nn) {
				scan_failmsg(s, path, "out of memory: the rest of it is not read");
				break;
			}
			names = nn;
			cap = cap ? cap * 2 : 64;
		}
		if (!(names[n] = malloc(strlen(path) + strlen(de->d_name) + 2))) {
			scan_failmsg(s, path, "out of memory: the rest of it is not read");
			break;
		}
		sprintf(names[n++], "%s/%s", path, de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, (size_t)n, sizeof(char *), cmp_name);
	/* files first, then folders: a folder's own pictures come together */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < n && !s->out_dead; i++) {
			struct stat ls, fs;
			if (!names[i] || lstat(names[i], &ls))
				continue;
			if (pass == 0 && !S_ISDIR(ls.st_mode) && !stat(names[i], &fs) && S_ISREG(fs.st_mode)) {
				if (config_has_control(names[i])) /* as emotop refuses such a source */
					scan_failmsg(s, names[i], "control characters in the name: not read");
				else
					scan_file(s, names[i]);
				found++;
			} else if (pass == 1 && S_ISDIR(ls.st_mode)) {
				if (depth >= SCAN_MAX_DEPTH)
					scan_failmsg(s, names[i], "folders nested too deep: not read");
				else
					found += scan_dir(s, names[i], depth + 1);
			}
		}
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return found;
}

static void scan_path(struct scan *s, const char *path)
{
	struct stat sb;

	if (stat(path, &sb)) {
		scan_failmsg(s, path, strerror(errno));
		return;
	}
	if (S_ISDIR(sb.st_mode)) {
		if (!scan_dir(s, path, 0) && !s->out_dead)
			scan_failmsg(s, path, "no files in it or in its folders");
		return;
	}
	scan_file(s, path);
}

static void quiet_log(void *ud, int level, const char *line)
{
	(void)ud;
	(void)level;
	(void)line;
}

int scan_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"json", 0, 0, 'j'},        {"annotate", 1, 0, 'a'}, {"min-face", 1, 0, 'm'},
		{"threshold", 1, 0, 't'},   {"interval", 1, 0, 'i'}, {"model", 1, 0, 'M'},
		{"detector-model", 1, 0, 'D'}, {"verifier-model", 1, 0, 'V'},
		{"help", 0, 0, 'h'},  {0, 0, 0, 0}};
	struct scan *s = calloc(1, sizeof(*s));
	struct detect_opts dopt;
	struct classify_opts copt;
	struct emo_err e = {0};
	int o, rc = 2;
	long lv;
	char *end;

	if (!s) {
		fprintf(stderr, "emotop scan: out of memory\n");
		return 1;
	}
	detect_opts_default(&dopt);
	dopt.min_face = 0; /* auto, as emotop's detector.min_face */
	classify_opts_default(&copt);
	s->interval = 1.0;
	optind = 1;
	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (o) {
		case 'j': s->json = 1; break;
		case 'a': s->annotate = optarg; break;
		case 'm':
			if (!strcmp(optarg, "auto")) {
				dopt.min_face = 0;
				break;
			}
			errno = 0;
			lv = strtol(optarg, &end, 10);
			dopt.min_face = lv >= 10 && lv <= 4096 ? (int)lv : -1;
			if (*end || end == optarg || errno || dopt.min_face < 0) {
				fprintf(stderr, "emotop scan: --min-face must be 10..4096 or auto\n");
				goto out;
			}
			break;
		case 't':
			dopt.threshold = strtof(optarg, &end);
			if (*end || !(dopt.threshold >= 0 && dopt.threshold <= 1)) {
				fprintf(stderr, "emotop scan: --threshold must be 0..1\n");
				goto out;
			}
			break;
		case 'i':
			s->interval = strtod(optarg, &end);
			if (*end || !(s->interval > 0 && s->interval <= 86400)) {
				fprintf(stderr, "emotop scan: --interval must be > 0 seconds\n");
				goto out;
			}
			break;
		case 'M': /* again: one more ensemble member, as emotop's --model */
			if (copt.model_path) {
				int n = snprintf(s->models, sizeof(s->models), "%s,%s",
						 copt.model_path, optarg);
				if (n < 0 || (size_t)n >= sizeof(s->models)) {
					fprintf(stderr, "emotop scan: --model: too many or too long names\n");
					goto out;
				}
				memcpy(s->model_list, s->models, (size_t)n + 1);
				copt.model_path = s->model_list;
			} else {
				copt.model_path = optarg;
			}
			break;
		case 'D': dopt.model_path = optarg; break;
		case 'V': dopt.verify_path = optarg; break;
		case 'h': scan_usage(stdout); rc = 0; goto out;
		default: scan_usage(stderr); goto out;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "emotop scan: no PATH given\n");
		scan_usage(stderr);
		goto out;
	}
	for (int i = optind; i < argc; i++) {
		/* names end up in the table, NDJSON and PNG names: refused as
		 * emotop refuses such a source (exit 2) */
		if (config_has_control(argv[i])) {
			char name[4096];
			fprintf(stderr, "emotop scan: %s: control characters in the name are not "
				"allowed\n", shown(argv[i], name, sizeof(name)));
			goto out;
		}
	}
	if (s->annotate) {
		struct stat sb;
		/* face images: private, as emotop's own --annotate */
		if (stat(s->annotate, &sb) && mkdir(s->annotate, 0700)) {
			fprintf(stderr, "emotop scan: %s: %s\n", s->annotate, strerror(errno));
			rc = 1;
			goto out;
		}
	}
	if (!(s->det = detect_new(&dopt, &e))) {
		char msg[1024];

		emo_err_format(&e, msg, sizeof(msg));
		fprintf(stderr, "emotop scan: face detector: %s\n", msg[0] ? msg : "cannot load");
		rc = 1;
		goto out;
	}
	if (!strcmp(detect_kernel_path(s->det), "regions")) {
		fprintf(stderr, "emotop scan: this build has no face detector model (models/face.qnn)\n");
		rc = 1;
		goto out;
	}
	if (copt.model_path && !strcmp(copt.model_path, "none")) {
		s->cls = NULL; /* --model none: faces only */
	} else if (!(s->cls = classify_new(&copt, &e))) {
		if (copt.model_path) { /* asked for: an error, like --detector-model */
			char msg[1024];

			emo_err_format(&e, msg, sizeof(msg));
			fprintf(stderr, "emotop scan: emotion classifier: %s\n", msg[0] ? msg : "cannot load");
			rc = 1;
			goto out;
		}
		fprintf(stderr, "emotop scan: no emotion classifier (%s): emotion and probs are null\n",
			e.msg[0] ? e.msg : "no model");
	}
	capture_set_log(quiet_log, NULL, CAPTURE_LOG_QUIET);
	if (!s->json)
		printf("%-32s %8s %6s %6s %5s %5s  %5s  %s\n", "FILE", "T", "X", "Y", "W", "H", "SCORE",
		       "EMOTION P");
	for (int i = optind; i < argc && !s->out_dead; i++)
		scan_path(s, argv[i]);
	rc = s->failed ? 1 : 0;
out:
	detect_free(s->det);
	classify_free(s->cls);
	image_free(&s->small);
	free(s);
	return rc;
}
