# Self-test of training/scenes.py: determinism, captions that name exactly the scene's objects, masks, PNG output.
import os
import struct
import sys
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenes  # noqa: E402


def test_deterministic():
    a, b = scenes.make_scene("test", 17), scenes.make_scene("test", 17)
    assert np.array_equal(a["image"], b["image"]) and a["captions"] == b["captions"]
    assert not np.array_equal(a["image"], scenes.make_scene("train", 17)["image"])


def test_captions_name_the_objects():
    seen_counts, seen_relations, phrasings = set(), set(), 0
    for i in range(300):
        s = scenes.make_scene("train", i)
        assert 1 <= len(s["objects"]) <= 4
        assert len(s["captions"]) >= 2 and len(set(s["captions"])) == len(s["captions"])
        for c in s["captions"]:
            words = c.split()
            assert scenes.content_correct(words, s["objects"]), (c, s["objects"])
            seen_counts |= {w for w in words if w in scenes.COUNT_WORDS}
            seen_relations |= {r for r, text in scenes.RELATIONS.items() if text in c}
        phrasings += len(s["captions"])
    assert seen_counts == set(scenes.COUNT_WORDS[:3]) or seen_counts == set(scenes.COUNT_WORDS), seen_counts
    assert seen_relations == set(scenes.RELATIONS), seen_relations
    assert phrasings / 300 > 2.5


def test_wrong_content_is_caught():
    objs = [{"size": "big", "colour": "red", "shape": "circle"}, {"size": "small", "colour": "red", "shape": "circle"}]
    assert scenes.content_correct("a big red circle and a small red circle".split(), objs)
    assert not scenes.content_correct("two big red circles".split(), objs)
    assert not scenes.content_correct("a big red circle".split(), objs)
    assert not scenes.content_correct("a big red circle and a small blue circle".split(), objs)
    assert scenes.parse_caption("two small green crosses".split()) == [(3, 2, "small", "green", "cross")]


def test_masks_and_cells():
    for i in range(50):
        s = scenes.make_scene("val", i)
        for o, m in zip(s["objects"], s["masks"]):
            assert m.sum() > 20
            ys, xs = np.nonzero(m)
            assert abs(xs.mean() - o["cx"]) < 1.5 * o["r"] and abs(ys.mean() - o["cy"]) < 1.5 * o["r"]
        assert not np.any(s["masks"].sum(0) > 1)  # one owner per pixel
    cells = scenes.grid_mask(np.pad(np.ones((8, 8), bool), ((40, 48), (0, 88))), 12)
    assert cells.sum() == 1 and cells[5, 0]
    assert scenes.dilate(cells).sum() == 6


def test_png():
    img = scenes.make_scene("test", 3, size=40)["image"]
    data = scenes.png_bytes(img)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", data[16:24])
    assert (w, h) == (40, 40)
    n = struct.unpack(">I", data[33:37])[0]  # the IDAT chunk follows the 8-byte signature and 25-byte IHDR
    raw = zlib.decompress(data[41:41 + n])
    assert len(raw) == 40 * (1 + 40 * 3)


if __name__ == "__main__":
    for t in [test_deterministic, test_captions_name_the_objects, test_wrong_content_is_caught, test_masks_and_cells,
              test_png]:
        t()
        print("ok", t.__name__)
