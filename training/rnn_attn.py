# PyTorch twin of the C RNN with additive attention (Bahdanau, Cho, Bengio 2015): model, greedy and beam search.
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import transformer
from transformer import BOS_ID, EOS_ID, PAD_ID, UNK_ID, MAX_POSITIONS, Hypothesis, pad_batch  # noqa: F401

DEFAULT_CONFIG = dict(
    vocab_size=8000,
    embed_dim=256,
    enc_hidden=256,
    dec_hidden=512,
    attn_dim=256,
    maxout_dim=256,
    dropout=0.3,
    max_position_embeddings=MAX_POSITIONS,
    pad_token_id=PAD_ID,
    unk_token_id=UNK_ID,
    bos_token_id=BOS_ID,
    eos_token_id=EOS_ID,
    decoder_start_token_id=BOS_ID,
    encoder_segments=False,
    attention="additive",
)
ATTENTION_KINDS = ("additive", "none")


class Encoder(nn.Module):
    """Bidirectional GRU; annotations h_j = [forward_j; backward_j]."""

    def __init__(self, c):
        super().__init__()
        self.gru = nn.GRU(c["embed_dim"], c["enc_hidden"], batch_first=True, bidirectional=True)
        if c.get("encoder_segments"):
            self.register_buffer("segment_start", torch.zeros(c["vocab_size"]))
            self.register_buffer("segment_alone", torch.zeros(c["vocab_size"]))


class Decoder(nn.Module):
    """s0 = tanh(init(backward state at position 0)); s_i = cell([E(y_{i-1}); c_i], s_{i-1})."""

    def __init__(self, c):
        super().__init__()
        self.init = nn.Linear(c["enc_hidden"], c["dec_hidden"])
        self.cell = nn.GRUCell(c["embed_dim"] + 2 * c["enc_hidden"], c["dec_hidden"])


class Attention(nn.Module):
    """e_ij = v . tanh(W s_{i-1} + U h_j); U h_j is computed once per sentence (keys)."""

    def __init__(self, c):
        super().__init__()
        self.W = nn.Linear(c["dec_hidden"], c["attn_dim"])
        self.U = nn.Linear(2 * c["enc_hidden"], c["attn_dim"], bias=False)
        self.v = nn.Linear(c["attn_dim"], 1, bias=False)

    def forward(self, s_prev, keys, annotations, src_mask):
        """s_prev [B,Hd]; keys [B,S,A]; annotations [B,S,2He]. Returns (context [B,2He], weights [B,S])."""
        e = self.v(torch.tanh(self.W(s_prev)[:, None, :] + keys)).squeeze(-1)
        a = torch.softmax(e.masked_fill(~src_mask, float("-inf")), dim=-1)
        return torch.bmm(a[:, None, :], annotations).squeeze(1), a


class BahdanauRNN(nn.Module):
    """Parameter names: embed.weight, encoder.gru.*, decoder.init.*, decoder.cell.*, attn.{W,U,v}.*,
    deep_out.*, out_bias. The output layer is tied to embed.weight (maxout_dim == embed_dim).

    With config attention "none" it is the RNN encoder-decoder *without* attention (Cho et al.
    2014; Bahdanau et al. 2015's RNNencdec): no attn.* parameters, and the context c_i of every
    step is the same fixed-length vector c = [forward state at the last source piece; backward
    state at the first], the only thing the decoder learns about the sentence. Everything else
    (encoder, s0, GRU cell, deep output) is as with attention, so the two differ in that alone."""

    def __init__(self, config=None):
        super().__init__()
        self.config = dict(DEFAULT_CONFIG, **(config or {}))
        c = self.config
        if c["maxout_dim"] != c["embed_dim"]:
            raise ValueError("the output layer is tied to the embedding: maxout_dim must equal embed_dim")
        self.embed = nn.Embedding(c["vocab_size"], c["embed_dim"], padding_idx=c["pad_token_id"])
        self.encoder = Encoder(c)
        self.decoder = Decoder(c)
        if c["attention"] not in ATTENTION_KINDS:
            raise ValueError(f"attention must be one of {ATTENTION_KINDS}, not {c['attention']!r}")
        self.attn = Attention(c) if c["attention"] == "additive" else None
        self.deep_out = nn.Linear(c["dec_hidden"] + c["embed_dim"] + 2 * c["enc_hidden"], 2 * c["maxout_dim"])
        self.out_bias = nn.Parameter(torch.zeros(c["vocab_size"]))
        self.reset_parameters()

    def reset_parameters(self):
        """Orthogonal recurrent matrices (one block per gate), Xavier elsewhere, zero biases."""
        c = self.config
        for name, p in self.named_parameters():
            if name == "embed.weight":
                nn.init.normal_(p, 0.0, c["embed_dim"] ** -0.5)
                with torch.no_grad():
                    p[c["pad_token_id"]].zero_()
            elif "weight_hh" in name:
                for block in p.data.chunk(3, 0):
                    nn.init.orthogonal_(block)
            elif "weight" in name:
                nn.init.xavier_uniform_(p)
            else:
                nn.init.zeros_(p)

    def dropout(self, x):
        return F.dropout(x, self.config["dropout"], self.training)

    def set_segments(self, starts, alone):
        """Segmented encoder (config encoder_segments): per vocabulary id, whether a piece starts
        a segment (a word) and whether it is a segment alone (punctuation). Stored with the model."""
        with torch.no_grad():
            self.encoder.segment_start.copy_(torch.as_tensor(starts, dtype=torch.float32))
            self.encoder.segment_alone.copy_(torch.as_tensor(alone, dtype=torch.float32))

    def reset_before(self, src, src_mask):
        """[B,S] 1.0 where the recurrence restarts: a segment starts here, the piece before stands
        alone, or the position is padding (so the backward pass starts fresh at each sentence's end)."""
        enc = self.encoder
        reset = enc.segment_start[src].clone()
        reset[:, 1:] = torch.maximum(reset[:, 1:], enc.segment_alone[src[:, :-1]])
        reset[:, 0] = 1.0
        return torch.maximum(reset, (~src_mask).float())

    def encode_segments(self, x, src, src_mask):
        """Bidirectional GRU that restarts at every segment boundary, so an annotation only
        describes its own word: the decoder must look at a word to use it."""
        gru, he = self.encoder.gru, self.config["enc_hidden"]
        reset = self.reset_before(src, src_mask)
        b, s_len, _ = x.shape
        out = x.new_zeros(b, s_len, 2 * he)
        weights = [(gru.weight_ih_l0, gru.weight_hh_l0, gru.bias_ih_l0, gru.bias_hh_l0),
                   (gru.weight_ih_l0_reverse, gru.weight_hh_l0_reverse, gru.bias_ih_l0_reverse, gru.bias_hh_l0_reverse)]
        for d, (w_ih, w_hh, b_ih, b_hh) in enumerate(weights):
            h = x.new_zeros(b, he)
            order = range(s_len) if d == 0 else range(s_len - 1, -1, -1)
            for j in order:
                keep = 1.0 - (reset[:, j] if d == 0 else (reset[:, j + 1] if j + 1 < s_len else torch.ones_like(reset[:, j])))
                h = torch._VF.gru_cell(x[:, j], h * keep[:, None], w_ih, w_hh, b_ih, b_hh)
                out[:, j, d * he:(d + 1) * he] = h
        return out

    def encode(self, src, src_mask):
        """src [B,S], src_mask [B,S] (True = real). Returns (annotations [B,S,2He], keys [B,S,A], s0 [B,Hd]);
        without attention keys is the fixed context c [B,1,2He] instead (see summary)."""
        lengths = src_mask.sum(1).cpu()
        x = self.dropout(self.embed(src))
        if self.config["encoder_segments"]:
            out = self.encode_segments(x, src, src_mask)
        else:
            packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            out, _ = pad_packed_sequence(self.encoder.gru(packed)[0], batch_first=True, total_length=src.shape[1])
        he = self.config["enc_hidden"]
        s0 = torch.tanh(self.decoder.init(out[:, 0, he:]))
        if self.attn is None:
            return out, self.summary(out, src_mask)[:, None, :], s0
        return out, self.attn.U(out), s0

    def summary(self, annotations, src_mask):
        """c = [forward state at each sentence's last piece; backward state at its first] [B,2He]."""
        he = self.config["enc_hidden"]
        last = src_mask.sum(1) - 1
        fwd = annotations[torch.arange(annotations.shape[0]), last, :he]
        return torch.cat([fwd, annotations[:, 0, he:]], -1)

    def step(self, y_prev, s_prev, memory, src_mask):
        """One decoder step. memory = (annotations, keys). Returns (s_i, deep-output input, attention [B,S])."""
        annotations, keys = memory
        emb = self.dropout(self.embed(y_prev))
        if self.attn is None:  # the fixed context; no weights ([B,0])
            ctx, a = keys[:, 0, :], keys.new_zeros(keys.shape[0], 0)
        else:
            ctx, a = self.attn(s_prev, keys, annotations, src_mask)
        s_next = self.decoder.cell(torch.cat([emb, ctx], -1), s_prev)
        return s_next, torch.cat([s_prev, emb, ctx], -1), a

    def logits(self, deep_in):
        """t~ = deep_out([s_{i-1}; E(y_{i-1}); c_i]); t = maxout over pairs (2k, 2k+1); logits = t E^T + b."""
        pre = self.deep_out(deep_in)
        t = pre.view(*pre.shape[:-1], self.config["maxout_dim"], 2).max(-1).values
        return F.linear(self.dropout(t), self.embed.weight) + self.out_bias

    def forward(self, src, src_mask, tgt_in, return_attn=False):
        """Teacher-forced pass. Returns logits [B,T,V] (and {"cross": [B,T,S]} if asked)."""
        annotations, keys, s = self.encode(src, src_mask)
        deep_ins, maps = [], []
        for t in range(tgt_in.shape[1]):
            s, deep_in, a = self.step(tgt_in[:, t], s, (annotations, keys), src_mask)
            deep_ins.append(deep_in)
            maps.append(a)
        logits = self.logits(torch.stack(deep_ins, 1))
        if return_attn:
            return logits, {"cross": torch.stack(maps, 1)}
        return logits

    def next_logprobs(self, tokens, state, memory, src_mask):
        """Incremental step for tokens [B]; state = s_{i-1} [B,Hd]. Pad is never generated.
        Returns (log-probs [B,V], s_i, attention [B,S])."""
        s_next, deep_in, a = self.step(tokens, state, memory, src_mask)
        lp = torch.log_softmax(self.logits(deep_in), dim=-1)
        lp[:, self.config["pad_token_id"]] = float("-inf")
        return lp, s_next, a


max_output_len = transformer.max_output_len
limit_for = transformer.limit_for
cut_at_eos = transformer.cut_at_eos


@torch.no_grad()
def greedy_batch(model, srcs):
    """Greedy decoding of source id lists (each ending in </s>). Returns output id lists (no </s>)."""
    model.eval()
    c = model.config
    src, src_mask = pad_batch(srcs)
    annotations, keys, s = model.encode(src, src_mask)
    limit = max_output_len(int(src_mask.sum(1).max()))
    tokens = torch.full((len(srcs),), c["decoder_start_token_id"], dtype=torch.long)
    done = torch.zeros(len(srcs), dtype=torch.bool)
    out = []
    for _ in range(limit):
        lp, s, _ = model.next_logprobs(tokens, s, (annotations, keys), src_mask)
        tokens = lp.argmax(-1)
        out.append(tokens)
        done |= tokens == c["eos_token_id"]
        if bool(done.all()):
            break
    return [cut_at_eos(row, limit_for(x)) for row, x in zip(torch.stack(out, 1).tolist(), srcs)]


def beam_search(model, src_ids, beam=4, alpha=1.0):
    """Beam search for one source, the algorithm of transformer.beam_search (its _expand and _done
    are reused as they are). Each Hypothesis keeps its cross-attention as [1,1,S] per step."""
    with torch.no_grad():
        return _beam_search(model, src_ids, beam, alpha)


def _beam_search(model, src_ids, beam, alpha):
    model.eval()
    c = model.config
    src, src_mask = pad_batch([src_ids])
    annotations, keys, s = model.encode(src, src_mask)
    live, finished = [Hypothesis([], 0.0, [], [])], []
    limit = max_output_len(len(src_ids))
    for step in range(limit):
        tokens = torch.tensor([h.ids[-1] if h.ids else c["decoder_start_token_id"] for h in live])
        k = len(live)
        memory = (annotations.expand(k, -1, -1), keys.expand(k, -1, -1))
        lp, s, a = model.next_logprobs(tokens, s, memory, src_mask.expand(k, -1))
        live, order = transformer._expand(live, lp, a[:, None, None, :], finished, beam, alpha, step == limit - 1)
        if not live or transformer._done(finished, live, beam, alpha, step):
            break
        s = s[order]
    finished.sort(key=lambda h: -h.normalized(alpha))
    return finished[:beam]
