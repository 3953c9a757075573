/* A pretrained MobileNetV2 image trunk (Sandler et al. 2018; Keras layout, BatchNorm folded
 * into every convolution): a 3x3 stride-2 stem, inverted residual blocks (1x1 expand + ReLU6,
 * 3x3 depthwise + ReLU6, 1x1 linear projection, the input added back when the shape allows)
 * and an optional 1x1 head + ReLU6. Padding is Keras's: stride-2 convolutions pad 0 before
 * and 1 after each axis, stride-1 ones 1 on each side. Feature maps are CHW. The caption
 * model (models/attn_sat.c) reads its annotation grid from it; training/mobilenet.py is the
 * PyTorch twin. */
#ifndef ATTN_MOBILENET_H
#define ATTN_MOBILENET_H

#include <stddef.h>

#include "attn_error.h"
#include "cJSON.h"

#define ATTN_MOBILENET_MAX_BLOCKS 17

typedef struct attn_mobilenet {
  int stem, n_blocks, head;                   /* stem channels, blocks, head channels (0: none) */
  int expand[ATTN_MOBILENET_MAX_BLOCKS];      /* expansion factor t of each block */
  int out[ATTN_MOBILENET_MAX_BLOCKS];         /* output channels */
  int stride[ATTN_MOBILENET_MAX_BLOCKS];      /* 1 or 2 */
  /* Weights (PyTorch layout, set by the loader): stem [stem,3,3,3]; expand [t*in,in,1,1]
   * (NULL when t = 1); dw [t*in,1,3,3]; project [out,t*in,1,1]; head [head,last,1,1]. */
  float *stem_w, *stem_b, *head_w, *head_b;
  float *exp_w[ATTN_MOBILENET_MAX_BLOCKS], *exp_b[ATTN_MOBILENET_MAX_BLOCKS];
  float *dw_w[ATTN_MOBILENET_MAX_BLOCKS], *dw_b[ATTN_MOBILENET_MAX_BLOCKS];
  float *pw_w[ATTN_MOBILENET_MAX_BLOCKS], *pw_b[ATTN_MOBILENET_MAX_BLOCKS];
} attn_mobilenet;

/* Reads the config object {"arch": "mobilenet_v2", "stem": C, "blocks": [[t, c, s], ...],
 * "head": C}. */
attn_status attn_mobilenet_config(attn_mobilenet *n, const cJSON *trunk, const char *file, attn_error *err);

int attn_mobilenet_channels(const attn_mobilenet *n); /* of the output map */
int attn_mobilenet_stride(const attn_mobilenet *n);   /* input side / output side */
/* Input channels of block k. */
int attn_mobilenet_block_in(const attn_mobilenet *n, int k);

/* Floats of scratch attn_mobilenet_forward needs for a side x side input. */
size_t attn_mobilenet_scratch(const attn_mobilenet *n, int side);

/* out [channels][side/stride][side/stride] from in [3][side][side] (normalised); side must be
 * a multiple of the stride. scratch holds attn_mobilenet_scratch(n, side) floats. */
void attn_mobilenet_forward(const attn_mobilenet *n, const float *in, int side, float *out, float *scratch);

/* Multiply-adds x 2 of one forward pass. */
double attn_mobilenet_flops(const attn_mobilenet *n, int side);

#endif
