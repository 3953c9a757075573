/* Compare mode: a second model beside a page's (see lens_compare.h). */
#include "lens_compare.h"

#include <string.h>

static LensCompare *compare_of(gpointer page) { return g_object_get_data(page, "lens-compare"); }

static void busy_changed(gpointer page) {}

static void start(gpointer page) {
  LensCompare *c = compare_of(page);
  lens_runner_supersede(&c->runner);
  if (!c->on || !c->slot.model) return; /* the load finishes and calls us again */
  gpointer input = c->make_input(c->page);
  if (!input) {
    attn_trace_free(c->trace);
    c->trace = NULL;
    lens_trace_view_set_trace(c->view, NULL);
    return;
  }
  lens_runner_submit(&c->runner, c->slot.model, input);
}

static void done(gpointer page, attn_trace *t, const GError *error, gpointer input, double model_ms) {
  LensCompare *c = compare_of(page);
  attn_trace_free(c->trace);
  c->trace = t;
  if (!t) lens_trace_view_set_placeholder(c->view, error->message);
  lens_compare_refresh(c, lens_trace_view_get_options(c->view));
  if (c->changed) c->changed(c->page);
}

static void ready(gpointer page, gboolean loaded, const GError *error) {
  LensCompare *c = compare_of(page);
  if (error) {
    g_autofree char *msg = g_strdup_printf("The second model could not be loaded: %s", error->message);
    lens_trace_view_set_placeholder(c->view, msg);
  } else if (loaded) {
    start(page);
  }
}

/* The key (source) column of `to` that shows the same token as column col of `from`: the same
 * index when both have the same source tokens, else the same occurrence of the same text. */
static int same_source(const attn_trace *from, const attn_trace *to, int col) {
  if (!from || !to || col < 0 || col >= from->source.n) return -1;
  const char *tok = from->source.tokens[col];
  int nth = 0, seen = 0;
  for (int j = 0; j < col; j++) nth += strcmp(from->source.tokens[j], tok) == 0;
  for (int j = 0; j < to->source.n; j++)
    if (strcmp(to->source.tokens[j], tok) == 0 && seen++ == nth) return j;
  return col < to->source.n && from->source.n == to->source.n ? col : -1;
}

/* Hovering a source token or a cell in one view highlights that source token in both. */
static void on_hover(LensTraceView *from, int row, int col, gpointer data) {
  LensCompare *c = data;
  if (!c->on) return;
  LensTraceView *to = from == c->view ? LENS_TRACE_VIEW(g_object_get_data(G_OBJECT(c->view), "lens-main")) : c->view;
  int mapped = same_source(lens_trace_view_get_trace(from), lens_trace_view_get_trace(to), col);
  lens_trace_view_select(from, -1, col);
  lens_trace_view_select(to, -1, col < 0 ? -1 : mapped);
}

void lens_compare_init(LensCompare *c, LensPage *page, LensTraceView *main, LensModelLoader load,
                       GDestroyNotify free_model, LensRunnerWork work, GDestroyNotify input_free) {
  c->page = page;
  g_object_set_data(G_OBJECT(page), "lens-compare", c);
  lens_model_slot_init(&c->slot, page, load, free_model, ready);
  lens_runner_init(&c->runner, page, start, busy_changed, work, input_free, done);
  c->view = LENS_TRACE_VIEW(lens_trace_view_new());
  lens_trace_view_set_placeholder(c->view, "Choose a second model to compare.");
  gtk_widget_set_hexpand(GTK_WIDGET(c->view), TRUE);
  gtk_widget_set_vexpand(GTK_WIDGET(c->view), TRUE);
  g_object_set_data(G_OBJECT(c->view), "lens-main", main);
  c->scroll = gtk_scrolled_window_new();
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(c->scroll), GTK_WIDGET(c->view));
  gtk_widget_set_visible(c->scroll, FALSE);
  g_signal_connect(c->view, "hover", G_CALLBACK(on_hover), c);
  g_signal_connect(main, "hover", G_CALLBACK(on_hover), c);
  lens_page_add_zoom_view(page, c->view);
}

void lens_compare_set_model(LensCompare *c, const char *path) {
  c->on = path != NULL;
  gtk_widget_set_visible(c->scroll, c->on);
  if (!c->on) {
    lens_runner_supersede(&c->runner);
    return;
  }
  if (!lens_model_slot_choose(&c->slot, path)) lens_runner_schedule(&c->runner, 0); /* loaded already */
}

void lens_compare_schedule(LensCompare *c, guint delay_ms) {
  if (c->on) lens_runner_schedule(&c->runner, delay_ms);
}

void lens_compare_refresh(LensCompare *c, const LensRenderOptions *o) {
  attn_trace *shown = c->trace ? c->display(c->page, c->trace) : NULL;
  LensRenderOptions mine = *o;
  mine.title = NULL;
  if (!shown || mine.map_index >= shown->n_maps) mine.map_index = 0; /* a model without that map */
  lens_trace_view_set_options(c->view, &mine);
  lens_trace_view_set_trace(c->view, shown);
}

gboolean lens_compare_busy(const LensCompare *c) {
  return c->on && (c->slot.loading > 0 || lens_runner_busy(&c->runner));
}

void lens_compare_export_options(LensCompare *c, LensRenderOptions *o) {
  const attn_trace *t = lens_trace_view_get_trace(c->view);
  if (!c->on || !lens_render_has_picture(t)) return;
  o->compare = t;
  o->compare_options = lens_trace_view_get_options(c->view);
}

void lens_compare_dispose(LensCompare *c) { lens_runner_dispose(&c->runner); }

void lens_compare_clear(LensCompare *c) {
  lens_model_slot_clear(&c->slot);
  attn_trace_free(c->trace);
  c->trace = NULL;
}
