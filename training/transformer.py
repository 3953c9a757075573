# PyTorch twin of the C Transformer (Marian/opus-mt layout and parameter names): model, greedy and beam search.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3
MAX_POSITIONS = 128

DEFAULT_CONFIG = dict(
    d_model=256,
    encoder_layers=3,
    decoder_layers=3,
    encoder_attention_heads=4,
    decoder_attention_heads=4,
    encoder_ffn_dim=1024,
    decoder_ffn_dim=1024,
    activation_function="relu",
    vocab_size=8000,
    max_position_embeddings=MAX_POSITIONS,
    dropout=0.1,
    attention_dropout=0.0,
    activation_dropout=0.0,
    layer_norm_eps=1e-5,
    pad_token_id=PAD_ID,
    unk_token_id=UNK_ID,
    bos_token_id=BOS_ID,
    eos_token_id=EOS_ID,
    decoder_start_token_id=PAD_ID,
)


def sinusoidal_positions(n_pos, dim):
    """Marian layout: pe[p, j] = sin(p / 10000^(2j/d)), pe[p, d/2 + j] = cos(same), j < d/2."""
    half = dim // 2
    j = torch.arange(half, dtype=torch.float64)
    inv = torch.pow(10000.0, -2.0 * j / dim)
    ang = torch.arange(n_pos, dtype=torch.float64)[:, None] * inv[None, :]
    return torch.cat([torch.sin(ang), torch.cos(ang)], dim=1).float()


class Attention(nn.Module):
    """Multi-head attention; q is scaled by head_dim^-0.5 after its bias, masked keys get -inf."""

    def __init__(self, d_model, heads, dropout):
        super().__init__()
        self.heads, self.head_dim = heads, d_model // heads
        self.scaling = self.head_dim ** -0.5
        self.dropout = dropout
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)

    def split(self, x):
        b, t, _ = x.shape
        return x.view(b, t, self.heads, self.head_dim).transpose(1, 2)

    def keys_values(self, kv_input):
        return self.split(self.k_proj(kv_input)), self.split(self.v_proj(kv_input))

    def forward(self, x, k, v, mask):
        """x [B,Tq,D]; k,v [B,H,Tk,hd]; mask bool broadcastable to [B,H,Tq,Tk], True = blocked."""
        q = self.split(self.q_proj(x) * self.scaling)
        scores = torch.matmul(q, k.transpose(-1, -2))
        if mask is not None:
            scores = scores.masked_fill(mask, float("-inf"))
        probs = torch.softmax(scores, dim=-1)
        ctx = torch.matmul(F.dropout(probs, self.dropout, self.training), v)
        b, _, tq, _ = ctx.shape
        ctx = ctx.transpose(1, 2).reshape(b, tq, self.heads * self.head_dim)
        return self.out_proj(ctx), probs


class EncoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["d_model"]
        self.self_attn = Attention(d, c["encoder_attention_heads"], c["attention_dropout"])
        self.self_attn_layer_norm = nn.LayerNorm(d, eps=c["layer_norm_eps"])
        self.fc1 = nn.Linear(d, c["encoder_ffn_dim"])
        self.fc2 = nn.Linear(c["encoder_ffn_dim"], d)
        self.final_layer_norm = nn.LayerNorm(d, eps=c["layer_norm_eps"])
        self.dropout, self.act_dropout = c["dropout"], c["activation_dropout"]

    def forward(self, x, mask):
        k, v = self.self_attn.keys_values(x)
        h, probs = self.self_attn(x, k, v, mask)
        x = self.self_attn_layer_norm(x + F.dropout(h, self.dropout, self.training))
        h = F.dropout(F.relu(self.fc1(x)), self.act_dropout, self.training)
        x = self.final_layer_norm(x + F.dropout(self.fc2(h), self.dropout, self.training))
        return x, probs


class DecoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["d_model"]
        self.self_attn = Attention(d, c["decoder_attention_heads"], c["attention_dropout"])
        self.self_attn_layer_norm = nn.LayerNorm(d, eps=c["layer_norm_eps"])
        self.encoder_attn = Attention(d, c["decoder_attention_heads"], c["attention_dropout"])
        self.encoder_attn_layer_norm = nn.LayerNorm(d, eps=c["layer_norm_eps"])
        self.fc1 = nn.Linear(d, c["decoder_ffn_dim"])
        self.fc2 = nn.Linear(c["decoder_ffn_dim"], d)
        self.final_layer_norm = nn.LayerNorm(d, eps=c["layer_norm_eps"])
        self.dropout, self.act_dropout = c["dropout"], c["activation_dropout"]

    def forward(self, x, self_mask, cross_kv, cross_mask, cache=None):
        """cache (decoding only): dict holding this layer's past self-attention keys/values."""
        k, v = self.self_attn.keys_values(x)
        if cache is not None:
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], 2), torch.cat([cache["v"], v], 2)
            cache["k"], cache["v"] = k, v
        h, self_probs = self.self_attn(x, k, v, self_mask)
        x = self.self_attn_layer_norm(x + F.dropout(h, self.dropout, self.training))
        h, cross_probs = self.encoder_attn(x, cross_kv[0], cross_kv[1], cross_mask)
        x = self.encoder_attn_layer_norm(x + F.dropout(h, self.dropout, self.training))
        h = F.dropout(F.relu(self.fc1(x)), self.act_dropout, self.training)
        x = self.final_layer_norm(x + F.dropout(self.fc2(h), self.dropout, self.training))
        return x, self_probs, cross_probs


class Stack(nn.Module):
    """Holds layers under the HF names model.encoder.layers.{i} / model.decoder.layers.{i}."""

    def __init__(self, layers):
        super().__init__()
        self.layers = nn.ModuleList(layers)


class Core(nn.Module):
    """HF's MarianModel part: model.shared, model.encoder, model.decoder (no stored positions)."""

    def __init__(self, c):
        super().__init__()
        self.shared = nn.Embedding(c["vocab_size"], c["d_model"], padding_idx=c["pad_token_id"])
        self.encoder = Stack([EncoderLayer(c) for _ in range(c["encoder_layers"])])
        self.decoder = Stack([DecoderLayer(c) for _ in range(c["decoder_layers"])])


class MarianTransformer(nn.Module):
    """state_dict names equal HF MarianMTModel's, minus tied/derived tensors (lm_head, positions)."""

    def __init__(self, config=None):
        super().__init__()
        self.config = dict(DEFAULT_CONFIG, **(config or {}))
        c = self.config
        self.model = Core(c)
        self.final_logits_bias = nn.Parameter(torch.zeros(1, c["vocab_size"]))
        self.register_buffer("positions", sinusoidal_positions(c["max_position_embeddings"], c["d_model"]),
                             persistent=False)
        self.embed_scale = math.sqrt(c["d_model"])
        self.reset_parameters()

    def reset_parameters(self):
        d = self.config["d_model"]
        for name, p in self.named_parameters():
            if name.endswith("shared.weight"):
                nn.init.normal_(p, 0.0, d ** -0.5)
                with torch.no_grad():
                    p[self.config["pad_token_id"]].zero_()
            elif "layer_norm" in name:
                nn.init.ones_(p) if name.endswith("weight") else nn.init.zeros_(p)
            elif name.endswith("weight"):
                nn.init.xavier_uniform_(p)
            else:
                nn.init.zeros_(p)

    def embed(self, ids, start=0):
        """token embedding * sqrt(d_model) + sinusoid(position); positions start at `start`."""
        x = self.model.shared(ids) * self.embed_scale
        x = x + self.positions[start:start + ids.shape[1]][None]
        return F.dropout(x, self.config["dropout"], self.training)

    def encode(self, src, src_mask):
        """src [B,S] ids; src_mask [B,S] bool True for real tokens. Returns (memory, [probs per layer])."""
        key_block = ~src_mask[:, None, None, :]
        x, maps = self.embed(src), []
        for layer in self.model.encoder.layers:
            x, probs = layer(x, key_block)
            maps.append(probs)
        return x, maps

    def cross_kvs(self, memory):
        return [layer.encoder_attn.keys_values(memory) for layer in self.model.decoder.layers]

    def decode(self, tgt_in, memory_kv, src_mask, start=0, caches=None):
        """tgt_in [B,T] decoder inputs at positions start..start+T-1 (causal). Returns (hidden, self maps, cross maps)."""
        t = tgt_in.shape[1]
        total = start + t
        causal = torch.ones(t, total, dtype=torch.bool, device=tgt_in.device).triu(start + 1)
        cross_block = ~src_mask[:, None, None, :]
        x, self_maps, cross_maps = self.embed(tgt_in, start), [], []
        for i, layer in enumerate(self.model.decoder.layers):
            cache = caches[i] if caches is not None else None
            x, sp, cp = layer(x, causal, memory_kv[i], cross_block, cache)
            self_maps.append(sp)
            cross_maps.append(cp)
        return x, self_maps, cross_maps

    def logits(self, hidden):
        """lm_head tied to model.shared: logits = h @ shared^T + final_logits_bias."""
        return F.linear(hidden, self.model.shared.weight) + self.final_logits_bias

    def forward(self, src, src_mask, tgt_in, return_attn=False):
        """Teacher-forced pass. Returns logits [B,T,V] (and all attention maps if asked)."""
        memory, enc_maps = self.encode(src, src_mask)
        hidden, self_maps, cross_maps = self.decode(tgt_in, self.cross_kvs(memory), src_mask)
        logits = self.logits(hidden)
        if return_attn:
            return logits, {"encoder_self": enc_maps, "decoder_self": self_maps, "cross": cross_maps}
        return logits

    def next_logprobs(self, tokens, step, memory_kv, src_mask, caches):
        """One incremental decoder step for tokens [B] at position `step`; pad is never generated."""
        hidden, self_maps, cross_maps = self.decode(tokens[:, None], memory_kv, src_mask, step, caches)
        lp = torch.log_softmax(self.logits(hidden[:, 0]), dim=-1)
        lp[:, self.config["pad_token_id"]] = float("-inf")
        return lp, self_maps, cross_maps


def max_output_len(src_len):
    """Output tokens allowed (including the final </s>) for a source of src_len pieces (with </s>)."""
    return min(2 * src_len + 10, MAX_POSITIONS)


def pad_batch(seqs, pad=PAD_ID):
    n = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), n), pad, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s, dtype=torch.long)
    lens = torch.tensor([len(s) for s in seqs])
    return ids, torch.arange(n)[None, :] < lens[:, None]


@torch.no_grad()
def greedy_batch(model, srcs):
    """Greedy decoding of a list of source id lists (each ending in </s>). Returns output id lists (no </s>)."""
    model.eval()
    c = model.config
    src, src_mask = pad_batch(srcs)
    memory, _ = model.encode(src, src_mask)
    kv = model.cross_kvs(memory)
    caches = [{} for _ in kv]
    limit = max_output_len(int(src_mask.sum(1).max()))
    tokens = torch.full((len(srcs),), c["decoder_start_token_id"], dtype=torch.long)
    done = torch.zeros(len(srcs), dtype=torch.bool)
    out = []
    for step in range(limit):
        lp, _, _ = model.next_logprobs(tokens, step, kv, src_mask, caches)
        tokens = lp.argmax(-1)
        out.append(tokens)
        done |= tokens == c["eos_token_id"]
        if bool(done.all()):
            break
    return [cut_at_eos(row, limit_for(s)) for row, s in zip(torch.stack(out, 1).tolist(), srcs)]


def limit_for(src):
    return max_output_len(len(src))


def cut_at_eos(ids, limit):
    ids = ids[:limit]
    return ids[:ids.index(EOS_ID)] if EOS_ID in ids else ids


class Hypothesis:
    """One beam: generated ids, summed log-prob, per-step probs and cross-attention [L,H,S] per step."""

    def __init__(self, ids, score, probs, cross):
        self.ids, self.score, self.probs, self.cross = ids, score, probs, cross

    def ids_without_eos(self):
        return self.ids[:-1] if self.ids and self.ids[-1] == EOS_ID else self.ids

    def normalized(self, alpha):
        return self.score / (len(self.ids) ** alpha)


def beam_search(model, src_ids, beam=4, alpha=1.0):
    """Beam search for one source (ids ending in </s>). Returns finished Hypotheses, best first.

    Each step: every live beam's log-probs are added to its score; the 2*beam best
    (beam, token) candidates are scanned best first; an </s> candidate within the
    first `beam` ranks becomes a finished hypothesis, other candidates refill the
    live beams up to `beam`. Finished score = sum log p / len^alpha with len counting
    the </s>. Stop when `beam` hypotheses are finished and the worst of them is >= the
    best live score / (step+1)^alpha, or at max_output_len(len(src)): live beams are
    then finished as they are.
    """
    if not 1 <= beam <= 8:
        raise ValueError(f"beam must be 1..8, got {beam}")
    with torch.no_grad():
        return _beam_search(model, src_ids, beam, alpha)


def _beam_search(model, src_ids, beam, alpha):
    model.eval()
    c = model.config
    src, src_mask = pad_batch([src_ids])
    memory, _ = model.encode(src, src_mask)
    kv = model.cross_kvs(memory)
    caches = [{} for _ in kv]
    live = [Hypothesis([], 0.0, [], [])]
    finished = []
    limit = max_output_len(len(src_ids))
    for step in range(limit):
        tokens = torch.tensor([h.ids[-1] if h.ids else c["decoder_start_token_id"] for h in live])
        k = len(live)
        step_kv = [(a.expand(k, -1, -1, -1), b.expand(k, -1, -1, -1)) for a, b in kv]
        lp, _, cross_maps = model.next_logprobs(tokens, step, step_kv, src_mask.expand(k, -1), caches)
        cross = torch.stack([m[:, :, 0, :] for m in cross_maps], 1)  # [k, L, H, S]
        live, order = _expand(live, lp, cross, finished, beam, alpha, step == limit - 1)
        if not live or _done(finished, live, beam, alpha, step):
            break
        for cache in caches:
            cache["k"], cache["v"] = cache["k"][order], cache["v"][order]
    finished.sort(key=lambda h: -h.normalized(alpha))
    return finished[:beam]


def _expand(live, lp, cross, finished, beam, alpha, last):
    scores = torch.tensor([h.score for h in live])[:, None] + lp
    flat = scores.view(-1)
    n = min(2 * beam, int(torch.isfinite(flat).sum()))
    top_scores, top_idx = flat.topk(n)
    vocab = lp.shape[1]
    new_live, order = [], []
    for rank, (s, idx) in enumerate(zip(top_scores.tolist(), top_idx.tolist())):
        b, tok = divmod(idx, vocab)
        h = live[b]
        hyp = Hypothesis(h.ids + [tok], s, h.probs + [math.exp(lp[b, tok].item())], h.cross + [cross[b]])
        if tok == EOS_ID:
            if rank < beam:
                finished.append(hyp)
        elif len(new_live) < beam:
            new_live.append(hyp)
            order.append(b)
        if len(new_live) == beam:
            break
    if last:
        finished.extend(new_live)
        return [], order
    return new_live, torch.tensor(order, dtype=torch.long)


def _done(finished, live, beam, alpha, step):
    if len(finished) < beam:
        return False
    worst = sorted(h.normalized(alpha) for h in finished)[-beam]
    best_live = max(h.score for h in live) / ((step + 1) ** alpha)
    return worst >= best_live
