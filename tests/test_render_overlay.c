/* The overlay and storyboard views of caption traces: pixels (the heat is brightest over the
 * attended cell, with every upsampling and blur), layout, the image under the heat, export, and
 * traces that have no grid. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "lens_overlay.h"
#include "lens_render.h"

#define G 12

/* A caption trace over a 12x12 grid: word w looks mostly at cell peaks[w]. */
static attn_trace *caption_trace(const int *peaks, int n) {
  attn_trace *t = attn_trace_new(ATTN_TASK_CAPTION, "caption-test");
  const char *words[] = {"a", "small", "red", "circle", "</s>"};
  float probs[5] = {0.9f, 0.8f, 0.7f, 0.95f, 0.99f}, beta[5] = {0.2f, 0.5f, 0.9f, 0.75f, 0.1f};
  g_assert_cmpint(attn_tokens_set(&t->output, n, words, NULL, probs, "a small red circle"), ==, 0);
  g_assert_cmpint(attn_beta_set(&t->beta, n, beta), ==, 0);
  t->image_width = 200, t->image_height = 100, t->grid_rows = G, t->grid_cols = G;
  float *w = g_new(float, (size_t)n * G * G);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < G * G; j++) w[i * G * G + j] = j == peaks[i] ? 0.5f : 0.5f / (G * G - 1);
  attn_trace_add_map(t, "cross", ATTN_MAP_CROSS, -1, -1, n, G * G, w);
  g_free(w);
  attn_error err = {0};
  g_assert_cmpint(attn_trace_validate(t, &err), ==, ATTN_OK);
  return t;
}

/* A uniform grey image in Cairo's ARGB32 layout. */
static LensImage grey_image(int w, int h, guint32 **pixels) {
  *pixels = g_new(guint32, (size_t)w * h);
  for (int i = 0; i < w * h; i++) (*pixels)[i] = 0xff808080u;
  return (LensImage){w, h, 4 * w, (const unsigned char *)*pixels};
}

static cairo_surface_t *render(const attn_trace *t, const LensRenderOptions *o, LensLayout *l) {
  double w, h;
  lens_render_size(t, o, &w, &h);
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, (int)w, (int)h);
  cairo_t *cr = cairo_create(s);
  g_assert_cmpint(lens_render(cr, t, o, w, h, l), ==, ATTN_OK);
  cairo_destroy(cr);
  cairo_surface_flush(s);
  return s;
}

static double luminance(cairo_surface_t *s, double x, double y) {
  const unsigned char *p = cairo_image_surface_get_data(s) + (int)y * cairo_image_surface_get_stride(s) + 4 * (int)x;
  return 0.2126 * p[2] + 0.7152 * p[1] + 0.0722 * p[0];
}

/* The cell whose centre is brightest in the image box of the layout. */
static int brightest_cell(cairo_surface_t *s, const LensLayout *l) {
  int best = -1;
  double top = -1;
  for (int r = 0; r < l->rows; r++)
    for (int c = 0; c < l->cols; c++) {
      double v = luminance(s, l->grid.x + (c + 0.5) * l->cell_w, l->grid.y + (r + 0.5) * l->cell_h);
      if (v > top) top = v, best = r * l->cols + c;
    }
  return best;
}

static void test_brightest_over_attended_cell(void) {
  const int peaks[] = {3 * G + 8, 10 * G + 1, 0, 6 * G + 6};
  attn_trace *t = caption_trace(peaks, 4);
  guint32 *px;
  LensImage img = grey_image(96, 48, &px);
  const LensUpsample ups[] = {LENS_UPSAMPLE_BILINEAR, LENS_UPSAMPLE_BICUBIC, LENS_UPSAMPLE_NEAREST};
  for (int u = 0; u < 3; u++)
    for (int b = 0; b < 2; b++)
      for (int word = 0; word < 4; word++) {
        LensRenderOptions o;
        lens_render_options_init(&o);
        o.view = LENS_VIEW_OVERLAY, o.image = &img, o.highlight_row = word, o.upsample = ups[u], o.blur = b ? 0.7 : 0;
        LensLayout l;
        cairo_surface_t *s = render(t, &o, &l);
        g_assert_cmpint(l.rows, ==, G);
        g_assert_cmpint(l.cols, ==, G);
        g_assert_cmpfloat(fabs(l.grid.w / l.grid.h - 2.0), <, 0.02); /* the image's aspect ratio */
        g_assert_cmpint(l.n_row_labels, ==, 4);                     /* the words under the image */
        if (u == 0 && b == 0 && word == 1 && g_getenv("ATTN_SCREENSHOT_DIR")) {
          g_autofree char *p = g_build_filename(g_getenv("ATTN_SCREENSHOT_DIR"), "overlay.png", NULL);
          cairo_surface_write_to_png(s, p);
        }
        g_assert_cmpint(brightest_cell(s, &l), ==, peaks[word]);
        cairo_surface_destroy(s);
      }
  g_free(px);
  attn_trace_free(t);
}

/* Opacity 0 shows the image alone; the heat covers only the image box. */
static void test_opacity_and_image(void) {
  const int peaks[] = {5, 50};
  attn_trace *t = caption_trace(peaks, 2);
  guint32 *px;
  LensImage img = grey_image(32, 16, &px);
  LensRenderOptions o;
  lens_render_options_init(&o);
  o.view = LENS_VIEW_OVERLAY, o.image = &img, o.highlight_row = 1, o.overlay_opacity = 0;
  LensLayout l;
  cairo_surface_t *s = render(t, &o, &l);
  for (int k = 0; k < 10; k++) {
    double x = l.grid.x + l.grid.w * (k + 0.5) / 10, y = l.grid.y + l.grid.h * (k + 0.5) / 10;
    g_assert_cmpfloat(fabs(luminance(s, x, y) - 128), <=, 2);
  }
  g_assert_cmpfloat(luminance(s, l.grid.x - 3, l.grid.y + 5), >, 250); /* background outside */
  cairo_surface_destroy(s);
  o.image = NULL, o.overlay_opacity = 0; /* no pixels: a grey stand-in of the trace's aspect ratio */
  s = render(t, &o, &l);
  g_assert_cmpfloat(fabs(l.grid.w / l.grid.h - 2.0), <, 0.02);
  cairo_surface_destroy(s);
  g_free(px);
  attn_trace_free(t);
}

static void test_storyboard(void) {
  const int peaks[] = {7, 40, 100, 143, 70};
  attn_trace *t = caption_trace(peaks, 5);
  guint32 *px;
  LensImage img = grey_image(64, 32, &px);
  LensRenderOptions o;
  lens_render_options_init(&o);
  o.view = LENS_VIEW_STORYBOARD, o.image = &img, o.highlight_row = 2;
  LensLayout l;
  cairo_surface_t *s = render(t, &o, &l);
  g_assert_cmpint(l.n_row_labels, ==, 5); /* one thumbnail per word, after the image itself */
  for (int i = 0; i < 5; i++) {
    const LensRect *r = &l.row_labels[i];
    int best = -1;
    double top = -1;
    for (int c = 0; c < G * G; c++) {
      double v = luminance(s, r->x + (c % G + 0.5) * r->w / G, r->y + (c / G + 0.5) * r->h / G);
      if (v > top) top = v, best = c;
    }
    g_assert_cmpint(best, ==, peaks[i]);
    int row = -2, col = -2;
    g_assert_true(lens_layout_hit_label(&l, r->x + r->w / 2, r->y + r->h / 2, &row, &col));
    g_assert_cmpint(row, ==, i);
  }
  g_assert_cmpfloat(l.row_labels[1].x, >, l.row_labels[0].x); /* left to right */
  if (g_getenv("ATTN_SCREENSHOT_DIR")) {
    g_autofree char *p = g_build_filename(g_getenv("ATTN_SCREENSHOT_DIR"), "storyboard.png", NULL);
    cairo_surface_write_to_png(s, p);
  }
  cairo_surface_destroy(s);
  g_free(px);
  attn_trace_free(t);
}

static void test_heat(void) {
  float w[G * G];
  for (int j = 0; j < G * G; j++) w[j] = (float)(j % 7) / 7.0f;
  float out[G * G], big[96 * 96];
  const LensUpsample ups[] = {LENS_UPSAMPLE_BILINEAR, LENS_UPSAMPLE_BICUBIC, LENS_UPSAMPLE_NEAREST};
  for (int u = 0; u < 3; u++) { /* one sample per cell: the cell values themselves */
    g_assert_cmpint(lens_overlay_heat(w, G, G, G, G, ups[u], 0, 1.0, out), ==, 0);
    for (int j = 0; j < G * G; j++) g_assert_cmpfloat(fabs(out[j] - w[j]), <, 1e-6);
  }
  float peak[G * G] = {0};
  peak[5 * G + 5] = 1;
  g_assert_cmpint(lens_overlay_heat(peak, G, G, 96, 96, LENS_UPSAMPLE_BILINEAR, 1.0, 1.0, big), ==, 0);
  int best = 0;
  for (int i = 0; i < 96 * 96; i++) best = big[i] > big[best] ? i : best;
  g_assert_cmpint(best / 96 / 8, ==, 5);
  g_assert_cmpint(best % 96 / 8, ==, 5);
  g_assert_cmpfloat(big[best], <, 0.5); /* blurred out */
  for (int i = 0; i < 96 * 96; i++) g_assert_true(big[i] >= 0 && big[i] <= 1);
}

static void test_no_grid_and_export(void) {
  const int peaks[] = {1, 2, 3};
  attn_trace *t = caption_trace(peaks, 3);
  attn_trace *tr = attn_trace_new(ATTN_TASK_TRANSLATE, "mt"); /* no image grid */
  const char *toks[] = {"a", "b"};
  attn_tokens_set(&tr->source, 2, toks, NULL, NULL, NULL);
  attn_tokens_set(&tr->output, 2, toks, NULL, NULL, NULL);
  attn_trace_add_map(tr, "cross", ATTN_MAP_CROSS, -1, -1, 2, 2, (float[]){0.5f, 0.5f, 1, 0});
  LensRenderOptions o;
  lens_render_options_init(&o);
  o.view = LENS_VIEW_OVERLAY;
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 300, 200);
  cairo_t *cr = cairo_create(s);
  g_assert_cmpint(lens_render(cr, tr, &o, 300, 200, NULL), ==, ATTN_E_ARG); /* a message instead */
  cairo_destroy(cr);
  cairo_surface_destroy(s);
  g_autofree char *dir = g_dir_make_tmp("attn-overlay-XXXXXX", NULL);
  const char *names[] = {"o.png", "o.svg", "o.pdf"};
  for (int v = 0; v < 2; v++)
    for (int i = 0; i < 3; i++) {
      o.view = v ? LENS_VIEW_STORYBOARD : LENS_VIEW_OVERLAY;
      g_autofree char *p = g_build_filename(dir, names[i], NULL);
      attn_error err = {0};
      g_assert_cmpint(lens_export(t, &o, p, 2.0, &err), ==, ATTN_OK);
      g_assert_true(g_file_test(p, G_FILE_TEST_IS_REGULAR));
      g_unlink(p);
    }
  g_rmdir(dir);
  LensView view;
  g_assert_cmpint(lens_view_from_name("overlay", &view), ==, 0);
  g_assert_cmpint(view, ==, LENS_VIEW_OVERLAY);
  g_assert_cmpint(lens_view_from_name("Storyboard", &view), ==, 0);
  g_assert_cmpstr(lens_view_name(view), ==, "storyboard");
  attn_trace_free(tr);
  attn_trace_free(t);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/render/overlay/brightest-over-attended-cell", test_brightest_over_attended_cell);
  g_test_add_func("/render/overlay/opacity-and-image", test_opacity_and_image);
  g_test_add_func("/render/overlay/storyboard", test_storyboard);
  g_test_add_func("/render/overlay/heat", test_heat);
  g_test_add_func("/render/overlay/no-grid-and-export", test_no_grid_and_export);
  return g_test_run();
}
