# BLEU and chrF of a general translation model (Transformer or RNN with attention, En->De or
# En->Fr) on every held-out test set of mt_corpus.test_sets: Tatoeba test v2021-08-07 with the
# pairs whose English side occurs in the training data removed, newstest2013, and (En->De)
# Multi30k test_2016_flickr. Reads a training checkpoint (.pt) or an exported model directory.
#
#   /usr/bin/python3 training/evaluate_general.py training/work/transformer-general-de/ckpt_best.pt \
#       --beam 4 --json training/work/transformer-general-de/test_eval.json
import argparse
import json
import os
import time

import torch

import model_io
import mt_corpus
import mt_data
import rnn_attn
import transformer
from bleu import corpus_bleu, corpus_chrf


def load(path):
    """(model, spm path, architecture, target language) from a checkpoint or a model directory."""
    if os.path.isdir(path):
        with open(os.path.join(path, "config.json"), encoding="utf-8") as f:
            cfg = json.load(f)
        arch = "transformer" if cfg.get("model_type") == "marian" else "rnn"
        lang = cfg["attnlens"]["target_lang"]
    else:
        ck = torch.load(path, map_location="cpu")
        arch = "transformer" if "d_model" in ck["config"] else "rnn"
        corpus = ck.get("args", {}).get("corpus", "multi30k")
        lang = corpus[-2:] if corpus != "multi30k" else "de"
    cls = transformer.MarianTransformer if arch == "transformer" else rnn_attn.BahdanauRNN
    model, spm_path = model_io.load_model(path, cls)
    return model, spm_path, arch, lang


def translate_all(model, arch, sp, sources, beam, alpha):
    search = transformer.beam_search if arch == "transformer" else rnn_attn.beam_search
    greedy = transformer.greedy_batch if arch == "transformer" else rnn_attn.greedy_batch
    ids = [mt_data.encode(sp, s) for s in sources]
    if beam == 1:   # batched greedy: the same tokens as beam 1, much faster in the twin
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = [None] * len(ids)
        with torch.no_grad():
            for b in range(0, len(order), 64):
                idx = order[b:b + 64]
                for i, o in zip(idx, greedy(model, [ids[i] for i in idx])):
                    out[i] = mt_data.decode(sp, o)
        return out
    with torch.no_grad():
        return [mt_data.decode(sp, search(model, s, beam, alpha)[0].ids_without_eos()) for s in ids]


def main():
    ap = argparse.ArgumentParser(description="BLEU/chrF of a general translation model on its test sets.")
    ap.add_argument("model", help="ckpt .pt file or exported model directory")
    ap.add_argument("--beam", type=int, default=4)
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--sets", default="", help="comma-separated subset of the test set names")
    ap.add_argument("--limit", type=int, default=0,
                    help="N sentences of each set only, evenly spaced through it (the Tatoeba test files are "
                         "sorted by their target side: their first lines are not a fair sample)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", help="write the result here (read by export_general.py)")
    ap.add_argument("--hyps-dir", help="write each set's translations to DIR/SET.hyp")
    ap.add_argument("--write-sets", metavar="DIR",
                    help="only write each test set as DIR/SET.src and DIR/SET.ref (for attnlens bench quality)")
    ap.add_argument("--from-hyps", metavar="DIR",
                    help="score the translations in DIR/SET.hyp instead of decoding (for example the C "
                         "engine's: attnlens bench quality -m MODEL --input SET.src --ref SET.ref --hyps "
                         "DIR/SET.hyp); MODEL is then only named in the result")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.write_sets:
        lang = load(args.model)[3]
        os.makedirs(args.write_sets, exist_ok=True)
        for name, (src, refs) in mt_corpus.test_sets(lang).items():
            for ext, lines in (("src", src), ("ref", refs)):
                with open(os.path.join(args.write_sets, f"{name}.{ext}"), "w", encoding="utf-8") as f:
                    f.write("\n".join(lines) + "\n")
            print(f"{args.write_sets}/{name}.src|ref: {len(src)} pairs")
        return
    model, spm_path, arch, lang = load(args.model)
    sp = mt_data.load_spm(spm_path)
    kept, total = mt_corpus.tatoeba_test(lang)
    result = {"model": os.path.abspath(args.model), "architecture": arch, "pair": f"en-{lang}",
              "beam": args.beam, "alpha": args.alpha,
              "decoded_by": f"C engine ({args.from_hyps})" if args.from_hyps else "PyTorch twin",
              "tatoeba_test_dedup": {"kept": len(kept), "total": total}, "sets": {}}
    wanted = [s for s in args.sets.split(",") if s]
    for name, (src, refs) in mt_corpus.test_sets(lang).items():
        if wanted and name not in wanted:
            continue
        if args.limit and args.limit < len(src):
            pick = [i * len(src) // args.limit for i in range(args.limit)]
            src, refs = [src[i] for i in pick], [refs[i] for i in pick]
        t0 = time.time()
        if args.from_hyps:
            with open(os.path.join(args.from_hyps, name + ".hyp"), encoding="utf-8") as f:
                hyps = f.read().split("\n")[:-1]
            if len(hyps) != len(src):
                raise SystemExit(f"{args.from_hyps}/{name}.hyp has {len(hyps)} lines, the set {len(src)}")
        else:
            hyps = translate_all(model, arch, sp, src, args.beam, args.alpha)
        r = {"sentences": len(hyps), "bleu": round(corpus_bleu(hyps, refs), 2),
             "chrf": round(corpus_chrf(hyps, refs), 2), "seconds": round(time.time() - t0, 1)}
        result["sets"][name] = r
        print(name, json.dumps(r), flush=True)
        if args.hyps_dir:
            os.makedirs(args.hyps_dir, exist_ok=True)
            with open(os.path.join(args.hyps_dir, name + ".hyp"), "w", encoding="utf-8") as f:
                f.write("\n".join(hyps) + "\n")
    print(json.dumps(result))
    if args.json:
        with open(args.json + ".tmp", "w") as f:
            json.dump(result, f, indent=2)
        os.replace(args.json + ".tmp", args.json)


if __name__ == "__main__":
    main()
