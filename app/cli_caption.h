/* The caption subcommands: `attnlens caption` (cli_caption.c) and `attnlens bench caption`
 * (cli_bench_caption.c). Each returns the process exit status. */
#ifndef ATTNLENS_CLI_CAPTION_H
#define ATTNLENS_CLI_CAPTION_H

int cli_caption(int argc, char **argv);
/* argv[0] is "caption" (the word after `bench`). */
int cli_bench_caption(int argc, char **argv);

#endif
