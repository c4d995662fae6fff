/* report.h - headless output sinks: one line per snapshot in text, NDJSON or
 * CSV, the --record per-frame timeline, the final session line, and the SVG
 * chart of the class mood over the session.
 *
 * Every line is written whole and flushed (a reader never sees half a
 * record): with one write(2) per line, not stdio; when the write fails part
 * way through a regular file (disk full, EFBIG), the file is cut back to the
 * end of the previous line, so it never keeps a torn line. Numbers use fixed precision and '.' whatever the locale. Strings
 * are escaped for their format (JSON per RFC 8259, UTF-8 kept and invalid
 * bytes replaced by U+FFFD; CSV quoted per RFC 4180; text quoted with
 * control characters escaped), so a hostile name cannot break a line.
 *
 * Times: "time" is Unix time for live sources (summary_stats.clock
 * SUMMARY_CLOCK_WALL: the snapshot's time + clock_offset), with "clock", the
 * same instant as ISO 8601 local time with its UTC offset; for files read at
 * full speed (SUMMARY_CLOCK_MEDIA) "time" is the media time, "clock" null,
 * and "media_time" the same seconds. Every line names the source's state
 * ("source_state": up, reconnecting, lost, ended). CSV has these as its last
 * columns: ...,valence,clock,media_time,source_state.
 *
 * Kinds of sink:
 *   REPORT_SUMMARY  report_emit() writes one class line, then one line per
 *                   alert fired since the previous emit, then (opts.students)
 *                   one line per student;
 *   REPORT_RECORD   report_emit() writes one "frame" line for the frame of the
 *                   snapshot, then one "track" line per present track (call it
 *                   after every summary_update(); a snapshot with the same
 *                   seq as the previous one is not written again).
 * Both: report_final() writes the "final" session line. With aggregate_only
 * no line carries a name, a track id, a seat or any per-person value. A
 * source URL's credentials (user:password@ after the scheme) are written as
 * ***@.
 *
 * CSV: one header per file (not repeated when appending to a non-empty file,
 * including stdout redirected with >>);
 * every row of a sink has the same columns, the first being `type`.
 */
#ifndef EMOTOP_REPORT_H
#define EMOTOP_REPORT_H

#include <stdio.h>

#include "emotop/err.h"
#include "emotop/summary.h"

enum report_format {
	REPORT_TEXT = 0,
	REPORT_NDJSON = 1,
	REPORT_CSV = 2,
};

enum report_kind {
	REPORT_SUMMARY = 0,
	REPORT_RECORD = 1,
};

struct report_opts {
	enum report_format format;   /* default REPORT_TEXT */
	enum report_kind kind;       /* default REPORT_SUMMARY */
	const char *path;            /* NULL or "-": stdout (never closed); else
				      * opened in append mode; copied */
	int students;                /* per-student lines (summary sinks) */
	int aggregate_only;          /* never write per-person data */
	const char *faces_only;      /* NULL: emotion lines; else no classifier:
				      * report_emit() writes one "faces" line
				      * (faces, "emotions":null, this status text)
				      * and report_final() one final line with
				      * max_faces; CSV columns type,time,faces,status.
				      * Copied. Summary sinks only. */
};

void report_opts_default(struct report_opts *o);

/* "text", "ndjson" (or "json"), "csv" -> format; -1 when unknown. */
int report_format_from_name(const char *name);
/* Format from a file name's extension: .csv -> CSV, .ndjson/.jsonl/.json ->
 * NDJSON, .txt/.log -> text; -1 otherwise. */
int report_format_from_path(const char *path);
/* "text", "ndjson", "csv". */
const char *report_format_name(int format);

/* New sink. NULL on error, *err set (EMO_EINVAL bad options, EMO_EIO cannot
 * open the file: message names it and errno). Free with report_close(). */
struct report *report_open(const struct report_opts *o, struct emo_err *err);
/* Flush and close (stdout is flushed, not closed). NULL-safe. */
void report_close(struct report *r);

/* Write the lines for snapshot s (see the kinds above). Returns EMO_OK,
 * EMO_EINVAL, or EMO_EIO when a line could not be written (e.g. disk full,
 * a closed pipe: errno and report_health() say which); every failed line
 * returns EMO_EIO, not only the first. */
int report_emit(struct report *r, const struct summary *s);

/* Write only the alert lines fired since the last ones written (summary
 * sinks; nothing for record and faces-only sinks), so that an alert goes out
 * when it fires, not at the next report_emit(), which then skips them.
 * Returns like report_emit(). */
int report_alerts(struct report *r, const struct summary *s);

/* Write one "source" line: the source changed from state prev to
 * s->stats.source_state at s->time (enum summary_source_state), with the
 * reconnections so far and the (masked) source. Every kind of sink. Returns
 * like report_emit(). */
int report_source(struct report *r, const struct summary *s, int prev);

/* Write one "student_final" line per student of the session a[0..n)
 * (summary_attendance()) at snapshot s: id, seat, name, first and last
 * seen, seconds present and their share of the session, frames present,
 * and the dominant expression with the share of present time per
 * expression (null in faces-only sinks: attendance only; a faces-only CSV
 * has no columns for them and writes none). Only summary sinks opened with
 * opts.students, never with aggregate_only (EMO_OK, nothing written). Call
 * it just before report_final(). Returns like report_emit(). */
int report_students_final(struct report *r, const struct summary *s,
			  const struct summary_attendee *a, int n);

/* Write the final session line for totals tot at snapshot s. */
int report_final(struct report *r, const struct summary *s, const struct summary_totals *tot);

/* Reopen the file by path (SIGHUP after logrotate moved it): writing goes
 * on in a new file when the old one was renamed. No-op for stdout. On
 * failure the old stream is kept and EMO_EIO returned. */
int report_reopen(struct report *r);

/* The path written to ("-" for stdout). */
const char *report_path(const struct report *r);

/* Lines lost to write errors. An episode of loss begins with a line that
 * could not be written whole and ends when a later line is written whole:
 * the output recovered. */
struct report_health {
	int failing;          /* in an episode: the last line was lost */
	int error;            /* errno of the episode's first lost line (EPIPE:
			       * a closed pipe, ENOSPC, EFBIG, ...) */
	long long lost;       /* lines lost in the episode going on, or in the
			       * last one once it ended */
	long long lost_total; /* lines lost since report_open() */
};

/* Copy r's loss bookkeeping into *h (all zero for NULL). */
void report_health(const struct report *r, struct report_health *h);

/* Write an SVG chart of the session history: the 7 mean probabilities and
 * the negative share (dashed) over time, axes, labels and legend; title is
 * escaped (NULL: "emotop class mood"). Self-contained, valid XML.
 * Returns EMO_OK, EMO_EINVAL, EMO_EIO or EMO_ENOMEM with *err set. */
int report_write_svg(const char *path, const char *title, const struct summary_point *pts,
		     int n, struct emo_err *err);

/* The same chart with a table of the session's students under it
 * (summary_attendance(): name or #id, time present, share of the session,
 * frames, dominant expression and a bar of the share of present time per
 * expression); att NULL / n_att 0: the chart alone. Never pass students
 * under aggregate_only. Returns like report_write_svg(). */
int report_write_svg_students(const char *path, const char *title, const struct summary_point *pts,
			      int n, const struct summary_attendee *att, int n_att, struct emo_err *err);

/* Escapers, exposed for tests: write the escaped form of s (with its quotes
 * for JSON and CSV when needed) into buf (size len, always NUL-terminated when
 * len > 0); return the full length it needs (excluding the NUL), like
 * snprintf. CSV quotes only when s has , " CR or LF or leading/trailing
 * blanks. */
unsigned long report_json_string(char *buf, unsigned long len, const char *s);

/* Does a CSV written to f need its header first? Yes unless f continues a
 * non-empty regular file (for stdout: appended to, `>> log.csv`). */
int report_csv_needs_header(FILE *f);
unsigned long report_csv_field(char *buf, unsigned long len, const char *s);
/* Fixed-point number with prec (0..9) decimals and '.', whatever the locale;
 * "null" for NaN/inf. Same return convention. */
unsigned long report_fixed(char *buf, unsigned long len, double v, int prec);

#endif
