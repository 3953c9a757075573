/* Internals shared by the ui/render files: theme colours, Pango text helpers, token labels. */
#ifndef LENS_PRIVATE_H
#define LENS_PRIVATE_H

#include <pango/pangocairo.h>

#include "lens_render.h"

#define LENS_DEFAULT_FONT_PT 11.0
#define LENS_MIN_CELL 22.0 /* smallest matrix cell at scale 1, in user units */

typedef struct LensTheme {
  double bg[3], fg[3], muted[3], rule[3], halo[3], line[3];
} LensTheme;

void lens_theme_get(int dark, LensTheme *th);
void lens_set_rgb(cairo_t *cr, const double rgb[3], double alpha);
/* A soft rounded box behind a highlighted label whose logical box is r. */
void lens_draw_pill(cairo_t *cr, const LensTheme *th, LensRect r);

/* Fonts of a figure, relative to the body size. */
typedef enum LensFont { LENS_FONT_BODY, LENS_FONT_SMALL, LENS_FONT_TITLE, LENS_FONT_COUNT } LensFont;

/* A Pango context at 96 dpi with unhinted metrics, so that text measures the same in
 * lens_render_size, on screen and in every export format and scale. */
typedef struct LensText LensText;
LensText *lens_text_new(double font_pt); /* NULL when out of memory */
void lens_text_free(LensText *tx);
double lens_text_px(const LensText *tx, LensFont font); /* font size in user units */

/* One measured piece of text. Caller frees with lens_label_clear. */
typedef struct LensLabel {
  PangoLayout *layout;
  double w, h;     /* logical size */
  PangoRectangle ink; /* ink extents relative to the layout origin */
} LensLabel;

/* The most bytes of text a label shows; longer text is cut (at a character) and ends in
 * "…". lens_label_cut gives the length of text that is shown. */
#define LENS_LABEL_MAX_BYTES 1024
size_t lens_label_cut(const char *text);

int lens_label_set(LensLabel *l, LensText *tx, const char *text, LensFont font);
/* A subword piece for display; muted colours the continuation mark of a piece. */
int lens_label_token(LensLabel *l, LensText *tx, const char *token, int word_start,
                     int max_chars, const double muted[3]);
/* Wraps the text into lines at most width wide (<= 0: one line) and measures it again. */
void lens_label_wrap(LensLabel *l, double width);
void lens_label_clear(LensLabel *l);

/* Draws the label with its logical box's top-left at (x, y); with angle -90 degrees
 * (rotated = 1) the text reads upwards and (x, y) is the box's bottom-left.
 * Returns the ink rectangle in user units of cr before the call. */
LensRect lens_label_draw(cairo_t *cr, const LensLabel *l, double x, double y, int rotated,
                         const double rgb[3]);
LensRect lens_label_ink(const LensLabel *l, double x, double y, int rotated);

/* Display text of a piece: '▁' removed, '·' before pieces that continue a word, control
 * characters shown as symbols, invalid UTF-8 replaced, cut to max_chars with '…'.
 * *mark_len is the byte length of the leading '·' (0 if none). malloc'd, NULL on OOM. */
char *lens_token_display(const char *token, int word_start, int max_chars, size_t *mark_len);

/* Labels of a map's rows (queries) and columns (keys), and what the axes are called. */
typedef struct LensAxis {
  const attn_tokens *tokens; /* NULL: use names from `names` or numbers */
  char **names;              /* sentences for story hops */
  int n_names;
  int infer_marks;           /* the flags are all 1 but pieces carry '▁': the marks decide */
  const char *title;         /* "source", "output", ... */
  int grid_cols;             /* > 0: keys are image cells, shown as "r,c" */
} LensAxis;

void lens_map_axes(const attn_trace *t, const attn_map *m, LensAxis *rows, LensAxis *cols);
int lens_axis_label(LensLabel *l, LensText *tx, const LensAxis *ax, int i, int max_chars,
                    const double muted[3]);

/* Maximum weight of the map (ignoring NaN); 0 for an empty map. */
double lens_map_max(const attn_map *m);
/* The top of the colour scale: o->vmax when set, else the map maximum (1 if that is 0). */
double lens_scale_top(const attn_map *m, const LensRenderOptions *o);
double lens_font_pt(const LensRenderOptions *o);
/* Title text: o->title or "model — map name"; malloc'd, NULL on OOM. */
char *lens_title_text(const attn_trace *t, const attn_map *m, const LensRenderOptions *o);

/* Per-view entry points (lens_matrix.c, lens_flow.c). The natural size is whole units. */
attn_status lens_matrix_size(const attn_trace *t, const attn_map *m, const LensRenderOptions *o,
                             double *width, double *height);
attn_status lens_matrix_draw(cairo_t *cr, const attn_trace *t, const attn_map *m,
                             const LensRenderOptions *o, double width, double height,
                             LensLayout *layout);
attn_status lens_flow_size(const attn_trace *t, const attn_map *m, const LensRenderOptions *o,
                           double *width, double *height);
attn_status lens_flow_draw(cairo_t *cr, const attn_trace *t, const attn_map *m,
                           const LensRenderOptions *o, double width, double height,
                           LensLayout *layout);

attn_status lens_bottleneck_size(const attn_trace *t, const LensRenderOptions *o, double *width, double *height);
attn_status lens_bottleneck_draw(cairo_t *cr, const attn_trace *t, const LensRenderOptions *o, double width,
                                 double height, LensLayout *layout);

/* Maps a layout computed at natural coordinates to the box: x' = ox + k * x. */
void lens_layout_transform(LensLayout *layout, double k, double ox, double oy);

/* Placing a natural-size picture in the caller's box. */
typedef struct LensFit {
  double k, ox, oy; /* box = offset + k * natural */
  int text;         /* text is big enough to be worth drawing */
} LensFit;
/* Saves cr and sets it up to draw the (nw, nh) picture in natural units in the (w, h) box. */
void lens_fit_begin(cairo_t *cr, const LensText *tx, double nw, double nh, double w, double h,
                    LensFit *fit);
/* Restores cr; sets the layout's rows and cols and moves what it holds into the box. */
void lens_fit_end(cairo_t *cr, const LensFit *fit, LensLayout *layout, const attn_map *m);

/* Export of any drawing: draw(cr, width, height, data) paints the picture in natural units;
 * PNG, SVG or PDF by path's extension, written whole or not at all (as lens_export). */
typedef attn_status (*lens_draw_fn)(cairo_t *cr, double width, double height, const void *data);
attn_status lens_export_drawing(const char *path, double width, double height, double scale, lens_draw_fn draw,
                                const void *data, attn_error *err);

#endif
