/* The overlay and storyboard views of caption traces (lens_overlay.c), called by lens_render's
 * dispatch, and the heat map they share. */
#ifndef LENS_OVERLAY_H
#define LENS_OVERLAY_H

#include "lens_private.h"

/* Both return ATTN_E_ARG when the trace has no image grid matching map m (rows = words,
 * cols = grid_rows * grid_cols). The natural size is whole units; a larger box grows the images
 * (up to 4 times), not the text.
 * Overlay: the image with word o->highlight_row's attention (-1: summed over all words), a
 * colour bar, and the caption as a row of words; in the layout, grid = the image (rows x cols
 * of the attention grid, cell_w x cell_h) and row_labels = the words.
 * Storyboard: the image, then one small overlay per word with its beta; row_labels = the
 * thumbnails of the words. */
attn_status lens_overlay_size(const attn_trace *t, const attn_map *m, const LensRenderOptions *o,
                              double *width, double *height);
attn_status lens_overlay_draw(cairo_t *cr, const attn_trace *t, const attn_map *m,
                              const LensRenderOptions *o, double width, double height,
                              LensLayout *layout);

/* The heat of attention row `weights` (grid_rows x grid_cols, row-major) upsampled to
 * w x h samples (pixel centres) with o->upsample and o->blur, divided by vmax and clamped to
 * [0, 1], into out[h][w]. Returns 0, or -1 when out of memory (for the blur). */
int lens_overlay_heat(const float *weights, int grid_rows, int grid_cols, int w, int h,
                      LensUpsample upsample, double blur_cells, double vmax, float *out);

#endif
