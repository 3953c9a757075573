# Exports an RNN-with-attention checkpoint to data/models/rnn-attn-en-de (config.json + F16 safetensors).
import argparse
import json
import os
import shutil

import torch

import mt_data
import safetensors_io
from export_transformer import f16_tensors, write_text

REPO = os.path.dirname(mt_data.HERE)
DEFAULT_OUT = os.path.join(REPO, "data", "models", "rnn-attn-en-de")
DEFAULT_CKPT = os.path.join(mt_data.HERE, "work", "rnn", "ckpt_best.pt")
TRAIN_CMD = "/usr/bin/python3 training/spm_train.py && /usr/bin/python3 training/train_rnn.py --epochs 25 --threads 1"
CONFIG_KEYS = ["vocab_size", "embed_dim", "enc_hidden", "dec_hidden", "attn_dim", "maxout_dim",
               "pad_token_id", "eos_token_id", "bos_token_id", "unk_token_id", "decoder_start_token_id",
               "max_position_embeddings", "dropout"]


def model_config(c):
    cfg = {"architectures": ["BahdanauRNN"], "model_type": "rnn-attn"}
    cfg.update({k: c[k] for k in CONFIG_KEYS})
    cfg.update(tie_word_embeddings=True, num_beams=4, length_penalty=1.0)
    cfg["attnlens"] = {"task": "translate", "display_name": "RNN with attention (Bahdanau, Multi30k En→De)",
                       "source_lang": "en", "target_lang": "de", "tokenizer": "source.spm", "shared_vocab": True}
    return cfg


def model_card(ck, eval_result):
    c = ck["config"]
    lines = ["# rnn-attn-en-de", "",
             "RNN encoder-decoder with additive attention (Bahdanau, Cho, Bengio 2015): shared embedding "
             f"{c['embed_dim']}, bidirectional GRU encoder ({c['enc_hidden']} per direction), GRU decoder "
             f"({c['dec_hidden']}), attention dim {c['attn_dim']}, deep output with maxout ({c['maxout_dim']}), "
             "output layer tied to the embedding; "
             f"joint SentencePiece unigram vocabulary of {c['vocab_size']} (source.spm).",
             f"Parameters: {sum(t.numel() for t in ck['model'].values())}. Weights stored as F16.", "",
             "## Data", "",
             "Multi30k task 1 (Elliott et al. 2016), raw En-De train split (29,000 pairs); "
             "val (1,014) for model selection and learning-rate decay; test_2016_flickr (1,000) for the score "
             "below. Research / educational use only (Flickr30k terms).", "",
             "## Reproduce", "", "```", TRAIN_CMD,
             "/usr/bin/python3 training/evaluate_rnn.py --beam 4 "
             "training/work/rnn/ckpt_best.pt --json training/work/rnn/test_eval.json",
             "/usr/bin/python3 training/export_rnn.py --eval-json training/work/rnn/test_eval.json",
             "```", "", f"Training arguments: `{json.dumps(ck.get('args', {}))}`", "",
             "## Quality", "",
             f"- epoch {ck['epoch']} (step {ck['step']}), val BLEU (greedy) {ck.get('val_bleu', ck['best_bleu']):.2f}"]
    if eval_result:
        lines.append(f"- {eval_result['split']} BLEU (beam {eval_result['beam']}, alpha {eval_result['alpha']}, "
                     f"sacreBLEU-compatible 13a, case-sensitive): {eval_result['bleu']:.2f} "
                     f"on {eval_result['sentences']} sentences")
    return "\n".join(lines) + "\n"


def export(ckpt_path, out_dir, spm_path, eval_json=None):
    ck = torch.load(ckpt_path, map_location="cpu")
    os.makedirs(out_dir, exist_ok=True)
    meta = {"format": "pt", "source": "attnlens training/export_rnn.py", "epoch": ck["epoch"]}
    safetensors_io.save_file(f16_tensors(ck["model"]), os.path.join(out_dir, "model.safetensors"), meta)
    write_text(os.path.join(out_dir, "config.json"),
               json.dumps(model_config(ck["config"]), indent=2, ensure_ascii=False) + "\n")
    shutil.copyfile(spm_path, os.path.join(out_dir, "source.spm.tmp"))
    os.replace(os.path.join(out_dir, "source.spm.tmp"), os.path.join(out_dir, "source.spm"))
    result = json.load(open(eval_json)) if eval_json else None
    write_text(os.path.join(out_dir, "MODEL.md"), model_card(ck, result))
    return out_dir


def main():
    ap = argparse.ArgumentParser(description="Export an RNN-with-attention checkpoint as a model directory.")
    ap.add_argument("checkpoint", nargs="?", default=DEFAULT_CKPT)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--spm", default=mt_data.SPM_MODEL)
    ap.add_argument("--eval-json", help="result file written by evaluate_rnn.py --json")
    args = ap.parse_args()
    print(export(args.checkpoint, args.out, args.spm, args.eval_json))


if __name__ == "__main__":
    main()
