/* The Read page: a story editor (one sentence per line) and a question field whose every
 * edit re-reads on a worker thread; the answer with its probability; the story view of
 * where the model looked (MemN2N: one column per hop beside the sentences; attentive
 * reader: the story's words by weight); words the model does not know are marked. */
#ifndef LENS_READ_PAGE_H
#define LENS_READ_PAGE_H

#include <gtk/gtk.h>

#include "lens_page.h"

#include "lens_trace_view.h"

G_BEGIN_DECLS

#define LENS_TYPE_READ_PAGE (lens_read_page_get_type())
G_DECLARE_FINAL_TYPE(LensReadPage, lens_read_page, LENS, READ_PAGE, LensPage)

GtkWidget *lens_read_page_new(void);

/* The models are the base's (lens_page_add_model, lens_page_select_model): the shipped MemN2N
 * by default. */

void lens_read_page_set_story(LensReadPage *self, const char *story);
char *lens_read_page_get_story(LensReadPage *self); /* caller frees */
void lens_read_page_set_question(LensReadPage *self, const char *question);
/* Fills the story and question with example k (0 .. n-1) of the page's examples. */
int lens_read_page_get_n_examples(LensReadPage *self);
void lens_read_page_show_example(LensReadPage *self, int k);

/* The view that draws the story, and the trace as the model produced it. */
LensTraceView *lens_read_page_get_view(LensReadPage *self);
const attn_trace *lens_read_page_get_trace(LensReadPage *self);
/* The answer line as shown ("kitchen — probability 0.93"), or "" when there is none. */
const char *lens_read_page_get_answer_text(LensReadPage *self);
/* Words of the story and question the model does not know, as marked in the editor
 * (lowercase, each once, comma-separated), or "". */
const char *lens_read_page_get_unknown_words(LensReadPage *self);


G_END_DECLS

#endif
