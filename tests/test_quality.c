/* BLEU in C against training/bleu.py (golden file), the line chart renderer, and
 * `attnlens bench quality --by-length` as a user runs it. */
#include <cjson/cJSON.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "bleu.h"
#include "cli_util.h"
#include "lens_chart.h"

static cJSON *load_golden(void) {
  g_autofree char *path = g_build_filename(g_getenv("ATTN_FIXTURES"), "bleu", "golden.json", NULL);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  cJSON *doc = cJSON_Parse(text);
  g_assert_nonnull(doc);
  return doc;
}

static void test_tokenize(void) {
  cJSON *doc = load_golden(), *c;
  int n = 0;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "tokenize")) {
    const char *text = cJSON_GetObjectItem(c, "text")->valuestring, *want = cJSON_GetObjectItem(c, "tokens")->valuestring;
    g_autofree char *got = bleu_tokenize_13a(text);
    g_assert_cmpstr(got, ==, want);
    n++;
  }
  g_assert_cmpint(n, >=, 18);
  cJSON_Delete(doc);
}

static void test_corpus_bleu(void) {
  cJSON *doc = load_golden(), *c;
  int n = 0;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "corpora")) {
    cJSON *hyps = cJSON_GetObjectItem(c, "hyps"), *refs = cJSON_GetObjectItem(c, "refs");
    g_assert_cmpint(cJSON_GetArraySize(hyps), ==, cJSON_GetArraySize(refs));
    BleuStats st = {0};
    for (int i = 0; i < cJSON_GetArraySize(hyps); i++)
      bleu_add(&st, cJSON_GetArrayItem(hyps, i)->valuestring, cJSON_GetArrayItem(refs, i)->valuestring);
    double want = cJSON_GetObjectItem(c, "bleu")->valuedouble, got = bleu_score(&st);
    g_test_message("%s: C %.10f, bleu.py %.10f", cJSON_GetObjectItem(c, "name")->valuestring, got, want);
    g_assert_cmpfloat_with_epsilon(got, want, 1e-9);
    n++;
  }
  g_assert_cmpint(n, ==, 4);
  /* no 4-gram match at all: 0, as sacreBLEU without smoothing */
  BleuStats st = {0};
  bleu_add(&st, "a b c", "a b c");
  g_assert_cmpfloat(bleu_score(&st), ==, 0.0);
  cJSON_Delete(doc);
}

/* The chart: refuses what it cannot draw; draws each series in its own colour. */
static void test_chart(void) {
  double a[3] = {10, 20, NAN}, b[3] = {30, INFINITY, 5};
  const char *ticks[3] = {"1–8", "9–12", "13+"};
  LensChartSeries s[2] = {{"A", a}, {"B", b}};
  LensChart c = {.title = "t", .n_x = 3, .x_ticks = ticks, .n_series = 2, .series = s};
  attn_error err = {0};
  g_assert_cmpint(lens_chart_check(&c, &err), ==, ATTN_E_ARG);
  g_assert_nonnull(strstr(err.message, "infinite"));
  b[1] = 25;
  g_assert_cmpint(lens_chart_check(&c, &err), ==, ATTN_OK);
  LensChart none = c;
  none.n_series = 0;
  g_assert_cmpint(lens_chart_check(&none, &err), ==, ATTN_E_ARG);
  double w, h;
  lens_chart_size(&c, &w, &h);
  cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, (int)w, (int)h);
  cairo_t *cr = cairo_create(surf);
  g_assert_cmpint(lens_chart_render(cr, &c, w, h, &err), ==, ATTN_OK);
  cairo_surface_flush(surf);
  /* count pixels close to the first two palette colours (Okabe-Ito blue, vermillion) */
  const unsigned char *px = cairo_image_surface_get_data(surf);
  int stride = cairo_image_surface_get_stride(surf), blue = 0, red = 0;
  for (int y = 0; y < (int)h; y++)
    for (int x = 0; x < (int)w; x++) {
      const unsigned char *p = px + y * stride + 4 * x; /* B G R A */
      if (abs(p[2] - 0) < 30 && abs(p[1] - 114) < 30 && abs(p[0] - 178) < 30) blue++;
      if (abs(p[2] - 213) < 30 && abs(p[1] - 94) < 30 && abs(p[0] - 0) < 30) red++;
    }
  g_test_message("blue pixels %d, vermillion pixels %d", blue, red);
  g_assert_cmpint(blue, >, 200);
  g_assert_cmpint(red, >, 200);
  cairo_destroy(cr);
  cairo_surface_destroy(surf);
}

static void write_lines(const char *path, const char *const *lines, int n) {
  GString *s = g_string_new(NULL);
  for (int i = 0; i < n; i++) g_string_append_printf(s, "%s\n", lines[i]);
  g_assert_true(g_file_set_contents(path, s->str, (gssize)s->len, NULL));
  g_string_free(s, TRUE);
}

static void test_cli_by_length(void) {
  g_autofree char *dir = g_dir_make_tmp("attn-quality-XXXXXX", NULL);
  g_autofree char *src = g_build_filename(dir, "src.en", NULL), *ref = g_build_filename(dir, "ref.de", NULL);
  g_autofree char *png = g_build_filename(dir, "chart.png", NULL), *bad = g_build_filename(dir, "short.de", NULL);
  const char *en[] = {"A man.", "A dog runs in the park.", "Two children are playing with a red ball on the beach.",
                      "An old woman in a blue coat is walking her small white dog along a busy street in the city."};
  const char *de[] = {"Ein Mann.", "Ein Hund rennt im Park.", "Zwei Kinder spielen am Strand mit einem roten Ball.",
                      "Eine alte Frau in einem blauen Mantel geht mit ihrem kleinen weißen Hund eine belebte Straße "
                      "in der Stadt entlang."};
  write_lines(src, en, 4);
  write_lines(ref, de, 4);
  write_lines(bad, de, 3);
  const char *args[] = {"bench", "quality", "--by-length", "-m", "transformer-en-de,rnn-attn-en-de", "--input", src,
                        "--ref", ref, "--beam", "1", "--buckets", "4,10,15", "-o", png, NULL};
  run_result r = cli_run(args, NULL);
  g_test_message("%s%s", r.out, r.err);
  g_assert_cmpint(r.status, ==, 0);
  /* word counts 2, 6, 11 and 19: one sentence in each of the four buckets */
  g_assert_nonnull(strstr(r.out, "1–4"));
  g_assert_nonnull(strstr(r.out, "16+"));
  g_assert_nonnull(strstr(r.out, "transformer-en-de (greedy)"));
  g_assert_nonnull(strstr(r.out, "rnn-attn-en-de (greedy)"));
  gchar **lines = g_strsplit(r.out, "\n", -1);
  int rows = -1;
  for (gchar **l = lines; *l; l++) {
    if (g_str_has_prefix(*l, "words")) rows = 0;
    else if (rows >= 0 && **l && !g_str_has_prefix(*l, "chart")) {
      char name[64];
      int count;
      double b1, b2;
      g_assert_cmpint(sscanf(*l, "%63s %d %lf %lf", name, &count, &b1, &b2), ==, 4);
      g_assert_cmpint(count, ==, 1);
      g_assert_true(b1 >= 0 && b1 <= 100 && b2 >= 0 && b2 <= 100);
      rows++;
    }
  }
  g_strfreev(lines);
  g_assert_cmpint(rows, ==, 4);
  cairo_surface_t *s = cairo_image_surface_create_from_png(png);
  g_assert_cmpint(cairo_surface_status(s), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint(cairo_image_surface_get_width(s), ==, 1360); /* 680 points at scale 2 */
  cairo_surface_destroy(s);
  run_clear(&r);

  const char *mismatch[] = {"bench", "quality", "-m", "transformer-en-de", "--input", src, "--ref", bad, NULL};
  cli_expect_one_line_error(mismatch, NULL, "must be line-aligned");
  const char *no_model[] = {"bench", "quality", "--by-length", NULL};
  cli_expect_one_line_error(no_model, NULL, "usage");
  const char *unknown[] = {"bench", "quality", "-m", "no-such-model-xyz", "--input", src, "--ref", ref, NULL};
  r = cli_run(unknown, NULL);
  g_assert_cmpint(r.status, ==, 1);
  g_assert_nonnull(strstr(r.err, "no-such-model-xyz"));
  run_clear(&r);
  const char *chart_only[] = {"bench", "quality", "-m", "transformer-en-de", "-o", png, NULL};
  cli_expect_one_line_error(chart_only, NULL, "--by-length");
  const char *buckets[] = {"bench", "quality", "-m", "transformer-en-de", "--buckets", "10,5", NULL};
  cli_expect_one_line_error(buckets, NULL, "increasing");

  /* --hyps: the translations, one line per source, the same as `attnlens translate` gives */
  g_autofree char *hyps = g_build_filename(dir, "out.hyp", NULL);
  const char *with_hyps[] = {"bench", "quality", "-m", "transformer-en-de", "--input", src, "--ref", ref, "--beam", "1",
                             "--hyps", hyps, NULL};
  r = cli_run(with_hyps, NULL);
  g_assert_cmpint(r.status, ==, 0);
  run_clear(&r);
  g_autofree char *written = NULL;
  g_assert_true(g_file_get_contents(hyps, &written, NULL, NULL));
  gchar **got = g_strsplit(written, "\n", -1);
  g_assert_cmpuint(g_strv_length(got), ==, 5); /* four lines and the empty string after the last \n */
  for (int i = 0; i < 4; i++) {
    const char *one[] = {"translate", "-m", "transformer-en-de", "--beam", "1", en[i], NULL};
    run_result t = cli_run(one, NULL);
    g_assert_cmpint(t.status, ==, 0);
    g_strchomp(t.out);
    g_assert_cmpstr(got[i], ==, t.out);
    run_clear(&t);
  }
  g_strfreev(got);
  const char *two_models[] = {"bench", "quality", "-m", "transformer-en-de,rnn-attn-en-de", "--hyps", hyps, NULL};
  cli_expect_one_line_error(two_models, NULL, "one model");
  g_autofree char *nowhere = g_build_filename(dir, "missing-dir", "out.hyp", NULL);
  const char *unwritable[] = {"bench", "quality", "-m", "transformer-en-de", "--input", src, "--ref", ref, "--beam", "1",
                              "--hyps", nowhere, NULL};
  r = cli_run(unwritable, NULL);
  g_assert_cmpint(r.status, ==, 1);
  g_assert_nonnull(strstr(r.err, "--hyps"));
  g_assert_false(g_file_test(nowhere, G_FILE_TEST_EXISTS));
  run_clear(&r);
  g_unlink(hyps);
  g_unlink(src), g_unlink(ref), g_unlink(png), g_unlink(bad);
  g_rmdir(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/quality/bleu/tokenize-13a", test_tokenize);
  g_test_add_func("/quality/bleu/corpus-vs-bleu-py", test_corpus_bleu);
  g_test_add_func("/quality/chart/render", test_chart);
  g_test_add_func("/quality/cli/by-length", test_cli_by_length);
  return g_test_run();
}
