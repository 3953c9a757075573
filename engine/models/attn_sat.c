/* Show, Attend and Tell forward pass on OpenBLAS; training/caption_model.py is its PyTorch twin
 * and tests/test_caption.c compares the two. */
#include "attn_sat.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_conv.h"
#include "attn_mobilenet.h"
#include "attn_ops.h"
#include "attn_util.h"

/* V = vocab, E = embed, H = hidden, A = attn_dim, D = ann (annotation size), L = cells.
 * Every Linear is PyTorch layout: y = x W^T + b with W [out, in]. LSTM gates in PyTorch
 * order i, f, g, o (row blocks of the weight matrices). */
struct attn_sat {
  attn_sat_dims dims;
  float *data;                          /* one allocation holding every tensor below */
  float *conv_w[ATTN_SAT_MAX_CONV];     /* [C_k, C_{k-1}, 3, 3] */
  float *conv_b[ATTN_SAT_MAX_CONV];     /* [C_k] */
  attn_mobilenet trunk;                 /* used instead of the convolutions when dims.trunk */
  int trunk_out;                        /* the trunk's channels */
  float *proj_w, *proj_b;               /* [ann, trunk_out], [ann]: projection of the trunk's cells, or NULL */
  float *mean, *std;                    /* [3] input normalisation: (rgb - mean) / std */
  float *pos;                           /* [L, D] added to the cells: where each annotation is */
  float *att_enc;                       /* [A, D] W_a, no bias: keys W_a a_i */
  float *att_dec_w, *att_dec_b;         /* [A, H], [A] W_h h + b */
  float *att_v;                         /* [1, A] */
  float *init_h_w, *init_h_b;           /* [H, D], [H]: h0 = tanh(init_h(mean a)) */
  float *init_c_w, *init_c_b;           /* [H, D], [H]: c0 = tanh(init_c(mean a)) */
  float *beta_w, *beta_b;               /* [1, H], [1]: beta = sigmoid(f_beta(h)) */
  float *cell_w_ih, *cell_b_ih;         /* [4H, E + D], [4H]: input [E(y_{t-1}); z_t] */
  float *cell_w_hh, *cell_b_hh;         /* [4H, H], [4H] */
  float *embed;                         /* [V, E] */
  float *lh_w, *lh_b;                   /* [E, H], [E] L_h */
  float *lz_w;                          /* [E, D] L_z, no bias */
  float *lo_w, *lo_b;                   /* [V, E], [V] L_o */
};

/* ---- loading ---- */

#define MAX_WEIGHTS (2 * ATTN_SAT_MAX_CONV + 24 + ATTN_MOBILENET_MAX_TENSORS + 2)

typedef struct weight {
  char name[48];
  int ndim;
  int64_t shape[4];
  float **dst;
} weight;

static void add(weight *t, int *n, const char *name, int ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3,
                float **dst) {
  weight *w = &t[(*n)++];
  *w = (weight){.ndim = ndim, .shape = {d0, d1, d2, d3}, .dst = dst};
  snprintf(w->name, sizeof w->name, "%s", name);
}

/* The pretrained trunk's tensors (attn_mobilenet_tensors: the names of training/mobilenet.py or
 * mobilenet_v3.py) under encoder.trunk. */
static int trunk_table(attn_sat *m, weight *t) {
  attn_mobilenet_tensor tt[ATTN_MOBILENET_MAX_TENSORS];
  int n = 0, count = attn_mobilenet_tensors(&m->trunk, tt);
  char name[48];
  for (int i = 0; i < count; i++) {
    snprintf(name, sizeof name, "encoder.trunk.%.31s", tt[i].name);
    add(t, &n, name, tt[i].ndim, tt[i].shape[0], tt[i].shape[1], tt[i].shape[2], tt[i].shape[3], tt[i].dst);
  }
  if (m->trunk_out != m->dims.ann) {
    add(t, &n, "encoder.proj.weight", 2, m->dims.ann, m->trunk_out, 0, 0, &m->proj_w);
    add(t, &n, "encoder.proj.bias", 1, m->dims.ann, 0, 0, 0, &m->proj_b);
  }
  return n;
}

/* The tensors the model needs, with their expected shapes; returns how many. */
static int weight_table(attn_sat *m, weight *t) {
  const attn_sat_dims *D = &m->dims;
  int64_t V = D->vocab, E = D->embed, H = D->hidden, A = D->attn_dim, Dm = D->ann, L = D->cells;
  int n = 0;
  char name[48];
  if (D->trunk) n = trunk_table(m, t);
  for (int k = 0; k < D->n_conv && !D->trunk; k++) {
    int64_t in = k == 0 ? 3 : D->channels[k - 1];
    snprintf(name, sizeof name, "encoder.convs.%d.weight", k);
    add(t, &n, name, 4, D->channels[k], in, 3, 3, &m->conv_w[k]);
    snprintf(name, sizeof name, "encoder.convs.%d.bias", k);
    add(t, &n, name, 1, D->channels[k], 0, 0, 0, &m->conv_b[k]);
  }
  add(t, &n, "encoder.mean", 1, 3, 0, 0, 0, &m->mean);
  add(t, &n, "encoder.std", 1, 3, 0, 0, 0, &m->std);
  add(t, &n, "encoder.pos", 2, L, Dm, 0, 0, &m->pos);
  add(t, &n, "attn.enc.weight", 2, A, Dm, 0, 0, &m->att_enc);
  add(t, &n, "attn.dec.weight", 2, A, H, 0, 0, &m->att_dec_w);
  add(t, &n, "attn.dec.bias", 1, A, 0, 0, 0, &m->att_dec_b);
  add(t, &n, "attn.v.weight", 2, 1, A, 0, 0, &m->att_v);
  add(t, &n, "decoder.init_h.weight", 2, H, Dm, 0, 0, &m->init_h_w);
  add(t, &n, "decoder.init_h.bias", 1, H, 0, 0, 0, &m->init_h_b);
  add(t, &n, "decoder.init_c.weight", 2, H, Dm, 0, 0, &m->init_c_w);
  add(t, &n, "decoder.init_c.bias", 1, H, 0, 0, 0, &m->init_c_b);
  add(t, &n, "decoder.f_beta.weight", 2, 1, H, 0, 0, &m->beta_w);
  add(t, &n, "decoder.f_beta.bias", 1, 1, 0, 0, 0, &m->beta_b);
  add(t, &n, "decoder.cell.weight_ih", 2, 4 * H, E + Dm, 0, 0, &m->cell_w_ih);
  add(t, &n, "decoder.cell.bias_ih", 1, 4 * H, 0, 0, 0, &m->cell_b_ih);
  add(t, &n, "decoder.cell.weight_hh", 2, 4 * H, H, 0, 0, &m->cell_w_hh);
  add(t, &n, "decoder.cell.bias_hh", 1, 4 * H, 0, 0, 0, &m->cell_b_hh);
  add(t, &n, "embed.weight", 2, V, E, 0, 0, &m->embed);
  add(t, &n, "out.L_h.weight", 2, E, H, 0, 0, &m->lh_w);
  add(t, &n, "out.L_h.bias", 1, E, 0, 0, 0, &m->lh_b);
  add(t, &n, "out.L_z.weight", 2, E, Dm, 0, 0, &m->lz_w);
  add(t, &n, "out.L_o.weight", 2, V, E, 0, 0, &m->lo_w);
  add(t, &n, "out.L_o.bias", 1, V, 0, 0, 0, &m->lo_b);
  return n;
}

/* Checks every tensor's dtype and shape before allocating (a config could claim any size),
 * then carves them out of one allocation and loads them as F32. */
static attn_status load_weights(attn_sat *m, const attn_model_dir *dir, attn_error *err) {
  weight table[MAX_WEIGHTS];
  attn_tensor_spec specs[MAX_WEIGHTS];
  float **dst[MAX_WEIGHTS];
  int n = weight_table(m, table);
  for (int i = 0; i < n; i++) {
    specs[i] = (attn_tensor_spec){table[i].name, table[i].ndim, {0}};
    memcpy(specs[i].shape, table[i].shape, sizeof table[i].shape);
    dst[i] = table[i].dst;
  }
  attn_status st = attn_model_dir_load_all(dir, specs, dst, n, &m->data, err);
  for (int c = 0; st == ATTN_OK && c < 3; c++)
    if (!(m->std[c] > 0.0f))
      st = attn_error_set(err, ATTN_E_VALUE, "encoder.std[%d] is %g: it must be positive", c, (double)m->std[c]);
  return st;
}

/* A JSON array of n_max or fewer integers in [lo, hi] under key; *n gets their number. */
static attn_status int_array(const cJSON *cfg, const char *key, int lo, int hi, int *out, int n_max, int *n,
                             attn_error *err) {
  const char *file = cfg->string ? cfg->string : "config.json";
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(cfg, key);
  if (!a) return attn_error_set(err, ATTN_E_MISSING, "%s: \"%s\" is missing", file, key);
  if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) < 1 || cJSON_GetArraySize(a) > n_max)
    return attn_error_set(err, ATTN_E_FORMAT, "%s: \"%s\" must be an array of 1 to %d integers", file, key, n_max);
  int i = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, a) {
    if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) || it->valuedouble < lo || it->valuedouble > hi)
      return attn_error_set(err, ATTN_E_VALUE, "%s: \"%s\"[%d] is not an integer in [%d, %d]", file, key, i, lo, hi);
    out[i++] = (int)it->valuedouble;
  }
  *n = i;
  return ATTN_OK;
}

static int config_int(const cJSON *cfg, const char *key, int lo, int hi, int *out, attn_error *err) {
  return attn_config_int(cfg, key, ATTN_CONFIG_REQUIRED_INT, lo, hi, out, err) == ATTN_OK;
}

/* The pretrained trunk's configuration; its stride must divide the image into the grid. */
static attn_status read_trunk(attn_sat *m, const cJSON *cfg, const cJSON *trunk, attn_error *err) {
  attn_sat_dims *D = &m->dims;
  const char *file = "config.json";
  attn_status st = attn_mobilenet_config(&m->trunk, trunk, file, err);
  if (st != ATTN_OK) return st;
  int stride = attn_mobilenet_stride(&m->trunk);
  if (D->image_size % stride)
    return attn_error_set(err, ATTN_E_VALUE, "%s: image_size %d is not a multiple of the trunk's stride %d", file,
                          D->image_size, stride);
  D->trunk = 1;
  D->n_conv = 0;
  D->grid = D->image_size / stride;
  D->cells = D->grid * D->grid;
  m->trunk_out = attn_mobilenet_channels(&m->trunk);
  int proj = 0;
  st = attn_config_int(cfg, "trunk_proj", 0, 0, 1 << 12, &proj, err); /* 0 or absent: no projection */
  if (st != ATTN_OK) return st;
  D->ann = proj ? proj : m->trunk_out;
  return ATTN_OK;
}

/* The optional "hedge": {"min_prob": p in (0, 1], "groups": [[generic id, [specific ids]], ...]}. */
static attn_status read_hedge(attn_sat_dims *D, const cJSON *h, attn_error *err) {
  const char *file = "config.json";
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(h, "min_prob"), *g = cJSON_GetObjectItemCaseSensitive(h, "groups");
  if (!cJSON_IsObject(h) || !cJSON_IsNumber(p) || !(p->valuedouble > 0.0 && p->valuedouble <= 1.0) ||
      !cJSON_IsArray(g) || cJSON_GetArraySize(g) < 1 || cJSON_GetArraySize(g) > ATTN_SAT_MAX_HEDGE)
    return attn_error_set(err, ATTN_E_FORMAT, "%s: \"hedge\" must be {\"min_prob\": a number in (0, 1], \"groups\": 1 to "
                          "%d [generic id, [specific ids]]}", file, ATTN_SAT_MAX_HEDGE);
  D->hedge_min = (float)p->valuedouble;
  const cJSON *grp;
  D->n_hedge = 0;
  cJSON_ArrayForEach(grp, g) {
    attn_sat_hedge *H = &D->hedge[D->n_hedge];
    const cJSON *gen = cJSON_GetArrayItem(grp, 0), *ws = cJSON_GetArrayItem(grp, 1), *w;
    int bad = !cJSON_IsArray(grp) || cJSON_GetArraySize(grp) != 2 || !cJSON_IsNumber(gen) || !cJSON_IsArray(ws) ||
              cJSON_GetArraySize(ws) < 1 || cJSON_GetArraySize(ws) > ATTN_SAT_MAX_HEDGE_WORDS;
    H->n = 0;
    /* range first: casting a double outside int's range is undefined */
    bad = bad || !(gen->valuedouble >= 0 && gen->valuedouble < D->vocab) || gen->valuedouble != floor(gen->valuedouble);
    if (!bad) H->generic = (int)gen->valuedouble;
    if (!bad)
      cJSON_ArrayForEach(w, ws) {
        if (!cJSON_IsNumber(w) || !(w->valuedouble >= 0 && w->valuedouble < D->vocab) ||
            w->valuedouble != floor(w->valuedouble) || (int)w->valuedouble == H->generic)
          bad = 1;
        else
          H->words[H->n++] = (int)w->valuedouble;
      }
    if (bad)
      return attn_error_set(err, ATTN_E_VALUE, "%s: hedge group %d is not [generic id, [1 to %d other ids]] of the "
                            "%d-word vocabulary", file, D->n_hedge, ATTN_SAT_MAX_HEDGE_WORDS, D->vocab);
    D->n_hedge++;
  }
  return ATTN_OK;
}

/* Reads and checks the hyper-parameters; the pools must divide the image into the grid. */
static attn_status read_config(attn_sat *m, const cJSON *cfg, attn_error *err) {
  attn_sat_dims *D = &m->dims;
  const int big = 1 << 12;
  int n_pool = 0, ok = config_int(cfg, "vocab_size", 5, 1 << 20, &D->vocab, err);
  ok = ok && config_int(cfg, "embed_dim", 1, big, &D->embed, err);
  ok = ok && config_int(cfg, "hidden", 1, big, &D->hidden, err);
  ok = ok && config_int(cfg, "attn_dim", 1, big, &D->attn_dim, err);
  ok = ok && config_int(cfg, "image_size", 1, 1024, &D->image_size, err);
  ok = ok && config_int(cfg, "max_length", 1, 1024, &D->max_length, err);
  ok = ok && config_int(cfg, "pad_token_id", 0, D->vocab - 1, &D->pad, err);
  ok = ok && config_int(cfg, "eos_token_id", 0, D->vocab - 1, &D->eos, err);
  ok = ok && config_int(cfg, "decoder_start_token_id", 0, D->vocab - 1, &D->decoder_start, err);
  D->n_suppress = 0; /* optional: the photo model never says <unk> */
  const cJSON *suppress = cJSON_GetObjectItemCaseSensitive(cfg, "suppress_token_ids");
  if (ok && suppress && !cJSON_IsNull(suppress))
    ok = int_array(cfg, "suppress_token_ids", 0, D->vocab - 1, D->suppress, ATTN_SAT_MAX_SUPPRESS, &D->n_suppress,
                   err) == ATTN_OK;
  const cJSON *hedge = cJSON_GetObjectItemCaseSensitive(cfg, "hedge");
  D->n_hedge = 0;
  if (ok && hedge && !cJSON_IsNull(hedge)) ok = read_hedge(D, hedge, err) == ATTN_OK;
  const cJSON *trunk = cJSON_GetObjectItemCaseSensitive(cfg, "trunk");
  if (ok && trunk && !cJSON_IsNull(trunk)) return read_trunk(m, cfg, trunk, err);
  ok = ok && int_array(cfg, "conv_channels", 1, big, D->channels, ATTN_SAT_MAX_CONV, &D->n_conv, err) == ATTN_OK;
  ok = ok && int_array(cfg, "pool_after", 0, 1, D->pool, ATTN_SAT_MAX_CONV, &n_pool, err) == ATTN_OK;
  if (!ok) return err ? err->code : ATTN_E_FORMAT;
  const char *file = cfg->string ? cfg->string : "config.json";
  if (n_pool != D->n_conv)
    return attn_error_set(err, ATTN_E_SHAPE, "%s: pool_after has %d entries for %d convolutions", file, n_pool, D->n_conv);
  int side = D->image_size;
  for (int k = 0; k < D->n_conv; k++) {
    if (D->pool[k] && side % 2)
      return attn_error_set(err, ATTN_E_VALUE, "%s: image_size %d does not halve evenly at pool %d", file,
                            D->image_size, k);
    if (D->pool[k]) side /= 2;
  }
  D->grid = side;
  D->cells = side * side;
  D->ann = D->channels[D->n_conv - 1];
  return ATTN_OK;
}

void attn_sat_free(attn_sat *m) {
  if (!m) return;
  free(m->data);
  free(m);
}

attn_sat *attn_sat_load(const attn_model_dir *dir, attn_error *err) {
  attn_sat *m = calloc(1, sizeof *m);
  if (!m) {
    attn_error_set(err, ATTN_E_NOMEM, "out of memory loading the model");
    return NULL;
  }
  attn_status st = read_config(m, attn_model_dir_config(dir), err);
  if (st == ATTN_OK) st = load_weights(m, dir, err);
  if (st != ATTN_OK) {
    attn_sat_free(m);
    return NULL;
  }
  return m;
}

const attn_sat_dims *attn_sat_model_dims(const attn_sat *m) { return &m->dims; }
const attn_mobilenet *attn_sat_trunk(const attn_sat *m) { return m->dims.trunk ? &m->trunk : NULL; }

/* ---- a run: one image, its annotations and the decoder states ---- */

struct attn_sat_run {
  const attn_sat *m;
  int capacity, max_len;
  float *ann;          /* [L, D] annotations a_i */
  float *keys;         /* [L, A] W_a a_i, computed once per image */
  float *mlp;          /* [L, A] tanh(q + keys) of one hypothesis */
  float *h0, *c0;      /* [H] initial state */
  float *h, *c;        /* [capacity, H] state (h_{t-1}, c_{t-1}) of each hypothesis */
  float *h_tmp, *c_tmp; /* [capacity, H] reorder scratch */
  float *q;            /* [capacity, A] W_h h + b */
  float *x;            /* [capacity, E + D] LSTM input rows [E(y_{t-1}); z_t] */
  float *gates;        /* [capacity, 4H] */
  float *deep;         /* [capacity, E] E(y) + L_h h_t + L_z z_t */
  float *beta;         /* [capacity] */
};

/* Normalised CHW input, the trunk's [D][L] map, then cells row-major plus their position. */
static attn_status encode_trunk(attn_sat_run *r, const float *rgb, attn_error *err) {
  const attn_sat *m = r->m;
  const attn_sat_dims *D = &m->dims;
  size_t plane = (size_t)D->image_size * D->image_size, feat = (size_t)m->trunk_out * D->cells;
  size_t count = 3 * plane + feat + attn_mobilenet_scratch(&m->trunk, D->image_size);
  /* malloc, not calloc: every float is written before it is read, and zeroing ~20 MB per image
   * cost a tenth of the encoding time. */
  float *in = count < SIZE_MAX / sizeof(float) ? malloc(count * sizeof(float)) : NULL;
  if (!in) return attn_error_set(err, ATTN_E_NOMEM, "out of memory encoding the image");
  float *out = in + 3 * plane, *scratch = out + feat;
  for (size_t p = 0; p < plane; p++)
    for (int c = 0; c < 3; c++) in[c * plane + p] = (rgb[p * 3 + c] - m->mean[c]) / m->std[c];
  attn_mobilenet_forward(&m->trunk, in, D->image_size, out, scratch);
  if (m->proj_w) { /* ann[L][D] = out^T [L][C] @ proj_w^T [C][D] + b + pos */
    attn_gemm(1, 1, D->cells, D->ann, m->trunk_out, 1.0f, out, D->cells, m->proj_w, m->trunk_out, 0.0f, r->ann, D->ann);
    for (int i = 0; i < D->cells; i++)
      for (int d = 0; d < D->ann; d++) r->ann[(size_t)i * D->ann + d] += m->proj_b[d] + m->pos[(size_t)i * D->ann + d];
  } else {
    for (int i = 0; i < D->cells; i++)
      for (int d = 0; d < D->ann; d++)
        r->ann[(size_t)i * D->ann + d] = out[(size_t)d * D->cells + i] + m->pos[(size_t)i * D->ann + d];
  }
  free(in);
  return ATTN_OK;
}

/* The CNN: normalise, convolve, pool, then cells row-major plus their position embedding.
 * Ping-pongs between two CHW buffers big enough for the largest feature map. */
static attn_status encode_image(attn_sat_run *r, const float *rgb, attn_error *err) {
  const attn_sat *m = r->m;
  const attn_sat_dims *D = &m->dims;
  if (D->trunk) return encode_trunk(r, rgb, err);
  int side = D->image_size, ch = 3;
  size_t plane = (size_t)side * side, most = 3 * plane, col = 0;
  for (int k = 0, s = side; k < D->n_conv; k++) {
    size_t out = (size_t)D->channels[k] * s * s, need = attn_conv2d_scratch(k ? D->channels[k - 1] : 3, s, s, 3);
    most = out > most ? out : most;
    col = need > col ? need : col;
    if (D->pool[k]) s /= 2;
  }
  int ok = 1;
  float *a = attn_alloc_floats(most, &ok), *b = attn_alloc_floats(most, &ok), *scratch = attn_alloc_floats(col, &ok);
  if (!ok) {
    free(a), free(b), free(scratch);
    return attn_error_set(err, ATTN_E_NOMEM, "out of memory encoding the image");
  }
  for (size_t p = 0; p < plane; p++)
    for (int c = 0; c < 3; c++) a[c * plane + p] = (rgb[p * 3 + c] - m->mean[c]) / m->std[c];
  for (int k = 0; k < D->n_conv; k++) {
    attn_conv2d(b, a, m->conv_w[k], m->conv_b[k], ch, side, side, D->channels[k], 3, 1, scratch);
    ch = D->channels[k];
    attn_relu(b, (int64_t)ch * side * side);
    if (D->pool[k]) {
      attn_maxpool2(a, b, ch, side, side);
      side /= 2;
    } else {
      float *t = a;
      a = b, b = t;
    }
  }
  for (int i = 0; i < D->cells; i++) /* [D][L] -> [L][D] */
    for (int d = 0; d < D->ann; d++) r->ann[(size_t)i * D->ann + d] = a[(size_t)d * D->cells + i] + m->pos[(size_t)i * D->ann + d];
  free(a), free(b), free(scratch);
  return ATTN_OK;
}

/* h0, c0 from the mean annotation; keys once for all steps. */
static void init_decoder(attn_sat_run *r) {
  const attn_sat *m = r->m;
  const attn_sat_dims *D = &m->dims;
  float *mean = r->q; /* scratch: q holds at least D floats */
  memset(mean, 0, (size_t)D->ann * sizeof(float));
  for (int i = 0; i < D->cells; i++) attn_add(mean, r->ann + (size_t)i * D->ann, D->ann);
  for (int d = 0; d < D->ann; d++) mean[d] /= (float)D->cells;
  attn_matvec(r->h0, m->init_h_w, mean, m->init_h_b, D->hidden, D->ann);
  attn_matvec(r->c0, m->init_c_w, mean, m->init_c_b, D->hidden, D->ann);
  attn_tanh(r->h0, D->hidden);
  attn_tanh(r->c0, D->hidden);
  attn_linear(r->keys, r->ann, m->att_enc, NULL, D->cells, D->ann, D->attn_dim);
  for (int i = 0; i < r->capacity; i++) {
    memcpy(r->h + (size_t)i * D->hidden, r->h0, (size_t)D->hidden * sizeof(float));
    memcpy(r->c + (size_t)i * D->hidden, r->c0, (size_t)D->hidden * sizeof(float));
  }
}

void attn_sat_run_free(attn_sat_run *r) {
  if (!r) return;
  float *bufs[] = {r->ann, r->keys, r->mlp, r->h0, r->c0, r->h, r->c, r->h_tmp, r->c_tmp, r->q, r->x, r->gates,
                   r->deep, r->beta};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
  free(r);
}

static int alloc_run(attn_sat_run *r) {
  const attn_sat_dims *D = &r->m->dims;
  size_t cap = (size_t)r->capacity, H = (size_t)D->hidden, L = (size_t)D->cells, Dm = (size_t)D->ann;
  size_t A = (size_t)D->attn_dim, E = (size_t)D->embed;
  int ok = 1;
  r->ann = attn_alloc_floats(L * Dm, &ok), r->keys = attn_alloc_floats(L * A, &ok);
  r->mlp = attn_alloc_floats(L * A, &ok);
  r->h0 = attn_alloc_floats(H, &ok), r->c0 = attn_alloc_floats(H, &ok);
  r->h = attn_alloc_floats(cap * H, &ok), r->c = attn_alloc_floats(cap * H, &ok);
  r->h_tmp = attn_alloc_floats(cap * H, &ok), r->c_tmp = attn_alloc_floats(cap * H, &ok);
  r->q = attn_alloc_floats(cap * (A > Dm ? A : Dm), &ok);
  r->x = attn_alloc_floats(cap * (E + Dm), &ok), r->gates = attn_alloc_floats(cap * 4 * H, &ok);
  r->deep = attn_alloc_floats(cap * E, &ok), r->beta = attn_alloc_floats(cap, &ok);
  return ok;
}

attn_sat_run *attn_sat_run_new(const attn_sat *m, const float *rgb, int capacity, int max_len, attn_error *err) {
  const attn_sat_dims *D = &m->dims;
  if (!rgb || capacity < 1 || capacity > 64 || max_len < 1 || max_len > D->max_length) {
    attn_error_set(err, ATTN_E_ARG, "%d outputs / %d hypotheses exceed the model's limits (%d words)", max_len,
                   capacity, D->max_length);
    return NULL;
  }
  attn_sat_run *r = calloc(1, sizeof *r);
  if (!r) {
    attn_error_set(err, ATTN_E_NOMEM, "out of memory for a caption run");
    return NULL;
  }
  *r = (attn_sat_run){.m = m, .capacity = capacity, .max_len = max_len};
  attn_status st = alloc_run(r) ? ATTN_OK : attn_error_set(err, ATTN_E_NOMEM, "out of memory for a caption run");
  if (st == ATTN_OK) st = encode_image(r, rgb, err);
  if (st != ATTN_OK) {
    attn_sat_run_free(r);
    return NULL;
  }
  init_decoder(r);
  return r;
}

const float *attn_sat_run_annotations(const attn_sat_run *r) { return r->ann; }
const float *attn_sat_run_h0(const attn_sat_run *r) { return r->h0; }
const float *attn_sat_run_c0(const attn_sat_run *r) { return r->c0; }

/* ---- decoder ---- */

static float sigmoidf(float v) { return 1.0f / (1.0f + expf(-v)); }

/* alpha = softmax_i(v . tanh(q + W_a a_i)); beta = sigmoid(f_beta(h)); z = beta * sum_i alpha_i a_i. */
static void attend(attn_sat_run *r, const float *h, const float *q, float *alpha, float *beta, float *z) {
  const attn_sat *m = r->m;
  const attn_sat_dims *D = &m->dims;
  int L = D->cells, A = D->attn_dim;
  /* the L x A tanh in one vectorised call and the scores as one sgemv: a scalar loop here was
   * the largest part of a decoder step */
  for (int i = 0; i < L; i++) {
    const float *key = r->keys + (size_t)i * A;
    float *t = r->mlp + (size_t)i * A;
    for (int a = 0; a < A; a++) t[a] = q[a] + key[a];
  }
  attn_tanh(r->mlp, (int64_t)L * A);
  attn_matvec(alpha, r->mlp, m->att_v, NULL, L, A);
  attn_softmax(alpha, 1, L);
  float g = m->beta_b[0];
  for (int j = 0; j < D->hidden; j++) g += m->beta_w[j] * h[j];
  *beta = sigmoidf(g);
  attn_gemm(0, 0, 1, D->ann, L, *beta, alpha, L, r->ann, D->ann, 0.0f, z, D->ann);
}

/* (h, c) = LSTMCell(x, (h, c)) for k rows, PyTorch gate order i, f, g, o. */
static void lstm(attn_sat_run *r, int k) {
  const attn_sat *m = r->m;
  const attn_sat_dims *D = &m->dims;
  int H = D->hidden, in = D->embed + D->ann;
  attn_linear(r->gates, r->x, m->cell_w_ih, m->cell_b_ih, k, in, 4 * H);
  for (int i = 0; i < k; i++) attn_add(r->gates + (size_t)i * 4 * H, m->cell_b_hh, 4 * H);
  attn_gemm(0, 1, k, 4 * H, H, 1.0f, r->h, H, m->cell_w_hh, H, 1.0f, r->gates, 4 * H);
  for (int i = 0; i < k; i++) { /* the nonlinearities over whole gate rows (vectorised) */
    float *g = r->gates + (size_t)i * 4 * H;
    float *h = r->h + (size_t)i * H, *c = r->c + (size_t)i * H;
    attn_sigmoid(g, 2 * H);
    attn_tanh(g + 2 * H, H);
    attn_sigmoid(g + 3 * H, H);
    for (int j = 0; j < H; j++) h[j] = c[j] = g[H + j] * c[j] + g[j] * g[2 * H + j];
    attn_tanh(h, H);
    for (int j = 0; j < H; j++) h[j] *= g[3 * H + j];
  }
}

/* logits = L_o(E(y) + L_h h_t + L_z z_t) for k rows. */
static void deep_output(attn_sat_run *r, int k, float *logits) {
  const attn_sat *m = r->m;
  const attn_sat_dims *D = &m->dims;
  int E = D->embed, in = E + D->ann;
  attn_linear(r->deep, r->h, m->lh_w, m->lh_b, k, D->hidden, E);
  for (int i = 0; i < k; i++) attn_add(r->deep + (size_t)i * E, r->x + (size_t)i * in, E);
  attn_gemm(0, 1, k, E, D->ann, 1.0f, r->x + E, in, m->lz_w, D->ann, 1.0f, r->deep, E);
  attn_linear(logits, r->deep, m->lo_w, m->lo_b, k, E, D->vocab);
}

attn_status attn_sat_step(attn_sat_run *r, const int32_t *tokens, int k, int step, float *logits, float *alpha,
                          float *beta, attn_error *err) {
  const attn_sat *m = r->m;
  const attn_sat_dims *D = &m->dims;
  if (k < 1 || k > r->capacity || step < 0 || step >= r->max_len)
    return attn_error_set(err, ATTN_E_ARG, "decoder step %d with %d hypotheses is out of range", step, k);
  attn_status st = attn_check_ids(tokens, k, D->vocab, "decoder input", err);
  if (st != ATTN_OK) return st;
  int H = D->hidden, in = D->embed + D->ann;
  attn_linear(r->q, r->h, m->att_dec_w, m->att_dec_b, k, H, D->attn_dim);
  for (int i = 0; i < k; i++) {
    float *row = r->x + (size_t)i * in;
    attn_embedding(row, m->embed, &tokens[i], 1, D->embed, D->vocab, 1.0f);
    attend(r, r->h + (size_t)i * H, r->q + (size_t)i * D->attn_dim, alpha + (size_t)i * D->cells, &beta[i],
           row + D->embed);
  }
  lstm(r, k);
  deep_output(r, k, logits);
  return ATTN_OK;
}

/* The search step: log-probs, and per hypothesis the L weights followed by beta. */
static attn_status s2s_step(void *self, const int32_t *tokens, int k, int step, float *logprobs, float *cross,
                            attn_error *err) {
  attn_sat_run *r = self;
  const attn_sat_dims *D = &r->m->dims;
  int L = D->cells;
  attn_status st = attn_sat_step(r, tokens, k, step, logprobs, cross, r->beta, err);
  if (st != ATTN_OK) return st;
  for (int i = k - 1; i >= 0; i--) { /* [k][L] -> [k][L + 1], last row first so nothing is overwritten */
    memmove(cross + (size_t)i * (L + 1), cross + (size_t)i * L, (size_t)L * sizeof(float));
    cross[(size_t)i * (L + 1) + L] = r->beta[i];
  }
  attn_log_softmax(logprobs, k, D->vocab);
  for (int i = 0; i < k; i++) {
    logprobs[(size_t)i * D->vocab + D->pad] = -INFINITY;
    for (int j = 0; j < D->n_suppress; j++) logprobs[(size_t)i * D->vocab + D->suppress[j]] = -INFINITY;
    float *lp = logprobs + (size_t)i * D->vocab;
    for (int g = 0; g < D->n_hedge; g++) { /* back off to the generic word (attn_sat.h), in the twin's order */
      const attn_sat_hedge *H = &D->hedge[g];
      float best = 0.0f;
      for (int j = 0; j < H->n; j++) {
        float p = expf(lp[H->words[j]]);
        if (p < D->hedge_min) {
          best = p > best ? p : best;
          lp[H->words[j]] = -INFINITY;
        }
      }
      lp[H->generic] = logf(expf(lp[H->generic]) + best);
    }
  }
  return ATTN_OK;
}

static void s2s_reorder(void *self, const int32_t *parents, int k) {
  attn_sat_run *r = self;
  size_t row = (size_t)r->m->dims.hidden * sizeof(float);
  for (int i = 0; i < k; i++) {
    memcpy((char *)r->h_tmp + i * row, (const char *)r->h + (size_t)parents[i] * row, row);
    memcpy((char *)r->c_tmp + i * row, (const char *)r->c + (size_t)parents[i] * row, row);
  }
  memcpy(r->h, r->h_tmp, (size_t)k * row);
  memcpy(r->c, r->c_tmp, (size_t)k * row);
}

attn_s2s attn_sat_run_s2s(attn_sat_run *r) {
  const attn_sat_dims *D = &r->m->dims;
  return (attn_s2s){.vocab = D->vocab, .keys = D->cells + 1, .n_maps = 1, .capacity = r->capacity,
                    .start_token = D->decoder_start, .eos = D->eos, .max_len = r->max_len, .self = r,
                    .step = s2s_step, .reorder = s2s_reorder};
}
