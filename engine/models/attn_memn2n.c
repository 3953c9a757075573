/* MemN2N forward pass on OpenBLAS; training/memn2n.py is its PyTorch twin and
 * tests/test_memn2n.c compares the two. */
#include "attn_memn2n.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_ops.h"

#define MAX_HOPS 16

/* V = vocab, d = embed, K = hops, M = memory_size. Adjacent tying: hop k reads its keys
 * from E[k-1] and its values from E[k]; the question uses E[0]; the answer is E[K] u. */
struct attn_memn2n {
  attn_memn2n_dims dims;
  float *data;                 /* one allocation holding every tensor below */
  float *embed[MAX_HOPS + 1];  /* [V, d] each, E_0 .. E_K */
  float *temporal[MAX_HOPS + 1]; /* [M, d] each, T_0 .. T_K; row 0 is the newest sentence */
};

/* ---- loading ---- */

static attn_status read_config(attn_memn2n_dims *D, const cJSON *cfg, attn_error *err) {
  const char *file = cfg->string ? cfg->string : "config.json", *tying = "adjacent";
  int pe = 1, te = 1, ok = attn_config_int(cfg, "vocab_size", ATTN_CONFIG_REQUIRED_INT, 2, 1 << 20, &D->vocab, err) == ATTN_OK;
  ok = ok && attn_config_int(cfg, "embed_dim", ATTN_CONFIG_REQUIRED_INT, 1, 1 << 14, &D->embed, err) == ATTN_OK;
  ok = ok && attn_config_int(cfg, "hops", ATTN_CONFIG_REQUIRED_INT, 1, MAX_HOPS, &D->hops, err) == ATTN_OK;
  ok = ok && attn_config_int(cfg, "memory_size", ATTN_CONFIG_REQUIRED_INT, 1, 4096, &D->memory_size, err) == ATTN_OK;
  ok = ok && attn_config_int(cfg, "max_sentence_words", 32, 1, 1024, &D->max_sentence_words, err) == ATTN_OK;
  ok = ok && attn_config_bool(cfg, "position_encoding", 1, &pe, err) == ATTN_OK;
  ok = ok && attn_config_bool(cfg, "temporal_encoding", 1, &te, err) == ATTN_OK;
  ok = ok && attn_config_string(cfg, "weight_tying", "adjacent", &tying, err) == ATTN_OK;
  if (!ok) return err ? err->code : ATTN_E_FORMAT;
  if (!pe || !te || strcmp(tying, "adjacent") != 0)
    return attn_error_set(err, ATTN_E_VALUE,
                          "%s: only MemN2N with position and temporal encoding and adjacent weight tying is supported",
                          file);
  return ATTN_OK;
}

/* Checks every tensor's dtype and shape before allocating, then loads them as F32 into
 * one allocation. */
static attn_status load_weights(attn_memn2n *m, const attn_model_dir *dir, attn_error *err) {
  const attn_memn2n_dims *D = &m->dims;
  int n = 2 * (D->hops + 1);
  char names[2 * (MAX_HOPS + 1)][32];
  attn_tensor_spec specs[2 * (MAX_HOPS + 1)];
  float **dst[2 * (MAX_HOPS + 1)];
  for (int i = 0; i < n; i++) {
    int k = i / 2, emb = i % 2 == 0;
    snprintf(names[i], sizeof names[i], emb ? "embed.%d.weight" : "temporal.%d.weight", k);
    specs[i] = (attn_tensor_spec){names[i], 2, {emb ? D->vocab : D->memory_size, D->embed}};
    dst[i] = emb ? &m->embed[k] : &m->temporal[k];
  }
  return attn_model_dir_load_all(dir, specs, dst, n, &m->data, err);
}

void attn_memn2n_free(attn_memn2n *m) {
  if (!m) return;
  free(m->data);
  free(m);
}

attn_memn2n *attn_memn2n_load(const attn_model_dir *dir, attn_error *err) {
  attn_memn2n *m = calloc(1, sizeof *m);
  if (!m) {
    attn_error_set(err, ATTN_E_NOMEM, "out of memory loading the model");
    return NULL;
  }
  attn_status st = read_config(&m->dims, attn_model_dir_config(dir), err);
  if (st == ATTN_OK) st = load_weights(m, dir, err);
  if (st != ATTN_OK) {
    attn_memn2n_free(m);
    return NULL;
  }
  return m;
}

const attn_memn2n_dims *attn_memn2n_model_dims(const attn_memn2n *m) { return &m->dims; }

/* ---- forward ---- */

/* out[d] = sum_j l_kj E[ids[j]] over a J-word sentence, with the paper's position encoding
 * l_kj = (1 - j/J) - (k/d)(1 - 2j/J), j and k from 1, in double rounded to float as the twin. */
static void bag_of_words(float *out, const float *E, const int32_t *ids, int J, int d) {
  memset(out, 0, (size_t)d * sizeof(float));
  for (int j = 1; j <= J; j++) {
    const float *row = E + (size_t)ids[j - 1] * d;
    double jJ = (double)j / J;
    for (int k = 1; k <= d; k++) {
      float l = (float)((1.0 - jJ) - ((double)k / d) * (1.0 - 2.0 * jJ));
      out[k - 1] += l * row[k - 1];
    }
  }
}

/* bag[i] = PE bag of sentence i under E_k + T_k[n - 1 - i], for every sentence. */
static void memories(const attn_memn2n *m, int k, const int32_t *words, const int *lens, int n, float *bag) {
  int d = m->dims.embed;
  const int32_t *at = words;
  for (int i = 0; i < n; i++) {
    float *row = bag + (size_t)i * d;
    bag_of_words(row, m->embed[k], at, lens[i], d);
    attn_add(row, m->temporal[k] + (size_t)(n - 1 - i) * d, d);
    at += lens[i];
  }
}

static attn_status check_input(const attn_memn2n *m, const int32_t *words, const int *lens, int n,
                               const int32_t *question, int q_len, attn_error *err) {
  const attn_memn2n_dims *D = &m->dims;
  if (n < 1 || n > D->memory_size)
    return attn_error_set(err, ATTN_E_ARG, "a story of %d sentences: the model reads 1 to %d", n, D->memory_size);
  if (q_len < 0 || q_len > D->max_sentence_words)
    return attn_error_set(err, ATTN_E_ARG, "a question of %d words: the model reads at most %d", q_len,
                          D->max_sentence_words);
  int total = 0;
  for (int i = 0; i < n; i++) {
    if (lens[i] < 0 || lens[i] > D->max_sentence_words)
      return attn_error_set(err, ATTN_E_ARG, "sentence %d has %d words: the model reads at most %d", i + 1, lens[i],
                            D->max_sentence_words);
    total += lens[i];
  }
  for (int i = 0; i < total + q_len; i++) {
    int32_t id = i < total ? words[i] : question[i - total];
    if (id < 1 || id >= D->vocab) return attn_error_set(err, ATTN_E_VALUE, "word id %d is outside 1..%d", id, D->vocab - 1);
  }
  return ATTN_OK;
}

attn_status attn_memn2n_forward(const attn_memn2n *m, const int32_t *words, const int *lens, int n,
                                const int32_t *question, int q_len, float *logits, float *hops, attn_error *err) {
  attn_status st = check_input(m, words, lens, n, question, q_len, err);
  if (st != ATTN_OK) return st;
  const attn_memn2n_dims *D = &m->dims;
  int d = D->embed, K = D->hops;
  /* keys and values of the current hop, u and o */
  float *keys = malloc((size_t)n * d * sizeof(float)), *values = malloc((size_t)n * d * sizeof(float));
  float *u = malloc((size_t)d * sizeof(float)), *o = malloc((size_t)d * sizeof(float));
  if (!keys || !values || !u || !o) st = attn_error_set(err, ATTN_E_NOMEM, "out of memory for %d sentences", n);
  if (st == ATTN_OK) {
    bag_of_words(u, m->embed[0], question, q_len, d);
    memories(m, 0, words, lens, n, keys);
    for (int k = 1; k <= K; k++) {
      float *p = hops + (size_t)(k - 1) * n;
      memories(m, k, words, lens, n, values);
      attn_matvec(p, keys, u, NULL, n, d);
      attn_softmax(p, 1, n);
      attn_gemm(0, 0, 1, d, n, 1.0f, p, n, values, d, 0.0f, o, d);
      attn_add(u, o, d);
      float *swap = keys; /* hop k's values are hop k+1's keys (A^{k+1} = C^k) */
      keys = values, values = swap;
    }
    attn_matvec(logits, m->embed[K], u, NULL, D->vocab, d);
  }
  free(keys), free(values), free(u), free(o);
  return st;
}
