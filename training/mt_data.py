# Multi30k En-De loading and SentencePiece encoding shared by the Transformer train/eval scripts.
import gzip
import os

import sentencepiece as spm

from transformer import EOS_ID, MAX_POSITIONS

HERE = os.path.dirname(os.path.abspath(__file__))
# ../shared beside the checkout, as on every developer's machine and in CI
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data", "multi30k"))
SPM_MODEL = os.path.join(HERE, "work", "spm", "ende.model")


def read_lines(split, lang, data_dir=DATA):
    with gzip.open(os.path.join(data_dir, f"{split}.{lang}.gz"), "rt", encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def load_spm(path=SPM_MODEL):
    return spm.SentencePieceProcessor(model_file=path)


def encode(sp, text):
    """Source/target ids: pieces truncated to MAX_POSITIONS-1, then </s>."""
    return sp.encode(text)[:MAX_POSITIONS - 1] + [EOS_ID]


def load_pairs(sp, split, data_dir=DATA, limit=None):
    """Returns (src id lists, tgt id lists, raw De references) for a split."""
    en, de = read_lines(split, "en", data_dir), read_lines(split, "de", data_dir)
    if limit:
        en, de = en[:limit], de[:limit]
    return [encode(sp, s) for s in en], [encode(sp, t) for t in de], de


def decode(sp, ids):
    return sp.decode(ids)
