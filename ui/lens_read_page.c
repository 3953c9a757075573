/* The Read page: live reading on a worker thread (as the Translate page translates), the
 * answer, the story view, and unknown words marked where they were typed. */
#include "lens_read_page.h"

#include <string.h>

#include "attn_read.h"
#include "lens_models.h"
#include "lens_page_util.h"

#define DEBOUNCE_MS 60
#define DEFAULT_READ_MODEL "memn2n-babi"

/* Example stories in the style of bAbI tasks 1 and 2 (hand-written from bAbI's own
 * vocabulary; the repository does not contain bAbI itself), and one with a name the
 * models have never seen. */
static const struct {
  const char *title, *story, *question;
} examples[] = {
    {"Where is someone? (one supporting fact)",
     "Mary moved to the bathroom.\nJohn went to the hallway.\nDaniel went back to the hallway.\n"
     "Sandra moved to the garden.\nJohn moved to the office.\nSandra journeyed to the bathroom.\n",
     "Where is Daniel?"},
    {"Where is an object? (two supporting facts)",
     "Mary got the milk there.\nJohn moved to the bedroom.\nSandra went back to the kitchen.\n"
     "Mary travelled to the hallway.\nJohn got the football there.\nJohn went to the garden.\n",
     "Where is the football?"},
    {"A name the model does not know",
     "Alice went to the kitchen.\nMary went to the garden.\nMary travelled to the office.\n", "Where is Alice?"},
};

/* A loaded reader shared by the page and its worker threads (reference counted). */
static void *load_reader(const char *path, attn_error *err) { return attn_reader_load(path, err); }
static void free_reader(gpointer r) { attn_reader_free(r); }

struct _LensReadPage {
  LensPage parent_instance;
  GtkWidget *example_dropdown, *values_check, *cmap_dropdown;
  GtkWidget *story_view, *question_entry, *answer_label, *status;
  GtkTextBuffer *story_buffer;
  GtkTextTag *unknown_tag;
  LensTraceView *view;
  char *answer_text, *unknown_words;
  attn_trace *trace; /* as the model produced it */
  int updating;
};

G_DEFINE_FINAL_TYPE(LensReadPage, lens_read_page, LENS_TYPE_PAGE)

static void start_reading(LensPage *page);

/* ---- messages and the spinner ---- */

/* ---- unknown words, marked in the editor and the question ---- */

/* Adds each word of text the model does not know to `seen` (lowercase, once). */
static void collect_unknown(const attn_reader *r, const char *text, GHashTable *seen, GString *list) {
  int n = 0;
  char **words = attn_read_tokenize(text, strlen(text), 10000, &n);
  for (int i = 0; words && i < n; i++)
    if (!attn_reader_knows(r, words[i]) && g_hash_table_add(seen, g_strdup(words[i])))
      g_string_append_printf(list, "%s%s", list->len ? ", " : "", words[i]);
  attn_words_free(words);
}

static gboolean is_word_char(gunichar c) { return g_unichar_isalnum(c) || c > 0x7f; }

/* Byte ranges [start, end) of whole-word, ASCII-case-insensitive matches of unknown words. */
static void find_unknown(const char *text, GHashTable *unknown, GArray *ranges) {
  const char *p = text;
  while (*p) {
    if (!is_word_char(g_utf8_get_char(p))) {
      p = g_utf8_next_char(p);
      continue;
    }
    const char *e = p;
    while (*e && (is_word_char(g_utf8_get_char(e)) || ((*e == '\'' || *e == '-' || *e == '_') && e[1] && is_word_char(g_utf8_get_char(e + 1)))))
      e = g_utf8_next_char(e);
    g_autofree char *w = g_ascii_strdown(p, e - p);
    if (g_hash_table_contains(unknown, w)) {
      int range[2] = {(int)(p - text), (int)(e - text)};
      g_array_append_vals(ranges, range, 2);
    }
    p = e;
  }
}

static void mark_unknown(LensReadPage *self) {
  GtkTextIter a, b;
  gtk_text_buffer_get_bounds(self->story_buffer, &a, &b);
  gtk_text_buffer_remove_tag(self->story_buffer, self->unknown_tag, &a, &b);
  g_free(self->unknown_words);
  self->unknown_words = g_strdup("");
  const attn_reader *reader = lens_page_get_model(LENS_PAGE(self));
  if (!reader) return;
  g_autofree char *story = lens_read_page_get_story(self);
  const char *question = gtk_editable_get_text(GTK_EDITABLE(self->question_entry));
  g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  GString *list = g_string_new(NULL);
  collect_unknown(reader, story, seen, list);
  collect_unknown(reader, question, seen, list);
  g_free(self->unknown_words);
  self->unknown_words = g_string_free(list, FALSE);
  GArray *ranges = g_array_new(FALSE, FALSE, sizeof(int));
  find_unknown(story, seen, ranges);
  for (guint i = 0; i + 1 < ranges->len; i += 2) {
    gtk_text_buffer_get_iter_at_offset(self->story_buffer, &a, (int)g_utf8_pointer_to_offset(story, story + g_array_index(ranges, int, i)));
    gtk_text_buffer_get_iter_at_offset(self->story_buffer, &b, (int)g_utf8_pointer_to_offset(story, story + g_array_index(ranges, int, i + 1)));
    gtk_text_buffer_apply_tag(self->story_buffer, self->unknown_tag, &a, &b);
  }
  g_array_set_size(ranges, 0);
  find_unknown(question, seen, ranges);
  PangoAttrList *attrs = pango_attr_list_new();
  for (guint i = 0; i + 1 < ranges->len; i += 2) {
    PangoAttribute *u = pango_attr_underline_new(PANGO_UNDERLINE_ERROR);
    PangoAttribute *c = pango_attr_underline_color_new(0xc000, 0x1800, 0x1800);
    u->start_index = c->start_index = (guint)g_array_index(ranges, int, i);
    u->end_index = c->end_index = (guint)g_array_index(ranges, int, i + 1);
    pango_attr_list_insert(attrs, u);
    pango_attr_list_insert(attrs, c);
  }
  gtk_entry_set_attributes(GTK_ENTRY(self->question_entry), attrs);
  pango_attr_list_unref(attrs);
  g_array_free(ranges, TRUE);
}

/* ---- showing a result ---- */

static void show_answer(LensReadPage *self, const attn_trace *t) {
  g_free(self->answer_text);
  self->answer_text = g_strdup("");
  if (!t || t->output.n < 1) {
    gtk_label_set_text(GTK_LABEL(self->answer_label), "");
    return;
  }
  const char *ans = t->output.tokens[0];
  double p = t->output.probs ? t->output.probs[0] : 0.0;
  g_autofree char *note = g_strdup(t->output.text && g_str_has_prefix(t->output.text, ans) ? t->output.text + strlen(ans) : "");
  g_strstrip(note);
  if (note[0] == '(' && g_str_has_suffix(note, ")")) { /* "(unreliable: ...)" */
    note[strlen(note) - 1] = '\0';
    memmove(note, note + 1, strlen(note));
  }
  g_free(self->answer_text);
  self->answer_text = g_strdup_printf("%s — probability %.2f%s%s", ans, p, *note ? " — " : "", note);
  g_autofree char *esc_ans = g_markup_escape_text(ans, -1), *esc_note = g_markup_escape_text(note, -1);
  g_autofree char *markup = g_strdup_printf("Answer: <b><big>%s</big></b>  probability %.2f%s%s", esc_ans, p,
                                            *esc_note ? "\n<span foreground='#c01818'>" : "", *esc_note ? esc_note : "");
  g_autofree char *closed = *esc_note ? g_strconcat(markup, "</span>", NULL) : g_strdup(markup);
  gtk_label_set_markup(GTK_LABEL(self->answer_label), closed);
}

static void apply_options(LensReadPage *self) {
  LensRenderOptions o = *lens_trace_view_get_options(self->view);
  o.view = LENS_VIEW_STORY;
  o.show_values = gtk_check_button_get_active(GTK_CHECK_BUTTON(self->values_check));
  o.colormap = (LensColormap)gtk_drop_down_get_selected(GTK_DROP_DOWN(self->cmap_dropdown));
  lens_trace_view_set_options(self->view, &o);
}

static void set_trace(LensReadPage *self, attn_trace *t, const char *placeholder) {
  attn_trace_free(self->trace);
  self->trace = t;
  lens_trace_view_set_trace(self->view, t ? attn_trace_select_hypothesis(t, 0) : NULL);
  if (placeholder) lens_trace_view_set_placeholder(self->view, placeholder);
  apply_options(self);
  show_answer(self, t);
  mark_unknown(self);
}

/* ---- the worker ---- */

typedef struct read_input {
  char *story, *question;
} read_input;

static void read_input_free(gpointer data) {
  read_input *in = data;
  g_free(in->story), g_free(in->question);
  g_free(in);
}

static attn_trace *read_in_thread(gpointer reader, gpointer input, attn_error *err) {
  read_input *in = input;
  return attn_read(reader, in->story, in->question, err);
}

static void reading_done(LensPage *page, attn_trace *t, const GError *error, gpointer input, double model_ms) {
  LensReadPage *self = LENS_READ_PAGE(page);
  set_trace(self, t, t ? NULL : "Nothing to show: see the message above.");
  if (!t) lens_page_set_message(LENS_PAGE(self), error->message, GTK_MESSAGE_ERROR);
  else lens_page_show_warnings(LENS_PAGE(self), self->trace);
  lens_page_show_timing(page, self->status, t ? "" : NULL, model_ms);
}

static void start_reading(LensPage *page) {
  LensReadPage *self = LENS_READ_PAGE(page);
  g_autofree char *story = lens_read_page_get_story(self);
  const char *question = gtk_editable_get_text(GTK_EDITABLE(self->question_entry));
  lens_page_supersede(page);
  if (!lens_page_get_model(page)) return; /* the model's load finishes and calls us again */
  if (lens_page_is_blank(story) || lens_page_is_blank(question)) {
    lens_page_set_message(LENS_PAGE(self), NULL, GTK_MESSAGE_INFO);
    set_trace(self, NULL, lens_page_is_blank(story) ? "Write a story on the left, one sentence per line."
                                          : "Ask a question about the story.");
    gtk_label_set_text(GTK_LABEL(self->status), "");
    return;
  }
  read_input *in = g_new0(read_input, 1);
  in->story = g_steal_pointer(&story);
  in->question = g_strdup(question);
  lens_page_submit(page, in);
}

static void on_text_changed(gpointer object, gpointer data) {
  LensReadPage *self = data;
  lens_page_schedule(LENS_PAGE(self), DEBOUNCE_MS);
}

/* ---- loading a model ---- */

static void model_ready(LensPage *page, gboolean loaded, const GError *error) {
  if (error) set_trace(LENS_READ_PAGE(page), NULL, "No model loaded.");
  else if (loaded) start_reading(page);
}

/* ---- export ---- */

static LensExportJob *read_export_job(LensPage *page, GError **error) {
  LensReadPage *self = LENS_READ_PAGE(page);
  return lens_export_job_new(lens_trace_view_get_trace(self->view), lens_trace_view_get_options(self->view),
                             "There is nothing to export yet: write a story and a question first.", error);
}



/* ---- building the page ---- */

static void on_example_selected(GObject *object, GParamSpec *pspec, gpointer data) {
  LensReadPage *self = data;
  guint i = gtk_drop_down_get_selected(GTK_DROP_DOWN(self->example_dropdown));
  if (!self->updating && i > 0) lens_read_page_show_example(self, (int)i - 1);
}

static void on_option_changed(GObject *object, GParamSpec *pspec, gpointer data) { apply_options(data); }

static void build_toolbar(LensReadPage *self) {
  GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_add_css_class(bar, "toolbar");
  GtkStringList *ex = gtk_string_list_new(NULL);
  gtk_string_list_append(ex, "Choose an example…");
  for (size_t i = 0; i < G_N_ELEMENTS(examples); i++) gtk_string_list_append(ex, examples[i].title);
  self->example_dropdown = gtk_drop_down_new(G_LIST_MODEL(ex), NULL);
  self->values_check = gtk_check_button_new_with_label("Values");
  gtk_check_button_set_active(GTK_CHECK_BUTTON(self->values_check), TRUE);
  const char *maps[] = {"viridis", "magma", "cividis", "greys", NULL};
  self->cmap_dropdown = gtk_drop_down_new_from_strings(maps);
  self->status = gtk_label_new("");
  gtk_widget_add_css_class(self->status, "dim-label");
  GtkWidget *items[] = {lens_page_get_model_row(LENS_PAGE(self)), lens_page_labelled("Example", self->example_dropdown),
                        self->values_check, lens_page_labelled("Colours", self->cmap_dropdown), lens_page_get_spinner(LENS_PAGE(self)), self->status};
  for (size_t i = 0; i < G_N_ELEMENTS(items); i++) gtk_box_append(GTK_BOX(bar), items[i]);
  GtkWidget *scroll = gtk_scrolled_window_new();
  gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_AUTOMATIC, GTK_POLICY_NEVER);
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), bar);
  gtk_box_append(GTK_BOX(self), scroll);
}

static void build_info_bar(LensReadPage *self) {
  gtk_box_append(GTK_BOX(self), lens_page_get_info_bar(LENS_PAGE(self)));
}

static GtkWidget *heading(const char *text) {
  GtkWidget *l = gtk_label_new(text);
  gtk_label_set_xalign(GTK_LABEL(l), 0);
  gtk_widget_add_css_class(l, "heading");
  return l;
}

/* Left: the story editor, the question and the answer. */
static GtkWidget *build_input(LensReadPage *self) {
  GtkWidget *col = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
  self->story_view = gtk_text_view_new();
  lens_page_set_focus_widget(LENS_PAGE(self), self->story_view);
  self->story_buffer = gtk_text_view_get_buffer(GTK_TEXT_VIEW(self->story_view));
  gtk_text_view_set_wrap_mode(GTK_TEXT_VIEW(self->story_view), GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_left_margin(GTK_TEXT_VIEW(self->story_view), 8);
  gtk_text_view_set_top_margin(GTK_TEXT_VIEW(self->story_view), 6);
  gtk_accessible_update_property(GTK_ACCESSIBLE(self->story_view), GTK_ACCESSIBLE_PROPERTY_LABEL, "Story, one sentence per line", -1);
  self->unknown_tag = gtk_text_buffer_create_tag(self->story_buffer, "unknown", "underline", PANGO_UNDERLINE_ERROR,
                                                 "underline-rgba", &(GdkRGBA){0.75, 0.09, 0.09, 1}, NULL);
  GtkWidget *scroll = gtk_scrolled_window_new();
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), self->story_view);
  gtk_widget_set_vexpand(scroll, TRUE);
  gtk_widget_add_css_class(scroll, "card");
  self->question_entry = gtk_entry_new();
  gtk_entry_set_placeholder_text(GTK_ENTRY(self->question_entry), "Where is Mary?");
  gtk_accessible_update_property(GTK_ACCESSIBLE(self->question_entry), GTK_ACCESSIBLE_PROPERTY_LABEL, "Question", -1);
  self->answer_label = gtk_label_new("");
  gtk_label_set_xalign(GTK_LABEL(self->answer_label), 0);
  gtk_label_set_wrap(GTK_LABEL(self->answer_label), TRUE);
  gtk_label_set_width_chars(GTK_LABEL(self->answer_label), 36); /* a wrapped label must not ask for a tall window */
  gtk_label_set_selectable(GTK_LABEL(self->answer_label), TRUE);
  GtkWidget *parts[] = {heading("Story — one sentence per line"), scroll, heading("Question"), self->question_entry,
                        self->answer_label};
  for (size_t i = 0; i < G_N_ELEMENTS(parts); i++) gtk_box_append(GTK_BOX(col), parts[i]);
  g_signal_connect(self->story_buffer, "changed", G_CALLBACK(on_text_changed), self);
  g_signal_connect(self->question_entry, "changed", G_CALLBACK(on_text_changed), self);
  return col;
}

static void build_body(LensReadPage *self) {
  self->view = LENS_TRACE_VIEW(lens_trace_view_new());
  lens_trace_view_set_placeholder(self->view, "Write a story on the left, one sentence per line.");
  gtk_widget_set_hexpand(GTK_WIDGET(self->view), TRUE);
  gtk_widget_set_vexpand(GTK_WIDGET(self->view), TRUE);
  lens_page_add_zoom_view(LENS_PAGE(self), self->view);
  GtkWidget *right = gtk_scrolled_window_new();
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(right), GTK_WIDGET(self->view));
  GtkWidget *paned = gtk_paned_new(GTK_ORIENTATION_HORIZONTAL);
  GtkWidget *left = build_input(self);
  gtk_widget_set_size_request(left, 300, -1);
  gtk_paned_set_start_child(GTK_PANED(paned), left);
  gtk_paned_set_end_child(GTK_PANED(paned), right);
  gtk_paned_set_resize_start_child(GTK_PANED(paned), FALSE);
  gtk_paned_set_shrink_start_child(GTK_PANED(paned), FALSE);
  gtk_paned_set_position(GTK_PANED(paned), 360);
  gtk_widget_set_vexpand(paned, TRUE);
  gtk_box_append(GTK_BOX(self), paned);
}

static void lens_read_page_init(LensReadPage *self) {
  self->answer_text = g_strdup("");
  self->unknown_words = g_strdup("");
  build_toolbar(self);
  build_info_bar(self);
  build_body(self);
  apply_options(self);
  g_signal_connect(self->example_dropdown, "notify::selected", G_CALLBACK(on_example_selected), self);
  g_signal_connect(self->values_check, "notify::active", G_CALLBACK(on_option_changed), self);
  g_signal_connect(self->cmap_dropdown, "notify::selected", G_CALLBACK(on_option_changed), self);
}

static void lens_read_page_finalize(GObject *object) {
  LensReadPage *self = LENS_READ_PAGE(object);
  attn_trace_free(self->trace);
  g_free(self->answer_text), g_free(self->unknown_words);
  G_OBJECT_CLASS(lens_read_page_parent_class)->finalize(object);
}

static void lens_read_page_class_init(LensReadPageClass *klass) {
  static const char *const defaults[] = {DEFAULT_READ_MODEL, NULL};
  LensPageClass *page_class = LENS_PAGE_CLASS(klass);
  page_class->export_job = read_export_job;
  page_class->load_model = load_reader;
  page_class->free_model = free_reader;
  page_class->start = start_reading;
  page_class->work = read_in_thread;
  page_class->input_free = read_input_free;
  page_class->show_result = reading_done;
  page_class->model_ready = model_ready;
  page_class->task = "read";
  page_class->default_models = defaults;
  page_class->no_model_message = "No reading model was found: open a model folder (Ctrl+O).";
  G_OBJECT_CLASS(klass)->finalize = lens_read_page_finalize;
}

GtkWidget *lens_read_page_new(void) { return g_object_new(LENS_TYPE_READ_PAGE, NULL); }

/* ---- public API (also what the tests drive) ---- */

void lens_read_page_set_story(LensReadPage *self, const char *story) {
  gtk_text_buffer_set_text(self->story_buffer, story, -1);
}

char *lens_read_page_get_story(LensReadPage *self) {
  GtkTextIter a, b;
  gtk_text_buffer_get_bounds(self->story_buffer, &a, &b);
  return gtk_text_buffer_get_text(self->story_buffer, &a, &b, FALSE);
}

void lens_read_page_set_question(LensReadPage *self, const char *question) {
  gtk_editable_set_text(GTK_EDITABLE(self->question_entry), question);
}

int lens_read_page_get_n_examples(LensReadPage *self) { return (int)G_N_ELEMENTS(examples); }

void lens_read_page_show_example(LensReadPage *self, int k) {
  g_return_if_fail(k >= 0 && k < (int)G_N_ELEMENTS(examples));
  lens_read_page_set_story(self, examples[k].story);
  lens_read_page_set_question(self, examples[k].question);
}

LensTraceView *lens_read_page_get_view(LensReadPage *self) { return self->view; }
const attn_trace *lens_read_page_get_trace(LensReadPage *self) { return self->trace; }
const char *lens_read_page_get_answer_text(LensReadPage *self) { return self->answer_text; }
const char *lens_read_page_get_unknown_words(LensReadPage *self) { return self->unknown_words; }

