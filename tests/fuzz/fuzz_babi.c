/* libFuzzer harness: arbitrary bytes as a bAbI question (the first line) and story (the rest,
 * one sentence per line), read by both reading models (the tiny MemN2N and attentive reader
 * fixtures) and by the tokenizer on its own. Whatever is read must give a valid trace. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attn_read.h"
#include "attn_trace_json.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static attn_reader *readers[2];

static void read_with(const attn_reader *r, const char *story, const char *question) {
  attn_error err = {0};
  attn_trace *t = attn_read(r, story, question, &err);
  if (!t) {
    if (err.code == ATTN_OK || !err.message[0]) abort(); /* failures must explain */
    return;
  }
  if (attn_trace_validate(t, &err) != ATTN_OK) abort();
  free(attn_trace_to_json(t, 0));
  attn_trace_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!readers[0]) {
    attn_error err = {0};
    readers[0] = attn_reader_load(fuzz_fixture(FUZZ_MEMN2N), &err);
    readers[1] = attn_reader_load(fuzz_fixture(FUZZ_READER), &err);
    if (!readers[0] || !readers[1]) abort();
  }
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0'; /* a NUL inside ends the text, as in the C API */
  char *nl = strchr(text, '\n');
  const char *story = nl ? nl + 1 : "";
  if (nl) *nl = '\0';
  for (int i = 0; i < 2; i++) read_with(readers[i], story, text);
  int n = 0;
  attn_words_free(attn_read_tokenize(story, strlen(story), 64, &n));
  free(text);
  return 0;
}
