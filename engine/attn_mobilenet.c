/* MobileNetV2 and V3 trunks on OpenBLAS; see attn_mobilenet.h. 1x1 convolutions are one sgemm
 * each on the CHW map (no im2col); the stem is im2col + sgemm; depthwise convolutions are
 * direct: channels-last, vectorised along the channels, on the expanded maps (the 1x1 sgemm
 * calls change the layout for free), and row by row over a zero-padded copy of each plane in
 * a block without expansion. Both architectures run through the
 * same code: V2 is V3 with ReLU6 everywhere, 3x3 kernels and no squeeze-excite. */
#include "attn_mobilenet.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "attn_ops.h"

/* The element-wise loops below are compiled twice, for AVX2 and for any x86-64, and the loader
 * picks one (GCC function multi-versioning): 8 floats per instruction instead of 4. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define WIDE __attribute__((target_clones("avx2", "default")))
#else
#define WIDE
#endif

#define MAX_KERNEL 7

static int int_item(const cJSON *a, int i, int *out) {
  const cJSON *v = cJSON_GetArrayItem(a, i);
  if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 0 || v->valuedouble > 4096)
    return 0;
  *out = (int)v->valuedouble;
  return 1;
}

static int channels(const cJSON *v, int lo) {
  return cJSON_IsNumber(v) && v->valuedouble >= lo && v->valuedouble <= 4096 && v->valuedouble == floor(v->valuedouble);
}

/* "relu" | "hswish" (| "none" when allow_none); an absent key gives dflt. */
static int act_item(const cJSON *v, int allow_none, attn_mobilenet_act dflt, attn_mobilenet_act *out) {
  if (!v) return *out = dflt, 1;
  if (!cJSON_IsString(v)) return 0;
  if (strcmp(v->valuestring, "relu") == 0) return *out = ATTN_ACT_RELU, 1;
  if (strcmp(v->valuestring, "hswish") == 0) return *out = ATTN_ACT_HSWISH, 1;
  if (allow_none && strcmp(v->valuestring, "none") == 0) return *out = ATTN_ACT_NONE, 1;
  return 0;
}

static attn_status config_v2(attn_mobilenet *n, const cJSON *blocks, const char *file, attn_error *err) {
  n->stem_act = n->head_act = ATTN_ACT_RELU6;
  for (int k = 0; k < n->n_blocks; k++) {
    const cJSON *b = cJSON_GetArrayItem(blocks, k);
    if (!cJSON_IsArray(b) || cJSON_GetArraySize(b) != 3 || !int_item(b, 0, &n->expand[k]) ||
        !int_item(b, 1, &n->out[k]) || !int_item(b, 2, &n->stride[k]) || n->expand[k] < 1 || n->expand[k] > 16 ||
        n->out[k] < 1 || (n->stride[k] != 1 && n->stride[k] != 2))
      return attn_error_set(err, ATTN_E_VALUE, "%s: trunk block %d is not [t 1..16, channels, stride 1|2]", file, k);
    n->hidden[k] = attn_mobilenet_block_in(n, k) * n->expand[k];
    n->kernel[k] = 3, n->se[k] = 0, n->act[k] = ATTN_ACT_RELU6;
  }
  return ATTN_OK;
}

static attn_status config_v3(attn_mobilenet *n, const cJSON *t, const cJSON *blocks, const char *file, attn_error *err) {
  if (!act_item(cJSON_GetObjectItemCaseSensitive(t, "stem_act"), 0, ATTN_ACT_HSWISH, &n->stem_act) ||
      !act_item(cJSON_GetObjectItemCaseSensitive(t, "head_act"), 1, ATTN_ACT_NONE, &n->head_act))
    return attn_error_set(err, ATTN_E_VALUE,
                          "%s: trunk \"stem_act\" must be \"relu\" or \"hswish\" and \"head_act\" one of those or \"none\"",
                          file);
  const cJSON *scale = cJSON_GetObjectItemCaseSensitive(t, "hswish_scale");
  n->hswish_scale = 1.0f / 6.0f;
  if (scale) {
    if (!cJSON_IsNumber(scale) || !(scale->valuedouble > 0.0 && scale->valuedouble < 1.0))
      return attn_error_set(err, ATTN_E_VALUE, "%s: trunk \"hswish_scale\" must be a number in (0, 1)", file);
    n->hswish_scale = (float)scale->valuedouble;
  }
  for (int k = 0; k < n->n_blocks; k++) {
    const cJSON *b = cJSON_GetArrayItem(blocks, k);
    int ok = cJSON_IsArray(b) && cJSON_GetArraySize(b) == 6 && int_item(b, 0, &n->kernel[k]) &&
             int_item(b, 1, &n->hidden[k]) && int_item(b, 2, &n->out[k]) && int_item(b, 3, &n->se[k]) &&
             act_item(cJSON_GetArrayItem(b, 4), 0, ATTN_ACT_NONE, &n->act[k]) && int_item(b, 5, &n->stride[k]);
    if (!ok || n->kernel[k] % 2 == 0 || n->kernel[k] > MAX_KERNEL || n->hidden[k] < 1 || n->out[k] < 1 ||
        (n->stride[k] != 1 && n->stride[k] != 2))
      return attn_error_set(err, ATTN_E_VALUE,
                            "%s: trunk block %d is not [kernel 1|3|5|7, hidden, channels, squeeze-excite, "
                            "\"relu\"|\"hswish\", stride 1|2]",
                            file, k);
  }
  return ATTN_OK;
}

attn_status attn_mobilenet_config(attn_mobilenet *n, const cJSON *t, const char *file, attn_error *err) {
  memset(n, 0, sizeof *n);
  const cJSON *arch = cJSON_GetObjectItemCaseSensitive(t, "arch");
  if (!cJSON_IsObject(t) || !cJSON_IsString(arch) ||
      (strcmp(arch->valuestring, "mobilenet_v2") != 0 && strcmp(arch->valuestring, "mobilenet_v3") != 0))
    return attn_error_set(err, ATTN_E_VALUE,
                          "%s: \"trunk\" must be an object with \"arch\": \"mobilenet_v2\" or \"mobilenet_v3\"", file);
  n->arch = strcmp(arch->valuestring, "mobilenet_v2") == 0 ? ATTN_MOBILENET_V2 : ATTN_MOBILENET_V3;
  const cJSON *stem = cJSON_GetObjectItemCaseSensitive(t, "stem"), *head = cJSON_GetObjectItemCaseSensitive(t, "head");
  const cJSON *blocks = cJSON_GetObjectItemCaseSensitive(t, "blocks");
  int nb = cJSON_IsArray(blocks) ? cJSON_GetArraySize(blocks) : 0;
  if (!channels(stem, 1) || !channels(head, 0) || nb < 1 || nb > ATTN_MOBILENET_MAX_BLOCKS)
    return attn_error_set(err, ATTN_E_VALUE,
                          "%s: trunk \"stem\" and \"head\" must be channel counts and \"blocks\" 1 to %d blocks",
                          file, ATTN_MOBILENET_MAX_BLOCKS);
  n->stem = (int)stem->valuedouble, n->head = (int)head->valuedouble, n->n_blocks = nb;
  n->hswish_scale = 1.0f / 6.0f;
  return n->arch == ATTN_MOBILENET_V2 ? config_v2(n, blocks, file, err) : config_v3(n, t, blocks, file, err);
}

int attn_mobilenet_block_in(const attn_mobilenet *n, int k) { return k ? n->out[k - 1] : n->stem; }
int attn_mobilenet_channels(const attn_mobilenet *n) { return n->head ? n->head : n->out[n->n_blocks - 1]; }
int attn_mobilenet_stride(const attn_mobilenet *n) {
  int s = 2;
  for (int k = 0; k < n->n_blocks; k++) s *= n->stride[k];
  return s;
}

static int has_expand(const attn_mobilenet *n, int k) { return n->hidden[k] != attn_mobilenet_block_in(n, k); }

/* Appends one tensor; its name is printf(fmt, ...). */
__attribute__((format(printf, 8, 9))) static void add(attn_mobilenet_tensor *t, int *count, float **dst, int ndim,
                                                      int64_t d0, int64_t d1, int64_t d2, const char *fmt, ...) {
  attn_mobilenet_tensor *w = &t[(*count)++];
  *w = (attn_mobilenet_tensor){.ndim = ndim, .shape = {d0, d1, d2, d2}, .dst = dst};
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(w->name, sizeof w->name, fmt, ap);
  va_end(ap);
}

/* Shapes: 4-d [o, i, k, k] (the last two equal) or 1-d [o]. */
int attn_mobilenet_tensors(attn_mobilenet *n, attn_mobilenet_tensor *t) {
  int c = 0;
  add(t, &c, &n->stem_w, 4, n->stem, 3, 3, "stem.weight");
  add(t, &c, &n->stem_b, 1, n->stem, 0, 0, "stem.bias");
  for (int k = 0; k < n->n_blocks; k++) {
    int64_t in = attn_mobilenet_block_in(n, k), hid = n->hidden[k], kk = n->kernel[k], se = n->se[k];
    if (has_expand(n, k)) {
      add(t, &c, &n->exp_w[k], 4, hid, in, 1, "blocks.%d.expand.weight", k);
      add(t, &c, &n->exp_b[k], 1, hid, 0, 0, "blocks.%d.expand.bias", k);
    }
    add(t, &c, &n->dw_w[k], 4, hid, 1, kk, "blocks.%d.dw.weight", k);
    add(t, &c, &n->dw_b[k], 1, hid, 0, 0, "blocks.%d.dw.bias", k);
    if (se) {
      add(t, &c, &n->se_rw[k], 4, se, hid, 1, "blocks.%d.se.reduce.weight", k);
      add(t, &c, &n->se_rb[k], 1, se, 0, 0, "blocks.%d.se.reduce.bias", k);
      add(t, &c, &n->se_ew[k], 4, hid, se, 1, "blocks.%d.se.expand.weight", k);
      add(t, &c, &n->se_eb[k], 1, hid, 0, 0, "blocks.%d.se.expand.bias", k);
    }
    add(t, &c, &n->pw_w[k], 4, n->out[k], hid, 1, "blocks.%d.project.weight", k);
    add(t, &c, &n->pw_b[k], 1, n->out[k], 0, 0, "blocks.%d.project.bias", k);
  }
  if (n->head) {
    add(t, &c, &n->head_w, 4, n->head, n->out[n->n_blocks - 1], 1, "head.weight");
    add(t, &c, &n->head_b, 1, n->head, 0, 0, "head.bias");
  }
  return c;
}

/* TensorFlow "SAME" padding of one axis of size len: the amount before, and the padded size. */
static int pad_before(int len, int k, int s, int *padded) {
  int out = (len + s - 1) / s, total = (out - 1) * s + k - len;
  if (total < 0) total = 0;
  *padded = len + total;
  return total / 2;
}

/* Buffer layout: x, y (block input and output, planar), e (expanded) and d (depthwise out; both
 * channels-last when the block expands) each `big` floats, then one padded plane, then
 * squeeze-excite's vectors, then the stem's im2col, then the depthwise taps. */
static size_t biggest_map(const attn_mobilenet *n, int side) {
  int s = side / 2;
  size_t most = (size_t)n->stem * s * s;
  for (int k = 0; k < n->n_blocks; k++) {
    size_t hid = (size_t)n->hidden[k];
    if (hid * s * s > most) most = hid * s * s;
    s /= n->stride[k];
    if ((size_t)n->out[k] * s * s > most) most = (size_t)n->out[k] * s * s;
  }
  if ((size_t)n->head * s * s > most) most = (size_t)n->head * s * s;
  return most;
}

static size_t se_floats(const attn_mobilenet *n) {
  size_t most = 0;
  for (int k = 0; k < n->n_blocks; k++)
    if (2 * (size_t)n->hidden[k] + n->se[k] > most) most = 2 * (size_t)n->hidden[k] + n->se[k];
  return most;
}

static size_t pad_floats(int side) { return (size_t)(side / 2 + MAX_KERNEL) * (side / 2 + MAX_KERNEL); }

static size_t col_floats(int side) { return 27 * (size_t)(side / 2) * (size_t)(side / 2); }

/* The depthwise taps of the widest block, channels innermost (taps_by_channel). */
static size_t taps_floats(const attn_mobilenet *n) {
  size_t most = 0;
  for (int k = 0; k < n->n_blocks; k++)
    if ((size_t)n->hidden[k] * n->kernel[k] * n->kernel[k] > most) most = (size_t)n->hidden[k] * n->kernel[k] * n->kernel[k];
  return most;
}

size_t attn_mobilenet_scratch(const attn_mobilenet *n, int side) {
  return 4 * biggest_map(n, side) + pad_floats(side) + se_floats(n) + col_floats(side) + taps_floats(n);
}

double attn_mobilenet_flops(const attn_mobilenet *n, int side) {
  double s = side / 2, c = n->stem, total = 2.0 * s * s * c * 27;
  for (int k = 0; k < n->n_blocks; k++) {
    double hid = n->hidden[k];
    if (has_expand(n, k)) total += 2.0 * s * s * hid * c;
    s /= n->stride[k];
    total += 2.0 * s * s * hid * n->kernel[k] * n->kernel[k] + 2.0 * s * s * n->out[k] * hid;
    total += 2.0 * 2.0 * hid * n->se[k];
    c = n->out[k];
  }
  if (n->head) total += 2.0 * s * s * n->head * c;
  return total;
}

/* min(max(v, 0), 6) without libm calls, so that the loops vectorise (NaN passes through, as
 * in PyTorch's clamp). */
static inline float clamp6(float v) { return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v); }

/* row[i] = act(row[i] + bias), one loop per activation so that each vectorises. Hard-swish is
 * (scale * v) * relu6(v + 3), in the twin's (and the TF.js graph's) order of operations. */
WIDE static void act_row(float *row, const float *src, int len, float bias, attn_mobilenet_act act, float scale) {
  switch (act) {
  case ATTN_ACT_RELU6:
    for (int i = 0; i < len; i++) row[i] = clamp6(src[i] + bias);
    break;
  case ATTN_ACT_RELU:
    for (int i = 0; i < len; i++) {
      float v = src[i] + bias;
      row[i] = v < 0.0f ? 0.0f : v;
    }
    break;
  case ATTN_ACT_HSWISH:
    for (int i = 0; i < len; i++) {
      float v = src[i] + bias;
      row[i] = (scale * v) * clamp6(v + 3.0f);
    }
    break;
  default:
    for (int i = 0; i < len; i++) row[i] = src[i] + bias;
  }
}

/* out[c_out][hw] = w[c_out][c_in] @ in[c_in][hw], without the bias: the pass that follows adds
 * it (with the activation or the residual), so each map is written once by sgemm and touched
 * once more. */
static void pointwise(float *out, const float *in, const float *w, int c_in, int c_out, int hw) {
  attn_gemm(0, 0, c_out, hw, c_in, 1.0f, w, c_in, in, hw, 0.0f, out, hw);
}

/* x[c][hw] = act(x + b[c]). */
static void bias_act(float *x, const float *b, int c, int hw, attn_mobilenet_act act, float scale) {
  for (int o = 0; o < c; o++) act_row(x + (size_t)o * hw, x + (size_t)o * hw, hw, b[o], act, scale);
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

/* One output row of a k x k depthwise kernel (k != 3) over padded rows r (stride apart):
 * o[x] = b + sum kk[ky][kx] r[ky][x * stride + kx], accumulated tap by tap so that the inner
 * loop runs along the row. */
#define DW5_ROW(rr, base, i)                                                                                      \
  acc += kk[(base)] * rr[(i)], acc += kk[(base) + 1] * rr[(i) + 1], acc += kk[(base) + 2] * rr[(i) + 2],         \
      acc += kk[(base) + 3] * rr[(i) + 3], acc += kk[(base) + 4] * rr[(i) + 4]
/* o[x] from the 25 taps at column i of the five padded rows r0..r4, summed tap by tap from b. */
#define DW5_OUT(x, i)                                                                                             \
  do {                                                                                                           \
    float acc = b;                                                                                               \
    DW5_ROW(r0, 0, i);                                                                                           \
    DW5_ROW(r1, 5, i);                                                                                           \
    DW5_ROW(r2, 10, i);                                                                                          \
    DW5_ROW(r3, 15, i);                                                                                          \
    DW5_ROW(r4, 20, i);                                                                                          \
    o[x] = acc;                                                                                                  \
  } while (0)

WIDE static void dw_row(float *o, const float *r, int pw, const float *kk, int k, int stride, float b, int ow) {
  if (k == 5) { /* the 5x5 kernels of MobileNetV3: all 25 taps per output, vectorised across the row */
    const float *r0 = r, *r1 = r0 + pw, *r2 = r1 + pw, *r3 = r2 + pw, *r4 = r3 + pw;
    if (stride == 1)
      for (int x = 0; x < ow; x++) DW5_OUT(x, x);
    else
      for (int x = 0; x < ow; x++) DW5_OUT(x, 2 * x);
    return;
  }
  for (int x = 0; x < ow; x++) o[x] = b;
  for (int ky = 0; ky < k; ky++) {
    const float *row = r + (size_t)ky * pw;
    for (int kx = 0; kx < k; kx++) {
      float wv = kk[ky * k + kx];
      const float *src = row + kx;
      if (stride == 1) {
        for (int x = 0; x < ow; x++) o[x] += wv * src[x];
      } else {
        for (int x = 0; x < ow; x++) o[x] += wv * src[2 * x];
      }
    }
  }
}

/* Depthwise k x k of c planes of h x w at stride 1 or 2 with TF "SAME" padding (output
 * ceil(h/s) x ceil(w/s)); then + b and the activation. pad holds the padded plane. For blocks
 * without an expansion (the input is the planar block input); depthwise_hwc does the rest. */
WIDE static void depthwise(float *out, const float *in, const float *wt, const float *b, int c, int h, int w, int k,
                           int stride, attn_mobilenet_act act, float scale, float *pad) {
  int ph, pw, top = pad_before(h, k, stride, &ph), left = pad_before(w, k, stride, &pw);
  int oh = (h + stride - 1) / stride, ow = (w + stride - 1) / stride;
  memset(pad, 0, (size_t)ph * pw * sizeof(float));
  for (int p = 0; p < c; p++) {
    const float *plane = in + (size_t)p * h * w, *kk = wt + (size_t)p * k * k;
    for (int y = 0; y < h; y++) {
      float *dst = pad + (size_t)(y + top) * pw + left;
      memcpy(dst, plane + (size_t)y * w, (size_t)w * sizeof(float));
    }
    float *dst = out + (size_t)p * oh * ow;
    for (int y = 0; y < oh; y++) {
      const float *r0 = pad + (size_t)(y * stride) * pw, *r1 = r0 + pw, *r2 = r1 + pw;
      float *o = dst + (size_t)y * ow;
      if (k != 3) {
        dw_row(o, r0, pw, kk, k, stride, b[p], ow);
      } else if (stride == 1) {
        for (int x = 0; x < ow; x++)
          o[x] = b[p] + kk[0] * r0[x] + kk[1] * r0[x + 1] + kk[2] * r0[x + 2] + kk[3] * r1[x] + kk[4] * r1[x + 1] +
                 kk[5] * r1[x + 2] + kk[6] * r2[x] + kk[7] * r2[x + 1] + kk[8] * r2[x + 2];
      } else {
        for (int x = 0; x < ow; x++) {
          int i = 2 * x;
          o[x] = b[p] + kk[0] * r0[i] + kk[1] * r0[i + 1] + kk[2] * r0[i + 2] + kk[3] * r1[i] + kk[4] * r1[i + 1] +
                 kk[5] * r1[i + 2] + kk[6] * r2[i] + kk[7] * r2[i + 1] + kk[8] * r2[i + 2];
        }
      }
      act_row(o, o, ow, 0.0f, act, scale);
    }
  }
}

/* The expanded map in channels-last layout, x[hw][c] = act(x + b[c]): the expansion's bias and
 * activation, vectorised across the channels. */
WIDE static void bias_act_hwc(float *x, const float *b, int hw, int c, attn_mobilenet_act act, float scale) {
  for (int i = 0; i < hw; i++) {
    float *row = x + (size_t)i * c;
    switch (act) {
    case ATTN_ACT_RELU6:
      for (int j = 0; j < c; j++) row[j] = clamp6(row[j] + b[j]);
      break;
    case ATTN_ACT_RELU:
      for (int j = 0; j < c; j++) {
        float v = row[j] + b[j];
        row[j] = v < 0.0f ? 0.0f : v;
      }
      break;
    case ATTN_ACT_HSWISH:
      for (int j = 0; j < c; j++) {
        float v = row[j] + b[j];
        row[j] = (scale * v) * clamp6(v + 3.0f);
      }
      break;
    default:
      for (int j = 0; j < c; j++) row[j] += b[j];
    }
  }
}

/* wt_t[k*k][c] = wt[c][k*k]: the depthwise taps with the channels innermost. */
static void taps_by_channel(float *wt_t, const float *wt, int c, int kk) {
  for (int p = 0; p < c; p++)
    for (int t = 0; t < kk; t++) wt_t[(size_t)t * c + p] = wt[(size_t)p * kk + t];
}

/* Eight floats as one value (GCC/Clang vector extension): one AVX register in the AVX2 clone,
 * two SSE registers otherwise. memcpy loads and stores them unaligned without breaking
 * aliasing rules (macros: a function passing v8f by value would change ABI between clones). */
typedef float v8f __attribute__((vector_size(32)));
#define V8_LOAD(v, p) memcpy(&(v), (p), sizeof(v8f))
#define V8_STORE(p, v) memcpy((p), &(v), sizeof(v8f))

/* One channel of one cell (the last channels of a width that is not a multiple of 8). */
static inline void dw_cell1(float *o, const float *in, const float *wt_t, const float *b, int c, int w, int k, int y0,
                            int x0, int ky0, int ky1, int kx0, int kx1, int j) {
  float acc = b[j];
  for (int ky = ky0; ky < ky1; ky++)
    for (int kx = kx0; kx < kx1; kx++)
      acc += wt_t[(size_t)(ky * k + kx) * c + j] * in[((size_t)(y0 + ky) * w + (size_t)(x0 + kx)) * c + j];
  o[j] = acc;
}

/* One output cell of the channels-last depthwise for channels [j, j + 8 nv) (nv = 2 or 1): the
 * taps inside the image in the twin's order (row by row), from b, in registers. The taps that
 * fall on the zero padding are left out (they add +-0). always_inline, so that nv and k are
 * constants in each call and the loops unroll. */
__attribute__((always_inline)) static inline void dw_cell(float *o, const float *in, const float *wt_t, const float *b,
                                                          int c, int w, int k, int y0, int x0, int ky0, int ky1,
                                                          int kx0, int kx1, int j, int nv) {
  v8f acc[2], wv, xv;
  for (int v = 0; v < nv; v++) V8_LOAD(acc[v], b + j + 8 * v);
  for (int ky = ky0; ky < ky1; ky++)
    for (int kx = kx0; kx < kx1; kx++) {
      const float *p = in + ((size_t)(y0 + ky) * w + (size_t)(x0 + kx)) * c + j;
      const float *q = wt_t + (size_t)(ky * k + kx) * c + j;
      for (int v = 0; v < nv; v++) {
        V8_LOAD(wv, q + 8 * v);
        V8_LOAD(xv, p + 8 * v);
        acc[v] += wv * xv;
      }
    }
  for (int v = 0; v < nv; v++) V8_STORE(o + j + 8 * v, acc[v]);
}

/* dw_cell for four neighbouring cells of one row that lie clear of the left and right borders:
 * each tap's weights are loaded once for the four. Same sums in the same order per cell. */
__attribute__((always_inline)) static inline void dw_cell4(float *o, const float *in, const float *wt_t,
                                                           const float *b, int c, int w, int k, int stride, int y0,
                                                           int x0, int ky0, int ky1, int j, int nv) {
  v8f acc[4][2], wv, xv;
  for (int v = 0; v < nv; v++) {
    V8_LOAD(wv, b + j + 8 * v);
    for (int p = 0; p < 4; p++) acc[p][v] = wv;
  }
  for (int ky = ky0; ky < ky1; ky++) {
    const float *row = in + ((size_t)(y0 + ky) * w + (size_t)x0) * c + j;
    for (int kx = 0; kx < k; kx++) {
      const float *q = wt_t + (size_t)(ky * k + kx) * c + j;
      for (int v = 0; v < nv; v++) {
        V8_LOAD(wv, q + 8 * v);
        for (int p = 0; p < 4; p++) {
          V8_LOAD(xv, row + (size_t)(p * stride + kx) * c + 8 * v);
          acc[p][v] += wv * xv;
        }
      }
    }
  }
  for (int p = 0; p < 4; p++)
    for (int v = 0; v < nv; v++) V8_STORE(o + (size_t)p * c + j + 8 * v, acc[p][v]);
}

__attribute__((always_inline)) static inline void dw_hwc_k(float *out, const float *in, const float *wt_t,
                                                           const float *b, int c, int h, int w, int k, int stride,
                                                           attn_mobilenet_act act, float scale) {
  int ph, pw, top = pad_before(h, k, stride, &ph), left = pad_before(w, k, stride, &pw);
  int oh = (h + stride - 1) / stride, ow = (w + stride - 1) / stride;
  for (int oy = 0; oy < oh; oy++) {
    int y0 = oy * stride - top, ky0 = y0 < 0 ? -y0 : 0, ky1 = h - y0 < k ? h - y0 : k;
    float *orow = out + (size_t)oy * ow * c;
    for (int ox = 0; ox < ow;) {
      int x0 = ox * stride - left, kx0 = x0 < 0 ? -x0 : 0, kx1 = w - x0 < k ? w - x0 : k;
      float *o = orow + (size_t)ox * c;
      int j = 0;
      if (kx0 == 0 && ox + 3 < ow && x0 + 3 * stride + k <= w) { /* four cells clear of both sides */
        for (; j + 16 <= c; j += 16) dw_cell4(o, in, wt_t, b, c, w, k, stride, y0, x0, ky0, ky1, j, 2);
        for (; j + 8 <= c; j += 8) dw_cell4(o, in, wt_t, b, c, w, k, stride, y0, x0, ky0, ky1, j, 1);
        for (int p = 0; p < 4; p++)
          for (int jj = j; jj < c; jj++) dw_cell1(o + (size_t)p * c, in, wt_t, b, c, w, k, y0, x0 + p * stride, ky0,
                                                  ky1, 0, k, jj);
        ox += 4;
        continue;
      }
      for (; j + 16 <= c; j += 16) dw_cell(o, in, wt_t, b, c, w, k, y0, x0, ky0, ky1, kx0, kx1, j, 2);
      for (; j + 8 <= c; j += 8) dw_cell(o, in, wt_t, b, c, w, k, y0, x0, ky0, ky1, kx0, kx1, j, 1);
      for (; j < c; j++) dw_cell1(o, in, wt_t, b, c, w, k, y0, x0, ky0, ky1, kx0, kx1, j);
      ox++;
    }
    act_row(orow, orow, ow * c, 0.0f, act, scale);
  }
}

/* Depthwise k x k over a channels-last map in[h][w][c] at stride 1 or 2 with TF "SAME" padding
 * into out[oh][ow][c], + b and the activation; wt_t is [k*k][c] (taps_by_channel). For the
 * expanded maps: with a hundred or more channels over as few as 7 x 7 cells, vectorising along
 * the channels keeps every lane busy, where the planar path spends its time on the borders and
 * the short rows. Same sums in the same order as the planar path. */
WIDE static void depthwise_hwc(float *out, const float *in, const float *wt_t, const float *b, int c, int h, int w,
                               int k, int stride, attn_mobilenet_act act, float scale) {
  if (k == 3)
    dw_hwc_k(out, in, wt_t, b, c, h, w, 3, stride, act, scale);
  else if (k == 5)
    dw_hwc_k(out, in, wt_t, b, c, h, w, 5, stride, act, scale);
  else
    dw_hwc_k(out, in, wt_t, b, c, h, w, k, stride, act, scale);
}

/* Squeeze-and-excite's gates from the channel means m (vec holds m, r, g: 2 hid + se floats):
 * r = relu(W_r m + b_r), g = relu6(W_e r + b_e + 3) * scale (hard sigmoid). Returns g. */
static float *se_gates(float *vec, int hid, int se, const float *rw, const float *rb, const float *ew, const float *eb,
                       float scale) {
  float *m = vec, *r = vec + hid, *g = vec + hid + se;
  attn_matvec(r, rw, m, rb, se, hid); /* sgemv: the scalar dot products were a sixth of the trunk */
  for (int j = 0; j < se; j++) r[j] = r[j] < 0.0f ? 0.0f : r[j];
  attn_matvec(g, ew, r, eb, hid, se);
  for (int c = 0; c < hid; c++) g[c] = clamp6(g[c] + 3.0f) * scale;
  return g;
}

/* Squeeze-and-excite on a planar d [hid][hw] in place: the means (summed in double: the map has
 * up to a few thousand cells), the gates, d[c] *= g[c]. */
static void squeeze_excite(float *d, int hid, int hw, int se, const float *rw, const float *rb, const float *ew,
                           const float *eb, float scale, float *vec) {
  for (int c = 0; c < hid; c++) {
    const float *row = d + (size_t)c * hw;
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0; /* four chains: the adds overlap */
    int i = 0;
    for (; i + 4 <= hw; i += 4) s0 += row[i], s1 += row[i + 1], s2 += row[i + 2], s3 += row[i + 3];
    for (; i < hw; i++) s0 += row[i];
    vec[c] = (float)((s0 + s1 + s2 + s3) / hw);
  }
  const float *g = se_gates(vec, hid, se, rw, rb, ew, eb, scale);
  for (int c = 0; c < hid; c++) {
    float *row = d + (size_t)c * hw;
    for (int i = 0; i < hw; i++) row[i] *= g[c];
  }
}

/* squeeze_excite on a channels-last d [hw][hid]: the means summed in double per channel (64
 * channels at a time, vectorised along them), the same gates. */
WIDE static void squeeze_excite_hwc(float *d, int hid, int hw, int se, const float *rw, const float *rb,
                                    const float *ew, const float *eb, float scale, float *vec) {
  for (int j0 = 0; j0 < hid; j0 += 64) {
    int n = hid - j0 < 64 ? hid - j0 : 64;
    double sum[64] = {0};
    for (int i = 0; i < hw; i++) {
      const float *row = d + (size_t)i * hid + j0;
      for (int l = 0; l < n; l++) sum[l] += row[l];
    }
    for (int l = 0; l < n; l++) vec[j0 + l] = (float)(sum[l] / hw);
  }
  const float *g = se_gates(vec, hid, se, rw, rb, ew, eb, scale);
  for (int i = 0; i < hw; i++) {
    float *row = d + (size_t)i * hid;
    for (int c = 0; c < hid; c++) row[c] *= g[c];
  }
}

/* The stem: 3x3 stride 2 with "SAME" padding (0 before and 1 after on the even sides
 * attn_mobilenet_forward takes), 3 -> stem channels, + b, activation. */
static void stem(const attn_mobilenet *n, float *out, const float *in, int side, float *col) {
  int oh = side / 2, hw = oh * oh, padded, top = pad_before(side, 3, 2, &padded);
  for (int c = 0; c < 3; c++)
    for (int ky = 0; ky < 3; ky++)
      for (int kx = 0; kx < 3; kx++) {
        float *row = col + (size_t)((c * 3 + ky) * 3 + kx) * hw;
        const float *plane = in + (size_t)c * side * side;
        /* the columns whose source lies inside the image, x in [lo, hi): no test per value */
        int lo = kx >= top ? 0 : (top - kx + 1) / 2, hi = (side - 1 - kx + top) / 2 + 1;
        hi = hi > oh ? oh : hi;
        for (int y = 0; y < oh; y++) {
          int sy = 2 * y + ky - top;
          float *dst = row + (size_t)y * oh;
          if (sy < 0 || sy >= side) {
            memset(dst, 0, (size_t)oh * sizeof(float));
            continue;
          }
          const float *src = plane + (size_t)sy * side;
          for (int x = 0; x < lo; x++) dst[x] = 0.0f;
          for (int x = lo; x < hi; x++) dst[x] = src[2 * x + kx - top];
          for (int x = hi; x < oh; x++) dst[x] = 0.0f;
        }
      }
  pointwise(out, col, n->stem_w, 27, n->stem, hw);
  bias_act(out, n->stem_b, n->stem, hw, n->stem_act, n->hswish_scale);
}

void attn_mobilenet_forward(const attn_mobilenet *n, const float *in, int side, float *out, float *scratch) {
  size_t big = biggest_map(n, side);
  float *x = scratch, *y = x + big, *e = y + big, *d = e + big, *pad = d + big;
  float *vec = pad + pad_floats(side), *col = vec + se_floats(n), *taps = col + col_floats(side);
  int s = side / 2, c = n->stem;
  stem(n, x, in, side, col);
  for (int k = 0; k < n->n_blocks; k++) {
    int hid = n->hidden[k], hw = s * s, kk = n->kernel[k] * n->kernel[k];
    if (has_expand(n, k)) {
      /* Block inputs and outputs are planar [c][hw]; the expanded map is channels-last: the
       * expansion writes e[hw][hid] = x^T W^T and the projection reads it transposed, so the
       * layouts change inside the two sgemm calls at no cost. */
      attn_gemm(1, 1, hw, hid, c, 1.0f, x, hw, n->exp_w[k], c, 0.0f, e, hid);
      bias_act_hwc(e, n->exp_b[k], hw, hid, n->act[k], n->hswish_scale);
      taps_by_channel(taps, n->dw_w[k], hid, kk);
      depthwise_hwc(d, e, taps, n->dw_b[k], hid, s, s, n->kernel[k], n->stride[k], n->act[k], n->hswish_scale);
      s /= n->stride[k];
      if (n->se[k])
        squeeze_excite_hwc(d, hid, s * s, n->se[k], n->se_rw[k], n->se_rb[k], n->se_ew[k], n->se_eb[k],
                           n->hswish_scale, vec);
      attn_gemm(0, 1, n->out[k], s * s, hid, 1.0f, n->pw_w[k], hid, d, hid, 0.0f, y, s * s);
    } else { /* no expansion (the first block): planar, row by row over a padded copy */
      depthwise(d, x, n->dw_w[k], n->dw_b[k], hid, s, s, n->kernel[k], n->stride[k], n->act[k], n->hswish_scale, pad);
      s /= n->stride[k];
      if (n->se[k])
        squeeze_excite(d, hid, s * s, n->se[k], n->se_rw[k], n->se_rb[k], n->se_ew[k], n->se_eb[k], n->hswish_scale,
                       vec);
      pointwise(y, d, n->pw_w[k], hid, n->out[k], s * s);
    }
    bias_add(y, n->pw_b[k], n->stride[k] == 1 && c == n->out[k] ? x : NULL, n->out[k], s * s);
    c = n->out[k];
    float *t = x;
    x = y, y = t;
  }
  if (n->head) {
    pointwise(out, x, n->head_w, c, n->head, s * s);
    bias_act(out, n->head_b, n->head, s * s, n->head_act, n->hswish_scale);
  } else {
    memcpy(out, x, (size_t)c * s * s * sizeof(float));
  }
}
