/* libFuzzer harness: arbitrary bytes as a .safetensors file; whatever opens must keep every
 * tensor inside the input and load without a sanitizer report. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attn_safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Invariants the reader promises for every file it accepts; abort() reports a crash. */
static void check_tensor(const attn_safetensors *st, const attn_tensor_info *t,
                         const uint8_t *data, size_t size) {
  const uint8_t *p = t->data;
  if (p < data || t->nbytes > size || p + t->nbytes > data + size) abort();
  if (t->ndim < 0 || t->ndim > ATTN_SAFETENSORS_MAX_DIMS || t->numel < 0) abort();
  if (t->nbytes != (size_t)t->numel * attn_dtype_size(t->dtype)) abort();
  if (attn_safetensors_find(st, t->name) != t) abort();
  attn_tensor_first_nonfinite(t, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  attn_error err;
  attn_safetensors *st = attn_safetensors_from_memory(data, size, "fuzz.safetensors", &err);
  if (!st) {
    if (err.code == ATTN_OK || strlen(err.message) == 0) abort(); /* failures must explain */
    return 0;
  }
  for (int i = 0; i < attn_safetensors_count(st); i++) {
    const attn_tensor_info *t = attn_safetensors_tensor(st, i);
    check_tensor(st, t, data, size);
    free(attn_safetensors_load_f32(st, t->name, -1, NULL, 1, &err));
    free(attn_safetensors_load_f32(st, t->name, t->ndim, t->shape, 0, &err));
  }
  for (int i = 0; i < attn_safetensors_metadata_count(st); i++) {
    const char *key = NULL, *value = NULL;
    attn_safetensors_metadata_at(st, i, &key, &value);
    if (!key || !value || !attn_safetensors_metadata(st, key)) abort();
  }
  attn_safetensors_close(st);
  return 0;
}
