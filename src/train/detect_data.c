/* detect_data.c - emotop-train detect's data: WebFaces photos and their
 * five-point faces boxed by the WIDER rule, WIDER FACE crowd photos (ignore
 * regions, held-out split), landmark crops, FER2013 faces and negatives;
 * decoding them once into memory, and mining unannotated faces as ignore
 * regions with a detector.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emotop/detect.h"
#include "emotop/image.h"
#include "train/data.h"
#include "train/detect_int.h"
#include "train/train.h"

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
struct emo_box dt_face_box(const struct dt_face *f)
{
	return (struct emo_box){f->cx - f->w * 0.5f, f->cy - f->h * 0.5f, f->w, f->h};
}

void dt_face_size(struct dt_face *f, float w, float h)
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
int dt_load(struct dt_data *d, const char *root, const char *fer)
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
int dt_preload(struct dt_data *d)
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
int dt_mine_ignore(struct dt_data *d, const char *model, float thr)
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

void dt_free(struct dt_data *d)
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
