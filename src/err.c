/* err.c - EMO_* code strings and struct emo_err helpers. */
#include <stdio.h>
#include <string.h>

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

void emo_redact_url(const char *src, char *buf, unsigned long len)
{
	const char *scheme, *host, *at = NULL, *end;

	if (!len)
		return;
	snprintf(buf, len, "%s", src ? src : "");
	if (!src || !(scheme = strstr(src, "://")))
		return;
	host = scheme + 3;
	end = host + strcspn(host, "/?#");
	for (const char *p = host; p < end; p++)
		if (*p == '@')
			at = p;
	if (at)
		snprintf(buf, len, "%.*s***%s", (int)(host - src), src, at);
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
