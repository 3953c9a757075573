/* `attnlens bench graph`: time per node query of the graph attention models (a forward pass
 * over the whole graph and the node's trace) and the ratio to their PyTorch twins on the
 * same nodes, measured in the same run. Not a test. */
#include <cjson/cJSON.h>
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_graph.h"
#include "bench_util.h"
#include "cli.h"
#include "cli_graph.h"

/* Median ms per query of training/bench_gat_twin.py and how many of its predictions match
 * the C engine's; NAN when the twin cannot run. */
static double time_twin(const char *model, const int *nodes, const int *c_pred, int n, int *agree) {
  g_autofree char *script = g_build_filename(ATTN_SOURCE_DIR, "training", "bench_gat_twin.py", NULL);
  GString *list = g_string_new(NULL);
  for (int i = 0; i < n; i++) g_string_append_printf(list, "%s%d", i ? "," : "", nodes[i]);
  const char *argv[] = {bench_python(), script, model, list->str, "--threads", "1", NULL};
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  *agree = 0;
  gboolean ran = g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, NULL) &&
                 g_spawn_check_wait_status(status, NULL);
  g_string_free(list, TRUE);
  if (!ran) {
    fprintf(stderr, "  (PyTorch twin not timed: %s)\n", err && *err ? g_strchomp(err) : "python3/torch missing");
    return NAN;
  }
  cJSON *j = cJSON_Parse(out);
  const cJSON *m = cJSON_GetObjectItem(j, "median_ms"), *p = cJSON_GetObjectItem(j, "predicted");
  for (int i = 0; i < n && i < cJSON_GetArraySize(p); i++) *agree += cJSON_GetArrayItem(p, i)->valueint == c_pred[i];
  double ms = cJSON_IsNumber(m) ? m->valuedouble : NAN;
  cJSON_Delete(j);
  return ms;
}

static void bench_model(const char *path, int limit, int twin) {
  attn_error err = {0};
  attn_graph_model *m = attn_graph_model_load(path, &err);
  if (!m) {
    printf("%-12s cannot load: %s\n", path, err.message);
    return;
  }
  int N = attn_graph_model_nodes(m), n = limit < N ? limit : N, agree = 0;
  int *nodes = g_new(int, n), *pred = g_new(int, n);
  double *ms = g_new(double, n);
  for (int i = 0; i < n; i++) {
    nodes[i] = (int)((long long)i * N / n);
    double t0 = bench_now_ms();
    attn_trace *t = attn_graph_query(m, NULL, nodes[i], &err);
    ms[i] = bench_now_ms() - t0;
    pred[i] = t ? t->graph->predicted[0] : -1;
    attn_trace_free(t);
  }
  double tw = twin ? time_twin(path, nodes, pred, n, &agree) : NAN;
  double med = bench_quantile(ms, n, 0.5), p95 = bench_quantile(ms, n, 0.95);
  printf("%-12s %6d %7d %6d %8.3f %8.3f %9.3f %6.1fx %7.1f%%\n", attn_graph_model_name(m), N,
         attn_graph_edges(attn_graph_model_graph(m)), n, med, p95, tw, tw / med, isnan(tw) ? NAN : 100.0 * agree / n);
  g_free(nodes), g_free(pred), g_free(ms);
  attn_graph_model_free(m);
}

int cli_bench_graph(int argc, char **argv) {
  const char *model = NULL;
  int limit = 200, twin = 1;
  for (int i = 1; i < argc; i++) {
    if ((strcmp(argv[i], "-m") == 0 || strcmp(argv[i], "--model") == 0) && i + 1 < argc) model = argv[++i];
    else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
      if (cli_number_arg("--limit", argv[++i], 1, 1000000, &limit) != 0) return 1;
    } else if (strcmp(argv[i], "--no-twin") == 0) twin = 0;
    else {
      cli_error("usage: attnlens bench graph [-m MODEL] [--limit N nodes] [--no-twin]");
      return 1;
    }
  }
  printf("attnlens bench graph: up to %d nodes per model, one query at a time (forward over the whole graph + the "
         "node's trace), 1 thread\n", limit);
  printf("%-12s %6s %7s %6s %8s %8s %9s %7s %8s\n", "model", "nodes", "edges", "asked", "C med ms", "C p95",
         "twin med", "ratio", "C=twin");
  GPtrArray *models = bench_task_models(model, "graph");
  for (guint m = 0; m < models->len; m++) bench_model(g_ptr_array_index(models, m), limit, twin);
  if (models->len == 0) printf("(no graph models in data/models: give -m MODEL)\n");
  g_ptr_array_unref(models);
  return 0;
}
