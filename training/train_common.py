# What every translation trainer shares: batching, checkpoints written tmp + rename, resume
# (also from the middle of an epoch), per-epoch logging with times, validation BLEU per domain,
# and the choice of corpus (Multi30k, or the general everyday + news + Multi30k mix).
#
# A trainer (train_transformer.py, train_rnn.py) gives its model, optimiser, scheduler, its
# collate and greedy functions to `fit`; `fit` runs the epochs.
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

import mt_data
from bleu import corpus_bleu

PAD_ID = 0
CORPORA = ("multi30k", "general-de", "general-fr")


def add_common_args(ap, epochs, max_tokens, work_name):
    ap.add_argument("--epochs", type=int, default=epochs, help="target number of epochs (resumable)")
    ap.add_argument("--max-tokens", type=int, default=max_tokens, help="batch budget: sentences * longest side")
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--clip", type=float, default=1.0, help="gradient norm clip")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--corpus", default="multi30k", choices=CORPORA,
                    help="multi30k (image descriptions) or the general mix of mt_corpus.py")
    ap.add_argument("--out-dir", default=None, help=f"default work/{work_name}[-general-XX]")
    ap.add_argument("--spm", default=None, help="default work/spm/ende.model or work/spm/enXX-general.model")
    ap.add_argument("--data", default=mt_data.DATA, help="Multi30k directory (corpus multi30k)")
    ap.add_argument("--save-every", type=int, default=300,
                    help="also checkpoint every N steps inside an epoch (resumes from there)")
    ap.add_argument("--train-limit", type=int, default=0, help="use only the first N pairs (smoke tests)")
    ap.add_argument("--val-limit", type=int, default=0, help="use only the first N val pairs (smoke tests)")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after N steps in total (smoke tests)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (validation always decodes on the CPU)")
    ap.add_argument("--keep-epochs", type=int, default=0,
                    help="also keep the weights of the last N epochs as ckpt_epochE.pt, for "
                         "average_checkpoints.py")
    ap.add_argument("--set-lr", type=float, default=0.0,
                    help="on resuming, set the learning rate to this (a manual decay; the plateau scheduler goes "
                         "on from there)")
    ap.add_argument("--bf16", action="store_true",
                    help="matrix products in bfloat16 (autocast; weights, loss and optimiser stay float32)")
    ap.work_name = work_name


def finish_args(ap, argv=None):
    args = ap.parse_args(argv)
    general = args.corpus != "multi30k"
    if args.out_dir is None:
        args.out_dir = os.path.join(mt_data.HERE, "work", ap.work_name + ("-" + args.corpus if general else ""))
    if args.spm is None:
        args.spm = (os.path.join(mt_data.HERE, "work", "spm", f"en{args.corpus[-2:]}-general.model")
                    if general else mt_data.SPM_MODEL)
    return args


def load_data(args, sp):
    """(train src, train tgt, {domain: (val src ids, val refs)}, description for the log)."""
    if args.corpus == "multi30k":
        tr_src, tr_tgt, _ = mt_data.load_pairs(sp, "train", args.data, args.train_limit)
        va_src, _, va_ref = mt_data.load_pairs(sp, "val", args.data, args.val_limit)
        return tr_src, tr_tgt, {"multi30k": (va_src, va_ref)}, {"multi30k": len(tr_src)}
    import mt_corpus
    lang = args.corpus[-2:]
    tr_src, tr_tgt, counts = mt_corpus.training_data(sp, lang, limit=args.train_limit)
    val = {}
    for dom, pairs in mt_corpus.validation_sets(lang).items():
        if args.val_limit:
            pairs = pairs[:args.val_limit]
        val[dom] = ([mt_data.encode(sp, en) for en, _ in pairs], [xx for _, xx in pairs])
    desc = {d: f"{n} pairs, {k} kept, x{m}" for d, (n, k, m) in counts.items()}
    desc["fingerprint"] = mt_corpus.fingerprint(lang)
    return tr_src, tr_tgt, val, desc


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


def collate(src, tgt, idx, start_id=PAD_ID):
    """Source ids, source mask, decoder inputs ([start] + tgt[:-1]) and labels (tgt, pad elsewhere)."""
    s = max(len(src[i]) for i in idx)
    t = max(len(tgt[i]) for i in idx)
    src_ids = torch.full((len(idx), s), PAD_ID, dtype=torch.long)
    tgt_in = torch.full((len(idx), t), PAD_ID, dtype=torch.long)
    labels = torch.full((len(idx), t), PAD_ID, dtype=torch.long)
    for row, i in enumerate(idx):
        src_ids[row, :len(src[i])] = torch.tensor(src[i])
        tgt_in[row, 1:len(tgt[i])] = torch.tensor(tgt[i][:-1])
        labels[row, :len(tgt[i])] = torch.tensor(tgt[i])
    tgt_in[:, 0] = start_id
    src_mask = torch.arange(s)[None, :] < torch.tensor([len(src[i]) for i in idx])[:, None]
    return src_ids, src_mask, tgt_in, labels


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


def checkpoint(model, opt, sched, epoch, step, bleu, best, args, batch_in_epoch=0, extra=None):
    """`epoch` = epochs completed; batch_in_epoch > 0 marks a checkpoint inside epoch+1."""
    ck = {"model": model.state_dict(), "config": model.config, "optimizer": opt.state_dict(),
          "scheduler": sched.state_dict(), "epoch": epoch, "step": step, "val_bleu": bleu, "best_bleu": best,
          "rng": rng_states(), "args": vars(args), "batch_in_epoch": batch_in_epoch}
    ck.update(extra or {})
    return ck


def keep_epoch(ck, out_dir, epoch, keep):
    """Writes the weights of this epoch (no optimiser state) as ckpt_epochE.pt and removes the
    ones more than `keep` epochs old."""
    save_atomic({k: v for k, v in ck.items() if k not in ("optimizer", "scheduler", "rng")},
                os.path.join(out_dir, f"ckpt_epoch{epoch}.pt"))
    old = os.path.join(out_dir, f"ckpt_epoch{epoch - keep}.pt")
    if os.path.exists(old):
        os.remove(old)


def load_checkpoint(path, model, opt, sched):
    """Loads ckpt_last.pt if present; returns the checkpoint dict (without weights) or None. The
    optimizer state follows the model's device (move the model first)."""
    if not os.path.exists(path):
        return None
    ck = torch.load(path, map_location="cpu")
    model.load_state_dict(ck["model"])
    opt.load_state_dict(ck["optimizer"])
    sched.load_state_dict(ck["scheduler"])
    set_rng_states(ck["rng"])
    return ck


def resume(path, model, opt, sched):
    """Loads ckpt_last.pt if present; returns (epochs done, step, best val BLEU)."""
    ck = load_checkpoint(path, model, opt, sched)
    if ck is None:
        return 0, 0, -1.0
    return ck["epoch"], ck["step"], ck["best_bleu"]


def make_logger(path):
    def log(msg, to_file=True):
        if to_file:
            with open(path, "a") as f:
                f.write(msg + "\n")
        print(msg, flush=True)
    return log


def translate(greedy_batch, model, sp, srcs, batch=64):
    """Greedy translations (detokenised strings) in input order, batched by source length."""
    order = sorted(range(len(srcs)), key=lambda i: len(srcs[i]))
    out = [None] * len(srcs)
    model.eval()
    for b in range(0, len(order), batch):
        idx = order[b:b + batch]
        for i, ids in zip(idx, greedy_batch(model, [srcs[i] for i in idx])):
            out[i] = mt_data.decode(sp, ids)
    return out


def validate(greedy_batch, model, sp, val):
    """{domain: greedy BLEU} and their mean (the number that picks ckpt_best.pt), decoded on the
    CPU (the twins' search builds its tensors there); the model returns to its device."""
    device = next(model.parameters()).device
    model.cpu()
    scores = {dom: corpus_bleu(translate(greedy_batch, model, sp, src), refs) for dom, (src, refs) in val.items()}
    model.to(device)
    return scores, sum(scores.values()) / len(scores)


TCMALLOC = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"


def use_tcmalloc():
    """Re-runs this process with tcmalloc (Debian's libtcmalloc-minimal4) preloaded. glibc malloc
    hands every tensor over 32 MB (the [tokens, vocab] logits and their gradients) back to the
    kernel and faults it in again, zeroed, on the next step: with tcmalloc a 2,000-token step of
    the general Transformer took 1.3 s instead of 3.1 s (float32) and 0.5 s instead of 1.9 s
    (--bf16), one thread, this 2-core machine under load (see README "Training speed")."""
    if "tcmalloc" in os.environ.get("LD_PRELOAD", "") or not os.path.exists(TCMALLOC):
        return
    env = dict(os.environ, LD_PRELOAD=TCMALLOC)
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def start_run(args):
    """What every trainer does first: tcmalloc, its thread count and seeds (torch, random, numpy),
    its output directory, and the logger of train.log there."""
    if args.device == "cpu":
        use_tcmalloc()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    os.makedirs(args.out_dir, exist_ok=True)
    return make_logger(os.path.join(args.out_dir, "train.log"))


def fit(args, model, opt, sched, *, collate_fn, greedy_batch, per_step_sched, plateau_sched=False):
    """Trains to args.epochs, resuming from ckpt_last.pt (also mid-epoch); one log line per epoch."""
    log = start_run(args)
    sp = mt_data.load_spm(args.spm)
    tr_src, tr_tgt, val, desc = load_data(args, sp)
    device = torch.device(args.device)
    model.to(device)
    last = os.path.join(args.out_dir, "ckpt_last.pt")
    ck = load_checkpoint(last, model, opt, sched)
    done, step, best = (ck["epoch"], ck["step"], ck["best_bleu"]) if ck else (0, 0, -1.0)
    skip = ck.get("batch_in_epoch", 0) if ck else 0
    spent = ck.get("epoch_train_s", 0.0) if ck else 0.0
    if ck and ck.get("data") not in (None, desc.get("fingerprint")):
        raise SystemExit(f"{last} was trained on other data ({ck.get('data')}); use another --out-dir")
    if getattr(args, "set_lr", 0.0) and ck:
        for g in opt.param_groups:
            g["lr"] = args.set_lr
        log(f"learning rate set to {args.set_lr:g} (--set-lr)")
    n_params = sum(p.numel() for p in model.parameters())
    log(f"start: epochs done {done}/{args.epochs}, batch {skip}, step {step}, best BLEU {best:.2f}, "
        f"params {n_params}, train pairs {len(tr_src)} {desc}, args {vars(args)}")
    for epoch in range(done + 1, args.epochs + 1):
        model.train()
        batches = make_batches(tr_src, tr_tgt, args.max_tokens, random.Random(args.seed * 1000 + epoch))
        t0 = time.time() - spent
        total_loss, total_tok = 0.0, 0
        for bi in range(skip, len(batches)):
            src_ids, src_mask, tgt_in, labels = (t.to(device) for t in collate_fn(tr_src, tr_tgt, batches[bi]))
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16):
                logits = model(src_ids, src_mask, tgt_in)
            logits = logits.float()
            ntok = int((labels != PAD_ID).sum())
            loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), labels.view(-1), ignore_index=PAD_ID,
                                   label_smoothing=args.label_smoothing, reduction="sum")
            opt.zero_grad(set_to_none=True)
            (loss / ntok).backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            opt.step()
            if per_step_sched:
                sched.step()
            step += 1
            total_loss, total_tok = total_loss + loss.item(), total_tok + ntok
            if step % 50 == 0:
                log(f"  epoch {epoch} batch {bi + 1}/{len(batches)} step {step} loss {loss.item() / ntok:.4f} "
                    f"lr {opt.param_groups[0]['lr']:.2e} {time.time() - t0:.0f}s", to_file=False)
            if args.save_every and (bi + 1) % args.save_every == 0 and bi + 1 < len(batches):
                save_atomic(checkpoint(model, opt, sched, epoch - 1, step, None, best, args, bi + 1,
                                       {"data": desc.get("fingerprint"), "epoch_train_s": time.time() - t0}),
                            last)
                log(f"  saved mid-epoch checkpoint: epoch {epoch} batch {bi + 1}/{len(batches)} step {step}",
                    to_file=False)
            if args.max_steps and step >= args.max_steps:
                break
        skip, spent = 0, 0.0
        t1 = time.time()
        scores, bleu = validate(greedy_batch, model, sp, val)
        t2 = time.time()
        if plateau_sched:
            sched.step(bleu)
        is_best = bleu > best
        best = max(best, bleu)
        ck = checkpoint(model, opt, sched, epoch, step, bleu, best, args, 0,
                        {"data": desc.get("fingerprint"), "val_scores": scores})
        save_atomic(ck, last)
        if is_best:
            save_atomic(ck, os.path.join(args.out_dir, "ckpt_best.pt"))
        if getattr(args, "keep_epochs", 0):
            keep_epoch(ck, args.out_dir, epoch, args.keep_epochs)
        per = " ".join(f"{d} {s:.2f}" for d, s in scores.items())
        log(f"epoch {epoch} step {step} loss {total_loss / max(total_tok, 1):.4f} val_bleu {bleu:.2f} ({per}) "
            f"best {best:.2f} lr {opt.param_groups[0]['lr']:.2e} train_s {t1 - t0:.1f} val_s {t2 - t1:.1f} "
            f"epoch_s {time.time() - t0:.1f}")
        if args.max_steps and step >= args.max_steps:
            break
