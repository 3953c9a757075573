/* libFuzzer harness: arbitrary bytes as a SentencePiece .model; whatever loads must encode
 * and decode text (fixed sentences, and the input itself as text) without a sanitizer
 * report, with every id inside the vocabulary and offsets inside the text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attn_spm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void encode(const attn_spm *s, const char *text, size_t len) {
  attn_spm_encoding enc;
  attn_error err = {0};
  if (attn_spm_encode(s, text, len, &enc, &err) != ATTN_OK) {
    if (err.code == ATTN_OK || !err.message[0]) abort(); /* failures must explain */
    return;
  }
  for (int k = 0; k < enc.n; k++) {
    if (enc.ids[k] < 0 || enc.ids[k] >= attn_spm_vocab_size(s)) abort();
    if (enc.src_begin[k] < 0 || enc.src_end[k] < enc.src_begin[k] || (size_t)enc.src_end[k] > len) abort();
    attn_spm_is_word_start(s, enc.ids[k]);
  }
  free(attn_spm_decode(s, enc.ids, enc.n));
  attn_spm_encoding_clear(&enc);
  int32_t *offsets = NULL;
  free(attn_spm_normalize(s, text, len, &offsets));
  free(offsets);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const texts[] = {"A man rides a bike.", "  two   spaces\tand a tab ", "",
                                      "\xef\xbd\x86\xef\xbd\x95\xef\xbd\x8c\xef\xbd\x8c width \xe2\x85\xa0",
                                      "caf\xc3\xa9 na\xc3\xafve \xe2\x96\x81piece"};
  attn_error err = {0};
  attn_spm *s = attn_spm_from_memory(data, size, "fuzz.spm", &err);
  if (!s) {
    if (err.code == ATTN_OK || !err.message[0]) abort();
    return 0;
  }
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) encode(s, texts[i], strlen(texts[i]));
  encode(s, (const char *)data, size < 512 ? size : 512); /* mostly not UTF-8: refused cleanly */
  for (int id = -1; id <= attn_spm_vocab_size(s) && id < 64; id++) {
    const char *p = attn_spm_piece(s, id);
    if (p && attn_spm_piece_to_id(s, p) != id) abort();
  }
  attn_spm_free(s);
  return 0;
}
