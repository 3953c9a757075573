/* Attentive reader (Hermann et al. 2015): bidirectional GRU encoders of the story's words
 * and of the question, one attention over every story word, answer from the attended
 * story and the question. training/attentive_reader.py is the PyTorch twin; its docstring
 * is the exact computation. The model is immutable after loading and may be shared by
 * threads: forward allocates its own scratch. */
#ifndef ATTN_READER_H
#define ATTN_READER_H

#include <stdint.h>

#include "attn_model_dir.h"

typedef struct attn_attentive_reader attn_attentive_reader;

typedef struct attn_attentive_reader_dims {
  int vocab, embed, hidden, attn_dim;
  int max_sentences;      /* most recent sentences one question reads */
  int max_sentence_words; /* most words per sentence and question */
} attn_attentive_reader_dims;

/* Reads config.json ("AttentiveReader") and the tensors. Returns NULL on failure. */
attn_attentive_reader *attn_attentive_reader_load(const attn_model_dir *dir, attn_error *err);
void attn_attentive_reader_free(attn_attentive_reader *m); /* NULL is fine */
const attn_attentive_reader_dims *attn_attentive_reader_model_dims(const attn_attentive_reader *m);

/* Answers one question about a document of T ids (1 <= T <= max_sentences *
 * (max_sentence_words + 1): the kept sentences' words, each sentence closed by the "."
 * separator) with a question of q_len ids (0..max_sentence_words). Ids are 1..vocab-1.
 * Writes logits [vocab] and the attention over the document's words attn [T]. */
attn_status attn_attentive_reader_forward(const attn_attentive_reader *m, const int32_t *doc, int T,
                                          const int32_t *question, int q_len, float *logits, float *attn,
                                          attn_error *err);

#endif
