/* From text to a translation trace: tokenise, encode, search, and record where each
 * output piece looked. Architecture-specific work sits behind a small backend table. */
#include "attn_translate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_model_dir.h"
#include "attn_rnn.h"
#include "attn_seq2seq.h"
#include "attn_spm.h"
#include "attn_transformer.h"
#include "attn_util.h"

typedef struct backend {
  const char *arch;
  void *model;
  void (*free_model)(void *model);
  void *(*run_new)(const void *model, const int32_t *src, int n, int capacity, int max_len, attn_error *err);
  void (*run_free)(void *run);
  attn_s2s (*s2s)(void *run);
  /* adds encoder/decoder self-attention maps of output ids (optional) */
  attn_status (*self_maps)(const void *model, void *run, attn_trace *t, const int32_t *out, int n,
                           attn_error *err);
  /* a model without attention: the fixed vector every step read, and its length (optional) */
  const float *(*summary)(const void *run, int *dim);
  int max_positions, vocab;
  int layers, heads; /* cross maps per step = layers * heads; 1 x 1 for a single map; 0 without attention */
} backend;

struct attn_translator {
  char *name;
  char *display_name;
  attn_model_dir *dir;
  attn_spm *spm;
  backend be;
  int default_beam; /* config num_beams: the decoding the model card measured */
  float length_penalty; /* config length_penalty: beam search's alpha unless the caller gives one */
};

void attn_translate_opts_init(attn_translate_opts *o) {
  *o = (attn_translate_opts){.beam = 1, .alpha = -1.0, .self_attention = 0, .max_source = 0};
}

/* ---- Transformer backend ---- */

static void *tf_run_new(const void *model, const int32_t *src, int n, int capacity, int max_len, attn_error *err) {
  return attn_tf_run_new(model, src, n, capacity, max_len, err);
}
static void tf_run_free(void *run) { attn_tf_run_free(run); }
static attn_s2s tf_s2s(void *run) { return attn_tf_run_s2s(run); }
static void tf_free(void *model) { attn_transformer_free(model); }

/* Attention rollout (Abnar & Zuidema 2020) over the encoder's layers: with A_l the mean of
 * layer l's heads, R = Â_L ... Â_1 where Â_l = (A_l + I) / 2 (the residual connection, which
 * carries half the signal). Row i says how much of the source tokens the top layer's position
 * i has mixed in, through every path; rows sum to 1. enc is [layers][heads][S][S]. */
static attn_status add_rollout(attn_trace *t, const float *enc, int layers, int heads, int S, attn_error *err) {
  size_t SS = (size_t)S * S;
  double *r = malloc(SS * sizeof(double)), *a = malloc(SS * sizeof(double)), *next = malloc(SS * sizeof(double));
  float *out = malloc(SS * sizeof(float) + 1);
  attn_status st = r && a && next && out ? ATTN_OK : attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  for (size_t k = 0; st == ATTN_OK && k < SS; k++) r[k] = k / S == k % S;
  for (int l = 0; st == ATTN_OK && l < layers; l++) {
    for (size_t k = 0; k < SS; k++) {
      double sum = 0;
      for (int h = 0; h < heads; h++) sum += enc[((size_t)l * heads + h) * SS + k];
      a[k] = 0.5 * sum / heads + 0.5 * (k / S == k % S);
    }
    for (int i = 0; i < S; i++)
      for (int j = 0; j < S; j++) {
        double v = 0;
        for (int m = 0; m < S; m++) v += a[(size_t)i * S + m] * r[(size_t)m * S + j];
        next[(size_t)i * S + j] = v;
      }
    double *tmp = r;
    r = next, next = tmp;
  }
  for (size_t k = 0; st == ATTN_OK && k < SS; k++) out[k] = (float)r[k];
  if (st == ATTN_OK && !attn_trace_add_map(t, "encoder rollout (all layers)", ATTN_MAP_ENCODER, -1, -1, S, S, out))
    st = attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  free(r), free(a), free(next), free(out);
  return st;
}

static attn_status tf_self_maps(const void *model, void *run, attn_trace *t, const int32_t *out, int n,
                                attn_error *err) {
  const attn_tf_dims *D = attn_transformer_dims(model);
  int S = t->source.n;
  const float *enc = attn_tf_run_encoder_attention(run);
  char name[64];
  for (int l = 0; l < D->enc_layers; l++)
    for (int h = 0; h < D->enc_heads; h++) {
      snprintf(name, sizeof name, "encoder layer %d head %d", l + 1, h + 1);
      if (!attn_trace_add_map(t, name, ATTN_MAP_ENCODER, l, h, S, S, enc + ((size_t)l * D->enc_heads + h) * S * S))
        return attn_error_set(err, ATTN_E_NOMEM, "out of memory");
    }
  attn_status rolled = add_rollout(t, enc, D->enc_layers, D->enc_heads, S, err);
  if (rolled != ATTN_OK) return rolled;
  /* decoder self-attention: replay the chosen output through the run (the source
   * encoding stays; hypothesis 0's cache is overwritten step by step) */
  int maps = D->dec_layers * D->dec_heads, max_len = attn_tf_run_s2s(run).max_len;
  float *self = calloc((size_t)maps * n * n + 1, sizeof(float));
  float *step_self = calloc((size_t)maps * max_len + 1, sizeof(float));
  float *logits = malloc((size_t)D->vocab * sizeof(float));
  float *cross = malloc((size_t)maps * S * sizeof(float) + 1);
  attn_status st = self && step_self && logits && cross ? ATTN_OK : attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  for (int i = 0; st == ATTN_OK && i < n; i++) {
    int32_t tok = i == 0 ? D->decoder_start : out[i - 1];
    st = attn_tf_step(run, &tok, 1, i, logits, cross, step_self, err);
    for (int m = 0; st == ATTN_OK && m < maps; m++)
      memcpy(self + ((size_t)m * n + i) * n, step_self + (size_t)m * max_len, (size_t)(i + 1) * sizeof(float));
  }
  for (int l = 0; st == ATTN_OK && l < D->dec_layers; l++)
    for (int h = 0; h < D->dec_heads; h++) {
      snprintf(name, sizeof name, "decoder layer %d head %d", l + 1, h + 1);
      if (!attn_trace_add_map(t, name, ATTN_MAP_DECODER, l, h, n, n, self + ((size_t)l * D->dec_heads + h) * n * n))
        st = attn_error_set(err, ATTN_E_NOMEM, "out of memory");
    }
  free(self), free(step_self), free(logits), free(cross);
  return st;
}

static attn_status tf_backend(backend *be, const attn_model_dir *dir, attn_error *err) {
  attn_transformer *tf = attn_transformer_load(dir, err);
  if (!tf) return err ? err->code : ATTN_E_FORMAT;
  const attn_tf_dims *D = attn_transformer_dims(tf);
  *be = (backend){.arch = "transformer", .model = tf, .free_model = tf_free, .run_new = tf_run_new,
                  .run_free = tf_run_free, .s2s = tf_s2s, .self_maps = tf_self_maps,
                  .max_positions = D->max_positions, .vocab = D->vocab, .layers = D->dec_layers, .heads = D->dec_heads};
  return ATTN_OK;
}

/* ---- RNN backend: one cross map per step (none without attention), no self-attention ---- */

static void *rnn_run_new(const void *model, const int32_t *src, int n, int capacity, int max_len, attn_error *err) {
  return attn_rnn_run_new(model, src, n, capacity, max_len, err);
}
static void rnn_run_free(void *run) { attn_rnn_run_free(run); }
static attn_s2s rnn_s2s(void *run) { return attn_rnn_run_s2s(run); }
static void rnn_free(void *model) { attn_rnn_free(model); }
static const float *rnn_summary(const void *run, int *dim) {
  const float *c = attn_rnn_run_summary(run);
  *dim = c ? 2 * attn_rnn_model_dims(attn_rnn_run_model(run))->enc_hidden : 0;
  return c;
}

static attn_status rnn_backend(backend *be, const attn_model_dir *dir, attn_error *err) {
  attn_rnn *m = attn_rnn_load(dir, err);
  if (!m) return err ? err->code : ATTN_E_FORMAT;
  const attn_rnn_dims *D = attn_rnn_model_dims(m);
  *be = (backend){.arch = D->attention ? "rnn-attn" : "rnn", .model = m, .free_model = rnn_free,
                  .run_new = rnn_run_new, .run_free = rnn_run_free, .s2s = rnn_s2s, .self_maps = NULL,
                  .summary = rnn_summary, .max_positions = D->max_positions, .vocab = D->vocab,
                  .layers = D->attention ? 1 : 0, .heads = 1};
  return ATTN_OK;
}

/* ---- loading ---- */

void attn_translator_free(attn_translator *t) {
  if (!t) return;
  if (t->be.free_model) t->be.free_model(t->be.model);
  attn_spm_free(t->spm);
  attn_model_dir_close(t->dir);
  free(t->name);
  free(t->display_name);
  free(t);
}

static attn_status load_backend(attn_translator *t, attn_error *err) {
  const char *arch = attn_model_dir_architecture(t->dir);
  if (arch && (strcmp(arch, "MarianMTModel") == 0 || strcmp(arch, "marian") == 0))
    return tf_backend(&t->be, t->dir, err);
  if (arch && (strcmp(arch, "BahdanauRNN") == 0 || strcmp(arch, "rnn-attn") == 0))
    return rnn_backend(&t->be, t->dir, err);
  return attn_error_set(err, ATTN_E_VALUE, "%s: architecture \"%s\" is not a translation model attnlens can run",
                        attn_model_dir_path(t->dir), arch ? arch : "(none)");
}

static attn_status load_tokenizer(attn_translator *t, attn_error *err) {
  const char *file = NULL;
  attn_status st = attn_config_string(attn_model_dir_config(t->dir), "attnlens.tokenizer", "source.spm", &file, err);
  char *path = st == ATTN_OK ? attn_model_dir_file(t->dir, file, err) : NULL;
  if (!path) return err ? err->code : ATTN_E_MISSING;
  t->spm = attn_spm_load(path, err);
  free(path);
  if (!t->spm) return err ? err->code : ATTN_E_FORMAT;
  if (attn_spm_vocab_size(t->spm) > t->be.vocab)
    return attn_error_set(err, ATTN_E_SHAPE, "%s: the tokenizer has %d pieces, more than the model's vocabulary",
                          attn_model_dir_path(t->dir), attn_spm_vocab_size(t->spm));
  /* every source ends in </s>: without one, tokenising failed later as "out of memory" */
  if (attn_spm_eos_id(t->spm) < 0)
    return attn_error_set(err, ATTN_E_FORMAT, "%s: the tokenizer has no end-of-sentence piece (eos_id %d), which a "
                          "translation model needs", attn_model_dir_path(t->dir), attn_spm_eos_id(t->spm));
  return ATTN_OK;
}

attn_translator *attn_translator_load(const char *dir, attn_error *err) {
  attn_translator *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->dir = attn_model_dir_open(dir, err);
  attn_status st = t->dir ? load_backend(t, err) : ATTN_E_IO;
  if (st == ATTN_OK) st = load_tokenizer(t, err);
  if (st == ATTN_OK) st = attn_config_int(attn_model_dir_config(t->dir), "num_beams", 1, 1, 8, &t->default_beam, err);
  if (st == ATTN_OK)
    st = attn_config_float(attn_model_dir_config(t->dir), "length_penalty", 1.0f, 0.0f, 4.0f, &t->length_penalty, err);
  if (st == ATTN_OK) {
    t->name = attn_strdup(attn_path_base(dir));
    t->display_name = attn_strdup(attn_model_dir_display_name(t->dir));
    if (!t->name || !t->display_name) st = attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  }
  if (st != ATTN_OK) {
    attn_translator_free(t);
    return NULL;
  }
  return t;
}

const char *attn_translator_name(const attn_translator *t) { return t->name; }
const char *attn_translator_display_name(const attn_translator *t) { return t->display_name; }
const char *attn_translator_architecture(const attn_translator *t) { return t->be.arch; }
int attn_translator_max_source(const attn_translator *t) { return t->be.max_positions; }
int attn_translator_default_beam(const attn_translator *t) { return t->default_beam; }
double attn_translator_length_penalty(const attn_translator *t) { return t->length_penalty; }
int attn_translator_has_attention(const attn_translator *t) { return t->be.layers * t->be.heads > 0; }

/* ---- translating ---- */

static int is_blank(const char *text, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (!strchr(" \t\r\n\v\f", text[i])) return 0;
  return 1;
}

/* Display text of source piece k: the piece, or for an unknown piece the characters it
 * stands for, marked so that nobody mistakes them for vocabulary. */
static char *source_token(const attn_translator *t, const attn_spm_encoding *enc, int k, const char *text) {
  int id = enc->ids[k];
  if (id != attn_spm_unk_id(t->spm)) return attn_strdup(attn_spm_piece(t->spm, id));
  int b = enc->src_begin[k], e = enc->src_end[k];
  while (b < e && text[b] == ' ') b++;
  char *tok = malloc((size_t)(e - b) + 8);
  if (tok) snprintf(tok, (size_t)(e - b) + 8, "<unk:%.*s>", e - b, text + b);
  return tok;
}

static attn_status note_unknowns(const attn_translator *t, attn_trace *tr, const attn_spm_encoding *enc, int keep,
                                 const char *text) {
  char list[300] = "";
  int count = 0;
  for (int k = 0; k < keep; k++) {
    if (enc->ids[k] != attn_spm_unk_id(t->spm)) continue;
    int b = enc->src_begin[k], e = enc->src_end[k];
    while (b < e && text[b] == ' ') b++;
    size_t used = strlen(list);
    if (used + (size_t)(e - b) + 8 < sizeof list) snprintf(list + used, sizeof list - used, "%s\"%.*s\"", count ? ", " : "", e - b, text + b);
    count++;
  }
  if (count && attn_trace_warn(tr, "%d piece%s not in the vocabulary, shown as <unk:...>: %s", count,
                               count == 1 ? " is" : "s are", list) != 0)
    return ATTN_E_NOMEM;
  return ATTN_OK;
}

/* Fills tr->source and returns the ids to encode (pieces + </s>) in *ids. */
static attn_status tokenize(const attn_translator *t, const char *text, size_t len, int max_src, attn_trace *tr,
                            int32_t **ids, int *n, attn_error *err) {
  if (!attn_utf8_valid(text, len)) return attn_error_set(err, ATTN_E_VALUE, "the text is not valid UTF-8");
  if (is_blank(text, len)) return attn_error_set(err, ATTN_E_ARG, "there is no text to translate");
  attn_spm_encoding enc;
  attn_status st = attn_spm_encode(t->spm, text, len, &enc, err);
  if (st != ATTN_OK) return st;
  int keep = enc.n < max_src - 1 ? enc.n : max_src - 1;
  size_t text_len = keep < enc.n ? (size_t)enc.src_end[keep - 1] : len;
  if (keep < enc.n)
    attn_trace_warn(tr, "the text was cut to its first %d pieces (%zu of %zu bytes): the model reads at most %d", keep,
                    text_len, len, max_src - 1);
  *n = keep + 1;
  *ids = malloc((size_t)*n * sizeof(int32_t));
  char **toks = calloc((size_t)*n, sizeof(char *));
  unsigned char *ws = malloc((size_t)*n);
  char *src_text = malloc(text_len + 1);
  st = *ids && toks && ws && src_text ? ATTN_OK : ATTN_E_NOMEM;
  for (int k = 0; st == ATTN_OK && k < keep; k++) {
    (*ids)[k] = enc.ids[k];
    toks[k] = source_token(t, &enc, k, text);
    ws[k] = attn_spm_is_word_start(t->spm, enc.ids[k]) || enc.src_begin[k] == 0 || text[enc.src_begin[k]] == ' ';
    if (!toks[k]) st = ATTN_E_NOMEM;
  }
  if (st == ATTN_OK) {
    (*ids)[keep] = attn_spm_eos_id(t->spm);
    toks[keep] = attn_strdup(attn_spm_piece(t->spm, (*ids)[keep]));
    ws[keep] = 1;
    memcpy(src_text, text, text_len);
    src_text[text_len] = '\0';
    if (!toks[keep] || attn_tokens_set(&tr->source, *n, (const char *const *)toks, ws, NULL, src_text) != 0 ||
        note_unknowns(t, tr, &enc, keep, text) != ATTN_OK)
      st = ATTN_E_NOMEM;
  }
  for (int k = 0; toks && k < *n; k++) free(toks[k]);
  free(toks), free(ws), free(src_text);
  attn_spm_encoding_clear(&enc);
  if (st != ATTN_OK) {
    free(*ids);
    *ids = NULL;
    return attn_error_set(err, st, "out of memory while tokenising");
  }
  return ATTN_OK;
}

/* What the model weighed at each step: the pieces of the most probable next tokens. */
static int set_candidates(const attn_translator *t, attn_tokens *out, const attn_s2s_hyp *h) {
  size_t n = (size_t)h->n * ATTN_S2S_CANDIDATES;
  if (!h->cand_ids || n == 0) return 0;
  const char **toks = malloc(n * sizeof *toks);
  if (!toks) return -1;
  for (size_t i = 0; i < n; i++) {
    const char *p = attn_spm_piece(t->spm, h->cand_ids[i]);
    toks[i] = p ? p : "<?>";
  }
  int rc = attn_tokens_set_candidates(out, ATTN_S2S_CANDIDATES, toks, h->cand_probs);
  free(toks);
  return rc;
}

/* Output tokens of a hypothesis (pieces, </s> included) with their probabilities and, for each
 * step, the candidates it was chosen from. */
static int set_output(const attn_translator *t, attn_tokens *out, const attn_s2s_hyp *h) {
  const char **toks = malloc((size_t)(h->n ? h->n : 1) * sizeof(char *));
  unsigned char *ws = malloc((size_t)(h->n ? h->n : 1));
  int eos = attn_spm_eos_id(t->spm);
  int body = h->n > 0 && h->ids[h->n - 1] == eos ? h->n - 1 : h->n;
  char *text = attn_spm_decode(t->spm, h->ids, body);
  int rc = toks && ws && text ? 0 : -1;
  for (int i = 0; rc == 0 && i < h->n; i++) {
    const char *p = attn_spm_piece(t->spm, h->ids[i]);
    toks[i] = p ? p : "<?>";
    ws[i] = attn_spm_is_word_start(t->spm, h->ids[i]) || i == body;
  }
  if (rc == 0) rc = attn_tokens_set(out, h->n, toks, ws, h->probs, text);
  free(toks), free(ws), free(text);
  return rc == 0 ? set_candidates(t, out, h) : rc;
}

/* The cross-attention maps of a hypothesis: with several layers/heads, first their mean,
 * then one map per layer and head. */
static int add_cross_maps(const backend *be, attn_map **maps, int *n_maps, const attn_s2s_hyp *h, int S) {
  int M = be->layers * be->heads, T = h->n;
  if (M == 0) return 0; /* no attention, no maps */
  float *w = malloc(((size_t)T * S + 1) * sizeof(float));
  if (!w) return -1;
  int rc = 0;
  if (M > 1) {
    for (int i = 0; i < T; i++)
      for (int j = 0; j < S; j++) {
        double sum = 0;
        for (int m = 0; m < M; m++) sum += h->cross[((size_t)i * M + m) * S + j];
        w[(size_t)i * S + j] = (float)(sum / M);
      }
    rc = attn_maps_append(maps, n_maps, "mean of all heads", ATTN_MAP_CROSS, -1, -1, T, S, w) ? 0 : -1;
  }
  for (int m = 0; rc == 0 && m < M; m++) {
    char name[64];
    if (M > 1) snprintf(name, sizeof name, "layer %d head %d", m / be->heads + 1, m % be->heads + 1);
    else snprintf(name, sizeof name, "cross");
    for (int i = 0; i < T; i++) memcpy(w + (size_t)i * S, h->cross + ((size_t)i * M + m) * S, (size_t)S * sizeof(float));
    rc = attn_maps_append(maps, n_maps, name, ATTN_MAP_CROSS, M > 1 ? m / be->heads : -1, M > 1 ? m % be->heads : -1,
                          T, S, w) ? 0 : -1;
  }
  free(w);
  return rc;
}

static attn_status fill_trace(const attn_translator *t, attn_trace *tr, attn_s2s_hyp *hyps, int nh) {
  int S = tr->source.n;
  if (set_output(t, &tr->output, &hyps[0]) != 0 || add_cross_maps(&t->be, &tr->maps, &tr->n_maps, &hyps[0], S) != 0)
    return ATTN_E_NOMEM;
  tr->score = hyps[0].normalized;
  for (int i = 1; i < nh; i++) {
    attn_hypothesis *h = attn_trace_add_hypothesis(tr);
    if (!h || set_output(t, &h->output, &hyps[i]) != 0 || add_cross_maps(&t->be, &h->maps, &h->n_maps, &hyps[i], S) != 0)
      return ATTN_E_NOMEM;
    h->score = hyps[i].normalized;
  }
  return ATTN_OK;
}

static attn_status search(const attn_translator *t, void *run, const attn_translate_opts *o, attn_s2s_hyp *hyps,
                          int *nh, attn_error *err) {
  attn_s2s m = t->be.s2s(run);
  if (o->beam <= 1) {
    *nh = 1;
    return attn_greedy(&m, &hyps[0], err);
  }
  return attn_beam(&m, o->beam, o->alpha, hyps, nh, err);
}

attn_trace *attn_translate(const attn_translator *t, const char *text, size_t len, const attn_translate_opts *opts,
                           attn_error *err) {
  attn_translate_opts o;
  if (opts) o = *opts;
  else attn_translate_opts_init(&o);
  if (o.beam < 1 || o.beam > 8) {
    attn_error_set(err, ATTN_E_ARG, "beam size %d is not between 1 and 8", o.beam);
    return NULL;
  }
  if (!(o.alpha >= 0)) o.alpha = t->length_penalty; /* negative or NaN: the model's own */
  int max_src = o.max_source > 1 && o.max_source < t->be.max_positions ? o.max_source : t->be.max_positions;
  attn_trace *tr = attn_trace_new(ATTN_TASK_TRANSLATE, t->name);
  int32_t *ids = NULL;
  int n = 0, nh = 0;
  attn_s2s_hyp hyps[8] = {{0}};
  attn_status st = tr ? tokenize(t, text, len, max_src, tr, &ids, &n, err) : attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  int max_len = 2 * n + 10 < t->be.max_positions ? 2 * n + 10 : t->be.max_positions;
  void *run = st == ATTN_OK ? t->be.run_new(t->be.model, ids, n, o.beam, max_len, err) : NULL;
  if (st == ATTN_OK && !run) st = err ? err->code : ATTN_E_NOMEM;
  if (st == ATTN_OK) st = search(t, run, &o, hyps, &nh, err);
  if (st == ATTN_OK && fill_trace(t, tr, hyps, nh) != ATTN_OK) st = attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  if (st == ATTN_OK && t->be.summary) {
    int dim = 0;
    const float *c = t->be.summary(run, &dim);
    if (c && attn_trace_set_summary(tr, dim, c) != 0) st = attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  }
  if (st == ATTN_OK && o.self_attention && t->be.self_maps)
    st = t->be.self_maps(t->be.model, run, tr, hyps[0].ids, hyps[0].n, err);
  for (int i = 0; i < nh; i++) attn_s2s_hyp_clear(&hyps[i]);
  if (run) t->be.run_free(run);
  free(ids);
  if (st != ATTN_OK) {
    attn_trace_free(tr);
    return NULL;
  }
  return tr;
}
