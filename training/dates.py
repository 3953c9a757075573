# The teaching model: date normalisation ("Wednesday, the 3rd of March 2021" -> "2021-03-03") with the RNN twin.
"""usage:
  dates.py train [--out training/work/dates] [--epochs 6]    generate data, train tokenizer and model
  dates.py export [--out training/work/dates]                 write data/models/dates-rnn
  dates.py sample N                                           print N generated pairs

Every date surface form is generated here with a fixed seed; the model is the same
Bahdanau RNN as rnn-attn-en-de (training/rnn_attn.py), small enough to train in minutes,
whose attention is easy to read: emitting the month digits, it looks at the month word.
"""
import argparse
import datetime
import json
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import safetensors_io  # noqa: E402
from export_transformer import f16_tensors, write_text  # noqa: E402
from rnn_attn import BOS_ID, EOS_ID, PAD_ID, BahdanauRNN, greedy_batch  # noqa: E402
from train_common import collate as collate_marian, make_batches, save_atomic  # noqa: E402

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
OUT = os.path.join(HERE, "work", "dates")
MODEL_DIR = os.path.join(os.path.dirname(HERE), "data", "models", "dates-rnn")
CONFIG = dict(vocab_size=160, embed_dim=48, enc_hidden=64, dec_hidden=96, attn_dim=64, maxout_dim=48, dropout=0.1,
              encoder_segments=True)
PUNCT = set(".,-/")


def ordinal(n):
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def surface(d, rng):
    """One of many ways people write date d."""
    M, m3, D, W, w3 = MONTHS[d.month - 1], MONTHS[d.month - 1][:3], d.day, DAYS[d.weekday()], DAYS[d.weekday()][:3]
    forms = [f"{W}, the {ordinal(D)} of {M} {d.year}", f"{D} {M} {d.year}", f"{M} {D}, {d.year}",
             f"{ordinal(D)} {M} {d.year}", f"{w3} {D} {m3} {d.year}", f"the {ordinal(D)} of {M}, {d.year}",
             f"{M} {ordinal(D)} {d.year}", f"{m3}. {D}, {d.year}", f"{W} {D} {M} {d.year}",
             f"{D}.{d.month}.{d.year}", f"{d.year}/{d.month:02d}/{D:02d}", f"{M} the {ordinal(D)}, {d.year}",
             f"{W}, {M} {D}, {d.year}", f"{D}-{m3}-{d.year}"]
    text = rng.choice(forms)
    r = rng.random()
    return text.lower() if r < 0.15 else text.upper() if r < 0.2 else text


def random_date(rng):
    start = datetime.date(1900, 1, 1).toordinal()
    return datetime.date.fromordinal(rng.randrange(start, datetime.date(2099, 12, 31).toordinal() + 1))


def pairs(n, seed):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        d = random_date(rng)
        out.append((surface(d, rng), d.isoformat()))
    return out


def train_spm(out, data):
    import sentencepiece as spm
    corpus = os.path.join(out, "corpus.txt")
    with open(corpus, "w", encoding="utf-8") as f:
        for s, t in data:
            f.write(s + "\n" + t + "\n")
    spm.SentencePieceTrainer.train(input=corpus, model_prefix=os.path.join(out, "dates"), vocab_size=CONFIG["vocab_size"],
                                   model_type="unigram", character_coverage=1.0, split_digits=True, pad_id=PAD_ID,
                                   unk_id=1, bos_id=BOS_ID, eos_id=EOS_ID, minloglevel=2)
    return spm.SentencePieceProcessor(model_file=os.path.join(out, "dates.model"))


def segments(sp):
    """Per piece: starts a segment (a word, or a special piece), stands alone (punctuation).
    With these the encoder cannot carry the month from its word to another annotation."""
    n = sp.get_piece_size()
    pieces = [sp.id_to_piece(i) for i in range(n)]
    alone = [1 if p.lstrip("\u2581") and set(p.lstrip("\u2581")) <= PUNCT else 0 for p in pieces]
    start = [1 if p.startswith("\u2581") or sp.is_control(i) or sp.is_unknown(i) or alone[i] else 0
             for i, p in enumerate(pieces)]
    return start, alone


def encode(sp, data):
    return [sp.encode(s) + [EOS_ID] for s, _ in data], [sp.encode(t) + [EOS_ID] for _, t in data]


def accuracy(model, sp, data):
    srcs, _ = encode(sp, data)
    outs = []
    for b in range(0, len(srcs), 128):
        outs += greedy_batch(model, srcs[b:b + 128])
    return sum(sp.decode(o) == t for o, (_, t) in zip(outs, data)) / len(data)


def train(args):
    torch.manual_seed(1)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    train_data, val_data = pairs(30000, 1), pairs(1000, 2)
    sp = train_spm(args.out, train_data)
    src, tgt = encode(sp, train_data)
    model = BahdanauRNN(dict(CONFIG, vocab_size=sp.get_piece_size()))
    model.set_segments(*segments(sp))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    log = open(os.path.join(args.out, "train.log"), "a")
    for epoch in range(1, args.epochs + 1):
        model.train()
        t0 = time.time()
        for idx in make_batches(src, tgt, 2000, random.Random(epoch)):
            s, m, tin, labels = collate_marian(src, tgt, idx)
            tin[:, 0] = BOS_ID
            logits = model(s, m, tin)
            loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), labels.view(-1), ignore_index=PAD_ID)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        model.eval()
        acc = accuracy(model, sp, val_data)
        msg = f"epoch {epoch} loss {loss.item():.4f} val exact-match {acc:.4f} {time.time() - t0:.0f}s"
        print(msg)
        log.write(msg + "\n")
        log.flush()
        save_atomic({"model": model.state_dict(), "config": model.config, "epoch": epoch, "val_acc": acc},
                    os.path.join(args.out, "ckpt.pt"))


def export(args):
    ck = torch.load(os.path.join(args.out, "ckpt.pt"), map_location="cpu")
    model = BahdanauRNN(ck["config"])
    model.load_state_dict(ck["model"])
    model.eval()
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=os.path.join(args.out, "dates.model"))
    test = pairs(2000, 3)
    acc = accuracy(model, sp, test)
    os.makedirs(MODEL_DIR, exist_ok=True)
    safetensors_io.save_file(f16_tensors(ck["model"]), os.path.join(MODEL_DIR, "model.safetensors"),
                             {"source": "attnlens training/dates.py"})
    c = ck["config"]
    keys = ["vocab_size", "embed_dim", "enc_hidden", "dec_hidden", "attn_dim", "maxout_dim", "pad_token_id",
            "eos_token_id", "bos_token_id", "unk_token_id", "decoder_start_token_id", "max_position_embeddings",
            "encoder_segments"]
    cfg = {"architectures": ["BahdanauRNN"], "model_type": "rnn-attn", **{k: c[k] for k in keys},
           "tie_word_embeddings": True,
           "attnlens": {"task": "translate", "display_name": "Dates → ISO 8601 (teaching model, RNN with attention)",
                        "source_lang": "en", "target_lang": "iso-8601", "tokenizer": "source.spm", "shared_vocab": True,
                        "example": "Wednesday, the 3rd of March 2021"}}
    write_text(os.path.join(MODEL_DIR, "config.json"), json.dumps(cfg, indent=2, ensure_ascii=False) + "\n")
    with open(os.path.join(args.out, "dates.model"), "rb") as f:
        blob = f.read()
    with open(os.path.join(MODEL_DIR, "source.spm"), "wb") as f:
        f.write(blob)
    n_params = sum(t.numel() for t in ck["model"].values())
    card = f"""# dates-rnn — a teaching model

Normalises dates written in many ways ("Wednesday, the 3rd of March 2021", "Mar. 3, 2021",
"3.3.2021", "THE 3RD OF MARCH, 2021", ...) to ISO 8601 ("2021-03-03"). Its attention is easy
to read: while it writes the month digits it looks at the month word, while it writes the
year it looks at the year. A good first model to show a class what attention is.

Architecture: the Bahdanau RNN with additive attention of rnn-attn-en-de (training/rnn_attn.py),
with one change that keeps its attention honest to read: the bidirectional GRU encoder restarts
at every word and punctuation mark (config `encoder_segments`), so each annotation describes
only its own word. (With an unsegmented encoder the model reached the same accuracy but read
the month from the `</s>` annotation, where the forward GRU had carried it.) Small: embedding {c['embed_dim']}, encoder GRU {c['enc_hidden']} per direction, decoder GRU
{c['dec_hidden']}, {n_params} parameters; SentencePiece unigram vocabulary of {c['vocab_size']}
pieces with digits split (source.spm). Weights stored as F16.

## Data

Generated by training/dates.py: 30,000 random dates between 1900 and 2099, each written in
one of 14 surface forms (some lower- or upper-cased), seed 1; validation seed 2.

## Reproduce

```
/usr/bin/python3 training/dates.py train --epochs {ck['epoch']}
/usr/bin/python3 training/dates.py export
/usr/bin/python3 training/dates.py golden    # tests/fixtures/dates-golden.json for the C cross-check
```

## Quality

- exact-match accuracy on 2,000 held-out generated dates (seed 3), greedy: {acc * 100:.2f}%
- validation exact match after epoch {ck['epoch']}: {ck['val_acc'] * 100:.2f}%
"""
    write_text(os.path.join(MODEL_DIR, "MODEL.md"), card)
    print(f"exported to {MODEL_DIR}: test exact match {acc:.4f}")


GOLDEN_TEXTS = ["Wednesday, the 3rd of March 2021", "14 July 1989", "Feb. 29, 2024", "THE 11TH OF NOVEMBER, 1918",
                "5-May-1955", "2021/01/30", "xyz 9 Q 3000"]


@torch.no_grad()
def golden(args):
    """Outputs of the twin on the shipped (F16) weights, for tests/test_teaching.c."""
    import sentencepiece as spm
    cfg = json.load(open(os.path.join(MODEL_DIR, "config.json")))
    arrays, _ = safetensors_io.load_file(os.path.join(MODEL_DIR, "model.safetensors"))
    model = BahdanauRNN({k: cfg[k] for k in CONFIG if k in cfg} | {"vocab_size": cfg["vocab_size"]})
    model.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in arrays.items()})
    model.eval()
    sp = spm.SentencePieceProcessor(model_file=os.path.join(MODEL_DIR, "source.spm"))
    cases = []
    for text in GOLDEN_TEXTS:
        src = sp.encode(text) + [EOS_ID]
        out = greedy_batch(model, [src])[0] + [EOS_ID]
        s = torch.tensor([src])
        logits, maps = model(s, s != PAD_ID, torch.tensor([[BOS_ID] + out[:-1]]), return_attn=True)
        cases.append({"text": text, "src": src, "greedy": out, "logits": logits[0].tolist(),
                      "cross_attention": maps["cross"][0].tolist()})
    doc = {"made_by": "PyTorch twin training/rnn_attn.py via /usr/bin/python3 training/dates.py golden",
           "cases": cases}
    path = os.path.join(os.path.dirname(HERE), "tests", "fixtures", "dates-golden.json")
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    print(f"wrote {path}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["train", "export", "sample", "golden"])
    ap.add_argument("n", nargs="?", type=int, default=10)
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    if args.command == "sample":
        for s, t in pairs(args.n, 4):
            print(f"{s}\t{t}")
    elif args.command == "train":
        train(args)
    elif args.command == "golden":
        golden(args)
    else:
        export(args)


if __name__ == "__main__":
    np.random.seed(0)
    main()
