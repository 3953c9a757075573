/* Engine kernels against naive double-precision loops on random inputs. */
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attn_kernels.h"
#include "attn_ops.h"
#include "attn_safetensors.h"
#include "attn_util.h"

static float *rand_vec(GRand *r, int n, double lo, double hi) {
  float *v = g_new(float, n);
  for (int i = 0; i < n; i++) v[i] = (float)g_rand_double_range(r, lo, hi);
  return v;
}

static void assert_close(const float *got, const double *want, int n, double tol) {
  double worst = 0.0;
  for (int i = 0; i < n; i++) worst = fmax(worst, fabs(got[i] - want[i]) / fmax(1.0, fabs(want[i])));
  if (worst > tol) g_test_message("max relative difference %g > %g", worst, tol);
  g_assert_cmpfloat(worst, <=, tol);
}

/* Shapes that exercise 1-row (gemv path), odd sizes and larger blocks. */
static const int shapes[][3] = {{1, 1, 1}, {1, 37, 64}, {3, 5, 7}, {17, 33, 65}, {64, 128, 96},
                                /* the few-row kernel: whole and partial groups of 4, tails of 8 */
                                {2, 9, 8}, {4, 31, 67}, {5, 40, 256}, {8, 3, 17}};

static void test_matmul(void) {
  GRand *r = g_rand_new_with_seed(1);
  for (size_t s = 0; s < G_N_ELEMENTS(shapes); s++) {
    int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
    float *A = rand_vec(r, M * K, -1, 1), *B = rand_vec(r, K * N, -1, 1), *C = g_new(float, M * N);
    float *Bt = g_new(float, N * K);
    double *want = g_new0(double, M * N);
    for (int i = 0; i < M; i++)
      for (int j = 0; j < N; j++)
        for (int k = 0; k < K; k++) want[i * N + j] += (double)A[i * K + k] * B[k * N + j];
    for (int k = 0; k < K; k++)
      for (int j = 0; j < N; j++) Bt[j * K + k] = B[k * N + j];
    attn_gemm(0, 0, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N);
    assert_close(C, want, M * N, 1e-5);
    attn_gemm(0, 1, M, N, K, 1.0f, A, K, Bt, K, 0.0f, C, N);
    assert_close(C, want, M * N, 1e-5);
    attn_gemm(0, 1, M, N, K, 1.0f, A, K, Bt, K, 1.0f, C, N); /* accumulate doubles it */
    for (int i = 0; i < M * N; i++) want[i] *= 2;
    assert_close(C, want, M * N, 1e-5);
    g_free(A), g_free(B), g_free(Bt), g_free(C), g_free(want);
  }
  g_rand_free(r);
}

/* Strided per-head products: a 3-wide head slice of 8-wide rows, with both transposes. */
static void test_gemm_strided(void) {
  GRand *r = g_rand_new_with_seed(7);
  int M = 5, N = 4, K = 3, lda = 8, ldb = 8, ldc = 6;
  float *A = rand_vec(r, M * lda, -1, 1), *B = rand_vec(r, N * ldb, -1, 1), *C = rand_vec(r, M * ldc, -1, 1);
  float *C0 = g_memdup2(C, M * ldc * sizeof(float));
  double *want = g_new0(double, M * N);
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      want[i * N + j] = 0.5 * C0[i * ldc + j];
      for (int k = 0; k < K; k++) want[i * N + j] += 2.0 * A[i * lda + 2 + k] * B[j * ldb + 1 + k];
    }
  attn_gemm(0, 1, M, N, K, 2.0f, A + 2, lda, B + 1, ldb, 0.5f, C, ldc);
  float *got = g_new(float, M * N);
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) got[i * N + j] = C[i * ldc + j];
  assert_close(got, want, M * N, 1e-5);
  for (int i = 0; i < M; i++) /* columns past N untouched */
    for (int j = N; j < ldc; j++) g_assert_cmpfloat(C[i * ldc + j], ==, C0[i * ldc + j]);
  /* alpha 1, beta 1 and 0: the few-row kernel (where the CPU has it), then sgemm */
  for (int small = 1; small >= 0; small--) {
    attn_simd_enabled = small;
    memcpy(C, C0, M * ldc * sizeof(float));
    attn_gemm(0, 1, M, N, K, 1.0f, A + 2, lda, B + 1, ldb, 1.0f, C, ldc);
    for (int i = 0; i < M; i++)
      for (int j = 0; j < N; j++) got[i * N + j] = C[i * ldc + j] - C0[i * ldc + j];
    double *half = g_new(double, M * N);
    for (int i = 0; i < M; i++)
      for (int j = 0; j < N; j++) half[i * N + j] = (want[i * N + j] - 0.5 * C0[i * ldc + j]) / 2.0;
    assert_close(got, half, M * N, 1e-5);
    attn_gemm(0, 1, M, N, K, 1.0f, A + 2, lda, B + 1, ldb, 0.0f, C, ldc);
    for (int i = 0; i < M; i++)
      for (int j = 0; j < N; j++) got[i * N + j] = C[i * ldc + j];
    assert_close(got, half, M * N, 1e-5);
    for (int i = 0; i < M; i++)
      for (int j = N; j < ldc; j++) g_assert_cmpfloat(C[i * ldc + j], ==, C0[i * ldc + j]);
    g_free(half);
  }
  attn_simd_enabled = 1;
  g_free(A), g_free(B), g_free(C), g_free(C0), g_free(want), g_free(got);
  g_rand_free(r);
}

/* One row (a decoder step's query) takes sgemv: every transpose, strided, alpha and beta. */
static void test_gemm_one_row(void) {
  GRand *r = g_rand_new_with_seed(8);
  int N = 6, K = 5, ld = 9;
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++) {
      /* op(A) is 1 x K: A is [1, lda] (row) or [K, lda] (column 0 used); op(B) is K x N */
      float *A = rand_vec(r, K * ld, -1, 1), *B = rand_vec(r, (K > N ? K : N) * ld, -1, 1);
      float *C = rand_vec(r, N, -1, 1), *C0 = g_memdup2(C, N * sizeof(float));
      double want[6];
      for (int n = 0; n < N; n++) {
        double acc = 0;
        for (int k = 0; k < K; k++) {
          double a = ta ? A[k * ld] : A[k], b = tb ? B[n * ld + k] : B[k * ld + n];
          acc += a * b;
        }
        want[n] = 2.0 * acc + 0.5 * C0[n];
      }
      attn_gemm(ta, tb, 1, N, K, 2.0f, A, ld, B, ld, 0.5f, C, N);
      assert_close(C, want, N, 1e-5);
      g_free(A), g_free(B), g_free(C), g_free(C0);
    }
  g_rand_free(r);
}

/* x W^T + b in double precision, for M rows. */
static double *linear_reference(const float *x, const float *W, const float *b, int M, int in, int out) {
  double *want = g_new0(double, M * out);
  for (int i = 0; i < M; i++)
    for (int o = 0; o < out; o++) {
      want[i * out + o] = b[o];
      for (int k = 0; k < in; k++) want[i * out + o] += (double)x[i * in + k] * W[o * in + k];
    }
  return want;
}

static void test_linear(void) {
  GRand *r = g_rand_new_with_seed(2);
  for (size_t s = 0; s < G_N_ELEMENTS(shapes); s++) {
    int M = shapes[s][0], out = shapes[s][1], in = shapes[s][2];
    float *x = rand_vec(r, M * in, -2, 2), *W = rand_vec(r, out * in, -1, 1), *b = rand_vec(r, out, -1, 1);
    float *y = g_new(float, M * out);
    double *want = linear_reference(x, W, b, M, in, out);
    attn_linear(y, x, W, b, M, in, out);
    assert_close(y, want, M * out, 1e-5);
    for (int i = 0; i < M; i++)
      for (int o = 0; o < out; o++) want[i * out + o] -= b[o];
    attn_linear(y, x, W, NULL, M, in, out);
    assert_close(y, want, M * out, 1e-5);
    attn_simd_enabled = 0; /* and the same through sgemm */
    attn_linear(y, x, W, NULL, M, in, out);
    attn_simd_enabled = 1;
    assert_close(y, want, M * out, 1e-5);
    g_free(x), g_free(W), g_free(b), g_free(y), g_free(want);
  }
  g_rand_free(r);
}

/* Weights that are exactly halves (as loaded from an F16 file), some of them subnormal. */
static float *half_vec(GRand *r, int n) {
  float *v = g_new(float, n);
  for (int i = 0; i < n; i++) {
    uint16_t h = (uint16_t)g_rand_int_range(r, i % 7 ? 0x0400 : 1, i % 7 ? 0x4400 : 0x0400); /* |v| < 4 */
    v[i] = attn_f16_to_f32((uint16_t)(h | (g_rand_boolean(r) ? 0x8000 : 0)));
  }
  return v;
}

/* The half-precision weight path: the same products as the float path, from pool copies. */
static void test_linear_half(void) {
  GRand *r = g_rand_new_with_seed(11);
  /* one row: groups of 4 outputs and the rest, 16 inputs at a time, then 8, then single ones */
  const int cases[][3] = {{1, 1, 1}, {1, 37, 64}, {1, 38, 29}, {1, 4, 8}, {1, 7, 45}, {2, 9, 8}, {3, 16, 13}, {4, 31, 67}, {5, 40, 256}, {8, 3, 17}};
  for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
    int M = cases[c][0], out = cases[c][1], in = cases[c][2];
    attn_half_pool pool;
    if (attn_half_pool_init(&pool, (size_t)out * in) != 0) { /* no F16C (or AVX2): the path is never taken */
      g_rand_free(r);
      g_test_skip("no F16C/AVX2 on this CPU: attn_linear_h falls back to attn_linear");
      return;
    }
    float *x = rand_vec(r, M * in, -2, 2), *W = half_vec(r, out * in), *b = rand_vec(r, out, -1, 1);
    uint16_t *Wh = attn_half_pool_copy(&pool, W, (size_t)out * in);
    g_assert_nonnull(Wh);
    float *y = g_new(float, M * out);
    double *want = linear_reference(x, W, b, M, in, out);
    attn_linear_h(y, x, in, W, Wh, b, M, in, out);
    assert_close(y, want, M * out, 1e-5);
    attn_linear_h(y, x, in, W, NULL, b, M, in, out); /* no copy: the float path */
    assert_close(y, want, M * out, 1e-5);
    int ldx = in + 3; /* rows of a wider matrix, as the RNN's decoder input */
    float *xs = g_new0(float, M * ldx);
    for (int i = 0; i < M; i++) memcpy(xs + i * ldx, x + i * in, in * sizeof(float));
    attn_linear_h(y, xs, ldx, W, Wh, b, M, in, out);
    assert_close(y, want, M * out, 1e-5);
    attn_linear_h(y, xs, ldx, W, NULL, b, M, in, out);
    assert_close(y, want, M * out, 1e-5);
    g_free(xs);
    attn_half_pool_release(&pool);
    g_free(x), g_free(W), g_free(b), g_free(y), g_free(want);
  }
  g_rand_free(r);
}

/* The pool holds exact copies (the very same values), 64-byte aligned, refuses weights that
 * are not halves (without using room: the float weights are used then), and runs out cleanly. */
static void test_half_pool(void) {
  attn_half_pool pool;
  if (attn_half_pool_init(&pool, 1000) != 0) {
    g_test_skip("no F16C/AVX2 on this CPU: there are no half copies");
    return;
  }
  GRand *r = g_rand_new_with_seed(21);
  float *a = half_vec(r, 300), *b = half_vec(r, 64 * 33);
  uint16_t *ha = attn_half_pool_copy(&pool, a, 300);
  g_assert_nonnull(ha);
  g_assert_cmpuint((uintptr_t)ha % 64, ==, 0);
  size_t used = pool.used;
  float not_half[3] = {0.5f, 0.1f, 2.0f};
  g_assert_null(attn_half_pool_copy(&pool, not_half, 3));
  g_assert_cmpuint(pool.used, ==, used);
  uint16_t *hb = attn_half_pool_copy(&pool, b, 64 * 33);
  g_assert_nonnull(hb);
  g_assert_cmpuint((uintptr_t)hb % 64, ==, 0);
  for (int i = 0; i < 300; i++) { /* a's copy is intact and exact */
    float back = attn_f16_to_f32(ha[i]);
    g_assert_cmpmem(&back, sizeof back, &a[i], sizeof a[i]);
  }
  g_assert_null(attn_half_pool_copy(&pool, b, pool.cap)); /* more than the room left */
  attn_half_pool_release(&pool);
  g_assert_null(pool.base);
  attn_half_pool_release(&pool); /* twice is harmless */
  g_free(a), g_free(b);
  g_rand_free(r);
}

static void test_softmax(void) {
  GRand *r = g_rand_new_with_seed(3);
  int rows = 7, cols = 53;
  float *x = rand_vec(r, rows * cols, -30, 30), *y = g_memdup2(x, rows * cols * sizeof(float));
  float *z = g_memdup2(x, rows * cols * sizeof(float));
  double *want = g_new(double, rows * cols), *want_log = g_new(double, rows * cols);
  for (int i = 0; i < rows; i++) {
    double sum = 0;
    for (int j = 0; j < cols; j++) sum += exp((double)x[i * cols + j]);
    for (int j = 0; j < cols; j++) {
      want[i * cols + j] = exp((double)x[i * cols + j]) / sum;
      want_log[i * cols + j] = (double)x[i * cols + j] - log(sum);
    }
  }
  attn_softmax(y, rows, cols);
  assert_close(y, want, rows * cols, 1e-6);
  attn_log_softmax(z, rows, cols);
  assert_close(z, want_log, rows * cols, 1e-5);
  g_free(x), g_free(y), g_free(z), g_free(want), g_free(want_log);
  g_rand_free(r);
}

static void test_softmax_extremes(void) {
  float x[4] = {1000.0f, 1000.0f, -INFINITY, 999.0f};
  attn_softmax(x, 1, 4);
  double e = exp(-1.0), s = 2 + e;
  double want[4] = {1 / s, 1 / s, 0.0, e / s};
  assert_close(x, want, 4, 1e-6);
  float masked[3] = {-INFINITY, -INFINITY, -INFINITY};
  attn_softmax(masked, 1, 3); /* a fully masked row must not produce NaN */
  for (int i = 0; i < 3; i++) g_assert_false(isnan(masked[i]));
}

static void test_layer_norm(void) {
  GRand *r = g_rand_new_with_seed(4);
  int rows = 5, dim = 96;
  float *x = rand_vec(r, rows * dim, -3, 5), *g = rand_vec(r, dim, 0.5, 1.5), *b = rand_vec(r, dim, -1, 1);
  float *y = g_new(float, rows * dim);
  double *want = g_new(double, rows * dim);
  for (int i = 0; i < rows; i++) {
    double mean = 0, var = 0;
    for (int j = 0; j < dim; j++) mean += x[i * dim + j];
    mean /= dim;
    for (int j = 0; j < dim; j++) var += pow(x[i * dim + j] - mean, 2);
    var /= dim;
    for (int j = 0; j < dim; j++) want[i * dim + j] = (x[i * dim + j] - mean) / sqrt(var + 1e-5) * g[j] + b[j];
  }
  attn_layer_norm(y, x, g, b, rows, dim, 1e-5f);
  assert_close(y, want, rows * dim, 1e-5);
  attn_layer_norm(x, x, g, b, rows, dim, 1e-5f); /* in place */
  assert_close(x, want, rows * dim, 1e-5);
  g_free(x), g_free(g), g_free(b), g_free(y), g_free(want);
  g_rand_free(r);
}

typedef void (*unary_fn)(float *, int64_t);
static double ref_tanh(double v) { return tanh(v); }
static double ref_sigmoid(double v) { return 1.0 / (1.0 + exp(-v)); }
static double ref_relu(double v) { return v > 0 ? v : 0; }
static double ref_gelu(double v) { return 0.5 * v * (1.0 + erf(v / sqrt(2.0))); }
static double ref_silu(double v) { return v / (1.0 + exp(-v)); }

static void check_unary(unary_fn fn, double (*ref)(double)) {
  GRand *r = g_rand_new_with_seed(5);
  int n = 1001;
  float *x = rand_vec(r, n, -12, 12);
  double *want = g_new(double, n);
  for (int i = 0; i < n; i++) want[i] = ref(x[i]);
  fn(x, n);
  assert_close(x, want, n, 2e-6);
  g_free(x), g_free(want);
  g_rand_free(r);
}

static void test_unary(void) {
  check_unary(attn_tanh, ref_tanh);
  check_unary(attn_sigmoid, ref_sigmoid);
  check_unary(attn_relu, ref_relu);
  check_unary(attn_gelu, ref_gelu);
  check_unary(attn_silu, ref_silu);
}

/* The 8-wide tanh, sigmoid and exp (attn_kernels.c) and their scalar fallbacks, against libm in
 * double precision: relative error, at every length up to two vectors and a tail (so the
 * partial-vector paths run), on wide ranges and on the special values. */
static double max_rel(const float *got, const double *want, int n) {
  double worst = 0.0;
  for (int i = 0; i < n; i++) worst = fmax(worst, want[i] == 0.0 ? fabs(got[i]) : fabs(got[i] - want[i]) / fabs(want[i]));
  return worst;
}

static void test_vector_math(void) {
  static const float special[] = {0.0f, -0.0f, 1e-5f, -3e-4f, 4e-4f, 0.5f, -7.9f, 7.91f, 9.0f, -20.0f, 87.0f, -87.0f};
  GRand *r = g_rand_new_with_seed(11);
  for (int simd = 1; simd >= 0; simd--) {
    attn_simd_enabled = simd;
    for (int n = 1; n <= 1003; n = n < 20 ? n + 1 : n * 7 + 3) {
      float *x = rand_vec(r, n, -25, 25);
      for (int i = 0; i < n && i < (int)G_N_ELEMENTS(special); i += 2) x[i] = special[(i / 2 + n) % G_N_ELEMENTS(special)];
      double *want = g_new(double, n);
      float *y = g_memdup2(x, n * sizeof(float));
      for (int i = 0; i < n; i++) want[i] = tanh(x[i]);
      attn_tanh(y, n);
      g_assert_cmpfloat(max_rel(y, want, n), <=, 1e-6);
      for (int i = 0; i < n; i++) g_assert_cmpfloat(fabsf(y[i]), <=, 1.0f); /* never past +-1 */
      memcpy(y, x, n * sizeof(float));
      for (int i = 0; i < n; i++) want[i] = 1.0 / (1.0 + exp(-(double)x[i]));
      attn_sigmoid(y, n);
      g_assert_cmpfloat(max_rel(y, want, n), <=, 1e-6);
      /* softmax: terms relative to the reference, masked entries exactly 0 */
      if (n > 2) x[n / 2] = -INFINITY;
      memcpy(y, x, n * sizeof(float));
      double m = -INFINITY, sum = 0.0;
      for (int i = 0; i < n; i++) m = fmax(m, x[i]);
      for (int i = 0; i < n; i++) sum += exp((double)x[i] - m);
      for (int i = 0; i < n; i++) want[i] = exp((double)x[i] - m) / sum;
      attn_softmax(y, 1, n);
      /* x - m is rounded to float first: exp's relative error grows by that rounding, |x - m| * 2^-24;
       * terms below 1e-37 are denormal in float, so absolute there */
      for (int i = 0; i < n; i++)
        g_assert_cmpfloat(want[i] < 1e-37 ? fabs(y[i] - want[i]) : fabs(y[i] - want[i]) / want[i], <=,
                          1e-6 + fabs(x[i] - m) * 6e-8);
      if (n > 2) g_assert_true(y[n / 2] == 0.0f);
      memcpy(y, x, n * sizeof(float));
      attn_log_softmax(y, 1, n);
      for (int i = 0; i < n; i++)
        if (isfinite(x[i])) g_assert_cmpfloat(fabs(y[i] - ((double)x[i] - m - log(sum))), <=, 2e-6 * fmax(1.0, fabs(x[i] - m)));
      if (n > 2) g_assert_true(isinf(y[n / 2]) && y[n / 2] < 0);
      g_free(x), g_free(y), g_free(want);
    }
  }
  attn_simd_enabled = 1;
  g_rand_free(r);
}

static void test_embedding(void) {
  GRand *r = g_rand_new_with_seed(6);
  int vocab = 11, dim = 9;
  float *table = rand_vec(r, vocab * dim, -1, 1), out[4 * 9];
  int32_t ids[4] = {3, 0, 10, 3};
  g_assert_cmpint(attn_embedding(out, table, ids, 4, dim, vocab, 2.0f), ==, -1);
  for (int i = 0; i < 4; i++)
    for (int d = 0; d < dim; d++) g_assert_cmpfloat(out[i * dim + d], ==, table[ids[i] * dim + d] * 2.0f);
  int32_t bad[3] = {1, 11, 2};
  g_assert_cmpint(attn_embedding(out, table, bad, 3, dim, vocab, 1.0f), ==, 1);
  int32_t neg[1] = {-1};
  g_assert_cmpint(attn_embedding(out, table, neg, 1, dim, vocab, 1.0f), ==, 0);
  g_free(table);
  g_rand_free(r);
}

static void test_argmax(void) {
  float v[5] = {0.1f, 3.0f, -2.0f, 3.0f, 1.0f};
  g_assert_cmpint(attn_argmax(v, 5), ==, 1);
  g_assert_cmpint(attn_argmax(v, 0), ==, -1);
}

/* The GRU step against PyTorch's formula in double precision. */
static void test_gru_update(void) {
  GRand *r = g_rand_new_with_seed(7);
  for (int H = 1; H <= 33; H += 16) {
    float *h = rand_vec(r, H, -1, 1), *gi = rand_vec(r, 3 * H, -3, 3), *gh = rand_vec(r, 3 * H, -3, 3);
    double *want = g_new(double, H);
    for (int i = 0; i < H; i++) {
      double rg = 1.0 / (1.0 + exp(-((double)gi[i] + gh[i]))), z = 1.0 / (1.0 + exp(-((double)gi[H + i] + gh[H + i])));
      double n = tanh((double)gi[2 * H + i] + rg * gh[2 * H + i]);
      want[i] = (1.0 - z) * n + z * h[i];
    }
    attn_gru_update(h, gi, gh, H);
    assert_close(h, want, H, 1e-5);
    g_free(h), g_free(gi), g_free(gh), g_free(want);
  }
  g_rand_free(r);
}

/* attn_path_base, as the translate, read and caption loaders name their models. */
/* int8 (attn_q8): the quantised weights and activations are what the rounding rules say (checked
 * here in scalar code), the VNNI product equals the integer sum exactly, and y stays within the
 * bound the two roundings allow of the float product. Skipped (said so) without AVX-VNNI. */
static void set_q8_wide(int wide) {
#ifdef ATTN_SMALL_ROWS
  attn_kernels_q8_wide = wide;
#else
  (void)wide;
#endif
}

static void test_linear_int8(void) {
  int saved = attn_int8_enabled;
  attn_int8_enabled = 1;
  if (!attn_q8_available()) {
    attn_int8_enabled = saved;
    g_test_skip("this CPU has no AVX-VNNI: int8 decoding is off and float is used");
    return;
  }
  /* M 1..8: each count of rows the packed AVX-512 kernel compiles separately (and two calls of
   * four); in 96, 40, 7: in32 not a multiple of 64; out 37, 1030, 9, 3: a last group of sixteen
   * packed rows that is partly padding (alone, or after pairs of groups; 1030 crosses the
   * 512-row chunks), and the rows after the AVX2 kernel's pairs */
  const int dims[][3] = {{1, 256, 37}, {3, 256, 1030}, {4, 40, 9}, {8, 1024, 256}, {5, 7, 3}, {4, 96, 39}, {2, 64, 16}};
  for (size_t c = 0; c < 2 * G_N_ELEMENTS(dims); c++) {
    set_q8_wide(c < G_N_ELEMENTS(dims)); /* the AVX-512 kernel where the CPU has it, then AVX2 */
    int M = dims[c % G_N_ELEMENTS(dims)][0], in = dims[c % G_N_ELEMENTS(dims)][1], out = dims[c % G_N_ELEMENTS(dims)][2];
    float *W = g_new(float, (size_t)out * in), *x = g_new(float, (size_t)M * in), *b = g_new(float, out);
    float *y = g_new(float, (size_t)M * out);
    GRand *rng = g_rand_new_with_seed(11 + (guint32)c);
    for (int i = 0; i < out * in; i++) W[i] = (float)g_rand_double_range(rng, -0.5, 0.5);
    for (int i = 0; i < M * in; i++) x[i] = (float)g_rand_double_range(rng, -3, 3);
    for (int o = 0; o < out; o++) b[o] = (float)g_rand_double_range(rng, -1, 1);
    W[0] = 0.0f, x[in - 1] = 0.0f;
    memset(W + (size_t)(out - 1) * in, 0, (size_t)in * sizeof(float)); /* an all-zero weight row */
    attn_q8 q;
    g_assert_cmpint(attn_q8_init(&q, W, out, in), ==, 0);
    g_assert_cmpint(q.in32 % 32, ==, 0);
    g_assert_cmpint(q.in32, >=, in);
    for (int o = 0; o < out; o++) { /* the weights: round(W / scale), scale = max |W[o]| / 127 */
      double amax = 0;
      int32_t sum = 0;
      for (int j = 0; j < in; j++) amax = fmax(amax, fabs(W[(size_t)o * in + j]));
      g_assert_cmpfloat(fabs(q.scale[o] - (amax > 0 ? amax / 127.0 : 1.0)), <=, 1e-7);
      for (int j = 0; j < q.in32; j++) {
        int want = j < in ? (int)lrint(W[(size_t)o * in + j] / q.scale[o]) : 0;
        g_assert_cmpint(q.w[(size_t)o * q.in32 + j], ==, want);
        sum += want;
      }
      g_assert_cmpint(q.wsum[o], ==, sum);
    }
    attn_linear_q8(y, x, in, &q, b, M);
    for (int r = 0; r < M; r++) {
      const float *xr = x + (size_t)r * in;
      double xmax = 0;
      for (int j = 0; j < in; j++) xmax = fmax(xmax, fabs(xr[j]));
      double sx = xmax / 127.0;
      for (int o = 0; o < out; o++) {
        /* the exact integer product of the quantised operands, then the float result it gives */
        int64_t acc = 0;
        double exact = b[o], bound = 0;
        for (int j = 0; j < in; j++) {
          long xq = lrint(xr[j] / sx);
          acc += (int64_t)xq * q.w[(size_t)o * q.in32 + j];
          exact += (double)xr[j] * W[(size_t)o * in + j];
        }
        double quantised = sx * q.scale[o] * (double)acc + b[o];
        g_assert_cmpfloat(fabs(y[(size_t)r * out + o] - quantised), <=, 1e-4 * (1.0 + fabs(quantised)));
        /* each operand is off by at most half a step: |dx| <= sx/2, |dw| <= scale/2 */
        for (int j = 0; j < in; j++)
          bound += fabs(xr[j]) * q.scale[o] / 2 + fabs(W[(size_t)o * in + j]) * sx / 2 + sx * q.scale[o] / 4;
        g_assert_cmpfloat(fabs(y[(size_t)r * out + o] - exact), <=, bound + 1e-4);
      }
    }
    attn_q8_free(&q);
    g_assert_null(q.w);
    g_rand_free(rng);
    g_free(W), g_free(x), g_free(b), g_free(y);
  }
  set_q8_wide(1);
  /* off: no copies are made, and too wide an input is refused */
  attn_q8 q;
  float w[4] = {1, 2, 3, 4};
  attn_int8_enabled = 0;
  g_assert_cmpint(attn_q8_init(&q, w, 2, 2), ==, -1);
  g_assert_null(q.w);
  attn_int8_enabled = 1;
  float *wide = g_new0(float, 5000);
  g_assert_cmpint(attn_q8_init(&q, wide, 1, 5000), ==, -1);
  g_free(wide);
  attn_int8_enabled = saved;
}

static void test_path_base(void) {
  g_assert_cmpstr(attn_path_base("data/models/memn2n-babi"), ==, "memn2n-babi");
  g_assert_cmpstr(attn_path_base("data/models/memn2n-babi/"), ==, "memn2n-babi/");
  g_assert_cmpstr(attn_path_base("model"), ==, "model");
  g_assert_cmpstr(attn_path_base("/"), ==, "");
  g_assert_cmpstr(attn_path_base(""), ==, "");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  attn_set_threads(1);
  g_test_add_func("/engine/ops/matmul", test_matmul);
  g_test_add_func("/engine/ops/linear", test_linear);
  g_test_add_func("/engine/ops/linear-half", test_linear_half);
  g_test_add_func("/engine/ops/half-pool", test_half_pool);
  g_test_add_func("/engine/ops/linear-int8", test_linear_int8);
  g_test_add_func("/engine/ops/gemm-strided", test_gemm_strided);
  g_test_add_func("/engine/ops/gemm-one-row", test_gemm_one_row);
  g_test_add_func("/engine/ops/softmax", test_softmax);
  g_test_add_func("/engine/ops/softmax-extremes", test_softmax_extremes);
  g_test_add_func("/engine/ops/layer-norm", test_layer_norm);
  g_test_add_func("/engine/ops/unary", test_unary);
  g_test_add_func("/engine/ops/vector-math", test_vector_math);
  g_test_add_func("/engine/ops/embedding", test_embedding);
  g_test_add_func("/engine/ops/argmax", test_argmax);
  g_test_add_func("/engine/ops/gru-update", test_gru_update);
  g_test_add_func("/engine/util/path-base", test_path_base);
  return g_test_run();
}
