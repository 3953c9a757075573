/* The story view of reading traces (lens_story.c), called by lens_render's dispatch. */
#ifndef LENS_STORY_H
#define LENS_STORY_H

#include "lens_private.h"

/* Both return ATTN_E_ARG when the trace has no story to show for map m: neither hop maps
 * over its sentences nor a map over its words. The natural size is whole units. */
attn_status lens_story_size(const attn_trace *t, const attn_map *m, const LensRenderOptions *o,
                            double *width, double *height);
/* In the layout: grid = the hop cells (rows = sentences, cols = hops), row_labels = the
 * sentences; for a word map, col_labels = the word boxes (rows = 1, cols = words). */
attn_status lens_story_draw(cairo_t *cr, const attn_trace *t, const attn_map *m,
                            const LensRenderOptions *o, double width, double height,
                            LensLayout *layout);

#endif
