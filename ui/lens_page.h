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
  /* The user (or the window) chose e: load it. */
  void (*model_selected)(LensPage *self, const LensModelEntry *e);
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
const LensModelEntry *lens_page_get_model_entry(LensPage *self, guint i);
/* Chooses the model whose folder name or path is name (model_selected runs, also when it was
 * chosen already); FALSE if the page has none such. */
gboolean lens_page_select_model(LensPage *self, const char *name);
/* The chosen model, or NULL. */
const LensModelEntry *lens_page_get_selected_model(LensPage *self);
/* Chooses the first installed of default_models, else the first offered; FALSE (and the card
 * says so) when there is none. */
gboolean lens_page_select_default(LensPage *self);

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
