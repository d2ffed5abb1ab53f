"tools/: the prior-shift diagnostic reads what the model predicts; the VAL sweep runs the pipeline notebook."
import importlib.util
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
import torch
from cardiacclip.data import EchoNet
from cardiacclip.model import CardiacCLIP, model_config
from cardiacclip.trainer import predict

spec = importlib.util.spec_from_file_location("prior_shift", Path(__file__).parents[1] / "tools" / "prior_shift.py")
prior_shift = importlib.util.module_from_spec(spec); spec.loader.exec_module(prior_shift)


def test_category_prior_counts_categories():
    p = prior_shift.category_prior([10, 20, 40, 60, 60, 60, 80])           # categories 0, 0, 1, 3, 3, 3, 4
    assert np.allclose(p.numpy(), np.array([2.5, 1.5, 0.5, 3.5, 1.5]) / 9.5)


def test_head_terms_reproduce_the_model_prediction(echo_root):
    torch.manual_seed(0)
    model = CardiacCLIP(model_config("cardiacclip", image_size=64)).eval()
    with torch.no_grad():                                                  # a refinement that is not the identity
        model.head.shift.weight.normal_(0, 0.1)
    ds = EchoNet(echo_root, "VAL", length=4, period=3, targets=("EF",))
    logits, values, ef = prior_shift.head_terms(model, ds)
    pred = predict(model, ds, device="cpu")
    assert np.allclose((logits.softmax(-1) * values).sum(-1).numpy(), pred.pred.to_numpy(), atol=1e-4)
    assert np.allclose(ef.numpy(), pred.EF.to_numpy())


vs_spec = importlib.util.spec_from_file_location("val_sweep", Path(__file__).parents[1] / "tools" / "val_sweep.py")
val_sweep = importlib.util.module_from_spec(vs_spec); vs_spec.loader.exec_module(val_sweep)


def test_val_sweep_overrides_are_checked():
    p = {"train": {"epochs": 2, "lr": {"head": 0.01}}}
    assert val_sweep.override(p, "train.lr.head=5e-2")["train"]["lr"]["head"] == 0.05
    assert val_sweep.override(p, "train.epochs=1")["train"]["epochs"] == 1
    for bad, err in (("train.epoch=1", KeyError), ("trian.epochs=1", KeyError), ("train.epochs", ValueError)):
        with pytest.raises(err, match="train.epoch|trian|section.key=value"): val_sweep.override(p, bad)


def test_val_sweep_runs_the_pipeline_notebook_on_val_only(echo_root, tmp_path):
    import yaml
    params = yaml.safe_load((Path(__file__).parents[1] / "params.yaml").read_text())
    params["data"]["root"] = str(echo_root)
    params["model"].update(checkpoint=None, image_size=48)
    params["clip"].update(length=4, period=12)
    params["train"].update(epochs=2, steps_per_epoch=2, batch_size=4, val_subset=6)
    params["eval_clips"]["enabled"] = False                     # no clip store for this dataset: the runs decode
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    out = tmp_path / "sweep.csv"
    df = val_sweep.main(["--params", str(tmp_path / "params.yaml"), "--set", "train.epochs=1",
                         "--methods", "linear-probe", "--shots", "1", "--seeds", "0", "--out", str(out)])
    assert len(df) == 1 and df.epochs[0] == 1 and 0 < df.val_mae[0] < 100          # the override reached the run
    assert list(pd.read_csv(out).setting) == ["train.epochs=1"]


wf_spec = importlib.util.spec_from_file_location("wise_ft", Path(__file__).parents[1] / "tools" / "wise_ft.py")
wise_ft = importlib.util.module_from_spec(wf_spec); wf_spec.loader.exec_module(wise_ft)


def test_wise_ft_interpolates_the_image_group_only():
    torch.manual_seed(0)
    model = CardiacCLIP(model_config("cardiacclip", image_size=48))
    start = wise_ft.image_state(model)
    with torch.no_grad():                                                  # "fine-tune": move image and head weights
        for p in model.groups()["image"] + model.groups()["head"]: p.add_(torch.randn_like(p))
    tuned, head = wise_ft.image_state(model), [p.clone() for p in model.groups()["head"]]
    assert set(start) == set(tuned) and any(k.startswith("zoom.proj") for k in start)
    for alpha in (0.0, 0.5, 1.0):
        now = wise_ft.image_state(wise_ft.interpolate_image(model, start, tuned, alpha))
        for k in start: assert torch.allclose(now[k], start[k] + alpha * (tuned[k] - start[k]), atol=1e-6), k
    assert all(torch.equal(a, b) for a, b in zip(head, model.groups()["head"]))    # the head keeps its tuned values


sc_spec = importlib.util.spec_from_file_location("shift_check", Path(__file__).parents[1] / "tools" / "shift_check.py")
shift_check = importlib.util.module_from_spec(sc_spec); sc_spec.loader.exec_module(shift_check)


def test_shift_check_reads_the_same_train_clips_with_each_pad(echo_root, tmp_path):
    import yaml
    from cardiacclip.data import read_filelist, few_shot
    params = yaml.safe_load((Path(__file__).parents[1] / "params.yaml").read_text())
    params["data"]["root"] = str(echo_root)
    params["model"].update(checkpoint=None, image_size=48)
    params["clip"].update(length=4, period=12)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    df = shift_check.main(["--params", str(tmp_path / "params.yaml"), "--method", "meanpool-ft", "--pads", "0,12"])
    assert list(df.split) == ["VAL", "TRAIN 1-shot", "TRAIN 1-shot"] and list(df.pad) == [0, 0, 12]
    torch.manual_seed(0)                                               # pad 0 is the plain k-shot TRAIN set
    model = CardiacCLIP(model_config("meanpool-ft", image_size=48)).eval()
    ds = EchoNet(echo_root, "TRAIN", filelist=few_shot(read_filelist(echo_root / "FileList.csv"), 1, seed=0), seed=0,
                 length=4, period=12, targets=("EF",))
    assert df.videos[1] == len(ds) and np.isclose(df.mae[1], shift_check.mae(model, ds), atol=1e-4)
    assert df.mae[2] != df.mae[1]                                      # the shifted clips are read differently
