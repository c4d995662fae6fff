/* data.c - FER2013 readers (folder of JPEGs via libjpeg, Kaggle CSV) and
 * the training augmentation. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>

#include <jpeglib.h>
#include <stdlib.h>
#include <string.h>

#include "emotop/emotion.h"
#include "emotop/facenorm.h"
#include "train/data.h"

struct jpeg_err {
	struct jpeg_error_mgr mgr;
	jmp_buf jb;
};

static void jpeg_err_exit(j_common_ptr cinfo)
{
	struct jpeg_err *e = (struct jpeg_err *)cinfo->err;
	longjmp(e->jb, 1);
}

/* libjpeg's messages are not printed; its warnings (level -1: corrupt or
 * truncated data, which it pads) are counted as jpeg_std_error's would be. */
static void jpeg_quiet(j_common_ptr cinfo, int level)
{
	if (level < 0)
		cinfo->err->num_warnings++;
}

int jpeg_load_gray(const char *path, uint8_t **px, int *w, int *h)
{
	struct jpeg_decompress_struct ci;
	struct jpeg_err je;
	FILE *f = fopen(path, "rb");
	uint8_t *volatile buf = NULL;

	*px = NULL;
	if (!f)
		return -1;
	ci.err = jpeg_std_error(&je.mgr);
	je.mgr.error_exit = jpeg_err_exit;
	je.mgr.emit_message = jpeg_quiet;
	if (setjmp(je.jb)) {
		jpeg_destroy_decompress(&ci);
		fclose(f);
		free(buf);
		return -1;
	}
	jpeg_create_decompress(&ci);
	jpeg_stdio_src(&ci, f);
	jpeg_read_header(&ci, TRUE);
	ci.out_color_space = JCS_GRAYSCALE;
	jpeg_start_decompress(&ci);
	if (ci.output_width == 0 || ci.output_height == 0 || ci.output_width > 16384 ||
	    ci.output_height > 16384)
		longjmp(je.jb, 1);
	buf = malloc((size_t)ci.output_width * ci.output_height);
	if (!buf)
		longjmp(je.jb, 1);
	while (ci.output_scanline < ci.output_height) {
		JSAMPROW row = (JSAMPROW)(buf + (size_t)ci.output_scanline * ci.output_width);
		jpeg_read_scanlines(&ci, &row, 1);
	}
	jpeg_finish_decompress(&ci);
	/* a truncated or corrupt file decodes with padding and a warning: it
	 * is not a readable image */
	if (je.mgr.num_warnings > 0)
		longjmp(je.jb, 1);
	*w = (int)ci.output_width;
	*h = (int)ci.output_height;
	jpeg_destroy_decompress(&ci);
	fclose(f);
	*px = buf;
	return 0;
}

int jpeg_size(const char *path, int *w, int *h)
{
	struct jpeg_decompress_struct ci;
	struct jpeg_err je;
	FILE *f = fopen(path, "rb");

	if (!f)
		return -1;
	ci.err = jpeg_std_error(&je.mgr);
	je.mgr.error_exit = jpeg_err_exit;
	je.mgr.emit_message = jpeg_quiet;
	if (setjmp(je.jb)) {
		jpeg_destroy_decompress(&ci);
		fclose(f);
		return -1;
	}
	jpeg_create_decompress(&ci);
	jpeg_stdio_src(&ci, f);
	jpeg_read_header(&ci, TRUE);
	*w = (int)ci.image_width;
	*h = (int)ci.image_height;
	jpeg_destroy_decompress(&ci);
	fclose(f);
	return 0;
}

int jpeg_roundtrip_gray(uint8_t *px, int w, int h, int quality)
{
	struct jpeg_compress_struct co;
	struct jpeg_decompress_struct de;
	struct jpeg_err je;
	/* our buffer, big enough for any JPEG of this image (libjpeg would
	 * otherwise grow its own, which an error path could not free) */
	const unsigned long cap = 2ul * (unsigned long)w * (unsigned long)h + 65536;
	unsigned char *volatile mem = NULL;
	unsigned long len = cap;
	volatile int made_co = 0, made_de = 0;

	if (!px || w < 1 || h < 1 || w > 16384 || h > 16384 || quality < 1 || quality > 100)
		return -1;
	if (!(mem = malloc(cap)))
		return -1;
	if (setjmp(je.jb)) {
		if (made_co)
			jpeg_destroy_compress(&co);
		if (made_de)
			jpeg_destroy_decompress(&de);
		free(mem);
		return -1;
	}
	co.err = jpeg_std_error(&je.mgr);
	je.mgr.error_exit = jpeg_err_exit;
	je.mgr.emit_message = jpeg_quiet;
	jpeg_create_compress(&co);
	made_co = 1;
	{
		unsigned char *m = mem;
		jpeg_mem_dest(&co, &m, &len);
		co.image_width = (JDIMENSION)w;
		co.image_height = (JDIMENSION)h;
		co.input_components = 1;
		co.in_color_space = JCS_GRAYSCALE;
		jpeg_set_defaults(&co);
		jpeg_set_quality(&co, quality, TRUE);
		jpeg_start_compress(&co, TRUE);
		while (co.next_scanline < co.image_height) {
			JSAMPROW row = (JSAMPROW)(px + (size_t)co.next_scanline * w);
			jpeg_write_scanlines(&co, &row, 1);
		}
		jpeg_finish_compress(&co);
		if (m != mem) { /* grown after all: use libjpeg's buffer */
			free(mem);
			mem = m;
		}
	}
	jpeg_destroy_compress(&co);
	made_co = 0;
	de.err = jpeg_std_error(&je.mgr);
	je.mgr.error_exit = jpeg_err_exit;
	je.mgr.emit_message = jpeg_quiet;
	jpeg_create_decompress(&de);
	made_de = 1;
	jpeg_mem_src(&de, mem, len);
	jpeg_read_header(&de, TRUE);
	de.out_color_space = JCS_GRAYSCALE;
	jpeg_start_decompress(&de);
	if (de.output_width != (JDIMENSION)w || de.output_height != (JDIMENSION)h)
		longjmp(je.jb, 1);
	while (de.output_scanline < de.output_height) {
		JSAMPROW row = (JSAMPROW)(px + (size_t)de.output_scanline * w);
		jpeg_read_scanlines(&de, &row, 1);
	}
	jpeg_finish_decompress(&de);
	jpeg_destroy_decompress(&de);
	free(mem);
	return 0;
}

static int fer_push(struct fer_set *s, int *cap, const uint8_t *img, int label)
{
	if (s->n == *cap) {
		int nc = *cap ? *cap * 2 : 4096;
		uint8_t *np = realloc(s->px, (size_t)nc * FER_SIZE * FER_SIZE);
		int *nl;
		if (!np)
			return -1;
		s->px = np;
		nl = realloc(s->label, (size_t)nc * sizeof(int));
		if (!nl)
			return -1;
		s->label = nl;
		*cap = nc;
	}
	memcpy(s->px + (size_t)s->n * FER_SIZE * FER_SIZE, img, FER_SIZE * FER_SIZE);
	s->label[s->n++] = label;
	s->count[label]++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int fer_load_dir(const char *root, struct fer_set *s)
{
	int cap = 0;

	for (int c = 0; c < EMO_NUM_CLASSES; c++) {
		char dir[4096];
		DIR *d;
		struct dirent *e;
		char **names = NULL;
		int nn = 0, ncap = 0, rc = 0;

		snprintf(dir, sizeof(dir), "%s/%s", root, emo_class_name(c));
		if (!(d = opendir(dir))) {
			fprintf(stderr, "emotop-train: %s: %s\n", dir, strerror(errno));
			return -1;
		}
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			if (nn == ncap) {
				char **nw = realloc(names, sizeof(char *) * (size_t)(ncap = ncap ? ncap * 2 : 1024));
				if (!nw) {
					rc = -1;
					break;
				}
				names = nw;
			}
			if (!(names[nn] = strdup(e->d_name))) {
				rc = -1;
				break;
			}
			nn++;
		}
		closedir(d);
		/* sorted, so runs are reproducible whatever the directory order */
		if (!rc)
			qsort(names, (size_t)nn, sizeof(char *), cmp_str);
		for (int i = 0; !rc && i < nn; i++) {
			char path[8192];
			uint8_t *px;
			int w, h;
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			/* FER2013 holds no damaged file (all 32,298 here decode
			 * cleanly): one that does not is an error, not a face */
			if (jpeg_load_gray(path, &px, &w, &h)) {
				fprintf(stderr, "emotop-train: %s: not a readable, complete JPEG\n", path);
				rc = -2;
				break;
			}
			if (w != FER_SIZE || h != FER_SIZE) {
				fprintf(stderr, "emotop-train: %s: %dx%d, expected 48x48, skipped\n", path, w, h);
				free(px);
				continue;
			}
			rc = fer_push(s, &cap, px, c);
			free(px);
		}
		for (int i = 0; i < nn; i++)
			free(names[i]);
		free(names);
		if (rc) {
			if (rc == -1)
				fprintf(stderr, "emotop-train: out of memory\n");
			return -1;
		}
	}
	return 0;
}

static int fer_load_csv(const char *path, const char *usage, struct fer_set *s)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t lcap = 0;
	long lineno = 0;
	int cap = 0, rc = 0;

	if (!f) {
		fprintf(stderr, "emotop-train: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (getline(&line, &lcap, f) > 0) {
		uint8_t img[FER_SIZE * FER_SIZE];
		char *p = line, *end;
		long v;
		int label, i;

		lineno++;
		if (lineno == 1 && !strncmp(line, "emotion", 7))
			continue;
		/* range-checked as a long: 4294967299 is not class 3 */
		v = strtol(p, &end, 10);
		if (end == p || *end != ',' || v < 0 || v >= EMO_NUM_CLASSES)
			goto bad;
		label = (int)v;
		p = end + 1;
		if (*p == '"')
			p++;
		for (i = 0; i < FER_SIZE * FER_SIZE; i++) {
			v = strtol(p, &end, 10);
			if (end == p || v < 0 || v > 255)
				goto bad;
			img[i] = (uint8_t)v;
			p = end;
			while (*p == ' ')
				p++;
		}
		if (*p == '"')
			p++;
		if (*p != ',')
			goto bad;
		p++;
		p[strcspn(p, "\r\n")] = '\0';
		if (strcmp(p, "Training") && strcmp(p, "PublicTest") && strcmp(p, "PrivateTest")) {
			fprintf(stderr, "emotop-train: %s:%ld: unknown Usage '%.40s' (want Training, "
					"PublicTest or PrivateTest)\n",
				path, lineno, p);
			rc = -1;
			break;
		}
		if (usage && strcmp(p, usage))
			continue;
		if (fer_push(s, &cap, img, label)) {
			rc = -1;
			fprintf(stderr, "emotop-train: out of memory\n");
			break;
		}
		continue;
bad:
		fprintf(stderr, "emotop-train: %s:%ld: malformed row (want emotion,pixels,Usage with 2304 pixels)\n",
			path, lineno);
		rc = -1;
		break;
	}
	free(line);
	fclose(f);
	return rc;
}

int fer_load(const char *path, const char *usage, struct fer_set *out)
{
	size_t n = strlen(path);
	int rc;

	memset(out, 0, sizeof(*out));
	if (n > 4 && !strcmp(path + n - 4, ".csv"))
		rc = fer_load_csv(path, usage, out);
	else
		rc = fer_load_dir(path, out);
	if (!rc && out->n == 0) {
		fprintf(stderr, "emotop-train: %s: no faces found\n", path);
		rc = -1;
	}

	if (rc)
		fer_free(out);
	return rc;
}

void fer_preprocess(struct fer_set *s, float blur)
{
	uint8_t tmp[FER_SIZE * FER_SIZE];

	for (int i = 0; i < s->n; i++) {
		uint8_t *px = s->px + (size_t)i * FER_SIZE * FER_SIZE;
		facenorm_blur(px, FER_SIZE, FER_SIZE, blur, tmp);
		facenorm_apply(px, FER_SIZE * FER_SIZE);
	}
}

void fer_free(struct fer_set *s)
{
	if (!s)
		return;
	free(s->px);
	free(s->label);
	memset(s, 0, sizeof(*s));
}

uint64_t train_rand_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* uniform in [-1, 1) */
static float aug_sym(uint64_t *s)
{
	return (float)((train_rand_next(s) >> 40) * (2.0 / 16777216.0) - 1.0);
}

static float aug_unit(uint64_t *s)
{
	return (float)((train_rand_next(s) >> 40) * (1.0 / 16777216.0));
}

/* A standard normal draw (Box-Muller). */
static float aug_gauss(uint64_t *s)
{
	const float u1 = 1.0f - aug_unit(s), u2 = aug_unit(s); /* u1 in (0, 1] */
	return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853f * u2);
}

/* The logarithm of a Gamma(k, 1) draw, k > 0 (Marsaglia and Tsang 2000;
 * k < 1 through Gamma(k + 1) U^(1/k), whose U^(1/k) underflows for a
 * small k: hence the logarithm). */
static double rand_log_gamma(uint64_t *s, double k)
{
	const double d = (k < 1 ? k + 1 : k) - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
	double v;

	for (;;) {
		double x = aug_gauss(s), u = 1.0 - aug_unit(s); /* u in (0, 1] */
		v = 1 + c * x;
		if (v <= 0)
			continue;
		v = v * v * v;
		if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
			break;
	}
	v = log(v * d);
	if (k < 1)
		v += log(1.0 - aug_unit(s)) / k; /* 1 - u in (0, 1] */
	return v;
}

float train_rand_beta(uint64_t *s, float a)
{
	double lx = rand_log_gamma(s, a), ly = rand_log_gamma(s, a);

	return (float)(1.0 / (1.0 + exp(ly - lx))); /* x / (x + y) */
}

/* Light from one side on a 48x48 face in 0..1: times a ramp from 1 - k to
 * 1 + k along direction phi (radians), then the mean and spread put back
 * to facenorm's (facenorm.h), as emotop normalises every crop. */
static void side_light(float *px, float k, float phi)
{
	const int N = FER_SIZE;
	const float c = (N - 1) * 0.5f, ux = cosf(phi) / c, uy = sinf(phi) / c;
	double sum = 0, sq = 0;
	float mean, sd, g;

	for (int y = 0; y < N; y++)
		for (int x = 0; x < N; x++) {
			float *v = &px[y * N + x];
			*v *= 1.0f + k * (((float)x - c) * ux + ((float)y - c) * uy) * 0.70710678f;
			sum += *v;
			sq += (double)*v * *v;
		}
	mean = (float)(sum / (N * N));
	sd = sqrtf(fmaxf((float)(sq / (N * N)) - mean * mean, 0));
	g = (FACENORM_STD / 255.0f) / fmaxf(sd, FACENORM_MIN_STD / 255.0f);
	for (int i = 0; i < N * N; i++) {
		float v = (FACENORM_MEAN / 255.0f) + (px[i] - mean) * g;
		px[i] = v < 0 ? 0 : v > 1 ? 1 : v;
	}
}

void fer_augment(const uint8_t *src, float *dst, const struct augment *aug, uint64_t seed)
{
	const int N = FER_SIZE;
	uint64_t s = seed;
	float a, sc, cs, sn, tx, ty, cx = (N - 1) * 0.5f, gain = 1, bias = 0;
	uint8_t blurred[FER_SIZE * FER_SIZE], tmp[FER_SIZE * FER_SIZE];
	int flip;

	if (!aug) {
		for (int i = 0; i < N * N; i++)
			dst[i] = src[i] * (1.0f / 255.0f);
		return;
	}
	/* drawn only when on, so that the other draws stay as they were */
	if (aug->jpeg > 0 && aug_unit(&s) < 1.0f / 3) {
		memcpy(blurred, src, sizeof(blurred));
		if (jpeg_roundtrip_gray(blurred, N, N, aug->jpeg + (int)(aug_unit(&s) * (float)(96 - aug->jpeg))) == 0)
			src = blurred;
	}
	if (aug->blur > 0 && aug_unit(&s) < 0.5f) {
		if (src != blurred)
			memcpy(blurred, src, sizeof(blurred));
		facenorm_blur(blurred, N, N, aug->blur * (1.0f - aug_unit(&s)), tmp);
		src = blurred;
	}
	a = aug->rot_deg * aug_sym(&s) * 3.14159265f / 180.0f;
	sc = 1.0f + aug->scale * aug_sym(&s);
	tx = aug->shift * N * aug_sym(&s);
	ty = aug->shift * N * aug_sym(&s);
	flip = aug->flip && (train_rand_next(&s) & 1);
	cs = cosf(a) / sc;
	sn = sinf(a) / sc;
	gain = 1.0f + aug->contrast * aug_sym(&s);
	bias = aug->brightness * aug_sym(&s);
	/* inverse map: output pixel -> source pixel, around the centre */
	for (int y = 0; y < N; y++)
		for (int x = 0; x < N; x++) {
			float ox = (float)(flip ? N - 1 - x : x) - cx - tx, oy = (float)y - cx - ty;
			float sx = cs * ox + sn * oy + cx, sy = -sn * ox + cs * oy + cx;
			int x0, y0;
			float fx, fy, v;
			if (sx < 0)
				sx = 0;
			if (sy < 0)
				sy = 0;
			if (sx > N - 1)
				sx = (float)(N - 1);
			if (sy > N - 1)
				sy = (float)(N - 1);
			x0 = (int)sx;
			y0 = (int)sy;
			if (x0 > N - 2)
				x0 = N - 2;
			if (y0 > N - 2)
				y0 = N - 2;
			fx = sx - (float)x0;
			fy = sy - (float)y0;
			v = (1 - fy) * ((1 - fx) * src[y0 * N + x0] + fx * src[y0 * N + x0 + 1]) +
			    fy * ((1 - fx) * src[(y0 + 1) * N + x0] + fx * src[(y0 + 1) * N + x0 + 1]);
			v = v * (1.0f / 255.0f);
			v = (v - 0.5f) * gain + 0.5f + bias;
			dst[y * N + x] = v < 0 ? 0 : v > 1 ? 1 : v;
		}
	if (aug->erase > 0 && aug_unit(&s) < aug->erase) {
		int ew = 8 + (int)(aug_unit(&s) * 16), eh = 8 + (int)(aug_unit(&s) * 16);
		int ex = (int)(aug_unit(&s) * (float)(N - ew)), ey = (int)(aug_unit(&s) * (float)(N - eh));
		for (int y = ey; y < ey + eh; y++)
			for (int x = ex; x < ex + ew; x++)
				dst[y * N + x] = aug_unit(&s);
	}
	if (aug->lowlight > 0 && aug_unit(&s) < aug->lowlight) {
		/* few grey levels, stretched, with the sensor's noise stretched too */
		const float levels = 12 + aug_unit(&s) * 36, sd = (1.5f + aug_unit(&s) * 2.5f) / levels;
		for (int i = 0; i < N * N; i++) {
			float v = floorf(dst[i] * levels + 0.5f) / levels + sd * aug_gauss(&s);
			dst[i] = v < 0 ? 0 : v > 1 ? 1 : v;
		}
	}
	if (aug->noise > 0 && aug_unit(&s) < 0.5f) {
		const float sd = aug->noise * (1.0f - aug_unit(&s));
		for (int i = 0; i < N * N; i++) {
			float v = dst[i] + sd * aug_gauss(&s);
			dst[i] = v < 0 ? 0 : v > 1 ? 1 : v;
		}
	}
	if (aug->sidelight > 0 && aug_unit(&s) < aug->sidelight)
		side_light(dst, 0.6f * (1.0f - aug_unit(&s)), 6.2831853f * aug_unit(&s));
}

/* Augmentation and experiments only: emotop classifies faces unblurred. */
#define FACENORM_BLUR_MAX_R 24
#define FACENORM_BLUR_STRIP 256 /* columns per pass */

void facenorm_blur(uint8_t *px, int w, int h, float sigma, uint8_t *tmp)
{
	int32_t k[2 * FACENORM_BLUR_MAX_R + 1];
	double g[2 * FACENORM_BLUR_MAX_R + 1], gsum = 0;
	int r, sum = 0;

	if (!(sigma > 0 && sigma <= 8) || w <= 0 || h <= 0)
		return;
	r = (int)ceil(3.0 * sigma);
	if (r > FACENORM_BLUR_MAX_R)
		r = FACENORM_BLUR_MAX_R;
	for (int i = -r; i <= r; i++)
		gsum += g[i + r] = exp(-(double)i * i / (2.0 * sigma * sigma));
	for (int i = -r; i <= r; i++)
		sum += k[i + r] = (int32_t)lrint(65536.0 * g[i + r] / gsum);
	/* make the weights sum to exactly 65536 */
	k[r] += 65536 - sum;
	/* each sum is at most 65536 * 255 < 2^31: int32 is exact. Rows, then
	 * columns, a tap at a time over a strip of a line, so the inner loops
	 * vectorize; border pixels are replicated. */
	for (int x0 = 0; x0 < w; x0 += FACENORM_BLUR_STRIP) {
		const int n = w - x0 < FACENORM_BLUR_STRIP ? w - x0 : FACENORM_BLUR_STRIP;
		int32_t acc[FACENORM_BLUR_STRIP];
		uint8_t line[FACENORM_BLUR_STRIP + 2 * FACENORM_BLUR_MAX_R];
		for (int y = 0; y < h; y++) {
			const uint8_t *row = px + (size_t)y * w;
			for (int i = 0; i < n + 2 * r; i++) {
				int xx = x0 + i - r;
				line[i] = row[xx < 0 ? 0 : xx >= w ? w - 1 : xx];
			}
			for (int x = 0; x < n; x++)
				acc[x] = 32768;
			for (int i = 0; i <= 2 * r; i++)
				for (int x = 0; x < n; x++)
					acc[x] += k[i] * line[x + i];
			for (int x = 0; x < n; x++)
				tmp[(size_t)y * w + x0 + x] = (uint8_t)(acc[x] >> 16);
		}
	}
	for (int x0 = 0; x0 < w; x0 += FACENORM_BLUR_STRIP) {
		const int n = w - x0 < FACENORM_BLUR_STRIP ? w - x0 : FACENORM_BLUR_STRIP;
		int32_t acc[FACENORM_BLUR_STRIP];
		for (int y = 0; y < h; y++) {
			for (int x = 0; x < n; x++)
				acc[x] = 32768;
			for (int i = -r; i <= r; i++) {
				const int yy = y + i < 0 ? 0 : y + i >= h ? h - 1 : y + i;
				const uint8_t *src = tmp + (size_t)yy * w + x0;
				for (int x = 0; x < n; x++)
					acc[x] += k[i + r] * src[x];
			}
			for (int x = 0; x < n; x++)
				px[(size_t)y * w + x0 + x] = (uint8_t)(acc[x] >> 16);
		}
	}
}
