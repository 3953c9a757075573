/* Helpers for the tests that hold the engine to its PyTorch twins: fixture paths, golden
 * files (training/golden_*.py), value comparison, and the greedy/beam checks with their
 * near-tie allowance. Failures are GLib test assertions. */
#ifndef GOLDEN_H
#define GOLDEN_H

#include <cjson/cJSON.h>
#include <glib.h>

#include "attn_model_dir.h"
#include "attn_seq2seq.h"
#include "attn_translate.h"

/* Largest absolute difference allowed between the engine and its twin. */
#define GOLDEN_TOLERANCE 1e-4

/* $ATTN_FIXTURES/a/b (b may be NULL); g_free the result. */
char *golden_fixture_path(const char *a, const char *b);

/* A copy of the fixture model directory `name` (config.json, model.safetensors, vocab.txt) in a
 * new temporary directory, for editing or breaking; g_free the path, golden_remove_model_copy
 * the directory. */
char *golden_copy_model(const char *name);
void golden_remove_model_copy(const char *dir);
/* Replaces the first `from` (which must be there) in dir/file by `to`. */
void golden_replace_in_file(const char *dir, const char *file, const char *from, const char *to);

/* $ATTN_SOURCE_DIR/data/models/name; g_free the result. */
char *golden_shipped_path(const char *name);

/* Opens model_dir and parses golden_path; FALSE (and nothing opened) when golden_path does
 * not exist. Close *dir with attn_model_dir_close and free *golden with cJSON_Delete. */
gboolean golden_load(const char *model_dir, const char *golden_path, attn_model_dir **dir, cJSON **golden);

/* A model directory, the model loaded from it and its golden file, for the model tests. */
typedef void *(*golden_model_loader)(const attn_model_dir *dir, attn_error *err);
typedef struct golden_fixture {
  attn_model_dir *dir;
  void *m; /* the model (attn_rnn, attn_transformer, attn_sat, ...) */
  cJSON *golden;
  void (*free_model)(void *m);
} golden_fixture;
/* FALSE when golden_path does not exist; otherwise loads all three (asserted) and TRUE. */
gboolean golden_fixture_load(golden_fixture *f, const char *model_dir, const char *golden_path,
                             golden_model_loader load, void (*free_model)(void *m));
/* $ATTN_FIXTURES/name and its golden.json (asserted). */
void golden_fixture_load_tiny(golden_fixture *f, const char *name, golden_model_loader load,
                              void (*free_model)(void *m));
void golden_fixture_free(golden_fixture *f);

/* A JSON array of numbers as int32_t (one spare slot); g_free the result. */
int32_t *golden_int_array(const cJSON *a, int *n);

/* The numbers of the (nested) array c[key] in row-major order; g_array_unref the result. */
GArray *golden_floats(const cJSON *c, const char *key);

/* Asserts got[0..want->len) is within GOLDEN_TOLERANCE of want, reporting the worst
 * difference under the name key; returns it. */
double golden_assert_close(const char *key, const float *got, const GArray *want);

/* Keeps only the golden's logit_columns of logits [T][V] (shipped goldens store a subset of
 * the vocabulary), packed as [T][columns]; returns the number of columns (V if none). */
int golden_select_columns(const cJSON *c, float *logits, int T, int V);

/* TRUE if the hypothesis has exactly the ids of the JSON array. */
gboolean golden_ids_equal(const attn_s2s_hyp *h, const cJSON *ids);

/* The greedy output equals c["greedy"], or differs at a case flagged near_tie (counted). */
void golden_check_greedy(const attn_s2s_hyp *g, const cJSON *c, int *near_ties);

/* The beam hypotheses hyps[0..nh) equal c["beam"] (ids, normalized score), except where a
 * flagged near tie or a score gap under the tolerance reorders them (counted). */
void golden_check_beam(const attn_s2s_hyp *hyps, int nh, const cJSON *c, int *near_ties);

/* Greedy search on m1 and beam 1 on m2 (two fresh runs of one source) give the same ids
 * and cross-attention. */
void golden_check_beam1_is_greedy(const attn_s2s *m1, const attn_s2s *m2);

/* The translator for the fixture model directory $ATTN_FIXTURES/name (asserted). */
attn_translator *golden_translator(const char *name);
/* A temporary copy of the model fixture `name` (model.safetensors, source.spm, config.json)
 * whose config.json has key set to json_value (a JSON text, e.g. "3"); remove it with
 * golden_model_copy_remove. */
char *golden_model_copy(const char *name, const char *key, const char *json_value);
void golden_model_copy_remove(char *dir);

/* Translates text and asserts the trace is valid (shapes match tokens, rows sum to 1). */
attn_trace *golden_translate(attn_translator *t, const char *text, int beam, int self_attention);

#endif
