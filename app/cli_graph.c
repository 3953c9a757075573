/* `attnlens graph`: a graph attention model's prediction for one node with the attention it
 * paid to its neighbours (text, JSON or a picture of the graph view), or the predicted
 * class of every node. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_graph.h"
#include "attn_trace_json.h"
#include "cli.h"
#include "cli_graph.h"
#include "lens_render.h"

#define DEFAULT_GRAPH_MODEL "gat-cora"
#define USAGE                                                                                                 \
  "usage: attnlens graph [-m MODEL] --node ID [--json] [--map NAME] [-o OUT.png|.svg|.pdf]\n"               \
  "       attnlens graph [-m MODEL] --predict-all"

typedef struct graph_args {
  const char *model, *node, *out_path, *map;
  int json, predict_all;
} graph_args;

static int parse_graph(graph_args *a, int argc, char **argv) {
  memset(a, 0, sizeof *a);
  a->model = DEFAULT_GRAPH_MODEL;
  for (int i = 1; i < argc; i++) {
    const char *flag = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    const char **dst = strcmp(flag, "-m") == 0 || strcmp(flag, "--model") == 0   ? &a->model
                       : strcmp(flag, "--node") == 0 || strcmp(flag, "-n") == 0  ? &a->node
                       : strcmp(flag, "-o") == 0 || strcmp(flag, "--output") == 0 ? &a->out_path
                       : strcmp(flag, "--map") == 0                              ? &a->map
                                                                                 : NULL;
    if (strcmp(flag, "--json") == 0) a->json = 1;
    else if (strcmp(flag, "--predict-all") == 0) a->predict_all = 1;
    else if (!dst) {
      cli_error("graph: unknown argument '%s'\n%s", flag, USAGE);
      return -1;
    } else if (!val) {
      cli_error("%s needs a value", flag);
      return -1;
    } else {
      *dst = val, i++;
    }
  }
  if (!a->predict_all == !a->node || (a->predict_all && (a->json || a->out_path || a->map))) {
    cli_error("%s", USAGE);
    return -1;
  }
  return 0;
}

/* The node id of --node: a whole number that names a node of the model. */
static int parse_node(const attn_graph_model *m, const char *text, int *node) {
  char *end = NULL;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || end == text || *end != '\0') {
    cli_error("--node needs a node id (a whole number from 0 to %d), got '%s'", attn_graph_model_nodes(m) - 1, text);
    return -1;
  }
  attn_error err = {0};
  if (v < 0 || v >= attn_graph_model_nodes(m)) {
    attn_graph_model_check_node(m, v < 0 ? -1 : v > 1 << 30 ? 1 << 30 : (int)v, &err);
    cli_error("%s", err.message);
    return -1;
  }
  *node = (int)v;
  return 0;
}

static int predict_all(const attn_graph_model *m) {
  attn_error err = {0};
  attn_graph_result *r = attn_graph_run(m, NULL, &err);
  if (!r) {
    cli_error("%s", err.message);
    return 1;
  }
  for (int i = 0; i < attn_graph_model_nodes(m); i++) {
    printf("%d\t", i);
    cli_put_text(attn_graph_model_class_name(m, attn_graph_result_predicted(r, i)));
    putchar('\n');
  }
  attn_graph_result_free(r);
  return 0;
}

/* The node, its class and probability; then each column of the chosen map with its weight. */
static void print_text(const attn_trace *t, int map) {
  const attn_trace_graph *g = t->graph;
  cli_put_text(g->names[0]);
  putchar('\t');
  cli_put_text(t->output.text);
  printf("\t%.4f\n", (double)g->confidence[0]);
  printf("# %s over the node itself and its %d neighbours: id, name, predicted class, weight\n", t->maps[map].name,
         g->n_cols - 1);
  for (int c = 0; c < g->n_cols; c++) {
    printf("%d\t", g->ids[c]);
    cli_put_text(g->names[c]);
    putchar('\t');
    cli_put_text(g->classes[g->predicted[c]]);
    printf("\t%.4f\n", (double)t->maps[map].weights[c]);
  }
}

static int show(const attn_trace *t, const graph_args *a) {
  int map = a->map ? attn_trace_find_map(t, a->map) : 0;
  if (map < 0) {
    cli_error("no map named '%s': the maps are \"layer 1 mean\", \"layer 1 head 1\" .. and \"layer 2\"", a->map);
    return 1;
  }
  if (a->json) {
    if (cli_put_trace_json(t) != 0) return 1;
  } else {
    print_text(t, map);
  }
  if (!a->out_path) return 0;
  LensRenderOptions ro;
  lens_render_options_init(&ro);
  ro.view = LENS_VIEW_GRAPH;
  ro.map_index = map;
  attn_error err = {0};
  if (lens_export(t, &ro, a->out_path, 2.0, &err) != ATTN_OK) {
    cli_error("%s", err.message);
    return 1;
  }
  return 0;
}

int cli_graph(int argc, char **argv) {
  graph_args a;
  if (parse_graph(&a, argc, argv) != 0) return 1;
  attn_error err = {0};
  char *dir = cli_resolve_model(a.model);
  attn_graph_model *m = dir ? attn_graph_model_load(dir, &err) : NULL;
  free(dir);
  if (!m) {
    cli_error("%s", err.message[0] ? err.message : "cannot find the model");
    return 1;
  }
  int rc = 1, node = 0;
  if (a.predict_all) {
    rc = predict_all(m);
  } else if (parse_node(m, a.node, &node) == 0) {
    attn_trace *t = attn_graph_query(m, NULL, node, &err);
    rc = t ? show(t, &a) : 1;
    if (!t) cli_error("%s", err.message);
    attn_trace_free(t);
  }
  attn_graph_model_free(m);
  return rc;
}
