/* test_layout.c - unit tests of the dashboard's pure layout functions. */
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emotop/layout.h"
#include "unit.h"

static int all_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

TEST(str_width_ascii_and_wide)
{
	ASSERT_EQ(layout_str_width(""), 0);
	ASSERT_EQ(layout_str_width("anna"), 4);
	/* 中文: two wide characters */
	ASSERT_EQ(layout_str_width("\xe4\xb8\xad\xe6\x96\x87"), 4);
	/* é precomposed (1) and e + combining acute (1 + 0) */
	ASSERT_EQ(layout_str_width("\xc3\xa9"), 1);
	ASSERT_EQ(layout_str_width("e\xcc\x81"), 1);
	/* an invalid byte counts one column */
	ASSERT_EQ(layout_str_width("a\xff" "b"), 3);
}

TEST(fit_pads_and_truncates_ascii)
{
	char b[64];

	ASSERT_EQ(layout_fit(b, sizeof b, "bob", 6, LAYOUT_LEFT, 1), 6);
	ASSERT_STR(b, "bob   ");
	ASSERT_EQ(layout_fit(b, sizeof b, "bob", 6, LAYOUT_RIGHT, 1), 6);
	ASSERT_STR(b, "   bob");
	ASSERT_EQ(layout_fit(b, sizeof b, "alexandra", 6, LAYOUT_LEFT, 0), 6);
	ASSERT_STR(b, "alexa~");
	ASSERT_EQ(layout_fit(b, sizeof b, "alexandra", 6, LAYOUT_LEFT, 1), 6);
	ASSERT_STR(b, "alexa\xe2\x80\xa6");
	/* exact fit: no ellipsis */
	ASSERT_EQ(layout_fit(b, sizeof b, "abcdef", 6, LAYOUT_LEFT, 1), 6);
	ASSERT_STR(b, "abcdef");
	ASSERT_EQ(layout_fit(b, sizeof b, NULL, 3, LAYOUT_LEFT, 1), 3);
	ASSERT_STR(b, "   ");
	ASSERT_EQ(layout_fit(b, sizeof b, "x", 0, LAYOUT_LEFT, 1), 0);
	ASSERT_STR(b, "");
}

TEST(fit_by_display_width_with_wide_chars)
{
	char b[64];

	/* 中文字 is 6 columns; in 5 columns: 中文 (4) + ellipsis */
	ASSERT_EQ(layout_fit(b, sizeof b, "\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97", 5, LAYOUT_LEFT, 1), 5);
	ASSERT_STR(b, "\xe4\xb8\xad\xe6\x96\x87\xe2\x80\xa6");
	ASSERT_EQ(layout_str_width(b), 5);
	/* in 4 columns: 中 (2) + a space where 文 would straddle + ellipsis */
	ASSERT_EQ(layout_fit(b, sizeof b, "\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97", 4, LAYOUT_LEFT, 1), 4);
	ASSERT_STR(b, "\xe4\xb8\xad \xe2\x80\xa6");
	/* padding counts columns, not bytes: 中 + 3 spaces = 5 columns */
	ASSERT_EQ(layout_fit(b, sizeof b, "\xe4\xb8\xad", 5, LAYOUT_LEFT, 1), 5);
	ASSERT_STR(b, "\xe4\xb8\xad   ");
	/* Zoë keeps its combining-free é */
	layout_fit(b, sizeof b, "Zo\xc3\xab", 4, LAYOUT_LEFT, 1);
	ASSERT_STR(b, "Zo\xc3\xab ");
}

TEST(fit_ascii_fallback_only_ascii)
{
	char b[64];

	ASSERT_EQ(layout_fit(b, sizeof b, "\xe4\xb8\xad" "Zo\xc3\xab\x01", 8, LAYOUT_LEFT, 0), 8);
	ASSERT(all_ascii(b));
	ASSERT_STR(b, "?Zo??   ");
	ASSERT_EQ(layout_fit(b, sizeof b, "\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97xyz", 4, LAYOUT_LEFT, 0), 4);
	ASSERT(all_ascii(b));
	ASSERT_STR(b, "???~");
}

/* 👨‍👩‍👧: man ZWJ woman ZWJ girl. Terminals that join it draw 2 columns where
 * wcwidth counts 6, so the joiners (and other invisible format characters)
 * are dropped: the members side by side, 6 columns on every terminal. */
#define FAMILY "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7"
#define MEMBERS "\xf0\x9f\x91\xa8\xf0\x9f\x91\xa9\xf0\x9f\x91\xa7"
#define WAVE "\xf0\x9f\x91\x8b"       /* 👋 */
#define TONE "\xf0\x9f\x8f\xbd"       /* skin tone 4 */
#define HEART "\xe2\x9d\xa4"           /* ❤ (1 column) */
#define VS16 "\xef\xb8\x8f"            /* emoji presentation */
#define FLAG_GB_SCT "\xf0\x9f\x8f\xb4\xf3\xa0\x81\xa7\xf3\xa0\x81\xa2\xf3\xa0\x81\xb3" \
	"\xf3\xa0\x81\xa3\xf3\xa0\x81\xb4\xf3\xa0\x81\xbf" /* 🏴 + tags gbsct + cancel */

TEST(fit_drops_joiners_and_modifiers)
{
	char b[128];

	ASSERT_EQ(layout_fit(b, sizeof b, FAMILY " fam", 12, LAYOUT_LEFT, 1), 12);
	ASSERT_STR(b, MEMBERS " fam  ");
	ASSERT_EQ(layout_str_width(FAMILY), 6);
	ASSERT_EQ(layout_str_width(b), 12);
	/* cut inside the sequence: two members and the ellipsis */
	ASSERT_EQ(layout_fit(b, sizeof b, FAMILY, 5, LAYOUT_LEFT, 1), 5);
	ASSERT_STR(b, "\xf0\x9f\x91\xa8\xf0\x9f\x91\xa9\xe2\x80\xa6");
	/* a skin tone (2 columns by wcwidth, merged by some terminals) is dropped */
	ASSERT_EQ(layout_fit(b, sizeof b, WAVE TONE "x", 4, LAYOUT_RIGHT, 1), 4);
	ASSERT_STR(b, " " WAVE "x");
	ASSERT_EQ(layout_str_width(WAVE TONE), 2);
	/* VS16 (may widen ❤ to 2 columns) and a tag sequence */
	ASSERT_EQ(layout_fit(b, sizeof b, HEART VS16 "|", 3, LAYOUT_LEFT, 1), 3);
	ASSERT_STR(b, HEART "| ");
	ASSERT_EQ(layout_fit(b, sizeof b, FLAG_GB_SCT, 3, LAYOUT_LEFT, 1), 3);
	ASSERT_STR(b, "\xf0\x9f\x8f\xb4 ");
	/* zero-width space, word joiner, BOM, bidi isolate: gone */
	ASSERT_EQ(layout_fit(b, sizeof b, "a\xe2\x80\x8b" "b\xe2\x81\xa0" "c\xef\xbb\xbf"
			     "d\xe2\x81\xa6" "e", 6, LAYOUT_LEFT, 1), 6);
	ASSERT_STR(b, "abcde ");
	/* combining marks stay (curses attaches them to the base cell) */
	ASSERT_EQ(layout_fit(b, sizeof b, "e\xcc\x81x", 3, LAYOUT_LEFT, 1), 3);
	ASSERT_STR(b, "e\xcc\x81x ");
	/* ASCII mode: every non-ASCII code point is still one '?' */
	ASSERT_EQ(layout_fit(b, sizeof b, FAMILY, 6, LAYOUT_LEFT, 0), 6);
	ASSERT_STR(b, "????? ");
}

TEST(fit_small_buffer_is_terminated)
{
	char b[4];

	layout_fit(b, sizeof b, "abcdefgh", 8, LAYOUT_LEFT, 1);
	ASSERT_EQ(strlen(b), 3);
	ASSERT(!memcmp(b, "abc", 3));
}

TEST(bar_utf8_eighths_and_width)
{
	char b[128];

	/* 0.5 of 4 columns = 16 eighths = 2 full blocks + 2 spaces */
	ASSERT_EQ(layout_bar(b, sizeof b, 0.5, 4, 1, ' '), 16);
	ASSERT_STR(b, "\xe2\x96\x88\xe2\x96\x88  ");
	ASSERT_EQ(layout_str_width(b), 4);
	/* 0.3 of 4 = 9.6 eighths -> 10: 1 full + a quarter block (2/8) */
	ASSERT_EQ(layout_bar(b, sizeof b, 0.3, 4, 1, ' '), 10);
	ASSERT_STR(b, "\xe2\x96\x88\xe2\x96\x8e  ");
	ASSERT_EQ(layout_bar(b, sizeof b, 1.7, 3, 1, ' '), 24);
	ASSERT_EQ(layout_str_width(b), 3);
	ASSERT_EQ(layout_bar(b, sizeof b, -1, 3, 1, ' '), 0);
	ASSERT_STR(b, "   ");
	ASSERT_EQ(layout_bar(b, sizeof b, 0.0 / 0.0, 3, 1, ' '), 0);
	/* every width keeps exactly width columns */
	for (int w = 1; w < 30; w++)
		for (int k = 0; k <= 20; k++) {
			layout_bar(b, sizeof b, k / 20.0, w, 1, ' ');
			ASSERT_EQ(layout_str_width(b), w);
		}
}

TEST(bar_ascii_rounds_to_cells)
{
	char b[64];

	ASSERT_EQ(layout_bar(b, sizeof b, 0.5, 10, 0, '.'), 40);
	ASSERT_STR(b, "#####.....");
	ASSERT_EQ(layout_bar(b, sizeof b, 0.26, 10, 0, ' '), 24);
	ASSERT_STR(b, "###       ");
	ASSERT_EQ(layout_bar(b, sizeof b, 0.04, 10, 0, '.'), 0);
	ASSERT_STR(b, "..........");
	ASSERT_EQ(layout_bar(b, sizeof b, 1, 5, 0, '.'), 40);
	ASSERT_STR(b, "#####");
	ASSERT(all_ascii(b));
}

TEST(split_sums_to_width)
{
	float p[7] = {0.1f, 0.05f, 0.05f, 0.4f, 0.1f, 0.1f, 0.2f};
	int cells[7], sum;

	for (int w = 0; w < 100; w++) {
		layout_split(p, 7, w, cells);
		sum = 0;
		for (int i = 0; i < 7; i++) {
			ASSERT(cells[i] >= 0);
			sum += cells[i];
		}
		ASSERT_EQ(sum, w);
	}
	layout_split(p, 7, 20, cells);
	ASSERT_EQ(cells[3], 8);
	ASSERT_EQ(cells[6], 4);
	ASSERT_EQ(cells[0], 2);
}

TEST(split_largest_remainder)
{
	/* 1/3 each of 10 -> 3.33 each, one extra cell to the first */
	float p[3] = {1, 1, 1};
	float q[3] = {0.55f, 0.0f, 0.45f}; /* 5.5, 0, 4.5 of 10 -> 6 (first tie), 0, 4 */
	float z[3] = {0, -1, 0};
	int c[3];

	layout_split(p, 3, 10, c);
	ASSERT_EQ(c[0], 4);
	ASSERT_EQ(c[1], 3);
	ASSERT_EQ(c[2], 3);
	layout_split(q, 3, 10, c);
	ASSERT_EQ(c[1], 0);
	ASSERT_EQ(c[0] + c[2], 10);
	/* unnormalised shares are normalised */
	float r[2] = {3, 1};
	layout_split(r, 2, 8, c);
	ASSERT_EQ(c[0], 6);
	ASSERT_EQ(c[1], 2);
	layout_split(z, 3, 10, c);
	ASSERT_EQ(c[0] + c[1] + c[2], 0);
}

TEST(spark_levels)
{
	ASSERT_EQ(layout_spark_level(0, 0, 1), 0);
	ASSERT_EQ(layout_spark_level(1, 0, 1), 7);
	ASSERT_EQ(layout_spark_level(0.5, 0, 1), 4);
	ASSERT_EQ(layout_spark_level(0.124, 0, 1), 0);
	ASSERT_EQ(layout_spark_level(0.126, 0, 1), 1);
	ASSERT_EQ(layout_spark_level(-3, 0, 1), 0);
	ASSERT_EQ(layout_spark_level(9, 0, 1), 7);
	ASSERT_EQ(layout_spark_level(0, -1, 1), 4);
	ASSERT_EQ(layout_spark_level(5, 1, 1), 0);
}

TEST(sparkline_utf8_and_ascii)
{
	float v[8] = {0, 0.13f, 0.26f, 0.38f, 0.51f, 0.63f, 0.76f, 1};
	char b[128];

	ASSERT_EQ(layout_sparkline(b, sizeof b, v, 8, 8, 0, 1, 1), 8);
	ASSERT_STR(b, "\xe2\x96\x81\xe2\x96\x82\xe2\x96\x83\xe2\x96\x84"
		      "\xe2\x96\x85\xe2\x96\x86\xe2\x96\x87\xe2\x96\x88");
	ASSERT_EQ(layout_sparkline(b, sizeof b, v, 8, 8, 0, 1, 0), 8);
	ASSERT_STR(b, "_.-:=+*#");
	/* fewer values than columns: right-aligned */
	ASSERT_EQ(layout_sparkline(b, sizeof b, v + 6, 2, 5, 0, 1, 0), 5);
	ASSERT_STR(b, "   *#");
	/* more values than columns: the most recent ones */
	ASSERT_EQ(layout_sparkline(b, sizeof b, v, 8, 3, 0, 1, 0), 3);
	ASSERT_STR(b, "+*#");
	ASSERT(all_ascii(b));
}

TEST(age_format)
{
	char b[16];

	layout_age(b, sizeof b, -1);
	ASSERT_STR(b, "-");
	layout_age(b, sizeof b, 0.4);
	ASSERT_STR(b, "0s");
	layout_age(b, sizeof b, 59.9);
	ASSERT_STR(b, "59s");
	layout_age(b, sizeof b, 65);
	ASSERT_STR(b, "1m05s");
	layout_age(b, sizeof b, 3 * 3600 + 4 * 60 + 5);
	ASSERT_STR(b, "3h04m");
	layout_age(b, sizeof b, 2 * 86400 + 5 * 3600);
	ASSERT_STR(b, "2d05h");
	layout_age(b, sizeof b, 1e9);
	ASSERT_STR(b, ">99d");
	for (double s = 0; s < 200 * 86400.0; s = s * 1.7 + 1) {
		layout_age(b, sizeof b, s);
		ASSERT(strlen(b) <= 6);
	}
}

TEST(uptime_and_clock_format)
{
	char b[32];

	layout_uptime(b, sizeof b, 75);
	ASSERT_STR(b, "01:15");
	layout_uptime(b, sizeof b, 3600 + 2 * 60 + 3);
	ASSERT_STR(b, "1:02:03");
	layout_uptime(b, sizeof b, 86400 + 3600);
	ASSERT_STR(b, "1d 01:00");
	setenv("TZ", "UTC", 1);
	tzset();
	layout_clock(b, sizeof b, 3600 * 13 + 60 * 5 + 9);
	ASSERT_STR(b, "13:05:09");
}

TEST(natcmp_numbers_by_value)
{
	ASSERT(layout_natcmp("#9", "#10") < 0);
	ASSERT(layout_natcmp("#10", "#9") > 0);
	ASSERT(layout_natcmp("#1", "#10") < 0);
	ASSERT(layout_natcmp("#2", "#10") < 0);
	ASSERT(layout_natcmp("Seat 2", "seat 10") < 0);
	ASSERT(layout_natcmp("ada", "Ada") == 0);
	ASSERT(layout_natcmp("Ada", "Bruno") < 0);
	ASSERT(layout_natcmp("a10b2", "a10b10") < 0);
	ASSERT(layout_natcmp("7", "007") < 0);
	ASSERT(layout_natcmp("007", "7") > 0);
	ASSERT(layout_natcmp("7", "7") == 0);
	ASSERT(layout_natcmp("99999999999999999999", "100000000000000000000") < 0);
	ASSERT(layout_natcmp("Ada", "Ada Lovelace") < 0);
	ASSERT(layout_natcmp("", "a") < 0);
	ASSERT(layout_natcmp("0", "") > 0);
}

TEST(student_cols_sum_to_width)
{
	struct layout_cols c;

	ASSERT_EQ(layout_student_cols(39, 0, &c), -1);
	ASSERT_EQ(c.name, 0);
	for (int w = LAYOUT_MIN_COLS; w <= 300; w++)
		for (int st = 0; st < 2; st++) {
			ASSERT_EQ(layout_student_cols(w, st, &c), 0);
			ASSERT_EQ(4 + c.name + c.bars + c.dom + c.seen + (c.neg ? c.neg + 1 : 0), w);
			ASSERT_EQ(c.neg, w >= 60 ? 4 : 0);
			ASSERT(c.pct == 0 || (c.bar_w >= 12 && c.bar_w - c.pct >= 7));
			ASSERT(c.name >= 8);
			ASSERT(c.bars >= 1);
			if (c.bar_w) {
				ASSERT(c.bar_w >= 4);
				ASSERT(7 * c.bar_w + 6 <= c.bars);
			}
			if (st)
				ASSERT_EQ(c.bar_w, 0);
		}
	layout_student_cols(80, 0, &c);
	ASSERT_EQ(c.bar_w, 5); /* 80 columns show seven bars of 5 */
	ASSERT_EQ(c.neg, 4);   /* and the negative share */
	ASSERT_EQ(c.pct, 0);
	ASSERT(c.name >= 10);
	layout_student_cols(200, 0, &c);
	ASSERT(c.bar_w >= 16); /* 200 columns: wide bars with their numbers */
	ASSERT_EQ(c.pct, 5);
	layout_student_cols(50, 0, &c);
	ASSERT_EQ(c.bar_w, 0); /* 50 columns stack them */
}

static int inside(const struct layout_rect *r, int lines, int cols)
{
	return r->h == 0 || (r->y >= 0 && r->x >= 0 && r->y + r->h <= lines && r->x + r->w <= cols);
}

static int overlap(const struct layout_rect *a, const struct layout_rect *b)
{
	if (!a->h || !b->h || !a->w || !b->w)
		return 0;
	return a->y < b->y + b->h && b->y < a->y + a->h && a->x < b->x + b->w && b->x < a->x + a->w;
}

TEST(screen_partition)
{
	struct layout_screen s;

	layout_screen(24, 80, &s);
	ASSERT(!s.too_small);
	ASSERT(s.cls.h == 8 && s.mood.h > 0 && s.alerts.h > 0);
	ASSERT(s.students.h >= 10);
	layout_screen(60, 200, &s);
	ASSERT_EQ(s.alerts.w, 200); /* full-width alerts on a big screen */
	ASSERT(s.students.h >= 30);
	layout_screen(7, 80, &s);
	ASSERT(s.too_small);
	layout_screen(24, 39, &s);
	ASSERT(s.too_small);
	layout_screen(14, 60, &s);
	ASSERT(s.compact);
	ASSERT_EQ(s.cls.h, 0);
	for (int l = LAYOUT_MIN_LINES; l <= 80; l++)
		for (int c = LAYOUT_MIN_COLS; c <= 240; c += 7) {
			const struct layout_rect *r[6];

			layout_screen(l, c, &s);
			r[0] = &s.header, r[1] = &s.students, r[2] = &s.cls;
			r[3] = &s.mood, r[4] = &s.alerts, r[5] = &s.footer;
			ASSERT(!s.too_small);
			ASSERT(s.students.h >= 2);
			for (int i = 0; i < 6; i++) {
				ASSERT(inside(r[i], l, c));
				for (int j = i + 1; j < 6; j++)
					ASSERT(!overlap(r[i], r[j]));
			}
		}
}

int main(int argc, char **argv)
{
	unit_init(argc, argv);
	/* wcwidth needs a UTF-8 LC_CTYPE; layout_cp_width falls back otherwise */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "");
	RUN(str_width_ascii_and_wide);
	RUN(fit_pads_and_truncates_ascii);
	RUN(fit_by_display_width_with_wide_chars);
	RUN(fit_ascii_fallback_only_ascii);
	RUN(fit_drops_joiners_and_modifiers);
	RUN(fit_small_buffer_is_terminated);
	RUN(bar_utf8_eighths_and_width);
	RUN(bar_ascii_rounds_to_cells);
	RUN(split_sums_to_width);
	RUN(split_largest_remainder);
	RUN(spark_levels);
	RUN(sparkline_utf8_and_ascii);
	RUN(age_format);
	RUN(uptime_and_clock_format);
	RUN(natcmp_numbers_by_value);
	RUN(student_cols_sum_to_width);
	RUN(screen_partition);
	/* the same widths without a UTF-8 locale (built-in table) */
	setlocale(LC_CTYPE, "C");
	RUN(str_width_ascii_and_wide);
	RUN(fit_by_display_width_with_wide_chars);
	RUN(fit_drops_joiners_and_modifiers);
	return unit_done();
}
