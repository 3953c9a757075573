/* The teaching model (data/models/dates-rnn): its answers and where it looks. While it
 * writes the month digits of "YYYY-MM-DD", its largest attention weight must fall on a
 * piece of the month word. The expected dates below were written by hand. */
#include <cjson/cJSON.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "attn_model_dir.h"
#include "attn_rnn.h"
#include "attn_translate.h"
#include "golden.h"

typedef struct date_case {
  const char *text;
  const char *iso;
  const char *month_word;
} date_case;

static const date_case cases[] = {
    {"Wednesday, the 3rd of March 2021", "2021-03-03", "March"},
    {"14 July 1989", "1989-07-14", "July"},
    {"December 25, 2030", "2030-12-25", "December"},
    {"1st January 2000", "2000-01-01", "January"},
    {"Sat 9 Nov 1991", "1991-11-09", "Nov"},
    {"the 22nd of August, 1968", "1968-08-22", "August"},
    {"October 31st 2015", "2015-10-31", "October"},
    {"Feb. 29, 2024", "2024-02-29", "Feb"},
    {"Monday 6 June 1944", "1944-06-06", "June"},
    {"April the 1st, 2099", "2099-04-01", "April"},
    {"Friday, September 13, 2013", "2013-09-13", "September"},
    {"5-May-1955", "1955-05-05", "May"},
    {"thursday, the 20th of july 1969", "1969-07-20", "july"},
    {"THE 11TH OF NOVEMBER, 1918", "1918-11-11", "NOVEMBER"},
    {"Tue 17 Dec 1903", "1903-12-17", "Dec"},
    {"19 February 1473", NULL, "February"}, /* outside the training range: not scored */
    {"June 18, 1815", NULL, "June"},
    {"2 October 2002", "2002-10-02", "October"},
    {"Sunday 30 January 2011", "2011-01-30", "January"},
    {"March 8th 1917", "1917-03-08", "March"},
    {"the 4th of July, 1976", "1976-07-04", "July"},
    {"Aug. 6, 1945", "1945-08-06", "Aug"},
    {"Wednesday, April 15, 1912", "1912-04-15", "April"},
    {"Thu 24 Oct 1929", "1929-10-24", "Oct"},
};

/* Characters [begin, end) of the output text that output piece i covers. */
static void piece_span(const attn_tokens *out, int i, int *begin, int *end) {
  int at = 0;
  for (int k = 0; k <= i; k++) {
    const char *p = out->tokens[k];
    if (g_str_has_prefix(p, "\xe2\x96\x81")) p += 3;
    if (strcmp(p, "</s>") == 0) p = "";
    if (k == i) *begin = at;
    at += (int)strlen(p);
  }
  *end = at;
}

static gboolean piece_in_word(const char *piece, const char *word) {
  if (g_str_has_prefix(piece, "\xe2\x96\x81")) piece += 3;
  if (!*piece) return FALSE;
  g_autofree char *p = g_ascii_strdown(piece, -1), *w = g_ascii_strdown(word, -1);
  return strstr(w, p) != NULL;
}

static void test_dates(void) {
  g_autofree char *dir = golden_shipped_path("dates-rnn");
  if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
    g_test_skip("data/models/dates-rnn is not shipped yet");
    return;
  }
  attn_error err = {0};
  attn_translator *t = attn_translator_load(dir, &err);
  g_assert_nonnull(t);
  int scored = 0, right = 0, month_rows = 0, on_month = 0;
  for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
    attn_trace *tr = attn_translate(t, cases[c].text, strlen(cases[c].text), NULL, &err);
    g_assert_nonnull(tr);
    g_assert_cmpint(tr->n_maps, ==, 1);
    if (cases[c].iso) {
      scored++;
      right += g_strcmp0(tr->output.text, cases[c].iso) == 0;
      if (g_strcmp0(tr->output.text, cases[c].iso) != 0) g_test_message("%s -> %s (want %s)", cases[c].text, tr->output.text, cases[c].iso);
    }
    const attn_map *m = &tr->maps[0];
    for (int i = 0; i < tr->output.n; i++) {
      int b = 0, e = 0;
      piece_span(&tr->output, i, &b, &e);
      if (e <= 5 || b >= 7 || b == e) continue; /* not a month digit (chars 5 and 6) */
      int best = 0;
      for (int j = 1; j < m->cols; j++)
        if (m->weights[i * m->cols + j] > m->weights[i * m->cols + best]) best = j;
      month_rows++;
      gboolean ok = piece_in_word(tr->source.tokens[best], cases[c].month_word);
      on_month += ok;
      if (!ok) g_test_message("%s: month digit '%s' looks most at '%s'", cases[c].text, tr->output.tokens[i], tr->source.tokens[best]);
    }
    attn_trace_free(tr);
  }
  g_test_message("exact %d/%d; month digits looking at the month word: %d/%d", right, scored, on_month, month_rows);
  g_assert_cmpint(month_rows, >=, 2 * (int)G_N_ELEMENTS(cases) - 4);
  g_assert_cmpint(right * 10, >=, scored * 9);
  g_assert_cmpint(on_month * 10, >=, month_rows * 9);
  attn_translator_free(t);
}

static int32_t *ids_of(const cJSON *a, int *n) {
  *n = cJSON_GetArraySize(a);
  int32_t *v = g_new(int32_t, *n + 1);
  for (int i = 0; i < *n; i++) v[i] = (int32_t)cJSON_GetArrayItem(a, i)->valuedouble;
  return v;
}

/* The C engine against the PyTorch twin on the shipped weights (segmented encoder):
 * logits and attention of the teacher-forced greedy output, and the greedy output itself. */
static void test_golden(void) {
  g_autofree char *dir = g_build_filename(g_getenv("ATTN_SOURCE_DIR"), "data", "models", "dates-rnn", NULL);
  g_autofree char *path = g_build_filename(g_getenv("ATTN_FIXTURES"), "dates-golden.json", NULL);
  if (!g_file_test(dir, G_FILE_TEST_IS_DIR) || !g_file_test(path, G_FILE_TEST_EXISTS)) {
    g_test_skip("data/models/dates-rnn or its golden file is not there yet");
    return;
  }
  attn_error err = {0};
  attn_model_dir *md = attn_model_dir_open(dir, &err);
  attn_rnn *m = md ? attn_rnn_load(md, &err) : NULL;
  g_assert_nonnull(m);
  g_assert_true(attn_rnn_model_dims(m)->segments);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  cJSON *doc = cJSON_Parse(text);
  const cJSON *c;
  double worst_logit = 0, worst_attn = 0;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases")) {
    int n, T;
    g_autofree int32_t *src = ids_of(cJSON_GetObjectItem(c, "src"), &n);
    g_autofree int32_t *out = ids_of(cJSON_GetObjectItem(c, "greedy"), &T);
    attn_rnn_run *run = attn_rnn_run_new(m, src, n, 1, T, &err);
    attn_s2s s2s = attn_rnn_run_s2s(run);
    attn_s2s_hyp h = {0};
    g_assert_cmpint(attn_greedy(&s2s, &h, &err), ==, ATTN_OK);
    g_assert_cmpint(h.n, ==, T);
    g_assert_cmpmem(h.ids, T * sizeof(int32_t), out, T * sizeof(int32_t));
    for (int t = 0; t < T; t++) { /* attention of each greedy step against the twin */
      const cJSON *row = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "cross_attention"), t);
      for (int j = 0; j < n; j++) worst_attn = fmax(worst_attn, fabs(h.cross[t * n + j] - cJSON_GetArrayItem(row, j)->valuedouble));
    }
    attn_s2s_hyp_clear(&h);
    attn_rnn_run_free(run);
    run = attn_rnn_run_new(m, src, n, 1, T, &err); /* logits: teacher-forced, step by step */
    s2s = attn_rnn_run_s2s(run);
    int V = s2s.vocab;
    g_autofree float *lp = g_new(float, V), *cross = g_new(float, n);
    for (int t = 0; t < T; t++) {
      int32_t tok = t == 0 ? s2s.start_token : out[t - 1];
      g_assert_cmpint(s2s.step(s2s.self, &tok, 1, t, lp, cross, &err), ==, ATTN_OK);
      const cJSON *row = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "logits"), t);
      double lse = 0, mx = -INFINITY; /* the twin's raw logits to log-probs, pad excluded */
      for (int v = 0; v < V; v++) mx = fmax(mx, cJSON_GetArrayItem(row, v)->valuedouble);
      for (int v = 0; v < V; v++) lse += exp(cJSON_GetArrayItem(row, v)->valuedouble - mx);
      for (int v = 0; v < V; v++)
        if (isfinite(lp[v])) /* pad is -inf in both */
          worst_logit = fmax(worst_logit, fabs(lp[v] - (cJSON_GetArrayItem(row, v)->valuedouble - mx - log(lse))));
    }
    attn_rnn_run_free(run);
  }
  g_test_message("dates-rnn vs PyTorch twin: log-probs max abs diff %.3g, attention %.3g", worst_logit, worst_attn);
  g_assert_cmpfloat(worst_logit, <=, 1e-4);
  g_assert_cmpfloat(worst_attn, <=, 1e-4);
  cJSON_Delete(doc);
  attn_rnn_free(m);
  attn_model_dir_close(md);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/models/teaching/dates-vs-pytorch", test_golden);
  g_test_add_func("/models/teaching/dates-attention", test_dates);
  return g_test_run();
}
