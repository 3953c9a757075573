# Flickr8k photos for the photo caption model (training/README.md, "Captioning photos"): the held-out split by
# photo, caption words, the vocabulary, photo loading exactly as the C engine resizes, and the trunk's features of
# every photo and of its mirror image, cached once in training/work/caption-photos/features.npz.
#   nice -n 5 /usr/bin/python3 training/caption_photos.py features     (about 10 min on one thread)
import collections
import csv
import os
import random
import re
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "shared", "data", "flickr8k-1k")
# The run of the shipped model: the CenterNet MobileNetV3 trunk (convert_centernet.py). The earlier nsfwjs MobileNetV2
# run lives in work/caption-photos (training/README.md).
WORK = os.environ.get("CAPTION_PHOTOS_WORK", os.path.join(HERE, "work", "caption-photos-v3"))
SPLIT_SEED = 13
N_VAL, N_TEST = 100, 100
MIN_COUNT = 3  # a training-caption word enters the vocabulary when it occurs at least this often
SWAP = {"left": "right", "right": "left"}  # a mirrored photo's captions swap these


def words(caption):
    """Lower-case words of a caption: letters only (apostrophes dropped: "man's" -> "mans"), punctuation gone."""
    return re.findall(r"[a-z]+", caption.lower().replace("'", ""))


def mirrored(ws):
    return [SWAP.get(w, w) for w in ws]


def captions(data=DATA):
    """{photo file name: [5 caption strings]} in file order."""
    out = collections.defaultdict(list)
    with open(os.path.join(data, "captions.txt"), newline="") as f:
        for row in csv.DictReader(f):
            out[row["image"]].append(row["caption"])
    return dict(out)


def split(names):
    """(train, val, test) photo names: the sorted names shuffled with a fixed seed, then 100 val, 100 test, rest."""
    names = sorted(names)
    random.Random(SPLIT_SEED).shuffle(names)
    return names[N_VAL + N_TEST:], names[:N_VAL], names[N_VAL:N_VAL + N_TEST]


def vocabulary(caps, train):
    import caption_model
    count = collections.Counter(w for n in train for c in caps[n] for w in words(c))
    return caption_model.SPECIALS + sorted(w for w, k in count.items() if k >= MIN_COUNT)


def load_photo(path, size):
    """RGB floats in [0,1] resized to size x size by area resampling and clamped (engine/attn_caption.c)."""
    from PIL import Image
    import caption_model
    img = np.asarray(Image.open(path).convert("RGB"), np.float32) / 255.0
    return np.clip(caption_model.resize_area(img, size), 0.0, 1.0)


def trunk_of(trunk_path):
    """The trunk config a converted trunk file carries (convert_centernet.py), else nsfwjs MobileNetV2's."""
    import json
    import mobilenet
    import safetensors_io
    _, meta = safetensors_io.load_file(trunk_path)
    return json.loads(meta["trunk"]) if "trunk" in meta else mobilenet.trunk_config()


def extract(trunk_path, out_path, size=224, cut=0):
    """Trunk features [N, 2, L, D] (float16; index 1 is the mirrored photo) of every photo, sorted by name. With cut = K
    the map after the first K blocks (no head): the input of the blocks train_caption_photos.py --tune-from K trains."""
    import caption_model
    import safetensors_io
    torch.set_num_threads(1)
    arrays, meta = safetensors_io.load_file(trunk_path)
    t = trunk_of(trunk_path)
    if cut:
        t = dict(t, blocks=t["blocks"][:cut], head=0)
        arrays = {k: v for k, v in arrays.items() if not k.startswith("head.") and not (
            k.startswith("blocks.") and int(k.split(".")[1]) >= cut)}
    c = dict(caption_model.DEFAULT_CONFIG, trunk=t, image_size=size, image_mean=[0.0] * 3, image_std=[1.0] * 3)
    enc = caption_model.TrunkEncoder(c)
    enc.trunk.load_state_dict({k: torch.tensor(v) for k, v in arrays.items()})
    enc.eval()
    names = sorted(captions())
    feats = None
    for i in range(0, len(names), 16):
        batch = np.stack([load_photo(os.path.join(DATA, "images", n), size) for n in names[i:i + 16]])
        x = torch.tensor(batch).permute(0, 3, 1, 2)
        with torch.no_grad():
            f = torch.stack([enc.features(x), enc.features(torch.flip(x, [3]))], 1).numpy().astype(np.float16)
        if feats is None:
            feats = np.zeros((len(names),) + f.shape[1:], np.float16)
        feats[i:i + len(f)] = f
        print(f"{i + len(f)}/{len(names)}", flush=True)
    np.savez(out_path, names=np.array(names), features=feats)


if __name__ == "__main__":
    if sys.argv[1:] == ["features"]:
        os.makedirs(WORK, exist_ok=True)
        extract(os.path.join(WORK, "trunk.safetensors"), os.path.join(WORK, "features.npz"))
    elif len(sys.argv) == 3 and sys.argv[1] == "features-cut":
        k = int(sys.argv[2])
        extract(os.path.join(WORK, "trunk.safetensors"), os.path.join(WORK, f"features_cut{k}.npz"), cut=k)
    else:
        sys.exit("usage: caption_photos.py features | features-cut K")
