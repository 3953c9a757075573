# Writes a model directory from a training checkpoint (F16 safetensors, config.json, source.spm, MODEL.md):
# the command line of export_*.py.
import argparse
import json
import os
import shutil

import numpy as np
import torch

import mt_data
import safetensors_io

REPO = os.path.dirname(mt_data.HERE)


def f16_tensors(state):
    out = {}
    for name, t in state.items():
        a = t.detach().float().numpy()
        if np.abs(a).max(initial=0.0) > 65504:
            raise ValueError(f"{name} overflows float16")
        out[name] = a.astype(np.float16)
    return out


INT8_MIN_VALUES = 4096  # matrices this large are stored as int8 rows; vectors and small tensors stay F16


def int8_tensors(state):
    """Per-row int8 for every float matrix of at least INT8_MIN_VALUES values (name + its ".scale",
    float32), F16 for the rest: about half the bytes of f16_tensors. The engine and the twin both
    read the weights back as q * scale (safetensors_io.dequantize)."""
    out = f16_tensors(state)
    for name, t in state.items():
        if t.is_floating_point() and t.dim() == 2 and t.numel() >= INT8_MIN_VALUES:
            q, scale = safetensors_io.quantize_rows(t.detach().float().numpy())
            out[name], out[name + safetensors_io.SCALE_SUFFIX] = q, scale
    return out


def write_text(path, text):
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def model_config(c, keys, architecture, model_type, display_name, **settings):
    """config.json: the architecture, keys taken from the checkpoint's config c, fixed settings, and the attnlens
    section of an En→De translation model with one shared source.spm."""
    cfg = {"architectures": [architecture], "model_type": model_type}
    cfg.update({k: c[k] for k in keys})
    cfg.update(settings)
    cfg["attnlens"] = {"task": "translate", "display_name": display_name,
                       "source_lang": "en", "target_lang": "de", "tokenizer": "source.spm", "shared_vocab": True,
                       "example": "A little girl is climbing into a wooden playhouse."}
    return cfg


def multi30k_facts(cfg, eval_result):
    """The model card facts the window shows for a Multi30k model: domain, training data, and the test score."""
    cfg["attnlens"].update(domain="image descriptions", training_data="Multi30k (29,000 Flickr image descriptions)")
    if eval_result:
        cfg["attnlens"]["scores"] = [{"set": eval_result["split"], "metric": "BLEU", "value": round(eval_result["bleu"], 2),
                                      "decoding": f"beam {eval_result['beam']}"}]
    return cfg


def training_time(log_path, last_epoch):
    """(hours, epochs) summed from the `epoch N ... epoch_s S` lines of train.log up to last_epoch, the last line of
    each epoch counting (a resumed run repeats none, an interrupted epoch leaves none); None without a log."""
    if not os.path.exists(log_path):
        return None
    seconds = {}
    for line in open(log_path, encoding="utf-8"):
        parts = line.split()
        if len(parts) > 2 and parts[0] == "epoch" and parts[1].isdigit() and "epoch_s" in parts:
            epoch = int(parts[1])
            if epoch <= last_epoch:
                seconds[epoch] = float(parts[parts.index("epoch_s") + 1])
    return (sum(seconds.values()) / 3600.0, len(seconds)) if seconds else None


def model_card(ck, eval_result, arch, name, description, val_use, train_cmd):
    """MODEL.md: description, data, the commands that reproduce it (training/*_{arch}.py) and its scores."""
    work = f"training/work/{arch}"
    lines = [f"# {name}", "", description,
             f"Parameters: {sum(t.numel() for t in ck['model'].values())}. Weights stored as F16.", "",
             "## Data", "",
             "Multi30k task 1 (Elliott et al. 2016), raw En-De train split (29,000 pairs); "
             f"val (1,014) for {val_use}; test_2016_flickr (1,000) for the score below. "
             "Research / educational use only (Flickr30k terms).", "",
             "## Reproduce", "", "```", train_cmd.format(epochs=ck["epoch"]) + "   # resumable; stops at this epoch",
             f"/usr/bin/python3 training/evaluate_{arch}.py --beam 4 {work}/ckpt_best.pt --json {work}/test_eval.json",
             f"/usr/bin/python3 training/export_{arch}.py --eval-json {work}/test_eval.json",
             "```", "", f"Training arguments: `{json.dumps(ck.get('args', {}))}`", ""]
    took = training_time(os.path.join(REPO, work, "train.log"), ck["epoch"])
    if took:
        lines += [f"Training time: {took[0]:.1f} h for {took[1]} epochs on one CPU thread (2-core machine shared with "
                  "other runs; `epoch_s` in train.log).", ""]
    lines += ["## Quality", "",
              f"- epoch {ck['epoch']} (step {ck['step']}), val BLEU (greedy) {ck.get('val_bleu', ck['best_bleu']):.2f}"]
    if eval_result:
        lines.append(f"- {eval_result['split']} BLEU (beam {eval_result['beam']}, alpha {eval_result['alpha']}, "
                     f"sacreBLEU-compatible 13a, case-sensitive): {eval_result['bleu']:.2f} "
                     f"on {eval_result['sentences']} sentences")
    return "\n".join(lines) + "\n"


def export(ckpt_path, out_dir, spm_path, eval_json, arch, make_config, make_card, int8=False):
    """make_config(checkpoint config, eval result or None) -> config.json dict; make_card(checkpoint, eval result or
    None) -> MODEL.md. int8: matrices as per-row int8 (int8_tensors), else everything F16."""
    ck = torch.load(ckpt_path, map_location="cpu")
    os.makedirs(out_dir, exist_ok=True)
    meta = {"format": "pt", "source": f"attnlens training/export_{arch}.py", "epoch": ck["epoch"],
            "weights": "int8 rows + F16" if int8 else "F16"}
    tensors = int8_tensors(ck["model"]) if int8 else f16_tensors(ck["model"])
    safetensors_io.save_file(tensors, os.path.join(out_dir, "model.safetensors"), meta)
    result = json.load(open(eval_json)) if eval_json else None
    write_text(os.path.join(out_dir, "config.json"),
               json.dumps(make_config(ck["config"], result), indent=2, ensure_ascii=False) + "\n")
    shutil.copyfile(spm_path, os.path.join(out_dir, "source.spm.tmp"))
    os.replace(os.path.join(out_dir, "source.spm.tmp"), os.path.join(out_dir, "source.spm"))
    write_text(os.path.join(out_dir, "MODEL.md"), make_card(ck, result))
    return out_dir


def main(description, arch, name, make_config, make_card):
    """Exports training/work/{arch}/ckpt_best.pt (by default) to data/models/{name}."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("checkpoint", nargs="?", default=os.path.join(mt_data.HERE, "work", arch, "ckpt_best.pt"))
    ap.add_argument("--out", default=os.path.join(REPO, "data", "models", name))
    ap.add_argument("--spm", default=mt_data.SPM_MODEL)
    ap.add_argument("--eval-json", help=f"result file written by evaluate_{arch}.py --json")
    args = ap.parse_args()
    print(export(args.checkpoint, args.out, args.spm, args.eval_json, arch, make_config, make_card))
