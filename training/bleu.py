# sacreBLEU-compatible corpus BLEU (13a tokeniser, case-sensitive, 4-gram, no smoothing), no dependencies.
import math
import re
import sys
from collections import Counter

_13A_RULES = [
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),  # punctuation and symbols
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),  # period/comma unless preceded by a digit
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),  # period/comma unless followed by a digit
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),  # dash preceded by a digit
]


def tokenize_13a(line):
    """sacrebleu's Tokenizer13a (mteval-v13a): returns the tokenised line as a string."""
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        line = line.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    line = f" {line} "
    for rule, repl in _13A_RULES:
        line = rule.sub(repl, line)
    return " ".join(line.split())


def ngrams(tokens, n):
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def sentence_stats(hyp, ref, order=4):
    """[hyp_len, ref_len, match_1, total_1, ..., match_n, total_n] for one tokenised pair."""
    h, r = hyp.split(), ref.split()
    stats = [len(h), len(r)]
    for n in range(1, order + 1):
        hc, rc = ngrams(h, n), ngrams(r, n)
        stats += [sum(min(c, rc[g]) for g, c in hc.items()), max(len(h) - n + 1, 0)]
    return stats


def bleu_from_stats(stats, order=4):
    """BLEU (0..100) = BP * exp(mean log p_n); 0 if any n-gram precision is 0 (no smoothing)."""
    hyp_len, ref_len = stats[0], stats[1]
    logs = []
    for n in range(order):
        match, total = stats[2 + 2 * n], stats[3 + 2 * n]
        if match == 0 or total == 0:
            return 0.0
        logs.append(math.log(match / total))
    bp = 1.0 if hyp_len >= ref_len else (math.exp(1 - ref_len / hyp_len) if hyp_len > 0 else 0.0)
    return 100.0 * bp * math.exp(sum(logs) / order)


def corpus_bleu(hyps, refs, order=4):
    """Corpus BLEU of detokenised hypotheses against one reference each (lists of str)."""
    if len(hyps) != len(refs):
        raise ValueError(f"{len(hyps)} hypotheses but {len(refs)} references")
    total = [0] * (2 + 2 * order)
    for h, r in zip(hyps, refs):
        s = sentence_stats(tokenize_13a(h.rstrip()), tokenize_13a(r.rstrip()), order)
        total = [a + b for a, b in zip(total, s)]
    return bleu_from_stats(total, order)


def char_ngrams(text, n):
    """Character n-grams of a line with all whitespace removed (sacreBLEU chrF's default)."""
    s = "".join(text.split())
    return Counter(s[i:i + n] for i in range(len(s) - n + 1))


def corpus_chrf(hyps, refs, order=6, beta=2.0):
    """Corpus chrF (sacreBLEU 2's definition: character n-grams 1..6, no word n-grams, beta 2).
    Match, hypothesis and reference n-gram counts are summed over the corpus per order; each
    order gives a precision and a recall; they are averaged over the orders that have both
    hypothesis and reference n-grams, and chrF = 100 x F-beta of the two averages."""
    if len(hyps) != len(refs):
        raise ValueError(f"{len(hyps)} hypotheses but {len(refs)} references")
    stats = [[0, 0, 0] for _ in range(order)]  # hyp, ref, match
    for h, r in zip(hyps, refs):
        for n in range(1, order + 1):
            hc, rc = char_ngrams(h, n), char_ngrams(r, n)
            st = stats[n - 1]
            st[0] += sum(hc.values())
            st[1] += sum(rc.values())
            st[2] += sum(min(c, rc[g]) for g, c in hc.items())
    eps, prec, rec, eff = 1e-16, 0.0, 0.0, 0
    for n_hyp, n_ref, n_match in stats:
        prec += n_match / n_hyp if n_hyp > 0 else eps
        rec += n_match / n_ref if n_ref > 0 else eps
        eff += n_hyp > 0 and n_ref > 0
    if eff == 0:
        return 0.0
    prec, rec = prec / eff, rec / eff
    if prec + rec == 0:
        return 0.0
    return 100.0 * (1 + beta ** 2) * prec * rec / (beta ** 2 * prec + rec)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: bleu.py HYP_FILE REF_FILE")
    with open(sys.argv[1], encoding="utf-8") as f, open(sys.argv[2], encoding="utf-8") as g:
        print(f"BLEU = {corpus_bleu(f.read().splitlines(), g.read().splitlines()):.2f}")


if __name__ == "__main__":
    main()
