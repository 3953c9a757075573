/* The flow view (Bahdanau's figure, BertViz's head view): keys in a row on top, queries in a
 * row below, joined by curves whose width and opacity follow the attention weight. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lens_private.h"

static const double PAD = 20, TITLE_GAP = 14, CAP_GAP = 14, SLOT_GAP = 14, ANCHOR_GAP = 8;
static const double TITLE_MIN_W = 320, BAND_H = 170, BAND_MAX_H = 480, ROTATE_W = 1200, LEGEND_GAP = 12;
static const double MIN_WEIGHT = 0.01; /* lighter lines would only add noise */

typedef struct Row {
  int n;
  LensLabel *l;
  double *x;        /* anchor x of each token */
  double max_w, max_h, natural_w; /* natural_w: the unrotated row's width */
  LensLabel cap;
} Row;

typedef struct Flow {
  const attn_map *m;
  const LensRenderOptions *o;
  LensTheme th;
  LensText *tx;
  double vmax;
  Row keys, queries;
  LensLabel title, legend;
  int rotate;
  /* placement, natural units */
  double left, width, slot, band, key_y, query_y, label_top_k, label_top_q, W, H;
} Flow;

typedef struct Line {
  float w;
  int i, j;
} Line;

/* ---- measuring ---- */

static int row_open(Row *r, Flow *F, const LensAxis *ax, int n, const char *fallback) {
  r->n = n;
  r->l = calloc((size_t)n, sizeof *r->l);
  r->x = calloc((size_t)n, sizeof *r->x);
  if (!r->l || !r->x) return -1;
  if (lens_label_set(&r->cap, F->tx, ax->title ? ax->title : fallback, LENS_FONT_SMALL) != 0)
    return -1;
  for (int i = 0; i < n; i++) {
    if (lens_axis_label(&r->l[i], F->tx, ax, i, 24, F->th.muted) != 0) return -1;
    r->max_w = fmax(r->max_w, r->l[i].w);
    r->max_h = fmax(r->max_h, r->l[i].h);
    r->natural_w += r->l[i].w + SLOT_GAP;
  }
  return 0;
}

static void row_close(Row *r) {
  for (int i = 0; r->l && i < r->n; i++) lens_label_clear(&r->l[i]);
  free(r->l);
  free(r->x);
  lens_label_clear(&r->cap);
}

static int flow_measure(Flow *F, const attn_trace *t) {
  LensAxis rax, cax;
  lens_map_axes(t, F->m, &rax, &cax);
  char *title = lens_title_text(t, F->m, F->o);
  int bad = !title || lens_label_set(&F->title, F->tx, title, LENS_FONT_TITLE) != 0;
  free(title);
  if (bad || row_open(&F->keys, F, &cax, F->m->cols, "keys") ||
      row_open(&F->queries, F, &rax, F->m->rows, "queries"))
    return -1;
  char text[160];
  snprintf(text, sizeof text,
           "line width and opacity \xe2\x88\x9d weight, 0 \xe2\x80\x93 %.2f (%s); "
           "weights below %.2f not drawn",
           F->vmax, F->o->vmax > 0 ? "fixed scale" : "map max", MIN_WEIGHT);
  return lens_label_set(&F->legend, F->tx, text, LENS_FONT_SMALL);
}

static void flow_close(Flow *F) {
  row_close(&F->keys);
  row_close(&F->queries);
  lens_label_clear(&F->title);
  lens_label_clear(&F->legend);
  lens_text_free(F->tx);
}

static attn_status flow_open(Flow *F, const attn_trace *t, const attn_map *m,
                             const LensRenderOptions *o) {
  memset(F, 0, sizeof *F);
  F->m = m;
  F->o = o;
  lens_theme_get(o->dark, &F->th);
  F->vmax = lens_scale_top(m, o);
  F->tx = lens_text_new(lens_font_pt(o));
  if (!F->tx || flow_measure(F, t) != 0) {
    flow_close(F);
    return ATTN_E_NOMEM;
  }
  F->rotate = fmax(F->keys.natural_w, F->queries.natural_w) > ROTATE_W;
  F->slot = ceil(fmax(LENS_MIN_CELL, fmax(F->keys.max_h, F->queries.max_h) + 4));
  return ATTN_OK;
}

/* ---- placement ---- */

static double row_width(const Flow *F, const Row *r) {
  return F->rotate ? r->n * F->slot : r->natural_w;
}

/* Spreads a row's tokens over `width`, each centred in its share of the spare room. */
static void row_spread(const Flow *F, Row *r, double x0, double width) {
  double extra = (width - row_width(F, r)) / r->n, x = x0;
  for (int i = 0; i < r->n; i++) {
    double slot = (F->rotate ? F->slot : r->l[i].w + SLOT_GAP) + extra;
    r->x[i] = x + slot / 2;
    x += slot;
  }
}

static double row_depth(const Flow *F, const Row *r) { return F->rotate ? r->max_w : r->max_h; }

/* Lays out with `extra_w` more width and `extra_h` more height than the natural size. */
static void flow_place(Flow *F, double extra_w, double extra_h) {
  F->left = ceil(PAD + fmax(F->keys.cap.w, F->queries.cap.w) + CAP_GAP);
  F->width = fmax(row_width(F, &F->keys), row_width(F, &F->queries)) + extra_w;
  F->band = fmin(BAND_H + extra_h, fmax(BAND_H, BAND_MAX_H));
  lens_label_wrap(&F->title, fmax(F->left + F->width - PAD, TITLE_MIN_W));
  F->label_top_k = PAD + F->title.h + TITLE_GAP;
  F->key_y = F->label_top_k + row_depth(F, &F->keys) + ANCHOR_GAP;
  F->query_y = F->key_y + F->band;
  F->label_top_q = F->query_y + ANCHOR_GAP;
  row_spread(F, &F->keys, F->left, F->width);
  row_spread(F, &F->queries, F->left, F->width);
  double right = F->left + F->width;
  lens_label_wrap(&F->legend, fmax(right - PAD, TITLE_MIN_W));
  double bottom = F->label_top_q + row_depth(F, &F->queries) + LEGEND_GAP + F->legend.h;
  right = fmax(right, fmax(PAD + F->title.w, PAD + F->legend.w));
  F->W = ceil(right + PAD);
  F->H = ceil(bottom + PAD);
}

attn_status lens_flow_size(const attn_trace *t, const attn_map *m, const LensRenderOptions *o,
                           double *width, double *height) {
  Flow F;
  attn_status st = flow_open(&F, t, m, o);
  if (st != ATTN_OK) return st;
  flow_place(&F, 0, 0);
  *width = F.W;
  *height = F.H;
  flow_close(&F);
  return ATTN_OK;
}

/* ---- drawing ---- */

static int line_cmp(const void *a, const void *b) {
  float x = ((const Line *)a)->w, y = ((const Line *)b)->w;
  return (x > y) - (x < y);
}

/* Fills lines (when not NULL) with the weights worth a line; returns how many there are. */
static size_t collect_lines(const Flow *F, Line *lines) {
  size_t k = 0;
  for (int i = 0; i < F->m->rows; i++)
    for (int j = 0; j < F->m->cols; j++) {
      float w = F->m->weights[(size_t)i * F->m->cols + j];
      if (!(w >= MIN_WEIGHT)) continue;
      if (lines) lines[k] = (Line){w, i, j};
      k++;
    }
  return k;
}

/* The lines to draw, lightest first so that heavy ones stay on top. */
static Line *flow_lines(const Flow *F, size_t *n) {
  *n = collect_lines(F, NULL);
  Line *lines = malloc((*n ? *n : 1) * sizeof *lines);
  if (!lines) return NULL;
  collect_lines(F, lines);
  qsort(lines, *n, sizeof *lines, line_cmp);
  return lines;
}

static int lit_any(const Flow *F) {
  return (F->o->highlight_row >= 0 && F->o->highlight_row < F->m->rows) ||
         (F->o->highlight_col >= 0 && F->o->highlight_col < F->m->cols);
}

static int line_lit(const Flow *F, const Line *l) {
  return l->i == F->o->highlight_row || l->j == F->o->highlight_col;
}

static void draw_line(cairo_t *cr, const Flow *F, const Line *l, int faded) {
  double a = fmin(1.0, l->w / F->vmax);
  double x0 = F->keys.x[l->j], y0 = F->key_y, x1 = F->queries.x[l->i], y1 = F->query_y;
  double d = (y1 - y0) / 2;
  cairo_move_to(cr, x0, y0);
  cairo_curve_to(cr, x0, y0 + d, x1, y1 - d, x1, y1);
  lens_set_rgb(cr, F->th.line, (0.12 + 0.83 * a) * (faded ? 0.15 : 1.0));
  cairo_set_line_width(cr, 0.75 + 3.75 * a);
  cairo_stroke(cr);
}

static void draw_lines(cairo_t *cr, const Flow *F) {
  size_t n;
  Line *lines = flow_lines(F, &n);
  if (!lines) return;
  int lit = lit_any(F);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  for (size_t k = 0; k < n; k++)
    if (!lit || !line_lit(F, &lines[k])) draw_line(cr, F, &lines[k], lit);
  for (size_t k = 0; lit && k < n; k++)
    if (line_lit(F, &lines[k])) draw_line(cr, F, &lines[k], 0);
  free(lines);
}

/* Top row (keys): text starts at the anchor; bottom row (queries): text ends at it. */
static void label_origin(const Flow *F, const Row *r, int i, int top, double *x, double *y) {
  const LensLabel *l = &r->l[i];
  if (!F->rotate) {
    *x = r->x[i] - l->w / 2;
    *y = top ? F->key_y - ANCHOR_GAP - l->h : F->label_top_q;
    return;
  }
  *x = r->x[i] - l->h / 2;
  *y = top ? F->key_y - ANCHOR_GAP : F->label_top_q + l->w;
}

static void draw_row(cairo_t *cr, const Flow *F, const Row *r, int top, int lit_index,
                     LensLayout *layout, int text) {
  int lit = lit_any(F);
  for (int i = 0; i < r->n; i++) {
    const LensLabel *l = &r->l[i];
    double x, y;
    label_origin(F, r, i, top, &x, &y);
    LensRect box = F->rotate ? (LensRect){x, y - l->w, l->h, l->w} : (LensRect){x, y, l->w, l->h};
    if (text && i == lit_index) lens_draw_pill(cr, &F->th, box);
    if (text) lens_label_draw(cr, l, x, y, F->rotate, lit && i != lit_index ? F->th.muted : F->th.fg);
    cairo_new_sub_path(cr);
    cairo_arc(cr, r->x[i], top ? F->key_y : F->query_y, 2.25, 0, 2 * M_PI);
    lens_set_rgb(cr, F->th.muted, 1.0);
    cairo_fill(cr);
    if (!layout || i >= LENS_LAYOUT_MAX_LABELS) continue;
    LensRect ink = lens_label_ink(l, x, y, F->rotate);
    if (top) {
      layout->col_labels[layout->n_col_labels++] = ink;
      layout->key_x[i] = r->x[i];
    } else {
      layout->row_labels[layout->n_row_labels++] = ink;
      layout->query_x[i] = r->x[i];
    }
  }
}

static void flow_paint(cairo_t *cr, const Flow *F, LensLayout *layout, int text) {
  draw_lines(cr, F);
  draw_row(cr, F, &F->keys, 1, F->o->highlight_col, layout, text);
  draw_row(cr, F, &F->queries, 0, F->o->highlight_row, layout, text);
  if (!text) return;
  lens_label_draw(cr, &F->title, PAD, PAD, 0, F->th.fg);
  double ky = F->rotate ? F->key_y - ANCHOR_GAP - F->keys.cap.h : F->key_y - ANCHOR_GAP - F->keys.max_h;
  lens_label_draw(cr, &F->keys.cap, PAD, ky, 0, F->th.muted);
  lens_label_draw(cr, &F->queries.cap, PAD, F->label_top_q, 0, F->th.muted);
  double ly = F->label_top_q + row_depth(F, &F->queries) + LEGEND_GAP;
  lens_label_draw(cr, &F->legend, PAD, ly, 0, F->th.muted);
}

/* Grows the picture into a bigger box: more room between tokens and taller curves. */
static void flow_fit(Flow *F, double width, double height) {
  flow_place(F, 0, 0);
  double extra_w = width - F->W, extra_h = height - F->H;
  if (extra_w < 0 || extra_h < 0) return;
  double room = fmax(row_width(F, &F->keys), row_width(F, &F->queries));
  flow_place(F, floor(fmin(extra_w, room)), floor(extra_h));
}

attn_status lens_flow_draw(cairo_t *cr, const attn_trace *t, const attn_map *m,
                           const LensRenderOptions *o, double width, double height,
                           LensLayout *layout) {
  Flow F;
  attn_status st = flow_open(&F, t, m, o);
  if (st != ATTN_OK) return st;
  flow_fit(&F, width, height);
  LensFit fit;
  lens_fit_begin(cr, F.tx, F.W, F.H, width, height, &fit);
  flow_paint(cr, &F, layout, fit.text);
  if (layout) {
    layout->key_y = F.key_y;
    layout->query_y = F.query_y;
  }
  lens_fit_end(cr, &fit, layout, m);
  flow_close(&F);
  return ATTN_OK;
}
