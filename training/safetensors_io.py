# Minimal safetensors writer/reader (numpy only): 8-byte LE header length, JSON header, raw LE data.
import json
import os
import struct

import numpy as np

DTYPES = {"F16": np.float16, "F32": np.float32, "BF16": None, "I64": np.int64}
NAMES = {np.dtype(np.float16): "F16", np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}


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
