/* report.c - text/NDJSON/CSV line sinks (line-flushed, SIGHUP reopen), the
 * --record timeline and the final line. The output buffer and its escaping
 * are in report_out.c, the SVG session chart in report_svg.c. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "emotop/report.h"
#include "report_out.h"

struct report {
	struct report_opts o;
	char *path;             /* NULL: stdout */
	char *faces_only;       /* NULL, or the status of a faces-only sink */
	FILE *f;
	int need_header;        /* CSV header not yet in this file */
	long long alert_seq;    /* last alert written */
	unsigned long long frame_seq; /* record: last snapshot seq written + 1 */
	struct out line;
	int regular, append;    /* f is a regular file; opened with O_APPEND */
	struct report_health health;
};

/* ---- options, open, close, reopen ---- */

void report_opts_default(struct report_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->format = REPORT_TEXT;
	o->kind = REPORT_SUMMARY;
}

static const char *const format_names[] = {"text", "ndjson", "csv"};

int report_format_from_name(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < 3; i++)
		if (!strcmp(name, format_names[i]))
			return i;
	if (!strcmp(name, "json"))
		return REPORT_NDJSON;
	return -1;
}

const char *report_format_name(int format)
{
	return format >= 0 && format < 3 ? format_names[format] : "unknown";
}

static int ext_is(const char *path, const char *ext)
{
	size_t n = strlen(path), m = strlen(ext);

	if (n <= m)
		return 0;
	for (size_t i = 0; i < m; i++) {
		char c = path[n - m + i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != ext[i])
			return 0;
	}
	return 1;
}

int report_format_from_path(const char *path)
{
	if (!path)
		return -1;
	if (ext_is(path, ".csv"))
		return REPORT_CSV;
	if (ext_is(path, ".ndjson") || ext_is(path, ".jsonl") || ext_is(path, ".json"))
		return REPORT_NDJSON;
	if (ext_is(path, ".txt") || ext_is(path, ".log"))
		return REPORT_TEXT;
	return -1;
}

static int file_empty(FILE *f)
{
	struct stat st;

	return fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || st.st_size == 0;
}

/* stdout continues a CSV file only when it appends to a non-empty regular
 * file (`>> log.csv`); a pipe, a terminal or `> new.csv` gets the header. */
static int stdout_needs_header(void)
{
	int fl = fcntl(fileno(stdout), F_GETFL);

	return file_empty(stdout) || fl < 0 || !(fl & O_APPEND);
}

int report_csv_needs_header(FILE *f)
{
	return f == stdout ? stdout_needs_header() : file_empty(f);
}

/* What a torn line can be cut off from: a regular file, at the end of the
 * file when f appends, else at its offset. */
static void note_kind(struct report *r)
{
	struct stat st;
	int fl = fcntl(fileno(r->f), F_GETFL);

	r->regular = !fstat(fileno(r->f), &st) && S_ISREG(st.st_mode);
	r->append = fl >= 0 && (fl & O_APPEND);
}

static FILE *open_append(const char *path, struct emo_err *err)
{
	FILE *f = fopen(path, "a");

	if (!f) {
		emo_seterr(err, EMO_EIO, path, 0, 0, "cannot open for appending: %s", strerror(errno));
		return NULL;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

struct report *report_open(const struct report_opts *o, struct emo_err *err)
{
	struct report_opts def;
	struct report *r;

	if (!o) {
		report_opts_default(&def);
		o = &def;
	}
	if ((o->format != REPORT_TEXT && o->format != REPORT_NDJSON && o->format != REPORT_CSV) ||
	    (o->kind != REPORT_SUMMARY && o->kind != REPORT_RECORD) ||
	    (o->faces_only && o->kind != REPORT_SUMMARY)) {
		emo_seterr(err, EMO_EINVAL, NULL, 0, 0, "report: bad format or kind");
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		goto nomem;
	r->o = *o;
	r->o.path = NULL;
	r->o.faces_only = NULL;
	r->line.dyn = 1;
	if (o->faces_only && !(r->faces_only = strdup(o->faces_only)))
		goto nomem;
	if (o->path && strcmp(o->path, "-")) {
		r->path = strdup(o->path);
		if (!r->path)
			goto nomem;
		r->f = open_append(r->path, err);
		if (!r->f) {
			free(r->path);
			free(r->faces_only);
			free(r);
			return NULL;
		}
	} else {
		r->f = stdout;
	}
	r->need_header = o->format == REPORT_CSV &&
			 report_csv_needs_header(r->f);
	note_kind(r);
	return r;
nomem:
	if (r) {
		free(r->path);
		free(r->faces_only);
	}
	free(r);
	emo_seterr(err, EMO_ENOMEM, NULL, 0, 0, "report: out of memory");
	return NULL;
}

void report_close(struct report *r)
{
	if (!r)
		return;
	if (r->f == stdout)
		fflush(stdout);
	else if (r->f)
		fclose(r->f);
	free(r->path);
	free(r->faces_only);
	free(r->line.p);
	free(r);
}

int report_reopen(struct report *r)
{
	FILE *f;

	if (!r)
		return EMO_EINVAL;
	if (!r->path)
		return EMO_OK;
	f = open_append(r->path, NULL);
	if (!f)
		return EMO_EIO;
	fclose(r->f);
	r->f = f;
	r->need_header = r->o.format == REPORT_CSV && file_empty(f);
	note_kind(r);
	return EMO_OK;
}

const char *report_path(const struct report *r)
{
	return r && r->path ? r->path : "-";
}

void report_health(const struct report *r, struct report_health *h)
{
	if (r)
		*h = r->health;
	else
		memset(h, 0, sizeof(*h));
}

/* ---- lines ---- */

static const char *const csv_summary_header =
	"type,time,uptime,faces,id,seat,name,dominant,confidence,negative_share,"
	"angry,disgust,fear,happy,sad,surprise,neutral,last_seen,frames,dropped,fps,alerts,rule,value,"
	"valence,clock,media_time,source_state";
#define CSV_SUMMARY_COLS 28
static const char *const csv_record_header =
	"type,time,faces,id,seat,name,x,y,w,h,dominant,confidence,negative_share,"
	"angry,disgust,fear,happy,sad,surprise,neutral,"
	"raw_angry,raw_disgust,raw_fear,raw_happy,raw_sad,raw_surprise,raw_neutral,valence,"
	"clock,media_time,source_state";
#define CSV_RECORD_COLS 31
static const char *const csv_faces_header = "type,time,faces,status,clock,media_time,source_state";

/* Write buf whole to r's file with write(2), not stdio: a glibc stream
 * reports a failed write once and then keeps failing quietly (only ferror
 * stays set), and what it does with a half-written buffer is its own
 * business. A signal between pieces does not tear the line (EINTR: go on).
 * When the write fails part way through a regular file, the file is cut
 * back to where the line began. Returns 0 or an errno value. */
static int put_whole(struct report *r, const char *buf, size_t len)
{
	int fd = fileno(r->f), e = 0;
	off_t start = -1;
	size_t done = 0;

	if (fflush(r->f)) /* nothing should wait there; never let it linger */
		clearerr(r->f);
	if (r->regular) {
		struct stat st;

		start = r->append ? (fstat(fd, &st) ? -1 : st.st_size) : lseek(fd, 0, SEEK_CUR);
	}
	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n < 0 ? errno : EIO;
			break;
		}
		done += (size_t)n;
	}
	if (e && done && start >= 0 && !ftruncate(fd, start) && !r->append)
		lseek(fd, start, SEEK_SET);
	return e;
}

/* A line could not be written (errno e): one more line lost. */
static int line_lost(struct report *r, int e)
{
	struct report_health *h = &r->health;

	if (!h->failing) {
		h->failing = 1;
		h->error = e;
		h->lost = 0;
	}
	h->lost++;
	h->lost_total++;
	errno = e;
	return EMO_EIO;
}

static int flush_line(struct report *r)
{
	struct out *o = &r->line;
	int e;

	if (o->oom) {
		o->len = 0;
		o->oom = 0;
		return EMO_ENOMEM;
	}
	report_out_putc(o, '\n');
	if (o->oom) {
		o->len = 0;
		o->oom = 0;
		return EMO_ENOMEM;
	}
	if (r->need_header) {
		const char *h = r->faces_only		   ? csv_faces_header
				: r->o.kind == REPORT_RECORD ? csv_record_header
							     : csv_summary_header;
		char hl[512];
		int n = snprintf(hl, sizeof(hl), "%s\n", h);

		if ((e = put_whole(r, hl, (size_t)n))) {
			o->len = 0;
			return line_lost(r, e);
		}
		r->need_header = 0;
	}
	e = put_whole(r, o->p, o->len);
	o->len = 0;
	if (e)
		return line_lost(r, e);
	r->health.failing = 0; /* written whole: the output recovered */
	return EMO_OK;
}

static const char *class_or_null(int cls)
{
	return cls >= 0 && cls < EMO_NUM_CLASSES ? emo_class_name(cls) : NULL;
}

/* JSON helpers: "key": value, with a leading comma unless first. */
static void jkey(struct out *o, const char *k)
{
	if (o->len > 1)
		report_out_putc(o, ',');
	report_out_putc(o, '"');
	report_out_puts(o, k);
	report_out_puts(o, "\":");
}

static void jnum(struct out *o, const char *k, double v, int prec)
{
	jkey(o, k);
	report_out_fixed(o, v, prec);
}

static void jint(struct out *o, const char *k, long long v)
{
	jkey(o, k);
	report_out_printf(o, "%lld", v);
}

static void jstr(struct out *o, const char *k, const char *v)
{
	jkey(o, k);
	if (v)
		report_out_json_str(o, v);
	else
		report_out_puts(o, "null");
}

static void jprobs(struct out *o, const char *k, const float p[EMO_NUM_CLASSES])
{
	jkey(o, k);
	report_out_putc(o, '{');
	for (int c = 0; c < EMO_NUM_CLASSES; c++) {
		if (c)
			report_out_putc(o, ',');
		report_out_printf(o, "\"%s\":", emo_class_name(c));
		report_out_fixed(o, p[c], 3);
	}
	report_out_putc(o, '}');
}

/* CSV helpers: each writes one field with its leading comma (but the first). */
static void cstr(struct out *o, const char *v)
{
	report_out_putc(o, ',');
	report_out_csv(o, v ? v : "");
}

static void cnum(struct out *o, double v, int prec)
{
	report_out_putc(o, ',');
	if (isfinite(v))
		report_out_fixed(o, v, prec);
}

static void cint(struct out *o, long long v)
{
	report_out_printf(o, ",%lld", v);
}

static void cempty(struct out *o, int n)
{
	while (n-- > 0)
		report_out_putc(o, ',');
}

static void cprobs(struct out *o, const float p[EMO_NUM_CLASSES])
{
	for (int c = 0; c < EMO_NUM_CLASSES; c++)
		cnum(o, p[c], 3);
}

/* The Unix time of summary time t (live sources), else t itself. */
static double wall_of(const struct summary *s, double t)
{
	return s->stats.clock == SUMMARY_CLOCK_WALL ? t + s->stats.clock_offset : t;
}

/* The media position at summary time t: t on the media clock, the latest
 * frame's for a file paced in real time, else NAN. */
static double media_of(const struct summary *s, double t)
{
	if (s->stats.clock == SUMMARY_CLOCK_MEDIA)
		return t;
	return s->stats.clock == SUMMARY_CLOCK_WALL ? s->stats.media_time : NAN;
}

/* ISO 8601 local time with its UTC offset, milliseconds:
 * 2026-12-07T10:15:02.300+01:00. */
static int out_iso(struct out *o, double epoch)
{
	long long msec;
	time_t sec;
	struct tm tm;
	long off;

	if (!isfinite(epoch) || epoch < 0 || epoch > 1e11)
		return -1;
	msec = llround(epoch * 1000.0); /* rounded like "time" (3 decimals) */
	sec = (time_t)(msec / 1000);
	if (!localtime_r(&sec, &tm))
		return -1;
	off = tm.tm_gmtoff;
	report_out_printf(o, "%04d-%02d-%02dT%02d:%02d:%02d.%03d%c%02ld:%02ld", tm.tm_year + 1900,
		   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(msec % 1000),
		   off < 0 ? '-' : '+', labs(off) / 3600, labs(off) / 60 % 60);
	return 0;
}

static const char *state_name(const struct summary *s)
{
	return summary_source_state_name(s->stats.source_state);
}

/* NDJSON: "time" (Unix time for live sources), then with a known clock
 * "clock" (ISO 8601, live) and "media_time" (files), each null when not
 * known, then "source_state". */
static void jtime(struct out *o, const struct summary *s, double t)
{
	jnum(o, "time", wall_of(s, t), 3);
	if (s->stats.clock != SUMMARY_CLOCK_NONE) {
		size_t mark;

		jkey(o, "clock");
		mark = o->len;
		report_out_putc(o, '"');
		if (s->stats.clock == SUMMARY_CLOCK_WALL && !out_iso(o, wall_of(s, t))) {
			report_out_putc(o, '"');
		} else {
			o->len = mark;
			report_out_puts(o, "null");
		}
		jnum(o, "media_time", media_of(s, t), 3);
	}
	jstr(o, "source_state", state_name(s));
}

/* CSV: the last three columns clock, media_time, source_state. */
static void ctail(struct out *o, const struct summary *s, double t)
{
	report_out_putc(o, ',');
	if (s->stats.clock == SUMMARY_CLOCK_WALL)
		out_iso(o, wall_of(s, t));
	cnum(o, media_of(s, t), 3);
	cstr(o, state_name(s));
}

/* A student's text line after its time: "WORD ID", " seat N" when seated,
 * and the configured name quoted when there is one. */
static void text_who(struct out *o, const char *word, int id, int seat, const char *name)
{
	report_out_printf(o, "%s %d", word, id);
	if (seat >= 0)
		report_out_printf(o, " seat %d", seat);
	if (name) {
		report_out_putc(o, ' ');
		report_out_json_str(o, name);
	}
}

/* Text: a live source's clock time (ISO 8601 with offset); else seconds, or
 * ISO 8601 UTC for plain seconds that look like a Unix time. */
static void text_time(struct out *o, const struct summary *s, double t)
{
	if (s && s->stats.clock == SUMMARY_CLOCK_WALL && !out_iso(o, wall_of(s, t)))
		return;
	if (s && s->stats.clock == SUMMARY_CLOCK_MEDIA) {
		report_out_fixed(o, t, 3);
		return;
	}
	if (isfinite(t) && t >= 1e9 && t < 1e11) {
		time_t sec = (time_t)floor(t);
		struct tm tm;
		int ms = (int)((t - floor(t)) * 1000.0);

		if (gmtime_r(&sec, &tm)) {
			report_out_printf(o, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
				   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
				   ms > 999 ? 999 : ms);
			return;
		}
	}
	report_out_fixed(o, t, 3);
}

static void text_duration(struct out *o, double d)
{
	long long s = isfinite(d) && d > 0 ? (long long)d : 0;

	report_out_printf(o, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
}

static void text_probs(struct out *o, const float p[EMO_NUM_CLASSES])
{
	for (int c = 0; c < EMO_NUM_CLASSES; c++) {
		report_out_printf(o, " %s ", emo_class_name(c));
		report_out_fixed(o, p[c], 2);
	}
}

static int emit_summary_line(struct report *r, const struct summary *s)
{
	struct out *o = &r->line;
	const struct summary_stats *st = &s->stats;
	char source[SUMMARY_SOURCE_MAX + 8];

	emo_redact_url(st->source, source, sizeof(source));
	switch (r->o.format) {
	case REPORT_NDJSON:
		report_out_putc(o, '{');
		jstr(o, "type", "summary");
		jtime(o, s, s->time);
		jnum(o, "uptime", s->uptime, 3);
		jint(o, "faces", s->faces);
		jnum(o, "mean_faces", s->mean_faces, 2);
		jnum(o, "window", s->window, 1);
		jint(o, "window_frames", s->window_frames);
		jstr(o, "dominant", class_or_null(s->dominant));
		jnum(o, "confidence", s->confidence, 3);
		jnum(o, "negative_share", s->negative, 3);
		jnum(o, "valence", s->valence, 3);
		jprobs(o, "mean", s->mean);
		jkey(o, "frame");
		report_out_puts(o, "{\"time\":");
		report_out_fixed(o, wall_of(s, s->frame_time), 3);
		report_out_printf(o, ",\"faces\":%d,\"dominant\":", s->faces);
		if (class_or_null(s->frame_dominant))
			report_out_json_str(o, class_or_null(s->frame_dominant));
		else
			report_out_puts(o, "null");
		report_out_puts(o, ",\"negative_share\":");
		report_out_fixed(o, s->frame_negative, 3);
		report_out_puts(o, ",\"valence\":");
		report_out_fixed(o, s->frame_valence, 3);
		report_out_putc(o, '}');
		jint(o, "alerts", s->alerts_total);
		jint(o, "frames", st->frames_analysed);
		jint(o, "dropped", st->frames_dropped);
		jnum(o, "fps", st->fps, 2);
		jkey(o, "latency_ms");
		report_out_puts(o, "{\"capture\":");
		report_out_fixed(o, st->lat_capture_ms, 2);
		report_out_puts(o, ",\"detect\":");
		report_out_fixed(o, st->lat_detect_ms, 2);
		report_out_puts(o, ",\"classify\":");
		report_out_fixed(o, st->lat_classify_ms, 2);
		report_out_putc(o, '}');
		jstr(o, "source", source);
		jint(o, "width", st->width);
		jint(o, "height", st->height);
		report_out_putc(o, '}');
		break;
	case REPORT_CSV:
		report_out_puts(o, "summary");
		cnum(o, wall_of(s, s->time), 3);
		cnum(o, s->uptime, 3);
		cint(o, s->faces);
		cempty(o, 3); /* id, seat, name */
		cstr(o, class_or_null(s->dominant));
		cnum(o, s->confidence, 3);
		cnum(o, s->negative, 3);
		cprobs(o, s->mean);
		cempty(o, 1); /* last_seen */
		cint(o, st->frames_analysed);
		cint(o, st->frames_dropped);
		cnum(o, st->fps, 2);
		cint(o, s->alerts_total);
		cempty(o, 2); /* rule, value */
		cnum(o, s->valence, 3);
		ctail(o, s, s->time);
		break;
	default:
		text_time(o, s, s->time);
		report_out_puts(o, " up ");
		text_duration(o, s->uptime);
		report_out_printf(o, " faces %d mood %s ", s->faces,
			   s->dominant >= 0 ? emo_class_name(s->dominant) : "-");
		report_out_fixed(o, s->confidence, 2);
		report_out_puts(o, " negative_share ");
		report_out_fixed(o, s->negative, 2);
		report_out_puts(o, " valence ");
		report_out_fixed(o, s->valence, 2);
		report_out_puts(o, " |");
		text_probs(o, s->mean);
		report_out_puts(o, " | fps ");
		report_out_fixed(o, st->fps, 1);
		report_out_printf(o, " dropped %lld alerts %lld source %s", st->frames_dropped, s->alerts_total,
			   state_name(s));
		break;
	}
	return flush_line(r);
}

static int emit_alert_line(struct report *r, const struct summary *s, const struct summary_alert *a)
{
	struct out *o = &r->line;

	switch (r->o.format) {
	case REPORT_NDJSON:
		report_out_putc(o, '{');
		jstr(o, "type", "alert");
		jtime(o, s, a->time);
		jint(o, "seq", a->seq);
		jstr(o, "rule", a->rule);
		jnum(o, "since", wall_of(s, a->since), 3);
		jnum(o, "value", a->value, 3);
		report_out_putc(o, '}');
		break;
	case REPORT_CSV:
		report_out_puts(o, "alert");
		cnum(o, wall_of(s, a->time), 3);
		cempty(o, 19); /* uptime .. fps */
		cint(o, a->seq);
		cstr(o, a->rule);
		cnum(o, a->value, 3);
		cempty(o, 1); /* valence */
		ctail(o, s, a->time);
		break;
	default:
		text_time(o, s, a->time);
		report_out_puts(o, " ALERT ");
		report_out_json_str(o, a->rule);
		report_out_puts(o, " value ");
		report_out_fixed(o, a->value, 3);
		report_out_puts(o, " since ");
		text_time(o, s, a->since);
		report_out_printf(o, " source %s", state_name(s));
		break;
	}
	return flush_line(r);
}

/* The opening of a per-person NDJSON object: {"type","time","id","seat","name" */
static void json_person_head(struct out *o, const char *type, const struct summary *s, double time,
			     const struct summary_student *st, const char *name)
{
	report_out_putc(o, '{');
	jstr(o, "type", type);
	jtime(o, s, time);
	jint(o, "id", st->id);
	jkey(o, "seat");
	if (st->seat >= 0)
		report_out_printf(o, "%d", st->seat);
	else
		report_out_puts(o, "null");
	jstr(o, "name", name);
}

static int emit_student_line(struct report *r, const struct summary *s,
			     const struct summary_student *st)
{
	struct out *o = &r->line;
	const char *name = st->name[0] ? st->name : NULL;

	switch (r->o.format) {
	case REPORT_NDJSON:
		json_person_head(o, "student", s, s->time, st, name);
		jkey(o, "present");
		report_out_puts(o, st->present ? "true" : "false");
		jstr(o, "dominant", class_or_null(st->dominant));
		jnum(o, "confidence", st->confidence, 3);
		jnum(o, "negative_share", st->negative, 3);
		jnum(o, "valence", st->valence, 3);
		jprobs(o, "probs", st->probs);
		jnum(o, "last_seen", wall_of(s, st->last_seen), 3);
		report_out_putc(o, '}');
		break;
	case REPORT_CSV:
		report_out_puts(o, "student");
		cnum(o, wall_of(s, s->time), 3);
		cempty(o, 2); /* uptime, faces */
		cint(o, st->id);
		if (st->seat >= 0)
			cint(o, st->seat);
		else
			cempty(o, 1);
		cstr(o, name);
		cstr(o, class_or_null(st->dominant));
		cnum(o, st->confidence, 3);
		cnum(o, st->negative, 3);
		cprobs(o, st->probs);
		cnum(o, wall_of(s, st->last_seen), 3);
		cempty(o, 6); /* frames .. value */
		cnum(o, st->valence, 3);
		ctail(o, s, s->time);
		break;
	default:
		text_time(o, s, s->time);
		text_who(o, "   student", st->id, st->seat, name);
		report_out_printf(o, " %s %s ", st->present ? "present" : "absent",
			   emo_class_name(st->dominant));
		report_out_fixed(o, st->confidence, 2);
		report_out_puts(o, " negative_share ");
		report_out_fixed(o, st->negative, 2);
		report_out_puts(o, " valence ");
		report_out_fixed(o, st->valence, 2);
		report_out_puts(o, " seen ");
		report_out_fixed(o, s->time - st->last_seen, 1);
		report_out_puts(o, "s ago");
		break;
	}
	return flush_line(r);
}

static int emit_frame_line(struct report *r, const struct summary *s)
{
	struct out *o = &r->line;
	float conf = s->frame_dominant >= 0 ? s->frame_mean[s->frame_dominant] : 0.0f;

	switch (r->o.format) {
	case REPORT_NDJSON:
		report_out_putc(o, '{');
		jstr(o, "type", "frame");
		jtime(o, s, s->frame_time);
		jint(o, "faces", s->faces);
		jstr(o, "dominant", class_or_null(s->frame_dominant));
		jnum(o, "confidence", conf, 3);
		jnum(o, "negative_share", s->frame_negative, 3);
		jnum(o, "valence", s->frame_valence, 3);
		jprobs(o, "mean", s->frame_mean);
		report_out_putc(o, '}');
		break;
	case REPORT_CSV:
		report_out_puts(o, "frame");
		cnum(o, wall_of(s, s->frame_time), 3);
		cint(o, s->faces);
		cempty(o, 7); /* id seat name x y w h */
		cstr(o, class_or_null(s->frame_dominant));
		cnum(o, conf, 3);
		cnum(o, s->frame_negative, 3);
		cprobs(o, s->frame_mean);
		cempty(o, EMO_NUM_CLASSES);
		cnum(o, s->frame_valence, 3);
		ctail(o, s, s->frame_time);
		break;
	default:
		text_time(o, s, s->frame_time);
		report_out_printf(o, " frame faces %d mood %s negative_share ", s->faces,
			   s->frame_dominant >= 0 ? emo_class_name(s->frame_dominant) : "-");
		report_out_fixed(o, s->frame_negative, 2);
		report_out_puts(o, " valence ");
		report_out_fixed(o, s->frame_valence, 2);
		report_out_puts(o, " |");
		text_probs(o, s->frame_mean);
		break;
	}
	return flush_line(r);
}

static int emit_track_line(struct report *r, const struct summary *s,
			   const struct summary_student *st)
{
	struct out *o = &r->line;
	const char *name = st->name[0] ? st->name : NULL;

	switch (r->o.format) {
	case REPORT_NDJSON:
		json_person_head(o, "track", s, s->frame_time, st, name);
		jkey(o, "box");
		report_out_putc(o, '[');
		report_out_fixed(o, st->box.x, 1);
		report_out_putc(o, ',');
		report_out_fixed(o, st->box.y, 1);
		report_out_putc(o, ',');
		report_out_fixed(o, st->box.w, 1);
		report_out_putc(o, ',');
		report_out_fixed(o, st->box.h, 1);
		report_out_putc(o, ']');
		jstr(o, "dominant", class_or_null(st->dominant));
		jnum(o, "confidence", st->confidence, 3);
		jnum(o, "negative_share", st->negative, 3);
		jnum(o, "valence", st->valence, 3);
		jprobs(o, "probs", st->probs);
		jprobs(o, "raw", st->raw);
		report_out_putc(o, '}');
		break;
	case REPORT_CSV:
		report_out_puts(o, "track");
		cnum(o, wall_of(s, s->frame_time), 3);
		cempty(o, 1); /* faces */
		cint(o, st->id);
		if (st->seat >= 0)
			cint(o, st->seat);
		else
			cempty(o, 1);
		cstr(o, name);
		cnum(o, st->box.x, 1);
		cnum(o, st->box.y, 1);
		cnum(o, st->box.w, 1);
		cnum(o, st->box.h, 1);
		cstr(o, class_or_null(st->dominant));
		cnum(o, st->confidence, 3);
		cnum(o, st->negative, 3);
		cprobs(o, st->probs);
		cprobs(o, st->raw);
		cnum(o, st->valence, 3);
		ctail(o, s, s->frame_time);
		break;
	default:
		text_time(o, s, s->frame_time);
		report_out_printf(o, "   track %d", st->id);
		if (st->seat >= 0)
			report_out_printf(o, " seat %d", st->seat);
		if (name) {
			report_out_putc(o, ' ');
			report_out_json_str(o, name);
		}
		report_out_printf(o, " %s ", emo_class_name(st->dominant));
		report_out_fixed(o, st->confidence, 2);
		report_out_puts(o, " |");
		text_probs(o, st->probs);
		break;
	}
	return flush_line(r);
}

/* A faces-only line (no classifier): faces at time, or the final line with
 * the session's max_faces. */
static int emit_faces_line(struct report *r, const struct summary *s, int final, double time,
			   int faces)
{
	struct out *o = &r->line;
	const char *what = final ? "max_faces" : "faces";

	switch (r->o.format) {
	case REPORT_NDJSON:
		report_out_putc(o, '{');
		jstr(o, "type", final ? "final" : "faces");
		jtime(o, s, time);
		jint(o, what, faces);
		jkey(o, "emotions");
		report_out_puts(o, "null");
		jstr(o, "status", r->faces_only);
		report_out_putc(o, '}');
		break;
	case REPORT_CSV:
		report_out_puts(o, final ? "final" : "faces");
		cnum(o, wall_of(s, time), 3);
		cint(o, faces);
		cstr(o, r->faces_only);
		ctail(o, s, time);
		break;
	default:
		text_time(o, s, time);
		report_out_printf(o, " %s%s %d emotions none (", final ? "final " : "", what, faces);
		report_out_puts(o, r->faces_only);
		report_out_printf(o, ") source %s", state_name(s));
		break;
	}
	return flush_line(r);
}

int report_source(struct report *r, const struct summary *s, int prev)
{
	struct out *o;
	char source[SUMMARY_SOURCE_MAX + 8];

	if (!r || !s)
		return EMO_EINVAL;
	o = &r->line;
	emo_redact_url(s->stats.source, source, sizeof(source));
	switch (r->o.format) {
	case REPORT_NDJSON:
		report_out_putc(o, '{');
		jstr(o, "type", "source");
		jtime(o, s, s->time);
		jstr(o, "previous", summary_source_state_name(prev));
		jint(o, "reconnects", s->stats.reconnects);
		jstr(o, "source", source);
		report_out_putc(o, '}');
		break;
	case REPORT_CSV:
		report_out_puts(o, "source");
		cnum(o, wall_of(s, s->time), 3);
		if (r->faces_only) {
			cempty(o, 2); /* faces, status */
		} else if (r->o.kind == REPORT_RECORD) {
			cempty(o, CSV_RECORD_COLS - 5);
		} else {
			cempty(o, 20); /* uptime .. alerts */
			cstr(o, summary_source_state_name(prev)); /* rule: the state before */
			cint(o, s->stats.reconnects);             /* value: reconnections */
			cempty(o, 1);                             /* valence */
		}
		ctail(o, s, s->time);
		break;
	default:
		text_time(o, s, s->time);
		report_out_printf(o, " SOURCE %s (was %s, %lld reconnect%s) ", state_name(s),
			   summary_source_state_name(prev), s->stats.reconnects,
			   s->stats.reconnects == 1 ? "" : "s");
		report_out_json_str(o, source);
		break;
	}
	return flush_line(r);
}

int report_alerts(struct report *r, const struct summary *s)
{
	int rc = EMO_OK, e;

	if (!r || !s)
		return EMO_EINVAL;
	if (r->o.kind != REPORT_SUMMARY || r->faces_only)
		return EMO_OK;
	for (int i = 0; i < s->n_alerts; i++) {
		if (s->alerts[i].seq <= r->alert_seq)
			continue;
		e = emit_alert_line(r, s, &s->alerts[i]);
		rc = rc ? rc : e;
		r->alert_seq = s->alerts[i].seq;
	}
	return rc;
}

int report_emit(struct report *r, const struct summary *s)
{
	int rc = EMO_OK, e;

	if (!r || !s)
		return EMO_EINVAL;
	if (r->o.kind == REPORT_RECORD) {
		if (r->frame_seq && r->frame_seq == s->seq + 1)
			return EMO_OK; /* this frame is already recorded */
		r->frame_seq = s->seq + 1;
		rc = emit_frame_line(r, s);
		for (int i = 0; !r->o.aggregate_only && i < s->n_students; i++)
			if (s->students[i].present && (e = emit_track_line(r, s, &s->students[i])))
				rc = rc ? rc : e;
		return rc;
	}
	if (r->faces_only)
		return emit_faces_line(r, s, 0, s->time, s->faces);
	rc = emit_summary_line(r, s);
	e = report_alerts(r, s);
	rc = rc ? rc : e;
	for (int i = 0; r->o.students && !r->o.aggregate_only && i < s->n_students; i++) {
		e = emit_student_line(r, s, &s->students[i]);
		rc = rc ? rc : e;
	}
	return rc;
}

/* One student of the session (attendance; expressions unless faces-only). */
static int emit_student_final_line(struct report *r, const struct summary *s,
				   const struct summary_attendee *a)
{
	struct out *o = &r->line;
	const char *name = a->name[0] ? a->name : NULL;
	int emo = !r->faces_only && a->dominant >= 0;
	float conf = emo ? a->share[a->dominant] : 0.0f;

	switch (r->o.format) {
	case REPORT_NDJSON:
		report_out_putc(o, '{');
		jstr(o, "type", "student_final");
		jtime(o, s, s->time);
		jint(o, "id", a->id);
		jkey(o, "seat");
		if (a->seat >= 0)
			report_out_printf(o, "%d", a->seat);
		else
			report_out_puts(o, "null");
		jstr(o, "name", name);
		jnum(o, "first_seen", wall_of(s, a->first_seen), 3);
		jnum(o, "last_seen", wall_of(s, a->last_seen), 3);
		jnum(o, "present", a->present, 3);
		jnum(o, "present_share", a->present_share, 3);
		jint(o, "frames", a->frames);
		jstr(o, "dominant", emo ? class_or_null(a->dominant) : NULL);
		if (emo) {
			jprobs(o, "share", a->share);
		} else {
			jkey(o, "share");
			report_out_puts(o, "null");
		}
		report_out_putc(o, '}');
		break;
	case REPORT_CSV:
		if (r->faces_only)
			return EMO_OK; /* no columns for it: NDJSON and text have attendance */
		report_out_puts(o, "student_final");
		cnum(o, wall_of(s, s->time), 3);
		cnum(o, a->present, 3);  /* uptime: seconds present */
		cempty(o, 1);            /* faces */
		cint(o, a->id);
		if (a->seat >= 0)
			cint(o, a->seat);
		else
			cempty(o, 1);
		cstr(o, name);
		cstr(o, emo ? class_or_null(a->dominant) : NULL);
		cnum(o, conf, 3);        /* confidence: the dominant's share */
		cempty(o, 1);            /* negative_share */
		cprobs(o, a->share);     /* the share of present time per expression */
		cnum(o, wall_of(s, a->last_seen), 3);
		cint(o, a->frames);      /* frames present */
		cempty(o, 4);            /* dropped fps alerts rule */
		cnum(o, a->present_share, 3); /* value: share of the session present */
		cempty(o, 1);            /* valence */
		ctail(o, s, s->time);
		break;
	default:
		text_time(o, s, s->time);
		text_who(o, " student_final", a->id, a->seat, name);
		report_out_puts(o, " present ");
		text_duration(o, a->present);
		report_out_puts(o, " (");
		report_out_fixed(o, a->present_share * 100.0, 0);
		report_out_printf(o, "%%) frames %lld", a->frames);
		if (emo) {
			report_out_printf(o, " mood %s ", emo_class_name(a->dominant));
			report_out_fixed(o, conf, 2);
			report_out_puts(o, " | share");
			text_probs(o, a->share);
		}
		break;
	}
	return flush_line(r);
}

int report_students_final(struct report *r, const struct summary *s,
			  const struct summary_attendee *a, int n)
{
	int rc = EMO_OK, e;

	if (!r || !s || n < 0 || (n > 0 && !a))
		return EMO_EINVAL;
	if (r->o.aggregate_only || !r->o.students || r->o.kind != REPORT_SUMMARY)
		return EMO_OK;
	for (int i = 0; i < n; i++) {
		e = emit_student_final_line(r, s, &a[i]);
		rc = rc ? rc : e;
	}
	return rc;
}

int report_final(struct report *r, const struct summary *s, const struct summary_totals *tot)
{
	struct out *o;
	float share;
	char source[SUMMARY_SOURCE_MAX + 8];

	if (!r || !s || !tot)
		return EMO_EINVAL;
	if (r->faces_only)
		return emit_faces_line(r, s, 1, s->time, tot->max_faces);
	emo_redact_url(tot->stats.source, source, sizeof(source));
	o = &r->line;
	share = tot->dominant >= 0 ? tot->mood_share[tot->dominant] : 0.0f;
	switch (r->o.format) {
	case REPORT_NDJSON:
		report_out_putc(o, '{');
		jstr(o, "type", "final");
		jtime(o, s, s->time);
		jnum(o, "start", wall_of(s, tot->start), 3);
		jnum(o, "duration", tot->duration, 3);
		jint(o, "frames", tot->frames);
		jint(o, "face_frames", tot->face_frames);
		jint(o, "max_faces", tot->max_faces);
		jstr(o, "dominant", class_or_null(tot->dominant));
		jnum(o, "negative_share", tot->negative, 3);
		jnum(o, "valence", tot->valence, 3);
		jprobs(o, "mean", tot->mean);
		jprobs(o, "mood_share", tot->mood_share);
		jint(o, "alerts", tot->alerts);
		jint(o, "dropped", tot->stats.frames_dropped);
		jstr(o, "source", source);
		report_out_putc(o, '}');
		break;
	case REPORT_CSV:
		report_out_puts(o, "final");
		cnum(o, wall_of(s, s->time), 3);
		if (r->o.kind == REPORT_RECORD) {
			cint(o, tot->max_faces);
			cempty(o, 7);
			cstr(o, class_or_null(tot->dominant));
			cnum(o, share, 3);
			cnum(o, tot->negative, 3);
			cprobs(o, tot->mean);
			cempty(o, EMO_NUM_CLASSES);
			cnum(o, tot->valence, 3);
			ctail(o, s, s->time);
		} else {
			cnum(o, tot->duration, 3);
			cint(o, tot->max_faces);
			cempty(o, 3);
			cstr(o, class_or_null(tot->dominant));
			cnum(o, share, 3);
			cnum(o, tot->negative, 3);
			cprobs(o, tot->mean);
			cempty(o, 1);
			cint(o, tot->frames);
			cint(o, tot->stats.frames_dropped);
			cempty(o, 1);
			cint(o, tot->alerts);
			cempty(o, 2);
			cnum(o, tot->valence, 3);
			ctail(o, s, s->time);
		}
		break;
	default:
		text_time(o, s, s->time);
		report_out_puts(o, " final duration ");
		text_duration(o, tot->duration);
		report_out_printf(o, " frames %lld max_faces %d mood %s ", tot->frames, tot->max_faces,
			   tot->dominant >= 0 ? emo_class_name(tot->dominant) : "-");
		report_out_fixed(o, share, 2);
		report_out_puts(o, " negative_share ");
		report_out_fixed(o, tot->negative, 2);
		report_out_puts(o, " valence ");
		report_out_fixed(o, tot->valence, 2);
		report_out_puts(o, " | mean");
		text_probs(o, tot->mean);
		report_out_puts(o, " | share");
		text_probs(o, tot->mood_share);
		report_out_printf(o, " | alerts %lld dropped %lld source %s", tot->alerts, tot->stats.frames_dropped,
			   state_name(s));
		break;
	}
	return flush_line(r);
}
