"""Clip reading speed: the reference's way against `cardiacclip.data.read_frames`, on the same videos in one run.

The reference (and echonet/dynamic's `loadvideo`) reads the whole video with OpenCV into a float32 array and then
takes the clip's frames; decord's `get_batch` asks for the clip's frames one by one; `read_frames` decodes in order up
to the clip's last frame and converts only the frames it keeps. Each way reads one clip per video (a seeded random
start, the same for all three) of `--length` frames every `--period`; the script prints clips per second (median of
`--repeats` passes) and checks that `read_frames` gives decord's pixels. Run it on one core for the per-core figure:

    taskset -c 0 python benchmarks/clip_reader.py --root data/synthetic
"""
import argparse, os, statistics, time
from pathlib import Path
os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np
import cv2
import decord
from cardiacclip.data import read_frames, read_filelist, video_path, clip_starts, clip_indices

def reference_way(path, idx):
    "echonet/dynamic's loadvideo: every frame into float32 (frames, H, W, 3), then the clip."
    cap = cv2.VideoCapture(str(path)); n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    v = np.zeros((n, h, w, 3), np.float32)
    for i in range(n):
        ok, f = cap.read()
        if not ok: break
        v[i] = cv2.cvtColor(f, cv2.COLOR_BGR2RGB)
    return v[idx[idx < n]]

def decord_way(path, idx):
    vr = decord.VideoReader(str(path), num_threads=1)
    return vr.get_batch(list(idx[idx < len(vr)])).asnumpy()

def ours(path, idx): return read_frames(path, idx)[0]

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default="data/synthetic", help="an EchoNet-Dynamic-layout folder")
    ap.add_argument("--videos", type=int, default=60, help="videos read per pass")
    ap.add_argument("--length", type=int, default=48); ap.add_argument("--period", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    cv2.setNumThreads(1)
    fl = read_filelist(Path(a.root) / "FileList.csv").head(a.videos)
    rng = np.random.default_rng(0)
    jobs = [(video_path(a.root, r.FileName),
             clip_indices(clip_starts(int(r.NumberOfFrames), a.length, a.period, rng=rng)[0], a.length, a.period))
            for r in fl.itertuples()]
    same = all(np.array_equal(ours(p, i), decord_way(p, i)) for p, i in jobs)
    rates = {}
    for name, f in (("reference (OpenCV, whole video, float32)", reference_way), ("decord get_batch (uint8)", decord_way),
                    ("read_frames (uint8)", ours)):
        times = []
        for _ in range(a.repeats):
            t = time.perf_counter()
            for p, i in jobs: f(p, i)
            times.append(time.perf_counter() - t)
        rates[name] = len(jobs) / statistics.median(times)
    ref = rates["reference (OpenCV, whole video, float32)"]
    print(f"{len(jobs)} videos of {a.root}, one {a.length} x {a.period} clip each, median of {a.repeats} passes")
    for name, r in rates.items(): print(f"  {name:42s} {r:7.1f} clips/s  {r / ref:5.2f}x the reference")
    print(f"  read_frames pixels identical to decord's: {same}")

if __name__ == "__main__":
    main()
