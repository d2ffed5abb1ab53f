"""One embedding pass for the four adapters against one pass per adapter, on the same k-shot sets in one run.

The `adapt` stage calls `run_adapters` once per (shots, seed): the frozen tower embeds the k-shot set (each TRAIN
video as `adapters.views` clips) and VAL/TEST once, and all four adapters are fitted on those embeddings. The
alternative is one run per adapter (`run_fewshot` with an adapter's name), each embedding the same videos again. This
script times both with the profile in params.yaml (TEST included, as the pipeline runs them) and prints the median
work seconds of `--repeats` passes, their ratio, and that both ways give the same TEST MAE. Notebook start-up (about
6 s per `dvc repro` stage) comes on top and is not counted. Run from the repository root:

    python benchmarks/adapter_pass.py --shots 1,8 --repeats 3
"""
import argparse, statistics, sys, tempfile, time
from pathlib import Path
from cardiacclip.cli import share_cores_with_decoder
from cardiacclip.config import load_config
from cardiacclip.fewshot import run_adapters, run_fewshot


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--shots", default="1,8")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    share_cores_with_decoder()                               # as `dvc repro` runs them
    cfg = load_config(args.params)
    methods = cfg.adapters.methods
    print(f"methods {methods}, views {cfg.adapters.views}, seed {args.seed}; median of {args.repeats} passes")
    for shots in [int(s) for s in args.shots.split(",")]:
        shared, separate = [], []
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as tmp:
                t = time.perf_counter()
                together = run_adapters(cfg, shots, args.seed, Path(tmp) / "one")
                shared.append(time.perf_counter() - t)
                t = time.perf_counter()
                alone = {m: run_fewshot(cfg, shots, m, args.seed, Path(tmp) / m) for m in methods}
                separate.append(time.perf_counter() - t)
            same = all(abs(together[m]["mae"] - alone[m]["mae"]) < 1e-9 for m in methods)
        a, b = statistics.median(shared), statistics.median(separate)
        print(f"{shots}-shot ({together[methods[0]]['train_videos']} TRAIN videos): one pass for all {a:.1f} s, "
              f"one pass per method {b:.1f} s, ratio {b / a:.2f}x; same TEST MAE both ways: {same}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
