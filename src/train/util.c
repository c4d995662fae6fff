/* util.c - small helpers shared by emotop-train's commands. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "train/train.h"

double train_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int train_grow(void *arr, int *cap, int n, size_t elem, int first)
{
	void *old, *p;
	int nc;

	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : first;
	memcpy(&old, arr, sizeof(old));
	if (!(p = realloc(old, elem * (size_t)nc)))
		return -1;
	memcpy(arr, &p, sizeof(p));
	*cap = nc;
	return 0;
}

int train_parse_range(const char *opt, const char *what, const char *arg, float lo, float hi, float *v)
{
	char *end;

	*v = strtof(arg, &end);
	if (end == arg || *end || !(*v >= lo && *v <= hi)) {
		fprintf(stderr, "emotop-train: %s wants %s from %g to %g, not '%s'\n", opt, what, (double)lo,
			(double)hi, arg);
		return -1;
	}
	return 0;
}

int train_parse_int(const char *opt, const char *what, const char *arg, long lo, long hi, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(arg, &end, 10);
	if (end == arg || *end || errno || *v < lo || *v > hi) {
		fprintf(stderr, "emotop-train: %s wants %s from %ld to %ld, not '%s'\n", opt, what, lo, hi,
			arg);
		return -1;
	}
	return 0;
}

int train_resume_seed(const char *ckpt, uint64_t stored, int seed_set, int seed)
{
	if (!seed_set || stored == (uint64_t)seed)
		return 0;
	fprintf(stderr, "emotop-train: %s was trained with --seed %llu, not %d: a resumed run keeps its "
			"seed (leave --seed out)\n",
		ckpt, (unsigned long long)stored, seed);
	return -1;
}

int train_mkdir_parent(const char *path)
{
	char *dir = strdup(path), *sl;
	struct stat sb;
	int rc = 0;

	if (!dir) {
		fprintf(stderr, "emotop-train: out of memory\n");
		return -1;
	}
	if ((sl = strrchr(dir, '/')) && sl != dir) {
		*sl = '\0';
		/* each folder on the way, as mkdir -p */
		for (char *p = dir + 1; !rc; p++) {
			if (*p && *p != '/')
				continue;
			char c = *p;
			*p = '\0';
			if (mkdir(dir, 0755) && errno != EEXIST) {
				fprintf(stderr, "emotop-train: cannot create the folder %s: %s\n", dir, strerror(errno));
				rc = -1;
			} else if (stat(dir, &sb) || !S_ISDIR(sb.st_mode)) {
				fprintf(stderr, "emotop-train: %s is not a folder\n", dir);
				rc = -1;
			}
			*p = c;
			if (!c)
				break;
		}
	}
	free(dir);
	return rc;
}

void train_log(FILE *log, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (log) {
		va_start(ap, fmt);
		vfprintf(log, fmt, ap);
		va_end(ap);
		fflush(log);
	}
}

void train_shuffle(int *order, int n, uint64_t seed)
{
	uint64_t rs = seed;

	for (int i = 0; i < n; i++)
		order[i] = i;
	for (int i = n - 1; i > 0; i--) {
		int j, t;
		rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
		j = (int)((rs >> 33) % (uint64_t)(i + 1));
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
}
