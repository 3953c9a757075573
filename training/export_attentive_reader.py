# Writes data/models/attentive-reader-babi from a training checkpoint (export_memn2n.py does the work).
"""usage: export_attentive_reader.py [CHECKPOINT] [--out DIR] [--data BABI_DIR]"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import babi  # noqa: E402
import export_memn2n  # noqa: E402
import train_memn2n  # noqa: E402
from train_attentive_reader import AttentiveReaderAdapter  # noqa: E402


def config(c, vocab_size):
    return {"architectures": ["AttentiveReader"], "model_type": "attentive-reader", "vocab_size": vocab_size,
            "embed_dim": c["embed_dim"], "hidden": c["hidden"], "attn_dim": c["attn_dim"],
            "max_sentences": c["max_sentences"], "max_sentence_words": c["max_sentence_words"], "nil_token_id": 0,
            "attnlens": {"task": "read", "display_name": "Attentive reader (bAbI 1-20)", "vocab": "vocab.txt"}}


def main():
    ap = argparse.ArgumentParser(description="Export an attentive reader checkpoint to a model directory.")
    ap.add_argument("checkpoint", nargs="?",
                    default=os.path.join(export_memn2n.HERE, "work", "attentive-reader", "ckpt_best.pt"))
    ap.add_argument("--out", default=os.path.join(export_memn2n.REPO, "data", "models", "attentive-reader-babi"))
    ap.add_argument("--data", default=babi.DATA)
    args = ap.parse_args()
    torch.set_num_threads(1)
    ck = torch.load(args.checkpoint, map_location="cpu")
    reproduce = [export_memn2n.train_command("train_attentive_reader.py", "attentive-reader", ck),
                 "/usr/bin/python3 training/export_attentive_reader.py training/work/attentive-reader/ckpt_best.pt"]
    description = ("Attentive reader (Hermann et al. 2015): bidirectional GRU encoders of the story's words and of "
                   "the question, one attention over every story word, the answer from the attended story and the "
                   "question. It reads the 50 most recent sentences, each closed by \".\".")
    result = export_memn2n.export(ck, args.out, config(ck["config"], len(ck["vocab"])), args.data,
                                  AttentiveReaderAdapter(argparse.Namespace()), "Attentive reader on bAbI (joint, 10k)",
                                  description, reproduce, floor=25.0)  # next to MemN2N's figures
    print(train_memn2n.error_table(result))
    print(args.out)


if __name__ == "__main__":
    main()
