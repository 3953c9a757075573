# The PyTorch side of `attnlens bench memory`: times the twin (training/ntm.py) on the same sequences.
"""usage: bench_ntm_twin.py MODEL_DIR SEQUENCES.txt   (one sequence a line, "10110010 01100001 ...")
Prints JSON: median_ms per sequence (bits to outputs and both weightings, one thread), every time (times_ms) and
the copies."""
import json
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
from ntm import NTM, copy_inputs  # noqa: E402


def main(model_dir, path):
    torch.set_num_threads(1)
    with open(os.path.join(model_dir, "config.json")) as f:
        c = json.load(f)
    arrays, _ = safetensors_io.load_file(os.path.join(model_dir, "model.safetensors"))
    model = NTM({k: c[k] for k in ("bits", "controller_size", "memory_locations", "memory_width", "max_sequence")})
    model.load_state_dict({k: torch.from_numpy(a.astype(np.float32)) for k, a in arrays.items()})
    model.eval()
    times, copies = [], []
    with open(path) as f:
        lines = [line.split() for line in f if line.strip()]
    with torch.no_grad():
        for vectors in lines:
            t0 = time.perf_counter()
            seq = torch.tensor([[[float(ch) for ch in v] for v in vectors]])
            y, _, _, _ = model(copy_inputs(seq), keep=True)
            times.append((time.perf_counter() - t0) * 1000.0)
            out = y[0, len(vectors) + 1:] > 0.5
            copies.append(" ".join("".join("1" if b else "0" for b in row) for row in out.tolist()))
    print(json.dumps({"median_ms": statistics.median(times), "times_ms": times, "copies": copies}))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
