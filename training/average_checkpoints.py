# Averages the weights of several checkpoints of one run (Vaswani et al. 2017, section 6.1:
# "the last 5 checkpoints"; Popel & Bojar 2018 measure +0.2..+1 BLEU on small data). The
# result keeps the first checkpoint's config and arguments, and records what was averaged, so
# evaluate_general.py, golden_*.py and export_general.py treat it like any checkpoint.
#
#   /usr/bin/python3 training/average_checkpoints.py training/work/transformer-general-de/ckpt_epoch{17,18,19,20}.pt \
#       -o training/work/transformer-general-de/ckpt_avg.pt
import argparse
import os

import torch

from train_common import save_atomic


def average(paths):
    cks = [torch.load(p, map_location="cpu") for p in paths]
    first = cks[0]
    for p, ck in zip(paths, cks):
        if ck["config"] != first["config"] or ck["model"].keys() != first["model"].keys():
            raise SystemExit(f"{p}: another model than {paths[0]}")
    model = {}
    for name, t in first["model"].items():
        if t.is_floating_point():
            model[name] = (sum(ck["model"][name].double() for ck in cks) / len(cks)).to(t.dtype)
        else:
            model[name] = t
    last = max(cks, key=lambda c: c["epoch"])
    out = {k: v for k, v in last.items() if k not in ("optimizer", "scheduler", "rng", "model")}
    out.update(model=model, averaged=[{"path": os.path.basename(p), "epoch": c["epoch"], "step": c.get("step"),
                                       "set_lr": c.get("args", {}).get("set_lr", 0.0)}  # a manual decay, for the card
                                      for p, c in zip(paths, cks)])
    return out


def main():
    ap = argparse.ArgumentParser(description="Average the weights of checkpoints of one run.")
    ap.add_argument("checkpoints", nargs="+")
    ap.add_argument("-o", "--out", required=True)
    args = ap.parse_args()
    if len(args.checkpoints) < 2:
        raise SystemExit("give at least two checkpoints")
    out = average(args.checkpoints)
    save_atomic(out, args.out)
    print(f"{args.out}: mean of epochs {', '.join(str(a['epoch']) for a in out['averaged'])}")


if __name__ == "__main__":
    main()
