/* attnlens entry point: the window without arguments, else a headless subcommand (translate, read, ...). */
#include <stdio.h>
#include <string.h>

#include "attn_ops.h"
#include "cli.h"
#include "cli_read.h"
#include "cli_caption.h"
#include "cli_memory.h"
#include "cli_graph.h"

typedef struct command {
  const char *name;
  int (*run)(int argc, char **argv);
} command;

static const command commands[] = {
    {"render", cli_render},
    {"inspect", cli_inspect},
    {"models", cli_models},
    {"translate", cli_translate},
    {"read", cli_read},
    {"caption", cli_caption},
    {"memory", cli_memory},
    {"graph", cli_graph},
    {"bench", cli_bench},
    {"sample", cli_sample},
};

static int run(int argc, char **argv) {
  if (argc < 2) {
#ifdef ATTN_HAVE_GUI
    return cli_gui(argc, argv);
#else
    return cli_sample(argc, argv);
#endif
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
    cli_usage(stdout);
    return 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("attnlens %s\n", ATTN_VERSION);
    return 0;
  }
  if (argc > 2 && strcmp(argv[1], "bench") == 0 && strcmp(argv[2], "caption") == 0)
    return cli_bench_caption(argc - 2, argv + 2);
  if (argc > 2 && strcmp(argv[1], "bench") == 0 && strcmp(argv[2], "memory") == 0)
    return cli_bench_memory(argc - 2, argv + 2);
  if (argc > 2 && strcmp(argv[1], "bench") == 0 && strcmp(argv[2], "graph") == 0)
    return cli_bench_graph(argc - 2, argv + 2);
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
  cli_error("unknown command '%s' (try 'attnlens --help')", argv[1]);
  return 2;
}

int main(int argc, char **argv) {
  attn_set_threads(1);
  return cli_finish_stdout(run(argc, argv));
}
