"""Diagnostic: does the TRAIN shift augmentation take clips outside what the pretrained image tower has seen?

`clip.pad` zero-pads every training clip and crops it back at a random offset (the reference uses 12 px on real
EchoNet-Dynamic videos, whose hearts sit wherever the sonographer put them). This script builds a method's model as
its training starts (pretrained backbone, MFL and head at their initial values: what the first step sees) and
reports its MAE on the clips of a k-shot TRAIN set for each pad, with VAL beside it. A pad that raises the TRAIN MAE
far above pad 0 feeds the fine-tuning clips the tower reads badly. Nothing is trained and TEST is not read. Run from
the repository root:

    python experiments/shift_check.py --pads 0,4,12

Found (old synthetic world): a 12 px shift took the untrained CardiacCLIP read-out on 1-shot TRAIN clips from MAE 8.27
to 18.06, which is why the CPU profile trains without the shift (`clip.pad: null`); on the current world the VAL
runs with and without it are in experiments/results/sweep_pad.csv and the findings chapter.
"""
import argparse
from pathlib import Path
import pandas as pd
import torch
from cardiacclip.config import load_config
from cardiacclip.data import EchoNet, read_filelist, few_shot
from cardiacclip.model import CardiacCLIP
from cardiacclip.trainer import predict, seed_everything


def mae(model, ds) -> float:
    "MAE of `model` on every video of `ds` (one clip each, as the dataset draws it)."
    pred = predict(model, ds, device="cpu")
    return float((pred.pred - pred.EF).abs().mean())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--method", default="cardiacclip")
    ap.add_argument("--pads", default="0,4,12", help="pixels of zero padding before the random crop (0: none)")
    ap.add_argument("--shots", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    cfg = load_config(args.params)
    root = Path(cfg.data.root)
    filelist = read_filelist(root / "FileList.csv")
    fs = few_shot(filelist, args.shots, seed=args.seed)
    clip = dict(length=cfg.clip.length, period=cfg.clip.period, targets=("EF",))
    seed_everything(args.seed)
    model = CardiacCLIP(cfg.model_config(args.method)).eval()
    rows = [{"split": "VAL", "pad": 0, "videos": int((filelist.Split == "VAL").sum()),
             "mae": mae(model, EchoNet(root, "VAL", filelist=filelist, **clip))}]
    for pad in (int(p) for p in args.pads.split(",")):
        ds = EchoNet(root, "TRAIN", filelist=fs, pad=pad or None, seed=args.seed, **clip)   # same clips, shifted
        rows.append({"split": f"TRAIN {args.shots}-shot", "pad": pad, "videos": len(ds), "mae": mae(model, ds)})
    df = pd.DataFrame(rows)
    print(f"{args.method} before training ({cfg.model.name}), MAE by split and TRAIN shift pad:")
    print(df.round(2).to_string(index=False))
    return df


if __name__ == "__main__":
    main()
