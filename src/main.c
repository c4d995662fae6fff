/* main.c - emotop's entry point: argv and config merge, mode choice,
 * signals (they only set flags), then the run loop in pipeline.c. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emotop/blob.h"
#include "emotop/config.h"
#include "emotop/cpu.h"
#include "emotop/qnn.h"
#include "dashboard.h"
#include "pipeline.h"

/* `emotop scan` lives in src/scan.c (the detector's still-image mode). */
#include "scan.h"

#ifndef EMOTOP_VERSION
#define EMOTOP_VERSION "unknown"
#endif

/* The version, the kernel path this CPU gets and the embedded models. */
static void print_version(void)
{
	struct cpu_info ci;
	struct emo_blob b[EMO_MAX_BLOBS];
	const int nb = emo_blobs(b, EMO_MAX_BLOBS);
	int n_cls = 0;

	for (int i = 0; i < nb; i++)
		n_cls += b[i].classifier && b[i].len;
	cpu_detect(&ci);
	printf("emotop %s\n", EMOTOP_VERSION);
	printf("kernels: %s on %s\n", qnn_path_name(qnn_best_path()), ci.model);
	for (int i = 0; i < nb; i++)
		if (b[i].len)
			printf("embedded model %s: %s, %zu bytes\n", b[i].name,
			       !b[i].classifier ? (strcmp(b[i].name, "faceverify") ? "face detector"
								   : "face verifier (second stage)")
			       : n_cls > 1  ? "emotion classifier (one of an ensemble)"
					    : "emotion classifier",
			       b[i].len);
}

/* A message on stderr, "emotop: " first, through the one redactor (a
 * source URL's password or token never leaves). */
static void complain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void complain(const char *fmt, ...)
{
	char msg[2048], shown[2200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emo_redact_text(msg, shown, sizeof(shown));
	fprintf(stderr, "emotop: %s\n", shown);
}

static volatile sig_atomic_t stop_flag, hup_flag;

static void on_stop(int sig)
{
	if (stop_flag) {
		/* a second ^C: give up at once, with the terminal restored if
		 * the dashboard had it (async-signal-safe) */
		dashboard_signal_restore();
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	stop_flag = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	hup_flag = 1;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_hup;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL); /* a closed pipe is a write error, handled */
	/* ours now: a stop the parent left blocked (pending) arrives here */
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGINT);
	sigaddset(&sa.sa_mask, SIGTERM);
	sigaddset(&sa.sa_mask, SIGHUP);
	sigprocmask(SIG_UNBLOCK, &sa.sa_mask, NULL);
}

static void usage(FILE *f)
{
	fputs(
"Usage: emotop [OPTION]... [SOURCE]\n"
"       emotop scan [--json] [--annotate DIR] [--min-face N|auto] [--threshold S] PATH...\n"
"Terminal monitor of facial expressions: reads a video source, finds faces,\n"
"estimates one of 7 expressions per face (angry, disgust, fear, happy, sad,\n"
"surprise, neutral), and shows a live dashboard on a terminal or prints\n"
"summary lines otherwise.\n"
"\n"
"SOURCE: a file, rtsp:// or http(s):// URL, webcam[:N], /dev/videoN,\n"
"screen[:DISPLAY][+X,Y][/WxH], - (stdin) or demo (built-in synthetic clip;\n"
"the default when nothing else is configured).\n"
"\n"
"Input and analysis:\n"
"  -i, --source SOURCE     video source (also the positional argument)\n"
"      --demo              use the built-in demo source\n"
"      --fps N             frames analysed per second (default 5)\n"
"      --realtime          play files at their own speed (the dashboard always does)\n"
"      --duration SECONDS  stop after this long (0: no limit)\n"
"      --min-face PX|auto  smallest face to look for (default auto: a 48th of the\n"
"                          frame's shorter side, 10 to 20 px)\n"
"      --threshold S       face score threshold 0..1 (default 0.5)\n"
"      --model FILE        emotion classifier model (default: built in; none:\n"
"                          no emotion inference, faces only); again, or FILE,FILE:\n"
"                          an ensemble (\\, is a comma in a name)\n"
"      --detector-model FILE  face detector model (default: built in)\n"
"      --verifier-model FILE  its second-stage verifier (default: built in, with\n"
"                          the built-in detector; none: off)\n"
"\n"
"Output:\n"
"      --headless          print summary lines (default when stdout is not a terminal)\n"
"      --dashboard         full-screen dashboard (default on a terminal)\n"
"      --format FMT        headless line format: text, ndjson or csv\n"
"      --interval SECONDS  seconds between summary lines (default 5)\n"
"      --log FILE          also append the lines to FILE (SIGHUP reopens it)\n"
"      --per-student       add one line per student\n"
"      --aggregate-only    class totals only: no per-person data anywhere\n"
"      --record FILE       per-student timeline for later review (.csv or .ndjson)\n"
"      --report-svg FILE   SVG chart of the class mood, written at the end\n"
"      --annotate DIR      save frames with the faces boxed (face images!)\n"
"      --metrics-file FILE replace FILE every interval with the figures for\n"
"                          Prometheus (node_exporter's textfile collector)\n"
"      --ascii             dashboard with ASCII characters only\n"
"      --input-option KEY=VALUE  pass an FFmpeg input option (repeatable;\n"
"                          e.g. rtsp_transport=udp, probesize=5000000)\n"
"\n"
"Configuration:\n"
"  -c, --config FILE       read FILE instead of $XDG_CONFIG_HOME/emotop/config.yaml\n"
"                          (~/.config/emotop/config.yaml), else\n"
"                          /etc/xdg/emotop/config.yaml; flags override it\n"
"      --set KEY=VALUE     set any config key (e.g. --set tracking.ttl=3)\n"
"      --dump-config       print the effective configuration as YAML and exit\n"
"      --help-config       list every config key and exit\n"
"\n"
"  -q, --quiet             only print errors on stderr\n"
"  -v, --verbose           more messages on stderr (twice: debug)\n"
"  -h, --help              show this help and exit\n"
"  -V, --version           show the version, the kernel path and the embedded models\n"
"\n"
"Signals: SIGINT/SIGTERM finish the current frame, print the session summary\n"
"and exit 0; SIGHUP reopens the --log file (also under the dashboard), and\n"
"ends the dashboard like SIGTERM when its terminal hung up.\n"
"\n"
"Exit status: 0 done; 1 runtime failure; 2 bad usage (a flag's value too);\n"
"3 bad configuration file; 4 video source unavailable; 5 model file missing\n"
"or invalid; 6 an output (file or standard output) cannot be written.\n"
"\n"
"emotop estimates the expression on a face, not what a person feels, and is\n"
"often wrong: the shipped classifier is right on 54 % of FER2013's test faces\n"
"(the best published models reach about 3 in 4). It keeps numbers, never\n"
"face images (unless --annotate); names come only from the configuration.\n"
"In the EU, the AI Act\n"
"(Art. 5(1)(f), since 2 February 2025) prohibits emotion inference in\n"
"workplaces and education institutions except for medical or safety\n"
"reasons; elsewhere, get consent and follow the local biometric-data law.\n"
"\n"
"See emotop(1) and emotop.yaml(5).\n", f);
}

enum {
	OPT_DEMO = 256, OPT_FPS, OPT_REALTIME, OPT_DURATION, OPT_MIN_FACE, OPT_THRESHOLD,
	OPT_MODEL, OPT_DET_MODEL, OPT_VER_MODEL, OPT_HEADLESS, OPT_DASHBOARD, OPT_FORMAT, OPT_INTERVAL,
	OPT_LOG, OPT_PER_STUDENT, OPT_AGGREGATE, OPT_RECORD, OPT_SVG, OPT_ANNOTATE, OPT_ASCII,
	OPT_SET, OPT_DUMP, OPT_HELP_CONFIG, OPT_METRICS, OPT_INPUT_OPTION,
};

static const struct option long_opts[] = {
	{"source", required_argument, NULL, 'i'},
	{"demo", no_argument, NULL, OPT_DEMO},
	{"fps", required_argument, NULL, OPT_FPS},
	{"realtime", no_argument, NULL, OPT_REALTIME},
	{"duration", required_argument, NULL, OPT_DURATION},
	{"min-face", required_argument, NULL, OPT_MIN_FACE},
	{"threshold", required_argument, NULL, OPT_THRESHOLD},
	{"model", required_argument, NULL, OPT_MODEL},
	{"detector-model", required_argument, NULL, OPT_DET_MODEL},
	{"verifier-model", required_argument, NULL, OPT_VER_MODEL},
	{"headless", no_argument, NULL, OPT_HEADLESS},
	{"dashboard", no_argument, NULL, OPT_DASHBOARD},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"interval", required_argument, NULL, OPT_INTERVAL},
	{"log", required_argument, NULL, OPT_LOG},
	{"per-student", no_argument, NULL, OPT_PER_STUDENT},
	{"aggregate-only", no_argument, NULL, OPT_AGGREGATE},
	{"record", required_argument, NULL, OPT_RECORD},
	{"report-svg", required_argument, NULL, OPT_SVG},
	{"annotate", required_argument, NULL, OPT_ANNOTATE},
	{"ascii", no_argument, NULL, OPT_ASCII},
	{"metrics-file", required_argument, NULL, OPT_METRICS},
	{"input-option", required_argument, NULL, OPT_INPUT_OPTION},
	{"config", required_argument, NULL, 'c'},
	{"set", required_argument, NULL, OPT_SET},
	{"dump-config", no_argument, NULL, OPT_DUMP},
	{"help-config", no_argument, NULL, OPT_HELP_CONFIG},
	{"quiet", no_argument, NULL, 'q'},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

/* A flag that sets a config key, applied after the config file. */
struct override {
	const char *flag; /* for messages */
	const char *key;
	const char *value;
};

#define MAX_OVERRIDES 128

struct cli {
	const char *config;
	struct override ov[MAX_OVERRIDES];
	int n_ov;
	int dump, help_config, verbose;
};

static int add(struct cli *c, const char *flag, const char *key, const char *value)
{
	if (c->n_ov >= MAX_OVERRIDES) {
		complain("too many options");
		return -1;
	}
	c->ov[c->n_ov].flag = flag;
	c->ov[c->n_ov].key = key;
	c->ov[c->n_ov].value = value;
	c->n_ov++;
	return 0;
}

/* --model again: one more ensemble member (or list of them), after a
 * comma. The list lives in a static buffer until the process ends. */
static int add_model(struct cli *c, const char *value)
{
	static char list[2][8192];
	static int cur;

	for (int i = c->n_ov - 1; i >= 0; i--) {
		int n;
		if (strcmp(c->ov[i].flag, "--model"))
			continue;
		cur ^= 1;
		n = snprintf(list[cur], sizeof(list[cur]), "%s,%s", c->ov[i].value, value);
		if (n < 0 || (size_t)n >= sizeof(list[cur])) {
			fprintf(stderr, "emotop: --model: too many or too long names\n");
			return -1;
		}
		c->ov[i].value = list[cur];
		return 0;
	}
	return add(c, "--model", "classifier.model", value);
}

/* Is arg "--name=value" for a long option that takes no value? (getopt
 * then reports it with optopt set to the option's code, not a letter.) */
static int takes_no_value(const char *arg)
{
	size_t n = strcspn(arg, "=");

	if (strncmp(arg, "--", 2) || !arg[n])
		return 0;
	for (const struct option *o = long_opts; o->name; o++)
		if (o->has_arg == no_argument && strlen(o->name) == n - 2 && !strncmp(o->name, arg + 2, n - 2))
			return 1;
	return 0;
}

/* Parse argv into *c. Returns -1 to exit with status *status. */
static int parse_args(int argc, char **argv, struct cli *c, int *status)
{
	int ch, idx;

	memset(c, 0, sizeof(*c));
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":i:c:qvhV", long_opts, &idx)) != -1) {
		int rc = 0;

		switch (ch) {
		case 'i': rc = add(c, "--source", "source", optarg); break;
		case OPT_DEMO: rc = add(c, "--demo", "source", "demo"); break;
		case OPT_FPS: rc = add(c, "--fps", "fps", optarg); break;
		case OPT_REALTIME: rc = add(c, "--realtime", "realtime", "true"); break;
		case OPT_DURATION: rc = add(c, "--duration", "duration", optarg); break;
		case OPT_MIN_FACE: rc = add(c, "--min-face", "detector.min_face", optarg); break;
		case OPT_THRESHOLD: rc = add(c, "--threshold", "detector.threshold", optarg); break;
		case OPT_MODEL: rc = add_model(c, optarg); break;
		case OPT_DET_MODEL: rc = add(c, "--detector-model", "detector.model", optarg); break;
		case OPT_VER_MODEL: rc = add(c, "--verifier-model", "detector.verifier", optarg); break;
		case OPT_HEADLESS: rc = add(c, "--headless", "output.mode", "headless"); break;
		case OPT_DASHBOARD: rc = add(c, "--dashboard", "output.mode", "dashboard"); break;
		case OPT_FORMAT: rc = add(c, "--format", "output.format", optarg); break;
		case OPT_INTERVAL: rc = add(c, "--interval", "output.interval", optarg); break;
		case OPT_LOG: rc = add(c, "--log", "output.log", optarg); break;
		case OPT_PER_STUDENT: rc = add(c, "--per-student", "output.per_student", "true"); break;
		case OPT_AGGREGATE: rc = add(c, "--aggregate-only", "output.aggregate_only", "true"); break;
		case OPT_RECORD: rc = add(c, "--record", "output.record", optarg); break;
		case OPT_SVG: rc = add(c, "--report-svg", "output.report_svg", optarg); break;
		case OPT_ANNOTATE: rc = add(c, "--annotate", "output.annotate", optarg); break;
		case OPT_ASCII: rc = add(c, "--ascii", "ui.ascii", "true"); break;
		case OPT_METRICS: rc = add(c, "--metrics-file", "output.metrics_file", optarg); break;
		case OPT_INPUT_OPTION: rc = add(c, "--input-option", "capture.input_options", optarg); break;
		case OPT_SET: {
			char *eq = strchr(optarg, '=');

			if (!eq || eq == optarg) {
				complain("--set: expected KEY=VALUE, got '%s'", optarg);
				*status = EMOTOP_EXIT_USAGE;
				return -1;
			}
			*eq = '\0';
			rc = add(c, "--set", optarg, eq + 1);
			break;
		}
		case 'c': c->config = optarg; break;
		case OPT_DUMP: c->dump = 1; break;
		case OPT_HELP_CONFIG: c->help_config = 1; break;
		case 'q': c->verbose = -1; break;
		case 'v': c->verbose = c->verbose < 0 ? 1 : c->verbose + 1; break;
		case 'h':
			usage(stdout);
			*status = EMOTOP_EXIT_OK;
			return -1;
		case 'V':
			print_version();
			*status = EMOTOP_EXIT_OK;
			return -1;
		case ':':
			complain("option %s needs a value", argv[optind - 1]);
			fprintf(stderr, "Try 'emotop --help'.\n");
			*status = EMOTOP_EXIT_USAGE;
			return -1;
		default:
			if (optopt > 0 && optopt < 128 && argv[optind - 1][1] != '-')
				complain("unknown option -%c", optopt);
			else if (takes_no_value(argv[optind - 1]))
				complain("option %.*s takes no value",
					(int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
			else
				complain("unknown option %s", argv[optind - 1]);
			fprintf(stderr, "Try 'emotop --help'.\n");
			*status = EMOTOP_EXIT_USAGE;
			return -1;
		}
		if (rc) {
			*status = EMOTOP_EXIT_USAGE;
			return -1;
		}
	}
	if (optind < argc - 1) {
		complain("one source at most (got '%s' and '%s')", argv[optind],
			argv[optind + 1]);
		*status = EMOTOP_EXIT_USAGE;
		return -1;
	}
	if (optind == argc - 1 && add(c, "SOURCE", "source", argv[optind])) {
		*status = EMOTOP_EXIT_USAGE;
		return -1;
	}
	return 0;
}

/* Defaults, then the config file, then the flags. Returns an exit status. */
static int build_config(const struct cli *c, struct emo_config *cfg)
{
	char path[CONFIG_PATH_MAX], msg[900];
	const char *file = c->config;
	struct emo_err err;

	config_defaults(cfg);
	if (!file && config_default_path(path, sizeof(path)))
		file = path;
	memset(&err, 0, sizeof(err));
	if (file && config_load(cfg, file, &err)) {
		emo_err_format(&err, msg, sizeof(msg));
		complain("%s", msg);
		return EMOTOP_EXIT_CONFIG;
	}
	for (int i = 0; i < c->n_ov; i++) {
		memset(&err, 0, sizeof(err));
		if (config_set(cfg, c->ov[i].key, c->ov[i].value, &err)) {
			complain("%s: %s", c->ov[i].flag, err.msg);
			return EMOTOP_EXIT_USAGE;
		}
	}
	if (config_check(cfg, &err)) {
		complain("%s", err.msg);
		return EMOTOP_EXIT_CONFIG;
	}
	if (cfg->output.aggregate_only && cfg->output.annotate[0]) {
		complain("--annotate saves face images: it cannot be used with "
				"aggregate_only");
		return EMOTOP_EXIT_USAGE;
	}
	if (!cfg->source[0]) {
		complain("no source given (try 'emotop --demo' or 'emotop FILE')");
		return EMOTOP_EXIT_USAGE;
	}
	return EMOTOP_EXIT_OK;
}

/* Dashboard on an interactive terminal, else headless. With the video on
 * stdin (emotop -) the dashboard reads its keys from /dev/tty, as less and
 * fzf do; without one, say so and write lines. */
static int want_dashboard(const struct emo_config *cfg, int *forced)
{
	const char *term = getenv("TERM");
	int fd;

	*forced = cfg->output.mode != CONFIG_MODE_AUTO;
	if (cfg->output.mode == CONFIG_MODE_DASHBOARD)
		return 1;
	if (cfg->output.mode == CONFIG_MODE_HEADLESS)
		return 0;
	if (!isatty(STDOUT_FILENO) || !term || !*term || !strcmp(term, "dumb"))
		return 0;
	if (isatty(STDIN_FILENO))
		return 1;
	if (strcmp(cfg->source, "-"))
		return 0;
	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		complain("stdin is the video and there is no terminal for the dashboard's keys "
			 "(/dev/tty: %s): summary lines instead", strerror(errno));
		return 0;
	}
	close(fd);
	return 1;
}

int main(int argc, char **argv)
{
	static struct emo_config cfg; /* large: not on the stack */
	struct pipeline_opts po;
	struct cli cli;
	int status = EMOTOP_EXIT_OK;

	if (argc > 1 && !strcmp(argv[1], "scan"))
		return scan_main(argc - 1, argv + 1);
	/* first: a stop while the models load or the source opens still ends
	 * with the session summary (before, SIGTERM here killed with 143) */
	install_signals();
	if (parse_args(argc, argv, &cli, &status))
		return status;
	if (cli.help_config) {
		config_print_schema(stdout);
		return EMOTOP_EXIT_OK;
	}
	if ((status = build_config(&cli, &cfg)))
		return status;
	if (cli.dump)
		return config_dump(&cfg, stdout) || fflush(stdout) ? EMOTOP_EXIT_RUNTIME : EMOTOP_EXIT_OK;

	memset(&po, 0, sizeof(po));
	po.cfg = &cfg;
	po.dashboard = want_dashboard(&cfg, &po.forced);
	po.verbose = cli.verbose;
	po.stop = &stop_flag;
	po.hup = &hup_flag;
	if (!po.dashboard)
		setvbuf(stdout, NULL, _IOLBF, 0);
	return pipeline_run(&po);
}
