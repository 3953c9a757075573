/* `attnlens translate --compare A,B`: both models on the same text, as text, as JSON holding
 * both traces, and as one picture with both maps side by side. */
#include <cjson/cJSON.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "attn_trace_json.h"
#include "cli_util.h"
#include "lens_render.h"

static char *fixture(const char *name) { return g_build_filename(g_getenv("ATTN_FIXTURES"), name, NULL); }

static char *pair(void) {
  g_autofree char *a = fixture("transformer-tiny"), *b = fixture("rnn-tiny");
  return g_strdup_printf("%s,%s", a, b);
}

static void test_text(void) {
  g_autofree char *models = pair();
  const char *args[] = {"translate", "--compare", models, "abc dag", NULL};
  run_result r = cli_run(args, NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_auto(GStrv) lines = g_strsplit(r.out, "\n", -1);
  g_assert_cmpint(g_strv_length(lines), ==, 3); /* two lines and the empty rest */
  g_assert_true(g_str_has_prefix(lines[0], "transformer-tiny\t"));
  g_assert_true(g_str_has_prefix(lines[1], "rnn-tiny\t"));
  run_clear(&r);
}

/* Both traces come back whole, and the picture is their two natural widths plus the gap. */
static void test_json_and_picture(void) {
  g_autofree char *models = pair();
  const char *args[] = {"translate", "--compare", models, "--json", "bad cafe", NULL};
  run_result r = cli_run(args, NULL);
  g_assert_cmpint(r.status, ==, 0);
  cJSON *root = cJSON_Parse(r.out);
  g_assert_nonnull(root);
  const cJSON *both = cJSON_GetObjectItemCaseSensitive(root, "compare");
  g_assert_cmpint(cJSON_GetArraySize(both), ==, 2);
  attn_trace *t[2];
  for (int k = 0; k < 2; k++) {
    char *one = cJSON_PrintUnformatted(cJSON_GetArrayItem(both, k));
    attn_error err = {0};
    t[k] = attn_trace_from_json(one, strlen(one), &err);
    g_assert_nonnull(t[k]);
    g_assert_cmpstr(t[k]->source.text, ==, "bad cafe");
    cJSON_free(one);
  }
  g_assert_cmpstr(t[0]->model, ==, "transformer-tiny");
  g_assert_cmpstr(t[1]->model, ==, "rnn-tiny");
  cJSON_Delete(root);
  run_clear(&r);

  g_autofree char *dir = g_dir_make_tmp("attn-compare-XXXXXX", NULL);
  g_autofree char *png = g_build_filename(dir, "both.png", NULL);
  const char *draw[] = {"translate", "--compare", models, "-o", png, "bad cafe", NULL};
  r = cli_run(draw, NULL);
  g_assert_cmpint(r.status, ==, 0);
  run_clear(&r);
  LensRenderOptions o, second;
  lens_render_options_init(&o);
  lens_render_options_init(&second);
  double wa, ha, wb, hb;
  lens_render_size(t[0], &o, &wa, &ha);
  lens_render_size(t[1], &second, &wb, &hb);
  cairo_surface_t *s = cairo_image_surface_create_from_png(png);
  g_assert_cmpint(cairo_surface_status(s), ==, CAIRO_STATUS_SUCCESS);
  g_test_message("%d x %d for %.0f + %.0f wide", cairo_image_surface_get_width(s), cairo_image_surface_get_height(s), wa, wb);
  g_assert_cmpint(cairo_image_surface_get_width(s), ==, (int)ceil(2 * (wa + 24 + wb) - 1e-9)); /* at 2x */
  g_assert_cmpint(cairo_image_surface_get_height(s), ==, (int)ceil(2 * fmax(ha, hb) - 1e-9));
  cairo_surface_destroy(s);
  attn_trace_free(t[0]), attn_trace_free(t[1]);
  g_remove(png);
  g_rmdir(dir);
}

static void test_bad_pairs(void) {
  g_autofree char *one = fixture("transformer-tiny");
  const char *single[] = {"translate", "--compare", one, "abc", NULL};
  cli_expect_one_line_error(single, NULL, "two models");
  g_autofree char *missing = g_strdup_printf("%s,/no/such/model", one);
  const char *bad[] = {"translate", "--compare", missing, "abc", NULL};
  cli_expect_one_line_error(bad, NULL, "/no/such/model");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/cli/translate/compare/text", test_text);
  g_test_add_func("/cli/translate/compare/json-and-picture", test_json_and_picture);
  g_test_add_func("/cli/translate/compare/bad-pairs", test_bad_pairs);
  return g_test_run();
}
