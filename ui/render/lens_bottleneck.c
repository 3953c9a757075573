/* The bottleneck view of a translation model without attention (Cho et al. 2014; Sutskever et
 * al. 2014): the source tokens on the left, lines converging into the one fixed vector c that
 * the encoder left behind (a grid of cells coloured by value, with a diverging scale), and
 * lines fanning out from it to every output token. It shows why there is no alignment to draw. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lens_private.h"

static const double PAD = 20, TITLE_GAP = 14, CAP_GAP = 8, ANCHOR_GAP = 8, BAND_W = 150, BAND_MAX_W = 320;
static const double VEC_GAP = 8, BAR_H = 10, TICK_GAP = 3, CAPTION_GAP = 16, TEXT_MIN_W = 360;
static const double VEC_TARGET_H = 256, VEC_MAX_CELL = 18, VEC_MIN_CELL = 0.5;
static const int IMAGE_VALUES = 4096; /* above this, cells are drawn as one image */

/* ColorBrewer's RdBu (11 classes), reversed: negative blue, zero near white, positive red. */
static const unsigned DIVERGING[11] = {0x053061, 0x2166ac, 0x4393c3, 0x92c5de, 0xd1e5f0, 0xf7f7f7,
                                       0xfddbc7, 0xf4a582, 0xd6604d, 0xb2182b, 0x67001f};

typedef struct Column {
  int n;
  LensLabel *l;
  double w, pitch; /* widest label; distance between rows */
  LensLabel cap;
} Column;

typedef struct Bottleneck {
  const attn_trace *t;
  const LensRenderOptions *o;
  LensTheme th;
  LensText *tx;
  Column src, out;
  LensLabel title, vec_cap, lo, mid, hi, range, caption;
  double scale;          /* the colour scale runs -scale .. +scale */
  double vmin, vmax;
  int gcols, grows;      /* the vector as a grid */
  /* placement, natural units */
  double cell, band, src_x, vec_x, vec_y, out_x, top, col_h, vec_h, W, H;
} Bottleneck;

int lens_render_is_bottleneck(const attn_trace *t) {
  return t && t->task == ATTN_TASK_TRANSLATE && t->n_maps == 0 && t->summary && t->summary_dim > 0;
}

int lens_render_has_picture(const attn_trace *t) {
  return t && (t->n_maps > 0 || lens_render_is_bottleneck(t));
}

void lens_diverging_rgb(double t, double rgb[3]) {
  if (!(t > 0)) t = 0; /* also NaN */
  if (t > 1) t = 1;
  double x = t * 10.0;
  int i = (int)floor(x);
  if (i >= 10) i = 9;
  double f = x - i;
  for (int c = 0; c < 3; c++) {
    int shift = 16 - 8 * c;
    double a = ((DIVERGING[i] >> shift) & 0xff) / 255.0, b = ((DIVERGING[i + 1] >> shift) & 0xff) / 255.0;
    rgb[c] = a + f * (b - a);
  }
}

/* ---- measuring ---- */

static int column_open(Column *c, Bottleneck *B, const attn_tokens *seq, const char *cap) {
  LensAxis ax = {0};
  ax.tokens = seq;
  c->n = seq->n;
  c->l = calloc((size_t)(c->n > 0 ? c->n : 1), sizeof *c->l);
  if (!c->l || lens_label_set(&c->cap, B->tx, cap, LENS_FONT_SMALL) != 0) return -1;
  double h = 0;
  for (int i = 0; i < c->n; i++) {
    if (lens_axis_label(&c->l[i], B->tx, &ax, i, 24, B->th.muted) != 0) return -1;
    c->w = fmax(c->w, c->l[i].w);
    h = fmax(h, c->l[i].h);
  }
  c->w = fmax(c->w, c->cap.w);
  c->pitch = ceil(fmax(h + 6, 20));
  return 0;
}

static void column_close(Column *c) {
  for (int i = 0; c->l && i < c->n; i++) lens_label_clear(&c->l[i]);
  free(c->l);
  lens_label_clear(&c->cap);
}

static void value_range(Bottleneck *B) {
  const float *v = B->t->summary;
  B->vmin = B->vmax = v[0];
  for (int i = 1; i < B->t->summary_dim; i++) {
    B->vmin = fmin(B->vmin, v[i]);
    B->vmax = fmax(B->vmax, v[i]);
  }
  B->scale = fmax(fabs(B->vmin), fabs(B->vmax));
  if (!(B->scale > 0) || !isfinite(B->scale)) B->scale = 1.0;
}

/* About twice as tall as wide: 512 values are 16 x 32 cells. */
static void vector_shape(Bottleneck *B) {
  int n = B->t->summary_dim;
  B->gcols = (int)ceil(sqrt(n / 2.0));
  if (B->gcols < 1) B->gcols = 1;
  B->grows = (n + B->gcols - 1) / B->gcols;
  B->cell = fmax(VEC_MIN_CELL, fmin(VEC_MAX_CELL, floor(2 * VEC_TARGET_H / B->grows) / 2));
}

static int set_text(LensLabel *l, Bottleneck *B, LensFont font, const char *fmt, double a, double b) {
  char text[400];
  snprintf(text, sizeof text, fmt, a, b);
  return lens_label_set(l, B->tx, text, font);
}

/* "min −0.650 · max 0.774", with a real minus sign as on the scale. */
static int range_text(Bottleneck *B) {
  char text[120];
  snprintf(text, sizeof text, "min %s%.3f \xc2\xb7 max %s%.3f", B->vmin < 0 ? "\xe2\x88\x92" : "", fabs(B->vmin),
           B->vmax < 0 ? "\xe2\x88\x92" : "", fabs(B->vmax));
  return lens_label_set(&B->range, B->tx, text, LENS_FONT_SMALL);
}

static int bottleneck_measure(Bottleneck *B) {
  const attn_trace *t = B->t;
  char title[300], vec[160], caption[400];
  const char *model = t->model && *t->model ? t->model : "translation";
  if (B->o->title) snprintf(title, sizeof title, "%s", B->o->title);
  else snprintf(title, sizeof title, "%s \xe2\x80\x94 no attention: one fixed vector", model);
  snprintf(vec, sizeof vec, "c: %d numbers", t->summary_dim);
  snprintf(caption, sizeof caption,
           "No attention: every output word was computed from this one vector of %d numbers (the "
           "encoder's final states). A long sentence must fit through it.", t->summary_dim);
  if (lens_label_set(&B->title, B->tx, title, LENS_FONT_TITLE) || lens_label_set(&B->vec_cap, B->tx, vec, LENS_FONT_SMALL) ||
      lens_label_set(&B->caption, B->tx, caption, LENS_FONT_BODY) ||
      column_open(&B->src, B, &t->source, "source") || column_open(&B->out, B, &t->output, "output"))
    return -1;
  if (set_text(&B->lo, B, LENS_FONT_SMALL, "\xe2\x88\x92%.2g", B->scale, 0) ||
      set_text(&B->mid, B, LENS_FONT_SMALL, "0", 0, 0) || set_text(&B->hi, B, LENS_FONT_SMALL, "+%.2g", B->scale, 0) ||
      range_text(B))
    return -1;
  return 0;
}

static void bottleneck_close(Bottleneck *B) {
  column_close(&B->src);
  column_close(&B->out);
  LensLabel *single[] = {&B->title, &B->vec_cap, &B->lo, &B->mid, &B->hi, &B->range, &B->caption};
  for (size_t k = 0; k < sizeof single / sizeof *single; k++) lens_label_clear(single[k]);
  lens_text_free(B->tx);
}

static attn_status bottleneck_open(Bottleneck *B, const attn_trace *t, const LensRenderOptions *o) {
  memset(B, 0, sizeof *B);
  B->t = t;
  B->o = o;
  lens_theme_get(o->dark, &B->th);
  value_range(B);
  vector_shape(B);
  B->tx = lens_text_new(lens_font_pt(o));
  if (!B->tx || bottleneck_measure(B) != 0) {
    bottleneck_close(B);
    return ATTN_E_NOMEM;
  }
  return ATTN_OK;
}

/* ---- placement ---- */

static double legend_h(const Bottleneck *B) {
  return VEC_GAP + BAR_H + TICK_GAP + B->lo.h + 2 + B->range.h;
}

/* The vector's block: caption, cells, colour bar and its labels. */
static double block_w(const Bottleneck *B) {
  return fmax(B->gcols * B->cell, fmax(B->vec_cap.w, fmax(B->range.w, B->lo.w + B->mid.w + B->hi.w + 16)));
}

/* Lays out with cells of size `cell` and bands (the lines' room) of width `band`. */
static void bottleneck_place(Bottleneck *B, double cell, double band) {
  B->cell = cell;
  B->band = band;
  lens_label_wrap(&B->title, 0);
  double bw = block_w(B);
  B->src_x = PAD + B->src.w;              /* the source anchors (labels end here) */
  B->vec_x = ceil(B->src_x + ANCHOR_GAP + band + (bw - B->gcols * cell) / 2);
  B->out_x = B->vec_x + B->gcols * cell + (bw - B->gcols * cell) / 2 + band + ANCHOR_GAP;
  B->vec_h = B->vec_cap.h + VEC_GAP + B->grows * cell + legend_h(B);
  double src_h = B->src.n * B->src.pitch, out_h = B->out.n * B->out.pitch;
  B->col_h = fmax(fmax(src_h, out_h), B->vec_h);
  double right = B->out_x + ANCHOR_GAP + B->out.w;
  lens_label_wrap(&B->caption, fmax(right - PAD, TEXT_MIN_W));
  lens_label_wrap(&B->title, fmax(right - PAD, TEXT_MIN_W));
  B->top = PAD + B->title.h + TITLE_GAP + B->src.cap.h + CAP_GAP;
  B->vec_y = ceil(B->top + B->vec_cap.h + VEC_GAP + (B->col_h - B->vec_h) / 2);
  double bottom = B->top + B->col_h + CAPTION_GAP + B->caption.h;
  B->W = ceil(fmax(right, fmax(PAD + B->title.w, PAD + B->caption.w)) + PAD);
  B->H = ceil(bottom + PAD);
}

/* The y of row i of a column, the column centred in the band's height. */
static double row_y(const Bottleneck *B, const Column *c, int i) {
  return B->top + B->col_h / 2 + (i - (c->n - 1) / 2.0) * c->pitch;
}

attn_status lens_bottleneck_size(const attn_trace *t, const LensRenderOptions *o, double *width, double *height) {
  Bottleneck B;
  attn_status st = bottleneck_open(&B, t, o);
  if (st != ATTN_OK) return st;
  bottleneck_place(&B, B.cell, BAND_W);
  *width = B.W;
  *height = B.H;
  bottleneck_close(&B);
  return ATTN_OK;
}

/* A bigger box: wider bands for the lines and bigger cells (up to twice), same text size. */
static void bottleneck_fit(Bottleneck *B, double width, double height) {
  double cell0 = B->cell;
  bottleneck_place(B, cell0, BAND_W);
  if (width < B->W || height < B->H) return;
  double band = fmin(BAND_MAX_W, BAND_W + floor((width - B->W) / 2));
  for (double c = fmin(2 * cell0, VEC_MAX_CELL * 2); c > cell0; c -= 0.5) {
    bottleneck_place(B, c, band);
    if (B->W <= width + 1e-6 && B->H <= height + 1e-6) return;
  }
  bottleneck_place(B, cell0, band);
}

/* ---- drawing ---- */

static int shown_outputs(const Bottleneck *B) {
  int r = B->o->reveal_rows;
  return r > 0 && r < B->out.n ? r : B->out.n;
}

static void value_rgb(const Bottleneck *B, int k, double rgb[3]) {
  lens_diverging_rgb(0.5 + 0.5 * B->t->summary[k] / B->scale, rgb);
}

static void draw_cells_vector(cairo_t *cr, const Bottleneck *B) {
  double s = B->cell, inset = s >= 5 ? 0.5 : 0.0, rgb[3];
  for (int k = 0; k < B->t->summary_dim; k++) {
    value_rgb(B, k, rgb);
    lens_set_rgb(cr, rgb, 1.0);
    cairo_rectangle(cr, B->vec_x + (k % B->gcols) * s + inset, B->vec_y + (k / B->gcols) * s + inset, s - 2 * inset,
                    s - 2 * inset);
    cairo_fill(cr);
  }
}

/* Many values: one pixel each, scaled up without smoothing. */
static void draw_cells_image(cairo_t *cr, const Bottleneck *B) {
  cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, B->gcols, B->grows);
  if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(img);
    return;
  }
  cairo_surface_flush(img);
  unsigned char *data = cairo_image_surface_get_data(img);
  int stride = cairo_image_surface_get_stride(img);
  double rgb[3];
  for (int k = 0; k < B->gcols * B->grows; k++) {
    uint32_t *px = (uint32_t *)(void *)(data + (size_t)(k / B->gcols) * stride) + k % B->gcols;
    if (k < B->t->summary_dim) value_rgb(B, k, rgb);
    else rgb[0] = B->th.bg[0], rgb[1] = B->th.bg[1], rgb[2] = B->th.bg[2];
    *px = (uint32_t)lround(rgb[0] * 255) << 16 | (uint32_t)lround(rgb[1] * 255) << 8 | (uint32_t)lround(rgb[2] * 255);
  }
  cairo_surface_mark_dirty(img);
  cairo_save(cr);
  cairo_translate(cr, B->vec_x, B->vec_y);
  cairo_scale(cr, B->cell, B->cell);
  cairo_set_source_surface(cr, img, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_rectangle(cr, 0, 0, B->gcols, B->grows);
  cairo_fill(cr);
  cairo_restore(cr);
  cairo_surface_destroy(img);
}

static void draw_vector(cairo_t *cr, const Bottleneck *B) {
  double gw = B->gcols * B->cell, gh = B->grows * B->cell;
  lens_set_rgb(cr, B->th.rule, 1.0); /* hairlines between cells, and near-zero cells stand out */
  cairo_rectangle(cr, B->vec_x - 1, B->vec_y - 1, gw + 2, gh + 2);
  cairo_fill(cr);
  if (B->t->summary_dim > IMAGE_VALUES) draw_cells_image(cr, B);
  else draw_cells_vector(cr, B);
}

static void draw_legend(cairo_t *cr, const Bottleneck *B, int text) {
  double bw = block_w(B), x0 = B->vec_x + B->gcols * B->cell / 2 - bw / 2;
  double y = B->vec_y + B->grows * B->cell + VEC_GAP, rgb[3];
  cairo_pattern_t *p = cairo_pattern_create_linear(x0, 0, x0 + bw, 0);
  for (int k = 0; k <= 40; k++) {
    lens_diverging_rgb(k / 40.0, rgb);
    cairo_pattern_add_color_stop_rgb(p, k / 40.0, rgb[0], rgb[1], rgb[2]);
  }
  cairo_set_source(cr, p);
  cairo_rectangle(cr, x0, y, bw, BAR_H);
  cairo_fill(cr);
  cairo_pattern_destroy(p);
  lens_set_rgb(cr, B->th.rule, 1.0);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, x0 + 0.5, y + 0.5, bw - 1, BAR_H - 1);
  cairo_stroke(cr);
  if (!text) return;
  double ly = y + BAR_H + TICK_GAP;
  lens_label_draw(cr, &B->lo, x0, ly, 0, B->th.muted);
  lens_label_draw(cr, &B->mid, x0 + bw / 2 - B->mid.w / 2, ly, 0, B->th.muted);
  lens_label_draw(cr, &B->hi, x0 + bw - B->hi.w, ly, 0, B->th.muted);
  lens_label_draw(cr, &B->range, x0 + bw / 2 - B->range.w / 2, ly + B->lo.h + 2, 0, B->th.muted);
}

/* One curve from a token's anchor to the middle of the vector's near edge. */
static void draw_curve(cairo_t *cr, double x0, double y0, double x1, double y1, const double rgb[3], double alpha,
                       double width) {
  double d = (x1 - x0) / 2;
  cairo_move_to(cr, x0, y0);
  cairo_curve_to(cr, x0 + d, y0, x1 - d, y1, x1, y1);
  lens_set_rgb(cr, rgb, alpha);
  cairo_set_line_width(cr, width);
  cairo_stroke(cr);
}

static void draw_lines(cairo_t *cr, const Bottleneck *B) {
  double mid = B->vec_y + B->grows * B->cell / 2, left = B->vec_x - 1, right = B->vec_x + B->gcols * B->cell + 1;
  int hr = B->o->highlight_row, hc = B->o->highlight_col;
  int lit = (hr >= 0 && hr < shown_outputs(B)) || (hc >= 0 && hc < B->src.n);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  for (int pass = 0; pass < 2; pass++) /* faded lines first, lit ones on top */
    for (int side = 0; side < 2; side++) {
      const Column *c = side ? &B->out : &B->src;
      int n = side ? shown_outputs(B) : c->n, h = side ? hr : hc;
      for (int i = 0; i < n; i++) {
        int on = lit && i == h;
        if (on != pass) continue;
        double alpha = on ? 0.95 : lit ? 0.12 : 0.45;
        if (side) draw_curve(cr, right, mid, B->out_x, row_y(B, c, i), B->th.line, alpha, on ? 2.5 : 1.25);
        else draw_curve(cr, B->src_x + ANCHOR_GAP, row_y(B, c, i), left, mid, B->th.line, alpha, on ? 2.5 : 1.25);
      }
    }
}

static void draw_column(cairo_t *cr, const Bottleneck *B, const Column *c, int right_side, LensLayout *layout, int text) {
  int n = right_side ? shown_outputs(B) : c->n, h = right_side ? B->o->highlight_row : B->o->highlight_col;
  int lit = (B->o->highlight_row >= 0 && B->o->highlight_row < shown_outputs(B)) ||
            (B->o->highlight_col >= 0 && B->o->highlight_col < B->src.n);
  for (int i = 0; i < n; i++) {
    const LensLabel *l = &c->l[i];
    double y = row_y(B, c, i), x = right_side ? B->out_x + ANCHOR_GAP : B->src_x - l->w, ax = right_side ? B->out_x : B->src_x + ANCHOR_GAP;
    LensRect box = {x, y - l->h / 2, l->w, l->h};
    if (text && i == h) lens_draw_pill(cr, &B->th, box);
    if (text) lens_label_draw(cr, l, x, y - l->h / 2, 0, lit && i != h ? B->th.muted : B->th.fg);
    cairo_new_sub_path(cr);
    cairo_arc(cr, ax, y, 2.25, 0, 2 * M_PI);
    lens_set_rgb(cr, B->th.muted, 1.0);
    cairo_fill(cr);
    if (!layout || i >= LENS_LAYOUT_MAX_LABELS) continue;
    LensRect ink = lens_label_ink(l, x, y - l->h / 2, 0);
    if (right_side) {
      layout->row_labels[layout->n_row_labels++] = ink;
      layout->query_x[i] = ax;
    } else {
      layout->col_labels[layout->n_col_labels++] = ink;
      layout->key_x[i] = ax;
    }
  }
}

static void draw_texts(cairo_t *cr, const Bottleneck *B) {
  lens_label_draw(cr, &B->title, PAD, PAD, 0, B->th.fg);
  double cap_y = B->top - CAP_GAP - B->src.cap.h;
  lens_label_draw(cr, &B->src.cap, B->src_x - B->src.cap.w, cap_y, 0, B->th.muted);
  lens_label_draw(cr, &B->out.cap, B->out_x + ANCHOR_GAP, cap_y, 0, B->th.muted);
  double vc = B->vec_x + B->gcols * B->cell / 2;
  lens_label_draw(cr, &B->vec_cap, vc - B->vec_cap.w / 2, B->vec_y - VEC_GAP - B->vec_cap.h, 0, B->th.fg);
  lens_label_draw(cr, &B->caption, PAD, B->top + B->col_h + CAPTION_GAP, 0, B->th.muted);
}

static void bottleneck_paint(cairo_t *cr, const Bottleneck *B, LensLayout *layout, int text) {
  draw_lines(cr, B);
  draw_vector(cr, B);
  draw_legend(cr, B, text);
  draw_column(cr, B, &B->src, 0, layout, text);
  draw_column(cr, B, &B->out, 1, layout, text);
  if (text) draw_texts(cr, B);
}

attn_status lens_bottleneck_draw(cairo_t *cr, const attn_trace *t, const LensRenderOptions *o, double width,
                                 double height, LensLayout *layout) {
  Bottleneck B;
  attn_status st = bottleneck_open(&B, t, o);
  if (st != ATTN_OK) return st;
  bottleneck_fit(&B, width, height);
  LensFit fit;
  lens_fit_begin(cr, B.tx, B.W, B.H, width, height, &fit);
  bottleneck_paint(cr, &B, layout, fit.text);
  cairo_restore(cr);
  if (layout) {
    layout->view = LENS_VIEW_BOTTLENECK;
    layout->rows = shown_outputs(&B);
    layout->cols = B.src.n;
    layout->grid = (LensRect){B.vec_x, B.vec_y, B.gcols * B.cell, B.grows * B.cell};
    layout->cell_w = layout->cell_h = B.cell;
    layout->vec_cols = B.gcols;
    layout->vec_n = t->summary_dim;
    lens_layout_transform(layout, fit.k, fit.ox, fit.oy);
  }
  bottleneck_close(&B);
  return ATTN_OK;
}

int lens_layout_hit_vector(const LensLayout *layout, double x, double y, int *index) {
  const LensRect *g = &layout->grid;
  if (layout->view != LENS_VIEW_BOTTLENECK || layout->vec_cols <= 0 || !(layout->cell_w > 0)) return 0;
  if (x < g->x || y < g->y || x >= g->x + g->w || y >= g->y + g->h) return 0;
  int c = (int)floor((x - g->x) / layout->cell_w), r = (int)floor((y - g->y) / layout->cell_h);
  long long k = (long long)r * layout->vec_cols + c;
  if (c < 0 || c >= layout->vec_cols || r < 0 || k >= layout->vec_n) return 0;
  *index = (int)k;
  return 1;
}
