# Exports a Transformer checkpoint to data/models/transformer-en-de (HF Marian-style config + F16 safetensors).
import export_common
from export_common import f16_tensors, write_text  # noqa: F401  (dates.py imports them from here)

TRAIN_CMD = "/usr/bin/python3 training/spm_train.py && /usr/bin/python3 training/train_transformer.py --epochs {epochs} --threads 1"
CONFIG_KEYS = ["d_model", "encoder_layers", "decoder_layers", "encoder_attention_heads", "decoder_attention_heads",
               "encoder_ffn_dim", "decoder_ffn_dim", "activation_function", "vocab_size", "max_position_embeddings",
               "pad_token_id", "eos_token_id", "decoder_start_token_id", "bos_token_id", "unk_token_id",
               "dropout", "attention_dropout", "activation_dropout", "layer_norm_eps"]


def hf_config(c, eval_result=None):
    cfg = export_common.model_config(
        c, CONFIG_KEYS, "MarianMTModel", "marian", "Transformer En→De (image descriptions, Multi30k)",
        scale_embedding=True, normalize_before=False, normalize_embedding=False, static_position_embeddings=True,
        tie_word_embeddings=True, share_encoder_decoder_embeddings=True, is_encoder_decoder=True, num_beams=4,
        length_penalty=1.0, max_length=c["max_position_embeddings"], bad_words_ids=[[c["pad_token_id"]]])
    return export_common.multi30k_facts(cfg, eval_result)


def model_card(ck, eval_result):
    c = ck["config"]
    description = ("Transformer encoder-decoder (Marian/opus-mt layout, post-norm, tied embeddings), "
                   f"d_model {c['d_model']}, {c['encoder_layers']}+{c['decoder_layers']} "
                   f"layers, {c['encoder_attention_heads']} heads, FFN {c['encoder_ffn_dim']}, "
                   f"joint SentencePiece unigram vocabulary of {c['vocab_size']} (source.spm).")
    return export_common.model_card(ck, eval_result, "transformer", "transformer-en-de", description,
                                    val_use="model selection", train_cmd=TRAIN_CMD)


if __name__ == "__main__":
    export_common.main("Export a Transformer checkpoint as a model directory.", "transformer", "transformer-en-de",
                       hf_config, model_card)
