# Converts the Keras MobileNetV2 that the nsfwjs npm package (MIT, Infinite Red) ships in TensorFlow.js layers format
# into the trunk safetensors of training/mobilenet.py: uint8 weights dequantised (value = min + scale * byte),
# BatchNorm folded, PyTorch layout, F32. Nothing is downloaded here; first, in a scratch directory:
#   npm pack nsfwjs@4.3.0 && tar xzf nsfwjs-4.3.0.tgz      (the tarball is not committed)
# then
#   /usr/bin/python3 training/convert_mobilenet.py /tmp/h13/package training/work/caption-photos/trunk.safetensors
# Node (/usr/bin/node) require()s the two UMD modules (topology + base64 weights) and prints them as JSON.
import base64
import json
import subprocess
import sys

import numpy as np

import mobilenet
import safetensors_io

NODE_DUMP = r"""
const d = process.argv[1];
const m = require(d + '/model.min.js');
const w = require(d + '/group1-shard1of1.min.js');
process.stdout.write(JSON.stringify({manifest: m.weightsManifest, topology: m.modelTopology, weights: w}));
"""


def read_package(package_dir):
    """({Keras name: float32 array}, topology, package.json) of package_dir/dist/models/mobilenet_v2."""
    pkg = json.load(open(package_dir + "/package.json"))
    model_dir = package_dir + "/dist/models/mobilenet_v2"
    out = subprocess.run(["/usr/bin/node", "-e", NODE_DUMP, model_dir], check=True, capture_output=True).stdout
    dump = json.loads(out)
    blob = base64.b64decode(dump["weights"])
    weights, at = {}, 0
    for group in dump["manifest"]:
        for w in group["weights"]:
            n = int(np.prod(w["shape"]))
            q = w.get("quantization")
            if q:
                if q["dtype"] != "uint8":
                    raise ValueError(f"{w['name']}: quantisation {q['dtype']} is not handled")
                raw = np.frombuffer(blob, np.uint8, n, at)
                weights[w["name"]] = (q["min"] + q["scale"] * raw.astype(np.float64)).astype(np.float32).reshape(w["shape"])
                at += n
            else:
                weights[w["name"]] = np.frombuffer(blob, "<f4", n, at).reshape(w["shape"]).copy()
                at += 4 * n
    if at != len(blob):
        raise ValueError(f"the manifest covers {at} of {len(blob)} weight bytes")
    return weights, dump["topology"], pkg


def check_topology(topology, t):
    """The Keras layers this converter assumes: ReLU6 activations, BN eps 1e-3, (0, 1) zero padding before each
    stride-2 convolution, 'same' stride-1 depthwise convolutions."""
    layers = {l["config"]["name"]: l for l in topology["model_config"]["config"]["layers"]}
    assert layers["Conv1_pad"]["config"]["padding"] == [[0, 1], [0, 1]]
    for k, (_, _, s) in enumerate(t["blocks"]):
        p = "expanded_conv" if k == 0 else f"block_{k}"
        dw = layers[p + "_depthwise"]["config"]
        assert dw["strides"] == [s, s] and dw["padding"] == ("same" if s == 1 else "valid"), p
        if s == 2:
            assert layers[f"block_{k}_pad"]["config"]["padding"] == [[0, 1], [0, 1]], p
        assert layers[p + "_depthwise_BN"]["config"]["epsilon"] == 1e-3
        assert layers[p + "_depthwise_relu"]["config"]["max_value"] == 6


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: convert_mobilenet.py NSFWJS_PACKAGE_DIR OUT.safetensors")
    t = mobilenet.trunk_config()
    weights, topology, pkg = read_package(sys.argv[1])
    check_topology(topology, t)
    state = mobilenet.keras_to_torch(weights, t)
    meta = {"source": f"npm {pkg['name']}@{pkg['version']} dist/models/mobilenet_v2 ({pkg.get('license')})",
            "trunk": json.dumps(t)}
    safetensors_io.save_file(state, sys.argv[2], meta)
    print(f"{len(state)} tensors, {sum(v.size for v in state.values())} parameters -> {sys.argv[2]}")


if __name__ == "__main__":
    main()
