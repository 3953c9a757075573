# Golden files for tests/test_transformer.c, computed by the PyTorch twin (training/transformer.py).
"""usage:
  golden_transformer.py tiny OUT_DIR                     random-weight tiny model dir (F32) + golden.json
  golden_transformer.py shipped MODEL_DIR OUT [SHARED]   goldens for the shipped weights on Multi30k val

The C test loads the same weights and must match logits and attention maps within 1e-4 and
produce the same greedy and beam outputs, except at near ties (top-two gap < 1e-4), which
are flagged here so the test can report them.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_common  # noqa: E402
import model_io  # noqa: E402
import transformer  # noqa: E402
from golden_common import rounded  # noqa: E402
from transformer import EOS_ID, MarianTransformer, pad_batch  # noqa: E402

TINY = dict(d_model=16, encoder_layers=2, decoder_layers=2, encoder_attention_heads=2, decoder_attention_heads=2,
            encoder_ffn_dim=32, decoder_ffn_dim=32, vocab_size=50, max_position_embeddings=40, dropout=0.0,
            activation_function="relu")


def tiny_model(seed=7):
    m = golden_common.noisy_model(MarianTransformer, TINY, seed)
    with torch.no_grad():
        m.final_logits_bias[0, EOS_ID] += 2.5  # so that some hypotheses end with </s>
    return m


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


def write_tiny(out_dir):
    model = tiny_model()
    cfg = dict(TINY, architectures=["MarianMTModel"], model_type="marian", pad_token_id=0, eos_token_id=EOS_ID,
               decoder_start_token_id=0, scale_embedding=True, normalize_before=False, tie_word_embeddings=True,
               layer_norm_eps=1e-5, attnlens={"task": "translate", "display_name": "tiny random transformer"})
    golden_common.write_model_dir(model, out_dir, cfg, "golden_transformer.py")
    write_tiny_spm(out_dir)
    cases = golden_common.tiny_cases(transformer, model, teacher_forced)
    golden_common.write_golden(os.path.join(out_dir, "golden.json"), "transformer.py",
                               "golden_transformer.py tiny " + out_dir, cases)


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


def write_shipped(model_dir, out, shared, n_decode=200, n_forced=2):
    model, _ = model_io.load_dir(model_dir, MarianTransformer)
    cases = golden_common.shipped_cases(transformer, model, os.path.join(model_dir, "source.spm"), teacher_forced,
                                        shared, n_decode=n_decode, n_forced=n_forced)
    golden_common.write_golden(out, "transformer.py", f"golden_transformer.py shipped {model_dir} {out}", cases)


if __name__ == "__main__":
    golden_common.main(__doc__, write_tiny, write_shipped)
