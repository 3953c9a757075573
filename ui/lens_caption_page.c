/* The Caption page: images in (file, drop, paste, examples, Compose), captions out on a worker
 * thread as the Translate page translates, and the overlay or storyboard of where each word
 * looked. */
#include "lens_caption_page.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "attn_caption.h"
#include "lens_image.h"
#include "lens_models.h"
#include "lens_page_util.h"
#include "lens_compose.h"

#define LOAD_SIDE 512     /* opened images are read at most this large */
#define COARSE_GRID 8     /* grids this coarse or coarser default to bicubic upsampling and a blur */
#define DEFAULT_CAPTION_MODEL "caption-photos"

/* ---- models ---- */

static void *load_captioner(const char *path, attn_error *err) { return attn_captioner_load(path, err); }
static void free_captioner(gpointer c) { attn_captioner_free(c); }

struct _LensCaptionPage {
  LensPage parent_instance;
  GtkWidget *example_dropdown, *compose_toggle, *words_box, *status, *credit;
  LensCompose *compose; /* its toolbar, shown in Compose mode */
  GtkWidget *overlay_button, *board_button, *opacity_scale, *upsample_dropdown, *blur_spin, *cmap_dropdown;
  GtkWidget *beam_spin;
  LensTraceView *view;  /* the image with where the words looked; owns the trace */
  GtkStringList *example_names;
  cJSON *examples;      /* scenes.json of the examples folder */
  char *examples_dir;
  cJSON *photos;        /* photos.json of the example photos' folder */
  char *photos_dir;
  guint64 credit_generation; /* the load that shows the photo credited in the credit label */
  char *pending_credit;
  LensRenderOptions options;
  /* the image: pixels in Cairo's layout for drawing, and as floats for the model */
  guchar *argb;
  float *rgb;
  int width, height;
  LensImage image;
  gboolean composing;   /* Compose mode (the toggle follows it; when the user toggles, it leads) */
  int dragging;          /* a Compose shape follows the pointer */
  double drag_x0, drag_y0;
  int pinned_word;      /* the clicked word, -1 for none; hovering shows another for a while */
  guint64 load_generation;
  guint n_results;
  double last_ms;
  int updating;
  gboolean beam_chosen;  /* the user set the beam: a model's own (config num_beams) no longer replaces it */
  gboolean smoothing_chosen; /* the user set upsampling or blur: a model's grid no longer chooses them */
};

G_DEFINE_FINAL_TYPE(LensCaptionPage, lens_caption_page, LENS_TYPE_PAGE)

static void start_captioning(LensPage *page);
static void apply_options(LensCaptionPage *self);
static void show_credit(LensCaptionPage *self, const char *credit);
static const attn_trace *current_trace(LensCaptionPage *self) { return lens_trace_view_get_trace(self->view); }
static void schedule_captioning(LensCaptionPage *self, guint delay_ms) { lens_page_schedule(LENS_PAGE(self), delay_ms); }

/* ---- the image ---- */

/* Takes pixels in Cairo's ARGB32 layout (opaque) as the current image and captions it. */
static void set_pixels(LensCaptionPage *self, const guchar *argb, int w, int h, int stride) {
  g_free(self->argb), g_free(self->rgb);
  self->argb = g_malloc((gsize)w * h * 4);
  self->rgb = g_new(float, (gsize)w * h * 3);
  for (int y = 0; y < h; y++) {
    memcpy(self->argb + (gsize)y * w * 4, argb + (gsize)y * stride, (gsize)w * 4);
    for (int x = 0; x < w; x++) {
      guint32 v;
      memcpy(&v, argb + (gsize)y * stride + 4 * (gsize)x, 4);
      float *p = self->rgb + ((gsize)y * w + x) * 3;
      p[0] = ((v >> 16) & 0xff) / 255.0f, p[1] = ((v >> 8) & 0xff) / 255.0f, p[2] = (v & 0xff) / 255.0f;
    }
  }
  self->width = w, self->height = h;
  self->image = (LensImage){w, h, 4 * w, self->argb};
  apply_options(self);
}

static void set_pixbuf(LensCaptionPage *self, GdkPixbuf *pb) {
  g_autofree guchar *argb = lens_image_argb32(pb);
  int w = gdk_pixbuf_get_width(pb), h = gdk_pixbuf_get_height(pb);
  set_pixels(self, argb, w, h, 4 * w);
  schedule_captioning(self, 0);
}

/* Takes the composed scene as the image. */
static void render_scene(LensCaptionPage *self, guint delay_ms) {
  cairo_surface_t *s = lens_compose_render(self->compose);
  set_pixels(self, cairo_image_surface_get_data(s), LENS_COMPOSE_SIDE, LENS_COMPOSE_SIDE, cairo_image_surface_get_stride(s));
  cairo_surface_destroy(s);
  schedule_captioning(self, delay_ms);
}

/* ---- showing a result ---- */

static void apply_options(LensCaptionPage *self) {
  LensRenderOptions *o = &self->options;
  o->view = gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(self->board_button)) ? LENS_VIEW_STORYBOARD : LENS_VIEW_OVERLAY;
  o->overlay_opacity = gtk_range_get_value(GTK_RANGE(self->opacity_scale));
  o->upsample = (LensUpsample)gtk_drop_down_get_selected(GTK_DROP_DOWN(self->upsample_dropdown));
  o->blur = gtk_spin_button_get_value(GTK_SPIN_BUTTON(self->blur_spin));
  o->colormap = (LensColormap)gtk_drop_down_get_selected(GTK_DROP_DOWN(self->cmap_dropdown));
  o->image = self->argb ? &self->image : NULL;
  lens_trace_view_set_options(self->view, o);
  lens_trace_view_set_placeholder(self->view, !lens_page_get_model_path(LENS_PAGE(self))
                                                  ? "No caption model: train caption-scenes (training/README.md) or open a model folder (Ctrl+O)."
                                              : !self->argb ? "Open, drop or paste an image, pick an example photo or scene, or compose one."
                                                            : "Captioning…");
}

static void show_word(LensCaptionPage *self, int word) {
  int n = current_trace(self) ? current_trace(self)->output.n : 0;
  self->options.highlight_row = word >= 0 && word < n ? word : -1;
  for (int i = 0; i < n; i++) {
    GtkWidget *b = lens_caption_page_get_word_button(self, i);
    if (!b) continue;
    if (i == self->pinned_word) gtk_widget_add_css_class(b, "suggested-action");
    else gtk_widget_remove_css_class(b, "suggested-action");
  }
  lens_trace_view_set_options(self->view, &self->options);
}

static void on_word_clicked(GtkButton *button, gpointer data) {
  LensCaptionPage *self = data;
  int i = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(button), "word"));
  lens_caption_page_select_word(self, self->pinned_word == i ? -1 : i);
}

static void on_word_enter(GtkEventControllerMotion *m, double x, double y, gpointer data) {
  GtkWidget *b = gtk_event_controller_get_widget(GTK_EVENT_CONTROLLER(m));
  show_word(data, GPOINTER_TO_INT(g_object_get_data(G_OBJECT(b), "word")));
}

static void on_word_leave(GtkEventControllerMotion *m, gpointer data) {
  LensCaptionPage *self = data;
  show_word(self, self->pinned_word);
}

/* One button per output token: the word over a bar as long as its beta. */
static GtkWidget *word_button(LensCaptionPage *self, const attn_trace *t, int i) {
  const char *w = t->output.tokens[i];
  float p = t->output.probs ? t->output.probs[i] : 1.0f, beta = t->beta ? t->beta[i] : NAN;
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2), *bar = gtk_level_bar_new_for_interval(0, 1);
  gtk_box_append(GTK_BOX(box), gtk_label_new(w));
  gtk_level_bar_set_value(GTK_LEVEL_BAR(bar), isnan(beta) ? 0 : beta);
  gtk_widget_set_size_request(bar, -1, 4);
  gtk_box_append(GTK_BOX(box), bar);
  GtkWidget *b = gtk_button_new();
  gtk_button_set_child(GTK_BUTTON(b), box);
  gtk_widget_add_css_class(b, "flat");
  gtk_widget_add_css_class(b, "token");
  gtk_widget_set_opacity(b, 0.4 + 0.6 * p);
  g_autofree char *tip = isnan(beta) ? g_strdup_printf("“%s”: probability %.3f", w, (double)p)
                                     : g_strdup_printf("“%s”: probability %.3f · β %.2f (how much this word looked at the "
                                                       "image at all) — hover to see where, click to keep it", w, (double)p, (double)beta);
  gtk_widget_set_tooltip_text(b, tip);
  g_object_set_data(G_OBJECT(b), "word", GINT_TO_POINTER(i));
  g_signal_connect(b, "clicked", G_CALLBACK(on_word_clicked), self);
  GtkEventController *motion = gtk_event_controller_motion_new();
  g_signal_connect(motion, "enter", G_CALLBACK(on_word_enter), self);
  g_signal_connect(motion, "leave", G_CALLBACK(on_word_leave), self);
  gtk_widget_add_controller(b, motion);
  return b;
}

static void fill_words(LensCaptionPage *self) {
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child(self->words_box))) gtk_flow_box_remove(GTK_FLOW_BOX(self->words_box), child);
  const attn_trace *t = current_trace(self);
  for (int i = 0; t && i < t->output.n; i++) gtk_flow_box_append(GTK_FLOW_BOX(self->words_box), word_button(self, t, i));
}

static void set_trace(LensCaptionPage *self, attn_trace *t) {
  lens_trace_view_set_trace(self->view, t);
  if (t && self->pinned_word >= t->output.n) self->pinned_word = -1;
  fill_words(self);
  show_word(self, self->pinned_word);
  apply_options(self);
}

/* ---- the worker ---- */

typedef struct caption_input {
  float *rgb;
  int width, height;
  attn_caption_opts opts;
} caption_input;

static void caption_input_free(gpointer data) {
  caption_input *in = data;
  g_free(in->rgb);
  g_free(in);
}

static attn_trace *caption_in_thread(gpointer captioner, gpointer input, attn_error *err) {
  caption_input *in = input;
  return attn_caption(captioner, in->rgb, in->width, in->height, &in->opts, err);
}

static void captioning_done(LensPage *page, attn_trace *t, const GError *error, gpointer input, double model_ms) {
  LensCaptionPage *self = LENS_CAPTION_PAGE(page);
  const caption_input *in = input;
  self->last_ms = model_ms;
  self->n_results++;
  set_trace(self, t);
  if (!t) lens_page_set_message(LENS_PAGE(self), error->message, GTK_MESSAGE_ERROR);
  else lens_page_show_warnings(LENS_PAGE(self), t);
  lens_page_show_timing(page, self->status, t ? (in->opts.beam > 1 ? "beam search" : "greedy") : NULL,
                          model_ms);
}

static void start_captioning(LensPage *page) {
  LensCaptionPage *self = LENS_CAPTION_PAGE(page);
  lens_page_supersede(page);
  if (!lens_page_get_model(page)) return; /* the model's load finishes and calls us again */
  if (!self->rgb) {
    set_trace(self, NULL);
    return;
  }
  caption_input *in = g_new0(caption_input, 1);
  in->rgb = g_memdup2(self->rgb, (gsize)self->width * self->height * 3 * sizeof(float));
  in->width = self->width, in->height = self->height;
  attn_caption_opts_init(&in->opts);
  in->opts.beam = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(self->beam_spin));
  lens_page_submit(page, in);
}

/* ---- opening images ---- */

static void load_image_in_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable) {
  GError *error = NULL;
  GdkPixbuf *pb = lens_image_load(data, LOAD_SIDE, NULL, NULL, &error);
  if (pb) g_task_return_pointer(task, pb, g_object_unref);
  else g_task_return_error(task, error);
}

static void image_loaded(GObject *source, GAsyncResult *result, gpointer data) {
  LensCaptionPage *self = LENS_CAPTION_PAGE(source);
  guint64 generation = GPOINTER_TO_SIZE(data);
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) pb = g_task_propagate_pointer(G_TASK(result), &error);
  lens_page_hold_busy(LENS_PAGE(self), -1);
  if (generation != self->load_generation) return; /* another image was chosen meanwhile */
  if (!pb) {
    g_autofree char *msg = g_strdup_printf("%s%s", error->message,
                                           self->argb ? "\nThe image shown is still the previous one." : "");
    lens_page_set_message(LENS_PAGE(self), msg, GTK_MESSAGE_ERROR);
    return;
  }
  lens_page_set_message(LENS_PAGE(self), NULL, GTK_MESSAGE_INFO);
  lens_caption_page_set_compose(self, FALSE);
  show_credit(self, generation == self->credit_generation ? self->pending_credit : NULL);
  set_pixbuf(self, pb);
}

void lens_caption_page_open_file(LensCaptionPage *self, const char *path) {
  g_return_if_fail(LENS_IS_CAPTION_PAGE(self));
  self->load_generation++;
  lens_page_hold_busy(LENS_PAGE(self), +1);
  lens_page_run_in_thread(self, NULL, image_loaded, GSIZE_TO_POINTER(self->load_generation), g_strdup(path), g_free,
                          load_image_in_thread);
}

static void show_texture(LensCaptionPage *self, GdkTexture *tex) {
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  g_autoptr(GdkPixbuf) full = gdk_pixbuf_get_from_texture(tex);
  G_GNUC_END_IGNORE_DEPRECATIONS
  g_autoptr(GdkPixbuf) pb = full ? lens_image_prepare(full, LOAD_SIDE) : NULL;
  if (!pb) {
    lens_page_set_message(LENS_PAGE(self), "The pasted or dropped image could not be read.", GTK_MESSAGE_ERROR);
    return;
  }
  self->load_generation++;
  lens_page_set_message(LENS_PAGE(self), NULL, GTK_MESSAGE_INFO);
  lens_caption_page_set_compose(self, FALSE);
  show_credit(self, NULL);
  set_pixbuf(self, pb);
}

static void pasted_files(GObject *clipboard, GAsyncResult *result, gpointer data) {
  LensCaptionPage *self = data;
  const GValue *v = gdk_clipboard_read_value_finish(GDK_CLIPBOARD(clipboard), result, NULL);
  GSList *files = v ? gdk_file_list_get_files(g_value_get_boxed(v)) : NULL;
  g_autofree char *path = files ? g_file_get_path(files->data) : NULL;
  g_slist_free(files);
  if (path) lens_caption_page_open_file(self, path);
  else lens_page_set_message(LENS_PAGE(self), "The clipboard holds no image to paste.", GTK_MESSAGE_WARNING);
  g_object_unref(self);
}

static void pasted_texture(GObject *clipboard, GAsyncResult *result, gpointer data) {
  LensCaptionPage *self = data;
  g_autoptr(GdkTexture) tex = gdk_clipboard_read_texture_finish(GDK_CLIPBOARD(clipboard), result, NULL);
  if (tex) {
    show_texture(self, tex);
    g_object_unref(self);
    return;
  }
  gdk_clipboard_read_value_async(GDK_CLIPBOARD(clipboard), GDK_TYPE_FILE_LIST, G_PRIORITY_DEFAULT, NULL, pasted_files, self);
}

void lens_caption_page_paste(LensCaptionPage *self) {
  GdkClipboard *cb = gtk_widget_get_clipboard(GTK_WIDGET(self));
  gdk_clipboard_read_texture_async(cb, NULL, pasted_texture, g_object_ref(self));
}

static void on_paste_clicked(GtkButton *b, gpointer data) { lens_caption_page_paste(data); }

static gboolean on_drop(GtkDropTarget *target, const GValue *value, double x, double y, gpointer data) {
  LensCaptionPage *self = data;
  if (G_VALUE_HOLDS(value, GDK_TYPE_TEXTURE)) {
    show_texture(self, g_value_get_object(value));
    return TRUE;
  }
  if (G_VALUE_HOLDS(value, GDK_TYPE_FILE_LIST)) {
    GSList *files = gdk_file_list_get_files(g_value_get_boxed(value));
    g_autofree char *path = files ? g_file_get_path(files->data) : NULL;
    g_slist_free(files);
    if (path) lens_caption_page_open_file(self, path);
    return path != NULL;
  }
  return FALSE;
}

static void on_open_response(GtkNativeDialog *dialog, int response, gpointer data) {
  if (response == GTK_RESPONSE_ACCEPT) {
    g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
    g_autofree char *path = file ? g_file_get_path(file) : NULL;
    if (path) lens_caption_page_open_file(data, path);
  }
  g_object_unref(dialog);
}

static void on_open_clicked(GtkButton *b, gpointer data) {
  GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(data));
  GtkFileChooserNative *d = gtk_file_chooser_native_new("Open Image", GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL,
                                                        GTK_FILE_CHOOSER_ACTION_OPEN, "_Open", "_Cancel");
  GtkFileFilter *f = gtk_file_filter_new();
  gtk_file_filter_set_name(f, "Images");
  gtk_file_filter_add_pixbuf_formats(f);
  gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(d), f);
  g_object_unref(f);
  g_signal_connect(d, "response", G_CALLBACK(on_open_response), data);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

/* ---- examples ---- */

static const cJSON *example(LensCaptionPage *self, int k) {
  return self->examples ? cJSON_GetArrayItem(cJSON_GetObjectItem(self->examples, "scenes"), k) : NULL;
}

static const cJSON *photo(LensCaptionPage *self, int k) {
  return self->photos ? cJSON_GetArrayItem(cJSON_GetObjectItem(self->photos, "photos"), k) : NULL;
}

static const char *photo_field(LensCaptionPage *self, int k, const char *key) {
  const cJSON *v = cJSON_GetObjectItem(photo(self, k), key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The menu: "Examples…", the photos, then the scenes. */
static void fill_example_menu(LensCaptionPage *self) {
  self->updating++;
  int np = lens_caption_page_get_n_photos(self), n = lens_caption_page_get_n_examples(self);
  char **names = g_new0(char *, np + n + 2);
  names[0] = g_strdup("Examples…");
  for (int k = 0; k < np; k++) {
    const char *title = photo_field(self, k, "title");
    names[k + 1] = g_strdup_printf("Photo: %s", title ? title : "(untitled)");
  }
  for (int k = 0; k < n; k++) {
    int objects = cJSON_GetArraySize(cJSON_GetObjectItem(example(self, k), "objects"));
    names[np + k + 1] = g_strdup_printf("Scene %d (%d object%s)", k + 1, objects, objects == 1 ? "" : "s");
  }
  gtk_string_list_splice(self->example_names, 0, g_list_model_get_n_items(G_LIST_MODEL(self->example_names)),
                         (const char *const *)names);
  g_strfreev(names);
  gtk_widget_set_sensitive(self->example_dropdown, np + n > 0);
  self->updating--;
}

/* The manifest file in dir (scenes.json, photos.json) when its `list` member is an array; else
 * NULL: no examples rather than a broken menu. */
static cJSON *load_manifest(const char *dir, const char *file, const char *list) {
  g_autofree char *path = g_build_filename(dir, file, NULL), *text = NULL;
  cJSON *json = g_file_get_contents(path, &text, NULL, NULL) ? cJSON_Parse(text) : NULL;
  if (json && !cJSON_IsArray(cJSON_GetObjectItem(json, list))) {
    cJSON_Delete(json);
    json = NULL;
  }
  return json;
}

void lens_caption_page_set_examples_dir(LensCaptionPage *self, const char *dir) {
  cJSON_Delete(self->examples);
  self->examples = load_manifest(dir, "scenes.json", "scenes");
  g_free(self->examples_dir);
  self->examples_dir = g_strdup(dir);
  fill_example_menu(self);
}

void lens_caption_page_set_photos_dir(LensCaptionPage *self, const char *dir) {
  cJSON_Delete(self->photos);
  self->photos = load_manifest(dir, "photos.json", "photos");
  g_free(self->photos_dir);
  self->photos_dir = g_strdup(dir);
  fill_example_menu(self);
}

int lens_caption_page_get_n_photos(LensCaptionPage *self) {
  return self->photos ? cJSON_GetArraySize(cJSON_GetObjectItem(self->photos, "photos")) : 0;
}

void lens_caption_page_show_photo(LensCaptionPage *self, int k) {
  const char *file = photo_field(self, k, "file"), *credit = photo_field(self, k, "credit");
  if (!file || strchr(file, '/') || strchr(file, '\\')) return; /* a bare file name beside photos.json */
  g_autofree char *path = g_build_filename(self->photos_dir, file, NULL);
  lens_caption_page_open_file(self, path);
  self->credit_generation = self->load_generation;
  g_free(self->pending_credit);
  self->pending_credit = g_strdup(credit ? credit : "");
}

const char *lens_caption_page_get_credit(LensCaptionPage *self) {
  return gtk_widget_get_visible(self->credit) ? gtk_label_get_text(GTK_LABEL(self->credit)) : NULL;
}

/* The credit line follows the image on display: a credited example photo, or nothing. */
static void show_credit(LensCaptionPage *self, const char *credit) {
  gtk_label_set_text(GTK_LABEL(self->credit), credit ? credit : "");
  gtk_widget_set_visible(self->credit, credit && *credit);
}

int lens_caption_page_get_n_examples(LensCaptionPage *self) {
  return self->examples ? cJSON_GetArraySize(cJSON_GetObjectItem(self->examples, "scenes")) : 0;
}

const void *lens_caption_page_get_example(LensCaptionPage *self, int k) { return example(self, k); }

void lens_caption_page_show_example(LensCaptionPage *self, int k) {
  const cJSON *e = example(self, k), *name = e ? cJSON_GetObjectItem(e, "name") : NULL;
  if (!cJSON_IsString(name)) return;
  g_autofree char *file = g_strconcat(name->valuestring, ".png", NULL);
  g_autofree char *path = g_build_filename(self->examples_dir, file, NULL);
  lens_caption_page_open_file(self, path);
}

static void on_example_selected(GObject *object, GParamSpec *pspec, gpointer data) {
  LensCaptionPage *self = data;
  guint i = gtk_drop_down_get_selected(GTK_DROP_DOWN(self->example_dropdown));
  if (self->updating || i == 0 || i == GTK_INVALID_LIST_POSITION) return;
  int np = lens_caption_page_get_n_photos(self);
  if ((int)i <= np) lens_caption_page_show_photo(self, (int)i - 1);
  else lens_caption_page_show_example(self, (int)i - 1 - np);
  self->updating++;
  gtk_drop_down_set_selected(GTK_DROP_DOWN(self->example_dropdown), 0);
  self->updating--;
}

/* ---- Compose ---- */

void lens_caption_page_set_compose(LensCaptionPage *self, gboolean on) {
  if (on == self->composing && (!on || self->argb)) return;
  self->composing = on;
  self->updating++;
  gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(self->compose_toggle), on);
  self->updating--;
  gtk_widget_set_visible(GTK_WIDGET(self->compose), on);
  if (!on) return;
  lens_caption_page_set_view(self, LENS_VIEW_OVERLAY); /* shapes are dragged on the overlay */
  self->load_generation++; /* an image still loading does not replace the scene */
  show_credit(self, NULL);
  render_scene(self, 0);
}

gboolean lens_caption_page_get_compose(LensCaptionPage *self) { return self->composing; }

LensCompose *lens_caption_page_get_composer(LensCaptionPage *self) { return self->compose; }

/* The scene changed (a shape added, edited, dragged or deleted): it becomes the image. */
static void on_scene_changed(LensCompose *compose, guint delay_ms, gpointer data) {
  LensCaptionPage *self = data;
  if (!lens_caption_page_get_compose(self)) lens_caption_page_set_compose(self, TRUE);
  else render_scene(self, delay_ms);
}

static void on_compose_toggled(GtkToggleButton *b, gpointer data) {
  LensCaptionPage *self = data;
  if (!self->updating) lens_caption_page_set_compose(self, gtk_toggle_button_get_active(b));
}

/* Widget coordinates to fractions of the image, through the last drawing's image box. */
static gboolean to_image(LensCaptionPage *self, double x, double y, double *u, double *v) {
  const LensRect *g = &lens_trace_view_get_layout(self->view)->grid;
  if (g->w <= 0 || g->h <= 0) return FALSE;
  *u = (x - g->x) / g->w, *v = (y - g->y) / g->h;
  return TRUE;
}

gboolean lens_caption_page_compose_locate(LensCaptionPage *self, int i, double *x, double *y) {
  const LensRect *g = &lens_trace_view_get_layout(self->view)->grid;
  double u, v;
  if (g->w <= 0 || !lens_compose_locate(self->compose, i, &u, &v)) return FALSE;
  *x = g->x + u * g->w, *y = g->y + v * g->h;
  return TRUE;
}

void lens_caption_page_drag_begin(LensCaptionPage *self, double x, double y) {
  double u, v;
  self->dragging = lens_caption_page_get_compose(self) && to_image(self, x, y, &u, &v) && lens_compose_grab(self->compose, u, v);
  if (self->dragging) gtk_widget_queue_draw(GTK_WIDGET(self->view));
}

void lens_caption_page_drag_update(LensCaptionPage *self, double x, double y) {
  double u, v;
  if (self->dragging && to_image(self, x, y, &u, &v)) lens_compose_drag_to(self->compose, u, v);
}

void lens_caption_page_drag_end(LensCaptionPage *self) {
  self->dragging = FALSE;
  lens_compose_release(self->compose);
}

static void on_drag_begin(GtkGestureDrag *g, double x, double y, gpointer data) {
  LensCaptionPage *self = data;
  self->drag_x0 = x, self->drag_y0 = y;
  lens_caption_page_drag_begin(self, x, y);
  if (self->dragging) gtk_gesture_set_state(GTK_GESTURE(g), GTK_EVENT_SEQUENCE_CLAIMED);
}

static void on_drag_update(GtkGestureDrag *g, double dx, double dy, gpointer data) {
  LensCaptionPage *self = data;
  lens_caption_page_drag_update(self, self->drag_x0 + dx, self->drag_y0 + dy);
}

static void on_drag_end(GtkGestureDrag *g, double dx, double dy, gpointer data) { lens_caption_page_drag_end(data); }

/* A click on a word under the overlay or a storyboard thumbnail keeps that word. */
static void on_view_selection(LensTraceView *view, gpointer data) {
  lens_caption_page_select_word(data, lens_trace_view_get_options(view)->highlight_row);
}

static gboolean on_key(GtkEventControllerKey *k, guint keyval, guint code, GdkModifierType state, gpointer data) {
  LensCaptionPage *self = data;
  if ((keyval == GDK_KEY_Delete || keyval == GDK_KEY_BackSpace) && lens_caption_page_get_compose(self)) {
    lens_compose_delete_selected(self->compose);
    return TRUE;
  }
  if (keyval == GDK_KEY_v && (state & GDK_CONTROL_MASK)) {
    lens_caption_page_paste(self);
    return TRUE;
  }
  return FALSE;
}

/* The selected shape of Compose, outlined over the image (not part of exports). */
static void draw_selection(LensTraceView *view, cairo_t *cr, const LensLayout *layout, gpointer data) {
  LensCaptionPage *self = data;
  if (lens_caption_page_get_compose(self) && layout->view == LENS_VIEW_OVERLAY)
    lens_compose_draw_selection(self->compose, cr, &layout->grid);
}

/* ---- models ---- */

static void model_ready(LensPage *page, gboolean loaded, const GError *error) {
  LensCaptionPage *self = LENS_CAPTION_PAGE(page);
  apply_options(self); /* the placeholder names the model, or its absence */
  if (error) {
    set_trace(self, NULL);
  } else if (loaded) {
    if (!self->beam_chosen) { /* the decoding the model card measured, until the user picks one */
      self->updating++;
      gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->beam_spin), attn_captioner_default_beam(lens_page_get_model(page)));
      self->updating--;
    }
    if (!self->smoothing_chosen) { /* a coarse grid (7x7 of the photo model) reads better bicubic, blurred half a cell */
      int rows = 0, cols = 0;
      attn_captioner_grid(lens_page_get_model(page), &rows, &cols);
      gboolean coarse = rows > 0 && rows <= COARSE_GRID && cols <= COARSE_GRID;
      self->updating++;
      gtk_drop_down_set_selected(GTK_DROP_DOWN(self->upsample_dropdown), coarse ? LENS_UPSAMPLE_BICUBIC : LENS_UPSAMPLE_BILINEAR);
      gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->blur_spin), coarse ? 0.5 : 0.0);
      self->updating--;
      apply_options(self);
    }
    start_captioning(page);
  }
}

const char *lens_caption_page_get_model_path(LensCaptionPage *self) { return lens_page_get_model_path(LENS_PAGE(self)); }


/* ---- export ---- */

static LensExportJob *caption_export_job(LensPage *page, GError **error) {
  LensCaptionPage *self = LENS_CAPTION_PAGE(page);
  LensRenderOptions o = self->options;
  o.image = self->argb ? &self->image : NULL;
  return lens_export_job_new(current_trace(self), &o, "There is nothing to export yet: open an image and let the model caption it.",
                             error);
}



/* ---- building the page ---- */

static GtkWidget *button(const char *label, const char *tip, GCallback cb, gpointer data) {
  GtkWidget *b = gtk_button_new_with_mnemonic(label);
  gtk_widget_set_tooltip_text(b, tip);
  g_signal_connect(b, "clicked", cb, data);
  return b;
}

static void add_all(GtkWidget *box, GtkWidget **items, size_t n) {
  for (size_t i = 0; i < n; i++) gtk_box_append(GTK_BOX(box), items[i]);
}

static void build_input_bar(LensCaptionPage *self) {
  gtk_box_append(GTK_BOX(self), lens_page_get_info_bar(LENS_PAGE(self)));
  GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
  self->example_dropdown = lens_page_dropdown(&self->example_names, (const char *const[]){"Examples…", NULL});
  gtk_widget_set_sensitive(self->example_dropdown, FALSE);
  self->compose_toggle = gtk_toggle_button_new_with_mnemonic("_Compose");
  gtk_widget_set_tooltip_text(self->compose_toggle, "Build a scene from shapes: add, colour, resize, drag and delete them");
  self->beam_spin = gtk_spin_button_new_with_range(1, 8, 1);
  self->status = gtk_label_new("");
  gtk_widget_add_css_class(self->status, "dim-label");
  GtkWidget *items[] = {lens_page_get_model_row(LENS_PAGE(self)),
                        button("_Open Image…", "Open an image file (PNG, JPEG, …); or drop one here, or paste (Ctrl+V)",
                               G_CALLBACK(on_open_clicked), self),
                        button("_Paste", "Paste an image from the clipboard (Ctrl+V)", G_CALLBACK(on_paste_clicked), self),
                        self->example_dropdown, self->compose_toggle, lens_page_labelled("Beam", self->beam_spin), lens_page_get_spinner(LENS_PAGE(self)),
                        self->status};
  add_all(bar, items, G_N_ELEMENTS(items));
  gtk_box_append(GTK_BOX(self), bar);
  self->credit = gtk_label_new("");
  gtk_label_set_xalign(GTK_LABEL(self->credit), 0.0f);
  gtk_label_set_ellipsize(GTK_LABEL(self->credit), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class(self->credit, "dim-label");
  gtk_widget_add_css_class(self->credit, "caption");
  gtk_widget_set_visible(self->credit, FALSE);
  gtk_box_append(GTK_BOX(self), self->credit);
}

static void build_compose_bar(LensCaptionPage *self) {
  self->compose = LENS_COMPOSE(lens_compose_new());
  gtk_widget_set_visible(GTK_WIDGET(self->compose), FALSE);
  g_signal_connect(self->compose, "changed", G_CALLBACK(on_scene_changed), self);
  gtk_box_append(GTK_BOX(self), GTK_WIDGET(self->compose));
}

static void build_words_and_display(LensCaptionPage *self) {
  self->words_box = gtk_flow_box_new();
  gtk_flow_box_set_selection_mode(GTK_FLOW_BOX(self->words_box), GTK_SELECTION_NONE);
  gtk_flow_box_set_max_children_per_line(GTK_FLOW_BOX(self->words_box), 64);
  gtk_accessible_update_property(GTK_ACCESSIBLE(self->words_box), GTK_ACCESSIBLE_PROPERTY_LABEL, "Caption", -1);
  gtk_box_append(GTK_BOX(self), self->words_box);
  GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12), *views = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_add_css_class(bar, "toolbar");
  gtk_widget_add_css_class(views, "linked");
  self->overlay_button = gtk_toggle_button_new_with_label("Overlay");
  self->board_button = gtk_toggle_button_new_with_label("Storyboard");
  gtk_toggle_button_set_group(GTK_TOGGLE_BUTTON(self->board_button), GTK_TOGGLE_BUTTON(self->overlay_button));
  gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(self->overlay_button), TRUE);
  gtk_box_append(GTK_BOX(views), self->overlay_button);
  gtk_box_append(GTK_BOX(views), self->board_button);
  self->opacity_scale = gtk_scale_new_with_range(GTK_ORIENTATION_HORIZONTAL, 0, 1, 0.05);
  gtk_range_set_value(GTK_RANGE(self->opacity_scale), 0.6);
  gtk_widget_set_size_request(self->opacity_scale, 140, -1);
  self->upsample_dropdown = lens_page_dropdown(NULL, (const char *const[]){"bilinear", "bicubic", "nearest (cells)", NULL});
  self->blur_spin = gtk_spin_button_new_with_range(0, 3, 0.25);
  gtk_widget_set_tooltip_text(self->blur_spin, "Gaussian blur of the heat map, in grid cells (0: none)");
  self->cmap_dropdown = lens_page_dropdown(NULL, (const char *const[]){"viridis", "magma", "cividis", "greys", NULL});
  GtkWidget *items[] = {views, lens_page_labelled("Opacity", self->opacity_scale), lens_page_labelled("Upsampling", self->upsample_dropdown),
                        lens_page_labelled("Blur", self->blur_spin), lens_page_labelled("Colours", self->cmap_dropdown)};
  add_all(bar, items, G_N_ELEMENTS(items));
  gtk_box_append(GTK_BOX(self), bar);
}

static void build_canvas(LensCaptionPage *self) {
  GtkWidget *view = lens_trace_view_new();
  self->view = LENS_TRACE_VIEW(view);
  lens_page_set_focus_widget(LENS_PAGE(self), view); /* Ctrl+V pastes, Delete removes a shape */
  gtk_widget_set_hexpand(view, TRUE);
  gtk_widget_set_vexpand(view, TRUE);
  lens_trace_view_set_draw_over(self->view, draw_selection, self);
  g_signal_connect(view, "selection-changed", G_CALLBACK(on_view_selection), self);
  GtkGesture *drag = gtk_gesture_drag_new();
  g_signal_connect(drag, "drag-begin", G_CALLBACK(on_drag_begin), self);
  g_signal_connect(drag, "drag-update", G_CALLBACK(on_drag_update), self);
  g_signal_connect(drag, "drag-end", G_CALLBACK(on_drag_end), self);
  gtk_widget_add_controller(view, GTK_EVENT_CONTROLLER(drag));
  GtkDropTarget *drop = gtk_drop_target_new(G_TYPE_INVALID, GDK_ACTION_COPY);
  gtk_drop_target_set_gtypes(drop, (GType[]){GDK_TYPE_FILE_LIST, GDK_TYPE_TEXTURE}, 2);
  g_signal_connect(drop, "drop", G_CALLBACK(on_drop), self);
  gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(drop));
  gtk_box_append(GTK_BOX(self), view);
}

static void on_display_changed(GObject *object, GParamSpec *pspec, gpointer data) {
  LensCaptionPage *self = data;
  if (!self->updating) apply_options(self);
}

static void on_opacity_changed(GtkRange *range, gpointer data) { on_display_changed(NULL, NULL, data); }

static void on_smoothing_changed(GObject *object, GParamSpec *pspec, gpointer data) {
  LensCaptionPage *self = data;
  if (!self->updating) self->smoothing_chosen = TRUE;
  on_display_changed(object, pspec, data);
}

static void on_beam_changed(GObject *object, GParamSpec *pspec, gpointer data) {
  LensCaptionPage *self = data;
  if (self->updating) return;
  self->beam_chosen = TRUE;
  schedule_captioning(self, 0);
}

static void connect_controls(LensCaptionPage *self) {
  g_signal_connect(self->example_dropdown, "notify::selected", G_CALLBACK(on_example_selected), self);
  g_signal_connect(self->compose_toggle, "toggled", G_CALLBACK(on_compose_toggled), self);
  g_signal_connect(self->board_button, "notify::active", G_CALLBACK(on_display_changed), self);
  g_signal_connect(self->opacity_scale, "value-changed", G_CALLBACK(on_opacity_changed), self);
  g_signal_connect(self->upsample_dropdown, "notify::selected", G_CALLBACK(on_smoothing_changed), self);
  g_signal_connect(self->blur_spin, "notify::value", G_CALLBACK(on_smoothing_changed), self);
  g_signal_connect(self->cmap_dropdown, "notify::selected", G_CALLBACK(on_display_changed), self);
  g_signal_connect(self->beam_spin, "notify::value", G_CALLBACK(on_beam_changed), self);
  GtkEventController *keys = gtk_event_controller_key_new();
  g_signal_connect(keys, "key-pressed", G_CALLBACK(on_key), self);
  gtk_widget_add_controller(GTK_WIDGET(self), keys);
}

static void lens_caption_page_init(LensCaptionPage *self) {
  self->pinned_word = -1;
  lens_render_options_init(&self->options);
  build_input_bar(self);
  build_compose_bar(self);
  build_words_and_display(self);
  build_canvas(self);
  connect_controls(self);
  apply_options(self);
}

static void lens_caption_page_finalize(GObject *object) {
  LensCaptionPage *self = LENS_CAPTION_PAGE(object);
  cJSON_Delete(self->examples);
  cJSON_Delete(self->photos);
  g_free(self->argb), g_free(self->rgb), g_free(self->examples_dir);
  g_free(self->photos_dir), g_free(self->pending_credit);
  G_OBJECT_CLASS(lens_caption_page_parent_class)->finalize(object);
}

static void lens_caption_page_class_init(LensCaptionPageClass *klass) {
  static const char *const defaults[] = {DEFAULT_CAPTION_MODEL, "caption-scenes", NULL};
  LensPageClass *page_class = LENS_PAGE_CLASS(klass);
  page_class->export_job = caption_export_job;
  page_class->load_model = load_captioner;
  page_class->free_model = free_captioner;
  page_class->start = start_captioning;
  page_class->work = caption_in_thread;
  page_class->input_free = caption_input_free;
  page_class->show_result = captioning_done;
  page_class->model_ready = model_ready;
  page_class->task = "caption";
  page_class->default_models = defaults;
  page_class->no_model_message = "No caption model was found: caption-scenes is trained with training/train_caption.py "
                                 "(see training/README.md), or open a model folder (Ctrl+O). Compose still draws scenes.";
  G_OBJECT_CLASS(klass)->finalize = lens_caption_page_finalize;
}

GtkWidget *lens_caption_page_new(void) { return g_object_new(LENS_TYPE_CAPTION_PAGE, NULL); }

/* ---- public setters and getters (also what the tests drive) ---- */

const attn_trace *lens_caption_page_get_trace(LensCaptionPage *self) { return current_trace(self); }
guint lens_caption_page_get_n_results(LensCaptionPage *self) { return self->n_results; }
double lens_caption_page_get_last_ms(LensCaptionPage *self) { return self->last_ms; }
GtkWidget *lens_caption_page_get_canvas(LensCaptionPage *self) { return GTK_WIDGET(self->view); }
const LensLayout *lens_caption_page_get_layout(LensCaptionPage *self) { return lens_trace_view_get_layout(self->view); }
const LensRenderOptions *lens_caption_page_get_options(LensCaptionPage *self) { return &self->options; }
int lens_caption_page_get_word(LensCaptionPage *self) { return self->options.highlight_row; }

void lens_caption_page_select_word(LensCaptionPage *self, int word) {
  const attn_trace *t = current_trace(self);
  self->pinned_word = t && word >= 0 && word < t->output.n ? word : -1;
  show_word(self, self->pinned_word);
}

GtkWidget *lens_caption_page_get_word_button(LensCaptionPage *self, int word) {
  GtkFlowBoxChild *c = gtk_flow_box_get_child_at_index(GTK_FLOW_BOX(self->words_box), word);
  return c ? gtk_flow_box_child_get_child(c) : NULL;
}

void lens_caption_page_set_view(LensCaptionPage *self, LensView view) {
  gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(view == LENS_VIEW_STORYBOARD ? self->board_button : self->overlay_button), TRUE);
}
void lens_caption_page_set_opacity(LensCaptionPage *self, double opacity) {
  gtk_range_set_value(GTK_RANGE(self->opacity_scale), opacity);
}
void lens_caption_page_set_upsample(LensCaptionPage *self, LensUpsample upsample) {
  gtk_drop_down_set_selected(GTK_DROP_DOWN(self->upsample_dropdown), (guint)upsample);
}
void lens_caption_page_set_blur(LensCaptionPage *self, double cells) {
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->blur_spin), cells);
}
void lens_caption_page_set_beam(LensCaptionPage *self, int beam) {
  self->beam_chosen = TRUE;
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->beam_spin), beam);
}
