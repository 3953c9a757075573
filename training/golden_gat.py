# Golden files for tests/test_gat.c, computed by the PyTorch twin (training/gat.py).
"""usage: golden_gat.py tiny OUT_DIR
       golden_gat.py shipped MODEL_DIR OUT

tiny: a random-weight GAT (2 heads of 3 features, 2 averaged output heads) on a 9-node random graph (one isolated
node, one without features), written as a model directory (F32) plus golden.json.
shipped: the twin on the shipped weights of MODEL_DIR: the predicted class of every node, logits and attention rows
of up to 40 nodes (for Cora: spread over the graph, including the highest-degree node), and the test accuracy.

golden.json: {"cases": [{"edits": [[a, b, present], ...] applied to the graph first, "logits": {node: [C]},
"maps": {node: [{"name", "layer", "head", "weights"}]}, "predicted": [N] (shipped) }], ...}
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
from export_gat import load_twin  # noqa: E402
from gat import GAT, edge_index, features, neighbour_lists, node_maps  # noqa: E402

TINY = {"in_features": 12, "hidden": 3, "heads": 2, "num_classes": 3, "out_heads": 2, "negative_slope": 0.2}


def tiny_graph(rng):
    n = 9
    edges = sorted({tuple(sorted(map(int, rng.choice(8, 2, replace=False)))) for _ in range(12)})  # node 8 alone
    feats = [sorted(map(int, rng.choice(12, int(rng.integers(1, 5)), replace=False))) for _ in range(n)]
    feats[3] = []
    return {"nodes": n, "names": [f"n{i}" for i in range(n)], "labels": [i % 3 for i in range(n)],
            "edges": [list(e) for e in edges], "feature_count": 12, "features": feats,
            "split": {"train": [0, 1, 2], "val": [], "test": [3, 4, 5, 6, 7, 8]}}


def apply_edits(edges, edits):
    s = {tuple(sorted(e)) for e in edges}
    for a, b, present in edits:
        (s.add if present else s.discard)(tuple(sorted((a, b))))
    return sorted(s)


def map_name(layer, head, heads):
    return f"layer {layer} head {head + 1}" if heads > 1 else f"layer {layer}"


@torch.no_grad()
def run_case(model, g, edits, nodes, with_predicted):
    edges = apply_edits(g["edges"], edits)
    dst, src = edge_index(neighbour_lists(g["nodes"], edges))
    logits, alphas = model(features(g["features"], g["feature_count"]), dst, src)
    case = {"edits": edits, "logits": {}, "maps": {}}
    heads = [a.shape[1] for a in alphas]
    for v in nodes:
        case["logits"][str(v)] = logits[v].tolist()
        rows = node_maps(alphas, dst, v)
        maps = [{"name": "layer 1 mean", "layer": 1, "head": -1,
                 "weights": torch.stack([w for li, _, w in rows if li == 1]).mean(0).tolist()}]
        for li, k, w in rows:
            maps.append({"name": map_name(li, k, heads[li - 1]), "layer": li, "head": k + 1 if heads[li - 1] > 1 else -1,
                         "weights": w.tolist()})
        if heads[1] > 1:
            maps.append({"name": "layer 2 mean", "layer": 2, "head": -1,
                         "weights": torch.stack([w for li, _, w in rows if li == 2]).mean(0).tolist()})
        case["maps"][str(v)] = maps
    if with_predicted:
        p = torch.softmax(logits, 1)
        top2 = p.topk(2, 1).values
        case["predicted"] = logits.argmax(1).tolist()
        case["near_tie"] = [i for i in range(g["nodes"]) if float(top2[i, 0] - top2[i, 1]) < 1e-4]
    return case


def write_golden(path, command, doc):
    doc = dict({"made_by": f"PyTorch twin training/gat.py, command: /usr/bin/python3 training/{command}",
                "torch": torch.__version__}, **doc)
    with open(path + ".tmp", "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    os.replace(path + ".tmp", path)


def write_tiny(out_dir):
    torch.manual_seed(3)
    rng = np.random.default_rng(7)
    g = tiny_graph(rng)
    model = GAT(dict(TINY, dropout=0.0)).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.5)  # biases too, and larger attention logits than at initialisation
    os.makedirs(out_dir, exist_ok=True)
    state = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    safetensors_io.save_file(state, os.path.join(out_dir, "model.safetensors"), {"made_by": "golden_gat.py"})
    config = dict(TINY, architectures=["GAT"], model_type="gat",
                  attnlens={"task": "graph", "display_name": "tiny random GAT", "classes": ["red", "green", "blue"],
                            "editable": True})
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    with open(os.path.join(out_dir, "graph.json"), "w") as f:
        json.dump(g, f)
    nodes = list(range(g["nodes"]))
    cases = [run_case(model, g, [], nodes, True),
             run_case(model, g, [[8, 0, 1], [g["edges"][0][0], g["edges"][0][1], 0], [2, 5, 1]], nodes, True)]
    write_golden(os.path.join(out_dir, "golden.json"), "golden_gat.py tiny " + out_dir, {"cases": cases})


def spread_nodes(g, count=40):
    deg = np.zeros(g["nodes"], dtype=int)
    for a, b in g["edges"]:
        deg[a] += 1
        deg[b] += 1
    if g["nodes"] <= count:
        return list(range(g["nodes"]))
    picks = set(np.linspace(0, g["nodes"] - 1, count - 2).astype(int).tolist()) | {int(deg.argmax()), 1701}
    return sorted(picks)


def write_shipped(model_dir, out):
    model, g, _ = load_twin(model_dir)
    nodes = spread_nodes(g)
    cases = [run_case(model, g, [], nodes, True)]
    if g["nodes"] <= 64:  # the karate club: the window's edits
        cases.append(run_case(model, g, [[0, 33, 1], [0, 1, 0], [9, 2, 0], [16, 26, 1]], nodes, True))
    pred = torch.tensor(cases[0]["predicted"])
    test = torch.tensor(g["split"]["test"], dtype=torch.long)
    acc = float((pred[test] == torch.tensor(g["labels"])[test]).float().mean())
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    write_golden(out, f"golden_gat.py shipped {model_dir} {out}",
                 {"model": os.path.basename(os.path.normpath(model_dir)), "test_accuracy": acc, "cases": cases})
    print(f"{out}: {len(nodes)} nodes, test accuracy {acc * 100:.2f}%")


if __name__ == "__main__":
    torch.set_num_threads(1)
    if len(sys.argv) == 3 and sys.argv[1] == "tiny":
        write_tiny(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "shipped":
        write_shipped(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
