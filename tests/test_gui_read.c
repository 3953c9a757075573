/* The Read page in the real window under Xvfb: type a story and a question, wait for the
 * worker, check the answer against the engine, the hop shading pixel by pixel, unknown
 * words marked in the editor, the word view, export, and bad input. */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "attn_read.h"
#include "lens_read_page.h"
#include "gui_util.h"
#include "lens_window.h"

static LensWindow *window;
static LensReadPage *page;

static const char STORY[] = "Mary went to the kitchen.\nJohn moved to the garden.\nSandra journeyed to the office.\n"
                            "Mary moved to the bathroom.\n";

static gboolean wait_for(gboolean (*cond)(gpointer), gpointer data) { return gui_wait_for(cond, data, 10); }

static gboolean page_idle(gpointer p) { return !lens_page_is_busy(LENS_PAGE(p)); }
static gboolean drawn(gpointer view) { return lens_trace_view_get_layout(view)->rows > 0; }

/* Types a story into the editor and a question into the entry, one character at a time. */
static void type_story(const char *story, const char *question) {
  lens_read_page_set_story(page, "");
  lens_read_page_set_question(page, "");
  for (const char *p = story; *p; p = g_utf8_next_char(p)) {
    g_autofree char *next = g_strndup(story, g_utf8_next_char(p) - story);
    lens_read_page_set_story(page, next);
    g_main_context_iteration(NULL, FALSE);
  }
  for (const char *p = question; *p; p = g_utf8_next_char(p)) {
    g_autofree char *next = g_strndup(question, g_utf8_next_char(p) - question);
    lens_read_page_set_question(page, next);
    g_main_context_iteration(NULL, FALSE);
  }
  g_assert_true(wait_for(page_idle, page));
}

/* What the engine itself answers, for comparison. */
static attn_trace *engine_read(const char *fixture, const char *story, const char *question) {
  g_autofree char *dir = g_build_filename(g_getenv("ATTN_FIXTURES"), fixture, NULL);
  attn_error err = {0};
  attn_reader *r = attn_reader_load(dir, &err);
  g_assert_nonnull(r);
  attn_trace *t = attn_read(r, story, question, &err);
  g_assert_nonnull(t);
  attn_reader_free(r);
  return t;
}

static void screenshot(GtkWidget *w, const char *name) {
  const char *shots = g_getenv("ATTN_SCREENSHOT_DIR");
  if (!shots) return;
  while (g_main_context_iteration(NULL, FALSE)) {}
  cairo_surface_t *s = gui_render_widget(w);
  g_autofree char *p = g_build_filename(shots, name, NULL);
  cairo_surface_write_to_png(s, p);
  cairo_surface_destroy(s);
}

static gboolean model_loaded(gpointer name) {
  const attn_trace *t = lens_read_page_get_trace(page);
  return !lens_page_is_busy(LENS_PAGE(page)) && t && g_strcmp0(t->model, name) == 0;
}

static void use_model(const char *name) {
  g_assert_true(lens_page_select_model(LENS_PAGE(page), name));
  g_assert_true(wait_for(model_loaded, (gpointer)name));
}

static void test_typing(void) {
  use_model("memn2n-tiny");
  type_story(STORY, "Where is Mary?");
  const attn_trace *t = lens_read_page_get_trace(page);
  g_assert_nonnull(t);
  g_assert_cmpint(t->n_sentences, ==, 4);
  attn_trace *want = engine_read("memn2n-tiny", STORY, "Where is Mary?");
  g_assert_cmpstr(t->output.tokens[0], ==, want->output.tokens[0]);
  g_autofree char *expect = g_strdup_printf("%s — probability %.2f", want->output.tokens[0], (double)want->output.probs[0]);
  g_assert_cmpstr(lens_read_page_get_answer_text(page), ==, expect);
  g_test_message("answer: %s", lens_read_page_get_answer_text(page));
  for (int k = 0; k < t->n_maps; k++)
    for (int i = 0; i < t->maps[k].cols; i++) g_assert_cmpfloat(fabs(t->maps[k].weights[i] - want->maps[k].weights[i]), <, 1e-6);
  attn_trace_free(want);
  g_assert_null(lens_page_get_message(LENS_PAGE(page)));
  g_assert_cmpstr(lens_read_page_get_unknown_words(page), ==, "");
}

/* Each hop column's cells are shaded by that hop's weight for the sentence of their row. */
static void test_hop_shading(void) {
  use_model("memn2n-tiny");
  type_story(STORY, "Where is the football?");
  LensTraceView *view = lens_read_page_get_view(page);
  g_assert_true(wait_for(drawn, view));
  while (g_main_context_iteration(NULL, FALSE)) {}
  cairo_surface_t *s = gui_render_widget(GTK_WIDGET(view));
  const LensLayout *l = lens_trace_view_get_layout(view);
  const attn_trace *t = lens_trace_view_get_trace(view);
  g_assert_cmpint(l->rows, ==, 4);
  g_assert_cmpint(l->cols, ==, 3);
  float vmax = 0;
  for (int k = 0; k < t->n_maps; k++)
    for (int i = 0; i < 4; i++) vmax = fmaxf(vmax, t->maps[k].weights[i]);
  unsigned char *px = cairo_image_surface_get_data(s);
  int stride = cairo_image_surface_get_stride(s);
  for (int k = 0; k < 3; k++)
    for (int i = 0; i < 4; i++) {
      int x = (int)(l->grid.x + k * l->cell_w + 3), y = (int)(l->grid.y + i * l->cell_h + 3);
      double rgb[3];
      lens_colormap_rgb(lens_trace_view_get_options(view)->colormap, t->maps[k].weights[i] / vmax, rgb);
      const unsigned char *p = px + y * stride + 4 * x; /* BGRA */
      for (int c = 0; c < 3; c++) g_assert_cmpint(abs((int)p[2 - c] - (int)lround(rgb[c] * 255)), <=, 2);
    }
  cairo_surface_destroy(s);
  screenshot(GTK_WIDGET(window), "gui-read-window.png");
}

static GtkWidget *find_text_view(GtkWidget *w) {
  if (GTK_IS_TEXT_VIEW(w)) return w;
  for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c)) {
    GtkWidget *found = find_text_view(c);
    if (found) return found;
  }
  return NULL;
}

static void test_unknown_words(void) {
  use_model("memn2n-tiny");
  type_story("Alice went to the kitchen.\nMary went to the garden.\n", "Where is Alice?");
  g_assert_cmpstr(lens_read_page_get_unknown_words(page), ==, "alice");
  g_assert_nonnull(strstr(lens_read_page_get_answer_text(page), "unreliable"));
  g_assert_nonnull(lens_page_get_message(LENS_PAGE(page)));
  g_assert_nonnull(strstr(lens_page_get_message(LENS_PAGE(page)), "\"alice\""));
  /* "Alice" is underlined in the editor, "Mary" is not */
  GtkTextBuffer *buffer = gtk_text_view_get_buffer(GTK_TEXT_VIEW(find_text_view(GTK_WIDGET(page))));
  GtkTextTag *tag = gtk_text_tag_table_lookup(gtk_text_buffer_get_tag_table(buffer), "unknown");
  g_assert_nonnull(tag);
  GtkTextIter it;
  gtk_text_buffer_get_iter_at_line_offset(buffer, &it, 0, 2); /* "Al|ice" */
  g_assert_true(gtk_text_iter_has_tag(&it, tag));
  gtk_text_buffer_get_iter_at_line_offset(buffer, &it, 1, 2); /* "Ma|ry" */
  g_assert_false(gtk_text_iter_has_tag(&it, tag));
  screenshot(GTK_WIDGET(window), "gui-read-unknown.png");
}

static void test_word_view(void) {
  use_model("attentive-reader-tiny");
  type_story(STORY, "Where is Mary?");
  LensTraceView *view = lens_read_page_get_view(page);
  g_assert_true(wait_for(drawn, view));
  while (g_main_context_iteration(NULL, FALSE)) {}
  const attn_trace *t = lens_trace_view_get_trace(view);
  g_assert_cmpint(t->n_sentences, ==, 0);
  g_assert_cmpstr(t->maps[0].name, ==, "words");
  const LensLayout *l = lens_trace_view_get_layout(view);
  g_assert_cmpint(l->n_col_labels, ==, t->source.n);
  attn_trace *want = engine_read("attentive-reader-tiny", STORY, "Where is Mary?");
  g_assert_cmpstr(t->output.tokens[0], ==, want->output.tokens[0]);
  attn_trace_free(want);
  screenshot(GTK_WIDGET(window), "gui-read-words.png");
}

static void test_export_and_examples(void) {
  use_model("memn2n-tiny");
  g_assert_cmpint(lens_read_page_get_n_examples(page), >=, 3);
  lens_read_page_show_example(page, 1);
  g_assert_true(wait_for(page_idle, page));
  g_assert_cmpint(lens_read_page_get_trace(page)->n_sentences, ==, 6);
  g_autofree char *dir = g_dir_make_tmp("attn-gui-read-XXXXXX", NULL);
  g_autofree char *png = g_build_filename(dir, "story.png", NULL), *pdf = g_build_filename(dir, "story.pdf", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(lens_page_export(LENS_PAGE(page), png, 2.0, &error));
  g_assert_true(lens_page_export(LENS_PAGE(page), pdf, 1.0, &error));
  g_assert_true(g_file_test(png, G_FILE_TEST_EXISTS) && g_file_test(pdf, G_FILE_TEST_EXISTS));
  g_autoptr(GdkTexture) tex = lens_page_texture(LENS_PAGE(page), 1.0);
  g_assert_nonnull(tex);
  g_unlink(png), g_unlink(pdf);
  g_rmdir(dir);
}

static void test_bad_input(void) {
  use_model("memn2n-tiny");
  type_story(STORY, "   ");
  g_assert_null(lens_read_page_get_trace(page)); /* nothing to answer: a hint, no error */
  g_assert_cmpstr(lens_read_page_get_answer_text(page), ==, "");
  GString *huge = g_string_new(NULL);
  for (int i = 0; i < 5000; i++) g_string_append(huge, "Mary went to the kitchen.\n");
  lens_read_page_set_story(page, huge->str);
  lens_read_page_set_question(page, "Where is Mary?");
  g_assert_true(wait_for(page_idle, page));
  g_assert_nonnull(lens_read_page_get_trace(page));
  g_assert_nonnull(strstr(lens_page_get_message(LENS_PAGE(page)), "remembers the last"));
  g_string_free(huge, TRUE);
  g_autoptr(GError) error = NULL;
  lens_read_page_set_story(page, "");
  g_assert_true(wait_for(page_idle, page));
  g_assert_false(lens_page_export(LENS_PAGE(page), "/tmp/never.png", 1.0, &error));
  g_assert_false(g_file_test("/tmp/never.png", G_FILE_TEST_EXISTS));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  page = LENS_READ_PAGE(gui_show_page(&window, "read"));
  g_assert_cmpint((int)lens_page_get_n_models(LENS_PAGE(page)), ==, 2); /* the two reading fixtures */
  g_test_add_func("/gui/read/typing", test_typing);
  g_test_add_func("/gui/read/hop-shading", test_hop_shading);
  g_test_add_func("/gui/read/unknown-words", test_unknown_words);
  g_test_add_func("/gui/read/word-view", test_word_view);
  g_test_add_func("/gui/read/export-examples", test_export_and_examples);
  g_test_add_func("/gui/read/bad-input", test_bad_input);
  int rc = g_test_run();
  gtk_window_destroy(GTK_WINDOW(window));
  return rc;
}
