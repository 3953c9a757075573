/* Image loading (ui/image) and `attnlens caption` as a user runs it: every PNG colour type,
 * JPEG in RGB, grey and CMYK, a large photo scaled on load, JSON traces, pictures of the overlay
 * and the storyboard; and broken files (empty, text renamed .png, truncated, huge declared
 * size) that must give a one-line error, never a crash. Uses the tiny random caption model. */
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "cli_util.h"
#include "golden.h"
#include "lens_image.h"

static char *fixture(const char *a, const char *b) { return g_build_filename(g_getenv("ATTN_FIXTURES"), a, b, NULL); }

/* A 3000 x 2000 JPEG photo-like gradient, written with gdk-pixbuf into dir. */
static char *big_jpeg(const char *dir) {
  GdkPixbuf *pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, 3000, 2000);
  guchar *px = gdk_pixbuf_get_pixels(pb);
  int stride = gdk_pixbuf_get_rowstride(pb);
  for (int y = 0; y < 2000; y++)
    for (int x = 0; x < 3000; x++) {
      guchar *p = px + (gsize)y * stride + 3 * x;
      p[0] = (guchar)(x * 255 / 3000), p[1] = (guchar)(y * 255 / 2000), p[2] = 128;
    }
  char *path = g_build_filename(dir, "big.jpg", NULL);
  g_assert_true(gdk_pixbuf_save(pb, path, "jpeg", NULL, "quality", "80", NULL));
  g_object_unref(pb);
  return path;
}

/* ---- the loader ---- */

static GdkPixbuf *load(const char *name, int max_side, int *w, int *h) {
  g_autofree char *path = fixture("images", name);
  GError *error = NULL;
  GdkPixbuf *pb = lens_image_load(path, max_side, w, h, &error);
  if (!pb) g_test_message("%s", error->message);
  g_assert_no_error(error);
  g_assert_false(gdk_pixbuf_get_has_alpha(pb));
  g_assert_cmpint(gdk_pixbuf_get_n_channels(pb), ==, 3);
  return pb;
}

static double mean_abs_diff(GdkPixbuf *a, GdkPixbuf *b) {
  g_autofree float *x = lens_image_rgb(a), *y = lens_image_rgb(b);
  int n = gdk_pixbuf_get_width(a) * gdk_pixbuf_get_height(a) * 3;
  double s = 0;
  for (int i = 0; i < n; i++) s += fabs(x[i] - y[i]);
  return 255 * s / n;
}

static void test_loader(void) {
  int w, h;
  GdkPixbuf *rgb = load("rgb.png", 512, &w, &h);
  g_assert_cmpint(w, ==, 64);
  g_assert_cmpint(gdk_pixbuf_get_width(rgb), ==, 64); /* never enlarged */
  const char *same[] = {"rgb16.png", "rgb.jpg", "cmyk.jpg"};
  for (size_t i = 0; i < G_N_ELEMENTS(same); i++) {
    GdkPixbuf *pb = load(same[i], 512, &w, &h);
    double d = mean_abs_diff(rgb, pb);
    g_test_message("%s: mean difference from rgb.png %.1f of 255", same[i], d);
    g_assert_cmpfloat(d, <, 12); /* 16-bit, JPEG and CMYK all read as the same picture */
    g_object_unref(pb);
  }
  GdkPixbuf *grey = load("grey.png", 512, &w, &h);
  g_autofree float *g = lens_image_rgb(grey);
  for (int i = 0; i < 64 * 64; i++) g_assert_true(g[3 * i] == g[3 * i + 1] && g[3 * i + 1] == g[3 * i + 2]);
  GdkPixbuf *rgba = load("rgba.png", 512, &w, &h); /* alpha 0 in the first column: white */
  g_autofree float *a = lens_image_rgb(rgba);
  g_assert_cmpfloat(a[0], ==, 1.0f);
  g_assert_cmpfloat(a[(64 * 10) * 3 + 2], ==, 1.0f);
  GdkPixbuf *wide = load("wide.png", 64, &w, &h); /* 256 x 16 fit into 64: aspect ratio kept */
  g_assert_cmpint(w, ==, 256);
  g_assert_cmpint(gdk_pixbuf_get_width(wide), ==, 64);
  g_assert_cmpint(gdk_pixbuf_get_height(wide), ==, 4);
  g_autofree char *dir = g_dir_make_tmp("attn-image-XXXXXX", NULL);
  g_autofree char *big = big_jpeg(dir);
  GError *error = NULL;
  GdkPixbuf *pb = lens_image_load(big, 300, &w, &h, &error);
  g_assert_no_error(error);
  g_assert_cmpint(w, ==, 3000);
  g_assert_cmpint(gdk_pixbuf_get_width(pb), ==, 300);
  g_assert_cmpint(gdk_pixbuf_get_height(pb), ==, 200);
  g_unlink(big);
  g_rmdir(dir);
  g_object_unref(pb), g_object_unref(rgb), g_object_unref(grey), g_object_unref(rgba), g_object_unref(wide);
}

static void test_loader_broken(void) {
  struct { const char *name, *words; } cases[] = {
      {"empty.png", "empty"}, {"text.png", "not an image"}, {"truncated.png", "truncated"},
      {"huge-header.png", "100000 x 100000"}, {"no-such-file.png", "cannot open"},
      /* decoded by gdk-pixbuf without an error, part of the picture missing (make_damaged.py) */
      {"half-with-end.jpg", "the JPEG data is damaged or truncated"},
      {"cut-with-iend.png", "damaged or ends early"}, {"random-idat.png", "damaged or ends early"},
      {"bmp-8000.bmp", "damaged or ends early: 0 of its 8000 rows"},
      {"bmp-huge-header.bmp", "the BMP header is damaged"}, /* found by fuzz_image */
      {"bmp-huge-palette.bmp", "the BMP header is damaged"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *path = fixture("images", cases[i].name);
    GError *error = NULL;
    g_assert_null(lens_image_load(path, 512, NULL, NULL, &error));
    g_test_message("%s", error->message);
    g_assert_nonnull(strstr(error->message, cases[i].words));
    g_assert_nonnull(strstr(error->message, cases[i].name)); /* names the file */
    g_clear_error(&error);
  }
}

/* ---- attnlens caption ---- */

static void check_json_trace(const char *json, int width, int height) {
  cJSON *doc = cJSON_Parse(json);
  g_assert_nonnull(doc);
  g_assert_cmpstr(cJSON_GetObjectItem(doc, "task")->valuestring, ==, "caption");
  const cJSON *img = cJSON_GetObjectItem(doc, "image");
  g_assert_cmpint(cJSON_GetObjectItem(img, "width")->valueint, ==, width); /* the file's size */
  g_assert_cmpint(cJSON_GetObjectItem(img, "height")->valueint, ==, height);
  g_assert_cmpint(cJSON_GetArrayItem(cJSON_GetObjectItem(img, "grid"), 0)->valueint, ==, 4);
  const cJSON *out = cJSON_GetObjectItem(doc, "output");
  int n = cJSON_GetArraySize(cJSON_GetObjectItem(out, "tokens"));
  g_assert_cmpint(n, >, 0);
  g_assert_cmpint(cJSON_GetArraySize(cJSON_GetObjectItem(out, "beta")), ==, n);
  const cJSON *map = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "maps"), 0);
  g_assert_cmpint(cJSON_GetObjectItem(map, "rows")->valueint, ==, n);
  g_assert_cmpint(cJSON_GetObjectItem(map, "cols")->valueint, ==, 16);
  cJSON_Delete(doc);
}

static void test_cli_images(void) {
  g_autofree char *model = fixture("caption-tiny", NULL);
  const char *names[] = {"rgb.png", "grey.png", "grey-alpha.png", "rgba.png", "rgb16.png", "palette.png",
                         "wide.png", "rgb.jpg", "grey.jpg", "cmyk.jpg"};
  for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
    g_autofree char *path = fixture("images", names[i]);
    run_result r = cli_run((const char *[]){"caption", "-m", model, "--json", path, NULL}, NULL);
    g_test_message("%s: exit %d %s", names[i], r.status, r.err);
    g_assert_cmpint(r.status, ==, 0);
    check_json_trace(r.out, strcmp(names[i], "wide.png") ? 64 : 256, strcmp(names[i], "wide.png") ? 64 : 16);
    run_clear(&r);
  }
  g_autofree char *dir = g_dir_make_tmp("attn-cli-caption-XXXXXX", NULL);
  g_autofree char *big = big_jpeg(dir);
  run_result r = cli_run((const char *[]){"caption", "-m", model, "--beam", "3", "--json", big, NULL}, NULL);
  g_assert_cmpint(r.status, ==, 0);
  check_json_trace(r.out, 3000, 2000);
  run_clear(&r);
  g_unlink(big);
  g_rmdir(dir);
}

/* Without --beam, attnlens caption decodes as the model's config says (num_beams: the decoding its
 * card was measured with); --beam overrides it. */
static void test_cli_default_beam(void) {
  g_autofree char *dir = golden_copy_model("caption-tiny");
  golden_replace_in_file(dir, "config.json", "\"dropout\"", "\"num_beams\": 3, \"dropout\"");
  g_autofree char *img = fixture("images", "rgb.png");
  char *default_hyps = NULL;
  for (int k = 0; k < 3; k++) {
    const char *beam = k == 2 ? "1" : "3";
    run_result r = k == 0 ? cli_run((const char *[]){"caption", "-m", dir, "--json", img, NULL}, NULL)
                          : cli_run((const char *[]){"caption", "-m", dir, "--beam", beam, "--json", img, NULL}, NULL);
    g_assert_cmpint(r.status, ==, 0);
    cJSON *doc = cJSON_Parse(r.out);
    g_assert_nonnull(doc);
    const cJSON *hyps = cJSON_GetObjectItem(doc, "hypotheses");
    g_test_message("run %d: %d other hypotheses", k, hyps ? cJSON_GetArraySize(hyps) : 0);
    if (k < 2) g_assert_true(hyps && cJSON_GetArraySize(hyps) >= 1); /* beam search keeps the other beams */
    else g_assert_null(hyps);
    char *text = cJSON_PrintUnformatted(cJSON_GetObjectItem(doc, "hypotheses"));
    if (k == 0) default_hyps = text;
    else if (k == 1) g_assert_cmpstr(text, ==, default_hyps); /* the default is --beam 3 */
    if (k > 0) free(text);
    cJSON_Delete(doc);
    run_clear(&r);
  }
  free(default_hyps);
  golden_remove_model_copy(dir);
}

static void test_cli_pictures(void) {
  g_autofree char *model = fixture("caption-tiny", NULL);
  g_autofree char *scene = g_build_filename(g_getenv("ATTN_SOURCE_DIR"), "assets", "scenes", "scene-0006.png", NULL);
  g_autofree char *dir = g_dir_make_tmp("attn-cli-caption-XXXXXX", NULL);
  struct { const char *name, *magic, *view, *word; } cases[] = {
      {"board.png", "\x89PNG", "storyboard", NULL}, {"one.svg", "<?xml", "overlay", "0"},
      {"all.pdf", "%PDF", "overlay", NULL},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *out = g_build_filename(dir, cases[i].name, NULL);
    const char *args[] = {"caption", "-m", model, "--beam", "2", "-o", out, "--view", cases[i].view, scene,
                          cases[i].word ? "--word" : NULL, cases[i].word, NULL};
    run_result r = cli_run(args, NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_autofree char *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(out, &data, &len, NULL));
    g_assert_cmpmem(data, strlen(cases[i].magic), cases[i].magic, strlen(cases[i].magic));
    g_unlink(out);
    run_clear(&r);
  }
  g_autofree char *out = g_build_filename(dir, "x.png", NULL);
  cli_expect_one_line_error((const char *[]){"caption", "-m", model, "--word", "999", "-o", out, scene, NULL}, NULL, "--word 999");
  g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
  g_autofree char *bad = g_build_filename(dir, "x.gif", NULL);
  cli_expect_one_line_error((const char *[]){"caption", "-m", model, "-o", bad, scene, NULL}, NULL, "unsupported format");
  g_rmdir(dir);
}

static void test_cli_broken(void) {
  g_autofree char *model = fixture("caption-tiny", NULL);
  struct { const char *name, *words; } cases[] = {
      {"empty.png", "the file is empty"}, {"text.png", "not an image"}, {"truncated.png", "truncated"},
      {"huge-header.png", "more than attnlens opens"}, {"no-such-file.png", "No such file"},
      {"half-with-end.jpg", "damaged"}, {"cut-with-iend.png", "damaged"}, {"random-idat.png", "damaged"},
      {"bmp-8000.bmp", "damaged"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *path = fixture("images", cases[i].name);
    cli_expect_one_line_error((const char *[]){"caption", "-m", model, path, NULL}, NULL, cases[i].words);
  }
  g_autofree char *folder = fixture("images", NULL);
  cli_expect_one_line_error((const char *[]){"caption", "-m", model, folder, NULL}, NULL, "not a file");
}

/* An image we may not read is a permission problem, not "not an image"; captions from a
 * vocabulary with escape sequences reach the terminal as '?'; a full disk is an error. */
static void test_cli_hostile(void) {
  g_autofree char *model = fixture("caption-tiny", NULL), *img = fixture("images", "rgb.png");
  g_autofree char *dir = g_dir_make_tmp("attn-cli-caption-XXXXXX", NULL), *locked = g_build_filename(dir, "locked.png", NULL);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(img, &data, &len, NULL));
  g_assert_true(g_file_set_contents(locked, data, (gssize)len, NULL));
  g_assert_cmpint(g_chmod(locked, 0), ==, 0);
  /* root reads any file, but not a write-only sysctl */
  const char *unreadable = geteuid() != 0 ? locked : "/proc/sys/vm/drop_caches";
  int fd = g_open(unreadable, O_RDONLY, 0);
  g_assert_cmpint(fd, <, 0);
  cli_expect_one_line_error((const char *[]){"caption", "-m", model, unreadable, NULL}, NULL, "Permission denied");
  GError *error = NULL;
  g_assert_null(lens_image_load(unreadable, 512, NULL, NULL, &error));
  g_assert_nonnull(strstr(error->message, "cannot open the file: Permission denied"));
  g_clear_error(&error);
  g_unlink(locked);
  g_rmdir(dir);
  cli_expect_write_error((const char *[]){"caption", "-m", model, "--json", img, NULL}, NULL);
  cli_expect_write_error((const char *[]){"caption", "-m", model, img, NULL}, NULL);

  /* every caption word of the model, each with an escape sequence in it */
  g_autofree char *copy = golden_copy_model("caption-tiny"), *vocab = g_build_filename(copy, "vocab.txt", NULL);
  g_autofree char *words = NULL;
  g_assert_true(g_file_get_contents(vocab, &words, NULL, NULL));
  GString *evil = g_string_new(NULL);
  g_auto(GStrv) lines = g_strsplit(words, "\n", -1);
  for (int i = 0; lines[i]; i++)
    if (*lines[i]) g_string_append_printf(evil, "%s\x1b[31m\x1b]0;x\x07\n", lines[i]);
  g_assert_true(g_file_set_contents(vocab, evil->str, (gssize)evil->len, NULL));
  g_string_free(evil, TRUE);
  g_autofree char *palette = fixture("images", "palette.png"); /* the tiny model says two words of it */
  run_result r = cli_run((const char *[]){"caption", "-m", copy, palette, NULL}, NULL);
  g_test_message("%s%s", r.out, r.err);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_nonnull(strstr(r.out, "?[31m?]0;x?"));
  g_assert_null(strchr(r.out, '\x1b'));
  g_assert_null(strchr(r.out, '\x07'));
  g_assert_null(strchr(r.err, '\x1b'));
  run_clear(&r);
  golden_remove_model_copy(copy);
}

static void test_cli_args(void) {
  g_autofree char *model = fixture("caption-tiny", NULL), *img = fixture("images", "rgb.png");
  g_autofree char *other = fixture("rnn-tiny", NULL);
  cli_expect_one_line_error((const char *[]){"caption", NULL}, NULL, "usage");
  cli_expect_one_line_error((const char *[]){"caption", "-m", model, "--beam", "0", img, NULL}, NULL, "--beam");
  cli_expect_one_line_error((const char *[]){"caption", "-m", model, "--view", "matrix", img, NULL}, NULL, "--view");
  cli_expect_one_line_error((const char *[]){"caption", "-m", model, "--frobnicate", img, NULL}, NULL, "unknown option");
  cli_expect_one_line_error((const char *[]){"caption", "-m", model, img, img, NULL}, NULL, "one image");
  cli_expect_one_line_error((const char *[]){"caption", "-m", "no-such-model", img, NULL}, NULL, "no caption model named");
  cli_expect_one_line_error((const char *[]){"caption", "-m", other, img, NULL}, NULL, "not a caption model");
  cli_expect_one_line_error((const char *[]){"caption", "-m", model, img, "-o", NULL}, NULL, "needs a value");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/image/load", test_loader);
  g_test_add_func("/image/broken", test_loader_broken);
  g_test_add_func("/cli/caption/images", test_cli_images);
  g_test_add_func("/cli/caption/pictures", test_cli_pictures);
  g_test_add_func("/cli/caption/default-beam", test_cli_default_beam);
  g_test_add_func("/cli/caption/broken", test_cli_broken);
  g_test_add_func("/cli/caption/args", test_cli_args);
  g_test_add_func("/cli/caption/hostile", test_cli_hostile);
  return g_test_run();
}
