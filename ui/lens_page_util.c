/* Pieces every page and the window build the same way (see lens_page_util.h). */
#include "lens_page_util.h"

#include <math.h>

#include "lens_models.h"

#define SPINNER_DELAY_MS 150

char *lens_page_join_warnings(const attn_trace *t) {
  if (!t || t->n_warnings == 0) return NULL;
  GString *joined = g_string_new(NULL); /* trace->warnings is counted, not NULL-terminated */
  for (int i = 0; i < t->n_warnings; i++) g_string_append_printf(joined, "%s%s", i ? "\n" : "", t->warnings[i]);
  return g_string_free(joined, FALSE);
}

static void show_timing(GtkWidget *status, const char *what, double model_ms, gint64 edit_time, int debounce_ms) {
  if (!what) {
    gtk_label_set_text(GTK_LABEL(status), "");
    gtk_widget_set_tooltip_text(status, NULL);
    return;
  }
  double since_edit = (g_get_monotonic_time() - edit_time) / 1000.0;
  int decimals = model_ms < 10 ? 1 : 0; /* a memory network answers in a fraction of a millisecond */
  g_autofree char *text = *what ? g_strdup_printf("%.*f ms · %s", decimals, model_ms, what)
                                : g_strdup_printf("%.*f ms", decimals, model_ms);
  g_autofree char *tip = g_strdup_printf("The model took %.1f ms; %.0f ms passed since the last edit (including the "
                                         "%d ms pause that waits for typing to stop, and at start the model's loading).",
                                         model_ms, since_edit, debounce_ms);
  gtk_label_set_text(GTK_LABEL(status), text);
  gtk_widget_set_tooltip_text(status, tip);
}

/* ---- the spinner ---- */

void lens_page_spinner_init(LensPageSpinner *s) {
  s->widget = gtk_spinner_new();
  s->timeout_id = 0;
  gtk_widget_set_visible(s->widget, FALSE);
}

static void set_spinning(LensPageSpinner *s, gboolean on) {
  gtk_widget_set_visible(s->widget, on);
  gtk_spinner_set_spinning(GTK_SPINNER(s->widget), on);
}

static gboolean spinner_timeout(gpointer data) {
  LensPageSpinner *s = data;
  s->timeout_id = 0;
  set_spinning(s, TRUE);
  return G_SOURCE_REMOVE;
}

void lens_page_spinner_set_busy(LensPageSpinner *s, gboolean busy) {
  if (busy && !s->timeout_id && !gtk_widget_get_visible(s->widget))
    s->timeout_id = g_timeout_add(SPINNER_DELAY_MS, spinner_timeout, s);
  if (!busy) {
    g_clear_handle_id(&s->timeout_id, g_source_remove);
    set_spinning(s, FALSE);
  }
}

void lens_page_spinner_clear(LensPageSpinner *s) { g_clear_handle_id(&s->timeout_id, g_source_remove); }

/* ---- workers ---- */

void lens_page_run_in_thread(gpointer page, GCancellable *cancellable, GAsyncReadyCallback done, gpointer done_data,
                             gpointer task_data, GDestroyNotify free_task_data, GTaskThreadFunc fn) {
  GTask *task = g_task_new(page, cancellable, done, done_data);
  g_task_set_task_data(task, task_data, free_task_data);
  g_task_run_in_thread(task, fn);
  g_object_unref(task);
}

static gboolean task_superseded(GTask *task, GCancellable *cancellable) {
  if (!g_cancellable_is_cancelled(cancellable)) return FALSE;
  g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "superseded");
  return TRUE;
}

/* ---- the live loop ---- */

typedef struct runner_job {
  LensModelRef *model;
  gpointer input;
  GDestroyNotify input_free;
  LensRunnerWork work;
  guint64 generation;
  double model_ms; /* measured in the worker */
} runner_job;

static void runner_job_free(gpointer data) {
  runner_job *j = data;
  lens_model_ref_release(j->model);
  if (j->input_free) j->input_free(j->input);
  g_free(j);
}

void lens_runner_init(LensRunner *r, gpointer page, void (*start)(gpointer), void (*busy_changed)(gpointer),
                      LensRunnerWork work, GDestroyNotify input_free, LensRunnerDone done) {
  *r = (LensRunner){.page = page, .start = start, .busy_changed = busy_changed, .work = work, .done = done,
                    .input_free = input_free};
}

static gboolean runner_timer_fired(gpointer data) {
  LensRunner *r = data;
  r->timer = 0;
  r->start(r->page);
  return G_SOURCE_REMOVE;
}

void lens_runner_schedule(LensRunner *r, guint delay_ms) {
  r->edit_time = g_get_monotonic_time();
  r->delay_ms = delay_ms;
  g_clear_handle_id(&r->timer, g_source_remove);
  r->timer = g_timeout_add(delay_ms, runner_timer_fired, r);
}

void lens_runner_supersede(LensRunner *r) {
  r->generation++;
  g_cancellable_cancel(r->cancellable);
  g_clear_object(&r->cancellable);
}

static void runner_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable) {
  runner_job *j = data;
  if (task_superseded(task, cancellable)) return;
  attn_error err = {0};
  gint64 t0 = g_get_monotonic_time();
  attn_trace *t = j->work(lens_model_ref_get(j->model), j->input, &err);
  j->model_ms = (g_get_monotonic_time() - t0) / 1000.0;
  if (t) g_task_return_pointer(task, t, (GDestroyNotify)attn_trace_free);
  else g_task_return_new_error(task, LENS_ERROR, err.code, "%s", err.message);
}

static void runner_job_done(GObject *source, GAsyncResult *result, gpointer data) {
  LensRunner *r = data; /* inside the page, which the task kept alive */
  runner_job *j = g_task_get_task_data(G_TASK(result));
  g_autoptr(GError) error = NULL;
  attn_trace *t = g_task_propagate_pointer(G_TASK(result), &error);
  r->running--;
  r->busy_changed(r->page);
  if (j->generation != r->generation) { /* a newer edit is on its way */
    attn_trace_free(t);
    return;
  }
  r->done(r->page, t, error, j->input, j->model_ms);
}

void lens_runner_submit(LensRunner *r, LensModelRef *model, gpointer input) {
  lens_runner_supersede(r);
  r->cancellable = g_cancellable_new();
  runner_job *j = g_new0(runner_job, 1);
  j->model = lens_model_ref_acquire(model);
  j->input = input;
  j->input_free = r->input_free;
  j->work = r->work;
  j->generation = r->generation;
  r->running++;
  r->busy_changed(r->page);
  lens_page_run_in_thread(r->page, r->cancellable, runner_job_done, r, j, runner_job_free, runner_thread);
}

gboolean lens_runner_busy(const LensRunner *r) { return r->running > 0 || r->timer != 0; }

void lens_runner_show_timing(const LensRunner *r, GtkWidget *status, const char *what, double model_ms) {
  show_timing(status, what, model_ms, r->edit_time, (int)r->delay_ms);
}

void lens_runner_dispose(LensRunner *r) {
  g_clear_handle_id(&r->timer, g_source_remove);
  lens_runner_supersede(r); /* a job still running ends without touching the page's widgets */
}

/* ---- small builders ---- */

char *lens_page_export_path(const char *path) {
  const char *dot = strrchr(path, '.');
  if (dot && (g_ascii_strcasecmp(dot, ".png") == 0 || g_ascii_strcasecmp(dot, ".svg") == 0 || g_ascii_strcasecmp(dot, ".pdf") == 0))
    return g_strdup(path);
  return g_strconcat(path, ".png", NULL);
}

GtkWidget *lens_page_labelled(const char *label, GtkWidget *w) {
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_append(GTK_BOX(box), gtk_label_new(label));
  gtk_box_append(GTK_BOX(box), w);
  return box;
}

GtkWidget *lens_page_dropdown(GtkStringList **model, const char *const *items) {
  GtkStringList *list = gtk_string_list_new(items);
  if (model) *model = list;
  return gtk_drop_down_new(G_LIST_MODEL(list), NULL);
}

static void setup_short_label(GtkSignalListItemFactory *f, GtkListItem *item, gpointer chars) {
  GtkWidget *label = gtk_label_new("");
  gtk_label_set_xalign(GTK_LABEL(label), 0);
  if (GPOINTER_TO_INT(chars) > 0) {
    gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
    gtk_label_set_max_width_chars(GTK_LABEL(label), GPOINTER_TO_INT(chars));
    gtk_label_set_width_chars(GTK_LABEL(label), GPOINTER_TO_INT(chars)); /* not shrunk to "1 · …" */
  }
  gtk_list_item_set_child(item, label);
}

static void bind_short_label(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data) {
  gtk_label_set_text(GTK_LABEL(gtk_list_item_get_child(item)),
                     gtk_string_object_get_string(GTK_STRING_OBJECT(gtk_list_item_get_item(item))));
}

static GtkListItemFactory *label_factory(int max_chars) {
  GtkListItemFactory *f = gtk_signal_list_item_factory_new();
  g_signal_connect(f, "setup", G_CALLBACK(setup_short_label), GINT_TO_POINTER(max_chars));
  g_signal_connect(f, "bind", G_CALLBACK(bind_short_label), NULL);
  return f;
}

GtkWidget *lens_page_dropdown_short(GtkStringList **model, int max_chars) {
  GtkWidget *d = lens_page_dropdown(model, NULL);
  GtkListItemFactory *button = label_factory(max_chars), *list = label_factory(0);
  gtk_drop_down_set_factory(GTK_DROP_DOWN(d), button);
  gtk_drop_down_set_list_factory(GTK_DROP_DOWN(d), list);
  g_object_unref(button), g_object_unref(list);
  return d;
}

void lens_page_init_box(GtkBox *page) {
  gtk_orientable_set_orientation(GTK_ORIENTABLE(page), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing(page, 8);
  gtk_widget_set_margin_start(GTK_WIDGET(page), 12);
  gtk_widget_set_margin_end(GTK_WIDGET(page), 12);
  gtk_widget_set_margin_top(GTK_WIDGET(page), 8);
  gtk_widget_set_margin_bottom(GTK_WIDGET(page), 8);
}

gboolean lens_page_is_blank(const char *text) {
  for (const char *p = text; *p; p++)
    if (!g_ascii_isspace(*p)) return FALSE;
  return TRUE;
}

gboolean lens_page_theme_is_dark(GtkWidget *widget) {
  GdkRGBA fg;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color(gtk_widget_get_style_context(widget), &fg);
  G_GNUC_END_IGNORE_DEPRECATIONS
  return 0.2126 * fg.red + 0.7152 * fg.green + 0.0722 * fg.blue > 0.5;
}

/* ---- export and the clipboard ---- */

struct LensExportJob {
  attn_trace *trace;
  LensRenderOptions options;
  char *title;
  unsigned char *pixels; /* the caption image, copied */
  LensImage image;
  char *path;
  double scale;
  attn_trace *compare;              /* the second model's trace (compare mode), copied */
  LensRenderOptions compare_options;
  char *compare_title;
};

void lens_export_job_free(LensExportJob *job) {
  if (!job) return;
  attn_trace_free(job->trace), attn_trace_free(job->compare);
  g_free(job->title), g_free(job->pixels), g_free(job->path), g_free(job->compare_title);
  g_free(job);
}

LensExportJob *lens_export_job_new(const attn_trace *t, const LensRenderOptions *o, const char *empty_message,
                                   GError **error) {
  if (!lens_render_has_picture(t)) {
    g_set_error_literal(error, LENS_ERROR, ATTN_E_ARG, empty_message);
    return NULL;
  }
  LensExportJob *job = g_new0(LensExportJob, 1);
  job->trace = attn_trace_select_hypothesis(t, 0); /* a deep copy of what is drawn */
  if (!job->trace) {
    lens_export_job_free(job);
    g_set_error_literal(error, LENS_ERROR, ATTN_E_NOMEM, "Out of memory while preparing the export.");
    return NULL;
  }
  job->options = *o;
  job->options.dark = 0; /* paper and slides: always the light style */
  job->options.title = job->title = g_strdup(o->title);
  job->options.compare = NULL, job->options.compare_options = NULL;
  if (o->compare && o->compare_options && lens_render_has_picture(o->compare) &&
      (job->compare = attn_trace_select_hypothesis(o->compare, 0))) {
    job->compare_options = *o->compare_options;
    job->compare_options.title = job->compare_title = g_strdup(o->compare_options->title);
    job->compare_options.image = NULL, job->compare_options.compare = NULL;
    job->options.compare = job->compare;
    job->options.compare_options = &job->compare_options;
  }
  if (o->image && o->image->data) {
    job->image = *o->image;
    job->pixels = g_memdup2(o->image->data, (gsize)o->image->stride * (gsize)o->image->height);
    job->image.data = job->pixels;
    job->options.image = &job->image;
  }
  return job;
}

/* A PDF is for printing: a picture larger than an A4 page (either way round) shrinks to fit it;
 * PNG and SVG keep the view's zoom. */
static void fit_pdf_page(const LensExportJob *job, const char *path, LensRenderOptions *o, LensRenderOptions *cmp) {
  if (!g_str_has_suffix(path, ".pdf") && !g_str_has_suffix(path, ".PDF")) return;
  const double a4_w = 595.0, a4_h = 842.0; /* points */
  double w, h;
  o->zoom = cmp->zoom = 1.0;
  lens_render_size(job->trace, o, &w, &h);
  double k = fmax(fmin(a4_w / w, a4_h / h), fmin(a4_h / w, a4_w / h));
  o->zoom = cmp->zoom = fmin(1.0, k);
}

gboolean lens_export_job_run(const LensExportJob *job, const char *path, double scale, GError **error) {
  attn_error err = {0};
  LensRenderOptions o = job->options, cmp = job->compare_options;
  if (o.compare) o.compare_options = &cmp;
  fit_pdf_page(job, path, &o, &cmp);
  if (lens_export(job->trace, &o, path, scale, &err) != ATTN_OK) {
    g_set_error(error, LENS_ERROR, err.code, "%s", err.message);
    return FALSE;
  }
  return TRUE;
}

static void export_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable) {
  const LensExportJob *job = data;
  GError *error = NULL;
  if (lens_export_job_run(job, job->path, job->scale, &error)) g_task_return_pointer(task, g_strdup(job->path), g_free);
  else g_task_return_error(task, error);
}

void lens_export_job_run_async(LensExportJob *job, const char *path, double scale, GCancellable *cancellable,
                               GAsyncReadyCallback done, gpointer done_data) {
  job->path = g_strdup(path), job->scale = scale;
  GTask *task = g_task_new(NULL, cancellable, done, done_data);
  g_task_set_source_tag(task, lens_export_job_run_async);
  g_task_set_task_data(task, job, (GDestroyNotify)lens_export_job_free);
  g_task_run_in_thread(task, export_thread);
  g_object_unref(task);
}

gboolean lens_export_job_finish(GAsyncResult *result, char **path_out, GError **error) {
  char *path = g_task_propagate_pointer(G_TASK(result), error);
  if (path_out) *path_out = path;
  else g_free(path);
  return path != NULL;
}

GdkTexture *lens_export_job_texture(const LensExportJob *job, double scale) {
  const attn_trace *t = job->trace;
  const LensRenderOptions light = job->options; /* already the light style */
  double w, h;
  lens_render_size(t, &light, &w, &h);
  int pw = (int)(w * scale + 0.5), ph = (int)(h * scale + 0.5);
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, pw, ph);
  cairo_t *cr = cairo_create(s);
  cairo_scale(cr, scale, scale);
  lens_render(cr, t, &light, w, h, NULL);
  cairo_destroy(cr);
  cairo_surface_flush(s);
  GBytes *bytes = g_bytes_new(cairo_image_surface_get_data(s), (gsize)cairo_image_surface_get_stride(s) * ph);
  GdkTexture *tex = gdk_memory_texture_new(pw, ph, GDK_MEMORY_DEFAULT, bytes, (gsize)cairo_image_surface_get_stride(s));
  g_bytes_unref(bytes);
  cairo_surface_destroy(s);
  return tex;
}
