# Neural Turing Machine (Graves et al. 2014): the PyTorch twin of engine/models/attn_ntm.c.
"""LSTM controller, one write head and one read head over an N x M memory, content and location addressing
(interpolation, circular shift over -1/0/+1, sharpening), erase and add. The copy task's layout: the input has
`bits` data channels and one delimiter channel; the output has `bits` channels.

The exact computation (what the C engine must replicate; training/README.md repeats it), for one sequence:
- state at t = 0: memory M_0[i][j] = 1e-6 for all i, j (a constant, not learned); read vector r_0 = tanh(r0_bias)
  [M]; controller h_0 = h0_bias [H], c_0 = c0_bias [H]; previous weightings of both heads w_0 = one-hot at
  location 0 [N].
- step t = 1 .. T with input x_t [bits + 1]:
  1. controller: LSTM cell (PyTorch gate order i, f, g, o) on z = [x_t ; r_{t-1}]:
     gates = W_ih z + b_ih + W_hh h_{t-1} + b_hh; i, f, o = sigmoid, g = tanh; c_t = f c_{t-1} + i g; h_t = o tanh(c_t).
  2. head parameters: p = W_head h_t + b_head, laid out as
     write head: k [M], beta, g, s [3], gamma, e [M], a [M]; then read head: k [M], beta, g, s [3], gamma.
     k = tanh(.), beta = softplus(.), g = sigmoid(.), s = softmax over the 3 values (shift -1, 0, +1),
     gamma = 1 + softplus(.), e = sigmoid(.), a = tanh(.). softplus(x) = log(1 + exp(x)) (x > 20: x).
  3. write head addressing on M_{t-1} with its previous weighting (see addressing), then erase and add:
     M_t[i] = M_{t-1}[i] * (1 - w^W_i e) + w^W_i a.
  4. read head addressing on M_t (the memory after this step's write), then r_t = sum_i w^R_i M_t[i].
  5. output y_t = sigmoid(W_out [h_t ; r_t] + b_out) [bits].
- addressing of a head with key k, strength beta, gate g, shift s, sharpening gamma, previous weighting w_prev:
  K_i = (k . M[i]) / (||k|| ||M[i]|| + 1e-8);  w^c = softmax_i(beta K_i);  w^g = g w^c + (1 - g) w_prev;
  w~_i = s_{-1} w^g_{(i+1) mod N} + s_0 w^g_i + s_{+1} w^g_{(i-1) mod N}  (s_{+1} moves the focus one location on);
  w_i = (w~_i)^gamma / (sum_j (w~_j)^gamma + 1e-16).
  The trace's maps "write" and "read" are w^W and w^R, one row per step.
Copy task: a sequence of L bit vectors is fed as L steps (bits, delimiter 0), one delimiter step (bits 0,
delimiter 1), then L blank steps (all 0), during which the outputs are the copy. 2L + 1 steps in all.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_CONFIG = {
    "bits": 8,             # data channels; the input has one more (the delimiter)
    "controller_size": 100,
    "memory_locations": 128,
    "memory_width": 20,
    "max_sequence": 64,    # longest sequence the engine accepts (memory holds 128)
}
MEMORY_INIT = 1e-6
COS_EPS = 1e-8
SHARPEN_EPS = 1e-16


def head_sizes(M):
    """Sizes of the write head's parameters then the read head's, in the order of W_head's rows."""
    return [("w_k", M), ("w_beta", 1), ("w_g", 1), ("w_s", 3), ("w_gamma", 1), ("w_e", M), ("w_a", M),
            ("r_k", M), ("r_beta", 1), ("r_g", 1), ("r_s", 3), ("r_gamma", 1)]


class NTM(nn.Module):
    def __init__(self, config=None):
        super().__init__()
        self.config = dict(DEFAULT_CONFIG, **(config or {}))
        c = self.config
        B, H, M = c["bits"], c["controller_size"], c["memory_width"]
        self.lstm = nn.LSTMCell(B + 1 + M, H)
        self.head = nn.Linear(H, sum(n for _, n in head_sizes(M)))
        self.out = nn.Linear(H + M, B)
        self.h0_bias = nn.Parameter(torch.randn(H) * 0.05)
        self.c0_bias = nn.Parameter(torch.randn(H) * 0.05)
        self.r0_bias = nn.Parameter(torch.randn(M) * 0.05)

    def initial_state(self, batch):
        c = self.config
        N, M = c["memory_locations"], c["memory_width"]
        mem = torch.full((batch, N, M), MEMORY_INIT)
        w0 = torch.zeros(batch, N)
        w0[:, 0] = 1.0
        return (self.h0_bias.expand(batch, -1), self.c0_bias.expand(batch, -1), torch.tanh(self.r0_bias).expand(batch, -1),
                mem, w0, w0.clone())

    def split_heads(self, p):
        out, i = {}, 0
        for name, n in head_sizes(self.config["memory_width"]):
            out[name] = p[:, i:i + n]
            i += n
        return out

    @staticmethod
    def address(mem, k, beta, g, s, gamma, w_prev):
        """mem [B, N, M], k [B, M] (activated), beta/g/gamma [B, 1], s [B, 3], w_prev [B, N] -> w [B, N]."""
        dot = torch.einsum("bnm,bm->bn", mem, k)
        norm = k.norm(dim=-1, keepdim=True) * mem.norm(dim=-1) + COS_EPS
        wc = torch.softmax(beta * dot / norm, -1)
        wg = g * wc + (1 - g) * w_prev
        ws = s[:, 0:1] * torch.roll(wg, -1, 1) + s[:, 1:2] * wg + s[:, 2:3] * torch.roll(wg, 1, 1)
        wp = ws.pow(gamma)
        return wp / (wp.sum(-1, keepdim=True) + SHARPEN_EPS)

    def step(self, x, state):
        h, c, r, mem, ww, wr = state
        h, c = self.lstm(torch.cat([x, r], -1), (h, c))
        p = self.split_heads(self.head(h))
        ww = self.address(mem, torch.tanh(p["w_k"]), F.softplus(p["w_beta"]), torch.sigmoid(p["w_g"]),
                          torch.softmax(p["w_s"], -1), 1 + F.softplus(p["w_gamma"]), ww)
        e, a = torch.sigmoid(p["w_e"]), torch.tanh(p["w_a"])
        mem = mem * (1 - ww[:, :, None] * e[:, None, :]) + ww[:, :, None] * a[:, None, :]
        wr = self.address(mem, torch.tanh(p["r_k"]), F.softplus(p["r_beta"]), torch.sigmoid(p["r_g"]),
                          torch.softmax(p["r_s"], -1), 1 + F.softplus(p["r_gamma"]), wr)
        r = torch.einsum("bn,bnm->bm", wr, mem)
        y = torch.sigmoid(self.out(torch.cat([h, r], -1)))
        return y, (h, c, r, mem, ww, wr)

    def forward(self, x, keep=False):
        """x [B, T, bits + 1] -> outputs [B, T, bits]; with keep=True also the write and read weightings
        [B, T, N] each and the memory after every step [B, T, N, M]."""
        state = self.initial_state(x.shape[0])
        ys, ws, rs, mems = [], [], [], []
        for t in range(x.shape[1]):
            y, state = self.step(x[:, t], state)
            ys.append(y)
            if keep:
                ws.append(state[4])
                rs.append(state[5])
                mems.append(state[3])
        y = torch.stack(ys, 1)
        if not keep:
            return y
        return y, torch.stack(ws, 1), torch.stack(rs, 1), torch.stack(mems, 1)


def copy_inputs(seq):
    """seq [B, L, bits] of 0/1 -> network input [B, 2L + 1, bits + 1] of the copy task."""
    B, L, W = seq.shape
    x = torch.zeros(B, 2 * L + 1, W + 1)
    x[:, :L, :W] = seq
    x[:, L, W] = 1.0
    return x


def random_sequences(batch, length, bits, gen=None):
    return torch.randint(0, 2, (batch, length, bits), generator=gen).float()


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())


if __name__ == "__main__":
    # self-check: addressing written loop by loop from the docstring equals the vectorised one
    torch.manual_seed(0)
    m = NTM({"controller_size": 12, "memory_locations": 7, "memory_width": 5})
    mem = torch.randn(2, 7, 5)
    k, beta, g = torch.randn(2, 5), torch.rand(2, 1) * 3, torch.rand(2, 1)
    s, gamma, wp = torch.softmax(torch.randn(2, 3), -1), 1 + torch.rand(2, 1) * 2, torch.softmax(torch.randn(2, 7), -1)
    w = NTM.address(mem, k, beta, g, s, gamma, wp)
    for b in range(2):
        K = [float(k[b] @ mem[b, i] / (k[b].norm() * mem[b, i].norm() + COS_EPS)) for i in range(7)]
        wc = torch.softmax(beta[b] * torch.tensor(K), 0)
        wg = g[b] * wc + (1 - g[b]) * wp[b]
        ws = torch.tensor([float(s[b, 0] * wg[(i + 1) % 7] + s[b, 1] * wg[i] + s[b, 2] * wg[(i - 1) % 7])
                           for i in range(7)])
        ref = ws ** gamma[b] / (ws ** gamma[b]).sum()
        assert torch.allclose(ref, w[b], atol=1e-6), (ref, w[b])
    y, ww, wr, mems = m(copy_inputs(random_sequences(2, 3, 8)), keep=True)
    assert y.shape == (2, 7, 8) and ww.shape == (2, 7, 7) and mems.shape == (2, 7, 7, 5)
    assert torch.allclose(ww.sum(-1), torch.ones(2, 7), atol=1e-5)
    print("ok ntm addressing == per-location loop")
