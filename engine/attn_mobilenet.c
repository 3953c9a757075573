/* MobileNetV2 trunk on OpenBLAS; see attn_mobilenet.h. 1x1 convolutions are one sgemm each
 * on the CHW map (no im2col); the stem is im2col + sgemm; depthwise 3x3 convolutions are
 * direct, row by row over a zero-padded copy of each plane. */
#include "attn_mobilenet.h"

#include <math.h>
#include <string.h>

#include "attn_ops.h"

/* The element-wise loops below are compiled twice, for AVX2 and for any x86-64, and the loader
 * picks one (GCC function multi-versioning): 8 floats per instruction instead of 4. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define WIDE __attribute__((target_clones("avx2", "default")))
#else
#define WIDE
#endif

static int int_item(const cJSON *a, int i, int *out) {
  const cJSON *v = cJSON_GetArrayItem(a, i);
  if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 0 || v->valuedouble > 4096)
    return 0;
  *out = (int)v->valuedouble;
  return 1;
}

attn_status attn_mobilenet_config(attn_mobilenet *n, const cJSON *t, const char *file, attn_error *err) {
  memset(n, 0, sizeof *n);
  const cJSON *arch = cJSON_GetObjectItemCaseSensitive(t, "arch");
  if (!cJSON_IsObject(t) || !cJSON_IsString(arch) || strcmp(arch->valuestring, "mobilenet_v2") != 0)
    return attn_error_set(err, ATTN_E_VALUE, "%s: \"trunk\" must be an object with \"arch\": \"mobilenet_v2\"", file);
  const cJSON *stem = cJSON_GetObjectItemCaseSensitive(t, "stem"), *head = cJSON_GetObjectItemCaseSensitive(t, "head");
  const cJSON *blocks = cJSON_GetObjectItemCaseSensitive(t, "blocks");
  int nb = cJSON_IsArray(blocks) ? cJSON_GetArraySize(blocks) : 0;
  if (!cJSON_IsNumber(stem) || stem->valuedouble < 1 || stem->valuedouble > 4096 || stem->valuedouble != floor(stem->valuedouble) ||
      !cJSON_IsNumber(head) || head->valuedouble < 0 || head->valuedouble > 4096 || head->valuedouble != floor(head->valuedouble) ||
      nb < 1 || nb > ATTN_MOBILENET_MAX_BLOCKS)
    return attn_error_set(err, ATTN_E_VALUE,
                          "%s: trunk \"stem\" and \"head\" must be channel counts and \"blocks\" 1 to %d [t, c, s]",
                          file, ATTN_MOBILENET_MAX_BLOCKS);
  n->stem = (int)stem->valuedouble, n->head = (int)head->valuedouble, n->n_blocks = nb;
  for (int k = 0; k < nb; k++) {
    const cJSON *b = cJSON_GetArrayItem(blocks, k);
    if (!cJSON_IsArray(b) || cJSON_GetArraySize(b) != 3 || !int_item(b, 0, &n->expand[k]) ||
        !int_item(b, 1, &n->out[k]) || !int_item(b, 2, &n->stride[k]) || n->expand[k] < 1 || n->expand[k] > 16 ||
        n->out[k] < 1 || (n->stride[k] != 1 && n->stride[k] != 2))
      return attn_error_set(err, ATTN_E_VALUE, "%s: trunk block %d is not [t 1..16, channels, stride 1|2]", file, k);
  }
  return ATTN_OK;
}

int attn_mobilenet_block_in(const attn_mobilenet *n, int k) { return k ? n->out[k - 1] : n->stem; }
int attn_mobilenet_channels(const attn_mobilenet *n) { return n->head ? n->head : n->out[n->n_blocks - 1]; }
int attn_mobilenet_stride(const attn_mobilenet *n) {
  int s = 2;
  for (int k = 0; k < n->n_blocks; k++) s *= n->stride[k];
  return s;
}

/* Buffer layout: x, y (block input and output), e (expanded), d (depthwise out) each `big`
 * floats, then one padded plane, then the stem's im2col. */
static size_t biggest_map(const attn_mobilenet *n, int side) {
  int s = side / 2;
  size_t most = (size_t)n->stem * s * s;
  for (int k = 0; k < n->n_blocks; k++) {
    size_t hid = (size_t)attn_mobilenet_block_in(n, k) * n->expand[k];
    if (hid * s * s > most) most = hid * s * s;
    s /= n->stride[k];
    if ((size_t)n->out[k] * s * s > most) most = (size_t)n->out[k] * s * s;
  }
  if ((size_t)n->head * s * s > most) most = (size_t)n->head * s * s;
  return most;
}

size_t attn_mobilenet_scratch(const attn_mobilenet *n, int side) {
  size_t half = (size_t)(side / 2);
  return 4 * biggest_map(n, side) + (size_t)(side / 2 + 2) * (side / 2 + 2) + 27 * half * half;
}

double attn_mobilenet_flops(const attn_mobilenet *n, int side) {
  double s = side / 2, c = n->stem, total = 2.0 * s * s * c * 27;
  for (int k = 0; k < n->n_blocks; k++) {
    double hid = c * n->expand[k];
    if (n->expand[k] != 1) total += 2.0 * s * s * hid * c;
    s /= n->stride[k];
    total += 2.0 * s * s * hid * 9 + 2.0 * s * s * n->out[k] * hid;
    c = n->out[k];
  }
  if (n->head) total += 2.0 * s * s * n->head * c;
  return total;
}

/* min(max(v, 0), 6) without libm calls, so that the loops vectorise (NaN passes through, as
 * in PyTorch's clamp). */
static inline float clamp6(float v) { return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v); }


/* out[c_out][hw] = w[c_out][c_in] @ in[c_in][hw], without the bias: the pass that follows adds
 * it (with ReLU6 or the residual), so each map is written once by sgemm and touched once more. */
static void pointwise(float *out, const float *in, const float *w, int c_in, int c_out, int hw) {
  attn_gemm(0, 0, c_out, hw, c_in, 1.0f, w, c_in, in, hw, 0.0f, out, hw);
}

/* x[c][hw] = clamp6(x + b[c]). */
WIDE static void bias_relu6(float *x, const float *b, int c, int hw) {
  for (int o = 0; o < c; o++) {
    float *row = x + (size_t)o * hw, v = b[o];
    for (int i = 0; i < hw; i++) row[i] = clamp6(row[i] + v);
  }
}

/* y[c][hw] += b[c] (+ r[c][hw] when r is not NULL: the residual). */
WIDE static void bias_add(float *y, const float *b, const float *r, int c, int hw) {
  for (int o = 0; o < c; o++) {
    float *row = y + (size_t)o * hw, v = b[o];
    if (r) {
      const float *rr = r + (size_t)o * hw;
      for (int i = 0; i < hw; i++) row[i] = row[i] + v + rr[i];
    } else {
      for (int i = 0; i < hw; i++) row[i] += v;
    }
  }
}

/* Depthwise 3x3 of c planes of h x w; stride 1 pads 1 on each side, stride 2 pads 0 before
 * and 1 after (output (h/2) x (w/2)); then + b and ReLU6. pad holds (h+2) x (w+2) floats.
 * With in_b, the input is the expansion's raw sgemm output: clamp6(in + in_b[c]) is applied
 * while each plane is copied into pad. */
WIDE static void depthwise(float *out, const float *in, const float *in_b, const float *wt, const float *b, int c, int h,
                      int w, int stride, float *pad) {
  int pw = w + 2, oh = h / stride, ow = w / stride, off = stride == 1 ? 1 : 0;
  memset(pad, 0, (size_t)(h + 2) * pw * sizeof(float));
  for (int p = 0; p < c; p++) {
    const float *plane = in + (size_t)p * h * w, *k = wt + (size_t)p * 9;
    if (in_b) {
      float v = in_b[p];
      for (int y = 0; y < h; y++) {
        float *dst = pad + (size_t)(y + off) * pw + off;
        const float *src = plane + (size_t)y * w;
        for (int x = 0; x < w; x++) dst[x] = clamp6(src[x] + v);
      }
    } else {
      for (int y = 0; y < h; y++) memcpy(pad + (size_t)(y + off) * pw + off, plane + (size_t)y * w, (size_t)w * sizeof(float));
    }
    float *dst = out + (size_t)p * oh * ow;
    for (int y = 0; y < oh; y++) {
      const float *r0 = pad + (size_t)(y * stride) * pw, *r1 = r0 + pw, *r2 = r1 + pw;
      float *o = dst + (size_t)y * ow;
      if (stride == 1) {
        for (int x = 0; x < ow; x++)
          o[x] = b[p] + k[0] * r0[x] + k[1] * r0[x + 1] + k[2] * r0[x + 2] + k[3] * r1[x] + k[4] * r1[x + 1] +
                 k[5] * r1[x + 2] + k[6] * r2[x] + k[7] * r2[x + 1] + k[8] * r2[x + 2];
      } else {
        for (int x = 0; x < ow; x++) {
          int i = 2 * x;
          o[x] = b[p] + k[0] * r0[i] + k[1] * r0[i + 1] + k[2] * r0[i + 2] + k[3] * r1[i] + k[4] * r1[i + 1] +
                 k[5] * r1[i + 2] + k[6] * r2[i] + k[7] * r2[i + 1] + k[8] * r2[i + 2];
        }
      }
      for (int x = 0; x < ow; x++) o[x] = clamp6(o[x]);
    }
  }
}

/* The stem: 3x3 stride 2, pad 0 before and 1 after, 3 -> stem channels, + b, ReLU6. */
static void stem(const attn_mobilenet *n, float *out, const float *in, int side, float *col) {
  int oh = side / 2, hw = oh * oh;
  for (int c = 0; c < 3; c++)
    for (int ky = 0; ky < 3; ky++)
      for (int kx = 0; kx < 3; kx++) {
        float *row = col + (size_t)((c * 3 + ky) * 3 + kx) * hw;
        const float *plane = in + (size_t)c * side * side;
        for (int y = 0; y < oh; y++) {
          int sy = 2 * y + ky;
          for (int x = 0; x < oh; x++) {
            int sx = 2 * x + kx;
            row[y * oh + x] = sy < side && sx < side ? plane[(size_t)sy * side + sx] : 0.0f;
          }
        }
      }
  pointwise(out, col, n->stem_w, 27, n->stem, hw);
  bias_relu6(out, n->stem_b, n->stem, hw);
}

void attn_mobilenet_forward(const attn_mobilenet *n, const float *in, int side, float *out, float *scratch) {
  size_t big = biggest_map(n, side);
  float *x = scratch, *y = x + big, *e = y + big, *d = e + big, *pad = d + big;
  float *col = pad + (size_t)(side / 2 + 2) * (side / 2 + 2);
  int s = side / 2, c = n->stem;
  stem(n, x, in, side, col);
  for (int k = 0; k < n->n_blocks; k++) {
    int hid = c * n->expand[k], hw = s * s;
    const float *src = x, *src_b = NULL;
    if (n->expand[k] != 1) {
      pointwise(e, x, n->exp_w[k], c, hid, hw);
      src = e, src_b = n->exp_b[k];
    }
    depthwise(d, src, src_b, n->dw_w[k], n->dw_b[k], hid, s, s, n->stride[k], pad);
    s /= n->stride[k];
    pointwise(y, d, n->pw_w[k], hid, n->out[k], s * s);
    bias_add(y, n->pw_b[k], n->stride[k] == 1 && c == n->out[k] ? x : NULL, n->out[k], s * s);
    c = n->out[k];
    float *t = x;
    x = y, y = t;
  }
  if (n->head) {
    pointwise(out, x, n->head_w, c, n->head, s * s);
    bias_relu6(out, n->head_b, n->head, s * s);
  } else {
    memcpy(out, x, (size_t)c * s * s * sizeof(float));
  }
}
