/* "Quality by Sentence Length": a window that scores translation models with BLEU on a parallel
 * test set (Multi30k test_2016_flickr by default), overall and by source sentence length, on a
 * worker thread with progress and Cancel, draws the line chart (ui/render/lens_chart) and exports
 * it as PNG, SVG or PDF. The computation is `attnlens bench quality --by-length`'s (app/quality.c). */
#ifndef LENS_QUALITY_DIALOG_H
#define LENS_QUALITY_DIALOG_H

#include <gtk/gtk.h>

#include "lens_chart.h"
#include "lens_page.h"

G_BEGIN_DECLS

#define LENS_TYPE_QUALITY_DIALOG (lens_quality_dialog_get_type())
G_DECLARE_FINAL_TYPE(LensQualityDialog, lens_quality_dialog, LENS, QUALITY_DIALOG, GtkWindow)

/* Offers the translation models of page (the Translate page), checking rnn-attn-en-de and every
 * model without attention, else the page's current model; the test set is Multi30k's when it is
 * there, else the window says so and asks for the files. */
LensQualityDialog *lens_quality_dialog_new(GtkWindow *parent, LensPage *page);

/* The source and reference files (line-aligned; .gz read as gzip). */
void lens_quality_dialog_set_files(LensQualityDialog *self, const char *source, const char *reference);
/* Checks exactly the models with these folder names (NULL-terminated); FALSE if one is not offered. */
gboolean lens_quality_dialog_set_models(LensQualityDialog *self, const char *const *names);
/* Scores only the first n sentences (0: all). */
void lens_quality_dialog_set_limit(LensQualityDialog *self, int n);

/* Starts scoring on a worker thread (what Compute does); Cancel stops it. */
void lens_quality_dialog_start(LensQualityDialog *self);
void lens_quality_dialog_cancel(LensQualityDialog *self);
gboolean lens_quality_dialog_is_running(LensQualityDialog *self);
/* Done sentences over all to do, 0..1. */
double lens_quality_dialog_get_progress(LensQualityDialog *self);

/* The last chart computed, or NULL. */
const LensChart *lens_quality_dialog_get_chart(LensQualityDialog *self);
/* The line under the chart (what happened last), and the note about the test set (or ""). */
const char *lens_quality_dialog_get_status(LensQualityDialog *self);
const char *lens_quality_dialog_get_note(LensQualityDialog *self);
GtkWidget *lens_quality_dialog_get_chart_area(LensQualityDialog *self);
/* Writes the chart (PNG, SVG or PDF by extension; PNG at scale), whole or not at all. */
gboolean lens_quality_dialog_export(LensQualityDialog *self, const char *path, double scale, GError **error);

G_END_DECLS

#endif
