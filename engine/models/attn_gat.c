/* GAT forward pass; training/gat.py is its PyTorch twin and tests/test_gat.c compares
 * the two. */
#include "attn_gat.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attn_util.h"

/* D = in_features, H = heads, F = hidden, C = classes, K = out_heads. */
struct attn_gat {
  attn_gat_dims dims;
  float *data;      /* one allocation holding the tensors below but w1t */
  float *w1;        /* [H*F, D] layer1.weight */
  float *w1t;       /* [D, H*F] its transpose (own allocation): a feature's row is contiguous */
  float *att1_src, *att1_dst; /* [H, F] */
  float *b1;        /* [H*F] */
  float *w2;        /* [K*C, H*F] */
  float *att2_src, *att2_dst; /* [K, C] */
  float *b2;        /* [C] */
};

static attn_status read_config(attn_gat_dims *D, const cJSON *cfg, attn_error *err) {
  int ok = attn_config_int(cfg, "in_features", ATTN_CONFIG_REQUIRED_INT, 1, 1 << 20, &D->in_features, err) == ATTN_OK;
  ok = ok && attn_config_int(cfg, "hidden", ATTN_CONFIG_REQUIRED_INT, 1, 4096, &D->hidden, err) == ATTN_OK;
  ok = ok && attn_config_int(cfg, "heads", ATTN_CONFIG_REQUIRED_INT, 1, 64, &D->heads, err) == ATTN_OK;
  ok = ok && attn_config_int(cfg, "num_classes", ATTN_CONFIG_REQUIRED_INT, 2, 1000, &D->classes, err) == ATTN_OK;
  ok = ok && attn_config_int(cfg, "out_heads", 1, 1, 64, &D->out_heads, err) == ATTN_OK;
  ok = ok && attn_config_float(cfg, "negative_slope", 0.2f, 0.0f, 1.0f, &D->negative_slope, err) == ATTN_OK;
  if (!ok) return err ? err->code : ATTN_E_FORMAT;
  if ((int64_t)D->in_features * D->heads * D->hidden > ((int64_t)1 << 28))
    return attn_error_set(err, ATTN_E_VALUE, "config.json: layer 1 of %d x %d x %d is too large", D->in_features,
                          D->heads, D->hidden);
  return ATTN_OK;
}

static attn_status load_weights(attn_gat *m, const attn_model_dir *dir, attn_error *err) {
  const attn_gat_dims *D = &m->dims;
  int HF = D->heads * D->hidden, KC = D->out_heads * D->classes;
  attn_tensor_spec specs[] = {
      {"layer1.weight", 2, {HF, D->in_features}}, {"layer1.att_src", 2, {D->heads, D->hidden}},
      {"layer1.att_dst", 2, {D->heads, D->hidden}}, {"layer1.bias", 1, {HF}},
      {"layer2.weight", 2, {KC, HF}}, {"layer2.att_src", 2, {D->out_heads, D->classes}},
      {"layer2.att_dst", 2, {D->out_heads, D->classes}}, {"layer2.bias", 1, {D->classes}}};
  float **dst[] = {&m->w1, &m->att1_src, &m->att1_dst, &m->b1, &m->w2, &m->att2_src, &m->att2_dst, &m->b2};
  attn_status st = attn_model_dir_load_all(dir, specs, dst, 8, &m->data, err);
  if (st != ATTN_OK) return st;
  m->w1t = malloc((size_t)D->in_features * HF * sizeof *m->w1t);
  if (!m->w1t) return attn_error_set(err, ATTN_E_NOMEM, "out of memory for the GAT weights");
  for (int o = 0; o < HF; o++)
    for (int c = 0; c < D->in_features; c++) m->w1t[(size_t)c * HF + o] = m->w1[(size_t)o * D->in_features + c];
  return ATTN_OK;
}

attn_gat *attn_gat_load(const attn_model_dir *dir, attn_error *err) {
  attn_gat *m = calloc(1, sizeof *m);
  if (!m) {
    attn_error_set(err, ATTN_E_NOMEM, "out of memory");
    return NULL;
  }
  if (read_config(&m->dims, attn_model_dir_config(dir), err) != ATTN_OK || load_weights(m, dir, err) != ATTN_OK) {
    attn_gat_free(m);
    return NULL;
  }
  return m;
}

void attn_gat_free(attn_gat *m) {
  if (!m) return;
  free(m->data);
  free(m->w1t);
  free(m);
}

const attn_gat_dims *attn_gat_model_dims(const attn_gat *m) { return &m->dims; }

/* ---- forward ---- */

static float dot(const float *a, const float *b, int n) {
  float s = 0.0f;
  for (int i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

/* One GAT layer's attention over h [n, H, Fo]: alpha [E, H] (softmax over each node's
 * list of LeakyReLU(a_dst . h_i + a_src . h_j)) and out [n, H, Fo] = sum_j alpha_ij h_j.
 * s [2, n, H] is scratch. */
static void attend(const attn_gat_graph *g, const float *h, int H, int Fo, const float *a_src, const float *a_dst,
                   float slope, float *s, float *alpha, float *out) {
  float *s_src = s, *s_dst = s + (size_t)g->n * H;
  for (int i = 0; i < g->n; i++)
    for (int k = 0; k < H; k++) {
      s_src[(size_t)i * H + k] = dot(h + ((size_t)i * H + k) * Fo, a_src + (size_t)k * Fo, Fo);
      s_dst[(size_t)i * H + k] = dot(h + ((size_t)i * H + k) * Fo, a_dst + (size_t)k * Fo, Fo);
    }
  memset(out, 0, (size_t)g->n * H * Fo * sizeof *out);
  for (int i = 0; i < g->n; i++)
    for (int k = 0; k < H; k++) {
      float mx = -INFINITY, sum = 0.0f, *o = out + ((size_t)i * H + k) * Fo;
      for (int e = g->nb_ptr[i]; e < g->nb_ptr[i + 1]; e++) {
        float v = s_dst[(size_t)i * H + k] + s_src[(size_t)g->nb_idx[e] * H + k];
        v = v > 0.0f ? v : slope * v;
        alpha[(size_t)e * H + k] = v;
        mx = v > mx ? v : mx;
      }
      for (int e = g->nb_ptr[i]; e < g->nb_ptr[i + 1]; e++)
        sum += alpha[(size_t)e * H + k] = expf(alpha[(size_t)e * H + k] - mx);
      for (int e = g->nb_ptr[i]; e < g->nb_ptr[i + 1]; e++) {
        float a = alpha[(size_t)e * H + k] /= sum;
        const float *hj = h + ((size_t)g->nb_idx[e] * H + k) * Fo;
        for (int f = 0; f < Fo; f++) o[f] += a * hj[f];
      }
    }
}

/* h [n, H*F] = x W1^T for sparse binary x whose rows are normalised to sum 1. */
static void layer1_project(const attn_gat *m, const attn_gat_graph *g, float *h) {
  int HF = m->dims.heads * m->dims.hidden;
  memset(h, 0, (size_t)g->n * HF * sizeof *h);
  for (int i = 0; i < g->n; i++) {
    int nnz = g->feat_ptr[i + 1] - g->feat_ptr[i];
    float *hi = h + (size_t)i * HF;
    for (int p = g->feat_ptr[i]; p < g->feat_ptr[i + 1]; p++) {
      const float *w = m->w1t + (size_t)g->feat_idx[p] * HF;
      for (int o = 0; o < HF; o++) hi[o] += w[o];
    }
    for (int o = 0; nnz > 0 && o < HF; o++) hi[o] /= (float)nnz;
  }
}

static float elu(float x) { return x > 0.0f ? x : expm1f(x); }

attn_status attn_gat_forward(const attn_gat *m, const attn_gat_graph *g, float *logits, float *alpha1,
                             float *alpha2, attn_error *err) {
  const attn_gat_dims *D = &m->dims;
  int n = g->n, E = g->nb_ptr[n], H = D->heads, K = D->out_heads, C = D->classes, HF = H * D->hidden;
  int maxh = H > K ? H : K, ok = 1;
  float *h1 = attn_alloc_floats((size_t)n * HF, &ok), *x2 = attn_alloc_floats((size_t)n * HF, &ok);
  float *h2 = attn_alloc_floats((size_t)n * K * C, &ok), *o2 = attn_alloc_floats((size_t)n * K * C, &ok);
  float *s = attn_alloc_floats((size_t)2 * n * maxh, &ok);
  float *a1 = alpha1 ? alpha1 : attn_alloc_floats((size_t)E * H, &ok);
  float *a2 = alpha2 ? alpha2 : attn_alloc_floats((size_t)E * K, &ok);
  if (ok) {
    /* layer 1: H heads of F features, concatenated, + bias, ELU */
    layer1_project(m, g, h1);
    attend(g, h1, H, D->hidden, m->att1_src, m->att1_dst, D->negative_slope, s, a1, x2);
    for (size_t i = 0; i < (size_t)n * HF; i++) x2[i] = elu(x2[i] + m->b1[i % HF]);
    /* layer 2: K heads of C features, averaged, + bias */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, K * C, HF, 1.0f, x2, HF, m->w2, HF, 0.0f, h2, K * C);
    attend(g, h2, K, C, m->att2_src, m->att2_dst, D->negative_slope, s, a2, o2);
    for (int i = 0; i < n; i++)
      for (int c = 0; c < C; c++) {
        float sum = 0.0f;
        for (int k = 0; k < K; k++) sum += o2[((size_t)i * K + k) * C + c];
        logits[(size_t)i * C + c] = sum / (float)K + m->b2[c];
      }
  }
  free(h1), free(x2), free(h2), free(o2), free(s);
  if (!alpha1) free(a1);
  if (!alpha2) free(a2);
  return ok ? ATTN_OK : attn_error_set(err, ATTN_E_NOMEM, "out of memory for a graph of %d nodes", n);
}
