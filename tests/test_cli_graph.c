/* `attnlens graph` as a user runs it: one node as text and JSON (a trace that reads back and
 * matches the twin's golden file), pictures, every node's class, `attnlens render` on the
 * trace, and one-line errors for bad input. */
#include <cjson/cJSON.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "attn_trace_json.h"
#include "cli_util.h"

static char *fixture(const char *a, const char *b) { return g_build_filename(g_getenv("ATTN_FIXTURES"), a, b, NULL); }

static void test_node_text(void) {
  g_autofree char *model = fixture("gat-tiny", NULL);
  const char *args[] = {"graph", "-m", model, "--node", "6", NULL};
  run_result r = cli_run(args, NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_auto(GStrv) lines = g_strsplit(r.out, "\n", -1);
  g_assert_true(g_str_has_prefix(lines[0], "n6\t")); /* name, class, probability */
  g_assert_true(g_str_has_prefix(lines[1], "# layer 1 mean over the node itself and its 4 neighbours"));
  g_assert_true(g_str_has_prefix(lines[2], "6\tn6\t"));   /* the node itself comes first */
  g_assert_true(g_str_has_prefix(lines[3], "0\tn0\t"));   /* then its neighbours by id: 0, 4, 5, 7 ... */
  double sum = 0;
  for (int i = 2; lines[i] && lines[i][0]; i++) sum += g_ascii_strtod(strrchr(lines[i], '\t') + 1, NULL);
  g_assert_cmpfloat(fabs(sum - 1.0), <, 2e-3); /* the weights shown (4 decimals) form a distribution */
  run_clear(&r);
}

/* --json: the trace holds the graph section and the maps of the golden file's node 6. */
static void test_node_json(void) {
  g_autofree char *model = fixture("gat-tiny", NULL), *golden_path = fixture("gat-tiny", "golden.json"), *text = NULL;
  const char *args[] = {"graph", "-m", model, "--node", "6", "--json", NULL};
  run_result r = cli_run(args, NULL);
  g_assert_cmpint(r.status, ==, 0);
  attn_error err = {0};
  attn_trace *t = attn_trace_from_json(r.out, strlen(r.out), &err);
  g_assert_nonnull(t);
  g_assert_cmpint(t->task, ==, ATTN_TASK_GRAPH);
  g_assert_cmpint(t->graph->node, ==, 6);
  g_assert_cmpint(t->graph->n_nodes, ==, 9);
  g_assert_true(g_file_get_contents(golden_path, &text, NULL, NULL));
  cJSON *golden = cJSON_Parse(text);
  const cJSON *maps = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(golden, "cases"), 0), "maps"), "6"), *mp;
  cJSON_ArrayForEach(mp, maps) {
    int k = attn_trace_find_map(t, cJSON_GetObjectItem(mp, "name")->valuestring);
    g_assert_cmpint(k, >=, 0);
    for (int c = 0; c < t->maps[k].cols; c++)
      g_assert_cmpfloat(fabs(t->maps[k].weights[c] - cJSON_GetArrayItem(cJSON_GetObjectItem(mp, "weights"), c)->valuedouble), <, 1e-4);
  }
  /* `attnlens render` draws the saved trace, in the graph view and the matrix view */
  g_autofree char *dir = g_dir_make_tmp("attn-graph-XXXXXX", NULL);
  g_autofree char *json = g_build_filename(dir, "t.json", NULL), *png = g_build_filename(dir, "g.png", NULL);
  g_autofree char *svg = g_build_filename(dir, "m.svg", NULL);
  g_assert_true(g_file_set_contents(json, r.out, -1, NULL));
  const char *render1[] = {"render", json, "-o", png, "--view", "graph", "--map", "layer 2 head 1", NULL};
  run_result r1 = cli_run(render1, NULL);
  g_assert_cmpint(r1.status, ==, 0);
  g_assert_true(g_file_test(png, G_FILE_TEST_EXISTS));
  const char *render2[] = {"render", json, "-o", svg, NULL};
  run_result r2 = cli_run(render2, NULL);
  g_assert_cmpint(r2.status, ==, 0);
  g_unlink(json), g_unlink(png), g_unlink(svg), g_rmdir(dir);
  run_clear(&r1), run_clear(&r2), run_clear(&r);
  cJSON_Delete(golden);
  attn_trace_free(t);
}

/* -o writes a picture of the graph view; its PNG header says the size. */
static void test_picture(void) {
  g_autofree char *model = fixture("gat-tiny", NULL), *dir = g_dir_make_tmp("attn-graph-XXXXXX", NULL);
  g_autofree char *png = g_build_filename(dir, "n.png", NULL), *pdf = g_build_filename(dir, "n.pdf", NULL), *data = NULL;
  const char *args[] = {"graph", "-m", model, "--node", "0", "--map", "layer 1 head 2", "-o", png, NULL};
  run_result r = cli_run(args, NULL);
  g_assert_cmpint(r.status, ==, 0);
  gsize len = 0;
  g_assert_true(g_file_get_contents(png, &data, &len, NULL));
  g_assert_cmpint(len, >, 1000);
  g_assert_cmpmem(data, 8, "\x89PNG\r\n\x1a\n", 8);
  g_assert_cmpint((data[16] << 24 | data[17] << 16 | (guchar)data[18] << 8 | (guchar)data[19]), >, 400);
  const char *args2[] = {"graph", "-m", model, "--node", "8", "-o", pdf, NULL}; /* an isolated node */
  run_result r2 = cli_run(args2, NULL);
  g_assert_cmpint(r2.status, ==, 0);
  g_assert_true(g_file_test(pdf, G_FILE_TEST_EXISTS));
  g_unlink(png), g_unlink(pdf), g_rmdir(dir);
  run_clear(&r), run_clear(&r2);
}

/* --predict-all: node<TAB>class for every node, the classes the golden file predicts. */
static void test_predict_all(void) {
  g_autofree char *model = fixture("gat-tiny", NULL), *golden_path = fixture("gat-tiny", "golden.json"), *text = NULL;
  const char *args[] = {"graph", "-m", model, "--predict-all", NULL};
  run_result r = cli_run(args, NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_true(g_file_get_contents(golden_path, &text, NULL, NULL));
  cJSON *golden = cJSON_Parse(text);
  const cJSON *pred = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(golden, "cases"), 0), "predicted");
  const char *names[] = {"red", "green", "blue"};
  g_auto(GStrv) lines = g_strsplit(r.out, "\n", -1);
  g_assert_cmpint(g_strv_length(lines), ==, 10); /* 9 nodes and the empty string after the last newline */
  for (int i = 0; i < 9; i++) {
    g_autofree char *want = g_strdup_printf("%d\t%s", i, names[cJSON_GetArrayItem(pred, i)->valueint]);
    g_assert_cmpstr(lines[i], ==, want);
  }
  cJSON_Delete(golden);
  run_clear(&r);
}

/* The shipped karate club: the two leaders are predicted on their own sides. */
static void test_karate(void) {
  g_autofree char *model = g_build_filename(g_getenv("ATTN_SOURCE_DIR"), "data", "models", "gat-karate", NULL);
  if (!g_file_test(model, G_FILE_TEST_IS_DIR)) {
    g_test_skip("gat-karate is not shipped");
    return;
  }
  const char *args[] = {"graph", "-m", model, "--predict-all", NULL};
  run_result r = cli_run(args, NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_true(g_str_has_prefix(r.out, "0\tMr. Hi\n"));
  g_assert_nonnull(strstr(r.out, "\n33\tOfficer\n"));
  run_clear(&r);
}

static void test_errors(void) {
  g_autofree char *model = fixture("gat-tiny", NULL), *read_model = fixture("memn2n-tiny", NULL);
  const char *unknown[] = {"graph", "-m", model, "--node", "9", NULL};
  cli_expect_one_line_error(unknown, NULL, "unknown node 9: gat-tiny has nodes 0..8");
  const char *negative[] = {"graph", "-m", model, "--node", "-3", NULL};
  cli_expect_one_line_error(negative, NULL, "unknown node -1");
  const char *huge[] = {"graph", "-m", model, "--node", "99999999999999999999", NULL};
  cli_expect_one_line_error(huge, NULL, "--node needs a node id (a whole number from 0 to 8)");
  const char *word[] = {"graph", "-m", model, "--node", "n3", NULL};
  cli_expect_one_line_error(word, NULL, "got 'n3'");
  const char *empty[] = {"graph", "-m", model, "--node", "", NULL};
  cli_expect_one_line_error(empty, NULL, "--node needs a node id");
  const char *map[] = {"graph", "-m", model, "--node", "1", "--map", "layer 9", NULL};
  cli_expect_one_line_error(map, NULL, "no map named 'layer 9'");
  const char *wrong_model[] = {"graph", "-m", read_model, "--node", "1", NULL};
  cli_expect_one_line_error(wrong_model, NULL, "not a graph attention model");
  const char *missing[] = {"graph", "-m", "/nonexistent/model", "--node", "1", NULL};
  cli_expect_one_line_error(missing, NULL, "/nonexistent/model");
  const char *both[] = {"graph", "-m", model, "--node", "1", "--predict-all", NULL};
  run_result r = cli_run(both, NULL);
  g_assert_cmpint(r.status, ==, 1);
  g_assert_nonnull(strstr(r.err, "usage: attnlens graph"));
  run_clear(&r);
  const char *bad_ext[] = {"graph", "-m", model, "--node", "1", "-o", "/tmp/x.bmp", NULL};
  cli_expect_one_line_error(bad_ext, NULL, ".bmp");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/cli/graph/node-text", test_node_text);
  g_test_add_func("/cli/graph/node-json", test_node_json);
  g_test_add_func("/cli/graph/picture", test_picture);
  g_test_add_func("/cli/graph/predict-all", test_predict_all);
  g_test_add_func("/cli/graph/karate", test_karate);
  g_test_add_func("/cli/graph/errors", test_errors);
  return g_test_run();
}
