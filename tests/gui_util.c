/* What the window tests under Xvfb share (see gui_util.h). */
#include "gui_util.h"

gboolean gui_wait_for(gboolean (*cond)(gpointer), gpointer data, int seconds) {
  gint64 end = g_get_monotonic_time() + seconds * G_USEC_PER_SEC;
  while (!cond(data) && g_get_monotonic_time() < end) g_main_context_iteration(NULL, FALSE), g_usleep(1000);
  return cond(data);
}

/* The widget's picture as the screen would show it. On a loaded machine the widget may not
 * have been laid out or drawn yet when a test asks (no render node): the main loop runs until
 * it has, for up to ten seconds, and the test fails clearly after that. */
cairo_surface_t *gui_render_widget(GtkWidget *w) {
  GdkPaintable *paintable = gtk_widget_paintable_new(w);
  GskRenderNode *node = NULL;
  int width = 0, height = 0;
  gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
  for (;;) {
    width = gtk_widget_get_width(w), height = gtk_widget_get_height(w);
    GtkSnapshot *snap = gtk_snapshot_new();
    gdk_paintable_snapshot(paintable, snap, width, height);
    node = gtk_snapshot_free_to_node(snap);
    if ((node && width > 0 && height > 0) || g_get_monotonic_time() >= end) break;
    if (node) gsk_render_node_unref(node);
    node = NULL;
    g_main_context_iteration(NULL, FALSE), g_usleep(1000);
  }
  g_assert_nonnull(node); /* the widget was never drawn */
  GskRenderer *renderer = gsk_cairo_renderer_new();
  gsk_renderer_realize(renderer, NULL, NULL);
  GdkTexture *tex = gsk_renderer_render_texture(renderer, node, &GRAPHENE_RECT_INIT(0, 0, width, height));
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
  cairo_surface_flush(s);
  gdk_texture_download(tex, cairo_image_surface_get_data(s), cairo_image_surface_get_stride(s));
  cairo_surface_mark_dirty(s);
  g_object_unref(tex);
  gsk_renderer_unrealize(renderer);
  g_object_unref(renderer);
  gsk_render_node_unref(node);
  g_object_unref(paintable);
  return s;
}

GtkWidget *gui_show_page(LensWindow **window, const char *name) {
  gtk_init();
  *window = lens_window_new(NULL, g_getenv("ATTN_FIXTURES"));
  gtk_window_present(GTK_WINDOW(*window));
  GtkStack *stack = GTK_STACK(gtk_window_get_child(GTK_WINDOW(*window)));
  GtkWidget *page = gtk_stack_get_child_by_name(stack, name);
  g_assert_nonnull(page);
  gtk_stack_set_visible_child_name(stack, name);
  return page;
}
