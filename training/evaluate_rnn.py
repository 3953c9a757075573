# Beam-search BLEU of the RNN with attention on Multi30k test_2016_flickr, from a checkpoint or an exported model dir.
import argparse
import json
import os
import time

import torch

import mt_data
import safetensors_io
from bleu import corpus_bleu
from rnn_attn import DEFAULT_CONFIG, BahdanauRNN, beam_search


def load_model(path):
    """Returns (model in eval mode, spm path) from a .pt checkpoint or an exported model directory."""
    if os.path.isdir(path):
        with open(os.path.join(path, "config.json"), encoding="utf-8") as f:
            cfg = json.load(f)
        model = BahdanauRNN({k: cfg[k] for k in DEFAULT_CONFIG if k in cfg})
        arrays, _ = safetensors_io.load_file(os.path.join(path, "model.safetensors"))
        model.load_state_dict({k: torch.from_numpy(v.astype("float32")) for k, v in arrays.items()})
        spm_path = os.path.join(path, cfg["attnlens"]["tokenizer"])
    else:
        ck = torch.load(path, map_location="cpu")
        model = BahdanauRNN(ck["config"])
        model.load_state_dict(ck["model"])
        spm_path = ck.get("args", {}).get("spm", mt_data.SPM_MODEL)
    return model.eval(), spm_path


def evaluate(model, sp, split, beam, alpha, limit=None, data_dir=mt_data.DATA):
    src, _, refs = mt_data.load_pairs(sp, split, data_dir, limit)
    hyps = [mt_data.decode(sp, beam_search(model, s, beam, alpha)[0].ids_without_eos()) for s in src]
    return hyps, corpus_bleu(hyps, refs)


def main():
    ap = argparse.ArgumentParser(description="Beam-search BLEU of an RNN-with-attention checkpoint / model dir.")
    ap.add_argument("model", help="ckpt .pt file or exported model directory")
    ap.add_argument("--split", default="test_2016_flickr")
    ap.add_argument("--beam", type=int, default=4)
    ap.add_argument("--alpha", type=float, default=1.0, help="length normalisation exponent")
    ap.add_argument("--limit", type=int, default=0, help="first N sentences only")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--hyps", help="write the translations here, one per line")
    ap.add_argument("--json", help="write the result as JSON here (read by export_rnn.py)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, spm_path = load_model(args.model)
    t0 = time.time()
    hyps, bleu = evaluate(model, mt_data.load_spm(spm_path), args.split, args.beam, args.alpha, args.limit or None)
    result = {"model": os.path.abspath(args.model), "split": args.split, "beam": args.beam, "alpha": args.alpha,
              "sentences": len(hyps), "bleu": round(bleu, 2), "seconds": round(time.time() - t0, 1)}
    print(json.dumps(result))
    if args.hyps:
        with open(args.hyps, "w", encoding="utf-8") as f:
            f.write("\n".join(hyps) + "\n")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
