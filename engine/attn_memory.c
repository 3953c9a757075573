/* From a sequence of bit vectors to a memory trace: parse the text, run the NTM on the copy
 * task, and record where each head wrote and read; plus the trace's memory section (build,
 * copy, validate, JSON). */
#include "attn_memory.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_model_dir.h"
#include "attn_ntm.h"
#include "attn_util.h"

#define MEMORY_MAX_BITS 64
#define MEMORY_MAX_LOCATIONS 4096
#define MEMORY_MAX_WIDTH 1024
#define MEMORY_MAX_LENGTH 1000

/* ---- the trace section ---- */

attn_trace_memory *attn_trace_memory_new(int bits, int locations, int width, int length) {
  if (bits < 1 || bits > MEMORY_MAX_BITS || locations < 1 || locations > MEMORY_MAX_LOCATIONS || width < 1 ||
      width > MEMORY_MAX_WIDTH || length < 1 || length > MEMORY_MAX_LENGTH)
    return NULL;
  attn_trace_memory *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  size_t T = 2 * (size_t)length + 1;
  m->bits = bits, m->locations = locations, m->width = width, m->length = length, m->steps = (int)T;
  m->inputs = calloc(T * (size_t)(bits + 1), sizeof(float));
  m->outputs = calloc(T * (size_t)bits, sizeof(float));
  m->adds = calloc(T * (size_t)width, sizeof(float));
  m->reads = calloc(T * (size_t)width, sizeof(float));
  m->contents = calloc((size_t)locations * (size_t)width, sizeof(float));
  if (!m->inputs || !m->outputs || !m->adds || !m->reads || !m->contents) {
    attn_trace_memory_free(m);
    return NULL;
  }
  return m;
}

void attn_trace_memory_free(attn_trace_memory *m) {
  if (!m) return;
  free(m->inputs), free(m->outputs), free(m->adds), free(m->reads), free(m->contents);
  free(m);
}

attn_trace_memory *attn_trace_memory_copy(const attn_trace_memory *m) {
  attn_trace_memory *c = attn_trace_memory_new(m->bits, m->locations, m->width, m->length);
  if (!c) return NULL;
  size_t T = (size_t)m->steps;
  memcpy(c->inputs, m->inputs, T * (size_t)(m->bits + 1) * sizeof(float));
  memcpy(c->outputs, m->outputs, T * (size_t)m->bits * sizeof(float));
  memcpy(c->adds, m->adds, T * (size_t)m->width * sizeof(float));
  memcpy(c->reads, m->reads, T * (size_t)m->width * sizeof(float));
  memcpy(c->contents, m->contents, (size_t)m->locations * (size_t)m->width * sizeof(float));
  return c;
}

static int all_finite(const float *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i])) return 0;
  return 1;
}

attn_status attn_trace_memory_validate(const attn_trace *t, attn_error *err) {
  const attn_trace_memory *m = t->memory;
  if (!m) return attn_error_set(err, ATTN_E_MISSING, "memory trace has no \"memory\" section");
  if (m->steps != 2 * m->length + 1 || t->source.n != m->length || t->output.n != m->length)
    return attn_error_set(err, ATTN_E_SHAPE, "memory trace: %d steps, %d inputs, %d outputs for %d vectors",
                          m->steps, t->source.n, t->output.n, m->length);
  for (int i = 0; i < t->n_maps; i++)
    if (t->maps[i].rows != m->steps || t->maps[i].cols != m->locations)
      return attn_error_set(err, ATTN_E_SHAPE, "map \"%s\" is %dx%d, expected %dx%d (steps x locations)",
                            t->maps[i].name, t->maps[i].rows, t->maps[i].cols, m->steps, m->locations);
  size_t T = (size_t)m->steps;
  if (!all_finite(m->inputs, T * (size_t)(m->bits + 1)) || !all_finite(m->outputs, T * (size_t)m->bits) ||
      !all_finite(m->adds, T * (size_t)m->width) || !all_finite(m->reads, T * (size_t)m->width) ||
      !all_finite(m->contents, (size_t)m->locations * (size_t)m->width))
    return attn_error_set(err, ATTN_E_VALUE, "memory trace holds a value that is not finite");
  return ATTN_OK;
}

/* ---- JSON ---- */

static cJSON *matrix_json(const float *x, int rows, int cols) {
  cJSON *a = cJSON_CreateArray();
  for (int i = 0; a && i < rows; i++) {
    cJSON *row = cJSON_CreateArray();
    if (!row || !cJSON_AddItemToArray(a, row)) {
      cJSON_Delete(row);
      cJSON_Delete(a);
      return NULL;
    }
    for (int j = 0; j < cols; j++) {
      double v = x[(size_t)i * cols + j];
      cJSON_AddItemToArray(row, cJSON_CreateNumber(round(v * 1e6) / 1e6));
    }
  }
  return a;
}

cJSON *attn_trace_memory_to_json(const attn_trace_memory *m) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON_AddNumberToObject(o, "bits", m->bits);
  cJSON_AddNumberToObject(o, "locations", m->locations);
  cJSON_AddNumberToObject(o, "width", m->width);
  cJSON_AddNumberToObject(o, "length", m->length);
  cJSON_AddNumberToObject(o, "steps", m->steps);
  cJSON_AddItemToObject(o, "inputs", matrix_json(m->inputs, m->steps, m->bits + 1));
  cJSON_AddItemToObject(o, "outputs", matrix_json(m->outputs, m->steps, m->bits));
  cJSON_AddItemToObject(o, "adds", matrix_json(m->adds, m->steps, m->width));
  cJSON_AddItemToObject(o, "reads", matrix_json(m->reads, m->steps, m->width));
  cJSON_AddItemToObject(o, "contents", matrix_json(m->contents, m->locations, m->width));
  return o;
}

static attn_status json_int(const cJSON *o, const char *key, int *out, attn_error *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || fabs(v->valuedouble) > 1e6)
    return attn_error_set(err, ATTN_E_FORMAT, "trace: \"memory\".\"%s\" is not an integer", key);
  *out = (int)v->valuedouble;
  return ATTN_OK;
}

static attn_status json_matrix(const cJSON *o, const char *key, float *x, int rows, int cols, attn_error *err) {
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != rows)
    return attn_error_set(err, ATTN_E_SHAPE, "trace: \"memory\".\"%s\" does not have %d rows", key, rows);
  int i = 0;
  for (const cJSON *row = a->child; row; row = row->next, i++) {
    if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != cols)
      return attn_error_set(err, ATTN_E_SHAPE, "trace: \"memory\".\"%s\" row %d does not have %d values", key, i, cols);
    int j = 0;
    for (const cJSON *v = row->child; v; v = v->next, j++) {
      if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return attn_error_set(err, ATTN_E_VALUE, "trace: \"memory\".\"%s\"[%d][%d] is not a number", key, i, j);
      x[(size_t)i * cols + j] = (float)v->valuedouble;
    }
  }
  return ATTN_OK;
}

attn_status attn_trace_memory_from_json(const cJSON *o, attn_trace *t, attn_error *err) {
  if (!cJSON_IsObject(o)) return attn_error_set(err, ATTN_E_MISSING, "trace: a memory trace needs a \"memory\" object");
  int bits = 0, locations = 0, width = 0, length = 0, steps = 0;
  attn_status st = json_int(o, "bits", &bits, err);
  if (st == ATTN_OK) st = json_int(o, "locations", &locations, err);
  if (st == ATTN_OK) st = json_int(o, "width", &width, err);
  if (st == ATTN_OK) st = json_int(o, "length", &length, err);
  if (st == ATTN_OK) st = json_int(o, "steps", &steps, err);
  if (st != ATTN_OK) return st;
  if (steps != 2 * length + 1)
    return attn_error_set(err, ATTN_E_SHAPE, "trace: \"memory\" has %d steps for %d vectors", steps, length);
  attn_trace_memory *m = attn_trace_memory_new(bits, locations, width, length);
  if (!m) return attn_error_set(err, ATTN_E_VALUE, "trace: \"memory\" sizes are out of range");
  st = json_matrix(o, "inputs", m->inputs, steps, bits + 1, err);
  if (st == ATTN_OK) st = json_matrix(o, "outputs", m->outputs, steps, bits, err);
  if (st == ATTN_OK) st = json_matrix(o, "adds", m->adds, steps, width, err);
  if (st == ATTN_OK) st = json_matrix(o, "reads", m->reads, steps, width, err);
  if (st == ATTN_OK) st = json_matrix(o, "contents", m->contents, locations, width, err);
  if (st != ATTN_OK) {
    attn_trace_memory_free(m);
    return st;
  }
  attn_trace_memory_free(t->memory);
  t->memory = m;
  return ATTN_OK;
}

/* ---- parsing ---- */

static int is_separator(char c) { return c == ' ' || c == ',' || (c >= '\t' && c <= '\r'); }

/* The vector at text[0..n) for messages: at most 24 bytes, then "...". */
static void quote(char *out, size_t size, const char *text, size_t n) {
  snprintf(out, size, "%.*s%s", (int)(n > 24 ? 24 : n), text, n > 24 ? "..." : "");
}

static attn_status check_vector(const char *s, size_t n, int index, int bits, attn_error *err) {
  char shown[40];
  quote(shown, sizeof shown, s, n);
  for (size_t j = 0; j < n; j++)
    if (s[j] != '0' && s[j] != '1') {
      unsigned char c = (unsigned char)s[j];
      if (c >= 0x20 && c < 0x7f)
        return attn_error_set(err, ATTN_E_ARG, "vector %d '%s' has '%c' at position %zu: a bit is 0 or 1", index,
                              shown, c, j + 1);
      return attn_error_set(err, ATTN_E_ARG, "vector %d has the byte 0x%02x at position %zu: a bit is 0 or 1", index,
                            c, j + 1);
    }
  if (n != (size_t)bits)
    return attn_error_set(err, ATTN_E_ARG, "vector %d '%s' has %zu bits: the model reads vectors of %d bits", index,
                          shown, n, bits);
  return ATTN_OK;
}

attn_status attn_memory_parse(const char *text, int bits, int max_len, unsigned char **seq, int *len,
                              attn_error *err) {
  *seq = NULL, *len = 0;
  if (!text) text = "";
  int n = 0;
  for (const char *p = text; *p;) {
    while (*p && is_separator(*p)) p++;
    if (!*p) break;
    size_t w = 0;
    while (p[w] && !is_separator(p[w])) w++;
    n++;
    attn_status st = check_vector(p, w, n, bits, err);
    if (st != ATTN_OK) return st;
    p += w;
  }
  if (n == 0)
    return attn_error_set(err, ATTN_E_ARG, "no bit vectors: type vectors of %d bits (0 or 1) separated by spaces, "
                          "e.g. 10110010 01100001", bits);
  if (n > max_len)
    return attn_error_set(err, ATTN_E_ARG, "a sequence of %d vectors is too long: the model copies at most %d", n,
                          max_len);
  unsigned char *out = malloc((size_t)n * (size_t)bits);
  if (!out) return attn_error_set(err, ATTN_E_NOMEM, "out of memory for %d vectors", n);
  size_t k = 0;
  for (const char *p = text; *p; p++)
    if (*p == '0' || *p == '1') out[k++] = (unsigned char)(*p - '0');
  *seq = out, *len = n;
  return ATTN_OK;
}

/* ---- the model ---- */

struct attn_memory_model {
  char *name, *display_name;
  attn_model_dir *dir;
  attn_ntm *ntm;
};

void attn_memory_free(attn_memory_model *m) {
  if (!m) return;
  attn_ntm_free(m->ntm);
  attn_model_dir_close(m->dir);
  free(m->name), free(m->display_name);
  free(m);
}

attn_memory_model *attn_memory_load(const char *dir, attn_error *err) {
  attn_memory_model *m = calloc(1, sizeof *m);
  if (!m) {
    attn_error_set(err, ATTN_E_NOMEM, "out of memory loading a memory model");
    return NULL;
  }
  m->dir = attn_model_dir_open(dir, err);
  attn_status st = m->dir ? ATTN_OK : (err ? err->code : ATTN_E_IO);
  const char *arch = m->dir ? attn_model_dir_architecture(m->dir) : NULL;
  if (st == ATTN_OK && (!arch || (strcmp(arch, "NTM") != 0 && strcmp(arch, "ntm") != 0)))
    st = attn_error_set(err, ATTN_E_VALUE, "%s: architecture \"%s\" is not a memory model attnlens can run", dir,
                        arch ? arch : "(none)");
  if (st == ATTN_OK && !(m->ntm = attn_ntm_load(m->dir, err))) st = err ? err->code : ATTN_E_FORMAT;
  if (st == ATTN_OK) {
    const char *b = attn_path_base(dir);
    size_t n = strcspn(b, "/") + 1;
    m->name = malloc(n);
    if (m->name) snprintf(m->name, n, "%s", b);
    m->display_name = attn_strdup(attn_model_dir_display_name(m->dir));
    if (!m->name || !m->display_name) st = attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  }
  if (st != ATTN_OK) {
    attn_memory_free(m);
    return NULL;
  }
  return m;
}

const char *attn_memory_name(const attn_memory_model *m) { return m->name; }
const char *attn_memory_display_name(const attn_memory_model *m) { return m->display_name; }
int attn_memory_bits(const attn_memory_model *m) { return attn_ntm_model_dims(m->ntm)->bits; }
int attn_memory_max_length(const attn_memory_model *m) { return attn_ntm_model_dims(m->ntm)->max_sequence; }
int attn_memory_locations(const attn_memory_model *m) { return attn_ntm_model_dims(m->ntm)->locations; }

/* Source and output tokens: the input vectors, and the answer with its probabilities. */
static int set_tokens(attn_trace *t, const unsigned char *seq, const attn_trace_memory *mem) {
  int L = mem->length, B = mem->bits;
  char **in = calloc((size_t)L, sizeof *in), **out = calloc((size_t)L, sizeof *out);
  float *probs = malloc((size_t)L * sizeof *probs);
  int rc = in && out && probs ? 0 : -1;
  for (int i = 0; rc == 0 && i < L; i++) {
    in[i] = malloc((size_t)B + 1), out[i] = malloc((size_t)B + 1);
    if (!in[i] || !out[i]) {
      rc = -1;
      break;
    }
    double p = 1.0;
    const float *y = mem->outputs + (size_t)(L + 1 + i) * B;
    for (int j = 0; j < B; j++) {
      in[i][j] = (char)('0' + seq[(size_t)i * B + j]);
      out[i][j] = y[j] > 0.5f ? '1' : '0';
      p *= y[j] > 0.5f ? y[j] : 1.0 - y[j];
    }
    in[i][B] = out[i][B] = '\0';
    probs[i] = (float)p;
  }
  if (rc == 0) rc = attn_tokens_set(&t->source, L, (const char *const *)in, NULL, NULL, NULL);
  if (rc == 0) rc = attn_tokens_set(&t->output, L, (const char *const *)out, NULL, probs, NULL);
  for (int i = 0; i < L && in && out; i++) free(in[i]), free(out[i]);
  free(in), free(out), free(probs);
  return rc;
}

attn_trace *attn_memory_copy_seq(const attn_memory_model *m, const unsigned char *seq, int len, attn_error *err) {
  const attn_ntm_dims *D = attn_ntm_model_dims(m->ntm);
  if (len < 1 || len > D->max_sequence) {
    attn_error_set(err, ATTN_E_ARG, "a sequence of %d vectors: the model copies 1 to %d", len, D->max_sequence);
    return NULL;
  }
  attn_trace *t = attn_trace_new(ATTN_TASK_MEMORY, m->name);
  attn_trace_memory *mem = attn_trace_memory_new(D->bits, D->locations, D->width, len);
  int T = 2 * len + 1, N = D->locations;
  float *w = malloc(2 * (size_t)T * (size_t)N * sizeof(float));
  attn_status st = t && mem && w ? ATTN_OK : attn_error_set(err, ATTN_E_NOMEM, "out of memory for %d vectors", len);
  if (st == ATTN_OK) {
    for (int i = 0; i < len; i++)
      for (int j = 0; j < D->bits; j++) mem->inputs[(size_t)i * (D->bits + 1) + j] = seq[(size_t)i * D->bits + j];
    mem->inputs[(size_t)len * (D->bits + 1) + D->bits] = 1.0f;
    attn_ntm_record rec = {mem->outputs, w, w + (size_t)T * N, mem->adds, mem->reads, mem->contents};
    st = attn_ntm_forward(m->ntm, mem->inputs, T, &rec, err);
  }
  if (st == ATTN_OK && (!attn_trace_add_map(t, "write", ATTN_MAP_OTHER, -1, -1, T, N, w) ||
                        !attn_trace_add_map(t, "read", ATTN_MAP_OTHER, -1, -1, T, N, w + (size_t)T * N) ||
                        set_tokens(t, seq, mem) != 0))
    st = attn_error_set(err, ATTN_E_NOMEM, "out of memory for the trace");
  free(w);
  if (st != ATTN_OK) {
    attn_trace_memory_free(mem);
    attn_trace_free(t);
    return NULL;
  }
  t->memory = mem;
  return t;
}

attn_trace *attn_memory_run(const attn_memory_model *m, const char *text, attn_error *err) {
  unsigned char *seq;
  int len;
  if (attn_memory_parse(text, attn_memory_bits(m), attn_memory_max_length(m), &seq, &len, err) != ATTN_OK)
    return NULL;
  attn_trace *t = attn_memory_copy_seq(m, seq, len, err);
  free(seq);
  return t;
}
