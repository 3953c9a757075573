/* Float32 kernels on OpenBLAS; each has a naive twin in tests/test_ops.c. */
#include "attn_ops.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "attn_kernels.h"

int attn_simd_enabled = 1;

#ifdef ATTN_SMALL_ROWS
/* y = (accumulate ? y : 0) + b + x W^T (W's rows ldw apart) for M rows, four at a time through
 * the kernels: W as floats, or as halves when Wh is given. Missing rows of the last group
 * repeat its first; their sums are not stored. */
static void rows_in_fours(float *y, int ldy, const float *x, int ldx, const float *W, int ldw, const uint16_t *Wh,
                          const float *b, int M, int in, int out, int accumulate) {
  for (int r0 = 0; r0 < M; r0 += 4) {
    int rows = M - r0 < 4 ? M - r0 : 4;
    const float *xs[4];
    float *ys[4];
    for (int r = 0; r < 4; r++) {
      int rr = r < rows ? r0 + r : r0;
      xs[r] = x + (int64_t)rr * ldx, ys[r] = y + (int64_t)rr * ldy;
    }
    if (!Wh) attn_rows4_bt(ys, xs, rows, W, ldw, b, in, out, accumulate);
    else if (rows == 1) attn_rows1_h(ys, xs, 1, Wh, b, in, out, accumulate);
    else attn_rows4_h(ys, xs, rows, Wh, b, in, out, accumulate);
  }
}
#endif

void attn_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
               const float *B, int ldb, float beta, float *C, int ldc) {
#ifdef ATTN_SMALL_ROWS
  if (!trans_a && trans_b && alpha == 1.0f && (beta == 0.0f || beta == 1.0f) && M >= 2 && M <= 8 &&
      attn_simd_enabled && attn_kernels_have_avx2_fma()) {
    rows_in_fours(C, ldc, A, lda, B, ldb, NULL, NULL, M, K, N, beta == 1.0f);
    return;
  }
#endif
  if (M == 1) { /* one query row (a decoder step's attention): sgemv, where sgemm would pack B */
    int incx = trans_a ? lda : 1;
    if (trans_b) cblas_sgemv(CblasRowMajor, CblasNoTrans, N, K, alpha, B, ldb, A, incx, beta, C, 1);
    else cblas_sgemv(CblasRowMajor, CblasTrans, K, N, alpha, B, ldb, A, incx, beta, C, 1);
    return;
  }
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void attn_linear(float *y, const float *x, const float *W, const float *b, int M, int in, int out) {
  attn_linear_h(y, x, in, W, NULL, b, M, in, out);
}

/* f as a half, when it is exactly one (else 0 and *h untouched). */
static int exact_half(float f, uint16_t *h) {
  uint32_t bits;
  memcpy(&bits, &f, sizeof bits);
  uint32_t sign = (bits >> 16) & 0x8000u, exp = (bits >> 23) & 0xffu, mant = bits & 0x7fffffu;
  if (exp == 0 && mant == 0) {
    *h = (uint16_t)sign;
    return 1;
  }
  int e = (int)exp - 127 + 15;
  if (exp == 0xff || e >= 31) return 0;
  if (e >= 1) {
    if (mant & 0x1fffu) return 0;
    *h = (uint16_t)(sign | ((uint32_t)e << 10) | (mant >> 13));
    return 1;
  }
  int shift = 126 - (int)exp; /* a subnormal half: value = m * 2^-24 */
  uint32_t full = mant | 0x800000u;
  if (shift > 24 || (full & ((1u << shift) - 1u))) return 0;
  *h = (uint16_t)(sign | (full >> shift));
  return 1;
}

/* ---- a pool of half copies ---- */

#define HUGE_PAGE ((size_t)2 << 20)

int attn_half_pool_init(attn_half_pool *p, size_t max_values) {
  memset(p, 0, sizeof *p);
#ifdef ATTN_SMALL_ROWS
  if (!attn_simd_enabled || !attn_kernels_have_f16c() || max_values == 0) return -1;
  size_t cap = (max_values * sizeof(uint16_t) + 64 * 64 + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
  size_t len = cap + HUGE_PAGE; /* room to start on a 2 MB boundary */
  void *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) return -1;
  unsigned char *base = (unsigned char *)(((uintptr_t)map + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
#ifdef MADV_HUGEPAGE
  madvise(base, cap, MADV_HUGEPAGE); /* a hint: without it the pool is still one block */
#endif
  p->map = map, p->map_len = len, p->base = base, p->cap = cap;
  return 0;
#else
  (void)max_values;
  return -1;
#endif
}

uint16_t *attn_half_pool_copy(attn_half_pool *p, const float *w, size_t n) {
  size_t bytes = (n * sizeof(uint16_t) + 63) & ~(size_t)63;
  if (!p->base || n == 0 || bytes > p->cap - p->used) return NULL;
  uint16_t *h = (uint16_t *)(void *)(p->base + p->used);
  for (size_t i = 0; i < n; i++)
    if (!exact_half(w[i], &h[i])) return NULL; /* the space is reused by the next copy */
  p->used += bytes;
  return h;
}

void attn_half_pool_release(attn_half_pool *p) {
  if (p->map) munmap(p->map, p->map_len);
  memset(p, 0, sizeof *p);
}

void attn_linear_h(float *y, const float *x, int ldx, const float *W, const uint16_t *Wh, const float *b, int M,
                   int in, int out) {
#ifdef ATTN_SMALL_ROWS
  if (Wh && M <= 8 && attn_simd_enabled) { /* Wh exists only where the CPU has F16C */
    rows_in_fours(y, out, x, ldx, NULL, 0, Wh, b, M, in, out, 0);
    return;
  }
#else
  (void)Wh;
#endif
  if (b)
    for (int r = 0; r < M; r++) memcpy(y + (int64_t)r * out, b, (size_t)out * sizeof(float));
  attn_gemm(0, 1, M, out, in, 1.0f, x, ldx, W, in, b ? 1.0f : 0.0f, y, out); /* gemv, few-row kernel or sgemm */
}

/* ---- int8 ---- */

int attn_int8_enabled = -1;

int attn_q8_available(void) {
#ifdef ATTN_SMALL_ROWS
  if (attn_int8_enabled < 0) {
    const char *env = getenv("ATTNLENS_INT8");
    attn_int8_enabled = !(env && strcmp(env, "0") == 0);
  }
  return attn_int8_enabled == 1 && attn_simd_enabled && attn_kernels_have_vnni();
#else
  return 0;
#endif
}

#define Q8_MAX_IN 4096 /* the row buffers of attn_linear_q8 live on the stack */

void attn_q8_free(attn_q8 *q) {
  free(q->w), free(q->wp), free(q->scale), free(q->wsum);
  memset(q, 0, sizeof *q);
}

int attn_q8_init(attn_q8 *q, const float *W, int out, int in) {
  memset(q, 0, sizeof *q);
  if (!attn_q8_available() || out < 1 || in < 1 || in > Q8_MAX_IN) return -1;
  int in32 = (in + 31) / 32 * 32;
  q->w = calloc((size_t)out * in32, 1);
  q->scale = malloc((size_t)out * sizeof(float));
  q->wsum = malloc((size_t)out * sizeof(int32_t));
  if (!q->w || !q->scale || !q->wsum) {
    attn_q8_free(q);
    return -1;
  }
  q->in = in, q->in32 = in32, q->out = out;
  for (int o = 0; o < out; o++) {
    const float *row = W + (size_t)o * in;
    float amax = 0.0f;
    for (int j = 0; j < in; j++) amax = fmaxf(amax, fabsf(row[j]));
    float scale = amax > 0.0f ? amax / 127.0f : 1.0f;
    int32_t sum = 0;
    for (int j = 0; j < in; j++) {
      int v = (int)lrintf(row[j] / scale);
      v = v > 127 ? 127 : v < -127 ? -127 : v;
      q->w[(size_t)o * in32 + j] = (int8_t)v;
      sum += v;
    }
    q->scale[o] = scale, q->wsum[o] = sum;
  }
#ifdef ATTN_SMALL_ROWS
  if (attn_kernels_have_avx512_vnni()) {
    size_t bytes = (size_t)(out + 15) / 16 * 16 * in32;
    if (posix_memalign((void **)&q->wp, 64, bytes) != 0) {
      q->wp = NULL;
      attn_q8_free(q);
      return -1;
    }
    attn_q8_pack16(q->wp, q->w, in32, out);
  }
#endif
  return 0;
}

void attn_linear_q8(float *y, const float *x, int ldx, const attn_q8 *q, const float *b, int M) {
#ifdef ATTN_SMALL_ROWS
  enum { CHUNK = 512 };
  uint8_t xq[4][Q8_MAX_IN];
  int32_t acc[4][CHUNK];
  for (int r0 = 0; r0 < M; r0 += 4) {
    int rows = M - r0 < 4 ? M - r0 : 4;
    float sx[4];
    const uint8_t *xs[4];
    int32_t *as[4];
    for (int r = 0; r < 4; r++) {
      if (r < rows) sx[r] = attn_quantize_u8(xq[r], x + (int64_t)(r0 + r) * ldx, q->in, q->in32);
      xs[r] = xq[r < rows ? r : 0], as[r] = acc[r];
    }
    for (int o0 = 0; o0 < q->out; o0 += CHUNK) {
      int n = q->out - o0 < CHUNK ? q->out - o0 : CHUNK;
      if (q->wp && attn_kernels_q8_wide) /* a group of sixteen packed rows is 16 * in32 bytes too */
        attn_rows4_q8_packed(as, xs, rows, q->wp + (size_t)o0 * q->in32, q->in32, n);
      else
        attn_rows4_q8(as, xs, rows, q->w + (size_t)o0 * q->in32, q->in32, n);
      const float *scale = q->scale + o0;
      const int32_t *wsum = q->wsum + o0;
      for (int r = 0; r < rows; r++) {
        float *yr = y + (int64_t)(r0 + r) * q->out + o0;
        const int32_t *a = acc[r];
        if (b)
          for (int o = 0; o < n; o++) yr[o] = sx[r] * scale[o] * (float)(a[o] - 128 * wsum[o]) + b[o0 + o];
        else
          for (int o = 0; o < n; o++) yr[o] = sx[r] * scale[o] * (float)(a[o] - 128 * wsum[o]);
      }
    }
  }
#else
  (void)y, (void)x, (void)ldx, (void)q, (void)b, (void)M;
#endif
}

void attn_linear_hq(float *y, const float *x, int ldx, const float *W, const uint16_t *Wh, const attn_q8 *q,
                    const float *b, int M, int in, int out) {
  /* One row reads the weights once, so halves do as well as bytes there; without halves (weights
   * stored as int8 rows are not exact halves) the bytes beat float32 by 4x. */
  if (q && q->w && M >= 1 && M <= 8 && (M >= 2 || !Wh)) attn_linear_q8(y, x, ldx, q, b, M);
  else attn_linear_h(y, x, ldx, W, Wh, b, M, in, out);
}

void attn_matvec(float *y, const float *W, const float *x, const float *b, int out, int in) {
  if (b)
    for (int o = 0; o < out; o++) y[o] = b[o];
  cblas_sgemv(CblasRowMajor, CblasNoTrans, out, in, 1.0f, W, in, x, 1, b ? 1.0f : 0.0f, y, 1);
}

static float row_max(const float *x, int n) {
  float m = -INFINITY;
  for (int i = 0; i < n; i++)
    if (x[i] > m) m = x[i];
  return m;
}

/* sum_i exp(v[i] - m), and v[i] = that term where store is set. */
static double exp_sum(float *v, int n, float m, int store) {
#ifdef ATTN_SMALL_ROWS
  if (attn_simd_enabled && attn_kernels_have_avx2_fma()) return attn_vec_exp_sum(store ? v : NULL, v, n, m);
#endif
  double sum = 0.0;
  for (int i = 0; i < n; i++) {
    float e = expf(v[i] - m);
    if (store) v[i] = e;
    sum += e;
  }
  return sum;
}

void attn_softmax(float *x, int rows, int cols) {
  for (int r = 0; r < rows; r++) {
    float *v = x + (int64_t)r * cols;
    float m = row_max(v, cols);
    if (m == -INFINITY) m = 0.0f; /* fully masked row: all exp() are 0 below */
    double sum = exp_sum(v, cols, m, 1);
    float inv = sum > 0.0 ? (float)(1.0 / sum) : 0.0f;
    for (int i = 0; i < cols; i++) v[i] *= inv;
  }
}

void attn_log_softmax(float *x, int rows, int cols) {
  for (int r = 0; r < rows; r++) {
    float *v = x + (int64_t)r * cols;
    float m = row_max(v, cols);
    float lse = m + (float)log(exp_sum(v, cols, m, 0));
    for (int i = 0; i < cols; i++) v[i] -= lse;
  }
}

void attn_layer_norm(float *out, const float *x, const float *gamma, const float *beta,
                     int rows, int dim, float eps) {
  for (int r = 0; r < rows; r++) {
    const float *v = x + (int64_t)r * dim;
    float *o = out + (int64_t)r * dim;
    double mean = 0.0, var = 0.0;
    for (int i = 0; i < dim; i++) mean += v[i];
    mean /= dim;
    for (int i = 0; i < dim; i++) var += (v[i] - mean) * (v[i] - mean);
    var /= dim;
    float inv = (float)(1.0 / sqrt(var + eps));
    for (int i = 0; i < dim; i++)
      o[i] = (float)(v[i] - mean) * inv * (gamma ? gamma[i] : 1.0f) + (beta ? beta[i] : 0.0f);
  }
}

void attn_tanh(float *x, int64_t n) {
#ifdef ATTN_SMALL_ROWS
  if (attn_simd_enabled && attn_kernels_have_avx2_fma()) {
    attn_vec_tanh(x, n);
    return;
  }
#endif
  for (int64_t i = 0; i < n; i++) x[i] = attn_tanh1(x[i]);
}

void attn_sigmoid(float *x, int64_t n) {
#ifdef ATTN_SMALL_ROWS
  if (attn_simd_enabled && attn_kernels_have_avx2_fma()) {
    attn_vec_sigmoid(x, n);
    return;
  }
#endif
  for (int64_t i = 0; i < n; i++) x[i] = 1.0f / (1.0f + expf(-x[i]));
}

void attn_gru_update(float *h, float *gi, const float *gh, int H) {
  for (int i = 0; i < 2 * H; i++) gi[i] += gh[i];
  attn_sigmoid(gi, 2 * H);
  const float *r = gi, *z = gi + H;
  float *n = gi + 2 * H;
  for (int i = 0; i < H; i++) n[i] += r[i] * gh[2 * H + i];
  attn_tanh(n, H);
  for (int i = 0; i < H; i++) h[i] = (1.0f - z[i]) * n[i] + z[i] * h[i];
}

void attn_relu(float *x, int64_t n) {
  for (int64_t i = 0; i < n; i++) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void attn_gelu(float *x, int64_t n) {
  for (int64_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float)M_SQRT1_2));
}

void attn_silu(float *x, int64_t n) {
  for (int64_t i = 0; i < n; i++) x[i] = x[i] / (1.0f + expf(-x[i]));
}

void attn_add(float *y, const float *x, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] += x[i];
}

int attn_embedding(float *out, const float *table, const int32_t *ids, int n, int dim, int vocab,
                   float scale) {
  for (int i = 0; i < n; i++) {
    if (ids[i] < 0 || ids[i] >= vocab) return i;
    const float *row = table + (int64_t)ids[i] * dim;
    for (int d = 0; d < dim; d++) out[(int64_t)i * dim + d] = row[d] * scale;
  }
  return -1;
}

int attn_argmax(const float *x, int n) {
  int best = n > 0 ? 0 : -1;
  for (int i = 1; i < n; i++)
    if (x[i] > x[best]) best = i;
  return best;
}

void attn_set_threads(int n) {
  openblas_set_num_threads(n > 0 ? n : 1);
}
