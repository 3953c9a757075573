# Attentive reader (Hermann et al. 2015) for bAbI: the PyTorch twin of engine/models/attn_reader.c.
"""Bidirectional GRU encoders of the story and the question, attention over every story word.

The exact computation (what the C engine must replicate), for one question:
- Document: the kept story sentences' known words, each sentence followed by the separator "." (babi.SEPARATOR):
  ids d_1 .. d_T (T >= 1). Question: its known words q_1 .. q_Q (Q may be 0).
- e = Embed[id] [E]. GRUs in PyTorch's form (gates r, z, n in that order of the weight rows):
  r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z = sigmoid(W_iz x + b_iz + W_hz h + b_hz),
  n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h, starting from h = 0.
- y_t = [forward_t; backward_t] [2H] from doc_rnn (backward runs from d_T down to d_1).
- u = [forward state after q_Q; backward state after q_1] [2H] from question_rnn (zeros when Q = 0).
- m_t = tanh(W_ym y_t + W_um u) [A]; s_t = softmax_t(w_ms . m_t): the attention over the words (map "words").
- r = sum_t s_t y_t; g = tanh(W_rg r + W_ug u) [2H]; logits = W_out g + b_out [V] (no other biases).
- The answer is the argmax over ids 1 .. V-1, its probability the softmax over ids 1 .. V-1, as for MemN2N.
Tensor names: embed.weight, doc_rnn.*, question_rnn.* (nn.GRU, bidirectional, one layer), attn.doc.weight (W_ym),
attn.query.weight (W_um), attn.v.weight (w_ms, [1, A]), combine.r.weight (W_rg), combine.u.weight (W_ug),
out.weight, out.bias.
"""
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import babi

DEFAULT_CONFIG = {
    "vocab_size": 200,
    "embed_dim": 64,
    "hidden": 64,        # per direction
    "attn_dim": 64,
    "max_sentences": 50,  # most recent sentences kept, as MemN2N's memory
    "max_sentence_words": 32,
    "dropout": 0.0,
}


class AttentiveReader(nn.Module):
    def __init__(self, config=None):
        super().__init__()
        self.config = dict(DEFAULT_CONFIG, **(config or {}))
        c = self.config
        V, E, H, A = c["vocab_size"], c["embed_dim"], c["hidden"], c["attn_dim"]
        self.embed = nn.Embedding(V, E, padding_idx=0)
        self.doc_rnn = nn.GRU(E, H, batch_first=True, bidirectional=True)
        self.question_rnn = nn.GRU(E, H, batch_first=True, bidirectional=True)
        self.attn = nn.ModuleDict({"doc": nn.Linear(2 * H, A, bias=False), "query": nn.Linear(2 * H, A, bias=False),
                                   "v": nn.Linear(A, 1, bias=False)})
        self.combine = nn.ModuleDict({"r": nn.Linear(2 * H, 2 * H, bias=False),
                                      "u": nn.Linear(2 * H, 2 * H, bias=False)})
        self.out = nn.Linear(2 * H, V)
        self.drop = nn.Dropout(c["dropout"])

    def zero_nil(self):
        with torch.no_grad():
            self.embed.weight[0].zero_()

    def encode(self, rnn, ids, lengths):
        """States [B, T, 2H] (zero past each length) and the final [forward; backward] [B, 2H]."""
        x = self.drop(self.embed(ids))
        packed = pack_padded_sequence(x, lengths.clamp(min=1), batch_first=True, enforce_sorted=False)
        out, h = rnn(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=ids.shape[1])
        final = torch.cat([h[0], h[1]], -1)
        empty = (lengths == 0)[:, None]
        return out.masked_fill(empty[:, :, None], 0.0), final.masked_fill(empty, 0.0)

    def forward(self, doc, doc_len, question, q_len):
        """doc [B, T] ids (0 = padding), doc_len [B] (>= 1), question [B, Q], q_len [B] (may be 0).
        Returns logits [B, V] and the attention over the document words [B, T] (zero past doc_len)."""
        y, _ = self.encode(self.doc_rnn, doc, doc_len)
        _, u = self.encode(self.question_rnn, question, q_len)
        m = torch.tanh(self.attn["doc"](y) + self.attn["query"](u)[:, None, :])
        scores = self.attn["v"](m).squeeze(-1)
        mask = torch.arange(doc.shape[1])[None, :] >= doc_len[:, None]
        s = torch.softmax(scores.masked_fill(mask, float("-inf")), -1)
        r = torch.einsum("bt,bth->bh", s, y)
        g = torch.tanh(self.combine["r"](r) + self.combine["u"](u))
        return self.out(self.drop(g)), s


def document(sentences, index, max_sentences, max_words):
    """The document ids of tokenised sentences (the last max_sentences, each cut to max_words, then ".") and,
    for each id, the sentence it belongs to."""
    ids, owner = [], []
    sep = index[babi.SEPARATOR]
    kept = sentences[-max_sentences:]
    for i, s in enumerate(kept):
        words = [index[w] for w in s if w in index][:max_words]
        ids.extend(words + [sep])
        owner.extend([i] * (len(words) + 1))
    return ids, owner


def pad_batch(examples, index, max_sentences, max_words):
    docs = [document(e.story, index, max_sentences, max_words)[0] for e in examples]
    qs = [[index[w] for w in e.question if w in index][:max_words] for e in examples]
    T, Q = max(len(d) for d in docs), max(1, max(len(q) for q in qs))
    doc = torch.zeros(len(examples), T, dtype=torch.long)
    question = torch.zeros(len(examples), Q, dtype=torch.long)
    for b, (d, q) in enumerate(zip(docs, qs)):
        doc[b, :len(d)] = torch.tensor(d)
        question[b, :len(q)] = torch.tensor(q, dtype=torch.long)
    return doc, torch.tensor([len(d) for d in docs]), question, torch.tensor([len(q) for q in qs])


if __name__ == "__main__":
    # self-check: padding in a batch changes nothing; an empty question gives u = 0
    torch.manual_seed(0)
    m = AttentiveReader({"vocab_size": 20, "embed_dim": 5, "hidden": 4, "attn_dim": 3}).eval()
    doc = torch.tensor([[3, 4, 5, 2, 6, 2], [7, 2, 0, 0, 0, 0]])
    q = torch.tensor([[4, 5], [8, 0]])
    with torch.no_grad():
        logits, s = m(doc, torch.tensor([6, 2]), q, torch.tensor([2, 1]))
        alone, s1 = m(doc[1:, :2], torch.tensor([2]), q[1:, :1], torch.tensor([1]))
        assert torch.allclose(logits[1], alone[0], atol=1e-6) and torch.allclose(s[1, :2], s1[0], atol=1e-6)
        assert float(s[1, 2:].abs().sum()) == 0.0
        _, u = m.encode(m.question_rnn, q, torch.tensor([0, 1]))
        assert float(u[0].abs().sum()) == 0.0
    print("ok attentive reader: padding-invariant, empty question -> u = 0")
