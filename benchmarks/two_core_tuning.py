"""Do the two machine-specific settings of `cardiacclip.tuning` still pay? Each is measured against its absence, in
alternating fresh processes, in one run of this script:

1. the short OpenMP spin (`GOMP_SPINCOUNT=10000`, set by every `cardiacclip` command before PyTorch loads): the work
   time of one 8-shot few-shot run (`run_fewshot`, VAL only) per method;
2. the blocked optional import (`rfc3987_syntax`, which jsonschema would import and compile for papermill): the time
   `cardiacclip run` takes to execute a two-cell notebook.

    python benchmarks/two_core_tuning.py --repeats 3
"""
import argparse, os, statistics, subprocess, sys, tempfile, time
from pathlib import Path

RUN = """
import time, torch
from cardiacclip.config import load_config
from cardiacclip.fewshot import run_fewshot
torch.set_num_threads(2)
m = run_fewshot(load_config({params!r}), 8, {method!r}, 0, {out!r} + "/ckpt", {out!r}, evaluate_test=False)
print(m["seconds"], m["val_mae"])
"""

def fewshot_seconds(method, spin, params, tmp):
    env = {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"}
    if spin: env["GOMP_SPINCOUNT"] = spin
    out = tempfile.mkdtemp(dir=tmp)
    r = subprocess.run([sys.executable, "-c", RUN.format(params=params, method=method, out=out)], env=env,
                       capture_output=True, text=True, check=True)
    secs, val = r.stdout.split()
    return float(secs), float(val)

def notebook_seconds(blocked, tmp):
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
                                         nbformat.v4.new_code_cell("print(x)")],
                                  metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}})
    src = Path(tmp) / "two.ipynb"; nbformat.write(nb, src)
    code = ("import sys\n" + ("" if blocked else "import cardiacclip.tuning as t; t.SKIPPED_IMPORTS = ()\n") +
            f"from cardiacclip.cli import main; main(['run', {str(src)!r}, {str(Path(tmp) / 'out.ipynb')!r}])")
    t = time.perf_counter(); subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - t

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="params.yaml"); ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--methods", default="linear-probe,cardiacclip")
    a = ap.parse_args()
    from cardiacclip.tuning import OPENMP_SPIN
    with tempfile.TemporaryDirectory() as tmp:
        print(f"8-shot run work time (s), median of {a.repeats}, alternating; VAL MAE must not change:")
        for method in a.methods.split(","):
            got = {"libgomp default": [], f"GOMP_SPINCOUNT={OPENMP_SPIN}": []}
            vals = set()
            for _ in range(a.repeats):
                for name, spin in (("libgomp default", None), (f"GOMP_SPINCOUNT={OPENMP_SPIN}", OPENMP_SPIN)):
                    s, v = fewshot_seconds(method, spin, a.params, tmp); got[name].append(s); vals.add(round(v, 6))
            med = {k: statistics.median(v) for k, v in got.items()}
            base = med["libgomp default"]
            print(f"  {method:13s} " + "  ".join(f"{k}: {v:5.1f}" for k, v in med.items()) +
                  f"  ratio {med[f'GOMP_SPINCOUNT={OPENMP_SPIN}'] / base:.2f}  VAL MAE identical: {len(vals) == 1}")
        times = {True: [], False: []}
        for _ in range(a.repeats):
            for blocked in (False, True): times[blocked].append(notebook_seconds(blocked, tmp))
        print(f"`cardiacclip run` on a two-cell notebook (s), median of {a.repeats}: with the import "
              f"{statistics.median(times[False]):.2f}, blocked {statistics.median(times[True]):.2f}")

if __name__ == "__main__":
    main()
