/* `attnlens memory` as a user runs it, on the tiny random-weight NTM of tests/fixtures:
 * the printed copy equals the twin's, the JSON trace (maps "write" and "read", the memory
 * section) renders with `attnlens render`, the picture of the memory view, one-line errors. */
#include <cjson/cJSON.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "cli_util.h"
#include "golden.h"

static cJSON *tiny_golden(void) {
  g_autofree char *path = golden_fixture_path("ntm-tiny", "golden.json"), *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  return cJSON_Parse(text);
}

/* The copy printed for every golden sequence is the twin's. */
static void test_copy(void) {
  g_autofree char *model = golden_fixture_path("ntm-tiny", NULL);
  cJSON *g = tiny_golden();
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(g, "cases")) {
    const char *args[] = {"memory", "-m", model, cJSON_GetObjectItem(c, "text")->valuestring, NULL};
    run_result r = cli_run(args, NULL);
    g_assert_cmpint(r.status, ==, 0);
    GString *want = g_string_new(NULL);
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItem(c, "copy")) g_string_append_printf(want, "%s%s", want->len ? " " : "", v->valuestring);
    g_string_append_c(want, '\n');
    g_assert_cmpstr(r.out, ==, want->str);
    g_string_free(want, TRUE);
    run_clear(&r);
  }
  cJSON_Delete(g);
}

static void test_json_and_pictures(void) {
  g_autofree char *model = golden_fixture_path("ntm-tiny", NULL);
  g_autofree char *dir = g_dir_make_tmp("attnlens-memory-XXXXXX", NULL);
  g_autofree char *png = g_build_filename(dir, "m.png", NULL), *svg = g_build_filename(dir, "m.svg", NULL);
  g_autofree char *trace = g_build_filename(dir, "t.json", NULL), *rendered = g_build_filename(dir, "w.png", NULL);
  /* vectors as separate arguments, and a picture of the memory view */
  const char *args[] = {"memory", "-m", model, "--json", "-o", png, "10110010", "01100001", "11110000", NULL};
  run_result r = cli_run(args, NULL);
  g_assert_cmpint(r.status, ==, 0);
  cJSON *j = cJSON_Parse(r.out);
  g_assert_cmpstr(cJSON_GetObjectItem(j, "task")->valuestring, ==, "memory");
  const cJSON *mem = cJSON_GetObjectItem(j, "memory"), *maps = cJSON_GetObjectItem(j, "maps"), *m;
  g_assert_cmpint(cJSON_GetObjectItem(mem, "steps")->valueint, ==, 7);
  g_assert_cmpint(cJSON_GetArraySize(cJSON_GetObjectItem(mem, "contents")), ==, 16);
  int found = 0;
  cJSON_ArrayForEach(m, maps) {
    const char *name = cJSON_GetObjectItem(m, "name")->valuestring;
    found += strcmp(name, "write") == 0 || strcmp(name, "read") == 0;
    g_assert_cmpint(cJSON_GetObjectItem(m, "rows")->valueint, ==, 7);
    g_assert_cmpint(cJSON_GetObjectItem(m, "cols")->valueint, ==, 16);
  }
  g_assert_cmpint(found, ==, 2);
  g_assert_cmpint(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "output"), "tokens")), ==, 3);
  g_assert_true(g_file_set_contents(trace, r.out, -1, NULL));
  cJSON_Delete(j);
  run_clear(&r);
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(png, &bytes, &len, NULL));
  g_assert_cmpuint(len, >, 1000);
  g_assert_cmpint(memcmp(bytes, "\x89PNG", 4), ==, 0);
  /* the same as SVG; and `attnlens render` draws the "read" map of the saved trace */
  const char *svg_args[] = {"memory", "-m", model, "-o", svg, "10110010", NULL};
  r = cli_run(svg_args, NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_true(g_file_test(svg, G_FILE_TEST_IS_REGULAR));
  run_clear(&r);
  const char *render[] = {"render", trace, "-o", rendered, "--map", "read", NULL};
  r = cli_run(render, NULL);
  if (r.status != 0) g_test_message("%s", r.err);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_true(g_file_test(rendered, G_FILE_TEST_IS_REGULAR));
  run_clear(&r);
  g_unlink(png), g_unlink(svg), g_unlink(trace), g_unlink(rendered), g_rmdir(dir);
}

static void test_errors(void) {
  g_autofree char *model = golden_fixture_path("ntm-tiny", NULL);
  const char *width[] = {"memory", "-m", model, "10110010 0110", NULL};
  cli_expect_one_line_error(width, NULL, "vector 2 '0110' has 4 bits: the model reads vectors of 8 bits");
  const char *bits[] = {"memory", "-m", model, "10110012", NULL};
  cli_expect_one_line_error(bits, NULL, "has '2' at position 8: a bit is 0 or 1");
  const char *empty[] = {"memory", "-m", model, "  ", NULL};
  cli_expect_one_line_error(empty, NULL, "no bit vectors");
  const char *none[] = {"memory", "-m", model, NULL};
  cli_expect_one_line_error(none, NULL, "usage: attnlens memory");
  GString *s = g_string_new(NULL);
  for (int i = 0; i < 9; i++) g_string_append(s, "10101010 ");
  const char *long_args[] = {"memory", "-m", model, s->str, NULL};
  cli_expect_one_line_error(long_args, NULL, "a sequence of 9 vectors is too long: the model copies at most 8");
  g_string_free(s, TRUE);
  const char *flag[] = {"memory", "-m", model, "--beam", "2", "10101010", NULL};
  cli_expect_one_line_error(flag, NULL, "unknown option '--beam'");
  const char *no_model[] = {"memory", "-m", "/nonexistent/ntm", "10101010", NULL};
  cli_expect_one_line_error(no_model, NULL, "/nonexistent/ntm");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/cli/memory/copy", test_copy);
  g_test_add_func("/cli/memory/json-and-pictures", test_json_and_pictures);
  g_test_add_func("/cli/memory/errors", test_errors);
  return g_test_run();
}
