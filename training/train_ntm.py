# Trains the NTM (ntm.py) on the copy task; checkpoints every few minutes and every epoch, resumes automatically.
"""Recipe (Graves et al. 2014, copy task; training choices of Collier & Beel 2018, "Implementing Neural Turing
Machines"): random 8-bit vectors, sequence length uniform in 1..20 (one length per batch, so no padding), batch 32,
Adam lr 1e-3, gradient norm clipped at 10, memory initialised to the constant 1e-6, learned initial read vector and
controller state. Loss: binary cross-entropy of the outputs during the copy phase (the L steps after the delimiter).

An "epoch" is --epoch-steps batches (data is generated, so the word only paces logging, evaluation and
checkpoints). After every epoch the bit error at lengths 10, 20 and 30 is measured on fixed sequences (seed 99);
ckpt_best.pt keeps the epoch with the lowest error at 10 + 20. Inside an epoch ckpt_last.pt is also written every
--save-every-s seconds, and a restart continues from the step it holds.

usage: /usr/bin/python3 training/train_ntm.py [--steps N] [--out-dir training/work/ntm]   (rerun to resume)
       /usr/bin/python3 training/train_ntm.py --report CHECKPOINT   bit error per length, peak write weight
"""
import argparse
import json
import math
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ntm import NTM, copy_inputs, random_sequences, parameter_count  # noqa: E402
from train_common import make_logger, save_atomic  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPORT_LENGTHS = [1, 2, 5, 10, 15, 20, 30, 40, 50, 64]


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="Train an NTM on the copy task.")
    ap.add_argument("--steps", type=int, default=100000, help="target number of batches (resumable)")
    ap.add_argument("--epoch-steps", type=int, default=500)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--optimizer", choices=["adam", "rmsprop"], default="adam")
    ap.add_argument("--clip", type=float, default=10.0, help="gradient norm clip")
    ap.add_argument("--min-len", type=int, default=1)
    ap.add_argument("--max-len", type=int, default=20)
    ap.add_argument("--curriculum", type=int, default=0, metavar="START",
                    help="start with lengths 1..START and add 2 whenever the running bit error of the last 50 "
                         "training batches is under 2%%, up to --max-len (0: no curriculum)")
    ap.add_argument("--controller-size", type=int, default=100)
    ap.add_argument("--memory-locations", type=int, default=128)
    ap.add_argument("--memory-width", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--save-every-s", type=float, default=180.0)
    ap.add_argument("--eval-count", type=int, default=64, help="sequences per length in the epoch evaluation")
    ap.add_argument("--out-dir", default=os.path.join(HERE, "work", "ntm"))
    ap.add_argument("--report", metavar="CHECKPOINT", help="only evaluate CHECKPOINT on every length and print JSON")
    ap.add_argument("--report-count", type=int, default=200)
    return ap.parse_args(argv)


@torch.no_grad()
def evaluate(model, length, count, seed=99, batch=100):
    """Bit error (% of output bits wrong, outputs thresholded at 0.5), wrong bits per sequence, mean peak write
    weight during the input steps, and the share of input steps whose write focus moved exactly one location (on or
    back: a head may as well walk the circular memory backwards)."""
    model.eval()
    gen = torch.Generator().manual_seed(seed * 1000 + length)
    wrong = peak = moved = 0.0
    n = 0
    for i in range(0, count, batch):
        b = min(batch, count - i)
        seq = random_sequences(b, length, model.config["bits"], gen)
        y, ww, _, _ = model(copy_inputs(seq), keep=True)
        out = (y[:, length + 1:] > 0.5).float()
        wrong += float((out != seq).sum())
        peak += float(ww[:, :length].max(-1).values.sum())
        if length > 1:
            N = ww.shape[-1]
            arg = ww[:, :length].argmax(-1)
            step = (arg[:, 1:] - arg[:, :-1]) % N
            moved += float(((step == 1) | (step == N - 1)).sum())  # one location on or back (either direction)
        n += b
    bits = n * length * model.config["bits"]
    model.train()
    return {"length": length, "sequences": n, "bit_error": 100.0 * wrong / bits, "bits_wrong_per_seq": wrong / n,
            "write_peak": peak / (n * length),
            "write_moves_one": 100.0 * moved / (n * (length - 1)) if length > 1 else None}


def report(path, count):
    ck = torch.load(path, map_location="cpu")
    model = NTM(ck["config"])
    model.load_state_dict(ck["model"])
    rows = [evaluate(model, L, count) for L in REPORT_LENGTHS if L <= model.config["max_sequence"]]
    print(json.dumps({"checkpoint": path, "step": ck["state"]["step"], "rows": rows}, indent=1))


def build(args):
    config = {"controller_size": args.controller_size, "memory_locations": args.memory_locations,
              "memory_width": args.memory_width}
    model = NTM(config)
    if args.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    else:
        opt = torch.optim.RMSprop(model.parameters(), lr=args.lr, momentum=0.9)
    return model, opt


def train_step(model, opt, args, rng, gen, top):
    L = rng.randint(args.min_len, top)
    seq = random_sequences(args.batch, L, model.config["bits"], gen)
    y = model(copy_inputs(seq))[:, L + 1:]
    loss = F.binary_cross_entropy(y.clamp(1e-7, 1 - 1e-7), seq)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
    if not math.isfinite(float(norm)):
        opt.zero_grad(set_to_none=True)  # skip a batch whose gradient overflowed
        return float("nan"), 1.0
    opt.step()
    return float(loss), float(((y > 0.5).float() != seq).float().mean())


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.report:
        report(args.report, args.report_count)
        return
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    os.makedirs(args.out_dir, exist_ok=True)
    log = make_logger(os.path.join(args.out_dir, "train.log"))
    model, opt = build(args)
    state = {"step": 0, "epoch": 0, "best": float("inf"), "seconds": 0.0}
    last = os.path.join(args.out_dir, "ckpt_last.pt")
    if os.path.exists(last):
        ck = torch.load(last, map_location="cpu")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        state = ck["state"]
        rng.setstate(ck["py_random"])
        gen.set_state(ck["gen_random"])
        torch.set_rng_state(ck["torch_random"])
    log(f"start: step {state['step']}/{args.steps}, params {parameter_count(model)}, args {vars(args)}")

    def save(path, extra=None):
        ck = {"model": model.state_dict(), "optimizer": opt.state_dict(), "state": state, "config": model.config,
              "args": vars(args), "arch": "ntm", "py_random": rng.getstate(), "gen_random": gen.get_state(),
              "torch_random": torch.get_rng_state()}
        ck.update(extra or {})
        save_atomic(ck, path)

    t_epoch, t_save, losses, errors = time.time(), time.time(), [], []
    state.setdefault("top", args.curriculum if args.curriculum else args.max_len)
    while state["step"] < args.steps:
        t0 = time.time()
        loss, err = train_step(model, opt, args, rng, gen, state["top"])
        losses.append(loss)
        errors = (errors + [err])[-50:]
        if state["top"] < args.max_len and len(errors) == 50 and sum(errors) / 50 < 0.02:
            state["top"], errors = min(args.max_len, state["top"] + 2), []
            log(f"  step {state['step']}: curriculum now lengths 1..{state['top']}")
        state["step"] += 1
        state["seconds"] += time.time() - t0
        if time.time() - t_save > args.save_every_s:
            save(last)
            t_save = time.time()
        if state["step"] % args.epoch_steps:
            continue
        state["epoch"] += 1
        ev = {L: evaluate(model, L, args.eval_count) for L in (10, 20, 30)}
        score = ev[10]["bit_error"] + ev[20]["bit_error"]
        best = score < state["best"]
        if best:
            state["best"] = score
        save(last, {"eval": ev})
        if best:
            save(os.path.join(args.out_dir, "ckpt_best.pt"), {"eval": ev})
        t_save = time.time()
        finite = [x for x in losses if math.isfinite(x)]
        log(f"epoch {state['epoch']} step {state['step']} loss {sum(finite) / max(len(finite), 1):.4f} "
            f"skipped {len(losses) - len(finite)} bit_error@10 {ev[10]['bit_error']:.2f}% @20 "
            f"{ev[20]['bit_error']:.2f}% @30 {ev[30]['bit_error']:.2f}% write_peak@20 {ev[20]['write_peak']:.3f} "
            f"moves_one@20 {ev[20]['write_moves_one']:.1f}% top {state['top']}{' *' if best else ''} "
            f"epoch_s {time.time() - t_epoch:.0f} train_s {state['seconds']:.0f}")
        t_epoch, losses = time.time(), []


if __name__ == "__main__":
    main()
