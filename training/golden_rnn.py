# Golden files for tests/test_rnn.c, computed by the PyTorch twin (training/rnn_attn.py).
"""usage:
  golden_rnn.py tiny OUT_DIR                     random-weight tiny model dir (F32) + golden.json
  golden_rnn.py tiny-noattn OUT_DIR              the same without attention (config attention "none")
  golden_rnn.py shipped MODEL_DIR OUT [SHARED]   goldens for the shipped weights on Multi30k val

The C test loads the same weights and must match logits, encoder annotations, attention (or,
without attention, the summary vector c)
within 1e-4 and produce the same greedy and beam outputs, except at near ties (top-two gap
< 1e-4), which are flagged here so the test can report them.
"""
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_common  # noqa: E402
import model_io  # noqa: E402
import rnn_attn  # noqa: E402
from golden_common import rounded  # noqa: E402
from rnn_attn import BOS_ID, EOS_ID, BahdanauRNN, pad_batch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TINY = dict(vocab_size=40, embed_dim=8, enc_hidden=6, dec_hidden=10, attn_dim=7, maxout_dim=8,
            max_position_embeddings=40, dropout=0.0)
TINY_SPM = os.path.join(HERE, "..", "tests", "fixtures", "transformer-tiny", "source.spm")


def tiny_model(seed=7, attention="additive"):
    m = golden_common.noisy_model(BahdanauRNN, dict(TINY, attention=attention), seed)  # noise also makes the pad embedding row non-zero
    with torch.no_grad():
        m.out_bias[EOS_ID] += 1.2  # so that some hypotheses end with </s>
    return m


@torch.no_grad()
def teacher_forced(model, src, tgt_in, columns=None):
    """Logits, annotations and attention of one pair, from the twin's batched forward."""
    s, s_mask = pad_batch([src])
    logits, maps = model(s, s_mask, torch.tensor([tgt_in]), return_attn=True)
    annotations, keys, s0 = model.encode(s, s_mask)
    logits = logits[0]
    if columns is not None:
        logits = logits[:, columns]
    out = {"logits": rounded(logits), "cross_attention": rounded(maps["cross"][0]),
           "annotations": rounded(annotations[0]), "s0": rounded(s0[0])}
    if model.attn is None:
        out["summary"] = rounded(keys[0, 0])
    return out


def tiny_config(attention="additive"):
    cfg = dict(TINY, architectures=["BahdanauRNN"], model_type="rnn-attn", pad_token_id=0, unk_token_id=1,
               bos_token_id=BOS_ID, eos_token_id=EOS_ID, decoder_start_token_id=BOS_ID, tie_word_embeddings=True,
               attnlens={"task": "translate", "display_name": "tiny random RNN with attention",
                         "tokenizer": "source.spm", "shared_vocab": True})
    if attention == "none":
        del cfg["attn_dim"]
        cfg.update(attention="none", model_type="rnn-encdec")
        cfg["attnlens"]["display_name"] = "tiny random RNN without attention"
    return cfg


def write_tiny(out_dir, attention="additive"):
    model = tiny_model(attention=attention)
    golden_common.write_model_dir(model, out_dir, tiny_config(attention), "golden_rnn.py")
    shutil.copyfile(TINY_SPM, os.path.join(out_dir, "source.spm"))
    cases = golden_common.tiny_cases(rnn_attn, model, teacher_forced)
    mode = "tiny" if attention == "additive" else "tiny-noattn"
    golden_common.write_golden(os.path.join(out_dir, "golden.json"), "rnn_attn.py", f"golden_rnn.py {mode} {out_dir}",
                               cases)


def write_shipped(model_dir, out, shared, n_decode=200, n_forced=2):
    model, _ = model_io.load_dir(model_dir, BahdanauRNN)
    cases = golden_common.shipped_cases(rnn_attn, model, os.path.join(model_dir, "source.spm"), teacher_forced,
                                        shared, max_pieces=127, n_decode=n_decode, n_forced=n_forced)
    golden_common.write_golden(out, "rnn_attn.py", f"golden_rnn.py shipped {model_dir} {out}", cases)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "tiny-noattn":
        torch.set_num_threads(1)
        write_tiny(sys.argv[2], attention="none")
    else:
        golden_common.main(__doc__, write_tiny, write_shipped)
