import dataclasses, math
from pathlib import Path
import pandas as pd
import pytest
import torch
from cardiacclip import synth
from cardiacclip.backbone import load_backbone
from cardiacclip.echozoom import EchoZoom, split_tiles, merge_tiles
from cardiacclip.mfl import MFL
from cardiacclip.head import NumCLIPHead, ef_category
from cardiacclip.prompts import zero_shot_prompts, zero_shot_ef
from cardiacclip.model import CardiacCLIP, METHODS, GROUPS, model_config, save_model, load_model, read_checkpoint, restore

torch.set_num_threads(2)


@pytest.fixture(scope="module")
def clips():
    "4 synthetic clips (4, 4, 3, 112, 112) in 0-255 and their EF."
    vids, efs = [], []
    for i in range(4):
        c = synth.sample_case(21, i)
        f = torch.from_numpy(synth.render(c)[:32:8]).float()
        vids.append(f[:, None].expand(-1, 3, -1, -1)); efs.append(synth.case_labels(c, "TRAIN")[0]["EF"])
    return torch.stack(vids), torch.tensor(efs)


def test_backbone_shapes():
    bb = load_backbone("echoclip-tiny")
    x = bb.preprocess(torch.rand(5, 3, 112, 112) * 255)
    assert bb.feature_map(x).shape == (5, 128, 3, 3)
    assert bb.encode_frames(x).shape == (5, 128)
    assert bb.encode_text(bb.tokenize(["A", "B"])).shape == (2, 128)


@pytest.mark.parametrize("k, size", [(2, 112), (3, 96), (2, 8)])
def test_tiling_round_trip_is_exact(k, size):
    x = torch.randn(3, 4, size * k, size * k)
    t = split_tiles(x, k)
    assert t.shape == (3 * k * k, 4, size, size)
    assert torch.equal(merge_tiles(t, k), x)


def test_echozoom_shapes_and_single_trunk_call():
    bb = load_backbone("echoclip-tiny", image_size=64)
    calls = []
    bb.trunk.register_forward_hook(lambda *a: calls.append(1))
    z = EchoZoom(bb)
    x = bb.preprocess(torch.rand(6, 3, 112, 112) * 255)
    calls.clear()
    fm = z.feature_map(x)
    assert fm.shape == (6, 256, 2, 2)
    assert z(x).shape == (6, 128)
    with pytest.raises(ValueError, match="scales"):
        EchoZoom(bb, scales=(2, 1))


def test_mfl_and_head_shapes():
    v, w = MFL(16)(torch.randn(3, 7, 16))
    assert v.shape == (3, 16) and w.shape == (3, 7)
    out = NumCLIPHead(16)(torch.randn(3, 16), torch.randn(5, 16), torch.tensor(math.log(100.0)))
    assert out["logits"].shape == (3, 5) and out["ef"].shape == (3,)


@pytest.mark.parametrize("ef, cat", [(0, 0), (29.9, 0), (30, 1), (44.9, 1), (45, 2), (54.9, 2), (55, 3), (70, 3),
                                     (70.1, 4), (100, 4)])
def test_category_boundaries(ef, cat):
    assert int(ef_category(torch.tensor([ef]))[0]) == cat


def test_zero_shot_in_range():
    bb = load_backbone("echoclip-tiny")
    prompts, values = zero_shot_prompts()
    with torch.no_grad():
        pe = bb.encode_text(bb.tokenize(prompts))
        fe = bb.encode_frames(bb.preprocess(torch.rand(12, 3, 112, 112) * 255)).view(3, 4, -1)
    ef = zero_shot_ef(fe, pe, values)
    assert ef.shape == (3,) and bool(((ef >= 0) & (ef <= 100)).all())


def build(method, video, ef):
    "The method's model at 64 px; a Tip-Adapter's cache holds the four clips (as a run fills it with its shots)."
    model = CardiacCLIP(model_config(method, image_size=64, cache_size=len(video)))
    if method.startswith("tip"):
        with torch.no_grad(): model.head.prepare(model.video_embedding(video)[0], ef)
    return model


def test_a_training_free_method_has_nothing_to_train(clips):
    model = build("tip-adapter", *clips)
    assert not any(p.requires_grad for p in model.parameters())
    with pytest.raises(ValueError, match="lr 0"):
        model.param_groups({g: 1e-2 for g in GROUPS})


TRAINED = [m for m in METHODS if METHODS[m]["train"]]


@pytest.mark.parametrize("method", TRAINED)
def test_gradients_reach_exactly_the_trained_groups(method, clips):
    video, ef = clips
    torch.manual_seed(0)
    model = build(method, video, ef)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    opt = torch.optim.AdamW(model.param_groups({g: 1e-2 for g in GROUPS}))
    out = model(video)
    model.loss(out, ef)["total"].backward()
    opt.step()
    trained = {id(p) for g in METHODS[method]["train"] for p in model.groups()[g]}
    for n, p in model.named_parameters():
        changed = not torch.equal(p.detach(), before[n])
        if id(p) in trained:
            assert p.requires_grad
        else:
            assert not changed and not p.requires_grad and p.grad is None, n
    assert any(not torch.equal(p.detach(), before[n]) for n, p in model.named_parameters() if id(p) in trained)


@pytest.mark.parametrize("method", TRAINED)
def test_loss_falls_when_overfitting_four_clips(method, clips):
    video, ef = clips
    torch.manual_seed(0)
    model = build(method, video, ef)
    frozen_features = method == "linear-probe" or METHODS[method].get("adapter")     # a small head: a larger step
    lrs = {"image": 1e-3, "text": 5e-4, "mfl": 1e-3, "head": 1e-1 if frozen_features else 3e-3, "prompts": 1e-2,
           "adapter": 3e-2}
    groups = model.param_groups(lrs)
    opt = torch.optim.RAdam(groups, weight_decay=0)                  # the trainer's optimizer, with its clipping
    losses = []
    for _ in range(15):
        loss = model.loss(model(video), ef)["total"]
        opt.zero_grad(); loss.backward()
        torch.nn.utils.clip_grad_norm_([p for g in groups for p in g["params"]], 1.0)
        opt.step()
        losses.append(float(loss.detach()))
    assert min(losses[-3:]) < 0.95 * losses[0], losses


def test_save_load_round_trip_with_pretrained_source(tmp_path, clips):
    video, _ = clips
    src = load_backbone("echoclip-tiny")
    torch.save(src.clip.state_dict(), tmp_path / "pre.pt")
    model = CardiacCLIP(model_config("coop", image_size=64, checkpoint=str(tmp_path / "pre.pt"))).eval()
    with torch.no_grad(): model.prompts.ctx.add_(0.5)
    save_model(model, tmp_path / "m.pt", epoch=1)
    ck = read_checkpoint(tmp_path / "m.pt")
    assert ck["epoch"] == 1 and not any(k.startswith("backbone.clip.visual") for k in ck["state_dict"])
    again = load_model(tmp_path / "m.pt").eval()
    with torch.no_grad():
        torch.testing.assert_close(again(video)["ef"], model(video)["ef"])
    torch.save({"other": torch.zeros(1)}, tmp_path / "pre.pt")       # the backbone source changed
    with pytest.raises(ValueError, match="changed"):
        load_model(tmp_path / "m.pt")


def test_wrong_architecture_checkpoint(tmp_path):
    save_model(CardiacCLIP(model_config("mfl", image_size=64)), tmp_path / "mfl.pt")
    with pytest.raises(ValueError, match="does not match"):
        restore(CardiacCLIP(model_config("linear-probe", image_size=64)), read_checkpoint(tmp_path / "mfl.pt"))
    bb = load_backbone("echoclip-tiny")
    torch.save({k: v[..., :1] for k, v in bb.clip.state_dict().items() if v.ndim}, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="does not match"):
        load_backbone("echoclip-tiny", checkpoint=tmp_path / "bad.pt")


@pytest.mark.slow
def test_paper_path_trains_one_step_and_predicts(echo_root, tmp_path):
    """The paper profile's architecture on CPU: open_clip convnext_base (random init), EchoZoom (1, 2), MFL, NumCLIP head,
    activation checkpointing; one training step and one VAL prediction on 2 videos of 16 frames (about 70 s, 6.3 GB)."""
    import numpy as np
    from cardiacclip.config import load_config
    from cardiacclip.data import EchoNet, read_filelist
    from cardiacclip.trainer import Trainer
    paper = load_config(Path(__file__).parents[1] / "params-paper.yaml")
    cfg = model_config("cardiacclip", **{**dataclasses.asdict(paper.model), "name": "convnext_base", "checkpoint": None,
                                         "grad_checkpointing": True})
    torch.manual_seed(0)
    model = CardiacCLIP(cfg)
    assert model.backbone.feature_map(model.backbone.preprocess(torch.zeros(1, 3, 112, 112))).shape[1] == 1024
    fl = read_filelist(echo_root / "FileList.csv")
    two = pd.concat([fl[fl.Split == "TRAIN"].head(2), fl[fl.Split == "VAL"].head(2)])
    kw = dict(filelist=two, length=16, period=2, targets=("EF",))
    train, val = EchoNet(echo_root, "TRAIN", pad=paper.clip.pad, **kw), EchoNet(echo_root, "VAL", **kw)
    before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    trainer = Trainer(model, train, val, tmp_path, epochs=1, steps_per_epoch=1, batch_size=2, lrs=paper.train.lr,
                      optimizer=paper.train.optimizer, device="cpu", progress=False)
    history = trainer.fit()
    assert np.isfinite(history.train_total[0]) and np.isfinite(history.val_mae[0])
    names = {id(p): n for n, p in model.named_parameters()}
    moved = {g for g, ps in model.groups().items()
             if any(names.get(id(p)) in before and not torch.equal(p.detach(), before[names[id(p)]]) for p in ps)}
    assert {"image", "text", "mfl", "zoom", "head"} <= moved, moved                # every trained part took the step
    assert (tmp_path / "best.pt").is_file()
