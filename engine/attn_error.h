/* Errors returned by the engine: a code and a human-readable one-line message. */
#ifndef ATTN_ERROR_H
#define ATTN_ERROR_H

typedef enum attn_status {
  ATTN_OK = 0,
  ATTN_E_IO,      /* file could not be opened, read or written */
  ATTN_E_FORMAT,  /* bytes do not follow the expected format */
  ATTN_E_SHAPE,   /* a tensor or matrix has the wrong shape */
  ATTN_E_VALUE,   /* a value is out of range (NaN, negative weight, bad id) */
  ATTN_E_MISSING, /* a required tensor, field or file is absent */
  ATTN_E_NOMEM,   /* allocation failed or a size would overflow */
  ATTN_E_ARG      /* the caller passed an invalid argument */
} attn_status;

typedef struct attn_error {
  attn_status code;
  char message[512];
} attn_error;

/* Records an error; err may be NULL (then nothing is recorded). Returns code. */
attn_status attn_error_set(attn_error *err, attn_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void attn_error_clear(attn_error *err);

/* Short lowercase name of a status, e.g. "format error". */
const char *attn_status_name(attn_status code);

#endif
