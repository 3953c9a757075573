/* The Caption page in the real window under Xvfb: an example scene captioned as the engine
 * captions it, the overlay of a word brightest where that word looked (on the object, with
 * the trained model), Compose (add, drag, recolour, delete) with the caption following, paste,
 * export, and broken image files. */
#include <cjson/cJSON.h>
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "attn_caption.h"
#include "lens_caption_page.h"
#include "lens_image.h"
#include "gui_util.h"
#include "lens_window.h"

static LensWindow *window;
static LensCaptionPage *page;

static gboolean wait_for(gboolean (*cond)(gpointer), gpointer data) { return gui_wait_for(cond, data, 20); }

static gboolean page_idle(gpointer p) { return !lens_page_is_busy(LENS_PAGE(p)); }
static gboolean has_trace(gpointer p) { return !lens_page_is_busy(LENS_PAGE(p)) && lens_caption_page_get_trace(p); }

static void settle(void) {
  g_assert_true(wait_for(page_idle, page));
  for (int i = 0; i < 5; i++) {
    while (g_main_context_iteration(NULL, FALSE)) {}
    g_usleep(20000);
  }
}

static void screenshot(GtkWidget *w, const char *name) {
  const char *shots = g_getenv("ATTN_SCREENSHOT_DIR");
  if (!shots) return;
  settle();
  cairo_surface_t *s = gui_render_widget(w);
  g_autofree char *p = g_build_filename(shots, name, NULL);
  cairo_surface_write_to_png(s, p);
  cairo_surface_destroy(s);
}

static const unsigned char *pixel(cairo_surface_t *s, double x, double y) {
  return cairo_image_surface_get_data(s) + (int)y * cairo_image_surface_get_stride(s) + 4 * (int)x; /* BGRA */
}

static double luminance(cairo_surface_t *s, double x, double y) {
  const unsigned char *p = pixel(s, x, y);
  return 0.2126 * p[2] + 0.7152 * p[1] + 0.0722 * p[0];
}

/* The cell whose centre is brightest on the canvas, in the image box of the last drawing. */
static int brightest_cell(void) {
  settle();
  cairo_surface_t *s = gui_render_widget(lens_caption_page_get_canvas(page));
  const LensLayout *l = lens_caption_page_get_layout(page);
  const attn_trace *t = lens_caption_page_get_trace(page);
  int best = -1;
  double top = -1;
  for (int r = 0; r < t->grid_rows; r++)
    for (int c = 0; c < t->grid_cols; c++) {
      double v = luminance(s, l->grid.x + (c + 0.5) * l->grid.w / t->grid_cols, l->grid.y + (r + 0.5) * l->grid.h / t->grid_rows);
      if (v > top) top = v, best = r * t->grid_cols + c;
    }
  cairo_surface_destroy(s);
  return best;
}

static int argmax_cell(const attn_trace *t, int word) {
  const float *row = t->maps[0].weights + (size_t)word * t->maps[0].cols;
  int best = 0;
  for (int j = 1; j < t->maps[0].cols; j++) best = row[j] > row[best] ? j : best;
  return best;
}

/* The overlay is a LensTraceView: its tooltip names the cell under the pointer and the shown
 * word's weight there, and a click on a word (its selection) keeps that word on the page. */
static void check_hover_and_click(const attn_trace *t) {
  LensTraceView *view = LENS_TRACE_VIEW(lens_caption_page_get_canvas(page));
  int w = t->output.n - 1, cell = argmax_cell(t, w), r = cell / t->grid_cols, c = cell % t->grid_cols;
  lens_caption_page_select_word(page, w);
  settle();
  const LensLayout *l = lens_caption_page_get_layout(page);
  double x = l->grid.x + (c + 0.5) * l->grid.w / t->grid_cols, y = l->grid.y + (r + 0.5) * l->grid.h / t->grid_rows;
  g_autofree char *tip = lens_trace_view_describe_point(view, x, y);
  g_autofree char *want = g_strdup_printf("cell (%d, %d): weight %.3f", r, c, (double)t->maps[0].weights[(size_t)w * t->maps[0].cols + cell]);
  g_assert_cmpstr(tip, ==, want);
  g_autofree char *outside = lens_trace_view_describe_point(view, l->grid.x - 5, y);
  g_assert_null(outside);
  lens_trace_view_select(view, 0, -1); /* as a click on the first word under the image */
  g_assert_cmpint(lens_caption_page_get_word(page), ==, 0);
  g_assert_true(gtk_widget_has_css_class(lens_caption_page_get_word_button(page, 0), "suggested-action"));
  lens_caption_page_select_word(page, -1);
}

static char *source_path(const char *a, const char *b, const char *c) {
  return g_build_filename(g_getenv("ATTN_SOURCE_DIR"), a, b, c, NULL);
}

/* What the engine itself says about the same file, read the same way. */
static attn_trace *engine_caption(const char *model_dir, const char *png, int beam) {
  attn_error err = {0};
  attn_captioner *c = attn_captioner_load(model_dir, &err);
  g_assert_nonnull(c);
  g_autoptr(GdkPixbuf) pb = lens_image_load(png, 512, NULL, NULL, NULL);
  g_assert_nonnull(pb);
  g_autofree float *rgb = lens_image_rgb(pb);
  attn_caption_opts o;
  attn_caption_opts_init(&o);
  o.beam = beam;
  attn_trace *t = attn_caption(c, rgb, gdk_pixbuf_get_width(pb), gdk_pixbuf_get_height(pb), &o, &err);
  g_assert_nonnull(t);
  attn_captioner_free(c);
  return t;
}

/* With caption-scenes trained and shipped, the GUI tests also use it. */
static gboolean use_shipped_model(void) {
  g_autofree char *dir = source_path("data", "models", "caption-scenes");
  if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) return FALSE;
  g_autoptr(GError) error = NULL;
  return lens_window_add_model(window, dir, &error);
}

static gboolean model_is(gpointer name) {
  const attn_trace *t = lens_caption_page_get_trace(page);
  return !lens_page_is_busy(LENS_PAGE(page)) && t && g_strcmp0(t->model, name) == 0;
}

static void test_example(void) {
  g_assert_cmpint(lens_caption_page_get_n_examples(page), ==, 8);
  lens_caption_page_set_beam(page, 2); /* the tiny random model says more with a beam */
  lens_caption_page_show_example(page, 6);
  g_assert_true(wait_for(has_trace, page));
  settle();
  const attn_trace *t = lens_caption_page_get_trace(page);
  g_autofree char *png = source_path("assets", "scenes", "scene-0006.png");
  attn_trace *want = engine_caption(lens_caption_page_get_model_path(page), png, 2);
  g_assert_cmpint(t->output.n, ==, want->output.n); /* the caption the engine gives the file */
  g_assert_cmpint(t->output.n, >, 1);
  g_assert_cmpint(t->n_hyps, ==, 1);
  for (int i = 0; i < t->output.n; i++) g_assert_cmpstr(t->output.tokens[i], ==, want->output.tokens[i]);
  g_assert_cmpint(t->image_width, ==, 128);
  g_assert_nonnull(t->beta);
  for (int i = 0; i < t->output.n; i++) g_assert_nonnull(lens_caption_page_get_word_button(page, i));
  g_assert_null(lens_caption_page_get_word_button(page, t->output.n));
  g_assert_null(lens_page_get_message(LENS_PAGE(page)));
  g_assert_cmpfloat(lens_caption_page_get_last_ms(page), >, 0.0);
  attn_trace_free(want);
  for (int w = 0; w < t->output.n; w++) { /* hovering or clicking a word shows where it looked */
    lens_caption_page_select_word(page, w);
    g_assert_cmpint(lens_caption_page_get_word(page), ==, w);
    g_assert_cmpint(brightest_cell(), ==, argmax_cell(t, w));
  }
  check_hover_and_click(t);
  screenshot(GTK_WIDGET(window), "gui-caption-example.png");
  lens_caption_page_set_view(page, LENS_VIEW_STORYBOARD);
  screenshot(GTK_WIDGET(window), "gui-caption-storyboard.png");
  settle();
  g_assert_cmpint(lens_caption_page_get_layout(page)->n_row_labels, ==, t->output.n); /* one thumbnail per word */
  lens_caption_page_set_view(page, LENS_VIEW_OVERLAY);
  lens_caption_page_select_word(page, -1);
  lens_caption_page_set_beam(page, 1);
  settle();
}

/* A coarse grid (at most 8 cells a side, as the photo model's 7x7) opens bicubic with a blur of
 * half a cell, a finer one bilinear and sharp; once the user picks, a model no longer changes it.
 * The later tests then set bilinear, no blur, as a user would. */
static void test_smoothing_defaults(void) {
  g_assert_true(wait_for(has_trace, page));
  const attn_trace *t = lens_caption_page_get_trace(page);
  gboolean coarse = t->grid_rows <= 8 && t->grid_cols <= 8;
  g_test_message("grid %d x %d", t->grid_rows, t->grid_cols);
  const LensRenderOptions *o = lens_caption_page_get_options(page);
  g_assert_cmpint(o->upsample, ==, coarse ? LENS_UPSAMPLE_BICUBIC : LENS_UPSAMPLE_BILINEAR);
  g_assert_cmpfloat(o->blur, ==, coarse ? 0.5 : 0.0);
  lens_caption_page_set_upsample(page, LENS_UPSAMPLE_BILINEAR);
  lens_caption_page_set_blur(page, 0.0);
  g_assert_cmpint(lens_caption_page_get_options(page)->upsample, ==, LENS_UPSAMPLE_BILINEAR);
  g_assert_cmpfloat(lens_caption_page_get_options(page)->blur, ==, 0.0);
}

static int want_width; /* the image a trace is awaited for */
static gboolean traced_width(gpointer p) {
  return has_trace(p) && lens_caption_page_get_trace(p)->image_width == want_width;
}

/* The example photos of assets/photos: as many as photos.json lists, each file there; one shown
 * from the menu is captioned at its own size with its credit under the toolbar, and the credit
 * goes when another image replaces it. */
static void test_example_photos(void) {
  g_autofree char *manifest = source_path("assets", "photos", "photos.json"), *text = NULL;
  g_assert_true(g_file_get_contents(manifest, &text, NULL, NULL));
  cJSON *json = cJSON_Parse(text);
  const cJSON *photos = cJSON_GetObjectItem(json, "photos");
  g_assert_true(cJSON_IsArray(photos));
  g_assert_cmpint(lens_caption_page_get_n_photos(page), ==, cJSON_GetArraySize(photos));
  g_assert_cmpint(cJSON_GetArraySize(photos), >=, 3);
  for (int k = 0; k < cJSON_GetArraySize(photos); k++) {
    const cJSON *p = cJSON_GetArrayItem(photos, k);
    g_autofree char *file = source_path("assets", "photos", cJSON_GetObjectItem(p, "file")->valuestring);
    g_assert_true(g_file_test(file, G_FILE_TEST_IS_REGULAR));
    g_assert_nonnull(strstr(cJSON_GetObjectItem(p, "credit")->valuestring, "Photo: ")); /* who took it */
  }
  const cJSON *first = cJSON_GetArrayItem(photos, 0);
  g_autofree char *file = source_path("assets", "photos", cJSON_GetObjectItem(first, "file")->valuestring);
  int width = 0, height = 0;
  g_assert_nonnull(gdk_pixbuf_get_file_info(file, &width, &height));
  g_assert_cmpint(width, !=, 128); /* told apart from the scenes */
  lens_caption_page_show_photo(page, 0);
  want_width = width;
  g_assert_true(wait_for(traced_width, page));
  settle();
  g_assert_cmpstr(lens_caption_page_get_credit(page), ==, cJSON_GetObjectItem(first, "credit")->valuestring);
  g_assert_cmpint(lens_caption_page_get_trace(page)->image_width, ==, width);
  g_assert_cmpint(lens_caption_page_get_trace(page)->image_height, ==, height);
  g_assert_null(lens_page_get_message(LENS_PAGE(page)));
  screenshot(GTK_WIDGET(window), "gui-caption-photo.png");
  lens_caption_page_show_photo(page, 99); /* past the end: nothing happens */
  lens_caption_page_show_example(page, 0); /* a scene replaces the photo: no credit */
  want_width = 128;
  g_assert_true(wait_for(traced_width, page));
  g_assert_null(lens_caption_page_get_credit(page));
  cJSON_Delete(json);
}

/* With the trained model: each shape word looks at its object (dilated mask) in the examples. */
static void test_shape_words_on_objects(void) {
  if (!use_shipped_model()) {
    g_test_skip("data/models/caption-scenes is not there (the model is not trained yet)");
    return;
  }
  g_assert_true(wait_for(model_is, "caption-scenes"));
  int hits = 0, words = 0;
  for (int k = 0; k < lens_caption_page_get_n_examples(page); k++) {
    lens_caption_page_show_example(page, k);
    g_assert_true(wait_for(has_trace, page));
    settle();
    const attn_trace *t = lens_caption_page_get_trace(page);
    const cJSON *objects = cJSON_GetObjectItem((const cJSON *)lens_caption_page_get_example(page, k), "objects");
    for (int w = 0; w < t->output.n; w++) {
      const cJSON *o;
      gboolean shape_word = FALSE, hit = FALSE;
      lens_caption_page_select_word(page, w);
      int cell = -1;
      cJSON_ArrayForEach(o, objects) {
        const char *shape = cJSON_GetObjectItem(o, "shape")->valuestring;
        if (!g_str_has_prefix(t->output.tokens[w], shape)) continue;
        if (!shape_word) cell = brightest_cell(); /* what the user sees */
        shape_word = TRUE;
        int r = cell / t->grid_cols, c = cell % t->grid_cols;
        for (int dr = -1; dr <= 1; dr++)
          for (int dc = -1; dc <= 1; dc++) {
            const cJSON *row = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "cells"), r + dr);
            hit |= row && c + dc >= 0 && c + dc < t->grid_cols && row->valuestring[c + dc] == '1';
          }
      }
      words += shape_word, hits += hit;
    }
    g_test_message("example %d: \"%s\"", k, t->output.text);
  }
  g_test_message("shape words on their object: %d of %d", hits, words);
  g_assert_cmpint(words, >, 0);
  g_assert_cmpfloat((double)hits / words, >=, 0.8);
}

static void drag(double x0, double y0, double x1, double y1, int steps) {
  lens_caption_page_drag_begin(page, x0, y0);
  for (int k = 1; k <= steps; k++) {
    lens_caption_page_drag_update(page, x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps);
    for (int i = 0; i < 30; i++) g_main_context_iteration(NULL, FALSE), g_usleep(1000); /* a person's pace */
  }
  lens_caption_page_drag_end(page);
  settle();
}

/* The page's button labelled `label` (a depth-first search of its widgets). */
static GtkWidget *find_button(GtkWidget *w, const char *label) {
  if (GTK_IS_BUTTON(w) && g_strcmp0(gtk_button_get_label(GTK_BUTTON(w)), label) == 0) return w;
  for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c)) {
    GtkWidget *found = find_button(c, label);
    if (found) return found;
  }
  return NULL;
}

static void test_compose(void) {
  LensCompose *compose = lens_caption_page_get_composer(page);
  lens_caption_page_show_example(page, 1); /* the user turns Compose on with an image shown */
  g_assert_true(wait_for(has_trace, page));
  GtkWidget *toggle = find_button(GTK_WIDGET(page), "_Compose");
  g_assert_nonnull(toggle);
  gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(toggle), TRUE);
  settle();
  g_assert_true(lens_caption_page_get_compose(page));
  g_assert_true(gtk_widget_get_visible(GTK_WIDGET(compose))); /* its toolbar shows */
  g_assert_true(wait_for(has_trace, page));
  g_assert_cmpint(lens_caption_page_get_trace(page)->image_width, ==, LENS_COMPOSE_SIDE); /* the scene is the image */
  g_assert_cmpint(lens_compose_count(compose), ==, 0);
  int red_circle = lens_compose_add(compose, 0, 0, 1, 0.3, 0.3);
  g_assert_true(wait_for(has_trace, page));
  settle();
  const attn_trace *t = lens_caption_page_get_trace(page);
  g_assert_cmpint(t->image_width, ==, 384);
  g_test_message("one big red circle: \"%s\"", t->output.text);
  if (g_strcmp0(t->model, "caption-scenes") == 0) g_assert_cmpstr(t->output.text, ==, "a big red circle");
  lens_caption_page_set_opacity(page, 0); /* the image alone: the shape is where it was dragged */
  double x, y;
  g_assert_true(lens_caption_page_compose_locate(page, red_circle, &x, &y));
  const LensLayout *l = lens_caption_page_get_layout(page);
  guint before = lens_caption_page_get_n_results(page);
  double tx = l->grid.x + 0.7 * l->grid.w, ty = l->grid.y + 0.75 * l->grid.h;
  drag(x, y, tx, ty, 8);
  guint during = lens_caption_page_get_n_results(page) - before;
  g_test_message("captions while dragging over 8 steps: %u", during);
  g_assert_cmpuint(during, >=, 2); /* the caption follows the drag, not only its end */
  g_assert_true(lens_caption_page_compose_locate(page, red_circle, &x, &y));
  g_assert_cmpfloat(fabs(x - tx), <, 2);
  cairo_surface_t *s = gui_render_widget(lens_caption_page_get_canvas(page));
  const unsigned char *p = pixel(s, x, y);
  g_assert_cmpint(abs(p[2] - 214) + abs(p[1] - 39) + abs(p[0] - 40), <, 12); /* red under the pointer */
  cairo_surface_destroy(s);
  lens_caption_page_set_opacity(page, 0.6);
  int star = lens_compose_add(compose, 4, 4, 0, 0.25, 0.25); /* a small blue star */
  settle();
  g_assert_cmpint(lens_compose_count(compose), ==, 2);
  g_assert_cmpint(lens_compose_selected(compose), ==, star);
  g_test_message("with a small blue star: \"%s\"", lens_caption_page_get_trace(page)->output.text);
  screenshot(GTK_WIDGET(window), "gui-caption-compose.png");
  g_assert_true(lens_caption_page_compose_locate(page, red_circle, &x, &y));
  lens_caption_page_drag_begin(page, x, y); /* a press on the circle selects it */
  lens_caption_page_drag_end(page);
  g_assert_cmpint(lens_compose_selected(compose), ==, red_circle);
  guint n = lens_caption_page_get_n_results(page);
  lens_compose_delete_selected(compose);
  settle();
  g_assert_cmpint(lens_compose_count(compose), ==, 1);
  g_assert_cmpuint(lens_caption_page_get_n_results(page), >, n);
  gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(toggle), FALSE);
  g_assert_false(lens_caption_page_get_compose(page));
  g_assert_false(gtk_widget_get_visible(GTK_WIDGET(compose)));
}

static void test_export(void) {
  lens_caption_page_show_example(page, 2);
  g_assert_true(wait_for(has_trace, page));
  settle();
  g_autofree char *dir = g_dir_make_tmp("attn-gui-caption-XXXXXX", NULL);
  const char *names[] = {"a.png", "a.svg", "a.pdf"}, *magic[] = {"\x89PNG", "<?xml", "%PDF"};
  for (int v = 0; v < 2; v++) {
    lens_caption_page_set_view(page, v ? LENS_VIEW_STORYBOARD : LENS_VIEW_OVERLAY);
    lens_caption_page_select_word(page, 0);
    for (int i = 0; i < 3; i++) {
      g_autofree char *p = g_build_filename(dir, names[i], NULL), *data = NULL;
      g_autoptr(GError) error = NULL;
      g_assert_true(lens_page_export(LENS_PAGE(page), p, 2.0, &error));
      gsize len = 0;
      g_assert_true(g_file_get_contents(p, &data, &len, NULL));
      g_assert_cmpmem(data, strlen(magic[i]), magic[i], strlen(magic[i]));
      g_unlink(p);
    }
  }
  g_autoptr(GdkTexture) tex = lens_page_texture(LENS_PAGE(page), 1.0);
  g_assert_nonnull(tex);
  g_rmdir(dir);
  lens_caption_page_set_view(page, LENS_VIEW_OVERLAY);
}

static gboolean image_is_64(gpointer p) {
  const attn_trace *t = lens_caption_page_get_trace(p);
  return !lens_page_is_busy(LENS_PAGE(p)) && t && t->image_width == 64;
}

static void test_paste(void) {
  g_autofree char *png = g_build_filename(g_getenv("ATTN_FIXTURES"), "images", "rgb.png", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) tex = gdk_texture_new_from_filename(png, &error);
  g_assert_no_error(error);
  gdk_clipboard_set_texture(gtk_widget_get_clipboard(GTK_WIDGET(page)), tex);
  lens_caption_page_paste(page);
  g_assert_true(wait_for(image_is_64, page));
}

static gboolean has_message(gpointer p) { return !lens_page_is_busy(LENS_PAGE(p)) && lens_page_get_message(LENS_PAGE(p)); }

static void test_bad_files(void) {
  lens_caption_page_show_example(page, 0);
  g_assert_true(wait_for(has_trace, page));
  settle();
  g_autofree char *text = g_strdup(lens_caption_page_get_trace(page)->output.text);
  const char *files[] = {"text.png", "truncated.png", "empty.png", "huge-header.png", "no-such-file.png"};
  const char *words[] = {"not an image", "truncated", "empty", "100000 x 100000", "cannot open"};
  for (int i = 0; i < 5; i++) {
    g_autofree char *p = g_build_filename(g_getenv("ATTN_FIXTURES"), "images", files[i], NULL);
    lens_caption_page_open_file(page, p);
    g_assert_true(wait_for(has_message, page));
    g_test_message("%s", lens_page_get_message(LENS_PAGE(page)));
    g_assert_nonnull(strstr(lens_page_get_message(LENS_PAGE(page)), words[i]));
    g_assert_cmpstr(lens_caption_page_get_trace(page)->output.text, ==, text); /* the image stays */
  }
  screenshot(GTK_WIDGET(window), "gui-caption-bad-file.png");
  g_autofree char *good = g_build_filename(g_getenv("ATTN_FIXTURES"), "images", "cmyk.jpg", NULL);
  lens_caption_page_open_file(page, good);
  g_assert_true(wait_for(image_is_64, page));
  g_assert_null(lens_page_get_message(LENS_PAGE(page)));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  page = LENS_CAPTION_PAGE(gui_show_page(&window, "caption"));
  g_assert_cmpint((int)lens_page_get_n_models(LENS_PAGE(page)), ==, 1); /* caption-tiny */
  g_test_add_func("/gui/caption/smoothing-defaults", test_smoothing_defaults);
  g_test_add_func("/gui/caption/example", test_example);
  g_test_add_func("/gui/caption/example-photos", test_example_photos);
  g_test_add_func("/gui/caption/compose", test_compose);
  g_test_add_func("/gui/caption/export", test_export);
  g_test_add_func("/gui/caption/paste", test_paste);
  g_test_add_func("/gui/caption/bad-files", test_bad_files);
  g_test_add_func("/gui/caption/shape-words-on-objects", test_shape_words_on_objects);
  int rc = g_test_run();
  gtk_window_destroy(GTK_WINDOW(window));
  return rc;
}
