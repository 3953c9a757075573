# Golden files for tests/test_rnn.c, computed by the PyTorch twin (training/rnn_attn.py).
"""usage:
  golden_rnn.py tiny OUT_DIR                     random-weight tiny model dir (F32) + golden.json
  golden_rnn.py shipped MODEL_DIR OUT [SHARED]   goldens for the shipped weights on Multi30k val

The C test loads the same weights and must match logits, encoder annotations and attention
within 1e-4 and produce the same greedy and beam outputs, except at near ties (top-two gap
< 1e-4), which are flagged here so the test can report them.
"""
import gzip
import json
import os
import shutil
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
from rnn_attn import BOS_ID, DEFAULT_CONFIG, EOS_ID, BahdanauRNN, beam_search, greedy_batch, pad_batch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TINY = dict(vocab_size=40, embed_dim=8, enc_hidden=6, dec_hidden=10, attn_dim=7, maxout_dim=8,
            max_position_embeddings=40, dropout=0.0)
TINY_SPM = os.path.join(HERE, "..", "tests", "fixtures", "transformer-tiny", "source.spm")


def tiny_model(seed=7):
    torch.manual_seed(seed)
    m = BahdanauRNN(TINY)
    with torch.no_grad():
        for p in m.parameters():  # non-trivial biases (and a non-zero pad row) so every path is exercised
            p.add_(torch.randn_like(p) * 0.3)
        m.out_bias[EOS_ID] += 1.2  # so that some hypotheses end with </s>
    return m.eval()


def rounded(t):
    return np.asarray(t, dtype=np.float32).tolist()


@torch.no_grad()
def teacher_forced(model, src, tgt_in, columns=None):
    """Logits, annotations and attention of one pair, from the twin's batched forward."""
    s, s_mask = pad_batch([src])
    logits, maps = model(s, s_mask, torch.tensor([tgt_in]), return_attn=True)
    annotations, _, s0 = model.encode(s, s_mask)
    logits = logits[0]
    if columns is not None:
        logits = logits[:, columns]
    return {"logits": rounded(logits), "cross_attention": rounded(maps["cross"][0]),
            "annotations": rounded(annotations[0]), "s0": rounded(s0[0])}


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


def decode_case(model, src, beam):
    greedy = greedy_batch(model, [src])[0]
    greedy_full = greedy + [EOS_ID] if len(greedy) < min(2 * len(src) + 10, 128) else greedy
    hyps = beam_search(model, src, beam=beam, alpha=1.0)
    return {"src": src, "greedy": greedy_full, "near_tie": near_tie(model, src, greedy_full),
            "beam": [{"ids": h.ids, "score": h.score, "normalized": h.normalized(1.0)} for h in hyps]}


def tiny_config():
    return dict(TINY, architectures=["BahdanauRNN"], model_type="rnn-attn", pad_token_id=0, unk_token_id=1,
                bos_token_id=BOS_ID, eos_token_id=EOS_ID, decoder_start_token_id=BOS_ID, tie_word_embeddings=True,
                attnlens={"task": "translate", "display_name": "tiny random RNN with attention",
                          "tokenizer": "source.spm", "shared_vocab": True})


def write_tiny(out_dir):
    model = tiny_model()
    os.makedirs(out_dir, exist_ok=True)
    state = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    safetensors_io.save_file(state, os.path.join(out_dir, "model.safetensors"), {"made_by": "golden_rnn.py"})
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(tiny_config(), f, indent=1)
    shutil.copyfile(TINY_SPM, os.path.join(out_dir, "source.spm"))
    rng = np.random.default_rng(3)
    cases = []
    for n in (1, 5, 11):
        src = [int(x) for x in rng.integers(4, TINY["vocab_size"], n - 1)] + [EOS_ID]
        tgt_in = [BOS_ID] + [int(x) for x in rng.integers(4, TINY["vocab_size"], 6)]
        case = dict(decode_case(model, src, beam=3), tgt_in=tgt_in, **teacher_forced(model, src, tgt_in))
        cases.append(case)
    write_golden(os.path.join(out_dir, "golden.json"), "golden_rnn.py tiny " + out_dir, cases)


def load_dir(model_dir):
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    arrays, _ = safetensors_io.load_file(os.path.join(model_dir, "model.safetensors"))
    model = BahdanauRNN({k: cfg[k] for k in DEFAULT_CONFIG if k in cfg})
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
        src = sp.encode(text)[:127] + [EOS_ID]
        case = dict(decode_case(model, src, beam=4), text=text)
        if i < n_forced:
            tgt_in = [BOS_ID] + case["greedy"][:-1]
            case.update(tgt_in=tgt_in, logit_columns=columns, **teacher_forced(model, src, tgt_in, columns))
        cases.append(case)
    write_golden(out, f"golden_rnn.py shipped {model_dir} {out}", cases)


def write_golden(path, command, cases):
    doc = {"made_by": "PyTorch twin training/rnn_attn.py, command: /usr/bin/python3 training/" + command,
           "torch": torch.__version__, "cases": cases}
    with open(path + ".tmp", "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    os.replace(path + ".tmp", path)


if __name__ == "__main__":
    torch.set_num_threads(1)
    if len(sys.argv) < 3 or sys.argv[1] not in ("tiny", "shipped") or (sys.argv[1] == "shipped" and len(sys.argv) < 4):
        sys.exit(__doc__)
    if sys.argv[1] == "tiny":
        write_tiny(sys.argv[2])
    else:
        write_shipped(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else "../shared")
