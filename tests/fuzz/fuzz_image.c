/* libFuzzer harness: arbitrary bytes as an image file, through lens_image_load (gdk-pixbuf,
 * libjpeg's damage check, the row check) to the caption engine's input (lens_image_rgb) and
 * the tiny caption model. A file that loads must give an opaque RGB picture within the size
 * asked for, with every value in [0, 1]; one that does not must say why. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "attn_caption.h"
#include "fuzz_common.h"
#include "lens_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SIDE 64

static attn_captioner *cap;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!cap) {
    attn_error err = {0};
    if (!(cap = attn_captioner_load(fuzz_fixture(FUZZ_CAPTION), &err))) abort();
  }
  const char *path = fuzz_scratch_path("image");
  FILE *f = fopen(path, "wb");
  if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) abort();
  GError *error = NULL;
  int fw = 0, fh = 0;
  GdkPixbuf *pb = lens_image_load(path, SIDE, &fw, &fh, &error);
  if (!pb) {
    if (!error || !error->message[0]) abort();
    g_error_free(error);
    return 0;
  }
  int w = gdk_pixbuf_get_width(pb), h = gdk_pixbuf_get_height(pb);
  if (w < 1 || h < 1 || w > SIDE || h > SIDE || gdk_pixbuf_get_has_alpha(pb) || fw < w || fh < h) abort();
  float *rgb = lens_image_rgb(pb);
  for (int i = 0; i < w * h * 3; i++)
    if (!(rgb[i] >= 0.0f && rgb[i] <= 1.0f)) abort();
  attn_caption_opts o;
  attn_caption_opts_init(&o);
  attn_error err = {0};
  attn_trace *t = attn_caption(cap, rgb, w, h, &o, &err);
  if (!t) abort(); /* every loaded picture is a valid input */
  attn_trace_free(t);
  g_free(rgb);
  g_free(lens_image_argb32(pb));
  g_object_unref(pb);
  return 0;
}
