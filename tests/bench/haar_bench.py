#!/usr/bin/env python3
"""haar_bench.py - OpenCV's Haar cascade (haarcascade_frontalface_default, as
the projects emotop replaces used it: detectMultiScale scaleFactor 1.1,
minNeighbors 5, minSize 20, one thread, timed by its CPU time as bench_detect
times emotop) on the frames bench_detect wrote.
Benchmark only: emotop never builds or runs against OpenCV.

usage: haar_bench.py MANIFEST EMOTOP_MS_640 EMOTOP_MS_1080
MANIFEST lines: KIND PATH [x,y,w,h ...] with KIND time640, time1080, photo,
neg or gallery. Recall counts ground-truth faces matched at IoU >= 0.5
(and, since Haar's boxes are framed differently, also at IoU >= 0.3).
"""
import os
import sys
import time

try:
    import cv2
except ImportError:
    print("SKIP Haar comparison: python3-opencv not installed")
    sys.exit(0)

CASCADES = [
    "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml",
    "/usr/share/opencv/haarcascades/haarcascade_frontalface_default.xml",
]


def iou(a, b):
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = min(ax1, bx1) - max(a[0], b[0])
    ih = min(ay1, by1) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def match(dets, gt, thr):
    used = [False] * len(gt)
    hit = fa = 0
    for d in dets:
        best, bi = -1, thr
        for j, g in enumerate(gt):
            v = iou(d, g)
            if not used[j] and v >= bi:
                best, bi = j, v
        if best < 0:
            fa += 1
        else:
            used[best] = True
            hit += 1
    return hit, fa, used


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    path = next((p for p in CASCADES if os.path.exists(p)), None)
    if path is None:
        print("SKIP Haar comparison: haarcascade_frontalface_default.xml not found (opencv-data)")
        return 0
    cv2.setNumThreads(1)
    casc = cv2.CascadeClassifier(path)
    e640, e1080 = float(sys.argv[2]), float(sys.argv[3])

    def detect(img):
        r = casc.detectMultiScale(img, scaleFactor=1.1, minNeighbors=5, minSize=(20, 20))
        return [tuple(map(float, b)) for b in r]

    times = {"time640": [], "time1080": []}
    st = {k: [0, 0, 0, 0] for k in ("photo", "neg", "gallery")}  # gt, hit50, hit30, fa
    nimg = {"photo": 0, "neg": 0, "gallery": 0}
    for line in open(sys.argv[1]):
        f = line.split()
        if not f:
            continue
        kind, p = f[0], f[1]
        img = cv2.imread(p, cv2.IMREAD_GRAYSCALE)
        if img is None:
            continue
        if kind in times:
            detect(img)
            for _ in range(3):
                t0 = time.thread_time()
                detect(img)
                times[kind].append((time.thread_time() - t0) * 1e3)
            continue
        gt = [tuple(map(float, g.split(","))) for g in f[2:]]
        dets = detect(img)
        nimg[kind] += 1
        h50, fa, _ = match(dets, gt, 0.5)
        h30, _, _ = match(dets, gt, 0.3)
        s = st[kind]
        if kind == "photo":
            # as for emotop: faces >= 20 px
            big = [g for g in gt if g[2] >= 20]
            h50, _, _ = match(dets, big, 0.5)
            h30, _, _ = match(dets, big, 0.3)
            s[0] += len(big)
        else:
            s[0] += len(gt)
        s[1] += h50
        s[2] += h30
        s[3] += fa

    def med(v):
        v = sorted(v)
        return v[len(v) // 2] if v else float("nan")

    m640, m1080 = med(times["time640"]), med(times["time1080"])
    print("Haar (OpenCV %s, %s, 1.1/5/minSize 20, one thread):" % (cv2.__version__, path.split("/")[-1]))
    print("  640x480: %.2f ms/frame (emotop %.1fx faster)   1920x1080: %.2f ms/frame (emotop %.1fx faster)"
          % (m640, m640 / e640 if e640 > 0 else 0, m1080, m1080 / e1080 if e1080 > 0 else 0))
    if nimg["photo"]:
        s = st["photo"]
        print("  held-out WebFaces (%d photos): recall %.4f at IoU 0.5 (%d/%d), %.4f at IoU 0.3; "
              "%d false alarms on %d negatives (%.4f per image)"
              % (nimg["photo"], s[1] / max(s[0], 1), s[1], s[0], s[2] / max(s[0], 1), st["neg"][3],
                 nimg["neg"], st["neg"][3] / max(nimg["neg"], 1)))
    if nimg["gallery"]:
        s = st["gallery"]
        print("  1920x1080 5x5 FER2013 galleries (%d frames): recall %.4f at IoU 0.5 (%d/%d), %.4f at "
              "IoU 0.3, %d false alarms" % (nimg["gallery"], s[1] / max(s[0], 1), s[1], s[0],
                                            s[2] / max(s[0], 1), s[3]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
