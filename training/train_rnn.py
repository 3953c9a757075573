# Trains the RNN with attention (Bahdanau et al. 2015) on Multi30k En->De or, with --corpus
# general-de|general-fr, the general mix of mt_corpus.py; checkpoints every epoch (and every
# --save-every steps) and resumes automatically. The loop itself is train_common.fit.
# `--attention none` trains the same network without attention (the decoder sees one fixed
# vector; rnn_attn.BahdanauRNN), into work/rnn-noattn[-general-XX].
import argparse

import torch

import train_common
from rnn_attn import ATTENTION_KINDS, BOS_ID, BahdanauRNN, greedy_batch


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="Train the En-De/En-Fr RNN with attention.")
    train_common.add_common_args(ap, epochs=25, max_tokens=3000, work_name="rnn")
    ap.add_argument("--lr", type=float, default=1e-3, help="initial Adam learning rate")
    ap.add_argument("--lr-factor", type=float, default=0.5, help="lr multiplier when val BLEU stops improving")
    ap.add_argument("--lr-patience", type=int, default=1, help="epochs without improvement before decaying")
    ap.add_argument("--min-lr", type=float, default=1e-5)
    ap.add_argument("--dropout", type=float, default=0.3, help="on embeddings and the maxout output")
    ap.add_argument("--vocab", type=int, default=8000, help="must match --spm")
    ap.add_argument("--attention", default="additive", choices=ATTENTION_KINDS,
                    help="additive (Bahdanau) or none (the encoder-decoder of Cho et al. 2014)")
    known, _ = ap.parse_known_args(argv)
    if known.attention == "none":
        ap.work_name = "rnn-noattn"
    return train_common.finish_args(ap, argv)


def collate(src, tgt, idx):
    """As the Transformer's batches, but the decoder starts from bos: inputs [bos] + tgt[:-1]."""
    return train_common.collate(src, tgt, idx, start_id=BOS_ID)


def build(args):
    model = BahdanauRNN({"dropout": args.dropout, "vocab_size": args.vocab, "attention": args.attention})
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=args.lr_factor,
                                                       patience=args.lr_patience, min_lr=args.min_lr)
    return model, opt, sched


def main(argv=None):
    args = parse_args(argv)
    model, opt, sched = build(args)
    train_common.fit(args, model, opt, sched, collate_fn=collate, greedy_batch=greedy_batch,
                     per_step_sched=False, plateau_sched=True)


if __name__ == "__main__":
    main()
