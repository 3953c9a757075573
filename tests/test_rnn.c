/* The C RNN with attention against its PyTorch twin: logits, annotations, attention,
 * greedy and beam outputs, on golden files written by training/golden_rnn.py; and the same
 * network without attention (config attention "none"), whose decoder reads one summary vector. */
#include <cjson/cJSON.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "attn_model_dir.h"
#include "attn_rnn.h"
#include "attn_trace_json.h"
#include "attn_translate.h"
#include "golden.h"

typedef golden_fixture fixture;

static void *load_model(const attn_model_dir *dir, attn_error *err) { return attn_rnn_load(dir, err); }
static void free_model(void *m) { attn_rnn_free(m); }

static int load_fixture(fixture *f, const char *model_dir, const char *golden_path) {
  return golden_fixture_load(f, model_dir, golden_path, load_model, free_model);
}

static void fixture_free(fixture *f) { golden_fixture_free(f); }

static void load_tiny(fixture *f) { golden_fixture_load_tiny(f, "rnn-tiny", load_model, free_model); }

/* Max abs difference between got and the golden array under key (asserted <= 1e-4). */
static double compare(const cJSON *c, const char *key, const float *got, guint count) {
  g_autoptr(GArray) want = golden_floats(c, key);
  g_assert_cmpuint(want->len, ==, count);
  return golden_assert_close(key, got, want);
}

/* Teacher-forced decoding through the incremental step against the twin's batched
 * forward; returns the worst difference seen. */
static double check_forced(fixture *f, const cJSON *c) {
  const attn_rnn_dims *D = attn_rnn_model_dims(f->m);
  int n, T;
  g_autofree int32_t *src = golden_int_array(cJSON_GetObjectItem(c, "src"), &n);
  g_autofree int32_t *tgt = golden_int_array(cJSON_GetObjectItem(c, "tgt_in"), &T);
  attn_error err = {0};
  attn_rnn_run *run = attn_rnn_run_new(f->m, src, n, 1, T, &err);
  g_assert_nonnull(run);
  g_autofree float *logits = g_new(float, (size_t)T * D->vocab);
  g_autofree float *cross = g_new0(float, (size_t)T * n);
  double worst = compare(c, "annotations", attn_rnn_run_annotations(run), (guint)n * 2 * D->enc_hidden);
  worst = fmax(worst, compare(c, "s0", attn_rnn_run_initial_state(run), (guint)D->dec_hidden));
  if (D->attention) g_assert_null(attn_rnn_run_summary(run));
  else worst = fmax(worst, compare(c, "summary", attn_rnn_run_summary(run), (guint)(2 * D->enc_hidden)));
  for (int t = 0; t < T; t++)
    g_assert_cmpint(attn_rnn_step(run, &tgt[t], 1, t, logits + (size_t)t * D->vocab, cross + (size_t)t * n, &err), ==,
                    ATTN_OK);
  int cols = golden_select_columns(c, logits, T, D->vocab);
  worst = fmax(worst, compare(c, "logits", logits, (guint)(T * cols)));
  worst = fmax(worst, compare(c, "cross_attention", cross, D->attention ? (guint)(T * n) : 0));
  attn_rnn_run_free(run);
  return worst;
}

static attn_rnn_run *decoding_run(fixture *f, const int32_t *src, int n, int capacity) {
  attn_error err = {0};
  int max_len = MIN(2 * n + 10, attn_rnn_model_dims(f->m)->max_positions);
  attn_rnn_run *run = attn_rnn_run_new(f->m, src, n, capacity, max_len, &err);
  if (!run) g_test_message("%s", err.message);
  g_assert_nonnull(run);
  return run;
}

static void check_greedy(fixture *f, const cJSON *c, const int32_t *src, int n, int *near_ties) {
  attn_rnn_run *run = decoding_run(f, src, n, 1);
  attn_s2s m = attn_rnn_run_s2s(run);
  attn_s2s_hyp g = {0};
  attn_error err = {0};
  g_assert_cmpint(attn_greedy(&m, &g, &err), ==, ATTN_OK);
  golden_check_greedy(&g, c, near_ties);
  attn_s2s_hyp_clear(&g);
  attn_rnn_run_free(run);
}

/* Beam hypotheses equal the twin's, except where a flagged near tie reorders them. */
static void check_beam(fixture *f, const cJSON *c, const int32_t *src, int n, int beam, int *near_ties) {
  attn_rnn_run *run = decoding_run(f, src, n, beam);
  attn_s2s m = attn_rnn_run_s2s(run);
  attn_s2s_hyp hyps[8] = {{0}};
  attn_error err = {0};
  int nh = 0;
  g_assert_cmpint(attn_beam(&m, beam, 1.0, hyps, &nh, &err), ==, ATTN_OK);
  golden_check_beam(hyps, nh, c, near_ties);
  for (int i = 0; i < nh; i++) attn_s2s_hyp_clear(&hyps[i]);
  attn_rnn_run_free(run);
}

static void check_decoding(fixture *f, const cJSON *c, int beam, int *near_ties) {
  int n;
  g_autofree int32_t *src = golden_int_array(cJSON_GetObjectItem(c, "src"), &n);
  check_greedy(f, c, src, n, near_ties);
  check_beam(f, c, src, n, beam, near_ties);
}

static void check_tiny(const char *name) {
  fixture f = {0};
  golden_fixture_load_tiny(&f, name, load_model, free_model);
  int ties = 0, cases = 0;
  double worst = 0;
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(f.golden, "cases")) {
    worst = fmax(worst, check_forced(&f, c));
    check_decoding(&f, c, 3, &ties);
    cases++;
  }
  g_test_message("%d cases, max abs difference %.3g, %d near ties", cases, worst, ties);
  g_assert_cmpint(cases, ==, 3);
  fixture_free(&f);
}

static void test_tiny(void) { check_tiny("rnn-tiny"); }
static void test_tiny_noattn(void) { check_tiny("rnn-noattn-tiny"); }

static void check_shipped(const char *name) {
  fixture f = {0};
  g_autofree char *dir = golden_shipped_path(name);
  g_autofree char *golden = golden_fixture_path(name, "golden.json");
  if (!load_fixture(&f, dir, golden)) {
    g_test_skip_printf("no shipped %s golden file yet (training/golden_rnn.py shipped)", name);
    return;
  }
  int ties = 0, cases = 0;
  double worst = 0;
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(f.golden, "cases")) {
    if (cJSON_GetObjectItem(c, "tgt_in")) worst = fmax(worst, check_forced(&f, c));
    check_decoding(&f, c, 4, &ties);
    cases++;
  }
  g_test_message("%d sentences: max abs difference %.3g; greedy and beam 4 identical except %d near ties", cases,
                 worst, ties);
  g_assert_cmpint(cases, >, 0);
  fixture_free(&f);
}

static void test_shipped(void) { check_shipped("rnn-attn-en-de"); }
static void test_shipped_noattn(void) { check_shipped("rnn-encdec-en-de"); }
static void test_shipped_en_fr(void) { check_shipped("rnn-attn-en-fr-general"); }
static void test_shipped_en_de_general(void) { check_shipped("rnn-attn-en-de-general"); }

static void test_beam1_is_greedy(void) {
  fixture f = {0};
  load_tiny(&f);
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(f.golden, "cases")) {
    int n;
    g_autofree int32_t *src = golden_int_array(cJSON_GetObjectItem(c, "src"), &n);
    attn_rnn_run *r1 = decoding_run(&f, src, n, 1), *r2 = decoding_run(&f, src, n, 1);
    attn_s2s m1 = attn_rnn_run_s2s(r1), m2 = attn_rnn_run_s2s(r2);
    g_assert_cmpint(m1.n_maps, ==, 1); /* one map over the n source pieces per output */
    g_assert_cmpint(m1.keys, ==, n);
    golden_check_beam1_is_greedy(&m1, &m2);
    attn_rnn_run_free(r1), attn_rnn_run_free(r2);
  }
  fixture_free(&f);
}

static void test_bad_inputs(void) {
  fixture f = {0};
  load_tiny(&f);
  attn_error err = {0};
  int32_t bad[2] = {5, 9999}, neg[1] = {-1}, ok[2] = {5, 3};
  g_assert_null(attn_rnn_run_new(f.m, bad, 2, 1, 4, &err));
  g_assert_nonnull(strstr(err.message, "9999"));
  g_assert_null(attn_rnn_run_new(f.m, neg, 1, 1, 4, &err));
  g_assert_null(attn_rnn_run_new(f.m, ok, 0, 1, 4, &err));
  g_assert_null(attn_rnn_run_new(f.m, ok, 2, 0, 4, &err));
  g_assert_null(attn_rnn_run_new(f.m, ok, 2, 1, 100000, &err));
  attn_rnn_run *run = attn_rnn_run_new(f.m, ok, 2, 2, 4, &err);
  g_assert_nonnull(run);
  float logits[2 * 40], cross[2 * 2];
  int32_t tokens[3] = {2, 40, 2};
  g_assert_cmpint(attn_rnn_step(run, tokens, 2, 0, logits, cross, &err), ==, ATTN_E_VALUE);
  g_assert_nonnull(strstr(err.message, "40"));
  g_assert_cmpint(attn_rnn_step(run, tokens, 3, 0, logits, cross, &err), ==, ATTN_E_ARG);
  g_assert_cmpint(attn_rnn_step(run, tokens, 1, 4, logits, cross, &err), ==, ATTN_E_ARG);
  g_assert_cmpint(attn_rnn_step(run, tokens, 1, 0, logits, cross, &err), ==, ATTN_OK);
  attn_rnn_run_free(run);
  fixture_free(&f);
}

static void test_bad_model(void) {
  struct { const char *key; int value; const char *message; } cases[] = {
      {"attn_dim", 9, "attn.W.weight"},     /* shapes no longer match the tensors */
      {"maxout_dim", 4, "maxout_dim"},      /* the output layer is tied */
      {"vocab_size", 2, "vocab_size"},      /* out of range */
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    char value[32];
    snprintf(value, sizeof value, "%d", cases[i].value);
    char *dir = golden_model_copy("rnn-tiny", cases[i].key, value);
    attn_error err = {0};
    attn_translator *t = attn_translator_load(dir, &err);
    g_test_message("%s = %d: %s", cases[i].key, cases[i].value, err.message);
    g_assert_null(t);
    g_assert_nonnull(strstr(err.message, cases[i].message));
    golden_model_copy_remove(dir);
  }
}

static void check_cross_map(const attn_map *maps, int n_maps, int rows, int cols) {
  g_assert_cmpint(n_maps, ==, 1);
  g_assert_cmpstr(maps[0].name, ==, "cross");
  g_assert_cmpint(maps[0].kind, ==, ATTN_MAP_CROSS);
  g_assert_cmpint(maps[0].layer, ==, -1);
  g_assert_cmpint(maps[0].head, ==, -1);
  g_assert_cmpint(maps[0].rows, ==, rows);
  g_assert_cmpint(maps[0].cols, ==, cols);
}

static void test_translator(void) {
  attn_translator *t = golden_translator("rnn-tiny");
  g_assert_cmpstr(attn_translator_architecture(t), ==, "rnn-attn");
  g_assert_cmpstr(attn_translator_name(t), ==, "rnn-tiny");
  g_assert_cmpint(attn_translator_max_source(t), ==, 40);
  attn_trace *tr = golden_translate(t, "abc dag fe", 1, 1); /* self-attention asked for: an RNN has none */
  g_assert_cmpstr(tr->source.tokens[tr->source.n - 1], ==, "</s>");
  check_cross_map(tr->maps, tr->n_maps, tr->output.n, tr->source.n);
  attn_trace_free(tr);
  tr = golden_translate(t, "bad cafe", 3, 0);
  check_cross_map(tr->maps, tr->n_maps, tr->output.n, tr->source.n);
  for (int h = 0; h < tr->n_hyps; h++) {
    g_assert_cmpfloat(tr->hyps[h].score, <=, tr->score); /* best first */
    check_cross_map(tr->hyps[h].maps, tr->hyps[h].n_maps, tr->hyps[h].output.n, tr->source.n);
  }
  attn_trace_free(tr);
  attn_translator_free(t);
}

/* Without attention: no maps anywhere, the summary vector in the trace (as its JSON), the
 * same summary for every hypothesis of one source, and a different one for another source. */
static void test_noattn_translator(void) {
  attn_translator *t = golden_translator("rnn-noattn-tiny");
  g_assert_cmpstr(attn_translator_architecture(t), ==, "rnn");
  g_assert_false(attn_translator_has_attention(t));
  attn_trace *tr = golden_translate(t, "bad cafe", 3, 1);
  g_assert_cmpint(tr->n_maps, ==, 0);
  for (int h = 0; h < tr->n_hyps; h++) g_assert_cmpint(tr->hyps[h].n_maps, ==, 0);
  g_assert_cmpint(tr->summary_dim, ==, 12); /* 2 x enc_hidden 6 */
  attn_error err = {0};
  g_assert_cmpint(attn_trace_validate(tr, &err), ==, ATTN_OK);
  double norm = 0; /* (its values against the twin: /engine/rnn/noattn/tiny-vs-pytorch) */
  for (int i = 0; i < 12; i++) norm += fabs(tr->summary[i]);
  g_assert_cmpfloat(norm, >, 0.0);
  g_autofree char *json = attn_trace_to_json(tr, 0);
  attn_trace *back = attn_trace_from_json(json, strlen(json), &err);
  g_assert_nonnull(back);
  g_assert_cmpint(back->summary_dim, ==, 12);
  g_assert_cmpmem(back->summary, 12 * sizeof(float), tr->summary, 12 * sizeof(float));
  attn_trace *words = attn_trace_merge_words(tr), *second = attn_trace_select_hypothesis(tr, tr->n_hyps);
  g_assert_cmpmem(words->summary, 12 * sizeof(float), tr->summary, 12 * sizeof(float));
  g_assert_cmpmem(second->summary, 12 * sizeof(float), tr->summary, 12 * sizeof(float));
  attn_trace *other = golden_translate(t, "fade", 1, 0);
  g_assert_cmpint(other->summary_dim, ==, 12);
  g_assert_true(memcmp(other->summary, tr->summary, 12 * sizeof(float)) != 0);
  attn_trace_free(other), attn_trace_free(words), attn_trace_free(second), attn_trace_free(back), attn_trace_free(tr);
  attn_translator_free(t);
  /* a model with attention has no summary */
  t = golden_translator("rnn-tiny");
  g_assert_true(attn_translator_has_attention(t));
  tr = golden_translate(t, "bad cafe", 1, 0);
  g_assert_null(tr->summary);
  attn_trace_free(tr);
  attn_translator_free(t);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/engine/rnn/tiny-vs-pytorch", test_tiny);
  g_test_add_func("/engine/rnn/noattn/tiny-vs-pytorch", test_tiny_noattn);
  g_test_add_func("/engine/rnn/noattn/translator", test_noattn_translator);
  g_test_add_func("/engine/rnn/beam1-is-greedy", test_beam1_is_greedy);
  g_test_add_func("/engine/rnn/bad-inputs", test_bad_inputs);
  g_test_add_func("/engine/rnn/bad-model", test_bad_model);
  g_test_add_func("/engine/rnn/translator", test_translator);
  g_test_add_func("/engine/rnn/shipped-vs-pytorch", test_shipped);
  g_test_add_func("/engine/rnn/noattn/shipped-vs-pytorch", test_shipped_noattn);
  g_test_add_func("/engine/rnn/en-fr-general/shipped-vs-pytorch", test_shipped_en_fr);
  g_test_add_func("/engine/rnn/en-de-general/shipped-vs-pytorch", test_shipped_en_de_general);
  return g_test_run();
}
