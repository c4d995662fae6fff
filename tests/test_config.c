/* test_config.c - schema, YAML loading and its errors, overrides, dump
 * round trip, seat/gallery regions. Run from the repository root. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emotop/config.h"
#include "emotop/emotion.h"
#include "unit.h"

static int load_str(struct emo_config *cfg, const char *yaml, struct emo_err *err)
{
	memset(err, 0, sizeof(*err));
	return config_load_mem(cfg, yaml, strlen(yaml), "t.yaml", err);
}

/* Load text that must fail; checks line:col and a piece of the message. */
static int expect_err(const char *yaml, size_t len, int line, int col, const char *needle)
{
	struct emo_config cfg, before;
	struct emo_err err;
	int rc;

	config_defaults(&cfg);
	cfg.fps = 7; /* something a failed load must not undo */
	before = cfg;
	memset(&err, 0, sizeof(err));
	rc = config_load_mem(&cfg, yaml, len, "t.yaml", &err);
	if (rc != EMO_ECONFIG) {
		fprintf(stderr, "  rc %d for: %s\n", rc, yaml);
		return 0;
	}
	if (memcmp(&cfg, &before, sizeof(cfg))) {
		fprintf(stderr, "  config changed by a failed load\n");
		return 0;
	}
	if (err.line != line || err.col != col || !strstr(err.msg, needle) || strcmp(err.file, "t.yaml")) {
		fprintf(stderr, "  got %s:%d:%d: %s\n  want %d:%d: ...%s...\n", err.file, err.line,
			err.col, err.msg, line, col, needle);
		return 0;
	}
	return 1;
}

TEST(defaults)
{
	struct emo_config c;

	config_defaults(&c);
	ASSERT_STR(c.source, "demo");
	ASSERT_NEAR(c.fps, 5, 0);
	ASSERT_EQ(c.realtime, 0);
	ASSERT_EQ(c.detector.min_face, 0); /* auto */
	ASSERT_NEAR(c.detector.threshold, 0.5, 0);
	ASSERT_STR(c.detector.model, "");
	ASSERT_EQ(c.classifier.flip_tta, 0);
	ASSERT_EQ(c.classifier.scale_tta, 0);
	ASSERT_NEAR(c.summary.window, 60, 0);
	ASSERT_EQ(c.output.mode, CONFIG_MODE_AUTO);
	ASSERT_EQ(c.output.format, CONFIG_FORMAT_TEXT);
	ASSERT_EQ(c.n_seats, 0);
	ASSERT_EQ(c.n_alerts, 0);
	ASSERT_EQ(c.gallery.rows, 0);
	ASSERT_EQ(c.ui.color, 1);
	ASSERT_EQ(config_check(&c, NULL), EMO_OK);
}

TEST(schema_table_is_complete)
{
	int n;
	const struct config_key *k = config_schema(&n);

	ASSERT(n >= 30);
	for (int i = 0; i < n; i++) {
		ASSERT(k[i].key && *k[i].key);
		ASSERT(k[i].help && *k[i].help);
		ASSERT(k[i].def && *k[i].def);
		ASSERT(k[i].unit);
		ASSERT(config_key_find(k[i].key) == &k[i]);
		if (k[i].type == CONFIG_T_INT || k[i].type == CONFIG_T_FLOAT)
			ASSERT(k[i].min <= k[i].max);
		if (k[i].type == CONFIG_T_ENUM)
			ASSERT(k[i].choices && strchr(k[i].choices, '|'));
		/* an integer's keyword is one word, stored as 0, below its range */
		if (k[i].type == CONFIG_T_INT && k[i].choices)
			ASSERT(!strchr(k[i].choices, '|') && k[i].min > 0);
		for (int j = 0; j < i; j++)
			ASSERT(strcmp(k[i].key, k[j].key));
	}
	ASSERT(config_key_find("nope") == NULL);
	ASSERT(config_key_find(NULL) == NULL);
}

TEST(empty_and_comment_files_are_defaults)
{
	struct emo_config a, b;
	struct emo_err err;
	const char *empties[] = {"", "\n\n", "# only a comment\n", "---\n", "~\n", "---\n...\n",
				 "\xef\xbb\xbf# BOM then comment\n"};

	config_defaults(&a);
	for (size_t i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		config_defaults(&b);
		ASSERT_EQ(load_str(&b, empties[i], &err), EMO_OK);
		ASSERT(!memcmp(&a, &b, sizeof(a)));
	}
}

TEST(values_are_applied)
{
	struct emo_config c;
	struct emo_err err;
	const char *y =
		"source: webcam:1\n"
		"fps: 2.5\n"
		"realtime: yes\n"
		"duration: 30\n"
		"detector:\n  min_face: 40\n  threshold: 0.75\n  model: /tmp/face.qnn\n"
		"classifier: {model: 'my model.qnn', flip_tta: on, scale_tta: on}\n"
		"tracking: {iou: 0.5, ttl: 3, half_life: 0}\n"
		"summary:\n  window: 120\n"
		"output:\n  mode: headless\n  format: ndjson\n  interval: 0.5\n"
		"  log: out.log\n  per_student: TRUE\n  aggregate_only: 0\n"
		"  record: rec.csv\n  report_svg: mood.svg\n"
		"ui: {ascii: true, color: No}\n"
		"seats:\n"
		"  - name: Ana\n    x: 0\n    y: 0\n    w: 0.5\n    h: 1\n"
		"  - {name: \"Jos\xc3\xa9\", x: 320, y: 0, w: 320, h: 480}\n"
		"  - {x: 0.5, y: 0, w: 0.5, h: 0.5}\n"
		"alerts:\n"
		"  - {name: gloomy, condition: \"negative_share > 0.5\", for: 30}\n"
		"  - name: sleepy\n    emotion: neutral\n    above: 0.8\n"
		"  - {name: empty, condition: faces<1}\n"
		"  - {emotion: happy, below: 0.1, for: 5}\n";

	config_defaults(&c);
	ASSERT_EQ(load_str(&c, y, &err), EMO_OK);
	ASSERT_STR(c.source, "webcam:1");
	ASSERT_NEAR(c.fps, 2.5, 0);
	ASSERT_EQ(c.realtime, 1);
	ASSERT_NEAR(c.duration, 30, 0);
	ASSERT_EQ(c.detector.min_face, 40);
	ASSERT_NEAR(c.detector.threshold, 0.75, 0);
	ASSERT_STR(c.detector.model, "/tmp/face.qnn");
	ASSERT_STR(c.classifier.model, "my model.qnn");
	ASSERT_EQ(c.classifier.flip_tta, 1);
	ASSERT_EQ(c.classifier.scale_tta, 1);
	ASSERT_NEAR(c.tracking.iou, 0.5, 0);
	ASSERT_NEAR(c.tracking.ttl, 3, 0);
	ASSERT_NEAR(c.tracking.half_life, 0, 0);
	ASSERT_NEAR(c.summary.window, 120, 0);
	ASSERT_EQ(c.output.mode, CONFIG_MODE_HEADLESS);
	ASSERT_EQ(c.output.format, CONFIG_FORMAT_NDJSON);
	ASSERT_NEAR(c.output.interval, 0.5, 0);
	ASSERT_STR(c.output.log, "out.log");
	ASSERT_EQ(c.output.per_student, 1);
	ASSERT_EQ(c.output.aggregate_only, 0);
	ASSERT_STR(c.output.record, "rec.csv");
	ASSERT_STR(c.output.report_svg, "mood.svg");
	ASSERT_EQ(c.ui.ascii, 1);
	ASSERT_EQ(c.ui.color, 0);
	ASSERT_EQ(c.n_seats, 3);
	ASSERT_STR(c.seats[0].name, "Ana");
	ASSERT_EQ(c.seats[0].frac, 1);
	ASSERT_NEAR(c.seats[0].h, 1, 0);
	ASSERT_STR(c.seats[1].name, "Jos\xc3\xa9");
	ASSERT_EQ(c.seats[1].frac, 0);
	ASSERT_NEAR(c.seats[1].x, 320, 0);
	ASSERT_STR(c.seats[2].name, "seat3");
	ASSERT_EQ(c.n_alerts, 4);
	ASSERT_STR(c.alerts[0].name, "gloomy");
	ASSERT_EQ(c.alerts[0].metric, CONFIG_METRIC_NEGATIVE);
	ASSERT_EQ(c.alerts[0].op, CONFIG_OP_GT);
	ASSERT_NEAR(c.alerts[0].threshold, 0.5, 1e-7);
	ASSERT_NEAR(c.alerts[0].for_s, 30, 0);
	ASSERT_EQ(c.alerts[1].metric, EMO_NEUTRAL);
	ASSERT_EQ(c.alerts[1].op, CONFIG_OP_GT);
	ASSERT_NEAR(c.alerts[1].threshold, 0.8, 1e-7);
	ASSERT_NEAR(c.alerts[1].for_s, 0, 0);
	ASSERT_EQ(c.alerts[2].metric, CONFIG_METRIC_FACES);
	ASSERT_EQ(c.alerts[2].op, CONFIG_OP_LT);
	ASSERT_EQ(c.alerts[3].metric, EMO_HAPPY);
	ASSERT_EQ(c.alerts[3].op, CONFIG_OP_LT);
	ASSERT_STR(c.alerts[3].name, "alert4");
}

TEST(later_load_overrides_only_its_keys)
{
	struct emo_config c;
	struct emo_err err;

	config_defaults(&c);
	ASSERT_EQ(load_str(&c, "fps: 9\nseats: [{x: 0, y: 0, w: 1, h: 1}]\n", &err), EMO_OK);
	ASSERT_EQ(load_str(&c, "detector: {min_face: 30}\n", &err), EMO_OK);
	ASSERT_NEAR(c.fps, 9, 0);
	ASSERT_EQ(c.detector.min_face, 30);
	ASSERT_EQ(c.n_seats, 1);
	ASSERT_EQ(load_str(&c, "seats: []\n", &err), EMO_OK);
	ASSERT_EQ(c.n_seats, 0);
	ASSERT_EQ(load_str(&c, "seats:\nsource: ~\n", &err), EMO_OK);
	ASSERT_STR(c.source, "");
}

TEST(bool_words)
{
	const char *t[] = {"true", "True", "TRUE", "yes", "Yes", "on", "ON", "1"};
	const char *f[] = {"false", "False", "no", "NO", "off", "Off", "0"};
	struct emo_config c;
	struct emo_err err;
	char y[64];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		config_defaults(&c);
		snprintf(y, sizeof(y), "realtime: %s\n", t[i]);
		ASSERT_EQ(load_str(&c, y, &err), EMO_OK);
		ASSERT_EQ(c.realtime, 1);
	}
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		config_defaults(&c);
		c.realtime = 1;
		snprintf(y, sizeof(y), "realtime: %s\n", f[i]);
		ASSERT_EQ(load_str(&c, y, &err), EMO_OK);
		ASSERT_EQ(c.realtime, 0);
	}
	ASSERT(expect_err("realtime: y\n", 12, 1, 11, "expected a boolean"));
	ASSERT(expect_err("realtime: \"true\"\n", 17, 1, 11, "expected a boolean"));
	ASSERT(expect_err("realtime: 2\n", 12, 1, 11, "expected a boolean"));
}

TEST(numbers_are_strict)
{
	static const char *const bad[] = {
		"fps: 5x\n", "fps: 0x10\n", "fps: inf\n", "fps: 1e999\n", "fps: \" 5\"\n",
		"fps: 5 fps\n", "fps: ''\n", "fps:\n", "fps: ~\n", "detector: {min_face: 20.5}\n",
		"detector: {min_face: 1e3}\n", "detector: {min_face: -20}\n", "detector: {min_face: 0x20}\n",
	};
	struct emo_config c;
	struct emo_err err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		config_defaults(&c);
		ASSERT_EQ(load_str(&c, bad[i], &err), EMO_ECONFIG);
		ASSERT_EQ(err.line, 1);
		ASSERT(err.col > 1);
		ASSERT(strstr(err.msg, "fps") || strstr(err.msg, "min_face"));
	}
	/* min_face's keyword: auto (0) unquoted, nothing like it; 0 itself is
	 * out of range */
	config_defaults(&c);
	ASSERT_EQ(load_str(&c, "detector: {min_face: 30}\n", &err), EMO_OK);
	ASSERT_EQ(load_str(&c, "detector: {min_face: auto}\n", &err), EMO_OK);
	ASSERT_EQ(c.detector.min_face, 0);
	ASSERT_EQ(load_str(&c, "detector: {min_face: 24}\n", &err), EMO_OK);
	ASSERT_EQ(load_str(&c, "detector: {min_face: 'auto'}\n", &err), EMO_OK); /* as yq writes it */
	ASSERT_EQ(c.detector.min_face, 0);
	ASSERT(expect_err("detector: {min_face: [1]}\n", strlen("detector: {min_face: [1]}\n"), 1, 22,
			  "expected an integer or auto, got a list"));
	ASSERT(expect_err("detector: {min_face: Auto}\n", strlen("detector: {min_face: Auto}\n"), 1, 22, "expected an integer or auto, got \"Auto\""));
	ASSERT(expect_err("detector: {min_face: 0}\n", strlen("detector: {min_face: 0}\n"), 1, 22, "out of range [8, 4096] (or auto)"));
	/* the command line's way in, and the dump */
	ASSERT_EQ(config_set(&c, "detector.min_face", "16", &err), EMO_OK);
	ASSERT_EQ(c.detector.min_face, 16);
	ASSERT_EQ(config_set(&c, "detector.min_face", "auto", &err), EMO_OK);
	ASSERT_EQ(c.detector.min_face, 0);
	ASSERT_EQ(config_set(&c, "detector.min_face", "7", &err), EMO_ECONFIG);
	ASSERT_EQ(c.detector.min_face, 0);
	config_defaults(&c);
	ASSERT_EQ(load_str(&c, "fps: 1.5e1\ndetector: {min_face: +24}\n", &err), EMO_OK);
	ASSERT_NEAR(c.fps, 15, 0);
	ASSERT_EQ(c.detector.min_face, 24);
	ASSERT_EQ(load_str(&c, "fps: 120\n", &err), EMO_OK);
	ASSERT(expect_err("fps: 120.001\n", 13, 1, 6, "out of range [0.1, 120]"));
}

TEST(binary_and_non_utf8)
{
	static const char nul[] = "fps: 5\nrealtime: t\0rue\n";
	static const char latin1[] = "seats:\n  - {name: Jos\xe9, x: 0, y: 0, w: 1, h: 1}\n";
	static const char overlong[] = "source: \xc0\xaf\n";
	static const char surrogate[] = "source: \xed\xa0\x80\n";
	static const char cut[] = "source: \xe2\x82";
	static const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
	static const char ctrl[] = "source: a\x01b\n";

	ASSERT(expect_err(nul, sizeof(nul) - 1, 2, 12, "binary"));
	ASSERT(expect_err(latin1, sizeof(latin1) - 1, 2, 15, "not valid UTF-8"));
	ASSERT(expect_err(overlong, sizeof(overlong) - 1, 1, 9, "not valid UTF-8"));
	ASSERT(expect_err(surrogate, sizeof(surrogate) - 1, 1, 9, "not valid UTF-8"));
	ASSERT(expect_err(cut, sizeof(cut) - 1, 1, 9, "not valid UTF-8"));
	ASSERT(expect_err(png, sizeof(png) - 1, 1, 1, "not valid UTF-8"));
	ASSERT(expect_err(ctrl, sizeof(ctrl) - 1, 1, 10, "control characters"));
}

/* YAML tags are refused: the schema types every key, and a tag would be
 * ignored silently (!!binary, !!int, a local !custom one). */
#define ERR(y, l, c, n) expect_err(y, strlen(y), l, c, n)
TEST(yaml_tags_refused)
{
	struct emo_config c;
	struct emo_err err;

	ASSERT(ERR("fps: !!int 5\n", 1, 6, "YAML tags such as '!!int' are not allowed"));
	ASSERT(ERR("source: !custom demo\n", 1, 9, "'!custom'"));
	ASSERT(ERR("output:\n  room: !!binary aGVsbG8=\n", 2, 9, "'!!binary'"));
	ASSERT(ERR("output: !!omap\n  room: lab\n", 1, 9, "'!!omap'"));
	ASSERT(ERR("gallery:\n  names: !names [a, b]\n", 2, 10, "'!names'"));
	ASSERT(ERR("gallery:\n  names: [a, !x b]\n", 2, 14, "'!x'"));
	/* untagged, and plain strings holding '!', still load */
	config_defaults(&c);
	ASSERT_EQ(load_str(&c, "output:\n  room: \"!!lab\"\n", &err), EMO_OK);
	ASSERT_STR(c.output.room, "!!lab");
}

/* Names and paths with C1 controls (NEL) or the invisible bidirectional
 * marks, overrides and isolates are refused like C0 controls: in the file
 * with file:line:col, and in --set. */
TEST(c1_and_bidi_refused)
{
	static const struct {
		const char *utf8, *esc; /* the character, and as a YAML escape */
	} bad[] = {
		{"\xc2\x85", "\\N"},          /* U+0085 NEL */
		{"\xc2\x9b", "\\x9b"},        /* U+009B CSI */
		{"\xe2\x80\xae", "\\u202E"}, /* right-to-left override */
		{"\xe2\x80\xaa", "\\u202A"}, /* left-to-right embedding */
		{"\xe2\x81\xa6", "\\u2066"}, /* left-to-right isolate */
		{"\xe2\x81\xa9", "\\u2069"}, /* pop directional isolate */
		{"\xe2\x80\x8e", "\\u200E"}, /* left-to-right mark */
		{"\xe2\x80\x8f", "\\u200F"}, /* right-to-left mark */
		{"\xd8\x9c", "\\u061C"},      /* Arabic letter mark */
	};
	struct emo_config c;
	struct emo_err err;
	char y[128], v[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(y, sizeof(y), "output:\n  room: \"ab%scd\"\n", bad[i].esc);
		ASSERT(expect_err(y, strlen(y), 2, 9, "control characters"));
		snprintf(y, sizeof(y), "gallery:\n  rows: 1\n  cols: 2\n  names: [Ana, \"Ben%s\"]\n", bad[i].esc);
		ASSERT(expect_err(y, strlen(y), 4, 16, "control characters"));
		if (i >= 2) { /* raw: C1 controls are YAML line breaks or not printable */
			snprintf(y, sizeof(y), "output:\n  room: ab%scd\n", bad[i].utf8);
			ASSERT(expect_err(y, strlen(y), 2, 9, "control characters"));
		}
		snprintf(v, sizeof(v), "lab%s", bad[i].utf8);
		config_defaults(&c);
		ASSERT_EQ(config_set(&c, "output.room", v, &err), EMO_ECONFIG);
		ASSERT(strstr(err.msg, "control characters"));
	}
	/* other non-ASCII text is fine: accents, CJK, U+2010 hyphen, U+00A0 */
	config_defaults(&c);
	ASSERT_EQ(load_str(&c, "output:\n  room: \"Zo\xc3\xab \xe6\x95\x99\xe5\xae\xa4\xe2\x80\x90\xc2\xa0x\"\n", &err),
		  EMO_OK);
}
#undef ERR

TEST(too_large)
{
	struct emo_config c;
	struct emo_err err;
	size_t n = (size_t)CONFIG_MAX_FILE + 1;
	char *big = malloc(n);

	ASSERT(big);
	memset(big, '#', n);
	config_defaults(&c);
	memset(&err, 0, sizeof(err));
	ASSERT_EQ(config_load_mem(&c, big, n, "big.yaml", &err), EMO_ECONFIG);
	ASSERT(strstr(err.msg, "larger than"));
	free(big);
}

TEST(deep_nesting_is_bounded)
{
	/* 10000 nested flow sequences: rejected by depth, no stack blowup */
	size_t n = 10000;
	char *y = malloc(2 * n + 16);
	struct emo_config c;
	struct emo_err err;

	ASSERT(y);
	memcpy(y, "a: ", 3);
	memset(y + 3, '[', n);
	memset(y + 3 + n, ']', n);
	y[3 + 2 * n] = '\n';
	config_defaults(&c);
	memset(&err, 0, sizeof(err));
	ASSERT_EQ(config_load_mem(&c, y, 2 * n + 4, "t.yaml", &err), EMO_ECONFIG);
	ASSERT(strstr(err.msg, "nested deeper"));
	ASSERT_EQ(err.line, 1);
	free(y);
}

TEST(alias_bomb_rejected)
{
	const char *y = "a: &a [x, x, x, x, x, x, x, x, x]\n"
			"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
			"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n";

	ASSERT(expect_err(y, strlen(y), 1, 4, "anchors (&a) are not allowed"));
}

/* Every tests/data/bad_*.yaml starts with "# expect LINE:COL message". */
TEST(bad_files)
{
	DIR *d = opendir("tests/data");
	struct dirent *e;
	int n = 0;

	if (!d)
		SKIP("tests/data not found (run from the repository root)");
	while ((e = readdir(d))) {
		char path[512], first[512], want[400];
		struct emo_config c, before;
		struct emo_err err;
		int line, col, rc;
		FILE *f;

		if (strncmp(e->d_name, "bad_", 4) || !strstr(e->d_name, ".yaml"))
			continue;
		snprintf(path, sizeof(path), "tests/data/%s", e->d_name);
		f = fopen(path, "r");
		ASSERT(f);
		ASSERT(fgets(first, sizeof(first), f));
		fclose(f);
		first[strcspn(first, "\n")] = '\0';
		if (sscanf(first, "# expect %d:%d %399[^\n]", &line, &col, want) != 3) {
			closedir(d);
			UNIT_FAILF("%s: no '# expect L:C msg' line", path);
		}
		config_defaults(&c);
		before = c;
		memset(&err, 0, sizeof(err));
		rc = config_load(&c, path, &err);
		if (rc != EMO_ECONFIG || err.line != line || err.col != col || !strstr(err.msg, want) ||
		    strcmp(err.file, path) || memcmp(&c, &before, sizeof(c))) {
			closedir(d);
			UNIT_FAILF("%s: rc %d, got %d:%d: %s; want %d:%d: %s", path, rc, err.line,
				   err.col, err.msg, line, col, want);
		}
		n++;
	}
	closedir(d);
	ASSERT(n >= 30);
}

TEST(missing_file_and_directory)
{
	struct emo_config c;
	struct emo_err err;

	config_defaults(&c);
	memset(&err, 0, sizeof(err));
	ASSERT_EQ(config_load(&c, "/nonexistent/emotop.yaml", &err), EMO_EIO);
	ASSERT_STR(err.file, "/nonexistent/emotop.yaml");
	ASSERT(strstr(err.msg, "No such file"));
	ASSERT_EQ(config_load(&c, "tests", &err), EMO_EIO);
}

TEST(example_config_loads)
{
	struct emo_config c;
	struct emo_err err;
	FILE *f = fopen("config/emotop.yaml", "r");
	char line[512];
	int n;
	const struct config_key *k = config_schema(&n);
	char *text = calloc(1, 1 << 16);

	if (!f) {
		free(text);
		SKIP("config/emotop.yaml not found (run from the repository root)");
	}
	while (fgets(line, sizeof(line), f))
		strncat(text, line, (1 << 16) - strlen(text) - 1);
	fclose(f);
	config_defaults(&c);
	memset(&err, 0, sizeof(err));
	if (config_load(&c, "config/emotop.yaml", &err)) {
		free(text);
		UNIT_FAILF("%s:%d:%d: %s", err.file, err.line, err.col, err.msg);
	}
	/* it shows the defaults */
	{
		struct emo_config d;

		config_defaults(&d);
		if (memcmp(&c, &d, sizeof(c))) {
			free(text);
			UNIT_FAILF("config/emotop.yaml differs from the built-in defaults");
		}
	}
	/* every key is shown in the example (as "leaf:" in its section) */
	for (int i = 0; i < n; i++) {
		const char *leaf = strrchr(k[i].key, '.');
		char pat[80];

		snprintf(pat, sizeof(pat), "%s:", leaf ? leaf + 1 : k[i].key);
		if (!strstr(text, pat)) {
			free(text);
			UNIT_FAILF("config/emotop.yaml lacks %s", k[i].key);
		}
	}
	free(text);
}

TEST(man_page_documents_every_key)
{
	FILE *f = fopen("man/emotop.yaml.5", "r");
	char *text = calloc(1, 1 << 17), line[1024];
	int n;
	const struct config_key *k = config_schema(&n);

	if (!f) {
		free(text);
		SKIP("man/emotop.yaml.5 not found (run from the repository root)");
	}
	while (fgets(line, sizeof(line), f))
		strncat(text, line, (1 << 17) - strlen(text) - 1);
	fclose(f);
	for (int i = 0; i < n; i++) {
		char pat[80];

		snprintf(pat, sizeof(pat), "Cm %s", k[i].key);
		if (!strstr(text, pat)) {
			free(text);
			UNIT_FAILF("man/emotop.yaml.5 lacks '.It Cm %s'", k[i].key);
		}
	}
	free(text);
}

TEST(config_set_overrides)
{
	struct emo_config c, before;
	struct emo_err err;

	config_defaults(&c);
	ASSERT_EQ(config_set(&c, "fps", "12", &err), EMO_OK);
	ASSERT_NEAR(c.fps, 12, 0);
	ASSERT_EQ(config_set(&c, "output.format", "csv", &err), EMO_OK);
	ASSERT_EQ(c.output.format, CONFIG_FORMAT_CSV);
	ASSERT_EQ(config_set(&c, "source", "rtsp://cam/1", &err), EMO_OK);
	ASSERT_STR(c.source, "rtsp://cam/1");
	ASSERT_EQ(config_set(&c, "realtime", "true", &err), EMO_OK);
	ASSERT_EQ(c.realtime, 1);
	before = c;
	memset(&err, 0, sizeof(err));
	ASSERT_EQ(config_set(&c, "fps", "0", &err), EMO_ECONFIG);
	ASSERT(strstr(err.msg, "'fps'") && strstr(err.msg, "out of range"));
	ASSERT_EQ(err.line, 0);
	ASSERT_EQ(config_set(&c, "fps", "ten", &err), EMO_ECONFIG);
	ASSERT_EQ(config_set(&c, "detector.min_face", "2147483648", &err), EMO_ECONFIG);
	ASSERT_EQ(config_set(&c, "output.format", "xml", &err), EMO_ECONFIG);
	ASSERT(strstr(err.msg, "text|ndjson|csv"));
	ASSERT_EQ(config_set(&c, "nosuch", "1", &err), EMO_ECONFIG);
	ASSERT(strstr(err.msg, "unknown key 'nosuch'"));
	ASSERT_EQ(config_set(&c, "seats", "x", &err), EMO_ECONFIG);
	ASSERT_EQ(config_set(&c, "source", "a\nb", &err), EMO_ECONFIG);
	ASSERT(!memcmp(&c, &before, sizeof(c)));
	{
		char big[CONFIG_PATH_MAX + 10];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		ASSERT_EQ(config_set(&c, "output.log", big, &err), EMO_ECONFIG);
		ASSERT(strstr(err.msg, "longer than"));
	}
}

TEST(check_cross_keys)
{
	struct emo_config c;
	struct emo_err err;

	config_defaults(&c);
	c.gallery.rows = 2;
	ASSERT_EQ(config_check(&c, &err), EMO_ECONFIG);
	c.gallery.cols = 3;
	ASSERT_EQ(config_check(&c, &err), EMO_OK);
	c.gallery.n_names = 7;
	ASSERT_EQ(config_check(&c, &err), EMO_ECONFIG);
	c.gallery.n_names = 6;
	c.n_seats = 1;
	ASSERT_EQ(config_check(&c, &err), EMO_ECONFIG);
	ASSERT(strstr(err.msg, "exclude"));
	c.gallery.rows = c.gallery.cols = 64;
	c.n_seats = 0;
	ASSERT_EQ(config_check(&c, &err), EMO_ECONFIG);
}

TEST(dump_round_trip)
{
	struct emo_config a, b;
	struct emo_err err;
	FILE *f = tmpfile();
	char *buf;
	long len;

	ASSERT(f);
	config_defaults(&a);
	ASSERT_EQ(load_str(&a,
			   "source: \"http://h/x?a=1&b=\\\"q\\\"\"\nfps: 0.1\n"
			   "detector: {threshold: 0.123456789012}\n"
			   "output: {format: csv, log: 'd\\\\x.log', mode: dashboard}\n"
			   "gallery: {rows: 2, cols: 3, names: [\"A, B\", 'Zo\xc3\xab', \"#x\", \"- y\"]}\n"
			   "alerts: [{name: \"x: y\", condition: sad > 0.125, for: 2.5},"
			   " {emotion: faces, below: 1}]\n",
			   &err),
		  EMO_OK);
	ASSERT_EQ(config_dump(&a, f), EMO_OK);
	len = ftell(f);
	ASSERT(len > 0);
	rewind(f);
	buf = malloc((size_t)len);
	ASSERT(buf);
	ASSERT_EQ(fread(buf, 1, (size_t)len, f), len);
	fclose(f);
	config_defaults(&b);
	b.fps = 99;
	memset(&err, 0, sizeof(err));
	if (config_load_mem(&b, buf, (size_t)len, "dump", &err)) {
		fprintf(stderr, "%.*s\n", (int)len, buf);
		free(buf);
		UNIT_FAILF("dump does not load: %d:%d: %s", err.line, err.col, err.msg);
	}
	free(buf);
	ASSERT(!memcmp(&a, &b, sizeof(a)));
	ASSERT_STR(b.gallery.names[0], "A, B");
	ASSERT_STR(b.alerts[0].name, "x: y");

	/* seats too (gallery and seats exclude each other) */
	config_defaults(&a);
	ASSERT_EQ(load_str(&a, "seats: [{name: Ana, x: 0.1, y: 0.2, w: 0.3, h: 0.4},"
			       " {name: B, x: 100, y: 50, w: 64.5, h: 80}]\n", &err), EMO_OK);
	f = tmpfile();
	ASSERT(f);
	ASSERT_EQ(config_dump(&a, f), EMO_OK);
	len = ftell(f);
	rewind(f);
	buf = malloc((size_t)len);
	ASSERT(buf);
	ASSERT_EQ(fread(buf, 1, (size_t)len, f), len);
	fclose(f);
	config_defaults(&b);
	ASSERT_EQ(config_load_mem(&b, buf, (size_t)len, "dump", &err), EMO_OK);
	free(buf);
	ASSERT(!memcmp(&a, &b, sizeof(a)));
}

TEST(regions_seats_and_gallery)
{
	struct emo_config c;
	struct emo_err err;
	struct emo_box b[8];
	const char *names[8];

	config_defaults(&c);
	ASSERT_EQ(config_regions(&c, 640, 480, b, names, 8), 0);
	ASSERT_EQ(load_str(&c, "seats: [{name: L, x: 0, y: 0, w: 0.5, h: 1},"
			       " {name: P, x: 600, y: 400, w: 100, h: 100}]\n", &err), EMO_OK);
	ASSERT_EQ(config_regions(&c, 640, 480, b, names, 8), 2);
	ASSERT_STR(names[0], "L");
	ASSERT_NEAR(b[0].x, 0, 0);
	ASSERT_NEAR(b[0].w, 320, 1e-3);
	ASSERT_NEAR(b[0].h, 480, 1e-3);
	ASSERT_NEAR(b[1].x, 600, 0);
	ASSERT_NEAR(b[1].w, 40, 1e-3); /* clipped to the frame */
	ASSERT_NEAR(b[1].h, 80, 1e-3);
	ASSERT_EQ(config_regions(&c, 640, 480, b, NULL, 1), 1);
	ASSERT_EQ(config_regions(&c, 0, 480, b, NULL, 8), 0);

	config_defaults(&c);
	ASSERT_EQ(load_str(&c, "gallery: {rows: 2, cols: 3, names: [a, b, c, d]}\n", &err), EMO_OK);
	ASSERT_EQ(config_regions(&c, 1920, 1080, b, names, 8), 6);
	ASSERT_STR(names[3], "d");
	ASSERT_STR(names[4], "");
	ASSERT_NEAR(b[4].x, 640, 1e-3);
	ASSERT_NEAR(b[4].y, 540, 1e-3);
	ASSERT_NEAR(b[4].w, 640, 1e-3);
	ASSERT_NEAR(b[4].h, 540, 1e-3);
}

TEST(alert_format)
{
	struct config_alert a = {"x", CONFIG_METRIC_NEGATIVE, CONFIG_OP_GT, 0.5f, 3};
	char buf[64];

	config_alert_format(&a, buf, sizeof(buf));
	ASSERT_STR(buf, "negative_share > 0.5");
	a.metric = EMO_SAD;
	a.op = CONFIG_OP_LT;
	a.threshold = 0.1f;
	config_alert_format(&a, buf, sizeof(buf));
	ASSERT_STR(buf, "sad < 0.1");
}

TEST(default_path)
{
	char buf[512], dir[] = "/tmp/emotop-cfg-XXXXXX", p[600];
	char *old_xdg = getenv("XDG_CONFIG_HOME") ? strdup(getenv("XDG_CONFIG_HOME")) : NULL;
	char *old_dirs = getenv("XDG_CONFIG_DIRS") ? strdup(getenv("XDG_CONFIG_DIRS")) : NULL;
	char sys[64], sysfile[128];
	FILE *f;

	ASSERT(mkdtemp(dir));
	setenv("XDG_CONFIG_HOME", dir, 1);
	/* system-wide: the first of $XDG_CONFIG_DIRS holding one, absolute
	 * DIRs only; the user's file wins over it */
	snprintf(sys, sizeof(sys), "%s/sys", dir);
	ASSERT(!mkdir(sys, 0700));
	snprintf(p, sizeof(p), "%s/sys/emotop", dir);
	ASSERT(!mkdir(p, 0700));
	snprintf(sysfile, sizeof(sysfile), "%s/emotop/config.yaml", sys);
	f = fopen(sysfile, "w");
	ASSERT(f);
	fclose(f);
	snprintf(p, sizeof(p), "relative:%s/none:%s", dir, sys);
	setenv("XDG_CONFIG_DIRS", p, 1);
	ASSERT_EQ(config_default_path(buf, sizeof(buf)), 1);
	ASSERT_STR(buf, sysfile);
	snprintf(p, sizeof(p), "%s/none", dir);
	setenv("XDG_CONFIG_DIRS", p, 1);
	ASSERT_EQ(config_default_path(buf, sizeof(buf)), 0);
	snprintf(p, sizeof(p), "%s/emotop", dir);
	ASSERT(!mkdir(p, 0700));
	snprintf(p, sizeof(p), "%s/emotop/config.yaml", dir);
	f = fopen(p, "w");
	ASSERT(f);
	fclose(f);
	ASSERT_EQ(config_default_path(buf, sizeof(buf)), 1);
	ASSERT_STR(buf, p);
	setenv("XDG_CONFIG_DIRS", sys, 1); /* the user's file first */
	ASSERT_EQ(config_default_path(buf, sizeof(buf)), 1);
	ASSERT_STR(buf, p);
	remove(p);
	remove(sysfile);
	snprintf(p, sizeof(p), "%s/sys/emotop", dir);
	rmdir(p);
	rmdir(sys);
	snprintf(p, sizeof(p), "%s/emotop", dir);
	rmdir(p);
	rmdir(dir);
	if (old_xdg)
		setenv("XDG_CONFIG_HOME", old_xdg, 1);
	else
		unsetenv("XDG_CONFIG_HOME");
	if (old_dirs)
		setenv("XDG_CONFIG_DIRS", old_dirs, 1);
	else
		unsetenv("XDG_CONFIG_DIRS");
	free(old_xdg);
	free(old_dirs);
}

/* Random mutations of the example config: every load ends in EMO_OK or
 * EMO_ECONFIG with a position inside the text, never a crash (run it under
 * make asan / valgrind). Deterministic seed. */
TEST(mutations_never_crash)
{
	FILE *f = fopen("config/emotop.yaml", "rb");
	static char base[1 << 16], buf[1 << 16];
	static const char tokens[] = ":-[]{}&*!|>'\"#,?%@\t\n \x80\xff\0";
	size_t len;
	unsigned seed = 12345;
	int ok = 0, bad = 0;

	if (!f)
		SKIP("config/emotop.yaml not found (run from the repository root)");
	len = fread(base, 1, sizeof(base), f);
	fclose(f);
	for (int i = 0; i < 1500; i++) {
		struct emo_config c;
		struct emo_err err;
		size_t n = len;
		int edits = 1 + i % 4, rc, lines = 1;

		memcpy(buf, base, len);
		for (int e = 0; e < edits; e++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = (seed >> 8) % n;

			seed = seed * 1103515245u + 12345u;
			switch ((seed >> 16) % 3) {
			case 0: /* replace a byte */
				buf[at] = tokens[(seed >> 4) % (sizeof(tokens) - 1)];
				break;
			case 1: /* delete a byte */
				memmove(buf + at, buf + at + 1, n - at - 1);
				n--;
				break;
			default: /* truncate */
				n = at;
				break;
			}
			if (!n)
				break;
		}
		for (size_t k = 0; k < n; k++)
			lines += buf[k] == '\n';
		config_defaults(&c);
		memset(&err, 0, sizeof(err));
		rc = config_load_mem(&c, buf, n, "m.yaml", &err);
		if (rc == EMO_OK) {
			ok++;
			ASSERT_EQ(config_check(&c, NULL), EMO_OK);
		} else {
			bad++;
			ASSERT_EQ(rc, EMO_ECONFIG);
			ASSERT(err.msg[0]);
			ASSERT(err.line >= 0 && err.line <= lines + 1);
		}
	}
	ASSERT(ok > 0 && bad > 0);
}

/* issue 19: the Prometheus metrics file, its per-student switch and the
 * room label; bad values name file:line:col like every key. */
TEST(metrics_keys)
{
	struct emo_config c;
	struct emo_err err;
	char long_room[200];
	int n;

	config_defaults(&c);
	ASSERT_STR(c.output.metrics_file, "");
	ASSERT_EQ(c.output.metrics_per_student, 0);
	ASSERT_STR(c.output.room, "");
	ASSERT_EQ(load_str(&c, "output:\n  metrics_file: /run/emotop/room-101.prom\n"
			       "  metrics_per_student: yes\n  room: \"Room 101 \\\"B\\\"\"\n", &err), EMO_OK);
	ASSERT_STR(c.output.metrics_file, "/run/emotop/room-101.prom");
	ASSERT_EQ(c.output.metrics_per_student, 1);
	ASSERT_STR(c.output.room, "Room 101 \"B\"");
	/* the flag's key and --set */
	ASSERT_EQ(config_set(&c, "output.metrics_file", "x.prom", &err), EMO_OK);
	ASSERT_STR(c.output.metrics_file, "x.prom");
	ASSERT_EQ(config_set(&c, "output.room", "lab", &err), EMO_OK);
	ASSERT_STR(c.output.room, "lab");
	ASSERT_EQ(config_set(&c, "output.metrics_per_student", "2", &err), EMO_ECONFIG);
	ASSERT(strstr(err.msg, "output.metrics_per_student"));
	ASSERT_EQ(config_set(&c, "output.room", "a\nb", &err), EMO_ECONFIG);
	ASSERT(strstr(err.msg, "control characters"));
	/* bad values in a file */
	ASSERT(expect_err("output:\n  metrics_per_student: maybe\n", strlen("output:\n  metrics_per_student: maybe\n"), 2, 24, "expected a boolean"));
	ASSERT(expect_err("output:\n  metrics_file: [a, b]\n", strlen("output:\n  metrics_file: [a, b]\n"), 2, 17,
			  "key 'output.metrics_file': expected a string"));
	ASSERT(expect_err("output:\n  room: \"a\\tb\"\n", strlen("output:\n  room: \"a\\tb\"\n"), 2, 9, "control characters"));
	ASSERT(expect_err("output:\n  metric_file: x.prom\n", strlen("output:\n  metric_file: x.prom\n"), 2, 3,
			  "did you mean 'output.metrics_file'"));
	ASSERT(expect_err("room: lab\n", strlen("room: lab\n"), 1, 1, "did you mean 'output.room'"));
	memset(long_room, 'r', sizeof(long_room));
	n = snprintf(long_room, sizeof(long_room), "output: {room: %.*s}\n", CONFIG_NAME_MAX,
		     "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr");
	ASSERT(expect_err(long_room, (size_t)n, 1, 16, "longer than 63 bytes"));
	/* --dump-config writes them and reads them back */
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		struct emo_config d;

		ASSERT(f);
		ASSERT_EQ(config_dump(&c, f), EMO_OK);
		fclose(f);
		ASSERT(strstr(buf, "metrics_file:") && strstr(buf, "room:"));
		config_defaults(&d);
		ASSERT_EQ(load_str(&d, buf, &err), EMO_OK);
		free(buf);
		ASSERT_STR(d.output.metrics_file, "x.prom");
		ASSERT_STR(d.output.room, "lab");
		ASSERT_EQ(d.output.metrics_per_student, 1);
	}
}

/* capture.rtsp_transport and capture.input_options (a mapping of FFmpeg
 * options, values may hold ':'); errors at file:line:col; --input-option
 * (config_set) adds one, "" clears; the dump reads back the same. */
TEST(capture_input_options)
{
	struct emo_config c, d;
	struct emo_err err;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	config_defaults(&c);
	ASSERT_EQ(c.capture.rtsp_transport, CONFIG_RTSP_AUTO);
	ASSERT_STR(c.capture.input_options, "");
	ASSERT_EQ(load_str(&c, "capture:\n  rtsp_transport: udp\n  input_options:\n"
			   "    probesize: 5000000\n    headers: \"X-Key: a:b\"\n", &err), EMO_OK);
	ASSERT_EQ(c.capture.rtsp_transport, CONFIG_RTSP_UDP);
	ASSERT_STR(c.capture.input_options, "probesize=5000000\nheaders=X-Key: a:b\n");
	ASSERT_EQ(config_set(&c, "capture.input_options", "fflags=nobuffer", &err), EMO_OK);
	ASSERT_STR(c.capture.input_options, "probesize=5000000\nheaders=X-Key: a:b\nfflags=nobuffer\n");
	ASSERT_EQ(config_set(&c, "capture.input_options", "novalue", &err), EMO_ECONFIG);
	ASSERT(strstr(err.msg, "option=value") != NULL);
	ASSERT_EQ(config_set(&c, "capture.rtsp_transport", "sctp", &err), EMO_ECONFIG);

	f = open_memstream(&buf, &len);
	ASSERT(f != NULL);
	ASSERT_EQ(config_dump(&c, f), 0);
	fclose(f);
	config_defaults(&d);
	ASSERT_EQ(load_str(&d, buf, &err), EMO_OK);
	free(buf);
	ASSERT_STR(d.capture.input_options, c.capture.input_options);
	ASSERT_EQ(d.capture.rtsp_transport, CONFIG_RTSP_UDP);
	ASSERT_EQ(load_str(&d, "capture: {input_options: ~}\n", &err), EMO_OK);
	ASSERT_STR(d.capture.input_options, "");

	ASSERT(expect_err("capture:\n  rtsp_transport: sctp\n", strlen("capture:\n  rtsp_transport: sctp\n"), 2, 19, "auto|tcp|udp"));
	ASSERT(expect_err("capture:\n  input_options: [a, b]\n", strlen("capture:\n  input_options: [a, b]\n"), 2, 18, "mapping"));
	ASSERT(expect_err("capture:\n  input_options:\n    probesize: {a: 1}\n", strlen("capture:\n  input_options:\n    probesize: {a: 1}\n"), 3, 16,
			  "capture.input_options.probesize"));
	ASSERT(expect_err("capture:\n  input_options:\n    \"bad key\": 1\n", strlen("capture:\n  input_options:\n    \"bad key\": 1\n"), 3, 5,
			  "not an FFmpeg option name"));
	ASSERT(expect_err("capture:\n  input_options: {a: 1, a: 2}\n", strlen("capture:\n  input_options: {a: 1, a: 2}\n"), 2, 25, "duplicate"));
}

int main(int argc, char **argv)
{
	unit_init(argc, argv);
	RUN(defaults);
	RUN(schema_table_is_complete);
	RUN(empty_and_comment_files_are_defaults);
	RUN(values_are_applied);
	RUN(later_load_overrides_only_its_keys);
	RUN(bool_words);
	RUN(numbers_are_strict);
	RUN(binary_and_non_utf8);
	RUN(yaml_tags_refused);
	RUN(c1_and_bidi_refused);
	RUN(too_large);
	RUN(deep_nesting_is_bounded);
	RUN(alias_bomb_rejected);
	RUN(bad_files);
	RUN(missing_file_and_directory);
	RUN(example_config_loads);
	RUN(man_page_documents_every_key);
	RUN(config_set_overrides);
	RUN(check_cross_keys);
	RUN(dump_round_trip);
	RUN(regions_seats_and_gallery);
	RUN(alert_format);
	RUN(default_path);
	RUN(mutations_never_crash);
	RUN(metrics_keys);
	RUN(capture_input_options);
	return unit_done();
}
