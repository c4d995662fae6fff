/* detect_cmd.c - emotop-train detect: the subcommands' options (one
 * struct dt_args for all), their usage, and the dispatcher.
 *
 *   emotop-train detect train    --faces DIR [--fer DIR] [--epochs N] [--resume] ...
 *   emotop-train detect quantize --ckpt FILE --faces DIR [--out models/face.qnn]
 *   emotop-train detect eval     --faces DIR [--fer DIR] [--model FILE] ...
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/detect_int.h"
#include "train/train.h"

#define DT_XSTR(...) #__VA_ARGS__
#define DT_STR(...) DT_XSTR(__VA_ARGS__)

void dt_usage(FILE *f)
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
		"  --init FILE     train: start from a first-format (square, 14-map) detector's\n"
		"                  checkpoint with the same backbone, its side map feeding\n"
		"                  both size maps\n"
		"  --wider F       train: the share of photo crops cut from WIDER FACE around\n"
		"                  one of its faces (default " DT_STR(DT_WIDER_DEFAULT) ")\n"
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
		"                  instead of FER2013's training faces (default " DT_STR(DT_SHARP_DEFAULT) ")\n"
		"  --gallery-blur S  eval: blur the galleries' FER2013 faces (Gaussian, sigma S px\n"
		"                  at 48x48; 3 was the blur of the old training split)\n"
		"  --min-face N    eval, verifier-data: the detector's smallest face (default\n"
		"                  20; 10 runs on the frame upscaled 2x); eval's recall counts\n"
		"                  faces >= N px\n"
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

int dt_parse(int argc, char **argv, struct dt_args *a)
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
