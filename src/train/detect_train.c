/* detect_train.c - emotop-train detect: the face detector's data
 * (WebFaces photos, landmark crops, FER2013 faces, negatives), synthetic
 * composites and galleries, augmentation (rotation, photometric, blur, noise,
 * JPEG artefacts, low light), centre-heatmap targets, focal +
 * Huber loss, online hard-negative mining, checkpoints, int8 conversion and
 * evaluation through the runtime detector (detect.c).
 *
 *   emotop-train detect train    --faces DIR [--fer DIR] [--epochs N] [--resume] ...
 *   emotop-train detect quantize --ckpt FILE --faces DIR [--out models/face.qnn]
 *   emotop-train detect eval     --faces DIR [--fer DIR] [--model FILE] ...
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "emotop/align.h"
#include "emotop/classify.h"
#include "emotop/detect.h"
#include "emotop/facenorm.h"
#include "emotop/image.h"
#include "emotop/qnn.h"
#include "train/data.h"
#include "train/detect_train.h"
#include "train/train.h"
#include "train/fnn.h"

#define DT_IN 96                  /* training crop side */
#define DT_G (DT_IN / DT_STRIDE)  /* head grid side */
#define DT_POS_MIN 13.0f          /* smaller faces: ignored */
#define DT_POS_MAX 72.0f          /* larger faces: ignored */
#define DT_HARD_CAP 4096
#define DT_VAL_N 384
#define DT_MAXF 64                /* faces per training crop */
/* verifier-data defaults: synthetic galleries, frames with a pasted face */
#define DT_V_NGAL 400
#define DT_V_NPASTE 0
/* train: photo crops, composites, galleries, negatives (--mix) */
#define DT_MIX_DEFAULT 0.5,0.18,0.12,0.2
/* share of FER2013-style tiles cut from the sharp landmark crops (dt_crop_tiles) */
#define DT_SHARP_DEFAULT 0.3
/* share of photo samples drawn from WIDER's crowd photos (dt_load_wider) */
#define DT_WIDER_DEFAULT 0.4f
/* share of the tiles of composites and galleries that are decoys, blurred
 * squares of negatives with no face (dt_decoy_tile) */
#define DT_DECOY_SHARE 0.15f
/* share of composite and gallery tiles turned far (dt_tile_angle), and of
 * gallery faces larger than their cell (close-ups cut by its edges) */
#define DT_BIGROT_SHARE 0.12f
#define DT_CLOSEUP_SHARE 0.1f
#define DT_XSTR(...) #__VA_ARGS__
#define DT_STR(...) DT_XSTR(__VA_ARGS__)

/* FER2013 framing used for pasted FER faces until measured otherwise: the
 * face box (brows to chin) of a 48x48 FER face, centre and side in px. */
#define DT_FER_CX 24.0f
#define DT_FER_CY 23.7f
#define DT_FER_W 42.9f
#define DT_FER_H 55.0f

/* ------------------------------------------------------------------ data */

struct dt_face {
	float cx, cy, w, h; /* box centre and size, WIDER convention */
	float side;         /* its geometric mean sqrt(w h): the face's scale */
	float lm[5][2];  /* left eye, right eye, nose, mouth left, mouth right */
	int lm_kind;     /* 0 none, 1 all five, 2 eyes + nose + mouth centre (in lm[3] = lm[4]) */
	int ignore;      /* an unannotated face (mined): neither positive nor negative */
};

struct dt_photo {
	char *path;
	int first, n;    /* faces[first .. first + n) */
	int ign_first, ign_n; /* ign[ign_first .. + ign_n): mined unannotated faces */
};

/* A decoded image kept in memory (px NULL: not cached or unreadable). */
struct dt_pix {
	uint8_t *px;
	int w, h;
};

struct dt_crop {
	uint8_t px[80 * 80];
	struct dt_face f;
};

struct dt_data {
	struct dt_photo *photo;
	/* photos: WebFaces [0, n_train_photo) train, [n_train_photo, n_web)
	 * held out; then WIDER [n_web, n_web + n_train_wider) train, the rest
	 * [.., n_photo) held out */
	int n_photo, n_train_photo, n_web, n_train_wider;
	float wider_share;    /* share of photo samples drawn from WIDER */
	struct dt_face *faces;
	int n_faces;
	struct dt_face *ign;  /* see dt_mine_ignore */
	int n_ign;
	char **neg;
	int n_neg, n_train_neg;
	struct dt_crop *crops;
	int n_crops;
	uint8_t *crop_fer;    /* n_crops 48x48 tiles: the crops in FER2013's framing */
	float sharp;          /* share of FER2013-style tiles drawn from crop_fer */
	struct fer_set fer;
	struct dt_pix *photo_px, *neg_px; /* decoded once (dt_preload) */
};

static uint64_t dt_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static float dt_unit(uint64_t *s)
{
	return (float)((dt_next(s) >> 40) * (1.0 / 16777216.0));
}

static float dt_range(uint64_t *s, float a, float b)
{
	return a + (b - a) * dt_unit(s);
}

static int dt_int(uint64_t *s, int n)
{
	return n > 0 ? (int)(dt_next(s) % (uint64_t)n) : 0;
}

static uint32_t dt_hash(const char *s)
{
	uint32_t h = 2166136261u;
	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The box of a face, in the pixels its centre is given in. */
static struct emo_box dt_face_box(const struct dt_face *f)
{
	return (struct emo_box){f->cx - f->w * 0.5f, f->cy - f->h * 0.5f, f->w, f->h};
}

static void dt_face_size(struct dt_face *f, float w, float h)
{
	f->w = w;
	f->h = h;
	f->side = sqrtf(w * h);
}

static void face_from_points(struct dt_face *f, const float le[2], const float re[2],
			     const float nose[2], const float ml[2], const float mr[2], int kind)
{
	float ex = (le[0] + re[0]) * 0.5f, ey = (le[1] + re[1]) * 0.5f;
	float mx = (ml[0] + mr[0]) * 0.5f, my = (ml[1] + mr[1]) * 0.5f;
	float ed = hypotf(re[0] - le[0], re[1] - le[1]), md = hypotf(mx - ex, my - ey);

	memset(f, 0, sizeof(*f)); /* not an ignore region */
	if (md > 1e-3f) {
		/* the WIDER FACE box from the five points, by the rule fitted to
		 * WIDER's annotations that ../shared/data/faces/README.md gives
		 * (forehead to under the chin): u runs down the face, p across,
		 * the nose's offset from the eye midpoint is (nu, np) in eye-mouth
		 * distances md */
		const float ux = (mx - ex) / md, uy = (my - ey) / md, qx = uy, qy = -ux;
		const float nu = ((nose[0] - ex) * ux + (nose[1] - ey) * uy) / md;
		const float np = ((nose[0] - ex) * qx + (nose[1] - ey) * qy) / md;
		const float r = fmaxf(ed, 0.3f * md) / md, s2 = ux * ux;
		const float a = 0.4655f - 0.0279f * np - 0.2338f * nu;
		const float b = -0.0140f - 0.9909f * np + 0.0129f * nu;
		f->cx = ex + md * (a * ux + b * qx);
		f->cy = ey + md * (a * uy + b * qy);
		dt_face_size(f, md * expf(0.7289f + 0.3376f * logf(r) + 0.3940f * s2 + 0.6643f * np * np + 0.0691f * nu),
			     md * expf(0.9542f + 0.1674f * logf(r) - 0.2254f * s2 + 0.5126f * np * np + 0.1167f * nu));
	} else { /* eyes and mouth at one point: a square around them */
		f->cx = ex;
		f->cy = ey;
		dt_face_size(f, fmaxf(2.2f * ed, 1.0f), fmaxf(2.8f * ed, 1.0f));
	}
	memcpy(f->lm[0], le, sizeof(float) * 2);
	memcpy(f->lm[1], re, sizeof(float) * 2);
	memcpy(f->lm[2], nose, sizeof(float) * 2);
	memcpy(f->lm[3], ml, sizeof(float) * 2);
	memcpy(f->lm[4], mr, sizeof(float) * 2);
	f->lm_kind = kind;
}

static int dt_crop_tiles(struct dt_data *d);
static void dt_free(struct dt_data *d);

/* Held out by photo: 1 in 10 by a hash of the file name. */
static int dt_held(const char *path)
{
	const char *b = strrchr(path, '/');
	return dt_hash(b ? b + 1 : path) % 10 == 7;
}

/* WIDER FACE photos (root/wider/faces.csv, optional) appended to d->photo,
 * training photos first, held-out ones (dt_held) after. Its `invalid`
 * faces and faces under DT_WIDER_MIN px (sqrt(w h)) are ignore regions:
 * neither positive nor negative. 0, or -1 with a message. */
#define DT_WIDER_MIN 6.0f
#define DT_WIDER_ZOOM 2.5f
static int dt_load_wider(struct dt_data *d, const char *root)
{
	char path[4096], ip[4096], line[1024];
	FILE *f;
	int cap = d->n_faces, pcap = d->n_photo, lineno = 0, first = d->n_photo, rc = -1;
	struct dt_photo *tmp;

	snprintf(path, sizeof(path), "%s/wider/faces.csv", root);
	if (!(f = fopen(path, "r")))
		return 0; /* no WIDER photos: WebFaces alone */
	while (fgets(line, sizeof(line), f)) {
		char name[256], *p, *end;
		float v[18];
		int nv = 0, flags[4];
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			fprintf(stderr, "emotop-train: %s:%d: line too long\n", path, lineno);
			goto out;
		}
		line[strcspn(line, "\r\n")] = 0;
		if (lineno == 1 && !strncmp(line, "image,", 6))
			continue;
		if (!(p = strchr(line, ',')) || p == line || (size_t)(p - line) >= sizeof(name))
			goto bad;
		memcpy(name, line, (size_t)(p - line));
		name[p - line] = 0;
		/* x,y,w,h,blur,occlusion,pose,invalid, then 10 points or 10 empty fields */
		while (*p == ',' && nv < 18) {
			p++;
			if (*p == ',' || !*p) {
				if (nv < 8)
					goto bad;
				v[nv++] = NAN;
				continue;
			}
			v[nv++] = strtof(p, &end);
			if (end == p || !isfinite(v[nv - 1]))
				goto bad;
			p = end;
		}
		if (*p || (nv != 8 && nv != 18) || !(v[2] > 0) || !(v[3] > 0))
			goto bad;
		for (int k = 0; k < 4; k++)
			flags[k] = (int)v[4 + k];
		if (train_grow(&d->faces, &cap, d->n_faces, sizeof(*d->faces), 4096))
			goto oom;
		if (d->n_photo == first || strcmp(name, strrchr(d->photo[d->n_photo - 1].path, '/') + 1)) {
			if (train_grow(&d->photo, &pcap, d->n_photo, sizeof(*d->photo), 4096))
				goto oom;
			snprintf(ip, sizeof(ip), "%s/wider/images/%s", root, name);
			memset(&d->photo[d->n_photo], 0, sizeof(d->photo[0]));
			if (!(d->photo[d->n_photo].path = strdup(ip)))
				goto oom;
			d->photo[d->n_photo].first = d->n_faces;
			d->n_photo++;
		}
		{
			struct dt_face *fc = &d->faces[d->n_faces++];
			int lm = nv == 18;
			for (int k = 8; lm && k < 18; k++)
				lm = isfinite(v[k]);
			if (lm)
				face_from_points(fc, &v[8], &v[10], &v[12], &v[14], &v[16], 1);
			else
				memset(fc, 0, sizeof(*fc));
			fc->cx = v[0] + v[2] * 0.5f;
			fc->cy = v[1] + v[3] * 0.5f;
			dt_face_size(fc, v[2], v[3]);
			fc->ignore = flags[3] != 0 || fc->side < DT_WIDER_MIN;
			d->photo[d->n_photo - 1].n++;
		}
		continue;
	bad:
		fprintf(stderr, "emotop-train: %s:%d: malformed row (want image,x,y,w,h,blur,occlusion,pose,"
				"invalid and 10 landmark coordinates or 10 empty fields; w, h > 0)\n",
			path, lineno);
		goto out;
	}
	if (ferror(f)) {
		fprintf(stderr, "emotop-train: %s: %s\n", path, strerror(errno));
		goto out;
	}
	/* rows of one image must be together: a photo named twice is an error */
	for (int i = first; i < d->n_photo; i++)
		for (int j = i + 1; j < d->n_photo; j++)
			if (!strcmp(d->photo[i].path, d->photo[j].path)) {
				fprintf(stderr, "emotop-train: %s: the rows of %s are not together\n", path,
					strrchr(d->photo[i].path, '/') + 1);
				goto out;
			}
	if (!(tmp = malloc(sizeof(*tmp) * (size_t)(d->n_photo - first + 1))))
		goto oom;
	{
		int k = 0;
		for (int pass = 0; pass < 2; pass++)
			for (int i = first; i < d->n_photo; i++)
				if (dt_held(d->photo[i].path) == pass)
					tmp[k++] = d->photo[i];
		for (int i = first; i < d->n_photo; i++)
			d->n_train_wider += !dt_held(d->photo[i].path);
		memcpy(d->photo + first, tmp, sizeof(*tmp) * (size_t)(d->n_photo - first));
		free(tmp);
	}
	rc = 0;
	goto out;
oom:
	fprintf(stderr, "emotop-train: out of memory\n");
out:
	fclose(f);
	return rc;
}

/* Read WebFaces (faces.csv, grouped by image; images held out by a hash of
 * the file name: 1 in 10), the crops and the negatives list. On failure d
 * is freed (dt_free) and -1 returned; on success the caller owns d. */
static int dt_load(struct dt_data *d, const char *root, const char *fer)
{
	char path[4096], ip[4096], line[1024];
	FILE *f;
	int cap = 0, pcap = 0, ncap = 0, lineno = 0, iw = -1, ih = -1, bad_crops = 0;
	DIR *dir = NULL;
	struct dirent *e;
	struct dt_photo *tmp;

	memset(d, 0, sizeof(*d));
	snprintf(path, sizeof(path), "%s/webfaces/faces.csv", root);
	if (!(f = fopen(path, "r"))) {
		fprintf(stderr, "emotop-train: %s: %s\n", path, strerror(errno));
		return -1;
	}
	/* only line 1 may be a header; every other line is a face: image name,
	 * box x,y,w,h (w, h > 0; overlapping the image, which a face cut by
	 * its border does), eyes, nose and mouth, all finite */
	while (fgets(line, sizeof(line), f)) {
		char name[256];
		float v[12];
		int used = -1, ok;
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			fprintf(stderr, "emotop-train: %s:%d: line too long\n", path, lineno);
			goto fail;
		}
		ok = sscanf(line, "%255[^,],%f,%f,%f,%f,%f,%f,%f,%f,%f,%f,%f,%f %n", name, &v[0], &v[1],
			    &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11],
			    &used) == 13 && used >= 0 && !line[used];
		if (!ok && lineno == 1)
			continue; /* header */
		for (int k = 0; ok && k < 12; k++)
			ok = isfinite(v[k]);
		if (!ok || !(v[2] > 0) || !(v[3] > 0)) {
			fprintf(stderr,
				"emotop-train: %s:%d: %s (want image,x,y,w,h and 8 landmark coordinates, "
				"finite, w and h > 0)\n",
				path, lineno, ok ? "a box without area" : "malformed row");
			goto fail;
		}
		if (train_grow(&d->faces, &cap, d->n_faces, sizeof(*d->faces), 4096))
			goto oom;
		if (!d->n_photo || strcmp(name, strrchr(d->photo[d->n_photo - 1].path, '/') + 1)) {
			if (train_grow(&d->photo, &pcap, d->n_photo, sizeof(*d->photo), 4096))
				goto oom;
			snprintf(ip, sizeof(ip), "%s/webfaces/images/%s", root, name);
			if (!(d->photo[d->n_photo].path = strdup(ip)))
				goto oom;
			d->photo[d->n_photo].first = d->n_faces;
			d->photo[d->n_photo].n = 0;
			d->photo[d->n_photo].ign_first = 0;
			d->photo[d->n_photo].ign_n = 0;
			d->n_photo++;
			/* an image that does not read is counted and left out
			 * later (dt_preload); its boxes cannot be checked */
			if (jpeg_size(ip, &iw, &ih))
				iw = ih = -1;
		}
		if (iw > 0 && (v[0] >= (float)iw || v[1] >= (float)ih || v[0] + v[2] <= 0 || v[1] + v[3] <= 0)) {
			fprintf(stderr, "emotop-train: %s:%d: the box %g,%g %gx%g lies outside the %dx%d image %s\n",
				path, lineno, (double)v[0], (double)v[1], (double)v[2], (double)v[3], iw, ih, name);
			goto fail;
		}
		{
			struct dt_face *fc = &d->faces[d->n_faces++];
			float mouth[2] = {v[10], v[11]};
			face_from_points(fc, &v[4], &v[6], &v[8], mouth, mouth, 2);
			/* keep the annotated box (same rule) */
			fc->cx = v[0] + v[2] * 0.5f;
			fc->cy = v[1] + v[3] * 0.5f;
			dt_face_size(fc, v[2], v[3]);
			d->photo[d->n_photo - 1].n++;
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "emotop-train: %s: %s\n", path, strerror(errno));
		goto fail;
	}
	fclose(f);
	f = NULL;
	/* train photos first, held-out after (1 in 10 by name hash) */
	tmp = malloc(sizeof(*tmp) * (size_t)d->n_photo);
	if (!tmp)
		goto oom;
	{
		int k = 0;
		for (int pass = 0; pass < 2; pass++)
			for (int i = 0; i < d->n_photo; i++) {
				int held = dt_hash(strrchr(d->photo[i].path, '/') + 1) % 10 == 7;
				if (held == pass)
					tmp[k++] = d->photo[i];
			}
		for (int i = 0; i < d->n_photo; i++)
			if (dt_hash(strrchr(d->photo[i].path, '/') + 1) % 10 != 7)
				d->n_train_photo++;
		free(d->photo);
		d->photo = tmp;
	}
	d->n_web = d->n_photo;
	if (dt_load_wider(d, root))
		goto fail;
	/* negatives (sorted; 1 in 10 held out for evaluation) */
	snprintf(path, sizeof(path), "%s/negatives", root);
	if (!(dir = opendir(path))) {
		fprintf(stderr, "emotop-train: %s: %s\n", path, strerror(errno));
		goto fail;
	}
	while ((e = readdir(dir))) {
		size_t n = strlen(e->d_name);
		if (n < 5 || strcasecmp(e->d_name + n - 4, ".jpg"))
			continue;
		if (train_grow(&d->neg, &ncap, d->n_neg, sizeof(*d->neg), 1024))
			goto oom;
		snprintf(path, sizeof(path), "%s/negatives/%s", root, e->d_name);
		if (!(d->neg[d->n_neg] = strdup(path)))
			goto oom;
		d->n_neg++;
	}
	closedir(dir);
	dir = NULL;
	qsort(d->neg, (size_t)d->n_neg, sizeof(char *), cmp_strp);
	{
		/* held-out negatives: every 10th, moved to the end */
		char **t = malloc(sizeof(char *) * (size_t)d->n_neg);
		int k = 0;
		if (!t)
			goto oom;
		for (int pass = 0; pass < 2; pass++)
			for (int i = 0; i < d->n_neg; i++)
				if ((i % 10 == 3) == pass)
					t[k++] = d->neg[i];
		free(d->neg);
		d->neg = t;
		d->n_train_neg = d->n_neg - (d->n_neg + 6) / 10;
	}
	/* samples are drawn from each split: none may be empty */
	if (d->n_train_photo < 1 || d->n_train_photo == d->n_web) {
		fprintf(stderr,
			"emotop-train: %s/webfaces: %d photos, %d of them held out: both the training and "
			"the held-out photos (1 in 10 by a hash of the name) must be non-empty\n",
			root, d->n_web, d->n_web - d->n_train_photo);
		goto fail;
	}
	if (d->n_train_neg < 1 || d->n_train_neg == d->n_neg) {
		fprintf(stderr,
			"emotop-train: %s/negatives: %d images: at least 4 are needed (every 10th is held "
			"out, the first of them the 4th)\n",
			root, d->n_neg);
		goto fail;
	}
	/* landmark crops */
	snprintf(path, sizeof(path), "%s/crops.csv", root);
	if ((f = fopen(path, "r"))) {
		int ccap = 0;
		while (fgets(line, sizeof(line), f)) {
			char name[256];
			float v[10];
			uint8_t *px;
			int w, h, finite = 1;
			if (sscanf(line, "%255[^,],%f,%f,%f,%f,%f,%f,%f,%f,%f,%f", name, &v[0], &v[1], &v[2],
				   &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) != 11)
				continue;
			for (int k = 0; k < 10; k++)
				finite &= isfinite(v[k]) != 0;
			snprintf(ip, sizeof(ip), "%s/crops/%s", root, name);
			if (!finite || jpeg_load_gray(ip, &px, &w, &h)) {
				bad_crops++;
				continue;
			}
			if (w != 80 || h != 80) {
				free(px);
				bad_crops++;
				continue;
			}
			if (train_grow(&d->crops, &ccap, d->n_crops, sizeof(*d->crops), 4096)) {
				free(px);
				goto oom;
			}
			memcpy(d->crops[d->n_crops].px, px, 80 * 80);
			face_from_points(&d->crops[d->n_crops].f, &v[0], &v[2], &v[4], &v[6], &v[8], 1);
			free(px);
			d->n_crops++;
		}
		fclose(f);
		f = NULL;
		if (bad_crops)
			fprintf(stderr, "emotop-train: %s: %d crops unreadable, not 80x80 or with a non-finite "
					"landmark are left out\n",
				path, bad_crops);
	}
	if (fer && fer_load(fer, NULL, &d->fer))
		goto fail;
	fprintf(stderr,
		"detect data: %d WebFaces photos (%d train, %d held out), %d WIDER photos (%d train, %d "
		"held out), %d faces, %d crops, %d FER faces, %d negatives (%d train)\n",
		d->n_web, d->n_train_photo, d->n_web - d->n_train_photo, d->n_photo - d->n_web,
		d->n_train_wider, d->n_photo - d->n_web - d->n_train_wider, d->n_faces, d->n_crops,
		d->fer.n, d->n_neg, d->n_train_neg);
	return 0;
oom:
	fprintf(stderr, "emotop-train: out of memory\n");
fail:
	if (f)
		fclose(f);
	if (dir)
		closedir(dir);
	dt_free(d);
	return -1;
}

/* Decode every photo and negative once (about 2 GB for the full set). An
 * image that does not decode is left out of training (its samples fall back
 * to a plain background) and counted: a few are reported, none decoding at
 * all (a wrong or broken --faces) is an error. 0, or -1 with a message. */
static int dt_preload(struct dt_data *d)
{
	long bytes = 0;
	int bad = 0, first_bad = -1, n = d->n_photo + d->n_neg;

	d->photo_px = calloc((size_t)d->n_photo, sizeof(struct dt_pix));
	d->neg_px = calloc((size_t)d->n_neg, sizeof(struct dt_pix));
	if ((d->n_photo && !d->photo_px) || (d->n_neg && !d->neg_px)) {
		fprintf(stderr, "emotop-train: out of memory\n");
		return -1;
	}
#pragma omp parallel for schedule(dynamic) reduction(+ : bytes, bad)
	for (int i = 0; i < n; i++) {
		struct dt_pix *p = i < d->n_photo ? &d->photo_px[i] : &d->neg_px[i - d->n_photo];
		const char *path = i < d->n_photo ? d->photo[i].path : d->neg[i - d->n_photo];
		if (jpeg_load_gray(path, &p->px, &p->w, &p->h)) {
			p->px = NULL;
			bad++;
		} else {
			bytes += (long)p->w * p->h;
		}
	}
	for (int i = 0; i < n && bad; i++)
		if (!(i < d->n_photo ? d->photo_px[i].px : d->neg_px[i - d->n_photo].px)) {
			first_bad = i;
			break;
		}
	if (bad)
		fprintf(stderr, "emotop-train: %d of %d images could not be read and are left out (the first: %s)\n",
			bad, n, first_bad < d->n_photo ? d->photo[first_bad].path : d->neg[first_bad - d->n_photo]);
	if (n && bad == n) {
		fprintf(stderr, "emotop-train: no photo or negative image could be read\n");
		return -1;
	}
	fprintf(stderr, "detect data: %.0f MB of decoded images in memory\n", (double)bytes / 1e6);
	return 0;
}

/* WebFaces leaves many background faces unannotated; trained as background
 * they teach the network to miss small faces. Run a detector (model, at
 * threshold thr, faces from 12 px) on every decoded photo and keep each
 * detection that overlaps no annotated face (IoU < 0.3) as an ignore region:
 * neither a positive nor a negative in training. Negatives still come from
 * the photos' other background and from negatives/ (every window of which
 * is face-free). 0, or -1 with a message. */
static int dt_mine_ignore(struct dt_data *d, const char *model, float thr)
{
	enum { MAXF = 256 };
	struct detect_opts o;
	struct emo_err e = {0};
	struct detect *det;
	struct emo_face *f = malloc(sizeof(*f) * MAXF);
	int cap = 0, rc = -1;
	long n_photos = 0;

	detect_opts_default(&o);
	o.model_path = strcmp(model, "embedded") ? model : NULL;
	o.threshold = thr;
	o.min_face = 12;
	if (!f || !(det = detect_new(&o, &e))) {
		fprintf(stderr, "emotop-train: %s: %s\n", model, f ? e.msg : "out of memory");
		free(f);
		return -1;
	}
	if (!strcmp(detect_kernel_path(det), "regions")) {
		fprintf(stderr, "emotop-train: %s: no detector network to mine with\n", model);
		goto out;
	}
	d->n_ign = 0;
	for (int i = 0; i < d->n_web; i++) { /* WIDER's photos have every face annotated */
		struct dt_photo *ph = &d->photo[i];
		const struct dt_pix *px = d->photo_px ? &d->photo_px[i] : NULL;
		struct emo_image img;
		int n;

		ph->ign_first = d->n_ign;
		ph->ign_n = 0;
		if (!px || !px->px)
			continue;
		img.w = px->w;
		img.h = px->h;
		img.stride = px->w;
		img.px = px->px;
		if ((n = detect_run(det, &img, f, MAXF)) < 0)
			continue;
		n_photos++;
		for (int k = 0; k < n; k++) {
			float best = 0;
			struct dt_face *g;
			for (int j = 0; j < ph->n; j++) {
				struct emo_box b = dt_face_box(&d->faces[ph->first + j]);
				best = fmaxf(best, emo_box_iou(&b, &f[k].box));
			}
			if (best >= 0.3f)
				continue;
			if (train_grow(&d->ign, &cap, d->n_ign, sizeof(*d->ign), 1024)) {
				fprintf(stderr, "emotop-train: out of memory\n");
				goto out;
			}
			g = &d->ign[d->n_ign++];
			memset(g, 0, sizeof(*g));
			g->cx = f[k].box.x + f[k].box.w / 2;
			g->cy = f[k].box.y + f[k].box.h / 2;
			dt_face_size(g, f[k].box.w, f[k].box.h);
			g->ignore = 1;
			ph->ign_n++;
		}
	}
	fprintf(stderr, "detect data: %d unannotated faces (score >= %.2f) ignored in %ld photos\n",
		d->n_ign, (double)thr, n_photos);
	rc = 0;
out:
	detect_free(det);
	free(f);
	return rc;
}

static void dt_free(struct dt_data *d)
{
	for (int i = 0; d->photo_px && i < d->n_photo; i++)
		free(d->photo_px[i].px);
	for (int i = 0; d->neg_px && i < d->n_neg; i++)
		free(d->neg_px[i].px);
	free(d->photo_px);
	free(d->neg_px);
	for (int i = 0; i < d->n_photo; i++)
		free(d->photo[i].path);
	for (int i = 0; i < d->n_neg; i++)
		free(d->neg[i]);
	free(d->photo);
	free(d->faces);
	free(d->ign);
	free(d->neg);
	free(d->crops);
	free(d->crop_fer);
	fer_free(&d->fer);
	memset(d, 0, sizeof(*d));
}

/* ------------------------------------------------------------- sampling */

struct dt_src {
	uint8_t *px;
	int w, h;
};

static float dt_bilinear(const struct dt_src *s, float x, float y)
{
	int x0, y0;
	float fx, fy;
	const uint8_t *r0, *r1;

	x -= 0.5f;
	y -= 0.5f;
	if (x < 0)
		x = 0;
	if (y < 0)
		y = 0;
	if (x > s->w - 1)
		x = (float)(s->w - 1);
	if (y > s->h - 1)
		y = (float)(s->h - 1);
	x0 = (int)x;
	y0 = (int)y;
	if (x0 > s->w - 2)
		x0 = s->w - 2 < 0 ? 0 : s->w - 2;
	if (y0 > s->h - 2)
		y0 = s->h - 2 < 0 ? 0 : s->h - 2;
	fx = x - (float)x0;
	fy = y - (float)y0;
	r0 = s->px + (size_t)y0 * s->w;
	r1 = s->h > 1 ? r0 + s->w : r0;
	if (s->w < 2)
		return (1 - fy) * r0[0] + fy * r1[0];
	return (1 - fy) * ((1 - fx) * r0[x0] + fx * r0[x0 + 1]) +
	       fy * ((1 - fx) * r1[x0] + fx * r1[x0 + 1]);
}

/* Box-filter src by an integer factor f (>= 2) into a new buffer. */
static int dt_shrink(struct dt_src *s, int f)
{
	int w = s->w / f, h = s->h / f;
	uint8_t *n;

	if (w < 2 || h < 2)
		return 0;
	if (!(n = malloc((size_t)w * h)))
		return -1;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			int acc = 0;
			for (int j = 0; j < f; j++)
				for (int i = 0; i < f; i++)
					acc += s->px[(size_t)(y * f + j) * s->w + x * f + i];
			n[(size_t)y * w + x] = (uint8_t)((acc + f * f / 2) / (f * f));
		}
	free(s->px);
	s->px = n;
	s->w = w;
	s->h = h;
	return f;
}

/* Output -> source affine: src = A (out - p) / k + c, rotation theta. */
struct dt_xf {
	float k, c, s; /* scale, cos, sin */
	float px, py;  /* output point mapped to the source point cx, cy */
	float cx, cy;
};

static void xf_out_to_src(const struct dt_xf *t, float ox, float oy, float *sx, float *sy)
{
	float u = (ox - t->px) / t->k, v = (oy - t->py) / t->k;
	*sx = t->c * u + t->s * v + t->cx;
	*sy = -t->s * u + t->c * v + t->cy;
}

static void xf_src_to_out(const struct dt_xf *t, float sx, float sy, float *ox, float *oy)
{
	float u = sx - t->cx, v = sy - t->cy;
	*ox = t->k * (t->c * u - t->s * v) + t->px;
	*oy = t->k * (t->s * u + t->c * v) + t->py;
}

/* A 48x48 tile sampled from src through t (bilinear, rounded to 8 bits). */
static void dt_tile_sample(const struct dt_src *src, const struct dt_xf *t, uint8_t out[FER_SIZE * FER_SIZE])
{
	for (int y = 0; y < FER_SIZE; y++)
		for (int x = 0; x < FER_SIZE; x++) {
			float sx, sy, v;
			xf_out_to_src(t, (float)x + 0.5f, (float)y + 0.5f, &sx, &sy);
			v = dt_bilinear(src, sx, sy);
			out[y * FER_SIZE + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5f);
		}
}

/* FER2013's training split at hand is blurred (a Gaussian of sigma about
 * 3 px at 48x48; README), its test split and real video-call tiles are not.
 * Every landmark crop (sharp, 80x80) is also cut as a 48x48 tile in
 * FER2013's framing (its face box onto DT_FER_CX/CY/SIDE, eyes level), and
 * a share d->sharp of the FER2013-style tiles of composites and galleries
 * comes from these, so that sharp faces in that framing are seen too. (What
 * removed the detector's blurred-square shortcut were the decoys,
 * dt_decoy_tile; sharp tiles alone did not.) */
static int dt_crop_tiles(struct dt_data *d)
{
	d->crop_fer = malloc((size_t)d->n_crops * FER_SIZE * FER_SIZE);
	if (!d->crop_fer)
		return -1;
	for (int i = 0; i < d->n_crops; i++) {
		const struct dt_crop *c = &d->crops[i];
		const struct dt_src src = {.px = (uint8_t *)(uintptr_t)c->px, .w = 80, .h = 80};
		float a = -atan2f(c->f.lm[1][1] - c->f.lm[0][1], c->f.lm[1][0] - c->f.lm[0][0]);
		struct dt_xf t = {.k = DT_FER_H / c->f.h, .c = cosf(a), .s = sinf(a),
				  .px = DT_FER_CX, .py = DT_FER_CY, .cx = c->f.cx, .cy = c->f.cy};
		dt_tile_sample(&src, &t, d->crop_fer + (size_t)i * FER_SIZE * FER_SIZE);
	}
	return 0;
}

/* Render src through t into the DT_IN x DT_IN float canvas (0..255). If the
 * scale shrinks a lot, box-filter the source first. */
static void dt_render(struct dt_src *src, struct dt_xf t, float *out, int x0, int y0, int w, int h)
{
	int f = t.k < 0.7f ? (int)(1.0f / t.k) : 1;

	if (f >= 2 && dt_shrink(src, f) == f) {
		t.k *= (float)f;
		t.cx /= (float)f;
		t.cy /= (float)f;
	}
	for (int y = y0; y < y0 + h; y++)
		for (int x = x0; x < x0 + w; x++) {
			float sx, sy;
			if (x < 0 || y < 0 || x >= DT_IN || y >= DT_IN)
				continue;
			xf_out_to_src(&t, (float)x + 0.5f, (float)y + 0.5f, &sx, &sy);
			out[y * DT_IN + x] = dt_bilinear(src, sx, sy);
		}
}

static void dt_face_xf(const struct dt_xf *t, const struct dt_face *in, struct dt_face *o, float sf)
{
	const float k = t->k * sf, wc = in->w * t->c, ws = in->w * t->s, hc = in->h * t->c, hs = in->h * t->s;

	*o = *in;
	xf_src_to_out(t, in->cx, in->cy, &o->cx, &o->cy);
	/* a turned face's upright box: that of the ellipse in its box */
	dt_face_size(o, k * sqrtf(wc * wc + hs * hs), k * sqrtf(ws * ws + hc * hc));
	for (int i = 0; i < 5; i++)
		xf_src_to_out(t, in->lm[i][0], in->lm[i][1], &o->lm[i][0], &o->lm[i][1]);
}

/* One sample: an augmented DT_IN x DT_IN crop (floats 0..1) and its faces. */
struct dt_sample {
	float x[DT_IN * DT_IN];
	struct dt_face f[DT_MAXF];
	int nf;
	int kind;          /* 0 photo, 1 composite, 2 gallery, 3 negative */
	uint64_t seed;     /* what made it (for hard-negative replay) */
};

/* A private copy of image i (photos, or negatives when neg), from the cache
 * when there is one. */
static int dt_load_src(const struct dt_data *d, int neg, int i, struct dt_src *s)
{
	const struct dt_pix *c = neg ? (d->neg_px ? &d->neg_px[i] : NULL)
				     : (d->photo_px ? &d->photo_px[i] : NULL);
	if (!c)
		return jpeg_load_gray(neg ? d->neg[i] : d->photo[i].path, &s->px, &s->w, &s->h);
	if (!c->px || !(s->px = malloc((size_t)c->w * c->h)))
		return -1;
	memcpy(s->px, c->px, (size_t)c->w * c->h);
	s->w = c->w;
	s->h = c->h;
	return 0;
}

static void dt_fill(float *x, float v)
{
	for (int i = 0; i < DT_IN * DT_IN; i++)
		x[i] = v;
}

/* Background from a negative image at a random scale and angle. */
static void dt_background(const struct dt_data *d, int neg_lo, int neg_n, struct dt_sample *s,
			  uint64_t *r)
{
	struct dt_src src;
	struct dt_xf t;

	if (dt_load_src(d, 1, neg_lo + dt_int(r, neg_n), &src)) {
		dt_fill(s->x, dt_range(r, 20, 230));
		return;
	}
	t.k = expf(dt_range(r, logf(0.25f), logf(1.6f)));
	{
		float a = dt_range(r, -0.2f, 0.2f);
		t.c = cosf(a);
		t.s = sinf(a);
	}
	t.px = t.py = DT_IN * 0.5f;
	t.cx = dt_range(r, 0, (float)src.w);
	t.cy = dt_range(r, 0, (float)src.h);
	dt_render(&src, t, s->x, 0, 0, DT_IN, DT_IN);
	free(src.px);
}

static const uint8_t *dt_fer_pick(const struct fer_set *fer, uint64_t *r);

/* A FER2013-style 48x48 tile: a sharp landmark crop in FER2013's framing
 * with probability d->sharp (see dt_crop_tiles), else a FER2013 face. */
static const uint8_t *dt_tile_pick(const struct dt_data *d, uint64_t *r)
{
	if (d->crop_fer && d->n_crops > 0 && (!d->fer.n || dt_unit(r) < d->sharp))
		return d->crop_fer + (size_t)dt_int(r, d->n_crops) * FER_SIZE * FER_SIZE;
	return dt_fer_pick(&d->fer, r);
}

/* A decoy tile: no face, but a square of a negative image (index from
 * [neg_lo, neg_lo+neg_n)) resampled to 48x48 and blurred by sigma px.
 * Trained with blurred FER2013 faces only, the detector had learned that
 * a blurred square in a gallery is a face: in `detect eval`'s galleries of
 * such decoys (sigma 3) it had 307 false alarms on 500 tiles, with sharp
 * squares 9. Decoys among the faces of composites and galleries take that
 * shortcut away (48 after). */
static void dt_decoy_tile(const struct dt_data *d, int neg_lo, int neg_n, uint64_t *r, float sigma,
			  uint8_t out[FER_SIZE * FER_SIZE])
{
	struct dt_src src;
	uint8_t tmp[FER_SIZE * FER_SIZE];

	if (neg_n < 1 || dt_load_src(d, 1, neg_lo + dt_int(r, neg_n), &src)) {
		memset(out, 128, FER_SIZE * FER_SIZE);
		return;
	}
	{
		const int m = src.w < src.h ? src.w : src.h;
		const float side = dt_range(r, (float)m / 6, (float)m / 1.5f);
		const float x0 = dt_range(r, 0, (float)src.w - side), y0 = dt_range(r, 0, (float)src.h - side);
		const struct dt_xf t = {.k = FER_SIZE / side, .c = 1, .s = 0, .cx = x0, .cy = y0};
		dt_tile_sample(&src, &t, out);
	}
	free(src.px);
	if (sigma > 0)
		facenorm_blur(out, FER_SIZE, FER_SIZE, sigma, tmp);
}

/* The blur of a training decoy: mostly FER2013's own (about 3 px), else
 * milder. */
static float dt_decoy_sigma(uint64_t *r)
{
	return dt_unit(r) < 0.6f ? dt_range(r, 2.0f, 4.0f) : dt_range(r, 0.0f, 2.0f);
}

/* The angle of a pasted tile: with probability p within +-a radians, else
 * with probability DT_BIGROT_SHARE a head lying sideways (0.5..1.6 rad
 * either way, like FER2013's faces of people lying down), else upright. */
static float dt_tile_angle(uint64_t *r, float p, float a)
{
	float u = dt_unit(r);

	if (u < p)
		return dt_range(r, -a, a);
	if (u < p + DT_BIGROT_SHARE)
		return (dt_unit(r) < 0.5f ? -1.0f : 1.0f) * dt_range(r, 0.5f, 1.6f);
	return 0;
}

/* Paste a face tile (a crop or a FER face) so that its face gets side fs
 * centred at (ox, oy); the whole tile is drawn, clipped to [bx0,bx1)x[by0,by1). */
static void dt_paste(const struct dt_data *d, struct dt_sample *s, float fs, float ox, float oy,
		     float angle, int use_fer, const uint8_t *decoy, uint64_t *r, const int clip[4])
{
	struct dt_src src;
	struct dt_face face;
	struct dt_xf t;
	float half;
	uint8_t buf[80 * 80];
	int x0, y0, x1, y1;

	/* no landmark crops: a FER tile instead (kind 1 and 2 need one of them) */
	if (decoy || ((use_fer || d->n_crops < 1) && (d->fer.n || (d->crop_fer && d->n_crops > 0)))) {
		src.w = src.h = FER_SIZE;
		memcpy(buf, decoy ? decoy : dt_tile_pick(d, r), FER_SIZE * FER_SIZE);
		memset(&face, 0, sizeof(face));
		face.cx = DT_FER_CX;
		face.cy = DT_FER_CY;
		dt_face_size(&face, DT_FER_W, DT_FER_H);
		face.lm_kind = 0;
	} else {
		int i = dt_int(r, d->n_crops);
		src.w = src.h = 80;
		memcpy(buf, d->crops[i].px, 80 * 80);
		face = d->crops[i].f;
	}
	src.px = malloc((size_t)src.w * src.h);
	if (!src.px)
		return;
	memcpy(src.px, buf, (size_t)src.w * src.h);
	t.k = fs / face.side;
	t.c = cosf(angle);
	t.s = sinf(angle);
	t.px = ox;
	t.py = oy;
	t.cx = face.cx;
	t.cy = face.cy;
	/* the tile's corners in output space bound the drawn area */
	half = (float)src.w * t.k * 0.75f + 2;
	x0 = (int)floorf(ox - half);
	y0 = (int)floorf(oy - half);
	x1 = (int)ceilf(ox + half);
	y1 = (int)ceilf(oy + half);
	if (x0 < clip[0])
		x0 = clip[0];
	if (y0 < clip[1])
		y0 = clip[1];
	if (x1 > clip[2])
		x1 = clip[2];
	if (y1 > clip[3])
		y1 = clip[3];
	{
		int f = t.k < 0.7f ? (int)(1.0f / t.k) : 1;
		struct dt_xf tt = t;
		if (f >= 2 && dt_shrink(&src, f) == f) {
			tt.k *= (float)f;
			tt.cx /= (float)f;
			tt.cy /= (float)f;
		}
		for (int y = y0; y < y1; y++)
			for (int x = x0; x < x1; x++) {
				float sx, sy;
				xf_out_to_src(&tt, (float)x + 0.5f, (float)y + 0.5f, &sx, &sy);
				if (sx < 0 || sy < 0 || sx >= (float)src.w || sy >= (float)src.h)
					continue;
				s->x[y * DT_IN + x] = dt_bilinear(&src, sx, sy);
			}
	}
	free(src.px);
	if (!decoy && s->nf < DT_MAXF)
		dt_face_xf(&t, &face, &s->f[s->nf++], 1.0f);
}

static void dt_flip(struct dt_sample *s)
{
	for (int y = 0; y < DT_IN; y++)
		for (int x = 0; x < DT_IN / 2; x++) {
			float t = s->x[y * DT_IN + x];
			s->x[y * DT_IN + x] = s->x[y * DT_IN + DT_IN - 1 - x];
			s->x[y * DT_IN + DT_IN - 1 - x] = t;
		}
	for (int i = 0; i < s->nf; i++) {
		struct dt_face *f = &s->f[i];
		float t[2];
		f->cx = DT_IN - f->cx;
		for (int k = 0; k < 5; k++)
			f->lm[k][0] = DT_IN - f->lm[k][0];
		memcpy(t, f->lm[0], sizeof(t));
		memcpy(f->lm[0], f->lm[1], sizeof(t));
		memcpy(f->lm[1], t, sizeof(t));
		memcpy(t, f->lm[3], sizeof(t));
		memcpy(f->lm[3], f->lm[4], sizeof(t));
		memcpy(f->lm[4], t, sizeof(t));
	}
}

/* Photometric augmentation and scaling to 0..1. */
static void dt_photometric(struct dt_sample *s, uint64_t *r)
{
	float gain = expf(dt_range(r, -0.5f, 0.4f)), bias = dt_range(r, -40, 40);
	float gamma = expf(dt_range(r, -0.4f, 0.4f)), noise = 0;
	float *x = s->x;

	if (dt_unit(r) < 0.12f) { /* low light */
		gain = dt_range(r, 0.15f, 0.45f);
		bias = dt_range(r, -10, 5);
		noise = dt_range(r, 2, 8);
	} else if (dt_unit(r) < 0.3f) {
		noise = dt_range(r, 1, 9);
	}
	if (dt_unit(r) < 0.25f) { /* blur: 3x3 box, or two passes */
		static __thread float tmp[DT_IN * DT_IN];
		int passes = 1 + (dt_unit(r) < 0.4f);
		for (int p = 0; p < passes; p++) {
			for (int y = 0; y < DT_IN; y++)
				for (int xx = 0; xx < DT_IN; xx++) {
					float acc = 0;
					for (int j = -1; j <= 1; j++)
						for (int i = -1; i <= 1; i++) {
							int yy = y + j < 0 ? 0 : y + j >= DT_IN ? DT_IN - 1 : y + j;
							int xi = xx + i < 0 ? 0 : xx + i >= DT_IN ? DT_IN - 1 : xx + i;
							acc += x[yy * DT_IN + xi];
						}
					tmp[y * DT_IN + xx] = acc / 9.0f;
				}
			memcpy(x, tmp, sizeof(tmp));
		}
	}
	for (int i = 0; i < DT_IN * DT_IN; i++) {
		float v = x[i] / 255.0f;
		v = v <= 0 ? 0 : powf(v, gamma);
		v = (v - 0.5f) * gain + 0.5f + bias / 255.0f;
		if (noise > 0) {
			float u1 = 1.0f - dt_unit(r), u2 = dt_unit(r); /* u1 in (0, 1]: log <= 0 */
			v += noise / 255.0f * sqrtf(-2 * logf(u1)) * cosf(6.2831853f * u2);
		}
		/* the engine sees 8-bit pixels: round like a real frame */
		if (!isfinite(v))
			v = 0.5f;
		v = floorf((v < 0 ? 0 : v > 1 ? 1 : v) * 255.0f + 0.5f) / 255.0f;
		x[i] = v;
	}
	if (dt_unit(r) < 0.2f) { /* JPEG artefacts of a webcam or a stream */
		uint8_t px[DT_IN * DT_IN];
		int q = 15 + dt_int(r, 61);
		for (int i = 0; i < DT_IN * DT_IN; i++)
			px[i] = (uint8_t)(x[i] * 255.0f + 0.5f);
		if (!jpeg_roundtrip_gray(px, DT_IN, DT_IN, q))
			for (int i = 0; i < DT_IN * DT_IN; i++)
				x[i] = (float)px[i] / 255.0f;
	}
}

/* Draw one sample. kind < 0 picks at random, with the shares mix (NULL:
 * DT_MIX_DEFAULT); photos from [p_lo, p_lo+p_n), negatives from
 * [n_lo, n_lo+n_n). */
static void dt_sample_make(const struct dt_data *d, struct dt_sample *s, uint64_t seed, int kind,
			   int p_lo, int p_n, int n_lo, int n_n, const float mix[4])
{
	static const float mix0[4] = {DT_MIX_DEFAULT};
	uint64_t r = seed;
	float u;

	s->nf = 0;
	u = dt_unit(&r);
	if (!mix)
		mix = mix0;
	if (kind < 0)
		kind = u < mix[0] ? 0 : u < mix[0] + mix[1] ? 1 : u < mix[0] + mix[1] + mix[2] ? 2 : 3;
	if ((kind == 1 || kind == 2) && !d->n_crops && !d->fer.n)
		kind = 3;
	s->kind = kind;
	if (kind == 0) {
		const int wider = p_lo == 0 && d->n_train_wider > 0 && dt_unit(&r) < d->wider_share;
		int pi = wider ? d->n_web + dt_int(&r, d->n_train_wider) : p_lo + dt_int(&r, p_n);
		const struct dt_photo *ph = &d->photo[pi];
		struct dt_src src;
		struct dt_xf t;
		float a = dt_unit(&r) < 0.4f ? dt_range(&r, -0.45f, 0.45f) : 0; /* tilted heads */

		if (dt_load_src(d, 0, pi, &src)) {
			dt_fill(s->x, 128);
			goto photometric;
		}
		t.c = cosf(a);
		t.s = sinf(a);
		if (ph->n && dt_unit(&r) < 0.85f) {
			const struct dt_face *f = &d->faces[ph->first + dt_int(&r, ph->n)];
			float side = expf(dt_range(&r, logf(DT_LEVEL_MIN), logf(DT_LEVEL_MAX)));
			/* a face to centre on: not an ignore region (a few tries) */
			for (int k = 0; k < 8 && f->ignore; k++)
				f = &d->faces[ph->first + dt_int(&r, ph->n)];
			t.k = side / f->side;
			/* a small WIDER face is enlarged at most as emotop enlarges
			 * frames (--min-face 10: 2x); smaller than the trained
			 * range, it is ignored there (dt_target_make) */
			if (wider && t.k > DT_WIDER_ZOOM)
				t.k = DT_WIDER_ZOOM;
			t.cx = f->cx;
			t.cy = f->cy;
			t.px = dt_range(&r, 8, DT_IN - 8);
			t.py = dt_range(&r, 8, DT_IN - 8);
		} else {
			t.k = expf(dt_range(&r, logf(0.15f), logf(1.3f)));
			t.cx = dt_range(&r, 0, (float)src.w);
			t.cy = dt_range(&r, 0, (float)src.h);
			t.px = t.py = DT_IN * 0.5f;
		}
		for (int i = 0; i < ph->n && s->nf < DT_MAXF; i++)
			dt_face_xf(&t, &d->faces[ph->first + i], &s->f[s->nf++], 1.0f);
		for (int i = 0; i < ph->ign_n && s->nf < DT_MAXF; i++)
			dt_face_xf(&t, &d->ign[ph->ign_first + i], &s->f[s->nf++], 1.0f);
		dt_render(&src, t, s->x, 0, 0, DT_IN, DT_IN);
		free(src.px);
	} else if (kind == 1) {
		int n = 1 + dt_int(&r, 5);
		const int clip[4] = {0, 0, DT_IN, DT_IN};
		dt_background(d, n_lo, n_n, s, &r);
		for (int i = 0; i < n; i++) {
			float fs = expf(dt_range(&r, logf(DT_LEVEL_MIN - 2), logf(DT_LEVEL_MAX + 4)));
			uint8_t decoy[FER_SIZE * FER_SIZE];
			const int is_decoy = dt_unit(&r) < DT_DECOY_SHARE;
			if (is_decoy)
				dt_decoy_tile(d, n_lo, n_n, &r, dt_decoy_sigma(&r), decoy);
			dt_paste(d, s, fs, dt_range(&r, 4, DT_IN - 4), dt_range(&r, 4, DT_IN - 4),
				 dt_tile_angle(&r, 0.4f, 0.5f),
				 dt_unit(&r) < 0.4f, is_decoy ? decoy : NULL, &r, clip);
		}
	} else if (kind == 2) {
		/* a video-call gallery: tiles of side T with gaps, a face each */
		float T = expf(dt_range(&r, logf(DT_LEVEL_MIN / 0.9f), logf(DT_LEVEL_MAX / 0.8f)));
		float gap = dt_range(&r, 0, 6), ox = dt_range(&r, -T, 0), oy = dt_range(&r, -T, 0);
		float bg = dt_unit(&r) < 0.5f ? dt_range(&r, 10, 60) : dt_range(&r, 60, 240);
		float aspect = dt_unit(&r) < 0.5f ? 1.0f : dt_range(&r, 1.0f, 1.5f);
		int fer = dt_unit(&r) < 0.6f;
		if (dt_unit(&r) < 0.3f)
			dt_background(d, n_lo, n_n, s, &r);
		else
			dt_fill(s->x, bg);
		for (float ty = oy; ty < DT_IN; ty += T + gap)
			for (float tx = ox; tx < DT_IN; tx += T * aspect + gap) {
				int clip[4] = {(int)tx, (int)ty, (int)(tx + T * aspect), (int)(ty + T)};
				float fs = T * (dt_unit(&r) < DT_CLOSEUP_SHARE ? dt_range(&r, 0.95f, 1.25f)
									      : dt_range(&r, 0.65f, 0.95f));
				uint8_t decoy[FER_SIZE * FER_SIZE];
				int is_decoy;
				if (clip[0] < 0)
					clip[0] = 0;
				if (clip[1] < 0)
					clip[1] = 0;
				if (clip[2] > DT_IN)
					clip[2] = DT_IN;
				if (clip[3] > DT_IN)
					clip[3] = DT_IN;
				if (dt_unit(&r) < 0.1f) /* empty seat */
					continue;
				for (int y = clip[1]; y < clip[3]; y++)
					for (int x = clip[0]; x < clip[2]; x++)
						s->x[y * DT_IN + x] = bg * 0.7f;
				if ((is_decoy = dt_unit(&r) < DT_DECOY_SHARE))
					dt_decoy_tile(d, n_lo, n_n, &r, dt_decoy_sigma(&r), decoy);
				dt_paste(d, s, fs, tx + T * aspect * 0.5f + dt_range(&r, -0.08f, 0.08f) * T,
					 ty + T * 0.5f + dt_range(&r, -0.05f, 0.1f) * T,
					 dt_tile_angle(&r, 0.35f, 0.45f),
					 fer || !d->n_crops, is_decoy ? decoy : NULL, &r, clip);
			}
	} else {
		dt_background(d, n_lo, n_n, s, &r);
	}
photometric:
	if (dt_unit(&r) < 0.5f)
		dt_flip(s);
	dt_photometric(s, &r);
}

/* ------------------------------------------------------------- targets */

struct dt_target {
	float heat[DT_G * DT_G];   /* gaussian target */
	float hw[DT_G * DT_G];     /* 0 where ignored */
	uint8_t pos[DT_G * DT_G];  /* peak cells */
	float reg[DT_G * DT_G][DT_NCH - 1];
	float rw[DT_G * DT_G];     /* regression weight */
	int8_t lmk[DT_G * DT_G];   /* landmark kind of the owning face */
	float own[DT_G * DT_G];    /* heat value of the owner */
};

static void dt_target_make(const struct dt_sample *s, struct dt_target *t)
{
	for (int i = 0; i < DT_G * DT_G; i++) {
		t->heat[i] = 0;
		t->hw[i] = 1;
		t->pos[i] = 0;
		t->rw[i] = 0;
		t->lmk[i] = 0;
		t->own[i] = 0;
	}
	/* ignore regions first: faces out of the trained size range or with
	 * their centre outside the crop */
	for (int i = 0; i < s->nf; i++) {
		const struct dt_face *f = &s->f[i];
		int inside = f->cx >= 0 && f->cy >= 0 && f->cx < DT_IN && f->cy < DT_IN;
		if (inside && f->side >= DT_POS_MIN && f->side <= DT_POS_MAX && !f->ignore)
			continue;
		for (int gy = 0; gy < DT_G; gy++)
			for (int gx = 0; gx < DT_G; gx++) {
				float ccx = gx * DT_STRIDE + DT_STRIDE * 0.5f, ccy = gy * DT_STRIDE + DT_STRIDE * 0.5f;
				float hx = f->w * 0.5f + DT_STRIDE * 0.5f, hy = f->h * 0.5f + DT_STRIDE * 0.5f;
				if (fabsf(ccx - f->cx) <= hx && fabsf(ccy - f->cy) <= hy)
					t->hw[gy * DT_G + gx] = 0;
			}
	}
	for (int i = 0; i < s->nf; i++) {
		const struct dt_face *f = &s->f[i];
		int gx0, gy0;
		float sig;
		if (!(f->cx >= 0 && f->cy >= 0 && f->cx < DT_IN && f->cy < DT_IN) || f->side < DT_POS_MIN ||
		    f->side > DT_POS_MAX || f->ignore)
			continue;
		gx0 = (int)(f->cx / DT_STRIDE);
		gy0 = (int)(f->cy / DT_STRIDE);
		sig = fmaxf(0.4f, 0.17f * f->side / DT_STRIDE);
		for (int gy = 0; gy < DT_G; gy++)
			for (int gx = 0; gx < DT_G; gx++) {
				float dx = (float)(gx - gx0), dy = (float)(gy - gy0);
				float h = expf(-(dx * dx + dy * dy) / (2 * sig * sig));
				int c = gy * DT_G + gx;
				float ccx = gx * DT_STRIDE + DT_STRIDE * 0.5f, ccy = gy * DT_STRIDE + DT_STRIDE * 0.5f;
				if (h < 0.01f)
					continue;
				if (h > t->heat[c])
					t->heat[c] = h;
				t->hw[c] = 1;
				/* regression: the peak cell and close neighbours */
				if ((gx == gx0 && gy == gy0) ||
				    (abs(gx - gx0) <= 1 && abs(gy - gy0) <= 1 && fabsf(ccx - f->cx) < f->side * 0.25f &&
				     fabsf(ccy - f->cy) < f->side * 0.25f)) {
					if (h <= t->own[c])
						continue;
					t->own[c] = h;
					t->rw[c] = gx == gx0 && gy == gy0 ? 1.0f : 0.5f;
					t->reg[c][0] = (f->cx - ccx) / DT_STRIDE;
					t->reg[c][1] = (f->cy - ccy) / DT_STRIDE;
					t->reg[c][2] = logf(f->w / DT_SIZE_BASE);
					t->reg[c][3] = logf(f->h / DT_SIZE_BASE);
					for (int k = 0; k < 5; k++) {
						t->reg[c][DT_LM0 + 2 * k] = (f->lm[k][0] - f->cx) / f->side;
						t->reg[c][DT_LM0 + 1 + 2 * k] = (f->lm[k][1] - f->cy) / f->side;
					}
					t->lmk[c] = (int8_t)f->lm_kind;
				}
			}
		t->pos[gy0 * DT_G + gx0] = 1;
		t->heat[gy0 * DT_G + gx0] = 1;
	}
}

static float dt_huber(float d, float delta, float *g)
{
	float a = fabsf(d);
	if (a <= delta) {
		*g = d / delta;
		return 0.5f * d * d / delta;
	}
	*g = d > 0 ? 1.0f : -1.0f;
	return a - 0.5f * delta;
}

struct dt_loss {
	double heat, reg, lm;
	long npos;
};

/* Focal loss on the heat logits and Huber on the regressions. Writes the
 * gradient into dz (same layout as z: [n][G][G][DT_NCH]). */
static void dt_loss(const float *z, const struct dt_target *t, int n, float *dz, struct dt_loss *L)
{
	long npos = 0;
	double rsum = 0, heat = 0, reg = 0, lm = 0;
	const float delta = 0.1f, w_lm = 1.0f;

	for (int b = 0; b < n; b++)
		for (int c = 0; c < DT_G * DT_G; c++) {
			npos += t[b].pos[c];
			rsum += t[b].rw[c];
		}
	if (npos < 1)
		npos = 1;
	if (rsum < 1)
		rsum = 1;
	for (int b = 0; b < n; b++)
		for (int c = 0; c < DT_G * DT_G; c++) {
			const float *zc = z + ((long)b * DT_G * DT_G + c) * DT_NCH;
			float *dc = dz + ((long)b * DT_G * DT_G + c) * DT_NCH;
			const struct dt_target *tt = &t[b];
			float p = 1.0f / (1.0f + expf(-zc[0])), g;
			memset(dc, 0, sizeof(float) * DT_NCH);
			if (p < 1e-4f)
				p = 1e-4f;
			if (p > 1 - 1e-4f)
				p = 1 - 1e-4f;
			if (tt->pos[c]) {
				heat += -(1 - p) * (1 - p) * logf(p);
				g = 2 * p * (1 - p) * (1 - p) * logf(p) - (1 - p) * (1 - p) * (1 - p);
				dc[0] = g / (float)npos;
			} else if (tt->hw[c] > 0) {
				float w = powf(1 - tt->heat[c], 4);
				heat += -w * p * p * logf(1 - p);
				g = -w * (2 * p * p * (1 - p) * logf(1 - p) - p * p * p);
				dc[0] = g / (float)npos;
			}
			if (tt->rw[c] > 0) {
				float w = tt->rw[c] / (float)rsum;
				for (int k = 0; k < DT_LM0; k++) {
					reg += tt->rw[c] * dt_huber(zc[1 + k] - tt->reg[c][k], delta, &g);
					dc[1 + k] = w * g;
				}
				if (tt->lmk[c] == 1) {
					for (int k = DT_LM0; k < DT_NCH - 1; k++) {
						lm += tt->rw[c] * dt_huber(zc[1 + k] - tt->reg[c][k], delta, &g);
						dc[1 + k] = w * w_lm * g;
					}
				} else if (tt->lmk[c] == 2) {
					/* eyes and nose, and the mouth centre as the mean of the corners */
					const int mo = DT_LM0 + 6; /* the left mouth corner's x */
					for (int k = DT_LM0; k < mo; k++) {
						lm += tt->rw[c] * dt_huber(zc[1 + k] - tt->reg[c][k], delta, &g);
						dc[1 + k] = w * w_lm * g;
					}
					for (int k = 0; k < 2; k++) {
						float m = 0.5f * (zc[1 + mo + k] + zc[3 + mo + k]);
						lm += tt->rw[c] * dt_huber(m - tt->reg[c][mo + k], delta, &g);
						dc[1 + mo + k] = dc[3 + mo + k] = 0.5f * w * w_lm * g;
					}
				}
			}
		}
	L->heat = heat / (double)npos;
	L->reg = reg / rsum;
	L->lm = lm / rsum;
	L->npos = npos;
}

/* Peak recall and false peaks on the head output, threshold 0.5. */
static void dt_peaks(const float *z, const struct dt_target *t, int n, long *hit, long *pos, long *fp)
{
	for (int b = 0; b < n; b++)
		for (int gy = 0; gy < DT_G; gy++)
			for (int gx = 0; gx < DT_G; gx++) {
				int c = gy * DT_G + gx, peak = 1;
				float v = z[((long)b * DT_G * DT_G + c) * DT_NCH];
				if (t[b].pos[c]) {
					int found = 0;
					(*pos)++;
					for (int j = -1; j <= 1; j++)
						for (int i = -1; i <= 1; i++) {
							int yy = gy + j, xx = gx + i;
							if (yy >= 0 && xx >= 0 && yy < DT_G && xx < DT_G &&
							    z[((long)b * DT_G * DT_G + yy * DT_G + xx) * DT_NCH] > 0)
								found = 1;
						}
					*hit += found;
				}
				if (v <= 0)
					continue;
				for (int j = -1; j <= 1; j++)
					for (int i = -1; i <= 1; i++) {
						int yy = gy + j, xx = gx + i;
						if (yy >= 0 && xx >= 0 && yy < DT_G && xx < DT_G && (i || j) &&
						    z[((long)b * DT_G * DT_G + yy * DT_G + xx) * DT_NCH] > v)
							peak = 0;
					}
				if (peak && t[b].heat[c] < 0.3f && t[b].hw[c] > 0)
					(*fp)++;
			}
}

/* ---------------------------------------------------------------- train */

struct dt_state {
	uint32_t version;
	int32_t epoch;
	int64_t step;
	uint64_t seed;
	float best;
	int32_t best_epoch;
	int32_t sched_from; /* epoch the learning-rate schedule started at */
	int64_t opt_from;   /* step the optimizer state started at (version 3;
			     * --reset-optimizer): Adam counts steps from it */
};

struct dt_args {
	const char *faces, *fer, *ckpt, *arch, *out, *model, *emo, *ignore_model, *verifier;
	const char *init;  /* train: start from this square-box (h14) checkpoint */
	float wider;       /* train: share of photo samples from WIDER (< 0: default) */
	int epochs, batch, steps, resume, restart, seed, threads, limit, galleries, pasted;
	int seed_set;      /* --seed given */
	int reset_opt;     /* --reset-optimizer: resume with a new optimizer state */
	int min_face;      /* eval: the detector's minimum face (0: 20) */
	float lr, wd, budget, ignore_thr, thr, keep0;
	float mix[4];      /* train: share of photos, composites, galleries, negatives */
	float sharp;       /* train, verifier-data: share of sharp FER-style tiles */
	int has_sharp;     /* --sharp given (else DT_SHARP_DEFAULT) */
	float gallery_blur; /* eval: Gaussian sigma for the galleries' FER2013 faces */
};

static void dt_usage(FILE *f)
{
	fprintf(f,
		"usage: emotop-train detect train --faces DIR [options]\n"
		"       emotop-train detect quantize --faces DIR --ckpt FILE [--out models/face.qnn]\n"
		"       emotop-train detect calibrate --faces DIR --ckpt IN.qnn --out OUT.qnn [--budget F]\n"
		"       emotop-train detect calibrate --faces DIR --verifier IN.qnn --out OUT.qnn\n"
		"                                     [--model FILE] [--budget F] [--threshold PRE]\n"
		"       emotop-train detect eval --faces DIR [--fer DIR] [--model FILE] [--verifier FILE|none]\n"
		"                                [--gallery-blur S] [--min-face N]\n"
		"       emotop-train detect fer-framing --faces DIR --fer DIR [--model FILE]\n"
		"       emotop-train detect align-check --faces DIR --fer DIR [--model FILE]\n"
		"                                       [--verifier FILE|none] [--emotion-model FILE] [--limit N]\n"
		"       emotop-train detect average --faces DIR [--fer DIR] --out FILE CKPT CKPT...\n"
		"       emotop-train detect verifier-data --faces DIR --fer DIR --out CSV\n"
		"                                       [--model FILE] [--threshold S (0.05)]\n"
		"                                       [--galleries N] [--pasted N] [--keep-other F]\n"
		"  --faces DIR     face data (webfaces/, crops/, crops.csv, negatives/)\n"
		"  --fer DIR       FER2013 split folder (e.g. ../shared/data/fer2013/train) for\n"
		"                  composites and galleries (train) or galleries (eval: test/)\n"
		"  --ckpt FILE     checkpoint, written every epoch (default runs/face.ckpt)\n"
		"  --resume        continue from --ckpt (its seed; its AdamW state must be in it)\n"
		"  --reset-optimizer  with --resume: start the optimizer state afresh (e.g.\n"
		"                  from a .best or averaged checkpoint, which hold none)\n"
		"  --restart       with --resume: a new warm-up and cosine schedule from the\n"
		"                  checkpoint's epoch to --epochs (e.g. after `grow`)\n"
		"  --ignore-model FILE  a detector (.qnn, or 'embedded') whose detections that\n"
		"                  match no annotation become ignore regions (unannotated faces)\n"
		"  --ignore-threshold S  its score threshold (default 0.25)\n"
		"  --epochs N      (default 30)   --steps N  steps per epoch (default 200)\n"
		"  --batch N       (default 32)   --lr X (default 0.003, AdamW) --wd X (5e-4)\n"
		"  --arch SPEC     (default " DT_ARCH ")\n"
		"  --seed N        (default 1)\n"
		"  --mix P,C,G,N   train: shares of photo crops, composites, galleries and\n"
		"                  negatives in a batch (default " DT_STR(DT_MIX_DEFAULT) ")\n"
		"  --sharp F       train, verifier-data: the share of FER2013-style tiles in\n"
		"                  composites and galleries cut from the sharp landmark crops\n"
		"                  instead of FER2013's blurred training faces (default " DT_STR(DT_SHARP_DEFAULT) ")\n"
		"  --gallery-blur S  eval: blur the galleries' FER2013 faces (Gaussian, sigma S px\n"
		"                  at 48x48; 3 is about the blur of the training split)\n"
		"  --min-face N    eval: the detector's smallest face (default 20; 10 runs on\n"
		"                  the frame upscaled 2x); recall counts faces >= N px\n"
		"  --limit N       align-check: N test faces spread over the split (default all)\n"
		"  --galleries N   verifier-data: synthetic galleries (default " DT_STR(DT_V_NGAL) ")\n"
		"  --pasted N      verifier-data: frames with one pasted FER2013 face (default " DT_STR(DT_V_NPASTE) ")\n"
		"  --keep-other F  verifier-data: the fraction of non-face candidates kept on\n"
		"                  galleries and pasted frames (default 1: all)\n");
}

/* "P,C,G,N": four shares >= 0, scaled to add up to 1. */
static int dt_parse_mix(const char *arg, float mix[4])
{
	const char *p = arg;
	double v[4], sum = 0;

	for (int i = 0; i < 4; i++) {
		char *end;
		errno = 0;
		v[i] = strtod(p, &end);
		if (end == p || errno || !(v[i] >= 0 && v[i] <= 1e6) || *end != (i < 3 ? ',' : '\0'))
			return -1;
		sum += v[i];
		p = end + 1;
	}
	if (!(sum > 0))
		return -1;
	for (int i = 0; i < 4; i++)
		mix[i] = (float)(v[i] / sum);
	return 0;
}

static int dt_parse(int argc, char **argv, struct dt_args *a)
{
	static const struct option lo[] = {
		{"faces", 1, 0, 'f'}, {"fer", 1, 0, 'F'}, {"ckpt", 1, 0, 'k'}, {"arch", 1, 0, 'a'},
		{"out", 1, 0, 'o'}, {"epochs", 1, 0, 'e'}, {"batch", 1, 0, 'b'}, {"steps", 1, 0, 's'},
		{"resume", 0, 0, 'r'}, {"restart", 0, 0, 'R'}, {"ignore-model", 1, 0, 'I'},
		{"ignore-threshold", 1, 0, 'T'}, {"seed", 1, 0, 'S'}, {"lr", 1, 0, 'l'}, {"wd", 1, 0, 'w'},
		{"model", 1, 0, 'm'}, {"budget", 1, 0, 'B'}, {"emotion-model", 1, 0, 'E'}, {"limit", 1, 0, 'L'},
		{"threshold", 1, 0, 'x'}, {"verifier", 1, 0, 'V'}, {"galleries", 1, 0, 'G'},
		{"pasted", 1, 0, 'P'}, {"keep-other", 1, 0, 'K'}, {"mix", 1, 0, 'M'}, {"sharp", 1, 0, 'H'}, {"gallery-blur", 1, 0, 'u'},
		{"min-face", 1, 0, 'n'}, {"reset-optimizer", 0, 0, 'O'}, {"init", 1, 0, 'N'},
		{"wider", 1, 0, 'W'},
		{"help", 0, 0, 'h'}, {0, 0, 0, 0}};
	int o;
	long lv;

	optind = 1;
	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (o) {
		case 'f': a->faces = optarg; break;
		case 'F': a->fer = optarg; break;
		case 'k': a->ckpt = optarg; break;
		case 'a': a->arch = optarg; break;
		case 'o': a->out = optarg; break;
		case 'm': a->model = optarg; break;
		case 'e': if (train_parse_int("--epochs", "a count", optarg, 1, 100000, &lv)) return 2; a->epochs = (int)lv; break;
		case 'b': if (train_parse_int("--batch", "a count", optarg, 1, 1024, &lv)) return 2; a->batch = (int)lv; break;
		case 's': if (train_parse_int("--steps", "a count", optarg, 1, 10000000, &lv)) return 2; a->steps = (int)lv; break;
		case 'r': a->resume = 1; break;
		case 'R': a->restart = 1; break;
		case 'O': a->reset_opt = 1; break;
		case 'N': a->init = optarg; break;
		case 'W':
			if (train_parse_range("--wider", "a share", optarg, 0, 1, &a->wider))
				return 2;
			break;
		case 'I': a->ignore_model = optarg; break;
		case 'T': if (train_parse_range("--ignore-threshold", "a score", optarg, 0, 1, &a->ignore_thr)) return 2; break;
		case 'S': if (train_parse_int("--seed", "a number", optarg, 0, 2147483647, &lv)) return 2; a->seed = (int)lv; a->seed_set = 1; break;
		case 'l': if (train_parse_range("--lr", "a learning rate", optarg, 0, 10, &a->lr)) return 2; break;
		case 'w': if (train_parse_range("--wd", "a weight decay", optarg, 0, 1, &a->wd)) return 2; break;
		case 'B': if (train_parse_range("--budget", "false alarms per negative", optarg, 0, 1, &a->budget)) return 2; break;
		case 'E': a->emo = optarg; break;
		case 'x': if (train_parse_range("--threshold", "a score", optarg, 0, 1, &a->thr)) return 2; break;
		case 'V': a->verifier = optarg; break;
		case 'L': if (train_parse_int("--limit", "a count", optarg, 1, 2147483647, &lv)) return 2; a->limit = (int)lv; break;
		case 'G': if (train_parse_int("--galleries", "a count", optarg, 0, 1000000, &lv)) return 2; a->galleries = (int)lv; break;
		case 'K':
			if (train_parse_range("--keep-other", "a share above 0", optarg, 0, 1, &a->keep0) || !(a->keep0 > 0)) {
				if (a->keep0 == 0)
					fprintf(stderr, "emotop-train: --keep-other wants a share above 0, up to 1, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'P': if (train_parse_int("--pasted", "a count", optarg, 0, 10000000, &lv)) return 2; a->pasted = (int)lv; break;
		case 'M':
			if (dt_parse_mix(optarg, a->mix)) {
				fprintf(stderr, "emotop-train: --mix wants four shares >= 0 that add up to more "
						"than 0, e.g. " DT_STR(DT_MIX_DEFAULT) "\n");
				return 2;
			}
			break;
		case 'H':
			if (train_parse_range("--sharp", "a share", optarg, 0, 1, &a->sharp))
				return 2;
			a->has_sharp = 1;
			break;
		case 'u':
			if (train_parse_range("--gallery-blur", "a sigma in px", optarg, 0, 10, &a->gallery_blur))
				return 2;
			break;
		case 'n': {
			long v;
			if (train_parse_int("--min-face", "a side in px", optarg, 10, 4096, &v))
				return 2;
			a->min_face = (int)v;
			break;
		}
		case 'h': dt_usage(stdout); return 1; /* callers: exit 0 */
		default: dt_usage(stderr); return 2;
		}
	}
	if (!a->faces || a->epochs <= 0 || (a->restart && !a->resume) || (a->reset_opt && !a->resume) ||
	    (a->ignore_model && !(a->ignore_thr > 0 && a->ignore_thr < 1)) || a->batch <= 0 || a->batch > 1024 || a->steps <= 0) {
		dt_usage(stderr);
		return 2;
	}
	return 0;
}

/* For the commands that draw training samples: the share of sharp
 * FER2013-style tiles (--sharp, else DT_SHARP_DEFAULT) and those tiles
 * (dt_crop_tiles). 0, or -1 with a message. */
static int dt_sharp_setup(struct dt_data *d, const struct dt_args *a)
{
	d->sharp = a->has_sharp ? a->sharp : DT_SHARP_DEFAULT;
	d->wider_share = a->wider >= 0 ? a->wider : DT_WIDER_DEFAULT;
	if (d->sharp > 0 && d->n_crops && !d->crop_fer && dt_crop_tiles(d)) {
		fprintf(stderr, "emotop-train: out of memory\n");
		return -1;
	}
	return 0;
}

/* Start a rectangular-box detector (head of DT_NCH maps) from a trained
 * square-box one (format 1: 14 maps, one log side at map 3, landmarks from
 * map 4) of the same backbone: every layer is copied, the head's log side
 * feeds both log w and log h, shifted by the WIDER box's mean size against
 * the old brows-to-chin square (w 2.1 and h 2.7 eye-to-mouth distances
 * against 2.2). 0, or -1 with a message. */
static int dt_init_from_square(struct fnn *net, const char *path)
{
	char arch[512];
	struct fnn *old = NULL;
	int rc = -1;

	if (fnn_load_arch(path, arch, sizeof(arch)))
		return -1;
	if (!(old = fnn_new(arch, net->in, 1)) || fnn_load(old, path, NULL, 0, NULL))
		goto out;
	if (old->n_layers != net->n_layers) {
		fprintf(stderr, "emotop-train: %s: --init needs the same backbone (%s)\n", path, arch);
		goto out;
	}
	for (int i = 0; i < net->n_layers; i++) {
		struct fnn_layer *d = &net->layers[i];
		const struct fnn_layer *s = &old->layers[i];
		const int last = i == net->n_layers - 1;
		if (d->type != s->type || d->in.c != s->in.c ||
		    (d->type == FNN_CONV && (d->kh != s->kh || d->kw != s->kw || (!last && d->cout != s->cout))) ||
		    (last && (s->cout != DT_NCH - 1 || d->cout != DT_NCH))) {
			fprintf(stderr, "emotop-train: %s: --init needs the same backbone and a %d-map head\n",
				path, DT_NCH - 1);
			goto out;
		}
		if (d->type == FNN_CONV) {
			const long per = (long)d->kh * d->kw * d->in.c;
			for (int o = 0; o < d->cout; o++) {
				/* new map o from old map so; 3 and 4 both from 3 */
				const int so = !last || o <= 3 ? o : o - 1;
				memcpy(d->w + o * per, s->w + so * per, sizeof(float) * (size_t)per);
				if (d->b && s->b)
					d->b[o] = s->b[so];
			}
			if (last) {
				d->b[3] += logf(2.1f / 2.2f);
				d->b[4] += logf(2.7f / 2.2f);
			}
		} else if (d->type == FNN_BN) {
			const size_t c = sizeof(float) * (size_t)d->in.c;
			memcpy(d->gamma, s->gamma, c);
			memcpy(d->beta, s->beta, c);
			memcpy(d->rmean, s->rmean, c);
			memcpy(d->rvar, s->rvar, c);
		}
	}
	fprintf(stderr, "emotop-train: started from %s (%s)\n", path, arch);
	rc = 0;
out:
	fnn_free(old);
	return rc;
}

static int dt_train(int argc, char **argv)
{
	struct dt_args a = {.ckpt = "runs/face.ckpt", .arch = DT_ARCH, .epochs = 30, .batch = 32,
			    .steps = 200, .seed = 1, .lr = 0.003f, .wd = 5e-4f, .ignore_thr = 0.25f,
			    .mix = {DT_MIX_DEFAULT}, .wider = -1};
	struct dt_data d;
	struct fnn *net = NULL;
	struct dt_state st = {.version = 3};
	struct dt_sample *smp = NULL;
	struct dt_target *tg = NULL, *vtg = NULL;
	float *x = NULL, *dz = NULL, *vx = NULL;
	uint64_t *hard = NULL;
	int n_hard = 0, hard_pos = 0, rc;
	char logpath[4096], best[4096];
	FILE *log = NULL;
	double t0;

	if ((rc = dt_parse(argc, argv, &a)))
		return rc == 1 ? 0 : rc;
	if (dt_load(&d, a.faces, a.fer))
		return 1;
	if (dt_sharp_setup(&d, &a)) {
		dt_free(&d);
		return 1;
	}
	rc = 1;
	if (dt_preload(&d) || (a.ignore_model && dt_mine_ignore(&d, a.ignore_model, a.ignore_thr)))
		goto out;
	if (train_mkdir_parent(a.ckpt))
		goto out;
	snprintf(logpath, sizeof(logpath), "%s.log", a.ckpt);
	snprintf(best, sizeof(best), "%s.best", a.ckpt);
	log = fopen(logpath, "a");
	net = fnn_new(a.arch, (struct fnn_shape){DT_IN, DT_IN, 1}, (uint64_t)a.seed);
	if (!net || net->n_out != DT_G * DT_G * DT_NCH) {
		fprintf(stderr, "emotop-train: the detector must be stride %d with %d head maps\n",
			DT_STRIDE, DT_NCH);
		goto out;
	}
	/* heat prior 0.01 (focal-loss init) */
	net->layers[net->n_layers - 1].b[0] = -4.6f;
	st.seed = (uint64_t)a.seed;
	if (a.init && !a.resume && dt_init_from_square(net, a.init))
		goto out;
	if (a.resume) {
		/* version 1 states lack sched_from: it stays 0 (a schedule from
		 * epoch 0) */
		uint32_t len = 0;
		if (fnn_load_extra(a.ckpt, &st, sizeof(st), &len) || fnn_load(net, a.ckpt, NULL, 0, NULL))
			goto out;
		st.version = 3;
		if (len < offsetof(struct dt_state, sched_from) || st.epoch < 0 || st.sched_from < 0 ||
		    st.sched_from > st.epoch || st.opt_from < 0 || st.opt_from > st.step) {
			fprintf(stderr, "emotop-train: %s: not a detector training checkpoint\n", a.ckpt);
			goto out;
		}
		if (train_resume_seed(a.ckpt, st.seed, a.seed_set, a.seed)) {
			rc = 2;
			goto out;
		}
		if (a.reset_opt) {
			fnn_reset_opt(net);
			st.opt_from = st.step;
		} else if (fnn_resume_check(net, a.ckpt, FNN_ADAMW, "--reset-optimizer")) {
			rc = 2;
			goto out;
		}
		if (a.restart) {
			st.sched_from = st.epoch;
			st.best = 0;
			st.best_epoch = 0;
		}
		train_log(log, "resumed %s at epoch %d%s (schedule from epoch %d)\n", a.ckpt, st.epoch,
			  a.restart ? ", restarting the learning-rate schedule" : "", st.sched_from);
	}
	smp = malloc(sizeof(*smp) * (size_t)(a.batch > DT_VAL_N ? a.batch : DT_VAL_N));
	tg = malloc(sizeof(*tg) * (size_t)a.batch);
	vtg = malloc(sizeof(*vtg) * DT_VAL_N);
	x = malloc(sizeof(float) * (size_t)a.batch * DT_IN * DT_IN);
	vx = malloc(sizeof(float) * (size_t)DT_VAL_N * DT_IN * DT_IN);
	dz = malloc(sizeof(float) * (size_t)(a.batch > 64 ? a.batch : 64) * net->n_out);
	hard = calloc(DT_HARD_CAP, sizeof(uint64_t));
	if (!smp || !tg || !vtg || !x || !vx || !dz || !hard || fnn_reserve(net, a.batch)) {
		fprintf(stderr, "emotop-train: out of memory\n");
		goto out;
	}
	/* fixed validation crops from held-out photos and negatives */
#pragma omp parallel for schedule(dynamic)
	for (int i = 0; i < DT_VAL_N; i++) {
		dt_sample_make(&d, &smp[i], 0xabcdef12345ULL + (uint64_t)i * 7777, i % 4 == 3 ? 3 : i % 4 == 2 ? 2 : 0,
			       d.n_train_photo, d.n_web - d.n_train_photo, d.n_train_neg,
			       d.n_neg - d.n_train_neg, NULL);
		memcpy(vx + (size_t)i * DT_IN * DT_IN, smp[i].x, sizeof(smp[i].x));
		dt_target_make(&smp[i], &vtg[i]);
	}
	train_log(log, "detect: arch %s, %ld params, %.1f M MAC per %dx%d crop (%.0f M at 640x480); "
		    "batch %d, %d steps/epoch, %d epochs, AdamW lr %g wd %g\n",
	       a.arch, fnn_param_count(net), fnn_macs(net) / 1e6, DT_IN, DT_IN,
	       fnn_macs(net) * 640 * 480 / (DT_IN * DT_IN) / 1e6, a.batch, a.steps, a.epochs, a.lr, a.wd);
	t0 = train_now();
	for (int ep = st.epoch; ep < a.epochs; ep++) {
		double te = train_now(), lh = 0, lr_ = 0, ll = 0, score;
		long hit = 0, pos = 0, fp = 0;
		struct dt_loss L;

		for (int b = 0; b < a.steps; b++) {
			int len = a.epochs - st.sched_from;
			double prog = (double)((ep - st.sched_from) * a.steps + b) / ((double)len * a.steps);
			double wu = 0.5 / len;
			float lr = prog < wu ? a.lr * (float)(prog / wu)
					     : a.lr * 0.5f * (1.0f + cosf((float)(M_PI * (prog - wu) / (1 - wu))));
			const float *z;
			uint64_t base = st.seed * 0x9e3779b97f4a7c15ULL + (uint64_t)st.step * 1000003ULL;

#pragma omp parallel for schedule(dynamic)
			for (int j = 0; j < a.batch; j++) {
				uint64_t sd = base + (uint64_t)j * 0x632be59bd9b4e019ULL;
				int kind = -1;
				/* online hard-negative mining: replay negatives that fired */
				if (n_hard && j % 8 == 7) {
					sd = hard[(sd >> 7) % (uint64_t)n_hard];
					kind = 3;
				}
				dt_sample_make(&d, &smp[j], sd, kind, 0, d.n_train_photo, 0, d.n_train_neg, a.mix);
				smp[j].kind = kind == 3 ? 3 : smp[j].kind;
				memcpy(x + (size_t)j * DT_IN * DT_IN, smp[j].x, sizeof(smp[j].x));
				dt_target_make(&smp[j], &tg[j]);
				smp[j].seed = sd;
			}
			z = fnn_forward(net, x, a.batch, 1);
			dt_loss(z, tg, a.batch, dz, &L);
			for (int j = 0; j < a.batch; j++) {
				float mx = -1e9f;
				if (smp[j].kind != 3)
					continue;
				for (int c = 0; c < DT_G * DT_G; c++)
					mx = fmaxf(mx, z[((long)j * DT_G * DT_G + c) * DT_NCH]);
				if (mx > -1.4f) { /* p > 0.2 */
					hard[hard_pos] = smp[j].seed;
					hard_pos = (hard_pos + 1) % DT_HARD_CAP;
					if (n_hard < DT_HARD_CAP)
						n_hard++;
				}
			}
			fnn_zero_grad(net);
			fnn_backward(net, x, dz, a.batch);
			st.step++;
			fnn_step(net, FNN_ADAMW, lr, 0.9f, a.wd, st.step - st.opt_from);
			lh += L.heat;
			lr_ += L.reg;
			ll += L.lm;
			if (!isfinite(L.heat) || !isfinite(L.reg)) {
				train_log(log, "loss is not finite at epoch %d step %d: stopping\n", ep + 1, b);
				goto out;
			}
			if ((b + 1) % 10 == 0 || b + 1 == a.steps) {
				double el = train_now() - te;
				fprintf(stderr, "\repoch %d/%d %4d/%d heat %.4f reg %.4f lm %.4f lr %.5f hard %d %.1f img/s ",
					ep + 1, a.epochs, b + 1, a.steps, lh / (b + 1), lr_ / (b + 1), ll / (b + 1),
					lr, n_hard, (b + 1) * a.batch / el);
			}
		}
		fprintf(stderr, "\n");
		/* validation */
		{
			double vh = 0, vr = 0, vl = 0;
			int nb = 0;
			for (int i = 0; i < DT_VAL_N; i += a.batch) {
				int n = DT_VAL_N - i < a.batch ? DT_VAL_N - i : a.batch;
				const float *z = fnn_forward(net, vx + (size_t)i * DT_IN * DT_IN, n, 0);
				dt_loss(z, vtg + i, n, dz, &L);
				dt_peaks(z, vtg + i, n, &hit, &pos, &fp);
				vh += L.heat;
				vr += L.reg;
				vl += L.lm;
				nb++;
			}
			score = (double)hit / (pos ? pos : 1) - 0.002 * (double)fp;
			st.epoch = ep + 1;
			if (score > st.best) {
				st.best = (float)score;
				st.best_epoch = ep + 1;
				if (fnn_save(net, best, &st, sizeof(st), 0))
					goto out;
			}
			if (fnn_save(net, a.ckpt, &st, sizeof(st), 1))
				goto out;
			train_log(log,
			       "epoch %d/%d train heat %.4f reg %.4f lm %.4f | val heat %.4f reg %.4f lm %.4f "
			       "peak recall %.4f (%ld/%ld) false peaks %ld | %.0f s/epoch, %.0f s\n",
			       ep + 1, a.epochs, lh / a.steps, lr_ / a.steps, ll / a.steps, vh / nb, vr / nb,
			       vl / nb, (double)hit / (pos ? pos : 1), hit, pos, fp, train_now() - te, train_now() - t0);
		}
	}
	rc = 0;
out:
	if (log)
		fclose(log);
	free(smp);
	free(tg);
	free(vtg);
	free(x);
	free(vx);
	free(dz);
	free(hard);
	fnn_free(net);
	dt_free(&d);
	return rc;
}

/* ------------------------------------------------------------ quantize */

/* Value below which a fraction q of v[0..n) lies (v >= 0 mostly: ReLU). */
static float dt_percentile(const float *v, long n, double q)
{
	enum { NB = 4096 };
	static long hist[NB];
	float mx = 0;
	long acc = 0, want;

	for (long i = 0; i < n; i++)
		mx = fmaxf(mx, v[i]);
	if (!(mx > 0))
		return 1e-3f;
	memset(hist, 0, sizeof(hist));
	for (long i = 0; i < n; i++) {
		int b = (int)(v[i] / mx * (NB - 1));
		hist[b < 0 ? 0 : b]++;
	}
	want = (long)ceil(q * (double)n);
	for (int b = 0; b < NB; b++) {
		acc += hist[b];
		if (acc >= want)
			return mx * (float)(b + 1) / NB;
	}
	return mx;
}

struct qnn_model *dt_to_qnn(struct fnn *net, const float *calib, int n, const char *meta)
{
	struct qnn_model *m = calloc(1, sizeof(*m));
	float *range = calloc((size_t)net->n_layers, sizeof(float));
	int t = 0; /* current tensor */

	if (!m || !range)
		goto fail;
	m->tensors[0] = (struct qnn_tensor){.scale = 1.0f / 255.0f, .zero_point = 0, .c = net->in.c};
	/* activation ranges: 99.999th percentile of each ReLU output */
	for (int i = 0; i < net->n_layers; i++)
		range[i] = 0;
	{
		int B = 32;
		for (int i0 = 0; i0 < n; i0 += B) {
			int nb = n - i0 < B ? n - i0 : B;
			fnn_forward(net, calib + (size_t)i0 * net->in.h * net->in.w * net->in.c, nb, 0);
			for (int i = 0; i < net->n_layers; i++) {
				const struct fnn_layer *l = &net->layers[i];
				long sz = (long)l->out.h * l->out.w * l->out.c * nb;
				if (l->type == FNN_RELU)
					range[i] = fmaxf(range[i], dt_percentile(l->y, sz, 0.99999));
			}
		}
	}
	for (int i = 0; i < net->n_layers; i++) {
		struct fnn_layer *l = &net->layers[i];
		struct qnn_layer *q;
		if (m->n_layers >= QNN_MAX_LAYERS - 1 || t >= QNN_MAX_TENSORS - 2)
			goto fail;
		if (l->type == FNN_MAXPOOL) {
			q = &m->layers[m->n_layers++];
			q->type = QNN_MAXPOOL;
			q->in = t;
			q->in2 = -1;
			q->out = t + 1;
			q->kh = q->kw = q->stride = l->k;
			q->cin = q->cout = l->in.c;
			m->tensors[t + 1] = m->tensors[t];
			t++;
			continue;
		}
		if (l->type == FNN_DROPOUT)
			continue;
		if (l->type != FNN_CONV) {
			fprintf(stderr, "emotop-train: layer %d: only conv, BN, ReLU and maxpool convert\n", i);
			goto fail;
		}
		{
			const struct fnn_layer *bn = i + 1 < net->n_layers && net->layers[i + 1].type == FNN_BN
							     ? &net->layers[i + 1] : NULL;
			int relu = bn && i + 2 < net->n_layers && net->layers[i + 2].type == FNN_RELU;
			int K = l->kh * l->kw * l->in.c, C = l->cout;
			float s_in = m->tensors[t].scale, s_out;
			q = &m->layers[m->n_layers++];
			q->type = QNN_CONV;
			q->in = t;
			q->in2 = -1;
			q->out = t + 1;
			q->kh = l->kh;
			q->kw = l->kw;
			q->stride = l->stride;
			q->pad = l->pad;
			q->groups = 1;
			q->relu = relu;
			q->float_out = !relu;
			q->cin = l->in.c;
			q->cout = C;
			q->w = malloc((size_t)C * K);
			q->bias = malloc(sizeof(int32_t) * (size_t)C);
			q->mult = malloc(sizeof(int32_t) * (size_t)C);
			q->shift = malloc(sizeof(int32_t) * (size_t)C);
			q->w_scale = malloc(sizeof(float) * (size_t)C);
			if (!q->w || !q->bias || !q->mult || !q->shift || !q->w_scale)
				goto fail;
			if (relu) {
				s_out = range[i + 2] / 255.0f;
				if (!(s_out > 0))
					s_out = 1e-4f;
			} else {
				s_out = 1.0f;
			}
			m->tensors[t + 1] = (struct qnn_tensor){.scale = s_out, .zero_point = 0, .c = C};
			for (int c = 0; c < C; c++) {
				float g = 1, b = l->has_bias ? l->b[c] : 0, mx = 0;
				const float *w = l->w + (size_t)c * K;
				if (bn) {
					float inv = 1.0f / sqrtf(bn->rvar[c] + 1e-5f);
					g = bn->gamma[c] * inv;
					b = bn->beta[c] + (b - bn->rmean[c]) * g;
				}
				for (int k = 0; k < K; k++)
					mx = fmaxf(mx, fabsf(w[k] * g));
				q->w_scale[c] = mx > 0 ? mx / 127.0f : 1e-8f;
				for (int k = 0; k < K; k++) {
					long v = lroundf(w[k] * g / q->w_scale[c]);
					q->w[(size_t)c * K + k] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
				}
				{
					double bq = (double)b / ((double)s_in * q->w_scale[c]);
					if (bq > 1e9)
						bq = 1e9;
					if (bq < -1e9)
						bq = -1e9;
					q->bias[c] = (int32_t)llround(bq);
				}
				if (relu)
					qnn_quantize_multiplier((double)s_in * q->w_scale[c] / s_out, &q->mult[c],
								&q->shift[c]);
				else
					q->mult[c] = q->shift[c] = 0;
			}
			t++;
			i += bn ? (relu ? 2 : 1) : 0;
		}
	}
	m->n_tensors = t + 1;
	snprintf(m->meta, sizeof(m->meta), "%s", meta ? meta : "");
	{
		struct emo_err e = {0};
		if (qnn_model_validate(m, &e)) {
			fprintf(stderr, "emotop-train: converted model invalid: %s\n", e.msg);
			goto fail;
		}
	}
	free(range);
	return m;
fail:
	fprintf(stderr, "emotop-train: cannot convert the network to int8\n");
	free(range);
	qnn_model_free(m);
	return NULL;
}

/* The decoding constants detect.c reads from the model. */
static void dt_meta(char *buf, size_t len, const char *arch)
{
	snprintf(buf, len,
		 "task=face-detect\nname=emotop face detector\narch=%s\ninput=gray\nstride=%d\n"
		 "heads=%d\nsize_base=%g\nlevel_min=%g\nlevel_max=%g\n"
		 "landmarks=left_eye,right_eye,nose,mouth_left,mouth_right\n",
		 arch, DT_STRIDE, DT_NCH, (double)DT_SIZE_BASE, 20.0, 48.0);
}

static int dt_quantize(int argc, char **argv)
{
	struct dt_args a = {.ckpt = "runs/face.ckpt.best", .out = "models/face.qnn", .epochs = 1,
			    .batch = 1, .steps = 1, .seed = 1};
	struct dt_data d;
	struct fnn *net = NULL;
	struct qnn_model *m = NULL;
	struct dt_sample *s = NULL;
	float *calib = NULL;
	char arch[512], meta[1024];
	struct dt_state st = {0};
	uint32_t st_len = 0;
	struct emo_err e = {0};
	const int N = 256;
	int rc;

	if ((rc = dt_parse(argc, argv, &a)))
		return rc == 1 ? 0 : rc;
	if (fnn_load_arch(a.ckpt, arch, sizeof(arch)))
		return 1;
	if (dt_load(&d, a.faces, a.fer))
		return 1;
	rc = 1;
	net = fnn_new(arch, (struct fnn_shape){DT_IN, DT_IN, 1}, 1);
	s = malloc(sizeof(*s) * (size_t)N);
	calib = malloc(sizeof(float) * (size_t)N * DT_IN * DT_IN);
	if (!net || !s || !calib || dt_sharp_setup(&d, &a) || fnn_load_extra(a.ckpt, &st, sizeof(st), &st_len) ||
	    fnn_load(net, a.ckpt, NULL, 0, NULL))
		goto out;
#pragma omp parallel for schedule(dynamic)
	for (int i = 0; i < N; i++) {
		dt_sample_make(&d, &s[i], 0x5eed0000ULL + (uint64_t)i, -1, 0, d.n_train_photo, 0,
			       d.n_train_neg, NULL);
		memcpy(calib + (size_t)i * DT_IN * DT_IN, s[i].x, sizeof(s[i].x));
	}
	dt_meta(meta, sizeof(meta), arch);
	if (!(m = dt_to_qnn(net, calib, N, meta)))
		goto out;
	if (qnn_model_save(m, a.out, &e)) {
		fprintf(stderr, "emotop-train: %s: %s\n", a.out, e.msg);
		goto out;
	}
	fprintf(stderr, "wrote %s from %s (epoch %d)\n", a.out, a.ckpt, st.epoch);
	rc = 0;
out:
	qnn_model_free(m);
	fnn_free(net);
	free(s);
	free(calib);
	dt_free(&d);
	return rc;
}

/* ----------------------------------------------------------- evaluation */

void dt_fer_box(float *cx, float *cy, float *w, float *h)
{
	*cx = DT_FER_CX;
	*cy = DT_FER_CY;
	*w = DT_FER_W;
	*h = DT_FER_H;
}

/* The face box of a FER2013 face drawn as a T x T tile with its top-left
 * corner at (x0, y0) (before any rotation about the tile's centre). */
static struct emo_box dt_fer_tile_box(float x0, float y0, float T)
{
	struct emo_box b;

	b.w = DT_FER_W / FER_SIZE * T;
	b.h = DT_FER_H / FER_SIZE * T;
	b.x = x0 + (DT_FER_CX - 0.5f * DT_FER_W) / FER_SIZE * T;
	b.y = y0 + (DT_FER_CY - 0.5f * DT_FER_H) / FER_SIZE * T;
	return b;
}

void dt_gallery_draw(struct emo_image *out, const struct emo_image *bg, const uint8_t *const *faces,
		     int rows, int cols, struct emo_box *gt)
{
	float cw = (float)out->w / (float)cols, ch = (float)out->h / (float)rows;
	float T = fminf(cw, ch) * 0.8f;

	if (bg && bg->w > 0)
		image_resize(bg, out);
	else
		memset(out->px, 40, (size_t)out->stride * out->h);
	for (int r = 0; r < rows; r++)
		for (int c = 0; c < cols; c++) {
			int k = r * cols + c;
			float x0 = c * cw + (cw - T) * 0.5f, y0 = r * ch + (ch - T) * 0.5f;
			struct emo_image tile = {FER_SIZE, FER_SIZE, FER_SIZE, (uint8_t *)(uintptr_t)faces[k]};
			int ix0 = (int)x0, iy0 = (int)y0, it = (int)T;
			struct emo_image dst = {it, it, out->stride, out->px + (size_t)iy0 * out->stride + ix0};
			/* a darker cell behind the tile, like a call window */
			for (int y = (int)(r * ch) + 2; y < (int)((r + 1) * ch) - 2; y++)
				for (int x = (int)(c * cw) + 2; x < (int)((c + 1) * cw) - 2; x++)
					out->px[(size_t)y * out->stride + x] = (uint8_t)(out->px[(size_t)y * out->stride + x] / 3);
			image_resize(&tile, &dst);
			gt[k].w = DT_FER_W * (float)it / FER_SIZE;
			gt[k].h = DT_FER_H * (float)it / FER_SIZE;
			gt[k].x = (float)ix0 + DT_FER_CX * (float)it / FER_SIZE - gt[k].w * 0.5f;
			gt[k].y = (float)iy0 + DT_FER_CY * (float)it / FER_SIZE - gt[k].h * 0.5f;
		}
}

/* A random FER2013 face that is not blank: the splits hold a few uniform
 * images (11 in train, 2 in test with a standard deviation below 5 grey
 * levels) with no face to find; galleries and verifier-data's pasted
 * faces skip them. */
static const uint8_t *dt_fer_pick(const struct fer_set *fer, uint64_t *r)
{
	const uint8_t *px = fer->px;

	for (int tries = 0; tries < 16; tries++) {
		double sum = 0, sum2 = 0;
		px = fer->px + (size_t)dt_int(r, fer->n) * FER_SIZE * FER_SIZE;
		for (int i = 0; i < FER_SIZE * FER_SIZE; i++) {
			sum += px[i];
			sum2 += (double)px[i] * px[i];
		}
		sum /= FER_SIZE * FER_SIZE;
		if (sum2 / (FER_SIZE * FER_SIZE) - sum * sum >= 25.0)
			break;
	}
	return px;
}

static int dt_ev_push(struct dt_evset *s, int *cap)
{
	if (train_grow(&s->im, cap, s->n, sizeof(*s->im), 1024))
		return -1;
	memset(&s->im[s->n], 0, sizeof(s->im[s->n]));
	return 0;
}

static int dt_ev_jpeg(struct dt_evimg *e, const char *path)
{
	uint8_t *px;
	int w, h;

	snprintf(e->path, sizeof(e->path), "%s", path);
	if (jpeg_load_gray(path, &px, &w, &h))
		return -1;
	e->img.w = w;
	e->img.h = h;
	e->img.stride = w;
	e->img.px = px;
	return 0;
}

int dt_evset_load(struct dt_evset *s, const char *faces_dir, const char *fer_dir, int n_gallery,
		  int gw, int gh, int rows, int cols, float gallery_blur, int decoys, const char *gallery_dir)
{
	struct dt_data d;
	struct fer_set fer = {0};
	int cap = 0, rc = -1;

	memset(s, 0, sizeof(*s));
	if (dt_load(&d, faces_dir, NULL))
		return -1;
	if (n_gallery > 0 && fer_dir && fer_load(fer_dir, NULL, &fer))
		goto out;
	for (int i = 0; gallery_blur > 0 && i < fer.n; i++) {
		uint8_t tmp[FER_SIZE * FER_SIZE];
		facenorm_blur(fer.px + (size_t)i * FER_SIZE * FER_SIZE, FER_SIZE, FER_SIZE, gallery_blur, tmp);
	}
	for (int i = d.n_train_photo; i < d.n_photo; i++) {
		struct dt_evimg *e;
		const int wider = i >= d.n_web;
		if (i >= d.n_web && i < d.n_web + d.n_train_wider)
			continue; /* WIDER's training photos */
		if (dt_ev_push(s, &cap))
			goto out;
		e = &s->im[s->n];
		if (dt_ev_jpeg(e, d.photo[i].path))
			continue;
		e->kind = wider ? DT_EV_WIDER : DT_EV_PHOTO;
		for (int k = 0; k < d.photo[i].n && k < DT_EV_MAXGT; k++) {
			e->ign[e->n_gt] = (uint8_t)d.faces[d.photo[i].first + k].ignore;
			e->gt[e->n_gt++] = dt_face_box(&d.faces[d.photo[i].first + k]);
		}
		s->n++;
		if (wider)
			s->n_wider++;
		else
			s->n_photo++;
	}
	for (int i = d.n_train_neg; i < d.n_neg; i++) {
		if (dt_ev_push(s, &cap))
			goto out;
		if (dt_ev_jpeg(&s->im[s->n], d.neg[i]))
			continue;
		s->im[s->n].kind = DT_EV_NEG;
		s->n++;
		s->n_neg++;
	}
	for (int g = 0; fer.n && g < (decoys ? 2 : 1) * n_gallery && rows * cols <= 64; g++) {
		struct dt_evimg *e;
		const uint8_t *faces[64];
		static uint8_t decoy[64][FER_SIZE * FER_SIZE];
		struct emo_image bg = {0};
		const int is_decoy = g >= n_gallery;
		uint64_t r = (is_decoy ? 0xdec0ULL : 0x6a11e7ULL) + (uint64_t)g;
		int w, h;
		if (dt_ev_push(s, &cap))
			goto out;
		e = &s->im[s->n];
		if (image_new(&e->img, gw, gh))
			goto out;
		for (int k = 0; k < rows * cols; k++) {
			if (is_decoy) { /* blurred like FER2013's training faces, no face */
				dt_decoy_tile(&d, d.n_train_neg, d.n_neg - d.n_train_neg, &r, 3.0f, decoy[k]);
				faces[k] = decoy[k];
			} else {
				faces[k] = dt_fer_pick(&fer, &r);
			}
		}
		if (!jpeg_load_gray(d.neg[d.n_train_neg + dt_int(&r, d.n_neg - d.n_train_neg)], &bg.px, &w, &h)) {
			bg.w = bg.stride = w;
			bg.h = h;
		}
		dt_gallery_draw(&e->img, bg.px ? &bg : NULL, faces, rows, cols, e->gt);
		free(bg.px);
		e->n_gt = is_decoy ? 0 : rows * cols;
		e->kind = is_decoy ? DT_EV_DECOY : DT_EV_GALLERY;
		snprintf(e->path, sizeof(e->path), "%s/%s%03d.pgm", gallery_dir ? gallery_dir : ".",
			 is_decoy ? "decoys" : "gallery", g);
		if (gallery_dir) {
			FILE *f = fopen(e->path, "wb");
			if (!f) {
				fprintf(stderr, "emotop-train: %s: %s\n", e->path, strerror(errno));
				image_free(&e->img);
				goto out;
			}
			fprintf(f, "P5\n%d %d\n255\n", gw, gh);
			fwrite(e->img.px, 1, (size_t)gw * gh, f);
			fclose(f);
		}
		s->n++;
		s->n_gallery++;
	}
	rc = 0;
out:
	fer_free(&fer);
	dt_free(&d);
	if (rc)
		dt_evset_free(s);
	return rc;
}

void dt_evset_free(struct dt_evset *s)
{
	for (int i = 0; s->im && i < s->n; i++)
		image_free(&s->im[i].img);
	free(s->im);
	memset(s, 0, sizeof(*s));
}

/* dt_evaluate's face-size bins (their lower edges after the first) and
 * its false-alarm budgets per negative */
#define DT_EV_SIZES 20.0f, 30.0f, 50.0f, 100.0f
#define DT_EV_BUDGETS 0.005f, 0.01f, 0.02f, 0.05f

static int cmp_float_desc(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

/* The score threshold that allows budget false alarms per negative: the
 * score of the first alarm past the allowance in sc[0..n) (sorted,
 * highest first) over n_neg negatives, 0 when there are fewer. */
static float dt_budget_score(const float *sc, int n, int n_neg, float budget)
{
	const int allowed = (int)floorf(budget * (float)n_neg);

	return allowed < n ? sc[allowed] : 0.0f;
}

/* A box's size, as the detector measures faces: sqrt(w h). */
static float dt_box_size(const struct emo_box *b)
{
	return sqrtf(b->w * b->h);
}

/* Greedy matching (best score first) of dets above thr to gt at IoU >=
 * min_iou. Counts matched gt (only those of size >= min_face into *hit, all
 * into *hit_all) and unmatched dets into *fa; a det on an ignore region
 * (ign[j], may be NULL) counts neither way. used[0..DT_EV_MAXGT) is set to
 * 1 for each matched gt. */
static void dt_match(const struct emo_face *f, int n, const struct emo_box *gt, const uint8_t *ign,
		     int n_gt, float thr, float min_iou, int min_face, int *hit, int *hit_all, int *fa,
		     uint8_t used[DT_EV_MAXGT])
{
	memset(used, 0, DT_EV_MAXGT);
	if (n_gt > DT_EV_MAXGT)
		n_gt = DT_EV_MAXGT;
	for (int i = 0; i < n; i++) {
		int best = -1, on_ign = 0;
		float bi = min_iou;
		if (!(f[i].score > thr))
			continue;
		for (int j = 0; j < n_gt; j++) {
			float v = emo_box_iou(&f[i].box, &gt[j]);
			if (ign && ign[j]) {
				on_ign |= v >= min_iou;
				continue;
			}
			if (!used[j] && v >= bi) {
				bi = v;
				best = j;
			}
		}
		if (best < 0) {
			*fa += !on_ign;
			continue;
		}
		used[best] = 1;
		(*hit_all)++;
		if (dt_box_size(&gt[best]) >= (float)min_face)
			(*hit)++;
	}
}

/* IoU a tile's face must reach in a gallery (FER2013 faces fill their 48x48
 * image to different degrees: the tile's box is only approximate) */
#define DT_EV_GALLERY_IOU 0.3f
#define DT_EV_WSIZES 10.0f, 20.0f, 40.0f

int dt_evaluate(struct detect *det, const struct dt_evset *s, float budget, int min_face,
		struct dt_evres *r)
{
	enum { MAXF = 1024 };
	struct emo_face *f = malloc(sizeof(*f) * MAXF);
	struct emo_face **all = calloc((size_t)s->n, sizeof(*all));
	int *nf = calloc((size_t)s->n, sizeof(int)), n_negsc = 0;
	float *negsc = NULL;
	uint8_t *used = malloc(DT_EV_MAXGT), *used2 = malloc(DT_EV_MAXGT);
	double t = 0;
	struct timespec a, b;

	memset(r, 0, sizeof(*r));
	r->min_face = min_face;
	if (!f || !all || !nf || !used || !used2)
		goto fail;
	for (int i = 0; i < s->n; i++) {
		int n;
		clock_gettime(CLOCK_MONOTONIC, &a);
		n = detect_run(det, &s->im[i].img, f, MAXF);
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (s->im[i].kind != DT_EV_WIDER) /* the speed of ordinary frames */
			t += (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) * 1e-6;
		if (n < 0) {
			fprintf(stderr, "emotop-train: %s: detection failed (%d)\n", s->im[i].path, n);
			goto fail;
		}
		nf[i] = n;
		if (n && !(all[i] = malloc(sizeof(*f) * (size_t)n)))
			goto fail;
		if (n)
			memcpy(all[i], f, sizeof(*f) * (size_t)n);
		if (s->im[i].kind == DT_EV_NEG)
			n_negsc += n;
	}
	r->ms = s->n - s->n_wider ? t / (s->n - s->n_wider) : 0;
	negsc = malloc(sizeof(float) * (size_t)(n_negsc + 1));
	if (!negsc)
		goto fail;
	n_negsc = 0;
	for (int i = 0; i < s->n; i++)
		for (int k = 0; s->im[i].kind == DT_EV_NEG && k < nf[i]; k++)
			negsc[n_negsc++] = all[i][k].score;
	qsort(negsc, (size_t)n_negsc, sizeof(float), cmp_float_desc);
	r->thr = dt_budget_score(negsc, n_negsc, s->n_neg, budget);
	{
		struct detect_opts o;
		detect_opts_default(&o);
		r->t5_thr = o.threshold;
	}
	for (int i = 0; i < s->n; i++) {
		const struct dt_evimg *e = &s->im[i];
		const int gal = e->kind == DT_EV_GALLERY || e->kind == DT_EV_DECOY;
		const float iou = gal ? DT_EV_GALLERY_IOU : 0.5f;
		int hit = 0, hit_all = 0, fa = 0;
		dt_match(all[i], nf[i], e->gt, e->ign, e->n_gt, r->thr, iou, min_face, &hit, &hit_all, &fa,
			 used);
		if (e->kind == DT_EV_GALLERY) {
			int h50 = 0, h50_all = 0, fa50 = 0;
			dt_match(all[i], nf[i], e->gt, e->ign, e->n_gt, r->thr, 0.5f, min_face, &h50, &h50_all,
				 &fa50, used2);
			r->g_hit50 += h50_all;
		}
		{ /* at the application's default threshold */
			int h5 = 0, h5_all = 0, fa5 = 0;
			dt_match(all[i], nf[i], e->gt, e->ign, e->n_gt, r->t5_thr, iou, min_face, &h5, &h5_all,
				 &fa5, used2);
			if (e->kind == DT_EV_PHOTO)
				r->t5_hit += h5;
			else if (e->kind == DT_EV_NEG)
				r->t5_neg_fa += fa5;
			else if (e->kind == DT_EV_GALLERY) {
				r->t5_g_hit += h5_all;
				r->t5_g_fa += fa5;
			} else if (e->kind == DT_EV_DECOY)
				r->t5_d_fa += fa5;
		}
		for (int j = 0; e->kind == DT_EV_PHOTO && j < e->n_gt && j < DT_EV_MAXGT; j++) {
			static const float edges[4] = {DT_EV_SIZES};
			int k = 0;
			while (k < 4 && dt_box_size(&e->gt[j]) >= edges[k])
				k++;
			r->sz_gt[k]++;
			r->sz_hit[k] += used[j];
		}
		if (e->kind == DT_EV_WIDER) {
			static const float edges[3] = {DT_EV_WSIZES};
			r->w_images++;
			r->w_fa += fa;
			for (int j = 0; j < e->n_gt && j < DT_EV_MAXGT; j++) {
				const float sz = dt_box_size(&e->gt[j]);
				int k = 2;
				if (e->ign[j] || sz < edges[0])
					continue;
				while (k > 0 && sz < edges[k])
					k--;
				r->w_gt[k]++;
				r->w_hit[k] += used[j];
			}
		}
		if (e->kind == DT_EV_NEG) {
			r->n_neg++;
			r->neg_fa += fa;
		} else if (e->kind == DT_EV_DECOY) {
			r->d_frames++;
			r->d_fa += fa;
		} else if (e->kind == DT_EV_PHOTO) {
			for (int j = 0; j < e->n_gt; j++) {
				r->n_gt_all++;
				r->n_gt += dt_box_size(&e->gt[j]) >= (float)min_face;
			}
			r->n_hit += hit;
			r->n_hit_all += hit_all;
		} else if (e->kind == DT_EV_GALLERY) {
			r->g_gt += e->n_gt;
			r->g_hit += hit_all;
			r->g_fa += fa;
		}
	}
	/* the recall of photo faces >= min_face at other false-alarm budgets */
	for (int q = 0; q < 4; q++) {
		static const float budgets[4] = {DT_EV_BUDGETS};
		int hit = 0, hit_all = 0, fa = 0;
		r->sw_thr[q] = dt_budget_score(negsc, n_negsc, s->n_neg, budgets[q]);
		for (int i = 0; i < s->n; i++)
			if (s->im[i].kind == DT_EV_PHOTO)
				dt_match(all[i], nf[i], s->im[i].gt, s->im[i].ign, s->im[i].n_gt, r->sw_thr[q], 0.5f,
					 min_face, &hit, &hit_all, &fa, used);
		r->sw_recall[q] = r->n_gt ? (float)hit / (float)r->n_gt : 0.0f;
	}
	for (int i = 0; i < s->n; i++)
		free(all[i]);
	free(all);
	free(nf);
	free(f);
	free(negsc);
	free(used);
	free(used2);
	return 0;
fail:
	for (int i = 0; all && i < s->n; i++)
		free(all[i]);
	free(all);
	free(nf);
	free(f);
	free(negsc);
	free(used);
	free(used2);
	return -1;
}

void dt_evres_print_breakdown(const struct dt_evres *r)
{
	static const char *bin[5] = {"< 20", "20-30", "30-50", "50-100", ">= 100"};
	static const float budgets[4] = {DT_EV_BUDGETS};

	if (r->w_images) {
		static const char *wb[3] = {"10-20", "20-40", ">= 40"};
		printf("held-out WIDER (%d photos) recall by face size sqrt(w h) at threshold %.3f:",
		       r->w_images, (double)r->thr);
		for (int k = 0; k < 3; k++)
			printf("%s %s px %.3f (%d/%d)", k ? "," : "", wb[k],
			       (double)r->w_hit[k] / (r->w_gt[k] ? r->w_gt[k] : 1), r->w_hit[k], r->w_gt[k]);
		printf("; over 20 px %.3f; %d boxes on no face\n",
		       (double)(r->w_hit[1] + r->w_hit[2]) / (r->w_gt[1] + r->w_gt[2] ? r->w_gt[1] + r->w_gt[2] : 1),
		       r->w_fa);
	}
	printf("held-out WebFaces recall by face size sqrt(w h) at threshold %.3f:", (double)r->thr);
	for (int k = 0; k < 5; k++)
		printf("%s %s px %.3f (%d/%d)", k ? "," : "", bin[k],
		       (double)r->sz_hit[k] / (r->sz_gt[k] ? r->sz_gt[k] : 1), r->sz_hit[k], r->sz_gt[k]);
	printf("\nheld-out WebFaces recall (faces >= %d px) at false alarms per negative:", r->min_face);
	for (int b = 0; b < 4; b++)
		printf("%s %.3f: %.4f (threshold %.3f)", b ? "," : "", (double)budgets[b],
		       (double)r->sw_recall[b], (double)r->sw_thr[b]);
	printf("\nat the default threshold %.2f: held-out recall %.4f (%d/%d), %d false alarms on "
	       "%d negatives; galleries %d/%d with %d false alarms",
	       (double)r->t5_thr, (double)r->t5_hit / (r->n_gt ? r->n_gt : 1), r->t5_hit, r->n_gt,
	       r->t5_neg_fa, r->n_neg, r->t5_g_hit, r->g_gt, r->t5_g_fa);
	if (r->d_frames)
		printf("; decoys %d false alarms", r->t5_d_fa);
	printf("\n");
}

static int dt_eval_cmd(int argc, char **argv)
{
	struct dt_args a = {.epochs = 1, .batch = 1, .steps = 1, .seed = 1};
	struct dt_evset s;
	struct detect_opts o;
	struct detect *det;
	struct dt_evres r;
	struct emo_err e = {0};
	int rc;

	if ((rc = dt_parse(argc, argv, &a)))
		return rc == 1 ? 0 : rc;
	if (dt_evset_load(&s, a.faces, a.fer, a.fer ? 20 : 0, 1920, 1080, 5, 5, a.gallery_blur, 1, NULL))
		return 1;
	detect_opts_default(&o);
	o.threshold = 0.05f;
	o.model_path = a.model;
	o.verify_path = a.verifier; /* NULL: the embedded verifier; "none": the first stage alone */
	if (a.min_face)
		o.min_face = a.min_face;
	if (!(det = detect_new(&o, &e))) {
		fprintf(stderr, "emotop-train: %s\n", e.msg);
		dt_evset_free(&s);
		return 1;
	}
	rc = dt_evaluate(det, &s, 0.01f, o.min_face, &r) ? 1 : 0;
	if (!rc)
		printf("held-out WebFaces: recall %.4f (%d/%d faces >= %d px), all sizes %.4f (%d/%d) "
		       "at threshold %.3f = %d false alarms on %d held-out negatives (%.4f per image)\n"
		       "galleries 1920x1080 5x5 FER test faces (IoU >= 0.3): recall %.4f (%d/%d), %d false "
		       "alarms; at IoU >= 0.5 %d/%d\n"
		       "decoy galleries 1920x1080 5x5 (blurred squares of negatives, no face): "
		       "%d false alarms on %d tiles\n"
		       "mean %.2f ms per image (path %s)\n",
		       (double)r.n_hit / (r.n_gt ? r.n_gt : 1), r.n_hit, r.n_gt, o.min_face,
		       (double)r.n_hit_all / (r.n_gt_all ? r.n_gt_all : 1), r.n_hit_all, r.n_gt_all,
		       (double)r.thr, r.neg_fa, r.n_neg, (double)r.neg_fa / (r.n_neg ? r.n_neg : 1),
		       (double)r.g_hit / (r.g_gt ? r.g_gt : 1), r.g_hit, r.g_gt, r.g_fa, r.g_hit50, r.g_gt,
		       r.d_fa, r.d_frames * 25, r.ms,
		       detect_kernel_path(det));
	if (!rc)
		dt_evres_print_breakdown(&r);
	detect_free(det);
	dt_evset_free(&s);
	return rc;
}

/* Drop the metadata lines holding k1 or k2 (a calibration measures the
 * model without its previous shifts). */
static void dt_meta_drop(struct qnn_model *m, const char *k1, const char *k2)
{
	char *p;

	while ((p = strstr(m->meta, k1)) || (p = strstr(m->meta, k2))) {
		size_t len = strcspn(p, "\n");
		memmove(p, p + len + (p[len] ? 1 : 0), strlen(p + len + (p[len] ? 1 : 0)) + 1);
	}
}

/* The score threshold at which det makes at most budget false alarms per
 * training negative (every detection on them is one), clamped to
 * 0.02..0.98; *allowed is that many alarms. 0, or -1 out of memory. */
static int dt_budget_threshold(struct detect *det, const struct dt_data *d, float budget, float *thr,
			       int *allowed)
{
	struct emo_face *f = malloc(sizeof(*f) * 1024);
	float *sc = NULL;
	int nsc = 0, cap = 0, rc = -1;

	if (!f)
		goto out;
	for (int i = 0; i < d->n_train_neg; i++) {
		struct emo_image im;
		int w, h, n;
		if (jpeg_load_gray(d->neg[i], &im.px, &w, &h))
			continue;
		im.w = im.stride = w;
		im.h = h;
		n = detect_run(det, &im, f, 1024);
		free(im.px);
		for (int k = 0; k < n; k++) {
			if (train_grow(&sc, &cap, nsc, sizeof(*sc), 1024))
				goto out;
			sc[nsc++] = f[k].score;
		}
	}
	if (nsc)
		qsort(sc, (size_t)nsc, sizeof(float), cmp_float_desc);
	*allowed = (int)floorf(budget * (float)d->n_train_neg);
	*thr = *allowed < nsc ? sc[*allowed] : 0.02f;
	*thr = *thr < 0.02f ? 0.02f : *thr > 0.98f ? 0.98f : *thr;
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "emotop-train: out of memory\n");
	free(sc);
	free(f);
	return rc;
}

/* Calibrate the verifier (second stage) with its detector (--model, default
 * the embedded one): the combined score of the candidates on the training
 * negatives, its threshold at --budget false alarms per image moved to 0.5
 * by verify_shift; verify_pre (--threshold, default 0.15) is the
 * first-stage score a candidate needs to be verified. */
static int dt_calibrate_verifier(struct dt_args *a, struct dt_data *d)
{
	struct qnn_model *m = NULL;
	struct detect_opts o;
	struct detect *det = NULL;
	struct emo_err e = {0};
	float thr, shift, pre = a->thr > 0 ? a->thr : 0.15f;
	int rc = 1, allowed;
	char tmp[4200];

	if (!(pre > 0 && pre < 1)) {
		fprintf(stderr, "emotop-train: --threshold must be between 0 and 1\n");
		return 2;
	}
	if (qnn_model_load(a->verifier, &m, &e)) {
		fprintf(stderr, "emotop-train: %s: %s\n", a->verifier, e.msg);
		goto out;
	}
	dt_meta_drop(m, "verify_shift=", "verify_pre=");
	snprintf(m->meta + strlen(m->meta), sizeof(m->meta) - strlen(m->meta), "verify_pre=%.4f\n",
		 (double)pre);
	snprintf(tmp, sizeof(tmp), "%s.tmp", a->out);
	if (qnn_model_save(m, tmp, &e)) {
		fprintf(stderr, "emotop-train: %s: %s\n", tmp, e.msg);
		goto out;
	}
	detect_opts_default(&o);
	o.threshold = 0.01f;
	o.model_path = a->model;
	o.verify_path = tmp;
	det = detect_new(&o, &e);
	remove(tmp);
	if (!det) {
		fprintf(stderr, "emotop-train: %s\n", e.msg);
		goto out;
	}
	if (dt_budget_threshold(det, d, a->budget, &thr, &allowed))
		goto out;
	shift = -logf(thr / (1 - thr));
	snprintf(m->meta + strlen(m->meta), sizeof(m->meta) - strlen(m->meta), "verify_shift=%.4f\n",
		 (double)shift);
	if (qnn_model_save(m, a->out, &e)) {
		fprintf(stderr, "emotop-train: %s: %s\n", a->out, e.msg);
		goto out;
	}
	fprintf(stderr,
		"calibrated verifier %s -> %s: combined threshold %.3f gives %d false alarms on %d "
		"training negatives (budget %.4f per image); verify_shift %.3f makes it 0.5; "
		"candidates from first-stage score %.2f\n",
		a->verifier, a->out, (double)thr, allowed, d->n_train_neg, (double)a->budget, (double)shift,
		(double)pre);
	rc = 0;
out:
	detect_free(det);
	qnn_model_free(m);
	return rc;
}

/* Set the model's score_shift so that a score of 0.5 is the threshold
 * giving `budget` false alarms per training negative image. */
static int dt_calibrate(int argc, char **argv)
{
	struct dt_args a = {.epochs = 1, .batch = 1, .steps = 1, .seed = 1, .budget = 0.005f};
	struct dt_data d;
	struct qnn_model *m = NULL;
	struct detect_opts o;
	struct detect *det = NULL;
	struct emo_err e = {0};
	struct emo_face *f = NULL;
	float thr, shift;
	int rc = 1, allowed;
	const char *in;

	if ((rc = dt_parse(argc, argv, &a)))
		return rc == 1 ? 0 : rc;
	rc = 1;
	f = malloc(sizeof(*f) * 1024);
	in = a.ckpt ? a.ckpt : "models/face.qnn"; /* --ckpt names the input model here */
	if (!a.out || !f || dt_load(&d, a.faces, NULL)) {
		fprintf(stderr, "emotop-train detect calibrate: --faces DIR --ckpt IN.qnn --out OUT.qnn\n");
		free(f);
		return 2;
	}
	if (a.verifier) {
		free(f);
		rc = dt_calibrate_verifier(&a, &d);
		dt_free(&d);
		return rc;
	}
	if (qnn_model_load(in, &m, &e)) {
		fprintf(stderr, "emotop-train: %s: %s\n", in, e.msg);
		goto out;
	}
	/* measure without any previous shift */
	dt_meta_drop(m, "score_shift=", "size_shift=");
	{
		char tmp[4200];
		snprintf(tmp, sizeof(tmp), "%s.tmp", a.out);
		if (qnn_model_save(m, tmp, &e))
			goto out;
		detect_opts_default(&o);
		o.threshold = 0.02f;
		o.model_path = tmp;
		det = detect_new(&o, &e);
		remove(tmp);
		if (!det)
			goto out;
	}
	if (dt_budget_threshold(det, &d, a.budget, &thr, &allowed))
		goto out;
	/* size: median log ratio of annotated to detected side on training
	 * photos (faces matched by centre), applied as size_shift */
	{
		float *lr = malloc(sizeof(float) * 4096);
		int nlr = 0;
		for (int i = 0; lr && i < d.n_train_photo && nlr < 4000; i += 7) {
			struct emo_image im;
			int w, h, n;
			if (jpeg_load_gray(d.photo[i].path, &im.px, &w, &h))
				continue;
			im.w = im.stride = w;
			im.h = h;
			n = detect_run(det, &im, f, 1024);
			free(im.px);
			for (int k = 0; k < d.photo[i].n; k++) {
				const struct dt_face *g = &d.faces[d.photo[i].first + k];
				int best = -1;
				float bd = 0.3f * g->side;
				if (g->side < 24)
					continue;
				for (int j = 0; j < n; j++) {
					float dx = f[j].box.x + f[j].box.w * 0.5f - g->cx;
					float dy = f[j].box.y + f[j].box.h * 0.5f - g->cy;
					if (f[j].score > 0.3f && hypotf(dx, dy) < bd) {
						bd = hypotf(dx, dy);
						best = j;
					}
				}
				if (best >= 0 && nlr < 4096)
					lr[nlr++] = logf(g->side / sqrtf(f[best].box.w * f[best].box.h));
			}
		}
		if (nlr > 20) {
			float ss;
			qsort(lr, (size_t)nlr, sizeof(float), cmp_float_desc);
			ss = lr[nlr / 2];
			snprintf(m->meta + strlen(m->meta), sizeof(m->meta) - strlen(m->meta),
				 "size_shift=%.4f\n", (double)ss);
			fprintf(stderr, "size: median log(annotated/detected side) %.3f over %d faces\n",
				(double)ss, nlr);
		}
		free(lr);
	}
	shift = -logf(thr / (1 - thr));
	snprintf(m->meta + strlen(m->meta), sizeof(m->meta) - strlen(m->meta), "score_shift=%.4f\n",
		 (double)shift);
	if (qnn_model_save(m, a.out, &e)) {
		fprintf(stderr, "emotop-train: %s: %s\n", a.out, e.msg);
		goto out;
	}
	fprintf(stderr,
		"calibrated %s -> %s: raw threshold %.3f gives %d false alarms on %d training "
		"negatives (budget %.4f per image); score_shift %.3f makes it 0.5\n",
		in, a.out, (double)thr, allowed, d.n_train_neg, (double)a.budget, (double)shift);
	rc = 0;
out:
	detect_free(det);
	qnn_model_free(m);
	free(f);
	dt_free(&d);
	return rc;
}

/* A frame made of a random negative (held-out when held, else a training
 * one) resized to img (left as it is when the negative cannot be read). */
static void dt_neg_frame(const struct dt_data *d, uint64_t *r, struct emo_image *img, int held)
{
	struct emo_image bg = {0};
	const int first = held ? d->n_train_neg : 0, n = held ? d->n_neg - d->n_train_neg : d->n_train_neg;
	int w, h;

	if (n < 1 || jpeg_load_gray(d->neg[first + dt_int(r, n)], &bg.px, &w, &h))
		return;
	bg.w = bg.stride = w;
	bg.h = h;
	image_resize(&bg, img);
	free(bg.px);
}

/* Index of the face of f[0..n) overlapping gt most, by more than min_iou;
 * -1 when none does. */
static int dt_best_match(const struct emo_face *f, int n, const struct emo_box *gt, float min_iou)
{
	int best = -1;

	for (int j = 0; j < n; j++) {
		float v = emo_box_iou(&f[j].box, gt);
		if (v > min_iou) {
			min_iou = v;
			best = j;
		}
	}
	return best;
}

/* Where the detector puts the landmarks and the box of FER2013 faces: each
 * face pasted at 100..160 px at a random place on a held-out negative,
 * detected, mapped back to 48x48 face coordinates and averaged. The
 * classifier's alignment (classify_align) uses these constants. */
static int dt_fer_framing(int argc, char **argv)
{
	struct dt_args a = {.epochs = 1, .batch = 1, .steps = 1, .seed = 1};
	struct dt_data d;
	struct detect_opts o;
	struct detect *det;
	struct emo_err e = {0};
	struct emo_image img = {0};
	double sum[7][2] = {{0}}, sq[7][2] = {{0}};
	int n = 0, tried = 0, rc;

	if ((rc = dt_parse(argc, argv, &a)))
		return rc == 1 ? 0 : rc;
	if (!a.fer || dt_load(&d, a.faces, a.fer))
		return 2;
	detect_opts_default(&o);
	o.model_path = a.model;
	o.threshold = 0.3f;
	if (!(det = detect_new(&o, &e)) || image_new(&img, 320, 320)) {
		fprintf(stderr, "emotop-train: %s\n", e.msg);
		dt_free(&d);
		return 1;
	}
	for (int i = 0; i < d.fer.n && tried < 2000; i += 1 + d.fer.n / 2000, tried++) {
		uint64_t r = 0xfe5ULL + (uint64_t)i;
		struct emo_image tile = {FER_SIZE, FER_SIZE, FER_SIZE, d.fer.px + (size_t)i * FER_SIZE * FER_SIZE};
		struct emo_face f[16];
		int T = 100 + dt_int(&r, 61), x0 = dt_int(&r, 320 - T), y0 = dt_int(&r, 320 - T), best;
		float k = (float)T / FER_SIZE;
		struct emo_box gt;
		dt_neg_frame(&d, &r, &img, 1);
		{
			struct emo_image dst = {T, T, img.stride, img.px + (size_t)y0 * img.stride + x0};
			image_resize(&tile, &dst);
		}
		gt = dt_fer_tile_box((float)x0, (float)y0, (float)T);
		best = dt_best_match(f, detect_run(det, &img, f, 16), &gt, 0.3f);
		if (best < 0)
			continue;
		for (int q = 0; q < 5; q++)
			for (int c = 0; c < 2; c++) {
				double v = (f[best].lm[q][c] - (float)(c ? y0 : x0)) / k;
				sum[q][c] += v;
				sq[q][c] += v * v;
			}
		{
			double cx = (f[best].box.x + f[best].box.w * 0.5f - (float)x0) / k;
			double cy = (f[best].box.y + f[best].box.h * 0.5f - (float)y0) / k;
			double bw = f[best].box.w / k, bh = f[best].box.h / k;
			sum[5][0] += cx;
			sum[5][1] += cy;
			sum[6][0] += bw;
			sum[6][1] += bh;
			sq[5][0] += cx * cx;
			sq[5][1] += cy * cy;
			sq[6][0] += bw * bw;
			sq[6][1] += bh * bh;
		}
		n++;
	}
	if (n) {
		static const char *nm[7] = {"left eye", "right eye", "nose", "mouth left", "mouth right",
					    "box centre", "box w, h"};
		printf("FER2013 framing measured by the detector on %d of %d pasted test faces "
		       "(48x48 face pixels, mean +- std):\n", n, tried);
		for (int q = 0; q < 7; q++) {
			double mx = sum[q][0] / n, my = sum[q][1] / n;
			double sx = sqrt(fmax(0, sq[q][0] / n - mx * mx)), sy = sqrt(fmax(0, sq[q][1] / n - my * my));
			printf("  %-12s %s %6.2f +- %.2f   %s %6.2f +- %.2f\n", nm[q], q == 6 ? "w" : "x", mx, sx,
			       q == 6 ? "h" : "y", my, sy);
		}
		/* align.c's framing: a square of side s * h centred dy * h below
		 * the box centre covers the 48x48 face */
		printf("  framing (align.c): ALIGN_BOX_SCALE %.3f, ALIGN_BOX_DY %+.3f of the box height\n",
		       FER_SIZE / (sum[6][1] / n), (FER_SIZE * 0.5 - sum[5][1] / n) / (sum[6][1] / n));
	}
	image_free(&img);
	detect_free(det);
	dt_free(&d);
	return n ? 0 : 1;
}

/* Paste the 48x48 face tile into img so that it covers side T px with its
 * top-left corner near (x0, y0), rotated by angle (radians) about its
 * centre; only pixels that fall inside the tile are written. tmp is a
 * scratch image of img's size. */
static void dt_paste_rotated(struct emo_image *img, struct emo_image *tmp, const struct emo_image *tile,
			     float x0, float y0, float T, float angle)
{
	float k = (float)tile->w / T, c = cosf(angle) * k, s = sinf(angle) * k;
	float cx = x0 + 0.5f * T, cy = y0 + 0.5f * T, tc = 0.5f * (float)tile->w;
	/* tile = R(angle) * (frame - centre) * k + tile centre, pixel centres */
	float a[6] = {c, s, 0, -s, c, 0};

	a[2] = tc - 0.5f - (c * (cx - 0.5f) + s * (cy - 0.5f));
	a[5] = tc - 0.5f - (-s * (cx - 0.5f) + c * (cy - 0.5f));
	image_warp_affine(tile, tmp, a);
	for (int y = 0; y < img->h; y++)
		for (int x = 0; x < img->w; x++) {
			float sx = a[0] * (float)x + a[1] * (float)y + a[2];
			float sy = a[3] * (float)x + a[4] * (float)y + a[5];
			if (sx >= -0.5f && sy >= -0.5f && sx <= (float)tile->w - 0.5f &&
			    sy <= (float)tile->h - 0.5f)
				img->px[(size_t)y * img->stride + x] = tmp->px[(size_t)y * tmp->stride + x];
		}
}

static int dt_argmax7(const float *p)
{
	int b = 0;

	for (int k = 1; k < EMO_NUM_CLASSES; k++)
		if (p[k] > p[b])
			b = k;
	return b;
}

/* The alignment check of the detector issue: FER2013 faces (--fer, e.g. the
 * test split) pasted into 320x320 frames on held-out negatives at random
 * places, sizes (80-160 px) and small rotations (up to 10 degrees), then
 * detected, aligned and classified as emotop does; the accuracy is compared
 * with classifying the original 48x48 crops. A face the detector misses
 * counts as wrong. */
static int dt_align_check(int argc, char **argv)
{
	struct dt_args a = {.epochs = 1, .batch = 1, .steps = 1, .seed = 1};
	struct dt_data d;
	struct fer_set fs = {0};
	struct detect_opts o;
	struct classify_opts co;
	struct detect *det = NULL;
	struct classify *cl = NULL;
	struct emo_err e = {0};
	struct emo_image img = {0}, tmp = {0};
	long ok_crop = 0, ok_paste = 0, found = 0, ok_crop_found = 0, rot_n = 0, rot_ok = 0;
	long ok_true = 0, ok_true_found = 0;
	double err[3] = {0, 0, 0}, err2[3] = {0, 0, 0}; /* box vs truth: dx, dy, log side */
	const int W = 320;
	struct emo_image back = {0};
	int rc;

	if ((rc = dt_parse(argc, argv, &a)))
		return rc == 1 ? 0 : rc;
	if (!a.fer || !a.faces) {
		dt_usage(stderr);
		return 2;
	}
	if (dt_load(&d, a.faces, NULL))
		return 1;
	rc = 1;
	if (fer_load(a.fer, "PublicTest", &fs))
		goto out; /* fer_load said why */
	if (a.limit > 0 && a.limit < fs.n) {
		/* N faces spread evenly over the split (it is sorted by class);
		 * fer_free() frees the whole buffers */
		for (int j = 0; j < a.limit; j++) {
			const int src = (int)((long)j * fs.n / a.limit);
			memmove(fs.px + (size_t)j * FER_SIZE * FER_SIZE, fs.px + (size_t)src * FER_SIZE * FER_SIZE,
				FER_SIZE * FER_SIZE);
			fs.label[j] = fs.label[src];
		}
		fs.n = a.limit;
	}
	if (d.n_neg - d.n_train_neg < 1) {
		fprintf(stderr, "emotop-train: %s has no held-out negatives\n", a.faces);
		goto out;
	}
	detect_opts_default(&o);
	o.model_path = a.model;
	o.verify_path = a.verifier; /* NULL: the embedded verifier; "none": the first stage alone */
	classify_opts_default(&co);
	co.model_path = a.emo;
	if (!(det = detect_new(&o, &e)) || !(cl = classify_new(&co, &e))) {
		fprintf(stderr, "emotop-train: %s\n", e.msg);
		goto out;
	}
	if (image_new(&img, W, W) || image_new(&tmp, W, W) || image_new(&back, FER_SIZE, FER_SIZE))
		goto out;
	for (int i = 0; i < fs.n; i++) {
		uint64_t r = 0xa11ca7eULL + (uint64_t)i * 0x9e3779b97f4a7c15ULL;
		struct emo_image tile = {FER_SIZE, FER_SIZE, FER_SIZE, fs.px + (size_t)i * FER_SIZE * FER_SIZE};
		struct emo_face f[16];
		float p[EMO_NUM_CLASSES], T = dt_range(&r, 80, 160), ang = 0;
		float x0 = dt_range(&r, 10, (float)W - T - 10), y0 = dt_range(&r, 10, (float)W - T - 10);
		struct emo_box gt;
		int best, crop_ok, true_ok;

		if (dt_unit(&r) < 0.5f)
			ang = dt_range(&r, -10, 10) * (float)M_PI / 180.0f;
		if (classify_crop(cl, &tile, p))
			goto out;
		crop_ok = dt_argmax7(p) == fs.label[i];
		ok_crop += crop_ok;
		memset(img.px, 128, (size_t)W * W);
		dt_neg_frame(&d, &r, &img, 1);
		dt_paste_rotated(&img, &tmp, &tile, x0, y0, T, ang);
		/* the pasted face cut out again where it truly is (the inverse of
		 * the paste): what is lost to resampling alone, no detector */
		{
			const float K = T / FER_SIZE, c = cosf(ang) * K, s = sinf(ang) * K;
			const float u = 0.5f - 0.5f * FER_SIZE;
			const float at[6] = {c, -s, x0 + 0.5f * T - 0.5f + c * u - s * u,
					     s, c,  y0 + 0.5f * T - 0.5f + s * u + c * u};
			image_warp_affine(&img, &back, at);
			if (classify_crop(cl, &back, p))
				goto out;
			true_ok = dt_argmax7(p) == fs.label[i];
			ok_true += true_ok;
		}
		/* the face box of a FER2013 face (the detector's training convention) */
		gt = dt_fer_tile_box(x0, y0, T);
		best = dt_best_match(f, detect_run(det, &img, f, 16), &gt, 0.3f);
		if (ang != 0)
			rot_n++;
		if (best < 0)
			continue;
		found++;
		ok_crop_found += crop_ok;
		ok_true_found += true_ok;
		{
			const struct emo_box *b = &f[best].box;
			const double e3[3] = {(b->x + 0.5 * b->w - gt.x - 0.5 * gt.w) / gt.w,
					      (b->y + 0.5 * b->h - gt.y - 0.5 * gt.h) / gt.w, log(b->w / gt.w)};
			for (int k = 0; k < 3; k++) {
				err[k] += e3[k];
				err2[k] += e3[k] * e3[k];
			}
		}
		if (classify_face(cl, &img, &f[best], p))
			goto out;
		if (dt_argmax7(p) == fs.label[i]) {
			ok_paste++;
			rot_ok += ang != 0;
		}
	}
	if (!fs.n)
		goto out;
	printf("FER2013 faces: %d (%s)\n", fs.n, a.fer);
	printf("original 48x48 crops:          accuracy %.2f %%\n", 100.0 * ok_crop / fs.n);
	printf("pasted, detected, aligned:     accuracy %.2f %% (a missed face counts as wrong)\n",
	       100.0 * ok_paste / fs.n);
	printf("  faces detected (IoU > 0.3):  %ld (%.2f %%)\n", found, 100.0 * found / fs.n);
	printf("  on the detected faces:       %.2f %% aligned, %.2f %% original crops\n",
	       found ? 100.0 * ok_paste / found : 0.0, found ? 100.0 * ok_crop_found / found : 0.0);
	printf("  cut out at the true place:   %.2f %% (all faces), %.2f %% (detected ones)\n",
	       100.0 * ok_true / fs.n, found ? 100.0 * ok_true_found / found : 0.0);
	for (int k = 0; k < 3 && found; k++) {
		err[k] /= (double)found;
		err2[k] = sqrt(fmax(0, err2[k] / (double)found - err[k] * err[k]));
	}
	printf("  box error (mean, sd):        centre x %+.3f %.3f, y %+.3f %.3f sides, log side %+.3f %.3f\n",
	       err[0], err2[0], err[1], err2[1], err[2], err2[2]);
	printf("  rotated faces (%ld):         %.2f %% correct\n", rot_n, rot_n ? 100.0 * rot_ok / rot_n : 0.0);
	printf("difference: %+.2f points\n", 100.0 * (ok_paste - ok_crop) / fs.n);
	rc = 0;
out:
	image_free(&img);
	image_free(&tmp);
	image_free(&back);
	classify_free(cl);
	detect_free(det);
	fer_free(&fs);
	dt_free(&d);
	return rc;
}

/* Training data for the verifier, the detector's second stage: every
 * candidate the detector (--model; default the embedded one, without its
 * verifier) finds at score >= --threshold on the photos, the negatives and
 * synthetic galleries of FER2013 faces (--fer), cut out as the classifier
 * cuts faces (face_align, 48x48) and labelled 1 when it matches an
 * annotated face (IoU >= 0.5) and 0 when it is on a negative image or
 * overlaps no gallery face (IoU < 0.3). Unmatched candidates on photos may
 * be unannotated faces and are left out. Written as a FER2013-style CSV
 * (label, pixels, Usage: PublicTest for the held-out photos, negatives and
 * one gallery or pasted frame in ten) for `emotop-train fer` with a
 * two-class network. --pasted adds frames with one FER2013 face pasted on a
 * negative; --keep-other thins out the non-face candidates of galleries and
 * pasted frames. */
enum { DT_V_GW = 1920, DT_V_GH = 1080, DT_V_MAXF = 256, DT_V_PW = 320 };

static int dt_v_emit(FILE *out, const struct emo_image *img, const struct emo_face *f,
		     struct emo_image *crop, int label, int held, long *count)
{
	if (face_align_ss(img, f, crop, DETECT_VERIFY_SS))
		return 0;
	fprintf(out, "%d,", label);
	for (int i = 0; i < FER_SIZE * FER_SIZE; i++)
		fprintf(out, i ? " %d" : "%d", crop->px[i]);
	fprintf(out, ",%s\n", held ? "PublicTest" : "Training");
	count[label * 2 + held]++;
	return ferror(out) ? -1 : 0;
}

/* Candidates of one image labelled against gt[0..n_gt): 1 at IoU >= 0.5,
 * 0 below 0.3 when neg_ok (each kept with probability keep0, drawn from
 * r), left out otherwise. */
static int dt_v_image(struct detect *det, FILE *out, const struct emo_image *img, const struct emo_box *gt,
		      int n_gt, int neg_ok, float keep0, uint64_t *r, int held, struct emo_face *f,
		      struct emo_image *crop, long *count)
{
	int n = detect_run(det, img, f, DT_V_MAXF);

	for (int k = 0; k < n; k++) {
		float best = 0;
		for (int j = 0; j < n_gt; j++)
			best = fmaxf(best, emo_box_iou(&gt[j], &f[k].box));
		if (best < 0.5f && neg_ok && keep0 < 1 && dt_unit(r) >= keep0)
			continue;
		if (best >= 0.5f || (neg_ok && best < 0.3f))
			if (dt_v_emit(out, img, &f[k], crop, best >= 0.5f, held, count))
				return -1;
	}
	return 0;
}

static int dt_verifier_data(int argc, char **argv)
{
	struct dt_args a = {.epochs = 1, .batch = 1, .steps = 1, .seed = 1, .thr = 0.05f,
			    .galleries = DT_V_NGAL, .pasted = DT_V_NPASTE, .keep0 = 1};
	struct dt_data d;
	struct detect_opts o;
	struct detect *det = NULL;
	struct emo_err e = {0};
	struct emo_face *f = malloc(sizeof(*f) * DT_V_MAXF);
	struct emo_image crop = {0}, gal = {0}, pimg = {0}, ptmp = {0};
	struct emo_box gt[64];
	long count[4] = {0, 0, 0, 0};
	FILE *out = NULL;
	int rc;

	if ((rc = dt_parse(argc, argv, &a))) {
		free(f);
		return rc == 1 ? 0 : rc;
	}
	if (!a.fer || !a.out || !(a.thr > 0 && a.thr < 1)) {
		free(f);
		dt_usage(stderr);
		return 2;
	}
	if (dt_load(&d, a.faces, a.fer)) {
		free(f);
		return 1;
	}
	rc = 1;
	if (dt_sharp_setup(&d, &a))
		goto out;
	detect_opts_default(&o);
	o.model_path = a.model;
	o.verify_path = "none";
	o.threshold = a.thr;
	if (!f || image_new(&crop, FER_SIZE, FER_SIZE) || image_new(&gal, DT_V_GW, DT_V_GH) ||
	    image_new(&pimg, DT_V_PW, DT_V_PW) || image_new(&ptmp, DT_V_PW, DT_V_PW)) {
		fprintf(stderr, "emotop-train: out of memory\n");
		goto out;
	}
	if (!(det = detect_new(&o, &e)) || !strcmp(detect_kernel_path(det), "regions")) {
		fprintf(stderr, "emotop-train: %s\n", det ? "no detector network" : e.msg);
		goto out;
	}
	if (!d.fer.n) {
		fprintf(stderr, "emotop-train: no FER2013 faces in %s\n", a.fer);
		goto out;
	}
	if (!(out = fopen(a.out, "w"))) {
		fprintf(stderr, "emotop-train: %s: %s\n", a.out, strerror(errno));
		goto out;
	}
	fprintf(out, "emotion,pixels,Usage\n");
	for (int i = 0; i < d.n_photo + d.n_neg; i++) {
		const int neg = i >= d.n_photo, k = neg ? i - d.n_photo : i;
		struct emo_image img;
		uint8_t *px;
		int w, h, n_gt = 0, bad;
		if (jpeg_load_gray(neg ? d.neg[k] : d.photo[k].path, &px, &w, &h))
			continue;
		img = (struct emo_image){w, h, w, px};
		for (int j = 0; !neg && j < d.photo[k].n && n_gt < 64; j++)
			gt[n_gt++] = dt_face_box(&d.faces[d.photo[k].first + j]);
		bad = dt_v_image(det, out, &img, gt, n_gt, neg, 1, NULL,
				 neg ? k >= d.n_train_neg : k >= d.n_train_photo, f, &crop, count);
		free(px);
		if (bad)
			goto write_error;
	}
	/* galleries: 1280x720 and (every other one) 1920x1080, 2-6 rows and
	 * columns, like a video call's screen share */
	for (int g = 0; g < a.galleries; g++) {
		uint64_t r = 0x7e12f1ULL + (uint64_t)g * 0x9e3779b97f4a7c15ULL;
		const int rows = 2 + dt_int(&r, 5), cols = 2 + dt_int(&r, 5), held = g % 10 == 7;
		const int big = g % 2;
		struct emo_image view = {big ? DT_V_GW : 1280, big ? DT_V_GH : 720, gal.stride, gal.px};
		const uint8_t *faces[64];
		static uint8_t decoys[64][FER_SIZE * FER_SIZE];
		int is_decoy[64], n_gt = 0;
		struct emo_image bg = {0};
		int w, h, n_ng = held ? d.n_neg - d.n_train_neg : d.n_train_neg;
		for (int k = 0; k < rows * cols; k++) {
			faces[k] = dt_tile_pick(&d, &r);
			if ((is_decoy[k] = dt_unit(&r) < DT_DECOY_SHARE)) {
				dt_decoy_tile(&d, held ? d.n_train_neg : 0, n_ng, &r, dt_decoy_sigma(&r), decoys[k]);
				faces[k] = decoys[k];
			}
		}
		if (n_ng > 0 && !jpeg_load_gray(d.neg[(held ? d.n_train_neg : 0) + dt_int(&r, n_ng)], &bg.px, &w, &h)) {
			bg.w = bg.stride = w;
			bg.h = h;
		}
		dt_gallery_draw(&view, bg.px ? &bg : NULL, faces, rows, cols, gt);
		free(bg.px);
		for (int k = 0; k < rows * cols; k++) /* a decoy is no face: its candidates are non-faces */
			if (!is_decoy[k])
				gt[n_gt++] = gt[k];
		if (dt_v_image(det, out, &view, gt, n_gt, 1, a.keep0, &r, held, f, &crop, count))
			goto write_error;
	}
	/* one FER2013 face pasted on a negative at a random place, size (24 to
	 * 220 px) and, half of the time, tilt (up to 15 degrees), as
	 * `align-check` pastes them */
	for (int i = 0; i < a.pasted; i++) {
		uint64_t r = 0x9a57edULL + (uint64_t)i * 0x9e3779b97f4a7c15ULL;
		const int held = i % 10 == 7;
		struct emo_image tile = {FER_SIZE, FER_SIZE, FER_SIZE, (uint8_t *)(uintptr_t)dt_tile_pick(&d, &r)};
		const float T = 24.0f * expf(dt_unit(&r) * logf(220.0f / 24.0f));
		const float x0 = dt_range(&r, 0, (float)DT_V_PW - T), y0 = dt_range(&r, 0, (float)DT_V_PW - T);
		float ang = 0;
		if (dt_unit(&r) < 0.5f)
			ang = dt_range(&r, -15, 15) * (float)M_PI / 180.0f;
		memset(pimg.px, 128, (size_t)DT_V_PW * DT_V_PW);
		dt_neg_frame(&d, &r, &pimg, held);
		dt_paste_rotated(&pimg, &ptmp, &tile, x0, y0, T, ang);
		gt[0] = dt_fer_tile_box(x0, y0, T);
		if (dt_v_image(det, out, &pimg, gt, 1, 1, a.keep0, &r, held, f, &crop, count))
			goto write_error;
	}
	if (fclose(out)) {
		out = NULL;
		goto write_error;
	}
	out = NULL;
	printf("wrote %s: %ld faces and %ld non-faces for training, %ld and %ld held out "
	       "(candidates at score >= %.2f)\n",
	       a.out, count[2], count[0], count[3], count[1], (double)a.thr);
	rc = 0;
	goto out;
write_error:
	fprintf(stderr, "emotop-train: %s: write error\n", a.out);
out:
	if (out)
		fclose(out);
	image_free(&crop);
	image_free(&gal);
	image_free(&pimg);
	image_free(&ptmp);
	detect_free(det);
	dt_free(&d);
	free(f);
	return rc;
}

/* Weight averaging (SWA) of checkpoints of one run, e.g. snapshots along
 * the tail of its schedule: the scores of single epochs on negatives swing
 * from epoch to epoch; an average is one network with less of that noise.
 * Batch-norm statistics are measured again on training crops (training-mode
 * passes, no weight update). */
static int dt_average(int argc, char **argv)
{
	struct dt_args a = {.epochs = 1, .batch = 32, .steps = 200, .seed = 1};
	struct dt_data d;
	struct dt_state st = {0};
	struct dt_sample *smp = NULL;
	struct fnn *avg = NULL, *one = NULL;
	float *x = NULL;
	char arch[512];
	uint32_t st_len = 0;
	int rc, first, n;

	if ((rc = dt_parse(argc, argv, &a)))
		return rc == 1 ? 0 : rc;
	first = optind;
	n = argc - first;
	if (!a.out || n < 2) {
		dt_usage(stderr);
		return 2;
	}
	if (fnn_load_arch(argv[first], arch, sizeof(arch)) ||
	    fnn_load_extra(argv[first], &st, sizeof(st), &st_len))
		return 1;
	avg = fnn_new(arch, (struct fnn_shape){DT_IN, DT_IN, 1}, 1);
	one = fnn_new(arch, (struct fnn_shape){DT_IN, DT_IN, 1}, 1);
	smp = malloc(sizeof(*smp) * (size_t)a.batch);
	x = malloc(sizeof(float) * (size_t)a.batch * DT_IN * DT_IN);
	rc = 1;
	if (!avg || !one || !smp || !x || fnn_reserve(avg, a.batch)) {
		fprintf(stderr, "emotop-train: out of memory or a bad architecture in %s\n", argv[first]);
		goto out_nodata;
	}
	if (avg->n_out != DT_G * DT_G * DT_NCH) {
		fprintf(stderr, "emotop-train: %s: not a detector (stride %d, %d head maps)\n", argv[first],
			DT_STRIDE, DT_NCH);
		goto out_nodata;
	}
	if (fnn_average(avg, one, (const char *const *)argv + first, n))
		goto out_nodata;
	if (dt_load(&d, a.faces, a.fer))
		goto out_nodata;
	if (dt_sharp_setup(&d, &a) || dt_preload(&d))
		goto out;
	for (int b = 0; b < a.steps; b++) {
#pragma omp parallel for schedule(dynamic)
		for (int j = 0; j < a.batch; j++) {
			dt_sample_make(&d, &smp[j], 0xa11a5ULL + (uint64_t)(b * a.batch + j) * 7919, -1, 0,
				       d.n_train_photo, 0, d.n_train_neg, NULL);
			memcpy(x + (size_t)j * DT_IN * DT_IN, smp[j].x, sizeof(smp[j].x));
		}
		fnn_forward(avg, x, a.batch, 1);
	}
	if (fnn_save(avg, a.out, &st, st_len, 0))
		goto out;
	printf("averaged %d checkpoints of %s into %s (batch norm re-measured on %d crops)\n", n, arch,
	       a.out, a.steps * a.batch);
	rc = 0;
out:
	dt_free(&d);
out_nodata:
	fnn_free(avg);
	fnn_free(one);
	free(smp);
	free(x);
	return rc;
}

/* Print heat logits against targets for a few samples (debugging aid). */
static int dt_debug(int argc, char **argv)
{
	struct dt_args a = {.epochs = 1, .batch = 1, .steps = 1, .seed = 1, .ckpt = "runs/face.ckpt"};
	struct dt_data d;
	struct fnn *net;
	struct dt_sample *s = malloc(sizeof(*s));
	struct dt_target *t = malloc(sizeof(*t));
	char arch[512];
	int rc;

	if ((rc = dt_parse(argc, argv, &a)))
		return rc == 1 ? 0 : rc;
	if (!s || !t || fnn_load_arch(a.ckpt, arch, sizeof(arch)) || dt_load(&d, a.faces, a.fer) ||
	    dt_sharp_setup(&d, &a))
		return 1;
	net = fnn_new(arch, (struct fnn_shape){DT_IN, DT_IN, 1}, 1);
	if (!net || fnn_load(net, a.ckpt, NULL, 0, NULL))
		return 1;
	if (getenv("DT_SCAN")) {
		for (int i = 0; i < atoi(getenv("DT_SCAN")); i++) {
			int bad = 0;
			dt_sample_make(&d, s, 0x1234567ULL * (uint64_t)i, -1, 0, d.n_train_photo, 0, d.n_train_neg, NULL);
			for (int k = 0; k < DT_IN * DT_IN; k++)
				if (!isfinite(s->x[k]) || s->x[k] < 0 || s->x[k] > 1) {
					bad++;
					printf("px %d = %g\n", k, (double)s->x[k]);
				}
			for (int k = 0; k < s->nf; k++)
				bad += !isfinite(s->f[k].cx) || !isfinite(s->f[k].side) || !isfinite(s->f[k].lm[0][0]);
			if (bad)
				printf("sample %d kind %d: %d bad values\n", i, s->kind, bad);
		}
		return 0;
	}
	for (int i = 0; i < 3; i++) {
		const float *z;
		dt_sample_make(&d, s, 777 + (uint64_t)i, i == 2 ? 2 : 0, 0, d.n_train_photo, 0, d.n_train_neg, NULL);
		dt_target_make(s, t);
		z = fnn_forward(net, s->x, 1, 0);
		for (int l = 0; l < net->n_layers; l++) {
			const struct fnn_layer *L = &net->layers[l];
			long n = (long)L->out.h * L->out.w * L->out.c;
			double m = 0, q = 0;
			int zero = 0;
			for (long k = 0; k < n; k++) {
				m += L->y[k];
				q += (double)L->y[k] * L->y[k];
				zero += L->y[k] == 0;
			}
			m /= (double)n;
			printf("  layer %d type %d: mean %.4f std %.4f zeros %.2f\n", l, L->type, m,
			       sqrt(fmax(0, q / (double)n - m * m)), (double)zero / (double)n);
		}
		printf("sample %d kind %d faces %d\n", i, s->kind, s->nf);
		for (int k = 0; k < s->nf; k++)
			printf("  face c=(%.1f,%.1f) side %.1f\n", (double)s->f[k].cx, (double)s->f[k].cy, (double)s->f[k].side);
		for (int gy = 0; gy < DT_G; gy++) {
			for (int gx = 0; gx < DT_G; gx++)
				printf("%5.1f%c", (double)z[(gy * DT_G + gx) * DT_NCH], t->pos[gy * DT_G + gx] ? '*' : t->heat[gy * DT_G + gx] > 0.3f ? '+' : t->hw[gy * DT_G + gx] == 0 ? 'i' : ' ');
			printf("\n");
		}
	}
	fnn_free(net);
	dt_free(&d);
	return 0;
}

/* Write a few training samples with their faces drawn (PGM), to check
 * the data pipeline by eye: emotop-train detect samples --faces DIR --out DIR */
static int dt_samples(int argc, char **argv)
{
	struct dt_args a = {.epochs = 1, .batch = 1, .steps = 1, .seed = 1};
	struct dt_data d;
	struct dt_sample *s;
	int rc;

	if ((rc = dt_parse(argc, argv, &a)))
		return rc == 1 ? 0 : rc;
	if (!a.out || dt_load(&d, a.faces, a.fer))
		return 2;
	if (dt_sharp_setup(&d, &a)) {
		dt_free(&d);
		return 1;
	}
	s = malloc(sizeof(*s));
	for (int i = 0; s && i < 24; i++) {
		char path[4096];
		uint8_t img[DT_IN * DT_IN];
		FILE *f;
		dt_sample_make(&d, s, (uint64_t)a.seed * 1000 + (uint64_t)i, i % 4, 0, d.n_train_photo, 0,
			       d.n_train_neg, NULL);
		for (int k = 0; k < DT_IN * DT_IN; k++)
			img[k] = (uint8_t)(s->x[k] * 255.0f);
		for (int j = 0; j < s->nf; j++) {
			const struct dt_face *fc = &s->f[j];
			int x0 = (int)(fc->cx - fc->w / 2), x1 = (int)(fc->cx + fc->w / 2);
			int y0 = (int)(fc->cy - fc->h / 2), y1 = (int)(fc->cy + fc->h / 2);
			uint8_t col = fc->side >= DT_POS_MIN && fc->side <= DT_POS_MAX ? 255 : 0;
			for (int t = x0; t <= x1; t++)
				for (int yy = 0; yy < 2; yy++) {
					int y = yy ? y1 : y0;
					if (t >= 0 && t < DT_IN && y >= 0 && y < DT_IN)
						img[y * DT_IN + t] = col;
				}
			for (int t = y0; t <= y1; t++)
				for (int xx = 0; xx < 2; xx++) {
					int x = xx ? x1 : x0;
					if (t >= 0 && t < DT_IN && x >= 0 && x < DT_IN)
						img[t * DT_IN + x] = col;
				}
			for (int k = 0; fc->lm_kind && k < 5; k++) {
				int x = (int)fc->lm[k][0], y = (int)fc->lm[k][1];
				if (x >= 0 && y >= 0 && x < DT_IN && y < DT_IN)
					img[y * DT_IN + x] = k == 0 ? 255 : 0;
			}
		}
		snprintf(path, sizeof(path), "%s/s%02d.pgm", a.out, i);
		if ((f = fopen(path, "wb"))) {
			fprintf(f, "P5 %d %d 255\n", DT_IN, DT_IN);
			fwrite(img, 1, sizeof(img), f);
			fclose(f);
		}
	}
	free(s);
	dt_free(&d);
	return 0;
}

int train_cmd_detect(int argc, char **argv)
{
	if (argc < 2) {
		dt_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "train"))
		return dt_train(argc - 1, argv + 1);
	if (!strcmp(argv[1], "quantize"))
		return dt_quantize(argc - 1, argv + 1);
	if (!strcmp(argv[1], "eval"))
		return dt_eval_cmd(argc - 1, argv + 1);
	if (!strcmp(argv[1], "calibrate"))
		return dt_calibrate(argc - 1, argv + 1);
	if (!strcmp(argv[1], "fer-framing"))
		return dt_fer_framing(argc - 1, argv + 1);
	if (!strcmp(argv[1], "align-check"))
		return dt_align_check(argc - 1, argv + 1);
	if (!strcmp(argv[1], "debug"))
		return dt_debug(argc - 1, argv + 1);
	if (!strcmp(argv[1], "average"))
		return dt_average(argc - 1, argv + 1);
	if (!strcmp(argv[1], "verifier-data"))
		return dt_verifier_data(argc - 1, argv + 1);
	if (!strcmp(argv[1], "samples"))
		return dt_samples(argc - 1, argv + 1);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		dt_usage(stdout);
		return 0;
	}
	fprintf(stderr, "emotop-train detect: unknown subcommand '%s'\n", argv[1]);
	dt_usage(stderr);
	return 2;
}
