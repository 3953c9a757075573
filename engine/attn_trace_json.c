/* Trace <-> JSON with cJSON. Writing is exact (9 significant digits per float); reading
 * checks every field's type, every shape and every row before building the trace. */
#include "attn_trace_json.h"

#include <cjson/cJSON.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_trace_graph.h"
#include "attn_memory.h"
#include "attn_util.h"

/* ---- writing ---- */

static cJSON *float_number(float v) {
  char buf[32];
  if (!isfinite(v)) return cJSON_CreateNull();
  snprintf(buf, sizeof buf, "%.9g", (double)v);
  return cJSON_CreateRaw(buf);
}

static cJSON *tokens_to_json(const attn_tokens *seq, int with_word_start) {
  cJSON *o = cJSON_CreateObject();
  if (seq->text) cJSON_AddStringToObject(o, "text", seq->text);
  cJSON *toks = cJSON_AddArrayToObject(o, "tokens");
  for (int i = 0; i < seq->n; i++) cJSON_AddItemToArray(toks, cJSON_CreateString(seq->tokens[i]));
  if (with_word_start) {
    cJSON *ws = cJSON_AddArrayToObject(o, "word_start");
    for (int i = 0; i < seq->n; i++)
      cJSON_AddItemToArray(ws, cJSON_CreateBool(attn_tokens_word_start(seq, i)));
  }
  if (seq->probs) {
    cJSON *p = cJSON_AddArrayToObject(o, "probs");
    for (int i = 0; i < seq->n; i++) cJSON_AddItemToArray(p, float_number(seq->probs[i]));
  }
  if (seq->n_cand > 0) { /* per step: [{"token", "prob"}, ...], best first */
    cJSON *all = cJSON_AddArrayToObject(o, "candidates");
    for (int i = 0; i < seq->n; i++) {
      cJSON *step = cJSON_CreateArray();
      for (int j = 0; j < seq->n_cand; j++) {
        cJSON *c = cJSON_CreateObject();
        size_t at = (size_t)i * seq->n_cand + j;
        cJSON_AddStringToObject(c, "token", seq->cand_tokens[at]);
        cJSON_AddItemToObject(c, "prob", float_number(seq->cand_probs[at]));
        cJSON_AddItemToArray(step, c);
      }
      cJSON_AddItemToArray(all, step);
    }
  }
  return o;
}

/* Caption gate values ride along with the output tokens they belong to. */
static cJSON *with_beta(cJSON *output, const float *beta, int n) {
  if (!beta) return output;
  cJSON *b = cJSON_AddArrayToObject(output, "beta");
  for (int i = 0; i < n; i++) cJSON_AddItemToArray(b, float_number(beta[i]));
  return output;
}

static cJSON *map_to_json(const attn_map *m) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "name", m->name);
  cJSON_AddStringToObject(o, "kind", attn_map_kind_name(m->kind));
  cJSON_AddNumberToObject(o, "layer", m->layer);
  cJSON_AddNumberToObject(o, "head", m->head);
  cJSON_AddNumberToObject(o, "rows", m->rows);
  cJSON_AddNumberToObject(o, "cols", m->cols);
  cJSON *w = cJSON_AddArrayToObject(o, "weights");
  for (int r = 0; r < m->rows; r++) {
    cJSON *row = cJSON_CreateArray();
    for (int c = 0; c < m->cols; c++)
      cJSON_AddItemToArray(row, float_number(m->weights[(size_t)r * m->cols + c]));
    cJSON_AddItemToArray(w, row);
  }
  return o;
}

static void add_maps(cJSON *parent, const attn_map *maps, int n) {
  cJSON *arr = cJSON_AddArrayToObject(parent, "maps");
  for (int i = 0; i < n; i++) cJSON_AddItemToArray(arr, map_to_json(&maps[i]));
}

static void add_task_fields(cJSON *root, const attn_trace *t) {
  if (t->task == ATTN_TASK_CAPTION) {
    cJSON *img = cJSON_AddObjectToObject(root, "image");
    cJSON_AddNumberToObject(img, "width", t->image_width);
    cJSON_AddNumberToObject(img, "height", t->image_height);
    int grid[2] = {t->grid_rows, t->grid_cols};
    cJSON_AddItemToObject(img, "grid", cJSON_CreateIntArray(grid, 2));
  }
  if (t->task == ATTN_TASK_READ) {
    cJSON *story = cJSON_AddObjectToObject(root, "story");
    cJSON *s = cJSON_AddArrayToObject(story, "sentences");
    for (int i = 0; i < t->n_sentences; i++) cJSON_AddItemToArray(s, cJSON_CreateString(t->sentences[i]));
    if (t->question) cJSON_AddStringToObject(root, "question", t->question);
  }
  if (t->task == ATTN_TASK_GRAPH && t->graph) cJSON_AddItemToObject(root, "graph", attn_trace_graph_to_json(t->graph));
}

static void add_memory_fields(cJSON *root, const attn_trace *t) {
  if (t->task == ATTN_TASK_MEMORY && t->memory)
    cJSON_AddItemToObject(root, "memory", attn_trace_memory_to_json(t->memory));
}

char *attn_trace_to_json(const attn_trace *t, int pretty) {
  cJSON *root = cJSON_CreateObject();
  if (!root) return NULL;
  cJSON_AddNumberToObject(root, "version", ATTN_TRACE_VERSION);
  cJSON_AddStringToObject(root, "task", attn_task_name(t->task));
  cJSON_AddStringToObject(root, "model", t->model ? t->model : "");
  cJSON_AddItemToObject(root, "source", tokens_to_json(&t->source, 1));
  cJSON_AddItemToObject(root, "output", with_beta(tokens_to_json(&t->output, 0), t->beta, t->output.n));
  cJSON_AddItemToObject(root, "score", cJSON_CreateNumber(t->score));
  add_task_fields(root, t);
  add_memory_fields(root, t);
  if (t->summary) {
    cJSON *s = cJSON_AddArrayToObject(root, "summary");
    for (int i = 0; i < t->summary_dim; i++) cJSON_AddItemToArray(s, float_number(t->summary[i]));
  }
  if (t->n_warnings > 0) {
    cJSON *w = cJSON_AddArrayToObject(root, "warnings");
    for (int i = 0; i < t->n_warnings; i++) cJSON_AddItemToArray(w, cJSON_CreateString(t->warnings[i]));
  }
  add_maps(root, t->maps, t->n_maps);
  if (t->n_hyps > 0) {
    cJSON *hyps = cJSON_AddArrayToObject(root, "hypotheses");
    for (int h = 0; h < t->n_hyps; h++) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddItemToObject(o, "output", with_beta(tokens_to_json(&t->hyps[h].output, 0), t->hyps[h].beta,
                                                   t->hyps[h].output.n));
      cJSON_AddItemToObject(o, "score", cJSON_CreateNumber(t->hyps[h].score));
      add_maps(o, t->hyps[h].maps, t->hyps[h].n_maps);
      cJSON_AddItemToArray(hyps, o);
    }
  }
  char *text = pretty ? cJSON_Print(root) : cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  return text;
}

/* ---- reading ---- */

typedef struct reader {
  attn_error *err;
  long long cells; /* summed over maps, against ATTN_TRACE_MAX_CELLS */
} reader;

static int fail(reader *rd, attn_status code, const char *fmt, const char *a, const char *b) {
  char msg[400];
  snprintf(msg, sizeof msg, fmt, a, b ? b : "");
  attn_error_set(rd->err, code, "trace: %s", msg);
  return -1;
}

static int get_string(reader *rd, const cJSON *o, const char *key, int required, char **out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  *out = NULL;
  if (!v) return required ? fail(rd, ATTN_E_MISSING, "missing field \"%s\"%s", key, NULL) : 0;
  if (!cJSON_IsString(v)) return fail(rd, ATTN_E_FORMAT, "field \"%s\" is not a string%s", key, NULL);
  if (!attn_utf8_valid(v->valuestring, strlen(v->valuestring)))
    return fail(rd, ATTN_E_VALUE, "field \"%s\" is not valid UTF-8%s", key, NULL);
  *out = attn_strdup(v->valuestring);
  return *out ? 0 : fail(rd, ATTN_E_NOMEM, "out of memory reading \"%s\"%s", key, NULL);
}

static int get_int(reader *rd, const cJSON *o, const char *key, int lo, int hi, int *out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!v) return fail(rd, ATTN_E_MISSING, "missing field \"%s\"%s", key, NULL);
  if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < lo ||
      v->valuedouble > hi)
    return fail(rd, ATTN_E_VALUE, "field \"%s\" is not an integer in range%s", key, NULL);
  *out = (int)v->valuedouble;
  return 0;
}

static int get_float(reader *rd, const cJSON *v, const char *what, float *out) {
  if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || fabs(v->valuedouble) > FLT_MAX)
    return fail(rd, ATTN_E_VALUE, "%s holds a value that is not a finite number%s", what, NULL);
  *out = (float)v->valuedouble;
  return 0;
}

static int string_array(reader *rd, const cJSON *arr, const char *what, int *n_out, char ***out) {
  if (!cJSON_IsArray(arr)) return fail(rd, ATTN_E_FORMAT, "\"%s\" is not an array%s", what, NULL);
  int n = cJSON_GetArraySize(arr);
  if (n > ATTN_TRACE_MAX_TOKENS) return fail(rd, ATTN_E_VALUE, "\"%s\" has too many entries%s", what, NULL);
  char **items = calloc(n > 0 ? (size_t)n : 1, sizeof(char *));
  if (!items) return fail(rd, ATTN_E_NOMEM, "out of memory reading \"%s\"%s", what, NULL);
  int i = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, arr) {
    if (!cJSON_IsString(it) || !attn_utf8_valid(it->valuestring, strlen(it->valuestring)) ||
        !(items[i] = attn_strdup(it->valuestring))) {
      for (int k = 0; k < i; k++) free(items[k]);
      free(items);
      return fail(rd, ATTN_E_VALUE, "\"%s\" has an entry that is not a UTF-8 string%s", what, NULL);
    }
    i++;
  }
  *n_out = n;
  *out = items;
  return 0;
}

static int read_flags(reader *rd, const cJSON *arr, attn_tokens *seq) {
  if (!arr) return 0;
  if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != seq->n)
    return fail(rd, ATTN_E_SHAPE, "\"word_start\" must be an array as long as \"tokens\"%s", "", NULL);
  int i = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, arr) {
    if (!cJSON_IsBool(it)) return fail(rd, ATTN_E_FORMAT, "\"word_start\" holds a non-boolean%s", "", NULL);
    seq->word_start[i++] = cJSON_IsTrue(it) ? 1 : 0;
  }
  return 0;
}

static int read_probs(reader *rd, const cJSON *arr, attn_tokens *seq) {
  if (!arr) return 0;
  if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != seq->n)
    return fail(rd, ATTN_E_SHAPE, "\"probs\" must be an array as long as \"tokens\"%s", "", NULL);
  seq->probs = malloc((seq->n > 0 ? (size_t)seq->n : 1) * sizeof(float));
  if (!seq->probs) return fail(rd, ATTN_E_NOMEM, "out of memory%s", "", NULL);
  int i = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, arr) {
    if (get_float(rd, it, "\"probs\"", &seq->probs[i]) != 0) return -1;
    if (seq->probs[i] < 0.0f || seq->probs[i] > 1.0f + 1e-6f)
      return fail(rd, ATTN_E_VALUE, "\"probs\" holds a value outside [0, 1]%s", "", NULL);
    i++;
  }
  return 0;
}

/* "candidates": one array per token of the same number of {"token", "prob"} (optional). */
static int read_candidates(reader *rd, const cJSON *arr, attn_tokens *seq) {
  if (!arr) return 0;
  int k = cJSON_IsArray(arr) && cJSON_GetArraySize(arr) > 0 ? cJSON_GetArraySize(cJSON_GetArrayItem(arr, 0)) : 0;
  if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != seq->n || k < 1 || k > ATTN_TRACE_MAX_CANDIDATES)
    return fail(rd, ATTN_E_SHAPE, "\"candidates\" must hold 1..20 candidates for each token%s", "", NULL);
  size_t n = (size_t)seq->n * (size_t)k;
  const char **toks = calloc(n, sizeof *toks);
  float *probs = malloc(n * sizeof *probs);
  int rc = toks && probs ? 0 : fail(rd, ATTN_E_NOMEM, "out of memory%s", "", NULL);
  size_t at = 0;
  const cJSON *step, *c;
  cJSON_ArrayForEach(step, arr) {
    if (rc != 0) break;
    if (!cJSON_IsArray(step) || cJSON_GetArraySize(step) != k) {
      rc = fail(rd, ATTN_E_SHAPE, "\"candidates\" must hold as many candidates at each step%s", "", NULL);
      break;
    }
    cJSON_ArrayForEach(c, step) {
      const cJSON *tok = cJSON_GetObjectItemCaseSensitive(c, "token");
      if (!cJSON_IsString(tok) || get_float(rd, cJSON_GetObjectItemCaseSensitive(c, "prob"), "\"prob\"", &probs[at]) != 0) {
        rc = rc ? rc : fail(rd, ATTN_E_FORMAT, "a candidate needs a \"token\" and a \"prob\"%s", "", NULL);
        break;
      }
      toks[at++] = tok->valuestring;
    }
  }
  if (rc == 0 && attn_tokens_set_candidates(seq, k, toks, probs) != 0) rc = fail(rd, ATTN_E_NOMEM, "out of memory%s", "", NULL);
  free(toks), free(probs);
  return rc;
}

static int read_tokens(reader *rd, const cJSON *root, const char *key, attn_tokens *seq) {
  const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, key);
  if (!cJSON_IsObject(o)) return fail(rd, ATTN_E_MISSING, "missing object \"%s\"%s", key, NULL);
  char **toks = NULL;
  int n = 0;
  if (string_array(rd, cJSON_GetObjectItemCaseSensitive(o, "tokens"), "tokens", &n, &toks) != 0) return -1;
  seq->n = n;
  seq->tokens = toks;
  seq->word_start = malloc(n > 0 ? (size_t)n : 1);
  if (!seq->word_start) return fail(rd, ATTN_E_NOMEM, "out of memory%s", "", NULL);
  memset(seq->word_start, 1, n > 0 ? (size_t)n : 1);
  if (read_flags(rd, cJSON_GetObjectItemCaseSensitive(o, "word_start"), seq) != 0) return -1;
  if (read_probs(rd, cJSON_GetObjectItemCaseSensitive(o, "probs"), seq) != 0) return -1;
  if (read_candidates(rd, cJSON_GetObjectItemCaseSensitive(o, "candidates"), seq) != 0) return -1;
  return get_string(rd, o, "text", 0, &seq->text);
}

/* "beta" of the output object under key in o: as many numbers as tokens (absent: *beta stays NULL). */
static int read_beta(reader *rd, const cJSON *o, const char *key, int n, float **beta) {
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, key), "beta");
  if (!arr) return 0;
  if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != n)
    return fail(rd, ATTN_E_SHAPE, "\"beta\" must be an array as long as \"tokens\"%s", "", NULL);
  *beta = malloc((n > 0 ? (size_t)n : 1) * sizeof(float));
  if (!*beta) return fail(rd, ATTN_E_NOMEM, "out of memory%s", "", NULL);
  int i = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, arr)
    if (get_float(rd, it, "\"beta\"", &(*beta)[i++]) != 0) return -1;
  return 0;
}

static attn_map_kind kind_for(const attn_trace *t, const cJSON *o, const char *name) {
  const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "kind");
  if (cJSON_IsString(k)) return attn_map_kind_from_name(k->valuestring);
  if (strncmp(name, "encoder", 7) == 0) return ATTN_MAP_ENCODER;
  if (strncmp(name, "decoder", 7) == 0) return ATTN_MAP_DECODER;
  if (strncmp(name, "hop", 3) == 0 || t->task == ATTN_TASK_READ) return ATTN_MAP_HOP;
  return ATTN_MAP_CROSS;
}

static int read_weights(reader *rd, const cJSON *w, attn_map *m) {
  if (!cJSON_IsArray(w) || cJSON_GetArraySize(w) != m->rows)
    return fail(rd, ATTN_E_SHAPE, "map \"%s\": \"weights\" must have \"rows\" rows%s", m->name, NULL);
  int r = 0;
  const cJSON *row;
  cJSON_ArrayForEach(row, w) {
    if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != m->cols)
      return fail(rd, ATTN_E_SHAPE, "map \"%s\": a row does not have \"cols\" entries%s", m->name, NULL);
    int c = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, row) {
      if (get_float(rd, v, "a map", &m->weights[(size_t)r * m->cols + c]) != 0) return -1;
      c++;
    }
    r++;
  }
  return 0;
}

static int read_map(reader *rd, const attn_trace *t, const cJSON *o, attn_map **maps, int *n) {
  char *name = NULL;
  int layer = 0, head = 0, rows = 0, cols = 0;
  if (!cJSON_IsObject(o)) return fail(rd, ATTN_E_FORMAT, "a map is not an object%s", "", NULL);
  if (get_string(rd, o, "name", 1, &name) != 0) return -1;
  int bad = get_int(rd, o, "layer", -1, 100000, &layer) || get_int(rd, o, "head", -1, 100000, &head) ||
            get_int(rd, o, "rows", 0, ATTN_TRACE_MAX_TOKENS, &rows) ||
            get_int(rd, o, "cols", 0, ATTN_TRACE_MAX_TOKENS * 10, &cols);
  rd->cells += bad ? 0 : (long long)rows * cols;
  if (!bad && rd->cells > ATTN_TRACE_MAX_CELLS)
    bad = fail(rd, ATTN_E_VALUE, "map \"%s\" is too large%s", name, NULL);
  attn_map *m = bad ? NULL : attn_maps_append(maps, n, name, kind_for(t, o, name), layer, head, rows, cols, NULL);
  if (!bad && !m) bad = fail(rd, ATTN_E_NOMEM, "out of memory for map \"%s\"%s", name, NULL);
  free(name);
  if (bad) return -1;
  return read_weights(rd, cJSON_GetObjectItemCaseSensitive(o, "weights"), m);
}

static int read_maps(reader *rd, const attn_trace *t, const cJSON *o, attn_map **maps, int *n) {
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "maps");
  if (!cJSON_IsArray(arr)) return fail(rd, ATTN_E_MISSING, "missing array \"maps\"%s", "", NULL);
  if (cJSON_GetArraySize(arr) > ATTN_TRACE_MAX_MAPS)
    return fail(rd, ATTN_E_VALUE, "too many maps%s", "", NULL);
  const cJSON *it;
  cJSON_ArrayForEach(it, arr)
    if (read_map(rd, t, it, maps, n) != 0) return -1;
  return 0;
}

static int read_image(reader *rd, const cJSON *root, attn_trace *t) {
  const cJSON *img = cJSON_GetObjectItemCaseSensitive(root, "image");
  if (!cJSON_IsObject(img)) return fail(rd, ATTN_E_MISSING, "caption trace without \"image\"%s", "", NULL);
  if (get_int(rd, img, "width", 0, 1 << 30, &t->image_width) || get_int(rd, img, "height", 0, 1 << 30, &t->image_height))
    return -1;
  const cJSON *g = cJSON_GetObjectItemCaseSensitive(img, "grid");
  if (!cJSON_IsArray(g) || cJSON_GetArraySize(g) != 2)
    return fail(rd, ATTN_E_FORMAT, "\"image.grid\" must be [rows, cols]%s", "", NULL);
  const cJSON *gr = cJSON_GetArrayItem(g, 0), *gc = cJSON_GetArrayItem(g, 1);
  if (!cJSON_IsNumber(gr) || !cJSON_IsNumber(gc) || gr->valuedouble < 1 || gc->valuedouble < 1 ||
      gr->valuedouble > 4096 || gc->valuedouble > 4096)
    return fail(rd, ATTN_E_VALUE, "\"image.grid\" holds an invalid size%s", "", NULL);
  t->grid_rows = (int)gr->valuedouble;
  t->grid_cols = (int)gc->valuedouble;
  return 0;
}

static int read_story(reader *rd, const cJSON *root, attn_trace *t) {
  const cJSON *story = cJSON_GetObjectItemCaseSensitive(root, "story");
  if (!cJSON_IsObject(story)) return fail(rd, ATTN_E_MISSING, "read trace without \"story\"%s", "", NULL);
  if (string_array(rd, cJSON_GetObjectItemCaseSensitive(story, "sentences"), "sentences",
                   &t->n_sentences, &t->sentences) != 0)
    return -1;
  return get_string(rd, root, "question", 0, &t->question);
}

static int read_hypotheses(reader *rd, const cJSON *root, attn_trace *t) {
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "hypotheses");
  if (!arr) return 0;
  if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) > 64)
    return fail(rd, ATTN_E_FORMAT, "\"hypotheses\" must be an array of at most 64%s", "", NULL);
  const cJSON *it;
  cJSON_ArrayForEach(it, arr) {
    attn_hypothesis *h = attn_trace_add_hypothesis(t);
    if (!h) return fail(rd, ATTN_E_NOMEM, "out of memory%s", "", NULL);
    if (!cJSON_IsObject(it) || read_tokens(rd, it, "output", &h->output) != 0) return -1;
    if (read_beta(rd, it, "output", h->output.n, &h->beta) != 0) return -1;
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(it, "score");
    h->score = cJSON_IsNumber(sc) ? sc->valuedouble : 0.0;
    if (read_maps(rd, t, it, &h->maps, &h->n_maps) != 0) return -1;
  }
  return 0;
}

static int read_header(reader *rd, const cJSON *root, attn_trace *t) {
  int version = 0;
  char *task = NULL;
  if (!cJSON_IsObject(root)) return fail(rd, ATTN_E_FORMAT, "top level is not a JSON object%s", "", NULL);
  if (get_int(rd, root, "version", 0, 1000000, &version) != 0) return -1;
  if (version != ATTN_TRACE_VERSION)
    return fail(rd, ATTN_E_FORMAT, "unsupported version (this build reads version 1)%s", "", NULL);
  if (get_string(rd, root, "task", 1, &task) != 0) return -1;
  int bad = attn_task_from_name(task, &t->task) != 0;
  if (bad) fail(rd, ATTN_E_VALUE, "unknown task \"%s\"%s", task, NULL);
  free(task);
  if (bad) return -1;
  free(t->model);
  if (get_string(rd, root, "model", 1, &t->model) != 0) return -1;
  const cJSON *sc = cJSON_GetObjectItemCaseSensitive(root, "score");
  t->score = cJSON_IsNumber(sc) ? sc->valuedouble : 0.0;
  return 0;
}

/* "summary": the fixed vector of a translation model without attention (absent: none). */
static int read_summary(reader *rd, const cJSON *root, attn_trace *t) {
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "summary");
  if (!arr) return 0;
  int n = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : -1;
  if (n < 1 || n > ATTN_TRACE_MAX_SUMMARY)
    return fail(rd, ATTN_E_SHAPE, "\"summary\" must be an array of 1 to 65536 numbers%s", "", NULL);
  if (attn_trace_set_summary(t, n, NULL) != 0 || !(t->summary = malloc((size_t)n * sizeof(float))))
    return fail(rd, ATTN_E_NOMEM, "out of memory%s", "", NULL);
  t->summary_dim = n;
  int i = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, arr) {
    if (get_float(rd, it, "\"summary\"", &t->summary[i++]) != 0) return -1;
  }
  return 0;
}

static int read_trace(reader *rd, const cJSON *root, attn_trace *t) {
  if (read_header(rd, root, t) != 0) return -1;
  if (read_tokens(rd, root, "source", &t->source) != 0) return -1;
  if (read_tokens(rd, root, "output", &t->output) != 0) return -1;
  if (read_beta(rd, root, "output", t->output.n, &t->beta) != 0) return -1;
  if (t->task == ATTN_TASK_CAPTION && read_image(rd, root, t) != 0) return -1;
  if (t->task == ATTN_TASK_READ && read_story(rd, root, t) != 0) return -1;
  if (t->task == ATTN_TASK_GRAPH &&
      attn_trace_graph_from_json(cJSON_GetObjectItemCaseSensitive(root, "graph"), t, rd->err) != ATTN_OK)
    return -1;
  if (t->task == ATTN_TASK_MEMORY &&
      attn_trace_memory_from_json(cJSON_GetObjectItemCaseSensitive(root, "memory"), t, rd->err) != ATTN_OK)
    return -1;
  if (read_summary(rd, root, t) != 0) return -1;
  const cJSON *w = cJSON_GetObjectItemCaseSensitive(root, "warnings");
  if (w && string_array(rd, w, "warnings", &t->n_warnings, &t->warnings) != 0) return -1;
  if (read_maps(rd, t, root, &t->maps, &t->n_maps) != 0) return -1;
  return read_hypotheses(rd, root, t);
}

attn_trace *attn_trace_from_json(const char *text, size_t len, attn_error *err) {
  reader rd = {err, 0};
  if (!attn_utf8_valid(text, len)) {
    attn_error_set(err, ATTN_E_FORMAT, "trace: the file is not valid UTF-8");
    return NULL;
  }
  cJSON *root = cJSON_ParseWithLength(text, len);
  if (!root) {
    const char *at = cJSON_GetErrorPtr();
    long off = at && at >= text && at <= text + len ? (long)(at - text) : -1;
    attn_error_set(err, ATTN_E_FORMAT, "trace: not valid JSON (near byte %ld)", off);
    return NULL;
  }
  attn_trace *t = attn_trace_new(ATTN_TASK_TRANSLATE, "");
  int bad = !t ? fail(&rd, ATTN_E_NOMEM, "out of memory%s", "", NULL) : read_trace(&rd, root, t);
  cJSON_Delete(root);
  if (!bad && attn_trace_validate(t, err) != ATTN_OK) {
    char msg[sizeof err->message];
    snprintf(msg, sizeof msg, "%s", err ? err->message : "");
    attn_error_set(err, err ? err->code : ATTN_E_VALUE, "trace: %s", msg);
    bad = 1;
  }
  if (bad) {
    attn_trace_free(t);
    return NULL;
  }
  return t;
}

attn_trace *attn_trace_load(const char *path, attn_error *err) {
  size_t len = 0;
  char *text = attn_read_file(path, ATTN_TRACE_JSON_MAX_BYTES, &len, err);
  if (!text) return NULL;
  attn_trace *t = attn_trace_from_json(text, len, err);
  free(text);
  if (!t && err) {
    char msg[sizeof err->message];
    snprintf(msg, sizeof msg, "%s", err->message);
    attn_error_set(err, err->code, "%s: %s", path, msg);
  }
  return t;
}

attn_status attn_trace_save(const attn_trace *t, const char *path, attn_error *err) {
  char *text = attn_trace_to_json(t, 1);
  if (!text) return attn_error_set(err, ATTN_E_NOMEM, "%s: out of memory", path);
  attn_status st = attn_write_file_atomic(path, text, strlen(text), err);
  free(text);
  return st;
}
