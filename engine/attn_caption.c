/* From pixels to a caption trace: check and resize the image, encode it, search, and record
 * where each word looked and how much it looked at all (beta). */
#include "attn_caption.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_conv.h"
#include "attn_model_dir.h"
#include "attn_sat.h"
#include "attn_seq2seq.h"
#include "attn_util.h"

#define VOCAB_MAX_BYTES (16u << 20)

struct attn_captioner {
  char *name, *display_name;
  attn_model_dir *dir;
  attn_sat *model;
  int default_beam;
  float length_penalty; /* config length_penalty: beam search's alpha unless the caller gives one */
  char *vocab_text; /* the file, with NULs where the newlines were */
  char **vocab;     /* [vocab] entries pointing into vocab_text */
};

void attn_caption_opts_init(attn_caption_opts *o) { *o = (attn_caption_opts){.beam = 1, .alpha = -1.0, .max_length = 0}; }

/* ---- loading ---- */

void attn_captioner_free(attn_captioner *c) {
  if (!c) return;
  attn_sat_free(c->model);
  attn_model_dir_close(c->dir);
  free(c->vocab), free(c->vocab_text), free(c->name), free(c->display_name);
  free(c);
}

/* One word per line, as many lines as the model's vocabulary, non-empty UTF-8 without spaces. */
static attn_status parse_vocab(attn_captioner *c, const char *path, size_t len, attn_error *err) {
  int n = 0, want = attn_sat_model_dims(c->model)->vocab;
  for (size_t i = 0; i < len; i++) n += c->vocab_text[i] == '\n';
  if (len > 0 && c->vocab_text[len - 1] != '\n') n++;
  if (n != want) return attn_error_set(err, ATTN_E_SHAPE, "%s has %d entries, the model %d", path, n, want);
  if (!attn_utf8_valid(c->vocab_text, len) || strlen(c->vocab_text) != len)
    return attn_error_set(err, ATTN_E_FORMAT, "%s is not UTF-8 text", path);
  if (!(c->vocab = calloc((size_t)n, sizeof *c->vocab)))
    return attn_error_set(err, ATTN_E_NOMEM, "out of memory for the vocabulary");
  char *at = c->vocab_text;
  for (int i = 0; i < n; i++) {
    char *nl = strchr(at, '\n');
    if (nl) *nl = '\0';
    if (nl && nl > at && nl[-1] == '\r') nl[-1] = '\0';
    if (!*at || strchr(at, ' ')) return attn_error_set(err, ATTN_E_FORMAT, "%s: line %d is not a word", path, i + 1);
    c->vocab[i] = at;
    at = nl ? nl + 1 : at + strlen(at);
  }
  return ATTN_OK;
}

static attn_status load_vocab(attn_captioner *c, attn_error *err) {
  const char *file = NULL;
  if (attn_config_string(attn_model_dir_config(c->dir), "attnlens.vocab", "vocab.txt", &file, err) != ATTN_OK)
    return err ? err->code : ATTN_E_FORMAT;
  char *path = attn_model_dir_file(c->dir, file, err);
  if (!path) return err ? err->code : ATTN_E_MISSING;
  size_t len = 0;
  c->vocab_text = attn_read_file(path, VOCAB_MAX_BYTES, &len, err);
  attn_status st = c->vocab_text ? parse_vocab(c, path, len, err) : (err ? err->code : ATTN_E_IO);
  free(path);
  return st;
}

static attn_status load_model(attn_captioner *c, attn_error *err) {
  const char *arch = attn_model_dir_architecture(c->dir);
  if (!arch || (strcmp(arch, "ShowAttendTell") != 0 && strcmp(arch, "show-attend-tell") != 0))
    return attn_error_set(err, ATTN_E_VALUE, "%s: architecture \"%s\" is not a caption model attnlens can run",
                          attn_model_dir_path(c->dir), arch ? arch : "(none)");
  c->model = attn_sat_load(c->dir, err);
  return c->model ? ATTN_OK : (err ? err->code : ATTN_E_FORMAT);
}

attn_captioner *attn_captioner_load(const char *dir, attn_error *err) {
  attn_captioner *c = calloc(1, sizeof *c);
  if (!c) {
    attn_error_set(err, ATTN_E_NOMEM, "out of memory loading the model");
    return NULL;
  }
  c->dir = attn_model_dir_open(dir, err);
  attn_status st = c->dir ? load_model(c, err) : (err ? err->code : ATTN_E_IO);
  if (st == ATTN_OK) st = load_vocab(c, err);
  if (st == ATTN_OK) st = attn_config_int(attn_model_dir_config(c->dir), "num_beams", 1, 1, 8, &c->default_beam, err);
  if (st == ATTN_OK)
    st = attn_config_float(attn_model_dir_config(c->dir), "length_penalty", 1.0f, 0.0f, 4.0f, &c->length_penalty, err);
  if (st == ATTN_OK) {
    c->name = attn_strdup(attn_path_base(dir));
    c->display_name = attn_strdup(attn_model_dir_display_name(c->dir));
    if (!c->name || !c->display_name) st = attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  }
  if (st != ATTN_OK) {
    attn_captioner_free(c);
    return NULL;
  }
  return c;
}

const char *attn_captioner_name(const attn_captioner *c) { return c->name; }
const char *attn_captioner_display_name(const attn_captioner *c) { return c->display_name; }
const char *attn_captioner_architecture(const attn_captioner *c) { (void)c; return "show-attend-tell"; }
int attn_captioner_default_beam(const attn_captioner *c) { return c->default_beam; }
double attn_captioner_length_penalty(const attn_captioner *c) { return c->length_penalty; }
int attn_captioner_input_size(const attn_captioner *c) { return attn_sat_model_dims(c->model)->image_size; }

void attn_captioner_grid(const attn_captioner *c, int *rows, int *cols) {
  *rows = *cols = attn_sat_model_dims(c->model)->grid;
}

const struct attn_mobilenet *attn_captioner_trunk(const attn_captioner *c) { return attn_sat_trunk(c->model); }

/* ---- the image ---- */

static attn_status check_image(const float *rgb, int width, int height, attn_error *err) {
  if (!rgb) return attn_error_set(err, ATTN_E_ARG, "the image is empty: no pixels were given");
  if (width < 1 || height < 1)
    return attn_error_set(err, ATTN_E_ARG, "the image is empty (%d x %d pixels)", width, height);
  if (width > ATTN_CAPTION_MAX_SIDE || height > ATTN_CAPTION_MAX_SIDE ||
      (long long)width * height > ATTN_CAPTION_MAX_PIXELS)
    return attn_error_set(err, ATTN_E_ARG, "the image is %d x %d pixels, more than the %d per side and %lld in all "
                          "that attnlens reads", width, height, ATTN_CAPTION_MAX_SIDE, ATTN_CAPTION_MAX_PIXELS);
  size_t n = (size_t)width * (size_t)height * 3;
  for (size_t i = 0; i < n; i++)
    if (!isfinite(rgb[i]))
      return attn_error_set(err, ATTN_E_VALUE, "pixel (%zu, %zu) is not a number", (i / 3) % (size_t)width,
                            i / 3 / (size_t)width);
  return ATTN_OK;
}

/* The model's input: the image resized to side x side and clamped to [0, 1]; NULL on OOM. */
static float *model_input(const float *rgb, int width, int height, int side) {
  size_t n = (size_t)side * side * 3;
  float *out = malloc(n * sizeof(float));
  float *tmp = width == side && height == side ? NULL : malloc((size_t)side * width * 3 * sizeof(float));
  if (!out || (!tmp && !(width == side && height == side))) {
    free(out), free(tmp);
    return NULL;
  }
  if (tmp) attn_resize_area(out, side, side, rgb, height, width, 3, tmp);
  else memcpy(out, rgb, n * sizeof(float));
  for (size_t i = 0; i < n; i++) { /* comparisons, not fminf/fmaxf calls: the loop vectorises (no NaN here) */
    float v = out[i];
    out[i] = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
  }
  free(tmp);
  return out;
}

/* ---- the trace ---- */

/* Output tokens (words, </s> included), probabilities, text, one cross map and beta of a
 * hypothesis whose cross rows hold L weights then beta. */
static int fill_output(const attn_captioner *c, const attn_s2s_hyp *h, attn_tokens *out, attn_map **maps,
                       int *n_maps, float **beta) {
  const attn_sat_dims *D = attn_sat_model_dims(c->model);
  int T = h->n, L = D->cells;
  const char **toks = malloc((size_t)(T ? T : 1) * sizeof(char *));
  float *w = malloc(((size_t)T * L + 1) * sizeof(float)), *b = malloc((size_t)(T ? T : 1) * sizeof(float));
  size_t text_len = 1;
  for (int i = 0; i < T; i++) text_len += strlen(c->vocab[h->ids[i]]) + 1;
  char *text = malloc(text_len);
  int rc = toks && w && b && text ? 0 : -1;
  for (int i = 0; rc == 0 && i < T; i++) {
    toks[i] = c->vocab[h->ids[i]];
    memcpy(w + (size_t)i * L, h->cross + (size_t)i * (L + 1), (size_t)L * sizeof(float));
    b[i] = h->cross[(size_t)i * (L + 1) + L];
  }
  if (rc == 0) {
    text[0] = '\0';
    for (int i = 0; i < T && h->ids[i] != D->eos; i++) strcat(strcat(text, i ? " " : ""), c->vocab[h->ids[i]]);
    rc = attn_tokens_set(out, T, toks, NULL, h->probs, text);
  }
  if (rc == 0 && !attn_maps_append(maps, n_maps, "cross", ATTN_MAP_CROSS, -1, -1, T, L, w)) rc = -1;
  if (rc == 0) rc = attn_beta_set(beta, T, b);
  free(toks), free(w), free(b), free(text);
  return rc;
}

static attn_status fill_trace(const attn_captioner *c, attn_trace *t, const attn_s2s_hyp *hyps, int nh) {
  if (fill_output(c, &hyps[0], &t->output, &t->maps, &t->n_maps, &t->beta) != 0) return ATTN_E_NOMEM;
  t->score = hyps[0].normalized;
  for (int i = 1; i < nh; i++) {
    attn_hypothesis *h = attn_trace_add_hypothesis(t);
    if (!h || fill_output(c, &hyps[i], &h->output, &h->maps, &h->n_maps, &h->beta) != 0) return ATTN_E_NOMEM;
    h->score = hyps[i].normalized;
  }
  return ATTN_OK;
}

static attn_status search(attn_sat_run *run, const attn_caption_opts *o, attn_s2s_hyp *hyps, int *nh,
                          attn_error *err) {
  attn_s2s m = attn_sat_run_s2s(run);
  if (o->beam <= 1) {
    *nh = 1;
    return attn_greedy(&m, &hyps[0], err);
  }
  return attn_beam(&m, o->beam, o->alpha, hyps, nh, err);
}

attn_trace *attn_caption(const attn_captioner *c, const float *rgb, int width, int height,
                         const attn_caption_opts *opts, attn_error *err) {
  attn_caption_opts o;
  if (opts) o = *opts;
  else attn_caption_opts_init(&o);
  const attn_sat_dims *D = attn_sat_model_dims(c->model);
  if (o.beam < 1 || o.beam > 8) {
    attn_error_set(err, ATTN_E_ARG, "beam size %d is not between 1 and 8", o.beam);
    return NULL;
  }
  if (!(o.alpha >= 0)) o.alpha = c->length_penalty; /* negative or NaN: the model's own */
  if (check_image(rgb, width, height, err) != ATTN_OK) return NULL;
  int max_len = o.max_length > 0 && o.max_length < D->max_length ? o.max_length : D->max_length, nh = 0;
  attn_trace *t = attn_trace_new(ATTN_TASK_CAPTION, c->name);
  float *input = t ? model_input(rgb, width, height, D->image_size) : NULL;
  attn_status st = input ? ATTN_OK : attn_error_set(err, ATTN_E_NOMEM, "out of memory for the image");
  attn_sat_run *run = st == ATTN_OK ? attn_sat_run_new(c->model, input, o.beam, max_len, err) : NULL;
  if (st == ATTN_OK && !run) st = err ? err->code : ATTN_E_NOMEM;
  attn_s2s_hyp hyps[8] = {{0}};
  if (st == ATTN_OK) st = search(run, &o, hyps, &nh, err);
  if (st == ATTN_OK) {
    t->image_width = width, t->image_height = height, t->grid_rows = t->grid_cols = D->grid;
    if (fill_trace(c, t, hyps, nh) != ATTN_OK) st = attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  }
  for (int i = 0; i < nh; i++) attn_s2s_hyp_clear(&hyps[i]);
  attn_sat_run_free(run);
  free(input);
  if (st != ATTN_OK) {
    attn_trace_free(t);
    return NULL;
  }
  return t;
}
