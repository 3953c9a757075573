# Beam-search BLEU of the RNN with attention on Multi30k test_2016_flickr, from a checkpoint or an exported model dir.
import evaluate_common
import model_io
from rnn_attn import BahdanauRNN, beam_search


def load_model(path):
    """Returns (model in eval mode, spm path) from a .pt checkpoint or an exported model directory."""
    return model_io.load_model(path, BahdanauRNN)


if __name__ == "__main__":
    evaluate_common.main("Beam-search BLEU of an RNN-with-attention checkpoint / model dir.", load_model, beam_search,
                         threads=1, exporter="export_rnn.py")
