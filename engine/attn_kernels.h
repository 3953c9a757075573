/* Internal to libattn: the SIMD kernels behind attn_linear, attn_linear_h and attn_gemm for
 * a few rows against a weight matrix read once, and behind attn_tanh, attn_sigmoid and the
 * softmaxes (see attn_ops.h). x86-64 with GCC or clang
 * only (-DATTN_NO_SIMD leaves them out); each is built for AVX2+FMA (and F16C) and called
 * only after the run-time check. */
#ifndef ATTN_KERNELS_H
#define ATTN_KERNELS_H

#include <stdint.h>

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && !defined(ATTN_NO_SIMD)
#define ATTN_SMALL_ROWS 1

int attn_kernels_have_avx2_fma(void);
int attn_kernels_have_f16c(void); /* implies AVX2+FMA */

/* y[r][o] = (accumulate ? y[r][o] : 0) + b[o] + x[r] . W[o] (W rows ldw apart) for r < rows;
 * x and y have 4 entries (unused ones may repeat the first). b may be NULL. */
void attn_rows4_bt(float *const y[4], const float *const x[4], int rows, const float *W, int ldw, const float *b,
                   int in, int out, int accumulate);
/* The same over half-precision weights W [out, in]: one row, and up to four. */
void attn_rows1_h(float *const y[1], const float *const x[1], int rows, const uint16_t *W, const float *b, int in,
                  int out, int accumulate);
void attn_rows4_h(float *const y[4], const float *const x[4], int rows, const uint16_t *W, const float *b, int in,
                  int out, int accumulate);
/* int8 weights against unsigned 8-bit activations (AVX-VNNI vpdpbusd): acc[r][o] = sum_j
 * xq[r][j] * W[o][j] over in32 (a multiple of 32) bytes per row, for r < rows (xq has 4
 * entries; unused ones may repeat the first). Exact integer sums. */
int attn_kernels_have_vnni(void);
/* xq[j] = clamp(round(x[j] / s), -127, 127) + 128 for j < in (round to nearest even), 128 up to
 * in32; returns s = max |x| / 127 (1 when x is all zero). AVX2. */
float attn_quantize_u8(uint8_t *xq, const float *x, int in, int in32);
void attn_rows4_q8(int32_t *const acc[4], const uint8_t *const xq[4], int rows, const int8_t *W, int in32, int out);
/* The same sums from W packed by attn_q8_pack16, on AVX-512 VNNI: writes acc[r][0 .. out
 * rounded up to 16) (the padding rows give 0). */
int attn_kernels_have_avx512_vnni(void);
void attn_rows4_q8_packed(int32_t *const acc[4], const uint8_t *const xq[4], int rows, const int8_t *Wp, int in32,
                          int out);
/* W [out][in32] -> dst [ceil(out/16)][in32/4][16][4]: for each group of sixteen rows, four bytes
 * of each row in turn (rows past out are zero). dst must be 64-byte aligned. */
void attn_q8_pack16(int8_t *dst, const int8_t *W, int in32, int out);
/* 1 (default): attn_linear_q8 uses the packed AVX-512 VNNI kernel where the CPU has one; 0:
 * the AVX2 kernel everywhere (the tests check both) */
extern int attn_kernels_q8_wide;
/* Elementwise, in place (AVX2+FMA): tanh, the logistic sigmoid, and exp(x - shift) with its sum
 * (see attn_kernels.c for the approximations; the scalar fallbacks in attn_ops use the same
 * tanh formula and libm's expf). */
void attn_vec_tanh(float *x, int64_t n);
void attn_vec_sigmoid(float *x, int64_t n);
double attn_vec_exp_sum(float *dst, const float *x, int64_t n, float shift);
#endif

#endif
