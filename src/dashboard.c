/* dashboard.c - the ncurses dashboard: terminal hygiene, open/close, resize,
 * the frame loop and the keys.
 *
 * The dashboard is emotop's only curses user, in four files: this one,
 * dashboard_model.c (the rows and the timelines), dashboard_panels.c (one
 * frame of panels, built off-screen) and dashboard_chafa.c (the preview's
 * picture); dashboard_int.h holds what they share. This file owns the
 * process-wide state of the exit paths, and struct dashboard: it makes and
 * frees it, its windows and its buffers. See dashboard.h for the
 * signal/atexit/stderr contract.
 */
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <curses.h>

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "dashboard.h"
#include "dashboard_chafa.h"
#include "emotop/emotion.h"
#include "emotop/layout.h"
#include "emotop/summary.h"
#include "dashboard_int.h"

/* wget_wch() coming back empty-handed this many times in a row, each well
 * before its timeout and not for a signal: the terminal is gone even if it
 * does not say so (a tty that reads 0 bytes), so never spin on it */
#define EARLY_ERR_MAX 50

/* Wheel events: buttons 4 (up) and 5 (down); ncurses ABI 5 has no button 5. */
#ifdef BUTTON5_PRESSED
#define WHEEL_MASK (BUTTON4_PRESSED | BUTTON5_PRESSED)
#else
#define WHEEL_MASK BUTTON4_PRESSED
#endif

/* ---- process-wide state for the exit paths (one dashboard at a time) ---- */

static struct dashboard *active;
static int atexit_done;
static volatile sig_atomic_t quit_signal;
/* Read by the fatal-signal handler: plain data filled before it is armed. */
static char restore_seq[256];
static size_t restore_len;
static struct termios saved_tio;
static int have_tio;
static int in_fd = STDIN_FILENO; /* the keys: stdin, or /dev/tty (d->tty_in) */
static int saved_err_fd = -1;  /* the real stderr while redirected */
static int err_tmp_fd = -1;    /* where stderr goes while curses runs */
static int err_is_tmp;
static volatile sig_atomic_t err_replayed; /* the signal path replayed it */
static char replay_buf[4096];  /* the signal path's copy buffer */
static const int fatal_sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
static const int quit_sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
static struct sigaction old_fatal[sizeof fatal_sigs / sizeof fatal_sigs[0]];
static int quit_installed[sizeof quit_sigs / sizeof quit_sigs[0]];

double dashboard_mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Write all n bytes of b to fd; async-signal-safe. Returns 0, or -1. */
static int write_all(int fd, const char *b, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copy what the temporary file caught while curses ran to stderr (put back
 * before), once; async-signal-safe (the fatal path replays through it). */
static void replay_stderr(void)
{
	ssize_t n;

	if (!err_is_tmp || err_tmp_fd < 0 || err_replayed)
		return;
	err_replayed = 1;
	if (lseek(err_tmp_fd, 0, SEEK_SET) != 0)
		return;
	while ((n = read(err_tmp_fd, replay_buf, sizeof replay_buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write_all(STDERR_FILENO, replay_buf, (size_t)n) < 0)
			break;
	}
}

void dashboard_signal_restore(void)
{
	int saved_errno = errno;

	if (restore_len)
		write_all(STDOUT_FILENO, restore_seq, restore_len);
	if (have_tio)
		tcsetattr(in_fd, TCSAFLUSH, &saved_tio);
	if (saved_err_fd >= 0) {
		dup2(saved_err_fd, STDERR_FILENO);
		/* the last words: glibc's "free(): invalid pointer", an assertion */
		replay_stderr();
	}
	errno = saved_errno;
}

/* Put the terminal and stderr back, then let the handler that was there
 * before the dashboard (a sanitizer's, the application's, or the default
 * action) have the signal. A fault raised by the CPU (si_code > 0) comes
 * back by itself when the faulting instruction runs again after we return,
 * with its real siginfo; a sent or raised signal is raised again, and is
 * delivered to that handler as soon as this one returns. */
static void on_fatal_signal(int sig, siginfo_t *info, void *uctx)
{
	struct sigaction sa;
	size_t i;

	(void)uctx;
	dashboard_signal_restore();
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof fatal_sigs / sizeof fatal_sigs[0]; i++)
		if (fatal_sigs[i] == sig) {
			sa = old_fatal[i];
			break;
		}
	/* an ignored fatal signal would leave a process without its screen */
	if (!(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == SIG_IGN)
		sa.sa_handler = SIG_DFL;
	sigaction(sig, &sa, NULL);
	/* (an action-optional machine-check SIGBUS is asynchronous: it does not
	 * come back by itself) */
	if (info && info->si_code > 0 && sig != SIGABRT &&
	    !(sig == SIGBUS && info->si_code == BUS_MCEERR_AO))
		return;
	raise(sig);
}

static void on_quit_signal(int sig)
{
	quit_signal = sig;
}

/* The terminfo strings that undo what curses set up, in the order endwin()
 * would send them. Called before any handler is armed. */
static void capture_restore_seq(int mouse)
{
	static const char *const caps[] = {"sgr0", "cnorm", "rmkx", "rmcup"};
	size_t i;
	size_t len = 0;

	restore_len = 0; /* the handler reads restore_seq only up to restore_len */
	if (mouse) {
		static const char m[] = "\033[?1006l\033[?1000l";

		memcpy(restore_seq, m, sizeof m - 1);
		len = sizeof m - 1;
	}
	for (i = 0; i < sizeof caps / sizeof caps[0]; i++) {
		const char *s = tigetstr(caps[i]);
		size_t n;

		if (!s || s == (char *)-1)
			continue;
		n = strlen(s);
		if (len + n >= sizeof restore_seq)
			break;
		memcpy(restore_seq + len, s, n);
		len += n;
	}
	restore_len = len;
}

static int redirect_stderr(const char *log, struct emo_err *err)
{
	int fd;

	fflush(stderr);
	if (log) {
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd < 0)
			return emo_seterr(err, EMO_EIO, log, 0, 0, "cannot open stderr log: %s",
					  strerror(errno));
		err_is_tmp = 0;
	} else {
		const char *dir = getenv("TMPDIR");
		char path[512];

		snprintf(path, sizeof path, "%s/emotop-stderr.XXXXXX", dir && *dir ? dir : "/tmp");
		fd = mkstemp(path);
		if (fd < 0)
			return emo_seterr(err, EMO_EIO, path, 0, 0, "cannot create stderr buffer: %s",
					  strerror(errno));
		unlink(path);
		err_is_tmp = 1;
	}
	saved_err_fd = dup(STDERR_FILENO);
	if (saved_err_fd < 0 || dup2(fd, STDERR_FILENO) < 0) {
		int e = errno;

		if (saved_err_fd >= 0)
			close(saved_err_fd);
		saved_err_fd = -1;
		close(fd);
		return emo_seterr(err, EMO_EIO, NULL, 0, 0, "cannot redirect stderr: %s", strerror(e));
	}
	fcntl(saved_err_fd, F_SETFD, FD_CLOEXEC);
	err_tmp_fd = fd;
	err_replayed = 0;
	return EMO_OK;
}

/* Put stderr back; replay what the temporary file caught. */
static void restore_stderr(void)
{
	if (saved_err_fd < 0)
		return;
	fflush(stderr);
	dup2(saved_err_fd, STDERR_FILENO);
	close(saved_err_fd);
	saved_err_fd = -1;
	replay_stderr();
	if (err_tmp_fd >= 0)
		close(err_tmp_fd);
	err_tmp_fd = -1;
}

static void arm_signals(void)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_sigaction = on_fatal_signal;
	sa.sa_flags = SA_SIGINFO;
	for (i = 0; i < sizeof fatal_sigs / sizeof fatal_sigs[0]; i++)
		sigaction(fatal_sigs[i], &sa, &old_fatal[i]);
	sa.sa_flags = 0;
	quit_signal = 0;
	for (i = 0; i < sizeof quit_sigs / sizeof quit_sigs[0]; i++) {
		struct sigaction old;

		quit_installed[i] = 0;
		if (sigaction(quit_sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
			sa.sa_handler = on_quit_signal;
			sa.sa_flags = 0; /* no SA_RESTART: wake a blocked getch */
			sigaction(quit_sigs[i], &sa, NULL);
			quit_installed[i] = 1;
		}
	}
}

static void disarm_signals(void)
{
	size_t i;

	for (i = 0; i < sizeof fatal_sigs / sizeof fatal_sigs[0]; i++)
		sigaction(fatal_sigs[i], &old_fatal[i], NULL);
	for (i = 0; i < sizeof quit_sigs / sizeof quit_sigs[0]; i++) {
		struct sigaction old;

		/* only if it is still ours */
		if (quit_installed[i] && sigaction(quit_sigs[i], NULL, &old) == 0 &&
		    old.sa_handler == on_quit_signal)
			signal(quit_sigs[i], SIG_DFL);
		quit_installed[i] = 0;
	}
}

static void free_windows(struct dashboard *d)
{
	for (int i = 0; i < W_COUNT; i++)
		if (d->win[i]) {
			delwin(d->win[i]);
			d->win[i] = NULL;
		}
	if (d->help_win) {
		delwin(d->help_win);
		d->help_win = NULL;
	}
	if (d->preview_win) {
		delwin(d->preview_win);
		d->preview_win = NULL;
	}
}

/* Leave curses and give the terminal and stderr back; idempotent. */
static void shutdown_terminal(struct dashboard *d)
{
	if (!d->scr)
		return;
	free_windows(d);
	if (d->mouse)
		mousemask(0, NULL);
	endwin();
	fflush(stdout);
	restore_stderr();
	disarm_signals();
	restore_len = 0;
	have_tio = 0;
	delscreen(d->scr);
	d->scr = NULL;
}

static void dashboard_atexit(void)
{
	if (active)
		shutdown_terminal(active);
}

/* Has the terminal on fd hung up (its pty closed, the line dropped)? A
 * hung-up tty polls as POLLHUP/POLLERR, reads 0 bytes and fails every
 * ioctl (TCGETS included) with EIO. */
static int tty_gone(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	struct termios t;

	if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR | POLLNVAL)))
		return 1;
	return tcgetattr(fd, &t) != 0 && errno != EINTR;
}

/* ---- options and open/close ---- */

void dashboard_opts_default(struct dashboard_opts *o)
{
	memset(o, 0, sizeof *o);
	o->mouse = 1;
	o->max_fps = 10;
	o->sort = DASHBOARD_SORT_NAME;
}

const char *dashboard_sort_name(enum dashboard_sort s)
{
	switch (s) {
	case DASHBOARD_SORT_NAME: return "name";
	case DASHBOARD_SORT_EMOTION: return "emotion";
	case DASHBOARD_SORT_NEGATIVE: return "negative";
	case DASHBOARD_SORT_SEEN: return "seen";
	}
	return "?";
}

static void init_colors(struct dashboard *d)
{
	static const short cls[EMO_NUM_CLASSES] = {
		COLOR_RED, COLOR_GREEN, COLOR_MAGENTA, COLOR_YELLOW, COLOR_BLUE, COLOR_CYAN,
		COLOR_WHITE,
	};
	short bg = COLOR_BLACK;

	if (start_color() == ERR) {
		d->color = 0;
		return;
	}
	if (use_default_colors() == OK)
		bg = -1;
	for (short i = 0; i < EMO_NUM_CLASSES; i++)
		init_pair((short)(i + 1), cls[i], bg);
	init_pair(PAIR_TITLE, COLOR_BLACK, COLOR_CYAN);
	init_pair(PAIR_PAUSED, COLOR_WHITE, COLOR_RED);
	init_pair(PAIR_ALERT, COLOR_RED, bg);
	init_pair(PAIR_LABEL, COLOR_CYAN, bg);
	init_pair(PAIR_KEY, COLOR_BLACK, COLOR_CYAN);
	init_pair(PAIR_UP, COLOR_GREEN, bg);
}

/* The help overlay: keep it the same as the DASHBOARD KEYS section of
 * man/emotop.1 and the key handling in handle_key(). */
const char *const dashboard_help_text[] = {
	"emotop dashboard keys",
	"",
	"q            quit",
	"p space      pause / resume analysis",
	"s S          cycle sort: name, emotion, negative, seen (S: back)",
	"Up/Down j k  select the previous / next student",
	"Enter        the selected student's timeline (Esc or q: back)",
	"PgUp/PgDn    scroll one page; Home/End: first/last rows",
	"mouse wheel  scroll three rows",
	"/            filter by name: Enter applies, Esc cancels, ^U",
	"             clears; Esc outside the prompt clears the filter",
	"r            reset the rolling class window",
	"v            seven bars / one stacked bar per student",
	"f            preview: the frame with the face boxes, ids,",
	"             names and labels, and the seats (f or Esc: close)",
	"h ? F1       this help (any key closes it)",
	"^L           redraw the whole screen",
	"",
	"Header: the source's state; fps: frames analysed a second;",
	"lat: ms per frame to capture and decode (cap), find faces (det),",
	"classify (cls). MOOD: dominant class and its share.",
	"NEG: negative share, the faces clearly negative. Stacked:",
	"A angry D disgust F fear H happy S sad U surprise N neutral.",
	"Timeline: the valence (-1..1) per bucket, coloured by mood.",
};
#define HELP_LINES ((int)(sizeof dashboard_help_text / sizeof dashboard_help_text[0]))
const int dashboard_help_lines = HELP_LINES;
#define HELP_COLS 68 /* the longest line, 64 columns, in the box */

/* Lay the screen out again and make the panels, the help overlay and the
 * bar line buffer for this size: the only place they are allocated, so a
 * frame allocates nothing. On failure a window stays NULL (not drawn) and
 * the line buffer keeps its old size (bars are cut, never overrun). */
static void make_windows(struct dashboard *d)
{
	const struct layout_rect *r[W_COUNT];
	size_t need;
	int h, wd;

	free_windows(d);
	getmaxyx(stdscr, d->lines, d->cols);
	need = 4 * (size_t)(d->cols > 0 ? d->cols : 0) + 1;
	if (need > d->line_cap) {
		char *p = realloc(d->line, need);

		if (p) {
			d->line = p;
			d->line_cap = need;
		}
	}
	layout_screen(d->lines, d->cols, &d->ls);
	if (d->ls.too_small)
		return;
	r[W_HEADER] = &d->ls.header;
	r[W_STUDENTS] = &d->ls.students;
	r[W_CLS] = &d->ls.cls;
	r[W_MOOD] = &d->ls.mood;
	r[W_ALERTS] = &d->ls.alerts;
	r[W_FOOTER] = &d->ls.footer;
	for (int i = 0; i < W_COUNT; i++)
		if (r[i]->h > 0 && r[i]->w > 0)
			d->win[i] = newwin(r[i]->h, r[i]->w, r[i]->y, r[i]->x);
	h = HELP_LINES + 2 < d->lines ? HELP_LINES + 2 : d->lines;
	wd = HELP_COLS < d->cols ? HELP_COLS : d->cols;
	d->help_win = newwin(h, wd, (d->lines - h) / 2, (d->cols - wd) / 2);
	h = d->ls.footer.y - (d->ls.header.y + d->ls.header.h);
	if (h > 1)
		d->preview_win = newwin(h, d->cols, d->ls.header.y + d->ls.header.h, 0);
}

/* Free what dashboard_open() allocated before curses: NULL-safe. */
static void free_dash(struct dashboard *d)
{
	if (!d)
		return;
	if (d->tty_in) {
		fclose(d->tty_in);
		in_fd = STDIN_FILENO;
	}
	dashboard_chafa_free(&d->chafa);
	free(d->shade_pair);
	free(d->pv);
	free(d->hist);
	free(d->snap);
	free(d);
}

struct dashboard *dashboard_open(const struct dashboard_opts *o, struct emo_err *err)
{
	struct dashboard_opts def;
	struct dashboard *d;
	const char *term = getenv("TERM"), *nc = getenv("NO_COLOR");
	const char *cs;
	FILE *in;

	if (!o) {
		dashboard_opts_default(&def);
		o = &def;
	}
	if (active) {
		emo_seterr(err, EMO_EINVAL, NULL, 0, 0, "a dashboard is already open");
		return NULL;
	}
	if (!isatty(STDOUT_FILENO)) {
		emo_seterr(err, EMO_EINVAL, NULL, 0, 0, "the dashboard needs a terminal on stdout");
		return NULL;
	}
	if (!term || !*term || !strcmp(term, "dumb")) {
		emo_seterr(err, EMO_EINVAL, NULL, 0, 0, "the dashboard needs TERM set to a real terminal");
		return NULL;
	}
	d = calloc(1, sizeof *d);
	if (d) {
		d->snap = calloc(1, sizeof *d->snap);
		d->hist = calloc(SUMMARY_MAX_STUDENTS, sizeof *d->hist);
		d->pv = calloc(1, sizeof *d->pv);
	}
	if (!d || !d->snap || !d->hist || !d->pv) {
		free_dash(d);
		emo_seterr(err, EMO_ENOMEM, NULL, 0, 0, "out of memory");
		return NULL;
	}
	/* stdin is the video (emotop -): the keys come from the terminal
	 * itself, as less and fzf read theirs */
	in = stdin;
	if (!isatty(STDIN_FILENO)) {
		int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

		if (fd < 0 || !(d->tty_in = fdopen(fd, "r"))) {
			int e = errno;

			if (fd >= 0)
				close(fd);
			free_dash(d);
			emo_seterr(err, EMO_EINVAL, NULL, 0, 0,
				   "stdin is not a terminal and there is none for the keys (/dev/tty: %s)",
				   strerror(e));
			return NULL;
		}
		in = d->tty_in;
	}
	in_fd = fileno(in);
	setlocale(LC_CTYPE, "");
	cs = nl_langinfo(CODESET);
	d->utf8 = !o->ascii && cs && (!strcasecmp(cs, "UTF-8") || !strcasecmp(cs, "utf8"));
	/* the preview's symbols: plain blocks and borders; the Linux
	 * console's fonts have the half blocks only */
	d->chafa = dashboard_chafa_new(!d->utf8 ? DASHBOARD_CHAFA_ASCII
				       : !strncmp(term, "linux", 5) ? DASHBOARD_CHAFA_HALF
								    : DASHBOARD_CHAFA_BLOCKS);
	if (!d->chafa) {
		free_dash(d);
		emo_seterr(err, EMO_ENOMEM, NULL, 0, 0, "out of memory");
		return NULL;
	}
	d->stacked = o->stacked;
	d->sort = o->sort;
	d->sel_id = -1;
	for (int i = 0; i < SUMMARY_MAX_STUDENTS; i++)
		d->hist[i].id = -1;
	d->mouse = o->mouse;
	d->interval = o->max_fps > 0 ? 1.0 / o->max_fps : 0.1;

	have_tio = tcgetattr(in_fd, &saved_tio) == 0;
	fflush(stdout);
	/* before newterm: ncurses installs its own SIGINT/SIGTERM handlers
	 * (which exit without our cleanup) only where none is installed */
	arm_signals();
	d->scr = newterm(NULL, stdout, in);
	if (!d->scr) {
		disarm_signals();
		have_tio = 0;
		free_dash(d);
		emo_seterr(err, EMO_EINVAL, NULL, 0, 0, "cannot initialise terminal \"%s\"", term);
		return NULL;
	}
	set_term(d->scr);
	if (redirect_stderr(o->stderr_log, err) != EMO_OK) {
		endwin();
		disarm_signals();
		delscreen(d->scr);
		have_tio = 0;
		free_dash(d);
		return NULL;
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	d->color = !o->no_color && !(nc && *nc) && has_colors();
	if (d->color)
		init_colors(d);
	/* the preview in gray shades where the palette has them, with room
	 * for a few hundred pairs; else symbols in the default colours */
	if (d->color && COLORS >= 256 && COLOR_PAIRS >= PAIR_SHADES + 256) {
		d->shade_pair = calloc(256 * 256, sizeof *d->shade_pair);
		d->next_pair = PAIR_SHADES;
		dashboard_chafa_set_shades(d->chafa, d->shade_pair != NULL);
	}
	if (d->mouse) {
		mouseinterval(0);
		if (!mousemask(WHEEL_MASK, NULL))
			d->mouse = 0;
	}
	capture_restore_seq(d->mouse);
	active = d;
	if (!atexit_done && atexit(dashboard_atexit) == 0)
		atexit_done = 1;
	make_windows(d);
	if (!d->line) {
		dashboard_close(d);
		emo_seterr(err, EMO_ENOMEM, NULL, 0, 0, "out of memory");
		return NULL;
	}
	d->dirty = 1;
	d->last_paint = -1e9;
	return d;
}

void dashboard_close(struct dashboard *d)
{
	if (!d)
		return;
	shutdown_terminal(d);
	if (active == d)
		active = NULL;
	free(d->line);
	free_dash(d);
}

int dashboard_terminal_alive(const struct dashboard *d)
{
	if (d && d->gone)
		return 0;
	return !tty_gone(in_fd) && isatty(STDOUT_FILENO);
}

void dashboard_set_paused(struct dashboard *d, int paused)
{
	d->paused = !!paused;
	d->dirty = 1;
}

int dashboard_paused(const struct dashboard *d)
{
	return d->paused;
}

void dashboard_message(struct dashboard *d, double seconds, const char *msg)
{
	snprintf(d->msg, sizeof d->msg, "%s", msg ? msg : "");
	d->msg_until = dashboard_mono_now() + seconds;
	d->dirty = 1;
}

/* ---- the frame: snapshots and preview frames in, paint out ---- */

int dashboard_preview_on(const struct dashboard *d)
{
	return d && d->scr && !d->gone && d->preview;
}

void dashboard_preview(struct dashboard *d, const struct dashboard_preview *p)
{
	if (!d || !p || !d->preview)
		return;
	memcpy(d->pv, p, sizeof *p);
	d->have_pv = 1;
	d->dirty = 1;
}

void dashboard_draw(struct dashboard *d, const struct summary *s)
{
	if (!d || !d->scr || d->gone)
		return;
	if (s) {
		memcpy(d->snap, s, sizeof *s);
		dashboard_model_hist_add(d, s);
		d->have_snap = 1;
		d->snap_wall = wall_now();
		d->dirty = 1;
	}
	if (d->dirty && dashboard_mono_now() - d->last_paint >= d->interval)
		dashboard_panels_paint(d);
}

/* ---- input ---- */

static int page_rows(const struct dashboard *d)
{
	int h = d->ls.students.h - 2;
	return h > 1 ? h : 1;
}

static void filter_backspace(char *s)
{
	size_t n = strlen(s);

	/* drop one UTF-8 character: continuation bytes and their lead */
	while (n > 0 && ((unsigned char)s[n - 1] & 0xc0) == 0x80)
		n--;
	if (n > 0)
		n--;
	s[n] = '\0';
}

static void filter_append(struct dashboard *d, wint_t wc)
{
	char mb[MB_LEN_MAX];
	mbstate_t st;
	size_t n, len = strlen(d->edit);

	memset(&st, 0, sizeof st);
	if (wc < 0x80) {
		mb[0] = (char)wc;
		n = 1;
	} else {
		if (!d->utf8)
			return;
		n = wcrtomb(mb, (wchar_t)wc, &st);
		if (n == (size_t)-1)
			return;
	}
	if (len + n + 1 > sizeof d->edit)
		return;
	memcpy(d->edit + len, mb, n);
	d->edit[len + n] = '\0';
}

/* One key press; returns an engine action or DASHBOARD_NONE. */
static int handle_key(struct dashboard *d, int is_key, wint_t c)
{
	if (is_key && c == KEY_RESIZE) {
		make_windows(d);
		return DASHBOARD_NONE;
	}
	if (is_key && c == KEY_MOUSE) {
		MEVENT ev;

		if (getmouse(&ev) == OK) {
			/* the view and the selection move together */
			if (ev.bstate & BUTTON4_PRESSED) {
				d->scroll -= 3;
				dashboard_model_move_sel(d, -3);
			}
#ifdef BUTTON5_PRESSED
			else if (ev.bstate & BUTTON5_PRESSED) {
				d->scroll += 3;
				dashboard_model_move_sel(d, 3);
			}
#endif
		}
		return DASHBOARD_NONE;
	}
	if (d->help) {
		d->help = 0;
		return DASHBOARD_NONE;
	}
	if (d->editing) {
		if (!is_key && (c == '\r' || c == '\n')) {
			snprintf(d->filter, sizeof d->filter, "%s", d->edit);
			d->editing = 0;
			dashboard_model_sel_top(d);
		} else if (is_key && c == KEY_ENTER) {
			snprintf(d->filter, sizeof d->filter, "%s", d->edit);
			d->editing = 0;
			dashboard_model_sel_top(d);
		} else if (!is_key && c == 27) {
			d->editing = 0;
		} else if ((is_key && c == KEY_BACKSPACE) || (!is_key && (c == 127 || c == 8))) {
			filter_backspace(d->edit);
		} else if (!is_key && c == 21) { /* ^U */
			d->edit[0] = '\0';
		} else if (!is_key && c >= 32 && c != 127) {
			filter_append(d, c);
		}
		return DASHBOARD_NONE;
	}
	if (d->preview && !is_key && c == 27) { /* Esc closes the preview first */
		d->preview = 0;
		return DASHBOARD_NONE;
	}
	if (d->detail) {
		/* Esc, q, Enter, Left, Backspace: back to the list; Up/Down:
		 * the previous/next student; p, r, h, ^L as in the list */
		if ((!is_key && (c == 27 || c == 'q' || c == 'Q' || c == '\r' || c == '\n' || c == 127 ||
				 c == 8)) ||
		    (is_key && (c == KEY_ENTER || c == KEY_LEFT || c == KEY_BACKSPACE))) {
			d->detail = 0;
			return DASHBOARD_NONE;
		}
		if ((is_key && c == KEY_UP) || (!is_key && c == 'k'))
			dashboard_model_move_sel(d, -1);
		else if ((is_key && c == KEY_DOWN) || (!is_key && c == 'j'))
			dashboard_model_move_sel(d, 1);
		if (is_key ? c != KEY_F(1) : c == 0 || c >= 128 || !strchr("pP rRhH?fF\014", (int)c))
			return DASHBOARD_NONE;
	}
	if (is_key) {
		switch (c) {
		case KEY_UP: dashboard_model_move_sel(d, -1); break;
		case KEY_DOWN: dashboard_model_move_sel(d, 1); break;
		case KEY_PPAGE:
			d->scroll -= page_rows(d);
			dashboard_model_move_sel(d, -page_rows(d));
			break;
		case KEY_NPAGE:
			d->scroll += page_rows(d);
			dashboard_model_move_sel(d, page_rows(d));
			break;
		case KEY_HOME: dashboard_model_move_sel(d, -SUMMARY_MAX_STUDENTS); break;
		case KEY_END: dashboard_model_move_sel(d, SUMMARY_MAX_STUDENTS); break;
		case KEY_ENTER: d->detail = d->n_rows > 0; break;
		case KEY_F(1): d->help = 1; break;
		default: break;
		}
		return DASHBOARD_NONE;
	}
	switch (c) {
	case 'q':
	case 'Q':
		return DASHBOARD_QUIT;
	case 'p':
	case 'P':
	case ' ':
		d->paused = !d->paused;
		return d->paused ? DASHBOARD_PAUSE : DASHBOARD_RESUME;
	case 's':
		d->sort = (enum dashboard_sort)((d->sort + 1) % 4);
		dashboard_model_sel_top(d);
		break;
	case 'S':
		d->sort = (enum dashboard_sort)((d->sort + 3) % 4);
		dashboard_model_sel_top(d);
		break;
	case '\r':
	case '\n':
		dashboard_model_build_rows(d);
		d->detail = d->n_rows > 0;
		break;
	case '/':
		d->editing = 1;
		snprintf(d->edit, sizeof d->edit, "%s", d->filter);
		break;
	case 27: /* Esc clears an applied filter */
		if (d->filter[0])
			dashboard_model_sel_top(d);
		d->filter[0] = '\0';
		break;
	case 'r':
	case 'R':
		dashboard_message(d, 2, "class window reset");
		return DASHBOARD_RESET;
	case 'v':
		d->stacked = !d->stacked;
		break;
	case 'f':
	case 'F':
		d->preview = !d->preview;
		break;
	case 'h':
	case 'H':
	case '?':
		d->help = 1;
		break;
	case 'k': dashboard_model_move_sel(d, -1); break;
	case 'j': dashboard_model_move_sel(d, 1); break;
	case 12: /* ^L: repaint everything */
		clearok(curscr, TRUE);
		break;
	default:
		break;
	}
	return DASHBOARD_NONE;
}

int dashboard_poll(struct dashboard *d, int timeout_ms)
{
	double now = dashboard_mono_now(), deadline = now + (timeout_ms > 0 ? timeout_ms / 1000.0 : 0);

	if (!d || !d->scr || d->gone)
		return DASHBOARD_QUIT;
	for (;;) {
		double wait, t0;
		wint_t c;
		int r, act;

		if (quit_signal)
			return DASHBOARD_QUIT;
		now = dashboard_mono_now();
		if (d->msg[0] && d->msg_until && now >= d->msg_until) {
			d->msg_until = 0;
			d->dirty = 1;
		}
		if (d->dirty && now - d->last_paint >= d->interval)
			dashboard_panels_paint(d);
		/* how long getch may block */
		wait = timeout_ms < 0 ? 0.2 : deadline - now;
		if (d->dirty && d->last_paint + d->interval - now < wait)
			wait = d->last_paint + d->interval - now;
		if (d->msg_until && d->msg_until - now < wait)
			wait = d->msg_until - now;
		if (wait < 0)
			wait = 0;
		wtimeout(stdscr, (int)ceil(wait * 1000));
		t0 = dashboard_mono_now();
		errno = 0;
		r = wget_wch(stdscr, &c);
		if (r == ERR) {
			/* a timeout, a signal, or a terminal that went away: a
			 * hung-up tty reads 0 bytes at once, for ever */
			int intr = errno == EINTR;
			int early = !intr && wait >= 0.02 && dashboard_mono_now() - t0 < wait / 2;

			d->early_errs = early ? d->early_errs + 1 : 0;
			if (d->early_errs >= EARLY_ERR_MAX || (!intr && tty_gone(in_fd))) {
				d->gone = 1;
				return DASHBOARD_QUIT;
			}
			if (timeout_ms >= 0 && dashboard_mono_now() >= deadline) {
				if (d->dirty && dashboard_mono_now() - d->last_paint >= d->interval)
					dashboard_panels_paint(d);
				return DASHBOARD_NONE;
			}
			continue;
		}
		d->early_errs = 0;
		act = handle_key(d, r == KEY_CODE_YES, c);
		dashboard_panels_paint(d); /* input repaints at once */
		if (act != DASHBOARD_NONE)
			return act;
	}
}
