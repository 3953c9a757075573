/* What the bench subcommands share (see bench_util.h). */
#include "bench_util.h"

#include <glib.h>
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
