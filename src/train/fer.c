/* fer.c - `emotop-train fer`: trains the emotion classifier on FER2013 in
 * float32 (augmentation, class-weighted label-smoothed loss, SGD/AdamW with
 * warm-up and cosine schedule, checkpoint every epoch, resume). */
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "emotop/emotion.h"
#include "train/data.h"
#include "train/fnn.h"
#include "train/train.h"

#define DEFAULT_ARCH "c32,c32,p,c64,c64,p,c128,c128,p,c256,c256,p,d0.4,f256,d0.4,o7"
#define MAX_TEACHERS 8

/* Training state stored in the checkpoint beside the weights. */
struct train_state {
	uint32_t version;
	int32_t epoch;        /* epochs completed */
	int64_t step;
	float best_acc;
	int32_t best_epoch;
	uint64_t seed;
};

struct train_args {
	const char *data, *test, *arch, *ckpt, *log;
	int epochs, batch, resume, seed, seed_set, opt, eval_every, keep, reset_opt, stop_after;
	float lr, wd, momentum, smooth, cw_power, warmup, input_blur, mixup;
	const char *teacher[MAX_TEACHERS];
	int n_teachers;
	float distill, distill_t; /* the teachers' share of the loss, their temperature */
	struct augment aug;
};

/* Float accuracy (optionally with flip TTA) and confusion of net on set. */
void train_eval_float(struct fnn *net, const struct fer_set *set, int tta, int conf[7][7],
		      double *acc)
{
	train_eval_float_ens(&net, 1, set, tta, conf, acc);
}

/* The same for an ensemble: the softmax outputs of n nets averaged. */
void train_eval_float_ens(struct fnn *const *nets, int n_nets, const struct fer_set *set, int tta,
			  int conf[7][7], double *acc)
{
	const int B = 256, N = FER_SIZE * FER_SIZE;
	const int nc = nets[0]->n_out; /* classes: 7 emotions, or 2 for the face verifier */
	float *x = malloc(sizeof(float) * (size_t)B * N), *p = malloc(sizeof(float) * (size_t)B * 7);
	int hits = 0;

	if (nc < 2 || nc > 7) {
		fprintf(stderr, "emotop-train: the network has %d outputs, not those of a classifier (2 to 7)\n",
			nc);
		exit(1);
	}
	if (!x || !p) {
		fprintf(stderr, "emotop-train: out of memory\n");
		exit(1);
	}
	memset(conf, 0, sizeof(int) * 49);
	for (int i = 0; i < set->n; i += B) {
		int n = set->n - i < B ? set->n - i : B;
		const float *z;
		for (int pass = 0; pass < (tta ? 2 : 1) * n_nets; pass++) {
			int flip = pass / n_nets;
			for (int j = 0; j < n; j++) {
				const uint8_t *src = set->px + (size_t)(i + j) * N;
				for (int y = 0; y < FER_SIZE; y++)
					for (int xx = 0; xx < FER_SIZE; xx++)
						x[(size_t)j * N + y * FER_SIZE + xx] =
							src[y * FER_SIZE + (flip ? FER_SIZE - 1 - xx : xx)] / 255.0f;
			}
			z = fnn_forward(nets[pass % n_nets], x, n, 0);
			if (!pass)
				memset(p, 0, sizeof(float) * (size_t)n * 7);
			for (int j = 0; j < n; j++)
				train_add_softmax(z + (size_t)j * nc, nc, 1, NULL, 1, p + (size_t)j * 7);
		}
		for (int j = 0; j < n; j++) {
			int am = 0;
			for (int k = 1; k < nc; k++)
				if (p[j * 7 + k] > p[j * 7 + am])
					am = k;
			conf[set->label[i + j]][am]++;
			hits += am == set->label[i + j];
		}
	}
	*acc = (double)hits / set->n;
	free(x);
	free(p);
}

/* Mixup (Zhang et al., ICLR 2018) of one batch of n faces in x, in place:
 * face j becomes lam x[j] + (1 - lam) x[perm[j]], perm a shuffle of the
 * batch and lam one Beta(alpha, alpha) draw (folded to >= 0.5, so a face's
 * own label leads); labb[j] gets the partner's label. xb is scratch of
 * the batch's size. Returns lam. Reproducible from seed. */
static float fer_mix_batch(float *x, float *xb, const int *lab, int *labb, int *perm, int n,
			   float alpha, uint64_t seed)
{
	const size_t N = FER_SIZE * FER_SIZE;
	uint64_t s = seed;
	float lam = train_rand_beta(&s, alpha);

	if (lam < 0.5f)
		lam = 1 - lam;
	train_shuffle(perm, n, train_rand_next(&s));
	memcpy(xb, x, sizeof(float) * N * (size_t)n);
	for (int j = 0; j < n; j++) {
		const float *o = xb + (size_t)perm[j] * N;
		float *d = x + (size_t)j * N;

		for (size_t i = 0; i < N; i++)
			d[i] = lam * d[i] + (1 - lam) * o[i];
		labb[j] = lab[perm[j]];
	}
	return lam;
}

/* The teachers' probabilities for distillation: softmax(z / T) of each
 * of the n_t networks (in inference mode) on the batch x of n faces,
 * averaged into p [n][nc]. */
static void teacher_probs(struct fnn *const *teach, int n_t, const float *x, int n, int nc, float T,
			  float *p)
{
	memset(p, 0, sizeof(float) * (size_t)n * (size_t)nc);
	for (int t = 0; t < n_t; t++) {
		const float *z = fnn_forward(teach[t], x, n, 0);

		for (int i = 0; i < n; i++)
			train_add_softmax(z + (size_t)i * nc, nc, T, NULL, 1.0f / (float)n_t,
					  p + (size_t)i * nc);
	}
}

static void usage_fer(FILE *f)
{
	fprintf(f,
		"usage: emotop-train fer --data DIR|CSV [options]\n"
		"  --data P        FER2013 root (with train/ and test/) or fer2013.csv\n"
		"  --test P        validation set (default DIR/test or the CSV's PublicTest)\n"
		"  --arch SPEC     network (default " DEFAULT_ARCH ")\n"
		"  --epochs N      (default 40)    --batch N (default 128)\n"
		"  --lr X          peak learning rate (default 0.05 SGD, 0.002 AdamW)\n"
		"  --adamw         AdamW instead of SGD with Nesterov momentum\n"
		"  --wd X          weight decay (default 5e-4 SGD, 0.05 AdamW)\n"
		"  --smooth X      label smoothing (default 0.1)\n"
		"  --class-weight-power X  loss weight (N/7n_c)^X per class (default 0.3)\n"
		"  --ckpt FILE     checkpoint, written every epoch (default runs/emo7.ckpt);\n"
		"                  the best epoch goes to FILE.best\n"
		"  --resume        continue from --ckpt (its seed and optimizer; the optimizer\n"
		"                  state must be in it and be the one asked for)\n"
		"  --reset-optimizer  with --resume: start the optimizer state afresh (a .best,\n"
		"                  .eN or averaged checkpoint, or another optimizer)\n"
		"  --stop-after N  train at most N epochs in this run (the schedule still\n"
		"                  spans --epochs; --resume continues)\n"
		"  --keep          also keep every epoch's weights as FILE.eN (for averaging)\n"
		"  --log FILE      append progress lines (default FILE of --ckpt + .log)\n"
		"  --seed N        (default 1; a resumed run keeps the checkpoint's)\n"
		"  --input-blur S  Gaussian blur of the validation faces (default 0: none, as\n"
		"                  emotop classifies faces; for experiments with blurred data)\n"
		"augmentation (maximum random change per face):\n"
		"  --rot DEG (10)  --scale X (0.10)  --shift X (0.08 of the side)  --no-flip\n"
		"  --bright X (0.05 of full scale)  --contrast X (0.10)  --erase P (0: off)\n"
		"  --aug-blur S (0: off)  half the faces blurred, Gaussian sigma up to S px\n"
		"  --jpeg Q (0: off)  a third of the faces JPEG-compressed at quality Q..95\n"
		"  --noise X (0: off)  half the faces with Gaussian noise of sd up to X\n"
		"  --lowlight P (0: off)  share of dark frames stretched by the contrast\n"
		"                  normalisation (12-48 grey levels, their noise stretched)\n"
		"  --sidelight P (0: off)  share of faces lit from one side: a ramp from\n"
		"                  1 - k to 1 + k across (k up to 0.6), then normalised again\n"
		"  --mixup A (0: off)  blend each batch with itself shuffled, faces and labels,\n"
		"                  by one weight drawn from Beta(A, A) per batch (0.2 is usual)\n"
		"distillation (the teachers are given again on --resume):\n"
		"  --teacher FILE  a classifier checkpoint whose softened probabilities the\n"
		"                  network learns as well; up to 8, their probabilities averaged\n"
		"  --distill W     the teachers' share of the loss (default 0.5 with --teacher)\n"
		"  --distill-temp T  the temperature of both softmaxes there (default 2)\n");
}

int train_cmd_fer(int argc, char **argv)
{
	static const struct option lo[] = {
		{"data", 1, 0, 'd'}, {"test", 1, 0, 'T'}, {"arch", 1, 0, 'a'}, {"epochs", 1, 0, 'e'},
		{"batch", 1, 0, 'b'}, {"lr", 1, 0, 'l'}, {"adamw", 0, 0, 'A'}, {"wd", 1, 0, 'w'},
		{"smooth", 1, 0, 's'}, {"class-weight-power", 1, 0, 'c'}, {"ckpt", 1, 0, 'k'},
		{"resume", 0, 0, 'r'}, {"log", 1, 0, 'L'}, {"seed", 1, 0, 'S'}, {"help", 0, 0, 'h'},
		{"warmup", 1, 0, 'W'}, {"rot", 1, 0, 'R'}, {"scale", 1, 0, 'Z'}, {"shift", 1, 0, 'X'},
		{"input-blur", 1, 0, 'I'}, {"bright", 1, 0, 'B'}, {"contrast", 1, 0, 'C'}, {"erase", 1, 0, 'E'}, {"no-flip", 0, 0, 'F'},
		{"aug-blur", 1, 0, 'U'}, {"noise", 1, 0, 'N'}, {"jpeg", 1, 0, 'J'}, {"lowlight", 1, 0, 'G'},
		{"sidelight", 1, 0, 'Q'},
		{"keep", 0, 0, 'K'}, {"reset-optimizer", 0, 0, 'O'}, {"stop-after", 1, 0, 'P'}, {"mixup", 1, 0, 'M'},
		{"teacher", 1, 0, 'H'}, {"distill", 1, 0, 'D'}, {"distill-temp", 1, 0, 'Y'},
		{0, 0, 0, 0}};
	struct train_args a = {
		.arch = DEFAULT_ARCH, .ckpt = "runs/emo7.ckpt", .epochs = 40, .batch = 128,
		.seed = 1, .lr = -1, .wd = -1, .momentum = 0.9f, .smooth = 0.1f, .cw_power = 0.3f,
		.warmup = 1.0f, .input_blur = TRAIN_INPUT_BLUR, .distill = -1, .distill_t = 2,
		.aug = {.rot_deg = 10, .scale = 0.10f, .shift = 0.08f, .flip = 1, .brightness = 0.05f,
			.contrast = 0.10f, .erase = 0.0f},
	};
	struct fer_set train = {0}, test = {0};
	struct fnn *net = NULL;
	struct train_state st = {.version = 1};
	char testpath[4096], logpath[4096], best[4096];
	FILE *log = NULL;
	struct fnn *teach[MAX_TEACHERS] = {0};
	float *x = NULL, *dz = NULL, *xb = NULL, *dzb = NULL, *pt = NULL, cw[7];
	int *lab = NULL, *labb = NULL, *perm = NULL, *order = NULL, o, rc = 1, nc = 7;
	long steps_per_epoch, lv;
	double t0;

	optind = 1;
	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (o) {
		case 'd': a.data = optarg; break;
		case 'T': a.test = optarg; break;
		case 'a': a.arch = optarg; break;
		case 'e':
			if (train_parse_int("--epochs", "a count", optarg, 1, 100000, &lv))
				return 2;
			a.epochs = (int)lv;
			break;
		case 'b':
			if (train_parse_int("--batch", "a count", optarg, 1, 4096, &lv))
				return 2;
			a.batch = (int)lv;
			break;
		case 'P':
			if (train_parse_int("--stop-after", "a count of epochs", optarg, 1, 100000, &lv))
				return 2;
			a.stop_after = (int)lv;
			break;
		case 'S':
			if (train_parse_int("--seed", "a number", optarg, 0, 2147483647, &lv))
				return 2;
			a.seed = (int)lv;
			a.seed_set = 1;
			break;
		case 'l': if (train_parse_range("--lr", "a learning rate", optarg, 0, 10, &a.lr)) return 2; break;
		case 'A': a.opt = FNN_ADAMW; break;
		case 'w': if (train_parse_range("--wd", "a weight decay", optarg, 0, 1, &a.wd)) return 2; break;
		case 's': if (train_parse_range("--smooth", "a share", optarg, 0, 1, &a.smooth)) return 2; break;
		case 'c':
			if (train_parse_range("--class-weight-power", "a power", optarg, 0, 4, &a.cw_power))
				return 2;
			break;
		case 'k': a.ckpt = optarg; break;
		case 'r': a.resume = 1; break;
		case 'O': a.reset_opt = 1; break;
		case 'L': a.log = optarg; break;
		case 'W': if (train_parse_range("--warmup", "epochs", optarg, 0, 100000, &a.warmup)) return 2; break;
		case 'R': if (train_parse_range("--rot", "degrees", optarg, 0, 180, &a.aug.rot_deg)) return 2; break;
		case 'Z': if (train_parse_range("--scale", "a share", optarg, 0, 0.9f, &a.aug.scale)) return 2; break;
		case 'X': if (train_parse_range("--shift", "a share of the side", optarg, 0, 0.5f, &a.aug.shift)) return 2; break;
		case 'B': if (train_parse_range("--bright", "a share of full scale", optarg, 0, 1, &a.aug.brightness)) return 2; break;
		case 'C': if (train_parse_range("--contrast", "a share", optarg, 0, 1, &a.aug.contrast)) return 2; break;
		case 'E': if (train_parse_range("--erase", "a probability", optarg, 0, 1, &a.aug.erase)) return 2; break;
		case 'U':
			if (train_parse_range("--aug-blur", "a sigma in px", optarg, 0, 8, &a.aug.blur))
				return 2;
			break;
		case 'N': if (train_parse_range("--noise", "a share of full scale", optarg, 0, 0.3f, &a.aug.noise)) return 2; break;
		case 'G': if (train_parse_range("--lowlight", "a probability", optarg, 0, 1, &a.aug.lowlight)) return 2; break;
		case 'Q': if (train_parse_range("--sidelight", "a probability", optarg, 0, 1, &a.aug.sidelight)) return 2; break;
		case 'J':
			if (train_parse_int("--jpeg", "a JPEG quality (0: off)", optarg, 0, 95, &lv))
				return 2;
			a.aug.jpeg = (int)lv;
			break;
		case 'M': if (train_parse_range("--mixup", "a Beta parameter (0: off)", optarg, 0, 10, &a.mixup)) return 2; break;
		case 'H':
			if (a.n_teachers == MAX_TEACHERS) {
				fprintf(stderr, "emotop-train: at most %d --teacher\n", MAX_TEACHERS);
				return 2;
			}
			a.teacher[a.n_teachers++] = optarg;
			break;
		case 'D': if (train_parse_range("--distill", "a share of the loss", optarg, 0, 1, &a.distill)) return 2; break;
		case 'Y': if (train_parse_range("--distill-temp", "a temperature", optarg, 0.1f, 100, &a.distill_t)) return 2; break;
		case 'F': a.aug.flip = 0; break;
		case 'K': a.keep = 1; break;
		case 'I':
			if (train_parse_range("--input-blur", "a sigma in px", optarg, 0, 8, &a.input_blur))
				return 2;
			break;
		case 'h': usage_fer(stdout); return 0;
		default: usage_fer(stderr); return 2;
		}
	}
	if (!a.data || optind != argc) {
		usage_fer(stderr);
		return 2;
	}
	if (a.distill >= 0 && !a.n_teachers) {
		fprintf(stderr, "emotop-train: --distill goes with --teacher\n");
		return 2;
	}
	if (a.distill < 0)
		a.distill = a.n_teachers ? 0.5f : 0;
	if (a.reset_opt && !a.resume) {
		fprintf(stderr, "emotop-train: --reset-optimizer goes with --resume\n");
		return 2;
	}
	if (a.lr < 0)
		a.lr = a.opt == FNN_ADAMW ? 0.002f : 0.05f;
	if (a.wd < 0)
		a.wd = a.opt == FNN_ADAMW ? 0.05f : 5e-4f;
	/* the teachers first: a wrong one costs no data load, folder or log */
	for (int t = 0; t < a.n_teachers; t++)
		if (train_load_classifier(a.teacher[t], &teach[t]))
			goto out;
	if (train_load_split(a.data, "Training", 0, &train))
		goto out;
	if (!a.test) {
		size_t n = strlen(a.data);
		if (n > 4 && !strcmp(a.data + n - 4, ".csv"))
			snprintf(testpath, sizeof(testpath), "%s", a.data);
		else
			snprintf(testpath, sizeof(testpath), "%s/test", a.data);
		a.test = testpath;
	}
	if (train_load_split(a.test, "PublicTest", a.input_blur, &test))
		goto out;
	snprintf(logpath, sizeof(logpath), "%s.log", a.ckpt);
	snprintf(best, sizeof(best), "%s.best", a.ckpt);
	if (train_mkdir_parent(a.ckpt))
		goto out;
	log = fopen(a.log ? a.log : logpath, "a");
	net = fnn_new(a.arch, (struct fnn_shape){FER_SIZE, FER_SIZE, 1}, (uint64_t)a.seed);
	/* 7 outputs: the emotions; 2: the face detector's verifier (labels 0
	 * not a face, 1 a face; `emotop-train detect verifier-data`) */
	if (!net || net->n_out < 2 || net->n_out > 7) {
		fprintf(stderr, "emotop-train: the architecture must end with 2 to 7 outputs\n");
		goto out;
	}
	nc = net->n_out;
	for (int c = nc; c < 7; c++)
		if (train.count[c] || test.count[c]) {
			fprintf(stderr, "emotop-train: the data has label %d, the network %d outputs\n", c, nc);
			goto out;
		}
	if (train.n < a.batch) {
		fprintf(stderr, "emotop-train: %s: %d training faces, fewer than one batch (--batch %d)\n",
			a.data, train.n, a.batch);
		goto out;
	}
	st.seed = (uint64_t)a.seed;
	if (a.resume) {
		if (fnn_load(net, a.ckpt, &st, sizeof(st), NULL))
			goto out;
		/* the seed draws the shuffles, augmentation and dropout */
		if (train_resume_seed(a.ckpt, st.seed, a.seed_set, a.seed)) {
			rc = 2;
			goto out;
		}
		if (a.reset_opt) {
			/* new moments, and Adam's bias correction from step 1 */
			fnn_reset_opt(net);
			st.step = 0;
		} else if (fnn_resume_check(net, a.ckpt, (enum fnn_opt)a.opt, "--reset-optimizer")) {
			rc = 2;
			goto out;
		}
		train_log(log, "resumed %s at epoch %d (best %.2f%% at %d)%s\n", a.ckpt, st.epoch,
			  st.best_acc * 100, st.best_epoch, a.reset_opt ? ", optimizer state reset" : "");
	}
	for (int c = 0; c < nc; c++)
		cw[c] = train.count[c] ? powf((float)train.n / ((float)nc * train.count[c]), a.cw_power) : 1;
	train_log(log,
		  "train %d faces, test %d; arch %s; %ld params, %.1f M MAC/face; %s lr %g wd %g "
		  "batch %d epochs %d smooth %g cw^%g; aug rot %g scale %g shift %g flip %d bright %g "
		  "contrast %g erase %g blur %g jpeg %d noise %g lowlight %g sidelight %g mixup %g\n",
		  train.n, test.n, a.arch, fnn_param_count(net), fnn_macs(net) / 1e6,
		  a.opt == FNN_ADAMW ? "AdamW" : "SGD-Nesterov", a.lr, a.wd, a.batch, a.epochs,
		  a.smooth, a.cw_power, a.aug.rot_deg, a.aug.scale, a.aug.shift, a.aug.flip,
		  a.aug.brightness, a.aug.contrast, a.aug.erase, a.aug.blur, a.aug.jpeg, a.aug.noise, a.aug.lowlight,
		  a.aug.sidelight, a.mixup);
	x = malloc(sizeof(float) * (size_t)a.batch * FER_SIZE * FER_SIZE);
	dz = malloc(sizeof(float) * (size_t)a.batch * (size_t)nc);
	lab = malloc(sizeof(int) * (size_t)a.batch);
	order = malloc(sizeof(int) * (size_t)train.n);
	for (int t = 0; t < a.n_teachers; t++) {
		if (teach[t]->n_out != nc) {
			fprintf(stderr, "emotop-train: %s: a teacher needs %d outputs, not %d\n", a.teacher[t],
				nc, teach[t]->n_out);
			goto out;
		}
		if (fnn_reserve(teach[t], a.batch)) {
			fprintf(stderr, "emotop-train: out of memory\n");
			goto out;
		}
		train_log(log, "teacher %s (%s), %.1f M MAC/face, share %g at temperature %g\n",
			  a.teacher[t], teach[t]->arch, fnn_macs(teach[t]) / 1e6, a.distill, a.distill_t);
	}
	if (a.n_teachers)
		pt = malloc(sizeof(float) * (size_t)a.batch * (size_t)nc);
	if (a.mixup > 0 || a.n_teachers) {
		dzb = malloc(sizeof(float) * (size_t)a.batch * (size_t)nc);
		if (a.mixup > 0) {
			xb = malloc(sizeof(float) * (size_t)a.batch * FER_SIZE * FER_SIZE);
			labb = malloc(sizeof(int) * (size_t)a.batch);
			perm = malloc(sizeof(int) * (size_t)a.batch);
		}
	}
	if (!x || !dz || !lab || !order || (a.mixup > 0 && (!xb || !labb || !perm)) ||
	    ((a.mixup > 0 || a.n_teachers) && !dzb) || (a.n_teachers && !pt) ||
	    fnn_reserve(net, a.batch)) {
		fprintf(stderr, "emotop-train: out of memory\n");
		goto out;
	}
	steps_per_epoch = train.n / a.batch;
	t0 = train_now();
	for (int ep = st.epoch, ep0 = st.epoch; ep < a.epochs && (!a.stop_after || ep < ep0 + a.stop_after);
	     ep++) {
		uint64_t rs = st.seed * 1000003ULL + (uint64_t)ep;
		double loss_sum = 0, te = train_now(), acc;
		long hits = 0, seen = 0;
		int conf[7][7];

		train_shuffle(order, train.n, rs);
		for (long b = 0; b < steps_per_epoch; b++) {
			double prog = (double)(ep * steps_per_epoch + b) / (double)(a.epochs * steps_per_epoch);
			double wu = a.warmup / a.epochs;
			float lr = prog < wu ? a.lr * (float)(prog / wu)
					     : a.lr * 0.5f * (1.0f + cosf((float)(M_PI * (prog - wu) / (1 - wu))));
			const float *z;
			int correct;
			float loss, lam = 1;

#pragma omp parallel for schedule(static)
			for (int j = 0; j < a.batch; j++) {
				int idx = order[b * a.batch + j];
				fer_augment(train.px + (size_t)idx * FER_SIZE * FER_SIZE,
					    x + (size_t)j * FER_SIZE * FER_SIZE, &a.aug,
					    st.seed * 0x9e3779b97f4a7c15ULL + (uint64_t)ep * 7919 * (uint64_t)train.n +
						    (uint64_t)idx);
			}
			for (int j = 0; j < a.batch; j++)
				lab[j] = train.label[order[b * a.batch + j]];
			if (a.mixup > 0)
				lam = fer_mix_batch(x, xb, lab, labb, perm, a.batch, a.mixup,
						    rs ^ (0x6a09e667f3bcc909ULL * (uint64_t)(b + 1)));
			if (a.n_teachers)
				teacher_probs(teach, a.n_teachers, x, a.batch, nc, a.distill_t, pt);
			z = fnn_forward(net, x, a.batch, 1);
			loss = fnn_softmax_xent(z, lab, a.batch, nc, a.smooth, cw, dz, &correct);
			if (a.mixup > 0) {
				/* the blend's loss and gradient: lam of each face's own
				 * label, 1 - lam of its partner's */
				float lb = fnn_softmax_xent(z, labb, a.batch, nc, a.smooth, cw, dzb, NULL);
				loss = lam * loss + (1 - lam) * lb;
				for (long k = 0; k < (long)a.batch * nc; k++)
					dz[k] = lam * dz[k] + (1 - lam) * dzb[k];
			}
			if (a.n_teachers) {
				float ls = fnn_soft_xent(z, pt, a.batch, nc, a.distill_t, dzb);
				loss = (1 - a.distill) * loss + a.distill * ls;
				for (long k = 0; k < (long)a.batch * nc; k++)
					dz[k] = (1 - a.distill) * dz[k] + a.distill * dzb[k];
			}
			fnn_zero_grad(net);
			fnn_backward(net, x, dz, a.batch);
			st.step++;
			fnn_step(net, (enum fnn_opt)a.opt, lr, a.momentum, a.wd, st.step);
			loss_sum += loss;
			hits += correct;
			seen += a.batch;
			if (!isfinite(loss)) {
				train_log(log, "loss is not finite at epoch %d step %ld: stopping\n", ep + 1, b);
				goto out;
			}
			if ((b + 1) % 25 == 0 || b + 1 == steps_per_epoch) {
				double el = train_now() - te, rate = seen / el;
				double left = ((double)(a.epochs - ep - 1) * steps_per_epoch + (steps_per_epoch - b - 1)) *
					      a.batch / rate;
				fprintf(stderr,
					"\repoch %d/%d  %5ld/%ld  loss %.4f  acc %.3f  lr %.4f  %.0f img/s  ETA %dh%02dm ",
					ep + 1, a.epochs, b + 1, steps_per_epoch, loss_sum / (b + 1),
					(double)hits / seen, lr, rate, (int)(left / 3600), (int)(left / 60) % 60);
			}
		}
		fprintf(stderr, "\n");
		train_eval_float(net, &test, 0, conf, &acc);
		st.epoch = ep + 1;
		if (acc > st.best_acc) {
			st.best_acc = (float)acc;
			st.best_epoch = ep + 1;
			if (fnn_save(net, best, &st, sizeof(st), 0))
				goto out;
		}
		if (fnn_save(net, a.ckpt, &st, sizeof(st), 1))
			goto out;
		if (a.keep) {
			char kp[4200];
			snprintf(kp, sizeof(kp), "%s.e%d", a.ckpt, ep + 1);
			if (fnn_save(net, kp, &st, sizeof(st), 0))
				goto out;
		}
		train_log(log,
			  "epoch %d/%d  train loss %.4f acc %.4f  test acc %.4f  best %.4f (epoch %d)  "
			  "%.0f s/epoch  elapsed %.0f s\n",
			  ep + 1, a.epochs, loss_sum / steps_per_epoch, (double)hits / seen, acc,
			  st.best_acc, st.best_epoch, train_now() - te, train_now() - t0);
	}
	rc = 0;
out:
	if (log)
		fclose(log);
	free(x);
	free(dz);
	free(lab);
	free(order);
	free(xb);
	free(dzb);
	free(labb);
	free(perm);
	free(pt);
	for (int t = 0; t < a.n_teachers; t++)
		fnn_free(teach[t]);
	fnn_free(net);
	fer_free(&train);
	fer_free(&test);
	return rc;
}

/* Is the last component of path (trailing slashes aside) a test split's
 * name: test, PublicTest, PrivateTest (any case)? */
static int split_is_test(const char *path)
{
	static const char *const names[] = {"test", "publictest", "privatetest"};
	size_t n = strlen(path), b;

	while (n > 1 && path[n - 1] == '/')
		n--;
	for (b = n; b > 0 && path[b - 1] != '/'; b--)
		;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (n - b == strlen(names[i]) && !strncasecmp(path + b, names[i], n - b))
			return 1;
	return 0;
}

/* A FER root with train/ and test/, a split folder itself, or a CSV. The
 * training split (training, calibration, batch-norm statistics) never comes
 * from a test split: a folder named test (PublicTest, PrivateTest) is
 * refused, and a CSV gives its Training rows only. */
int train_load_split(const char *path, const char *usage, float blur, struct fer_set *out)
{
	char sub[4096];
	size_t n = strlen(path);
	struct stat sb;
	int rc, training = !strcmp(usage, "Training");

	memset(out, 0, sizeof(*out));
	if (n > 4 && !strcmp(path + n - 4, ".csv")) {
		rc = fer_load(path, usage, out);
	} else {
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path, training ? "train" : "test") >= sizeof(sub)) {
			fprintf(stderr, "emotop-train: %s: path too long\n", path);
			return -1;
		}
		if (!stat(sub, &sb) && S_ISDIR(sb.st_mode)) {
			rc = fer_load(sub, NULL, out);
		} else if (training && split_is_test(path)) {
			fprintf(stderr,
				"emotop-train: %s is a test split: training, calibration and batch-norm "
				"statistics need the training split (a root with train/, the train folder, "
				"or fer2013.csv)\n",
				path);
			return -1;
		} else {
			rc = fer_load(path, NULL, out);
		}
	}
	if (!rc && blur >= 0)
		fer_preprocess(out, blur);
	return rc;
}
