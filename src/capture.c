/* capture.c - open a file, URL, device or the built-in demo, decode it in a
 * thread, convert to full-range gray8 (and RGB24), keep only the newest
 * frame, reconnect live sources with exponential backoff. With
 * capture_demo.c (the demo's pictures) and capture_png.c (PNG output), the
 * only libav* user.
 *
 * Ownership: struct capture owns its FFmpeg contexts, three frame slots and
 * the thread. The producer (capture thread) owns slot w, the consumer owns
 * slot r (what capture_next() lent out), slot q is the hand-over slot; w and
 * q swap under sh->mu on publish, r and q on capture_next().
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavdevice/avdevice.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libavutil/opt.h>
#include <libavutil/time.h>
#include <libswscale/swscale.h>

#include "emotop/capture.h"
#include "capture_demo.h"

#define ROW_ALIGN 32

/* A connection that delivered frames for this long resets the reconnect
 * backoff; a source that ends sooner is retried ever more slowly. */
#define STABLE_S 10.0
/* HLS: playlist reloads without a new segment before the stream counts as
 * stalled (about 1 + (n - 1) / 2 target durations), then it is reopened. */
#define HLS_HOLD_RELOADS "6"
/* Live HLS/DASH reopened: frames at or before the last timestamp already
 * delivered, and at most this much before it, are segments read again (the
 * newest segment, or all of them once the playlist ended); a timestamp
 * further back is a writer that started over. */
#define SEG_REPLAY_S 120.0
/* Closing a source may take this long to say goodbye (RTSP TEARDOWN) */
#define CLOSE_GRACE_MS 1000
/* Live sources' probe: covers a keyframe interval of 10 s */
#define LIVE_PROBESIZE "20000000"
#define LIVE_ANALYZE_US "10000000"

enum src_kind { SRC_FILE, SRC_STDIN, SRC_NET, SRC_WEBCAM, SRC_SCREEN, SRC_DEMO };

struct slot {
	struct emo_image gray;  /* px: av_malloc'ed, gray_cap bytes */
	size_t gray_cap;
	struct emo_image rgb;   /* px: av_malloc'ed, rgb_cap bytes */
	size_t rgb_cap;
	struct capture_frame_info info;
};

/* Cached swscale context and the parameters its colour details were set for. */
struct sws_cache {
	struct SwsContext *ctx;
	int sw, sh, sfmt, dw, dh, dfmt, full, cs;
	int valid;
};

/* State shared between the capture thread and the consumer, under mu. */
struct shared {
	pthread_mutex_t mu;
	pthread_cond_t ready;   /* consumer waits: frame published, end, stop */
	pthread_cond_t wake;    /* producer waits: frame taken, stop */
	struct slot slots[3];
	int w, r, q;            /* writer, reader, queued slot indices */
	int fresh;              /* slot q holds an undelivered frame */
	int end;                /* 0 running; EMO_EEOF or an EMO_E* once ended */
	int64_t drops_pending;  /* drops since the last delivery */
	struct capture_stats st;
};

struct capture {
	struct capture_opts o;  /* strings point into the copies below */
	char *src_copy, *input_format_copy, *format_copy, *av_options_copy, *input_options_copy;
	int udp_now;            /* rtsp_transport auto: TCP failed to open, try UDP */
	enum src_kind kind;
	int live;               /* source has its own clock (devices, network without a
				 * known duration, endless demo); fixed by the first open */
	int dropping;           /* newest frame wins (live or realtime) */
	int paced;              /* we sleep to media timestamps (realtime files, demo,
				 * live HLS and DASH) */
	int sampling;           /* sample at o.fps in media time (no-drop mode) */
	int can_reconnect;
	char url[1024];
	char shown[1024];       /* o.source for messages: an URL's user:password@ masked */
	const AVInputFormat *ifmt;
	char video_size[32];    /* device option, "" none */
	char framerate[32];
	double demo_len;        /* seconds; 0 endless */
	int stdin_flags;        /* fd 0 flags to restore, -1 untouched */

	atomic_int stop;
	atomic_int closing;     /* src_close(): only the deadline interrupts */
	_Atomic int64_t deadline; /* av_gettime_relative() limit, 0 none */
	struct shared *sh;
	pthread_t thread;
	int thread_started;

	/* capture thread only */
	AVFormatContext *fmt;
	AVCodecContext *dec;
	AVPacket *pkt;
	AVFrame *frame;
	int vstream;
	AVRational tb;
	double frame_dur;       /* nominal seconds per frame */
	struct sws_cache sws_gray, sws_rgb;
	int64_t n_decoded;
	int64_t last_k;         /* last sampled index */
	double first_pts, conn_base, last_media, last_dec_mono;
	int have_media;
	double pace_wall0, pace_media0;
	double backoff;
	double last_pkt_mono;   /* when the source last gave a packet */
	double conn_mono;       /* when this connection was opened */
	int64_t conn_decoded;   /* n_decoded when it was opened */
	int n_opens;            /* successful src_open calls */
	int ts_discont;         /* demuxer allows timestamp jumps (MPEG-TS, HLS) */
	int segmented;          /* HLS or DASH */
	double seg_last_pts;    /* live HLS/DASH: newest timestamp decoded, NAN none */
	double seg_skip_pts;    /* after a reopening: skip frames up to this, NAN none */
	int need_key;           /* live: packets to skip at most before a keyframe */
	int fatal;              /* EMO_E* set by the frame path */
	atomic_llong refused;   /* w << 32 | h of a frame over CAPTURE_MAX_PIXELS, 0 none */
};

/* ---- time ---- */

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static struct timespec mono_ts(double t)
{
	struct timespec ts;
	if (t < 0)
		t = 0;
	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* ---- logging ---- */

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static void (*log_fn)(void *ud, int level, const char *line);
static void *log_ud;
static int log_max = CAPTURE_LOG_WARNING;
static char log_line[1024];
static int log_len;
static int log_line_level = CAPTURE_LOG_DEBUG;
/* Format contexts (compared, never dereferenced) whose open is the first,
 * TCP, try of rtsp_transport auto: FFmpeg's errors there ("method SETUP
 * failed: 461") are part of a fallback that may well work, so they are
 * said at info level; capture says at error level if UDP fails too. */
#define LOG_TRYING_MAX 16
static const void *log_trying[LOG_TRYING_MAX];

static int level_from_av(int lvl)
{
	if (lvl <= AV_LOG_ERROR)
		return CAPTURE_LOG_ERROR;
	if (lvl <= AV_LOG_WARNING)
		return CAPTURE_LOG_WARNING;
	if (lvl <= AV_LOG_INFO)
		return CAPTURE_LOG_INFO;
	return CAPTURE_LOG_DEBUG;
}

static int level_to_av(int lvl)
{
	switch (lvl) {
	case CAPTURE_LOG_QUIET: return AV_LOG_QUIET;
	case CAPTURE_LOG_ERROR: return AV_LOG_ERROR;
	case CAPTURE_LOG_WARNING: return AV_LOG_WARNING;
	case CAPTURE_LOG_INFO: return AV_LOG_INFO;
	default: return AV_LOG_VERBOSE;
	}
}

/* av_log callback: assemble whole lines (FFmpeg may send pieces), mask the
 * credentials of any URL in them (emo_redact_text), hand them to log_fn.
 * Runs in any thread. */
static void av_log_bridge(void *avcl, int level, const char *fmt, va_list vl)
{
	char piece[1024];
	static int print_prefix = 1;
	int lvl = level_from_av(level);

	if (level > av_log_get_level())
		return;
	/* libav's own warnings (x11grab's probesize note at every start...)
	 * only when verbose; capture's messages come with no context */
	if (avcl && lvl == CAPTURE_LOG_WARNING && log_max < CAPTURE_LOG_INFO)
		return;
	pthread_mutex_lock(&log_mu);
	if (avcl && lvl < CAPTURE_LOG_INFO)
		for (int i = 0; i < LOG_TRYING_MAX; i++)
			if (log_trying[i] == avcl) {
				lvl = CAPTURE_LOG_INFO;
				break;
			}
	av_log_format_line2(avcl, level, fmt, vl, piece, (int)sizeof(piece), &print_prefix);
	for (const char *p = piece; *p; p++) {
		if (lvl < log_line_level)
			log_line_level = lvl;
		if (*p == '\n' || log_len == (int)sizeof(log_line) - 1) {
			log_line[log_len] = '\0';
			if (log_fn && log_len && log_line_level <= log_max) {
				/* FFmpeg names URLs as given ("Opening 'http://u:pw@...'") */
				char shown[sizeof(log_line) + 256];

				emo_redact_text(log_line, shown, sizeof(shown));
				log_fn(log_ud, log_line_level, shown);
			}
			log_len = 0;
			log_line_level = CAPTURE_LOG_DEBUG;
			if (*p == '\n')
				continue;
		}
		log_line[log_len++] = *p;
	}
	pthread_mutex_unlock(&log_mu);
}

void capture_set_log(void (*fn)(void *ud, int level, const char *line), void *ud,
		     int max_level)
{
	pthread_mutex_lock(&log_mu);
	log_fn = fn;
	log_ud = ud;
	log_max = max_level;
	log_len = 0;
	pthread_mutex_unlock(&log_mu);
	av_log_set_level(level_to_av(max_level));
	av_log_set_callback(fn ? av_log_bridge : av_log_default_callback);
}

/* ctx's messages are (on 1) or are no longer (0) those of a first try
 * that has a fallback. A full table leaves them as they are. */
static void log_trying_set(const void *ctx, int on)
{
	pthread_mutex_lock(&log_mu);
	for (int i = 0; i < LOG_TRYING_MAX; i++)
		if (on ? !log_trying[i] : log_trying[i] == ctx) {
			log_trying[i] = on ? ctx : NULL;
			break;
		}
	pthread_mutex_unlock(&log_mu);
}

/* capture's own messages go through av_log, hence to the same place. */
static void cap_log(const struct capture *c, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void cap_log(const struct capture *c, int level, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	av_log(NULL, level_to_av(level), "capture: %s: %s\n", c ? c->shown : "-", msg);
}

/* Record msg as the last error (stats) and log it. */
static void set_last_error(struct capture *c, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_last_error(struct capture *c, int level, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&c->sh->mu);
	snprintf(c->sh->st.last_error, sizeof(c->sh->st.last_error), "%s", msg);
	pthread_mutex_unlock(&c->sh->mu);
	cap_log(c, level, "%s", msg);
}

/* ---- stop, deadlines, sleeping ---- */

static int stopped(const struct capture *c)
{
	return atomic_load(&c->stop) || (c->o.cancel && *c->o.cancel);
}

static int interrupt_cb(void *opaque)
{
	struct capture *c = opaque;
	int64_t dl = atomic_load(&c->deadline);

	if (stopped(c) && !atomic_load(&c->closing))
		return 1;
	return dl && av_gettime_relative() > dl;
}

static void arm_deadline(struct capture *c, int ms)
{
	atomic_store(&c->deadline, ms > 0 ? av_gettime_relative() + (int64_t)ms * 1000 : 0);
}

/* Sleep until monotonic time t unless stopped first; returns stopped(). */
static int nap_until(struct capture *c, double t)
{
	struct timespec ts = mono_ts(t);

	pthread_mutex_lock(&c->sh->mu);
	while (!stopped(c) && mono_now() < t) {
		/* wake at least every 100 ms to notice an external cancel flag */
		double slice = mono_now() + 0.1;
		struct timespec ts2 = slice < t ? mono_ts(slice) : ts;
		pthread_cond_timedwait(&c->sh->wake, &c->sh->mu, &ts2);
	}
	pthread_mutex_unlock(&c->sh->mu);
	return stopped(c);
}

/* ---- frame slots and conversion ---- */

static int align_up(int v)
{
	return (v + ROW_ALIGN - 1) / ROW_ALIGN * ROW_ALIGN;
}

/* Make img a w x h buffer of bpp bytes per pixel; reallocates only when the
 * needed size grows. */
static int slot_image(struct emo_image *img, size_t *cap, int w, int h, int bpp)
{
	int stride = align_up(w * bpp);
	size_t need = (size_t)stride * (size_t)h + ROW_ALIGN;

	if (need > *cap) {
		uint8_t *px = av_malloc(need);
		if (!px)
			return EMO_ENOMEM;
		av_free(img->px);
		img->px = px;
		*cap = need;
	}
	img->w = w;
	img->h = h;
	img->stride = stride;
	return EMO_OK;
}

static void slot_free(struct slot *s)
{
	av_freep(&s->gray.px);
	av_freep(&s->rgb.px);
	s->gray_cap = s->rgb_cap = 0;
}

/* Map yuvj* to yuv* with a full-range flag, so swscale's cache is stable
 * and the range explicit. */
static enum AVPixelFormat src_format(const AVFrame *f, int *full)
{
	enum AVPixelFormat fmt = (enum AVPixelFormat)f->format;
	const AVPixFmtDescriptor *d;

	switch (fmt) {
	case AV_PIX_FMT_YUVJ420P: *full = 1; return AV_PIX_FMT_YUV420P;
	case AV_PIX_FMT_YUVJ422P: *full = 1; return AV_PIX_FMT_YUV422P;
	case AV_PIX_FMT_YUVJ444P: *full = 1; return AV_PIX_FMT_YUV444P;
	case AV_PIX_FMT_YUVJ440P: *full = 1; return AV_PIX_FMT_YUV440P;
	case AV_PIX_FMT_YUVJ411P: *full = 1; return AV_PIX_FMT_YUV411P;
	default: break;
	}
	d = av_pix_fmt_desc_get(fmt);
	if (d && ((d->flags & AV_PIX_FMT_FLAG_RGB) || d->nb_components <= 2))
		*full = f->color_range != AVCOL_RANGE_MPEG; /* RGB, gray: full unless tagged */
	else
		*full = f->color_range == AVCOL_RANGE_JPEG;
	return fmt;
}

/* Convert f into dst (dw x dh, format dfmt) with full-range output. */
static int scale_frame(struct sws_cache *sc, const AVFrame *f, int dw, int dh,
		       enum AVPixelFormat dfmt, uint8_t *dst, int dst_stride)
{
	int full = 0, cs;
	enum AVPixelFormat sfmt = src_format(f, &full);
	int flags = (dw < f->width || dh < f->height) ? SWS_AREA : SWS_BILINEAR;
	uint8_t *dd[4] = { dst, NULL, NULL, NULL };
	int dl[4] = { dst_stride, 0, 0, 0 };

	cs = f->colorspace;
	if (cs == AVCOL_SPC_UNSPECIFIED || cs == AVCOL_SPC_RGB || cs > AVCOL_SPC_BT2020_CL)
		cs = SWS_CS_DEFAULT;
	/* When any parameter changes the old context is freed: assign back. */
	sc->ctx = sws_getCachedContext(sc->ctx, f->width, f->height, sfmt, dw, dh, dfmt, flags,
				       NULL, NULL, NULL);
	if (!sc->ctx) {
		sc->valid = 0;
		return EMO_EUNSUPPORTED;
	}
	if (!sc->valid || sc->sw != f->width || sc->sh != f->height || sc->sfmt != sfmt ||
	    sc->dw != dw || sc->dh != dh || sc->dfmt != dfmt || sc->full != full || sc->cs != cs) {
		const int *coef = sws_getCoefficients(cs);
		sws_setColorspaceDetails(sc->ctx, coef, full, coef, 1, 0, 1 << 16, 1 << 16);
		sc->sw = f->width;
		sc->sh = f->height;
		sc->sfmt = sfmt;
		sc->dw = dw;
		sc->dh = dh;
		sc->dfmt = dfmt;
		sc->full = full;
		sc->cs = cs;
		sc->valid = 1;
	}
	/* linesize may exceed width: pass the frame's strides as they are. */
	sws_scale(sc->ctx, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dd, dl);
	return EMO_OK;
}

static void scaled_size(int w, int h, int max_side, int *dw, int *dh)
{
	int m = w > h ? w : h;

	*dw = w;
	*dh = h;
	if (max_side > 0 && m > max_side) {
		*dw = (int)lround((double)w * max_side / m);
		*dh = (int)lround((double)h * max_side / m);
		if (*dw < 1)
			*dw = 1;
		if (*dh < 1)
			*dh = 1;
	}
}

/* ---- hand-over ---- */

/* Make the writer slot the queued one. In no-drop mode wait until the
 * consumer took the previous frame; otherwise the previous one is dropped.
 * Returns stopped(). */
static int publish(struct capture *c)
{
	struct shared *sh = c->sh;
	int t;

	pthread_mutex_lock(&sh->mu);
	if (!c->dropping)
		while (sh->fresh && !stopped(c)) {
			struct timespec ts = mono_ts(mono_now() + 0.1);
			pthread_cond_timedwait(&sh->wake, &sh->mu, &ts);
		}
	if (stopped(c)) {
		pthread_mutex_unlock(&sh->mu);
		return 1;
	}
	if (sh->fresh) {
		sh->st.dropped++;
		sh->drops_pending++;
	}
	t = sh->w;
	sh->w = sh->q;
	sh->q = t;
	sh->fresh = 1;
	pthread_cond_broadcast(&sh->ready);
	pthread_mutex_unlock(&sh->mu);
	return 0;
}

/* Media time: seconds since the first frame, continuous across reconnects
 * and timestamp jumps. A step back is always a discontinuity; a step of
 * more than 10 s forward only for live sources and formats whose
 * timestamps may jump (MPEG-TS, HLS): in a file it is a real gap
 * (motion-triggered or variable-frame-rate recordings). */
static double media_time(struct capture *c, double pts)
{
	double m, dur = c->frame_dur > 0 ? c->frame_dur : 0.04;

	if (isnan(pts))
		m = c->have_media ? c->last_media + dur : 0;
	else {
		if (isnan(c->first_pts)) {
			c->first_pts = pts;
			c->conn_base = c->have_media ? c->last_media + dur : 0;
		}
		m = c->conn_base + (pts - c->first_pts);
		if (c->have_media && (m < c->last_media - 1e-9 ||
				      ((c->live || c->ts_discont) && m > c->last_media + 10))) {
			c->first_pts = pts; /* discontinuity */
			c->conn_base = c->last_media + dur;
			m = c->conn_base;
		}
	}
	c->last_media = m;
	c->have_media = 1;
	return m;
}

/* Sampling at o.fps in media time: 1 when the frame at media time m is due. */
static int sample_due(struct capture *c, double m)
{
	int64_t k;

	if (!c->sampling)
		return 1;
	k = (int64_t)floor(m * c->o.fps + 1e-6);
	if (k <= c->last_k) {
		pthread_mutex_lock(&c->sh->mu);
		c->sh->st.skipped++;
		pthread_mutex_unlock(&c->sh->mu);
		return 0;
	}
	c->last_k = k;
	return 1;
}

/* Realtime pacing: sleep until the frame's media time has come on the wall
 * clock; re-anchor after stalls or jumps. Returns stopped(). */
static int pace(struct capture *c, double m)
{
	double now = mono_now(), ahead;

	if (!c->paced)
		return 0;
	if (isnan(c->pace_wall0) || m < c->pace_media0) {
		c->pace_wall0 = now;
		c->pace_media0 = m;
	}
	ahead = c->pace_wall0 + (m - c->pace_media0) - now;
	if (ahead > 2.0 || ahead < -1.0) {
		c->pace_wall0 = now;
		c->pace_media0 = m;
		ahead = 0;
	}
	return ahead > 0 ? nap_until(c, now + ahead) : stopped(c);
}

static void count_decoded(struct capture *c, int w, int h)
{
	double now = mono_now();
	struct shared *sh = c->sh;

	pthread_mutex_lock(&sh->mu);
	sh->st.decoded++;
	sh->st.width = w;
	sh->st.height = h;
	if (c->frame_dur > 0)
		sh->st.fps = 1.0 / c->frame_dur;
	else if (c->last_dec_mono > 0 && now > c->last_dec_mono) {
		double inst = 1.0 / (now - c->last_dec_mono);
		sh->st.fps = sh->st.fps > 0 ? 0.9 * sh->st.fps + 0.1 * inst : inst;
	}
	pthread_mutex_unlock(&sh->mu);
	c->last_dec_mono = now;
}

/* One decoded frame: sample, pace, convert into the writer slot, publish.
 * Returns nonzero to stop decoding (stop or c->fatal set). */
static int on_frame(struct capture *c, const AVFrame *f)
{
	struct slot *s = &c->sh->slots[c->sh->w]; /* w only changes in this thread */
	double pts = NAN, m;
	int64_t idx = c->n_decoded++;
	int dw, dh, rc;

	if (f->width <= 0 || f->height <= 0)
		return 0;
	if (f->best_effort_timestamp != AV_NOPTS_VALUE)
		pts = (double)f->best_effort_timestamp * av_q2d(c->tb);
	if (c->live && c->segmented && !isnan(pts)) {
		if (!isnan(c->seg_skip_pts)) {
			if (pts <= c->seg_skip_pts && pts > c->seg_skip_pts - SEG_REPLAY_S)
				return 0; /* a segment read before the reopening */
			c->seg_skip_pts = NAN;
		}
		c->seg_last_pts = isnan(c->seg_last_pts) ? pts : fmax(c->seg_last_pts, pts);
	}
	m = media_time(c, pts);
	count_decoded(c, f->width, f->height);
	if (!sample_due(c, m))
		return 0;
	if (pace(c, m))
		return 1;
	scaled_size(f->width, f->height, c->o.max_side, &dw, &dh);
	rc = slot_image(&s->gray, &s->gray_cap, dw, dh, 1);
	if (rc == EMO_OK)
		rc = scale_frame(&c->sws_gray, f, dw, dh, AV_PIX_FMT_GRAY8, s->gray.px, s->gray.stride);
	if (rc == EMO_OK && c->o.want_rgb) {
		rc = slot_image(&s->rgb, &s->rgb_cap, dw, dh, 3);
		if (rc == EMO_OK)
			rc = scale_frame(&c->sws_rgb, f, dw, dh, AV_PIX_FMT_RGB24, s->rgb.px, s->rgb.stride);
	}
	if (rc != EMO_OK) {
		const char *name = av_get_pix_fmt_name((enum AVPixelFormat)f->format);
		set_last_error(c, CAPTURE_LOG_ERROR, "%s", rc == EMO_ENOMEM ? "out of memory" :
			       "cannot convert pixel format");
		cap_log(c, CAPTURE_LOG_DEBUG, "pixel format %s, %dx%d", name ? name : "?", f->width, f->height);
		c->fatal = rc;
		return 1;
	}
	s->info.pts = pts;
	s->info.media_time = m;
	s->info.wall = wall_now();
	s->info.index = idx;
	s->info.dropped = 0;
	s->info.src_w = f->width;
	s->info.src_h = f->height;
	return publish(c);
}

/* ---- the FFmpeg side ---- */

static int is_net_url(const char *s)
{
	const char *p = strstr(s, "://");
	return p && p > s && strncmp(s, "file://", 7) != 0;
}

/* HLS and DASH fetch segments themselves and, at the live edge, wait inside
 * av_read_frame up to a segment's length for the next one: no deadline on
 * the whole read (rw_timeout still bounds every request they make). */
static int is_segmented(const AVInputFormat *f)
{
	return f && (!strcmp(f->name, "hls") || !strcmp(f->name, "dash"));
}

/* The hard limit on one blocking FFmpeg call, in ms (0: none): network
 * sources and devices only. Files do not hang, and stdin is non-blocking,
 * waits for a writer as long as it takes and yields to a stop request. */
static int deadline_ms(const struct capture *c, const AVFormatContext *ic)
{
	if (c->kind != SRC_NET && c->kind != SRC_WEBCAM && c->kind != SRC_SCREEN)
		return 0;
	if (ic && is_segmented(ic->iformat))
		return 0;
	return c->o.timeout_ms;
}

/* A network source that knows its duration is a recording fetched by URL
 * (an .mp4 over HTTP, an HLS playlist with #EXT-X-ENDLIST, a DASH static
 * manifest): read like a file. HLS and DASH set the duration only for such
 * finished presentations; a duration guessed from the bit rate and the
 * size of their manifest says nothing. */
static int has_duration(const AVFormatContext *ic)
{
	if (ic->duration == AV_NOPTS_VALUE || ic->duration <= 0)
		return 0;
	return !(is_segmented(ic->iformat) &&
		 ic->duration_estimation_method == AVFMT_DURATION_FROM_BITRATE);
}

/* Why a connection ended, for "stream %s; reconnecting". */
static const char *end_reason(const struct capture *c, int ret, char *buf, size_t len)
{
	if (ret == AVERROR_EOF)
		return "ended";
	if ((ret == AVERROR_EXIT && !stopped(c)) || ret == AVERROR(ETIMEDOUT)) {
		/* our deadline (FFmpeg says "Immediate exit requested") or rw_timeout */
		snprintf(buf, len, "gave no data for %g s", c->o.timeout_ms / 1000.0);
		return buf;
	}
	av_strerror(ret, buf, len);
	return buf;
}

static const char *open_reason(const struct capture *c, int ret, char *buf, size_t len)
{
	switch (ret) {
	case AVERROR(ENOENT): return "no such file or directory";
	case AVERROR(EACCES): return "permission denied";
	case AVERROR(EISDIR): return "is a directory";
	case AVERROR_INVALIDDATA: return "not a video or image (format not recognised or damaged)";
	case AVERROR(ECONNREFUSED): return "connection refused";
	case AVERROR(ETIMEDOUT): return "timed out";
	case AVERROR(EHOSTUNREACH): return "host unreachable";
	case AVERROR(ENETUNREACH): return "network unreachable";
	case AVERROR_HTTP_NOT_FOUND: return "HTTP 404 not found";
	case AVERROR_HTTP_FORBIDDEN: return "HTTP 403 forbidden";
	case AVERROR_PROTOCOL_NOT_FOUND: return "unsupported protocol";
	case AVERROR_DEMUXER_NOT_FOUND: return "unknown input format";
	case AVERROR_EXIT:
		if (stopped(c))
			return "interrupted";
		snprintf(buf, len, "timed out after %d ms", c->o.timeout_ms);
		return buf;
	default:
		av_strerror(ret, buf, len);
		return buf;
	}
}

static void warn_unused(const struct capture *c, AVDictionary *opts)
{
	const AVDictionaryEntry *e = NULL;

	while ((e = av_dict_get(opts, "", e, AV_DICT_IGNORE_SUFFIX))) {
		int user = !strcmp(e->key, "video_size") || !strcmp(e->key, "framerate") ||
			   !strcmp(e->key, "input_format") ||
			   (c->o.av_options && strstr(c->o.av_options, e->key)) ||
			   (c->o.input_options && strstr(c->o.input_options, e->key));
		cap_log(c, user ? CAPTURE_LOG_WARNING : CAPTURE_LOG_DEBUG,
		     "option %s=%s not used by this input", e->key, e->value);
	}
}

/* Protocols a source may open, nested opens (playlist entries, segments)
 * included: local files read local files only, stdin only itself, and a
 * network source any protocol but the local ones (a remote playlist never
 * reads a file here). Set once by register_once(). */
static char net_protocols[1024];

static void list_net_protocols(void)
{
	void *it = NULL;
	const char *name;
	size_t n = 0;

	while ((name = avio_enum_protocols(&it, 0))) {
		int len;
		if (!strcmp(name, "file") || !strcmp(name, "pipe") || !strcmp(name, "fd"))
			continue;
		len = snprintf(net_protocols + n, sizeof(net_protocols) - n, "%s%s", n ? "," : "", name);
		if (len < 0 || (size_t)len >= sizeof(net_protocols) - n) {
			net_protocols[n] = '\0'; /* cut at the last whole name */
			break;
		}
		n += (size_t)len;
	}
}

static const char *protocol_whitelist(const struct capture *c)
{
	switch (c->kind) {
	case SRC_FILE: return "file,crypto,data";
	case SRC_STDIN: return "pipe,crypto,data";
	case SRC_NET: return net_protocols[0] ? net_protocols : NULL;
	default: return NULL; /* devices open no URL */
	}
}

static int ends_with(const char *s, const char *ext)
{
	size_t n = strlen(s), m = strlen(ext);
	return n > m && !strcasecmp(s + n - m, ext);
}

/* A local file's demuxer, probed here rather than by avformat_open_input:
 * the demuxers that open other files are used only for a file named as
 * such (HLS .m3u8/.m3u, DASH .mpd; concat lists, IMF and SDP never, unless
 * capture_opts.format names them), so a playlist under another name (an
 * HLS list renamed .jpg listing local files) is refused before it opens
 * anything. On EMO_OK c->ifmt is the demuxer to open the file with. */
static int probe_local(struct capture *c, struct emo_err *err)
{
	static const struct {
		const char *demuxer, *ext1, *ext2;
	} nested[] = {
		{"hls", ".m3u8", ".m3u"}, {"dash", ".mpd", NULL}, {"concat", NULL, NULL},
		{"imf", NULL, NULL},      {"sdp", NULL, NULL},    {"rtsp", NULL, NULL},
	};
	AVIOInterruptCB cb = { interrupt_cb, c };
	AVDictionary *opts = NULL;
	AVIOContext *pb = NULL;
	const AVInputFormat *fmt = NULL;
	const char *path = c->url + 5; /* after "file:" */
	char buf[128];
	int ret;

	av_dict_set(&opts, "protocol_whitelist", protocol_whitelist(c), 0);
	ret = avio_open2(&pb, c->url, AVIO_FLAG_READ, &cb, &opts);
	av_dict_free(&opts);
	if (ret < 0)
		return emo_seterr(err, EMO_ESOURCE, c->shown, 0, 0, "cannot open: %s",
				  open_reason(c, ret, buf, sizeof(buf)));
	ret = av_probe_input_buffer2(pb, &fmt, c->url, NULL, 0, 0);
	avio_closep(&pb);
	if (ret < 0)
		return emo_seterr(err, EMO_ESOURCE, c->shown, 0, 0, "cannot open: %s",
				  open_reason(c, ret, buf, sizeof(buf)));
	for (size_t i = 0; i < sizeof(nested) / sizeof(nested[0]); i++) {
		if (strcmp(fmt->name, nested[i].demuxer))
			continue;
		if ((nested[i].ext1 && ends_with(path, nested[i].ext1)) ||
		    (nested[i].ext2 && ends_with(path, nested[i].ext2)))
			break;
		if (nested[i].ext1)
			return emo_seterr(err, EMO_ESOURCE, c->shown, 0, 0, "not opened: an %s "
					  "playlist (it names other files) is read only from a "
					  "file named *%s", fmt->name, nested[i].ext1);
		return emo_seterr(err, EMO_ESOURCE, c->shown, 0, 0, "not opened: a %s file names "
				  "other files or streams, and is not read as a source", fmt->name);
	}
	c->ifmt = fmt;
	return EMO_OK;
}

/* capture_opts.input_options: a value FFmpeg's generic input options refuse
 * is named here (FFmpeg would only say "Invalid argument"); options of a
 * demuxer or protocol are checked when opened, and unused ones warned of. */
static int check_input_options(const struct capture *c, struct emo_err *err)
{
	AVFormatContext *scratch;
	AVDictionary *d = NULL;
	const AVDictionaryEntry *e = NULL;
	int rc = EMO_OK;

	if (!c->o.input_options || !*c->o.input_options)
		return EMO_OK;
	if (av_dict_parse_string(&d, c->o.input_options, "=", "\n", 0) < 0) {
		av_dict_free(&d);
		return emo_seterr(err, EMO_EINVAL, c->shown, 0, 0, "bad input options (key=value)");
	}
	if (!(scratch = avformat_alloc_context())) {
		av_dict_free(&d);
		return emo_seterr(err, EMO_ENOMEM, c->shown, 0, 0, "out of memory");
	}
	while ((e = av_dict_get(d, "", e, AV_DICT_IGNORE_SUFFIX))) {
		int ret = av_opt_set(scratch, e->key, e->value, 0);
		if (ret < 0 && ret != AVERROR_OPTION_NOT_FOUND) {
			char why[128];
			av_strerror(ret, why, sizeof(why));
			rc = emo_seterr(err, EMO_EINVAL, c->shown, 0, 0,
					"input option %s=%s refused by FFmpeg: %s", e->key, e->value, why);
			break;
		}
	}
	avformat_free_context(scratch);
	av_dict_free(&d);
	return rc;
}

static int build_options(const struct capture *c, AVDictionary **d)
{
	char us[32];
	const char *wl = protocol_whitelist(c);

	if (wl)
		av_dict_set(d, "protocol_whitelist", wl, 0);

	if (c->kind == SRC_NET) {
		snprintf(us, sizeof(us), "%lld", (long long)c->o.timeout_ms * 1000);
		av_dict_set(d, "rw_timeout", us, 0);
		/* "timeout" means I/O timeout (us) for these; for rtmp it would
		 * mean listening for a connection */
		if (!strncmp(c->url, "http", 4) || !strncmp(c->url, "rtsp", 4) ||
		    !strncmp(c->url, "tcp:", 4) || !strncmp(c->url, "tls:", 4) ||
		    !strncmp(c->url, "udp:", 4) || !strncmp(c->url, "srt:", 4))
			av_dict_set(d, "timeout", us, 0);
		if (!strncmp(c->url, "rtsp://", 7) || !strncmp(c->url, "rtsps://", 8))
			av_dict_set(d, "rtsp_transport",
				    c->o.rtsp_transport == CAPTURE_RTSP_UDP ||
				    (c->o.rtsp_transport == CAPTURE_RTSP_AUTO && c->udp_now)
				    ? "udp" : "tcp", 0);
		/* live HLS: start at the newest segment, not 3 back (18 s of
		 * backlog at 6 s segments, decoded only to be dropped), and give
		 * up on a playlist that stopped growing (it is reopened) */
		av_dict_set(d, "live_start_index", "-1", 0);
		av_dict_set(d, "m3u8_hold_counters", HLS_HOLD_RELOADS, 0);
	}
	if (c->live) {
		/* enough to reach a keyframe of a camera that sends one every
		 * 10 s (the probe ends as soon as the streams are known) */
		av_dict_set(d, "probesize", LIVE_PROBESIZE, 0);
		av_dict_set(d, "analyzeduration", LIVE_ANALYZE_US, 0);
	}
	if (c->video_size[0])
		av_dict_set(d, "video_size", c->video_size, 0);
	if (c->framerate[0])
		av_dict_set(d, "framerate", c->framerate, 0);
	if (c->kind == SRC_WEBCAM && c->o.input_format && *c->o.input_format)
		av_dict_set(d, "input_format", c->o.input_format, 0);
	if (c->kind == SRC_SCREEN)
		av_dict_set(d, "draw_mouse", "0", 0);
	if (c->o.av_options && *c->o.av_options &&
	    av_dict_parse_string(d, c->o.av_options, "=", ":", 0) < 0)
		return EMO_EINVAL;
	if (c->o.input_options && *c->o.input_options &&
	    av_dict_parse_string(d, c->o.input_options, "=", "\n", 0) < 0)
		return EMO_EINVAL;
	return EMO_OK;
}

/* An mp4/mov whose index (moov) comes after the media, on an input that
 * cannot seek back (HTTP without range requests, a pipe): the demuxer read
 * past the media to find the index and cannot return to it, so nothing
 * would decode. 1 when so. */
static int index_after_media(AVFormatContext *ic)
{
	int64_t at;

	if (!ic->pb || (ic->pb->seekable & AVIO_SEEKABLE_NORMAL) ||
	    strncmp(ic->iformat->name, "mov,", 4))
		return 0;
	at = avio_tell(ic->pb);
	for (unsigned i = 0; i < ic->nb_streams; i++) {
		const AVIndexEntry *e = avformat_index_get_entry(ic->streams[i], 0);
		if (e && e->pos < at)
			return 1;
	}
	return 0;
}

/* w x h beyond CAPTURE_MAX_PIXELS (0 x 0: not known yet, checked per frame) */
static int too_large(int w, int h)
{
	return (int64_t)w * h > CAPTURE_MAX_PIXELS;
}

static void say_too_large(struct emo_err *err, const char *name, int w, int h)
{
	emo_seterr(err, EMO_ESOURCE, name, 0, 0, "picture too large: %dx%d (%.1f megapixels; "
		   "the limit is %.1f)", w, h, (double)w * h / 1e6, CAPTURE_MAX_PIXELS / 1e6);
}

/* The decoder's frame allocator: refuses frames over the limit (noting the
 * size for the message), so that no picture over it is ever held whole.
 * Runs in the decoder's threads: touches only the atomic. */
static int get_buffer_bounded(AVCodecContext *dec, AVFrame *f, int flags)
{
	struct capture *c = dec->opaque;

	if (too_large(f->width, f->height)) {
		atomic_store(&c->refused, (long long)f->width << 32 | f->height);
		return AVERROR(ERANGE);
	}
	return avcodec_default_get_buffer2(dec, f, flags);
}

/* The frame refused by get_buffer_bounded, as c->fatal and the last error. */
static int check_refused(struct capture *c, struct emo_err *err)
{
	long long r = atomic_load(&c->refused);
	struct emo_err e = { 0 };

	if (!r)
		return 0;
	say_too_large(err ? err : &e, c->shown, (int)(r >> 32), (int)(r & 0xffffffff));
	if (!err)
		set_last_error(c, CAPTURE_LOG_ERROR, "%s", e.msg);
	return c->fatal = EMO_ESOURCE;
}

static void free_stream_opts(AVDictionary ***d, unsigned n)
{
	if (!*d)
		return;
	for (unsigned i = 0; i < n; i++)
		av_dict_free(&(*d)[i]);
	free(*d);
	*d = NULL;
}

/* Closing says goodbye where the protocol has one (RTSP's TEARDOWN, so a
 * camera stops sending RTP over UDP at once), even when stopped: within
 * CLOSE_GRACE_MS, then the deadline interrupts it. */
static void src_close(struct capture *c)
{
	avcodec_free_context(&c->dec);
	if (!c->fmt)
		return;
	atomic_store(&c->closing, 1);
	arm_deadline(c, CLOSE_GRACE_MS);
	avformat_close_input(&c->fmt);
	arm_deadline(c, 0);
	atomic_store(&c->closing, 0);
}

/* Open c->url: demuxer, best video stream, decoder. */
static int src_open(struct capture *c, struct emo_err *err)
{
	AVFormatContext *ic = avformat_alloc_context();
	AVDictionary *opts = NULL, **sopts = NULL;
	const AVCodec *codec = NULL;
	AVCodecContext *dec = NULL;
	AVStream *st;
	char buf[128];
	const void *tried;
	unsigned nsopts = 0;
	int ret, vs, trying, rc = EMO_ESOURCE;

	if ((rc = check_input_options(c, err))) {
		avformat_free_context(ic);
		return rc;
	}
again:
	if (!ic)
		return emo_seterr(err, EMO_ENOMEM, c->shown, 0, 0, "out of memory");
	ic->interrupt_callback.callback = interrupt_cb;
	ic->interrupt_callback.opaque = c;
	if (c->live)
		ic->flags |= AVFMT_FLAG_NOBUFFER;
	if (c->kind == SRC_WEBCAM)
		ic->flags |= AVFMT_FLAG_NONBLOCK;
	if (build_options(c, &opts) < 0) {
		av_dict_free(&opts);
		avformat_free_context(ic);
		return emo_seterr(err, EMO_EINVAL, c->shown, 0, 0, "bad av_options \"%s\"",
				  c->o.av_options);
	}
	if (c->kind == SRC_FILE && !c->o.format && (rc = probe_local(c, err))) {
		av_dict_free(&opts);
		avformat_free_context(ic);
		return rc;
	}
	rc = EMO_ESOURCE;
	arm_deadline(c, deadline_ms(c, NULL));
	trying = c->o.rtsp_transport == CAPTURE_RTSP_AUTO && !c->udp_now &&
		 (!strncmp(c->url, "rtsp://", 7) || !strncmp(c->url, "rtsps://", 8));
	if (trying)
		log_trying_set(ic, 1);
	tried = ic;
	ret = avformat_open_input(&ic, c->url, c->ifmt, &opts); /* frees ic on failure */
	if (trying)
		log_trying_set(tried, 0);
	if (ret < 0 && !stopped(c) && trying) {
		/* auto: TCP first (through NAT and firewalls), then UDP */
		av_dict_free(&opts);
		cap_log(c, CAPTURE_LOG_INFO, "RTSP over TCP failed (%s); trying UDP",
			av_err2str(ret));
		c->udp_now = 1;
		ic = avformat_alloc_context();
		goto again;
	}
	if (ret < 0) {
		av_dict_free(&opts);
		arm_deadline(c, 0);
		c->udp_now = 0; /* the next try starts over with TCP */
		return emo_seterr(err, EMO_ESOURCE, c->shown, 0, 0, "cannot open: %s",
				  open_reason(c, ret, buf, sizeof(buf)));
	}
	warn_unused(c, opts);
	av_dict_free(&opts);
	if (!c->o.format && !strcmp(ic->iformat->name, "tty")) {
		emo_seterr(err, EMO_ESOURCE, c->shown, 0, 0, "cannot open: not a video (a text file)");
		goto fail;
	}
	if (index_after_media(ic)) {
		emo_seterr(err, EMO_ESOURCE, c->shown, 0, 0, "cannot read: %s and the file's "
			   "index is at its end (remux it with -movflags +faststart)",
			   c->kind == SRC_NET ? "the server does not allow seeking"
					      : "the input does not allow seeking");
		goto fail;
	}
	if (!deadline_ms(c, ic))
		arm_deadline(c, 0); /* HLS may wait for its next segment here */
	if (c->kind == SRC_NET && !c->n_opens && ic->duration != AV_NOPTS_VALUE)
		ic->flags &= ~AVFMT_FLAG_NOBUFFER; /* a recording: keep the probed frames */
	/* the probe decodes a frame: bounded like the decoder below */
	if (!(sopts = calloc(ic->nb_streams ? ic->nb_streams : 1, sizeof(*sopts)))) {
		rc = emo_seterr(err, EMO_ENOMEM, c->shown, 0, 0, "out of memory");
		goto fail;
	}
	for (unsigned i = 0; i < ic->nb_streams; i++)
		av_dict_set_int(&sopts[i], "max_pixels", CAPTURE_MAX_PIXELS, 0);
	nsopts = ic->nb_streams;
	ret = avformat_find_stream_info(ic, sopts);
	if (ret < 0) {
		emo_seterr(err, EMO_ESOURCE, c->shown, 0, 0, "cannot read stream information: %s",
			   open_reason(c, ret, buf, sizeof(buf)));
		goto fail;
	}
	vs = av_find_best_stream(ic, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
	if (vs == AVERROR_DECODER_NOT_FOUND) {
		emo_seterr(err, EMO_ESOURCE, c->shown, 0, 0, "no decoder for its video codec");
		goto fail;
	}
	if (vs < 0) {
		emo_seterr(err, EMO_ESOURCE, c->shown, 0, 0, "no video stream (%s)",
			   ic->iformat->name);
		goto fail;
	}
	for (unsigned i = 0; i < ic->nb_streams; i++)
		ic->streams[i]->discard = (int)i == vs ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
	st = ic->streams[vs];
	if (too_large(st->codecpar->width, st->codecpar->height)) {
		say_too_large(err, c->shown, st->codecpar->width, st->codecpar->height);
		goto fail;
	}
	if (c->kind == SRC_NET && !c->n_opens)
		c->live = !has_duration(ic); /* decided once: reopenings keep it */
	dec = avcodec_alloc_context3(codec);
	if (!dec) {
		rc = emo_seterr(err, EMO_ENOMEM, c->shown, 0, 0, "out of memory");
		goto fail;
	}
	ret = avcodec_parameters_to_context(dec, st->codecpar);
	if (ret >= 0) {
		dec->pkt_timebase = st->time_base;
		if (c->live) {
			/* frame threading adds a frame of delay per thread */
			dec->thread_type = FF_THREAD_SLICE;
			dec->flags |= AV_CODEC_FLAG_LOW_DELAY;
		}
		dec->thread_count = 2;
		dec->opaque = c;
		dec->get_buffer2 = get_buffer_bounded;
#if FF_API_THREAD_SAFE_CALLBACKS /* it is (FFmpeg 5 only warns without this) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
		dec->thread_safe_callbacks = 1;
#pragma GCC diagnostic pop
#endif
		ret = avcodec_open2(dec, codec, NULL);
	}
	if (ret < 0) {
		emo_seterr(err, EMO_ESOURCE, c->shown, 0, 0, "cannot open %s decoder: %s",
			   codec->name, open_reason(c, ret, buf, sizeof(buf)));
		goto fail;
	}
	arm_deadline(c, 0);
	c->fmt = ic;
	c->dec = dec;
	c->vstream = vs;
	c->tb = st->time_base;
	{
		AVRational fr = av_guess_frame_rate(ic, st, NULL);
		double fps = fr.num > 0 && fr.den > 0 ? av_q2d(fr) : 0;
		c->frame_dur = fps > 0.1 && fps < 1000 ? 1.0 / fps : 0;
	}
	c->ts_discont = !!(ic->iformat->flags & AVFMT_TS_DISCONT);
	c->segmented = is_segmented(ic->iformat);
	c->seg_skip_pts = c->seg_last_pts;
	c->first_pts = NAN;
	c->last_pkt_mono = c->conn_mono = mono_now();
	c->conn_decoded = c->n_decoded;
	c->n_opens++;
	/* joining a live stream mid-GOP decodes to smears until a keyframe:
	 * skip up to that (bounded, for intra-refresh streams without one) */
	c->need_key = c->live ? 300 : 0;
	free_stream_opts(&sopts, nsopts);
	pthread_mutex_lock(&c->sh->mu);
	c->sh->st.connected = 1;
	c->sh->st.width = dec->width;
	c->sh->st.height = dec->height;
	c->sh->st.fps = c->frame_dur > 0 ? 1.0 / c->frame_dur : 0;
	snprintf(c->sh->st.codec, sizeof(c->sh->st.codec), "%s", codec->name);
	pthread_mutex_unlock(&c->sh->mu);
	return EMO_OK;
fail:
	arm_deadline(c, 0);
	free_stream_opts(&sopts, nsopts);
	avcodec_free_context(&dec);
	avformat_close_input(&ic);
	return rc;
}

/* Receive frames until the decoder wants input (0), is flushed
 * (AVERROR_EOF), or we must stop (1). */
static int drain(struct capture *c)
{
	for (;;) {
		int ret = avcodec_receive_frame(c->dec, c->frame);
		if (ret == AVERROR(EAGAIN))
			return 0;
		if (ret == AVERROR_EOF)
			return AVERROR_EOF;
		if (ret < 0) {
			if (check_refused(c, NULL))
				return 1;
			cap_log(c, CAPTURE_LOG_DEBUG, "decode error: %s", av_err2str(ret));
			return 0;
		}
		ret = on_frame(c, c->frame);
		av_frame_unref(c->frame); /* do not pin decoder buffers */
		if (ret)
			return 1;
	}
}

/* Read and decode one packet. Returns 0 to go on, 1 to stop, or the
 * av_read_frame error (AVERROR_EOF at the end) after flushing the decoder. */
static int pump(struct capture *c)
{
	int ret;

	arm_deadline(c, deadline_ms(c, c->fmt));
	ret = av_read_frame(c->fmt, c->pkt);
	arm_deadline(c, 0);
	if (ret == AVERROR(EAGAIN)) {
		/* non-blocking devices: a camera that stopped sending has failed */
		if (c->live && mono_now() - c->last_pkt_mono > c->o.timeout_ms / 1000.0)
			ret = AVERROR(ETIMEDOUT);
		else
			return nap_until(c, mono_now() + 0.005);
	}
	if (ret < 0) {
		int d = 0;
		if (stopped(c))
			return 1;
		if (avcodec_send_packet(c->dec, NULL) >= 0)
			while ((d = drain(c)) == 0)
				; /* EAGAIN cannot happen after a flush; drain to EOF */
		return d == 1 || check_refused(c, NULL) ? 1 : ret;
	}
	c->last_pkt_mono = mono_now();
	if (c->pkt->stream_index != c->vstream) {
		av_packet_unref(c->pkt);
		return 0;
	}
	if (c->need_key > 0) {
		if (!(c->pkt->flags & AV_PKT_FLAG_KEY)) {
			c->need_key--;
			av_packet_unref(c->pkt);
			return 0;
		}
		c->need_key = 0;
	}
	for (;;) {
		ret = avcodec_send_packet(c->dec, c->pkt);
		if (ret != AVERROR(EAGAIN))
			break;
		/* output pending: take it, then resend the same packet */
		if (drain(c)) {
			av_packet_unref(c->pkt);
			return 1;
		}
	}
	av_packet_unref(c->pkt);
	if (ret < 0 && ret != AVERROR_EOF)
		cap_log(c, CAPTURE_LOG_DEBUG, "bad packet: %s", av_err2str(ret));
	/* a frame refused for its size (the decoder may only log it) */
	return drain(c) == 1 || check_refused(c, NULL);
}

/* The wait before the reopening just scheduled, for capture_stats(). */
static void set_backoff(struct capture *c)
{
	pthread_mutex_lock(&c->sh->mu);
	c->sh->st.backoff_s = c->backoff;
	pthread_mutex_unlock(&c->sh->mu);
}

static int run_av(struct capture *c)
{
	for (;;) {
		int ret;
		if (stopped(c))
			return EMO_EINTR;
		if (!c->fmt) {
			struct emo_err e = { 0 };
			if (nap_until(c, mono_now() + c->backoff))
				return EMO_EINTR;
			c->backoff = fmin(c->backoff * 2, c->o.backoff_max_s);
			if (src_open(c, &e) != EMO_OK) {
				if (stopped(c))
					return EMO_EINTR;
				set_last_error(c, CAPTURE_LOG_WARNING, "%s; retry in %.1f s", e.msg,
					       c->backoff);
				set_backoff(c);
				continue;
			}
			if (c->live && c->segmented && has_duration(c->fmt)) {
				/* #EXT-X-ENDLIST appeared (a static manifest): the
				 * stream is over, its segments were all read */
				set_last_error(c, CAPTURE_LOG_INFO, "stream ended (the playlist is complete)");
				return EMO_EEOF;
			}
			pthread_mutex_lock(&c->sh->mu);
			c->sh->st.reconnects++;
			pthread_mutex_unlock(&c->sh->mu);
			cap_log(c, CAPTURE_LOG_INFO, "reconnected");
		}
		ret = pump(c);
		if (c->fatal)
			return c->fatal;
		if (ret == 0)
			continue;
		if (stopped(c))
			return EMO_EINTR;
		/* end or failure of this connection: the backoff starts over only
		 * after one that worked for a while, so a source that gives a few
		 * frames and ends is not fetched again every half second */
		if (c->n_decoded > c->conn_decoded && mono_now() - c->conn_mono >= STABLE_S)
			c->backoff = c->o.backoff_min_s;
		if (c->can_reconnect) {
			char why[128];
			set_last_error(c, c->live ? CAPTURE_LOG_WARNING : CAPTURE_LOG_INFO,
				       "stream %s; reconnecting in %.1f s",
				       end_reason(c, ret, why, sizeof(why)), c->backoff);
			set_backoff(c);
			src_close(c);
			pthread_mutex_lock(&c->sh->mu);
			c->sh->st.connected = 0;
			pthread_mutex_unlock(&c->sh->mu);
			continue;
		}
		if (ret == AVERROR_EOF)
			return EMO_EEOF;
		{
			char why[128];
			end_reason(c, ret, why, sizeof(why));
			if (!c->live) {
				/* a damaged file: what decoded is delivered, then the end */
				set_last_error(c, CAPTURE_LOG_WARNING, "read error: %s", why);
				return EMO_EEOF;
			}
			set_last_error(c, CAPTURE_LOG_ERROR, "read error: %s", why);
		}
		return EMO_ESOURCE;
	}
}

/* ---- the demo source (its pictures: capture_demo.c) ---- */

static void gray_to_rgb(const struct emo_image *g, struct emo_image *rgb)
{
	for (int y = 0; y < g->h; y++) {
		const uint8_t *s = g->px + (size_t)y * (size_t)g->stride;
		uint8_t *d = rgb->px + (size_t)y * (size_t)rgb->stride;
		for (int x = 0; x < g->w; x++, d += 3)
			d[0] = d[1] = d[2] = s[x];
	}
}

static int run_demo(struct capture *c)
{
	for (int64_t n = 0;; n++) {
		double t = (double)n / DEMO_FPS;
		struct slot *s = &c->sh->slots[c->sh->w];
		int rc;

		if (stopped(c))
			return EMO_EINTR;
		if (c->demo_len > 0 && t >= c->demo_len - 1e-9)
			return EMO_EEOF;
		if (c->live && !isnan(c->pace_wall0)) {
			/* live: when late, jump to the present instead of queueing */
			double behind = mono_now() - (c->pace_wall0 + (t - c->pace_media0));
			if (behind > 1.0 / DEMO_FPS) {
				int64_t skip = (int64_t)(behind * DEMO_FPS);
				n += skip;
				t = (double)n / DEMO_FPS;
			}
		}
		c->n_decoded = n;
		count_decoded(c, DEMO_W, DEMO_H);
		if (!sample_due(c, t))
			continue;
		if (pace(c, t))
			return EMO_EINTR;
		rc = slot_image(&s->gray, &s->gray_cap, DEMO_W, DEMO_H, 1);
		if (rc == EMO_OK && c->o.want_rgb)
			rc = slot_image(&s->rgb, &s->rgb_cap, DEMO_W, DEMO_H, 3);
		if (rc != EMO_OK)
			return rc;
		demo_render(t, &s->gray);
		if (c->o.want_rgb)
			gray_to_rgb(&s->gray, &s->rgb);
		s->info.pts = t;
		s->info.media_time = t;
		s->info.wall = wall_now();
		s->info.index = n;
		s->info.dropped = 0;
		s->info.src_w = DEMO_W;
		s->info.src_h = DEMO_H;
		if (publish(c))
			return EMO_EINTR;
	}
}

/* ---- thread and public API ---- */

static void *capture_thread(void *arg)
{
	struct capture *c = arg;
	int end = c->kind == SRC_DEMO ? run_demo(c) : run_av(c);

	pthread_mutex_lock(&c->sh->mu);
	c->sh->end = end;
	c->sh->st.connected = 0;
	pthread_cond_broadcast(&c->sh->ready);
	pthread_mutex_unlock(&c->sh->mu);
	return NULL;
}

void capture_opts_default(struct capture_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->fps = 5;
	o->timeout_ms = 5000;
	o->reconnect = -1;
	o->backoff_min_s = 0.5;
	o->backoff_max_s = 30;
}

/* one pthread_once for every entry point: capture_open, capture_read_image */
static pthread_once_t registered = PTHREAD_ONCE_INIT;

static void register_once(void)
{
	avdevice_register_all();
	avformat_network_init();
	list_net_protocols();
}

static char *dup_or_null(const char *s, int *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = 1;
	return d;
}

static int parse_int(const char **p, int *v)
{
	char *end;
	long l = strtol(*p, &end, 10);

	if (end == *p || l < 0 || l > 100000)
		return -1;
	*v = (int)l;
	*p = end;
	return 0;
}

/* screen[:DISPLAY][+X,Y][/WxH] -> x11grab url and video_size */
static int parse_screen(struct capture *c, const char *s, struct emo_err *err)
{
	char disp[256] = "";
	int x = 0, y = 0, w = 0, h = 0, has_off = 0;
	size_t n;

	if (*s == ':') {
		s++;
		n = strcspn(s, "+/");
		if (n >= sizeof(disp) - 1)
			goto bad;
		memcpy(disp, s, n);
		disp[n] = '\0';
		s += n;
	}
	if (*s == '+') {
		s++;
		if (parse_int(&s, &x) || *s++ != ',' || parse_int(&s, &y))
			goto bad;
		has_off = 1;
	}
	if (*s == '/') {
		s++;
		if (parse_int(&s, &w) || (*s != 'x' && *s != 'X'))
			goto bad;
		s++;
		if (parse_int(&s, &h) || w <= 0 || h <= 0)
			goto bad;
	}
	if (*s)
		goto bad;
	if (!disp[0]) {
		const char *env = getenv("DISPLAY");
		snprintf(disp, sizeof(disp), "%s", env && *env ? env : ":0");
	} else if (!strchr(disp, ':')) {
		size_t l = strlen(disp); /* < 255: one byte more fits */
		memmove(disp + 1, disp, l + 1);
		disp[0] = ':';
	}
	if (has_off)
		snprintf(c->url, sizeof(c->url), "%s+%d,%d", disp, x, y);
	else
		snprintf(c->url, sizeof(c->url), "%s", disp);
	if (!w && c->o.width > 0 && c->o.height > 0) {
		w = c->o.width;
		h = c->o.height;
	}
	if (w)
		snprintf(c->video_size, sizeof(c->video_size), "%dx%d", w, h);
	return EMO_OK;
bad:
	return emo_seterr(err, EMO_EINVAL, c->shown, 0, 0,
			  "bad screen source: expected screen[:DISPLAY][+X,Y][/WxH]");
}

static int parse_source(struct capture *c, struct emo_err *err)
{
	const char *s = c->o.source;

	if (!strcmp(s, "demo") || !strncmp(s, "demo:", 5)) {
		c->kind = SRC_DEMO;
		if (s[4] == ':') {
			char *end;
			c->demo_len = strtod(s + 5, &end);
			if (end == s + 5 || *end || !(c->demo_len > 0) || c->demo_len > 1e7)
				return emo_seterr(err, EMO_EINVAL, c->shown, 0, 0,
						  "bad demo source: expected demo or demo:SECONDS");
		}
		return EMO_OK;
	}
	if (!strcmp(s, "-")) {
		c->kind = SRC_STDIN;
		snprintf(c->url, sizeof(c->url), "pipe:0");
		return EMO_OK;
	}
	if (!strncmp(s, "webcam", 6) && (s[6] == '\0' || s[6] == ':')) {
		int n = 0;
		const char *p = s + 7;
		if (s[6] == ':' && (parse_int(&p, &n) || *p))
			return emo_seterr(err, EMO_EINVAL, c->shown, 0, 0, "bad webcam source: expected webcam[:N]");
		c->kind = SRC_WEBCAM;
		snprintf(c->url, sizeof(c->url), "/dev/video%d", n);
	} else if (!strncmp(s, "/dev/video", 10)) {
		c->kind = SRC_WEBCAM;
		snprintf(c->url, sizeof(c->url), "%s", s);
	} else if (!strncmp(s, "screen", 6) && strchr(":+/", s[6])) { /* also s[6] == '\0' */
		int rc;
		c->kind = SRC_SCREEN;
		rc = parse_screen(c, s + 6, err);
		if (rc)
			return rc;
	} else if (is_net_url(s)) {
		c->kind = SRC_NET;
		snprintf(c->url, sizeof(c->url), "%s", s);
	} else {
		c->kind = SRC_FILE;
		/* "file:" keeps a ':' in a path from reading as a protocol */
		snprintf(c->url, sizeof(c->url), "%s%s", strncmp(s, "file:", 5) ? "file:" : "", s);
	}
	if (strlen(s) >= sizeof(c->url) - 8)
		return emo_seterr(err, EMO_EINVAL, NULL, 0, 0, "source name too long");
	if (c->kind == SRC_WEBCAM || c->kind == SRC_SCREEN) {
		const char *dn = c->kind == SRC_WEBCAM ? "v4l2" : "x11grab";
		c->ifmt = av_find_input_format(dn);
		if (!c->ifmt)
			return emo_seterr(err, EMO_EUNSUPPORTED, c->shown, 0, 0,
					  "this FFmpeg has no %s input device", dn);
		if (c->kind == SRC_WEBCAM && c->o.width > 0 && c->o.height > 0)
			snprintf(c->video_size, sizeof(c->video_size), "%dx%d", c->o.width, c->o.height);
		if (c->o.input_fps > 0)
			snprintf(c->framerate, sizeof(c->framerate), "%g", c->o.input_fps);
		else if (c->kind == SRC_SCREEN)
			snprintf(c->framerate, sizeof(c->framerate), "%g", c->o.fps > 5 ? c->o.fps * 2 : 10.0);
	}
	if (c->o.format) {
		c->ifmt = av_find_input_format(c->o.format);
		if (!c->ifmt)
			return emo_seterr(err, EMO_EINVAL, c->shown, 0, 0, "unknown input format \"%s\"",
					  c->o.format);
	}
	return EMO_OK;
}

static void capture_free(struct capture *c)
{
	if (!c)
		return;
	src_close(c);
	if (c->stdin_flags >= 0)
		fcntl(0, F_SETFL, c->stdin_flags);
	av_packet_free(&c->pkt);
	av_frame_free(&c->frame);
	sws_freeContext(c->sws_gray.ctx);
	sws_freeContext(c->sws_rgb.ctx);
	if (c->sh) {
		for (int i = 0; i < 3; i++)
			slot_free(&c->sh->slots[i]);
		pthread_cond_destroy(&c->sh->ready);
		pthread_cond_destroy(&c->sh->wake);
		pthread_mutex_destroy(&c->sh->mu);
		free(c->sh);
	}
	free(c->src_copy);
	free(c->input_format_copy);
	free(c->format_copy);
	free(c->av_options_copy);
	free(c->input_options_copy);
	free(c);
}

static int shared_init(struct shared *sh)
{
	pthread_condattr_t ca;

	if (pthread_mutex_init(&sh->mu, NULL))
		return -1;
	if (pthread_condattr_init(&ca)) {
		pthread_mutex_destroy(&sh->mu);
		return -1;
	}
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_cond_init(&sh->ready, &ca)) {
		pthread_condattr_destroy(&ca);
		pthread_mutex_destroy(&sh->mu);
		return -1;
	}
	if (pthread_cond_init(&sh->wake, &ca)) {
		pthread_cond_destroy(&sh->ready);
		pthread_condattr_destroy(&ca);
		pthread_mutex_destroy(&sh->mu);
		return -1;
	}
	pthread_condattr_destroy(&ca);
	sh->w = 0;
	sh->r = 1;
	sh->q = 2;
	return 0;
}

int capture_open(struct capture **out, const struct capture_opts *o, struct emo_err *err)
{
	struct capture *c;
	int rc, oom = 0;

	*out = NULL;
	if (!o || !o->source || !*o->source)
		return emo_seterr(err, EMO_EINVAL, NULL, 0, 0, "no video source given");
	pthread_once(&registered, register_once);
	c = calloc(1, sizeof(*c));
	if (!c)
		return emo_seterr(err, EMO_ENOMEM, NULL, 0, 0, "out of memory");
	c->stdin_flags = -1;
	c->o = *o;
	c->o.source = c->src_copy = dup_or_null(o->source, &oom);
	c->o.input_format = c->input_format_copy = dup_or_null(o->input_format, &oom);
	c->o.format = c->format_copy = dup_or_null(o->format, &oom);
	c->o.av_options = c->av_options_copy = dup_or_null(o->av_options, &oom);
	c->o.input_options = c->input_options_copy = dup_or_null(o->input_options, &oom);
	emo_redact_url(o->source, c->shown, sizeof(c->shown));
	c->sh = calloc(1, sizeof(*c->sh));
	if (oom || !c->sh) {
		free(c->sh);
		c->sh = NULL;
		capture_free(c);
		return emo_seterr(err, EMO_ENOMEM, NULL, 0, 0, "out of memory");
	}
	if (shared_init(c->sh)) {
		free(c->sh);
		c->sh = NULL;
		capture_free(c);
		return emo_seterr(err, EMO_ENOMEM, NULL, 0, 0, "cannot create capture locks");
	}
	if (c->o.timeout_ms <= 0)
		c->o.timeout_ms = 5000;
	if (!(c->o.backoff_min_s > 0))
		c->o.backoff_min_s = 0.5;
	if (!(c->o.backoff_max_s >= c->o.backoff_min_s))
		c->o.backoff_max_s = c->o.backoff_min_s > 30 ? c->o.backoff_min_s : 30;
	c->backoff = c->o.backoff_min_s;
	c->first_pts = NAN;
	c->seg_last_pts = c->seg_skip_pts = NAN;
	c->pace_wall0 = NAN;
	c->last_k = INT64_MIN;
	atomic_init(&c->stop, 0);
	atomic_init(&c->deadline, 0);

	rc = parse_source(c, err);
	if (rc)
		goto fail;
	/* a network source until the first open says it has a duration */
	c->live = c->kind == SRC_NET || c->kind == SRC_WEBCAM || c->kind == SRC_SCREEN ||
		  (c->kind == SRC_DEMO && c->demo_len <= 0);
	if (c->kind == SRC_STDIN) {
		/* FFmpeg's pipe protocol blocks in read(), deaf to the interrupt
		 * callback; non-blocking, it polls it between retries. Restored
		 * on close. */
		int fl = fcntl(0, F_GETFL);
		if (fl >= 0 && !(fl & O_NONBLOCK) && fcntl(0, F_SETFL, fl | O_NONBLOCK) == 0)
			c->stdin_flags = fl;
	}

	if (c->kind != SRC_DEMO) {
		c->pkt = av_packet_alloc();
		c->frame = av_frame_alloc();
		if (!c->pkt || !c->frame) {
			rc = emo_seterr(err, EMO_ENOMEM, NULL, 0, 0, "out of memory");
			goto fail;
		}
		rc = src_open(c, err);
		if (rc)
			goto fail;
	} else {
		c->sh->st.connected = 1;
		c->sh->st.width = DEMO_W;
		c->sh->st.height = DEMO_H;
		c->sh->st.fps = DEMO_FPS;
		snprintf(c->sh->st.codec, sizeof(c->sh->st.codec), "demo");
		c->frame_dur = 1.0 / DEMO_FPS;
	}
	c->dropping = c->live || c->o.realtime;
	/* live HLS and DASH come a segment at a time, in a burst: played at
	 * their timestamps' pace, or all but the newest frame of each
	 * segment would be dropped */
	c->paced = (c->kind == SRC_DEMO && c->live) || (!c->live && c->o.realtime) ||
		   (c->live && c->fmt && is_segmented(c->fmt->iformat));
	c->sampling = !c->dropping && c->o.fps > 0;
	c->can_reconnect = c->kind != SRC_DEMO && c->kind != SRC_STDIN &&
			   (c->o.reconnect > 0 || (c->o.reconnect < 0 && c->live));
	c->sh->st.live = c->live;
	if (pthread_create(&c->thread, NULL, capture_thread, c)) {
		rc = emo_seterr(err, EMO_ENOMEM, NULL, 0, 0, "cannot start the capture thread");
		goto fail;
	}
	c->thread_started = 1;
	*out = c;
	return EMO_OK;
fail:
	capture_free(c);
	return rc;
}

int capture_next(struct capture *c, struct emo_image *gray, struct capture_frame_info *info,
		 int timeout_ms, struct emo_err *err)
{
	struct shared *sh = c->sh;
	double deadline = timeout_ms > 0 ? mono_now() + timeout_ms / 1000.0 : 0;
	int rc;

	pthread_mutex_lock(&sh->mu);
	for (;;) {
		if (stopped(c)) {
			rc = emo_seterr(err, EMO_EINTR, NULL, 0, 0, "capture stopped");
			break;
		}
		if (sh->fresh) {
			struct slot *s;
			int t = sh->r;
			sh->r = sh->q;
			sh->q = t;
			sh->fresh = 0;
			s = &sh->slots[sh->r];
			s->info.dropped = sh->drops_pending;
			sh->drops_pending = 0;
			sh->st.delivered++;
			*gray = s->gray;
			if (info) {
				*info = s->info;
				if (c->o.want_rgb)
					info->rgb = s->rgb;
				else
					memset(&info->rgb, 0, sizeof(info->rgb));
			}
			pthread_cond_broadcast(&sh->wake);
			rc = EMO_OK;
			break;
		}
		if (sh->end) {
			rc = sh->end;
			if (rc == EMO_EEOF)
				emo_seterr(err, rc, c->shown, 0, 0, "end of input");
			else
				emo_seterr(err, rc, c->shown, 0, 0, "%s",
					   sh->st.last_error[0] ? sh->st.last_error : emo_strerror(rc));
			break;
		}
		if (timeout_ms == 0 || (timeout_ms > 0 && mono_now() >= deadline)) {
			rc = EMO_EAGAIN;
			break;
		}
		{
			/* wake every 100 ms to notice an external cancel flag */
			double until = mono_now() + 0.1;
			struct timespec ts;
			if (timeout_ms > 0 && deadline < until)
				until = deadline;
			ts = mono_ts(until);
			pthread_cond_timedwait(&sh->ready, &sh->mu, &ts);
		}
	}
	pthread_mutex_unlock(&sh->mu);
	return rc;
}

void capture_stats(const struct capture *c, struct capture_stats *s)
{
	pthread_mutex_lock(&c->sh->mu);
	*s = c->sh->st;
	pthread_mutex_unlock(&c->sh->mu);
}

void capture_request_stop(struct capture *c)
{
	if (!c)
		return;
	atomic_store(&c->stop, 1);
	pthread_mutex_lock(&c->sh->mu);
	pthread_cond_broadcast(&c->sh->ready);
	pthread_cond_broadcast(&c->sh->wake);
	pthread_mutex_unlock(&c->sh->mu);
}

void capture_close(struct capture **cp)
{
	struct capture *c;

	if (!cp || !*cp)
		return;
	c = *cp;
	*cp = NULL;
	if (c->thread_started) {
		capture_request_stop(c);
		pthread_join(c->thread, NULL);
	}
	capture_free(c);
}

/* ---- one-shot image reading (PNG writing: capture_png.c) ---- */

/* Copy an aligned bw-byte x h buffer into a new image of w pixels a row
 * (bw bytes: w for gray, 3 * w for RGB), freed by image_free(). Not
 * image_new(bw, h): its side limit is in pixels, and an RGB row of more
 * than 10922 pixels is over it in bytes. */
static int to_image(struct emo_image *out, const uint8_t *src, int src_stride, int bw, int h,
		    int w)
{
	int rc = image_new(out, w, h); /* the limits on w and h */

	if (rc)
		return rc;
	if (bw != w) {
		uint8_t *px = malloc((size_t)bw * (size_t)h);
		if (!px) {
			image_free(out);
			return EMO_ENOMEM;
		}
		free(out->px);
		out->px = px;
		out->stride = bw;
	}
	for (int y = 0; y < h; y++)
		memcpy(out->px + (size_t)y * (size_t)out->stride, src + (size_t)y * (size_t)src_stride,
		       (size_t)bw);
	out->w = w;
	return EMO_OK;
}

int capture_read_image(const char *path, struct emo_image *gray, struct emo_image *rgb,
		       struct emo_err *err)
{
	struct capture_opts o;
	struct capture *c = NULL;
	struct sws_cache sc = { 0 };
	uint8_t *buf = NULL;
	int rc, got = 0;

	memset(gray, 0, sizeof(*gray));
	if (rgb)
		memset(rgb, 0, sizeof(*rgb));
	if (!path || !*path)
		return emo_seterr(err, EMO_EINVAL, NULL, 0, 0, "no image path given");
	/* Reuse the source machinery without the thread: a file source. */
	capture_opts_default(&o);
	o.source = path;
	pthread_once(&registered, register_once);
	c = calloc(1, sizeof(*c));
	if (!c)
		return emo_seterr(err, EMO_ENOMEM, NULL, 0, 0, "out of memory");
	c->stdin_flags = -1;
	c->o = o;
	c->sh = calloc(1, sizeof(*c->sh));
	if (!c->sh || shared_init(c->sh)) {
		free(c->sh);
		c->sh = NULL;
		capture_free(c);
		return emo_seterr(err, EMO_ENOMEM, NULL, 0, 0, "out of memory");
	}
	c->kind = SRC_FILE;
	snprintf(c->url, sizeof(c->url), "file:%s", path);
	emo_redact_url(path, c->shown, sizeof(c->shown)); /* messages name the file */
	c->pkt = av_packet_alloc();
	c->frame = av_frame_alloc();
	if (!c->pkt || !c->frame) {
		rc = emo_seterr(err, EMO_ENOMEM, NULL, 0, 0, "out of memory");
		goto done;
	}
	rc = src_open(c, err);
	if (rc)
		goto done;
	/* decode until the first frame */
	while (!got) {
		int ret = av_read_frame(c->fmt, c->pkt);
		if (ret < 0) {
			avcodec_send_packet(c->dec, NULL);
		} else if (c->pkt->stream_index != c->vstream) {
			av_packet_unref(c->pkt);
			continue;
		} else {
			avcodec_send_packet(c->dec, c->pkt);
			av_packet_unref(c->pkt);
		}
		ret = avcodec_receive_frame(c->dec, c->frame);
		if (ret >= 0 && c->frame->width > 0 && c->frame->height > 0)
			got = 1;
		else if (ret >= 0)
			av_frame_unref(c->frame);
		else if (ret == AVERROR_EOF || (ret != AVERROR(EAGAIN) && ret < 0)) {
			if ((rc = check_refused(c, err)))
				goto done;
			rc = emo_seterr(err, EMO_EFORMAT, path, 0, 0, "no picture could be decoded");
			goto done;
		}
	}
	{
		AVFrame *f = c->frame;
		int w = f->width, h = f->height, stride = align_up(w * 3);
		buf = av_malloc((size_t)stride * (size_t)h + ROW_ALIGN);
		if (!buf) {
			rc = emo_seterr(err, EMO_ENOMEM, NULL, 0, 0, "out of memory");
			goto done;
		}
		rc = scale_frame(&sc, f, w, h, AV_PIX_FMT_GRAY8, buf, stride);
		if (rc == EMO_OK)
			rc = to_image(gray, buf, stride, w, h, w);
		if (rc == EMO_OK && rgb) {
			rc = scale_frame(&sc, f, w, h, AV_PIX_FMT_RGB24, buf, stride);
			if (rc == EMO_OK)
				rc = to_image(rgb, buf, stride, 3 * w, h, w);
		}
		if (rc) {
			image_free(gray);
			memset(gray, 0, sizeof(*gray));
			if (rgb) {
				image_free(rgb);
				memset(rgb, 0, sizeof(*rgb));
			}
			emo_seterr(err, rc, path, 0, 0, "%s", rc == EMO_ENOMEM ? "out of memory" :
				   rc == EMO_EINVAL ? "picture too large" :
				   "cannot convert the picture's pixel format");
		}
		av_frame_unref(f);
	}
done:
	av_free(buf);
	sws_freeContext(sc.ctx);
	capture_free(c);
	return rc;
}
