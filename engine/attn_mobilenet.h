/* A pretrained MobileNet image trunk with BatchNorm folded into every convolution, in one of
 * two architectures:
 * - "mobilenet_v2" (Sandler et al. 2018; Keras layout, training/mobilenet.py): a 3x3 stride-2
 *   stem + ReLU6, inverted residual blocks (1x1 expand + ReLU6, 3x3 depthwise + ReLU6, 1x1
 *   linear projection, the input added back when the shape allows) and an optional 1x1 head +
 *   ReLU6;
 * - "mobilenet_v3" (Howard et al. 2019; the TensorFlow.js CenterNet detector's backbone,
 *   training/mobilenet_v3.py): the same skeleton with a hard-swish stem, per-block ReLU or
 *   hard-swish, 3x3 or 5x5 depthwise kernels, expansion widths given as channel counts, and
 *   squeeze-and-excite after the depthwise convolution of some blocks.
 * Padding is TensorFlow's "SAME" for both: a k x k convolution at stride s pads
 * max((ceil(n/s) - 1) s + k - n, 0) in all, half (rounded down) before and the rest after; for
 * MobileNetV2's 3x3 kernels on even sides that is Keras's explicit padding (stride 2: 0 before
 * and 1 after; stride 1: 1 on each side). Feature maps are CHW. The caption model
 * (models/attn_sat.c) reads its annotation grid from it. */
#ifndef ATTN_MOBILENET_H
#define ATTN_MOBILENET_H

#include <stddef.h>
#include <stdint.h>

#include "attn_error.h"
#include "cJSON.h"

#define ATTN_MOBILENET_MAX_BLOCKS 17
/* stem and head (2 each) + per block expand, depthwise, projection and squeeze-excite (2 each) */
#define ATTN_MOBILENET_MAX_TENSORS (4 + 10 * ATTN_MOBILENET_MAX_BLOCKS)

typedef enum attn_mobilenet_arch { ATTN_MOBILENET_V2 = 2, ATTN_MOBILENET_V3 = 3 } attn_mobilenet_arch;

/* Activations: ReLU6 (v2), ReLU, hard-swish x * relu6(x + 3) * scale (v3), or none. */
typedef enum attn_mobilenet_act {
  ATTN_ACT_NONE = 0,
  ATTN_ACT_RELU6,
  ATTN_ACT_RELU,
  ATTN_ACT_HSWISH
} attn_mobilenet_act;

typedef struct attn_mobilenet {
  attn_mobilenet_arch arch;
  int stem, n_blocks, head;                   /* stem channels, blocks, head channels (0: none) */
  attn_mobilenet_act stem_act, head_act;
  /* 1/6 in the hard-swish and in squeeze-excite's hard sigmoid relu6(x + 3) * scale (the
   * TF.js graph's constant is 1/6 rounded to float16, and matching it matters at 1e-3) */
  float hswish_scale;
  int expand[ATTN_MOBILENET_MAX_BLOCKS];      /* v2: expansion factor t of each block (v3: 0) */
  int hidden[ATTN_MOBILENET_MAX_BLOCKS];      /* expansion width; no expand conv when it equals the input */
  int out[ATTN_MOBILENET_MAX_BLOCKS];         /* output channels */
  int kernel[ATTN_MOBILENET_MAX_BLOCKS];      /* depthwise kernel side: 3 (v2) or 3, 5, 7 */
  int se[ATTN_MOBILENET_MAX_BLOCKS];          /* squeeze-excite channels, 0: none (always 0 in v2) */
  attn_mobilenet_act act[ATTN_MOBILENET_MAX_BLOCKS]; /* after the expansion and the depthwise conv */
  int stride[ATTN_MOBILENET_MAX_BLOCKS];      /* 1 or 2 */
  /* Weights (PyTorch layout, set by the loader through attn_mobilenet_tensors): stem
   * [stem,3,3,3]; expand [hid,in,1,1] (NULL without expansion); dw [hid,1,k,k]; se_r
   * [se,hid,1,1] and se_e [hid,se,1,1] (NULL without squeeze-excite); project [out,hid,1,1];
   * head [head,last,1,1]. */
  float *stem_w, *stem_b, *head_w, *head_b;
  float *exp_w[ATTN_MOBILENET_MAX_BLOCKS], *exp_b[ATTN_MOBILENET_MAX_BLOCKS];
  float *dw_w[ATTN_MOBILENET_MAX_BLOCKS], *dw_b[ATTN_MOBILENET_MAX_BLOCKS];
  float *se_rw[ATTN_MOBILENET_MAX_BLOCKS], *se_rb[ATTN_MOBILENET_MAX_BLOCKS];
  float *se_ew[ATTN_MOBILENET_MAX_BLOCKS], *se_eb[ATTN_MOBILENET_MAX_BLOCKS];
  float *pw_w[ATTN_MOBILENET_MAX_BLOCKS], *pw_b[ATTN_MOBILENET_MAX_BLOCKS];
} attn_mobilenet;

/* Reads the config object, either
 *   {"arch": "mobilenet_v2", "stem": C, "blocks": [[t, c, s], ...], "head": C}
 * or
 *   {"arch": "mobilenet_v3", "stem": C, "stem_act": "hswish", "blocks": [[k, hidden, c, se,
 *    "relu" | "hswish", s], ...], "head": C, "head_act": "hswish" | "relu" | "none",
 *    "hswish_scale": 0.1666259765625}
 * (stem_act, head_act and hswish_scale optional: hswish, none, 1/6). */
attn_status attn_mobilenet_config(attn_mobilenet *n, const cJSON *trunk, const char *file, attn_error *err);

int attn_mobilenet_channels(const attn_mobilenet *n); /* of the output map */
int attn_mobilenet_stride(const attn_mobilenet *n);   /* input side / output side */
/* Input channels of block k. */
int attn_mobilenet_block_in(const attn_mobilenet *n, int k);

/* One tensor of the trunk: its name as training/mobilenet.py and mobilenet_v3.py call it
 * ("stem.weight", "blocks.3.se.reduce.bias", ...), its shape (ndim entries), and where its
 * data pointer goes. */
typedef struct attn_mobilenet_tensor {
  char name[32]; /* the longest, "blocks.16.se.reduce.weight", has 26 */
  int ndim;
  int64_t shape[4];
  float **dst;
} attn_mobilenet_tensor;

/* Fills t (room for ATTN_MOBILENET_MAX_TENSORS) with the tensors the configured trunk needs;
 * returns how many. The loader points each *dst at the data. */
int attn_mobilenet_tensors(attn_mobilenet *n, attn_mobilenet_tensor *t);

/* Floats of scratch attn_mobilenet_forward needs for a side x side input. */
size_t attn_mobilenet_scratch(const attn_mobilenet *n, int side);

/* out [channels][side/stride][side/stride] from in [3][side][side] (normalised); side must be
 * a multiple of the stride. scratch holds attn_mobilenet_scratch(n, side) floats. */
void attn_mobilenet_forward(const attn_mobilenet *n, const float *in, int side, float *out, float *scratch);

/* Multiply-adds x 2 of one forward pass (squeeze-excite's 1x1 convolutions included). */
double attn_mobilenet_flops(const attn_mobilenet *n, int side);

#endif
