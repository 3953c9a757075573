/* `attnlens read`: answer a question about a story from the command line, as text, JSON or
 * a picture of the story view. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_read.h"
#include "attn_trace_json.h"
#include "attn_util.h"
#include "cli.h"
#include "cli_read.h"
#include "lens_render.h"

#define DEFAULT_READ_MODEL "memn2n-babi"
#define STORY_MAX_BYTES (64u << 20)

typedef struct read_args {
  const char *model, *story_path, *question, *out_path;
  int json;
} read_args;

static int parse_read(read_args *a, int argc, char **argv) {
  memset(a, 0, sizeof *a);
  a->model = DEFAULT_READ_MODEL;
  for (int i = 1; i < argc; i++) {
    const char *flag = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    const char **dst = strcmp(flag, "-m") == 0 || strcmp(flag, "--model") == 0 ? &a->model
                       : strcmp(flag, "--story") == 0                          ? &a->story_path
                       : strcmp(flag, "--question") == 0 || strcmp(flag, "-q") == 0 ? &a->question
                       : strcmp(flag, "-o") == 0 || strcmp(flag, "--output") == 0   ? &a->out_path
                                                                                    : NULL;
    if (strcmp(flag, "--json") == 0) {
      a->json = 1;
    } else if (!dst) {
      cli_error("read: unknown argument '%s'", flag);
      return -1;
    } else if (!val) {
      cli_error("%s needs a value", flag);
      return -1;
    } else {
      *dst = val, i++;
    }
  }
  if (!a->story_path || !a->question) {
    cli_error("usage: attnlens read [-m MODEL] --story FILE --question TEXT [--json] [-o OUT.png|.svg|.pdf]");
    return -1;
  }
  return 0;
}

/* The story file, or standard input for "-". A NUL byte would end the story early without
 * a word, so it is refused as not text. */
static char *read_story(const char *path, attn_error *err) {
  if (strcmp(path, "-") != 0) return attn_read_text_file(path, STORY_MAX_BYTES, NULL, err);
  size_t len = 0, cap = 4096;
  char *buf = malloc(cap);
  for (size_t got; buf && (got = fread(buf + len, 1, cap - len - 1, stdin)) > 0;) {
    len += got;
    if (len + 1 == cap && cap < STORY_MAX_BYTES) {
      char *grown = realloc(buf, cap * 2);
      if (!grown) free(buf);
      buf = grown, cap *= 2;
    } else if (len + 1 == cap) {
      attn_error_set(err, ATTN_E_ARG, "the story on standard input is longer than %u bytes", STORY_MAX_BYTES);
      free(buf);
      return NULL;
    }
  }
  if (!buf) attn_error_set(err, ATTN_E_NOMEM, "out of memory reading the story");
  else buf[len] = '\0';
  if (buf && attn_check_no_nul(buf, len, "the story on standard input", err) != ATTN_OK) {
    free(buf);
    return NULL;
  }
  return buf;
}

static int print_result(const attn_trace *t, const read_args *a) {
  cli_print_warnings(t);
  if (a->json) {
    if (cli_put_trace_json(t) != 0) return 1;
  } else {
    cli_put_text(t->output.text);
    printf("\t%.4f\n", t->output.probs ? (double)t->output.probs[0] : 0.0);
  }
  if (!a->out_path) return 0;
  LensRenderOptions ro;
  lens_render_options_init(&ro);
  ro.view = LENS_VIEW_STORY;
  ro.show_values = 1;
  attn_error err = {0};
  if (lens_export(t, &ro, a->out_path, 2.0, &err) != ATTN_OK) {
    cli_error("%s", err.message);
    return 1;
  }
  return 0;
}

int cli_read(int argc, char **argv) {
  read_args a;
  if (parse_read(&a, argc, argv) != 0) return 1;
  attn_error err = {0};
  char *story = read_story(a.story_path, &err);
  if (!story) {
    cli_error("%s", err.message);
    return 1;
  }
  char *dir = cli_resolve_model(a.model);
  attn_reader *r = dir ? attn_reader_load(dir, &err) : NULL;
  free(dir);
  attn_trace *t = r ? attn_read(r, story, a.question, &err) : NULL;
  int rc = t ? print_result(t, &a) : 1;
  if (!t) cli_error("%s", err.message);
  attn_trace_free(t);
  attn_reader_free(r);
  free(story);
  return rc;
}
