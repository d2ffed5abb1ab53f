"""What the checkpoint experiments share: the VAL videos, read once, and the trained checkpoints of one method.

`prior_shift.py` and `wise_ft.py` both re-read the few-shot stages' best checkpoints
(`runs/fewshot/<shots>/<method>-<seed>/ckpt/best.pt`, from `dvc repro` or `dvc pull`) and score them on all of VAL.
"""
from pathlib import Path
from cardiacclip.data import EchoNet, read_filelist
from cardiacclip.model import load_model


def val_videos(cfg):
    "(the whole FileList, all VAL videos as the profile's clips): decoded once and kept, since every checkpoint reads them."
    filelist = read_filelist(Path(cfg.data.root) / "FileList.csv")
    val = EchoNet(cfg.data.root, "VAL", filelist=filelist, length=cfg.clip.length, period=cfg.clip.period, targets=("EF",),
                  cache=True)
    return filelist, val


def trained_checkpoints(cfg, method: str):
    "(shots, seed, checkpoint path, model in eval mode) for every run of `method` in the profile's matrix."
    for shots in cfg.fewshot.shots:
        for seed in cfg.fewshot.seeds:
            ckpt = Path(f"runs/fewshot/{shots}/{method}-{seed}/ckpt/best.pt")
            yield shots, seed, ckpt, load_model(ckpt).eval()
