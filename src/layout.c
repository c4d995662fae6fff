/* layout.c - pure text layout for the dashboard: widths, fitting, bars,
 * sparklines, times and the screen partition. No curses, no allocation. */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* wcwidth */
#endif
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "emotop/layout.h"

/* Decode one UTF-8 sequence at s; returns its length (>= 1) and the code
 * point in *cp, or length 1 and *cp = ~0u for an invalid byte. */
static int utf8_decode(const unsigned char *s, unsigned *cp)
{
	unsigned c = s[0], v;
	int n, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		v = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		v = c & 0x07;
	} else {
		*cp = ~0u;
		return 1;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = ~0u;
			return 1;
		}
		v = (v << 6) | (s[i] & 0x3f);
	}
	/* overlong, surrogate or out of range */
	if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10ffff)) ||
	    (v >= 0xd800 && v <= 0xdfff)) {
		*cp = ~0u;
		return 1;
	}
	*cp = v;
	return n;
}

static int utf8_encode(unsigned cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int is_control(unsigned cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
}

/* Fallback when wcwidth() does not know the character (e.g. C locale). */
static int table_width(unsigned cp)
{
	static const unsigned zero[][2] = {
		{0x0300, 0x036f}, {0x0483, 0x0489}, {0x0591, 0x05bd}, {0x0610, 0x061a},
		{0x064b, 0x065f}, {0x200b, 0x200f}, {0x20d0, 0x20ff}, {0xfe00, 0xfe0f},
		{0xfe20, 0xfe2f},
	};
	static const unsigned wide[][2] = {
		{0x1100, 0x115f}, {0x2e80, 0x303e}, {0x3041, 0x33ff}, {0x3400, 0x4dbf},
		{0x4e00, 0x9fff}, {0xa000, 0xa4cf}, {0xac00, 0xd7a3}, {0xf900, 0xfaff},
		{0xfe30, 0xfe4f}, {0xff00, 0xff60}, {0xffe0, 0xffe6}, {0x1f300, 0x1f64f},
		{0x1f900, 0x1f9ff}, {0x20000, 0x2fffd}, {0x30000, 0x3fffd},
	};
	size_t i;

	for (i = 0; i < sizeof zero / sizeof zero[0]; i++)
		if (cp >= zero[i][0] && cp <= zero[i][1])
			return 0;
	for (i = 0; i < sizeof wide / sizeof wide[0]; i++)
		if (cp >= wide[i][0] && cp <= wide[i][1])
			return 2;
	return 1;
}

/* Invisible format characters that terminals disagree on. A terminal that
 * joins emoji draws U+1F468 U+200D U+1F469 as one 2-column glyph where
 * wcwidth() (and so curses) counts 4, and a variation selector or a skin
 * tone may widen or merge the character before it; the row then drifts and
 * later partial updates land in the wrong cells. Dropping them shows the
 * parts side by side (a family as its members), at the width curses counts.
 * Combining marks are not here: curses attaches them to their base cell. */
static int is_dropped(unsigned cp)
{
	return (cp >= 0x200b && cp <= 0x200f) ||   /* ZWSP, ZWNJ, ZWJ, LRM, RLM */
	       (cp >= 0x202a && cp <= 0x202e) ||   /* bidi embeddings, overrides */
	       (cp >= 0x2060 && cp <= 0x2064) ||   /* word joiner, invisible operators */
	       (cp >= 0x2066 && cp <= 0x2069) ||   /* bidi isolates */
	       (cp >= 0xfe00 && cp <= 0xfe0f) ||   /* variation selectors 1-16 */
	       cp == 0xfeff ||                     /* zero-width no-break space (BOM) */
	       (cp >= 0x1f3fb && cp <= 0x1f3ff) || /* emoji skin-tone modifiers */
	       (cp >= 0xe0000 && cp <= 0xe007f) || /* tags (subdivision flags) */
	       (cp >= 0xe0100 && cp <= 0xe01ef);   /* variation selectors 17-256 */
}

int layout_cp_width(unsigned cp)
{
	int w;

	if (cp == ~0u || is_control(cp))
		return 1;
	if (cp < 0x7f)
		return 1;
	w = wcwidth((wchar_t)cp);
	if (w < 0)
		w = table_width(cp);
	return w > 2 ? 2 : w;
}

int layout_str_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int w = 0;
	unsigned cp;

	while (p && *p) {
		p += utf8_decode(p, &cp);
		if (!is_dropped(cp))
			w += layout_cp_width(cp);
	}
	return w;
}

/* Append n bytes if they fit (keeping room for the NUL). */
static int put(char *buf, size_t cap, size_t *len, const char *b, size_t n)
{
	if (*len + n + 1 > cap)
		return -1;
	memcpy(buf + *len, b, n);
	*len += n;
	buf[*len] = '\0';
	return 0;
}

static int put_spaces(char *buf, size_t cap, size_t *len, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (put(buf, cap, len, " ", 1))
			return i;
	return n;
}

/* Width of cp as layout_fit() shows it (substitutions and drops included). */
static int shown_width(unsigned cp, int utf8)
{
	if (cp == ~0u || is_control(cp) || (!utf8 && cp >= 0x80))
		return 1;
	if (is_dropped(cp))
		return 0;
	return layout_cp_width(cp);
}

int layout_fit(char *buf, size_t cap, const char *s, int width, enum layout_align align,
	       int utf8)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	const unsigned char *q;
	size_t len = 0;
	int used = 0, total = 0, target;
	unsigned cp;

	if (cap == 0)
		return 0;
	buf[0] = '\0';
	if (width <= 0)
		return 0;
	for (q = p; *q;) {
		q += utf8_decode(q, &cp);
		total += shown_width(cp, utf8);
	}
	/* when cut, leave the last column for the ellipsis */
	target = total > width ? width - 1 : width;
	if (align == LAYOUT_RIGHT && total < width)
		used += put_spaces(buf, cap, &len, width - total);
	while (*p) {
		char enc[4];
		int n = utf8_decode(p, &cp), cw = shown_width(cp, utf8), k;

		if (utf8 && is_dropped(cp)) {
			p += n;
			continue;
		}
		if (cp == ~0u || is_control(cp) || (!utf8 && cp >= 0x80)) {
			enc[0] = '?';
			k = 1;
		} else {
			k = utf8_encode(cp, enc);
		}
		/* stop before the edge; a straddling wide char leaves a space */
		if (used + cw > target)
			break;
		if (put(buf, cap, &len, enc, (size_t)k))
			return used;
		used += cw;
		p += n;
	}
	if (total > width) {
		used += put_spaces(buf, cap, &len, target - used);
		if (put(buf, cap, &len, utf8 ? "\xe2\x80\xa6" : "~", utf8 ? 3 : 1) == 0)
			used++;
	}
	if (width > used)
		used += put_spaces(buf, cap, &len, width - used);
	return used;
}

static const char *const eighths[9] = {
	"", "\xe2\x96\x8f", "\xe2\x96\x8e", "\xe2\x96\x8d", "\xe2\x96\x8c",
	"\xe2\x96\x8b", "\xe2\x96\x8a", "\xe2\x96\x89", "\xe2\x96\x88",
};

int layout_bar(char *buf, size_t cap, double frac, int width, int utf8, char empty)
{
	size_t len = 0;
	int filled, i;

	if (cap == 0)
		return 0;
	buf[0] = '\0';
	if (width <= 0)
		return 0;
	if (!(frac > 0)) /* also NaN */
		frac = 0;
	if (frac > 1)
		frac = 1;
	if (utf8) {
		int e = (int)lround(frac * width * 8), full = e / 8, part = e % 8;

		for (i = 0; i < full; i++)
			put(buf, cap, &len, eighths[8], 3);
		if (part)
			put(buf, cap, &len, eighths[part], 3);
		for (i = full + (part ? 1 : 0); i < width; i++)
			put(buf, cap, &len, " ", 1);
		return e;
	}
	filled = (int)lround(frac * width);
	for (i = 0; i < width; i++)
		put(buf, cap, &len, i < filled ? "#" : &empty, 1);
	return filled * 8;
}

void layout_split(const float *shares, int n, int width, int *cells)
{
	double sum = 0, rem[64];
	int i, given = 0;

	for (i = 0; i < n; i++) {
		cells[i] = 0;
		if (shares[i] > 0)
			sum += shares[i];
	}
	if (!(sum > 0) || width <= 0 || n <= 0)
		return;
	for (i = 0; i < n; i++) {
		double exact = shares[i] > 0 ? shares[i] / sum * width : 0;

		cells[i] = (int)floor(exact);
		rem[i < 64 ? i : 63] = exact - cells[i];
		given += cells[i];
	}
	/* hand out the leftover cells to the largest remainders (first wins ties) */
	while (given < width) {
		int best = -1;

		for (i = 0; i < n && i < 64; i++)
			if (shares[i] > 0 && (best < 0 || rem[i] > rem[best]))
				best = i;
		if (best < 0)
			break;
		cells[best]++;
		rem[best] = -1;
		given++;
	}
}

int layout_spark_level(double v, double lo, double hi)
{
	int l;

	if (!(hi > lo) || v != v)
		return 0;
	l = (int)floor((v - lo) / (hi - lo) * 8);
	return l < 0 ? 0 : l > 7 ? 7 : l;
}

int layout_sparkline(char *buf, size_t cap, const float *vals, int n, int width, double lo,
		     double hi, int utf8)
{
	static const char ascii[] = "_.-:=+*#";
	size_t len = 0;
	int i, first, written = 0;

	if (cap == 0)
		return 0;
	buf[0] = '\0';
	if (width <= 0)
		return 0;
	if (n < 0)
		n = 0;
	first = n > width ? n - width : 0;
	written += put_spaces(buf, cap, &len, width - (n - first));
	for (i = first; i < n; i++) {
		int l = layout_spark_level(vals[i], lo, hi);
		char enc[4];
		int k;

		if (vals[i] != vals[i]) {
			enc[0] = ' ';
			k = 1;
		} else if (utf8) {
			k = utf8_encode(0x2581u + (unsigned)l, enc);
		} else {
			enc[0] = ascii[l];
			k = 1;
		}
		if (put(buf, cap, &len, enc, (size_t)k))
			break;
		written++;
	}
	return written;
}

void layout_age(char *buf, size_t cap, double s)
{
	long t;

	if (!(s >= 0)) {
		snprintf(buf, cap, "-");
		return;
	}
	t = (long)s;
	if (t < 60)
		snprintf(buf, cap, "%lds", t);
	else if (t < 3600)
		snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
	else if (t < 86400)
		snprintf(buf, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
	else if (t < 10L * 86400)
		snprintf(buf, cap, "%ldd%02ldh", t / 86400, t / 3600 % 24);
	else if (t < 100L * 86400)
		snprintf(buf, cap, "%ldd", t / 86400);
	else
		snprintf(buf, cap, ">99d");
}

void layout_uptime(char *buf, size_t cap, double s)
{
	long t = s > 0 && s < 1e12 ? (long)s : 0;

	if (t < 3600)
		snprintf(buf, cap, "%02ld:%02ld", t / 60, t % 60);
	else if (t < 86400)
		snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, cap, "%ldd %02ld:%02ld", t / 86400, t / 3600 % 24, t / 60 % 60);
}

static int lower_ascii(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

int layout_natcmp(const char *a, const char *b)
{
	int zeros = 0; /* "07" vs "7": equal numbers, the shorter first */

	while (*a && *b) {
		if (is_digit((unsigned char)*a) && is_digit((unsigned char)*b)) {
			const char *ea, *eb;
			size_t la, lb;
			int za = 0, zb = 0;

			while (*a == '0' && is_digit((unsigned char)a[1]))
				a++, za++;
			while (*b == '0' && is_digit((unsigned char)b[1]))
				b++, zb++;
			for (ea = a; is_digit((unsigned char)*ea); ea++)
				;
			for (eb = b; is_digit((unsigned char)*eb); eb++)
				;
			la = (size_t)(ea - a);
			lb = (size_t)(eb - b);
			if (la != lb)
				return la < lb ? -1 : 1;
			for (; a < ea; a++, b++)
				if (*a != *b)
					return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
			if (!zeros && za != zb)
				zeros = za < zb ? -1 : 1;
			continue;
		}
		if (lower_ascii((unsigned char)*a) != lower_ascii((unsigned char)*b))
			return lower_ascii((unsigned char)*a) < lower_ascii((unsigned char)*b) ? -1 : 1;
		a++;
		b++;
	}
	if (*a || *b)
		return *a ? 1 : -1;
	return zeros;
}

void layout_clock(char *buf, size_t cap, double unix_s)
{
	time_t t = (time_t)unix_s;
	struct tm tm;

	if (!localtime_r(&t, &tm)) {
		snprintf(buf, cap, "--:--:--");
		return;
	}
	snprintf(buf, cap, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int layout_student_cols(int width, int force_stacked, struct layout_cols *c)
{
	int rest;

	memset(c, 0, sizeof *c);
	if (width < LAYOUT_MIN_COLS)
		return -1;
	c->dom = 13;  /* "surprise 100%" */
	c->seen = 6;  /* layout_age() */
	c->neg = width >= 60 ? 4 : 0; /* "100%" */
	c->name = width / 6;
	if (c->name < 8)
		c->name = 8;
	if (c->name > 24)
		c->name = 24;
	/* ' ' name ' ' bars ' ' dom [' ' neg] ' ' seen */
	c->bars = width - 4 - c->name - c->dom - c->seen - (c->neg ? c->neg + 1 : 0);
	/* bars of 5 cells (readable labels) before a name above 10 columns */
	if (!force_stacked && c->bars < 7 * 5 + 6 && c->bars + c->name - 10 >= 7 * 5 + 6) {
		int give = 7 * 5 + 6 - c->bars;

		c->name -= give;
		c->bars += give;
	}
	/* seven bars of at least 4 columns, 6 gaps; else one stacked bar */
	if (!force_stacked && c->bars >= 7 * 4 + 6) {
		c->bar_w = (c->bars - 6) / 7;
		if (c->bar_w > 24)
			c->bar_w = 24;
		c->pct = c->bar_w >= 12 ? 5 : 0;
		/* leftover columns widen the name, then trail the bars */
		rest = c->bars - (7 * c->bar_w + 6);
		c->name += rest;
		if (c->name > 32) {
			rest = c->name - 32;
			c->name = 32;
		} else {
			rest = 0;
		}
		c->bars = 7 * c->bar_w + 6 + rest;
	}
	return 0;
}

void layout_screen(int lines, int cols, struct layout_screen *s)
{
	int y, avail, bottom = 0;

	memset(s, 0, sizeof *s);
	if (lines < LAYOUT_MIN_LINES || cols < LAYOUT_MIN_COLS) {
		s->too_small = 1;
		return;
	}
	s->header = (struct layout_rect){0, 0, 2, cols};
	s->footer = (struct layout_rect){lines - 1, 0, 1, cols};
	avail = lines - 3;
	if (lines >= 40 && cols >= 72) {
		/* roomy: class bars | mood side by side, alerts full width below */
		int ah = lines / 5 > 12 ? 12 : lines / 5;

		bottom = 8 + ah;
		y = lines - 1 - bottom;
		s->cls = (struct layout_rect){y, 0, 8, cols / 2};
		s->mood = (struct layout_rect){y, cols / 2, 8, cols - cols / 2};
		s->alerts = (struct layout_rect){y + 8, 0, ah, cols};
	} else if (lines >= 20 && cols >= 72) {
		/* class bars left; mood and alerts stacked on the right */
		bottom = 8;
		y = lines - 1 - bottom;
		s->cls = (struct layout_rect){y, 0, 8, cols / 2};
		s->mood = (struct layout_rect){y, cols / 2, 3, cols - cols / 2};
		s->alerts = (struct layout_rect){y + 3, cols / 2, 5, cols - cols / 2};
	} else if (lines >= 20) {
		/* narrow: class bars, then a 2-line mood, then 3 lines of alerts */
		bottom = 8 + 2 + 3;
		y = lines - 1 - bottom;
		s->cls = (struct layout_rect){y, 0, 8, cols};
		s->mood = (struct layout_rect){y + 8, 0, 2, cols};
		s->alerts = (struct layout_rect){y + 10, 0, 3, cols};
	} else if (lines >= 12) {
		/* compact: no class bars */
		s->compact = 1;
		bottom = 2 + 2;
		y = lines - 1 - bottom;
		s->mood = (struct layout_rect){y, 0, 2, cols};
		s->alerts = (struct layout_rect){y + 2, 0, 2, cols};
	}
	s->students = (struct layout_rect){2, 0, avail - bottom, cols};
}
