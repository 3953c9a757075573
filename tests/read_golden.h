/* Helpers for the reading-model tests (test_memn2n.c, test_reader.c): fixture paths and
 * golden files from training/golden_memn2n.py (paths and arrays: golden.h) and golden_attentive_reader.py, comparison
 * with the twin, and the reader checks both models share (typed text, bad input, broken
 * model directories). Failures are GLib test assertions. */
#ifndef READ_GOLDEN_H
#define READ_GOLDEN_H

#include <cjson/cJSON.h>
#include <glib.h>
#include <stdint.h>

#include "attn_read.h"

/* The parsed $ATTN_FIXTURES/name/golden.json (asserted); cJSON_Delete it. */
cJSON *read_golden_load(const char *name);
/* Asserts got[0..count) is within GOLDEN_TOLERANCE of the (nested) array c[key] (tests/golden.c);
 * returns the largest difference. */
double read_golden_compare(const cJSON *c, const char *key, const float *got, int count);
/* The reader of fixture `name` (asserted). */
attn_reader *read_golden_reader(const char *name);

/* Reads every golden "text" case with attn_read and checks sentences, unknown words,
 * answer, probability and maps against the twin (arch: "memn2n" or "attentive-reader"). */
void read_golden_check_text(const char *name, const char *arch);
/* The same for the shipped data/models/model against $ATTN_FIXTURES/model/golden.json (the
 * twin on the shipped weights); skipped while either is missing. */
void read_golden_check_shipped(const char *model, const char *arch);
/* Empty and blank stories and questions, invalid UTF-8, a story far longer than the
 * memory, a huge sentence and question: clear errors or warnings, never a crash. */
void read_golden_check_bad_input(const char *name);
/* Copies of the fixture with a broken vocabulary, config (size_key changed) or tensor file
 * fail to load with a message. */
void read_golden_check_bad_models(const char *name, const char *size_key);

#endif
