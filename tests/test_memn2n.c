/* The C MemN2N and the reader API against the PyTorch twin: tokenizer, logits and hop maps
 * on golden files written by training/golden_memn2n.py, then bad input and bad models. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attn_memn2n.h"
#include "attn_read.h"
#include "golden.h"
#include "read_golden.h"

static void test_tokenize(void) {
  cJSON *g = read_golden_load("memn2n-tiny");
  const cJSON *c;
  int cases = 0;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(g, "tokenize")) {
    const char *text = cJSON_GetObjectItem(c, "text")->valuestring;
    const cJSON *want = cJSON_GetObjectItem(c, "words");
    int n = -1;
    char **words = attn_read_tokenize(text, strlen(text), 1000, &n);
    g_assert_nonnull(words);
    g_assert_cmpint(n, ==, cJSON_GetArraySize(want));
    for (int i = 0; i < n; i++) g_assert_cmpstr(words[i], ==, cJSON_GetArrayItem(want, i)->valuestring);
    g_assert_null(words[n]);
    attn_words_free(words);
    cases++;
  }
  int n = 0;
  char **two = attn_read_tokenize("a b c d", 7, 2, &n); /* stops at max_words */
  g_assert_cmpint(n, ==, 2);
  attn_words_free(two);
  g_test_message("%d texts tokenised as training/babi.py does", cases);
  cJSON_Delete(g);
}

static attn_memn2n *load_model(attn_model_dir **dir) {
  g_autofree char *path = golden_fixture_path("memn2n-tiny", NULL);
  attn_error err = {0};
  *dir = attn_model_dir_open(path, &err);
  attn_memn2n *m = *dir ? attn_memn2n_load(*dir, &err) : NULL;
  if (!m) g_test_message("%s", err.message);
  g_assert_nonnull(m);
  return m;
}

static void test_forward(void) {
  attn_model_dir *dir;
  attn_memn2n *m = load_model(&dir);
  const attn_memn2n_dims *D = attn_memn2n_model_dims(m);
  cJSON *g = read_golden_load("memn2n-tiny");
  const cJSON *c;
  double worst = 0;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(g, "ids")) {
    const cJSON *story = cJSON_GetObjectItem(c, "story"), *s;
    int n = cJSON_GetArraySize(story), lens[64], total = 0, q_len = 0, i = 0;
    int32_t words[512], *q = golden_int_array(cJSON_GetObjectItem(c, "question"), &q_len);
    cJSON_ArrayForEach(s, story) {
      int k = 0;
      int32_t *ids = golden_int_array(s, &k);
      memcpy(words + total, ids, (size_t)k * sizeof *ids);
      lens[i++] = k;
      total += k;
      g_free(ids);
    }
    float *logits = g_new(float, D->vocab), *hops = g_new(float, D->hops * n);
    attn_error err = {0};
    g_assert_cmpint(attn_memn2n_forward(m, words, lens, n, q, q_len, logits, hops, &err), ==, ATTN_OK);
    worst = fmax(worst, read_golden_compare(c, "logits", logits, D->vocab));
    worst = fmax(worst, read_golden_compare(c, "hops", hops, D->hops * n));
    g_free(logits), g_free(hops), g_free(q);
  }
  g_test_message("MemN2N vs PyTorch twin: max abs difference %.3g over logits and hop maps", worst);
  cJSON_Delete(g);
  attn_memn2n_free(m);
  attn_model_dir_close(dir);
}

static void test_forward_arguments(void) {
  attn_model_dir *dir;
  attn_memn2n *m = load_model(&dir);
  const attn_memn2n_dims *D = attn_memn2n_model_dims(m);
  float logits[64], hops[64];
  int32_t words[8] = {3, 4, 5, 6, 7, 8, 9, 10}, bad[2] = {0, D->vocab};
  int lens[8] = {2, 1, 1, 1, 1, 1, 1, 1}, long_len[1] = {D->max_sentence_words + 1};
  attn_error err = {0};
  g_assert_cmpint(attn_memn2n_forward(m, words, lens, 0, words, 1, logits, hops, &err), ==, ATTN_E_ARG);
  g_assert_cmpint(attn_memn2n_forward(m, words, lens, D->memory_size + 1, words, 1, logits, hops, &err), ==, ATTN_E_ARG);
  g_assert_cmpint(attn_memn2n_forward(m, words, long_len, 1, words, 1, logits, hops, &err), ==, ATTN_E_ARG);
  g_assert_cmpint(attn_memn2n_forward(m, bad, lens, 1, words, 1, logits, hops, &err), ==, ATTN_E_VALUE);
  g_assert_cmpint(attn_memn2n_forward(m, words, lens, 1, bad + 1, 1, logits, hops, &err), ==, ATTN_E_VALUE);
  g_test_message("last error: %s", err.message);
  attn_memn2n_free(m);
  attn_model_dir_close(dir);
}

static void test_read_text(void) {
  read_golden_check_text("memn2n-tiny", "memn2n");
}

static void test_bad_input(void) {
  read_golden_check_bad_input("memn2n-tiny");
}

static void test_bad_model(void) {
  read_golden_check_bad_models("memn2n-tiny", "memory_size");
}

/* Over one bAbI test file: how often the single strongest hop weight falls on a labelled
 * supporting fact, and how often the answer is right. */
static void support_hits(const attn_reader *r, const char *path, int *n, int *hits, int *right) {
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  GPtrArray *story = g_ptr_array_new_with_free_func(g_free);
  int line_to_sentence[1024];
  *n = *hits = *right = 0;
  for (char **l = lines; *l; l++) {
    char *sp = strchr(*l, ' ');
    int id = atoi(*l);
    if (!sp || id < 1 || id >= 1024) continue;
    if (id == 1) g_ptr_array_set_size(story, 0);
    g_auto(GStrv) parts = g_strsplit(sp + 1, "\t", 3);
    if (!parts[1] || !parts[2]) {
      line_to_sentence[id] = (int)story->len;
      g_ptr_array_add(story, g_strdup(parts[0]));
      continue;
    }
    g_ptr_array_add(story, NULL);
    g_autofree char *joined = g_strjoinv("\n", (char **)story->pdata);
    g_ptr_array_set_size(story, story->len - 1);
    attn_error err = {0};
    attn_trace *t = attn_read(r, joined, parts[0], &err);
    g_assert_nonnull(t);
    int best = 0, offset = (int)story->len - t->n_sentences;
    float top = -1;
    for (int k = 0; k < t->n_maps; k++)
      for (int i = 0; i < t->maps[k].cols; i++)
        if (t->maps[k].weights[i] > top) top = t->maps[k].weights[i], best = i;
    g_auto(GStrv) ids = g_strsplit(g_strstrip(parts[2]), " ", -1);
    for (char **s = ids; *s; s++)
      if (atoi(*s) >= 1 && atoi(*s) < 1024 && line_to_sentence[atoi(*s)] == best + offset) {
        (*hits)++;
        break;
      }
    *right += strcmp(t->output.tokens[0], g_strstrip(parts[1])) == 0;
    (*n)++;
    attn_trace_free(t);
  }
  g_ptr_array_unref(story);
}

/* The shipped model's strongest hop lands on a supporting fact of bAbI tasks 1 and 2 at
 * least 90% of the time (the bar); skipped until the model is shipped. */
static void test_shipped_support(void) {
  g_autofree char *model = golden_shipped_path("memn2n-babi");
  g_autofree char *babi = g_build_filename(g_getenv("ATTN_SHARED_DIR"), "data", "babi", "en-10k", NULL);
  if (!g_file_test(model, G_FILE_TEST_IS_DIR) || !g_file_test(babi, G_FILE_TEST_IS_DIR)) {
    g_test_skip("data/models/memn2n-babi or ../shared/data/babi is missing");
    return;
  }
  attn_error err = {0};
  attn_reader *r = attn_reader_load(model, &err);
  g_assert_nonnull(r);
  const char *files[] = {"qa1_single-supporting-fact_test.txt", "qa2_two-supporting-facts_test.txt"};
  for (int f = 0; f < 2; f++) {
    g_autofree char *path = g_build_filename(babi, files[f], NULL);
    int n, hits, right;
    support_hits(r, path, &n, &hits, &right);
    g_test_message("task %d: strongest hop on a supporting fact %d of %d (%.1f%%), answers right %.1f%%", f + 1, hits, n,
                   100.0 * hits / n, 100.0 * right / n);
    g_assert_cmpint(n, ==, 1000);
    g_assert_cmpint(hits, >=, 900);
  }
  attn_reader_free(r);
}

/* The shipped weights: 200 typed bAbI test stories (10 per task) against the twin. */
static void test_shipped_vs_twin(void) { read_golden_check_shipped("memn2n-babi", "memn2n"); }

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/memn2n/tokenize", test_tokenize);
  g_test_add_func("/memn2n/forward", test_forward);
  g_test_add_func("/memn2n/forward-arguments", test_forward_arguments);
  g_test_add_func("/memn2n/read-text", test_read_text);
  g_test_add_func("/memn2n/bad-input", test_bad_input);
  g_test_add_func("/memn2n/bad-model", test_bad_model);
  g_test_add_func("/memn2n/shipped/support", test_shipped_support);
  g_test_add_func("/memn2n/shipped/vs-pytorch", test_shipped_vs_twin);
  return g_test_run();
}
