/* The Memory page in the real window under Xvfb: type a sequence of bit vectors, wait for the
 * worker, check the copy and the weightings against the engine, flip bits as the grid's
 * clicks do, add and remove vectors, bad input, the picture's pixels, and export. */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "attn_memory.h"
#include "gui_util.h"
#include "lens_memory_page.h"
#include "lens_window.h"

static LensWindow *window;
static LensMemoryPage *page;

static gboolean wait_for(gboolean (*cond)(gpointer), gpointer data) { return gui_wait_for(cond, data, 20); }
static gboolean page_idle(gpointer p) { return !lens_page_is_busy(LENS_PAGE(p)); }

static gboolean model_loaded(gpointer name) {
  const attn_trace *t = lens_memory_page_get_trace(page);
  return !lens_page_is_busy(LENS_PAGE(page)) && t && g_strcmp0(t->model, name) == 0;
}

/* What the engine itself makes of text, for comparison. */
static attn_trace *engine_run(const char *text) {
  g_autofree char *dir = g_build_filename(g_getenv("ATTN_FIXTURES"), "ntm-tiny", NULL);
  attn_error err = {0};
  attn_memory_model *m = attn_memory_load(dir, &err);
  g_assert_nonnull(m);
  attn_trace *t = attn_memory_run(m, text, &err);
  g_assert_nonnull(t);
  attn_memory_free(m);
  return t;
}

/* The page's trace is the engine's for the page's text: copy, both maps, memory. */
static void assert_matches_engine(void) {
  const attn_trace *t = lens_memory_page_get_trace(page);
  g_assert_nonnull(t);
  attn_trace *want = engine_run(lens_memory_page_get_text(page));
  g_assert_cmpint(t->output.n, ==, want->output.n);
  for (int i = 0; i < t->output.n; i++) g_assert_cmpstr(t->output.tokens[i], ==, want->output.tokens[i]);
  g_assert_cmpint(t->n_maps, ==, 2);
  for (int k = 0; k < 2; k++) {
    g_assert_cmpint(t->maps[k].rows, ==, 2 * want->output.n + 1);
    g_assert_cmpmem(t->maps[k].weights, sizeof(float) * t->maps[k].rows * t->maps[k].cols, want->maps[k].weights,
                    sizeof(float) * want->maps[k].rows * want->maps[k].cols);
  }
  g_assert_cmpfloat(t->memory->contents[5], ==, want->memory->contents[5]);
  attn_trace_free(want);
}

static void screenshot(const char *name) {
  const char *shots = g_getenv("ATTN_SCREENSHOT_DIR");
  if (!shots) return;
  while (g_main_context_iteration(NULL, FALSE)) {}
  cairo_surface_t *s = gui_render_widget(GTK_WIDGET(window));
  g_autofree char *p = g_build_filename(shots, name, NULL);
  cairo_surface_write_to_png(s, p);
  cairo_surface_destroy(s);
}

static void test_typing(void) {
  g_assert_true(lens_page_select_model(LENS_PAGE(page), "ntm-tiny"));
  g_assert_true(wait_for(model_loaded, "ntm-tiny"));
  const char *text = "10110010 01100001 11100111";
  lens_memory_page_set_text(page, "");
  for (const char *p = text; *p; p++) { /* one character at a time, as typed */
    g_autofree char *next = g_strndup(text, (gsize)(p - text + 1));
    lens_memory_page_set_text(page, next);
    g_main_context_iteration(NULL, FALSE);
  }
  g_assert_true(wait_for(page_idle, page));
  g_assert_null(lens_page_get_message(LENS_PAGE(page)));
  g_assert_cmpint(lens_memory_page_get_trace(page)->output.n, ==, 3);
  assert_matches_engine();
  g_assert_nonnull(strstr(lens_memory_page_get_summary(page), "bits differ from the input"));
  screenshot("memory-typed.png");
}

static void test_bits(void) {
  lens_memory_page_set_text(page, "10110010 01100001");
  g_assert_true(wait_for(page_idle, page));
  g_assert_true(lens_memory_page_toggle_bit(page, 1, 0));
  g_assert_cmpstr(lens_memory_page_get_text(page), ==, "10110010 11100001");
  g_assert_false(lens_memory_page_toggle_bit(page, 2, 0)); /* no third vector */
  g_assert_false(lens_memory_page_toggle_bit(page, 0, 8)); /* no ninth bit */
  lens_memory_page_add_vector(page);
  g_assert_cmpstr(lens_memory_page_get_text(page), ==, "10110010 11100001 00000000");
  g_assert_true(wait_for(page_idle, page));
  assert_matches_engine();
  lens_memory_page_remove_vector(page);
  g_assert_cmpstr(lens_memory_page_get_text(page), ==, "10110010 11100001");
  g_assert_true(wait_for(page_idle, page));
  g_assert_cmpint(lens_memory_page_get_trace(page)->output.n, ==, 2);
  assert_matches_engine();
  /* the grid is as wide as the sequence: one cell per vector, one per bit */
  while (g_main_context_iteration(NULL, FALSE)) {}
  GtkWidget *grid = lens_memory_page_get_bit_grid(page);
  double cell = lens_memory_page_get_cell_size();
  g_assert_cmpint(gtk_drawing_area_get_content_width(GTK_DRAWING_AREA(grid)), ==, (int)(2 * cell));
  g_assert_cmpint(gtk_drawing_area_get_content_height(GTK_DRAWING_AREA(grid)), ==, (int)(8 * cell));
}

static void expect_message(const char *text, const char *part) {
  lens_memory_page_set_text(page, text);
  g_assert_true(wait_for(page_idle, page));
  const char *msg = lens_page_get_message(LENS_PAGE(page));
  g_assert_nonnull(msg);
  g_test_message("%s", msg);
  g_assert_nonnull(strstr(msg, part));
  g_assert_null(lens_memory_page_get_trace(page));
}

static void test_bad_input(void) {
  expect_message("10110010 0110", "has 4 bits");
  expect_message("10110010 01120001", "a bit is 0 or 1");
  expect_message("10101010 10101010 10101010 10101010 10101010 10101010 10101010 10101010 10101010", "too long");
  expect_message("   ", "no bit vectors");
  lens_memory_page_set_text(page, "11110000");
  g_assert_true(wait_for(page_idle, page));
  g_assert_null(lens_page_get_message(LENS_PAGE(page)));
  g_assert_nonnull(lens_memory_page_get_trace(page));
}

/* The view draws the heat maps: many different colours, not a blank or a message. */
static void test_pixels(void) {
  lens_memory_page_set_text(page, "10110010 01100001 11100111 00011000");
  g_assert_true(wait_for(page_idle, page));
  while (g_main_context_iteration(NULL, FALSE)) {}
  GtkWidget *view = GTK_WIDGET(lens_memory_page_get_view(page));
  g_assert_cmpint(gtk_widget_get_width(view), >, 100);
  cairo_surface_t *s = gui_render_widget(view);
  int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
  int stride = cairo_image_surface_get_stride(s);
  const unsigned char *px = cairo_image_surface_get_data(s);
  GHashTable *colours = g_hash_table_new(g_direct_hash, g_direct_equal);
  for (int y = 0; y < h; y += 2)
    for (int x = 0; x < w; x += 2) g_hash_table_add(colours, GUINT_TO_POINTER(*(const guint32 *)(px + y * stride + 4 * x)));
  g_test_message("%u colours in the view (%dx%d)", g_hash_table_size(colours), w, h);
  g_assert_cmpuint(g_hash_table_size(colours), >, 40);
  g_hash_table_destroy(colours);
  cairo_surface_destroy(s);
  screenshot("memory-view.png");
}

static void test_export(void) {
  g_autofree char *dir = g_dir_make_tmp("attnlens-gui-memory-XXXXXX", NULL);
  g_autofree char *png = g_build_filename(dir, "memory.png", NULL);
  GError *error = NULL;
  g_assert_true(lens_page_export(LENS_PAGE(page), png, 1.0, &error));
  g_assert_no_error(error);
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(png, &bytes, &len, NULL));
  g_assert_cmpuint(len, >, 2000);
  g_assert_cmpint(memcmp(bytes, "\x89PNG", 4), ==, 0);
  g_unlink(png);
  g_rmdir(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  page = LENS_MEMORY_PAGE(gui_show_page(&window, "memory"));
  g_test_add_func("/gui/memory/typing", test_typing);
  g_test_add_func("/gui/memory/bits", test_bits);
  g_test_add_func("/gui/memory/bad-input", test_bad_input);
  g_test_add_func("/gui/memory/pixels", test_pixels);
  g_test_add_func("/gui/memory/export", test_export);
  int rc = g_test_run();
  gtk_window_destroy(GTK_WINDOW(window));
  return rc;
}
