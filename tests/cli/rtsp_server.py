#!/usr/bin/env python3
# rtsp_server.py - a fake RTSP server for rtsp_fallback.sh (not a test itself).
# Listens on 127.0.0.1, on a port the kernel picks, and writes that port to
# PORT_FILE once it accepts connections. It answers OPTIONS, DESCRIBE (an SDP
# for one RTP/JPEG video stream, static payload type 26), SETUP, PLAY,
# GET_PARAMETER, SET_PARAMETER and TEARDOWN. Modes:
#   udp-only    SETUP asking for RTP/AVP/TCP (interleaved) gets 461 Unsupported
#               Transport; SETUP with UDP client_port=a-b gets 200, and PLAY
#               starts the ffmpeg CLI sending RTP/JPEG to 127.0.0.1:a
#   refuse-all  461 to every SETUP
#   tcp-silent  no answer at all to a SETUP over TCP; UDP as in udp-only
# Each request is a line in LOG_FILE ("SETUP tcp 461", "SETUP udp 200",
# "PLAY 200", "ffmpeg pid N", ...), so the test can see what the client asked.
# The ffmpeg it starts ends with the stream's session (TEARDOWN, the client
# hanging up), on SIGTERM, or after --seconds anyway; the server itself ends
# on SIGTERM or after --lifetime seconds.
# Python 3 standard library only.
import argparse
import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading

SDP = ("v=0\r\n"
       "o=- 0 0 IN IP4 127.0.0.1\r\n"
       "s=emotop rtsp test\r\n"
       "c=IN IP4 127.0.0.1\r\n"
       "t=0 0\r\n"
       "m=video 0 RTP/AVP 26\r\n"
       "a=control:streamid=0\r\n")

SESSION = "Session: 7215;timeout=60"

args = None
log_lock = threading.Lock()
children = set()
children_lock = threading.Lock()


def log(line):
    with log_lock:
        with open(args.log, "a") as f:
            f.write(line + "\n")


def udp_pair():
    """Two UDP sockets bound to consecutive ports (server_port=n-n+1): they
    take the client's NAT punching packets and RTCP and drop them."""
    for _ in range(50):
        a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        a.bind(("127.0.0.1", 0))
        n = a.getsockname()[1]
        b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            b.bind(("127.0.0.1", n + 1))
            return a, b
        except OSError:
            a.close()
            b.close()
    raise OSError("no two consecutive UDP ports")


def start_ffmpeg(port):
    # RTP/JPEG (RFC 2435) carries no Huffman tables: the standard ones only;
    # FFmpeg's depacketizer wants both quantisation tables, luma and chroma
    cmd = [args.ffmpeg, "-nostdin", "-loglevel", "error", "-re",
           "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
           "-t", str(args.seconds), "-an",
           "-c:v", "mjpeg", "-huffman", "default", "-force_duplicated_matrix", "1",
           "-pix_fmt", "yuvj420p", "-q:v", "5",
           "-f", "rtp", "-sdp_file", os.devnull,
           "rtp://127.0.0.1:%d?pkt_size=1200" % port]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    with children_lock:
        children.add(p)
    log("ffmpeg pid %d to port %d" % (p.pid, port))
    return p


def stop(p):
    if p is None:
        return
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(2)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    with children_lock:
        children.discard(p)


class Handler(socketserver.StreamRequestHandler):
    def setup(self):
        super().setup()
        self.ffmpeg = None
        self.udp = None
        self.client_port = None

    def read_request(self):
        """(method, uri, headers) or None at the end of the connection.
        Interleaved data ($, channel, 16-bit length) is skipped."""
        while True:
            line = self.rfile.readline()
            if not line:
                return None
            if line.startswith(b"$"):
                rest = line[1:]
                while len(rest) < 3:
                    more = self.rfile.read(3 - len(rest))
                    if not more:
                        return None
                    rest += more
                n = (rest[1] << 8 | rest[2]) - (len(rest) - 3)
                if n > 0:
                    self.rfile.read(n)
                continue
            if line.strip():
                break
        parts = line.decode("latin-1").split()
        headers = {}
        while True:
            h = self.rfile.readline()
            if not h or not h.strip():
                break
            k, _, v = h.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0") or 0)
        if n > 0:
            self.rfile.read(n)
        method = parts[0] if parts else ""
        uri = parts[1] if len(parts) > 1 else ""
        return method, uri, headers

    def reply(self, headers, status="200 OK", extra=(), body=""):
        out = ["RTSP/1.0 " + status, "CSeq: " + headers.get("cseq", "0"),
               "Server: emotop-test"]
        out += list(extra)
        data = body.encode()
        if data:
            out.append("Content-Length: %d" % len(data))
        msg = "\r\n".join(out) + "\r\n\r\n"
        self.wfile.write(msg.encode() + data)
        self.wfile.flush()

    def handle(self):
        try:
            while True:
                req = self.read_request()
                if req is None:
                    break
                method, uri, h = req
                if method == "OPTIONS":
                    log("OPTIONS 200")
                    self.reply(h, extra=["Public: OPTIONS, DESCRIBE, SETUP, PLAY, "
                                         "TEARDOWN, GET_PARAMETER, SET_PARAMETER"])
                elif method == "DESCRIBE":
                    log("DESCRIBE 200")
                    base = uri.rstrip("/") + "/"
                    self.reply(h, extra=["Content-Type: application/sdp",
                                         "Content-Base: " + base], body=SDP)
                elif method == "SETUP":
                    self.setup_stream(h)
                elif method == "PLAY":
                    if self.client_port is None:
                        log("PLAY 455")
                        self.reply(h, "455 Method Not Valid in This State")
                        continue
                    log("PLAY 200")
                    self.reply(h, extra=[SESSION, "Range: npt=0.000-"])
                    stop(self.ffmpeg)
                    self.ffmpeg = start_ffmpeg(self.client_port)
                elif method in ("GET_PARAMETER", "SET_PARAMETER"):
                    log(method + " 200")
                    self.reply(h, extra=[SESSION])
                elif method == "TEARDOWN":
                    log("TEARDOWN 200")
                    self.reply(h, extra=[SESSION])
                    stop(self.ffmpeg)
                    self.ffmpeg = None
                else:
                    log("%s 501" % method)
                    self.reply(h, "501 Not Implemented")
        except (OSError, ValueError):
            pass
        finally:
            stop(self.ffmpeg)
            if self.udp:
                for s in self.udp:
                    s.close()
            log("closed")

    def setup_stream(self, h):
        tr = h.get("transport", "")
        # the client may offer several transports, comma-separated, best first
        offers = [t.strip() for t in tr.split(",") if t.strip()]
        for t in offers:
            fields = t.split(";")
            proto = fields[0].upper()
            tcp = proto.startswith("RTP/AVP/TCP") or any(f.startswith("interleaved=") for f in fields)
            if tcp or args.mode == "refuse-all":
                continue
            ports = [f[len("client_port="):] for f in fields if f.startswith("client_port=")]
            if "multicast" in fields or not ports:
                continue
            lo, _, hi = ports[0].partition("-")
            lo = int(lo)
            hi = int(hi) if hi else lo + 1
            if not self.udp:
                self.udp = udp_pair()
            sp = self.udp[0].getsockname()[1]
            self.client_port = lo
            log("SETUP udp 200 client_port=%d" % lo)
            self.reply(h, extra=["Transport: RTP/AVP/UDP;unicast;client_port=%d-%d;"
                                 "server_port=%d-%d" % (lo, hi, sp, sp + 1),
                                 SESSION])
            return
        kind = "tcp" if "TCP" in tr.upper() or "interleaved=" in tr else "udp"
        if kind == "tcp" and args.mode == "tcp-silent":
            log("SETUP tcp silent (%s)" % tr)
            return
        log("SETUP %s 461 (%s)" % (kind, tr))
        self.reply(h, "461 Unsupported Transport")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global args
    ap = argparse.ArgumentParser(description="fake RTSP server for emotop's tests")
    ap.add_argument("--mode", choices=("udp-only", "refuse-all", "tcp-silent"), required=True)
    ap.add_argument("--port-file", required=True, help="the port is written here")
    ap.add_argument("--log", required=True, help="one line per request")
    ap.add_argument("--ffmpeg", default="ffmpeg")
    ap.add_argument("--seconds", type=float, default=8, help="length of each stream")
    ap.add_argument("--lifetime", type=float, default=60, help="the server ends after this")
    args = ap.parse_args()

    srv = Server(("127.0.0.1", 0), Handler)

    def end(*_):
        with children_lock:
            ps = list(children)
        for p in ps:
            stop(p)
        os._exit(0)

    signal.signal(signal.SIGTERM, end)
    signal.signal(signal.SIGINT, end)
    signal.signal(signal.SIGALRM, end)
    signal.setitimer(signal.ITIMER_REAL, args.lifetime)
    # written whole, then renamed: the reader never sees half a number
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
