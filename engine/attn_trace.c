/* Building, freeing and validating attention traces. */
#include "attn_trace.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_memory.h"
#include "attn_util.h"

static const char *const task_names[] = {"translate", "caption", "read", "graph", "memory"};
#define N_TASKS ((int)(sizeof task_names / sizeof task_names[0]))
static const char *const kind_names[] = {"cross", "encoder", "decoder", "hop", "other"};

const char *attn_task_name(attn_task task) {
  return (unsigned)task < N_TASKS ? task_names[task] : "unknown";
}

int attn_task_from_name(const char *name, attn_task *out) {
  for (int i = 0; i < N_TASKS; i++)
    if (name && strcmp(name, task_names[i]) == 0) {
      *out = (attn_task)i;
      return 0;
    }
  return -1;
}

const char *attn_map_kind_name(attn_map_kind kind) {
  return (unsigned)kind <= ATTN_MAP_OTHER ? kind_names[kind] : "other";
}

attn_map_kind attn_map_kind_from_name(const char *name) {
  for (int i = 0; i < ATTN_MAP_OTHER; i++)
    if (name && strcmp(name, kind_names[i]) == 0) return (attn_map_kind)i;
  return ATTN_MAP_OTHER;
}

attn_trace *attn_trace_new(attn_task task, const char *model) {
  attn_trace *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->task = task;
  t->model = attn_strdup(model ? model : "");
  if (!t->model) {
    free(t);
    return NULL;
  }
  return t;
}

static void candidates_clear(attn_tokens *seq) {
  for (size_t i = 0; seq->cand_tokens && i < (size_t)seq->n * (size_t)seq->n_cand; i++) free(seq->cand_tokens[i]);
  free(seq->cand_tokens);
  free(seq->cand_probs);
  seq->cand_tokens = NULL, seq->cand_probs = NULL, seq->n_cand = 0;
}

int attn_tokens_set_candidates(attn_tokens *seq, int k, const char *const *tokens, const float *probs) {
  candidates_clear(seq);
  if (k < 0 || k > ATTN_TRACE_MAX_CANDIDATES) return -1;
  size_t n = (size_t)seq->n * (size_t)k;
  if (n == 0) return 0;
  seq->cand_tokens = calloc(n, sizeof *seq->cand_tokens);
  seq->cand_probs = malloc(n * sizeof *seq->cand_probs);
  int ok = seq->cand_tokens && seq->cand_probs;
  seq->n_cand = k;
  for (size_t i = 0; ok && i < n; i++) {
    ok = (seq->cand_tokens[i] = attn_strdup(tokens[i] ? tokens[i] : "")) != NULL;
    seq->cand_probs[i] = probs[i];
  }
  if (!ok) candidates_clear(seq);
  return ok ? 0 : -1;
}

void attn_tokens_clear(attn_tokens *seq) {
  candidates_clear(seq);
  for (int i = 0; i < seq->n; i++) free(seq->tokens[i]);
  free(seq->tokens);
  free(seq->word_start);
  free(seq->probs);
  free(seq->text);
  memset(seq, 0, sizeof *seq);
}

static void maps_free(attn_map *maps, int n) {
  for (int i = 0; i < n; i++) {
    free(maps[i].name);
    free(maps[i].weights);
  }
  free(maps);
}

void attn_trace_free(attn_trace *t) {
  if (!t) return;
  free(t->model);
  attn_tokens_clear(&t->source);
  attn_tokens_clear(&t->output);
  maps_free(t->maps, t->n_maps);
  for (int h = 0; h < t->n_hyps; h++) {
    attn_tokens_clear(&t->hyps[h].output);
    maps_free(t->hyps[h].maps, t->hyps[h].n_maps);
    free(t->hyps[h].beta);
  }
  free(t->beta);
  free(t->summary);
  free(t->hyps);
  for (int i = 0; i < t->n_sentences; i++) free(t->sentences[i]);
  free(t->sentences);
  free(t->question);
  attn_trace_memory_free(t->memory);
  attn_trace_graph_free(t->graph);
  for (int i = 0; i < t->n_warnings; i++) free(t->warnings[i]);
  free(t->warnings);
  free(t);
}

int attn_trace_warn(attn_trace *t, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  char **grown = realloc(t->warnings, (size_t)(t->n_warnings + 1) * sizeof *grown);
  if (!grown) return -1;
  t->warnings = grown;
  if (!(grown[t->n_warnings] = attn_strdup(buf))) return -1;
  t->n_warnings++;
  return 0;
}

int attn_tokens_set(attn_tokens *seq, int n, const char *const *tokens,
                    const unsigned char *word_start, const float *probs, const char *text) {
  attn_tokens_clear(seq);
  if (n < 0 || n > ATTN_TRACE_MAX_TOKENS) return -1;
  seq->tokens = calloc(n > 0 ? (size_t)n : 1, sizeof *seq->tokens);
  seq->word_start = calloc(n > 0 ? (size_t)n : 1, 1);
  seq->probs = probs ? malloc((n > 0 ? (size_t)n : 1) * sizeof(float)) : NULL;
  seq->text = text ? attn_strdup(text) : NULL;
  int ok = seq->tokens && seq->word_start && (!probs || seq->probs) && (!text || seq->text);
  for (int i = 0; ok && i < n; i++) {
    seq->tokens[i] = attn_strdup(tokens[i] ? tokens[i] : "");
    ok = seq->tokens[i] != NULL;
    seq->n = i + 1;
    seq->word_start[i] = word_start ? (word_start[i] != 0) : 1;
    if (probs) seq->probs[i] = probs[i];
  }
  if (!ok) {
    attn_tokens_clear(seq);
    return -1;
  }
  seq->n = n;
  return 0;
}

int attn_tokens_word_start(const attn_tokens *seq, int i) {
  return seq->word_start ? seq->word_start[i] : 1;
}

attn_map *attn_maps_append(attn_map **maps, int *n, const char *name, attn_map_kind kind,
                             int layer, int head, int rows, int cols, const float *weights) {
  if (rows < 0 || cols < 0 || *n >= ATTN_TRACE_MAX_MAPS) return NULL;
  if ((long long)rows * cols > ATTN_TRACE_MAX_CELLS) return NULL;
  attn_map *grown = realloc(*maps, (size_t)(*n + 1) * sizeof *grown);
  if (!grown) return NULL;
  *maps = grown;
  size_t cells = (size_t)rows * (size_t)cols;
  attn_map *m = &grown[*n];
  memset(m, 0, sizeof *m);
  m->name = attn_strdup(name ? name : "");
  m->weights = calloc(cells ? cells : 1, sizeof(float));
  if (!m->name || !m->weights) {
    free(m->name);
    free(m->weights);
    return NULL;
  }
  if (weights && cells) memcpy(m->weights, weights, cells * sizeof(float));
  m->kind = kind;
  m->layer = layer;
  m->head = head;
  m->rows = rows;
  m->cols = cols;
  (*n)++;
  return m;
}

attn_map *attn_trace_add_map(attn_trace *t, const char *name, attn_map_kind kind, int layer,
                             int head, int rows, int cols, const float *weights) {
  return attn_maps_append(&t->maps, &t->n_maps, name, kind, layer, head, rows, cols, weights);
}

attn_map *attn_hypothesis_add_map(attn_hypothesis *h, const char *name, attn_map_kind kind,
                                  int layer, int head, int rows, int cols, const float *weights) {
  return attn_maps_append(&h->maps, &h->n_maps, name, kind, layer, head, rows, cols, weights);
}

attn_hypothesis *attn_trace_add_hypothesis(attn_trace *t) {
  attn_hypothesis *grown = realloc(t->hyps, (size_t)(t->n_hyps + 1) * sizeof *grown);
  if (!grown) return NULL;
  t->hyps = grown;
  attn_hypothesis *h = &grown[t->n_hyps++];
  memset(h, 0, sizeof *h);
  return h;
}

int attn_trace_set_sentences(attn_trace *t, int n, const char *const *sentences) {
  for (int i = 0; i < t->n_sentences; i++) free(t->sentences[i]);
  free(t->sentences);
  t->n_sentences = 0;
  t->sentences = calloc(n > 0 ? (size_t)n : 1, sizeof(char *));
  if (!t->sentences) return -1;
  for (int i = 0; i < n; i++) {
    t->sentences[i] = attn_strdup(sentences[i] ? sentences[i] : "");
    if (!t->sentences[i]) return -1;
    t->n_sentences = i + 1;
  }
  return 0;
}

int attn_trace_set_summary(attn_trace *t, int n, const float *values) {
  free(t->summary);
  t->summary = NULL, t->summary_dim = 0;
  if (n == 0 || !values) return 0;
  if (n < 0 || n > ATTN_TRACE_MAX_SUMMARY || !(t->summary = malloc((size_t)n * sizeof(float)))) return -1;
  memcpy(t->summary, values, (size_t)n * sizeof(float));
  t->summary_dim = n;
  return 0;
}

static attn_status validate_summary(const attn_trace *t, attn_error *err) {
  if (!t->summary) return ATTN_OK;
  if (t->task != ATTN_TASK_TRANSLATE)
    return attn_error_set(err, ATTN_E_VALUE, "only a translation trace has a summary vector");
  for (int i = 0; i < t->summary_dim; i++)
    if (!isfinite(t->summary[i]))
      return attn_error_set(err, ATTN_E_VALUE, "summary value %d is %g, not a finite number", i, (double)t->summary[i]);
  return ATTN_OK;
}

int attn_beta_set(float **beta, int n, const float *values) {
  free(*beta);
  *beta = NULL;
  if (!values) return 0;
  if (n < 0 || n > ATTN_TRACE_MAX_TOKENS || !(*beta = malloc((n > 0 ? (size_t)n : 1) * sizeof(float)))) return -1;
  if (n > 0) memcpy(*beta, values, (size_t)n * sizeof(float));
  return 0;
}

int attn_trace_find_map(const attn_trace *t, const char *name) {
  for (int i = 0; i < t->n_maps; i++)
    if (strcmp(t->maps[i].name, name) == 0) return i;
  return -1;
}

attn_status attn_map_validate(const attn_map *m, float tol, attn_error *err) {
  for (int r = 0; r < m->rows; r++) {
    const float *row = m->weights + (size_t)r * (size_t)m->cols;
    double sum = 0.0;
    for (int c = 0; c < m->cols; c++) {
      if (!isfinite(row[c]))
        return attn_error_set(err, ATTN_E_VALUE, "map \"%s\": weight [%d][%d] is not a finite number",
                              m->name, r, c);
      if (row[c] < 0.0f)
        return attn_error_set(err, ATTN_E_VALUE, "map \"%s\": weight [%d][%d] is negative (%g)",
                              m->name, r, c, (double)row[c]);
      sum += row[c];
    }
    if (fabs(sum - 1.0) > tol)
      return attn_error_set(err, ATTN_E_VALUE, "map \"%s\": row %d sums to %.6g, not 1", m->name,
                            r, sum);
  }
  return ATTN_OK;
}

/* Expected (rows, cols) of a map of this kind, or -1 where the trace does not fix it. */
static void expected_shape(const attn_trace *t, const attn_tokens *out, attn_map_kind kind,
                           int *rows, int *cols) {
  *rows = *cols = -1;
  switch (kind) {
  case ATTN_MAP_CROSS:
    *rows = out->n;
    *cols = t->task == ATTN_TASK_CAPTION ? t->grid_rows * t->grid_cols : t->source.n;
    break;
  case ATTN_MAP_ENCODER: *rows = *cols = t->source.n; break;
  case ATTN_MAP_DECODER: *rows = *cols = out->n; break;
  case ATTN_MAP_HOP:
    *rows = 1;
    *cols = t->n_sentences > 0 ? t->n_sentences : t->source.n;
    break;
  case ATTN_MAP_OTHER: break;
  }
}

static attn_status validate_maps(const attn_trace *t, const attn_tokens *out, const attn_map *maps,
                                 int n, attn_error *err) {
  for (int i = 0; i < n; i++) {
    const attn_map *m = &maps[i];
    int rows, cols;
    expected_shape(t, out, m->kind, &rows, &cols);
    if ((rows >= 0 && m->rows != rows) || (cols >= 0 && m->cols != cols))
      return attn_error_set(err, ATTN_E_SHAPE, "map \"%s\" (%s) is %dx%d, expected %dx%d", m->name,
                            attn_map_kind_name(m->kind), m->rows, m->cols, rows, cols);
    attn_status st = attn_map_validate(m, 1e-3f, err);
    if (st != ATTN_OK) return st;
  }
  return ATTN_OK;
}

static attn_status validate_beta(const float *beta, int n, attn_error *err) {
  for (int i = 0; beta && i < n; i++)
    if (!(beta[i] >= 0.0f && beta[i] <= 1.0f))
      return attn_error_set(err, ATTN_E_VALUE, "beta of output token %d is %g, outside [0, 1]", i, (double)beta[i]);
  return ATTN_OK;
}

static attn_status validate_tokens(const attn_tokens *seq, const char *what, attn_error *err) {
  for (int i = 0; i < seq->n; i++) {
    const char *s = seq->tokens[i];
    if (!attn_utf8_valid(s, strlen(s)))
      return attn_error_set(err, ATTN_E_VALUE, "%s token %d is not valid UTF-8", what, i);
    if (seq->probs && !(seq->probs[i] >= 0.0f && seq->probs[i] <= 1.0f + 1e-6f))
      return attn_error_set(err, ATTN_E_VALUE, "%s token %d has probability %g outside [0, 1]",
                            what, i, (double)seq->probs[i]);
  }
  for (size_t i = 0; i < (size_t)seq->n * (size_t)seq->n_cand; i++)
    if (!attn_utf8_valid(seq->cand_tokens[i], strlen(seq->cand_tokens[i])) ||
        !(seq->cand_probs[i] >= 0.0f && seq->cand_probs[i] <= 1.0f + 1e-6f))
      return attn_error_set(err, ATTN_E_VALUE, "%s candidate %zu is not valid UTF-8 or has a probability outside [0, 1]",
                            what, i);
  return ATTN_OK;
}

attn_status attn_trace_validate(const attn_trace *t, attn_error *err) {
  attn_status st = validate_tokens(&t->source, "source", err);
  if (st == ATTN_OK) st = validate_tokens(&t->output, "output", err);
  if (st == ATTN_OK && t->task == ATTN_TASK_CAPTION && (t->grid_rows <= 0 || t->grid_cols <= 0))
    st = attn_error_set(err, ATTN_E_SHAPE, "caption trace has no image grid");
  if (st == ATTN_OK && t->task == ATTN_TASK_GRAPH) st = attn_trace_graph_validate(t, err);
  if (st == ATTN_OK && t->task == ATTN_TASK_MEMORY) st = attn_trace_memory_validate(t, err);
  if (st == ATTN_OK) st = validate_maps(t, &t->output, t->maps, t->n_maps, err);
  if (st == ATTN_OK) st = validate_beta(t->beta, t->output.n, err);
  if (st == ATTN_OK) st = validate_summary(t, err);
  for (int h = 0; st == ATTN_OK && h < t->n_hyps; h++) {
    st = validate_tokens(&t->hyps[h].output, "hypothesis", err);
    if (st == ATTN_OK) st = validate_beta(t->hyps[h].beta, t->hyps[h].output.n, err);
    if (st == ATTN_OK) st = validate_maps(t, &t->hyps[h].output, t->hyps[h].maps, t->hyps[h].n_maps, err);
  }
  return st;
}

static int copy_tokens(attn_tokens *dst, const attn_tokens *src) {
  return attn_tokens_set(dst, src->n, (const char *const *)src->tokens, src->word_start, src->probs, src->text) ||
         attn_tokens_set_candidates(dst, src->n_cand, (const char *const *)src->cand_tokens, src->cand_probs);
}

static int copy_maps(attn_map **dst, int *n_dst, const attn_map *maps, int n) {
  for (int i = 0; i < n; i++)
    if (!attn_maps_append(dst, n_dst, maps[i].name, maps[i].kind, maps[i].layer, maps[i].head, maps[i].rows,
                          maps[i].cols, maps[i].weights))
      return -1;
  return 0;
}

attn_trace *attn_trace_select_hypothesis(const attn_trace *t, int k) {
  if (k < 0 || k > t->n_hyps) return NULL;
  attn_trace *c = attn_trace_new(t->task, t->model);
  if (!c) return NULL;
  const attn_tokens *out = k == 0 ? &t->output : &t->hyps[k - 1].output;
  int rc = copy_tokens(&c->source, &t->source) || copy_tokens(&c->output, out) ||
           (k == 0 ? copy_maps(&c->maps, &c->n_maps, t->maps, t->n_maps)
                   : copy_maps(&c->maps, &c->n_maps, t->hyps[k - 1].maps, t->hyps[k - 1].n_maps)) ||
           attn_trace_set_sentences(c, t->n_sentences, (const char *const *)t->sentences);
  for (int i = 0; rc == 0 && i < t->n_warnings; i++) rc = attn_trace_warn(c, "%s", t->warnings[i]);
  if (rc == 0 && t->question && !(c->question = attn_strdup(t->question))) rc = -1;
  if (rc == 0 && t->graph && !(c->graph = attn_trace_graph_copy(t->graph))) rc = -1;
  if (rc == 0 && t->memory && !(c->memory = attn_trace_memory_copy(t->memory))) rc = -1;
  if (rc == 0) rc = attn_beta_set(&c->beta, out->n, k == 0 ? t->beta : t->hyps[k - 1].beta);
  if (rc == 0) rc = attn_trace_set_summary(c, t->summary_dim, t->summary);
  c->score = k == 0 ? t->score : t->hyps[k - 1].score;
  c->image_width = t->image_width, c->image_height = t->image_height;
  c->grid_rows = t->grid_rows, c->grid_cols = t->grid_cols;
  if (rc != 0) {
    attn_trace_free(c);
    return NULL;
  }
  return c;
}
