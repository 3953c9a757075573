# End-to-end memory network (Sukhbaatar et al. 2015): the PyTorch twin of engine/models/attn_memn2n.c.
"""K hops over the story's sentences, bag-of-words memories with position encoding (PE), temporal encoding (TE),
adjacent weight tying; linear start (LS) and random noise (RN) are training-time options.

The exact computation (what the C engine must replicate), for one question:
- ids: story sentence i (i = 0 .. n-1, oldest first) has the known words x_i1 .. x_iJ (J = J_i >= 0 words; unknown
  words are left out before J is counted); the question has q_1 .. q_Jq.
- PE weight of word j (1-based) of a J-word sentence in dimension k (1-based) of d:
  l_kj = (1 - j/J) - (k/d) (1 - 2 j/J), computed in float64 and rounded to float32 (paper section 4.1).
- Adjacent tying with K + 1 embeddings E_0 .. E_K [V, d] and temporal tables T_0 .. T_K [memory_size, d]:
  A^1 = B = E_0, C^k = A^{k+1} = E_k, W^T = C^K = E_K; T_A^1 = T_0, T_C^k = T_A^{k+1} = T_k.
- Memory vectors: bag_k[i] = sum_j l_.j * E_k[x_ij] + T_k[n - 1 - i] (TE counts back from the newest sentence,
  so the last sentence uses row 0).
- u^1 = sum_j l_.j * E_0[q_j] (no temporal term).
- Hop k = 1 .. K: p^k = softmax_i(bag_{k-1}[i] . u^k); o^k = sum_i p^k_i bag_k[i]; u^{k+1} = u^k + o^k.
  p^k is the attention map "hop k" of the trace.
- logits = E_K u^{K+1} [V]. The answer is the argmax over ids 1 .. V-1 (id 0 is <nil>, whose rows are zero);
  its probability is the softmax over ids 1 .. V-1.
"""
import math

import torch
import torch.nn as nn

DEFAULT_CONFIG = {
    "vocab_size": 200,
    "embed_dim": 50,
    "hops": 3,
    "memory_size": 50,   # most recent sentences kept (paper: 50)
    "max_sentence_words": 32,  # longer sentences are cut (bAbI's longest has 11 words)
    "init_std": 0.1,
}


def position_encoding(J, d, L):
    """[L, d] PE weights of a J-word sentence (rows past J are zero), float64 then float32, as the C engine."""
    pe = torch.zeros(L, d, dtype=torch.float64)
    if J > 0:
        j = torch.arange(1, J + 1, dtype=torch.float64)[:, None]
        k = torch.arange(1, d + 1, dtype=torch.float64)[None, :]
        jJ = j / J
        pe[:J] = (1.0 - jJ) - (k / d) * (1.0 - 2.0 * jJ)
    return pe.float()


class MemN2N(nn.Module):
    def __init__(self, config=None):
        super().__init__()
        self.config = dict(DEFAULT_CONFIG, **(config or {}))
        c = self.config
        V, d, K, M = c["vocab_size"], c["embed_dim"], c["hops"], c["memory_size"]
        self.embed = nn.ModuleList([nn.Embedding(V, d, padding_idx=0) for _ in range(K + 1)])
        self.temporal = nn.ModuleList([nn.Embedding(M, d) for _ in range(K + 1)])
        L = c["max_sentence_words"]
        self.register_buffer("pe_table", torch.stack([position_encoding(J, d, L) for J in range(L + 1)]),
                             persistent=False)  # [L+1 (J), L (j), d]
        self.reset_parameters()

    def reset_parameters(self):
        std = self.config["init_std"]
        with torch.no_grad():
            for e in list(self.embed) + list(self.temporal):
                e.weight.normal_(0.0, std)
            self.zero_nil()

    def zero_nil(self):
        with torch.no_grad():
            for e in self.embed:
                e.weight[0].zero_()

    def bag(self, k, ids):
        """sum_j PE * E_k[ids] over the last axis of ids [..., L] (0 = padding, words packed first)."""
        J = (ids != 0).sum(-1)
        pe = self.pe_table[J][..., :ids.shape[-1], :]  # [..., L, d]
        return (self.embed[k](ids) * pe).sum(-2)

    def forward(self, story, n, question, linear=False):
        """story [B, M, L] ids (sentence i of example b in slot i < n[b], oldest first; 0 = padding),
        n [B] sentence counts, question [B, Lq]. Returns logits [B, V] and the K hop maps, each [B, M]
        (zero on empty slots). linear=True leaves out the hops' softmax (linear start)."""
        B, M, _ = story.shape
        slot = torch.arange(M)[None, :]
        real = slot < n[:, None]  # [B, M]
        t = (n[:, None] - 1 - slot).clamp(min=0)  # temporal row: 0 for the newest sentence
        bags = [self.bag(k, story) + self.temporal[k](t) for k in range(self.config["hops"] + 1)]
        u = self.bag(0, question)
        maps = []
        for k in range(1, self.config["hops"] + 1):
            scores = torch.einsum("bmd,bd->bm", bags[k - 1], u)
            if linear:
                p = scores.masked_fill(~real, 0.0)
            else:
                p = torch.softmax(scores.masked_fill(~real, float("-inf")), -1)
            maps.append(p)
            u = u + torch.einsum("bm,bmd->bd", p, bags[k])
        logits = u @ self.embed[self.config["hops"]].weight.t()
        return logits, maps


def answer_probs(logits):
    """Softmax over ids 1 .. V-1 (id 0, <nil>, is never an answer), as [B, V] with column 0 zero."""
    p = torch.softmax(logits[:, 1:], -1)
    return torch.cat([torch.zeros_like(p[:, :1]), p], -1)


def pad_batch(examples, index, memory_size, max_words):
    """Tensors of a list of bAbI examples: the last memory_size sentences, words cut to max_words."""
    stories = [[[index[w] for w in s if w in index][:max_words] for s in e.story[-memory_size:]] for e in examples]
    qs = [[index[w] for w in e.question if w in index][:max_words] for e in examples]
    M = max(1, max(len(s) for s in stories))
    L = max(1, max((len(x) for s in stories for x in s), default=1))
    Lq = max(1, max(len(q) for q in qs))
    story = torch.zeros(len(examples), M, L, dtype=torch.long)
    question = torch.zeros(len(examples), Lq, dtype=torch.long)
    for b, s in enumerate(stories):
        for i, x in enumerate(s):
            story[b, i, :len(x)] = torch.tensor(x, dtype=torch.long)
        question[b, :len(qs[b])] = torch.tensor(qs[b], dtype=torch.long)
    n = torch.tensor([len(s) for s in stories], dtype=torch.long)
    return story, n, question


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())


if __name__ == "__main__":
    # self-check: the batched forward equals a per-example loop written straight from the docstring
    torch.manual_seed(0)
    m = MemN2N({"vocab_size": 30, "embed_dim": 6, "hops": 3, "memory_size": 8, "max_sentence_words": 6}).eval()
    story = torch.tensor([[[3, 4, 5, 0], [6, 7, 0, 0], [0, 0, 0, 0]], [[8, 0, 0, 0], [9, 10, 11, 12], [13, 2, 0, 0]]])
    n, q = torch.tensor([2, 3]), torch.tensor([[4, 5, 0], [9, 1, 2]])
    logits, maps = m(story, n, q)
    with torch.no_grad():
        for b in range(2):
            def bag(k, ids):
                ids = [i for i in ids if i]
                if not ids:
                    return torch.zeros(6)
                pe = position_encoding(len(ids), 6, len(ids))
                return sum(pe[j] * m.embed[k].weight[x] for j, x in enumerate(ids))
            nb = int(n[b])
            mem = [[bag(k, story[b, i].tolist()) + m.temporal[k].weight[nb - 1 - i] for i in range(nb)] for k in range(4)]
            u = bag(0, q[b].tolist())
            for k in range(1, 4):
                p = torch.softmax(torch.stack([x @ u for x in mem[k - 1]]), 0)
                assert torch.allclose(p, maps[k - 1][b, :nb], atol=1e-6), (p, maps[k - 1][b])
                u = u + sum(p[i] * mem[k][i] for i in range(nb))
            assert torch.allclose(u @ m.embed[3].weight.t(), logits[b], atol=1e-5)
    assert math.isclose(float(answer_probs(logits)[0].sum()), 1.0, rel_tol=1e-6)
    print("ok memn2n batched forward == per-example loop")
