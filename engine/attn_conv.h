/* Image kernels of the caption model's encoder: 2-D convolution (im2col + OpenBLAS sgemm),
 * 2x2 max-pooling, and area resampling of an interleaved RGB image. Feature maps are CHW
 * (channel planes, row-major), as PyTorch's; nothing here allocates. */
#ifndef ATTN_CONV_H
#define ATTN_CONV_H

#include <stddef.h>

/* Floats of scratch attn_conv2d needs for a c_in x h x w input and a k x k kernel. */
size_t attn_conv2d_scratch(int c_in, int h, int w, int k);

/* out[c_out][h][w] = b + sum over c, ky, kx of wt[c_out][c][ky][kx] * in[c][y+ky-pad][x+kx-pad]
 * (zero outside the input): stride 1, "same" size when pad = (k-1)/2, PyTorch's Conv2d weight
 * layout. col holds attn_conv2d_scratch(c_in, h, w, k) floats. b may be NULL. */
void attn_conv2d(float *out, const float *in, const float *wt, const float *b, int c_in, int h, int w,
                 int c_out, int k, int pad, float *col);

/* out[c][h/2][w/2] = max of each 2x2 block of in[c][h][w] (a last odd row or column is dropped,
 * as PyTorch's max_pool2d(2) does). */
void attn_maxpool2(float *out, const float *in, int c, int h, int w);

/* Area resampling of an interleaved image in[in_h][in_w][ch] to out[out_h][out_w][ch]: each
 * output sample averages the input over its footprint, weighting partly covered samples by the
 * covered fraction (training/caption_model.py's resize_area). tmp holds out_h * in_w * ch floats. */
void attn_resize_area(float *out, int out_h, int out_w, const float *in, int in_h, int in_w, int ch,
                      float *tmp);

#endif
