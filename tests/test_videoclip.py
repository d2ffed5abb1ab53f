"The video-text CLIP (chapter 8c): every new part learns, a missing view is used as documented, bad studies are refused."
import numpy as np
import pandas as pd
import pytest
import torch
from cardiacclip.backbone import load_backbone
from cardiacclip.studies import synthesize_studies
from cardiacclip.videoclip import StudyBank, VideoCLIP, embed_bank, load_video_clip, save_video_clip, train_video_clip


@pytest.fixture(scope="module")
def studies(tmp_path_factory):
    root = tmp_path_factory.mktemp("studies") / "st"
    synthesize_studies(root, n_studies=12, seed=3, split=(0.5, 0.25, 0.25), workers=2, verbose=False)
    return root


@pytest.fixture(scope="module")
def bank(studies):
    torch.manual_seed(0)
    return StudyBank(load_backbone("echoclip-tiny", image_size=32), studies, "TRAIN")


def test_bank_holds_every_view_of_every_study(bank):
    assert bank.present.all() and len(bank) == 6
    frames, present = bank.clips([0, 1], length=5)
    assert frames.shape == (2, 3, 5, bank.dim) and present.all()
    assert torch.allclose(bank.text.norm(dim=-1), torch.ones(len(bank)))


def test_temporal_module_and_fusion_learn(bank):
    init = VideoCLIP(bank.dim, length=5).state_dict()
    model, curve, _ = train_video_clip(bank, length=5, steps=30, batch_size=6, lr=3e-3, warmup=2)
    after = model.state_dict()
    for key in ("time", "view", "gate", "mixer.self_attn.in_proj_weight", "mixer.linear1.weight",
                "temporal.score.0.weight", "temporal.score.4.weight", "fusion.score.0.weight", "fusion.score.4.weight"):
        assert (after[key] - init[key]).abs().max() > 1e-4, f"{key} did not move in training"
    emb = embed_bank(model, bank, length=5)
    assert (emb["temporal"].std(-1) > 1e-4).all(), "the temporal attention stayed flat"
    assert (emb["view"].std(-1) > 1e-4).all(), "the view fusion stayed a plain mean"


def test_saved_model_reads_the_same(bank, tmp_path):
    model, _, _ = train_video_clip(bank, length=5, steps=3, batch_size=4)
    save_video_clip(model, tmp_path / "vc.pt")
    back = load_video_clip(tmp_path / "vc.pt")
    assert torch.allclose(embed_bank(back, bank, 5)["study"], embed_bank(model, bank, 5)["study"], atol=1e-6)


def _copy(studies, tmp_path, edit):
    import shutil
    root = tmp_path / "st"
    shutil.copytree(studies, root)
    t = pd.read_csv(root / "Studies.csv", dtype=str)
    edit(t).to_csv(root / "Studies.csv", index=False)
    return root, t


def test_a_missing_view_is_left_out_not_substituted(studies, tmp_path):
    def drop(t):
        first = t[t.Split == "TRAIN"].StudyID.iloc[0]
        return t[~((t.StudyID == first) & (t.View == "PLAX"))]
    root, t = _copy(studies, tmp_path, drop)
    b = StudyBank(load_backbone("echoclip-tiny", image_size=32), root, "TRAIN")
    i = 0                                                 # the first TRAIN study is the one that lost its PLAX view
    assert b.present[i].tolist() == [True, True, False] and b.present[1:].all()
    frames, present = b.clips([i], 4)
    assert (frames[0, 2] == 0).all() and not present[0, 2]
    model = VideoCLIP(b.dim, length=4)
    out = embed_bank(model, b, 4)
    assert out["view"][i, 2] == 0 and torch.isfinite(out["study"]).all()


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.assign(View=t.View.where(t.index != 0, "PSAX")), "unknown view 'PSAX'"),
    (lambda t: t.assign(Report=t.Report.where(t.StudyID != t.StudyID.iloc[0], "")), "no report"),
])
def test_bad_studies_are_refused_by_name(studies, tmp_path, edit, message):
    root, t = _copy(studies, tmp_path, edit)
    with pytest.raises(ValueError, match=message) as e:
        StudyBank(load_backbone("echoclip-tiny", image_size=32), root, "TRAIN")
    assert t.StudyID.iloc[0] in str(e.value)
