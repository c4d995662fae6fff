/* pipeline.c - the run loop: capture (its own thread, newest frame only) ->
 * engine at the analysis rate -> headless lines / log / record / dashboard,
 * then the final session summary. Signals reach it only as flags.
 *
 * Clock: files read as fast as possible run on media time, so the lines of
 * a file do not depend on the machine's speed; live sources and --realtime
 * run on the monotonic wall clock (seconds since start; the lines add the
 * Unix time at start, summary_stats.clock_offset, to say the time of day).
 * Report lines fall at start + k * interval; alert lines and changes of the
 * source's state go out when they happen.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dashboard.h"
#include "emotop/capture.h"
#include "emotop/config.h"
#include "emotop/engine.h"
#include "emotop/metrics.h"
#include "emotop/report.h"
#include "emotop/summary.h"
#include "emotop/track.h"
#include "pipeline.h"
#include "scan_font.h"

#define DEMO_HEADLESS_S 60 /* a headless "demo" run is this long unless --duration */
/* A live source that has delivered no frame for this long (or for 3 of its
 * frame intervals, or 2.5 analysis periods, when longer) is not up: it is
 * said to be reconnecting even before the capture's own timeout gives up on
 * the connection. */
#define PIPELINE_STALL_S 2.0

struct run {
	const struct pipeline_opts *o;
	const struct emo_config *cfg;
	int verbose;
	int dashboard;                /* the dashboard runs (else headless lines) */
	struct capture *cap;
	struct engine *eng;
	int classify;                 /* engine has a classifier */
	struct report *out, *log, *rec; /* faces-only sinks without a classifier */
	int fmt;                      /* enum config_format */
	struct dashboard *dash;
	struct dashboard_preview *preview; /* the pane's frame, kept for the run */
	struct summary *snap;
	struct summary_stats stats;
	char source[CONFIG_PATH_MAX];
	/* timing */
	int media_clock, live;
	double wall0, t_start, t_last, t_emit, next_report;
	double epoch0;                /* Unix time at wall0: live times are wall0-based */
	double media_last;            /* media time of the latest frame (files), else NAN */
	double frame_tw;              /* wall0-based time the latest frame arrived */
	int src_state;                /* enum summary_source_state, as last said */
	int have_frame;
	long long analysed, lines;
	double lat_sum_capture, lat_sum_detect, lat_sum_classify;
	long long lat_n;
	long long face_frames;
	/* --annotate */
	struct emo_image shot;
	int shot_valid, shots;
	int write_failed;             /* an output could not be written: exit 6 */
	int stdout_dead;              /* a line to stdout failed: write no more */
	struct metrics *metrics;      /* --metrics-file, NULL when none */
	int metrics_failing;          /* the last metrics write failed (said once) */
	int out_failing, log_failing, rec_failing; /* what was said of each sink */
	long long alerts_said;        /* alerts written to the sinks so far */
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void say(const struct run *r, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* level: 0 error (always), 1 notice (not with -q), 2 verbose (-v); every
 * message goes through the redactor. */
static void say(const struct run *r, int level, const char *fmt, ...)
{
	char msg[2048], shown[2200];
	va_list ap;

	if (level > 0 && r->verbose < level - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emo_redact_text(msg, shown, sizeof(shown)); /* no password leaves */
	fprintf(stderr, "emotop: %s\n", shown);
}

/* FFmpeg's and capture's messages (capture masks them already; once more
 * costs nothing and keeps this the one way out). */
static void capture_log(void *ud, int level, const char *line)
{
	char shown[2200];

	(void)ud;
	emo_redact_text(line, shown, sizeof(shown));
	fprintf(stderr, "emotop: %s%s\n", level == CAPTURE_LOG_ERROR ? "error: " : "", shown);
}

/* ---- faces-only lines (no classifier model, or classifier.model: none) -- */

static const char *faces_only_why(const struct emo_config *cfg)
{
	return strcmp(cfg->classifier.model, "none") ? "no classifier model" : "classifier off";
}

/* ---- sinks ------------------------------------------------------------- */

static int open_sink(struct run *r, struct report **out, const char *path, int kind, int fmt)
{
	struct report_opts ro;
	struct emo_err err;

	report_opts_default(&ro);
	ro.format = (enum report_format)fmt;
	ro.kind = (enum report_kind)kind;
	ro.path = path;
	ro.aggregate_only = r->cfg->output.aggregate_only;
	ro.students = r->cfg->output.per_student && !r->cfg->output.aggregate_only;
	ro.faces_only = r->classify ? NULL : faces_only_why(r->cfg);
	memset(&err, 0, sizeof(err));
	if (!(*out = report_open(&ro, &err))) {
		char msg[900];

		emo_err_format(&err, msg, sizeof(msg));
		say(r, 0, "cannot open output: %s", msg);
		return -1;
	}
	return 0;
}

static int open_metrics(struct run *r)
{
	struct metrics_opts mo;
	struct emo_err err;

	metrics_opts_default(&mo);
	mo.path = r->cfg->output.metrics_file;
	mo.room = r->cfg->output.room;
	mo.per_student = r->cfg->output.metrics_per_student;
	mo.aggregate_only = r->cfg->output.aggregate_only;
	mo.emotions = r->classify;
	memset(&err, 0, sizeof(err));
	if (!(r->metrics = metrics_open(&mo, &err))) {
		char msg[900];

		emo_err_format(&err, msg, sizeof(msg));
		say(r, 0, "cannot open output: %s", msg);
		return -1;
	}
	return 0;
}

static int open_outputs(struct run *r)
{
	const struct emo_config *cfg = r->cfg;

	if (cfg->output.metrics_file[0] && open_metrics(r))
		return -1;
	if (!r->dashboard && open_sink(r, &r->out, "-", REPORT_SUMMARY, r->fmt))
		return -1;
	if (cfg->output.log[0] && open_sink(r, &r->log, cfg->output.log, REPORT_SUMMARY, r->fmt))
		return -1;
	if (r->classify) {
		if (cfg->output.record[0]) {
			int rf = report_format_from_path(cfg->output.record);

			if (open_sink(r, &r->rec, cfg->output.record, REPORT_RECORD,
				      rf == REPORT_CSV ? REPORT_CSV : REPORT_NDJSON))
				return -1;
		}
		return 0;
	}
	if (cfg->output.record[0] || cfg->output.report_svg[0])
		say(r, 1, "%s: no --record timeline or SVG report is written", faces_only_why(cfg));
	return 0;
}

static void reopen_logs(struct run *r)
{
	if (r->log && report_reopen(r->log)) {
		say(r, 0, "cannot reopen %s: %s", r->cfg->output.log, strerror(errno));
		return;
	}
	say(r, 2, "reopened %s", r->cfg->output.log);
}

/* ---- annotate ---------------------------------------------------------- */

static void draw_rect(struct emo_image *im, const struct emo_box *b)
{
	int x0 = (int)b->x, y0 = (int)b->y, x1 = (int)(b->x + b->w) - 1, y1 = (int)(b->y + b->h) - 1;

	if (x0 < 0)
		x0 = 0;
	if (y0 < 0)
		y0 = 0;
	if (x1 >= im->w)
		x1 = im->w - 1;
	if (y1 >= im->h)
		y1 = im->h - 1;
	if (x1 < x0 || y1 < y0)
		return;
	for (int t = 0; t < 2; t++) {
		uint8_t v = t ? 0 : 255;

		for (int x = x0; x <= x1; x++) {
			if (y0 + t <= y1)
				im->px[(y0 + t) * im->stride + x] = v;
			if (y1 - t >= y0)
				im->px[(y1 - t) * im->stride + x] = v;
		}
		for (int y = y0; y <= y1; y++) {
			if (x0 + t <= x1)
				im->px[y * im->stride + x0 + t] = v;
			if (x1 - t >= x0)
				im->px[y * im->stride + x1 - t] = v;
		}
	}
}

/* A face's track (NULL when untracked) and label: the track's dominant
 * class, as the dashboard shows it, else the frame's argmax; -1 without a
 * classifier. */
static const struct track *face_track(const struct run *r, const struct engine_face *f)
{
	const struct tracker *tr = engine_tracker(r->eng);

	return tr && f->track_id >= 0 ? track_find(tr, f->track_id) : NULL;
}

static int face_class(const struct run *r, const struct engine_face *f, const struct track *t)
{
	int cls = 0;

	if (!r->classify)
		return -1;
	if (t)
		return t->dominant;
	for (int k = 1; k < EMO_NUM_CLASSES; k++)
		if (f->probs[k] > f->probs[cls])
			cls = k;
	return cls;
}

static void shot_px(struct emo_image *im, int x, int y, uint8_t v)
{
	if (x >= 0 && y >= 0 && x < im->w && y < im->h)
		im->px[(size_t)y * im->stride + x] = v;
}

/* Text in white with a black shadow, sc pixels a font pixel. */
static void shot_text(struct emo_image *im, int x, int y, const char *s, int sc)
{
	for (int pass = 0; pass < 2; pass++) {
		int cx = x + (pass ? 0 : 1), cy = y + (pass ? 0 : 1);

		for (const char *c = s; *c; c++, cx += (SCAN_FONT_W + 1) * sc) {
			const uint8_t *rows = scan_font_glyph((unsigned char)*c);

			for (int ry = 0; rows && ry < SCAN_FONT_H; ry++)
				for (int b = 0; b < SCAN_FONT_W; b++)
					if (rows[ry] & (16 >> b))
						for (int j = 0; j < sc * sc; j++)
							shot_px(im, cx + b * sc + j % sc, cy + ry * sc + j / sc,
								pass ? 255 : 0);
		}
	}
}

/* A seat or gallery cell: a dashed outline (8 on, 8 off; white outside,
 * black inside) with its name inside the bottom edge. */
static void shot_seat(struct emo_image *im, const struct emo_box *b, const char *name, int sc)
{
	int x0 = (int)b->x, y0 = (int)b->y, x1 = (int)(b->x + b->w) - 1, y1 = (int)(b->y + b->h) - 1;

	for (int t = 0; t < 2; t++) {
		uint8_t v = t ? 0 : 255;

		for (int x = x0 + t; x <= x1 - t; x++)
			if ((x / 8) % 2 == 0) {
				shot_px(im, x, y0 + t, v);
				shot_px(im, x, y1 - t, v);
			}
		for (int y = y0 + t; y <= y1 - t; y++)
			if ((y / 8) % 2 == 0) {
				shot_px(im, x0 + t, y, v);
				shot_px(im, x1 - t, y, v);
			}
	}
	if (name && name[0])
		shot_text(im, x0 + 4, y1 - 3 - SCAN_FONT_H * sc, name, sc);
}

static void keep_shot(struct run *r, const struct emo_image *g)
{
	struct emo_box regions[CONFIG_MAX_SEATS];
	const char *names[CONFIG_MAX_SEATS];
	int n, sc;
	const struct engine_face *f;

	if (!r->cfg->output.annotate[0])
		return;
	if (r->shot.w != g->w || r->shot.h != g->h) {
		image_free(&r->shot);
		if (image_new(&r->shot, g->w, g->h))
			return;
	}
	for (int y = 0; y < g->h; y++)
		memcpy(r->shot.px + y * r->shot.stride, g->px + y * g->stride, (size_t)g->w);
	sc = g->w >= 1280 ? 2 : 1;
	n = config_regions(r->cfg, g->w, g->h, regions, names, CONFIG_MAX_SEATS);
	for (int i = 0; i < n; i++)
		shot_seat(&r->shot, &regions[i], names[i], sc);
	f = engine_faces(r->eng, &n);
	for (int i = 0; i < n; i++)
		draw_rect(&r->shot, &f[i].face.box);
	/* "#id name label" above each box (inside when at the top) */
	for (int i = 0; i < n; i++) {
		const struct track *t = face_track(r, &f[i]);
		int cls = face_class(r, &f[i], t), y = (int)f[i].face.box.y - 3 - SCAN_FONT_H * sc;
		char label[160];

		snprintf(label, sizeof label, "#%d%s%s %s", f[i].track_id, t && t->name[0] ? " " : "",
			 t ? t->name : "", cls >= 0 ? emo_class_name(cls) : "face");
		if (f[i].track_id < 0)
			snprintf(label, sizeof label, "%s", cls >= 0 ? emo_class_name(cls) : "face");
		shot_text(&r->shot, (int)f[i].face.box.x, y < 0 ? (int)f[i].face.box.y + 4 : y, label, sc);
	}
	r->shot_valid = 1;
}

/* ---- the dashboard's preview pane --------------------------------------- */

static void preview_box(struct dashboard_preview_box *o, const struct emo_box *b, double s, int id,
			int cls, const char *name)
{
	o->x = (int)(b->x * s);
	o->y = (int)(b->y * s);
	o->w = (int)(b->w * s + 0.5);
	o->h = (int)(b->h * s + 0.5);
	o->id = id;
	o->cls = cls;
	snprintf(o->name, sizeof o->name, "%s", name ? name : "");
}

/* While the pane is shown: the frame averaged down to fit the preview,
 * the faces of the last analysis with their tracks' names and labels, and
 * the seats or gallery cells, handed to the dashboard (which copies it).
 * Nothing is written anywhere. */
static void feed_preview(struct run *r, const struct emo_image *g)
{
	struct dashboard_preview *p = r->preview;
	struct emo_box regions[DASHBOARD_PREVIEW_MAX_REGIONS];
	const char *names[DASHBOARD_PREVIEW_MAX_REGIONS];
	const struct engine_face *f;
	double s;
	int n;

	if (!p || !dashboard_preview_on(r->dash) || g->w < 1 || g->h < 1)
		return;
	s = fmin(1.0, fmin((double)DASHBOARD_PREVIEW_MAX_W / g->w, (double)DASHBOARD_PREVIEW_MAX_H / g->h));
	p->frame_w = g->w;
	p->frame_h = g->h;
	p->w = (int)fmax(1, fmin(DASHBOARD_PREVIEW_MAX_W, floor(g->w * s)));
	p->h = (int)fmax(1, fmin(DASHBOARD_PREVIEW_MAX_H, floor(g->h * s)));
	for (int y = 0; y < p->h; y++) {
		int y0 = (int)((long long)y * g->h / p->h), y1 = (int)((long long)(y + 1) * g->h / p->h);

		if (y1 <= y0)
			y1 = y0 + 1;
		for (int x = 0; x < p->w; x++) {
			int x0 = (int)((long long)x * g->w / p->w), x1 = (int)((long long)(x + 1) * g->w / p->w);
			unsigned sum = 0, cnt = 0;

			if (x1 <= x0)
				x1 = x0 + 1;
			for (int yy = y0; yy < y1; yy++)
				for (int xx = x0; xx < x1; xx++, cnt++)
					sum += g->px[(size_t)yy * g->stride + xx];
			p->px[(size_t)y * p->w + x] = (unsigned char)(sum / cnt);
		}
	}
	s = (double)p->w / g->w;
	f = engine_faces(r->eng, &n);
	p->n_faces = 0;
	for (int i = 0; i < n && p->n_faces < DASHBOARD_PREVIEW_MAX_FACES; i++) {
		const struct track *t = face_track(r, &f[i]);

		preview_box(&p->faces[p->n_faces++], &f[i].face.box, s, f[i].track_id,
			    face_class(r, &f[i], t), t ? t->name : NULL);
	}
	n = config_regions(r->cfg, g->w, g->h, regions, names, DASHBOARD_PREVIEW_MAX_REGIONS);
	p->n_regions = 0;
	for (int i = 0; i < n; i++)
		preview_box(&p->regions[p->n_regions++], &regions[i], s, i, -1, names[i]);
	dashboard_preview(r->dash, p);
}

/* The highest N of the emotop-N.png files in dir (0: none), so that a run
 * numbers its shots on from an earlier run's instead of over them. */
static int last_shot(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int last = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char tail[8];
		int n;
		if (sscanf(de->d_name, "emotop-%9d%7s", &n, tail) == 2 && !strcmp(tail, ".png") &&
		    n > last)
			last = n;
	}
	closedir(d);
	return last;
}

static int write_shot(struct run *r)
{
	char stem[32];
	struct emo_err err;

	if (!r->shot_valid)
		return 0;
	r->shot_valid = 0;
	if (r->shots == INT_MAX)
		return 0;
	/* a new file (0600, no link followed); taken meanwhile: STEM-2.png */
	snprintf(stem, sizeof(stem), "emotop-%06d", ++r->shots);
	memset(&err, 0, sizeof(err));
	if (capture_write_png_new(r->cfg->output.annotate, stem, &r->shot, 1, NULL, 0, &err)) {
		say(r, 0, "cannot write %s: %s", err.file[0] ? err.file : r->cfg->output.annotate,
		    err.msg);
		r->write_failed = 1;
		return -1;
	}
	return 0;
}

/* ---- reporting --------------------------------------------------------- */

static void fill_stats(struct run *r, double elapsed_wall)
{
	struct capture_stats cs;

	memset(&cs, 0, sizeof(cs));
	if (r->cap)
		capture_stats(r->cap, &cs);
	r->stats.frames_analysed = r->analysed;
	r->stats.frames_dropped = cs.dropped;
	r->stats.fps = elapsed_wall > 0 ? (double)r->analysed / elapsed_wall : 0;
	if (r->lat_n) {
		r->stats.lat_capture_ms = r->lat_sum_capture / (double)r->lat_n;
		r->stats.lat_detect_ms = r->lat_sum_detect / (double)r->lat_n;
		r->stats.lat_classify_ms = r->lat_sum_classify / (double)r->lat_n;
	}
	snprintf(r->stats.source, sizeof(r->stats.source), "%.*s", (int)sizeof(r->stats.source) - 1, r->source);
	r->stats.width = cs.width;
	r->stats.height = cs.height;
	r->stats.source_up = r->src_state == SUMMARY_SOURCE_UP && cs.connected;
	r->stats.reconnects = cs.reconnects;
	r->stats.clock = r->media_clock ? SUMMARY_CLOCK_MEDIA : SUMMARY_CLOCK_WALL;
	r->stats.clock_offset = r->epoch0;
	r->stats.media_time = r->media_last;
	summary_set_stats(engine_summary(r->eng), &r->stats);
}

static void snapshot(struct run *r, double now)
{
	summary_snapshot(engine_summary(r->eng), now, r->snap);
	if (r->cfg->output.aggregate_only)
		r->snap->n_students = 0; /* nothing per person reaches any view */
}

/* Replace the metrics file with the figures at now; final: emotop stops, so
 * the source is no longer watched. A failure is said once until it works
 * again, and makes the exit status 6. */
static void write_metrics(struct run *r, double now, int final)
{
	struct emo_err err;

	if (!r->metrics)
		return;
	snapshot(r, now);
	if (final)
		r->snap->stats.source_up = 0;
	memset(&err, 0, sizeof(err));
	if (metrics_write(r->metrics, r->snap, &err)) {
		char msg[900];

		emo_err_format(&err, msg, sizeof(msg));
		if (!r->metrics_failing)
			say(r, 0, "%s", msg);
		r->metrics_failing = 1;
		r->write_failed = 1;
		return;
	}
	r->metrics_failing = 0;
}

/* Say when sink s (named name) begins to lose lines and, with the count,
 * when it writes again; *failing is what was said last. The output
 * recovers when a later line is written whole. A closed pipe on standard
 * output is said nowhere: returns -1 then (stop writing), else 0. */
static int watch_sink(struct run *r, struct report *s, const char *name, int *failing)
{
	struct report_health h;

	report_health(s, &h);
	if (s == r->out && h.failing && h.error == EPIPE) {
		r->stdout_dead = 1;
		return -1;
	}
	if (h.failing && !*failing)
		say(r, 0, "cannot write %s%s: %s; lines are lost until it can be written again",
		    s == r->out ? "to " : "", name, strerror(h.error));
	else if (!h.failing && *failing)
		say(r, 0, "%s: written again, %lld line%s lost", name, h.lost, h.lost == 1 ? "" : "s");
	*failing = h.failing;
	return 0;
}

static const char *stdout_name = "standard output";

/* The snapshot through write (report_emit or report_alerts) to stdout and
 * the log, each sink then watched. Returns -1 when stdout is gone (a
 * closed pipe) or a write to it failed. */
static int to_sinks(struct run *r, int (*write)(struct report *, const struct summary *))
{
	int rc = 0;

	if (r->out) {
		write(r->out, r->snap);
		rc = watch_sink(r, r->out, stdout_name, &r->out_failing);
	}
	if (r->log) {
		write(r->log, r->snap);
		watch_sink(r, r->log, r->cfg->output.log, &r->log_failing);
	}
	return rc;
}

/* Alerts go out as they fire, not at the next interval: after each
 * analysed frame, the new ones to stdout and the log. Returns -1 when
 * stdout is gone (a closed pipe). */
static int emit_alerts(struct run *r, double now)
{
	struct summary_totals tot;

	if (!r->out && !r->log)
		return 0;
	summary_totals(engine_summary(r->eng), &tot);
	if (tot.alerts == r->alerts_said)
		return 0;
	r->alerts_said = tot.alerts;
	snapshot(r, now);
	return to_sinks(r, report_alerts);
}

/* Returns -1 when stdout is gone (a closed pipe) or a write to it failed. */
static int emit(struct run *r, double now)
{
	int rc;

	r->t_emit = now;
	fill_stats(r, mono_s() - r->wall0);
	snapshot(r, now);
	rc = to_sinks(r, report_emit);
	write_metrics(r, now, 0);
	r->lines++;
	if (r->cfg->output.annotate[0])
		write_shot(r);
	return rc;
}

/* The source is in state at now: the summary hears of it (no faces from
 * frames that did not arrive; the source_down alert), and a change is
 * written at once to every sink as a "source" line. Returns -1 when stdout
 * is gone (a closed pipe). */
static int set_source(struct run *r, int state, double now)
{
	int prev = r->src_state, rc = 0;

	if (state != SUMMARY_SOURCE_UP || prev != state)
		summary_source(engine_summary(r->eng), now, state);
	if (state == prev)
		return emit_alerts(r, now);
	r->src_state = state;
	say(r, 2, "source %s: %s", r->source, summary_source_state_name(state));
	fill_stats(r, mono_s() - r->wall0);
	snapshot(r, now);
	if (r->out) {
		report_source(r->out, r->snap, prev);
		rc = watch_sink(r, r->out, stdout_name, &r->out_failing);
	}
	if (r->log) {
		report_source(r->log, r->snap, prev);
		watch_sink(r, r->log, r->cfg->output.log, &r->log_failing);
	}
	if (r->rec) {
		report_source(r->rec, r->snap, prev);
		watch_sink(r, r->rec, r->cfg->output.record, &r->rec_failing);
	}
	return emit_alerts(r, now) || rc ? -1 : 0;
}

/* A live source with no frame for a while, or closed by the capture (which
 * reopens it with backoff), is reconnecting; files are up until they end. */
static int live_state(struct run *r, double tw)
{
	struct capture_stats cs;
	double stall = PIPELINE_STALL_S;

	if (r->media_clock)
		return SUMMARY_SOURCE_UP;
	capture_stats(r->cap, &cs);
	if (!cs.connected)
		return SUMMARY_SOURCE_RECONNECTING;
	if (cs.fps > 0)
		stall = fmax(stall, 3.0 / cs.fps);
	stall = fmax(stall, 2.5 / r->cfg->fps);
	return tw - r->frame_tw > stall ? SUMMARY_SOURCE_RECONNECTING : SUMMARY_SOURCE_UP;
}

/* At the end: a sink that lost its last lines (the final line among them)
 * never recovered: say how many and make the exit status 6. */
static void sink_verdict(struct run *r, struct report *s, const char *name)
{
	struct report_health h;

	report_health(s, &h);
	if (!s || !h.failing || (s == r->out && h.error == EPIPE))
		return;
	say(r, 0, "%s: %lld line%s lost, the final line too: %s", name, h.lost, h.lost == 1 ? "" : "s",
	    strerror(h.error));
	r->write_failed = 1;
}

/* The session's students (never under aggregate_only): a new array in
 * *out (free it), their count returned; 0 and NULL when none or no memory. */
static int attendance(struct run *r, struct summary_attendee **out)
{
	int n = r->cfg->output.aggregate_only ? 0 : summary_attendance(engine_summary(r->eng), NULL, 0);

	*out = NULL;
	if (n <= 0 || !(*out = calloc((size_t)n, sizeof(**out))))
		return 0;
	return summary_attendance(engine_summary(r->eng), *out, n);
}

static void finish(struct run *r)
{
	double now = r->have_frame ? fmax(r->t_last, r->t_emit) : 0;
	struct summary_totals tot;
	struct summary_attendee *att;
	int n_att;

	fill_stats(r, mono_s() - r->wall0);
	write_metrics(r, now, 1);
	snapshot(r, now);
	summary_totals(engine_summary(r->eng), &tot);
	n_att = attendance(r, &att);
	if (r->dashboard) {
		struct report_opts ro;

		dashboard_close(r->dash);
		r->dash = NULL;
		/* the terminal is back (or a stop came before it was taken):
		 * leave the session summary on it */
		report_opts_default(&ro);
		ro.path = "-";
		ro.aggregate_only = r->cfg->output.aggregate_only;
		ro.students = !ro.aggregate_only; /* the exit screen: who was there */
		ro.faces_only = r->classify ? NULL : faces_only_why(r->cfg);
		if ((r->out = report_open(&ro, NULL))) {
			report_students_final(r->out, r->snap, att, n_att);
			report_final(r->out, r->snap, &tot);
		}
	} else if (r->out && !r->stdout_dead) {
		report_students_final(r->out, r->snap, att, n_att);
		report_final(r->out, r->snap, &tot);
	}
	if (r->log) {
		report_students_final(r->log, r->snap, att, n_att);
		report_final(r->log, r->snap, &tot);
	}
	if (r->rec)
		report_final(r->rec, r->snap, &tot);
	if (!r->stdout_dead) {
		watch_sink(r, r->out, stdout_name, &r->out_failing);
		sink_verdict(r, r->out, stdout_name);
	}
	watch_sink(r, r->log, r->cfg->output.log, &r->log_failing);
	sink_verdict(r, r->log, r->cfg->output.log);
	watch_sink(r, r->rec, r->cfg->output.record, &r->rec_failing);
	sink_verdict(r, r->rec, r->cfg->output.record);
	if (r->classify && r->cfg->output.report_svg[0]) {
		int n = summary_history(engine_summary(r->eng), NULL, 0);
		struct summary_point *pts = calloc((size_t)(n > 0 ? n : 1), sizeof(*pts));
		struct emo_err err;

		memset(&err, 0, sizeof(err));
		if (pts) {
			n = summary_history(engine_summary(r->eng), pts, n);
			if (report_write_svg_students(r->cfg->output.report_svg, NULL, pts, n, att, n_att,
						      &err)) {
				say(r, 0, "cannot write %s: %s", r->cfg->output.report_svg, err.msg);
				r->write_failed = 1;
			}
			free(pts);
		} else {
			say(r, 0, "cannot write %s: out of memory", r->cfg->output.report_svg);
			r->write_failed = 1;
		}
	}
	free(att);
}

/* ---- the loop ---------------------------------------------------------- */

/* SIGHUP: with the dashboard's terminal gone it was a hangup: returns 1 to
 * finish as on SIGTERM; otherwise somebody (logrotate) asks for the log to
 * be reopened: reopens it and returns 0. */
static int hup_ends(struct run *r)
{
	*r->o->hup = 0;
	if (r->dash && !dashboard_terminal_alive(r->dash))
		return 1;
	reopen_logs(r);
	return 0;
}

static int open_capture(struct run *r)
{
	struct capture_opts co;
	struct emo_err err;
	char src[CONFIG_PATH_MAX + 32];
	int rc;

	snprintf(src, sizeof(src), "%s", r->cfg->source);
	if (!strcmp(src, "demo") && !r->dashboard)
		snprintf(src, sizeof(src), "demo:%g", r->cfg->duration > 0 ? r->cfg->duration
									   : (double)DEMO_HEADLESS_S);
	capture_opts_default(&co);
	co.source = src;
	co.fps = r->cfg->fps;
	co.realtime = r->cfg->realtime || r->dashboard; /* people watch the dashboard */
	co.cancel = r->o->stop;
	co.width = r->cfg->capture.width;
	co.height = r->cfg->capture.height;
	co.input_fps = r->cfg->capture.input_fps;
	co.input_format = r->cfg->capture.input_format[0] ? r->cfg->capture.input_format : NULL;
	co.max_side = r->cfg->capture.max_side;
	co.rtsp_transport = r->cfg->capture.rtsp_transport == CONFIG_RTSP_TCP   ? CAPTURE_RTSP_TCP
			    : r->cfg->capture.rtsp_transport == CONFIG_RTSP_UDP ? CAPTURE_RTSP_UDP
										: CAPTURE_RTSP_AUTO;
	co.input_options = r->cfg->capture.input_options[0] ? r->cfg->capture.input_options : NULL;
	co.timeout_ms = (int)(r->cfg->capture.timeout * 1000);
	co.reconnect = r->cfg->capture.reconnect == CONFIG_RECONNECT_NEVER    ? 0
		       : r->cfg->capture.reconnect == CONFIG_RECONNECT_ALWAYS ? 1
									  : -1;
	memset(&err, 0, sizeof(err));
	if ((rc = capture_open(&r->cap, &co, &err))) {
		if (*r->o->stop)
			return EMOTOP_EXIT_OK;
		/* err.file is the (masked) source again: the message alone */
		say(r, 0, "cannot open source %s: %s", r->source, err.msg[0] ? err.msg : emo_strerror(rc));
		return rc == EMO_EINVAL ? EMOTOP_EXIT_USAGE : rc == EMO_ENOMEM ? EMOTOP_EXIT_RUNTIME
									: EMOTOP_EXIT_SOURCE;
	}
	{
		struct capture_stats cs;

		capture_stats(r->cap, &cs);
		r->media_clock = !cs.live && !co.realtime;
		r->live = cs.live;
		say(r, 2, "source %s: %dx%d %s%s", r->source, cs.width, cs.height, cs.codec,
		    cs.live ? " (live)" : "");
	}
	return EMOTOP_EXIT_OK;
}

static int analyse(struct run *r, const struct emo_image *gray, const struct capture_frame_info *info,
		   double now)
{
	struct engine_frame_stats st;
	struct emo_err err;
	int n;

	memset(&err, 0, sizeof(err));
	n = engine_frame(r->eng, gray, now, &st, &err);
	if (n < 0) {
		char msg[900];

		emo_err_format(&err, msg, sizeof(msg));
		say(r, 0, "%s", msg[0] ? msg : emo_strerror(n));
		return n == EMO_EFORMAT || n == EMO_EUNSUPPORTED ? EMOTOP_EXIT_MODEL
		       : n == EMO_ECONFIG			  ? EMOTOP_EXIT_CONFIG
								  : EMOTOP_EXIT_RUNTIME;
	}
	r->analysed++;
	r->face_frames += n;
	if (info && isfinite(info->wall))
		r->lat_sum_capture += fmax(0, wall_s() - info->wall) * 1e3 - st.detect_ms - st.classify_ms;
	r->lat_sum_detect += st.detect_ms;
	r->lat_sum_classify += st.classify_ms;
	r->lat_n++;
	if (r->rec) {
		snapshot(r, now);
		report_emit(r->rec, r->snap);
		watch_sink(r, r->rec, r->cfg->output.record, &r->rec_failing);
	}
	keep_shot(r, gray);
	return EMOTOP_EXIT_OK;
}

/* Wait up to ms for input (dashboard) or time (headless); a signal cuts it short. */
static int wait_ms(struct run *r, int ms)
{
	if (ms < 0)
		ms = 0;
	if (r->dash)
		return dashboard_poll(r->dash, ms);
	if (ms > 0) {
		struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

		nanosleep(&ts, NULL);
	}
	return DASHBOARD_NONE;
}

/* The input ended under the dashboard: keep the last state on screen
 * until q (or a signal). */
static void hold_dashboard(struct run *r, double now)
{
	fill_stats(r, mono_s() - r->wall0);
	snapshot(r, r->have_frame ? fmax(r->t_last, now) : 0);
	dashboard_draw(r->dash, r->snap);
	dashboard_message(r->dash, 1e9, "end of input: press q to quit");
	while (!*r->o->stop && !(*r->o->hup && hup_ends(r))) {
		int a = dashboard_poll(r->dash, 200);

		if (a == DASHBOARD_QUIT)
			break;
		if (a == DASHBOARD_RESET) {
			summary_reset(engine_summary(r->eng));
			snapshot(r, r->t_last);
			dashboard_draw(r->dash, r->snap);
		}
	}
}

static int loop(struct run *r)
{
	const double interval = r->cfg->output.interval, period = 1.0 / r->cfg->fps;
	double next_frame = 0; /* wall time of the next analysis (live sources) */
	int paused = 0, result = EMOTOP_EXIT_OK;

	for (;;) {
		struct emo_image gray;
		struct capture_frame_info info;
		struct emo_err err;
		double now = 0, tw = mono_s() - r->wall0;
		int rc = EMO_EAGAIN, action = DASHBOARD_NONE;

		if (*r->o->stop)
			break;
		if (*r->o->hup && hup_ends(r))
			break;
		if (r->media_clock || tw >= next_frame) {
			/* files: the next sampled frame; live: the newest one */
			int timeout = r->dash ? 50 : 100;

			if (!r->media_clock && r->have_frame && r->next_report - tw < timeout / 1e3)
				timeout = (int)fmax(0, (r->next_report - tw) * 1e3) + 1;
			memset(&err, 0, sizeof(err));
			rc = capture_next(r->cap, &gray, &info, timeout, &err);
			if (rc == EMO_EEOF) {
				set_source(r, SUMMARY_SOURCE_ENDED, r->have_frame ? r->t_last : 0);
				if (r->dash)
					hold_dashboard(r, now);
				break;
			}
			if (rc == EMO_EINTR)
				break;
			if (rc != EMO_OK && rc != EMO_EAGAIN) {
				say(r, 0, "source %s failed: %s", r->source,
				    err.msg[0] ? err.msg : emo_strerror(rc));
				set_source(r, SUMMARY_SOURCE_LOST,
					   r->media_clock ? r->t_last : mono_s() - r->wall0);
				result = EMOTOP_EXIT_SOURCE;
				break;
			}
		} else {
			/* live source ahead of the analysis rate: let the capture
			 * thread drop frames while we wait */
			double until = fmin(next_frame, r->have_frame ? r->next_report : next_frame);

			action = wait_ms(r, (int)fmin(50, fmax(0, (until - tw) * 1e3)) + 1);
		}
		if (rc == EMO_OK) {
			tw = mono_s() - r->wall0;
			now = r->media_clock ? info.media_time : tw;
			if (!r->have_frame) {
				r->have_frame = 1;
				r->t_start = now;
				r->next_report = now + interval;
			}
			if (now < r->t_last)
				now = r->t_last;
			r->t_last = now;
			next_frame = fmax(next_frame + period, tw);
			r->frame_tw = tw;
			r->media_last = r->live ? NAN : info.media_time;
			if (!paused && (result = analyse(r, &gray, &info, now)))
				break;
			feed_preview(r, &gray);
			/* a frame decoded before the connection ended does not
			 * make the source up again */
			if (set_source(r, r->media_clock ? SUMMARY_SOURCE_UP : live_state(r, tw), now))
				break; /* nobody reads us any more */
		} else {
			double t = r->media_clock ? r->t_last : mono_s() - r->wall0;

			if (set_source(r, live_state(r, t), t))
				break;
			if (!r->have_frame)
				goto ui;
			now = t;
		}
		if (now >= r->next_report) {
			if (emit(r, now))
				break; /* nobody reads us any more */
			while (r->next_report <= now)
				r->next_report += interval;
		}
		if (r->cfg->duration > 0 && now - r->t_start >= r->cfg->duration - 1e-9)
			break;
ui:
		if (!r->dash)
			continue;
		fill_stats(r, mono_s() - r->wall0);
		snapshot(r, r->have_frame ? fmax(r->t_last, now) : 0);
		dashboard_draw(r->dash, r->snap); /* repaints at most at its own rate */
		if (action == DASHBOARD_NONE)
			action = dashboard_poll(r->dash, 0);
		switch (action) {
		case DASHBOARD_QUIT:
			*r->o->stop = 1;
			break;
		case DASHBOARD_PAUSE:
			paused = 1;
			break;
		case DASHBOARD_RESUME:
			paused = 0;
			break;
		case DASHBOARD_RESET:
			summary_reset(engine_summary(r->eng));
			break;
		default:
			break;
		}
	}
	return result;
}

int pipeline_run(const struct pipeline_opts *o)
{
	struct run *r = calloc(1, sizeof(*r));
	struct emo_err err;
	int result = EMOTOP_EXIT_OK;

	if (!r || !(r->snap = calloc(1, sizeof(*r->snap)))) {
		free(r);
		fprintf(stderr, "emotop: out of memory\n");
		return EMOTOP_EXIT_RUNTIME;
	}
	r->o = o;
	r->cfg = o->cfg;
	r->verbose = o->verbose;
	r->dashboard = o->dashboard;
	r->fmt = o->cfg->output.format;
	emo_redact_url(o->cfg->source, r->source, sizeof(r->source));
	capture_set_log(capture_log, NULL,
			o->verbose < 0 ? CAPTURE_LOG_ERROR
			: o->verbose == 0 ? CAPTURE_LOG_WARNING
			: o->verbose == 1 ? CAPTURE_LOG_INFO : CAPTURE_LOG_DEBUG);

	memset(&err, 0, sizeof(err));
	if (!(r->eng = engine_new(o->cfg, &err))) {
		char msg[900];

		emo_err_format(&err, msg, sizeof(msg));
		say(r, 0, "%s", msg);
		result = o->cfg->classifier.model[0] ? EMOTOP_EXIT_MODEL : EMOTOP_EXIT_RUNTIME;
		goto end;
	}
	r->classify = engine_has_classifier(r->eng);
	if (!r->classify)
		say(r, 1, "%s", engine_status(r->eng));
	if (o->cfg->output.annotate[0] && mkdir(o->cfg->output.annotate, 0700) && errno != EEXIST) {
		say(r, 0, "cannot create %s: %s", o->cfg->output.annotate, strerror(errno));
		result = EMOTOP_EXIT_OUTPUT;
		goto end;
	}
	/* a stop during start-up (models, source) still ends with the final
	 * line: the loop below sees the flag at once */
	if (o->cfg->output.annotate[0])
		r->shots = last_shot(o->cfg->output.annotate);
	if ((result = open_capture(r)))
		goto end;
	if (r->dashboard && !*o->stop) {
		struct dashboard_opts dopt;

		dashboard_opts_default(&dopt);
		dopt.ascii = o->cfg->ui.ascii;
		dopt.no_color = !o->cfg->ui.color;
		memset(&err, 0, sizeof(err));
		if (!(r->dash = dashboard_open(&dopt, &err))) {
			say(r, 0, "cannot start the dashboard: %s", err.msg);
			if (o->forced) {
				result = EMOTOP_EXIT_RUNTIME;
				goto end;
			}
			r->dashboard = 0; /* lines instead */
			setvbuf(stdout, NULL, _IOLBF, 0);
		} else {
			/* the preview pane's frame: one for the run; without
			 * it the pane only says it waits for a frame */
			r->preview = calloc(1, sizeof(*r->preview));
			if (!r->classify)
				dashboard_message(r->dash, 1e9, engine_status(r->eng));
		}
	}
	if (open_outputs(r)) {
		result = EMOTOP_EXIT_OUTPUT;
		goto end;
	}
	r->wall0 = mono_s();
	r->epoch0 = wall_s() - (mono_s() - r->wall0);
	r->media_last = NAN;
	result = loop(r);
	if (result == EMOTOP_EXIT_OK || result == EMOTOP_EXIT_SOURCE)
		finish(r);
	if (result == EMOTOP_EXIT_OK && r->write_failed)
		result = EMOTOP_EXIT_OUTPUT;
end:
	if (r->dash)
		dashboard_close(r->dash);
	capture_close(&r->cap);
	report_close(r->out);
	report_close(r->log);
	report_close(r->rec);
	metrics_close(r->metrics);
	image_free(&r->shot);
	engine_free(r->eng);
	capture_set_log(NULL, NULL, CAPTURE_LOG_WARNING);
	free(r->preview);
	free(r->snap);
	free(r);
	return result;
}
