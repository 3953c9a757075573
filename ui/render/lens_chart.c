/* Line charts: categories along x, values along y, one line with markers per series. */
#include "lens_chart.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lens_private.h"

#define CHART_W 680.0
#define CHART_H 430.0
#define PAD 16.0

/* Okabe & Ito's colour-blind-safe palette; each series also has its own marker shape. */
static const double PALETTE[LENS_CHART_MAX_SERIES][3] = {
    {0.000, 0.447, 0.698}, {0.835, 0.369, 0.000}, {0.000, 0.620, 0.451}, {0.800, 0.475, 0.655},
    {0.902, 0.624, 0.000}, {0.337, 0.706, 0.914}, {0.941, 0.894, 0.259}, {0.300, 0.300, 0.300}};

attn_status lens_chart_check(const LensChart *c, attn_error *err) {
  if (!c || c->n_x < 1 || c->n_x > LENS_CHART_MAX_POINTS)
    return attn_error_set(err, ATTN_E_ARG, "a chart needs 1 to %d categories", LENS_CHART_MAX_POINTS);
  if (c->n_series < 1 || c->n_series > LENS_CHART_MAX_SERIES || !c->series)
    return attn_error_set(err, ATTN_E_ARG, "a chart needs 1 to %d series", LENS_CHART_MAX_SERIES);
  for (int s = 0; s < c->n_series; s++) {
    if (!c->series[s].y) return attn_error_set(err, ATTN_E_ARG, "chart series %d has no values", s + 1);
    for (int i = 0; i < c->n_x; i++)
      if (isinf(c->series[s].y[i]))
        return attn_error_set(err, ATTN_E_ARG, "chart series %d has an infinite value", s + 1);
  }
  return ATTN_OK;
}

void lens_chart_size(const LensChart *c, double *width, double *height) {
  (void)c;
  *width = CHART_W;
  *height = CHART_H;
}

/* A round step (1, 2 or 5 times a power of ten) giving about `want` intervals over span. */
static double nice_step(double span, int want) {
  double raw = span / want, p = pow(10.0, floor(log10(raw))), m = raw / p;
  return (m <= 1.0 ? 1.0 : m <= 2.0 ? 2.0 : m <= 5.0 ? 5.0 : 10.0) * p;
}

static void y_range(const LensChart *c, double *lo, double *hi, double *step) {
  if (c->y_max > c->y_min) {
    *lo = c->y_min, *hi = c->y_max, *step = nice_step(*hi - *lo, 5);
    return;
  }
  double top = 0.0;
  for (int s = 0; s < c->n_series; s++)
    for (int i = 0; i < c->n_x; i++)
      if (!isnan(c->series[s].y[i]) && c->series[s].y[i] > top) top = c->series[s].y[i];
  if (top <= 0.0) top = 1.0;
  *lo = 0.0;
  *step = nice_step(top, 5);
  *hi = ceil(top / *step - 1e-9) * *step;
  if (*hi < top * 1.04) *hi += *step; /* room above the highest point */
}

/* lens_label_set on a label that may already hold a layout. */
static int relabel(LensLabel *l, LensText *tx, const char *text, LensFont font) {
  lens_label_clear(l);
  return lens_label_set(l, tx, text, font);
}

static void marker(cairo_t *cr, int shape, double x, double y, double r) {
  switch (shape % 4) {
  case 0: cairo_arc(cr, x, y, r, 0, 2 * M_PI); break;
  case 1: cairo_rectangle(cr, x - r * 0.9, y - r * 0.9, 1.8 * r, 1.8 * r); break;
  case 2:
    cairo_move_to(cr, x, y - 1.2 * r), cairo_line_to(cr, x + 1.1 * r, y + 0.8 * r);
    cairo_line_to(cr, x - 1.1 * r, y + 0.8 * r), cairo_close_path(cr);
    break;
  default:
    cairo_move_to(cr, x, y - 1.3 * r), cairo_line_to(cr, x + 1.1 * r, y), cairo_line_to(cr, x, y + 1.3 * r);
    cairo_line_to(cr, x - 1.1 * r, y), cairo_close_path(cr);
  }
}

static attn_status draw_chart(cairo_t *cr, double width, double height, const void *data) {
  const LensChart *c = data;
  LensTheme th;
  lens_theme_get(c->dark, &th);
  LensText *tx = lens_text_new(LENS_DEFAULT_FONT_PT);
  if (!tx) return ATTN_E_NOMEM;
  cairo_save(cr);
  cairo_scale(cr, width / CHART_W, height / CHART_H);
  lens_set_rgb(cr, th.bg, 1.0);
  cairo_paint(cr);

  LensLabel title = {0}, xl = {0}, yl = {0}, lab = {0};
  double top = PAD;
  if (c->title && lens_label_set(&title, tx, c->title, LENS_FONT_TITLE) == 0) {
    lens_label_draw(cr, &title, PAD, top, 0, th.fg);
    top += title.h + 6;
  }
  /* legend: one row of line-and-marker swatches under the title */
  double lx = PAD + 40;
  for (int s = 0; s < c->n_series; s++) {
    if (relabel(&lab, tx, c->series[s].name ? c->series[s].name : "", LENS_FONT_SMALL) != 0) continue;
    double cy = top + lab.h / 2;
    lens_set_rgb(cr, PALETTE[s], 1.0);
    cairo_set_line_width(cr, 2.0);
    cairo_move_to(cr, lx, cy), cairo_line_to(cr, lx + 26, cy), cairo_stroke(cr);
    marker(cr, s, lx + 13, cy, 3.5), cairo_fill(cr);
    lens_label_draw(cr, &lab, lx + 32, top, 0, th.fg);
    lx += 32 + lab.w + 22;
    if (s == c->n_series - 1) top += lab.h + 10;
  }
  lens_label_clear(&lab);

  double lo, hi, step;
  y_range(c, &lo, &hi, &step);
  /* x tick labels decide the bottom margin; y tick labels the left one */
  double tick_h = 0, tick_w = 0;
  for (int i = 0; i < c->n_x; i++)
    if (c->x_ticks && c->x_ticks[i] && relabel(&lab, tx, c->x_ticks[i], LENS_FONT_SMALL) == 0)
      tick_h = fmax(tick_h, lab.h);
  char buf[64];
  int n_ticks = (int)floor((hi - lo) / step + 1e-6) + 1;
  for (int k = 0; k < n_ticks; k++) {
    snprintf(buf, sizeof buf, "%g", lo + k * step);
    if (relabel(&lab, tx, buf, LENS_FONT_SMALL) == 0) tick_w = fmax(tick_w, lab.w);
  }
  int has_xl = c->x_label && lens_label_set(&xl, tx, c->x_label, LENS_FONT_BODY) == 0;
  int has_yl = c->y_label && lens_label_set(&yl, tx, c->y_label, LENS_FONT_BODY) == 0;
  double left = PAD + (has_yl ? yl.h + 8 : 0) + tick_w + 8;
  double bottom = CHART_H - PAD - (has_xl ? xl.h + 6 : 0) - tick_h - 6;
  double right = CHART_W - PAD - 8, ptop = top + 4;
  double pw = right - left, ph = bottom - ptop;
  if (pw <= 10 || ph <= 10) {
    lens_label_clear(&title), lens_label_clear(&xl), lens_label_clear(&yl), lens_label_clear(&lab);
    lens_text_free(tx);
    cairo_restore(cr);
    return ATTN_OK; /* nothing fits: an empty (background) picture */
  }

  /* grid and y ticks */
  cairo_set_line_width(cr, 1.0);
  for (int k = 0; k < n_ticks; k++) {
    double v = lo + k * step, y = bottom - (v - lo) / (hi - lo) * ph;
    lens_set_rgb(cr, th.rule, k == 0 ? 1.0 : 0.5);
    cairo_move_to(cr, left, y), cairo_line_to(cr, right, y), cairo_stroke(cr);
    snprintf(buf, sizeof buf, "%g", v);
    if (relabel(&lab, tx, buf, LENS_FONT_SMALL) == 0)
      lens_label_draw(cr, &lab, left - 6 - lab.w, y - lab.h / 2, 0, th.muted);
  }
  lens_set_rgb(cr, th.fg, 1.0);
  cairo_move_to(cr, left, ptop), cairo_line_to(cr, left, bottom), cairo_line_to(cr, right, bottom);
  cairo_stroke(cr);
  /* categories are evenly spaced, half a slot from each end */
  double slot = pw / c->n_x;
  for (int i = 0; i < c->n_x; i++) {
    double x = left + (i + 0.5) * slot;
    cairo_move_to(cr, x, bottom), cairo_line_to(cr, x, bottom + 4), cairo_stroke(cr);
    if (c->x_ticks && c->x_ticks[i] && relabel(&lab, tx, c->x_ticks[i], LENS_FONT_SMALL) == 0) {
      pango_layout_set_alignment(lab.layout, PANGO_ALIGN_CENTER);
      lens_label_draw(cr, &lab, x - lab.w / 2, bottom + 6, 0, th.muted);
    }
  }
  if (has_xl) lens_label_draw(cr, &xl, left + (pw - xl.w) / 2, CHART_H - PAD - xl.h, 0, th.fg);
  if (has_yl) lens_label_draw(cr, &yl, PAD, ptop + (ph + yl.w) / 2, 1, th.fg);

  /* the series: lines between known values, a marker on each */
  for (int s = 0; s < c->n_series; s++) {
    const double *y = c->series[s].y;
    lens_set_rgb(cr, PALETTE[s], 1.0);
    cairo_set_line_width(cr, 2.2);
    int pen = 0;
    for (int i = 0; i < c->n_x; i++) {
      if (isnan(y[i])) {
        pen = 0;
        continue;
      }
      double px = left + (i + 0.5) * slot, py = bottom - (fmin(fmax(y[i], lo), hi) - lo) / (hi - lo) * ph;
      if (pen) cairo_line_to(cr, px, py);
      else cairo_move_to(cr, px, py);
      pen = 1;
    }
    cairo_stroke(cr);
    for (int i = 0; i < c->n_x; i++) {
      if (isnan(y[i])) continue;
      double px = left + (i + 0.5) * slot, py = bottom - (fmin(fmax(y[i], lo), hi) - lo) / (hi - lo) * ph;
      marker(cr, s, px, py, 4.0);
      cairo_fill(cr);
    }
  }
  lens_label_clear(&title), lens_label_clear(&xl), lens_label_clear(&yl), lens_label_clear(&lab);
  lens_text_free(tx);
  cairo_restore(cr);
  return cairo_status(cr) == CAIRO_STATUS_SUCCESS ? ATTN_OK : ATTN_E_NOMEM;
}

attn_status lens_chart_render(cairo_t *cr, const LensChart *c, double width, double height, attn_error *err) {
  attn_status st = lens_chart_check(c, err);
  if (st != ATTN_OK) return st;
  if (!(width > 0) || !(height > 0)) return ATTN_OK;
  st = draw_chart(cr, width, height, c);
  return st == ATTN_OK ? ATTN_OK : attn_error_set(err, st, "out of memory drawing the chart");
}

attn_status lens_chart_export(const LensChart *c, const char *path, double scale, attn_error *err) {
  attn_status st = lens_chart_check(c, err);
  if (st != ATTN_OK) return st;
  double w, h;
  lens_chart_size(c, &w, &h);
  return lens_export_drawing(path, w, h, scale, draw_chart, c, err);
}
