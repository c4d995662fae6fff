/* config_table.c - the schema table: one row per key with its type, range,
 * default, unit and help, which validation, config_set(), --dump-config and
 * --help-config all read; config_schema() and config_key_find() hand it
 * out. Also the names of the output modes and formats, and
 * config_defaults(): the table's defaults, parsed as a file's values are.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emotop/config.h"
#include "config_int.h"

#define OFF(f) offsetof(struct emo_config, f)
#define SZ(f) sizeof(((struct emo_config *)0)->f)

/* The one table: validation, overrides, --dump-config and --help-config all
 * read it. Order is the order of config_dump() (sections stay together). */
const struct config_key config_table[] = {
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
const int config_n_keys = N_KEYS;
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
		if (config_set_scalar(cfg, k, def, 0, msg, sizeof(msg))) {
			fprintf(stderr, "emotop: bad built-in default for %s: %s\n", k->key, msg);
			abort();
		}
	}
}
