/* The Translate page: a text field whose every edit re-translates on a worker thread,
 * the translation with each piece's probability, and its attention (matrix or flow,
 * any layer and head, all heads at once, pieces or words, any beam hypothesis). */
#ifndef LENS_TRANSLATE_PAGE_H
#define LENS_TRANSLATE_PAGE_H

#include <gtk/gtk.h>

#include "lens_page_util.h"

#include "lens_models.h"
#include "lens_trace_view.h"

G_BEGIN_DECLS

#define LENS_TYPE_TRANSLATE_PAGE (lens_translate_page_get_type())
G_DECLARE_FINAL_TYPE(LensTranslatePage, lens_translate_page, LENS, TRANSLATE_PAGE, GtkBox)

GtkWidget *lens_translate_page_new(void);

/* Loads the model on a worker thread, then re-translates the current text. */
void lens_translate_page_set_model(LensTranslatePage *self, const char *path);
const char *lens_translate_page_get_model_path(LensTranslatePage *self);

void lens_translate_page_set_text(LensTranslatePage *self, const char *text);
char *lens_translate_page_get_text(LensTranslatePage *self); /* caller frees */

/* The view that shows the attention, and the trace as the model produced it. */
LensTraceView *lens_translate_page_get_view(LensTranslatePage *self);
const attn_trace *lens_translate_page_get_trace(LensTranslatePage *self);

/* TRUE while a model load or a translation is pending (tests wait on this). */
gboolean lens_translate_page_is_busy(LensTranslatePage *self);
/* The message shown to the user (error or warning), or NULL. */
const char *lens_translate_page_get_message(LensTranslatePage *self);
/* Milliseconds the last translation took, from keystroke to trace. */
double lens_translate_page_get_last_ms(LensTranslatePage *self);

void lens_translate_page_set_beam(LensTranslatePage *self, int beam);
void lens_translate_page_set_merge_words(LensTranslatePage *self, gboolean merge);
void lens_translate_page_set_view(LensTranslatePage *self, LensView view);
void lens_translate_page_set_colormap(LensTranslatePage *self, LensColormap map);
void lens_translate_page_select_map(LensTranslatePage *self, int index);
void lens_translate_page_select_hypothesis(LensTranslatePage *self, int index);
void lens_translate_page_show_all_heads(LensTranslatePage *self, gboolean all);

/* Writes exactly what the view shows to path (.png/.svg/.pdf) with ui/render. */
/* What the page shows, snapshotted for lens_export_job_run(_async); NULL (and error) when there
 * is nothing to export yet. */
LensExportJob *lens_translate_page_export_job(LensTranslatePage *self, GError **error);
gboolean lens_translate_page_export(LensTranslatePage *self, const char *path, double scale, GError **error);

/* The picture as a texture (for the clipboard); NULL when nothing is shown. */
GdkTexture *lens_translate_page_texture(LensTranslatePage *self, double scale);

G_END_DECLS

#endif
