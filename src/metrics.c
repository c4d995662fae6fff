/* metrics.c - the Prometheus text file for node_exporter's textfile
 * collector: format a snapshot, then replace the file atomically. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emotop/emotion.h"
#include "emotop/metrics.h"

#define METRICS_ROOM_MAX 256 /* bytes of the room label, NUL included */

struct metrics {
	char *path;               /* the .prom file */
	char *dir;                /* its directory ("." when none) */
	char *base;               /* its base name */
	char room[METRICS_ROOM_MAX];
	int per_student, emotions;
	char *text;               /* the formatted file, grown as needed */
	size_t cap;
};

/* Output buffer: counts what does not fit (like snprintf). */
struct buf {
	char *p;
	size_t cap, len;
};

static void put_c(struct buf *b, char c)
{
	if (b->len + 1 < b->cap)
		b->p[b->len] = c;
	b->len++;
}

static void put_s(struct buf *b, const char *s)
{
	while (*s)
		put_c(b, *s++);
}

/* Length of the valid UTF-8 sequence at s, 0 when invalid. */
static int utf8_seq(const unsigned char *s)
{
	int n;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1fu;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0fu;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07u;
	} else {
		return 0;
	}
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static void put_label_value(struct buf *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		int n = utf8_seq(s);

		if (!n) {
			put_s(b, "\xef\xbf\xbd"); /* U+FFFD */
			s++;
			continue;
		}
		if (*s == '\\')
			put_s(b, "\\\\");
		else if (*s == '"')
			put_s(b, "\\\"");
		else if (*s == '\n')
			put_s(b, "\\n");
		else
			for (int i = 0; i < n; i++)
				put_c(b, (char)s[i]);
		s += n;
	}
}

size_t metrics_label_escape(char *buf, size_t len, const char *s)
{
	struct buf b = {buf, len, 0};

	put_label_value(&b, s ? s : "");
	if (len)
		buf[b.len < len ? b.len : len - 1] = '\0';
	return b.len;
}

/* A sample value with '.' whatever the locale: integers as such, others
 * with up to 6 decimals; NaN and +Inf/-Inf as the format spells them. */
static void put_num(struct buf *b, double v)
{
	char tmp[48];
	long long ip, fp;
	double r;

	if (isnan(v)) {
		put_s(b, "NaN");
		return;
	}
	if (isinf(v)) {
		put_s(b, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (fabs(v) >= 1e12) {
		snprintf(tmp, sizeof(tmp), "%.0f", v); /* no decimal point to localise */
		put_s(b, tmp);
		return;
	}
	r = llround(fabs(v) * 1e6);
	ip = (long long)(r / 1e6);
	fp = (long long)(r - (double)ip * 1e6);
	if (v < 0 && r > 0)
		put_c(b, '-');
	snprintf(tmp, sizeof(tmp), "%lld", ip);
	put_s(b, tmp);
	if (fp) {
		int digits = 6;

		while (fp % 10 == 0) {
			fp /= 10;
			digits--;
		}
		snprintf(tmp, sizeof(tmp), ".%0*lld", digits, fp);
		put_s(b, tmp);
	}
}

static void family(struct buf *b, const char *name, const char *type, const char *help)
{
	put_s(b, "# HELP ");
	put_s(b, name);
	put_c(b, ' ');
	put_s(b, help);
	put_s(b, "\n# TYPE ");
	put_s(b, name);
	put_c(b, ' ');
	put_s(b, type);
	put_c(b, '\n');
}

/* name{room="...",k1="v1",k2="v2"} value: k1/k2 NULL when absent. */
static void sample(struct buf *b, const struct metrics *m, const char *name, const char *k1,
		   const char *v1, const char *k2, const char *v2, double v)
{
	put_s(b, name);
	put_s(b, "{room=\"");
	put_label_value(b, m->room);
	put_c(b, '"');
	if (k1) {
		put_c(b, ',');
		put_s(b, k1);
		put_s(b, "=\"");
		put_label_value(b, v1);
		put_c(b, '"');
	}
	if (k2) {
		put_c(b, ',');
		put_s(b, k2);
		put_s(b, "=\"");
		put_label_value(b, v2);
		put_c(b, '"');
	}
	put_s(b, "} ");
	put_num(b, v);
	put_c(b, '\n');
}

/* Is student i the one whose series carry its name? Named, and no other
 * track with that name is present while it is not, or comes first with
 * the same presence. */
static int student_shown(const struct summary *s, int i)
{
	const struct summary_student *a = &s->students[i];

	if (!a->name[0])
		return 0;
	for (int k = 0; k < s->n_students; k++) {
		const struct summary_student *o = &s->students[k];

		if (k == i || strcmp(o->name, a->name))
			continue;
		if (o->present > a->present || (o->present == a->present && k < i))
			return 0;
	}
	return 1;
}

/* Has an earlier rule the same name (its counter holds both)? */
static int rule_seen(const struct summary *s, int i)
{
	for (int k = 0; k < i; k++)
		if (!strcmp(s->rules[k].rule, s->rules[i].rule))
			return 1;
	return 0;
}

static void format(const struct metrics *m, const struct summary *s, struct buf *b)
{
	const struct summary_stats *st = &s->stats;
	static const char *const stages[] = {"capture", "detect", "classify"};
	const double stage_ms[] = {st->lat_capture_ms, st->lat_detect_ms, st->lat_classify_ms};

	family(b, "emotop_faces", "gauge", "Faces in the latest analysed frame.");
	sample(b, m, "emotop_faces", NULL, NULL, NULL, NULL, s->faces);
	if (m->emotions) {
		family(b, "emotop_emotion_share", "gauge",
		       "Mean probability of each expression over the rolling window (0..1).");
		for (int c = 0; c < EMO_NUM_CLASSES; c++)
			sample(b, m, "emotop_emotion_share", "emotion", emo_class_name(c), NULL, NULL,
			       s->mean[c]);
		family(b, "emotop_negative_share", "gauge",
		       "Share of the faces that look clearly negative over the rolling window (0..1).");
		sample(b, m, "emotop_negative_share", NULL, NULL, NULL, NULL, s->negative);
		family(b, "emotop_valence", "gauge",
		       "Mean valence of the faces over the rolling window (-1..1, neutral 0).");
		sample(b, m, "emotop_valence", NULL, NULL, NULL, NULL, s->valence);
	}
	family(b, "emotop_frames_total", "counter", "Frames analysed since start.");
	sample(b, m, "emotop_frames_total", NULL, NULL, NULL, NULL, (double)st->frames_analysed);
	family(b, "emotop_frames_dropped_total", "counter",
	       "Frames the capture decoded and dropped because a newer one came.");
	sample(b, m, "emotop_frames_dropped_total", NULL, NULL, NULL, NULL, (double)st->frames_dropped);
	family(b, "emotop_stage_seconds", "gauge", "Mean seconds per analysed frame spent in each stage.");
	for (int i = 0; i < 3; i++)
		if (i < 2 || m->emotions)
			sample(b, m, "emotop_stage_seconds", "stage", stages[i], NULL, NULL,
			       stage_ms[i] / 1e3);
	family(b, "emotop_source_up", "gauge", "1 while the video source is open, else 0.");
	sample(b, m, "emotop_source_up", NULL, NULL, NULL, NULL, st->source_up ? 1 : 0);
	family(b, "emotop_source_state", "gauge",
	       "1 for the state the video source is in (up, reconnecting, lost, ended), else 0.");
	for (int i = 0; i < SUMMARY_SOURCE_STATES; i++)
		sample(b, m, "emotop_source_state", "state", summary_source_state_name(i), NULL, NULL,
		       st->source_state == i ? 1 : 0);
	family(b, "emotop_reconnects_total", "counter", "Reopenings of the video source after a failure.");
	sample(b, m, "emotop_reconnects_total", NULL, NULL, NULL, NULL, (double)st->reconnects);
	family(b, "emotop_alerts_total", "counter", "Alerts fired by each configured rule.");
	for (int i = 0; i < s->n_rules && i < SUMMARY_MAX_RULES + 1; i++) {
		long long n = 0;

		if (rule_seen(s, i))
			continue;
		for (int k = i; k < s->n_rules && k < SUMMARY_MAX_RULES + 1; k++)
			if (!strcmp(s->rules[k].rule, s->rules[i].rule))
				n += s->rules[k].fired;
		sample(b, m, "emotop_alerts_total", "rule", s->rules[i].rule, NULL, NULL, (double)n);
	}
	family(b, "emotop_uptime_seconds", "gauge", "Seconds since the first analysed frame.");
	sample(b, m, "emotop_uptime_seconds", NULL, NULL, NULL, NULL, s->uptime);

	if (!m->per_student)
		return;
	family(b, "emotop_student_present", "gauge", "1 when the named student's face is in the latest frame.");
	for (int i = 0; i < s->n_students; i++)
		if (student_shown(s, i))
			sample(b, m, "emotop_student_present", "student", s->students[i].name, NULL, NULL,
			       s->students[i].present ? 1 : 0);
	if (!m->emotions)
		return;
	family(b, "emotop_student_emotion_share", "gauge",
	       "Smoothed probability of each expression for the named student (0..1).");
	for (int i = 0; i < s->n_students; i++)
		for (int c = 0; student_shown(s, i) && c < EMO_NUM_CLASSES; c++)
			sample(b, m, "emotop_student_emotion_share", "student", s->students[i].name,
			       "emotion", emo_class_name(c), s->students[i].probs[c]);
	family(b, "emotop_student_negative_share", "gauge",
	       "1 when the named student's expression looks clearly negative, else 0.");
	for (int i = 0; i < s->n_students; i++)
		if (student_shown(s, i))
			sample(b, m, "emotop_student_negative_share", "student", s->students[i].name, NULL,
			       NULL, s->students[i].negative);
	family(b, "emotop_student_valence", "gauge",
	       "Valence of the named student's expression (-1..1, neutral 0).");
	for (int i = 0; i < s->n_students; i++)
		if (student_shown(s, i))
			sample(b, m, "emotop_student_valence", "student", s->students[i].name, NULL,
			       NULL, s->students[i].valence);
}

size_t metrics_format(const struct metrics *m, const struct summary *s, char *buf, size_t len)
{
	struct buf b = {buf, len, 0};

	if (m && s)
		format(m, s, &b);
	if (len)
		buf[b.len < len ? b.len : len - 1] = '\0';
	return b.len;
}

void metrics_opts_default(struct metrics_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->emotions = 1;
}

const char *metrics_room(const struct metrics *m)
{
	return m ? m->room : "";
}

void metrics_close(struct metrics *m)
{
	if (!m)
		return;
	free(m->path);
	free(m->dir);
	free(m->base);
	free(m->text);
	free(m);
}

/* A new temporary file beside the target: fd, name in tmp (PATH_MAX-ish). */
static int make_temp(const struct metrics *m, char **tmp, struct emo_err *err)
{
	size_t n = strlen(m->dir) + strlen(m->base) + 16;
	int fd;

	if (!(*tmp = malloc(n)))
		return emo_seterr(err, EMO_ENOMEM, NULL, 0, 0, "metrics: out of memory");
	snprintf(*tmp, n, "%s/.%s.XXXXXX", m->dir, m->base);
	if ((fd = mkstemp(*tmp)) < 0) {
		emo_seterr(err, EMO_EIO, m->path, 0, 0, "cannot create a file in %s: %s", m->dir,
			   strerror(errno));
		free(*tmp);
		*tmp = NULL;
	}
	return fd;
}

struct metrics *metrics_open(const struct metrics_opts *o, struct emo_err *err)
{
	struct metrics *m = NULL;
	const char *slash;
	char *tmp = NULL;
	int fd;

	if (!o || !o->path || !*o->path) {
		emo_seterr(err, EMO_EINVAL, NULL, 0, 0, "metrics: no file name");
		return NULL;
	}
	slash = strrchr(o->path, '/');
	if (slash && !slash[1]) {
		emo_seterr(err, EMO_EINVAL, o->path, 0, 0, "metrics: a file name is needed, not a directory");
		return NULL;
	}
	if (o->room && strlen(o->room) >= METRICS_ROOM_MAX) {
		emo_seterr(err, EMO_EINVAL, NULL, 0, 0, "metrics: room longer than %d bytes",
			   METRICS_ROOM_MAX - 1);
		return NULL;
	}
	if (!(m = calloc(1, sizeof(*m))))
		goto nomem;
	m->per_student = o->per_student && !o->aggregate_only;
	m->emotions = o->emotions;
	if (!(m->path = strdup(o->path)) || !(m->base = strdup(slash ? slash + 1 : o->path)))
		goto nomem;
	if (!(m->dir = slash ? strndup(o->path, slash == o->path ? 1 : (size_t)(slash - o->path))
			     : strdup(".")))
		goto nomem;
	if (o->room && *o->room) {
		snprintf(m->room, sizeof(m->room), "%s", o->room);
	} else if (gethostname(m->room, sizeof(m->room) - 1) || !m->room[0]) {
		snprintf(m->room, sizeof(m->room), "localhost");
	}
	/* fail now, not at the first interval, when the directory is wrong */
	if ((fd = make_temp(m, &tmp, err)) < 0) {
		metrics_close(m);
		return NULL;
	}
	close(fd);
	unlink(tmp);
	free(tmp);
	return m;
nomem:
	metrics_close(m);
	emo_seterr(err, EMO_ENOMEM, NULL, 0, 0, "metrics: out of memory");
	return NULL;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int metrics_write(struct metrics *m, const struct summary *s, struct emo_err *err)
{
	char *tmp = NULL;
	size_t need;
	int fd, dfd, rc = EMO_OK;

	if (!m || !s)
		return emo_seterr(err, EMO_EINVAL, NULL, 0, 0, "metrics: no writer or snapshot");
	need = metrics_format(m, s, m->text, m->cap);
	if (need >= m->cap) {
		size_t cap = need + 1024;
		char *p = realloc(m->text, cap);

		if (!p)
			return emo_seterr(err, EMO_ENOMEM, NULL, 0, 0, "metrics: out of memory");
		m->text = p;
		m->cap = cap;
		need = metrics_format(m, s, m->text, m->cap);
	}
	if ((fd = make_temp(m, &tmp, err)) < 0)
		return EMO_EIO;
	if (write_all(fd, m->text, need) || fchmod(fd, 0644) || fsync(fd)) {
		rc = emo_seterr(err, EMO_EIO, tmp, 0, 0, "cannot write: %s", strerror(errno));
		close(fd);
		goto fail;
	}
	if (close(fd)) {
		rc = emo_seterr(err, EMO_EIO, tmp, 0, 0, "cannot write: %s", strerror(errno));
		goto fail;
	}
	if (rename(tmp, m->path)) {
		rc = emo_seterr(err, EMO_EIO, m->path, 0, 0, "cannot replace: %s", strerror(errno));
		goto fail;
	}
	/* the rename itself survives a crash once the directory is synced */
	if ((dfd = open(m->dir, O_RDONLY | O_DIRECTORY)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(tmp);
	return EMO_OK;
fail:
	unlink(tmp);
	free(tmp);
	return rc;
}
