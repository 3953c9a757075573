/* `attnlens caption`: an image file to its caption, its attention as JSON, or a picture of the
 * overlay or the storyboard. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_caption.h"
#include "attn_trace_json.h"
#include "cli.h"
#include "cli_caption.h"
#include "lens_render.h"

#define DEFAULT_CAPTION_MODEL "caption-photos"
#define LOAD_SIDE 512 /* images are read at most this large: enough for the model and the picture */
#define USAGE "usage: attnlens caption [-m MODEL] [--beam N] [--json] [-o OUT.png|.svg|.pdf] " \
              "[--view overlay|storyboard] [--word N] IMAGE"

#ifdef ATTN_HAVE_PIXBUF
#include "lens_image.h"

typedef struct caption_args {
  const char *model, *out_path, *image;
  int json, word;
  LensView view;
  attn_caption_opts opts;
} caption_args;

static int parse_caption(caption_args *a, int argc, char **argv) {
  *a = (caption_args){.model = DEFAULT_CAPTION_MODEL, .word = -1, .view = LENS_VIEW_STORYBOARD};
  attn_caption_opts_init(&a->opts);
  a->opts.beam = 0; /* the model's own (config num_beams) unless --beam is given */
  for (int i = 1; i < argc; i++) {
    const char *val = i + 1 < argc ? argv[i + 1] : NULL;
    int takes = 1;
    if (!strcmp(argv[i], "-m") || !strcmp(argv[i], "--model")) a->model = val;
    else if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) a->out_path = val;
    else if (!strcmp(argv[i], "--beam")) {
      if (cli_number_arg("--beam", val, 1, 8, &a->opts.beam)) return -1;
    } else if (!strcmp(argv[i], "--word")) {
      if (cli_number_arg("--word", val, 0, 1000, &a->word)) return -1;
    } else if (!strcmp(argv[i], "--view")) {
      if (!val || lens_view_from_name(val, &a->view) || (a->view != LENS_VIEW_OVERLAY && a->view != LENS_VIEW_STORYBOARD)) {
        cli_error("--view is overlay or storyboard, got '%s'", val ? val : "");
        return -1;
      }
    } else {
      takes = 0;
      if (!strcmp(argv[i], "--json")) a->json = 1;
      else if (argv[i][0] == '-' && argv[i][1]) {
        cli_error("caption: unknown option '%s'", argv[i]);
        return -1;
      } else if (!a->image) a->image = argv[i];
      else {
        cli_error("caption: give one image");
        return -1;
      }
    }
    if (takes && !val) {
      cli_error("%s needs a value", argv[i]);
      return -1;
    }
    i += takes;
  }
  if (!a->image) {
    cli_error(USAGE);
    return -1;
  }
  return 0;
}

/* The overlay (one word, or all) or the storyboard of the trace over the image, as a file. */
static int export_picture(const caption_args *a, const attn_trace *t, GdkPixbuf *pb) {
  g_autofree guchar *argb = lens_image_argb32(pb);
  LensImage img = {gdk_pixbuf_get_width(pb), gdk_pixbuf_get_height(pb), 4 * gdk_pixbuf_get_width(pb), argb};
  LensRenderOptions ro;
  lens_render_options_init(&ro);
  ro.view = a->view, ro.image = &img, ro.highlight_row = a->word;
  if (a->word >= t->output.n) {
    cli_error("--word %d: the caption has %d word%s (counted from 0, </s> included)", a->word, t->output.n,
              t->output.n == 1 ? "" : "s");
    return 1;
  }
  attn_error err = {0};
  if (lens_export(t, &ro, a->out_path, 2.0, &err) != ATTN_OK) {
    cli_error("%s", err.message);
    return 1;
  }
  return 0;
}

static int print_result(const caption_args *a, attn_trace *t, int file_w, int file_h) {
  t->image_width = file_w, t->image_height = file_h; /* the grid covers the whole file */
  cli_print_warnings(t);
  char *json = a->json ? attn_trace_to_json(t, 1) : NULL;
  if (a->json && !json) {
    cli_error("out of memory writing JSON");
    return 1;
  }
  if (json) cli_put_json(json);
  else cli_put_text(t->output.text);
  putchar('\n');
  free(json);
  return 0;
}

int cli_caption(int argc, char **argv) {
  caption_args a;
  if (parse_caption(&a, argc, argv) != 0) return 1;
  g_autoptr(GError) error = NULL;
  int file_w = 0, file_h = 0;
  g_autoptr(GdkPixbuf) pb = lens_image_load(a.image, LOAD_SIDE, &file_w, &file_h, &error);
  if (!pb) {
    cli_error("%s", error->message);
    return 1;
  }
  attn_error err = {0};
  g_autofree char *dir = cli_resolve_model(a.model);
  if (!strchr(a.model, '/') && !g_file_test(dir, G_FILE_TEST_IS_DIR)) {
    cli_error("no caption model named '%s' (models are trained with training/train_caption.py); give -m MODEL_DIR",
              a.model);
    return 1;
  }
  attn_captioner *cap = attn_captioner_load(dir, &err);
  if (!cap) {
    cli_error("%s", err.message);
    return 1;
  }
  if (a.opts.beam == 0) a.opts.beam = attn_captioner_default_beam(cap);
  g_autofree float *rgb = lens_image_rgb(pb);
  attn_trace *t = attn_caption(cap, rgb, gdk_pixbuf_get_width(pb), gdk_pixbuf_get_height(pb), &a.opts, &err);
  int rc = t ? print_result(&a, t, file_w, file_h) : 1;
  if (!t) cli_error("%s", err.message);
  if (t && rc == 0 && a.out_path) rc = export_picture(&a, t, pb);
  attn_trace_free(t);
  attn_captioner_free(cap);
  return rc;
}

#else

int cli_caption(int argc, char **argv) {
  (void)argc, (void)argv;
  cli_error("this attnlens was built without gdk-pixbuf, so it cannot read images");
  return 1;
}

#endif
