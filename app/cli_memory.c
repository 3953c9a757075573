/* `attnlens memory`: the Neural Turing Machine copies a sequence of bit vectors; prints the
 * copy, the trace as JSON, or the picture of the memory view (weightings, adds, reads,
 * memory). `attnlens bench memory`: time per sequence, C against the PyTorch twin on the
 * same sequences, measured in one run. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attn_memory.h"
#include "attn_trace_json.h"
#include "bench_util.h"
#include "cli.h"
#include "cli_memory.h"
#include "lens_memory.h"

#define DEFAULT_MEMORY_MODEL "ntm-copy"
#define MEMORY_USAGE "usage: attnlens memory [-m MODEL] [--json] [-o OUT.png|.svg|.pdf] \"10110010 01100001 ...\""

typedef struct memory_args {
  const char *model, *out_path;
  int json;
  GString *text; /* every other argument, joined by spaces */
} memory_args;

static int parse_memory(memory_args *a, int argc, char **argv) {
  a->model = DEFAULT_MEMORY_MODEL, a->out_path = NULL, a->json = 0;
  a->text = g_string_new(NULL);
  int texts = 0;
  for (int i = 1; i < argc; i++) {
    const char *flag = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    int is_model = strcmp(flag, "-m") == 0 || strcmp(flag, "--model") == 0;
    int is_out = strcmp(flag, "-o") == 0 || strcmp(flag, "--output") == 0;
    if (strcmp(flag, "--json") == 0) {
      a->json = 1;
    } else if ((is_model || is_out) && !val) {
      cli_error("%s needs a value", flag);
      return -1;
    } else if (is_model || is_out) {
      *(is_model ? &a->model : &a->out_path) = val, i++;
    } else if (flag[0] == '-' && flag[1] != '\0') {
      cli_error("memory: unknown option '%s'", flag);
      return -1;
    } else {
      g_string_append_printf(a->text, "%s%s", texts++ ? " " : "", flag);
    }
  }
  if (texts == 0) {
    cli_error(MEMORY_USAGE);
    return -1;
  }
  return 0;
}

static int print_result(const attn_trace *t, const memory_args *a) {
  if (a->json) {
    if (cli_put_trace_json(t) != 0) return 1;
  } else {
    for (int i = 0; i < t->output.n; i++) { /* made printable, as all trace text on a terminal */
      if (i) putchar(' ');
      cli_put_text(t->output.tokens[i]);
    }
    putchar('\n');
  }
  attn_error err = {0};
  if (a->out_path && lens_memory_export(t, a->out_path, 2.0, 0, &err) != ATTN_OK) {
    cli_error("%s", err.message);
    return 1;
  }
  return 0;
}

int cli_memory(int argc, char **argv) {
  memory_args a;
  int rc = parse_memory(&a, argc, argv);
  if (rc != 0) {
    g_string_free(a.text, TRUE);
    return 1;
  }
  attn_error err = {0};
  char *dir = cli_resolve_model(a.model);
  attn_memory_model *m = dir ? attn_memory_load(dir, &err) : NULL;
  free(dir);
  attn_trace *t = m ? attn_memory_run(m, a.text->str, &err) : NULL;
  rc = t ? print_result(t, &a) : 1;
  if (!t) cli_error("%s", err.message);
  attn_trace_free(t);
  attn_memory_free(m);
  g_string_free(a.text, TRUE);
  return rc;
}

/* ---- bench ---- */

/* n random sequences of each length, as the text the user would type. */
static GPtrArray *bench_sequences(int bits, const int *lengths, int n_lengths, int n) {
  GPtrArray *seqs = g_ptr_array_new_with_free_func(g_free);
  GRand *r = g_rand_new_with_seed(7);
  for (int l = 0; l < n_lengths; l++)
    for (int k = 0; k < n; k++) {
      GString *s = g_string_new(NULL);
      for (int i = 0; i < lengths[l]; i++) {
        if (i) g_string_append_c(s, ' ');
        for (int j = 0; j < bits; j++) g_string_append_c(s, g_rand_boolean(r) ? '1' : '0');
      }
      g_ptr_array_add(seqs, g_string_free(s, FALSE));
    }
  g_rand_free(r);
  return seqs;
}

/* Runs training/bench_ntm_twin.py on the sequences: fills twin_ms[i] (ms per sequence) and
 * counts how many of its copies equal the C engine's; FALSE when the twin cannot run. */
static gboolean time_twin(const char *model, GPtrArray *seqs, char **copies, double *twin_ms, guint *agree) {
  g_autofree char *tmp = NULL;
  int fd = g_file_open_tmp("attnlens-bench-memory-XXXXXX.txt", &tmp, NULL);
  if (fd < 0) return FALSE;
  close(fd);
  GString *all = g_string_new(NULL);
  for (guint i = 0; i < seqs->len; i++) g_string_append_printf(all, "%s\n", (char *)g_ptr_array_index(seqs, i));
  g_file_set_contents(tmp, all->str, (gssize)all->len, NULL);
  g_string_free(all, TRUE);
  g_autofree char *script = g_build_filename(ATTN_SOURCE_DIR, "training", "bench_ntm_twin.py", NULL);
  const char *argv[] = {bench_python(), script, model, tmp, NULL};
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  *agree = 0;
  gboolean ok = g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, NULL) &&
                g_spawn_check_wait_status(status, NULL);
  g_unlink(tmp);
  if (!ok) {
    fprintf(stderr, "  (PyTorch twin not timed: %s)\n", err && *err ? g_strchomp(err) : "python3/torch missing");
    return FALSE;
  }
  cJSON *j = cJSON_Parse(out);
  const cJSON *c = cJSON_GetObjectItem(j, "copies"), *times = cJSON_GetObjectItem(j, "times_ms");
  for (guint i = 0; i < seqs->len; i++) {
    const cJSON *t = cJSON_GetArrayItem(times, (int)i);
    twin_ms[i] = cJSON_IsNumber(t) ? t->valuedouble : NAN;
    *agree += g_strcmp0(cJSON_GetStringValue(cJSON_GetArrayItem(c, (int)i)), copies[i]) == 0;
  }
  cJSON_Delete(j);
  return TRUE;
}

/* The copy as one string, vectors separated by spaces (caller frees). */
static char *copy_text(const attn_trace *t) {
  GString *s = g_string_new(NULL);
  for (int i = 0; t && i < t->output.n; i++) g_string_append_printf(s, "%s%s", i ? " " : "", t->output.tokens[i]);
  return g_string_free(s, FALSE);
}

int cli_bench_memory(int argc, char **argv) {
  const char *model = DEFAULT_MEMORY_MODEL;
  int n = 20, twin = 1;
  for (int i = 1; i < argc; i++) {
    if ((strcmp(argv[i], "-m") == 0 || strcmp(argv[i], "--model") == 0) && i + 1 < argc) model = argv[++i];
    else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
      if (cli_number_arg("--limit", argv[++i], 1, 100000, &n) != 0) return 1;
    } else if (strcmp(argv[i], "--no-twin") == 0) twin = 0;
    else {
      cli_error("usage: attnlens bench memory [-m MODEL] [--limit N per length] [--no-twin]");
      return 1;
    }
  }
  attn_error err = {0};
  char *dir = cli_resolve_model(model);
  attn_memory_model *m = dir ? attn_memory_load(dir, &err) : NULL;
  if (!m) {
    cli_error("%s", err.message);
    free(dir);
    return 1;
  }
  int lengths[] = {10, 20, 40}, n_lengths = 0;
  while (n_lengths < 3 && lengths[n_lengths] <= attn_memory_max_length(m)) n_lengths++;
  if (n_lengths == 0) lengths[0] = attn_memory_max_length(m), n_lengths = 1;
  GPtrArray *seqs = bench_sequences(attn_memory_bits(m), lengths, n_lengths, n);
  double *ms = g_new(double, seqs->len);
  char **copies = g_new0(char *, seqs->len + 1);
  for (guint i = 0; i < seqs->len; i++) {
    double t0 = bench_now_ms();
    attn_trace *t = attn_memory_run(m, g_ptr_array_index(seqs, i), &err);
    ms[i] = bench_now_ms() - t0;
    copies[i] = copy_text(t);
    attn_trace_free(t);
  }
  guint agree = 0;
  double *tw = g_new(double, seqs->len);
  gboolean timed = twin && time_twin(dir, seqs, copies, tw, &agree);
  printf("%-16s %6s %9s %9s %9s %7s\n", "model", "length", "C ms", "C p95", "twin ms", "ratio");
  for (int l = 0; l < n_lengths; l++) {
    double *c_ms = ms + (size_t)l * n, *t_ms = tw + (size_t)l * n;
    double med = bench_quantile(c_ms, n, 0.5), p95 = bench_quantile(c_ms, n, 0.95);
    double twin_med = timed ? bench_quantile(t_ms, n, 0.5) : NAN;
    printf("%-16s %6d %9.3f %9.3f %9.3f %6.1fx\n", attn_memory_name(m), lengths[l], med, p95, twin_med, twin_med / med);
  }
  if (timed) printf("same copy as the twin: %u of %u sequences\n", agree, seqs->len);
  printf("(%d random sequences per length; median ms per sequence from text to trace in C, from bits to outputs "
         "and weightings in the twin; one thread each)\n", n);
  g_free(tw);
  g_strfreev(copies);
  g_free(ms);
  g_ptr_array_unref(seqs);
  attn_memory_free(m);
  free(dir);
  return 0;
}
