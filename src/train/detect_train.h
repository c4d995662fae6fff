/* detect_train.h - emotop-train detect: what main.c, tests and benches
 * use of the face detector's trainer (src/train/detect_*.c; what those
 * files share among themselves is in detect_int.h): the network's layout,
 * the command, int8 conversion and evaluation. */
#ifndef EMOTOP_TRAIN_DETECT_TRAIN_H
#define EMOTOP_TRAIN_DETECT_TRAIN_H

#include <stdint.h>

#include "emotop/qnn.h"
#include "train/fnn.h"

/* The network: a sequential stride-8 backbone ending in a 1x1 head with
 * DT_NCH maps per cell (see detect.c for the decoding):
 *   0      centre heat logit (sigmoid)
 *   1, 2   centre offset dx, dy in cells from the cell centre
 *   3, 4   log(w / DT_SIZE_BASE), log(h / DT_SIZE_BASE): the face box in
 *          px, WIDER FACE convention (forehead to under the chin)
 *   5..14  five landmarks (x, y) relative to the centre, in units of
 *          sqrt(w h)
 * (Detectors of format 1 had 14 maps: one square side at 3, landmarks at
 * 4..13; emotop still reads them.) */
#define DT_ARCH "c16/s2,p,c32/s2,c32,c32,c32,c32,h15"
#define DT_STRIDE 8
#define DT_NCH 15
#define DT_LM0 4 /* first landmark in the regression targets (map DT_LM0 + 1) */
#define DT_SIZE_BASE 32.0f
/* Face sides (px at one pyramid level) the head is trained for. */
#define DT_LEVEL_MIN 16.0f
#define DT_LEVEL_MAX 56.0f

/* emotop-train detect train|quantize|eval ... */
int train_cmd_detect(int argc, char **argv);

/* Convert a float detector (BN folded, per-channel int8 weights,
 * activation ranges calibrated on calib[n][h*w] floats in 0..1 of size
 * h x w) into a new qnn model (free with qnn_model_free). meta is appended
 * to the model's metadata. Returns NULL with a message on stderr. Works for
 * any fnn made of c/k/w/p/h layers. */
struct qnn_model *dt_to_qnn(struct fnn *net, const float *calib, int n, const char *meta);

/* ---- evaluation (emotop-train detect eval, make bench) ---- */

#include "emotop/detect.h"
#include "emotop/image.h"

enum dt_ev_kind { DT_EV_PHOTO = 0, DT_EV_NEG = 1, DT_EV_GALLERY = 2, DT_EV_DECOY = 3, DT_EV_WIDER = 4 };

#define DT_EV_MAXGT 1024

struct dt_evimg {
	char path[1024];        /* file the image came from (or was written to) */
	int kind;               /* enum dt_ev_kind */
	struct emo_image img;   /* decoded gray (image_new) */
	int n_gt;
	struct emo_box gt[DT_EV_MAXGT];
	uint8_t ign[DT_EV_MAXGT]; /* 1: an ignore region (WIDER's invalid or tiny faces) */
};

struct dt_evset {
	struct dt_evimg *im;
	int n, n_photo, n_neg, n_gallery, n_wider;
};

/* Held-out WebFaces and WIDER photos and negatives (the trainer's split: 1
 * in 10 of each, by name) from faces_dir, plus n_gallery synthetic gallery frames
 * gw x gh with rows x cols FER2013 faces (from fer_dir, e.g. its test/
 * split; none when NULL; blurred by a Gaussian of sigma gallery_blur px when
 * > 0) on held-out negatives, and with decoys as many galleries again whose
 * tiles are blurred squares of held-out negatives, no face (DT_EV_DECOY).
 * Galleries are written as
 * PGM files into gallery_dir when it is not NULL (for the Haar script).
 * Returns 0 or -1 (message on stderr). */
int dt_evset_load(struct dt_evset *s, const char *faces_dir, const char *fer_dir, int n_gallery,
		  int gw, int gh, int rows, int cols, float gallery_blur, int decoys, const char *gallery_dir);
void dt_evset_free(struct dt_evset *s);
/* Draw one gallery frame: rows x cols FER faces (48x48 each, px[k]) on
 * background bg (any size, stretched); gt gets each face's box. */
void dt_gallery_draw(struct emo_image *out, const struct emo_image *bg, const uint8_t *const *faces,
		     int rows, int cols, struct emo_box *gt);
/* The face box of a 48x48 FER2013 face, as the detector is trained to
 * draw it (WIDER convention: taller than the 48x48 image). */
void dt_fer_box(float *cx, float *cy, float *w, float *h);
/* Is a 48x48 FER2013 image a face at all? FER2013 holds a few that are
 * not (blank or nearly black frames, a warning-sign icon): those with a
 * standard deviation under 5 grey levels or with 60 % of their pixels
 * within 3 levels of the commonest one (the test split's real faces reach
 * 52 % at most). Galleries leave them out. */
int dt_fer_face_like(const uint8_t *px);

struct dt_evres {
	float thr;              /* score threshold at the false-alarm budget */
	int n_neg, neg_fa;      /* negatives and false alarms on them at thr */
	int n_gt, n_hit;        /* annotated photo faces (>= min_face) and found */
	int n_gt_all, n_hit_all;/* all annotated faces */
	int g_gt, g_hit, g_fa;  /* galleries */
	int g_hit50;            /* gallery faces found at IoU >= 0.5 (g_hit: 0.3) */
	int d_frames, d_fa;     /* decoy galleries: frames, false alarms */
	/* photo faces by side (DT_EV_SIZES: < 20, 20-30, 30-50, 50-100,
	 * >= 100 px) and those found at thr */
	int sz_gt[5], sz_hit[5];
	/* held-out WIDER faces by size sqrt(w h) (DT_EV_WSIZES: 10-20, 20-40,
	 * >= 40 px; ignore regions and faces under 10 px left out), found at thr
	 * (IoU >= 0.5), and boxes there matching no face nor ignore region */
	int w_gt[3], w_hit[3], w_fa, w_images;
	int w_any, w_loose; /* WIDER faces: a box at IoU >= 0.5 at any score; at 0.3 at thr */
	/* recall of photo faces >= min_face at the thresholds of DT_EV_BUDGETS
	 * false alarms per negative (0.005, 0.01, 0.02, 0.05) */
	float sw_thr[4], sw_recall[4];
	/* at emotop's default threshold t5_thr (0.5): photo faces >= min_face found,
	 * false alarms on negatives, gallery faces found and false alarms,
	 * false alarms on decoys */
	float t5_thr;
	int t5_hit, t5_neg_fa, t5_g_hit, t5_g_fa, t5_d_fa;
	double ms;              /* mean detector time per image */
	int min_face;           /* the min_face it was scored with */
};

/* Run det (made with a low threshold, e.g. 0.05) over the set and score it:
 * the threshold is the lowest one with at most budget false alarms per
 * negative image; recall counts faces matched at IoU >= 0.5. Faces smaller
 * than min_face are left out of n_gt/n_hit. Returns 0 or -1. */
int dt_evaluate(struct detect *det, const struct dt_evset *s, float budget, int min_face,
		struct dt_evres *r);

/* Print r's held-out breakdown to stdout: recall by face side, at each
 * false-alarm budget, and every figure at the default threshold (decoys
 * only when the set has decoy galleries). */
void dt_evres_print_breakdown(const struct dt_evres *r);

#endif
