/* The C GAT and the graph API against the PyTorch twin (golden files written by
 * training/golden_gat.py): logits and attention rows, edited graphs, the shipped models'
 * predictions and accuracy; then the trace's graph section in JSON, and bad input. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "attn_graph.h"
#include "attn_trace_json.h"
#include "golden.h"

static attn_graph_model *load(const char *path) {
  attn_error err = {0};
  attn_graph_model *m = attn_graph_model_load(path, &err);
  if (!m) g_test_message("%s: %s", path, err.message);
  g_assert_nonnull(m);
  return m;
}

static cJSON *load_json(const char *path) {
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  cJSON *j = cJSON_Parse(text);
  g_assert_nonnull(j);
  return j;
}

static double check_maps(const attn_trace *t, const cJSON *maps) {
  double worst = 0;
  const cJSON *mp;
  g_assert_cmpint(t->n_maps, ==, cJSON_GetArraySize(maps));
  cJSON_ArrayForEach(mp, maps) {
    int k = attn_trace_find_map(t, cJSON_GetObjectItem(mp, "name")->valuestring);
    g_assert_cmpint(k, >=, 0);
    g_assert_cmpint(t->maps[k].layer, ==, cJSON_GetObjectItem(mp, "layer")->valueint);
    g_assert_cmpint(t->maps[k].head, ==, cJSON_GetObjectItem(mp, "head")->valueint);
    GArray *w = golden_floats(mp, "weights");
    g_assert_cmpint(t->maps[k].rows * t->maps[k].cols, ==, (int)w->len);
    worst = fmax(worst, golden_assert_close("map", t->maps[k].weights, w));
    g_array_unref(w);
  }
  return worst;
}

/* One golden case: edits applied to a copy of the graph, then logits, maps and predictions. */
static double check_case(const attn_graph_model *m, const cJSON *c, int *near_ties) {
  attn_error err = {0};
  attn_graph *g = attn_graph_copy(attn_graph_model_graph(m));
  const cJSON *e, *it;
  cJSON_ArrayForEach(e, cJSON_GetObjectItem(c, "edits"))
    g_assert_cmpint(attn_graph_set_edge(g, cJSON_GetArrayItem(e, 0)->valueint, cJSON_GetArrayItem(e, 1)->valueint,
                                        cJSON_GetArrayItem(e, 2)->valueint, &err), ==, ATTN_OK);
  attn_graph_result *r = attn_graph_run(m, g, &err);
  g_assert_nonnull(r);
  double worst = 0;
  cJSON_ArrayForEach(it, cJSON_GetObjectItem(c, "logits")) {
    int node = atoi(it->string), n = attn_graph_model_classes(m);
    GArray *want = golden_floats(c, "logits"), *row = g_array_new(FALSE, FALSE, sizeof(float));
    for (int k = 0; k < n; k++) {
      float v = (float)cJSON_GetArrayItem(it, k)->valuedouble;
      g_array_append_val(row, v);
    }
    worst = fmax(worst, golden_assert_close("logits", attn_graph_result_logits(r, node), row));
    g_array_unref(row), g_array_unref(want);
    attn_trace *t = attn_graph_trace(m, g, r, node, &err);
    g_assert_nonnull(t);
    g_assert_cmpint(attn_trace_validate(t, &err), ==, ATTN_OK);
    g_assert_cmpint(t->graph->n_cols, ==, 1 + attn_graph_degree(g, node));
    worst = fmax(worst, check_maps(t, cJSON_GetObjectItem(cJSON_GetObjectItem(c, "maps"), it->string)));
    attn_trace_free(t);
  }
  int i = 0, mismatches = 0;
  const cJSON *ties = cJSON_GetObjectItem(c, "near_tie");
  cJSON_ArrayForEach(it, cJSON_GetObjectItem(c, "predicted")) {
    if (attn_graph_result_predicted(r, i) != it->valueint) {
      gboolean tie = FALSE;
      const cJSON *t;
      cJSON_ArrayForEach(t, ties) tie = tie || t->valueint == i;
      g_assert_true(tie);
      mismatches++;
    }
    i++;
  }
  *near_ties += mismatches;
  attn_graph_result_free(r);
  attn_graph_free(g);
  return worst;
}

static void check_golden(const char *model_dir, const char *golden_path, double min_accuracy) {
  attn_graph_model *m = load(model_dir);
  cJSON *golden = load_json(golden_path);
  const cJSON *c;
  double worst = 0;
  int near_ties = 0, cases = 0;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(golden, "cases")) worst = fmax(worst, check_case(m, c, &near_ties)), cases++;
  const cJSON *acc = cJSON_GetObjectItem(golden, "test_accuracy");
  if (acc) { /* the C engine's own accuracy on the test split, against the twin's and the floor */
    attn_error err = {0};
    attn_graph_result *r = attn_graph_run(m, NULL, &err);
    int n = 0, right = 0;
    const int *test = attn_graph_model_split(m, "test", &n);
    for (int i = 0; i < n; i++) right += attn_graph_result_predicted(r, test[i]) == attn_graph_model_label(m, test[i]);
    g_test_message("%s: test accuracy %.2f%% on %d nodes (twin %.2f%%)", model_dir, 100.0 * right / n, n,
                   100.0 * acc->valuedouble);
    g_assert_cmpfloat(fabs((double)right / n - acc->valuedouble), <=, (double)near_ties / n + 1e-6);
    g_assert_cmpfloat((double)right / n, >=, min_accuracy);
    attn_graph_result_free(r);
  }
  g_test_message("%d cases, max abs diff %.3g, %d near ties", cases, worst, near_ties);
  cJSON_Delete(golden);
  attn_graph_model_free(m);
}

static void test_tiny(void) {
  g_autofree char *dir = golden_fixture_path("gat-tiny", NULL), *golden = golden_fixture_path("gat-tiny", "golden.json");
  check_golden(dir, golden, 0.0);
}

static void test_shipped(gconstpointer name) {
  g_autofree char *dir = golden_shipped_path(name), *golden = golden_fixture_path(name, "golden.json");
  if (!g_file_test(golden, G_FILE_TEST_EXISTS) || !g_file_test(dir, G_FILE_TEST_IS_DIR)) {
    g_test_skip("no shipped model or golden file");
    return;
  }
  check_golden(dir, golden, strcmp(name, "gat-cora") == 0 ? 0.81 : 0.8);
}

/* A node's trace: columns are the node then its neighbours; the karate club shows every node. */
static void test_trace(void) {
  g_autofree char *dir = golden_fixture_path("gat-tiny", NULL);
  attn_graph_model *m = load(dir);
  attn_error err = {0};
  const attn_graph *g = attn_graph_model_graph(m);
  int node = 0;
  for (int i = 1; i < attn_graph_nodes(g); i++) node = attn_graph_degree(g, i) > attn_graph_degree(g, node) ? i : node;
  attn_trace *t = attn_graph_query(m, NULL, node, &err);
  g_assert_nonnull(t);
  g_assert_cmpint(t->task, ==, ATTN_TASK_GRAPH);
  g_assert_cmpint(t->source.n, ==, 1 + attn_graph_degree(g, node));
  g_assert_cmpstr(t->source.tokens[0], ==, attn_graph_model_node_name(m, node));
  for (int k = 0; k < attn_graph_degree(g, node); k++)
    g_assert_cmpint(t->graph->ids[k + 1], ==, attn_graph_neighbours(g, node)[k]);
  g_assert_cmpint(t->graph->n_nodes, ==, attn_graph_nodes(g)); /* a small graph: all nodes */
  g_assert_cmpint(t->graph->n_edges, ==, attn_graph_edges(g));
  g_assert_cmpstr(t->output.tokens[0], ==, attn_graph_model_class_name(m, t->graph->predicted[0]));
  /* 1 mean + 2 heads of layer 1, 2 heads + mean of layer 2 */
  g_assert_cmpint(t->n_maps, ==, 6);
  g_assert_cmpstr(t->maps[0].name, ==, "layer 1 mean");
  char *json = attn_trace_to_json(t, 1);
  attn_trace *back = attn_trace_from_json(json, strlen(json), &err);
  if (!back) g_test_message("%s", err.message);
  g_assert_nonnull(back);
  g_assert_cmpint(back->task, ==, ATTN_TASK_GRAPH);
  g_assert_nonnull(back->graph);
  g_assert_cmpint(back->graph->node, ==, node);
  g_assert_cmpint(back->graph->n_nodes, ==, t->graph->n_nodes);
  g_assert_cmpint(back->graph->n_edges, ==, t->graph->n_edges);
  g_assert_cmpint(memcmp(back->graph->edges, t->graph->edges, 2 * sizeof(int) * t->graph->n_edges), ==, 0);
  g_assert_cmpstr(back->graph->classes[2], ==, "blue");
  g_assert_cmpstr(back->graph->names[0], ==, t->graph->names[0]);
  g_assert_cmpfloat(fabs(back->graph->confidence[0] - t->graph->confidence[0]), <, 1e-6);
  g_assert_cmpfloat(fabs(back->maps[1].weights[0] - t->maps[1].weights[0]), <, 1e-7);
  attn_trace *copy = attn_trace_select_hypothesis(t, 0);
  g_assert_nonnull(copy->graph);
  g_assert_cmpint(copy->graph->n_edges, ==, t->graph->n_edges);
  /* a graph section that names a node out of range is refused */
  cJSON *root = cJSON_Parse(json);
  int pair[2] = {0, 99};
  cJSON_AddItemToArray(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "graph"), "edges"), cJSON_CreateIntArray(pair, 2));
  char *broken = cJSON_PrintUnformatted(root);
  g_assert_null(attn_trace_from_json(broken, strlen(broken), &err));
  g_test_message("%s", err.message);
  g_assert_nonnull(strstr(err.message, "graph: edge 10"));
  cJSON_Delete(root);
  free(broken);
  attn_trace_free(copy);
  attn_trace_free(back);
  free(json);
  attn_trace_free(t);
  attn_graph_model_free(m);
}

static void test_edit(void) {
  g_autofree char *dir = golden_fixture_path("gat-tiny", NULL);
  attn_graph_model *m = load(dir);
  attn_error err = {0};
  attn_graph *g = attn_graph_copy(attn_graph_model_graph(m));
  int edges = attn_graph_edges(g);
  g_assert_false(attn_graph_has_edge(g, 8, 0));
  g_assert_cmpint(attn_graph_set_edge(g, 8, 0, 1, &err), ==, ATTN_OK);
  g_assert_cmpint(attn_graph_set_edge(g, 0, 8, 1, &err), ==, ATTN_OK); /* already there: no change */
  g_assert_true(attn_graph_has_edge(g, 0, 8));
  g_assert_cmpint(attn_graph_edges(g), ==, edges + 1);
  g_assert_cmpint(attn_graph_neighbours(g, 8)[0], ==, 0);
  g_assert_cmpint(attn_graph_set_edge(g, 8, 0, 0, &err), ==, ATTN_OK);
  g_assert_cmpint(attn_graph_edges(g), ==, edges);
  g_assert_cmpint(attn_graph_degree(g, 8), ==, 0);
  g_assert_cmpint(attn_graph_set_edge(g, 3, 3, 1, &err), ==, ATTN_E_ARG);
  g_assert_cmpint(attn_graph_set_edge(g, 3, 9, 1, &err), ==, ATTN_E_ARG);
  g_assert_nonnull(strstr(err.message, "0..8"));
  /* the model's own graph is untouched by edits of a copy */
  g_assert_cmpint(attn_graph_edges(attn_graph_model_graph(m)), ==, edges);
  g_assert_null(attn_graph_query(m, NULL, 9, &err));
  g_assert_cmpint(err.code, ==, ATTN_E_ARG);
  g_assert_cmpstr(err.message, ==, "unknown node 9: gat-tiny has nodes 0..8");
  g_assert_null(attn_graph_query(m, g, -1, &err));
  attn_graph_free(g);
  attn_graph_model_free(m);
}

/* A copy of gat-tiny with `from` replaced by `to` in one of its files: loading fails with
 * a message containing `want`. */
static void check_broken(const char *file, const char *from, const char *to, const char *want) {
  g_autofree char *tmp = g_dir_make_tmp("attn-gat-XXXXXX", NULL);
  const char *files[] = {"config.json", "model.safetensors", "graph.json"};
  for (int i = 0; i < 3; i++) {
    g_autofree char *src = golden_fixture_path("gat-tiny", files[i]), *dst = g_build_filename(tmp, files[i], NULL);
    g_autofree char *data = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(src, &data, &len, NULL));
    g_assert_true(g_file_set_contents(dst, data, (gssize)len, NULL));
  }
  golden_replace_in_file(tmp, file, from, to);
  attn_error err = {0};
  attn_graph_model *m = attn_graph_model_load(tmp, &err);
  g_assert_null(m);
  g_test_message("%s: %s", file, err.message);
  g_assert_nonnull(strstr(err.message, want));
  for (int i = 0; i < 3; i++) {
    g_autofree char *p = g_build_filename(tmp, files[i], NULL);
    g_unlink(p);
  }
  g_rmdir(tmp);
}

static void test_broken(void) {
  check_broken("graph.json", "\"edges\": [[", "\"edges\": [[42, 1], [", "edge 0 is not a pair");
  check_broken("graph.json", "\"nodes\": 9", "\"nodes\": 0", "\"nodes\" must be a count");
  check_broken("graph.json", "\"feature_count\": 12", "\"feature_count\": 13", "in_features (12)");
  check_broken("graph.json", "\"features\": [[", "\"features\": [[0, 0, ", "lists feature 0 twice");
  check_broken("graph.json", "\"features\": [[", "\"features\": [[12, ", "outside 0..11");
  check_broken("graph.json", "\"labels\": [0", "\"labels\": [7", "label of node 0");
  check_broken("graph.json", "{", "[", "not a JSON object");
  check_broken("config.json", "\"red\"", "\"red\", \"cyan\"", "attnlens.classes");
  check_broken("config.json", "\"graph\"", "\"read\"", "not a graph attention model");
  check_broken("config.json", "\"heads\": 2", "\"heads\": 3", "layer1");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/gat/tiny/golden", test_tiny);
  g_test_add_data_func("/gat/karate/golden", "gat-karate", test_shipped);
  g_test_add_data_func("/gat/cora/golden", "gat-cora", test_shipped);
  g_test_add_func("/gat/trace", test_trace);
  g_test_add_func("/gat/edit", test_edit);
  g_test_add_func("/gat/broken", test_broken);
  return g_test_run();
}
