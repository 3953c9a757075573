# Exports an RNN-with-attention checkpoint to data/models/rnn-attn-en-de (config.json + F16 safetensors).
import export_common

TRAIN_CMD = "/usr/bin/python3 training/spm_train.py && /usr/bin/python3 training/train_rnn.py --epochs {epochs} --threads 1"
CONFIG_KEYS = ["vocab_size", "embed_dim", "enc_hidden", "dec_hidden", "attn_dim", "maxout_dim",
               "pad_token_id", "eos_token_id", "bos_token_id", "unk_token_id", "decoder_start_token_id",
               "max_position_embeddings", "dropout"]


def model_config(c):
    return export_common.model_config(c, CONFIG_KEYS, "BahdanauRNN", "rnn-attn",
                                      "RNN with attention (Bahdanau, Multi30k En→De)",
                                      tie_word_embeddings=True, num_beams=4, length_penalty=1.0)


def model_card(ck, eval_result):
    c = ck["config"]
    description = ("RNN encoder-decoder with additive attention (Bahdanau, Cho, Bengio 2015): shared embedding "
                   f"{c['embed_dim']}, bidirectional GRU encoder ({c['enc_hidden']} per direction), GRU decoder "
                   f"({c['dec_hidden']}), attention dim {c['attn_dim']}, deep output with maxout ({c['maxout_dim']}), "
                   "output layer tied to the embedding; "
                   f"joint SentencePiece unigram vocabulary of {c['vocab_size']} (source.spm).")
    return export_common.model_card(ck, eval_result, "rnn", "rnn-attn-en-de", description,
                                    val_use="model selection and learning-rate decay", train_cmd=TRAIN_CMD)


if __name__ == "__main__":
    export_common.main("Export an RNN-with-attention checkpoint as a model directory.", "rnn", "rnn-attn-en-de",
                       model_config, model_card)
