/* config_scalar.c - text to the value of one key: booleans (the YAML 1.1
 * words too), integers and numbers (strtol/strtod, their end and range
 * checked), strings without control characters, enums and FFmpeg option
 * lines; config_set() on top of it, and config_has_control(). The document
 * walk (config.c) and config_defaults() (config_table.c) set their scalars
 * through config_set_scalar().
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "emotop/config.h"
#include "emotop/err.h"
#include "config_int.h"

/* Copy a string into a fixed buffer, zero-filling the rest (so configs with
 * the same values compare equal byte for byte). -1 if it does not fit. */
int config_copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		return -1;
	memset(dst, 0, size);
	memcpy(dst, src, n);
	return 0;
}

static int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (int i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = 1;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int parse_long(const char *s, long *out)
{
	char *end;

	if (!*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	*out = strtol(s, &end, 10);
	if (errno == ERANGE)
		return -2;
	return *end ? -1 : 0;
}

int config_parse_double(const char *s, double *out)
{
	char *end;

	/* strtod also takes hex, inf, nan and leading blanks: refuse them */
	for (const char *p = s; *p; p++)
		if (!strchr("0123456789+-.eE", *p))
			return -1;
	if (!*s)
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	if (errno == ERANGE || !isfinite(*out))
		return -2;
	return *end ? -1 : 0;
}

/* Is this plain scalar YAML's null? */
int config_is_null(const char *s)
{
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

const char *config_type_word(enum config_type t)
{
	switch (t) {
	case CONFIG_T_INT: return "an integer";
	case CONFIG_T_FLOAT: return "a number";
	case CONFIG_T_BOOL: return "a boolean (true/false, yes/no, on/off, 1/0)";
	case CONFIG_T_STRING: return "a string";
	case CONFIG_T_ENUM: return "one of";
	case CONFIG_T_SEATS: return "a list of seats";
	case CONFIG_T_ALERTS: return "a list of alerts";
	case CONFIG_T_NAMES: return "a list of names";
	case CONFIG_T_OPTIONS: return "a mapping of FFmpeg options (option: value)";
	}
	return "?";
}

/* Reject control characters in names and paths (they end up in CSV, NDJSON
 * and the terminal): C0 and DEL, C1 (U+0080..U+009F, as NEL U+0085), and
 * the invisible bidirectional marks, embeddings, overrides and isolates
 * that make text read other than it is (U+061C, U+200E, U+200F,
 * U+202A..U+202E, U+2066..U+2069). s is UTF-8 (checked on reading). */
int config_has_control(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	for (; *s; s++) {
		if (*s < 0x20 || *s == 0x7f)
			return 1;
		if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
			return 1;
		if (s[0] == 0xd8 && s[1] == 0x9c)
			return 1;
		if (s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0x8e || s[2] == 0x8f ||
						     (s[2] >= 0xaa && s[2] <= 0xae)))
			return 1;
		if (s[0] == 0xe2 && s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9)
			return 1;
	}
	return 0;
}

/* Append "key=value" to the option lines in buf (size bytes); "" clears
 * them. Returns 0, or -1 with msg set. */
int config_add_option(char *buf, size_t size, const char *kv, char *msg, size_t len)
{
	size_t klen = strcspn(kv, "="), have = strlen(buf);

	if (!*kv) {
		buf[0] = '\0';
		return 0;
	}
	if (kv[klen] != '=' || !klen) {
		snprintf(msg, len, "expected option=value, got \"%.40s\"", kv);
		return -1;
	}
	for (size_t i = 0; i < klen; i++)
		if (!isalnum((unsigned char)kv[i]) && kv[i] != '_' && kv[i] != '-') {
			snprintf(msg, len, "\"%.*s\" is not an FFmpeg option name", (int)(klen > 40 ? 40 : klen), kv);
			return -1;
		}
	if (config_has_control(kv)) {
		snprintf(msg, len, "control characters are not allowed");
		return -1;
	}
	if (have + strlen(kv) + 2 > size) {
		snprintf(msg, len, "the options are longer than %zu bytes in all", size - 1);
		return -1;
	}
	snprintf(buf + have, size - have, "%s\n", kv);
	return 0;
}

/* Set a scalar key from text. quoted: the YAML scalar was quoted (then it is
 * a string, never a number or boolean). Returns 0, or -1 with msg set. */
int config_set_scalar(struct emo_config *cfg, const struct config_key *k, const char *s,
		      int quoted, char *msg, size_t len)
{
	char *base = (char *)cfg + k->off;
	long l;
	double d;
	int b, rc;

	switch (k->type) {
	case CONFIG_T_INT:
		/* an integer key with a keyword (choices, one word; its min is
		 * above 0): the keyword, quoted or not, is stored as 0 */
		if (k->choices && !strcmp(s, k->choices)) {
			*(int *)(void *)base = 0;
			return 0;
		}
		if (quoted || (rc = parse_long(s, &l)) == -1) {
			snprintf(msg, len, "expected an integer%s%s, got \"%.40s\"", k->choices ? " or " : "",
				 k->choices ? k->choices : "", s);
			return -1;
		}
		if (rc == -2 || l < (long)k->min || l > (long)k->max) {
			snprintf(msg, len, "%.40s is out of range [%g, %g]%s%s%s", s, k->min, k->max,
				 k->choices ? " (or " : "", k->choices ? k->choices : "", k->choices ? ")" : "");
			return -1;
		}
		*(int *)(void *)base = (int)l;
		return 0;
	case CONFIG_T_FLOAT:
		if (quoted || (rc = config_parse_double(s, &d)) == -1) {
			snprintf(msg, len, "expected a number, got \"%.40s\"", s);
			return -1;
		}
		if (rc == -2 || d < k->min || d > k->max) {
			snprintf(msg, len, "%.40s is out of range [%g, %g]", s, k->min, k->max);
			return -1;
		}
		*(double *)(void *)base = d;
		return 0;
	case CONFIG_T_BOOL:
		if (quoted || parse_bool(s, &b)) {
			snprintf(msg, len, "expected %s, got \"%.40s\"", config_type_word(k->type), s);
			return -1;
		}
		*(int *)(void *)base = b;
		return 0;
	case CONFIG_T_STRING:
		if (!quoted && config_is_null(s))
			s = "";
		if (config_has_control(s)) {
			snprintf(msg, len, "control characters are not allowed");
			return -1;
		}
		if (config_copy_str(base, k->size, s)) {
			snprintf(msg, len, "longer than %zu bytes", k->size - 1);
			return -1;
		}
		return 0;
	case CONFIG_T_ENUM: {
		const char *c = k->choices;
		size_t n = strlen(s);

		for (int i = 0; c && *c; i++) {
			size_t w = strcspn(c, "|");

			if (w == n && !strncmp(c, s, n)) {
				*(int *)(void *)base = i;
				return 0;
			}
			c += w + (c[w] == '|');
		}
		snprintf(msg, len, "expected one of %s, got \"%.40s\"", k->choices, s);
		return -1;
	}
	case CONFIG_T_OPTIONS:
		return config_add_option(base, k->size, s, msg, len);
	default:
		snprintf(msg, len, "is a list and cannot be set from a single value");
		return -1;
	}
}

int config_set(struct emo_config *cfg, const char *key, const char *value, struct emo_err *err)
{
	const struct config_key *k = config_key_find(key);
	char msg[256];

	if (!k)
		return emo_seterr(err, EMO_ECONFIG, NULL, 0, 0, "unknown key '%s'", key ? key : "");
	if (!value)
		value = "";
	if (config_set_scalar(cfg, k, value, k->type == CONFIG_T_STRING, msg, sizeof(msg)))
		return emo_seterr(err, EMO_ECONFIG, NULL, 0, 0, "key '%s': %s", key, msg);
	return EMO_OK;
}
