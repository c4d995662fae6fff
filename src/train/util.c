/* util.c - small helpers shared by emotop-train's commands. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
