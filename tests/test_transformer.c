/* The C Transformer against its PyTorch twin: logits, every attention map, greedy and
 * beam outputs, on golden files written by training/golden_transformer.py. */
#include <cjson/cJSON.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "attn_model_dir.h"
#include "attn_transformer.h"
#include "golden.h"

typedef golden_fixture fixture;

static void *load_model(const attn_model_dir *dir, attn_error *err) { return attn_transformer_load(dir, err); }
static void free_model(void *m) { attn_transformer_free(m); }

static int load_fixture(fixture *f, const char *model_dir, const char *golden_path) {
  return golden_fixture_load(f, model_dir, golden_path, load_model, free_model);
}

static void fixture_free(fixture *f) { golden_fixture_free(f); }

static void load_tiny(fixture *f) { golden_fixture_load_tiny(f, "transformer-tiny", load_model, free_model); }

/* Teacher-forced decoding through the incremental step; compares with the twin's batched
 * forward (so the KV cache is checked too). */
static void check_forced(fixture *f, const cJSON *c) {
  const attn_tf_dims *D = attn_transformer_dims(f->m);
  int n, T;
  g_autofree int32_t *src = golden_int_array(cJSON_GetObjectItem(c, "src"), &n);
  g_autofree int32_t *tgt = golden_int_array(cJSON_GetObjectItem(c, "tgt_in"), &T);
  attn_error err = {0};
  attn_tf_run *run = attn_tf_run_new(f->m, src, n, 1, T, &err);
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
  golden_select_columns(c, logits, T, D->vocab);
  struct { const char *key; const float *got; } checks[] = {
      {"logits", logits}, {"cross_attention", cross_lh}, {"decoder_attention", self},
      {"encoder_attention", attn_tf_run_encoder_attention(run)}};
  for (size_t k = 0; k < G_N_ELEMENTS(checks); k++) {
    g_autoptr(GArray) want = golden_floats(c, checks[k].key);
    g_assert_cmpuint(want->len, >, 0);
    golden_assert_close(checks[k].key, checks[k].got, want);
  }
  attn_tf_run_free(run);
}

/* Greedy and beam outputs; returns 1 if they differ only at a flagged near tie. */
static int check_decoding(fixture *f, const cJSON *c, int beam, int *near_ties) {
  int n;
  g_autofree int32_t *src = golden_int_array(cJSON_GetObjectItem(c, "src"), &n);
  attn_error err = {0};
  int max_len = MIN(2 * n + 10, attn_transformer_dims(f->m)->max_positions);
  attn_tf_run *run = attn_tf_run_new(f->m, src, n, beam, max_len, &err);
  g_assert_nonnull(run);
  attn_s2s m = attn_tf_run_s2s(run);
  attn_s2s_hyp g = {0}, hyps[8] = {{0}};
  g_assert_cmpint(attn_greedy(&m, &g, &err), ==, ATTN_OK);
  golden_check_greedy(&g, c, near_ties);
  attn_tf_run_free(run);
  run = attn_tf_run_new(f->m, src, n, beam, max_len, &err);
  m = attn_tf_run_s2s(run);
  int nh = 0;
  g_assert_cmpint(attn_beam(&m, beam, 1.0, hyps, &nh, &err), ==, ATTN_OK);
  golden_check_beam(hyps, nh, c, near_ties);
  for (int i = 0; i < nh; i++) attn_s2s_hyp_clear(&hyps[i]);
  attn_s2s_hyp_clear(&g);
  attn_tf_run_free(run);
  return 0;
}

static void test_tiny(void) {
  fixture f = {0};
  load_tiny(&f);
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

static void check_shipped(const char *name) {
  fixture f = {0};
  g_autofree char *dir = golden_shipped_path(name);
  g_autofree char *golden = golden_fixture_path(name, "golden.json");
  if (!load_fixture(&f, dir, golden)) {
    g_test_skip_printf("no shipped %s golden file yet (training/golden_transformer.py shipped)", name);
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
  g_assert_cmpint(cases, >, 0);
  fixture_free(&f);
}

static void test_shipped(void) { check_shipped("transformer-en-de"); }
static void test_shipped_general(void) { check_shipped("transformer-en-de-general"); }

static void test_beam1_is_greedy(void) {
  fixture f = {0};
  load_tiny(&f);
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(f.golden, "cases")) {
    int n;
    g_autofree int32_t *src = golden_int_array(cJSON_GetObjectItem(c, "src"), &n);
    attn_error err = {0};
    attn_tf_run *r1 = attn_tf_run_new(f.m, src, n, 1, 2 * n + 10, &err);
    attn_tf_run *r2 = attn_tf_run_new(f.m, src, n, 1, 2 * n + 10, &err);
    attn_s2s m1 = attn_tf_run_s2s(r1), m2 = attn_tf_run_s2s(r2);
    golden_check_beam1_is_greedy(&m1, &m2);
    attn_tf_run_free(r1), attn_tf_run_free(r2);
  }
  fixture_free(&f);
}

static void test_bad_inputs(void) {
  fixture f = {0};
  load_tiny(&f);
  attn_error err = {0};
  int32_t bad[2] = {5, 9999};
  g_assert_null(attn_tf_run_new(f.m, bad, 2, 1, 4, &err));
  g_assert_nonnull(strstr(err.message, "9999"));
  int32_t ok[1] = {3};
  g_assert_null(attn_tf_run_new(f.m, ok, 0, 1, 4, &err));
  g_assert_null(attn_tf_run_new(f.m, ok, 1, 1, 100000, &err));
  fixture_free(&f);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/engine/transformer/tiny-vs-pytorch", test_tiny);
  g_test_add_func("/engine/transformer/beam1-is-greedy", test_beam1_is_greedy);
  g_test_add_func("/engine/transformer/bad-inputs", test_bad_inputs);
  g_test_add_func("/engine/transformer/shipped-vs-pytorch", test_shipped);
  g_test_add_func("/engine/transformer/general/shipped-vs-pytorch", test_shipped_general);
  return g_test_run();
}
