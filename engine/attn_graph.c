/* From a model directory to node predictions and per-node traces: load graph.json, keep the
 * edges editable, run the GAT over the whole graph and cut one node's attention out. */
#include "attn_graph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_gat.h"
#include "attn_model_dir.h"
#include "attn_util.h"

#define GRAPH_FILE_MAX_BYTES (256u << 20)
#define NAME_MAX_BYTES 256

struct attn_graph {
  int n, n_edges;
  int *deg, *cap;
  int **adj; /* [n] sorted neighbour ids, deg[i] each */
};

struct attn_graph_model {
  char *name, *display_name;
  attn_model_dir *dir;
  attn_gat *gat;
  int n, classes;
  char **class_names; /* [classes] */
  char **names;       /* [n], NULL when the graph names none */
  int *labels;        /* [n] */
  int *feat_ptr;      /* [n + 1] */
  int32_t *feat_idx;
  int *split[3], split_n[3]; /* train, val, test */
  attn_graph *graph;
};

struct attn_graph_result {
  int n, classes, heads, out_heads;
  int *nb_ptr;     /* [n + 1]; each list starts with the node itself */
  int32_t *nb_idx; /* [E] */
  float *logits;   /* [n, C] */
  float *conf;     /* [n] */
  int *pred;       /* [n] */
  float *alpha1;   /* [E, H] */
  float *alpha2;   /* [E, K] */
};

static const char *const split_names[3] = {"train", "val", "test"};

/* ---- editable graphs ---- */

static attn_graph *graph_new(int n) {
  attn_graph *g = calloc(1, sizeof *g);
  if (!g) return NULL;
  g->n = n;
  g->deg = calloc((size_t)n + 1, sizeof *g->deg);
  g->cap = calloc((size_t)n + 1, sizeof *g->cap);
  g->adj = calloc((size_t)n + 1, sizeof *g->adj);
  if (!g->deg || !g->cap || !g->adj) {
    attn_graph_free(g);
    return NULL;
  }
  return g;
}

void attn_graph_free(attn_graph *g) {
  if (!g) return;
  for (int i = 0; g->adj && i < g->n; i++) free(g->adj[i]);
  free(g->adj);
  free(g->deg);
  free(g->cap);
  free(g);
}

attn_graph *attn_graph_copy(const attn_graph *g) {
  attn_graph *c = graph_new(g->n);
  for (int i = 0; c && i < g->n; i++) {
    c->adj[i] = malloc((g->deg[i] > 0 ? (size_t)g->deg[i] : 1) * sizeof(int));
    if (!c->adj[i]) {
      attn_graph_free(c);
      return NULL;
    }
    if (g->deg[i] > 0) memcpy(c->adj[i], g->adj[i], (size_t)g->deg[i] * sizeof(int));
    c->deg[i] = c->cap[i] = g->deg[i];
  }
  if (c) c->n_edges = g->n_edges;
  return c;
}

int attn_graph_nodes(const attn_graph *g) { return g->n; }
int attn_graph_edges(const attn_graph *g) { return g->n_edges; }
int attn_graph_degree(const attn_graph *g, int node) { return node >= 0 && node < g->n ? g->deg[node] : 0; }
const int *attn_graph_neighbours(const attn_graph *g, int node) { return g->adj[node]; }

/* Index of b in a's sorted list, or -(insertion point) - 1. */
static int find(const attn_graph *g, int a, int b) {
  int lo = 0, hi = g->deg[a] - 1;
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2;
    if (g->adj[a][mid] == b) return mid;
    if (g->adj[a][mid] < b) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

int attn_graph_has_edge(const attn_graph *g, int a, int b) {
  return a >= 0 && b >= 0 && a < g->n && b < g->n && a != b && find(g, a, b) >= 0;
}

/* Inserts b into a's list (absent); -1 when out of memory. */
static int insert(attn_graph *g, int a, int b) {
  int at = -find(g, a, b) - 1;
  if (g->deg[a] == g->cap[a]) {
    int cap = g->cap[a] < 4 ? 4 : g->cap[a] * 2;
    int *grown = realloc(g->adj[a], (size_t)cap * sizeof *grown);
    if (!grown) return -1;
    g->adj[a] = grown, g->cap[a] = cap;
  }
  memmove(g->adj[a] + at + 1, g->adj[a] + at, (size_t)(g->deg[a] - at) * sizeof(int));
  g->adj[a][at] = b;
  g->deg[a]++;
  return 0;
}

static void erase(attn_graph *g, int a, int b) {
  int at = find(g, a, b);
  memmove(g->adj[a] + at, g->adj[a] + at + 1, (size_t)(g->deg[a] - at - 1) * sizeof(int));
  g->deg[a]--;
}

attn_status attn_graph_set_edge(attn_graph *g, int a, int b, int present, attn_error *err) {
  if (a < 0 || b < 0 || a >= g->n || b >= g->n || a == b)
    return attn_error_set(err, ATTN_E_ARG, "no edge %d-%d: nodes are 0..%d and an edge joins two of them", a, b,
                          g->n - 1);
  if (attn_graph_has_edge(g, a, b) == !!present) return ATTN_OK;
  if (!present) {
    erase(g, a, b), erase(g, b, a);
    g->n_edges--;
    return ATTN_OK;
  }
  if (g->n_edges >= ATTN_GRAPH_MAX_EDGES)
    return attn_error_set(err, ATTN_E_VALUE, "a graph holds at most %d edges", ATTN_GRAPH_MAX_EDGES);
  if (insert(g, a, b) != 0) return attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  if (insert(g, b, a) != 0) {
    erase(g, a, b);
    return attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  }
  g->n_edges++;
  return ATTN_OK;
}

/* ---- graph.json ---- */

/* An integer item in [lo, hi]; -1 if it is not one. */
static int int_item(const cJSON *v, int lo, int hi, int *out) {
  if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < lo || v->valuedouble > hi)
    return -1;
  *out = (int)v->valuedouble;
  return 0;
}

static int cmp_int32(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

static attn_status read_features(attn_graph_model *m, const cJSON *feats, int D, const char *file, attn_error *err) {
  if (!cJSON_IsArray(feats) || cJSON_GetArraySize(feats) != m->n)
    return attn_error_set(err, ATTN_E_FORMAT, "%s: \"features\" must hold one list per node (%d)", file, m->n);
  size_t total = 0;
  const cJSON *row, *v;
  cJSON_ArrayForEach(row, feats) {
    if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) > D)
      return attn_error_set(err, ATTN_E_FORMAT, "%s: a \"features\" entry is not a list of columns", file);
    total += (size_t)cJSON_GetArraySize(row);
  }
  m->feat_ptr = calloc((size_t)m->n + 1, sizeof *m->feat_ptr);
  m->feat_idx = malloc((total > 0 ? total : 1) * sizeof *m->feat_idx);
  if (!m->feat_ptr || !m->feat_idx || total > (size_t)1 << 30) return attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  int i = 0, p = 0;
  cJSON_ArrayForEach(row, feats) {
    int start = p;
    cJSON_ArrayForEach(v, row) {
      int c;
      if (int_item(v, 0, D - 1, &c) != 0)
        return attn_error_set(err, ATTN_E_VALUE, "%s: node %d has a feature column outside 0..%d", file, i, D - 1);
      m->feat_idx[p++] = c;
    }
    qsort(m->feat_idx + start, (size_t)(p - start), sizeof *m->feat_idx, cmp_int32);
    for (int k = start + 1; k < p; k++)
      if (m->feat_idx[k] == m->feat_idx[k - 1])
        return attn_error_set(err, ATTN_E_VALUE, "%s: node %d lists feature %d twice", file, i, (int)m->feat_idx[k]);
    m->feat_ptr[++i] = p;
  }
  return ATTN_OK;
}

static attn_status read_edges(attn_graph_model *m, const cJSON *edges, const char *file, attn_error *err) {
  if (!cJSON_IsArray(edges) || cJSON_GetArraySize(edges) > ATTN_GRAPH_MAX_EDGES)
    return attn_error_set(err, ATTN_E_FORMAT, "%s: \"edges\" must be a list of at most %d pairs", file,
                          ATTN_GRAPH_MAX_EDGES);
  if (!(m->graph = graph_new(m->n))) return attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  int k = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, edges) {
    int a, b;
    if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2 || int_item(cJSON_GetArrayItem(e, 0), 0, m->n - 1, &a) ||
        int_item(cJSON_GetArrayItem(e, 1), 0, m->n - 1, &b) || a == b)
      return attn_error_set(err, ATTN_E_VALUE, "%s: edge %d is not a pair of two node ids in 0..%d", file, k,
                            m->n - 1);
    attn_status st = attn_graph_set_edge(m->graph, a, b, 1, err);
    if (st != ATTN_OK) return st;
    k++;
  }
  return ATTN_OK;
}

static attn_status read_names(attn_graph_model *m, const cJSON *names, const char *file, attn_error *err) {
  if (!names) return ATTN_OK;
  if (!cJSON_IsArray(names) || cJSON_GetArraySize(names) != m->n)
    return attn_error_set(err, ATTN_E_FORMAT, "%s: \"names\" must hold one string per node", file);
  if (!(m->names = calloc((size_t)m->n, sizeof *m->names))) return attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  int i = 0;
  const cJSON *v;
  cJSON_ArrayForEach(v, names) {
    if (!cJSON_IsString(v) || strlen(v->valuestring) > NAME_MAX_BYTES ||
        !attn_utf8_valid(v->valuestring, strlen(v->valuestring)))
      return attn_error_set(err, ATTN_E_VALUE, "%s: the name of node %d is not a short UTF-8 string", file, i);
    if (!(m->names[i++] = attn_strdup(v->valuestring))) return attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  }
  return ATTN_OK;
}

/* labels (optional: all -1) and the split lists (optional). */
static attn_status read_labels(attn_graph_model *m, const cJSON *root, const char *file, attn_error *err) {
  const cJSON *labels = cJSON_GetObjectItemCaseSensitive(root, "labels");
  const cJSON *split = cJSON_GetObjectItemCaseSensitive(root, "split"), *v;
  if (!(m->labels = malloc((size_t)m->n * sizeof *m->labels))) return attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  for (int i = 0; i < m->n; i++) m->labels[i] = -1;
  if (labels && (!cJSON_IsArray(labels) || cJSON_GetArraySize(labels) != m->n))
    return attn_error_set(err, ATTN_E_FORMAT, "%s: \"labels\" must hold one class per node", file);
  int i = 0;
  cJSON_ArrayForEach(v, labels)
    if (int_item(v, -1, m->classes - 1, &m->labels[i++]) != 0)
      return attn_error_set(err, ATTN_E_VALUE, "%s: label of node %d is not -1 or a class 0..%d", file, i - 1,
                            m->classes - 1);
  for (int s = 0; s < 3; s++) {
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(split, split_names[s]);
    if (!list) continue;
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > m->n)
      return attn_error_set(err, ATTN_E_FORMAT, "%s: \"split.%s\" is not a list of node ids", file, split_names[s]);
    if (!(m->split[s] = malloc(((size_t)cJSON_GetArraySize(list) + 1) * sizeof(int))))
      return attn_error_set(err, ATTN_E_NOMEM, "out of memory");
    cJSON_ArrayForEach(v, list)
      if (int_item(v, 0, m->n - 1, &m->split[s][m->split_n[s]++]) != 0)
        return attn_error_set(err, ATTN_E_VALUE, "%s: \"split.%s\" holds a bad node id", file, split_names[s]);
  }
  return ATTN_OK;
}

static attn_status read_graph(attn_graph_model *m, const char *path, attn_error *err) {
  size_t len = 0;
  char *text = attn_read_text_file(path, GRAPH_FILE_MAX_BYTES, &len, err);
  if (!text) return err ? err->code : ATTN_E_IO;
  cJSON *root = cJSON_ParseWithLength(text, len);
  free(text);
  const char *file = attn_path_base(path);
  int D = attn_gat_model_dims(m->gat)->in_features, count = 0;
  attn_status st = ATTN_OK;
  if (!cJSON_IsObject(root)) st = attn_error_set(err, ATTN_E_FORMAT, "%s: not a JSON object", file);
  else if (int_item(cJSON_GetObjectItemCaseSensitive(root, "nodes"), 1, ATTN_GRAPH_MAX_NODES, &m->n) != 0)
    st = attn_error_set(err, ATTN_E_VALUE, "%s: \"nodes\" must be a count in 1..%d", file, ATTN_GRAPH_MAX_NODES);
  else if (int_item(cJSON_GetObjectItemCaseSensitive(root, "feature_count"), D, D, &count) != 0)
    st = attn_error_set(err, ATTN_E_SHAPE, "%s: \"feature_count\" must equal the model's in_features (%d)", file, D);
  if (st == ATTN_OK) st = read_features(m, cJSON_GetObjectItemCaseSensitive(root, "features"), D, file, err);
  if (st == ATTN_OK) st = read_edges(m, cJSON_GetObjectItemCaseSensitive(root, "edges"), file, err);
  if (st == ATTN_OK) st = read_names(m, cJSON_GetObjectItemCaseSensitive(root, "names"), file, err);
  if (st == ATTN_OK) st = read_labels(m, root, file, err);
  cJSON_Delete(root);
  return st;
}

/* ---- the model ---- */

static attn_status read_classes(attn_graph_model *m, const cJSON *cfg, attn_error *err) {
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cfg, "attnlens"), "classes");
  m->classes = attn_gat_model_dims(m->gat)->classes;
  if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != m->classes)
    return attn_error_set(err, ATTN_E_MISSING, "config.json: \"attnlens.classes\" must name the %d classes",
                          m->classes);
  if (!(m->class_names = calloc((size_t)m->classes, sizeof(char *))))
    return attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  int c = 0;
  const cJSON *v;
  cJSON_ArrayForEach(v, arr) {
    if (!cJSON_IsString(v) || strlen(v->valuestring) > NAME_MAX_BYTES ||
        !attn_utf8_valid(v->valuestring, strlen(v->valuestring)))
      return attn_error_set(err, ATTN_E_VALUE, "config.json: class name %d is not a short UTF-8 string", c);
    if (!(m->class_names[c++] = attn_strdup(v->valuestring))) return attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  }
  return ATTN_OK;
}

static attn_status check_task(const attn_model_dir *dir, attn_error *err) {
  const char *arch = attn_model_dir_architecture(dir), *task = NULL;
  attn_status st = attn_config_string(attn_model_dir_config(dir), "attnlens.task", NULL, &task, err);
  if (st != ATTN_OK) return st;
  if (!arch || (strcmp(arch, "GAT") != 0 && strcmp(arch, "gat") != 0) || strcmp(task, "graph") != 0)
    return attn_error_set(err, ATTN_E_VALUE, "%s: not a graph attention model (architecture \"%s\", task \"%s\")",
                          attn_model_dir_path(dir), arch ? arch : "", task);
  return ATTN_OK;
}

static attn_status load_parts(attn_graph_model *m, const char *path, attn_error *err) {
  if (!(m->dir = attn_model_dir_open(path, err))) return err ? err->code : ATTN_E_IO;
  const cJSON *cfg = attn_model_dir_config(m->dir);
  const char *graph_file = NULL;
  attn_status st = check_task(m->dir, err);
  if (st == ATTN_OK && !(m->gat = attn_gat_load(m->dir, err))) st = err ? err->code : ATTN_E_FORMAT;
  if (st == ATTN_OK) st = read_classes(m, cfg, err);
  if (st == ATTN_OK) st = attn_config_string(cfg, "attnlens.graph", "graph.json", &graph_file, err);
  char *file = st == ATTN_OK ? attn_model_dir_file(m->dir, graph_file, err) : NULL;
  if (st == ATTN_OK && !file) st = err ? err->code : ATTN_E_MISSING;
  if (st == ATTN_OK) st = read_graph(m, file, err);
  free(file);
  if (st == ATTN_OK && (!(m->name = attn_strdup(attn_path_base(path))) ||
                        !(m->display_name = attn_strdup(attn_model_dir_display_name(m->dir)))))
    st = attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  return st;
}

attn_graph_model *attn_graph_model_load(const char *path, attn_error *err) {
  attn_graph_model *m = calloc(1, sizeof *m);
  if (!m) {
    attn_error_set(err, ATTN_E_NOMEM, "out of memory");
    return NULL;
  }
  if (load_parts(m, path, err) != ATTN_OK) {
    attn_graph_model_free(m);
    return NULL;
  }
  return m;
}

void attn_graph_model_free(attn_graph_model *m) {
  if (!m) return;
  for (int c = 0; m->class_names && c < m->classes; c++) free(m->class_names[c]);
  for (int i = 0; m->names && i < m->n; i++) free(m->names[i]);
  free(m->class_names);
  free(m->names);
  free(m->labels);
  free(m->feat_ptr);
  free(m->feat_idx);
  for (int s = 0; s < 3; s++) free(m->split[s]);
  attn_graph_free(m->graph);
  attn_gat_free(m->gat);
  attn_model_dir_close(m->dir);
  free(m->name);
  free(m->display_name);
  free(m);
}

const char *attn_graph_model_name(const attn_graph_model *m) { return m->name; }
const char *attn_graph_model_display_name(const attn_graph_model *m) { return m->display_name; }
int attn_graph_model_nodes(const attn_graph_model *m) { return m->n; }
int attn_graph_model_classes(const attn_graph_model *m) { return m->classes; }
int attn_graph_model_heads(const attn_graph_model *m) { return attn_gat_model_dims(m->gat)->heads; }
const attn_graph *attn_graph_model_graph(const attn_graph_model *m) { return m->graph; }

const char *attn_graph_model_class_name(const attn_graph_model *m, int c) {
  return c >= 0 && c < m->classes ? m->class_names[c] : "?";
}

const char *attn_graph_model_node_name(const attn_graph_model *m, int node) {
  return m->names && node >= 0 && node < m->n ? m->names[node] : NULL;
}

int attn_graph_model_label(const attn_graph_model *m, int node) {
  return node >= 0 && node < m->n ? m->labels[node] : -1;
}

const int *attn_graph_model_split(const attn_graph_model *m, const char *split, int *n) {
  for (int s = 0; s < 3; s++)
    if (split && strcmp(split, split_names[s]) == 0) {
      *n = m->split_n[s];
      return m->split[s];
    }
  *n = 0;
  return NULL;
}

int attn_graph_model_check_node(const attn_graph_model *m, int node, attn_error *err) {
  if (node >= 0 && node < m->n) return 1;
  attn_error_set(err, ATTN_E_ARG, "unknown node %d: %s has nodes 0..%d", node, m->name, m->n - 1);
  return 0;
}

/* ---- running ---- */

void attn_graph_result_free(attn_graph_result *r) {
  if (!r) return;
  free(r->nb_ptr);
  free(r->nb_idx);
  free(r->logits);
  free(r->conf);
  free(r->pred);
  free(r->alpha1);
  free(r->alpha2);
  free(r);
}

/* Neighbour lists with the node itself first (the order of training/gat.py). */
static int build_lists(attn_graph_result *r, const attn_graph *g) {
  size_t E = (size_t)g->n + 2 * (size_t)g->n_edges;
  r->nb_ptr = malloc(((size_t)g->n + 1) * sizeof *r->nb_ptr);
  r->nb_idx = malloc(E * sizeof *r->nb_idx);
  if (!r->nb_ptr || !r->nb_idx) return -1;
  int p = 0;
  for (int i = 0; i < g->n; i++) {
    r->nb_ptr[i] = p;
    r->nb_idx[p++] = i;
    for (int k = 0; k < g->deg[i]; k++) r->nb_idx[p++] = g->adj[i][k];
  }
  r->nb_ptr[g->n] = p;
  return 0;
}

/* Softmax of each node's logits: its predicted class and that class's probability. */
static void predict(attn_graph_result *r) {
  for (int i = 0; i < r->n; i++) {
    const float *z = r->logits + (size_t)i * r->classes;
    int best = 0;
    for (int c = 1; c < r->classes; c++) best = z[c] > z[best] ? c : best;
    double sum = 0.0;
    for (int c = 0; c < r->classes; c++) sum += exp((double)z[c] - z[best]);
    r->pred[i] = best;
    r->conf[i] = (float)(1.0 / sum);
  }
}

attn_graph_result *attn_graph_run(const attn_graph_model *m, const attn_graph *g, attn_error *err) {
  const attn_gat_dims *D = attn_gat_model_dims(m->gat);
  g = g ? g : m->graph;
  if (g->n != m->n) {
    attn_error_set(err, ATTN_E_ARG, "the graph has %d nodes, the model's %d", g->n, m->n);
    return NULL;
  }
  attn_graph_result *r = calloc(1, sizeof *r);
  int ok = r && build_lists(r, g) == 0;
  if (ok) {
    size_t E = (size_t)r->nb_ptr[g->n];
    r->n = g->n, r->classes = D->classes, r->heads = D->heads, r->out_heads = D->out_heads;
    r->logits = attn_alloc_floats((size_t)g->n * D->classes, &ok);
    r->conf = attn_alloc_floats((size_t)g->n, &ok);
    r->alpha1 = attn_alloc_floats(E * D->heads, &ok);
    r->alpha2 = attn_alloc_floats(E * D->out_heads, &ok);
    r->pred = calloc((size_t)g->n, sizeof *r->pred);
    ok = ok && r->pred;
  }
  if (!ok) {
    attn_error_set(err, ATTN_E_NOMEM, "out of memory for a graph of %d nodes", g->n);
    attn_graph_result_free(r);
    return NULL;
  }
  attn_gat_graph gg = {g->n, m->feat_ptr, m->feat_idx, r->nb_ptr, r->nb_idx};
  if (attn_gat_forward(m->gat, &gg, r->logits, r->alpha1, r->alpha2, err) != ATTN_OK) {
    attn_graph_result_free(r);
    return NULL;
  }
  predict(r);
  return r;
}

int attn_graph_result_predicted(const attn_graph_result *r, int node) { return r->pred[node]; }
float attn_graph_result_confidence(const attn_graph_result *r, int node) { return r->conf[node]; }
const float *attn_graph_result_logits(const attn_graph_result *r, int node) {
  return r->logits + (size_t)node * r->classes;
}

/* ---- the trace of one node ---- */

static void node_label(const attn_graph_model *m, int node, char *buf, size_t size) {
  const char *name = attn_graph_model_node_name(m, node);
  if (name) snprintf(buf, size, "%s", name);
  else snprintf(buf, size, "%d", node);
}

/* Map k of layer `layer` (heads H, alpha [E, H]) over node's list: head k, or the mean (k = -1). */
static int add_layer_map(attn_trace *t, const attn_graph_result *r, int node, int layer, int k) {
  int H = layer == 1 ? r->heads : r->out_heads, b = r->nb_ptr[node], cols = r->nb_ptr[node + 1] - b;
  const float *alpha = layer == 1 ? r->alpha1 : r->alpha2;
  char name[64];
  if (k >= 0 && H > 1) snprintf(name, sizeof name, "layer %d head %d", layer, k + 1);
  else snprintf(name, sizeof name, k >= 0 ? "layer %d" : "layer %d mean", layer);
  attn_map *mp = attn_trace_add_map(t, name, ATTN_MAP_CROSS, layer, k >= 0 && H > 1 ? k + 1 : -1, 1, cols, NULL);
  if (!mp) return -1;
  for (int c = 0; c < cols; c++) {
    float s = 0.0f;
    for (int h = 0; h < H; h++) s += k < 0 || k == h ? alpha[(size_t)(b + c) * H + h] : 0.0f;
    mp->weights[c] = k < 0 ? s / (float)H : s;
  }
  return 0;
}

static int add_maps(attn_trace *t, const attn_graph_result *r, int node) {
  int rc = add_layer_map(t, r, node, 1, -1);
  for (int h = 0; rc == 0 && h < r->heads; h++) rc = add_layer_map(t, r, node, 1, h);
  for (int h = 0; rc == 0 && h < r->out_heads; h++) rc = add_layer_map(t, r, node, 2, h);
  if (rc == 0 && r->out_heads > 1) rc = add_layer_map(t, r, node, 2, -1);
  return rc;
}

/* The nodes shown: node's list, then (small graphs) every other node; local[id] = index or -1. */
static int pick_nodes(const attn_graph_result *r, int node, int *ids, int *local) {
  int n = 0;
  for (int i = 0; i < r->n; i++) local[i] = -1;
  for (int e = r->nb_ptr[node]; e < r->nb_ptr[node + 1]; e++) local[r->nb_idx[e]] = n, ids[n++] = r->nb_idx[e];
  for (int i = 0; r->n <= ATTN_GRAPH_WHOLE_MAX && i < r->n; i++)
    if (local[i] < 0) local[i] = n, ids[n++] = i;
  return n;
}

/* Edges among the nodes shown (pass edges NULL to count them). */
static int shown_edges(const attn_graph *g, const int *ids, int n, const int *local, int *edges) {
  int k = 0;
  for (int a = 0; a < n; a++)
    for (int j = 0; j < g->deg[ids[a]]; j++) {
      int b = local[g->adj[ids[a]][j]];
      if (b > a) {
        if (edges) edges[2 * k] = a, edges[2 * k + 1] = b;
        k++;
      }
    }
  return k;
}

static int fill_graph(attn_trace *t, const attn_graph_model *m, const attn_graph *g, const attn_graph_result *r,
                      int node, int *ids, int *local) {
  int n = pick_nodes(r, node, ids, local), cols = r->nb_ptr[node + 1] - r->nb_ptr[node];
  attn_trace_graph *tg = attn_trace_graph_new(n, cols, shown_edges(g, ids, n, local, NULL), m->classes);
  if (!(t->graph = tg)) return -1;
  tg->node = node;
  shown_edges(g, ids, n, local, tg->edges);
  char name[NAME_MAX_BYTES + 16];
  for (int i = 0; i < n; i++) {
    tg->ids[i] = ids[i];
    tg->predicted[i] = r->pred[ids[i]];
    tg->confidence[i] = r->conf[ids[i]];
    tg->labels[i] = m->labels[ids[i]];
    node_label(m, ids[i], name, sizeof name);
    free(tg->names[i]);
    if (!(tg->names[i] = attn_strdup(name))) return -1;
  }
  for (int c = 0; c < m->classes; c++) {
    free(tg->classes[c]);
    if (!(tg->classes[c] = attn_strdup(m->class_names[c]))) return -1;
  }
  return attn_tokens_set(&t->source, cols, (const char *const *)tg->names, NULL, NULL, NULL);
}

attn_trace *attn_graph_trace(const attn_graph_model *m, const attn_graph *g, const attn_graph_result *r, int node,
                             attn_error *err) {
  g = g ? g : m->graph;
  if (!attn_graph_model_check_node(m, node, err)) return NULL;
  if (r->n != g->n || r->nb_ptr[g->n] != g->n + 2 * g->n_edges) {
    attn_error_set(err, ATTN_E_ARG, "the result was computed on another graph");
    return NULL;
  }
  attn_trace *t = attn_trace_new(ATTN_TASK_GRAPH, m->name);
  int *ids = malloc((size_t)r->n * sizeof *ids), *local = malloc((size_t)r->n * sizeof *local);
  const char *cls = m->class_names[r->pred[node]];
  int rc = !t || !ids || !local ? -1 : fill_graph(t, m, g, r, node, ids, local);
  if (rc == 0) rc = attn_tokens_set(&t->output, 1, &cls, NULL, &r->conf[node], cls);
  if (rc == 0) rc = add_maps(t, r, node);
  free(ids);
  free(local);
  if (rc != 0) {
    attn_error_set(err, ATTN_E_NOMEM, "out of memory");
    attn_trace_free(t);
    return NULL;
  }
  t->score = log(r->conf[node] > 0.0f ? r->conf[node] : 1e-30f);
  return t;
}

attn_trace *attn_graph_query(const attn_graph_model *m, const attn_graph *g, int node, attn_error *err) {
  if (!attn_graph_model_check_node(m, node, err)) return NULL;
  attn_graph_result *r = attn_graph_run(m, g, err);
  attn_trace *t = r ? attn_graph_trace(m, g, r, node, err) : NULL;
  attn_graph_result_free(r);
  return t;
}
