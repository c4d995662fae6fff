/* fuzz_config.c - libFuzzer target for the YAML config reader (make fuzz;
 * not part of make test). Every input must load or be refused with a
 * message, never crash or leak; a refused input must leave the config as
 * it was (config.h promises it), and a loaded one must pass its own checks
 * again, dump, and give seat regions for a 640x480 frame.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emotop/config.h"
#include "emotop/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct emo_config cfg, before;
	struct emo_err err;
	struct emo_box boxes[64];

	config_defaults(&cfg);
	memcpy(&before, &cfg, sizeof(cfg));
	memset(&err, 0, sizeof(err));
	if (config_load_mem(&cfg, (const char *)data, size, "fuzz.yaml", &err) != EMO_OK) {
		if (!err.msg[0] || memcmp(&cfg, &before, sizeof(cfg)))
			abort(); /* no message, or a half-applied config */
		return 0;
	}
	if (config_check(&cfg, &err) != EMO_OK)
		abort(); /* config_load_mem() ran the same checks */
	FILE *f = fopen("/dev/null", "w");
	if (f) {
		config_dump(&cfg, f);
		fclose(f);
	}
	config_regions(&cfg, 640, 480, boxes, NULL, 64);
	return 0;
}
