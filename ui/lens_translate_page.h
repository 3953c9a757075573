/* The Translate page: a text field whose every edit re-translates on a worker thread,
 * the translation with each piece's probability, and its attention (matrix or flow,
 * any layer and head, all heads at once, pieces or words, any beam hypothesis). */
#ifndef LENS_TRANSLATE_PAGE_H
#define LENS_TRANSLATE_PAGE_H

#include <gtk/gtk.h>

#include "lens_page.h"

#include "lens_models.h"
#include "lens_trace_view.h"

G_BEGIN_DECLS

#define LENS_TYPE_TRANSLATE_PAGE (lens_translate_page_get_type())
G_DECLARE_FINAL_TYPE(LensTranslatePage, lens_translate_page, LENS, TRANSLATE_PAGE, LensPage)

GtkWidget *lens_translate_page_new(void);

/* The models are the base's (lens_page_add_model, lens_page_select_model): choosing one loads it
 * on a worker thread, then re-translates; its example replaces the text only while the text is
 * still an example. */

void lens_translate_page_set_text(LensTranslatePage *self, const char *text);
char *lens_translate_page_get_text(LensTranslatePage *self); /* caller frees */

/* The view that shows the attention, and the trace as the model produced it. */
LensTraceView *lens_translate_page_get_view(LensTranslatePage *self);
const attn_trace *lens_translate_page_get_trace(LensTranslatePage *self);

/* Milliseconds the last translation took, from keystroke to trace. */
double lens_translate_page_get_last_ms(LensTranslatePage *self);

/* FALSE for a model without attention (attn_translator_has_attention): the view shows the one vector
 * its decoder read instead of an alignment, and the map, head, value and self-attention controls are
 * off with a tooltip saying why. */
gboolean lens_translate_page_has_attention(LensTranslatePage *self);

/* The beam the next translation uses: the model's config num_beams until set here or by the user. */
void lens_translate_page_set_beam(LensTranslatePage *self, int beam);
int lens_translate_page_get_beam(LensTranslatePage *self);
void lens_translate_page_set_merge_words(LensTranslatePage *self, gboolean merge);
void lens_translate_page_set_view(LensTranslatePage *self, LensView view);
void lens_translate_page_set_colormap(LensTranslatePage *self, LensColormap map);
void lens_translate_page_select_map(LensTranslatePage *self, int index);
void lens_translate_page_select_hypothesis(LensTranslatePage *self, int index);
void lens_translate_page_show_all_heads(LensTranslatePage *self, gboolean all);

/* Compare mode: the model named name (folder name or path) runs on the same text beside the
 * page's, live; hovering a source token in either view highlights it in both; export writes one
 * picture with both. NULL turns it off. FALSE if there is no such model. */
gboolean lens_translate_page_set_compare(LensTranslatePage *self, const char *name);
LensTraceView *lens_translate_page_get_compare_view(LensTranslatePage *self);
const attn_trace *lens_translate_page_get_compare_trace(LensTranslatePage *self);

/* Step-through decoding: at step t (0-based; -1 turns it off) the matrix shows the outputs up to
 * t with row t highlighted, and the page lists the 5 tokens the model weighed for it. The slider
 * (Left, Right) moves it; get_step is -1 while off or with nothing to step through. */
void lens_translate_page_set_step(LensTranslatePage *self, int step);
int lens_translate_page_get_step(LensTranslatePage *self);
const char *lens_translate_page_get_step_text(LensTranslatePage *self);
GtkWidget *lens_translate_page_get_step_scale(LensTranslatePage *self);

G_END_DECLS

#endif
