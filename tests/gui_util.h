/* What the window tests under Xvfb share: waiting on the main loop and reading pixels back. */
#ifndef GUI_UTIL_H
#define GUI_UTIL_H

#include <gtk/gtk.h>

#include "lens_window.h"

/* Runs the main loop until cond(data) holds or `seconds` pass; returns whether it holds. */
gboolean gui_wait_for(gboolean (*cond)(gpointer), gpointer data, int seconds);

/* Renders a widget as the screen would (GSK's cairo renderer) into an image surface. */
cairo_surface_t *gui_render_widget(GtkWidget *w);

/* Initialises GTK, opens the window on the models in $ATTN_FIXTURES and shows its page
 * `name` ("translate", "read", "caption"); returns that page (asserted). */
GtkWidget *gui_show_page(LensWindow **window, const char *name);

#endif
