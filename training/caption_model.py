# PyTorch twin of the C caption model: Show, Attend and Tell (Xu et al. 2015) with soft attention, greedy and beam
# search. engine/models/attn_sat.c computes the same thing; tests/test_caption.c holds the two together.
import torch
import torch.nn as nn
import torch.nn.functional as F

import transformer
from transformer import BOS_ID, EOS_ID, PAD_ID, UNK_ID, Hypothesis  # noqa: F401

DEFAULT_CONFIG = dict(
    vocab_size=64,
    image_size=96,
    conv_channels=[32, 64, 96, 128, 128],
    pool_after=[1, 1, 1, 0, 0],  # 2x2 max-pooling after these conv layers: 96 -> 12 x 12 grid
    embed_dim=64,
    hidden=256,
    attn_dim=128,
    dropout=0.3,
    max_length=32,
    image_mean=[0.5, 0.5, 0.5],
    image_std=[0.25, 0.25, 0.25],
    pad_token_id=PAD_ID,
    unk_token_id=UNK_ID,
    bos_token_id=BOS_ID,
    eos_token_id=EOS_ID,
    decoder_start_token_id=BOS_ID,
    trunk_proj=0,  # with a trunk: a linear projection of its cells to this size (0: none)
    trunk=None,  # a pretrained trunk (trunks.py: MobileNetV2 or V3 config) instead of conv_channels
    batchnorm=False,  # training only: BatchNorm after each conv, folded into the conv by fold_batchnorm() on export
    suppress_token_ids=None,  # tokens never generated besides pad (the photo model: [unk]); the C engine reads it too
    hedge=None,  # {"min_prob": p, "groups": [[generic id, [specific ids]], ...]}: see hedge_logprobs
)
SPECIALS = ["<pad>", "<unk>", "<s>", "</s>"]


def vocabulary():
    """The caption words of training/scenes.py's grammar after the four special tokens; line i of vocab.txt is id i."""
    import scenes
    words = list(scenes.COUNT_WORDS) + list(scenes.SIZE_NAMES) + list(scenes.COLOUR_NAMES)
    for s in scenes.SHAPE_NAMES:
        words += [s, scenes.PLURALS.get(s, s + "s")]
    words += ["to", "the", "left", "right", "of", "above", "below", "and", ",", "there", "is", "are"]
    return SPECIALS + words


def grid_size(c):
    if c.get("trunk"):
        import trunks
        return c["image_size"] // trunks.trunk_stride(c["trunk"])
    return c["image_size"] // (2 ** sum(c["pool_after"]))


def ann_dim(c):
    """Size of one annotation vector: the last conv's channels, or the pretrained trunk's (after its projection)."""
    if c.get("trunk"):
        import trunks
        return c.get("trunk_proj") or trunks.trunk_channels(c["trunk"])
    return c["conv_channels"][-1]


class TrunkEncoder(nn.Module):
    """A pretrained trunk (training/trunks.py: MobileNetV2 or V3) instead of the small CNN: its feature map's cells,
    row-major, through an optional linear projection (config trunk_proj: its output size; encoder.proj, fixed to a
    PCA of the training features by train_caption_photos.py), plus a learned position embedding are the annotations.
    Parameter names encoder.trunk.*, encoder.proj.*."""

    def __init__(self, c):
        super().__init__()
        import trunks
        self.trunk = trunks.Trunk(c["trunk"])
        self.proj = nn.Linear(trunks.trunk_channels(c["trunk"]), c["trunk_proj"]) if c.get("trunk_proj") else None
        g = grid_size(c)
        self.pos = nn.Parameter(torch.zeros(g * g, ann_dim(c)))
        self.register_buffer("mean", torch.tensor(c["image_mean"], dtype=torch.float32))
        self.register_buffer("std", torch.tensor(c["image_std"], dtype=torch.float32))

    def features(self, images):
        """images [B,3,S,S] in [0,1] -> trunk cells [B, L, D] (no position embedding)."""
        x = (images - self.mean.view(1, 3, 1, 1)) / self.std.view(1, 3, 1, 1)
        return self.trunk(x).flatten(2).transpose(1, 2)

    def project(self, cells):
        return self.proj(cells) if self.proj is not None else cells

    def forward(self, images):
        return self.project(self.features(images)) + self.pos


class Encoder(nn.Module):
    """3x3 convolutions (padding 1) with ReLU, 2x2 max-pooling after the layers flagged in pool_after; the
    feature map's cells, row-major, plus a learned embedding of each cell's position are the annotations a_i."""

    def __init__(self, c):
        super().__init__()
        chans = [3] + list(c["conv_channels"])
        self.convs = nn.ModuleList(nn.Conv2d(chans[k], chans[k + 1], 3, padding=1) for k in range(len(chans) - 1))
        self.bns = nn.ModuleList(nn.BatchNorm2d(ch) for ch in chans[1:]) if c.get("batchnorm") else None
        g = grid_size(c)
        self.pos = nn.Parameter(torch.zeros(g * g, chans[-1]))
        self.register_buffer("mean", torch.tensor(c["image_mean"], dtype=torch.float32))
        self.register_buffer("std", torch.tensor(c["image_std"], dtype=torch.float32))
        self.pool_after = list(c["pool_after"])

    def forward(self, images):
        """images [B,3,S,S] in [0,1]. Returns annotations [B, L, D], L = grid*grid."""
        x = (images - self.mean.view(1, 3, 1, 1)) / self.std.view(1, 3, 1, 1)
        for k, (conv, pool) in enumerate(zip(self.convs, self.pool_after)):
            x = conv(x)
            x = F.relu(self.bns[k](x) if self.bns is not None else x)
            if pool:
                x = F.max_pool2d(x, 2)
        return x.flatten(2).transpose(1, 2) + self.pos


class Attention(nn.Module):
    """e_ti = v . tanh(W_a a_i + W_h h_{t-1} + b); W_a a_i (the keys) is computed once per image."""

    def __init__(self, c):
        super().__init__()
        d = ann_dim(c)
        self.enc = nn.Linear(d, c["attn_dim"], bias=False)
        self.dec = nn.Linear(c["hidden"], c["attn_dim"])
        self.v = nn.Linear(c["attn_dim"], 1, bias=False)

    def forward(self, h, keys):
        return torch.softmax(self.v(torch.tanh(keys + self.dec(h)[:, None, :])).squeeze(-1), dim=-1)


class Decoder(nn.Module):
    """h0, c0 = tanh(init(mean a)); beta = sigmoid(f_beta(h_{t-1})); LSTM over [E y_{t-1}; z_t]."""

    def __init__(self, c):
        super().__init__()
        d, hd = ann_dim(c), c["hidden"]
        self.init_h = nn.Linear(d, hd)
        self.init_c = nn.Linear(d, hd)
        self.f_beta = nn.Linear(hd, 1)
        self.cell = nn.LSTMCell(c["embed_dim"] + d, hd)


class DeepOutput(nn.Module):
    """logits = L_o(E y_{t-1} + L_h h_t + L_z z_t) (Xu et al. eq. 7)."""

    def __init__(self, c):
        super().__init__()
        d = ann_dim(c)
        self.L_h = nn.Linear(c["hidden"], c["embed_dim"])
        self.L_z = nn.Linear(d, c["embed_dim"], bias=False)
        self.L_o = nn.Linear(c["embed_dim"], c["vocab_size"])


class ShowAttendTell(nn.Module):
    """Parameter names: encoder.convs.K.{weight,bias}, encoder.pos, attn.{enc,dec,v}.*, decoder.{init_h,init_c,
    f_beta}.*, decoder.cell.{weight_ih,weight_hh,bias_ih,bias_hh} (LSTM gates i, f, g, o), embed.weight,
    out.{L_h,L_z,L_o}.*; encoder.mean and encoder.std are buffers (also in the file)."""

    def __init__(self, config=None):
        super().__init__()
        self.config = dict(DEFAULT_CONFIG, **(config or {}))
        c = self.config
        if c.get("trunk"):
            import trunks
            if c["image_size"] % trunks.trunk_stride(c["trunk"]):
                raise ValueError("the trunk's stride must divide image_size")
        elif len(c["pool_after"]) != len(c["conv_channels"]) or c["image_size"] % (2 ** sum(c["pool_after"])):
            raise ValueError("pool_after must flag each conv layer, and the pools must divide image_size")
        self.encoder = TrunkEncoder(c) if c.get("trunk") else Encoder(c)
        self.attn = Attention(c)
        self.decoder = Decoder(c)
        self.embed = nn.Embedding(c["vocab_size"], c["embed_dim"])
        self.out = DeepOutput(c)
        self.reset_parameters()

    def reset_parameters(self):
        """Kaiming for the convolutions, orthogonal recurrent blocks, Xavier elsewhere, zero biases; the LSTM's
        forget-gate bias starts at 1."""
        hd = self.config["hidden"]
        for name, p in self.named_parameters():
            if name.startswith("encoder.bns") or name.startswith("encoder.trunk.") or name.startswith("encoder.proj."):
                continue  # BatchNorm keeps its own initialisation; a pretrained trunk is loaded afterwards  # BatchNorm keeps its own initialisation (scale 1, shift 0)
            elif name.startswith("encoder.convs") and name.endswith("weight"):
                nn.init.kaiming_normal_(p, nonlinearity="relu")
            elif name == "encoder.pos":
                nn.init.normal_(p, 0.0, 0.1)
            elif name == "embed.weight":
                nn.init.normal_(p, 0.0, self.config["embed_dim"] ** -0.5)
            elif "weight_hh" in name:
                for block in p.data.chunk(4, 0):
                    nn.init.orthogonal_(block)
            elif "weight" in name:
                nn.init.xavier_uniform_(p)
            else:
                nn.init.zeros_(p)
        with torch.no_grad():
            self.decoder.cell.bias_ih[hd:2 * hd].fill_(1.0)

    def dropout(self, x):
        return F.dropout(x, self.config["dropout"], self.training)

    def encode(self, images):
        """Returns (annotations [B,L,D], keys [B,L,A], h0 [B,H], c0 [B,H])."""
        return self.encode_annotations(self.encoder(images))

    def encode_annotations(self, a):
        """encode() from annotations [B,L,D] (a trunk's cached features plus encoder.pos)."""
        mean = a.mean(1)
        return a, self.attn.enc(a), torch.tanh(self.decoder.init_h(mean)), torch.tanh(self.decoder.init_c(mean))

    def step(self, y_prev, state, memory):
        """One decoder step from state (h, c) = (h_{t-1}, c_{t-1}). Returns (logits [B,V], (h_t, c_t), alpha [B,L],
        beta [B])."""
        h, c = state
        a, keys = memory
        alpha = self.attn(h, keys)
        beta = torch.sigmoid(self.decoder.f_beta(h))
        z = beta * torch.bmm(alpha[:, None, :], a).squeeze(1)
        emb = self.embed(y_prev)
        h2, c2 = self.decoder.cell(torch.cat([emb, z], -1), (h, c))
        o = self.out
        deep = emb + o.L_h(h2) + o.L_z(z)
        return o.L_o(self.dropout(deep)), (h2, c2), alpha, beta.squeeze(-1)

    def forward(self, images, tgt_in):
        """Teacher-forced pass. Returns logits [B,T,V], alphas [B,T,L], betas [B,T]."""
        a, keys, h, c = self.encode(images)
        logits, alphas, betas = [], [], []
        state = (h, c)
        for t in range(tgt_in.shape[1]):
            lg, state, alpha, beta = self.step(tgt_in[:, t], state, (a, keys))
            logits.append(lg), alphas.append(alpha), betas.append(beta)
        return torch.stack(logits, 1), torch.stack(alphas, 1), torch.stack(betas, 1)

    def next_logprobs(self, tokens, state, memory):
        """Incremental step; pad is never generated. Returns (log-probs [B,V], state, alpha [B,L], beta [B])."""
        lg, state, alpha, beta = self.step(tokens, state, memory)
        lp = torch.log_softmax(lg, dim=-1)
        lp[:, self.config["pad_token_id"]] = float("-inf")
        for t in self.config.get("suppress_token_ids") or []:  # the photo model: never <unk>
            lp[:, t] = float("-inf")
        if self.config.get("hedge"):
            lp = hedge_logprobs(lp, self.config["hedge"])
        return lp, state, alpha, beta


def hedge_logprobs(lp, hedge):
    """Backing off to the generic word: in each group [generic, specifics], every specific word (man, girl, ...)
    whose probability is below hedge["min_prob"] gives it to the generic word (person) and is not generated at this
    step. The decoder then names a man only when it is at least that sure, and otherwise says what it can tell: a
    person. Precision over guesses; the C engine (attn_sat.c, s2s_step) does the same."""
    lp = lp.clone()
    p = lp.exp()
    for generic, specific in hedge["groups"]:
        ps = p[:, specific]
        low = ps < hedge["min_prob"]
        moved = (ps * low).amax(-1)
        lp[:, generic] = torch.log(p[:, generic] + moved)
        lp[:, specific] = torch.where(low, torch.full_like(ps, float("-inf")), lp[:, specific])
    return lp


def fold_batchnorm(state, config, eps=1e-5):
    """(state dict, config) of the same network without BatchNorm: in eval mode BN after a conv is an affine map per
    output channel, y = g (conv(x) - mu) / sqrt(var + eps) + b, so it folds exactly into the conv's weight and bias.
    The C engine and the exported model see plain convolutions."""
    if not config.get("batchnorm"):
        return dict(state), dict(config)
    out = {k: v for k, v in state.items() if not k.startswith("encoder.bns.")}
    for k in range(len(config["conv_channels"])):
        bn = f"encoder.bns.{k}."
        scale = state[bn + "weight"] / torch.sqrt(state[bn + "running_var"] + eps)
        w, b = state[f"encoder.convs.{k}.weight"], state[f"encoder.convs.{k}.bias"]
        out[f"encoder.convs.{k}.weight"] = w * scale[:, None, None, None]
        out[f"encoder.convs.{k}.bias"] = (b - state[bn + "running_mean"]) * scale + state[bn + "bias"]
    return out, dict(config, batchnorm=False)


def loss(model, images, tgt_in, labels, alpha_c, attn_target=None, attn_weight=0.0):
    """Cross-entropy summed over each caption's tokens, plus alpha_c * sum_i (1 - sum_t alpha_ti)^2 (doubly
    stochastic attention, Xu et al. eq. 14), both averaged over the batch. Padded steps attend nowhere.
    With attn_target [B,T,L] (rows summing to 1 where a step is supervised, zero elsewhere) and attn_weight > 0,
    plus attn_weight * the cross-entropy -sum_i target_ti log alpha_ti summed over the supervised steps (attention
    supervision, Liu et al. 2017, "Attention Correctness in Neural Image Captioning").
    Returns (loss, summed cross-entropy, tokens)."""
    logits, alphas, _ = model(images, tgt_in)
    mask = labels != PAD_ID
    ce = F.cross_entropy(logits.transpose(1, 2), labels, ignore_index=PAD_ID, reduction="sum")
    cover = (alphas * mask[..., None]).sum(1)
    reg = ((1.0 - cover) ** 2).sum(1).mean()
    total = ce / images.shape[0] + alpha_c * reg
    if attn_target is not None and attn_weight > 0:
        total = total - attn_weight * (attn_target * torch.log(alphas + 1e-9)).sum() / images.shape[0]
    return total, float(ce), int(mask.sum())


def attention_targets(words, objects, masks, grid):
    """[len(words) + 1, grid*grid] float32 supervision targets of one caption (the last row, </s>, stays zero): for
    each noun phrase (count or article, size, colour, shape word), every one of its steps gets the named objects'
    visible pixels per grid cell, normalised to sum 1. Objects are matched by size, colour and shape."""
    import numpy as np
    import scenes
    out = np.zeros((len(words) + 1, grid * grid), dtype=np.float32)
    for i, _, size, colour, shape in scenes.parse_caption(words):
        named = [k for k, o in enumerate(objects) if o["shape"] == shape and size in (None, o["size"]) and
                 colour in (None, o["colour"])]
        if not named:
            continue
        union = np.any(np.stack([masks[k] for k in named]), axis=0)
        h, w = union.shape
        rr, cc = np.nonzero(union)
        cells = np.zeros(grid * grid, dtype=np.float64)
        np.add.at(cells, (rr * grid // h) * grid + cc * grid // w, 1.0)
        if cells.sum() == 0:
            continue
        cells /= cells.sum()
        j = i
        while j > 0 and (words[j - 1] in scenes.COLOURS or words[j - 1] in scenes.SIZES):
            j -= 1
        if j > 0 and words[j - 1] in scenes.COUNT_WORDS:
            j -= 1
        out[j:i + 1] = cells
    return out


def area_weights(n_in, n_out):
    """[n_out, n_in] area-resampling weights: output sample k averages the input over [k, k+1) * n_in / n_out
    (each input sample covering [i, i+1)); rows sum to 1. The C engine resizes images with the same weights."""
    import numpy as np
    w = np.zeros((n_out, n_in), dtype=np.float64)
    scale = n_in / n_out
    for k in range(n_out):
        lo, hi = k * scale, (k + 1) * scale
        for i in range(int(lo), min(n_in, int(np.ceil(hi)))):
            w[k, i] = min(hi, i + 1) - max(lo, i)
        w[k] /= w[k].sum()
    return w


def resize_area(img, size):
    """float [H,W,3] -> float32 [size,size,3] by area resampling (rows first, then columns, in float64)."""
    import numpy as np
    wy, wx = area_weights(img.shape[0], size), area_weights(img.shape[1], size)
    rows = np.einsum("yh,hwc->ywc", wy, img.astype(np.float64), optimize=True)
    return np.einsum("ywc,xw->yxc", rows, wx, optimize=True).astype(np.float32)


def images_tensor(batch):
    """uint8 [B,S,S,3] (numpy or tensor) -> float [B,3,S,S] in [0,1]."""
    x = torch.as_tensor(batch)
    return x.permute(0, 3, 1, 2).float() / 255.0


@torch.no_grad()
def greedy_batch(model, images, with_attention=False):
    """Greedy decoding of images [B,3,S,S]. Returns output id lists without </s> (cut at max_length); with
    with_attention also each one's alphas [T,L] and betas [T] for its T tokens (</s> included when produced)."""
    model.eval()
    c = model.config
    a, keys, h, cell = model.encode(images)
    tokens = torch.full((images.shape[0],), c["decoder_start_token_id"], dtype=torch.long, device=images.device)
    done = torch.zeros(images.shape[0], dtype=torch.bool, device=images.device)
    out, alphas, betas, state = [], [], [], (h, cell)
    for _ in range(c["max_length"]):
        lp, state, alpha, beta = model.next_logprobs(tokens, state, (a, keys))
        tokens = lp.argmax(-1)
        out.append(tokens), alphas.append(alpha), betas.append(beta)
        done |= tokens == c["eos_token_id"]
        if bool(done.all()):
            break
    ids = torch.stack(out, 1).tolist()
    results = []
    for b, row in enumerate(ids):
        n = row.index(EOS_ID) + 1 if EOS_ID in row else len(row)
        words = row[:n - 1] if EOS_ID in row else row
        if with_attention:
            results.append((words, torch.stack(alphas, 1)[b, :n].cpu(), torch.stack(betas, 1)[b, :n].cpu()))
        else:
            results.append(words)
    return results


def beam_search(model, image, beam=4, alpha=1.0):
    """Beam search for one image [3,S,S], the algorithm of transformer.beam_search (its _expand and _done are
    reused as they are). Each Hypothesis keeps, per step, [1,1,L+1]: the attention weights, then beta."""
    if not 1 <= beam <= 8:
        raise ValueError(f"beam must be 1..8, got {beam}")
    with torch.no_grad():
        return _beam_search(model, image, beam, alpha)


def _beam_search(model, image, beam, alpha):
    model.eval()
    c = model.config
    a, keys, h, cell = model.encode(image[None])
    live, finished, state = [Hypothesis([], 0.0, [], [])], [], (h, cell)
    limit = c["max_length"]
    for step in range(limit):
        tokens = torch.tensor([hyp.ids[-1] if hyp.ids else c["decoder_start_token_id"] for hyp in live])
        k = len(live)
        lp, state, att, beta = model.next_logprobs(tokens, state, (a.expand(k, -1, -1), keys.expand(k, -1, -1)))
        cross = torch.cat([att, beta[:, None]], -1)[:, None, None, :]
        live, order = transformer._expand(live, lp, cross, finished, beam, alpha, step == limit - 1)
        if not live or transformer._done(finished, live, beam, alpha, step):
            break
        state = (state[0][order], state[1][order])
    finished.sort(key=lambda hyp: -hyp.normalized(alpha))
    return finished[:beam]


def words_of(ids, vocab):
    return [vocab[i] for i in ids if i != EOS_ID]


def encode_caption(text, index):
    """Caption text -> ids (+ </s>); unknown words become <unk>."""
    return [index.get(w, UNK_ID) for w in text.split()] + [EOS_ID]


def param_count(model):
    return sum(p.numel() for p in model.parameters())


def flops_per_image(c):
    """Multiply-adds x 2 of the encoder (the decoder is small)."""
    if c.get("trunk"):
        import trunks
        return trunks.trunk_flops(c["trunk"], c["image_size"])
    s, chans, total = c["image_size"], [3] + list(c["conv_channels"]), 0
    for k, pool in enumerate(c["pool_after"]):
        total += 2 * s * s * chans[k + 1] * chans[k] * 9
        if pool:
            s //= 2
    return total

