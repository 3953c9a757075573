/* Marian-layout Transformer forward pass on OpenBLAS; training/transformer.py is its
 * PyTorch twin and tests/test_transformer.c compares the two. */
#include "attn_transformer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_ops.h"
#include "attn_util.h"

typedef enum act_kind { ACT_RELU, ACT_GELU, ACT_SILU } act_kind;

typedef struct mha {
  float *q_w, *q_b, *k_w, *k_b, *v_w, *v_b, *o_w, *o_b; /* [d,d] and [d] */
  uint16_t *q_h, *k_h, *v_h, *o_h; /* half copies for decoder steps (attn_half_pool), or NULL */
  attn_q8 q_q8, k_q8, v_q8, o_q8;   /* int8 copies for decoder steps (attn_q8_available), or empty */
} mha;

typedef struct tf_layer {
  mha self_attn;
  float *self_ln_g, *self_ln_b;   /* [d] */
  mha cross_attn;                 /* decoder only */
  float *cross_ln_g, *cross_ln_b; /* decoder only */
  float *fc1_w, *fc1_b;           /* [ffn,d], [ffn] */
  float *fc2_w, *fc2_b;           /* [d,ffn], [d] */
  uint16_t *fc1_h, *fc2_h;        /* half copies (decoder), or NULL */
  attn_q8 fc1_q8, fc2_q8;         /* int8 copies (decoder), or empty */
  float *final_ln_g, *final_ln_b; /* [d] */
} tf_layer;

struct attn_transformer {
  attn_tf_dims dims;
  act_kind act;
  float eps, embed_scale;
  float *shared;      /* [vocab,d], also the output projection */
  float *lm_head;     /* [vocab,d]: == shared unless untied */
  uint16_t *lm_head_h; /* its half copy, or NULL */
  attn_q8 lm_head_q8;  /* its int8 copy, or empty */
  float *logits_bias; /* [vocab] */
  float *positions;   /* [max_positions,d], sinusoids, Marian order (sin half, cos half) */
  tf_layer *enc, *dec;
  float **owned;      /* every loaded tensor, for freeing */
  attn_half_pool halves; /* the decoder's half copies */
  int n_owned;
};

/* ---- loading ---- */

static float *load(attn_transformer *tf, const attn_model_dir *dir, const char *name, int64_t d0,
                   int64_t d1, attn_error *err) {
  attn_tensor_spec spec = {name, d1 > 0 ? 2 : 1, {d0, d1 > 0 ? d1 : 0}};
  float *t = attn_model_dir_load(dir, &spec, err);
  if (t) tf->owned[tf->n_owned++] = t;
  return t;
}

#define LOADF(dst, d0, d1, ...)                                           \
  do {                                                                    \
    snprintf(name, sizeof name, __VA_ARGS__);                             \
    if (!((dst) = load(tf, dir, name, (d0), (d1), err))) return -1;       \
  } while (0)

static int load_mha(attn_transformer *tf, const attn_model_dir *dir, mha *a, const char *prefix,
                    attn_error *err) {
  char name[256];
  int d = tf->dims.d_model;
  LOADF(a->q_w, d, d, "%s.q_proj.weight", prefix);
  LOADF(a->q_b, d, 0, "%s.q_proj.bias", prefix);
  LOADF(a->k_w, d, d, "%s.k_proj.weight", prefix);
  LOADF(a->k_b, d, 0, "%s.k_proj.bias", prefix);
  LOADF(a->v_w, d, d, "%s.v_proj.weight", prefix);
  LOADF(a->v_b, d, 0, "%s.v_proj.bias", prefix);
  LOADF(a->o_w, d, d, "%s.out_proj.weight", prefix);
  LOADF(a->o_b, d, 0, "%s.out_proj.bias", prefix);
  return 0;
}

static int load_layer(attn_transformer *tf, const attn_model_dir *dir, tf_layer *L, const char *side,
                      int i, int ffn, attn_error *err) {
  char name[256], prefix[128];
  int d = tf->dims.d_model;
  snprintf(prefix, sizeof prefix, "model.%s.layers.%d.self_attn", side, i);
  if (load_mha(tf, dir, &L->self_attn, prefix, err)) return -1;
  LOADF(L->self_ln_g, d, 0, "model.%s.layers.%d.self_attn_layer_norm.weight", side, i);
  LOADF(L->self_ln_b, d, 0, "model.%s.layers.%d.self_attn_layer_norm.bias", side, i);
  if (strcmp(side, "decoder") == 0) {
    snprintf(prefix, sizeof prefix, "model.decoder.layers.%d.encoder_attn", i);
    if (load_mha(tf, dir, &L->cross_attn, prefix, err)) return -1;
    LOADF(L->cross_ln_g, d, 0, "model.decoder.layers.%d.encoder_attn_layer_norm.weight", i);
    LOADF(L->cross_ln_b, d, 0, "model.decoder.layers.%d.encoder_attn_layer_norm.bias", i);
  }
  LOADF(L->fc1_w, ffn, d, "model.%s.layers.%d.fc1.weight", side, i);
  LOADF(L->fc1_b, ffn, 0, "model.%s.layers.%d.fc1.bias", side, i);
  LOADF(L->fc2_w, d, ffn, "model.%s.layers.%d.fc2.weight", side, i);
  LOADF(L->fc2_b, d, 0, "model.%s.layers.%d.fc2.bias", side, i);
  LOADF(L->final_ln_g, d, 0, "model.%s.layers.%d.final_layer_norm.weight", side, i);
  LOADF(L->final_ln_b, d, 0, "model.%s.layers.%d.final_layer_norm.bias", side, i);
  return 0;
}

static int load_top(attn_transformer *tf, const attn_model_dir *dir, int tied, attn_error *err) {
  char name[64];
  int V = tf->dims.vocab, d = tf->dims.d_model;
  LOADF(tf->shared, V, d, "model.shared.weight");
  LOADF(tf->logits_bias, 1, V, "final_logits_bias");
  tf->lm_head = tf->shared;
  if (!tied) LOADF(tf->lm_head, V, d, "lm_head.weight");
  return 0;
}

/* A half copy of a decoder weight, when the weights came from an F16 file (see attn_half_pool):
 * a decoder step reads every decoder weight once, and halves halve those bytes. */
static uint16_t *half(attn_transformer *tf, const float *w, size_t n) { return attn_half_pool_copy(&tf->halves, w, n); }

static void make_halves(attn_transformer *tf) {
  size_t d = (size_t)tf->dims.d_model, ffn = (size_t)tf->dims.dec_ffn;
  if (attn_half_pool_init(&tf->halves, (size_t)tf->dims.vocab * d + tf->dims.dec_layers * (6 * d * d + 2 * d * ffn)))
    return;
  tf->lm_head_h = half(tf, tf->lm_head, (size_t)tf->dims.vocab * d);
  for (int i = 0; i < tf->dims.dec_layers; i++) {
    tf_layer *L = &tf->dec[i];
    mha *sa = &L->self_attn, *ca = &L->cross_attn;
    sa->q_h = half(tf, sa->q_w, d * d), sa->k_h = half(tf, sa->k_w, d * d);
    sa->v_h = half(tf, sa->v_w, d * d), sa->o_h = half(tf, sa->o_w, d * d);
    ca->q_h = half(tf, ca->q_w, d * d), ca->o_h = half(tf, ca->o_w, d * d);
    L->fc1_h = half(tf, L->fc1_w, ffn * d), L->fc2_h = half(tf, L->fc2_w, d * ffn);
  }
}

/* int8 copies of the weights a decoder step reads, where int8 is on (attn_q8_available). */
static void make_q8(attn_transformer *tf) {
  int d = tf->dims.d_model, ffn = tf->dims.dec_ffn;
  if (!attn_q8_available()) return;
  attn_q8_init(&tf->lm_head_q8, tf->lm_head, tf->dims.vocab, d);
  for (int i = 0; i < tf->dims.dec_layers; i++) {
    tf_layer *L = &tf->dec[i];
    mha *sa = &L->self_attn, *ca = &L->cross_attn;
    attn_q8_init(&sa->q_q8, sa->q_w, d, d), attn_q8_init(&sa->k_q8, sa->k_w, d, d);
    attn_q8_init(&sa->v_q8, sa->v_w, d, d), attn_q8_init(&sa->o_q8, sa->o_w, d, d);
    attn_q8_init(&ca->q_q8, ca->q_w, d, d), attn_q8_init(&ca->o_q8, ca->o_w, d, d);
    attn_q8_init(&L->fc1_q8, L->fc1_w, ffn, d), attn_q8_init(&L->fc2_q8, L->fc2_w, d, ffn);
  }
}

static void free_q8(attn_transformer *tf) {
  attn_q8_free(&tf->lm_head_q8);
  for (int i = 0; tf->dec && i < tf->dims.dec_layers; i++) {
    tf_layer *L = &tf->dec[i];
    mha *m[2] = {&L->self_attn, &L->cross_attn};
    for (int k = 0; k < 2; k++) attn_q8_free(&m[k]->q_q8), attn_q8_free(&m[k]->k_q8), attn_q8_free(&m[k]->v_q8),
                                attn_q8_free(&m[k]->o_q8);
    attn_q8_free(&L->fc1_q8), attn_q8_free(&L->fc2_q8);
  }
}

static void make_positions(float *pe, int n, int d) {
  int half = d / 2;
  for (int p = 0; p < n; p++)
    for (int j = 0; j < half; j++) {
      double ang = p * pow(10000.0, -2.0 * j / d);
      pe[(size_t)p * d + j] = (float)sin(ang);
      pe[(size_t)p * d + half + j] = (float)cos(ang);
    }
}

static attn_status read_activation(attn_transformer *tf, const cJSON *cfg, attn_error *err) {
  const char *act = NULL;
  attn_status st = attn_config_string(cfg, "activation_function", "relu", &act, err);
  if (st != ATTN_OK) return st;
  if (strcmp(act, "relu") == 0) tf->act = ACT_RELU;
  else if (strcmp(act, "gelu") == 0) tf->act = ACT_GELU;
  else if (strcmp(act, "swish") == 0 || strcmp(act, "silu") == 0) tf->act = ACT_SILU;
  else return attn_error_set(err, ATTN_E_VALUE, "config.json: activation_function \"%s\" is not supported", act);
  return ATTN_OK;
}

/* Reads and checks the hyper-parameters; returns tied (0/1) or -1. */
static int read_config(attn_transformer *tf, const cJSON *cfg, attn_error *err) {
  attn_tf_dims *D = &tf->dims;
  int scale = 1, pre_norm = 0, tied = 1, bad = 0;
  bad |= attn_config_int(cfg, "d_model", ATTN_CONFIG_REQUIRED_INT, 2, 8192, &D->d_model, err) != ATTN_OK;
  bad = bad || attn_config_int(cfg, "vocab_size", ATTN_CONFIG_REQUIRED_INT, 4, 1 << 20, &D->vocab, err) != ATTN_OK;
  bad = bad || attn_config_int(cfg, "max_position_embeddings", 512, 2, 1 << 16, &D->max_positions, err) != ATTN_OK;
  bad = bad || attn_config_int(cfg, "encoder_layers", ATTN_CONFIG_REQUIRED_INT, 1, 64, &D->enc_layers, err) != ATTN_OK;
  bad = bad || attn_config_int(cfg, "decoder_layers", ATTN_CONFIG_REQUIRED_INT, 1, 64, &D->dec_layers, err) != ATTN_OK;
  bad = bad || attn_config_int(cfg, "encoder_attention_heads", ATTN_CONFIG_REQUIRED_INT, 1, 256, &D->enc_heads, err) != ATTN_OK;
  bad = bad || attn_config_int(cfg, "decoder_attention_heads", ATTN_CONFIG_REQUIRED_INT, 1, 256, &D->dec_heads, err) != ATTN_OK;
  bad = bad || attn_config_int(cfg, "encoder_ffn_dim", ATTN_CONFIG_REQUIRED_INT, 1, 1 << 16, &D->enc_ffn, err) != ATTN_OK;
  bad = bad || attn_config_int(cfg, "decoder_ffn_dim", ATTN_CONFIG_REQUIRED_INT, 1, 1 << 16, &D->dec_ffn, err) != ATTN_OK;
  bad = bad || attn_config_int(cfg, "pad_token_id", ATTN_CONFIG_REQUIRED_INT, 0, D->vocab - 1, &D->pad, err) != ATTN_OK;
  bad = bad || attn_config_int(cfg, "eos_token_id", ATTN_CONFIG_REQUIRED_INT, 0, D->vocab - 1, &D->eos, err) != ATTN_OK;
  bad = bad || attn_config_int(cfg, "decoder_start_token_id", D->pad, 0, D->vocab - 1, &D->decoder_start, err) != ATTN_OK;
  bad = bad || attn_config_bool(cfg, "scale_embedding", 1, &scale, err) != ATTN_OK;
  bad = bad || attn_config_bool(cfg, "normalize_before", 0, &pre_norm, err) != ATTN_OK;
  bad = bad || attn_config_bool(cfg, "tie_word_embeddings", 1, &tied, err) != ATTN_OK;
  bad = bad || attn_config_float(cfg, "layer_norm_eps", 1e-5f, 0.0f, 1.0f, &tf->eps, err) != ATTN_OK;
  bad = bad || read_activation(tf, cfg, err) != ATTN_OK;
  if (bad) return -1;
  if (pre_norm) return attn_error_set(err, ATTN_E_VALUE, "config.json: normalize_before (pre-norm) is not supported"), -1;
  if (D->d_model % D->enc_heads || D->d_model % D->dec_heads || D->d_model % 2)
    return attn_error_set(err, ATTN_E_VALUE, "config.json: d_model %d is not divisible by the heads", D->d_model), -1;
  tf->embed_scale = scale ? sqrtf((float)D->d_model) : 1.0f;
  return tied;
}

void attn_transformer_free(attn_transformer *tf) {
  if (!tf) return;
  free_q8(tf);
  for (int i = 0; i < tf->n_owned; i++) free(tf->owned[i]);
  attn_half_pool_release(&tf->halves);
  free(tf->owned);
  free(tf->positions);
  free(tf->enc);
  free(tf->dec);
  free(tf);
}

attn_transformer *attn_transformer_load(const attn_model_dir *dir, attn_error *err) {
  attn_transformer *tf = calloc(1, sizeof *tf);
  if (!tf) return NULL;
  int tied = read_config(tf, attn_model_dir_config(dir), err);
  int ok = tied >= 0;
  const attn_tf_dims *D = &tf->dims;
  if (ok) {
    tf->owned = calloc(8 + 40 * (size_t)(D->enc_layers + D->dec_layers), sizeof(float *));
    tf->enc = calloc((size_t)D->enc_layers, sizeof(tf_layer));
    tf->dec = calloc((size_t)D->dec_layers, sizeof(tf_layer));
    tf->positions = malloc((size_t)D->max_positions * D->d_model * sizeof(float));
    ok = tf->owned && tf->enc && tf->dec && tf->positions;
    if (!ok) attn_error_set(err, ATTN_E_NOMEM, "out of memory loading the model");
  }
  ok = ok && load_top(tf, dir, tied, err) == 0;
  for (int i = 0; ok && i < D->enc_layers; i++) ok = load_layer(tf, dir, &tf->enc[i], "encoder", i, tf->dims.enc_ffn, err) == 0;
  for (int i = 0; ok && i < D->dec_layers; i++) ok = load_layer(tf, dir, &tf->dec[i], "decoder", i, tf->dims.dec_ffn, err) == 0;
  if (!ok) {
    attn_transformer_free(tf);
    return NULL;
  }
  make_positions(tf->positions, D->max_positions, D->d_model);
  make_halves(tf);
  make_q8(tf);
  return tf;
}

const attn_tf_dims *attn_transformer_dims(const attn_transformer *tf) { return &tf->dims; }

/* ---- a run: one source sentence, its encoding and the decoder states ---- */

struct attn_tf_run {
  const attn_transformer *tf;
  int n_src, capacity, max_len;
  int filled;           /* decoder positions written so far (what a reorder must copy) */
  float *enc_maps;      /* [enc_layers][heads][n][n] */
  float *cross_k, *cross_v; /* [dec_layers][n][d] */
  float *self_k, *self_v;   /* [dec_layers][capacity][max_len][d] */
  float *tmp_k, *tmp_v;     /* reorder scratch, [capacity][max_len][d] */
  float *x, *q, *k, *v, *ctx, *o, *ffn, *scores, *logits; /* step scratch */
};

static void activate(act_kind act, float *x, int64_t n) {
  if (act == ACT_RELU) attn_relu(x, n);
  else if (act == ACT_GELU) attn_gelu(x, n);
  else attn_silu(x, n);
}

/* out = LN(x + y) over rows, in place into x. */
static void add_norm(float *x, const float *y, const float *g, const float *b, int rows, int d, float eps) {
  attn_add(x, y, (int64_t)rows * d);
  attn_layer_norm(x, x, g, b, rows, d, eps);
}

/* Scaled dot-product attention for one head: q [nq, hd] (stride d) against keys/values
 * [nk, hd] (stride d); probabilities to probs [nq, nk], context to ctx (stride d). */
static void attend(const float *q, const float *k, const float *v, int nq, int nk, int hd, int d,
                   float *probs, float *ctx) {
  attn_gemm(0, 1, nq, nk, hd, 1.0f, q, d, k, d, 0.0f, probs, nk);
  attn_softmax(probs, nq, nk);
  attn_gemm(0, 0, nq, hd, nk, 1.0f, probs, nk, v, d, 0.0f, ctx, d);
}

static void feed_forward(const attn_transformer *tf, const tf_layer *L, float *x, float *hidden, float *out,
                         int rows, int ffn) {
  int d = tf->dims.d_model;
  attn_linear_hq(hidden, x, d, L->fc1_w, L->fc1_h, &L->fc1_q8, L->fc1_b, rows, d, ffn);
  activate(tf->act, hidden, (int64_t)rows * ffn);
  attn_linear_hq(out, hidden, ffn, L->fc2_w, L->fc2_h, &L->fc2_q8, L->fc2_b, rows, ffn, d);
  add_norm(x, out, L->final_ln_g, L->final_ln_b, rows, d, tf->eps);
}

/* Token embeddings plus positions: row i is at position start + i*stride (stride 1 for a
 * sentence, 0 for k hypotheses at the same decoding step). */
static void embed(const attn_transformer *tf, const int32_t *ids, int n, int start, int stride, float *x) {
  int d = tf->dims.d_model;
  attn_embedding(x, tf->shared, ids, n, d, tf->dims.vocab, tf->embed_scale);
  for (int i = 0; i < n; i++) attn_add(x + (size_t)i * d, tf->positions + (size_t)(start + i * stride) * d, d);
}

static void encoder_layer(attn_tf_run *r, const tf_layer *L, int layer, float *x) {
  const attn_transformer *tf = r->tf;
  int n = r->n_src, d = tf->dims.d_model, H = tf->dims.enc_heads, hd = d / H;
  float scaling = 1.0f / sqrtf((float)hd);
  attn_linear(r->q, x, L->self_attn.q_w, L->self_attn.q_b, n, d, d);
  for (int64_t i = 0; i < (int64_t)n * d; i++) r->q[i] *= scaling;
  attn_linear(r->k, x, L->self_attn.k_w, L->self_attn.k_b, n, d, d);
  attn_linear(r->v, x, L->self_attn.v_w, L->self_attn.v_b, n, d, d);
  for (int h = 0; h < H; h++) {
    float *probs = r->enc_maps + ((size_t)layer * H + h) * n * n;
    attend(r->q + h * hd, r->k + h * hd, r->v + h * hd, n, n, hd, d, probs, r->ctx + h * hd);
  }
  attn_linear(r->o, r->ctx, L->self_attn.o_w, L->self_attn.o_b, n, d, d);
  add_norm(x, r->o, L->self_ln_g, L->self_ln_b, n, d, tf->eps);
  feed_forward(tf, L, x, r->ffn, r->o, n, tf->dims.enc_ffn);
}

static void encode(attn_tf_run *r, const int32_t *src) {
  const attn_transformer *tf = r->tf;
  int n = r->n_src, d = tf->dims.d_model;
  float *x = r->x; /* holds max(n, capacity) rows */
  embed(tf, src, n, 0, 1, x);
  for (int l = 0; l < tf->dims.enc_layers; l++) encoder_layer(r, &tf->enc[l], l, x);
  for (int l = 0; l < tf->dims.dec_layers; l++) {
    const mha *a = &tf->dec[l].cross_attn;
    attn_linear(r->cross_k + (size_t)l * n * d, x, a->k_w, a->k_b, n, d, d);
    attn_linear(r->cross_v + (size_t)l * n * d, x, a->v_w, a->v_b, n, d, d);
  }
}

void attn_tf_run_free(attn_tf_run *r) {
  if (!r) return;
  float *bufs[] = {r->enc_maps, r->cross_k, r->cross_v, r->self_k, r->self_v, r->tmp_k, r->tmp_v, r->x,
                   r->q, r->k, r->v, r->ctx, r->o, r->ffn, r->scores, r->logits};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
  free(r);
}

attn_tf_run *attn_tf_run_new(const attn_transformer *tf, const int32_t *src, int n, int capacity,
                             int max_len, attn_error *err) {
  const attn_tf_dims *D = &tf->dims;
  if (n < 1 || n > D->max_positions || capacity < 1 || max_len < 1 || max_len > D->max_positions) {
    attn_error_set(err, ATTN_E_ARG, "source of %d pieces / %d outputs exceeds the model's %d positions", n, max_len,
                   D->max_positions);
    return NULL;
  }
  if (attn_check_ids(src, n, D->vocab, "source", err) != ATTN_OK) return NULL;
  attn_tf_run *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  *r = (attn_tf_run){.tf = tf, .n_src = n, .capacity = capacity, .max_len = max_len};
  int ok = 1, d = D->d_model, ffn = tf->dims.enc_ffn > tf->dims.dec_ffn ? tf->dims.enc_ffn : tf->dims.dec_ffn;
  int rows = n > capacity ? n : capacity, heads = D->enc_heads > D->dec_heads ? D->enc_heads : D->dec_heads;
  size_t cache = (size_t)D->dec_layers * capacity * max_len * d;
  r->enc_maps = attn_alloc_floats((size_t)D->enc_layers * D->enc_heads * n * n, &ok);
  r->cross_k = attn_alloc_floats((size_t)D->dec_layers * n * d, &ok);
  r->cross_v = attn_alloc_floats((size_t)D->dec_layers * n * d, &ok);
  r->self_k = attn_alloc_floats(cache, &ok), r->self_v = attn_alloc_floats(cache, &ok);
  r->tmp_k = attn_alloc_floats((size_t)capacity * max_len * d, &ok);
  r->tmp_v = attn_alloc_floats((size_t)capacity * max_len * d, &ok);
  r->x = attn_alloc_floats((size_t)rows * d, &ok), r->q = attn_alloc_floats((size_t)rows * d, &ok);
  r->k = attn_alloc_floats((size_t)rows * d, &ok), r->v = attn_alloc_floats((size_t)rows * d, &ok);
  r->ctx = attn_alloc_floats((size_t)rows * d, &ok), r->o = attn_alloc_floats((size_t)rows * d, &ok);
  r->ffn = attn_alloc_floats((size_t)rows * ffn, &ok);
  r->scores = attn_alloc_floats((size_t)heads * (n > max_len ? n : max_len), &ok);
  r->logits = attn_alloc_floats((size_t)capacity * D->vocab, &ok);
  if (!ok) {
    attn_error_set(err, ATTN_E_NOMEM, "out of memory for a source of %d pieces", n);
    attn_tf_run_free(r);
    return NULL;
  }
  encode(r, src);
  return r;
}

const float *attn_tf_run_encoder_attention(const attn_tf_run *r) { return r->enc_maps; }

/* ---- decoder ---- */

static float *cache_at(float *cache, const attn_tf_run *r, int layer, int hyp) {
  return cache + (((size_t)layer * r->capacity + hyp) * r->max_len) * r->tf->dims.d_model;
}

/* Causal self-attention of k hypotheses at position `step` against their caches. */
static void decoder_self_attn(attn_tf_run *r, const tf_layer *L, int layer, int k, int step, float *x,
                              float *self_out) {
  const attn_transformer *tf = r->tf;
  int d = tf->dims.d_model, H = tf->dims.dec_heads, hd = d / H;
  float scaling = 1.0f / sqrtf((float)hd);
  const mha *a = &L->self_attn;
  attn_linear_hq(r->q, x, d, a->q_w, a->q_h, &a->q_q8, a->q_b, k, d, d);
  for (int64_t i = 0; i < (int64_t)k * d; i++) r->q[i] *= scaling;
  attn_linear_hq(r->k, x, d, a->k_w, a->k_h, &a->k_q8, a->k_b, k, d, d);
  attn_linear_hq(r->v, x, d, a->v_w, a->v_h, &a->v_q8, a->v_b, k, d, d);
  for (int i = 0; i < k; i++) {
    float *kc = cache_at(r->self_k, r, layer, i), *vc = cache_at(r->self_v, r, layer, i);
    memcpy(kc + (size_t)step * d, r->k + (size_t)i * d, (size_t)d * sizeof(float));
    memcpy(vc + (size_t)step * d, r->v + (size_t)i * d, (size_t)d * sizeof(float));
    for (int h = 0; h < H; h++) {
      float *probs = r->scores + (size_t)h * (step + 1);
      attend(r->q + (size_t)i * d + h * hd, kc + h * hd, vc + h * hd, 1, step + 1, hd, d, probs,
             r->ctx + (size_t)i * d + h * hd);
      if (self_out && i == 0)
        memcpy(self_out + ((size_t)layer * H + h) * r->max_len, probs, (size_t)(step + 1) * sizeof(float));
    }
  }
  attn_linear_hq(r->o, r->ctx, d, a->o_w, a->o_h, &a->o_q8, a->o_b, k, d, d);
  add_norm(x, r->o, L->self_ln_g, L->self_ln_b, k, d, tf->eps);
}

/* Cross-attention of k hypotheses over the encoded source; maps to cross[k][L*H][n]. */
static void decoder_cross_attn(attn_tf_run *r, const tf_layer *L, int layer, int k, float *x, float *cross) {
  const attn_transformer *tf = r->tf;
  int n = r->n_src, d = tf->dims.d_model, H = tf->dims.dec_heads, hd = d / H, maps = tf->dims.dec_layers * H;
  float scaling = 1.0f / sqrtf((float)hd);
  const mha *a = &L->cross_attn;
  attn_linear_hq(r->q, x, d, a->q_w, a->q_h, &a->q_q8, a->q_b, k, d, d);
  for (int64_t i = 0; i < (int64_t)k * d; i++) r->q[i] *= scaling;
  const float *ck = r->cross_k + (size_t)layer * n * d, *cv = r->cross_v + (size_t)layer * n * d;
  for (int i = 0; i < k; i++)
    for (int h = 0; h < H; h++) {
      float *probs = cross + ((size_t)i * maps + (size_t)layer * H + h) * n;
      attend(r->q + (size_t)i * d + h * hd, ck + h * hd, cv + h * hd, 1, n, hd, d, probs,
             r->ctx + (size_t)i * d + h * hd);
    }
  attn_linear_hq(r->o, r->ctx, d, a->o_w, a->o_h, &a->o_q8, a->o_b, k, d, d);
  add_norm(x, r->o, L->cross_ln_g, L->cross_ln_b, k, d, tf->eps);
}

attn_status attn_tf_step(attn_tf_run *r, const int32_t *tokens, int k, int step, float *logits,
                         float *cross, float *self_out, attn_error *err) {
  const attn_transformer *tf = r->tf;
  const attn_tf_dims *D = &tf->dims;
  if (k < 1 || k > r->capacity || step < 0 || step >= r->max_len)
    return attn_error_set(err, ATTN_E_ARG, "decoder step %d with %d hypotheses is out of range", step, k);
  attn_status st = attn_check_ids(tokens, k, D->vocab, "decoder input", err);
  if (st != ATTN_OK) return st;
  float *x = r->x;
  if (step + 1 > r->filled) r->filled = step + 1;
  embed(tf, tokens, k, step, 0, x);
  for (int l = 0; l < D->dec_layers; l++) {
    const tf_layer *L = &tf->dec[l];
    decoder_self_attn(r, L, l, k, step, x, self_out);
    decoder_cross_attn(r, L, l, k, x, cross);
    feed_forward(tf, L, x, r->ffn, r->o, k, tf->dims.dec_ffn);
  }
  /* logits = x lm_head^T + bias: read once per step (from halves where there are some) */
  attn_linear_hq(logits, x, D->d_model, tf->lm_head, tf->lm_head_h, &tf->lm_head_q8, tf->logits_bias, k, D->d_model,
             D->vocab);
  return ATTN_OK;
}

static attn_status s2s_step(void *self, const int32_t *tokens, int k, int step, float *logprobs, float *cross,
                            attn_error *err) {
  attn_tf_run *r = self;
  attn_status st = attn_tf_step(r, tokens, k, step, logprobs, cross, NULL, err);
  if (st != ATTN_OK) return st;
  int V = r->tf->dims.vocab;
  attn_log_softmax(logprobs, k, V);
  for (int i = 0; i < k; i++) logprobs[(size_t)i * V + r->tf->dims.pad] = -INFINITY;
  return ATTN_OK;
}

static void s2s_reorder(void *self, const int32_t *parents, int k) {
  attn_tf_run *r = self;
  /* each hypothesis's cache is max_len positions; only the first `filled` hold anything */
  size_t stride = (size_t)r->max_len * r->tf->dims.d_model, used = (size_t)r->filled * r->tf->dims.d_model;
  for (int l = 0; l < r->tf->dims.dec_layers; l++) {
    for (int i = 0; i < k; i++) {
      memcpy(r->tmp_k + i * stride, cache_at(r->self_k, r, l, parents[i]), used * sizeof(float));
      memcpy(r->tmp_v + i * stride, cache_at(r->self_v, r, l, parents[i]), used * sizeof(float));
    }
    for (int i = 0; i < k; i++) {
      memcpy(cache_at(r->self_k, r, l, i), r->tmp_k + i * stride, used * sizeof(float));
      memcpy(cache_at(r->self_v, r, l, i), r->tmp_v + i * stride, used * sizeof(float));
    }
  }
}

attn_s2s attn_tf_run_s2s(attn_tf_run *r) {
  const attn_tf_dims *D = &r->tf->dims;
  return (attn_s2s){.vocab = D->vocab, .keys = r->n_src, .n_maps = D->dec_layers * D->dec_heads,
                    .capacity = r->capacity, .start_token = D->decoder_start, .eos = D->eos,
                    .max_len = r->max_len, .self = r, .step = s2s_step, .reorder = s2s_reorder};
}
