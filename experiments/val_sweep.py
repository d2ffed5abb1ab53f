"""Try a change of the few-shot profile on VAL only: `run_fewshot(..., evaluate_test=False)` with overrides.

The CPU profile in params.yaml is a trade between the time budget and accuracy, and it must be tuned on VAL, never on
TEST. This script runs the pipeline's own run function (the code `dvc repro` runs, chapter 8b) for a few (method,
shots, seed) combinations with some parameters overridden, in a temporary folder, with `evaluate_test=False`: TEST is
never read. It prints the best VAL MAE over epochs (on the profile's VAL subset) and the work time. Nothing in the
repository is changed. Run from the repository root, e.g.

    python experiments/val_sweep.py --methods cardiacclip --shots 1,8                      # the profile as it is
    python experiments/val_sweep.py --methods cardiacclip --shots 1,8 --set train.epochs=2 --out experiments/results/x.csv

Found on the current synthetic world (experiments/results/sweep_*.csv, CardiacCLIP, VAL60, mean of seeds 0-2 at 1 / 8
shots): the adopted schedule of 4 x 40 steps with MFL and the EchoZoom projection at 1e-2 gives 9.43 / 7.24; the old
2 epochs of one pass 11.77 / 9.79; a 4 px shift augmentation 10.07 / 6.65 and a 12 px one 10.34 / 9.33. The findings
chapter (nbs/30_findings.ipynb) shows the tables. The frozen-feature adapters (sweep_adapters.csv, zs-probe,
clip-adapter and tip-adapter-f together, mean over the three and seeds 0-2, VAL60, 1 / 8 shots): adapter lr 1e-2
gives 11.11 / 8.73, 3e-3 11.13 / 9.13, 1e-3 10.96 / 9.45; params.yaml adopts 1e-2 (lowest mean of the two).
"""
import argparse, itertools, sys, tempfile, time
from pathlib import Path
import pandas as pd
import yaml
from cardiacclip.cli import share_cores_with_decoder
from cardiacclip.config import Config, load_config
from cardiacclip.fewshot import run_fewshot


def override(params: dict, assignment: str) -> dict:
    "Apply one `section.key=value` assignment (value parsed as YAML) to a nested params dict, in place."
    key, sep, value = assignment.partition("=")
    if not sep or not key: raise ValueError(f"--set needs section.key=value, got {assignment!r}")
    *path, last = key.split(".")
    node = params
    for k in path:
        if not isinstance(node.get(k), dict): raise KeyError(f"--set {assignment!r}: no section {k!r} in the params")
        node = node[k]
    if last not in node: raise KeyError(f"--set {assignment!r}: no key {last!r} in {'.'.join(path) or 'the params'}")
    v = yaml.safe_load(value)
    if isinstance(v, str):                                   # YAML 1.1 reads 5e-2 as text; numbers are meant
        try: v = float(v)
        except ValueError: pass
    node[last] = v
    return params


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help="override (repeatable)")
    ap.add_argument("--methods", default="cardiacclip")
    ap.add_argument("--shots", default="1,8")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--out", default=None, help="append the per-run rows to this CSV")
    args = ap.parse_args(argv)
    share_cores_with_decoder()                               # time the runs as `dvc repro`'s are timed
    base = load_config(args.params)                          # checked as the pipeline checks it
    params = base.raw
    for a in args.set: override(params, a)
    cfg = Config(params, base=base.base, source=f"{args.params} with {args.set}")
    setting = " ".join(args.set) or "as in " + Path(args.params).name
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        combos = itertools.product(args.methods.split(","), [int(s) for s in args.shots.split(",")],
                                   [int(s) for s in args.seeds.split(",")])
        for method, shots, seed in combos:
            t = time.time()
            out = Path(tmp) / f"{shots}-{method}-{seed}"
            m = run_fewshot(cfg, shots, method, seed, out / "ckpt", out, evaluate_test=False)
            rows.append({"setting": setting, "method": method, "shots": shots, "seed": seed, "val_mae": m["val_mae"],
                         "best_epoch": m["best_epoch"], "seconds": m["seconds"],
                         # the adapters also record the last epoch's VAL MAE (the validation-free protocol's model)
                         "last_val_mae": m.get("validation_free", {}).get("val_mae")})
            print(rows[-1], f"({time.time() - t:.0f} s)", flush=True)
    df = pd.DataFrame(rows)
    if args.out: df.to_csv(args.out, mode="a", header=not Path(args.out).exists(), index=False)
    table = df.groupby(["method", "shots"]).agg(val_mae=("val_mae", "mean"), sd=("val_mae", "std"), last=("last_val_mae", "mean"),
                                                seconds=("seconds", "median"), runs=("seed", "count"))
    print(f"\nVAL MAE (mean, sd over seeds) and median work seconds per run; setting: {setting}")
    print(table.round(3).to_string())
    return df


if __name__ == "__main__":
    main(sys.argv[1:])
