/* LensPage: what every task page (Translate, Read, Caption) is, as sysprof's SysprofSection is
 * for its panes. The base owns the message bar, the widget that takes the keyboard when the page
 * is shown, and export; a page subclass says what it shows (export_job). */
#ifndef LENS_PAGE_H
#define LENS_PAGE_H

#include <gtk/gtk.h>

#include "lens_models.h"
#include "lens_page_util.h"
#include "lens_trace_view.h"

G_BEGIN_DECLS

#define LENS_TYPE_PAGE (lens_page_get_type())
G_DECLARE_DERIVABLE_TYPE(LensPage, lens_page, LENS, PAGE, GtkBox)

struct _LensPageClass {
  GtkBoxClass parent_class;
  const char *task;                   /* the models it offers: config attnlens.task */
  const char *const *default_models;  /* NULL-terminated folder names tried first */
  const char *no_model_message;       /* shown when the page has no model at all */
  /* The user (or the window) chose e; the base loads it already (optional). */
  void (*model_selected)(LensPage *self, const LensModelEntry *e);
  /* The live loop. load/free_model: a model folder on a worker thread. start: the edit timer
   * fired: submit a job (lens_page_submit) or show why not. work: on a worker, the trace for
   * input (input_free frees it). show_result: on the main thread, the newest job's trace (now
   * the page's; NULL with error). model_ready: after a load the page chose finishes (the base
   * has shown a load error already). */
  LensModelLoader load_model;
  GDestroyNotify free_model;
  void (*start)(LensPage *self);
  LensRunnerWork work;
  GDestroyNotify input_free;
  void (*show_result)(LensPage *self, attn_trace *t, const GError *error, gpointer input, double model_ms);
  void (*model_ready)(LensPage *self, gboolean loaded, const GError *error);
  /* Other work of the page's own under way (optional; lens_page_is_busy adds it). */
  gboolean (*busy)(LensPage *self);
  /* What the page shows, snapshotted for export; NULL with error when there is nothing yet. */
  LensExportJob *(*export_job)(LensPage *self, GError **error);
  gpointer padding[8];
};

/* The message bar: the subclass places it (lens_page_get_info_bar) where it belongs. */
GtkWidget *lens_page_get_info_bar(LensPage *self);
/* Shows text in the bar (an error, a warning, a note), or hides the bar for NULL. */
void lens_page_set_message(LensPage *self, const char *text, GtkMessageType type);
/* The message shown, or NULL. */
const char *lens_page_get_message(LensPage *self);
/* The page's trace warnings (one per line) as a warning, or no message when there are none. */
void lens_page_show_warnings(LensPage *self, const attn_trace *t);

/* The model chooser and card button, in one row the subclass places (lens_page_get_model_row).
 * The chooser groups models by language pair and shows each one's domain; the card shows the
 * training data and measured scores before MODEL.md. */
GtkWidget *lens_page_get_model_row(LensPage *self);
const char *lens_page_get_task(LensPage *self);
/* Offers a copy of e (once per folder); returns its index. */
int lens_page_add_model(LensPage *self, const LensModelEntry *e);
guint lens_page_get_n_models(LensPage *self);
/* The chooser's labels, one per model (a GtkStringList the page owns). */
GListModel *lens_page_get_model_names(LensPage *self);
const LensModelEntry *lens_page_get_model_entry(LensPage *self, guint i);
/* Chooses the model whose folder name or path is name (model_selected runs, also when it was
 * chosen already); FALSE if the page has none such. */
gboolean lens_page_select_model(LensPage *self, const char *name);
/* The chosen model, or NULL. */
const LensModelEntry *lens_page_get_selected_model(LensPage *self);
/* Chooses the first installed of default_models, else the first offered; FALSE (and the card
 * says so) when there is none. */
gboolean lens_page_select_default(LensPage *self);

/* The loaded model (the raw translator, reader or captioner), or NULL while it loads or after
 * it failed; and the folder chosen last. */
gpointer lens_page_get_model(LensPage *self);
const char *lens_page_get_model_path(LensPage *self);
/* An edit: start runs after delay_ms without another. */
void lens_page_schedule(LensPage *self, guint delay_ms);
/* What runs is stale now (its result will be dropped). */
void lens_page_supersede(LensPage *self);
/* Supersedes, then runs work(model, input) on a worker; takes input. Needs a loaded model. */
void lens_page_submit(LensPage *self, gpointer input);
/* A model load, a job or an edit waiting for its timer, or other work the page holds. */
gboolean lens_page_is_busy(LensPage *self);
/* Other work that shows the spinner (an image being read): +1 when it starts, -1 when done. */
void lens_page_hold_busy(LensPage *self, int delta);
/* The spinner (appears when work lasts); the subclass places it. */
GtkWidget *lens_page_get_spinner(LensPage *self);
/* The readout beside a result (see lens_runner_show_timing). */
void lens_page_show_timing(LensPage *self, GtkWidget *status, const char *what, double model_ms);

/* The widget that takes the keyboard when the page is shown (its text field, its image). */
void lens_page_set_focus_widget(LensPage *self, GtkWidget *widget);
GtkWidget *lens_page_get_focus_widget(LensPage *self);
/* Moves the keyboard focus there. */
void lens_page_focus(LensPage *self);

/* The views the page's zoom acts on (Ctrl+plus, Ctrl+minus, Ctrl+0, or the actions
 * page.zoom-in, page.zoom-out, page.zoom-fit); each becomes legible (see LensTraceView). */
void lens_page_add_zoom_view(LensPage *self, LensTraceView *view);

/* Export of what the page shows (export_job), now on this thread. */
LensExportJob *lens_page_export_job(LensPage *self, GError **error);
gboolean lens_page_export(LensPage *self, const char *path, double scale, GError **error);
/* The picture as a texture at scale (for the clipboard); NULL when nothing is shown. */
GdkTexture *lens_page_texture(LensPage *self, double scale);

G_END_DECLS

#endif
