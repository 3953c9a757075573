/* Finding model directories and sharing loaded translators between threads. */
#include "lens_models.h"

#include <cjson/cJSON.h>
#include <string.h>

#include "attn_model_dir.h"

G_DEFINE_QUARK(lens-error-quark, lens_error)

void lens_model_entry_free(LensModelEntry *e) {
  if (!e) return;
  g_free(e->name), g_free(e->display_name), g_free(e->path), g_free(e->task), g_free(e->card), g_free(e->example);
  g_free(e->pair), g_free(e->domain), g_free(e->facts);
  g_free(e);
}

LensModelEntry *lens_model_entry_copy(const LensModelEntry *e) {
  LensModelEntry *c = g_new0(LensModelEntry, 1);
  c->name = g_strdup(e->name), c->display_name = g_strdup(e->display_name), c->path = g_strdup(e->path);
  c->task = g_strdup(e->task), c->card = g_strdup(e->card), c->example = g_strdup(e->example);
  c->pair = g_strdup(e->pair), c->domain = g_strdup(e->domain), c->facts = g_strdup(e->facts);
  c->user = e->user;
  return c;
}

char *lens_models_user_dir(void) {
  return g_build_filename(g_get_user_data_dir(), "attnlens", "models", NULL);
}

static char *read_card(const char *path) {
  g_autofree char *md = g_build_filename(path, "MODEL.md", NULL);
  char *text = NULL;
  if (!g_file_get_contents(md, &text, NULL, NULL) || !g_utf8_validate(text, -1, NULL)) {
    g_free(text);
    return g_strdup("This model has no MODEL.md: nothing is known about its training data or quality.");
  }
  return text;
}

/* An optional string of the config's "attnlens" object; NULL when absent or not a string. */
static char *config_text(const cJSON *cfg, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cfg, "attnlens"), key);
  return cJSON_IsString(v) && v->valuestring && *v->valuestring && g_utf8_validate(v->valuestring, -1, NULL)
             ? g_strdup(v->valuestring)
             : NULL;
}

/* "test_2016_flickr BLEU 37.38 (beam 4)" for each well-formed entry of attnlens.scores. */
static void append_scores(GString *out, const cJSON *cfg) {
  const cJSON *scores = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cfg, "attnlens"), "scores");
  const cJSON *s;
  if (!cJSON_IsArray(scores)) return;
  cJSON_ArrayForEach(s, scores) {
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(s, "set"), *metric = cJSON_GetObjectItemCaseSensitive(s, "metric");
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(s, "value"), *dec = cJSON_GetObjectItemCaseSensitive(s, "decoding");
    if (!cJSON_IsString(set) || !cJSON_IsString(metric) || !cJSON_IsNumber(value)) continue;
    g_string_append_printf(out, "\nMeasured: %s %s %.2f", set->valuestring, metric->valuestring, value->valuedouble);
    if (cJSON_IsString(dec)) g_string_append_printf(out, " (%s)", dec->valuestring);
  }
}

/* What the chooser and the card show beside MODEL.md: domain, training data, scores. */
static void read_facts(LensModelEntry *e, const cJSON *cfg) {
  g_autofree char *src = config_text(cfg, "source_lang"), *tgt = config_text(cfg, "target_lang");
  if (src && tgt) e->pair = g_strdup_printf("%s→%s", src, tgt);
  e->domain = config_text(cfg, "domain");
  g_autofree char *data = config_text(cfg, "training_data");
  GString *facts = g_string_new(NULL);
  if (e->domain) g_string_append_printf(facts, "\nDomain: %s", e->domain);
  if (data) g_string_append_printf(facts, "\nTrained on: %s", data);
  append_scores(facts, cfg);
  e->facts = facts->len ? g_strdup(facts->str + 1) : NULL;
  g_string_free(facts, TRUE);
}

LensModelEntry *lens_model_entry_read(const char *path, gboolean user, GError **error) {
  attn_error err = {0};
  attn_model_dir *dir = attn_model_dir_open(path, &err);
  if (!dir) {
    g_set_error(error, LENS_ERROR, err.code, "%s", err.message);
    return NULL;
  }
  const char *task = "translate";
  attn_config_string(attn_model_dir_config(dir), "attnlens.task", "translate", &task, NULL);
  LensModelEntry *e = g_new0(LensModelEntry, 1);
  e->name = g_path_get_basename(path);
  e->display_name = g_strdup(attn_model_dir_display_name(dir));
  e->path = g_strdup(path);
  e->task = g_strdup(task);
  read_facts(e, attn_model_dir_config(dir));
  g_autofree char *md = read_card(path);
  e->card = e->facts ? g_strdup_printf("%s\n\n%s", e->facts, md) : g_steal_pointer(&md);
  const char *example = NULL;
  attn_config_string(attn_model_dir_config(dir), "attnlens.example", NULL, &example, NULL);
  e->example = g_strdup(example);
  e->user = user;
  attn_model_dir_close(dir);
  return e;
}

/* Task, language pair, then the broad-domain models before the specialised ones (domains sort
 * as their names: "everyday + news" before "image descriptions"; none last), then name. */
static int compare_entries(gconstpointer a, gconstpointer b) {
  const LensModelEntry *x = *(LensModelEntry *const *)a, *y = *(LensModelEntry *const *)b;
  int c = g_strcmp0(x->task, y->task);
  if (!c) c = g_strcmp0(x->pair, y->pair);
  if (!c) c = (x->domain == NULL) - (y->domain == NULL);
  if (!c) c = g_strcmp0(x->domain, y->domain);
  return c ? c : g_strcmp0(x->name, y->name);
}

GPtrArray *lens_models_scan(const char *const *folders, const gboolean *user_flags, int n_folders) {
  GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)lens_model_entry_free);
  for (int f = 0; f < n_folders; f++) {
    if (!folders[f]) continue;
    g_autoptr(GDir) dir = g_dir_open(folders[f], 0, NULL);
    const char *name;
    while (dir && (name = g_dir_read_name(dir))) {
      g_autofree char *path = g_build_filename(folders[f], name, NULL);
      if (!g_file_test(path, G_FILE_TEST_IS_DIR)) continue;
      LensModelEntry *e = lens_model_entry_read(path, user_flags[f], NULL);
      if (e) g_ptr_array_add(out, e);
    }
  }
  g_ptr_array_sort(out, compare_entries);
  return out;
}

struct LensModelRef {
  void *model;
  GDestroyNotify free_model;
};

static void model_ref_clear(gpointer data) {
  LensModelRef *r = data;
  r->free_model(r->model);
}

LensModelRef *lens_model_ref_acquire(LensModelRef *r) { return g_atomic_rc_box_acquire(r); }
void lens_model_ref_release(LensModelRef *r) {
  if (r) g_atomic_rc_box_release_full(r, model_ref_clear);
}
void *lens_model_ref_get(LensModelRef *r) { return r->model; }

/* What a worker loads: the task data of load_in_thread. */
typedef struct LensModelLoad {
  char *path;
  LensModelLoader load;
  GDestroyNotify free_model;
} LensModelLoad;

static void model_load_free(gpointer data) {
  LensModelLoad *l = data;
  g_free(l->path);
  g_free(l);
}

/* GTask thread body: returns a LensModelRef, or a LENS_ERROR naming what is wrong. */
static void load_in_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable) {
  LensModelLoad *l = data;
  attn_error err = {0};
  void *model = l->load(l->path, &err);
  if (!model) {
    g_task_return_new_error(task, LENS_ERROR, err.code, "%s", err.message);
    return;
  }
  LensModelRef *r = g_atomic_rc_box_new0(LensModelRef);
  *r = (LensModelRef){model, l->free_model};
  g_task_return_pointer(task, r, (GDestroyNotify)lens_model_ref_release);
}

void lens_model_slot_init(LensModelSlot *slot, gpointer page, LensModelLoader load, GDestroyNotify free_model,
                          LensModelReady ready) {
  *slot = (LensModelSlot){NULL, NULL, 0, page, load, free_model, ready};
}

static void slot_load_done(GObject *source, GAsyncResult *result, gpointer data) {
  LensModelSlot *slot = data; /* inside the page, which the task kept alive */
  const char *path = ((LensModelLoad *)g_task_get_task_data(G_TASK(result)))->path;
  g_autoptr(GError) error = NULL;
  LensModelRef *r = g_task_propagate_pointer(G_TASK(result), &error);
  slot->loading--;
  if (g_strcmp0(path, slot->path) != 0) { /* the user chose another meanwhile */
    lens_model_ref_release(r);
    slot->ready(slot->page, FALSE, NULL);
    return;
  }
  lens_model_ref_release(slot->model);
  slot->model = r;
  slot->ready(slot->page, r != NULL, error);
}

gboolean lens_model_slot_choose(LensModelSlot *slot, const char *path) {
  if (g_strcmp0(path, slot->path) == 0 && slot->model) return FALSE;
  g_free(slot->path);
  slot->path = g_strdup(path);
  g_clear_pointer(&slot->model, lens_model_ref_release);
  slot->loading++;
  LensModelLoad *l = g_new0(LensModelLoad, 1);
  *l = (LensModelLoad){g_strdup(path), slot->load, slot->free_model};
  GTask *task = g_task_new(slot->page, NULL, slot_load_done, slot);
  g_task_set_task_data(task, l, model_load_free);
  g_task_run_in_thread(task, load_in_thread);
  g_object_unref(task);
  return TRUE;
}

void lens_model_slot_clear(LensModelSlot *slot) {
  g_clear_pointer(&slot->model, lens_model_ref_release);
  g_clear_pointer(&slot->path, g_free);
}

/* ---- the card as Pango markup ---- */

/* Appends text escaped for markup, with `code` as monospace and **bold** as bold where the
 * marker has a partner on the line (a lone marker stays as written). */
static void append_inline(GString *out, const char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    const char *mark = s[i] == '`' ? "`" : (s[i] == '*' && i + 1 < n && s[i + 1] == '*') ? "**" : NULL;
    if (mark) {
      size_t m = strlen(mark);
      const char *end = g_strstr_len(s + i + m, (gssize)(n - i - m), mark);
      if (end && end > s + i + m) {
        g_autofree char *inner = g_markup_escape_text(s + i + m, end - (s + i + m));
        g_string_append_printf(out, m == 1 ? "<tt>%s</tt>" : "<b>%s</b>", inner);
        i = (size_t)(end - s) + m;
        continue;
      }
    }
    size_t j = i + 1;
    while (j < n && s[j] != '`' && s[j] != '*') j++;
    g_autofree char *plain = g_markup_escape_text(s + i, (gssize)(j - i));
    g_string_append(out, plain);
    i = j;
  }
}

/* A table row's cells, trimmed, without the outer pipes. */
static GPtrArray *table_cells(const char *line) {
  GPtrArray *cells = g_ptr_array_new_with_free_func(g_free);
  g_autofree char *copy = g_strdup(line);
  g_strstrip(copy);
  char *start = copy + (copy[0] == '|');
  size_t len = strlen(start);
  if (len && start[len - 1] == '|') start[len - 1] = '\0';
  g_auto(GStrv) parts = g_strsplit(start, "|", -1);
  for (int i = 0; parts[i]; i++) g_ptr_array_add(cells, g_strdup(g_strstrip(parts[i])));
  return cells;
}

static gboolean is_separator_row(GPtrArray *cells) {
  for (guint i = 0; i < cells->len; i++) {
    const char *c = g_ptr_array_index(cells, i);
    if (!*c || strspn(c, "-: ") != strlen(c)) return FALSE;
  }
  return cells->len > 0;
}

/* Lines [first, last) of a table, one paragraph per row, which wraps in a narrow card where
 * padded columns would not: the first cell in bold, then "column: value" for the others,
 * named by the header row (the one above |---|; without one, the values alone). */
static void append_table(GString *out, char **lines, int first, int last) {
  GPtrArray *header = NULL;
  for (int i = first; i < last; i++) {
    GPtrArray *cells = table_cells(lines[i]);
    if (i == first && i + 1 < last) {
      GPtrArray *next = table_cells(lines[i + 1]);
      gboolean sep = is_separator_row(next);
      g_ptr_array_unref(next);
      if (sep) {
        header = cells;
        i++;
        continue;
      }
    }
    if (is_separator_row(cells)) {
      g_ptr_array_unref(cells);
      continue;
    }
    for (guint c = 0; c < cells->len; c++) {
      const char *cell = g_ptr_array_index(cells, c);
      if (c == 0) {
        g_string_append(out, "<b>");
        append_inline(out, cell, strlen(cell));
        g_string_append(out, "</b>");
        continue;
      }
      g_string_append(out, " · ");
      const char *name = header && c < header->len ? g_ptr_array_index(header, c) : NULL;
      if (name && *name) {
        append_inline(out, name, strlen(name));
        g_string_append(out, ": ");
      }
      append_inline(out, cell, strlen(cell));
    }
    g_string_append_c(out, '\n');
    g_ptr_array_unref(cells);
  }
  if (header) g_ptr_array_unref(header);
}

char *lens_card_markup(const char *md) {
  GString *out = g_string_new(NULL);
  g_auto(GStrv) lines = g_strsplit(md ? md : "", "\n", -1);
  int n = (int)g_strv_length(lines);
  gboolean code = FALSE;
  for (int i = 0; i < n; i++) {
    const char *l = lines[i];
    if (g_str_has_prefix(l, "```")) {
      code = !code;
      continue;
    }
    if (code) {
      g_autofree char *esc = g_markup_escape_text(l, -1);
      g_string_append_printf(out, "<tt><small>%s</small></tt>\n", esc);
    } else if (l[0] == '|') {
      int j = i;
      while (j < n && lines[j][0] == '|') j++;
      append_table(out, lines, i, j);
      i = j - 1;
    } else if (g_str_has_prefix(l, "# ") || g_str_has_prefix(l, "## ") || g_str_has_prefix(l, "### ")) {
      const char *t = strchr(l, ' ') + 1;
      g_string_append(out, l[1] == ' ' ? "<span size=\"large\" weight=\"bold\">" : "<b>");
      append_inline(out, t, strlen(t));
      g_string_append(out, l[1] == ' ' ? "</span>\n" : "</b>\n");
    } else {
      append_inline(out, l, strlen(l));
      if (i + 1 < n) g_string_append_c(out, '\n');
    }
  }
  while (out->len && out->str[out->len - 1] == '\n') g_string_truncate(out, out->len - 1);
  return g_string_free(out, FALSE);
}
