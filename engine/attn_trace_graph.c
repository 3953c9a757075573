/* The graph section of a trace (task "graph"): building, copying, validating, and its
 * JSON form, the "graph" object of trace version 1:
 *   "graph": {"node": ID, "columns": K, "classes": [names],
 *             "nodes": [{"id", "name", "predicted", "confidence", "label"}],
 *             "edges": [[i, j], ...]}   (indices into "nodes") */
#include "attn_trace_graph.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attn_util.h"

#define GRAPH_MAX_NODES 100000
#define GRAPH_MAX_EDGES 1000000
#define GRAPH_MAX_CLASSES 1000

static char **empty_strings(int n) {
  char **s = calloc(n > 0 ? (size_t)n : 1, sizeof *s);
  for (int i = 0; s && i < n; i++)
    if (!(s[i] = attn_strdup(""))) {
      for (int k = 0; k < i; k++) free(s[k]);
      free(s);
      return NULL;
    }
  return s;
}

attn_trace_graph *attn_trace_graph_new(int n_nodes, int n_cols, int n_edges, int n_classes) {
  if (n_nodes < 0 || n_cols < 0 || n_cols > n_nodes || n_edges < 0 || n_classes < 0 ||
      n_nodes > GRAPH_MAX_NODES || n_edges > GRAPH_MAX_EDGES || n_classes > GRAPH_MAX_CLASSES)
    return NULL;
  attn_trace_graph *g = calloc(1, sizeof *g);
  if (!g) return NULL;
  size_t n = n_nodes > 0 ? (size_t)n_nodes : 1;
  g->n_nodes = n_nodes, g->n_cols = n_cols, g->n_edges = n_edges, g->n_classes = n_classes;
  g->ids = calloc(n, sizeof *g->ids);
  g->predicted = calloc(n, sizeof *g->predicted);
  g->labels = calloc(n, sizeof *g->labels);
  g->confidence = calloc(n, sizeof *g->confidence);
  g->edges = calloc(n_edges > 0 ? 2 * (size_t)n_edges : 1, sizeof *g->edges);
  g->names = empty_strings(n_nodes);
  g->classes = empty_strings(n_classes);
  if (!g->ids || !g->predicted || !g->labels || !g->confidence || !g->edges || !g->names || !g->classes) {
    attn_trace_graph_free(g);
    return NULL;
  }
  return g;
}

void attn_trace_graph_free(attn_trace_graph *g) {
  if (!g) return;
  for (int i = 0; g->names && i < g->n_nodes; i++) free(g->names[i]);
  for (int i = 0; g->classes && i < g->n_classes; i++) free(g->classes[i]);
  free(g->names);
  free(g->classes);
  free(g->ids);
  free(g->predicted);
  free(g->labels);
  free(g->confidence);
  free(g->edges);
  free(g);
}

/* Replaces *dst with a copy of src; -1 when out of memory. */
static int set_string(char **dst, const char *src) {
  char *c = attn_strdup(src ? src : "");
  if (!c) return -1;
  free(*dst);
  *dst = c;
  return 0;
}

attn_trace_graph *attn_trace_graph_copy(const attn_trace_graph *g) {
  attn_trace_graph *c = attn_trace_graph_new(g->n_nodes, g->n_cols, g->n_edges, g->n_classes);
  if (!c) return NULL;
  c->node = g->node;
  size_t n = (size_t)g->n_nodes;
  memcpy(c->ids, g->ids, n * sizeof *c->ids);
  memcpy(c->predicted, g->predicted, n * sizeof *c->predicted);
  memcpy(c->labels, g->labels, n * sizeof *c->labels);
  memcpy(c->confidence, g->confidence, n * sizeof *c->confidence);
  memcpy(c->edges, g->edges, 2 * (size_t)g->n_edges * sizeof *c->edges);
  int rc = 0;
  for (int i = 0; rc == 0 && i < g->n_nodes; i++) rc = set_string(&c->names[i], g->names[i]);
  for (int i = 0; rc == 0 && i < g->n_classes; i++) rc = set_string(&c->classes[i], g->classes[i]);
  if (rc != 0) {
    attn_trace_graph_free(c);
    return NULL;
  }
  return c;
}

attn_status attn_trace_graph_validate(const attn_trace *t, attn_error *err) {
  const attn_trace_graph *g = t->graph;
  if (!g) return attn_error_set(err, ATTN_E_MISSING, "graph trace without a graph section");
  if (g->n_cols < 1 || g->n_cols != t->source.n)
    return attn_error_set(err, ATTN_E_SHAPE, "graph: %d map columns, but %d source tokens", g->n_cols,
                          t->source.n);
  if (g->n_classes < 1) return attn_error_set(err, ATTN_E_VALUE, "graph: no classes");
  if (g->ids[0] != g->node)
    return attn_error_set(err, ATTN_E_VALUE, "graph: the first node is not the query node %d", g->node);
  for (int i = 0; i < g->n_nodes; i++) {
    if (g->predicted[i] < 0 || g->predicted[i] >= g->n_classes || g->labels[i] < -1 ||
        g->labels[i] >= g->n_classes || !(g->confidence[i] >= 0.0f && g->confidence[i] <= 1.0f + 1e-6f))
      return attn_error_set(err, ATTN_E_VALUE, "graph: node %d has a class or confidence out of range", i);
    if (!attn_utf8_valid(g->names[i], strlen(g->names[i])))
      return attn_error_set(err, ATTN_E_VALUE, "graph: the name of node %d is not valid UTF-8", i);
  }
  for (int c = 0; c < g->n_classes; c++)
    if (!attn_utf8_valid(g->classes[c], strlen(g->classes[c])))
      return attn_error_set(err, ATTN_E_VALUE, "graph: class name %d is not valid UTF-8", c);
  for (int e = 0; e < 2 * g->n_edges; e++)
    if (g->edges[e] < 0 || g->edges[e] >= g->n_nodes)
      return attn_error_set(err, ATTN_E_VALUE, "graph: edge %d names a node out of range", e / 2);
  return ATTN_OK;
}

/* ---- JSON ---- */

cJSON *attn_trace_graph_to_json(const attn_trace_graph *g) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON_AddNumberToObject(o, "node", g->node);
  cJSON_AddNumberToObject(o, "columns", g->n_cols);
  cJSON *classes = cJSON_AddArrayToObject(o, "classes");
  for (int c = 0; c < g->n_classes; c++) cJSON_AddItemToArray(classes, cJSON_CreateString(g->classes[c]));
  cJSON *nodes = cJSON_AddArrayToObject(o, "nodes");
  for (int i = 0; i < g->n_nodes; i++) {
    cJSON *n = cJSON_CreateObject();
    cJSON_AddNumberToObject(n, "id", g->ids[i]);
    cJSON_AddStringToObject(n, "name", g->names[i]);
    cJSON_AddNumberToObject(n, "predicted", g->predicted[i]);
    cJSON_AddItemToObject(n, "confidence", cJSON_CreateNumber(roundf(g->confidence[i] * 1e6f) / 1e6));
    cJSON_AddNumberToObject(n, "label", g->labels[i]);
    cJSON_AddItemToArray(nodes, n);
  }
  cJSON *edges = cJSON_AddArrayToObject(o, "edges");
  for (int e = 0; e < g->n_edges; e++) cJSON_AddItemToArray(edges, cJSON_CreateIntArray(g->edges + 2 * e, 2));
  return o;
}

/* An integer member of o in [lo, hi], or -1 with err set; absent gives dflt (INT_MIN: required). */
static int json_int(const cJSON *o, const char *key, int lo, int hi, int dflt, int *out, attn_error *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!v && dflt != -2147483647 - 1) {
    *out = dflt;
    return 0;
  }
  if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < lo || v->valuedouble > hi) {
    attn_error_set(err, ATTN_E_VALUE, "graph: \"%s\" is missing or not an integer in [%d, %d]", key, lo, hi);
    return -1;
  }
  *out = (int)v->valuedouble;
  return 0;
}

static int json_string(const cJSON *v, const char *what, char **dst, attn_error *err) {
  if (!cJSON_IsString(v) || !attn_utf8_valid(v->valuestring, strlen(v->valuestring))) {
    attn_error_set(err, ATTN_E_FORMAT, "graph: %s is not a UTF-8 string", what);
    return -1;
  }
  if (set_string(dst, v->valuestring) == 0) return 0;
  attn_error_set(err, ATTN_E_NOMEM, "graph: out of memory");
  return -1;
}

static int read_node(const cJSON *n, attn_trace_graph *g, int i, attn_error *err) {
  const cJSON *conf = cJSON_GetObjectItemCaseSensitive(n, "confidence");
  if (!cJSON_IsObject(n) || json_int(n, "id", 0, 1 << 30, -2147483647 - 1, &g->ids[i], err) ||
      json_int(n, "predicted", 0, g->n_classes - 1, -2147483647 - 1, &g->predicted[i], err) ||
      json_int(n, "label", -1, g->n_classes - 1, -1, &g->labels[i], err))
    return -1;
  if (!cJSON_IsNumber(conf) || !(conf->valuedouble >= 0.0 && conf->valuedouble <= 1.0)) {
    attn_error_set(err, ATTN_E_VALUE, "graph: node %d has no \"confidence\" in [0, 1]", i);
    return -1;
  }
  g->confidence[i] = (float)conf->valuedouble;
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(n, "name");
  return name ? json_string(name, "a node name", &g->names[i], err) : 0;
}

static int read_edge(const cJSON *e, attn_trace_graph *g, int k, attn_error *err) {
  const cJSON *a = cJSON_GetArrayItem(e, 0), *b = cJSON_GetArrayItem(e, 1);
  if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2 || !cJSON_IsNumber(a) || !cJSON_IsNumber(b) ||
      a->valuedouble != floor(a->valuedouble) || b->valuedouble != floor(b->valuedouble) || a->valuedouble < 0 ||
      b->valuedouble < 0 || a->valuedouble >= g->n_nodes || b->valuedouble >= g->n_nodes) {
    attn_error_set(err, ATTN_E_VALUE, "graph: edge %d is not a pair of node indices", k);
    return -1;
  }
  g->edges[2 * k] = (int)a->valuedouble, g->edges[2 * k + 1] = (int)b->valuedouble;
  return 0;
}

static int read_lists(const cJSON *o, attn_trace_graph *g, attn_error *err) {
  int i = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, "classes"))
    if (json_string(it, "a class name", &g->classes[i++], err)) return -1;
  i = 0;
  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, "nodes"))
    if (read_node(it, g, i++, err)) return -1;
  i = 0;
  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, "edges"))
    if (read_edge(it, g, i++, err)) return -1;
  return 0;
}

attn_status attn_trace_graph_from_json(const cJSON *o, attn_trace *t, attn_error *err) {
  const cJSON *classes = cJSON_GetObjectItemCaseSensitive(o, "classes");
  const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(o, "nodes");
  const cJSON *edges = cJSON_GetObjectItemCaseSensitive(o, "edges");
  if (!cJSON_IsObject(o) || !cJSON_IsArray(classes) || !cJSON_IsArray(nodes) || !cJSON_IsArray(edges))
    return attn_error_set(err, ATTN_E_MISSING, "graph trace without \"graph\" {classes, nodes, edges}");
  int node = 0, cols = 0, n = cJSON_GetArraySize(nodes);
  if (json_int(o, "node", 0, 1 << 30, -2147483647 - 1, &node, err) ||
      json_int(o, "columns", 1, n, -2147483647 - 1, &cols, err))
    return err ? err->code : ATTN_E_VALUE;
  attn_trace_graph *g = attn_trace_graph_new(n, cols, cJSON_GetArraySize(edges), cJSON_GetArraySize(classes));
  if (!g) return attn_error_set(err, ATTN_E_VALUE, "graph: too many nodes, edges or classes (or out of memory)");
  g->node = node;
  if (read_lists(o, g, err) != 0) {
    attn_trace_graph_free(g);
    return err ? err->code : ATTN_E_VALUE;
  }
  attn_trace_graph_free(t->graph);
  t->graph = g;
  return ATTN_OK;
}
