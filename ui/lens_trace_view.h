/* LensTraceView: a widget that draws an attention trace with ui/render (the same code
 * that writes PNG/SVG/PDF), explains the cell under the pointer, and highlights the
 * row or column the user clicks. */
#ifndef LENS_TRACE_VIEW_H
#define LENS_TRACE_VIEW_H

#include <gtk/gtk.h>

#include "attn_trace.h"
#include "lens_render.h"

G_BEGIN_DECLS

#define LENS_TYPE_TRACE_VIEW (lens_trace_view_get_type())
G_DECLARE_FINAL_TYPE(LensTraceView, lens_trace_view, LENS, TRACE_VIEW, GtkWidget)

GtkWidget *lens_trace_view_new(void);

/* Takes ownership of trace (NULL clears the view). Highlights that no longer fit are
 * dropped; the map index is kept when it still exists. */
void lens_trace_view_set_trace(LensTraceView *self, attn_trace *trace);
const attn_trace *lens_trace_view_get_trace(LensTraceView *self);

/* The options the view draws with; change them with set_options (copied). */
const LensRenderOptions *lens_trace_view_get_options(LensTraceView *self);
void lens_trace_view_set_options(LensTraceView *self, const LensRenderOptions *options);

/* Where the last drawing put things (valid after the first draw). */
const LensLayout *lens_trace_view_get_layout(LensTraceView *self);

/* Text shown when hovering cell (row, col) of the current map: output piece, source
 * piece and weight. NULL when out of range. Caller frees. */
char *lens_trace_view_describe_cell(LensTraceView *self, int row, int col);

/* Text for the tooltip at (x, y) of the last drawing: a matrix cell (as describe_cell), a caption
 * overlay's grid cell with the shown word's weight (or the mean over all words), or for a model
 * without attention a token or a value of its one vector. NULL when nothing is there. */
char *lens_trace_view_describe_point(LensTraceView *self, double x, double y);

/* Selects a query row or key column to highlight (-1 for none). Emits "selection-changed", as a
 * click on a cell or label does (a click on nothing clears it, except on a caption's image). */
void lens_trace_view_select(LensTraceView *self, int row, int col);

/* Zoom: 0 fits the box (cells grow to use the room, up to a comfortable size); > 0 draws
 * text and cells that many times their natural size, clamped to LENS_ZOOM_MIN..MAX (and to
 * LENS_LEGIBLE_ZOOM for a legible view). The view's options carry it, so exports use it. The
 * "zoom" property notifies changes; Ctrl+scroll on the view steps it. */
#define LENS_ZOOM_MIN 0.25
#define LENS_ZOOM_MAX 4.0
#define LENS_ZOOM_STEP 1.25
void lens_trace_view_set_zoom(LensTraceView *self, double zoom);
double lens_trace_view_get_zoom(LensTraceView *self);
/* One step larger (+1) or smaller (-1) from the scale shown now; 0 fits the box again. */
void lens_trace_view_zoom_step(LensTraceView *self, int direction);
/* The scale the picture is drawn at now (the zoom, or what fitting the box gives). */
double lens_trace_view_get_scale(LensTraceView *self);
/* A legible view never draws labels under ~9 pt: it asks for the room (a scrolled window
 * around it scrolls) and does not zoom out further. Off by default (thumbnails). */
void lens_trace_view_set_legible(LensTraceView *self, gboolean legible);

/* The pointer at (x, y) (what motion events call): emits "hover" (int row, int col) when the
 * cell or label under it changes; a label gives -1 for the other axis, nothing under it -1, -1. */
void lens_trace_view_hover(LensTraceView *self, double x, double y);

/* Text shown when nothing is there to draw; under the options' image when they have one (a
 * caption still to come), and layout.grid is then where the image was drawn. */
void lens_trace_view_set_placeholder(LensTraceView *self, const char *text);

/* Called after each drawing, on top of it, with its layout (a selection outline that is not
 * part of exports); NULL for none. data is not owned. */
typedef void (*LensTraceViewDrawFunc)(LensTraceView *self, cairo_t *cr, const LensLayout *layout, gpointer data);
void lens_trace_view_set_draw_over(LensTraceView *self, LensTraceViewDrawFunc func, gpointer data);

G_END_DECLS

#endif
