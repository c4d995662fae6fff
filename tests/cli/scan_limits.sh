#!/bin/sh
# scan_limits.sh - resource bounds on pictures: a 16000x16000 PNG (31 KB,
# 256 megapixels) is refused by `emotop scan` and by `emotop --headless`
# with "picture too large" before it is decoded, under a memory limit that
# decoding it would need several times over; an 11000 px wide picture (RGB
# rows of more than 32768 bytes) is annotated.
. "$(dirname "$0")/cli_lib.inc"

if ! command -v python3 >/dev/null 2>&1; then
	skip "python3 absent: cannot make the test pictures"
	done_tests; exit
fi
# a 1-bit gray PNG of W x H, all black: zlib makes it tiny
python3 - "$T/huge.png" 16000 16000 <<'PY'
import struct, sys, zlib
path, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def chunk(t, d):
    return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
row = b'\0' * (1 + (w + 7) // 8)
z = zlib.compressobj(9)
data = b''.join(z.compress(row) for _ in range(h)) + z.flush()
with open(path, 'wb') as f:
    f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 1, 0, 0, 0, 0)) +
            chunk(b'IDAT', data) + chunk(b'IEND', b''))
PY

# Decoding it takes over 1.3 GB (gray, RGB and FFmpeg's frame); the limit
# leaves about 200 MB above what emotop needs to start. OpenBLAS (pulled in
# by FFmpeg's libraries) spins on a failed mmap in its threads: one thread.
LIMIT_KB=600000
export OPENBLAS_NUM_THREADS=1
# AddressSanitizer reserves terabytes of address space for its shadow and
# cannot start under ulimit -v: under make asan the refusal is checked
# without the bound (ASan itself reports what an unbounded decode allocates)
if nm -D "$EMOTOP" 2>/dev/null | grep -q __asan_init || grep -q -a AddressSanitizer "$EMOTOP"; then
	bounded() { "$@"; }
else
	bounded() { (ulimit -v $LIMIT_KB && exec "$@"); }
fi

"$EMOTOP" scan --help >/dev/null 2>&1 && has_scan=1 || has_scan=0
if [ $has_scan -eq 1 ]; then
	"$EMOTOP" scan --json "$T/huge.png" >"$T/out" 2>"$T/err"
	if grep -q "no face detector model" "$T/err"; then
		skip "no models/face.qnn in this build: scan checks"
		has_scan=0
	fi
fi
if [ $has_scan -eq 1 ]; then
	expect_rc "scan, 256 megapixels: exit 1" 1 bounded "$EMOTOP" scan --json "$T/huge.png"
	contains "scan, 256 megapixels: refused for its size" "$T/err" \
		"huge.png: picture too large: 16000x16000 (256.0 megapixels; the limit is 67.1)"
	expect_rc "scan --annotate, 256 megapixels: exit 1" 1 bounded "$EMOTOP" scan --annotate "$T/ann" "$T/huge.png"
	contains "scan --annotate, 256 megapixels: refused for its size" "$T/err" "picture too large"

	# 11000 px wide: the RGB copy's rows are 33000 bytes
	python3 - "$T/wide.png" 11000 64 <<'PY'
import struct, sys, zlib
path, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def chunk(t, d):
    return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
row = b'\0' + bytes((x * 7) & 255 for x in range(3 * w))
with open(path, 'wb') as f:
    f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) +
            chunk(b'IDAT', zlib.compress(row * h)) + chunk(b'IEND', b''))
PY
	expect_rc "scan --annotate, 11000 px wide: exit 0" 0 "$EMOTOP" scan --annotate "$T/ann" "$T/wide.png"
	out=$(ls "$T/ann" 2>/dev/null | head -n 1)
	if [ -n "$out" ] && command -v ffprobe >/dev/null 2>&1; then
		size=$(ffprobe -v error -show_entries stream=width,height -of csv=p=0 "$T/ann/$out")
		[ "$size" = "11000,64" ] && ok "scan --annotate, 11000 px wide: PNG of that size" ||
			no "scan --annotate, 11000 px wide: PNG of that size" "got '$size'"
	elif [ -n "$out" ]; then
		ok "scan --annotate, 11000 px wide: PNG written"
	else
		no "scan --annotate, 11000 px wide: PNG written" "$(ls -la "$T/ann" 2>&1)"
	fi
fi

# the main program: the source is unavailable (exit 4), said on stderr
expect_rc "headless, 256 megapixels: exit 4" 4 bounded "$EMOTOP" --headless "$T/huge.png"
contains "headless, 256 megapixels: refused for its size" "$T/err" "picture too large: 16000x16000"

done_tests
