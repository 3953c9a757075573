/* The Translate page: live translation on a worker thread and its attention views. */
#include "lens_translate_page.h"

#include <string.h>

#include "lens_compare.h"
#include "lens_page_util.h"

#define DEBOUNCE_MS 60

struct _LensTranslatePage {
  LensPage parent_instance;
  GtkTextBuffer *buffer;
  GtkWidget *text_view, *tokens_box, *status;
  GtkWidget *matrix_button, *flow_button, *map_dropdown, *heads_toggle, *cmap_dropdown;
  GtkWidget *beam_spin, *words_check, *values_check, *self_check, *hyp_dropdown;
  GtkStringList *map_names, *hyp_names;
  GtkWidget *stack, *heads_grid;
  LensTraceView *view;
  char *title;
  attn_trace *trace; /* as the model produced it */
  double last_ms;
  int hyp_index, updating;
  gboolean beam_chosen; /* the user set the beam: a model's own (config num_beams) no longer replaces it */
  LensCompare compare;  /* a second model beside this one */
  GtkWidget *compare_toggle, *compare_dropdown;
  GtkWidget *step_toggle, *step_row, *step_scale, *candidates_label; /* step-through decoding */
};

G_DEFINE_FINAL_TYPE(LensTranslatePage, lens_translate_page, LENS_TYPE_PAGE)

enum { SIGNAL_TRACE_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void start_translation(LensPage *page);
static void refresh_display(LensTranslatePage *self);
static void update_attention_controls(LensTranslatePage *self);
static void apply_step(LensTranslatePage *self);
static void build_step_controls(LensTranslatePage *self, GtkWidget *toolbar, GtkWidget *after);

/* ---- the worker ---- */

typedef struct translate_input {
  char *text;
  attn_translate_opts opts;
} translate_input;

static void translate_input_free(gpointer data) {
  translate_input *in = data;
  g_free(in->text);
  g_free(in);
}

static attn_trace *translate_in_thread(gpointer translator, gpointer input, attn_error *err) {
  translate_input *in = input;
  return attn_translate(translator, in->text, strlen(in->text), &in->opts, err);
}

static void translation_done(LensPage *page, attn_trace *t, const GError *error, gpointer input, double model_ms) {
  LensTranslatePage *self = LENS_TRANSLATE_PAGE(page);
  const translate_input *in = input;
  self->last_ms = model_ms;
  attn_trace_free(self->trace);
  self->trace = t;
  if (!t) lens_page_set_message(LENS_PAGE(self), error->message, GTK_MESSAGE_ERROR);
  else lens_page_show_warnings(LENS_PAGE(self), self->trace);
  lens_page_show_timing(page, self->status, t ? (in->opts.beam > 1 ? "beam search" : "greedy") : NULL,
                          model_ms);
  refresh_display(self);
  g_signal_emit(self, signals[SIGNAL_TRACE_CHANGED], 0);
}

static void clear_trace(LensTranslatePage *self, const char *placeholder) {
  attn_trace_free(self->trace);
  self->trace = NULL;
  lens_trace_view_set_placeholder(self->view, placeholder);
  gtk_label_set_text(GTK_LABEL(self->status), "");
  refresh_display(self);
}

/* The text and decoding to run now, or NULL when the text is blank. */
static translate_input *current_input(LensTranslatePage *self) {
  g_autofree char *text = lens_translate_page_get_text(self);
  if (lens_page_is_blank(text)) return NULL;
  translate_input *in = g_new0(translate_input, 1);
  in->text = g_steal_pointer(&text);
  attn_translate_opts_init(&in->opts);
  in->opts.beam = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(self->beam_spin));
  in->opts.self_attention = gtk_check_button_get_active(GTK_CHECK_BUTTON(self->self_check));
  return in;
}

static gpointer compare_input(LensPage *page) { return current_input(LENS_TRANSLATE_PAGE(page)); }

static void start_translation(LensPage *page) {
  LensTranslatePage *self = LENS_TRANSLATE_PAGE(page);
  lens_page_supersede(page);
  if (!lens_page_get_model(page)) return; /* the model's load finishes and calls us again */
  translate_input *in = current_input(self);
  if (!in) {
    lens_page_set_message(LENS_PAGE(self), NULL, GTK_MESSAGE_INFO);
    clear_trace(self, "Type a sentence above to see where the model looks.");
    return;
  }
  lens_page_submit(page, in);
}

/* An edit or a new decoding: both models run again. */
static void schedule_both(LensTranslatePage *self, guint delay_ms) {
  lens_page_schedule(LENS_PAGE(self), delay_ms);
  lens_compare_schedule(&self->compare, delay_ms);
}

static void on_text_changed(GtkTextBuffer *buffer, gpointer data) {
  LensTranslatePage *self = data;
  schedule_both(self, DEBOUNCE_MS);
}

/* ---- loading a model ---- */

static void *load_translator(const char *path, attn_error *err) { return attn_translator_load(path, err); }
static void free_translator(gpointer t) { attn_translator_free(t); }

static void model_ready(LensPage *page, gboolean loaded, const GError *error) {
  LensTranslatePage *self = LENS_TRANSLATE_PAGE(page);
  if (error) {
    clear_trace(self, "No model loaded.");
  } else if (loaded) {
    if (!self->beam_chosen) { /* the decoding the model card measured, until the user picks one */
      self->updating++;
      gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->beam_spin), attn_translator_default_beam(lens_page_get_model(page)));
      self->updating--;
    }
    start_translation(page);
  }
  update_attention_controls(self);
}

#define EXAMPLE_SENTENCE "A little girl is climbing into a wooden playhouse."

/* A model's own example replaces the text only while the text is still an example: the
 * user's typing is never overwritten. The example is shown selected, so that the first key a
 * user types replaces it instead of extending it. */
static void show_example(LensTranslatePage *self, const LensModelEntry *e) {
  g_autofree char *text = lens_translate_page_get_text(self);
  gboolean untouched = !*text || g_strcmp0(text, EXAMPLE_SENTENCE) == 0;
  for (guint i = 0; !untouched && i < lens_page_get_n_models(LENS_PAGE(self)); i++) {
    const LensModelEntry *m = lens_page_get_model_entry(LENS_PAGE(self), i);
    untouched = m->example && strcmp(text, m->example) == 0;
  }
  if (!untouched) return;
  lens_translate_page_set_text(self, e->example ? e->example : EXAMPLE_SENTENCE);
  GtkTextIter start, end;
  gtk_text_buffer_get_bounds(self->buffer, &start, &end);
  gtk_text_buffer_select_range(self->buffer, &end, &start);
}

static void translate_model_selected(LensPage *page, const LensModelEntry *e) {
  show_example(LENS_TRANSLATE_PAGE(page), e);
}

/* ---- what the view shows ---- */

static char *display_piece(const char *tok) {
  if (g_str_has_prefix(tok, "\xe2\x96\x81")) return g_strdup(tok + 3);
  return g_strdup(tok);
}

static void on_token_clicked(GtkButton *button, gpointer data) {
  LensTranslatePage *self = data;
  int row = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(button), "row"));
  const LensRenderOptions *o = lens_trace_view_get_options(self->view);
  lens_trace_view_select(self->view, o->highlight_row == row ? -1 : row, -1);
}

/* The translation as buttons, one per piece, faded by how unsure the model was. */
static void fill_tokens(LensTranslatePage *self, const attn_trace *t) {
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child(self->tokens_box))) gtk_flow_box_remove(GTK_FLOW_BOX(self->tokens_box), child);
  for (int i = 0; t && i < t->output.n; i++) {
    g_autofree char *label = display_piece(t->output.tokens[i]);
    GtkWidget *b = gtk_button_new_with_label(label);
    gtk_widget_add_css_class(b, "flat");
    gtk_widget_add_css_class(b, "token");
    float p = t->output.probs ? t->output.probs[i] : 1.0f;
    gtk_widget_set_opacity(b, 0.35 + 0.65 * p);
    g_autofree char *tip = g_strdup_printf("“%s”: probability %.3f — click to highlight its row", label, (double)p);
    gtk_widget_set_tooltip_text(b, tip);
    g_object_set_data(G_OBJECT(b), "row", GINT_TO_POINTER(i));
    g_signal_connect(b, "clicked", G_CALLBACK(on_token_clicked), self);
    gtk_flow_box_append(GTK_FLOW_BOX(self->tokens_box), b);
  }
}

static void fill_map_names(LensTranslatePage *self, const attn_trace *t, int keep) {
  self->updating++;
  guint old = g_list_model_get_n_items(G_LIST_MODEL(self->map_names));
  const char **names = g_new0(const char *, (t ? t->n_maps : 0) + 1);
  for (int i = 0; t && i < t->n_maps; i++) names[i] = t->maps[i].name;
  gtk_string_list_splice(self->map_names, 0, old, names);
  g_free(names);
  if (t && keep < t->n_maps) gtk_drop_down_set_selected(GTK_DROP_DOWN(self->map_dropdown), (guint)keep);
  self->updating--;
}

static void fill_hypotheses(LensTranslatePage *self) {
  self->updating++;
  guint old = g_list_model_get_n_items(G_LIST_MODEL(self->hyp_names));
  int n = self->trace ? 1 + self->trace->n_hyps : 0;
  char **names = g_new0(char *, n + 1);
  for (int k = 0; k < n; k++) {
    const attn_tokens *o = k == 0 ? &self->trace->output : &self->trace->hyps[k - 1].output;
    double score = k == 0 ? self->trace->score : self->trace->hyps[k - 1].score;
    names[k] = g_strdup_printf("%d · %.2f · %s", k + 1, score, o->text ? o->text : "");
  }
  gtk_string_list_splice(self->hyp_names, 0, old, (const char *const *)names);
  g_strfreev(names);
  if (self->hyp_index >= n) self->hyp_index = 0;
  gtk_drop_down_set_selected(GTK_DROP_DOWN(self->hyp_dropdown), (guint)self->hyp_index);
  gtk_widget_set_visible(self->hyp_dropdown, n > 1);
  self->updating--;
}

/* What a view shows of t: hypothesis hyp, merged into words if asked. */
static attn_trace *shown_of(LensTranslatePage *self, const attn_trace *t, int hyp) {
  if (!t) return NULL;
  attn_trace *sel = attn_trace_select_hypothesis(t, hyp);
  if (sel && gtk_check_button_get_active(GTK_CHECK_BUTTON(self->words_check))) {
    attn_trace *words = attn_trace_merge_words(sel);
    attn_trace_free(sel);
    sel = words;
  }
  return sel;
}

static attn_trace *displayed_trace(LensTranslatePage *self) { return shown_of(self, self->trace, self->hyp_index); }
static attn_trace *compare_display(LensPage *page, const attn_trace *t) { return shown_of(LENS_TRANSLATE_PAGE(page), t, 0); }
static void compare_changed(LensPage *page) { g_signal_emit(page, signals[SIGNAL_TRACE_CHANGED], 0); }

static void update_title(LensTranslatePage *self, LensRenderOptions *o, const attn_trace *t) {
  g_free(self->title);
  self->title = NULL;
  if (t && o->map_index < t->n_maps) {
    gboolean words = gtk_check_button_get_active(GTK_CHECK_BUTTON(self->words_check));
    self->title = g_strdup_printf("%s — %s%s", t->model, t->maps[o->map_index].name,
                                  words ? " — words: source pieces summed, output pieces averaged" : "");
  }
  o->title = self->title;
}

static void on_thumbnail_pressed(GtkGestureClick *g, int n, double x, double y, gpointer data);

/* One small matrix per layer and head (cross-attention), laid out layer by row. */
static void fill_heads_grid(LensTranslatePage *self, const attn_trace *t) {
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child(self->heads_grid))) gtk_grid_remove(GTK_GRID(self->heads_grid), child);
  for (int i = 0; t && i < t->n_maps; i++) {
    const attn_map *m = &t->maps[i];
    if (m->kind != ATTN_MAP_CROSS || m->head < 0) continue;
    GtkWidget *thumb = lens_trace_view_new();
    LensRenderOptions o = *lens_trace_view_get_options(self->view);
    o.map_index = i, o.show_colorbar = 0, o.show_values = 0, o.highlight_row = o.highlight_col = -1;
    o.title = m->name, o.font_size = 8;
    lens_trace_view_set_options(LENS_TRACE_VIEW(thumb), &o);
    lens_trace_view_set_trace(LENS_TRACE_VIEW(thumb), attn_trace_select_hypothesis(t, 0));
    gtk_widget_set_size_request(thumb, 220, 180);
    gtk_widget_set_tooltip_text(thumb, "Click to open this head");
    g_object_set_data(G_OBJECT(thumb), "map", GINT_TO_POINTER(i));
    GtkGesture *click = gtk_gesture_click_new();
    gtk_event_controller_set_propagation_phase(GTK_EVENT_CONTROLLER(click), GTK_PHASE_CAPTURE);
    g_signal_connect(click, "pressed", G_CALLBACK(on_thumbnail_pressed), self);
    gtk_widget_add_controller(thumb, GTK_EVENT_CONTROLLER(click));
    gtk_grid_attach(GTK_GRID(self->heads_grid), thumb, m->head, m->layer, 1, 1);
  }
}

/* A control that means nothing for this model: greyed, its tooltip saying why (else its own). */
static void set_available(GtkWidget *w, gboolean on, const char *why) {
  if (!g_object_get_data(G_OBJECT(w), "lens-tooltip")) {
    const char *own = gtk_widget_get_tooltip_text(w);
    g_object_set_data_full(G_OBJECT(w), "lens-tooltip", g_strdup(own ? own : ""), g_free);
  }
  const char *own = g_object_get_data(G_OBJECT(w), "lens-tooltip");
  gtk_widget_set_sensitive(w, on);
  gtk_widget_set_tooltip_text(w, on ? (*own ? own : NULL) : why);
}

gboolean lens_translate_page_has_attention(LensTranslatePage *self) {
  gpointer model = lens_page_get_model(LENS_PAGE(self));
  if (model) return attn_translator_has_attention(model);
  return !(self->trace && lens_render_is_bottleneck(self->trace)); /* while the next model loads */
}

/* A model without attention has no maps, heads, cell values or self-attention to choose: those are
 * off and say why. Matrix, Flow and Colours stay for the second model in compare mode. */
static void update_attention_controls(LensTranslatePage *self) {
  static const char why[] = "This model has no attention: it reads the whole sentence into one vector (shown below) "
                            "and writes the translation from that vector alone.";
  gboolean on = lens_translate_page_has_attention(self), other = on || self->compare.on;
  GtkWidget *attention_only[] = {gtk_widget_get_parent(self->map_dropdown), self->heads_toggle, self->values_check,
                                 self->self_check};
  for (size_t i = 0; i < G_N_ELEMENTS(attention_only); i++) set_available(attention_only[i], on, why);
  GtkWidget *views[] = {self->matrix_button, self->flow_button, gtk_widget_get_parent(self->cmap_dropdown)};
  for (size_t i = 0; i < G_N_ELEMENTS(views); i++) set_available(views[i], other, why);
  if (!on && gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(self->heads_toggle)))
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(self->heads_toggle), FALSE);
}

static void refresh_display(LensTranslatePage *self) {
  attn_trace *t = displayed_trace(self);
  LensRenderOptions o = *lens_trace_view_get_options(self->view);
  int keep = (int)gtk_drop_down_get_selected(GTK_DROP_DOWN(self->map_dropdown));
  o.map_index = t && keep >= 0 && keep < t->n_maps ? keep : 0;
  update_title(self, &o, t);
  fill_tokens(self, t);
  fill_map_names(self, t, o.map_index);
  fill_hypotheses(self);
  if (gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(self->heads_toggle))) fill_heads_grid(self, t);
  lens_trace_view_set_options(self->view, &o);
  lens_trace_view_set_trace(self->view, t);
  apply_step(self);
  lens_compare_refresh(&self->compare, &o);
  update_attention_controls(self);
}

/* ---- controls ---- */

static void on_thumbnail_pressed(GtkGestureClick *g, int n, double x, double y, gpointer data) {
  GtkWidget *thumb = gtk_event_controller_get_widget(GTK_EVENT_CONTROLLER(g));
  lens_translate_page_select_map(data, GPOINTER_TO_INT(g_object_get_data(G_OBJECT(thumb), "map")));
  lens_translate_page_show_all_heads(data, FALSE);
  gtk_gesture_set_state(GTK_GESTURE(g), GTK_EVENT_SEQUENCE_CLAIMED);
}

static void apply_options(LensTranslatePage *self) {
  LensRenderOptions o = *lens_trace_view_get_options(self->view);
  o.view = gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(self->flow_button)) ? LENS_VIEW_FLOW : LENS_VIEW_MATRIX;
  o.colormap = (LensColormap)gtk_drop_down_get_selected(GTK_DROP_DOWN(self->cmap_dropdown));
  o.show_values = gtk_check_button_get_active(GTK_CHECK_BUTTON(self->values_check));
  o.map_index = (int)gtk_drop_down_get_selected(GTK_DROP_DOWN(self->map_dropdown));
  const attn_trace *t = lens_trace_view_get_trace(self->view);
  if (!t || o.map_index < 0 || o.map_index >= t->n_maps) o.map_index = 0;
  if (o.map_index != lens_trace_view_get_options(self->view)->map_index) o.highlight_row = o.highlight_col = -1;
  update_title(self, &o, t);
  lens_trace_view_set_options(self->view, &o);
  apply_step(self);
  lens_compare_refresh(&self->compare, &o);
}

static void on_option_changed(GObject *object, GParamSpec *pspec, gpointer data) {
  LensTranslatePage *self = data;
  if (!self->updating) apply_options(self);
}

static void on_display_changed(GObject *object, GParamSpec *pspec, gpointer data) {
  LensTranslatePage *self = data;
  if (self->updating) return;
  self->hyp_index = (int)gtk_drop_down_get_selected(GTK_DROP_DOWN(self->hyp_dropdown));
  if (self->hyp_index < 0 || (guint)self->hyp_index == GTK_INVALID_LIST_POSITION) self->hyp_index = 0;
  refresh_display(self);
}

static void on_retranslate(GObject *object, GParamSpec *pspec, gpointer data) {
  LensTranslatePage *self = data;
  if (self->updating) return;
  schedule_both(self, 0);
}

static void on_beam_changed(GObject *object, GParamSpec *pspec, gpointer data) {
  LensTranslatePage *self = data;
  if (self->updating) return;
  self->beam_chosen = TRUE;
  schedule_both(self, 0);
}

static void on_heads_toggled(GtkToggleButton *b, gpointer data) {
  LensTranslatePage *self = data;
  gboolean all = gtk_toggle_button_get_active(b);
  if (all) fill_heads_grid(self, lens_trace_view_get_trace(self->view));
  gtk_stack_set_visible_child_name(GTK_STACK(self->stack), all ? "heads" : "single");
}

/* ---- step-through decoding ---- */

static gboolean stepping(LensTranslatePage *self) {
  return gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(self->step_toggle));
}

/* "Step 3 of 7: chose “Mann” (0.95). It weighed: Mann 0.95 · Mensch 0.02 · ..." for output t. */
static char *describe_step(const attn_trace *t, int step) {
  const attn_tokens *o = &t->output;
  g_autofree char *chosen = display_piece(o->tokens[step]);
  GString *s = g_string_new(NULL);
  g_string_printf(s, "Step %d of %d: chose “%s” (%.2f).", step + 1, o->n, chosen, o->probs ? (double)o->probs[step] : 1.0);
  if (o->n_cand == 0) {
    g_string_append(s, " The candidates are kept per piece: turn Words off to see them.");
    return g_string_free(s, FALSE);
  }
  g_string_append(s, " It weighed:");
  for (int j = 0; j < o->n_cand; j++) {
    g_autofree char *piece = display_piece(o->cand_tokens[(size_t)step * o->n_cand + j]);
    g_string_append_printf(s, "%s %s %.2f", j ? " ·" : "", piece, (double)o->cand_probs[(size_t)step * o->n_cand + j]);
  }
  return g_string_free(s, FALSE);
}

/* At step t the view shows the outputs up to t, row t highlighted, and the candidates of t. */
static void apply_step(LensTranslatePage *self) {
  const attn_trace *t = lens_trace_view_get_trace(self->view);
  LensRenderOptions o = *lens_trace_view_get_options(self->view);
  gboolean on = stepping(self) && t && t->output.n > 0;
  gtk_widget_set_visible(self->step_row, stepping(self));
  int step = on ? CLAMP((int)gtk_range_get_value(GTK_RANGE(self->step_scale)), 0, t->output.n - 1) : -1;
  if (on) {
    self->updating++;
    gtk_range_set_range(GTK_RANGE(self->step_scale), 0, MAX(1, t->output.n - 1));
    gtk_range_set_value(GTK_RANGE(self->step_scale), step);
    self->updating--;
    g_autofree char *text = describe_step(t, step);
    gtk_label_set_text(GTK_LABEL(self->candidates_label), text);
  } else {
    gtk_label_set_text(GTK_LABEL(self->candidates_label), stepping(self) ? "Type a sentence to step through its translation." : "");
  }
  if (on || o.reveal_rows > 0) o.highlight_row = step, o.highlight_col = -1;
  o.reveal_rows = on ? step + 1 : 0;
  lens_trace_view_set_options(self->view, &o);
}

static void on_step_changed(GObject *object, GParamSpec *pspec, gpointer data) {
  LensTranslatePage *self = data;
  if (self->updating) return;
  if (stepping(self) && lens_trace_view_get_options(self->view)->view != LENS_VIEW_MATRIX)
    lens_translate_page_set_view(self, LENS_VIEW_MATRIX); /* rows appear one by one in the matrix */
  apply_step(self);
  if (GTK_IS_TOGGLE_BUTTON(object) && stepping(self)) gtk_widget_grab_focus(self->step_scale); /* Left, Right */
}

static void on_step_moved(GtkRange *range, gpointer data) {
  LensTranslatePage *self = data;
  if (!self->updating) apply_step(self);
}

/* ---- export ---- */

static LensExportJob *translate_export_job(LensPage *page, GError **error) {
  LensTranslatePage *self = LENS_TRANSLATE_PAGE(page);
  LensRenderOptions o = *lens_trace_view_get_options(self->view);
  lens_compare_export_options(&self->compare, &o); /* compare mode: both maps in one picture */
  return lens_export_job_new(lens_trace_view_get_trace(self->view), &o,
                             "There is no attention to export yet: type a sentence first.", error);
}

/* ---- compare mode ---- */

static void update_compare(LensTranslatePage *self) {
  const LensModelEntry *e =
      lens_page_get_model_entry(LENS_PAGE(self), gtk_drop_down_get_selected(GTK_DROP_DOWN(self->compare_dropdown)));
  gboolean on = gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(self->compare_toggle)) && e;
  gtk_widget_set_visible(self->compare_dropdown, gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(self->compare_toggle)));
  lens_compare_set_model(&self->compare, on ? e->path : NULL);
  update_attention_controls(self);
}

static void on_compare_changed(GObject *object, GParamSpec *pspec, gpointer data) {
  LensTranslatePage *self = data;
  if (!self->updating) update_compare(self);
}

static gboolean translate_busy(LensPage *page) { return lens_compare_busy(&LENS_TRANSLATE_PAGE(page)->compare); }



/* ---- building the page ---- */

static void build_input(LensTranslatePage *self) {
  gtk_box_append(GTK_BOX(self), lens_page_get_model_row(LENS_PAGE(self)));
  gtk_box_append(GTK_BOX(self), lens_page_get_info_bar(LENS_PAGE(self)));
  self->text_view = gtk_text_view_new();
  lens_page_set_focus_widget(LENS_PAGE(self), self->text_view); /* typing works at once */
  self->buffer = gtk_text_view_get_buffer(GTK_TEXT_VIEW(self->text_view));
  gtk_text_view_set_wrap_mode(GTK_TEXT_VIEW(self->text_view), GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_left_margin(GTK_TEXT_VIEW(self->text_view), 8);
  gtk_text_view_set_top_margin(GTK_TEXT_VIEW(self->text_view), 6);
  gtk_widget_add_css_class(self->text_view, "source-text");
  gtk_accessible_update_property(GTK_ACCESSIBLE(self->text_view), GTK_ACCESSIBLE_PROPERTY_LABEL, "Text to translate", -1);
  GtkWidget *scroll = gtk_scrolled_window_new();
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), self->text_view);
  gtk_scrolled_window_set_min_content_height(GTK_SCROLLED_WINDOW(scroll), 64);
  gtk_widget_add_css_class(scroll, "card");
  gtk_box_append(GTK_BOX(self), scroll);
  g_signal_connect(self->buffer, "changed", G_CALLBACK(on_text_changed), self);
}

static void build_output(LensTranslatePage *self) {
  GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
  self->tokens_box = gtk_flow_box_new();
  gtk_flow_box_set_selection_mode(GTK_FLOW_BOX(self->tokens_box), GTK_SELECTION_NONE);
  gtk_flow_box_set_max_children_per_line(GTK_FLOW_BOX(self->tokens_box), 64);
  gtk_widget_set_hexpand(self->tokens_box, TRUE);
  gtk_accessible_update_property(GTK_ACCESSIBLE(self->tokens_box), GTK_ACCESSIBLE_PROPERTY_LABEL, "Translation", -1);
  self->status = gtk_label_new("");
  gtk_widget_add_css_class(self->status, "dim-label");
  gtk_box_append(GTK_BOX(row), self->tokens_box);
  gtk_box_append(GTK_BOX(row), lens_page_get_spinner(LENS_PAGE(self)));
  gtk_box_append(GTK_BOX(row), self->status);
  gtk_box_append(GTK_BOX(self), row);
}

/* Less frequent display choices live in a popover so the toolbar fits a laptop screen. */
static GtkWidget *display_menu(LensTranslatePage *self) {
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
  gtk_box_append(GTK_BOX(box), self->values_check);
  gtk_box_append(GTK_BOX(box), self->self_check);
  GtkWidget *pop = gtk_popover_new();
  gtk_popover_set_child(GTK_POPOVER(pop), box);
  GtkWidget *b = gtk_menu_button_new();
  gtk_menu_button_set_label(GTK_MENU_BUTTON(b), "More");
  gtk_menu_button_set_popover(GTK_MENU_BUTTON(b), pop);
  gtk_widget_set_tooltip_text(b, "Cell values and self-attention maps");
  return b;
}

static void build_toolbar(LensTranslatePage *self) {
  GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 10);
  gtk_widget_add_css_class(bar, "toolbar");
  GtkWidget *views = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_add_css_class(views, "linked");
  self->matrix_button = gtk_toggle_button_new_with_label("Matrix");
  self->flow_button = gtk_toggle_button_new_with_label("Flow");
  gtk_toggle_button_set_group(GTK_TOGGLE_BUTTON(self->flow_button), GTK_TOGGLE_BUTTON(self->matrix_button));
  gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(self->matrix_button), TRUE);
  gtk_box_append(GTK_BOX(views), self->matrix_button);
  gtk_box_append(GTK_BOX(views), self->flow_button);
  self->map_dropdown = lens_page_dropdown(&self->map_names, NULL);
  self->heads_toggle = gtk_toggle_button_new_with_label("All heads");
  const char *maps[] = {"viridis", "magma", "cividis", "greys", NULL};
  self->cmap_dropdown = lens_page_dropdown(NULL, maps);
  self->beam_spin = gtk_spin_button_new_with_range(1, 8, 1);
  self->hyp_dropdown = lens_page_dropdown_short(&self->hyp_names, 22);
  gtk_widget_set_visible(self->hyp_dropdown, FALSE);
  self->words_check = gtk_check_button_new_with_label("Words");
  gtk_widget_set_tooltip_text(self->words_check, "Merge sub-word pieces into words: attention summed over a word's source pieces, averaged over its output pieces");
  self->values_check = gtk_check_button_new_with_label("Values");
  self->self_check = gtk_check_button_new_with_label("Self-attention");
  gtk_widget_set_tooltip_text(self->self_check, "Also compute the encoder's and decoder's self-attention maps");
  GtkWidget *items[] = {views, lens_page_labelled("Map", self->map_dropdown), self->heads_toggle, lens_page_labelled("Colours", self->cmap_dropdown),
                        lens_page_labelled("Beam", self->beam_spin), self->words_check, display_menu(self),
                        self->hyp_dropdown}; /* last: a long hypothesis must not push the toggles out of view */
  for (size_t i = 0; i < G_N_ELEMENTS(items); i++) gtk_box_append(GTK_BOX(bar), items[i]);
  build_step_controls(self, bar, views);
  GtkWidget *scroll = gtk_scrolled_window_new();
  gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_AUTOMATIC, GTK_POLICY_NEVER);
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), bar);
  gtk_box_append(GTK_BOX(self), scroll);
  gtk_box_append(GTK_BOX(self), self->step_row);
}

static void build_views(LensTranslatePage *self) {
  self->view = LENS_TRACE_VIEW(lens_trace_view_new());
  lens_trace_view_set_placeholder(self->view, "Type a sentence above to see where the model looks.");
  gtk_widget_set_hexpand(GTK_WIDGET(self->view), TRUE);
  gtk_widget_set_vexpand(GTK_WIDGET(self->view), TRUE);
  lens_page_add_zoom_view(LENS_PAGE(self), self->view);
  GtkWidget *scroll = gtk_scrolled_window_new();
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), GTK_WIDGET(self->view));
  gtk_widget_set_hexpand(scroll, TRUE);
  lens_compare_init(&self->compare, LENS_PAGE(self), self->view, load_translator, free_translator, translate_in_thread,
                    translate_input_free);
  self->compare.make_input = compare_input, self->compare.display = compare_display, self->compare.changed = compare_changed;
  GtkWidget *single = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6); /* the second model's view beside, in compare mode */
  gtk_box_set_homogeneous(GTK_BOX(single), TRUE);
  gtk_box_append(GTK_BOX(single), scroll);
  gtk_box_append(GTK_BOX(single), self->compare.scroll);
  self->heads_grid = gtk_grid_new();
  gtk_grid_set_row_spacing(GTK_GRID(self->heads_grid), 6);
  gtk_grid_set_column_spacing(GTK_GRID(self->heads_grid), 6);
  GtkWidget *heads = gtk_scrolled_window_new();
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(heads), self->heads_grid);
  self->stack = gtk_stack_new();
  gtk_stack_add_named(GTK_STACK(self->stack), single, "single");
  gtk_stack_add_named(GTK_STACK(self->stack), heads, "heads");
  gtk_widget_set_vexpand(self->stack, TRUE);
  gtk_box_append(GTK_BOX(self), self->stack);
}

/* Step: a toggle in the toolbar, then a slider over the output steps and what each weighed. */
static void build_step_controls(LensTranslatePage *self, GtkWidget *toolbar, GtkWidget *after) {
  self->step_toggle = gtk_toggle_button_new_with_label("Step");
  gtk_widget_set_tooltip_text(self->step_toggle, "Step through the decoding one output token at a time (Left, Right)");
  gtk_box_insert_child_after(GTK_BOX(toolbar), self->step_toggle, after); /* seen without scrolling */
  self->step_scale = gtk_scale_new_with_range(GTK_ORIENTATION_HORIZONTAL, 0, 1, 1);
  gtk_scale_set_digits(GTK_SCALE(self->step_scale), 0);
  gtk_scale_set_draw_value(GTK_SCALE(self->step_scale), FALSE);
  gtk_widget_set_size_request(self->step_scale, 240, -1);
  gtk_accessible_update_property(GTK_ACCESSIBLE(self->step_scale), GTK_ACCESSIBLE_PROPERTY_LABEL, "Decoding step", -1);
  self->candidates_label = gtk_label_new("");
  gtk_label_set_xalign(GTK_LABEL(self->candidates_label), 0);
  gtk_label_set_wrap(GTK_LABEL(self->candidates_label), TRUE);
  gtk_label_set_selectable(GTK_LABEL(self->candidates_label), TRUE);
  gtk_widget_set_hexpand(self->candidates_label, TRUE);
  self->step_row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_box_append(GTK_BOX(self->step_row), self->step_scale);
  gtk_box_append(GTK_BOX(self->step_row), self->candidates_label);
  gtk_widget_set_visible(self->step_row, FALSE);
  g_signal_connect(self->step_toggle, "notify::active", G_CALLBACK(on_step_changed), self);
  g_signal_connect(self->step_scale, "value-changed", G_CALLBACK(on_step_moved), self);
}

/* "Compare with" another model, beside the model chooser. */
static void build_compare_controls(LensTranslatePage *self) {
  self->compare_toggle = gtk_toggle_button_new_with_label("Compare");
  gtk_widget_set_tooltip_text(self->compare_toggle, "Show a second model's attention beside this one, for the same text");
  self->compare_dropdown = gtk_drop_down_new(g_object_ref(lens_page_get_model_names(LENS_PAGE(self))), NULL);
  gtk_accessible_update_property(GTK_ACCESSIBLE(self->compare_dropdown), GTK_ACCESSIBLE_PROPERTY_LABEL, "Second model", -1);
  gtk_widget_set_visible(self->compare_dropdown, FALSE);
  GtkWidget *row = lens_page_get_model_row(LENS_PAGE(self));
  gtk_box_append(GTK_BOX(row), self->compare_toggle);
  gtk_box_append(GTK_BOX(row), self->compare_dropdown);
  g_signal_connect(self->compare_toggle, "notify::active", G_CALLBACK(on_compare_changed), self);
  g_signal_connect(self->compare_dropdown, "notify::selected", G_CALLBACK(on_compare_changed), self);
}

static void connect_controls(LensTranslatePage *self) {
  g_signal_connect(self->flow_button, "notify::active", G_CALLBACK(on_option_changed), self);
  g_signal_connect(self->cmap_dropdown, "notify::selected", G_CALLBACK(on_option_changed), self);
  g_signal_connect(self->values_check, "notify::active", G_CALLBACK(on_option_changed), self);
  g_signal_connect(self->map_dropdown, "notify::selected", G_CALLBACK(on_option_changed), self);
  g_signal_connect(self->words_check, "notify::active", G_CALLBACK(on_display_changed), self);
  g_signal_connect(self->hyp_dropdown, "notify::selected", G_CALLBACK(on_display_changed), self);
  g_signal_connect(self->beam_spin, "notify::value", G_CALLBACK(on_beam_changed), self);
  g_signal_connect(self->self_check, "notify::active", G_CALLBACK(on_retranslate), self);
  g_signal_connect(self->heads_toggle, "toggled", G_CALLBACK(on_heads_toggled), self);
}

static void lens_translate_page_init(LensTranslatePage *self) {
  build_input(self);
  build_output(self);
  build_toolbar(self);
  build_views(self);
  build_compare_controls(self);
  connect_controls(self);
}

static void lens_translate_page_dispose(GObject *object) {
  lens_compare_dispose(&LENS_TRANSLATE_PAGE(object)->compare);
  G_OBJECT_CLASS(lens_translate_page_parent_class)->dispose(object);
}

static void lens_translate_page_finalize(GObject *object) {
  LensTranslatePage *self = LENS_TRANSLATE_PAGE(object);
  attn_trace_free(self->trace);
  lens_compare_clear(&self->compare);
  g_free(self->title);
  G_OBJECT_CLASS(lens_translate_page_parent_class)->finalize(object);
}

static void lens_translate_page_class_init(LensTranslatePageClass *klass) {
  /* the first of these that is installed opens the window (the same list as app/cli_translate.c's) */
  static const char *const defaults[] = {"transformer-en-de-general", "transformer-en-de", "rnn-attn-en-de", NULL};
  LensPageClass *page_class = LENS_PAGE_CLASS(klass);
  page_class->export_job = translate_export_job;
  page_class->model_selected = translate_model_selected;
  page_class->load_model = load_translator;
  page_class->free_model = free_translator;
  page_class->start = start_translation;
  page_class->work = translate_in_thread;
  page_class->input_free = translate_input_free;
  page_class->show_result = translation_done;
  page_class->model_ready = model_ready;
  page_class->busy = translate_busy;
  G_OBJECT_CLASS(klass)->dispose = lens_translate_page_dispose;
  page_class->task = "translate";
  page_class->default_models = defaults;
  page_class->no_model_message = "No translation model was found: open a model folder (Ctrl+O).";
  G_OBJECT_CLASS(klass)->finalize = lens_translate_page_finalize;
  signals[SIGNAL_TRACE_CHANGED] =
      g_signal_new("trace-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

GtkWidget *lens_translate_page_new(void) { return g_object_new(LENS_TYPE_TRANSLATE_PAGE, NULL); }

/* ---- public setters (also what the tests drive) ---- */

void lens_translate_page_set_text(LensTranslatePage *self, const char *text) {
  gtk_text_buffer_set_text(self->buffer, text, -1);
}

char *lens_translate_page_get_text(LensTranslatePage *self) {
  GtkTextIter a, b;
  gtk_text_buffer_get_bounds(self->buffer, &a, &b);
  return gtk_text_buffer_get_text(self->buffer, &a, &b, FALSE);
}

LensTraceView *lens_translate_page_get_view(LensTranslatePage *self) { return self->view; }
const attn_trace *lens_translate_page_get_trace(LensTranslatePage *self) { return self->trace; }
double lens_translate_page_get_last_ms(LensTranslatePage *self) { return self->last_ms; }

void lens_translate_page_set_beam(LensTranslatePage *self, int beam) {
  self->beam_chosen = TRUE;
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->beam_spin), beam);
}
int lens_translate_page_get_beam(LensTranslatePage *self) {
  return gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(self->beam_spin));
}
void lens_translate_page_set_merge_words(LensTranslatePage *self, gboolean merge) {
  gtk_check_button_set_active(GTK_CHECK_BUTTON(self->words_check), merge);
}
void lens_translate_page_set_view(LensTranslatePage *self, LensView view) {
  gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(view == LENS_VIEW_FLOW ? self->flow_button : self->matrix_button), TRUE);
}
void lens_translate_page_set_colormap(LensTranslatePage *self, LensColormap map) {
  gtk_drop_down_set_selected(GTK_DROP_DOWN(self->cmap_dropdown), (guint)map);
}
void lens_translate_page_select_map(LensTranslatePage *self, int index) {
  gtk_drop_down_set_selected(GTK_DROP_DOWN(self->map_dropdown), (guint)index);
}
void lens_translate_page_select_hypothesis(LensTranslatePage *self, int index) {
  gtk_drop_down_set_selected(GTK_DROP_DOWN(self->hyp_dropdown), (guint)index);
}
void lens_translate_page_show_all_heads(LensTranslatePage *self, gboolean all) {
  gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(self->heads_toggle), all);
}

gboolean lens_translate_page_set_compare(LensTranslatePage *self, const char *name) {
  g_return_val_if_fail(LENS_IS_TRANSLATE_PAGE(self), FALSE);
  if (!name) {
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(self->compare_toggle), FALSE);
    return TRUE;
  }
  for (guint i = 0; i < lens_page_get_n_models(LENS_PAGE(self)); i++) {
    const LensModelEntry *e = lens_page_get_model_entry(LENS_PAGE(self), i);
    if (g_strcmp0(e->name, name) != 0 && g_strcmp0(e->path, name) != 0) continue;
    self->updating++;
    gtk_drop_down_set_selected(GTK_DROP_DOWN(self->compare_dropdown), i);
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(self->compare_toggle), TRUE);
    self->updating--;
    update_compare(self);
    return TRUE;
  }
  return FALSE;
}

LensTraceView *lens_translate_page_get_compare_view(LensTranslatePage *self) { return self->compare.view; }
const attn_trace *lens_translate_page_get_compare_trace(LensTranslatePage *self) { return self->compare.trace; }

void lens_translate_page_set_step(LensTranslatePage *self, int step) {
  g_return_if_fail(LENS_IS_TRANSLATE_PAGE(self));
  if (step >= 0) gtk_range_set_value(GTK_RANGE(self->step_scale), step);
  gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(self->step_toggle), step >= 0);
  apply_step(self);
}

int lens_translate_page_get_step(LensTranslatePage *self) {
  return stepping(self) ? lens_trace_view_get_options(self->view)->reveal_rows - 1 : -1;
}

const char *lens_translate_page_get_step_text(LensTranslatePage *self) {
  return gtk_label_get_text(GTK_LABEL(self->candidates_label));
}

GtkWidget *lens_translate_page_get_step_scale(LensTranslatePage *self) { return self->step_scale; }
