/* SentencePiece tokenizer: reads a .model file (protobuf) itself and encodes with the
 * unigram model's Viterbi search, normalising text with the model's precompiled
 * character map, exactly as the sentencepiece library does. Immutable after loading:
 * one attn_spm may be used from several threads at once. */
#ifndef ATTN_SPM_H
#define ATTN_SPM_H

#include <stddef.h>
#include <stdint.h>

#include "attn_error.h"

typedef struct attn_spm attn_spm;

typedef enum attn_spm_piece_type {
  ATTN_SPM_NORMAL = 1,
  ATTN_SPM_UNKNOWN = 2,
  ATTN_SPM_CONTROL = 3,
  ATTN_SPM_USER_DEFINED = 4,
  ATTN_SPM_UNUSED = 5,
  ATTN_SPM_BYTE = 6
} attn_spm_piece_type;

/* Result of encoding: ids and, for each, the byte span of the original text it covers. */
typedef struct attn_spm_encoding {
  int n;
  int32_t *ids;
  int32_t *src_begin; /* byte offsets into the input text */
  int32_t *src_end;
} attn_spm_encoding;

attn_spm *attn_spm_load(const char *path, attn_error *err);
attn_spm *attn_spm_from_memory(const void *data, size_t size, const char *name, attn_error *err);
void attn_spm_free(attn_spm *spm);

int attn_spm_vocab_size(const attn_spm *spm);
const char *attn_spm_piece(const attn_spm *spm, int id); /* NULL when out of range */
attn_spm_piece_type attn_spm_type(const attn_spm *spm, int id);
int attn_spm_piece_to_id(const attn_spm *spm, const char *piece); /* unk id when absent */
int attn_spm_unk_id(const attn_spm *spm);
int attn_spm_bos_id(const attn_spm *spm); /* -1 when the model has none */
int attn_spm_eos_id(const attn_spm *spm);
int attn_spm_pad_id(const attn_spm *spm);
/* 1 if the piece starts a word (begins with U+2581). */
int attn_spm_is_word_start(const attn_spm *spm, int id);

/* Normalises text (NUL-terminated, must be valid UTF-8) as the model's normalizer does;
 * returns a malloc'd string, and if orig_offsets is given a malloc'd array mapping each
 * output byte to the input byte it came from. NULL when out of memory. */
char *attn_spm_normalize(const attn_spm *spm, const char *text, size_t len, int32_t **orig_offsets);

/* Encodes text (length len, must be valid UTF-8) into pieces. Returns ATTN_OK, or an error
 * for invalid UTF-8 / out of memory. enc must be freed with attn_spm_encoding_clear. */
attn_status attn_spm_encode(const attn_spm *spm, const char *text, size_t len,
                            attn_spm_encoding *enc, attn_error *err);
void attn_spm_encoding_clear(attn_spm_encoding *enc);

/* Joins pieces into text (U+2581 -> space, leading space dropped, control pieces skipped,
 * unknown -> " \u2047 "). Returns a malloc'd string. */
char *attn_spm_decode(const attn_spm *spm, const int32_t *ids, int n);

#endif
