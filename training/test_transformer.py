# Self-test of training/transformer.py: names, positions, masks, cached decoding, greedy == beam 1.
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_common  # noqa: E402
import transformer  # noqa: E402
from transformer import EOS_ID, MarianTransformer, pad_batch, sinusoidal_positions  # noqa: E402

SMALL = dict(d_model=16, encoder_layers=2, decoder_layers=2, encoder_attention_heads=2,
             decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, vocab_size=50, dropout=0.0)


def small_model():
    return golden_common.noisy_model(MarianTransformer, SMALL, seed=0)


def test_names():
    names = set(MarianTransformer().state_dict())
    for n in ["model.shared.weight", "final_logits_bias", "model.encoder.layers.2.self_attn.q_proj.weight",
              "model.encoder.layers.0.self_attn_layer_norm.bias", "model.encoder.layers.0.fc1.weight",
              "model.decoder.layers.1.encoder_attn.out_proj.bias", "model.decoder.layers.2.encoder_attn_layer_norm.weight",
              "model.decoder.layers.0.final_layer_norm.weight"]:
        assert n in names, n
    assert not any("embed_positions" in n or "lm_head" in n or "embed_tokens" in n for n in names)
    assert len(names) == 2 + 3 * 16 + 3 * 26


def test_positions():
    pe, d = sinusoidal_positions(7, 8), 8
    for p in range(7):
        for j in range(d // 2):
            assert abs(pe[p, j] - math.sin(p / 10000 ** (2 * j / d))) < 1e-6
            assert abs(pe[p, d // 2 + j] - math.cos(p / 10000 ** (2 * j / d))) < 1e-6


def test_cached_decoding_and_padding():
    m = small_model()
    src, mask = pad_batch([[5, 6, 7, 8, EOS_ID], [9, 10, EOS_ID]])
    tgt = torch.tensor([[0, 11, 12, 13], [0, 14, 15, 16]])
    with torch.no_grad():
        logits, maps = m(src, mask, tgt, return_attn=True)
        mem, _ = m.encode(src, mask)
        kv, caches = m.cross_kvs(mem), [{}, {}]
        for t in range(4):
            lp, _, cross = m.next_logprobs(tgt[:, t], t, kv, mask, caches)
            ref = torch.log_softmax(logits[:, t], -1)
            assert (lp[:, 1:] - ref[:, 1:]).abs().max() < 1e-5
            assert (cross[1][:, :, 0] - maps["cross"][1][:, :, t]).abs().max() < 1e-6
        alone = m(src[1:, :3], mask[1:, :3], tgt[1:])
    assert (alone - logits[1:]).abs().max() < 1e-5
    assert maps["cross"][0][1, :, :, 3:].abs().max() == 0  # padded keys get exactly 0
    assert maps["decoder_self"][0][0, :, 0, 1:].abs().max() == 0  # causal
    for group in maps.values():
        for p in group:
            assert (p.sum(-1) - 1).abs().max() < 1e-5


def test_greedy_equals_beam1():
    golden_common.greedy_equals_beam1(transformer, small_model(), maps=(2, 2))


if __name__ == "__main__":
    golden_common.run_tests([test_names, test_positions, test_cached_decoding_and_padding, test_greedy_equals_beam1])
