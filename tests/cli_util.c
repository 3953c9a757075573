/* What the command-line tests share (see cli_util.h). */
#include "cli_util.h"

#include <gio/gio.h>
#include <string.h>

run_result cli_run_with(const char *const *args, const char *input, const char *out_path, const char *const *env) {
  GPtrArray *argv = g_ptr_array_new();
  g_ptr_array_add(argv, (gpointer)g_getenv("ATTNLENS"));
  for (int i = 0; args[i]; i++) g_ptr_array_add(argv, (gpointer)args[i]);
  g_ptr_array_add(argv, NULL);
  GError *error = NULL;
  GSubprocessFlags flags = G_SUBPROCESS_FLAGS_STDERR_PIPE;
  if (!out_path) flags |= G_SUBPROCESS_FLAGS_STDOUT_PIPE;
  if (input) flags |= G_SUBPROCESS_FLAGS_STDIN_PIPE;
  GSubprocessLauncher *l = g_subprocess_launcher_new(flags);
  if (out_path) g_subprocess_launcher_set_stdout_file_path(l, out_path);
  for (int i = 0; env && env[i]; i++) {
    g_auto(GStrv) kv = g_strsplit(env[i], "=", 2);
    g_subprocess_launcher_setenv(l, kv[0], kv[1] ? kv[1] : "", TRUE);
  }
  GSubprocess *p = g_subprocess_launcher_spawnv(l, (const char *const *)argv->pdata, &error);
  g_assert_no_error(error);
  run_result r = {0};
  g_assert_true(g_subprocess_communicate_utf8(p, input, NULL, out_path ? NULL : &r.out, &r.err, &error));
  g_assert_no_error(error);
  g_assert_true(g_subprocess_get_if_exited(p)); /* a signal (crash) fails the test */
  r.status = g_subprocess_get_exit_status(p);
  if (!r.out) r.out = g_strdup("");
  g_object_unref(p);
  g_object_unref(l);
  g_ptr_array_free(argv, TRUE);
  return r;
}

run_result cli_run(const char *const *args, const char *input) { return cli_run_with(args, input, NULL, NULL); }

/* Standard output on a full disk: exit 1 and a line that says so, whatever the command. */
void cli_expect_write_error(const char *const *args, const char *input) {
  run_result r = cli_run_with(args, input, "/dev/full", NULL);
  g_test_message("%s: stderr: %s", args[0], r.err);
  g_assert_cmpint(r.status, ==, 1);
  g_assert_nonnull(strstr(r.err, "attnlens: cannot write to standard output: No space left on device"));
  run_clear(&r);
}

void run_clear(run_result *r) { g_free(r->out), g_free(r->err); }

void cli_expect_one_line_error(const char *const *args, const char *input, const char *expect) {
  run_result r = cli_run(args, input);
  g_test_message("stderr: %s", r.err);
  g_assert_cmpint(r.status, ==, 1);
  g_assert_true(g_str_has_prefix(r.err, "attnlens: "));
  char *nl = strchr(r.err, '\n');
  g_assert_nonnull(nl);
  g_assert_cmpstr(nl + 1, ==, "");
  g_assert_nonnull(strstr(r.err, expect));
  run_clear(&r);
}
