/* The Memory page: a Neural Turing Machine copies the sequence of bit vectors the user types
 * (or clicks in the bit grid); the memory view (write and read weightings over the memory
 * locations at every step, add and read vectors, the memory, the output) follows every edit,
 * computed on a worker thread. */
#ifndef LENS_MEMORY_PAGE_H
#define LENS_MEMORY_PAGE_H

#include <gtk/gtk.h>

#include "lens_page.h"
#include "lens_trace_view.h"

G_BEGIN_DECLS

#define LENS_TYPE_MEMORY_PAGE (lens_memory_page_get_type())
G_DECLARE_FINAL_TYPE(LensMemoryPage, lens_memory_page, LENS, MEMORY_PAGE, LensPage)

GtkWidget *lens_memory_page_new(void);

/* The sequence as text ("10110010 01100001 ..."); setting it re-runs after a short delay. */
void lens_memory_page_set_text(LensMemoryPage *self, const char *text);
const char *lens_memory_page_get_text(LensMemoryPage *self);
/* Flips bit `bit` of vector `vector` (both from 0), as a click in the bit grid does; FALSE
 * when there is no such bit. */
gboolean lens_memory_page_toggle_bit(LensMemoryPage *self, int vector, int bit);
/* Appends a vector of zeros, or removes the last one, as the buttons do. */
void lens_memory_page_add_vector(LensMemoryPage *self);
void lens_memory_page_remove_vector(LensMemoryPage *self);
/* The bit grid, for clicks: cell (vector, bit) has its top-left at (vector, bit) * this. */
GtkWidget *lens_memory_page_get_bit_grid(LensMemoryPage *self);
double lens_memory_page_get_cell_size(void);

LensTraceView *lens_memory_page_get_view(LensMemoryPage *self);
/* The trace of the last result, or NULL. */
const attn_trace *lens_memory_page_get_trace(LensMemoryPage *self);
/* The line under the toolbar: the copy, and how many bits differ from the input. */
const char *lens_memory_page_get_summary(LensMemoryPage *self);

G_END_DECLS

#endif
