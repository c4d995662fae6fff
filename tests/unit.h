/* unit.h - emotop's tiny test harness (header-only).
 *
 *   TEST(name) { ASSERT(x); ASSERT_EQ(a, b); ASSERT_NEAR(a, b, tol); }
 *   int main(int argc, char **argv) { RUN(name); ...; return unit_done(); }
 *
 * `./test_x -t substr` runs only tests whose name contains substr.
 * SKIP("reason") ends a test as skipped (e.g. ../shared absent).
 * Closing line: "N passed, N failed, N skipped".
 */
#ifndef EMOTOP_UNIT_H
#define EMOTOP_UNIT_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_pass, unit_fail, unit_skip, unit_cur_failed, unit_cur_skipped;
static const char *unit_filter;

#define TEST(name) static void test_##name(void)

#define UNIT_FAILF(...)                                                     \
	do {                                                                \
		fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);          \
		fprintf(stderr, __VA_ARGS__);                               \
		fprintf(stderr, "\n");                                      \
		unit_cur_failed = 1;                                        \
		return;                                                     \
	} while (0)

#define ASSERT(c)                                                           \
	do {                                                                \
		if (!(c))                                                   \
			UNIT_FAILF("assertion failed: %s", #c);             \
	} while (0)
#define ASSERT_EQ(a, b)                                                     \
	do {                                                                \
		long long a_ = (long long)(a), b_ = (long long)(b);         \
		if (a_ != b_)                                               \
			UNIT_FAILF("%s == %s: %lld != %lld", #a, #b, a_, b_); \
	} while (0)
#define ASSERT_NEAR(a, b, tol)                                              \
	do {                                                                \
		double a_ = (double)(a), b_ = (double)(b);                  \
		if (!(fabs(a_ - b_) <= (tol)))                              \
			UNIT_FAILF("%s ~= %s: %g vs %g (tol %g)", #a, #b, a_, b_, (double)(tol)); \
	} while (0)
#define ASSERT_STR(a, b)                                                    \
	do {                                                                \
		const char *a_ = (a), *b_ = (b);                            \
		if (!a_ || !b_ || strcmp(a_, b_))                           \
			UNIT_FAILF("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
	} while (0)
#define SKIP(...)                                                           \
	do {                                                                \
		fprintf(stderr, "  SKIP: ");                                \
		fprintf(stderr, __VA_ARGS__);                               \
		fprintf(stderr, "\n");                                      \
		unit_cur_skipped = 1;                                       \
		return;                                                     \
	} while (0)

#define RUN(name)                                                           \
	do {                                                                \
		if (unit_filter && !strstr(#name, unit_filter))             \
			break;                                              \
		unit_cur_failed = unit_cur_skipped = 0;                     \
		test_##name();                                              \
		if (unit_cur_failed) {                                      \
			unit_fail++;                                        \
			fprintf(stderr, "FAIL %s\n", #name);                \
		} else if (unit_cur_skipped) {                              \
			unit_skip++;                                        \
			fprintf(stderr, "skip %s\n", #name);                \
		} else {                                                    \
			unit_pass++;                                        \
			fprintf(stderr, "ok   %s\n", #name);                \
		}                                                           \
	} while (0)

static inline void unit_init(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "-t"))
			unit_filter = argv[i + 1];
}

static inline int unit_done(void)
{
	printf("%d passed, %d failed, %d skipped\n", unit_pass, unit_fail, unit_skip);
	return unit_fail ? 1 : 0;
}

/* Directory of the shared data (env SHARED, default ../shared). */
static inline const char *unit_shared(void)
{
	const char *s = getenv("SHARED");
	return s && *s ? s : "../shared";
}

#endif
