/* The Graph page in the real window under Xvfb: the shipped-style fixture model on its 9-node
 * graph; a node picked by id and by a click on its circle, the maps per head and averaged
 * against the engine, the picture's node colours where the layout says, edges added and
 * removed with the mouse (predictions and attention follow), reset, export, bad input. */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "attn_graph.h"
#include "gui_util.h"
#include "lens_graph_page.h"
#include "lens_graph.h"
#include "lens_window.h"

static LensWindow *window;
static LensGraphPage *page;

static gboolean wait_for(gboolean (*cond)(gpointer), gpointer data) { return gui_wait_for(cond, data, 10); }
static gboolean page_idle(gpointer p) { return !lens_page_is_busy(LENS_PAGE(p)); }

static gboolean shows_node(gpointer node) {
  const attn_trace *t = lens_graph_page_get_trace(page);
  return !lens_page_is_busy(LENS_PAGE(page)) && t && t->graph && t->graph->node == GPOINTER_TO_INT(node);
}

static gboolean drawn(gpointer view) { return lens_trace_view_get_layout(view)->n_col_labels > 0; }

static attn_graph_model *engine_model(void) {
  g_autofree char *dir = g_build_filename(g_getenv("ATTN_FIXTURES"), "gat-tiny", NULL);
  attn_error err = {0};
  attn_graph_model *m = attn_graph_model_load(dir, &err);
  g_assert_nonnull(m);
  return m;
}

/* The page's trace equals the engine's for the same graph and node: classes and every map. */
static void assert_matches_engine(const attn_graph *g, int node) {
  attn_graph_model *m = engine_model();
  attn_error err = {0};
  attn_trace *want = attn_graph_query(m, g, node, &err);
  const attn_trace *got = lens_graph_page_get_trace(page);
  g_assert_nonnull(want);
  g_assert_cmpint(got->n_maps, ==, want->n_maps);
  g_assert_cmpint(got->graph->n_cols, ==, want->graph->n_cols);
  g_assert_cmpint(got->graph->n_edges, ==, want->graph->n_edges);
  for (int i = 0; i < want->graph->n_nodes; i++) g_assert_cmpint(got->graph->predicted[i], ==, want->graph->predicted[i]);
  for (int k = 0; k < want->n_maps; k++)
    for (int c = 0; c < want->maps[k].cols; c++) g_assert_cmpfloat(got->maps[k].weights[c], ==, want->maps[k].weights[c]);
  attn_trace_free(want);
  attn_graph_model_free(m);
}

/* A real click (the view's click gesture) at the centre of node i of the picture. */
static void click_node(int i) {
  LensTraceView *view = lens_graph_page_get_view(page);
  g_assert_true(wait_for(drawn, view));
  const LensLayout *l = lens_trace_view_get_layout(view);
  g_assert_cmpint(i, <, l->n_col_labels);
  LensRect r = l->col_labels[i];
  GListModel *controllers = gtk_widget_observe_controllers(GTK_WIDGET(view));
  gboolean clicked = FALSE;
  for (guint k = 0; k < g_list_model_get_n_items(controllers) && !clicked; k++) {
    GObject *c = g_list_model_get_item(controllers, k);
    if (GTK_IS_GESTURE_CLICK(c)) {
      g_signal_emit_by_name(c, "pressed", 1, r.x + r.w / 2, r.y + r.h / 2);
      clicked = TRUE;
    }
    g_object_unref(c);
  }
  g_object_unref(controllers);
  g_assert_true(clicked);
}

static void test_pick_by_id(void) {
  g_assert_true(lens_page_select_model(LENS_PAGE(page), "gat-tiny"));
  lens_graph_page_set_node(page, 6);
  g_assert_true(wait_for(shows_node, GINT_TO_POINTER(6)));
  const attn_trace *t = lens_graph_page_get_trace(page);
  g_assert_cmpint(t->graph->n_cols, ==, 5); /* node 6 and its neighbours 0, 4, 5, 7 */
  g_assert_cmpint(t->graph->n_nodes, ==, 9); /* a small graph shows every node */
  assert_matches_engine(NULL, 6);
  g_assert_true(g_str_has_prefix(lens_graph_page_get_summary(page), "n6 → "));
  lens_graph_page_set_node(page, 99); /* the id box stops at the last node */
  g_assert_true(wait_for(shows_node, GINT_TO_POINTER(8)));
  g_assert_cmpint(lens_graph_page_get_node(page), ==, 8);
  g_assert_cmpint(lens_graph_page_get_trace(page)->graph->n_cols, ==, 1); /* node 8 has no edge */
}

/* The picture: each node's circle is filled with its class colour where the layout puts it. */
static void test_picture(void) {
  lens_graph_page_set_node(page, 6);
  g_assert_true(wait_for(shows_node, GINT_TO_POINTER(6)));
  LensTraceView *view = lens_graph_page_get_view(page);
  g_assert_true(wait_for(drawn, view));
  while (g_main_context_iteration(NULL, FALSE)) {}
  cairo_surface_t *s = gui_render_widget(GTK_WIDGET(view));
  const LensLayout *l = lens_trace_view_get_layout(view);
  const attn_trace *t = lens_trace_view_get_trace(view);
  int stride = cairo_image_surface_get_stride(s);
  const unsigned char *px = cairo_image_surface_get_data(s);
  for (int i = 0; i < t->graph->n_nodes; i++) {
    LensRect r = l->col_labels[i];
    int x = (int)(r.x + r.w / 2), y = (int)(r.y + r.h / 2);
    guint32 p = *(const guint32 *)(px + (size_t)y * stride + 4 * x);
    double rgb[3];
    lens_graph_class_rgb(t->graph->predicted[i], rgb);
    g_assert_cmpint(abs((int)((p >> 16) & 0xff) - (int)lround(rgb[0] * 255)), <=, 2);
    g_assert_cmpint(abs((int)((p >> 8) & 0xff) - (int)lround(rgb[1] * 255)), <=, 2);
    g_assert_cmpint(abs((int)(p & 0xff) - (int)lround(rgb[2] * 255)), <=, 2);
  }
  const char *shots = g_getenv("ATTN_SCREENSHOT_DIR");
  if (shots) {
    g_autofree char *p = g_build_filename(shots, "graph-view.png", NULL);
    cairo_surface_write_to_png(s, p);
  }
  cairo_surface_destroy(s);
}

/* Clicking a neighbour's circle shows that node. */
static void test_click_node(void) {
  lens_graph_page_set_editing(page, FALSE);
  lens_graph_page_set_node(page, 6);
  g_assert_true(wait_for(shows_node, GINT_TO_POINTER(6)));
  int second = lens_graph_page_get_trace(page)->graph->ids[2]; /* neighbour 4 */
  click_node(2);
  g_assert_true(wait_for(shows_node, GINT_TO_POINTER(second)));
  assert_matches_engine(NULL, second);
}

/* Per head and averaged: the map chooser switches the view's map; the mean is the mean. */
static void test_heads(void) {
  lens_graph_page_set_node(page, 6);
  g_assert_true(wait_for(shows_node, GINT_TO_POINTER(6)));
  const attn_trace *t = lens_graph_page_get_trace(page);
  g_assert_cmpstr(t->maps[0].name, ==, "layer 1 mean");
  for (int c = 0; c < t->maps[0].cols; c++)
    g_assert_cmpfloat(fabs(t->maps[0].weights[c] - (t->maps[1].weights[c] + t->maps[2].weights[c]) / 2), <, 1e-6);
  lens_graph_page_set_map(page, 2);
  g_assert_cmpint(lens_trace_view_get_options(lens_graph_page_get_view(page))->map_index, ==, 2);
  lens_graph_page_set_map(page, 0);
}

/* Edit mode: a click on a node that is not a neighbour adds the edge, a second click removes
 * it; each time the prediction and attention are the engine's on the edited graph. */
static void test_edit_edges(void) {
  lens_graph_page_set_node(page, 8); /* the lonely node */
  g_assert_true(wait_for(shows_node, GINT_TO_POINTER(8)));
  g_assert_true(lens_graph_page_set_editing(page, TRUE));
  const attn_trace *t = lens_graph_page_get_trace(page);
  int col = -1;
  for (int i = 0; i < t->graph->n_nodes && col < 0; i++) col = t->graph->ids[i] == 0 ? i : -1;
  g_assert_cmpint(col, >, 0);
  float before = t->maps[0].weights[0];
  g_assert_cmpfloat(before, ==, 1.0f); /* alone, it attends only to itself */
  click_node(col);
  g_assert_true(lens_graph_page_has_edge(page, 8, 0));
  g_assert_true(wait_for(page_idle, page));
  t = lens_graph_page_get_trace(page);
  g_assert_cmpint(t->graph->n_cols, ==, 2);
  g_assert_cmpfloat(t->maps[0].weights[0], <, 1.0f); /* now it also looks at node 0 */
  g_assert_nonnull(strstr(lens_page_get_message(LENS_PAGE(page)), "Added the edge n8 – n0"));
  attn_graph_model *m = engine_model();
  attn_graph *g = attn_graph_copy(attn_graph_model_graph(m));
  attn_error err = {0};
  g_assert_cmpint(attn_graph_set_edge(g, 8, 0, 1, &err), ==, ATTN_OK);
  assert_matches_engine(g, 8);
  /* the same click again removes it */
  click_node(1);
  g_assert_false(lens_graph_page_has_edge(page, 8, 0));
  g_assert_true(wait_for(page_idle, page));
  g_assert_cmpint(lens_graph_page_get_trace(page)->graph->n_cols, ==, 1);
  assert_matches_engine(NULL, 8);
  /* an edit elsewhere, then Reset */
  g_assert_true(lens_graph_page_set_edge(page, 8, 3, TRUE));
  g_assert_false(lens_graph_page_set_edge(page, 8, 8, TRUE)); /* no self-loop: said in the bar */
  g_assert_nonnull(strstr(lens_page_get_message(LENS_PAGE(page)), "no edge 8-8"));
  lens_graph_page_reset_edges(page);
  g_assert_false(lens_graph_page_has_edge(page, 8, 3));
  g_assert_true(wait_for(page_idle, page));
  assert_matches_engine(NULL, 8);
  lens_graph_page_set_editing(page, FALSE);
  attn_graph_free(g);
  attn_graph_model_free(m);
}

static void test_export(void) {
  lens_graph_page_set_node(page, 6);
  g_assert_true(wait_for(shows_node, GINT_TO_POINTER(6)));
  g_autofree char *dir = g_dir_make_tmp("attn-gui-graph-XXXXXX", NULL), *png = g_build_filename(dir, "g.png", NULL);
  GError *error = NULL;
  g_assert_true(lens_page_export(LENS_PAGE(page), png, 1.0, &error));
  g_assert_no_error(error);
  g_assert_true(g_file_test(png, G_FILE_TEST_EXISTS));
  g_unlink(png);
  g_rmdir(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  page = LENS_GRAPH_PAGE(gui_show_page(&window, "graph"));
  g_test_add_func("/gui/graph/pick-by-id", test_pick_by_id);
  g_test_add_func("/gui/graph/picture", test_picture);
  g_test_add_func("/gui/graph/click-node", test_click_node);
  g_test_add_func("/gui/graph/heads", test_heads);
  g_test_add_func("/gui/graph/edit-edges", test_edit_edges);
  g_test_add_func("/gui/graph/export", test_export);
  int rc = g_test_run();
  gtk_window_destroy(GTK_WINDOW(window));
  return rc;
}
