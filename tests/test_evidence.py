"The evidence rule (cardiacclip.evidence, chapter 7a) on fixed predictions: a difference inside the noise and one outside it."
import numpy as np
import pandas as pd
import pytest
from cardiacclip.evidence import NO_SEED, error_matrix, interval, judge, paired_difference, verdict, conformal_halfwidth


def _tables(offset: float, seeds=(0, 1, 2), n=120, noise=1.0, tag=0) -> dict:
    "Prediction tables as a run writes them (FileName, EF, pred), one per seed; `offset` moves every error by that much."
    rng = np.random.default_rng(11)
    ef = rng.uniform(15, 80, n)
    hard = rng.gamma(2.0, 3.0, n) + 3.0                                  # each video's difficulty, shared by every method
    names = [f"0X{i:04X}" for i in range(n)]
    out = {}
    for s in seeds:
        r = np.random.default_rng([tag, s])
        err = np.clip(hard + offset + r.normal(0, noise, n), 0, None) * np.where(r.random(n) < 0.5, -1, 1)
        out[s] = pd.DataFrame({"FileName": names, "EF": ef, "pred": ef + err})
    return out


def test_verdicts_inside_and_outside_the_noise():
    base = error_matrix(_tables(0.0, tag=1))
    clear = error_matrix(_tables(-2.0, tag=2))                           # 2 EF points better on every video
    tie = error_matrix(_tables(0.0, tag=3))                              # the same method, other noise
    got = judge([("clear beats base", "clear", "base"), ("tie beats base", "tie", "base"), ("base beats clear", "base", "clear")],
                {8: {"base": base, "clear": clear, "tie": tie}})
    assert got.verdict.tolist() == ["holds", "not resolved", "does not hold"], got
    row = got.set_index("claim").loc["clear beats base"]
    assert row.hi < 0 and row.lo < row.change < row.hi and row.seeds == 3 and row.videos == 120
    assert -2.6 < row.change < -1.4


def test_a_seed_free_baseline_pairs_with_every_seed():
    zs = error_matrix({NO_SEED: _tables(3.0, seeds=(0,), tag=4)[0]})
    m = error_matrix(_tables(0.0, tag=5))
    assert verdict(paired_difference(m, zs)) == "holds"
    assert interval(zs).lo < interval(zs).estimate < interval(zs).hi     # one row: the paired t over videos


def test_mismatched_runs_are_refused_by_name():
    a = _tables(0.0, tag=6)
    a[2] = a[2].iloc[:-1]
    with pytest.raises(ValueError, match="seed 2"):
        error_matrix(a)
    b = error_matrix(_tables(0.0, seeds=(0, 1), tag=7))
    with pytest.raises(ValueError, match="same seeds"):
        paired_difference(error_matrix(_tables(0.0, tag=8)), b)


def test_conformal_halfwidth_covers_on_average():
    rng = np.random.default_rng(0)
    hits = [np.mean(np.abs(rng.normal(0, 5, 1000)) <= conformal_halfwidth(np.abs(rng.normal(0, 5, 60)), 0.9)) for _ in range(300)]
    assert 0.89 < np.mean(hits) < 0.94
