"""Diagnostic: would correcting the NumCLIP head for the k-shot sets' EF distribution close the gap to zero-shot?

A k-shot set holds k videos per integer EF value, a flat EF distribution; VAL and TEST follow the natural one. This
script reads the trained checkpoints of one method (`runs/fewshot/<shots>/<method>-<seed>/ckpt/best.pt`, from
`dvc repro` or `dvc pull`), and reports **VAL** MAE (never TEST) of the category read-out as trained, with the logits
shifted by log(natural prior / k-shot prior) (Saerens et al., 2002; the natural prior is the category frequency of the
whole TRAIN split), and with that shift plus a temperature T on the logits. Run from the repository root:

    python experiments/prior_shift.py --method cardiacclip --out experiments/results/prior_shift.csv

Found (old synthetic world, VAL150, 1/2/4/8 shots): as trained 8.23/8.03/6.80/6.00, prior shift 7.05/7.03/6.52/5.83,
with halved logits 6.41/6.33/5.95/5.60 against zero-shot 6.20. The current world's table is in
experiments/results/prior_shift.csv and the findings chapter (nbs/30_findings.ipynb). Training with the shift
(logit adjustment, `train.prior_adjust`) is an option of the pipeline, off by default.
"""
import argparse
import pandas as pd
import torch
from cardiacclip.config import load_config
from cardiacclip.data import few_shot
from cardiacclip.head import category_prior     # add-one-half smoothed category frequencies
from checkpoints import val_videos, trained_checkpoints


@torch.no_grad()
def head_terms(model, ds, batch_size=16):
    "Category logits (N, 5), the refined value of each category (N, 5) and the true EF (N,) for every video of `ds`."
    logits, values, ef = [], [], []
    for video, y in torch.utils.data.DataLoader(ds, batch_size=batch_size):
        out = model(video)
        logits.append(out["logits"].float()); values.append(out["values"]); ef.append(y["EF"].float())
    return torch.cat(logits), torch.cat(values), torch.cat(ef)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", default="cardiacclip", help="a method with the NumCLIP head (cardiacclip or coop)")
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--temperatures", default="0.5,1,2,4")
    ap.add_argument("--out", default=None, help="write the per-checkpoint rows to this CSV")
    args = ap.parse_args()
    cfg = load_config(args.params)
    filelist, val = val_videos(cfg)
    natural = category_prior(filelist[filelist.Split == "TRAIN"].EF)
    temps = [float(t) for t in args.temperatures.split(",")]
    rows = []
    for shots, seed, ckpt, model in trained_checkpoints(cfg, args.method):
        if not hasattr(model.head, "bins"):
            raise SystemExit(f"{ckpt}: method {args.method!r} has no category head")
        fs = few_shot(filelist, shots, seed=seed)
        shift = (natural / category_prior(fs[fs.Split == "TRAIN"].EF)).log()
        logits, values, ef = head_terms(model, val)
        for t in temps:
            for name, s in (("as trained", 0 * shift), ("prior shift", shift)):
                pred = ((logits / t + s).softmax(-1) * values).sum(-1)
                rows.append({"shots": shots, "seed": seed, "T": t, "read-out": name, "val_mae": float((pred - ef).abs().mean())})
        print(f"{ckpt} done", flush=True)
    if args.out: pd.DataFrame(rows).assign(method=args.method).to_csv(args.out, index=False)
    table = pd.DataFrame(rows).pivot_table(index=["read-out", "T"], columns="shots", values="val_mae").round(2)
    print(f"\nVAL MAE (synthetic unless the data says otherwise), {args.method}, mean over seeds {cfg.fewshot.seeds}:")
    print(table.to_string())


if __name__ == "__main__":
    main()
