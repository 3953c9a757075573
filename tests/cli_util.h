/* What the tests of the attnlens command line share: running it and its one-line errors. */
#ifndef CLI_UTIL_H
#define CLI_UTIL_H

#include <glib.h>

typedef struct run_result {
  int status;
  char *out, *err;
} run_result;

/* Runs $ATTNLENS with args (NULL-terminated) and waits for it; feeds `input` on standard
 * input when given, else the child inherits ours. A crash (signal) fails the test. */
run_result cli_run(const char *const *args, const char *input);
void run_clear(run_result *r);
/* cli_run with standard output going to out_path (r.out is then "") when it is not NULL,
 * and env ("NAME=value" strings, NULL-terminated; may be NULL) set for the child. */
run_result cli_run_with(const char *const *args, const char *input, const char *out_path, const char *const *env);

/* With standard output on /dev/full (a full disk): exit 1 and "cannot write to standard
 * output: No space left on device" on stderr. */
void cli_expect_write_error(const char *const *args, const char *input);

/* Exit 1 and exactly one line on stderr, starting "attnlens: ", that contains expect. */
void cli_expect_one_line_error(const char *const *args, const char *input, const char *expect);

#endif
