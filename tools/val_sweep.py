"""Try a change of the few-shot profile on VAL only: run nbs/10_train.ipynb with overrides; report VAL MAE and time.

The CPU profile in params.yaml is a trade between the time budget and accuracy, and it must be tuned on VAL, never on
TEST. This tool executes the pipeline's own run notebook (exactly the code `dvc repro` runs) for a few (method, shots,
seed) combinations with some params overridden, in a temporary folder, and reads back only the VAL history (the best
VAL MAE over epochs, on the notebook's VAL subset) and the notebook's own work time. The notebook also evaluates TEST;
those files are deleted unread. Nothing in the repository is changed. Run from the repository root, e.g.

    python tools/val_sweep.py --methods cardiacclip,meanpool-ft --shots 1,8                      # the profile as it is
    python tools/val_sweep.py --methods cardiacclip,meanpool-ft --shots 1,8 --set train.epochs=1  # one pass instead
"""
import argparse, itertools, json, sys, tempfile, time
from pathlib import Path
import pandas as pd
import yaml
from cardiacclip.cli import (load_params, model_paths, resolve_path, run_notebook,     # paths relative to the params file
                             share_cores_with_decoder)

NOTEBOOK = Path(__file__).resolve().parents[1] / "nbs" / "10_train.ipynb"


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


def absolute_paths(params: dict, base: Path) -> dict:
    "Make the data root, the clip store and the model files absolute, so the params file can live in a temporary folder."
    base = base.resolve()
    params["data"]["root"] = resolve_path(base, params["data"]["root"])
    if "eval_clips" in params: params["eval_clips"]["out"] = resolve_path(base, params["eval_clips"]["out"])
    params["model"] = model_paths(params["model"], base)
    return params


def run_one(params_file: Path, work: Path, method: str, shots: int, seed: int) -> dict:
    "Execute the run notebook once; return its best VAL MAE, number of epochs and work time (TEST outputs deleted)."
    out = work / f"{shots}-{method}-{seed}"
    run_notebook(NOTEBOOK, out / "train.ipynb", cwd=NOTEBOOK.parent,                 # as `dvc repro` runs it
                 parameters=dict(shots=shots, method=method, seed=seed, params_file=str(params_file),
                                 run_dir=str(out / "ckpt"), results_dir=str(out / "results")))
    history = pd.read_csv(out / "results" / "history.csv")
    seconds = json.loads((out / "results" / "metrics.json").read_text())["seconds"]
    for f in ("metrics.json", "predictions.csv"): (out / "results" / f).unlink()    # TEST: not for tuning
    return {"method": method, "shots": shots, "seed": seed, "val_mae": float(history.val_mae.min()),
            "epochs": len(history), "seconds": seconds}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help="override (repeatable)")
    ap.add_argument("--methods", default="cardiacclip")
    ap.add_argument("--shots", default="1,8")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--out", default=None, help="append the per-run rows to this CSV")
    args = ap.parse_args(argv)
    share_cores_with_decoder()                               # the kernels it starts time as `dvc repro`'s do
    params_path = Path(args.params).resolve()
    params = absolute_paths(load_params(params_path), params_path.parent)
    for a in args.set: override(params, a)
    setting = " ".join(args.set) or "as in " + params_path.name
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        combos = itertools.product(args.methods.split(","), [int(s) for s in args.shots.split(",")],
                                   [int(s) for s in args.seeds.split(",")])
        for method, shots, seed in combos:
            t = time.time()
            rows.append({"setting": setting, **run_one(work / "params.yaml", work, method, shots, seed)})
            print(rows[-1], f"({time.time() - t:.0f} s with kernel start)", flush=True)
    df = pd.DataFrame(rows)
    if args.out: df.to_csv(args.out, mode="a", header=not Path(args.out).exists(), index=False)
    table = df.groupby(["method", "shots"]).agg(val_mae=("val_mae", "mean"), sd=("val_mae", "std"),
                                                seconds=("seconds", "median"), runs=("seed", "count"))
    print(f"\nVAL MAE (mean, sd over seeds) and median work seconds per run; setting: {setting}")
    print(table.round(3).to_string())
    return df


if __name__ == "__main__":
    main(sys.argv[1:])
