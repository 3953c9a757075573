/* The C attentive reader and the reader API against the PyTorch twin: logits and word
 * attention on golden files written by training/golden_attentive_reader.py, then bad
 * input and bad models. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "attn_reader.h"
#include "golden.h"
#include "read_golden.h"

static attn_attentive_reader *load_model(attn_model_dir **dir) {
  g_autofree char *path = golden_fixture_path("attentive-reader-tiny", NULL);
  attn_error err = {0};
  *dir = attn_model_dir_open(path, &err);
  attn_attentive_reader *m = *dir ? attn_attentive_reader_load(*dir, &err) : NULL;
  if (!m) g_test_message("%s", err.message);
  g_assert_nonnull(m);
  return m;
}

static void test_forward(void) {
  attn_model_dir *dir;
  attn_attentive_reader *m = load_model(&dir);
  const attn_attentive_reader_dims *D = attn_attentive_reader_model_dims(m);
  cJSON *g = read_golden_load("attentive-reader-tiny");
  const cJSON *c;
  double worst = 0;
  int cases = 0;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(g, "ids")) {
    int T = 0, Q = 0;
    int32_t *doc = golden_int_array(cJSON_GetObjectItem(c, "doc"), &T);
    int32_t *q = golden_int_array(cJSON_GetObjectItem(c, "question"), &Q);
    float *logits = g_new(float, D->vocab), *attn = g_new(float, T);
    attn_error err = {0};
    g_assert_cmpint(attn_attentive_reader_forward(m, doc, T, q, Q, logits, attn, &err), ==, ATTN_OK);
    worst = fmax(worst, read_golden_compare(c, "logits", logits, D->vocab));
    worst = fmax(worst, read_golden_compare(c, "attention", attn, T));
    g_free(logits), g_free(attn), g_free(doc), g_free(q);
    cases++;
  }
  g_test_message("attentive reader vs PyTorch twin, %d documents: max abs difference %.3g over logits and attention",
                 cases, worst);
  cJSON_Delete(g);
  attn_attentive_reader_free(m);
  attn_model_dir_close(dir);
}

static void test_forward_arguments(void) {
  attn_model_dir *dir;
  attn_attentive_reader *m = load_model(&dir);
  const attn_attentive_reader_dims *D = attn_attentive_reader_model_dims(m);
  float logits[64], attn[64];
  int32_t doc[4] = {3, 4, 1, 5}, bad[1] = {D->vocab};
  attn_error err = {0};
  g_assert_cmpint(attn_attentive_reader_forward(m, doc, 0, doc, 1, logits, attn, &err), ==, ATTN_E_ARG);
  g_assert_cmpint(attn_attentive_reader_forward(m, doc, 4, doc, D->max_sentence_words + 1, logits, attn, &err), ==,
                  ATTN_E_ARG);
  g_assert_cmpint(attn_attentive_reader_forward(m, bad, 1, doc, 1, logits, attn, &err), ==, ATTN_E_VALUE);
  g_assert_cmpint(attn_attentive_reader_forward(m, doc, 4, doc, 0, logits, attn, &err), ==, ATTN_OK);
  double sum = 0;
  for (int i = 0; i < 4; i++) sum += attn[i];
  g_assert_cmpfloat(fabs(sum - 1.0), <, 1e-5);
  attn_attentive_reader_free(m);
  attn_model_dir_close(dir);
}

static void test_read_text(void) { read_golden_check_text("attentive-reader-tiny", "attentive-reader"); }
static void test_bad_input(void) { read_golden_check_bad_input("attentive-reader-tiny"); }
static void test_bad_model(void) { read_golden_check_bad_models("attentive-reader-tiny", "hidden"); }
/* The shipped weights: 200 typed bAbI test stories (10 per task) against the twin
 * (training/golden_attentive_reader.py shipped); skipped until the model ships. */
static void test_shipped_vs_twin(void) { read_golden_check_shipped("attentive-reader-babi", "attentive-reader"); }

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/reader/forward", test_forward);
  g_test_add_func("/reader/forward-arguments", test_forward_arguments);
  g_test_add_func("/reader/read-text", test_read_text);
  g_test_add_func("/reader/bad-input", test_bad_input);
  g_test_add_func("/reader/bad-model", test_bad_model);
  g_test_add_func("/reader/shipped/vs-pytorch", test_shipped_vs_twin);
  return g_test_run();
}
