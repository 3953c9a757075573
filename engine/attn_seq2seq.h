/* What greedy and beam search need from an encoder-decoder model, whatever its
 * architecture: advance k hypotheses by one token, and rearrange their states. Search
 * lives in attn_decode.c and serves the RNN, the Transformer and the caption model. */
#ifndef ATTN_SEQ2SEQ_H
#define ATTN_SEQ2SEQ_H

#include <stdint.h>

#include "attn_error.h"

typedef struct attn_s2s {
  int vocab;         /* size of each log-prob row */
  int keys;          /* attention columns per map (source pieces, image cells) */
  int n_maps;        /* cross-attention maps per step (layers x heads, or 1) */
  int capacity;      /* most hypotheses step() accepts at once */
  int start_token;   /* the decoder's first input */
  int eos;           /* ends a hypothesis */
  int max_len;       /* most output tokens, </s> included */
  void *self;
  /* Feeds tokens[i] to hypothesis i (i < k) at position `step`; writes log-probs
   * [k][vocab] and cross-attention [k][n_maps][keys]. */
  attn_status (*step)(void *self, const int32_t *tokens, int k, int step, float *logprobs,
                      float *cross, attn_error *err);
  /* Hypothesis i takes over the decoder state of hypothesis parents[i] (i < k). */
  void (*reorder)(void *self, const int32_t *parents, int k);
} attn_s2s;

/* A finished hypothesis: ids (ending in eos unless cut at max_len), the probability of
 * each, and its cross-attention [n][n_maps][keys]. */
#define ATTN_S2S_CANDIDATES 5 /* next-token candidates kept per step (step-through decoding) */

typedef struct attn_s2s_hyp {
  int n;
  int32_t *ids;
  float *probs;
  float *cross;
  int32_t *cand_ids;  /* [n][ATTN_S2S_CANDIDATES]: the most probable tokens at each step, best first */
  float *cand_probs;  /* [n][ATTN_S2S_CANDIDATES] */
  double score;      /* summed log-probability */
  double normalized; /* score / n^alpha */
} attn_s2s_hyp;

void attn_s2s_hyp_clear(attn_s2s_hyp *h);

/* Greedy: the most probable token at each step (first on ties), until eos or max_len. */
attn_status attn_greedy(const attn_s2s *m, attn_s2s_hyp *out, attn_error *err);

/* Beam search with length normalisation (score / len^alpha, len counting </s>), the
 * same algorithm as training/transformer.py's beam_search. Fills out[0..*n_out), best
 * first, at most `beam` (1..8) hypotheses. */
attn_status attn_beam(const attn_s2s *m, int beam, double alpha, attn_s2s_hyp *out, int *n_out,
                      attn_error *err);

#endif
