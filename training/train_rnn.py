# Trains the Multi30k En->De RNN with attention (Bahdanau et al. 2015); checkpoints every epoch, resumes automatically.
import argparse
import os
import random
import time

import numpy as np
import torch
import torch.nn.functional as F

import mt_data
from bleu import corpus_bleu
from rnn_attn import BOS_ID, PAD_ID, BahdanauRNN, greedy_batch
from train_transformer import checkpoint, make_batches, make_logger, resume, save_atomic
from train_transformer import collate as collate_marian

OUT_DIR = os.path.join(mt_data.HERE, "work", "rnn")


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="Train the Multi30k En-De RNN with attention.")
    ap.add_argument("--epochs", type=int, default=25, help="target number of epochs (resumable)")
    ap.add_argument("--max-tokens", type=int, default=3000, help="batch budget: sentences * longest side")
    ap.add_argument("--lr", type=float, default=1e-3, help="initial Adam learning rate")
    ap.add_argument("--lr-factor", type=float, default=0.5, help="lr multiplier when val BLEU stops improving")
    ap.add_argument("--lr-patience", type=int, default=1, help="epochs without improvement before decaying")
    ap.add_argument("--min-lr", type=float, default=1e-5)
    ap.add_argument("--dropout", type=float, default=0.3, help="on embeddings and the maxout output")
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--clip", type=float, default=1.0, help="gradient norm clip")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out-dir", default=OUT_DIR)
    ap.add_argument("--spm", default=mt_data.SPM_MODEL)
    ap.add_argument("--data", default=mt_data.DATA)
    ap.add_argument("--train-limit", type=int, default=0, help="use only the first N pairs (smoke tests)")
    ap.add_argument("--val-limit", type=int, default=0, help="use only the first N val pairs (smoke tests)")
    ap.add_argument("--max-steps", type=int, default=0, help="stop an epoch after N steps in total (smoke tests)")
    return ap.parse_args(argv)


def collate(src, tgt, idx):
    """As the Transformer's batches, but the decoder starts from bos: inputs [bos] + tgt[:-1]."""
    src_ids, src_mask, tgt_in, labels = collate_marian(src, tgt, idx)
    tgt_in[:, 0] = BOS_ID
    return src_ids, src_mask, tgt_in, labels


def build(args):
    model = BahdanauRNN({"dropout": args.dropout})
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=args.lr_factor,
                                                       patience=args.lr_patience, min_lr=args.min_lr)
    return model, opt, sched


def train_epoch(model, opt, data, args, epoch, step, log):
    """One pass over the training data; returns (mean label-smoothed loss per token, step)."""
    model.train()
    src, tgt = data
    batches = make_batches(src, tgt, args.max_tokens, random.Random(args.seed * 1000 + epoch))
    total_loss, total_tok, t0 = 0.0, 0, time.time()
    for bi, idx in enumerate(batches):
        src_ids, src_mask, tgt_in, labels = collate(src, tgt, idx)
        logits = model(src_ids, src_mask, tgt_in)
        ntok = int((labels != PAD_ID).sum())
        loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), labels.view(-1), ignore_index=PAD_ID,
                               label_smoothing=args.label_smoothing, reduction="sum")
        opt.zero_grad(set_to_none=True)
        (loss / ntok).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        step += 1
        total_loss, total_tok = total_loss + loss.item(), total_tok + ntok
        if step % 50 == 0:
            log(f"  epoch {epoch} batch {bi + 1}/{len(batches)} step {step} loss {loss.item() / ntok:.4f} "
                f"lr {opt.param_groups[0]['lr']:.2e} {time.time() - t0:.0f}s", to_file=False)
        if args.max_steps and step >= args.max_steps:
            break
    return total_loss / max(total_tok, 1), step


def translate(model, sp, srcs, batch=64):
    """Greedy translations (detokenised strings) in input order, batched by source length."""
    order = sorted(range(len(srcs)), key=lambda i: len(srcs[i]))
    out = [None] * len(srcs)
    for b in range(0, len(order), batch):
        idx = order[b:b + batch]
        for i, ids in zip(idx, greedy_batch(model, [srcs[i] for i in idx])):
            out[i] = mt_data.decode(sp, ids)
    return out


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    os.makedirs(args.out_dir, exist_ok=True)
    log = make_logger(os.path.join(args.out_dir, "train.log"))
    sp = mt_data.load_spm(args.spm)
    tr_src, tr_tgt, _ = mt_data.load_pairs(sp, "train", args.data, args.train_limit)
    va_src, _, va_ref = mt_data.load_pairs(sp, "val", args.data, args.val_limit)
    model, opt, sched = build(args)
    last = os.path.join(args.out_dir, "ckpt_last.pt")
    done, step, best = resume(last, model, opt, sched)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"start: epochs done {done}/{args.epochs}, step {step}, best BLEU {best:.2f}, params {n_params}, "
        f"train pairs {len(tr_src)}, args {vars(args)}")
    for epoch in range(done + 1, args.epochs + 1):
        t0 = time.time()
        loss, step = train_epoch(model, opt, (tr_src, tr_tgt), args, epoch, step, log)
        t1 = time.time()
        bleu = corpus_bleu(translate(model, sp, va_src), va_ref)
        t2 = time.time()
        sched.step(bleu)
        is_best = bleu > best
        best = max(best, bleu)
        ck = checkpoint(model, opt, sched, epoch, step, bleu, best, args)
        save_atomic(ck, last)
        if is_best:
            save_atomic(ck, os.path.join(args.out_dir, "ckpt_best.pt"))
        log(f"epoch {epoch} step {step} loss {loss:.4f} val_bleu {bleu:.2f} best {best:.2f} "
            f"lr {opt.param_groups[0]['lr']:.2e} train_s {t1 - t0:.1f} val_s {t2 - t1:.1f} "
            f"epoch_s {time.time() - t0:.1f}")


if __name__ == "__main__":
    main()
