/* Pieces every page (Translate, Read, Caption) and the window build the same way: the live loop,
 * the delayed spinner, small builders, export and the clipboard picture. */
#ifndef LENS_PAGE_UTIL_H
#define LENS_PAGE_UTIL_H

#include <gtk/gtk.h>

#include "attn_trace.h"
#include "lens_models.h"
#include "lens_render.h"

G_BEGIN_DECLS

/* A trace's warnings, one per line; NULL when there are none (or no trace). Caller frees. */
char *lens_page_join_warnings(const attn_trace *t);

/* A spinner that appears only when work lasts longer than a moment. */
typedef struct LensPageSpinner {
  GtkWidget *widget;
  guint timeout_id;
} LensPageSpinner;
/* Creates the (hidden) spinner widget in s->widget. */
void lens_page_spinner_init(LensPageSpinner *s);
void lens_page_spinner_set_busy(LensPageSpinner *s, gboolean busy);
/* Removes a pending timeout (dispose). */
void lens_page_spinner_clear(LensPageSpinner *s);

/* Runs fn(task_data) on a worker thread for page (the GTask's source object); done runs on
 * the main thread with done_data. task_data is freed with free_task_data. */
void lens_page_run_in_thread(gpointer page, GCancellable *cancellable, GAsyncReadyCallback done, gpointer done_data,
                             gpointer task_data, GDestroyNotify free_task_data, GTaskThreadFunc fn);

/* The live loop of a page: an edit (re)starts a short timer; when it fires, the page starts a
 * job on a worker with the model and a copy of its input, cancelling the job before; only the
 * newest job's result reaches the page. Embedded in the page (which a running job keeps alive). */
/* In the worker: the trace for input, or NULL with err set. */
typedef attn_trace *(*LensRunnerWork)(gpointer model, gpointer input, attn_error *err);
/* On the main thread, for the newest job only: its trace (now the page's; NULL with error),
 * its input and the model's own time. */
typedef void (*LensRunnerDone)(gpointer page, attn_trace *t, const GError *error, gpointer input, double model_ms);
typedef struct LensRunner {
  gpointer page;
  void (*start)(gpointer page);        /* the timer fired: the page submits a job, or shows why not */
  void (*busy_changed)(gpointer page); /* a job started or ended */
  LensRunnerWork work;
  LensRunnerDone done;
  GDestroyNotify input_free;
  GCancellable *cancellable;
  guint64 generation;
  guint timer;
  gint64 edit_time; /* of the last edit, monotonic microseconds */
  guint delay_ms;   /* of the last schedule */
  int running;
} LensRunner;
void lens_runner_init(LensRunner *r, gpointer page, void (*start)(gpointer), void (*busy_changed)(gpointer),
                      LensRunnerWork work, GDestroyNotify input_free, LensRunnerDone done);
/* An edit: start() after delay_ms without another. */
void lens_runner_schedule(LensRunner *r, guint delay_ms);
/* What runs is stale now: cancel it; its result will be dropped. */
void lens_runner_supersede(LensRunner *r);
/* Supersedes, then runs work(model, input) on a worker; takes input, holds a model reference. */
void lens_runner_submit(LensRunner *r, LensModelRef *model, gpointer input);
/* A job running or an edit waiting for its timer. */
gboolean lens_runner_busy(const LensRunner *r);
/* The readout beside a result: the model's own time (measured in the worker) and what ran
 * (what: "greedy", "" for nothing more, NULL clears it); its tooltip adds the time since the
 * last edit, which includes the timer's delay and any loading. */
void lens_runner_show_timing(const LensRunner *r, GtkWidget *status, const char *what, double model_ms);
/* Removes the timer and supersedes the job (dispose): its result is dropped. */
void lens_runner_dispose(LensRunner *r);

/* An export path as the user typed it, with ".png" added unless it ends in .png, .svg or .pdf. */
char *lens_page_export_path(const char *path);

/* A label before a control, in a row. */
GtkWidget *lens_page_labelled(const char *label, GtkWidget *w);
/* A drop-down over a new string list of items (may be NULL); *model receives the list if asked. */
GtkWidget *lens_page_dropdown(GtkStringList **model, const char *const *items);
/* The same (empty), its button ellipsizing the chosen item at max_chars characters while the
 * list shows each item whole: for items as long as a sentence, which would widen a toolbar. */
GtkWidget *lens_page_dropdown_short(GtkStringList **model, int max_chars);
/* The vertical box, spacing and margins every page has. */
void lens_page_init_box(GtkBox *page);
gboolean lens_page_is_blank(const char *text);
/* Light text on the theme means a dark background: drawings follow it. */
gboolean lens_page_theme_is_dark(GtkWidget *widget);

/* A snapshot of what a page shows, to export off the main thread: the trace, the options
 * (title and image copied) in the light style used for paper and slides. */
typedef struct LensExportJob LensExportJob;
/* Snapshots t and o; NULL with empty_message as the error when there is nothing to export,
 * or with a message when memory runs out. */
LensExportJob *lens_export_job_new(const attn_trace *t, const LensRenderOptions *o, const char *empty_message,
                                   GError **error);
void lens_export_job_free(LensExportJob *job);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LensExportJob, lens_export_job_free)
/* Writes the picture to path (PNG/SVG/PDF by extension) now, on this thread: PNG and SVG at the
 * view's zoom, a PDF fit to an A4 page when it is larger. */
gboolean lens_export_job_run(const LensExportJob *job, const char *path, double scale, GError **error);
/* The same on a worker thread; takes job. done runs on the main thread; its result is read
 * with lens_export_job_finish. A file appears only once complete (see lens_export). */
void lens_export_job_run_async(LensExportJob *job, const char *path, double scale, GCancellable *cancellable,
                               GAsyncReadyCallback done, gpointer done_data);
/* TRUE when the export succeeded; *path_out (if asked) receives the path written. */
gboolean lens_export_job_finish(GAsyncResult *result, char **path_out, GError **error);
/* The job's picture drawn now at scale, for the clipboard. */
GdkTexture *lens_export_job_texture(const LensExportJob *job, double scale);

G_END_DECLS

#endif
