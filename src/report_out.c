/* report_out.c - the output buffer that report.c builds its lines in and
 * report_svg.c its chart: byte/string/printf appends, locale-free fixed
 * point numbers, and escaping for JSON strings, CSV fields and XML text;
 * also report_json_string(), report_csv_field() and report_fixed() of
 * emotop/report.h. See report_out.h. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emotop/report.h"
#include "report_out.h"

void report_out_putc(struct out *o, char c)
{
	if (o->len + 1 >= o->cap && o->dyn && !o->oom) {
		size_t cap = o->cap ? o->cap * 2 : 1024;
		char *p = realloc(o->p, cap);

		if (p) {
			o->p = p;
			o->cap = cap;
		} else {
			o->oom = 1;
		}
	}
	if (o->len + 1 < o->cap)
		o->p[o->len] = c;
	o->len++;
}

void report_out_puts(struct out *o, const char *s)
{
	while (*s)
		report_out_putc(o, *s++);
}

/* Integers and strings only (never %f: it follows LC_NUMERIC). */
void report_out_printf(struct out *o, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	report_out_puts(o, tmp);
}

static void out_end(struct out *o)
{
	if (o->cap)
		o->p[o->len < o->cap ? o->len : o->cap - 1] = '\0';
}

void report_out_fixed(struct out *o, double v, int prec)
{
	static const long long pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
					  100000000, 1000000000};
	double a, r;
	long long q, scale;

	if (!isfinite(v)) {
		report_out_puts(o, "null");
		return;
	}
	if (prec < 0)
		prec = 0;
	if (prec > 9)
		prec = 9;
	scale = pow10[prec];
	a = fabs(v);
	r = round(a * (double)scale);
	if (r >= 9e15) {
		/* Huge: integer part only ("%.0f" has no decimal point, so no
		 * locale dependence), then zeros. */
		char tmp[400];

		snprintf(tmp, sizeof(tmp), "%s%.0f", v < 0 ? "-" : "", a);
		report_out_puts(o, tmp);
		if (prec) {
			report_out_putc(o, '.');
			for (int i = 0; i < prec; i++)
				report_out_putc(o, '0');
		}
		return;
	}
	q = (long long)r;
	if (v < 0 && q != 0)
		report_out_putc(o, '-');
	report_out_printf(o, "%lld", q / scale);
	if (prec)
		report_out_printf(o, ".%0*lld", prec, q % scale);
}

/* Length of a valid UTF-8 sequence at s (1..4), 0 when invalid. */
static int utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;

		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;

		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80 ? 4
												   : 0;
	}
	return 0;
}

#define UTF8_REPLACEMENT "\xef\xbf\xbd"

void report_out_json_str(struct out *o, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");

	report_out_putc(o, '"');
	while (*s) {
		int n;

		if (*s == '"' || *s == '\\') {
			report_out_putc(o, '\\');
			report_out_putc(o, (char)*s++);
			continue;
		}
		if (*s < 0x20) {
			switch (*s) {
			case '\b': report_out_puts(o, "\\b"); break;
			case '\f': report_out_puts(o, "\\f"); break;
			case '\n': report_out_puts(o, "\\n"); break;
			case '\r': report_out_puts(o, "\\r"); break;
			case '\t': report_out_puts(o, "\\t"); break;
			default: report_out_printf(o, "\\u%04x", *s); break;
			}
			s++;
			continue;
		}
		n = utf8_len(s);
		if (!n) {
			report_out_puts(o, "\\ufffd");
			s++;
			continue;
		}
		for (int i = 0; i < n; i++)
			report_out_putc(o, (char)*s++);
	}
	report_out_putc(o, '"');
}

/* One character of text into a CSV field or XML: a control character
 * becomes a space, a valid UTF-8 sequence is copied, an invalid byte becomes
 * U+FFFD; *sp moves past what was consumed. */
static void out_text_char(struct out *o, const unsigned char **sp)
{
	const unsigned char *s = *sp;
	int n;

	if (*s < 0x20 || *s == 0x7f) {
		report_out_putc(o, ' ');
		*sp = s + 1;
		return;
	}
	n = utf8_len(s);
	if (!n) {
		report_out_puts(o, UTF8_REPLACEMENT);
		*sp = s + 1;
		return;
	}
	for (int i = 0; i < n; i++)
		report_out_putc(o, (char)s[i]);
	*sp = s + n;
}

/* CSV field: control characters become spaces (one physical line per
 * record), invalid UTF-8 becomes U+FFFD, and the field is quoted (with ""
 * doubling) when it holds , or " or starts or ends with a blank. A field
 * that starts with = + - or @ (a name from the config, say) gets a leading
 * ' so that a spreadsheet opening the log shows it as text instead of
 * running it as a formula (CSV injection, OWASP). */
void report_out_csv(struct out *o, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	size_t len = strlen((const char *)s);
	int quote = len && (s[0] == ' ' || s[0] == '\t' || s[len - 1] == ' ' || s[len - 1] == '\t');

	for (size_t i = 0; i < len && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
	if (quote)
		report_out_putc(o, '"');
	{
		size_t i = 0; /* blanks and controls (written as blanks) do not hide a formula */
		while (i < len && (s[i] <= 0x20 || s[i] == 0x7f))
			i++;
		if (i < len && (s[i] == '=' || s[i] == '+' || s[i] == '-' || s[i] == '@'))
			report_out_putc(o, '\'');
	}
	while (*s) {
		if (*s == '"') {
			report_out_puts(o, "\"\"");
			s++;
		} else {
			out_text_char(o, &s);
		}
	}
	if (quote)
		report_out_putc(o, '"');
}

/* XML text/attribute content. */
void report_out_xml(struct out *o, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");

	while (*s) {
		switch (*s) {
		case '&': report_out_puts(o, "&amp;"); s++; continue;
		case '<': report_out_puts(o, "&lt;"); s++; continue;
		case '>': report_out_puts(o, "&gt;"); s++; continue;
		case '"': report_out_puts(o, "&quot;"); s++; continue;
		case '\'': report_out_puts(o, "&apos;"); s++; continue;
		default: out_text_char(o, &s); /* controls are not allowed in XML 1.0 */
		}
	}
}

static unsigned long fixed_out(char *buf, unsigned long len, void (*fn)(struct out *, const char *),
			       const char *s)
{
	struct out o = {buf, len, 0, 0, 0};

	fn(&o, s);
	out_end(&o);
	return o.len;
}

unsigned long report_json_string(char *buf, unsigned long len, const char *s)
{
	return fixed_out(buf, len, report_out_json_str, s);
}

unsigned long report_csv_field(char *buf, unsigned long len, const char *s)
{
	return fixed_out(buf, len, report_out_csv, s);
}

unsigned long report_fixed(char *buf, unsigned long len, double v, int prec)
{
	struct out o = {buf, len, 0, 0, 0};

	report_out_fixed(&o, v, prec);
	out_end(&o);
	return o.len;
}
