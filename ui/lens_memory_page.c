/* The Memory page: the sequence as text and as a grid of bits to click, the NTM run on a
 * worker thread after every edit, and the memory view of its trace. */
#include "lens_memory_page.h"

#include <string.h>

#include "attn_memory.h"
#include "lens_page_util.h"

#define DEBOUNCE_MS 40
#define CELL 16.0
#define DEFAULT_MEMORY_MODELS {"ntm-copy", NULL}
#define EXAMPLE "10110010 01100001 11100111 00011000 10101010 01010101"

static void *load_memory_model(const char *path, attn_error *err) { return attn_memory_load(path, err); }
static void free_memory_model(gpointer m) { attn_memory_free(m); }

struct _LensMemoryPage {
  LensPage parent_instance;
  GtkWidget *entry, *grid, *summary_label, *status, *add_button, *remove_button;
  LensTraceView *view;
  attn_trace *trace;
  char *summary;
  int updating;
};

G_DEFINE_FINAL_TYPE(LensMemoryPage, lens_memory_page, LENS_TYPE_PAGE)

/* ---- the worker ---- */

static attn_trace *run_in_thread(gpointer model, gpointer input, attn_error *err) {
  return attn_memory_run(model, input, err);
}

static void start_run(LensPage *page) {
  LensMemoryPage *self = LENS_MEMORY_PAGE(page);
  lens_page_supersede(page);
  if (!lens_page_get_model(page)) return; /* the model's load finishes and calls us again */
  lens_page_submit(page, g_strdup(gtk_editable_get_text(GTK_EDITABLE(self->entry))));
}

static void resize_grid(LensMemoryPage *self);

/* ---- showing a result ---- */

static void apply_options(LensMemoryPage *self) {
  LensRenderOptions o = *lens_trace_view_get_options(self->view);
  o.view = LENS_VIEW_MEMORY;
  o.map_index = 0;
  o.dark = lens_page_theme_is_dark(GTK_WIDGET(self));
  lens_trace_view_set_options(self->view, &o);
}

/* "copy: 10110010 01100001 — 0 of 16 bits differ from the input". */
static void show_summary(LensMemoryPage *self, const attn_trace *t) {
  GString *s = g_string_new(NULL);
  if (t) {
    int wrong = 0, bits = 0;
    g_string_append(s, "Output: ");
    for (int i = 0; i < t->output.n; i++) {
      const char *a = t->output.tokens[i], *b = i < t->source.n ? t->source.tokens[i] : "";
      g_string_append_printf(s, "%s%s", i ? " " : "", a);
      for (size_t k = 0; a[k]; k++) bits++, wrong += a[k] != b[k];
    }
    g_string_append_printf(s, "   \xe2\x80\x94 %d of %d bits differ from the input", wrong, bits);
  }
  g_free(self->summary);
  self->summary = g_string_free(s, FALSE);
  gtk_label_set_text(GTK_LABEL(self->summary_label), self->summary);
}

static void set_trace(LensMemoryPage *self, attn_trace *t, const char *placeholder) {
  attn_trace_free(self->trace);
  self->trace = t;
  lens_trace_view_set_trace(self->view, t ? attn_trace_select_hypothesis(t, 0) : NULL);
  if (placeholder) lens_trace_view_set_placeholder(self->view, placeholder);
  apply_options(self);
  show_summary(self, t);
}

static void run_done(LensPage *page, attn_trace *t, const GError *error, gpointer input, double model_ms) {
  LensMemoryPage *self = LENS_MEMORY_PAGE(page);
  set_trace(self, t, t ? NULL : "Nothing to show: see the message above.");
  lens_page_set_message(page, t ? NULL : error->message, GTK_MESSAGE_ERROR);
  lens_page_show_timing(page, self->status, t ? "" : NULL, model_ms);
}

static void model_ready(LensPage *page, gboolean loaded, const GError *error) {
  LensMemoryPage *self = LENS_MEMORY_PAGE(page);
  if (!loaded && !error) return; /* another model was chosen meanwhile: its load reports */
  if (error || !lens_page_get_model(page)) {
    set_trace(self, NULL, "No model loaded.");
    return;
  }
  lens_page_set_message(page, NULL, GTK_MESSAGE_INFO);
  resize_grid(self);
  start_run(page);
}

/* ---- the bit grid ---- */

/* Vectors of the text in order, NULL-terminated (g_strfreev). */
static char **vectors_of(const char *text) {
  GPtrArray *v = g_ptr_array_new();
  for (const char *p = text; *p;) {
    while (*p && (g_ascii_isspace(*p) || *p == ',')) p++;
    const char *start = p;
    while (*p && !g_ascii_isspace(*p) && *p != ',') p++;
    if (p > start) g_ptr_array_add(v, g_strndup(start, (gsize)(p - start)));
  }
  g_ptr_array_add(v, NULL);
  return (char **)g_ptr_array_free(v, FALSE);
}

static int model_bits(LensMemoryPage *self) {
  const attn_memory_model *m = lens_page_get_model(LENS_PAGE(self));
  return m ? attn_memory_bits(m) : 8;
}

static void draw_grid(GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data) {
  LensMemoryPage *self = data;
  g_auto(GStrv) v = vectors_of(gtk_editable_get_text(GTK_EDITABLE(self->entry)));
  int bits = model_bits(self), dark = lens_page_theme_is_dark(GTK_WIDGET(self));
  for (int i = 0; v[i]; i++)
    for (int b = 0; b < bits; b++) {
      char c = b < (int)strlen(v[i]) ? v[i][b] : '?';
      double shade = c == '1' ? (dark ? 0.92 : 0.15) : c == '0' ? (dark ? 0.25 : 0.9) : 0.6;
      cairo_set_source_rgb(cr, shade, shade, c == '0' || c == '1' ? shade : 0.2);
      cairo_rectangle(cr, i * CELL + 1, b * CELL + 1, CELL - 2, CELL - 2);
      cairo_fill(cr);
    }
}

static void resize_grid(LensMemoryPage *self) {
  g_auto(GStrv) v = vectors_of(gtk_editable_get_text(GTK_EDITABLE(self->entry)));
  int n = (int)g_strv_length(v);
  gtk_drawing_area_set_content_width(GTK_DRAWING_AREA(self->grid), (int)(CELL * (n > 0 ? n : 1)));
  gtk_drawing_area_set_content_height(GTK_DRAWING_AREA(self->grid), (int)(CELL * model_bits(self)));
  gtk_widget_queue_draw(self->grid);
}

static void on_grid_click(GtkGestureClick *g, int n_press, double x, double y, gpointer data) {
  lens_memory_page_toggle_bit(data, (int)(x / CELL), (int)(y / CELL));
}

static void on_text_changed(GtkEditable *e, gpointer data) {
  LensMemoryPage *self = data;
  resize_grid(self);
  if (!self->updating) lens_page_schedule(LENS_PAGE(self), DEBOUNCE_MS);
}

static void on_add(GtkButton *b, gpointer data) { lens_memory_page_add_vector(data); }
static void on_remove(GtkButton *b, gpointer data) { lens_memory_page_remove_vector(data); }

/* ---- export ---- */

static LensExportJob *memory_export_job(LensPage *page, GError **error) {
  LensMemoryPage *self = LENS_MEMORY_PAGE(page);
  return lens_export_job_new(lens_trace_view_get_trace(self->view), lens_trace_view_get_options(self->view),
                             "There is nothing to export yet: type a sequence of bit vectors.", error);
}

/* ---- building the page ---- */

static void build_toolbar(LensMemoryPage *self) {
  GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_add_css_class(bar, "toolbar");
  self->entry = gtk_entry_new();
  gtk_editable_set_text(GTK_EDITABLE(self->entry), EXAMPLE);
  gtk_widget_set_hexpand(self->entry, TRUE);
  gtk_entry_set_placeholder_text(GTK_ENTRY(self->entry), "bit vectors, e.g. 10110010 01100001");
  gtk_accessible_update_property(GTK_ACCESSIBLE(self->entry), GTK_ACCESSIBLE_PROPERTY_LABEL, "Sequence of bit vectors", -1);
  self->add_button = gtk_button_new_with_label("Add vector");
  self->remove_button = gtk_button_new_with_label("Remove last");
  self->status = gtk_label_new("");
  gtk_widget_add_css_class(self->status, "dim-label");
  GtkWidget *items[] = {lens_page_get_model_row(LENS_PAGE(self)), lens_page_labelled("Sequence", self->entry),
                        self->add_button, self->remove_button, lens_page_get_spinner(LENS_PAGE(self)), self->status};
  for (size_t i = 0; i < G_N_ELEMENTS(items); i++) gtk_box_append(GTK_BOX(bar), items[i]);
  gtk_box_append(GTK_BOX(self), bar);
  gtk_box_append(GTK_BOX(self), lens_page_get_info_bar(LENS_PAGE(self)));
}

static void build_grid(LensMemoryPage *self) {
  GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *label = gtk_label_new("Bits (click to flip):");
  gtk_widget_set_valign(label, GTK_ALIGN_START);
  self->grid = gtk_drawing_area_new();
  gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(self->grid), draw_grid, self, NULL);
  gtk_widget_set_tooltip_text(self->grid, "One column per vector, one row per bit: click a cell to flip it");
  GtkGesture *click = gtk_gesture_click_new();
  g_signal_connect(click, "pressed", G_CALLBACK(on_grid_click), self);
  gtk_widget_add_controller(self->grid, GTK_EVENT_CONTROLLER(click));
  GtkWidget *scroll = gtk_scrolled_window_new();
  gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_AUTOMATIC, GTK_POLICY_NEVER);
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), self->grid);
  gtk_widget_set_hexpand(scroll, TRUE);
  gtk_box_append(GTK_BOX(row), label);
  gtk_box_append(GTK_BOX(row), scroll);
  gtk_box_append(GTK_BOX(self), row);
  self->summary_label = gtk_label_new("");
  gtk_label_set_xalign(GTK_LABEL(self->summary_label), 0);
  gtk_label_set_selectable(GTK_LABEL(self->summary_label), TRUE);
  gtk_label_set_wrap(GTK_LABEL(self->summary_label), TRUE);
  gtk_widget_add_css_class(self->summary_label, "heading");
  gtk_box_append(GTK_BOX(self), self->summary_label);
}

static void build_body(LensMemoryPage *self) {
  self->view = LENS_TRACE_VIEW(lens_trace_view_new());
  lens_trace_view_set_placeholder(self->view, "Choose a memory model (a Neural Turing Machine).");
  gtk_widget_set_hexpand(GTK_WIDGET(self->view), TRUE);
  gtk_widget_set_vexpand(GTK_WIDGET(self->view), TRUE);
  lens_page_add_zoom_view(LENS_PAGE(self), self->view);
  GtkWidget *scroll = gtk_scrolled_window_new();
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), GTK_WIDGET(self->view));
  gtk_widget_set_vexpand(scroll, TRUE);
  gtk_box_append(GTK_BOX(self), scroll);
  lens_page_set_focus_widget(LENS_PAGE(self), self->entry);
}

static void lens_memory_page_init(LensMemoryPage *self) {
  self->summary = g_strdup("");
  build_toolbar(self);
  build_grid(self);
  build_body(self);
  apply_options(self);
  resize_grid(self);
  g_signal_connect(self->entry, "changed", G_CALLBACK(on_text_changed), self);
  g_signal_connect(self->add_button, "clicked", G_CALLBACK(on_add), self);
  g_signal_connect(self->remove_button, "clicked", G_CALLBACK(on_remove), self);
}

static void lens_memory_page_finalize(GObject *object) {
  LensMemoryPage *self = LENS_MEMORY_PAGE(object);
  attn_trace_free(self->trace);
  g_free(self->summary);
  G_OBJECT_CLASS(lens_memory_page_parent_class)->finalize(object);
}

static void lens_memory_page_class_init(LensMemoryPageClass *klass) {
  static const char *const defaults[] = DEFAULT_MEMORY_MODELS;
  LensPageClass *page_class = LENS_PAGE_CLASS(klass);
  page_class->export_job = memory_export_job;
  page_class->load_model = load_memory_model;
  page_class->free_model = free_memory_model;
  page_class->start = start_run;
  page_class->work = run_in_thread;
  page_class->input_free = g_free;
  page_class->show_result = run_done;
  page_class->model_ready = model_ready;
  page_class->task = "memory";
  page_class->default_models = defaults;
  page_class->no_model_message = "No memory model (Neural Turing Machine) was found: open a model folder (Ctrl+O).";
  G_OBJECT_CLASS(klass)->finalize = lens_memory_page_finalize;
}

GtkWidget *lens_memory_page_new(void) { return g_object_new(LENS_TYPE_MEMORY_PAGE, NULL); }

/* ---- public API (also what the tests drive) ---- */

void lens_memory_page_set_text(LensMemoryPage *self, const char *text) {
  g_return_if_fail(LENS_IS_MEMORY_PAGE(self));
  gtk_editable_set_text(GTK_EDITABLE(self->entry), text ? text : "");
}

const char *lens_memory_page_get_text(LensMemoryPage *self) { return gtk_editable_get_text(GTK_EDITABLE(self->entry)); }

/* Sets the text to the vectors joined by spaces. */
static void set_vectors(LensMemoryPage *self, char **v) {
  g_autofree char *text = g_strjoinv(" ", v);
  lens_memory_page_set_text(self, text);
}

gboolean lens_memory_page_toggle_bit(LensMemoryPage *self, int vector, int bit) {
  g_return_val_if_fail(LENS_IS_MEMORY_PAGE(self), FALSE);
  g_auto(GStrv) v = vectors_of(lens_memory_page_get_text(self));
  if (vector < 0 || vector >= (int)g_strv_length(v) || bit < 0 || bit >= (int)strlen(v[vector])) return FALSE;
  char *c = &v[vector][bit];
  if (*c != '0' && *c != '1') return FALSE;
  *c = *c == '0' ? '1' : '0';
  set_vectors(self, v);
  return TRUE;
}

void lens_memory_page_add_vector(LensMemoryPage *self) {
  g_autofree char *zeros = g_strnfill((gsize)model_bits(self), '0');
  const char *text = lens_memory_page_get_text(self);
  g_autofree char *more = lens_page_is_blank(text) ? g_strdup(zeros) : g_strconcat(g_strchomp(g_strdup(text)), " ", zeros, NULL);
  lens_memory_page_set_text(self, more);
}

void lens_memory_page_remove_vector(LensMemoryPage *self) {
  g_auto(GStrv) v = vectors_of(lens_memory_page_get_text(self));
  guint n = g_strv_length(v);
  if (n == 0) return;
  g_free(v[n - 1]);
  v[n - 1] = NULL;
  set_vectors(self, v);
}

GtkWidget *lens_memory_page_get_bit_grid(LensMemoryPage *self) { return self->grid; }
double lens_memory_page_get_cell_size(void) { return CELL; }
LensTraceView *lens_memory_page_get_view(LensMemoryPage *self) { return self->view; }
const attn_trace *lens_memory_page_get_trace(LensMemoryPage *self) { return self->trace; }
const char *lens_memory_page_get_summary(LensMemoryPage *self) { return self->summary; }
