/* test_report.c - NDJSON/CSV/text lines, escaping, aggregate-only, reopen,
 * record timeline, final line and SVG well-formedness. */
#include <ctype.h>
#include <fcntl.h>
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "emotop/report.h"
#include "unit.h"

/* ---- a tiny JSON validator (RFC 8259 subset checks that matter here) ---- */

static const char *json_value(const char *p, int depth);

static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *json_string(const char *p)
{
	const unsigned char *s = (const unsigned char *)p;

	if (*s++ != '"')
		return NULL;
	while (*s != '"') {
		if (*s < 0x20)
			return NULL; /* raw control character (or end of text) */
		if (*s == '\\') {
			s++;
			if (*s == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
						return NULL;
				s += 5;
				continue;
			}
			if (!*s || !strchr("\"\\/bfnrt", *s))
				return NULL;
			s++;
			continue;
		}
		if (*s >= 0x80) { /* UTF-8: lead byte + continuation bytes */
			int n = *s >= 0xf0 ? 3 : *s >= 0xe0 ? 2 : *s >= 0xc2 ? 1 : -1;

			if (n < 0 || *s > 0xf4)
				return NULL;
			for (int i = 1; i <= n; i++)
				if ((s[i] & 0xc0) != 0x80)
					return NULL;
			s += n + 1;
			continue;
		}
		s++;
	}
	return (const char *)s + 1;
}

static const char *json_number(const char *p)
{
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return NULL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return NULL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return p;
}

static const char *json_value(const char *p, int depth)
{
	if (depth > 32)
		return NULL;
	p = json_ws(p);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		int obj = *p == '{';

		p = json_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (obj) {
				p = json_string(json_ws(p));
				if (!p)
					return NULL;
				p = json_ws(p);
				if (*p++ != ':')
					return NULL;
			}
			p = json_value(p, depth + 1);
			if (!p)
				return NULL;
			p = json_ws(p);
			if (*p == ',') {
				p++;
				continue;
			}
			return *p == close ? p + 1 : NULL;
		}
	}
	if (*p == '"')
		return json_string(p);
	if (!strncmp(p, "true", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	if (!strncmp(p, "null", 4))
		return p + 4;
	return json_number(p);
}

/* One JSON object filling the whole line. */
static int json_line_ok(const char *line)
{
	const char *p = json_ws(line);

	if (*p != '{')
		return 0;
	p = json_value(p, 0);
	return p && *json_ws(p) == '\0';
}

/* ---- RFC 4180 field count of one record line (-1 when malformed) ---- */

static int csv_fields(const char *s, int want, char *field, size_t flen)
{
	int n = 0;
	size_t fl = 0;

	for (;;) {
		int quoted = *s == '"';

		fl = 0;
		if (quoted) {
			s++;
			for (;;) {
				if (!*s)
					return -1;
				if (*s == '"') {
					if (s[1] == '"') {
						if (n == want && fl + 1 < flen)
							field[fl++] = '"';
						s += 2;
						continue;
					}
					s++;
					break;
				}
				if (n == want && fl + 1 < flen)
					field[fl++] = *s;
				s++;
			}
			if (*s && *s != ',')
				return -1;
		} else {
			while (*s && *s != ',') {
				if (*s == '"' || *s == '\r' || *s == '\n')
					return -1;
				if (n == want && fl + 1 < flen)
					field[fl++] = *s;
				s++;
			}
		}
		if (n == want && flen)
			field[fl] = '\0';
		n++;
		if (!*s)
			return n;
		s++; /* comma */
	}
}

/* ---- structural XML check: balanced tags, quoted attributes, entities ---- */

static int xml_entity_ok(const char *p)
{
	static const char *const ents[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};

	for (int i = 0; i < 5; i++)
		if (!strncmp(p, ents[i], strlen(ents[i])))
			return (int)strlen(ents[i]);
	return 0;
}

static int xml_well_formed(const char *s)
{
	char stack[64][32];
	int depth = 0, roots = 0;

	if (!strncmp(s, "<?xml", 5)) {
		s = strstr(s, "?>");
		if (!s)
			return 0;
		s += 2;
	}
	while (*s) {
		if (*s == '&') {
			int n = xml_entity_ok(s);

			if (!n)
				return 0;
			s += n;
			continue;
		}
		if (*s != '<') {
			if (!depth && *s != '\n' && *s != ' ')
				return 0; /* text outside the root */
			s++;
			continue;
		}
		s++;
		if (*s == '/') { /* end tag */
			size_t n = 0;

			s++;
			while (s[n] && s[n] != '>')
				n++;
			if (!depth || s[n] != '>' || n != strlen(stack[depth - 1]) ||
			    strncmp(s, stack[depth - 1], n))
				return 0;
			depth--;
			s += n + 1;
			continue;
		}
		{
			char name[32];
			size_t n = 0;

			while (*s && (isalnum((unsigned char)*s) || *s == '-' || *s == ':') && n < 31)
				name[n++] = *s++;
			name[n] = '\0';
			if (!n)
				return 0;
			for (;;) { /* attributes */
				while (*s == ' ' || *s == '\n')
					s++;
				if (*s == '>' || (*s == '/' && s[1] == '>'))
					break;
				while (*s && (isalnum((unsigned char)*s) || *s == '-' || *s == ':'))
					s++;
				if (*s++ != '=' || *s++ != '"')
					return 0;
				while (*s != '"') {
					if (!*s || *s == '<')
						return 0;
					if (*s == '&') {
						int k = xml_entity_ok(s);

						if (!k)
							return 0;
						s += k;
					} else {
						s++;
					}
				}
				s++;
			}
			if (!depth)
				roots++;
			if (*s == '/') {
				s += 2;
				continue;
			}
			s++;
			if (depth == 64)
				return 0;
			strcpy(stack[depth++], name);
		}
	}
	return depth == 0 && roots == 1;
}

/* ---- fixtures ---- */

static struct summary snap;
static char tmpdir[256];

static const char *tmp_path(const char *name)
{
	static char buf[4][512];
	static int k;

	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "%s/emotop-report-XXXXXX",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (!mkdtemp(tmpdir))
			return NULL;
	}
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", tmpdir, name);
	return buf[k];
}

static const char *const hostile = "Bob \"Tables\", \\x\n\r\t\x01\x7f Zo\xc3\xab \xe2\x9c\x93 \xff end ";

static void fill_snapshot(struct summary *s, int n_students)
{
	memset(s, 0, sizeof(*s));
	s->seq = 10;
	s->time = 1714550400.25;
	s->start = 1714550340.0;
	s->uptime = 60.25;
	s->window = 60;
	s->window_frames = 300;
	s->frame_time = s->time;
	s->faces = n_students;
	s->frame_dominant = EMO_NEUTRAL;
	s->frame_mean[EMO_NEUTRAL] = 0.6f;
	s->frame_mean[EMO_SAD] = 0.4f;
	s->frame_negative = 0.4f;
	s->mean[EMO_NEUTRAL] = 0.5f;
	s->mean[EMO_HAPPY] = 0.25f;
	s->mean[EMO_ANGRY] = 0.125f;
	s->mean[EMO_FEAR] = 0.125f;
	s->dominant = EMO_NEUTRAL;
	s->confidence = 0.5f;
	s->negative = 0.25f;
	s->mean_faces = 2.5f;
	s->n_students = n_students;
	for (int i = 0; i < n_students; i++) {
		struct summary_student *st = &s->students[i];

		st->id = 100 + i;
		st->seat = i == 0 ? 3 : -1;
		strcpy(st->name, i == 0 ? "SecretName" : i == 1 ? "" : hostile);
		st->box.x = 10.0f * i;
		st->box.y = 20;
		st->box.w = 64;
		st->box.h = 64;
		st->probs[EMO_HAPPY] = 0.7f;
		st->probs[EMO_SAD] = 0.3f;
		st->raw[EMO_HAPPY] = 1.0f;
		st->dominant = EMO_HAPPY;
		st->confidence = 0.7f;
		st->negative = 0.3f;
		st->first_seen = s->start;
		st->last_seen = s->time - 0.5;
		st->present = i != 2 || n_students < 4;
	}
	s->alerts_total = 2;
	s->n_alerts = 2;
	s->alerts[0].seq = 1;
	strcpy(s->alerts[0].rule, "gloomy \"class\"");
	s->alerts[0].time = s->time - 10;
	s->alerts[0].value = 0.61;
	s->alerts[1].seq = 2;
	strcpy(s->alerts[1].rule, "empty");
	s->alerts[1].time = s->time - 1;
	s->stats.frames_analysed = 301;
	s->stats.frames_dropped = 4;
	s->stats.fps = 5.0;
	s->stats.lat_detect_ms = 3.25;
	strcpy(s->stats.source, "demo:\"cam\"");
	s->stats.width = 640;
	s->stats.height = 480;
}

static void fill_totals(struct summary_totals *t)
{
	memset(t, 0, sizeof(*t));
	t->start = 1714550340.0;
	t->end = 1714550400.25;
	t->duration = 60.25;
	t->frames = 301;
	t->face_frames = 900;
	t->max_faces = 3;
	t->mean[EMO_NEUTRAL] = 0.5f;
	t->mean[EMO_SAD] = 0.5f;
	t->negative = 0.5f;
	t->dominant = EMO_NEUTRAL;
	t->mood_share[EMO_NEUTRAL] = 0.6f;
	t->mood_share[EMO_SAD] = 0.4f;
	t->alerts = 2;
}

/* Whole file into a static buffer. */
static const char *slurp(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Next line of *p (without '\n') into line; 0 at the end. */
static int next_line(const char **p, char *line, size_t len)
{
	const char *e;
	size_t n;

	if (!**p)
		return 0;
	e = strchr(*p, '\n');
	if (!e)
		e = *p + strlen(*p);
	n = (size_t)(e - *p);
	if (n >= len)
		n = len - 1;
	memcpy(line, *p, n);
	line[n] = '\0';
	*p = *e ? e + 1 : e;
	return 1;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static struct report *open_sink(const char *path, enum report_format fmt, enum report_kind kind,
				int students, int aggregate)
{
	struct report_opts o;

	report_opts_default(&o);
	o.path = path;
	o.format = fmt;
	o.kind = kind;
	o.students = students;
	o.aggregate_only = aggregate;
	unlink(path);
	return report_open(&o, NULL);
}

/* ---- tests ---- */

TEST(fixed_numbers)
{
	char b[64];

	ASSERT_EQ(report_fixed(b, sizeof(b), 0.5, 3), 5);
	ASSERT_STR(b, "0.500");
	report_fixed(b, sizeof(b), -0.0004, 3);
	ASSERT_STR(b, "0.000");
	report_fixed(b, sizeof(b), -2.25, 1);
	ASSERT_STR(b, "-2.3"); /* half away from zero */
	report_fixed(b, sizeof(b), 1234.5678, 2);
	ASSERT_STR(b, "1234.57");
	report_fixed(b, sizeof(b), 1714550400.25, 3);
	ASSERT_STR(b, "1714550400.250");
	report_fixed(b, sizeof(b), 7, 0);
	ASSERT_STR(b, "7");
	report_fixed(b, sizeof(b), NAN, 3);
	ASSERT_STR(b, "null");
	report_fixed(b, sizeof(b), -INFINITY, 3);
	ASSERT_STR(b, "null");
	{
		char big[400];

		ASSERT_EQ(report_fixed(big, sizeof(big), -1e300, 2), 305);
		ASSERT(big[0] == '-' && big[1] == '1' && !strcmp(big + 302, ".00"));
	}
	/* truncation like snprintf */
	ASSERT_EQ(report_fixed(b, 4, 123.456, 3), 7);
	ASSERT_STR(b, "123");
}

TEST(numbers_ignore_locale)
{
	static const char *const locs[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8",
					   "ru_RU.UTF-8", NULL};
	char b[64], c[64], cmd[700];
	int ok = 0;

	for (int i = 0; locs[i] && !ok; i++)
		ok = setlocale(LC_NUMERIC, locs[i]) != NULL;
	if (!ok) {
		/* Build one for the test when glibc's localedef is there. */
		snprintf(cmd, sizeof(cmd),
			 "localedef -i de_DE -f UTF-8 '%s/loc/de_DE.UTF-8' >/dev/null 2>&1", tmpdir);
		{
			char dir[600];

			snprintf(dir, sizeof(dir), "%s/loc", tmpdir);
			mkdir(dir, 0700);
			if (!system(cmd)) {
				setenv("LOCPATH", dir, 1);
				ok = setlocale(LC_NUMERIC, "de_DE.UTF-8") != NULL;
			}
		}
	}
	if (!ok)
		SKIP("no locale with a decimal comma available");
	snprintf(c, sizeof(c), "%.2f", 0.25);
	report_fixed(b, sizeof(b), 0.25, 2);
	setlocale(LC_NUMERIC, "C");
	unsetenv("LOCPATH");
	ASSERT_STR(c, "0,25"); /* the locale is really in effect */
	ASSERT_STR(b, "0.25");
}

TEST(json_escaping)
{
	char b[256];

	report_json_string(b, sizeof(b), "a\"b\\c\n\t\x01\x1f/");
	ASSERT_STR(b, "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f/\"");
	report_json_string(b, sizeof(b), "Zo\xc3\xab \xe2\x9c\x93 \xf0\x9f\x98\x80"); /* UTF-8 kept */
	ASSERT_STR(b, "\"Zo\xc3\xab \xe2\x9c\x93 \xf0\x9f\x98\x80\"");
	report_json_string(b, sizeof(b), "x\xff\xc3(\xed\xa0\x80y"); /* invalid, surrogate */
	ASSERT_STR(b, "\"x\\ufffd\\ufffd(\\ufffd\\ufffd\\ufffdy\"");
	report_json_string(b, sizeof(b), NULL);
	ASSERT_STR(b, "\"\"");
	ASSERT(json_line_ok("{\"n\":\"x\"}"));
	ASSERT(!json_line_ok("{\"n\":\"x\n\"}"));
	ASSERT(!json_line_ok("{\"n\":1,}"));
	ASSERT(!json_line_ok("{\"n\":0,5}"));
	report_json_string(b, sizeof(b), hostile);
	{
		char line[300];

		snprintf(line, sizeof(line), "{\"name\":%s}", b);
		ASSERT(json_line_ok(line));
	}
}

TEST(random_bytes_always_escape_validly)
{
	unsigned int seed = 12345;
	char in[64], out[512], line[600], f[512];

	for (int iter = 0; iter < 5000; iter++) {
		int n = (int)(seed % 40);

		for (int i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = (char)(1 + (seed >> 16) % 255); /* any byte but NUL */
		}
		in[n] = '\0';
		seed = seed * 1103515245u + 12345u;
		ASSERT(report_json_string(out, sizeof(out), in) < sizeof(out));
		snprintf(line, sizeof(line), "{\"k\":%s}", out);
		if (!json_line_ok(line))
			UNIT_FAILF("bad JSON for input %d: %s", iter, line);
		report_csv_field(out, sizeof(out), in);
		if (csv_fields(out, 0, f, sizeof(f)) != 1 || strchr(out, '\n') || strchr(out, '\r'))
			UNIT_FAILF("bad CSV field for input %d: %s", iter, out);
	}
}

TEST(csv_quoting)
{
	char b[256], f[256];

	/* in, out; spreadsheet formulas are neutralised, not run (CSV injection) */
	static const char *const cases[][2] = {
		{"plain", "plain"},
		{"a,b", "\"a,b\""},
		{"say \"hi\"", "\"say \"\"hi\"\"\""},
		{" pad", "\" pad\""},
		{"two\nlines\r", "\"two lines \""},
		{"=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\""},
		{"+1", "'+1"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1+1", "\"' =1+1\""},
		{"Ann-Marie", "Ann-Marie"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		report_csv_field(b, sizeof(b), cases[i][0]);
		if (strcmp(b, cases[i][1]))
			UNIT_FAILF("CSV field of case %zu: got [%s], want [%s]", i, b, cases[i][1]);
	}
	report_csv_field(b, sizeof(b), hostile);
	ASSERT(!strchr(b, '\n'));
	ASSERT_EQ(csv_fields(b, 0, f, sizeof(f)), 1);
	ASSERT(!strncmp(f, "Bob \"Tables\", \\x", 16));
}

TEST(ndjson_summary_lines_parse)
{
	const char *path = tmp_path("s.ndjson"), *p;
	struct report *r = open_sink(path, REPORT_NDJSON, REPORT_SUMMARY, 1, 0);
	char line[4096];
	int n = 0, types[4] = {0};

	ASSERT(r);
	fill_snapshot(&snap, 3);
	ASSERT_EQ(report_emit(r, &snap), EMO_OK);
	report_close(r);
	p = slurp(path);
	ASSERT(p);
	while (next_line(&p, line, sizeof(line))) {
		n++;
		if (!json_line_ok(line))
			UNIT_FAILF("not JSON: %s", line);
		types[0] += !strncmp(line, "{\"type\":\"summary\"", 17);
		types[1] += !strncmp(line, "{\"type\":\"alert\"", 15);
		types[2] += !strncmp(line, "{\"type\":\"student\"", 17);
	}
	ASSERT_EQ(n, 1 + 2 + 3);
	ASSERT_EQ(types[0], 1);
	ASSERT_EQ(types[1], 2);
	ASSERT_EQ(types[2], 3);
	p = slurp(path);
	ASSERT(strstr(p, "\"time\":1714550400.250,"));
	ASSERT(strstr(p, "\"dominant\":\"neutral\""));
	ASSERT(strstr(p, "\"mean\":{\"angry\":0.125,\"disgust\":0.000,\"fear\":0.125,\"happy\":0.250,"));
	ASSERT(strstr(p, "\"source\":\"demo:\\\"cam\\\"\""));
	ASSERT(strstr(p, "\"name\":\"SecretName\""));
	ASSERT(strstr(p, "\"name\":null"));
	ASSERT(strstr(p, "\"seat\":3,"));
	ASSERT(strstr(p, "\"rule\":\"gloomy \\\"class\\\"\""));
}

TEST(alerts_written_once)
{
	const char *path = tmp_path("a.ndjson"), *p;
	struct report *r = open_sink(path, REPORT_NDJSON, REPORT_SUMMARY, 0, 0);
	int alerts = 0;

	fill_snapshot(&snap, 1);
	report_emit(r, &snap);
	report_emit(r, &snap); /* same alerts again: not repeated */
	snap.alerts[2] = snap.alerts[1];
	snap.alerts[2].seq = 3;
	snap.n_alerts = 3;
	snap.alerts_total = 3;
	report_emit(r, &snap);
	report_close(r);
	for (p = slurp(path); (p = strstr(p, "\"type\":\"alert\"")); p++)
		alerts++;
	ASSERT_EQ(alerts, 3);
	ASSERT_EQ(count_lines(slurp(path)), 6);
}

/* report_alerts() writes the alerts as they fire; the next report_emit()
 * does not repeat them. */
TEST(alerts_go_out_before_the_summary)
{
	const char *path = tmp_path("a2.ndjson"), *p;
	struct report *r = open_sink(path, REPORT_NDJSON, REPORT_SUMMARY, 0, 0);
	char line[4096];

	fill_snapshot(&snap, 1);
	ASSERT_EQ(report_alerts(r, &snap), EMO_OK);
	ASSERT_EQ(report_alerts(r, &snap), EMO_OK); /* nothing new */
	report_emit(r, &snap);
	report_close(r);
	p = slurp(path);
	ASSERT_EQ(count_lines(p), 3);
	ASSERT(next_line(&p, line, sizeof(line)) && strstr(line, "\"type\":\"alert\",") && strstr(line, "\"seq\":1,"));
	ASSERT(next_line(&p, line, sizeof(line)) && strstr(line, "\"seq\":2,"));
	ASSERT(next_line(&p, line, sizeof(line)) && strstr(line, "\"type\":\"summary\""));
}

/* Live sources: Unix time in "time", ISO 8601 local time with its offset in
 * "clock" (and in text lines), the state on every line; source lines in
 * every format. */
TEST(clock_and_source_lines)
{
	const char *path = tmp_path("clk.ndjson"), *p;
	struct report *r;
	char line[4096];
	const char *tz = getenv("TZ");
	char old_tz[64];

	snprintf(old_tz, sizeof(old_tz), "%s", tz ? tz : "");
	setenv("TZ", "CET-1", 1);
	tzset();
	fill_snapshot(&snap, 1);
	snap.time = 902.3;   /* the run's own seconds */
	snap.frame_time = 902.3;
	snap.n_alerts = 0;
	snap.stats.clock = SUMMARY_CLOCK_WALL;
	snap.stats.clock_offset = 1796634000.0; /* 2026-12-07T09:00:00Z at 0 */
	snap.stats.media_time = NAN;
	snap.stats.source_state = SUMMARY_SOURCE_RECONNECTING;
	snap.stats.reconnects = 2;
	r = open_sink(path, REPORT_NDJSON, REPORT_SUMMARY, 0, 0);
	report_emit(r, &snap);
	report_source(r, &snap, SUMMARY_SOURCE_UP);
	report_close(r);
	p = slurp(path);
	ASSERT(next_line(&p, line, sizeof(line)));
	ASSERT(strstr(line, "{\"type\":\"summary\",\"time\":1796634902.300,"
			    "\"clock\":\"2026-12-07T10:15:02.300+01:00\",\"media_time\":null,"
			    "\"source_state\":\"reconnecting\",") == line);
	ASSERT(next_line(&p, line, sizeof(line)));
	ASSERT(strstr(line, "{\"type\":\"source\",\"time\":1796634902.300,") == line);
	ASSERT(strstr(line, "\"source_state\":\"reconnecting\",\"previous\":\"up\",\"reconnects\":2,"));

	path = tmp_path("clk.txt");
	r = open_sink(path, REPORT_TEXT, REPORT_SUMMARY, 0, 0);
	report_emit(r, &snap);
	report_source(r, &snap, SUMMARY_SOURCE_UP);
	report_close(r);
	p = slurp(path);
	ASSERT(next_line(&p, line, sizeof(line)));
	ASSERT(strstr(line, "2026-12-07T10:15:02.300+01:00 up ") == line);
	ASSERT(strstr(line, " source reconnecting"));
	ASSERT(next_line(&p, line, sizeof(line)));
	ASSERT(strstr(line, "2026-12-07T10:15:02.300+01:00 SOURCE reconnecting (was up, 2 reconnects) ") == line);

	path = tmp_path("clk.csv");
	r = open_sink(path, REPORT_CSV, REPORT_SUMMARY, 0, 0);
	report_emit(r, &snap);
	report_source(r, &snap, SUMMARY_SOURCE_UP);
	report_close(r);
	p = slurp(path);
	ASSERT(next_line(&p, line, sizeof(line)));
	ASSERT(strstr(line, ",valence,clock,media_time,source_state"));
	ASSERT(next_line(&p, line, sizeof(line)));
	ASSERT(strstr(line, "summary,1796634902.300,") == line);
	ASSERT(strstr(line, ",2026-12-07T10:15:02.300+01:00,,reconnecting"));
	ASSERT(next_line(&p, line, sizeof(line)));
	ASSERT(strstr(line, "source,1796634902.300,") == line);
	ASSERT(strstr(line, ",up,2,,2026-12-07T10:15:02.300+01:00,,reconnecting"));

	/* a file at full speed: media time, no clock */
	snap.stats.clock = SUMMARY_CLOCK_MEDIA;
	snap.stats.source_state = SUMMARY_SOURCE_ENDED;
	path = tmp_path("media.ndjson");
	r = open_sink(path, REPORT_NDJSON, REPORT_SUMMARY, 0, 0);
	report_source(r, &snap, SUMMARY_SOURCE_UP);
	report_close(r);
	p = slurp(path);
	ASSERT(next_line(&p, line, sizeof(line)));
	ASSERT(strstr(line, "{\"type\":\"source\",\"time\":902.300,\"clock\":null,\"media_time\":902.300,"
			    "\"source_state\":\"ended\",\"previous\":\"up\",") == line);
	if (old_tz[0])
		setenv("TZ", old_tz, 1);
	else
		unsetenv("TZ");
	tzset();
}

/* Without a classifier: the faces-only lines through the same sink (whole
 * lines, counted losses), their own CSV header. */
TEST(faces_only_sink)
{
	const char *path = tmp_path("f.csv"), *p;
	struct report_opts o;
	struct report *r;
	struct summary_totals tot;
	char line[4096];

	report_opts_default(&o);
	o.path = path;
	o.format = REPORT_CSV;
	o.faces_only = "classifier off";
	unlink(path);
	r = report_open(&o, NULL);
	ASSERT(r);
	fill_snapshot(&snap, 2);
	fill_totals(&tot);
	snap.stats.clock = SUMMARY_CLOCK_MEDIA;
	report_emit(r, &snap);
	report_alerts(r, &snap); /* no alert lines in a faces-only sink */
	report_final(r, &snap, &tot);
	report_close(r);
	p = slurp(path);
	ASSERT_EQ(count_lines(p), 3);
	ASSERT(next_line(&p, line, sizeof(line)));
	ASSERT(!strcmp(line, "type,time,faces,status,clock,media_time,source_state"));
	ASSERT(next_line(&p, line, sizeof(line)));
	ASSERT(!strcmp(line, "faces,1714550400.250,2,classifier off,,1714550400.250,up"));
	ASSERT(next_line(&p, line, sizeof(line)));
	ASSERT(!strcmp(line, "final,1714550400.250,3,classifier off,,1714550400.250,up"));

	if (access("/dev/full", W_OK) == 0) {
		struct report_health h;

		o.path = "/dev/full";
		o.format = REPORT_NDJSON;
		r = report_open(&o, NULL);
		ASSERT(r);
		ASSERT_EQ(report_emit(r, &snap), EMO_EIO);
		ASSERT_EQ(report_emit(r, &snap), EMO_EIO);
		report_health(r, &h);
		report_close(r);
		ASSERT_EQ(h.failing, 1);
		ASSERT_EQ(h.error, ENOSPC);
		ASSERT_EQ(h.lost, 2);
	}
}

TEST(hostile_names_cannot_break_lines)
{
	static const enum report_format fmts[3] = {REPORT_TEXT, REPORT_NDJSON, REPORT_CSV};

	fill_snapshot(&snap, 3);
	for (int i = 0; i < 3; i++) {
		const char *path = tmp_path("h.out"), *p;
		struct report *r = open_sink(path, fmts[i], REPORT_SUMMARY, 1, 0);

		ASSERT(r);
		ASSERT_EQ(report_emit(r, &snap), EMO_OK);
		report_close(r);
		p = slurp(path);
		/* header (CSV) + summary + 2 alerts + 3 students, one line each */
		ASSERT_EQ(count_lines(p), 6 + (fmts[i] == REPORT_CSV));
		ASSERT(!strchr(p, '\r'));
		ASSERT(!strchr(p, '\x01'));
		ASSERT(!strstr(p, "\xff"));
		ASSERT(strstr(p, "Zo\xc3\xab \xe2\x9c\x93")); /* UTF-8 kept */
	}
}

TEST(csv_columns_constant_and_header_once)
{
	const char *path = tmp_path("c.csv"), *p;
	struct report *r = open_sink(path, REPORT_CSV, REPORT_SUMMARY, 1, 0);
	struct summary_totals tot;
	char line[4096], f[512];
	int n = 0, cols = -1, headers = 0;

	fill_snapshot(&snap, 3);
	fill_totals(&tot);
	report_emit(r, &snap);
	report_close(r);
	/* appending to the same, non-empty file: no second header */
	{
		struct report_opts o;

		report_opts_default(&o);
		o.path = path;
		o.format = REPORT_CSV;
		o.students = 1;
		r = report_open(&o, NULL);
	}
	ASSERT(r);
	snap.n_alerts = 0;
	report_emit(r, &snap);
	ASSERT_EQ(report_final(r, &snap, &tot), EMO_OK);
	report_close(r);
	p = slurp(path);
	while (next_line(&p, line, sizeof(line))) {
		int c = csv_fields(line, 0, f, sizeof(f));

		if (cols < 0)
			cols = c;
		if (c != cols)
			UNIT_FAILF("%d columns, want %d: %s", c, cols, line);
		headers += !strcmp(f, "type");
		n++;
	}
	ASSERT_EQ(cols, 28);
	ASSERT_EQ(headers, 1);
	ASSERT_EQ(n, 1 + 6 + 4 + 1);
	/* the hostile name survives a round trip through an RFC 4180 reader */
	p = slurp(path);
	while (next_line(&p, line, sizeof(line))) {
		csv_fields(line, 0, f, sizeof(f));
		if (strcmp(f, "student"))
			continue;
		csv_fields(line, 4, f, sizeof(f));
		if (strcmp(f, "102"))
			continue;
		csv_fields(line, 6, f, sizeof(f));
		ASSERT(!strncmp(f, "Bob \"Tables\", \\x", 16));
	}
	/* summary row fields */
	p = slurp(path);
	next_line(&p, line, sizeof(line));
	ASSERT(!strncmp(line, "type,time,uptime,faces,id,seat,name,dominant,", 45));
	next_line(&p, line, sizeof(line));
	csv_fields(line, 7, f, sizeof(f));
	ASSERT_STR(f, "neutral");
	csv_fields(line, 1, f, sizeof(f));
	ASSERT_STR(f, "1714550400.250");
}

/* CSV lines to stdout redirected to path (opened with flags); header count. */
static int stdout_csv_headers(const char *path, int flags)
{
	struct report *r;
	int saved, fd, n = 0;
	const char *p;

	fflush(stdout);
	saved = dup(1);
	fd = open(path, O_WRONLY | O_CREAT | flags, 0600);
	if (saved < 0 || fd < 0 || dup2(fd, 1) < 0)
		return -1;
	close(fd);
	r = report_open(&(struct report_opts){.format = REPORT_CSV}, NULL);
	if (r) {
		report_emit(r, &snap);
		report_close(r);
	}
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	for (p = slurp(path); (p = strstr(p, "type,time,")); p++)
		n++;
	return n;
}

TEST(csv_header_on_stdout)
{
	const char *path = tmp_path("stdout.csv");
	FILE *f = fopen(path, "w");

	ASSERT(f);
	fputs("type,time,old\n", f);
	fclose(f);
	fill_snapshot(&snap, 1);
	snap.n_alerts = 0;
	/* `>> file.csv` continuing a file: no second header */
	ASSERT_EQ(stdout_csv_headers(path, O_APPEND), 1);
	ASSERT_EQ(count_lines(slurp(path)), 2);
	/* `> file.csv`: a header */
	ASSERT_EQ(stdout_csv_headers(path, O_TRUNC), 1);
	ASSERT_EQ(count_lines(slurp(path)), 2);
	ASSERT(!strncmp(slurp(path), "type,time,uptime,", 17));
}

TEST(aggregate_only_has_no_person_data)
{
	static const enum report_format fmts[3] = {REPORT_TEXT, REPORT_NDJSON, REPORT_CSV};
	struct summary_totals tot;

	fill_snapshot(&snap, 3);
	fill_totals(&tot);
	for (int i = 0; i < 3; i++)
		for (int kind = 0; kind < 2; kind++) {
			const char *path = tmp_path("agg.out"), *p;
			struct report *r = open_sink(path, fmts[i], (enum report_kind)kind, 1, 1);

			ASSERT(r);
			ASSERT_EQ(report_emit(r, &snap), EMO_OK);
			ASSERT_EQ(report_final(r, &snap, &tot), EMO_OK);
			report_close(r);
			p = slurp(path);
			ASSERT(count_lines(p) >= 2);
			ASSERT(!strstr(p, "SecretName"));
			ASSERT(!strstr(p, "Bob"));
			ASSERT(!strstr(p, "student"));
			ASSERT(!strstr(p, "track"));
			ASSERT(!strstr(p, "100"));  /* track ids 100.. */
			ASSERT(!strstr(p, "\"id\""));
		}
}

TEST(text_lines)
{
	const char *path = tmp_path("t.log"), *p;
	struct report *r = open_sink(path, REPORT_TEXT, REPORT_SUMMARY, 1, 0);
	struct summary_totals tot;
	char line[4096];

	fill_snapshot(&snap, 2);
	fill_totals(&tot);
	report_emit(r, &snap);
	report_final(r, &snap, &tot);
	report_close(r);
	p = slurp(path);
	next_line(&p, line, sizeof(line));
	ASSERT(strstr(line, "2024-05-01T08:00:00.250Z up 0:01:00 faces 2 mood neutral 0.50 negative_share 0.25 valence 0.00 |") == line);
	ASSERT(strstr(line, "fps 5.0 dropped 4 alerts 2"));
	next_line(&p, line, sizeof(line));
	ASSERT(strstr(line, " ALERT \"gloomy \\\"class\\\"\" value 0.610"));
	next_line(&p, line, sizeof(line));
	next_line(&p, line, sizeof(line));
	ASSERT(strstr(line, "student 100 seat 3 \"SecretName\" present happy 0.70"));
	next_line(&p, line, sizeof(line));
	ASSERT(strstr(line, "student 101 present happy"));
	next_line(&p, line, sizeof(line));
	ASSERT(strstr(line, " final duration 0:01:00 frames 301 max_faces 3 mood neutral 0.60"));
	ASSERT(!next_line(&p, line, sizeof(line)));
}

TEST(source_credentials_redacted)
{
	const char *path = tmp_path("cred.ndjson"), *p;
	struct report *r = open_sink(path, REPORT_NDJSON, REPORT_SUMMARY, 0, 0);
	struct summary_totals tot;

	fill_snapshot(&snap, 1);
	fill_totals(&tot);
	strcpy(snap.stats.source, "rtsp://admin:hunter2@10.0.0.5:554/live?x=a@b");
	tot.stats = snap.stats;
	report_emit(r, &snap);
	report_final(r, &snap, &tot);
	strcpy(snap.stats.source, "/dev/video0");
	report_emit(r, &snap);
	report_close(r);
	p = slurp(path);
	ASSERT(!strstr(p, "hunter2"));
	ASSERT(!strstr(p, "admin"));
	ASSERT(strstr(p, "\"source\":\"rtsp://***@10.0.0.5:554/live?x=a@b\""));
	ASSERT(strstr(p, "\"source\":\"/dev/video0\""));
}

TEST(final_line)
{
	const char *path = tmp_path("f.ndjson"), *p;
	struct report *r = open_sink(path, REPORT_NDJSON, REPORT_SUMMARY, 0, 0);
	struct summary_totals tot;
	char line[4096];

	fill_snapshot(&snap, 1);
	fill_totals(&tot);
	ASSERT_EQ(report_final(r, &snap, &tot), EMO_OK);
	report_close(r);
	p = slurp(path);
	ASSERT(next_line(&p, line, sizeof(line)));
	ASSERT(json_line_ok(line));
	ASSERT(!strncmp(line, "{\"type\":\"final\"", 15));
	ASSERT(strstr(line, "\"duration\":60.250"));
	ASSERT(strstr(line, "\"mood_share\":{\"angry\":0.000"));
	ASSERT(strstr(line, "\"alerts\":2"));
	ASSERT(!next_line(&p, line, sizeof(line)));
}

TEST(record_timeline)
{
	const char *path = tmp_path("rec.csv"), *p;
	struct report *r;
	char line[4096], f[256];
	int n = 0, tracks = 0;

	ASSERT_EQ(report_format_from_path("x/rec.CSV"), REPORT_CSV);
	ASSERT_EQ(report_format_from_path("rec.ndjson"), REPORT_NDJSON);
	ASSERT_EQ(report_format_from_path("rec.jsonl"), REPORT_NDJSON);
	ASSERT_EQ(report_format_from_path("rec.log"), REPORT_TEXT);
	ASSERT_EQ(report_format_from_path("rec"), -1);
	ASSERT_EQ(report_format_from_path(".csv"), -1);
	r = open_sink(path, REPORT_CSV, REPORT_RECORD, 0, 0);
	fill_snapshot(&snap, 4); /* student index 2 absent */
	for (int i = 0; i < 3; i++) {
		snap.frame_time += 0.2;
		snap.seq++;
		ASSERT_EQ(report_emit(r, &snap), EMO_OK);
		ASSERT_EQ(report_emit(r, &snap), EMO_OK); /* same frame: skipped */
	}
	report_close(r);
	p = slurp(path);
	while (next_line(&p, line, sizeof(line))) {
		ASSERT_EQ(csv_fields(line, 0, f, sizeof(f)), 31);
		tracks += !strcmp(f, "track");
		n++;
	}
	ASSERT_EQ(n, 1 + 3 * (1 + 3));
	ASSERT_EQ(tracks, 9);

	path = tmp_path("rec.ndjson");
	r = open_sink(path, REPORT_NDJSON, REPORT_RECORD, 0, 0);
	report_emit(r, &snap);
	report_close(r);
	p = slurp(path);
	n = 0;
	while (next_line(&p, line, sizeof(line))) {
		ASSERT(json_line_ok(line));
		n++;
	}
	ASSERT_EQ(n, 4);
	ASSERT(strstr(slurp(path), "\"box\":[0.0,20.0,64.0,64.0]"));
	ASSERT(strstr(slurp(path), "\"raw\":{\"angry\":0.000,"));
}

TEST(reopen_after_rename)
{
	const char *path = tmp_path("rot.csv");
	char moved[600];
	struct report *r = open_sink(path, REPORT_CSV, REPORT_SUMMARY, 0, 0);

	snprintf(moved, sizeof(moved), "%s.1", path);
	fill_snapshot(&snap, 1);
	snap.n_alerts = 0;
	report_emit(r, &snap);
	ASSERT_EQ(rename(path, moved), 0);
	report_emit(r, &snap); /* still into the moved file */
	ASSERT_EQ(report_reopen(r), EMO_OK);
	report_emit(r, &snap);
	ASSERT_STR(report_path(r), path);
	report_close(r);
	ASSERT_EQ(count_lines(slurp(moved)), 3);
	ASSERT_EQ(count_lines(slurp(path)), 2); /* a header again, then the line */
	ASSERT(!strncmp(slurp(path), "type,", 5));
	unlink(moved);
	/* reopen when the directory is gone: old stream kept, error */
	{
		struct report_opts o;
		char dir[600], file[700];

		snprintf(dir, sizeof(dir), "%s/sub", tmpdir);
		snprintf(file, sizeof(file), "%s/x.log", dir);
		ASSERT_EQ(mkdir(dir, 0700), 0);
		report_opts_default(&o);
		o.path = file;
		r = report_open(&o, NULL);
		ASSERT(r);
		unlink(file);
		rmdir(dir);
		ASSERT_EQ(report_reopen(r), EMO_EIO);
		ASSERT_EQ(report_emit(r, &snap), EMO_OK);
		report_close(r);
	}
}

TEST(open_errors_and_write_errors)
{
	struct report_opts o;
	struct emo_err err;
	struct report *r;

	report_opts_default(&o);
	o.path = tmpdir; /* a directory */
	memset(&err, 0, sizeof(err));
	ASSERT(report_open(&o, &err) == NULL);
	ASSERT(strstr(err.file, "emotop-report"));
	o.format = (enum report_format)7;
	o.path = NULL;
	ASSERT(report_open(&o, NULL) == NULL);
	ASSERT_EQ(report_emit(NULL, &snap), EMO_EINVAL);
	ASSERT_EQ(report_final(NULL, &snap, NULL), EMO_EINVAL);
	ASSERT_EQ(report_reopen(NULL), EMO_EINVAL);
	report_close(NULL);
	ASSERT_EQ(report_format_from_name("ndjson"), REPORT_NDJSON);
	ASSERT_EQ(report_format_from_name("csv"), REPORT_CSV);
	ASSERT_EQ(report_format_from_name("text"), REPORT_TEXT);
	ASSERT_EQ(report_format_from_name("xml"), -1);
	ASSERT_EQ(report_format_from_name(NULL), -1);
	ASSERT_STR(report_format_name(REPORT_CSV), "csv");
	if (access("/dev/full", W_OK))
		SKIP("no /dev/full");
	report_opts_default(&o);
	o.path = "/dev/full";
	r = report_open(&o, NULL);
	ASSERT(r);
	fill_snapshot(&snap, 1);
	ASSERT_EQ(report_emit(r, &snap), EMO_EIO);
	report_close(r);
}

static struct summary_point *mk_points(int n)
{
	struct summary_point *pts = calloc((size_t)n, sizeof(*pts));

	for (int i = 0; pts && i < n; i++) {
		pts[i].t0 = 1000.0 + 5.0 * i;
		pts[i].span = 5.0;
		pts[i].frames = i == n / 2 ? 0 : 25; /* one gap */
		pts[i].faces = 3;
		pts[i].mean[EMO_HAPPY] = 0.5f + 0.4f * sinf(i * 0.1f);
		pts[i].mean[EMO_NEUTRAL] = 1.0f - pts[i].mean[EMO_HAPPY];
		pts[i].dominant = pts[i].frames ? EMO_HAPPY : -1;
		pts[i].negative = 0.1f;
	}
	return pts;
}

static int python_xml_ok(const char *path)
{
	char cmd[1024];

	if (system("python3 -c 'import xml.dom.minidom' >/dev/null 2>&1"))
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' '%s' >/dev/null 2>&1",
		 path);
	return system(cmd) == 0;
}

TEST(svg_well_formed)
{
	const char *path = tmp_path("mood.svg"), *p;
	struct summary_point *pts = mk_points(200);
	struct emo_err err;
	int py;

	ASSERT(pts);
	ASSERT_EQ(report_write_svg(path, "Room <B&C> \"1\" 'x' \x01 Zo\xc3\xab \xff", pts, 200, &err),
		  EMO_OK);
	free(pts);
	p = slurp(path);
	ASSERT(p);
	ASSERT(!strncmp(p, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 44));
	ASSERT(xml_well_formed(p));
	ASSERT(strstr(p, "Room &lt;B&amp;C&gt; &quot;1&quot; &apos;x&apos;"));
	ASSERT(strstr(p, "Zo\xc3\xab"));
	ASSERT(!strstr(p, "\xff"));
	ASSERT(strstr(p, ">happy</text>"));
	ASSERT(strstr(p, ">negative share</text>"));
	ASSERT(strstr(p, ">16:00</text>") || strstr(p, ">15:00</text>")); /* axis labels */
	ASSERT(strstr(p, "stroke-dasharray"));
	/* the gap splits the lines: more than one M per series */
	ASSERT(strstr(p, " M"));
	py = python_xml_ok(path);
	if (py >= 0)
		ASSERT_EQ(py, 1);
	/* the checker itself rejects broken XML */
	ASSERT(!xml_well_formed("<svg><g></svg>"));
	ASSERT(!xml_well_formed("<svg a=\"x&y\"/>"));
	ASSERT(!xml_well_formed("<svg>a & b</svg>"));
}

/* Three students of a session: a named seat, an unnamed track, a hostile name. */
static void fill_attendance(struct summary_attendee *a)
{
	memset(a, 0, 3 * sizeof(*a));
	for (int i = 0; i < 3; i++) {
		a[i].id = 100 + i;
		a[i].seat = i == 0 ? 3 : -1;
		strcpy(a[i].name, i == 0 ? "SecretName" : i == 1 ? "" : hostile);
		a[i].first_seen = 1714550340.0 + i;
		a[i].last_seen = 1714550400.0;
		a[i].present = 45.5 - i;
		a[i].present_share = (float)((45.5 - i) / 60.25);
		a[i].frames = 200 + i;
		a[i].share[EMO_HAPPY] = 0.75f;
		a[i].share[EMO_SAD] = 0.25f;
		a[i].dominant = EMO_HAPPY;
	}
}

TEST(student_final_lines)
{
	static const enum report_format fmts[3] = {REPORT_TEXT, REPORT_NDJSON, REPORT_CSV};
	struct summary_attendee a[3];
	struct summary_totals tot;
	char line[4096], field[256];

	fill_snapshot(&snap, 0);
	fill_totals(&tot);
	fill_attendance(a);
	for (int i = 0; i < 3; i++) {
		const char *path = tmp_path("sf.out"), *p;
		struct report *r = open_sink(path, fmts[i], REPORT_SUMMARY, 1, 0);

		ASSERT(r);
		ASSERT_EQ(report_students_final(r, &snap, a, 3), EMO_OK);
		ASSERT_EQ(report_final(r, &snap, &tot), EMO_OK);
		report_close(r);
		p = slurp(path);
		if (fmts[i] == REPORT_CSV)
			ASSERT(next_line(&p, line, sizeof(line))); /* header */
		for (int k = 0; k < 3; k++) {
			ASSERT(next_line(&p, line, sizeof(line)));
			ASSERT(strstr(line, "student_final"));
			if (fmts[i] == REPORT_NDJSON) {
				ASSERT(json_line_ok(line));
				ASSERT(!strncmp(line, "{\"type\":\"student_final\"", 23));
				ASSERT(strstr(line, k == 0 ? "\"seat\":3,\"name\":\"SecretName\""
						   : "\"seat\":null"));
				ASSERT(strstr(line, k == 0 ? "\"present\":45.500,\"present_share\":0.755,\"frames\":200"
						   : "\"frames\":20"));
				ASSERT(strstr(line, "\"dominant\":\"happy\",\"share\":{\"angry\":0.000,\"disgust\":0.000,"
						    "\"fear\":0.000,\"happy\":0.750,\"sad\":0.250"));
				if (k == 1)
					ASSERT(strstr(line, "\"name\":null"));
			} else if (fmts[i] == REPORT_CSV) {
				ASSERT_EQ(csv_fields(line, -1, NULL, 0), 28);
				ASSERT(csv_fields(line, 2, field, sizeof(field)));
				ASSERT_STR(field, k == 0 ? "45.500" : k == 1 ? "44.500" : "43.500");
				ASSERT(csv_fields(line, 7, field, sizeof(field)));
				ASSERT_STR(field, "happy");
				ASSERT(csv_fields(line, 13, field, sizeof(field)));
				ASSERT_STR(field, "0.750");
			} else if (k == 0) {
				ASSERT(strstr(line, " student_final 100 seat 3 \"SecretName\" present 0:00:45 (76%) "
						    "frames 200 mood happy 0.75 | share angry 0.00"));
			}
		}
		ASSERT(next_line(&p, line, sizeof(line)));
		ASSERT(strstr(line, "final"));
		ASSERT(!next_line(&p, line, sizeof(line)));
	}
}

/* Never without opts.students, under aggregate_only or in a record; a
 * faces-only sink writes attendance without expressions. */
TEST(student_final_only_when_asked)
{
	struct summary_attendee a[3];
	struct report_opts o;
	struct report *r;
	const char *path, *p;
	char line[4096];

	fill_snapshot(&snap, 0);
	fill_attendance(a);
	for (int v = 0; v < 3; v++) {
		path = tmp_path("sfn.out");
		r = open_sink(path, REPORT_NDJSON, v == 2 ? REPORT_RECORD : REPORT_SUMMARY, v != 0, v == 1);
		ASSERT(r);
		ASSERT_EQ(report_students_final(r, &snap, a, 3), EMO_OK);
		report_close(r);
		p = slurp(path);
		ASSERT_EQ(count_lines(p), 0);
	}
	ASSERT_EQ(report_students_final(NULL, &snap, a, 3), EMO_EINVAL);

	path = tmp_path("sff.ndjson");
	unlink(path);
	report_opts_default(&o);
	o.path = path;
	o.format = REPORT_NDJSON;
	o.students = 1;
	o.faces_only = "classifier off";
	r = report_open(&o, NULL);
	ASSERT(r);
	ASSERT_EQ(report_students_final(r, &snap, a, 1), EMO_OK);
	report_close(r);
	p = slurp(path);
	ASSERT(next_line(&p, line, sizeof(line)));
	ASSERT(json_line_ok(line));
	ASSERT(strstr(line, "\"present\":45.500"));
	ASSERT(strstr(line, "\"dominant\":null,\"share\":null}"));
	ASSERT(!strstr(line, "happy"));
}

TEST(svg_students_table)
{
	const char *path = tmp_path("students.svg"), *p;
	struct summary_point *pts = mk_points(20);
	struct summary_attendee a[3];
	struct emo_err err;
	int py;

	ASSERT(pts);
	fill_attendance(a);
	ASSERT_EQ(report_write_svg_students(path, NULL, pts, 20, a, 3, &err), EMO_OK);
	free(pts);
	p = slurp(path);
	ASSERT(p);
	ASSERT(xml_well_formed(p));
	ASSERT(strstr(p, "height=\"546\"")); /* 440 + 18 * (3 + 2) + 16 */
	ASSERT(strstr(p, ">students (3)</text>"));
	ASSERT(strstr(p, ">SecretName</text>"));
	ASSERT(strstr(p, ">#101</text>"));       /* no name: the id */
	ASSERT(strstr(p, ">Bob &quot;Tables&quot;")); /* escaped */
	ASSERT(strstr(p, ">0:46</text>"));       /* 45.5 s present */
	ASSERT(strstr(p, ">76%</text>"));
	ASSERT(strstr(p, "<title>happy 0.750</title>"));
	py = python_xml_ok(path);
	if (py >= 0)
		ASSERT_EQ(py, 1);
	/* no students: the chart alone, as report_write_svg() */
	ASSERT_EQ(report_write_svg_students(path, NULL, NULL, 0, NULL, 0, &err), EMO_OK);
	p = slurp(path);
	ASSERT(!strstr(p, "students ("));
	ASSERT(strstr(p, "height=\"440\""));
	ASSERT_EQ(report_write_svg_students(path, NULL, NULL, 0, NULL, 2, &err), EMO_EINVAL);
}

TEST(svg_empty_and_errors)
{
	const char *path = tmp_path("empty.svg");
	struct emo_err err;
	struct summary_point one;

	ASSERT_EQ(report_write_svg(path, NULL, NULL, 0, &err), EMO_OK);
	ASSERT(xml_well_formed(slurp(path)));
	ASSERT(strstr(slurp(path), "no data"));
	memset(&one, 0, sizeof(one));
	one.t0 = 3;
	one.span = 5;
	one.frames = 1;
	one.dominant = EMO_SAD;
	one.mean[EMO_SAD] = 1;
	ASSERT_EQ(report_write_svg(path, "one", &one, 1, &err), EMO_OK);
	ASSERT(xml_well_formed(slurp(path)));
	ASSERT_EQ(report_write_svg(NULL, NULL, NULL, 0, &err), EMO_EINVAL);
	ASSERT_EQ(report_write_svg(path, NULL, NULL, 3, &err), EMO_EINVAL);
	memset(&err, 0, sizeof(err));
	ASSERT_EQ(report_write_svg(tmpdir, NULL, &one, 1, &err), EMO_EIO);
	ASSERT(err.msg[0]);
}

TEST(end_to_end_with_summary)
{
	/* tracker -> summary -> report, the way the application wires them */
	struct tracker *tr = track_new(NULL, NULL);
	struct summary_ctx *s = summary_new(NULL, NULL);
	struct summary_point pts[64];
	struct summary_totals tot;
	const char *path = tmp_path("e2e.ndjson"), *p;
	struct report *r = open_sink(path, REPORT_NDJSON, REPORT_SUMMARY, 1, 0);
	char line[4096];
	int n = 0, k;

	for (int f = 0; f < 50; f++) {
		struct track_obs o;

		memset(&o, 0, sizeof(o));
		o.box.x = 100;
		o.box.y = 100;
		o.box.w = 80;
		o.box.h = 80;
		o.probs[f < 25 ? EMO_HAPPY : EMO_SAD] = 1;
		track_update(tr, f * 0.2, 640, 480, &o, 1, NULL);
		summary_update(s, f * 0.2, tr);
		if (f % 5 == 4) {
			summary_snapshot(s, f * 0.2, &snap);
			ASSERT_EQ(report_emit(r, &snap), EMO_OK);
		}
	}
	summary_totals(s, &tot);
	ASSERT_EQ(report_final(r, &snap, &tot), EMO_OK);
	report_close(r);
	k = summary_history(s, pts, 64);
	ASSERT_EQ(report_write_svg(tmp_path("e2e.svg"), "e2e", pts, k, NULL), EMO_OK);
	ASSERT(xml_well_formed(slurp(tmp_path("e2e.svg"))));
	p = slurp(path);
	while (next_line(&p, line, sizeof(line))) {
		ASSERT(json_line_ok(line));
		n++;
	}
	ASSERT_EQ(n, 10 * 2 + 1);
	summary_free(s);
	track_free(tr);
}
/* /dev/full: every line fails and says so, not only the first (a glibc
 * line-buffered stream reports the first failure and then returns success,
 * with only ferror() set). */
TEST(every_lost_line_is_reported)
{
	struct report_health h;
	struct report *r;

	if (access("/dev/full", W_OK))
		SKIP("no /dev/full");
	r = report_open(&(struct report_opts){.format = REPORT_NDJSON, .path = "/dev/full"}, NULL);
	ASSERT(r);
	fill_snapshot(&snap, 1);
	snap.n_alerts = 0; /* one line per emit */
	for (int i = 0; i < 5; i++) {
		int rc = report_emit(r, &snap);

		if (rc != EMO_EIO)
			report_close(r);
		ASSERT_EQ(rc, EMO_EIO);
	}
	report_health(r, &h);
	report_close(r);
	ASSERT(h.failing);
	ASSERT_EQ(h.error, ENOSPC);
	ASSERT_EQ(h.lost, 5);
	ASSERT_EQ(h.lost_total, 5);
}

/* Lines into a file that fills up: RLIMIT_FSIZE with SIGXFSZ ignored makes
 * write(2) stop at the limit (a short write, then EFBIG), a disk that fills
 * up, deterministically. fd is where the sink writes (a file opened with
 * or without O_APPEND, as stdout). Returns -1 when the file ever held a
 * torn line or the counts disagree, else the lines in the file. */
static int fill_up(const char *path, int append, struct report_health *h)
{
	struct rlimit old, lim;
	struct report *r;
	int saved, fd, ok = 0, bad = 0, n = 0;
	char line[4096];
	const char *p;
	void (*old_xfsz)(int);

	fflush(stdout);
	unlink(path);
	saved = dup(1);
	fd = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0600);
	if (saved < 0 || fd < 0 || dup2(fd, 1) < 0 || getrlimit(RLIMIT_FSIZE, &old))
		return -1;
	close(fd);
	r = report_open(&(struct report_opts){.format = REPORT_NDJSON}, NULL);
	lim = old;
	lim.rlim_cur = 2500; /* about 3 lines */
	old_xfsz = signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &lim);
	for (int i = 0; r && i < 8; i++) {
		int rc = report_emit(r, &snap);

		ok += rc == EMO_OK;
		bad += rc == EMO_EIO;
	}
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, old_xfsz);
	/* the disk has room again: the next line goes through */
	if (!r || ok < 1 || bad < 1 || report_emit(r, &snap) != EMO_OK)
		n = -1;
	report_health(r, h);
	report_close(r);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	if (n < 0 || h->lost != bad || h->lost_total != bad || h->failing || h->error != EFBIG)
		return -1;
	p = slurp(path);
	if (!*p || p[strlen(p) - 1] != '\n')
		return -1;
	while (next_line(&p, line, sizeof(line))) {
		if (!json_line_ok(line))
			return -1;
		n++;
	}
	return n == ok + 1 ? n : -1;
}

TEST(full_disk_leaves_no_torn_line)
{
	struct report_health h;

	fill_snapshot(&snap, 1);
	snap.n_alerts = 0;
	ASSERT(fill_up(tmp_path("full-append.ndjson"), 1, &h) >= 2); /* --log, >> file */
	ASSERT(fill_up(tmp_path("full-trunc.ndjson"), 0, &h) >= 2);  /* > file */
}


static void cleanup(void)
{
	char cmd[600];

	if (tmpdir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
}

int main(int argc, char **argv)
{
	unit_init(argc, argv);
	if (!tmp_path("x"))
		return 1;
	RUN(fixed_numbers);
	RUN(numbers_ignore_locale);
	RUN(json_escaping);
	RUN(random_bytes_always_escape_validly);
	RUN(csv_quoting);
	RUN(ndjson_summary_lines_parse);
	RUN(alerts_written_once);
	RUN(hostile_names_cannot_break_lines);
	RUN(csv_columns_constant_and_header_once);
	RUN(csv_header_on_stdout);
	RUN(aggregate_only_has_no_person_data);
	RUN(text_lines);
	RUN(source_credentials_redacted);
	RUN(final_line);
	RUN(record_timeline);
	RUN(reopen_after_rename);
	RUN(open_errors_and_write_errors);
	RUN(every_lost_line_is_reported);
	RUN(full_disk_leaves_no_torn_line);
	RUN(alerts_go_out_before_the_summary);
	RUN(clock_and_source_lines);
	RUN(faces_only_sink);
	RUN(svg_well_formed);
	RUN(svg_empty_and_errors);
	RUN(student_final_lines);
	RUN(student_final_only_when_asked);
	RUN(svg_students_table);
	RUN(end_to_end_with_summary);
	cleanup();
	return unit_done();
}
