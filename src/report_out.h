/* report_out.h - the output buffer of the report files (report_out.c):
 * report.c builds each line in one, report_svg.c the whole chart. Private
 * to report.c, report_svg.c and report_out.c: not installed, not for other
 * modules. */
#ifndef EMOTOP_REPORT_OUT_H
#define EMOTOP_REPORT_OUT_H

#include <stddef.h>

/* Output buffer: grows when dyn, else counts what did not fit (snprintf). */
struct out {
	char *p;
	size_t cap, len;
	int dyn, oom;
};

/* Ownership: the caller owns the struct out and p.
 *  - dyn: start from {NULL, 0, 0, 1, 0} (zeroed, dyn = 1); the report_out_*
 *    functions realloc p as it fills (doubling, 1024 first), and
 *    the caller frees p with free(), oom or not. When a realloc fails, oom
 *    is set, p keeps what fitted and nothing more is stored.
 *  - not dyn: p is the caller's array of cap bytes, never reallocated.
 * Either way len counts every byte appended, stored or not: the text is
 * whole when len < cap (and !oom); at most cap - 1 bytes are stored, so
 * there is always room for a final '\0'. The report_out_* functions do not write
 * that '\0' and report nothing: look at oom and len afterwards. None of
 * them keeps a pointer to its arguments. */

/* Append one byte. */
void report_out_putc(struct out *o, char c);

/* Append the string s (not NULL), as it is. */
void report_out_puts(struct out *o, const char *s);

/* Append printf-style text, formatted in a 128-byte scratch buffer (longer
 * text is cut to 127 bytes). Integers and strings only: never %f, which
 * follows LC_NUMERIC; use report_out_fixed(). */
void report_out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append v with prec decimals (clamped to 0..9), rounded half away from
 * zero, with '.' whatever the locale and no "-" on a value that rounds to
 * 0; "null" when v is not finite. */
void report_out_fixed(struct out *o, double v, int prec);

/* Append str as a JSON string, quotes included (RFC 8259): " and \ and
 * control characters escaped, valid UTF-8 copied, each invalid byte written
 * as \ufffd. NULL is "". */
void report_out_json_str(struct out *o, const char *str);

/* Append str as one CSV field (RFC 4180): quoted when needed, control
 * characters as spaces, invalid UTF-8 as U+FFFD, a leading ' before a
 * field that would start a spreadsheet formula. NULL is an empty field. */
void report_out_csv(struct out *o, const char *str);

/* Append str as XML text or attribute content: & < > " ' as entities,
 * control characters as spaces, invalid UTF-8 as U+FFFD. NULL is "". */
void report_out_xml(struct out *o, const char *str);

#endif
