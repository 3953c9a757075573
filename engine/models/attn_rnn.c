/* Bahdanau RNN forward pass on OpenBLAS; training/rnn_attn.py is its PyTorch twin and
 * tests/test_rnn.c compares the two. */
#include "attn_rnn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attn_ops.h"
#include "attn_util.h"

/* He = enc_hidden, Hd = dec_hidden, Em = embed, A = attn_dim, M = maxout, V = vocab.
 * Every Linear is PyTorch layout: y = x W^T + b with W [out, in]. GRU gates in PyTorch
 * order r, z, n (row blocks of the weight matrices). */
struct attn_rnn {
  attn_rnn_dims dims;
  float *data;               /* one allocation holding every tensor below */
  float *embed;              /* [V, Em] source and target embedding, also the output layer */
  float *enc_w_ih[2];        /* [3He, Em] forward [0] and backward [1] (..._reverse) */
  float *enc_w_hh[2];        /* [3He, He] */
  float *enc_b_ih[2];        /* [3He] */
  float *enc_b_hh[2];        /* [3He] */
  float *init_w, *init_b;    /* [Hd, He], [Hd]: s0 = tanh(init(backward state at position 0)) */
  float *attn_w, *attn_b;    /* [A, Hd], [A]: W_a s_{i-1} + b (these three: NULL without attention) */
  float *attn_u;             /* [A, 2He]: U_a h_j, no bias */
  float *attn_v;             /* [1, A] */
  float *cell_w_ih, *cell_b_ih; /* [3Hd, Em + 2He], [3Hd]: input [E(y_{i-1}); c_i] */
  float *cell_w_hh, *cell_b_hh; /* [3Hd, Hd], [3Hd] */
  float *deep_w, *deep_b;    /* [2M, Hd + Em + 2He], [2M]: input [s_{i-1}; E(y_{i-1}); c_i] */
  float *out_bias;           /* [V] */
  float *seg_start;          /* [V] 1: the piece starts a segment (only with dims.segments) */
  float *seg_alone;          /* [V] 1: the piece is a segment alone, e.g. punctuation */
  /* half copies of the weights read once per step (in `halves`), or NULL: a decoder step reads
     each of them once, an encoder step its recurrent matrix, and halves halve those bytes */
  uint16_t *embed_h, *attn_w_h, *cell_w_ih_h, *cell_w_hh_h, *deep_w_h, *enc_w_hh_h[2];
  attn_half_pool halves; /* where they live */
  /* int8 copies of the decoder's weights for beam steps (attn_q8_available), or empty */
  attn_q8 embed_q8, attn_w_q8, cell_w_ih_q8, cell_w_hh_q8, deep_w_q8;
};

/* ---- loading ---- */

typedef struct weight {
  const char *name;
  int64_t d0, d1; /* d1 == 0: a vector */
  float **dst;
} weight;

/* The tensors the model needs, with their expected shapes; returns how many. */
static int weight_table(attn_rnn *m, weight *t) {
  const attn_rnn_dims *D = &m->dims;
  int64_t V = D->vocab, Em = D->embed, He = D->enc_hidden, Hd = D->dec_hidden, A = D->attn_dim, M = D->maxout;
  weight w[] = {
      {"embed.weight", V, Em, &m->embed},
      {"encoder.gru.weight_ih_l0", 3 * He, Em, &m->enc_w_ih[0]},
      {"encoder.gru.weight_hh_l0", 3 * He, He, &m->enc_w_hh[0]},
      {"encoder.gru.bias_ih_l0", 3 * He, 0, &m->enc_b_ih[0]},
      {"encoder.gru.bias_hh_l0", 3 * He, 0, &m->enc_b_hh[0]},
      {"encoder.gru.weight_ih_l0_reverse", 3 * He, Em, &m->enc_w_ih[1]},
      {"encoder.gru.weight_hh_l0_reverse", 3 * He, He, &m->enc_w_hh[1]},
      {"encoder.gru.bias_ih_l0_reverse", 3 * He, 0, &m->enc_b_ih[1]},
      {"encoder.gru.bias_hh_l0_reverse", 3 * He, 0, &m->enc_b_hh[1]},
      {"decoder.init.weight", Hd, He, &m->init_w},
      {"decoder.init.bias", Hd, 0, &m->init_b},
      {"attn.W.weight", A, Hd, &m->attn_w},
      {"attn.W.bias", A, 0, &m->attn_b},
      {"attn.U.weight", A, 2 * He, &m->attn_u},
      {"attn.v.weight", 1, A, &m->attn_v},
      {"decoder.cell.weight_ih", 3 * Hd, Em + 2 * He, &m->cell_w_ih},
      {"decoder.cell.weight_hh", 3 * Hd, Hd, &m->cell_w_hh},
      {"decoder.cell.bias_ih", 3 * Hd, 0, &m->cell_b_ih},
      {"decoder.cell.bias_hh", 3 * Hd, 0, &m->cell_b_hh},
      {"deep_out.weight", 2 * M, Hd + Em + 2 * He, &m->deep_w},
      {"deep_out.bias", 2 * M, 0, &m->deep_b},
      {"out_bias", V, 0, &m->out_bias},
      {"encoder.segment_start", V, 0, &m->seg_start},
      {"encoder.segment_alone", V, 0, &m->seg_alone},
  };
  int n = 0;
  for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
    if (!D->attention && strncmp(w[i].name, "attn.", 5) == 0) continue;
    if (!D->segments && strncmp(w[i].name, "encoder.segment_", 16) == 0) continue;
    t[n++] = w[i];
  }
  return n;
}

static attn_tensor_spec weight_spec(const weight *w) {
  return (attn_tensor_spec){w->name, w->d1 > 0 ? 2 : 1, {w->d0, w->d1 > 0 ? w->d1 : 0}};
}

/* Checks every tensor's dtype and shape before allocating (a config could claim any
 * size), then carves them out of one allocation and loads them as F32. */
static attn_status load_weights(attn_rnn *m, const attn_model_dir *dir, attn_error *err) {
  weight table[32];
  attn_tensor_spec specs[32];
  float **dst[32];
  int n = weight_table(m, table);
  for (int i = 0; i < n; i++) specs[i] = weight_spec(&table[i]), dst[i] = table[i].dst;
  return attn_model_dir_load_all(dir, specs, dst, n, &m->data, err);
}

static int config_int(const cJSON *cfg, const char *key, int lo, int hi, int *out, attn_error *err) {
  return attn_config_int(cfg, key, ATTN_CONFIG_REQUIRED_INT, lo, hi, out, err) == ATTN_OK;
}

/* Reads and checks the hyper-parameters. */
static attn_status read_config(attn_rnn *m, const cJSON *cfg, attn_error *err) {
  attn_rnn_dims *D = &m->dims;
  const int big = 1 << 14;
  const char *attention = NULL;
  int tied = 1, ok = config_int(cfg, "vocab_size", 4, 1 << 20, &D->vocab, err);
  ok = ok && config_int(cfg, "embed_dim", 1, big, &D->embed, err);
  ok = ok && config_int(cfg, "enc_hidden", 1, big, &D->enc_hidden, err);
  ok = ok && config_int(cfg, "dec_hidden", 1, big, &D->dec_hidden, err);
  ok = ok && attn_config_string(cfg, "attention", "additive", &attention, err) == ATTN_OK;
  if (ok && strcmp(attention, "additive") != 0 && strcmp(attention, "none") != 0)
    return attn_error_set(err, ATTN_E_VALUE, "%s: attention \"%s\" is not supported (additive or none)",
                          cfg->string ? cfg->string : "config.json", attention);
  D->attention = ok && strcmp(attention, "additive") == 0;
  if (D->attention) ok = ok && config_int(cfg, "attn_dim", 1, big, &D->attn_dim, err);
  else D->attn_dim = 0;
  ok = ok && config_int(cfg, "maxout_dim", 1, big, &D->maxout, err);
  ok = ok && attn_config_int(cfg, "max_position_embeddings", 128, 2, 1 << 16, &D->max_positions, err) == ATTN_OK;
  ok = ok && config_int(cfg, "pad_token_id", 0, D->vocab - 1, &D->pad, err);
  ok = ok && config_int(cfg, "eos_token_id", 0, D->vocab - 1, &D->eos, err);
  ok = ok && config_int(cfg, "decoder_start_token_id", 0, D->vocab - 1, &D->decoder_start, err);
  ok = ok && attn_config_bool(cfg, "tie_word_embeddings", 1, &tied, err) == ATTN_OK;
  ok = ok && attn_config_bool(cfg, "encoder_segments", 0, &D->segments, err) == ATTN_OK;
  if (!ok) return err ? err->code : ATTN_E_FORMAT;
  const char *file = cfg->string ? cfg->string : "config.json";
  if (!tied) return attn_error_set(err, ATTN_E_VALUE, "%s: an untied output layer is not supported", file);
  if (D->maxout != D->embed)
    return attn_error_set(err, ATTN_E_VALUE, "%s: maxout_dim %d must equal embed_dim %d (the output layer is tied)",
                          file, D->maxout, D->embed);
  return ATTN_OK;
}

void attn_rnn_free(attn_rnn *m) {
  if (!m) return;
  attn_half_pool_release(&m->halves);
  attn_q8 *q8[] = {&m->embed_q8, &m->attn_w_q8, &m->cell_w_ih_q8, &m->cell_w_hh_q8, &m->deep_w_q8};
  for (size_t i = 0; i < sizeof q8 / sizeof q8[0]; i++) attn_q8_free(q8[i]);
  free(m->data);
  free(m);
}

attn_rnn *attn_rnn_load(const attn_model_dir *dir, attn_error *err) {
  attn_rnn *m = calloc(1, sizeof *m);
  if (!m) {
    attn_error_set(err, ATTN_E_NOMEM, "out of memory loading the model");
    return NULL;
  }
  attn_status st = read_config(m, attn_model_dir_config(dir), err);
  if (st == ATTN_OK) st = load_weights(m, dir, err);
  if (st != ATTN_OK) {
    attn_rnn_free(m);
    return NULL;
  }
  const attn_rnn_dims *D = &m->dims;
  size_t V = (size_t)D->vocab, Em = (size_t)D->embed, He2 = 2 * (size_t)D->enc_hidden, Hd = (size_t)D->dec_hidden;
  size_t n_embed = V * Em, n_attn = (size_t)D->attn_dim * Hd, /* 0 without attention */ n_ih = 3 * Hd * (Em + He2), n_hh = 3 * Hd * Hd;
  size_t n_deep = 2 * (size_t)D->maxout * (Hd + Em + He2), n_enc = 3 * (He2 / 2) * (He2 / 2);
  attn_half_pool *p = &m->halves;
  if (attn_half_pool_init(p, n_embed + n_attn + n_ih + n_hh + n_deep + 2 * n_enc) == 0) {
    m->embed_h = attn_half_pool_copy(p, m->embed, n_embed);
    if (D->attention) m->attn_w_h = attn_half_pool_copy(p, m->attn_w, n_attn);
    m->cell_w_ih_h = attn_half_pool_copy(p, m->cell_w_ih, n_ih);
    m->cell_w_hh_h = attn_half_pool_copy(p, m->cell_w_hh, n_hh);
    m->deep_w_h = attn_half_pool_copy(p, m->deep_w, n_deep);
    for (int d = 0; d < 2; d++) m->enc_w_hh_h[d] = attn_half_pool_copy(p, m->enc_w_hh[d], n_enc);
  }
  if (attn_q8_available()) {
    attn_q8_init(&m->embed_q8, m->embed, D->vocab, D->embed);
    if (D->attention) attn_q8_init(&m->attn_w_q8, m->attn_w, D->attn_dim, D->dec_hidden);
    attn_q8_init(&m->cell_w_ih_q8, m->cell_w_ih, 3 * D->dec_hidden, D->embed + 2 * D->enc_hidden);
    attn_q8_init(&m->cell_w_hh_q8, m->cell_w_hh, 3 * D->dec_hidden, D->dec_hidden);
    attn_q8_init(&m->deep_w_q8, m->deep_w, 2 * D->maxout, D->dec_hidden + D->embed + 2 * D->enc_hidden);
  }
  return m;
}

const attn_rnn_dims *attn_rnn_model_dims(const attn_rnn *m) { return &m->dims; }

/* ---- a run: one source sentence, its annotations and the decoder states ---- */

struct attn_rnn_run {
  const attn_rnn *m;
  int n_src, capacity, max_len;
  float *ann;     /* [n, 2He] annotations h_j = [forward_j; backward_j] */
  float *keys;    /* [n, A] U_a h_j, computed once per sentence (with attention) */
  float *summary; /* [2He] the fixed context c (without attention) */
  float *s0;      /* [Hd] initial decoder state */
  float *s;       /* [capacity, Hd] decoder state s_{i-1} of each hypothesis */
  float *s_tmp;   /* [capacity, Hd] reorder scratch */
  float *x;       /* [n, Em] source embeddings */
  float *gi, *gh; /* [max(n, capacity), 3 max(He, Hd)] GRU input and hidden projections */
  float *deep_in; /* [capacity, Hd + Em + 2He] rows [s_{i-1}; E(y_{i-1}); c_i] */
  float *q;       /* [capacity, A] W_a s_{i-1} + b */
  float *e;       /* [n, A] tanh(q + keys) of one hypothesis */
  float *pre;     /* [capacity, 2M] deep output before maxout */
  float *t;       /* [capacity, M] after maxout */
  unsigned char *reset; /* [n] 1: the encoder recurrence restarts before this position */
};

/* One direction of the encoder over the whole source, into its half of the annotations. */
static void encode_direction(attn_rnn_run *r, int dir) {
  const attn_rnn *m = r->m;
  int n = r->n_src, Em = m->dims.embed, He = m->dims.enc_hidden;
  attn_linear(r->gi, r->x, m->enc_w_ih[dir], m->enc_b_ih[dir], n, Em, 3 * He);
  float *h = r->s_tmp; /* He floats of scratch; the decoder states are set after encoding */
  memset(h, 0, (size_t)He * sizeof(float));
  for (int k = 0; k < n; k++) {
    int pos = dir == 0 ? k : n - 1 - k;
    int restart = dir == 0 ? r->reset[pos] : (pos + 1 < n && r->reset[pos + 1]);
    if (restart) memset(h, 0, (size_t)He * sizeof(float));
    attn_linear_h(r->gh, h, He, m->enc_w_hh[dir], m->enc_w_hh_h[dir], m->enc_b_hh[dir], 1, He, 3 * He);
    attn_gru_update(h, r->gi + (size_t)pos * 3 * He, r->gh, He);
    memcpy(r->ann + (size_t)pos * 2 * He + (size_t)dir * He, h, (size_t)He * sizeof(float));
  }
}

static void encode(attn_rnn_run *r, const int32_t *src) {
  const attn_rnn *m = r->m;
  const attn_rnn_dims *D = &m->dims;
  int n = r->n_src, He = D->enc_hidden, Hd = D->dec_hidden;
  attn_embedding(r->x, m->embed, src, n, D->embed, D->vocab, 1.0f);
  for (int j = 0; j < n; j++) /* as training/rnn_attn.py reset_before */
    r->reset[j] = D->segments && (j == 0 || m->seg_start[src[j]] > 0.5f || m->seg_alone[src[j - 1]] > 0.5f);
  encode_direction(r, 0);
  encode_direction(r, 1);
  if (D->attention) attn_linear(r->keys, r->ann, m->attn_u, NULL, n, 2 * He, D->attn_dim);
  else { /* c = [forward state at the last piece; backward state at the first] */
    memcpy(r->summary, r->ann + (size_t)(n - 1) * 2 * He, (size_t)He * sizeof(float));
    memcpy(r->summary + He, r->ann + He, (size_t)He * sizeof(float));
  }
  attn_matvec(r->s0, m->init_w, r->ann + He, m->init_b, Hd, He); /* backward state at position 0 */
  attn_tanh(r->s0, Hd);
  for (int i = 0; i < r->capacity; i++) memcpy(r->s + (size_t)i * Hd, r->s0, (size_t)Hd * sizeof(float));
}

void attn_rnn_run_free(attn_rnn_run *r) {
  if (!r) return;
  float *bufs[] = {r->ann, r->keys, r->summary, r->s0, r->s, r->s_tmp, r->x, r->gi, r->gh, r->deep_in, r->q, r->e, r->pre, r->t};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
  free(r->reset);
  free(r);
}

static int alloc_run(attn_rnn_run *r) {
  const attn_rnn_dims *D = &r->m->dims;
  size_t n = (size_t)r->n_src, cap = (size_t)r->capacity, He = (size_t)D->enc_hidden, Hd = (size_t)D->dec_hidden;
  size_t rows = n > cap ? n : cap, gates = 3 * (He > Hd ? He : Hd), A = (size_t)D->attn_dim;
  int ok = 1;
  r->ann = attn_alloc_floats(n * 2 * He, &ok), r->keys = attn_alloc_floats(n * A, &ok);
  r->summary = attn_alloc_floats(2 * He, &ok);
  r->s0 = attn_alloc_floats(Hd, &ok), r->s = attn_alloc_floats(cap * Hd, &ok);
  r->s_tmp = attn_alloc_floats(cap * (Hd > He ? Hd : He), &ok), r->x = attn_alloc_floats(n * (size_t)D->embed, &ok);
  r->gi = attn_alloc_floats(rows * gates, &ok), r->gh = attn_alloc_floats(rows * gates, &ok);
  r->deep_in = attn_alloc_floats(cap * (Hd + (size_t)D->embed + 2 * He), &ok);
  r->q = attn_alloc_floats(cap * A, &ok), r->e = attn_alloc_floats(n * A, &ok);
  r->pre = attn_alloc_floats(cap * 2 * (size_t)D->maxout, &ok), r->t = attn_alloc_floats(cap * (size_t)D->maxout, &ok);
  r->reset = calloc(n, 1);
  return ok && r->reset;
}

attn_rnn_run *attn_rnn_run_new(const attn_rnn *m, const int32_t *src, int n, int capacity, int max_len,
                               attn_error *err) {
  const attn_rnn_dims *D = &m->dims;
  if (n < 1 || n > D->max_positions || capacity < 1 || capacity > 64 || max_len < 1 || max_len > D->max_positions) {
    attn_error_set(err, ATTN_E_ARG, "source of %d pieces / %d outputs / %d hypotheses exceeds the model's limits (%d)",
                   n, max_len, capacity, D->max_positions);
    return NULL;
  }
  if (attn_check_ids(src, n, D->vocab, "source", err) != ATTN_OK) return NULL;
  attn_rnn_run *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  *r = (attn_rnn_run){.m = m, .n_src = n, .capacity = capacity, .max_len = max_len};
  if (!alloc_run(r)) {
    attn_error_set(err, ATTN_E_NOMEM, "out of memory for a source of %d pieces", n);
    attn_rnn_run_free(r);
    return NULL;
  }
  encode(r, src);
  return r;
}

const float *attn_rnn_run_annotations(const attn_rnn_run *r) { return r->ann; }
const float *attn_rnn_run_initial_state(const attn_rnn_run *r) { return r->s0; }
const float *attn_rnn_run_summary(const attn_rnn_run *r) { return r->m->dims.attention ? NULL : r->summary; }
const attn_rnn *attn_rnn_run_model(const attn_rnn_run *r) { return r->m; }

/* ---- decoder ---- */

/* a_j = softmax_j(v . tanh(q + U_a h_j)) into weights [n]; context c = sum_j a_j h_j. */
static void attend(attn_rnn_run *r, const float *q, float *weights, float *context) {
  const attn_rnn *m = r->m;
  int n = r->n_src, A = m->dims.attn_dim, He2 = 2 * m->dims.enc_hidden;
  for (int j = 0; j < n; j++)
    for (int a = 0; a < A; a++) r->e[(size_t)j * A + a] = q[a] + r->keys[(size_t)j * A + a];
  attn_tanh(r->e, (int64_t)n * A);
  attn_matvec(weights, r->e, m->attn_v, NULL, n, A);
  attn_softmax(weights, 1, n);
  attn_gemm(0, 0, 1, He2, n, 1.0f, weights, n, r->ann, He2, 0.0f, context, He2);
}

/* logits = maxout(deep_out([s_{i-1}; E(y_{i-1}); c_i])) E^T + out_bias for k rows. */
static void deep_output(attn_rnn_run *r, int k, float *logits) {
  const attn_rnn *m = r->m;
  const attn_rnn_dims *D = &m->dims;
  int width = D->dec_hidden + D->embed + 2 * D->enc_hidden, M = D->maxout;
  attn_linear_hq(r->pre, r->deep_in, width, m->deep_w, m->deep_w_h, &m->deep_w_q8, m->deep_b, k, width, 2 * M);
  for (int64_t i = 0; i < (int64_t)k * M; i++) r->t[i] = fmaxf(r->pre[2 * i], r->pre[2 * i + 1]);
  /* logits = t E^T + b: E is read once per step (from halves where there are some) */
  attn_linear_hq(logits, r->t, M, m->embed, m->embed_h, &m->embed_q8, m->out_bias, k, M, D->vocab);
}

/* s_i = GRUCell([E(y_{i-1}); c_i], s_{i-1}) for k rows (the input sits inside deep_in). */
static void advance_states(attn_rnn_run *r, int k) {
  const attn_rnn *m = r->m;
  const attn_rnn_dims *D = &m->dims;
  int Hd = D->dec_hidden, in = D->embed + 2 * D->enc_hidden, width = Hd + in;
  attn_linear_hq(r->gi, r->deep_in + Hd, width, m->cell_w_ih, m->cell_w_ih_h, &m->cell_w_ih_q8, m->cell_b_ih, k, in,
                 3 * Hd);
  attn_linear_hq(r->gh, r->s, Hd, m->cell_w_hh, m->cell_w_hh_h, &m->cell_w_hh_q8, m->cell_b_hh, k, Hd, 3 * Hd);
  for (int i = 0; i < k; i++) attn_gru_update(r->s + (size_t)i * Hd, r->gi + (size_t)i * 3 * Hd, r->gh + (size_t)i * 3 * Hd, Hd);
}

attn_status attn_rnn_step(attn_rnn_run *r, const int32_t *tokens, int k, int step, float *logits, float *cross,
                          attn_error *err) {
  const attn_rnn *m = r->m;
  const attn_rnn_dims *D = &m->dims;
  if (k < 1 || k > r->capacity || step < 0 || step >= r->max_len)
    return attn_error_set(err, ATTN_E_ARG, "decoder step %d with %d hypotheses is out of range", step, k);
  attn_status st = attn_check_ids(tokens, k, D->vocab, "decoder input", err);
  if (st != ATTN_OK) return st;
  int Hd = D->dec_hidden, width = Hd + D->embed + 2 * D->enc_hidden;
  if (D->attention)
    attn_linear_hq(r->q, r->s, Hd, m->attn_w, m->attn_w_h, &m->attn_w_q8, m->attn_b, k, Hd, D->attn_dim);
  for (int i = 0; i < k; i++) {
    float *row = r->deep_in + (size_t)i * width;
    memcpy(row, r->s + (size_t)i * Hd, (size_t)Hd * sizeof(float));
    attn_embedding(row + Hd, m->embed, &tokens[i], 1, D->embed, D->vocab, 1.0f);
    if (D->attention) attend(r, r->q + (size_t)i * D->attn_dim, cross + (size_t)i * r->n_src, row + Hd + D->embed);
    else memcpy(row + Hd + D->embed, r->summary, 2 * (size_t)D->enc_hidden * sizeof(float));
  }
  deep_output(r, k, logits);
  advance_states(r, k);
  return ATTN_OK;
}

static attn_status s2s_step(void *self, const int32_t *tokens, int k, int step, float *logprobs, float *cross,
                            attn_error *err) {
  attn_rnn_run *r = self;
  attn_status st = attn_rnn_step(r, tokens, k, step, logprobs, cross, err);
  if (st != ATTN_OK) return st;
  int V = r->m->dims.vocab;
  attn_log_softmax(logprobs, k, V);
  for (int i = 0; i < k; i++) logprobs[(size_t)i * V + r->m->dims.pad] = -INFINITY;
  return ATTN_OK;
}

static void s2s_reorder(void *self, const int32_t *parents, int k) {
  attn_rnn_run *r = self;
  size_t row = (size_t)r->m->dims.dec_hidden * sizeof(float);
  for (int i = 0; i < k; i++) memcpy((char *)r->s_tmp + i * row, (const char *)r->s + (size_t)parents[i] * row, row);
  memcpy(r->s, r->s_tmp, (size_t)k * row);
}

attn_s2s attn_rnn_run_s2s(attn_rnn_run *r) {
  const attn_rnn_dims *D = &r->m->dims;
  return (attn_s2s){.vocab = D->vocab, .keys = r->n_src, .n_maps = D->attention ? 1 : 0, .capacity = r->capacity,
                    .start_token = D->decoder_start, .eos = D->eos, .max_len = r->max_len, .self = r,
                    .step = s2s_step, .reorder = s2s_reorder};
}
