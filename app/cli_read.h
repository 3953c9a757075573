/* The reading subcommands: `attnlens read` (cli_read.c) and `attnlens bench read`
 * (cli_bench_read.c). Each returns the process exit status. */
#ifndef ATTNLENS_CLI_READ_H
#define ATTNLENS_CLI_READ_H

int cli_read(int argc, char **argv);
/* argv[0] is "read" (the word after `bench`). */
int cli_bench_read(int argc, char **argv);

#endif
