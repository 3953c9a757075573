/* LensTraceView: ui/render in a GtkWidget, with hover explanations and click selection. */
#include "lens_trace_view.h"

#include <math.h>

#include "lens_page_util.h"

struct _LensTraceView {
  GtkWidget parent_instance;
  attn_trace *trace;
  LensRenderOptions options;
  LensLayout *layout;
  char *placeholder;
  gboolean legible; /* never drawn smaller than LENS_LEGIBLE_ZOOM: asks for room, scrolls */
  int hover_row, hover_col; /* the cell or label under the pointer, -1 for none */
  LensTraceViewDrawFunc draw_over;
  gpointer draw_over_data;
};

G_DEFINE_FINAL_TYPE(LensTraceView, lens_trace_view, GTK_TYPE_WIDGET)

enum { SIGNAL_SELECTION_CHANGED, SIGNAL_HOVER, N_SIGNALS };
static guint signals[N_SIGNALS];

/* The placeholder centred on x, its top at y (centred on y when middle). */
static void draw_text(LensTraceView *self, cairo_t *cr, double x, double y, gboolean middle, gboolean dark) {
  PangoLayout *pl = gtk_widget_create_pango_layout(GTK_WIDGET(self), self->placeholder ? self->placeholder : "");
  int tw, th;
  pango_layout_get_pixel_size(pl, &tw, &th);
  cairo_set_source_rgba(cr, dark ? 1 : 0, dark ? 1 : 0, dark ? 1 : 0, 0.55);
  cairo_move_to(cr, x - tw / 2.0, middle ? y - th / 2.0 : y);
  pango_cairo_show_layout(cr, pl);
  g_object_unref(pl);
}

/* Nothing to draw yet: the placeholder text, under the options' image when there is one (a
 * caption on its way, or Compose without a model); layout.grid is then the image's box. */
static void draw_placeholder(LensTraceView *self, cairo_t *cr, int width, int height, gboolean dark) {
  const LensImage *im = self->options.image;
  memset(self->layout, 0, sizeof *self->layout);
  double k = im && im->width > 0 && im->height > 0 ? fmin((width - 40.0) / im->width, (height - 80.0) / im->height) : 0;
  if (k <= 0) {
    draw_text(self, cr, width / 2.0, height / 2.0, TRUE, dark);
    return;
  }
  double w = im->width * k, h = im->height * k, x = (width - w) / 2, y = 20;
  cairo_surface_t *s = cairo_image_surface_create_for_data((unsigned char *)im->data, CAIRO_FORMAT_ARGB32, im->width,
                                                           im->height, im->stride);
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_scale(cr, k, k);
  cairo_set_source_surface(cr, s, 0, 0);
  cairo_paint(cr);
  cairo_restore(cr);
  cairo_surface_destroy(s);
  self->layout->view = LENS_VIEW_OVERLAY;
  self->layout->grid = (LensRect){x, y, w, h};
  draw_text(self, cr, width / 2.0, y + h + 12, FALSE, dark);
}

static void lens_trace_view_snapshot(GtkWidget *widget, GtkSnapshot *snapshot) {
  LensTraceView *self = LENS_TRACE_VIEW(widget);
  int width = gtk_widget_get_width(widget), height = gtk_widget_get_height(widget);
  if (width <= 0 || height <= 0) return;
  cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(0, 0, width, height));
  LensRenderOptions o = self->options;
  o.dark = lens_page_theme_is_dark(widget);
  if (lens_render_has_picture(self->trace)) lens_render(cr, self->trace, &o, width, height, self->layout);
  else draw_placeholder(self, cr, width, height, o.dark);
  if (self->draw_over) self->draw_over(self, cr, self->layout, self->draw_over_data);
  cairo_destroy(cr);
}

/* The picture at zoom 1 (the options' zoom left out). */
static void natural_size(LensTraceView *self, double *w, double *h) {
  LensRenderOptions o = self->options;
  o.zoom = 1.0;
  *w = 320, *h = 240;
  if (lens_render_has_picture(self->trace)) lens_render_size(self->trace, &o, w, h);
}

/* The scale the picture is drawn at: the zoom, or in fit mode as large as the box allows up to
 * 1 (the renderer then grows cells instead), never under the legible zoom when asked. */
double lens_trace_view_get_scale(LensTraceView *self) {
  g_return_val_if_fail(LENS_IS_TRACE_VIEW(self), 1.0);
  if (self->options.zoom > 0) return self->options.zoom;
  double w, h, bw = gtk_widget_get_width(GTK_WIDGET(self)), bh = gtk_widget_get_height(GTK_WIDGET(self));
  natural_size(self, &w, &h);
  double k = bw > 0 && bh > 0 ? fmin(1.0, fmin(bw / w, bh / h)) : 1.0;
  return self->legible ? fmax(k, LENS_LEGIBLE_ZOOM) : k;
}

/* Asks for the picture at the zoom (fit mode: at the legible zoom), so that a scrolled window
 * around the view scrolls instead of shrinking the labels. */
static void lens_trace_view_measure(GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                                    int *natural, int *min_baseline, int *nat_baseline) {
  LensTraceView *self = LENS_TRACE_VIEW(widget);
  double w, h;
  natural_size(self, &w, &h);
  gboolean horizontal = orientation == GTK_ORIENTATION_HORIZONTAL;
  double size = horizontal ? w : h, z = self->options.zoom;
  *minimum = horizontal ? 160 : 120;
  if (z > 0 || self->legible) *minimum = MAX(*minimum, (int)ceil(size * (z > 0 ? z : LENS_LEGIBLE_ZOOM) - 1e-9));
  *natural = MAX(*minimum, (int)size);
  *min_baseline = *nat_baseline = -1;
}

static const attn_map *current_map(LensTraceView *self) {
  if (!self->trace || self->options.map_index < 0 || self->options.map_index >= self->trace->n_maps) return NULL;
  return &self->trace->maps[self->options.map_index];
}

/* Token text for display: the SentencePiece word marker becomes a plain space. */
static char *display_token(const char *tok) {
  if (strcmp(tok, "\xe2\x96\x81") == 0) return g_strdup("\xe2\x96\x81 (a space)");
  if (g_str_has_prefix(tok, "\xe2\x96\x81")) return g_strdup(tok + 3);
  if (tok[0] == '<') return g_strdup(tok); /* </s>, <unk:...> */
  return g_strdup_printf("\xc2\xb7%s", tok); /* continues a word */
}

/* Labels of the queries (rows) and keys (columns) of the current map. */
static const attn_tokens *axis_tokens(LensTraceView *self, int rows) {
  const attn_map *m = current_map(self);
  if (!m) return NULL;
  if (m->kind == ATTN_MAP_ENCODER) return &self->trace->source;
  if (m->kind == ATTN_MAP_DECODER) return &self->trace->output;
  return rows ? &self->trace->output : &self->trace->source;
}

char *lens_trace_view_describe_cell(LensTraceView *self, int row, int col) {
  const attn_map *m = current_map(self);
  if (!m || row < 0 || col < 0 || row >= m->rows || col >= m->cols) return NULL;
  const attn_tokens *q = axis_tokens(self, 1), *k = axis_tokens(self, 0);
  g_autofree char *qt = row < q->n ? display_token(q->tokens[row]) : g_strdup_printf("%d", row);
  g_autofree char *kt = col < k->n ? display_token(k->tokens[col]) : g_strdup_printf("%d", col);
  float w = m->weights[(size_t)row * m->cols + col];
  return g_strdup_printf("“%s” → “%s”: %.3f (%.1f%%)", qt, kt, (double)w, 100.0 * w);
}

/* A model without attention: what a token or a value of the one vector is. */
static char *describe_bottleneck(LensTraceView *self, double x, double y) {
  const attn_trace *t = self->trace;
  int row = -1, col = -1, k = -1;
  if (lens_layout_hit_vector(self->layout, x, y, &k) && k < t->summary_dim)
    return g_strdup_printf("Value %d of %d: %.3f. Every output word was computed from these %d numbers alone.", k + 1,
                           t->summary_dim, (double)t->summary[k], t->summary_dim);
  if (!lens_layout_hit_label(self->layout, x, y, &row, &col)) return NULL;
  if (col >= 0 && col < t->source.n) {
    g_autofree char *tok = display_token(t->source.tokens[col]);
    return g_strdup_printf("“%s”: read by the encoder into the one vector; nothing says how much of it is left there.", tok);
  }
  if (row < 0 || row >= t->output.n) return NULL;
  g_autofree char *tok = display_token(t->output.tokens[row]);
  g_autofree char *p = t->output.probs ? g_strdup_printf(" (probability %.3f)", (double)t->output.probs[row]) : g_strdup("");
  return g_strdup_printf("“%s”%s: computed from the vector and the words before it; this model has no attention, so it "
                         "cannot show which source word it came from.", tok, p);
}

/* A caption's overlay: the grid cell of the image under (x, y), with the shown word's weight there
 * (or the mean over all words). */
static char *describe_overlay(LensTraceView *self, double x, double y) {
  const attn_trace *t = self->trace;
  const attn_map *m = current_map(self);
  const LensRect *g = &self->layout->grid;
  if (!m || g->w <= 0 || g->h <= 0 || t->grid_rows * t->grid_cols != m->cols) return NULL;
  double u = (x - g->x) / g->w, v = (y - g->y) / g->h;
  if (u < 0 || u >= 1 || v < 0 || v >= 1) return NULL;
  int r = (int)(v * t->grid_rows), c = (int)(u * t->grid_cols), w = self->options.highlight_row;
  double sum = 0;
  for (int i = w < 0 ? 0 : w; i < (w < 0 ? m->rows : MIN(w + 1, m->rows)); i++) sum += m->weights[(size_t)i * m->cols + r * t->grid_cols + c];
  return g_strdup_printf("cell (%d, %d): %s %.3f", r, c, w < 0 ? "mean weight" : "weight", w < 0 ? sum / m->rows : sum);
}

char *lens_trace_view_describe_point(LensTraceView *self, double x, double y) {
  g_return_val_if_fail(LENS_IS_TRACE_VIEW(self), NULL);
  int row = -1, col = -1;
  if (!self->trace) return NULL;
  if (lens_render_is_bottleneck(self->trace)) return describe_bottleneck(self, x, y);
  if (self->layout->view == LENS_VIEW_OVERLAY) return describe_overlay(self, x, y);
  if (!lens_layout_hit(self->layout, x, y, &row, &col)) return NULL;
  return lens_trace_view_describe_cell(self, row, col);
}

static gboolean on_query_tooltip(GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip,
                                 gpointer data) {
  LensTraceView *self = LENS_TRACE_VIEW(widget);
  if (keyboard) return FALSE;
  g_autofree char *text = lens_trace_view_describe_point(self, x, y);
  if (!text) return FALSE;
  gtk_tooltip_set_text(tooltip, text);
  return TRUE;
}

void lens_trace_view_select(LensTraceView *self, int row, int col) {
  if (self->options.highlight_row == row && self->options.highlight_col == col) return;
  self->options.highlight_row = row;
  self->options.highlight_col = col;
  gtk_widget_queue_draw(GTK_WIDGET(self));
  g_signal_emit(self, signals[SIGNAL_SELECTION_CHANGED], 0);
}

/* A click on a cell or a label selects its row/column; the same click again clears it. */
static void on_click(GtkGestureClick *gesture, int n_press, double x, double y, gpointer data) {
  LensTraceView *self = data;
  int row = -1, col = -1;
  if (!self->trace) return;
  if (!lens_layout_hit(self->layout, x, y, &row, &col) && !lens_layout_hit_label(self->layout, x, y, &row, &col)) {
    LensView v = self->layout->view; /* a caption's image is where Compose drags: a miss there keeps the word */
    if (v != LENS_VIEW_OVERLAY && v != LENS_VIEW_STORYBOARD) lens_trace_view_select(self, -1, -1);
    return;
  }
  if (row == self->options.highlight_row && col == self->options.highlight_col) row = col = -1;
  lens_trace_view_select(self, row, col);
}

void lens_trace_view_hover(LensTraceView *self, double x, double y) {
  g_return_if_fail(LENS_IS_TRACE_VIEW(self));
  int row = -1, col = -1;
  if (self->trace && !lens_layout_hit(self->layout, x, y, &row, &col) &&
      !lens_layout_hit_label(self->layout, x, y, &row, &col))
    row = col = -1;
  if (row == self->hover_row && col == self->hover_col) return;
  self->hover_row = row, self->hover_col = col;
  g_signal_emit(self, signals[SIGNAL_HOVER], 0, row, col);
}

static void on_motion(GtkEventControllerMotion *c, double x, double y, gpointer data) { lens_trace_view_hover(data, x, y); }
static void on_leave(GtkEventControllerMotion *c, gpointer data) { lens_trace_view_hover(data, -1e9, -1e9); }

static void update_accessible(LensTraceView *self) {
  const attn_map *m = current_map(self);
  const attn_trace *t = self->trace;
  g_autofree char *label =
      m ? g_strdup_printf("Attention map “%s”: %d output by %d source tokens", m->name, m->rows, m->cols)
      : lens_render_is_bottleneck(t)
          ? g_strdup_printf("No attention: %d source tokens pass through one vector of %d numbers to %d output tokens",
                            t->source.n, t->summary_dim, t->output.n)
          : g_strdup(self->placeholder ? self->placeholder : "No attention to show");
  gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
}

void lens_trace_view_set_trace(LensTraceView *self, attn_trace *trace) {
  g_return_if_fail(LENS_IS_TRACE_VIEW(self));
  attn_trace_free(self->trace);
  self->trace = trace;
  if (!trace || self->options.map_index >= trace->n_maps) self->options.map_index = 0;
  const attn_map *m = current_map(self);
  int bottleneck = lens_render_is_bottleneck(trace); /* rows and columns are its output and source tokens */
  int rows = m ? m->rows : bottleneck ? trace->output.n : 0, cols = m ? m->cols : bottleneck ? trace->source.n : 0;
  if (self->options.highlight_row >= rows) self->options.highlight_row = -1;
  if (self->options.highlight_col >= cols) self->options.highlight_col = -1;
  memset(self->layout, 0, sizeof *self->layout);
  update_accessible(self);
  gtk_widget_queue_resize(GTK_WIDGET(self));
}

const attn_trace *lens_trace_view_get_trace(LensTraceView *self) { return self->trace; }

void lens_trace_view_set_draw_over(LensTraceView *self, LensTraceViewDrawFunc func, gpointer data) {
  g_return_if_fail(LENS_IS_TRACE_VIEW(self));
  self->draw_over = func, self->draw_over_data = data;
  gtk_widget_queue_draw(GTK_WIDGET(self));
}
const LensRenderOptions *lens_trace_view_get_options(LensTraceView *self) { return &self->options; }
const LensLayout *lens_trace_view_get_layout(LensTraceView *self) { return self->layout; }

void lens_trace_view_set_options(LensTraceView *self, const LensRenderOptions *options) {
  g_return_if_fail(LENS_IS_TRACE_VIEW(self));
  double zoom = self->options.zoom; /* the user's, changed only with set_zoom */
  self->options = *options;
  self->options.zoom = zoom;
  if (self->trace && (self->options.map_index < 0 || self->options.map_index >= self->trace->n_maps)) self->options.map_index = 0;
  update_accessible(self);
  gtk_widget_queue_resize(GTK_WIDGET(self));
}

void lens_trace_view_set_placeholder(LensTraceView *self, const char *text) {
  g_free(self->placeholder);
  self->placeholder = g_strdup(text);
  update_accessible(self);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void lens_trace_view_set_legible(LensTraceView *self, gboolean legible) {
  g_return_if_fail(LENS_IS_TRACE_VIEW(self));
  self->legible = legible;
  gtk_widget_queue_resize(GTK_WIDGET(self));
}

double lens_trace_view_get_zoom(LensTraceView *self) { return self->options.zoom; }

void lens_trace_view_set_zoom(LensTraceView *self, double zoom) {
  g_return_if_fail(LENS_IS_TRACE_VIEW(self));
  if (zoom > 0) zoom = CLAMP(zoom, self->legible ? LENS_LEGIBLE_ZOOM : LENS_ZOOM_MIN, LENS_ZOOM_MAX);
  else zoom = 0;
  if (zoom == self->options.zoom) return;
  self->options.zoom = zoom;
  gtk_widget_queue_resize(GTK_WIDGET(self));
  g_object_notify(G_OBJECT(self), "zoom");
}

/* One step (+1 larger, -1 smaller) from what is shown now; 0 goes back to fitting the box. */
void lens_trace_view_zoom_step(LensTraceView *self, int direction) {
  g_return_if_fail(LENS_IS_TRACE_VIEW(self));
  if (direction == 0) {
    lens_trace_view_set_zoom(self, 0);
    return;
  }
  double k = lens_trace_view_get_scale(self);
  lens_trace_view_set_zoom(self, direction > 0 ? k * LENS_ZOOM_STEP : k / LENS_ZOOM_STEP);
}

/* Ctrl+scroll zooms; a plain scroll is left to the scrolled window around the view. */
static gboolean on_scroll(GtkEventControllerScroll *c, double dx, double dy, gpointer data) {
  GdkModifierType state = gtk_event_controller_get_current_event_state(GTK_EVENT_CONTROLLER(c));
  if (!(state & GDK_CONTROL_MASK) || dy == 0) return FALSE;
  lens_trace_view_zoom_step(data, dy < 0 ? 1 : -1);
  return TRUE;
}

static void lens_trace_view_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec) {
  if (id == 1) g_value_set_double(value, LENS_TRACE_VIEW(object)->options.zoom);
  else G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
}

static void lens_trace_view_set_property(GObject *object, guint id, const GValue *value, GParamSpec *pspec) {
  if (id == 1) lens_trace_view_set_zoom(LENS_TRACE_VIEW(object), g_value_get_double(value));
  else G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
}

static void lens_trace_view_finalize(GObject *object) {
  LensTraceView *self = LENS_TRACE_VIEW(object);
  attn_trace_free(self->trace);
  g_free(self->layout);
  g_free(self->placeholder);
  G_OBJECT_CLASS(lens_trace_view_parent_class)->finalize(object);
}

static void lens_trace_view_class_init(LensTraceViewClass *klass) {
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  G_OBJECT_CLASS(klass)->finalize = lens_trace_view_finalize;
  G_OBJECT_CLASS(klass)->get_property = lens_trace_view_get_property;
  G_OBJECT_CLASS(klass)->set_property = lens_trace_view_set_property;
  g_object_class_install_property(G_OBJECT_CLASS(klass), 1,
                                  g_param_spec_double("zoom", NULL, NULL, 0, LENS_ZOOM_MAX, 0,
                                                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  widget_class->snapshot = lens_trace_view_snapshot;
  widget_class->measure = lens_trace_view_measure;
  gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
  gtk_widget_class_set_css_name(widget_class, "traceview");
  signals[SIGNAL_HOVER] = g_signal_new("hover", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                       G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_INT);
  signals[SIGNAL_SELECTION_CHANGED] =
      g_signal_new("selection-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void lens_trace_view_init(LensTraceView *self) {
  lens_render_options_init(&self->options);
  self->layout = g_new0(LensLayout, 1);
  gtk_widget_set_has_tooltip(GTK_WIDGET(self), TRUE);
  g_signal_connect(self, "query-tooltip", G_CALLBACK(on_query_tooltip), NULL);
  GtkGesture *click = gtk_gesture_click_new();
  g_signal_connect(click, "pressed", G_CALLBACK(on_click), self);
  gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(click));
  self->hover_row = self->hover_col = -1;
  GtkEventController *motion = gtk_event_controller_motion_new();
  g_signal_connect(motion, "motion", G_CALLBACK(on_motion), self);
  g_signal_connect(motion, "leave", G_CALLBACK(on_leave), self);
  gtk_widget_add_controller(GTK_WIDGET(self), motion);
  GtkEventController *scroll = gtk_event_controller_scroll_new(GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  g_signal_connect(scroll, "scroll", G_CALLBACK(on_scroll), self);
  gtk_widget_add_controller(GTK_WIDGET(self), scroll);
  gtk_widget_set_focusable(GTK_WIDGET(self), TRUE);
}

GtkWidget *lens_trace_view_new(void) { return g_object_new(LENS_TYPE_TRACE_VIEW, NULL); }
