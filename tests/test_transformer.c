/* The C Transformer against its PyTorch twin: logits, every attention map, greedy and
 * beam outputs, on golden files written by training/golden_transformer.py. */
#include <cjson/cJSON.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "attn_model_dir.h"
#include "attn_transformer.h"

typedef struct fixture {
  attn_model_dir *dir;
  attn_transformer *tf;
  cJSON *golden;
} fixture;

static int load_fixture(fixture *f, const char *model_dir, const char *golden_path) {
  attn_error err = {0};
  if (!g_file_test(golden_path, G_FILE_TEST_EXISTS)) return 0;
  f->dir = attn_model_dir_open(model_dir, &err);
  if (!f->dir) g_test_message("%s", err.message);
  g_assert_nonnull(f->dir);
  f->tf = attn_transformer_load(f->dir, &err);
  if (!f->tf) g_test_message("%s", err.message);
  g_assert_nonnull(f->tf);
  char *text = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(golden_path, &text, &len, NULL));
  f->golden = cJSON_ParseWithLength(text, len);
  g_free(text);
  g_assert_nonnull(f->golden);
  return 1;
}

static void fixture_free(fixture *f) {
  attn_transformer_free(f->tf);
  attn_model_dir_close(f->dir);
  cJSON_Delete(f->golden);
}

static int32_t *int_array(const cJSON *a, int *n) {
  *n = cJSON_GetArraySize(a);
  int32_t *v = g_new(int32_t, *n + 1);
  for (int i = 0; i < *n; i++) v[i] = (int32_t)cJSON_GetArrayItem(a, i)->valuedouble;
  return v;
}

/* Flattens a nested JSON array of numbers in row-major order. */
static void flatten(const cJSON *a, GArray *out) {
  if (cJSON_IsNumber(a)) {
    float v = (float)a->valuedouble;
    g_array_append_val(out, v);
    return;
  }
  const cJSON *it;
  cJSON_ArrayForEach(it, a) flatten(it, out);
}

static double max_diff(const float *got, const GArray *want) {
  double worst = 0;
  for (guint i = 0; i < want->len; i++) worst = fmax(worst, fabs(got[i] - g_array_index(want, float, i)));
  return worst;
}

/* Teacher-forced decoding through the incremental step; compares with the twin's batched
 * forward (so the KV cache is checked too). */
static void check_forced(fixture *f, const cJSON *c) {
  const attn_tf_dims *D = attn_transformer_dims(f->tf);
  int n, T;
  g_autofree int32_t *src = int_array(cJSON_GetObjectItem(c, "src"), &n);
  g_autofree int32_t *tgt = int_array(cJSON_GetObjectItem(c, "tgt_in"), &T);
  attn_error err = {0};
  attn_tf_run *run = attn_tf_run_new(f->tf, src, n, 1, T, &err);
  g_assert_nonnull(run);
  int maps = D->dec_layers * D->dec_heads;
  g_autofree float *logits = g_new(float, (size_t)T * D->vocab);
  g_autofree float *cross = g_new(float, (size_t)T * maps * n);
  g_autofree float *self = g_new0(float, (size_t)maps * T * T);
  g_autofree float *self_step = g_new0(float, (size_t)maps * T);
  for (int t = 0; t < T; t++) {
    g_assert_cmpint(attn_tf_step(run, &tgt[t], 1, t, logits + (size_t)t * D->vocab, cross + (size_t)t * maps * n,
                                 self_step, &err), ==, ATTN_OK);
    for (int m = 0; m < maps; m++)
      for (int j = 0; j <= t; j++) self[((size_t)m * T + t) * T + j] = self_step[(size_t)m * T + j];
  }
  /* cross: C has [T][maps][n], twin [L][H][T][n] */
  g_autofree float *cross_lh = g_new(float, (size_t)T * maps * n);
  for (int t = 0; t < T; t++)
    for (int m = 0; m < maps; m++) memcpy(cross_lh + ((size_t)m * T + t) * n, cross + ((size_t)t * maps + m) * n, n * sizeof(float));
  const cJSON *cols = cJSON_GetObjectItem(c, "logit_columns");
  if (cols) { /* shipped goldens keep a fixed subset of the vocabulary */
    int nc;
    g_autofree int32_t *col = int_array(cols, &nc);
    g_autofree float *sub = g_new(float, (size_t)T * nc);
    for (int t = 0; t < T; t++)
      for (int j = 0; j < nc; j++) sub[t * nc + j] = logits[(size_t)t * D->vocab + col[j]];
    memcpy(logits, sub, (size_t)T * nc * sizeof(float));
  }
  struct { const char *key; const float *got; } checks[] = {
      {"logits", logits}, {"cross_attention", cross_lh}, {"decoder_attention", self},
      {"encoder_attention", attn_tf_run_encoder_attention(run)}};
  for (size_t k = 0; k < G_N_ELEMENTS(checks); k++) {
    GArray *want = g_array_new(FALSE, FALSE, sizeof(float));
    flatten(cJSON_GetObjectItem(c, checks[k].key), want);
    double d = max_diff(checks[k].got, want);
    g_test_message("%s: %u values, max abs difference %.3g", checks[k].key, want->len, d);
    g_assert_cmpuint(want->len, >, 0);
    g_assert_cmpfloat(d, <=, 1e-4);
    g_array_free(want, TRUE);
  }
  attn_tf_run_free(run);
}

static int ids_equal(const attn_s2s_hyp *h, const cJSON *ids) {
  if (h->n != cJSON_GetArraySize(ids)) return 0;
  for (int i = 0; i < h->n; i++)
    if (h->ids[i] != (int)cJSON_GetArrayItem(ids, i)->valuedouble) return 0;
  return 1;
}

/* Greedy and beam outputs; returns 1 if they differ only at a flagged near tie. */
static int check_decoding(fixture *f, const cJSON *c, int beam, int *near_ties) {
  int n;
  g_autofree int32_t *src = int_array(cJSON_GetObjectItem(c, "src"), &n);
  attn_error err = {0};
  int max_len = MIN(2 * n + 10, attn_transformer_dims(f->tf)->max_positions);
  attn_tf_run *run = attn_tf_run_new(f->tf, src, n, beam, max_len, &err);
  g_assert_nonnull(run);
  attn_s2s m = attn_tf_run_s2s(run);
  attn_s2s_hyp g = {0}, hyps[8] = {{0}};
  g_assert_cmpint(attn_greedy(&m, &g, &err), ==, ATTN_OK);
  int tie = cJSON_IsTrue(cJSON_GetObjectItem(c, "near_tie"));
  int greedy_ok = ids_equal(&g, cJSON_GetObjectItem(c, "greedy"));
  if (!greedy_ok && tie) (*near_ties)++;
  else g_assert_true(greedy_ok);
  attn_tf_run_free(run);
  run = attn_tf_run_new(f->tf, src, n, beam, max_len, &err);
  m = attn_tf_run_s2s(run);
  int nh = 0;
  g_assert_cmpint(attn_beam(&m, beam, 1.0, hyps, &nh, &err), ==, ATTN_OK);
  const cJSON *want = cJSON_GetObjectItem(c, "beam");
  g_assert_cmpint(nh, ==, cJSON_GetArraySize(want));
  for (int i = 0; i < nh; i++) {
    const cJSON *w = cJSON_GetArrayItem(want, i);
    double want_norm = cJSON_GetObjectItem(w, "normalized")->valuedouble;
    if (ids_equal(&hyps[i], cJSON_GetObjectItem(w, "ids"))) {
      g_assert_cmpfloat(fabs(hyps[i].normalized - want_norm), <=, 1e-4);
      continue;
    }
    /* only a near tie (with the twin's neighbour, or at a greedy step) may reorder */
    const cJSON *prev = i > 0 ? cJSON_GetArrayItem(want, i - 1) : NULL, *next = cJSON_GetArrayItem(want, i + 1);
    double gap = fmin(prev ? fabs(cJSON_GetObjectItem(prev, "normalized")->valuedouble - want_norm) : 1.0,
                      next ? fabs(cJSON_GetObjectItem(next, "normalized")->valuedouble - want_norm) : 1.0);
    g_test_message("beam hypothesis %d differs from the twin (score gap to a neighbour %.2g)", i, gap);
    g_assert_true(tie || gap < 1e-4);
    (*near_ties)++;
  }
  for (int i = 0; i < nh; i++) attn_s2s_hyp_clear(&hyps[i]);
  attn_s2s_hyp_clear(&g);
  attn_tf_run_free(run);
  return 0;
}

static char *fixture_path(const char *a, const char *b) {
  return g_build_filename(g_getenv("ATTN_FIXTURES"), a, b, NULL);
}

static void test_tiny(void) {
  fixture f = {0};
  g_autofree char *dir = fixture_path("transformer-tiny", NULL);
  g_autofree char *golden = fixture_path("transformer-tiny", "golden.json");
  g_assert_true(load_fixture(&f, dir, golden));
  int ties = 0, cases = 0;
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(f.golden, "cases")) {
    check_forced(&f, c);
    check_decoding(&f, c, 3, &ties);
    cases++;
  }
  g_test_message("%d cases, %d near ties", cases, ties);
  g_assert_cmpint(cases, ==, 3);
  fixture_free(&f);
}

static void test_shipped(void) {
  fixture f = {0};
  g_autofree char *dir = g_build_filename(g_getenv("ATTN_SOURCE_DIR"), "data", "models", "transformer-en-de", NULL);
  g_autofree char *golden = fixture_path("transformer-en-de", "golden.json");
  if (!load_fixture(&f, dir, golden)) {
    g_test_skip("no shipped transformer-en-de golden file yet");
    return;
  }
  int ties = 0, cases = 0;
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(f.golden, "cases")) {
    if (cJSON_GetObjectItem(c, "tgt_in")) check_forced(&f, c);
    check_decoding(&f, c, 4, &ties);
    cases++;
  }
  g_test_message("%d sentences: greedy and beam 4 identical except %d near ties", cases, ties);
  fixture_free(&f);
}

static void test_beam1_is_greedy(void) {
  fixture f = {0};
  g_autofree char *dir = fixture_path("transformer-tiny", NULL);
  g_autofree char *golden = fixture_path("transformer-tiny", "golden.json");
  g_assert_true(load_fixture(&f, dir, golden));
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(f.golden, "cases")) {
    int n;
    g_autofree int32_t *src = int_array(cJSON_GetObjectItem(c, "src"), &n);
    attn_error err = {0};
    attn_tf_run *r1 = attn_tf_run_new(f.tf, src, n, 1, 2 * n + 10, &err);
    attn_tf_run *r2 = attn_tf_run_new(f.tf, src, n, 1, 2 * n + 10, &err);
    attn_s2s m1 = attn_tf_run_s2s(r1), m2 = attn_tf_run_s2s(r2);
    attn_s2s_hyp g = {0}, b[1] = {{0}};
    int nb = 0;
    g_assert_cmpint(attn_greedy(&m1, &g, &err), ==, ATTN_OK);
    g_assert_cmpint(attn_beam(&m2, 1, 1.0, b, &nb, &err), ==, ATTN_OK);
    g_assert_cmpint(nb, ==, 1);
    g_assert_cmpint(g.n, ==, b[0].n);
    g_assert_cmpmem(g.ids, g.n * sizeof(int32_t), b[0].ids, b[0].n * sizeof(int32_t));
    g_assert_cmpmem(g.cross, (size_t)g.n * m1.n_maps * m1.keys * sizeof(float), b[0].cross,
                    (size_t)b[0].n * m2.n_maps * m2.keys * sizeof(float));
    attn_s2s_hyp_clear(&g), attn_s2s_hyp_clear(&b[0]);
    attn_tf_run_free(r1), attn_tf_run_free(r2);
  }
  fixture_free(&f);
}

static void test_bad_inputs(void) {
  fixture f = {0};
  g_autofree char *dir = fixture_path("transformer-tiny", NULL);
  g_autofree char *golden = fixture_path("transformer-tiny", "golden.json");
  g_assert_true(load_fixture(&f, dir, golden));
  attn_error err = {0};
  int32_t bad[2] = {5, 9999};
  g_assert_null(attn_tf_run_new(f.tf, bad, 2, 1, 4, &err));
  g_assert_nonnull(strstr(err.message, "9999"));
  int32_t ok[1] = {3};
  g_assert_null(attn_tf_run_new(f.tf, ok, 0, 1, 4, &err));
  g_assert_null(attn_tf_run_new(f.tf, ok, 1, 1, 100000, &err));
  fixture_free(&f);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/engine/transformer/tiny-vs-pytorch", test_tiny);
  g_test_add_func("/engine/transformer/beam1-is-greedy", test_beam1_is_greedy);
  g_test_add_func("/engine/transformer/bad-inputs", test_bad_inputs);
  g_test_add_func("/engine/transformer/shipped-vs-pytorch", test_shipped);
  return g_test_run();
}
