# Exports a general translation checkpoint (Transformer or RNN with attention, trained with
# --corpus general-de|general-fr) as a model directory: safetensors with per-row int8 matrices
# (export_common.int8_tensors; --weights f16 for all-F16), config.json (with the
# attnlens domain, training data and measured scores that the window's chooser and card show),
# source.spm and MODEL.md.
#
#   /usr/bin/python3 training/export_general.py training/work/transformer-general-de/ckpt_best.pt \
#       --name transformer-en-de-general --eval-json training/work/transformer-general-de/test_eval.json
import argparse
import json
import os

import torch

import export_common
import export_rnn
import export_transformer
import mt_corpus

LANG_NAMES = {"de": ("German", "De"), "fr": ("French", "Fr")}
EXAMPLES = {"de": "Where is the train station?",
            # Bahdanau et al. 2015, Figure 3 (a): the paper's alignment example, En->Fr
            "fr": "The agreement on the European Economic Area was signed in August 1992."}
SET_LABELS = {"tatoeba-test-v2021-dedup": "Tatoeba test v2021-08-07 (de-duplicated)",
              "newstest2013": "newstest2013 (news)",
              "multi30k-test2016": "Multi30k test_2016_flickr (image descriptions)"}


def training_data_text(lang):
    doms = mt_corpus.training_domains(lang)
    parts = [f"Tatoeba {len(doms['tatoeba']):,} pairs", f"WMT newstest2009-2012 {len(doms['news']):,} pairs "
             f"x{mt_corpus.MIX['news']}"]
    if "multi30k" in doms:
        parts.append(f"Multi30k {len(doms['multi30k']):,} pairs")
    return "everyday + news: " + ", ".join(parts)


def scores(eval_result):
    out = []
    for name, r in (eval_result or {}).get("sets", {}).items():
        for metric in ("bleu", "chrf"):
            out.append({"set": SET_LABELS.get(name, name), "metric": "BLEU" if metric == "bleu" else "chrF",
                        "value": r[metric], "decoding": f"beam {eval_result['beam']}"})
    return out


def make_config(ck, lang, arch, eval_result, display_name):
    c = ck["config"]
    cfg = export_transformer.hf_config(c) if arch == "transformer" else export_rnn.model_config(c)
    a = cfg["attnlens"]
    a.update({"display_name": display_name, "target_lang": lang, "example": EXAMPLES[lang],
              "domain": "everyday + news", "training_data": training_data_text(lang)})
    if eval_result:
        a["scores"] = scores(eval_result)
    return cfg


WEIGHTS_TEXT = {
    "int8": "Weights stored as int8 with one float32 scale per matrix row (symmetric, round half to even; "
            "`export_common.int8_tensors`), vectors and small tensors as F16: half the size of F16. The engine "
            "and the twin both compute with the weights read back as int8 x scale, so the golden cross-check "
            "and the scores below are of exactly these weights.",
    "f16": "Weights stored as F16."}


def model_card(ck, eval_result, name, arch, lang, work, weights="int8", f16_result=None, ckfile="ckpt_best.pt"):
    c = ck["config"]
    avg = ck.get("averaged")
    lang_name = LANG_NAMES[lang][0]
    if arch == "transformer":
        desc = ("Transformer encoder-decoder (Vaswani et al. 2017; Marian/opus-mt layout, post-norm, tied "
                f"embeddings), d_model {c['d_model']}, {c['encoder_layers']}+{c['decoder_layers']} layers, "
                f"{c['encoder_attention_heads']} heads, FFN {c['encoder_ffn_dim']}")
        script = "train_transformer.py"
    else:
        desc = ("RNN encoder-decoder with additive attention (Bahdanau, Cho, Bengio 2015): bidirectional GRU "
                f"encoder ({c['enc_hidden']} per direction), GRU decoder ({c['dec_hidden']}), attention dim "
                f"{c['attn_dim']}, maxout deep output ({c['maxout_dim']})")
        script = "train_rnn.py"
    desc += f"; joint English+{lang_name} SentencePiece unigram vocabulary of {c['vocab_size']} (source.spm)."
    doms = mt_corpus.training_domains(lang)
    vals = mt_corpus.validation_sets(lang)
    kept, total = mt_corpus.tatoeba_test(lang)
    args = ck.get("args", {})
    lines = [f"# {name}", "", f"General-domain English → {lang_name} translation. " + desc,
             f"Parameters: {sum(t.numel() for t in ck['model'].values())}. " + WEIGHTS_TEXT[weights], "",
             "## Data", "",
             "Training mix, one epoch (`training/mt_corpus.py`):", "",
             "| domain | source | pairs | repeated |", "|---|---|---|---|",
             f"| everyday | Tatoeba `{mt_corpus.LANGS[lang]['tatoeba']}.txt` (manythings.org Anki export), "
             f"minus {len(vals['tatoeba'])} held-out English sentences | {len(doms['tatoeba']):,} | "
             f"x{mt_corpus.MIX['tatoeba']} |",
             f"| news | WMT newstest2009-2012 | {len(doms['news']):,} | x{mt_corpus.MIX['news']} |"]
    if "multi30k" in doms:
        lines.append(f"| image descriptions | Multi30k task 1 train | {len(doms['multi30k']):,} | "
                     f"x{mt_corpus.MIX['multi30k']} |")
    lines += ["", "News is oversampled because it is the smallest domain and the hardest; pairs with more than "
              f"{mt_corpus.MAX_PIECES} pieces on either side are left out. Validation (model selection): "
              + ", ".join(f"{d} {len(p)}" for d, p in vals.items())
              + " sentences, greedy BLEU averaged over the domains.", "",
              f"Test: Tatoeba test v2021-08-07 En-{LANG_NAMES[lang][1]}, with every pair whose English side "
              f"occurs in the training or validation data removed: {len(kept):,} of {total:,} pairs remain; "
              "newstest2013 (3,000 news sentences, never trained on; it is the news development set, and its "
              "first 500 sentences are the news part of the validation score that picks the checkpoint)"
              + ("; Multi30k test_2016_flickr (1,000)." if "multi30k" in doms else "."), "",
              "**Attribution.** Tatoeba sentences: Creative Commons Attribution 2.0, from tatoeba.org via "
              "www.manythings.org/anki. WMT news test sets are distributed for research."
              + (" Multi30k: research / educational use only (Flickr30k terms)." if "multi30k" in doms else ""),
              "", "## Reproduce", "", "```",
              f"/usr/bin/python3 training/spm_train.py --corpus general-{lang}",
              f"/usr/bin/python3 training/{script} --corpus general-{lang} --epochs {ck['epoch']} "
              f"--threads {args.get('threads', 1)} --bf16"
              + (f" --keep-epochs {len(avg)}" if avg else "") + "   # resumable; stops at this epoch"]
    set_lr = ck.get("args", {}).get("set_lr") or max((a.get("set_lr") or 0.0 for a in avg or []), default=0.0)
    if set_lr:  # a manual decay on one of the resumes: say so, with where the log has it
        lines.append(f"# this run was resumed once with --set-lr {set_lr:g} (see training/README.md's log "
                     "for the epoch); the other resumes used the line above")
    if avg:
        lines.append(f"/usr/bin/python3 training/average_checkpoints.py "
                     + " ".join(f"{work}/{a['path']}" for a in avg) + f" -o {work}/{ckfile}")
    lines += [f"/usr/bin/python3 training/export_general.py {work}/{ckfile} --name {name} --weights {weights}",
              f"/usr/bin/python3 training/evaluate_general.py data/models/{name} --write-sets /tmp/sets",
              f"for s in /tmp/sets/*.src; do ATTNLENS_INT8=0 attnlens bench quality -m data/models/{name} "
              f"--input $s --ref ${{s%.src}}.ref --hyps {work}/hyps/$(basename $s .src).hyp; done",
              f"/usr/bin/python3 training/evaluate_general.py data/models/{name} --from-hyps {work}/hyps "
              f"--json {work}/test_eval.json"]
    final = (f"/usr/bin/python3 training/export_general.py {work}/{ckfile} --name {name} --weights {weights} "
             f"--eval-json {work}/test_eval.json")
    if f16_result and f16_result.get("decoded_by", "").startswith("C engine"):  # the F16 column, decoded the same way
        lines += [f"/usr/bin/python3 training/export_general.py {work}/{ckfile} --name {name} --weights f16 "
                  f"--out /tmp/{name}-f16",
                  f"for s in /tmp/sets/*.src; do ATTNLENS_INT8=0 attnlens bench quality -m /tmp/{name}-f16 "
                  f"--input $s --ref ${{s%.src}}.ref --hyps {work}/hyps-f16/$(basename $s .src).hyp; done",
                  f"/usr/bin/python3 training/evaluate_general.py /tmp/{name}-f16 --from-hyps {work}/hyps-f16 "
                  f"--json {work}/test_eval_f16.json"]
        final += f" --f16-eval-json {work}/test_eval_f16.json"
    lines.append(final)
    lines += ["```", "",
              f"Training arguments: `{json.dumps({k: v for k, v in args.items() if k not in ('out_dir', 'spm', 'data')})}`",
              ""]
    took = export_common.training_time(os.path.join(export_common.REPO, work, "train.log"), ck["epoch"])
    if took:
        threads = args.get("threads", 1)
        lines += [f"Training time: {took[0]:.1f} h for {took[1]} epochs on "
                  + ("one CPU thread (2-core machine, shared with other work" if threads == 1 else
                     f"a 2-core machine shared with other work ({threads} threads in the last run; training/README.md's "
                     "log says which epochs ran on how many")
                  + "; `epoch_s` in train.log).", ""]
    if avg:
        lines += ["## Quality", "", "The weights are the mean of the weights at the end of epochs "
                  + ", ".join(str(a["epoch"]) for a in avg) + " (checkpoint averaging, Vaswani et al. 2017; what it gains here is in "
                  "training/README.md). "
                  f"Validation BLEU of epoch {ck['epoch']} alone (greedy, mean of domains) "
                  f"{ck.get('val_bleu') or ck['best_bleu']:.2f}"
                  + (" (" + ", ".join(f"{d} {s_:.2f}" for d, s_ in ck["val_scores"].items()) + ")"
                     if ck.get("val_scores") else "") + ".", ""]
    else:
        lines += ["## Quality", "", f"Epoch {ck['epoch']} (step {ck['step']}); validation BLEU (greedy, mean of "
                  f"domains) {ck.get('val_bleu') or ck['best_bleu']:.2f}"
                  + (" (" + ", ".join(f"{d} {s:.2f}" for d, s in ck["val_scores"].items()) + ")"
                     if ck.get("val_scores") else "") + ".", ""]
    if eval_result:
        by_c = eval_result.get("decoded_by", "").startswith("C engine")
        how = ("decoded by the C engine on these exported weights (`ATTNLENS_INT8=0 attnlens bench quality -m "
               f"data/models/{name} --input SET.src --ref SET.ref --hyps DIR/SET.hyp`, the sets written by "
               "`evaluate_general.py --write-sets DIR`; the engine's decoding equals the twin's, "
               "tests/test_rnn.c and test_transformer.c) and scored by `evaluate_general.py --from-hyps DIR`"
               if by_c else "measured on the twin with `evaluate_general.py` as above")
        cols = ["| set | sentences | BLEU | chrF |" + (" BLEU, all F16 |" if f16_result else ""),
                "|---|---|---|---|" + ("---|" if f16_result else "")]
        lines += [f"Test, beam {eval_result['beam']} (alpha {eval_result['alpha']}), sacreBLEU-compatible BLEU "
                  f"(13a, case-sensitive) and chrF (`training/bleu.py`), {how}:", ""] + cols
        for set_name, r in eval_result["sets"].items():
            f16 = (f" {f16_result['sets'][set_name]['bleu']:.2f} |"
                   if f16_result and set_name in f16_result.get("sets", {}) else (" |" if f16_result else ""))
            lines.append(f"| {SET_LABELS.get(set_name, set_name)} | {r['sentences']:,} | {r['bleu']:.2f} | "
                         f"{r['chrf']:.2f} |{f16}")
        if f16_result:
            lines.append("")
            by = ("decoded by the C engine in the same way" if f16_result.get("decoded_by", "").startswith("C engine")
                  else f16_result.get("decoded_by", "PyTorch twin"))
            lines.append(f"The last column is the same checkpoint with every weight in F16 (`--weights f16`, {by}): "
                         "what storing the matrices as int8 costs.")
        lines.append("")
    if lang == "fr":
        lines += ["## Example", "",
                  f"The example sentence is the one of Bahdanau et al. 2015, Figure 3 (a): \"{EXAMPLES['fr']}\", so "
                  "a class can set the paper's alignment beside this model's (`attnlens translate -m "
                  f"{name} -o fig3.png \"{EXAMPLES['fr']}\"`). The paper's model writes \"zone économique "
                  "européenne\", with the adjectives in French order; look at the model's own output and "
                  "alignment in the window rather than expecting the paper's.", ""]
    lines += ["## What it cannot do", "",
              f"A small model ({sum(t.numel() for t in ck['model'].values()) / 1e6:.1f} M parameters) trained on "
              f"about {sum(len(p) for p in doms.values()) // 1000}k sentence pairs, most of them short everyday "
              "sentences. It translates everyday language and simple descriptions well, news and technical text "
              "much less well (see newstest2013), and it has never seen long documents, dialogue markup, code or "
              "rare names: those come out garbled or copied. Sentences are translated one at a time, without "
              "context.", ""]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description="Export a general translation checkpoint as a model directory.")
    ap.add_argument("checkpoint")
    ap.add_argument("--name", required=True, help="directory name under data/models")
    ap.add_argument("--eval-json", help="result of evaluate_general.py --json")
    ap.add_argument("--display-name", help="default: from architecture and language pair")
    ap.add_argument("--out", help="default data/models/NAME")
    ap.add_argument("--f16-eval-json", help="evaluate_general.py result of the same checkpoint stored as F16, "
                                             "shown beside the int8 scores")
    ap.add_argument("--weights", choices=("int8", "f16"), default="int8",
                    help="int8: matrices as per-row int8 (half the size; the default); f16: everything F16")
    args = ap.parse_args()
    ck = torch.load(args.checkpoint, map_location="cpu")
    corpus = ck["args"]["corpus"]
    assert corpus.startswith("general-"), corpus
    lang = corpus[-2:]
    arch = "transformer" if "d_model" in ck["config"] else "rnn"
    work = os.path.relpath(os.path.dirname(os.path.abspath(args.checkpoint)), export_common.REPO)
    ev = json.load(open(args.eval_json)) if args.eval_json else None
    f16 = json.load(open(args.f16_eval_json)) if args.f16_eval_json else None
    display = args.display_name or (f"Transformer En→{LANG_NAMES[lang][1]} (everyday + news)" if arch == "transformer"
                                    else f"RNN with attention En→{LANG_NAMES[lang][1]} (Bahdanau; everyday + news)")
    out = args.out or os.path.join(export_common.REPO, "data", "models", args.name)
    print(export_common.export(args.checkpoint, out, ck["args"]["spm"], args.eval_json, arch,
                               lambda c, result: make_config(ck, lang, arch, ev, display),
                               lambda ck2, result: model_card(ck2, result, args.name, arch, lang, work, args.weights,
                                                                     f16, os.path.basename(args.checkpoint)),
                               int8=args.weights == "int8"))


if __name__ == "__main__":
    main()
