/* BLEU of translation models on a parallel test set, overall and by source sentence length
 * (Bahdanau et al. 2015, Figure 2), and its line chart: the computation that `attnlens bench
 * quality` and the window's "Quality by Sentence Length" share. GLib, the engine and ui/render's
 * chart only: no terminal, no GTK. */
#ifndef ATTN_QUALITY_H
#define ATTN_QUALITY_H

#include <gio/gio.h>

#include "bleu.h"
#include "lens_chart.h"

#define QUALITY_MAX_MODELS 4
#define QUALITY_MAX_BUCKETS 12
#define QUALITY_ERROR (quality_error_quark())
GQuark quality_error_quark(void);

/* The lines of a UTF-8 text file (plain, or gzip when the name ends in .gz), at most limit (<= 0:
 * all); empty lines are kept only with keep_empty (parallel files stay aligned). NULL with error
 * naming the file (and the line that is not UTF-8 or holds a NUL byte). */
GPtrArray *quality_read_lines(const char *path, int limit, int keep_empty, GError **error);
/* Both files of a parallel test set, line-aligned and not empty; FALSE with error. */
gboolean quality_read_test_set(const char *src_path, const char *ref_path, int limit, GPtrArray **src,
                               GPtrArray **ref, GError **error);
/* The Multi30k test set beside the source tree (../shared/data/multi30k/test_2016_flickr.LANG.gz,
 * LANG "en" or "de"). Caller frees; the file may be absent. */
char *quality_default_file(const char *lang);

/* What is reported while models are scored; both may be NULL. Called on the scoring thread. */
typedef struct QualityHooks {
  void (*progress)(int model, guint done, guint total, gpointer data); /* after each sentence */
  void (*failed)(const char *model, guint line, const char *message, gpointer data); /* scored as empty */
  gpointer data;
  void (*translated)(int model, guint line, const char *hyp, gpointer data); /* each output, in order */
} QualityHooks;

typedef struct QualityResult {
  int edges[QUALITY_MAX_BUCKETS]; /* bucket b holds lengths (edges[b-1], edges[b]]; the last is open */
  int n_edges;
  int counts[QUALITY_MAX_BUCKETS]; /* sentences per bucket */
  int n_models;
  char *display[QUALITY_MAX_MODELS]; /* "rnn-attn-en-de (beam 4)" */
  BleuStats stats[QUALITY_MAX_MODELS][QUALITY_MAX_BUCKETS], all[QUALITY_MAX_MODELS];
  /* after quality_finish: BLEU per bucket (NaN where empty), tick texts, and the chart over them */
  double y[QUALITY_MAX_MODELS][QUALITY_MAX_BUCKETS];
  char *ticks[QUALITY_MAX_BUCKETS];
  char *title;
  LensChartSeries series[QUALITY_MAX_MODELS];
  LensChart chart;
} QualityResult;

/* Word counts separating the buckets (1 to QUALITY_MAX_BUCKETS - 1, increasing) and the sources,
 * which are counted into them. */
void quality_init(QualityResult *r, const int *edges, int n_edges, const GPtrArray *src);
int quality_n_buckets(const QualityResult *r);
int quality_bucket_of(const QualityResult *r, const char *src);
/* Loads the model in dir, translates every source (beam 0: the model's own num_beams) and adds
 * its statistics as the next model. FALSE with error when the model does not load, there are
 * QUALITY_MAX_MODELS already, or cancel fires (G_IO_ERROR_CANCELLED). */
gboolean quality_score_model(QualityResult *r, const char *dir, int beam, const GPtrArray *src, const GPtrArray *ref,
                             const QualityHooks *hooks, GCancellable *cancel, GError **error);
/* BLEU per bucket, the tick texts ("9–12\n(311)") and the chart titled after input_path. */
void quality_finish(QualityResult *r, const char *input_path);
void quality_clear(QualityResult *r);

#endif
