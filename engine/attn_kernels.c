/* The SIMD kernels of attn_ops.c (see attn_kernels.h). Built with optimisation even in debug
 * builds (engine/meson.build): at -O0 every intrinsic spills to the stack and the sanitized
 * test build ran the shipped-model goldens past their time limit. */
#include "attn_kernels.h"

/* A few rows (a beam's hypotheses) against a large weight matrix: sgemm spends most of its
 * time packing W, which is read only once here. Each W row meets up to 4 inputs while it is
 * in cache. Built for AVX2+FMA and chosen at run time; elsewhere sgemm does the work. */
#ifdef ATTN_SMALL_ROWS
#include <cpuid.h>
#include <immintrin.h>
#include <string.h>

typedef float attn_v8 __attribute__((vector_size(32)));

/* y[r][o] = (accumulate ? y[r][o] : 0) + b[o] + x[r] . W[o] for r < rows; x has 4 entries. */
__attribute__((target("avx2,fma"))) void attn_rows4_bt(float *const y[4], const float *const x[4], int rows,
                                                         const float *W, int ldw, const float *b, int in, int out,
                                                         int accumulate) {
  for (int o = 0; o < out; o++) {
    const float *w = W + (int64_t)o * ldw;
    attn_v8 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
    int j = 0;
    for (; j + 8 <= in; j += 8) {
      attn_v8 wv, v;
      memcpy(&wv, w + j, sizeof wv);
      memcpy(&v, x[0] + j, sizeof v), a0 = (attn_v8)_mm256_fmadd_ps((__m256)wv, (__m256)v, (__m256)a0);
      memcpy(&v, x[1] + j, sizeof v), a1 = (attn_v8)_mm256_fmadd_ps((__m256)wv, (__m256)v, (__m256)a1);
      memcpy(&v, x[2] + j, sizeof v), a2 = (attn_v8)_mm256_fmadd_ps((__m256)wv, (__m256)v, (__m256)a2);
      memcpy(&v, x[3] + j, sizeof v), a3 = (attn_v8)_mm256_fmadd_ps((__m256)wv, (__m256)v, (__m256)a3);
    }
    float s[4] = {0, 0, 0, 0};
    for (int l = 0; l < 8; l++) s[0] += a0[l], s[1] += a1[l], s[2] += a2[l], s[3] += a3[l];
    for (; j < in; j++)
      for (int r = 0; r < 4; r++) s[r] += w[j] * x[r][j];
    float bias = b ? b[o] : 0.0f;
    for (int r = 0; r < rows; r++) y[r][o] = (accumulate ? y[r][o] : 0.0f) + s[r] + bias;
  }
}

int attn_kernels_have_avx2_fma(void) {
  static int cached = -1;
  if (cached < 0) {
    __builtin_cpu_init();
    cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }
  return cached;
}

/* The same over weights kept in half precision (F16C converts them as they stream in): a
 * decoder step is bound by reading its weights, and halves are half the bytes. Written out
 * with named accumulators, so that they stay in registers at any optimisation level. */
#define HALF8(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(p)))

__attribute__((target("avx2,fma,f16c"))) static inline float hsum8(__m256 v) {
  float lanes[8];
  _mm256_storeu_ps(lanes, v);
  return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}

/* One row: four accumulators over j, so that successive FMAs do not wait on each other. */
__attribute__((target("avx2,fma,f16c"))) void attn_rows1_h(float *const y[1], const float *const x[1], int rows,
                                                             const uint16_t *W, const float *b, int in, int out,
                                                             int accumulate) {
  const float *xr = x[0];
  for (int o = 0; o < out; o++) {
    const uint16_t *w = W + (int64_t)o * in;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int j = 0;
    for (; j + 32 <= in; j += 32) {
      a0 = _mm256_fmadd_ps(HALF8(w + j), _mm256_loadu_ps(xr + j), a0);
      a1 = _mm256_fmadd_ps(HALF8(w + j + 8), _mm256_loadu_ps(xr + j + 8), a1);
      a2 = _mm256_fmadd_ps(HALF8(w + j + 16), _mm256_loadu_ps(xr + j + 16), a2);
      a3 = _mm256_fmadd_ps(HALF8(w + j + 24), _mm256_loadu_ps(xr + j + 24), a3);
    }
    for (; j + 8 <= in; j += 8) a0 = _mm256_fmadd_ps(HALF8(w + j), _mm256_loadu_ps(xr + j), a0);
    float s = hsum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; j < in; j++) s += _cvtsh_ss(w[j]) * xr[j];
    y[0][o] = (accumulate ? y[0][o] : 0.0f) + s + (b ? b[o] : 0.0f);
  }
  (void)rows;
}

__attribute__((target("avx2,fma,f16c"))) void attn_rows4_h(float *const y[4], const float *const x[4], int rows,
                                                           const uint16_t *W, const float *b, int in, int out,
                                                           int accumulate) {
  const float *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3];
  for (int o = 0; o < out; o++) {
    const uint16_t *w = W + (int64_t)o * in;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int j = 0;
    for (; j + 8 <= in; j += 8) {
      __m256 wv = HALF8(w + j);
      a0 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x0 + j), a0);
      a1 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x1 + j), a1);
      a2 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x2 + j), a2);
      a3 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x3 + j), a3);
    }
    float s[4] = {hsum8(a0), hsum8(a1), hsum8(a2), hsum8(a3)};
    for (; j < in; j++) {
      float wj = _cvtsh_ss(w[j]);
      s[0] += wj * x0[j], s[1] += wj * x1[j], s[2] += wj * x2[j], s[3] += wj * x3[j];
    }
    float bias = b ? b[o] : 0.0f;
    for (int r = 0; r < rows; r++) y[r][o] = (accumulate ? y[r][o] : 0.0f) + s[r] + bias;
  }
}

int attn_kernels_have_f16c(void) {
  static int cached = -1;
  if (cached < 0) {
    unsigned a = 0, b = 0, c = 0, d = 0;
    cached = attn_kernels_have_avx2_fma() && __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
  }
  return cached;
}
#endif
typedef int attn_kernels_translation_unit; /* the file is otherwise empty off x86-64 */
