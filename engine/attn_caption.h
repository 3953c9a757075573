/* Image captioning with attention: a model directory (vocab.txt + Show, Attend and Tell)
 * turned into one call from pixels to trace. A captioner is immutable after loading, so the
 * window's worker threads may share it; every call allocates its own run state.
 *
 * The trace (task "caption"): the image's size and the model's grid (rows x cols); no source
 * tokens; the caption words, then "</s>", with their probabilities and output.text (the words
 * joined by spaces); one map "cross" (words x grid cells, row-major over the grid); `beta`, per
 * word, how much the step looked at the image at all; for beam search the other hypotheses,
 * each with its map and beta. */
#ifndef ATTN_CAPTION_H
#define ATTN_CAPTION_H

#include "attn_trace.h"

/* The largest image attn_caption accepts: per side and in total. */
#define ATTN_CAPTION_MAX_SIDE 65536
#define ATTN_CAPTION_MAX_PIXELS (1LL << 28)

typedef struct attn_captioner attn_captioner;

typedef struct attn_caption_opts {
  int beam;       /* 1 = greedy, 2..8 = beam search */
  double alpha;   /* length normalisation exponent for beam search; negative (the default):
                     the model's config.json "length_penalty" (1.0 when absent) */
  int max_length; /* most output words, </s> included; 0 = the model's limit */
} attn_caption_opts;

void attn_caption_opts_init(attn_caption_opts *o);

/* Loads a caption model directory: config.json ("ShowAttendTell"), model.safetensors and its
 * vocabulary (attnlens.vocab, default vocab.txt: one word per line, line i is id i). Returns
 * NULL on failure. */
attn_captioner *attn_captioner_load(const char *dir, attn_error *err);
void attn_captioner_free(attn_captioner *c); /* NULL is fine */

const char *attn_captioner_name(const attn_captioner *c);         /* directory base name */
const char *attn_captioner_display_name(const attn_captioner *c);
const char *attn_captioner_architecture(const attn_captioner *c); /* "show-attend-tell" */
int attn_captioner_input_size(const attn_captioner *c);           /* side of the square the model reads */
void attn_captioner_grid(const attn_captioner *c, int *rows, int *cols);
/* The model's pretrained image trunk (attn_mobilenet.h), or NULL (for benchmarks). */
const struct attn_mobilenet *attn_captioner_trunk(const attn_captioner *c);
/* The decoding the model card's scores were measured with: config.json "num_beams" (1..8,
 * default 1 = greedy). attnlens caption and the Caption page start from it. */
int attn_captioner_default_beam(const attn_captioner *c);
/* config.json "length_penalty" (0..4, default 1.0): the alpha beam search uses unless opts say. */
double attn_captioner_length_penalty(const attn_captioner *c);

/* Captions an image: width x height pixels of interleaved RGB floats (row-major, 3 per pixel,
 * 0 = black, 1 = full intensity; values outside [0, 1] are clamped). An image of another size
 * than the model's input is resized by area resampling (aspect ratio not kept: the grid covers
 * the whole image). Errors: no pixels or a side < 1 or an image over ATTN_CAPTION_MAX_SIDE /
 * ATTN_CAPTION_MAX_PIXELS (ATTN_E_ARG), a pixel that is NaN or infinite (ATTN_E_VALUE), a beam
 * outside 1..8 (ATTN_E_ARG). Returns NULL with err set on failure. */
attn_trace *attn_caption(const attn_captioner *c, const float *rgb, int width, int height,
                         const attn_caption_opts *opts, attn_error *err);

#endif
