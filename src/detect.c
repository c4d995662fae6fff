/* detect.c - face detection stage: the seat-region stand-in used until the
 * CNN detector replaces this file (same detect.h interface).
 *
 * Without a detector model every configured region is reported as a face
 * (score 1, no landmarks), clipped to the frame; regions that fall outside
 * the frame or are smaller than min_face are skipped.
 */
#include <stdlib.h>
#include <string.h>

#include "emotop/detect.h"

struct detect {
	struct detect_opts o;
};

void detect_opts_default(struct detect_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->min_face = 20;
	o->threshold = 0.5f;
	o->nms_iou = 0.4f;
}

struct detect *detect_new(const struct detect_opts *o, struct emo_err *err)
{
	struct detect *d;

	if (!o || o->n_regions < 0 || (o->n_regions > 0 && !o->regions)) {
		emo_seterr(err, EMO_EINVAL, NULL, 0, 0, "detect_new: bad options");
		return NULL;
	}
	if (o->model_path && *o->model_path && strcmp(o->model_path, "none")) {
		emo_seterr(err, EMO_EUNSUPPORTED, o->model_path, 0, 0,
			   "this build has no CNN face detector; detector.model cannot be used");
		return NULL;
	}
	if (!(d = calloc(1, sizeof(*d)))) {
		emo_seterr(err, EMO_ENOMEM, NULL, 0, 0, "out of memory");
		return NULL;
	}
	d->o = *o;
	d->o.model_path = NULL;
	return d;
}

void detect_free(struct detect *d)
{
	free(d);
}

int detect_run(struct detect *d, const struct emo_image *img, struct emo_face *out, int max)
{
	int n = 0;

	if (!d || !img || img->w <= 0 || img->h <= 0 || (max > 0 && !out))
		return EMO_EINVAL;
	for (int i = 0; i < d->o.n_regions && n < max; i++) {
		struct emo_box b = d->o.regions[i];
		float x1 = b.x + b.w, y1 = b.y + b.h;

		if (b.x < 0)
			b.x = 0;
		if (b.y < 0)
			b.y = 0;
		if (x1 > (float)img->w)
			x1 = (float)img->w;
		if (y1 > (float)img->h)
			y1 = (float)img->h;
		b.w = x1 - b.x;
		b.h = y1 - b.y;
		if (b.w < (float)d->o.min_face || b.h < (float)d->o.min_face)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].box = b;
		out[n].score = 1.0f;
		n++;
	}
	return n;
}
