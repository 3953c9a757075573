/* Compare mode of a page: a second model fed the same input, with its own model slot, live loop
 * and view beside the page's, and the hover of a source token kept in step between the two
 * views. The page owns it (embedded) and tells it when the input or the display changed. */
#ifndef LENS_COMPARE_H
#define LENS_COMPARE_H

#include <gtk/gtk.h>

#include "lens_page.h"

G_BEGIN_DECLS

typedef struct LensCompare {
  LensPage *page;
  LensModelSlot slot;   /* the second model */
  LensRunner runner;
  LensTraceView *view;  /* beside the page's view; in `scroll`, hidden while off */
  GtkWidget *scroll;
  attn_trace *trace;    /* as the second model produced it */
  gboolean on;
  /* from the page: its input now (NULL when there is nothing to run), and what a view shows of
   * a trace (the chosen hypothesis, words merged...; a new trace the view takes) */
  gpointer (*make_input)(LensPage *page);
  attn_trace *(*display)(LensPage *page, const attn_trace *t);
  void (*changed)(LensPage *page); /* a new result is shown */
} LensCompare;

/* Sets up c for page: the models load with load/free_model, run with work on workers; `main` is
 * the page's own view, whose hover is mirrored. */
void lens_compare_init(LensCompare *c, LensPage *page, LensTraceView *main, LensModelLoader load,
                       GDestroyNotify free_model, LensRunnerWork work, GDestroyNotify input_free);
/* Turns compare mode on with the model at path (loaded on a worker, then run), or off (NULL). */
void lens_compare_set_model(LensCompare *c, const char *path);
/* The input changed: run again after delay_ms (when on). */
void lens_compare_schedule(LensCompare *c, guint delay_ms);
/* The display changed: show the trace again with the page's options o (its map where the second
 * model has it, else its first map; no title: the trace names its model). */
void lens_compare_refresh(LensCompare *c, const LensRenderOptions *o);
/* A load or a job of the second model is under way. */
gboolean lens_compare_busy(const LensCompare *c);
/* o with the second view's trace and options beside it, for one picture of both (o->compare). */
void lens_compare_export_options(LensCompare *c, LensRenderOptions *o);
/* dispose: its result is dropped; finalize: lets go of the model and the trace. */
void lens_compare_dispose(LensCompare *c);
void lens_compare_clear(LensCompare *c);

G_END_DECLS

#endif
