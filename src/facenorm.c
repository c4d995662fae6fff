/* facenorm.c - per-face contrast normalisation (see facenorm.h). */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "emotop/facenorm.h"

int facenorm_from_meta(const struct qnn_model *m, const char *name, int *norm, struct emo_err *err)
{
	char v[32];

	*norm = 0;
	if (!qnn_meta_get(m, "input_norm", v, sizeof(v))) {
		if (strcmp(v, "facenorm"))
			return emo_seterr(err, EMO_EFORMAT, name, 0, 0,
					  "unknown input_norm '%s' in model metadata", v);
		*norm = 1;
	}
	if (!qnn_meta_get(m, "input_blur", v, sizeof(v))) {
		char *end;
		const float blur = strtof(v, &end);
		if (end == v || *end || blur != 0)
			return emo_seterr(err, EMO_EFORMAT, name, 0, 0,
					  "model asks for blurred faces (input_blur=%s), which this emotop "
					  "does not make: train it again with emotop-train",
					  v);
	}
	return EMO_OK;
}

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
