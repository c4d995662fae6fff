/* capture_png.c - PNG output through libavcodec's encoder: the faces and
 * frames --annotate writes. Files are created new (never overwritten, no
 * link followed), mode 0600. Declared in emotop/capture.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavutil/error.h>

#include "emotop/capture.h"

/* Create path, which must not exist (O_EXCL; no link followed: O_NOFOLLOW),
 * mode 0600, and write n bytes. 0, or the errno (EEXIST: it exists, left
 * as it was). A failed write removes the file it created. */
static int write_new(const char *path, const uint8_t *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int e = 0;

	if (fd < 0)
		return errno;
	while (n > 0 && !e) {
		ssize_t w = write(fd, data, n);
		if (w < 0 && errno != EINTR)
			e = errno;
		else if (w > 0) {
			data += w;
			n -= (size_t)w;
		}
	}
	if (close(fd) && !e)
		e = errno;
	if (e)
		unlink(path);
	return e;
}

/* Encode img as PNG into a new *pkt (free with av_packet_free). */
static int png_encode(const char *path, const struct emo_image *img, int channels, AVPacket **pkt,
		      struct emo_err *err)
{
	const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_PNG);
	AVCodecContext *enc = NULL;
	AVFrame *f = NULL;
	int rc = EMO_OK, ret;

	*pkt = NULL;
	if (!img || !img->px || img->w <= 0 || img->h <= 0 ||
	    (channels != 1 && channels != 3) || img->stride < img->w * channels)
		return emo_seterr(err, EMO_EINVAL, path, 0, 0, "bad image for PNG output");
	if (!codec)
		return emo_seterr(err, EMO_EUNSUPPORTED, path, 0, 0, "FFmpeg has no PNG encoder");
	enc = avcodec_alloc_context3(codec);
	f = av_frame_alloc();
	*pkt = av_packet_alloc();
	if (!enc || !f || !*pkt) {
		rc = emo_seterr(err, EMO_ENOMEM, path, 0, 0, "out of memory");
		goto done;
	}
	enc->width = img->w;
	enc->height = img->h;
	enc->pix_fmt = channels == 1 ? AV_PIX_FMT_GRAY8 : AV_PIX_FMT_RGB24;
	enc->time_base = (AVRational){ 1, 1 };
	ret = avcodec_open2(enc, codec, NULL);
	if (ret < 0) {
		rc = emo_seterr(err, EMO_EUNSUPPORTED, path, 0, 0, "cannot open PNG encoder: %s",
				av_err2str(ret));
		goto done;
	}
	f->format = enc->pix_fmt;
	f->width = img->w;
	f->height = img->h;
	ret = av_frame_get_buffer(f, 0);
	if (ret >= 0)
		ret = av_frame_make_writable(f);
	if (ret < 0) {
		rc = emo_seterr(err, EMO_ENOMEM, path, 0, 0, "out of memory");
		goto done;
	}
	for (int y = 0; y < img->h; y++)
		memcpy(f->data[0] + (size_t)y * (size_t)f->linesize[0],
		       img->px + (size_t)y * (size_t)img->stride, (size_t)img->w * (size_t)channels);
	ret = avcodec_send_frame(enc, f);
	if (ret >= 0)
		ret = avcodec_send_frame(enc, NULL);
	if (ret >= 0)
		ret = avcodec_receive_packet(enc, *pkt);
	if (ret < 0)
		rc = emo_seterr(err, EMO_EIO, path, 0, 0, "PNG encoding failed: %s", av_err2str(ret));
done:
	if (rc)
		av_packet_free(pkt);
	av_frame_free(&f);
	avcodec_free_context(&enc);
	return rc;
}

int capture_write_png(const char *path, const struct emo_image *img, int channels,
		      struct emo_err *err)
{
	AVPacket *pkt = NULL;
	int rc, e;

	if (!path)
		return emo_seterr(err, EMO_EINVAL, NULL, 0, 0, "no PNG path given");
	if ((rc = png_encode(path, img, channels, &pkt, err)))
		return rc;
	e = write_new(path, pkt->data, (size_t)pkt->size);
	av_packet_free(&pkt);
	if (e == EEXIST)
		return emo_seterr(err, EMO_EIO, path, 0, 0, "exists: not overwritten");
	if (e)
		return emo_seterr(err, EMO_EIO, path, 0, 0, "cannot write: %s",
				  e == ELOOP ? "it is a symbolic link: not followed" : strerror(e));
	return EMO_OK;
}

int capture_write_png_new(const char *dir, const char *stem, const struct emo_image *img,
			  int channels, char *name, size_t name_len, struct emo_err *err)
{
	AVPacket *pkt = NULL;
	char path[4096];
	int rc, e = EEXIST;

	if (name && name_len)
		name[0] = '\0';
	if (!dir || !stem || !*stem)
		return emo_seterr(err, EMO_EINVAL, dir, 0, 0, "no PNG name given");
	if ((rc = png_encode(dir, img, channels, &pkt, err)))
		return rc;
	for (long n = 1; n <= CAPTURE_PNG_MAX_SUFFIX && e == EEXIST; n++) {
		int len = n == 1 ? snprintf(path, sizeof(path), "%s/%s.png", dir, stem) :
				   snprintf(path, sizeof(path), "%s/%s-%ld.png", dir, stem, n);
		if (len < 0 || (size_t)len >= sizeof(path)) {
			av_packet_free(&pkt);
			return emo_seterr(err, EMO_EINVAL, dir, 0, 0, "PNG name too long");
		}
		e = write_new(path, pkt->data, (size_t)pkt->size);
	}
	av_packet_free(&pkt);
	if (e == EEXIST)
		return emo_seterr(err, EMO_EIO, path, 0, 0, "exists, as do %d others of that name: "
				  "not overwritten", CAPTURE_PNG_MAX_SUFFIX - 1);
	if (e)
		return emo_seterr(err, EMO_EIO, path, 0, 0, "cannot write: %s",
				  e == ELOOP ? "it is a symbolic link: not followed" : strerror(e));
	if (name && name_len)
		snprintf(name, name_len, "%s", path);
	return EMO_OK;
}
