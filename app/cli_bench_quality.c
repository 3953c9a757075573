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
#include "quality.h"
#include "cli.h"
#include "cli_bench_quality.h"
#include "lens_chart.h"

#define MAX_BUCKETS QUALITY_MAX_BUCKETS

typedef struct quality_args {
  const char *models, *input, *ref, *out, *hyps;
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
    else if (strcmp(argv[i], "--hyps") == 0 && v) a->hyps = v, i++;
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
              "[--limit N] [--beam N] [--buckets 8,12,16,20] [-o OUT.png|.svg|.pdf] [--hyps OUT.txt]");
    return -1;
  }
  if (a->out && !a->by_length) {
    cli_error("bench quality: -o draws the by-length chart; add --by-length");
    return -1;
  }
  if (a->hyps && strchr(a->models, ',')) {
    cli_error("bench quality: --hyps writes one model's translations; give one model with -m");
    return -1;
  }
  if (!a->input != !a->ref) {
    cli_error("bench quality: give both --input and --ref (or neither, for Multi30k test_2016_flickr)");
    return -1;
  }
  return 0;
}

typedef struct progress_ctx {
  gchar **names; /* as given with -m */
  GString *hyps; /* --hyps: the translations, one per line */
} progress_ctx;

static void on_translated(int model, guint line, const char *hyp, gpointer data) {
  progress_ctx *p = data;
  if (!p->hyps) return;
  for (const char *c = hyp; *c; c++) g_string_append_c(p->hyps, *c == '\n' || *c == '\r' ? ' ' : *c);
  g_string_append_c(p->hyps, '\n');
}

static void on_progress(int model, guint done, guint total, gpointer data) {
  const progress_ctx *p = data;
  if (done % 200 == 0) fprintf(stderr, "  %s: %u / %u sentences\n", p->names[model], done, total);
}

static void on_failed(const char *model, guint line, const char *message, gpointer data) {
  fprintf(stderr, "attnlens: %s: line %u: %s (scored as empty)\n", model, line, message);
}

/* Translates every source with each model, in order; 0 or 1 after saying why. */
static int score_models(const quality_args *a, gchar **names, int n_models, GPtrArray *src, GPtrArray *ref,
                        QualityResult *r) {
  progress_ctx ctx = {names, a->hyps ? g_string_new(NULL) : NULL};
  QualityHooks hooks = {on_progress, on_failed, &ctx, on_translated};
  for (int m = 0; m < n_models; m++) {
    g_autofree char *dir = cli_resolve_model(names[m]);
    g_autoptr(GError) error = NULL;
    if (!dir || !quality_score_model(r, dir, a->beam, src, ref, &hooks, NULL, &error)) {
      g_autofree char *shown = g_strdup(names[m]);
      attn_make_printable(shown);
      cli_error("%s: %s", shown, error ? error->message : "no such model");
      if (ctx.hyps) g_string_free(ctx.hyps, TRUE);
      return 1;
    }
  }
  if (ctx.hyps) { /* written whole (temporary file and rename) or not at all */
    g_autoptr(GError) error = NULL;
    gboolean ok = g_file_set_contents(a->hyps, ctx.hyps->str, (gssize)ctx.hyps->len, &error);
    g_string_free(ctx.hyps, TRUE);
    if (!ok) {
      cli_error("--hyps: %s", error->message);
      return 1;
    }
  }
  return 0;
}

static void print_table(const QualityResult *r, gchar **names) {
  printf("%-12s %6s", "words", "count");
  for (int m = 0; m < r->n_models; m++) {
    g_autofree char *shown = g_strdup(names[m]);
    attn_make_printable(shown); /* a name given on the command line is printed back */
    printf(" %14.14s", shown);
  }
  printf("\n");
  for (int b = 0; b < quality_n_buckets(r); b++) {
    g_autofree char *flat = g_strdelimit(g_strdup(r->ticks[b]), "\n", ' ');
    *strchr(flat, ' ') = '\0';
    printf("%s%*s %6d", flat, 12 - (int)g_utf8_strlen(flat, -1), "", r->counts[b]);
    for (int m = 0; m < r->n_models; m++) printf(" %14.2f", r->y[m][b]);
    printf("\n");
  }
}

int cli_bench_quality(int argc, char **argv) {
  quality_args a;
  if (parse(&a, argc, argv) != 0) return 1;
  g_autofree char *def_src = NULL, *def_ref = NULL;
  if (!a.input) {
    def_src = quality_default_file("en");
    def_ref = quality_default_file("de");
    a.input = def_src, a.ref = def_ref;
  }
  GPtrArray *src = NULL, *ref = NULL;
  g_autoptr(GError) error = NULL;
  if (!quality_read_test_set(a.input, a.ref, a.limit, &src, &ref, &error)) {
    cli_error("%s", error->message);
    return 1;
  }
  gchar **names = g_strsplit(a.models, ",", -1);
  int n_models = (int)g_strv_length(names), rc = 0;
  if (n_models < 1 || n_models > QUALITY_MAX_MODELS) {
    cli_error("bench quality: give 1 to %d models with -m A,B", QUALITY_MAX_MODELS);
    g_strfreev(names), g_ptr_array_unref(src), g_ptr_array_unref(ref);
    return 1;
  }
  QualityResult r;
  quality_init(&r, a.edges, a.n_edges, src);
  printf("attnlens bench quality: %u sentences of %s, BLEU (sacreBLEU-compatible 13a)\n", src->len, a.input);
  rc = score_models(&a, names, n_models, src, ref, &r);
  quality_finish(&r, a.input);
  if (rc == 0) {
    for (int m = 0; m < n_models; m++) printf("%-40s BLEU %.2f\n", r.display[m], bleu_score(&r.all[m]));
    if (a.by_length) print_table(&r, names);
  }
  if (rc == 0 && a.out) {
    attn_error err = {0};
    if (lens_chart_export(&r.chart, a.out, 2.0, &err) != ATTN_OK) {
      cli_error("%s", err.message);
      rc = 1;
    } else printf("chart written to %s\n", a.out);
  }
  quality_clear(&r);
  g_strfreev(names);
  g_ptr_array_unref(src), g_ptr_array_unref(ref);
  return rc;
}
