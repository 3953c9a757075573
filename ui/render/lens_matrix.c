/* The matrix view: an alignment heatmap with keys along the top, queries down the left,
 * optional cell values, a highlighted row or column and a colour bar with its scale. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lens_private.h"

enum { MAX_TICKS = 16 };
static const double PAD = 20, TITLE_GAP = 14, CAP_GAP = 6, LABEL_GAP = 8, PROB_GAP = 12;
static const double TITLE_MIN_W = 320, CB_GAP = 24, CB_W = 14, TICK = 4, CB_MIN_H = 100, GROW_MAX_CELL = 96;
static const double DIM = 0.35; /* how far cells outside the highlight fade to the background */
static const long long IMAGE_CELLS = 40000; /* above this, cells are drawn as one image */

typedef struct Matrix {
  const attn_map *m;
  const LensRenderOptions *o;
  LensTheme th;
  LensText *tx;
  LensAxis rax, cax;
  double vmax;
  LensLabel *rl, *cl, *pl; /* row, column and probability labels (pl may be NULL) */
  LensLabel title, xcap, ycap, pcap, cbcap;
  LensLabel tick[MAX_TICKS];
  double tick_v[MAX_TICKS];
  int n_ticks, top_tick; /* top_tick: the last tick marks vmax itself */
  double row_w, row_h, col_w, col_h, prob_w, tick_w, min_cell;
  /* placement for cell size s, in natural units */
  double s, head, gx, gy, xcap_x, ycap_y, cbx, cbh, W, H;
  int rotate;
} Matrix;

/* ---- measuring ---- */

static int axis_labels(LensLabel **out, int n, Matrix *M, const LensAxis *ax, double *w,
                       double *h) {
  *out = calloc((size_t)n, sizeof **out);
  if (!*out) return -1;
  for (int i = 0; i < n; i++) {
    if (lens_axis_label(&(*out)[i], M->tx, ax, i, 24, M->th.muted) != 0) return -1;
    *w = fmax(*w, (*out)[i].w);
    *h = fmax(*h, (*out)[i].h);
  }
  return 0;
}

static int prob_labels(Matrix *M, const attn_trace *t) {
  if (M->rax.tokens != &t->output || !t->output.probs || t->output.n < M->m->rows) return 0;
  M->pl = calloc((size_t)M->m->rows, sizeof *M->pl);
  if (!M->pl || lens_label_set(&M->pcap, M->tx, "prob", LENS_FONT_SMALL) != 0) return -1;
  M->prob_w = M->pcap.w;
  for (int i = 0; i < M->m->rows; i++) {
    char num[32];
    snprintf(num, sizeof num, "%.2f", (double)t->output.probs[i]);
    if (lens_label_set(&M->pl[i], M->tx, num, LENS_FONT_SMALL) != 0) return -1;
    M->prob_w = fmax(M->prob_w, M->pl[i].w);
  }
  return 0;
}

/* Tick values 0, step, 2 step, ... <= vmax, with a "nice" step giving at most 5 intervals. */
static double tick_step(double vmax, int *decimals) {
  static const double mant[4] = {1, 2, 2.5, 5};
  double p = pow(10.0, floor(log10(vmax / 5)));
  for (int k = 0;; k = (k + 1) % 4) {
    double step = mant[k] * p;
    *decimals = (int)fmax(0, -floor(log10(step) + 1e-9) + (k == 2));
    if (vmax / step <= 5.0 + 1e-9) return step;
    if (k == 3) p *= 10;
  }
}

static int tick_labels(Matrix *M) {
  int dec;
  double step = tick_step(M->vmax, &dec);
  char text[48];
  for (int k = 0; k < MAX_TICKS - 1 && k * step <= M->vmax * (1 + 1e-9); k++) {
    M->tick_v[M->n_ticks] = k * step;
    snprintf(text, sizeof text, "%.*f", k ? dec : 0, k * step);
    if (lens_label_set(&M->tick[M->n_ticks++], M->tx, text, LENS_FONT_SMALL) != 0) return -1;
  }
  double last = M->tick_v[M->n_ticks - 1];
  if (M->vmax - last > 1e-6 * M->vmax || M->o->vmax <= 0) {
    if (M->vmax - last <= 1e-6 * M->vmax) lens_label_clear(&M->tick[--M->n_ticks]);
    snprintf(text, sizeof text, M->o->vmax > 0 ? "%.3g" : "%.2f max", M->vmax);
    M->tick_v[M->n_ticks] = M->vmax;
    M->top_tick = 1;
    if (lens_label_set(&M->tick[M->n_ticks++], M->tx, text, LENS_FONT_SMALL) != 0) return -1;
  }
  for (int k = 0; k < M->n_ticks; k++) M->tick_w = fmax(M->tick_w, M->tick[k].w);
  return 0;
}

/* The top tick says "max" when the scale is the map's own maximum. */
static int legend_labels(Matrix *M) {
  const char *cap = M->o->vmax > 0 ? "attention weight (fixed scale)" : "attention weight";
  if (lens_label_set(&M->cbcap, M->tx, cap, LENS_FONT_SMALL) != 0) return -1;
  return tick_labels(M);
}

static int value_width(Matrix *M, double *w) {
  LensLabel v;
  if (lens_label_set(&v, M->tx, ".00", LENS_FONT_SMALL) != 0) return -1;
  *w = v.w;
  lens_label_clear(&v);
  return 0;
}

static int matrix_measure(Matrix *M, const attn_trace *t) {
  char *title = lens_title_text(t, M->m, M->o);
  int bad = !title || lens_label_set(&M->title, M->tx, title, LENS_FONT_TITLE) != 0;
  free(title);
  if (bad) return -1;
  if (lens_label_set(&M->xcap, M->tx, M->cax.title ? M->cax.title : "keys", LENS_FONT_SMALL) ||
      lens_label_set(&M->ycap, M->tx, M->rax.title ? M->rax.title : "queries", LENS_FONT_SMALL))
    return -1;
  if (axis_labels(&M->rl, M->m->rows, M, &M->rax, &M->row_w, &M->row_h) ||
      axis_labels(&M->cl, M->m->cols, M, &M->cax, &M->col_w, &M->col_h) || prob_labels(M, t))
    return -1;
  if (M->o->show_colorbar && legend_labels(M) != 0) return -1;
  double vw = 0;
  if (M->o->show_values && value_width(M, &vw) != 0) return -1;
  M->min_cell = ceil(fmax(fmax(LENS_MIN_CELL, vw + 6), fmax(M->row_h, M->col_h) + 2));
  return 0;
}

static void matrix_close(Matrix *M) {
  for (int i = 0; M->rl && i < M->m->rows; i++) lens_label_clear(&M->rl[i]);
  for (int j = 0; M->cl && j < M->m->cols; j++) lens_label_clear(&M->cl[j]);
  for (int i = 0; M->pl && i < M->m->rows; i++) lens_label_clear(&M->pl[i]);
  free(M->rl);
  free(M->cl);
  free(M->pl);
  LensLabel *single[] = {&M->title, &M->xcap, &M->ycap, &M->pcap, &M->cbcap};
  for (size_t k = 0; k < sizeof single / sizeof *single; k++) lens_label_clear(single[k]);
  for (int k = 0; k < M->n_ticks; k++) lens_label_clear(&M->tick[k]);
  lens_text_free(M->tx);
}

static attn_status matrix_open(Matrix *M, const attn_trace *t, const attn_map *m,
                               const LensRenderOptions *o) {
  memset(M, 0, sizeof *M);
  M->m = m;
  M->o = o;
  lens_theme_get(o->dark, &M->th);
  lens_map_axes(t, m, &M->rax, &M->cax);
  M->vmax = lens_scale_top(m, o);
  M->tx = lens_text_new(lens_font_pt(o));
  if (!M->tx || matrix_measure(M, t) != 0) {
    matrix_close(M);
    return ATTN_E_NOMEM;
  }
  return ATTN_OK;
}

/* ---- placement ---- */

static double colorbar_right(const Matrix *M, double cbx) {
  return cbx + CB_W + TICK + 4 + M->tick_w + 10 + M->cbcap.h;
}

/* Lays everything out around a grid of s x s cells; sets the natural size W x H. */
static void matrix_place(Matrix *M, double s) {
  double gw = M->m->cols * s, gh = M->m->rows * s;
  M->s = s;
  M->rotate = M->col_w > s - 4;
  M->head = M->rotate ? M->col_w : M->col_h;
  double left = PAD + M->ycap.h + CAP_GAP + (M->pl ? M->prob_w + PROB_GAP : 0) + M->row_w;
  M->gx = ceil(left + LABEL_GAP);
  M->xcap_x = M->gx + fmax(0, (gw - M->xcap.w) / 2);
  double right = fmax(M->gx + gw, M->xcap_x + M->xcap.w);
  if (M->o->show_colorbar) {
    M->cbx = right + CB_GAP;
    right = colorbar_right(M, M->cbx);
  }
  lens_label_wrap(&M->title, fmax(right - PAD, TITLE_MIN_W));
  M->gy = ceil(PAD + M->title.h + TITLE_GAP + M->xcap.h + CAP_GAP + M->head + LABEL_GAP);
  M->ycap_y = fmax(M->gy + gh / 2 + M->ycap.w / 2, M->gy + M->ycap.w);
  double bottom = fmax(M->gy + gh, M->ycap_y);
  M->cbh = fmax(gh, fmax(CB_MIN_H, M->cbcap.w + 8));
  if (M->o->show_colorbar) bottom = fmax(bottom, M->gy + M->cbh);
  M->W = ceil(fmax(right, PAD + M->title.w) + PAD);
  M->H = ceil(bottom + PAD);
}

/* The biggest cells (whole units, up to GROW_MAX_CELL) with which the picture fits the box;
 * 0 if even the smallest does not fit. */
static double matrix_grow(Matrix *M, double width, double height) {
  for (double s = fmax(M->min_cell, GROW_MAX_CELL); s >= M->min_cell; s -= 1) {
    matrix_place(M, s);
    if (M->W <= width + 1e-6 && M->H <= height + 1e-6) return s;
  }
  return 0;
}

attn_status lens_matrix_size(const attn_trace *t, const attn_map *m, const LensRenderOptions *o,
                             double *width, double *height) {
  Matrix M;
  attn_status st = matrix_open(&M, t, m, o);
  if (st != ATTN_OK) return st;
  matrix_place(&M, M.min_cell);
  *width = M.W;
  *height = M.H;
  matrix_close(&M);
  return ATTN_OK;
}

/* ---- drawing ---- */

/* Rows drawn: all, or the outputs so far when stepping through decoding. */
static int shown_rows(const Matrix *M) {
  int r = M->o->reveal_rows;
  return r > 0 && r < M->m->rows ? r : M->m->rows;
}

static void cell_rgb(const Matrix *M, int i, int j, double rgb[3]) {
  double w = M->m->weights[(size_t)i * M->m->cols + j];
  lens_colormap_rgb(M->o->colormap, w / M->vmax, rgb);
}

/* Each cell is inset by half a unit, so a hairline of background separates cells. */
static void draw_cells_vector(cairo_t *cr, const Matrix *M) {
  double s = M->s, inset = s >= 8 ? 0.5 : 0.0, rgb[3];
  for (int i = 0; i < shown_rows(M); i++)
    for (int j = 0; j < M->m->cols; j++) {
      cell_rgb(M, i, j, rgb);
      lens_set_rgb(cr, rgb, 1.0);
      cairo_rectangle(cr, M->gx + j * s + inset, M->gy + i * s + inset, s - 2 * inset,
                      s - 2 * inset);
      cairo_fill(cr);
    }
}

/* One pixel per cell, or NULL when cairo cannot make an image that big. */
static cairo_surface_t *cells_image(const Matrix *M) {
  cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, M->m->cols, M->m->rows);
  if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(img);
    return NULL;
  }
  cairo_surface_flush(img);
  unsigned char *data = cairo_image_surface_get_data(img);
  int stride = cairo_image_surface_get_stride(img);
  double rgb[3];
  for (int i = 0; i < M->m->rows; i++) {
    uint32_t *px = (uint32_t *)(void *)(data + (size_t)i * stride);
    for (int j = 0; j < M->m->cols; j++) {
      cell_rgb(M, i, j, rgb);
      px[j] = (uint32_t)lround(rgb[0] * 255) << 16 | (uint32_t)lround(rgb[1] * 255) << 8 |
              (uint32_t)lround(rgb[2] * 255);
    }
  }
  cairo_surface_mark_dirty(img);
  return img;
}

/* Big maps: the image scaled up without smoothing (thousands of rectangles are slow). */
static void draw_cells_image(cairo_t *cr, const Matrix *M) {
  cairo_surface_t *img = cells_image(M);
  if (!img) return;
  cairo_save(cr);
  cairo_translate(cr, M->gx, M->gy);
  cairo_scale(cr, M->s, M->s);
  cairo_set_source_surface(cr, img, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_rectangle(cr, 0, 0, M->m->cols, M->m->rows);
  cairo_fill(cr);
  cairo_restore(cr);
  cairo_surface_destroy(img);
  if (shown_rows(M) < M->m->rows) { /* the rows not reached yet */
    lens_set_rgb(cr, M->th.bg, 1.0);
    cairo_rectangle(cr, M->gx, M->gy + shown_rows(M) * M->s, M->m->cols * M->s, (M->m->rows - shown_rows(M)) * M->s);
    cairo_fill(cr);
  }
}

/* Black or white, whichever contrasts more with the cell (WCAG relative luminance). */
static void value_rgb(const double cell[3], double out[3]) {
  double lum = 0;
  static const double wgt[3] = {0.2126, 0.7152, 0.0722};
  for (int c = 0; c < 3; c++) {
    double v = cell[c] <= 0.04045 ? cell[c] / 12.92 : pow((cell[c] + 0.055) / 1.055, 2.4);
    lum += wgt[c] * v;
  }
  double g = (lum + 0.05) / 0.05 > 1.05 / (lum + 0.05) ? 0.07 : 1.0;
  out[0] = out[1] = out[2] = g;
}

static int row_lit(const Matrix *M, int i) { return i == M->o->highlight_row; }
static int col_lit(const Matrix *M, int j) { return j == M->o->highlight_col; }
static int any_lit(const Matrix *M) {
  return (M->o->highlight_row >= 0 && M->o->highlight_row < M->m->rows) ||
         (M->o->highlight_col >= 0 && M->o->highlight_col < M->m->cols);
}

/* Dims the cells outside the highlighted row and column, then outlines those. */
static void draw_highlight(cairo_t *cr, const Matrix *M) {
  double s = M->s, gw = M->m->cols * s, gh = shown_rows(M) * s;
  lens_set_rgb(cr, M->th.bg, DIM);
  for (int i = 0; i < shown_rows(M); i++)
    for (int j = 0; j < M->m->cols; j++)
      if (!row_lit(M, i) && !col_lit(M, j)) cairo_rectangle(cr, M->gx + j * s, M->gy + i * s, s, s);
  cairo_fill(cr);
  int r = M->o->highlight_row, c = M->o->highlight_col;
  if (r >= 0 && r < M->m->rows) cairo_rectangle(cr, M->gx - 1, M->gy + r * s - 1, gw + 2, s + 2);
  if (c >= 0 && c < M->m->cols) cairo_rectangle(cr, M->gx + c * s - 1, M->gy - 1, s + 2, gh + 2);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER);
  lens_set_rgb(cr, M->th.halo, 1.0);
  cairo_set_line_width(cr, 4.5);
  cairo_stroke_preserve(cr);
  lens_set_rgb(cr, M->th.fg, 1.0);
  cairo_set_line_width(cr, 2.0);
  cairo_stroke(cr);
}

static void draw_values(cairo_t *cr, Matrix *M) {
  double rgb[3], ink[3];
  char text[32];
  for (int i = 0; i < shown_rows(M); i++)
    for (int j = 0; j < M->m->cols; j++) {
      double w = M->m->weights[(size_t)i * M->m->cols + j];
      snprintf(text, sizeof text, "%.2f", w);
      if (strcmp(text, "0.00") == 0 || strcmp(text, "-0.00") == 0) continue; /* clutter */
      LensLabel l;
      if (lens_label_set(&l, M->tx, strncmp(text, "0.", 2) == 0 ? text + 1 : text,
                         LENS_FONT_SMALL) != 0)
        return;
      cell_rgb(M, i, j, rgb);
      if (any_lit(M) && !row_lit(M, i) && !col_lit(M, j))
        for (int c = 0; c < 3; c++) rgb[c] += DIM * (M->th.bg[c] - rgb[c]);
      value_rgb(rgb, ink);
      lens_label_draw(cr, &l, M->gx + (j + 0.5) * M->s - l.w / 2,
                      M->gy + (i + 0.5) * M->s - l.h / 2, 0, ink);
      lens_label_clear(&l);
    }
}

static void row_label_at(const Matrix *M, int i, double *x, double *y) {
  *x = M->gx - LABEL_GAP - M->rl[i].w;
  *y = M->gy + (i + 0.5) * M->s - M->rl[i].h / 2;
}

static void col_label_at(const Matrix *M, int j, double *x, double *y) {
  const LensLabel *l = &M->cl[j];
  *x = M->gx + (j + 0.5) * M->s - (M->rotate ? l->h : l->w) / 2;
  *y = M->rotate ? M->gy - LABEL_GAP : M->gy - LABEL_GAP - l->h;
}

static void draw_row_labels(cairo_t *cr, const Matrix *M, LensLayout *layout, int text) {
  int lit = any_lit(M);
  for (int i = 0; i < shown_rows(M); i++) {
    double x, y;
    row_label_at(M, i, &x, &y);
    LensRect ink = lens_label_ink(&M->rl[i], x, y, 0);
    if (text && row_lit(M, i)) lens_draw_pill(cr, &M->th, (LensRect){x, y, M->rl[i].w, M->rl[i].h});
    if (text) lens_label_draw(cr, &M->rl[i], x, y, 0, lit && !row_lit(M, i) ? M->th.muted : M->th.fg);
    if (layout && i < LENS_LAYOUT_MAX_LABELS) layout->row_labels[layout->n_row_labels++] = ink;
  }
}

static void draw_col_labels(cairo_t *cr, const Matrix *M, LensLayout *layout, int text) {
  int lit = any_lit(M);
  for (int j = 0; j < M->m->cols; j++) {
    const LensLabel *l = &M->cl[j];
    double x, y;
    col_label_at(M, j, &x, &y);
    LensRect ink = lens_label_ink(l, x, y, M->rotate);
    LensRect box = M->rotate ? (LensRect){x, y - l->w, l->h, l->w} : (LensRect){x, y, l->w, l->h};
    if (text && col_lit(M, j)) lens_draw_pill(cr, &M->th, box);
    if (text) lens_label_draw(cr, l, x, y, M->rotate, lit && !col_lit(M, j) ? M->th.muted : M->th.fg);
    if (layout && j < LENS_LAYOUT_MAX_LABELS) layout->col_labels[layout->n_col_labels++] = ink;
  }
}

static void draw_probs(cairo_t *cr, const Matrix *M) {
  double right = PAD + M->ycap.h + CAP_GAP + M->prob_w;
  lens_label_draw(cr, &M->pcap, right - M->pcap.w, M->gy - LABEL_GAP - M->pcap.h, 0, M->th.muted);
  for (int i = 0; i < shown_rows(M); i++) {
    const LensLabel *l = &M->pl[i];
    lens_label_draw(cr, l, right - l->w, M->gy + (i + 0.5) * M->s - l->h / 2, 0, M->th.muted);
  }
}

static void draw_captions(cairo_t *cr, const Matrix *M) {
  lens_label_draw(cr, &M->title, PAD, PAD, 0, M->th.fg);
  lens_label_draw(cr, &M->xcap, M->xcap_x, PAD + M->title.h + TITLE_GAP, 0, M->th.muted);
  lens_label_draw(cr, &M->ycap, PAD, M->ycap_y, 1, M->th.muted);
}

static cairo_pattern_t *colorbar_gradient(const Matrix *M) {
  cairo_pattern_t *p = cairo_pattern_create_linear(0, M->gy + M->cbh, 0, M->gy);
  double rgb[3];
  for (int k = 0; k <= 255; k++) {
    lens_colormap_rgb(M->o->colormap, k / 255.0, rgb);
    cairo_pattern_add_color_stop_rgb(p, k / 255.0, rgb[0], rgb[1], rgb[2]);
  }
  return p;
}

/* Ticks whose labels would collide with the top "max" label are left out. */
static void draw_ticks(cairo_t *cr, const Matrix *M) {
  double x0 = M->cbx + CB_W, top_y = M->gy;
  for (int k = 0; k < M->n_ticks; k++) {
    const LensLabel *l = &M->tick[k];
    double y = M->gy + M->cbh * (1 - M->tick_v[k] / M->vmax);
    int last = k == M->n_ticks - 1;
    if (M->top_tick && !last && y - top_y < l->h) continue;
    lens_set_rgb(cr, M->th.muted, 1.0);
    cairo_rectangle(cr, x0, round(y) - 0.5, TICK, 1);
    cairo_fill(cr);
    lens_label_draw(cr, l, x0 + TICK + 4, y - l->h / 2, 0, last && M->top_tick ? M->th.fg : M->th.muted);
  }
}

static void draw_colorbar(cairo_t *cr, const Matrix *M, LensLayout *layout) {
  cairo_pattern_t *p = colorbar_gradient(M);
  cairo_set_source(cr, p);
  cairo_rectangle(cr, M->cbx, M->gy, CB_W, M->cbh);
  cairo_fill(cr);
  cairo_pattern_destroy(p);
  lens_set_rgb(cr, M->th.rule, 1.0);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, M->cbx + 0.5, M->gy + 0.5, CB_W - 1, M->cbh - 1);
  cairo_stroke(cr);
  draw_ticks(cr, M);
  double cx = colorbar_right(M, M->cbx) - M->cbcap.h;
  lens_label_draw(cr, &M->cbcap, cx, M->gy + M->cbh / 2 + M->cbcap.w / 2, 1, M->th.muted);
  if (layout) layout->colorbar = (LensRect){M->cbx, M->gy, CB_W, M->cbh};
}

static void matrix_paint(cairo_t *cr, Matrix *M, LensLayout *layout, int text) {
  if (text) draw_captions(cr, M);
  if (text && M->pl) draw_probs(cr, M);
  draw_row_labels(cr, M, layout, text);
  draw_col_labels(cr, M, layout, text);
  if ((long long)M->m->rows * M->m->cols > IMAGE_CELLS) draw_cells_image(cr, M);
  else draw_cells_vector(cr, M);
  if (any_lit(M)) draw_highlight(cr, M);
  if (M->o->show_values && text) draw_values(cr, M);
  if (M->o->show_colorbar) draw_colorbar(cr, M, layout);
}

attn_status lens_matrix_draw(cairo_t *cr, const attn_trace *t, const attn_map *m,
                             const LensRenderOptions *o, double width, double height,
                             LensLayout *layout) {
  Matrix M;
  attn_status st = matrix_open(&M, t, m, o);
  if (st != ATTN_OK) return st;
  if (matrix_grow(&M, width, height) == 0) matrix_place(&M, M.min_cell);
  LensFit fit;
  lens_fit_begin(cr, M.tx, M.W, M.H, width, height, &fit);
  matrix_paint(cr, &M, layout, fit.text);
  if (layout) {
    layout->grid = (LensRect){M.gx, M.gy, m->cols * M.s, m->rows * M.s};
    layout->cell_w = layout->cell_h = M.s;
  }
  lens_fit_end(cr, &fit, layout, m);
  if (layout) layout->rows = shown_rows(&M); /* rows not reached yet answer no hover */
  matrix_close(&M);
  return ATTN_OK;
}
