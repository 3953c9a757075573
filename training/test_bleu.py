# Self-test of training/bleu.py: 13a tokenisation cases and agreement with nltk's corpus_bleu.
import os
import random
import sys
import warnings

from nltk.translate.bleu_score import corpus_bleu as nltk_corpus_bleu

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bleu import corpus_bleu, corpus_chrf, tokenize_13a  # noqa: E402

TOKENIZE_CASES = [
    ("Hello, world.", "Hello , world ."),
    ("It costs 3.50 dollars, or 1,000 cents.", "It costs 3.50 dollars , or 1,000 cents ."),
    ("pages 10-20 (see \"notes\")", "pages 10 - 20 ( see \" notes \" )"),
    ("A &amp; B &lt;c&gt; &quot;d&quot;", "A & B < c > \" d \""),
    ("Ein Mann fährt Fahrrad.", "Ein Mann fährt Fahrrad ."),
    ("e-mail:me@x.org!", "e-mail : me @ x . org !"),
    ("  many   spaces\there ", "many spaces here"),
    ("end.", "end ."),
]


def check(cond, msg, failures):
    if not cond:
        failures.append(msg)


def nltk_bleu(hyps, refs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nltk_corpus_bleu([[tokenize_13a(r).split()] for r in refs], [tokenize_13a(h).split() for h in hyps])


def perturb(sentence, rng):
    """A plausible system output: drop, duplicate and swap some words."""
    words = sentence.split()
    out = [w for w in words if rng.random() > 0.15]
    if out and rng.random() < 0.3:
        out.insert(rng.randrange(len(out)), rng.choice(out))
    if len(out) > 2 and rng.random() < 0.3:
        i = rng.randrange(len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    return " ".join(out)


def corpus_cases():
    refs = ["Ein Mann fährt mit dem Fahrrad die Straße entlang.",
            "Zwei Hunde spielen im Schnee, und ein Kind schaut zu!",
            "Eine Frau in einem roten Kleid (mit Hut) singt 3.5 Stunden lang.",
            "Leute stehen vor einem Gebäude & warten auf den Bus."] * 5
    rng = random.Random(0)
    cases = [("identity", refs, refs)]
    for k in range(5):
        cases.append((f"perturbed{k}", [perturb(r, rng) for r in refs], refs))
    cases.append(("short", [" ".join(r.split()[:5]) for r in refs], refs))
    cases.append(("no4gram", [" ".join(r.split()[:2]) for r in refs], refs))
    return cases


CHRF_CASES = [
    (["The relationship between Obama and Netanyahu is not exactly friendly."],
     ["The ties between Obama and Netanyahu are not particularly friendly."], 61.576379378113785),
    (["The relationship between cats and dogs is not exactly friendly.",
      "a good bookshop is just a genteel black hole that knows how to read."],
     ["The relationship between dogs and cats is not exactly friendly.",
      "A good bookshop is just a genteel Black Hole that knows how to read."], 84.64214891738334),
]


def main():
    failures = []
    for text, want in TOKENIZE_CASES:
        got = tokenize_13a(text)
        check(got == want, f"tokenize {text!r}: got {got!r}, want {want!r}", failures)
    for name, hyps, refs in corpus_cases():
        ours, theirs = corpus_bleu(hyps, refs) / 100.0, nltk_bleu(hyps, refs)
        print(f"{name:12s} ours {ours:.8f} nltk {theirs:.8f}")
        check(abs(ours - theirs) < 1e-6, f"{name}: {ours} vs nltk {theirs}", failures)
    check(abs(corpus_bleu(["a b c d e"], ["a b c d e"]) - 100.0) < 1e-9, "identity != 100", failures)
    check(corpus_bleu(["x y z w"], ["a b c d"]) == 0.0, "no match != 0", failures)
    check(corpus_bleu([""], ["a b c d"]) == 0.0, "empty hypothesis != 0", failures)
    # chrF: the two examples of the chrF metric card of huggingface/datasets (metrics/chrf/README.md),
    # whose printed scores came from sacreBLEU's CHRF (char order 6, word order 0, beta 2).
    for hyps, refs, want in CHRF_CASES:
        got = corpus_chrf(hyps, refs)
        print(f"chrF ours {got:.10f} sacreBLEU {want:.10f}")
        check(abs(got - want) < 1e-9, f"chrF {got} vs sacreBLEU {want}", failures)
    for f in failures:
        print("FAIL:", f)
    print("test_bleu:", "FAILED" if failures else "ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
