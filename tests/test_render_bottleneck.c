/* ui/render's bottleneck view of a translation model without attention: the summary vector's
 * cells, the token labels and hit tests, exports, zoom, compare mode and edge cases. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "lens_render.h"

/* n_src source and n_out output tokens, and a summary of dim values from `values` (or an even
 * ramp from -1 to 1 when NULL). */
static attn_trace *trace_with_summary(int n_src, int n_out, int dim, const float *values) {
  attn_trace *t = attn_trace_new(ATTN_TASK_TRANSLATE, "rnn-noattn");
  char **src = g_new0(char *, n_src + 1), **out = g_new0(char *, n_out + 1);
  for (int j = 0; j < n_src; j++) src[j] = g_strdup_printf("▁src%d", j);
  for (int i = 0; i < n_out; i++) out[i] = g_strdup_printf("▁Wort%d", i);
  g_assert_cmpint(attn_tokens_set(&t->source, n_src, (const char *const *)src, NULL, NULL, NULL), ==, 0);
  g_assert_cmpint(attn_tokens_set(&t->output, n_out, (const char *const *)out, NULL, NULL, NULL), ==, 0);
  float *v = g_new(float, dim);
  for (int k = 0; k < dim; k++) v[k] = values ? values[k] : (dim > 1 ? -1.0f + 2.0f * k / (dim - 1) : 0.5f);
  g_assert_cmpint(attn_trace_set_summary(t, dim, v), ==, 0);
  g_free(v);
  g_strfreev(src);
  g_strfreev(out);
  return t;
}

/* Draws t at its natural size into an image; layout receives where things went. */
static cairo_surface_t *draw(const attn_trace *t, const LensRenderOptions *o, LensLayout *layout) {
  double w, h;
  lens_render_size(t, o, &w, &h);
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, (int)w, (int)h);
  cairo_t *cr = cairo_create(s);
  g_assert_cmpint(lens_render(cr, t, o, w, h, layout), ==, ATTN_OK);
  g_assert_cmpint(cairo_status(cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy(cr);
  cairo_surface_flush(s);
  return s;
}

static void pixel(cairo_surface_t *s, double x, double y, int rgb[3]) {
  const unsigned char *p = cairo_image_surface_get_data(s) + (int)y * cairo_image_surface_get_stride(s) + 4 * (int)x;
  rgb[0] = p[2], rgb[1] = p[1], rgb[2] = p[0];
}

static void cell_centre(const LensLayout *l, int k, double *x, double *y) {
  *x = l->grid.x + (k % l->vec_cols + 0.5) * l->cell_w;
  *y = l->grid.y + (k / l->vec_cols + 0.5) * l->cell_h;
}

/* Whatever view is asked for, a trace without maps but with a summary is the bottleneck view. */
static void test_chosen(void) {
  attn_trace *t = trace_with_summary(5, 4, 512, NULL);
  g_assert_true(lens_render_is_bottleneck(t));
  g_assert_true(lens_render_has_picture(t));
  LensView views[] = {LENS_VIEW_MATRIX, LENS_VIEW_FLOW};
  for (int v = 0; v < 2; v++) {
    LensRenderOptions o;
    lens_render_options_init(&o);
    o.view = views[v];
    attn_error err = {0};
    g_assert_cmpint(lens_render_check(t, &o, &err), ==, ATTN_OK);
    LensLayout *l = g_new0(LensLayout, 1);
    cairo_surface_t *s = draw(t, &o, l);
    g_assert_cmpint(l->view, ==, LENS_VIEW_BOTTLENECK);
    g_assert_cmpint(l->rows, ==, 4);
    g_assert_cmpint(l->cols, ==, 5);
    g_assert_cmpint(l->n_row_labels, ==, 4);
    g_assert_cmpint(l->n_col_labels, ==, 5);
    g_assert_cmpint(l->vec_n, ==, 512);
    g_assert_cmpint(l->vec_cols, ==, 16); /* 16 x 32 cells */
    g_assert_cmpfloat(fabs(l->grid.h / l->cell_h - 32), <, 1e-6);
    g_test_message("vector at %.0f,%.0f size %.0f x %.0f, cells %.1f", l->grid.x, l->grid.y, l->grid.w, l->grid.h, l->cell_w);
    /* sources left of the vector, outputs right of it, in order from top to bottom */
    for (int j = 0; j < 5; j++) g_assert_cmpfloat(l->col_labels[j].x + l->col_labels[j].w, <, l->grid.x);
    for (int i = 0; i < 4; i++) g_assert_cmpfloat(l->row_labels[i].x, >, l->grid.x + l->grid.w);
    for (int j = 1; j < 5; j++) g_assert_cmpfloat(l->col_labels[j].y, >=, l->col_labels[j - 1].y + l->col_labels[j - 1].h);
    for (int i = 1; i < 4; i++) g_assert_cmpfloat(l->row_labels[i].y, >=, l->row_labels[i - 1].y + l->row_labels[i - 1].h);
    /* hit tests: labels answer with their token, cells with their value's index, no matrix cell anywhere */
    int r, c, k;
    for (int i = 0; i < 4; i++) {
      LensRect b = l->row_labels[i];
      g_assert_true(lens_layout_hit_label(l, b.x + b.w / 2, b.y + b.h / 2, &r, &c));
      g_assert_cmpint(r, ==, i);
      g_assert_cmpint(c, ==, -1);
    }
    for (int j = 0; j < 5; j++) {
      LensRect b = l->col_labels[j];
      g_assert_true(lens_layout_hit_label(l, b.x + b.w / 2, b.y + b.h / 2, &r, &c));
      g_assert_cmpint(c, ==, j);
    }
    for (int q = 0; q < 512; q += 37) {
      double x, y;
      cell_centre(l, q, &x, &y);
      g_assert_true(lens_layout_hit_vector(l, x, y, &k));
      g_assert_cmpint(k, ==, q);
      g_assert_false(lens_layout_hit(l, x, y, &r, &c));
    }
    g_assert_false(lens_layout_hit_vector(l, l->grid.x - 2, l->grid.y, &k));
    g_free(l);
    cairo_surface_destroy(s);
  }
  attn_trace_free(t);
}

/* Colours follow the values: negative values are bluer than red, positive redder than blue, the
 * further from zero the darker on either side; zero is near white, and changing one value changes
 * that cell alone. */
static void test_cell_colours(void) {
  attn_trace *t = trace_with_summary(3, 3, 512, NULL);
  LensRenderOptions o;
  lens_render_options_init(&o);
  LensLayout *l = g_new0(LensLayout, 1);
  cairo_surface_t *s = draw(t, &o, l);
  int rgb[3], prev_light[2] = {1000, 1000}, darker[2] = {0, 0};
  for (int step = 0; step < 32; step++) { /* outwards from the middle, on both sides */
    for (int side = 0; side < 2; side++) {
      int k = side ? 256 + 8 * step : 255 - 8 * step;
      double x, y, v = -1.0 + 2.0 * k / 511;
      cell_centre(l, k, &x, &y);
      pixel(s, x, y, rgb);
      if (v < -0.1) g_assert_cmpint(rgb[2], >, rgb[0]);
      if (v > 0.1) g_assert_cmpint(rgb[0], >, rgb[2]);
      int light = rgb[0] + rgb[1] + rgb[2];
      g_assert_cmpint(light, <=, prev_light[side] + 3);
      darker[side] += light < prev_light[side] - 3;
      prev_light[side] = light;
    }
  }
  g_assert_cmpint(darker[0], >, 10);
  g_assert_cmpint(darker[1], >, 10);
  double x, y;
  cell_centre(l, 0, &x, &y); /* -1: blue */
  pixel(s, x, y, rgb);
  g_assert_cmpint(rgb[2], >, rgb[0] + 40);
  cell_centre(l, 511, &x, &y); /* +1: red */
  pixel(s, x, y, rgb);
  g_assert_cmpint(rgb[0], >, rgb[2] + 40);
  float zero[512] = {0};
  zero[7] = 0.8f; /* the scale is +-0.8 */
  attn_trace *z = trace_with_summary(3, 3, 512, zero);
  LensLayout *lz = g_new0(LensLayout, 1);
  cairo_surface_t *sz = draw(z, &o, lz);
  zero[7] = -0.8f;
  attn_trace *z2 = trace_with_summary(3, 3, 512, zero);
  LensLayout *lz2 = g_new0(LensLayout, 1);
  cairo_surface_t *sz2 = draw(z2, &o, lz2);
  int a[3], b[3], changed = 0;
  for (int k = 0; k < 512; k++) {
    cell_centre(lz, k, &x, &y);
    pixel(sz, x, y, a);
    cell_centre(lz2, k, &x, &y);
    pixel(sz2, x, y, b);
    int differs = abs(a[0] - b[0]) + abs(a[1] - b[1]) + abs(a[2] - b[2]) > 30;
    changed += differs;
    if (k == 7) g_assert_true(differs);
    else for (int c = 0; c < 3; c++) g_assert_cmpint(a[c], >, 220); /* zero: near white */
  }
  g_assert_cmpint(changed, ==, 1);
  cairo_surface_destroy(s), cairo_surface_destroy(sz), cairo_surface_destroy(sz2);
  g_free(l), g_free(lz), g_free(lz2);
  attn_trace_free(t), attn_trace_free(z), attn_trace_free(z2);
}

static void check_file(const char *path, const char *magic) {
  char *data = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, &data, &len, NULL));
  g_assert_cmpuint(len, >, 1000);
  g_assert_cmpmem(data, strlen(magic), magic, strlen(magic));
  g_free(data);
}

static void test_export(void) {
  attn_trace *t = trace_with_summary(7, 9, 512, NULL);
  LensRenderOptions o;
  lens_render_options_init(&o);
  g_autofree char *dir = g_dir_make_tmp("attn-bottleneck-XXXXXX", NULL);
  const char *names[] = {"b.png", "b.svg", "b.pdf"}, *magic[] = {"\x89PNG", "<?xml", "%PDF"};
  for (int i = 0; i < 3; i++) {
    g_autofree char *p = g_build_filename(dir, names[i], NULL);
    attn_error err = {0};
    g_assert_cmpint(lens_export(t, &o, p, 2.0, &err), ==, ATTN_OK);
    check_file(p, magic[i]);
    if (i == 0) {
      double w, h;
      lens_render_size(t, &o, &w, &h);
      cairo_surface_t *s = cairo_image_surface_create_from_png(p);
      g_assert_cmpint(cairo_image_surface_get_width(s), ==, (int)ceil(w * 2));
      g_assert_cmpint(cairo_image_surface_get_height(s), ==, (int)ceil(h * 2));
      cairo_surface_destroy(s);
    }
    if (i == 1) { /* the caption is there as text */
      g_autofree char *svg = NULL;
      g_assert_true(g_file_get_contents(p, &svg, NULL, NULL));
      g_assert_nonnull(strstr(svg, "<svg"));
    }
    g_remove(p);
  }
  g_rmdir(dir);
  attn_trace_free(t);
}

/* No tokens, one token, a single value, all values zero: drawn, nothing out of range. */
static void test_edge_cases(void) {
  struct { int src, out, dim; } cases[] = {{0, 0, 512}, {1, 0, 4}, {0, 1, 4}, {1, 1, 1}, {2, 3, 7}};
  for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
    float *zeros = g_new0(float, cases[c].dim);
    for (int variant = 0; variant < 2; variant++) {
      attn_trace *t = trace_with_summary(cases[c].src, cases[c].out, cases[c].dim, variant ? zeros : NULL);
      LensRenderOptions o;
      lens_render_options_init(&o);
      o.highlight_row = 0, o.highlight_col = 5, o.reveal_rows = 2; /* out of range for some: ignored */
      LensLayout *l = g_new0(LensLayout, 1);
      cairo_surface_t *s = draw(t, &o, l);
      g_assert_cmpint(l->view, ==, LENS_VIEW_BOTTLENECK);
      g_assert_cmpint(l->cols, ==, cases[c].src);
      g_assert_cmpint(l->rows, ==, MIN(cases[c].out, 2));
      g_assert_cmpint(l->vec_n, ==, cases[c].dim);
      int k = -1;
      g_assert_true(lens_layout_hit_vector(l, l->grid.x + 0.5 * l->cell_w, l->grid.y + 0.5 * l->cell_h, &k));
      g_assert_cmpint(k, ==, 0);
      g_assert_false(lens_layout_hit_vector(l, l->grid.x + l->grid.w - 0.1, l->grid.y + l->grid.h - 0.1, &k) &&
                     k >= cases[c].dim);
      cairo_surface_destroy(s);
      g_free(l);
      attn_trace_free(t);
    }
    g_free(zeros);
  }
  /* a trace with neither maps nor a summary is not a bottleneck: the usual message */
  attn_trace *t = trace_with_summary(2, 2, 4, NULL);
  attn_trace_set_summary(t, 0, NULL);
  g_assert_false(lens_render_has_picture(t));
  LensRenderOptions o;
  lens_render_options_init(&o);
  attn_error err = {0};
  g_assert_cmpint(lens_render_check(t, &o, &err), ==, ATTN_E_ARG);
  attn_trace_free(t);
}

/* The largest summary the engine allows and a long sentence: a bounded picture, drawn as one
 * image (quickly), exportable. */
static void test_huge(void) {
  attn_trace *t = trace_with_summary(300, 400, ATTN_TRACE_MAX_SUMMARY, NULL);
  LensRenderOptions o;
  lens_render_options_init(&o);
  double w, h;
  lens_render_size(t, &o, &w, &h);
  g_test_message("natural size %.0f x %.0f", w, h);
  g_assert_cmpfloat(w, <, 2000);
  g_assert_cmpfloat(h, <, LENS_EXPORT_MAX_SIDE);
  LensLayout *l = g_new0(LensLayout, 1);
  gint64 t0 = g_get_monotonic_time();
  cairo_surface_t *s = draw(t, &o, l);
  g_test_message("drawn in %.0f ms", (g_get_monotonic_time() - t0) / 1000.0);
  g_assert_cmpint(l->vec_n, ==, ATTN_TRACE_MAX_SUMMARY);
  g_assert_cmpint(l->n_col_labels, ==, 300);
  g_assert_cmpint(l->n_row_labels, ==, 400);
  int first[3], last[3];
  double x, y;
  cell_centre(l, 0, &x, &y);
  pixel(s, x, y, first);
  cell_centre(l, ATTN_TRACE_MAX_SUMMARY - 1, &x, &y);
  pixel(s, x, y, last);
  g_assert_cmpint(first[2], >, first[0]);
  g_assert_cmpint(last[0], >, last[2]);
  cairo_surface_destroy(s);
  g_free(l);
  g_autofree char *dir = g_dir_make_tmp("attn-bottleneck-XXXXXX", NULL);
  g_autofree char *p = g_build_filename(dir, "huge.pdf", NULL);
  attn_error err = {0};
  g_assert_cmpint(lens_export(t, &o, p, 1.0, &err), ==, ATTN_OK);
  check_file(p, "%PDF");
  g_remove(p);
  g_rmdir(dir);
  attn_trace_free(t);
}

/* The zoom makes text and cells larger; labels stay at least 9 pt high at the legible zoom. */
static void test_zoom(void) {
  attn_trace *t = trace_with_summary(12, 14, 512, NULL);
  LensRenderOptions o;
  lens_render_options_init(&o);
  double w1, h1, w2, h2;
  lens_render_size(t, &o, &w1, &h1);
  o.zoom = 2.0;
  lens_render_size(t, &o, &w2, &h2);
  g_assert_cmpfloat(fabs(w2 - 2 * w1), <=, 1);
  g_assert_cmpfloat(fabs(h2 - 2 * h1), <=, 1);
  LensLayout *l1 = g_new0(LensLayout, 1), *l2 = g_new0(LensLayout, 1);
  o.zoom = 1.0;
  cairo_surface_destroy(draw(t, &o, l1));
  o.zoom = 2.0;
  cairo_surface_destroy(draw(t, &o, l2));
  g_assert_cmpfloat(fabs(l2->cell_w - 2 * l1->cell_w), <, 1e-6);
  g_assert_cmpfloat(fabs(l2->row_labels[3].h - 2 * l1->row_labels[3].h), <, 0.01);
  /* a capital and a descender of 11 pt at zoom 1: ink about 10 units; at the legible zoom >= 7 */
  g_assert_cmpfloat(l1->row_labels[0].h * LENS_LEGIBLE_ZOOM, >=, 7.0);
  g_free(l1), g_free(l2);
  attn_trace_free(t);
}

/* Compare mode: the bottleneck view beside a model's attention matrix, in one picture. */
static void test_compare(void) {
  attn_trace *a = trace_with_summary(4, 5, 512, NULL);
  attn_trace *b = attn_trace_new(ATTN_TASK_TRANSLATE, "with-attention");
  const char *toks[] = {"▁a", "▁b", "▁c"};
  float w[9] = {0.8f, 0.1f, 0.1f, 0.1f, 0.8f, 0.1f, 0.1f, 0.1f, 0.8f};
  attn_tokens_set(&b->source, 3, toks, NULL, NULL, NULL);
  attn_tokens_set(&b->output, 3, toks, NULL, NULL, NULL);
  g_assert_nonnull(attn_trace_add_map(b, "cross", ATTN_MAP_CROSS, -1, -1, 3, 3, w));
  LensRenderOptions oa, ob;
  lens_render_options_init(&oa);
  lens_render_options_init(&ob);
  double wa, ha, wb, hb, wc, hc;
  lens_render_size(a, &oa, &wa, &ha);
  lens_render_size(b, &ob, &wb, &hb);
  oa.compare = b, oa.compare_options = &ob;
  lens_render_size(a, &oa, &wc, &hc);
  g_assert_cmpfloat(wc, ==, wa + 24 + wb);
  g_assert_cmpfloat(hc, ==, fmax(ha, hb));
  LensLayout *l = g_new0(LensLayout, 1);
  cairo_surface_t *s = draw(a, &oa, l);
  g_assert_cmpint(l->view, ==, LENS_VIEW_BOTTLENECK); /* the layout is the left half's */
  /* the right half holds the matrix's cells: the brightest viridis yellow appears there only */
  int yellow[2] = {0, 0}, rgb[3];
  for (int y = 0; y < (int)hc; y++)
    for (int x = 0; x < (int)wc; x++) {
      pixel(s, x, y, rgb);
      if (rgb[0] > 200 && rgb[1] > 200 && rgb[2] < 80) yellow[x > wa]++;
    }
  g_test_message("yellow pixels: %d left, %d right", yellow[0], yellow[1]);
  g_assert_cmpint(yellow[0], ==, 0);
  g_assert_cmpint(yellow[1], >, 300);
  cairo_surface_destroy(s);
  g_free(l);
  attn_trace_free(a), attn_trace_free(b);
}

/* A real-looking sentence: every label inside the picture, none overlapping, the vector between
 * the two columns. ATTN_SCREENSHOT_DIR receives the picture to look at. */
static void test_sentence(void) {
  const char *src[] = {"▁A", "▁little", "▁girl", "▁is", "▁climbing", "▁into", "▁a", "▁wooden", "▁play", "house",
                       "▁while", "▁her", "▁brother", "▁watches", "▁from", "▁the", "▁garden", ".", "</s>"};
  const char *out[] = {"▁Ein", "▁kleines", "▁Mädchen", "▁klettert", "▁in", "▁ein", "▁Spiel", "haus", "▁aus",
                       "▁Holz", ",", "▁während", "▁ihr", "▁Bruder", "▁aus", "▁dem", "▁Garten", "▁zusieht", ".", "</s>"};
  float v[512];
  for (int k = 0; k < 512; k++) v[k] = (float)tanh(1.5 * sin(k * 0.37) * cos(k * 0.051));
  attn_trace *t = trace_with_summary(0, 0, 512, v);
  attn_tokens_set(&t->source, G_N_ELEMENTS(src), src, NULL, NULL, "A little girl ...");
  attn_tokens_set(&t->output, G_N_ELEMENTS(out), out, NULL, NULL, "Ein kleines ...");
  for (int dark = 0; dark < 2; dark++) {
    LensRenderOptions o;
    lens_render_options_init(&o);
    o.dark = dark, o.highlight_col = dark ? 4 : -1;
    double w, h;
    lens_render_size(t, &o, &w, &h);
    LensLayout *l = g_new0(LensLayout, 1);
    cairo_surface_t *s = draw(t, &o, l);
    g_test_message("natural size %.0f x %.0f", w, h);
    g_assert_cmpint(l->n_col_labels, ==, G_N_ELEMENTS(src));
    g_assert_cmpint(l->n_row_labels, ==, G_N_ELEMENTS(out));
    for (int i = 0; i < l->n_row_labels; i++) {
      LensRect r = l->row_labels[i];
      g_assert_true(r.x >= 0 && r.y >= 0 && r.x + r.w <= w && r.y + r.h <= h);
      if (i) g_assert_cmpfloat(r.y, >=, l->row_labels[i - 1].y + l->row_labels[i - 1].h);
    }
    for (int j = 0; j < l->n_col_labels; j++) {
      LensRect r = l->col_labels[j];
      g_assert_true(r.x >= 0 && r.y >= 0 && r.x + r.w <= l->grid.x && r.y + r.h <= h);
    }
    const char *shots = g_getenv("ATTN_SCREENSHOT_DIR");
    if (shots) {
      g_autofree char *p = g_build_filename(shots, dark ? "bottleneck-dark.png" : "bottleneck.png", NULL);
      cairo_surface_write_to_png(s, p);
    }
    cairo_surface_destroy(s);
    g_free(l);
  }
  attn_trace_free(t);
}

/* Step-through: reveal_rows hides the outputs not reached yet; the highlighted output is lit. */
static void test_reveal(void) {
  attn_trace *t = trace_with_summary(4, 6, 64, NULL);
  LensRenderOptions o;
  lens_render_options_init(&o);
  o.reveal_rows = 3, o.highlight_row = 2;
  LensLayout *l = g_new0(LensLayout, 1);
  cairo_surface_t *s = draw(t, &o, l);
  g_assert_cmpint(l->rows, ==, 3);
  g_assert_cmpint(l->n_row_labels, ==, 3);
  cairo_surface_destroy(s);
  g_free(l);
  attn_trace_free(t);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/render/bottleneck/chosen", test_chosen);
  g_test_add_func("/render/bottleneck/cell-colours", test_cell_colours);
  g_test_add_func("/render/bottleneck/export", test_export);
  g_test_add_func("/render/bottleneck/edge-cases", test_edge_cases);
  g_test_add_func("/render/bottleneck/huge", test_huge);
  g_test_add_func("/render/bottleneck/zoom", test_zoom);
  g_test_add_func("/render/bottleneck/compare", test_compare);
  g_test_add_func("/render/bottleneck/reveal", test_reveal);
  g_test_add_func("/render/bottleneck/sentence", test_sentence);
  return g_test_run();
}
