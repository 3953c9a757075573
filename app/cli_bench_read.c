/* `attnlens bench read`: time per question of the reading models, from text to trace, and
 * the ratio to their PyTorch twins on the same questions, measured in the same run. The
 * questions are the first N of each bAbI test file in ../shared/data/babi. Not a test. */
#include <cjson/cJSON.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attn_read.h"
#include "bench_util.h"
#include "cli.h"
#include "cli_read.h"

typedef struct question {
  char *story, *question, *answer;
} question;

static void question_clear(gpointer data) {
  question *q = data;
  g_free(q->story), g_free(q->question), g_free(q->answer);
}

/* The first `limit` questions of a bAbI file, each with the story lines before it. */
static void read_babi(const char *path, int limit, GArray *out) {
  g_autofree char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, NULL)) return;
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  GString *story = g_string_new(NULL);
  int taken = 0;
  for (char **l = lines; *l && taken < limit; l++) {
    char *sp = strchr(*l, ' ');
    if (!sp) continue;
    if (atoi(*l) == 1) g_string_truncate(story, 0);
    g_auto(GStrv) parts = g_strsplit(sp + 1, "\t", 3);
    if (!parts[1]) {
      g_string_append_printf(story, "%s\n", parts[0]);
      continue;
    }
    question q = {g_strdup(story->str), g_strdup(parts[0]), g_strdup(g_strstrip(parts[1]))};
    g_array_append_val(out, q);
    taken++;
  }
  g_string_free(story, TRUE);
}

static GArray *babi_questions(int per_task) {
  GArray *qs = g_array_new(FALSE, TRUE, sizeof(question));
  g_array_set_clear_func(qs, question_clear);
  g_autofree char *dir = g_build_filename(ATTN_SOURCE_DIR, "..", "shared", "data", "babi", "en-10k", NULL);
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
  const char *name;
  while (d && (name = g_dir_read_name(d)))
    if (g_str_has_suffix(name, "_test.txt")) g_ptr_array_add(files, g_build_filename(dir, name, NULL));
  g_ptr_array_sort(files, (GCompareFunc)g_strcmp0);
  for (guint i = 0; i < files->len; i++) read_babi(g_ptr_array_index(files, i), per_task, qs);
  g_ptr_array_unref(files);
  return qs;
}

/* The questions as JSON lines for the twin; the path of the temporary file (caller frees). */
static char *write_jsonl(GArray *qs) {
  g_autofree char *tmp = NULL;
  int fd = g_file_open_tmp("attnlens-bench-read-XXXXXX.jsonl", &tmp, NULL);
  if (fd < 0) return NULL;
  close(fd);
  GString *all = g_string_new(NULL);
  for (guint i = 0; i < qs->len; i++) {
    question *q = &g_array_index(qs, question, i);
    g_autofree char *s = g_strescape(q->story, NULL), *t = g_strescape(q->question, NULL);
    g_string_append_printf(all, "{\"story\": \"%s\", \"question\": \"%s\"}\n", s, t);
  }
  gboolean ok = g_file_set_contents(tmp, all->str, (gssize)all->len, NULL);
  g_string_free(all, TRUE);
  return ok ? g_steal_pointer(&tmp) : NULL;
}

/* Median ms per question of training/bench_reader_twin.py and how many of its answers the C
 * reader's answers match; NAN when the twin cannot run. */
static double time_twin(const char *model, const char *jsonl, char **c_answers, guint n, guint *agree) {
  g_autofree char *script = g_build_filename(ATTN_SOURCE_DIR, "training", "bench_reader_twin.py", NULL);
  const char *python = bench_python();
  const char *argv[] = {python, script, model, jsonl, "--threads", "1", NULL};
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  *agree = 0;
  if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, NULL) ||
      !g_spawn_check_wait_status(status, NULL)) {
    fprintf(stderr, "  (PyTorch twin not timed: %s)\n", err && *err ? g_strchomp(err) : "python3/torch missing");
    return NAN;
  }
  cJSON *j = cJSON_Parse(out);
  const cJSON *m = cJSON_GetObjectItem(j, "median_ms"), *a = cJSON_GetObjectItem(j, "answers");
  for (guint i = 0; i < n && i < (guint)cJSON_GetArraySize(a); i++)
    *agree += g_strcmp0(cJSON_GetStringValue(cJSON_GetArrayItem(a, (int)i)), c_answers[i]) == 0;
  double ms = cJSON_IsNumber(m) ? m->valuedouble : NAN;
  cJSON_Delete(j);
  return ms;
}

static void bench_model(const char *path, GArray *qs, const char *jsonl, int twin) {
  attn_error err = {0};
  attn_reader *r = attn_reader_load(path, &err);
  if (!r) {
    printf("%-24s cannot load: %s\n", path, err.message);
    return;
  }
  double *ms = g_new(double, qs->len);
  char **answers = g_new0(char *, qs->len + 1);
  guint right = 0;
  for (guint i = 0; i < qs->len; i++) {
    question *q = &g_array_index(qs, question, i);
    double t0 = bench_now_ms();
    attn_trace *t = attn_read(r, q->story, q->question, &err);
    ms[i] = bench_now_ms() - t0;
    answers[i] = g_strdup(t && t->output.n ? t->output.tokens[0] : "");
    right += g_strcmp0(answers[i], q->answer) == 0;
    attn_trace_free(t);
  }
  guint agree = 0;
  double tw = twin && jsonl ? time_twin(path, jsonl, answers, qs->len, &agree) : NAN;
  double med = bench_quantile(ms, (int)qs->len, 0.5), p95 = bench_quantile(ms, (int)qs->len, 0.95);
  printf("%-24s %-16s %8.3f %8.3f %9.3f %6.1fx %7.1f%% %7.1f%%\n", attn_reader_name(r), attn_reader_architecture(r), med,
         p95, tw, tw / med, 100.0 * right / qs->len, isnan(tw) ? NAN : 100.0 * agree / qs->len);
  g_strfreev(answers);
  g_free(ms);
  attn_reader_free(r);
}

int cli_bench_read(int argc, char **argv) {
  const char *model = NULL;
  int limit = 50, twin = 1;
  for (int i = 1; i < argc; i++) {
    if ((strcmp(argv[i], "-m") == 0 || strcmp(argv[i], "--model") == 0) && i + 1 < argc) model = argv[++i];
    else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) limit = atoi(argv[++i]);
    else if (strcmp(argv[i], "--no-twin") == 0) twin = 0;
    else {
      cli_error("usage: attnlens bench read [-m MODEL] [--limit N per task] [--no-twin]");
      return 1;
    }
  }
  GArray *qs = babi_questions(limit > 0 ? limit : 50);
  if (qs->len == 0) {
    cli_error("no bAbI test questions found in ../shared/data/babi/en-10k");
    g_array_unref(qs);
    return 1;
  }
  char *jsonl = twin ? write_jsonl(qs) : NULL;
  printf("attnlens bench read: %u bAbI test questions (%d per task), one at a time, 1 thread, text to trace\n",
         qs->len, limit);
  printf("%-24s %-16s %8s %8s %9s %7s %8s %8s\n", "model", "architecture", "C med ms", "C p95", "twin med",
         "ratio", "correct", "C=twin");
  GPtrArray *models = bench_task_models(model, "read");
  for (guint m = 0; m < models->len; m++) bench_model(g_ptr_array_index(models, m), qs, jsonl, twin);
  if (models->len == 0) printf("(no reading models in data/models: give -m MODEL)\n");
  if (jsonl) g_unlink(jsonl);
  g_free(jsonl);
  g_ptr_array_unref(models);
  g_array_unref(qs);
  return 0;
}
