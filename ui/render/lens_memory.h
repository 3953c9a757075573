/* The memory view of a Neural Turing Machine trace (task "memory"), Cairo and Pango only:
 * like Graves et al. 2014, Figure 6, time runs left to right; the left column shows the
 * inputs, the add vectors and the write weightings over memory locations, the right column
 * the outputs, the read vectors and the read weightings, and a third panel the memory
 * contents after the last step. The window and the exports draw it with the same function. */
#ifndef LENS_MEMORY_H
#define LENS_MEMORY_H

#include <cairo.h>

#include "attn_trace.h"

/* ATTN_OK when t is a memory trace with its memory section and its "write" and "read" maps. */
attn_status lens_memory_check(const attn_trace *t, attn_error *err);
/* Natural size in points (pixels at scale 1); 0 x 0 when the trace cannot be drawn. */
void lens_memory_size(const attn_trace *t, double *width, double *height);
/* Draws the view scaled to fit (0, 0, width, height), centred; dark: light on dark. */
attn_status lens_memory_render(cairo_t *cr, const attn_trace *t, double width, double height, int dark,
                               attn_error *err);
/* PNG, SVG or PDF by the extension of path, written whole or not at all (as lens_export). */
attn_status lens_memory_export(const attn_trace *t, const char *path, double scale, int dark, attn_error *err);

#endif
