# Golden files for tests/test_caption.c, computed by the PyTorch twin (training/caption_model.py).
"""usage:
  golden_caption.py tiny OUT_DIR                    random-weight tiny model dir (F32) + golden.json
  golden_caption.py tiny-trunk OUT_DIR              the same with a tiny MobileNetV2 trunk (training/mobilenet.py)
  golden_caption.py tiny-trunk-v3 OUT_DIR           the same with a tiny MobileNetV3 trunk (training/mobilenet_v3.py)
  golden_caption.py shipped MODEL_DIR OUT [COUNT]   goldens for the shipped weights on COUNT (20) test scenes

The C test feeds the same images and must match the annotations, the initial LSTM state, and per step the logits,
attention weights and beta within 1e-4, and produce the same greedy and beam outputs except at near ties (top-two
log-prob gap < 1e-4), which are flagged here. One tiny case has an image of another size (37 x 23), resized by
area resampling (caption_model.resize_area) as the engine does.
"""
import base64
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import caption_model  # noqa: E402
import evaluate_caption  # noqa: E402
import golden_common  # noqa: E402
import scenes  # noqa: E402
from caption_model import BOS_ID, EOS_ID, ShowAttendTell  # noqa: E402
from golden_common import rounded  # noqa: E402

TINY = dict(vocab_size=len(caption_model.vocabulary()), image_size=16, conv_channels=[4, 6, 8], pool_after=[1, 1, 0],
            embed_dim=6, hidden=10, attn_dim=7, max_length=12, dropout=0.0)


# A MobileNetV2 trunk in miniature: a block without expansion, stride-2 blocks, a residual block, a 1x1 head, then
# a linear projection of the cells (10 -> 7).
TINY_TRUNK = dict(TINY, image_size=32, trunk_proj=7, trunk={"arch": "mobilenet_v2", "stem": 4, "head": 10,
                                              "blocks": [[1, 4, 1], [2, 6, 2], [3, 6, 1], [2, 8, 2]]})


# A MobileNetV3 trunk in miniature (the CenterNet backbone's parts, training/mobilenet_v3.py): hard-swish stem, a
# block without expansion (ReLU, residual), a 5x5 stride-2 block with squeeze-excite (TF "SAME": 1 before, 2 after),
# a 5x5 stride-1 hard-swish block with squeeze-excite and a residual, a 3x3 stride-2 hard-swish block (0 before,
# 1 after), a 1x1 hard-swish head, then the projection (10 -> 7); the graph's float16 1/6.
TINY_TRUNK_V3 = dict(TINY, image_size=32, trunk_proj=7, trunk={
    "arch": "mobilenet_v3", "stem": 4, "stem_act": "hswish", "head": 10, "head_act": "hswish",
    "hswish_scale": 0.1666259765625,
    "blocks": [[3, 4, 4, 0, "relu", 1], [5, 8, 6, 4, "relu", 2], [5, 12, 6, 4, "hswish", 1],
               [3, 12, 8, 0, "hswish", 2]]})


def tiny_model(seed=11, config=TINY):
    m = golden_common.noisy_model(ShowAttendTell, config, seed)
    with torch.no_grad():
        m.out.L_o.bias[EOS_ID] += 1.1  # so that some hypotheses end before max_length
    return m


def as_tensor(img):
    return torch.from_numpy(img).permute(2, 0, 1).float()


@torch.no_grad()
def teacher_forced(model, img, tgt_in, columns=None):
    x = as_tensor(img)[None]
    logits, alphas, betas = model(x, torch.tensor([tgt_in]))
    a, _, h0, c0 = model.encode(x)
    logits = logits[0] if columns is None else logits[0][:, columns]
    return {"logits": rounded(logits), "alpha": rounded(alphas[0]), "beta": rounded(betas[0]),
            "annotations": rounded(a[0]), "h0": rounded(h0[0]), "c0": rounded(c0[0])}


@torch.no_grad()
def near_tie(model, img, ids):
    """True if some greedy step's top two log-probs differ by less than 1e-4."""
    logits, _, _ = model(as_tensor(img)[None], torch.tensor([[BOS_ID] + ids[:-1]]))
    lp = torch.log_softmax(logits[0], -1)
    lp[:, model.config["pad_token_id"]] = float("-inf")
    top2 = lp.topk(2, -1).values
    return bool(((top2[:, 0] - top2[:, 1]) < 1e-4).any())


def decode_case(model, img, beam):
    x = as_tensor(img)
    greedy = caption_model.greedy_batch(model, x[None])[0]
    full = greedy + [EOS_ID] if len(greedy) < model.config["max_length"] else greedy
    hyps = caption_model.beam_search(model, x, beam=beam, alpha=1.0)
    return {"greedy": full, "near_tie": near_tie(model, img, full),
            "beam": [{"ids": h.ids, "score": h.score, "normalized": h.normalized(1.0),
                      "beta": [float(c.reshape(-1)[-1]) for c in h.cross]} for h in hyps]}


def tiny_config(base=TINY):
    return dict(base, architectures=["ShowAttendTell"], model_type="show-attend-tell", pad_token_id=0,
                unk_token_id=1, bos_token_id=BOS_ID, eos_token_id=EOS_ID, decoder_start_token_id=BOS_ID,
                image_mean=[0.5, 0.5, 0.5], image_std=[0.25, 0.25, 0.25],
                attnlens={"task": "caption", "display_name": "tiny random caption model", "vocab": "vocab.txt"})


def write_vocab(out_dir, vocab):
    with open(os.path.join(out_dir, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("".join(w + "\n" for w in vocab))


def write_tiny(out_dir, base=TINY, kind="tiny"):
    model = tiny_model(config=base)
    golden_common.write_model_dir(model, out_dir, tiny_config(base), "golden_caption.py")
    write_vocab(out_dir, caption_model.vocabulary())
    rng = np.random.default_rng(3)
    vocab, side = model.config["vocab_size"], base["image_size"]
    cases = []
    for k, (h, w) in enumerate([(side, side), (side, side), (23, 37)]):
        raw = rng.uniform(0, 1, (h, w, 3)).astype(np.float32)
        img = raw if (h, w) == (side, side) else caption_model.resize_area(raw, side)
        tgt_in = [BOS_ID] + [int(x) for x in rng.integers(4, vocab, 6)]
        case = dict(image=rounded(raw), height=h, width=w, tgt_in=tgt_in, **decode_case(model, img, beam=3),
                    **teacher_forced(model, img, tgt_in))
        cases.append(case)
    golden_common.write_golden(os.path.join(out_dir, "golden.json"), "caption_model.py",
                               f"golden_caption.py {kind} " + out_dir, cases)


def round6(d):
    """Floats (lists of them, nested) rounded to 6 decimals: the C test's tolerance is 1e-4, the file 4x smaller."""
    if isinstance(d, dict):
        return {k: round6(v) for k, v in d.items()}
    if isinstance(d, (list, tuple)):
        return [round6(v) for v in d]
    return round(d, 6) if isinstance(d, float) else d


def write_shipped(model_dir, out, count=10):
    model, vocab = evaluate_caption.load(model_dir)
    size = model.config["image_size"]
    # A photo model gets generated scenes of 96 x 96 pixels, which both sides resize to its input by area resampling.
    scene_size = 96 if model.config.get("trunk") else size
    columns = list(range(len(vocab)))
    cases = []
    for i in range(count):
        raw = scenes.make_scene("test", i, scene_size)["image"]
        img = raw.astype(np.float32) / 255.0  # the C test divides the same bytes by 255.0f: the same floats
        if scene_size != size:
            img = caption_model.resize_area(img, size)
        case = dict(image_b64=base64.b64encode(raw.tobytes()).decode("ascii"), height=scene_size, width=scene_size,
                    **decode_case(model, img, beam=4))
        if i == 0:
            tgt_in = [BOS_ID] + case["greedy"][:-1]
            case.update(tgt_in=tgt_in, **round6(teacher_forced(model, img, tgt_in, columns)))
        cases.append(case)
    if model.config.get("trunk"):  # and the example photos of the Caption page (assets/photos, CC0 / public domain),
        # area-resampled to 96 x 96 bytes here: people in them, so the decoder's back-off to "person" is exercised
        from PIL import Image
        photos = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "assets", "photos")
        for name in sorted(f for f in os.listdir(photos) if f.endswith(".png")):
            full = np.asarray(Image.open(os.path.join(photos, name)).convert("RGB"), np.float32) / 255.0
            raw = np.round(np.clip(caption_model.resize_area(full, scene_size), 0, 1) * 255).astype(np.uint8)
            img = caption_model.resize_area(raw.astype(np.float32) / 255.0, size)
            cases.append(dict(image_b64=base64.b64encode(raw.tobytes()).decode("ascii"), height=scene_size,
                              width=scene_size, photo=name, **decode_case(model, img, beam=4)))
    golden_common.write_golden(out, "caption_model.py", f"golden_caption.py shipped {model_dir} {out}", cases)


if __name__ == "__main__":
    torch.set_num_threads(1)
    if len(sys.argv) >= 3 and sys.argv[1] == "tiny":
        write_tiny(sys.argv[2])
    elif len(sys.argv) >= 3 and sys.argv[1] == "tiny-trunk":
        write_tiny(sys.argv[2], TINY_TRUNK, "tiny-trunk")
    elif len(sys.argv) >= 3 and sys.argv[1] == "tiny-trunk-v3":
        write_tiny(sys.argv[2], TINY_TRUNK_V3, "tiny-trunk-v3")
    elif len(sys.argv) >= 4 and sys.argv[1] == "shipped":
        write_shipped(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 20)
    else:
        sys.exit(__doc__)
