/* The C caption model against its PyTorch twin (annotations, LSTM state, logits, attention,
 * beta, greedy and beam outputs, on golden files written by training/golden_caption.py), the
 * captioner API and its handling of bad images and broken model directories; with the shipped
 * caption-scenes, both quality floors on generated test scenes. */
#include <cjson/cJSON.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "attn_caption.h"
#include "attn_conv.h"
#include "attn_mobilenet.h"
#include "attn_model_dir.h"
#include "attn_sat.h"
#include "attn_trace_json.h"
#include "golden.h"

typedef golden_fixture fixture;

static void *load_model(const attn_model_dir *dir, attn_error *err) { return attn_sat_load(dir, err); }
static void free_model(void *m) { attn_sat_free(m); }

static int load_fixture(fixture *f, const char *model_dir, const char *golden_path) {
  return golden_fixture_load(f, model_dir, golden_path, load_model, free_model);
}

static void fixture_free(fixture *f) { golden_fixture_free(f); }

static void load_tiny(fixture *f) { golden_fixture_load_tiny(f, "caption-tiny", load_model, free_model); }

/* The case's image ([H][W][3]) and its size; g_free the result. */
/* A case's image: "image" (floats) or "image_b64" (RGB bytes in base64, divided by 255 as the
 * twin did). */
static float *case_image(const cJSON *c, int *w, int *h) {
  const cJSON *b64 = cJSON_GetObjectItem(c, "image_b64");
  GArray *px;
  if (cJSON_IsString(b64)) {
    gsize n = 0;
    g_autofree guchar *bytes = g_base64_decode(b64->valuestring, &n);
    px = g_array_sized_new(FALSE, FALSE, sizeof(float), (guint)n);
    for (gsize i = 0; i < n; i++) {
      float v = (float)bytes[i] / 255.0f;
      g_array_append_val(px, v);
    }
  } else {
    px = golden_floats(c, "image");
  }
  *w = (int)cJSON_GetObjectItem(c, "width")->valuedouble;
  *h = (int)cJSON_GetObjectItem(c, "height")->valuedouble;
  g_assert_cmpuint(px->len, ==, (guint)(*w * *h * 3));
  return (float *)g_array_free(px, FALSE);
}

/* The model's input for the case: the image, area-resized as attn_caption does. */
static float *model_input(const attn_sat *m, const cJSON *c) {
  int w, h, side = attn_sat_model_dims(m)->image_size;
  float *img = case_image(c, &w, &h);
  if (w == side && h == side) return img;
  float *out = g_new(float, (size_t)side * side * 3), *tmp = g_new(float, (size_t)side * w * 3);
  attn_resize_area(out, side, side, img, h, w, 3, tmp);
  g_free(tmp), g_free(img);
  return out;
}

static double compare(const cJSON *c, const char *key, const float *got, guint count) {
  g_autoptr(GArray) want = golden_floats(c, key);
  g_assert_cmpuint(want->len, ==, count);
  return golden_assert_close(key, got, want);
}

/* Teacher-forced decoding through the incremental step against the twin's batched forward. */
static double check_forced(const attn_sat *m, const cJSON *c) {
  const attn_sat_dims *D = attn_sat_model_dims(m);
  int T;
  g_autofree int32_t *tgt = golden_int_array(cJSON_GetObjectItem(c, "tgt_in"), &T);
  g_autofree float *img = model_input(m, c);
  attn_error err = {0};
  attn_sat_run *run = attn_sat_run_new(m, img, 1, T, &err);
  g_assert_nonnull(run);
  g_autofree float *logits = g_new(float, (size_t)T * D->vocab);
  g_autofree float *alpha = g_new(float, (size_t)T * D->cells), *beta = g_new(float, T);
  double worst = compare(c, "annotations", attn_sat_run_annotations(run), (guint)(D->cells * D->ann));
  worst = fmax(worst, compare(c, "h0", attn_sat_run_h0(run), (guint)D->hidden));
  worst = fmax(worst, compare(c, "c0", attn_sat_run_c0(run), (guint)D->hidden));
  for (int t = 0; t < T; t++)
    g_assert_cmpint(attn_sat_step(run, &tgt[t], 1, t, logits + (size_t)t * D->vocab, alpha + (size_t)t * D->cells,
                                  beta + t, &err), ==, ATTN_OK);
  int cols = golden_select_columns(c, logits, T, D->vocab);
  worst = fmax(worst, compare(c, "logits", logits, (guint)(T * cols)));
  worst = fmax(worst, compare(c, "alpha", alpha, (guint)(T * D->cells)));
  worst = fmax(worst, compare(c, "beta", beta, (guint)T));
  attn_sat_run_free(run);
  return worst;
}

static attn_sat_run *decoding_run(const attn_sat *m, const cJSON *c, int capacity) {
  g_autofree float *img = model_input(m, c);
  attn_error err = {0};
  attn_sat_run *run = attn_sat_run_new(m, img, capacity, attn_sat_model_dims(m)->max_length, &err);
  if (!run) g_test_message("%s", err.message);
  g_assert_nonnull(run);
  return run;
}

/* Each beam hypothesis the twin also found carries the same beta at every step. */
static double check_beam_beta(const attn_s2s_hyp *hyps, int nh, const cJSON *c, int L) {
  double worst = 0;
  const cJSON *want = cJSON_GetObjectItem(c, "beam");
  for (int i = 0; i < nh && i < cJSON_GetArraySize(want); i++) {
    const cJSON *w = cJSON_GetArrayItem(want, i);
    if (!golden_ids_equal(&hyps[i], cJSON_GetObjectItem(w, "ids"))) continue;
    g_autoptr(GArray) b = golden_floats(w, "beta");
    for (int t = 0; t < hyps[i].n; t++)
      worst = fmax(worst, fabs(hyps[i].cross[(size_t)t * (L + 1) + L] - g_array_index(b, float, t)));
  }
  g_assert_cmpfloat(worst, <=, GOLDEN_TOLERANCE);
  return worst;
}

static void check_decoding(const attn_sat *m, const cJSON *c, int beam, int *near_ties) {
  attn_sat_run *run = decoding_run(m, c, 1);
  attn_s2s s = attn_sat_run_s2s(run);
  attn_s2s_hyp g = {0}, hyps[8] = {{0}};
  attn_error err = {0};
  g_assert_cmpint(attn_greedy(&s, &g, &err), ==, ATTN_OK);
  golden_check_greedy(&g, c, near_ties);
  attn_s2s_hyp_clear(&g);
  attn_sat_run_free(run);
  run = decoding_run(m, c, beam);
  s = attn_sat_run_s2s(run);
  int nh = 0;
  g_assert_cmpint(attn_beam(&s, beam, 1.0, hyps, &nh, &err), ==, ATTN_OK);
  golden_check_beam(hyps, nh, c, near_ties);
  if (cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(c, "beam"), 0), "beta"))
    check_beam_beta(hyps, nh, c, attn_sat_model_dims(m)->cells);
  for (int i = 0; i < nh; i++) attn_s2s_hyp_clear(&hyps[i]);
  attn_sat_run_free(run);
}

static void check_tiny(const char *name) {
  fixture f = {0};
  golden_fixture_load_tiny(&f, name, load_model, free_model);
  int ties = 0, cases = 0;
  double worst = 0;
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(f.golden, "cases")) {
    worst = fmax(worst, check_forced(f.m, c));
    check_decoding(f.m, c, 3, &ties);
    cases++;
  }
  g_test_message("%s: %d cases, max abs difference %.3g, %d near ties", name, cases, worst, ties);
  g_assert_cmpint(cases, ==, 3);
  g_assert_cmpint(ties, ==, 0);
  fixture_free(&f);
}

static void test_tiny(void) { check_tiny("caption-tiny"); }

/* check_tiny on a tiny model over a pretrained-style trunk, then the shape both fixtures share: a
 * 4x4 grid of the trunk's 10 channels projected to 7. Returns the loaded fixture. */
static void check_trunk_fixture(fixture *f, const char *name) {
  check_tiny(name);
  golden_fixture_load_tiny(f, name, load_model, free_model);
  const attn_sat_dims *D = attn_sat_model_dims(f->m);
  g_assert_cmpint(D->trunk, ==, 1);
  g_assert_cmpint(D->grid, ==, 4);
  g_assert_cmpint(D->ann, ==, 7);
}

/* The same model with a tiny MobileNetV2 trunk (attn_mobilenet.c): stem, blocks with and
 * without expansion, stride 2 with Keras's one-sided padding, a residual block, the head. */
static void test_trunk_tiny(void) {
  fixture f = {0};
  check_trunk_fixture(&f, "mobilenet/caption-trunk-tiny");
  g_assert_cmpint(attn_sat_trunk(f.m)->arch, ==, ATTN_MOBILENET_V2);
  fixture_free(&f);
}

/* The same model with a tiny MobileNetV3 trunk: hard-swish, ReLU, 3x3 and 5x5 depthwise kernels
 * with TensorFlow's "SAME" padding at strides 1 and 2, squeeze-excite, residuals, the head. */
static void test_trunk_v3_tiny(void) {
  fixture f = {0};
  check_trunk_fixture(&f, "mobilenet/caption-trunk-v3-tiny");
  const attn_mobilenet *T = attn_sat_trunk(f.m);
  g_assert_cmpint(T->arch, ==, ATTN_MOBILENET_V3);
  g_assert_cmpint(T->kernel[1], ==, 5);
  g_assert_cmpint(T->se[2], ==, 4);
  g_assert_cmpfloat(T->hswish_scale, ==, 0.1666259765625f);
  fixture_free(&f);
}

static void test_beam1_is_greedy(void) {
  fixture f = {0};
  load_tiny(&f);
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(f.golden, "cases")) {
    attn_sat_run *r1 = decoding_run(f.m, c, 1), *r2 = decoding_run(f.m, c, 1);
    attn_s2s m1 = attn_sat_run_s2s(r1), m2 = attn_sat_run_s2s(r2);
    golden_check_beam1_is_greedy(&m1, &m2);
    attn_sat_run_free(r1), attn_sat_run_free(r2);
  }
  fixture_free(&f);
}

/* ---- the captioner API ---- */

static attn_captioner *tiny_captioner(void) {
  g_autofree char *dir = golden_fixture_path("caption-tiny", NULL);
  attn_error err = {0};
  attn_captioner *c = attn_captioner_load(dir, &err);
  if (!c) g_test_message("%s", err.message);
  g_assert_nonnull(c);
  return c;
}

/* The trace of every golden image (the 23x37 one resized inside) has the twin's greedy words,
 * one map row and one beta per word, and survives JSON. */
static void test_api(void) {
  fixture f = {0};
  load_tiny(&f);
  attn_captioner *cap = tiny_captioner();
  g_assert_cmpint(attn_captioner_input_size(cap), ==, 16);
  int rows, cols;
  attn_captioner_grid(cap, &rows, &cols);
  g_assert_cmpint(rows * cols, ==, 16);
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(f.golden, "cases")) {
    int w, h;
    g_autofree float *img = case_image(c, &w, &h);
    attn_error err = {0};
    attn_caption_opts o;
    attn_caption_opts_init(&o);
    attn_trace *t = attn_caption(cap, img, w, h, &o, &err);
    g_assert_nonnull(t);
    g_assert_cmpint(attn_trace_validate(t, &err), ==, ATTN_OK);
    g_assert_cmpint(t->image_width, ==, w);
    g_assert_cmpint(t->grid_rows, ==, 4);
    int n;
    g_autofree int32_t *greedy = golden_int_array(cJSON_GetObjectItem(c, "greedy"), &n);
    g_assert_cmpint(t->output.n, ==, n);
    g_assert_nonnull(t->beta);
    g_assert_cmpint(t->maps[0].rows, ==, n);
    g_assert_cmpint(t->maps[0].cols, ==, 16);
    g_assert_cmpstr(t->output.tokens[n - 1], ==, greedy[n - 1] == 3 ? "</s>" : t->output.tokens[n - 1]);
    char *json = attn_trace_to_json(t, 0);
    attn_trace *back = attn_trace_from_json(json, strlen(json), &err);
    g_assert_nonnull(back);
    g_assert_cmpmem(back->beta, n * sizeof(float), t->beta, n * sizeof(float));
    free(json), attn_trace_free(back), attn_trace_free(t);
    o.beam = 3;
    t = attn_caption(cap, img, w, h, &o, &err);
    g_assert_nonnull(t);
    g_assert_cmpint(t->n_hyps, ==, cJSON_GetArraySize(cJSON_GetObjectItem(c, "beam")) - 1);
    for (int k = 0; k < t->n_hyps; k++) g_assert_nonnull(t->hyps[k].beta);
    g_assert_cmpint(attn_trace_validate(t, &err), ==, ATTN_OK);
    attn_trace_free(t);
  }
  attn_captioner_free(cap);
  fixture_free(&f);
}

static void expect_error(const attn_captioner *cap, const float *rgb, int w, int h, int beam, attn_status code,
                         const char *words) {
  attn_error err = {0};
  attn_caption_opts o;
  attn_caption_opts_init(&o);
  o.beam = beam;
  attn_trace *t = attn_caption(cap, rgb, w, h, &o, &err);
  g_test_message("%d x %d, beam %d: %s", w, h, beam, err.message);
  g_assert_null(t);
  g_assert_cmpint(err.code, ==, code);
  g_assert_nonnull(strstr(err.message, words));
}

static void test_bad_images(void) {
  attn_captioner *cap = tiny_captioner();
  float px[3 * 64 * 64];
  for (size_t i = 0; i < G_N_ELEMENTS(px); i++) px[i] = 0.5f;
  expect_error(cap, NULL, 16, 16, 1, ATTN_E_ARG, "empty");
  expect_error(cap, px, 0, 0, 1, ATTN_E_ARG, "empty");
  expect_error(cap, px, -3, 16, 1, ATTN_E_ARG, "empty");
  expect_error(cap, px, 70000, 1, 1, ATTN_E_ARG, "more than"); /* refused before a pixel is read */
  expect_error(cap, px, 40000, 40000, 1, ATTN_E_ARG, "more than");
  expect_error(cap, px, 16, 16, 9, ATTN_E_ARG, "beam");
  px[3 * (5 * 16 + 7) + 1] = NAN;
  expect_error(cap, px, 16, 16, 1, ATTN_E_VALUE, "pixel (7, 5)");
  px[3 * (5 * 16 + 7) + 1] = INFINITY;
  expect_error(cap, px, 16, 16, 1, ATTN_E_VALUE, "not a number");
  for (size_t i = 0; i < G_N_ELEMENTS(px); i++) px[i] = (i % 2) ? -4.0f : 9.0f; /* clamped, not an error */
  attn_error err = {0};
  const int sizes[][2] = {{1, 1}, {64, 64}, {3, 64}, {64, 5}};
  for (size_t k = 0; k < G_N_ELEMENTS(sizes); k++) {
    attn_trace *t = attn_caption(cap, px, sizes[k][0], sizes[k][1], NULL, &err);
    g_assert_nonnull(t);
    g_assert_cmpint(attn_trace_validate(t, &err), ==, ATTN_OK);
    attn_trace_free(t);
  }
  attn_captioner_free(cap);
}

static void expect_load_error(const char *dir, const char *words) {
  attn_error err = {0};
  attn_captioner *c = attn_captioner_load(dir, &err);
  g_test_message("%s", err.message);
  g_assert_null(c);
  g_assert_nonnull(strstr(err.message, words));
}

static void test_bad_models(void) {
  struct { const char *file, *from, *to, *words; } cases[] = {
      {"vocab.txt", "circle\n", "", "entries"},
      {"vocab.txt", "circle\n", "two words\n", "not a word"},
      {"config.json", "\"ShowAttendTell\"", "\"Nope\"", "not a caption model"},
      {"config.json", "\"hidden\": 10", "\"hidden\": 11", "has shape"},
      {"config.json", "\"image_size\": 16", "\"image_size\": 32", "encoder.pos"},
      {"config.json", "\"image_size\": 16", "\"image_size\": 15", "halve"},
      {"config.json", "\"pool_after\": [\n  1,\n  1,\n  0\n ]", "\"pool_after\": [1, 1]", "pool_after"},
      {"config.json", "\"conv_channels\": [\n  4,", "\"conv_channels\": [\n  -4,", "conv_channels"},
      {"config.json", "\"dropout\": 0.0,", "\"dropout\": 0.0, \"num_beams\": 0,", "num_beams"},
      {"config.json", "\"dropout\": 0.0,", "\"dropout\": 0.0, \"num_beams\": 9,", "num_beams"},
      {"config.json", "\"dropout\": 0.0,", "\"dropout\": 0.0, \"num_beams\": \"3\",", "num_beams"},
      {"config.json", "\"dropout\": 0.0,", "\"dropout\": 0.0, \"length_penalty\": -0.5,", "length_penalty"},
      {"config.json", "\"dropout\": 0.0,", "\"dropout\": 0.0, \"length_penalty\": 5,", "length_penalty"},
      {"config.json", "\"dropout\": 0.0,", "\"dropout\": 0.0, \"length_penalty\": \"1\",", "length_penalty"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *dir = golden_copy_model("caption-tiny");
    golden_replace_in_file(dir, cases[i].file, cases[i].from, cases[i].to);
    expect_load_error(dir, cases[i].words);
    golden_remove_model_copy(dir);
  }
  g_autofree char *dir = golden_copy_model("caption-tiny");
  g_autofree char *st = g_build_filename(dir, "model.safetensors", NULL), *data = NULL;
  attn_error err = {0};
  attn_captioner *cap = attn_captioner_load(dir, &err);
  g_assert_cmpint(attn_captioner_default_beam(cap), ==, 1); /* no num_beams: greedy */
  g_assert_cmpfloat(attn_captioner_length_penalty(cap), ==, 1.0); /* no length_penalty: 1 */
  attn_captioner_free(cap);
  golden_replace_in_file(dir, "config.json", "\"dropout\": 0.0,",
                         "\"dropout\": 0.0, \"num_beams\": 3, \"length_penalty\": 0.6,");
  cap = attn_captioner_load(dir, &err);
  g_assert_nonnull(cap);
  g_assert_cmpint(attn_captioner_default_beam(cap), ==, 3);
  g_assert_cmpfloat_with_epsilon(attn_captioner_length_penalty(cap), 0.6, 1e-7);
  attn_captioner_free(cap);
  gsize len;
  g_assert_true(g_file_get_contents(st, &data, &len, NULL));
  g_assert_true(g_file_set_contents(st, data, (gssize)(len / 2), NULL)); /* truncated */
  expect_load_error(dir, "model.safetensors");
  golden_remove_model_copy(dir);
}

/* A v3 trunk config the engine cannot run is refused with a message naming the field. */
static void test_trunk_v3_bad_configs(void) {
  struct { const char *from, *to, *words; } cases[] = {
      {"\"mobilenet_v3\"", "\"mobilenet_v4\"", "mobilenet_v3"},
      {"[\n    5,\n    8,", "[\n    4,\n    8,", "trunk block 1"},
      {"\"relu\",\n    2", "\"gelu\",\n    2", "trunk block 1"},
      {"\"head_act\": \"hswish\"", "\"head_act\": \"tanh\"", "head_act"},
      {"\"hswish_scale\": 0.1666259765625", "\"hswish_scale\": 2", "hswish_scale"},
      {"\"stem\": 4", "\"stem\": 0", "stem"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *dir = golden_copy_model("mobilenet/caption-trunk-v3-tiny");
    golden_replace_in_file(dir, "config.json", cases[i].from, cases[i].to);
    expect_load_error(dir, cases[i].words);
    golden_remove_model_copy(dir);
  }
  /* squeeze-excite declared on a block whose weights have none */
  g_autofree char *dir = golden_copy_model("mobilenet/caption-trunk-v3-tiny");
  golden_replace_in_file(dir, "config.json", "[\n    3,\n    4,\n    4,\n    0,", "[\n    3,\n    4,\n    4,\n    2,");
  expect_load_error(dir, "encoder.trunk.blocks.0.se.reduce.weight");
  golden_remove_model_copy(dir);
}

/* The back-off to a generic word (config "hedge", attn_sat.h) on the tiny model: the log-probs
 * of a hedged copy, step by step along each golden case's teacher-forced words, equal the
 * unhedged model's with the rule applied here: each specific word below min_prob gone, the
 * generic word's probability raised by the likeliest of them, every other word unchanged. The
 * words and the threshold put some specific words above it and some below at every step. */
static void test_hedge(void) {
  fixture f = {0};
  load_tiny(&f);
  g_autofree char *dir = golden_copy_model("caption-tiny");
  const int generic = 10, specific[] = {4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16};
  const float min_prob = 0.03f;
  golden_replace_in_file(dir, "config.json", "\"dropout\": 0.0,",
                         "\"dropout\": 0.0, \"hedge\": {\"min_prob\": 0.03, \"groups\": [[10, [4, 5, 6, 7, 8, 9, 11, "
                         "12, 13, 14, 15, 16]]]},");
  attn_error err = {0};
  attn_model_dir *md = attn_model_dir_open(dir, &err);
  g_assert_nonnull(md);
  attn_sat *hedged = attn_sat_load(md, &err);
  if (!hedged) g_test_message("%s", err.message);
  g_assert_nonnull(hedged);
  int V = attn_sat_model_dims(f.m)->vocab, L = attn_sat_model_dims(f.m)->cells, below = 0, above = 0, raised = 0;
  g_autofree float *lp0 = g_new(float, V), *lp1 = g_new(float, V), *cross = g_new(float, L + 1);
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(f.golden, "cases")) {
    attn_sat_run *r0 = decoding_run(f.m, c, 1), *r1 = decoding_run(hedged, c, 1);
    attn_s2s m0 = attn_sat_run_s2s(r0), m1 = attn_sat_run_s2s(r1);
    int n = 0;
    g_autofree int32_t *tgt = golden_int_array(cJSON_GetObjectItem(c, "tgt_in"), &n);
    for (int t = 0; t < n; t++) {
      g_assert_cmpint(m0.step(m0.self, &tgt[t], 1, t, lp0, cross, &err), ==, ATTN_OK);
      g_assert_cmpint(m1.step(m1.self, &tgt[t], 1, t, lp1, cross, &err), ==, ATTN_OK);
      float best = 0.0f;
      for (size_t j = 0; j < G_N_ELEMENTS(specific); j++) {
        float p = expf(lp0[specific[j]]);
        if (p < min_prob) {
          g_assert_true(isinf(lp1[specific[j]]) && lp1[specific[j]] < 0);
          best = fmaxf(best, p), below++;
        } else {
          g_assert_cmpfloat(lp1[specific[j]], ==, lp0[specific[j]]);
          above++;
        }
      }
      g_assert_cmpfloat_with_epsilon(expf(lp1[generic]), expf(lp0[generic]) + best, 1e-6);
      raised += best > 0.0f;
      for (int v = 0; v < V; v++) {
        int hedged_word = v == generic;
        for (size_t j = 0; j < G_N_ELEMENTS(specific); j++) hedged_word |= v == specific[j];
        if (!hedged_word) g_assert_cmpfloat(lp1[v], ==, lp0[v]);
      }
    }
    attn_sat_run_free(r0), attn_sat_run_free(r1);
  }
  g_test_message("specific words: %d below the threshold, %d above; generic raised at %d steps", below, above, raised);
  g_assert_cmpint(below, >, 0);
  g_assert_cmpint(above, >, 0);
  g_assert_cmpint(raised, >, 0);
  attn_sat_free(hedged);
  attn_model_dir_close(md);
  golden_remove_model_copy(dir);
  fixture_free(&f);
}

/* A "hedge" the engine cannot apply is refused with a message naming it. */
static void test_hedge_bad_configs(void) {
  const char *hedges[] = {
      "{\"min_prob\": 0, \"groups\": [[10, [4, 5]]]}",    /* threshold not in (0, 1] */
      "{\"min_prob\": 1.5, \"groups\": [[10, [4, 5]]]}",
      "{\"min_prob\": 0.5, \"groups\": []}",              /* no group */
      "{\"min_prob\": 0.5, \"groups\": [[10, [4, 44]]]}", /* id outside the 44 words */
      "{\"min_prob\": 0.5, \"groups\": [[-1, [4, 5]]]}",
      "{\"min_prob\": 0.5, \"groups\": [[10, [4, 10]]]}", /* the generic word among its specifics */
      "{\"min_prob\": 0.5, \"groups\": [[10, []]]}",
      "{\"min_prob\": 0.5, \"groups\": [[10, [4.5]]]}",
      "{\"min_prob\": 0.5, \"groups\": [[10]]}",
      "{\"min_prob\": 0.5, \"groups\": [[1e300, [4]]]}",   /* out of int's range */
      "{\"min_prob\": 0.5, \"groups\": [[10, [-1e300]]]}",
      "[0.5]",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(hedges); i++) {
    g_autofree char *dir = golden_copy_model("caption-tiny");
    g_autofree char *to = g_strdup_printf("\"dropout\": 0.0, \"hedge\": %s,", hedges[i]);
    golden_replace_in_file(dir, "config.json", "\"dropout\": 0.0,", to);
    expect_load_error(dir, "hedge");
    golden_remove_model_copy(dir);
  }
}

/* beta in a trace: copied with a hypothesis, written and read as JSON, validated. */
static void test_trace_beta(void) {
  attn_trace *c = attn_trace_new(ATTN_TASK_CAPTION, "cap");
  const char *words[] = {"a", "red", "circle"};
  attn_tokens_set(&c->output, 3, words, NULL, NULL, NULL);
  c->image_width = 64, c->image_height = 48, c->grid_rows = 2, c->grid_cols = 3;
  float w[18];
  for (int i = 0; i < 18; i++) w[i] = 1.0f / 6.0f;
  attn_trace_add_map(c, "cross", ATTN_MAP_CROSS, -1, -1, 3, 6, w);
  g_assert_cmpint(attn_beta_set(&c->beta, 3, (float[]){0.25f, 1.0f, 0.0f}), ==, 0);
  attn_hypothesis *h = attn_trace_add_hypothesis(c);
  attn_tokens_set(&h->output, 1, words, NULL, NULL, NULL);
  attn_hypothesis_add_map(h, "cross", ATTN_MAP_CROSS, -1, -1, 1, 6, w);
  g_assert_cmpint(attn_beta_set(&h->beta, 1, (float[]){0.5f}), ==, 0);
  attn_error err = {0};
  char *json = attn_trace_to_json(c, 1);
  attn_trace *back = attn_trace_from_json(json, strlen(json), &err);
  g_assert_nonnull(back);
  g_assert_cmpmem(back->beta, 3 * sizeof(float), c->beta, 3 * sizeof(float));
  g_assert_cmpfloat(back->hyps[0].beta[0], ==, 0.5f);
  attn_trace *second = attn_trace_select_hypothesis(back, 1);
  g_assert_cmpfloat(second->beta[0], ==, 0.5f);
  back->beta[1] = 1.5f; /* outside [0, 1] */
  g_assert_cmpint(attn_trace_validate(back, &err), ==, ATTN_E_VALUE);
  g_assert_nonnull(strstr(err.message, "beta"));
  const char *bad = "{\"version\":1,\"task\":\"caption\",\"model\":\"m\",\"source\":{\"tokens\":[]},\"image\":"
                    "{\"width\":2,\"height\":2,\"grid\":[1,1]},\"output\":{\"tokens\":[\"a\"],\"beta\":[0.5,0.5]},"
                    "\"maps\":[]}";
  g_assert_null(attn_trace_from_json(bad, strlen(bad), &err));
  g_assert_nonnull(strstr(err.message, "beta"));
  free(json), attn_trace_free(second), attn_trace_free(back), attn_trace_free(c);
}

/* ---- the shipped model ---- */

static void check_shipped_golden(const char *name) {
  g_autofree char *dir = golden_shipped_path(name);
  g_autofree char *file = g_strdup_printf("%s-golden.json", name);
  g_autofree char *golden = golden_fixture_path(file, NULL);
  fixture f = {0};
  if (!g_file_test(dir, G_FILE_TEST_IS_DIR) || !load_fixture(&f, dir, golden)) {
    g_test_skip("the shipped model or its golden file is not there (the model is not trained yet)");
    return;
  }
  int ties = 0, cases = 0;
  double worst = 0;
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(f.golden, "cases")) {
    if (cJSON_GetObjectItem(c, "tgt_in")) worst = fmax(worst, check_forced(f.m, c));
    check_decoding(f.m, c, 4, &ties);
    cases++;
  }
  g_test_message("%s: %d scenes, max abs difference %.3g, %d near ties", name, cases, worst, ties);
  fixture_free(&f);
}

static void test_shipped_golden(void) { check_shipped_golden("caption-scenes"); }
static void test_photos_golden(void) { check_shipped_golden("caption-photos"); }

/* The scene grammar's words (training/scenes.py): a caption names objects as
 * [count] size colour shape. */
static const char *const SHAPES[] = {"circle", "square", "triangle", "diamond", "star", "hexagon", "cross"};

static int shape_of(const char *w) {
  for (int s = 0; s < (int)G_N_ELEMENTS(SHAPES); s++) {
    size_t n = strlen(SHAPES[s]);
    if (strncmp(w, SHAPES[s], n) == 0 && (!w[n] || strcmp(w + n, "s") == 0 || strcmp(w + n, "es") == 0)) return s;
  }
  return -1;
}

typedef struct named {
  int word, count, shape;
  const char *size, *colour;
} named;

static const char *const COLOURS[] = {"red", "orange", "yellow", "green", "blue", "purple", "pink", "brown"};

static int is_size(const char *w) { return !strcmp(w, "small") || !strcmp(w, "big"); }
static int is_colour(const char *w) {
  for (size_t i = 0; i < G_N_ELEMENTS(COLOURS); i++)
    if (!strcmp(w, COLOURS[i])) return 1;
  return 0;
}
static int count_of(const char *w) {
  const char *c[] = {"a", "two", "three", "four"};
  for (int i = 0; i < 4; i++)
    if (!strcmp(w, c[i])) return i + 1;
  return 0;
}

/* As scenes.parse_caption: each shape word with the count, size and colour words before it. */
static int parse_caption(const attn_trace *t, named *out, int max) {
  int n = 0;
  for (int i = 0; i < t->output.n && n < max; i++) {
    int s = shape_of(t->output.tokens[i]);
    if (s < 0) continue;
    named x = {i, 1, s, NULL, NULL};
    for (int j = i - 1; j >= 0 && j >= i - 3; j--) {
      const char *w = t->output.tokens[j];
      if (is_colour(w) && !x.colour && !x.size) x.colour = w;
      else if (is_size(w) && !x.size) x.size = w;
      else if (count_of(w)) {
        x.count = count_of(w);
        break;
      } else break;
    }
    out[n++] = x;
  }
  return n;
}

typedef struct scene_object {
  char shape[16], colour[16], size[8];
  unsigned char cells[64 * 64]; /* grid mask, dilated by one cell */
} scene_object;

static void read_objects(const cJSON *scene, int grid, scene_object *objs, int *n) {
  const cJSON *o;
  *n = 0;
  cJSON_ArrayForEach(o, cJSON_GetObjectItem(scene, "objects")) {
    scene_object *so = &objs[(*n)++];
    g_strlcpy(so->shape, cJSON_GetObjectItem(o, "shape")->valuestring, sizeof so->shape);
    g_strlcpy(so->colour, cJSON_GetObjectItem(o, "colour")->valuestring, sizeof so->colour);
    g_strlcpy(so->size, cJSON_GetObjectItem(o, "size")->valuestring, sizeof so->size);
    memset(so->cells, 0, sizeof so->cells);
    for (int r = 0; r < grid; r++) {
      const char *row = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "cells"), r)->valuestring;
      for (int c = 0; c < grid; c++)
        for (int dr = -1; dr <= 1; dr++)
          for (int dc = -1; dc <= 1; dc++)
            if (row[c] == '1' && r + dr >= 0 && r + dr < grid && c + dc >= 0 && c + dc < grid)
              so->cells[(r + dr) * grid + c + dc] = 1;
    }
  }
}

static gboolean matches(const named *x, const scene_object *o) {
  return !strcmp(SHAPES[x->shape], o->shape) && (!x->size || !strcmp(x->size, o->size)) &&
         (!x->colour || !strcmp(x->colour, o->colour));
}

/* Exact content (the multiset of size, colour, shape) and pointing-game hits of one caption. */
static gboolean score_caption(const attn_trace *t, const scene_object *objs, int n_obj, int *hits, int *words) {
  named x[32];
  int n = parse_caption(t, x, 32), used[8] = {0}, named_total = 0, all_match = 1;
  for (int k = 0; k < n; k++) {
    const float *row = t->maps[0].weights + (size_t)x[k].word * t->maps[0].cols;
    int best = 0;
    for (int j = 1; j < t->maps[0].cols; j++) best = row[j] > row[best] ? j : best;
    int hit = 0;
    for (int o = 0; o < n_obj; o++) hit |= matches(&x[k], &objs[o]) && objs[o].cells[best];
    *hits += hit, (*words)++;
    named_total += x[k].count;
    for (int c = 0; c < x[k].count; c++) { /* claim one unclaimed object with exactly these attributes */
      int found = 0;
      for (int o = 0; o < n_obj && !found; o++)
        if (!used[o] && x[k].size && x[k].colour && matches(&x[k], &objs[o])) used[o] = found = 1;
      all_match &= found;
    }
  }
  return all_match && named_total == n_obj;
}

static void test_shipped_quality(void) {
  g_autofree char *model = golden_shipped_path("caption-scenes");
  if (!g_file_test(model, G_FILE_TEST_IS_DIR)) {
    g_test_skip("data/models/caption-scenes is not there (the model is not trained yet)");
    return;
  }
  attn_error err = {0};
  attn_captioner *cap = attn_captioner_load(model, &err);
  g_assert_nonnull(cap);
  int side = attn_captioner_input_size(cap), grid, cols, count = 2000;
  attn_captioner_grid(cap, &grid, &cols);
  attn_caption_opts opts; /* the decoding MODEL.md's scores were measured with */
  attn_caption_opts_init(&opts);
  opts.beam = attn_captioner_default_beam(cap);
  g_autofree char *tmp = g_dir_make_tmp("attn-scenes-XXXXXX", NULL);
  g_autofree char *script = g_build_filename(g_getenv("ATTN_SOURCE_DIR"), "training", "scenes.py", NULL);
  g_autofree char *size = g_strdup_printf("%d", side), *g = g_strdup_printf("%d", grid), *n = g_strdup_printf("%d", count);
  const char *argv[] = {g_getenv("ATTN_PYTHON"), script, "--split", "test", "--count", n, "--size", size, "--grid", g,
                        "--raw", "--out", tmp, NULL};
  int status = 0;
  g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status, NULL));
  g_assert_true(g_spawn_check_wait_status(status, NULL));
  g_autofree char *json_path = g_build_filename(tmp, "scenes.json", NULL), *json = NULL;
  g_assert_true(g_file_get_contents(json_path, &json, NULL, NULL));
  cJSON *doc = cJSON_Parse(json);
  int right = 0, hits = 0, words = 0, k = 0;
  const cJSON *scene;
  cJSON_ArrayForEach(scene, cJSON_GetObjectItem(doc, "scenes")) {
    g_autofree char *name = g_strdup_printf("%s.rgb", cJSON_GetObjectItem(scene, "name")->valuestring);
    g_autofree char *path = g_build_filename(tmp, name, NULL), *bytes = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(path, &bytes, &len, NULL));
    g_assert_cmpuint(len, ==, (gsize)side * side * 3);
    g_autofree float *rgb = g_new(float, len);
    for (gsize i = 0; i < len; i++) rgb[i] = (unsigned char)bytes[i] / 255.0f;
    attn_trace *t = attn_caption(cap, rgb, side, side, &opts, &err);
    g_assert_nonnull(t);
    scene_object objs[8];
    int n_obj;
    read_objects(scene, grid, objs, &n_obj);
    right += score_caption(t, objs, n_obj, &hits, &words);
    if (k++ < 3) g_test_message("scene %d: \"%s\"", k, t->output.text);
    attn_trace_free(t);
    g_unlink(path);
  }
  double acc = (double)right / count, pointing = (double)hits / (words ? words : 1);
  g_test_message("caption-scenes on %d test scenes, beam %d: content %.3f (floor 0.90), pointing %.3f of %d shape "
                 "words (floor 0.80)", count, opts.beam, acc, pointing, words);
  g_assert_cmpfloat(acc, >=, 0.90);
  g_assert_cmpfloat(pointing, >=, 0.80);
  cJSON_Delete(doc);
  g_unlink(json_path);
  g_rmdir(tmp);
  attn_captioner_free(cap);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/caption/tiny/golden", test_tiny);
  g_test_add_func("/caption/tiny/beam1-is-greedy", test_beam1_is_greedy);
  g_test_add_func("/caption/trunk-tiny/golden", test_trunk_tiny);
  g_test_add_func("/caption/trunk-v3-tiny/golden", test_trunk_v3_tiny);
  g_test_add_func("/caption/trunk-v3-tiny/bad-configs", test_trunk_v3_bad_configs);
  g_test_add_func("/caption/api", test_api);
  g_test_add_func("/caption/bad-images", test_bad_images);
  g_test_add_func("/caption/bad-models", test_bad_models);
  g_test_add_func("/caption/trace-beta", test_trace_beta);
  g_test_add_func("/caption/hedge", test_hedge);
  g_test_add_func("/caption/hedge/bad-configs", test_hedge_bad_configs);
  g_test_add_func("/caption/shipped/golden", test_shipped_golden);
  g_test_add_func("/caption/shipped/quality", test_shipped_quality);
  g_test_add_func("/caption/photos/golden", test_photos_golden);
  return g_test_run();
}
