/* dashboard.c - the ncurses dashboard: panels, keys, resize, terminal hygiene.
 *
 * The only curses user of emotop. Draws copies of struct summary snapshots;
 * text layout (widths, bars, sparklines) comes from layout.c. One frame is
 * built off-screen: werase + wnoutrefresh per window, then one doupdate.
 * See dashboard.h for the signal/atexit/stderr contract.
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

#define FILTER_MAX 64
/* wget_wch() coming back empty-handed this many times in a row, each well
 * before its timeout and not for a signal: the terminal is gone even if it
 * does not say so (a tty that reads 0 bytes), so never spin on it */
#define EARLY_ERR_MAX 50
/* A student's timeline in the detail view: buckets of the smoothed class
 * probabilities over the session; when they are full, pairs merge and a
 * bucket lasts twice as long, so the whole session fits in HIST_MAX. */
#define HIST_MAX 96
#define HIST_BUCKET_S 1.0 /* seconds per bucket to begin with */

/* Wheel events: buttons 4 (up) and 5 (down); ncurses ABI 5 has no button 5. */
#ifdef BUTTON5_PRESSED
#define WHEEL_MASK (BUTTON4_PRESSED | BUTTON5_PRESSED)
#else
#define WHEEL_MASK BUTTON4_PRESSED
#endif

enum win_id { W_HEADER, W_STUDENTS, W_CLS, W_MOOD, W_ALERTS, W_FOOTER, W_COUNT };

/* Colour pairs: 1..7 the emotion classes, then UI roles. */
enum {
	PAIR_TITLE = EMO_NUM_CLASSES + 1,
	PAIR_PAUSED,
	PAIR_ALERT,
	PAIR_LABEL,
	PAIR_KEY,
	PAIR_UP,
	PAIR_SHADES, /* the preview's palette pairs from here, made on demand */
};

struct hist {
	int id;                /* track id; -1: a free slot */
	double t0;             /* session time where bucket 0 starts */
	double bucket_s;       /* seconds per bucket */
	double last;           /* last update (session time): the slot to reuse */
	int n;                 /* buckets used */
	float sum[HIST_MAX][EMO_NUM_CLASSES];
	int cnt[HIST_MAX];     /* updates summed in each bucket */
};

struct dashboard {
	SCREEN *scr;
	struct summary *snap;  /* our copy of the last snapshot */
	int have_snap;
	double snap_wall;      /* wall clock (s) when snap arrived: for alert times */

	WINDOW *win[W_COUNT];
	WINDOW *help_win;      /* the help overlay, made with the panels */
	WINDOW *preview_win;   /* the preview pane: between header and footer */
	struct layout_screen ls;
	int lines, cols;
	char *line;            /* a screen line of bar cells: 4 * cols + 1 bytes */
	size_t line_cap;       /* grown by make_windows() only */

	int utf8, color, mouse, stacked;
	enum dashboard_sort sort;
	int scroll;
	int paused;
	int help;
	int preview;           /* 1: the preview pane is shown (key f) */
	struct dashboard_preview *pv; /* its last frame, made at open */
	int have_pv;
	struct dashboard_chafa *chafa; /* its picture */
	short *shade_pair;     /* 256-colour terminals: the pair of each palette
				* fg * 256 + bg the picture used, 0: none yet;
				* NULL: the picture in symbols only */
	int next_pair;
	int editing;
	char filter[FILTER_MAX];
	char edit[FILTER_MAX];

	double interval;     /* seconds between snapshot-driven paints */
	double last_paint;   /* monotonic seconds */
	int dirty;

	char msg[160];
	double msg_until;    /* monotonic seconds */

	int rows[SUMMARY_MAX_STUDENTS]; /* filtered, sorted student indices */
	int n_rows;
	int sel;             /* the selected row (index into rows) */
	int sel_id;          /* its track id (the selection follows it); -1: top */
	int detail;          /* 1: the selected student's detail view */

	struct hist *hist;   /* SUMMARY_MAX_STUDENTS slots, made at open */
	unsigned long long hist_seq; /* the snapshot last added */

	FILE *tty_in;        /* /dev/tty opened for the keys (stdin is the video), or NULL */
	int gone;            /* the terminal hung up: poll says quit, no painting */
	int early_errs;      /* consecutive early empty reads, see EARLY_ERR_MAX */
};

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

static double mono_now(void)
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
static const char *const help_text[] = {
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
#define HELP_LINES ((int)(sizeof help_text / sizeof help_text[0]))
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
	d->msg_until = mono_now() + seconds;
	d->dirty = 1;
}

/* ---- drawing helpers ---- */

static const char *class_label(int k)
{
	return emo_class_name(k);
}

/* A class name that fits w columns: full, 4-5 letters, or 3 letters. */
static const char *class_label_fit(int k, int w)
{
	static const char *const mid[EMO_NUM_CLASSES] = {
		"angry", "disg", "fear", "happy", "sad", "surpr", "neutr",
	};
	static const char *const shrt[EMO_NUM_CLASSES] = {
		"ang", "dis", "fea", "hap", "sad", "sur", "neu",
	};

	if (k < 0 || k >= EMO_NUM_CLASSES)
		return "?";
	if (w >= 8)
		return emo_class_name(k);
	return w >= 5 ? mid[k] : shrt[k];
}

static char class_letter(int k)
{
	static const char l[EMO_NUM_CLASSES] = {'A', 'D', 'F', 'H', 'S', 'U', 'N'};
	return k >= 0 && k < EMO_NUM_CLASSES ? l[k] : '?';
}

static attr_t pair_attr(const struct dashboard *d, int pair)
{
	return d->color ? (attr_t)COLOR_PAIR(pair) : 0;
}

static attr_t class_attr(const struct dashboard *d, int k)
{
	return k >= 0 && k < EMO_NUM_CLASSES ? pair_attr(d, k + 1) : 0;
}

/* Draw s fitted to w columns at (y, x). Returns the columns used. */
static int put(const struct dashboard *d, WINDOW *win, int y, int x, int w, attr_t a,
	       const char *s, enum layout_align al)
{
	char buf[4096];
	int n;

	if (w <= 0)
		return 0;
	if (w > 1000)
		w = 1000;
	n = layout_fit(buf, sizeof buf, s, w, al, d->utf8);
	wattrset(win, a);
	mvwaddstr(win, y, x, buf);
	wattrset(win, A_NORMAL);
	return n;
}

/* Draw s at its natural width if it fits before `end`; returns new x. */
static int put_seg(const struct dashboard *d, WINDOW *win, int y, int x, int end, attr_t a,
		   const char *s)
{
	int w = layout_str_width(s);

	if (x + w > end)
		w = end - x;
	if (w <= 0)
		return x;
	return x + put(d, win, y, x, w, a, s, LAYOUT_LEFT);
}

static void title_bar(const struct dashboard *d, WINDOW *win, int y, const char *s)
{
	put(d, win, y, 0, getmaxx(win), A_REVERSE | A_BOLD | pair_attr(d, PAIR_TITLE), s,
	    LAYOUT_LEFT);
}

/* Uniform probabilities (no classifier model: faces only) carry no mood. */
static int informative(const float *p)
{
	float lo = p[0], hi = p[0];

	for (int k = 1; k < EMO_NUM_CLASSES; k++) {
		lo = p[k] < lo ? p[k] : lo;
		hi = p[k] > hi ? p[k] : hi;
	}
	return hi - lo > 1e-3f;
}

static const char *student_name(const struct summary_student *st, char *buf, size_t cap)
{
	if (st->name[0])
		return st->name;
	snprintf(buf, cap, "#%d", st->id);
	return buf;
}

/* ASCII case-insensitive substring test (non-ASCII bytes must match). */
static int contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (!n)
		return 1;
	for (; *hay; hay++)
		if (!strncasecmp(hay, needle, n))
			return 1;
	return 0;
}

static int cmp_students(const struct dashboard *d, const struct summary_student *a,
			const struct summary_student *b)
{
	char ba[16], bb[16];
	int c;

	switch (d->sort) {
	case DASHBOARD_SORT_EMOTION:
		if (a->dominant != b->dominant)
			return a->dominant < b->dominant ? -1 : 1;
		if (a->confidence != b->confidence)
			return a->confidence > b->confidence ? -1 : 1;
		break;
	case DASHBOARD_SORT_NEGATIVE:
		if (a->negative != b->negative)
			return a->negative > b->negative ? -1 : 1;
		if (a->valence != b->valence) /* the least pleasant first */
			return a->valence < b->valence ? -1 : 1;
		break;
	case DASHBOARD_SORT_SEEN:
		if (a->last_seen != b->last_seen)
			return a->last_seen > b->last_seen ? -1 : 1;
		break;
	case DASHBOARD_SORT_NAME:
		break;
	}
	/* then by name, numbers by value (Seat 9 before Seat 10); unnamed
	 * tracks after named ones, by id (#9 before #10) */
	if (!!a->name[0] != !!b->name[0])
		return a->name[0] ? -1 : 1;
	if (a->name[0]) {
		c = layout_natcmp(student_name(a, ba, sizeof ba), student_name(b, bb, sizeof bb));
		if (c)
			return c;
	}
	return a->id < b->id ? -1 : a->id > b->id;
}

/* Filter and sort the snapshot's students into d->rows (insertion sort:
 * stable, at most SUMMARY_MAX_STUDENTS). */
static void build_rows(struct dashboard *d)
{
	const struct summary *s = d->snap;
	char nb[16];
	int n = 0;

	for (int i = 0; d->have_snap && i < s->n_students && i < SUMMARY_MAX_STUDENTS; i++) {
		const struct summary_student *st = &s->students[i];

		if (d->filter[0] && !contains_ci(student_name(st, nb, sizeof nb), d->filter))
			continue;
		int j = n++;
		while (j > 0 && cmp_students(d, st, &s->students[d->rows[j - 1]]) < 0) {
			d->rows[j] = d->rows[j - 1];
			j--;
		}
		d->rows[j] = i;
	}
	d->n_rows = n;
	/* the selection follows its student; gone (or none yet): same place */
	for (int r = 0; d->sel_id >= 0 && r < n; r++)
		if (s->students[d->rows[r]].id == d->sel_id) {
			d->sel = r;
			return;
		}
	if (d->sel >= n)
		d->sel = n - 1;
	if (d->sel < 0)
		d->sel = 0;
	d->sel_id = n ? s->students[d->rows[d->sel]].id : -1;
}

/* Move the selection by delta rows (clamped) on the current snapshot. */
static void move_sel(struct dashboard *d, int delta)
{
	build_rows(d);
	if (!d->n_rows)
		return;
	d->sel += delta;
	if (d->sel >= d->n_rows)
		d->sel = d->n_rows - 1;
	if (d->sel < 0)
		d->sel = 0;
	d->sel_id = d->snap->students[d->rows[d->sel]].id;
}

/* Back to the top row (a new sort or filter). */
static void sel_top(struct dashboard *d)
{
	d->sel = 0;
	d->sel_id = -1;
	d->scroll = 0;
}

/* ---- timelines (the detail view) ---- */

static struct hist *hist_find(struct dashboard *d, int id)
{
	for (int i = 0; i < SUMMARY_MAX_STUDENTS; i++)
		if (d->hist[i].id == id)
			return &d->hist[i];
	return NULL;
}

/* Add each present student's probabilities of a new snapshot to its
 * timeline; a new track takes a free slot, or the one updated longest ago. */
static void hist_add(struct dashboard *d, const struct summary *s)
{
	if (s->seq == d->hist_seq)
		return;
	d->hist_seq = s->seq;
	for (int i = 0; i < s->n_students && i < SUMMARY_MAX_STUDENTS; i++) {
		const struct summary_student *st = &s->students[i];
		struct hist *h = hist_find(d, st->id);
		double f;
		int b;

		if (!st->present || !informative(st->probs))
			continue;
		if (!h) {
			h = &d->hist[0];
			for (int k = 1; k < SUMMARY_MAX_STUDENTS && h->id >= 0; k++)
				if (d->hist[k].id < 0 || d->hist[k].last < h->last)
					h = &d->hist[k];
			memset(h, 0, sizeof *h);
			h->id = st->id;
			h->t0 = st->first_seen < s->time ? st->first_seen : s->time;
			h->bucket_s = HIST_BUCKET_S;
		}
		h->last = s->time;
		f = s->time > h->t0 ? (s->time - h->t0) / h->bucket_s : 0; /* NaN: 0 */
		while (f >= HIST_MAX) {
			/* full: merge pairs, twice as long a bucket */
			for (int j = 0; j < HIST_MAX / 2; j++) {
				for (int k = 0; k < EMO_NUM_CLASSES; k++)
					h->sum[j][k] = h->sum[2 * j][k] + h->sum[2 * j + 1][k];
				h->cnt[j] = h->cnt[2 * j] + h->cnt[2 * j + 1];
			}
			memset(h->sum[HIST_MAX / 2], 0, sizeof h->sum[0] * (HIST_MAX / 2));
			memset(&h->cnt[HIST_MAX / 2], 0, sizeof h->cnt[0] * (HIST_MAX / 2));
			h->n = (h->n + 1) / 2;
			h->bucket_s *= 2;
			f /= 2;
		}
		b = (int)f;
		for (int k = 0; k < EMO_NUM_CLASSES; k++)
			h->sum[b][k] += st->probs[k];
		h->cnt[b]++;
		if (b + 1 > h->n)
			h->n = b + 1;
	}
}

/* ---- panels ---- */

/* Milliseconds: one decimal below 10 ms, whole above. */
static void fmt_ms(char *b, size_t cap, double ms)
{
	if (!(ms >= 0))
		snprintf(b, cap, "-");
	else if (ms < 9.95)
		snprintf(b, cap, "%.1f", ms);
	else
		snprintf(b, cap, "%.0f", ms > 99999 ? 99999 : ms);
}

static void draw_header(struct dashboard *d, WINDOW *w)
{
	const struct summary *s = d->snap;
	const struct summary_stats *st = &s->stats;
	static const char paused[] = " PAUSED ";
	int cols = getmaxx(w), x, end = cols, pw = layout_str_width(paused);
	char b[256], src[SUMMARY_SOURCE_MAX], up[32];
	attr_t lab = pair_attr(d, PAIR_LABEL), val = A_BOLD;

	/* line 0: name, source, resolution, fps, latencies (right part first) */
	x = put_seg(d, w, 0, 0, end, A_BOLD, " emotop ");
	if (!d->have_snap) {
		put_seg(d, w, 0, x, end, A_NORMAL, " waiting for the first frame...");
	} else {
		char right[160];
		int rw;

		char lc[16], ld[16], lk[16];

		fmt_ms(lc, sizeof lc, st->lat_capture_ms);
		fmt_ms(ld, sizeof ld, st->lat_detect_ms);
		fmt_ms(lk, sizeof lk, st->lat_classify_ms);
		snprintf(right, sizeof right, " %dx%d  fps %.1f  lat cap %s det %s cls %s ms",
			 st->width, st->height, st->fps, lc, ld, lk);
		rw = layout_str_width(right);
		x = put_seg(d, w, 0, x, end, lab, "src ");
		snprintf(src, sizeof src, "%s", st->source[0] ? st->source : "-");
		if (end - x - rw > 4) {
			x += put(d, w, 0, x, end - x - rw < layout_str_width(src) ? end - x - rw : layout_str_width(src),
				 val, src, LAYOUT_LEFT);
			put_seg(d, w, 0, x, end, A_NORMAL, right);
		} else {
			put_seg(d, w, 0, x, end, val, src);
		}
	}
	/* line 1: faces, uptime, frames, dropped, window, state; PAUSED keeps
	 * its place at the right edge, the counters give way to it */
	x = 0;
	if (d->paused)
		end = cols - pw - 1;
	layout_uptime(up, sizeof up, d->have_snap ? s->uptime : 0);
	/* the source's state first: a dead feed must not look alive (not up:
	 * reverse video, so it shows without colour too) */
	if (d->have_snap) {
		int up_now = st->source_state == SUMMARY_SOURCE_UP;

		x = put_seg(d, w, 1, x, end, lab, " source ");
		snprintf(b, sizeof b, up_now ? "%s" : " %s ", summary_source_state_name(st->source_state));
		for (char *c = b; !up_now && *c; c++)
			*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
		x = put_seg(d, w, 1, x, end,
			    up_now ? A_BOLD | pair_attr(d, PAIR_UP)
				   : A_BOLD | A_REVERSE | pair_attr(d, PAIR_ALERT),
			    b);
		x = put_seg(d, w, 1, x, end, lab, " ");
	}
	x = put_seg(d, w, 1, x, end, lab, " faces ");
	snprintf(b, sizeof b, "%d", d->have_snap ? s->faces : 0);
	x = put_seg(d, w, 1, x, end, val, b);
	x = put_seg(d, w, 1, x, end, lab, "  up ");
	x = put_seg(d, w, 1, x, end, val, up);
	x = put_seg(d, w, 1, x, end, lab, "  frames ");
	snprintf(b, sizeof b, "%lld", st->frames_analysed);
	x = put_seg(d, w, 1, x, end, val, b);
	x = put_seg(d, w, 1, x, end, lab, "  dropped ");
	snprintf(b, sizeof b, "%lld", st->frames_dropped);
	x = put_seg(d, w, 1, x, end, st->frames_dropped ? A_BOLD | pair_attr(d, PAIR_ALERT) : val, b);
	if (d->paused) {
		put(d, w, 1, cols - pw > 0 ? cols - pw : 0, pw,
		    A_BOLD | A_REVERSE | pair_attr(d, PAIR_PAUSED), paused, LAYOUT_LEFT);
	} else if (d->have_snap) {
		snprintf(b, sizeof b, "window %.0fs ", s->window);
		int bw = layout_str_width(b);
		if (cols - bw > x + 1)
			put(d, w, 1, cols - bw, bw, lab, b, LAYOUT_LEFT);
	}
}

static void draw_probs_seven(struct dashboard *d, WINDOW *w, int y, int x,
			     const struct layout_cols *c, const float *p, attr_t dim)
{
	char b[256];
	int bw = c->bar_w - c->pct; /* roomy bars end in their number */

	for (int k = 0; k < EMO_NUM_CLASSES; k++) {
		int bx = x + k * (c->bar_w + 1);

		layout_bar(b, sizeof b, p[k], bw, d->utf8, '.');
		wattrset(w, class_attr(d, k) | dim);
		mvwaddstr(w, y, bx, b);
		if (c->pct) {
			snprintf(b, sizeof b, "%3.0f%%", 100.0 * p[k]);
			put(d, w, y, bx + bw + 1, c->pct - 1, class_attr(d, k) | dim, b, LAYOUT_RIGHT);
		}
	}
	wattrset(w, A_NORMAL);
}

static void draw_probs_stacked(struct dashboard *d, WINDOW *w, int y, int x, int width,
			       const float *p, attr_t dim)
{
	int cells[EMO_NUM_CLASSES], cx = x;

	layout_split(p, EMO_NUM_CLASSES, width, cells);
	for (int k = 0; k < EMO_NUM_CLASSES; k++) {
		for (int i = 0; i < cells[k]; i++) {
			if (d->color && d->utf8) {
				wattrset(w, class_attr(d, k) | dim);
				mvwaddstr(w, y, cx, "\xe2\x96\x88");
			} else {
				char ch[2] = {class_letter(k), 0};

				wattrset(w, (d->color ? A_REVERSE : 0) | class_attr(d, k) | dim);
				mvwaddstr(w, y, cx, ch);
			}
			cx++;
		}
	}
	wattrset(w, A_NORMAL);
}

static void draw_students(struct dashboard *d, WINDOW *w)
{
	const struct summary *s = d->snap;
	struct layout_cols c;
	int rows = getmaxy(w), cols = getmaxx(w), vis, x;
	char b[512], nb[16];

	build_rows(d);
	vis = rows - 2;
	if (vis < 1)
		vis = 1;
	/* the view follows the selection */
	if (d->sel < d->scroll)
		d->scroll = d->sel;
	if (d->sel >= d->scroll + vis)
		d->scroll = d->sel - vis + 1;
	if (d->scroll > d->n_rows - vis)
		d->scroll = d->n_rows - vis;
	if (d->scroll < 0)
		d->scroll = 0;

	/* title: counts, sort, filter, scroll position */
	{
		int n = d->have_snap ? s->n_students : 0;
		char f[FILTER_MAX + 16] = "";
		char pos[48] = "";

		if (d->filter[0])
			snprintf(f, sizeof f, "  filter: %s", d->filter);
		if (d->n_rows > vis)
			snprintf(pos, sizeof pos, "  rows %d-%d of %d", d->scroll + 1,
				 d->scroll + vis < d->n_rows ? d->scroll + vis : d->n_rows, d->n_rows);
		if (d->filter[0])
			snprintf(b, sizeof b, " STUDENTS %d of %d  sort: %s%s%s", d->n_rows, n,
				 dashboard_sort_name(d->sort), f, pos);
		else
			snprintf(b, sizeof b, " STUDENTS %d  sort: %s%s", n,
				 dashboard_sort_name(d->sort), pos);
		title_bar(d, w, 0, b);
	}
	if (layout_student_cols(cols, d->stacked, &c) < 0)
		return;
	/* column header */
	wattrset(w, A_BOLD | pair_attr(d, PAIR_LABEL));
	x = 1;
	put(d, w, 1, x, c.name, A_BOLD | (d->sort == DASHBOARD_SORT_NAME ? A_REVERSE : 0), "NAME",
	    LAYOUT_LEFT);
	x += c.name + 1;
	if (c.bar_w) {
		for (int k = 0; k < EMO_NUM_CLASSES; k++)
			put(d, w, 1, x + k * (c.bar_w + 1), c.bar_w, A_BOLD | class_attr(d, k),
			    class_label_fit(k, c.bar_w), LAYOUT_LEFT);
	} else {
		char legend[32];

		snprintf(legend, sizeof legend, "MIX %s", "ADFHSUN");
		put(d, w, 1, x, c.bars, A_BOLD, legend, LAYOUT_LEFT);
	}
	x += c.bars + 1;
	/* the column the rows are sorted by in reverse video, as htop does */
	put(d, w, 1, x, c.dom, A_BOLD | (d->sort == DASHBOARD_SORT_EMOTION ? A_REVERSE : 0), "MOOD",
	    LAYOUT_LEFT);
	x += c.dom + 1;
	if (c.neg) {
		put(d, w, 1, x, c.neg, A_BOLD | (d->sort == DASHBOARD_SORT_NEGATIVE ? A_REVERSE : 0),
		    "NEG", LAYOUT_RIGHT);
		x += c.neg + 1;
	}
	put(d, w, 1, x, c.seen, A_BOLD | (d->sort == DASHBOARD_SORT_SEEN ? A_REVERSE : 0), "SEEN",
	    LAYOUT_RIGHT);

	if (d->have_snap && d->n_rows == 0) {
		put(d, w, 2, 1, cols - 2, A_DIM,
		    d->filter[0] ? "no student matches the filter" : "no faces yet", LAYOUT_LEFT);
		return;
	}
	for (int r = 0; r < vis && d->scroll + r < d->n_rows; r++) {
		const struct summary_student *st = &s->students[d->rows[d->scroll + r]];
		attr_t dim = st->present ? 0 : A_DIM;
		/* the selected row's name in reverse video (Enter: its detail view) */
		attr_t selv = d->scroll + r == d->sel ? A_REVERSE : 0;
		int y = 2 + r;

		x = 1;
		put(d, w, y, x, c.name, A_BOLD | dim | selv, student_name(st, nb, sizeof nb),
		    LAYOUT_LEFT);
		x += c.name + 1;
		if (c.bar_w)
			draw_probs_seven(d, w, y, x, &c, st->probs, dim);
		else
			draw_probs_stacked(d, w, y, x, c.bars, st->probs, dim);
		x += c.bars + 1;
		if (informative(st->probs)) {
			snprintf(b, sizeof b, "%-8s %3.0f%%", class_label(st->dominant),
				 100.0 * st->confidence);
			put(d, w, y, x, c.dom, A_BOLD | class_attr(d, st->dominant) | dim, b,
			    LAYOUT_LEFT);
		} else {
			put(d, w, y, x, c.dom, dim, "-", LAYOUT_LEFT);
		}
		x += c.dom + 1;
		if (c.neg) {
			/* the student's negative share: angry, disgust, fear, sad */
			if (informative(st->probs))
				snprintf(b, sizeof b, "%3.0f%%", 100.0 * st->negative);
			else
				snprintf(b, sizeof b, "-");
			put(d, w, y, x, c.neg, dim, b, LAYOUT_RIGHT);
			x += c.neg + 1;
		}
		if (st->present)
			snprintf(b, sizeof b, "now");
		else
			layout_age(b, sizeof b, s->time - st->last_seen);
		put(d, w, y, x, c.seen, dim, b, LAYOUT_RIGHT);
	}
}

/* The selected student: now, and a timeline of each class's share over
 * the session (one cell a bucket, the newest at the right) with the
 * dominant class of each bucket below (its letter in the class colour). */
static void draw_detail(struct dashboard *d, WINDOW *w)
{
	const struct summary *s = d->snap;
	const struct summary_student *st = NULL;
	const struct hist *h = d->sel_id >= 0 ? hist_find(d, d->sel_id) : NULL;
	int rows = getmaxy(w), cols = getmaxx(w), x, y = 1, tw, first;
	char b[512], nb[16], span[32];
	float v[HIST_MAX];

	for (int i = 0; d->have_snap && i < s->n_students && i < SUMMARY_MAX_STUDENTS; i++)
		if (s->students[i].id == d->sel_id)
			st = &s->students[i];
	if (st)
		snprintf(b, sizeof b, " STUDENT %s  (track #%d)  Esc back", student_name(st, nb, sizeof nb),
			 st->id);
	else
		snprintf(b, sizeof b, " STUDENT #%d  Esc back", d->sel_id);
	title_bar(d, w, 0, b);
	if (!st) {
		put(d, w, y, 1, cols - 2, A_DIM, "no longer tracked", LAYOUT_LEFT);
		y++;
	} else {
		char age[16];

		if (st->present)
			snprintf(age, sizeof age, "now");
		else
			layout_age(age, sizeof age, s->time - st->last_seen);
		x = put_seg(d, w, y, 1, cols, pair_attr(d, PAIR_LABEL), "mood ");
		if (informative(st->probs)) {
			snprintf(b, sizeof b, "%s %.0f%%", class_label(st->dominant), 100.0 * st->confidence);
			x = put_seg(d, w, y, x, cols, A_BOLD | class_attr(d, st->dominant), b);
			x = put_seg(d, w, y, x, cols, pair_attr(d, PAIR_LABEL), "  NEG ");
			snprintf(b, sizeof b, "%.0f%%", 100.0 * st->negative);
			x = put_seg(d, w, y, x, cols, A_BOLD, b);
		} else {
			x = put_seg(d, w, y, x, cols, A_BOLD, "-");
		}
		x = put_seg(d, w, y, x, cols, pair_attr(d, PAIR_LABEL), "  seen ");
		x = put_seg(d, w, y, x, cols, A_BOLD, age);
		x = put_seg(d, w, y, x, cols, pair_attr(d, PAIR_LABEL), "  tracked for ");
		layout_uptime(b, sizeof b, s->time - st->first_seen);
		put_seg(d, w, y, x, cols, A_BOLD, b);
		y++;
	}
	/* "angry     " sparkline " 42%" */
	tw = cols - 1 - 10 - 5;
	if (tw < 1 || y >= rows)
		return;
	if (h && h->n) {
		double sec = h->bucket_s * h->n;

		if (sec >= 120)
			snprintf(span, sizeof span, "%.0fm", sec / 60);
		else
			snprintf(span, sizeof span, "%.0fs", sec);
		snprintf(b, sizeof b, "timeline: %s of the session, %gs a cell, newest at the right", span,
			 h->bucket_s);
	} else {
		snprintf(b, sizeof b, "timeline: nothing yet");
	}
	put(d, w, y++, 1, cols - 2, A_DIM, b, LAYOUT_LEFT);
	first = h && h->n > tw ? h->n - tw : 0;
	for (int k = 0; k < EMO_NUM_CLASSES && y < rows; k++, y++) {
		int n = 0;

		for (int i = first; h && i < h->n; i++)
			v[n++] = h->cnt[i] ? h->sum[i][k] / (float)h->cnt[i] : NAN;
		put(d, w, y, 1, 9, class_attr(d, k), class_label(k), LAYOUT_LEFT);
		if (n && d->line) {
			layout_sparkline(d->line, d->line_cap, v, n, tw, 0, 1, d->utf8);
			wattrset(w, class_attr(d, k));
			mvwaddstr(w, y, 11, d->line);
			wattrset(w, A_NORMAL);
		}
		if (st && informative(st->probs)) {
			snprintf(b, sizeof b, "%3.0f%%", 100.0 * st->probs[k]);
			put(d, w, y, cols - 5, 4, class_attr(d, k), b, LAYOUT_RIGHT);
		}
	}
	/* the dominant class of each bucket, as its letter */
	if (y < rows && h) {
		put(d, w, y, 1, 9, pair_attr(d, PAIR_LABEL), "mood", LAYOUT_LEFT);
		x = 11 + tw - (h->n - first);
		for (int i = first; i < h->n; i++, x++) {
			int dom = -1;
			char ch[2] = {' ', 0};

			for (int k = 0; h->cnt[i] && k < EMO_NUM_CLASSES; k++)
				if (dom < 0 || h->sum[i][k] > h->sum[i][dom])
					dom = k;
			if (dom >= 0)
				ch[0] = class_letter(dom);
			put(d, w, y, x, 1, A_BOLD | class_attr(d, dom), ch, LAYOUT_LEFT);
		}
	}
}

static void draw_class(struct dashboard *d, WINDOW *w)
{
	const struct summary *s = d->snap;
	int cols = getmaxx(w), bw;
	char b[256];

	if (d->have_snap)
		snprintf(b, sizeof b, " CLASS  window %.0fs  (%.0fs, %d frames)", s->window,
			 s->window_span, s->window_frames);
	else
		snprintf(b, sizeof b, " CLASS");
	title_bar(d, w, 0, b);
	/* " label    bar  100%" */
	bw = cols - 1 - 9 - 1 - 5;
	for (int k = 0; k < EMO_NUM_CLASSES && 1 + k < getmaxy(w); k++) {
		int dom = d->have_snap && s->dominant == k && informative(s->mean);
		float v = d->have_snap ? s->mean[k] : 0;

		put(d, w, 1 + k, 1, 9, (dom ? A_BOLD : 0) | class_attr(d, k), class_label(k),
		    LAYOUT_LEFT);
		if (bw > 0 && d->line) {
			layout_bar(d->line, d->line_cap, v, bw, d->utf8, ' ');
			wattrset(w, class_attr(d, k) | (dom ? A_BOLD : 0));
			mvwaddstr(w, 1 + k, 11, d->line);
			wattrset(w, A_NORMAL);
		}
		snprintf(b, sizeof b, "%3.0f%%", 100.0 * v);
		put(d, w, 1 + k, cols - 5, 5, dom ? A_BOLD : 0, b, LAYOUT_RIGHT);
	}
}

/* Mood of a bucket on a -1..1 scale: its valence. NaN when the bucket has
 * no frame (a gap). */
static float bucket_mood(const struct summary_point *p)
{
	if (p->frames <= 0 || p->faces <= 0)
		return NAN;
	return p->valence;
}

static void draw_spark(struct dashboard *d, WINDOW *w, int y, int x, int width)
{
	const struct summary *s = d->snap;
	float v[SUMMARY_SPARK_MAX];
	int n = d->have_snap ? s->n_buckets : 0, first, i, cx;
	char b[1024];

	if (width <= 0)
		return;
	if (n > SUMMARY_SPARK_MAX)
		n = SUMMARY_SPARK_MAX;
	for (i = 0; i < n; i++)
		v[i] = bucket_mood(&s->buckets[i]);
	first = n > width ? n - width : 0;
	/* one cell at a time so each takes its bucket's dominant colour */
	cx = x + width - (n - first);
	for (i = first; i < n; i++, cx++) {
		layout_sparkline(b, sizeof b, &v[i], 1, 1, -1, 1, d->utf8);
		wattrset(w, class_attr(d, s->buckets[i].dominant));
		mvwaddstr(w, y, cx, b);
	}
	wattrset(w, A_NORMAL);
}

static void draw_mood(struct dashboard *d, WINDOW *w)
{
	const struct summary *s = d->snap;
	int rows = getmaxy(w), cols = getmaxx(w), x, y;
	char b[256];
	int dom = d->have_snap && informative(s->mean) ? s->dominant : -1;

	/* title: mood and negative share */
	if (dom >= 0) {
		/* the valence when there is room for it */
		snprintf(b, sizeof b, " MOOD %s %.0f%%  negative %.0f%%  valence %+.2f", class_label(dom),
			 100.0 * s->confidence, 100.0 * s->negative, s->valence);
		if (layout_str_width(b) > cols)
			snprintf(b, sizeof b, " MOOD %s %.0f%%  negative %.0f%%", class_label(dom),
				 100.0 * s->confidence, 100.0 * s->negative);
	} else
		snprintf(b, sizeof b, " MOOD -  negative -");
	title_bar(d, w, 0, b);
	y = 1;
	if (rows >= 5) {
		/* roomy: one fact per line */
		x = put_seg(d, w, y, 1, cols, pair_attr(d, PAIR_LABEL), "mood      ");
		put_seg(d, w, y++, x, cols, A_BOLD | class_attr(d, dom), dom >= 0 ? class_label(dom) : "-");
		x = put_seg(d, w, y, 1, cols, pair_attr(d, PAIR_LABEL), "negative  ");
		if (cols - x - 6 > 0 && d->line) {
			layout_bar(d->line, d->line_cap, d->have_snap ? s->negative : 0, cols - x - 6,
				   d->utf8, ' ');
			wattrset(w, pair_attr(d, PAIR_ALERT));
			mvwaddstr(w, y, x, d->line);
			wattrset(w, A_NORMAL);
			snprintf(b, sizeof b, "%4.0f%%", d->have_snap ? 100.0 * s->negative : 0.0);
			put(d, w, y, cols - 5, 5, A_BOLD, b, LAYOUT_RIGHT);
		}
		y++;
		x = put_seg(d, w, y, 1, cols, pair_attr(d, PAIR_LABEL), "faces     ");
		snprintf(b, sizeof b, "%d now, %.1f mean", d->have_snap ? s->faces : 0,
			 d->have_snap ? s->mean_faces : 0.0);
		put_seg(d, w, y++, x, cols, A_BOLD, b);
		x = put_seg(d, w, y, 1, cols, pair_attr(d, PAIR_LABEL), "alerts    ");
		snprintf(b, sizeof b, "%lld", d->have_snap ? s->alerts_total : 0LL);
		put_seg(d, w, y++, x, cols, A_BOLD, b);
	}
	if (y < rows) {
		/* "timeline " then the sparkline, last bucket at the right */
		int span = d->have_snap ? (int)(s->bucket_s * s->n_buckets) : 0;
		char lab[32];

		if (span >= 120)
			snprintf(lab, sizeof lab, "%dm ", span / 60);
		else
			snprintf(lab, sizeof lab, "%ds ", span);
		x = put_seg(d, w, y, 1, cols, pair_attr(d, PAIR_LABEL), "timeline ");
		x = put_seg(d, w, y, x, cols, A_DIM, lab);
		draw_spark(d, w, y, x, cols - x - 1);
	}
}

static void draw_alerts(struct dashboard *d, WINDOW *w)
{
	const struct summary *s = d->snap;
	int rows = getmaxy(w), cols = getmaxx(w);
	char b[512], tb[32];

	snprintf(b, sizeof b, " ALERTS %lld", d->have_snap ? s->alerts_total : 0LL);
	title_bar(d, w, 0, b);
	if (!d->have_snap || s->n_alerts == 0) {
		if (rows > 1)
			put(d, w, 1, 1, cols - 1, A_DIM, "no alerts", LAYOUT_LEFT);
		return;
	}
	/* newest first */
	for (int r = 1, i = s->n_alerts - 1; r < rows && i >= 0; r++, i--) {
		const struct summary_alert *a = &s->alerts[i];
		int x;

		layout_clock(tb, sizeof tb, d->snap_wall - (s->time - a->time));
		x = put_seg(d, w, r, 1, cols, pair_attr(d, PAIR_LABEL), tb);
		x = put_seg(d, w, r, x, cols, A_NORMAL, "  ");
		x = put_seg(d, w, r, x, cols, A_BOLD | pair_attr(d, PAIR_ALERT), a->rule);
		snprintf(b, sizeof b, "  %.2f for %.0fs", a->value, a->time - a->since);
		put_seg(d, w, r, x, cols, A_NORMAL, b);
	}
}

static void draw_footer(struct dashboard *d, WINDOW *w)
{
	static const char *const keys[][2] = {
		{"q", "quit"}, {"p", "pause"}, {"s", "sort"}, {"/", "filter"},
		{"r", "reset"}, {"v", "view"}, {"f", "frame"}, {"h", "help"},
	};
	int cols = getmaxx(w), x = 0;
	char b[256];

	if (d->editing) {
		x = put_seg(d, w, 0, 0, cols, A_BOLD, "filter: ");
		x = put_seg(d, w, 0, x, cols, A_NORMAL, d->edit);
		x = put_seg(d, w, 0, x, cols, A_REVERSE, " ");
		put_seg(d, w, 0, x, cols, A_DIM, "   Enter apply  Esc cancel");
		return;
	}
	if (d->msg[0] && mono_now() < d->msg_until) {
		/* the message takes the line; help stays reachable at the right */
		int hw = cols >= 30 ? 8 : 0;

		put(d, w, 0, 0, cols - hw - (hw ? 1 : 0), A_BOLD, d->msg, LAYOUT_LEFT);
		if (hw) {
			x = put_seg(d, w, 0, cols - hw, cols, A_BOLD | A_REVERSE | pair_attr(d, PAIR_KEY), "h");
			put_seg(d, w, 0, x, cols, A_NORMAL, " help");
		}
		return;
	}
	if (d->detail) {
		static const char *const dkeys[][2] = {
			{"Esc", "back"}, {"Up/Down", "other student"}, {"p", "pause"}, {"h", "help"},
		};

		for (size_t i = 0; i < sizeof dkeys / sizeof dkeys[0]; i++) {
			snprintf(b, sizeof b, " %s  ", dkeys[i][1]);
			x = put_seg(d, w, 0, x, cols, A_BOLD | A_REVERSE | pair_attr(d, PAIR_KEY), dkeys[i][0]);
			x = put_seg(d, w, 0, x, cols, A_NORMAL, b);
		}
		return;
	}
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const char *label = keys[i][1];

		if (!strcmp(keys[i][0], "p") && d->paused)
			label = "resume";
		snprintf(b, sizeof b, " %s  ", label);
		x = put_seg(d, w, 0, x, cols, A_BOLD | A_REVERSE | pair_attr(d, PAIR_KEY), keys[i][0]);
		x = put_seg(d, w, 0, x, cols, A_NORMAL, b);
	}
}

static void draw_help(struct dashboard *d)
{
	WINDOW *w = d->help_win;
	int h, wd;

	if (!w)
		return;
	getmaxyx(w, h, wd);
	werase(w); /* also marks it changed: it goes over the panels every frame */
	if (d->utf8)
		box(w, 0, 0);
	else
		wborder(w, '|', '|', '-', '-', '+', '+', '+', '+');
	for (int i = 0; i < HELP_LINES && i + 1 < h - 1; i++)
		put(d, w, i + 1, 2, wd - 4, i == 0 ? A_BOLD : A_NORMAL, help_text[i], LAYOUT_LEFT);
	wnoutrefresh(w);
}

/* The curses pair of a palette foreground and background, made at first
 * use; 0 (the default colours) once the terminal's pairs run out. */
static short shade_pair(struct dashboard *d, short fg, short bg)
{
	short *p = &d->shade_pair[fg * 256 + bg];

	if (!*p && d->next_pair < COLOR_PAIRS && d->next_pair <= SHRT_MAX &&
	    init_pair((short)d->next_pair, fg, bg) == OK)
		*p = (short)d->next_pair++;
	return *p;
}

/* Row y of the picture at screen row sy, each cell in its two colours. */
static void put_shaded_row(struct dashboard *d, WINDOW *w, int sy, const wchar_t *txt, int n, int y)
{
	for (int x = 0; x < n; x++) {
		wchar_t c[2] = {txt[x], L'\0'};
		short fg, bg, pair = 0;
		cchar_t cc;

		if (!dashboard_chafa_cell_colors(d->chafa, x, y, &fg, &bg))
			pair = shade_pair(d, fg, bg);
		if (setcchar(&cc, c, A_NORMAL, pair, NULL) == OK)
			mvwadd_wch(w, sy, x, &cc);
	}
}

/* The preview pane: title, the frame's symbols on the left with each
 * face's "id label" on its box's top edge and each seat's name inside its
 * bottom edge, the legend (id, name -> label) on the right or below. */
static void draw_preview(struct dashboard *d, WINDOW *w)
{
	const struct dashboard_preview *p = d->pv;
	int rows = getmaxy(w), cols = getmaxx(w), ir, ic, lx, ly, lw;
	const wchar_t *txt;
	char b[256];

	werase(w);
	if (d->have_pv && p->w > 0)
		snprintf(b, sizeof b, " PREVIEW  frame %dx%d  faces %d  seats %d  (f: close)", p->frame_w,
			 p->frame_h, p->n_faces, p->n_regions);
	else
		snprintf(b, sizeof b, " PREVIEW  waiting for a frame  (f: close)");
	title_bar(d, w, 0, b);
	if (rows < 3 || cols < 10)
		return;
	/* the picture: the frame's aspect with cells twice as tall as wide,
	 * beside a legend of 28 columns when there is room, else above it */
	{
		double aspect = d->have_pv && p->w > 0 ? (double)p->w / p->h : 4.0 / 3.0;
		int side = cols >= 70;
		int maxc = side ? cols - 29 : cols, maxr = side ? rows - 1 : rows - 1 - 4;

		if (maxr < 2)
			maxr = rows - 1;
		ir = maxr;
		ic = (int)(ir * 2 * aspect + 0.5);
		if (ic > maxc) {
			ic = maxc;
			ir = (int)(ic / (2 * aspect) + 0.5);
		}
		if (ir < 1)
			ir = 1;
		if (ic < 1)
			ic = 1;
		lx = side ? ic + 1 : 0;
		ly = side ? 1 : 1 + ir;
		lw = cols - lx;
	}
	txt = d->have_pv ? dashboard_chafa_render(d->chafa, p, ic, ir) : NULL;
	if (txt) {
		for (int y = 0; y < ir; y++)
			if (d->shade_pair)
				put_shaded_row(d, w, 1 + y, txt + (size_t)y * (ic + 1), ic, y);
			else
				mvwaddnwstr(w, 1 + y, 0, txt + (size_t)y * (ic + 1), ic);
		/* seat names first: the faces' labels go over them */
		for (int i = 0; i < p->n_regions; i++) {
			const struct dashboard_preview_box *r = &p->regions[i];
			int cx = (int)((long long)r->x * ic / p->w) + 1;
			int cy = (int)((long long)(r->y + r->h) * ir / p->h) - 1;

			if (!r->name[0] || cy < 0 || cy >= ir || cx >= ic)
				continue;
			put(d, w, 1 + cy, cx, ic - cx, A_DIM, r->name, LAYOUT_LEFT);
		}
		for (int i = 0; i < p->n_faces; i++) {
			const struct dashboard_preview_box *f = &p->faces[i];
			int cx = (int)((long long)f->x * ic / p->w);
			int cy = (int)((long long)f->y * ir / p->h);
			char id[16];

			if (cy < 0 || cy >= ir || cx >= ic)
				continue;
			if (f->id >= 0)
				snprintf(id, sizeof id, "%d", f->id);
			else
				snprintf(id, sizeof id, "?");
			snprintf(b, sizeof b, "%s %s", id, f->cls >= 0 ? class_label(f->cls) : "face");
			put(d, w, 1 + cy, cx, layout_str_width(b) < ic - cx ? layout_str_width(b) : ic - cx,
			    A_BOLD | A_REVERSE | class_attr(d, f->cls), b, LAYOUT_LEFT);
		}
	} else if (!d->have_pv) {
		put(d, w, 1 + ir / 2, 2, ic - 2, A_DIM, "waiting for a frame", LAYOUT_LEFT);
	}
	/* the legend: who is who */
	if (lw < 8 || ly >= rows)
		return;
	put(d, w, ly, lx, lw, A_BOLD, "ID   NAME        LABEL", LAYOUT_LEFT);
	for (int i = 0; d->have_pv && i < p->n_faces && ly + 1 + i < rows; i++) {
		const struct dashboard_preview_box *f = &p->faces[i];
		char id[16];
		int x;

		if (f->id >= 0)
			snprintf(id, sizeof id, "#%d", f->id);
		else
			snprintf(id, sizeof id, "-");
		snprintf(b, sizeof b, "%-4s %-11.11s ", id, f->name[0] ? f->name : "-");
		x = put_seg(d, w, ly + 1 + i, lx, cols, A_NORMAL, b);
		put_seg(d, w, ly + 1 + i, x, cols, class_attr(d, f->cls),
			f->cls >= 0 ? class_label(f->cls) : "(faces only)");
	}
	if (d->have_pv && !p->n_faces && ly + 1 < rows)
		put(d, w, ly + 1, lx, lw, A_DIM, "no face in this frame", LAYOUT_LEFT);
}

static void paint(struct dashboard *d)
{
	d->last_paint = mono_now();
	d->dirty = 0;
	werase(stdscr);
	if (d->ls.too_small) {
		char b[96];

		int y = d->lines > 2 ? d->lines / 2 - 1 : 0;

		/* short lines: this must fit the smallest terminals */
		snprintf(b, sizeof b, "too small: %dx%d", d->cols, d->lines);
		put(d, stdscr, y, 0, d->cols, A_BOLD, b, LAYOUT_LEFT);
		snprintf(b, sizeof b, "need %dx%d, q quits", LAYOUT_MIN_COLS, LAYOUT_MIN_LINES);
		if (y + 1 < d->lines)
			put(d, stdscr, y + 1, 0, d->cols, A_NORMAL, b, LAYOUT_LEFT);
		wnoutrefresh(stdscr);
		doupdate();
		return;
	}
	wnoutrefresh(stdscr);
	for (int i = 0; i < W_COUNT; i++)
		if (d->win[i])
			werase(d->win[i]);
	if (d->win[W_HEADER])
		draw_header(d, d->win[W_HEADER]);
	if (d->preview && d->preview_win) {
		draw_preview(d, d->preview_win);
		if (d->win[W_FOOTER])
			draw_footer(d, d->win[W_FOOTER]);
		if (d->win[W_HEADER])
			wnoutrefresh(d->win[W_HEADER]);
		wnoutrefresh(d->preview_win);
		if (d->win[W_FOOTER])
			wnoutrefresh(d->win[W_FOOTER]);
		if (d->help)
			draw_help(d);
		doupdate();
		return;
	}
	if (d->win[W_STUDENTS]) {
		if (d->detail) {
			build_rows(d); /* the selection on this snapshot */
			draw_detail(d, d->win[W_STUDENTS]);
		} else {
			draw_students(d, d->win[W_STUDENTS]);
		}
	}
	if (d->win[W_CLS])
		draw_class(d, d->win[W_CLS]);
	if (d->win[W_MOOD])
		draw_mood(d, d->win[W_MOOD]);
	if (d->win[W_ALERTS])
		draw_alerts(d, d->win[W_ALERTS]);
	if (d->win[W_FOOTER])
		draw_footer(d, d->win[W_FOOTER]);
	for (int i = 0; i < W_COUNT; i++)
		if (d->win[i])
			wnoutrefresh(d->win[i]);
	if (d->help)
		draw_help(d);
	doupdate();
}

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
		hist_add(d, s);
		d->have_snap = 1;
		d->snap_wall = wall_now();
		d->dirty = 1;
	}
	if (d->dirty && mono_now() - d->last_paint >= d->interval)
		paint(d);
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
				move_sel(d, -3);
			}
#ifdef BUTTON5_PRESSED
			else if (ev.bstate & BUTTON5_PRESSED) {
				d->scroll += 3;
				move_sel(d, 3);
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
			sel_top(d);
		} else if (is_key && c == KEY_ENTER) {
			snprintf(d->filter, sizeof d->filter, "%s", d->edit);
			d->editing = 0;
			sel_top(d);
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
			move_sel(d, -1);
		else if ((is_key && c == KEY_DOWN) || (!is_key && c == 'j'))
			move_sel(d, 1);
		if (is_key ? c != KEY_F(1) : c == 0 || c >= 128 || !strchr("pP rRhH?fF\014", (int)c))
			return DASHBOARD_NONE;
	}
	if (is_key) {
		switch (c) {
		case KEY_UP: move_sel(d, -1); break;
		case KEY_DOWN: move_sel(d, 1); break;
		case KEY_PPAGE:
			d->scroll -= page_rows(d);
			move_sel(d, -page_rows(d));
			break;
		case KEY_NPAGE:
			d->scroll += page_rows(d);
			move_sel(d, page_rows(d));
			break;
		case KEY_HOME: move_sel(d, -SUMMARY_MAX_STUDENTS); break;
		case KEY_END: move_sel(d, SUMMARY_MAX_STUDENTS); break;
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
		sel_top(d);
		break;
	case 'S':
		d->sort = (enum dashboard_sort)((d->sort + 3) % 4);
		sel_top(d);
		break;
	case '\r':
	case '\n':
		build_rows(d);
		d->detail = d->n_rows > 0;
		break;
	case '/':
		d->editing = 1;
		snprintf(d->edit, sizeof d->edit, "%s", d->filter);
		break;
	case 27: /* Esc clears an applied filter */
		if (d->filter[0])
			sel_top(d);
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
	case 'k': move_sel(d, -1); break;
	case 'j': move_sel(d, 1); break;
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
	double now = mono_now(), deadline = now + (timeout_ms > 0 ? timeout_ms / 1000.0 : 0);

	if (!d || !d->scr || d->gone)
		return DASHBOARD_QUIT;
	for (;;) {
		double wait, t0;
		wint_t c;
		int r, act;

		if (quit_signal)
			return DASHBOARD_QUIT;
		now = mono_now();
		if (d->msg[0] && d->msg_until && now >= d->msg_until) {
			d->msg_until = 0;
			d->dirty = 1;
		}
		if (d->dirty && now - d->last_paint >= d->interval)
			paint(d);
		/* how long getch may block */
		wait = timeout_ms < 0 ? 0.2 : deadline - now;
		if (d->dirty && d->last_paint + d->interval - now < wait)
			wait = d->last_paint + d->interval - now;
		if (d->msg_until && d->msg_until - now < wait)
			wait = d->msg_until - now;
		if (wait < 0)
			wait = 0;
		wtimeout(stdscr, (int)ceil(wait * 1000));
		t0 = mono_now();
		errno = 0;
		r = wget_wch(stdscr, &c);
		if (r == ERR) {
			/* a timeout, a signal, or a terminal that went away: a
			 * hung-up tty reads 0 bytes at once, for ever */
			int intr = errno == EINTR;
			int early = !intr && wait >= 0.02 && mono_now() - t0 < wait / 2;

			d->early_errs = early ? d->early_errs + 1 : 0;
			if (d->early_errs >= EARLY_ERR_MAX || (!intr && tty_gone(in_fd))) {
				d->gone = 1;
				return DASHBOARD_QUIT;
			}
			if (timeout_ms >= 0 && mono_now() >= deadline) {
				if (d->dirty && mono_now() - d->last_paint >= d->interval)
					paint(d);
				return DASHBOARD_NONE;
			}
			continue;
		}
		d->early_errs = 0;
		act = handle_key(d, r == KEY_CODE_YES, c);
		paint(d); /* input repaints at once */
		if (act != DASHBOARD_NONE)
			return act;
	}
}
