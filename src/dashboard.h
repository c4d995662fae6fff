/* dashboard.h - the interactive terminal dashboard (ncursesw), app code.
 *
 * The dashboard only draws struct summary snapshots it is given and reports
 * the keys that concern the engine (pause, reset, quit) back to the caller;
 * it never calls the engine. No curses types leak out of this header.
 *
 * Typical loop (single thread; curses is not thread-safe):
 *
 *     setlocale(LC_CTYPE, "");          // before dashboard_open (it also does)
 *     struct dashboard_opts o;
 *     dashboard_opts_default(&o);
 *     o.ascii = opt_ascii;
 *     struct dashboard *d = dashboard_open(&o, &err);
 *     if (!d) -> print err.msg, fall back to headless
 *     while (!stop) {
 *         if (!paused) analyse a frame, summary_update();
 *         summary_snapshot(ctx, now, &snap);
 *         dashboard_draw(d, &snap);     // copies, repaints at most max_fps
 *         switch (dashboard_poll(d, ms_until_next_frame)) {
 *         case DASHBOARD_QUIT: stop = 1; break;
 *         case DASHBOARD_PAUSE: paused = 1; break;
 *         case DASHBOARD_RESUME: paused = 0; break;
 *         case DASHBOARD_RESET: summary_reset(ctx); break;
 *         default: break;
 *         }
 *     }
 *     dashboard_close(d);                // terminal back, stderr replayed
 *
 * Terminal hygiene: newterm() (never initscr), no SIGWINCH handler of our
 * own (KEY_RESIZE), stderr redirected while curses runs (to o.stderr_log, or
 * to an unlinked temporary file replayed on close), and the terminal restored
 * on every exit path: dashboard_close(), an atexit() hook (exit() anywhere),
 * and a handler for fatal signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT)
 * that uses only async-signal-safe calls (write() of the terminfo strings
 * captured at open, tcsetattr() of the termios saved before curses, dup2() of
 * the saved stderr, then read()/write() of what the temporary file caught, so
 * a last message such as glibc's "free(): invalid pointer" is not lost) and
 * then hands the signal to the handler that was installed before the
 * dashboard opened (a sanitizer's report still appears), or to the default
 * action: a CPU fault recurs when the handler returns, a raised or sent
 * signal is raised again.
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT: if the application has no handler for
 * them when the dashboard opens, the dashboard installs one that only sets a
 * flag, and dashboard_poll() then returns DASHBOARD_QUIT; an application
 * handler installed before or after is left alone.
 */
#ifndef EMOTOP_DASHBOARD_H
#define EMOTOP_DASHBOARD_H

#include "emotop/err.h"

struct summary;

enum dashboard_action {
	DASHBOARD_NONE = 0,
	DASHBOARD_QUIT = 1,   /* q (or a termination signal, see above) */
	DASHBOARD_PAUSE = 2,  /* p: stop analysing; the header shows PAUSED */
	DASHBOARD_RESUME = 3, /* p again */
	DASHBOARD_RESET = 4,  /* r: the caller should summary_reset() */
};

/* The preview pane (key f): the current frame, downscaled by the caller,
 * with the faces' boxes, ids, names and labels and the configured seats or
 * gallery cells. Plain data, no pointers: the caller keeps one for the run
 * and fills it only while dashboard_preview_on() says the pane is shown;
 * dashboard_preview() copies it. Nothing of it is stored anywhere else. */
#define DASHBOARD_PREVIEW_MAX_W 320   /* pixels of the downscaled frame */
#define DASHBOARD_PREVIEW_MAX_H 240
#define DASHBOARD_PREVIEW_MAX_FACES 64
#define DASHBOARD_PREVIEW_MAX_REGIONS 256 /* CONFIG_MAX_SEATS */
#define DASHBOARD_PREVIEW_NAME_MAX 64

struct dashboard_preview_box {
	int x, y, w, h;                      /* in the preview's pixels */
	int id;                              /* track id; -1: untracked; seat: index */
	int cls;                             /* face: dominant class, -1: none; seat: -1 */
	char name[DASHBOARD_PREVIEW_NAME_MAX]; /* "" when none */
};

struct dashboard_preview {
	int w, h;                            /* 0 x 0: no frame yet */
	int frame_w, frame_h;                /* the source frame's size */
	unsigned char px[DASHBOARD_PREVIEW_MAX_W * DASHBOARD_PREVIEW_MAX_H]; /* gray, stride w */
	int n_faces, n_regions;
	struct dashboard_preview_box faces[DASHBOARD_PREVIEW_MAX_FACES];
	struct dashboard_preview_box regions[DASHBOARD_PREVIEW_MAX_REGIONS];
};

enum dashboard_sort {
	DASHBOARD_SORT_NAME = 0,     /* name, unnamed tracks by id after them */
	DASHBOARD_SORT_EMOTION = 1,  /* dominant emotion, then confidence */
	DASHBOARD_SORT_NEGATIVE = 2, /* most negative first */
	DASHBOARD_SORT_SEEN = 3,     /* most recently seen first */
};

struct dashboard_opts {
	int ascii;              /* 1: ASCII only (also when the locale is not UTF-8) */
	int no_color;           /* 1: monochrome (also when NO_COLOR is set and non-empty) */
	int mouse;              /* 1: mouse wheel scrolls (default 1) */
	int stacked;            /* 1: start with stacked bars instead of seven bars */
	double max_fps;         /* repaint cap for new snapshots, default 10 */
	enum dashboard_sort sort;
	const char *stderr_log; /* fd 2 is appended here while curses runs; NULL:
				 * a temporary file, copied back to stderr on close */
};

void dashboard_opts_default(struct dashboard_opts *o);

/* Take over the terminal (stdout; keys from stdin, or from /dev/tty when
 * stdin is not a terminal: the video, as in `emotop -`). Returns a new
 * dashboard, close with dashboard_close(); NULL on error with *err set
 * (EMO_EINVAL: stdout is not a terminal, stdin is not one and /dev/tty
 * cannot be opened, TERM unset/dumb/unknown, or another dashboard is open;
 * EMO_EIO: stderr could not be redirected; EMO_ENOMEM), terminal untouched. */
struct dashboard *dashboard_open(const struct dashboard_opts *o, struct emo_err *err);

/* Restore the terminal, put stderr back (replaying what was written to it
 * while curses ran, unless o.stderr_log was given) and free d. NULL-safe. */
void dashboard_close(struct dashboard *d);

/* Copy *s (s may be NULL: keep the last one) and repaint if the last paint
 * is older than 1/max_fps; otherwise the next dashboard_poll() repaints it. */
void dashboard_draw(struct dashboard *d, const struct summary *s);

/* Handle input for up to timeout_ms (0: only what is pending; < 0: until an
 * action), repainting on input, resize and due snapshots. Returns as soon as
 * a key asks for an engine action: one of enum dashboard_action.
 * DASHBOARD_QUIT also when the terminal is gone (it hung up: polls as
 * POLLHUP, reads 0 bytes, fails tcgetattr; or reads return empty at once
 * again and again), with or without a SIGHUP; from then on the dashboard
 * paints nothing and every poll returns DASHBOARD_QUIT at once. */
int dashboard_poll(struct dashboard *d, int timeout_ms);

/* Is the terminal still there? 0 once it hung up (a SIGHUP that comes
 * with a hangup) or dashboard_poll() found it gone, 1 while it answers (a
 * SIGHUP sent by somebody, such as logrotate). */
int dashboard_terminal_alive(const struct dashboard *d);

/* Tell the dashboard the engine's pause state (e.g. started paused, or a
 * pause decided elsewhere); p then toggles from it. */
void dashboard_set_paused(struct dashboard *d, int paused);
int dashboard_paused(const struct dashboard *d);

/* A one-line status message shown in the footer for `seconds` (e.g.
 * "source lost, reconnecting in 4s"). The text is copied. */
void dashboard_message(struct dashboard *d, double seconds, const char *msg);

/* Is the preview pane shown (d may be NULL: 0)? The caller fills and
 * hands a struct dashboard_preview only then. */
int dashboard_preview_on(const struct dashboard *d);

/* Copy *p for the preview pane (drawn at the next repaint). */
void dashboard_preview(struct dashboard *d, const struct dashboard_preview *p);

/* Async-signal-safe emergency restore, for an application signal handler
 * that is about to end the process without returning (e.g. a second ^C that
 * re-raises with SIG_DFL): writes the terminfo strings that leave curses
 * (attributes off, cursor on, keypad off, alternate screen off), restores the
 * termios saved before curses, puts stderr back and, when stderr went to the
 * temporary file, copies what it caught to the real stderr (once: close
 * does not replay it again). Does nothing when no dashboard is open. The
 * fatal-signal handler of the dashboard uses it too. */
void dashboard_signal_restore(void);

/* Name of a sort order ("name", "emotion", "negative", "seen"). */
const char *dashboard_sort_name(enum dashboard_sort s);

#endif
