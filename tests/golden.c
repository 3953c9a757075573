/* Fixture paths, golden-file reading and the engine-vs-twin checks shared by the model tests. */
#include "golden.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

char *golden_fixture_path(const char *a, const char *b) {
  return g_build_filename(g_getenv("ATTN_FIXTURES"), a, b, NULL);
}

static const char *const model_files[] = {"config.json", "model.safetensors", "vocab.txt"};

char *golden_copy_model(const char *name) {
  char *tmp = g_dir_make_tmp("attn-model-XXXXXX", NULL);
  g_assert_nonnull(tmp);
  for (size_t i = 0; i < G_N_ELEMENTS(model_files); i++) {
    g_autofree char *from = golden_fixture_path(name, model_files[i]), *to = g_build_filename(tmp, model_files[i], NULL);
    g_autofree char *data = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(from, &data, &len, NULL));
    g_assert_true(g_file_set_contents(to, data, (gssize)len, NULL));
  }
  return tmp;
}

void golden_remove_model_copy(const char *dir) {
  for (size_t i = 0; i < G_N_ELEMENTS(model_files); i++) {
    g_autofree char *p = g_build_filename(dir, model_files[i], NULL);
    g_unlink(p);
  }
  g_rmdir(dir);
}

void golden_replace_in_file(const char *dir, const char *file, const char *from, const char *to) {
  g_autofree char *path = g_build_filename(dir, file, NULL), *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  char *at = strstr(text, from);
  g_assert_nonnull(at);
  GString *s = g_string_new_len(text, at - text);
  g_string_append(s, to);
  g_string_append(s, at + strlen(from));
  g_assert_true(g_file_set_contents(path, s->str, (gssize)s->len, NULL));
  g_string_free(s, TRUE);
}

char *golden_shipped_path(const char *name) {
  return g_build_filename(g_getenv("ATTN_SOURCE_DIR"), "data", "models", name, NULL);
}

gboolean golden_load(const char *model_dir, const char *golden_path, attn_model_dir **dir, cJSON **golden) {
  attn_error err = {0};
  if (!g_file_test(golden_path, G_FILE_TEST_EXISTS)) return FALSE;
  *dir = attn_model_dir_open(model_dir, &err);
  if (!*dir) g_test_message("%s", err.message);
  g_assert_nonnull(*dir);
  char *text = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(golden_path, &text, &len, NULL));
  *golden = cJSON_ParseWithLength(text, len);
  g_free(text);
  g_assert_nonnull(*golden);
  return TRUE;
}

gboolean golden_fixture_load(golden_fixture *f, const char *model_dir, const char *golden_path,
                             golden_model_loader load, void (*free_model)(void *m)) {
  *f = (golden_fixture){NULL, NULL, NULL, free_model};
  if (!golden_load(model_dir, golden_path, &f->dir, &f->golden)) return FALSE;
  attn_error err = {0};
  f->m = load(f->dir, &err);
  if (!f->m) g_test_message("%s", err.message);
  g_assert_nonnull(f->m);
  return TRUE;
}

void golden_fixture_load_tiny(golden_fixture *f, const char *name, golden_model_loader load,
                              void (*free_model)(void *m)) {
  g_autofree char *dir = golden_fixture_path(name, NULL), *golden = golden_fixture_path(name, "golden.json");
  g_assert_true(golden_fixture_load(f, dir, golden, load, free_model));
}

void golden_fixture_free(golden_fixture *f) {
  if (f->m) f->free_model(f->m);
  attn_model_dir_close(f->dir);
  cJSON_Delete(f->golden);
}

int32_t *golden_int_array(const cJSON *a, int *n) {
  *n = cJSON_GetArraySize(a);
  int32_t *v = g_new(int32_t, *n + 1);
  for (int i = 0; i < *n; i++) v[i] = (int32_t)cJSON_GetArrayItem(a, i)->valuedouble;
  return v;
}

static void flatten(const cJSON *a, GArray *out) {
  if (cJSON_IsNumber(a)) {
    float v = (float)a->valuedouble;
    g_array_append_val(out, v);
    return;
  }
  const cJSON *it;
  cJSON_ArrayForEach(it, a) flatten(it, out);
}

GArray *golden_floats(const cJSON *c, const char *key) {
  GArray *values = g_array_new(FALSE, FALSE, sizeof(float));
  flatten(cJSON_GetObjectItem(c, key), values);
  return values;
}

double golden_assert_close(const char *key, const float *got, const GArray *want) {
  double worst = 0;
  for (guint i = 0; i < want->len; i++) worst = fmax(worst, fabs(got[i] - g_array_index(want, float, i)));
  g_test_message("%s: %u values, max abs difference %.3g", key, want->len, worst);
  g_assert_cmpfloat(worst, <=, GOLDEN_TOLERANCE);
  return worst;
}

int golden_select_columns(const cJSON *c, float *logits, int T, int V) {
  const cJSON *cols = cJSON_GetObjectItem(c, "logit_columns");
  if (!cols) return V;
  int nc;
  g_autofree int32_t *col = golden_int_array(cols, &nc);
  g_autofree float *sub = g_new(float, (size_t)T * nc);
  for (int t = 0; t < T; t++)
    for (int j = 0; j < nc; j++) sub[(size_t)t * nc + j] = logits[(size_t)t * V + col[j]];
  memcpy(logits, sub, (size_t)T * nc * sizeof(float));
  return nc;
}

gboolean golden_ids_equal(const attn_s2s_hyp *h, const cJSON *ids) {
  if (h->n != cJSON_GetArraySize(ids)) return FALSE;
  for (int i = 0; i < h->n; i++)
    if (h->ids[i] != (int)cJSON_GetArrayItem(ids, i)->valuedouble) return FALSE;
  return TRUE;
}

void golden_check_greedy(const attn_s2s_hyp *g, const cJSON *c, int *near_ties) {
  gboolean ok = golden_ids_equal(g, cJSON_GetObjectItem(c, "greedy"));
  if (!ok && cJSON_IsTrue(cJSON_GetObjectItem(c, "near_tie"))) (*near_ties)++;
  else g_assert_true(ok);
}

/* The smaller score gap between the twin's hypothesis i and its neighbours (1 if none). */
static double neighbour_gap(const cJSON *want, int i) {
  double norm = cJSON_GetObjectItem(cJSON_GetArrayItem(want, i), "normalized")->valuedouble;
  const cJSON *prev = i > 0 ? cJSON_GetArrayItem(want, i - 1) : NULL, *next = cJSON_GetArrayItem(want, i + 1);
  return fmin(prev ? fabs(cJSON_GetObjectItem(prev, "normalized")->valuedouble - norm) : 1.0,
              next ? fabs(cJSON_GetObjectItem(next, "normalized")->valuedouble - norm) : 1.0);
}

void golden_check_beam(const attn_s2s_hyp *hyps, int nh, const cJSON *c, int *near_ties) {
  const cJSON *want = cJSON_GetObjectItem(c, "beam");
  int tie = cJSON_IsTrue(cJSON_GetObjectItem(c, "near_tie"));
  g_assert_cmpint(nh, ==, cJSON_GetArraySize(want));
  for (int i = 0; i < nh; i++) {
    const cJSON *w = cJSON_GetArrayItem(want, i);
    if (golden_ids_equal(&hyps[i], cJSON_GetObjectItem(w, "ids"))) {
      g_assert_cmpfloat(fabs(hyps[i].normalized - cJSON_GetObjectItem(w, "normalized")->valuedouble), <=,
                        GOLDEN_TOLERANCE);
      continue;
    }
    /* only a near tie (with the twin's neighbour, or at a greedy step) may reorder */
    double gap = neighbour_gap(want, i);
    g_test_message("beam hypothesis %d differs from the twin (score gap to a neighbour %.2g; engine %.6f, twin %.6f)", i,
                   gap, hyps[i].normalized, cJSON_GetObjectItem(w, "normalized")->valuedouble);
    g_assert_true(tie || gap < GOLDEN_TOLERANCE);
    (*near_ties)++;
  }
}

void golden_check_beam1_is_greedy(const attn_s2s *m1, const attn_s2s *m2) {
  attn_s2s_hyp g = {0}, b[1] = {{0}};
  attn_error err = {0};
  int nb = 0;
  g_assert_cmpint(attn_greedy(m1, &g, &err), ==, ATTN_OK);
  g_assert_cmpint(attn_beam(m2, 1, 1.0, b, &nb, &err), ==, ATTN_OK);
  g_assert_cmpint(nb, ==, 1);
  g_assert_cmpint(g.n, ==, b[0].n);
  g_assert_cmpmem(g.ids, g.n * sizeof(int32_t), b[0].ids, b[0].n * sizeof(int32_t));
  g_assert_cmpmem(g.cross, (size_t)g.n * m1->n_maps * m1->keys * sizeof(float), b[0].cross,
                  (size_t)b[0].n * m2->n_maps * m2->keys * sizeof(float));
  attn_s2s_hyp_clear(&g);
  attn_s2s_hyp_clear(&b[0]);
}

attn_translator *golden_translator(const char *name) {
  g_autofree char *dir = golden_fixture_path(name, NULL);
  attn_error err = {0};
  attn_translator *t = attn_translator_load(dir, &err);
  if (!t) g_test_message("%s", err.message);
  g_assert_nonnull(t);
  return t;
}

attn_trace *golden_translate(attn_translator *t, const char *text, int beam, int self_attention) {
  attn_translate_opts o;
  attn_translate_opts_init(&o);
  o.beam = beam;
  o.self_attention = self_attention;
  attn_error err = {0};
  attn_trace *tr = attn_translate(t, text, strlen(text), &o, &err);
  if (!tr) g_test_message("%s", err.message);
  g_assert_nonnull(tr);
  g_assert_cmpint(attn_trace_validate(tr, &err), ==, ATTN_OK); /* shapes match tokens, rows sum to 1 */
  return tr;
}

static const char *const copied_files[] = {"model.safetensors", "source.spm", "config.json"};

char *golden_model_copy(const char *name, const char *key, const char *json_value) {
  g_autofree char *src = golden_fixture_path(name, NULL);
  char *dir = g_dir_make_tmp("model-copy-XXXXXX", NULL);
  g_assert_nonnull(dir);
  for (size_t i = 0; i < G_N_ELEMENTS(copied_files); i++) {
    g_autofree char *from = g_build_filename(src, copied_files[i], NULL), *to = g_build_filename(dir, copied_files[i], NULL);
    g_autofree char *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(from, &data, &len, NULL));
    if (i == 2) {
      cJSON *cfg = cJSON_ParseWithLength(data, len), *value = cJSON_Parse(json_value);
      g_assert_nonnull(cfg);
      g_assert_nonnull(value);
      if (cJSON_GetObjectItemCaseSensitive(cfg, key)) cJSON_ReplaceItemInObjectCaseSensitive(cfg, key, value);
      else cJSON_AddItemToObject(cfg, key, value);
      g_free(data);
      data = cJSON_Print(cfg);
      len = strlen(data);
      cJSON_Delete(cfg);
    }
    g_assert_true(g_file_set_contents(to, data, (gssize)len, NULL));
  }
  return dir;
}

void golden_model_copy_remove(char *dir) {
  for (size_t i = 0; i < G_N_ELEMENTS(copied_files); i++) {
    g_autofree char *p = g_build_filename(dir, copied_files[i], NULL);
    g_remove(p);
  }
  g_rmdir(dir);
  g_free(dir);
}
