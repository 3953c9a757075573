# Minimal safetensors writer/reader (numpy only): 8-byte LE header length, JSON header, raw LE data.
import json
import os
import struct

import numpy as np

DTYPES = {"F16": np.float16, "F32": np.float32, "BF16": None, "I64": np.int64, "I8": np.int8}
NAMES = {np.dtype(np.float16): "F16", np.dtype(np.float32): "F32", np.dtype(np.int64): "I64", np.dtype(np.int8): "I8"}
SCALE_SUFFIX = ".scale"  # an I8 tensor X comes with float X.scale, one per row (engine/attn_safetensors.h)


def quantize_rows(a):
    """Per-row symmetric int8 of a float32 array of rank >= 1: (q int8, scale float32 [rows]) with
    scale = max |row| / 127 (1 for an all-zero row) and q = round-half-even(a / scale)."""
    a = np.asarray(a, dtype=np.float32)
    rows = a.reshape(a.shape[0], -1)
    amax = np.abs(rows).max(axis=1)
    scale = np.where(amax > 0, amax / np.float32(127), np.float32(1)).astype(np.float32)
    q = np.clip(np.rint(rows / scale[:, None]), -127, 127).astype(np.int8)
    return q.reshape(a.shape), scale


def dequantize(arrays):
    """{name: float32 array}: I8 tensors times their per-row scale (one float32 product, as the C
    reader computes it), float tensors as float32; the scale tensors themselves are consumed."""
    out = {}
    for name, a in arrays.items():
        if name.endswith(SCALE_SUFFIX) and name[:-len(SCALE_SUFFIX)] in arrays:
            continue
        if a.dtype == np.int8:
            scale = arrays[name + SCALE_SUFFIX].astype(np.float32)
            out[name] = (a.reshape(a.shape[0], -1).astype(np.float32) * scale[:, None]).reshape(a.shape)
        else:
            out[name] = a.astype(np.float32)
    return out


def build_header(arrays, metadata):
    """JSON header bytes (space-padded to a multiple of 8) and the data offsets, tensors in name order."""
    header, offset = {}, 0
    for name in sorted(arrays):
        a = arrays[name]
        header[name] = {"dtype": NAMES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    raw = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("utf-8")
    return raw + b" " * (-len(raw) % 8)


def save_file(arrays, path, metadata=None):
    """Writes {name: numpy array} atomically (tmp + rename); arrays are stored little-endian, C order."""
    arrays = {k: np.ascontiguousarray(v.astype(v.dtype.newbyteorder("<"), copy=False)) for k, v in arrays.items()}
    header = build_header(arrays, metadata)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(header)))
        f.write(header)
        for name in sorted(arrays):
            f.write(arrays[name].tobytes(order="C"))
    os.replace(tmp, path)


def load_file(path):
    """Returns ({name: numpy array}, metadata); checks offsets against the file size."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise ValueError("header longer than file")
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    data, arrays = blob[8 + n:], {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = np.dtype(DTYPES[info["dtype"]]).newbyteorder("<")
        count = int(np.prod(info["shape"], dtype=np.int64))
        if not 0 <= begin <= end <= len(data) or end - begin != count * dtype.itemsize:
            raise ValueError(f"bad offsets for {name}")
        arrays[name] = np.frombuffer(data[begin:end], dtype=dtype).reshape(info["shape"])
    return arrays, metadata
