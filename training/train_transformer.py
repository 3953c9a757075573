# Trains the En->De Transformer twin (Multi30k, or `--corpus general-de|general-fr`: the general
# everyday + news mix of mt_corpus.py); checkpoints every epoch (and every --save-every steps)
# and resumes automatically. The loop itself is train_common.fit.
import argparse
import math

import torch

import train_common
from transformer import DEFAULT_CONFIG, MarianTransformer, greedy_batch


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="Train the En-De/En-Fr Transformer.")
    train_common.add_common_args(ap, epochs=30, max_tokens=2000, work_name="transformer")
    ap.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    ap.add_argument("--warmup", type=int, default=800, help="inverse-sqrt warmup steps")
    ap.add_argument("--vocab", type=int, default=DEFAULT_CONFIG["vocab_size"], help="must match --spm")
    return train_common.finish_args(ap, argv)


def inverse_sqrt(warmup):
    return lambda step: min((step + 1) / warmup, math.sqrt(warmup / (step + 1)))


def build(args):
    model = MarianTransformer({"vocab_size": args.vocab})
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.98), eps=1e-9)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, inverse_sqrt(args.warmup))
    return model, opt, sched


def main(argv=None):
    args = parse_args(argv)
    model, opt, sched = build(args)
    train_common.fit(args, model, opt, sched, collate_fn=train_common.collate, greedy_batch=greedy_batch,
                     per_step_sched=True)


if __name__ == "__main__":
    main()
