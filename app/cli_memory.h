/* The memory subcommands: `attnlens memory` and `attnlens bench memory` (cli_memory.c).
 * Each returns the process exit status. */
#ifndef ATTNLENS_CLI_MEMORY_H
#define ATTNLENS_CLI_MEMORY_H

int cli_memory(int argc, char **argv);
/* argv[0] is "memory" (the word after `bench`). */
int cli_bench_memory(int argc, char **argv);

#endif
