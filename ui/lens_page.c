/* LensPage: the base of the task pages (see lens_page.h). */
#include "lens_page.h"

typedef struct {
  GtkWidget *info_bar, *info_label, *focus;
  GPtrArray *zoom_views; /* LensTraceView, not owned (children of the page) */
  char *message;
} LensPagePrivate;

G_DEFINE_TYPE_WITH_PRIVATE(LensPage, lens_page, GTK_TYPE_BOX)

static GtkWidget *info_bar_new(GtkWidget **label) {
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  GtkWidget *bar = gtk_info_bar_new();
  *label = gtk_label_new("");
  gtk_label_set_wrap(GTK_LABEL(*label), TRUE);
  gtk_label_set_xalign(GTK_LABEL(*label), 0);
  gtk_info_bar_add_child(GTK_INFO_BAR(bar), *label);
  gtk_info_bar_set_revealed(GTK_INFO_BAR(bar), FALSE);
  G_GNUC_END_IGNORE_DEPRECATIONS
  return bar;
}

GtkWidget *lens_page_get_info_bar(LensPage *self) {
  LensPagePrivate *priv = lens_page_get_instance_private(self);
  return priv->info_bar;
}

void lens_page_set_message(LensPage *self, const char *text, GtkMessageType type) {
  g_return_if_fail(LENS_IS_PAGE(self));
  LensPagePrivate *priv = lens_page_get_instance_private(self);
  g_free(priv->message);
  priv->message = g_strdup(text);
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  if (text) {
    gtk_label_set_text(GTK_LABEL(priv->info_label), text);
    gtk_info_bar_set_message_type(GTK_INFO_BAR(priv->info_bar), type);
  }
  gtk_info_bar_set_revealed(GTK_INFO_BAR(priv->info_bar), text != NULL);
  G_GNUC_END_IGNORE_DEPRECATIONS
}

const char *lens_page_get_message(LensPage *self) {
  g_return_val_if_fail(LENS_IS_PAGE(self), NULL);
  LensPagePrivate *priv = lens_page_get_instance_private(self);
  return priv->message;
}

void lens_page_show_warnings(LensPage *self, const attn_trace *t) {
  g_autofree char *joined = lens_page_join_warnings(t);
  lens_page_set_message(self, joined, joined ? GTK_MESSAGE_WARNING : GTK_MESSAGE_INFO);
}

void lens_page_set_focus_widget(LensPage *self, GtkWidget *widget) {
  LensPagePrivate *priv = lens_page_get_instance_private(self);
  priv->focus = widget;
}

GtkWidget *lens_page_get_focus_widget(LensPage *self) {
  LensPagePrivate *priv = lens_page_get_instance_private(self);
  return priv->focus;
}

void lens_page_focus(LensPage *self) {
  g_return_if_fail(LENS_IS_PAGE(self));
  LensPagePrivate *priv = lens_page_get_instance_private(self);
  if (priv->focus) gtk_widget_grab_focus(priv->focus);
}

void lens_page_add_zoom_view(LensPage *self, LensTraceView *view) {
  LensPagePrivate *priv = lens_page_get_instance_private(self);
  lens_trace_view_set_legible(view, TRUE);
  g_ptr_array_add(priv->zoom_views, view);
}

static void zoom_action(GtkWidget *widget, const char *name, GVariant *param) {
  LensPagePrivate *priv = lens_page_get_instance_private(LENS_PAGE(widget));
  int direction = g_str_equal(name, "page.zoom-in") ? 1 : g_str_equal(name, "page.zoom-out") ? -1 : 0;
  for (guint i = 0; i < priv->zoom_views->len; i++) lens_trace_view_zoom_step(g_ptr_array_index(priv->zoom_views, i), direction);
}

LensExportJob *lens_page_export_job(LensPage *self, GError **error) {
  g_return_val_if_fail(LENS_IS_PAGE(self), NULL);
  LensPageClass *klass = LENS_PAGE_GET_CLASS(self);
  if (!klass->export_job) {
    g_set_error(error, LENS_ERROR, ATTN_E_ARG, "This page has nothing to export.");
    return NULL;
  }
  return klass->export_job(self, error);
}

gboolean lens_page_export(LensPage *self, const char *path, double scale, GError **error) {
  g_autoptr(LensExportJob) job = lens_page_export_job(self, error);
  return job && lens_export_job_run(job, path, scale, error);
}

GdkTexture *lens_page_texture(LensPage *self, double scale) {
  g_autoptr(LensExportJob) job = lens_page_export_job(self, NULL);
  return job ? lens_export_job_texture(job, scale) : NULL;
}

static void lens_page_finalize(GObject *object) {
  LensPagePrivate *priv = lens_page_get_instance_private(LENS_PAGE(object));
  g_free(priv->message);
  g_ptr_array_unref(priv->zoom_views);
  G_OBJECT_CLASS(lens_page_parent_class)->finalize(object);
}

static void lens_page_class_init(LensPageClass *klass) {
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  G_OBJECT_CLASS(klass)->finalize = lens_page_finalize;
  const char *names[] = {"page.zoom-in", "page.zoom-out", "page.zoom-fit"};
  for (int i = 0; i < 3; i++) gtk_widget_class_install_action(widget_class, names[i], NULL, zoom_action);
  const struct {
    guint key;
    const char *action;
  } keys[] = {{GDK_KEY_plus, "page.zoom-in"},       {GDK_KEY_equal, "page.zoom-in"}, {GDK_KEY_KP_Add, "page.zoom-in"},
              {GDK_KEY_minus, "page.zoom-out"},     {GDK_KEY_KP_Subtract, "page.zoom-out"},
              {GDK_KEY_0, "page.zoom-fit"},         {GDK_KEY_KP_0, "page.zoom-fit"}};
  for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
    gtk_widget_class_add_binding_action(widget_class, keys[i].key, GDK_CONTROL_MASK, keys[i].action, NULL);
}

static void lens_page_init(LensPage *self) {
  LensPagePrivate *priv = lens_page_get_instance_private(self);
  priv->zoom_views = g_ptr_array_new();
  lens_page_init_box(GTK_BOX(self));
  priv->info_bar = info_bar_new(&priv->info_label);
}
