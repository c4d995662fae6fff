#!/bin/sh
# annotate_seats.sh - `emotop --annotate DIR` review frames carry the seat
# or gallery outlines (dashed: 8 pixels on, 8 off, down each cell's sides)
# as the dashboard's preview pane shows them; without seats there are none.
. "$(dirname "$0")/cli_lib.inc"

cat >"$T/gallery.yaml" <<'YAML'
gallery:
  rows: 1
  cols: 3
  names: [Ana, Ben, Chloe]
YAML
expect_rc "gallery: exit 0" 0 "$EMOTOP" --demo --headless --duration 3 --interval 2 \
	-c "$T/gallery.yaml" --annotate "$T/g"
expect_rc "no seats: exit 0" 0 "$EMOTOP" --demo --headless --duration 3 --interval 2 \
	-c /dev/null --annotate "$T/n"

# dashed_cols PNG: how many columns hold the dashed pattern (gray PNG,
# decoded here: zlib and the five PNG filters)
cat >"$T/dashed.py" <<'PY'
import struct, sys, zlib
def gray(path):
    d = open(path, "rb").read()
    assert d[:8] == b"\x89PNG\r\n\x1a\n"
    i, idat = 8, b""
    while i < len(d):
        n, t = struct.unpack(">I4s", d[i:i + 8])
        c = d[i + 8:i + 8 + n]
        if t == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", c[:10])
            assert depth == 8 and ctype == 0, (depth, ctype)
        elif t == b"IDAT":
            idat += c
        i += 12 + n
    raw, rows, prev = zlib.decompress(idat), [], bytearray(w)
    for y in range(h):
        f, line = raw[y * (w + 1)], bytearray(raw[y * (w + 1) + 1:(y + 1) * (w + 1)])
        for x in range(w):
            a = line[x - 1] if x else 0
            b, c = prev[x], prev[x - 1] if x else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, rows
w, h, px = gray(sys.argv[1])
n = 0
for x in range(w):
    on = [px[y][x] == 255 for y in range(h) if (y // 8) % 2 == 0]
    off = [px[y][x] == 255 for y in range(h) if (y // 8) % 2 == 1]
    if sum(on) >= 0.9 * len(on) and sum(off) <= 0.5 * len(off):
        n += 1
print(n)
PY
if ! command -v python3 >/dev/null 2>&1; then
	skip "python3 absent: cannot decode the frames"
else
	g=$(python3 "$T/dashed.py" "$T/g/emotop-000001.png" 2>&1)
	n=$(python3 "$T/dashed.py" "$T/n/emotop-000001.png" 2>&1)
	[ "$g" -ge 3 ] 2>/dev/null && ok "gallery: dashed cell outlines in the frame" ||
		no "gallery: dashed cell outlines in the frame" "$g columns"
	[ "$n" -eq 0 ] 2>/dev/null && ok "no seats: no dashed outline" ||
		no "no seats: no dashed outline" "$n columns"
fi
done_tests
