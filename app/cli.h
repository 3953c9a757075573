/* Headless subcommands of attnlens: each returns the process exit status. */
#ifndef ATTNLENS_CLI_H
#define ATTNLENS_CLI_H

#include <stdio.h>

int cli_render(int argc, char **argv);
int cli_inspect(int argc, char **argv);
int cli_models(int argc, char **argv);
int cli_translate(int argc, char **argv);
int cli_bench(int argc, char **argv);
/* The window (when built with GTK); non-zero exit status when no display is there. */
int cli_gui(int argc, char **argv);

/* Path of a model given by name (user folder, then shipped) or by path. Caller frees. */
char *cli_resolve_model(const char *name);
int cli_sample(int argc, char **argv);
void cli_usage(FILE *out);

/* Path of a file shipped with attnlens (assets/..., data/...), looked up in
 * $ATTNLENS_DATADIR, the source tree, then the installed data dir. Caller frees. */
char *cli_find_data(const char *relative);

/* *out = val as a whole number in [lo, hi]; else says "<flag> needs a number from lo to hi"
 * and returns -1. */
int cli_number_arg(const char *flag, const char *val, int lo, int hi, int *out);

/* Prints "attnlens: <message>" on stderr, made printable (attn_make_printable): messages
 * quote names and words from files, which must not drive the terminal. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "attnlens: warning: <w>" on stderr for each warning of t, made printable. */
struct attn_trace;
void cli_print_warnings(const struct attn_trace *t);

/* Writes text to standard output made printable (no newline added): for text from model
 * files (translations, captions, answers, names), which must not drive the terminal. */
void cli_put_text(const char *text);
/* Writes JSON text to standard output with DEL and the C1 controls escaped as \u007f,
 * \u0080.. (cJSON escapes only those below 0x20): the same JSON, safe on a terminal. */
void cli_put_json(const char *json);

/* Prints the trace as JSON (cli_put_json) and a newline; 0, or -1 after saying "out of memory". */
int cli_put_trace_json(const struct attn_trace *t);

/* What main returns: status, or 1 with a message when standard output could not be
 * written (a full disk, /dev/full): the output is then incomplete. */
int cli_finish_stdout(int status);

#endif
