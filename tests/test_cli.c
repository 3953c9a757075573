/* The attnlens command line as a user runs it: exit status, one-line errors, output files. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cli_util.h"
#include "golden.h"

static char *sample_path(void) {
  return g_build_filename(g_getenv("ATTN_SOURCE_DIR"), "assets", "sample-trace.json", NULL);
}

static void assert_magic(const char *path, const char *magic, size_t n) {
  char *data = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, &data, &len, NULL));
  g_assert_cmpuint(len, >, n);
  g_assert_cmpmem(data, n, magic, n);
  g_free(data);
}

static void test_render_formats(void) {
  g_autofree char *dir = g_dir_make_tmp("attn-cli-XXXXXX", NULL);
  g_autofree char *trace = sample_path();
  const char *exts[] = {"png", "svg", "pdf"};
  const char *magic[] = {"\x89PNG", "<?xml", "%PDF"};
  for (int i = 0; i < 3; i++) {
    g_autofree char *name = g_strdup_printf("out.%s", exts[i]);
    g_autofree char *out = g_build_filename(dir, name, NULL);
    const char *args[] = {"render", trace, "-o", out, "--view", i == 1 ? "flow" : "matrix", NULL};
    run_result r = cli_run(args, NULL);
    g_test_message("stderr: %s", r.err);
    g_assert_cmpint(r.status, ==, 0);
    assert_magic(out, magic[i], strlen(magic[i]));
    g_unlink(out);
    run_clear(&r);
  }
  g_rmdir(dir);
}

static void test_render_errors(void) {
  g_autofree char *dir = g_dir_make_tmp("attn-cli-XXXXXX", NULL);
  g_autofree char *trace = sample_path();
  g_autofree char *bad = g_build_filename(dir, "bad.json", NULL);
  g_autofree char *out = g_build_filename(dir, "out.png", NULL);
  g_file_set_contents(bad, "{\"version\": 1, \"task\": ", -1, NULL);
  cli_expect_one_line_error((const char *[]){"render", bad, "-o", out, NULL}, NULL, "not valid JSON");
  cli_expect_one_line_error((const char *[]){"render", "/nonexistent/t.json", "-o", out, NULL}, NULL, "/nonexistent/t.json");
  cli_expect_one_line_error((const char *[]){"render", trace, NULL}, NULL, "usage");
  cli_expect_one_line_error((const char *[]){"render", trace, "-o", out, "--map", "nope", NULL}, NULL, "no map named 'nope'");
  cli_expect_one_line_error((const char *[]){"render", trace, "-o", out, "--colormap", "jet", NULL}, NULL, "jet");
  cli_expect_one_line_error((const char *[]){"render", trace, "-o", out, "--row", "99", NULL}, NULL, "out of range");
  g_autofree char *gif = g_build_filename(dir, "out.gif", NULL);
  cli_expect_one_line_error((const char *[]){"render", trace, "-o", gif, NULL}, NULL, ".gif");
  g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
  g_assert_false(g_file_test(gif, G_FILE_TEST_EXISTS));
  g_autofree char *fifo = g_build_filename(dir, "fifo.json", NULL); /* must not hang */
  g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
  cli_expect_one_line_error((const char *[]){"render", fifo, "-o", out, NULL}, NULL, "not a regular file");
  g_unlink(fifo);
  g_unlink(bad);
  g_rmdir(dir);
}

static void test_inspect_errors(void) {
  g_autofree char *dir = g_dir_make_tmp("attn-cli-XXXXXX", NULL);
  g_autofree char *bad = g_build_filename(dir, "broken.safetensors", NULL);
  g_file_set_contents(bad, "\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":", 13, NULL);
  cli_expect_one_line_error((const char *[]){"inspect", bad, NULL}, NULL, "broken.safetensors");
  cli_expect_one_line_error((const char *[]){"inspect", "/nonexistent-model", NULL}, NULL, "/nonexistent-model");
  cli_expect_one_line_error((const char *[]){"inspect", NULL}, NULL, "usage");
  g_unlink(bad);
  g_rmdir(dir);
}

static void test_unknown_command(void) {
  run_result r = cli_run((const char *[]){"frobnicate", NULL}, NULL);
  g_assert_cmpint(r.status, !=, 0);
  g_assert_nonnull(strstr(r.err, "unknown command"));
  run_clear(&r);
  r = cli_run((const char *[]){"--help", NULL}, NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_nonnull(strstr(r.out, "render"));
  run_clear(&r);
}

/* `models` lists the shipped model folders by name, and nothing else (data/models also holds
 * a README.md, which is not a model). */
static void test_models(void) {
  run_result r = cli_run((const char *[]){"models", NULL}, NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_test_message("%s", r.out);
  g_assert_null(strstr(r.out, "cannot be used"));
  g_assert_null(strstr(r.out, "README"));
  const char *dates = strstr(r.out, "dates-rnn "), *rnn = strstr(r.out, "rnn-attn-en-de ");
  g_assert_nonnull(dates);
  g_assert_nonnull(rnn);
  g_assert_true(dates < rnn); /* by name */
  g_assert_nonnull(strstr(rnn, "translate"));
  g_assert_nonnull(strstr(r.out, "shipped models: "));
  run_clear(&r);
}

/* Every command that prints checks that standard output took it (a full disk). */
static void test_stdout_write_errors(void) {
  g_autofree char *model = g_build_filename(g_getenv("ATTN_FIXTURES"), "safetensors", "tiny_model", NULL);
  g_autofree char *rnn = g_build_filename(g_getenv("ATTN_FIXTURES"), "rnn-tiny", NULL);
  cli_expect_write_error((const char *[]){"models", NULL}, NULL);
  cli_expect_write_error((const char *[]){"--version", NULL}, NULL);
  cli_expect_write_error((const char *[]){"--help", NULL}, NULL);
  cli_expect_write_error((const char *[]){"inspect", model, NULL}, NULL);
  cli_expect_write_error((const char *[]){"translate", "-m", rnn, "a b", NULL}, NULL);
  cli_expect_write_error((const char *[]){"translate", "-m", rnn, "--json", "a b", NULL}, NULL);
}

/* translate decodes with the model's own num_beams unless --beam says otherwise: beam search
 * leaves alternative hypotheses in the JSON, greedy none. */
static void test_translate_model_beam(void) {
  g_autofree char *plain = g_build_filename(g_getenv("ATTN_FIXTURES"), "rnn-tiny", NULL);
  char *beams = golden_model_copy("rnn-tiny", "num_beams", "3");
  struct { const char *model, *beam; gboolean alternatives; } cases[] = {
      {beams, NULL, TRUE}, {beams, "1", FALSE}, {plain, NULL, FALSE}, {plain, "3", TRUE}};
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    const char *with[] = {"translate", "-m", cases[i].model, "--json", "--beam", cases[i].beam, "bad cafe", NULL};
    const char *without[] = {"translate", "-m", cases[i].model, "--json", "bad cafe", NULL};
    run_result r = cli_run(cases[i].beam ? with : without, NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_cmpint(strstr(r.out, "\"hypotheses\"") != NULL, ==, cases[i].alternatives);
    run_clear(&r);
  }
  golden_model_copy_remove(beams);
}

/* Without -m, translate uses the general Transformer (the default, as in the window), decoding with
 * its own num_beams (4: the trace lists the beam's hypotheses). */
static void test_translate_default_model(void) {
  const char *args[] = {"translate", "--json", "I love you.", NULL};
  run_result r = cli_run(args, NULL);
  g_assert_cmpint(r.status, ==, 0);
  cJSON *doc = cJSON_Parse(r.out);
  g_assert_nonnull(doc);
  g_assert_cmpstr(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "model")), ==, "transformer-en-de-general");
  g_assert_nonnull(cJSON_GetObjectItem(doc, "hypotheses"));
  cJSON_Delete(doc);
  run_clear(&r);
}

/* `render` draws the trace of a model without attention (its summary vector; no maps) and says
 * that such a trace has no map to choose. */
static void test_render_no_attention(void) {
  g_autofree char *model = g_build_filename(g_getenv("ATTN_FIXTURES"), "rnn-noattn-tiny", NULL);
  g_autofree char *dir = g_dir_make_tmp("cli-noattn-XXXXXX", NULL);
  g_autofree char *json = g_build_filename(dir, "t.json", NULL), *png = g_build_filename(dir, "t.png", NULL);
  run_result r = cli_run_with((const char *[]){"translate", "-m", model, "--json", "bad cafe", NULL}, NULL, json, NULL);
  g_assert_cmpint(r.status, ==, 0);
  run_clear(&r);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(json, &text, NULL, NULL));
  g_assert_nonnull(strstr(text, "\"summary\""));
  r = cli_run((const char *[]){"render", json, "-o", png, NULL}, NULL);
  g_assert_cmpint(r.status, ==, 0);
  run_clear(&r);
  assert_magic(png, "\x89PNG", 4);
  cli_expect_one_line_error((const char *[]){"render", json, "--map", "cross", "-o", png, NULL}, NULL,
                            "has no attention");
  g_remove(json), g_remove(png), g_rmdir(dir);
}

/* A model folder whose display name and task carry terminal escapes (retitle the window,
 * colour the text): `models` shows them as '?', never raw. */
static void test_models_control_chars(void) {
  g_autofree char *data = g_dir_make_tmp("attn-cli-XXXXXX", NULL);
  g_autofree char *dir = g_build_filename(data, "attnlens", "models", "evil\x1b[31m", NULL);
  g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
  g_autofree char *src = g_build_filename(g_getenv("ATTN_FIXTURES"), "safetensors", "tiny_model", NULL);
  const char *files[] = {"config.json", "model.safetensors", "vocab.txt"};
  for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
    g_autofree char *from = g_build_filename(src, files[i], NULL), *to = g_build_filename(dir, files[i], NULL);
    g_autofree char *text = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(from, &text, &len, NULL));
    if (i == 0) {
      g_autofree char *evil = g_strjoinv("\"\\u001b]0;owned\\u0007Tiny \\u001b[5m\\u009b", g_strsplit(text, "\"Tiny ", 2));
      g_free(text), text = g_steal_pointer(&evil), len = strlen(text);
    }
    g_assert_true(g_file_set_contents(to, text, (gssize)len, NULL));
  }
  g_autofree char *env = g_strdup_printf("XDG_DATA_HOME=%s", data);
  run_result r = cli_run_with((const char *[]){"models", NULL}, NULL, NULL, (const char *[]){env, NULL});
  g_test_message("%s", r.out);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_nonnull(strstr(r.out, "evil?[31m"));
  g_assert_nonnull(strstr(r.out, "?]0;owned?Tiny ?[5m?test model"));
  g_assert_null(strchr(r.out, '\x1b'));
  g_assert_null(strchr(r.out, '\x07'));
  g_assert_null(strstr(r.out, "\xc2\x9b"));
  run_clear(&r);
  for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
    g_autofree char *to = g_build_filename(dir, files[i], NULL);
    g_unlink(to);
  }
  g_rmdir(dir);
  g_autofree char *models = g_path_get_dirname(dir), *top = g_path_get_dirname(models);
  g_rmdir(models), g_rmdir(top), g_rmdir(data);
}

/* A sentence file whose first line is not UTF-8 said "no sentences to time". */
static void test_bench_bad_input(void) {
  g_autofree char *dir = g_dir_make_tmp("attn-cli-XXXXXX", NULL), *in = g_build_filename(dir, "in.txt", NULL);
  g_autofree char *rnn = g_build_filename(g_getenv("ATTN_FIXTURES"), "rnn-tiny", NULL);
  g_assert_true(g_file_set_contents(in, "caf\xe9 au lait\nA man rides a bike.\n", -1, NULL));
  const char *translate[] = {"bench", "translate", "-m", rnn, "--input", in, "--no-twin", NULL};
  const char *live[] = {"bench", "live", "-m", rnn, "--input", in, "--no-twin", NULL};
  cli_expect_one_line_error(translate, NULL, "in.txt: line 1: ");
  cli_expect_one_line_error(live, NULL, "in.txt: line 1: ");
  g_assert_true(g_file_set_contents(in, "A man rides a bike.\nA dog\0runs.\n", 33, NULL));
  cli_expect_one_line_error(translate, NULL, "in.txt: line 2 holds a NUL byte");
  g_unlink(in);
  g_rmdir(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/cli/render/formats", test_render_formats);
  g_test_add_func("/cli/render/errors", test_render_errors);
  g_test_add_func("/cli/inspect/errors", test_inspect_errors);
  g_test_add_func("/cli/unknown-command", test_unknown_command);
  g_test_add_func("/cli/models", test_models);
  g_test_add_func("/cli/translate/model-beam", test_translate_model_beam);
  g_test_add_func("/cli/translate/default-model", test_translate_default_model);
  g_test_add_func("/cli/render/no-attention", test_render_no_attention);
  g_test_add_func("/cli/models/control-chars", test_models_control_chars);
  g_test_add_func("/cli/stdout-write-errors", test_stdout_write_errors);
  g_test_add_func("/cli/bench/bad-input", test_bench_bad_input);
  return g_test_run();
}
