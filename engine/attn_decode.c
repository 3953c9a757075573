/* Greedy and beam search over any attn_s2s model, keeping each hypothesis's attention. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attn_ops.h"
#include "attn_seq2seq.h"

void attn_s2s_hyp_clear(attn_s2s_hyp *h) {
  if (!h) return;
  free(h->ids);
  free(h->probs);
  free(h->cross);
  free(h->cand_ids);
  free(h->cand_probs);
  memset(h, 0, sizeof *h);
}

/* The K most probable tokens of a log-prob row, best first (lowest id on ties), as probabilities. */
static void step_candidates(const float *lp, int vocab, int32_t *ids, float *probs) {
  enum { K = ATTN_S2S_CANDIDATES };
  int have = 0;
  for (int v = 0; v < vocab; v++) {
    if (have == K && !(lp[v] > lp[ids[K - 1]])) continue;
    int at = have < K ? have++ : K - 1;
    while (at > 0 && lp[v] > lp[ids[at - 1]]) {
      ids[at] = ids[at - 1];
      at--;
    }
    ids[at] = v;
  }
  for (int j = 0; j < K; j++) {
    if (j >= have) ids[j] = ids[have ? have - 1 : 0];
    probs[j] = j < have ? expf(lp[ids[j]]) : 0.0f;
  }
}

/* A copy of parent extended by one token chosen from the log-prob row lp (vocab wide); -1 when
 * out of memory. */
static int hyp_extend(attn_s2s_hyp *dst, const attn_s2s_hyp *parent, int32_t tok, const float *lp, int vocab,
                      const float *cross, size_t map_size, double score, const int32_t *cand_ids,
                      const float *cand_probs) {
  int n = parent->n + 1;
  float prob = expf(lp[tok]);
  dst->ids = malloc((size_t)n * sizeof(int32_t));
  dst->probs = malloc((size_t)n * sizeof(float));
  dst->cross = malloc(((size_t)n * map_size + 1) * sizeof(float)); /* map_size 0: a model without attention */
  dst->cand_ids = malloc((size_t)n * ATTN_S2S_CANDIDATES * sizeof(int32_t));
  dst->cand_probs = malloc((size_t)n * ATTN_S2S_CANDIDATES * sizeof(float));
  if (!dst->ids || !dst->probs || !dst->cross || !dst->cand_ids || !dst->cand_probs) {
    attn_s2s_hyp_clear(dst);
    return -1;
  }
  if (parent->n) {
    memcpy(dst->ids, parent->ids, (size_t)parent->n * sizeof(int32_t));
    memcpy(dst->probs, parent->probs, (size_t)parent->n * sizeof(float));
    memcpy(dst->cross, parent->cross, (size_t)parent->n * map_size * sizeof(float));
    memcpy(dst->cand_ids, parent->cand_ids, (size_t)parent->n * ATTN_S2S_CANDIDATES * sizeof(int32_t));
    memcpy(dst->cand_probs, parent->cand_probs, (size_t)parent->n * ATTN_S2S_CANDIDATES * sizeof(float));
  }
  int32_t *ids = dst->cand_ids + (size_t)parent->n * ATTN_S2S_CANDIDATES;
  float *probs = dst->cand_probs + (size_t)parent->n * ATTN_S2S_CANDIDATES;
  if (cand_ids) { /* the row's candidates, already ranked for a sibling */
    memcpy(ids, cand_ids, ATTN_S2S_CANDIDATES * sizeof(int32_t));
    memcpy(probs, cand_probs, ATTN_S2S_CANDIDATES * sizeof(float));
  } else {
    step_candidates(lp, vocab, ids, probs);
  }
  dst->ids[parent->n] = tok;
  dst->probs[parent->n] = prob;
  memcpy(dst->cross + (size_t)parent->n * map_size, cross, map_size * sizeof(float));
  dst->n = n;
  dst->score = score;
  return 0;
}

static attn_status oom(attn_error *err) {
  return attn_error_set(err, ATTN_E_NOMEM, "out of memory while decoding");
}

attn_status attn_greedy(const attn_s2s *m, attn_s2s_hyp *out, attn_error *err) {
  size_t map_size = (size_t)m->n_maps * (size_t)m->keys;
  float *lp = malloc((size_t)m->vocab * sizeof(float));
  float *cross = malloc((map_size ? map_size : 1) * sizeof(float));
  attn_s2s_hyp cur = {0};
  attn_status st = lp && cross ? ATTN_OK : oom(err);
  int32_t tok = m->start_token;
  for (int step = 0; st == ATTN_OK && step < m->max_len; step++) {
    st = m->step(m->self, &tok, 1, step, lp, cross, err);
    if (st != ATTN_OK) break;
    tok = attn_argmax(lp, m->vocab);
    attn_s2s_hyp next = {0};
    if (hyp_extend(&next, &cur, tok, lp, m->vocab, cross, map_size, cur.score + lp[tok], NULL, NULL) != 0)
      st = oom(err);
    attn_s2s_hyp_clear(&cur);
    cur = next;
    if (tok == m->eos) break;
  }
  free(lp);
  free(cross);
  if (st != ATTN_OK) {
    attn_s2s_hyp_clear(&cur);
    return st;
  }
  cur.normalized = cur.n ? cur.score / cur.n : 0.0;
  *out = cur;
  return ATTN_OK;
}

/* ---- beam search ---- */

typedef struct cand {
  float score;
  int index; /* beam * vocab + token */
} cand;

/* Keeps the n best (score desc, index asc) of all finite scores base[row] + lp[row][v] (as
 * float, the sum the ranking has always used), by insertion, without storing the sums. */
static int top_candidates(const float *lp, const double *base, int rows, int vocab, cand *top, int n) {
  int have = 0;
  for (int r = 0; r < rows; r++) {
    const float *row = lp + (size_t)r * vocab;
    for (int v = 0; v < vocab; v++) {
      float s = (float)(base[r] + row[v]);
      if (!isfinite(s) || (have == n && s <= top[n - 1].score)) continue;
      int at = have < n ? have++ : n - 1;
      while (at > 0 && top[at - 1].score < s) {
        top[at] = top[at - 1];
        at--;
      }
      top[at] = (cand){s, r * vocab + v};
    }
  }
  return have;
}

typedef struct beam_state {
  const attn_s2s *m;
  int beam;
  double alpha;
  size_t map_size;
  attn_s2s_hyp live[8], next[8], finished[64];
  int n_live, n_next, n_finished;
  int32_t order[8];
} beam_state;

static double norm_score(double score, int len, double alpha) { return score / pow(len, alpha); }

/* One step's bookkeeping: ranks the candidates and fills next/finished. */
static attn_status beam_expand(beam_state *b, const float *lp, const float *cross, int last, attn_error *err) {
  const attn_s2s *m = b->m;
  cand top[16];
  double base[8];
  for (int h = 0; h < b->n_live; h++) base[h] = b->live[h].score;
  int n = top_candidates(lp, base, b->n_live, m->vocab, top, 2 * b->beam);
  int32_t cand_ids[8][ATTN_S2S_CANDIDATES]; /* each live row's next-token candidates, once */
  float cand_probs[8][ATTN_S2S_CANDIDATES];
  int ranked[8] = {0};
  b->n_next = 0;
  for (int r = 0; r < n && b->n_next < b->beam; r++) {
    int h = top[r].index / m->vocab, tok = top[r].index % m->vocab;
    int to_finish = tok == m->eos;
    if (to_finish && (r >= b->beam || b->n_finished >= 64)) continue;
    attn_s2s_hyp *dst = to_finish ? &b->finished[b->n_finished++] : &b->next[b->n_next];
    const float *row = lp + (size_t)h * m->vocab;
    if (!ranked[h]) step_candidates(row, m->vocab, cand_ids[h], cand_probs[h]), ranked[h] = 1;
    if (hyp_extend(dst, &b->live[h], tok, row, m->vocab, cross + (size_t)h * b->map_size, b->map_size,
                   top[r].score, cand_ids[h], cand_probs[h]) != 0)
      return oom(err);
    if (!to_finish) b->order[b->n_next++] = h;
  }
  for (int h = 0; h < b->n_live; h++) attn_s2s_hyp_clear(&b->live[h]);
  memcpy(b->live, b->next, sizeof b->next);
  memset(b->next, 0, sizeof b->next);
  b->n_live = b->n_next;
  if (last) {
    for (int h = 0; h < b->n_live && b->n_finished < 64; h++) b->finished[b->n_finished++] = b->live[h];
    for (int h = b->n_live; h < 8; h++) attn_s2s_hyp_clear(&b->live[h]);
    memset(b->live, 0, sizeof b->live);
    b->n_live = 0;
  }
  return ATTN_OK;
}

static int cmp_double_desc(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x < y) - (x > y);
}

/* Stop once `beam` hypotheses are finished and the beam-th best of them is at least as
 * good as the best live score normalised by the current length. */
static int beam_done(const beam_state *b, int step) {
  if (b->n_finished < b->beam) return 0;
  double norms[64];
  for (int i = 0; i < b->n_finished; i++) norms[i] = norm_score(b->finished[i].score, b->finished[i].n, b->alpha);
  qsort(norms, (size_t)b->n_finished, sizeof(double), cmp_double_desc);
  double best_live = -INFINITY;
  for (int h = 0; h < b->n_live; h++) best_live = fmax(best_live, b->live[h].score);
  return norms[b->beam - 1] >= best_live / pow(step + 1, b->alpha);
}

/* Sorts finished hypotheses best first, stable, and moves the best `beam` to out. */
static void beam_collect(beam_state *b, attn_s2s_hyp *out, int *n_out) {
  for (int i = 0; i < b->n_finished; i++) b->finished[i].normalized = norm_score(b->finished[i].score, b->finished[i].n, b->alpha);
  for (int i = 1; i < b->n_finished; i++) { /* insertion sort: stable */
    attn_s2s_hyp h = b->finished[i];
    int j = i;
    for (; j > 0 && b->finished[j - 1].normalized < h.normalized; j--) b->finished[j] = b->finished[j - 1];
    b->finished[j] = h;
  }
  *n_out = b->n_finished < b->beam ? b->n_finished : b->beam;
  for (int i = 0; i < b->n_finished; i++) {
    if (i < *n_out) out[i] = b->finished[i];
    else attn_s2s_hyp_clear(&b->finished[i]);
  }
  b->n_finished = 0; /* now owned by out */
}

static void beam_free(beam_state *b) {
  for (int i = 0; i < 8; i++) attn_s2s_hyp_clear(&b->live[i]), attn_s2s_hyp_clear(&b->next[i]);
  for (int i = 0; i < b->n_finished; i++) attn_s2s_hyp_clear(&b->finished[i]);
}

attn_status attn_beam(const attn_s2s *m, int beam, double alpha, attn_s2s_hyp *out, int *n_out,
                      attn_error *err) {
  if (beam < 1 || beam > 8 || beam > m->capacity)
    return attn_error_set(err, ATTN_E_ARG, "beam size %d is not between 1 and 8", beam);
  beam_state *b = calloc(1, sizeof *b);
  if (!b) return oom(err);
  *b = (beam_state){.m = m, .beam = beam, .alpha = alpha, .map_size = (size_t)m->n_maps * m->keys, .n_live = 1};
  float *lp = malloc((size_t)beam * m->vocab * sizeof(float));
  float *cross = malloc((size_t)beam * (b->map_size ? b->map_size : 1) * sizeof(float));
  attn_status st = lp && cross ? ATTN_OK : oom(err);
  int32_t tokens[8];
  for (int step = 0; st == ATTN_OK && step < m->max_len; step++) {
    for (int h = 0; h < b->n_live; h++) tokens[h] = b->live[h].n ? b->live[h].ids[b->live[h].n - 1] : m->start_token;
    st = m->step(m->self, tokens, b->n_live, step, lp, cross, err);
    if (st == ATTN_OK) st = beam_expand(b, lp, cross, step == m->max_len - 1, err);
    if (st != ATTN_OK || b->n_live == 0 || beam_done(b, step)) break;
    m->reorder(m->self, b->order, b->n_live);
  }
  if (st == ATTN_OK) beam_collect(b, out, n_out);
  beam_free(b);
  free(lp), free(cross), free(b);
  return st;
}
