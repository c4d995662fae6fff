/* test_capture.c - capture.c against media generated here with the ffmpeg CLI
 * (nothing committed): sampling, full-range gray, errors, demo, drops,
 * HTTP reconnect and prompt close on 127.0.0.1 (ffmpeg's own server and a
 * small file server here), live and finished HLS, image read/write. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libavutil/log.h>

#include "emotop/capture.h"
#include "unit.h"

/* Bound on waits that should succeed: generous, the tests also run under
 * valgrind on a loaded machine. Only a hang guard, nothing is timed. */
#define WAIT_MS 60000

static char dir[256];
static int have_ffmpeg = -1;
static pid_t server_pid;
static pid_t files_pid;    /* serve_files() */
static pid_t producer_pid; /* live HLS writer */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static const char *path(const char *name)
{
	static char buf[8][512];
	static int i;
	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* Make the media once: returns 0 when ffmpeg is unavailable. */
static int fixtures(void)
{
	const char *q = "ffmpeg -nostdin -loglevel error -y";

	if (have_ffmpeg >= 0)
		return have_ffmpeg;
	have_ffmpeg = 0;
	if (sh("ffmpeg -version >/dev/null 2>&1"))
		return 0;
	if (sh("%s -f lavfi -i testsrc2=s=320x240:r=25 -t 2 -c:v libx264 -preset veryfast -bf 2 "
	       "-pix_fmt yuv420p %s", q, path("clip.mp4")) &&
	    sh("%s -f lavfi -i testsrc2=s=320x240:r=25 -t 2 -c:v mpeg4 %s", q, path("clip.mp4")))
		return 0;
	/* black | mid gray | white bands, odd width: linesize != width */
	if (sh("%s -f lavfi -i color=c=black:s=102x50:r=10 -vf "
	       "drawbox=x=34:y=0:w=34:h=50:color=0x808080:t=fill,"
	       "drawbox=x=68:y=0:w=34:h=50:color=white:t=fill -t 1 -c:v mpeg4 -q:v 1 "
	       "-pix_fmt yuv420p %s", q, path("bands.mp4")))
		return 0;
	if (sh("%s -i %s -c:v mjpeg -q:v 1 -pix_fmt yuvj420p %s", q, path("bands.mp4"),
	       path("bands_mjpeg.mkv")))
		return 0;
	if (sh("%s -i %s -frames:v 1 %s", q, path("bands.mp4"), path("bands.png")))
		return 0;
	if (sh("%s -f lavfi -i testsrc2=s=320x240:r=25 -t 4 -c:v mpeg4 -g 10 -f mpegts %s", q,
	       path("clip.ts")))
		return 0;
	if (sh("%s -f lavfi -i testsrc2=s=160x120:r=60 -t 3 -c:v mpeg4 -g 30 %s", q,
	       path("fast60.mp4")))
		return 0;
	if (sh("%s -f lavfi -i sine=d=1 %s", q, path("audio.wav")))
		return 0;
	/* truncated copies: an mp4 without its moov, a transport stream cut mid-way */
	if (sh("head -c 30000 %s > %s && head -c $(( $(stat -c %%s %s) / 2 )) %s > %s",
	       path("clip.mp4"), path("trunc.mp4"), path("clip.ts"), path("clip.ts"),
	       path("trunc.ts")))
		return 0;
	if (sh("printf 'hello\\nthis is text\\n' > %s && cp %s %s", path("notes.txt"),
	       path("notes.txt"), path("notes.mp4")))
		return 0;
	have_ffmpeg = 1;
	return 1;
}

#define NEED_FIXTURES()                                                     \
	do {                                                                \
		if (!fixtures())                                            \
			SKIP("ffmpeg CLI (with mpeg4 encoder) not available"); \
	} while (0)

static struct capture *open_src(const char *src, double fps, int realtime, struct emo_err *err,
				int *rc)
{
	struct capture_opts o;
	struct capture *c = NULL;

	capture_opts_default(&o);
	o.source = src;
	o.fps = fps;
	o.realtime = realtime;
	*rc = capture_open(&c, &o, err);
	return c;
}

/* Read to the end; returns the number of frames, checks their size. */
static int count_frames(struct capture *c, int w, int h, int *last_rc)
{
	struct emo_image g;
	struct capture_frame_info fi;
	int n = 0, rc;

	while ((rc = capture_next(c, &g, &fi, WAIT_MS, NULL)) == EMO_OK) {
		if (g.w != w || g.h != h || g.stride < g.w || !g.px)
			return -1;
		n++;
	}
	*last_rc = rc;
	return n;
}

TEST(file_sampling_count_and_size)
{
	struct emo_err err = { 0 };
	struct capture *c;
	struct capture_stats st;
	struct emo_image g;
	struct capture_frame_info fi;
	int rc, n = 0;
	double prev = -1;

	NEED_FIXTURES();
	c = open_src(path("clip.mp4"), 5, 0, &err, &rc);
	ASSERT_EQ(rc, EMO_OK);
	while ((rc = capture_next(c, &g, &fi, WAIT_MS, NULL)) == EMO_OK) {
		ASSERT_EQ(g.w, 320);
		ASSERT_EQ(g.h, 240);
		ASSERT_EQ(fi.dropped, 0);
		/* one frame per 1/5 s of media time, in order */
		ASSERT_NEAR(fi.media_time, n * 0.2, 0.041);
		ASSERT(fi.media_time > prev);
		prev = fi.media_time;
		n++;
	}
	ASSERT_EQ(rc, EMO_EEOF);
	ASSERT_EQ(n, 10);
	capture_stats(c, &st);
	ASSERT_EQ(st.decoded, 50);
	ASSERT_EQ(st.delivered, 10);
	ASSERT_EQ(st.skipped, 40);
	ASSERT_EQ(st.dropped, 0);
	ASSERT_EQ(st.width, 320);
	ASSERT_NEAR(st.fps, 25, 0.01);
	ASSERT_EQ(st.live, 0);
	/* the end is sticky */
	ASSERT_EQ(capture_next(c, &g, &fi, 0, NULL), EMO_EEOF);
	capture_close(&c);
	ASSERT(c == NULL);
	capture_close(&c); /* NULL-safe */
}

TEST(file_every_frame_and_scaling)
{
	struct emo_err err = { 0 };
	struct capture_opts o;
	struct capture *c = NULL;
	int rc, n;

	NEED_FIXTURES();
	c = open_src(path("clip.mp4"), 0, 0, &err, &rc);
	ASSERT_EQ(rc, EMO_OK);
	n = count_frames(c, 320, 240, &rc);
	ASSERT_EQ(rc, EMO_EEOF);
	ASSERT_EQ(n, 50);
	capture_close(&c);

	capture_opts_default(&o);
	o.source = path("clip.mp4");
	o.max_side = 160;
	o.fps = 10;
	ASSERT_EQ(capture_open(&c, &o, &err), EMO_OK);
	n = count_frames(c, 160, 120, &rc);
	ASSERT_EQ(rc, EMO_EEOF);
	ASSERT_EQ(n, 20);
	capture_close(&c);
}

static int px(const struct emo_image *g, int x, int y)
{
	return g->px[y * g->stride + x];
}

static void check_bands(const char *file, int want_rgb)
{
	struct capture_opts o;
	struct capture *c = NULL;
	struct emo_err err = { 0 };
	struct emo_image g;
	struct capture_frame_info fi;

	capture_opts_default(&o);
	o.source = file;
	o.want_rgb = want_rgb;
	ASSERT_EQ(capture_open(&c, &o, &err), EMO_OK);
	ASSERT_EQ(capture_next(c, &g, &fi, WAIT_MS, &err), EMO_OK);
	ASSERT_EQ(g.w, 102);
	ASSERT_EQ(g.h, 50);
	/* full range: limited-range black (16) must become 0, white (235) 255 */
	ASSERT_NEAR(px(&g, 17, 25), 0, 3);
	ASSERT_NEAR(px(&g, 51, 25), 128, 3);
	ASSERT_NEAR(px(&g, 85, 25), 255, 3);
	ASSERT_NEAR(px(&g, 101, 49), 255, 3); /* last column of the last row */
	if (want_rgb) {
		ASSERT(fi.rgb.px != NULL);
		ASSERT_EQ(fi.rgb.w, 102);
		ASSERT(fi.rgb.stride >= 3 * 102);
		for (int k = 0; k < 3; k++) {
			ASSERT_NEAR(fi.rgb.px[25 * fi.rgb.stride + 17 * 3 + k], 0, 4);
			ASSERT_NEAR(fi.rgb.px[25 * fi.rgb.stride + 85 * 3 + k], 255, 4);
		}
	} else {
		ASSERT(fi.rgb.px == NULL);
	}
	capture_close(&c);
}

TEST(gray_full_range_limited_source)
{
	NEED_FIXTURES();
	check_bands(path("bands.mp4"), 1);
}

TEST(gray_full_range_yuvj_mjpeg)
{
	NEED_FIXTURES();
	check_bands(path("bands_mjpeg.mkv"), 0);
}

static void expect_open_error(const char *src, int code, const char *needle)
{
	struct emo_err err = { 0 };
	struct capture *c = (struct capture *)&err; /* must be reset to NULL */
	struct capture_opts o;
	int rc;

	capture_opts_default(&o);
	o.source = src;
	o.timeout_ms = 2000;
	rc = capture_open(&c, &o, &err);
	if (rc != code || c != NULL || !strstr(err.msg, needle))
		fprintf(stderr, "  %s: rc %d msg \"%s\"\n", src, rc, err.msg);
	ASSERT_EQ(rc, code);
	ASSERT(c == NULL);
	ASSERT(strstr(err.msg, needle) != NULL);
}

TEST(bad_sources)
{
	NEED_FIXTURES();
	expect_open_error(path("missing.mp4"), EMO_ESOURCE, "no such file");
	expect_open_error(path("notes.txt"), EMO_ESOURCE, "not a video");
	expect_open_error(path("notes.mp4"), EMO_ESOURCE, "not a video");
	expect_open_error(path("trunc.mp4"), EMO_ESOURCE, "cannot");
	expect_open_error(path("audio.wav"), EMO_ESOURCE, "no video stream");
	expect_open_error(dir, EMO_ESOURCE, "cannot open");
	expect_open_error("", EMO_EINVAL, "no video source");
	expect_open_error("demo:abc", EMO_EINVAL, "demo");
	expect_open_error("webcam:x", EMO_EINVAL, "webcam");
	expect_open_error("screen+1,x", EMO_EINVAL, "screen");
	expect_open_error("screen/10", EMO_EINVAL, "screen");
	expect_open_error("/dev/video97", EMO_ESOURCE, "cannot open");
}

TEST(truncated_stream_delivers_then_ends)
{
	struct emo_err err = { 0 };
	struct capture *c;
	int rc, n;

	NEED_FIXTURES();
	c = open_src(path("trunc.ts"), 0, 0, &err, &rc);
	ASSERT_EQ(rc, EMO_OK);
	n = count_frames(c, 320, 240, &rc);
	ASSERT_EQ(rc, EMO_EEOF);
	ASSERT(n > 5);
	ASSERT(n < 100); /* the whole clip has 100 frames */
	capture_close(&c);
}

/* A file with a real 20 s gap between frames (a motion-triggered recording):
 * media time follows the timestamps, the gap is not a discontinuity. */
TEST(file_timestamp_gap_kept)
{
	struct emo_err err = { 0 };
	struct capture *c;
	struct emo_image g;
	struct capture_frame_info fi;
	double last = -1;
	int rc, n = 0;

	NEED_FIXTURES();
	if (sh("ffmpeg -nostdin -loglevel error -y -t 2 -f lavfi -i testsrc2=s=160x120:r=25 "
	       "-vf \"setpts='if(gte(N,25),PTS+20/TB,PTS)'\" -fps_mode vfr -c:v mpeg4 %s",
	       path("gap.mkv")))
		SKIP("ffmpeg cannot write a variable-frame-rate mkv (-fps_mode)");
	c = open_src(path("gap.mkv"), 0, 0, &err, &rc);
	ASSERT_EQ(rc, EMO_OK);
	while ((rc = capture_next(c, &g, &fi, WAIT_MS, NULL)) == EMO_OK) {
		ASSERT(fi.media_time > last);
		last = fi.media_time;
		n++;
	}
	ASSERT_EQ(rc, EMO_EEOF);
	ASSERT_EQ(n, 50);
	ASSERT_NEAR(last, 20 + 49 * 0.04, 0.05); /* collapsed: 1.96 */
	capture_close(&c);
}

TEST(demo_live_frames)
{
	struct emo_err err = { 0 };
	struct capture *c;
	struct capture_stats st;
	struct emo_image g;
	struct capture_frame_info fi;
	static uint8_t first[640 * 480];
	double sum = 0, sum2 = 0, diff = 0;
	int rc;

	c = open_src("demo", 5, 0, &err, &rc);
	ASSERT_EQ(rc, EMO_OK);
	ASSERT_EQ(capture_next(c, &g, &fi, WAIT_MS, &err), EMO_OK);
	ASSERT_EQ(g.w, 640);
	ASSERT_EQ(g.h, 480);
	for (int y = 0; y < 480; y++)
		for (int x = 0; x < 640; x++) {
			int v = px(&g, x, y);
			first[y * 640 + x] = (uint8_t)v;
			sum += v;
			sum2 += (double)v * v;
		}
	sum /= 640 * 480;
	ASSERT(sqrt(sum2 / (640 * 480) - sum * sum) > 20); /* a picture, not a flat field */
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(capture_next(c, &g, &fi, WAIT_MS, &err), EMO_OK);
	for (int y = 0; y < 480; y++)
		for (int x = 0; x < 640; x++)
			diff += abs(px(&g, x, y) - first[y * 640 + x]);
	ASSERT(diff > 0); /* it moves */
	capture_stats(c, &st);
	ASSERT_EQ(st.live, 1);
	ASSERT_EQ(st.width, 640);
	capture_request_stop(c);
	ASSERT_EQ(capture_next(c, &g, &fi, -1, NULL), EMO_EINTR);
	capture_close(&c);
}

TEST(demo_finite_sampled)
{
	struct emo_err err = { 0 };
	struct capture *c;
	int rc, n;

	c = open_src("demo:2", 5, 0, &err, &rc);
	ASSERT_EQ(rc, EMO_OK);
	n = count_frames(c, 640, 480, &rc);
	ASSERT_EQ(rc, EMO_EEOF);
	ASSERT_EQ(n, 10);
	capture_close(&c);
}

TEST(realtime_fast_source_drops)
{
	struct emo_err err = { 0 };
	struct capture *c;
	struct capture_stats st;
	struct emo_image g;
	struct capture_frame_info fi;
	int64_t prev = -1, sum_dropped = 0, n = 0;
	int rc;

	NEED_FIXTURES();
	c = open_src(path("fast60.mp4"), 5, 1, &err, &rc);
	ASSERT_EQ(rc, EMO_OK);
	while ((rc = capture_next(c, &g, &fi, WAIT_MS, NULL)) == EMO_OK) {
		ASSERT_EQ(g.w, 160);
		ASSERT(fi.index > prev);
		/* the gap since the previous delivery was dropped */
		ASSERT_EQ(fi.index - prev - 1, fi.dropped);
		prev = fi.index;
		sum_dropped += fi.dropped;
		n++;
		sleep_ms(200); /* a slow consumer */
	}
	ASSERT_EQ(rc, EMO_EEOF);
	capture_stats(c, &st);
	ASSERT(st.dropped > 0);
	ASSERT_EQ(st.dropped, sum_dropped);
	ASSERT_EQ(st.decoded, st.delivered + st.dropped);
	ASSERT_EQ(st.delivered, n);
	ASSERT(n < 180 / 2); /* most of the 180 frames were dropped, none queued */
	capture_close(&c);
}

/* reconnect=1 on a file loops it; media time keeps counting. */
TEST(file_loop_with_reconnect)
{
	struct capture_opts o;
	struct capture *c = NULL;
	struct capture_stats st;
	struct emo_err err = { 0 };
	struct emo_image g;
	struct capture_frame_info fi;
	double prev = -1;
	int n = 0;

	NEED_FIXTURES();
	capture_opts_default(&o);
	o.source = path("clip.mp4");
	o.reconnect = 1;
	o.backoff_min_s = 0.05;
	ASSERT_EQ(capture_open(&c, &o, &err), EMO_OK);
	while (n < 25 && capture_next(c, &g, &fi, WAIT_MS, NULL) == EMO_OK) {
		ASSERT(fi.media_time > prev); /* no jump back at the loop point */
		prev = fi.media_time;
		n++;
	}
	ASSERT_EQ(n, 25);
	ASSERT(prev > 4.5); /* 25 frames at 5 fps: into the third pass */
	capture_stats(c, &st);
	ASSERT(st.reconnects >= 2);
	ASSERT_EQ(st.dropped, 0);
	capture_close(&c);
}

/* An external flag (as set by a signal handler) interrupts waits and opens. */
TEST(cancel_flag)
{
	static volatile sig_atomic_t flag;
	struct capture_opts o;
	struct capture *c = NULL;
	struct emo_err err = { 0 };
	struct emo_image g;
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	char url[64];
	int s, rc;

	flag = 0;
	capture_opts_default(&o);
	o.source = "demo";
	o.cancel = &flag;
	ASSERT_EQ(capture_open(&c, &o, &err), EMO_OK);
	ASSERT_EQ(capture_next(c, &g, NULL, WAIT_MS, &err), EMO_OK);
	flag = 1;
	ASSERT_EQ(capture_next(c, &g, NULL, -1, &err), EMO_EINTR);
	capture_close(&c);

	/* already cancelled: an open on a silent server gives up at once */
	s = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT(s >= 0);
	ASSERT(bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
	ASSERT(listen(s, 4) == 0);
	ASSERT(getsockname(s, (struct sockaddr *)&a, &len) == 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x.ts", ntohs(a.sin_port));
	o.source = url;
	o.timeout_ms = 60000;
	alarm(20);
	rc = capture_open(&c, &o, &err);
	alarm(0);
	close(s);
	ASSERT_EQ(rc, EMO_ESOURCE);
	ASSERT(strstr(err.msg, "interrupted") != NULL);
}

/* stdin as a source: the transport stream redirected to fd 0. */
TEST(stdin_source)
{
	struct emo_err err = { 0 };
	struct capture *c;
	int rc, n, saved, fd;

	NEED_FIXTURES();
	saved = dup(0);
	fd = open(path("clip.ts"), O_RDONLY);
	ASSERT(saved >= 0 && fd >= 0);
	dup2(fd, 0);
	close(fd);
	c = open_src("-", 5, 0, &err, &rc);
	if (rc == EMO_OK) {
		n = count_frames(c, 320, 240, &rc);
		capture_close(&c);
	} else {
		n = -1;
	}
	dup2(saved, 0);
	close(saved);
	ASSERT_EQ(n, 20);
	ASSERT_EQ(rc, EMO_EEOF);
}

/* stdin that stays open and silent: capture.timeout is a network timeout,
 * so open waits for a writer; a stop (the cancel flag, as set by SIGINT)
 * ends the wait instead of a blocking read(), and fd 0's flags are
 * restored. */
static volatile sig_atomic_t stdin_cancel;

static void *set_cancel_later(void *arg)
{
	(void)arg;
	sleep_ms(800);
	stdin_cancel = 1;
	return NULL;
}

TEST(stdin_silent_pipe)
{
	struct capture_opts o;
	struct capture *c = NULL;
	struct emo_err err = { 0 };
	pthread_t th;
	int p[2], saved, rc, fl0, fl1;
	double t0, took;

	ASSERT(pipe(p) == 0);
	saved = dup(0);
	ASSERT(saved >= 0);
	dup2(p[0], 0);
	close(p[0]);
	fl0 = fcntl(0, F_GETFL);
	capture_opts_default(&o);
	o.source = "-";
	o.timeout_ms = 300; /* not applied to stdin */
	stdin_cancel = 0;
	o.cancel = &stdin_cancel;
	ASSERT(pthread_create(&th, NULL, set_cancel_later, NULL) == 0);
	alarm(20); /* a hang fails the run instead of blocking it */
	t0 = now_s();
	rc = capture_open(&c, &o, &err);
	took = now_s() - t0;
	alarm(0);
	pthread_join(th, NULL);
	fl1 = fcntl(0, F_GETFL);
	dup2(saved, 0);
	close(saved);
	close(p[1]);
	ASSERT_EQ(rc, EMO_ESOURCE);
	ASSERT(strstr(err.msg, "interrupted") != NULL);
	ASSERT(took > 0.7); /* not given up at timeout_ms */
	ASSERT_EQ(fl1, fl0);
}

/* A writer that starts later than capture.timeout: the stream is read. */
struct late_writer {
	int fd;
	const char *file;
};

static void *write_late(void *arg)
{
	struct late_writer *w = arg;
	char buf[4096];
	ssize_t n;
	int in;

	sleep_ms(1000);
	in = open(w->file, O_RDONLY);
	while (in >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(w->fd, buf, (size_t)n) != n)
			break;
	if (in >= 0)
		close(in);
	close(w->fd);
	return NULL;
}

TEST(stdin_late_writer)
{
	struct capture_opts o;
	struct capture *c = NULL;
	struct emo_err err = { 0 };
	struct late_writer w;
	pthread_t th;
	int p[2], saved, rc, n = -1;

	NEED_FIXTURES();
	ASSERT(pipe(p) == 0);
	saved = dup(0);
	ASSERT(saved >= 0);
	dup2(p[0], 0);
	close(p[0]);
	w.fd = p[1];
	w.file = path("clip.ts");
	ASSERT(pthread_create(&th, NULL, write_late, &w) == 0);
	capture_opts_default(&o);
	o.source = "-";
	o.timeout_ms = 300;
	alarm(30);
	rc = capture_open(&c, &o, &err);
	if (rc == EMO_OK) {
		n = count_frames(c, 320, 240, &rc);
		capture_close(&c);
	} else {
		fprintf(stderr, "  %s\n", err.msg);
	}
	alarm(0);
	dup2(saved, 0); /* the pipe's last reader: a writer still blocked fails */
	close(saved);
	pthread_join(th, NULL);
	ASSERT_EQ(n, 20);
	ASSERT_EQ(rc, EMO_EEOF);
}

/* A local HLS playlist (VOD, file source): segments are followed to the end. */
TEST(hls_playlist_file)
{
	struct emo_err err = { 0 };
	struct capture *c;
	int rc, n;

	NEED_FIXTURES();
	if (sh("ffmpeg -nostdin -loglevel error -y -i %s -c copy -f hls -hls_time 1 "
	       "-hls_list_size 0 -hls_segment_filename %s %s", path("clip.ts"), path("seg%d.ts"),
	       path("list.m3u8")))
		SKIP("ffmpeg cannot write HLS");
	c = open_src(path("list.m3u8"), 5, 0, &err, &rc);
	if (rc)
		fprintf(stderr, "  %s\n", err.msg);
	ASSERT_EQ(rc, EMO_OK);
	n = count_frames(c, 320, 240, &rc);
	ASSERT_EQ(rc, EMO_EEOF);
	ASSERT_EQ(n, 20); /* 4 s at 5 fps */
	capture_close(&c);
}

/* The screen through x11grab on a private Xvfb display (unix socket only). */
static pid_t xvfb_pid;

static void screen_body(int disp)
{
	char src[64], sock[64];
	struct capture_opts o;
	struct capture *c = NULL;
	struct capture_stats st;
	struct emo_err err = { 0 };
	struct emo_image g;
	struct capture_frame_info fi;
	int rc = -1;

	snprintf(sock, sizeof(sock), "/tmp/.X11-unix/X%d", disp);
	for (int i = 0; i < 100 && access(sock, F_OK); i++)
		sleep_ms(50);
	capture_opts_default(&o);
	snprintf(src, sizeof(src), "screen:%d+10,20/320x240", disp);
	o.source = src;
	for (int i = 0; i < 50 && rc; i++) /* the server may still be starting */
		if ((rc = capture_open(&c, &o, &err)))
			sleep_ms(100);
	if (rc)
		fprintf(stderr, "  %s\n", err.msg);
	ASSERT_EQ(rc, EMO_OK);
	ASSERT_EQ(capture_next(c, &g, &fi, WAIT_MS, &err), EMO_OK);
	ASSERT_EQ(g.w, 320);
	ASSERT_EQ(g.h, 240);
	capture_stats(c, &st);
	ASSERT_EQ(st.live, 1);
	capture_close(&c);

	/* whole screen, scaled down */
	snprintf(src, sizeof(src), "screen:%d", disp);
	o.max_side = 320;
	rc = capture_open(&c, &o, &err);
	if (rc)
		fprintf(stderr, "  %s\n", err.msg);
	ASSERT_EQ(rc, EMO_OK);
	ASSERT_EQ(capture_next(c, &g, &fi, WAIT_MS, &err), EMO_OK);
	ASSERT_EQ(g.w, 320);
	ASSERT_EQ(g.h, 240);
	ASSERT_EQ(fi.src_w, 640);
	ASSERT_EQ(fi.src_h, 480);
	capture_close(&c);
}

TEST(screen_region_xvfb)
{
	int disp = 90 + (int)(getpid() % 9);
	char dn[16];

	if (sh("command -v Xvfb >/dev/null 2>&1"))
		SKIP("Xvfb not installed (Debian package xvfb)");
	snprintf(dn, sizeof(dn), ":%d", disp);
	xvfb_pid = fork();
	if (xvfb_pid == 0) {
		int fd = open("/dev/null", O_RDWR);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execlp("Xvfb", "Xvfb", dn, "-screen", "0", "640x480x24", "-nolisten", "tcp", "-noreset",
		       (char *)NULL);
		_exit(127);
	}
	ASSERT(xvfb_pid > 0);
	screen_body(disp);
	kill(xvfb_pid, SIGTERM);
	waitpid(xvfb_pid, NULL, 0);
	xvfb_pid = 0;
}

/* ---- network, 127.0.0.1 only ---- */

static int free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(s, (struct sockaddr *)&a, &len)) {
		if (s >= 0)
			close(s);
		return -1;
	}
	port = ntohs(a.sin_port);
	close(s);
	return port;
}

/* ffmpeg serving clip.ts once, paced, over HTTP on 127.0.0.1:port. */
static void server_start(int port)
{
	char url[64];
	pid_t p;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	p = fork();
	if (p == 0) {
		int fd = open("/dev/null", O_RDWR);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execlp("ffmpeg", "ffmpeg", "-nostdin", "-loglevel", "quiet", "-re", "-i",
		       path("clip.ts"), "-c", "copy", "-f", "mpegts", "-listen", "1", url,
		       (char *)NULL);
		_exit(127);
	}
	server_pid = p;
}

static void server_stop(void)
{
	if (server_pid > 0) {
		kill(server_pid, SIGCONT);
		kill(server_pid, SIGKILL);
		waitpid(server_pid, NULL, 0);
	}
	server_pid = 0;
}

/* capture_open, retrying while the server starts up (bounded). */
static struct capture *open_http(int port, double backoff, int timeout_ms, struct emo_err *err)
{
	struct capture_opts o;
	struct capture *c = NULL;
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	capture_opts_default(&o);
	o.source = url;
	o.timeout_ms = timeout_ms;
	o.backoff_min_s = backoff;
	o.backoff_max_s = 4 * backoff;
	for (int i = 0; i < 100 && !c; i++)
		if (capture_open(&c, &o, err) != EMO_OK)
			sleep_ms(100);
	return c;
}

/* Poll c (200 ms at a time, at most 300 times) until n frames came; returns
 * how many did, the last in *last. */
static int http_frames(struct capture *c, int n, struct emo_image *last)
{
	struct emo_image g;
	int got = 0;

	for (int i = 0; i < 300 && got < n; i++)
		if (capture_next(c, &g, NULL, 200, NULL) == EMO_OK) {
			*last = g;
			got++;
		}
	return got;
}

static void http_reconnect_body(void)
{
	struct emo_err err = { 0 };
	struct capture *c;
	struct capture_stats st;
	struct emo_image g;
	struct capture_frame_info fi;
	int port = free_port(), got = 0, after = 0;
	double t_restart, t_end;

	ASSERT(port > 0);
	server_start(port);
	c = open_http(port, 0.2, 3000, &err);
	ASSERT(c != NULL);
	got = http_frames(c, 3, &g);
	ASSERT_EQ(got, 3);
	ASSERT_EQ(g.w, 320);
	server_stop(); /* cut */
	sleep_ms(300);
	t_restart = (double)time(NULL);
	server_start(port);
	t_end = now_s() + 60;
	while (now_s() < t_end && !after) {
		int rc = capture_next(c, &g, &fi, 200, NULL);
		capture_stats(c, &st);
		if (rc == EMO_OK && st.reconnects >= 1 && fi.wall >= t_restart)
			after = 1;
		ASSERT(rc == EMO_OK || rc == EMO_EAGAIN);
	}
	capture_stats(c, &st);
	if (!after)
		fprintf(stderr, "  last error: %s\n", st.last_error);
	ASSERT(after);
	ASSERT(st.reconnects >= 1);
	ASSERT(st.live);
	ASSERT(st.last_error[0] != '\0'); /* the cut was reported */
	capture_close(&c);
}

TEST(http_reconnect_after_cut)
{
	NEED_FIXTURES();
	http_reconnect_body();
	server_stop();
}

static void http_stall_body(void)
{
	struct emo_err err = { 0 };
	struct capture *c;
	struct emo_image g;
	int port = free_port(), got = 0;
	double t0;

	ASSERT(port > 0);
	server_start(port);
	/* a long timeout: the deadline must not be what ends the hung read */
	c = open_http(port, 0.5, 60000, &err);
	ASSERT(c != NULL);
	got = http_frames(c, 1, &g);
	ASSERT(got);
	kill(server_pid, SIGSTOP); /* the connection stays open, no more data */
	sleep_ms(300);
	alarm(20); /* a hang fails the run instead of blocking it */
	t0 = now_s();
	capture_close(&c);
	alarm(0);
	t0 = now_s() - t0;
	fprintf(stderr, "  close during a hung read took %.3f s\n", t0);
	ASSERT(c == NULL);
	ASSERT(t0 < 2.0); /* a bound on a hang, not a benchmark */
}

TEST(http_close_on_hung_read)
{
	NEED_FIXTURES();
	http_stall_body();
	server_stop();
}

/* A stream that stops sending: the reconnect message says for how long no
 * data came (it said FFmpeg's "Immediate exit requested"). */
static void http_silence_body(void)
{
	struct emo_err err = { 0 };
	struct capture *c;
	struct capture_stats st;
	struct emo_image g;
	int port = free_port(), got = 0;
	double t_end;

	ASSERT(port > 0);
	server_start(port);
	c = open_http(port, 2.0, 500, &err);
	ASSERT(c != NULL);
	got = http_frames(c, 1, &g);
	ASSERT(got);
	kill(server_pid, SIGSTOP);
	t_end = now_s() + 20;
	do {
		sleep_ms(50);
		capture_stats(c, &st);
	} while (!st.last_error[0] && now_s() < t_end);
	capture_close(&c);
	fprintf(stderr, "  after a silence: \"%s\"\n", st.last_error);
	ASSERT(strstr(st.last_error, "no data for 0.5 s") != NULL);
}

TEST(http_silence_reported)
{
	NEED_FIXTURES();
	http_silence_body();
	server_stop();
}

TEST(unreachable_and_silent_servers)
{
	char url[64];
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int port = free_port(), s;

	ASSERT(port > 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x.ts", port);
	expect_open_error(url, EMO_ESOURCE, "connection refused");

	/* a server that accepts (backlog) and never answers: open times out */
	s = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT(s >= 0);
	ASSERT(bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
	ASSERT(listen(s, 4) == 0);
	ASSERT(getsockname(s, (struct sockaddr *)&a, &len) == 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x.ts", ntohs(a.sin_port));
	{
		struct capture_opts o;
		struct capture *c = NULL;
		struct emo_err err = { 0 };
		int rc;
		capture_opts_default(&o);
		o.source = url;
		o.timeout_ms = 300;
		alarm(20);
		rc = capture_open(&c, &o, &err);
		alarm(0);
		close(s);
		ASSERT_EQ(rc, EMO_ESOURCE);
		ASSERT(strstr(err.msg, "timed out") != NULL);
	}
}

/* A static file server on 127.0.0.1 for the files in dir, one request at a
 * time, each answered with Connection: close. Paths under /nolen/ are sent
 * without Content-Length (a stream of unknown length, as live servers send).
 * Returns the port, or -1. Stop with serve_files_stop(). */
static void serve_one(int fd)
{
	char req[4096], file[1024], buf[16384], *sp;
	size_t have = 0;
	ssize_t n;
	int in, nolen;
	struct stat stt;

	while (have < sizeof(req) - 1 && (n = read(fd, req + have, sizeof(req) - 1 - have)) > 0) {
		have += (size_t)n;
		req[have] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	req[have] = '\0';
	if (strncmp(req, "GET /", 5) || !(sp = strchr(req + 4, ' ')) || strstr(req, "..")) {
		dprintf(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
		return;
	}
	*sp = '\0';
	nolen = !strncmp(req + 4, "/nolen/", 7);
	snprintf(file, sizeof(file), "%s/%s", dir, req + 4 + (nolen ? 7 : 1));
	in = open(file, O_RDONLY);
	if (in < 0 || fstat(in, &stt)) {
		dprintf(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
		if (in >= 0)
			close(in);
		return;
	}
	if (nolen)
		dprintf(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
	else
		dprintf(fd, "HTTP/1.1 200 OK\r\nContent-Length: %lld\r\nConnection: close\r\n\r\n",
			(long long)stt.st_size);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n)
			break;
	close(in);
}

static int serve_files(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 16) ||
	    getsockname(s, (struct sockaddr *)&a, &len)) {
		if (s >= 0)
			close(s);
		return -1;
	}
	files_pid = fork();
	if (files_pid == 0) {
		for (;;) {
			int fd = accept(s, NULL, NULL);
			if (fd < 0)
				continue;
			serve_one(fd);
			shutdown(fd, SHUT_WR);
			close(fd);
		}
	}
	close(s);
	return files_pid > 0 ? ntohs(a.sin_port) : -1;
}

static void serve_files_stop(void)
{
	if (files_pid > 0) {
		kill(files_pid, SIGKILL);
		waitpid(files_pid, NULL, 0);
	}
	files_pid = 0;
}

/* Read until the end, a bound on frames or a bound on time. */
static int read_bounded(struct capture *c, int max_frames, double max_s, int *last_rc)
{
	struct emo_image g;
	double end = now_s() + max_s;
	int n = 0, rc = EMO_EAGAIN;

	while (n < max_frames && now_s() < end) {
		rc = capture_next(c, &g, NULL, 200, NULL);
		if (rc == EMO_OK)
			n++;
		else if (rc != EMO_EAGAIN)
			break;
	}
	*last_rc = rc;
	return n;
}

/* A recording fetched by URL (known duration) is read like a file: not
 * live, sampled at fps, no frame dropped, the end is the end (it was
 * counted live: decoded unpaced with drops, then replayed forever). */
static void http_vod_body(int port, const char *name, int want)
{
	struct capture_opts o;
	struct capture *c = NULL;
	struct capture_stats st;
	struct emo_err err = { 0 };
	char url[128];
	int rc, n;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/%s", port, name);
	capture_opts_default(&o);
	o.source = url;
	o.fps = 5;
	rc = capture_open(&c, &o, &err);
	if (rc)
		fprintf(stderr, "  %s: %s\n", name, err.msg);
	ASSERT_EQ(rc, EMO_OK);
	capture_stats(c, &st);
	ASSERT_EQ(st.live, 0);
	n = read_bounded(c, 3 * want, 20, &rc);
	capture_stats(c, &st);
	if (rc != EMO_EEOF || n != want)
		fprintf(stderr, "  %s: %d frames, rc %d, last error \"%s\"\n", name, n, rc, st.last_error);
	ASSERT_EQ(rc, EMO_EEOF);
	ASSERT_EQ(n, want);
	ASSERT_EQ(st.dropped, 0);
	ASSERT_EQ(st.reconnects, 0);
	capture_close(&c);
}

TEST(http_recording_is_a_file)
{
	int port;

	NEED_FIXTURES();
	if (sh("ffmpeg -nostdin -loglevel error -y -i %s -c copy -movflags +faststart %s",
	       path("clip.mp4"), path("vod.mp4")))
		SKIP("ffmpeg cannot remux to mp4");
	if (sh("mkdir -p %s && ffmpeg -nostdin -loglevel error -y -i %s -c copy -f hls -hls_time 1 "
	       "-hls_list_size 0 -hls_playlist_type vod -hls_segment_filename %s %s", path("vod"),
	       path("clip.ts"), path("vod/s%d.ts"), path("vod/list.m3u8")))
		SKIP("ffmpeg cannot write HLS");
	port = serve_files();
	ASSERT(port > 0);
	http_vod_body(port, "vod.mp4", 10);         /* 2 s at 5 fps */
	http_vod_body(port, "vod/list.m3u8", 20);   /* 4 s, #EXT-X-ENDLIST */
	serve_files_stop();
}

/* An mp4 whose index (moov) follows the media, from a server that ignores
 * Range (the file server here always answers 200 with the whole file): the
 * media went by before the index said where it was. It opened, decoded
 * nothing and ended as if it were empty (emotop exited 0 with an all-zero
 * line); it must fail at the open and say why and what to do. */
TEST(http_moov_at_end_refused)
{
	struct capture_opts o;
	struct capture *c = NULL;
	struct emo_err err = { 0 };
	char url[128];
	int port, rc;

	NEED_FIXTURES();
	if (sh("ffmpeg -nostdin -loglevel error -y -i %s -c copy -f mp4 %s", path("clip.mp4"),
	       path("moovend.mp4")))
		SKIP("ffmpeg cannot remux to mp4");
	port = serve_files();
	ASSERT(port > 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/moovend.mp4", port);
	capture_opts_default(&o);
	o.source = url;
	rc = capture_open(&c, &o, &err);
	if (rc == EMO_OK) {
		int n = read_bounded(c, 100, 10, &rc);
		fprintf(stderr, "  opened; %d frames, rc %d\n", n, rc);
		capture_close(&c);
		rc = EMO_OK;
	}
	serve_files_stop();
	ASSERT_EQ(rc, EMO_ESOURCE);
	fprintf(stderr, "  %s\n", err.msg);
	ASSERT(strstr(err.msg, "does not allow seeking") != NULL);
	ASSERT(strstr(err.msg, "+faststart") != NULL);
}

/* A live source (no known length) that gives a few frames and ends: each
 * reconnection waits longer (it was refetched every backoff_min_s forever,
 * the backoff reset by every frame). */
TEST(http_short_live_backs_off)
{
	struct capture_opts o;
	struct capture *c = NULL;
	struct capture_stats st;
	struct emo_err err = { 0 };
	struct emo_image g;
	char url[128];
	double end, most = 0;
	int port, rc;

	NEED_FIXTURES();
	if (sh("ffmpeg -nostdin -loglevel error -y -i %s -t 0.5 -c copy %s", path("clip.ts"),
	       path("short.ts")))
		SKIP("ffmpeg cannot cut the clip");
	port = serve_files();
	ASSERT(port > 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/nolen/short.ts", port);
	capture_opts_default(&o);
	o.source = url;
	o.backoff_min_s = 0.05;
	o.backoff_max_s = 10;
	rc = capture_open(&c, &o, &err);
	if (rc)
		fprintf(stderr, "  %s\n", err.msg);
	ASSERT_EQ(rc, EMO_OK);
	capture_stats(c, &st);
	ASSERT_EQ(st.live, 1);
	end = now_s() + 20;
	do {
		rc = capture_next(c, &g, NULL, 100, NULL);
		ASSERT(rc == EMO_OK || rc == EMO_EAGAIN);
		capture_stats(c, &st);
		most = fmax(most, st.backoff_s);
	} while (st.reconnects < 4 && now_s() < end);
	capture_close(&c);
	serve_files_stop();
	ASSERT(st.reconnects >= 4);
	fprintf(stderr, "  after %d reconnects: longest wait %.2f s, \"%s\"\n", st.reconnects, most,
		st.last_error);
	/* 0.05 doubling: the fourth wait is 0.4 s (it was 0.05 to 0.1) */
	ASSERT(most >= 0.3);
}

/* Live HLS whose segments last longer than capture.timeout (1 s against
 * 0.3 s here; 6 s against the default 5 s in the field): at the live edge
 * the demuxer waits for the next segment inside the read, which is not a
 * stall. It was aborted by the read deadline and the stream reopened
 * again and again, 3 segments back each time. */
static void producer_start(void)
{
	producer_pid = fork();
	if (producer_pid == 0) {
		int fd = open("/dev/null", O_RDWR);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (chdir(path("live")))
			_exit(127);
		execlp("ffmpeg", "ffmpeg", "-nostdin", "-loglevel", "quiet", "-re", "-f", "lavfi",
		       "-i", "testsrc2=s=160x120:r=10", "-c:v", "mpeg4", "-g", "10",
		       /* the headers in every segment: joining at the newest */
		       "-bsf:v", "dump_extra=freq=keyframe", "-f", "hls",
		       "-hls_time", "1", "-hls_list_size", "4", "-hls_flags", "delete_segments",
		       "live.m3u8", (char *)NULL);
		_exit(127);
	}
}

static void producer_stop(void)
{
	if (producer_pid > 0) {
		kill(producer_pid, SIGKILL);
		waitpid(producer_pid, NULL, 0);
	}
	producer_pid = 0;
}

/* The live playlist's #EXT-X-MEDIA-SEQUENCE (segments made so far less the
 * listed ones), -1 when unreadable. */
static long hls_seq(void)
{
	FILE *f = fopen(path("live/live.m3u8"), "r");
	char line[256];
	long seq = -1;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "#EXT-X-MEDIA-SEQUENCE:", 22))
			seq = atol(line + 22);
	if (f)
		fclose(f);
	return seq;
}

/* Start the live HLS producer, wait (20 s at most) until its playlist
 * lists 3 segments, serve the folder and write the playlist's URL into
 * url: 0; -1 when ffmpeg cannot write live HLS here (the caller skips); -2
 * when the producer or the server did not start. */
static int live_hls_start(char *url, size_t len)
{
	double t_end;
	int port;

	producer_start();
	if (producer_pid <= 0)
		return -2;
	t_end = now_s() + 20;
	while (now_s() < t_end && sh("test -f %s && [ $(grep -c '^live' %s) -ge 3 ]",
				   path("live/live.m3u8"), path("live/live.m3u8")))
		sleep_ms(100);
	if (now_s() >= t_end)
		return -1;
	if ((port = serve_files()) <= 0)
		return -2;
	snprintf(url, len, "http://127.0.0.1:%d/live/live.m3u8", port);
	return 0;
}

static void hls_live_body(void)
{
	struct capture_opts o;
	struct capture *c = NULL;
	struct capture_stats st;
	struct emo_err err = { 0 };
	char url[128];
	int rc, n;
	long seq0, made;

	if (sh("mkdir -p %s", path("live")))
		SKIP("cannot make a directory");
	rc = live_hls_start(url, sizeof(url));
	if (rc == -1)
		SKIP("ffmpeg cannot write live HLS");
	ASSERT_EQ(rc, 0);
	capture_opts_default(&o);
	o.source = url;
	o.timeout_ms = 300;
	o.backoff_min_s = 0.1;
	for (int i = 0; i < 5 && (rc = capture_open(&c, &o, &err)) == EMO_ESOURCE; i++)
		sleep_ms(200); /* the open (playlist, probe) has the 0.3 s deadline */
	if (rc == EMO_ESOURCE && strstr(err.msg, "timed out"))
		SKIP("opening took longer than 0.3 s here (valgrind?): %s", err.msg);
	if (rc)
		fprintf(stderr, "  %s\n", err.msg);
	ASSERT_EQ(rc, EMO_OK);
	capture_stats(c, &st);
	ASSERT_EQ(st.live, 1);
	seq0 = hls_seq();
	n = read_bounded(c, 1000, 4.5, &rc);
	capture_stats(c, &st);
	made = hls_seq() - seq0;
	fprintf(stderr, "  live HLS, 1 s segments: %ld made, %lld decoded, %d delivered, %d reconnects in 4.5 s%s%s\n",
		made, (long long)st.decoded, n, st.reconnects, st.last_error[0] ? ", last error: " : "",
		st.last_error);
	capture_close(&c);
	ASSERT(rc == EMO_OK || rc == EMO_EAGAIN); /* still running */
	if (seq0 < 0 || made < 2) /* 3 segments made: the first lengthens the list */
		SKIP("the playlist moved %ld segments in 4.5 s, not 2 or more (a loaded machine)", made);
	ASSERT_EQ(st.reconnects, 0);
	/* 10 fps, each segment comes at once: most are dropped as live frames */
	ASSERT(st.decoded >= 25);
	ASSERT(n >= 4);
}

TEST(hls_live_long_segments)
{
	NEED_FIXTURES();
	hls_live_body();
	serve_files_stop();
	producer_stop();
}

/* A live HLS stream whose writer stops: cleanly (SIGINT: it appends
 * #EXT-X-ENDLIST) or killed (the playlist just stops growing). Its last
 * segments were read again as new video after each reopening (26 s of
 * repeats after a clean end at 6 s segments, 8 s after kill -9), and an
 * ended playlist was reopened forever. Now no frame's timestamp comes
 * twice, and a playlist that ended is the end (EMO_EEOF). */
static void hls_end_body(int sig)
{
	struct capture_opts o;
	struct capture *c = NULL;
	struct capture_frame_info fi;
	struct emo_image g;
	struct emo_err err = { 0 };
	char url[128];
	double t_end, last = -1e9;
	int rc = EMO_EAGAIN, n = 0, repeats = 0, stopped_writer = 0;

	if (sh("rm -rf %s && mkdir -p %s", path("live"), path("live")))
		SKIP("cannot make a directory");
	rc = live_hls_start(url, sizeof(url));
	if (rc == -1)
		SKIP("ffmpeg cannot write live HLS");
	ASSERT_EQ(rc, 0);
	capture_opts_default(&o);
	o.source = url;
	o.backoff_min_s = 0.1;
	o.backoff_max_s = 0.5;
	rc = capture_open(&c, &o, &err);
	if (rc)
		fprintf(stderr, "  %s\n", err.msg);
	ASSERT_EQ(rc, EMO_OK);
	t_end = now_s() + 14;
	while (now_s() < t_end) {
		if (!stopped_writer && now_s() > t_end - 11) {
			kill(producer_pid, sig);
			waitpid(producer_pid, NULL, 0);
			producer_pid = 0;
			stopped_writer = 1;
		}
		rc = capture_next(c, &g, &fi, 200, NULL);
		if (rc == EMO_OK) {
			n++;
			if (fi.pts <= last)
				repeats++;
			last = fmax(last, fi.pts);
		} else if (rc != EMO_EAGAIN)
			break;
	}
	{
		struct capture_stats st;
		capture_stats(c, &st);
		fprintf(stderr, "  writer stopped by signal %d: %d frames, %d repeated, rc %d, "
			"%d reconnects, \"%s\"\n", sig, n, repeats, rc, st.reconnects, st.last_error);
	}
	capture_close(&c);
	serve_files_stop();
	producer_stop();
	ASSERT(n > 0);
	ASSERT_EQ(repeats, 0);
	if (sig == SIGINT)
		ASSERT_EQ(rc, EMO_EEOF);
	else
		ASSERT(rc == EMO_EAGAIN || rc == EMO_OK); /* still waiting for it */
}

TEST(hls_live_end_clean)
{
	NEED_FIXTURES();
	hls_end_body(SIGINT);
}

TEST(hls_live_end_killed)
{
	NEED_FIXTURES();
	hls_end_body(SIGKILL);
}

/* ---- logging, still images, PNG ---- */

static char log_seen[4096];
static void log_collect(void *ud, int level, const char *line)
{
	(void)ud;
	if (level <= CAPTURE_LOG_WARNING && strlen(log_seen) + strlen(line) + 2 < sizeof(log_seen)) {
		strcat(log_seen, line);
		strcat(log_seen, "\n");
	}
}

TEST(log_routed_to_callback)
{
	struct capture_opts o;
	struct capture *c = NULL;
	struct emo_err err = { 0 };

	NEED_FIXTURES();
	log_seen[0] = '\0';
	capture_set_log(log_collect, NULL, CAPTURE_LOG_WARNING);
	capture_opts_default(&o);
	o.source = path("clip.mp4");
	o.av_options = "bogus_knob=1";
	ASSERT_EQ(capture_open(&c, &o, &err), EMO_OK);
	capture_close(&c);
	capture_set_log(NULL, NULL, CAPTURE_LOG_WARNING);
	ASSERT(strstr(log_seen, "bogus_knob") != NULL);
	ASSERT(strstr(log_seen, "not used") != NULL);

	o.av_options = "novalue";
	ASSERT_EQ(capture_open(&c, &o, &err), EMO_EINVAL);
}

/* capture_opts.input_options reach FFmpeg: skip_initial_bytes past the end
 * of a file leaves nothing to open; a value FFmpeg refuses is an error that
 * names the option (values may hold ':'). They were not passed at all. */
TEST(input_options_reach_ffmpeg)
{
	struct capture_opts o;
	struct capture *c = NULL;
	struct emo_err err = { 0 };

	NEED_FIXTURES();
	capture_opts_default(&o);
	o.source = path("clip.ts");
	o.input_options = "fflags=+genpts\nskip_initial_bytes=100000000";
	ASSERT_EQ(capture_open(&c, &o, &err), EMO_ESOURCE);
	o.input_options = "fflags=+genpts\nskip_initial_bytes=0";
	ASSERT_EQ(capture_open(&c, &o, &err), EMO_OK);
	capture_close(&c);
	o.input_options = "probesize=lots";
	ASSERT_EQ(capture_open(&c, &o, &err), EMO_EINVAL);
	ASSERT(strstr(err.msg, "probesize=lots") != NULL);
	ASSERT(c == NULL);
}

/* libav's own warnings (x11grab's probesize note at every start) only
 * with -v (CAPTURE_LOG_INFO); capture's own warnings always. */
TEST(libav_warnings_only_verbose)
{
	static const AVClass cls = { .class_name = "x11grab", .item_name = av_default_item_name,
				     .version = LIBAVUTIL_VERSION_INT };
	struct { const AVClass *cl; } obj = { &cls };

	log_seen[0] = '\0';
	capture_set_log(log_collect, NULL, CAPTURE_LOG_WARNING);
	av_log(&obj, AV_LOG_WARNING, "probesize too small\n");
	av_log(&obj, AV_LOG_ERROR, "real trouble\n");
	ASSERT(strstr(log_seen, "probesize") == NULL);
	ASSERT(strstr(log_seen, "real trouble") != NULL);
	capture_set_log(log_collect, NULL, CAPTURE_LOG_INFO);
	av_log(&obj, AV_LOG_WARNING, "probesize too small\n");
	capture_set_log(NULL, NULL, CAPTURE_LOG_ERROR);
	ASSERT(strstr(log_seen, "probesize") != NULL);
}

/* FFmpeg names URLs as given ("Opening 'http://u:pw@...' for reading" at
 * -v; the HLS demuxer's errors at any level): every line that leaves the
 * bridge is masked, also when FFmpeg sends it in pieces. */
TEST(log_masks_credentials)
{
	log_seen[0] = '\0';
	capture_set_log(log_collect, NULL, CAPTURE_LOG_WARNING);
	av_log(NULL, AV_LOG_ERROR, "Error when loading first segment '%s'\n",
	       "http://alice:secret@127.0.0.1:9/seg0.ts?token=tk1");
	av_log(NULL, AV_LOG_WARNING, "Opening 'rtsp://bob:pa/ss");
	av_log(NULL, AV_LOG_WARNING, "@cam:554/live?passphrase=p4ss' for reading\n");
	capture_set_log(NULL, NULL, CAPTURE_LOG_WARNING);
	ASSERT(!strstr(log_seen, "secret"));
	ASSERT(!strstr(log_seen, "tk1"));
	ASSERT(!strstr(log_seen, "pa/ss"));
	ASSERT(!strstr(log_seen, "p4ss"));
	ASSERT(strstr(log_seen, "segment 'http://***@127.0.0.1:9/seg0.ts?token=***'"));
	ASSERT(strstr(log_seen, "Opening 'rtsp://***@cam:554/live?passphrase=***' for reading"));
}

TEST(read_image_png_and_video)
{
	struct emo_image g = { 0 }, rgb = { 0 };
	struct emo_err err = { 0 };

	NEED_FIXTURES();
	ASSERT_EQ(capture_read_image(path("bands.png"), &g, &rgb, &err), EMO_OK);
	ASSERT_EQ(g.w, 102);
	ASSERT_EQ(g.h, 50);
	ASSERT_NEAR(px(&g, 17, 25), 0, 3);
	ASSERT_NEAR(px(&g, 85, 25), 255, 3);
	ASSERT_EQ(rgb.w, 102);
	ASSERT(rgb.stride >= 3 * 102);
	ASSERT_NEAR(rgb.px[25 * rgb.stride + 85 * 3], 255, 4);
	image_free(&g);
	image_free(&rgb);

	ASSERT_EQ(capture_read_image(path("clip.mp4"), &g, NULL, &err), EMO_OK);
	ASSERT_EQ(g.w, 320);
	image_free(&g);

	ASSERT_EQ(capture_read_image(path("missing.png"), &g, NULL, &err), EMO_ESOURCE);
	ASSERT(g.px == NULL);
	ASSERT_EQ(capture_read_image(path("notes.mp4"), &g, &rgb, &err), EMO_ESOURCE);
	ASSERT(g.px == NULL && rgb.px == NULL);
}

TEST(write_png_roundtrip)
{
	struct emo_image g = { 0 }, back = { 0 }, rgb = { 0 };
	struct emo_err err = { 0 };
	uint8_t buf[40 * 3 * 30 + 64];
	struct emo_image src;

	NEED_FIXTURES();
	/* gray with stride > w */
	src.w = 37;
	src.h = 30;
	src.stride = 40;
	src.px = buf;
	for (int y = 0; y < 30; y++)
		for (int x = 0; x < 40; x++)
			buf[y * 40 + x] = (uint8_t)(x * 6 + y);
	ASSERT_EQ(capture_write_png(path("g.png"), &src, 1, &err), EMO_OK);
	ASSERT_EQ(capture_read_image(path("g.png"), &back, NULL, &err), EMO_OK);
	ASSERT_EQ(back.w, 37);
	ASSERT_EQ(back.h, 30);
	for (int y = 0; y < 30; y++)
		for (int x = 0; x < 37; x++)
			ASSERT_EQ(px(&back, x, y), buf[y * 40 + x]);
	image_free(&back);

	/* RGB: pure red, green, blue columns come back as RGB */
	src.w = 30;
	src.stride = 30 * 3 + 5;
	for (int y = 0; y < 30; y++)
		for (int x = 0; x < 30; x++)
			for (int k = 0; k < 3; k++)
				buf[y * src.stride + x * 3 + k] = (uint8_t)(k == x / 10 ? 200 : 10);
	ASSERT_EQ(capture_write_png(path("c.png"), &src, 3, &err), EMO_OK);
	ASSERT_EQ(capture_read_image(path("c.png"), &g, &rgb, &err), EMO_OK);
	for (int y = 0; y < 30; y++)
		for (int x = 0; x < 30; x++)
			for (int k = 0; k < 3; k++)
				ASSERT_EQ(rgb.px[y * rgb.stride + x * 3 + k], buf[y * src.stride + x * 3 + k]);
	image_free(&g);
	image_free(&rgb);

	ASSERT_EQ(capture_write_png(path("c.png"), &src, 2, &err), EMO_EINVAL);
	ASSERT_EQ(capture_write_png(path("no/such/dir/c.png"), &src, 3, &err), EMO_EIO);
}

/* Annotated frames are face images: new files only, 0600, never through a
 * symbolic link, never over an existing file. */
TEST(write_png_new_files_only)
{
	struct emo_err err = { 0 };
	uint8_t buf[16 * 8] = { 0 };
	struct emo_image src = { .w = 16, .h = 8, .stride = 16, .px = buf };
	char name[512], want[512];
	struct stat st;
	FILE *f;
	mode_t old = umask(022);

	ASSERT_EQ(capture_write_png(path("p.png"), &src, 1, &err), EMO_OK);
	ASSERT_EQ(stat(path("p.png"), &st), 0);
	ASSERT_EQ((int)(st.st_mode & 0777), 0600);
	ASSERT_EQ(capture_write_png(path("p.png"), &src, 1, &err), EMO_EIO); /* exists */
	ASSERT(strstr(err.msg, "not overwritten") != NULL);
	/* a link at the name: refused, its target untouched */
	f = fopen(path("target"), "w");
	ASSERT(f != NULL);
	fputs("keep", f);
	fclose(f);
	ASSERT_EQ(symlink(path("target"), path("l.png")), 0);
	ASSERT_EQ(capture_write_png(path("l.png"), &src, 1, &err), EMO_EIO);
	ASSERT_EQ(stat(path("target"), &st), 0);
	ASSERT_EQ((long)st.st_size, 4L);
	/* a dangling link is not followed either (O_CREAT alone would) */
	ASSERT_EQ(symlink(path("nothing"), path("d.png")), 0);
	ASSERT_EQ(capture_write_png(path("d.png"), &src, 1, &err), EMO_EIO);
	ASSERT(stat(path("nothing"), &st) != 0);
	/* free names: STEM.png, then STEM-2.png, STEM-3.png; links skipped */
	ASSERT_EQ(capture_write_png_new(dir, "p", &src, 1, name, sizeof(name), &err), EMO_OK);
	snprintf(want, sizeof(want), "%s", path("p-2.png"));
	ASSERT_STR(name, want);
	ASSERT_EQ(capture_write_png_new(dir, "l", &src, 1, name, sizeof(name), &err), EMO_OK);
	snprintf(want, sizeof(want), "%s", path("l-2.png"));
	ASSERT_STR(name, want);
	ASSERT_EQ(capture_write_png_new(dir, "q", &src, 1, name, sizeof(name), &err), EMO_OK);
	snprintf(want, sizeof(want), "%s", path("q.png"));
	ASSERT_STR(name, want);
	ASSERT_EQ(stat(name, &st), 0);
	ASSERT_EQ((int)(st.st_mode & 0777), 0600);
	ASSERT_EQ(capture_write_png_new(path("no/such"), "q", &src, 1, name, sizeof(name), &err), EMO_EIO);
	ASSERT_STR(name, "");
	umask(old);
}

int main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR");
	int rc;

	unit_init(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "%s/emotop-capture.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	capture_set_log(NULL, NULL, CAPTURE_LOG_ERROR);
	RUN(file_sampling_count_and_size);
	RUN(file_every_frame_and_scaling);
	RUN(gray_full_range_limited_source);
	RUN(gray_full_range_yuvj_mjpeg);
	RUN(bad_sources);
	RUN(truncated_stream_delivers_then_ends);
	RUN(file_timestamp_gap_kept);
	RUN(demo_live_frames);
	RUN(demo_finite_sampled);
	RUN(realtime_fast_source_drops);
	RUN(file_loop_with_reconnect);
	RUN(cancel_flag);
	RUN(stdin_source);
	RUN(stdin_silent_pipe);
	RUN(stdin_late_writer);
	RUN(hls_playlist_file);
	RUN(screen_region_xvfb);
	RUN(http_reconnect_after_cut);
	RUN(http_close_on_hung_read);
	RUN(http_silence_reported);
	RUN(unreachable_and_silent_servers);
	RUN(http_recording_is_a_file);
	RUN(http_moov_at_end_refused);
	RUN(http_short_live_backs_off);
	RUN(hls_live_long_segments);
	RUN(hls_live_end_clean);
	RUN(hls_live_end_killed);
	RUN(log_routed_to_callback);
	RUN(input_options_reach_ffmpeg);
	RUN(libav_warnings_only_verbose);
	RUN(log_masks_credentials);
	RUN(read_image_png_and_video);
	RUN(write_png_roundtrip);
	RUN(write_png_new_files_only);
	server_stop();
	serve_files_stop();
	producer_stop();
	rc = unit_done();
	sh("rm -rf '%s'", dir);
	return rc;
}
