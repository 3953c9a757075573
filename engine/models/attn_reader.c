/* Attentive reader forward pass on OpenBLAS; training/attentive_reader.py is its PyTorch
 * twin and tests/test_reader.c compares the two. */
#include "attn_reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_ops.h"

/* E = embed, H = hidden (per direction), A = attn_dim, V = vocab. Every Linear is PyTorch
 * layout (y = x W^T); GRU gates in PyTorch order r, z, n. Direction 0 is forward, 1 is
 * backward (PyTorch's ..._reverse tensors). */
typedef struct gru {
  float *w_ih[2], *w_hh[2]; /* [3H, E], [3H, H] */
  float *b_ih[2], *b_hh[2]; /* [3H] */
} gru;

struct attn_attentive_reader {
  attn_attentive_reader_dims dims;
  float *data;        /* one allocation holding every tensor below */
  float *embed;       /* [V, E] */
  gru doc, question;
  float *attn_doc;    /* [A, 2H]  W_ym */
  float *attn_query;  /* [A, 2H]  W_um */
  float *attn_v;      /* [1, A]   w_ms */
  float *combine_r;   /* [2H, 2H] W_rg */
  float *combine_u;   /* [2H, 2H] W_ug */
  float *out_w, *out_b; /* [V, 2H], [V] */
};

/* ---- loading ---- */

typedef struct weight {
  const char *name;
  int64_t d0, d1; /* d1 == 0: a vector */
  float **dst;
} weight;

static int gru_table(gru *g, const char *prefix, int64_t E, int64_t H, weight *t, char names[][48]) {
  static const char *const parts[] = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"};
  int n = 0;
  for (int dir = 0; dir < 2; dir++)
    for (int p = 0; p < 4; p++, n++) {
      snprintf(names[n], 48, "%s.%s%s", prefix, parts[p], dir ? "_reverse" : "");
      float **dst[] = {&g->w_ih[dir], &g->w_hh[dir], &g->b_ih[dir], &g->b_hh[dir]};
      t[n] = (weight){names[n], 3 * H, p == 0 ? E : p == 1 ? H : 0, dst[p]};
    }
  return n;
}

/* The tensors the model needs, with their expected shapes; returns how many. */
static int weight_table(attn_attentive_reader *m, weight *t, char names[][48]) {
  const attn_attentive_reader_dims *D = &m->dims;
  int64_t V = D->vocab, E = D->embed, H = D->hidden, A = D->attn_dim;
  int n = gru_table(&m->doc, "doc_rnn", E, H, t, names);
  n += gru_table(&m->question, "question_rnn", E, H, t + n, names + n);
  weight rest[] = {
      {"embed.weight", V, E, &m->embed},           {"attn.doc.weight", A, 2 * H, &m->attn_doc},
      {"attn.query.weight", A, 2 * H, &m->attn_query}, {"attn.v.weight", 1, A, &m->attn_v},
      {"combine.r.weight", 2 * H, 2 * H, &m->combine_r}, {"combine.u.weight", 2 * H, 2 * H, &m->combine_u},
      {"out.weight", V, 2 * H, &m->out_w},          {"out.bias", V, 0, &m->out_b},
  };
  memcpy(t + n, rest, sizeof rest);
  return n + (int)(sizeof rest / sizeof rest[0]);
}

static attn_status load_weights(attn_attentive_reader *m, const attn_model_dir *dir, attn_error *err) {
  weight table[32];
  char names[16][48];
  attn_tensor_spec specs[32];
  float **dst[32];
  int n = weight_table(m, table, names);
  for (int i = 0; i < n; i++) {
    int vec = table[i].d1 == 0;
    specs[i] = (attn_tensor_spec){table[i].name, vec ? 1 : 2, {table[i].d0, vec ? 0 : table[i].d1}};
    dst[i] = table[i].dst;
  }
  return attn_model_dir_load_all(dir, specs, dst, n, &m->data, err);
}

static attn_status read_config(attn_attentive_reader_dims *D, const cJSON *cfg, attn_error *err) {
  const int big = 1 << 14;
  int ok = attn_config_int(cfg, "vocab_size", ATTN_CONFIG_REQUIRED_INT, 2, 1 << 20, &D->vocab, err) == ATTN_OK;
  ok = ok && attn_config_int(cfg, "embed_dim", ATTN_CONFIG_REQUIRED_INT, 1, big, &D->embed, err) == ATTN_OK;
  ok = ok && attn_config_int(cfg, "hidden", ATTN_CONFIG_REQUIRED_INT, 1, big, &D->hidden, err) == ATTN_OK;
  ok = ok && attn_config_int(cfg, "attn_dim", ATTN_CONFIG_REQUIRED_INT, 1, big, &D->attn_dim, err) == ATTN_OK;
  ok = ok && attn_config_int(cfg, "max_sentences", 50, 1, 4096, &D->max_sentences, err) == ATTN_OK;
  ok = ok && attn_config_int(cfg, "max_sentence_words", 32, 1, 1024, &D->max_sentence_words, err) == ATTN_OK;
  return ok ? ATTN_OK : err ? err->code : ATTN_E_FORMAT;
}

void attn_attentive_reader_free(attn_attentive_reader *m) {
  if (!m) return;
  free(m->data);
  free(m);
}

attn_attentive_reader *attn_attentive_reader_load(const attn_model_dir *dir, attn_error *err) {
  attn_attentive_reader *m = calloc(1, sizeof *m);
  if (!m) {
    attn_error_set(err, ATTN_E_NOMEM, "out of memory loading the model");
    return NULL;
  }
  attn_status st = read_config(&m->dims, attn_model_dir_config(dir), err);
  if (st == ATTN_OK) st = load_weights(m, dir, err);
  if (st != ATTN_OK) {
    attn_attentive_reader_free(m);
    return NULL;
  }
  return m;
}

const attn_attentive_reader_dims *attn_attentive_reader_model_dims(const attn_attentive_reader *m) {
  return &m->dims;
}

/* ---- forward ---- */

typedef struct scratch {
  float *x;      /* [T, E] embeddings (the question's fit too: q_len <= T is not assumed) */
  float *gi;     /* [T, 3H] input projections of one direction */
  float *gh;     /* [3H] */
  float *y;      /* [T, 2H] document states [forward; backward] */
  float *m;      /* [T, A] */
  float *u, *r, *g, *h; /* [2H] each; h uses H */
  float *qa;     /* [A] W_um u */
} scratch;

/* Runs both directions of g over ids; states (if not NULL) gets [T, 2H]; final gets
 * [forward after the last id; backward after the first] (zeros when T = 0). */
static void encode(const attn_attentive_reader *m, const gru *g, const int32_t *ids, int T, scratch *s,
                   float *states, float *final) {
  const attn_attentive_reader_dims *D = &m->dims;
  int E = D->embed, H = D->hidden;
  memset(final, 0, (size_t)2 * H * sizeof(float));
  if (T == 0) return;
  attn_embedding(s->x, m->embed, ids, T, E, D->vocab, 1.0f);
  for (int dir = 0; dir < 2; dir++) {
    attn_linear(s->gi, s->x, g->w_ih[dir], g->b_ih[dir], T, E, 3 * H);
    memset(s->h, 0, (size_t)H * sizeof(float));
    for (int k = 0; k < T; k++) {
      int pos = dir == 0 ? k : T - 1 - k;
      attn_matvec(s->gh, g->w_hh[dir], s->h, g->b_hh[dir], 3 * H, H);
      attn_gru_update(s->h, s->gi + (size_t)pos * 3 * H, s->gh, H);
      if (states) memcpy(states + (size_t)pos * 2 * H + (size_t)dir * H, s->h, (size_t)H * sizeof(float));
    }
    memcpy(final + (size_t)dir * H, s->h, (size_t)H * sizeof(float));
  }
}

/* s_t = softmax_t(w . tanh(W_ym y_t + W_um u)); r = sum_t s_t y_t; g = tanh(W_rg r + W_ug u);
 * logits = W_out g + b. */
static void attend_and_answer(const attn_attentive_reader *m, int T, scratch *s, float *logits, float *attn) {
  const attn_attentive_reader_dims *D = &m->dims;
  int H2 = 2 * D->hidden, A = D->attn_dim;
  attn_linear(s->m, s->y, m->attn_doc, NULL, T, H2, A);
  attn_matvec(s->qa, m->attn_query, s->u, NULL, A, H2);
  for (int t = 0; t < T; t++) attn_add(s->m + (size_t)t * A, s->qa, A);
  attn_tanh(s->m, (int64_t)T * A);
  attn_matvec(attn, s->m, m->attn_v, NULL, T, A);
  attn_softmax(attn, 1, T);
  attn_gemm(0, 0, 1, H2, T, 1.0f, attn, T, s->y, H2, 0.0f, s->r, H2);
  attn_matvec(s->g, m->combine_r, s->r, NULL, H2, H2);
  attn_matvec(s->h, m->combine_u, s->u, NULL, H2, H2);
  attn_add(s->g, s->h, H2);
  attn_tanh(s->g, H2);
  attn_matvec(logits, m->out_w, s->g, m->out_b, D->vocab, H2);
}

static attn_status check_input(const attn_attentive_reader *m, const int32_t *doc, int T, const int32_t *question,
                               int q_len, attn_error *err) {
  const attn_attentive_reader_dims *D = &m->dims;
  int64_t max_t = (int64_t)D->max_sentences * (D->max_sentence_words + 1);
  if (T < 1 || T > max_t)
    return attn_error_set(err, ATTN_E_ARG, "a document of %d words: the model reads 1 to %lld", T, (long long)max_t);
  if (q_len < 0 || q_len > D->max_sentence_words)
    return attn_error_set(err, ATTN_E_ARG, "a question of %d words: the model reads at most %d", q_len,
                          D->max_sentence_words);
  for (int i = 0; i < T + q_len; i++) {
    int32_t id = i < T ? doc[i] : question[i - T];
    if (id < 1 || id >= D->vocab) return attn_error_set(err, ATTN_E_VALUE, "word id %d is outside 1..%d", id, D->vocab - 1);
  }
  return ATTN_OK;
}

attn_status attn_attentive_reader_forward(const attn_attentive_reader *m, const int32_t *doc, int T,
                                          const int32_t *question, int q_len, float *logits, float *attn,
                                          attn_error *err) {
  attn_status st = check_input(m, doc, T, question, q_len, err);
  if (st != ATTN_OK) return st;
  const attn_attentive_reader_dims *D = &m->dims;
  size_t t = (size_t)(T > q_len ? T : q_len), H = (size_t)D->hidden;
  scratch s = {0};
  s.x = malloc(t * (size_t)D->embed * sizeof(float)), s.gi = malloc(t * 3 * H * sizeof(float));
  s.gh = malloc(3 * H * sizeof(float)), s.y = malloc(t * 2 * H * sizeof(float));
  s.m = malloc(t * (size_t)D->attn_dim * sizeof(float)), s.qa = malloc((size_t)D->attn_dim * sizeof(float));
  s.u = malloc(2 * H * sizeof(float)), s.r = malloc(2 * H * sizeof(float));
  s.g = malloc(2 * H * sizeof(float)), s.h = malloc(2 * H * sizeof(float));
  float *bufs[] = {s.x, s.gi, s.gh, s.y, s.m, s.qa, s.u, s.r, s.g, s.h};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
    if (!bufs[i]) st = attn_error_set(err, ATTN_E_NOMEM, "out of memory for a document of %d words", T);
  if (st == ATTN_OK) {
    encode(m, &m->question, question, q_len, &s, NULL, s.u);
    encode(m, &m->doc, doc, T, &s, s.y, s.r); /* the document's final states are not used */
    attend_and_answer(m, T, &s, logits, attn);
  }
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
  return st;
}
