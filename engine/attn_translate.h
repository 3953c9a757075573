/* Translation with attention: a model directory (tokenizer + encoder-decoder) turned
 * into one call from text to trace. A translator is immutable after loading, so the
 * window's worker threads may share it; every call allocates its own run state. */
#ifndef ATTN_TRANSLATE_H
#define ATTN_TRANSLATE_H

#include <stddef.h>

#include "attn_trace.h"

typedef struct attn_translator attn_translator;

typedef struct attn_translate_opts {
  int beam;            /* 1 = greedy, 2..8 = beam search */
  double alpha;        /* length normalisation exponent for beam search; negative (the
                          default): the model's config.json "length_penalty" (1.0 when absent) */
  int self_attention;  /* also record encoder and decoder self-attention maps */
  int max_source;      /* most source pieces before truncation; 0 = the model's limit */
} attn_translate_opts;

void attn_translate_opts_init(attn_translate_opts *o);

/* Loads a translation model directory (config.json, model.safetensors, tokenizer). */
attn_translator *attn_translator_load(const char *dir, attn_error *err);
void attn_translator_free(attn_translator *t);

const char *attn_translator_name(const attn_translator *t);         /* directory base name */
const char *attn_translator_display_name(const attn_translator *t);
const char *attn_translator_architecture(const attn_translator *t); /* "transformer", "rnn-attn", "rnn" */
/* 0 for an encoder-decoder without attention ("rnn"): its traces have no maps, only the
 * summary vector the decoder read (attn_trace.summary). */
int attn_translator_has_attention(const attn_translator *t);
int attn_translator_max_source(const attn_translator *t);          /* pieces, </s> included */
/* The decoding the model card's scores were measured with: config.json "num_beams" (1..8,
 * default 1 = greedy). The Translate page starts from it. */
int attn_translator_default_beam(const attn_translator *t);
/* config.json "length_penalty" (0..4, default 1.0): the alpha beam search uses unless opts say. */
double attn_translator_length_penalty(const attn_translator *t);

/* Translates text (len bytes of UTF-8). Empty or blank text, invalid UTF-8 and a beam
 * outside 1..8 are errors; text longer than the model's limit is truncated, and pieces
 * the vocabulary lacks become <unk>, each noted in the trace's warnings. Returns NULL with
 * err set on failure. */
attn_trace *attn_translate(const attn_translator *t, const char *text, size_t len,
                           const attn_translate_opts *opts, attn_error *err);

#endif
