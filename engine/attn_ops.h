/* Float32 kernels the models are built from; row-major, plain pointers plus sizes.
 * Matrix products go through OpenBLAS. No function allocates; all are thread-safe
 * as long as callers do not share output buffers. */
#ifndef ATTN_OPS_H
#define ATTN_OPS_H

#include <stddef.h>
#include <stdint.h>

/* General strided product: C = alpha * op(A) @ op(B) + beta * C, row-major with leading
 * dimensions, for per-head slices of wider matrices. */
void attn_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
               const float *B, int ldb, float beta, float *C, int ldc);

/* y[M,out] = x[M,in] @ W[out,in]^T + b[out] (b may be NULL): PyTorch nn.Linear layout. */
void attn_linear(float *y, const float *x, const float *W, const float *b, int M, int in, int out);
/* In attn_linear and attn_gemm(0, 1, ...) with alpha 1 and beta 0 or 1, 2..8 rows take a
 * kernel that reads the weights once (on AVX2+FMA CPUs): sgemm would pack them on every call,
 * which dominates a beam's decoder step. 0 forces sgemm and the scalar tanh, sigmoid and exp
 * below (tests, benchmarks). */
extern int attn_simd_enabled;

/* Half-precision copies of weights, packed into one block that the kernel may back with 2 MB
 * pages (a hint, madvise): a decoder step reads every copy once, and 10 MB of 4 KB pages
 * overflow the TLB. A copy exists only when every value of w is exactly a half (weights loaded
 * from an F16 file) and the CPU converts halves (F16C). init reserves room for max_values
 * halves (0, or -1 where halves are not used: no F16C, or attn_simd_enabled is 0; it adds room
 * for the 64-byte alignment of up to 64 copies); copy returns NULL when w is not all halves
 * or the room is used up; release frees every copy at once. */
typedef struct attn_half_pool {
  void *map;
  size_t map_len;
  unsigned char *base;
  size_t cap, used;
} attn_half_pool;
int attn_half_pool_init(attn_half_pool *p, size_t max_values);
uint16_t *attn_half_pool_copy(attn_half_pool *p, const float *w, size_t n);
void attn_half_pool_release(attn_half_pool *p);
/* attn_linear with x's rows ldx >= in floats apart, reading the weights from Wh
 * (attn_half_pool_copy(W), may be NULL) for 1..8 rows: the same values in half the bytes, for
 * decoder steps, which are bound by reading their weights. */
void attn_linear_h(float *y, const float *x, int ldx, const float *W, const uint16_t *Wh, const float *b, int M,
                   int in, int out);

/* int8 copies of the Transformer's decoder weights (on CPUs with AVX-VNNI, unless
 * attn_int8_enabled is 0 or ATTNLENS_INT8=0 when a model loads): beam 4 keeps typing live. Each weight row o is scaled to [-127, 127]
 * (scale[o] = max |W[o]| / 127, rounded to nearest); each input row of attn_linear_q8 is
 * quantised the same way per row and offset by 128 to unsigned bytes, so one vpdpbusd
 * multiplies 32 pairs; the offset is taken out exactly with the row sums wsum[o]. y differs
 * from attn_linear by the two roundings (bounded in tests/test_ops.c), and a model's BLEU
 * with and without is measured by `attnlens bench quality` (README). */
typedef struct attn_q8 {
  int8_t *w;      /* [out][in32], rows zero-padded to in32 = in rounded up to 32 */
  int8_t *wp;     /* the same bytes packed sixteen rows at a time for AVX-512 VNNI, else NULL */
  float *scale;   /* [out] */
  int32_t *wsum;  /* [out] sum of the row's int8 values */
  int in, in32, out;
} attn_q8;
extern int attn_int8_enabled;      /* -1: from ATTNLENS_INT8 (on unless "0"); 0 off; 1 on */
int attn_q8_available(void);       /* enabled, and the CPU has AVX-VNNI */
/* Quantises W [out, in]; -1 when int8 is not available or out of memory (q is then empty). */
int attn_q8_init(attn_q8 *q, const float *W, int out, int in);
void attn_q8_free(attn_q8 *q);     /* an empty or zeroed q is fine */
/* y[M,out] = x[M,in] (rows ldx apart) @ W^T + b through q, for 1..8 rows; needs q built. */
void attn_linear_q8(float *y, const float *x, int ldx, const attn_q8 *q, const float *b, int M);
/* A decoder step's linear layer from whichever copy fits: int8 (q built) for 2..8 rows (a
 * beam), else attn_linear_h (halves, or W). One row (greedy, a beam's first step) is bound by
 * reading the weights, where halves do as well as bytes and are closer to the twin; it takes
 * the int8 copy only when there are no halves (then the choice is bytes or float32). */
void attn_linear_hq(float *y, const float *x, int ldx, const float *W, const uint16_t *Wh, const attn_q8 *q,
                    const float *b, int M, int in, int out);

/* y[out] = W[out,in] @ x[in] + b[out] (b may be NULL), through cblas_sgemv. */
void attn_matvec(float *y, const float *W, const float *x, const float *b, int out, int in);

/* Numerically stable softmax over each of `rows` rows of length `cols`, in place. */
void attn_softmax(float *x, int rows, int cols);

/* log_softmax over each row, in place. */
void attn_log_softmax(float *x, int rows, int cols);

/* out[r,:] = (x[r,:] - mean) / sqrt(var + eps) * gamma + beta (biased variance, as PyTorch). */
void attn_layer_norm(float *out, const float *x, const float *gamma, const float *beta,
                     int rows, int dim, float eps);

/* tanh as Eigen's rational function (ptanh_float: within a few ulp of tanhf, exactly +-1 beyond
 * +-7.9), one value or n in place; the sigmoid is 1 / (1 + exp(-x)). On AVX2+FMA CPUs (and
 * attn_simd_enabled), these and the exponentials of the softmaxes run 8 at a time (attn_kernels.c):
 * the attention MLPs and the vocabulary softmax evaluate thousands per decoder step. */
static inline float attn_tanh1(float x) {
  const float c = 7.90531110763549805f;
  float v = x > c ? c : x < -c ? -c : x, x2 = v * v;
  float p = x2 * -2.76076847742355e-16f + 2.00018790482477e-13f;
  p = x2 * p + -8.60467152213735e-11f;
  p = x2 * p + 5.12229709037114e-08f;
  p = x2 * p + 1.48572235717979e-05f;
  p = x2 * p + 6.37261928875436e-04f;
  p = x2 * p + 4.89352455891786e-03f;
  float q = x2 * 1.19825839466702e-06f + 1.18534705686654e-04f;
  q = x2 * q + 2.26843463243900e-03f;
  q = x2 * q + 4.89352518554385e-03f;
  return (x < 0.0f ? -x : x) < 0.0004f ? x : v * p / q;
}
void attn_tanh(float *x, int64_t n);
void attn_sigmoid(float *x, int64_t n);
void attn_relu(float *x, int64_t n);
/* GELU with the exact erf form (PyTorch's default approximate='none'). */
void attn_gelu(float *x, int64_t n);
/* x * sigmoid(x) (SiLU, Marian's "swish"). */
void attn_silu(float *x, int64_t n);

/* One GRU step, as PyTorch's GRU/GRUCell: with input projection gi and hidden projection gh,
 * both [3H] in gate order r, z, n and with their biases, r, z = sigmoid(gi + gh);
 * n = tanh(gi_n + r * gh_n); h = (1 - z) n + z h, in place. gi is used as scratch. */
void attn_gru_update(float *h, float *gi, const float *gh, int H);

/* y[i] += x[i] */
void attn_add(float *y, const float *x, int64_t n);

/* out[i,:] = table[ids[i],:] * scale. Returns the index of the first id outside
 * [0, vocab) (nothing written for it), or -1 when all ids were valid. */
int attn_embedding(float *out, const float *table, const int32_t *ids, int n, int dim, int vocab,
                   float scale);

/* Index of the largest element (first one on ties); -1 when n <= 0. */
int attn_argmax(const float *x, int n);

/* Sets the number of OpenBLAS threads (call once at start). */
void attn_set_threads(int n);

#endif
