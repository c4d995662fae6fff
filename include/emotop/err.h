/* err.h - emotop error codes and error details shared by every stage.
 *
 * Every fallible function returns EMO_OK (0) or a negative EMO_E* code.
 * Functions that can say more fill a caller-owned struct emo_err (may be NULL).
 */
#ifndef EMOTOP_ERR_H
#define EMOTOP_ERR_H

#include <stdarg.h>

enum emo_status {
	EMO_OK = 0,
	EMO_EINVAL = -1,     /* bad argument or bad usage */
	EMO_ENOMEM = -2,     /* allocation failed */
	EMO_EIO = -3,        /* read/write failed (errno in msg) */
	EMO_EFORMAT = -4,    /* malformed file: model, image, video */
	EMO_ECONFIG = -5,    /* configuration error (file:line:col in emo_err) */
	EMO_ESOURCE = -6,    /* video source unavailable */
	EMO_EEOF = -7,       /* end of input */
	EMO_EAGAIN = -8,     /* nothing available yet, try again */
	EMO_EVERSION = -9,   /* unsupported file version */
	EMO_ECHECKSUM = -10, /* checksum mismatch */
	EMO_EUNSUPPORTED = -11, /* valid but unsupported (layer type, pixel format) */
	EMO_EINTR = -12,     /* interrupted by a stop request */
};

/* Details of the last error. file is empty when not about a file; line and
 * col are 1-based, 0 when unknown. */
struct emo_err {
	char file[256];
	int line;
	int col;
	char msg[512];
};

/* Static string for an EMO_* code; never NULL. */
const char *emo_strerror(int code);

/* Fill *err (if non-NULL) with a printf-style message; file may be NULL.
 * Returns code, so callers can write `return emo_seterr(err, EMO_EINVAL, ...)`. */
int emo_seterr(struct emo_err *err, int code, const char *file, int line, int col,
	       const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Copy a video source into buf as it may be shown or written (buf, size
 * len, always terminated, truncated when short): an URL's userinfo
 * (user:password@) becomes ***@ however the password is written: it may
 * hold '@', '/', '?' or '#' raw, as the userinfo ends at the last '@'
 * followed by a host[:port] (name, IPv4, [IPv6]), except an '@' in the
 * query or fragment after such a host (or after a host right after
 * "://": "http://cam/x?to=a@b" is kept whole). The values of query (and fragment)
 * keys that carry secrets become *** too, the key kept: token, password,
 * passwd, pass, pwd, passphrase (SRT), key, secret, auth, sig, signature,
 * apikey, psk, code, credential(s), in any case, also as the last word of a
 * longer key (access_token, api_key, X-Amz-Signature, client_secret).
 * Anything else is copied as is; masking a masked source changes nothing. */
void emo_redact_url(const char *src, char *buf, unsigned long len);

/* The same for free text (a log message): every scheme:// URL in it, each
 * ending at a blank, a quote, < or >, is masked like a source. */
void emo_redact_text(const char *src, char *buf, unsigned long len);

/* Format "file:line:col: msg" (parts present only when known) into buf. */
void emo_err_format(const struct emo_err *err, char *buf, unsigned long len);

#endif
