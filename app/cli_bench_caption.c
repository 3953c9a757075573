/* `attnlens bench caption`: time from pixels to caption trace (resize, encode, greedy search,
 * attention and beta), one image at a time on one thread, and the ratio to the PyTorch twin on
 * the same images and weights, measured in the same run. The images are generated test scenes
 * (training/scenes.py --raw). Not a test. */
#include <cjson/cJSON.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "attn_caption.h"
#include "attn_mobilenet.h"
#include "bench_util.h"
#include "cli.h"
#include "cli_caption.h"

#define DEFAULT_MODEL "caption-photos"
#define TARGET_MS 50.0

typedef struct bench {
  const char *model;
  int limit, twin, random;
} bench;

/* Runs training/<script> with args; its standard output (caller frees) or NULL with a note. */
static char *run_script(const char *script, const char *const *args) {
  g_autofree char *path = g_build_filename(ATTN_SOURCE_DIR, "training", script, NULL);
  GPtrArray *argv = g_ptr_array_new();
  g_ptr_array_add(argv, (gpointer)bench_python());
  g_ptr_array_add(argv, path);
  for (int i = 0; args[i]; i++) g_ptr_array_add(argv, (gpointer)args[i]);
  g_ptr_array_add(argv, NULL);
  char *out = NULL, *err = NULL;
  int status = 0;
  gboolean ok = g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, NULL) &&
                g_spawn_check_wait_status(status, NULL);
  g_ptr_array_free(argv, TRUE);
  if (!ok) {
    fprintf(stderr, "  (%s failed: %s)\n", script, err && *err ? g_strchomp(err) : "python3/torch missing");
    g_free(out);
    out = NULL;
  }
  g_free(err);
  return out;
}

/* n test scenes of side x side pixels as .rgb files in a new temporary directory (caller frees). */
static char *make_scenes(int n, int side) {
  char *dir = g_dir_make_tmp("attnlens-bench-caption-XXXXXX", NULL);
  g_autofree char *count = g_strdup_printf("%d", n), *size = g_strdup_printf("%d", side);
  const char *args[] = {"--split", "test", "--count", count, "--size", size, "--raw", "--out", dir, NULL};
  g_autofree char *out = dir ? run_script("scenes.py", args) : NULL;
  if (!out) {
    g_free(dir);
    return NULL;
  }
  return dir;
}

static void remove_scenes(const char *dir) {
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d))) {
    g_autofree char *p = g_build_filename(dir, name, NULL);
    g_unlink(p);
  }
  g_rmdir(dir);
}

/* Median ms per image of the twin, and how many of its captions equal the C ones. */
static double time_twin(const char *model, const char *dir, char **captions, int n, int *agree) {
  const char *args[] = {model, dir, "--threads", "1", NULL};
  g_autofree char *out = run_script("bench_caption_twin.py", args);
  *agree = 0;
  if (!out) return NAN;
  cJSON *j = cJSON_Parse(out);
  const cJSON *m = cJSON_GetObjectItem(j, "median_ms"), *c = cJSON_GetObjectItem(j, "captions");
  for (int i = 0; i < n && i < cJSON_GetArraySize(c); i++)
    *agree += g_strcmp0(cJSON_GetStringValue(cJSON_GetArrayItem(c, i)), captions[i]) == 0;
  double ms = cJSON_IsNumber(m) ? m->valuedouble : NAN;
  cJSON_Delete(j);
  return ms;
}

/* The C captioner over the scenes: times per image and the captions (caller frees both). */
static int time_c(const attn_captioner *cap, const char *dir, int n, int side, double *ms, double *cpu, char **captions) {
  int done = 0;
  for (int i = 0; i < n; i++) {
    g_autofree char *name = g_strdup_printf("scene-%04d.rgb", i), *path = g_build_filename(dir, name, NULL);
    g_autofree char *bytes = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &bytes, &len, NULL) || len != (gsize)side * side * 3) break;
    g_autofree float *rgb = g_new(float, len);
    for (gsize k = 0; k < len; k++) rgb[k] = (unsigned char)bytes[k] / 255.0f;
    attn_error err = {0};
    double t0 = bench_now_ms(), c0 = bench_cpu_ms();
    attn_trace *t = attn_caption(cap, rgb, side, side, NULL, &err);
    ms[i] = bench_now_ms() - t0;
    cpu[i] = bench_cpu_ms() - c0;
    captions[i] = g_strdup(t && t->output.text ? t->output.text : "");
    attn_trace_free(t);
    done++;
  }
  return done;
}

static int parse(bench *b, int argc, char **argv) {
  *b = (bench){.model = DEFAULT_MODEL, .limit = 50, .twin = 1};
  for (int i = 1; i < argc; i++) {
    if ((!strcmp(argv[i], "-m") || !strcmp(argv[i], "--model")) && i + 1 < argc) b->model = argv[++i];
    else if (!strcmp(argv[i], "--limit") && i + 1 < argc) b->limit = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--no-twin")) b->twin = 0;
    else if (!strcmp(argv[i], "--random")) b->random = 1;
    else {
      cli_error("usage: attnlens bench caption [-m MODEL | --random] [--limit N] [--no-twin]");
      return -1;
    }
  }
  if (b->limit < 1 || b->limit > 10000) b->limit = 50;
  return 0;
}

/* The model to time: the given one, or with --random (or when the default model is not there)
 * random weights made by the twin in a temporary folder: with the architecture, decoding and
 * vocabulary of the -m model (the default one unless given) when its folder is there, else of
 * the scene model's. */
static char *model_dir(const bench *b, char **tmp) {
  *tmp = NULL;
  char *dir = cli_resolve_model(b->model);
  gboolean there = g_file_test(dir, G_FILE_TEST_IS_DIR);
  if (!b->random && there) return dir;
  if (!b->random && strcmp(b->model, DEFAULT_MODEL) != 0) return dir; /* its load error says why */
  *tmp = g_dir_make_tmp("attnlens-bench-model-XXXXXX", NULL);
  const char *args[] = {"--random", *tmp, there ? "--like" : NULL, dir, NULL};
  g_autofree char *out = *tmp ? run_script("bench_caption_twin.py", args) : NULL;
  if (there)
    printf("(--random: timing an untrained model of %s's size, random weights)\n", b->model);
  else
    printf("(%s: timing an untrained scene model, random weights)\n",
           b->random ? "--random" : DEFAULT_MODEL " is not there");
  g_free(dir);
  return out ? g_strdup(*tmp) : NULL;
}

/* Best CPU milliseconds of `reps` calls of cblas_sgemm at n x n x n (CPU time: on a busy
 * machine wall time also counts waiting for a core). */
static double sgemm_ms(int n, int reps) {
  float *a = g_new0(float, (size_t)n * n), *b = g_new0(float, (size_t)n * n), *c = g_new0(float, (size_t)n * n);
  double best = INFINITY;
  for (int r = 0; r < reps; r++) {
    double t0 = bench_cpu_ms();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    best = fmin(best, bench_cpu_ms() - t0);
  }
  g_free(a), g_free(b), g_free(c);
  return best;
}

/* The pretrained trunk's convolutions alone on a fixed input: best CPU and wall time of 20
 * passes, GFLOP/s, and the share of sgemm's (512^3, same measure). */
static void time_trunk(const attn_mobilenet *n, int side) {
  size_t in_n = (size_t)3 * side * side, out_n = (size_t)attn_mobilenet_channels(n) * (side / attn_mobilenet_stride(n)) *
                                                   (side / attn_mobilenet_stride(n));
  float *in = g_new(float, in_n), *out = g_new(float, out_n), *scratch = g_new(float, attn_mobilenet_scratch(n, side));
  for (size_t i = 0; i < in_n; i++) in[i] = (float)((i * 7919) % 1000) / 1000.0f;
  double cpu = INFINITY, wall = INFINITY;
  for (int r = 0; r < 20; r++) {
    double t0 = bench_cpu_ms(), w0 = bench_now_ms();
    attn_mobilenet_forward(n, in, side, out, scratch);
    cpu = fmin(cpu, bench_cpu_ms() - t0), wall = fmin(wall, bench_now_ms() - w0);
  }
  double flops = attn_mobilenet_flops(n, side), gf = flops / (cpu * 1e6), ref = 2.0 * 512 * 512 * 512 / (sgemm_ms(512, 20) * 1e6);
  printf("trunk convolutions (%.0f MFLOP): %.2f ms CPU (%.2f ms wall), %.1f GFLOP/s = %.0f%% of sgemm 512^3 "
         "(%.1f GFLOP/s, CPU time, best of 20): target 50%%: %s\n", flops / 1e6, cpu, wall, gf, 100 * gf / ref, ref,
         gf >= 0.5 * ref ? "yes" : "NO");
  g_free(in), g_free(out), g_free(scratch);
}

int cli_bench_caption(int argc, char **argv) {
  bench b;
  if (parse(&b, argc, argv) != 0) return 1;
  g_autofree char *tmp_model = NULL;
  g_autofree char *dir = model_dir(&b, &tmp_model);
  attn_error err = {0};
  attn_captioner *cap = dir ? attn_captioner_load(dir, &err) : NULL;
  if (!cap) {
    cli_error("%s", dir ? err.message : "no model to time");
    if (tmp_model) remove_scenes(tmp_model);
    return 1;
  }
  int side = attn_captioner_input_size(cap), rows, cols;
  attn_captioner_grid(cap, &rows, &cols);
  g_autofree char *scenes = make_scenes(b.limit, side);
  if (!scenes) {
    cli_error("could not generate test scenes with training/scenes.py");
    attn_captioner_free(cap);
    return 1;
  }
  double *ms = g_new0(double, b.limit), *cpu = g_new0(double, b.limit);
  char **captions = g_new0(char *, b.limit + 1);
  int n = time_c(cap, scenes, b.limit, side, ms, cpu, captions), agree = 0;
  double twin = b.twin ? time_twin(dir, scenes, captions, n, &agree) : NAN;
  double med = bench_quantile(ms, n, 0.5), p95 = bench_quantile(ms, n, 0.95);
  printf("attnlens bench caption: %d generated test scenes of %dx%d, one at a time, 1 thread, pixels to trace "
         "(greedy, %dx%d grid)\n", n, side, side, rows, cols);
  printf("%-24s %9s %8s %9s %7s %8s %s\n", "model", "C med ms", "C p95", "twin med", "ratio", "C=twin", "target");
  printf("%-24s %9.2f %8.2f %9.2f %6.1fx %7.1f%% median < %.0f ms: %s\n",
         tmp_model ? "random weights" : attn_captioner_name(cap), med, p95, twin,
         twin / med, isnan(twin) ? NAN : 100.0 * agree / n, TARGET_MS, med < TARGET_MS ? "yes" : "NO");
  printf("C median CPU time per image: %.2f ms (on a busy machine the wall time also counts waiting for a core)\n",
         bench_quantile(cpu, n, 0.5));
  if (attn_captioner_trunk(cap)) time_trunk(attn_captioner_trunk(cap), side);
  g_strfreev(captions);
  g_free(ms), g_free(cpu);
  remove_scenes(scenes);
  if (tmp_model) remove_scenes(tmp_model);
  attn_captioner_free(cap);
  return 0;
}
