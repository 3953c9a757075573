/* The real window under Xvfb: type, wait for the worker, check the state and the pixels,
 * switch model and view, export, and feed bad input. */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "gui_util.h"
#include "lens_page_util.h"
#include "lens_quality_dialog.h"
#include "lens_window.h"
#include "quality.h"

static LensWindow *window;

static gboolean wait_for(gboolean (*cond)(gpointer), gpointer data) { return gui_wait_for(cond, data, 10); }

static gboolean page_idle(gpointer page) { return !lens_page_is_busy(LENS_PAGE(page)); }

static LensTranslatePage *page(void) { return lens_window_get_translate_page(window); }

/* Types text one character at a time, as a person would, then waits for the result. */
static void type_text(const char *text) {
  lens_translate_page_set_text(page(), "");
  GtkTextView *tv = NULL;
  (void)tv;
  GString *so_far = g_string_new(NULL);
  for (const char *p = text; *p; p = g_utf8_next_char(p)) {
    g_string_append_len(so_far, p, g_utf8_next_char(p) - p);
    lens_translate_page_set_text(page(), so_far->str);
    g_main_context_iteration(NULL, FALSE);
  }
  g_string_free(so_far, TRUE);
  g_assert_true(wait_for(page_idle, page()));
}

static gboolean drawn(gpointer view) { return lens_trace_view_get_layout(view)->rows > 0; }
static gboolean two_rows_laid_out(gpointer view) { return lens_trace_view_get_layout(view)->rows == 2; }

/* The keyboard is in the text field when the window opens, and on each page in its input. */
static void test_focus_at_start(void) {
  while (g_main_context_iteration(NULL, FALSE)) {}
  GtkWidget *focus = gtk_window_get_focus(GTK_WINDOW(window));
  g_assert_nonnull(focus);
  g_assert_true(GTK_IS_TEXT_VIEW(focus));
  g_assert_true(focus == lens_page_get_focus_widget(LENS_PAGE(page())));
  g_assert_true(gtk_widget_is_ancestor(focus, GTK_WIDGET(page())));
  GtkStack *stack = GTK_STACK(gtk_window_get_child(GTK_WINDOW(window)));
  const char *pages[] = {"read", "caption", "translate"};
  for (int i = 0; i < 3; i++) {
    gtk_stack_set_visible_child_name(stack, pages[i]);
    while (g_main_context_iteration(NULL, FALSE)) {}
    GtkWidget *shown = gtk_stack_get_visible_child(stack);
    focus = gtk_window_get_focus(GTK_WINDOW(window));
    g_test_message("%s: focus on a %s", pages[i], focus ? G_OBJECT_TYPE_NAME(focus) : "(nothing)");
    g_assert_true(focus == lens_page_get_focus_widget(LENS_PAGE(shown)));
    g_assert_true(gtk_widget_is_ancestor(focus, shown));
    g_assert_false(GTK_IS_DROP_DOWN(focus) || gtk_widget_get_ancestor(focus, GTK_TYPE_DROP_DOWN));
  }
  g_assert_true(GTK_IS_TEXT_VIEW(gtk_window_get_focus(GTK_WINDOW(window))));
  /* the example sentence is selected: the first key typed replaces it */
  GtkTextBuffer *buffer = gtk_text_view_get_buffer(GTK_TEXT_VIEW(gtk_window_get_focus(GTK_WINDOW(window))));
  GtkTextIter a, b, all_a, all_b;
  gtk_text_buffer_get_bounds(buffer, &all_a, &all_b);
  g_assert_false(gtk_text_iter_equal(&all_a, &all_b));
  g_assert_true(gtk_text_buffer_get_selection_bounds(buffer, &a, &b));
  g_assert_true(gtk_text_iter_equal(&a, &all_a));
  g_assert_true(gtk_text_iter_equal(&b, &all_b));
  gtk_text_buffer_delete_selection(buffer, TRUE, TRUE); /* what a key press does first */
  gtk_text_buffer_insert_at_cursor(buffer, "I", -1);
  g_autofree char *typed = lens_translate_page_get_text(page());
  g_assert_cmpstr(typed, ==, "I");
}

static void test_typing(void) {
  type_text("abc dag fe");
  const attn_trace *t = lens_translate_page_get_trace(page());
  g_assert_nonnull(t);
  g_assert_cmpint(t->output.n, >, 0);
  g_assert_cmpstr(t->source.text, ==, "abc dag fe");
  LensTraceView *view = lens_translate_page_get_view(page());
  g_assert_true(wait_for(drawn, view));
  const LensLayout *l = lens_trace_view_get_layout(view);
  const attn_trace *shown = lens_trace_view_get_trace(view);
  g_assert_cmpint(l->rows, ==, shown->output.n); /* matrix = output x source tokens */
  g_assert_cmpint(l->cols, ==, shown->source.n);
  g_autofree char *hover = lens_trace_view_describe_cell(view, 0, 1);
  g_autofree char *weight = g_strdup_printf("%.3f", (double)shown->maps[0].weights[1]);
  g_test_message("hover text: %s", hover);
  g_assert_nonnull(strstr(hover, weight));
  g_assert_nonnull(strstr(hover, "→"));
  g_assert_null(lens_page_get_message(LENS_PAGE(page())));
  g_assert_cmpfloat(lens_translate_page_get_last_ms(page()), >, 0.0);
}

/* The cell colours in the widget's pixels are where the layout says (so hover and click, which
 * read the layout, hit the cell that is drawn there). */
static void assert_cells_drawn(LensTraceView *view) {
  cairo_surface_t *s = gui_render_widget(GTK_WIDGET(view));
  const LensLayout *l = lens_trace_view_get_layout(view);
  const attn_trace *t = lens_trace_view_get_trace(view);
  const attn_map *m = &t->maps[lens_trace_view_get_options(view)->map_index];
  float vmax = 0;
  for (int i = 0; i < m->rows * m->cols; i++) vmax = fmaxf(vmax, m->weights[i]);
  unsigned char *px = cairo_image_surface_get_data(s);
  int stride = cairo_image_surface_get_stride(s), checked = 0, step = l->rows * l->cols > 100 ? 3 : 1;
  for (int i = 0; i < l->rows; i += step)
    for (int j = 0; j < l->cols; j += step) {
      double cx = l->grid.x + (j + 0.5) * l->cell_w, cy = l->grid.y + (i + 0.5) * l->cell_h;
      int r = -1, c = -1;
      g_assert_true(lens_layout_hit(l, cx, cy, &r, &c));
      g_assert_cmpint(r, ==, i);
      g_assert_cmpint(c, ==, j);
      int x = (int)cx, y = (int)cy;
      if (x >= cairo_image_surface_get_width(s) || y >= cairo_image_surface_get_height(s)) continue;
      double rgb[3];
      lens_colormap_rgb(lens_trace_view_get_options(view)->colormap, m->weights[i * m->cols + j] / vmax, rgb);
      const unsigned char *p = px + y * stride + 4 * x; /* BGRA */
      for (int k = 0; k < 3; k++) g_assert_cmpint(abs((int)p[2 - k] - (int)lround(rgb[k] * 255)), <=, 2);
      checked++;
    }
  g_assert_cmpint(checked, >=, MIN(5, l->rows * l->cols));
  cairo_surface_destroy(s);
}

static void test_pixels(void) {
  type_text("bad cafe");
  LensTraceView *view = lens_translate_page_get_view(page());
  g_assert_true(wait_for(drawn, view));
  while (g_main_context_iteration(NULL, FALSE)) {}
  const char *shots = g_getenv("ATTN_SCREENSHOT_DIR");
  if (shots) {
    cairo_surface_t *s = gui_render_widget(GTK_WIDGET(view));
    g_autofree char *p = g_build_filename(shots, "gui-translate-view.png", NULL);
    cairo_surface_write_to_png(s, p);
    cairo_surface_destroy(s);
  }
  assert_cells_drawn(view); /* every cell of this small map */
}

static gboolean model_is(gpointer name) {
  const attn_trace *t = lens_translate_page_get_trace(page());
  return !lens_page_is_busy(LENS_PAGE(page())) && t && g_strcmp0(t->model, name) == 0;
}

static void copy_dir(const char *from, const char *to) {
  g_mkdir_with_parents(to, 0755);
  const char *files[] = {"config.json", "model.safetensors", "source.spm"};
  for (int i = 0; i < 3; i++) {
    g_autofree char *a = g_build_filename(from, files[i], NULL), *b = g_build_filename(to, files[i], NULL);
    char *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(a, &data, &len, NULL));
    g_assert_true(g_file_set_contents(b, data, (gssize)len, NULL));
    g_free(data);
  }
}

static void test_switch_model_and_view(void) {
  type_text("abc");
  g_autofree char *tmp = g_dir_make_tmp("attn-gui-XXXXXX", NULL);
  g_autofree char *other = g_build_filename(tmp, "second-model", NULL);
  g_autofree char *from = g_build_filename(g_getenv("ATTN_FIXTURES"), "transformer-tiny", NULL);
  copy_dir(from, other);
  g_autoptr(GError) error = NULL;
  g_assert_true(lens_window_add_model(window, other, &error));
  g_assert_true(wait_for(model_is, "second-model"));
  g_autofree char *text = lens_translate_page_get_text(page());
  g_assert_cmpstr(text, ==, "abc"); /* the user's text stays */
  LensTraceView *view = lens_translate_page_get_view(page());
  lens_translate_page_set_view(page(), LENS_VIEW_FLOW);
  g_assert_cmpint(lens_trace_view_get_options(view)->view, ==, LENS_VIEW_FLOW);
  lens_translate_page_set_view(page(), LENS_VIEW_MATRIX);
  g_assert_true(lens_window_select_model(window, "transformer-tiny"));
  g_assert_true(wait_for(model_is, "transformer-tiny"));
}

/* A copy of transformer-tiny named name in a new temporary folder, its config.json with text
 * inserted right after the first occurrence of `after`; returns the copy's folder. */
static char *tiny_copy_with(const char *name, const char *after, const char *text) {
  g_autofree char *tmp = g_dir_make_tmp("attn-gui-XXXXXX", NULL);
  char *dir = g_build_filename(tmp, name, NULL);
  g_autofree char *from = g_build_filename(g_getenv("ATTN_FIXTURES"), "transformer-tiny", NULL);
  copy_dir(from, dir);
  g_autofree char *cfg_path = g_build_filename(dir, "config.json", NULL), *cfg = NULL;
  g_assert_true(g_file_get_contents(cfg_path, &cfg, NULL, NULL));
  const char *at = strstr(cfg, after);
  g_assert_nonnull(at);
  at += strlen(after);
  g_autofree char *edited = g_strdup_printf("%.*s%s%s", (int)(at - cfg), cfg, text, at);
  g_assert_true(g_file_set_contents(cfg_path, edited, -1, NULL));
  return dir;
}

/* The beam starts at the model's config num_beams (its card's decoding) until the user picks one. */
static void test_model_beam(void) {
  type_text("abc");
  g_assert_cmpint(lens_translate_page_get_beam(page()), ==, 1); /* the fixture has no num_beams: greedy */
  g_autofree char *beamy = tiny_copy_with("beam-model", "{", "\"num_beams\": 3,");
  g_autoptr(GError) error = NULL;
  g_assert_true(lens_window_add_model(window, beamy, &error));
  g_assert_true(wait_for(model_is, "beam-model"));
  g_assert_cmpint(lens_translate_page_get_beam(page()), ==, 3);
  g_assert_cmpint(lens_translate_page_get_trace(page())->n_hyps, >, 0); /* beam search ran */
  lens_translate_page_set_beam(page(), 2); /* the user's choice stays across models */
  g_assert_true(lens_window_select_model(window, "transformer-tiny"));
  g_assert_true(wait_for(model_is, "transformer-tiny"));
  g_assert_cmpint(lens_translate_page_get_beam(page()), ==, 2);
  lens_translate_page_set_beam(page(), 1);
  g_assert_true(wait_for(page_idle, page()));
}

/* Every model in data/models, as the chooser lists them. */
static GPtrArray *shipped_models(void) {
  g_autofree char *dir = g_build_filename(g_getenv("ATTN_SOURCE_DIR"), "data", "models", NULL);
  const char *folders[] = {dir};
  const gboolean user[] = {FALSE};
  return lens_models_scan(folders, user, 1);
}

/* The chooser and card read the optional attnlens keys (domain, training data, scores) and
 * group translation models by language pair; a config without them still works. */
static void test_model_facts(void) {
  g_autofree char *dir = tiny_copy_with("facts-model", "\"attnlens\": {",
                                         "\"source_lang\": \"xx\", \"target_lang\": \"yy\", \"domain\": \"toy sentences\", "
                                         "\"training_data\": \"nothing at all\", \"scores\": [{\"set\": \"dev\", \"metric\": "
                                         "\"BLEU\", \"value\": 12.3, \"decoding\": \"beam 2\"}, {\"set\": 3}],");
  g_autoptr(GError) error = NULL;
  g_assert_true(lens_window_add_model(window, dir, &error));
  const LensModelEntry *e = lens_page_get_selected_model(LENS_PAGE(page()));
  g_assert_cmpstr(e->name, ==, "facts-model");
  g_assert_cmpstr(e->pair, ==, "xx→yy");
  g_assert_cmpstr(e->domain, ==, "toy sentences");
  g_assert_nonnull(strstr(e->card, "Trained on: nothing at all"));
  g_assert_nonnull(strstr(e->card, "Measured: dev BLEU 12.30 (beam 2)")); /* the malformed score is left out */
  g_assert_true(wait_for(model_is, "facts-model"));
  g_assert_true(lens_window_select_model(window, "transformer-tiny"));
  e = lens_page_get_selected_model(LENS_PAGE(page()));
  g_assert_null(e->domain); /* absent keys: nothing invented */
  g_assert_null(e->facts);
  g_assert_true(wait_for(model_is, "transformer-tiny"));
  /* the shipped translation models say what they were trained on and how well they do */
  const char *shipped[] = {"transformer-en-de", "rnn-attn-en-de"};
  for (int i = 0; i < 2; i++) {
    g_autofree char *path = g_build_filename(g_getenv("ATTN_SOURCE_DIR"), "data", "models", shipped[i], NULL);
    LensModelEntry *s = lens_model_entry_read(path, FALSE, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(s->pair, ==, "en→de");
    g_assert_cmpstr(s->domain, ==, "image descriptions");
    g_assert_nonnull(strstr(s->display_name, "image descriptions"));
    g_assert_nonnull(strstr(s->card, "Trained on: Multi30k (29,000 Flickr image descriptions)"));
    g_assert_nonnull(strstr(s->card, i == 0 ? "test_2016_flickr BLEU 37.38 (beam 4)" : "test_2016_flickr BLEU 34.54 (beam 4)"));
    lens_model_entry_free(s);
  }
  /* the general models: pair, domain, data and the scores measured for them (their test_eval.json) */
  const struct {
    const char *name, *pair, *data, *score1, *score2;
  } general[] = {
      {"transformer-en-de-general", "en→de", "Multi30k 29,000 pairs", "newstest2013 (news) BLEU 10.01 (beam 4)",
       "Multi30k test_2016_flickr (image descriptions) BLEU 39.89 (beam 4)"},
      {"rnn-attn-en-fr-general", "en→fr", "Tatoeba 165,713 pairs",
       "Tatoeba test v2021-08-07 (de-duplicated) BLEU 33.36 (beam 4)", "newstest2013 (news) BLEU 16.27 (beam 4)"},
      {"rnn-attn-en-de-general", "en→de", "Tatoeba 168,566 pairs",
       "Tatoeba test v2021-08-07 (de-duplicated) BLEU 30.14 (beam 4)", "newstest2013 (news) BLEU 11.04 (beam 4)"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(general); i++) {
    g_autofree char *path = g_build_filename(g_getenv("ATTN_SOURCE_DIR"), "data", "models", general[i].name, NULL);
    LensModelEntry *g = lens_model_entry_read(path, FALSE, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(g->pair, ==, general[i].pair);
    g_assert_cmpstr(g->domain, ==, "everyday + news");
    g_assert_nonnull(strstr(g->card, general[i].data));
    g_assert_nonnull(strstr(g->card, general[i].score1));
    g_assert_nonnull(strstr(g->card, general[i].score2));
    lens_model_entry_free(g);
  }
  /* the chooser lists each pair's everyday models before its image-description ones */
  g_autoptr(GPtrArray) all = shipped_models();
  int seen_images = 0, everyday = 0;
  for (guint i = 0; i < all->len; i++) {
    const LensModelEntry *m = g_ptr_array_index(all, i);
    if (g_strcmp0(m->pair, "en→de")) continue;
    if (!g_strcmp0(m->domain, "image descriptions")) {
      seen_images++;
    } else if (!g_strcmp0(m->domain, "everyday + news")) {
      g_assert_cmpint(seen_images, ==, 0);
      everyday++;
    }
  }
  g_assert_cmpint(everyday, ==, 2);
  g_assert_cmpint(seen_images, ==, 3);
}

static void test_export(void) {
  type_text("fed cab");
  g_autofree char *dir = g_dir_make_tmp("attn-gui-XXXXXX", NULL);
  const char *names[] = {"a.png", "a.svg", "a.pdf"};
  const char *magic[] = {"\x89PNG", "<?xml", "%PDF"};
  for (int i = 0; i < 3; i++) {
    g_autofree char *p = g_build_filename(dir, names[i], NULL);
    g_autoptr(GError) error = NULL;
    g_assert_true(lens_page_export(LENS_PAGE(page()), p, 2.0, &error));
    char *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(p, &data, &len, NULL));
    g_assert_cmpmem(data, strlen(magic[i]), magic[i], strlen(magic[i]));
    g_free(data);
  }
  g_autofree char *png = g_build_filename(dir, "a.png", NULL);
  cairo_surface_t *s = cairo_image_surface_create_from_png(png);
  double w, h;
  LensTraceView *view = lens_translate_page_get_view(page());
  lens_render_size(lens_trace_view_get_trace(view), lens_trace_view_get_options(view), &w, &h);
  g_assert_cmpint(cairo_image_surface_get_width(s), ==, (int)ceil(w * 2 - 1e-9));
  cairo_surface_destroy(s);
  g_autoptr(GdkTexture) tex = lens_page_texture(LENS_PAGE(page()), 1.0);
  g_assert_nonnull(tex);
  g_autofree char *bad = g_build_filename(dir, "nope", "a.png", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_false(lens_page_export(LENS_PAGE(page()), bad, 1.0, &error));
  g_assert_nonnull(error);
}

static gboolean cell_is(gpointer target) {
  LensTraceView *view = lens_translate_page_get_view(page());
  while (g_main_context_iteration(NULL, FALSE)) {}
  return fabs(lens_trace_view_get_layout(view)->cell_w - *(double *)target) < 0.01;
}

#define LONG_SENTENCE "abc dag fe bad cafe fed abc dag fe bad cafe fed abc dag fe bad cafe fed " \
                      "abc dag fe bad cafe fed abc dag fe bad cafe fed"

/* A 30-word sentence, wider than the view at zoom 1: labels stay legible (the view scrolls
 * instead of shrinking), Ctrl+plus and
 * Ctrl+minus zoom, Ctrl+0 fits, the layout follows the zoom, and exports use it. */
static void test_zoom_long_sentence(void) {
  type_text(LONG_SENTENCE);
  LensTraceView *view = lens_translate_page_get_view(page());
  g_assert_true(wait_for(drawn, view));
  while (g_main_context_iteration(NULL, FALSE)) {}
  const LensLayout *l = lens_trace_view_get_layout(view);
  g_test_message("%d x %d cells of %.1f px, scale %.2f, view %d x %d", l->rows, l->cols, l->cell_w,
                 lens_trace_view_get_scale(view), gtk_widget_get_width(GTK_WIDGET(view)),
                 gtk_widget_get_height(GTK_WIDGET(view)));
  g_assert_cmpint(l->cols, >=, 30);
  g_assert_cmpfloat(lens_trace_view_get_zoom(view), ==, 0); /* fit mode */
  double w_1, h_1;
  LensRenderOptions o1 = *lens_trace_view_get_options(view);
  o1.zoom = 1;
  lens_render_size(lens_trace_view_get_trace(view), &o1, &w_1, &h_1);
  g_assert_cmpfloat(w_1, >, gtk_widget_get_width(GTK_WIDGET(view))); /* the case this test is about */
  g_assert_cmpfloat(lens_trace_view_get_scale(view), >=, LENS_LEGIBLE_ZOOM - 1e-9);
  g_assert_cmpfloat(l->cell_w, >=, 22 * LENS_LEGIBLE_ZOOM - 0.01); /* labels of >= 9 pt fit a cell */
  assert_cells_drawn(view);

  double before = l->cell_w, k = lens_trace_view_get_scale(view);
  gtk_widget_activate_action(GTK_WIDGET(page()), "page.zoom-in", NULL); /* Ctrl+plus */
  g_assert_cmpfloat(fabs(lens_trace_view_get_zoom(view) - k * LENS_ZOOM_STEP), <, 1e-9);
  double want = before * LENS_ZOOM_STEP;
  g_assert_true(wait_for(cell_is, &want));
  assert_cells_drawn(view);
  GtkScrolledWindow *sw = GTK_SCROLLED_WINDOW(gtk_widget_get_ancestor(GTK_WIDGET(view), GTK_TYPE_SCROLLED_WINDOW));
  GtkAdjustment *ha = gtk_scrolled_window_get_hadjustment(sw);
  g_test_message("horizontal scroll: %.0f of %.0f", gtk_adjustment_get_page_size(ha), gtk_adjustment_get_upper(ha));
  g_assert_cmpfloat(gtk_adjustment_get_upper(ha), >, gtk_adjustment_get_page_size(ha) + 1); /* it scrolls */
  gtk_adjustment_set_value(ha, gtk_adjustment_get_upper(ha)); /* the last cells, scrolled into view */
  while (g_main_context_iteration(NULL, FALSE)) {}
  int r = -1, c = -1;
  g_assert_true(lens_layout_hit(l, l->grid.x + l->grid.w - 1, l->grid.y + 1, &r, &c));
  g_assert_cmpint(c, ==, l->cols - 1);
  const char *shots = g_getenv("ATTN_SCREENSHOT_DIR");
  if (shots) {
    cairo_surface_t *s = gui_render_widget(GTK_WIDGET(view));
    g_autofree char *p = g_build_filename(shots, "gui-translate-zoomed.png", NULL);
    cairo_surface_write_to_png(s, p);
    cairo_surface_destroy(s);
  }
  /* exports: PNG at the view's zoom, PDF fit to an A4 page */
  g_autofree char *dir = g_dir_make_tmp("attn-gui-XXXXXX", NULL);
  g_autofree char *png = g_build_filename(dir, "zoomed.png", NULL), *pdf = g_build_filename(dir, "zoomed.pdf", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(lens_page_export(LENS_PAGE(page()), png, 1.0, &error));
  g_assert_true(lens_page_export(LENS_PAGE(page()), pdf, 1.0, &error));
  LensRenderOptions o = *lens_trace_view_get_options(view);
  double w1, h1;
  o.zoom = 1;
  lens_render_size(lens_trace_view_get_trace(view), &o, &w1, &h1);
  cairo_surface_t *s = cairo_image_surface_create_from_png(png);
  g_assert_cmpint(cairo_image_surface_get_width(s), ==, (int)ceil(w1 * lens_trace_view_get_zoom(view) - 1e-9));
  cairo_surface_destroy(s);
  g_autofree char *pdf_text = NULL;
  gsize pdf_len = 0;
  g_assert_true(g_file_get_contents(pdf, &pdf_text, &pdf_len, NULL));
  const char *box = NULL; /* the file has binary streams: no strstr */
  for (gsize i = 0; !box && i + 11 <= pdf_len; i++)
    if (memcmp(pdf_text + i, "/MediaBox [", 11) == 0) box = pdf_text + i;
  g_assert_nonnull(box);
  double pw = 0, ph = 0;
  g_assert_cmpint(sscanf(box, "/MediaBox [ 0 0 %lf %lf", &pw, &ph) == 2 || sscanf(box, "/MediaBox [0 0 %lf %lf", &pw, &ph) == 2, ==, 1);
  g_test_message("natural %.0f x %.0f, PDF page %.0f x %.0f", w1, h1, pw, ph);
  g_assert_true((pw <= 595.5 && ph <= 842.5) || (pw <= 842.5 && ph <= 595.5));

  gtk_widget_activate_action(GTK_WIDGET(page()), "page.zoom-out", NULL); /* Ctrl+minus */
  g_assert_true(wait_for(cell_is, &before));
  for (int i = 0; i < 5; i++) gtk_widget_activate_action(GTK_WIDGET(page()), "page.zoom-out", NULL);
  g_assert_cmpfloat(lens_trace_view_get_zoom(view), ==, LENS_LEGIBLE_ZOOM); /* never smaller */
  gtk_widget_activate_action(GTK_WIDGET(page()), "page.zoom-fit", NULL); /* Ctrl+0 */
  g_assert_cmpfloat(lens_trace_view_get_zoom(view), ==, 0);
  g_assert_true(wait_for(page_idle, page()));
}

/* The pixel of a cell's centre, and the colour map's colour for its weight, dimmed by the
 * renderer's highlight fade (DIM 0.35 towards the white background) when asked. */
static gboolean cell_matches(cairo_surface_t *s, LensTraceView *view, int i, int j, gboolean dimmed) {
  const LensLayout *l = lens_trace_view_get_layout(view);
  const attn_trace *t = lens_trace_view_get_trace(view);
  const attn_map *m = &t->maps[lens_trace_view_get_options(view)->map_index];
  float vmax = 0;
  for (int k = 0; k < m->rows * m->cols; k++) vmax = fmaxf(vmax, m->weights[k]);
  double rgb[3];
  lens_colormap_rgb(lens_trace_view_get_options(view)->colormap, m->weights[i * m->cols + j] / vmax, rgb);
  int x = (int)(l->grid.x + (j + 0.5) * l->cell_w), y = (int)(l->grid.y + (i + 0.5) * l->cell_h);
  const unsigned char *p = cairo_image_surface_get_data(s) + y * cairo_image_surface_get_stride(s) + 4 * x;
  for (int c = 0; c < 3; c++) {
    double want = dimmed ? rgb[c] + 0.35 * (1.0 - rgb[c]) : rgb[c];
    if (abs((int)p[2 - c] - (int)lround(want * 255)) > 3) return FALSE;
  }
  return TRUE;
}

static gboolean both_idle_with(gpointer text) {
  const attn_trace *a = lens_translate_page_get_trace(page()), *b = lens_translate_page_get_compare_trace(page());
  return !lens_page_is_busy(LENS_PAGE(page())) && a && b && g_strcmp0(a->source.text, text) == 0 &&
         g_strcmp0(b->source.text, text) == 0;
}

/* Compare mode: a second model runs live beside the first, both maps are drawn, hovering a
 * source token in either highlights it in both, and the export holds both pictures. */
static void test_compare(void) {
  type_text("abc dag fe");
  LensTraceView *a = lens_translate_page_get_view(page()), *b = lens_translate_page_get_compare_view(page());
  g_assert_false(gtk_widget_get_visible(gtk_widget_get_ancestor(GTK_WIDGET(b), GTK_TYPE_SCROLLED_WINDOW)));
  g_assert_false(lens_translate_page_set_compare(page(), "no-such-model"));
  g_assert_true(lens_translate_page_set_compare(page(), "rnn-tiny"));
  g_assert_true(wait_for(both_idle_with, "abc dag fe"));
  g_assert_cmpstr(lens_translate_page_get_compare_trace(page())->model, ==, "rnn-tiny");
  g_assert_cmpstr(lens_translate_page_get_trace(page())->model, ==, "transformer-tiny");
  type_text("bad cafe fed"); /* both follow the typing */
  g_assert_true(wait_for(both_idle_with, "bad cafe fed"));
  g_assert_true(wait_for(drawn, a));
  g_assert_true(wait_for(drawn, b));
  while (g_main_context_iteration(NULL, FALSE)) {}
  assert_cells_drawn(a);
  assert_cells_drawn(b);
  /* hover a cell of the first: its source column lights up in both */
  const LensLayout *la = lens_trace_view_get_layout(a);
  int col = 1;
  lens_trace_view_hover(a, la->grid.x + (col + 0.5) * la->cell_w, la->grid.y + 0.5 * la->cell_h);
  g_assert_cmpint(lens_trace_view_get_options(a)->highlight_col, ==, col);
  int other = lens_trace_view_get_options(b)->highlight_col;
  g_assert_cmpint(other, >=, 0);
  g_assert_cmpstr(lens_trace_view_get_trace(b)->source.tokens[other], ==, lens_trace_view_get_trace(a)->source.tokens[col]);
  while (g_main_context_iteration(NULL, FALSE)) {}
  cairo_surface_t *sb = gui_render_widget(GTK_WIDGET(b));
  const char *shots = g_getenv("ATTN_SCREENSHOT_DIR");
  if (shots) {
    g_autofree char *p = g_build_filename(shots, "gui-compare-right.png", NULL);
    cairo_surface_write_to_png(sb, p);
  }
  int last = lens_trace_view_get_layout(b)->cols - 1, away = other == last ? 0 : last;
  g_assert_true(cell_matches(sb, b, 0, other, FALSE)); /* the hovered token's column, undimmed */
  g_assert_true(cell_matches(sb, b, 0, away, TRUE));   /* the rest faded */
  cairo_surface_destroy(sb);
  /* and from the second view back to the first */
  const LensLayout *lb = lens_trace_view_get_layout(b);
  lens_trace_view_hover(b, lb->grid.x + (away + 0.5) * lb->cell_w, lb->grid.y + 0.5 * lb->cell_h);
  g_assert_cmpint(lens_trace_view_get_options(b)->highlight_col, ==, away);
  int back = lens_trace_view_get_options(a)->highlight_col;
  g_assert_cmpint(back, >=, 0);
  g_assert_cmpstr(lens_trace_view_get_trace(a)->source.tokens[back], ==, lens_trace_view_get_trace(b)->source.tokens[away]);
  lens_trace_view_hover(b, -1000, -1000); /* leaving clears both */
  g_assert_cmpint(lens_trace_view_get_options(a)->highlight_col, ==, -1);
  g_assert_cmpint(lens_trace_view_get_options(b)->highlight_col, ==, -1);
  /* one picture with both maps, side by side, each titled with its model */
  double wa, ha, wb, hb;
  lens_render_size(lens_trace_view_get_trace(a), lens_trace_view_get_options(a), &wa, &ha);
  lens_render_size(lens_trace_view_get_trace(b), lens_trace_view_get_options(b), &wb, &hb);
  g_autofree char *dir = g_dir_make_tmp("attn-gui-XXXXXX", NULL);
  g_autofree char *png = g_build_filename(dir, "compare.png", NULL), *svg = g_build_filename(dir, "compare.svg", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(lens_page_export(LENS_PAGE(page()), png, 1.0, &error));
  g_assert_true(lens_page_export(LENS_PAGE(page()), svg, 1.0, &error));
  cairo_surface_t *s = cairo_image_surface_create_from_png(png);
  g_assert_cmpint(cairo_image_surface_get_width(s), ==, (int)ceil(wa + 24 + wb - 1e-9));
  g_assert_cmpint(cairo_image_surface_get_height(s), ==, (int)ceil(fmax(ha, hb) - 1e-9));
  int coloured[2] = {0, 0}, w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      const unsigned char *p = cairo_image_surface_get_data(s) + y * cairo_image_surface_get_stride(s) + 4 * x;
      if (abs(p[0] - p[1]) > 40 || abs(p[1] - p[2]) > 40) coloured[x > wa + 12]++; /* heat, not text */
    }
  g_test_message("coloured pixels: %d left, %d right", coloured[0], coloured[1]);
  g_assert_cmpint(coloured[0], >, 200);
  g_assert_cmpint(coloured[1], >, 200);
  cairo_surface_destroy(s);
  g_autofree char *svg_text = NULL;
  g_assert_true(g_file_get_contents(svg, &svg_text, NULL, NULL));
  g_assert_nonnull(strstr(svg_text, "<svg"));
  g_assert_true(lens_translate_page_set_compare(page(), NULL));
  g_assert_false(gtk_widget_get_visible(gtk_widget_get_ancestor(GTK_WIDGET(b), GTK_TYPE_SCROLLED_WINDOW)));
  g_assert_true(lens_page_export(LENS_PAGE(page()), png, 1.0, &error));
  s = cairo_image_surface_create_from_png(png);
  g_assert_cmpint(cairo_image_surface_get_width(s), ==, (int)ceil(wa - 1e-9)); /* the first alone again */
  cairo_surface_destroy(s);
}

static gboolean white_at(cairo_surface_t *s, double x, double y) {
  const unsigned char *p = cairo_image_surface_get_data(s) + (int)y * cairo_image_surface_get_stride(s) + 4 * (int)x;
  return p[0] == 255 && p[1] == 255 && p[2] == 255;
}

/* Step-through: at step t the rows after t are hidden, row t is lit, the page lists the five
 * tokens the model weighed; Right moves on; the export shows the same step. */
static void test_step_through(void) {
  g_assert_true(lens_window_select_model(window, "rnn-tiny")); /* its random weights write long outputs */
  type_text("abc dag fe");
  g_assert_true(wait_for(model_is, "rnn-tiny"));
  LensTraceView *view = lens_translate_page_get_view(page());
  const attn_trace *t = lens_trace_view_get_trace(view);
  g_assert_cmpint(t->output.n, >=, 4);
  g_assert_cmpint(t->output.n_cand, ==, 5);
  lens_translate_page_set_step(page(), 1);
  g_assert_cmpint(lens_translate_page_get_step(page()), ==, 1);
  g_assert_cmpint(lens_trace_view_get_options(view)->highlight_row, ==, 1);
  g_assert_true(gtk_widget_has_focus(lens_translate_page_get_step_scale(page())) ||
                GTK_IS_TEXT_VIEW(gtk_window_get_focus(GTK_WINDOW(window))));
  const char *text = lens_translate_page_get_step_text(page());
  g_test_message("%s", text);
  g_autofree char *head = g_strdup_printf("Step 2 of %d: chose", t->output.n);
  g_assert_true(g_str_has_prefix(text, head));
  int dots = 0;
  for (const char *c = text; (c = strstr(c, "·")); c++) dots++;
  g_assert_cmpint(dots, ==, 4); /* five candidates */
  g_autofree char *best = g_strdup_printf("%.2f", (double)t->output.cand_probs[5]);
  g_assert_nonnull(strstr(text, best));
  g_assert_true(wait_for(two_rows_laid_out, view));
  const LensLayout *l = lens_trace_view_get_layout(view);
  g_assert_cmpint(l->rows, ==, 2); /* rows after the step answer no hover */
  cairo_surface_t *s = gui_render_widget(GTK_WIDGET(view));
  const char *shots = g_getenv("ATTN_SCREENSHOT_DIR");
  if (shots) {
    g_autofree char *p = g_build_filename(shots, "gui-step.png", NULL);
    cairo_surface_write_to_png(s, p);
  }
  for (int j = 0; j < l->cols; j++) {
    g_assert_true(cell_matches(s, view, 1, j, FALSE)); /* row t, lit */
    g_assert_true(cell_matches(s, view, 0, j, TRUE));  /* before it, faded */
    g_assert_true(white_at(s, l->grid.x + (j + 0.5) * l->cell_w, l->grid.y + 2.5 * l->cell_h)); /* not yet */
  }
  cairo_surface_destroy(s);
  g_signal_emit_by_name(lens_translate_page_get_step_scale(page()), "move-slider", GTK_SCROLL_STEP_RIGHT); /* Right */
  g_assert_cmpint(lens_translate_page_get_step(page()), ==, 2);
  g_assert_true(g_str_has_prefix(lens_translate_page_get_step_text(page()), "Step 3 of"));
  /* the export shows the same step */
  g_autofree char *dir = g_dir_make_tmp("attn-gui-XXXXXX", NULL);
  g_autofree char *png = g_build_filename(dir, "step.png", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(lens_page_export(LENS_PAGE(page()), png, 1.0, &error));
  s = cairo_image_surface_create_from_png(png);
  LensLayout *el = g_new0(LensLayout, 1);
  cairo_surface_t *probe = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, cairo_image_surface_get_width(s),
                                                      cairo_image_surface_get_height(s));
  cairo_t *cr = cairo_create(probe);
  LensRenderOptions o = *lens_trace_view_get_options(view);
  o.dark = 0;
  lens_render(cr, lens_trace_view_get_trace(view), &o, cairo_image_surface_get_width(s), cairo_image_surface_get_height(s), el);
  cairo_destroy(cr);
  cairo_surface_destroy(probe);
  g_assert_cmpint(el->rows, ==, 3);
  for (int j = 0; j < el->cols; j++) {
    g_assert_false(white_at(s, el->grid.x + (j + 0.5) * el->cell_w, el->grid.y + 2.5 * el->cell_h)); /* step 3 drawn */
    g_assert_true(white_at(s, el->grid.x + (j + 0.5) * el->cell_w, el->grid.y + 3.5 * el->cell_h));  /* step 4 not */
  }
  g_free(el);
  cairo_surface_destroy(s);
  lens_translate_page_set_step(page(), -1);
  g_assert_cmpint(lens_translate_page_get_step(page()), ==, -1);
  g_assert_cmpint(lens_trace_view_get_options(view)->reveal_rows, ==, 0);
  g_assert_true(lens_window_select_model(window, "transformer-tiny"));
  g_assert_true(wait_for(model_is, "transformer-tiny"));
}

static gboolean exports_done(gpointer w) { return lens_window_exports_running(w) == 0; }

static gboolean tick(gpointer counter) {
  (*(int *)counter)++;
  return G_SOURCE_CONTINUE;
}

/* The window's export runs on a worker from a snapshot: the main loop keeps turning while a
 * 4x PNG is drawn, and editing the sentence meanwhile does not change (or free) what is written. */
static void test_export_in_background(void) {
  type_text("abc dag fe bad cafe fed");
  LensTraceView *view = lens_translate_page_get_view(page());
  double w, h;
  lens_render_size(lens_trace_view_get_trace(view), lens_trace_view_get_options(view), &w, &h);
  g_autofree char *dir = g_dir_make_tmp("attn-gui-XXXXXX", NULL);
  g_autofree char *png = g_build_filename(dir, "bg.png", NULL);
  int ticks = 0;
  guint id = g_timeout_add(1, tick, &ticks);
  lens_window_export(window, png, 4.0);
  g_assert_cmpint(lens_window_exports_running(window), ==, 1);
  lens_translate_page_set_text(page(), "b"); /* the shown trace is replaced while the export runs */
  g_assert_true(wait_for(exports_done, window));
  g_source_remove(id);
  g_test_message("main-loop ticks during the export: %d", ticks);
  g_assert_cmpint(ticks, >, 0);
  cairo_surface_t *s = cairo_image_surface_create_from_png(png);
  g_assert_cmpint(cairo_surface_status(s), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint(cairo_image_surface_get_width(s), ==, (int)ceil(w * 4 - 1e-9));
  g_assert_cmpint(cairo_image_surface_get_height(s), ==, (int)ceil(h * 4 - 1e-9));
  cairo_surface_destroy(s);
  g_assert_true(wait_for(page_idle, page()));
  g_remove(png);
  g_rmdir(dir);
}

/* The first widget under root that is a button labelled label, or a label with that text. */
static GtkWidget *find_labelled(GtkWidget *root, const char *label) {
  if (GTK_IS_BUTTON(root) && g_strcmp0(gtk_button_get_label(GTK_BUTTON(root)), label) == 0) return root;
  if (GTK_IS_CHECK_BUTTON(root) && g_strcmp0(gtk_check_button_get_label(GTK_CHECK_BUTTON(root)), label) == 0) return root;
  if (GTK_IS_LABEL(root) && g_strcmp0(gtk_label_get_text(GTK_LABEL(root)), label) == 0) return root;
  for (GtkWidget *c = gtk_widget_get_first_child(root); c; c = gtk_widget_get_next_sibling(c)) {
    GtkWidget *found = find_labelled(c, label);
    if (found) return found;
  }
  return NULL;
}

static gboolean is_bottleneck(gpointer view) {
  while (g_main_context_iteration(NULL, FALSE)) {}
  return lens_trace_view_get_layout(view)->view == LENS_VIEW_BOTTLENECK;
}

static gboolean model_is_noattn(gpointer text) {
  const attn_trace *t = lens_translate_page_get_trace(page());
  return model_is("rnn-noattn-tiny") && t && g_strcmp0(t->source.text, text) == 0;
}

/* A model without attention: the page shows the one vector its decoder read, coloured by value;
 * the attention-only controls are off and say why; hover, export, step-through and compare (its
 * vector beside another model's attention map) work. */
static void test_no_attention(void) {
  g_assert_true(lens_window_select_model(window, "rnn-noattn-tiny"));
  type_text("abc dea");
  g_assert_true(wait_for(model_is_noattn, "abc dea"));
  g_assert_false(lens_translate_page_has_attention(page()));
  LensTraceView *view = lens_translate_page_get_view(page());
  const attn_trace *t = lens_trace_view_get_trace(view);
  g_assert_cmpint(t->n_maps, ==, 0);
  g_assert_cmpint(t->summary_dim, >, 0);
  g_assert_true(wait_for(is_bottleneck, view));
  const LensLayout *l = lens_trace_view_get_layout(view);
  g_assert_cmpint(l->vec_n, ==, t->summary_dim);
  g_assert_cmpint(l->cols, ==, t->source.n);
  g_assert_cmpint(l->rows, ==, t->output.n);
  /* the cells' colours carry the values' signs: blue below zero, red above */
  cairo_surface_t *s = gui_render_widget(GTK_WIDGET(view));
  const char *shots = g_getenv("ATTN_SCREENSHOT_DIR");
  if (shots) {
    g_autofree char *p = g_build_filename(shots, "gui-no-attention.png", NULL);
    cairo_surface_write_to_png(s, p);
  }
  float scale = 0;
  for (int k = 0; k < t->summary_dim; k++) scale = fmaxf(scale, fabsf(t->summary[k]));
  int signs = 0;
  for (int k = 0; k < t->summary_dim; k++) {
    double x = l->grid.x + (k % l->vec_cols + 0.5) * l->cell_w, y = l->grid.y + (k / l->vec_cols + 0.5) * l->cell_h;
    const unsigned char *p = cairo_image_surface_get_data(s) + (int)y * cairo_image_surface_get_stride(s) + 4 * (int)x;
    float v = t->summary[k] / scale; /* BGRA */
    if (v < -0.2f) {
      g_assert_cmpint(p[0], >, p[2] + 10);
      signs++;
    } else if (v > 0.2f) {
      g_assert_cmpint(p[2], >, p[0] + 10);
      signs++;
    }
  }
  g_test_message("%d values, %d cells checked by sign", t->summary_dim, signs);
  g_assert_cmpint(signs, >, 0);
  cairo_surface_destroy(s);
  /* controls that need attention are off and say why; the rest stay */
  GtkWidget *heads = find_labelled(GTK_WIDGET(page()), "All heads"), *map = find_labelled(GTK_WIDGET(page()), "Map");
  g_assert_nonnull(heads);
  g_assert_nonnull(map);
  g_assert_false(gtk_widget_is_sensitive(heads));
  g_assert_false(gtk_widget_is_sensitive(map));
  g_assert_nonnull(strstr(gtk_widget_get_tooltip_text(heads), "no attention"));
  g_assert_false(gtk_widget_is_sensitive(find_labelled(GTK_WIDGET(page()), "Values")));
  g_assert_true(gtk_widget_is_sensitive(find_labelled(GTK_WIDGET(page()), "Words")));
  /* hover: a value of the vector, an output token */
  double cx = l->grid.x + 0.5 * l->cell_w, cy = l->grid.y + 0.5 * l->cell_h;
  g_autofree char *value = lens_trace_view_describe_point(view, cx, cy);
  g_autofree char *want = g_strdup_printf("%.3f", (double)t->summary[0]);
  g_test_message("%s", value);
  g_assert_nonnull(strstr(value, want));
  LensRect r0 = l->row_labels[0];
  g_autofree char *out = lens_trace_view_describe_point(view, r0.x + r0.w / 2, r0.y + r0.h / 2);
  g_assert_nonnull(out);
  g_assert_nonnull(strstr(out, "no attention"));
  /* export: the same picture, in every format */
  g_autofree char *dir = g_dir_make_tmp("attn-gui-XXXXXX", NULL);
  const char *names[] = {"n.png", "n.svg", "n.pdf"}, *magic[] = {"\x89PNG", "<?xml", "%PDF"};
  for (int i = 0; i < 3; i++) {
    g_autofree char *p = g_build_filename(dir, names[i], NULL), *data = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_true(lens_page_export(LENS_PAGE(page()), p, 1.0, &error));
    gsize len = 0;
    g_assert_true(g_file_get_contents(p, &data, &len, NULL));
    g_assert_cmpmem(data, strlen(magic[i]), magic[i], strlen(magic[i]));
  }
  /* step-through lights one output at a time */
  if (t->output.n >= 2) {
    lens_translate_page_set_step(page(), 0);
    while (g_main_context_iteration(NULL, FALSE)) {}
    g_assert_cmpint(lens_trace_view_get_layout(view)->rows, ==, 1);
    lens_translate_page_set_step(page(), -1);
  }
  /* compare: the attention map of a model that has one, beside this vector */
  g_assert_true(lens_translate_page_set_compare(page(), "rnn-tiny"));
  g_assert_true(wait_for(both_idle_with, "abc dea"));
  LensTraceView *b = lens_translate_page_get_compare_view(page());
  g_assert_true(wait_for(drawn, b));
  while (g_main_context_iteration(NULL, FALSE)) {}
  g_assert_cmpint(lens_trace_view_get_layout(b)->view, ==, LENS_VIEW_MATRIX);
  g_assert_cmpint(lens_trace_view_get_layout(view)->view, ==, LENS_VIEW_BOTTLENECK);
  assert_cells_drawn(b);
  g_assert_true(gtk_widget_is_sensitive(find_labelled(GTK_WIDGET(page()), "Flow"))); /* for the second model */
  if (shots) {
    cairo_surface_t *shot = gui_render_widget(GTK_WIDGET(window));
    g_autofree char *p = g_build_filename(shots, "gui-no-attention-compare.png", NULL);
    cairo_surface_write_to_png(shot, p);
    cairo_surface_destroy(shot);
  }
  double wa, ha, wb, hb;
  lens_render_size(lens_trace_view_get_trace(view), lens_trace_view_get_options(view), &wa, &ha);
  lens_render_size(lens_trace_view_get_trace(b), lens_trace_view_get_options(b), &wb, &hb);
  g_autofree char *png = g_build_filename(dir, "both.png", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(lens_page_export(LENS_PAGE(page()), png, 1.0, &error));
  s = cairo_image_surface_create_from_png(png);
  g_assert_cmpint(cairo_image_surface_get_width(s), ==, (int)ceil(wa + 24 + wb - 1e-9));
  cairo_surface_destroy(s);
  g_assert_true(lens_translate_page_set_compare(page(), NULL));
  /* a model with attention again: the controls come back */
  g_assert_true(lens_window_select_model(window, "transformer-tiny"));
  g_assert_true(wait_for(model_is, "transformer-tiny"));
  g_assert_true(lens_translate_page_has_attention(page()));
  g_assert_true(gtk_widget_is_sensitive(heads));
  g_assert_true(gtk_widget_is_sensitive(map));
}

static gboolean quality_idle(gpointer d) { return !lens_quality_dialog_is_running(d); }

static int count_near(cairo_surface_t *s, int r, int g, int b) {
  int n = 0, w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      const unsigned char *p = cairo_image_surface_get_data(s) + y * cairo_image_surface_get_stride(s) + 4 * x;
      n += abs(p[2] - r) < 25 && abs(p[1] - g) < 25 && abs(p[0] - b) < 25;
    }
  return n;
}

/* "Quality by Sentence Length" from the main menu: two tiny models scored on a few sentences on a
 * worker thread, the chart drawn with a line per model over the length buckets, exported in every
 * format; a long run is cancelled and leaves the last chart. */
static void test_quality_by_length(void) {
  g_assert_true(g_action_group_has_action(G_ACTION_GROUP(window), "quality-by-length"));
  g_action_group_activate_action(G_ACTION_GROUP(window), "quality-by-length", NULL);
  LensQualityDialog *d = LENS_QUALITY_DIALOG(lens_window_show_quality(window));
  g_assert_true(gtk_widget_get_visible(GTK_WIDGET(d)));
  g_autofree char *shared = quality_default_file("en");
  if (!g_file_test(shared, G_FILE_TEST_EXISTS)) g_assert_nonnull(strstr(lens_quality_dialog_get_note(d), "not found"));
  g_assert_null(lens_quality_dialog_get_chart(d));
  /* a few sentences of 1 to 14 words, with references */
  const char *src[] = {"abc", "abc dea fed", "bad cafe fed abc dag fe bad cafe fed", "ab cd ef gh ab cd ef gh ab cd ef gh ab",
                       "fed cab", "dag fe bad cafe fed abc", NULL};
  const char *ref[] = {"abc", "abc dea", "bad cafe", "ab cd ef", "fed", "dag fe", NULL};
  g_autofree char *dir = g_dir_make_tmp("attn-gui-XXXXXX", NULL);
  g_autofree char *sp = g_build_filename(dir, "src.txt", NULL), *rp = g_build_filename(dir, "ref.txt", NULL);
  g_autofree char *st = g_strjoinv("\n", (char **)src), *rt = g_strjoinv("\n", (char **)ref);
  g_assert_true(g_file_set_contents(sp, st, -1, NULL));
  g_assert_true(g_file_set_contents(rp, rt, -1, NULL));
  lens_quality_dialog_set_files(d, sp, rp);
  const char *models[] = {"rnn-tiny", "rnn-noattn-tiny", NULL};
  g_assert_true(lens_quality_dialog_set_models(d, models));
  lens_quality_dialog_start(d);
  g_assert_true(lens_quality_dialog_is_running(d)); /* the main loop is free meanwhile */
  g_assert_true(gui_wait_for(quality_idle, d, 60));
  g_test_message("status: %s", lens_quality_dialog_get_status(d));
  const LensChart *c = lens_quality_dialog_get_chart(d);
  g_assert_nonnull(c);
  g_assert_cmpint(c->n_series, ==, 2);
  g_assert_cmpint(c->n_x, ==, 5); /* 1-8, 9-12, 13-16, 17-20, 21+ words */
  int counts[5] = {0};
  for (size_t i = 0; src[i]; i++) {
    int words = 1;
    for (const char *p = src[i]; *p; p++) words += *p == ' ';
    counts[words <= 8 ? 0 : words <= 12 ? 1 : words <= 16 ? 2 : words <= 20 ? 3 : 4]++;
  }
  for (int b = 0; b < 5; b++) {
    g_autofree char *n = g_strdup_printf("(%d)", counts[b]);
    g_assert_nonnull(strstr(c->x_ticks[b], n));
    for (int m = 0; m < 2; m++) {
      double y = c->series[m].y[b];
      if (counts[b]) g_assert_true(y >= 0 && y <= 100);
      else g_assert_true(isnan(y));
    }
  }
  g_autofree char *legend = g_strdup_printf("%s | %s", c->series[0].name, c->series[1].name);
  g_test_message("series: %s", legend);
  g_assert_nonnull(strstr(legend, "rnn-tiny ("));
  g_assert_nonnull(strstr(legend, "rnn-noattn-tiny ("));
  g_assert_cmpfloat(lens_quality_dialog_get_progress(d), ==, 1.0);
  /* drawn: each model's line in its colour (Okabe-Ito blue and vermillion) */
  while (g_main_context_iteration(NULL, FALSE)) {}
  cairo_surface_t *s = gui_render_widget(lens_quality_dialog_get_chart_area(d));
  int blue = count_near(s, 0, 114, 178), orange = count_near(s, 213, 94, 0);
  g_test_message("chart pixels: %d blue, %d vermillion", blue, orange);
  g_assert_cmpint(blue, >, 30);
  g_assert_cmpint(orange, >, 30);
  const char *shots = g_getenv("ATTN_SCREENSHOT_DIR");
  if (shots) {
    cairo_surface_t *all = gui_render_widget(GTK_WIDGET(d));
    g_autofree char *p = g_build_filename(shots, "gui-quality.png", NULL);
    cairo_surface_write_to_png(all, p);
    cairo_surface_destroy(all);
  }
  cairo_surface_destroy(s);
  const char *names[] = {"q.png", "q.svg", "q.pdf"}, *magic[] = {"\x89PNG", "<?xml", "%PDF"};
  for (int i = 0; i < 3; i++) {
    g_autofree char *p = g_build_filename(dir, names[i], NULL), *data = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_true(lens_quality_dialog_export(d, p, 1.0, &error));
    gsize len = 0;
    g_assert_true(g_file_get_contents(p, &data, &len, NULL));
    g_assert_cmpmem(data, strlen(magic[i]), magic[i], strlen(magic[i]));
  }
  /* a long run, cancelled: the window says so and keeps the last chart */
  GString *big = g_string_new(NULL);
  for (int i = 0; i < 4000; i++) g_string_append(big, "bad cafe fed abc dag fe\n");
  g_assert_true(g_file_set_contents(sp, big->str, -1, NULL));
  g_assert_true(g_file_set_contents(rp, big->str, -1, NULL));
  g_string_free(big, TRUE);
  lens_quality_dialog_start(d);
  g_assert_true(lens_quality_dialog_is_running(d));
  lens_quality_dialog_cancel(d);
  g_assert_true(gui_wait_for(quality_idle, d, 30));
  g_assert_cmpstr(lens_quality_dialog_get_status(d), ==, "Cancelled.");
  g_assert_true(lens_quality_dialog_get_chart(d) == c);
  /* mismatched files: a message, no chart change */
  g_assert_true(g_file_set_contents(rp, "one line\n", -1, NULL));
  lens_quality_dialog_start(d);
  g_assert_true(gui_wait_for(quality_idle, d, 30));
  g_assert_nonnull(strstr(lens_quality_dialog_get_status(d), "line-aligned"));
  gtk_window_destroy(GTK_WINDOW(d));
}

static void test_bad_input(void) {
  GString *big = g_string_new(NULL);
  for (int i = 0; i < 1500; i++) g_string_append(big, "abc dah ");
  lens_translate_page_set_text(page(), big->str);
  g_assert_true(wait_for(page_idle, page()));
  g_assert_nonnull(lens_page_get_message(LENS_PAGE(page())));
  g_assert_nonnull(strstr(lens_page_get_message(LENS_PAGE(page())), "cut"));
  g_autofree char *kept = lens_translate_page_get_text(page());
  g_assert_cmpstr(kept, ==, big->str); /* never lose the user's text */
  g_string_free(big, TRUE);
  type_text("abc xyz");
  g_assert_nonnull(strstr(lens_page_get_message(LENS_PAGE(page())), "not in the vocabulary"));
  type_text("   ");
  g_assert_null(lens_translate_page_get_trace(page()));
  g_assert_null(lens_page_get_message(LENS_PAGE(page())));
  /* a broken model: a message, no crash, the text stays */
  g_autofree char *tmp = g_dir_make_tmp("attn-gui-XXXXXX", NULL);
  g_autofree char *broken = g_build_filename(tmp, "broken", NULL);
  g_autofree char *from = g_build_filename(g_getenv("ATTN_FIXTURES"), "transformer-tiny", NULL);
  copy_dir(from, broken);
  g_autofree char *st = g_build_filename(broken, "model.safetensors", NULL);
  g_assert_true(g_file_set_contents(st, "\x10\0\0\0\0\0\0\0{\"a\":", 13, NULL));
  type_text("abc");
  g_autoptr(GError) error = NULL;
  g_assert_false(lens_window_add_model(window, broken, &error)); /* refused up front */
  g_assert_nonnull(strstr(error->message, "model.safetensors"));
  g_autofree char *text = lens_translate_page_get_text(page());
  g_assert_cmpstr(text, ==, "abc");
}

/* The card's markdown as Pango markup: valid markup (Pango parses it) for every shipped card;
 * headings, code, bold and tables set as such; markup characters in the text escaped, lone
 * markers kept. */
static void test_card_markup(void) {
  const char *md = "# name\n\nText with `code` and **bold** & <angle> a*b `lone.\n## Quality\n\n"
                   "| set | BLEU |\n|---|---|\n| Tatoeba | 30.14 |\n| news | **11.04** |\n\n"
                   "```\nrun --x <y>\n```\nend";
  g_autofree char *m = lens_card_markup(md);
  g_test_message("%s", m);
  g_assert_true(pango_parse_markup(m, -1, 0, NULL, NULL, NULL, NULL));
  g_assert_nonnull(strstr(m, "<span size=\"large\" weight=\"bold\">name</span>\n"));
  g_assert_nonnull(strstr(m, "Text with <tt>code</tt> and <b>bold</b> &amp; &lt;angle&gt; a*b `lone.\n"));
  g_assert_nonnull(strstr(m, "<b>Quality</b>\n"));
  g_assert_nonnull(strstr(m, "<b>Tatoeba</b> · BLEU: 30.14\n<b>news</b> · BLEU: <b>11.04</b>\n"));
  g_assert_null(strstr(m, "---"));
  g_assert_nonnull(strstr(m, "<tt><small>run --x &lt;y&gt;</small></tt>\nend"));
  g_assert_null(strstr(m, "```"));
  g_autofree char *none = lens_card_markup(NULL);
  g_assert_cmpstr(none, ==, "");
  g_autoptr(GPtrArray) all = shipped_models();
  g_assert_cmpuint(all->len, >, 10);
  for (guint i = 0; i < all->len; i++) {
    const LensModelEntry *e = g_ptr_array_index(all, i);
    g_autofree char *card = lens_card_markup(e->card);
    GError *error = NULL;
    char *text = NULL;
    if (!pango_parse_markup(card, -1, 0, NULL, &text, NULL, &error)) g_test_message("%s: %s", e->name, error->message);
    g_assert_no_error(error);
    g_assert_null(strstr(text, "```"));
    g_free(text);
  }
}

/* A dropdown of sentence-long items (the beam's hypotheses) keeps the toolbar narrow: its
 * button ellipsizes the chosen item; a plain dropdown grows with it. */
static void test_short_dropdown(void) {
  const char *item = "1 · -0.41 · Die Vereinbarung auf dem europäischen Wirtschaftsraum wurde im August 1992 unterzeichnet.";
  GtkStringList *a = NULL, *b = NULL;
  GtkWidget *plain = lens_page_dropdown(&a, NULL), *brief = lens_page_dropdown_short(&b, 22);
  gtk_string_list_append(a, item);
  gtk_string_list_append(b, item);
  GtkWidget *win = gtk_window_new(), *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
  gtk_box_append(GTK_BOX(box), plain);
  gtk_box_append(GTK_BOX(box), brief);
  gtk_window_set_child(GTK_WINDOW(win), box);
  gtk_window_present(GTK_WINDOW(win));
  for (int i = 0; i < 50; i++) while (g_main_context_iteration(NULL, FALSE)) {}
  int nat_plain = 0, nat_brief = 0;
  gtk_widget_measure(plain, GTK_ORIENTATION_HORIZONTAL, -1, NULL, &nat_plain, NULL, NULL);
  gtk_widget_measure(brief, GTK_ORIENTATION_HORIZONTAL, -1, NULL, &nat_brief, NULL, NULL);
  g_test_message("natural width: plain %d px, short %d px", nat_plain, nat_brief);
  g_assert_cmpint(nat_brief, <, 320);
  g_assert_cmpint(nat_plain, >, 2 * nat_brief);
  g_assert_cmpuint(gtk_drop_down_get_selected(GTK_DROP_DOWN(brief)), ==, 0);
  gtk_window_destroy(GTK_WINDOW(win));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  gui_show_page(&window, "translate"); /* the first page: shown already */
  g_assert_true(lens_window_select_model(window, "transformer-tiny"));
  g_test_add_func("/gui/window/focus-at-start", test_focus_at_start);
  g_test_add_func("/gui/translate/typing", test_typing);
  g_test_add_func("/gui/translate/pixels", test_pixels);
  g_test_add_func("/gui/translate/switch-model-and-view", test_switch_model_and_view);
  g_test_add_func("/gui/translate/model-beam", test_model_beam);
  g_test_add_func("/gui/translate/model-facts", test_model_facts);
  g_test_add_func("/gui/card-markup", test_card_markup);
  g_test_add_func("/gui/short-dropdown", test_short_dropdown);
  g_test_add_func("/gui/translate/export", test_export);
  g_test_add_func("/gui/translate/zoom-long-sentence", test_zoom_long_sentence);
  g_test_add_func("/gui/translate/compare", test_compare);
  g_test_add_func("/gui/translate/step-through", test_step_through);
  g_test_add_func("/gui/translate/export-in-background", test_export_in_background);
  g_test_add_func("/gui/translate/no-attention", test_no_attention);
  g_test_add_func("/gui/window/quality-by-length", test_quality_by_length);
  g_test_add_func("/gui/translate/bad-input", test_bad_input);
  int rc = g_test_run();
  gtk_window_destroy(GTK_WINDOW(window));
  return rc;
}
