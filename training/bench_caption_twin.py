# Times the PyTorch twin of a caption model on raw scene images (for `attnlens bench caption`).
"""usage: bench_caption_twin.py MODEL_DIR SCENES_DIR [--threads N]
       bench_caption_twin.py --random OUT_DIR [--like MODEL_DIR]
                                                 a model directory with random weights (F16), for timing without a
                                                 trained model: the architecture, decoding and vocabulary of
                                                 MODEL_DIR (its config.json and vocab.txt), or else the scene model's

SCENES_DIR holds scene-NNNN.rgb files (8-bit RGB at the model's input size, from scenes.py --raw). Each image is
timed alone (batch 1) from pixels to caption with attention: encode, greedy decoding, as the C captioner does.
Prints one JSON line: the median milliseconds per image and the captions.
"""
import argparse
import glob
import json
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import caption_model  # noqa: E402
import evaluate_caption  # noqa: E402
import export_caption  # noqa: E402
import golden_caption  # noqa: E402
import safetensors_io  # noqa: E402
from caption_model import ShowAttendTell  # noqa: E402
from export_common import f16_tensors, write_text  # noqa: E402


def write_random(out_dir, like=None):
    """MODEL_DIR's architecture (or the scene model's) with the twin's initialisation (seed 0), stored as F16 like
    an export; the trunk of a photo model keeps PyTorch's default initialisation (its BatchNorm is folded in a
    trained export, so the shapes match the shipped file)."""
    torch.manual_seed(0)
    if like:
        with open(os.path.join(like, "config.json"), encoding="utf-8") as f:
            cfg = json.load(f)
        model = ShowAttendTell({k: v for k, v in cfg.items() if k in caption_model.DEFAULT_CONFIG})
        with open(os.path.join(like, cfg["attnlens"].get("vocab", "vocab.txt")), encoding="utf-8") as f:
            vocab = f.read().splitlines()
        if len(vocab) != cfg["vocab_size"]:
            raise SystemExit(f"{like}: vocab.txt has {len(vocab)} lines, config.json says {cfg['vocab_size']}")
        cfg["attnlens"].pop("examples", None)
    else:
        vocab = caption_model.vocabulary()
        model = ShowAttendTell({"vocab_size": len(vocab)})
        cfg = export_caption.model_config(model.config)
    cfg["attnlens"]["display_name"] = "untrained caption model (random weights, for timing only)"
    os.makedirs(out_dir, exist_ok=True)
    safetensors_io.save_file(f16_tensors(model.state_dict()), os.path.join(out_dir, "model.safetensors"),
                             {"made_by": "bench_caption_twin.py --random" + (" --like " + like if like else "")})
    write_text(os.path.join(out_dir, "config.json"), json.dumps(cfg, indent=2) + "\n")
    golden_caption.write_vocab(out_dir, vocab)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir", nargs="?")
    ap.add_argument("scenes", nargs="?")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--random", metavar="OUT_DIR")
    ap.add_argument("--like", metavar="MODEL_DIR")
    args = ap.parse_args()
    if args.random:
        write_random(args.random, args.like)
        return
    torch.set_num_threads(args.threads)
    model, vocab = evaluate_caption.load(args.model_dir)
    size = model.config["image_size"]
    images = []
    for path in sorted(glob.glob(os.path.join(args.scenes, "scene-*.rgb"))):
        raw = np.fromfile(path, dtype=np.uint8).reshape(size, size, 3)
        images.append(caption_model.images_tensor(raw[None]))
    times, captions = [], []
    with torch.no_grad():
        caption_model.greedy_batch(model, images[0], with_attention=True)  # warm-up
        for img in images:
            t0 = time.perf_counter()
            (ids, _, _), = caption_model.greedy_batch(model, img, with_attention=True)
            times.append((time.perf_counter() - t0) * 1000.0)
            captions.append(" ".join(caption_model.words_of(ids, vocab)))
    print(json.dumps({"median_ms": statistics.median(times), "images": len(images), "threads": args.threads,
                      "torch": torch.__version__, "captions": captions}))


if __name__ == "__main__":
    main()
