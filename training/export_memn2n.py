# Writes data/models/memn2n-babi from a training checkpoint: F16 model.safetensors, config.json, vocab.txt and a
# MODEL.md whose error table is measured on the exported (F16) weights. export_attentive_reader.py reuses it.
"""usage: export_memn2n.py [CHECKPOINT] [--out DIR] [--data BABI_DIR]

CHECKPOINT defaults to training/work/memn2n/ckpt_best.pt. The exported weights are loaded back into the twin and
scored on the 20 standard bAbI test files (1000 questions each); the table goes into MODEL.md and test_eval.json.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import babi  # noqa: E402
from export_common import f16_tensors, training_time, write_text  # noqa: E402
import safetensors_io  # noqa: E402
import train_memn2n  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# Test error (%) of the original Matlab MemN2N code (3 hops, PE, LS, RN, adjacent tying), trained jointly on the 1k
# tasks, as listed in the MemN2N-babi-python README; the paper (Sukhbaatar et al. 2015, Table 1) reports about 13%
# mean for 3-hop PE LS on 1k and 4.2% mean for its best 10k configuration.
MATLAB_1K_JOINT = [0.0, 13.1, 23.4, 5.9, 12.9, 3.7, 22.9, 9.1, 2.7, 7.2, 0.8, 0.1, 0.1, 4.2, 0.0, 1.2, 43.6, 10.5,
                   86.7, 0.0]


def memn2n_config(c, vocab_size):
    return {"architectures": ["MemN2N"], "model_type": "memn2n", "vocab_size": vocab_size,
            "embed_dim": c["embed_dim"], "hops": c["hops"], "memory_size": c["memory_size"],
            "max_sentence_words": c["max_sentence_words"], "position_encoding": True, "temporal_encoding": True,
            "weight_tying": "adjacent", "nil_token_id": 0,
            "attnlens": {"task": "read", "display_name": f"MemN2N, {c['hops']} hops (bAbI 1-20)", "vocab": "vocab.txt"}}


def quality_table(result, reference=MATLAB_1K_JOINT):
    lines = ["| task | error % (this model, test) | strongest hop on a supporting fact % | reference: MemN2N Matlab code, "
             "3 hops PE LS RN joint, 1k |", "|---|---|---|---|"]
    for t, r in result["tasks"].items():
        ref = f"{reference[int(t) - 1]:.1f}" if reference else "-"
        lines.append(f"| {t}: {babi.TASK_NAMES[int(t)]} | {r['error']:.1f} | {r['support_hit']:.1f} | {ref} |")
    ref_mean = f"{np.mean(reference):.1f}" if reference else "-"
    lines.append(f"| **mean** | **{result['error']:.2f}** (failed tasks > 5%: {result['failed']}) | | {ref_mean} |")
    return "\n".join(lines)


def training_time_lines(ck):
    """The time the checkpoint took, from train.log beside it (its out_dir), when that log is there."""
    out_dir = ck.get("args", {}).get("out_dir")
    took = training_time(os.path.join(out_dir, "train.log"), ck["epoch"]) if out_dir else None
    if not took:
        return []
    return [f"Training time: {took[0] * 60:.0f} min for {took[1]} epochs on one CPU thread (2-core machine shared "
            "with other runs; `epoch_s` in train.log).", ""]


def model_card(title, description, ck, result, reproduce, floor, reference=MATLAB_1K_JOINT):
    v = ck["val"]
    meets = "meets" if result["error"] <= floor else "does NOT meet"
    return "\n".join([
        f"# {title}", "", description, "",
        f"Parameters: {sum(t.numel() for t in ck['model'].values())}, vocabulary {len(ck['vocab'])} (vocab.txt, "
        "id 0 is the padding `<nil>`). Weights stored as F16; the scores below are measured on them.", "",
        "## Data", "",
        "bAbI tasks v1.2 (Weston et al. 2015, CC BY 3.0), English, all 20 tasks trained jointly: the 10k training files "
        "(task 3 from en/, 1k questions: en-10k has no task-3 training file here), 10% of each task held out for "
        "validation; scored on the 20 standard test files (1000 questions each). The data is read from "
        "../shared/data/babi and is not part of this repository.", "",
        "## Reproduce", "", "```", *reproduce, "```", "",
        f"Training arguments: `{json.dumps(ck.get('args', {}))}`", "",
        *training_time_lines(ck),
        "## Quality", "",
        f"Checkpoint of epoch {ck['epoch']} (best validation error {v['error']:.2f}%). Test mean error "
        f"**{result['error']:.2f}%**, which {meets} the project's floor of {floor:.0f}%. For comparison: the MemN2N "
        "paper (Sukhbaatar et al. 2015) reports about 13% mean error for 3 hops with PE and LS on 1k and 4.2% for its "
        "best 10k configuration.", "",
        quality_table(result, reference), "",
        "\"Strongest hop on a supporting fact\": how often the single highest attention weight over all hops falls on "
        "one of the sentences bAbI labels as supporting the answer (for the attentive reader: the sentence whose words "
        "hold the most weight).",
        "" if not reference else "\nReference column: test errors of the authors' Matlab MemN2N (3 hops, PE, LS, RN, "
        "trained jointly on the 1k tasks) as listed in the README of the MemN2N-babi-python reimplementation; the paper "
        "(Sukhbaatar et al. 2015, Table 1) gives the per-task figures of every configuration, 1k and 10k.", ""])


def evaluate_export(adapter, model, data):
    test = babi.load_all("test", data)
    index = {w: i for i, w in enumerate(model.vocab)}
    result = train_memn2n.evaluate(adapter, model, test, index)
    result.update(split="test", questions=len(test))
    return result


def export(ck, out_dir, config, data, adapter, title, description, reproduce, floor, reference=MATLAB_1K_JOINT):
    """Writes the directory; returns the test result of the exported weights."""
    os.makedirs(out_dir, exist_ok=True)
    meta = {"format": "pt", "source": f"attnlens training/export ({ck['arch']})", "epoch": ck["epoch"]}
    state = {k: v for k, v in ck["model"].items()}
    safetensors_io.save_file(f16_tensors(state), os.path.join(out_dir, "model.safetensors"), meta)
    babi.write_vocab(ck["vocab"], os.path.join(out_dir, "vocab.txt"))
    write_text(os.path.join(out_dir, "config.json"), json.dumps(config, indent=2) + "\n")
    arrays, _ = safetensors_io.load_file(os.path.join(out_dir, "model.safetensors"))
    model = adapter.model_class(ck["config"])
    model.load_state_dict({k: torch.from_numpy(a.astype(np.float32)) for k, a in arrays.items()})
    model.eval()
    model.vocab = ck["vocab"]
    result = evaluate_export(adapter, model, data)
    result["epoch"] = ck["epoch"]
    write_text(os.path.join(out_dir, "MODEL.md"), model_card(title, description, ck, result, reproduce, floor, reference))
    return result


def train_command(script, adapter_name, ck):
    """The command that remakes ck: the training arguments that differ from the defaults (paths and threads aside),
    and --epochs stopping at the checkpoint's epoch (the schedule does not depend on the target)."""
    defaults = vars(train_memn2n.parse_args(adapter_name=adapter_name).parse_args([]))
    args = ck.get("args", {})
    parts = [f"/usr/bin/python3 training/{script} --epochs {ck['epoch']}"]
    for key, value in args.items():
        if key in ("epochs", "data", "threads") or key not in defaults or value == defaults[key]:
            continue
        if key == "out_dir":
            value = os.path.relpath(value, REPO)
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            flag = flag if value else "--no-" + key.replace("_", "-")
            parts.append(flag)
        else:
            parts.append(f"{flag} {value}")
    return " ".join(parts) + "   # resumable: rerun the same command"


def main():
    ap = argparse.ArgumentParser(description="Export a MemN2N checkpoint to a model directory.")
    ap.add_argument("checkpoint", nargs="?", default=os.path.join(HERE, "work", "memn2n", "ckpt_best.pt"))
    ap.add_argument("--out", default=os.path.join(REPO, "data", "models", "memn2n-babi"))
    ap.add_argument("--data", default=babi.DATA)
    args = ap.parse_args()
    torch.set_num_threads(1)
    ck = torch.load(args.checkpoint, map_location="cpu")
    work = os.path.relpath(ck.get("args", {}).get("out_dir", os.path.join(HERE, "work", "memn2n")), REPO)
    reproduce = [train_command("train_memn2n.py", "memn2n", ck),
                 f"/usr/bin/python3 training/export_memn2n.py {work}/ckpt_best.pt"]
    description = ("End-to-end memory network (Sukhbaatar et al. 2015): 3 hops over the story's sentences, "
                   "bag-of-words memories with position encoding and temporal encoding, adjacent weight tying; "
                   "trained with linear start and random noise. It remembers the 50 most recent sentences.")
    result = export(ck, args.out, memn2n_config(ck["config"], len(ck["vocab"])), args.data,
                    train_memn2n.MemN2NAdapter(argparse.Namespace(noise=0)), "MemN2N on bAbI (3 hops, joint, 10k)",
                    description, reproduce, floor=10.0)
    print(train_memn2n.error_table(result))
    print(args.out)


if __name__ == "__main__":
    main()
