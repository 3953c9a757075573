/* The render entry points: options, themes, axis labels of a map, view dispatch, hit tests. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lens_private.h"
#include "lens_story.h"
#include "lens_overlay.h"
#include "lens_graph.h"
#include "lens_memory.h"

void lens_render_options_init(LensRenderOptions *o) {
  memset(o, 0, sizeof *o);
  o->view = LENS_VIEW_MATRIX;
  o->colormap = LENS_CMAP_VIRIDIS;
  o->show_colorbar = 1;
  o->highlight_row = -1;
  o->highlight_col = -1;
  o->vmax = 0.0;
  o->overlay_opacity = 0.6;
}

int lens_view_from_name(const char *name, LensView *out) {
  if (!name) return -1;
  if (strcasecmp(name, "matrix") == 0) *out = LENS_VIEW_MATRIX;
  else if (strcasecmp(name, "flow") == 0) *out = LENS_VIEW_FLOW;
  else if (strcasecmp(name, "story") == 0) *out = LENS_VIEW_STORY;
  else if (strcasecmp(name, "overlay") == 0) *out = LENS_VIEW_OVERLAY;
  else if (strcasecmp(name, "storyboard") == 0) *out = LENS_VIEW_STORYBOARD;
  else if (strcasecmp(name, "graph") == 0) *out = LENS_VIEW_GRAPH;
  else if (strcasecmp(name, "memory") == 0) *out = LENS_VIEW_MEMORY;
  else return -1;
  return 0;
}

const char *lens_view_name(LensView view) {
  if (view == LENS_VIEW_OVERLAY) return "overlay";
  if (view == LENS_VIEW_STORYBOARD) return "storyboard";
  if (view == LENS_VIEW_GRAPH) return "graph";
  if (view == LENS_VIEW_MEMORY) return "memory";
  if (view == LENS_VIEW_BOTTLENECK) return "bottleneck";
  return view == LENS_VIEW_FLOW ? "flow" : view == LENS_VIEW_STORY ? "story" : "matrix";
}

static void rgb_hex(double rgb[3], unsigned hex) {
  rgb[0] = ((hex >> 16) & 0xff) / 255.0;
  rgb[1] = ((hex >> 8) & 0xff) / 255.0;
  rgb[2] = (hex & 0xff) / 255.0;
}

void lens_theme_get(int dark, LensTheme *th) {
  static const unsigned light_hex[6] = {0xffffff, 0x1f2328, 0x656d76, 0xd0d7de, 0xffffff, 0x1d4f9c};
  static const unsigned dark_hex[6] = {0x17191e, 0xe6edf3, 0x9198a1, 0x3d444d, 0x17191e, 0x8cc2ff};
  const unsigned *hex = dark ? dark_hex : light_hex;
  rgb_hex(th->bg, hex[0]);
  rgb_hex(th->fg, hex[1]);
  rgb_hex(th->muted, hex[2]);
  rgb_hex(th->rule, hex[3]);
  rgb_hex(th->halo, hex[4]);
  rgb_hex(th->line, hex[5]);
}

void lens_set_rgb(cairo_t *cr, const double rgb[3], double alpha) {
  if (alpha >= 1.0) cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
  else cairo_set_source_rgba(cr, rgb[0], rgb[1], rgb[2], alpha);
}

/* A soft rounded box behind a highlighted label. */
void lens_draw_pill(cairo_t *cr, const LensTheme *th, LensRect r) {
  double x = r.x - 4, y = r.y - 3, w = r.w + 8, h = r.h + 6, rad = fmin(6, fmin(w, h) / 2);
  cairo_new_sub_path(cr);
  cairo_arc(cr, x + w - rad, y + rad, rad, -M_PI / 2, 0);
  cairo_arc(cr, x + w - rad, y + h - rad, rad, 0, M_PI / 2);
  cairo_arc(cr, x + rad, y + h - rad, rad, M_PI / 2, M_PI);
  cairo_arc(cr, x + rad, y + rad, rad, M_PI, 3 * M_PI / 2);
  cairo_close_path(cr);
  lens_set_rgb(cr, th->fg, 0.12);
  cairo_fill(cr);
}

double lens_font_pt(const LensRenderOptions *o) {
  double pt = o->font_size;
  if (!(pt > 0)) return LENS_DEFAULT_FONT_PT;
  return fmin(pt, 72.0);
}

double lens_map_max(const attn_map *m) {
  double top = 0.0;
  size_t n = (size_t)m->rows * (size_t)m->cols;
  for (size_t i = 0; i < n; i++)
    if (m->weights[i] > top) top = m->weights[i];
  return top;
}

double lens_scale_top(const attn_map *m, const LensRenderOptions *o) {
  if (o->vmax > 0 && isfinite(o->vmax)) return o->vmax;
  double top = lens_map_max(m);
  return top > 0 && isfinite(top) ? top : 1.0;
}

char *lens_title_text(const attn_trace *t, const attn_map *m, const LensRenderOptions *o) {
  const char *model = t->model && *t->model ? t->model : "attention";
  const char *name = m->name && *m->name ? m->name : "map";
  size_t n = (o->title ? strlen(o->title) : strlen(model) + strlen(name) + 8) + 1;
  char *s = malloc(n);
  if (!s) return NULL;
  if (o->title) snprintf(s, n, "%s", o->title);
  else snprintf(s, n, "%s \xe2\x80\x94 %s", model, name);
  return s;
}

/* ---- which labels the rows and columns of a map carry ---- */

/* Flags that are all 1 next to SentencePiece '▁' marks are defaults, not information (the
 * JSON format has no flags for the output): then the marks decide which pieces start words. */
static void axis_tokens(LensAxis *ax, const attn_tokens *seq, const char *title) {
  int all_start = 1, marks = 0;
  ax->tokens = seq;
  ax->title = title;
  for (int i = 0; i < seq->n; i++) {
    all_start = all_start && attn_tokens_word_start(seq, i);
    marks = marks || (seq->tokens[i] && strncmp(seq->tokens[i], "\xe2\x96\x81", 3) == 0);
  }
  ax->infer_marks = all_start && marks;
}

static void hop_axes(const attn_trace *t, const attn_map *m, LensAxis *rows, LensAxis *cols) {
  rows->title = "question";
  if (m->rows == 1 && t->question) {
    rows->names = (char **)&t->question;
    rows->n_names = 1;
  }
  if (t->n_sentences > 0 && t->n_sentences == m->cols) {
    cols->names = t->sentences;
    cols->n_names = t->n_sentences;
    cols->title = "story sentence";
  } else {
    axis_tokens(cols, &t->source, "story");
  }
}

void lens_map_axes(const attn_trace *t, const attn_map *m, LensAxis *rows, LensAxis *cols) {
  memset(rows, 0, sizeof *rows);
  memset(cols, 0, sizeof *cols);
  switch (m->kind) {
  case ATTN_MAP_ENCODER:
    axis_tokens(rows, &t->source, "source");
    axis_tokens(cols, &t->source, "source");
    return;
  case ATTN_MAP_DECODER:
    axis_tokens(rows, &t->output, "output");
    axis_tokens(cols, &t->output, "output");
    return;
  case ATTN_MAP_HOP:
    hop_axes(t, m, rows, cols);
    return;
  default:
    break;
  }
  if (t->task == ATTN_TASK_MEMORY) { /* time steps x memory locations, numbered from 0 */
    rows->title = "time step";
    cols->title = "memory location";
    return;
  }
  axis_tokens(rows, &t->output, "output");
  if (t->task == ATTN_TASK_CAPTION && t->grid_cols > 0 && t->grid_rows * t->grid_cols == m->cols) {
    cols->title = "image region (row, column)";
    cols->grid_cols = t->grid_cols;
  } else {
    axis_tokens(cols, &t->source, "source");
  }
}

static int word_start_of(const LensAxis *ax, int i) {
  if (!ax->infer_marks) return attn_tokens_word_start(ax->tokens, i);
  const char *s = ax->tokens->tokens[i];
  return !s || strncmp(s, "\xe2\x96\x81", 3) == 0 || (s[0] == '<' && s[strlen(s) - 1] == '>');
}

int lens_axis_label(LensLabel *l, LensText *tx, const LensAxis *ax, int i, int max_chars,
                    const double muted[3]) {
  char num[48];
  if (ax->tokens && i < ax->tokens->n)
    return lens_label_token(l, tx, ax->tokens->tokens[i], word_start_of(ax, i), max_chars, muted);
  if (ax->names && i < ax->n_names)
    return lens_label_token(l, tx, ax->names[i], 1, 2 * max_chars, muted);
  if (ax->grid_cols > 0) snprintf(num, sizeof num, "%d,%d", i / ax->grid_cols, i % ax->grid_cols);
  else snprintf(num, sizeof num, "%d", i);
  return lens_label_set(l, tx, num, LENS_FONT_BODY);
}

/* ---- dispatch ---- */

static const attn_map *chosen_map(const attn_trace *t, const LensRenderOptions *o) {
  if (!t || o->map_index < 0 || o->map_index >= t->n_maps) return NULL;
  const attn_map *m = &t->maps[o->map_index];
  if (m->rows <= 0 || m->cols <= 0 || !m->weights) return NULL;
  return m;
}

/* Sane bounds: a zoom is a viewing choice, not a way to ask for a gigapixel surface. */
static double zoom_of(const LensRenderOptions *o) {
  if (!(o->zoom > 0) || !isfinite(o->zoom)) return 1.0;
  return fmin(fmax(o->zoom, 0.05), 16.0);
}

/* ---- two traces side by side (compare mode) ---- */

#define COMPARE_GAP 24.0

/* The two halves: each with its own options, neither comparing again. */
static void compare_halves(const LensRenderOptions *o, LensRenderOptions *a, LensRenderOptions *b) {
  *a = *o;
  *b = *o->compare_options;
  a->compare = b->compare = NULL;
  b->dark = a->dark; /* one picture, one style */
}

static void compare_size(const attn_trace *t, const LensRenderOptions *o, double *width, double *height) {
  LensRenderOptions a, b;
  compare_halves(o, &a, &b);
  double wa, ha, wb, hb;
  lens_render_size(t, &a, &wa, &ha);
  lens_render_size(o->compare, &b, &wb, &hb);
  *width = wa + COMPARE_GAP + wb;
  *height = fmax(ha, hb);
}

/* Each half gets the share of the width its natural size asks for, and draws itself there. */
static attn_status compare_draw(cairo_t *cr, const attn_trace *t, const LensRenderOptions *o, double width,
                                double height, LensLayout *layout) {
  LensRenderOptions a, b;
  compare_halves(o, &a, &b);
  double wa, ha, wb, hb;
  lens_render_size(t, &a, &wa, &ha);
  lens_render_size(o->compare, &b, &wb, &hb);
  double left = (width - COMPARE_GAP) * wa / (wa + wb);
  attn_status st = lens_render(cr, t, &a, left, height, layout);
  cairo_save(cr);
  cairo_translate(cr, left + COMPARE_GAP, 0);
  attn_status st2 = lens_render(cr, o->compare, &b, width - left - COMPARE_GAP, height, NULL);
  cairo_restore(cr);
  return st != ATTN_OK ? st : st2;
}

void lens_render_size(const attn_trace *t, const LensRenderOptions *o, double *width,
                      double *height) {
  LensRenderOptions def;
  if (!o) {
    lens_render_options_init(&def);
    o = &def;
  }
  if (o->compare && o->compare_options) {
    compare_size(t, o, width, height);
    return;
  }
  *width = 480;
  *height = 320;
  const attn_map *m = chosen_map(t, o);
  if (lens_render_is_bottleneck(t)) lens_bottleneck_size(t, o, width, height);
  else if (m && o->view == LENS_VIEW_FLOW) lens_flow_size(t, m, o, width, height);
  else if (m && o->view == LENS_VIEW_STORY) lens_story_size(t, m, o, width, height);
  else if (m && (o->view == LENS_VIEW_OVERLAY || o->view == LENS_VIEW_STORYBOARD)) lens_overlay_size(t, m, o, width, height);
  else if (m && o->view == LENS_VIEW_GRAPH && t->graph) lens_graph_size(t, m, o, width, height);
  else if (m && o->view == LENS_VIEW_MEMORY && t->memory) lens_memory_size(t, width, height);
  else if (m) lens_matrix_size(t, m, o, width, height);
  double z = zoom_of(o);
  *width = ceil(*width * z - 1e-9);
  *height = ceil(*height * z - 1e-9);
}

attn_status lens_render_check(const attn_trace *t, const LensRenderOptions *o, attn_error *err) {
  if (lens_render_is_bottleneck(t)) return ATTN_OK; /* every view shows it the one way it can be shown */
  const attn_map *m = chosen_map(t, o);
  if (!m) return attn_error_set(err, ATTN_E_ARG, "the trace has no non-empty map %d to show", o->map_index);
  double w, h;
  attn_status st = ATTN_OK;
  if (o->view == LENS_VIEW_STORY) st = lens_story_size(t, m, o, &w, &h);
  else if (o->view == LENS_VIEW_OVERLAY || o->view == LENS_VIEW_STORYBOARD) st = lens_overlay_size(t, m, o, &w, &h);
  else if (o->view == LENS_VIEW_GRAPH && lens_graph_size(t, m, o, &w, &h) == ATTN_E_ARG)
    return attn_error_set(err, ATTN_E_ARG, "only a graph trace can be shown in the graph view");
  else if (o->view == LENS_VIEW_MEMORY && lens_memory_check(t, NULL) != ATTN_OK)
    return attn_error_set(err, ATTN_E_ARG, "only a memory trace can be shown in the memory view");
  if (st == ATTN_E_ARG)
    return attn_error_set(err, st, "a %s trace has no %s to show in the %s view: use the matrix or flow view",
                          attn_task_name(t->task), o->view == LENS_VIEW_STORY ? "story" : "image grid",
                          lens_view_name(o->view));
  if (st != ATTN_OK) return attn_error_set(err, st, "out of memory while laying out the picture");
  return ATTN_OK;
}

static void draw_message(cairo_t *cr, const LensRenderOptions *o, const LensTheme *th,
                         double width, double height, const char *text) {
  LensText *tx = lens_text_new(lens_font_pt(o));
  LensLabel l;
  if (!tx || lens_label_set(&l, tx, text, LENS_FONT_BODY) != 0) {
    lens_text_free(tx);
    return;
  }
  lens_label_draw(cr, &l, floor((width - l.w) / 2), floor((height - l.h) / 2), 0, th->muted);
  lens_label_clear(&l);
  lens_text_free(tx);
}

attn_status lens_render(cairo_t *cr, const attn_trace *t, const LensRenderOptions *o,
                        double width, double height, LensLayout *layout) {
  LensRenderOptions def;
  if (!o) {
    lens_render_options_init(&def);
    o = &def;
  }
  if (o->compare && o->compare_options) {
    LensTheme th;
    lens_theme_get(o->dark, &th);
    lens_set_rgb(cr, th.bg, 1.0); /* the gap between the halves */
    cairo_rectangle(cr, 0, 0, width, height);
    cairo_fill(cr);
    return compare_draw(cr, t, o, width, height, layout);
  }
  if (layout) {
    memset(layout, 0, sizeof *layout);
    layout->view = o->view;
  }
  LensTheme th;
  lens_theme_get(o->dark, &th);
  cairo_save(cr);
  double z = zoom_of(o);
  cairo_scale(cr, z, z); /* everything larger; the box is the same on the page */
  width /= z;
  height /= z;
  lens_set_rgb(cr, th.bg, 1.0);
  cairo_rectangle(cr, 0, 0, width, height);
  cairo_fill(cr);
  const attn_map *m = chosen_map(t, o);
  attn_status st = ATTN_E_ARG;
  if (lens_render_is_bottleneck(t)) st = lens_bottleneck_draw(cr, t, o, width, height, layout);
  else if (!m) draw_message(cr, o, &th, width, height, "No attention map to show");
  else if (o->view == LENS_VIEW_FLOW) st = lens_flow_draw(cr, t, m, o, width, height, layout);
  else if (o->view == LENS_VIEW_STORY && (st = lens_story_draw(cr, t, m, o, width, height, layout)) == ATTN_E_ARG)
    draw_message(cr, o, &th, width, height, "This trace has no story to show: choose the matrix view");
  else if ((o->view == LENS_VIEW_OVERLAY || o->view == LENS_VIEW_STORYBOARD) &&
           (st = lens_overlay_draw(cr, t, m, o, width, height, layout)) == ATTN_E_ARG)
    draw_message(cr, o, &th, width, height, "This trace has no image grid to overlay: choose the matrix view");
  else if (o->view == LENS_VIEW_GRAPH && (st = lens_graph_draw(cr, t, m, o, width, height, layout)) == ATTN_E_ARG)
    draw_message(cr, o, &th, width, height, "This trace has no graph to show: choose the matrix view");
  else if (o->view == LENS_VIEW_MEMORY && (st = lens_memory_render(cr, t, width, height, o->dark, NULL)) != ATTN_OK)
    draw_message(cr, o, &th, width, height, "This trace has no memory to show: choose the matrix view");
  else if (o->view != LENS_VIEW_STORY && o->view != LENS_VIEW_OVERLAY && o->view != LENS_VIEW_STORYBOARD &&
           o->view != LENS_VIEW_GRAPH && o->view != LENS_VIEW_MEMORY)
    st = lens_matrix_draw(cr, t, m, o, width, height, layout);
  cairo_restore(cr);
  if (layout && z != 1.0) lens_layout_transform(layout, z, 0, 0);
  return st;
}

/* ---- geometry ---- */

int lens_layout_hit(const LensLayout *layout, double x, double y, int *row, int *col) {
  const LensRect *g = &layout->grid;
  if (layout->view != LENS_VIEW_MATRIX || g->w <= 0 || g->h <= 0) return 0;
  if (x < g->x || y < g->y || x >= g->x + g->w || y >= g->y + g->h) return 0;
  int c = (int)floor((x - g->x) / layout->cell_w), r = (int)floor((y - g->y) / layout->cell_h);
  if (r < 0 || c < 0 || r >= layout->rows || c >= layout->cols) return 0;
  *row = r;
  *col = c;
  return 1;
}

static int rect_has(const LensRect *r, double x, double y, double slop) {
  return x >= r->x - slop && x <= r->x + r->w + slop && y >= r->y - slop && y <= r->y + r->h + slop;
}

int lens_layout_hit_label(const LensLayout *layout, double x, double y, int *row, int *col) {
  for (int i = 0; i < layout->n_row_labels; i++)
    if (rect_has(&layout->row_labels[i], x, y, 2)) {
      *row = i;
      *col = -1;
      return 1;
    }
  for (int j = 0; j < layout->n_col_labels; j++)
    if (rect_has(&layout->col_labels[j], x, y, 2)) {
      *row = -1;
      *col = j;
      return 1;
    }
  return 0;
}

static void rect_transform(LensRect *r, double k, double ox, double oy) {
  if (r->w == 0 && r->h == 0) return; /* "not drawn" stays all zero */
  *r = (LensRect){ox + k * r->x, oy + k * r->y, k * r->w, k * r->h};
}

void lens_layout_transform(LensLayout *layout, double k, double ox, double oy) {
  rect_transform(&layout->grid, k, ox, oy);
  rect_transform(&layout->colorbar, k, ox, oy);
  layout->cell_w *= k;
  layout->cell_h *= k;
  for (int i = 0; i < layout->n_row_labels; i++) rect_transform(&layout->row_labels[i], k, ox, oy);
  for (int j = 0; j < layout->n_col_labels; j++) rect_transform(&layout->col_labels[j], k, ox, oy);
  for (int j = 0; j < layout->n_col_labels; j++) layout->key_x[j] = ox + k * layout->key_x[j];
  for (int i = 0; i < layout->n_row_labels; i++) layout->query_x[i] = ox + k * layout->query_x[i];
  layout->key_y = oy + k * layout->key_y;
  layout->query_y = oy + k * layout->query_y;
}

/* The picture shrinks to fit a smaller box (never grows: views use spare room themselves),
 * centred, on whole units when unscaled so that cell edges stay sharp. */
void lens_fit_begin(cairo_t *cr, const LensText *tx, double nw, double nh, double w, double h,
                    LensFit *fit) {
  fit->k = fmin(1.0, fmin(w / nw, h / nh));
  if (!(fit->k > 0)) fit->k = 1.0;
  fit->ox = (w - fit->k * nw) / 2;
  fit->oy = (h - fit->k * nh) / 2;
  if (fit->k == 1.0) {
    fit->ox = floor(fit->ox);
    fit->oy = floor(fit->oy);
  }
  cairo_save(cr);
  cairo_translate(cr, fit->ox, fit->oy);
  cairo_scale(cr, fit->k, fit->k);
  /* Text under ~3 device units is unreadable; huge maps skip it. */
  double dx = lens_text_px(tx, LENS_FONT_SMALL), dy = 0;
  cairo_user_to_device_distance(cr, &dx, &dy);
  fit->text = hypot(dx, dy) >= 3;
}

void lens_fit_end(cairo_t *cr, const LensFit *fit, LensLayout *layout, const attn_map *m) {
  cairo_restore(cr);
  if (!layout) return;
  layout->rows = m->rows;
  layout->cols = m->cols;
  lens_layout_transform(layout, fit->k, fit->ox, fit->oy);
}
