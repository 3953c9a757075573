/* Line charts (Cairo + Pango, no GTK): several named series over the same categories, with
 * axes, grid, tick labels, a legend and a title. The window and the exports draw them with
 * the same function, as every other picture of attnlens. First use: BLEU against sentence
 * length for two translation models (`attnlens bench quality --by-length`; Bahdanau et al.
 * 2015, Figure 2). */
#ifndef LENS_CHART_H
#define LENS_CHART_H

#include <cairo.h>

#include "attn_error.h"

#define LENS_CHART_MAX_SERIES 8
#define LENS_CHART_MAX_POINTS 64

typedef struct LensChartSeries {
  const char *name;   /* legend text */
  const double *y;    /* n_x values; NaN: no value there (the line breaks) */
} LensChartSeries;

typedef struct LensChart {
  const char *title;
  const char *x_label, *y_label;
  int n_x;                    /* categories along x, 1..LENS_CHART_MAX_POINTS */
  const char *const *x_ticks; /* n_x labels (may hold '\n') */
  int n_series;               /* 1..LENS_CHART_MAX_SERIES */
  const LensChartSeries *series;
  double y_min, y_max;        /* y_max <= y_min: from the data (from 0, rounded up) */
  int dark;
} LensChart;

/* ATTN_OK when the chart can be drawn; else ATTN_E_ARG saying what is wrong with it. */
attn_status lens_chart_check(const LensChart *c, attn_error *err);
/* Natural size in points (also pixels at scale 1). */
void lens_chart_size(const LensChart *c, double *width, double *height);
/* Draws the chart filling (0, 0, width, height). */
attn_status lens_chart_render(cairo_t *cr, const LensChart *c, double width, double height, attn_error *err);
/* PNG, SVG or PDF by the extension of path, through a temporary file and a rename (as
 * lens_export). */
attn_status lens_chart_export(const LensChart *c, const char *path, double scale, attn_error *err);

#endif
