/* ui/render: colour maps, matrix and flow drawing checked pixel by pixel, and export. */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "lens_private.h"
#include "lens_render.h"

/* ---- fixtures built in code ---- */

static const float W57[5][7] = {
    {0.82f, 0.08f, 0.04f, 0.02f, 0.02f, 0.01f, 0.01f},
    {0.05f, 0.61f, 0.27f, 0.03f, 0.02f, 0.01f, 0.01f},
    {0.02f, 0.06f, 0.12f, 0.55f, 0.20f, 0.03f, 0.02f},
    {0.01f, 0.02f, 0.03f, 0.14f, 0.71f, 0.06f, 0.03f},
    {0.00f, 0.01f, 0.02f, 0.03f, 0.04f, 0.35f, 0.55f},
};

/* 5 outputs x 7 source pieces, with long, accented and continuation pieces. */
static attn_trace *trace_5x7(void) {
  attn_trace *t = attn_trace_new(ATTN_TASK_TRANSLATE, "test-model");
  const char *src[] = {"▁Der", "▁Fahrradfahrer", "▁trägt", "▁Über", "größe", ".", "</s>"};
  unsigned char ws[] = {1, 1, 1, 1, 0, 0, 1};
  const char *out[] = {"▁The", "▁cyclist", "▁wears", "▁oversize", "</s>"};
  float probs[] = {0.9f, 0.8f, 0.7f, 0.6f, 0.99f};
  g_assert_cmpint(attn_tokens_set(&t->source, 7, src, ws, NULL, NULL), ==, 0);
  g_assert_cmpint(attn_tokens_set(&t->output, 5, out, NULL, probs, NULL), ==, 0);
  g_assert_nonnull(attn_trace_add_map(t, "cross", ATTN_MAP_CROSS, -1, -1, 5, 7, &W57[0][0]));
  return t;
}

/* rows x cols with long tokens on both sides and a peaked diagonal. */
static attn_trace *trace_long(int rows, int cols) {
  attn_trace *t = attn_trace_new(ATTN_TASK_TRANSLATE, "long");
  char **src = g_new0(char *, cols + 1), **out = g_new0(char *, rows + 1);
  for (int j = 0; j < cols; j++) src[j] = g_strdup_printf("▁Fahrradfahrerinnen%02d", j);
  for (int i = 0; i < rows; i++) out[i] = g_strdup_printf("▁Übergrößenträger%02d", i);
  g_assert_cmpint(attn_tokens_set(&t->source, cols, (const char *const *)src, NULL, NULL, NULL), ==, 0);
  g_assert_cmpint(attn_tokens_set(&t->output, rows, (const char *const *)out, NULL, NULL, NULL), ==, 0);
  float *w = g_new0(float, rows * cols);
  for (int i = 0; i < rows; i++) {
    double sum = 0;
    for (int j = 0; j < cols; j++) sum += w[i * cols + j] = (float)(1.0 / (1 + fabs(j - i * (double)cols / rows)));
    for (int j = 0; j < cols; j++) w[i * cols + j] = (float)(w[i * cols + j] / sum);
  }
  g_assert_nonnull(attn_trace_add_map(t, "cross", ATTN_MAP_CROSS, -1, -1, rows, cols, w));
  g_free(w);
  g_strfreev(src);
  g_strfreev(out);
  return t;
}

static double map_max(const attn_map *m) {
  double top = 0;
  for (int k = 0; k < m->rows * m->cols; k++) top = fmax(top, m->weights[k]);
  return top;
}

/* ---- pictures ---- */

typedef struct Picture {
  cairo_surface_t *png; /* the exported file, loaded back */
  LensLayout *layout;   /* in units of the natural size (multiply by scale for pixels) */
  double scale;
} Picture;

static char *tmp_dir(void) {
  GError *e = NULL;
  char *dir = g_dir_make_tmp("attnlens-render-XXXXXX", &e);
  g_assert_no_error(e);
  return dir;
}

static void remove_dir(char *dir) {
  GDir *d = g_dir_open(dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d))) {
    char *p = g_build_filename(dir, name, NULL);
    g_remove(p);
    g_free(p);
  }
  if (d) g_dir_close(d);
  g_rmdir(dir);
  g_free(dir);
}

static int dir_entries(const char *dir) {
  GDir *d = g_dir_open(dir, 0, NULL);
  int n = 0;
  while (d && g_dir_read_name(d)) n++;
  if (d) g_dir_close(d);
  return n;
}

/* The layout lens_export's drawing has: the same call on a scratch surface. */
static LensLayout *layout_of(const attn_trace *t, const LensRenderOptions *o, double w, double h) {
  LensLayout *layout = g_new0(LensLayout, 1);
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 4, 4);
  cairo_t *cr = cairo_create(s);
  g_assert_cmpint(lens_render(cr, t, o, w, h, layout), ==, ATTN_OK);
  cairo_destroy(cr);
  cairo_surface_destroy(s);
  return layout;
}

static Picture export_png(const attn_trace *t, const LensRenderOptions *o, double scale) {
  char *dir = tmp_dir(), *path = g_build_filename(dir, "pic.png", NULL);
  attn_error err = {0};
  g_assert_cmpint(lens_export(t, o, path, scale, &err), ==, ATTN_OK);
  Picture p = {cairo_image_surface_create_from_png(path), NULL, scale};
  g_assert_cmpint(cairo_surface_status(p.png), ==, CAIRO_STATUS_SUCCESS);
  double w, h;
  lens_render_size(t, o, &w, &h);
  g_assert_cmpint(cairo_image_surface_get_width(p.png), ==, (int)ceil(w * scale));
  g_assert_cmpint(cairo_image_surface_get_height(p.png), ==, (int)ceil(h * scale));
  p.layout = layout_of(t, o, cairo_image_surface_get_width(p.png) / scale,
                       cairo_image_surface_get_height(p.png) / scale);
  g_free(path);
  remove_dir(dir);
  return p;
}

static void picture_free(Picture *p) {
  cairo_surface_destroy(p->png);
  g_free(p->layout);
}

static void pixel(const Picture *p, double x, double y, int rgb[3]) {
  int ix = (int)floor(x * p->scale), iy = (int)floor(y * p->scale);
  g_assert_cmpint(ix, >=, 0);
  g_assert_cmpint(iy, >=, 0);
  g_assert_cmpint(ix, <, cairo_image_surface_get_width(p->png));
  g_assert_cmpint(iy, <, cairo_image_surface_get_height(p->png));
  cairo_surface_flush(p->png);
  const unsigned char *row = cairo_image_surface_get_data(p->png) +
                             (size_t)iy * cairo_image_surface_get_stride(p->png);
  uint32_t v = ((const uint32_t *)(const void *)row)[ix];
  rgb[0] = (v >> 16) & 255;
  rgb[1] = (v >> 8) & 255;
  rgb[2] = v & 255;
}

static void cell_centre(const LensLayout *l, int i, int j, double *x, double *y) {
  *x = l->grid.x + (j + 0.5) * l->cell_w;
  *y = l->grid.y + (i + 0.5) * l->cell_h;
}

static void expect_rgb(const int got[3], LensColormap map, double t, int tol) {
  double want[3];
  lens_colormap_rgb(map, t, want);
  for (int c = 0; c < 3; c++) {
    int w = (int)lround(want[c] * 255);
    if (abs(got[c] - w) > tol)
      g_error("channel %d: got %d, want %d (t = %.4f, map %s)", c, got[c], w, t, lens_colormap_name(map));
  }
}

static double luminance(const int rgb[3]) { return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]; }

/* ---- colour maps ---- */

static void hex_of(LensColormap map, double t, char out[8]) {
  double rgb[3];
  lens_colormap_rgb(map, t, rgb);
  g_snprintf(out, 8, "#%02x%02x%02x", (int)lround(rgb[0] * 255), (int)lround(rgb[1] * 255),
             (int)lround(rgb[2] * 255));
}

static void test_colormap_endpoints(void) {
  static const struct { LensColormap map; const char *lo, *hi; } want[] = {
      {LENS_CMAP_VIRIDIS, "#440154", "#fde725"},
      {LENS_CMAP_MAGMA, "#000004", "#fcfdbf"},
      {LENS_CMAP_CIVIDIS, "#00224e", "#fee838"},
      {LENS_CMAP_GREYS, "#000000", "#ffffff"},
  };
  char hex[8];
  for (size_t k = 0; k < G_N_ELEMENTS(want); k++) {
    hex_of(want[k].map, 0.0, hex);
    g_assert_cmpstr(hex, ==, want[k].lo);
    hex_of(want[k].map, 1.0, hex);
    g_assert_cmpstr(hex, ==, want[k].hi);
    hex_of(want[k].map, -3.0, hex); /* clamped */
    g_assert_cmpstr(hex, ==, want[k].lo);
    hex_of(want[k].map, NAN, hex);
    g_assert_cmpstr(hex, ==, want[k].lo);
    hex_of(want[k].map, 7.0, hex);
    g_assert_cmpstr(hex, ==, want[k].hi);
  }
  /* Middle entries of matplotlib's viridis table: index 128 is #21918c, the familiar middle
   * of viridis; halfway between entries 127 and 128 is their mean. */
  double rgb[3];
  lens_colormap_rgb(LENS_CMAP_VIRIDIS, 128.0 / 255.0, rgb);
  g_assert_cmpfloat_with_epsilon(rgb[0], 0.127568, 1e-6);
  g_assert_cmpfloat_with_epsilon(rgb[1], 0.566949, 1e-6);
  g_assert_cmpfloat_with_epsilon(rgb[2], 0.550556, 1e-6);
  hex_of(LENS_CMAP_VIRIDIS, 128.0 / 255.0, hex);
  g_assert_cmpstr(hex, ==, "#21918c");
  lens_colormap_rgb(LENS_CMAP_VIRIDIS, 127.5 / 255.0, rgb);
  g_assert_cmpfloat_with_epsilon(rgb[1], (0.563265 + 0.566949) / 2, 1e-6);
}

static double srgb_to_linear(double v) { return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4); }

static double cie_lstar(const double rgb[3]) {
  double y = 0.2126 * srgb_to_linear(rgb[0]) + 0.7152 * srgb_to_linear(rgb[1]) +
             0.0722 * srgb_to_linear(rgb[2]);
  double f = y > pow(6.0 / 29, 3) ? cbrt(y) : y / (3 * pow(6.0 / 29, 2)) + 4.0 / 29;
  return 116 * f - 16;
}

static void test_colormap_lightness(void) {
  for (int m = 0; m < LENS_CMAP_COUNT; m++) {
    double prev = -1, rgb[3];
    for (int k = 0; k <= 1020; k++) {
      lens_colormap_rgb((LensColormap)m, k / 1020.0, rgb);
      double l = cie_lstar(rgb);
      if (!(l > prev)) g_error("%s: L* not increasing at t = %g (%g after %g)", lens_colormap_name(m), k / 1020.0, l, prev);
      prev = l;
    }
  }
}

static void test_names(void) {
  LensColormap c;
  LensView v;
  for (int m = 0; m < LENS_CMAP_COUNT; m++) {
    g_assert_cmpint(lens_colormap_from_name(lens_colormap_name(m), &c), ==, 0);
    g_assert_cmpint(c, ==, m);
  }
  g_assert_cmpint(lens_colormap_from_name("MAGMA", &c), ==, 0);
  g_assert_cmpint(c, ==, LENS_CMAP_MAGMA);
  g_assert_cmpint(lens_colormap_from_name("gray", &c), ==, 0);
  g_assert_cmpint(c, ==, LENS_CMAP_GREYS);
  g_assert_cmpint(lens_colormap_from_name("jet", &c), !=, 0);
  g_assert_cmpint(lens_colormap_from_name(NULL, &c), !=, 0);
  g_assert_cmpint(lens_view_from_name("flow", &v), ==, 0);
  g_assert_cmpint(v, ==, LENS_VIEW_FLOW);
  g_assert_cmpint(lens_view_from_name("Matrix", &v), ==, 0);
  g_assert_cmpint(v, ==, LENS_VIEW_MATRIX);
  g_assert_cmpint(lens_view_from_name("overlay3d", &v), !=, 0);
}

static void expect_display(const char *token, int word_start, int max_chars, const char *want) {
  size_t mark;
  char *got = lens_token_display(token, word_start, max_chars, &mark);
  g_assert_cmpstr(got, ==, want);
  g_assert_cmpuint(mark, ==, g_str_has_prefix(want, "·") && !word_start ? strlen("·") : 0);
  free(got);
}

static void test_token_display(void) {
  expect_display("▁Der", 1, 24, "Der");
  expect_display("größe", 0, 24, "·größe");
  expect_display(".", 0, 24, "."); /* punctuation needs no continuation mark */
  expect_display("▁", 1, 24, "␣");
  expect_display("", 1, 24, "␣");
  expect_display("</s>", 1, 24, "</s>");
  expect_display("a\nb", 1, 24, "a↵b");
  expect_display("bad\xff", 1, 24, "bad\xef\xbf\xbd");
  expect_display("▁New▁York", 1, 24, "New York");
  expect_display("▁Fahrradfahrerinnen", 1, 8, "Fahrradf…");
  expect_display(NULL, 1, 24, "␣");
}

static char *axis_text(const LensAxis *ax, int i) {
  static const double grey[3] = {0.5, 0.5, 0.5};
  LensText *tx = lens_text_new(11);
  LensLabel l;
  g_assert_cmpint(lens_axis_label(&l, tx, ax, i, 24, grey), ==, 0);
  char *text = g_strdup(pango_layout_get_text(l.layout));
  lens_label_clear(&l);
  lens_text_free(tx);
  return text;
}

/* The JSON output has no word_start flags: then the pieces' own '▁' marks decide. */
static void test_token_marks(void) {
  attn_trace *t = trace_5x7();
  const char *out[] = {"▁Spiel", "haus", ".", "</s>", "▁aus"};
  g_assert_cmpint(attn_tokens_set(&t->output, 5, out, NULL, NULL, NULL), ==, 0);
  LensAxis rows, cols;
  lens_map_axes(t, &t->maps[0], &rows, &cols);
  const char *want_rows[] = {"Spiel", "·haus", ".", "</s>", "aus"};
  for (int i = 0; i < 5; i++) {
    char *got = axis_text(&rows, i);
    g_assert_cmpstr(got, ==, want_rows[i]);
    g_free(got);
  }
  char *src = axis_text(&cols, 4); /* the source has real flags: "größe" continues "Über" */
  g_assert_cmpstr(src, ==, "·größe");
  g_free(src);
  src = axis_text(&cols, 5);
  g_assert_cmpstr(src, ==, ".");
  g_free(src);
  attn_trace_free(t);
}

/* ---- matrix ---- */

static void check_cells(LensColormap map, double vmax_opt, double scale) {
  attn_trace *t = trace_5x7();
  LensRenderOptions o;
  lens_render_options_init(&o);
  o.colormap = map;
  o.vmax = vmax_opt;
  Picture p = export_png(t, &o, scale);
  const attn_map *m = &t->maps[0];
  double vmax = vmax_opt > 0 ? vmax_opt : map_max(m);
  g_assert_cmpint(p.layout->rows, ==, 5);
  g_assert_cmpint(p.layout->cols, ==, 7);
  g_assert_cmpfloat(p.layout->cell_w, >=, LENS_MIN_CELL);
  for (int i = 0; i < 5; i++)
    for (int j = 0; j < 7; j++) {
      double x, y;
      int rgb[3];
      cell_centre(p.layout, i, j, &x, &y);
      pixel(&p, x, y, rgb);
      expect_rgb(rgb, map, m->weights[i * 7 + j] / vmax, 1);
    }
  picture_free(&p);
  attn_trace_free(t);
}

static void test_matrix_cells(void) {
  for (int m = 0; m < LENS_CMAP_COUNT; m++) check_cells((LensColormap)m, 0, 1);
  check_cells(LENS_CMAP_VIRIDIS, 1.0, 1); /* fixed 0..1 scale */
  check_cells(LENS_CMAP_MAGMA, 0, 2);     /* HiDPI */
}

/* Above 40000 cells the matrix is drawn as one image; the colours must stay exact. */
static void test_matrix_big_map(void) {
  attn_trace *t = trace_long(200, 250);
  LensRenderOptions o;
  lens_render_options_init(&o);
  o.colormap = LENS_CMAP_CIVIDIS;
  Picture p = {cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1200, 1000), g_new0(LensLayout, 1), 1};
  cairo_t *cr = cairo_create(p.png);
  g_assert_cmpint(lens_render(cr, t, &o, 1200, 1000, p.layout), ==, ATTN_OK);
  cairo_destroy(cr);
  const attn_map *m = &t->maps[0];
  g_assert_cmpfloat(p.layout->cell_w, >, 2);
  g_assert_cmpint(p.layout->n_col_labels, ==, 250);
  for (int i = 0; i < 200; i += 13)
    for (int j = 0; j < 250; j += 7) {
      double x, y;
      int rgb[3];
      cell_centre(p.layout, i, j, &x, &y);
      pixel(&p, x, y, rgb);
      expect_rgb(rgb, o.colormap, m->weights[i * 250 + j] / map_max(m), 1);
    }
  picture_free(&p);
  attn_trace_free(t);
}

static int rects_overlap(const LensRect *a, const LensRect *b) {
  return a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h && b->y < a->y + a->h;
}

static void assert_no_overlap(const LensRect *r, int n, const char *what) {
  for (int a = 0; a < n; a++) {
    g_assert_cmpfloat(r[a].w, >, 0);
    for (int b = a + 1; b < n; b++)
      if (rects_overlap(&r[a], &r[b]))
        g_error("%s labels %d and %d overlap: (%g,%g %gx%g) (%g,%g %gx%g)", what, a, b, r[a].x,
                r[a].y, r[a].w, r[a].h, r[b].x, r[b].y, r[b].w, r[b].h);
  }
}

static void check_labels(const attn_trace *t, LensView view, int expect_rotated) {
  LensRenderOptions o;
  lens_render_options_init(&o);
  o.view = view;
  double w, h;
  lens_render_size(t, &o, &w, &h);
  LensLayout *l = layout_of(t, &o, w, h);
  g_assert_cmpint(l->n_row_labels, ==, t->maps[0].rows);
  g_assert_cmpint(l->n_col_labels, ==, t->maps[0].cols);
  assert_no_overlap(l->row_labels, l->n_row_labels, "row");
  assert_no_overlap(l->col_labels, l->n_col_labels, "column");
  for (int k = 0; k < l->n_col_labels; k++) {
    const LensRect *r = &l->col_labels[k];
    g_assert_true(r->x >= 0 && r->y >= 0 && r->x + r->w <= w && r->y + r->h <= h); /* not clipped */
  }
  if (expect_rotated) /* column 1 holds a long word in every trace here */
    g_assert_cmpfloat(l->col_labels[1].h, >, 3 * l->col_labels[1].w);
  for (int k = 0; k < l->n_row_labels; k++) {
    const LensRect *r = &l->row_labels[k];
    g_assert_true(r->x >= 0 && r->y >= 0 && r->x + r->w <= w && r->y + r->h <= h);
  }
  g_free(l);
}

static void test_matrix_labels(void) {
  attn_trace *t = trace_5x7();
  check_labels(t, LENS_VIEW_MATRIX, 1); /* "Fahrradfahrer" is wider than a cell */
  attn_trace_free(t);
  t = trace_long(12, 40);
  check_labels(t, LENS_VIEW_MATRIX, 1);
  check_labels(t, LENS_VIEW_FLOW, 1);
  attn_trace_free(t);
  t = trace_long(40, 3);
  check_labels(t, LENS_VIEW_MATRIX, 1);
  attn_trace_free(t);
}

static void test_matrix_colorbar(void) {
  attn_trace *t = trace_5x7();
  LensRenderOptions o;
  lens_render_options_init(&o);
  Picture p = export_png(t, &o, 1);
  const LensRect *cb = &p.layout->colorbar;
  g_assert_cmpfloat(cb->w, >, 0);
  g_assert_cmpfloat(cb->h, >=, p.layout->grid.h);
  g_assert_cmpfloat(cb->x, >=, p.layout->grid.x + p.layout->grid.w);
  for (int k = 1; k <= 3; k++) { /* the gradient runs from 0 at the bottom to 1 at the top */
    int rgb[3];
    pixel(&p, cb->x + cb->w / 2, cb->y + cb->h * (1 - k / 4.0), rgb);
    expect_rgb(rgb, o.colormap, k / 4.0, 3);
  }
  picture_free(&p);
  o.show_colorbar = 0;
  p = export_png(t, &o, 1);
  g_assert_cmpfloat(p.layout->colorbar.w, ==, 0);
  picture_free(&p);
  attn_trace_free(t);
}

static void test_matrix_highlight(void) {
  attn_trace *t = trace_5x7();
  LensRenderOptions o;
  lens_render_options_init(&o);
  Picture plain = export_png(t, &o, 1);
  o.highlight_row = 2;
  Picture lit = export_png(t, &o, 1);
  const LensLayout *l = lit.layout;
  /* The outline runs along the row's top edge: those pixels change. */
  int changed = 0;
  for (int j = 0; j < 7; j++) {
    int a[3], b[3];
    double x = l->grid.x + (j + 0.5) * l->cell_w, y = l->grid.y + 2 * l->cell_h;
    pixel(&plain, x, y, a);
    pixel(&lit, x, y, b);
    changed += a[0] != b[0] || a[1] != b[1] || a[2] != b[2];
  }
  g_assert_cmpint(changed, ==, 7);
  /* The highlighted row keeps its exact colours; the others are dimmed. */
  for (int j = 0; j < 7; j++) {
    double x, y;
    int rgb[3], other[3], before[3];
    cell_centre(l, 2, j, &x, &y);
    pixel(&lit, x, y, rgb);
    expect_rgb(rgb, o.colormap, t->maps[0].weights[2 * 7 + j] / map_max(&t->maps[0]), 1);
    cell_centre(l, 0, j, &x, &y);
    pixel(&lit, x, y, other);
    pixel(&plain, x, y, before);
    g_assert_true(other[0] != before[0] || other[1] != before[1] || other[2] != before[2]);
  }
  picture_free(&plain);
  picture_free(&lit);
  attn_trace_free(t);
}

static void test_matrix_hit(void) {
  attn_trace *t = trace_5x7();
  LensRenderOptions o;
  lens_render_options_init(&o);
  double boxes[3][2] = {{0, 0}, {300, 200}, {1600, 1200}}; /* natural, smaller, larger */
  lens_render_size(t, &o, &boxes[0][0], &boxes[0][1]);
  for (int b = 0; b < 3; b++) {
    LensLayout *l = layout_of(t, &o, boxes[b][0], boxes[b][1]);
    g_assert_cmpfloat(l->grid.x + l->grid.w, <=, boxes[b][0]);
    g_assert_cmpfloat(l->grid.y + l->grid.h, <=, boxes[b][1]);
    for (int i = 0; i < 5; i++)
      for (int j = 0; j < 7; j++) {
        double x, y;
        int r = -1, c = -1;
        cell_centre(l, i, j, &x, &y);
        g_assert_true(lens_layout_hit(l, x, y, &r, &c));
        g_assert_cmpint(r, ==, i);
        g_assert_cmpint(c, ==, j);
      }
    int r, c;
    g_assert_false(lens_layout_hit(l, l->grid.x - 1, l->grid.y + 1, &r, &c));
    g_assert_false(lens_layout_hit(l, l->grid.x + 1, l->grid.y + l->grid.h + 1, &r, &c));
    const LensRect *lab = &l->col_labels[3];
    g_assert_true(lens_layout_hit_label(l, lab->x + lab->w / 2, lab->y + lab->h / 2, &r, &c));
    g_assert_cmpint(r, ==, -1);
    g_assert_cmpint(c, ==, 3);
    if (b == 2) g_assert_cmpfloat(l->cell_w, >, LENS_MIN_CELL); /* a big box grows the cells */
    if (b == 1) g_assert_cmpfloat(l->cell_w, <, LENS_MIN_CELL); /* a small one shrinks all */
    g_free(l);
  }
  attn_trace_free(t);
}

static void test_matrix_dark_values(void) {
  attn_trace *t = trace_5x7();
  LensRenderOptions o;
  lens_render_options_init(&o);
  o.dark = 1;
  o.show_values = 1;
  o.title = "Übergröße: a custom title";
  Picture p = export_png(t, &o, 1);
  int bg[3], cell[3];
  pixel(&p, 1, 1, bg);
  g_assert_cmpfloat(luminance(bg), <, 40);
  /* The value's digits are drawn over the centre of the cell: part of it is no longer the
   * cell colour, and the text contrasts (dark on the bright top cell). */
  double x, y;
  int dark_px = 0;
  cell_centre(p.layout, 0, 0, &x, &y);
  for (double dx = -6; dx <= 6; dx += 1) {
    pixel(&p, x + dx, y, cell);
    dark_px += luminance(cell) < 100;
  }
  g_assert_cmpint(dark_px, >, 0);
  picture_free(&p);
  attn_trace_free(t);
}

static void test_no_map(void) {
  attn_trace *t = trace_5x7();
  LensRenderOptions o;
  lens_render_options_init(&o);
  o.map_index = 3;
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 200, 100);
  cairo_t *cr = cairo_create(s);
  LensLayout *l = g_new0(LensLayout, 1);
  g_assert_cmpint(lens_render(cr, t, &o, 200, 100, l), ==, ATTN_E_ARG);
  g_assert_cmpint(lens_render(cr, NULL, NULL, 200, 100, l), ==, ATTN_E_ARG);
  g_assert_cmpfloat(l->grid.w, ==, 0);
  g_assert_cmpint(cairo_status(cr), ==, CAIRO_STATUS_SUCCESS);
  g_free(l);
  cairo_destroy(cr);
  cairo_surface_destroy(s);
  attn_trace_free(t);
}

/* ---- flow ---- */

static void darkest_near(const Picture *p, double x, double y, int out[3]) {
  double best = 1e9;
  for (int dy = -3; dy <= 3; dy++)
    for (int dx = -3; dx <= 3; dx++) {
      int rgb[3];
      pixel(p, x + dx / p->scale, y + dy / p->scale, rgb);
      if (luminance(rgb) < best) {
        best = luminance(rgb);
        memcpy(out, rgb, sizeof rgb);
      }
    }
}

static void test_flow_lines(void) {
  attn_trace *t = attn_trace_new(ATTN_TASK_TRANSLATE, "flow");
  const char *src[] = {"▁eins", "▁zwei", "▁drei"}, *out[] = {"▁one", "▁three"};
  const float w[] = {0.98f, 0.02f, 0.0f, 0.02f, 0.0f, 0.98f};
  g_assert_cmpint(attn_tokens_set(&t->source, 3, src, NULL, NULL, NULL), ==, 0);
  g_assert_cmpint(attn_tokens_set(&t->output, 2, out, NULL, NULL, NULL), ==, 0);
  g_assert_nonnull(attn_trace_add_map(t, "cross", ATTN_MAP_CROSS, -1, -1, 2, 3, w));
  LensRenderOptions o;
  lens_render_options_init(&o);
  o.view = LENS_VIEW_FLOW;
  Picture p = export_png(t, &o, 2);
  const LensLayout *l = p.layout;
  g_assert_cmpint(l->view, ==, LENS_VIEW_FLOW);
  g_assert_cmpint(l->n_col_labels, ==, 3);
  g_assert_cmpint(l->n_row_labels, ==, 2);
  g_assert_cmpfloat(l->query_y, >, l->key_y + 50);
  double my = (l->key_y + l->query_y) / 2;
  int heavy[3], light[3], bg[3];
  darkest_near(&p, (l->key_x[0] + l->query_x[0]) / 2, my, heavy);
  darkest_near(&p, (l->key_x[1] + l->query_x[0]) / 2, my, light);
  pixel(&p, 1, 1, bg);
  g_assert_cmpfloat(luminance(heavy), <, luminance(light) - 60);
  g_assert_cmpfloat(luminance(light), <, luminance(bg)); /* drawn, faintly */
  /* Weights below 0.01 draw nothing: halfway along key 2 -> query 0 is background. */
  int none[3];
  darkest_near(&p, (l->key_x[2] + l->query_x[0]) / 2, my, none);
  g_assert_cmpfloat(luminance(none), >=, luminance(bg) - 1);
  picture_free(&p);
  /* Highlighting query 1 fades query 0's heavy line. */
  o.highlight_row = 1;
  p = export_png(t, &o, 2);
  int faded[3];
  darkest_near(&p, (p.layout->key_x[0] + p.layout->query_x[0]) / 2, my, faded);
  g_assert_cmpfloat(luminance(faded), >, luminance(heavy) + 60);
  picture_free(&p);
  attn_trace_free(t);
}

static void test_flow_self_attention(void) {
  attn_trace *t = trace_5x7();
  float enc[49];
  for (int k = 0; k < 49; k++) enc[k] = k % 8 == 0 ? 0.7f : 0.05f;
  g_assert_nonnull(attn_trace_add_map(t, "encoder", ATTN_MAP_ENCODER, 0, 0, 7, 7, enc));
  LensRenderOptions o;
  lens_render_options_init(&o);
  o.view = LENS_VIEW_FLOW;
  o.map_index = 1;
  o.dark = 1;
  double w, h;
  lens_render_size(t, &o, &w, &h);
  LensLayout *l = layout_of(t, &o, w, h);
  g_assert_cmpint(l->rows, ==, 7);
  g_assert_cmpint(l->cols, ==, 7);
  for (int k = 0; k < 7; k++) { /* the same tokens, so the same label widths */
    g_assert_cmpfloat(fabs(l->row_labels[k].w - l->col_labels[k].w), <, 0.01);
    g_assert_cmpfloat(fabs(l->key_x[k] - l->query_x[k]), <, 0.01);
  }
  g_free(l);
  attn_trace_free(t);
}

/* ---- export ---- */

static void check_magic(const char *path, const char *const *magic) {
  gchar *data = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, &data, &len, NULL));
  int ok = 0;
  for (; *magic; magic++) ok = ok || (len >= strlen(*magic) && memcmp(data, *magic, strlen(*magic)) == 0);
  if (!ok) g_error("%s starts with the wrong bytes", path);
  g_free(data);
}

static void test_export_formats(void) {
  attn_trace *t = trace_5x7();
  char *dir = tmp_dir();
  const char *png[] = {"\x89PNG\r\n\x1a\n", NULL}, *svg[] = {"<?xml", "<svg", NULL}, *pdf[] = {"%PDF", NULL};
  const struct { const char *name; const char *const *magic; LensView view; } files[] = {
      {"m.png", png, LENS_VIEW_MATRIX}, {"m.SVG", svg, LENS_VIEW_MATRIX}, {"m.pdf", pdf, LENS_VIEW_MATRIX},
      {"f.png", png, LENS_VIEW_FLOW}, {"f.svg", svg, LENS_VIEW_FLOW}, {"f.Pdf", pdf, LENS_VIEW_FLOW},
  };
  LensRenderOptions o;
  lens_render_options_init(&o);
  for (size_t k = 0; k < G_N_ELEMENTS(files); k++) {
    char *path = g_build_filename(dir, files[k].name, NULL);
    attn_error err = {0};
    o.view = files[k].view;
    g_assert_cmpint(lens_export(t, &o, path, 1, &err), ==, ATTN_OK);
    check_magic(path, files[k].magic);
    g_free(path);
  }
  g_assert_cmpint(dir_entries(dir), ==, (int)G_N_ELEMENTS(files)); /* no temporary left */
  remove_dir(dir);
  attn_trace_free(t);
}

static void expect_export_fails(const attn_trace *t, const char *path, double scale,
                                attn_status code, const char *in_message) {
  LensRenderOptions o;
  lens_render_options_init(&o);
  attn_error err = {0};
  g_assert_cmpint(lens_export(t, &o, path, scale, &err), ==, code);
  if (!strstr(err.message, in_message)) g_error("message '%s' lacks '%s'", err.message, in_message);
  g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
}

static void test_export_failures(void) {
  attn_trace *t = trace_5x7();
  char *dir = tmp_dir();
  char *xyz = g_build_filename(dir, "pic.xyz", NULL), *none = g_build_filename(dir, "noext", NULL);
  char *missing = g_build_filename(dir, "no-such-dir", "pic.png", NULL);
  char *big = g_build_filename(dir, "big.png", NULL);
  expect_export_fails(t, xyz, 1, ATTN_E_ARG, "unsupported format '.xyz' (use .png, .svg or .pdf)");
  expect_export_fails(t, none, 1, ATTN_E_ARG, "unsupported format");
  expect_export_fails(t, missing, 1, ATTN_E_IO, missing);
  expect_export_fails(t, missing, 1, ATTN_E_IO, "no-such-dir: No such file or directory"); /* why, not cairo's words */
  expect_export_fails(t, big, 60, ATTN_E_ARG, "limit");
  expect_export_fails(t, big, 0, ATTN_E_ARG, "scale");
  expect_export_fails(t, big, NAN, ATTN_E_ARG, "scale");
  if (geteuid() != 0) { /* root writes anywhere; then /proc stands in for a read-only dir */
    char *ro = g_build_filename(dir, "ro", NULL), *in_ro = g_build_filename(ro, "pic.pdf", NULL);
    g_assert_cmpint(g_mkdir(ro, 0555), ==, 0);
    expect_export_fails(t, in_ro, 1, ATTN_E_IO, in_ro);
    g_assert_cmpint(dir_entries(ro), ==, 0);
    g_rmdir(ro);
    g_free(ro);
    g_free(in_ro);
  } else if (g_file_test("/proc/self", G_FILE_TEST_IS_DIR)) {
    expect_export_fails(t, "/proc/attnlens-test.svg", 1, ATTN_E_IO, "/proc/attnlens-test.svg");
    expect_export_fails(t, "/proc/attnlens-test.png", 1, ATTN_E_IO, "/proc/attnlens-test.png");
  }
  g_assert_cmpint(dir_entries(dir), ==, 0); /* nothing left behind */
  g_free(xyz);
  g_free(none);
  g_free(missing);
  g_free(big);
  remove_dir(dir);
  attn_trace_free(t);
}

/* A trace of 100k source tokens: every size is computed without overflowing an int (the
 * 1/1024-unit widths Pango takes overflowed before the size limit was checked; UBSan's
 * float-cast-overflow check fails this test then), and the export is refused as too big. */
static void test_huge_trace(void) {
  attn_trace *t = trace_long(1, 100000);
  char *dir = tmp_dir(), *big = g_build_filename(dir, "big.svg", NULL);
  LensView views[] = {LENS_VIEW_MATRIX, LENS_VIEW_FLOW};
  for (size_t i = 0; i < G_N_ELEMENTS(views); i++) {
    LensRenderOptions o;
    lens_render_options_init(&o);
    o.view = views[i];
    double w = 0, h = 0;
    lens_render_size(t, &o, &w, &h);
    g_test_message("%s: %.0f x %.0f", lens_view_name(views[i]), w, h);
    g_assert_cmpfloat(fmax(w, h), >, 2.1e6); /* past INT_MAX / PANGO_SCALE */
    attn_error err = {0};
    g_assert_cmpint(lens_export(t, &o, big, 1, &err), ==, ATTN_E_ARG);
    g_assert_nonnull(strstr(err.message, "more than the limit"));
  }
  g_assert_cmpint(dir_entries(dir), ==, 0);
  g_free(big);
  remove_dir(dir);
  attn_trace_free(t);
}

static void test_export_hidpi(void) {
  attn_trace *t = trace_5x7();
  LensRenderOptions o;
  lens_render_options_init(&o);
  Picture one = export_png(t, &o, 1), two = export_png(t, &o, 2);
  g_assert_cmpint(cairo_image_surface_get_width(two.png), ==, 2 * cairo_image_surface_get_width(one.png));
  g_assert_cmpint(cairo_image_surface_get_height(two.png), ==, 2 * cairo_image_surface_get_height(one.png));
  picture_free(&one);
  picture_free(&two);
  attn_trace_free(t);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/render/colormap/endpoints", test_colormap_endpoints);
  g_test_add_func("/render/colormap/lightness", test_colormap_lightness);
  g_test_add_func("/render/names", test_names);
  g_test_add_func("/render/token-display", test_token_display);
  g_test_add_func("/render/token-marks", test_token_marks);
  g_test_add_func("/render/matrix/cell-colours", test_matrix_cells);
  g_test_add_func("/render/matrix/big-map-image", test_matrix_big_map);
  g_test_add_func("/render/matrix/labels-do-not-overlap", test_matrix_labels);
  g_test_add_func("/render/matrix/colorbar", test_matrix_colorbar);
  g_test_add_func("/render/matrix/highlight", test_matrix_highlight);
  g_test_add_func("/render/matrix/hit-test", test_matrix_hit);
  g_test_add_func("/render/matrix/dark-values", test_matrix_dark_values);
  g_test_add_func("/render/no-map", test_no_map);
  g_test_add_func("/render/flow/lines", test_flow_lines);
  g_test_add_func("/render/flow/self-attention", test_flow_self_attention);
  g_test_add_func("/render/export/formats", test_export_formats);
  g_test_add_func("/render/export/failures", test_export_failures);
  g_test_add_func("/render/export/hidpi", test_export_hidpi);
  g_test_add_func("/render/huge-trace", test_huge_trace);
  return g_test_run();
}
