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
#include <math.h>
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

/* One row. Four weight rows at a time share each load of x, with two accumulators per row so
 * that eight FMA chains are in flight, and one shuffle tree sums all four: the conversions from
 * half were the bound (not memory), and a per-row horizontal sum cost as much as the row. */
__attribute__((target("avx2,fma,f16c"))) static inline __m128 hsum4x8(__m256 a, __m256 b, __m256 c, __m256 d) {
  __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
  return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1)); /* sum(a), sum(b), sum(c), sum(d) */
}

__attribute__((target("avx2,fma,f16c"))) void attn_rows1_h(float *const y[1], const float *const x[1], int rows,
                                                             const uint16_t *W, const float *b, int in, int out,
                                                             int accumulate) {
  const float *xr = x[0];
  float *yr = y[0];
  int o = 0;
  for (; o + 4 <= out; o += 4) {
    const uint16_t *w0 = W + (int64_t)o * in, *w1 = w0 + in, *w2 = w1 + in, *w3 = w2 + in;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    int j = 0;
    for (; j + 16 <= in; j += 16) {
      __m256 xa = _mm256_loadu_ps(xr + j), xb = _mm256_loadu_ps(xr + j + 8);
      a0 = _mm256_fmadd_ps(HALF8(w0 + j), xa, a0), b0 = _mm256_fmadd_ps(HALF8(w0 + j + 8), xb, b0);
      a1 = _mm256_fmadd_ps(HALF8(w1 + j), xa, a1), b1 = _mm256_fmadd_ps(HALF8(w1 + j + 8), xb, b1);
      a2 = _mm256_fmadd_ps(HALF8(w2 + j), xa, a2), b2 = _mm256_fmadd_ps(HALF8(w2 + j + 8), xb, b2);
      a3 = _mm256_fmadd_ps(HALF8(w3 + j), xa, a3), b3 = _mm256_fmadd_ps(HALF8(w3 + j + 8), xb, b3);
    }
    for (; j + 8 <= in; j += 8) {
      __m256 xa = _mm256_loadu_ps(xr + j);
      a0 = _mm256_fmadd_ps(HALF8(w0 + j), xa, a0), a1 = _mm256_fmadd_ps(HALF8(w1 + j), xa, a1);
      a2 = _mm256_fmadd_ps(HALF8(w2 + j), xa, a2), a3 = _mm256_fmadd_ps(HALF8(w3 + j), xa, a3);
    }
    float s[4];
    _mm_storeu_ps(s, hsum4x8(_mm256_add_ps(a0, b0), _mm256_add_ps(a1, b1), _mm256_add_ps(a2, b2),
                             _mm256_add_ps(a3, b3)));
    for (; j < in; j++) {
      s[0] += _cvtsh_ss(w0[j]) * xr[j], s[1] += _cvtsh_ss(w1[j]) * xr[j];
      s[2] += _cvtsh_ss(w2[j]) * xr[j], s[3] += _cvtsh_ss(w3[j]) * xr[j];
    }
    for (int r = 0; r < 4; r++) yr[o + r] = (accumulate ? yr[o + r] : 0.0f) + s[r] + (b ? b[o + r] : 0.0f);
  }
  for (; o < out; o++) {
    const uint16_t *w = W + (int64_t)o * in;
    __m256 a0 = _mm256_setzero_ps();
    int j = 0;
    for (; j + 8 <= in; j += 8) a0 = _mm256_fmadd_ps(HALF8(w + j), _mm256_loadu_ps(xr + j), a0);
    float s = hsum8(a0);
    for (; j < in; j++) s += _cvtsh_ss(w[j]) * xr[j];
    yr[o] = (accumulate ? yr[o] : 0.0f) + s + (b ? b[o] : 0.0f);
  }
  (void)rows;
}

/* Up to four rows: two weight rows at a time, so that eight FMA chains are in flight (with one,
 * four chains left the FMA units waiting on their latency) and each half-to-float conversion
 * feeds four FMAs; one shuffle tree sums each weight row's four accumulators. */
__attribute__((target("avx2,fma,f16c"))) void attn_rows4_h(float *const y[4], const float *const x[4], int rows,
                                                           const uint16_t *W, const float *b, int in, int out,
                                                           int accumulate) {
  const float *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3];
  int o = 0;
  for (; o + 2 <= out; o += 2) {
    const uint16_t *v = W + (int64_t)o * in, *w = v + in;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
    int j = 0;
    for (; j + 8 <= in; j += 8) {
      __m256 va = HALF8(v + j), wa = HALF8(w + j), xj;
      xj = _mm256_loadu_ps(x0 + j), a0 = _mm256_fmadd_ps(va, xj, a0), c0 = _mm256_fmadd_ps(wa, xj, c0);
      xj = _mm256_loadu_ps(x1 + j), a1 = _mm256_fmadd_ps(va, xj, a1), c1 = _mm256_fmadd_ps(wa, xj, c1);
      xj = _mm256_loadu_ps(x2 + j), a2 = _mm256_fmadd_ps(va, xj, a2), c2 = _mm256_fmadd_ps(wa, xj, c2);
      xj = _mm256_loadu_ps(x3 + j), a3 = _mm256_fmadd_ps(va, xj, a3), c3 = _mm256_fmadd_ps(wa, xj, c3);
    }
    float s[4], t[4];
    _mm_storeu_ps(s, hsum4x8(a0, a1, a2, a3));
    _mm_storeu_ps(t, hsum4x8(c0, c1, c2, c3));
    for (; j < in; j++) {
      float vj = _cvtsh_ss(v[j]), wj = _cvtsh_ss(w[j]);
      s[0] += vj * x0[j], s[1] += vj * x1[j], s[2] += vj * x2[j], s[3] += vj * x3[j];
      t[0] += wj * x0[j], t[1] += wj * x1[j], t[2] += wj * x2[j], t[3] += wj * x3[j];
    }
    float bv = b ? b[o] : 0.0f, bw = b ? b[o + 1] : 0.0f;
    for (int r = 0; r < rows; r++) {
      y[r][o] = (accumulate ? y[r][o] : 0.0f) + s[r] + bv;
      y[r][o + 1] = (accumulate ? y[r][o + 1] : 0.0f) + t[r] + bw;
    }
  }
  for (; o < out; o++) {
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
    float s[4];
    _mm_storeu_ps(s, hsum4x8(a0, a1, a2, a3));
    for (; j < in; j++) {
      float wj = _cvtsh_ss(w[j]);
      s[0] += wj * x0[j], s[1] += wj * x1[j], s[2] += wj * x2[j], s[3] += wj * x3[j];
    }
    float bias = b ? b[o] : 0.0f;
    for (int r = 0; r < rows; r++) y[r][o] = (accumulate ? y[r][o] : 0.0f) + s[r] + bias;
  }
}

/* ---- int8 ---- */

int attn_kernels_have_vnni(void) {
  static int cached = -1;
  if (cached < 0) {
    unsigned a = 0, b = 0, c = 0, d = 0; /* CPUID 7.1 EAX bit 4 (clang 14 has no "avxvnni" for __builtin_cpu_supports) */
    cached = attn_kernels_have_avx2_fma() && __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 4));
  }
  return cached;
}

__attribute__((target("avx2,avxvnni"))) static inline void hsum4x8i(int32_t *out, __m256i a, __m256i b, __m256i c,
                                                                    __m256i d) {
  __m256i t = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
  _mm_storeu_si128((__m128i *)(void *)out, _mm_add_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1)));
}

__attribute__((target("avx2,fma"))) float attn_quantize_u8(uint8_t *xq, const float *x, int in, int in32) {
  __m256 sign = _mm256_set1_ps(-0.0f), m = _mm256_setzero_ps();
  int j = 0;
  for (; j + 8 <= in; j += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)));
  float lanes[8], amax = 0.0f;
  _mm256_storeu_ps(lanes, m);
  for (int l = 0; l < 8; l++) amax = lanes[l] > amax ? lanes[l] : amax;
  for (int k = j; k < in; k++) amax = fabsf(x[k]) > amax ? fabsf(x[k]) : amax;
  float s = amax > 0.0f ? amax / 127.0f : 1.0f;
  __m256 inv = _mm256_set1_ps(1.0f / s);
  __m256i lo = _mm256_set1_epi32(-127), hi = _mm256_set1_epi32(127), off = _mm256_set1_epi32(128);
  j = 0;
  for (; j + 8 <= in; j += 8) {
    __m256i v = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + j), inv)); /* MXCSR: nearest even */
    v = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(v, lo), hi), off);
    int32_t w[8];
    _mm256_storeu_si256((__m256i *)(void *)w, v);
    for (int l = 0; l < 8; l++) xq[j + l] = (uint8_t)w[l];
  }
  for (; j < in; j++) {
    int v = (int)lrintf(x[j] * (1.0f / s));
    xq[j] = (uint8_t)((v > 127 ? 127 : v < -127 ? -127 : v) + 128);
  }
  memset(xq + in, 128, (size_t)(in32 - in));
  return s;
}

/* AVX-512 VNNI (Zen 4/5, Ice Lake and later) over weights packed sixteen output rows at a time
 * (attn_q8_pack16): one 64-byte load holds four input bytes of each of sixteen rows, so one
 * vpdpbusd against the broadcast four bytes of an input adds sixteen whole outputs' products,
 * and the accumulators are the outputs: no horizontal sums, which with in = 256 cost as much as
 * the products in the row-wise kernel. Only the `rows` inputs present are computed (a one-row
 * step does a quarter of the work). Integer sums, so exactly the AVX2 kernel's results. */
int attn_kernels_have_avx512_vnni(void) {
  static int cached = -1;
  if (cached < 0) {
    __builtin_cpu_init(); /* also checks that the OS saves the zmm state */
    cached = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vnni");
  }
  return cached;
}

void attn_q8_pack16(int8_t *dst, const int8_t *W, int in32, int out) {
  int groups = (out + 15) / 16, quads = in32 / 4;
  for (int g = 0; g < groups; g++)
    for (int k = 0; k < quads; k++)
      for (int i = 0; i < 16; i++) {
        int o = g * 16 + i;
        int8_t *d = dst + (((int64_t)g * quads + k) * 16 + i) * 4;
        if (o < out) memcpy(d, W + (int64_t)o * in32 + 4 * k, 4);
        else memset(d, 0, 4);
      }
}

/* R inputs (a constant after inlining) against groups of sixteen packed rows, two groups at a
 * time while there are two (2R chains hide vpdpbusd's latency). Named accumulators, not
 * arrays: GCC kept arrays of them on the stack. */
#define PQ_DOT(r)                                                                                                \
  if (R > r) {                                                                                                   \
    int32_t four;                                                                                                \
    memcpy(&four, x##r + 4 * k, 4);                                                                              \
    __m512i x = _mm512_set1_epi32(four);                                                                         \
    c##r = _mm512_dpbusd_epi32(c##r, x, a), d##r = _mm512_dpbusd_epi32(d##r, x, b);                              \
  }
#define PQ_DOT1(r)                                                                                               \
  if (R > r) {                                                                                                   \
    int32_t four;                                                                                                \
    memcpy(&four, x##r + 4 * k, 4);                                                                              \
    c##r = _mm512_dpbusd_epi32(c##r, _mm512_set1_epi32(four), a);                                                \
  }
__attribute__((target("avx512f,avx512bw,avx512vnni"), always_inline)) static inline void packed_rows(
    int32_t *const acc[4], const uint8_t *const xq[4], const int R, const int8_t *Wp, int in32, int out) {
  const uint8_t *x0 = xq[0], *x1 = xq[1], *x2 = xq[2], *x3 = xq[3];
  int groups = (out + 15) / 16, quads = in32 / 4;
  int g = 0;
  for (; g + 2 <= groups; g += 2) {
    const int8_t *w0 = Wp + (int64_t)g * 16 * in32, *w1 = w0 + 16 * in32;
    __m512i c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0, d0 = c0, d1 = c0, d2 = c0, d3 = c0;
    for (int k = 0; k < quads; k++) {
      __m512i a = _mm512_load_si512((const void *)(w0 + 64 * k)), b = _mm512_load_si512((const void *)(w1 + 64 * k));
      PQ_DOT(0) PQ_DOT(1) PQ_DOT(2) PQ_DOT(3)
    }
    int32_t *o0 = acc[0] + g * 16, *o1 = acc[1] + g * 16, *o2 = acc[2] + g * 16, *o3 = acc[3] + g * 16;
    _mm512_storeu_si512((void *)o0, c0), _mm512_storeu_si512((void *)(o0 + 16), d0);
    if (R > 1) _mm512_storeu_si512((void *)o1, c1), _mm512_storeu_si512((void *)(o1 + 16), d1);
    if (R > 2) _mm512_storeu_si512((void *)o2, c2), _mm512_storeu_si512((void *)(o2 + 16), d2);
    if (R > 3) _mm512_storeu_si512((void *)o3, c3), _mm512_storeu_si512((void *)(o3 + 16), d3);
  }
  if (g < groups) {
    const int8_t *w0 = Wp + (int64_t)g * 16 * in32;
    __m512i c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0;
    for (int k = 0; k < quads; k++) {
      __m512i a = _mm512_load_si512((const void *)(w0 + 64 * k));
      PQ_DOT1(0) PQ_DOT1(1) PQ_DOT1(2) PQ_DOT1(3)
    }
    _mm512_storeu_si512((void *)(acc[0] + g * 16), c0);
    if (R > 1) _mm512_storeu_si512((void *)(acc[1] + g * 16), c1);
    if (R > 2) _mm512_storeu_si512((void *)(acc[2] + g * 16), c2);
    if (R > 3) _mm512_storeu_si512((void *)(acc[3] + g * 16), c3);
  }
}
#undef PQ_DOT
#undef PQ_DOT1

__attribute__((target("avx512f,avx512bw,avx512vnni"))) void attn_rows4_q8_packed(
    int32_t *const acc[4], const uint8_t *const xq[4], int rows, const int8_t *Wp, int in32, int out) {
  switch (rows) {
  case 1: packed_rows(acc, xq, 1, Wp, in32, out); break;
  case 2: packed_rows(acc, xq, 2, Wp, in32, out); break;
  case 3: packed_rows(acc, xq, 3, Wp, in32, out); break;
  default: packed_rows(acc, xq, 4, Wp, in32, out); break;
  }
}

int attn_kernels_q8_wide = 1; /* tests set 0 to check the AVX2 kernel where AVX-512 is there */

/* Two weight rows at a time, as attn_rows4_h: eight vpdpbusd chains, each 32 products. */
__attribute__((target("avx2,avxvnni"))) void attn_rows4_q8(int32_t *const acc[4], const uint8_t *const xq[4], int rows,
                                                          const int8_t *W, int in32, int out) {
  const uint8_t *x0 = xq[0], *x1 = xq[1], *x2 = xq[2], *x3 = xq[3];
  int o = 0;
  for (; o + 2 <= out; o += 2) {
    const int8_t *v = W + (int64_t)o * in32, *w = v + in32;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
    for (int j = 0; j < in32; j += 32) {
      __m256i va = _mm256_loadu_si256((const __m256i *)(const void *)(v + j));
      __m256i wa = _mm256_loadu_si256((const __m256i *)(const void *)(w + j)), xj;
      xj = _mm256_loadu_si256((const __m256i *)(const void *)(x0 + j));
      a0 = _mm256_dpbusd_avx_epi32(a0, xj, va), c0 = _mm256_dpbusd_avx_epi32(c0, xj, wa);
      xj = _mm256_loadu_si256((const __m256i *)(const void *)(x1 + j));
      a1 = _mm256_dpbusd_avx_epi32(a1, xj, va), c1 = _mm256_dpbusd_avx_epi32(c1, xj, wa);
      xj = _mm256_loadu_si256((const __m256i *)(const void *)(x2 + j));
      a2 = _mm256_dpbusd_avx_epi32(a2, xj, va), c2 = _mm256_dpbusd_avx_epi32(c2, xj, wa);
      xj = _mm256_loadu_si256((const __m256i *)(const void *)(x3 + j));
      a3 = _mm256_dpbusd_avx_epi32(a3, xj, va), c3 = _mm256_dpbusd_avx_epi32(c3, xj, wa);
    }
    int32_t s[4], t[4];
    hsum4x8i(s, a0, a1, a2, a3);
    hsum4x8i(t, c0, c1, c2, c3);
    for (int r = 0; r < rows; r++) acc[r][o] = s[r], acc[r][o + 1] = t[r];
  }
  for (; o < out; o++) {
    const int8_t *w = W + (int64_t)o * in32;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (int j = 0; j < in32; j += 32) {
      __m256i wa = _mm256_loadu_si256((const __m256i *)(const void *)(w + j));
      a0 = _mm256_dpbusd_avx_epi32(a0, _mm256_loadu_si256((const __m256i *)(const void *)(x0 + j)), wa);
      a1 = _mm256_dpbusd_avx_epi32(a1, _mm256_loadu_si256((const __m256i *)(const void *)(x1 + j)), wa);
      a2 = _mm256_dpbusd_avx_epi32(a2, _mm256_loadu_si256((const __m256i *)(const void *)(x2 + j)), wa);
      a3 = _mm256_dpbusd_avx_epi32(a3, _mm256_loadu_si256((const __m256i *)(const void *)(x3 + j)), wa);
    }
    int32_t s[4];
    hsum4x8i(s, a0, a1, a2, a3);
    for (int r = 0; r < rows; r++) acc[r][o] = s[r];
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

/* ---- elementwise tanh, exp and sigmoid, 8 at a time ----
 * tanh: Eigen's rational approximation (ptanh_float; a few ulp from tanhf on [-9, 9], where
 * it saturates), exactly the formula of attn_tanh1 in attn_ops.h. exp: Cephes' expf
 * (x = n ln 2 + r, a degree-7 polynomial in r, times 2^n), within 2 ulp of expf up to 88 (where it
 * stops growing; softmax inputs are at most 0); below -87.3
 * it is 0, so masked (-inf) entries of a softmax stay exactly 0. The attention MLPs and the
 * vocabulary softmax evaluate thousands of them per decoder step, and libm's scalar calls were
 * a quarter of the RNN's decoding time. */
__attribute__((target("avx2,fma"))) static inline __m256 tanh8(__m256 x) {
  const __m256 c = _mm256_set1_ps(7.90531110763549805f);
  __m256 v = _mm256_max_ps(_mm256_min_ps(x, c), _mm256_sub_ps(_mm256_setzero_ps(), c));
  __m256 x2 = _mm256_mul_ps(v, v);
  __m256 p = _mm256_fmadd_ps(x2, _mm256_set1_ps(-2.76076847742355e-16f), _mm256_set1_ps(2.00018790482477e-13f));
  p = _mm256_fmadd_ps(x2, p, _mm256_set1_ps(-8.60467152213735e-11f));
  p = _mm256_fmadd_ps(x2, p, _mm256_set1_ps(5.12229709037114e-08f));
  p = _mm256_fmadd_ps(x2, p, _mm256_set1_ps(1.48572235717979e-05f));
  p = _mm256_fmadd_ps(x2, p, _mm256_set1_ps(6.37261928875436e-04f));
  p = _mm256_fmadd_ps(x2, p, _mm256_set1_ps(4.89352455891786e-03f));
  __m256 q = _mm256_fmadd_ps(x2, _mm256_set1_ps(1.19825839466702e-06f), _mm256_set1_ps(1.18534705686654e-04f));
  q = _mm256_fmadd_ps(x2, q, _mm256_set1_ps(2.26843463243900e-03f));
  q = _mm256_fmadd_ps(x2, q, _mm256_set1_ps(4.89352518554385e-03f));
  __m256 r = _mm256_div_ps(_mm256_mul_ps(v, p), q);
  __m256 tiny = _mm256_cmp_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), x), _mm256_set1_ps(0.0004f), _CMP_LT_OQ);
  return _mm256_blendv_ps(r, x, tiny);
}

__attribute__((target("avx2,fma"))) static inline __m256 exp8(__m256 x) {
  __m256 zero = _mm256_cmp_ps(x, _mm256_set1_ps(-87.33654f), _CMP_LT_OQ); /* also catches -inf */
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.33654f)), _mm256_set1_ps(88.0f));
  __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(1.9875691500e-4f), r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  /* 2^n for n in [-126, 127]: the exponent field. n = -127 (x near -87.3) would be a
   * denormal; the result there is below 1e-38 and is flushed to the zero mask's side. */
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  __m256 y = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
  return _mm256_andnot_ps(zero, y);
}

/* Loads n < 8 floats into a vector (the rest 0) and stores them back. */
__attribute__((target("avx2,fma"))) static inline __m256 load_tail(const float *x, int64_t n) {
  float t[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  memcpy(t, x, (size_t)n * sizeof *x);
  return _mm256_loadu_ps(t);
}

__attribute__((target("avx2,fma"))) static inline void store_tail(float *x, __m256 v, int64_t n) {
  float t[8];
  _mm256_storeu_ps(t, v);
  memcpy(x, t, (size_t)n * sizeof *x);
}

__attribute__((target("avx2,fma"))) void attn_vec_tanh(float *x, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, tanh8(_mm256_loadu_ps(x + i)));
  if (i < n) store_tail(x + i, tanh8(load_tail(x + i, n - i)), n - i);
}

__attribute__((target("avx2,fma"))) void attn_vec_sigmoid(float *x, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f), neg = _mm256_set1_ps(-0.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(x + i, _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_xor_ps(_mm256_loadu_ps(x + i), neg)))));
  if (i < n) store_tail(x + i, _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_xor_ps(load_tail(x + i, n - i), neg)))),
                        n - i);
}

/* The sum of exp(x[i] - shift), accumulated in double; dst (may be x, or NULL) receives the
 * terms. */
__attribute__((target("avx2,fma"))) double attn_vec_exp_sum(float *dst, const float *x, int64_t n, float shift) {
  const __m256 s = _mm256_set1_ps(shift);
  __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), s));
    if (dst) _mm256_storeu_ps(dst + i, e);
    acc0 = _mm256_add_pd(acc0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
    acc1 = _mm256_add_pd(acc1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
  }
  if (i < n) {
    /* the padding lanes hold exp(-inf) = 0 */
    float t[8] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
    memcpy(t, x + i, (size_t)(n - i) * sizeof *x);
    __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(t), s));
    if (dst) store_tail(dst + i, e, n - i);
    acc0 = _mm256_add_pd(acc0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
    acc1 = _mm256_add_pd(acc1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
  }
  double lanes[4];
  _mm256_storeu_pd(lanes, _mm256_add_pd(acc0, acc1));
  return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}
#endif
typedef int attn_kernels_translation_unit; /* the file is otherwise empty off x86-64 */
