# Trains the attentive reader jointly on the 20 bAbI tasks (10k); the loop, checkpoints and resume are
# train_memn2n.py's.
"""Recipe: word embeddings 64, bidirectional GRUs of 64 per direction for story and question, attention 64;
Adam (--optimizer adam --lr 0.001), batch 32, gradient norm clipped at 5, dropout 0.1 on embeddings and g;
10% of each task's training questions held out for validation. The shipped attentive-reader-babi was trained
with these defaults (data/models/attentive-reader-babi/MODEL.md: its epochs, time and scores).
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_memn2n  # noqa: E402
from attentive_reader import AttentiveReader, document, pad_batch  # noqa: E402


class AttentiveReaderAdapter:
    name = "attentive-reader"
    model_class = AttentiveReader

    def __init__(self, args):
        self.args = args

    def config(self, vocab_size):
        return {"vocab_size": vocab_size, "embed_dim": 64, "hidden": 64, "attn_dim": 64, "max_sentences": 50,
                "max_sentence_words": 32, "dropout": 0.1}

    def batch(self, model, examples, index, noise_rng=None):
        c = model.config
        tensors = pad_batch(examples, index, c["max_sentences"], c["max_sentence_words"])
        owners = [document(e.story, index, c["max_sentences"], c["max_sentence_words"])[1] for e in examples]
        return tensors, owners

    def forward(self, model, batch, linear=False):
        logits, s = model(*batch[0])
        return logits, [s]

    def sentence_weights(self, model, batch, maps):
        """[1, B, M]: each kept sentence's summed word weights (its words and its separator)."""
        s, owners = maps[0], batch[1]
        M = max(max(o) + 1 for o in owners)
        w = torch.zeros(1, s.shape[0], M)
        for b, o in enumerate(owners):
            w[0, b].index_add_(0, torch.tensor(o), s[b, :len(o)])
        return w

    def after_step(self, model):
        model.zero_nil()


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    defaults = ["--optimizer", "adam", "--lr", "0.001", "--clip", "5", "--anneal-every", "1000"]
    train_memn2n.main(defaults + argv, AttentiveReaderAdapter)


if __name__ == "__main__":
    main()
