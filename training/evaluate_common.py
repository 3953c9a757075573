# Beam-search BLEU of a translation twin on a Multi30k split: the command line of evaluate_*.py.
import argparse
import json
import os
import time

import torch

import mt_data
from bleu import corpus_bleu


def evaluate(beam_search, model, sp, split, beam, alpha, limit=None, data_dir=mt_data.DATA):
    src, _, refs = mt_data.load_pairs(sp, split, data_dir, limit)
    hyps = [mt_data.decode(sp, beam_search(model, s, beam, alpha)[0].ids_without_eos()) for s in src]
    return hyps, corpus_bleu(hyps, refs)


def main(description, load_model, beam_search, threads, exporter):
    """load_model(path) -> (model, spm path); exporter names the script that reads --json."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("model", help="ckpt .pt file or exported model directory")
    ap.add_argument("--split", default="test_2016_flickr")
    ap.add_argument("--beam", type=int, default=4)
    ap.add_argument("--alpha", type=float, default=1.0, help="length normalisation exponent")
    ap.add_argument("--limit", type=int, default=0, help="first N sentences only")
    ap.add_argument("--threads", type=int, default=threads)
    ap.add_argument("--hyps", help="write the translations here, one per line")
    ap.add_argument("--json", help=f"write the result as JSON here (read by {exporter})")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, spm_path = load_model(args.model)
    t0 = time.time()
    hyps, bleu = evaluate(beam_search, model, mt_data.load_spm(spm_path), args.split, args.beam, args.alpha,
                          args.limit or None)
    result = {"model": os.path.abspath(args.model), "split": args.split, "beam": args.beam, "alpha": args.alpha,
              "sentences": len(hyps), "bleu": round(bleu, 2), "seconds": round(time.time() - t0, 1)}
    print(json.dumps(result))
    if args.hyps:
        with open(args.hyps, "w", encoding="utf-8") as f:
            f.write("\n".join(hyps) + "\n")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
