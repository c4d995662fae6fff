/* layout.h - pure text-layout helpers for the dashboard (no curses).
 *
 * Everything here writes into caller-owned buffers and depends on nothing but
 * its arguments (and, for wcwidth, the LC_CTYPE locale), so it is unit-tested
 * without a terminal. Strings are UTF-8. "Width" always means display columns
 * (wcwidth), never bytes. Functions taking `utf8` emit only ASCII bytes when it
 * is 0 (the --ascii / non-UTF-8 fallback): non-ASCII input becomes '?'.
 */
#ifndef EMOTOP_LAYOUT_H
#define EMOTOP_LAYOUT_H

#include <stddef.h>

/* Display width of one Unicode code point: 0 (combining, zero-width), 1 or 2
 * (East Asian wide, emoji); control characters count 1 (they are shown as
 * '?'). Uses wcwidth() when the locale knows the character, else a built-in
 * table, so the answer does not depend on the locale for common scripts. */
int layout_cp_width(unsigned cp);

/* Display width of a UTF-8 string as layout_fit() shows it in UTF-8 mode:
 * invalid bytes count 1 each; the invisible format characters layout_fit()
 * drops (see there) count 0. */
int layout_str_width(const char *s);

enum layout_align {
	LAYOUT_LEFT = 0,
	LAYOUT_RIGHT = 1,
};

/* Copy s into buf (capacity cap, always NUL-terminated when cap > 0) fitted
 * to exactly `width` display columns: truncated at a character boundary
 * (a wide character that would straddle the edge becomes a space) with an
 * ellipsis ("…", or "~" when !utf8) in the last column when something was cut,
 * and padded with spaces on the right (LAYOUT_LEFT) or left (LAYOUT_RIGHT).
 * Control characters and invalid bytes become '?'. When utf8 is set,
 * invisible format characters that terminals render differently are dropped
 * (neither counted nor written): U+200B-U+200F (zero-width space and joiners,
 * direction marks), U+202A-U+202E, U+2060-U+2064, U+2066-U+2069, U+FEFF,
 * variation selectors (U+FE00-U+FE0F, U+E0100-U+E01EF), emoji skin-tone
 * modifiers U+1F3FB-U+1F3FF and tags U+E0000-U+E007F; a ZWJ emoji sequence
 * such as a family thus shows its members side by side, at the width curses
 * counts. Combining marks are kept. Returns the display width written
 * (== width unless cap was too small). */
int layout_fit(char *buf, size_t cap, const char *s, int width, enum layout_align align,
	       int utf8);

/* A horizontal bar of `width` columns filled to frac (clamped to 0..1):
 * utf8 uses full blocks and an eighth-block for the remainder ("███▍  "),
 * ASCII uses '#' (rounded to whole cells) and fills the rest with `empty`
 * (e.g. ' ' or '.'); utf8 bars pad with spaces. Returns the number of filled
 * eighths (0..8*width), i.e. the rounding actually drawn. */
int layout_bar(char *buf, size_t cap, double frac, int width, int utf8, char empty);

/* Split `width` cells among n shares (negative treated as 0) proportionally,
 * by the largest-remainder method: cells[i] >= 0 and they sum to exactly
 * width, unless every share is 0 (then all cells are 0). */
void layout_split(const float *shares, int n, int width, int *cells);

/* Sparkline level 0..7 of v in [lo, hi] (clamped; lo == hi gives 0). */
int layout_spark_level(double v, double lo, double hi);

/* Sparkline of the last `width` values (the most recent at the right; fewer
 * values are right-aligned after spaces) scaled to [lo, hi]: utf8 uses
 * "▁▂▃▄▅▆▇█", ASCII uses "_.-:=+*#". Values that are NaN draw as ' '.
 * Returns the display width written. */
int layout_sparkline(char *buf, size_t cap, const float *vals, int n, int width, double lo,
		     double hi, int utf8);

/* Short age: "-" (negative or NaN), "0s".."59s", "1m05s", "2h03m", "3d04h",
 * "12d", ">99d". At most 6 columns. */
void layout_age(char *buf, size_t cap, double seconds);

/* Uptime as "MM:SS" below an hour, "H:MM:SS" below a day, "Nd HH:MM" above. */
void layout_uptime(char *buf, size_t cap, double seconds);

/* Local wall-clock time "HH:MM:SS" of a Unix time (seconds). */
void layout_clock(char *buf, size_t cap, double unix_s);

/* Natural order of two names, for sorting: ASCII letters in either case
 * alike, a run of digits by its number ("#9" < "#10", "Seat 2" < "Seat 10",
 * "007" == "7" then broken by the digits' length), other bytes by value.
 * Returns < 0, 0 or > 0 like strcmp. */
int layout_natcmp(const char *a, const char *b);

/* Columns of one student row (all widths in display columns):
 *   ' ' name ' ' bars ' ' dominant [' ' negative] ' ' seen
 * Seven-bar mode (bar_w > 0): bars = 7 bars of bar_w separated by spaces;
 * stacked mode (bar_w == 0): bars is one stacked bar. At 80 columns the
 * name gives way so that the bars keep 5 cells; from 60 columns on there
 * is a negative-share column (neg > 0); bars of 12 cells and more end in
 * their percentage (pct: the last pct cells of each bar, " 42%"). The
 * fields and separators add up to exactly `width`. Returns 0, or -1 when
 * width is below LAYOUT_MIN_COLS (then *c is zeroed). */
struct layout_cols {
	int name;  /* name / track id */
	int bars;  /* whole bar area */
	int bar_w; /* width of each of the 7 bars, 0 = stacked mode */
	int pct;   /* cells of each bar given to its number, 0 = none */
	int dom;   /* "surprise 100%" */
	int neg;   /* "100%", 0 = no such column (narrow) */
	int seen;  /* age since last seen */
};
#define LAYOUT_MIN_COLS 40
int layout_student_cols(int width, int force_stacked, struct layout_cols *c);

/* Screen partition. A rect with h == 0 is hidden. */
struct layout_rect {
	int y, x, h, w;
};
struct layout_screen {
	int too_small;             /* below LAYOUT_MIN_COLS x LAYOUT_MIN_LINES */
	struct layout_rect header; /* 2 lines: source/fps/latency, faces/uptime/state */
	struct layout_rect students;
	struct layout_rect cls;    /* class window: title + 7 bars (or compact) */
	struct layout_rect mood;   /* mood, negative share, sparkline */
	struct layout_rect alerts;
	struct layout_rect footer; /* key hints / prompt, 1 line */
	int compact;               /* 1: cls is a 2-line summary without bars */
};
#define LAYOUT_MIN_LINES 8
/* Partition a lines x cols screen. Panels never overlap and always lie within
 * the screen; students always keeps at least its title and one row. */
void layout_screen(int lines, int cols, struct layout_screen *s);

#endif
