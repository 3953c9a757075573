# Self-test of training/rnn_attn.py: names and shapes, padding, cached decoding == teacher forcing, greedy == beam 1.
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_common  # noqa: E402
import rnn_attn  # noqa: E402
from golden_common import SOURCES  # noqa: E402
from rnn_attn import BOS_ID, EOS_ID, BahdanauRNN, beam_search, pad_batch  # noqa: E402

SMALL = dict(vocab_size=50, embed_dim=8, enc_hidden=6, dec_hidden=10, attn_dim=7, maxout_dim=8, dropout=0.0)


def small_model():
    return golden_common.noisy_model(BahdanauRNN, SMALL, seed=0)


def test_names_and_shapes():
    shapes = {k: tuple(v.shape) for k, v in BahdanauRNN().state_dict().items()}
    want = {"embed.weight": (8000, 256), "out_bias": (8000,),
            "encoder.gru.weight_ih_l0": (768, 256), "encoder.gru.weight_hh_l0": (768, 256),
            "encoder.gru.bias_ih_l0": (768,), "encoder.gru.bias_hh_l0": (768,),
            "encoder.gru.weight_ih_l0_reverse": (768, 256), "encoder.gru.weight_hh_l0_reverse": (768, 256),
            "encoder.gru.bias_ih_l0_reverse": (768,), "encoder.gru.bias_hh_l0_reverse": (768,),
            "decoder.init.weight": (512, 256), "decoder.init.bias": (512,),
            "attn.W.weight": (256, 512), "attn.W.bias": (256,), "attn.U.weight": (256, 512), "attn.v.weight": (1, 256),
            "decoder.cell.weight_ih": (1536, 768), "decoder.cell.weight_hh": (1536, 512),
            "decoder.cell.bias_ih": (1536,), "decoder.cell.bias_hh": (1536,),
            "deep_out.weight": (512, 1280), "deep_out.bias": (512,)}
    assert shapes == want, set(shapes.items()) ^ set(want.items())
    n = sum(v.numel() for v in BahdanauRNN().parameters())
    assert n == 5_864_768, n


def test_cached_decoding_and_padding():
    m = small_model()
    src, mask = pad_batch([[5, 6, 7, 8, EOS_ID], [9, 10, EOS_ID]])
    tgt = torch.tensor([[BOS_ID, 11, 12, 13], [BOS_ID, 14, 15, 16]])
    with torch.no_grad():
        logits, maps = m(src, mask, tgt, return_attn=True)
        ann, keys, s = m.encode(src, mask)
        for t in range(4):
            lp, s, a = m.next_logprobs(tgt[:, t], s, (ann, keys), mask)
            ref = torch.log_softmax(logits[:, t], -1)
            assert (lp[:, 1:] - ref[:, 1:]).abs().max() < 1e-5
            assert lp[:, 0].eq(float("-inf")).all()
            assert (a - maps["cross"][:, t]).abs().max() < 1e-6
        alone, alone_maps = m(src[1:, :3], mask[1:, :3], tgt[1:], return_attn=True)
    assert tuple(logits.shape) == (2, 4, 50) and tuple(maps["cross"].shape) == (2, 4, 5)
    assert (alone - logits[1:]).abs().max() < 1e-5  # padding changes nothing (packed backward GRU)
    assert maps["cross"][1, :, 3:].abs().max() == 0  # padded keys get exactly 0
    assert (maps["cross"].sum(-1) - 1).abs().max() < 1e-5


def test_gru_by_hand():
    """The encoder's forward direction equals the textbook GRU with gate order r, z, n."""
    m = small_model()
    g = m.encoder.gru
    x = m.embed(torch.tensor([[5, 6, EOS_ID]]))
    with torch.no_grad():
        ann, _, _ = m.encode(torch.tensor([[5, 6, EOS_ID]]), torch.ones(1, 3, dtype=torch.bool))
        h = torch.zeros(6)
        for t in range(3):
            gi = g.weight_ih_l0 @ x[0, t] + g.bias_ih_l0
            gh = g.weight_hh_l0 @ h + g.bias_hh_l0
            r, z = torch.sigmoid(gi[:6] + gh[:6]), torch.sigmoid(gi[6:12] + gh[6:12])
            n = torch.tanh(gi[12:] + r * gh[12:])
            h = (1 - z) * n + z * h
            assert (ann[0, t, :6] - h).abs().max() < 1e-6


def test_greedy_equals_beam1():
    m = small_model()
    golden_common.greedy_equals_beam1(rnn_attn, m, maps=(1, 1))
    for s in SOURCES:
        hyps = beam_search(m, s, beam=3)
        assert all(a.normalized(1.0) >= b.normalized(1.0) for a, b in zip(hyps, hyps[1:]))


if __name__ == "__main__":
    golden_common.run_tests([test_names_and_shapes, test_cached_decoding_and_padding, test_gru_by_hand,
                             test_greedy_equals_beam1])
