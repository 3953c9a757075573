/* The Graph page: live node queries on a worker thread (as the Translate page translates),
 * the graph view, the node picked by click or id, and edge edits on small graphs. */
#include "lens_graph_page.h"

#include <string.h>

#include "attn_graph.h"
#include "lens_page_util.h"

#define DEBOUNCE_MS 40
#define DEFAULT_GRAPH_MODELS {"gat-karate", "gat-cora", NULL}

static void *load_graph_model(const char *path, attn_error *err) { return attn_graph_model_load(path, err); }
static void free_graph_model(gpointer m) { attn_graph_model_free(m); }

struct _LensGraphPage {
  LensPage parent_instance;
  GtkWidget *node_spin, *map_dropdown, *edit_toggle, *reset_button, *summary_label, *status;
  GtkStringList *map_names;
  LensTraceView *view;
  attn_trace *trace;      /* as the engine produced it */
  attn_graph *graph;      /* the page's editable copy (small graphs), NULL: the model's own */
  const attn_graph_model *graph_model; /* the model graph belongs to (for its size and names) */
  char *summary;
  int node, updating;
};

G_DEFINE_FINAL_TYPE(LensGraphPage, lens_graph_page, LENS_TYPE_PAGE)

/* ---- the worker ---- */

typedef struct graph_input {
  int node;
  attn_graph *graph; /* a copy for the worker, or NULL */
} graph_input;

static void graph_input_free(gpointer data) {
  graph_input *in = data;
  attn_graph_free(in->graph);
  g_free(in);
}

static attn_trace *query_in_thread(gpointer model, gpointer input, attn_error *err) {
  graph_input *in = input;
  return attn_graph_query(model, in->graph, in->node, err);
}

static void start_query(LensPage *page) {
  LensGraphPage *self = LENS_GRAPH_PAGE(page);
  lens_page_supersede(page);
  const attn_graph_model *m = lens_page_get_model(page);
  if (!m || m != self->graph_model) return; /* the model's load finishes and calls us again */
  graph_input *in = g_new0(graph_input, 1);
  in->node = self->node;
  in->graph = self->graph ? attn_graph_copy(self->graph) : NULL;
  if (self->graph && !in->graph) {
    graph_input_free(in);
    lens_page_set_message(page, "Out of memory.", GTK_MESSAGE_ERROR);
    return;
  }
  lens_page_submit(page, in);
}

/* ---- showing a result ---- */

static void apply_options(LensGraphPage *self) {
  LensRenderOptions o = *lens_trace_view_get_options(self->view);
  o.view = LENS_VIEW_GRAPH;
  o.map_index = (int)gtk_drop_down_get_selected(GTK_DROP_DOWN(self->map_dropdown));
  if (o.map_index < 0 || (self->trace && o.map_index >= self->trace->n_maps)) o.map_index = 0;
  o.dark = lens_page_theme_is_dark(GTK_WIDGET(self));
  lens_trace_view_set_options(self->view, &o);
}

/* The map chooser lists the trace's maps (their number depends on the model). */
static void update_map_names(LensGraphPage *self, const attn_trace *t) {
  guint n = g_list_model_get_n_items(G_LIST_MODEL(self->map_names));
  gboolean same = n == (guint)t->n_maps;
  for (guint i = 0; same && i < n; i++) same = g_strcmp0(gtk_string_list_get_string(self->map_names, i), t->maps[i].name) == 0;
  if (same) return;
  guint keep = gtk_drop_down_get_selected(GTK_DROP_DOWN(self->map_dropdown));
  const char **names = g_new0(const char *, t->n_maps + 1);
  for (int i = 0; i < t->n_maps; i++) names[i] = t->maps[i].name;
  self->updating++;
  gtk_string_list_splice(self->map_names, 0, n, names);
  gtk_drop_down_set_selected(GTK_DROP_DOWN(self->map_dropdown), keep < (guint)t->n_maps ? keep : 0);
  self->updating--;
  g_free(names);
}

static void show_summary(LensGraphPage *self, const attn_trace *t) {
  g_free(self->summary);
  self->summary = g_strdup("");
  if (t && t->graph) {
    const attn_trace_graph *g = t->graph;
    g_autofree char *known = g->labels[0] >= 0 ? g_strdup_printf("; labelled %s", g->classes[g->labels[0]]) : g_strdup("");
    g_free(self->summary);
    self->summary = g_strdup_printf("%s → %s, probability %.2f%s; %d neighbour%s", g->names[0], g->classes[g->predicted[0]],
                                    (double)g->confidence[0], known, g->n_cols - 1, g->n_cols == 2 ? "" : "s");
  }
  gtk_label_set_text(GTK_LABEL(self->summary_label), self->summary);
}

static void set_trace(LensGraphPage *self, attn_trace *t, const char *placeholder) {
  attn_trace_free(self->trace);
  self->trace = t;
  if (t) update_map_names(self, t);
  lens_trace_view_set_trace(self->view, t ? attn_trace_select_hypothesis(t, 0) : NULL);
  if (placeholder) lens_trace_view_set_placeholder(self->view, placeholder);
  apply_options(self);
  show_summary(self, t);
}

static void query_done(LensPage *page, attn_trace *t, const GError *error, gpointer input, double model_ms) {
  LensGraphPage *self = LENS_GRAPH_PAGE(page);
  set_trace(self, t, t ? NULL : "Nothing to show: see the message above.");
  if (!t) lens_page_set_message(page, error->message, GTK_MESSAGE_ERROR);
  lens_page_show_timing(page, self->status, t ? "" : NULL, model_ms);
}

/* ---- the model ---- */

static gboolean editable(LensGraphPage *self) {
  return self->graph_model && attn_graph_model_nodes(self->graph_model) <= ATTN_GRAPH_WHOLE_MAX;
}

static void model_ready(LensPage *page, gboolean loaded, const GError *error) {
  LensGraphPage *self = LENS_GRAPH_PAGE(page);
  if (!loaded && !error) return; /* another model was chosen meanwhile: its load reports */
  attn_graph_free(self->graph);
  self->graph = NULL;
  self->graph_model = lens_page_get_model(page);
  if (error || !self->graph_model) {
    set_trace(self, NULL, "No model loaded.");
    return;
  }
  int n = attn_graph_model_nodes(self->graph_model);
  if (editable(self)) self->graph = attn_graph_copy(attn_graph_model_graph(self->graph_model));
  self->updating++;
  gtk_spin_button_set_range(GTK_SPIN_BUTTON(self->node_spin), 0, n - 1);
  self->node = CLAMP(self->node, 0, n - 1);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->node_spin), self->node);
  self->updating--;
  gtk_widget_set_sensitive(self->edit_toggle, editable(self));
  gtk_widget_set_sensitive(self->reset_button, editable(self));
  if (!editable(self)) gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(self->edit_toggle), FALSE);
  lens_page_set_message(page, NULL, GTK_MESSAGE_INFO);
  start_query(page);
}

/* ---- picking nodes and editing edges ---- */

static void on_node_changed(GtkSpinButton *spin, gpointer data) {
  LensGraphPage *self = data;
  if (self->updating) return;
  self->node = gtk_spin_button_get_value_as_int(spin);
  lens_page_schedule(LENS_PAGE(self), DEBOUNCE_MS);
}

/* A click on node i of the picture: show it, or (editing) toggle its edge to the node shown. */
static void on_selection_changed(LensTraceView *view, gpointer data) {
  LensGraphPage *self = data;
  int col = lens_trace_view_get_options(view)->highlight_col;
  const attn_trace *t = lens_trace_view_get_trace(view);
  if (self->updating || col < 0 || !t || !t->graph || col >= t->graph->n_nodes) return;
  int id = t->graph->ids[col];
  self->updating++;
  lens_trace_view_select(view, -1, -1);
  self->updating--;
  if (lens_graph_page_get_editing(self)) {
    if (id != self->node) lens_graph_page_set_edge(self, self->node, id, !attn_graph_has_edge(self->graph, self->node, id));
    return;
  }
  lens_graph_page_set_node(self, id);
}

static void on_map_selected(GObject *object, GParamSpec *pspec, gpointer data) {
  LensGraphPage *self = data;
  if (!self->updating) apply_options(self);
}

static void on_edit_toggled(GtkToggleButton *b, gpointer data) {
  LensGraphPage *self = data;
  lens_page_set_message(LENS_PAGE(self),
                        gtk_toggle_button_get_active(b) ? "Editing: click a node to add or remove its edge to the node in the middle." : NULL,
                        GTK_MESSAGE_INFO);
}

static void on_reset(GtkButton *b, gpointer data) { lens_graph_page_reset_edges(data); }

/* ---- export ---- */

static LensExportJob *graph_export_job(LensPage *page, GError **error) {
  LensGraphPage *self = LENS_GRAPH_PAGE(page);
  return lens_export_job_new(lens_trace_view_get_trace(self->view), lens_trace_view_get_options(self->view),
                             "There is nothing to export yet: choose a graph model first.", error);
}

/* ---- building the page ---- */

static void build_toolbar(LensGraphPage *self) {
  GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_add_css_class(bar, "toolbar");
  self->node_spin = gtk_spin_button_new_with_range(0, 0, 1);
  gtk_accessible_update_property(GTK_ACCESSIBLE(self->node_spin), GTK_ACCESSIBLE_PROPERTY_LABEL, "Node id", -1);
  self->map_dropdown = gtk_drop_down_new(G_LIST_MODEL(self->map_names = gtk_string_list_new(NULL)), NULL);
  gtk_widget_set_tooltip_text(self->map_dropdown, "The attention shown: the mean of layer 1's heads, one head, or layer 2");
  self->edit_toggle = gtk_toggle_button_new_with_label("Edit edges");
  gtk_widget_set_tooltip_text(self->edit_toggle, "Click a node to add or remove its edge to the node in the middle");
  self->reset_button = gtk_button_new_with_label("Reset edges");
  self->status = gtk_label_new("");
  gtk_widget_add_css_class(self->status, "dim-label");
  GtkWidget *items[] = {lens_page_get_model_row(LENS_PAGE(self)), lens_page_labelled("Node", self->node_spin),
                        lens_page_labelled("Attention", self->map_dropdown), self->edit_toggle, self->reset_button,
                        lens_page_get_spinner(LENS_PAGE(self)), self->status};
  for (size_t i = 0; i < G_N_ELEMENTS(items); i++) gtk_box_append(GTK_BOX(bar), items[i]);
  GtkWidget *scroll = gtk_scrolled_window_new();
  gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_AUTOMATIC, GTK_POLICY_NEVER);
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), bar);
  gtk_box_append(GTK_BOX(self), scroll);
  gtk_box_append(GTK_BOX(self), lens_page_get_info_bar(LENS_PAGE(self)));
  self->summary_label = gtk_label_new("");
  gtk_label_set_xalign(GTK_LABEL(self->summary_label), 0);
  gtk_label_set_selectable(GTK_LABEL(self->summary_label), TRUE);
  gtk_widget_add_css_class(self->summary_label, "heading");
  gtk_box_append(GTK_BOX(self), self->summary_label);
}

static void build_body(LensGraphPage *self) {
  self->view = LENS_TRACE_VIEW(lens_trace_view_new());
  lens_trace_view_set_placeholder(self->view, "Choose a graph model.");
  gtk_widget_set_hexpand(GTK_WIDGET(self->view), TRUE);
  gtk_widget_set_vexpand(GTK_WIDGET(self->view), TRUE);
  lens_page_add_zoom_view(LENS_PAGE(self), self->view);
  GtkWidget *scroll = gtk_scrolled_window_new();
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), GTK_WIDGET(self->view));
  gtk_widget_set_vexpand(scroll, TRUE);
  gtk_box_append(GTK_BOX(self), scroll);
  lens_page_set_focus_widget(LENS_PAGE(self), self->node_spin);
}

static void lens_graph_page_init(LensGraphPage *self) {
  self->summary = g_strdup("");
  build_toolbar(self);
  build_body(self);
  apply_options(self);
  gtk_widget_set_sensitive(self->edit_toggle, FALSE);
  gtk_widget_set_sensitive(self->reset_button, FALSE);
  g_signal_connect(self->node_spin, "value-changed", G_CALLBACK(on_node_changed), self);
  g_signal_connect(self->map_dropdown, "notify::selected", G_CALLBACK(on_map_selected), self);
  g_signal_connect(self->edit_toggle, "toggled", G_CALLBACK(on_edit_toggled), self);
  g_signal_connect(self->reset_button, "clicked", G_CALLBACK(on_reset), self);
  g_signal_connect(self->view, "selection-changed", G_CALLBACK(on_selection_changed), self);
}

static void lens_graph_page_finalize(GObject *object) {
  LensGraphPage *self = LENS_GRAPH_PAGE(object);
  attn_trace_free(self->trace);
  attn_graph_free(self->graph);
  g_free(self->summary);
  G_OBJECT_CLASS(lens_graph_page_parent_class)->finalize(object);
}

static void lens_graph_page_class_init(LensGraphPageClass *klass) {
  static const char *const defaults[] = DEFAULT_GRAPH_MODELS;
  LensPageClass *page_class = LENS_PAGE_CLASS(klass);
  page_class->export_job = graph_export_job;
  page_class->load_model = load_graph_model;
  page_class->free_model = free_graph_model;
  page_class->start = start_query;
  page_class->work = query_in_thread;
  page_class->input_free = graph_input_free;
  page_class->show_result = query_done;
  page_class->model_ready = model_ready;
  page_class->task = "graph";
  page_class->default_models = defaults;
  page_class->no_model_message = "No graph attention model was found: open a model folder (Ctrl+O).";
  G_OBJECT_CLASS(klass)->finalize = lens_graph_page_finalize;
}

GtkWidget *lens_graph_page_new(void) { return g_object_new(LENS_TYPE_GRAPH_PAGE, NULL); }

/* ---- public API (also what the tests drive) ---- */

void lens_graph_page_set_node(LensGraphPage *self, int node) {
  g_return_if_fail(LENS_IS_GRAPH_PAGE(self));
  /* before the model is loaded the id is kept as asked; model_ready clamps it */
  if (self->graph_model) node = CLAMP(node, 0, attn_graph_model_nodes(self->graph_model) - 1);
  self->node = node;
  self->updating++;
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->node_spin), node);
  self->updating--;
  lens_page_schedule(LENS_PAGE(self), DEBOUNCE_MS);
}

int lens_graph_page_get_node(LensGraphPage *self) { return self->node; }

void lens_graph_page_set_map(LensGraphPage *self, int map_index) {
  gtk_drop_down_set_selected(GTK_DROP_DOWN(self->map_dropdown), (guint)map_index);
}

gboolean lens_graph_page_set_editing(LensGraphPage *self, gboolean editing) {
  if (editing && !editable(self)) return FALSE;
  gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(self->edit_toggle), editing);
  return TRUE;
}

gboolean lens_graph_page_get_editing(LensGraphPage *self) {
  return self->graph && gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(self->edit_toggle));
}

gboolean lens_graph_page_set_edge(LensGraphPage *self, int a, int b, gboolean present) {
  g_return_val_if_fail(LENS_IS_GRAPH_PAGE(self), FALSE);
  attn_error err = {0};
  if (!self->graph) {
    lens_page_set_message(LENS_PAGE(self), "Only small graphs (the karate club) can be edited.", GTK_MESSAGE_INFO);
    return FALSE;
  }
  if (attn_graph_set_edge(self->graph, a, b, present, &err) != ATTN_OK) {
    lens_page_set_message(LENS_PAGE(self), err.message, GTK_MESSAGE_ERROR);
    return FALSE;
  }
  const char *na = attn_graph_model_node_name(self->graph_model, a), *nb = attn_graph_model_node_name(self->graph_model, b);
  g_autofree char *sa = na ? g_strdup(na) : g_strdup_printf("%d", a), *sb = nb ? g_strdup(nb) : g_strdup_printf("%d", b);
  g_autofree char *msg = g_strdup_printf("%s the edge %s – %s (%d edges now).", present ? "Added" : "Removed", sa, sb,
                                         attn_graph_edges(self->graph));
  lens_page_set_message(LENS_PAGE(self), msg, GTK_MESSAGE_INFO);
  lens_page_schedule(LENS_PAGE(self), DEBOUNCE_MS);
  return TRUE;
}

gboolean lens_graph_page_has_edge(LensGraphPage *self, int a, int b) {
  const attn_graph *g = self->graph ? self->graph : self->graph_model ? attn_graph_model_graph(self->graph_model) : NULL;
  return g && attn_graph_has_edge(g, a, b);
}

void lens_graph_page_reset_edges(LensGraphPage *self) {
  if (!self->graph) return;
  attn_graph *fresh = attn_graph_copy(attn_graph_model_graph(self->graph_model));
  if (!fresh) return;
  attn_graph_free(self->graph);
  self->graph = fresh;
  lens_page_set_message(LENS_PAGE(self), NULL, GTK_MESSAGE_INFO);
  lens_page_schedule(LENS_PAGE(self), DEBOUNCE_MS);
}

LensTraceView *lens_graph_page_get_view(LensGraphPage *self) { return self->view; }
const attn_trace *lens_graph_page_get_trace(LensGraphPage *self) { return self->trace; }
const char *lens_graph_page_get_summary(LensGraphPage *self) { return self->summary; }
