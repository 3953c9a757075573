# Golden files for tests/test_reader.c, computed by the PyTorch twin (training/attentive_reader.py).
"""usage: golden_attentive_reader.py tiny OUT_DIR
       golden_attentive_reader.py shipped MODEL_DIR OUT [SHARED]

Writes a random-weight tiny attentive reader directory (F32 config.json, model.safetensors, vocab.txt; the
vocabulary of golden_memn2n.py) and golden.json:
- ids: documents and questions given as ids, with the twin's logits [V], answer probabilities and attention [T];
- text: the stories of golden_memn2n.py as typed, with the answer, its probability and the attention over the
  document's words (kept sentences' known words, each sentence closed by ".").

`shipped` runs the twin on the shipped F16 weights of MODEL_DIR over the first 10 questions of every bAbI test file,
typed as text (golden_memn2n.babi_typed), and writes OUT: tests/test_reader.c checks the C reader against it.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import babi  # noqa: E402
import golden_memn2n as gm  # noqa: E402
from attentive_reader import AttentiveReader  # noqa: E402
from memn2n import answer_probs  # noqa: E402

TINY = {"vocab_size": len(gm.VOCAB), "embed_dim": 6, "hidden": 5, "attn_dim": 4, "max_sentences": 6,
        "max_sentence_words": 5, "dropout": 0.0}


def tiny_model(seed=13):
    """The twin's initialisation after torch.manual_seed(seed), then Gaussian noise (std 0.3) on every parameter so
    that biases are not trivial."""
    torch.manual_seed(seed)
    m = AttentiveReader(TINY)
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    return m.eval()


@torch.no_grad()
def run_ids(model, doc, question):
    d = torch.tensor([doc], dtype=torch.long)
    q = torch.zeros(1, max(1, len(question)), dtype=torch.long)
    q[0, :len(question)] = torch.tensor(question, dtype=torch.long)
    logits, s = model(d, torch.tensor([len(doc)]), q, torch.tensor([len(question)]))
    return logits[0], s[0]


def id_cases(model):
    rng = np.random.default_rng(9)
    V = model.config["vocab_size"]
    cases = []
    for k, (T, Q) in enumerate([(1, 2), (7, 3), (20, 1), (5, 0), (36, 5)]):
        doc = [int(x) for x in rng.integers(1, V, T)]
        question = [int(x) for x in rng.integers(1, V, Q)]
        logits, s = run_ids(model, doc, question)
        cases.append({"doc": doc, "question": question, "logits": gm.rounded(logits),
                      "probs": gm.rounded(answer_probs(logits[None])[0]), "attention": gm.rounded(s)})
    return cases


def text_runner(model, vocab):
    """run(ids per kept sentence, question ids) -> (logits, [attention over the document's words])."""
    sep = {w: i for i, w in enumerate(vocab)}[babi.SEPARATOR]

    def run_text(ids, q_ids):
        doc = [w for s in ids for w in s + [sep]]
        logits, s = run_ids(model, doc, q_ids)
        return logits, [s]
    return run_text


def write_shipped(model_dir, out, shared):
    model, vocab = gm.load_shipped(model_dir, AttentiveReader, list(TINY))
    c = model.config
    cases = gm.text_cases(text_runner(model, vocab), vocab, c["max_sentences"], c["max_sentence_words"],
                          gm.babi_typed(shared))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    gm.write_golden(out, "attentive_reader.py", f"golden_attentive_reader.py shipped {model_dir} {out}",
                    {"model": os.path.basename(os.path.normpath(model_dir)), "text": cases})
    print(f"{out}: {len(cases)} typed bAbI test stories, {sum(c['near_tie'] for c in cases)} near ties")


def write_tiny(out_dir):
    model = tiny_model()
    config = dict(TINY, architectures=["AttentiveReader"], model_type="attentive-reader",
                  attnlens={"task": "read", "display_name": "tiny random attentive reader", "vocab": "vocab.txt"})
    config.pop("dropout")
    gm.write_model_dir(model, out_dir, config, gm.VOCAB, "golden_attentive_reader.py")
    doc = {"ids": id_cases(model),
           "text": gm.text_cases(text_runner(model, gm.VOCAB), gm.VOCAB, TINY["max_sentences"], TINY["max_sentence_words"])}
    gm.write_golden(os.path.join(out_dir, "golden.json"), "attentive_reader.py",
                    "golden_attentive_reader.py tiny " + out_dir, doc)


if __name__ == "__main__":
    torch.set_num_threads(1)
    if len(sys.argv) == 3 and sys.argv[1] == "tiny":
        write_tiny(sys.argv[2])
    elif len(sys.argv) in (4, 5) and sys.argv[1] == "shipped":
        write_shipped(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) == 5 else gm.default_shared())
    else:
        sys.exit(__doc__)
