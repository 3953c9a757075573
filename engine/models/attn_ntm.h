/* Neural Turing Machine (Graves et al. 2014): an LSTM controller with one write head and
 * one read head over an N x M memory, content and location addressing, erase and add.
 * training/ntm.py is the PyTorch twin; its docstring (and training/README.md) is the exact
 * computation. The model is immutable after loading and may be shared by threads: forward
 * allocates its own state. */
#ifndef ATTN_NTM_H
#define ATTN_NTM_H

#include "attn_model_dir.h"

typedef struct attn_ntm attn_ntm;

typedef struct attn_ntm_dims {
  int bits;         /* data channels; the input has bits + 1 (the last is the delimiter) */
  int controller;   /* H, LSTM units */
  int locations;    /* N */
  int width;        /* M */
  int max_sequence; /* longest copy sequence accepted (2 * max + 1 steps) */
} attn_ntm_dims;

/* What one forward pass records, every array [steps][...], row-major; any may be NULL. */
typedef struct attn_ntm_record {
  float *outputs; /* [T][bits] sigmoid outputs */
  float *write;   /* [T][N] write weightings */
  float *read;    /* [T][N] read weightings */
  float *adds;    /* [T][M] add vectors */
  float *reads;   /* [T][M] read vectors */
  float *memory;  /* [N][M] the memory after the last step */
} attn_ntm_record;

/* Reads config.json ("NTM") and model.safetensors (lstm.weight_ih, lstm.weight_hh,
 * lstm.bias_ih, lstm.bias_hh, head.weight, head.bias, out.weight, out.bias, h0_bias,
 * c0_bias, r0_bias). Returns NULL on failure. */
attn_ntm *attn_ntm_load(const attn_model_dir *dir, attn_error *err);
void attn_ntm_free(attn_ntm *m); /* NULL is fine */
const attn_ntm_dims *attn_ntm_model_dims(const attn_ntm *m);

/* Runs T >= 1 steps on inputs x [T][bits + 1] (any real values) and fills rec. */
attn_status attn_ntm_forward(const attn_ntm *m, const float *x, int T, attn_ntm_record *rec,
                             attn_error *err);

#endif
