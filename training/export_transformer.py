# Exports a Transformer checkpoint to data/models/transformer-en-de (HF Marian-style config + F16 safetensors).
import argparse
import json
import os
import shutil

import numpy as np
import torch

import mt_data
import safetensors_io

REPO = os.path.dirname(mt_data.HERE)
DEFAULT_OUT = os.path.join(REPO, "data", "models", "transformer-en-de")
DEFAULT_CKPT = os.path.join(mt_data.HERE, "work", "transformer", "ckpt_best.pt")
TRAIN_CMD = "/usr/bin/python3 training/spm_train.py && /usr/bin/python3 training/train_transformer.py --epochs 30 --threads 1"
CONFIG_KEYS = ["d_model", "encoder_layers", "decoder_layers", "encoder_attention_heads", "decoder_attention_heads",
               "encoder_ffn_dim", "decoder_ffn_dim", "activation_function", "vocab_size", "max_position_embeddings",
               "pad_token_id", "eos_token_id", "decoder_start_token_id", "bos_token_id", "unk_token_id",
               "dropout", "attention_dropout", "activation_dropout", "layer_norm_eps"]


def hf_config(c):
    cfg = {"architectures": ["MarianMTModel"], "model_type": "marian"}
    cfg.update({k: c[k] for k in CONFIG_KEYS})
    cfg.update(scale_embedding=True, normalize_before=False, normalize_embedding=False,
               static_position_embeddings=True, tie_word_embeddings=True, share_encoder_decoder_embeddings=True,
               is_encoder_decoder=True, num_beams=4, length_penalty=1.0,
               max_length=c["max_position_embeddings"], bad_words_ids=[[c["pad_token_id"]]])
    cfg["attnlens"] = {"task": "translate", "display_name": "Transformer (Multi30k En→De)",
                       "source_lang": "en", "target_lang": "de", "tokenizer": "source.spm", "shared_vocab": True}
    return cfg


def f16_tensors(state):
    out = {}
    for name, t in state.items():
        a = t.detach().float().numpy()
        if np.abs(a).max(initial=0.0) > 65504:
            raise ValueError(f"{name} overflows float16")
        out[name] = a.astype(np.float16)
    return out


def model_card(ck, eval_result):
    lines = ["# transformer-en-de", "",
             "Transformer encoder-decoder (Marian/opus-mt layout, post-norm, tied embeddings), "
             f"d_model {ck['config']['d_model']}, {ck['config']['encoder_layers']}+{ck['config']['decoder_layers']} "
             f"layers, {ck['config']['encoder_attention_heads']} heads, FFN {ck['config']['encoder_ffn_dim']}, "
             f"joint SentencePiece unigram vocabulary of {ck['config']['vocab_size']} (source.spm).",
             f"Parameters: {sum(t.numel() for t in ck['model'].values())}. Weights stored as F16.", "",
             "## Data", "",
             "Multi30k task 1 (Elliott et al. 2016), raw En-De train split (29,000 pairs); "
             "val (1,014) for model selection; test_2016_flickr (1,000) for the score below. "
             "Research / educational use only (Flickr30k terms).", "",
             "## Reproduce", "", "```", TRAIN_CMD,
             "/usr/bin/python3 training/evaluate_transformer.py --beam 4 "
             "training/work/transformer/ckpt_best.pt --json training/work/transformer/test_eval.json",
             "/usr/bin/python3 training/export_transformer.py --eval-json training/work/transformer/test_eval.json",
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
    meta = {"format": "pt", "source": "attnlens training/export_transformer.py", "epoch": ck["epoch"]}
    safetensors_io.save_file(f16_tensors(ck["model"]), os.path.join(out_dir, "model.safetensors"), meta)
    write_text(os.path.join(out_dir, "config.json"), json.dumps(hf_config(ck["config"]), indent=2,
                                                               ensure_ascii=False) + "\n")
    shutil.copyfile(spm_path, os.path.join(out_dir, "source.spm.tmp"))
    os.replace(os.path.join(out_dir, "source.spm.tmp"), os.path.join(out_dir, "source.spm"))
    result = json.load(open(eval_json)) if eval_json else None
    write_text(os.path.join(out_dir, "MODEL.md"), model_card(ck, result))
    return out_dir


def write_text(path, text):
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser(description="Export a Transformer checkpoint as a model directory.")
    ap.add_argument("checkpoint", nargs="?", default=DEFAULT_CKPT)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--spm", default=mt_data.SPM_MODEL)
    ap.add_argument("--eval-json", help="result file written by evaluate_transformer.py --json")
    args = ap.parse_args()
    print(export(args.checkpoint, args.out, args.spm, args.eval_json))


if __name__ == "__main__":
    main()
