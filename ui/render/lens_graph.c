/* The graph view: one node's neighbourhood with the attention it paid to each neighbour as
 * edge width and opacity (Velickovic et al. 2018, Figure 1, right), nodes coloured by their
 * predicted class, the class names as a legend. Small graphs show every node: the
 * neighbours on an inner ring, the rest on an outer one. */
#include "lens_graph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double PAD = 20, TITLE_GAP = 6, LEGEND_GAP = 18, SWATCH = 12, ITEM_GAP = 18, LABEL_GAP = 6;
#define LABELS_MAX 40  /* neighbours beyond this many are drawn without names */
#define WEIGHTS_MAX 20 /* ... and without their weights */

typedef struct Pt {
  double x, y, r;
} Pt;

typedef struct Graph {
  const attn_trace *t;
  const attn_trace_graph *g;
  const attn_map *m;
  const LensRenderOptions *o;
  LensTheme th;
  LensText *tx;
  LensLabel title, sub, *names, *classes, note;
  Pt *pt;
  int k;                /* neighbours (map columns after the node itself) */
  double ring1, ring2;  /* radii */
  double cx, cy, legend_y, legend_h, W, H;
} Graph;

void lens_graph_class_rgb(int c, double rgb[3]) {
  static const unsigned hex[10] = {0x4e79a7, 0xf28e2b, 0x59a14f, 0xe15759, 0xb07aa1,
                                   0x76b7b2, 0xedc948, 0xff9da7, 0x9c755f, 0xbab0ac};
  unsigned h = hex[(c < 0 ? 0 : c) % 10];
  rgb[0] = ((h >> 16) & 0xff) / 255.0, rgb[1] = ((h >> 8) & 0xff) / 255.0, rgb[2] = (h & 0xff) / 255.0;
}

static int usable(const attn_trace *t, const attn_map *m) {
  return t->graph && m && m->rows == 1 && m->cols == t->graph->n_cols && t->graph->n_cols >= 1;
}

/* ---- layout ---- */

static double node_radius(const Graph *G, int i) {
  if (i == 0) return 16;
  return G->k > 60 ? 5 : G->k > 24 ? 8 : 11;
}

static void place_nodes(Graph *G) {
  int others = G->g->n_nodes - G->g->n_cols;
  for (int i = 0; i < G->g->n_nodes; i++) {
    Pt *p = &G->pt[i];
    p->r = node_radius(G, i);
    if (i == 0) {
      p->x = G->cx, p->y = G->cy;
      continue;
    }
    int inner = i < G->g->n_cols, j = inner ? i - 1 : i - G->g->n_cols, n = inner ? G->k : others;
    double a = -M_PI / 2 + 2 * M_PI * (j + (inner ? 0.0 : 0.5)) / n, R = inner ? G->ring1 : G->ring2;
    p->x = G->cx + R * cos(a), p->y = G->cy + R * sin(a);
  }
}

static int set_labels(Graph *G) {
  char buf[512];
  const attn_trace_graph *g = G->g;
  const char *cls = g->classes[g->predicted[0]];
  snprintf(buf, sizeof buf, "%s → %s (%.0f%%)", g->names[0], cls, 100.0 * g->confidence[0]);
  int rc = lens_label_set(&G->title, G->tx, buf, LENS_FONT_TITLE);
  snprintf(buf, sizeof buf, "%s %s: attention over %d neighbour%s and itself", G->t->model, G->m->name, G->k,
           G->k == 1 ? "" : "s");
  rc = rc || lens_label_set(&G->sub, G->tx, buf, LENS_FONT_SMALL);
  rc = rc || lens_label_set(&G->note, G->tx, "edge width and opacity: attention weight", LENS_FONT_SMALL);
  for (int i = 0; rc == 0 && i < g->n_nodes; i++)
    rc = lens_label_set(&G->names[i], G->tx, g->names[i], i == 0 ? LENS_FONT_BODY : LENS_FONT_SMALL);
  for (int c = 0; rc == 0 && c < g->n_classes; c++) rc = lens_label_set(&G->classes[c], G->tx, g->classes[c], LENS_FONT_SMALL);
  return rc;
}

/* Legend rows: swatch + name items wrapped to the width; returns the height. */
static double legend_height(const Graph *G, double width) {
  double x = 0, h = G->note.h + 6, line = 0;
  for (int c = 0; c < G->g->n_classes; c++) {
    double w = SWATCH + 4 + G->classes[c].w;
    if (x > 0 && x + w > width) x = 0, h += line + 4, line = 0;
    x += w + ITEM_GAP;
    line = fmax(line, fmax(SWATCH, G->classes[c].h));
  }
  return h + line;
}

static void graph_clear(Graph *G) {
  lens_label_clear(&G->title), lens_label_clear(&G->sub), lens_label_clear(&G->note);
  for (int i = 0; G->names && G->g && i < G->g->n_nodes; i++) lens_label_clear(&G->names[i]);
  for (int c = 0; G->classes && G->g && c < G->g->n_classes; c++) lens_label_clear(&G->classes[c]);
  free(G->names), free(G->classes), free(G->pt);
  lens_text_free(G->tx);
}

static attn_status graph_init(Graph *G, const attn_trace *t, const attn_map *m, const LensRenderOptions *o) {
  memset(G, 0, sizeof *G);
  if (!usable(t, m)) return ATTN_E_ARG;
  G->t = t, G->g = t->graph, G->m = m, G->o = o, G->k = t->graph->n_cols - 1;
  lens_theme_get(o->dark, &G->th);
  G->tx = lens_text_new(lens_font_pt(o));
  G->names = calloc((size_t)G->g->n_nodes, sizeof *G->names);
  G->classes = calloc((size_t)G->g->n_classes, sizeof *G->classes);
  G->pt = calloc((size_t)G->g->n_nodes, sizeof *G->pt);
  if (!G->tx || !G->names || !G->classes || !G->pt || set_labels(G) != 0) return ATTN_E_NOMEM;
  double label_room = G->k <= LABELS_MAX ? 70 : 24;
  G->ring1 = fmin(fmax(G->k * 34 / (2 * M_PI), 150), 330);
  G->ring2 = G->g->n_nodes > G->g->n_cols ? G->ring1 + 80 : G->ring1;
  double side = 2 * (G->ring2 + label_room);
  G->W = ceil(fmax(side, fmax(G->title.w, G->sub.w)) + 2 * PAD);
  G->legend_h = legend_height(G, G->W - 2 * PAD);
  double top = PAD + G->title.h + TITLE_GAP + G->sub.h;
  G->cx = G->W / 2, G->cy = top + side / 2;
  G->legend_y = top + side + LEGEND_GAP;
  G->H = ceil(G->legend_y + G->legend_h + PAD);
  place_nodes(G);
  return ATTN_OK;
}

attn_status lens_graph_size(const attn_trace *t, const attn_map *m, const LensRenderOptions *o, double *width,
                            double *height) {
  Graph G;
  attn_status st = graph_init(&G, t, m, o);
  if (st == ATTN_OK) *width = G.W, *height = G.H;
  graph_clear(&G);
  return st;
}

/* ---- drawing ---- */

static void line(cairo_t *cr, const Pt *a, const Pt *b) {
  cairo_move_to(cr, a->x, a->y);
  cairo_line_to(cr, b->x, b->y);
  cairo_stroke(cr);
}

/* Edges among the nodes shown that are not the query node's: the graph's context. */
static void draw_context(cairo_t *cr, const Graph *G) {
  lens_set_rgb(cr, G->th.rule, 1.0);
  cairo_set_line_width(cr, 1.0);
  for (int e = 0; e < G->g->n_edges; e++) {
    int a = G->g->edges[2 * e], b = G->g->edges[2 * e + 1];
    if (a != 0 && b != 0) line(cr, &G->pt[a], &G->pt[b]);
  }
}

static void draw_attention(cairo_t *cr, const Graph *G, double wmax) {
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  for (int c = 1; c <= G->k; c++) {
    double w = G->m->weights[c];
    cairo_set_line_width(cr, 0.75 + 14.0 * w);
    lens_set_rgb(cr, G->th.line, 0.12 + 0.88 * (wmax > 0 ? w / wmax : 0));
    line(cr, &G->pt[0], &G->pt[c]);
  }
  /* the node's weight on itself: a ring around it */
  double w0 = G->m->weights[0];
  lens_set_rgb(cr, G->th.line, 0.12 + 0.88 * (wmax > 0 ? w0 / wmax : 0));
  cairo_set_line_width(cr, 0.75 + 14.0 * w0);
  cairo_new_sub_path(cr);
  cairo_arc(cr, G->pt[0].x, G->pt[0].y, G->pt[0].r + 4 + 7.0 * w0, 0, 2 * M_PI);
  cairo_stroke(cr);
}

static void draw_nodes(cairo_t *cr, const Graph *G) {
  for (int i = G->g->n_nodes - 1; i >= 0; i--) {
    const Pt *p = &G->pt[i];
    double rgb[3];
    lens_graph_class_rgb(G->g->predicted[i], rgb);
    if (i == G->o->highlight_col) {
      lens_set_rgb(cr, G->th.line, 0.35);
      cairo_arc(cr, p->x, p->y, p->r + 6, 0, 2 * M_PI);
      cairo_fill(cr);
    }
    cairo_arc(cr, p->x, p->y, p->r, 0, 2 * M_PI);
    lens_set_rgb(cr, rgb, 1.0);
    cairo_fill_preserve(cr);
    lens_set_rgb(cr, G->th.fg, 1.0);
    cairo_set_line_width(cr, i == 0 ? 2.5 : 1.0);
    cairo_stroke(cr);
  }
}

/* Names outside the rings (the query node's below it), and each neighbour's weight. */
static void draw_names(cairo_t *cr, const Graph *G, LensLayout *layout) {
  for (int i = 0; i < G->g->n_nodes; i++) {
    const Pt *p = &G->pt[i];
    const LensLabel *l = &G->names[i];
    double dx = p->x - G->cx, dy = p->y - G->cy, d = hypot(dx, dy), ux = d > 0 ? dx / d : 0, uy = d > 0 ? dy / d : 1;
    double x = p->x + ux * (p->r + LABEL_GAP) - l->w / 2 + ux * l->w / 2;
    double y = p->y + uy * (p->r + LABEL_GAP) - l->h / 2 + uy * l->h / 2;
    int named = i == 0 || (i < G->g->n_cols ? G->k <= LABELS_MAX : G->g->n_nodes <= 64);
    if (named && i == 0) { /* over the attention edges: on a patch of background */
      lens_set_rgb(cr, G->th.bg, 0.85);
      cairo_rectangle(cr, floor(x) - 2, floor(y), l->w + 4, l->h);
      cairo_fill(cr);
    }
    if (named) lens_label_draw(cr, l, floor(x), floor(y), 0, i == 0 ? G->th.fg : G->th.muted);
    if (layout && i < LENS_LAYOUT_MAX_LABELS) {
      layout->col_labels[i] = (LensRect){p->x - p->r - 2, p->y - p->r - 2, 2 * p->r + 4, 2 * p->r + 4};
      layout->n_col_labels = i + 1;
    }
  }
  for (int c = 1; G->k <= WEIGHTS_MAX && c <= G->k; c++) {
    char buf[16];
    LensLabel l;
    snprintf(buf, sizeof buf, "%.2f", G->m->weights[c]);
    if (lens_label_set(&l, G->tx, buf, LENS_FONT_SMALL) != 0) continue;
    double x = G->cx + (G->pt[c].x - G->cx) * 0.62, y = G->cy + (G->pt[c].y - G->cy) * 0.62;
    lens_set_rgb(cr, G->th.bg, 0.85);
    cairo_rectangle(cr, floor(x - l.w / 2) - 2, floor(y - l.h / 2), l.w + 4, l.h);
    cairo_fill(cr);
    lens_label_draw(cr, &l, floor(x - l.w / 2), floor(y - l.h / 2), 0, G->th.fg);
    lens_label_clear(&l);
  }
  char buf[16];
  LensLabel l;
  snprintf(buf, sizeof buf, "self %.2f", G->m->weights[0]);
  if (lens_label_set(&l, G->tx, buf, LENS_FONT_SMALL) == 0) {
    lens_label_draw(cr, &l, floor(G->cx - l.w / 2), floor(G->cy - G->pt[0].r - 14 - l.h), 0, G->th.fg);
    lens_label_clear(&l);
  }
}

static void draw_legend(cairo_t *cr, const Graph *G) {
  double x0 = PAD, x = x0, y = G->legend_y, line_h = 0, width = G->W - 2 * PAD;
  lens_label_draw(cr, &G->note, x0, y, 0, G->th.muted);
  y += G->note.h + 6;
  for (int c = 0; c < G->g->n_classes; c++) {
    double w = SWATCH + 4 + G->classes[c].w, rgb[3];
    if (x > x0 && x - x0 + w > width) x = x0, y += line_h + 4, line_h = 0;
    lens_graph_class_rgb(c, rgb);
    cairo_arc(cr, x + SWATCH / 2, y + G->classes[c].h / 2, SWATCH / 2, 0, 2 * M_PI);
    lens_set_rgb(cr, rgb, 1.0);
    cairo_fill(cr);
    lens_label_draw(cr, &G->classes[c], x + SWATCH + 4, y, 0, G->th.fg);
    x += w + ITEM_GAP;
    line_h = fmax(line_h, fmax(SWATCH, G->classes[c].h));
  }
}

attn_status lens_graph_draw(cairo_t *cr, const attn_trace *t, const attn_map *m, const LensRenderOptions *o,
                            double width, double height, LensLayout *layout) {
  Graph G;
  attn_status st = graph_init(&G, t, m, o);
  if (st != ATTN_OK) {
    graph_clear(&G);
    return st;
  }
  LensFit fit;
  lens_fit_begin(cr, G.tx, G.W, G.H, width, height, &fit);
  double wmax = 0;
  for (int c = 0; c < m->cols; c++) wmax = fmax(wmax, m->weights[c]);
  lens_label_draw(cr, &G.title, PAD, PAD, 0, G.th.fg);
  lens_label_draw(cr, &G.sub, PAD, PAD + G.title.h + TITLE_GAP, 0, G.th.muted);
  draw_context(cr, &G);
  draw_attention(cr, &G, wmax);
  draw_nodes(cr, &G);
  draw_names(cr, &G, layout);
  draw_legend(cr, &G);
  lens_fit_end(cr, &fit, layout, m);
  graph_clear(&G);
  return ATTN_OK;
}
