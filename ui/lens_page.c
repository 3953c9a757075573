/* LensPage: the base of the task pages (see lens_page.h). */
#include "lens_page.h"

typedef struct {
  GtkWidget *info_bar, *info_label, *focus;
  GPtrArray *zoom_views; /* LensTraceView, not owned (children of the page) */
  char *message;
  GPtrArray *models;     /* LensModelEntry, in the order of the chooser */
  GtkStringList *names;  /* the chooser's model */
  GtkWidget *model_row, *chooser, *card_label;
  int updating;
  LensModelSlot slot;   /* the chosen model, loaded on a worker */
  LensRunner runner;    /* the live loop */
  LensPageSpinner spinner;
  int held;             /* lens_page_hold_busy */
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

/* ---- the model chooser ---- */

const char *lens_page_get_task(LensPage *self) { return LENS_PAGE_GET_CLASS(self)->task; }

static LensPagePrivate *private_of(LensPage *self) { return lens_page_get_instance_private(self); }

int lens_page_add_model(LensPage *self, const LensModelEntry *e) {
  g_return_val_if_fail(LENS_IS_PAGE(self) && e && e->path, -1);
  LensPagePrivate *priv = private_of(self);
  for (guint i = 0; i < priv->models->len; i++)
    if (g_strcmp0(((LensModelEntry *)g_ptr_array_index(priv->models, i))->path, e->path) == 0) return (int)i;
  g_ptr_array_add(priv->models, lens_model_entry_copy(e));
  g_autofree char *label = g_strdup_printf("%s%s", e->display_name ? e->display_name : e->name, e->user ? " (yours)" : "");
  priv->updating++;
  gtk_string_list_append(priv->names, label);
  priv->updating--;
  return (int)priv->models->len - 1;
}

guint lens_page_get_n_models(LensPage *self) { return private_of(self)->models->len; }
GListModel *lens_page_get_model_names(LensPage *self) { return G_LIST_MODEL(private_of(self)->names); }

const LensModelEntry *lens_page_get_model_entry(LensPage *self, guint i) {
  LensPagePrivate *priv = private_of(self);
  return i < priv->models->len ? g_ptr_array_index(priv->models, i) : NULL;
}

const LensModelEntry *lens_page_get_selected_model(LensPage *self) {
  return lens_page_get_model_entry(self, gtk_drop_down_get_selected(GTK_DROP_DOWN(private_of(self)->chooser)));
}

static void busy_changed(gpointer page) {
  LensPagePrivate *priv = private_of(page);
  lens_page_spinner_set_busy(&priv->spinner, priv->held > 0 || priv->slot.loading > 0 || priv->runner.running > 0);
}

static void model_chosen(LensPage *self, const LensModelEntry *e) {
  LensPagePrivate *priv = private_of(self);
  if (lens_model_slot_choose(&priv->slot, e->path)) busy_changed(self);
  g_autofree char *card = lens_card_markup(e->card ? e->card : "This model has no MODEL.md.");
  gtk_label_set_markup(GTK_LABEL(priv->card_label), card);
  gtk_widget_set_tooltip_text(priv->chooser, e->path);
  if (LENS_PAGE_GET_CLASS(self)->model_selected) LENS_PAGE_GET_CLASS(self)->model_selected(self, e);
}

static void on_model_selected(GObject *object, GParamSpec *pspec, gpointer data) {
  LensPage *self = data;
  const LensModelEntry *e = lens_page_get_selected_model(self);
  if (!private_of(self)->updating && e) model_chosen(self, e);
}

gboolean lens_page_select_model(LensPage *self, const char *name) {
  g_return_val_if_fail(LENS_IS_PAGE(self), FALSE);
  LensPagePrivate *priv = private_of(self);
  for (guint i = 0; name && i < priv->models->len; i++) {
    const LensModelEntry *e = g_ptr_array_index(priv->models, i);
    if (g_strcmp0(e->name, name) != 0 && g_strcmp0(e->path, name) != 0) continue;
    priv->updating++;
    gtk_drop_down_set_selected(GTK_DROP_DOWN(priv->chooser), i);
    priv->updating--;
    model_chosen(self, e);
    return TRUE;
  }
  return FALSE;
}

gboolean lens_page_select_default(LensPage *self) {
  LensPagePrivate *priv = private_of(self);
  const char *const *defaults = LENS_PAGE_GET_CLASS(self)->default_models;
  for (int i = 0; defaults && defaults[i]; i++)
    if (lens_page_select_model(self, defaults[i])) return TRUE;
  if (priv->models->len > 0) return lens_page_select_model(self, ((LensModelEntry *)g_ptr_array_index(priv->models, 0))->path);
  g_autofree char *none = g_strdup_printf("No %s model was found.", lens_page_get_task(self));
  gtk_label_set_text(GTK_LABEL(priv->card_label), none);
  const char *why = LENS_PAGE_GET_CLASS(self)->no_model_message;
  lens_page_set_message(self, why ? why : none, GTK_MESSAGE_INFO);
  return FALSE;
}

GtkWidget *lens_page_get_model_row(LensPage *self) { return private_of(self)->model_row; }

/* A chooser row: the language pair as a heading above the first model of each pair, the name,
 * and the domain in small print. */
static void setup_row(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data) {
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *heading = gtk_label_new(""), *name = gtk_label_new(""), *domain = gtk_label_new("");
  gtk_widget_add_css_class(heading, "heading");
  gtk_widget_add_css_class(domain, "dim-label");
  gtk_widget_add_css_class(domain, "caption");
  GtkWidget *labels[] = {heading, name, domain};
  for (int i = 0; i < 3; i++) {
    gtk_label_set_xalign(GTK_LABEL(labels[i]), 0);
    gtk_box_append(GTK_BOX(box), labels[i]);
  }
  gtk_list_item_set_child(item, box);
}

static void bind_row(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data) {
  LensPage *self = data;
  guint i = gtk_list_item_get_position(item);
  const LensModelEntry *e = lens_page_get_model_entry(self, i), *before = i ? lens_page_get_model_entry(self, i - 1) : NULL;
  GtkWidget *heading = gtk_widget_get_first_child(gtk_list_item_get_child(item));
  GtkWidget *name = gtk_widget_get_next_sibling(heading), *domain = gtk_widget_get_next_sibling(name);
  GtkStringObject *so = gtk_list_item_get_item(item);
  gboolean new_pair = e && e->pair && (!before || g_strcmp0(before->pair, e->pair) != 0);
  g_autofree char *pair = new_pair ? g_ascii_strup(e->pair, -1) : NULL;
  gtk_label_set_text(GTK_LABEL(heading), pair ? pair : "");
  gtk_widget_set_visible(heading, new_pair);
  gtk_label_set_text(GTK_LABEL(name), gtk_string_object_get_string(so));
  gtk_label_set_text(GTK_LABEL(domain), e && e->domain ? e->domain : "");
  gtk_widget_set_visible(domain, e && e->domain);
}

static gboolean card_unselect(gpointer label) {
  gtk_label_select_region(GTK_LABEL(label), 0, 0);
  g_object_unref(label);
  return G_SOURCE_REMOVE;
}

static void card_shown(GtkWidget *label) { g_idle_add(card_unselect, g_object_ref(label)); }

/* The model card: the facts and MODEL.md in a popover (headings, code and tables set as such). */
static GtkWidget *card_button_new(GtkWidget **card_label) {
  GtkWidget *label = *card_label = gtk_label_new("");
  gtk_label_set_wrap(GTK_LABEL(label), TRUE);
  gtk_label_set_max_width_chars(GTK_LABEL(label), 70);
  gtk_label_set_selectable(GTK_LABEL(label), TRUE);
  gtk_label_set_xalign(GTK_LABEL(label), 0);
  GtkWidget *scroll = gtk_scrolled_window_new();
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), label);
  gtk_scrolled_window_set_max_content_height(GTK_SCROLLED_WINDOW(scroll), 420);
  gtk_scrolled_window_set_propagate_natural_height(GTK_SCROLLED_WINDOW(scroll), TRUE);
  gtk_scrolled_window_set_propagate_natural_width(GTK_SCROLLED_WINDOW(scroll), TRUE);
  GtkWidget *pop = gtk_popover_new();
  gtk_popover_set_child(GTK_POPOVER(pop), scroll);
  /* a selectable label selects all its text when the opening popover focuses it */
  g_signal_connect_swapped(pop, "show", G_CALLBACK(card_shown), label);
  GtkWidget *b = gtk_menu_button_new();
  gtk_menu_button_set_icon_name(GTK_MENU_BUTTON(b), "dialog-information-symbolic");
  gtk_menu_button_set_popover(GTK_MENU_BUTTON(b), pop);
  gtk_widget_set_tooltip_text(b, "About this model: training data and measured quality");
  return b;
}

static void build_model_row(LensPage *self) {
  LensPagePrivate *priv = private_of(self);
  priv->names = gtk_string_list_new(NULL);
  priv->chooser = gtk_drop_down_new(G_LIST_MODEL(priv->names), NULL);
  GtkListItemFactory *f = gtk_signal_list_item_factory_new();
  g_signal_connect(f, "setup", G_CALLBACK(setup_row), self);
  g_signal_connect(f, "bind", G_CALLBACK(bind_row), self);
  gtk_drop_down_set_list_factory(GTK_DROP_DOWN(priv->chooser), f);
  g_object_unref(f);
  gtk_accessible_update_property(GTK_ACCESSIBLE(priv->chooser), GTK_ACCESSIBLE_PROPERTY_LABEL, "Model", -1);
  g_signal_connect(priv->chooser, "notify::selected", G_CALLBACK(on_model_selected), self);
  priv->model_row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_append(GTK_BOX(priv->model_row), gtk_label_new("Model"));
  gtk_box_append(GTK_BOX(priv->model_row), priv->chooser);
  gtk_box_append(GTK_BOX(priv->model_row), card_button_new(&priv->card_label));
}

/* ---- the model and the live loop ---- */

gpointer lens_page_get_model(LensPage *self) {
  LensPagePrivate *priv = private_of(self);
  return priv->slot.model ? lens_model_ref_get(priv->slot.model) : NULL;
}

const char *lens_page_get_model_path(LensPage *self) { return private_of(self)->slot.path; }
void lens_page_schedule(LensPage *self, guint delay_ms) { lens_runner_schedule(&private_of(self)->runner, delay_ms); }
void lens_page_supersede(LensPage *self) { lens_runner_supersede(&private_of(self)->runner); }

void lens_page_submit(LensPage *self, gpointer input) {
  LensPagePrivate *priv = private_of(self);
  g_return_if_fail(priv->slot.model != NULL);
  lens_runner_submit(&priv->runner, priv->slot.model, input);
}

gboolean lens_page_is_busy(LensPage *self) {
  g_return_val_if_fail(LENS_IS_PAGE(self), FALSE);
  LensPagePrivate *priv = private_of(self);
  LensPageClass *klass = LENS_PAGE_GET_CLASS(self);
  return priv->held > 0 || priv->slot.loading > 0 || lens_runner_busy(&priv->runner) || (klass->busy && klass->busy(self));
}

void lens_page_hold_busy(LensPage *self, int delta) {
  private_of(self)->held += delta;
  busy_changed(self);
}

GtkWidget *lens_page_get_spinner(LensPage *self) { return private_of(self)->spinner.widget; }

void lens_page_show_timing(LensPage *self, GtkWidget *status, const char *what, double model_ms) {
  lens_runner_show_timing(&private_of(self)->runner, status, what, model_ms);
}

static void start_trampoline(gpointer page) {
  if (LENS_PAGE_GET_CLASS(page)->start) LENS_PAGE_GET_CLASS(page)->start(page);
}

static void done_trampoline(gpointer page, attn_trace *t, const GError *error, gpointer input, double model_ms) {
  if (LENS_PAGE_GET_CLASS(page)->show_result) LENS_PAGE_GET_CLASS(page)->show_result(page, t, error, input, model_ms);
  else attn_trace_free(t);
}

static void ready_trampoline(gpointer page, gboolean loaded, const GError *error) {
  busy_changed(page);
  if (error) {
    g_autofree char *msg = g_strdup_printf("The model could not be loaded: %s", error->message);
    lens_page_set_message(page, msg, GTK_MESSAGE_ERROR);
  }
  if (LENS_PAGE_GET_CLASS(page)->model_ready) LENS_PAGE_GET_CLASS(page)->model_ready(page, loaded, error);
}

/* The subclass's class is complete only now (instance init runs with the base's class). */
static void lens_page_constructed(GObject *object) {
  LensPage *self = LENS_PAGE(object);
  LensPagePrivate *priv = private_of(self);
  LensPageClass *klass = LENS_PAGE_GET_CLASS(self);
  G_OBJECT_CLASS(lens_page_parent_class)->constructed(object);
  lens_model_slot_init(&priv->slot, self, klass->load_model, klass->free_model, ready_trampoline);
  lens_runner_init(&priv->runner, self, start_trampoline, busy_changed, klass->work, klass->input_free, done_trampoline);
}

static void lens_page_dispose(GObject *object) {
  LensPagePrivate *priv = private_of(LENS_PAGE(object));
  lens_runner_dispose(&priv->runner); /* a job still running ends without touching the widgets */
  lens_page_spinner_clear(&priv->spinner);
  G_OBJECT_CLASS(lens_page_parent_class)->dispose(object);
}

/* ---- focus ---- */

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
  g_ptr_array_unref(priv->models);
  lens_model_slot_clear(&priv->slot);
  G_OBJECT_CLASS(lens_page_parent_class)->finalize(object);
}

static void lens_page_class_init(LensPageClass *klass) {
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  G_OBJECT_CLASS(klass)->constructed = lens_page_constructed;
  G_OBJECT_CLASS(klass)->dispose = lens_page_dispose;
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
  priv->models = g_ptr_array_new_with_free_func((GDestroyNotify)lens_model_entry_free);
  build_model_row(self);
  lens_page_spinner_init(&priv->spinner);
  lens_page_init_box(GTK_BOX(self));
  priv->info_bar = info_bar_new(&priv->info_label);
}
