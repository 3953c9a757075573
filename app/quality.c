/* BLEU by sentence length of translation models (see quality.h). */
#include "quality.h"

#include <math.h>
#include <string.h>

#include "attn_translate.h"
#include "attn_util.h"

G_DEFINE_QUARK(attn-quality-error, quality_error)

GPtrArray *quality_read_lines(const char *path, int limit, int keep_empty, GError **error) {
  g_autoptr(GFile) file = g_file_new_for_path(path);
  g_autoptr(GInputStream) raw = G_INPUT_STREAM(g_file_read(file, NULL, error));
  if (!raw) return NULL;
  GInputStream *in = g_object_ref(raw);
  if (g_str_has_suffix(path, ".gz")) {
    g_autoptr(GConverter) gz = G_CONVERTER(g_zlib_decompressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP));
    g_object_unref(in);
    in = g_converter_input_stream_new(raw, gz);
  }
  g_autoptr(GDataInputStream) data = g_data_input_stream_new(in);
  g_object_unref(in);
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
  for (int n = 1; limit <= 0 || (int)out->len < limit; n++) {
    gsize len = 0;
    GError *e = NULL;
    char *line = g_data_input_stream_read_line_utf8(data, &len, NULL, &e);
    if (!line && !e) break;
    if (!line || strlen(line) != len) { /* not UTF-8, or a NUL byte: named, not taken for the end */
      if (line) g_set_error(error, QUALITY_ERROR, 1, "%s: line %d holds a NUL byte: this is not text", path, n);
      else g_set_error(error, QUALITY_ERROR, 1, "%s: line %d: %s", path, n, e->message);
      g_clear_error(&e);
      g_free(line);
      g_ptr_array_unref(out);
      return NULL;
    }
    if (*line || keep_empty) g_ptr_array_add(out, line);
    else g_free(line);
  }
  return out;
}

gboolean quality_read_test_set(const char *src_path, const char *ref_path, int limit, GPtrArray **src,
                               GPtrArray **ref, GError **error) {
  *src = quality_read_lines(src_path, limit, 1, error);
  *ref = *src ? quality_read_lines(ref_path, limit, 1, error) : NULL;
  if (*src && *ref && (*src)->len == (*ref)->len && (*src)->len > 0) return TRUE;
  if (*src && *ref)
    g_set_error(error, QUALITY_ERROR, 2, "%s has %u lines but %s has %u: the files must be line-aligned and not empty",
                src_path, (*src)->len, ref_path, (*ref)->len);
  g_clear_pointer(src, g_ptr_array_unref);
  g_clear_pointer(ref, g_ptr_array_unref);
  return FALSE;
}

char *quality_default_file(const char *lang) {
  g_autofree char *name = g_strdup_printf("test_2016_flickr.%s.gz", lang);
  return g_build_filename(ATTN_SOURCE_DIR, "..", "shared", "data", "multi30k", name, NULL);
}

void quality_init(QualityResult *r, const int *edges, int n_edges, const GPtrArray *src) {
  memset(r, 0, sizeof *r);
  r->n_edges = CLAMP(n_edges, 0, QUALITY_MAX_BUCKETS - 1);
  memcpy(r->edges, edges, (size_t)r->n_edges * sizeof *edges);
  for (guint i = 0; src && i < src->len; i++) r->counts[quality_bucket_of(r, g_ptr_array_index(src, i))]++;
}

int quality_n_buckets(const QualityResult *r) { return r->n_edges + 1; }

int quality_bucket_of(const QualityResult *r, const char *src) {
  gchar **words = g_strsplit_set(src, " \t", -1);
  int n = 0;
  for (gchar **w = words; *w; w++) n += **w != 0;
  g_strfreev(words);
  int b = 0;
  while (b < r->n_edges && n > r->edges[b]) b++;
  return b;
}

static char *model_display(const attn_translator *t, int beam) {
  char *s = beam > 1 ? g_strdup_printf("%s (beam %d)", attn_translator_name(t), beam)
                     : g_strdup_printf("%s (greedy)", attn_translator_name(t));
  attn_make_printable(s); /* a folder name must not drive a terminal */
  return s;
}

gboolean quality_score_model(QualityResult *r, const char *dir, int beam, const GPtrArray *src, const GPtrArray *ref,
                             const QualityHooks *hooks, GCancellable *cancel, GError **error) {
  if (r->n_models >= QUALITY_MAX_MODELS) {
    g_set_error(error, QUALITY_ERROR, 3, "at most %d models at a time", QUALITY_MAX_MODELS);
    return FALSE;
  }
  attn_error err = {0};
  attn_translator *t = attn_translator_load(dir, &err);
  if (!t) {
    g_set_error(error, QUALITY_ERROR, err.code, "%s", err.message[0] ? err.message : "no such model");
    return FALSE;
  }
  int m = r->n_models;
  attn_translate_opts o;
  attn_translate_opts_init(&o);
  o.beam = beam > 0 ? beam : attn_translator_default_beam(t);
  char *display = model_display(t, o.beam);
  BleuStats buckets[QUALITY_MAX_BUCKETS] = {{0}}, all = {0};
  for (guint i = 0; i < src->len; i++) {
    if (g_cancellable_set_error_if_cancelled(cancel, error)) {
      g_free(display);
      attn_translator_free(t);
      return FALSE;
    }
    const char *s = g_ptr_array_index(src, i), *ref_i = g_ptr_array_index(ref, i);
    attn_trace *tr = *s ? attn_translate(t, s, strlen(s), &o, &err) : NULL;
    const char *hyp = tr && tr->output.text ? tr->output.text : "";
    if (*s && !tr && hooks && hooks->failed) hooks->failed(display, i + 1, err.message, hooks->data);
    if (hooks && hooks->translated) hooks->translated(m, i + 1, hyp, hooks->data);
    bleu_add(&buckets[quality_bucket_of(r, s)], hyp, ref_i);
    bleu_add(&all, hyp, ref_i);
    attn_trace_free(tr);
    if (hooks && hooks->progress) hooks->progress(m, i + 1, src->len, hooks->data);
  }
  attn_translator_free(t);
  memcpy(r->stats[m], buckets, sizeof buckets);
  r->all[m] = all;
  r->display[m] = display;
  r->n_models++;
  return TRUE;
}

static char *bucket_name(const QualityResult *r, int b) {
  if (b == 0) return g_strdup_printf("1–%d\n(%d)", r->edges[0], r->counts[b]);
  if (b == r->n_edges) return g_strdup_printf("%d+\n(%d)", r->edges[b - 1] + 1, r->counts[b]);
  return g_strdup_printf("%d–%d\n(%d)", r->edges[b - 1] + 1, r->edges[b], r->counts[b]);
}

void quality_finish(QualityResult *r, const char *input_path) {
  int nb = quality_n_buckets(r);
  for (int b = 0; b < nb; b++) {
    g_free(r->ticks[b]);
    r->ticks[b] = bucket_name(r, b);
    for (int m = 0; m < r->n_models; m++) r->y[m][b] = r->counts[b] ? bleu_score(&r->stats[m][b]) : NAN;
  }
  for (int m = 0; m < r->n_models; m++) r->series[m] = (LensChartSeries){r->display[m], r->y[m]};
  g_autofree char *base = g_path_get_basename(input_path);
  g_free(r->title);
  r->title = g_strdup_printf("BLEU by source sentence length, %s", base);
  r->chart = (LensChart){.title = r->title, .x_label = "source sentence length in words (sentences)", .y_label = "BLEU",
                         .n_x = nb, .x_ticks = (const char *const *)r->ticks, .n_series = r->n_models,
                         .series = r->series};
}

void quality_clear(QualityResult *r) {
  for (int b = 0; b < QUALITY_MAX_BUCKETS; b++) g_free(r->ticks[b]);
  for (int m = 0; m < QUALITY_MAX_MODELS; m++) g_free(r->display[m]);
  g_free(r->title);
  memset(r, 0, sizeof *r);
}
