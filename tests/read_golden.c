/* Shared checks of the reading models against their PyTorch twins (see read_golden.h). */
#include "read_golden.h"

#include "golden.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

cJSON *read_golden_load(const char *name) {
  g_autofree char *dir = golden_fixture_path(name, NULL), *path = golden_fixture_path(name, "golden.json");
  attn_model_dir *model = NULL;
  cJSON *g = NULL;
  g_assert_true(golden_load(dir, path, &model, &g));
  attn_model_dir_close(model);
  return g;
}

double read_golden_compare(const cJSON *c, const char *key, const float *got, int count) {
  GArray *want = golden_floats(c, key);
  g_assert_cmpuint(want->len, ==, (guint)count);
  double worst = golden_assert_close(key, got, want);
  g_array_unref(want);
  return worst;
}

attn_reader *read_golden_reader(const char *name) {
  g_autofree char *dir = golden_fixture_path(name, NULL);
  attn_error err = {0};
  attn_reader *r = attn_reader_load(dir, &err);
  if (!r) g_test_message("%s", err.message);
  g_assert_nonnull(r);
  return r;
}

static gboolean warned(const attn_trace *t, const char *text) {
  for (int i = 0; i < t->n_warnings; i++)
    if (strstr(t->warnings[i], text)) return TRUE;
  return FALSE;
}

/* The weights of the words the model read: the map without its unknown-word columns. */
static float *read_weights(const attn_trace *t, const attn_map *m, int *n) {
  float *w = g_new(float, m->cols);
  *n = 0;
  for (int k = 0; k < m->cols; k++)
    if (!g_str_has_prefix(t->source.tokens[k], "<unk:")) w[(*n)++] = m->weights[k];
    else g_assert_cmpfloat(m->weights[k], ==, 0.0f);
  return w;
}

/* Sentences closed by "." in the source, and the kept lines (MemN2N only). */
static void check_story(const attn_trace *t, const cJSON *c, gboolean memn2n) {
  const cJSON *lines = cJSON_GetObjectItem(c, "sentences");
  int closed = 0;
  for (int k = 0; k < t->source.n; k++) closed += strcmp(t->source.tokens[k], ".") == 0;
  g_assert_cmpint(closed, ==, cJSON_GetArraySize(lines));
  g_assert_cmpint(t->n_sentences, ==, memn2n ? cJSON_GetArraySize(lines) : 0);
  for (int i = 0; i < t->n_sentences; i++) g_assert_cmpstr(t->sentences[i], ==, cJSON_GetArrayItem(lines, i)->valuestring);
  const cJSON *u;
  cJSON_ArrayForEach(u, cJSON_GetObjectItem(c, "unknown")) {
    g_autofree char *quoted = g_strdup_printf("\"%s\"", u->valuestring);
    g_assert_true(warned(t, quoted));
  }
}

static double check_case(const attn_reader *r, const cJSON *c, gboolean memn2n) {
  attn_error err = {0};
  attn_trace *t = attn_read(r, cJSON_GetObjectItem(c, "story")->valuestring,
                            cJSON_GetObjectItem(c, "question")->valuestring, &err);
  if (!t) g_test_message("%s", err.message);
  g_assert_nonnull(t);
  g_assert_cmpint(attn_trace_validate(t, &err), ==, ATTN_OK);
  check_story(t, c, memn2n);
  g_assert_cmpint(t->output.n, ==, 1);
  if (!cJSON_IsTrue(cJSON_GetObjectItem(c, "near_tie")))
    g_assert_cmpstr(t->output.tokens[0], ==, cJSON_GetObjectItem(c, "answer")->valuestring);
  double worst = fabs(t->output.probs[0] - cJSON_GetObjectItem(c, "prob")->valuedouble);
  g_assert_cmpfloat(worst, <=, GOLDEN_TOLERANCE);
  const cJSON *maps = cJSON_GetObjectItem(c, "maps");
  g_assert_cmpint(t->n_maps, ==, cJSON_GetArraySize(maps));
  for (int k = 0; k < t->n_maps; k++) {
    const attn_map *m = &t->maps[k];
    g_autofree char *name = g_strdup_printf("hop %d", k + 1);
    g_assert_cmpstr(m->name, ==, memn2n ? name : "words");
    g_assert_cmpint(m->kind, ==, ATTN_MAP_HOP);
    cJSON *one = cJSON_CreateObject();
    cJSON_AddItemReferenceToObject(one, "map", cJSON_GetArrayItem(maps, k));
    int n = m->cols;
    g_autofree float *w = memn2n ? g_memdup2(m->weights, sizeof(float) * (size_t)n) : read_weights(t, m, &n);
    worst = fmax(worst, read_golden_compare(one, "map", w, n));
    cJSON_Delete(one);
  }
  attn_trace_free(t);
  return worst;
}

static void check_text(attn_reader *r, cJSON *g, const char *arch) {
  g_assert_cmpstr(attn_reader_architecture(r), ==, arch);
  const cJSON *c;
  double worst = 0;
  int n = 0;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(g, "text")) worst = fmax(worst, check_case(r, c, strcmp(arch, "memn2n") == 0)), n++;
  g_assert_cmpint(n, >, 0);
  g_test_message("%d typed stories: answers, probabilities and maps match the twin, max abs difference %.3g", n, worst);
}

void read_golden_check_text(const char *name, const char *arch) {
  attn_reader *r = read_golden_reader(name);
  cJSON *g = read_golden_load(name);
  check_text(r, g, arch);
  cJSON_Delete(g);
  attn_reader_free(r);
}

void read_golden_check_shipped(const char *model, const char *arch) {
  g_autofree char *dir = golden_shipped_path(model), *path = golden_fixture_path(model, "golden.json");
  if (!g_file_test(dir, G_FILE_TEST_IS_DIR) || !g_file_test(path, G_FILE_TEST_EXISTS)) {
    g_test_skip("the model is not shipped yet, or its golden file is missing");
    return;
  }
  attn_model_dir *md = NULL;
  cJSON *g = NULL;
  g_assert_true(golden_load(dir, path, &md, &g));
  attn_model_dir_close(md);
  attn_error err = {0};
  attn_reader *r = attn_reader_load(dir, &err);
  if (!r) g_test_message("%s", err.message);
  g_assert_nonnull(r);
  check_text(r, g, arch);
  cJSON_Delete(g);
  attn_reader_free(r);
}

/* ---- bad input ---- */

static void expect_error(const attn_reader *r, const char *story, const char *question, attn_status code,
                         const char *words) {
  attn_error err = {0};
  attn_trace *t = attn_read(r, story, question, &err);
  g_assert_null(t);
  g_test_message("%s", err.message);
  g_assert_cmpint(err.code, ==, code);
  g_assert_nonnull(strstr(err.message, words));
}

static attn_trace *expect_trace(const attn_reader *r, const char *story, const char *question, const char *warning) {
  attn_error err = {0};
  attn_trace *t = attn_read(r, story, question, &err);
  if (!t) g_test_message("%s", err.message);
  g_assert_nonnull(t);
  g_assert_cmpint(attn_trace_validate(t, &err), ==, ATTN_OK);
  if (warning) g_assert_true(warned(t, warning));
  return t;
}

static int closed_sentences(const attn_trace *t) {
  int n = 0;
  for (int k = 0; k < t->source.n; k++) n += strcmp(t->source.tokens[k], ".") == 0;
  return n;
}

void read_golden_check_bad_input(const char *name) {
  attn_reader *r = read_golden_reader(name);
  expect_error(r, "", "Where is Mary?", ATTN_E_ARG, "no sentence");
  expect_error(r, "\n  \n\t\r\n", "Where is Mary?", ATTN_E_ARG, "no sentence");
  expect_error(r, "Mary went to the kitchen.", "", ATTN_E_ARG, "no question");
  expect_error(r, "Mary went to the kitchen.", " \n\t", ATTN_E_ARG, "no question");
  expect_error(r, "Mary went \xff to the kitchen.", "Where is Mary?", ATTN_E_VALUE, "story");
  expect_error(r, "Mary went to the kitchen.", "Where is \xc3(", ATTN_E_VALUE, "question");
  expect_error(r, NULL, "Where is Mary?", ATTN_E_ARG, "no reader");
  int keep = attn_reader_max_sentences(r);
  GString *huge = g_string_new(NULL);
  for (int i = 0; i < 100000; i++) g_string_append(huge, "Mary went to the kitchen.\n");
  g_string_append(huge, "John went to the garden.");
  attn_trace *t = expect_trace(r, huge->str, "Where is John?", "remembers the last");
  g_assert_cmpint(closed_sentences(t), ==, keep);
  if (t->n_sentences) g_assert_cmpstr(t->sentences[keep - 1], ==, "John went to the garden."); /* the newest stays */
  attn_trace_free(t);
  g_string_truncate(huge, 0);
  for (int i = 0; i < 200000; i++) g_string_append(huge, i % 2 ? "mary " : "zork ");
  t = expect_trace(r, huge->str, huge->str, "longer than the model reads");
  g_assert_true(warned(t, "the question is longer"));
  g_assert_cmpint(t->source.n, <=, 4 * attn_reader_max_words(r) + 1);
  attn_trace_free(t);
  t = expect_trace(r, "Zork blorb.", "Quux?", "not in the model's vocabulary");
  g_assert_nonnull(strstr(t->output.text, "cannot answer"));
  attn_trace_free(t);
  t = expect_trace(r, "Mary went to the kitchen. John went to the garden.", "Where is Alice?", "more than one sentence");
  g_assert_nonnull(strstr(t->output.text, "does not know"));
  attn_trace_free(t);
  g_string_free(huge, TRUE);
  attn_reader_free(r);
}

/* ---- broken model directories ---- */

static void copy_file(const char *from_dir, const char *to_dir, const char *name) {
  g_autofree char *a = g_build_filename(from_dir, name, NULL), *b = g_build_filename(to_dir, name, NULL);
  char *data = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(a, &data, &len, NULL));
  g_assert_true(g_file_set_contents(b, data, (gssize)len, NULL));
  g_free(data);
}

static void write_file(const char *dir, const char *name, const char *text, gssize len) {
  g_autofree char *p = g_build_filename(dir, name, NULL);
  g_assert_true(g_file_set_contents(p, text, len, NULL));
}

static void expect_load_error(const char *dir, attn_status code, const char *what) {
  attn_error err = {0};
  attn_reader *r = attn_reader_load(dir, &err);
  g_assert_null(r);
  g_test_message("%s: %s", what, err.message);
  g_assert_cmpint(err.code, ==, code);
}

/* A fresh copy of the fixture in tmp/<case>. */
static char *fixture_copy(const char *from, const char *tmp, const char *name) {
  char *dir = g_build_filename(tmp, name, NULL);
  g_mkdir_with_parents(dir, 0755);
  const char *files[] = {"config.json", "model.safetensors", "vocab.txt"};
  for (int i = 0; i < 3; i++) copy_file(from, dir, files[i]);
  return dir;
}

static void edit_config(const char *dir, const char *key, cJSON *value) {
  g_autofree char *p = g_build_filename(dir, "config.json", NULL);
  char *text = NULL;
  g_assert_true(g_file_get_contents(p, &text, NULL, NULL));
  cJSON *cfg = cJSON_Parse(text);
  g_free(text);
  cJSON_ReplaceItemInObject(cfg, key, value);
  char *out = cJSON_Print(cfg);
  write_file(dir, "config.json", out, -1);
  free(out);
  cJSON_Delete(cfg);
}

static void remove_tree(const char *dir) {
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d))) {
    g_autofree char *p = g_build_filename(dir, name, NULL);
    if (g_file_test(p, G_FILE_TEST_IS_DIR)) remove_tree(p);
    else g_remove(p);
  }
  g_rmdir(dir);
}

void read_golden_check_bad_models(const char *name, const char *size_key) {
  g_autofree char *from = golden_fixture_path(name, NULL);
  g_autofree char *tmp = g_dir_make_tmp("attn-read-XXXXXX", NULL);
  g_autofree char *vocab_path = g_build_filename(from, "vocab.txt", NULL);
  char *vocab = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(vocab_path, &vocab, &len, NULL));
  *strrchr(vocab, '\n') = '\0'; /* entries without the final newline */
  const char *last = strrchr(vocab, '\n') + 1;
  g_autofree char *short_vocab = fixture_copy(from, tmp, "short-vocab");
  write_file(short_vocab, "vocab.txt", vocab, (gssize)(last - vocab)); /* one entry less */
  expect_load_error(short_vocab, ATTN_E_SHAPE, "vocabulary one entry short");
  g_autofree char *dup = fixture_copy(from, tmp, "duplicate");
  g_autofree char *dup_text = g_strdup_printf("%.*smary\n", (int)(last - vocab), vocab);
  write_file(dup, "vocab.txt", dup_text, -1); /* the last entry replaced by one listed before */
  expect_load_error(dup, ATTN_E_FORMAT, "an entry twice");
  g_autofree char *none = fixture_copy(from, tmp, "no-vocab");
  g_autofree char *none_vocab = g_build_filename(none, "vocab.txt", NULL);
  g_remove(none_vocab);
  expect_load_error(none, ATTN_E_MISSING, "no vocab.txt");
  g_autofree char *size = fixture_copy(from, tmp, "size");
  edit_config(size, size_key, cJSON_CreateNumber(7));
  expect_load_error(size, ATTN_E_SHAPE, "config does not match the tensors");
  g_autofree char *arch = fixture_copy(from, tmp, "arch");
  const char *unknown[] = {"GPT2"};
  edit_config(arch, "architectures", cJSON_CreateStringArray(unknown, 1));
  expect_load_error(arch, ATTN_E_VALUE, "not a reading model");
  g_autofree char *trunc = fixture_copy(from, tmp, "truncated");
  g_autofree char *st_path = g_build_filename(from, "model.safetensors", NULL);
  char *st = NULL;
  g_assert_true(g_file_get_contents(st_path, &st, &len, NULL));
  write_file(trunc, "model.safetensors", st, (gssize)(len - 100));
  attn_error err = {0};
  g_assert_null(attn_reader_load(trunc, &err));
  g_test_message("truncated tensors: %s", err.message);
  g_free(st);
  g_free(vocab);
  remove_tree(tmp);
}
