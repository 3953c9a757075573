/* The Graph page: a graph attention model's view of one node: its neighbours with edge
 * width and opacity from the attention it paid them (one head or the mean), every node
 * coloured by its predicted class. Pick a node by clicking it or by id; on a small graph
 * (the karate club) *Edit edges* makes a click add or remove the edge between the node
 * shown and the node clicked, and predictions and attention follow on a worker thread. */
#ifndef LENS_GRAPH_PAGE_H
#define LENS_GRAPH_PAGE_H

#include <gtk/gtk.h>

#include "lens_page.h"
#include "lens_trace_view.h"

G_BEGIN_DECLS

#define LENS_TYPE_GRAPH_PAGE (lens_graph_page_get_type())
G_DECLARE_FINAL_TYPE(LensGraphPage, lens_graph_page, LENS, GRAPH_PAGE, LensPage)

GtkWidget *lens_graph_page_new(void);

/* The node shown (its id in the model's graph); setting it re-runs on a worker. */
void lens_graph_page_set_node(LensGraphPage *self, int node);
int lens_graph_page_get_node(LensGraphPage *self);
/* The map shown: 0 = mean of layer 1's heads, 1..H = layer 1 head k, then layer 2. */
void lens_graph_page_set_map(LensGraphPage *self, int map_index);
/* Edge editing (only on graphs of at most ATTN_GRAPH_WHOLE_MAX nodes; FALSE otherwise). */
gboolean lens_graph_page_set_editing(LensGraphPage *self, gboolean editing);
gboolean lens_graph_page_get_editing(LensGraphPage *self);
/* Adds (present) or removes the edge a-b in the page's copy of the graph and re-runs; FALSE
 * (with the reason shown) when the ids are wrong or the graph is not editable. */
gboolean lens_graph_page_set_edge(LensGraphPage *self, int a, int b, gboolean present);
/* Whether the page's graph has the edge a-b now. */
gboolean lens_graph_page_has_edge(LensGraphPage *self, int a, int b);
/* Back to the model's own edges. */
void lens_graph_page_reset_edges(LensGraphPage *self);

LensTraceView *lens_graph_page_get_view(LensGraphPage *self);
/* The trace of the last result (as the engine produced it), or NULL. */
const attn_trace *lens_graph_page_get_trace(LensGraphPage *self);
/* The line under the toolbar ("member 9 → Officer, probability 0.73; labelled Mr. Hi"). */
const char *lens_graph_page_get_summary(LensGraphPage *self);

G_END_DECLS

#endif
