/* libFuzzer harness: the trace JSON reader must reject or accept any bytes without UB. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "attn_trace_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  attn_error err = {0};
  attn_trace *t = attn_trace_from_json((const char *)data, size, &err);
  if (t) {
    char *again = attn_trace_to_json(t, 0);
    free(again);
    attn_trace_free(t);
  }
  return 0;
}
