/* Attention traces: building, JSON round trip, and rejection of malformed JSON. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "attn_trace_json.h"

/* Random row-stochastic weights with awkward float values. */
static float *random_rows(GRand *r, int rows, int cols) {
  float *w = g_new(float, rows * cols);
  for (int i = 0; i < rows; i++) {
    double sum = 0;
    for (int j = 0; j < cols; j++) sum += w[i * cols + j] = (float)g_rand_double_range(r, 1e-7, 1.0);
    for (int j = 0; j < cols; j++) w[i * cols + j] = (float)(w[i * cols + j] / sum);
  }
  return w;
}

static attn_trace *make_translate_trace(void) {
  GRand *r = g_rand_new_with_seed(42);
  attn_trace *t = attn_trace_new(ATTN_TASK_TRANSLATE, "unit-test");
  const char *src[] = {"▁Ein", "▁Über", "größe", "\"q\\", "</s>"};
  unsigned char ws[] = {1, 1, 0, 1, 1};
  const char *out[] = {"▁A", "▁huge", "</s>"};
  float probs[] = {0.5f, 0.123456789f, 1.0f};
  g_assert_cmpint(attn_tokens_set(&t->source, 5, src, ws, NULL, "Ein Übergröße"), ==, 0);
  g_assert_cmpint(attn_tokens_set(&t->output, 3, out, NULL, probs, "A huge"), ==, 0);
  t->score = -0.75;
  for (int h = 0; h < 2; h++) {
    float *w = random_rows(r, 3, 5);
    char name[32];
    g_snprintf(name, sizeof name, "layer 0 head %d", h);
    g_assert_nonnull(attn_trace_add_map(t, name, ATTN_MAP_CROSS, 0, h, 3, 5, w));
    g_free(w);
  }
  float *enc = random_rows(r, 5, 5);
  g_assert_nonnull(attn_trace_add_map(t, "encoder layer 0 head 0", ATTN_MAP_ENCODER, 0, 0, 5, 5, enc));
  g_free(enc);
  attn_hypothesis *h = attn_trace_add_hypothesis(t);
  const char *alt[] = {"▁A", "▁big", "▁one", "</s>"};
  g_assert_cmpint(attn_tokens_set(&h->output, 4, alt, NULL, NULL, "A big one"), ==, 0);
  h->score = -1.5;
  float *hw = random_rows(r, 4, 5);
  g_assert_nonnull(attn_hypothesis_add_map(h, "cross", ATTN_MAP_CROSS, -1, -1, 4, 5, hw));
  g_free(hw);
  g_rand_free(r);
  return t;
}

static void assert_tokens_equal(const attn_tokens *a, const attn_tokens *b) {
  g_assert_cmpint(a->n, ==, b->n);
  for (int i = 0; i < a->n; i++) {
    g_assert_cmpstr(a->tokens[i], ==, b->tokens[i]);
    g_assert_cmpint(attn_tokens_word_start(a, i), ==, attn_tokens_word_start(b, i));
    if (a->probs) g_assert_cmpfloat(a->probs[i], ==, b->probs[i]);
  }
  g_assert_true((a->probs == NULL) == (b->probs == NULL));
  g_assert_cmpstr(a->text, ==, b->text);
}

static void assert_maps_equal(const attn_map *a, const attn_map *b, int n) {
  for (int m = 0; m < n; m++) {
    g_assert_cmpstr(a[m].name, ==, b[m].name);
    g_assert_cmpint(a[m].kind, ==, b[m].kind);
    g_assert_cmpint(a[m].layer, ==, b[m].layer);
    g_assert_cmpint(a[m].head, ==, b[m].head);
    g_assert_cmpint(a[m].rows, ==, b[m].rows);
    g_assert_cmpint(a[m].cols, ==, b[m].cols);
    /* exact: 9 significant digits read back to the same float */
    g_assert_cmpmem(a[m].weights, a[m].rows * a[m].cols * sizeof(float), b[m].weights,
                    b[m].rows * b[m].cols * sizeof(float));
  }
}

static void test_round_trip(void) {
  attn_trace *t = make_translate_trace();
  attn_error err = {0};
  g_assert_cmpint(attn_trace_validate(t, &err), ==, ATTN_OK);
  char *json = attn_trace_to_json(t, 0);
  attn_trace *back = attn_trace_from_json(json, strlen(json), &err);
  if (!back) g_test_message("%s", err.message);
  g_assert_nonnull(back);
  g_assert_cmpint(back->task, ==, t->task);
  g_assert_cmpstr(back->model, ==, t->model);
  g_assert_cmpfloat(back->score, ==, t->score);
  assert_tokens_equal(&t->source, &back->source);
  assert_tokens_equal(&t->output, &back->output);
  g_assert_cmpint(back->n_maps, ==, t->n_maps);
  assert_maps_equal(t->maps, back->maps, t->n_maps);
  g_assert_cmpint(back->n_hyps, ==, 1);
  assert_tokens_equal(&t->hyps[0].output, &back->hyps[0].output);
  g_assert_cmpfloat(back->hyps[0].score, ==, -1.5);
  assert_maps_equal(t->hyps[0].maps, back->hyps[0].maps, 1);
  char *again = attn_trace_to_json(back, 0);
  g_assert_cmpstr(json, ==, again); /* a fixed point after one trip */
  free(json), free(again);
  attn_trace_free(t), attn_trace_free(back);
}

static void test_round_trip_caption_read(void) {
  attn_trace *c = attn_trace_new(ATTN_TASK_CAPTION, "cap");
  const char *words[] = {"a", "red", "circle"};
  attn_tokens_set(&c->output, 3, words, NULL, NULL, NULL);
  c->image_width = 64, c->image_height = 48, c->grid_rows = 2, c->grid_cols = 3;
  float w[18];
  for (int i = 0; i < 18; i++) w[i] = 1.0f / 6.0f;
  attn_trace_add_map(c, "cross", ATTN_MAP_CROSS, -1, -1, 3, 6, w);
  attn_error err = {0};
  char *json = attn_trace_to_json(c, 1);
  attn_trace *back = attn_trace_from_json(json, strlen(json), &err);
  g_assert_nonnull(back);
  g_assert_cmpint(back->grid_rows, ==, 2);
  g_assert_cmpint(back->grid_cols, ==, 3);
  g_assert_cmpint(back->image_width, ==, 64);
  free(json), attn_trace_free(back), attn_trace_free(c);

  attn_trace *rd = attn_trace_new(ATTN_TASK_READ, "memn2n");
  const char *story[] = {"Mary went to the kitchen.", "John is in the garden."};
  attn_trace_set_sentences(rd, 2, story);
  rd->question = g_strdup("Where is Mary?");
  const char *ans[] = {"kitchen"};
  attn_tokens_set(&rd->output, 1, ans, NULL, (float[]){0.9f}, NULL);
  attn_trace_add_map(rd, "hop 1", ATTN_MAP_HOP, -1, -1, 1, 2, (float[]){0.75f, 0.25f});
  json = attn_trace_to_json(rd, 0);
  back = attn_trace_from_json(json, strlen(json), &err);
  g_assert_nonnull(back);
  g_assert_cmpint(back->n_sentences, ==, 2);
  g_assert_cmpstr(back->sentences[1], ==, story[1]);
  g_assert_cmpstr(back->question, ==, "Where is Mary?");
  free(json), attn_trace_free(back), attn_trace_free(rd);
}

/* A minimal valid translate trace with one 2x2 cross map; %s slots let cases break it. */
#define SMALL_TRACE(version, task, maps)                                                       \
  "{\"version\":" version ",\"task\":\"" task "\",\"model\":\"m\","                           \
  "\"source\":{\"tokens\":[\"a\",\"b\"],\"word_start\":[true,false]},"                         \
  "\"output\":{\"tokens\":[\"x\",\"y\"],\"probs\":[0.5,1]},\"maps\":" maps "}"
#define GOOD_MAPS "[{\"name\":\"cross\",\"layer\":-1,\"head\":-1,\"rows\":2,\"cols\":2,\"weights\":[[0.25,0.75],[1,0]]}]"

static void test_small_valid(void) {
  attn_error err = {0};
  const char *j = SMALL_TRACE("1", "translate", GOOD_MAPS);
  attn_trace *t = attn_trace_from_json(j, strlen(j), &err);
  g_assert_nonnull(t);
  g_assert_cmpint(t->maps[0].kind, ==, ATTN_MAP_CROSS); /* derived from the name */
  g_assert_false(attn_tokens_word_start(&t->source, 1));
  attn_trace_free(t);
}

typedef struct bad_case {
  const char *path;
  const char *json;
  const char *expect; /* substring of the error message */
} bad_case;

static const bad_case bad_cases[] = {
    {"/engine/trace/bad/not-json", "{\"version\":1,", "not valid JSON"},
    {"/engine/trace/bad/empty", "", "not valid JSON"},
    {"/engine/trace/bad/array-top", "[1,2]", "not a JSON object"},
    {"/engine/trace/bad/version", SMALL_TRACE("2", "translate", GOOD_MAPS), "version"},
    {"/engine/trace/bad/task", SMALL_TRACE("1", "dance", GOOD_MAPS), "unknown task"},
    {"/engine/trace/bad/no-maps", SMALL_TRACE("1", "translate", "null"), "maps"},
    {"/engine/trace/bad/row-sum",
     SMALL_TRACE("1", "translate", "[{\"name\":\"cross\",\"layer\":-1,\"head\":-1,\"rows\":2,\"cols\":2,\"weights\":[[0.25,0.7],[1,0]]}]"),
     "row 0 sums to"},
    {"/engine/trace/bad/negative",
     SMALL_TRACE("1", "translate", "[{\"name\":\"cross\",\"layer\":-1,\"head\":-1,\"rows\":2,\"cols\":2,\"weights\":[[1.5,-0.5],[1,0]]}]"),
     "negative"},
    {"/engine/trace/bad/nan",
     SMALL_TRACE("1", "translate", "[{\"name\":\"cross\",\"layer\":-1,\"head\":-1,\"rows\":2,\"cols\":2,\"weights\":[[null,1],[1,0]]}]"),
     "not a finite number"},
    {"/engine/trace/bad/rows-mismatch",
     SMALL_TRACE("1", "translate", "[{\"name\":\"cross\",\"layer\":-1,\"head\":-1,\"rows\":3,\"cols\":2,\"weights\":[[0.5,0.5],[1,0]]}]"),
     "rows"},
    {"/engine/trace/bad/cols-mismatch",
     SMALL_TRACE("1", "translate", "[{\"name\":\"cross\",\"layer\":-1,\"head\":-1,\"rows\":2,\"cols\":2,\"weights\":[[0.5,0.5,0],[1,0]]}]"),
     "cols"},
    {"/engine/trace/bad/shape-vs-tokens",
     SMALL_TRACE("1", "translate", "[{\"name\":\"cross\",\"layer\":-1,\"head\":-1,\"rows\":1,\"cols\":2,\"weights\":[[0.5,0.5]]}]"),
     "expected 2x2"},
    {"/engine/trace/bad/huge",
     SMALL_TRACE("1", "translate", "[{\"name\":\"cross\",\"layer\":-1,\"head\":-1,\"rows\":100000,\"cols\":1000000,\"weights\":[]}]"),
     "too large"},
    {"/engine/trace/bad/fractional-rows",
     SMALL_TRACE("1", "translate", "[{\"name\":\"cross\",\"layer\":-1,\"head\":-1,\"rows\":1.5,\"cols\":2,\"weights\":[]}]"),
     "\"rows\" is not an integer"},
    {"/engine/trace/bad/word-start-length",
     "{\"version\":1,\"task\":\"translate\",\"model\":\"m\",\"source\":{\"tokens\":[\"a\"],\"word_start\":[true,true]},"
     "\"output\":{\"tokens\":[]},\"maps\":[]}",
     "word_start"},
    {"/engine/trace/bad/prob-range",
     "{\"version\":1,\"task\":\"translate\",\"model\":\"m\",\"source\":{\"tokens\":[\"a\"]},"
     "\"output\":{\"tokens\":[\"b\"],\"probs\":[1.5]},\"maps\":[]}",
     "outside [0, 1]"},
    {"/engine/trace/bad/token-type",
     "{\"version\":1,\"task\":\"translate\",\"model\":\"m\",\"source\":{\"tokens\":[3]},"
     "\"output\":{\"tokens\":[]},\"maps\":[]}",
     "not a UTF-8 string"},
    {"/engine/trace/bad/invalid-utf8",
     "{\"version\":1,\"task\":\"translate\",\"model\":\"m\xff\",\"source\":{\"tokens\":[]},"
     "\"output\":{\"tokens\":[]},\"maps\":[]}",
     "UTF-8"},
    {"/engine/trace/bad/caption-no-image",
     "{\"version\":1,\"task\":\"caption\",\"model\":\"m\",\"source\":{\"tokens\":[]},"
     "\"output\":{\"tokens\":[]},\"maps\":[]}",
     "image"},
};

static void test_bad(gconstpointer data) {
  const bad_case *c = data;
  attn_error err = {0};
  attn_trace *t = attn_trace_from_json(c->json, strlen(c->json), &err);
  g_assert_null(t);
  g_assert_cmpint(err.code, !=, ATTN_OK);
  if (!strstr(err.message, c->expect)) g_test_message("message was: %s", err.message);
  g_assert_nonnull(strstr(err.message, c->expect));
}

static void test_save_load_atomic(void) {
  g_autofree char *dir = g_dir_make_tmp("attn-trace-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "t.json", NULL);
  attn_trace *t = make_translate_trace();
  attn_error err = {0};
  g_assert_cmpint(attn_trace_save(t, path, &err), ==, ATTN_OK);
  attn_trace *back = attn_trace_load(path, &err);
  g_assert_nonnull(back);
  assert_maps_equal(t->maps, back->maps, t->n_maps);
  GDir *d = g_dir_open(dir, 0, NULL);
  int files = 0;
  while (g_dir_read_name(d)) files++;
  g_dir_close(d);
  g_assert_cmpint(files, ==, 1); /* no temporary file left behind */
  g_autofree char *missing = g_build_filename(dir, "nope", "t.json", NULL);
  g_assert_cmpint(attn_trace_save(t, missing, &err), ==, ATTN_E_IO);
  g_assert_nonnull(strstr(err.message, missing));
  g_assert_null(attn_trace_load(missing, &err));
  g_unlink(path);
  g_rmdir(dir);
  attn_trace_free(t), attn_trace_free(back);
}

static void test_sample_asset(void) {
  g_autofree char *path = g_build_filename(g_getenv("ATTN_SOURCE_DIR"), "assets", "sample-trace.json", NULL);
  attn_error err = {0};
  attn_trace *t = attn_trace_load(path, &err);
  if (!t) g_test_message("%s", err.message);
  g_assert_nonnull(t);
  g_assert_cmpint(t->n_maps, >=, 1);
  g_assert_cmpint(t->maps[0].rows, ==, t->output.n);
  g_assert_cmpint(t->maps[0].cols, ==, t->source.n);
  attn_trace_free(t);
}

static void test_validate_api(void) {
  attn_trace *t = make_translate_trace();
  attn_error err = {0};
  t->maps[0].weights[0] += 0.01f;
  g_assert_cmpint(attn_trace_validate(t, &err), ==, ATTN_E_VALUE);
  g_assert_nonnull(strstr(err.message, "layer 0 head 0"));
  t->maps[0].weights[0] -= 0.01f;
  g_assert_cmpint(attn_trace_validate(t, &err), ==, ATTN_OK);
  g_assert_cmpint(attn_trace_find_map(t, "layer 0 head 1"), ==, 1);
  g_assert_cmpint(attn_trace_find_map(t, "nope"), ==, -1);
  attn_trace_free(t);
}

/* Expected values worked out by hand from the definition (sum over source pieces of a
 * word, mean over output pieces of a word). */
static void test_merge_words(void) {
  attn_trace *t = attn_trace_new(ATTN_TASK_TRANSLATE, "m");
  const char *src[] = {"▁Ein", "▁Über", "größe", "q", "</s>"};
  unsigned char src_ws[] = {1, 1, 0, 1, 1};
  const char *out[] = {"▁A", "▁hu", "ge", "</s>"};
  unsigned char out_ws[] = {1, 1, 0, 1};
  float probs[] = {0.5f, 0.8f, 0.5f, 0.9f};
  attn_tokens_set(&t->source, 5, src, src_ws, NULL, NULL);
  attn_tokens_set(&t->output, 4, out, out_ws, probs, "A huge");
  float w[20] = {.1f, .2f, .3f, .2f, .2f, .5f, .1f, .1f, .1f, .2f, 0, .4f, .4f, .2f, 0, .2f, .2f, .2f, .2f, .2f};
  attn_trace_add_map(t, "cross", ATTN_MAP_CROSS, -1, -1, 4, 5, w);
  attn_trace *m = attn_trace_merge_words(t);
  g_assert_nonnull(m);
  g_assert_cmpint(m->source.n, ==, 4);
  g_assert_cmpstr(m->source.tokens[1], ==, "▁Übergröße");
  g_assert_cmpint(m->output.n, ==, 3);
  g_assert_cmpstr(m->output.tokens[1], ==, "▁huge");
  g_assert_cmpstr(m->output.text, ==, "A huge");
  float want_probs[] = {0.5f, 0.4f, 0.9f};
  float want[12] = {.1f, .5f, .2f, .2f, .25f, .5f, .15f, .1f, .2f, .4f, .2f, .2f};
  for (int i = 0; i < 3; i++) g_assert_cmpfloat_with_epsilon(m->output.probs[i], want_probs[i], 1e-6);
  g_assert_cmpint(m->maps[0].rows, ==, 3);
  g_assert_cmpint(m->maps[0].cols, ==, 4);
  for (int i = 0; i < 12; i++) g_assert_cmpfloat_with_epsilon(m->maps[0].weights[i], want[i], 1e-6);
  attn_error err = {0};
  g_assert_cmpint(attn_trace_validate(m, &err), ==, ATTN_OK);
  attn_trace_free(m);
  attn_trace_free(t);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/engine/trace/round-trip", test_round_trip);
  g_test_add_func("/engine/trace/round-trip-caption-read", test_round_trip_caption_read);
  g_test_add_func("/engine/trace/small-valid", test_small_valid);
  g_test_add_func("/engine/trace/save-load-atomic", test_save_load_atomic);
  g_test_add_func("/engine/trace/sample-asset", test_sample_asset);
  g_test_add_func("/engine/trace/validate", test_validate_api);
  g_test_add_func("/engine/trace/merge-words", test_merge_words);
  for (size_t i = 0; i < G_N_ELEMENTS(bad_cases); i++)
    g_test_add_data_func(bad_cases[i].path, &bad_cases[i], test_bad);
  return g_test_run();
}
