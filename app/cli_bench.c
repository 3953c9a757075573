/* `attnlens bench translate|live`: speed of the engine and of the live pipeline, with
 * ratios measured in the same run (the PyTorch twin, OpenBLAS sgemm). Not a test. */
#include <cblas.h>
#include <gio/gio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "attn_model_dir.h"
#include "attn_transformer.h"
#include "attn_translate.h"
#include "bench_util.h"
#include "cli.h"
#include "cli_bench_quality.h"
#include "cli_read.h"
#include "lens_render.h"

typedef struct bench_args {
  const char *input;
  int limit;
  int twin;
  const char *model; /* -m: time this model directory only */
  int beam;          /* bench live --beam: 0 = each model's own num_beams, as the window */
} bench_args;

/* Reads sentences from a text file, or by default Multi30k val (English) from ../shared. */
static GPtrArray *read_sentences(const char *path, int limit) {
  g_autofree char *fallback = NULL;
  if (!path) path = fallback = g_build_filename(ATTN_SOURCE_DIR, "..", "shared", "data", "multi30k", "val.en.gz", NULL);
  return bench_read_lines(path, limit, 0);
}

/* Median milliseconds per sentence of one decoding setting. */
static double time_translate(const attn_translator *t, GPtrArray *sentences, int beam) {
  attn_translate_opts o;
  attn_translate_opts_init(&o);
  o.beam = beam;
  double *ms = g_new(double, sentences->len);
  for (guint i = 0; i < sentences->len; i++) {
    const char *s = g_ptr_array_index(sentences, i);
    double t0 = bench_now_ms();
    attn_trace_free(attn_translate(t, s, strlen(s), &o, NULL));
    ms[i] = bench_now_ms() - t0;
  }
  double m = bench_quantile(ms, (int)sentences->len, 0.5);
  g_free(ms);
  return m;
}

/* Runs training/bench_twin.py on the same model and sentences; NAN when unavailable. */
static void time_twin(const char *model, const char *sentences_file, double *greedy, double *beam) {
  *greedy = *beam = NAN;
  g_autofree char *script = g_build_filename(ATTN_SOURCE_DIR, "training", "bench_twin.py", NULL);
  const char *python = bench_python();
  const char *argv[] = {python, script, model, sentences_file, "--threads", "1", NULL};
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, NULL) ||
      !g_spawn_check_wait_status(status, NULL)) {
    fprintf(stderr, "  (PyTorch twin not timed: %s)\n", err && *err ? g_strchomp(err) : "python3/torch missing");
    return;
  }
  const char *g = strstr(out, "\"greedy_ms\":"), *b = strstr(out, "\"beam4_ms\":");
  if (g) *greedy = g_ascii_strtod(g + 12, NULL);
  if (b) *beam = g_ascii_strtod(b + 11, NULL);
}

/* GFLOP/s of cblas_sgemm for C[M,N] = A[M,K] B[K,N], best of a few repeats. */
static double sgemm_gflops(int M, int N, int K) {
  float *A = g_new0(float, (size_t)M * K), *B = g_new0(float, (size_t)K * N), *C = g_new0(float, (size_t)M * N);
  for (int i = 0; i < M * K; i++) A[i] = (float)(i % 7) * 0.1f;
  for (int i = 0; i < K * N; i++) B[i] = (float)(i % 5) * 0.1f;
  double best = INFINITY;
  int reps = (int)fmax(1, 2e8 / (2.0 * M * N * K));
  for (int r = 0; r < 5; r++) {
    double t0 = bench_now_ms();
    for (int k = 0; k < reps; k++) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1, A, K, B, N, 0, C, N);
    best = fmin(best, (bench_now_ms() - t0) / reps);
  }
  g_free(A), g_free(B), g_free(C);
  return 2.0 * M * N * K / (best * 1e6);
}

/* The encoder of a Transformer on an S-piece source: GFLOP/s counted from its shapes. */
static void encoder_gflops(const char *model_dir) {
  attn_error err = {0};
  attn_model_dir *dir = attn_model_dir_open(model_dir, &err);
  attn_transformer *tf = dir ? attn_transformer_load(dir, &err) : NULL;
  if (!tf) {
    attn_model_dir_close(dir);
    return;
  }
  const attn_tf_dims *D = attn_transformer_dims(tf);
  int S = 32, d = D->d_model;
  int32_t src[32];
  for (int i = 0; i < S; i++) src[i] = 4 + i;
  double flops = D->enc_layers * (8.0 * S * d * d + 4.0 * S * d * D->enc_ffn + 4.0 * S * S * d) + D->dec_layers * 4.0 * S * d * d;
  double best = INFINITY;
  for (int r = 0; r < 50; r++) {
    double t0 = bench_now_ms();
    attn_tf_run_free(attn_tf_run_new(tf, src, S, 1, 1, &err));
    best = fmin(best, bench_now_ms() - t0);
  }
  double enc = flops / (best * 1e6), ffn = sgemm_gflops(S, D->enc_ffn, d), big = sgemm_gflops(512, 512, 512);
  printf("  encoder, %d pieces: %.2f ms, %.1f GFLOP/s = %.0f%% of sgemm at its FFN shape (%dx%dx%d: %.1f GFLOP/s); "
         "sgemm 512^3: %.1f GFLOP/s\n", S, best, enc, 100 * enc / ffn, S, D->enc_ffn, d, ffn, big);
  attn_transformer_free(tf);
  attn_model_dir_close(dir);
}

static int bench_translate(const bench_args *a) {
  GPtrArray *sentences = read_sentences(a->input, a->limit);
  if (!sentences) return 1; /* said why */
  if (sentences->len == 0) {
    cli_error("no sentences to time (give --input FILE)");
    g_ptr_array_unref(sentences);
    return 1;
  }
  g_autofree char *tmp = NULL;
  int fd = g_file_open_tmp("attnlens-bench-XXXXXX.txt", &tmp, NULL);
  GString *all = g_string_new(NULL);
  for (guint i = 0; i < sentences->len; i++) g_string_append_printf(all, "%s\n", (char *)g_ptr_array_index(sentences, i));
  g_file_set_contents(tmp, all->str, (gssize)all->len, NULL);
  g_string_free(all, TRUE);
  if (fd >= 0) close(fd);
  printf("attnlens bench translate: %u sentences, batch 1, 1 thread, median ms per sentence\n", sentences->len);
  printf("%-22s %10s %10s %7s %10s %10s %7s\n", "model", "greedy C", "twin", "ratio", "beam4 C", "twin", "ratio");
  GPtrArray *models = bench_task_models(a->model, "translate");
  for (guint m = 0; m < models->len; m++) {
    const char *path = g_ptr_array_index(models, m);
    attn_error err = {0};
    attn_translator *t = attn_translator_load(path, &err);
    if (!t) {
      printf("%-22s cannot load: %s\n", path, err.message);
      continue;
    }
    double cg = time_translate(t, sentences, 1), cb = time_translate(t, sentences, 4), pg = NAN, pb = NAN;
    if (a->twin) time_twin(path, tmp, &pg, &pb);
    printf("%-22s %10.2f %10.2f %6.1fx %10.2f %10.2f %6.1fx\n", attn_translator_name(t), cg, pg, pg / cg, cb, pb, pb / cb);
    if (strcmp(attn_translator_architecture(t), "transformer") == 0) encoder_gflops(path);
    attn_translator_free(t);
  }
  if (models->len == 0) printf("(no translation models in data/models)\n");
  g_unlink(tmp);
  g_ptr_array_unref(models);
  g_ptr_array_unref(sentences);
  return 0;
}

/* One keystroke's work as the window does it: translate with the model's own beam (the
 * Translate page's default), then draw the matrix. */
static double keystroke(const attn_translator *t, int beam, const char *text, size_t len, cairo_t *cr) {
  attn_translate_opts opts;
  attn_translate_opts_init(&opts);
  opts.beam = beam;
  double t0 = bench_now_ms();
  attn_trace *tr = attn_translate(t, text, len, &opts, NULL);
  if (tr) {
    LensRenderOptions o;
    lens_render_options_init(&o);
    lens_render(cr, tr, &o, 1000, 800, NULL);
    attn_trace_free(tr);
  }
  return bench_now_ms() - t0;
}

/* Drawing alone: a 40 x 40 matrix, median of 50 draws (wall and CPU milliseconds). */
static double draw_40x40(cairo_t *cr, double *cpu_median) {
  attn_trace *t = attn_trace_new(ATTN_TASK_TRANSLATE, "bench");
  char *toks[40];
  for (int i = 0; i < 40; i++) toks[i] = g_strdup_printf("▁token%d", i);
  attn_tokens_set(&t->source, 40, (const char *const *)toks, NULL, NULL, NULL);
  attn_tokens_set(&t->output, 40, (const char *const *)toks, NULL, NULL, NULL);
  float w[1600];
  for (int i = 0; i < 40; i++)
    for (int j = 0; j < 40; j++) w[i * 40 + j] = (i == j ? 21.0f : 0.5f) / 40.5f;
  attn_trace_add_map(t, "cross", ATTN_MAP_CROSS, -1, -1, 40, 40, w);
  LensRenderOptions o;
  lens_render_options_init(&o);
  double ms[50], cpu[50], width, height;
  lens_render_size(t, &o, &width, &height);
  for (int r = 0; r < 50; r++) {
    double t0 = bench_now_ms(), c0 = bench_cpu_ms();
    lens_render(cr, t, &o, width, height, NULL);
    cairo_surface_flush(cairo_get_target(cr));
    ms[r] = bench_now_ms() - t0;
    cpu[r] = bench_cpu_ms() - c0;
  }
  *cpu_median = bench_quantile(cpu, 50, 0.5);
  for (int i = 0; i < 40; i++) g_free(toks[i]);
  attn_trace_free(t);
  return bench_quantile(ms, 50, 0.5);
}

static int bench_live(const bench_args *a) {
  GPtrArray *sentences = read_sentences(a->input, a->limit);
  if (!sentences) return 1; /* said why */
  if (sentences->len == 0) {
    cli_error("no sentences to type (give --input FILE)");
    g_ptr_array_unref(sentences);
    return 1;
  }
  cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1000, 800);
  cairo_t *cr = cairo_create(surface);
  printf("attnlens bench live: %u sentences typed one character at a time; keystroke -> trace -> drawing\n", sentences->len);
  GPtrArray *models = bench_task_models(a->model, "translate");
  for (guint m = 0; m < models->len; m++) {
    attn_error err = {0};
    attn_translator *t = attn_translator_load(g_ptr_array_index(models, m), &err);
    if (!t) continue;
    GArray *ms = g_array_new(FALSE, FALSE, sizeof(double));
    int beam = a->beam > 0 ? a->beam : attn_translator_default_beam(t);
    for (guint i = 0; i < sentences->len; i++) {
      const char *s = g_ptr_array_index(sentences, i);
      for (const char *p = g_utf8_next_char(s); p <= s + strlen(s); p = *p ? g_utf8_next_char(p) : p + 1) {
        double v = keystroke(t, beam, s, (size_t)(p - s), cr);
        g_array_append_val(ms, v);
      }
    }
    double *v = (double *)ms->data;
    printf("%-22s beam %d, %6u keystrokes: median %.1f ms, p95 %.1f ms\n", attn_translator_name(t),
           beam, ms->len,
           bench_quantile(v, (int)ms->len, 0.5), bench_quantile(v, (int)ms->len, 0.95));
    g_array_free(ms, TRUE);
    attn_translator_free(t);
  }
  double draw_cpu, draw_wall = draw_40x40(cr, &draw_cpu);
  printf("drawing alone, 40 x 40 matrix: median %.2f ms wall, %.2f ms CPU\n", draw_wall, draw_cpu);
  cairo_destroy(cr);
  cairo_surface_destroy(surface);
  g_ptr_array_unref(models);
  g_ptr_array_unref(sentences);
  return 0;
}

int cli_bench(int argc, char **argv) {
  bench_args a = {NULL, 0, 1, NULL, 0};
  const char *what = argc > 1 ? argv[1] : "";
  if (strcmp(what, "read") == 0) return cli_bench_read(argc - 1, argv + 1);
  if (strcmp(what, "quality") == 0) return cli_bench_quality(argc - 1, argv + 1);
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--input") == 0 && i + 1 < argc) a.input = argv[++i];
    else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) a.limit = atoi(argv[++i]);
    else if (strcmp(argv[i], "--no-twin") == 0) a.twin = 0;
    else if (strcmp(argv[i], "-m") == 0 && i + 1 < argc) a.model = argv[++i];
    else if (strcmp(argv[i], "--beam") == 0 && i + 1 < argc && strcmp(what, "live") == 0) {
      a.beam = atoi(argv[++i]);
      if (a.beam < 1 || a.beam > 8) {
        cli_error("bench live: --beam takes 1..8");
        return 1;
      }
    } else {
      cli_error("bench: unknown option '%s'", argv[i]);
      return 1;
    }
  }
  if (strcmp(what, "translate") == 0) {
    if (a.limit <= 0) a.limit = 1014;
    return bench_translate(&a);
  }
  if (strcmp(what, "live") == 0) {
    if (a.limit <= 0) a.limit = 30;
    return bench_live(&a);
  }
  cli_error("usage: attnlens bench translate|live|read|caption [-m MODEL] [--input FILE] [--limit N] [--no-twin]\n"
            "       attnlens bench live [--beam N] (default: each model's own num_beams, as the window)");
  return 1;
}
