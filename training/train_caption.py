# Trains caption-scenes (Show, Attend and Tell on generated scenes); checkpoints every epoch, resumes automatically.
"""Every batch is generated on the fly from its number (training/scenes.py, split "train"), so an epoch sees new
scenes and a resumed run sees exactly the scenes it would have seen. The target caption of a scene is its canonical
phrasing half of the time, otherwise one of the others. After each epoch: greedy caption-content accuracy and
pointing game on --val-count validation scenes; ckpt_last.pt always, ckpt_best.pt on the best content accuracy
(pointing breaks ties), both written tmp + rename."""
import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import caption_model  # noqa: E402
import evaluate_caption  # noqa: E402
import scenes  # noqa: E402
from caption_model import BOS_ID, PAD_ID, ShowAttendTell  # noqa: E402
import train_common  # noqa: E402
from train_common import rng_states, save_atomic  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "work", "caption")


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--epochs", type=int, default=40, help="target number of epochs (resumable)")
    ap.add_argument("--steps-per-epoch", type=int, default=500)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3, help="initial Adam learning rate")
    ap.add_argument("--lr-factor", type=float, default=0.5, help="lr multiplier when val accuracy stops improving")
    ap.add_argument("--lr-patience", type=int, default=2)
    ap.add_argument("--min-lr", type=float, default=1e-5)
    ap.add_argument("--alpha-c", type=float, default=0.05, help="weight of the doubly stochastic regulariser")
    ap.add_argument("--attn-supervision", type=float, default=0.0,
                    help="weight of the attention supervision term (0: plain Show, Attend and Tell); each noun "
                         "phrase's steps are pulled towards the named objects' pixels (caption_model.loss)")
    ap.add_argument("--dropout", type=float, default=0.3)
    ap.add_argument("--conv-channels", default="32,64,96,128,128",
                    help="output channels of the 3x3 convolutions, comma-separated")
    ap.add_argument("--pool-after", default="1,1,1,0,0",
                    help="1 where a 2x2 max-pooling follows that convolution (three pools: a 12x12 grid)")
    ap.add_argument("--no-batchnorm", dest="batchnorm", action="store_false",
                    help="train the CNN without BatchNorm (with it, export folds BN into the convolutions)")
    ap.add_argument("--clip", type=float, default=5.0, help="gradient norm clip")
    ap.add_argument("--canonical", type=float, default=0.5, help="chance of the canonical phrasing")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--workers", type=int, default=0, help="DataLoader processes generating scenes")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--val-count", type=int, default=500)
    ap.add_argument("--out-dir", default=OUT_DIR)
    return ap.parse_args(argv)


class SceneBatches(torch.utils.data.Dataset):
    """Item g is global batch g: images uint8 [B,S,S,3], decoder inputs and labels [B,T] (padded)."""

    def __init__(self, args, config, index):
        self.args, self.config, self.size, self.index = args, config, config["image_size"], index

    def __len__(self):
        return 1 << 30

    def __getitem__(self, g):
        imgs, caps, targets = [], [], []
        grid = caption_model.grid_size(self.config)
        for j in range(self.args.batch):
            i = g * self.args.batch + j
            s = scenes.make_scene("train", i, self.size)
            pick = np.random.default_rng([self.args.seed, i])
            phr = s["captions"]
            text = phr[0] if pick.uniform() < self.args.canonical or len(phr) == 1 else phr[1 + pick.integers(len(phr) - 1)]
            imgs.append(s["image"]), caps.append(caption_model.encode_caption(text, self.index))
            if self.args.attn_supervision > 0:
                targets.append(caption_model.attention_targets(text.split(), s["objects"], s["masks"], grid))
        t = max(len(c) for c in caps)
        attn = torch.zeros((len(caps), t, grid * grid)) if targets else torch.zeros(0)
        for b, tg in enumerate(targets):
            attn[b, :len(tg)] = torch.from_numpy(tg)
        labels = torch.full((len(caps), t), PAD_ID, dtype=torch.long)
        tgt_in = torch.full((len(caps), t), PAD_ID, dtype=torch.long)
        for b, c in enumerate(caps):
            labels[b, :len(c)] = torch.tensor(c)
            tgt_in[b, 0] = BOS_ID
            tgt_in[b, 1:len(c)] = torch.tensor(c[:-1])
        return torch.from_numpy(np.stack(imgs)), tgt_in, labels, attn


def build(args, vocab):
    config = {"vocab_size": len(vocab), "dropout": args.dropout, "batchnorm": args.batchnorm,
              "conv_channels": [int(v) for v in args.conv_channels.split(",")],
              "pool_after": [int(v) for v in args.pool_after.split(",")]}
    model = ShowAttendTell(config).to(args.device)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=args.lr_factor,
                                                       patience=args.lr_patience, min_lr=args.min_lr)
    return model, opt, sched


def resume(path, model, opt, sched):
    """Loads ckpt_last.pt if present; returns (epochs done, step, best (accuracy, pointing))."""
    ck = train_common.load_checkpoint(path, model, opt, sched)
    return (0, 0, (-1.0, -1.0)) if ck is None else (ck["epoch"], ck["step"], tuple(ck["best"]))


def train_epoch(model, opt, loader, args, epoch, step, log):
    model.train()
    total_ce, total_tok, t0 = 0.0, 0, time.time()
    for k, (imgs, tgt_in, labels, attn) in enumerate(loader):
        imgs = caption_model.images_tensor(imgs).to(args.device)
        loss, ce, n = caption_model.loss(model, imgs, tgt_in.to(args.device), labels.to(args.device), args.alpha_c,
                                         attn.to(args.device) if attn.numel() else None, args.attn_supervision)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        step += 1
        total_ce, total_tok = total_ce + ce, total_tok + n
        if (k + 1) % 50 == 0 or k + 1 == args.steps_per_epoch:
            log(f"epoch {epoch} step {k + 1}/{args.steps_per_epoch} ce/token {total_ce / total_tok:.4f} "
                f"loss {float(loss):.3f} {time.time() - t0:.0f}s", to_file=False)
        if k + 1 == args.steps_per_epoch:
            break
    return total_ce / max(1, total_tok), step


def main(argv=None):
    args = parse_args(argv)
    log = train_common.start_run(args)
    vocab = caption_model.vocabulary()
    index = {w: i for i, w in enumerate(vocab)}
    model, opt, sched = build(args, vocab)
    last = os.path.join(args.out_dir, "ckpt_last.pt")
    done, step, best = resume(last, model, opt, sched)
    log(f"parameters {caption_model.param_count(model)}, device {args.device}, resuming after epoch {done}" if done
        else f"parameters {caption_model.param_count(model)}, device {args.device}, args {vars(args)}")
    c = model.config
    val = evaluate_caption.scene_set("val", args.val_count, c["image_size"], caption_model.grid_size(c))
    data = SceneBatches(args, c, index)
    for epoch in range(done + 1, args.epochs + 1):
        first = (epoch - 1) * args.steps_per_epoch
        sampler = range(first, first + args.steps_per_epoch)
        loader = torch.utils.data.DataLoader(data, batch_size=None, sampler=sampler, num_workers=args.workers)
        t0 = time.time()
        ce, step = train_epoch(model, opt, loader, args, epoch, step, log)
        r = evaluate_caption.score(model, val, vocab, args.device, examples=1)
        sched.step(r["content_accuracy"])
        now = (r["content_accuracy"], r["pointing"])
        ck = {"model": model.state_dict(), "config": model.config, "vocab": vocab, "optimizer": opt.state_dict(),
              "scheduler": sched.state_dict(), "epoch": epoch, "step": step, "val": r, "best": max(best, now),
              "rng": rng_states(), "args": vars(args)}
        if now > best:
            best = now
            save_atomic(ck, os.path.join(args.out_dir, "ckpt_best.pt"))
        save_atomic(ck, last)
        log(f"epoch {epoch} step {step} train ce/token {ce:.4f} val content {r['content_accuracy']:.4f} "
            f"pointing {r['pointing']:.4f} lr {opt.param_groups[0]['lr']:.2e} {time.time() - t0:.0f}s "
            f"e.g. \"{r['examples'][0] if r['examples'] else ''}\"")


if __name__ == "__main__":
    main()
