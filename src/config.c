/* config.c - YAML config loading (libyaml document API): the walk of the
 * node tree against the schema table, the checks across keys, and
 * config_load(), config_load_mem(), config_check(), config_default_path().
 *
 * Loading is two passes over the same bytes with two parsers: an event pass
 * (config_event.c) that rejects what the document API would hide (anchors,
 * aliases, deep nesting, several documents) and reports syntax errors, then
 * a document pass here that walks the node tree against the schema
 * (config_table.c), setting each scalar through config_scalar.c. Errors
 * carry file:line:col from libyaml's 0-based marks plus one.
 *
 * The rest of config.h is in config_dump.c (--dump-config, --help-config)
 * and config_regions.c (seats and gallery as boxes); what the config files
 * share is declared in config_int.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "emotop/config.h"
#include "emotop/emotion.h"
#include "emotop/err.h"
#include "config_int.h"

/* ---- the document walk ----------------------------------------------- */

struct walk {
	yaml_document_t *doc;
	struct emo_config *cfg;
	const char *name;
	struct emo_err *err;
	yaml_mark_t seats_mark, gallery_mark;
	int have_seats, have_gallery;
};

static int node_err(struct walk *w, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int node_err(struct walk *w, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[sizeof(w->err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return emo_seterr(w->err, EMO_ECONFIG, w->name, n ? (int)n->start_mark.line + 1 : 0,
			  n ? (int)n->start_mark.column + 1 : 0, "%s", msg);
}

/* No YAML tags (!!binary, !!int, !custom...): the schema gives every value
 * its type, and a tag would say something we ignore. A node without one
 * carries libyaml's default tag for its kind. */
static int check_tags(yaml_document_t *doc, const char *name, struct emo_err *err)
{
	for (const yaml_node_t *n = doc->nodes.start; n < doc->nodes.top; n++) {
		const char *def = n->type == YAML_SCALAR_NODE ? YAML_DEFAULT_SCALAR_TAG :
				  n->type == YAML_SEQUENCE_NODE ? YAML_DEFAULT_SEQUENCE_TAG :
				  YAML_DEFAULT_MAPPING_TAG;
		const char *tag = (const char *)n->tag;
		if (tag && strcmp(tag, def)) {
			int core = !strncmp(tag, "tag:yaml.org,2002:", 18);
			return emo_seterr(err, EMO_ECONFIG, name, (int)n->start_mark.line + 1,
					  (int)n->start_mark.column + 1, "YAML tags such as '%s%.60s' "
					  "are not allowed (each key has its own type)", core ? "!!" : "",
					  core ? tag + 18 : tag);
		}
	}
	return EMO_OK;
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static int scalar_quoted(const yaml_node_t *n)
{
	return n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
	       n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE ||
	       n->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
	       n->data.scalar.style == YAML_FOLDED_SCALAR_STYLE;
}

static int is_null_node(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && !scalar_quoted(n) && config_is_null(scalar(n));
}

static const char *node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE: return "a mapping";
	case YAML_SEQUENCE_NODE: return "a list";
	default: return "a scalar";
	}
}

static int levenshtein(const char *a, const char *b)
{
	int la = (int)strlen(a), lb = (int)strlen(b);
	int row[KEYPATH_MAX + 1];

	if (la > KEYPATH_MAX || lb > KEYPATH_MAX)
		return INT_MAX;
	for (int j = 0; j <= lb; j++)
		row[j] = j;
	for (int i = 1; i <= la; i++) {
		int prev = row[0];

		row[0] = i;
		for (int j = 1; j <= lb; j++) {
			int cur = row[j];
			int best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

/* A "did you mean" for an unknown dotted key, or "". */
static void suggest(const char *path, char *buf, size_t len)
{
	const char *best = NULL;
	int bestd = 3;
	const char *leaf = strrchr(path, '.');

	leaf = leaf ? leaf + 1 : path;
	buf[0] = '\0';
	for (int i = 0; i < config_n_keys; i++) {
		const char *k = config_table[i].key;
		const char *kleaf = strrchr(k, '.');
		int d = levenshtein(path, k);

		kleaf = kleaf ? kleaf + 1 : k;
		if (!strcmp(kleaf, leaf) && d > 0)
			d = 1; /* right name, wrong section */
		if (d < bestd) {
			bestd = d;
			best = k;
		}
	}
	if (best)
		snprintf(buf, len, " (did you mean '%s'?)", best);
}

/* Is path a section, i.e. a prefix "path." of some key? */
static int is_section(const char *path)
{
	size_t n = strlen(path);

	for (int i = 0; i < config_n_keys; i++)
		if (!strncmp(config_table[i].key, path, n) && config_table[i].key[n] == '.')
			return 1;
	return 0;
}

/* Check a mapping's keys are scalars without dots (a dotted key would be a
 * second spelling that escapes the duplicate check), few and unique. */
static int check_keys(struct walk *w, const yaml_node_t *map, const char *where)
{
	if (map->data.mapping.pairs.top - map->data.mapping.pairs.start > MAP_KEYS_MAX)
		return node_err(w, map, "%s%smore than %d keys in one mapping", where, *where ? ": " : "",
				MAP_KEYS_MAX);
	for (const yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(w->doc, p->key);

		if (!k || k->type != YAML_SCALAR_NODE)
			return node_err(w, k, "%s%skeys must be plain words", where,
					*where ? ": " : "");
		if (strchr(scalar(k), '.'))
			return node_err(w, k, "unknown key '%s%s%s' (nest it: a dot separates sections "
					"only in --set and the manual)", where, *where ? "." : "", scalar(k));
		for (const yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
			const yaml_node_t *k2 = yaml_document_get_node(w->doc, q->key);

			if (k2 && k2->type == YAML_SCALAR_NODE && !strcmp(scalar(k), scalar(k2)))
				return node_err(w, k, "duplicate key '%s%s%s' (first at line %d)",
						where, *where ? "." : "", scalar(k),
						(int)k2->start_mark.line + 1);
		}
	}
	return EMO_OK;
}

static int set_name(struct walk *w, const yaml_node_t *v, char *dst, const char *what)
{
	if (v->type != YAML_SCALAR_NODE)
		return node_err(w, v, "%s: expected a name, got %s", what, node_kind(v));
	if (config_has_control(scalar(v)))
		return node_err(w, v, "%s: control characters are not allowed", what);
	if (config_copy_str(dst, CONFIG_NAME_MAX, scalar(v)))
		return node_err(w, v, "%s: longer than %d bytes", what, CONFIG_NAME_MAX - 1);
	return EMO_OK;
}

static int get_number(struct walk *w, const yaml_node_t *v, const char *what, double min,
		      double max, double *out)
{
	int rc;

	if (v->type != YAML_SCALAR_NODE || scalar_quoted(v) ||
	    (rc = config_parse_double(scalar(v), out)) == -1)
		return node_err(w, v, "%s: expected a number, got %s", what,
				v->type == YAML_SCALAR_NODE ? scalar(v) : node_kind(v));
	if (rc == -2 || *out < min || *out > max)
		return node_err(w, v, "%s: %s is out of range [%g, %g]", what, scalar(v), min, max);
	return EMO_OK;
}

static int walk_seats(struct walk *w, const yaml_node_t *seq)
{
	struct emo_config *cfg = w->cfg;
	int n = 0;

	for (const yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++, n++) {
		const yaml_node_t *m = yaml_document_get_node(w->doc, *it);
		struct config_seat *s;
		double v[4] = {0, 0, 0, 0};
		int have[4] = {0, 0, 0, 0}, rc;
		char where[48];
		static const char *const coord[4] = {"x", "y", "w", "h"};

		snprintf(where, sizeof(where), "seats[%d]", n);
		if (n >= CONFIG_MAX_SEATS)
			return node_err(w, m, "seats: more than %d seats", CONFIG_MAX_SEATS);
		if (m->type != YAML_MAPPING_NODE)
			return node_err(w, m, "%s: expected a mapping {name, x, y, w, h}, got %s",
					where, node_kind(m));
		if ((rc = check_keys(w, m, where)))
			return rc;
		s = &cfg->seats[n];
		memset(s, 0, sizeof(*s));
		snprintf(s->name, sizeof(s->name), "seat%d", n + 1);
		for (const yaml_node_pair_t *p = m->data.mapping.pairs.start;
		     p < m->data.mapping.pairs.top; p++) {
			const yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
			const yaml_node_t *val = yaml_document_get_node(w->doc, p->value);
			char what[96];
			int i;

			snprintf(what, sizeof(what), "%s.%s", where, scalar(k));
			if (!strcmp(scalar(k), "name")) {
				if ((rc = set_name(w, val, s->name, what)))
					return rc;
				continue;
			}
			for (i = 0; i < 4 && strcmp(scalar(k), coord[i]); i++)
				;
			if (i == 4)
				return node_err(w, k, "unknown key '%s' (a seat has name, x, y, w, h)",
						what);
			if ((rc = get_number(w, val, what, 0, 100000, &v[i])))
				return rc;
			have[i] = 1;
		}
		for (int i = 0; i < 4; i++)
			if (!have[i])
				return node_err(w, m, "%s: missing '%s'", where, coord[i]);
		if (v[2] <= 0 || v[3] <= 0)
			return node_err(w, m, "%s: w and h must be greater than 0", where);
		s->frac = v[0] <= 1 && v[1] <= 1 && v[2] <= 1 && v[3] <= 1;
		if (s->frac && (v[0] + v[2] > 1.0 + 1e-6 || v[1] + v[3] > 1.0 + 1e-6))
			return node_err(w, m, "%s: region extends past the frame (x + w and y + h "
					"must be at most 1 for fractions)", where);
		s->x = (float)v[0];
		s->y = (float)v[1];
		s->w = (float)v[2];
		s->h = (float)v[3];
	}
	cfg->n_seats = n;
	return EMO_OK;
}

/* A metric's name into *metric: 0, or -1 when it names none. */
static int parse_metric(const char *s, int *metric)
{
	if (!strcmp(s, "negative_share"))
		*metric = CONFIG_METRIC_NEGATIVE;
	else if (!strcmp(s, "valence"))
		*metric = CONFIG_METRIC_VALENCE;
	else if (!strcmp(s, "faces"))
		*metric = CONFIG_METRIC_FACES;
	else if ((*metric = emo_class_from_name(s)) < 0)
		return -1;
	return 0;
}

static int metric_ok(int metric, double th)
{
	return metric == CONFIG_METRIC_FACES	   ? th >= 0 && th <= 100000
	       : metric == CONFIG_METRIC_VALENCE ? th >= -1 && th <= 1
						 : th >= 0 && th <= 1;
}

/* The old metric "negative" (the probability mass on the four negative
 * classes, about 0.5 for any unsure face) is gone: say what replaced it. */
static const char negative_gone[] =
	"'negative' is now 'negative_share' (the share of faces that look clearly negative, "
	"e.g. \"negative_share > 0.3\") or 'valence' (-1..1, neutral 0)";

/* Parse "metric op number" into *a. Returns 0 or -1 with msg. */
static int parse_condition(const char *s, struct config_alert *a, char *msg, size_t len)
{
	char metric[32], op[4], num[64], extra[2];
	double th;
	static const char *const ops[] = {">", "<"};
	int i;

	if (sscanf(s, " %31[a-z_] %3[<>=] %63s %1s", metric, op, num, extra) != 3) {
		snprintf(msg, len, "expected \"METRIC OP NUMBER\" such as \"negative_share > 0.3\", got \"%.60s\"", s);
		return -1;
	}
	if (!strcmp(metric, "negative")) {
		snprintf(msg, len, "%s", negative_gone);
		return -1;
	}
	if (parse_metric(metric, &a->metric)) {
		snprintf(msg, len, "unknown metric '%s' (negative_share, valence, faces, or an emotion: "
			 "angry, disgust, fear, happy, sad, surprise, neutral)", metric);
		return -1;
	}
	for (i = 0; i < 2 && strcmp(op, ops[i]); i++)
		;
	if (i == 2) {
		snprintf(msg, len, "unknown comparison '%s' (use > or <)", op);
		return -1;
	}
	a->op = i;
	if (config_parse_double(num, &th) || !metric_ok(a->metric, th)) {
		snprintf(msg, len, "bad threshold '%s' (%s)", num,
			 a->metric == CONFIG_METRIC_FACES     ? "a face count"
			 : a->metric == CONFIG_METRIC_VALENCE ? "a valence from -1 to 1"
							      : "a share from 0 to 1");
		return -1;
	}
	a->threshold = (float)th;
	return 0;
}

static int walk_alerts(struct walk *w, const yaml_node_t *seq)
{
	struct emo_config *cfg = w->cfg;
	int n = 0;

	for (const yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++, n++) {
		const yaml_node_t *m = yaml_document_get_node(w->doc, *it);
		const yaml_node_t *cond = NULL, *emo = NULL, *above = NULL, *below = NULL;
		struct config_alert *a;
		char where[48], msg[256];
		double d;
		int rc;

		snprintf(where, sizeof(where), "alerts[%d]", n);
		if (n >= CONFIG_MAX_ALERTS)
			return node_err(w, m, "alerts: more than %d alerts", CONFIG_MAX_ALERTS);
		if (m->type != YAML_MAPPING_NODE)
			return node_err(w, m, "%s: expected a mapping {name, condition, for}, got %s",
					where, node_kind(m));
		if ((rc = check_keys(w, m, where)))
			return rc;
		a = &cfg->alerts[n];
		memset(a, 0, sizeof(*a));
		snprintf(a->name, sizeof(a->name), "alert%d", n + 1);
		for (const yaml_node_pair_t *p = m->data.mapping.pairs.start;
		     p < m->data.mapping.pairs.top; p++) {
			const yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
			const yaml_node_t *val = yaml_document_get_node(w->doc, p->value);
			const char *key = scalar(k);
			char what[96];

			snprintf(what, sizeof(what), "%s.%s", where, key);
			if (!strcmp(key, "name")) {
				if ((rc = set_name(w, val, a->name, what)))
					return rc;
			} else if (!strcmp(key, "for")) {
				if ((rc = get_number(w, val, what, 0, 86400, &d)))
					return rc;
				a->for_s = (float)d;
			} else if (!strcmp(key, "condition") || !strcmp(key, "emotion")) {
				if (val->type != YAML_SCALAR_NODE)
					return node_err(w, val, "%s: expected text, got %s", what,
							node_kind(val));
				if (!strcmp(key, "condition"))
					cond = val;
				else
					emo = val;
			} else if (!strcmp(key, "above")) {
				above = val;
			} else if (!strcmp(key, "below")) {
				below = val;
			} else {
				return node_err(w, k, "unknown key '%s' (an alert has name, condition "
						"or emotion with above/below, and for)", what);
			}
		}
		if (cond && (emo || above || below))
			return node_err(w, m, "%s: give either 'condition' or 'emotion' with "
					"'above'/'below', not both", where);
		if (cond) {
			if (parse_condition(scalar(cond), a, msg, sizeof(msg)))
				return node_err(w, cond, "%s.condition: %s", where, msg);
			continue;
		}
		if (!emo)
			return node_err(w, m, "%s: missing 'condition' (or 'emotion' with "
					"'above'/'below')", where);
		if (!strcmp(scalar(emo), "negative"))
			return node_err(w, emo, "%s.emotion: %s", where, negative_gone);
		if (parse_metric(scalar(emo), &a->metric))
			return node_err(w, emo, "%s.emotion: unknown emotion '%s' (angry, disgust, "
					"fear, happy, sad, surprise, neutral, negative_share, valence, "
					"faces)", where, scalar(emo));
		if (!above == !below)
			return node_err(w, m, "%s: give exactly one of 'above' and 'below'", where);
		if ((rc = get_number(w, above ? above : below, above ? "above" : "below",
				     a->metric == CONFIG_METRIC_VALENCE ? -1 : 0,
				     a->metric == CONFIG_METRIC_FACES ? 100000 : 1, &d)))
			return rc;
		a->op = above ? CONFIG_OP_GT : CONFIG_OP_LT;
		a->threshold = (float)d;
	}
	cfg->n_alerts = n;
	return EMO_OK;
}

static int walk_names(struct walk *w, const yaml_node_t *seq)
{
	int n = 0, rc;

	for (const yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++, n++) {
		const yaml_node_t *v = yaml_document_get_node(w->doc, *it);
		char what[48];

		snprintf(what, sizeof(what), "gallery.names[%d]", n);
		if (n >= CONFIG_MAX_SEATS)
			return node_err(w, v, "gallery.names: more than %d names", CONFIG_MAX_SEATS);
		if ((rc = set_name(w, v, w->cfg->gallery.names[n], what)))
			return rc;
	}
	w->cfg->gallery.n_names = n;
	return EMO_OK;
}

static int walk_options(struct walk *w, const struct config_key *k, const yaml_node_t *m)
{
	char *base = (char *)w->cfg + k->off;
	char kv[CONFIG_PATH_MAX + 64], msg[256];
	int rc;

	base[0] = '\0';
	if (is_null_node(m))
		return EMO_OK;
	if (m->type != YAML_MAPPING_NODE)
		return node_err(w, m, "key '%s': expected %s, got %s", k->key,
				config_type_word(k->type), node_kind(m));
	if ((rc = check_keys(w, m, k->key)))
		return rc;
	for (const yaml_node_pair_t *p = m->data.mapping.pairs.start;
	     p < m->data.mapping.pairs.top; p++) {
		const yaml_node_t *key = yaml_document_get_node(w->doc, p->key);
		const yaml_node_t *val = yaml_document_get_node(w->doc, p->value);

		if (key->type != YAML_SCALAR_NODE || !*scalar(key))
			return node_err(w, key, "key '%s': expected an option name, got %s", k->key,
					node_kind(key));
		if (val->type != YAML_SCALAR_NODE)
			return node_err(w, val, "key '%s.%s': expected a value, got %s", k->key,
					scalar(key), node_kind(val));
		snprintf(kv, sizeof(kv), "%s=%s", scalar(key), scalar(val));
		if (strchr(scalar(key), '='))
			return node_err(w, key, "key '%s': \"%s\" is not an FFmpeg option name",
					k->key, scalar(key));
		if (config_add_option(base, k->size, kv, msg, sizeof(msg)))
			return node_err(w, strchr(msg, '"') == msg ? key : val, "key '%s.%s': %s",
					k->key, scalar(key), msg);
	}
	return EMO_OK;
}

static int walk_value(struct walk *w, const struct config_key *k, const yaml_node_t *v,
		      const yaml_node_t *keynode)
{
	char msg[256];

	if (k->type == CONFIG_T_OPTIONS)
		return walk_options(w, k, v);
	if (k->type >= CONFIG_T_SEATS) {
		if (k->type == CONFIG_T_SEATS) {
			w->have_seats = 1;
			w->seats_mark = keynode->start_mark;
		}
		if (is_null_node(v)) {
			if (k->type == CONFIG_T_SEATS)
				w->cfg->n_seats = 0;
			else if (k->type == CONFIG_T_ALERTS)
				w->cfg->n_alerts = 0;
			else
				w->cfg->gallery.n_names = 0;
			return EMO_OK;
		}
		if (v->type != YAML_SEQUENCE_NODE)
			return node_err(w, v, "key '%s': expected %s, got %s", k->key,
					config_type_word(k->type), node_kind(v));
		if (k->type == CONFIG_T_SEATS)
			return walk_seats(w, v);
		if (k->type == CONFIG_T_ALERTS)
			return walk_alerts(w, v);
		return walk_names(w, v);
	}
	if (v->type != YAML_SCALAR_NODE)
		return node_err(w, v, "key '%s': expected %s%s%s, got %s", k->key,
				config_type_word(k->type),
				!k->choices ? "" : k->type == CONFIG_T_INT ? " or " : " ",
				k->choices ? k->choices : "", node_kind(v));
	if (config_set_scalar(w->cfg, k, scalar(v), scalar_quoted(v), msg, sizeof(msg)))
		return node_err(w, v, "key '%s': %s", k->key, msg);
	return EMO_OK;
}

static int walk_map(struct walk *w, const yaml_node_t *map, const char *prefix)
{
	int rc;

	if ((rc = check_keys(w, map, prefix)))
		return rc;
	for (const yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
		const yaml_node_t *v = yaml_document_get_node(w->doc, p->value);
		const struct config_key *row;
		char path[KEYPATH_MAX], hint[96];

		if (snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", scalar(k)) >=
		    (int)sizeof(path))
			return node_err(w, k, "unknown key (too long)");
		if ((row = config_key_find(path))) {
			if ((rc = walk_value(w, row, v, k)))
				return rc;
			continue;
		}
		if (is_section(path)) {
			if (!strcmp(path, "gallery")) {
				w->have_gallery = 1;
				w->gallery_mark = k->start_mark;
			}
			if (is_null_node(v))
				continue;
			if (v->type != YAML_MAPPING_NODE)
				return node_err(w, v, "section '%s': expected a mapping, got %s", path,
						node_kind(v));
			if ((rc = walk_map(w, v, path)))
				return rc;
			continue;
		}
		suggest(path, hint, sizeof(hint));
		return node_err(w, k, "unknown key '%s'%s", path, hint);
	}
	return EMO_OK;
}

/* ---- checks across keys ---------------------------------------------- */

static int check(const struct emo_config *cfg, char *msg, size_t len, int *where_gallery)
{
	const int r = cfg->gallery.rows, c = cfg->gallery.cols;

	*where_gallery = 1;
	if (!r != !c) {
		snprintf(msg, len, "gallery: set both rows and cols (or neither)");
		return -1;
	}
	if (r * c > CONFIG_MAX_SEATS) {
		snprintf(msg, len, "gallery: %d x %d cells, at most %d", r, c, CONFIG_MAX_SEATS);
		return -1;
	}
	if (cfg->gallery.n_names > r * c) {
		snprintf(msg, len, "gallery: %d names for %d cells", cfg->gallery.n_names, r * c);
		return -1;
	}
	if (r && cfg->n_seats) {
		*where_gallery = 0;
		snprintf(msg, len, "seats and gallery exclude each other: use one of them");
		return -1;
	}
	return 0;
}

int config_check(const struct emo_config *cfg, struct emo_err *err)
{
	char msg[256];
	int g;

	if (check(cfg, msg, sizeof(msg), &g))
		return emo_seterr(err, EMO_ECONFIG, NULL, 0, 0, "%s", msg);
	return EMO_OK;
}

/* ---- loading --------------------------------------------------------- */

int config_load_mem(struct emo_config *cfg, const char *buf, size_t len, const char *name,
		    struct emo_err *err)
{
	yaml_parser_t p;
	yaml_document_t doc;
	struct emo_config *tmp = NULL;
	struct walk w;
	size_t bad;
	int rc, nul, line, col;

	if (!name)
		name = "<config>";
	if (len > (size_t)CONFIG_MAX_FILE)
		return emo_seterr(err, EMO_ECONFIG, name, 0, 0, "larger than %ld bytes",
				  (long)CONFIG_MAX_FILE);
	bad = config_utf8_bad_offset((const unsigned char *)buf, len, &nul);
	if (bad < len) {
		config_offset_to_linecol(buf, len, bad, &line, &col);
		return emo_seterr(err, EMO_ECONFIG, name, line, col, "%s",
				  nul ? "NUL byte: a binary file, not a YAML config"
				      : "not valid UTF-8 text");
	}
	if ((rc = config_event_pass(buf, len, name, err)))
		return rc;

	if (!yaml_parser_initialize(&p))
		return emo_seterr(err, EMO_ENOMEM, name, 0, 0, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&p, &doc)) {
		rc = config_yaml_error(&p, name, buf, len, err);
		yaml_parser_delete(&p);
		return rc;
	}
	yaml_parser_delete(&p);
	if ((rc = check_tags(&doc, name, err)))
		goto end;

	const yaml_node_t *root = yaml_document_get_root_node(&doc);

	if (!root || is_null_node(root)) {
		rc = EMO_OK; /* empty file: nothing changes */
		goto end;
	}
	if (root->type != YAML_MAPPING_NODE) {
		rc = emo_seterr(err, EMO_ECONFIG, name, (int)root->start_mark.line + 1,
				(int)root->start_mark.column + 1,
				"the top level must be a mapping of keys (such as 'fps: 5'), got %s",
				node_kind(root));
		goto end;
	}
	if (!(tmp = malloc(sizeof(*tmp)))) {
		rc = emo_seterr(err, EMO_ENOMEM, name, 0, 0, "out of memory");
		goto end;
	}
	*tmp = *cfg;
	memset(&w, 0, sizeof(w));
	w.doc = &doc;
	w.cfg = tmp;
	w.name = name;
	w.err = err;
	if ((rc = walk_map(&w, root, "")))
		goto end;
	{
		char msg[256];
		int g;

		if (check(tmp, msg, sizeof(msg), &g)) {
			yaml_mark_t m = g && w.have_gallery ? w.gallery_mark : w.seats_mark;
			int known = g ? w.have_gallery : w.have_seats;

			rc = emo_seterr(err, EMO_ECONFIG, name, known ? (int)m.line + 1 : 0,
					known ? (int)m.column + 1 : 0, "%s", msg);
			goto end;
		}
	}
	*cfg = *tmp;
	rc = EMO_OK;
end:
	free(tmp);
	yaml_document_delete(&doc);
	return rc;
}

int config_load(struct emo_config *cfg, const char *path, struct emo_err *err)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0;
	struct stat st;
	int rc;

	if (!(f = fopen(path, "rb")))
		return emo_seterr(err, EMO_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		return emo_seterr(err, EMO_EIO, path, 0, 0, "is a directory");
	}
	if (!(buf = malloc((size_t)CONFIG_MAX_FILE + 1))) {
		fclose(f);
		return emo_seterr(err, EMO_ENOMEM, path, 0, 0, "out of memory");
	}
	len = fread(buf, 1, (size_t)CONFIG_MAX_FILE + 1, f);
	if (ferror(f)) {
		rc = emo_seterr(err, EMO_EIO, path, 0, 0, "read error: %s", strerror(errno));
	} else {
		rc = config_load_mem(cfg, buf, len, path, err);
	}
	fclose(f);
	free(buf);
	return rc;
}

static int path_exists(char *buf, size_t len, int n)
{
	return n >= 0 && (size_t)n < len && access(buf, F_OK) == 0;
}

int config_default_path(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	const char *dirs = getenv("XDG_CONFIG_DIRS");

	if (xdg && xdg[0] == '/') {
		if (path_exists(buf, len, snprintf(buf, len, "%s/emotop/config.yaml", xdg)))
			return 1;
	} else if (home && *home) {
		if (path_exists(buf, len, snprintf(buf, len, "%s/.config/emotop/config.yaml", home)))
			return 1;
	}
	/* then the system-wide ones, in order (a lab's machines) */
	if (!dirs || !*dirs)
		dirs = "/etc/xdg";
	while (*dirs) {
		size_t k = strcspn(dirs, ":");

		if (dirs[0] == '/' &&
		    path_exists(buf, len, snprintf(buf, len, "%.*s/emotop/config.yaml", (int)k, dirs)))
			return 1;
		dirs += k + (dirs[k] == ':');
	}
	return 0;
}
