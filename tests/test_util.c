/* The engine's file and text helpers on the inputs that broke them: files whose size is
 * not what stat said, NUL bytes in text, escape sequences bound for a terminal, and output
 * files of a process that dies mid-way. */
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attn_util.h"

/* /proc files are regular files that stat calls empty but that hold text: a file whose
 * size differs from what stat said. Reading must give the text, not the 0 bytes stat
 * promised (nor stop at it). */
static void test_read_file_size_differs(void) {
  attn_error err = {0};
  size_t len = 0;
  char *text = attn_read_file("/proc/self/status", 1 << 20, &len, &err);
  g_assert_nonnull(text);
  g_assert_cmpuint(len, >, 0);
  g_assert_cmpuint(strlen(text), ==, len);
  g_assert_nonnull(strstr(text, "Name:"));
  free(text);
  /* More than the limit is refused even when stat said less. */
  g_assert_null(attn_read_file("/proc/self/status", 8, &len, &err));
  g_assert_nonnull(strstr(err.message, "more than the limit"));
}

static void test_read_text_nul(void) {
  g_autofree char *dir = g_dir_make_tmp("attn-util-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "story.txt", NULL);
  g_assert_true(g_file_set_contents(path, "Mary went home.\0John left.\n", 27, NULL));
  attn_error err = {0};
  size_t len = 0;
  g_assert_null(attn_read_text_file(path, 1024, &len, &err));
  g_assert_cmpint(err.code, ==, ATTN_E_VALUE);
  g_assert_nonnull(strstr(err.message, "byte 16 is a NUL byte"));
  g_assert_nonnull(strstr(err.message, "story.txt"));
  g_assert_true(g_file_set_contents(path, "Mary went home.\n", -1, NULL));
  char *text = attn_read_text_file(path, 1024, &len, &err);
  g_assert_cmpstr(text, ==, "Mary went home.\n");
  g_assert_cmpuint(len, ==, 16);
  free(text);
  g_unlink(path);
  g_rmdir(dir);
}

static void test_printable(void) {
  struct { const char *in, *out; } cases[] = {
      {"plain ünïcode ▁word", "plain ünïcode ▁word"},
      {"\x1b]0;owned\x07title", "?]0;owned?title"},
      {"\x1b[31mred\x1b[0m", "?[31mred?[0m"},
      {"tab\tnew\nline\r", "tab?new?line?"},
      {"del\x7f", "del?"},
      {"c1 \xc2\x9b" "31m csi", "c1 ?31m csi"}, /* U+009B, the one-byte CSI */
      {"bad \xff\xfe utf8 \xe2\x96", "bad ?? utf8 ??"},
      {"", ""},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    char *s = g_strdup(cases[i].in);
    attn_make_printable(s);
    g_assert_cmpstr(s, ==, cases[i].out);
    g_free(s);
  }
}

/* Every engine error message is printable, whatever file text it quotes (a tensor name, a
 * vocabulary word), so `bench`, the window and every command show it safely. */
static void test_error_printable(void) {
  attn_error err = {0};
  attn_error_set(&err, ATTN_E_MISSING, "tensor '%s' not found", "emb\x1b]0;owned\x07");
  g_assert_cmpstr(err.message, ==, "tensor 'emb?]0;owned?' not found");
}

static char **temp_files(const char *dir) {
  GPtrArray *names = g_ptr_array_new();
  GDir *d = g_dir_open(dir, 0, NULL);
  for (const char *n; d && (n = g_dir_read_name(d));)
    if (strstr(n, ".tmp-")) g_ptr_array_add(names, g_strdup(n));
  if (d) g_dir_close(d);
  g_ptr_array_add(names, NULL);
  return (char **)g_ptr_array_free(names, FALSE);
}

/* A process killed while it writes leaves no temporary file behind; one left by an older
 * version (or a file system without anonymous files) is removed by the next write. */
static void test_out_file_killed(void) {
  g_autofree char *dir = g_dir_make_tmp("attn-util-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "out.pdf", NULL);
  int ready[2];
  g_assert_cmpint(pipe(ready), ==, 0);
  pid_t pid = fork();
  if (pid == 0) {
    attn_out_file f;
    if (attn_out_open(&f, path, NULL) != ATTN_OK) _exit(3);
    attn_out_write(&f, "%PDF-1.5 half of a picture", 26);
    if (write(ready[1], "x", 1) != 1) _exit(4);
    pause(); /* killed here, mid-way */
    _exit(0);
  }
  char c;
  g_assert_cmpint(read(ready[0], &c, 1), ==, 1);
  kill(pid, SIGKILL);
  int status = 0;
  g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
  close(ready[0]), close(ready[1]);
  g_auto(GStrv) left = temp_files(dir);
  g_assert_cmpuint(g_strv_length(left), ==, 0);
  g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));

  /* A stale named temporary of a process that is gone, and one of a live process. */
  g_autofree char *stale = g_strdup_printf("%s.tmp-%d", path, (int)pid);
  g_autofree char *live = g_strdup_printf("%s.tmp-%d", path, (int)getppid());
  g_assert_true(g_file_set_contents(stale, "half", -1, NULL));
  g_assert_true(g_file_set_contents(live, "half", -1, NULL));
  attn_error err = {0};
  g_assert_cmpint(attn_write_file_atomic(path, "whole", 5, &err), ==, ATTN_OK);
  g_assert_false(g_file_test(stale, G_FILE_TEST_EXISTS));
  g_assert_true(g_file_test(live, G_FILE_TEST_EXISTS));
  g_autofree char *got = NULL;
  g_assert_true(g_file_get_contents(path, &got, NULL, NULL));
  g_assert_cmpstr(got, ==, "whole");
  g_unlink(live), g_unlink(path);
  g_rmdir(dir);
}

/* A missing or unwritable directory and a full disk are named, with the reason. */
static void test_out_file_errors(void) {
  attn_error err = {0};
  g_assert_cmpint(attn_write_file_atomic("/nonexistent-dir/out.json", "x", 1, &err), ==, ATTN_E_IO);
  g_assert_nonnull(strstr(err.message, "/nonexistent-dir/out.json"));
  g_assert_nonnull(strstr(err.message, "No such file or directory"));
  attn_out_file f;
  g_assert_cmpint(attn_out_open(&f, "/dev/shm/attn-util-out.json", &err), ==, ATTN_OK);
  g_assert_cmpint(attn_out_write(&f, "{}", 2), ==, 0);
  f.error = 28; /* as a write to a full disk would leave it (ENOSPC) */
  g_assert_cmpint(attn_out_commit(&f, &err), ==, ATTN_E_IO);
  g_assert_nonnull(strstr(err.message, "No space left on device"));
  g_assert_false(g_file_test("/dev/shm/attn-util-out.json", G_FILE_TEST_EXISTS));
  g_auto(GStrv) left = temp_files("/dev/shm");
  for (int i = 0; left[i]; i++) g_assert_false(g_str_has_prefix(left[i], "attn-util-out.json"));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/engine/util/read-file-size-differs", test_read_file_size_differs);
  g_test_add_func("/engine/util/read-text-nul", test_read_text_nul);
  g_test_add_func("/engine/util/printable", test_printable);
  g_test_add_func("/engine/util/error-printable", test_error_printable);
  g_test_add_func("/engine/util/out-file-killed", test_out_file_killed);
  g_test_add_func("/engine/util/out-file-errors", test_out_file_errors);
  return g_test_run();
}
