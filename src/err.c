/* err.c - EMO_* code strings, struct emo_err helpers and the one redactor of
 * credentials in sources and messages. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "emotop/err.h"

const char *emo_strerror(int code)
{
	switch (code) {
	case EMO_OK: return "success";
	case EMO_EINVAL: return "invalid argument";
	case EMO_ENOMEM: return "out of memory";
	case EMO_EIO: return "input/output error";
	case EMO_EFORMAT: return "malformed data";
	case EMO_ECONFIG: return "configuration error";
	case EMO_ESOURCE: return "video source unavailable";
	case EMO_EEOF: return "end of input";
	case EMO_EAGAIN: return "try again";
	case EMO_EVERSION: return "unsupported version";
	case EMO_ECHECKSUM: return "checksum mismatch";
	case EMO_EUNSUPPORTED: return "unsupported";
	case EMO_EINTR: return "interrupted";
	default: return "unknown error";
	}
}

int emo_seterr(struct emo_err *err, int code, const char *file, int line, int col,
	       const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	err->line = line;
	err->col = col;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

/* ---- the redactor: every message and line that names a source ---- */

/* Bounded output: what does not fit is dropped, buf stays terminated. */
struct red_out {
	char *buf;
	unsigned long len, n;
};

static void red_put(struct red_out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (o->n + 1 < o->len)
			o->buf[o->n++] = s[i];
	o->buf[o->n] = '\0';
}

/* Does host[:port] (a name, an IPv4 or a [IPv6] address) start at s and end
 * at e or at a '/', '?' or '#'? Returns the length of host[:port], else 0. */
static size_t host_len(const char *s, const char *e)
{
	const char *p = s;

	if (p < e && *p == '[') {
		while (++p < e && *p != ']')
			if (!isalnum((unsigned char)*p) && !strchr(":.%", *p))
				return 0;
		if (p++ >= e)
			return 0;
	} else {
		while (p < e && (isalnum((unsigned char)*p) || strchr(".-_~%", *p)))
			p++;
		if (p == s)
			return 0;
	}
	if (p < e && *p == ':')
		while (++p < e && isdigit((unsigned char)*p))
			;
	return p == e || *p == '/' || *p == '?' || *p == '#' ? (size_t)(p - s) : 0;
}

/* The '@' that ends the userinfo of the URL whose authority starts at h
 * (after "://"), the URL ending at e; NULL when it has none. The password
 * may hold '@', '/', '?' or '#' written raw: the userinfo ends at the last
 * '@' followed by a host[:port], except an '@' in the query or fragment
 * after such a host, or after a host right after "://"
 * ("rtsp://u:p@cam/live?by=a@b" keeps a@b, "http://cam/x?to=a@b" is kept
 * whole). */
static const char *query_after(const char *host, size_t n, const char *e)
{
	const char *q = host + n;

	while (q < e && *q != '?' && *q != '#')
		q++;
	return q < e ? q : NULL;
}

static const char *userinfo_end(const char *h, const char *e)
{
	const char *best = NULL, *q = NULL;
	size_t n = host_len(h, e);

	if (n) /* a host right after "://": an '@' in its query is no userinfo */
		q = query_after(h, n, e);
	for (const char *a = h; a < e; a++) {
		if (*a != '@' || !(n = host_len(a + 1, e)))
			continue;
		if (q && a > q)
			break;
		best = a;
		q = query_after(a + 1, n, e);
	}
	return best;
}

/* Does a query key carry a secret? token, password, key, signature ...
 * (any case), also as the last word of a longer key (access_token,
 * X-Amz-Signature, client_secret), never as part of a word (pbkeylen). */
static int secret_key(const char *k, size_t n)
{
	static const char *const exact[] = {"pass", "pwd", "apikey", "sig", "psk", "code"};
	static const char *const words[] = {"token", "password", "passwd", "passphrase", "secret",
					    "key", "auth", "signature", "credential", "credentials"};

	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (strlen(exact[i]) == n && !strncasecmp(k, exact[i], n))
			return 1;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t m = strlen(words[i]);

		if (m <= n && !strncasecmp(k + n - m, words[i], m) &&
		    (m == n || strchr("_-.", k[n - m - 1])))
			return 1;
	}
	return 0;
}

/* One URL s..e (s at its scheme) into o, its userinfo and secret query
 * values masked as ***. */
static void redact_one(struct red_out *o, const char *s, const char *e)
{
	const char *h = strstr(s, "://") + 3, *at = userinfo_end(h, e), *p;

	red_put(o, s, (size_t)(h - s));
	if (at) {
		red_put(o, "***", 3);
		h = at;
	}
	for (p = h; p < e && *p != '?' && *p != '#'; p++)
		;
	red_put(o, h, (size_t)(p - h));
	while (p < e) {
		/* p at a separator: ? # & ; then key[=value] */
		const char *k = p + 1, *v, *end;

		for (end = k; end < e && !strchr("&;#", *end); end++)
			;
		for (v = k; v < end && *v != '='; v++)
			;
		if (v < end && v + 1 < end && secret_key(k, (size_t)(v - k))) {
			red_put(o, p, (size_t)(v + 1 - p));
			red_put(o, "***", 3);
		} else {
			red_put(o, p, (size_t)(end - p));
		}
		p = end;
	}
}

/* Where the URL whose "://" is at c begins (its scheme), NULL when no
 * scheme stands before it. */
static const char *scheme_start(const char *from, const char *c)
{
	const char *s = c;

	while (s > from && (isalnum((unsigned char)s[-1]) || strchr("+.-", s[-1])))
		s--;
	return s < c && isalpha((unsigned char)*s) ? s : NULL;
}

/* whole: src is one URL up to its end (a source); else free text whose
 * URLs end at a blank, a quote or <> (a message). */
static void redact(const char *src, char *buf, unsigned long len, int whole)
{
	struct red_out o = {buf, len, 0};
	const char *p = src ? src : "", *c;

	if (!len)
		return;
	buf[0] = '\0';
	while ((c = strstr(p, "://"))) {
		const char *s = scheme_start(p, c), *e;

		if (!s) {
			red_put(&o, p, (size_t)(c + 3 - p));
			p = c + 3;
			continue;
		}
		e = c + 3;
		if (whole)
			e += strlen(e);
		else
			e += strcspn(e, " \t\r\n\v\f'\"<>`");
		red_put(&o, p, (size_t)(s - p));
		redact_one(&o, s, e);
		p = e;
	}
	red_put(&o, p, strlen(p));
}

void emo_redact_url(const char *src, char *buf, unsigned long len)
{
	redact(src, buf, len, 1);
}

void emo_redact_text(const char *src, char *buf, unsigned long len)
{
	redact(src, buf, len, 0);
}

void emo_err_format(const struct emo_err *err, char *buf, unsigned long len)
{
	if (!len)
		return;
	if (!err) {
		buf[0] = '\0';
		return;
	}
	if (err->file[0] && err->line > 0 && err->col > 0)
		snprintf(buf, len, "%s:%d:%d: %s", err->file, err->line, err->col, err->msg);
	else if (err->file[0] && err->line > 0)
		snprintf(buf, len, "%s:%d: %s", err->file, err->line, err->msg);
	else if (err->file[0])
		snprintf(buf, len, "%s: %s", err->file, err->msg);
	else
		snprintf(buf, len, "%s", err->msg);
}
