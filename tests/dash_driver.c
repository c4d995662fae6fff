/* dash_driver.c - runs the dashboard on synthetic snapshots, for the tmux
 * tests (tests/cli/dash_*.sh) and for looking at the dashboard without a
 * camera or a model. Not installed.
 *
 *   dash_driver [--ascii] [--no-color] [--stacked] [--students N]
 *               [--animate] [--frame N] [--stderr-log FILE] [--crash-after N]
 *               [--fault] [--segv-handler] [--confident] [--unnamed]
 *               [--name NAME]...
 *
 * Every 200 ms of wall time it advances a fake 5 fps session by one frame
 * (unless paused from the dashboard), builds a struct summary and hands it to
 * dashboard_draw(). Without --animate the per-student probabilities are fixed
 * (so sort orders are predictable); --frame starts later in the fake session
 * (e.g. 100: alerts and a sparkline already there). r clears the window counters; q exits and
 * prints "dash_driver: quit after N frames" on the restored terminal. A line
 * written to stderr while curses runs is replayed after exit.
 *
 * --crash-after N writes "dash_driver: crashing at frame N" to stderr and
 * raises SIGSEGV at frame N; with --fault it stores to a page mapped without
 * access instead (a real fault). --segv-handler installs a SIGSEGV handler of the
 * driver's own before the dashboard opens (it writes "dash_driver: own
 * SIGSEGV handler ran" and exits 7), as a sanitizer would. --confident gives
 * each student's favourite class about 95% (long bars). Each --name sets the
 * next student's name (the first --name the first student's); --unnamed
 * leaves every student without one (shown by track id, #1, #2, ...).
 * --source STATE (up, reconnecting, lost, ended) is the source's state shown.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dashboard.h"
#include "emotop/emotion.h"
#include "emotop/summary.h"

static const char *const names[] = {
	"Ada", "Bruno", "Chlo\xc3\xa9", "Dmitri", "Emma", "Farid", "Grace", "Hiro",
	"Ines", "Jonas", "Kwame", "Lena", "Mateo", "Nadia", "Oskar", "Priya",
	"Quinn", "Rosa", "Sven", "Tariq", "\xe7\x8e\x8b\xe8\x8a\xb3", "",
	"Maximiliana-Theodora von Hohenberg",
};
#define N_NAMES ((int)(sizeof names / sizeof names[0]))
#define MAX_ARG_NAMES 8

static const char *arg_names[MAX_ARG_NAMES];
static int n_arg_names;
static double fav_weight = 1.2;

/* Deterministic pseudo-random in [0, 1). */
static double hash01(unsigned x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return (x & 0xffffff) / (double)0x1000000;
}

static void make_probs(float *p, int student, double t, int animate)
{
	double sum = 0, v[EMO_NUM_CLASSES];
	int fav = student % EMO_NUM_CLASSES;

	for (int k = 0; k < EMO_NUM_CLASSES; k++) {
		v[k] = 0.05 + 0.3 * hash01((unsigned)(student * 31 + k));
		if (animate)
			v[k] += 0.25 * (1 + sin(t * 0.7 + student + k * 1.3));
		if (k == fav)
			v[k] += fav_weight;
		sum += v[k];
	}
	for (int k = 0; k < EMO_NUM_CLASSES; k++)
		p[k] = (float)(v[k] / sum);
}

static void build(struct summary *s, long long frame, int n_students, int animate,
		  long long window_start)
{
	double t = 1000.0 + frame * 0.2; /* an arbitrary time base */
	int faces = 0;

	memset(s, 0, sizeof *s);
	s->seq = (unsigned long long)frame;
	s->time = t;
	s->start = 1000.0;
	s->uptime = t - s->start;
	s->window = 60;
	s->window_frames = (int)((frame - window_start) < 300 ? frame - window_start : 300);
	s->window_span = s->window_frames * 0.2;
	s->frame_time = t;
	s->n_students = n_students < SUMMARY_MAX_STUDENTS ? n_students : SUMMARY_MAX_STUDENTS;
	for (int i = 0; i < s->n_students; i++) {
		struct summary_student *st = &s->students[i];
		float best = -1;

		st->id = i + 1;
		st->seat = i;
		snprintf(st->name, sizeof st->name, "%s",
			 n_arg_names < 0 ? "" : i < n_arg_names ? arg_names[i] : i < N_NAMES ? names[i] : "");
		make_probs(st->probs, i, t, animate);
		memcpy(st->raw, st->probs, sizeof st->raw);
		for (int k = 0; k < EMO_NUM_CLASSES; k++) {
			if (st->probs[k] > best) {
				best = st->probs[k];
				st->dominant = k;
			}
			if (emo_class_is_negative(k))
				st->negative += st->probs[k];
		}
		st->confidence = best;
		st->first_seen = s->start;
		st->present = i % 5 != 4;
		st->last_seen = st->present ? t : t - 7 - 40 * i;
		if (st->present) {
			faces++;
			for (int k = 0; k < EMO_NUM_CLASSES; k++)
				s->frame_mean[k] += st->probs[k];
		}
	}
	s->faces = faces;
	for (int k = 0; k < EMO_NUM_CLASSES; k++) {
		s->frame_mean[k] = faces ? s->frame_mean[k] / faces : 0;
		s->mean[k] = s->window_frames ? s->frame_mean[k] : 0;
	}
	s->dominant = -1;
	s->frame_dominant = -1;
	for (int k = 0; k < EMO_NUM_CLASSES; k++) {
		if (faces && (s->frame_dominant < 0 || s->frame_mean[k] > s->frame_mean[s->frame_dominant]))
			s->frame_dominant = k;
		if (s->window_frames && faces && (s->dominant < 0 || s->mean[k] > s->mean[s->dominant]))
			s->dominant = k;
		if (emo_class_is_negative(k)) {
			s->frame_negative += s->frame_mean[k];
			s->negative += s->mean[k];
		}
	}
	s->confidence = s->dominant >= 0 ? s->mean[s->dominant] : 0;
	s->mean_faces = faces;

	/* an alert every 50 frames */
	s->alerts_total = frame / 50;
	s->n_alerts = (int)(s->alerts_total < SUMMARY_MAX_ALERTS ? s->alerts_total : SUMMARY_MAX_ALERTS);
	for (int i = 0; i < s->n_alerts; i++) {
		struct summary_alert *a = &s->alerts[i];
		long long seq = s->alerts_total - s->n_alerts + 1 + i;

		a->seq = seq;
		snprintf(a->rule, sizeof a->rule, "%s", seq % 2 ? "negative>40%" : "few-faces");
		a->time = s->start + seq * 10.0;
		a->since = a->time - 30;
		a->value = seq % 2 ? 0.42 + 0.01 * (double)(seq % 7) : 2;
	}

	/* sparkline: one 5 s bucket per 25 frames */
	s->bucket_s = 5;
	s->n_buckets = (int)(frame / 25 + 1 < SUMMARY_SPARK_MAX ? frame / 25 + 1 : SUMMARY_SPARK_MAX);
	for (int i = 0; i < s->n_buckets; i++) {
		struct summary_point *p = &s->buckets[i];
		double h = hash01((unsigned)(frame / 25 - s->n_buckets + 1 + i) + 99u);

		p->t0 = t - (s->n_buckets - i) * 5.0;
		p->span = 5;
		p->frames = 25;
		p->faces = (float)faces;
		p->mean[EMO_HAPPY] = (float)(0.5 * h + 0.1);
		p->negative = (float)(0.5 * (1 - h));
		p->dominant = h > 0.5 ? EMO_HAPPY : EMO_SAD;
	}

	s->stats.frames_analysed = frame;
	s->stats.frames_dropped = frame / 9;
	s->stats.fps = 4.9;
	s->stats.lat_capture_ms = 3.2;
	s->stats.lat_detect_ms = 11.6;
	s->stats.lat_classify_ms = 4.1;
	snprintf(s->stats.source, sizeof s->stats.source, "demo:classroom");
	s->stats.width = 640;
	s->stats.height = 480;
}

/* Stands in for a handler installed before the dashboard (a sanitizer's). */
static void own_segv(int sig)
{
	static const char m[] = "dash_driver: own SIGSEGV handler ran\n";
	ssize_t r = write(STDERR_FILENO, m, sizeof m - 1);

	(void)r;
	(void)sig;
	_exit(7);
}

/* A real SIGSEGV: a store to a page mapped without access (not through a
 * null pointer, which UBSan reports and exits on before any signal). */
static void real_fault(void)
{
	volatile int *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED)
		*p = 1;
}

int main(int argc, char **argv)
{
	struct dashboard_opts o;
	struct emo_err err = {0};
	struct dashboard *d;
	static struct summary snap;
	int n_students = 12, animate = 0, paused = 0, crash_after = -1, fault = 0;
	int source_state = SUMMARY_SOURCE_UP;
	long long frame = 1, window_start = 0;

	dashboard_opts_default(&o);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ascii"))
			o.ascii = 1;
		else if (!strcmp(argv[i], "--no-color"))
			o.no_color = 1;
		else if (!strcmp(argv[i], "--stacked"))
			o.stacked = 1;
		else if (!strcmp(argv[i], "--animate"))
			animate = 1;
		else if (!strcmp(argv[i], "--students") && i + 1 < argc)
			n_students = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--stderr-log") && i + 1 < argc)
			o.stderr_log = argv[++i];
		else if (!strcmp(argv[i], "--frame") && i + 1 < argc)
			frame = atoll(argv[++i]);
		else if (!strcmp(argv[i], "--crash-after") && i + 1 < argc)
			crash_after = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--fault"))
			fault = 1;
		else if (!strcmp(argv[i], "--segv-handler"))
			signal(SIGSEGV, own_segv);
		else if (!strcmp(argv[i], "--unnamed"))
			n_arg_names = -1;
		else if (!strcmp(argv[i], "--confident"))
			fav_weight = 20;
		else if (!strcmp(argv[i], "--name") && i + 1 < argc && n_arg_names >= 0 &&
			 n_arg_names < MAX_ARG_NAMES)
			arg_names[n_arg_names++] = argv[++i];
		else if (!strcmp(argv[i], "--source") && i + 1 < argc) {
			i++;
			for (source_state = 0; source_state < SUMMARY_SOURCE_STATES &&
					       strcmp(argv[i], summary_source_state_name(source_state));
			     source_state++)
				;
		} else {
			fprintf(stderr, "usage: dash_driver [--ascii] [--no-color] [--stacked] "
					"[--students N] [--animate] [--frame N] [--stderr-log FILE] "
					"[--crash-after N] [--fault] [--segv-handler] [--confident] "
					"[--unnamed] [--name NAME]... [--source STATE]\n");
			return 2;
		}
	}
	d = dashboard_open(&o, &err);
	if (!d) {
		fprintf(stderr, "dash_driver: %s\n", err.msg);
		return 1;
	}
	fprintf(stderr, "dash_driver: this stderr line was kept off the screen\n");
	for (;;) {
		int act;

		build(&snap, frame, n_students, animate, window_start);
		snap.stats.source_state = source_state;
		dashboard_draw(d, &snap);
		act = dashboard_poll(d, 200);
		if (act == DASHBOARD_QUIT)
			break;
		if (act == DASHBOARD_PAUSE)
			paused = 1;
		else if (act == DASHBOARD_RESUME)
			paused = 0;
		else if (act == DASHBOARD_RESET)
			window_start = frame;
		if (!paused)
			frame++;
		if (crash_after >= 0 && frame >= crash_after) {
			/* tests the fatal-signal path: this line must be replayed */
			fprintf(stderr, "dash_driver: crashing at frame %lld\n", frame);
			if (fault)
				real_fault();
			raise(SIGSEGV);
		}
	}
	dashboard_close(d);
	printf("dash_driver: quit after %lld frames\n", frame);
	return 0;
}
