# Graphs for the GAT models: Cora (Planetoid split) and Zachary's karate club, as the graph.json of a model directory.
"""A graph is a dict, written as graph.json beside the model:
  {"nodes": N, "names": [N strings] (optional), "labels": [N class ids, -1 unknown],
   "edges": [[a, b], ...] undirected, no self-loops, a < b, sorted,
   "feature_count": D, "features": [[active columns of node i], ...] (binary bag of words),
   "split": {"train": [...], "val": [...], "test": [...]}}
Class names live in config.json ("attnlens"."classes").
"""
import os
import pickle
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CORA = os.path.join(HERE, "..", "..", "shared", "data", "cora")

# Planetoid's Cora gives labels as one-hot columns without names. The class sizes in the full graph
# (351, 217, 418, 818, 426, 298, 180) are all different, and those of the original Cora classes
# (McCallum et al. 2000) match them one to one, which names the columns.
CORA_CLASSES = ["Theory", "Reinforcement learning", "Genetic algorithms", "Neural networks",
                "Probabilistic methods", "Case based", "Rule learning"]
CORA_CLASS_SIZES = [351, 217, 418, 818, 426, 298, 180]

KARATE_CLASSES = ["Mr. Hi", "Officer"]
# Labelled members: the two leaders (0: Mr. Hi, the instructor; 33: the officer, John A.) and one more of each side.
KARATE_TRAIN = [0, 33, 4, 24]


def _pickle(path):
    with open(path, "rb") as f:
        return pickle.load(f, encoding="latin1") if sys.version_info > (3, 0) else pickle.load(f)


def load_cora(root=CORA):
    """The Planetoid split as Kipf & Welling and the GAT authors load it."""
    names = ["x", "y", "tx", "ty", "allx", "ally", "graph"]
    x, y, tx, ty, allx, ally, graph = [_pickle(os.path.join(root, f"ind.cora.{n}")) for n in names]
    test_idx = [int(line) for line in open(os.path.join(root, "ind.cora.test.index"))]
    test_sorted = sorted(test_idx)
    feats = np.vstack([allx.toarray(), tx.toarray()])
    labels = np.vstack([ally, ty])
    feats[test_idx, :] = feats[test_sorted, :]
    labels[test_idx, :] = labels[test_sorted, :]
    n = feats.shape[0]
    lab = [int(r.argmax()) if r.sum() > 0 else -1 for r in labels]
    sizes = np.bincount([v for v in lab if v >= 0], minlength=7).tolist()
    if sizes != CORA_CLASS_SIZES:
        raise ValueError(f"unexpected Cora class sizes {sizes}")
    edges = set()
    for a, nbrs in graph.items():
        for b in nbrs:
            if a != b:
                edges.add((min(a, b), max(a, b)))
    return {"nodes": n, "labels": lab, "edges": sorted([list(e) for e in edges]),
            "feature_count": int(feats.shape[1]),
            "features": [np.flatnonzero(r).tolist() for r in feats],
            "split": {"train": list(range(140)), "val": list(range(140, 640)), "test": test_idx}}


def load_karate():
    """Zachary's karate club (python3-networkx): one-hot identity features; labels are the club each member joined
    after the split; KARATE_TRAIN are labelled, the other 30 are the test set."""
    import networkx as nx
    g = nx.karate_club_graph()
    n = g.number_of_nodes()
    lab = [KARATE_CLASSES.index(g.nodes[i]["club"]) for i in range(n)]
    names = [f"member {i + 1}" for i in range(n)]
    names[0], names[33] = "Mr. Hi (1)", "Officer (34)"
    return {"nodes": n, "names": names, "labels": lab,
            "edges": sorted([sorted([int(a), int(b)]) for a, b in g.edges() if a != b]),
            "feature_count": n, "features": [[i] for i in range(n)],
            "split": {"train": KARATE_TRAIN, "val": [], "test": [i for i in range(n) if i not in KARATE_TRAIN]}}
