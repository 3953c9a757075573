/* Graph attention network (Velickovic et al. 2018): two GAT layers, multi-head attention
 * over each node's neighbours. training/gat.py is the PyTorch twin; its docstring is the
 * exact computation. The model is immutable after loading and may be shared by threads:
 * forward allocates its own scratch. */
#ifndef ATTN_GAT_H
#define ATTN_GAT_H

#include <stdint.h>

#include "attn_model_dir.h"

typedef struct attn_gat attn_gat;

typedef struct attn_gat_dims {
  int in_features; /* D: width of the (binary, row-normalised) input features */
  int hidden;      /* F: features per head of layer 1 */
  int heads;       /* H: heads of layer 1 (concatenated, then ELU) */
  int classes;     /* C */
  int out_heads;   /* K: heads of layer 2 (averaged) */
  float negative_slope;
} attn_gat_dims;

/* A graph as the forward pass reads it. Node i's features are the columns
 * feat_idx[feat_ptr[i] .. feat_ptr[i+1]) (each counts 1 / their number); its neighbour
 * list nb_idx[nb_ptr[i] .. nb_ptr[i+1]) starts with i itself. E = nb_ptr[n]. */
typedef struct attn_gat_graph {
  int n;
  const int *feat_ptr;    /* [n + 1] */
  const int32_t *feat_idx;
  const int *nb_ptr;      /* [n + 1] */
  const int32_t *nb_idx;  /* [E] */
} attn_gat_graph;

/* Reads config.json ("GAT": in_features, hidden, heads, num_classes, out_heads) and the
 * tensors layer{1,2}.{weight,att_src,att_dst,bias}. Returns NULL on failure. */
attn_gat *attn_gat_load(const attn_model_dir *dir, attn_error *err);
void attn_gat_free(attn_gat *m); /* NULL is fine */
const attn_gat_dims *attn_gat_model_dims(const attn_gat *m);

/* The whole graph at once. Writes logits [n, C] and the attention of every (node,
 * neighbour) pair: alpha1 [E, H] and alpha2 [E, K] (either may be NULL). The graph must
 * be well formed (attn_graph.c builds it): ids in range, every list starting with its
 * node. ATTN_E_NOMEM when scratch cannot be allocated. */
attn_status attn_gat_forward(const attn_gat *m, const attn_gat_graph *g, float *logits, float *alpha1,
                             float *alpha2, attn_error *err);

#endif
