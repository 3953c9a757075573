/* `attnlens bench quality`: BLEU of translation models on a parallel test set, overall and by
 * source sentence length (Bahdanau et al. 2015, Figure 2), as a table and a line chart. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <glib.h>

#include "attn_translate.h"
#include "attn_util.h"
#include "bench_util.h"
#include "bleu.h"
#include "cli.h"
#include "cli_bench_quality.h"
#include "lens_chart.h"

#define MAX_MODELS 4
#define MAX_BUCKETS 12

typedef struct quality_args {
  const char *models, *input, *ref, *out;
  int limit, beam, by_length;
  int edges[MAX_BUCKETS]; /* bucket b holds lengths (edges[b-1], edges[b]]; the last is open */
  int n_edges;
} quality_args;

static int parse_edges(const char *spec, quality_args *a) {
  gchar **parts = g_strsplit(spec, ",", -1);
  int ok = 1, prev = 0;
  a->n_edges = 0;
  for (gchar **p = parts; *p && ok; p++) {
    int v;
    ok = a->n_edges < MAX_BUCKETS - 1 && cli_number_arg("--buckets", *p, 1, 10000, &v) == 0 && v > prev;
    if (ok) a->edges[a->n_edges++] = prev = v;
  }
  g_strfreev(parts);
  if (!ok || a->n_edges == 0) {
    cli_error("--buckets needs increasing word counts, at most %d, such as 8,12,16,20", MAX_BUCKETS - 1);
    return -1;
  }
  return 0;
}

static int parse(quality_args *a, int argc, char **argv) {
  *a = (quality_args){.n_edges = 4, .edges = {8, 12, 16, 20}};
  for (int i = 1; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(argv[i], "--by-length") == 0) a->by_length = 1;
    else if (strcmp(argv[i], "-m") == 0 && v) a->models = v, i++;
    else if (strcmp(argv[i], "--input") == 0 && v) a->input = v, i++;
    else if (strcmp(argv[i], "--ref") == 0 && v) a->ref = v, i++;
    else if (strcmp(argv[i], "-o") == 0 && v) a->out = v, i++;
    else if (strcmp(argv[i], "--limit") == 0 && v) {
      if (cli_number_arg("--limit", v, 1, 10000000, &a->limit) != 0) return -1;
      i++;
    } else if (strcmp(argv[i], "--beam") == 0 && v) {
      if (cli_number_arg("--beam", v, 1, 8, &a->beam) != 0) return -1;
      i++;
    } else if (strcmp(argv[i], "--buckets") == 0 && v) {
      if (parse_edges(v, a) != 0) return -1;
      i++;
    } else {
      cli_error("bench quality: unknown option '%s'", argv[i]);
      return -1;
    }
  }
  if (!a->models) {
    cli_error("usage: attnlens bench quality [--by-length] -m MODEL[,MODEL...] [--input SRC --ref REF] "
              "[--limit N] [--beam N] [--buckets 8,12,16,20] [-o OUT.png|.svg|.pdf]");
    return -1;
  }
  if (a->out && !a->by_length) {
    cli_error("bench quality: -o draws the by-length chart; add --by-length");
    return -1;
  }
  if (!a->input != !a->ref) {
    cli_error("bench quality: give both --input and --ref (or neither, for Multi30k test_2016_flickr)");
    return -1;
  }
  return 0;
}

static int bucket_of(const quality_args *a, const char *src) {
  gchar **words = g_strsplit_set(src, " \t", -1);
  int n = 0;
  for (gchar **w = words; *w; w++) n += **w != 0;
  g_strfreev(words);
  int b = 0;
  while (b < a->n_edges && n > a->edges[b]) b++;
  return b;
}

static char *bucket_name(const quality_args *a, int b, int count) {
  if (b == 0) return g_strdup_printf("1–%d\n(%d)", a->edges[0], count);
  if (b == a->n_edges) return g_strdup_printf("%d+\n(%d)", a->edges[b - 1] + 1, count);
  return g_strdup_printf("%d–%d\n(%d)", a->edges[b - 1] + 1, a->edges[b], count);
}

/* Translates every source with one model; fills per-bucket and overall statistics. */
static int score_model(const quality_args *a, const char *name, GPtrArray *src, GPtrArray *ref, BleuStats *buckets,
                       BleuStats *all, char **display) {
  attn_error err = {0};
  char *dir = cli_resolve_model(name);
  attn_translator *t = dir ? attn_translator_load(dir, &err) : NULL;
  g_free(dir);
  if (!t) {
    cli_error("%s: %s", name, err.message[0] ? err.message : "no such model");
    return -1;
  }
  attn_translate_opts o;
  attn_translate_opts_init(&o);
  o.beam = a->beam ? a->beam : attn_translator_default_beam(t);
  *display = g_strdup_printf("%s (%s)", attn_translator_name(t), o.beam > 1 ? "beam" : "greedy");
  if (o.beam > 1) {
    g_free(*display);
    *display = g_strdup_printf("%s (beam %d)", attn_translator_name(t), o.beam);
  }
  attn_make_printable(*display); /* a folder name must not drive the terminal */
  for (guint i = 0; i < src->len; i++) {
    const char *s = g_ptr_array_index(src, i), *r = g_ptr_array_index(ref, i);
    attn_trace *tr = *s ? attn_translate(t, s, strlen(s), &o, &err) : NULL;
    const char *hyp = tr && tr->output.text ? tr->output.text : "";
    if (*s && !tr) fprintf(stderr, "attnlens: %s: line %u: %s (scored as empty)\n", name, i + 1, err.message);
    BleuStats *b = &buckets[bucket_of(a, s)];
    bleu_add(b, hyp, r);
    bleu_add(all, hyp, r);
    attn_trace_free(tr);
    if ((i + 1) % 200 == 0) fprintf(stderr, "  %s: %u / %u sentences\n", name, i + 1, src->len);
  }
  attn_translator_free(t);
  return 0;
}

int cli_bench_quality(int argc, char **argv) {
  quality_args a;
  if (parse(&a, argc, argv) != 0) return 1;
  g_autofree char *def_src = NULL, *def_ref = NULL;
  if (!a.input) {
    def_src = g_build_filename(ATTN_SOURCE_DIR, "..", "shared", "data", "multi30k", "test_2016_flickr.en.gz", NULL);
    def_ref = g_build_filename(ATTN_SOURCE_DIR, "..", "shared", "data", "multi30k", "test_2016_flickr.de.gz", NULL);
    a.input = def_src, a.ref = def_ref;
  }
  GPtrArray *src = bench_read_lines(a.input, a.limit, 1), *ref = src ? bench_read_lines(a.ref, a.limit, 1) : NULL;
  if (!src || !ref) {
    if (src) g_ptr_array_unref(src);
    return 1;
  }
  if (src->len != ref->len || src->len == 0) {
    cli_error("%s has %u lines but %s has %u: the files must be line-aligned and not empty", a.input, src->len,
              a.ref, ref->len);
    g_ptr_array_unref(src), g_ptr_array_unref(ref);
    return 1;
  }
  gchar **names = g_strsplit(a.models, ",", -1);
  int n_models = (int)g_strv_length(names), nb = a.n_edges + 1, rc = 0;
  if (n_models < 1 || n_models > MAX_MODELS) {
    cli_error("bench quality: give 1 to %d models with -m A,B", MAX_MODELS);
    g_strfreev(names), g_ptr_array_unref(src), g_ptr_array_unref(ref);
    return 1;
  }
  BleuStats stats[MAX_MODELS][MAX_BUCKETS] = {{{0}}}, all[MAX_MODELS] = {{0}};
  char *display[MAX_MODELS] = {0};
  int counts[MAX_BUCKETS] = {0};
  for (guint i = 0; i < src->len; i++) counts[bucket_of(&a, g_ptr_array_index(src, i))]++;
  printf("attnlens bench quality: %u sentences of %s, BLEU (sacreBLEU-compatible 13a)\n", src->len, a.input);
  for (int m = 0; m < n_models && rc == 0; m++)
    rc = score_model(&a, names[m], src, ref, stats[m], &all[m], &display[m]) == 0 ? 0 : 1;
  double y[MAX_MODELS][MAX_BUCKETS];
  char *ticks[MAX_BUCKETS] = {0};
  if (rc == 0) {
    for (int m = 0; m < n_models; m++) printf("%-40s BLEU %.2f\n", display[m], bleu_score(&all[m]));
    if (a.by_length) {
      printf("%-12s %6s", "words", "count");
      for (int m = 0; m < n_models; m++) {
        g_autofree char *shown = g_strdup(names[m]);
        attn_make_printable(shown); /* a name given on the command line is printed back */
        printf(" %14.14s", shown);
      }
      printf("\n");
      for (int b = 0; b < nb; b++) {
        ticks[b] = bucket_name(&a, b, counts[b]);
        g_autofree char *flat = g_strdelimit(g_strdup(ticks[b]), "\n", ' ');
        *strchr(flat, ' ') = '\0';
        printf("%s%*s %6d", flat, 12 - (int)g_utf8_strlen(flat, -1), "", counts[b]);
        for (int m = 0; m < n_models; m++) {
          y[m][b] = counts[b] ? bleu_score(&stats[m][b]) : NAN;
          printf(" %14.2f", y[m][b]);
        }
        printf("\n");
      }
    }
  }
  if (rc == 0 && a.out) {
    LensChartSeries series[MAX_MODELS];
    for (int m = 0; m < n_models; m++) series[m] = (LensChartSeries){display[m], y[m]};
    g_autofree char *base = g_path_get_basename(a.input);
    g_autofree char *title = g_strdup_printf("BLEU by source sentence length, %s", base);
    LensChart chart = {.title = title, .x_label = "source sentence length in words (sentences)", .y_label = "BLEU",
                       .n_x = nb, .x_ticks = (const char *const *)ticks, .n_series = n_models, .series = series};
    attn_error err = {0};
    if (lens_chart_export(&chart, a.out, 2.0, &err) != ATTN_OK) {
      cli_error("%s", err.message);
      rc = 1;
    } else printf("chart written to %s\n", a.out);
  }
  for (int b = 0; b < MAX_BUCKETS; b++) g_free(ticks[b]);
  for (int m = 0; m < MAX_MODELS; m++) g_free(display[m]);
  g_strfreev(names);
  g_ptr_array_unref(src), g_ptr_array_unref(ref);
  return rc;
}
