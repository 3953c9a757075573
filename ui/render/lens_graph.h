/* The graph view of a graph-attention trace (lens_graph.c), called by lens_render's
 * dispatch: the query node in the middle, its neighbours on a ring around it, edge width
 * and opacity from the chosen map (one head, or the mean), nodes coloured by predicted
 * class with a legend of the class names. The same drawing serves the window and exports. */
#ifndef LENS_GRAPH_H
#define LENS_GRAPH_H

#include "lens_private.h"

/* Both return ATTN_E_ARG when the trace has no graph section matching map m (1 row, one
 * column per neighbour). The natural size is whole units. */
attn_status lens_graph_size(const attn_trace *t, const attn_map *m, const LensRenderOptions *o, double *width,
                            double *height);
/* In the layout: col_labels[i] is the box of node i of t->graph (n_col_labels of them), so
 * lens_layout_hit_label tells which node is under the pointer. o->highlight_col marks a node. */
attn_status lens_graph_draw(cairo_t *cr, const attn_trace *t, const attn_map *m, const LensRenderOptions *o,
                            double width, double height, LensLayout *layout);
/* The fill colour of class c (a fixed palette of 10, repeating). */
void lens_graph_class_rgb(int c, double rgb[3]);

#endif
