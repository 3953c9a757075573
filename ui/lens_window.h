/* The main window: a page per task (Translate, Read, Caption; each a LensPage), the
 * translation model chooser with each model's card, export and the clipboard. */
#ifndef LENS_WINDOW_H
#define LENS_WINDOW_H

#include <gtk/gtk.h>

#include "lens_translate_page.h"

G_BEGIN_DECLS

#define LENS_TYPE_WINDOW (lens_window_get_type())
G_DECLARE_FINAL_TYPE(LensWindow, lens_window, LENS, WINDOW, GtkApplicationWindow)

/* shipped_models: the folder of shipped model directories (may be NULL). */
LensWindow *lens_window_new(GtkApplication *app, const char *shipped_models);

LensTranslatePage *lens_window_get_translate_page(LensWindow *self);

/* Chooses a translation model by folder name or path (each page has its own chooser). */
gboolean lens_window_select_model(LensWindow *self, const char *name);
/* What the visible page shows, snapshotted for export; NULL (and error) when there is nothing. */
LensExportJob *lens_window_export_job(LensWindow *self, GError **error);
/* Exports the visible page to path on a worker thread; the header says when it is saved,
 * a dialog says why not. */
void lens_window_export(LensWindow *self, const char *path, double scale);
/* Exports started and not yet finished. */
int lens_window_exports_running(LensWindow *self);
/* Opens (or raises) the "Quality by Sentence Length" window (action win.quality-by-length): BLEU
 * by source length of translation models, computed on a worker thread; returns it. */
GtkWidget *lens_window_show_quality(LensWindow *self);
/* Adds a model directory (as "Open model folder…" does); FALSE with error if unusable. */
gboolean lens_window_add_model(LensWindow *self, const char *path, GError **error);

G_END_DECLS

#endif
