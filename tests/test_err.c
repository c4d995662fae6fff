/* test_err.c - error strings, emo_err formatting, and the redactor of
 * credentials in sources and messages (many URL shapes). */
#include "emotop/err.h"
#include "unit.h"

static char out[1024];

static const char *url(const char *s)
{
	emo_redact_url(s, out, sizeof(out));
	return out;
}

static const char *text(const char *s)
{
	emo_redact_text(s, out, sizeof(out));
	return out;
}

TEST(userinfo_masked)
{
	ASSERT_STR(url("rtsp://admin:hunter2@10.0.0.5:554/live"), "rtsp://***@10.0.0.5:554/live");
	ASSERT_STR(url("rtsp://admin:hunter2@10.0.0.5/live"), "rtsp://***@10.0.0.5/live");
	ASSERT_STR(url("http://alice:secret@cam.local"), "http://***@cam.local");
	ASSERT_STR(url("https://TOKEN123@example.com/x.m3u8"), "https://***@example.com/x.m3u8");
	ASSERT_STR(url("rtsp://user@10.0.0.5"), "rtsp://***@10.0.0.5");
	/* percent-encoded */
	ASSERT_STR(url("rtsp://ad%40min:p%2Fw%3Fd%23@cam:554/s"), "rtsp://***@cam:554/s");
	/* IPv6 hosts, with port and zone */
	ASSERT_STR(url("rtsp://u:pw@[fe80::1]:554/x"), "rtsp://***@[fe80::1]:554/x");
	ASSERT_STR(url("rtsp://u:pw@[fe80::1%25eth0]/x"), "rtsp://***@[fe80::1%25eth0]/x");
	ASSERT_STR(url("rtsp://u:p@ss@[::1]"), "rtsp://***@[::1]");
	/* no credentials: as is */
	ASSERT_STR(url("rtsp://10.0.0.5:554/live"), "rtsp://10.0.0.5:554/live");
	ASSERT_STR(url("/dev/video0"), "/dev/video0");
	ASSERT_STR(url("demo"), "demo");
	ASSERT_STR(url("webcam:1"), "webcam:1");
	ASSERT_STR(url(""), "");
	ASSERT_STR(url(NULL), "");
	ASSERT_STR(url("rtsp://[::1]:554/x"), "rtsp://[::1]:554/x");
}

/* The password may hold @ / ? # written raw: it ends at the last '@'
 * before the host part. */
TEST(raw_special_characters_in_password)
{
	ASSERT_STR(url("rtsp://admin:p@ss@10.0.0.5:554/live"), "rtsp://***@10.0.0.5:554/live");
	ASSERT_STR(url("rtsp://admin:a@b@c@cam/live"), "rtsp://***@cam/live");
	ASSERT_STR(url("rtsp://admin:pa/ss@cam:554/live"), "rtsp://***@cam:554/live");
	ASSERT_STR(url("rtsp://admin:pa?ss@cam:554/live"), "rtsp://***@cam:554/live");
	ASSERT_STR(url("rtsp://admin:pa#ss@cam:554/live"), "rtsp://***@cam:554/live");
	ASSERT_STR(url("http://admin:a/b?c#d@cam"), "http://***@cam");
	ASSERT_STR(url("http://admin:p@s/s@cam/x"), "http://***@cam/x");
	ASSERT_STR(url("http://admin:pa:ss@cam:8080/x"), "http://***@cam:8080/x");
	ASSERT_STR(url("srt://user:pa/ss@[2001:db8::2]:9000?mode=caller"),
		   "srt://***@[2001:db8::2]:9000?mode=caller");
	/* an '@' in the query after the host is no userinfo */
	ASSERT_STR(url("rtsp://admin:hunter2@10.0.0.5:554/live?x=a@b"), "rtsp://***@10.0.0.5:554/live?x=a@b");
	ASSERT_STR(url("rtsp://admin:p/w@cam/live?by=a@b.org"), "rtsp://***@cam/live?by=a@b.org");
	ASSERT_STR(url("http://cam/live#a@b"), "http://cam/live#a@b");
	ASSERT_STR(url("http://cam:80/x?to=bob@example.com"), "http://cam:80/x?to=bob@example.com");
	ASSERT_STR(url("http://admin:pw@cam?x@y"), "http://***@cam?x@y");
}

TEST(secret_query_values_masked)
{
	ASSERT_STR(url("https://cdn.example/live.m3u8?token=abc123"), "https://cdn.example/live.m3u8?token=***");
	ASSERT_STR(url("https://h/x?access_token=abc&quality=hd"), "https://h/x?access_token=***&quality=hd");
	ASSERT_STR(url("srt://10.0.0.9:9000?mode=caller&passphrase=longsecret1&pbkeylen=16"),
		   "srt://10.0.0.9:9000?mode=caller&passphrase=***&pbkeylen=16");
	ASSERT_STR(url("http://h/x?PASSWORD=a;passwd=b;pass=c;pwd=d"),
		   "http://h/x?PASSWORD=***;passwd=***;pass=***;pwd=***");
	ASSERT_STR(url("http://h/x?key=k&secret=s&auth=t&sig=u&signature=v&apikey=w&api_key=x"),
		   "http://h/x?key=***&secret=***&auth=***&sig=***&signature=***&apikey=***&api_key=***");
	ASSERT_STR(url("https://b.s3.amazonaws.com/v.mp4?X-Amz-Credential=AK&X-Amz-Signature=f00&X-Amz-Expires=60"),
		   "https://b.s3.amazonaws.com/v.mp4?X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Expires=60");
	ASSERT_STR(url("http://h/x?Token=a&client_secret=b&monkey=c&keyframes=d"),
		   "http://h/x?Token=***&client_secret=***&monkey=c&keyframes=d");
	ASSERT_STR(url("http://h/cb#access_token=xyz&state=1"), "http://h/cb#access_token=***&state=1");
	/* both at once; empty values and bare keys stay */
	ASSERT_STR(url("rtsp://u:p@cam/live?token=t&x"), "rtsp://***@cam/live?token=***&x");
	ASSERT_STR(url("http://h/x?token=&token"), "http://h/x?token=&token");
	/* masking twice changes nothing */
	ASSERT_STR(url("rtsp://***@cam/live?token=***"), "rtsp://***@cam/live?token=***");
}

TEST(messages_masked)
{
	ASSERT_STR(text("[http @ 0x55] Opening 'http://alice:secret@host/x?token=abc' for reading"),
		   "[http @ 0x55] Opening 'http://***@host/x?token=***' for reading");
	ASSERT_STR(text("source rtsp://a:b@c/d failed; retry rtsp://a:b@c/d in 2 s"),
		   "source rtsp://***@c/d failed; retry rtsp://***@c/d in 2 s");
	ASSERT_STR(text("\"srt://h:1?passphrase=xyzxyzxyzx\""), "\"srt://h:1?passphrase=***\"");
	ASSERT_STR(text("no url here: a@b and ://x"), "no url here: a@b and ://x");
	ASSERT_STR(text("email bob@example.com"), "email bob@example.com");
}

TEST(short_buffers_stay_terminated)
{
	char small[8];

	emo_redact_url("rtsp://admin:hunter2@10.0.0.5/", small, sizeof(small));
	ASSERT_STR(small, "rtsp://");
	emo_redact_text("rtsp://admin:hunter2@h", small, 1);
	ASSERT_STR(small, "");
	emo_redact_url("x", small, 0); /* no write at all */
}

TEST(error_format)
{
	struct emo_err e;
	char buf[128];

	ASSERT_EQ(emo_seterr(&e, EMO_ECONFIG, "a.yaml", 3, 4, "bad %s", "key"), EMO_ECONFIG);
	emo_err_format(&e, buf, sizeof(buf));
	ASSERT_STR(buf, "a.yaml:3:4: bad key");
	ASSERT_STR(emo_strerror(EMO_EIO), "input/output error");
}

int main(int argc, char **argv)
{
	unit_init(argc, argv);
	RUN(userinfo_masked);
	RUN(raw_special_characters_in_password);
	RUN(secret_query_values_masked);
	RUN(messages_masked);
	RUN(short_buffers_stay_terminated);
	RUN(error_format);
	return unit_done();
}
