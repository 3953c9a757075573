# PyTorch twin of the C image trunk (engine/attn_mobilenet.c): Keras MobileNetV2 (Sandler et al. 2018) with
# BatchNorm folded into each convolution, cut at a stride-16 feature map. Weights come from the nsfwjs npm package
# by training/convert_mobilenet.py. Padding is Keras's: stride-2 convolutions pad 0 before and 1 after (the
# ZeroPadding2D((0, 1), (0, 1)) of the Keras topology, for even sides), stride-1 3x3 convolutions pad 1 each side.
import torch
import torch.nn as nn
import torch.nn.functional as F

# Keras MobileNetV2 (alpha 1.0): (expansion t, output channels, stride) of blocks 0..16.
MOBILENET_V2_BLOCKS = [(1, 16, 1), (6, 24, 2), (6, 24, 1), (6, 32, 2), (6, 32, 1), (6, 32, 1), (6, 64, 2),
                       (6, 64, 1), (6, 64, 1), (6, 64, 1), (6, 96, 1), (6, 96, 1), (6, 96, 1), (6, 160, 2),
                       (6, 160, 1), (6, 160, 1), (6, 320, 1)]
STEM = 32


def trunk_config(n_blocks=13, head=576):
    """The config entry of a trunk of the first n_blocks blocks plus a 1x1 'head' convolution with ReLU6 (576 = the
    expansion of block 13, Keras's block_13_expand_relu, the stride-16 map SSDLite reads; 0 for none)."""
    return {"arch": "mobilenet_v2", "stem": STEM, "blocks": [list(b) for b in MOBILENET_V2_BLOCKS[:n_blocks]],
            "head": head}


def trunk_channels(t):
    return t["head"] if t["head"] else t["blocks"][-1][1]


def trunk_stride(t):
    s = 2
    for _, _, st in t["blocks"]:
        s *= st
    return s


def trunk_flops(t, size):
    """Multiply-adds x 2 of the trunk's convolutions for a size x size input."""
    s, total = size // 2, 2 * (size // 2) ** 2 * t["stem"] * 27
    c = t["stem"]
    for exp, out, st in t["blocks"]:
        hid = c * exp
        if exp != 1:
            total += 2 * s * s * hid * c
        s //= st
        total += 2 * s * s * hid * 9 + 2 * s * s * out * hid
        c = out
    if t["head"]:
        total += 2 * s * s * t["head"] * c
    return total


def relu6(x):
    return torch.clamp(x, 0.0, 6.0)


def pad_same(x, stride):
    """Keras 'same' for a 3x3 kernel at stride 1 (1 each side); at stride 2 the model's explicit ZeroPadding2D."""
    return F.pad(x, (1, 1, 1, 1)) if stride == 1 else F.pad(x, (0, 1, 0, 1))


class Block(nn.Module):
    """Inverted residual: 1x1 expand + ReLU6 (absent when t = 1), 3x3 depthwise (stride s) + ReLU6, 1x1 linear
    projection; the input is added back when the stride is 1 and the channels match."""

    def __init__(self, c_in, t, c_out, stride):
        super().__init__()
        hid = c_in * t
        self.expand = nn.Conv2d(c_in, hid, 1) if t != 1 else None
        self.dw = nn.Conv2d(hid, hid, 3, stride, 0, groups=hid)
        self.project = nn.Conv2d(hid, c_out, 1)
        self.stride, self.residual = stride, stride == 1 and c_in == c_out

    def forward(self, x):
        y = relu6(self.expand(x)) if self.expand is not None else x
        y = relu6(self.dw(pad_same(y, self.stride)))
        y = self.project(y)
        return x + y if self.residual else y


class Trunk(nn.Module):
    """Parameter names: stem.{weight,bias} (3x3, stride 2, ReLU6), blocks.K.{expand,dw,project}.{weight,bias},
    head.{weight,bias} (1x1 + ReLU6). Input [B,3,S,S] already normalised; output [B,C,S/16,S/16]."""

    def __init__(self, t):
        super().__init__()
        self.stem = nn.Conv2d(3, t["stem"], 3, 2, 0)
        blocks, c = [], t["stem"]
        for exp, out, st in t["blocks"]:
            blocks.append(Block(c, exp, out, st))
            c = out
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Conv2d(c, t["head"], 1) if t["head"] else None

    def forward(self, x):
        x = relu6(self.stem(pad_same(x, 2)))
        for b in self.blocks:
            x = b(x)
        return relu6(self.head(x)) if self.head is not None else x


def keras_to_torch(weights, t, eps=1e-3):
    """{Keras weight name: float32 numpy} -> {twin name: numpy} with each BatchNorm folded into its convolution:
    y = gamma (conv(x) - mean) / sqrt(var + eps) + beta, so w' = w * s, b' = beta - mean * s, s = gamma/sqrt(var+eps).
    Keras kernels are HWIO (conv) and HW C 1 (depthwise); PyTorch's are OIHW and C 1 H W."""
    import numpy as np

    def fold(kernel_name, bn, depthwise=False):
        k = weights[kernel_name].astype(np.float64)
        g, b = weights[bn + "/gamma"], weights[bn + "/beta"]
        mu, var = weights[bn + "/moving_mean"], weights[bn + "/moving_variance"]
        s = g / np.sqrt(var.astype(np.float64) + eps)
        w = k.transpose(2, 3, 0, 1) if depthwise else k.transpose(3, 2, 0, 1)  # -> [C,1,H,W] or [O,I,H,W]
        w = w * s[:, None, None, None]
        return w.astype(np.float32), (b - mu * s).astype(np.float32)

    out = {}
    out["stem.weight"], out["stem.bias"] = fold("Conv1/kernel", "bn_Conv1")
    for k in range(len(t["blocks"])):
        p = "expanded_conv" if k == 0 else f"block_{k}"
        if k > 0:
            out[f"blocks.{k}.expand.weight"], out[f"blocks.{k}.expand.bias"] = fold(p + "_expand/kernel", p + "_expand_BN")
        out[f"blocks.{k}.dw.weight"], out[f"blocks.{k}.dw.bias"] = fold(p + "_depthwise/depthwise_kernel",
                                                                        p + "_depthwise_BN", depthwise=True)
        out[f"blocks.{k}.project.weight"], out[f"blocks.{k}.project.bias"] = fold(p + "_project/kernel",
                                                                                  p + "_project_BN")
    if t["head"]:
        n = len(t["blocks"])
        if n == len(MOBILENET_V2_BLOCKS):
            out["head.weight"], out["head.bias"] = fold("Conv_1/kernel", "Conv_1_bn")
        else:
            out["head.weight"], out["head.bias"] = fold(f"block_{n}_expand/kernel", f"block_{n}_expand_BN")
    return out
