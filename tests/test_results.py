"Sanity expectations on the committed synthetic benchmark (results/ written by `dvc repro`, tuned on VAL only)."
import json
from pathlib import Path
import pandas as pd
import pytest
import yaml
from cardiacclip.model import METHODS

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


def test_every_method_beats_trivial_at_the_most_shots(results):
    runs, zs = results
    top = runs[runs.shots == runs.shots.max()].groupby("method").mae.mean()
    assert (top < zs["trivial"]["mae"]).all(), top[top >= zs["trivial"]["mae"]]


def test_every_image_tuning_method_beats_trivial_at_every_shot_count(results):
    "Methods that fine-tune the image tower; those on frozen features may sit at the flat k-shot prior at one shot."
    runs, zs = results
    tuned = [m for m in runs.method.unique() if "image" in METHODS[m]["train"]]
    means = runs[runs.method.isin(tuned)].groupby(["method", "shots"]).mae.mean()
    assert len(tuned) >= 4 and (means < zs["trivial"]["mae"]).all(), means[means >= zs["trivial"]["mae"]]


def test_mfl_and_echozoom_moved_from_their_start(results):
    "MFL starts as mean pooling (weights 1/T) and EchoZoom's zoomed channels at zero weight: a part that stays is a bug."
    runs, _ = results
    att = runs[runs.method.isin(["mfl", "echozoom", "cardiacclip"])]
    assert runs.frames.nunique() == 1
    assert (att.groupby(["method", "shots"]).mfl_max_weight.mean() > 1.1 / runs.frames.iloc[0]).all()
    assert (runs[runs.method.isin(["echozoom", "cardiacclip"])].zoom_share > 0.01).all()
    plain = runs[runs.method.isin(["linear-probe", "coop", "meanpool-ft"])]
    assert ((plain.mfl_max_weight - 1 / plain.frames).abs() < 1e-6).all()        # mean pooling: exactly uniform


def test_cardiacclip_improves_with_shots(results):
    runs, _ = results
    c = runs[runs.method == "cardiacclip"].groupby("shots").mae.mean()
    assert c[c.index.max()] < c[c.index.min()], c


def test_the_report_measures_every_claim_and_oracle(results):
    "The claims table has each paper claim at each shot count, marked either way; the oracles are in the results table."
    claims = (ROOT / "reports/claims.md").read_text()
    for claim in ("MFL helps", "EchoZoom helps", "NumCLIP head helps", "mean-pooled fine-tuning", "beats zero-shot"):
        assert claim in claims, claim
    assert claims.count("holds") >= 5 * len(P["fewshot"]["shots"])
    _, zs = results
    table = (ROOT / "reports/results.md").read_text()
    for key in ("ed_area_px", "edv_ml"):
        assert f"{zs['size_oracles'][key]['mae']:.2f}" in table


def test_report_matches_results(results):
    runs, _ = results
    table = (ROOT / "reports/results.md").read_text()
    assert P["data"]["label"] in table
    c = runs[(runs.method == "cardiacclip") & (runs.shots == runs.shots.max())].mae
    assert f"{c.mean():.2f} ± {c.std(ddof=1):.2f}" in table
