/* Image files to pixels with gdk-pixbuf (no widgets): what `attnlens caption` and the Caption
 * page read. Images are scaled while loading, so a huge file costs only what its scaled copy
 * needs (JPEG decodes at up to 1/8 size; formats gdk-pixbuf decodes in full are refused above
 * LENS_IMAGE_MAX_PIXELS), alpha is composited over white, grey and CMYK become RGB. */
#ifndef LENS_IMAGE_H
#define LENS_IMAGE_H

#include <gdk-pixbuf/gdk-pixbuf.h>

#define LENS_IMAGE_MAX_PIXELS (64LL << 20)      /* formats decoded at full size (PNG, GIF, ...) */
#define LENS_IMAGE_MAX_JPEG_PIXELS (1LL << 30)  /* JPEG: decoded at 1/8 of each side at most */
#define LENS_IMAGE_MAX_BYTES ((gint64)1 << 30)

G_BEGIN_DECLS

/* Reads an image file (PNG, JPEG and every other format gdk-pixbuf reads) scaled on load to fit
 * max_side x max_side (never enlarged, aspect ratio kept): an opaque 8-bit RGB pixbuf. The
 * file's own size goes to *file_w, *file_h (either may be NULL). Returns NULL with a one-line
 * message naming the file for an empty, unreadable, unknown, damaged or too large file. */
GdkPixbuf *lens_image_load(const char *path, int max_side, int *file_w, int *file_h, GError **error);

/* A pasted or dropped image made like lens_image_load's: scaled down to fit max_side, alpha
 * composited over white, RGB. Returns a new reference. */
GdkPixbuf *lens_image_prepare(GdkPixbuf *src, int max_side);

/* width * height * 3 floats in [0, 1], row-major interleaved RGB (attn_caption's input). */
float *lens_image_rgb(GdkPixbuf *pb);

/* The pixels in Cairo's ARGB32 layout (opaque), rows 4 * width bytes apart (LensImage). */
guchar *lens_image_argb32(GdkPixbuf *pb);

G_END_DECLS

#endif
