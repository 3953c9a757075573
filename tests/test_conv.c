/* The caption encoder's image kernels (engine/attn_conv.c) against naive loops. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "attn_conv.h"

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

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/engine/conv/conv2d", test_conv2d);
  g_test_add_func("/engine/conv/maxpool", test_maxpool);
  g_test_add_func("/engine/conv/resize-area", test_resize);
  return g_test_run();
}
