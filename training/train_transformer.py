# Trains the Multi30k En->De Transformer twin; checkpoints every epoch and resumes automatically.
import argparse
import math
import os
import random
import time

import numpy as np
import torch
import torch.nn.functional as F

import mt_data
from bleu import corpus_bleu
from transformer import PAD_ID, MarianTransformer, greedy_batch

OUT_DIR = os.path.join(mt_data.HERE, "work", "transformer")


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="Train the Multi30k En-De Transformer.")
    ap.add_argument("--epochs", type=int, default=30, help="target number of epochs (resumable)")
    ap.add_argument("--max-tokens", type=int, default=2000, help="batch budget: sentences * longest side")
    ap.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    ap.add_argument("--warmup", type=int, default=800, help="inverse-sqrt warmup steps")
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--clip", type=float, default=1.0, help="gradient norm clip")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out-dir", default=OUT_DIR)
    ap.add_argument("--spm", default=mt_data.SPM_MODEL)
    ap.add_argument("--data", default=mt_data.DATA)
    ap.add_argument("--train-limit", type=int, default=0, help="use only the first N pairs (smoke tests)")
    ap.add_argument("--val-limit", type=int, default=0, help="use only the first N val pairs (smoke tests)")
    return ap.parse_args(argv)


def make_batches(src, tgt, max_tokens, rng, bucket=4000):
    """Shuffle, sort by length inside buckets of `bucket` pairs, cut by token budget, shuffle batches."""
    order = list(range(len(src)))
    rng.shuffle(order)
    batches = []
    for b in range(0, len(order), bucket):
        chunk = sorted(order[b:b + bucket], key=lambda i: (len(src[i]), len(tgt[i])))
        batch, longest = [], 0
        for i in chunk:
            n = max(longest, len(src[i]), len(tgt[i]) + 1)
            if batch and n * (len(batch) + 1) > max_tokens:
                batches.append(batch)
                batch, n = [], max(len(src[i]), len(tgt[i]) + 1)
            batch.append(i)
            longest = n
        if batch:
            batches.append(batch)
    rng.shuffle(batches)
    return batches


def collate(src, tgt, idx):
    """Source ids, source mask, decoder inputs ([pad] + tgt[:-1]) and labels (tgt, pad elsewhere)."""
    s = max(len(src[i]) for i in idx)
    t = max(len(tgt[i]) for i in idx)
    src_ids = torch.full((len(idx), s), PAD_ID, dtype=torch.long)
    tgt_in = torch.full((len(idx), t), PAD_ID, dtype=torch.long)
    labels = torch.full((len(idx), t), PAD_ID, dtype=torch.long)
    for row, i in enumerate(idx):
        src_ids[row, :len(src[i])] = torch.tensor(src[i])
        tgt_in[row, 1:len(tgt[i])] = torch.tensor(tgt[i][:-1])
        labels[row, :len(tgt[i])] = torch.tensor(tgt[i])
    src_mask = torch.arange(s)[None, :] < torch.tensor([len(src[i]) for i in idx])[:, None]
    return src_ids, src_mask, tgt_in, labels


def inverse_sqrt(warmup):
    return lambda step: min((step + 1) / warmup, math.sqrt(warmup / (step + 1)))


def build(args):
    model = MarianTransformer()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.98), eps=1e-9)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, inverse_sqrt(args.warmup))
    return model, opt, sched


def rng_states():
    return {"torch": torch.get_rng_state(), "python": random.getstate(), "numpy": np.random.get_state()}


def set_rng_states(s):
    torch.set_rng_state(s["torch"])
    random.setstate(s["python"])
    np.random.set_state(s["numpy"])


def save_atomic(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def checkpoint(model, opt, sched, epoch, step, bleu, best, args):
    return {"model": model.state_dict(), "config": model.config, "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(), "epoch": epoch, "step": step, "val_bleu": bleu, "best_bleu": best,
            "rng": rng_states(), "args": vars(args)}


def resume(path, model, opt, sched):
    """Loads ckpt_last.pt if present; returns (epochs done, step, best val BLEU)."""
    if not os.path.exists(path):
        return 0, 0, -1.0
    ck = torch.load(path)
    model.load_state_dict(ck["model"])
    opt.load_state_dict(ck["optimizer"])
    sched.load_state_dict(ck["scheduler"])
    set_rng_states(ck["rng"])
    return ck["epoch"], ck["step"], ck["best_bleu"]


def train_epoch(model, opt, sched, data, args, epoch, step, log):
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
        sched.step()
        step += 1
        total_loss, total_tok = total_loss + loss.item(), total_tok + ntok
        if step % 50 == 0:
            log(f"  epoch {epoch} batch {bi + 1}/{len(batches)} step {step} loss {loss.item() / ntok:.4f} "
                f"lr {sched.get_last_lr()[0]:.2e} {time.time() - t0:.0f}s", to_file=False)
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


def make_logger(path):
    def log(msg, to_file=True):
        if to_file:
            with open(path, "a") as f:
                f.write(msg + "\n")
        print(msg, flush=True)
    return log


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
        loss, step = train_epoch(model, opt, sched, (tr_src, tr_tgt), args, epoch, step, log)
        t1 = time.time()
        bleu = corpus_bleu(translate(model, sp, va_src), va_ref)
        t2 = time.time()
        is_best = bleu > best
        best = max(best, bleu)
        ck = checkpoint(model, opt, sched, epoch, step, bleu, best, args)
        save_atomic(ck, last)
        if is_best:
            save_atomic(ck, os.path.join(args.out_dir, "ckpt_best.pt"))
        log(f"epoch {epoch} step {step} loss {loss:.4f} val_bleu {bleu:.2f} best {best:.2f} "
            f"train_s {t1 - t0:.1f} val_s {t2 - t1:.1f} epoch_s {time.time() - t0:.1f}")


if __name__ == "__main__":
    main()
