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

#endif
