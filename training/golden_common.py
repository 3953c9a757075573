# What golden_transformer.py and golden_rnn.py (and the twins' self-tests) share: seeded random models, greedy
# and beam cases with near-tie flags, and the golden.json writer. `twin` is the model's module (transformer or
# rnn_attn), for its greedy_batch and beam_search.
import gzip
import json
import os
import sys

import numpy as np
import torch

import safetensors_io
from transformer import EOS_ID, pad_batch

SOURCES = [[5, 6, 7, 8, EOS_ID], [9, 10, EOS_ID], [20, 21, 22, EOS_ID]]


def noisy_model(model_class, config, seed):
    """The twin's own initialisation after torch.manual_seed(seed), then Gaussian noise (std 0.3) on every
    parameter, so biases and norms are non-trivial and every path is exercised."""
    torch.manual_seed(seed)
    m = model_class(config)
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    return m.eval()


def greedy_equals_beam1(twin, model, maps):
    """Beam 1 reproduces greedy decoding on SOURCES; each output step keeps cross-attention [*maps, source]."""
    for s, g in zip(SOURCES, twin.greedy_batch(model, SOURCES)):
        hyp = twin.beam_search(model, s, beam=1)[0]
        assert hyp.ids_without_eos() == g, (hyp.ids, g)
        assert len(hyp.cross) == len(hyp.ids) and tuple(hyp.cross[0].shape) == maps + (len(s),)


def run_tests(tests):
    torch.set_num_threads(1)
    for t in tests:
        t()
        print("ok", t.__name__)


def rounded(t):
    return np.asarray(t, dtype=np.float32).tolist()


@torch.no_grad()
def near_tie(model, src, ids):
    """True if some greedy step's top two log-probs differ by less than 1e-4."""
    s, s_mask = pad_batch([src])
    start = model.config["decoder_start_token_id"]
    tgt_in = [start] + ids[:-1] if ids else [start]
    lp = torch.log_softmax(model(s, s_mask, torch.tensor([tgt_in]))[0], -1)
    lp[:, model.config["pad_token_id"]] = float("-inf")
    top2 = lp.topk(2, -1).values
    return bool(((top2[:, 0] - top2[:, 1]) < 1e-4).any())


def decode_case(twin, model, src, beam):
    greedy = twin.greedy_batch(model, [src])[0]
    greedy_full = greedy + [EOS_ID] if len(greedy) < min(2 * len(src) + 10, 128) else greedy
    hyps = twin.beam_search(model, src, beam=beam, alpha=1.0)
    return {"src": src, "greedy": greedy_full, "near_tie": near_tie(model, src, greedy_full),
            "beam": [{"ids": h.ids, "score": h.score, "normalized": h.normalized(1.0)} for h in hyps]}


def write_model_dir(model, out_dir, config, made_by):
    """The F32 weights and config.json of a tiny model directory."""
    os.makedirs(out_dir, exist_ok=True)
    state = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    safetensors_io.save_file(state, os.path.join(out_dir, "model.safetensors"), {"made_by": made_by})
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=1)


def tiny_cases(twin, model, teacher_forced):
    """Three random sources (1, 5 and 11 pieces), each with 7 random teacher-forced decoder inputs."""
    vocab, start = model.config["vocab_size"], model.config["decoder_start_token_id"]
    rng = np.random.default_rng(3)
    cases = []
    for n in (1, 5, 11):
        src = [int(x) for x in rng.integers(4, vocab, n - 1)] + [EOS_ID]
        tgt_in = [start] + [int(x) for x in rng.integers(4, vocab, 6)]
        cases.append(dict(decode_case(twin, model, src, beam=3), tgt_in=tgt_in, **teacher_forced(model, src, tgt_in)))
    return cases


def golden_sentences(model_dir, shared, n):
    """The English sentences a shipped model's golden file decodes: the first n Multi30k val
    sentences for the image-description models; for a general model (config attnlens.domain
    "everyday + news"), its own validation sets in turn (held-out Tatoeba, newstest2013,
    Multi30k val), so the cross-check covers short and long inputs."""
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        a = json.load(f).get("attnlens", {})
    if a.get("domain") == "everyday + news":
        import mt_corpus
        sets = [[en for en, _ in p] for p in mt_corpus.validation_sets(a["target_lang"],
                                                                      os.path.join(shared, "data")).values()]
        out = []
        for i in range(n):
            for s in sets:
                if len(out) < n and i < len(s):
                    out.append(s[i])
        return out
    with gzip.open(os.path.join(shared, "data", "multi30k", "val.en.gz"), "rt", encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f][:n]


def shipped_cases(twin, model, spm_path, teacher_forced, shared, max_pieces=None, n_decode=200, n_forced=2):
    """Beam-4 cases for n_decode sentences (golden_sentences); the first n_forced are also teacher-forced
    on their greedy output, keeping 400 fixed logit columns."""
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=spm_path)
    sentences = golden_sentences(os.path.dirname(os.path.abspath(spm_path)), shared, n_decode)
    columns = sorted(int(c) for c in np.random.default_rng(5).choice(model.config["vocab_size"], 400, replace=False))
    cases = []
    for i, text in enumerate(sentences):
        src = sp.encode(text)[:max_pieces] + [EOS_ID]
        case = dict(decode_case(twin, model, src, beam=4), text=text)
        if i < n_forced:
            tgt_in = [model.config["decoder_start_token_id"]] + case["greedy"][:-1]
            case.update(tgt_in=tgt_in, logit_columns=columns, **teacher_forced(model, src, tgt_in, columns))
        cases.append(case)
    return cases


def write_golden(path, twin_file, command, cases):
    doc = {"made_by": f"PyTorch twin training/{twin_file}, command: /usr/bin/python3 training/" + command,
           "torch": torch.__version__, "cases": cases}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    os.replace(path + ".tmp", path)


def main(usage, write_tiny, write_shipped):
    """`tiny OUT_DIR` or `shipped MODEL_DIR OUT [SHARED]` (SHARED defaults to ../shared)."""
    torch.set_num_threads(1)
    if len(sys.argv) < 3 or sys.argv[1] not in ("tiny", "shipped") or (sys.argv[1] == "shipped" and len(sys.argv) < 4):
        sys.exit(usage)
    if sys.argv[1] == "tiny":
        write_tiny(sys.argv[2])
    else:
        write_shipped(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else "../shared")
