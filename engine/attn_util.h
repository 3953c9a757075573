/* Small helpers shared by engine modules: checked arithmetic, UTF-8 checks, file I/O. */
#ifndef ATTN_UTIL_H
#define ATTN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attn_error.h"

/* *out = a * b; false on overflow (a, b >= 0). */
bool attn_mul_overflow_u64(uint64_t a, uint64_t b, uint64_t *out);

/* n zeroed floats (at least one, so n == 0 is not a failure); on failure returns NULL and
 * sets *ok to 0, so a run of allocations can be checked once. */
float *attn_alloc_floats(size_t n, int *ok);

/* ATTN_OK if every ids[0..n) is a token id in [0, vocab); otherwise ATTN_E_VALUE naming the
 * first bad one as "<what> id N is outside the vocabulary". */
attn_status attn_check_ids(const int32_t *ids, int n, int vocab, const char *what, attn_error *err);

/* The last component of a path, inside path (a trailing '/' stays on it: "a/b/" gives "b/";
 * "/" gives ""). */
const char *attn_path_base(const char *path);

/* strdup that accepts NULL (returns NULL). */
char *attn_strdup(const char *s);

/* True if s[0..len) is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool attn_utf8_valid(const char *s, size_t len);

/* Number of code points in well-formed UTF-8. */
size_t attn_utf8_length(const char *s, size_t len);

/* Reads a whole file (at most max_bytes) into a NUL-terminated malloc'd buffer. */
char *attn_read_file(const char *path, size_t max_bytes, size_t *len_out, attn_error *err);

/* Writes data to path through a temporary file in the same directory and a rename, so
 * the destination is either the old file or the complete new one. */
attn_status attn_write_file_atomic(const char *path, const void *data, size_t len,
                                   attn_error *err);

/* Makes a temporary path next to `path` (caller frees); NULL when out of memory. */
char *attn_temp_path_for(const char *path);

/* Closes fd/commits tmp to path by rename; on failure removes tmp. */
attn_status attn_commit_temp(const char *tmp, const char *path, attn_error *err);

#endif
