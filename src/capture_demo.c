/* capture_demo.c - the built-in demo source's pictures: a procedural
 * gallery of six people slowly moving and changing expression over textured
 * backgrounds. Deterministic: the same t draws the same frame. capture.c
 * paces and publishes them like any other source. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "capture_demo.h"

#define DEMO_COLS 3
#define DEMO_ROWS 2

struct clip {
	int x0, y0, x1, y1;
};

static uint32_t hash32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

static double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void blend(uint8_t *p, double v, double a)
{
	double r = *p + (v - *p) * a;
	*p = (uint8_t)clampd(r + 0.5, 0, 255);
}

/* Filled ellipse with spherical shading (darker by shade toward the rim,
 * lit from the upper left) and an anti-aliased edge. */
static void fill_ellipse(struct emo_image *im, const struct clip *k, double cx, double cy,
			 double rx, double ry, double v, double shade)
{
	int x0 = (int)floor(cx - rx - 1), x1 = (int)ceil(cx + rx + 1);
	int y0 = (int)floor(cy - ry - 1), y1 = (int)ceil(cy + ry + 1);
	double rmin = rx < ry ? rx : ry;

	if (x0 < k->x0) x0 = k->x0;
	if (y0 < k->y0) y0 = k->y0;
	if (x1 > k->x1) x1 = k->x1;
	if (y1 > k->y1) y1 = k->y1;
	for (int y = y0; y < y1; y++) {
		double ny = (y + 0.5 - cy) / ry;
		for (int x = x0; x < x1; x++) {
			double nx = (x + 0.5 - cx) / rx, d2 = nx * nx + ny * ny, cov, val;
			if (d2 > 1.2)
				continue;
			cov = clampd((1.0 - sqrt(d2)) * rmin + 0.5, 0, 1);
			val = v - shade * d2 - shade * 0.35 * (nx + ny) * (1 - d2);
			blend(&im->px[y * im->stride + x], val, cov);
		}
	}
}

/* Stroke of y = cy + bend * (1 - u^2) over x = cx + u * hw, u in [-1, 1]. */
static void stroke_curve(struct emo_image *im, const struct clip *k, double cx, double cy,
			 double hw, double bend, double thick, double v)
{
	int x0 = (int)floor(cx - hw), x1 = (int)ceil(cx + hw);
	double top = cy + (bend < 0 ? bend : 0) - thick, bot = cy + (bend > 0 ? bend : 0) + thick;

	if (x0 < k->x0) x0 = k->x0;
	if (x1 > k->x1) x1 = k->x1;
	for (int y = (int)floor(top) > k->y0 ? (int)floor(top) : k->y0; y < (int)ceil(bot) && y < k->y1; y++)
		for (int x = x0; x < x1; x++) {
			double u = (x + 0.5 - cx) / hw, f, cov;
			if (u < -1 || u > 1)
				continue;
			f = cy + bend * (1 - u * u);
			cov = clampd(thick * 0.5 - fabs(y + 0.5 - f) + 0.5, 0, 1) *
			      clampd((1 - fabs(u)) * hw * 0.5, 0, 1);
			if (cov > 0)
				blend(&im->px[y * im->stride + x], v, cov);
		}
}

/* Thick anti-aliased segment (eyebrows). */
static void stroke_line(struct emo_image *im, const struct clip *k, double ax, double ay,
			double bx, double by, double thick, double v)
{
	int x0 = (int)floor(fmin(ax, bx) - thick), x1 = (int)ceil(fmax(ax, bx) + thick);
	int y0 = (int)floor(fmin(ay, by) - thick), y1 = (int)ceil(fmax(ay, by) + thick);
	double dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;

	if (x0 < k->x0) x0 = k->x0;
	if (y0 < k->y0) y0 = k->y0;
	if (x1 > k->x1) x1 = k->x1;
	if (y1 > k->y1) y1 = k->y1;
	for (int y = y0; y < y1; y++)
		for (int x = x0; x < x1; x++) {
			double px = x + 0.5 - ax, py = y + 0.5 - ay;
			double t = l2 > 0 ? clampd((px * dx + py * dy) / l2, 0, 1) : 0;
			double ex = px - t * dx, ey = py - t * dy;
			double cov = clampd(thick * 0.5 - sqrt(ex * ex + ey * ey) + 0.5, 0, 1);
			if (cov > 0)
				blend(&im->px[y * im->stride + x], v, cov);
		}
}

/* Expression parameters, interpolated between the seven basic emotions. */
struct expr {
	double smile;  /* mouth corners up (+) or down (-) */
	double open;   /* mouth opening 0..1 */
	double width;  /* mouth width factor */
	double brow;   /* brows raised (+) or lowered (-) */
	double tilt;   /* inner brow ends up (+, sad/fear) or down (-, angry) */
	double eye;    /* eye opening factor */
};

/* neutral, happy, sad, surprise, angry, fear, disgust */
static const struct expr demo_exprs[] = {
	{ 0.0, 0.0, 1.0, 0.0, 0.0, 1.0 },
	{ 1.0, 0.25, 1.25, 0.1, 0.0, 0.8 },
	{ -0.8, 0.0, 0.9, 0.0, 0.9, 0.8 },
	{ 0.0, 1.0, 0.7, 1.0, 0.2, 1.5 },
	{ -0.3, 0.0, 0.85, -0.8, -1.0, 0.9 },
	{ -0.4, 0.5, 1.15, 0.8, 0.8, 1.4 },
	{ -0.6, 0.15, 0.9, -0.4, -0.3, 0.7 },
};

static struct expr demo_expr_at(double t, int who)
{
	const double period = 6.0;
	int n = (int)(sizeof(demo_exprs) / sizeof(demo_exprs[0]));
	double p = t / period + who * 1.37;
	int i = (int)floor(p);
	double f = p - i, s;
	struct expr a, b, e;

	/* each person visits the emotions in their own order */
	a = demo_exprs[hash32((uint32_t)(i * 7 + who)) % (uint32_t)n];
	b = demo_exprs[hash32((uint32_t)((i + 1) * 7 + who)) % (uint32_t)n];
	s = clampd((f - 0.75) / 0.25, 0, 1); /* hold, then a smooth change */
	s = s * s * (3 - 2 * s);
	e.smile = a.smile + (b.smile - a.smile) * s;
	e.open = a.open + (b.open - a.open) * s;
	e.width = a.width + (b.width - a.width) * s;
	e.brow = a.brow + (b.brow - a.brow) * s;
	e.tilt = a.tilt + (b.tilt - a.tilt) * s;
	e.eye = a.eye + (b.eye - a.eye) * s;
	return e;
}

static void demo_background(struct emo_image *im, const struct clip *k, int who)
{
	int style = who % 3;

	for (int y = k->y0; y < k->y1; y++)
		for (int x = k->x0; x < k->x1; x++) {
			int lx = x - k->x0, ly = y - k->y0;
			double v = 90 + 30.0 * ly / (k->y1 - k->y0) + 20.0 * lx / (k->x1 - k->x0);
			uint32_t hsh = hash32((uint32_t)x * 73856093U ^ (uint32_t)y * 19349663U);
			if (style == 0) {
				/* a bookshelf: shelves with books of different shades */
				int shelf = ly / 40, book = (lx + shelf * 7) / 11;
				v = ly % 40 < 4 ? 60 : 70 + hash32((uint32_t)(shelf * 131 + book)) % 90;
			} else if (style == 1 && lx > (k->x1 - k->x0) / 2 && ly < (k->y1 - k->y0) / 2) {
				v = (lx % 40 < 3 || ly % 40 < 3) ? 80 : 215; /* a window */
			}
			v += (double)(hsh & 7) - 3.5;
			im->px[y * im->stride + x] = (uint8_t)clampd(v, 0, 255);
		}
}

static void demo_person(struct emo_image *im, const struct clip *k, double t, int who)
{
	double tw = k->x1 - k->x0, th = k->y1 - k->y0;
	double s = th * (0.19 + 0.02 * (who % 3));
	double cx = k->x0 + tw * 0.5 + sin(t * 0.7 + who * 2.1) * tw * 0.08;
	double cy = k->y0 + th * 0.46 + sin(t * 0.9 + who) * th * 0.03;
	double skin = 150 + (double)(hash32((uint32_t)who + 11) % 70);
	double hair = 25 + (double)(hash32((uint32_t)who + 5) % 60);
	double shirt = 40 + (double)(hash32((uint32_t)who + 17) % 170);
	struct expr e = demo_expr_at(t, who);
	double eye_y = cy - 0.15 * s, eye_dx = 0.33 * s, brow_y = eye_y - (0.24 + 0.1 * e.brow) * s;
	double mouth_y = cy + 0.5 * s, mw = 0.32 * s * e.width;
	double blink = fmod(t + who * 0.77, 4.0) < 0.12 ? 0.1 : 1.0;

	fill_ellipse(im, k, cx, cy + 2.3 * s, 1.7 * s, 1.1 * s, shirt, 30);     /* shoulders */
	fill_ellipse(im, k, cx, cy + 1.05 * s, 0.35 * s, 0.5 * s, skin - 25, 20); /* neck */
	fill_ellipse(im, k, cx, cy - 0.2 * s, 0.9 * s, 1.05 * s, hair, 15);     /* hair */
	fill_ellipse(im, k, cx - 0.8 * s, cy, 0.15 * s, 0.22 * s, skin - 10, 20); /* ears */
	fill_ellipse(im, k, cx + 0.8 * s, cy, 0.15 * s, 0.22 * s, skin - 10, 20);
	fill_ellipse(im, k, cx, cy + 0.05 * s, 0.78 * s, 0.98 * s, skin, 45);   /* face */
	fill_ellipse(im, k, cx, cy - 0.78 * s, 0.7 * s, 0.28 * s, hair, 10);    /* fringe */
	for (int side = -1; side <= 1; side += 2) {
		double ex = cx + side * eye_dx;
		double ery = 0.09 * s * e.eye * blink;
		fill_ellipse(im, k, ex, eye_y, 0.15 * s, ery, 225, 10);         /* sclera */
		if (blink > 0.5)
			fill_ellipse(im, k, ex, eye_y, 0.065 * s, fmin(0.065 * s, ery), 35, 0);
		/* brow: inner end raised by tilt */
		stroke_line(im, k, ex - side * 0.05 * s, brow_y - e.tilt * 0.08 * s,
			    ex + side * 0.2 * s, brow_y + e.tilt * 0.04 * s, 0.07 * s, hair);
	}
	stroke_line(im, k, cx, eye_y + 0.05 * s, cx + 0.05 * s, cy + 0.28 * s, 0.05 * s, skin - 45);
	fill_ellipse(im, k, cx, cy + 0.3 * s, 0.12 * s, 0.06 * s, skin - 35, 10); /* nose tip */
	if (e.open > 0.05)
		fill_ellipse(im, k, cx, mouth_y + 0.05 * s, mw * 0.8, 0.2 * s * e.open, 40, 0);
	stroke_curve(im, k, cx, mouth_y - e.smile * 0.08 * s, mw, e.smile * 0.16 * s, 0.06 * s,
		     skin - 70);
}

/* Render the demo frame at time t (seconds) into img (DEMO_W x DEMO_H):
 * a gallery of six people slowly moving and changing expression over
 * textured backgrounds. Deterministic; the lead may swap the drawing for
 * frames built from an embedded asset without touching the rest. */
void demo_render(double t, struct emo_image *img)
{
	int tw = img->w / DEMO_COLS, th = img->h / DEMO_ROWS;

	memset(img->px, 20, (size_t)img->stride * (size_t)img->h);
	for (int r = 0; r < DEMO_ROWS; r++)
		for (int col = 0; col < DEMO_COLS; col++) {
			int who = r * DEMO_COLS + col;
			struct clip k = { col * tw + 2, r * th + 2, (col + 1) * tw - 2, (r + 1) * th - 2 };
			demo_background(img, &k, who);
			demo_person(img, &k, t, who);
		}
}
