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
    runs = pd.DataFrame([json.loads(p.read_text()) for p in sorted((ROOT / "results/fewshot").glob("*/*/metrics.json"))])
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
    "Each paper claim at each shot count gets one of three verdicts, by the rule on its committed interval; the oracles are in the table."
    claims = (ROOT / "reports/claims.md").read_text()
    for claim in ("MFL helps", "EchoZoom helps", "NumCLIP head helps", "mean-pooled fine-tuning", "beats zero-shot"):
        assert claim in claims, claim
    judged = pd.read_csv(ROOT / "reports/claims.csv")
    assert len(judged) == 5 * len(P["fewshot"]["shots"])
    rule = ["holds" if hi < 0 else "does not hold" if lo > 0 else "not resolved" for lo, hi in zip(judged.lo, judged.hi)]
    assert judged.verdict.tolist() == rule
    video = pd.read_csv(ROOT / "reports/claims_video.csv")             # claims.md: the paper's, then the video-text ones
    assert sum(claims.count(f"| {v} ") for v in ("holds", "does not hold", "not resolved")) == len(judged) + len(video)
    assert set(video.claim.str.split(" \\(").str[0]) == {"video beats still images", "more views beat one view"}
    assert len(video) == 4 and video.verdict.tolist() == [
        "holds" if hi < 0 else "does not hold" if lo > 0 else "not resolved" for lo, hi in zip(video.lo, video.hi)]
    _, zs = results
    table = (ROOT / "reports/results.md").read_text()
    for key in ("ed_area_px", "edv_ml"):
        assert f"{zs['size_oracles'][key]['mae']:.2f} [" in table


def test_report_matches_results(results):
    runs, _ = results
    table = (ROOT / "reports/results.md").read_text()
    assert P["data"]["label"] in table
    c = runs[(runs.method == "cardiacclip") & (runs.shots == runs.shots.max())].mae
    assert f"{c.mean():.2f} [" in table


@pytest.fixture(scope="module")
def adapter_runs():
    a = P["adapters"]
    paths = [ROOT / "results/adapt" / str(s) / str(k) / m / "metrics.json" for s in P["fewshot"]["shots"] for k in P["fewshot"]["seeds"]
             for m in a["methods"]]
    missing = [p for p in paths if not p.is_file()]
    assert not missing, f"{len(missing)} adapter run(s) of the matrix not committed, e.g. {missing[0]}"
    return pd.DataFrame([json.loads(p.read_text()) for p in paths])


def test_every_run_is_scored_under_both_protocols(results, adapter_runs):
    runs, _ = results
    for df in (runs, adapter_runs):
        assert (df.protocol == "best-on-VAL").all()
        free = pd.DataFrame(list(df.validation_free))
        assert free[["mae", "rmse", "r2", "acc5", "val_mae"]].notna().all().all() and (free.mae < 100).all()
    last = pd.DataFrame(list(runs.validation_free)).epoch
    assert (last == P["train"]["epochs"]).all()
    same = runs.best_epoch == last                      # the last epoch was the best: one model, one score
    assert (pd.DataFrame(list(runs.validation_free)).mae[same].values == runs.mae[same].values).all()


def test_adapters_train_what_they_train(adapter_runs):
    "A trained adapter and its refinement move from their start; Tip-Adapter's validation-free run keeps the paper's defaults."
    trained = adapter_runs[adapter_runs.method.map(lambda m: bool(METHODS[m]["train"]))]
    assert len(trained) and (trained.adapter_change > 0).all() and (trained.refine_change > 0).all()
    tip = adapter_runs[adapter_runs.method == "tip-adapter"]
    free = pd.DataFrame(list(tip.validation_free))
    assert ((free.alpha == 1.0) & (free.beta == 5.5)).all()
    assert (adapter_runs.data == P["data"]["label"]).all() and (adapter_runs.train_videos > 0).all()


def test_the_report_has_both_protocol_tables(adapter_runs):
    paper, free = (ROOT / "reports/results.md").read_text(), (ROOT / "reports/results_validation_free.md").read_text()
    assert "best on VAL" in paper and "validation-free" in free
    for m in P["adapters"]["methods"]:
        c = adapter_runs[(adapter_runs.method == m) & (adapter_runs.shots == adapter_runs.shots.max())]
        assert f"{c.mae.mean():.2f} [" in paper, m
        v = pd.DataFrame(list(c.validation_free)).mae
        assert f"{v.mean():.2f} [" in free, m


def test_every_run_carries_a_calibrated_interval(results, adapter_runs):
    "Per-video intervals for `predict`: calibrated on VAL videos that selection did not see, scored on TEST."
    runs, _ = results
    for df in (runs, adapter_runs):
        iv = pd.DataFrame(list(df.interval))
        assert (iv.halfwidth > 0).all() and (iv.coverage == 0.9).all() and iv.test_coverage.between(0, 1).all()
        assert (iv.calibrated_on == "VAL outside the selection subset").all()
    assert "cover" in (ROOT / "reports/intervals.md").read_text()
