/* config_dump.c - --dump-config: config_dump() writes every key of the
 * schema table, in its order, with its help and its value as YAML that
 * config_load() reads back; --help-config: config_print_schema(); and
 * config_alert_format(), an alert as "negative_share > 0.3" text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emotop/config.h"
#include "emotop/emotion.h"
#include "emotop/err.h"
#include "config_int.h"

static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* Shortest text that reads back as the same double. */
static void put_double(FILE *f, double v)
{
	char buf[40];

	for (int prec = 6; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	fputs(buf, f);
}

static void put_float(FILE *f, float v)
{
	char buf[40];

	for (int prec = 6; prec <= 9; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, (double)v);
		if (strtof(buf, NULL) == v)
			break;
	}
	fputs(buf, f);
}

static const char *enum_choice(const struct config_key *k, int idx, char *buf, size_t len)
{
	const char *c = k->choices;

	for (int i = 0; c && *c; i++) {
		size_t w = strcspn(c, "|");

		if (i == idx) {
			snprintf(buf, len, "%.*s", (int)w, c);
			return buf;
		}
		c += w + (c[w] == '|');
	}
	return "?";
}

void config_alert_format(const struct config_alert *a, char *buf, size_t len)
{
	static const char *const ops[] = {">", "<"};
	const char *m = a->metric == CONFIG_METRIC_NEGATIVE   ? "negative_share"
			: a->metric == CONFIG_METRIC_VALENCE ? "valence"
			: a->metric == CONFIG_METRIC_FACES   ? "faces"
							     : emo_class_name(a->metric);
	char th[40];

	for (int prec = 6; prec <= 9; prec++) {
		snprintf(th, sizeof(th), "%.*g", prec, (double)a->threshold);
		if (strtof(th, NULL) == a->threshold)
			break;
	}
	snprintf(buf, len, "%s %s %s", m, a->op >= 0 && a->op < 2 ? ops[a->op] : "?", th);
}

static void put_value(FILE *f, const struct emo_config *cfg, const struct config_key *k,
		      const char *indent)
{
	const char *base = (const char *)cfg + k->off;
	char buf[64];

	switch (k->type) {
	case CONFIG_T_INT:
		if (k->choices && !*(const int *)(const void *)base)
			fputs(k->choices, f);
		else
			fprintf(f, "%d", *(const int *)(const void *)base);
		break;
	case CONFIG_T_FLOAT:
		put_double(f, *(const double *)(const void *)base);
		break;
	case CONFIG_T_BOOL:
		fputs(*(const int *)(const void *)base ? "true" : "false", f);
		break;
	case CONFIG_T_STRING: {
		char shown[CONFIG_PATH_MAX + 64];

		emo_redact_url(base, shown, sizeof(shown)); /* a source's credentials */
		put_string(f, shown);
		break;
	}
	case CONFIG_T_ENUM:
		fputs(enum_choice(k, *(const int *)(const void *)base, buf, sizeof(buf)), f);
		break;
	case CONFIG_T_SEATS:
		if (!cfg->n_seats)
			fputs("[]", f);
		for (int i = 0; i < cfg->n_seats; i++) {
			const struct config_seat *s = &cfg->seats[i];

			fprintf(f, "\n%s  - {name: ", indent);
			put_string(f, s->name);
			fputs(", x: ", f);
			put_float(f, s->x);
			fputs(", y: ", f);
			put_float(f, s->y);
			fputs(", w: ", f);
			put_float(f, s->w);
			fputs(", h: ", f);
			put_float(f, s->h);
			fputs("}", f);
		}
		break;
	case CONFIG_T_ALERTS:
		if (!cfg->n_alerts)
			fputs("[]", f);
		for (int i = 0; i < cfg->n_alerts; i++) {
			const struct config_alert *a = &cfg->alerts[i];
			char cond[96];

			config_alert_format(a, cond, sizeof(cond));
			fprintf(f, "\n%s  - {name: ", indent);
			put_string(f, a->name);
			fputs(", condition: ", f);
			put_string(f, cond);
			fputs(", for: ", f);
			put_float(f, a->for_s);
			fputs("}", f);
		}
		break;
	case CONFIG_T_OPTIONS:
		if (!*base)
			fputs("{}", f);
		for (const char *l = base; *l;) {
			size_t n = strcspn(l, "\n"), kn = strcspn(l, "=");
			char v[CONFIG_PATH_MAX];

			snprintf(v, sizeof(v), "%.*s", (int)(n - kn - 1), l + kn + 1);
			fprintf(f, "\n%s  %.*s: ", indent, (int)kn, l);
			put_string(f, v);
			l += n + (l[n] == '\n');
		}
		break;
	case CONFIG_T_NAMES:
		fputs("[", f);
		for (int i = 0; i < cfg->gallery.n_names; i++) {
			if (i)
				fputs(", ", f);
			put_string(f, cfg->gallery.names[i]);
		}
		fputs("]", f);
		break;
	}
}

static void describe(const struct config_key *k, char *buf, size_t len)
{
	switch (k->type) {
	case CONFIG_T_INT:
	case CONFIG_T_FLOAT:
		snprintf(buf, len, "%s %.10g..%.10g%s%s%s%s, default %s",
			 k->type == CONFIG_T_INT ? "integer" : "number", k->min, k->max, *k->unit ? " " : "",
			 k->unit, k->choices ? " or " : "", k->choices ? k->choices : "", k->def);
		break;
	case CONFIG_T_BOOL:
		snprintf(buf, len, "boolean, default %s", k->def);
		break;
	case CONFIG_T_ENUM:
		snprintf(buf, len, "%s, default %s", k->choices, k->def);
		break;
	case CONFIG_T_STRING:
		snprintf(buf, len, "string, default %s", k->def);
		break;
	case CONFIG_T_OPTIONS:
		snprintf(buf, len, "mapping option: value, default empty");
		break;
	default:
		snprintf(buf, len, "list, at most %g, default empty", k->max);
		break;
	}
}

int config_dump(const struct emo_config *cfg, FILE *f)
{
	char section[KEYPATH_MAX] = "", desc[160];

	fprintf(f, "# emotop configuration (see emotop.yaml(5))\n");
	for (int i = 0; i < config_n_keys; i++) {
		const struct config_key *k = &config_table[i];
		const char *dot = strchr(k->key, '.');
		const char *leaf = dot ? dot + 1 : k->key;
		const char *indent = dot ? "  " : "";

		if (dot && (strlen(section) != (size_t)(dot - k->key) ||
			    strncmp(section, k->key, (size_t)(dot - k->key)))) {
			snprintf(section, sizeof(section), "%.*s", (int)(dot - k->key), k->key);
			fprintf(f, "\n%s:\n", section);
		} else if (!dot && section[0]) {
			section[0] = '\0';
			fputc('\n', f);
		}
		describe(k, desc, sizeof(desc));
		fprintf(f, "%s# %s (%s)\n%s%s: ", indent, k->help, desc, indent, leaf);
		put_value(f, cfg, k, indent);
		fputc('\n', f);
	}
	return ferror(f) ? EMO_EIO : EMO_OK;
}

void config_print_schema(FILE *f)
{
	char desc[160];

	for (int i = 0; i < config_n_keys; i++) {
		const struct config_key *k = &config_table[i];

		describe(k, desc, sizeof(desc));
		fprintf(f, "%-22s %s\n%-22s   %s\n", k->key, k->help, "", desc);
	}
}
