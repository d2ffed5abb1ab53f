"The DVC pipeline end to end on a tiny profile, in a temporary copy of the repository."
import json, shutil, subprocess
import pandas as pd
from pathlib import Path
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
TINY = {
    "synth": {"n_videos": 40, "seed": 3, "workers": 2},
    "corpus": {"n_videos": 24, "seed": 4, "workers": 2},
    "studies": {"n_studies": 12, "seed": 5, "split": [0.5, 0.25, 0.25], "workers": 2},
    "videoclip": {"seeds": [0], "steps": 5, "batch_size": 4, "warmup": 1},
    "model": {"image_size": 48},
    "pretrain": {"steps": 15, "batch_size": 16, "warmup": 2, "frames_per_video": 4},
    "clip": {"length": 4, "period": 12},
    "train": {"epochs": 1, "steps_per_epoch": 2, "batch_size": 4, "val_subset": 6},
    "fewshot": {"shots": [1], "methods": ["linear-probe", "cardiacclip"], "seeds": [0]},
    "adapters": {"methods": ["zs-probe", "tip-adapter"], "views": 2, "epochs": 2, "steps_per_epoch": 2, "batch_size": 4},
}


def _copy_repo(dst: Path):
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True, text=True,
                           check=True).stdout.split()
    skip = ("results/", "reports/", "metrics/", "dvc.lock", ".dvc/cache", "data/", "runs/", "models/")
    for f in files:
        if f.startswith(skip) or not (REPO / f).is_file(): continue
        (dst / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / f, dst / f)


def _repro(cwd):
    r = subprocess.run(["dvc", "repro"], cwd=cwd, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r.stdout


@pytest.mark.slow
def test_dvc_repro_tiny_profile(tmp_path):
    _copy_repo(tmp_path)
    params = yaml.safe_load((tmp_path / "params.yaml").read_text())
    for sec, vals in TINY.items(): params[sec].update(vals)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    _repro(tmp_path)
    for run in ("1/linear-probe-0", "1/cardiacclip-0"):
        m = json.loads((tmp_path / "results/fewshot" / run / "metrics.json").read_text())
        assert 0 <= m["mae"] < 100 and m["data"] == "synthetic" and m["train_videos"] > 0
        assert (tmp_path / "runs/fewshot" / run / "train.ipynb").is_file()
        assert (tmp_path / "runs/fewshot" / run / "ckpt/best.pt").is_file()
        # the executed copy a reader opens carries no warnings (stderr) in its outputs
        cells = json.loads((tmp_path / "runs/fewshot" / run / "train.ipynb").read_text())["cells"]
        stderr = ["".join(o["text"]) for c in cells for o in c.get("outputs", []) if o.get("name") == "stderr"]
        assert not stderr, f"{run}: {stderr}"
    # the adapt stage: both adapters from one embedding pass, both protocols in each metrics file
    for m in TINY["adapters"]["methods"]:
        got = json.loads((tmp_path / "results/adapt/1/0" / m / "metrics.json").read_text())
        assert got["method"] == m and got["protocol"] == "best-on-VAL" and 0 <= got["validation_free"]["mae"] < 100, got
        assert (tmp_path / "runs/adapt/1/0/ckpt" / m / "best.pt").is_file() and (tmp_path / "runs/adapt/1/0/ckpt" / m / "last.pt").is_file()
    assert json.loads((tmp_path / "results/adapt/1/0/zs-probe/metrics.json").read_text())["adapter_change"] > 0
    cells = json.loads((tmp_path / "runs/adapt/1/0/adapt.ipynb").read_text())["cells"]
    assert not [o for c in cells for o in c.get("outputs", []) if o.get("name") == "stderr"]
    for run in ("1/cardiacclip-0", "1/linear-probe-0"):
        assert "validation_free" in json.loads((tmp_path / "results/fewshot" / run / "metrics.json").read_text())
    assert "validation-free" in (tmp_path / "reports/results_validation_free.md").read_text()
    assert json.loads((tmp_path / "data/eval-clips/TEST.json").read_text())["length"] == TINY["clip"]["length"]
    # the README's predict command as written, from the repository root (the run notebook trained from nbs/)
    video = next((tmp_path / "data/synthetic/Videos").glob("*.avi"))
    r = subprocess.run(["cardiacclip", "predict", str(video.relative_to(tmp_path)), "--checkpoint",
                        "runs/fewshot/1/cardiacclip-0/ckpt/best.pt"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0 and "EF" in r.stdout, r.stdout + r.stderr
    r = subprocess.run(["cardiacclip", "predict", str(video.relative_to(tmp_path)), "--checkpoint",
                        "runs/adapt/1/0/ckpt/tip-adapter/best.pt"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0 and "EF" in r.stdout, r.stdout + r.stderr                   # an adapter predicts like any model
    for f in ("results.md", "ablation.md", "claims.md", "learned.md", "mae_vs_shots.png", "bland_altman.png", "attention.png"):
        assert (tmp_path / "reports" / f).stat().st_size > 0, f
    assert "synthetic" in (tmp_path / "reports/results.md").read_text()
    # the video-text stage: three models scored on the same TEST studies, their claims in the report
    vc = json.loads((tmp_path / "results/videoclip/metrics.json").read_text())
    assert {"image", "single", "multi"} <= set(vc) and vc["studies"]["TEST"] == 3
    assert (tmp_path / "models/videoclip/multi-0.pt").is_file()
    assert "more views beat one view" in (tmp_path / "reports/claims.md").read_text()
    zs = json.loads((tmp_path / "results/zeroshot/metrics.json").read_text())
    assert {"zeroshot", "trivial", "size_oracles"} <= set(zs)
    # nothing changed: a second repro runs nothing
    again = _repro(tmp_path)
    assert "Running stage" not in again, again
    # `dvc metrics show`: one row per method, the few columns of TEST MAE by shots, narrow enough for a terminal
    shown = subprocess.run(["dvc", "metrics", "show"], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    rows = shown.strip().splitlines()
    assert any("cardiacclip.json" in r for r in rows) and any("zero-shot.json" in r for r in rows), shown
    assert any("metrics/free/" in r and "tip-adapter.json" in r for r in rows), shown
    assert max(map(len, rows)) <= 100 and "mae_1" in rows[0], shown
    # a forced re-run that changes no prediction changes no committed table (timings are kept out of them)
    before = {p: p.read_bytes() for p in (tmp_path / "results").rglob("*") if p.is_file()}
    subprocess.run(["dvc", "repro", "-f", "-s", "fewshot@1"], cwd=tmp_path, check=True, capture_output=True)
    assert {p: p.read_bytes() for p in (tmp_path / "results").rglob("*") if p.is_file()} == before
    # the paper's splits: data.splits names a folder of FileList_{k}_shot_mediam.csv (UTF-8 BOM, CRLF, as released)
    fl = pd.read_csv(tmp_path / "data/synthetic/FileList.csv")
    released = pd.concat([fl[fl.Split == "TRAIN"].head(3), fl[fl.Split == "VAL"].head(4), fl[fl.Split == "TEST"]])
    (tmp_path / "splits").mkdir()
    (tmp_path / "splits/FileList_1_shot_mediam.csv").write_bytes(
        b"\xef\xbb\xbf" + released.to_csv(index=False, lineterminator="\r\n").encode())
    params["data"]["splits"] = "splits"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    import re
    ran = set(re.findall(r"Running stage '([^']+)'", _repro(tmp_path)))
    assert ran == {"fewshot@1", "adapt@1", "report"}, ran   # only what data.splits touches
    for run in ("1/linear-probe-0", "1/cardiacclip-0"):
        m = json.loads((tmp_path / "results/fewshot" / run / "metrics.json").read_text())
        assert m["train_videos"] == 3 and m["n"] == (fl.Split == "TEST").sum(), m
    # model.checkpoint: null (EchoCLIP from the hub, here an untrained echoclip-tiny): every reader of params works
    null = {**params, "model": {**params["model"], "checkpoint": None}}
    (tmp_path / "params-null.yaml").write_text(yaml.safe_dump(null, sort_keys=False))
    for cmd in (["cardiacclip", "zeroshot", "--params", "params-null.yaml"],
                ["cardiacclip", "run", "nbs/10_train.ipynb", "null/train.ipynb", "--cwd", "nbs", "-p", "params_file",
                 "../params-null.yaml", "-p", "method", "linear-probe", "-p", "run_dir", "../null/ckpt", "-p", "results_dir", "../null"],
                ["cardiacclip", "run", "nbs/20_report.ipynb", "null/report.ipynb", "--cwd", "nbs", "-p", "params_file",
                 "../params-null.yaml", "-p", "reports_dir", "../null/reports"]):
        r = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
        assert r.returncode == 0, " ".join(cmd) + "\n" + r.stdout[-2000:] + r.stderr[-2000:]
    assert (tmp_path / "null/reports/results.md").is_file() and (tmp_path / "null/metrics.json").is_file()
    # a parameter change re-runs exactly what it affects
    params["train"]["epochs"] = 2
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    status = subprocess.run(["dvc", "status"], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert "fewshot@" in status and "synthesize" not in status and "pretrain" not in status
    # the README's experiment recipe: a variant with fewer methods runs in the workspace, the report reads its matrix only
    git = ["git", "-c", "user.email=ci@example.org", "-c", "user.name=ci"]
    subprocess.run(["git", "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run(git + ["commit", "-qm", "baseline"], cwd=tmp_path, check=True)
    r = subprocess.run(["dvc", "exp", "run", "-S", "train.epochs=2", "-S", "fewshot.methods=[cardiacclip]"], cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    shown = subprocess.run(["dvc", "exp", "show", "--drop", ".*", "--keep", r"Experiment|.*cardiacclip.json:mae_.*|train\.epochs"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert "cardiacclip.json:mae_1" in shown and "workspace" in shown, shown


def test_papermill_sees_every_parameter_the_pipeline_passes():
    "Each `-p NAME` in dvc.yaml is a parameter papermill can read from the notebook (`cardiacclip run` refuses others)."
    import ast, re
    import nbformat, papermill as pm
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    for stage in stages.values():
        m = re.search(r"cardiacclip run (\S+\.ipynb)", stage["cmd"])
        if not m: continue
        nb = REPO / m.group(1)
        cell = next(c for c in nbformat.read(nb, as_version=4).cells if "parameters" in c.metadata.get("tags", []))
        assigned = {t.id for node in ast.parse(cell.source).body if isinstance(node, ast.Assign) for t in node.targets}
        seen = set(pm.inspect_notebook(str(nb)))
        assert seen == assigned, f"{nb.name}: papermill cannot parse {sorted(assigned - seen)}"
        passed = set(re.findall(r" -p (\w+) ", stage["cmd"][m.start():]))
        assert passed <= seen, f"{nb.name}: dvc.yaml passes {sorted(passed - seen)}, which the notebook does not define"
