/* test_metrics.c - the Prometheus text file: every line parsed back (HELP
 * and TYPE of each family, names, labels, escaping, values), per-student
 * and aggregate-only series, and the atomic replacement seen by a reader
 * in a tight loop. */
#include <dirent.h>
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "emotop/emotion.h"
#include "emotop/metrics.h"
#include "emotop/report.h"
#include "unit.h"

#define TEXT_MAX (1 << 16)

static struct summary snap; /* large: not on the stack */

/* A snapshot with two rules (one name twice), named, unnamed and
 * same-named students. */
static void fill_snapshot(struct summary *s)
{
	memset(s, 0, sizeof(*s));
	s->time = 12.5;
	s->uptime = 10.25;
	s->faces = 3;
	for (int c = 0; c < EMO_NUM_CLASSES; c++)
		s->mean[c] = (float)(c + 1) / 28.0f;
	s->negative = 0.25f;
	s->stats.frames_analysed = 1234;
	s->stats.frames_dropped = 56;
	s->stats.lat_capture_ms = 1.5;
	s->stats.lat_detect_ms = 12.25;
	s->stats.lat_classify_ms = 30;
	s->stats.source_up = 1;
	s->stats.reconnects = 2;
	s->n_rules = 3;
	snprintf(s->rules[0].rule, sizeof(s->rules[0].rule), "gloomy room");
	s->rules[0].fired = 4;
	snprintf(s->rules[1].rule, sizeof(s->rules[1].rule), "nobody \"there\"");
	s->rules[1].fired = 0;
	snprintf(s->rules[2].rule, sizeof(s->rules[2].rule), "gloomy room");
	s->rules[2].fired = 1;
	s->n_students = 4;
	for (int i = 0; i < 4; i++) {
		struct summary_student *st = &s->students[i];

		st->id = i + 1;
		st->seat = i;
		st->present = i != 2;
		for (int c = 0; c < EMO_NUM_CLASSES; c++)
			st->probs[c] = c == EMO_HAPPY ? 0.5f + 0.1f * (float)i : 0.05f;
		st->negative = 0.1f * (float)i;
	}
	snprintf(s->students[0].name, TRACK_NAME_MAX, "Ana");
	s->students[1].name[0] = '\0';                       /* unnamed: no series */
	snprintf(s->students[2].name, TRACK_NAME_MAX, "Bo\\b"); /* absent, and ... */
	snprintf(s->students[3].name, TRACK_NAME_MAX, "Bo\\b"); /* ... present: this one */
}

static struct metrics *open_in(const char *dir, const char *room, int per_student, int agg,
			       int emotions, char *path, size_t len)
{
	struct metrics_opts o;
	struct emo_err err;

	snprintf(path, len, "%s/emotop.prom", dir);
	metrics_opts_default(&o);
	o.path = path;
	o.room = room;
	o.per_student = per_student;
	o.aggregate_only = agg;
	o.emotions = emotions;
	memset(&err, 0, sizeof(err));
	return metrics_open(&o, &err);
}

static char *make_dir(void)
{
	static char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/emotop-metrics.XXXXXX");
	return mkdtemp(dir);
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

/* ---- a parser of the exposition format (text 0.0.4) -------------------- */

#define MAX_SERIES 256
#define MAX_FAMILIES 64

struct sample {
	char name[96];
	char labels[8][2][96]; /* name, unescaped value */
	int n_labels;
	double value;
	char key[96 + 8 * 200];         /* name + sorted-as-written labels, for duplicates */
};

struct parsed {
	struct sample s[MAX_SERIES];
	int n;
	char fam[MAX_FAMILIES][96], type[MAX_FAMILIES][16];
	int has_help[MAX_FAMILIES], n_fam;
	char why[1400];         /* the first problem, "" when none */
};

static int name_ok(const char *s, int metric)
{
	if (!*s || !(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_", *s) ||
		     (metric && *s == ':')))
		return 0;
	for (s++; *s; s++)
		if (!(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789", *s) ||
		      (metric && *s == ':')))
			return 0;
	return 1;
}

static int fam_index(struct parsed *p, const char *name)
{
	for (int i = 0; i < p->n_fam; i++)
		if (!strcmp(p->fam[i], name))
			return i;
	return -1;
}

#define BAD(...)                                                        \
	do {                                                            \
		snprintf(p->why, sizeof(p->why), __VA_ARGS__);          \
		return -1;                                              \
	} while (0)

/* Parse text into *p; -1 with p->why on the first violation. Checks: every
 * line ends in \n; # HELP then # TYPE once per family before its samples;
 * the samples of a family are together; names and label names are valid;
 * values parse; counters end in _total; no sample twice. */
static int parse(const char *text, struct parsed *p)
{
	const char *l = text;
	int cur = -1; /* family whose samples may come now */

	memset(p, 0, sizeof(*p));
	if (!*text || text[strlen(text) - 1] != '\n')
		BAD("the file does not end with a newline");
	while (*l) {
		const char *e = strchr(l, '\n');
		char line[1024];

		if ((size_t)(e - l) >= sizeof(line))
			BAD("line too long");
		memcpy(line, l, (size_t)(e - l));
		line[e - l] = '\0';
		l = e + 1;
		if (!strncmp(line, "# HELP ", 7)) {
			char name[96];
			int i;

			if (sscanf(line + 7, "%95s", name) != 1 || !name_ok(name, 1))
				BAD("bad HELP line: %s", line);
			if (fam_index(p, name) >= 0)
				BAD("family %s declared twice", name);
			if (strlen(line + 7) <= strlen(name) + 1)
				BAD("HELP without text: %s", line);
			if (p->n_fam >= MAX_FAMILIES)
				BAD("too many families");
			i = p->n_fam++;
			snprintf(p->fam[i], sizeof(p->fam[i]), "%s", name);
			p->has_help[i] = 1;
			cur = -1;
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			char name[96], type[16], extra[8];
			int i;

			if (sscanf(line + 7, "%95s %15s %7s", name, type, extra) != 2)
				BAD("bad TYPE line: %s", line);
			if ((i = fam_index(p, name)) < 0 || i != p->n_fam - 1)
				BAD("TYPE %s not right after its HELP", name);
			if (p->type[i][0])
				BAD("TYPE of %s twice", name);
			if (strcmp(type, "gauge") && strcmp(type, "counter"))
				BAD("type %s of %s", type, name);
			if (!strcmp(type, "counter") != (strlen(name) > 6 && !strcmp(name + strlen(name) - 6, "_total")))
				BAD("%s: counters and only counters end in _total", name);
			snprintf(p->type[i], sizeof(p->type[i]), "%s", type);
			cur = i;
			continue;
		}
		if (line[0] == '#')
			BAD("unexpected comment: %s", line);
		{
			struct sample *s;
			const char *c = line;
			size_t n = strcspn(c, "{ ");
			char *end;

			if (p->n >= MAX_SERIES)
				BAD("too many samples");
			s = &p->s[p->n];
			memset(s, 0, sizeof(*s));
			if (n >= sizeof(s->name))
				BAD("name too long");
			memcpy(s->name, c, n);
			if (!name_ok(s->name, 1))
				BAD("bad metric name in: %s", line);
			if (cur < 0 || strcmp(p->fam[cur], s->name))
				BAD("sample %s outside its family's block", s->name);
			c += n;
			if (*c == '{') {
				c++;
				while (*c != '}') {
					char *ln = s->labels[s->n_labels][0], *lv = s->labels[s->n_labels][1];
					size_t k = strcspn(c, "=");
					size_t j = 0;

					if (s->n_labels >= 8 || k >= 96 || !c[k])
						BAD("bad labels in: %s", line);
					memcpy(ln, c, k);
					ln[k] = '\0';
					if (!name_ok(ln, 0) || !strncmp(ln, "__", 2))
						BAD("bad label name %s", ln);
					for (int q = 0; q < s->n_labels; q++)
						if (!strcmp(s->labels[q][0], ln))
							BAD("label %s twice", ln);
					c += k + 1;
					if (*c++ != '"')
						BAD("label value not quoted in: %s", line);
					while (*c != '"') {
						if (!*c)
							BAD("unterminated label value in: %s", line);
						if (*c == '\\') {
							c++;
							if (*c == 'n')
								lv[j++] = '\n';
							else if (*c == '\\' || *c == '"')
								lv[j++] = *c;
							else
								BAD("bad escape \\%c in: %s", *c, line);
							c++;
						} else {
							lv[j++] = *c++;
						}
						if (j >= 95)
							BAD("label value too long");
					}
					lv[j] = '\0';
					c++;
					s->n_labels++;
					if (*c == ',')
						c++;
					else if (*c != '}')
						BAD("expected , or } in: %s", line);
				}
				c++;
			}
			if (*c++ != ' ')
				BAD("no blank before the value in: %s", line);
			if (!strcmp(c, "NaN") || !strcmp(c, "+Inf") || !strcmp(c, "-Inf")) {
				s->value = strtod(c, NULL);
			} else {
				errno = 0;
				s->value = strtod(c, &end);
				if (end == c || *end || errno || strchr(c, ','))
					BAD("bad value '%s' in: %s", c, line);
			}
			{
				/* built aside: GCC -O1 sees overlaps in strcat into s */
				char key[sizeof(s->key)];
				size_t kl = strlen(s->name);

				memcpy(key, s->name, kl);
				for (int q = 0; q < s->n_labels; q++)
					for (int part = 0; part < 2; part++) {
						size_t vl = strlen(s->labels[q][part]);

						key[kl++] = part ? '=' : '|';
						memcpy(key + kl, s->labels[q][part], vl);
						kl += vl;
					}
				key[kl] = '\0';
				memcpy(s->key, key, kl + 1);
			}
			for (int q = 0; q < p->n; q++)
				if (!strcmp(p->s[q].key, s->key))
					BAD("sample twice: %s", line);
			p->n++;
		}
	}
	for (int i = 0; i < p->n_fam; i++)
		if (!p->type[i][0])
			BAD("family %s has no TYPE", p->fam[i]);
	return 0;
}

static const char *label(const struct sample *s, const char *name)
{
	for (int q = 0; q < s->n_labels; q++)
		if (!strcmp(s->labels[q][0], name))
			return s->labels[q][1];
	return NULL;
}

/* The value of the sample name{l1=v1[,l2=v2]} (besides room); NAN when absent. */
static double find(const struct parsed *p, const char *name, const char *l1, const char *v1,
		   const char *l2, const char *v2)
{
	for (int i = 0; i < p->n; i++) {
		const struct sample *s = &p->s[i];

		if (strcmp(s->name, name) || s->n_labels != 1 + !!l1 + !!l2)
			continue;
		if (l1 && (!label(s, l1) || strcmp(label(s, l1), v1)))
			continue;
		if (l2 && (!label(s, l2) || strcmp(label(s, l2), v2)))
			continue;
		return s->value;
	}
	return NAN;
}

static int count(const struct parsed *p, const char *name)
{
	int n = 0;

	for (int i = 0; i < p->n; i++)
		n += !strcmp(p->s[i].name, name);
	return n;
}

static struct parsed parsed;
static char text[TEXT_MAX];

/* ---- tests ----------------------------------------------------------- */

TEST(every_family_has_help_and_type)
{
	char path[256], *dir = make_dir();
	struct metrics *m;
	static const char *const fams[][2] = {
		{"emotop_faces", "gauge"},
		{"emotop_emotion_share", "gauge"},
		{"emotop_negative_share", "gauge"},
		{"emotop_valence", "gauge"},
		{"emotop_frames_total", "counter"},
		{"emotop_frames_dropped_total", "counter"},
		{"emotop_stage_seconds", "gauge"},
		{"emotop_source_up", "gauge"},
		{"emotop_source_state", "gauge"},
		{"emotop_reconnects_total", "counter"},
		{"emotop_alerts_total", "counter"},
		{"emotop_uptime_seconds", "gauge"},
		{"emotop_student_present", "gauge"},
		{"emotop_student_emotion_share", "gauge"},
		{"emotop_student_negative_share", "gauge"},
		{"emotop_student_valence", "gauge"},
	};
	const int nf = (int)(sizeof(fams) / sizeof(fams[0]));
	size_t n;

	ASSERT(dir);
	m = open_in(dir, "lab 1", 1, 0, 1, path, sizeof(path));
	ASSERT(m);
	fill_snapshot(&snap);
	n = metrics_format(m, &snap, text, sizeof(text));
	ASSERT(n > 0 && n < sizeof(text));
	if (parse(text, &parsed)) {
		fputs(text, stderr);
		metrics_close(m);
		remove_dir(dir);
		UNIT_FAILF("%s", parsed.why);
	}
	metrics_close(m);
	remove_dir(dir);
	ASSERT_EQ(parsed.n_fam, nf);
	for (int i = 0; i < nf; i++) {
		int k = fam_index(&parsed, fams[i][0]);

		if (k < 0)
			UNIT_FAILF("family %s missing", fams[i][0]);
		ASSERT_STR(parsed.type[k], fams[i][1]);
		ASSERT(parsed.has_help[k]);
	}
	/* every sample says its room */
	for (int i = 0; i < parsed.n; i++)
		ASSERT_STR(label(&parsed.s[i], "room"), "lab 1");
}

TEST(values_and_labels)
{
	char path[256], *dir = make_dir();
	struct metrics *m;

	ASSERT(dir);
	m = open_in(dir, "lab 1", 0, 0, 1, path, sizeof(path));
	ASSERT(m);
	fill_snapshot(&snap);
	metrics_format(m, &snap, text, sizeof(text));
	metrics_close(m);
	remove_dir(dir);
	if (parse(text, &parsed))
		UNIT_FAILF("%s", parsed.why);
	ASSERT_NEAR(find(&parsed, "emotop_faces", NULL, NULL, NULL, NULL), 3, 0);
	ASSERT_EQ(count(&parsed, "emotop_emotion_share"), EMO_NUM_CLASSES);
	for (int c = 0; c < EMO_NUM_CLASSES; c++)
		ASSERT_NEAR(find(&parsed, "emotop_emotion_share", "emotion", emo_class_name(c), NULL, NULL),
			    (c + 1) / 28.0, 1e-6);
	ASSERT(!isnan(find(&parsed, "emotop_emotion_share", "emotion", "surprise", NULL, NULL)));
	ASSERT_NEAR(find(&parsed, "emotop_negative_share", NULL, NULL, NULL, NULL), 0.25, 1e-9);
	ASSERT_NEAR(find(&parsed, "emotop_frames_total", NULL, NULL, NULL, NULL), 1234, 0);
	ASSERT_NEAR(find(&parsed, "emotop_frames_dropped_total", NULL, NULL, NULL, NULL), 56, 0);
	/* base units: seconds, not milliseconds */
	ASSERT_NEAR(find(&parsed, "emotop_stage_seconds", "stage", "capture", NULL, NULL), 0.0015, 1e-9);
	ASSERT_NEAR(find(&parsed, "emotop_stage_seconds", "stage", "detect", NULL, NULL), 0.01225, 1e-9);
	ASSERT_NEAR(find(&parsed, "emotop_stage_seconds", "stage", "classify", NULL, NULL), 0.03, 1e-9);
	ASSERT_NEAR(find(&parsed, "emotop_source_up", NULL, NULL, NULL, NULL), 1, 0);
	ASSERT_NEAR(find(&parsed, "emotop_reconnects_total", NULL, NULL, NULL, NULL), 2, 0);
	ASSERT_NEAR(find(&parsed, "emotop_uptime_seconds", NULL, NULL, NULL, NULL), 10.25, 1e-9);
	/* one counter per rule name (two rules share one: summed), zeros too */
	ASSERT_EQ(count(&parsed, "emotop_alerts_total"), 2);
	ASSERT_NEAR(find(&parsed, "emotop_alerts_total", "rule", "gloomy room", NULL, NULL), 5, 0);
	ASSERT_NEAR(find(&parsed, "emotop_alerts_total", "rule", "nobody \"there\"", NULL, NULL), 0, 0);
	/* per-student series only when asked */
	ASSERT_EQ(count(&parsed, "emotop_student_present"), 0);
	ASSERT(!strstr(text, "Ana"));
}

TEST(per_student_named_only)
{
	char path[256], *dir = make_dir();
	struct metrics *m;

	ASSERT(dir);
	m = open_in(dir, "r", 1, 0, 1, path, sizeof(path));
	ASSERT(m);
	fill_snapshot(&snap);
	metrics_format(m, &snap, text, sizeof(text));
	metrics_close(m);
	remove_dir(dir);
	if (parse(text, &parsed))
		UNIT_FAILF("%s", parsed.why);
	/* Ana, and one Bo\b (the present one); the unnamed track has none */
	ASSERT_EQ(count(&parsed, "emotop_student_present"), 2);
	ASSERT_NEAR(find(&parsed, "emotop_student_present", "student", "Ana", NULL, NULL), 1, 0);
	ASSERT_NEAR(find(&parsed, "emotop_student_present", "student", "Bo\\b", NULL, NULL), 1, 0);
	ASSERT_EQ(count(&parsed, "emotop_student_emotion_share"), 2 * EMO_NUM_CLASSES);
	ASSERT_NEAR(find(&parsed, "emotop_student_emotion_share", "student", "Bo\\b", "emotion", "happy"),
		    0.8, 1e-6);
	ASSERT_NEAR(find(&parsed, "emotop_student_negative_share", "student", "Bo\\b", NULL, NULL), 0.3,
		    1e-6);
	ASSERT(strstr(text, "student=\"Bo\\\\b\""));
	for (int i = 0; i < parsed.n; i++)
		ASSERT(!label(&parsed.s[i], "student") || strcmp(label(&parsed.s[i], "student"), ""));
}

TEST(aggregate_only_has_no_person)
{
	char path[256], *dir = make_dir();
	struct metrics *m;

	ASSERT(dir);
	m = open_in(dir, "r", 1, 1, 1, path, sizeof(path));
	ASSERT(m);
	fill_snapshot(&snap);
	metrics_format(m, &snap, text, sizeof(text));
	metrics_close(m);
	remove_dir(dir);
	if (parse(text, &parsed))
		UNIT_FAILF("%s", parsed.why);
	ASSERT(!strstr(text, "student"));
	ASSERT(!strstr(text, "Ana"));
	ASSERT(!strstr(text, "Bo"));
	ASSERT_EQ(count(&parsed, "emotop_emotion_share"), EMO_NUM_CLASSES);
}

TEST(no_classifier_no_emotions)
{
	char path[256], *dir = make_dir();
	struct metrics *m;

	ASSERT(dir);
	m = open_in(dir, "r", 1, 0, 0, path, sizeof(path));
	ASSERT(m);
	fill_snapshot(&snap);
	metrics_format(m, &snap, text, sizeof(text));
	metrics_close(m);
	remove_dir(dir);
	if (parse(text, &parsed))
		UNIT_FAILF("%s", parsed.why);
	ASSERT(!strstr(text, "emotion"));
	ASSERT(!strstr(text, "negative_share"));
	ASSERT(!strstr(text, "stage=\"classify\""));
	ASSERT_EQ(count(&parsed, "emotop_faces"), 1);
	ASSERT_EQ(count(&parsed, "emotop_student_present"), 2);
}

TEST(label_escaping)
{
	char buf[64];
	struct metrics *m;
	char path[256], *dir = make_dir();

	ASSERT_EQ(metrics_label_escape(buf, sizeof(buf), "a\\b\"c\nd"), 10);
	ASSERT_STR(buf, "a\\\\b\\\"c\\nd");
	/* UTF-8 kept, invalid bytes become U+FFFD */
	metrics_label_escape(buf, sizeof(buf), "Zo\xc3\xab \xff!");
	ASSERT_STR(buf, "Zo\xc3\xab \xef\xbf\xbd!");
	metrics_label_escape(buf, sizeof(buf), "\xc0\xaf\xed\xa0\x80");
	ASSERT(!strchr(buf, '\xc0') && !strchr(buf, '\xed'));
	/* snprintf convention: the full length, truncated copy */
	ASSERT_EQ(metrics_label_escape(buf, 4, "\"\"\""), 6);
	ASSERT_EQ(strlen(buf), 3);
	ASSERT_EQ(metrics_label_escape(NULL, 0, "ab"), 2);
	/* a hostile room parses back to itself */
	ASSERT(dir);
	m = open_in(dir, "x\"} evil 1\n# TYPE y gauge\\", 0, 0, 1, path, sizeof(path));
	ASSERT(m);
	fill_snapshot(&snap);
	metrics_format(m, &snap, text, sizeof(text));
	metrics_close(m);
	remove_dir(dir);
	if (parse(text, &parsed))
		UNIT_FAILF("%s", parsed.why);
	ASSERT_STR(label(&parsed.s[0], "room"), "x\"} evil 1\n# TYPE y gauge\\");
}

TEST(room_defaults_to_the_host_name)
{
	char path[256], host[256], *dir = make_dir();
	struct metrics *m;

	ASSERT(dir);
	memset(host, 0, sizeof(host));
	ASSERT_EQ(gethostname(host, sizeof(host) - 1), 0);
	m = open_in(dir, "", 0, 0, 1, path, sizeof(path));
	ASSERT(m);
	ASSERT_STR(metrics_room(m), host);
	metrics_close(m);
	m = open_in(dir, NULL, 0, 0, 1, path, sizeof(path));
	ASSERT(m);
	ASSERT_STR(metrics_room(m), host);
	metrics_close(m);
	remove_dir(dir);
}

TEST(numbers_ignore_the_locale)
{
	char path[256], *dir = make_dir();
	struct metrics *m;
	const char *locs[] = {"de_DE.UTF-8", "fr_FR.UTF-8", "de_DE.utf8", "fr_FR.utf8"};
	int set = 0;

	for (size_t i = 0; i < sizeof(locs) / sizeof(locs[0]) && !set; i++)
		set = setlocale(LC_NUMERIC, locs[i]) != NULL;
	if (!set)
		SKIP("no locale with a decimal comma installed");
	ASSERT(dir);
	m = open_in(dir, "r", 0, 0, 1, path, sizeof(path));
	fill_snapshot(&snap);
	if (m)
		metrics_format(m, &snap, text, sizeof(text));
	setlocale(LC_NUMERIC, "C");
	metrics_close(m);
	remove_dir(dir);
	ASSERT(m);
	ASSERT(strstr(text, "} 0.25\n"));
	if (parse(text, &parsed))
		UNIT_FAILF("%s", parsed.why);
}

TEST(open_errors)
{
	struct metrics_opts o;
	struct emo_err err;
	char room[300];

	metrics_opts_default(&o);
	memset(&err, 0, sizeof(err));
	ASSERT(!metrics_open(&o, &err));
	o.path = "/nonexistent-emotop-dir/x.prom";
	memset(&err, 0, sizeof(err));
	ASSERT(!metrics_open(&o, &err));
	ASSERT(strstr(err.msg, "/nonexistent-emotop-dir"));
	ASSERT(strstr(err.msg, strerror(ENOENT)));
	o.path = "/tmp/";
	ASSERT(!metrics_open(&o, &err));
	memset(room, 'r', sizeof(room));
	room[sizeof(room) - 1] = '\0';
	o.path = "/tmp/x.prom";
	o.room = room;
	ASSERT(!metrics_open(&o, &err));
	metrics_close(NULL);
}

TEST(write_replaces_the_file)
{
	char path[256], *dir = make_dir();
	struct metrics *m;
	struct emo_err err;
	struct stat st;
	FILE *f;
	size_t n;
	DIR *d;
	struct dirent *e;
	int files = 0;

	ASSERT(dir);
	m = open_in(dir, "r", 0, 0, 1, path, sizeof(path));
	ASSERT(m);
	fill_snapshot(&snap);
	memset(&err, 0, sizeof(err));
	ASSERT_EQ(metrics_write(m, &snap, &err), EMO_OK);
	snap.faces = 7;
	ASSERT_EQ(metrics_write(m, &snap, &err), EMO_OK);
	ASSERT_EQ(stat(path, &st), 0);
	ASSERT_EQ(st.st_mode & 0777, 0644);
	f = fopen(path, "r");
	ASSERT(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	ASSERT(strstr(text, "emotop_faces{room=\"r\"} 7\n"));
	/* no temporary file left behind */
	d = opendir(dir);
	while (d && (e = readdir(d)))
		files += e->d_name[0] != '.';
	if (d)
		closedir(d);
	d = opendir(dir);
	while (d && (e = readdir(d)))
		ASSERT(e->d_name[0] != '.' || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."));
	if (d)
		closedir(d);
	ASSERT_EQ(files, 1);
	/* the directory gone: an error, not a crash */
	remove_dir(dir);
	memset(&err, 0, sizeof(err));
	ASSERT_EQ(metrics_write(m, &snap, &err), EMO_EIO);
	ASSERT(err.msg[0]);
	metrics_close(m);
}

/* A reader in a tight loop while the file is replaced 300 times with two
 * texts of different lengths: every read is one of them, whole. */
TEST(reader_never_sees_a_partial_file)
{
	char path[256], *dir = make_dir();
	static char a[TEXT_MAX], b[TEXT_MAX], got[TEXT_MAX];
	struct metrics *m;
	struct emo_err err;
	pid_t pid;
	int status, pipefd[2];

	ASSERT(dir);
	m = open_in(dir, "r", 1, 0, 1, path, sizeof(path));
	ASSERT(m);
	fill_snapshot(&snap);
	metrics_format(m, &snap, a, sizeof(a));
	snap.n_students = 1;   /* a shorter file */
	snap.faces = 1;
	metrics_format(m, &snap, b, sizeof(b));
	ASSERT(strlen(a) != strlen(b));
	ASSERT_EQ(metrics_write(m, &snap, &err), EMO_OK);
	ASSERT_EQ(pipe(pipefd), 0);
	pid = fork();
	ASSERT(pid >= 0);
	if (pid == 0) {
		long reads = 0, bad = 0;
		char c;

		metrics_close(m); /* the parent's: valgrind counts the child's leaks */
		close(pipefd[1]);
		/* read until the parent closes the pipe */
		for (;;) {
			FILE *f = fopen(path, "r");
			size_t n;
			fd_set set;
			struct timeval tv = {0, 0};

			if (!f)
				_exit(3); /* the name never goes missing */
			n = fread(got, 1, sizeof(got) - 1, f);
			fclose(f);
			got[n] = '\0';
			reads++;
			if (strcmp(got, a) && strcmp(got, b))
				bad++;
			FD_ZERO(&set);
			FD_SET(pipefd[0], &set);
			if (select(pipefd[0] + 1, &set, NULL, NULL, &tv) > 0 && read(pipefd[0], &c, 1) <= 0)
				break;
		}
		fprintf(stderr, "  reader: %ld reads, %ld partial\n", reads, bad);
		_exit(bad ? 1 : reads < 10 ? 2 : 0);
	}
	close(pipefd[0]);
	fill_snapshot(&snap);
	for (int i = 0; i < 300; i++) {
		snap.n_students = i % 2 ? 1 : 4;
		snap.faces = i % 2 ? 1 : 3;
		if (metrics_write(m, &snap, &err))
			break;
	}
	close(pipefd[1]);
	waitpid(pid, &status, 0);
	metrics_close(m);
	remove_dir(dir);
	ASSERT(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), 0);
}

/* Issue 19 (many rooms, syslog): every line emotop writes, in every format
 * and kind, with the worst strings (a 255-byte source and 63-byte names and
 * rules made only of bytes that escape longest) and the largest numbers,
 * stays within SYSLOG_LINE_MAX: half of rsyslog's default message size
 * (8 KiB), leaving room for the syslog header; journald takes 48 KiB. The
 * worst case measured is 2127 bytes (NDJSON, a source of invalid UTF-8
 * bytes, each written as \ufffd), above the 2048 octets RFC 5424 obliges
 * every receiver to take: docs/many-rooms.md says so. A line holds one student at
 * most, so their number does not matter. */
#define SYSLOG_LINE_MAX 4096

static long longest_line(const char *path)
{
	FILE *f = fopen(path, "r");
	long cur = 0, max = 0;
	int c;

	while (f && (c = fgetc(f)) != EOF) {
		if (c == '\n') {
			max = cur > max ? cur : max;
			cur = 0;
		} else {
			cur++;
		}
	}
	if (f)
		fclose(f);
	return max;
}

TEST(lines_fit_syslog)
{
	static const unsigned char worst[] = {0x01, 0xff, '"', 0x7f};
	static struct summary_totals tot;
	char path[256], *dir = make_dir();
	long max = 0;

	ASSERT(dir);
	fill_snapshot(&snap);
	for (int w = 0; w < 4; w++) {
		memset(snap.stats.source, worst[w], sizeof(snap.stats.source) - 1);
		snap.stats.source[sizeof(snap.stats.source) - 1] = '\0';
		snap.n_students = SUMMARY_MAX_STUDENTS;
		for (int i = 0; i < snap.n_students; i++) {
			struct summary_student *st = &snap.students[i];

			st->id = 2147483647 - i;
			st->seat = 2147483647;
			st->present = 1;
			memset(st->name, worst[w], TRACK_NAME_MAX - 1);
			st->name[TRACK_NAME_MAX - 1] = '\0';
			st->box.x = st->box.y = st->box.w = st->box.h = 1e9f;
			st->last_seen = st->first_seen = 1e9;
		}
		snap.time = snap.frame_time = snap.uptime = 1e9;
		snap.stats.frames_analysed = snap.stats.frames_dropped = snap.alerts_total = 9223372036854775807LL;
		snap.stats.fps = snap.stats.lat_capture_ms = 1e9;
		snap.stats.width = snap.stats.height = 2147483647;
		snap.n_alerts = SUMMARY_MAX_ALERTS;
		for (int i = 0; i < snap.n_alerts; i++) {
			memset(snap.alerts[i].rule, worst[w], SUMMARY_RULE_NAME_MAX - 1);
			snap.alerts[i].rule[SUMMARY_RULE_NAME_MAX - 1] = '\0';
			snap.alerts[i].seq = i + 1;
			snap.alerts[i].time = snap.alerts[i].since = snap.alerts[i].value = 1e9;
		}
		memset(&tot, 0, sizeof(tot));
		tot.stats = snap.stats;
		tot.frames = tot.face_frames = tot.alerts = 9223372036854775807LL;
		tot.duration = tot.start = 1e9;
		tot.max_faces = 2147483647;
		for (int fmt = REPORT_TEXT; fmt <= REPORT_CSV; fmt++)
			for (int kind = REPORT_SUMMARY; kind <= REPORT_RECORD; kind++) {
				struct report_opts o;
				struct report *r;
				long n;

				snprintf(path, sizeof(path), "%s/lines-%d-%d-%d", dir, w, fmt, kind);
				report_opts_default(&o);
				o.format = (enum report_format)fmt;
				o.kind = (enum report_kind)kind;
				o.path = path;
				o.students = 1;
				r = report_open(&o, NULL);
				ASSERT(r);
				ASSERT_EQ(report_emit(r, &snap), EMO_OK);
				ASSERT_EQ(report_final(r, &snap, &tot), EMO_OK);
				report_close(r);
				n = longest_line(path);
				max = n > max ? n : max;
				if (n > SYSLOG_LINE_MAX)
					fprintf(stderr, "  format %d kind %d byte 0x%02x: a line of %ld bytes\n", fmt,
						kind, worst[w], n);
			}
	}
	remove_dir(dir);
	fprintf(stderr, "  longest line: %ld bytes\n", max);
	ASSERT(max > 500); /* the worst strings were written */
	ASSERT(max <= SYSLOG_LINE_MAX);
}

int main(int argc, char **argv)
{
	unit_init(argc, argv);
	RUN(every_family_has_help_and_type);
	RUN(values_and_labels);
	RUN(per_student_named_only);
	RUN(aggregate_only_has_no_person);
	RUN(no_classifier_no_emotions);
	RUN(label_escaping);
	RUN(room_defaults_to_the_host_name);
	RUN(numbers_ignore_the_locale);
	RUN(open_errors);
	RUN(write_replaces_the_file);
	RUN(reader_never_sees_a_partial_file);
	RUN(lines_fit_syslog);
	return unit_done();
}
