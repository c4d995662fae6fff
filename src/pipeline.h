/* pipeline.h - the run loop (application code): capture thread -> engine
 * at the analysis rate -> headless lines, log, record, dashboard, final
 * summary. main.c parses argv and the config, then calls pipeline_run().
 */
#ifndef EMOTOP_PIPELINE_H
#define EMOTOP_PIPELINE_H

#include <signal.h>

#include "emotop/config.h"
#include "emotop/err.h"

/* Process exit statuses (documented in --help and emotop(1)). */
enum emotop_exit {
	EMOTOP_EXIT_OK = 0,      /* done: source ended, --duration reached, or a signal */
	EMOTOP_EXIT_RUNTIME = 1, /* failure while running */
	EMOTOP_EXIT_USAGE = 2,   /* bad command line */
	EMOTOP_EXIT_CONFIG = 3,  /* bad configuration file or value */
	EMOTOP_EXIT_SOURCE = 4,  /* video source unavailable or failed for good */
	EMOTOP_EXIT_MODEL = 5,   /* a model file is missing or invalid */
	EMOTOP_EXIT_OUTPUT = 6,  /* an output (log, record, SVG, annotate, stdout) cannot be written */
};

struct pipeline_opts {
	const struct emo_config *cfg; /* merged config (file + flags) */
	int dashboard;                /* 1: ncurses dashboard; 0: headless lines on stdout */
	int forced;                   /* the mode was asked for (no fallback) */
	int verbose;                  /* -1 quiet, 0 normal, 1 verbose, 2 debug */
	volatile sig_atomic_t *stop;  /* set by SIGINT/SIGTERM: finish and summarise */
	volatile sig_atomic_t *hup;   /* set by SIGHUP: reopen the log; cleared here */
};

/* Run until the source ends, cfg->duration passes or *stop is set. Messages
 * go to stderr. Returns an enum emotop_exit status. */
int pipeline_run(const struct pipeline_opts *o);

#endif
