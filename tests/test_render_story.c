/* ui/render's story view, checked pixel by pixel on exported PNGs: MemN2N hop cells beside
 * the sentences, the attentive reader's word boxes, highlights, export formats, and traces
 * that have no story. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "lens_render.h"

static const float HOPS[3][4] = {
    {0.05f, 0.80f, 0.10f, 0.05f},
    {0.10f, 0.10f, 0.70f, 0.10f},
    {0.02f, 0.03f, 0.05f, 0.90f},
};

/* A MemN2N-like trace: 4 sentences (one with an unknown word), 3 hop maps. */
static attn_trace *hop_trace(void) {
  attn_trace *t = attn_trace_new(ATTN_TASK_READ, "memn2n-test");
  const char *sentences[] = {"Mary went to the kitchen.", "John got the football there.", "Alice moved to the garden.",
                             "John went back to the hallway."};
  const char *words[] = {"mary", "went", "to", "the", "kitchen", ".", "john", "got", "the", "football", "there", ".",
                         "<unk:alice>", "moved", "to", "the", "garden", ".", "john", "went", "back", "to", "the",
                         "hallway", "."};
  g_assert_cmpint(attn_trace_set_sentences(t, 4, sentences), ==, 0);
  g_assert_cmpint(attn_tokens_set(&t->source, G_N_ELEMENTS(words), words, NULL, NULL, NULL), ==, 0);
  const char *answer[] = {"hallway"};
  float p = 0.91f;
  g_assert_cmpint(attn_tokens_set(&t->output, 1, answer, NULL, &p, "hallway"), ==, 0);
  t->question = g_strdup("Where is the football?");
  for (int k = 0; k < 3; k++) {
    g_autofree char *name = g_strdup_printf("hop %d", k + 1);
    g_assert_nonnull(attn_trace_add_map(t, name, ATTN_MAP_HOP, -1, -1, 1, 4, HOPS[k]));
  }
  return t;
}

/* An attentive-reader-like trace: 2 sentences of words, one map over the words. */
static attn_trace *word_trace(void) {
  attn_trace *t = attn_trace_new(ATTN_TASK_READ, "reader-test");
  const char *words[] = {"mary", "went", "to", "the", "kitchen", ".", "<unk:zork>", "moved", "to", "the", "garden", "."};
  float w[12] = {0.30f, 0.02f, 0.02f, 0.02f, 0.40f, 0.04f, 0.0f, 0.02f, 0.02f, 0.02f, 0.10f, 0.04f};
  g_assert_cmpint(attn_tokens_set(&t->source, 12, words, NULL, NULL, NULL), ==, 0);
  const char *answer[] = {"kitchen"};
  float p = 0.55f;
  g_assert_cmpint(attn_tokens_set(&t->output, 1, answer, NULL, &p, "kitchen"), ==, 0);
  t->question = g_strdup("Where is Mary?");
  g_assert_nonnull(attn_trace_add_map(t, "words", ATTN_MAP_HOP, -1, -1, 1, 12, w));
  attn_error err = {0};
  g_assert_cmpint(attn_trace_validate(t, &err), ==, ATTN_OK);
  return t;
}

typedef struct picture {
  cairo_surface_t *png;
  LensLayout layout; /* at the natural size; multiply by scale for pixels */
  double scale;
} picture;

static picture export_png(const attn_trace *t, const LensRenderOptions *o, double scale) {
  g_autofree char *dir = g_dir_make_tmp("attn-story-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "story.png", NULL);
  attn_error err = {0};
  g_assert_cmpint(lens_export(t, o, path, scale, &err), ==, ATTN_OK);
  picture p = {cairo_image_surface_create_from_png(path), {0}, scale};
  g_assert_cmpint(cairo_surface_status(p.png), ==, CAIRO_STATUS_SUCCESS);
  double w, h;
  lens_render_size(t, o, &w, &h);
  g_assert_cmpint(cairo_image_surface_get_width(p.png), ==, (int)ceil(w * scale));
  g_assert_cmpint(cairo_image_surface_get_height(p.png), ==, (int)ceil(h * scale));
  cairo_surface_t *scratch = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 4, 4);
  cairo_t *cr = cairo_create(scratch);
  g_assert_cmpint(lens_render(cr, t, o, w, h, &p.layout), ==, ATTN_OK);
  cairo_destroy(cr);
  cairo_surface_destroy(scratch);
  const char *shots = g_getenv("ATTN_SCREENSHOT_DIR");
  if (shots) {
    g_autofree char *copy = g_build_filename(shots, t->source.n == 12 ? "story-words.png" : "story-hops.png", NULL);
    cairo_surface_write_to_png(p.png, copy);
  }
  g_unlink(path);
  g_rmdir(dir);
  return p;
}

/* The pixel at natural coordinates (x, y), as 0..255 RGB. */
static void pixel(const picture *p, double x, double y, int rgb[3]) {
  int px = (int)floor(x * p->scale), py = (int)floor(y * p->scale);
  const unsigned char *d = cairo_image_surface_get_data(p->png) + py * cairo_image_surface_get_stride(p->png) + 4 * px;
  for (int c = 0; c < 3; c++) rgb[c] = d[2 - c]; /* BGRA */
}

static void assert_colour(const picture *p, double x, double y, const double want[3]) {
  int got[3];
  pixel(p, x, y, got);
  for (int c = 0; c < 3; c++) g_assert_cmpint(abs(got[c] - (int)lround(want[c] * 255)), <=, 2);
}

static void test_hops(void) {
  attn_trace *t = hop_trace();
  LensRenderOptions o;
  lens_render_options_init(&o);
  o.view = LENS_VIEW_STORY;
  o.show_values = 1;
  picture p = export_png(t, &o, 2.0);
  const LensLayout *l = &p.layout;
  g_assert_cmpint(l->rows, ==, 4); /* sentences */
  g_assert_cmpint(l->cols, ==, 3); /* hops */
  g_assert_cmpint(l->n_row_labels, ==, 4);
  double vmax = 0.9; /* the largest weight over all hops */
  for (int k = 0; k < 3; k++)
    for (int i = 0; i < 4; i++) {
      double rgb[3];
      lens_colormap_rgb(o.colormap, HOPS[k][i] / vmax, rgb);
      /* a corner of the cell: the printed value sits in its middle */
      assert_colour(&p, l->grid.x + k * l->cell_w + 3, l->grid.y + i * l->cell_h + 3, rgb);
      /* sentence i sits in row i, left of the cells */
      g_assert_cmpfloat(l->row_labels[i].x + l->row_labels[i].w, <, l->grid.x);
      g_assert_cmpfloat(fabs(l->row_labels[i].y + l->row_labels[i].h / 2 - (l->grid.y + (i + 0.5) * l->cell_h)), <, l->cell_h / 2);
    }
  g_assert_cmpfloat(l->colorbar.w, >, 0);
  g_test_message("hop cells: 3 x 4 coloured by weight / %.2f; story %.0f x %.0f", vmax, l->grid.w, l->grid.h);
  cairo_surface_destroy(p.png);
  attn_trace_free(t);
}

static void test_words(void) {
  attn_trace *t = word_trace();
  LensRenderOptions o;
  lens_render_options_init(&o);
  o.view = LENS_VIEW_STORY;
  picture p = export_png(t, &o, 1.0);
  const LensLayout *l = &p.layout;
  g_assert_cmpint(l->n_col_labels, ==, 12);
  const attn_map *m = &t->maps[0];
  double vmax = 0.40, white[3] = {1, 1, 1};
  for (int k = 0; k < 12; k++) {
    double a = m->weights[k] / vmax, rgb[3];
    lens_colormap_rgb(o.colormap, a, rgb);
    for (int c = 0; c < 3; c++) rgb[c] = white[c] + a * (rgb[c] - white[c]);
    assert_colour(&p, l->col_labels[k].x + 1, l->col_labels[k].y + 1, rgb);
  }
  /* each sentence starts a new line: "zork" (token 6) is below "mary" and at the left edge */
  g_assert_cmpfloat(l->col_labels[6].y, >, l->col_labels[0].y + l->col_labels[0].h);
  g_assert_cmpfloat(l->col_labels[6].x, ==, l->col_labels[0].x);
  cairo_surface_destroy(p.png);
  attn_trace_free(t);
}

static void test_highlight_and_dark(void) {
  attn_trace *t = hop_trace();
  LensRenderOptions o;
  lens_render_options_init(&o);
  o.view = LENS_VIEW_STORY;
  o.dark = 1;
  o.highlight_row = 2;
  picture p = export_png(t, &o, 1.0);
  int bg[3];
  pixel(&p, 2, 2, bg);
  g_assert_cmpint(bg[0], <, 40); /* the dark theme's background */
  cairo_surface_destroy(p.png);
  attn_trace_free(t);
}

static void test_formats_and_no_story(void) {
  attn_trace *t = hop_trace();
  LensRenderOptions o;
  lens_render_options_init(&o);
  g_assert_cmpint(lens_view_from_name("story", &o.view), ==, 0);
  g_assert_cmpint(o.view, ==, LENS_VIEW_STORY);
  g_assert_cmpstr(lens_view_name(LENS_VIEW_STORY), ==, "story");
  g_autofree char *dir = g_dir_make_tmp("attn-story-XXXXXX", NULL);
  const char *names[] = {"s.svg", "s.pdf"}, *magic[] = {"<?xml", "%PDF"};
  for (int i = 0; i < 2; i++) {
    g_autofree char *path = g_build_filename(dir, names[i], NULL);
    attn_error err = {0};
    g_assert_cmpint(lens_export(t, &o, path, 1.0, &err), ==, ATTN_OK);
    char *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    g_assert_cmpmem(data, strlen(magic[i]), magic[i], strlen(magic[i]));
    g_free(data);
    g_unlink(path);
  }
  g_rmdir(dir);
  /* a translation trace has no story: a message is drawn and the call says so */
  attn_trace *tr = attn_trace_new(ATTN_TASK_TRANSLATE, "mt");
  const char *toks[] = {"a", "b"};
  float w[4] = {0.5f, 0.5f, 0.5f, 0.5f};
  attn_tokens_set(&tr->source, 2, toks, NULL, NULL, NULL);
  attn_tokens_set(&tr->output, 2, toks, NULL, NULL, NULL);
  attn_trace_add_map(tr, "cross", ATTN_MAP_CROSS, -1, -1, 2, 2, w);
  double width, height;
  lens_render_size(tr, &o, &width, &height);
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, (int)width, (int)height);
  cairo_t *cr = cairo_create(s);
  g_assert_cmpint(lens_render(cr, tr, &o, width, height, NULL), ==, ATTN_E_ARG);
  cairo_destroy(cr);
  cairo_surface_destroy(s);
  /* exporting it says what is wrong (it said "out of memory") and writes nothing */
  g_autofree char *out = g_build_filename(dir, "mt.png", NULL);
  attn_error err = {0};
  g_assert_cmpint(lens_export(tr, &o, out, 1.0, &err), ==, ATTN_E_ARG);
  g_assert_cmpstr(err.message, ==, "a translate trace has no story to show in the story view: use the matrix or flow view");
  g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
  g_rmdir(dir);
  attn_trace_free(tr);
  attn_trace_free(t);
}

/* A one-sentence story trace whose line is `line` (its words as tokens: `unknown` ones as
 * <unk:w>), one hop. */
static attn_trace *line_trace(const char *line, int unknown) {
  attn_trace *t = attn_trace_new(ATTN_TASK_READ, "memn2n-test");
  g_auto(GStrv) words = g_strsplit(line, " ", -1);
  GPtrArray *toks = g_ptr_array_new_with_free_func(g_free);
  for (int i = 0; words[i]; i++) g_ptr_array_add(toks, unknown ? g_strdup_printf("<unk:%s>", words[i]) : g_strdup(words[i]));
  g_ptr_array_add(toks, g_strdup("."));
  g_assert_cmpint(attn_trace_set_sentences(t, 1, &line), ==, 0);
  g_assert_cmpint(attn_tokens_set(&t->source, (int)toks->len, (const char *const *)toks->pdata, NULL, NULL, NULL), ==, 0);
  const char *answer[] = {"kitchen"};
  float p = 0.5f, w = 1.0f;
  g_assert_cmpint(attn_tokens_set(&t->output, 1, answer, NULL, &p, "kitchen"), ==, 0);
  t->question = g_strdup("Where is Mary?");
  g_assert_nonnull(attn_trace_add_map(t, "hop 1", ATTN_MAP_HOP, -1, -1, 1, 1, &w));
  g_ptr_array_unref(toks);
  return t;
}

/* Drawing cost must not grow faster than the input: a story line of thousands of unknown
 * (underlined) words and one unbroken word of 64k characters took 54 s and 20 s. A line is
 * shown up to LENS_LABEL_MAX_BYTES and ends in "…", so such lines measure exactly as a
 * line of a few thousand bytes does, and drawing them costs what that costs. */
static void test_long_lines(void) {
  LensRenderOptions o;
  lens_render_options_init(&o);
  o.view = LENS_VIEW_STORY;
  GString *words = g_string_new(NULL), *few = g_string_new(NULL);
  for (int i = 0; i < 8000; i++) g_string_append_printf(words, i ? " zork%d" : "zork%d", i % 7);
  g_string_append_len(few, words->str, 4000);
  g_autofree char *long_word = g_strnfill(65536, 'a'), *short_word = g_strnfill(3000, 'a');
  const char *lines[][2] = {{words->str, few->str}, {long_word, short_word}};
  for (int k = 0; k < 2; k++) {
    attn_trace *big = line_trace(lines[k][0], 1), *small = line_trace(lines[k][1], 1);
    double bw, bh, sw, sh;
    gint64 t0 = g_get_monotonic_time();
    lens_render_size(big, &o, &bw, &bh);
    picture p = export_png(big, &o, 1.0);
    double secs = (g_get_monotonic_time() - t0) / 1e6;
    lens_render_size(small, &o, &sw, &sh);
    g_test_message("%s: %.0f x %.0f (the short line: %.0f x %.0f), measured and drawn in %.2f s",
                   k ? "one 64k-character word" : "8000 unknown words", bw, bh, sw, sh, secs);
    g_assert_cmpfloat(bw, ==, sw);
    g_assert_cmpfloat(bh, ==, sh);
    g_assert_cmpfloat(bh, <, 1000); /* a few lines of text, not hundreds */
    cairo_surface_destroy(p.png);
    attn_trace_free(big);
    attn_trace_free(small);
  }
  g_string_free(words, TRUE);
  g_string_free(few, TRUE);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/render/story/hops", test_hops);
  g_test_add_func("/render/story/words", test_words);
  g_test_add_func("/render/story/highlight-dark", test_highlight_and_dark);
  g_test_add_func("/render/story/formats-no-story", test_formats_and_no_story);
  g_test_add_func("/render/story/long-lines", test_long_lines);
  return g_test_run();
}
