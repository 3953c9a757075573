/* Drawing attention traces with Cairo (and Pango for text). No GTK: the window's draw
 * function and the PNG/SVG/PDF exporter both call lens_render, so a file is exactly
 * what the screen showed. */
#ifndef LENS_RENDER_H
#define LENS_RENDER_H

#include <cairo.h>

#include "attn_trace.h"

typedef enum LensView { LENS_VIEW_MATRIX, LENS_VIEW_FLOW, LENS_VIEW_STORY, LENS_VIEW_OVERLAY, LENS_VIEW_STORYBOARD,
               LENS_VIEW_GRAPH, LENS_VIEW_MEMORY,
               LENS_VIEW_BOTTLENECK /* a layout's view only: what a trace without attention is drawn as */ } LensView;

/* The image a caption trace was made from: width x height pixels in Cairo's ARGB32 layout
 * (native-endian 32-bit 0xAARRGGBB, premultiplied alpha), rows `stride` bytes apart. Only read. */
typedef struct LensImage {
  int width, height, stride;
  const unsigned char *data;
} LensImage;

/* How the overlay view turns grid weights into a smooth heat map. */
typedef enum LensUpsample { LENS_UPSAMPLE_BILINEAR, LENS_UPSAMPLE_BICUBIC, LENS_UPSAMPLE_NEAREST } LensUpsample;

typedef enum LensColormap {
  LENS_CMAP_VIRIDIS,
  LENS_CMAP_MAGMA,
  LENS_CMAP_CIVIDIS,
  LENS_CMAP_GREYS,
  LENS_CMAP_COUNT
} LensColormap;

typedef struct LensRenderOptions {
  LensView view;
  int map_index;          /* index into trace->maps */
  LensColormap colormap;
  int show_values;        /* print each weight inside its cell (0.00 is left out) */
  int show_colorbar;      /* legend with the scale (default on) */
  int highlight_row;      /* query (output token) to highlight, -1 for none */
  int highlight_col;      /* key (source token) to highlight, -1 for none */
  int dark;               /* light text on a dark background */
  double font_size;       /* points at scale 1; <= 0 means the default (11) */
  const char *title;      /* NULL: derived from the trace (model and map name) */
  double vmax;            /* top of the colour scale: <= 0 means the map's maximum (default);
                             1 gives a fixed 0..1 scale that compares across maps */
  /* overlay and storyboard views (caption traces); highlight_row is the word shown, -1 for the
     attention summed over all words */
  const LensImage *image; /* the captioned image (not copied); NULL draws a grey stand-in */
  double overlay_opacity; /* of the heat over the image, 0..1 (default 0.6) */
  LensUpsample upsample;  /* grid to pixels (default bilinear) */
  double blur;            /* Gaussian blur of the heat, sigma in grid cells; 0 = none */
  double zoom;            /* text and cells times this (the window's zoom; <= 0 means 1) */
  int reveal_rows;        /* > 0: the matrix draws only its first reveal_rows rows (outputs so far,
                             when stepping through decoding); 0: all */
  /* a second trace drawn to the right of the first with its own options, as one picture of
     two models (compare mode); neither is copied. Its own compare is ignored. */
  const attn_trace *compare;
  const struct LensRenderOptions *compare_options;
} LensRenderOptions;

/* The smallest zoom at which token labels (11 pt at zoom 1) stay legible, about 9 pt. */
#define LENS_LEGIBLE_ZOOM (9.0 / 11.0)

typedef struct LensRect { double x, y, w, h; } LensRect;

/* Where things were drawn, in the user units of the cairo_t; for hit-testing and tests. */
#define LENS_LAYOUT_MAX_LABELS 1024
typedef struct LensLayout {
  LensView view;
  int rows, cols;           /* matrix cells, or flow output x source tokens */
  LensRect grid;            /* matrix: the cell area; cell (i, j) is at grid.x + j*cell_w */
  double cell_w, cell_h;
  LensRect colorbar;        /* w == 0 when not drawn */
  int n_row_labels, n_col_labels;
  LensRect row_labels[LENS_LAYOUT_MAX_LABELS]; /* ink boxes of the row (query) labels */
  LensRect col_labels[LENS_LAYOUT_MAX_LABELS]; /* ink boxes of the column (key) labels */
  /* flow: anchor points of the tokens (top row = source/keys, bottom row = outputs/queries) */
  double key_x[LENS_LAYOUT_MAX_LABELS], key_y;
  double query_x[LENS_LAYOUT_MAX_LABELS], query_y;
  /* bottleneck: grid is the summary vector, vec_cols cells wide, holding vec_n values row-major */
  int vec_cols, vec_n;
} LensLayout;

void lens_render_options_init(LensRenderOptions *o);

/* Colour maps: table-based (matplotlib's 256-entry tables), t clamped to [0, 1]. */
void lens_colormap_rgb(LensColormap map, double t, double rgb[3]);
const char *lens_colormap_name(LensColormap map);
int lens_colormap_from_name(const char *name, LensColormap *out); /* 0 on success */
int lens_view_from_name(const char *name, LensView *out);          /* 0 on success */
const char *lens_view_name(LensView view);

/* A translation trace of a model without attention (no maps, only the summary vector that every
 * output step was computed from): lens_render draws it, whatever o->view and o->map_index say, as
 * the bottleneck view: source tokens, lines converging into the vector (a grid of cells in a
 * diverging colour scale), lines fanning out to the output tokens. o->zoom, o->dark,
 * o->highlight_row/col (output/source token) and o->reveal_rows apply. */
int lens_render_is_bottleneck(const attn_trace *t);
/* lens_render has something to draw for t: a map, or a summary vector (bottleneck). */
int lens_render_has_picture(const attn_trace *t);
/* The bottleneck's diverging scale (ColorBrewer RdBu reversed): 0 blue, 0.5 near white, 1 red. */
void lens_diverging_rgb(double t, double rgb[3]);

/* Natural size (user units at scale 1, whole numbers) that fits all labels without
 * overlap; a matrix cell is at least 22 units. Text is set at 96 dpi: an 11 pt font is
 * 14.7 units high, the size GTK uses on a standard screen. o->zoom multiplies it. */
void lens_render_size(const attn_trace *t, const LensRenderOptions *o, double *width,
                      double *height);

/* Draws the chosen view of map o->map_index into the box (0,0)-(width,height), filling the
 * background; with o->zoom the picture is drawn that much larger (as into a box 1/zoom the
 * size), and layout is in the box's units either way. layout may be NULL. Returns ATTN_OK, ATTN_E_ARG (no such map, or an empty
 * one; a short message is drawn instead) or ATTN_E_NOMEM. A box smaller than the natural size shrinks the
 * whole picture uniformly; a larger box gives the matrix bigger cells (up to 96 units) or
 * the flow more room, at the same text size, centred. o may be NULL (defaults). */
attn_status lens_render(cairo_t *cr, const attn_trace *t, const LensRenderOptions *o,
                        double width, double height, LensLayout *layout);

/* ATTN_OK if the view o->view can show map o->map_index of t; else ATTN_E_ARG saying why
 * (a story view of a translation, an overlay without an image grid) or ATTN_E_NOMEM. */
attn_status lens_render_check(const attn_trace *t, const LensRenderOptions *o, attn_error *err);

/* Cell under (x, y) in a matrix layout: returns 1 and sets row/col, else 0. */
int lens_layout_hit(const LensLayout *layout, double x, double y, int *row, int *col);
/* Token label under (x, y) in either view: returns 1 and sets row (a query label, col = -1)
 * or col (a key label, row = -1), else 0. Only the first LENS_LAYOUT_MAX_LABELS count. */
int lens_layout_hit_label(const LensLayout *layout, double x, double y, int *row, int *col);
/* Value of the summary vector under (x, y) in a bottleneck layout: returns 1 and sets index. */
int lens_layout_hit_vector(const LensLayout *layout, double x, double y, int *index);

/* Writes PNG, SVG or PDF (by the extension of path, case-insensitive) at the natural size
 * times scale (scale only multiplies pixels for PNG; vector formats stay in points).
 * Written to a temporary file and renamed, so a failure leaves no partial file. Sizes over
 * LENS_EXPORT_MAX_SIDE per side (or LENS_EXPORT_MAX_PIXELS for PNG) give ATTN_E_ARG. */
#define LENS_EXPORT_MAX_SIDE 32767
#define LENS_EXPORT_MAX_PIXELS (1LL << 27) /* 512 MiB of pixels */
attn_status lens_export(const attn_trace *t, const LensRenderOptions *o, const char *path,
                        double scale, attn_error *err);

#endif
