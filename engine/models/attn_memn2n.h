/* End-to-end memory network (Sukhbaatar et al. 2015): K hops of attention over the story's
 * sentences, bag-of-words memories with position and temporal encoding, adjacent weight
 * tying. training/memn2n.py is the PyTorch twin; its docstring is the exact computation.
 * The model is immutable after loading and may be shared by threads: forward allocates
 * its own scratch. */
#ifndef ATTN_MEMN2N_H
#define ATTN_MEMN2N_H

#include <stdint.h>

#include "attn_model_dir.h"

typedef struct attn_memn2n attn_memn2n;

typedef struct attn_memn2n_dims {
  int vocab, embed, hops;
  int memory_size;        /* most sentences one question reads */
  int max_sentence_words; /* most words per sentence and question */
} attn_memn2n_dims;

/* Reads config.json ("MemN2N") and the tensors embed.{0..K}.weight [V, d] and
 * temporal.{0..K}.weight [memory_size, d]. Returns NULL on failure. */
attn_memn2n *attn_memn2n_load(const attn_model_dir *dir, attn_error *err);
void attn_memn2n_free(attn_memn2n *m); /* NULL is fine */
const attn_memn2n_dims *attn_memn2n_model_dims(const attn_memn2n *m);

/* Answers one question. The story has n sentences (1 <= n <= memory_size, oldest first);
 * sentence i has lens[i] ids (0 <= lens[i] <= max_sentence_words; 0 is an empty memory),
 * stored one after another in words. The question has q_len ids (0..max_sentence_words).
 * Ids are 1..vocab-1. Writes logits [vocab] and the hop maps hops [hops][n]. */
attn_status attn_memn2n_forward(const attn_memn2n *m, const int32_t *words, const int *lens, int n,
                                const int32_t *question, int q_len, float *logits, float *hops,
                                attn_error *err);

#endif
