"""Diagnostic: does interpolating the fine-tuned image encoder back towards its pretrained weights help on VAL?

Weight-space ensembling (WiSE-FT, Wortsman et al., CVPR 2022) keeps a fine-tuned CLIP closer to what pretraining
learned: theta(alpha) = (1 - alpha) * theta_pretrained + alpha * theta_fine-tuned. Here it is applied to the image
group only (the image tower and EchoZoom's projection, whose starting values are fixed by the pretrained weights); the
modules that pretraining never saw (MFL, the head's refinement) keep their fine-tuned values, and the text tower is
frozen in the CPU profile anyway. The script reads one method's trained checkpoints
(`runs/fewshot/<shots>/<method>-<seed>/ckpt/best.pt`) and reports **VAL** MAE (never TEST) for each alpha; alpha = 1
is the model as trained. Run from the repository root:

    python experiments/wise_ft.py --method cardiacclip --out experiments/results/wise_ft.csv

Found (old synthetic world, VAL150): as trained 7.59/7.81/7.67/6.85 at 1/2/4/8 shots, alpha 0 (the pretrained image
tower under the tuned MFL and head) 7.50/7.29/7.11/7.14: no alpha was better at every shot count. The current
world's table is in experiments/results/wise_ft.csv and the findings chapter (nbs/30_findings.ipynb).
"""
import argparse
import pandas as pd
import torch
from cardiacclip.config import load_config
from cardiacclip.model import CardiacCLIP
from cardiacclip.trainer import predict
from checkpoints import val_videos, trained_checkpoints


@torch.no_grad()
def interpolate_image(model: CardiacCLIP, start: dict, tuned: dict, alpha: float) -> CardiacCLIP:
    "Set `model`'s image-side parameters (`image_params`) to (1 - alpha) * start + alpha * tuned (dicts of tensors by name), in place."
    names = {id(p): n for n, p in model.named_parameters()}
    for p in image_params(model):
        n = names[id(p)]
        p.copy_(torch.lerp(start[n], tuned[n], alpha))
    return model


def image_params(model: CardiacCLIP) -> list:
    "The image encoder's parameters and EchoZoom's projection (its own group, `zoom`, since it is a new layer)."
    return model.groups()["image"] + model.groups()["zoom"]


def image_state(model: CardiacCLIP) -> dict:
    "Copies of the image-side parameters (`image_params`) by name."
    names = {id(p): n for n, p in model.named_parameters()}
    return {names[id(p)]: p.detach().clone() for p in image_params(model)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", default="cardiacclip", help="a method that fine-tunes the image tower")
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--alphas", default="0,0.25,0.5,0.75,1")
    ap.add_argument("--out", default=None, help="write the per-checkpoint rows to this CSV")
    args = ap.parse_args(argv)
    cfg = load_config(args.params)
    _, val = val_videos(cfg)                                  # read once, predicted 60 times
    alphas = [float(a) for a in args.alphas.split(",")]
    rows = []
    for shots, seed, ckpt, model in trained_checkpoints(cfg, args.method):
        if "image" not in model.spec["train"]:
            raise SystemExit(f"{ckpt}: method {args.method!r} does not fine-tune the image tower")
        tuned, start = image_state(model), image_state(CardiacCLIP(model.config))
        for a in alphas:
            pred = predict(interpolate_image(model, start, tuned, a), val, device="cpu")
            mae = float((pred.pred - pred.EF).abs().mean())
            rows.append({"shots": shots, "seed": seed, "alpha": a, "val_mae": mae})
        print(f"{ckpt} done", flush=True)
    if args.out: pd.DataFrame(rows).assign(method=args.method).to_csv(args.out, index=False)
    table = pd.DataFrame(rows).pivot_table(index="alpha", columns="shots", values="val_mae").round(2)
    print(f"\nVAL MAE ({len(val)} videos), {args.method} with its image group at (1 - alpha) * pretrained + alpha * "
          f"fine-tuned, mean over seeds {cfg.fewshot.seeds}:")
    print(table.to_string())
    return pd.DataFrame(rows)


if __name__ == "__main__":
    main()
