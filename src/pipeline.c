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
 *
 * This file: the messages, opening the source, the analysis of a frame, the
 * source's state, the loop and pipeline_run(), which makes and frees the
 * run's state (struct run, pipeline_int.h). The outputs are written by
 * pipeline_sinks.c, the --annotate shots and the preview pane's frame made
 * by pipeline_annotate.c.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "dashboard.h"
#include "emotop/capture.h"
#include "emotop/config.h"
#include "emotop/engine.h"
#include "emotop/metrics.h"
#include "emotop/report.h"
#include "emotop/summary.h"
#include "pipeline.h"
#include "pipeline_int.h"

#define DEMO_HEADLESS_S 60 /* a headless "demo" run is this long unless --duration */
/* A live source that has delivered no frame for this long (or for 3 of its
 * frame intervals, or 2.5 analysis periods, when longer) is not up: it is
 * said to be reconnecting even before the capture's own timeout gives up on
 * the connection. */
#define PIPELINE_STALL_S 2.0

double pipeline_mono_s(void)
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

/* level: 0 error (always), 1 notice (not with -q), 2 verbose (-v); every
 * message goes through the redactor. */
void pipeline_say(const struct run *r, int level, const char *fmt, ...)
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

/* ---- the loop ---------------------------------------------------------- */

/* SIGHUP: with the dashboard's terminal gone it was a hangup: returns 1 to
 * finish as on SIGTERM; otherwise somebody (logrotate) asks for the log to
 * be reopened: reopens it and returns 0. */
static int hup_ends(struct run *r)
{
	*r->o->hup = 0;
	if (r->dash && !dashboard_terminal_alive(r->dash))
		return 1;
	pipeline_sinks_reopen_logs(r);
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
		pipeline_say(r, 0, "cannot open source %s: %s", r->source,
			     err.msg[0] ? err.msg : emo_strerror(rc));
		return rc == EMO_EINVAL ? EMOTOP_EXIT_USAGE : rc == EMO_ENOMEM ? EMOTOP_EXIT_RUNTIME
									: EMOTOP_EXIT_SOURCE;
	}
	{
		struct capture_stats cs;

		capture_stats(r->cap, &cs);
		r->media_clock = !cs.live && !co.realtime;
		r->live = cs.live;
		pipeline_say(r, 2, "source %s: %dx%d %s%s", r->source, cs.width, cs.height, cs.codec,
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
		pipeline_say(r, 0, "%s", msg[0] ? msg : emo_strerror(n));
		return n == EMO_EFORMAT || n == EMO_EUNSUPPORTED ? EMOTOP_EXIT_MODEL
		       : n == EMO_ECONFIG			  ? EMOTOP_EXIT_CONFIG
								  : EMOTOP_EXIT_RUNTIME;
	}
	r->analysed++;
	if (info && isfinite(info->wall))
		r->lat_sum_capture += fmax(0, wall_s() - info->wall) * 1e3 - st.detect_ms - st.classify_ms;
	r->lat_sum_detect += st.detect_ms;
	r->lat_sum_classify += st.classify_ms;
	r->lat_n++;
	if (r->rec) {
		pipeline_sinks_snapshot(r, now);
		report_emit(r->rec, r->snap);
		pipeline_sinks_watch(r, r->rec, r->cfg->output.record, &r->rec_failing);
	}
	pipeline_annotate_keep_shot(r, gray);
	return EMOTOP_EXIT_OK;
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
	pipeline_sinks_fill_stats(r, pipeline_mono_s() - r->wall0);
	pipeline_sinks_snapshot(r, r->have_frame ? fmax(r->t_last, now) : 0);
	dashboard_draw(r->dash, r->snap);
	dashboard_message(r->dash, 1e9, "end of input: press q to quit");
	while (!*r->o->stop && !(*r->o->hup && hup_ends(r))) {
		int a = dashboard_poll(r->dash, 200);

		if (a == DASHBOARD_QUIT)
			break;
		if (a == DASHBOARD_RESET) {
			summary_reset(engine_summary(r->eng));
			pipeline_sinks_snapshot(r, r->t_last);
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
		double now = 0, tw = pipeline_mono_s() - r->wall0;
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
				pipeline_sinks_set_source(r, SUMMARY_SOURCE_ENDED,
							  r->have_frame ? r->t_last : 0);
				if (r->dash)
					hold_dashboard(r, now);
				break;
			}
			if (rc == EMO_EINTR)
				break;
			if (rc != EMO_OK && rc != EMO_EAGAIN) {
				pipeline_say(r, 0, "source %s failed: %s", r->source,
					     err.msg[0] ? err.msg : emo_strerror(rc));
				pipeline_sinks_set_source(r, SUMMARY_SOURCE_LOST,
							  r->media_clock ? r->t_last
									 : pipeline_mono_s() - r->wall0);
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
			tw = pipeline_mono_s() - r->wall0;
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
			pipeline_annotate_feed_preview(r, &gray);
			/* a frame decoded before the connection ended does not
			 * make the source up again */
			if (pipeline_sinks_set_source(r, r->media_clock ? SUMMARY_SOURCE_UP : live_state(r, tw),
						      now))
				break; /* nobody reads us any more */
		} else {
			double t = r->media_clock ? r->t_last : pipeline_mono_s() - r->wall0;

			if (pipeline_sinks_set_source(r, live_state(r, t), t))
				break;
			if (!r->have_frame)
				goto ui;
			now = t;
		}
		if (now >= r->next_report) {
			if (pipeline_sinks_emit(r, now))
				break; /* nobody reads us any more */
			while (r->next_report <= now)
				r->next_report += interval;
		}
		if (r->cfg->duration > 0 && now - r->t_start >= r->cfg->duration - 1e-9)
			break;
ui:
		if (!r->dash)
			continue;
		pipeline_sinks_fill_stats(r, pipeline_mono_s() - r->wall0);
		pipeline_sinks_snapshot(r, r->have_frame ? fmax(r->t_last, now) : 0);
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
		pipeline_say(r, 0, "%s", msg);
		result = o->cfg->classifier.model[0] ? EMOTOP_EXIT_MODEL : EMOTOP_EXIT_RUNTIME;
		goto end;
	}
	r->classify = engine_has_classifier(r->eng);
	if (!r->classify)
		pipeline_say(r, 1, "%s", engine_status(r->eng));
	if (o->cfg->output.annotate[0] && mkdir(o->cfg->output.annotate, 0700) && errno != EEXIST) {
		pipeline_say(r, 0, "cannot create %s: %s", o->cfg->output.annotate, strerror(errno));
		result = EMOTOP_EXIT_OUTPUT;
		goto end;
	}
	/* a stop during start-up (models, source) still ends with the final
	 * line: the loop below sees the flag at once */
	if (o->cfg->output.annotate[0])
		r->shots = pipeline_annotate_last_shot(o->cfg->output.annotate);
	if ((result = open_capture(r)))
		goto end;
	if (r->dashboard && !*o->stop) {
		struct dashboard_opts dopt;

		dashboard_opts_default(&dopt);
		dopt.ascii = o->cfg->ui.ascii;
		dopt.no_color = !o->cfg->ui.color;
		memset(&err, 0, sizeof(err));
		if (!(r->dash = dashboard_open(&dopt, &err))) {
			pipeline_say(r, 0, "cannot start the dashboard: %s", err.msg);
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
	if (pipeline_sinks_open_outputs(r)) {
		result = EMOTOP_EXIT_OUTPUT;
		goto end;
	}
	r->wall0 = pipeline_mono_s();
	r->epoch0 = wall_s() - (pipeline_mono_s() - r->wall0);
	r->media_last = NAN;
	result = loop(r);
	if (result == EMOTOP_EXIT_OK || result == EMOTOP_EXIT_SOURCE)
		pipeline_sinks_finish(r);
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
