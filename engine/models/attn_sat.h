/* Show, Attend and Tell (Xu et al. 2015), soft attention: a CNN (a small one trained with the
 * model, or with "trunk" in the config a pretrained MobileNetV2) turns the image into a grid of
 * annotation vectors; an LSTM decoder starting from the mean annotation attends over the grid
 * with an MLP, gates the context with beta = sigmoid(f_beta(h)) and predicts each word through
 * the deep output layer. The model is immutable after loading and may be shared by threads;
 * each image uses its own run. training/caption_model.py is the PyTorch twin. */
#ifndef ATTN_SAT_H
#define ATTN_SAT_H

#include "attn_model_dir.h"
#include "attn_seq2seq.h"

#define ATTN_SAT_MAX_CONV 8
#define ATTN_SAT_MAX_SUPPRESS 8
#define ATTN_SAT_MAX_HEDGE 4        /* groups of config "hedge" */
#define ATTN_SAT_MAX_HEDGE_WORDS 32 /* specific words per group */

/* Backing off to a generic word (config "hedge"; training/caption_model.py hedge_logprobs): at
 * each step, every specific word of a group (man, girl, ...) below min_prob is not generated and
 * the generic word (person) gets the probability of the likeliest of them on top of its own. */
typedef struct attn_sat_hedge {
  int generic, n;
  int words[ATTN_SAT_MAX_HEDGE_WORDS];
} attn_sat_hedge;

typedef struct attn_sat attn_sat;
typedef struct attn_sat_run attn_sat_run;

typedef struct attn_sat_dims {
  int vocab, embed, hidden, attn_dim;
  int image_size;                   /* the square input, in pixels */
  int n_conv;                       /* 3x3 convolutions (padding 1, ReLU) */
  int channels[ATTN_SAT_MAX_CONV];  /* output channels of each */
  int pool[ATTN_SAT_MAX_CONV];      /* 1: 2x2 max-pooling after it */
  int grid;                         /* cells per side of the annotation grid */
  int cells, ann;                   /* L = grid * grid annotations of ann (= last channels) floats */
  int max_length;                   /* most output words, </s> included */
  int pad, eos, decoder_start;
  int suppress[ATTN_SAT_MAX_SUPPRESS]; /* tokens never generated besides pad (config suppress_token_ids) */
  int n_suppress;
  attn_sat_hedge hedge[ATTN_SAT_MAX_HEDGE];
  int n_hedge;
  float hedge_min;                  /* the specific words' probability threshold, (0, 1] */
  int trunk;                        /* 1: a pretrained MobileNetV2 trunk (attn_mobilenet.h) replaces the convolutions */
} attn_sat_dims;

/* Reads config.json ("ShowAttendTell") and the tensors. Returns NULL on failure. */
attn_sat *attn_sat_load(const attn_model_dir *dir, attn_error *err);
void attn_sat_free(attn_sat *m); /* NULL is fine */
const attn_sat_dims *attn_sat_model_dims(const attn_sat *m);
/* The pretrained trunk, or NULL when the model has its own convolutions (for benchmarks). */
const struct attn_mobilenet *attn_sat_trunk(const attn_sat *m);

/* Encodes an image of image_size x image_size pixels (interleaved RGB floats in [0, 1],
 * row-major) and sets up `capacity` decoder states for outputs of at most max_len
 * (<= max_length) words. NULL on failure. */
attn_sat_run *attn_sat_run_new(const attn_sat *m, const float *rgb, int capacity, int max_len, attn_error *err);
void attn_sat_run_free(attn_sat_run *run); /* NULL is fine */

/* The annotations a_i [L][ann] (cells row-major) and the initial LSTM state h0, c0
 * [hidden], owned by the run. */
const float *attn_sat_run_annotations(const attn_sat_run *run);
const float *attn_sat_run_h0(const attn_sat_run *run);
const float *attn_sat_run_c0(const attn_sat_run *run);

/* One decoder step for k hypotheses fed tokens[i]: raw logits [k][vocab] (before
 * log-softmax), attention weights [k][L] and the gate beta [k]; each hypothesis's state
 * advances. */
attn_status attn_sat_step(attn_sat_run *run, const int32_t *tokens, int k, int step, float *logits, float *alpha,
                          float *beta, attn_error *err);

/* The search interface: step writes log-probs (pad = -inf) and, per hypothesis, keys = L + 1
 * values: the L attention weights, then beta (so that beam search keeps each hypothesis's
 * gate with its attention); reorder copies LSTM states. */
attn_s2s attn_sat_run_s2s(attn_sat_run *run);

#endif
