/* Small helpers shared by engine modules: checked arithmetic, UTF-8 checks, file I/O. */
#ifndef ATTN_UTIL_H
#define ATTN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

/* Reads a whole file (at most max_bytes) into a NUL-terminated malloc'd buffer. The file is
 * read to its end whatever its size was when it was opened, so a file that grows or shrinks
 * meanwhile gives the bytes that were there (or a clear error), never a fault. */
char *attn_read_file(const char *path, size_t max_bytes, size_t *len_out, attn_error *err);

/* attn_read_file for text: a NUL byte is refused ("PATH: byte N is a NUL byte: this is not
 * text"), since the text would silently end there. */
char *attn_read_text_file(const char *path, size_t max_bytes, size_t *len_out, attn_error *err);

/* ATTN_OK if s[0..len) holds no NUL byte; else ATTN_E_VALUE naming `what` and the offset. */
attn_status attn_check_no_nul(const char *s, size_t len, const char *what, attn_error *err);

/* Text from files made safe for a terminal, in place: C0 and C1 control characters, DEL
 * and bytes that are not UTF-8 become '?' (escape sequences could retitle or recolour the
 * terminal, or hide what was printed). The result is never longer than the input. */
void attn_make_printable(char *s);
/* Writes s to out as attn_make_printable would show it. Returns EOF on a write error. */
int attn_fput_printable(const char *s, FILE *out);

/* An output file that appears whole or not at all. Where the file system allows it, the
 * bytes go to an anonymous file (O_TMPFILE) that gets a name only when complete, so a
 * process killed mid-way leaves nothing behind; elsewhere they go to "PATH.tmp-PID", and
 * opening removes such files left by processes that no longer run. */
typedef struct attn_out_file {
  int fd;
  char *path, *tmp; /* tmp: the named temporary, NULL while anonymous */
  int error;        /* errno of the first failed write, 0 if none */
} attn_out_file;

/* Creates the temporary for path; the error names path and says why (errno). */
attn_status attn_out_open(attn_out_file *f, const char *path, attn_error *err);
/* Appends len bytes; returns 0, or -1 (and remembers errno for commit's message). */
int attn_out_write(attn_out_file *f, const void *data, size_t len);
/* Flushes to disk and puts the file at path; on any failure removes the temporary. */
attn_status attn_out_commit(attn_out_file *f, attn_error *err);
/* Drops the temporary (after a failure that is not a write error). */
void attn_out_abort(attn_out_file *f);

/* Writes data to path through an attn_out_file, so the destination is either the old file
 * or the complete new one. */
attn_status attn_write_file_atomic(const char *path, const void *data, size_t len,
                                   attn_error *err);

#endif
