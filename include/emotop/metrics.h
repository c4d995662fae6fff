/* metrics.h - the current figures as a Prometheus text file (exposition
 * format 0.0.4) for node_exporter's textfile collector.
 *
 * metrics_write() replaces the whole file atomically: it writes a temporary
 * file in the same directory (".NAME.XXXXXX", which the collector ignores
 * since it reads *.prom only), fsyncs it, makes it mode 0644 and renames it
 * over PATH, then fsyncs the directory. A reader sees the old file or the
 * new one, never a part.
 *
 * Series (every one carries room="..."; # HELP and # TYPE for each family):
 *   emotop_faces                  gauge    faces in the latest analysed frame
 *   emotop_emotion_share{emotion} gauge    rolling-window mean probability, 0..1 (7 series)
 *   emotop_negative_share         gauge    angry + disgust + fear + sad of it
 *   emotop_frames_total           counter  frames analysed
 *   emotop_frames_dropped_total   counter  frames the capture dropped
 *   emotop_stage_seconds{stage}   gauge    mean seconds per frame: capture, detect, classify
 *   emotop_source_up              gauge    1 while the source delivers, else 0
 *   emotop_reconnects_total       counter  reopenings of the source
 *   emotop_alerts_total{rule}     counter  alerts fired, per configured rule
 *   emotop_uptime_seconds         gauge    seconds since the first frame
 * and with per_student (never with aggregate_only), for each live track that
 * has a name from the configuration (seat or gallery cell; the first one
 * when two carry the same name; unnamed tracks are left out):
 *   emotop_student_present{student}               gauge 0/1
 *   emotop_student_emotion_share{student,emotion} gauge smoothed probability
 *   emotop_student_negative_share{student}        gauge
 * Without a classifier (emotions 0) the emotion and negative families are
 * left out. Label values are escaped (\\ \" \n) and invalid UTF-8 bytes
 * become U+FFFD. Numbers are written with '.' whatever the locale.
 */
#ifndef EMOTOP_METRICS_H
#define EMOTOP_METRICS_H

#include <stddef.h>

#include "emotop/err.h"
#include "emotop/summary.h"

struct metrics_opts {
	const char *path;    /* the .prom file; required; copied */
	const char *room;    /* room label; NULL or "": the host name; copied */
	int per_student;     /* per-student series (named students only) */
	int aggregate_only;  /* no per-person series whatever per_student says */
	int emotions;        /* 1: a classifier runs (emotion series written) */
};

void metrics_opts_default(struct metrics_opts *o);

/* New writer. Checks that a file can be made in PATH's directory (a
 * temporary one, removed at once) so a bad path fails at start. Returns a
 * new writer, free it with metrics_close(); NULL on error with *err set:
 * EMO_EINVAL (no path, room too long), EMO_EIO (directory not writable:
 * the message names it and errno), EMO_ENOMEM. */
struct metrics *metrics_open(const struct metrics_opts *o, struct emo_err *err);

/* Free the writer; the last file written stays in place. NULL-safe. */
void metrics_close(struct metrics *m);

/* Replace the file with the figures of snapshot s. Returns EMO_OK, or
 * EMO_EIO / EMO_ENOMEM with *err set (the old file is then untouched and no
 * temporary file is left behind). */
int metrics_write(struct metrics *m, const struct summary *s, struct emo_err *err);

/* The room label in use (the host name when none was given). */
const char *metrics_room(const struct metrics *m);

/* Format the exposition text of s into buf (size len, NUL-terminated when
 * len > 0); returns the full length it needs, like snprintf. For tests. */
size_t metrics_format(const struct metrics *m, const struct summary *s, char *buf, size_t len);

/* Escape a label value per the exposition format (\\, \", \n; invalid UTF-8
 * -> U+FFFD) into buf, without quotes; snprintf's return convention. */
size_t metrics_label_escape(char *buf, size_t len, const char *s);

#endif
