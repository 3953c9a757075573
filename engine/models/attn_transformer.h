/* Transformer encoder-decoder in the layout of Hugging Face's Marian models (post-norm,
 * sinusoidal positions, tied embeddings, final_logits_bias). The model is immutable
 * after loading and may be shared by threads; each translation uses its own run. */
#ifndef ATTN_TRANSFORMER_H
#define ATTN_TRANSFORMER_H

#include "attn_model_dir.h"
#include "attn_seq2seq.h"

typedef struct attn_transformer attn_transformer;
typedef struct attn_tf_run attn_tf_run;

typedef struct attn_tf_dims {
  int d_model, vocab, max_positions;
  int enc_layers, dec_layers, enc_heads, dec_heads;
  int enc_ffn, dec_ffn;
  int pad, eos, decoder_start;
} attn_tf_dims;

attn_transformer *attn_transformer_load(const attn_model_dir *dir, attn_error *err);
void attn_transformer_free(attn_transformer *tf);
const attn_tf_dims *attn_transformer_dims(const attn_transformer *tf);

/* Encodes src (n ids, 1 <= n <= max_positions) and prepares decoder state for up to
 * `capacity` hypotheses of at most max_len tokens. NULL on failure. */
attn_tf_run *attn_tf_run_new(const attn_transformer *tf, const int32_t *src, int n, int capacity,
                             int max_len, attn_error *err);
void attn_tf_run_free(attn_tf_run *run);

/* The search interface over this run (step writes log-probs, pad never generated). */
attn_s2s attn_tf_run_s2s(attn_tf_run *run);

/* Encoder self-attention of the run: [enc_layers][enc_heads][n][n]. */
const float *attn_tf_run_encoder_attention(const attn_tf_run *run);

/* One decoder step with raw logits [k][vocab] (before log-softmax) and cross-attention
 * [k][dec_layers*dec_heads][n]; if self_out is not NULL, hypothesis 0's decoder
 * self-attention over positions 0..step is written to self_out[layer][head][0..step]. */
attn_status attn_tf_step(attn_tf_run *run, const int32_t *tokens, int k, int step, float *logits,
                         float *cross, float *self_out, attn_error *err);

#endif
