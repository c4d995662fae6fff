/* pipeline_sinks.c - the run's outputs: opening the sinks (the lines on
 * standard output, the log, the --record timeline) and the metrics file,
 * reopening the log on SIGHUP; the lines themselves (report, alert and
 * source lines), each sink watched for lost lines; at the end the final
 * summary, on the terminal after the dashboard, and the SVG report. Writes
 * only its own fields of struct run (see pipeline_int.h).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard.h"
#include "emotop/capture.h"
#include "emotop/config.h"
#include "emotop/engine.h"
#include "emotop/metrics.h"
#include "emotop/report.h"
#include "emotop/summary.h"
#include "pipeline_int.h"

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
		pipeline_say(r, 0, "cannot open output: %s", msg);
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
		pipeline_say(r, 0, "cannot open output: %s", msg);
		return -1;
	}
	return 0;
}

int pipeline_sinks_open_outputs(struct run *r)
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
		pipeline_say(r, 1, "%s: no --record timeline or SVG report is written",
			     faces_only_why(cfg));
	return 0;
}

void pipeline_sinks_reopen_logs(struct run *r)
{
	if (!r->log)
		return;
	if (report_reopen(r->log)) {
		pipeline_say(r, 0, "cannot reopen %s: %s", r->cfg->output.log, strerror(errno));
		return;
	}
	pipeline_say(r, 2, "reopened %s", r->cfg->output.log);
}

/* ---- reporting --------------------------------------------------------- */

void pipeline_sinks_fill_stats(struct run *r, double elapsed_wall)
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

void pipeline_sinks_snapshot(struct run *r, double now)
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
	pipeline_sinks_snapshot(r, now);
	if (final)
		r->snap->stats.source_up = 0;
	memset(&err, 0, sizeof(err));
	if (metrics_write(r->metrics, r->snap, &err)) {
		char msg[900];

		emo_err_format(&err, msg, sizeof(msg));
		if (!r->metrics_failing)
			pipeline_say(r, 0, "%s", msg);
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
int pipeline_sinks_watch(struct run *r, struct report *s, const char *name, int *failing)
{
	struct report_health h;

	report_health(s, &h);
	if (s == r->out && h.failing && h.error == EPIPE) {
		r->stdout_dead = 1;
		return -1;
	}
	if (h.failing && !*failing)
		pipeline_say(r, 0, "cannot write %s%s: %s; lines are lost until it can be written again",
			     s == r->out ? "to " : "", name, strerror(h.error));
	else if (!h.failing && *failing)
		pipeline_say(r, 0, "%s: written again, %lld line%s lost", name, h.lost,
			     h.lost == 1 ? "" : "s");
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
		rc = pipeline_sinks_watch(r, r->out, stdout_name, &r->out_failing);
	}
	if (r->log) {
		write(r->log, r->snap);
		pipeline_sinks_watch(r, r->log, r->cfg->output.log, &r->log_failing);
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
	pipeline_sinks_snapshot(r, now);
	return to_sinks(r, report_alerts);
}

/* Returns -1 when stdout is gone (a closed pipe) or a write to it failed. */
int pipeline_sinks_emit(struct run *r, double now)
{
	int rc;

	r->t_emit = now;
	pipeline_sinks_fill_stats(r, pipeline_mono_s() - r->wall0);
	pipeline_sinks_snapshot(r, now);
	rc = to_sinks(r, report_emit);
	write_metrics(r, now, 0);
	if (r->cfg->output.annotate[0])
		pipeline_annotate_write_shot(r);
	return rc;
}

/* The source is in state at now: the summary hears of it (no faces from
 * frames that did not arrive; the source_down alert), and a change is
 * written at once to every sink as a "source" line. Returns -1 when stdout
 * is gone (a closed pipe). */
int pipeline_sinks_set_source(struct run *r, int state, double now)
{
	int prev = r->src_state, rc = 0;

	if (state != SUMMARY_SOURCE_UP || prev != state)
		summary_source(engine_summary(r->eng), now, state);
	if (state == prev)
		return emit_alerts(r, now);
	r->src_state = state;
	pipeline_say(r, 2, "source %s: %s", r->source, summary_source_state_name(state));
	pipeline_sinks_fill_stats(r, pipeline_mono_s() - r->wall0);
	pipeline_sinks_snapshot(r, now);
	if (r->out) {
		report_source(r->out, r->snap, prev);
		rc = pipeline_sinks_watch(r, r->out, stdout_name, &r->out_failing);
	}
	if (r->log) {
		report_source(r->log, r->snap, prev);
		pipeline_sinks_watch(r, r->log, r->cfg->output.log, &r->log_failing);
	}
	if (r->rec) {
		report_source(r->rec, r->snap, prev);
		pipeline_sinks_watch(r, r->rec, r->cfg->output.record, &r->rec_failing);
	}
	return emit_alerts(r, now) || rc ? -1 : 0;
}

/* At the end: a sink that lost its last lines (the final line among them)
 * never recovered: say how many and make the exit status 6. */
static void sink_verdict(struct run *r, struct report *s, const char *name)
{
	struct report_health h;

	report_health(s, &h);
	if (!s || !h.failing || (s == r->out && h.error == EPIPE))
		return;
	pipeline_say(r, 0, "%s: %lld line%s lost, the final line too: %s", name, h.lost,
		     h.lost == 1 ? "" : "s", strerror(h.error));
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

void pipeline_sinks_finish(struct run *r)
{
	double now = r->have_frame ? fmax(r->t_last, r->t_emit) : 0;
	struct summary_totals tot;
	struct summary_attendee *att;
	int n_att;

	pipeline_sinks_fill_stats(r, pipeline_mono_s() - r->wall0);
	write_metrics(r, now, 1);
	pipeline_sinks_snapshot(r, now);
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
		pipeline_sinks_watch(r, r->out, stdout_name, &r->out_failing);
		sink_verdict(r, r->out, stdout_name);
	}
	pipeline_sinks_watch(r, r->log, r->cfg->output.log, &r->log_failing);
	sink_verdict(r, r->log, r->cfg->output.log);
	pipeline_sinks_watch(r, r->rec, r->cfg->output.record, &r->rec_failing);
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
				pipeline_say(r, 0, "cannot write %s: %s", r->cfg->output.report_svg, err.msg);
				r->write_failed = 1;
			}
			free(pts);
		} else {
			pipeline_say(r, 0, "cannot write %s: out of memory", r->cfg->output.report_svg);
			r->write_failed = 1;
		}
	}
	free(att);
}
