/* The NTM memory view: six heat maps over time (inputs, outputs, adds, reads, write and read
 * weightings) and the final memory, each with a title and its axes' extents. */
#include "lens_memory.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "attn_memory.h"
#include "lens_private.h"

#define PAD 16.0
#define GAP 28.0      /* between panels */
#define TITLE_H 22.0  /* room for a panel's title */
#define AXIS_W 34.0   /* room for row numbers left of a panel */
#define MIN_SHOWN 16  /* fewest memory locations shown */

/* The geometry of one drawing. */
typedef struct Geo {
  const attn_trace_memory *m;
  const attn_map *write, *read;
  int first, shown;      /* memory locations first .. first + shown - 1 are drawn */
  double cw;             /* width of one step */
  double bit_h, vec_h, loc_h;
  double col_w, mem_cw;  /* a time panel's width; a memory column's width */
  double width, height;
} Geo;

attn_status lens_memory_check(const attn_trace *t, attn_error *err) {
  if (!t || t->task != ATTN_TASK_MEMORY || !t->memory)
    return attn_error_set(err, ATTN_E_ARG, "the memory view needs a memory trace");
  int w = attn_trace_find_map(t, "write"), r = attn_trace_find_map(t, "read");
  if (w < 0 || r < 0) return attn_error_set(err, ATTN_E_MISSING, "a memory trace needs the maps \"write\" and \"read\"");
  const attn_trace_memory *m = t->memory;
  for (int k = 0; k < 2; k++) {
    const attn_map *map = &t->maps[k ? r : w];
    if (map->rows != m->steps || map->cols != m->locations)
      return attn_error_set(err, ATTN_E_SHAPE, "map \"%s\" is %dx%d, expected %dx%d", map->name, map->rows, map->cols,
                            m->steps, m->locations);
  }
  return ATTN_OK;
}

/* The locations the heads used (weight above 2% at some step), as the shortest arc of the
 * circular memory that holds them all (a head moving backwards from 0 wraps to N - 1), padded
 * by 2, at least MIN_SHOWN. */
static void used_window(Geo *g) {
  int N = g->m->locations, any = 0;
  unsigned char *used = calloc((size_t)N, 1);
  for (int t = 0; used && t < g->m->steps; t++)
    for (int i = 0; i < N; i++)
      if (fmaxf(g->write->weights[(size_t)t * N + i], g->read->weights[(size_t)t * N + i]) > 0.02f) used[i] = 1, any = 1;
  /* the longest run of unused locations, circularly: the window is the rest */
  int best_len = 0, best_end = 0;
  for (int start = 0; used && any && start < N; start++) {
    if (used[start] || !used[(start + N - 1) % N]) continue;
    int len = 0;
    while (len < N && !used[(start + len) % N]) len++;
    if (len > best_len) best_len = len, best_end = (start + len) % N;
  }
  free(used);
  int shown = any ? N - best_len : 1, first = any ? best_end : 0;
  shown += 4, first -= 2;
  if (shown < MIN_SHOWN) first -= (MIN_SHOWN - shown) / 2, shown = MIN_SHOWN;
  if (shown >= N) first = 0, shown = N;
  g->first = ((first % N) + N) % N, g->shown = shown;
}

static int geometry(const attn_trace *t, Geo *g) {
  if (lens_memory_check(t, NULL) != ATTN_OK) return -1;
  g->m = t->memory;
  g->write = &t->maps[attn_trace_find_map(t, "write")];
  g->read = &t->maps[attn_trace_find_map(t, "read")];
  used_window(g);
  int T = g->m->steps;
  g->cw = fmax(5.0, fmin(18.0, 420.0 / T));
  g->bit_h = 9.0, g->vec_h = 6.0;
  g->loc_h = fmax(3.0, fmin(10.0, 300.0 / g->shown));
  g->col_w = g->cw * T;
  g->mem_cw = 8.0;
  double left = AXIS_W + g->col_w, right = AXIS_W + g->col_w, mem = AXIS_W + g->mem_cw * g->m->width;
  g->width = PAD + left + GAP + right + GAP + mem + PAD;
  double time_h = 3 * TITLE_H + (g->m->bits + 1) * g->bit_h + g->m->width * g->vec_h + g->shown * g->loc_h + 2 * GAP;
  g->height = PAD + TITLE_H + time_h + TITLE_H + PAD;
  return 0;
}

void lens_memory_size(const attn_trace *t, double *width, double *height) {
  Geo g;
  if (geometry(t, &g) != 0) {
    *width = *height = 0;
    return;
  }
  *width = ceil(g.width), *height = ceil(g.height);
}

typedef struct Panel {
  const float *v;  /* rows x cols as stored: stored[i * ld + j] */
  int rows, cols, ld;
  int transpose;   /* 1: the stored rows are time steps and go along x */
  int first, wrap; /* wrap > 0: drawn row r is column (or row) (first + r) mod wrap of the stored matrix */
  double lo, hi;   /* value range mapped to the colour scale */
} Panel;

/* Draws a heat map at (x, y) with cells cw x ch: panel row r, column c. */
static void draw_cells(cairo_t *cr, const Panel *p, double x, double y, double cw, double ch) {
  int R = p->transpose ? p->cols : p->rows, C = p->transpose ? p->rows : p->cols;
  for (int r = 0; r < R; r++)
    for (int c = 0; c < C; c++) {
      int k = p->wrap > 0 ? (p->first + r) % p->wrap : r;
      float v = p->transpose ? p->v[(size_t)c * p->ld + k] : p->v[(size_t)k * p->ld + c];
      double rgb[3], u = (v - p->lo) / (p->hi - p->lo);
      lens_colormap_rgb(LENS_CMAP_VIRIDIS, fmin(1.0, fmax(0.0, isfinite(u) ? u : 0.0)), rgb);
      cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
      cairo_rectangle(cr, x + c * cw, y + r * ch, cw + 0.4, ch + 0.4);
      cairo_fill(cr);
    }
}

static void text_at(cairo_t *cr, LensText *tx, const char *s, double x, double y, LensFont f, const double rgb[3],
                    int right_align) {
  LensLabel l = {0};
  if (lens_label_set(&l, tx, s, f) != 0) return;
  lens_label_draw(cr, &l, right_align ? x - l.w : x, y, 0, rgb);
  lens_label_clear(&l);
}

/* A panel's title above it and its first and last row numbers at its left. */
static void frame(cairo_t *cr, LensText *tx, const LensTheme *th, const char *title, double x, double y, double h,
                  int first, int last) {
  text_at(cr, tx, title, x, y - TITLE_H + 2, LENS_FONT_SMALL, th->fg, 0);
  char num[16];
  snprintf(num, sizeof num, "%d", first);
  text_at(cr, tx, num, x - 4, y - 2, LENS_FONT_SMALL, th->muted, 1);
  if (last != first) {
    snprintf(num, sizeof num, "%d", last);
    text_at(cr, tx, num, x - 4, y + h - 12, LENS_FONT_SMALL, th->muted, 1);
  }
}

static double max_abs(const float *v, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(v[i]));
  return m > 0 ? m : 1;
}

/* One time column: x0 is the panel's left edge; top panel, vectors, weightings. */
static void time_column(cairo_t *cr, LensText *tx, const LensTheme *th, const Geo *g, int right, double x0,
                        double y) {
  const attn_trace_memory *m = g->m;
  int T = m->steps, B = m->bits, M = m->width;
  Panel top = {right ? m->outputs : m->inputs, T, right ? B : B + 1, right ? B : B + 1, 1, 0, 0, 0, 1};
  double h = top.cols * g->bit_h;
  y += TITLE_H;
  char inputs[48];
  snprintf(inputs, sizeof inputs, "Inputs (row %d: delimiter)", B + 1);
  frame(cr, tx, th, right ? "Outputs" : inputs, x0, y, h, 1, top.cols);
  draw_cells(cr, &top, x0, y, g->cw, g->bit_h);
  y += h + GAP / 2 + TITLE_H;
  const float *vec = right ? m->reads : m->adds;
  Panel v = {vec, T, M, M, 1, 0, 0, -max_abs(vec, (size_t)T * M), max_abs(vec, (size_t)T * M)};
  h = M * g->vec_h;
  frame(cr, tx, th, right ? "Read vectors" : "Add vectors", x0, y, h, 1, M);
  draw_cells(cr, &v, x0, y, g->cw, g->vec_h);
  y += h + GAP / 2 + TITLE_H;
  const attn_map *w = right ? g->read : g->write;
  Panel wp = {w->weights, T, g->shown, w->cols, 1, g->first, w->cols, 0, 1};
  h = g->shown * g->loc_h;
  frame(cr, tx, th, right ? "Read weighting" : "Write weighting", x0, y, h, g->first,
        (g->first + g->shown - 1) % m->locations);
  draw_cells(cr, &wp, x0, y, g->cw, g->loc_h);
}

static attn_status draw_natural(cairo_t *cr, const Geo *g, const attn_trace *t, int dark) {
  LensTheme th;
  lens_theme_get(dark, &th);
  LensText *tx = lens_text_new(LENS_DEFAULT_FONT_PT);
  if (!tx) return ATTN_E_NOMEM;
  lens_set_rgb(cr, th.bg, 1.0);
  cairo_paint(cr);
  char title[256];
  snprintf(title, sizeof title, "%s \xe2\x80\x94 copy of %d vectors: time \xe2\x86\x92 (%d steps), memory location \xe2\x86\x93 (%d)",
           t->model ? t->model : "NTM", g->m->length, g->m->steps, g->m->locations);
  text_at(cr, tx, title, PAD, PAD, LENS_FONT_BODY, th.fg, 0);
  double y = PAD + TITLE_H, xl = PAD + AXIS_W, xr = xl + g->col_w + GAP + AXIS_W;
  time_column(cr, tx, &th, g, 0, xl, y);
  time_column(cr, tx, &th, g, 1, xr, y);
  double xm = xr + g->col_w + GAP + AXIS_W, ym = y + TITLE_H;
  const attn_trace_memory *m = g->m;
  double top = max_abs(m->contents, (size_t)m->locations * m->width);
  Panel mem = {m->contents, g->shown, m->width, m->width, 0, g->first, m->locations, -top, top};
  frame(cr, tx, &th, "Memory at the end", xm, ym, g->shown * g->loc_h, g->first,
        (g->first + g->shown - 1) % m->locations);
  draw_cells(cr, &mem, xm, ym, g->mem_cw, g->loc_h);
  lens_text_free(tx);
  return cairo_status(cr) == CAIRO_STATUS_SUCCESS ? ATTN_OK : ATTN_E_NOMEM;
}

attn_status lens_memory_render(cairo_t *cr, const attn_trace *t, double width, double height, int dark,
                               attn_error *err) {
  attn_status st = lens_memory_check(t, err);
  Geo g;
  if (st != ATTN_OK) return st;
  geometry(t, &g);
  double k = fmin(width / g.width, height / g.height);
  if (!(k > 0)) return ATTN_OK;
  cairo_save(cr);
  cairo_translate(cr, (width - k * g.width) / 2, (height - k * g.height) / 2);
  cairo_scale(cr, k, k);
  st = draw_natural(cr, &g, t, dark);
  cairo_restore(cr);
  return st == ATTN_OK ? ATTN_OK : attn_error_set(err, st, "cannot draw the memory view");
}

typedef struct ExportData {
  const attn_trace *t;
  int dark;
} ExportData;

static attn_status draw_export(cairo_t *cr, double width, double height, const void *data) {
  const ExportData *d = data;
  return lens_memory_render(cr, d->t, width, height, d->dark, NULL);
}

attn_status lens_memory_export(const attn_trace *t, const char *path, double scale, int dark, attn_error *err) {
  attn_status st = lens_memory_check(t, err);
  if (st != ATTN_OK) return st;
  double w, h;
  lens_memory_size(t, &w, &h);
  ExportData d = {t, dark};
  return lens_export_drawing(path, w, h, scale, draw_export, &d, err);
}
