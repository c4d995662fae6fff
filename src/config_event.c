/* config_event.c - what loading checks before the document walk: that the
 * bytes are UTF-8 text without NUL, then the event pass, a parser of its
 * own on libyaml's event API, that refuses what the document API would hide
 * (anchors, aliases, nesting deeper than CONFIG_MAX_DEPTH, several
 * documents, escaped NULs) and reports syntax errors. config_yaml_error()
 * turns a libyaml parser's error into file:line:col for both passes.
 */
#include <stdint.h>
#include <string.h>

#include <yaml.h>

#include "emotop/config.h"
#include "emotop/err.h"
#include "config_int.h"

/* ---- file reading and UTF-8 ------------------------------------------ */

/* Line and column (1-based, column in characters) of byte offset off. */
void config_offset_to_linecol(const char *buf, size_t len, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

/* Offset of the first byte that is not valid UTF-8, or a NUL; len if none. */
size_t config_utf8_bad_offset(const unsigned char *s, size_t len, int *is_nul)
{
	size_t i = 0;

	*is_nul = 0;
	while (i < len) {
		unsigned c = s[i];
		size_t n;
		uint32_t cp;

		if (c == 0) {
			*is_nul = 1;
			return i;
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return i;
		}
		for (size_t j = 1; j <= n; j++) {
			if (i + j >= len || (s[i + j] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += n + 1;
	}
	return len;
}

/* ---- the event pass -------------------------------------------------- */

int config_yaml_error(const yaml_parser_t *p, const char *name, const char *buf, size_t len,
		      struct emo_err *err)
{
	int line, col;

	if (p->error == YAML_MEMORY_ERROR)
		return emo_seterr(err, EMO_ENOMEM, name, 0, 0, "out of memory parsing YAML");
	if (p->error == YAML_READER_ERROR) {
		config_offset_to_linecol(buf, len, p->problem_offset, &line, &col);
		return emo_seterr(err, EMO_ECONFIG, name, line, col, "%s",
				  p->problem ? p->problem : "unreadable input");
	}
	line = (int)p->problem_mark.line + 1;
	col = (int)p->problem_mark.column + 1;
	if (p->context)
		return emo_seterr(err, EMO_ECONFIG, name, line, col,
				  "YAML syntax error: %s %s (line %d, column %d)",
				  p->problem ? p->problem : "error", p->context,
				  (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
	return emo_seterr(err, EMO_ECONFIG, name, line, col, "YAML syntax error: %s",
			  p->problem ? p->problem : "error");
}

int config_event_pass(const char *buf, size_t len, const char *name, struct emo_err *err)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int rc = EMO_OK, depth = 0, docs = 0, done = 0;

	if (!yaml_parser_initialize(&p))
		return emo_seterr(err, EMO_ENOMEM, name, 0, 0, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	while (!done) {
		const char *anchor = NULL;

		if (!yaml_parser_parse(&p, &ev)) {
			rc = config_yaml_error(&p, name, buf, len, err);
			break;
		}
		int line = (int)ev.start_mark.line + 1, col = (int)ev.start_mark.column + 1;

		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1)
				rc = emo_seterr(err, EMO_ECONFIG, name, line, col,
						"only one YAML document is allowed");
			break;
		case YAML_ALIAS_EVENT:
			rc = emo_seterr(err, EMO_ECONFIG, name, line, col,
					"aliases (*%s) are not allowed", (const char *)ev.data.alias.anchor);
			break;
		case YAML_SCALAR_EVENT:
			anchor = (const char *)ev.data.scalar.anchor;
			/* an escaped \0 would silently cut the value */
			if (memchr(ev.data.scalar.value, '\0', ev.data.scalar.length))
				rc = emo_seterr(err, EMO_ECONFIG, name, line, col,
						"a NUL character (\\0) is not allowed");
			break;
		case YAML_SEQUENCE_START_EVENT:
			anchor = (const char *)ev.data.sequence_start.anchor;
			depth++;
			break;
		case YAML_MAPPING_START_EVENT:
			anchor = (const char *)ev.data.mapping_start.anchor;
			depth++;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		default:
			break;
		}
		if (rc == EMO_OK && anchor)
			rc = emo_seterr(err, EMO_ECONFIG, name, line, col,
					"anchors (&%s) are not allowed", anchor);
		if (rc == EMO_OK && depth > CONFIG_MAX_DEPTH)
			rc = emo_seterr(err, EMO_ECONFIG, name, line, col,
					"nested deeper than %d levels", CONFIG_MAX_DEPTH);
		yaml_event_delete(&ev);
		if (rc != EMO_OK)
			break;
	}
	yaml_parser_delete(&p);
	return rc;
}
