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
    char *json = attn_trace_to_json(t, 1);
    if (!json) {
      cli_error("out of memory");
      return 1;
    }
    cli_put_json(json);
    putchar('\n');
    free(json);
  } else {
    for (int i = 0; i < t->output.n; i++) printf("%s%s", i ? " " : "", t->output.tokens[i]);
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

/* Median ms per sequence of training/bench_ntm_twin.py, and how many of its copies equal the
 * C engine's; NAN when the twin cannot run. */
static double time_twin(const char *model, GPtrArray *seqs, char **copies, guint *agree) {
  g_autofree char *tmp = NULL;
  int fd = g_file_open_tmp("attnlens-bench-memory-XXXXXX.txt", &tmp, NULL);
  if (fd < 0) return NAN;
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
    return NAN;
  }
  cJSON *j = cJSON_Parse(out);
  const cJSON *med = cJSON_GetObjectItem(j, "median_ms"), *c = cJSON_GetObjectItem(j, "copies");
  for (guint i = 0; i < seqs->len && i < (guint)cJSON_GetArraySize(c); i++)
    *agree += g_strcmp0(cJSON_GetStringValue(cJSON_GetArrayItem(c, (int)i)), copies[i]) == 0;
  double ms = cJSON_IsNumber(med) ? med->valuedouble : NAN;
  cJSON_Delete(j);
  return ms;
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
  double tw = twin ? time_twin(dir, seqs, copies, &agree) : NAN;
  double med = bench_quantile(ms, (int)seqs->len, 0.5), p95 = bench_quantile(ms, (int)seqs->len, 0.95);
  printf("%-16s %9s %9s %9s %7s %9s\n", "model", "C ms", "C p95", "twin ms", "ratio", "same copy");
  printf("%-16s %9.3f %9.3f %9.3f %6.1fx %8.1f%%\n", attn_memory_name(m), med, p95, tw, tw / med,
         isnan(tw) ? NAN : 100.0 * agree / seqs->len);
  printf("(%u sequences: %d each of length", seqs->len, n);
  for (int l = 0; l < n_lengths; l++) printf(" %d", lengths[l]);
  printf("; text to trace in C, sequence to outputs and weightings in the twin; one thread each)\n");
  g_strfreev(copies);
  g_free(ms);
  g_ptr_array_unref(seqs);
  attn_memory_free(m);
  free(dir);
  return 0;
}
