# Graph attention network (Velickovic et al. 2018): the PyTorch twin of engine/models/attn_gat.c.
"""Two GAT layers over a graph given as an edge list with self-loops.

Layer 1: `heads` attention heads of `hidden` features each, concatenated, ELU.
Layer 2: `out_heads` heads of `num_classes` features, averaged (one head on Cora, as in the paper).
Each head: h = x W^T; e_ij = LeakyReLU(a_dst . h_i + a_src . h_j, 0.2) for every j in N(i) and i itself;
alpha_i = softmax_j(e_ij); out_i = sum_j alpha_ij h_j + bias.

Tensors (the names in model.safetensors; H heads, F features per head, C classes, D input features):
  layer1.weight [H*F, D]  layer1.att_src [H, F]  layer1.att_dst [H, F]  layer1.bias [H*F]
  layer2.weight [K*C, H*F] layer2.att_src [K, C] layer2.att_dst [K, C]  layer2.bias [C]   (K = out_heads)

Node features are binary bag-of-words rows, normalised to sum 1 (as the GAT authors' preprocessing);
`features(...)` builds them from lists of active columns, the format of graph.json.
"""
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

warnings.filterwarnings("ignore", message=".*scatter_reduce.*")

DEFAULT_CONFIG = {"in_features": 1433, "hidden": 8, "heads": 8, "num_classes": 7, "out_heads": 1,
                  "negative_slope": 0.2, "dropout": 0.6}


def neighbour_lists(n, edges):
    """Per node: itself first, then its neighbours in ascending order (undirected edges, no duplicates).
    The C engine uses the same order, so a node's attention row lines up column by column."""
    nb = [set() for _ in range(n)]
    for a, b in edges:
        if a != b:
            nb[a].add(b)
            nb[b].add(a)
    return [[i] + sorted(nb[i]) for i in range(n)]


def edge_index(neighbours):
    """(dst, src) long tensors: one entry per (node, neighbour) pair in neighbour_lists order."""
    dst = [i for i, lst in enumerate(neighbours) for _ in lst]
    src = [j for lst in neighbours for j in lst]
    return torch.tensor(dst, dtype=torch.long), torch.tensor(src, dtype=torch.long)


def features(rows, dim):
    """Dense [N, dim] float32 from lists of active columns, each row normalised to sum 1 (empty rows stay 0)."""
    x = torch.zeros(len(rows), dim)
    for i, cols in enumerate(rows):
        if cols:
            x[i, cols] = 1.0 / len(set(cols))
    return x


def segment_softmax(e, dst, n):
    """Softmax of e [E, H] over the entries sharing a dst node."""
    m = torch.full((n, e.shape[1]), -float("inf"), dtype=e.dtype).scatter_reduce(
        0, dst[:, None].expand_as(e), e, reduce="amax", include_self=True)
    p = torch.exp(e - m[dst])
    s = torch.zeros(n, e.shape[1], dtype=e.dtype).index_add_(0, dst, p)
    return p / s[dst]


class GATLayer(nn.Module):
    def __init__(self, fin, fout, heads, concat, negative_slope, dropout):
        super().__init__()
        self.heads, self.fout, self.concat = heads, fout, concat
        self.negative_slope, self.dropout = negative_slope, dropout
        self.weight = nn.Parameter(torch.empty(heads * fout, fin))
        self.att_src = nn.Parameter(torch.empty(heads, fout))
        self.att_dst = nn.Parameter(torch.empty(heads, fout))
        self.bias = nn.Parameter(torch.zeros(heads * fout if concat else fout))
        nn.init.xavier_uniform_(self.weight)
        nn.init.xavier_uniform_(self.att_src)
        nn.init.xavier_uniform_(self.att_dst)

    def forward(self, x, dst, src):
        """x [N, fin] -> (out [N, H*F] or [N, F], alpha [E, H])."""
        n = x.shape[0]
        if x.is_sparse:  # dropout on the stored entries only: the zeros would stay zero anyway
            x = torch.sparse_coo_tensor(x.indices(), F.dropout(x.values(), self.dropout, self.training), x.shape)
            h = torch.sparse.mm(x, self.weight.t()).view(n, self.heads, self.fout)
        else:
            x = F.dropout(x, self.dropout, self.training)
            h = (x @ self.weight.t()).view(n, self.heads, self.fout)
        s_src = (h * self.att_src).sum(-1)
        s_dst = (h * self.att_dst).sum(-1)
        e = F.leaky_relu(s_dst[dst] + s_src[src], self.negative_slope)
        alpha = segment_softmax(e, dst, n)
        a = F.dropout(alpha, self.dropout, self.training)
        hv = F.dropout(h, self.dropout, self.training)
        out = torch.zeros(n, self.heads, self.fout, dtype=x.dtype).index_add_(0, dst, a[:, :, None] * hv[src])
        out = out.reshape(n, -1) if self.concat else out.mean(1)
        return out + self.bias, alpha


class GAT(nn.Module):
    def __init__(self, config=None):
        super().__init__()
        c = dict(DEFAULT_CONFIG, **(config or {}))
        self.config = c
        self.layer1 = GATLayer(c["in_features"], c["hidden"], c["heads"], True, c["negative_slope"], c["dropout"])
        self.layer2 = GATLayer(c["hidden"] * c["heads"], c["num_classes"], c["out_heads"], False,
                               c["negative_slope"], c["dropout"])

    def forward(self, x, dst, src):
        """-> (logits [N, C], [alpha1 [E, H], alpha2 [E, K]])."""
        h, a1 = self.layer1(x, dst, src)
        logits, a2 = self.layer2(F.elu(h), dst, src)
        return logits, [a1, a2]


def node_maps(alphas, dst, node):
    """The attention rows of one node: [(layer, head, weights over its neighbour list)], layer 1 heads first."""
    sel = (dst == node).nonzero().flatten()
    return [(li + 1, k, a[sel, k]) for li, a in enumerate(alphas) for k in range(a.shape[1])]
