/* config.h - emotop's settings: built-in defaults, the YAML config file and
 * command-line overrides, all driven by one schema table.
 *
 * A struct emo_config is plain data (fixed-size arrays, no pointers): copy it
 * with `=`, nothing to free. Fill it with config_defaults(), then
 * config_load() a file over it, then config_set() overrides on top.
 *
 * File format (see emotop.yaml(5)): one YAML mapping; sections are nested
 * mappings ("detector: {min_face: 20}"), addressed here by dotted keys
 * ("detector.min_face"). Unknown keys, wrong types, out-of-range values,
 * duplicate keys, anchors and aliases, nesting deeper than CONFIG_MAX_DEPTH,
 * several documents, non-UTF-8 or binary files and YAML syntax errors are all
 * errors reported as file:line:col (1-based) naming the key.
 *
 * Booleans accept true/false, yes/no, on/off (any case) and 1/0.
 * Numbers are decimal (floats also accept exponents); no units in the value.
 */
#ifndef EMOTOP_CONFIG_H
#define EMOTOP_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "emotop/err.h"
#include "emotop/image.h"

#define CONFIG_PATH_MAX 1024
#define CONFIG_NAME_MAX 64   /* bytes of a student/alert name, NUL included */
#define CONFIG_MAX_SEATS 256 /* seats, and gallery rows * cols */
#define CONFIG_MAX_ALERTS 16
#define CONFIG_MAX_DEPTH 8   /* nesting of mappings/sequences in a file */
#define CONFIG_MAX_FILE (1L << 20) /* config files are at most 1 MiB */

enum config_mode { CONFIG_MODE_AUTO = 0, CONFIG_MODE_DASHBOARD = 1, CONFIG_MODE_HEADLESS = 2 };
enum config_format { CONFIG_FORMAT_TEXT = 0, CONFIG_FORMAT_NDJSON = 1, CONFIG_FORMAT_CSV = 2 };
enum config_rtsp_transport { CONFIG_RTSP_AUTO = 0, CONFIG_RTSP_TCP = 1, CONFIG_RTSP_UDP = 2 };
enum config_reconnect { CONFIG_RECONNECT_AUTO = 0, CONFIG_RECONNECT_NEVER = 1, CONFIG_RECONNECT_ALWAYS = 2 };

/* What an alert watches: a class mean probability (0..EMO_NUM_CLASSES-1) or: */
#define CONFIG_METRIC_NEGATIVE (-1) /* negative_share: share of faces clearly negative (0..1) */
#define CONFIG_METRIC_FACES (-2)    /* number of faces present */
#define CONFIG_METRIC_VALENCE (-3)  /* valence: mean valence of the faces (-1..1) */

enum config_op { CONFIG_OP_GT = 0, CONFIG_OP_LT = 1 };

/* A fixed region of the frame that names whoever sits there. When frac is
 * set, x, y, w, h are fractions of the frame's width/height, else pixels. */
struct config_seat {
	char name[CONFIG_NAME_MAX];
	float x, y, w, h;
	int frac;
};

/* "metric op threshold held for for_s seconds". */
struct config_alert {
	char name[CONFIG_NAME_MAX];
	int metric;      /* CONFIG_METRIC_* or an emotion class */
	int op;          /* enum config_op */
	float threshold;
	float for_s;
};

struct emo_config {
	char source[CONFIG_PATH_MAX]; /* path, URL, webcam[:N], screen[:...], -, demo */
	double fps;                   /* analysis rate */
	int realtime;                 /* pace files at their own speed */
	double duration;              /* stop after this many seconds; 0 = no limit */

	struct {
		int width, height;            /* device video_size request; 0 = default */
		double input_fps;             /* device framerate request; 0 = default */
		char input_format[32];        /* v4l2 input_format ("mjpeg"); "" = default */
		int max_side;                 /* downscale frames to this; 0 = keep */
		double timeout;               /* network open/read timeout, seconds */
		int reconnect;                /* enum config_reconnect */
		double down_alert;            /* alert source_down after this many seconds; 0 = off */
		int rtsp_transport;           /* enum config_rtsp_transport */
		char input_options[CONFIG_PATH_MAX]; /* FFmpeg input options, "key=value" lines */
	} capture;

	struct {
		int min_face;        /* px; 0: auto (detect_min_face) */
		double threshold;
		double nms_iou;
		double cell_threshold;       /* seats / gallery cells: see detect.h */
		char model[CONFIG_PATH_MAX]; /* "" = embedded */
		char verifier[CONFIG_PATH_MAX]; /* "" = embedded (with the embedded model), "none" = off */
	} detector;

	struct {
		char model[CONFIG_PATH_MAX]; /* "" = embedded */
		int flip_tta;
		int scale_tta;
	} classifier;

	struct {
		double iou;
		double ttl;
		double half_life;
	} tracking;

	int n_seats;
	struct config_seat seats[CONFIG_MAX_SEATS];

	struct {
		int rows, cols;
		int n_names;
		char names[CONFIG_MAX_SEATS][CONFIG_NAME_MAX]; /* row-major */
	} gallery;

	struct {
		double window;
	} summary;

	int n_alerts;
	struct config_alert alerts[CONFIG_MAX_ALERTS];

	struct {
		int mode;   /* enum config_mode */
		int format; /* enum config_format */
		double interval;
		char log[CONFIG_PATH_MAX];
		int per_student;
		int aggregate_only;
		char record[CONFIG_PATH_MAX];
		char report_svg[CONFIG_PATH_MAX];
		char annotate[CONFIG_PATH_MAX];
		char metrics_file[CONFIG_PATH_MAX]; /* Prometheus text file; "" = none */
		int metrics_per_student;
		char room[CONFIG_NAME_MAX];  /* room label; "" = the host name */
	} output;

	struct {
		int ascii;
		int color;
	} ui;
};

enum config_type {
	CONFIG_T_INT = 0,
	CONFIG_T_FLOAT,
	CONFIG_T_BOOL,
	CONFIG_T_STRING,
	CONFIG_T_ENUM,   /* stored as int index into choices */
	CONFIG_T_SEATS,  /* list of {name, x, y, w, h} */
	CONFIG_T_ALERTS, /* list of {name, condition | emotion+above/below, for} */
	CONFIG_T_NAMES,  /* list of names (gallery) */
	CONFIG_T_OPTIONS, /* mapping of FFmpeg option: value, kept as "key=value" lines;
			   * config_set() adds one "key=value" ("" clears) */
};

/* One row of the schema table. */
struct config_key {
	const char *key;     /* dotted: "detector.min_face" */
	enum config_type type;
	double min, max;     /* numbers: inclusive range */
	const char *def;     /* default as it would be written in YAML */
	const char *unit;    /* "s", "px", "fps", "" */
	const char *help;    /* one line */
	const char *choices; /* enums: "a|b|c" in index order; integers: one
			      * keyword stored as 0 (min > 0), e.g. "auto";
			      * else NULL */
	size_t off;          /* where in struct emo_config */
	size_t size;         /* strings: buffer size */
};

/* The schema table: *n gets its length. Static, never NULL. */
const struct config_key *config_schema(int *n);
/* Row for a dotted key, or NULL. */
const struct config_key *config_key_find(const char *key);

/* Fill *cfg with the built-in defaults (zeroes every byte first). */
void config_defaults(struct emo_config *cfg);

/* Read a YAML file over *cfg (only the keys the file sets change). An empty
 * file changes nothing. Returns EMO_OK, or EMO_ECONFIG / EMO_EIO with
 * file:line:col and message in *err; on error *cfg is unchanged. */
int config_load(struct emo_config *cfg, const char *path, struct emo_err *err);
/* Same from memory; name is used in error messages. */
int config_load_mem(struct emo_config *cfg, const char *buf, size_t len, const char *name,
		    struct emo_err *err);

/* Set one scalar key from text, as a command-line override: config_set(cfg,
 * "fps", "10", err). Lists (seats, alerts, gallery.names) cannot be set this
 * way. Returns EMO_OK or EMO_ECONFIG (message names the key); *cfg unchanged
 * on error. */
int config_set(struct emo_config *cfg, const char *key, const char *value, struct emo_err *err);

/* 1 when s holds a character that names and paths may not (C0 controls and
 * DEL, C1 controls, the invisible bidirectional marks, embeddings,
 * overrides and isolates), 0 otherwise. s is UTF-8. For callers that take
 * names outside the configuration, so that they refuse the same ones
 * (emotop scan's paths). */
int config_has_control(const char *s);

/* Checks across keys (gallery vs seats, names vs cells). EMO_OK or
 * EMO_ECONFIG. config_load() runs it; call it again after config_set(). */
int config_check(const struct emo_config *cfg, struct emo_err *err);

/* The config file to use when none is given: $XDG_CONFIG_HOME/emotop/config.yaml
 * (when XDG_CONFIG_HOME is an absolute path, else $HOME/.config/emotop/config.yaml)
 * if it exists, else the first DIR/emotop/config.yaml that exists for the
 * absolute DIRs of $XDG_CONFIG_DIRS (default /etc/xdg), written into buf.
 * Returns 1 if found, 0 if none. */
int config_default_path(char *buf, size_t len);

/* Write *cfg as a commented YAML file that config_load() reads back to the
 * same values, but for the credentials of an URL (user:password@, token=
 * and other secret query values: see emo_redact_url()), written as ***.
 * Returns EMO_OK or EMO_EIO. */
int config_dump(const struct emo_config *cfg, FILE *f);
/* Write the schema as a table for people (--help-config). */
void config_print_schema(FILE *f);

/* Resolve the seats or the gallery grid for a w x h frame into pixel boxes,
 * clipped to the frame. Writes at most max regions to boxes and, when names
 * is not NULL, their names (pointers into *cfg; "" for an unnamed gallery
 * cell). Returns the count (0 when neither is configured). */
int config_regions(const struct emo_config *cfg, int w, int h, struct emo_box *boxes,
		   const char **names, int max);

/* "negative_share > 0.3" style text of an alert into buf. */
void config_alert_format(const struct config_alert *a, char *buf, size_t len);

/* Names for enum values. */
const char *config_mode_name(int mode);
const char *config_format_name(int format);

#endif
