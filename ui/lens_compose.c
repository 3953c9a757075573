/* LensCompose: the scene of Compose mode, its toolbar, and the editing the Caption page forwards. */
#include "lens_compose.h"

#include <math.h>

#include "lens_page_util.h"

struct _LensCompose {
  GtkBox parent_instance;
  GtkWidget *shape_dropdown, *colour_dropdown, *size_dropdown, *delete_button;
  GArray *shapes; /* LensSceneShape, bottom to top */
  int selected, dragging, updating;
  double grab_du, grab_dv; /* the shape's centre less the grab point */
};

G_DEFINE_FINAL_TYPE(LensCompose, lens_compose, GTK_TYPE_BOX)

enum { SIGNAL_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static LensSceneShape *shape_at(LensCompose *self, int i) {
  return i >= 0 && (guint)i < self->shapes->len ? &g_array_index(self->shapes, LensSceneShape, i) : NULL;
}

/* The toolbar shows the selected shape's shape, colour and size. */
static void sync_controls(LensCompose *self) {
  const LensSceneShape *s = shape_at(self, self->selected);
  gtk_widget_set_sensitive(self->delete_button, s != NULL);
  if (!s) return;
  self->updating++;
  gtk_drop_down_set_selected(GTK_DROP_DOWN(self->shape_dropdown), (guint)s->shape);
  gtk_drop_down_set_selected(GTK_DROP_DOWN(self->colour_dropdown), (guint)s->colour);
  gtk_drop_down_set_selected(GTK_DROP_DOWN(self->size_dropdown), (guint)s->big);
  self->updating--;
}

static void changed(LensCompose *self, guint delay_ms) {
  sync_controls(self);
  g_signal_emit(self, signals[SIGNAL_CHANGED], 0, delay_ms);
}

int lens_compose_add(LensCompose *self, int shape, int colour, int big, double u, double v) {
  g_return_val_if_fail(LENS_IS_COMPOSE(self), -1);
  LensSceneShape s = {CLAMP(shape, 0, LENS_COMPOSE_SHAPES - 1), CLAMP(colour, 0, LENS_COMPOSE_COLOURS - 1), big ? 1 : 0,
                      CLAMP(u, 0.0, 1.0), CLAMP(v, 0.0, 1.0)};
  g_array_append_val(self->shapes, s);
  self->selected = (int)self->shapes->len - 1;
  changed(self, 0);
  return self->selected;
}

int lens_compose_count(LensCompose *self) { return (int)self->shapes->len; }
int lens_compose_selected(LensCompose *self) { return self->selected; }

void lens_compose_delete_selected(LensCompose *self) {
  g_return_if_fail(LENS_IS_COMPOSE(self));
  if (!shape_at(self, self->selected)) return;
  g_array_remove_index(self->shapes, (guint)self->selected);
  self->selected = (int)self->shapes->len - 1;
  changed(self, 0);
}

gboolean lens_compose_locate(LensCompose *self, int i, double *u, double *v) {
  const LensSceneShape *s = shape_at(self, i);
  if (!s) return FALSE;
  *u = s->x, *v = s->y;
  return TRUE;
}

gboolean lens_compose_grab(LensCompose *self, double u, double v) {
  self->dragging = FALSE;
  for (int i = (int)self->shapes->len - 1; i >= 0; i--) { /* the topmost shape under the pointer */
    const LensSceneShape *s = shape_at(self, i);
    if (!lens_scene_hit(s, u, v, 1.1)) continue; /* a little slack makes small shapes easy to grab */
    self->selected = i, self->dragging = TRUE;
    self->grab_du = s->x - u, self->grab_dv = s->y - v;
    sync_controls(self);
    return TRUE;
  }
  return FALSE;
}

void lens_compose_drag_to(LensCompose *self, double u, double v) {
  LensSceneShape *s = shape_at(self, self->selected);
  if (!self->dragging || !s) return;
  s->x = CLAMP(u + self->grab_du, 0.0, 1.0), s->y = CLAMP(v + self->grab_dv, 0.0, 1.0);
  changed(self, 10); /* the caption follows while dragging, a few times a second at most */
}

void lens_compose_release(LensCompose *self) { self->dragging = FALSE; }

cairo_surface_t *lens_compose_render(LensCompose *self) {
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, LENS_COMPOSE_SIDE, LENS_COMPOSE_SIDE);
  cairo_t *cr = cairo_create(s);
  lens_scene_draw(cr, (const LensSceneShape *)(void *)self->shapes->data, (int)self->shapes->len, LENS_COMPOSE_SIDE);
  cairo_destroy(cr);
  cairo_surface_flush(s);
  return s;
}

void lens_compose_draw_selection(LensCompose *self, cairo_t *cr, const LensRect *g) {
  const LensSceneShape *s = shape_at(self, self->selected);
  if (!s || g->w <= 0 || g->h <= 0) return;
  cairo_save(cr);
  cairo_translate(cr, g->x, g->y);
  cairo_scale(cr, g->w / LENS_COMPOSE_SIDE, g->h / LENS_COMPOSE_SIDE);
  lens_scene_shape_path(cr, s, LENS_COMPOSE_SIDE);
  cairo_restore(cr);
  double dash[] = {5, 4};
  cairo_set_dash(cr, dash, 2, 0);
  cairo_set_line_width(cr, 2);
  cairo_set_source_rgba(cr, 1, 1, 1, 0.95);
  cairo_stroke_preserve(cr);
  cairo_set_dash(cr, dash, 2, 5);
  cairo_set_source_rgba(cr, 0, 0, 0, 0.8);
  cairo_stroke(cr);
}

/* ---- the toolbar ---- */

/* A free spot for a new shape: the first of a few places far from every shape there. */
static void free_spot(LensCompose *self, double *u, double *v) {
  static const double spots[][2] = {{0.5, 0.5}, {0.25, 0.3}, {0.75, 0.7}, {0.72, 0.28}, {0.28, 0.72}, {0.5, 0.2}, {0.5, 0.8}};
  double best = -1;
  for (size_t k = 0; k < G_N_ELEMENTS(spots); k++) {
    double nearest = 2;
    for (guint i = 0; i < self->shapes->len; i++) {
      const LensSceneShape *s = shape_at(self, (int)i);
      nearest = fmin(nearest, hypot(s->x - spots[k][0], s->y - spots[k][1]));
    }
    if (nearest > best + 1e-9) best = nearest, *u = spots[k][0], *v = spots[k][1];
  }
}

static int chosen(GtkWidget *dropdown) { return (int)gtk_drop_down_get_selected(GTK_DROP_DOWN(dropdown)); }

static void on_add_clicked(GtkButton *b, gpointer data) {
  LensCompose *self = data;
  double u = 0.5, v = 0.5;
  free_spot(self, &u, &v);
  lens_compose_add(self, chosen(self->shape_dropdown), chosen(self->colour_dropdown), chosen(self->size_dropdown), u, v);
}

static void on_delete_clicked(GtkButton *b, gpointer data) { lens_compose_delete_selected(data); }

static void on_clear_clicked(GtkButton *b, gpointer data) {
  LensCompose *self = data;
  g_array_set_size(self->shapes, 0);
  self->selected = -1;
  changed(self, 0);
}

/* A new shape, colour or size applies to the selected shape. */
static void on_choice(GObject *object, GParamSpec *pspec, gpointer data) {
  LensCompose *self = data;
  LensSceneShape *s = shape_at(self, self->selected);
  if (self->updating || !s) return;
  s->shape = chosen(self->shape_dropdown), s->colour = chosen(self->colour_dropdown), s->big = chosen(self->size_dropdown);
  changed(self, 0);
}

static GtkWidget *button(const char *label, const char *tip, GCallback cb, gpointer data) {
  GtkWidget *b = gtk_button_new_with_mnemonic(label);
  gtk_widget_set_tooltip_text(b, tip);
  g_signal_connect(b, "clicked", cb, data);
  return b;
}

static void lens_compose_init(LensCompose *self) {
  self->shapes = g_array_new(FALSE, FALSE, sizeof(LensSceneShape));
  self->selected = -1;
  gtk_orientable_set_orientation(GTK_ORIENTABLE(self), GTK_ORIENTATION_HORIZONTAL);
  gtk_box_set_spacing(GTK_BOX(self), 8);
  gtk_widget_add_css_class(GTK_WIDGET(self), "toolbar");
  self->shape_dropdown = lens_page_dropdown(NULL, lens_compose_shape_names);
  self->colour_dropdown = lens_page_dropdown(NULL, lens_compose_colour_names);
  self->size_dropdown = lens_page_dropdown(NULL, (const char *const[]){"small", "big", NULL});
  gtk_drop_down_set_selected(GTK_DROP_DOWN(self->size_dropdown), 1);
  self->delete_button = button("_Delete", "Delete the selected shape (Delete)", G_CALLBACK(on_delete_clicked), self);
  GtkWidget *hint = gtk_label_new("Drag shapes on the image: the caption follows.");
  gtk_widget_add_css_class(hint, "dim-label");
  GtkWidget *items[] = {lens_page_labelled("Shape", self->shape_dropdown), lens_page_labelled("Colour", self->colour_dropdown),
                        lens_page_labelled("Size", self->size_dropdown),
                        button("_Add Shape", "Add a shape with these choices; drag it on the image", G_CALLBACK(on_add_clicked), self),
                        self->delete_button, button("Clear", "Remove every shape", G_CALLBACK(on_clear_clicked), self), hint};
  for (size_t i = 0; i < G_N_ELEMENTS(items); i++) gtk_box_append(GTK_BOX(self), items[i]);
  GtkWidget *choices[] = {self->shape_dropdown, self->colour_dropdown, self->size_dropdown};
  for (size_t i = 0; i < G_N_ELEMENTS(choices); i++) g_signal_connect(choices[i], "notify::selected", G_CALLBACK(on_choice), self);
  sync_controls(self);
}

static void lens_compose_finalize(GObject *object) {
  g_array_unref(LENS_COMPOSE(object)->shapes);
  G_OBJECT_CLASS(lens_compose_parent_class)->finalize(object);
}

static void lens_compose_class_init(LensComposeClass *klass) {
  G_OBJECT_CLASS(klass)->finalize = lens_compose_finalize;
  signals[SIGNAL_CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                         G_TYPE_NONE, 1, G_TYPE_UINT);
}

GtkWidget *lens_compose_new(void) { return g_object_new(LENS_TYPE_COMPOSE, NULL); }
