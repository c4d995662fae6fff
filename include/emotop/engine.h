/* engine.h - one analysis step: gray frame -> detect -> classify -> track ->
 * summary. Library code (no FFmpeg, no curses): the run loop in
 * src/pipeline.c feeds it frames and reads snapshots.
 *
 * The engine builds its stages from a struct emo_config. The detector and
 * the tracker need pixel regions for the seats/gallery, so they are made at
 * the first frame; the regions are resolved again when the frame size
 * changes (tracks are kept). The classifier is
 * optional: without a model (none embedded and none configured) the engine
 * still detects and tracks faces, and engine_has_classifier() says 0; the
 * caller must then not present the (uniform) probabilities as emotions.
 * Not thread-safe: one thread calls everything.
 */
#ifndef EMOTOP_ENGINE_H
#define EMOTOP_ENGINE_H

#include "emotop/config.h"
#include "emotop/detect.h"
#include "emotop/emotion.h"
#include "emotop/err.h"
#include "emotop/image.h"
#include "emotop/summary.h"
#include "emotop/track.h"

#define ENGINE_MAX_FACES 256

/* Faces of the latest frame (for --annotate and tests). */
struct engine_face {
	struct emo_face face;
	float probs[EMO_NUM_CLASSES]; /* raw classifier output; zeros without a model */
	int track_id;                 /* -1 when not tracked */
};

struct engine_frame_stats {
	int faces;
	double detect_ms, classify_ms; /* time spent in each stage this frame */
};

/* New engine for *cfg (copied). NULL on error with *err set: EMO_EFORMAT /
 * EMO_EIO / EMO_EVERSION / EMO_ECHECKSUM when a configured model file is bad
 * or missing, EMO_EINVAL for options a stage refuses, EMO_ENOMEM. Free with
 * engine_free(). */
struct engine *engine_new(const struct emo_config *cfg, struct emo_err *err);
void engine_free(struct engine *e);

/* 1 when emotions are classified; 0 when there is no classifier model, with
 * the reason in engine_status(). */
int engine_has_classifier(const struct engine *e);
/* "" or a short human-readable status ("no classifier model: ..."). */
const char *engine_status(const struct engine *e);

/* Analyse one frame at time now (seconds, non-decreasing). Returns the
 * number of faces found (>= 0) or a negative EMO_* code with *err set
 * (EMO_EFORMAT: the configured detector model is unusable; EMO_ECONFIG: the
 * tracker refused the seats/gallery). st and err may be NULL. */
int engine_frame(struct engine *e, const struct emo_image *gray, double now,
		 struct engine_frame_stats *st, struct emo_err *err);

/* Faces of the latest frame: *n gets their count. Valid until the next
 * engine_frame(). */
const struct engine_face *engine_faces(const struct engine *e, int *n);

/* The summary (for snapshots, totals, reset, stats) and the tracker (NULL
 * before the first frame). Owned by the engine. */
struct summary_ctx *engine_summary(struct engine *e);
const struct tracker *engine_tracker(const struct engine *e);

/* Translate config alerts into summary rules (out has room for
 * CONFIG_MAX_ALERTS); returns the count. Names point into *cfg. */
int engine_rules(const struct emo_config *cfg, struct summary_rule *out);

#endif
