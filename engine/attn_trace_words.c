/* Merging sub-word pieces into words: sum attention over a word's source pieces (the word
 * received that much attention) and average over a word's output pieces (each piece's
 * row is a distribution, so their mean is one too). */
#include <stdlib.h>
#include <string.h>

#include "attn_trace.h"
#include "attn_util.h"

/* group[i] = word index of piece i; returns the number of words. */
static int group_pieces(const attn_tokens *seq, int *group) {
  int words = 0;
  for (int i = 0; i < seq->n; i++) {
    if (i == 0 || attn_tokens_word_start(seq, i)) words++;
    group[i] = words - 1;
  }
  return words;
}

/* Word tokens: pieces joined; a word's probability is the product of its pieces'. */
static int merge_tokens(const attn_tokens *seq, const int *group, int words, attn_tokens *out) {
  char **toks = calloc((size_t)words + 1, sizeof(char *));
  float *probs = seq->probs ? calloc((size_t)words + 1, sizeof(float)) : NULL;
  size_t *lens = calloc((size_t)words + 1, sizeof(size_t));
  int rc = toks && lens && (!seq->probs || probs) ? 0 : -1;
  for (int i = 0; rc == 0 && i < seq->n; i++) lens[group[i]] += strlen(seq->tokens[i]);
  for (int w = 0; rc == 0 && w < words; w++)
    if (!(toks[w] = calloc(lens[w] + 1, 1))) rc = -1;
  for (int i = 0; rc == 0 && i < seq->n; i++) {
    strcat(toks[group[i]], seq->tokens[i]);
    if (probs) probs[group[i]] = (i == 0 || group[i] != group[i - 1]) ? seq->probs[i] : probs[group[i]] * seq->probs[i];
  }
  if (rc == 0) rc = attn_tokens_set(out, words, (const char *const *)toks, NULL, probs, seq->text);
  for (int w = 0; toks && w < words; w++) free(toks[w]);
  free(toks), free(probs), free(lens);
  return rc;
}

/* rows averaged within row groups, columns summed within column groups */
static float *merge_weights(const attn_map *m, const int *rg, int rwords, const int *cg, int cwords) {
  float *w = calloc((size_t)rwords * cwords + 1, sizeof(float));
  int *count = calloc((size_t)rwords + 1, sizeof(int));
  if (!w || !count) {
    free(w), free(count);
    return NULL;
  }
  for (int r = 0; r < m->rows; r++) {
    count[rg[r]]++;
    for (int c = 0; c < m->cols; c++) w[(size_t)rg[r] * cwords + cg[c]] += m->weights[(size_t)r * m->cols + c];
  }
  for (int r = 0; r < rwords; r++)
    for (int c = 0; c < cwords; c++) w[(size_t)r * cwords + c] /= (float)(count[r] ? count[r] : 1);
  free(count);
  return w;
}

typedef struct groups {
  int *src, *out;
  int n_src, n_out;
} groups;

static int merge_maps(const attn_map *maps, int n, const groups *g, attn_map **dst, int *n_dst) {
  for (int i = 0; i < n; i++) {
    const attn_map *m = &maps[i];
    const int *rg = m->kind == ATTN_MAP_ENCODER ? g->src : g->out;
    const int *cg = m->kind == ATTN_MAP_DECODER ? g->out : g->src;
    int rw = m->kind == ATTN_MAP_ENCODER ? g->n_src : g->n_out, cw = m->kind == ATTN_MAP_DECODER ? g->n_out : g->n_src;
    if (m->kind == ATTN_MAP_HOP || m->kind == ATTN_MAP_OTHER) continue; /* not piece-indexed */
    float *w = merge_weights(m, rg, rw, cg, cw);
    attn_map *added = w ? attn_maps_append(dst, n_dst, m->name, m->kind, m->layer, m->head, rw, cw, w) : NULL;
    free(w);
    if (!added) return -1;
  }
  return 0;
}

attn_trace *attn_trace_merge_words(const attn_trace *t) {
  if (t->task != ATTN_TASK_TRANSLATE) return NULL;
  attn_trace *w = attn_trace_new(t->task, t->model);
  groups g = {malloc(((size_t)t->source.n + 1) * sizeof(int)), malloc(((size_t)t->output.n + 1) * sizeof(int)), 0, 0};
  int rc = w && g.src && g.out ? 0 : -1;
  if (rc == 0) {
    g.n_src = group_pieces(&t->source, g.src);
    g.n_out = group_pieces(&t->output, g.out);
    rc = merge_tokens(&t->source, g.src, g.n_src, &w->source) || merge_tokens(&t->output, g.out, g.n_out, &w->output) ||
         merge_maps(t->maps, t->n_maps, &g, &w->maps, &w->n_maps);
  }
  for (int i = 0; rc == 0 && i < t->n_warnings; i++) rc = attn_trace_warn(w, "%s", t->warnings[i]);
  if (rc == 0) rc = attn_trace_set_summary(w, t->summary_dim, t->summary);
  if (w) w->score = t->score;
  free(g.src), free(g.out);
  if (rc != 0) {
    attn_trace_free(w);
    return NULL;
  }
  return w;
}
