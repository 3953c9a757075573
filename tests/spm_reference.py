#!/usr/bin/env python3
"""Reference tokenisation for tests/test_spm.c, computed by the sentencepiece library.

usage: spm_reference.py OUTDIR SHARED_DIR [MODEL]
Writes OUTDIR/lines.txt (Multi30k val en+de plus hand-picked edge cases, one per line),
OUTDIR/expected.tsv (ids, a tab, the decoded text, per line). Without MODEL it first
trains a small unigram model (vocab 1000, nmt_nfkc) on Multi30k val as OUTDIR/tiny.model,
so the C reader is checked against sentencepiece itself, never against our own output.
"""
import gzip
import os
import sys

import sentencepiece as spm

EDGE_CASES = [
    "  Hello   world \t tab ",
    "Ångström ﬁ ① ＡＢＣ",  # NFKC: ligature, circled digit, full-width letters
    "",
    "   ",
    "日本語 ☃ 😀",  # characters the vocabulary lacks
    "Ein Mann fährt Fahrrad.",
    "L'accord sur la zone économique européenne a été signé en août 1992 « à Porto ».",
    "A" * 300,
]


def read_lines(shared, name):
    path = os.path.join(shared, "data", "multi30k", name)
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def main():
    out, shared = sys.argv[1], sys.argv[2]
    lines = read_lines(shared, "val.en.gz") + read_lines(shared, "val.de.gz") + EDGE_CASES
    model = sys.argv[3] if len(sys.argv) > 3 else None
    if model is None:
        corpus = os.path.join(out, "corpus.txt")
        with open(corpus, "w", encoding="utf-8") as f:
            f.write("\n".join(lines[:-len(EDGE_CASES)]) + "\n")
        spm.SentencePieceTrainer.train(
            input=corpus, model_prefix=os.path.join(out, "tiny"), vocab_size=1000,
            model_type="unigram", character_coverage=0.9995, pad_id=0, unk_id=1, bos_id=2,
            eos_id=3, minloglevel=2)
        model = os.path.join(out, "tiny.model")
    sp = spm.SentencePieceProcessor(model_file=model)
    with open(os.path.join(out, "lines.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(out, "expected.tsv"), "w", encoding="utf-8") as f:
        for line in lines:
            ids = sp.encode(line)
            f.write(" ".join(map(str, ids)) + "\t" + sp.decode(ids) + "\n")
    print(model)


if __name__ == "__main__":
    main()
