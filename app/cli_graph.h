/* The graph subcommands: `attnlens graph` and `attnlens bench graph` (cli_graph.c). Each
 * returns the process exit status. */
#ifndef ATTNLENS_CLI_GRAPH_H
#define ATTNLENS_CLI_GRAPH_H

int cli_graph(int argc, char **argv);
/* argv[0] is "graph" (the word after `bench`). */
int cli_bench_graph(int argc, char **argv);

#endif
