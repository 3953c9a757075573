/* The overlay view of a caption trace (the image under one word's attention, upsampled smoothly
 * from the grid, as in Xu et al.'s figures) and the storyboard (one small overlay per word, with
 * beta: how much that word looked at the image at all). */
#include "lens_overlay.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double PAD = 20, TITLE_GAP = 12, IMG_SIDE = 320, CB_GAP = 16, CB_W = 14, TICK_GAP = 6;
static const double WORDS_GAP = 14, WORD_GAP = 10, LINE_GAP = 8, BAR_GAP = 3, BAR_H = 3, WORDS_MIN_W = 360;
static const double THUMB = 128, THUMB_GAP = 14, LABEL_GAP = 4;
static const double MAX_GROW = 4;
static const int BOARD_COLS = 5, HEAT_MAX_PX = 1024;

typedef struct Overlay {
  const attn_trace *t;
  const attn_map *m;
  const LensRenderOptions *o;
  LensTheme th;
  LensText *tx;
  int n;                  /* words (map rows) */
  int board;              /* storyboard, else overlay */
  LensLabel title, top, zero, image_label;
  LensLabel *word, *beta; /* per word; beta only in the storyboard */
  double *wx, *wy;        /* overlay: word label origins relative to the words block */
  double img_w, img_h;    /* the image box (overlay) or a thumbnail (storyboard) */
  double words_w, words_h, cb_w, cell_h, W, H;
  int cols, rows;         /* storyboard grid */
  double grow;            /* image boxes at this multiple of their natural size (>= 1) */
} Overlay;

/* ---- the heat map ---- */

static double cubic(double x) { /* Catmull-Rom (a = -0.5) */
  x = fabs(x);
  if (x < 1) return 1.5 * x * x * x - 2.5 * x * x + 1;
  if (x < 2) return -0.5 * x * x * x + 2.5 * x * x - 4 * x + 2;
  return 0;
}

static double cell(const float *w, int gr, int gc, int r, int c) {
  r = r < 0 ? 0 : r >= gr ? gr - 1 : r;
  c = c < 0 ? 0 : c >= gc ? gc - 1 : c;
  return w[(size_t)r * gc + c];
}

/* The grid value at (u, v) in cell units, cell centres at integer + 0.5. */
static double sample(const float *w, int gr, int gc, double u, double v, LensUpsample up) {
  if (up == LENS_UPSAMPLE_NEAREST) return cell(w, gr, gc, (int)floor(v), (int)floor(u));
  double x = u - 0.5, y = v - 0.5;
  int c0 = (int)floor(x), r0 = (int)floor(y);
  double fx = x - c0, fy = y - r0;
  if (up == LENS_UPSAMPLE_BILINEAR)
    return (1 - fy) * ((1 - fx) * cell(w, gr, gc, r0, c0) + fx * cell(w, gr, gc, r0, c0 + 1)) +
           fy * ((1 - fx) * cell(w, gr, gc, r0 + 1, c0) + fx * cell(w, gr, gc, r0 + 1, c0 + 1));
  double s = 0;
  for (int dr = -1; dr <= 2; dr++)
    for (int dc = -1; dc <= 2; dc++) s += cubic(fy - dr) * cubic(fx - dc) * cell(w, gr, gc, r0 + dr, c0 + dc);
  return s;
}

/* Gaussian blur of the n samples p[0], p[step], ... in place (edges repeat the last sample);
 * k holds 2 * rad + 1 weights summing to 1, line n floats of scratch. */
static void blur_line(float *p, size_t step, int n, const float *k, int rad, float *line) {
  for (int i = 0; i < n; i++) line[i] = p[i * step];
  for (int i = 0; i < n; i++) {
    double s = 0;
    for (int j = -rad; j <= rad; j++) s += k[j + rad] * line[i + j < 0 ? 0 : i + j >= n ? n - 1 : i + j];
    p[i * step] = (float)s;
  }
}

/* Separable Gaussian blur of img[h][w] in place, sigma in samples along each axis; -1 when out
 * of memory. */
static int blur(float *img, int w, int h, double sigma_x, double sigma_y) {
  for (int pass = 0; pass < 2; pass++) {
    double sigma = pass ? sigma_y : sigma_x;
    int rad = (int)ceil(3 * sigma), n = pass ? h : w, lines = pass ? w : h;
    float *k = malloc((size_t)(2 * rad + 1) * sizeof(float)), *line = malloc((size_t)n * sizeof(float));
    if (!k || !line) {
      free(k), free(line);
      return -1;
    }
    double sum = 0;
    for (int i = -rad; i <= rad; i++) sum += k[i + rad] = (float)exp(-0.5 * i * i / (sigma * sigma));
    for (int i = 0; i <= 2 * rad; i++) k[i] = (float)(k[i] / sum);
    for (int l = 0; l < lines; l++)
      blur_line(img + (size_t)l * (pass ? 1 : (size_t)w), pass ? (size_t)w : 1, n, k, rad, line);
    free(k), free(line);
  }
  return 0;
}

int lens_overlay_heat(const float *weights, int grid_rows, int grid_cols, int w, int h, LensUpsample upsample,
                      double blur_cells, double vmax, float *out) {
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      out[(size_t)y * w + x] = (float)sample(weights, grid_rows, grid_cols, (x + 0.5) * grid_cols / w,
                                             (y + 0.5) * grid_rows / h, upsample);
  if (blur_cells > 0 && blur(out, w, h, blur_cells * w / grid_cols, blur_cells * h / grid_rows) != 0) return -1;
  double top = vmax > 0 ? vmax : 1.0;
  for (size_t i = 0; i < (size_t)w * h; i++) out[i] = (float)fmin(1.0, fmax(0.0, out[i] / top));
  return 0;
}

/* The attention row shown for word i (-1: the mean over all words), malloc'd. */
static float *word_row(const Overlay *O, int i) {
  int L = O->m->cols;
  float *row = calloc((size_t)L, sizeof(float));
  if (!row) return NULL;
  for (int r = i < 0 ? 0 : i; r < (i < 0 ? O->n : i + 1); r++)
    for (int j = 0; j < L; j++) row[j] += O->m->weights[(size_t)r * L + j] / (i < 0 ? O->n : 1);
  return row;
}

static double row_top(const Overlay *O, const float *row) {
  if (O->o->vmax > 0 && isfinite(O->o->vmax)) return O->o->vmax;
  double top = 0;
  for (int j = 0; j < O->m->cols; j++) top = fmax(top, row[j]);
  return top > 0 ? top : 1.0;
}

/* The heat of word i as a colour-mapped surface of pw x ph pixels, more opaque where the
 * attention is higher (opacity * (0.3 + 0.7 t)) so the image shows through elsewhere; NULL on
 * failure. */
static cairo_surface_t *heat_surface(const Overlay *O, int i, int pw, int ph) {
  float *row = word_row(O, i), *heat = malloc((size_t)pw * ph * sizeof(float));
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, pw, ph);
  double opacity = fmin(1.0, fmax(0.0, O->o->overlay_opacity));
  int ok = row && heat && cairo_surface_status(s) == CAIRO_STATUS_SUCCESS &&
           lens_overlay_heat(row, O->t->grid_rows, O->t->grid_cols, pw, ph, O->o->upsample, O->o->blur,
                             row_top(O, row), heat) == 0;
  if (ok) {
    cairo_surface_flush(s);
    unsigned char *px = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    for (int y = 0; y < ph; y++)
      for (int x = 0; x < pw; x++) {
        double rgb[3], t = heat[(size_t)y * pw + x], a = opacity * (0.3 + 0.7 * t);
        lens_colormap_rgb(O->o->colormap, t, rgb);
        uint32_t v = (uint32_t)lround(a * 255) << 24 | (uint32_t)lround(a * rgb[0] * 255) << 16 |
                     (uint32_t)lround(a * rgb[1] * 255) << 8 | (uint32_t)lround(a * rgb[2] * 255);
        memcpy(px + (size_t)y * stride + 4 * (size_t)x, &v, 4);
      }
    cairo_surface_mark_dirty(s);
  }
  free(row), free(heat);
  if (!ok) {
    cairo_surface_destroy(s);
    return NULL;
  }
  return s;
}

/* ---- measuring ---- */

static int has_grid(const attn_trace *t, const attn_map *m) {
  return t->grid_rows > 0 && t->grid_cols > 0 && m->cols == t->grid_rows * t->grid_cols && m->rows > 0;
}

static double aspect(const Overlay *O) { /* height / width */
  const LensImage *im = O->o->image;
  if (im && im->width > 0 && im->height > 0) return (double)im->height / im->width;
  if (O->t->image_width > 0 && O->t->image_height > 0) return (double)O->t->image_height / O->t->image_width;
  return 1.0;
}

static void box_for(double side, double a, double *w, double *h) {
  *w = a <= 1 ? side : floor(side / a);
  *h = a <= 1 ? floor(side * a) : side;
}

static const char *word_text(const Overlay *O, int i) {
  return i < O->t->output.n && O->t->output.tokens[i] ? O->t->output.tokens[i] : "?";
}

static float beta_of(const Overlay *O, int i) { return O->t->beta && i < O->t->output.n ? O->t->beta[i] : NAN; }

static char *title_text(const Overlay *O) {
  char buf[512];
  const char *model = O->t->model && *O->t->model ? O->t->model : "caption";
  int i = O->o->highlight_row;
  if (O->o->title) snprintf(buf, sizeof buf, "%s", O->o->title);
  else if (O->board) snprintf(buf, sizeof buf, "%s \xe2\x80\x94 %s", model, O->t->output.text ? O->t->output.text : "");
  else if (i < 0 || i >= O->n) snprintf(buf, sizeof buf, "%s \xe2\x80\x94 all words (mean attention)", model);
  else if (isnan(beta_of(O, i))) snprintf(buf, sizeof buf, "%s \xe2\x80\x94 \xe2\x80\x9c%s\xe2\x80\x9d", model, word_text(O, i));
  else
    snprintf(buf, sizeof buf, "%s \xe2\x80\x94 \xe2\x80\x9c%s\xe2\x80\x9d \xc2\xb7 \xce\xb2 %.2f", model, word_text(O, i),
             (double)beta_of(O, i));
  return strdup(buf);
}

static int measure_words(Overlay *O, double max_w) {
  double x = 0, y = 0, line_h = 0;
  O->words_w = 0;
  for (int i = 0; i < O->n; i++) {
    if (lens_label_token(&O->word[i], O->tx, word_text(O, i), 1, 24, O->th.muted) != 0) return -1;
    if (x > 0 && x + O->word[i].w > max_w) x = 0, y += line_h + LINE_GAP, line_h = 0;
    O->wx[i] = x, O->wy[i] = y;
    x += O->word[i].w + WORD_GAP;
    line_h = fmax(line_h, O->word[i].h + BAR_GAP + BAR_H);
    O->words_w = fmax(O->words_w, x - WORD_GAP);
  }
  O->words_h = y + line_h;
  return 0;
}

static int measure_overlay(Overlay *O) {
  char top[32];
  box_for(floor(IMG_SIDE * O->grow), aspect(O), &O->img_w, &O->img_h);
  float *row = word_row(O, O->o->highlight_row < O->n ? O->o->highlight_row : -1);
  if (!row) return -1;
  snprintf(top, sizeof top, "%.2f", row_top(O, row));
  free(row);
  if (lens_label_set(&O->top, O->tx, top, LENS_FONT_SMALL) || lens_label_set(&O->zero, O->tx, "0", LENS_FONT_SMALL))
    return -1;
  O->cb_w = O->o->show_colorbar ? CB_GAP + CB_W + TICK_GAP + fmax(O->top.w, O->zero.w) : 0;
  if (measure_words(O, fmax(WORDS_MIN_W, O->img_w + O->cb_w)) != 0) return -1;
  double content = fmax(fmax(O->img_w + O->cb_w, O->words_w), O->title.w);
  O->W = ceil(2 * PAD + content);
  O->H = ceil(2 * PAD + O->title.h + TITLE_GAP + O->img_h + WORDS_GAP + O->words_h);
  return 0;
}

static int measure_board(Overlay *O) {
  char buf[32];
  box_for(floor(THUMB * O->grow), aspect(O), &O->img_w, &O->img_h);
  if (lens_label_set(&O->image_label, O->tx, "image", LENS_FONT_SMALL) != 0) return -1;
  double label_h = O->image_label.h;
  for (int i = 0; i < O->n; i++) {
    float b = beta_of(O, i);
    if (isnan(b)) snprintf(buf, sizeof buf, " ");
    else snprintf(buf, sizeof buf, "\xce\xb2 %.2f", (double)b);
    if (lens_label_token(&O->word[i], O->tx, word_text(O, i), 1, 18, O->th.muted) != 0 ||
        lens_label_set(&O->beta[i], O->tx, buf, LENS_FONT_SMALL) != 0)
      return -1;
    label_h = fmax(label_h, O->word[i].h + O->beta[i].h);
  }
  O->cols = O->n + 1 < BOARD_COLS ? O->n + 1 : BOARD_COLS;
  O->rows = (O->n + 1 + O->cols - 1) / O->cols;
  O->cell_h = O->img_h + LABEL_GAP + label_h;
  double grid_w = O->cols * O->img_w + (O->cols - 1) * THUMB_GAP;
  O->W = ceil(2 * PAD + fmax(grid_w, O->title.w));
  O->H = ceil(2 * PAD + O->title.h + TITLE_GAP + O->rows * O->cell_h + (O->rows - 1) * THUMB_GAP);
  return 0;
}

static void overlay_close(Overlay *O) {
  for (int i = 0; O->word && i < O->n; i++) lens_label_clear(&O->word[i]);
  for (int i = 0; O->beta && i < O->n; i++) lens_label_clear(&O->beta[i]);
  lens_label_clear(&O->title), lens_label_clear(&O->top), lens_label_clear(&O->zero);
  lens_label_clear(&O->image_label);
  free(O->word), free(O->beta), free(O->wx), free(O->wy);
  lens_text_free(O->tx);
}

static attn_status overlay_open(Overlay *O, const attn_trace *t, const attn_map *m, const LensRenderOptions *o,
                                double grow) {
  memset(O, 0, sizeof *O);
  if (!has_grid(t, m)) return ATTN_E_ARG;
  *O = (Overlay){.t = t, .m = m, .o = o, .n = m->rows, .board = o->view == LENS_VIEW_STORYBOARD, .grow = grow};
  lens_theme_get(o->dark, &O->th);
  O->tx = lens_text_new(lens_font_pt(o));
  O->word = calloc((size_t)O->n, sizeof *O->word), O->beta = calloc((size_t)O->n, sizeof *O->beta);
  O->wx = calloc((size_t)O->n, sizeof(double)), O->wy = calloc((size_t)O->n, sizeof(double));
  char *title = O->tx ? title_text(O) : NULL;
  int rc = O->tx && O->word && O->beta && O->wx && O->wy && title ? 0 : -1;
  if (rc == 0) rc = lens_label_set(&O->title, O->tx, title, LENS_FONT_TITLE);
  free(title);
  if (rc == 0) lens_label_wrap(&O->title, O->board ? BOARD_COLS * (THUMB + THUMB_GAP) : 2 * IMG_SIDE);
  if (rc == 0) rc = O->board ? measure_board(O) : measure_overlay(O);
  if (rc != 0) {
    overlay_close(O);
    return ATTN_E_NOMEM;
  }
  return ATTN_OK;
}

attn_status lens_overlay_size(const attn_trace *t, const attn_map *m, const LensRenderOptions *o, double *width,
                              double *height) {
  Overlay O;
  attn_status st = overlay_open(&O, t, m, o, 1.0);
  if (st != ATTN_OK) return st;
  *width = O.W;
  *height = O.H;
  overlay_close(&O);
  return ATTN_OK;
}

/* ---- drawing ---- */

/* The image (or a grey stand-in) scaled into the box. */
static void draw_image(cairo_t *cr, const Overlay *O, double x, double y, double w, double h) {
  const LensImage *im = O->o->image;
  cairo_save(cr);
  cairo_rectangle(cr, x, y, w, h);
  cairo_clip(cr);
  if (im && im->data && im->width > 0 && im->height > 0 && im->stride >= 4 * im->width) {
    cairo_surface_t *s = cairo_image_surface_create_for_data((unsigned char *)im->data, CAIRO_FORMAT_ARGB32,
                                                             im->width, im->height, im->stride);
    cairo_translate(cr, x, y);
    cairo_scale(cr, w / im->width, h / im->height);
    cairo_set_source_surface(cr, s, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
    cairo_paint(cr);
    cairo_surface_destroy(s);
  } else {
    cairo_set_source_rgb(cr, 0.55, 0.55, 0.55);
    cairo_paint(cr);
  }
  cairo_restore(cr);
}

/* Word i's heat over the box, at the resolution the box has on the device (at most 1024). */
static void draw_heat(cairo_t *cr, const Overlay *O, int i, double x, double y, double w, double h) {
  double dx = w, dy = h;
  cairo_user_to_device_distance(cr, &dx, &dy);
  int pw = (int)fmin(HEAT_MAX_PX, fmax(O->t->grid_cols, ceil(fabs(dx)))), ph = (int)fmin(HEAT_MAX_PX, fmax(O->t->grid_rows, ceil(fabs(dy))));
  cairo_surface_t *s = heat_surface(O, i, pw, ph);
  if (!s) return;
  cairo_save(cr);
  cairo_rectangle(cr, x, y, w, h);
  cairo_clip(cr);
  cairo_translate(cr, x, y);
  cairo_scale(cr, w / pw, h / ph);
  cairo_set_source_surface(cr, s, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_BILINEAR);
  cairo_paint(cr);
  cairo_restore(cr);
  cairo_surface_destroy(s);
}

static void draw_colorbar(cairo_t *cr, const Overlay *O, double x, double y, double h, LensLayout *layout) {
  cairo_pattern_t *g = cairo_pattern_create_linear(0, y + h, 0, y);
  for (int k = 0; k <= 16; k++) {
    double rgb[3];
    lens_colormap_rgb(O->o->colormap, k / 16.0, rgb);
    cairo_pattern_add_color_stop_rgb(g, k / 16.0, rgb[0], rgb[1], rgb[2]);
  }
  cairo_rectangle(cr, x, y, CB_W, h);
  cairo_set_source(cr, g);
  cairo_fill(cr);
  cairo_pattern_destroy(g);
  lens_label_draw(cr, &O->top, x + CB_W + TICK_GAP, y, 0, O->th.muted);
  lens_label_draw(cr, &O->zero, x + CB_W + TICK_GAP, y + h - O->zero.h, 0, O->th.muted);
  if (layout) layout->colorbar = (LensRect){x, y, CB_W, h};
}

/* The caption under the image, the shown word in a pill, each with a bar as long as its beta. */
static void draw_words(cairo_t *cr, const Overlay *O, double x0, double y0, LensLayout *layout, int text) {
  for (int i = 0; i < O->n; i++) {
    double x = x0 + O->wx[i], y = y0 + O->wy[i];
    LensRect r = {x, y, O->word[i].w, O->word[i].h};
    if (i == O->o->highlight_row) lens_draw_pill(cr, &O->th, r);
    if (text) lens_label_draw(cr, &O->word[i], x, y, 0, O->th.fg);
    float b = beta_of(O, i);
    if (!isnan(b)) {
      cairo_rectangle(cr, x, y + O->word[i].h + BAR_GAP, fmax(1.0, O->word[i].w * b), BAR_H);
      lens_set_rgb(cr, O->th.line, 0.8);
      cairo_fill(cr);
    }
    if (layout && i < LENS_LAYOUT_MAX_LABELS) layout->row_labels[layout->n_row_labels++] = r;
  }
}

static void paint_overlay(cairo_t *cr, Overlay *O, LensLayout *layout, int text) {
  double y = PAD;
  if (text) lens_label_draw(cr, &O->title, PAD, y, 0, O->th.fg);
  y += O->title.h + TITLE_GAP;
  int i = O->o->highlight_row >= 0 && O->o->highlight_row < O->n ? O->o->highlight_row : -1;
  draw_image(cr, O, PAD, y, O->img_w, O->img_h);
  draw_heat(cr, O, i, PAD, y, O->img_w, O->img_h);
  if (layout) {
    layout->grid = (LensRect){PAD, y, O->img_w, O->img_h};
    layout->cell_w = O->img_w / O->t->grid_cols, layout->cell_h = O->img_h / O->t->grid_rows;
  }
  if (O->o->show_colorbar) draw_colorbar(cr, O, PAD + O->img_w + CB_GAP, y, O->img_h, text ? layout : NULL);
  draw_words(cr, O, PAD, y + O->img_h + WORDS_GAP, layout, text);
}

static void paint_board(cairo_t *cr, Overlay *O, LensLayout *layout, int text) {
  if (text) lens_label_draw(cr, &O->title, PAD, PAD, 0, O->th.fg);
  double top = PAD + O->title.h + TITLE_GAP;
  for (int k = 0; k <= O->n; k++) { /* k = 0 is the image itself, then one thumbnail per word */
    double x = PAD + (k % O->cols) * (O->img_w + THUMB_GAP), y = top + (k / O->cols) * (O->cell_h + THUMB_GAP);
    draw_image(cr, O, x, y, O->img_w, O->img_h);
    double ly = y + O->img_h + LABEL_GAP;
    if (k == 0) {
      if (text) lens_label_draw(cr, &O->image_label, x, ly, 0, O->th.muted);
      continue;
    }
    int i = k - 1;
    draw_heat(cr, O, i, x, y, O->img_w, O->img_h);
    if (i == O->o->highlight_row) {
      cairo_rectangle(cr, x - 1.5, y - 1.5, O->img_w + 3, O->img_h + 3);
      lens_set_rgb(cr, O->th.line, 1.0);
      cairo_set_line_width(cr, 3);
      cairo_stroke(cr);
    }
    if (text) {
      lens_label_draw(cr, &O->word[i], x, ly, 0, O->th.fg);
      lens_label_draw(cr, &O->beta[i], x, ly + O->word[i].h, 0, O->th.muted);
    }
    if (layout && i < LENS_LAYOUT_MAX_LABELS) layout->row_labels[layout->n_row_labels++] = (LensRect){x, y, O->img_w, O->img_h};
  }
}

attn_status lens_overlay_draw(cairo_t *cr, const attn_trace *t, const attn_map *m, const LensRenderOptions *o,
                              double width, double height, LensLayout *layout) {
  Overlay O;
  attn_status st = overlay_open(&O, t, m, o, 1.0);
  if (st != ATTN_OK) return st;
  /* A larger box than the natural size grows the images (text keeps its size, so the grown
   * picture still fits); exports draw at the natural size. */
  double grow = fmin(MAX_GROW, fmin(width / O.W, height / O.H));
  if (grow > 1.02) {
    overlay_close(&O);
    if ((st = overlay_open(&O, t, m, o, grow)) != ATTN_OK) return st;
  }
  LensFit fit;
  lens_fit_begin(cr, O.tx, O.W, O.H, width, height, &fit);
  if (O.board) paint_board(cr, &O, layout, fit.text);
  else paint_overlay(cr, &O, layout, fit.text);
  lens_fit_end(cr, &fit, layout, m);
  if (layout) {
    layout->rows = O.board ? O.n : t->grid_rows;
    layout->cols = O.board ? 1 : t->grid_cols;
  }
  overlay_close(&O);
  return ATTN_OK;
}
