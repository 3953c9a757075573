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

/* Prints "attnlens: <message>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
