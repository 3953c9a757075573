/* Memory tasks: a Neural Turing Machine model directory turned into one call from a
 * sequence of bit vectors to a trace (task "memory"), the parser of the text form of a
 * sequence, and the trace's memory section with its JSON form. A memory model is
 * immutable after loading, so the window's worker threads may share it.
 *
 * The trace of the copy task on L vectors (T = 2L + 1 steps: L inputs, the delimiter,
 * L blank steps during which the model answers): source = the L input vectors ("10110010"),
 * output = the L vectors the model wrote back, each with the probability of the whole
 * vector (the product over bits of max(p, 1 - p)); maps "write" and "read", T x N (one row
 * per step, one column per memory location, each row a distribution); and the memory
 * section: every step's input, output probabilities, add vector and read vector, and the
 * memory contents after the last step. JSON, in trace version 1:
 *   "memory": {"bits": B, "locations": N, "width": M, "length": L, "steps": T,
 *              "inputs": [[T x (B + 1)]], "outputs": [[T x B]], "adds": [[T x M]],
 *              "reads": [[T x M]], "contents": [[N x M]]} */
#ifndef ATTN_MEMORY_H
#define ATTN_MEMORY_H

#include <cjson/cJSON.h>

#include "attn_trace.h"

struct attn_trace_memory {
  int bits, locations, width;
  int length;       /* L, input vectors */
  int steps;        /* T = 2L + 1 */
  float *inputs;    /* [T][bits + 1], the last channel is the delimiter */
  float *outputs;   /* [T][bits] output probabilities of every step */
  float *adds;      /* [T][width] add vectors of the write head */
  float *reads;     /* [T][width] read vectors */
  float *contents;  /* [locations][width] the memory after the last step */
};

/* New zeroed section (NULL when out of memory or a size is out of range); free accepts
 * NULL; copy returns NULL when out of memory. */
attn_trace_memory *attn_trace_memory_new(int bits, int locations, int width, int length);
void attn_trace_memory_free(attn_trace_memory *m);
attn_trace_memory *attn_trace_memory_copy(const attn_trace_memory *m);
/* Sizes consistent with each other and with the "write"/"read" maps, finite values. */
attn_status attn_trace_memory_validate(const attn_trace *t, attn_error *err);
/* The "memory" object; NULL when out of memory. */
cJSON *attn_trace_memory_to_json(const attn_trace_memory *m);
/* Reads the "memory" object o into t->memory (replacing it). */
attn_status attn_trace_memory_from_json(const cJSON *o, attn_trace *t, attn_error *err);

/* Parses "10110010 01100001 ..." (vectors separated by white space or commas) into
 * *seq, malloc'd, len * bits bytes of 0/1 (the caller frees it). Errors (ATTN_E_ARG, one
 * line): no vector, a vector that is not `bits` wide, a character other than 0 and 1, more
 * than max_len vectors. */
attn_status attn_memory_parse(const char *text, int bits, int max_len, unsigned char **seq, int *len,
                              attn_error *err);

typedef struct attn_memory_model attn_memory_model;

/* Loads a model directory whose config.json names the architecture "NTM". NULL on failure. */
attn_memory_model *attn_memory_load(const char *dir, attn_error *err);
void attn_memory_free(attn_memory_model *m); /* NULL is fine */
const char *attn_memory_name(const attn_memory_model *m); /* directory base name */
const char *attn_memory_display_name(const attn_memory_model *m);
int attn_memory_bits(const attn_memory_model *m);
int attn_memory_max_length(const attn_memory_model *m);
int attn_memory_locations(const attn_memory_model *m);

/* The copy task on len vectors (seq: len * bits bytes of 0/1). NULL with err set on failure. */
attn_trace *attn_memory_copy_seq(const attn_memory_model *m, const unsigned char *seq, int len,
                                 attn_error *err);
/* attn_memory_parse then attn_memory_copy_seq. */
attn_trace *attn_memory_run(const attn_memory_model *m, const char *text, attn_error *err);

#endif
