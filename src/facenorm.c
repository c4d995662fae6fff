/* facenorm.c - per-face contrast normalisation (see facenorm.h). */
#include <math.h>

#include "emotop/facenorm.h"

void facenorm_apply(uint8_t *px, int n)
{
	int64_t sum = 0, sq = 0;
	double mean, var, gain;

	if (n <= 0)
		return;
	for (int i = 0; i < n; i++) {
		sum += px[i];
		sq += (int64_t)px[i] * px[i];
	}
	/* integer sums: exact, so the result does not depend on the machine */
	mean = (double)sum / n;
	var = (double)sq / n - mean * mean;
	gain = FACENORM_STD / fmax(sqrt(var > 0 ? var : 0), FACENORM_MIN_STD);
	for (int i = 0; i < n; i++) {
		long v = lrint(FACENORM_MEAN + ((double)px[i] - mean) * gain);
		px[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
	}
}
