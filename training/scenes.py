# The scene world of the caption model: generated images of 1-4 coloured shapes on noisy, textured backgrounds,
# with captions from a small grammar and each object's visible mask. numpy only; deterministic by (split, index).
"""usage:
  scenes.py --split test --count 8 --out DIR [--size 96] [--grid 12] [--png] [--raw]
      writes DIR/scenes.json (objects, captions, grid masks) and per scene scene-NNNN.png and/or .rgb
  scenes.py --examples DIR        the example scenes shipped under assets/scenes (PNG + scenes.json)

Shapes are drawn from the polygons in SHAPES (unit radius, y down); ui/lens_caption_page.c draws the same
polygons with Cairo for Compose mode, so keep the two in step.
"""
import argparse
import json
import math
import os
import struct
import sys
import zlib

import numpy as np

SHAPE_NAMES = ["circle", "square", "triangle", "diamond", "star", "hexagon", "cross"]
PLURALS = {"cross": "crosses"}
COLOURS = {  # sRGB 0..255
    "red": (214, 39, 40), "orange": (247, 129, 23), "yellow": (245, 214, 41), "green": (44, 160, 64),
    "blue": (36, 87, 214), "purple": (132, 58, 186), "pink": (245, 125, 190), "brown": (128, 78, 38),
}
COLOUR_NAMES = list(COLOURS)
SIZES = {"small": (0.085, 0.105), "big": (0.16, 0.19)}  # radius as a fraction of the image side
SIZE_NAMES = list(SIZES)
COUNT_WORDS = ["a", "two", "three", "four"]
RELATIONS = {"left": "to the left of", "right": "to the right of", "above": "above", "below": "below"}
INVERSE = {"left": "right", "right": "left", "above": "below", "below": "above"}
SPLITS = {"train": 1, "val": 2, "test": 3, "examples": 4}


def _regular(n, radius, start_deg, shift_y=0.0):
    return [(radius * math.cos(math.radians(start_deg + 360.0 * k / n)),
             radius * math.sin(math.radians(start_deg + 360.0 * k / n)) + shift_y) for k in range(n)]


def _star(outer, inner, shift_y):
    pts = []
    for k in range(10):
        r = outer if k % 2 == 0 else inner
        a = math.radians(-90.0 + 36.0 * k)
        pts.append((r * math.cos(a), r * math.sin(a) + shift_y))
    return pts


_W = 0.36  # half the width of a cross's arm
SHAPES = {  # polygons in units of the object's radius, centred on (0, 0), y down; "circle" is the unit circle
    "circle": None,
    "square": [(-0.88, -0.88), (0.88, -0.88), (0.88, 0.88), (-0.88, 0.88)],
    "triangle": _regular(3, 1.3, -90.0, 0.325),
    "diamond": [(0.0, -1.15), (0.9, 0.0), (0.0, 1.15), (-0.9, 0.0)],
    "star": _star(1.2, 0.5, 0.115),
    "hexagon": _regular(6, 1.05, 0.0),
    "cross": [(-_W, -1.0), (_W, -1.0), (_W, -_W), (1.0, -_W), (1.0, _W), (_W, _W), (_W, 1.0), (-_W, 1.0),
              (-_W, _W), (-1.0, _W), (-1.0, -_W), (-_W, -_W)],
}


def rng_for(split, index):
    return np.random.default_rng([SPLITS[split], int(index)])


# ---- drawing ----

def inside(shape, x, y):
    """Boolean array: which points (x, y), in units of the radius, lie inside the shape (even-odd rule)."""
    poly = SHAPES[shape]
    if poly is None:
        return x * x + y * y <= 1.0
    result = np.zeros(x.shape, dtype=bool)
    n = len(poly)
    for k in range(n):
        (x0, y0), (x1, y1) = poly[k], poly[(k + 1) % n]
        if y0 == y1:
            continue
        crosses = (y0 > y) != (y1 > y)
        xi = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
        result ^= crosses & (x < xi)
    return result


def coverage(obj, size, ss=4):
    """[size, size] fraction of each pixel covered by the object (ss x ss samples per pixel)."""
    cov = np.zeros((size, size), dtype=np.float32)
    r = obj["r"]
    x0, x1 = max(0, int(math.floor(obj["cx"] - 1.4 * r))), min(size, int(math.ceil(obj["cx"] + 1.4 * r)) + 1)
    y0, y1 = max(0, int(math.floor(obj["cy"] - 1.4 * r))), min(size, int(math.ceil(obj["cy"] + 1.4 * r)) + 1)
    if x0 >= x1 or y0 >= y1:
        return cov
    offs = (np.arange(ss) + 0.5) / ss
    xs = (np.arange(x0, x1)[:, None] + offs[None, :]).reshape(-1)
    ys = (np.arange(y0, y1)[:, None] + offs[None, :]).reshape(-1)
    gx, gy = np.meshgrid((xs - obj["cx"]) / r, (ys - obj["cy"]) / r)
    hit = inside(obj["shape"], gx, gy).astype(np.float32)
    cov[y0:y1, x0:x1] = hit.reshape(y1 - y0, ss, x1 - x0, ss).mean(axis=(1, 3))
    return cov


def _muted(rng):
    """A low-saturation colour (0..1 RGB) that the eight object colours stand out from."""
    grey = rng.uniform(0.3, 0.9)
    tint = rng.normal(0.0, 0.06, 3)
    return np.clip(grey + tint, 0.0, 1.0)


def background(rng, size, clean=False):
    """[size, size, 3] float background: plain, gradients, stripes, checks, blotches or dots, plus noise."""
    kind = rng.choice(["plain", "linear", "radial", "stripes", "checker", "blotches", "dots"])
    c1, c2 = _muted(rng), _muted(rng)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    if kind == "plain":
        t = np.zeros((size, size), np.float32)
    elif kind == "linear":
        a = rng.uniform(0, 2 * math.pi)
        t = (xx - 0.5) * math.cos(a) + (yy - 0.5) * math.sin(a) + 0.5
    elif kind == "radial":
        cx, cy = rng.uniform(0.2, 0.8, 2)
        t = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) * 1.4
    elif kind == "stripes":
        a, period = rng.uniform(0, math.pi), rng.uniform(0.08, 0.25)
        t = 0.5 + 0.5 * np.sin(2 * math.pi * ((xx * math.cos(a) + yy * math.sin(a)) / period))
    elif kind == "checker":
        n = rng.integers(3, 9)
        t = ((np.floor(xx * n) + np.floor(yy * n)) % 2).astype(np.float32)
    elif kind == "blotches":
        g = int(rng.integers(3, 7))
        coarse = rng.uniform(0, 1, (g + 1, g + 1))
        t = _bilinear(coarse, size)
    else:
        n = int(rng.integers(6, 14))
        fx, fy = (xx * n) % 1.0 - 0.5, (yy * n) % 1.0 - 0.5
        t = (fx * fx + fy * fy < rng.uniform(0.03, 0.09)).astype(np.float32)
    contrast = rng.uniform(0.15, 0.6) if kind in ("stripes", "checker", "dots") else 1.0
    t = np.clip(t, 0, 1)[..., None] * contrast
    img = c1[None, None, :] * (1 - t) + c2[None, None, :] * t
    sigma = 0.0 if clean else rng.uniform(0.0, 0.06)
    img = img + rng.normal(0.0, 1.0, img.shape) * sigma
    return np.clip(img, 0, 1).astype(np.float32)


def _bilinear(coarse, size):
    g = coarse.shape[0] - 1
    u = np.linspace(0, g, size)
    i = np.minimum(u.astype(int), g - 1)
    f = u - i
    rows = coarse[i] * (1 - f)[:, None] + coarse[i + 1] * f[:, None]
    return rows[:, i] * (1 - f)[None, :] + rows[:, i + 1] * f[None, :]


# ---- placing objects ----

def _new_object(rng, size, like=None):
    if like is not None:
        shape, colour, sz = like["shape"], like["colour"], like["size"]
    else:
        shape = SHAPE_NAMES[rng.integers(len(SHAPE_NAMES))]
        colour = COLOUR_NAMES[rng.integers(len(COLOUR_NAMES))]
        sz = SIZE_NAMES[rng.integers(2)]
    lo, hi = SIZES[sz]
    r = rng.uniform(lo, hi) * size
    cx, cy = rng.uniform(0.02, 0.98, 2) * size
    return {"shape": shape, "colour": colour, "size": sz, "cx": float(cx), "cy": float(cy), "r": float(r)}


def _visible(covs):
    """Visible masks (coverage > 0.5, not under a later object) and visible fractions of the full shape."""
    masks = []
    for k, c in enumerate(covs):
        m = c > 0.5
        for later in covs[k + 1:]:
            m &= later <= 0.5
        masks.append(m)
    return masks


def place_objects(rng, size, n):
    """n objects, each at least half visible (in the frame, not hidden by later ones); sometimes overlapping,
    sometimes cut off by the border; with some chance an object repeats an earlier one (for counts)."""
    for _ in range(200):
        objs, covs, full = [], [], []
        overlap_ok = rng.uniform() < 0.25
        for k in range(n):
            like = objs[int(rng.integers(k))] if k > 0 and rng.uniform() < 0.25 else None
            for _ in range(60):
                o = _new_object(rng, size, like)
                far = all(math.hypot(o["cx"] - p["cx"], o["cy"] - p["cy"]) > 1.05 * (o["r"] + p["r"]) for p in objs)
                if not (far or overlap_ok):
                    continue
                c = coverage(o, size)
                area = math.pi * o["r"] ** 2 * (1.0 if o["shape"] == "circle" else 0.8)
                masks = _visible(covs + [c])
                if all(m.sum() >= 0.5 * a for m, a in zip(masks, full + [area])) and masks[-1].sum() >= 0.5 * area:
                    objs.append(o), covs.append(c), full.append(area)
                    break
            else:
                break
        if len(objs) == n:
            return objs, covs
    raise RuntimeError("could not place objects")


def paint(img, objs, covs, rng):
    """Composites the objects in order, each a flat colour with a little brightness jitter and shading."""
    size = img.shape[0]
    yy = np.arange(size, dtype=np.float32)[:, None]
    for o, c in zip(objs, covs):
        base = np.array(COLOURS[o["colour"]], np.float32) / 255.0 * rng.uniform(0.9, 1.08)
        shade = 1.0 + rng.uniform(-0.08, 0.08) * (yy - o["cy"]) / max(o["r"], 1.0)
        col = np.clip(base[None, None, :] * shade[..., None], 0, 1)
        img[:] = img * (1 - c[..., None]) + col * c[..., None]
    return img


# ---- captions ----

def _np(group):
    count, (sz, colour, shape) = len(group["members"]), group["key"]
    noun = shape if count == 1 else PLURALS.get(shape, shape + "s")
    return f"{COUNT_WORDS[count - 1]} {sz} {colour} {noun}"


def relation(a, b):
    """Where group a lies relative to group b: 'left', 'right', 'above' or 'below' (centroids, image axes)."""
    dx, dy = a["cx"] - b["cx"], a["cy"] - b["cy"]
    if abs(dx) >= abs(dy):
        return "left" if dx < 0 else "right"
    return "above" if dy < 0 else "below"


def groups_of(objs):
    """Identical objects (size, colour, shape) form one group, named once with a count."""
    groups = {}
    for i, o in enumerate(objs):
        groups.setdefault((o["size"], o["colour"], o["shape"]), []).append(i)
    out = []
    for key, members in groups.items():
        out.append({"key": key, "members": members, "cx": float(np.mean([objs[i]["cx"] for i in members])),
                    "cy": float(np.mean([objs[i]["cy"] for i in members]))})
    return sorted(out, key=lambda g: (g["cx"], g["cy"]))  # reading order: left to right


def _listing(nps):
    if len(nps) == 1:
        return nps[0]
    if len(nps) == 2:
        return f"{nps[0]} and {nps[1]}"
    return " , ".join(nps[:-1]) + f" and {nps[-1]}"


def _with_relation(gs):
    nps = [_np(g) for g in gs]
    head = f"{nps[0]} {RELATIONS[relation(gs[0], gs[1])]} {nps[1]}"
    if len(gs) == 2:
        return head
    return f"{head} and {nps[2]}" if len(gs) == 3 else f"{head} , {_listing(nps[2:])}"


def captions(objs, rng):
    """Several phrasings of the scene; the first is canonical (groups left to right, the first two related)."""
    gs = groups_of(objs)
    plural = len(gs) > 1 or len(gs[0]["members"]) > 1
    there = "there are" if plural else "there is"
    if len(gs) == 1:
        return [_np(gs[0]), f"{there} {_np(gs[0])}"]
    out = [_with_relation(gs), _listing([_np(g) for g in gs])]
    perm = [gs[i] for i in rng.permutation(len(gs))]
    out.append(_with_relation(perm))
    out.append(f"there is {_listing([_np(g) for g in perm])}" if len(perm[0]["members"]) == 1
               else f"there are {_listing([_np(g) for g in perm])}")
    unique = []
    for c in out:
        if c not in unique:
            unique.append(c)
    return unique


SHAPE_WORDS = {**{s: s for s in SHAPE_NAMES}, **{PLURALS.get(s, s + "s"): s for s in SHAPE_NAMES}}


def parse_caption(words):
    """The objects a caption names, as [(word index of the shape word, count, size, colour, shape)]: each shape
    word with the count, size and colour words just before it (None where missing)."""
    out = []
    for i, w in enumerate(words):
        if w not in SHAPE_WORDS:
            continue
        count, size, colour = None, None, None
        for j in range(i - 1, max(-1, i - 4), -1):
            v = words[j]
            if v in COLOURS and colour is None and size is None:
                colour = v
            elif v in SIZES and size is None:
                size = v
            elif v in COUNT_WORDS:
                count = COUNT_WORDS.index(v) + 1
                break
            else:
                break
        out.append((i, count or 1, size, colour, SHAPE_WORDS[w]))
    return out


def content_correct(words, objs):
    """Exact caption content: the multiset of (size, colour, shape) named equals the scene's, order free."""
    named = []
    for _, count, size, colour, shape in parse_caption(words):
        named += [(size, colour, shape)] * count
    return sorted(named, key=str) == sorted(((o["size"], o["colour"], o["shape"]) for o in objs), key=str)


# ---- grid masks ----

def grid_mask(mask, grid):
    """[grid, grid] bool: cells holding any pixel of the mask (cell (r, c) covers rows r*H/grid...)."""
    h, w = mask.shape
    ys = (np.arange(h) * grid) // h
    xs = (np.arange(w) * grid) // w
    out = np.zeros((grid, grid), dtype=bool)
    rr, cc = np.nonzero(mask)
    out[ys[rr], xs[cc]] = True
    return out


def dilate(cells):
    """Dilation by one cell (3 x 3 neighbourhood)."""
    out = cells.copy()
    g0, g1 = cells.shape
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            src = cells[max(0, -dr):g0 - max(0, dr), max(0, -dc):g1 - max(0, dc)]
            out[max(0, dr):g0 - max(0, -dr), max(0, dc):g1 - max(0, -dc)] |= src
    return out


# ---- scenes ----

def make_scene(split, index, size=96, clean=False, n_objects=None):
    """One scene: {"image": uint8 [size, size, 3], "objects": [...], "masks": bool [n, size, size],
    "captions": [str, ...]}. Object positions and radii are in pixels."""
    rng = rng_for(split, index)
    n = int(n_objects or rng.choice([1, 2, 3, 4], p=[0.2, 0.3, 0.3, 0.2]))
    img = background(rng, size, clean)
    objs, covs = place_objects(rng, size, n)
    paint(img, objs, covs, rng)
    noise = 0.0 if clean else rng.uniform(0.0, 0.03)
    img = np.clip(img + rng.normal(0.0, 1.0, img.shape) * noise, 0, 1)
    masks = np.stack(_visible(covs))
    return {"image": (img * 255.0 + 0.5).astype(np.uint8), "objects": objs, "masks": masks,
            "captions": captions(objs, rng)}


def describe(scene, grid):
    """The JSON-able part of a scene: objects (with their grid masks, one string of 0/1 per grid row) and captions."""
    objs = []
    for o, m in zip(scene["objects"], scene["masks"]):
        cells = grid_mask(m, grid)
        objs.append(dict(o, cx=round(o["cx"], 2), cy=round(o["cy"], 2), r=round(o["r"], 2),
                         cells=["".join("1" if v else "0" for v in row) for row in cells]))
    return {"objects": objs, "captions": scene["captions"]}


# ---- PNG ----

def _paeth(a, b, c):
    p = a.astype(np.int16) + b - c
    pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))


def png_bytes(img):
    """A minimal 8-bit RGB PNG; each row gets the filter (none/sub/up/average/paeth) with the smallest sum."""
    h, w, _ = img.shape
    raw = img.astype(np.int16).reshape(h, w * 3)
    rows = []
    for y in range(h):
        cur = raw[y]
        left = np.concatenate([np.zeros(3, np.int16), cur[:-3]])
        up = raw[y - 1] if y > 0 else np.zeros_like(cur)
        upleft = np.concatenate([np.zeros(3, np.int16), up[:-3]])
        cands = [cur, cur - left, cur - up, cur - (left + up) // 2, cur - _paeth(left, up, upleft)]
        cands = [(c % 256).astype(np.uint8) for c in cands]
        best = min(range(5), key=lambda k: int(np.abs(cands[k].astype(np.int8).astype(np.int32)).sum()))
        rows.append(bytes([best]) + cands[best].tobytes())

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) +
            chunk(b"IEND", b""))


def write_atomic(path, data):
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)


# ---- command line ----

EXAMPLES = [  # (index in the "examples" split, number of objects): 1-4 objects, a count, overlap, cut-off edges
    (8, 1), (12, 1), (5, 2), (21, 2), (9, 2), (14, 3), (2, 3), (15, 4),
]


def write_set(out, split, indices, size, grid, png, raw, clean=False, n_objects=None):
    os.makedirs(out, exist_ok=True)
    doc = {"made_by": "training/scenes.py " + " ".join(sys.argv[1:]), "size": size, "grid": [grid, grid],
           "split": split, "scenes": []}
    for k, (index, n) in enumerate(indices):
        s = make_scene(split, index, size, clean, n or n_objects)
        name = f"scene-{k:04d}"
        if png:
            write_atomic(os.path.join(out, name + ".png"), png_bytes(s["image"]))
        if raw:
            write_atomic(os.path.join(out, name + ".rgb"), s["image"].tobytes())
        doc["scenes"].append(dict(describe(s, grid), name=name, index=index))
    write_atomic(os.path.join(out, "scenes.json"), json.dumps(doc, indent=1).encode("utf-8"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", default="test", choices=list(SPLITS))
    ap.add_argument("--first", type=int, default=0, help="index of the first scene")
    ap.add_argument("--count", type=int, default=8)
    ap.add_argument("--size", type=int, default=96)
    ap.add_argument("--grid", type=int, default=12)
    ap.add_argument("--objects", type=int, default=0, help="force this many objects (1-4)")
    ap.add_argument("--png", action="store_true")
    ap.add_argument("--raw", action="store_true", help="also write raw 8-bit RGB (size*size*3 bytes)")
    ap.add_argument("--examples", metavar="DIR", help="write the shipped example scenes to DIR")
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.examples:
        write_set(args.examples, "examples", EXAMPLES, 128, args.grid, True, False, clean=True)
        return
    if not args.out:
        ap.error("--out is required")
    indices = [(args.first + k, None) for k in range(args.count)]
    write_set(args.out, args.split, indices, args.size, args.grid, args.png or not args.raw, args.raw,
              n_objects=args.objects or None)


if __name__ == "__main__":
    main()
