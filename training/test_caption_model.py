# Self-test of training/caption_model.py: names and shapes, attention rows, incremental == teacher-forced decoding,
# greedy == beam 1, the loss, and the vocabulary covering every caption of the scene grammar.
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import caption_model  # noqa: E402
import golden_common  # noqa: E402
import scenes  # noqa: E402
from caption_model import BOS_ID, EOS_ID, ShowAttendTell  # noqa: E402

SMALL = dict(vocab_size=len(caption_model.vocabulary()), image_size=16, conv_channels=[4, 6, 8],
             pool_after=[1, 1, 0], embed_dim=6, hidden=10, attn_dim=7, dropout=0.0, max_length=12)


def small_model():
    m = golden_common.noisy_model(ShowAttendTell, SMALL, seed=0)
    with torch.no_grad():
        m.out.L_o.bias[EOS_ID] += 1.0
    return m


def images(n, size=16, seed=1):
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


def test_names_and_shapes():
    m = ShowAttendTell(dict(vocab_size=len(caption_model.vocabulary())))
    shapes = {k: tuple(v.shape) for k, v in m.state_dict().items()}
    assert shapes["encoder.convs.0.weight"] == (32, 3, 3, 3) and shapes["encoder.convs.4.weight"] == (128, 128, 3, 3)
    assert shapes["encoder.pos"] == (144, 128) and shapes["attn.enc.weight"] == (128, 128)
    assert shapes["decoder.cell.weight_ih"] == (1024, 64 + 128) and shapes["out.L_o.weight"] == (len(
        caption_model.vocabulary()), 64)
    assert shapes["encoder.mean"] == (3,) and shapes["decoder.f_beta.weight"] == (1, 256)
    print("   parameters", caption_model.param_count(m), "encoder MFLOP", caption_model.flops_per_image(m.config) / 1e6)


def test_attention_rows_and_beta():
    m = small_model()
    logits, alphas, betas = m(images(2), torch.tensor([[BOS_ID, 5, 6], [BOS_ID, 7, 8]]))
    assert logits.shape == (2, 3, SMALL["vocab_size"]) and alphas.shape == (2, 3, 16) and betas.shape == (2, 3)
    assert torch.allclose(alphas.sum(-1), torch.ones(2, 3), atol=1e-6)
    assert bool(((betas > 0) & (betas < 1)).all())


def test_incremental_equals_forced():
    m = small_model()
    img = images(1)
    (ids, alphas, betas), = caption_model.greedy_batch(m, img, with_attention=True)
    full = ids + [EOS_ID] if len(ids) < SMALL["max_length"] else ids
    logits, a2, b2 = m(img, torch.tensor([[BOS_ID] + full[:-1]]))
    assert logits[0].argmax(-1).tolist() == full
    assert torch.allclose(alphas, a2[0], atol=1e-6) and torch.allclose(betas, b2[0], atol=1e-6)


def test_greedy_equals_beam1():
    m = small_model()
    imgs = images(3, seed=4)
    for img, g in zip(imgs, caption_model.greedy_batch(m, imgs)):
        hyp = caption_model.beam_search(m, img, beam=1)[0]
        assert hyp.ids_without_eos() == g, (hyp.ids, g)
        assert tuple(hyp.cross[0].shape) == (1, 1, 17)
    hyps = caption_model.beam_search(m, imgs[0], beam=3)
    assert 1 <= len(hyps) <= 3
    scores = [h.normalized(1.0) for h in hyps]
    assert scores == sorted(scores, reverse=True)


def test_loss():
    m = small_model()
    tgt_in = torch.tensor([[BOS_ID, 5, 6], [BOS_ID, 7, 0]])
    labels = torch.tensor([[5, 6, EOS_ID], [7, EOS_ID, 0]])
    total, ce, n = caption_model.loss(m, images(2), tgt_in, labels, alpha_c=0.0)
    assert n == 5 and abs(float(total) - ce / 2) < 1e-4
    with_reg, _, _ = caption_model.loss(m, images(2), tgt_in, labels, alpha_c=1.0)
    assert float(with_reg) > float(total)
    # attention supervision adds weight * -sum target log alpha, computed here from the model's own alphas
    _, alphas, _ = m(images(2), tgt_in)
    target = torch.zeros_like(alphas)
    target[0, 1, 3] = 1.0
    target[1, 0, :4] = 0.25
    sup, _, _ = caption_model.loss(m, images(2), tgt_in, labels, 0.0, target, 2.0)
    expect = -2.0 * (torch.log(alphas[0, 1, 3]) + 0.25 * torch.log(alphas[1, 0, :4]).sum()) / 2
    assert abs(float(sup) - float(total) - float(expect)) < 1e-3, (float(sup), float(total), float(expect))
    off, _, _ = caption_model.loss(m, images(2), tgt_in, labels, 0.0, target, 0.0)
    assert abs(float(off) - float(total)) < 1e-5


def test_attention_targets():
    """Every step of a noun phrase (article or count, size, colour, shape) targets the named objects' visible pixels
    per grid cell; relation words and </s> get no target; each supervised row sums to 1 and lies on the masks."""
    for i in range(40):
        s = scenes.make_scene("train", i, size=48)
        for text in s["captions"]:
            w = text.split()
            t = caption_model.attention_targets(w, s["objects"], s["masks"], 6)
            assert t.shape == (len(w) + 1, 36)
            assert not t[-1].any()
            phrases = scenes.parse_caption(w)
            supervised = set()
            for k, _, size, colour, shape in phrases:
                first = k - (size is not None) - (colour is not None)
                first -= first > 0 and w[first - 1] in scenes.COUNT_WORDS
                supervised |= set(range(first, k + 1))
                named = [j for j, o in enumerate(s["objects"]) if o["shape"] == shape and
                         size in (None, o["size"]) and colour in (None, o["colour"])]
                cells = np.zeros((6, 6), dtype=bool)
                for j in named:
                    cells |= scenes.grid_mask(s["masks"][j], 6)
                for r in range(first, k + 1):
                    assert abs(t[r].sum() - 1.0) < 1e-5 and not (t[r].reshape(6, 6) > 0)[~cells].any(), (text, r)
            for r in range(len(w)):
                assert (r in supervised) == bool(t[r].any()), (text, w[r])


def test_vocabulary_covers_the_grammar():
    index = {w: i for i, w in enumerate(caption_model.vocabulary())}
    assert len(index) == len(caption_model.vocabulary())
    for i in range(200):
        for c in scenes.make_scene("train", i, size=32)["captions"]:
            assert caption_model.UNK_ID not in caption_model.encode_caption(c, index), c


def test_fold_batchnorm():
    """A BatchNorm-trained encoder (eval mode, non-trivial running statistics) and its folded plain twin compute the
    same annotations and the same logits."""
    torch.manual_seed(3)
    bn = ShowAttendTell(dict(SMALL, batchnorm=True))
    bn.train()
    for _ in range(3):  # collect running statistics from real forward passes
        bn.encoder(images(4, seed=7))
    with torch.no_grad():
        for b in bn.encoder.bns:
            b.weight.uniform_(0.5, 1.5), b.bias.uniform_(-0.3, 0.3)
    bn.eval()
    state, config = caption_model.fold_batchnorm(bn.state_dict(), bn.config)
    assert not config["batchnorm"] and not any(k.startswith("encoder.bns") for k in state)
    plain = ShowAttendTell(config).eval()
    plain.load_state_dict(state)
    x = images(3, seed=9)
    assert torch.allclose(bn.encoder(x), plain.encoder(x), atol=1e-5)
    tgt = torch.tensor([[BOS_ID, 5, 6, 7]] * 3)
    assert torch.allclose(bn(x, tgt)[0], plain(x, tgt)[0], atol=1e-5)


def test_hedge():
    """hedge_logprobs by hand: specific words below min_prob are gone and the generic word gains the likeliest of
    them; the rest of the row is untouched."""
    torch.manual_seed(3)
    lp = torch.log_softmax(torch.randn(4, 20) * 2, dim=-1)
    out = caption_model.hedge_logprobs(lp, {"min_prob": 0.08, "groups": [[2, [5, 6, 7, 8, 9]]]})
    for r in range(4):
        p = lp[r].exp()
        low = [w for w in (5, 6, 7, 8, 9) if p[w] < 0.08]
        for w in range(20):
            if w in low:
                assert out[r, w] == float("-inf")
            elif w != 2:
                assert out[r, w] == lp[r, w]
        gain = max([p[w].item() for w in low], default=0.0)
        assert abs(out[r, 2].exp().item() - (p[2].item() + gain)) < 1e-6


if __name__ == "__main__":
    golden_common.run_tests([test_names_and_shapes, test_attention_rows_and_beta, test_incremental_equals_forced,
                             test_greedy_equals_beam1, test_loss, test_attention_targets, test_vocabulary_covers_the_grammar, test_fold_batchnorm, test_hedge])
