/* capture.h - video input: any FFmpeg source (or the built-in demo) decoded
 * in a background thread into gray8 (and optionally RGB24) frames.
 *
 * The capture thread decodes continuously and keeps only the newest frame
 * (triple buffer); capture_next() hands the caller the newest frame it has
 * not seen yet and says how many were dropped in between. Live sources
 * (devices, network streams, endless demo) never queue: they drop. Live HLS
 * and DASH, which arrive a segment at a time, are played at their
 * timestamps' pace. Files and stdin with realtime=0 are decoded as fast as
 * the caller takes frames, sampled at opts.fps in media time, with no drops;
 * with realtime=1 they are paced by their timestamps and drop like a live
 * source. Media time follows the timestamps, gaps included; only live
 * sources and MPEG-TS/HLS treat a jump of more than 10 s as a discontinuity.
 *
 * Sources (struct capture_opts.source):
 *   PATH                  a file (any container FFmpeg reads), also HLS .m3u8;
 *                         it reads local files only (protocol whitelist
 *                         file,crypto,data), and a playlist only under its
 *                         own name (HLS .m3u8/.m3u, DASH .mpd; no concat,
 *                         IMF, SDP): else EMO_ESOURCE "not opened: ..."
 *   -                     stdin (treated like a file)
 *   rtsp:// http:// https:// rtmp:// udp:// tcp:// srt:// ...  network (it
 *                         and what it names: no file:, pipe: or fd:): live,
 *                         unless opening finds a duration (a recording fetched
 *                         by URL, an HLS playlist with #EXT-X-ENDLIST): then
 *                         it is read like a file (capture_stats().live 0)
 *   /dev/videoN, webcam, webcam:N    v4l2 camera (live)
 *   screen[:DISPLAY][+X,Y][/WxH]     X11 screen region via x11grab (live)
 *   demo                  synthetic classroom gallery, endless, live-paced
 *   demo:SECONDS          the same, SECONDS long, then end of input (file-like)
 *
 * No libav types appear here: capture.c is the only libav* user.
 */
#ifndef EMOTOP_CAPTURE_H
#define EMOTOP_CAPTURE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "emotop/err.h"
#include "emotop/image.h"

struct capture;

/* The largest picture a source may have, in pixels: 64 megapixels (8192 x
 * 8192 worth; any shape). That is every video (8K UHD is 33 MP) and every
 * common camera (the largest, 61 MP), and keeps the memory one picture
 * needs bounded (about 10 bytes a pixel with RGB for --annotate: 640 MiB).
 * A larger picture is refused when opened, before a frame of it is decoded
 * (EMO_ESOURCE "picture too large"); a stream whose frames grow beyond it
 * fails to decode them. */
#define CAPTURE_MAX_PIXELS (8192 * 8192)

struct capture_opts {
	const char *source;       /* see above; required */
	double fps;               /* files, realtime=0: one frame per 1/fps s of media
				   * time; <= 0: every frame. Default 5. Ignored when
				   * frames may drop (the caller paces itself). */
	int realtime;             /* files/stdin/demo:N: 1 = paced by timestamps, drops */
	int want_rgb;             /* also convert RGB24 (capture_frame_info.rgb) */
	int max_side;             /* downscale so that max(w, h) <= max_side; 0: keep */
	/* devices (webcam/screen); 0 or NULL: the device's default */
	int width, height;        /* video_size request */
	double input_fps;         /* framerate request */
	const char *input_format; /* v4l2 input_format, e.g. "mjpeg" */
	/* expert */
	const char *format;       /* force the demuxer ("mpegts", "v4l2"...), NULL: probe */
	const char *av_options;   /* extra demuxer/protocol options "k=v:k=v", NULL: none */
	const char *input_options; /* FFmpeg input options, one "key=value" a line
				   * (values may hold ':'), NULL: none; given
				   * after (over) capture's own. A value FFmpeg's
				   * generic options refuse: EMO_EINVAL naming it;
				   * an option the input does not use: a warning */
	int rtsp_transport;       /* CAPTURE_RTSP_*: AUTO (default) tries TCP, then UDP */
	int timeout_ms;           /* network and device open/read timeout, default
				   * 5000: no data for this long is a stall. Not
				   * applied to files and stdin (stdin waits for its
				   * writer until a stop), nor to a whole HLS/DASH
				   * read, which waits up to a segment at the live
				   * edge (each request they make has it) */
	int reconnect;            /* -1 auto (live network and devices), 0 never, 1 always */
	double backoff_min_s;     /* reconnect backoff start, default 0.5; it doubles
				   * per reopening and starts over only after a
				   * connection delivered frames for 10 s */
	double backoff_max_s;     /* reconnect backoff cap, default 30 */
	/* Optional flag (e.g. set by a SIGINT handler): nonzero interrupts
	 * blocking FFmpeg calls, capture_open() included, like a stop request. */
	const volatile sig_atomic_t *cancel;
};

enum capture_rtsp_transport { CAPTURE_RTSP_AUTO = 0, CAPTURE_RTSP_TCP, CAPTURE_RTSP_UDP };

/* One delivered frame. */
struct capture_frame_info {
	double pts;        /* stream timestamp in seconds (source's clock; for v4l2 the
			    * driver's timestamp), NAN when the source has none */
	double media_time; /* seconds of media since the first frame of this source
			    * (continues across reconnects for live sources) */
	double wall;       /* CLOCK_REALTIME seconds when the frame was decoded */
	int64_t index;     /* number of this frame among all decoded frames, from 0 */
	int64_t dropped;   /* frames decoded but not delivered since the previous
			    * capture_next (live drops; sampling skips not counted) */
	int src_w, src_h;  /* size at the source, before max_side scaling */
	/* RGB24 copy of the frame when opts.want_rgb: w, h in pixels, stride in
	 * bytes (>= 3*w); borrowed like the gray image. px NULL otherwise. */
	struct emo_image rgb;
};

struct capture_stats {
	int64_t decoded;     /* frames decoded */
	int64_t delivered;   /* frames handed to capture_next */
	int64_t dropped;     /* frames decoded and never delivered (newer one won) */
	int64_t skipped;     /* frames skipped by fps sampling (realtime=0 files) */
	int reconnects;      /* successful reopenings after a failure or end */
	double backoff_s;    /* the wait before the last reopening scheduled, s */
	int connected;       /* 1 while the source is open */
	int live;            /* 1 for live sources (they drop) */
	int width, height;   /* current source resolution, 0 when unknown */
	double fps;          /* source frame rate (nominal, else measured), 0 unknown */
	char codec[32];      /* decoder name, "" unknown */
	char last_error[256]; /* last error or reconnect message, "" none */
};

/* Defaults for *o (source NULL). */
void capture_opts_default(struct capture_opts *o);

/* Open o->source and start the capture thread. The source is opened before
 * returning, so an unavailable source fails here: EMO_ESOURCE (missing file,
 * not a video, unreachable URL, no video stream), EMO_EINVAL (bad source
 * syntax or options), EMO_ENOMEM. On success *out is a new capture, free it
 * with capture_close(); on error *out is NULL and err says why. o is copied. */
int capture_open(struct capture **out, const struct capture_opts *o, struct emo_err *err);

/* Wait up to timeout_ms (< 0: until a frame, the end or a stop; 0: poll) for
 * a frame newer than the last one returned. On EMO_OK gray (and info->rgb if
 * wanted) point into capture-owned buffers, valid until the next
 * capture_next() or capture_close(); info may be NULL. Otherwise returns
 * EMO_EAGAIN (timeout), EMO_EEOF (end of a file or finite demo, all frames
 * delivered), EMO_EINTR (capture_request_stop), or EMO_ESOURCE (the source
 * failed for good; err and capture_stats().last_error say why). One consumer
 * thread only, and capture_close() must not run while it waits here (use
 * capture_request_stop() from another thread). Live sources join at a
 * keyframe, so no half-decoded frames are delivered. */
int capture_next(struct capture *c, struct emo_image *gray, struct capture_frame_info *info,
		 int timeout_ms, struct emo_err *err);

/* Snapshot of the counters; callable from any thread. */
void capture_stats(const struct capture *c, struct capture_stats *s);

/* Ask the capture to stop: pending and future capture_next() return
 * EMO_EINTR, blocking FFmpeg calls are interrupted. Async-signal-unsafe (it
 * takes a lock); call it from a thread, not a signal handler. */
void capture_request_stop(struct capture *c);

/* Stop the thread and free everything; *c set to NULL. Returns promptly even
 * when a network read hangs. NULL-safe. */
void capture_close(struct capture **c);

/* Log routing for FFmpeg's av_log and capture's own messages (process-wide).
 * fn receives one line without the trailing newline, and a level:
 * CAPTURE_LOG_ERROR..CAPTURE_LOG_DEBUG. Messages above max_level are not
 * delivered. fn NULL restores FFmpeg's default (stderr) at max_level.
 * fn may be called from the capture thread; calls are serialised. */
enum capture_log_level {
	CAPTURE_LOG_QUIET = -1,
	CAPTURE_LOG_ERROR = 0,
	CAPTURE_LOG_WARNING = 1,
	CAPTURE_LOG_INFO = 2,
	CAPTURE_LOG_DEBUG = 3,
};
void capture_set_log(void (*fn)(void *ud, int level, const char *line), void *ud,
		     int max_level);

/* Read one picture (the first frame of an image or video file: JPEG, PNG,
 * BMP, MP4...) as gray8 into *gray and, if rgb is non-NULL, as RGB24 into
 * *rgb (rgb->w = w pixels, stride 3 * w). Free each with image_free().
 * EMO_OK, or EMO_ESOURCE (missing or unreadable, or over
 * CAPTURE_MAX_PIXELS: "picture too large", refused before it is decoded),
 * EMO_EFORMAT (no picture), EMO_EINVAL (a side over image_new()'s 32768),
 * EMO_ENOMEM; on error the images are zeroed. */
int capture_read_image(const char *path, struct emo_image *gray, struct emo_image *rgb,
		       struct emo_err *err);

/* Write img as an 8-bit PNG through libavcodec: channels 1 (gray, img->w
 * pixels) or 3 (RGB24, img->w pixels, stride >= 3 * w). The file is new:
 * created mode 0600 (face images are biometric data), never over an
 * existing file, never through a symbolic link (O_CREAT | O_EXCL |
 * O_NOFOLLOW); a failed write removes it. EMO_OK or EMO_EIO (path exists,
 * is a link, cannot be written: err says which) / EMO_EINVAL / EMO_ENOMEM. */
int capture_write_png(const char *path, const struct emo_image *img, int channels,
		      struct emo_err *err);

/* The same as a new file in dir with a name that is free: dir/STEM.png,
 * else dir/STEM-2.png, dir/STEM-3.png ... up to CAPTURE_PNG_MAX_SUFFIX.
 * The path written goes to name (name_len bytes, "" on error; name may be
 * NULL). Errors as capture_write_png(). */
#define CAPTURE_PNG_MAX_SUFFIX 100000
int capture_write_png_new(const char *dir, const char *stem, const struct emo_image *img,
			  int channels, char *name, size_t name_len, struct emo_err *err);

/* Scanning a recording at an interval: capture_open() with realtime 0 and
 * fps = 1 / interval, then capture_next() until EMO_EEOF. */

#endif
