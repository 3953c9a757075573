/* The trace as JSON (format version 1, see DESIGN.md): the CLI's --json output and the
 * format of test fixtures. Reading validates everything: a malformed trace gives an
 * error naming the field, never a crash. */
#ifndef ATTN_TRACE_JSON_H
#define ATTN_TRACE_JSON_H

#include <stddef.h>

#include "attn_trace.h"

#define ATTN_TRACE_JSON_MAX_BYTES (512u * 1024u * 1024u)

/* Returns a malloc'd NUL-terminated JSON text (caller frees), or NULL when out of memory.
 * Floats are printed with 9 significant digits, which reads back to the same float. */
char *attn_trace_to_json(const attn_trace *t, int pretty);

/* Parses and validates; NULL on failure with err set. */
attn_trace *attn_trace_from_json(const char *text, size_t len, attn_error *err);

attn_trace *attn_trace_load(const char *path, attn_error *err);
/* Writes atomically (temporary file + rename). */
attn_status attn_trace_save(const attn_trace *t, const char *path, attn_error *err);

#endif
