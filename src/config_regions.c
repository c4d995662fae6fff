/* config_regions.c - the seats or the gallery grid of a configuration as
 * pixel boxes, clipped to a frame of a given size (config_regions()).
 */
#include "emotop/config.h"
#include "emotop/image.h"

static struct emo_box clip_box(float x, float y, float bw, float bh, int w, int h)
{
	struct emo_box b;
	float x1 = x + bw, y1 = y + bh;

	if (x < 0)
		x = 0;
	if (y < 0)
		y = 0;
	if (x1 > (float)w)
		x1 = (float)w;
	if (y1 > (float)h)
		y1 = (float)h;
	b.x = x;
	b.y = y;
	b.w = x1 > x ? x1 - x : 0;
	b.h = y1 > y ? y1 - y : 0;
	return b;
}

int config_regions(const struct emo_config *cfg, int w, int h, struct emo_box *boxes,
		   const char **names, int max)
{
	int n = 0;

	if (w <= 0 || h <= 0)
		return 0;
	if (cfg->gallery.rows > 0 && cfg->gallery.cols > 0) {
		float cw = (float)w / (float)cfg->gallery.cols, ch = (float)h / (float)cfg->gallery.rows;

		for (int r = 0; r < cfg->gallery.rows; r++)
			for (int c = 0; c < cfg->gallery.cols && n < max; c++, n++) {
				int i = r * cfg->gallery.cols + c;

				boxes[n] = clip_box((float)c * cw, (float)r * ch, cw, ch, w, h);
				if (names)
					names[n] = i < cfg->gallery.n_names ? cfg->gallery.names[i] : "";
			}
		return n;
	}
	for (int i = 0; i < cfg->n_seats && n < max; i++, n++) {
		const struct config_seat *s = &cfg->seats[i];
		float sx = s->frac ? (float)w : 1.0f, sy = s->frac ? (float)h : 1.0f;

		boxes[n] = clip_box(s->x * sx, s->y * sy, s->w * sx, s->h * sy, w, h);
		if (names)
			names[n] = s->name;
	}
	return n;
}
