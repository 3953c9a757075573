# The general-domain translation corpora (everyday + news + image descriptions) for En->De and
# En->Fr: training mix, held-out validation, de-duplicated test sets, and their tokenizers.
#
# Everything here is deterministic (fixed seeds), so a run that resumes in a later session, the
# evaluation and the export all see exactly the same splits.
#
# Sources (../shared/data, see its README.md, sections 1 and 3-5):
#   tatoeba/{deu,fra}.txt           everyday sentences, CC-BY 2.0 (manythings.org/anki, tatoeba.org)
#   wmt/newstest2009-2012.en-XX     news, for training; newstest2013 is the news development set
#   multi30k/train (En-De only)     image descriptions
#   tatoeba-test v2021-08-07        the test set, with every pair whose English side occurs in the
#                                   training data removed
import gzip
import hashlib
import json
import os
import random
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data"))

LANGS = {"de": dict(tatoeba="deu", wmt="en-de", wmt_ext="deu", multi30k=True),
         "fr": dict(tatoeba="fra", wmt="en-fr", wmt_ext="fra", multi30k=False)}

# How often each domain is repeated in one epoch of training data ("the mix").
MIX = {"tatoeba": 1, "news": 2, "multi30k": 1}
VAL_TATOEBA = 1000      # distinct English sentences held out of tatoeba/XXX.txt for validation
VAL_NEWS = 500          # first N sentences of newstest2013
VAL_MULTI30K = 500      # first N sentences of Multi30k val
MAX_PIECES = 100        # pairs longer than this on either side are left out of training


def _lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def _gz_lines(path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def norm_key(en):
    """The English side as compared for de-duplication: NFC, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", en).split())


def tatoeba_pairs(lang, shared=SHARED):
    out = []
    for line in _lines(os.path.join(shared, "tatoeba", LANGS[lang]["tatoeba"] + ".txt")):
        cols = line.split("\t")
        if len(cols) >= 2 and cols[0].strip() and cols[1].strip():
            out.append((cols[0].strip(), cols[1].strip()))
    return out


def news_pairs(lang, years, shared=SHARED):
    spec = LANGS[lang]
    out = []
    for y in years:
        base = os.path.join(shared, "wmt", f"newstest{y}.{spec['wmt']}")
        en, xx = _lines(base + ".eng"), _lines(base + "." + spec["wmt_ext"])
        assert len(en) == len(xx), base
        out += [(a.strip(), b.strip()) for a, b in zip(en, xx) if a.strip() and b.strip()]
    return out


def multi30k_pairs(split, shared=SHARED):
    d = os.path.join(shared, "multi30k")
    return list(zip(_gz_lines(os.path.join(d, f"{split}.en.gz")), _gz_lines(os.path.join(d, f"{split}.de.gz"))))


def _tatoeba_split(lang, shared=SHARED):
    """(train pairs, val pairs): VAL_TATOEBA distinct English sentences (all their translations)
    are held out, chosen by a seeded shuffle of the distinct English sides."""
    pairs = tatoeba_pairs(lang, shared)
    keys = sorted({norm_key(en) for en, _ in pairs})
    random.Random(20261202).shuffle(keys)
    held = set(keys[:VAL_TATOEBA])
    train = [p for p in pairs if norm_key(p[0]) not in held]
    val, seen = [], set()
    for p in pairs:   # one reference per held-out English sentence (the first, as in the file)
        k = norm_key(p[0])
        if k in held and k not in seen:
            seen.add(k)
            val.append(p)
    return train, val


def training_domains(lang, shared=SHARED):
    """{domain: list of (en, xx)} before the mix is applied."""
    tat, _ = _tatoeba_split(lang, shared)
    doms = {"tatoeba": tat, "news": news_pairs(lang, (2009, 2010, 2011, 2012), shared)}
    if LANGS[lang]["multi30k"]:
        doms["multi30k"] = multi30k_pairs("train", shared)
    return doms


def validation_sets(lang, shared=SHARED):
    """{domain: list of (en, xx)}: held-out Tatoeba, newstest2013[:500], Multi30k val[:500]."""
    _, tat_val = _tatoeba_split(lang, shared)
    out = {"tatoeba": tat_val, "news": news_pairs(lang, (2013,), shared)[:VAL_NEWS]}
    if LANGS[lang]["multi30k"]:
        out["multi30k"] = multi30k_pairs("val", shared)[:VAL_MULTI30K]
    return out


def tatoeba_test(lang, shared=SHARED):
    """The Tatoeba test v2021-08-07 pairs whose English side does not occur in the training data
    (any domain) nor in the validation data. Returns (kept pairs, total pairs)."""
    name = {"de": "en-de.eng", "fr": "en-fr.eng"}[lang]
    base = os.path.join(shared, "tatoeba-test", "tatoeba-test-v2021-08-07." + name[:-4])
    en = _lines(base + ".eng")
    xx = _lines(base + "." + LANGS[lang]["wmt_ext"])
    assert len(en) == len(xx)
    seen = {norm_key(a) for pairs in training_domains(lang, shared).values() for a, _ in pairs}
    seen |= {norm_key(a) for pairs in validation_sets(lang, shared).values() for a, _ in pairs}
    kept = [(a, b) for a, b in zip(en, xx) if norm_key(a) not in seen]
    return kept, len(en)


def test_sets(lang, shared=SHARED):
    """{name: (sources, references)} of every held-out test set reported for a general model."""
    tat, _ = tatoeba_test(lang, shared)
    news = news_pairs(lang, (2013,), shared)
    out = {"tatoeba-test-v2021-dedup": ([a for a, _ in tat], [b for _, b in tat]),
           "newstest2013": ([a for a, _ in news], [b for _, b in news])}
    if LANGS[lang]["multi30k"]:
        m = multi30k_pairs("test_2016_flickr", shared)
        out["multi30k-test2016"] = ([a for a, _ in m], [b for _, b in m])
    return out


def encode_pairs(sp, pairs, max_pieces=MAX_PIECES):
    """Pieces + </s> for both sides; pairs with a side over max_pieces pieces are dropped."""
    from transformer import EOS_ID
    src, tgt = [], []
    for en, xx in pairs:
        a, b = sp.encode(en), sp.encode(xx)
        if 0 < len(a) <= max_pieces and 0 < len(b) <= max_pieces:
            src.append(a + [EOS_ID])
            tgt.append(b + [EOS_ID])
    return src, tgt


def training_data(sp, lang, shared=SHARED, mix=None, limit=0):
    """Encoded training pairs with the mix applied (each domain repeated MIX[d] times)."""
    mix = mix or MIX
    src, tgt, counts = [], [], {}
    for dom, pairs in training_domains(lang, shared).items():
        if limit:
            pairs = pairs[:limit]
        s, t = encode_pairs(sp, pairs)
        counts[dom] = (len(pairs), len(s), mix[dom])
        for _ in range(mix[dom]):
            src += s
            tgt += t
    return src, tgt, counts


def spm_corpus_lines(lang, shared=SHARED):
    """The sentences the joint tokenizer is trained on: both sides of every training domain,
    each domain once (the tokenizer sees no validation or test text)."""
    out = []
    for pairs in training_domains(lang, shared).values():
        for en, xx in pairs:
            out.append(en)
            out.append(xx)
    return out


def fingerprint(lang, shared=SHARED):
    """A short hash of the training data, stored in checkpoints so a resume on other data fails."""
    h = hashlib.sha256()
    for dom, pairs in sorted(training_domains(lang, shared).items()):
        h.update(dom.encode())
        h.update(str(len(pairs)).encode())
        for en, xx in pairs[:50]:
            h.update((en + "\t" + xx + "\n").encode())
    h.update(json.dumps(MIX, sort_keys=True).encode())
    return h.hexdigest()[:16]


if __name__ == "__main__":
    for lang in ("de", "fr"):
        doms = training_domains(lang)
        vals = validation_sets(lang)
        kept, total = tatoeba_test(lang)
        print(lang, {d: len(p) for d, p in doms.items()}, "val", {d: len(p) for d, p in vals.items()},
              f"tatoeba-test kept {len(kept)} of {total}", "fingerprint", fingerprint(lang))
