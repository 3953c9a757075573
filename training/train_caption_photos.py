# Trains the photo caption model (data/models/caption-photos): Show, Attend and Tell's decoder (caption_model.py:
# soft attention, doubly stochastic regulariser, beta gate, deep output) over the 14x14 grid of a frozen pretrained
# MobileNetV2 trunk, on 800 Flickr8k photos (caption_photos.py's split) and their mirror images, from the features
# cached by `caption_photos.py features`. One CPU thread; a checkpoint after every epoch, resumed when rerun.
#   nice -n 5 /usr/bin/python3 training/train_caption_photos.py --epochs 20 > training/work/caption-photos/train.log 2>&1 &
import argparse
import collections
import json
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bleu  # noqa: E402
import caption_model  # noqa: E402
import caption_photos  # noqa: E402
import mobilenet  # noqa: E402
import trunks  # noqa: E402
from caption_model import BOS_ID, EOS_ID, PAD_ID  # noqa: E402

MODEL = dict(embed_dim=192, hidden=384, attn_dim=192, dropout=0.5, max_length=24, image_size=224, trunk_proj=128,
             image_mean=[0.0, 0.0, 0.0], image_std=[1.0, 1.0, 1.0])  # nsfwjs feeds the trunk RGB in [0, 1]
PROJ_ABOVE = 256  # wider trunks (nsfwjs's 576) are projected; CenterNet's 120 channels are used as they are
PCA_CELLS = 50000  # training cells (random, fixed seed) the projection's principal components are computed from


def parse_args(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--set-lr", type=float, default=0.0, help="on resuming, restart the schedule at this learning rate")
    p.add_argument("--lr-step", type=int, default=5, help="halve the learning rate every this many epochs")
    p.add_argument("--alpha-c", type=float, default=1.0, help="weight of the doubly stochastic regulariser")
    p.add_argument("--no-flip", action="store_true", help="train without the mirrored photos")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--features", default=None, help="the cached features (default WORK/features.npz)")
    p.add_argument("--max-words", type=int, default=18, help="training captions are cut after this many words")
    p.add_argument("--hidden", type=int, default=MODEL["hidden"], help="LSTM size (a new run only)")
    p.add_argument("--embed", type=int, default=MODEL["embed_dim"], help="word embedding size (a new run only)")
    p.add_argument("--dropout", type=float, default=MODEL["dropout"], help="dropout (a new run only)")
    p.add_argument("--tune-from", type=int, default=0,
                   help="also train the trunk's blocks from this one on (0: frozen), on features cached before it "
                        "(caption_photos.py features-cut K)")
    p.add_argument("--trunk-lr", type=float, default=1e-4, help="learning rate of the trained trunk blocks")
    p.add_argument("--keep-epochs", action="store_true", help="also save each epoch's weights (ckpt_epochN.pt)")
    p.add_argument("--shortest", type=int, default=0, help="train on the K shortest captions of each photo (0: all)")
    p.add_argument("--hedge-people", type=int, default=0,
                   help="in training captions, a word for a person (man, girl, ...) that fewer than N of the photo's "
                        "5 captions use becomes person/people (0: off; see hedge_people)")
    p.add_argument("--consensus", type=int, default=0,
                   help="train on the K captions of each photo whose words the photo's other captions most use "
                        "(0: all; see consensus_order)")
    p.add_argument("--limit", type=int, default=0, help="smoke test: this many training captions per epoch")
    p.add_argument("--out-dir", default=caption_photos.WORK)
    return p.parse_args(argv)


def load_data(path=None):
    """(features [N,2,L,D] float16, {name: index}, captions, (train, val, test) names, vocab)."""
    z = np.load(path or os.path.join(caption_photos.WORK, "features.npz"))
    names = [str(n) for n in z["names"]]
    caps = caption_photos.captions()
    train, val, test = caption_photos.split(caps)
    return z["features"], {n: i for i, n in enumerate(names)}, caps, (train, val, test), \
        caption_photos.vocabulary(caps, train)


def build(vocab, trunk_path=None, trunk=None, **sizes):
    """The model over the trunk of trunk_path (its config from the file), or the given trunk config. A trunk of at
    most PROJ_ABOVE channels feeds the decoder directly; a wider one through the fixed PCA projection."""
    trunk = trunk or (caption_photos.trunk_of(trunk_path) if trunk_path else mobilenet.trunk_config())
    proj = MODEL["trunk_proj"] if trunks.trunk_channels(trunk) > PROJ_ABOVE else 0
    c = dict(MODEL, vocab_size=len(vocab), trunk=trunk, trunk_proj=proj, **sizes)
    model = caption_model.ShowAttendTell(c)
    if trunk_path:
        import safetensors_io
        arrays, _ = safetensors_io.load_file(trunk_path)
        model.encoder.trunk.load_state_dict({k: torch.tensor(v) for k, v in arrays.items()})
    fixed = list(model.encoder.trunk.parameters()) + (list(model.encoder.proj.parameters()) if model.encoder.proj else [])
    for p in fixed:
        p.requires_grad_(False)
    return model


def set_pca(model, feats, train_idx, seed=7):
    """encoder.proj := the top trunk_proj principal components of the training photos' cells (both mirrors),
    centred: proj(x) = V^T (x - mean). Fixed during training (the decoder sees a 4.5x smaller annotation, and the
    attention keys, the LSTM input and the context cost that much less). Returns the variance share kept."""
    rng = np.random.default_rng(seed)
    f = feats[train_idx]  # [n, 2, L, C]
    cells = f.reshape(-1, f.shape[-1])
    x = cells[rng.choice(len(cells), min(PCA_CELLS, len(cells)), replace=False)].astype(np.float64)
    mu = x.mean(0)
    cov = np.cov(x - mu, rowvar=False)
    w, v = np.linalg.eigh(cov)
    order = np.argsort(w)[::-1][:model.config["trunk_proj"]]
    V = v[:, order]  # [C, d]
    with torch.no_grad():
        model.encoder.proj.weight.copy_(torch.tensor(V.T, dtype=torch.float32))
        model.encoder.proj.bias.copy_(torch.tensor(-(V.T @ mu), dtype=torch.float32))
    return float(w[order].sum() / w.sum())


def project_all(model, feats):
    """Cached trunk cells [N,2,L,C] -> projected [N,2,L,d] float16 through the model's encoder.proj."""
    W, b = model.encoder.proj.weight.detach().numpy().T, model.encoder.proj.bias.detach().numpy()
    out = np.zeros(feats.shape[:-1] + (W.shape[1],), np.float16)
    for i in range(0, len(feats), 50):
        out[i:i + 50] = (feats[i:i + 50].astype(np.float32) @ W + b).astype(np.float16)
    return out


def annotations(model, feats):
    """Cached (projected) trunk cells [B,L,D] (float16) plus the learned position embedding. A model whose trunk is
    trained from block K on (model.tune_from) gets the cells before block K and runs the rest of the trunk."""
    x = torch.as_tensor(feats).float()
    k = getattr(model, "tune_from", 0)
    if k:
        side = int(round(x.shape[1] ** 0.5))
        x = x.transpose(1, 2).reshape(x.shape[0], x.shape[2], side, side)
        for b in model.encoder.trunk.blocks[k:]:
            x = b(x)
        x = x.flatten(2).transpose(1, 2)
    return x + model.encoder.pos


def forced(model, a, tgt_in):
    memory = model.encode_annotations(a)
    a, keys, h, c = memory
    logits, alphas, state = [], [], (h, c)
    for t in range(tgt_in.shape[1]):
        lg, state, alpha, _ = model.step(tgt_in[:, t], state, (a, keys))
        logits.append(lg), alphas.append(alpha)
    return torch.stack(logits, 1), torch.stack(alphas, 1)


def consensus_order(texts):
    """The captions of one photo, those whose words its other captions most confirm first: each caption scores the
    mean over the others of the share of its distinct words that the other also uses (word precision). Words that
    only one annotator used (a guess at gender or age that the others did not make, "firefighter", the clothing
    tails) lower it; ties keep file order."""
    sets = [set(caption_photos.words(t)) for t in texts]

    def score(i):
        others = [s for j, s in enumerate(sets) if j != i]
        return sum(len(sets[i] & o) / max(len(sets[i]), 1) for o in others) / max(len(others), 1)
    return [texts[i] for i in sorted(range(len(texts)), key=lambda i: (-score(i), i))]


_COLLECTIVE = {"group", "crowd", "team", "family", "couple"}
_PLURAL_PEOPLE = {"men", "women", "children", "kids", "boys", "girls", "people", "babies", "ladies", "guys", "toddlers",
                  "adults", "players", "bikers", "riders", "skiers", "surfers", "climbers", "swimmers"}


def hedge_people(ws, texts, n):
    """The words ws of one training caption with each word for a person (export_caption_photos.OBJECT_WORDS' person
    group, by lemma and synonym) that fewer than n of the photo's captions (texts) use replaced by the generic word:
    "person", plural "people"; "a group of X" becomes "X"; "little"/"small" before it becomes "young", "an" "a".
    Annotators disagree about gender and age far more than about whether there is a person: trained on their
    majority, the model names a man, a girl, only where the photo lets most people say so, and says "a person"
    where they would not agree."""
    import export_caption_photos as ecp  # the evaluation's word list, so that both agree on what a person word is
    person = lambda w: ecp.OBJECT_WORDS.get(w) == "person"  # noqa: E731
    uses = collections.Counter()
    for t in texts:
        for lem in {ecp.lemma(w) for w in caption_photos.words(t) if person(w)}:
            uses[lem] += 1
    out = []
    i = 0
    while i < len(ws):
        w = ws[i]
        if not person(w) or ecp.lemma(w) == "person" or uses[ecp.lemma(w)] >= n:
            out.append(w)
            i += 1
            continue
        if w in _COLLECTIVE and i + 1 < len(ws) and ws[i + 1] == "of":  # "a group of men" -> "men" (then hedged)
            if out and out[-1] in ("a", "an", "the"):
                out.pop()
            i += 2
            continue
        if out and out[-1] in ("little", "small"):
            out[-1] = "young"
        if len(out) >= 1 and out[-1] == "an":
            out[-1] = "a"
        elif len(out) >= 2 and out[-2] == "an" and out[-1] == "young":
            out[-2] = "a"
        out.append("people" if w in _PLURAL_PEOPLE or w in _COLLECTIVE else "person")
        i += 1
    return out


def items(names, index, caps, vocab_index, flip, max_words=100, shortest=0, consensus=0, hedge=0):
    """(photo index, mirrored, word ids + EOS) of each training caption; with shortest = K only the K shortest of each
    photo's captions (fewest words, then file order): the main subject, without the long tails of clothing and
    background detail that a model trained on 800 photos mostly gets wrong."""
    out = []
    for n in names:
        texts = caps[n]
        if shortest:
            texts = sorted(texts, key=lambda t: len(caption_photos.words(t)))[:shortest]
        if consensus:
            texts = consensus_order(texts)[:consensus]
        for text in texts:
            ws = caption_photos.words(text)
            if hedge:
                ws = hedge_people(ws, caps[n], hedge)
            out.append((index[n], 0, ws))
            if flip:
                out.append((index[n], 1, caption_photos.mirrored(ws)))
    return [(i, f, [vocab_index.get(w, caption_model.UNK_ID) for w in ws[:max_words]] + [EOS_ID]) for i, f, ws in out]


def batch_tensors(batch, feats):
    T = max(len(ids) for _, _, ids in batch)
    tgt_in = torch.full((len(batch), T), PAD_ID, dtype=torch.long)
    labels = torch.full((len(batch), T), PAD_ID, dtype=torch.long)
    for b, (_, _, ids) in enumerate(batch):
        tgt_in[b, 0], tgt_in[b, 1:len(ids)] = BOS_ID, torch.tensor(ids[:-1])
        labels[b, :len(ids)] = torch.tensor(ids)
    f = np.stack([feats[i, fl] for i, fl, _ in batch])
    return f, tgt_in, labels


@torch.no_grad()
def decode(model, feats, idx, beam=1):
    """Captions (word-id lists) of photos idx, unmirrored, greedy (batched) or by beam search."""
    model.eval()
    out = []
    for k in range(0, len(idx), 50):
        a = annotations(model, feats[idx[k:k + 50], 0])
        if beam == 1:
            out += greedy_from(model, a)
        else:
            for j in range(a.shape[0]):
                out.append(beam_from(model, a[j:j + 1], beam))
    return out


def greedy_from(model, a):
    c = model.config
    memory = model.encode_annotations(a)
    a, keys, h, cell = memory
    tokens = torch.full((a.shape[0],), BOS_ID, dtype=torch.long)
    out, state = [], (h, cell)
    for _ in range(c["max_length"]):
        lp, state, _, _ = model.next_logprobs(tokens, state, (a, keys))
        tokens = lp.argmax(-1)
        out.append(tokens)
    rows = torch.stack(out, 1).tolist()
    return [r[:r.index(EOS_ID)] if EOS_ID in r else r for r in rows]


def beam_from(model, a, beam):
    """caption_model's beam search, from annotations instead of an image."""
    import transformer
    from transformer import Hypothesis
    c = model.config
    a, keys, h, cell = model.encode_annotations(a)
    live, finished, state = [Hypothesis([], 0.0, [], [])], [], (h, cell)
    limit = c["max_length"]
    for step in range(limit):
        tokens = torch.tensor([hyp.ids[-1] if hyp.ids else BOS_ID for hyp in live])
        k = len(live)
        lp, state, att, beta = model.next_logprobs(tokens, state, (a.expand(k, -1, -1), keys.expand(k, -1, -1)))
        cross = torch.cat([att, beta[:, None]], -1)[:, None, None, :]
        live, order = transformer._expand(live, lp, cross, finished, beam, 1.0, step == limit - 1)
        if not live or transformer._done(finished, live, beam, 1.0, step):
            break
        state = (state[0][order], state[1][order])
    finished.sort(key=lambda hyp: -hyp.normalized(1.0))
    return [i for i in finished[0].ids if i != EOS_ID]


def multi_bleu(hyps, refs, order=4):
    """Corpus BLEU (bleu.py's statistics, 13a tokens, no smoothing) with several references per hypothesis: clipped
    n-gram counts against the most of each n-gram in any reference, and the reference length closest to the
    hypothesis (the shorter on a tie), as in Papineni et al. 2002 and multi-bleu.perl. Returns BLEU-1..order."""
    total = [0] * (2 + 2 * order)
    for h, rs in zip(hyps, refs):
        ht = bleu.tokenize_13a(h).split()
        rts = [bleu.tokenize_13a(r).split() for r in rs]
        ref_len = min((abs(len(r) - len(ht)), len(r)) for r in rts)[1]
        s = [len(ht), ref_len]
        for n in range(1, order + 1):
            hc = bleu.ngrams(ht, n)
            most = {}
            for r in rts:
                for g, k in bleu.ngrams(r, n).items():
                    most[g] = max(most.get(g, 0), k)
            s += [sum(min(k, most.get(g, 0)) for g, k in hc.items()), max(len(ht) - n + 1, 0)]
        total = [x + y for x, y in zip(total, s)]
    return [bleu.bleu_from_stats(total[:2 + 2 * n], n) for n in range(1, order + 1)]


def references(caps, names):
    return [[" ".join(caption_photos.words(c)) for c in caps[n]] for n in names]


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    os.makedirs(args.out_dir, exist_ok=True)
    feats, index, caps, (train, val, test), vocab = load_data(args.features)
    vindex = {w: i for i, w in enumerate(vocab)}
    model = build(vocab, os.path.join(caption_photos.WORK, "trunk.safetensors"), hidden=args.hidden,
                  embed_dim=args.embed, dropout=args.dropout)
    model.tune_from = args.tune_from
    trunk_params = []
    if args.tune_from:
        for b in model.encoder.trunk.blocks[args.tune_from:]:
            for p in b.parameters():
                p.requires_grad_(True)
                trunk_params.append(p)
    ids = {id(p) for p in trunk_params}
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if id(p) not in ids]}]
    if trunk_params:
        groups.append({"params": trunk_params, "lr": args.trunk_lr})
    opt = torch.optim.Adam(groups, lr=args.lr)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=args.lr_step, gamma=0.5)
    data = items(train, index, caps, vindex, not args.no_flip, args.max_words, args.shortest, args.consensus,
                 args.hedge_people)
    last, best_path = os.path.join(args.out_dir, "ckpt_last.pt"), os.path.join(args.out_dir, "ckpt_best.pt")
    start, best, seconds, kept = 1, -1.0, 0.0, None
    if os.path.exists(last):
        ck = torch.load(last)
        model.load_state_dict(ck["model"]), opt.load_state_dict(ck["opt"]), sched.load_state_dict(ck["sched"])
        start, best, seconds, kept = ck["epoch"] + 1, ck["best"], ck["seconds"], ck.get("pca_kept")
        random.setstate(ck["py_random"]), torch.set_rng_state(ck["torch_random"])
        print(f"resumed after epoch {ck['epoch']}", flush=True)
        if args.set_lr:
            for g in opt.param_groups[:1]:
                g["lr"] = g["initial_lr"] = args.set_lr
            sched = torch.optim.lr_scheduler.StepLR(opt, step_size=args.lr_step, gamma=0.5)
            print(f"learning rate {args.set_lr}, halved every {args.lr_step} epochs from here", flush=True)
    elif model.encoder.proj is not None:
        kept = set_pca(model, feats, [index[n] for n in train])
        print(f"projection: {model.config['trunk_proj']} principal components keep {100 * kept:.1f}% of the variance",
              flush=True)
    if model.encoder.proj is not None:
        feats = project_all(model, feats)
    print(f"{len(train)} train photos, {len(data)} captions, vocab {len(vocab)}, "
          f"{sum(p.numel() for p in params)} trained parameters", flush=True)
    val_idx = [index[n] for n in val]
    val_refs = references(caps, val)
    for epoch in range(start, args.epochs + 1):
        t0 = time.time()
        model.train()
        random.shuffle(data)
        epoch_data = data[:args.limit] if args.limit else data
        # batches of similar length (sorted within windows of 20 batches, then the batches shuffled): less padding
        win = 20 * args.batch
        batches = []
        for w in range(0, len(epoch_data), win):
            chunk = sorted(epoch_data[w:w + win], key=lambda it: len(it[2]))
            batches += [chunk[k:k + args.batch] for k in range(0, len(chunk), args.batch)]
        random.shuffle(batches)
        ce_sum, tokens = 0.0, 0
        for batch in batches:
            f, tgt_in, labels = batch_tensors(batch, feats)
            logits, alphas = forced(model, annotations(model, f), tgt_in)
            mask = labels != PAD_ID
            ce = F.cross_entropy(logits.transpose(1, 2), labels, ignore_index=PAD_ID, reduction="sum")
            reg = ((1.0 - (alphas * mask[..., None]).sum(1)) ** 2).sum(1).mean()
            loss = ce / labels.shape[0] + args.alpha_c * reg
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 5.0)
            opt.step()
            ce_sum, tokens = ce_sum + float(ce), tokens + int(mask.sum())
        sched.step()
        hyps = [" ".join(vocab[i] for i in ids) for ids in decode(model, feats, val_idx)]
        b = multi_bleu(hyps, val_refs)
        seconds += time.time() - t0
        print(f"epoch {epoch} train ppl {np.exp(ce_sum / tokens):.2f} val BLEU-1..4 (greedy) "
              + " ".join(f"{x:.2f}" for x in b) + f" | {hyps[0]!r} | {seconds / 60:.1f} min", flush=True)
        ck = {"model": model.state_dict(), "config": model.config, "vocab": vocab, "epoch": epoch, "args": vars(args),
              "val_bleu": b, "seconds": seconds, "pca_kept": kept}
        if b[3] > best:
            best = b[3]
            torch.save(ck, best_path)
        if args.keep_epochs:  # every epoch's weights, for choosing on validation by more than BLEU-4
            torch.save(ck, os.path.join(args.out_dir, f"ckpt_epoch{epoch}.pt"))
        ck.update(opt=opt.state_dict(), sched=sched.state_dict(), best=best, py_random=random.getstate(),
                  torch_random=torch.get_rng_state())
        torch.save(ck, last + ".tmp")
        os.replace(last + ".tmp", last)


if __name__ == "__main__":
    main()
