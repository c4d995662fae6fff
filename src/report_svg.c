/* report_svg.c - the SVG chart of the class mood over a session, with the
 * students' table under it: report_write_svg() and
 * report_write_svg_students() of emotop/report.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emotop/report.h"
#include "report_out.h"

#define SVG_W 960
#define SVG_H 440
#define SVG_L 64
#define SVG_R 150
#define SVG_T 44
#define SVG_B 56

static const char *const svg_colors[EMO_NUM_CLASSES] = {
	"#d62728", "#8c564b", "#9467bd", "#2ca02c", "#1f77b4", "#ff7f0e", "#7f7f7f",
};

static void svg_clock(struct out *o, double sec)
{
	long long s = isfinite(sec) && sec > 0 ? llround(sec) : 0;

	if (s >= 3600)
		report_out_printf(o, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
	else
		report_out_printf(o, "%lld:%02lld", s / 60, s % 60);
}

static double nice_step(double span)
{
	static const double steps[] = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600,
				       7200, 10800, 21600, 43200, 86400};

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (span / steps[i] <= 8)
			return steps[i];
	return ceil(span / 8 / 86400) * 86400;
}

/* One series as a path; breaks at points without faces and at gaps. */
static void svg_series(struct out *o, const struct summary_point *pts, int n, double t0,
		       double span, int cls, const char *stroke, const char *extra)
{
	int pen = 0, any = 0;
	double prev_t = 0;
	const double pw = SVG_W - SVG_L - SVG_R, ph = SVG_H - SVG_T - SVG_B;

	for (int i = 0; i < n; i++) {
		const struct summary_point *p = &pts[i];
		double t = p->t0 + p->span / 2, v, x, y;

		if (p->frames <= 0 || p->dominant < 0) {
			pen = 0;
			continue;
		}
		v = cls >= 0 ? p->mean[cls] : p->negative;
		if (!isfinite(v))
			v = 0;
		v = v < 0 ? 0 : v > 1 ? 1 : v;
		if (pen && t - prev_t > 2.5 * p->span)
			pen = 0;
		x = SVG_L + pw * (t - t0) / span;
		y = SVG_T + ph * (1 - v);
		if (!any) {
			report_out_printf(o, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s d=\"", stroke,
				   cls >= 0 ? "1.5" : "2.5", extra);
			any = 1;
		} else {
			report_out_putc(o, ' ');
		}
		report_out_putc(o, pen ? 'L' : 'M');
		report_out_fixed(o, x, 1);
		report_out_putc(o, ' ');
		report_out_fixed(o, y, 1);
		pen = 1;
		prev_t = t;
	}
	if (any)
		report_out_puts(o, "\"/>\n");
}

#define SVG_ROW 18  /* height of a row of the students' table */
#define SVG_BAR_X 560 /* the expression bar of a row */
#define SVG_BAR_W 300

/* The students' table under the chart, from y = top. */
static void svg_students(struct out *o, const struct summary_attendee *a, int n, int top)
{
	static const char *const heads[] = {"student", "present", "of session", "frames", "mood"};
	static const int cols[] = {SVG_L, 260, 340, 420, 480};

	report_out_printf(o, "<text x=\"%d\" y=\"%d\" font-size=\"14\" font-weight=\"bold\">students (%d)</text>\n",
		   SVG_L, top + 14, n);
	report_out_puts(o, "<g font-weight=\"bold\">\n");
	for (int c = 0; c < 5; c++)
		report_out_printf(o, "<text x=\"%d\" y=\"%d\">%s</text>\n", cols[c], top + 14 + SVG_ROW, heads[c]);
	report_out_printf(o, "<text x=\"%d\" y=\"%d\">share of present time per expression</text>\n",
		   SVG_BAR_X, top + 14 + SVG_ROW);
	report_out_puts(o, "</g>\n");
	for (int i = 0; i < n; i++) {
		const struct summary_attendee *st = &a[i];
		int y = top + 14 + SVG_ROW * (i + 2);
		double x = SVG_BAR_X;

		report_out_printf(o, "<text x=\"%d\" y=\"%d\">", cols[0], y);
		if (st->name[0])
			report_out_xml(o, st->name);
		else
			report_out_printf(o, "#%d", st->id);
		report_out_printf(o, "</text>\n<text x=\"%d\" y=\"%d\">", cols[1], y);
		svg_clock(o, st->present);
		report_out_printf(o, "</text>\n<text x=\"%d\" y=\"%d\">", cols[2], y);
		report_out_fixed(o, st->present_share * 100.0, 0);
		report_out_printf(o, "%%</text>\n<text x=\"%d\" y=\"%d\">%lld</text>\n", cols[3], y, st->frames);
		report_out_printf(o, "<text x=\"%d\" y=\"%d\">%s</text>\n", cols[4], y,
			   st->dominant >= 0 && st->dominant < EMO_NUM_CLASSES ? emo_class_name(st->dominant)
									: "-");
		for (int c = 0; st->dominant >= 0 && c < EMO_NUM_CLASSES; c++) {
			double w = SVG_BAR_W * (isfinite(st->share[c]) ? fmin(fmax(st->share[c], 0), 1) : 0);

			if (w <= 0)
				continue;
			report_out_puts(o, "<rect x=\"");
			report_out_fixed(o, x, 1);
			report_out_printf(o, "\" y=\"%d\" width=\"", y - 11);
			report_out_fixed(o, w, 1);
			report_out_printf(o, "\" height=\"13\" fill=\"%s\"><title>%s ", svg_colors[c], emo_class_name(c));
			report_out_fixed(o, st->share[c], 3);
			report_out_puts(o, "</title></rect>\n");
			x += w;
		}
	}
}

int report_write_svg(const char *path, const char *title, const struct summary_point *pts, int n,
		     struct emo_err *err)
{
	return report_write_svg_students(path, title, pts, n, NULL, 0, err);
}

int report_write_svg_students(const char *path, const char *title, const struct summary_point *pts,
			      int n, const struct summary_attendee *att, int n_att, struct emo_err *err)
{
	struct out o = {NULL, 0, 0, 1, 0};
	const double pw = SVG_W - SVG_L - SVG_R, ph = SVG_H - SVG_T - SVG_B;
	double t0 = 0, t1 = 1, span, step;
	int data = 0, rc = EMO_OK, height;
	FILE *f;

	if (!path || n < 0 || (n > 0 && !pts) || n_att < 0 || (n_att > 0 && !att))
		return emo_seterr(err, EMO_EINVAL, path, 0, 0, "svg: bad arguments");
	height = SVG_H + (n_att > 0 ? SVG_ROW * (n_att + 2) + 16 : 0);
	for (int i = 0; i < n; i++)
		if (pts[i].frames > 0 && isfinite(pts[i].t0) && isfinite(pts[i].span)) {
			if (!data || pts[i].t0 < t0)
				t0 = pts[i].t0;
			if (!data || pts[i].t0 + pts[i].span > t1)
				t1 = pts[i].t0 + pts[i].span;
			data = 1;
		}
	span = data && t1 > t0 ? t1 - t0 : 60.0;
	if (!data)
		t0 = 0;

	report_out_puts(&o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	report_out_printf(&o,
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		   "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
		   SVG_W, height, SVG_W, height);
	report_out_puts(&o, "<title>");
	report_out_xml(&o, title ? title : "emotop class mood");
	report_out_puts(&o, "</title>\n");
	report_out_printf(&o, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", SVG_W, height);
	report_out_printf(&o, "<text x=\"%d\" y=\"24\" font-size=\"16\" font-weight=\"bold\">", SVG_L);
	report_out_xml(&o, title ? title : "emotop class mood");
	report_out_puts(&o, "</text>\n");

	/* Y grid and labels. */
	report_out_puts(&o, "<g stroke=\"#dddddd\" stroke-width=\"1\">\n");
	for (int i = 0; i <= 4; i++) {
		double y = SVG_T + ph * (1 - i / 4.0);

		report_out_printf(&o, "<line x1=\"%d\" x2=\"%d\" y1=\"", SVG_L, SVG_W - SVG_R);
		report_out_fixed(&o, y, 1);
		report_out_puts(&o, "\" y2=\"");
		report_out_fixed(&o, y, 1);
		report_out_puts(&o, "\"/>\n");
	}
	report_out_puts(&o, "</g>\n<g text-anchor=\"end\">\n");
	for (int i = 0; i <= 4; i++) {
		double y = SVG_T + ph * (1 - i / 4.0) + 4;

		report_out_printf(&o, "<text x=\"%d\" y=\"", SVG_L - 6);
		report_out_fixed(&o, y, 1);
		report_out_puts(&o, "\">");
		report_out_fixed(&o, i / 4.0, 2);
		report_out_puts(&o, "</text>\n");
	}
	report_out_puts(&o, "</g>\n");

	/* X ticks: elapsed session time. */
	step = nice_step(span);
	report_out_puts(&o, "<g text-anchor=\"middle\">\n");
	for (double e = 0; e <= span + 1e-9; e += step) {
		double x = SVG_L + pw * e / span;

		report_out_puts(&o, "<line stroke=\"#999999\" x1=\"");
		report_out_fixed(&o, x, 1);
		report_out_puts(&o, "\" x2=\"");
		report_out_fixed(&o, x, 1);
		report_out_printf(&o, "\" y1=\"%d\" y2=\"%d\"/>\n", SVG_T + (int)ph, SVG_T + (int)ph + 5);
		report_out_puts(&o, "<text x=\"");
		report_out_fixed(&o, x, 1);
		report_out_printf(&o, "\" y=\"%d\">", SVG_T + (int)ph + 18);
		svg_clock(&o, e);
		report_out_puts(&o, "</text>\n");
	}
	report_out_puts(&o, "</g>\n");
	report_out_printf(&o, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333333\"/>\n",
		   SVG_L, SVG_T, (int)pw, (int)ph);
	report_out_printf(&o, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">elapsed session time</text>\n",
		   SVG_L + (int)pw / 2, SVG_H - 12);
	report_out_printf(&o,
		   "<text x=\"16\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 16 %d)\">"
		   "mean probability / negative share</text>\n",
		   SVG_T + (int)ph / 2, SVG_T + (int)ph / 2);

	if (data) {
		for (int c = 0; c < EMO_NUM_CLASSES; c++)
			svg_series(&o, pts, n, t0, span, c, svg_colors[c], "");
		svg_series(&o, pts, n, t0, span, -1, "#000000", " stroke-dasharray=\"6 4\"");
	} else {
		report_out_printf(&o, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#666666\">no data</text>\n",
			   SVG_L + (int)pw / 2, SVG_T + (int)ph / 2);
	}

	/* Legend. */
	for (int c = 0; c <= EMO_NUM_CLASSES; c++) {
		int y = SVG_T + 10 + 20 * c, x = SVG_W - SVG_R + 14;

		report_out_printf(&o, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"%s\"%s/>\n",
			   x, x + 22, y, y, c < EMO_NUM_CLASSES ? svg_colors[c] : "#000000",
			   c < EMO_NUM_CLASSES ? "2" : "2.5",
			   c < EMO_NUM_CLASSES ? "" : " stroke-dasharray=\"6 4\"");
		report_out_printf(&o, "<text x=\"%d\" y=\"%d\">%s</text>\n", x + 28, y + 4,
			   c < EMO_NUM_CLASSES ? emo_class_name(c) : "negative share");
	}
	if (n_att > 0)
		svg_students(&o, att, n_att, SVG_H);
	report_out_puts(&o, "</svg>\n");
	if (o.oom) {
		free(o.p);
		return emo_seterr(err, EMO_ENOMEM, path, 0, 0, "svg: out of memory");
	}

	f = fopen(path, "w");
	if (!f) {
		rc = emo_seterr(err, EMO_EIO, path, 0, 0, "cannot write: %s", strerror(errno));
		goto done;
	}
	if (fwrite(o.p, 1, o.len, f) != o.len) {
		rc = emo_seterr(err, EMO_EIO, path, 0, 0, "write failed: %s", strerror(errno));
		fclose(f);
		goto done;
	}
	if (fclose(f))
		rc = emo_seterr(err, EMO_EIO, path, 0, 0, "write failed: %s", strerror(errno));
done:
	free(o.p);
	return rc;
}
