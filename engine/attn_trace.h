/* The attention trace: what a model read, what it produced, and where it looked.
 * Every model produces one; every renderer and the JSON format consume it.
 * A trace owns all of its memory; attn_trace_free releases it (NULL is fine). */
#ifndef ATTN_TRACE_H
#define ATTN_TRACE_H

#include <stddef.h>

#include "attn_error.h"

#define ATTN_TRACE_VERSION 1
/* Limits that keep a hostile or corrupt trace from exhausting memory. */
#define ATTN_TRACE_MAX_TOKENS 100000
#define ATTN_TRACE_MAX_MAPS 4096
#define ATTN_TRACE_MAX_CELLS 50000000LL /* summed over all maps */

typedef enum attn_task {
  ATTN_TASK_TRANSLATE, ATTN_TASK_CAPTION, ATTN_TASK_READ, ATTN_TASK_GRAPH, ATTN_TASK_MEMORY
} attn_task;

/* What the rows (queries) and columns (keys) of a map index. */
typedef enum attn_map_kind {
  ATTN_MAP_CROSS,   /* output tokens x source tokens (or image grid cells for captions) */
  ATTN_MAP_ENCODER, /* source x source (encoder self-attention) */
  ATTN_MAP_DECODER, /* output x output (decoder self-attention) */
  ATTN_MAP_HOP,     /* question (1 row) x story sentences, or x story words */
  ATTN_MAP_OTHER
} attn_map_kind;

typedef struct attn_tokens {
  int n;
  char **tokens;             /* n UTF-8 strings */
  unsigned char *word_start; /* n flags: 1 if the piece starts a word; NULL means all 1 */
  float *probs;              /* n probabilities of each output token; NULL if unknown */
  char *text;                /* detokenised text, may be NULL */
  /* what the model weighed at each output step (step-through decoding): the n_cand most
     probable next tokens, best first, and their probabilities; n_cand 0: not recorded */
  int n_cand;
  char **cand_tokens;        /* n * n_cand strings */
  float *cand_probs;         /* n * n_cand */
} attn_tokens;

#define ATTN_TRACE_MAX_CANDIDATES 20

typedef struct attn_map {
  char *name;  /* "cross", "layer 2 head 5", "hop 1" */
  attn_map_kind kind;
  int layer;   /* -1 where it does not apply */
  int head;    /* -1 where it does not apply */
  int rows;    /* queries */
  int cols;    /* keys */
  float *weights; /* rows*cols, row-major, each row sums to 1 */
} attn_map;

/* One beam hypothesis with its own output and attention. */
typedef struct attn_hypothesis {
  attn_tokens output;
  double score;
  int n_maps;
  attn_map *maps;
  float *beta;            /* caption: output.n gate values, as attn_trace.beta; NULL if none */
} attn_hypothesis;

/* graph: the nodes a graph trace shows. Nodes 0..n_cols-1 are the map columns: the query
 * node, then its neighbours; a small graph adds every other node after them. */
typedef struct attn_trace_graph {
  int node;          /* the query node's id in the model's graph */
  int n_nodes, n_cols;
  int *ids;          /* [n_nodes] node ids in the model's graph */
  char **names;      /* [n_nodes] */
  int *predicted;    /* [n_nodes] predicted class */
  float *confidence; /* [n_nodes] probability of the predicted class */
  int *labels;       /* [n_nodes] known class, -1 where unknown */
  int n_edges;
  int *edges;        /* [2 * n_edges] pairs of indices into the node arrays */
  int n_classes;
  char **classes;    /* [n_classes] class names */
} attn_trace_graph;

typedef struct attn_trace_memory attn_trace_memory; /* engine/attn_memory.h */

typedef struct attn_trace {
  attn_task task;
  char *model;
  attn_tokens source;     /* source pieces (translate) or story words (read) */
  attn_tokens output;     /* translation, caption words, or the answer */
  double score;           /* model score of the output (log-prob, normalised); 0 if unknown */
  int n_maps;
  attn_map *maps;
  int n_hyps;             /* other beam hypotheses, best first */
  attn_hypothesis *hyps;
  /* caption */
  int image_width, image_height, grid_rows, grid_cols;
  float *beta;            /* output.n values in [0, 1]: how much each word's step looked at the image at all
                             (the gate of Show, Attend and Tell); NULL if the model has none */
  /* translate, a model without attention: the fixed-length vector c that every output step
     was computed from (the encoder's final states), summary_dim finite values; NULL otherwise */
  int summary_dim;
  float *summary;
  /* things the user should know: truncation, unknown characters (UTF-8 strings) */
  int n_warnings;
  char **warnings;
  /* read */
  int n_sentences;
  char **sentences;
  char *question;
  /* graph (attn_trace_graph.c): NULL for other tasks */
  attn_trace_graph *graph;
  /* memory (engine/attn_memory.h): NULL for other tasks */
  attn_trace_memory *memory;
} attn_trace;

attn_trace *attn_trace_new(attn_task task, const char *model);
void attn_trace_free(attn_trace *t);

const char *attn_task_name(attn_task task);
int attn_task_from_name(const char *name, attn_task *out); /* 0 on success */
const char *attn_map_kind_name(attn_map_kind kind);
attn_map_kind attn_map_kind_from_name(const char *name); /* unknown -> ATTN_MAP_OTHER */

/* Replaces the tokens of seq with copies of the given arrays (word_start, probs, text may
 * be NULL). Returns 0, or -1 when out of memory. */
int attn_tokens_set(attn_tokens *seq, int n, const char *const *tokens,
                    const unsigned char *word_start, const float *probs, const char *text);
void attn_tokens_clear(attn_tokens *seq);
/* Replaces the candidates of seq (seq->n tokens) with copies of k per token (tokens[i * k + j],
 * probs likewise; k 0 removes them). Returns 0, or -1 when out of memory or k is out of range. */
int attn_tokens_set_candidates(attn_tokens *seq, int k, const char *const *tokens, const float *probs);
int attn_tokens_word_start(const attn_tokens *seq, int i);

/* Appends a map with a copy of weights (NULL: zero-filled). Returns it, or NULL when out
 * of memory or the shape is invalid. The pointer is valid until the next add. */
attn_map *attn_trace_add_map(attn_trace *t, const char *name, attn_map_kind kind, int layer,
                             int head, int rows, int cols, const float *weights);
/* The same on a bare map array (used by readers). */
attn_map *attn_maps_append(attn_map **maps, int *n, const char *name, attn_map_kind kind,
                           int layer, int head, int rows, int cols, const float *weights);
attn_map *attn_hypothesis_add_map(attn_hypothesis *h, const char *name, attn_map_kind kind,
                                  int layer, int head, int rows, int cols, const float *weights);
/* Appends an empty hypothesis; NULL when out of memory. Valid until the next add. */
attn_hypothesis *attn_trace_add_hypothesis(attn_trace *t);

/* Appends a printf-formatted warning; -1 when out of memory. */
int attn_trace_warn(attn_trace *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int attn_trace_set_sentences(attn_trace *t, int n, const char *const *sentences);

/* Replaces the trace's summary vector with a copy of n values (n 0 or values NULL: removes it).
 * Returns 0, or -1 when out of memory or n is out of range. */
#define ATTN_TRACE_MAX_SUMMARY 65536
int attn_trace_set_summary(attn_trace *t, int n, const float *values);
/* Replaces *beta with a copy of n values (NULL values: frees it). Returns 0, or -1 when out of memory. */
int attn_beta_set(float **beta, int n, const float *values);

/* A copy of the trace showing hypothesis k (0 = the best, k >= 1 = hyps[k-1]) as its
 * output and maps, without the other alternatives. NULL when out of memory or k is out
 * of range. */
attn_trace *attn_trace_select_hypothesis(const attn_trace *t, int k);

/* A copy of a translation trace with sub-word pieces merged into words (a piece that
 * does not start a word joins the one before): attention is summed over a word's source
 * pieces and averaged over its output pieces, so rows still sum to 1; a word's
 * probability is the product of its pieces'. Beam alternatives are not carried over.
 * NULL when out of memory or for other tasks. */
attn_trace *attn_trace_merge_words(const attn_trace *t);

/* Index of the map with this name, or -1. */
int attn_trace_find_map(const attn_trace *t, const char *name);

/* Checks shapes against token counts and that every row is a distribution (sums to 1
 * within tol, no NaN, no negative). Returns ATTN_OK or the first problem found. */
attn_status attn_map_validate(const attn_map *m, float tol, attn_error *err);
attn_status attn_trace_validate(const attn_trace *t, attn_error *err);

/* Graph sections (engine/attn_trace_graph.c). new: zeroed arrays for n_nodes nodes, n_edges
 * edges and n_classes classes (names empty strings), NULL when out of memory or a count is
 * negative; free accepts NULL; copy returns NULL when out of memory. */
attn_trace_graph *attn_trace_graph_new(int n_nodes, int n_cols, int n_edges, int n_classes);
void attn_trace_graph_free(attn_trace_graph *g);
attn_trace_graph *attn_trace_graph_copy(const attn_trace_graph *g);
/* Ids, names, classes, edge ends in range and n_cols equal to the trace's source tokens. */
attn_status attn_trace_graph_validate(const attn_trace *t, attn_error *err);

#endif
