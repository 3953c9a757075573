# Loads a PyTorch twin from a training checkpoint (.pt) or an exported model directory.
import json
import os

import torch

import mt_data
import rnn_attn
import safetensors_io
from rnn_attn import BahdanauRNN
from transformer import MarianTransformer

# The config.json keys each twin takes from an exported directory; the rest keep the twin's defaults.
CONFIG_KEYS = {
    MarianTransformer: ["d_model", "encoder_layers", "decoder_layers", "encoder_attention_heads",
                        "decoder_attention_heads", "encoder_ffn_dim", "decoder_ffn_dim", "activation_function",
                        "vocab_size", "max_position_embeddings", "pad_token_id", "eos_token_id",
                        "decoder_start_token_id", "bos_token_id", "unk_token_id", "layer_norm_eps"],
    BahdanauRNN: list(rnn_attn.DEFAULT_CONFIG),
}


def load_dir(path, model_class):
    """Returns (model in eval mode, its config.json) from an exported model directory."""
    with open(os.path.join(path, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    model = model_class({k: cfg[k] for k in CONFIG_KEYS[model_class] if k in cfg})
    arrays, _ = safetensors_io.load_file(os.path.join(path, "model.safetensors"))
    model.load_state_dict({k: torch.from_numpy(v) for k, v in safetensors_io.dequantize(arrays).items()})
    return model.eval(), cfg


def load_model(path, model_class):
    """Returns (model in eval mode, spm path) from a .pt checkpoint or an exported model directory."""
    if os.path.isdir(path):
        model, cfg = load_dir(path, model_class)
        return model, os.path.join(path, cfg["attnlens"]["tokenizer"])
    ck = torch.load(path, map_location="cpu")
    model = model_class(ck["config"])
    model.load_state_dict(ck["model"])
    return model.eval(), ck.get("args", {}).get("spm", mt_data.SPM_MODEL)
