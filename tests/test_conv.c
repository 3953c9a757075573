/* The caption encoder's image kernels (engine/attn_conv.c) against naive loops. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "attn_conv.h"
#include "attn_mobilenet.h"

static float *random_floats(GRand *r, size_t n) {
  float *v = g_new(float, n);
  for (size_t i = 0; i < n; i++) v[i] = (float)g_rand_double_range(r, -1, 1);
  return v;
}

static double max_diff(const float *a, const float *b, size_t n) {
  double worst = 0;
  for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs((double)a[i] - b[i]));
  return worst;
}

static void naive_conv(float *out, const float *in, const float *wt, const float *b, int ci, int h, int w, int co,
                       int k, int pad) {
  for (int o = 0; o < co; o++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        double s = b ? b[o] : 0;
        for (int c = 0; c < ci; c++)
          for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
              int sy = y + ky - pad, sx = x + kx - pad;
              if (sy >= 0 && sy < h && sx >= 0 && sx < w)
                s += (double)wt[((o * ci + c) * k + ky) * k + kx] * in[(c * h + sy) * w + sx];
            }
        out[(o * h + y) * w + x] = (float)s;
      }
}

static void test_conv2d(void) {
  GRand *r = g_rand_new_with_seed(5);
  const int cases[][6] = {{3, 12, 12, 8, 3, 1}, {5, 7, 9, 4, 3, 1}, {2, 6, 5, 3, 1, 0}, {4, 9, 8, 6, 5, 2}, {1, 1, 1, 2, 3, 1}};
  for (size_t t = 0; t < G_N_ELEMENTS(cases); t++) {
    int ci = cases[t][0], h = cases[t][1], w = cases[t][2], co = cases[t][3], k = cases[t][4], pad = cases[t][5];
    g_autofree float *in = random_floats(r, (size_t)ci * h * w), *wt = random_floats(r, (size_t)co * ci * k * k);
    g_autofree float *b = random_floats(r, co), *got = g_new(float, (size_t)co * h * w), *want = g_new(float, (size_t)co * h * w);
    g_autofree float *col = g_new(float, attn_conv2d_scratch(ci, h, w, k));
    attn_conv2d(got, in, wt, t % 2 ? NULL : b, ci, h, w, co, k, pad, col);
    naive_conv(want, in, wt, t % 2 ? NULL : b, ci, h, w, co, k, pad);
    double d = max_diff(got, want, (size_t)co * h * w);
    g_test_message("conv %dx%dx%d -> %d, k %d: max abs difference %.3g", ci, h, w, co, k, d);
    g_assert_cmpfloat(d, <=, 1e-5);
  }
  g_rand_free(r);
}

static void test_maxpool(void) {
  GRand *r = g_rand_new_with_seed(6);
  const int sizes[][3] = {{3, 8, 8}, {2, 7, 5}, {1, 2, 2}};
  for (size_t t = 0; t < G_N_ELEMENTS(sizes); t++) {
    int c = sizes[t][0], h = sizes[t][1], w = sizes[t][2], oh = h / 2, ow = w / 2;
    g_autofree float *in = random_floats(r, (size_t)c * h * w), *got = g_new(float, (size_t)c * oh * ow);
    attn_maxpool2(got, in, c, h, w);
    for (int p = 0; p < c; p++)
      for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
          float m = -INFINITY;
          for (int dy = 0; dy < 2; dy++)
            for (int dx = 0; dx < 2; dx++) m = fmaxf(m, in[(p * h + 2 * y + dy) * w + 2 * x + dx]);
          g_assert_cmpfloat(got[(p * oh + y) * ow + x], ==, m);
        }
  }
  g_rand_free(r);
}

/* Exact area average: the overlap of output pixel (y, x)'s footprint with every input pixel. */
static void naive_resize(float *out, int oh, int ow, const float *in, int ih, int iw, int ch) {
  double sy = (double)ih / oh, sx = (double)iw / ow;
  for (int y = 0; y < oh; y++)
    for (int x = 0; x < ow; x++)
      for (int c = 0; c < ch; c++) {
        double s = 0;
        for (int i = 0; i < ih; i++)
          for (int j = 0; j < iw; j++) {
            double fy = fmin((y + 1) * sy, i + 1) - fmax(y * sy, i), fx = fmin((x + 1) * sx, j + 1) - fmax(x * sx, j);
            if (fy > 0 && fx > 0) s += fy * fx * in[((size_t)i * iw + j) * ch + c];
          }
        out[((size_t)y * ow + x) * ch + c] = (float)(s / (sy * sx));
      }
}

static void test_resize(void) {
  GRand *r = g_rand_new_with_seed(7);
  const int sizes[][4] = {{23, 37, 16, 16}, {16, 16, 16, 16}, {5, 3, 16, 16}, {40, 40, 12, 7}, {1, 1, 4, 4}};
  for (size_t t = 0; t < G_N_ELEMENTS(sizes); t++) {
    int ih = sizes[t][0], iw = sizes[t][1], oh = sizes[t][2], ow = sizes[t][3];
    g_autofree float *in = random_floats(r, (size_t)ih * iw * 3), *got = g_new(float, (size_t)oh * ow * 3);
    g_autofree float *want = g_new(float, (size_t)oh * ow * 3), *tmp = g_new(float, (size_t)oh * iw * 3);
    attn_resize_area(got, oh, ow, in, ih, iw, 3, tmp);
    naive_resize(want, oh, ow, in, ih, iw, 3);
    double d = max_diff(got, want, (size_t)oh * ow * 3);
    g_test_message("resize %dx%d -> %dx%d: max abs difference %.3g", ih, iw, oh, ow, d);
    g_assert_cmpfloat(d, <=, 1e-5);
    if (ih == oh && iw == ow) g_assert_cmpmem(got, oh * ow * 3 * sizeof(float), in, oh * ow * 3 * sizeof(float));
  }
  g_rand_free(r);
}

/* ---- MobileNet trunks (engine/attn_mobilenet.c) against a direct NCHW implementation in
 * double: every kernel size the config accepts (1, 3, 5, 7), both strides, TensorFlow "SAME"
 * padding on odd and even maps, widths that exercise the channels-last depthwise's 16- and
 * 8-channel blocks and its one-channel rest, squeeze-excite, each activation, residuals. The
 * twin's golden files (tests/test_caption.c) cover 3x3 and 5x5 on the shipped shapes only. ---- */

static double act_d(double v, attn_mobilenet_act a, double scale) {
  switch (a) {
  case ATTN_ACT_RELU6: return v < 0 ? 0 : v > 6 ? 6 : v;
  case ATTN_ACT_RELU: return v < 0 ? 0 : v;
  case ATTN_ACT_HSWISH: return scale * v * (v + 3 < 0 ? 0 : v + 3 > 6 ? 6 : v + 3);
  default: return v;
  }
}

/* TF "SAME": output ceil(n / s), padding total max((out - 1) s + k - n, 0), the smaller half first. */
static int same_pad(int n, int k, int s) {
  int out = (n + s - 1) / s, total = (out - 1) * s + k - n;
  return total < 0 ? 0 : total / 2;
}

/* [co][oh][ow] = act(conv(in [ci][h][w]) + b): groups = 1 (full) or ci (depthwise). */
static double *naive_trunk_conv(const double *in, int ci, int h, int w, const float *wt, const float *b, int co, int k,
                                int s, int depthwise, attn_mobilenet_act a, double scale, int *oh, int *ow) {
  *oh = (h + s - 1) / s, *ow = (w + s - 1) / s;
  int top = same_pad(h, k, s), left = same_pad(w, k, s);
  double *out = g_new0(double, (size_t)co * *oh * *ow);
  for (int o = 0; o < co; o++)
    for (int y = 0; y < *oh; y++)
      for (int x = 0; x < *ow; x++) {
        double acc = b[o];
        for (int c = depthwise ? o : 0; c < (depthwise ? o + 1 : ci); c++)
          for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
              int sy = y * s + ky - top, sx = x * s + kx - left;
              if (sy < 0 || sy >= h || sx < 0 || sx >= w) continue;
              double wv = depthwise ? wt[((size_t)o * k + ky) * k + kx] : wt[(((size_t)o * ci + c) * k + ky) * k + kx];
              acc += wv * in[((size_t)c * h + sy) * w + sx];
            }
        out[((size_t)o * *oh + y) * *ow + x] = act_d(acc, a, scale);
      }
  return out;
}

static void naive_trunk(const attn_mobilenet *n, const float *img, int side, double *result) {
  int h = side, w = side, oh, ow;
  double *x = g_new(double, (size_t)3 * side * side);
  for (size_t i = 0; i < (size_t)3 * side * side; i++) x[i] = img[i];
  double *t = naive_trunk_conv(x, 3, h, w, n->stem_w, n->stem_b, n->stem, 3, 2, 0, n->stem_act, n->hswish_scale, &oh, &ow);
  g_free(x), x = t, h = oh, w = ow;
  int c = n->stem;
  for (int k = 0; k < n->n_blocks; k++) {
    int hid = n->hidden[k];
    double *e = x;
    if (hid != c) e = naive_trunk_conv(x, c, h, w, n->exp_w[k], n->exp_b[k], hid, 1, 1, 0, n->act[k], n->hswish_scale, &oh, &ow);
    double *d = naive_trunk_conv(e, hid, h, w, n->dw_w[k], n->dw_b[k], hid, n->kernel[k], n->stride[k], 1, n->act[k],
                                 n->hswish_scale, &oh, &ow);
    if (e != x) g_free(e);
    int hw = oh * ow;
    if (n->se[k]) {
      double *m = g_new0(double, hid), *r = g_new0(double, n->se[k]);
      for (int q = 0; q < hid; q++) {
        for (int i = 0; i < hw; i++) m[q] += d[(size_t)q * hw + i];
        m[q] /= hw;
      }
      for (int j = 0; j < n->se[k]; j++) {
        double v = n->se_rb[k][j];
        for (int q = 0; q < hid; q++) v += (double)n->se_rw[k][(size_t)j * hid + q] * m[q];
        r[j] = v < 0 ? 0 : v;
      }
      for (int q = 0; q < hid; q++) {
        double g = n->se_eb[k][q];
        for (int j = 0; j < n->se[k]; j++) g += (double)n->se_ew[k][(size_t)q * n->se[k] + j] * r[j];
        g = (g + 3 < 0 ? 0 : g + 3 > 6 ? 6 : g + 3) * n->hswish_scale;
        for (int i = 0; i < hw; i++) d[(size_t)q * hw + i] *= g;
      }
      g_free(m), g_free(r);
    }
    double *y = naive_trunk_conv(d, hid, oh, ow, n->pw_w[k], n->pw_b[k], n->out[k], 1, 1, 0, ATTN_ACT_NONE, 0, &oh, &ow);
    if (n->stride[k] == 1 && c == n->out[k])
      for (size_t i = 0; i < (size_t)c * hw; i++) y[i] += x[i];
    g_free(d), g_free(x);
    x = y, c = n->out[k], h = oh, w = ow;
  }
  if (n->head) {
    double *y = naive_trunk_conv(x, c, h, w, n->head_w, n->head_b, n->head, 1, 1, 0, n->head_act, n->hswish_scale, &oh, &ow);
    g_free(x), x = y, c = n->head;
  }
  memcpy(result, x, (size_t)c * h * w * sizeof(double));
  g_free(x);
}

static void test_mobilenet_naive(void) {
  /* [kernel, hidden, out, se, act, stride]: act 0 relu, 1 hswish, 2 relu6 */
  static const int blocks[][6] = {
      {3, 8, 8, 4, 0, 1},     /* no expansion, residual, squeeze-excite: the planar path */
      {1, 24, 12, 0, 1, 1},   /* 1x1 depthwise; 24 = 16 + 8 channels */
      {7, 40, 12, 6, 2, 2},   /* 7x7 stride 2, squeeze-excite; 40 = 2 x 16 + 8 */
      {5, 19, 12, 5, 1, 1},   /* 19 = 16 + 3: the one-channel rest; residual */
      {3, 48, 20, 0, 0, 2},   /* 3x3 stride 2 */
      {5, 13, 20, 4, 1, 1},   /* 13 = 8 + 5 */
      {7, 32, 16, 8, 2, 1},   /* 7x7 stride 1 on a map smaller than the kernel */
  };
  const attn_mobilenet_act acts[] = {ATTN_ACT_RELU, ATTN_ACT_HSWISH, ATTN_ACT_RELU6};
  GRand *r = g_rand_new_with_seed(17);
  attn_mobilenet n = {.arch = ATTN_MOBILENET_V3, .stem = 8, .n_blocks = G_N_ELEMENTS(blocks), .head = 10,
                      .stem_act = ATTN_ACT_HSWISH, .head_act = ATTN_ACT_HSWISH, .hswish_scale = 1.0f / 6};
  GPtrArray *owned = g_ptr_array_new_with_free_func(g_free);
#define RAND(dst, count, scale)                                                                                   \
  do {                                                                                                            \
    dst = random_floats(r, (count));                                                                              \
    for (size_t i_ = 0; i_ < (size_t)(count); i_++) dst[i_] *= (scale);                                          \
    g_ptr_array_add(owned, dst);                                                                                  \
  } while (0)
  RAND(n.stem_w, 8 * 27, 0.5f);
  RAND(n.stem_b, 8, 0.1f);
  int c = 8;
  for (int k = 0; k < n.n_blocks; k++) {
    n.kernel[k] = blocks[k][0], n.hidden[k] = blocks[k][1], n.out[k] = blocks[k][2], n.se[k] = blocks[k][3];
    n.act[k] = acts[blocks[k][4]], n.stride[k] = blocks[k][5];
    int hid = n.hidden[k], kk = n.kernel[k] * n.kernel[k];
    if (hid != c) {
      RAND(n.exp_w[k], (size_t)hid * c, 2.0f / sqrtf((float)c));
      RAND(n.exp_b[k], hid, 0.1f);
    }
    RAND(n.dw_w[k], (size_t)hid * kk, 1.0f / sqrtf((float)kk));
    RAND(n.dw_b[k], hid, 0.1f);
    if (n.se[k]) {
      RAND(n.se_rw[k], (size_t)n.se[k] * hid, 0.5f);
      RAND(n.se_rb[k], n.se[k], 0.1f);
      RAND(n.se_ew[k], (size_t)hid * n.se[k], 0.5f);
      RAND(n.se_eb[k], hid, 0.1f);
    }
    RAND(n.pw_w[k], (size_t)n.out[k] * hid, 2.0f / sqrtf((float)hid));
    RAND(n.pw_b[k], n.out[k], 0.1f);
    c = n.out[k];
  }
  RAND(n.head_w, (size_t)10 * c, 3.0f / sqrtf((float)c));
  RAND(n.head_b, 10, 0.1f);
  for (int side = 24; side <= 40; side += 16) { /* maps 12 -> 6 -> 3 and 20 -> 10 -> 5 (sides are multiples of the stride) */
    int o = side / attn_mobilenet_stride(&n), count = attn_mobilenet_channels(&n) * o * o;
    g_assert_cmpint(attn_mobilenet_stride(&n), ==, 8);
    g_autofree float *img = random_floats(r, (size_t)3 * side * side), *out = g_new(float, count);
    g_autofree float *scratch = g_new(float, attn_mobilenet_scratch(&n, side));
    g_autofree double *want = g_new(double, count);
    attn_mobilenet_forward(&n, img, side, out, scratch);
    naive_trunk(&n, img, side, want);
    double worst = 0, scale = 0;
    for (int i = 0; i < count; i++) worst = fmax(worst, fabs(out[i] - want[i])), scale = fmax(scale, fabs(want[i]));
    g_test_message("trunk at %dx%d: %d outputs up to %.2f, max abs difference %.3g", side, side, count, scale, worst);
    g_assert_cmpfloat(scale, >, 0.1);
    g_assert_cmpfloat(worst, <, 2e-6 * (1 + scale)); /* float against double: about 3e-8 seen */
  }
#undef RAND
  g_ptr_array_free(owned, TRUE);
  g_rand_free(r);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/engine/conv/conv2d", test_conv2d);
  g_test_add_func("/engine/conv/maxpool", test_maxpool);
  g_test_add_func("/engine/conv/resize-area", test_resize);
  g_test_add_func("/engine/conv/mobilenet-naive", test_mobilenet_naive);
  return g_test_run();
}
