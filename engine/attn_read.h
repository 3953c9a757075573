/* Reading comprehension with attention: a model directory (vocab.txt + MemN2N or attentive
 * reader) turned into one call from a story and a question to a trace. A reader is
 * immutable after loading, so the window's worker threads may share it; every call
 * allocates its own state.
 *
 * The trace (task "read"): `question` and the answer (output, one token with its
 * probability; output.text adds a note when the question uses words the model does not
 * know); `source` holds the story's words as the model read them, each sentence closed by
 * a "." token, unknown words shown as "<unk:word>" (they are not fed to the model).
 * MemN2N: `sentences` are the kept lines and there is one map per hop, "hop 1" ..
 * "hop K", 1 x n_sentences. Attentive reader: no sentences; one map "words", 1 x
 * source.n (unknown words get weight 0). */
#ifndef ATTN_READ_H
#define ATTN_READ_H

#include <stddef.h>

#include "attn_trace.h"

typedef struct attn_reader attn_reader;

/* Loads a reading model directory: config.json ("MemN2N" or "AttentiveReader"),
 * model.safetensors and its vocabulary (attnlens.vocab, default vocab.txt: one entry per
 * line, line i is id i, id 0 the padding "<nil>"). Returns NULL on failure. */
attn_reader *attn_reader_load(const char *dir, attn_error *err);
void attn_reader_free(attn_reader *r); /* NULL is fine */

const char *attn_reader_name(const attn_reader *r);         /* directory base name */
const char *attn_reader_display_name(const attn_reader *r);
const char *attn_reader_architecture(const attn_reader *r); /* "memn2n", "attentive-reader" */
int attn_reader_max_sentences(const attn_reader *r);        /* most recent sentences read */
int attn_reader_max_words(const attn_reader *r);            /* known words read per sentence */
/* 1 if the model knows the word (already tokenised: lowercase), else 0. */
int attn_reader_knows(const attn_reader *r, const char *word);

/* Answers question about story (one sentence per line; blank lines are skipped). Errors:
 * a story without a sentence or a blank question (ATTN_E_ARG), invalid UTF-8
 * (ATTN_E_VALUE). The trace's warnings say what was left out: unknown words, sentences
 * beyond the model's memory (the most recent ones are kept), words past a sentence's
 * limit. Returns NULL with err set on failure. */
attn_trace *attn_read(const attn_reader *r, const char *story, const char *question, attn_error *err);

/* The tokenizer of the reading models (training/babi.py does the same): ASCII letters
 * lowercased; '.', '?', '!' and white space end words and are dropped; runs of ASCII
 * letters and digits or of bytes >= 0x80, joined by single ', - or _, are words; any other
 * ASCII character is a word of its own. text must be valid UTF-8. At most max_words words
 * are returned (the rest are not looked at); *n_words gets their number. The result is a
 * NULL-terminated malloc'd array of malloc'd strings (free with attn_words_free), NULL when
 * out of memory. */
char **attn_read_tokenize(const char *text, size_t len, int max_words, int *n_words);
void attn_words_free(char **words);

#endif
