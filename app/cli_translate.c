/* `attnlens translate` and `attnlens models`: translation from the command line. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attn_model_dir.h"
#include "attn_trace_json.h"
#include "attn_translate.h"
#include "attn_util.h"
#include "cli.h"
#include "lens_render.h"

/* without -m: the first of these that is installed (the same list as the Translate page's) */
static const char *const default_models[] = {"transformer-en-de-general", "transformer-en-de", "rnn-attn-en-de"};

typedef struct translate_args {
  const char *model;
  const char *out_path;
  const char *text;
  const char *compare; /* --compare A,B */
  int json;
  attn_translate_opts opts; /* opts.beam 0: each model's own num_beams (--beam overrides) */
} translate_args;

static char *default_model_dir(void) {
  for (size_t i = 0; i < sizeof default_models / sizeof default_models[0]; i++) {
    char rel[64];
    snprintf(rel, sizeof rel, "data/models/%s/config.json", default_models[i]);
    char *found = cli_find_data(rel);
    if (found) {
      *strrchr(found, '/') = '\0';
      return found;
    }
  }
  return cli_resolve_model(default_models[0]); /* its error names what is missing */
}

static int parse_translate(translate_args *a, int argc, char **argv) {
  memset(a, 0, sizeof *a);
  attn_translate_opts_init(&a->opts);
  a->opts.beam = 0;
  a->model = NULL;
  for (int i = 1; i < argc; i++) {
    const char *val = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(argv[i], "-m") == 0 || strcmp(argv[i], "--model") == 0) a->model = val, i++;
    else if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) a->out_path = val, i++;
    else if (strcmp(argv[i], "--beam") == 0) {
      if (cli_number_arg("--beam", val, 1, 8, &a->opts.beam)) return -1;
      i++;
    } else if (strcmp(argv[i], "--json") == 0) a->json = 1;
    else if (strcmp(argv[i], "--compare") == 0) a->compare = val, i++;
    else if (strcmp(argv[i], "--self-attention") == 0) a->opts.self_attention = 1;
    else if (strcmp(argv[i], "--") == 0 && val) a->text = val, i++;
    else if (argv[i][0] == '-' && argv[i][1]) {
      cli_error("translate: unknown option '%s'", argv[i]);
      return -1;
    } else if (!a->text) a->text = argv[i];
    else {
      cli_error("translate: give the text as one argument (quote it)");
      return -1;
    }
    if (i >= argc) {
      cli_error("%s needs a value", argv[i - 1]);
      return -1;
    }
  }
  if (!a->text) {
    cli_error("usage: attnlens translate [-m MODEL | --compare MODEL_A,MODEL_B] [--beam N] [--json] "
              "[-o OUT.png|.svg|.pdf] TEXT");
    return -1;
  }
  return 0;
}

/* A model given by name is looked up in the shipped and user folders; a path is used as is. */
char *cli_resolve_model(const char *name) {
  if (strchr(name, '/')) return strdup(name);
  const char *home = getenv("HOME"), *xdg = getenv("XDG_DATA_HOME");
  char path[4096];
  if (xdg && xdg[0]) snprintf(path, sizeof path, "%s/attnlens/models/%s/config.json", xdg, name);
  else snprintf(path, sizeof path, "%s/.local/share/attnlens/models/%s/config.json", home ? home : "", name);
  struct stat st;
  if (stat(path, &st) == 0) {
    *strrchr(path, '/') = '\0';
    return strdup(path);
  }
  snprintf(path, sizeof path, "data/models/%s", name);
  char *found = cli_find_data(path);
  return found ? found : strdup(name);
}



/* One model's trace for the text; NULL after saying why. */
static attn_trace *translate_with(const char *model, const translate_args *a) {
  attn_error err = {0};
  char *dir = cli_resolve_model(model);
  attn_translator *tr = dir ? attn_translator_load(dir, &err) : NULL;
  free(dir);
  attn_translate_opts opts = a->opts;
  if (tr && opts.beam == 0) opts.beam = attn_translator_default_beam(tr); /* the decoding its card measured */
  attn_trace *t = tr ? attn_translate(tr, a->text, strlen(a->text), &opts, &err) : NULL;
  if (!t) cli_error("%s", err.message);
  attn_translator_free(tr);
  return t;
}

/* --compare A,B: both translations (a line each, model first), or one JSON object holding both
 * traces; -o writes one picture with both maps side by side. */
static int translate_compare(const translate_args *a) {
  const char *comma = strchr(a->compare, ',');
  if (!comma || comma == a->compare || !comma[1] || strchr(comma + 1, ',')) {
    cli_error("--compare needs two models: MODEL_A,MODEL_B");
    return 1;
  }
  char *first = g_strndup(a->compare, (gsize)(comma - a->compare));
  attn_trace *t[2] = {translate_with(first, a), NULL};
  g_free(first);
  if (t[0]) t[1] = translate_with(comma + 1, a);
  int rc = t[0] && t[1] ? 0 : 1;
  for (int k = 0; !rc && k < 2; k++) cli_print_warnings(t[k]);
  if (!rc && a->json) {
    char *j[2] = {attn_trace_to_json(t[0], 1), attn_trace_to_json(t[1], 1)};
    char *both = j[0] && j[1] ? g_strdup_printf("{\"compare\": [\n%s,\n%s\n]}", j[0], j[1]) : NULL;
    if (both) cli_put_json(both);
    putchar('\n');
    free(j[0]), free(j[1]), g_free(both);
  } else if (!rc) {
    for (int k = 0; k < 2; k++) {
      cli_put_text(t[k]->model);
      putchar('\t');
      cli_put_text(t[k]->output.text);
      putchar('\n');
    }
  }
  LensRenderOptions ro, second;
  lens_render_options_init(&ro);
  lens_render_options_init(&second);
  ro.compare = t[1], ro.compare_options = &second;
  attn_error err = {0};
  if (!rc && a->out_path && lens_export(t[0], &ro, a->out_path, 2.0, &err) != ATTN_OK) {
    cli_error("%s", err.message);
    rc = 1;
  }
  attn_trace_free(t[0]), attn_trace_free(t[1]);
  return rc;
}

int cli_translate(int argc, char **argv) {
  translate_args a;
  if (parse_translate(&a, argc, argv) != 0) return 1;
  if (a.compare) return translate_compare(&a);
  attn_error err = {0};
  char *dir = a.model ? cli_resolve_model(a.model) : default_model_dir();
  attn_translator *tr = dir ? attn_translator_load(dir, &err) : NULL;
  free(dir);
  if (!tr) {
    cli_error("%s", err.message);
    return 1;
  }
  if (a.opts.beam == 0) a.opts.beam = attn_translator_default_beam(tr); /* the decoding its card measured */
  attn_trace *t = attn_translate(tr, a.text, strlen(a.text), &a.opts, &err);
  int rc = 0;
  if (!t) {
    cli_error("%s", err.message);
    rc = 1;
  } else {
    cli_print_warnings(t);
    char *json = a.json ? attn_trace_to_json(t, 1) : NULL;
    if (json) cli_put_json(json);
    else cli_put_text(t->output.text);
    putchar('\n');
    free(json);
    LensRenderOptions ro;
    lens_render_options_init(&ro);
    if (a.out_path && lens_export(t, &ro, a.out_path, 2.0, &err) != ATTN_OK) {
      cli_error("%s", err.message);
      rc = 1;
    }
  }
  attn_trace_free(t);
  attn_translator_free(tr);
  return rc;
}

/* ---- models ---- */

static gint compare_names(gconstpointer a, gconstpointer b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The model folders in folder, by name; plain files (a README) are not models. */
static void list_folder(const char *folder, const char *where) {
  g_autoptr(GDir) d = g_dir_open(folder, 0, NULL);
  if (!d) return;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  const char *name;
  while ((name = g_dir_read_name(d))) {
    g_autofree char *path = g_build_filename(folder, name, NULL);
    if (name[0] != '.' && g_file_test(path, G_FILE_TEST_IS_DIR)) g_ptr_array_add(names, g_strdup(name));
  }
  g_ptr_array_sort(names, compare_names);
  for (guint i = 0; i < names->len; i++) {
    const char *n = g_ptr_array_index(names, i);
    g_autofree char *path = g_build_filename(folder, n, NULL);
    attn_error err = {0};
    attn_model_dir *m = attn_model_dir_open(path, &err);
    g_autofree char *shown = g_strdup(n); /* folder names and configs are the user's files */
    attn_make_printable(shown);
    if (!m) {
      attn_make_printable(err.message);
      printf("%-22s (%s) cannot be used: %s\n", shown, where, err.message);
      continue;
    }
    const char *task = "?";
    attn_config_string(attn_model_dir_config(m), "attnlens.task", "?", &task, NULL);
    g_autofree char *task_shown = g_strdup(task), *display = g_strdup(attn_model_dir_display_name(m));
    attn_make_printable(task_shown);
    attn_make_printable(display);
    printf("%-22s %-10s %s (%s)\n", shown, task_shown, display, where);
    attn_model_dir_close(m);
  }
}

int cli_models(int argc, char **argv) {
  (void)argc;
  (void)argv;
  char *shipped = cli_find_data("data/models");
  if (shipped) list_folder(shipped, "shipped");
  const char *home = getenv("HOME"), *xdg = getenv("XDG_DATA_HOME");
  char user[4096];
  if (xdg && xdg[0]) snprintf(user, sizeof user, "%s/attnlens/models", xdg);
  else snprintf(user, sizeof user, "%s/.local/share/attnlens/models", home ? home : "");
  list_folder(user, "user");
  attn_make_printable(user); /* $HOME and $XDG_DATA_HOME could hold anything */
  printf("shipped models: %s\nuser models:    %s\n", shipped ? shipped : "(not found)", user);
  free(shipped);
  return 0;
}
