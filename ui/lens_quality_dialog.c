/* "Quality by Sentence Length": BLEU by source length of chosen models, on a worker thread. */
#include "lens_quality_dialog.h"

#include <cjson/cJSON.h>
#include <math.h>

#include "lens_page_util.h"
#include "quality.h"

static const int EDGES[] = {8, 12, 16, 20}; /* as `attnlens bench quality --by-length` */

/* One computation: its inputs (copied), progress (atomic, read by the main thread) and result. */
typedef struct QualityJob {
  char **dirs, **names;
  char *source, *reference;
  int limit;
  gint model, done, total; /* atomic */
  QualityResult result;
} QualityJob;

struct _LensQualityDialog {
  GtkWindow parent_instance;
  LensPage *page;
  GtkWidget *models_box, *source_label, *reference_label, *note, *limit_spin;
  GtkWidget *compute, *cancel_button, *export_button, *progress, *area, *status;
  char *source, *reference;
  GCancellable *cancellable;
  QualityJob *job;       /* the one running (owned by its task), or NULL */
  QualityResult *shown;  /* the chart drawn */
  guint poll_id;
  gboolean disposed;     /* closed while a job ran: its result is dropped */
};

G_DEFINE_FINAL_TYPE(LensQualityDialog, lens_quality_dialog, GTK_TYPE_WINDOW)

static void job_free(gpointer data) {
  QualityJob *job = data;
  g_strfreev(job->dirs), g_strfreev(job->names);
  g_free(job->source), g_free(job->reference);
  quality_clear(&job->result);
  g_free(job);
}

/* ---- the worker ---- */

static void on_progress(int model, guint done, guint total, gpointer data) {
  QualityJob *job = data;
  g_atomic_int_set(&job->model, model);
  g_atomic_int_set(&job->total, (gint)total);
  g_atomic_int_set(&job->done, (gint)done);
}

static void quality_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable) {
  QualityJob *job = data;
  GPtrArray *src = NULL, *ref = NULL;
  GError *error = NULL;
  if (!quality_read_test_set(job->source, job->reference, job->limit, &src, &ref, &error)) {
    g_task_return_error(task, error);
    return;
  }
  quality_init(&job->result, EDGES, G_N_ELEMENTS(EDGES), src);
  QualityHooks hooks = {on_progress, NULL, job, NULL};
  gboolean ok = TRUE;
  for (int m = 0; ok && job->dirs[m]; m++) {
    ok = quality_score_model(&job->result, job->dirs[m], 0, src, ref, &hooks, cancellable, &error);
    if (!ok && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      g_prefix_error(&error, "%s: ", job->names[m]);
  }
  if (ok) quality_finish(&job->result, job->source);
  g_ptr_array_unref(src), g_ptr_array_unref(ref);
  if (ok) g_task_return_boolean(task, TRUE);
  else g_task_return_error(task, error);
}

/* ---- state shown ---- */

static void set_status(LensQualityDialog *self, const char *text) { gtk_label_set_text(GTK_LABEL(self->status), text); }

/* The check button of a model (inside its flow box child). */
static GtkCheckButton *model_check(GtkWidget *child) {
  return GTK_CHECK_BUTTON(gtk_flow_box_child_get_child(GTK_FLOW_BOX_CHILD(child)));
}

static char **checked_models(LensQualityDialog *self, gboolean paths) {
  GStrvBuilder *b = g_strv_builder_new();
  for (GtkWidget *w = gtk_widget_get_first_child(self->models_box); w; w = gtk_widget_get_next_sibling(w)) {
    GtkCheckButton *c = model_check(w);
    if (gtk_check_button_get_active(c)) g_strv_builder_add(b, g_object_get_data(G_OBJECT(c), paths ? "path" : "name"));
  }
  char **out = g_strv_builder_end(b);
  g_strv_builder_unref(b);
  return out;
}

static void update_buttons(LensQualityDialog *self) {
  gboolean running = self->job != NULL;
  g_auto(GStrv) models = checked_models(self, FALSE);
  guint n = g_strv_length(models);
  gtk_widget_set_sensitive(self->compute, !running && self->source && self->reference && n >= 1 && n <= QUALITY_MAX_MODELS);
  gtk_widget_set_sensitive(self->cancel_button, running);
  gtk_widget_set_sensitive(self->export_button, self->shown != NULL);
  gtk_widget_set_sensitive(self->models_box, !running);
  if (!running && n > QUALITY_MAX_MODELS) {
    g_autofree char *text = g_strdup_printf("Choose at most %d models.", QUALITY_MAX_MODELS);
    set_status(self, text);
  }
}

static void show_file(GtkWidget *label, const char *path) {
  g_autofree char *base = path ? g_path_get_basename(path) : NULL;
  gtk_label_set_text(GTK_LABEL(label), base ? base : "(none chosen)");
  gtk_widget_set_tooltip_text(label, path);
}

void lens_quality_dialog_set_files(LensQualityDialog *self, const char *source, const char *reference) {
  g_return_if_fail(LENS_IS_QUALITY_DIALOG(self));
  g_free(self->source), g_free(self->reference);
  self->source = g_strdup(source), self->reference = g_strdup(reference);
  show_file(self->source_label, source);
  show_file(self->reference_label, reference);
  update_buttons(self);
}

/* The progress bar, ten times a second while a job runs. */
static gboolean poll_progress(gpointer data) {
  LensQualityDialog *self = data;
  if (!self->job) return G_SOURCE_CONTINUE;
  int m = g_atomic_int_get(&self->job->model), total = g_atomic_int_get(&self->job->total);
  int done = g_atomic_int_get(&self->job->done), n = (int)g_strv_length(self->job->names);
  gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(self->progress), lens_quality_dialog_get_progress(self));
  g_autofree char *text = total ? g_strdup_printf("%s: %d of %d sentences (model %d of %d)", self->job->names[m], done,
                                                  total, m + 1, n)
                                : g_strdup("Reading the test set…");
  gtk_progress_bar_set_text(GTK_PROGRESS_BAR(self->progress), text);
  return G_SOURCE_CONTINUE;
}

static void on_done(GObject *source, GAsyncResult *result, gpointer data) {
  LensQualityDialog *self = LENS_QUALITY_DIALOG(source);
  QualityJob *job = g_task_get_task_data(G_TASK(result));
  g_autoptr(GError) error = NULL;
  g_clear_handle_id(&self->poll_id, g_source_remove);
  self->job = NULL;
  if (self->disposed) return;
  gtk_progress_bar_set_text(GTK_PROGRESS_BAR(self->progress), NULL);
  if (g_task_propagate_boolean(G_TASK(result), &error)) {
    g_free(self->shown); /* the chart's texts move with it */
    self->shown = g_memdup2(&job->result, sizeof job->result);
    memset(&job->result, 0, sizeof job->result);
    self->shown->chart.series = self->shown->series; /* pointers into the moved struct */
    for (int m = 0; m < self->shown->n_models; m++) self->shown->series[m].y = self->shown->y[m];
    self->shown->chart.x_ticks = (const char *const *)self->shown->ticks;
    GString *s = g_string_new(NULL);
    g_string_printf(s, "BLEU over all %d sentences: ", (int)g_atomic_int_get(&job->total));
    for (int m = 0; m < self->shown->n_models; m++)
      g_string_append_printf(s, "%s%s %.2f", m ? " · " : "", self->shown->display[m], bleu_score(&self->shown->all[m]));
    set_status(self, s->str);
    g_string_free(s, TRUE);
    gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(self->progress), 1.0);
  } else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    set_status(self, "Cancelled.");
  } else {
    set_status(self, error->message);
  }
  gtk_widget_queue_draw(self->area);
  update_buttons(self);
}

void lens_quality_dialog_start(LensQualityDialog *self) {
  g_return_if_fail(LENS_IS_QUALITY_DIALOG(self));
  if (self->job || !gtk_widget_get_sensitive(self->compute)) return;
  QualityJob *job = g_new0(QualityJob, 1);
  job->dirs = checked_models(self, TRUE), job->names = checked_models(self, FALSE);
  job->source = g_strdup(self->source), job->reference = g_strdup(self->reference);
  job->limit = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(self->limit_spin));
  g_clear_object(&self->cancellable);
  self->cancellable = g_cancellable_new();
  self->job = job;
  GTask *task = g_task_new(self, self->cancellable, on_done, NULL);
  g_task_set_task_data(task, job, job_free);
  g_task_run_in_thread(task, quality_thread);
  g_object_unref(task);
  gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(self->progress), 0.0);
  set_status(self, "Translating the test set with each model…");
  self->poll_id = g_timeout_add(100, poll_progress, self);
  poll_progress(self);
  update_buttons(self);
}

void lens_quality_dialog_cancel(LensQualityDialog *self) {
  g_return_if_fail(LENS_IS_QUALITY_DIALOG(self));
  if (self->cancellable) g_cancellable_cancel(self->cancellable);
}

gboolean lens_quality_dialog_is_running(LensQualityDialog *self) { return self->job != NULL; }

double lens_quality_dialog_get_progress(LensQualityDialog *self) {
  if (!self->job) return self->shown ? 1.0 : 0.0;
  double n = g_strv_length(self->job->names), total = g_atomic_int_get(&self->job->total);
  if (!(total > 0)) return 0.0;
  return (g_atomic_int_get(&self->job->model) + g_atomic_int_get(&self->job->done) / total) / n;
}

const LensChart *lens_quality_dialog_get_chart(LensQualityDialog *self) { return self->shown ? &self->shown->chart : NULL; }
const char *lens_quality_dialog_get_status(LensQualityDialog *self) { return gtk_label_get_text(GTK_LABEL(self->status)); }
const char *lens_quality_dialog_get_note(LensQualityDialog *self) { return gtk_label_get_text(GTK_LABEL(self->note)); }
GtkWidget *lens_quality_dialog_get_chart_area(LensQualityDialog *self) { return self->area; }

void lens_quality_dialog_set_limit(LensQualityDialog *self, int n) {
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->limit_spin), n);
}

gboolean lens_quality_dialog_set_models(LensQualityDialog *self, const char *const *names) {
  guint found = 0;
  for (GtkWidget *w = gtk_widget_get_first_child(self->models_box); w; w = gtk_widget_get_next_sibling(w)) {
    GtkCheckButton *c = model_check(w);
    gboolean on = g_strv_contains(names, g_object_get_data(G_OBJECT(c), "name"));
    gtk_check_button_set_active(c, on);
    found += on;
  }
  update_buttons(self);
  return found == g_strv_length((char **)names);
}

gboolean lens_quality_dialog_export(LensQualityDialog *self, const char *path, double scale, GError **error) {
  attn_error err = {0};
  if (!self->shown) {
    g_set_error_literal(error, LENS_ERROR, ATTN_E_ARG, "There is no chart yet: compute it first.");
    return FALSE;
  }
  if (lens_chart_export(&self->shown->chart, path, scale, &err) != ATTN_OK) {
    g_set_error(error, LENS_ERROR, err.code, "%s", err.message);
    return FALSE;
  }
  return TRUE;
}

/* ---- the chart ---- */

static void draw_chart(GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data) {
  LensQualityDialog *self = data;
  attn_error err = {0};
  if (self->shown) {
    LensChart c = self->shown->chart;
    c.dark = lens_page_theme_is_dark(GTK_WIDGET(area));
    lens_chart_render(cr, &c, width, height, &err);
    return;
  }
  PangoLayout *pl = gtk_widget_create_pango_layout(GTK_WIDGET(area), "Choose models and press Compute.");
  int tw, th;
  pango_layout_get_pixel_size(pl, &tw, &th);
  gboolean dark = lens_page_theme_is_dark(GTK_WIDGET(area));
  cairo_set_source_rgba(cr, dark, dark, dark, 0.55);
  cairo_move_to(cr, (width - tw) / 2.0, (height - th) / 2.0);
  pango_cairo_show_layout(cr, pl);
  g_object_unref(pl);
}

/* ---- files ---- */

static void on_file_chosen(GtkNativeDialog *dialog, int response, gpointer data) {
  LensQualityDialog *self = data;
  if (response == GTK_RESPONSE_ACCEPT) {
    g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
    g_autofree char *path = file ? g_file_get_path(file) : NULL;
    gboolean reference = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(dialog), "reference"));
    if (path && reference) lens_quality_dialog_set_files(self, self->source, path);
    else if (path) lens_quality_dialog_set_files(self, path, self->reference);
  }
  g_object_unref(dialog);
  g_object_unref(self);
}

static void choose_file(LensQualityDialog *self, gboolean reference) {
  GtkFileChooserNative *d = gtk_file_chooser_native_new(reference ? "Reference Translations" : "Source Sentences",
                                                        GTK_WINDOW(self), GTK_FILE_CHOOSER_ACTION_OPEN, "_Open", "_Cancel");
  g_object_set_data(G_OBJECT(d), "reference", GINT_TO_POINTER(reference));
  g_signal_connect(d, "response", G_CALLBACK(on_file_chosen), g_object_ref(self));
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

static void on_choose_source(GtkButton *b, gpointer data) { choose_file(data, FALSE); }
static void on_choose_reference(GtkButton *b, gpointer data) { choose_file(data, TRUE); }

static void on_export_chosen(GtkNativeDialog *dialog, int response, gpointer data) {
  LensQualityDialog *self = data;
  if (response == GTK_RESPONSE_ACCEPT) {
    g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
    g_autofree char *raw = file ? g_file_get_path(file) : NULL;
    g_autofree char *path = raw ? lens_page_export_path(raw) : NULL;
    g_autoptr(GError) error = NULL;
    if (path && lens_quality_dialog_export(self, path, 2.0, &error)) {
      g_autofree char *base = g_path_get_basename(path), *text = g_strdup_printf("Saved %s", base);
      set_status(self, text);
    } else if (path) {
      set_status(self, error->message);
    }
  }
  g_object_unref(dialog);
  g_object_unref(self);
}

static void on_export(GtkButton *b, gpointer data) {
  LensQualityDialog *self = data;
  GtkFileChooserNative *d =
      gtk_file_chooser_native_new("Export Chart", GTK_WINDOW(self), GTK_FILE_CHOOSER_ACTION_SAVE, "_Export", "_Cancel");
  gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(d), "bleu-by-length.png");
  g_signal_connect(d, "response", G_CALLBACK(on_export_chosen), g_object_ref(self));
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

static void on_compute(GtkButton *b, gpointer data) { lens_quality_dialog_start(data); }
static void on_cancel(GtkButton *b, gpointer data) { lens_quality_dialog_cancel(data); }
static void on_model_toggled(GtkCheckButton *b, gpointer data) { update_buttons(data); }

/* ---- building ---- */

/* config.json says "attention": "none" (the encoder-decoder without attention). */
static gboolean without_attention(const char *dir) {
  g_autofree char *path = g_build_filename(dir, "config.json", NULL), *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, NULL)) return FALSE;
  cJSON *cfg = cJSON_Parse(text);
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(cfg, "attention");
  gboolean none = cJSON_IsString(a) && g_strcmp0(a->valuestring, "none") == 0;
  cJSON_Delete(cfg);
  return none;
}

static void add_models(LensQualityDialog *self) {
  const LensModelEntry *current = lens_page_get_selected_model(self->page);
  gboolean reference_model = FALSE;
  for (guint i = 0; i < lens_page_get_n_models(self->page); i++)
    reference_model = reference_model || g_strcmp0(lens_page_get_model_entry(self->page, i)->name, "rnn-attn-en-de") == 0;
  for (guint i = 0; i < lens_page_get_n_models(self->page); i++) {
    const LensModelEntry *e = lens_page_get_model_entry(self->page, i);
    GtkWidget *check = gtk_check_button_new_with_label(e->name);
    gtk_widget_set_tooltip_text(check, e->display_name);
    g_object_set_data_full(G_OBJECT(check), "name", g_strdup(e->name), g_free);
    g_object_set_data_full(G_OBJECT(check), "path", g_strdup(e->path), g_free);
    gboolean on = g_strcmp0(e->name, "rnn-attn-en-de") == 0 || without_attention(e->path) ||
                  (!reference_model && current && g_strcmp0(current->path, e->path) == 0);
    gtk_check_button_set_active(GTK_CHECK_BUTTON(check), on);
    g_signal_connect(check, "toggled", G_CALLBACK(on_model_toggled), self);
    gtk_flow_box_append(GTK_FLOW_BOX(self->models_box), check);
  }
}

static GtkWidget *row(const char *title) {
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *l = gtk_label_new(title);
  gtk_widget_add_css_class(l, "heading");
  gtk_box_append(GTK_BOX(box), l);
  return box;
}

static GtkWidget *button(const char *label, GCallback cb, gpointer self) {
  GtkWidget *b = gtk_button_new_with_label(label);
  g_signal_connect(b, "clicked", cb, self);
  return b;
}

static void build_inputs(LensQualityDialog *self, GtkWidget *box) {
  GtkWidget *models = row("Models");
  self->models_box = gtk_flow_box_new();
  gtk_flow_box_set_selection_mode(GTK_FLOW_BOX(self->models_box), GTK_SELECTION_NONE);
  gtk_widget_set_hexpand(self->models_box, TRUE);
  gtk_box_append(GTK_BOX(models), self->models_box);
  gtk_box_append(GTK_BOX(box), models);
  GtkWidget *files = row("Test set");
  self->source_label = gtk_label_new(NULL);
  self->reference_label = gtk_label_new(NULL);
  gtk_box_append(GTK_BOX(files), gtk_label_new("source"));
  gtk_box_append(GTK_BOX(files), self->source_label);
  gtk_box_append(GTK_BOX(files), button("Choose…", G_CALLBACK(on_choose_source), self));
  gtk_box_append(GTK_BOX(files), gtk_label_new("reference"));
  gtk_box_append(GTK_BOX(files), self->reference_label);
  gtk_box_append(GTK_BOX(files), button("Choose…", G_CALLBACK(on_choose_reference), self));
  gtk_box_append(GTK_BOX(box), files);
  self->note = gtk_label_new("");
  gtk_label_set_wrap(GTK_LABEL(self->note), TRUE);
  gtk_label_set_xalign(GTK_LABEL(self->note), 0);
  gtk_widget_add_css_class(self->note, "warning");
  gtk_widget_set_visible(self->note, FALSE); /* shown when the test set is missing */
  gtk_box_append(GTK_BOX(box), self->note);
}

static void build_actions(LensQualityDialog *self, GtkWidget *box) {
  GtkWidget *actions = row("Sentences");
  self->limit_spin = gtk_spin_button_new_with_range(0, 1000000, 100);
  gtk_widget_set_tooltip_text(self->limit_spin, "Score only the first N sentences (0: all of them)");
  gtk_box_append(GTK_BOX(actions), self->limit_spin);
  GtkWidget *all = gtk_label_new("(0: all)");
  gtk_widget_add_css_class(all, "dim-label");
  gtk_box_append(GTK_BOX(actions), all);
  self->compute = button("Compute", G_CALLBACK(on_compute), self);
  gtk_widget_add_css_class(self->compute, "suggested-action");
  self->cancel_button = button("Cancel", G_CALLBACK(on_cancel), self);
  self->export_button = button("Export…", G_CALLBACK(on_export), self);
  gtk_widget_set_tooltip_text(self->export_button, "Save the chart as PNG, SVG or PDF");
  gtk_box_append(GTK_BOX(actions), self->compute);
  gtk_box_append(GTK_BOX(actions), self->cancel_button);
  gtk_box_append(GTK_BOX(actions), self->export_button);
  gtk_box_append(GTK_BOX(box), actions);
  self->progress = gtk_progress_bar_new();
  gtk_progress_bar_set_show_text(GTK_PROGRESS_BAR(self->progress), TRUE);
  gtk_box_append(GTK_BOX(box), self->progress);
}

static void lens_quality_dialog_init(LensQualityDialog *self) {
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 10);
  lens_page_init_box(GTK_BOX(box));
  build_inputs(self, box);
  build_actions(self, box);
  double w, h;
  lens_chart_size(NULL, &w, &h);
  self->area = gtk_drawing_area_new();
  gtk_drawing_area_set_content_width(GTK_DRAWING_AREA(self->area), (int)w);
  gtk_drawing_area_set_content_height(GTK_DRAWING_AREA(self->area), (int)h);
  gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(self->area), draw_chart, self, NULL);
  gtk_widget_set_vexpand(self->area, TRUE);
  gtk_box_append(GTK_BOX(box), self->area);
  self->status = gtk_label_new("");
  gtk_label_set_wrap(GTK_LABEL(self->status), TRUE);
  gtk_label_set_xalign(GTK_LABEL(self->status), 0);
  gtk_label_set_selectable(GTK_LABEL(self->status), TRUE);
  gtk_box_append(GTK_BOX(box), self->status);
  gtk_window_set_child(GTK_WINDOW(self), box);
  gtk_window_set_title(GTK_WINDOW(self), "Quality by Sentence Length");
  gtk_window_set_default_size(GTK_WINDOW(self), 820, 720);
}

static void lens_quality_dialog_dispose(GObject *object) {
  LensQualityDialog *self = LENS_QUALITY_DIALOG(object);
  self->disposed = TRUE;
  if (self->cancellable) g_cancellable_cancel(self->cancellable);
  g_clear_handle_id(&self->poll_id, g_source_remove);
  G_OBJECT_CLASS(lens_quality_dialog_parent_class)->dispose(object);
}

static void lens_quality_dialog_finalize(GObject *object) {
  LensQualityDialog *self = LENS_QUALITY_DIALOG(object);
  g_clear_object(&self->cancellable);
  g_clear_object(&self->page);
  if (self->shown) quality_clear(self->shown);
  g_free(self->shown);
  g_free(self->source), g_free(self->reference);
  G_OBJECT_CLASS(lens_quality_dialog_parent_class)->finalize(object);
}

static void lens_quality_dialog_class_init(LensQualityDialogClass *klass) {
  G_OBJECT_CLASS(klass)->dispose = lens_quality_dialog_dispose;
  G_OBJECT_CLASS(klass)->finalize = lens_quality_dialog_finalize;
}

/* The shipped test set, or a note that asks for files. */
static void default_files(LensQualityDialog *self) {
  g_autofree char *src = quality_default_file("en"), *ref = quality_default_file("de");
  if (g_file_test(src, G_FILE_TEST_IS_REGULAR) && g_file_test(ref, G_FILE_TEST_IS_REGULAR)) {
    lens_quality_dialog_set_files(self, src, ref);
    return;
  }
  g_autofree char *dir = g_path_get_dirname(src);
  g_autofree char *text = g_strdup_printf("The Multi30k test set (test_2016_flickr.en.gz and .de.gz) was not found in "
                                          "%s. Choose a source file and its reference translations: one sentence per "
                                          "line, the same number of lines (.gz is read as gzip).", dir);
  gtk_label_set_text(GTK_LABEL(self->note), text);
  gtk_widget_set_visible(self->note, TRUE);
  lens_quality_dialog_set_files(self, NULL, NULL);
}

LensQualityDialog *lens_quality_dialog_new(GtkWindow *parent, LensPage *page) {
  LensQualityDialog *self = g_object_new(LENS_TYPE_QUALITY_DIALOG, "transient-for", parent, NULL);
  self->page = g_object_ref(page);
  add_models(self);
  default_files(self);
  update_buttons(self);
  return self;
}
