# Writes data/models/gat-cora or gat-karate from train_gat.py's output: config.json, model.safetensors, graph.json
# and a MODEL.md whose accuracy is measured on the exported weights (loaded back into the twin).
"""usage: export_gat.py cora|karate [--work DIR] [--out DIR]"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import graph_data  # noqa: E402
import safetensors_io  # noqa: E402
from export_common import f16_tensors, write_text  # noqa: E402
from gat import GAT, edge_index, features, neighbour_lists  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

TEXT = {
    "cora": {
        "display": "GAT on Cora (citation graph, 7 topics)", "classes": graph_data.CORA_CLASSES, "f16": True,
        "title": "GAT on Cora (Velickovic et al. 2018)",
        "about": "Graph attention network, the paper's transductive Cora model: 8 heads of 8 features, ELU, one "
                 "output head over the 7 classes; each node attends over itself and the papers it cites or is "
                 "cited by. Node features are the papers' 1,433-word binary bag of words, normalised to sum 1.",
        "data": "Cora citation graph, Planetoid split (Yang et al. 2016) as distributed in the GAT authors' "
                "repository PetarV-/GAT (MIT license), commit 5af87e7fce2b90ae1cbd621cd58059036a3c7436, `data/` "
                "(see ../shared/data/README.md, section 7): 2,708 papers, 5,278 undirected citation links (5,429 "
                "listed, with repeats), 1,433 word features, 140 training nodes (20 per class), 500 validation, "
                "1,000 test. graph.json holds the graph, features (the active word columns of each paper), labels "
                "and the split. The Planetoid files name no classes; the sizes of the 7 label columns (351, 217, "
                "418, 818, 426, 298, 180) are all different and match those of the original Cora topics "
                "(McCallum et al. 2000) one to one, which names them (training/graph_data.py checks the sizes).",
        "reference": "The paper reports 83.0 ± 0.7% test accuracy (Table 2, mean and standard deviation over 100 "
                     "runs).",
    },
    "karate": {
        "display": "GAT on Zachary's karate club", "classes": graph_data.KARATE_CLASSES, "f16": False,
        "title": "GAT on Zachary's karate club",
        "about": "Graph attention network on the club-membership example: 4 heads of 8 features, ELU, one output "
                 "head over the two clubs the members joined after the split. Features are one-hot (each member is "
                 "its own feature), so everything the model knows about a member comes through the edges it "
                 "attends over: add or remove an edge in the window and the predictions move.",
        "data": "Zachary's karate club (Zachary 1977, J. Anthropological Research 33(4), a published table of "
                "friendships) as included in Debian's python3-networkx (BSD-3-Clause) "
                "(`networkx.karate_club_graph()`, 34 members, 78 friendships, the attribute `club`: \"Mr. Hi\" or "
                "\"Officer\"). Semi-supervised: 4 members are labelled (0: Mr. Hi, the instructor; 33: the officer, "
                "John A.; 4 of Mr. Hi's side, 24 of the officer's), the other 30 are the test set. Node names in "
                "graph.json count from 1 as Zachary's paper does (\"member 5\" is id 4).",
        "reference": "There is no published figure for this exact split (Kipf & Welling 2017 show the club as an "
                     "illustration, not as a benchmark).",
    },
}


def model_config(c, name):
    t = TEXT[name]
    return {"architectures": ["GAT"], "model_type": "gat", "in_features": c["in_features"], "hidden": c["hidden"],
            "heads": c["heads"], "num_classes": c["num_classes"], "out_heads": c["out_heads"],
            "negative_slope": c.get("negative_slope", 0.2), "activation": "elu", "feature_normalisation": "row",
            "attnlens": {"task": "graph", "display_name": t["display"], "classes": t["classes"],
                         "graph": "graph.json", "editable": name == "karate",
                         "example_node": 0 if name == "karate" else 1701}}


def write_graph(g, path):
    write_text(path, json.dumps(g, separators=(",", ":")) + "\n")


def load_twin(model_dir):
    """(twin in eval mode on the exported weights, graph dict, config)."""
    cfg = json.load(open(os.path.join(model_dir, "config.json"), encoding="utf-8"))
    g = json.load(open(os.path.join(model_dir, "graph.json"), encoding="utf-8"))
    arrays, _ = safetensors_io.load_file(os.path.join(model_dir, "model.safetensors"))
    model = GAT({k: cfg[k] for k in ("in_features", "hidden", "heads", "num_classes", "out_heads",
                                     "negative_slope")})
    model.load_state_dict({k: torch.from_numpy(a.astype(np.float32)) for k, a in arrays.items()})
    return model.eval(), g, cfg


@torch.no_grad()
def evaluate(model, g):
    dst, src = edge_index(neighbour_lists(g["nodes"], g["edges"]))
    logits, _ = model(features(g["features"], g["feature_count"]), dst, src)
    pred, y = logits.argmax(1), torch.tensor(g["labels"])
    return {k: float((pred[v] == y[v]).float().mean()) * 100
            for k, v in ((k, torch.tensor(v, dtype=torch.long)) for k, v in g["split"].items() if len(v))}


@torch.no_grad()
def attention_stats(model, g):
    """How far from uniform the attention is, per head of each layer, over the nodes with at least two neighbours:
    the mean of (largest weight x (degree + 1)), 1 for uniform, and of entropy / log(degree + 1), 1 for uniform."""
    dst, src = edge_index(neighbour_lists(g["nodes"], g["edges"]))
    _, alphas = model(features(g["features"], g["feature_count"]), dst, src)
    n = g["nodes"]
    deg = torch.bincount(dst, minlength=n).float()
    keep = deg >= 3
    out = []
    for a in alphas:
        mx = torch.zeros(n, a.shape[1]).scatter_reduce(0, dst[:, None].expand_as(a), a, reduce="amax",
                                                      include_self=True)
        ent = torch.zeros(n, a.shape[1]).index_add_(0, dst, -a * torch.log(a.clamp_min(1e-12)))
        out.append((float((mx * deg[:, None])[keep].mean()), float((ent[keep] / torch.log(deg[keep])[:, None]).mean())))
    return out


def model_card(name, run, summary, acc, work, stats=()):
    t, r = TEXT[name], run["result"]
    seeds = ", ".join(f"{a:.1f}" for a in summary["test_acc"])
    floor = "\n\nThe project's floor for the shipped model is 81% on the 1,000 test nodes: " + \
        ("met." if acc["test"] >= 81 else "NOT met.") if name == "cora" else ""
    stop = ("early stopping with a patience of 100 epochs on validation loss and accuracy (the authors' rule); "
            "the shipped seed is the one with the best validation accuracy") if name == "cora" else \
        f"{summary['args']['epochs']} epochs (no validation nodes to stop on); the shipped model is seed 0"
    return "\n".join([
        f"# {t['title']}", "", t["about"], "",
        f"Parameters: {sum(v.numel() for v in run['model'].values())}, stored as "
        f"{'F16' if t['f16'] else 'F32'}; the accuracies below are measured on the stored weights.", "",
        "## Data", "", t["data"], "",
        "## Training", "",
        f"Adam, lr {summary['args']['lr']}, weight decay {summary['args']['weight_decay']}, dropout "
        f"{summary['args']['dropout']} on every layer's input and on the attention coefficients, full-batch; {stop}. "
        f"One CPU thread, {summary['minutes']:.1f} min for all {summary['seeds']} seeds.", "",
        "## Reproduce", "", "```",
        f"nice -n 5 /usr/bin/python3 training/train_gat.py --graph {name}   # {summary['seeds']} seeds, writes {work}",
        f"/usr/bin/python3 training/export_gat.py {name}",
        f"/usr/bin/python3 training/golden_gat.py shipped data/models/gat-{name} tests/fixtures/gat-{name}/golden.json",
        "```", "",
        "## Quality", "",
        f"Test accuracy over {summary['seeds']} seeds (0..{summary['seeds'] - 1}): **{summary['mean']:.1f} ± "
        f"{summary['sd']:.1f}%** (mean ± sample standard deviation; per seed: {seeds}). {t['reference']}", "",
        *attention_lines(stats),
        f"Shipped: seed {r['seed']}, weights of epoch {r['epoch']}: " +
        ", ".join(f"{k} accuracy {v:.1f}%" for k, v in acc.items()) + f" ({len(run_split(name))} test nodes)." +
        floor, ""])


def attention_lines(stats):
    if not stats:
        return []
    parts = [f"layer {i + 1}: largest weight {m:.2f} x uniform, entropy {e:.3f} of uniform" for i, (m, e) in enumerate(stats)]
    return ["Attention: close to uniform over each node's neighbours (means per head over the nodes with at least two "
            "neighbours; " + "; ".join(parts) + "). The model classifies by who the neighbours are more than by "
            "choosing among them.", ""]


def run_split(name):
    return (graph_data.load_cora() if name == "cora" else graph_data.load_karate())["split"]["test"]


def main():
    ap = argparse.ArgumentParser(description="Export a trained GAT to a model directory.")
    ap.add_argument("graph", choices=["cora", "karate"])
    ap.add_argument("--work")
    ap.add_argument("--out")
    args = ap.parse_args()
    torch.set_num_threads(1)
    work = args.work or os.path.join(HERE, "work", f"gat-{args.graph}")
    out = args.out or os.path.join(REPO, "data", "models", f"gat-{args.graph}")
    run = torch.load(os.path.join(work, "ckpt_best.pt"), map_location="cpu")
    summary = json.load(open(os.path.join(work, "results.json")))
    os.makedirs(out, exist_ok=True)
    state = run["model"]
    arrays = f16_tensors(state) if TEXT[args.graph]["f16"] else {k: v.float().numpy() for k, v in state.items()}
    safetensors_io.save_file(arrays, os.path.join(out, "model.safetensors"),
                             {"source": "attnlens training/export_gat.py", "seed": run["result"]["seed"]})
    write_text(os.path.join(out, "config.json"), json.dumps(model_config(run["config"], args.graph), indent=2) + "\n")
    g = graph_data.load_cora() if args.graph == "cora" else graph_data.load_karate()
    write_graph(g, os.path.join(out, "graph.json"))
    model, g, _ = load_twin(out)
    acc = evaluate(model, g)
    write_text(os.path.join(out, "MODEL.md"),
               model_card(args.graph, run, summary, acc, os.path.relpath(work, REPO), attention_stats(model, g)))
    print(out, json.dumps(acc))


if __name__ == "__main__":
    main()
