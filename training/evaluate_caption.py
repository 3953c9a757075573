# The two quality floors of the caption model on held-out generated scenes: exact caption content and the
# pointing game. Used by train_caption.py (validation) and on its own (the numbers in MODEL.md).
"""usage: evaluate_caption.py CHECKPOINT.pt|MODEL_DIR [--count 2000] [--split test] [--beam 1] [--json OUT]

Caption content: every object's shape, colour and size named correctly (with counts), order free.
Pointing game: for each generated shape word, the grid cell with the largest attention weight at that step lies
on the mask of an object the noun phrase names (dilated by one cell); shape words naming no object miss.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import caption_model  # noqa: E402
import safetensors_io  # noqa: E402
import scenes  # noqa: E402
from caption_model import ShowAttendTell  # noqa: E402

FLOORS = {"content_accuracy": 0.90, "pointing": 0.80}


def scene_set(split, count, size, grid, first=0):
    """[(uint8 image [S,S,3], objects, dilated grid masks [n, grid, grid])] for scenes first..first+count-1."""
    out = []
    for i in range(first, first + count):
        s = scenes.make_scene(split, i, size)
        cells = [scenes.dilate(scenes.grid_mask(m, grid)) for m in s["masks"]]
        out.append((s["image"], s["objects"], np.stack(cells)))
    return out


def pointing(words, alphas, objects, cells, grid, betas=None, extra=None):
    """(hits, shape words) of one caption: alphas [T, grid*grid] row t belongs to output word t. With extra (a dict),
    also adds up diagnostics: beta at shape words ("beta_sum") and the pointing game of the word just before each
    shape word when that is a colour or size ("pre_hits", "pre_words")."""
    hits = total = 0
    for i, count, size, colour, shape in scenes.parse_caption(words):
        total += 1
        r, c = divmod(int(alphas[i].argmax()), grid)
        named = [k for k, o in enumerate(objects) if o["shape"] == shape and size in (None, o["size"]) and
                 colour in (None, o["colour"])]
        hits += any(cells[k][r, c] for k in named)
        if extra is not None:
            if betas is not None:
                extra["beta_sum"] = extra.get("beta_sum", 0.0) + float(betas[i])
            if i > 0 and (words[i - 1] in scenes.COLOURS or words[i - 1] in scenes.SIZES):
                r, c = divmod(int(alphas[i - 1].argmax()), grid)
                extra["pre_hits"] = extra.get("pre_hits", 0) + any(cells[k][r, c] for k in named)
                extra["pre_words"] = extra.get("pre_words", 0) + 1
    return hits, total


@torch.no_grad()
def score(model, data, vocab, device="cpu", batch=100, beam=1, examples=0):
    """Content accuracy and pointing game of greedy (or beam) captions over data (from scene_set)."""
    model.eval()
    grid = caption_model.grid_size(model.config)
    right = hits = words = 0
    shown, extra = [], {}
    for b in range(0, len(data), batch):
        chunk = data[b:b + batch]
        imgs = caption_model.images_tensor(np.stack([d[0] for d in chunk])).to(device)
        if beam > 1:
            outs = []
            for img in imgs:
                h = caption_model.beam_search(model, img.cpu(), beam=beam)[0]
                att = torch.stack([x.reshape(-1)[:-1] for x in h.cross])
                outs.append((h.ids_without_eos(), att, torch.stack([x.reshape(-1)[-1] for x in h.cross])))
        else:
            outs = caption_model.greedy_batch(model, imgs, with_attention=True)
        for (ids, alphas, betas), (_, objects, cells) in zip(outs, chunk):
            w = caption_model.words_of(ids, vocab)
            right += scenes.content_correct(w, objects)
            h, n = pointing(w, alphas, objects, cells, grid, betas, extra)
            hits, words = hits + h, words + n
            if len(shown) < examples:
                shown.append(" ".join(w))
    return {"content_accuracy": right / max(1, len(data)), "pointing": hits / max(1, words), "scenes": len(data),
            "shape_words": words, "examples": shown,
            "beta_at_shape_words": extra.get("beta_sum", 0.0) / max(1, words),
            "pointing_word_before": extra.get("pre_hits", 0) / max(1, extra.get("pre_words", 0))}


def load(path):
    """(model in eval mode, vocabulary) from a .pt checkpoint or an exported model directory."""
    if os.path.isdir(path):
        with open(os.path.join(path, "config.json"), encoding="utf-8") as f:
            cfg = json.load(f)
        model = ShowAttendTell({k: cfg[k] for k in caption_model.DEFAULT_CONFIG if k in cfg})
        arrays, _ = safetensors_io.load_file(os.path.join(path, "model.safetensors"))
        model.load_state_dict({k: torch.from_numpy(v.astype(np.float32)) for k, v in arrays.items()})
        with open(os.path.join(path, cfg.get("attnlens", {}).get("vocab", "vocab.txt")), encoding="utf-8") as f:
            vocab = f.read().split("\n")[:-1]
        return model.eval(), vocab
    ck = torch.load(path, map_location="cpu")
    model = ShowAttendTell(ck["config"])
    model.load_state_dict(ck["model"])
    return model.eval(), ck.get("vocab", caption_model.vocabulary())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--split", default="test")
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--beam", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", help="write the result here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, vocab = load(args.model)
    c = model.config
    t0 = time.time()
    data = scene_set(args.split, args.count, c["image_size"], caption_model.grid_size(c))
    result = score(model, data, vocab, beam=args.beam, examples=5)
    result.update(split=args.split, beam=args.beam, model=os.path.abspath(args.model), seconds=time.time() - t0)
    if not os.path.isdir(args.model):
        result["epoch"] = torch.load(args.model, map_location="cpu").get("epoch")
    for k, floor in FLOORS.items():
        print(f"{k}: {result[k]:.4f} (floor {floor:.2f}) {'ok' if result[k] >= floor else 'BELOW THE FLOOR'}")
    print(f"mean beta at shape words {result['beta_at_shape_words']:.3f}; pointing game at the colour or size word "
          f"before each shape word {result['pointing_word_before']:.4f}")
    print(f"{result['scenes']} {args.split} scenes, {result['shape_words']} shape words; e.g. {result['examples'][:3]}")
    if args.json:
        with open(args.json + ".tmp", "w") as f:
            json.dump(result, f, indent=1)
        os.replace(args.json + ".tmp", args.json)


if __name__ == "__main__":
    main()
