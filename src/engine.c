/* engine.c - the analysis step: detect -> classify -> track -> summary for
 * one gray frame, its stages built from the configuration. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emotop/classify.h"
#include "emotop/config.h"
#include "emotop/detect.h"
#include "emotop/engine.h"
#include "emotop/summary.h"
#include "emotop/track.h"

struct engine {
	struct emo_config cfg;
	struct classify *cls;          /* NULL: no classifier model */
	char status[640];
	struct detect *det;            /* made at the first frame */
	struct tracker *trk;           /* made at the first frame */
	struct summary_ctx *sum;
	int frame_w, frame_h;          /* size det/trk were made for */
	struct emo_box regions[CONFIG_MAX_SEATS];
	int n_regions;
	struct emo_face faces[ENGINE_MAX_FACES];
	struct engine_face out[ENGINE_MAX_FACES];
	int n_out;
	struct track_obs obs[ENGINE_MAX_FACES];
	int ids[ENGINE_MAX_FACES];
};

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int engine_rules(const struct emo_config *cfg, struct summary_rule *out)
{
	int n = 0;

	for (int i = 0; i < cfg->n_alerts && i < CONFIG_MAX_ALERTS; i++, n++) {
		const struct config_alert *a = &cfg->alerts[i];
		struct summary_rule *r = &out[n];

		memset(r, 0, sizeof(*r));
		r->name = a->name;
		if (a->metric == CONFIG_METRIC_NEGATIVE) {
			r->metric = SUMMARY_METRIC_NEGATIVE;
		} else if (a->metric == CONFIG_METRIC_FACES) {
			r->metric = SUMMARY_METRIC_FACES;
		} else if (a->metric == CONFIG_METRIC_VALENCE) {
			r->metric = SUMMARY_METRIC_VALENCE;
		} else {
			r->metric = SUMMARY_METRIC_EMOTION;
			r->emotion = a->metric;
		}
		r->cmp = a->op == CONFIG_OP_LT ? SUMMARY_CMP_LT : SUMMARY_CMP_GT;
		r->threshold = a->threshold;
		r->for_s = a->for_s;
	}
	return n;
}

struct engine *engine_new(const struct emo_config *cfg, struct emo_err *err)
{
	struct engine *e = calloc(1, sizeof(*e));
	struct classify_opts co;
	struct summary_opts so;
	struct summary_rule rules[CONFIG_MAX_ALERTS];
	struct emo_err cerr;

	if (!e) {
		emo_seterr(err, EMO_ENOMEM, NULL, 0, 0, "out of memory");
		return NULL;
	}
	e->cfg = *cfg;

	classify_opts_default(&co);
	co.model_path = cfg->classifier.model[0] ? cfg->classifier.model : NULL;
	co.flip_tta = cfg->classifier.flip_tta;
	co.scale_tta = cfg->classifier.scale_tta;
	memset(&cerr, 0, sizeof(cerr));
	if (co.model_path && !strcmp(co.model_path, "none")) {
		/* faces only: no emotion inference at all (e.g. attendance) */
		snprintf(e->status, sizeof(e->status),
			 "emotion classifier off (classifier.model: none); reporting faces only");
	} else if (!(e->cls = classify_new(&co, &cerr))) {
		if (co.model_path) {
			/* a model the user asked for must work */
			if (err)
				*err = cerr;
			engine_free(e);
			return NULL;
		}
		snprintf(e->status, sizeof(e->status), "no classifier model (%s); reporting faces only, no emotions",
			 cerr.msg[0] ? cerr.msg : "none built in");
	}

	summary_opts_default(&so);
	so.window = cfg->summary.window;
	/* room for every frame of the window at the analysis rate (the default
	 * holds 50 a second: at fps 120 a 300 s window kept 125 s) */
	{
		double want = ceil(cfg->summary.window * cfg->fps * 1.1) + 16;
		so.window_cap = want > 8192 ? (int)fmin(want, 1 << 24) : 0;
	}
	so.source_down = cfg->capture.down_alert;
	so.n_rules = engine_rules(cfg, rules);
	so.rules = rules;
	if (!(e->sum = summary_new(&so, err))) {
		engine_free(e);
		return NULL;
	}
	return e;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	classify_free(e->cls);
	detect_free(e->det);
	track_free(e->trk);
	summary_free(e->sum);
	free(e);
}

int engine_has_classifier(const struct engine *e)
{
	return e && e->cls;
}

const char *engine_status(const struct engine *e)
{
	return e ? e->status : "";
}

/* Make the detector and the tracker for the first frame, and give them the
 * regions of a new frame size (the detector keeps its model and buffers). */
static int engine_setup(struct engine *e, int w, int h, struct emo_err *err)
{
	struct detect_opts dopt;
	struct track_opts topt;
	struct track_seat seats[CONFIG_MAX_SEATS];
	const char *names[CONFIG_MAX_SEATS];
	const char *grid_names[CONFIG_MAX_SEATS];
	int n, cells, rc;

	n = config_regions(&e->cfg, w, h, e->regions, names, CONFIG_MAX_SEATS);
	cells = n > 0; /* seats or gallery cells: each is expected to hold a face */
	if (n == 0) {
		/* nothing configured: the whole frame is one region */
		e->regions[0].x = 0;
		e->regions[0].y = 0;
		e->regions[0].w = (float)w;
		e->regions[0].h = (float)h;
		n = 1;
	}
	e->n_regions = n;

	if (e->det) {
		if ((rc = detect_set_regions(e->det, e->regions, e->n_regions,
					     cells ? (float)e->cfg.detector.cell_threshold : 0)))
			return emo_seterr(err, rc, NULL, 0, 0, "the detector refused the regions");
	} else {
		detect_opts_default(&dopt);
		dopt.min_face = e->cfg.detector.min_face;
		dopt.threshold = (float)e->cfg.detector.threshold;
		dopt.nms_iou = (float)e->cfg.detector.nms_iou;
		dopt.model_path = e->cfg.detector.model[0] ? e->cfg.detector.model : NULL;
		dopt.verify_path = e->cfg.detector.verifier[0] ? e->cfg.detector.verifier : NULL;
		dopt.regions = e->regions;
		dopt.n_regions = e->n_regions;
		dopt.cell_threshold = cells ? (float)e->cfg.detector.cell_threshold : 0;
		if (!(e->det = detect_new(&dopt, err)))
			return dopt.model_path || dopt.verify_path ? EMO_EFORMAT : EMO_EINVAL;
	}
	track_opts_default(&topt);
	topt.iou_threshold = (float)e->cfg.tracking.iou;
	topt.ttl = e->cfg.tracking.ttl > 0 ? e->cfg.tracking.ttl : 1e-3;
	topt.half_life = e->cfg.tracking.half_life;
	if (e->cfg.n_seats) {
		for (int i = 0; i < e->cfg.n_seats && i < CONFIG_MAX_SEATS; i++) {
			seats[i].name = names[i];
			seats[i].box = e->regions[i];
		}
		topt.seats = seats;
		topt.n_seats = e->cfg.n_seats;
	}
	if (e->cfg.gallery.rows > 0 && e->cfg.gallery.cols > 0) {
		for (int i = 0; i < e->cfg.gallery.n_names; i++)
			grid_names[i] = e->cfg.gallery.names[i];
		topt.grid_rows = e->cfg.gallery.rows;
		topt.grid_cols = e->cfg.gallery.cols;
		topt.grid_names = grid_names;
		topt.n_grid_names = e->cfg.gallery.n_names;
	}
	if (e->trk) {
		/* a new frame size: seats given as fractions move, tracks stay */
		if (track_set_seats(e->trk, topt.seats, topt.n_seats))
			return emo_seterr(err, EMO_ECONFIG, NULL, 0, 0, "the tracker refused the seats");
	} else if (!(e->trk = track_new(&topt, err))) {
		return EMO_ECONFIG; /* the tracker refused the seats/gallery */
	}
	e->frame_w = w;
	e->frame_h = h;
	return EMO_OK;
}

int engine_frame(struct engine *e, const struct emo_image *gray, double now,
		 struct engine_frame_stats *st, struct emo_err *err)
{
	double t0, t1, t2;
	int n, rc;

	if (!e || !gray || !gray->px || gray->w <= 0 || gray->h <= 0)
		return emo_seterr(err, EMO_EINVAL, NULL, 0, 0, "engine_frame: no frame");
	if (!e->det || gray->w != e->frame_w || gray->h != e->frame_h)
		if ((rc = engine_setup(e, gray->w, gray->h, err)))
			return rc;
	t0 = mono_ms();
	n = detect_run(e->det, gray, e->faces, ENGINE_MAX_FACES);
	if (n < 0)
		return emo_seterr(err, n, NULL, 0, 0, "face detection failed: %s", emo_strerror(n));
	t1 = mono_ms();
	for (int i = 0; i < n; i++) {
		struct engine_face *f = &e->out[i];

		f->face = e->faces[i];
		f->track_id = -1;
		memset(f->probs, 0, sizeof(f->probs));
		if (e->cls && (rc = classify_face(e->cls, gray, &e->faces[i], f->probs)))
			memset(f->probs, 0, sizeof(f->probs));
		e->obs[i].box = f->face.box;
		memcpy(e->obs[i].probs, f->probs, sizeof(f->probs));
	}
	t2 = mono_ms();
	e->n_out = n;
	if ((rc = track_update(e->trk, now, gray->w, gray->h, e->obs, n, e->ids)) < 0)
		return emo_seterr(err, rc, NULL, 0, 0, "tracking failed: %s", emo_strerror(rc));
	for (int i = 0; i < n; i++)
		e->out[i].track_id = e->ids[i];
	if ((rc = summary_update(e->sum, now, e->trk)))
		return emo_seterr(err, rc, NULL, 0, 0, "summary failed: %s", emo_strerror(rc));
	if (st) {
		st->faces = n;
		st->detect_ms = t1 - t0;
		st->classify_ms = t2 - t1;
	}
	return n;
}

const struct engine_face *engine_faces(const struct engine *e, int *n)
{
	*n = e ? e->n_out : 0;
	return e ? e->out : NULL;
}

struct summary_ctx *engine_summary(struct engine *e)
{
	return e ? e->sum : NULL;
}

const struct tracker *engine_tracker(const struct engine *e)
{
	return e ? e->trk : NULL;
}
