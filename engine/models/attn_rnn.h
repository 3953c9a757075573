/* RNN encoder-decoder with additive attention (Bahdanau, Cho, Bengio 2015): bidirectional
 * GRU encoder, GRU decoder, deep output with maxout, output layer tied to the embedding.
 * With config "attention": "none" it is the same network without attention (Cho et al.
 * 2014): every decoder step gets the one fixed vector c = [forward state at the last source
 * piece; backward state at the first] as its context, and there are no attention weights.
 * The model is immutable after loading and may be shared by threads; each translation
 * uses its own run. training/rnn_attn.py is the PyTorch twin. */
#ifndef ATTN_RNN_H
#define ATTN_RNN_H

#include "attn_model_dir.h"
#include "attn_seq2seq.h"

typedef struct attn_rnn attn_rnn;
typedef struct attn_rnn_run attn_rnn_run;

typedef struct attn_rnn_dims {
  int vocab, embed, enc_hidden, dec_hidden, attn_dim, maxout;
  int max_positions; /* longest source and longest output, in pieces */
  int pad, eos, decoder_start;
  int segments; /* 1: the encoder restarts at every segment (word) boundary */
  int attention; /* 1: additive attention; 0: none, the decoder sees only the summary c */
} attn_rnn_dims;

/* Reads config.json ("BahdanauRNN") and the tensors. Returns NULL on failure. */
attn_rnn *attn_rnn_load(const attn_model_dir *dir, attn_error *err);
void attn_rnn_free(attn_rnn *m); /* NULL is fine */
const attn_rnn_dims *attn_rnn_model_dims(const attn_rnn *m);

/* Encodes src (n ids, 1 <= n <= max_positions) and sets up to `capacity` decoder states
 * for outputs of at most max_len (<= max_positions) tokens. NULL on failure. */
attn_rnn_run *attn_rnn_run_new(const attn_rnn *m, const int32_t *src, int n, int capacity, int max_len,
                               attn_error *err);
void attn_rnn_run_free(attn_rnn_run *run); /* NULL is fine */

/* The search interface over this run: step writes log-probs (pad = -inf) and one cross
 * map per hypothesis (none without attention: n_maps 0); reorder copies decoder states. */
attn_s2s attn_rnn_run_s2s(attn_rnn_run *run);

/* Encoder annotations h_j = [forward_j; backward_j]: [n][2*enc_hidden], owned by the run. */
const float *attn_rnn_run_annotations(const attn_rnn_run *run);
/* The initial decoder state s0 = tanh(W_init backward_0 + b): [dec_hidden], owned by the run. */
const float *attn_rnn_run_initial_state(const attn_rnn_run *run);
/* Without attention, the fixed context c every step reads: [2*enc_hidden], owned by the run;
 * NULL for a model with attention. */
const float *attn_rnn_run_summary(const attn_rnn_run *run);
const attn_rnn *attn_rnn_run_model(const attn_rnn_run *run);

/* One decoder step for k hypotheses fed tokens[i]: raw logits [k][vocab] (before
 * log-softmax) and attention weights [k][n] (nothing is written without attention; cross
 * may then be NULL); each hypothesis's state advances. */
attn_status attn_rnn_step(attn_rnn_run *run, const int32_t *tokens, int k, int step, float *logits,
                          float *cross, attn_error *err);

#endif
