/* Error recording shared by every engine module. */
#include "attn_error.h"

#include <stdarg.h>
#include <stdio.h>

#include "attn_util.h"

attn_status attn_error_set(attn_error *err, attn_status code, const char *fmt, ...) {
  if (!err) return code;
  err->code = code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  /* Messages quote names and words from files and are shown on terminals and in the
   * window: escape sequences and broken UTF-8 (also where the message was cut) become '?'. */
  attn_make_printable(err->message);
  return code;
}

void attn_error_clear(attn_error *err) {
  if (!err) return;
  err->code = ATTN_OK;
  err->message[0] = '\0';
}

const char *attn_status_name(attn_status code) {
  switch (code) {
  case ATTN_OK: return "ok";
  case ATTN_E_IO: return "i/o error";
  case ATTN_E_FORMAT: return "format error";
  case ATTN_E_SHAPE: return "shape error";
  case ATTN_E_VALUE: return "value error";
  case ATTN_E_MISSING: return "missing";
  case ATTN_E_NOMEM: return "out of memory";
  case ATTN_E_ARG: return "invalid argument";
  }
  return "unknown error";
}
