/* Loading images with gdk-pixbuf: size checks before decoding, scaling on load, RGB out. */
#include "lens_image.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <jpeglib.h>
#include <jerror.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static gboolean fail(GError **error, const char *path, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static gboolean fail(GError **error, const char *path, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_autofree char *name = g_filename_display_name(path);
  g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s", name, msg);
  return FALSE;
}

/* A regular file we may read, of some bytes, no more than the limit. */
static gboolean check_file(const char *path, GError **error) {
  GStatBuf st;
  if (g_stat(path, &st) != 0) return fail(error, path, "cannot open the file: %s", g_strerror(errno));
  if (!S_ISREG(st.st_mode)) return fail(error, path, "not a file");
  int fd = g_open(path, O_RDONLY | O_CLOEXEC, 0); /* a permission problem is said as such */
  if (fd < 0) return fail(error, path, "cannot open the file: %s", g_strerror(errno));
  close(fd);
  if (st.st_size == 0) return fail(error, path, "the file is empty");
  if (st.st_size > LENS_IMAGE_MAX_BYTES) return fail(error, path, "the file is larger than 1 GB");
  return TRUE;
}

static guint32 le32(const guchar *p) { return p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16 | (guint32)p[3] << 24; }

/* gdk-pixbuf's BMP loader allocates what the header's sizes say before it checks them (a
 * 154-byte file asked for 3 GB), so they must fit the file before it sees one. */
static gboolean check_bmp(const char *path, GError **error) {
  guchar head[50];
  FILE *f = g_fopen(path, "rb");
  size_t n = f ? fread(head, 1, sizeof head, f) : 0;
  long size = f && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  if (f) fclose(f);
  if (n < 2 || head[0] != 'B' || head[1] != 'M') return TRUE;
  guint32 offset = n >= 18 ? le32(head + 10) : 0, header = n >= 18 ? le32(head + 14) : 0;
  guint64 colours = header >= 40 && n == sizeof head ? le32(head + 46) : 0; /* 4 bytes each */
  if (header < 12 || header > 124 || size < 0 || offset > (unsigned long)size || header + 14 > (unsigned long)size ||
      14 + header + 4 * colours > (guint64)size)
    return fail(error, path, "the BMP header is damaged: its sizes do not fit the file");
  return TRUE;
}

static gboolean contains(const char *buf, size_t n, const char *marker, size_t len) {
  for (size_t i = 0; i + len <= n; i++)
    if (memcmp(buf + i, marker, len) == 0) return TRUE;
  return FALSE;
}

/* gdk-pixbuf decodes a truncated PNG, JPEG or GIF without an error (the missing rows come out
 * grey), so the end of the file is checked for the format's end marker. */
static gboolean check_complete(const char *path, const char *format, GError **error) {
  static const struct { const char *format, *marker; size_t len; const char *name; } ends[] = {
      {"png", "IEND", 4, "PNG"}, {"jpeg", "\xff\xd9", 2, "JPEG"}, {"gif", "\x3b", 1, "GIF"}};
  for (size_t i = 0; i < G_N_ELEMENTS(ends); i++) {
    if (g_strcmp0(format, ends[i].format) != 0) continue;
    FILE *f = g_fopen(path, "rb");
    char tail[4096];
    size_t n = 0;
    if (f && fseek(f, 0, SEEK_END) == 0) {
      long size = ftell(f);
      if (size > 0 && fseek(f, size > (long)sizeof tail ? size - (long)sizeof tail : 0, SEEK_SET) == 0)
        n = fread(tail, 1, sizeof tail, f);
    }
    if (f) fclose(f);
    if (!contains(tail, n, ends[i].marker, ends[i].len))
      return fail(error, path, "the %s file is truncated (its end marker is missing)", ends[i].name);
  }
  return TRUE;
}

/* What the header says: a format gdk-pixbuf knows, a sensible size, not more pixels than
 * loading it would decode within the limits. */
static gboolean check_header(const char *path, int *w, int *h, char **format, GError **error) {
  if (!check_bmp(path, error)) return FALSE;
  GdkPixbufFormat *fmt = gdk_pixbuf_get_file_info(path, w, h);
  if (!fmt) return fail(error, path, "not an image attnlens can read (PNG, JPEG, GIF, BMP, TIFF, WebP, ...)");
  char *lower = *format = gdk_pixbuf_format_get_name(fmt);
  g_autofree char *name = g_ascii_strup(lower, -1);
  if (*w <= 0 || *h <= 0) return fail(error, path, "the %s header gives no size: the file is damaged", name);
  if (!check_complete(path, lower, error)) return FALSE;
  long long px = (long long)*w * *h;
  gboolean jpeg = g_strcmp0(lower, "jpeg") == 0;
  if (px > (jpeg ? LENS_IMAGE_MAX_JPEG_PIXELS : LENS_IMAGE_MAX_PIXELS))
    return fail(error, path, "%d x %d pixels is more than attnlens opens from a %s file (%lld megapixels)%s", *w, *h,
                name, (jpeg ? LENS_IMAGE_MAX_JPEG_PIXELS : LENS_IMAGE_MAX_PIXELS) >> 20,
                jpeg ? "" : "; scale it down first, or save it as JPEG, which is decoded at a reduced size");
  return TRUE;
}

/* ---- damaged data ---- */

/* libjpeg reports damaged data (a marker where data should be, data that ends early: the
 * rest of the picture then comes out grey) as warnings that gdk-pixbuf ignores. */
typedef struct JpegCheck {
  struct jpeg_error_mgr mgr;
  jmp_buf fatal;
  int warnings;
  char message[JMSG_LENGTH_MAX];
} JpegCheck;

static void jpeg_fatal(j_common_ptr c) {
  JpegCheck *jc = (JpegCheck *)c->err;
  c->err->format_message(c, jc->message);
  longjmp(jc->fatal, 1);
}

/* Only the warnings that mean pixels were lost count: others (extra bytes between markers,
 * an odd JFIF revision, an unknown Adobe transform) are common in camera files. */
static void jpeg_warning(j_common_ptr c, int level) {
  static const int lost[] = {JWRN_HIT_MARKER, JWRN_JPEG_EOF, JWRN_HUFF_BAD_CODE, JWRN_ARITH_BAD_CODE,
                             JWRN_MUST_RESYNC, JWRN_NOT_SEQUENTIAL};
  JpegCheck *jc = (JpegCheck *)c->err;
  int counts = 0;
  for (size_t i = 0; level < 0 && i < G_N_ELEMENTS(lost); i++) counts |= c->err->msg_code == lost[i];
  if (counts && jc->warnings++ == 0) c->err->format_message(c, jc->message);
}

/* Decodes the JPEG at 1/8 size (cheap) only to hear what libjpeg says about its data. */
static gboolean check_jpeg(const char *path, GError **error) {
  FILE *f = g_fopen(path, "rb");
  if (!f) return fail(error, path, "cannot open the file: %s", g_strerror(errno));
  struct jpeg_decompress_struct cinfo;
  JpegCheck jc = {0};
  cinfo.err = jpeg_std_error(&jc.mgr);
  jc.mgr.error_exit = jpeg_fatal;
  jc.mgr.emit_message = jpeg_warning;
  jpeg_create_decompress(&cinfo);
  if (setjmp(jc.fatal) == 0) {
    jpeg_stdio_src(&cinfo, f);
    jpeg_read_header(&cinfo, TRUE);
    cinfo.scale_num = 1, cinfo.scale_denom = 8, cinfo.dct_method = JDCT_IFAST;
    jpeg_start_decompress(&cinfo);
    JSAMPARRAY row = (*cinfo.mem->alloc_sarray)((j_common_ptr)&cinfo, JPOOL_IMAGE,
                                                cinfo.output_width * (JDIMENSION)cinfo.output_components, 1);
    while (cinfo.output_scanline < cinfo.output_height) jpeg_read_scanlines(&cinfo, row, 1);
    jpeg_finish_decompress(&cinfo);
  } else {
    jc.warnings++;
  }
  jpeg_destroy_decompress(&cinfo);
  fclose(f);
  if (jc.warnings) return fail(error, path, "the JPEG data is damaged or truncated (%s)", jc.message);
  return TRUE;
}

/* Which rows of the picture the decoder delivered. */
typedef struct Rows {
  guint8 *seen;
  int height;
} Rows;

static void on_prepared(GdkPixbufLoader *loader, gpointer data) {
  Rows *r = data;
  GdkPixbuf *pb = gdk_pixbuf_loader_get_pixbuf(loader);
  g_free(r->seen);
  r->height = pb ? gdk_pixbuf_get_height(pb) : 0;
  r->seen = g_new0(guint8, MAX(r->height, 1));
}

static void on_area(GdkPixbufLoader *loader, int x, int y, int w, int h, gpointer data) {
  Rows *r = data;
  for (int i = MAX(y, 0); r->seen && i < MIN(y + h, r->height); i++) r->seen[i] = 1;
}

/* Formats whose decoders deliver every row of a complete still picture: a row that never
 * arrives means the data ended or broke (gdk-pixbuf itself then reports no error). */
static gboolean rows_tell(const char *format) {
  static const char *const still[] = {"png", "bmp", "tiff", "ico", "tga", "pnm", "qtif", "icns"};
  for (size_t i = 0; i < G_N_ELEMENTS(still); i++)
    if (g_strcmp0(format, still[i]) == 0) return TRUE;
  return FALSE;
}

/* Feeds the whole file to a loader at full size. */
static gboolean feed(GdkPixbufLoader *loader, const char *path, GError **e) {
  FILE *f = g_fopen(path, "rb");
  if (!f) {
    g_set_error(e, G_IO_ERROR, g_io_error_from_errno(errno), "%s", g_strerror(errno));
    gdk_pixbuf_loader_close(loader, NULL);
    return FALSE;
  }
  guchar buf[65536];
  size_t got;
  gboolean ok = TRUE;
  while (ok && (got = fread(buf, 1, sizeof buf, f)) > 0) ok = gdk_pixbuf_loader_write(loader, buf, got, e);
  fclose(f);
  if (!ok) {
    gdk_pixbuf_loader_close(loader, NULL);
    return FALSE;
  }
  return gdk_pixbuf_loader_close(loader, e);
}

/* The size gdk_pixbuf_new_from_file_at_scale gives (aspect kept), and its bilinear scaling,
 * so that pictures come out as they did when gdk-pixbuf scaled them. */
static GdkPixbuf *scale_like_gdk(GdkPixbuf *pb, int side) {
  int w = gdk_pixbuf_get_width(pb), h = gdk_pixbuf_get_height(pb), tw = side, th = side;
  if ((double)h * side > (double)w * side) tw = (int)(0.5 + (double)w * side / h);
  else th = (int)(0.5 + (double)h * side / w);
  tw = MAX(tw, 1), th = MAX(th, 1);
  if (tw == w && th == h) return g_object_ref(pb);
  return gdk_pixbuf_scale_simple(pb, tw, th, GDK_INTERP_BILINEAR);
}

/* Decodes at full size, checking that every row arrived, then scales to fit side. */
static GdkPixbuf *load_checked(const char *path, const char *format, int side, GError **error) {
  Rows rows = {0};
  GError *e = NULL;
  GdkPixbufLoader *loader = gdk_pixbuf_loader_new();
  g_signal_connect(loader, "area-prepared", G_CALLBACK(on_prepared), &rows);
  g_signal_connect(loader, "area-updated", G_CALLBACK(on_area), &rows);
  gboolean ok = feed(loader, path, &e);
  GdkPixbuf *pb = ok ? gdk_pixbuf_loader_get_pixbuf(loader) : NULL, *out = NULL;
  int got = 0;
  for (int i = 0; rows.seen && i < rows.height; i++) got += rows.seen[i];
  if (!ok || !pb)
    fail(error, path, "the image cannot be read, it is damaged or truncated (%s)", e ? e->message : "no pixels");
  else if (rows_tell(format) && got < rows.height)
    fail(error, path, "the image data is damaged or ends early: %d of its %d rows could be decoded", got, rows.height);
  else
    out = scale_like_gdk(pb, side);
  g_clear_error(&e);
  g_free(rows.seen);
  g_object_unref(loader);
  return out;
}

/* Opaque RGB copy: alpha composited over white. */
static GdkPixbuf *flatten(GdkPixbuf *pb) {
  int w = gdk_pixbuf_get_width(pb), h = gdk_pixbuf_get_height(pb);
  if (!gdk_pixbuf_get_has_alpha(pb)) return g_object_ref(pb);
  GdkPixbuf *out = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, w, h);
  if (!out) return NULL;
  const guchar *src = gdk_pixbuf_read_pixels(pb);
  guchar *dst = gdk_pixbuf_get_pixels(out);
  int ss = gdk_pixbuf_get_rowstride(pb), ds = gdk_pixbuf_get_rowstride(out);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      const guchar *p = src + (gsize)y * ss + 4 * (gsize)x;
      guchar *q = dst + (gsize)y * ds + 3 * (gsize)x;
      for (int c = 0; c < 3; c++) q[c] = (guchar)((p[c] * p[3] + 255 * (255 - p[3]) + 127) / 255);
    }
  return out;
}

GdkPixbuf *lens_image_prepare(GdkPixbuf *src, int max_side) {
  int w = gdk_pixbuf_get_width(src), h = gdk_pixbuf_get_height(src);
  g_autoptr(GdkPixbuf) flat = flatten(src);
  if (!flat) return NULL;
  if (w <= max_side && h <= max_side) return g_steal_pointer(&flat);
  double k = (double)max_side / MAX(w, h);
  return gdk_pixbuf_scale_simple(flat, MAX(1, (int)(w * k + 0.5)), MAX(1, (int)(h * k + 0.5)), GDK_INTERP_HYPER);
}

GdkPixbuf *lens_image_load(const char *path, int max_side, int *file_w, int *file_h, GError **error) {
  int w = 0, h = 0;
  g_autofree char *format = NULL;
  if (!check_file(path, error) || !check_header(path, &w, &h, &format, error)) return NULL;
  GError *e = NULL;
  int side = MIN(max_side, MAX(w, h));
  g_autoptr(GdkPixbuf) pb = NULL;
  if (g_strcmp0(format, "jpeg") != 0) { /* decoded in full anyway: check every row came */
    if (!(pb = load_checked(path, format, side, error))) return NULL;
  } else {                               /* decoded at a reduced size by libjpeg itself */
    if (!check_jpeg(path, error)) return NULL;
    pb = gdk_pixbuf_new_from_file_at_scale(path, side, side, TRUE, &e);
  }
  if (!pb || e) {
    fail(error, path, "the image cannot be read, it is damaged or truncated (%s)", e ? e->message : "no pixels");
    g_clear_error(&e);
    return NULL;
  }
  if (file_w) *file_w = w;
  if (file_h) *file_h = h;
  return lens_image_prepare(pb, max_side);
}

float *lens_image_rgb(GdkPixbuf *pb) {
  int w = gdk_pixbuf_get_width(pb), h = gdk_pixbuf_get_height(pb), n = gdk_pixbuf_get_n_channels(pb);
  int stride = gdk_pixbuf_get_rowstride(pb);
  const guchar *px = gdk_pixbuf_read_pixels(pb);
  float *out = g_new(float, (gsize)w * h * 3);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++) out[((gsize)y * w + x) * 3 + c] = px[(gsize)y * stride + (gsize)x * n + c] / 255.0f;
  return out;
}

guchar *lens_image_argb32(GdkPixbuf *pb) {
  int w = gdk_pixbuf_get_width(pb), h = gdk_pixbuf_get_height(pb), n = gdk_pixbuf_get_n_channels(pb);
  int stride = gdk_pixbuf_get_rowstride(pb);
  const guchar *px = gdk_pixbuf_read_pixels(pb);
  guint32 *out = g_new(guint32, (gsize)w * h);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      const guchar *p = px + (gsize)y * stride + (gsize)x * n;
      out[(gsize)y * w + x] = 0xff000000u | (guint32)p[0] << 16 | (guint32)p[1] << 8 | p[2];
    }
  return (guchar *)out;
}
