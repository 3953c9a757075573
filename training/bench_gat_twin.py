# Times the PyTorch twin of a GAT model directory per node query (for `attnlens bench graph`).
"""usage: bench_gat_twin.py MODEL_DIR NODES [--threads N]

NODES is a comma-separated list of node ids. Each query is timed alone, as the C engine answers one: a forward pass
over the whole graph (the features and neighbour lists are built once, before timing), the softmax, and the node's
attention rows cut out of every head. Prints one JSON line: the median milliseconds per query and the predicted
class of each node.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_gat import load_twin  # noqa: E402
from gat import edge_index, features, neighbour_lists, node_maps  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("nodes")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, g, _ = load_twin(args.model_dir)
    x = features(g["features"], g["feature_count"])
    dst, src = edge_index(neighbour_lists(g["nodes"], g["edges"]))
    nodes = [int(v) for v in args.nodes.split(",") if v]
    times, predicted = [], []
    with torch.no_grad():
        for v in nodes:
            t0 = time.perf_counter()
            logits, alphas = model(x, dst, src)
            p = torch.softmax(logits[v], 0)
            rows = node_maps(alphas, dst, v)
            times.append((time.perf_counter() - t0) * 1000)
            predicted.append(int(p.argmax()))
            del rows
    print(json.dumps({"median_ms": statistics.median(times), "predicted": predicted}))


if __name__ == "__main__":
    main()
