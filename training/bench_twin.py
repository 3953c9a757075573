# Times the PyTorch twin of a shipped translation model on given sentences (for `attnlens bench translate`).
"""usage: bench_twin.py MODEL_DIR SENTENCES.txt [--threads N]

Prints one JSON line: median milliseconds per sentence for greedy decoding and for beam 4,
batch 1, the same sentences and weights the C engine is timed on.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mt_data  # noqa: E402


def load(model_dir):
    cfg = json.load(open(os.path.join(model_dir, "config.json"), encoding="utf-8"))
    arch = (cfg.get("architectures") or [cfg.get("model_type")])[0]
    if arch == "MarianMTModel":
        import evaluate_transformer as ev
        from transformer import beam_search, greedy_batch
        model, spm_path = ev.load_model(model_dir)
        return model, spm_path, lambda s: greedy_batch(model, [s]), lambda s: beam_search(model, s, 4, 1.0)
    if arch == "BahdanauRNN":
        import evaluate_rnn as ev
        from rnn_attn import beam_search, greedy_batch
        model, spm_path = ev.load_model(model_dir)
        return model, spm_path, lambda s: greedy_batch(model, [s]), lambda s: beam_search(model, s, 4, 1.0)
    raise SystemExit(f"{model_dir}: no PyTorch twin for architecture {arch}")


def median_ms(fn, inputs):
    times = []
    for s in inputs:
        t0 = time.perf_counter()
        fn(s)
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("sentences")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, spm_path, greedy, beam = load(args.model_dir)
    sp = mt_data.load_spm(spm_path)
    with open(args.sentences, encoding="utf-8") as f:
        srcs = [mt_data.encode(sp, line.rstrip("\n")) for line in f if line.strip()]
    with torch.no_grad():
        greedy(srcs[0])  # warm-up
        result = {"greedy_ms": median_ms(greedy, srcs), "beam4_ms": median_ms(beam, srcs), "sentences": len(srcs),
                  "threads": args.threads, "torch": torch.__version__}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
