"""Where a `dvc repro`'s time went: per stage group and in total, read from the workspace the repro left behind.

Run it after a `dvc repro`, in the project root, with the time the repro started (an epoch second or an ISO time):

    python benchmarks/pipeline_cost.py --since 2026-12-07T09:16:42Z

Every stage's end is the newest modification time among the outputs `dvc.lock` lists for it; stages run one after
another, so a stage's wall time is its end minus the previous stage's end (the first one's minus `--since`). Inside
that wall time it separates:

- **model**: the notebook cells (or the CLI's timed part) that compute: training, evaluation, embedding, the report;
  the data reading done during training is taken out of it (next item);
- **data**: reading training clips from the AVIs, replayed here: the median time of one training item as the trainer
  reads it (`EchoNet` with the profile's clip, random clips), times the items a run reads (epochs x steps x batch for a
  trained run, views x k-shot videos for an adapt stage); the whole `eval-clips` stage;
- **fixed**: the rest, split by papermill's own timestamps in each executed notebook into *process* (from the previous
  stage's end to papermill's start, and from its end to the stage's last output: DVC, Python, papermill), *kernel*
  (papermill's start to the first cell) and *imports* (the import cells). A stage that runs a grid of notebooks in
  one kernel (`cardiacclip run --each`) sums these over its runs, and counts papermill's time between them as
  process. A CLI stage's fixed part is its process with the package imported, measured here (median of 3).

Nothing is written to tracked files; `--out` writes the table as CSV (e.g. under `timings/`, which git ignores).
"""
import argparse, datetime as dt, json, os, re, statistics, subprocess, sys, time
from pathlib import Path
import pandas as pd
import yaml

GROUPS = (("fewshot@", "fewshot"), ("adapt@", "adapt"))


def group_of(stage: str) -> str:
    return next((g for prefix, g in GROUPS if stage.startswith(prefix)), stage)


def newest_mtime(path: Path) -> float | None:
    "The newest modification time of `path` or of any file under it; None if it does not exist."
    if path.is_file(): return path.stat().st_mtime
    if not path.is_dir(): return None
    times = [p.stat().st_mtime for p in path.rglob("*") if p.is_file()]
    return max(times) if times else None


def stage_ends(lock: dict, root: Path) -> dict:
    "Stage name -> the time its last output was written, for every stage of dvc.lock whose outputs are present."
    ends = {}
    for name, st in lock["stages"].items():
        t = [newest_mtime(root / o["path"]) for o in st.get("outs", [])]
        t = [x for x in t if x is not None]
        if t: ends[name] = max(t)
    return ends


def iso(t: str) -> float: return dt.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()


def notebook_timing(path: Path) -> dict:
    "From papermill's own timestamps in the executed notebook: start, kernel start, import cells, other cells, end."
    nb = json.loads(path.read_text())
    pm = nb["metadata"]["papermill"]
    cells = [(("".join(c["source"])), c["metadata"].get("papermill", {})) for c in nb["cells"] if c["cell_type"] == "code"]
    cells = [(src, m) for src, m in cells if m.get("start_time")]
    if not cells or not pm.get("end_time"): raise ValueError(f"{path}: papermill did not finish this notebook")
    imports = sum(float(m["duration"]) for src, m in cells if is_import_cell(src))
    work = sum(float(m["duration"]) for src, m in cells if not is_import_cell(src))
    return dict(start=iso(pm["start_time"]), kernel=iso(cells[0][1]["start_time"]) - iso(pm["start_time"]),
                imports=imports, work=work, end=iso(pm["end_time"]))


def is_import_cell(src: str) -> bool:
    "A cell of imports (and at most a setting or two, such as torch's thread count)."
    lines = [l for l in src.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    n = sum(bool(re.match(r"\s*(import|from)\s", l)) for l in lines)
    return bool(lines) and n >= 0.75 * len(lines)


def median_seconds(cmd: list[str], repeats: int = 3) -> float:
    out = []
    for _ in range(repeats):
        t = time.perf_counter(); subprocess.run(cmd, check=True, capture_output=True); out.append(time.perf_counter() - t)
    return statistics.median(out)


def training_item_seconds(params: dict, items: int = 40) -> float:
    "Median seconds of one TRAIN item as the trainer reads it: a random clip, decoded, resized, normalised."
    import numpy as np
    from cardiacclip.data import EchoNet
    ds = EchoNet(params["data"]["root"], "TRAIN", length=params["clip"]["length"], period=params["clip"]["period"],
                 targets=("EF",), pad=params["clip"].get("pad"), random_clip=True)
    idx = np.random.default_rng(0).choice(len(ds), size=min(items, len(ds)), replace=False)
    ds[int(idx[0])]                                                             # warm: imports, first open
    out = []
    for i in idx:
        t = time.perf_counter(); ds[int(i)]; out.append(time.perf_counter() - t)
    return statistics.median(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--since", required=True, help="when the dvc repro started: epoch seconds or an ISO time")
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--out", default="", help="also write the per-stage table here (CSV)")
    a = ap.parse_args()
    root = Path.cwd()
    since = float(a.since) if re.fullmatch(r"[\d.]+", a.since) else dt.datetime.fromisoformat(a.since.replace("Z", "+00:00")).timestamp()
    lock = yaml.safe_load((root / "dvc.lock").read_text())
    params = yaml.safe_load((root / a.params).read_text())
    ends = sorted(stage_ends(lock, root).items(), key=lambda kv: kv[1])
    ends = [(s, t) for s, t in ends if t >= since]
    if not ends: sys.exit(f"no stage output was written after {a.since}: run `dvc repro` first, or give its start time")

    py = median_seconds([sys.executable, "-c", "import torch, pandas, cardiacclip.cli, cardiacclip.pretrain, cardiacclip.data"])
    item = training_item_seconds(params)
    tr, ad = params["train"], params.get("adapters", {})
    train_items = tr["epochs"] * (tr["steps_per_epoch"] or 0) * tr["batch_size"]
    pretrain_s = json.loads((root / "timings/pretrain.json").read_text())["seconds"] if (root / "timings/pretrain.json").is_file() else None

    rows, prev = [], since
    for stage, end in ends:
        wall, g = end - prev, group_of(stage)
        row = dict(stage=stage, group=g, wall=wall, runs=1, model=0.0, data=0.0, process=0.0, kernel=0.0, imports=0.0)
        outs = [root / o["path"] for o in lock["stages"][stage].get("outs", [])]
        nbs = [p for q in outs for p in ([q] if q.suffix == ".ipynb" else sorted(q.rglob("*.ipynb")) if q.is_dir() else [])]
        if nbs:                              # papermill runs, one or a grid of them in one kernel: their own timestamps
            try: ns = sorted((notebook_timing(p) | {"path": p} for p in nbs), key=lambda n: n["start"])
            except ValueError as e: print(f"left out, still running or failed: {e}"); continue
            gaps = sum(b["start"] - a["end"] for a, b in zip(ns, ns[1:]))     # papermill between runs of one kernel
            row.update(kernel=sum(n["kernel"] for n in ns), imports=sum(n["imports"] for n in ns),
                       process=(ns[0]["start"] - prev) + (end - ns[-1]["end"]) + gaps)
            work = wall - row["process"] - row["kernel"] - row["imports"]      # the cells that compute, and saving
            if g == "fewshot": reads = train_items * len(ns)
            elif g == "adapt":                 # runs/adapt/<shots>/<seed>/adapt.ipynb -> results/adapt/<shots>/<seed>/
                reads = 0
                for n in ns:
                    run = n["path"].parent.relative_to(root / "runs/adapt")
                    m = next(iter(sorted((root / "results/adapt" / run).glob("*/metrics.json"))), None)
                    reads += ad.get("views", 1) * (json.loads(m.read_text()).get("train_videos", 0) if m else 0)
            else: reads = 0
            row["data"] = min(work, reads * item); row["model"] = work - row["data"]
            row["runs"] = len(ns)
        elif g == "eval-clips":
            row.update(process=min(wall, py), data=max(0.0, wall - py))
        elif g == "pretrain" and pretrain_s:
            row.update(model=min(wall, pretrain_s), process=max(0.0, wall - pretrain_s))
        else:                                                                      # a CLI stage: all but its start is work
            row.update(process=min(wall, py), model=max(0.0, wall - py))
        rows.append(row); prev = end
    t = pd.DataFrame(rows)
    t["fixed"] = t.process + t.kernel + t.imports
    cols = ["wall", "model", "data", "fixed", "process", "kernel", "imports"]
    by = t.groupby("group", sort=False).agg(stages=("stage", "size"), runs=("runs", "sum"), **{c: (c, "sum") for c in cols})
    by.loc["total"] = by.sum()
    by["fixed share"] = (by.fixed / by.wall).map("{:.1%}".format)
    print(f"dvc repro since {dt.datetime.fromtimestamp(since, dt.timezone.utc):%Y-%m-%d %H:%M:%S} UTC: {len(t)} stages, "
          f"{t.wall.sum() / 60:.1f} min wall; {os.cpu_count()} cores")
    print(f"measured now: one training item read as the trainer reads it {item * 1e3:.1f} ms ({train_items} per trained run); "
          f"a CLI stage's process with its imports {py:.1f} s (run this on an idle machine)")
    print("seconds; fixed = process (DVC between stages, Python, papermill) + kernel (its start) + imports (import cells)")
    print(by.assign(**{c: by[c].round(1) for c in cols}).to_markdown())
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True); t.to_csv(a.out, index=False); print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
