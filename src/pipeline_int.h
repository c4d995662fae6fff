/* pipeline_int.h - what the pipeline's files share, private to them (not
 * under include/: only src/pipeline*.c include it). The public API is
 * pipeline.h, pipeline_run(); these are the pieces behind it:
 *
 *   pipeline.c           the messages, the clock, opening the source, the
 *                        analysis of a frame, the loop, pipeline_run()
 *   pipeline_sinks.c     the outputs: the sinks (stdout's lines, the log, the
 *                        --record timeline) and the metrics file, the report,
 *                        alert and source lines, the sinks' health, the final
 *                        summary and the SVG report
 *   pipeline_annotate.c  the --annotate PNG shots and the dashboard's
 *                        preview pane's frame
 *
 * Who owns what: pipeline_run() (pipeline.c) makes struct run with the
 * snapshot and the preview frame, the engine, the capture and the dashboard,
 * and at its end closes and frees everything the struct points to, whoever
 * made it: the sinks and the metrics file (opened by
 * pipeline_sinks_open_outputs(); pipeline_sinks_finish() closes the
 * dashboard, sets dash to NULL, and opens out for the exit screen) and the
 * shot's image (remade by pipeline_annotate_keep_shot() when the frame's
 * size changes).
 *
 * Who writes which fields: pipeline.c the settings (o, cfg, verbose,
 * dashboard, classify, fmt, source), the pointers cap, eng, dash, preview
 * and snap, the clock (media_clock, live, wall0, epoch0, t_start, t_last,
 * next_report, media_last, frame_tw, have_frame), the counter analysed, the
 * latency sums, and the first value of shots.
 * pipeline_sinks.c the sinks (out, log, rec) and metrics, stats, the
 * snapshot's contents, t_emit, src_state, stdout_dead, the *_failing
 * flags and alerts_said. pipeline_annotate.c shot, shot_valid, shots and
 * the preview frame's contents. write_failed is set (never cleared) by
 * those two, and read by pipeline_run().
 */
#ifndef EMOTOP_PIPELINE_INT_H
#define EMOTOP_PIPELINE_INT_H

#include "dashboard.h"
#include "emotop/capture.h"
#include "emotop/config.h"
#include "emotop/engine.h"
#include "emotop/image.h"
#include "emotop/metrics.h"
#include "emotop/report.h"
#include "emotop/summary.h"
#include "pipeline.h"

/* The state of one run, made by pipeline_run(). */
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
	long long analysed;
	double lat_sum_capture, lat_sum_detect, lat_sum_classify;
	long long lat_n;
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

/* ---- pipeline.c ------------------------------------------------------- */

/* CLOCK_MONOTONIC in seconds; a run's wall-clock times are
 * pipeline_mono_s() - r->wall0. */
double pipeline_mono_s(void);

/* Say fmt to stderr as "emotop: ..." through the redactor; level 0 an
 * error (always), 1 a notice (not with -q), 2 verbose (-v). */
void pipeline_say(const struct run *r, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- pipeline_sinks.c ------------------------------------------------- */

/* Open the outputs the config asks for: the metrics file, the lines on
 * stdout (headless only), the log and, with a classifier, the record.
 * 0, or -1 once the failure is said; what was opened stays in r for
 * pipeline_run() to close. */
int pipeline_sinks_open_outputs(struct run *r);

/* SIGHUP without a hangup: reopen the log; a failure is said. */
void pipeline_sinks_reopen_logs(struct run *r);

/* r->stats from the run's counters and the capture's (elapsed_wall: seconds
 * since r->wall0, for fps), handed to the engine's summary. */
void pipeline_sinks_fill_stats(struct run *r, double elapsed_wall);

/* The summary at session time now into *r->snap (no students under
 * aggregate_only). */
void pipeline_sinks_snapshot(struct run *r, double now);

/* Say when sink s (named name; NULL: nothing to watch) begins to lose lines
 * and when it writes again; *failing is what was said last. Returns -1 when
 * s is stdout and its pipe is closed (r->stdout_dead set), else 0. */
int pipeline_sinks_watch(struct run *r, struct report *s, const char *name, int *failing);

/* The report line of session time now to stdout and the log, the metrics
 * file rewritten, the --annotate shot written. Returns -1 when stdout is
 * gone (a closed pipe) or a write to it failed. */
int pipeline_sinks_emit(struct run *r, double now);

/* The source is in state (enum summary_source_state) at now: the summary
 * hears of it, a change goes to every sink as a "source" line, and new
 * alerts go out. Returns -1 when stdout is gone (a closed pipe). */
int pipeline_sinks_set_source(struct run *r, int state, double now);

/* The end of a run: the metrics' last write, the final lines (on the
 * terminal, after closing the dashboard, when it ran), each sink's verdict,
 * the SVG report. A failure is said and sets r->write_failed. */
void pipeline_sinks_finish(struct run *r);

/* ---- pipeline_annotate.c ---------------------------------------------- */

/* With --annotate: the frame g, with the seats and the last analysis's
 * faces and labels drawn in, kept in r->shot for the next report line
 * (r->shot_valid); no memory for it: no shot. */
void pipeline_annotate_keep_shot(struct run *r, const struct emo_image *g);

/* Write the kept shot, if any, as a new emotop-NNNNNN.png in the --annotate
 * folder. 0, or -1 once said, with r->write_failed set. */
int pipeline_annotate_write_shot(struct run *r);

/* The highest N of the emotop-N.png files in dir (0: none or unreadable). */
int pipeline_annotate_last_shot(const char *dir);

/* While the dashboard's preview pane is shown: frame g shrunk into
 * *r->preview with the last analysis's faces and the seats, handed to the
 * dashboard (which copies it). */
void pipeline_annotate_feed_preview(struct run *r, const struct emo_image *g);

#endif
