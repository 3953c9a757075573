/* Export of a view to PNG, SVG or PDF through a temporary file and a rename. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cairo-pdf.h>
#include <cairo-svg.h>

#include "attn_util.h"
#include "lens_private.h"

typedef enum ExportFormat { EXPORT_PNG, EXPORT_SVG, EXPORT_PDF } ExportFormat;

static attn_status export_format(const char *path, ExportFormat *fmt, attn_error *err) {
  const char *slash = strrchr(path, '/');
  const char *dot = strrchr(slash ? slash + 1 : path, '.');
  if (dot && strcasecmp(dot, ".png") == 0) *fmt = EXPORT_PNG;
  else if (dot && strcasecmp(dot, ".svg") == 0) *fmt = EXPORT_SVG;
  else if (dot && strcasecmp(dot, ".pdf") == 0) *fmt = EXPORT_PDF;
  else
    return attn_error_set(err, ATTN_E_ARG, "%s: unsupported format '%s' (use .png, .svg or .pdf)",
                          path, dot ? dot : "");
  return ATTN_OK;
}

/* The output size in pixels (PNG) or points (SVG, PDF); refuses what would not fit. */
static attn_status export_size(const attn_trace *t, const LensRenderOptions *o, const char *path,
                               ExportFormat fmt, double scale, double size[2], attn_error *err) {
  if (!(scale > 0) || !isfinite(scale) || scale > 64)
    return attn_error_set(err, ATTN_E_ARG, "%s: scale %g is out of range (0, 64]", path, scale);
  double w, h;
  lens_render_size(t, o, &w, &h);
  double k = fmt == EXPORT_PNG ? scale : 1.0;
  size[0] = ceil(w * k);
  size[1] = ceil(h * k);
  int too_big = size[0] > LENS_EXPORT_MAX_SIDE || size[1] > LENS_EXPORT_MAX_SIDE ||
                (fmt == EXPORT_PNG && size[0] * size[1] > (double)LENS_EXPORT_MAX_PIXELS);
  if (too_big)
    return attn_error_set(err, ATTN_E_ARG,
                          "%s: the picture would be %.0f x %.0f, more than the limit of %d per "
                          "side and %lld pixels; choose a smaller scale or map",
                          path, size[0], size[1], LENS_EXPORT_MAX_SIDE, LENS_EXPORT_MAX_PIXELS);
  return ATTN_OK;
}

static cairo_status_t write_out(void *closure, const unsigned char *data, unsigned int len) {
  return attn_out_write(closure, data, len) == 0 ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

/* Every format streams into out, so the file appears only when complete (attn_out_file). */
static cairo_surface_t *export_surface(ExportFormat fmt, attn_out_file *out, const double size[2]) {
  switch (fmt) {
  case EXPORT_PNG:
    return cairo_image_surface_create(CAIRO_FORMAT_ARGB32, (int)size[0], (int)size[1]);
  case EXPORT_SVG:
    return cairo_svg_surface_create_for_stream(write_out, out, size[0], size[1]);
  case EXPORT_PDF:
    break;
  }
  return cairo_pdf_surface_create_for_stream(write_out, out, size[0], size[1]);
}

/* Draws into the surface and finishes it; for PNG also encodes the picture. */
static cairo_status_t export_draw(cairo_surface_t *s, ExportFormat fmt, attn_out_file *out,
                                  const attn_trace *t, const LensRenderOptions *o, double scale,
                                  const double size[2]) {
  cairo_status_t st = cairo_surface_status(s);
  if (st != CAIRO_STATUS_SUCCESS) return st;
  double k = fmt == EXPORT_PNG ? scale : 1.0;
  cairo_t *cr = cairo_create(s);
  cairo_scale(cr, k, k);
  attn_status drawn = lens_render(cr, t, o, size[0] / k, size[1] / k, NULL);
  st = drawn == ATTN_OK ? cairo_status(cr) : CAIRO_STATUS_NO_MEMORY; /* the map was checked */
  cairo_destroy(cr);
  if (st != CAIRO_STATUS_SUCCESS) return st;
  if (fmt == EXPORT_PNG) return cairo_surface_write_to_png_stream(s, write_out, out);
  cairo_surface_finish(s); /* vector surfaces write the file here */
  return cairo_surface_status(s);
}

attn_status lens_export(const attn_trace *t, const LensRenderOptions *o, const char *path,
                        double scale, attn_error *err) {
  ExportFormat fmt = EXPORT_PNG;
  double size[2] = {0, 0};
  LensRenderOptions def;
  if (!o) {
    lens_render_options_init(&def);
    o = &def;
  }
  if (!path || !*path) return attn_error_set(err, ATTN_E_ARG, "no output path given");
  if (export_format(path, &fmt, err) != ATTN_OK) return ATTN_E_ARG;
  const attn_map *m = t && o->map_index >= 0 && o->map_index < t->n_maps ? &t->maps[o->map_index] : NULL;
  if (!lens_render_is_bottleneck(t) && (!m || m->rows <= 0 || m->cols <= 0))
    return attn_error_set(err, ATTN_E_ARG, "%s: the trace has no non-empty map %d to export",
                          path, o->map_index);
  attn_status rc = lens_render_check(t, o, err);
  if (rc != ATTN_OK) return rc;
  if (export_size(t, o, path, fmt, scale, size, err) != ATTN_OK) return ATTN_E_ARG;
  attn_out_file out;
  if (attn_out_open(&out, path, err) != ATTN_OK) return ATTN_E_IO;
  cairo_surface_t *s = export_surface(fmt, &out, size);
  cairo_status_t st = export_draw(s, fmt, &out, t, o, scale, size);
  cairo_surface_destroy(s);
  if (out.error) return attn_out_commit(&out, err); /* says why the write failed */
  if (st != CAIRO_STATUS_SUCCESS) {
    attn_out_abort(&out);
    return attn_error_set(err, st == CAIRO_STATUS_NO_MEMORY ? ATTN_E_NOMEM : ATTN_E_IO,
                          "%s: cannot draw the picture: %s", path, cairo_status_to_string(st));
  }
  return attn_out_commit(&out, err);
}

/* ---- any drawing (charts) ---- */

attn_status lens_export_drawing(const char *path, double width, double height, double scale, lens_draw_fn draw,
                                const void *data, attn_error *err) {
  ExportFormat fmt = EXPORT_PNG;
  if (!path || !*path) return attn_error_set(err, ATTN_E_ARG, "no output path given");
  if (export_format(path, &fmt, err) != ATTN_OK) return ATTN_E_ARG;
  if (!(scale > 0) || !isfinite(scale) || scale > 64)
    return attn_error_set(err, ATTN_E_ARG, "%s: scale %g is out of range (0, 64]", path, scale);
  double k = fmt == EXPORT_PNG ? scale : 1.0, size[2] = {ceil(width * k), ceil(height * k)};
  if (!(size[0] >= 1 && size[1] >= 1) || size[0] > LENS_EXPORT_MAX_SIDE || size[1] > LENS_EXPORT_MAX_SIDE ||
      (fmt == EXPORT_PNG && size[0] * size[1] > (double)LENS_EXPORT_MAX_PIXELS))
    return attn_error_set(err, ATTN_E_ARG, "%s: a picture of %.0f x %.0f is out of range", path, size[0], size[1]);
  attn_out_file out;
  if (attn_out_open(&out, path, err) != ATTN_OK) return ATTN_E_IO;
  cairo_surface_t *s = export_surface(fmt, &out, size);
  cairo_status_t st = cairo_surface_status(s);
  if (st == CAIRO_STATUS_SUCCESS) {
    cairo_t *cr = cairo_create(s);
    cairo_scale(cr, k, k);
    st = draw(cr, width, height, data) == ATTN_OK ? cairo_status(cr) : CAIRO_STATUS_NO_MEMORY;
    cairo_destroy(cr);
    if (st == CAIRO_STATUS_SUCCESS && fmt == EXPORT_PNG) st = cairo_surface_write_to_png_stream(s, write_out, &out);
    else if (st == CAIRO_STATUS_SUCCESS) {
      cairo_surface_finish(s);
      st = cairo_surface_status(s);
    }
  }
  cairo_surface_destroy(s);
  if (out.error) return attn_out_commit(&out, err);
  if (st != CAIRO_STATUS_SUCCESS) {
    attn_out_abort(&out);
    return attn_error_set(err, st == CAIRO_STATUS_NO_MEMORY ? ATTN_E_NOMEM : ATTN_E_IO,
                          "%s: cannot draw the picture: %s", path, cairo_status_to_string(st));
  }
  return attn_out_commit(&out, err);
}
