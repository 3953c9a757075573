# Golden files for tests/test_transformer.c, computed by the PyTorch twin (training/transformer.py).
"""usage:
  golden_transformer.py tiny OUT_DIR            random-weight tiny model dir (F32) + golden.json
  golden_transformer.py shipped MODEL_DIR OUT   goldens for the shipped weights on Multi30k val

The C test loads the same weights and must match logits and attention maps within 1e-4 and
produce the same greedy and beam outputs, except at near ties (top-two gap < 1e-4), which
are flagged here so the test can report them.
"""
import gzip
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
from transformer import EOS_ID, MarianTransformer, beam_search, greedy_batch, pad_batch  # noqa: E402

TINY = dict(d_model=16, encoder_layers=2, decoder_layers=2, encoder_attention_heads=2, decoder_attention_heads=2,
            encoder_ffn_dim=32, decoder_ffn_dim=32, vocab_size=50, max_position_embeddings=40, dropout=0.0,
            activation_function="relu")


def tiny_model(seed=7):
    torch.manual_seed(seed)
    m = MarianTransformer(TINY)
    with torch.no_grad():
        for p in m.parameters():  # non-trivial biases and norms so every path is exercised
            p.add_(torch.randn_like(p) * 0.3)
        m.final_logits_bias[0, EOS_ID] += 2.5  # so that some hypotheses end with </s>
    return m.eval()


def rounded(t):
    return np.asarray(t, dtype=np.float32).tolist()


@torch.no_grad()
def teacher_forced(model, src, tgt_in, columns=None):
    """Logits and every attention map of one pair, from the twin's batched forward."""
    s, s_mask = pad_batch([src])
    t = torch.tensor([tgt_in])
    logits, maps = model(s, s_mask, t, return_attn=True)
    logits = logits[0]
    if columns is not None:
        logits = logits[:, columns]
    return {"logits": rounded(logits),
            "encoder_attention": rounded(torch.stack([m[0] for m in maps["encoder_self"]])),
            "cross_attention": rounded(torch.stack([m[0] for m in maps["cross"]])),
            "decoder_attention": rounded(torch.stack([m[0] for m in maps["decoder_self"]]))}


@torch.no_grad()
def near_tie(model, src, ids):
    """True if some greedy step's top two log-probs differ by less than 1e-4."""
    s, s_mask = pad_batch([src])
    tgt_in = [model.config["decoder_start_token_id"]] + ids[:-1] if ids else [model.config["decoder_start_token_id"]]
    lp = torch.log_softmax(model(s, s_mask, torch.tensor([tgt_in]))[0], -1)
    lp[:, model.config["pad_token_id"]] = float("-inf")
    top2 = lp.topk(2, -1).values
    return bool(((top2[:, 0] - top2[:, 1]) < 1e-4).any())


def decode_case(model, src, beam):
    greedy = greedy_batch(model, [src])[0]
    greedy_full = greedy + [EOS_ID] if len(greedy) < min(2 * len(src) + 10, 128) else greedy
    hyps = beam_search(model, src, beam=beam, alpha=1.0)
    return {"src": src, "greedy": greedy_full, "near_tie": near_tie(model, src, greedy_full),
            "beam": [{"ids": h.ids, "score": h.score, "normalized": h.normalized(1.0)} for h in hyps]}


def write_tiny(out_dir):
    model = tiny_model()
    os.makedirs(out_dir, exist_ok=True)
    state = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    safetensors_io.save_file(state, os.path.join(out_dir, "model.safetensors"), {"made_by": "golden_transformer.py"})
    cfg = dict(TINY, architectures=["MarianMTModel"], model_type="marian", pad_token_id=0, eos_token_id=EOS_ID,
               decoder_start_token_id=0, scale_embedding=True, normalize_before=False, tie_word_embeddings=True,
               layer_norm_eps=1e-5, attnlens={"task": "translate", "display_name": "tiny random transformer"})
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    write_tiny_spm(out_dir)
    rng = np.random.default_rng(3)
    cases = []
    for n in (1, 5, 11):
        src = [int(x) for x in rng.integers(4, TINY["vocab_size"], n - 1)] + [EOS_ID]
        tgt_in = [0] + [int(x) for x in rng.integers(4, TINY["vocab_size"], 6)]
        case = dict(decode_case(model, src, beam=3), tgt_in=tgt_in, **teacher_forced(model, src, tgt_in))
        cases.append(case)
    write_golden(os.path.join(out_dir, "golden.json"), "golden_transformer.py tiny " + out_dir, cases)


def write_tiny_spm(out_dir):
    """A 40-piece tokenizer over the letters a-h (identity normaliser, so the file stays
    small), so the tiny model can translate text end to end in tests."""
    import sentencepiece as spm
    rng = np.random.default_rng(11)
    words = ["".join(rng.choice(list("abcdefgh"), rng.integers(1, 6))) for _ in range(400)]
    corpus = os.path.join(out_dir, "corpus.tmp")
    with open(corpus, "w") as f:
        for i in range(0, 400, 5):
            f.write(" ".join(words[i:i + 5]) + "\n")
    spm.SentencePieceTrainer.train(input=corpus, model_prefix=os.path.join(out_dir, "spm"), vocab_size=40,
                                   model_type="unigram", character_coverage=1.0, normalization_rule_name="identity",
                                   pad_id=0, unk_id=1, bos_id=2, eos_id=3, minloglevel=2)
    os.replace(os.path.join(out_dir, "spm.model"), os.path.join(out_dir, "source.spm"))
    os.remove(os.path.join(out_dir, "spm.vocab"))
    os.remove(corpus)


def load_dir(model_dir):
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    arrays, _ = safetensors_io.load_file(os.path.join(model_dir, "model.safetensors"))
    model = MarianTransformer({k: cfg[k] for k in TINY if k in cfg})
    model.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in arrays.items()})
    return model.eval()


def write_shipped(model_dir, out, shared, n_decode=200, n_forced=2):
    import sentencepiece as spm
    model = load_dir(model_dir)
    sp = spm.SentencePieceProcessor(model_file=os.path.join(model_dir, "source.spm"))
    with gzip.open(os.path.join(shared, "data", "multi30k", "val.en.gz"), "rt", encoding="utf-8") as f:
        sentences = [line.rstrip("\n") for line in f][:n_decode]
    columns = sorted(int(c) for c in np.random.default_rng(5).choice(model.config["vocab_size"], 400, replace=False))
    cases = []
    for i, text in enumerate(sentences):
        src = sp.encode(text) + [EOS_ID]
        case = dict(decode_case(model, src, beam=4), text=text)
        if i < n_forced:
            tgt_in = [0] + case["greedy"][:-1]
            case.update(tgt_in=tgt_in, logit_columns=columns, **teacher_forced(model, src, tgt_in, columns))
        cases.append(case)
    write_golden(out, f"golden_transformer.py shipped {model_dir} {out}", cases)


def write_golden(path, command, cases):
    doc = {"made_by": "PyTorch twin training/transformer.py, command: /usr/bin/python3 training/" + command,
           "torch": torch.__version__, "cases": cases}
    with open(path + ".tmp", "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    os.replace(path + ".tmp", path)


if __name__ == "__main__":
    torch.set_num_threads(1)
    if sys.argv[1] == "tiny":
        write_tiny(sys.argv[2])
    else:
        write_shipped(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else "../shared")
