# Trains a joint SentencePiece unigram model (vocab 8000): En+De on Multi30k train (the
# image-description models), or `--corpus general-de|general-fr` on both sides of the general
# training domains of mt_corpus.py (everyday + news (+ Multi30k)), for the general models.
import argparse
import gzip
import json
import os
import shutil
import tempfile

import sentencepiece as spm

DATA = "/work/shared/data/multi30k"
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "work", "spm")

# Everything that defines the tokenizer; written next to the model as ende.json.
SPM_ARGS = dict(
    vocab_size=8000,
    model_type="unigram",
    character_coverage=1.0,
    normalization_rule_name="nmt_nfkc",
    pad_id=0, unk_id=1, bos_id=2, eos_id=3,
    pad_piece="<pad>", unk_piece="<unk>", bos_piece="<s>", eos_piece="</s>",
    input_sentence_size=0,
    shuffle_input_sentence=False,
    num_threads=2,
    seed_sentencepiece_size=1000000,
)


def decompress(data_dir, names, tmp):
    paths = []
    for name in names:
        dst = os.path.join(tmp, name[:-3])
        with gzip.open(os.path.join(data_dir, name), "rb") as f, open(dst, "wb") as g:
            shutil.copyfileobj(f, g)
        paths.append(dst)
    return paths


def train(data_dir, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        inputs = decompress(data_dir, ["train.en.gz", "train.de.gz"], tmp)
        prefix = os.path.join(out_dir, "ende")
        spm.SentencePieceTrainer.train(input=",".join(inputs), model_prefix=prefix, **SPM_ARGS)
    with open(os.path.join(out_dir, "ende.json"), "w") as f:
        json.dump(dict(SPM_ARGS, inputs=["train.en", "train.de"]), f, indent=2)
    return prefix + ".model"


def train_general(lang, out_dir, name):
    import mt_corpus
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "corpus.txt")
        with open(path, "w", encoding="utf-8") as f:
            for line in mt_corpus.spm_corpus_lines(lang):
                f.write(line.replace("\n", " ") + "\n")
        prefix = os.path.join(out_dir, name)
        spm.SentencePieceTrainer.train(input=path, model_prefix=prefix, **SPM_ARGS)
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
        json.dump(dict(SPM_ARGS, inputs=f"mt_corpus.spm_corpus_lines({lang!r})",
                       data_fingerprint=mt_corpus.fingerprint(lang)), f, indent=2)
    return prefix + ".model"


def main():
    ap = argparse.ArgumentParser(description="Train a joint SentencePiece model.")
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--corpus", default="multi30k", choices=["multi30k", "general-de", "general-fr"])
    args = ap.parse_args()
    if args.corpus == "multi30k":
        model = train(args.data, args.out)
    else:
        lang = args.corpus[-2:]
        model = train_general(lang, args.out, "en" + lang + "-general")
    sp = spm.SentencePieceProcessor(model_file=model)
    print(model, "vocab", sp.get_piece_size(), sp.encode("A man rides a bike.", out_type=str))


if __name__ == "__main__":
    main()
