# Golden files for tests/test_ntm.c, computed by the PyTorch twin (training/ntm.py).
"""usage: golden_ntm.py tiny OUT_DIR
       golden_ntm.py shipped MODEL_DIR OUT

`tiny` writes a random-weight tiny NTM directory (F32 config.json, model.safetensors) and golden.json; `shipped`
runs the twin on the shipped F16 weights of MODEL_DIR and writes OUT. Each case: a sequence of bit vectors as the user
types it ("text"), and what the twin computes on the copy task for it: outputs [T][bits], write and read weightings
[T][N], add and read vectors [T][M], and the memory after the last step [N][M] (T = 2L + 1).
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
from ntm import NTM, copy_inputs, head_sizes  # noqa: E402

TINY = {"bits": 8, "controller_size": 12, "memory_locations": 16, "memory_width": 6, "max_sequence": 8}
TINY_LENGTHS = [1, 3, 8]
SHIPPED_LENGTHS = [1, 5, 10, 20, 30]


def config_json(c, display_name):
    return {"architectures": ["NTM"], "model_type": "ntm", "bits": c["bits"], "controller_size": c["controller_size"],
            "memory_locations": c["memory_locations"], "memory_width": c["memory_width"],
            "max_sequence": c["max_sequence"], "heads": {"read": 1, "write": 1}, "shifts": [-1, 0, 1],
            "attnlens": {"task": "memory", "display_name": display_name}}


def tiny_model():
    """Random weights, scaled so that every part of the addressing matters: the sharpening, shift and gate
    values spread over their range and the content term is not flat."""
    torch.manual_seed(5)
    model = NTM(TINY)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.6)
    return model.eval()


def run_case(model, text):
    bits = model.config["bits"]
    vectors = text.split()
    seq = torch.tensor([[[float(ch) for ch in v] for v in vectors]])
    assert seq.shape[-1] == bits
    x = copy_inputs(seq)
    state = model.initial_state(1)
    out = {k: [] for k in ("outputs", "write", "read", "adds", "reads")}
    with torch.no_grad():
        for t in range(x.shape[1]):
            h = state[0]
            p = model.split_heads(model.head(model.lstm(torch.cat([x[:, t], state[2]], -1), (h, state[1]))[0]))
            y, state = model.step(x[:, t], state)
            out["outputs"].append(y[0])
            out["write"].append(state[4][0])
            out["read"].append(state[5][0])
            out["adds"].append(torch.tanh(p["w_a"][0]))
            out["reads"].append(state[2][0])
    case = {"text": text, "length": len(vectors)}
    case.update({k: torch.stack(v).numpy().astype(np.float32).tolist() for k, v in out.items()})
    case["memory"] = state[3][0].numpy().astype(np.float32).tolist()
    case["copy"] = ["".join("1" if b > 0.5 else "0" for b in row) for row in case["outputs"][len(vectors) + 1:]]
    return case


def random_text(length, rng, bits=8):
    return " ".join("".join(rng.choice("01") for _ in range(bits)) for _ in range(length))


def write_golden(path, command, cases, extra=None):
    doc = {"made_by": f"PyTorch twin training/ntm.py, command: /usr/bin/python3 training/{command}",
           "torch": torch.__version__, "cases": cases}
    doc.update(extra or {})
    with open(path + ".tmp", "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    os.replace(path + ".tmp", path)


def write_tiny(out_dir):
    import random
    model = tiny_model()
    os.makedirs(out_dir, exist_ok=True)
    state = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    safetensors_io.save_file(state, os.path.join(out_dir, "model.safetensors"), {"made_by": "golden_ntm.py tiny"})
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config_json(TINY, "NTM tiny (random weights)"), f, indent=1)
        f.write("\n")
    rng = random.Random(3)
    cases = [run_case(model, random_text(L, rng)) for L in TINY_LENGTHS]
    write_golden(os.path.join(out_dir, "golden.json"), f"golden_ntm.py tiny {out_dir}", cases,
                 {"head_layout": [[n, s] for n, s in head_sizes(TINY["memory_width"])]})


def write_shipped(model_dir, out):
    import random
    arrays, _ = safetensors_io.load_file(os.path.join(model_dir, "model.safetensors"))
    with open(os.path.join(model_dir, "config.json")) as f:
        c = json.load(f)
    model = NTM({k: c[k] for k in TINY})
    model.load_state_dict({k: torch.from_numpy(a.astype(np.float32)) for k, a in arrays.items()})
    model.eval()
    rng = random.Random(4)
    cases = [run_case(model, random_text(L, rng)) for L in SHIPPED_LENGTHS]
    write_golden(out, f"golden_ntm.py shipped {model_dir} {out}", cases)


if __name__ == "__main__":
    torch.set_num_threads(1)
    if len(sys.argv) == 3 and sys.argv[1] == "tiny":
        write_tiny(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "shipped":
        write_shipped(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(__doc__)
