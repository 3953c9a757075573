/* What the bench subcommands (translate, read, caption) share: clocks and quantiles. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

/* Wall time in milliseconds (monotonic). */
double bench_now_ms(void);
/* CPU time of this thread: on a busy machine wall time also counts waiting for a core. */
double bench_cpu_ms(void);
/* The q-th quantile (0..1) of n samples, sorted in place (nearest rank); NAN for none. */
double bench_quantile(double *v, int n, double q);
/* The Python that runs the PyTorch twins: the system one where it is installed. */
const char *bench_python(void);

/* The lines of a UTF-8 text file (plain, or gzip when the name ends in .gz), at most limit
 * (<= 0: all); empty lines are kept only with keep_empty (parallel files stay aligned). A
 * line that is not UTF-8 or holds a NUL byte is named in the error. NULL after saying why
 * (cli_error). */
#include <glib.h>
/* The model directories to time: `only` (a name or path, resolved) when given, else every
 * shipped model whose config.json names the task ("translate", "read", "graph"), sorted. */
GPtrArray *bench_task_models(const char *only, const char *task);
GPtrArray *bench_read_lines(const char *path, int limit, int keep_empty);

#endif
