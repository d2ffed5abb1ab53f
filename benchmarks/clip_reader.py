"""Clip reading speed: the reference's way against `cardiacclip.data.read_frames`, on the same videos in one run.

The reference (and echonet/dynamic's `loadvideo`) reads the whole video with OpenCV into a float32 array and then
takes the clip's frames; decord's `get_batch` asks for the clip's frames one by one; `read_frames` decodes in order up
to the clip's last frame and converts only the frames it keeps. Each way reads one clip per video (a seeded random
start, the same for all three) of `--length` frames every `--period`; the script prints clips per second (median of
`--repeats` passes, the ways taking turns) and checks that `read_frames` gives decord's pixels.

Then the item path as training consumes it: `EchoNet(...)[i]` on the same videos, a random clip of the same geometry,
float, with `--pad` the padded random crop, and the model normalising on its device (`CLIPBackbone.preprocess`, as
every run does); the same normalised in the dataset with TRAIN's mean and sd (`mean_std`); and a DataLoader over the
TRAIN split with the CPU profile's clip, batch and workers from `params.yaml`, in items per second. Run it on
one core for the per-core figure:

    taskset -c 0 python benchmarks/clip_reader.py --root data/synthetic
"""
import argparse, os, statistics, time
from pathlib import Path
os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np
import cv2
import decord
import torch
from cardiacclip.data import EchoNet, mean_std, read_frames, read_filelist, video_path, clip_starts, clip_indices

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
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--pad", type=int, default=12, help="the item path's padded crop (params-paper.yaml: 12; 0: none)")
    ap.add_argument("--params", default="params.yaml", help="the profile whose TRAIN DataLoader is timed")
    a = ap.parse_args()
    cv2.setNumThreads(1)
    fl = read_filelist(Path(a.root) / "FileList.csv").head(a.videos)
    rng = np.random.default_rng(0)
    jobs = [(video_path(a.root, r.FileName),
             clip_indices(clip_starts(int(r.NumberOfFrames), a.length, a.period, rng=rng)[0], a.length, a.period))
            for r in fl.itertuples()]
    mu, sd = mean_std(a.root)
    crop = f", pad {a.pad} crop" if a.pad else ""
    items = {name: EchoNet(a.root, "ALL", filelist=fl.reset_index(drop=True), length=a.length, period=a.period,
                           random_clip=True, pad=a.pad or None, targets=("EF",), **norm)
             for name, norm in ((f"item as trained on (float{crop})", {}),
                                (f"item, normalised here (TRAIN mean/sd)", dict(mean=mu, std=sd)))}
    ways = {"reference (OpenCV, whole video, float32)": lambda: [reference_way(p, i) for p, i in jobs],
            "read_frames (uint8)": lambda: [ours(p, i) for p, i in jobs],
            **{name: (lambda ds=ds: [ds[i] for i in range(len(ds))]) for name, ds in items.items()}}
    times = {name: [] for name in ways}
    for _ in range(a.repeats):                 # round robin: a slow spell of the machine hits every way alike
        for name, f in ways.items(): times[name].append(timed(f))
    loader = loader_rate(a)
    # decord last: the threads its readers leave behind slow what runs after them on the same core (measured: the
    # item path at about half its rate)
    times["decord get_batch (uint8)"] = [timed(lambda: [decord_way(p, i) for p, i in jobs]) for _ in range(a.repeats)]
    same = all(np.array_equal(ours(p, i), decord_way(p, i)) for p, i in jobs)
    rates = {name: len(jobs) / statistics.median(ts) for name, ts in times.items()}
    ref = rates["reference (OpenCV, whole video, float32)"]
    print(f"{len(jobs)} videos of {a.root}, one {a.length} x {a.period} clip each, median of {a.repeats} passes")
    for name, r in rates.items(): print(f"  {name:42s} {r:7.1f} clips/s  {r / ref:5.2f}x the reference")
    print(f"  read_frames pixels identical to decord's: {same}")
    print(loader)

def timed(f) -> float:
    t = time.perf_counter(); f(); return time.perf_counter() - t

def loader_rate(a):
    "Items per second through the DataLoader that training uses, for the profile in `a.params` (one epoch of TRAIN)."
    from cardiacclip.config import load_config
    from cardiacclip.trainer import _loader, epoch_indices
    cfg = load_config(a.params)
    ds = EchoNet(a.root, "TRAIN", length=cfg.clip.length, period=cfg.clip.period, pad=cfg.clip.pad, targets=("EF",))
    n = min(len(ds), cfg.train.batch_size * 40)
    idx = epoch_indices(len(ds), n, 0, 0)
    times = [timed(lambda: [None for _ in _loader(ds, idx, cfg.train.batch_size, cfg.train.num_workers, False)])
             for _ in range(a.repeats)]
    return (f"DataLoader, {a.params}: {cfg.clip.length} x {cfg.clip.period} clips, batches of {cfg.train.batch_size}, "
            f"{cfg.train.num_workers} workers, pad {cfg.clip.pad}: {n / statistics.median(times):7.1f} items/s "
            f"(median of {a.repeats} passes over {n} items, torch threads {torch.get_num_threads()})")

if __name__ == "__main__":
    main()
