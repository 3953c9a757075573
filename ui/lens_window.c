/* The main window: header bar, the task pages (each a LensPage with its own models), export, clipboard. */
#include "lens_window.h"

#include "lens_read_page.h"
#include "lens_caption_page.h"
#include "lens_graph_page.h"
#include "lens_memory_page.h"
#include "lens_page_util.h"
#include "lens_quality_dialog.h"

struct _LensWindow {
  GtkApplicationWindow parent_instance;
  GtkWidget *stack;
  LensTranslatePage *translate;
  LensReadPage *read;
  LensCaptionPage *caption;
  GtkWidget *status_label; /* export progress, in the header */
  guint status_timeout;
  int exports_running;
  GtkWidget *quality; /* the "Quality by Sentence Length" window while it is open (weak) */
};

G_DEFINE_FINAL_TYPE(LensWindow, lens_window, GTK_TYPE_APPLICATION_WINDOW)

/* The page that offers models of this task (config attnlens.task), or NULL. */
static LensPage *page_for_task(LensWindow *self, const char *task) {
  for (GtkWidget *c = gtk_widget_get_first_child(self->stack); c; c = gtk_widget_get_next_sibling(c)) {
    GtkWidget *page = gtk_stack_page_get_child(gtk_stack_get_page(GTK_STACK(self->stack), c));
    if (LENS_IS_PAGE(page) && g_strcmp0(lens_page_get_task(LENS_PAGE(page)), task) == 0) return LENS_PAGE(page);
  }
  return NULL;
}

gboolean lens_window_select_model(LensWindow *self, const char *name) {
  return lens_page_select_model(LENS_PAGE(self->translate), name);
}

gboolean lens_window_add_model(LensWindow *self, const char *path, GError **error) {
  LensModelEntry *e = lens_model_entry_read(path, TRUE, error);
  if (!e) return FALSE;
  LensPage *page = page_for_task(self, e->task);
  if (!page) {
    g_set_error(error, LENS_ERROR, ATTN_E_VALUE, "%s is a %s model; attnlens has no page for that task", path, e->task);
    lens_model_entry_free(e);
    return FALSE;
  }
  lens_page_add_model(page, e);
  gboolean ok = lens_page_select_model(page, e->path);
  gtk_stack_set_visible_child(GTK_STACK(self->stack), GTK_WIDGET(page)); /* where it is used */
  lens_model_entry_free(e);
  return ok;
}

LensTranslatePage *lens_window_get_translate_page(LensWindow *self) { return self->translate; }

static void load_models(LensWindow *self, const char *shipped) {
  g_autofree char *user = lens_models_user_dir();
  const char *folders[] = {shipped, user};
  gboolean user_flags[] = {FALSE, TRUE};
  g_autoptr(GPtrArray) all = lens_models_scan(folders, user_flags, 2);
  for (guint i = 0; i < all->len; i++) {
    const LensModelEntry *e = g_ptr_array_index(all, i);
    LensPage *page = page_for_task(self, e->task);
    if (page) lens_page_add_model(page, e);
  }
}

/* ---- actions ---- */

static void show_error(LensWindow *self, const char *title, const char *detail) {
  GtkWidget *d = gtk_message_dialog_new(GTK_WINDOW(self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                        GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE, "%s", title);
  gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "%s", detail);
  g_signal_connect(d, "response", G_CALLBACK(gtk_window_destroy), NULL);
  gtk_window_present(GTK_WINDOW(d));
}

static void on_open_model_response(GtkNativeDialog *dialog, int response, gpointer data) {
  LensWindow *self = data;
  if (response == GTK_RESPONSE_ACCEPT) {
    g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
    g_autofree char *path = file ? g_file_get_path(file) : NULL;
    g_autoptr(GError) error = NULL;
    if (path && !lens_window_add_model(self, path, &error))
      show_error(self, "This folder is not a model attnlens can use", error->message);
  }
  g_object_unref(dialog);
}

static void open_model_action(GSimpleAction *a, GVariant *p, gpointer data) {
  GtkFileChooserNative *d = gtk_file_chooser_native_new("Open Model Folder", GTK_WINDOW(data),
                                                        GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, "_Open", "_Cancel");
  g_signal_connect(d, "response", G_CALLBACK(on_open_model_response), data);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

static const char *const scale_ids[] = {"1", "2", "3", "4", NULL};
static const char *const scale_labels[] = {"1× (screen)", "2× (slides)", "3×", "4× (print)", NULL};

/* The header's status line: "Exporting…", then "Saved NAME" for a few seconds. */
static gboolean clear_status(gpointer data) {
  LensWindow *self = data;
  self->status_timeout = 0;
  gtk_label_set_text(GTK_LABEL(self->status_label), "");
  return G_SOURCE_REMOVE;
}

static void set_status(LensWindow *self, const char *text, guint seconds) {
  g_clear_handle_id(&self->status_timeout, g_source_remove);
  gtk_label_set_text(GTK_LABEL(self->status_label), text);
  if (seconds) self->status_timeout = g_timeout_add_seconds(seconds, clear_status, self);
}

static void on_export_done(GObject *source, GAsyncResult *result, gpointer data) {
  LensWindow *self = data; /* held by the export */
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  self->exports_running--;
  if (lens_export_job_finish(result, &path, &error)) {
    g_autofree char *name = g_path_get_basename(path);
    g_autofree char *text = g_strdup_printf("Saved %s", name);
    set_status(self, text, 5);
    gtk_widget_set_tooltip_text(self->status_label, path);
  } else {
    set_status(self, "", 0);
    show_error(self, "The picture could not be exported", error->message);
  }
  g_object_unref(self);
}

static LensPage *visible_page(LensWindow *self) {
  return LENS_PAGE(gtk_stack_get_visible_child(GTK_STACK(self->stack)));
}

LensExportJob *lens_window_export_job(LensWindow *self, GError **error) {
  return lens_page_export_job(visible_page(self), error);
}

void lens_window_export(LensWindow *self, const char *path, double scale) {
  g_autoptr(GError) error = NULL;
  LensExportJob *job = lens_window_export_job(self, &error);
  if (!job) {
    show_error(self, "The picture could not be exported", error->message);
    return;
  }
  /* drawing a 4x PNG of a large map takes a moment: a worker draws it, the window stays live */
  self->exports_running++;
  set_status(self, "Exporting…", 0);
  lens_export_job_run_async(job, path, scale, NULL, on_export_done, g_object_ref(self));
}

int lens_window_exports_running(LensWindow *self) { return self->exports_running; }

static void on_export_response(GtkNativeDialog *dialog, int response, gpointer data) {
  LensWindow *self = data;
  if (response == GTK_RESPONSE_ACCEPT) {
    g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
    g_autofree char *raw = file ? g_file_get_path(file) : NULL;
    g_autofree char *path = raw ? lens_page_export_path(raw) : NULL;
    const char *scale = gtk_file_chooser_get_choice(GTK_FILE_CHOOSER(dialog), "scale");
    if (path) lens_window_export(self, path, scale ? g_ascii_strtod(scale, NULL) : 2.0);
  }
  g_object_unref(dialog);
}

static void export_action(GSimpleAction *a, GVariant *p, gpointer data) {
  GtkFileChooserNative *d = gtk_file_chooser_native_new("Export Picture", GTK_WINDOW(data), GTK_FILE_CHOOSER_ACTION_SAVE,
                                                        "_Export", "_Cancel");
  const char *names[] = {"PNG image", "SVG drawing", "PDF document"};
  const char *patterns[] = {"*.png", "*.svg", "*.pdf"};
  for (int i = 0; i < 3; i++) {
    GtkFileFilter *f = gtk_file_filter_new();
    gtk_file_filter_set_name(f, names[i]);
    gtk_file_filter_add_pattern(f, patterns[i]);
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(d), f);
    g_object_unref(f);
  }
  gtk_file_chooser_add_choice(GTK_FILE_CHOOSER(d), "scale", "PNG scale", (const char **)scale_ids, (const char **)scale_labels);
  gtk_file_chooser_set_choice(GTK_FILE_CHOOSER(d), "scale", "2");
  gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(d), "attention.png");
  g_signal_connect(d, "response", G_CALLBACK(on_export_response), data);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

static void copy_action(GSimpleAction *a, GVariant *p, gpointer data) {
  LensWindow *self = data;
  g_autoptr(GdkTexture) tex = lens_page_texture(visible_page(self), 2.0);
  if (tex) gdk_clipboard_set_texture(gtk_widget_get_clipboard(GTK_WIDGET(self)), tex);
}

static void dark_action(GSimpleAction *a, GVariant *state, gpointer data) {
  g_simple_action_set_state(a, state);
  g_object_set(gtk_settings_get_default(), "gtk-application-prefer-dark-theme", g_variant_get_boolean(state), NULL);
}

static const char shortcuts_ui[] =
    "<interface><object class='GtkShortcutsWindow' id='w'><property name='modal'>1</property>"
    "<child><object class='GtkShortcutsSection'><property name='section-name'>main</property>"
    "<child><object class='GtkShortcutsGroup'><property name='title'>Pictures</property>"
    "<child><object class='GtkShortcutsShortcut'><property name='title'>Export as PNG, SVG or PDF</property><property name='accelerator'>&lt;ctrl&gt;e</property></object></child>"
    "<child><object class='GtkShortcutsShortcut'><property name='title'>Copy the picture</property><property name='accelerator'>&lt;ctrl&gt;c &lt;ctrl&gt;&lt;shift&gt;c</property></object></child>"
    "</object></child>"
    "<child><object class='GtkShortcutsGroup'><property name='title'>Models</property>"
    "<child><object class='GtkShortcutsShortcut'><property name='title'>Open a model folder</property><property name='accelerator'>&lt;ctrl&gt;o</property></object></child>"
    "</object></child>"
    "<child><object class='GtkShortcutsGroup'><property name='title'>General</property>"
    "<child><object class='GtkShortcutsShortcut'><property name='title'>Keyboard shortcuts</property><property name='accelerator'>&lt;ctrl&gt;question</property></object></child>"
    "<child><object class='GtkShortcutsShortcut'><property name='title'>Quit</property><property name='accelerator'>&lt;ctrl&gt;q</property></object></child>"
    "</object></child></object></child></object></interface>";

static void shortcuts_action(GSimpleAction *a, GVariant *p, gpointer data) {
  g_autoptr(GtkBuilder) b = gtk_builder_new_from_string(shortcuts_ui, -1);
  GtkWindow *w = GTK_WINDOW(gtk_builder_get_object(b, "w"));
  gtk_window_set_transient_for(w, GTK_WINDOW(data));
  gtk_window_present(w);
}

static void about_action(GSimpleAction *a, GVariant *p, gpointer data) {
  const char *authors[] = {"The attnlens developers", NULL};
  gtk_show_about_dialog(GTK_WINDOW(data), "program-name", "attnlens", "logo-icon-name", "io.github.attnlens.attnlens",
                        "comments", "Shows where neural networks look: attention of translation, captioning and reading models.",
                        "license-type", GTK_LICENSE_MIT_X11, "authors", authors, NULL);
}

GtkWidget *lens_window_show_quality(LensWindow *self) {
  g_return_val_if_fail(LENS_IS_WINDOW(self), NULL);
  if (!self->quality) {
    self->quality = GTK_WIDGET(lens_quality_dialog_new(GTK_WINDOW(self), LENS_PAGE(self->translate)));
    g_object_add_weak_pointer(G_OBJECT(self->quality), (gpointer *)&self->quality);
  }
  gtk_window_present(GTK_WINDOW(self->quality));
  return self->quality;
}

static void quality_action(GSimpleAction *a, GVariant *p, gpointer data) { lens_window_show_quality(data); }

static const GActionEntry win_actions[] = {
    {"open-model", open_model_action, NULL, NULL, NULL, {0}},
    {"export", export_action, NULL, NULL, NULL, {0}},
    {"quality-by-length", quality_action, NULL, NULL, NULL, {0}},
    {"copy-picture", copy_action, NULL, NULL, NULL, {0}},
    {"dark", NULL, NULL, "false", dark_action, {0}},
    {"shortcuts", shortcuts_action, NULL, NULL, NULL, {0}},
    {"about", about_action, NULL, NULL, NULL, {0}},
};

/* ---- building ---- */

/* The keyboard goes to the page's text field (or image), never to the model chooser first. */
static void focus_page(LensWindow *self) {
  LensPage *page = visible_page(self);
  if (page) lens_page_focus(page);
}

static GtkWidget *build_menu_button(void) {
  GMenu *menu = g_menu_new();
  g_menu_append(menu, "Open Model Folder…", "win.open-model");
  g_menu_append(menu, "Export Picture…", "win.export");
  g_menu_append(menu, "Copy Picture", "win.copy-picture");
  g_menu_append(menu, "Quality by Sentence Length…", "win.quality-by-length");
  g_menu_append(menu, "Dark Style", "win.dark");
  g_menu_append(menu, "Keyboard Shortcuts", "win.shortcuts");
  g_menu_append(menu, "About attnlens", "win.about");
  GtkWidget *b = gtk_menu_button_new();
  gtk_menu_button_set_icon_name(GTK_MENU_BUTTON(b), "open-menu-symbolic");
  gtk_menu_button_set_menu_model(GTK_MENU_BUTTON(b), G_MENU_MODEL(menu));
  gtk_widget_set_tooltip_text(b, "Main menu");
  g_object_unref(menu);
  return b;
}

static void build_header(LensWindow *self, GtkWidget *switcher) {
  GtkWidget *header = gtk_header_bar_new();
  gtk_header_bar_set_title_widget(GTK_HEADER_BAR(header), switcher);
  gtk_header_bar_pack_end(GTK_HEADER_BAR(header), build_menu_button());
  GtkWidget *export = gtk_button_new_from_icon_name("document-save-as-symbolic");
  gtk_widget_set_tooltip_text(export, "Export the picture as PNG, SVG or PDF (Ctrl+E)");
  gtk_actionable_set_action_name(GTK_ACTIONABLE(export), "win.export");
  gtk_header_bar_pack_end(GTK_HEADER_BAR(header), export);
  self->status_label = gtk_label_new("");
  gtk_widget_add_css_class(self->status_label, "dim-label");
  gtk_header_bar_pack_end(GTK_HEADER_BAR(header), self->status_label);
  gtk_window_set_titlebar(GTK_WINDOW(self), header);
}

static void lens_window_init(LensWindow *self) {
  g_action_map_add_action_entries(G_ACTION_MAP(self), win_actions, G_N_ELEMENTS(win_actions), self);
  self->stack = gtk_stack_new();
  gtk_stack_set_transition_type(GTK_STACK(self->stack), GTK_STACK_TRANSITION_TYPE_CROSSFADE);
  self->translate = LENS_TRANSLATE_PAGE(lens_translate_page_new());
  gtk_stack_add_titled(GTK_STACK(self->stack), GTK_WIDGET(self->translate), "translate", "Translate");
  self->read = LENS_READ_PAGE(lens_read_page_new());
  gtk_stack_add_titled(GTK_STACK(self->stack), GTK_WIDGET(self->read), "read", "Read");
  self->caption = LENS_CAPTION_PAGE(lens_caption_page_new());
  gtk_stack_add_titled(GTK_STACK(self->stack), GTK_WIDGET(self->caption), "caption", "Caption");
  gtk_stack_add_titled(GTK_STACK(self->stack), lens_graph_page_new(), "graph", "Graph");
  gtk_stack_add_titled(GTK_STACK(self->stack), lens_memory_page_new(), "memory", "Memory");
  g_signal_connect_swapped(self->stack, "notify::visible-child", G_CALLBACK(focus_page), self);
  GtkWidget *switcher = gtk_stack_switcher_new();
  gtk_stack_switcher_set_stack(GTK_STACK_SWITCHER(switcher), GTK_STACK(self->stack));
  build_header(self, switcher);
  gtk_window_set_child(GTK_WINDOW(self), self->stack);
  gtk_window_set_default_size(GTK_WINDOW(self), 1100, 780);
  gtk_window_set_title(GTK_WINDOW(self), "attnlens");
  gtk_window_set_icon_name(GTK_WINDOW(self), "io.github.attnlens.attnlens");
}

static void lens_window_dispose(GObject *object) {
  LensWindow *self = LENS_WINDOW(object);
  if (self->quality) gtk_window_destroy(GTK_WINDOW(self->quality)); /* its job is cancelled */
  G_OBJECT_CLASS(lens_window_parent_class)->dispose(object);
}

static void lens_window_finalize(GObject *object) {
  g_clear_handle_id(&LENS_WINDOW(object)->status_timeout, g_source_remove);
  G_OBJECT_CLASS(lens_window_parent_class)->finalize(object);
}

static void lens_window_class_init(LensWindowClass *klass) {
  G_OBJECT_CLASS(klass)->finalize = lens_window_finalize;
  G_OBJECT_CLASS(klass)->dispose = lens_window_dispose;
}

LensWindow *lens_window_new(GtkApplication *app, const char *shipped_models) {
  LensWindow *self = g_object_new(LENS_TYPE_WINDOW, "application", app, NULL);
  load_models(self, shipped_models);
  lens_page_select_default(LENS_PAGE(self->translate)); /* selecting shows its example at once */
  if (lens_page_select_default(LENS_PAGE(self->read))) lens_read_page_show_example(self->read, 0);
  if (shipped_models) { /* the example scenes sit beside data/models: <root>/assets/scenes */
    g_autofree char *scenes = g_build_filename(shipped_models, "..", "..", "assets", "scenes", NULL);
    lens_caption_page_set_examples_dir(self->caption, scenes);
    g_autofree char *photos = g_build_filename(shipped_models, "..", "..", "assets", "photos", NULL);
    lens_caption_page_set_photos_dir(self->caption, photos);
  }
  lens_page_select_default(LENS_PAGE(self->caption));
  /* the first example that suits the model: a photo for the photo model, else a scene */
  const char *cap = lens_page_get_model_path(LENS_PAGE(self->caption));
  g_autofree char *cap_name = cap ? g_path_get_basename(cap) : NULL;
  if (g_strcmp0(cap_name, "caption-photos") == 0 && lens_caption_page_get_n_photos(self->caption) > 0)
    lens_caption_page_show_photo(self->caption, 0);
  else if (lens_caption_page_get_n_examples(self->caption) > 0)
    lens_caption_page_show_example(self->caption, 0);
  lens_page_select_default(page_for_task(self, "graph"));
  lens_page_select_default(page_for_task(self, "memory"));
  focus_page(self);
  return self;
}
