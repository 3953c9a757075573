/* Convolution, pooling and resampling for the caption encoder; see attn_conv.h. */
#include "attn_conv.h"

#include <math.h>
#include <string.h>

#include "attn_ops.h"

size_t attn_conv2d_scratch(int c_in, int h, int w, int k) {
  return (size_t)c_in * (size_t)k * (size_t)k * (size_t)h * (size_t)w;
}

/* col[(c*k + ky)*k + kx][y*w + x] = in[c][y + ky - pad][x + kx - pad], or 0 outside. */
static void im2col(float *col, const float *in, int c_in, int h, int w, int k, int pad) {
  size_t hw = (size_t)h * w;
  for (int c = 0; c < c_in; c++)
    for (int ky = 0; ky < k; ky++)
      for (int kx = 0; kx < k; kx++) {
        float *row = col + ((size_t)(c * k + ky) * k + kx) * hw;
        const float *plane = in + (size_t)c * hw;
        for (int y = 0; y < h; y++) {
          int sy = y + ky - pad;
          float *dst = row + (size_t)y * w;
          if (sy < 0 || sy >= h) {
            memset(dst, 0, (size_t)w * sizeof(float));
            continue;
          }
          for (int x = 0; x < w; x++) {
            int sx = x + kx - pad;
            dst[x] = sx >= 0 && sx < w ? plane[(size_t)sy * w + sx] : 0.0f;
          }
        }
      }
}

void attn_conv2d(float *out, const float *in, const float *wt, const float *b, int c_in, int h, int w,
                 int c_out, int k, int pad, float *col) {
  int hw = h * w, kk = c_in * k * k;
  im2col(col, in, c_in, h, w, k, pad);
  for (int o = 0; o < c_out; o++)
    for (int i = 0; i < hw; i++) out[(size_t)o * hw + i] = b ? b[o] : 0.0f;
  attn_gemm(0, 0, c_out, hw, kk, 1.0f, wt, kk, col, hw, 1.0f, out, hw);
}

void attn_maxpool2(float *out, const float *in, int c, int h, int w) {
  int oh = h / 2, ow = w / 2;
  for (int p = 0; p < c; p++) {
    const float *plane = in + (size_t)p * h * w;
    float *dst = out + (size_t)p * oh * ow;
    for (int y = 0; y < oh; y++)
      for (int x = 0; x < ow; x++) {
        const float *a = plane + (size_t)(2 * y) * w + 2 * x, *b = a + w;
        dst[(size_t)y * ow + x] = fmaxf(fmaxf(a[0], a[1]), fmaxf(b[0], b[1]));
      }
  }
}

/* Weight of input sample i in output sample k when n_in samples become n_out. */
static double overlap(int k, int i, int n_in, int n_out) {
  double scale = (double)n_in / n_out, lo = k * scale, hi = (k + 1) * scale;
  double a = fmax(lo, (double)i), b = fmin(hi, (double)i + 1);
  return b > a ? (b - a) / scale : 0.0;
}

/* One output sample along an axis: the inputs it covers are [first, last). */
static void footprint(int k, int n_in, int n_out, int *first, int *last) {
  double scale = (double)n_in / n_out;
  *first = (int)floor(k * scale);
  *last = (int)ceil((k + 1) * scale);
  if (*last > n_in) *last = n_in;
  if (*last <= *first) *last = *first + 1;
}

void attn_resize_area(float *out, int out_h, int out_w, const float *in, int in_h, int in_w, int ch,
                      float *tmp) {
  size_t row = (size_t)in_w * ch;
  for (int y = 0; y < out_h; y++) { /* rows: tmp[y][in_w][ch] */
    int a, b;
    footprint(y, in_h, out_h, &a, &b);
    for (size_t j = 0; j < row; j++) {
      double s = 0;
      for (int i = a; i < b; i++) s += overlap(y, i, in_h, out_h) * in[(size_t)i * row + j];
      tmp[(size_t)y * row + j] = (float)s;
    }
  }
  for (int y = 0; y < out_h; y++) /* then columns */
    for (int x = 0; x < out_w; x++) {
      int a, b;
      footprint(x, in_w, out_w, &a, &b);
      for (int c = 0; c < ch; c++) {
        double s = 0;
        for (int i = a; i < b; i++) s += overlap(x, i, in_w, out_w) * tmp[(size_t)y * row + (size_t)i * ch + c];
        out[((size_t)y * out_w + x) * ch + c] = (float)s;
      }
    }
}
