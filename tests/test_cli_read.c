/* `attnlens read` as a user runs it, on stories from training/story_gen.py: answers, JSON
 * traces, pictures, standard input, one-line errors; with the shipped MemN2N, its accuracy
 * on generated stories. */
#include <cjson/cJSON.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "cli_util.h"
#include "golden.h"
#include "read_golden.h"

typedef struct story {
  char *path, *question, *answer;
  int lines;
} story;

/* count generated stories of at most `sentences` lines in dir (training/story_gen.py). */
static story *generate(const char *dir, int task, int count, int sentences) {
  g_autofree char *script = g_build_filename(g_getenv("ATTN_SOURCE_DIR"), "training", "story_gen.py", NULL);
  g_autofree char *t = g_strdup_printf("%d", task), *n = g_strdup_printf("%d", count), *s = g_strdup_printf("%d", sentences);
  const char *argv[] = {g_getenv("ATTN_PYTHON"), script, "--task", t, "--count", n, "--sentences", s, "--seed", "7",
                        "--format", "plain", "--out", dir, NULL};
  int status = 0;
  GError *error = NULL;
  g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status, &error));
  g_assert_no_error(error);
  g_assert_true(g_spawn_check_wait_status(status, NULL));
  story *out = g_new0(story, count);
  for (int k = 0; k < count; k++) {
    g_autofree char *name = g_strdup_printf("story-%03d.txt", k), *qname = g_strdup_printf("story-%03d.q", k);
    g_autofree char *qpath = g_build_filename(dir, qname, NULL), *text = NULL, *qtext = NULL;
    out[k].path = g_build_filename(dir, name, NULL);
    g_assert_true(g_file_get_contents(out[k].path, &text, NULL, NULL));
    g_assert_true(g_file_get_contents(qpath, &qtext, NULL, NULL));
    g_auto(GStrv) parts = g_strsplit(g_strchomp(qtext), "\t", 3);
    out[k].question = g_strdup(parts[0]);
    out[k].answer = g_strdup(parts[1]);
    for (char *c = text; *c; c++) out[k].lines += *c == '\n';
  }
  return out;
}

static void stories_free(story *s, int count) {
  for (int k = 0; k < count; k++) g_unlink(s[k].path), g_free(s[k].path), g_free(s[k].question), g_free(s[k].answer);
  g_free(s);
}

static void remove_dir(const char *dir) {
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d))) {
    g_autofree char *p = g_build_filename(dir, name, NULL);
    g_remove(p);
  }
  g_rmdir(dir);
}

static void test_answers(void) {
  g_autofree char *dir = g_dir_make_tmp("attn-cli-read-XXXXXX", NULL), *model = golden_fixture_path("memn2n-tiny", NULL);
  story *s = generate(dir, 2, 8, 6);
  for (int k = 0; k < 8; k++) {
    const char *args[] = {"read", "-m", model, "--story", s[k].path, "--question", s[k].question, NULL};
    run_result r = cli_run(args, "");
    g_assert_cmpint(r.status, ==, 0);
    g_auto(GStrv) cols = g_strsplit(g_strchomp(r.out), "\t", -1);
    g_assert_cmpint(g_strv_length(cols), ==, 2); /* answer <tab> probability */
    double p = g_ascii_strtod(cols[1], NULL);
    g_assert_true(p > 0 && p <= 1);
    g_assert_cmpstr(cols[0], !=, "");
    run_clear(&r);
  }
  g_test_message("8 generated task-2 stories answered (random tiny model: the format, not the answers)");
  stories_free(s, 8);
  remove_dir(dir);
}

static void test_json(void) {
  g_autofree char *dir = g_dir_make_tmp("attn-cli-read-XXXXXX", NULL), *model = golden_fixture_path("memn2n-tiny", NULL);
  story *s = generate(dir, 1, 4, 6);
  for (int k = 0; k < 4; k++) {
    const char *args[] = {"read", "-m", model, "--story", s[k].path, "--question", s[k].question, "--json", NULL};
    run_result r = cli_run(args, "");
    g_assert_cmpint(r.status, ==, 0);
    cJSON *j = cJSON_Parse(r.out);
    g_assert_nonnull(j);
    g_assert_cmpstr(cJSON_GetObjectItem(j, "task")->valuestring, ==, "read");
    g_assert_cmpstr(cJSON_GetObjectItem(j, "question")->valuestring, ==, s[k].question);
    int n = cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "story"), "sentences"));
    g_assert_cmpint(n, ==, s[k].lines);
    const cJSON *maps = cJSON_GetObjectItem(j, "maps"), *m;
    g_assert_cmpint(cJSON_GetArraySize(maps), ==, 3);
    int hop = 1;
    cJSON_ArrayForEach(m, maps) {
      g_autofree char *name = g_strdup_printf("hop %d", hop++);
      g_assert_cmpstr(cJSON_GetObjectItem(m, "name")->valuestring, ==, name);
      const cJSON *row = cJSON_GetArrayItem(cJSON_GetObjectItem(m, "weights"), 0), *w;
      g_assert_cmpint(cJSON_GetArraySize(row), ==, n);
      double sum = 0;
      cJSON_ArrayForEach(w, row) sum += w->valuedouble;
      g_assert_cmpfloat(fabs(sum - 1), <, 1e-3);
    }
    cJSON_Delete(j);
    run_clear(&r);
  }
  stories_free(s, 4);
  remove_dir(dir);
}

static void assert_magic(const char *path, const char *magic) {
  char *data = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, &data, &len, NULL));
  g_assert_cmpuint(len, >, strlen(magic));
  g_assert_cmpmem(data, strlen(magic), magic, strlen(magic));
  g_free(data);
}

static void test_pictures_and_stdin(void) {
  g_autofree char *dir = g_dir_make_tmp("attn-cli-read-XXXXXX", NULL);
  const char *fixtures[] = {"memn2n-tiny", "attentive-reader-tiny"};
  const char *exts[] = {"png", "svg", "pdf"}, *magic[] = {"\x89PNG", "<?xml", "%PDF"};
  for (int f = 0; f < 2; f++)
    for (int i = 0; i < 3; i++) {
      g_autofree char *model = golden_fixture_path(fixtures[f], NULL);
      g_autofree char *name = g_strdup_printf("story-%d.%s", f, exts[i]), *out = g_build_filename(dir, name, NULL);
      const char *args[] = {"read", "-m", model, "--story", "-", "--question", "Where is Mary?", "-o", out, NULL};
      run_result r = cli_run(args, "Mary went to the kitchen.\nJohn moved to the garden.\n");
      g_test_message("%s", r.err);
      g_assert_cmpint(r.status, ==, 0);
      assert_magic(out, magic[i]);
      g_unlink(out);
      run_clear(&r);
    }
  g_rmdir(dir);
}

static void test_errors(void) {
  g_autofree char *dir = g_dir_make_tmp("attn-cli-read-XXXXXX", NULL), *model = golden_fixture_path("memn2n-tiny", NULL);
  g_autofree char *empty = g_build_filename(dir, "empty.txt", NULL), *bad = g_build_filename(dir, "bad.txt", NULL);
  g_autofree char *good = g_build_filename(dir, "good.txt", NULL), *missing = g_build_filename(dir, "none.txt", NULL);
  g_assert_true(g_file_set_contents(empty, "\n  \n", -1, NULL));
  g_assert_true(g_file_set_contents(bad, "Mary went \xff\xfe to the kitchen.\n", -1, NULL));
  g_assert_true(g_file_set_contents(good, "Mary went to the kitchen.\n", -1, NULL));
  g_autofree char *bmp = g_build_filename(dir, "out.bmp", NULL);
  const char *no_q[] = {"read", "-m", model, "--story", good, NULL};
  const char *no_file[] = {"read", "-m", model, "--story", missing, "--question", "Where is Mary?", NULL};
  const char *blank[] = {"read", "-m", model, "--story", empty, "--question", "Where is Mary?", NULL};
  const char *utf8[] = {"read", "-m", model, "--story", bad, "--question", "Where is Mary?", NULL};
  const char *no_question[] = {"read", "-m", model, "--story", good, "--question", "  ", NULL};
  const char *no_model[] = {"read", "-m", "no-such-model", "--story", good, "--question", "Where is Mary?", NULL};
  const char *format[] = {"read", "-m", model, "--story", good, "--question", "Where?", "-o", bmp, NULL};
  const char *option[] = {"read", "--stroy", good, NULL};
  const char *value[] = {"read", "--story", NULL};
  cli_expect_one_line_error(no_q, "", "usage: attnlens read");
  cli_expect_one_line_error(no_file, "", "none.txt");
  cli_expect_one_line_error(blank, "", "no sentence");
  cli_expect_one_line_error(utf8, "", "not valid UTF-8");
  cli_expect_one_line_error(no_question, "", "no question");
  cli_expect_one_line_error(no_model, "", "no-such-model");
  cli_expect_one_line_error(format, "", "unsupported format");
  cli_expect_one_line_error(option, "", "unknown argument");
  cli_expect_one_line_error(value, "", "needs a value");
  g_assert_false(g_file_test(bmp, G_FILE_TEST_EXISTS));
  g_unlink(empty), g_unlink(bad), g_unlink(good);
  g_rmdir(dir);
}

/* Text that used to be read wrongly: a NUL byte cut the story short without a word, a
 * 20,000-character line was reported as "0 words are not in the vocabulary, left out:",
 * and a full disk took the answer without an error. */
static void test_bad_text(void) {
  g_autofree char *dir = g_dir_make_tmp("attn-cli-read-XXXXXX", NULL), *model = golden_fixture_path("memn2n-tiny", NULL);
  g_autofree char *nul = g_build_filename(dir, "nul.txt", NULL), *longer = g_build_filename(dir, "long.txt", NULL);
  g_autofree char *good = g_build_filename(dir, "good.txt", NULL);
  g_assert_true(g_file_set_contents(nul, "Mary went to the kitchen.\0John went to the garden.\n", 52, NULL));
  g_autofree char *word = g_strnfill(20000, 'z'), *line = g_strdup_printf("Mary %s went to the kitchen.\n", word);
  g_assert_true(g_file_set_contents(longer, line, -1, NULL));
  g_assert_true(g_file_set_contents(good, "Mary went to the kitchen.\n", -1, NULL));
  cli_expect_one_line_error((const char *[]){"read", "-m", model, "--story", nul, "--question", "Where is John?", NULL},
                            "", "nul.txt: byte 26 is a NUL byte: this is not text");
  run_result r = cli_run((const char *[]){"read", "-m", model, "--story", longer, "--question", "Where is Mary?", NULL}, "");
  g_test_message("stderr: %s", r.err);
  g_assert_cmpint(r.status, ==, 0);
  g_autofree char *expect = g_strdup_printf("1 word is not in the model's vocabulary, left out: \"%.32s\xe2\x80\xa6\" "
                                            "(20000 characters)\n", word);
  g_assert_nonnull(strstr(r.err, expect));
  run_clear(&r);
  cli_expect_write_error((const char *[]){"read", "-m", model, "--story", good, "--question", "Where is Mary?", NULL}, "");
  cli_expect_write_error((const char *[]){"read", "-m", model, "--story", good, "--question", "Where?", "--json", NULL}, "");
  g_unlink(nul), g_unlink(longer), g_unlink(good);
  g_rmdir(dir);
}

/* The shipped model answers generated task-1 stories (bAbI's own vocabulary and style). */
static void test_shipped(void) {
  g_autofree char *model = g_build_filename(g_getenv("ATTN_SOURCE_DIR"), "data", "models", "memn2n-babi", NULL);
  if (!g_file_test(model, G_FILE_TEST_IS_DIR)) {
    g_test_skip("data/models/memn2n-babi is not shipped yet (training/README.md says how to make it)");
    return;
  }
  g_autofree char *dir = g_dir_make_tmp("attn-cli-read-XXXXXX", NULL);
  int n = 40, right = 0;
  story *s = generate(dir, 1, n, 10);
  for (int k = 0; k < n; k++) {
    const char *args[] = {"read", "-m", model, "--story", s[k].path, "--question", s[k].question, NULL};
    run_result r = cli_run(args, "");
    g_assert_cmpint(r.status, ==, 0);
    right += g_str_has_prefix(r.out, s[k].answer) && r.out[strlen(s[k].answer)] == '\t';
    run_clear(&r);
  }
  g_test_message("shipped memn2n-babi: %d of %d generated task-1 stories answered right", right, n);
  g_assert_cmpint(right, >=, n * 9 / 10);
  stories_free(s, n);
  remove_dir(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/cli/read/answers", test_answers);
  g_test_add_func("/cli/read/json", test_json);
  g_test_add_func("/cli/read/pictures-stdin", test_pictures_and_stdin);
  g_test_add_func("/cli/read/errors", test_errors);
  g_test_add_func("/cli/read/bad-text", test_bad_text);
  g_test_add_func("/cli/read/shipped", test_shipped);
  return g_test_run();
}
