/* config_int.h - what the config files share, private to them (not under
 * include/: only src/config*.c include it). The public API is
 * include/emotop/config.h; these are the pieces behind it:
 *
 *   config_table.c    the schema table, config_schema(), config_defaults()
 *   config_scalar.c   text to one key's value, config_set()
 *   config_event.c    UTF-8 check and event pass before the document walk
 *   config.c          the document walk, config_load(), config_check()
 *   config_dump.c     config_dump(), config_print_schema()
 *   config_regions.c  config_regions() (needs nothing from here)
 *
 * Nothing here allocates: the table is static data, and every function
 * writes only into the buffers its caller passes.
 */
#ifndef EMOTOP_CONFIG_INT_H
#define EMOTOP_CONFIG_INT_H

#include <stddef.h>

#include <yaml.h>

#include "emotop/config.h"
#include "emotop/err.h"

/* Longest dotted key path, NUL included: the walk's paths (config.c) and
 * the dump's section names (config_dump.c). */
#define KEYPATH_MAX 128

/* No mapping of a valid file has more keys than the table (checking
 * duplicates is quadratic: a huge mapping is refused before that).
 * config.c refuses larger mappings; config_table.c asserts the table fits. */
#define MAP_KEYS_MAX 256

/* ---- config_table.c --------------------------------------------------- */

/* The schema table, config_n_keys rows in --dump-config order; static
 * data owned by config_table.c (the same array config_schema() returns). */
extern const struct config_key config_table[];
extern const int config_n_keys;

/* ---- config_scalar.c -------------------------------------------------- */

/* Copy src into dst[size], zero-filling the rest; -1 if it does not fit
 * (dst unchanged). */
int config_copy_str(char *dst, size_t size, const char *src);
/* Decimal number (exponent allowed; no hex, inf, nan or blanks) into *out:
 * 0, -1 not a number, -2 out of range or not finite. */
int config_parse_double(const char *s, double *out);
/* 1 if the plain scalar s is YAML's null ("", ~, null, Null, NULL). */
int config_is_null(const char *s);
/* "an integer", "a list of seats"...: what a key of type t expects, for
 * messages. A static string. */
const char *config_type_word(enum config_type t);
/* Append the line "key=value" kv to the option lines in buf[size] ("" clears
 * them). 0, or -1 with msg[len] set and buf unchanged. */
int config_add_option(char *buf, size_t size, const char *kv, char *msg, size_t len);
/* Set the scalar key k of *cfg from the text s; quoted: the YAML scalar was
 * quoted (a string then, never a number or boolean). 0, or -1 with msg[len]
 * set (lists cannot be set this way). */
int config_set_scalar(struct emo_config *cfg, const struct config_key *k, const char *s,
		      int quoted, char *msg, size_t len);

/* ---- config_event.c --------------------------------------------------- */

/* 1-based line and column (in characters) of byte offset off of buf[len]. */
void config_offset_to_linecol(const char *buf, size_t len, size_t off, int *line, int *col);
/* Offset of the first byte of s[len] that is not valid UTF-8, or of a NUL
 * (then *is_nul = 1); len if none. */
size_t config_utf8_bad_offset(const unsigned char *s, size_t len, int *is_nul);
/* The error of the libyaml parser p, which read buf[len] from the file
 * name, into *err as file:line:col. Returns EMO_ECONFIG or EMO_ENOMEM. */
int config_yaml_error(const yaml_parser_t *p, const char *name, const char *buf, size_t len,
		      struct emo_err *err);
/* The event pass over buf[len] (its own parser, deleted on every path):
 * EMO_OK, or EMO_ECONFIG / EMO_ENOMEM with *err set for a syntax error,
 * an anchor or alias, nesting deeper than CONFIG_MAX_DEPTH, a second
 * document or an escaped NUL. */
int config_event_pass(const char *buf, size_t len, const char *name, struct emo_err *err);

#endif
