/* libFuzzer harness: arbitrary bytes as the config.json of each kind of model (the first byte
 * picks the kind: transformer, RNN, MemN2N, attentive reader, caption), beside the tiny
 * fixture's weights and tokenizer; whatever loads is run once on a tiny input. A failure must
 * explain itself; nothing may crash or trip a sanitizer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attn_caption.h"
#include "attn_read.h"
#include "attn_translate.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void explained(const attn_error *err) {
  if (err->code == ATTN_OK || !err->message[0]) abort();
}

static void run_translate(const char *dir) {
  attn_error err = {0};
  attn_translator *t = attn_translator_load(dir, &err);
  if (!t) return explained(&err);
  attn_translate_opts o;
  attn_translate_opts_init(&o);
  o.beam = 2;
  attn_trace *tr = attn_translate(t, "a b c", 5, &o, &err);
  if (!tr) explained(&err);
  attn_trace_free(tr);
  attn_translator_free(t);
}

static void run_read(const char *dir) {
  attn_error err = {0};
  attn_reader *r = attn_reader_load(dir, &err);
  if (!r) return explained(&err);
  attn_trace *t = attn_read(r, "mary went to the kitchen.\njohn got the milk.\n", "where is mary?", &err);
  if (!t) explained(&err);
  attn_trace_free(t);
  attn_reader_free(r);
}

static void run_caption(const char *dir) {
  attn_error err = {0};
  attn_captioner *c = attn_captioner_load(dir, &err);
  if (!c) return explained(&err);
  float rgb[12 * 10 * 3];
  for (size_t i = 0; i < sizeof rgb / sizeof rgb[0]; i++) rgb[i] = (float)(i % 7) / 6.0f;
  attn_caption_opts o;
  attn_caption_opts_init(&o);
  attn_trace *t = attn_caption(c, rgb, 12, 10, &o, &err);
  if (!t) explained(&err);
  attn_trace_free(t);
  attn_captioner_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  int kind = data[0] % FUZZ_KINDS;
  const char *dir = fuzz_model_copy(kind);
  fuzz_write(dir, "config.json", data + 1, size - 1);
  if (kind == FUZZ_TRANSFORMER || kind == FUZZ_RNN) run_translate(dir);
  else if (kind == FUZZ_CAPTION) run_caption(dir);
  else run_read(dir);
  return 0;
}
