/* Headless subcommands: render a trace to a picture, inspect a model, list models. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attn_model_dir.h"
#include "attn_trace_json.h"
#include "attn_util.h"
#include "lens_render.h"

/* The message as printf would format it, made printable; malloc'd (NULL when out of memory). */
static char *format_printable(const char *fmt, va_list ap) {
  va_list again;
  va_copy(again, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (s) vsnprintf(s, (size_t)n + 1, fmt, again);
  va_end(again);
  if (s) attn_make_printable(s);
  return s;
}

void cli_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = format_printable(fmt, ap);
  va_end(ap);
  fprintf(stderr, "attnlens: %s\n", msg ? msg : "out of memory");
  free(msg);
}

int cli_put_trace_json(const attn_trace *t) {
  char *json = attn_trace_to_json(t, 1);
  if (!json) {
    cli_error("out of memory");
    return -1;
  }
  cli_put_json(json);
  putchar('\n');
  free(json);
  return 0;
}

void cli_print_warnings(const attn_trace *t) {
  for (int i = 0; i < t->n_warnings; i++) cli_error("warning: %s", t->warnings[i]);
}

void cli_put_text(const char *text) { attn_fput_printable(text ? text : "", stdout); }

void cli_put_json(const char *json) {
  for (const unsigned char *p = (const unsigned char *)json; *p; p++) {
    if (*p == 0x7f) fputs("\\u007f", stdout);
    else if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] < 0xA0) printf("\\u%04x", p[1]), p++;
    else putchar(*p);
  }
}

int cli_finish_stdout(int status) {
  errno = 0;
  int failed = fflush(stdout) != 0 || ferror(stdout);
  int e = errno;
  if (fclose(stdout) != 0 && !failed) failed = 1, e = errno;
  if (!failed) return status;
  cli_error("cannot write to standard output: %s", e ? strerror(e) : "write error");
  return 1;
}

void cli_usage(FILE *out) {
  fputs("usage: attnlens [COMMAND] [ARGS]\n"
        "  (no command)       render the bundled sample trace and say where the picture is\n"
        "  render TRACE.json -o OUT.png|.svg|.pdf [--view matrix|flow|story|overlay|storyboard] [--map NAME]\n"
        "         [--colormap viridis|magma|cividis|greys] [--scale S] [--values] [--dark]\n"
        "         [--row N] [--col N]\n"
        "  translate [-m MODEL] [--beam N] [--json] [--self-attention] [-o OUT.png|.svg|.pdf] TEXT\n"
        "  read [-m MODEL] --story FILE|- --question TEXT [--json] [-o OUT.png|.svg|.pdf]\n"
        "                     answer a question about a story (one sentence per line)\n"
        "  caption [-m MODEL] [--beam N] [--json] [-o OUT.png|.svg|.pdf] [--view overlay|storyboard]\n"
        "          [--word N] IMAGE   caption an image and show where each word looked\n"
        "  memory [-m MODEL] [--json] [-o OUT.png|.svg|.pdf] \"10110010 01100001 ...\"\n"
        "                     the Neural Turing Machine copies a sequence of bit vectors\n"
        "  graph [-m MODEL] --node ID [--json] [--map NAME] [-o OUT.png|.svg|.pdf]\n"
        "                     a graph attention model's class for a node and its attention over\n"
        "                     the neighbours; graph [-m MODEL] --predict-all: node<TAB>class\n"
        "  inspect PATH       validate a model directory or .safetensors file, list its tensors\n"
        "  bench translate|live [--input FILE] [--limit N] [--no-twin]   speed, with ratios\n"
        "  bench read [-m MODEL] [--limit N] [--no-twin]   time per question, C vs PyTorch twin\n"
        "  bench quality [--by-length] -m A[,B] [--input SRC --ref REF] [-o OUT]   BLEU, by sentence length\n"
        "  bench caption [-m MODEL | --random] [--limit N] [--no-twin]   pixels to trace, C vs twin\n"
        "  bench graph [-m MODEL] [--limit N] [--no-twin]   time per node query, C vs twin\n"
        "  models             list the models found (data/models, user models folder)\n"
        "  --version, --help\n",
        out);
}

static int file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

static char *join_path(const char *a, const char *b) {
  size_t n = strlen(a) + strlen(b) + 2;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s/%s", a, b);
  return p;
}

char *cli_find_data(const char *relative) {
  const char *roots[] = {getenv("ATTNLENS_DATADIR"), ATTN_SOURCE_DIR, ATTN_DATADIR};
  for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
    if (!roots[i] || !roots[i][0]) continue;
    char *p = join_path(roots[i], relative);
    if (p && file_exists(p)) return p;
    free(p);
  }
  return NULL;
}

/* ---- render ---- */

typedef struct render_args {
  const char *trace_path;
  const char *out_path;
  const char *map_name;
  double scale;
  LensRenderOptions opts;
} render_args;

static int parse_int_arg(const char *flag, const char *value, int *out) {
  char *end = NULL;
  errno = 0;
  long v = value ? strtol(value, &end, 10) : 0;
  if (!value || errno || *end || v < -1 || v > 1000000) {
    cli_error("%s needs an integer, got '%s'", flag, value ? value : "");
    return -1;
  }
  *out = (int)v;
  return 0;
}

int cli_number_arg(const char *flag, const char *val, int lo, int hi, int *out) {
  char *end = NULL;
  long v = val ? strtol(val, &end, 10) : 0;
  if (!val || *end || v < lo || v > hi) {
    cli_error("%s needs a number from %d to %d, got '%s'", flag, lo, hi, val ? val : "");
    return -1;
  }
  *out = (int)v;
  return 0;
}

static int parse_scale(const char *value, double *out) {
  char *end = NULL;
  double v = value ? strtod(value, &end) : 0.0;
  if (!value || *end || !(v >= 0.1 && v <= 16.0)) {
    cli_error("--scale needs a number between 0.1 and 16, got '%s'", value ? value : "");
    return -1;
  }
  *out = v;
  return 0;
}

/* Handles one option at argv[*i]; returns 0, or -1 after printing an error. */
static int render_option(render_args *a, int argc, char **argv, int *i) {
  const char *flag = argv[*i];
  const char *val = *i + 1 < argc ? argv[*i + 1] : NULL;
  int takes_value = 1;
  int rc = 0;
  if (strcmp(flag, "-o") == 0 || strcmp(flag, "--output") == 0) a->out_path = val;
  else if (strcmp(flag, "--map") == 0) a->map_name = val;
  else if (strcmp(flag, "--scale") == 0) rc = parse_scale(val, &a->scale);
  else if (strcmp(flag, "--row") == 0) rc = parse_int_arg(flag, val, &a->opts.highlight_row);
  else if (strcmp(flag, "--col") == 0) rc = parse_int_arg(flag, val, &a->opts.highlight_col);
  else if (strcmp(flag, "--view") == 0) {
    if (!val || lens_view_from_name(val, &a->opts.view) != 0) {
      cli_error("unknown view '%s' (use matrix, flow or story)", val ? val : "");
      rc = -1;
    }
  } else if (strcmp(flag, "--colormap") == 0) {
    if (!val || lens_colormap_from_name(val, &a->opts.colormap) != 0) {
      cli_error("unknown colour map '%s' (use viridis, magma, cividis or greys)", val ? val : "");
      rc = -1;
    }
  } else {
    takes_value = 0;
    if (strcmp(flag, "--values") == 0) a->opts.show_values = 1;
    else if (strcmp(flag, "--dark") == 0) a->opts.dark = 1;
    else {
      cli_error("render: unknown option '%s'", flag);
      return -1;
    }
  }
  if (takes_value && !val && rc == 0) {
    cli_error("%s needs a value", flag);
    return -1;
  }
  *i += takes_value;
  return rc;
}

static int parse_render_args(render_args *a, int argc, char **argv) {
  memset(a, 0, sizeof *a);
  a->scale = 1.0;
  lens_render_options_init(&a->opts);
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] == '-' && argv[i][1] != '\0') {
      if (render_option(a, argc, argv, &i) != 0) return -1;
    } else if (!a->trace_path) {
      a->trace_path = argv[i];
    } else {
      cli_error("render: unexpected argument '%s'", argv[i]);
      return -1;
    }
  }
  if (!a->trace_path || !a->out_path) {
    cli_error("usage: attnlens render TRACE.json -o OUT.png|.svg|.pdf [options]");
    return -1;
  }
  return 0;
}

/* Checks the requested map and highlight indices against the trace. */
static int resolve_map(render_args *a, const attn_trace *t) {
  if (lens_render_is_bottleneck(t)) { /* a model without attention: its summary vector */
    if (a->map_name) {
      cli_error("%s: the model has no attention, so the trace has no map '%s'", a->trace_path, a->map_name);
      return -1;
    }
    if (a->opts.highlight_row >= t->output.n || a->opts.highlight_col >= t->source.n) {
      cli_error("--row/--col out of range: %d output and %d source tokens", t->output.n, t->source.n);
      return -1;
    }
    return 0;
  }
  if (t->n_maps == 0) {
    cli_error("%s: the trace has no attention maps (and no summary vector)", a->trace_path);
    return -1;
  }
  a->opts.map_index = 0;
  if (a->map_name) {
    a->opts.map_index = attn_trace_find_map(t, a->map_name);
    if (a->opts.map_index < 0) {
      cli_error("%s: no map named '%s' (the first is '%s')", a->trace_path, a->map_name, t->maps[0].name);
      return -1;
    }
  }
  const attn_map *m = &t->maps[a->opts.map_index];
  if (a->opts.highlight_row >= m->rows || a->opts.highlight_col >= m->cols) {
    cli_error("--row/--col out of range: map '%s' is %d x %d", m->name, m->rows, m->cols);
    return -1;
  }
  return 0;
}

int cli_render(int argc, char **argv) {
  render_args a;
  if (parse_render_args(&a, argc, argv) != 0) return 1;
  attn_error err = {0};
  attn_trace *t = attn_trace_load(a.trace_path, &err);
  if (!t) {
    cli_error("%s", err.message);
    return 1;
  }
  int rc = resolve_map(&a, t) != 0;
  if (!rc && lens_export(t, &a.opts, a.out_path, a.scale, &err) != ATTN_OK) {
    cli_error("%s", err.message);
    rc = 1;
  }
  attn_trace_free(t);
  return rc;
}

/* ---- inspect ---- */

int cli_inspect(int argc, char **argv) {
  if (argc != 2) {
    cli_error("usage: attnlens inspect MODEL_DIR|FILE.safetensors");
    return 1;
  }
  attn_error err = {0};
  if (attn_model_inspect(argv[1], stdout, &err) != ATTN_OK) {
    fflush(stdout);
    cli_error("%s", err.message);
    return 1;
  }
  return 0;
}

/* ---- sample: what `attnlens` does until the window exists ---- */

static char *sample_output_path(void) {
  const char *cache = getenv("XDG_CACHE_HOME");
  const char *home = getenv("HOME");
  char *dir = cache && cache[0] ? join_path(cache, "attnlens") : NULL;
  if (!dir && home) {
    char *c = join_path(home, ".cache");
    if (c) mkdir(c, 0755);
    dir = c ? join_path(c, "attnlens") : NULL;
    free(c);
  }
  if (!dir) dir = attn_strdup("/tmp/attnlens");
  if (!dir) return NULL;
  mkdir(dir, 0755);
  char *out = join_path(dir, "sample-alignment.png");
  free(dir);
  return out;
}

int cli_sample(int argc, char **argv) {
  (void)argc;
  (void)argv;
  char *trace_path = cli_find_data("assets/sample-trace.json");
  char *out = sample_output_path();
  int rc = 1;
  if (!trace_path || !out) {
    cli_error("cannot find assets/sample-trace.json (set ATTNLENS_DATADIR)");
  } else {
    char *args[] = {"render", trace_path, "-o", out, "--scale", "2", NULL};
    rc = cli_render(6, args);
    if (rc == 0)
      printf("The window is not built yet; the sample alignment is drawn in:\n  %s\n", out);
  }
  free(trace_path);
  free(out);
  return rc;
}
