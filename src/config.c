/* config.c - the schema table, YAML config loading (libyaml document API),
 * command-line overrides, --dump-config and the regions of seats/galleries.
 *
 * Loading is two passes over the same bytes with two parsers: an event pass
 * that rejects what the document API would hide (anchors, aliases, deep
 * nesting, several documents) and reports syntax errors, then a document
 * pass that walks the node tree against the schema. Errors carry
 * file:line:col from libyaml's 0-based marks plus one.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "emotop/config.h"
#include "emotop/emotion.h"

#define OFF(f) offsetof(struct emo_config, f)
#define SZ(f) sizeof(((struct emo_config *)0)->f)

#define KEYPATH_MAX 128

/* The one table: validation, overrides, --dump-config and --help-config all
 * read it. Order is the order of config_dump() (sections stay together). */
static const struct config_key config_table[] = {
	{"source", CONFIG_T_STRING, 0, 0, "demo", "",
	 "video source: file, URL, webcam[:N], /dev/videoN, screen[:DISPLAY][+X,Y][/WxH], - (stdin) or demo",
	 NULL, OFF(source), SZ(source)},
	{"fps", CONFIG_T_FLOAT, 0.1, 120, "5", "fps",
	 "analysis rate; live sources drop the frames in between", NULL, OFF(fps), 0},
	{"realtime", CONFIG_T_BOOL, 0, 1, "false", "",
	 "headless too, play files at their own speed instead of as fast as possible", NULL, OFF(realtime), 0},
	{"duration", CONFIG_T_FLOAT, 0, 31536000, "0", "s",
	 "stop after this long (0: run until the source ends or a signal)", NULL, OFF(duration), 0},

	{"capture.width", CONFIG_T_INT, 0, 16384, "0", "px",
	 "camera/screen width to ask for (0: the device's default)", NULL, OFF(capture.width), 0},
	{"capture.height", CONFIG_T_INT, 0, 16384, "0", "px",
	 "camera/screen height to ask for (0: the device's default)", NULL, OFF(capture.height), 0},
	{"capture.input_fps", CONFIG_T_FLOAT, 0, 1000, "0", "fps",
	 "camera frame rate to ask for (0: the device's default)", NULL, OFF(capture.input_fps), 0},
	{"capture.input_format", CONFIG_T_STRING, 0, 0, "\"\"", "",
	 "camera pixel format to ask for, e.g. mjpeg (empty: the device's default)", NULL,
	 OFF(capture.input_format), SZ(capture.input_format)},
	{"capture.max_side", CONFIG_T_INT, 0, 16384, "0", "px",
	 "scale frames down so that their longer side is at most this (0: keep)", NULL,
	 OFF(capture.max_side), 0},
	{"capture.timeout", CONFIG_T_FLOAT, 0.1, 600, "5", "s",
	 "open/read timeout of network sources and devices", NULL, OFF(capture.timeout), 0},
	{"capture.reconnect", CONFIG_T_ENUM, 0, 0, "auto", "",
	 "reopen a failed or ended source with backoff (auto: live streams and devices)",
	 "auto|never|always", OFF(capture.reconnect), 0},
	{"capture.rtsp_transport", CONFIG_T_ENUM, 0, 0, "auto", "",
	 "RTSP over tcp, udp, or auto (TCP, then UDP when TCP fails)", "auto|tcp|udp",
	 OFF(capture.rtsp_transport), 0},
	{"capture.input_options", CONFIG_T_OPTIONS, 0, 0, "{}", "",
	 "FFmpeg input (demuxer, protocol, device) options, a mapping option: value", NULL,
	 OFF(capture.input_options), SZ(capture.input_options)},
	{"capture.down_alert", CONFIG_T_FLOAT, 0, 86400, "30", "s",
	 "fire the alert source_down when the source has not been up for this long (0: off)", NULL,
	 OFF(capture.down_alert), 0},

	{"detector.min_face", CONFIG_T_INT, 8, 4096, "auto", "px",
	 "smallest face to look for; auto: a 48th of the frame's shorter side, 10 to 20 px",
	 "auto", OFF(detector.min_face), 0},
	{"detector.threshold", CONFIG_T_FLOAT, 0, 1, "0.5", "",
	 "face score threshold", NULL, OFF(detector.threshold), 0},
	{"detector.nms_iou", CONFIG_T_FLOAT, 0, 1, "0.4", "",
	 "overlap above which two detections are the same face", NULL, OFF(detector.nms_iou), 0},
	{"detector.cell_threshold", CONFIG_T_FLOAT, 0, 1, "0.2", "",
	 "a seat or gallery cell with no face at threshold takes its best face scoring this (0: off)",
	 NULL, OFF(detector.cell_threshold), 0},
	{"detector.model", CONFIG_T_STRING, 0, 0, "\"\"", "",
	 "face detector model file (empty: the embedded model; none: each seat or gallery cell is one face)",
	 NULL, OFF(detector.model),
	 SZ(detector.model)},
	{"detector.verifier", CONFIG_T_STRING, 0, 0, "\"\"", "",
	 "second-stage face verifier model file (empty: the embedded one, used with the embedded detector; none: off)",
	 NULL, OFF(detector.verifier), SZ(detector.verifier)},

	{"classifier.model", CONFIG_T_STRING, 0, 0, "\"\"", "",
	 "emotion classifier model file (empty: the embedded model; none: no emotion inference)", NULL,
	 OFF(classifier.model), SZ(classifier.model)},
	{"classifier.flip_tta", CONFIG_T_BOOL, 0, 1, "false", "",
	 "also classify the mirrored face and average (twice the work)", NULL,
	 OFF(classifier.flip_tta), 0},
	{"classifier.scale_tta", CONFIG_T_BOOL, 0, 1, "false", "",
	 "also classify the face framed 15% tighter and 15% looser and average (three times the work)",
	 NULL, OFF(classifier.scale_tta), 0},

	{"tracking.iou", CONFIG_T_FLOAT, 0.01, 1, "0.3", "",
	 "minimum box overlap to continue a track", NULL, OFF(tracking.iou), 0},
	{"tracking.ttl", CONFIG_T_FLOAT, 0, 3600, "2", "s",
	 "how long a track survives without its face", NULL, OFF(tracking.ttl), 0},
	{"tracking.half_life", CONFIG_T_FLOAT, 0, 3600, "1.5", "s",
	 "half-life of the probability smoothing (0: none)", NULL, OFF(tracking.half_life), 0},

	{"seats", CONFIG_T_SEATS, 0, CONFIG_MAX_SEATS, "[]", "",
	 "fixed regions {name, x, y, w, h}: fractions of the frame when all four are <= 1, else pixels",
	 NULL, OFF(seats), 0},

	{"gallery.rows", CONFIG_T_INT, 0, 64, "0", "",
	 "rows of a video-call gallery grid (0: no gallery)", NULL, OFF(gallery.rows), 0},
	{"gallery.cols", CONFIG_T_INT, 0, 64, "0", "",
	 "columns of the gallery grid", NULL, OFF(gallery.cols), 0},
	{"gallery.names", CONFIG_T_NAMES, 0, CONFIG_MAX_SEATS, "[]", "",
	 "names of the gallery cells, row by row", NULL, OFF(gallery.names), 0},

	{"summary.window", CONFIG_T_FLOAT, 1, 86400, "60", "s",
	 "length of the rolling class summary", NULL, OFF(summary.window), 0},

	{"alerts", CONFIG_T_ALERTS, 0, CONFIG_MAX_ALERTS, "[]", "",
	 "rules {name, condition: \"negative_share > 0.3\" | emotion: E, above|below: P, for: S}",
	 NULL, OFF(alerts), 0},

	{"output.mode", CONFIG_T_ENUM, 0, 0, "auto", "",
	 "auto: dashboard on a terminal, else headless lines", "auto|dashboard|headless",
	 OFF(output.mode), 0},
	{"output.format", CONFIG_T_ENUM, 0, 0, "text", "",
	 "headless line format", "text|ndjson|csv", OFF(output.format), 0},
	{"output.interval", CONFIG_T_FLOAT, 0.1, 86400, "5", "s",
	 "seconds between headless summary lines", NULL, OFF(output.interval), 0},
	{"output.log", CONFIG_T_STRING, 0, 0, "\"\"", "",
	 "also append the lines to this file (reopened on SIGHUP)", NULL, OFF(output.log),
	 SZ(output.log)},
	{"output.per_student", CONFIG_T_BOOL, 0, 1, "false", "",
	 "add one line per student to each report", NULL, OFF(output.per_student), 0},
	{"output.aggregate_only", CONFIG_T_BOOL, 0, 1, "false", "",
	 "class totals only: no per-person data anywhere (overrides per_student)", NULL,
	 OFF(output.aggregate_only), 0},
	{"output.record", CONFIG_T_STRING, 0, 0, "\"\"", "",
	 "write the per-student timeline here (.csv or .ndjson)", NULL, OFF(output.record),
	 SZ(output.record)},
	{"output.report_svg", CONFIG_T_STRING, 0, 0, "\"\"", "",
	 "write an SVG chart of the class mood at the end", NULL, OFF(output.report_svg),
	 SZ(output.report_svg)},
	{"output.annotate", CONFIG_T_STRING, 0, 0, "\"\"", "",
	 "save annotated frames (face images!) in this directory", NULL, OFF(output.annotate),
	 SZ(output.annotate)},
	{"output.metrics_file", CONFIG_T_STRING, 0, 0, "\"\"", "",
	 "write the figures here every interval for Prometheus (node_exporter textfile, *.prom)",
	 NULL, OFF(output.metrics_file), SZ(output.metrics_file)},
	{"output.metrics_per_student", CONFIG_T_BOOL, 0, 1, "false", "",
	 "add series for each named student to the metrics file (never with aggregate_only)", NULL,
	 OFF(output.metrics_per_student), 0},
	{"output.room", CONFIG_T_STRING, 0, 0, "\"\"", "",
	 "room label of the metrics (empty: the host name)", NULL, OFF(output.room),
	 SZ(output.room)},

	{"ui.ascii", CONFIG_T_BOOL, 0, 1, "false", "",
	 "draw the dashboard with ASCII only", NULL, OFF(ui.ascii), 0},
	{"ui.color", CONFIG_T_BOOL, 0, 1, "true", "",
	 "use colours (NO_COLOR in the environment turns them off)", NULL, OFF(ui.color), 0},
};

#define N_KEYS ((int)(sizeof(config_table) / sizeof(config_table[0])))
/* No mapping of a valid file has more keys than the table (checking
 * duplicates is quadratic: a huge mapping is refused before that). */
#define MAP_KEYS_MAX 256
_Static_assert(N_KEYS < MAP_KEYS_MAX, "a valid mapping must fit under MAP_KEYS_MAX");

const struct config_key *config_schema(int *n)
{
	if (n)
		*n = N_KEYS;
	return config_table;
}

const struct config_key *config_key_find(const char *key)
{
	for (int i = 0; key && i < N_KEYS; i++)
		if (!strcmp(config_table[i].key, key))
			return &config_table[i];
	return NULL;
}

static const char *const mode_names[] = {"auto", "dashboard", "headless"};
static const char *const format_names[] = {"text", "ndjson", "csv"};

const char *config_mode_name(int mode)
{
	return mode >= 0 && mode < 3 ? mode_names[mode] : "unknown";
}

const char *config_format_name(int format)
{
	return format >= 0 && format < 3 ? format_names[format] : "unknown";
}

/* ---- scalar parsing ---------------------------------------------------- */

/* Copy a string into a fixed buffer, zero-filling the rest (so configs with
 * the same values compare equal byte for byte). -1 if it does not fit. */
static int copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		return -1;
	memset(dst, 0, size);
	memcpy(dst, src, n);
	return 0;
}

static int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (int i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = 1;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int parse_long(const char *s, long *out)
{
	char *end;

	if (!*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	*out = strtol(s, &end, 10);
	if (errno == ERANGE)
		return -2;
	return *end ? -1 : 0;
}

static int parse_double(const char *s, double *out)
{
	char *end;

	/* strtod also takes hex, inf, nan and leading blanks: refuse them */
	for (const char *p = s; *p; p++)
		if (!strchr("0123456789+-.eE", *p))
			return -1;
	if (!*s)
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	if (errno == ERANGE || !isfinite(*out))
		return -2;
	return *end ? -1 : 0;
}

/* Is this plain scalar YAML's null? */
static int is_null(const char *s)
{
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

static const char *type_word(enum config_type t)
{
	switch (t) {
	case CONFIG_T_INT: return "an integer";
	case CONFIG_T_FLOAT: return "a number";
	case CONFIG_T_BOOL: return "a boolean (true/false, yes/no, on/off, 1/0)";
	case CONFIG_T_STRING: return "a string";
	case CONFIG_T_ENUM: return "one of";
	case CONFIG_T_SEATS: return "a list of seats";
	case CONFIG_T_ALERTS: return "a list of alerts";
	case CONFIG_T_NAMES: return "a list of names";
	case CONFIG_T_OPTIONS: return "a mapping of FFmpeg options (option: value)";
	}
	return "?";
}

/* Reject control characters in names and paths (they end up in CSV, NDJSON
 * and the terminal): C0 and DEL, C1 (U+0080..U+009F, as NEL U+0085), and
 * the invisible bidirectional marks, embeddings, overrides and isolates
 * that make text read other than it is (U+061C, U+200E, U+200F,
 * U+202A..U+202E, U+2066..U+2069). s is UTF-8 (checked on reading). */
int config_has_control(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	for (; *s; s++) {
		if (*s < 0x20 || *s == 0x7f)
			return 1;
		if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
			return 1;
		if (s[0] == 0xd8 && s[1] == 0x9c)
			return 1;
		if (s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0x8e || s[2] == 0x8f ||
						     (s[2] >= 0xaa && s[2] <= 0xae)))
			return 1;
		if (s[0] == 0xe2 && s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9)
			return 1;
	}
	return 0;
}

/* Append "key=value" to the option lines in buf (size bytes); "" clears
 * them. Returns 0, or -1 with msg set. */
static int add_option(char *buf, size_t size, const char *kv, char *msg, size_t len)
{
	size_t klen = strcspn(kv, "="), have = strlen(buf);

	if (!*kv) {
		buf[0] = '\0';
		return 0;
	}
	if (kv[klen] != '=' || !klen) {
		snprintf(msg, len, "expected option=value, got \"%.40s\"", kv);
		return -1;
	}
	for (size_t i = 0; i < klen; i++)
		if (!isalnum((unsigned char)kv[i]) && kv[i] != '_' && kv[i] != '-') {
			snprintf(msg, len, "\"%.*s\" is not an FFmpeg option name", (int)(klen > 40 ? 40 : klen), kv);
			return -1;
		}
	if (config_has_control(kv)) {
		snprintf(msg, len, "control characters are not allowed");
		return -1;
	}
	if (have + strlen(kv) + 2 > size) {
		snprintf(msg, len, "the options are longer than %zu bytes in all", size - 1);
		return -1;
	}
	snprintf(buf + have, size - have, "%s\n", kv);
	return 0;
}

/* Set a scalar key from text. quoted: the YAML scalar was quoted (then it is
 * a string, never a number or boolean). Returns 0, or -1 with msg set. */
static int set_scalar(struct emo_config *cfg, const struct config_key *k, const char *s,
		      int quoted, char *msg, size_t len)
{
	char *base = (char *)cfg + k->off;
	long l;
	double d;
	int b, rc;

	switch (k->type) {
	case CONFIG_T_INT:
		/* an integer key with a keyword (choices, one word; its min is
		 * above 0): the keyword, quoted or not, is stored as 0 */
		if (k->choices && !strcmp(s, k->choices)) {
			*(int *)(void *)base = 0;
			return 0;
		}
		if (quoted || (rc = parse_long(s, &l)) == -1) {
			snprintf(msg, len, "expected an integer%s%s, got \"%.40s\"", k->choices ? " or " : "",
				 k->choices ? k->choices : "", s);
			return -1;
		}
		if (rc == -2 || l < (long)k->min || l > (long)k->max) {
			snprintf(msg, len, "%.40s is out of range [%g, %g]%s%s%s", s, k->min, k->max,
				 k->choices ? " (or " : "", k->choices ? k->choices : "", k->choices ? ")" : "");
			return -1;
		}
		*(int *)(void *)base = (int)l;
		return 0;
	case CONFIG_T_FLOAT:
		if (quoted || (rc = parse_double(s, &d)) == -1) {
			snprintf(msg, len, "expected a number, got \"%.40s\"", s);
			return -1;
		}
		if (rc == -2 || d < k->min || d > k->max) {
			snprintf(msg, len, "%.40s is out of range [%g, %g]", s, k->min, k->max);
			return -1;
		}
		*(double *)(void *)base = d;
		return 0;
	case CONFIG_T_BOOL:
		if (quoted || parse_bool(s, &b)) {
			snprintf(msg, len, "expected %s, got \"%.40s\"", type_word(k->type), s);
			return -1;
		}
		*(int *)(void *)base = b;
		return 0;
	case CONFIG_T_STRING:
		if (!quoted && is_null(s))
			s = "";
		if (config_has_control(s)) {
			snprintf(msg, len, "control characters are not allowed");
			return -1;
		}
		if (copy_str(base, k->size, s)) {
			snprintf(msg, len, "longer than %zu bytes", k->size - 1);
			return -1;
		}
		return 0;
	case CONFIG_T_ENUM: {
		const char *c = k->choices;
		size_t n = strlen(s);

		for (int i = 0; c && *c; i++) {
			size_t w = strcspn(c, "|");

			if (w == n && !strncmp(c, s, n)) {
				*(int *)(void *)base = i;
				return 0;
			}
			c += w + (c[w] == '|');
		}
		snprintf(msg, len, "expected one of %s, got \"%.40s\"", k->choices, s);
		return -1;
	}
	case CONFIG_T_OPTIONS:
		return add_option(base, k->size, s, msg, len);
	default:
		snprintf(msg, len, "is a list and cannot be set from a single value");
		return -1;
	}
}

int config_set(struct emo_config *cfg, const char *key, const char *value, struct emo_err *err)
{
	const struct config_key *k = config_key_find(key);
	char msg[256];

	if (!k)
		return emo_seterr(err, EMO_ECONFIG, NULL, 0, 0, "unknown key '%s'", key ? key : "");
	if (!value)
		value = "";
	if (set_scalar(cfg, k, value, k->type == CONFIG_T_STRING, msg, sizeof(msg)))
		return emo_seterr(err, EMO_ECONFIG, NULL, 0, 0, "key '%s': %s", key, msg);
	return EMO_OK;
}

/* ---- defaults -------------------------------------------------------- */

void config_defaults(struct emo_config *cfg)
{
	char msg[256];

	memset(cfg, 0, sizeof(*cfg));
	for (int i = 0; i < N_KEYS; i++) {
		const struct config_key *k = &config_table[i];
		const char *def = k->def;

		if (k->type >= CONFIG_T_SEATS)
			continue; /* lists default to empty (zeroed) */
		if (k->type == CONFIG_T_STRING && !strcmp(def, "\"\""))
			def = "";
		if (set_scalar(cfg, k, def, 0, msg, sizeof(msg))) {
			fprintf(stderr, "emotop: bad built-in default for %s: %s\n", k->key, msg);
			abort();
		}
	}
}

/* ---- file reading and UTF-8 ------------------------------------------ */

/* Line and column (1-based, column in characters) of byte offset off. */
static void offset_to_linecol(const char *buf, size_t len, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

/* Offset of the first byte that is not valid UTF-8, or a NUL; len if none. */
static size_t utf8_bad_offset(const unsigned char *s, size_t len, int *is_nul)
{
	size_t i = 0;

	*is_nul = 0;
	while (i < len) {
		unsigned c = s[i];
		size_t n;
		uint32_t cp;

		if (c == 0) {
			*is_nul = 1;
			return i;
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return i;
		}
		for (size_t j = 1; j <= n; j++) {
			if (i + j >= len || (s[i + j] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += n + 1;
	}
	return len;
}

/* ---- the event pass -------------------------------------------------- */

static int yaml_error(const yaml_parser_t *p, const char *name, const char *buf, size_t len,
		      struct emo_err *err)
{
	int line, col;

	if (p->error == YAML_MEMORY_ERROR)
		return emo_seterr(err, EMO_ENOMEM, name, 0, 0, "out of memory parsing YAML");
	if (p->error == YAML_READER_ERROR) {
		offset_to_linecol(buf, len, p->problem_offset, &line, &col);
		return emo_seterr(err, EMO_ECONFIG, name, line, col, "%s",
				  p->problem ? p->problem : "unreadable input");
	}
	line = (int)p->problem_mark.line + 1;
	col = (int)p->problem_mark.column + 1;
	if (p->context)
		return emo_seterr(err, EMO_ECONFIG, name, line, col,
				  "YAML syntax error: %s %s (line %d, column %d)",
				  p->problem ? p->problem : "error", p->context,
				  (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
	return emo_seterr(err, EMO_ECONFIG, name, line, col, "YAML syntax error: %s",
			  p->problem ? p->problem : "error");
}

static int event_pass(const char *buf, size_t len, const char *name, struct emo_err *err)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int rc = EMO_OK, depth = 0, docs = 0, done = 0;

	if (!yaml_parser_initialize(&p))
		return emo_seterr(err, EMO_ENOMEM, name, 0, 0, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	while (!done) {
		const char *anchor = NULL;

		if (!yaml_parser_parse(&p, &ev)) {
			rc = yaml_error(&p, name, buf, len, err);
			break;
		}
		int line = (int)ev.start_mark.line + 1, col = (int)ev.start_mark.column + 1;

		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1)
				rc = emo_seterr(err, EMO_ECONFIG, name, line, col,
						"only one YAML document is allowed");
			break;
		case YAML_ALIAS_EVENT:
			rc = emo_seterr(err, EMO_ECONFIG, name, line, col,
					"aliases (*%s) are not allowed", (const char *)ev.data.alias.anchor);
			break;
		case YAML_SCALAR_EVENT:
			anchor = (const char *)ev.data.scalar.anchor;
			/* an escaped \0 would silently cut the value */
			if (memchr(ev.data.scalar.value, '\0', ev.data.scalar.length))
				rc = emo_seterr(err, EMO_ECONFIG, name, line, col,
						"a NUL character (\\0) is not allowed");
			break;
		case YAML_SEQUENCE_START_EVENT:
			anchor = (const char *)ev.data.sequence_start.anchor;
			depth++;
			break;
		case YAML_MAPPING_START_EVENT:
			anchor = (const char *)ev.data.mapping_start.anchor;
			depth++;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		default:
			break;
		}
		if (rc == EMO_OK && anchor)
			rc = emo_seterr(err, EMO_ECONFIG, name, line, col,
					"anchors (&%s) are not allowed", anchor);
		if (rc == EMO_OK && depth > CONFIG_MAX_DEPTH)
			rc = emo_seterr(err, EMO_ECONFIG, name, line, col,
					"nested deeper than %d levels", CONFIG_MAX_DEPTH);
		yaml_event_delete(&ev);
		if (rc != EMO_OK)
			break;
	}
	yaml_parser_delete(&p);
	return rc;
}

/* ---- the document walk ----------------------------------------------- */

struct walk {
	yaml_document_t *doc;
	struct emo_config *cfg;
	const char *name;
	struct emo_err *err;
	yaml_mark_t seats_mark, gallery_mark;
	int have_seats, have_gallery;
};

static int node_err(struct walk *w, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int node_err(struct walk *w, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[sizeof(w->err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return emo_seterr(w->err, EMO_ECONFIG, w->name, n ? (int)n->start_mark.line + 1 : 0,
			  n ? (int)n->start_mark.column + 1 : 0, "%s", msg);
}

/* No YAML tags (!!binary, !!int, !custom...): the schema gives every value
 * its type, and a tag would say something we ignore. A node without one
 * carries libyaml's default tag for its kind. */
static int check_tags(yaml_document_t *doc, const char *name, struct emo_err *err)
{
	for (const yaml_node_t *n = doc->nodes.start; n < doc->nodes.top; n++) {
		const char *def = n->type == YAML_SCALAR_NODE ? YAML_DEFAULT_SCALAR_TAG :
				  n->type == YAML_SEQUENCE_NODE ? YAML_DEFAULT_SEQUENCE_TAG :
				  YAML_DEFAULT_MAPPING_TAG;
		const char *tag = (const char *)n->tag;
		if (tag && strcmp(tag, def)) {
			int core = !strncmp(tag, "tag:yaml.org,2002:", 18);
			return emo_seterr(err, EMO_ECONFIG, name, (int)n->start_mark.line + 1,
					  (int)n->start_mark.column + 1, "YAML tags such as '%s%.60s' "
					  "are not allowed (each key has its own type)", core ? "!!" : "",
					  core ? tag + 18 : tag);
		}
	}
	return EMO_OK;
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static int scalar_quoted(const yaml_node_t *n)
{
	return n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
	       n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE ||
	       n->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
	       n->data.scalar.style == YAML_FOLDED_SCALAR_STYLE;
}

static int is_null_node(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && !scalar_quoted(n) && is_null(scalar(n));
}

static const char *node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE: return "a mapping";
	case YAML_SEQUENCE_NODE: return "a list";
	default: return "a scalar";
	}
}

static int levenshtein(const char *a, const char *b)
{
	int la = (int)strlen(a), lb = (int)strlen(b);
	int row[KEYPATH_MAX + 1];

	if (la > KEYPATH_MAX || lb > KEYPATH_MAX)
		return INT_MAX;
	for (int j = 0; j <= lb; j++)
		row[j] = j;
	for (int i = 1; i <= la; i++) {
		int prev = row[0];

		row[0] = i;
		for (int j = 1; j <= lb; j++) {
			int cur = row[j];
			int best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

/* A "did you mean" for an unknown dotted key, or "". */
static void suggest(const char *path, char *buf, size_t len)
{
	const char *best = NULL;
	int bestd = 3;
	const char *leaf = strrchr(path, '.');

	leaf = leaf ? leaf + 1 : path;
	buf[0] = '\0';
	for (int i = 0; i < N_KEYS; i++) {
		const char *k = config_table[i].key;
		const char *kleaf = strrchr(k, '.');
		int d = levenshtein(path, k);

		kleaf = kleaf ? kleaf + 1 : k;
		if (!strcmp(kleaf, leaf) && d > 0)
			d = 1; /* right name, wrong section */
		if (d < bestd) {
			bestd = d;
			best = k;
		}
	}
	if (best)
		snprintf(buf, len, " (did you mean '%s'?)", best);
}

/* Is path a section, i.e. a prefix "path." of some key? */
static int is_section(const char *path)
{
	size_t n = strlen(path);

	for (int i = 0; i < N_KEYS; i++)
		if (!strncmp(config_table[i].key, path, n) && config_table[i].key[n] == '.')
			return 1;
	return 0;
}

/* Check a mapping's keys are scalars without dots (a dotted key would be a
 * second spelling that escapes the duplicate check), few and unique. */
static int check_keys(struct walk *w, const yaml_node_t *map, const char *where)
{
	if (map->data.mapping.pairs.top - map->data.mapping.pairs.start > MAP_KEYS_MAX)
		return node_err(w, map, "%s%smore than %d keys in one mapping", where, *where ? ": " : "",
				MAP_KEYS_MAX);
	for (const yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(w->doc, p->key);

		if (!k || k->type != YAML_SCALAR_NODE)
			return node_err(w, k, "%s%skeys must be plain words", where,
					*where ? ": " : "");
		if (strchr(scalar(k), '.'))
			return node_err(w, k, "unknown key '%s%s%s' (nest it: a dot separates sections "
					"only in --set and the manual)", where, *where ? "." : "", scalar(k));
		for (const yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
			const yaml_node_t *k2 = yaml_document_get_node(w->doc, q->key);

			if (k2 && k2->type == YAML_SCALAR_NODE && !strcmp(scalar(k), scalar(k2)))
				return node_err(w, k, "duplicate key '%s%s%s' (first at line %d)",
						where, *where ? "." : "", scalar(k),
						(int)k2->start_mark.line + 1);
		}
	}
	return EMO_OK;
}

static int set_name(struct walk *w, const yaml_node_t *v, char *dst, const char *what)
{
	if (v->type != YAML_SCALAR_NODE)
		return node_err(w, v, "%s: expected a name, got %s", what, node_kind(v));
	if (config_has_control(scalar(v)))
		return node_err(w, v, "%s: control characters are not allowed", what);
	if (copy_str(dst, CONFIG_NAME_MAX, scalar(v)))
		return node_err(w, v, "%s: longer than %d bytes", what, CONFIG_NAME_MAX - 1);
	return EMO_OK;
}

static int get_number(struct walk *w, const yaml_node_t *v, const char *what, double min,
		      double max, double *out)
{
	int rc;

	if (v->type != YAML_SCALAR_NODE || scalar_quoted(v) ||
	    (rc = parse_double(scalar(v), out)) == -1)
		return node_err(w, v, "%s: expected a number, got %s", what,
				v->type == YAML_SCALAR_NODE ? scalar(v) : node_kind(v));
	if (rc == -2 || *out < min || *out > max)
		return node_err(w, v, "%s: %s is out of range [%g, %g]", what, scalar(v), min, max);
	return EMO_OK;
}

static int walk_seats(struct walk *w, const yaml_node_t *seq)
{
	struct emo_config *cfg = w->cfg;
	int n = 0;

	for (const yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++, n++) {
		const yaml_node_t *m = yaml_document_get_node(w->doc, *it);
		struct config_seat *s;
		double v[4] = {0, 0, 0, 0};
		int have[4] = {0, 0, 0, 0}, rc;
		char where[48];
		static const char *const coord[4] = {"x", "y", "w", "h"};

		snprintf(where, sizeof(where), "seats[%d]", n);
		if (n >= CONFIG_MAX_SEATS)
			return node_err(w, m, "seats: more than %d seats", CONFIG_MAX_SEATS);
		if (m->type != YAML_MAPPING_NODE)
			return node_err(w, m, "%s: expected a mapping {name, x, y, w, h}, got %s",
					where, node_kind(m));
		if ((rc = check_keys(w, m, where)))
			return rc;
		s = &cfg->seats[n];
		memset(s, 0, sizeof(*s));
		snprintf(s->name, sizeof(s->name), "seat%d", n + 1);
		for (const yaml_node_pair_t *p = m->data.mapping.pairs.start;
		     p < m->data.mapping.pairs.top; p++) {
			const yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
			const yaml_node_t *val = yaml_document_get_node(w->doc, p->value);
			char what[96];
			int i;

			snprintf(what, sizeof(what), "%s.%s", where, scalar(k));
			if (!strcmp(scalar(k), "name")) {
				if ((rc = set_name(w, val, s->name, what)))
					return rc;
				continue;
			}
			for (i = 0; i < 4 && strcmp(scalar(k), coord[i]); i++)
				;
			if (i == 4)
				return node_err(w, k, "unknown key '%s' (a seat has name, x, y, w, h)",
						what);
			if ((rc = get_number(w, val, what, 0, 100000, &v[i])))
				return rc;
			have[i] = 1;
		}
		for (int i = 0; i < 4; i++)
			if (!have[i])
				return node_err(w, m, "%s: missing '%s'", where, coord[i]);
		if (v[2] <= 0 || v[3] <= 0)
			return node_err(w, m, "%s: w and h must be greater than 0", where);
		s->frac = v[0] <= 1 && v[1] <= 1 && v[2] <= 1 && v[3] <= 1;
		if (s->frac && (v[0] + v[2] > 1.0 + 1e-6 || v[1] + v[3] > 1.0 + 1e-6))
			return node_err(w, m, "%s: region extends past the frame (x + w and y + h "
					"must be at most 1 for fractions)", where);
		s->x = (float)v[0];
		s->y = (float)v[1];
		s->w = (float)v[2];
		s->h = (float)v[3];
	}
	cfg->n_seats = n;
	return EMO_OK;
}

/* Parse "metric op number" into *a. Returns 0 or -1 with msg. */
static int parse_metric(const char *s, int *metric)
{
	if (!strcmp(s, "negative_share"))
		*metric = CONFIG_METRIC_NEGATIVE;
	else if (!strcmp(s, "valence"))
		*metric = CONFIG_METRIC_VALENCE;
	else if (!strcmp(s, "faces"))
		*metric = CONFIG_METRIC_FACES;
	else if ((*metric = emo_class_from_name(s)) < 0)
		return -1;
	return 0;
}

static int metric_ok(int metric, double th)
{
	return metric == CONFIG_METRIC_FACES	   ? th >= 0 && th <= 100000
	       : metric == CONFIG_METRIC_VALENCE ? th >= -1 && th <= 1
						 : th >= 0 && th <= 1;
}

/* The old metric "negative" (the probability mass on the four negative
 * classes, about 0.5 for any unsure face) is gone: say what replaced it. */
static const char negative_gone[] =
	"'negative' is now 'negative_share' (the share of faces that look clearly negative, "
	"e.g. \"negative_share > 0.3\") or 'valence' (-1..1, neutral 0)";

static int parse_condition(const char *s, struct config_alert *a, char *msg, size_t len)
{
	char metric[32], op[4], num[64], extra[2];
	double th;
	static const char *const ops[] = {">", "<"};
	int i;

	if (sscanf(s, " %31[a-z_] %3[<>=] %63s %1s", metric, op, num, extra) != 3) {
		snprintf(msg, len, "expected \"METRIC OP NUMBER\" such as \"negative_share > 0.3\", got \"%.60s\"", s);
		return -1;
	}
	if (!strcmp(metric, "negative")) {
		snprintf(msg, len, "%s", negative_gone);
		return -1;
	}
	if (parse_metric(metric, &a->metric)) {
		snprintf(msg, len, "unknown metric '%s' (negative_share, valence, faces, or an emotion: "
			 "angry, disgust, fear, happy, sad, surprise, neutral)", metric);
		return -1;
	}
	for (i = 0; i < 2 && strcmp(op, ops[i]); i++)
		;
	if (i == 2) {
		snprintf(msg, len, "unknown comparison '%s' (use > or <)", op);
		return -1;
	}
	a->op = i;
	if (parse_double(num, &th) || !metric_ok(a->metric, th)) {
		snprintf(msg, len, "bad threshold '%s' (%s)", num,
			 a->metric == CONFIG_METRIC_FACES     ? "a face count"
			 : a->metric == CONFIG_METRIC_VALENCE ? "a valence from -1 to 1"
							      : "a share from 0 to 1");
		return -1;
	}
	a->threshold = (float)th;
	return 0;
}

static int walk_alerts(struct walk *w, const yaml_node_t *seq)
{
	struct emo_config *cfg = w->cfg;
	int n = 0;

	for (const yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++, n++) {
		const yaml_node_t *m = yaml_document_get_node(w->doc, *it);
		const yaml_node_t *cond = NULL, *emo = NULL, *above = NULL, *below = NULL;
		struct config_alert *a;
		char where[48], msg[256];
		double d;
		int rc;

		snprintf(where, sizeof(where), "alerts[%d]", n);
		if (n >= CONFIG_MAX_ALERTS)
			return node_err(w, m, "alerts: more than %d alerts", CONFIG_MAX_ALERTS);
		if (m->type != YAML_MAPPING_NODE)
			return node_err(w, m, "%s: expected a mapping {name, condition, for}, got %s",
					where, node_kind(m));
		if ((rc = check_keys(w, m, where)))
			return rc;
		a = &cfg->alerts[n];
		memset(a, 0, sizeof(*a));
		snprintf(a->name, sizeof(a->name), "alert%d", n + 1);
		for (const yaml_node_pair_t *p = m->data.mapping.pairs.start;
		     p < m->data.mapping.pairs.top; p++) {
			const yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
			const yaml_node_t *val = yaml_document_get_node(w->doc, p->value);
			const char *key = scalar(k);
			char what[96];

			snprintf(what, sizeof(what), "%s.%s", where, key);
			if (!strcmp(key, "name")) {
				if ((rc = set_name(w, val, a->name, what)))
					return rc;
			} else if (!strcmp(key, "for")) {
				if ((rc = get_number(w, val, what, 0, 86400, &d)))
					return rc;
				a->for_s = (float)d;
			} else if (!strcmp(key, "condition") || !strcmp(key, "emotion")) {
				if (val->type != YAML_SCALAR_NODE)
					return node_err(w, val, "%s: expected text, got %s", what,
							node_kind(val));
				if (!strcmp(key, "condition"))
					cond = val;
				else
					emo = val;
			} else if (!strcmp(key, "above")) {
				above = val;
			} else if (!strcmp(key, "below")) {
				below = val;
			} else {
				return node_err(w, k, "unknown key '%s' (an alert has name, condition "
						"or emotion with above/below, and for)", what);
			}
		}
		if (cond && (emo || above || below))
			return node_err(w, m, "%s: give either 'condition' or 'emotion' with "
					"'above'/'below', not both", where);
		if (cond) {
			if (parse_condition(scalar(cond), a, msg, sizeof(msg)))
				return node_err(w, cond, "%s.condition: %s", where, msg);
			continue;
		}
		if (!emo)
			return node_err(w, m, "%s: missing 'condition' (or 'emotion' with "
					"'above'/'below')", where);
		if (!strcmp(scalar(emo), "negative"))
			return node_err(w, emo, "%s.emotion: %s", where, negative_gone);
		if (parse_metric(scalar(emo), &a->metric))
			return node_err(w, emo, "%s.emotion: unknown emotion '%s' (angry, disgust, "
					"fear, happy, sad, surprise, neutral, negative_share, valence, "
					"faces)", where, scalar(emo));
		if (!above == !below)
			return node_err(w, m, "%s: give exactly one of 'above' and 'below'", where);
		if ((rc = get_number(w, above ? above : below, above ? "above" : "below",
				     a->metric == CONFIG_METRIC_VALENCE ? -1 : 0,
				     a->metric == CONFIG_METRIC_FACES ? 100000 : 1, &d)))
			return rc;
		a->op = above ? CONFIG_OP_GT : CONFIG_OP_LT;
		a->threshold = (float)d;
	}
	cfg->n_alerts = n;
	return EMO_OK;
}

static int walk_names(struct walk *w, const yaml_node_t *seq)
{
	int n = 0, rc;

	for (const yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++, n++) {
		const yaml_node_t *v = yaml_document_get_node(w->doc, *it);
		char what[48];

		snprintf(what, sizeof(what), "gallery.names[%d]", n);
		if (n >= CONFIG_MAX_SEATS)
			return node_err(w, v, "gallery.names: more than %d names", CONFIG_MAX_SEATS);
		if ((rc = set_name(w, v, w->cfg->gallery.names[n], what)))
			return rc;
	}
	w->cfg->gallery.n_names = n;
	return EMO_OK;
}

static int walk_options(struct walk *w, const struct config_key *k, const yaml_node_t *m)
{
	char *base = (char *)w->cfg + k->off;
	char kv[CONFIG_PATH_MAX + 64], msg[256];
	int rc;

	base[0] = '\0';
	if (is_null_node(m))
		return EMO_OK;
	if (m->type != YAML_MAPPING_NODE)
		return node_err(w, m, "key '%s': expected %s, got %s", k->key, type_word(k->type),
				node_kind(m));
	if ((rc = check_keys(w, m, k->key)))
		return rc;
	for (const yaml_node_pair_t *p = m->data.mapping.pairs.start;
	     p < m->data.mapping.pairs.top; p++) {
		const yaml_node_t *key = yaml_document_get_node(w->doc, p->key);
		const yaml_node_t *val = yaml_document_get_node(w->doc, p->value);

		if (key->type != YAML_SCALAR_NODE || !*scalar(key))
			return node_err(w, key, "key '%s': expected an option name, got %s", k->key,
					node_kind(key));
		if (val->type != YAML_SCALAR_NODE)
			return node_err(w, val, "key '%s.%s': expected a value, got %s", k->key,
					scalar(key), node_kind(val));
		snprintf(kv, sizeof(kv), "%s=%s", scalar(key), scalar(val));
		if (strchr(scalar(key), '='))
			return node_err(w, key, "key '%s': \"%s\" is not an FFmpeg option name",
					k->key, scalar(key));
		if (add_option(base, k->size, kv, msg, sizeof(msg)))
			return node_err(w, strchr(msg, '"') == msg ? key : val, "key '%s.%s': %s",
					k->key, scalar(key), msg);
	}
	return EMO_OK;
}

static int walk_value(struct walk *w, const struct config_key *k, const yaml_node_t *v,
		      const yaml_node_t *keynode)
{
	char msg[256];

	if (k->type == CONFIG_T_OPTIONS)
		return walk_options(w, k, v);
	if (k->type >= CONFIG_T_SEATS) {
		if (k->type == CONFIG_T_SEATS) {
			w->have_seats = 1;
			w->seats_mark = keynode->start_mark;
		}
		if (is_null_node(v)) {
			if (k->type == CONFIG_T_SEATS)
				w->cfg->n_seats = 0;
			else if (k->type == CONFIG_T_ALERTS)
				w->cfg->n_alerts = 0;
			else
				w->cfg->gallery.n_names = 0;
			return EMO_OK;
		}
		if (v->type != YAML_SEQUENCE_NODE)
			return node_err(w, v, "key '%s': expected %s, got %s", k->key,
					type_word(k->type), node_kind(v));
		if (k->type == CONFIG_T_SEATS)
			return walk_seats(w, v);
		if (k->type == CONFIG_T_ALERTS)
			return walk_alerts(w, v);
		return walk_names(w, v);
	}
	if (v->type != YAML_SCALAR_NODE)
		return node_err(w, v, "key '%s': expected %s%s%s, got %s", k->key, type_word(k->type),
				!k->choices ? "" : k->type == CONFIG_T_INT ? " or " : " ",
				k->choices ? k->choices : "", node_kind(v));
	if (set_scalar(w->cfg, k, scalar(v), scalar_quoted(v), msg, sizeof(msg)))
		return node_err(w, v, "key '%s': %s", k->key, msg);
	return EMO_OK;
}

static int walk_map(struct walk *w, const yaml_node_t *map, const char *prefix)
{
	int rc;

	if ((rc = check_keys(w, map, prefix)))
		return rc;
	for (const yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
		const yaml_node_t *v = yaml_document_get_node(w->doc, p->value);
		const struct config_key *row;
		char path[KEYPATH_MAX], hint[96];

		if (snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", scalar(k)) >=
		    (int)sizeof(path))
			return node_err(w, k, "unknown key (too long)");
		if ((row = config_key_find(path))) {
			if ((rc = walk_value(w, row, v, k)))
				return rc;
			continue;
		}
		if (is_section(path)) {
			if (!strcmp(path, "gallery")) {
				w->have_gallery = 1;
				w->gallery_mark = k->start_mark;
			}
			if (is_null_node(v))
				continue;
			if (v->type != YAML_MAPPING_NODE)
				return node_err(w, v, "section '%s': expected a mapping, got %s", path,
						node_kind(v));
			if ((rc = walk_map(w, v, path)))
				return rc;
			continue;
		}
		suggest(path, hint, sizeof(hint));
		return node_err(w, k, "unknown key '%s'%s", path, hint);
	}
	return EMO_OK;
}

/* ---- checks across keys ---------------------------------------------- */

static int check(const struct emo_config *cfg, char *msg, size_t len, int *where_gallery)
{
	const int r = cfg->gallery.rows, c = cfg->gallery.cols;

	*where_gallery = 1;
	if (!r != !c) {
		snprintf(msg, len, "gallery: set both rows and cols (or neither)");
		return -1;
	}
	if (r * c > CONFIG_MAX_SEATS) {
		snprintf(msg, len, "gallery: %d x %d cells, at most %d", r, c, CONFIG_MAX_SEATS);
		return -1;
	}
	if (cfg->gallery.n_names > r * c) {
		snprintf(msg, len, "gallery: %d names for %d cells", cfg->gallery.n_names, r * c);
		return -1;
	}
	if (r && cfg->n_seats) {
		*where_gallery = 0;
		snprintf(msg, len, "seats and gallery exclude each other: use one of them");
		return -1;
	}
	return 0;
}

int config_check(const struct emo_config *cfg, struct emo_err *err)
{
	char msg[256];
	int g;

	if (check(cfg, msg, sizeof(msg), &g))
		return emo_seterr(err, EMO_ECONFIG, NULL, 0, 0, "%s", msg);
	return EMO_OK;
}

/* ---- loading --------------------------------------------------------- */

int config_load_mem(struct emo_config *cfg, const char *buf, size_t len, const char *name,
		    struct emo_err *err)
{
	yaml_parser_t p;
	yaml_document_t doc;
	struct emo_config *tmp = NULL;
	struct walk w;
	size_t bad;
	int rc, nul, line, col;

	if (!name)
		name = "<config>";
	if (len > (size_t)CONFIG_MAX_FILE)
		return emo_seterr(err, EMO_ECONFIG, name, 0, 0, "larger than %ld bytes",
				  (long)CONFIG_MAX_FILE);
	bad = utf8_bad_offset((const unsigned char *)buf, len, &nul);
	if (bad < len) {
		offset_to_linecol(buf, len, bad, &line, &col);
		return emo_seterr(err, EMO_ECONFIG, name, line, col, "%s",
				  nul ? "NUL byte: a binary file, not a YAML config"
				      : "not valid UTF-8 text");
	}
	if ((rc = event_pass(buf, len, name, err)))
		return rc;

	if (!yaml_parser_initialize(&p))
		return emo_seterr(err, EMO_ENOMEM, name, 0, 0, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&p, &doc)) {
		rc = yaml_error(&p, name, buf, len, err);
		yaml_parser_delete(&p);
		return rc;
	}
	yaml_parser_delete(&p);
	if ((rc = check_tags(&doc, name, err)))
		goto end;

	const yaml_node_t *root = yaml_document_get_root_node(&doc);

	if (!root || is_null_node(root)) {
		rc = EMO_OK; /* empty file: nothing changes */
		goto end;
	}
	if (root->type != YAML_MAPPING_NODE) {
		rc = emo_seterr(err, EMO_ECONFIG, name, (int)root->start_mark.line + 1,
				(int)root->start_mark.column + 1,
				"the top level must be a mapping of keys (such as 'fps: 5'), got %s",
				node_kind(root));
		goto end;
	}
	if (!(tmp = malloc(sizeof(*tmp)))) {
		rc = emo_seterr(err, EMO_ENOMEM, name, 0, 0, "out of memory");
		goto end;
	}
	*tmp = *cfg;
	memset(&w, 0, sizeof(w));
	w.doc = &doc;
	w.cfg = tmp;
	w.name = name;
	w.err = err;
	if ((rc = walk_map(&w, root, "")))
		goto end;
	{
		char msg[256];
		int g;

		if (check(tmp, msg, sizeof(msg), &g)) {
			yaml_mark_t m = g && w.have_gallery ? w.gallery_mark : w.seats_mark;
			int known = g ? w.have_gallery : w.have_seats;

			rc = emo_seterr(err, EMO_ECONFIG, name, known ? (int)m.line + 1 : 0,
					known ? (int)m.column + 1 : 0, "%s", msg);
			goto end;
		}
	}
	*cfg = *tmp;
	rc = EMO_OK;
end:
	free(tmp);
	yaml_document_delete(&doc);
	return rc;
}

int config_load(struct emo_config *cfg, const char *path, struct emo_err *err)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0;
	struct stat st;
	int rc;

	if (!(f = fopen(path, "rb")))
		return emo_seterr(err, EMO_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		return emo_seterr(err, EMO_EIO, path, 0, 0, "is a directory");
	}
	if (!(buf = malloc((size_t)CONFIG_MAX_FILE + 1))) {
		fclose(f);
		return emo_seterr(err, EMO_ENOMEM, path, 0, 0, "out of memory");
	}
	len = fread(buf, 1, (size_t)CONFIG_MAX_FILE + 1, f);
	if (ferror(f)) {
		rc = emo_seterr(err, EMO_EIO, path, 0, 0, "read error: %s", strerror(errno));
	} else {
		rc = config_load_mem(cfg, buf, len, path, err);
	}
	fclose(f);
	free(buf);
	return rc;
}

static int path_exists(char *buf, size_t len, int n)
{
	return n >= 0 && (size_t)n < len && access(buf, F_OK) == 0;
}

int config_default_path(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	const char *dirs = getenv("XDG_CONFIG_DIRS");

	if (xdg && xdg[0] == '/') {
		if (path_exists(buf, len, snprintf(buf, len, "%s/emotop/config.yaml", xdg)))
			return 1;
	} else if (home && *home) {
		if (path_exists(buf, len, snprintf(buf, len, "%s/.config/emotop/config.yaml", home)))
			return 1;
	}
	/* then the system-wide ones, in order (a lab's machines) */
	if (!dirs || !*dirs)
		dirs = "/etc/xdg";
	while (*dirs) {
		size_t k = strcspn(dirs, ":");

		if (dirs[0] == '/' &&
		    path_exists(buf, len, snprintf(buf, len, "%.*s/emotop/config.yaml", (int)k, dirs)))
			return 1;
		dirs += k + (dirs[k] == ':');
	}
	return 0;
}

/* ---- dumping --------------------------------------------------------- */

static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* Shortest text that reads back as the same double. */
static void put_double(FILE *f, double v)
{
	char buf[40];

	for (int prec = 6; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	fputs(buf, f);
}

static void put_float(FILE *f, float v)
{
	char buf[40];

	for (int prec = 6; prec <= 9; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, (double)v);
		if (strtof(buf, NULL) == v)
			break;
	}
	fputs(buf, f);
}

static const char *enum_choice(const struct config_key *k, int idx, char *buf, size_t len)
{
	const char *c = k->choices;

	for (int i = 0; c && *c; i++) {
		size_t w = strcspn(c, "|");

		if (i == idx) {
			snprintf(buf, len, "%.*s", (int)w, c);
			return buf;
		}
		c += w + (c[w] == '|');
	}
	return "?";
}

void config_alert_format(const struct config_alert *a, char *buf, size_t len)
{
	static const char *const ops[] = {">", "<"};
	const char *m = a->metric == CONFIG_METRIC_NEGATIVE   ? "negative_share"
			: a->metric == CONFIG_METRIC_VALENCE ? "valence"
			: a->metric == CONFIG_METRIC_FACES   ? "faces"
							     : emo_class_name(a->metric);
	char th[40];

	for (int prec = 6; prec <= 9; prec++) {
		snprintf(th, sizeof(th), "%.*g", prec, (double)a->threshold);
		if (strtof(th, NULL) == a->threshold)
			break;
	}
	snprintf(buf, len, "%s %s %s", m, a->op >= 0 && a->op < 2 ? ops[a->op] : "?", th);
}

static void put_value(FILE *f, const struct emo_config *cfg, const struct config_key *k,
		      const char *indent)
{
	const char *base = (const char *)cfg + k->off;
	char buf[64];

	switch (k->type) {
	case CONFIG_T_INT:
		if (k->choices && !*(const int *)(const void *)base)
			fputs(k->choices, f);
		else
			fprintf(f, "%d", *(const int *)(const void *)base);
		break;
	case CONFIG_T_FLOAT:
		put_double(f, *(const double *)(const void *)base);
		break;
	case CONFIG_T_BOOL:
		fputs(*(const int *)(const void *)base ? "true" : "false", f);
		break;
	case CONFIG_T_STRING: {
		char shown[CONFIG_PATH_MAX + 64];

		emo_redact_url(base, shown, sizeof(shown)); /* a source's credentials */
		put_string(f, shown);
		break;
	}
	case CONFIG_T_ENUM:
		fputs(enum_choice(k, *(const int *)(const void *)base, buf, sizeof(buf)), f);
		break;
	case CONFIG_T_SEATS:
		if (!cfg->n_seats)
			fputs("[]", f);
		for (int i = 0; i < cfg->n_seats; i++) {
			const struct config_seat *s = &cfg->seats[i];

			fprintf(f, "\n%s  - {name: ", indent);
			put_string(f, s->name);
			fputs(", x: ", f);
			put_float(f, s->x);
			fputs(", y: ", f);
			put_float(f, s->y);
			fputs(", w: ", f);
			put_float(f, s->w);
			fputs(", h: ", f);
			put_float(f, s->h);
			fputs("}", f);
		}
		break;
	case CONFIG_T_ALERTS:
		if (!cfg->n_alerts)
			fputs("[]", f);
		for (int i = 0; i < cfg->n_alerts; i++) {
			const struct config_alert *a = &cfg->alerts[i];
			char cond[96];

			config_alert_format(a, cond, sizeof(cond));
			fprintf(f, "\n%s  - {name: ", indent);
			put_string(f, a->name);
			fputs(", condition: ", f);
			put_string(f, cond);
			fputs(", for: ", f);
			put_float(f, a->for_s);
			fputs("}", f);
		}
		break;
	case CONFIG_T_OPTIONS:
		if (!*base)
			fputs("{}", f);
		for (const char *l = base; *l;) {
			size_t n = strcspn(l, "\n"), kn = strcspn(l, "=");
			char v[CONFIG_PATH_MAX];

			snprintf(v, sizeof(v), "%.*s", (int)(n - kn - 1), l + kn + 1);
			fprintf(f, "\n%s  %.*s: ", indent, (int)kn, l);
			put_string(f, v);
			l += n + (l[n] == '\n');
		}
		break;
	case CONFIG_T_NAMES:
		fputs("[", f);
		for (int i = 0; i < cfg->gallery.n_names; i++) {
			if (i)
				fputs(", ", f);
			put_string(f, cfg->gallery.names[i]);
		}
		fputs("]", f);
		break;
	}
}

static void describe(const struct config_key *k, char *buf, size_t len)
{
	switch (k->type) {
	case CONFIG_T_INT:
	case CONFIG_T_FLOAT:
		snprintf(buf, len, "%s %.10g..%.10g%s%s%s%s, default %s",
			 k->type == CONFIG_T_INT ? "integer" : "number", k->min, k->max, *k->unit ? " " : "",
			 k->unit, k->choices ? " or " : "", k->choices ? k->choices : "", k->def);
		break;
	case CONFIG_T_BOOL:
		snprintf(buf, len, "boolean, default %s", k->def);
		break;
	case CONFIG_T_ENUM:
		snprintf(buf, len, "%s, default %s", k->choices, k->def);
		break;
	case CONFIG_T_STRING:
		snprintf(buf, len, "string, default %s", k->def);
		break;
	case CONFIG_T_OPTIONS:
		snprintf(buf, len, "mapping option: value, default empty");
		break;
	default:
		snprintf(buf, len, "list, at most %g, default empty", k->max);
		break;
	}
}

int config_dump(const struct emo_config *cfg, FILE *f)
{
	char section[KEYPATH_MAX] = "", desc[160];

	fprintf(f, "# emotop configuration (see emotop.yaml(5))\n");
	for (int i = 0; i < N_KEYS; i++) {
		const struct config_key *k = &config_table[i];
		const char *dot = strchr(k->key, '.');
		const char *leaf = dot ? dot + 1 : k->key;
		const char *indent = dot ? "  " : "";

		if (dot && (strlen(section) != (size_t)(dot - k->key) ||
			    strncmp(section, k->key, (size_t)(dot - k->key)))) {
			snprintf(section, sizeof(section), "%.*s", (int)(dot - k->key), k->key);
			fprintf(f, "\n%s:\n", section);
		} else if (!dot && section[0]) {
			section[0] = '\0';
			fputc('\n', f);
		}
		describe(k, desc, sizeof(desc));
		fprintf(f, "%s# %s (%s)\n%s%s: ", indent, k->help, desc, indent, leaf);
		put_value(f, cfg, k, indent);
		fputc('\n', f);
	}
	return ferror(f) ? EMO_EIO : EMO_OK;
}

void config_print_schema(FILE *f)
{
	char desc[160];

	for (int i = 0; i < N_KEYS; i++) {
		const struct config_key *k = &config_table[i];

		describe(k, desc, sizeof(desc));
		fprintf(f, "%-22s %s\n%-22s   %s\n", k->key, k->help, "", desc);
	}
}

/* ---- regions --------------------------------------------------------- */

static struct emo_box clip_box(float x, float y, float bw, float bh, int w, int h)
{
	struct emo_box b;
	float x1 = x + bw, y1 = y + bh;

	if (x < 0)
		x = 0;
	if (y < 0)
		y = 0;
	if (x1 > (float)w)
		x1 = (float)w;
	if (y1 > (float)h)
		y1 = (float)h;
	b.x = x;
	b.y = y;
	b.w = x1 > x ? x1 - x : 0;
	b.h = y1 > y ? y1 - y : 0;
	return b;
}

int config_regions(const struct emo_config *cfg, int w, int h, struct emo_box *boxes,
		   const char **names, int max)
{
	int n = 0;

	if (w <= 0 || h <= 0)
		return 0;
	if (cfg->gallery.rows > 0 && cfg->gallery.cols > 0) {
		float cw = (float)w / (float)cfg->gallery.cols, ch = (float)h / (float)cfg->gallery.rows;

		for (int r = 0; r < cfg->gallery.rows; r++)
			for (int c = 0; c < cfg->gallery.cols && n < max; c++, n++) {
				int i = r * cfg->gallery.cols + c;

				boxes[n] = clip_box((float)c * cw, (float)r * ch, cw, ch, w, h);
				if (names)
					names[n] = i < cfg->gallery.n_names ? cfg->gallery.names[i] : "";
			}
		return n;
	}
	for (int i = 0; i < cfg->n_seats && n < max; i++, n++) {
		const struct config_seat *s = &cfg->seats[i];
		float sx = s->frac ? (float)w : 1.0f, sy = s->frac ? (float)h : 1.0f;

		boxes[n] = clip_box(s->x * sx, s->y * sy, s->w * sx, s->h * sy, w, h);
		if (names)
			names[n] = s->name;
	}
	return n;
}
