"Sanity expectations on the committed synthetic benchmark (results/ written by `dvc repro`, tuned on VAL only)."
import json
from pathlib import Path
import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
P = yaml.safe_load((ROOT / "params.yaml").read_text())


@pytest.fixture(scope="module")
def results():
    runs = pd.DataFrame([json.loads(p.read_text()) for p in sorted((ROOT / "results/fewshot").glob("*/metrics.json"))])
    zs = json.loads((ROOT / "results/zeroshot/metrics.json").read_text())
    return runs, zs


def test_every_run_of_the_matrix_is_committed(results):
    runs, _ = results
    f = P["fewshot"]
    expected = {(s, m, k) for s in f["shots"] for m in f["methods"] for k in f["seeds"]}
    assert set(zip(runs.shots, runs.method, runs.seed)) == expected
    assert (runs.data == P["data"]["label"]).all()


def test_zero_shot_beats_trivial(results):
    _, zs = results
    assert zs["zeroshot"]["mae"] < zs["trivial"]["mae"]


def test_every_fine_tuned_method_beats_trivial(results):
    runs, zs = results
    means = runs.groupby(["method", "shots"]).mae.mean()
    assert (means < zs["trivial"]["mae"]).all(), means[means >= zs["trivial"]["mae"]]


def test_cardiacclip_improves_with_shots(results):
    runs, _ = results
    c = runs[runs.method == "cardiacclip"].groupby("shots").mae.mean()
    assert c[c.index.max()] < c[c.index.min()], c


@pytest.mark.xfail(strict=True, reason="measured: the default CPU profile's CardiacCLIP (TEST MAE 8.32/8.47/8.01/6.93 at "
                   "1/2/4/8 shots) beats zero-shot (7.35) at 8 shots only; strict, so this turns red once a profile tuned "
                   "on VAL meets it at every shot count")
def test_cardiacclip_beats_zero_shot_at_every_shot_count(results):
    runs, zs = results
    c = runs[runs.method == "cardiacclip"].groupby("shots").mae.mean()
    assert (c < zs["zeroshot"]["mae"]).all(), c


def test_report_matches_results(results):
    runs, _ = results
    table = (ROOT / "reports/results.md").read_text()
    assert P["data"]["label"] in table
    c = runs[(runs.method == "cardiacclip") & (runs.shots == runs.shots.max())].mae
    assert f"{c.mean():.2f} ± {c.std(ddof=1):.2f}" in table
