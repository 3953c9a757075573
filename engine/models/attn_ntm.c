/* NTM forward pass; training/ntm.py is its PyTorch twin and tests/test_ntm.c compares the
 * two. One step: controller, write head (address on the old memory, erase, add), read head
 * (address on the new memory, read), output. */
#include "attn_ntm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attn_ops.h"

#define MEMORY_INIT 1e-6f
#define COS_EPS 1e-8f
#define SHARPEN_EPS 1e-16f

/* B = bits, I = B + 1 + M (controller input), H = controller, N = locations, M = width,
 * P = 3M + 7 + M + 6 (the head parameters: write k, beta, g, s[3], gamma, e, a; read k, beta,
 * g, s[3], gamma). */
struct attn_ntm {
  attn_ntm_dims dims;
  float *data;     /* one allocation holding every tensor below */
  float *w_ih;     /* [4H, I] LSTM, gate order i, f, g, o */
  float *w_hh;     /* [4H, H] */
  float *b_ih;     /* [4H] */
  float *b_hh;     /* [4H] */
  float *w_head;   /* [P, H] */
  float *b_head;   /* [P] */
  float *w_out;    /* [B, H + M] */
  float *b_out;    /* [B] */
  float *h0, *c0;  /* [H] initial controller state */
  float *r0;       /* [M] initial read vector before tanh */
};

static int head_params(int M) { return 3 * M + 6 + M + 6; }

/* ---- loading ---- */

static attn_status read_config(attn_ntm_dims *D, const cJSON *cfg, attn_error *err) {
  int ok = attn_config_int(cfg, "bits", ATTN_CONFIG_REQUIRED_INT, 1, 64, &D->bits, err) == ATTN_OK;
  ok = ok && attn_config_int(cfg, "controller_size", ATTN_CONFIG_REQUIRED_INT, 1, 4096, &D->controller, err) == ATTN_OK;
  ok = ok && attn_config_int(cfg, "memory_locations", ATTN_CONFIG_REQUIRED_INT, 3, 4096, &D->locations, err) == ATTN_OK;
  ok = ok && attn_config_int(cfg, "memory_width", ATTN_CONFIG_REQUIRED_INT, 1, 1024, &D->width, err) == ATTN_OK;
  ok = ok && attn_config_int(cfg, "max_sequence", 64, 1, 1000, &D->max_sequence, err) == ATTN_OK;
  return ok ? ATTN_OK : (err ? err->code : ATTN_E_FORMAT);
}

static attn_status load_weights(attn_ntm *m, const attn_model_dir *dir, attn_error *err) {
  const attn_ntm_dims *D = &m->dims;
  int H = D->controller, M = D->width, B = D->bits, I = B + 1 + M, P = head_params(M);
  attn_tensor_spec specs[] = {
      {"lstm.weight_ih", 2, {4 * H, I}}, {"lstm.weight_hh", 2, {4 * H, H}}, {"lstm.bias_ih", 1, {4 * H}},
      {"lstm.bias_hh", 1, {4 * H}},      {"head.weight", 2, {P, H}},        {"head.bias", 1, {P}},
      {"out.weight", 2, {B, H + M}},     {"out.bias", 1, {B}},              {"h0_bias", 1, {H}},
      {"c0_bias", 1, {H}},               {"r0_bias", 1, {M}},
  };
  float **dst[] = {&m->w_ih, &m->w_hh, &m->b_ih, &m->b_hh, &m->w_head, &m->b_head,
                   &m->w_out, &m->b_out, &m->h0, &m->c0, &m->r0};
  return attn_model_dir_load_all(dir, specs, dst, (int)(sizeof specs / sizeof specs[0]), &m->data, err);
}

void attn_ntm_free(attn_ntm *m) {
  if (!m) return;
  free(m->data);
  free(m);
}

attn_ntm *attn_ntm_load(const attn_model_dir *dir, attn_error *err) {
  attn_ntm *m = calloc(1, sizeof *m);
  if (!m) {
    attn_error_set(err, ATTN_E_NOMEM, "out of memory loading the model");
    return NULL;
  }
  attn_status st = read_config(&m->dims, attn_model_dir_config(dir), err);
  if (st == ATTN_OK) st = load_weights(m, dir, err);
  if (st != ATTN_OK) {
    attn_ntm_free(m);
    return NULL;
  }
  return m;
}

const attn_ntm_dims *attn_ntm_model_dims(const attn_ntm *m) { return &m->dims; }

/* ---- one step ---- */

static float sigmoid1(float x) { return 1.0f / (1.0f + expf(-x)); }
static float softplus1(float x) { return x > 20.0f ? x : log1pf(expf(x)); }

/* The activated parameters of one head; p points at its raw values (k first). */
typedef struct head {
  const float *raw_k;
  float beta, g, s[3], gamma;
} head;

static head head_from(const float *p, int M) {
  head h = {p, softplus1(p[M]), sigmoid1(p[M + 1]), {p[M + 2], p[M + 3], p[M + 4]}, 1.0f + softplus1(p[M + 5])};
  attn_softmax(h.s, 1, 3);
  return h;
}

/* Content and location addressing: w (in: the previous weighting, out: the new one), with
 * scratch k [M] and tmp [N]. */
static void address(const head *h, const float *mem, int N, int M, float *w, float *k, float *tmp) {
  float knorm = 0.0f;
  for (int j = 0; j < M; j++) {
    k[j] = tanhf(h->raw_k[j]);
    knorm += k[j] * k[j];
  }
  knorm = sqrtf(knorm);
  for (int i = 0; i < N; i++) {
    const float *row = mem + (size_t)i * M;
    float dot = 0.0f, norm = 0.0f;
    for (int j = 0; j < M; j++) dot += k[j] * row[j], norm += row[j] * row[j];
    tmp[i] = h->beta * (dot / (knorm * sqrtf(norm) + COS_EPS));
  }
  attn_softmax(tmp, 1, N);
  for (int i = 0; i < N; i++) tmp[i] = h->g * tmp[i] + (1.0f - h->g) * w[i];
  float sum = 0.0f;
  for (int i = 0; i < N; i++) {
    float shifted = h->s[0] * tmp[(i + 1) % N] + h->s[1] * tmp[i] + h->s[2] * tmp[(i + N - 1) % N];
    w[i] = powf(shifted, h->gamma);
    sum += w[i];
  }
  for (int i = 0; i < N; i++) w[i] /= sum + SHARPEN_EPS;
}

/* Per-run state: controller, memory, weightings, read vector and scratch. */
typedef struct run {
  float *h, *c, *z, *gates, *gh, *p, *hr, *mem, *ww, *wr, *r, *k, *tmp, *e, *a;
  float *block;
} run;

static int run_init(run *s, const attn_ntm *m) {
  const attn_ntm_dims *D = &m->dims;
  size_t H = (size_t)D->controller, N = (size_t)D->locations, M = (size_t)D->width, B = (size_t)D->bits;
  size_t sizes[] = {H, H, B + 1 + M, 4 * H, 4 * H, (size_t)head_params(D->width), H + M, N * M, N, N, M, M, N, M, M};
  float **ptrs[] = {&s->h, &s->c, &s->z, &s->gates, &s->gh, &s->p, &s->hr, &s->mem, &s->ww, &s->wr, &s->r, &s->k,
                    &s->tmp, &s->e, &s->a};
  size_t total = 0;
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) total += sizes[i];
  s->block = calloc(total, sizeof(float));
  if (!s->block) return -1;
  float *at = s->block;
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) *ptrs[i] = at, at += sizes[i];
  memcpy(s->h, m->h0, H * sizeof(float));
  memcpy(s->c, m->c0, H * sizeof(float));
  for (size_t j = 0; j < M; j++) s->r[j] = tanhf(m->r0[j]);
  for (size_t i = 0; i < N * M; i++) s->mem[i] = MEMORY_INIT;
  s->ww[0] = s->wr[0] = 1.0f;
  return 0;
}

/* LSTM cell on z = [x ; r]: h and c in place. */
static void controller(const attn_ntm *m, run *s, const float *x) {
  int H = m->dims.controller, B = m->dims.bits, M = m->dims.width, I = B + 1 + M;
  memcpy(s->z, x, (size_t)(B + 1) * sizeof(float));
  memcpy(s->z + B + 1, s->r, (size_t)M * sizeof(float));
  attn_matvec(s->gates, m->w_ih, s->z, m->b_ih, 4 * H, I);
  attn_matvec(s->gh, m->w_hh, s->h, m->b_hh, 4 * H, H);
  const float *gh = s->gh;
  for (int j = 0; j < H; j++) {
    float i = sigmoid1(s->gates[j] + gh[j]), f = sigmoid1(s->gates[H + j] + gh[H + j]);
    float g = tanhf(s->gates[2 * H + j] + gh[2 * H + j]), o = sigmoid1(s->gates[3 * H + j] + gh[3 * H + j]);
    s->c[j] = f * s->c[j] + i * g;
    s->h[j] = o * tanhf(s->c[j]);
  }
}

/* One step on input x [bits + 1]; y [bits] gets the output. */
static void step(const attn_ntm *m, run *s, const float *x, float *y) {
  int H = m->dims.controller, N = m->dims.locations, M = m->dims.width, B = m->dims.bits;
  controller(m, s, x);
  attn_matvec(s->p, m->w_head, s->h, m->b_head, head_params(M), H);
  head hw = head_from(s->p, M), hr = head_from(s->p + 3 * M + 6, M);
  address(&hw, s->mem, N, M, s->ww, s->k, s->tmp);
  for (int j = 0; j < M; j++) {
    s->e[j] = sigmoid1(s->p[M + 6 + j]);
    s->a[j] = tanhf(s->p[2 * M + 6 + j]);
  }
  for (int i = 0; i < N; i++) {
    float *row = s->mem + (size_t)i * M;
    for (int j = 0; j < M; j++) row[j] = row[j] * (1.0f - s->ww[i] * s->e[j]) + s->ww[i] * s->a[j];
  }
  address(&hr, s->mem, N, M, s->wr, s->k, s->tmp);
  memset(s->r, 0, (size_t)M * sizeof(float));
  for (int i = 0; i < N; i++)
    for (int j = 0; j < M; j++) s->r[j] += s->wr[i] * s->mem[(size_t)i * M + j];
  memcpy(s->hr, s->h, (size_t)H * sizeof(float));
  memcpy(s->hr + H, s->r, (size_t)M * sizeof(float));
  attn_matvec(y, m->w_out, s->hr, m->b_out, B, H + M);
  for (int j = 0; j < B; j++) y[j] = sigmoid1(y[j]);
}

static void save(float *dst, int t, const float *src, int n) {
  if (dst) memcpy(dst + (size_t)t * n, src, (size_t)n * sizeof(float));
}

attn_status attn_ntm_forward(const attn_ntm *m, const float *x, int T, attn_ntm_record *rec, attn_error *err) {
  const attn_ntm_dims *D = &m->dims;
  if (T < 1 || T > 2 * D->max_sequence + 1)
    return attn_error_set(err, ATTN_E_ARG, "%d steps: the model runs 1 to %d", T, 2 * D->max_sequence + 1);
  run s;
  float *y = malloc((size_t)D->bits * sizeof(float));
  if (!y || run_init(&s, m) != 0) {
    free(y);
    return attn_error_set(err, ATTN_E_NOMEM, "out of memory for the memory");
  }
  for (int t = 0; t < T; t++) {
    step(m, &s, x + (size_t)t * (D->bits + 1), y);
    save(rec->outputs, t, y, D->bits);
    save(rec->write, t, s.ww, D->locations);
    save(rec->read, t, s.wr, D->locations);
    save(rec->adds, t, s.a, D->width);
    save(rec->reads, t, s.r, D->width);
  }
  save(rec->memory, 0, s.mem, D->locations * D->width);
  free(y);
  free(s.block);
  return ATTN_OK;
}
