/* What the bench subcommands share (see bench_util.h). */
#include "bench_util.h"

#include "cli.h"
#include "quality.h"

#include <cjson/cJSON.h>
#include <gio/gio.h>
#include <glib.h>
#include <string.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

double bench_now_ms(void) { return g_get_monotonic_time() / 1000.0; }

double bench_cpu_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double bench_quantile(double *v, int n, double q) {
  if (n == 0) return NAN;
  qsort(v, (size_t)n, sizeof(double), cmp_double);
  int k = (int)ceil(q * n) - 1;
  return v[k < 0 ? 0 : k >= n ? n - 1 : k];
}

const char *bench_python(void) { return g_file_test("/usr/bin/python3", G_FILE_TEST_EXISTS) ? "/usr/bin/python3" : "python3"; }

GPtrArray *bench_read_lines(const char *path, int limit, int keep_empty) {
  g_autoptr(GError) error = NULL;
  GPtrArray *lines = quality_read_lines(path, limit, keep_empty, &error);
  if (!lines) cli_error("%s", error->message);
  return lines;
}

static gint compare_paths(gconstpointer a, gconstpointer b) { /* g_ptr_array_sort passes char ** */
  return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

GPtrArray *bench_task_models(const char *only, const char *task) {
  GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
  if (only) {
    g_ptr_array_add(paths, cli_resolve_model(only));
    return paths;
  }
  g_autofree char *root = cli_find_data("data/models");
  g_autoptr(GDir) dir = root ? g_dir_open(root, 0, NULL) : NULL;
  const char *name;
  while (dir && (name = g_dir_read_name(dir))) {
    g_autofree char *cfg = g_build_filename(root, name, "config.json", NULL), *text = NULL;
    cJSON *doc = g_file_get_contents(cfg, &text, NULL, NULL) ? cJSON_Parse(text) : NULL;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "attnlens"), "task");
    if (cJSON_IsString(t) && strcmp(t->valuestring, task) == 0) /* the task itself, not any "read" in the file */
      g_ptr_array_add(paths, g_build_filename(root, name, NULL));
    cJSON_Delete(doc);
  }
  g_ptr_array_sort(paths, compare_paths);
  return paths;
}
