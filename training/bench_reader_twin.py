# Times the PyTorch twin of a reading model on given questions (for `attnlens bench read`).
"""usage: bench_reader_twin.py MODEL_DIR QUESTIONS.jsonl [--threads N]

QUESTIONS.jsonl has one {"story": "...", "question": "..."} per line (the story one sentence per line). Each
question is timed alone (batch 1) from text to answer: tokenise, look up, forward, argmax, as the C reader does.
Prints one JSON line: the median milliseconds per question and the answers.
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import babi  # noqa: E402
import safetensors_io  # noqa: E402
from attentive_reader import AttentiveReader  # noqa: E402
from attentive_reader import pad_batch as reader_batch  # noqa: E402
from memn2n import MemN2N, pad_batch  # noqa: E402

MEMN2N_KEYS = ["vocab_size", "embed_dim", "hops", "memory_size", "max_sentence_words"]
READER_KEYS = ["vocab_size", "embed_dim", "hidden", "attn_dim", "max_sentences", "max_sentence_words"]


def load(model_dir):
    """(model in eval mode, vocab, architecture) from an exported reading model directory."""
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    arch = (cfg.get("architectures") or [cfg.get("model_type")])[0]
    if arch == "MemN2N":
        model = MemN2N({k: cfg[k] for k in MEMN2N_KEYS if k in cfg})
    elif arch == "AttentiveReader":
        model = AttentiveReader({k: cfg[k] for k in READER_KEYS if k in cfg})
    else:
        raise SystemExit(f"{model_dir}: no PyTorch twin for architecture {arch}")
    arrays, _ = safetensors_io.load_file(os.path.join(model_dir, "model.safetensors"))
    model.load_state_dict({k: torch.from_numpy(v.astype(np.float32)) for k, v in arrays.items()})
    vocab = babi.read_vocab(os.path.join(model_dir, cfg.get("attnlens", {}).get("vocab", "vocab.txt")))
    return model.eval(), vocab, arch


def answer(model, arch, index, vocab, story, question):
    ex = babi.Example(0, [babi.tokenize(s) for s in babi.story_lines(story)], babi.tokenize(question), "", [])
    c = model.config
    if arch == "MemN2N":
        logits, _ = model(*pad_batch([ex], index, c["memory_size"], c["max_sentence_words"]))
    else:
        logits, _ = model(*reader_batch([ex], index, c["max_sentences"], c["max_sentence_words"]))
    return vocab[int(logits[0, 1:].argmax()) + 1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("questions")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, vocab, arch = load(args.model_dir)
    index = {w: i for i, w in enumerate(vocab)}
    with open(args.questions, encoding="utf-8") as f:
        items = [json.loads(line) for line in f if line.strip()]
    times, answers = [], []
    with torch.no_grad():
        answer(model, arch, index, vocab, items[0]["story"], items[0]["question"])  # warm-up
        for it in items:
            t0 = time.perf_counter()
            answers.append(answer(model, arch, index, vocab, it["story"], it["question"]))
            times.append((time.perf_counter() - t0) * 1000.0)
    print(json.dumps({"median_ms": statistics.median(times), "questions": len(items), "threads": args.threads,
                      "torch": torch.__version__, "answers": answers}))


if __name__ == "__main__":
    main()
