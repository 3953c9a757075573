/* The story view of a reading trace: MemN2N's hops as columns beside the story's sentences
 * (read top-down, as in Sukhbaatar et al.'s figures), or the attentive reader's weight on
 * every story word; then the question and the answer with its probability. */
#include "lens_story.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const double PAD = 20, TITLE_GAP = 14, NUM_GAP = 10, TEXT_GAP = 14, ROW_PAD = 5, HEAD_GAP = 6;
static const double CELL_MIN_W = 52, TEXT_MAX_W = 520, WORDS_MAX_W = 720, WORD_GAP = 4, WORD_PAD = 3;
static const double QA_GAP = 16, QA_LINE_GAP = 4, BAR_W = 160, BAR_H = 10, BAR_GAP = 14;
#define MAX_HOPS 16

typedef struct Story {
  const attn_trace *t;
  const LensRenderOptions *o;
  LensTheme th;
  LensText *tx;
  int hops[MAX_HOPS], n_hops; /* sentence-level hop maps, in trace order */
  const attn_map *wmap;       /* the word-level map (attentive reader), else NULL */
  int n;                      /* rows: sentences, or lines of words */
  double vmax;
  LensLabel title, question, answer, legend, zero, top;
  LensLabel *sent, *num, head[MAX_HOPS]; /* sentence view */
  LensLabel *word;            /* word view: one per source token */
  double *wx, *wy;            /* word view: box origins */
  double *row_y, *row_h;      /* sentence view: rows */
  double num_w, text_w, cell_w, gx, gy, grid_h, qa_y, bar_y, W, H;
} Story;

/* ---- which maps the story shows ---- */

static int is_word_map(const attn_trace *t, const attn_map *m) {
  return m->kind == ATTN_MAP_HOP && m->rows == 1 && m->cols == t->source.n && t->n_sentences == 0;
}

static int is_sentence_map(const attn_trace *t, const attn_map *m) {
  return m->kind == ATTN_MAP_HOP && m->rows == 1 && t->n_sentences > 0 && m->cols == t->n_sentences;
}

static int is_separator(const char *tok) { return strcmp(tok, ".") == 0; }

/* Unknown words of the sentence whose tokens start at source token *at (sentences are
 * closed by "."); moves *at past it, so all sentences together cost one pass. */
static void unknown_words(const attn_trace *t, int *at, const char **out, int *n, int max) {
  int k = *at;
  *n = 0;
  for (; k < t->source.n && !is_separator(t->source.tokens[k]); k++)
    if (strncmp(t->source.tokens[k], "<unk:", 5) == 0 && *n < max) out[(*n)++] = t->source.tokens[k];
  *at = k < t->source.n ? k + 1 : k;
}

static int is_word_byte(unsigned char c) { return c >= 0x80 || isalnum(c); }

/* Underlines, with a wavy error line, every occurrence of an unknown word in the shown part
 * of the sentence's text (ASCII case-insensitive, whole words). Attributes are added in
 * text order, which Pango appends in constant time. */
static void mark_unknown(LensLabel *l, const char *text, const char *const *unk, int n_unk) {
  PangoAttrList *attrs = pango_attr_list_new();
  size_t len = lens_label_cut(text), wl[16];
  for (int u = 0; u < n_unk && u < 16; u++) wl[u] = strlen(unk[u] + 5) - 1; /* without '>' */
  for (size_t i = 0; i < len; i++) {
    if (i > 0 && is_word_byte((unsigned char)text[i - 1])) continue; /* not a word start */
    for (int u = 0; u < n_unk && u < 16; u++) {
      if (wl[u] == 0 || i + wl[u] > len || strncasecmp(text + i, unk[u] + 5, wl[u]) != 0) continue;
      if (i + wl[u] < len && is_word_byte((unsigned char)text[i + wl[u]])) continue;
      PangoAttribute *a = pango_attr_underline_new(PANGO_UNDERLINE_ERROR);
      PangoAttribute *c = pango_attr_underline_color_new(0xc000, 0x1800, 0x1800);
      a->start_index = c->start_index = (guint)i;
      a->end_index = c->end_index = (guint)(i + wl[u]);
      pango_attr_list_insert(attrs, a);
      pango_attr_list_insert(attrs, c);
      break;
    }
  }
  pango_layout_set_attributes(l->layout, attrs);
  pango_attr_list_unref(attrs);
}

/* ---- measuring ---- */

/* What the answer's text says beyond the answer itself ("kitchen (unreliable: ...)" gives
 * "unreliable: ..."), or nothing. */
static void answer_note(const attn_trace *t, const char *ans, char *note, size_t size) {
  const char *text = t->output.text;
  if (!text || strcmp(text, ans) == 0) return;
  size_t skip = strncmp(text, ans, strlen(ans)) == 0 ? strlen(ans) : 0, len;
  while (text[skip] == ' ' || text[skip] == '(') skip++;
  len = strlen(text + skip);
  if (len > 0 && text[skip + len - 1] == ')' && skip > 0 && text[skip - 1] == '(') len--;
  snprintf(note, size, "%.*s", (int)len, text + skip);
}

static int measure_qa(Story *S) {
  const attn_trace *t = S->t;
  char text[640];
  snprintf(text, sizeof text, "Question: %s", t->question ? t->question : "");
  if (lens_label_set(&S->question, S->tx, text, LENS_FONT_BODY) != 0) return -1;
  const char *ans = t->output.n > 0 ? t->output.tokens[0] : "?";
  char note[400] = "";
  answer_note(t, ans, note, sizeof note);
  if (t->output.probs && t->output.n > 0)
    snprintf(text, sizeof text, "Answer: %s (probability %.2f)%s%s", ans, (double)t->output.probs[0],
             *note ? " \xe2\x80\x94 " : "", note);
  else snprintf(text, sizeof text, "Answer: %s%s%s", ans, *note ? " \xe2\x80\x94 " : "", note);
  if (lens_label_set(&S->answer, S->tx, text, LENS_FONT_BODY) != 0) return -1;
  lens_label_wrap(&S->question, TEXT_MAX_W + 200);
  lens_label_wrap(&S->answer, TEXT_MAX_W + 200);
  snprintf(text, sizeof text, "%.2f%s", S->vmax, S->o->vmax > 0 ? "" : " max");
  const char *cap = S->wmap ? "word weight" : "hop weight";
  return lens_label_set(&S->zero, S->tx, "0", LENS_FONT_SMALL) || lens_label_set(&S->top, S->tx, text, LENS_FONT_SMALL) ||
         lens_label_set(&S->legend, S->tx, cap, LENS_FONT_SMALL);
}

static int measure_sentences(Story *S) {
  const attn_trace *t = S->t;
  S->sent = calloc((size_t)S->n, sizeof *S->sent);
  S->num = calloc((size_t)S->n, sizeof *S->num);
  if (!S->sent || !S->num) return -1;
  for (int i = 0, at = 0; i < S->n; i++) {
    char num[16];
    const char *unk[16];
    int n_unk;
    snprintf(num, sizeof num, "%d", i + 1);
    if (lens_label_set(&S->num[i], S->tx, num, LENS_FONT_SMALL) || lens_label_set(&S->sent[i], S->tx, t->sentences[i], LENS_FONT_BODY))
      return -1;
    unknown_words(t, &at, unk, &n_unk, 16);
    if (n_unk) mark_unknown(&S->sent[i], t->sentences[i], unk, n_unk);
    lens_label_wrap(&S->sent[i], TEXT_MAX_W);
    S->num_w = fmax(S->num_w, S->num[i].w);
    S->text_w = fmax(S->text_w, S->sent[i].w);
  }
  S->cell_w = CELL_MIN_W;
  for (int k = 0; k < S->n_hops; k++) {
    if (lens_label_set(&S->head[k], S->tx, t->maps[S->hops[k]].name, LENS_FONT_SMALL) != 0) return -1;
    S->cell_w = fmax(S->cell_w, ceil(S->head[k].w + 10));
  }
  return 0;
}

/* The word view: unknown words shown as they were typed, struck through. */
static int measure_words(Story *S) {
  const attn_tokens *src = &S->t->source;
  S->word = calloc((size_t)src->n, sizeof *S->word);
  S->wx = calloc((size_t)src->n, sizeof *S->wx);
  S->wy = calloc((size_t)src->n, sizeof *S->wy);
  if (!S->word || !S->wx || !S->wy) return -1;
  for (int k = 0; k < src->n; k++) {
    const char *tok = src->tokens[k];
    int unk = strncmp(tok, "<unk:", 5) == 0;
    char shown[160];
    snprintf(shown, sizeof shown, "%.*s", unk ? (int)strlen(tok) - 6 : (int)strlen(tok), unk ? tok + 5 : tok);
    if (lens_label_set(&S->word[k], S->tx, shown, LENS_FONT_BODY) != 0) return -1;
    if (unk) {
      PangoAttrList *attrs = pango_attr_list_new();
      pango_attr_list_insert(attrs, pango_attr_strikethrough_new(TRUE));
      pango_layout_set_attributes(S->word[k].layout, attrs);
      pango_attr_list_unref(attrs);
    }
  }
  return 0;
}

static void story_close(Story *S) {
  for (int i = 0; S->sent && i < S->n; i++) lens_label_clear(&S->sent[i]), lens_label_clear(&S->num[i]);
  for (int k = 0; S->word && k < S->t->source.n; k++) lens_label_clear(&S->word[k]);
  for (int k = 0; k < S->n_hops; k++) lens_label_clear(&S->head[k]);
  LensLabel *labels[] = {&S->title, &S->question, &S->answer, &S->legend, &S->zero, &S->top};
  for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) lens_label_clear(labels[i]);
  free(S->sent), free(S->num), free(S->word), free(S->wx), free(S->wy), free(S->row_y), free(S->row_h);
  lens_text_free(S->tx);
}

static double shown_max(const Story *S) {
  if (S->o->vmax > 0 && isfinite(S->o->vmax)) return S->o->vmax;
  double top = S->wmap ? lens_map_max(S->wmap) : 0;
  for (int k = 0; k < S->n_hops; k++) top = fmax(top, lens_map_max(&S->t->maps[S->hops[k]]));
  return top > 0 && isfinite(top) ? top : 1.0;
}

static attn_status story_open(Story *S, const attn_trace *t, const attn_map *m, const LensRenderOptions *o) {
  memset(S, 0, sizeof *S);
  S->t = t, S->o = o;
  lens_theme_get(o->dark, &S->th);
  if (is_word_map(t, m)) S->wmap = m;
  for (int k = 0; !S->wmap && k < t->n_maps && S->n_hops < MAX_HOPS; k++)
    if (is_sentence_map(t, &t->maps[k])) S->hops[S->n_hops++] = k;
  if (!S->wmap && S->n_hops == 0) return ATTN_E_ARG;
  S->n = S->wmap ? 0 : t->n_sentences;
  S->vmax = shown_max(S);
  S->tx = lens_text_new(lens_font_pt(o));
  char title[512];
  snprintf(title, sizeof title, "%s", o->title ? o->title : "");
  if (!o->title)
    snprintf(title, sizeof title, "%s \xe2\x80\x94 %s", t->model && *t->model ? t->model : "reader",
             S->wmap ? "attention over the story's words" : "which sentences each hop read");
  int bad = !S->tx || lens_label_set(&S->title, S->tx, title, LENS_FONT_TITLE) != 0 || measure_qa(S) != 0 ||
            (S->wmap ? measure_words(S) : measure_sentences(S)) != 0;
  if (bad) {
    story_close(S);
    return ATTN_E_NOMEM;
  }
  return ATTN_OK;
}

/* ---- placement ---- */

static double place_sentences(Story *S, double top) {
  S->row_y = calloc((size_t)S->n + 1, sizeof *S->row_y);
  S->row_h = calloc((size_t)S->n + 1, sizeof *S->row_h);
  if (!S->row_y || !S->row_h) return top;
  double head_h = 0;
  for (int k = 0; k < S->n_hops; k++) head_h = fmax(head_h, S->head[k].h);
  S->gx = ceil(PAD + S->num_w + NUM_GAP + S->text_w + TEXT_GAP);
  S->gy = ceil(top + head_h + HEAD_GAP);
  double y = S->gy;
  for (int i = 0; i < S->n; i++) {
    S->row_y[i] = y;
    S->row_h[i] = ceil(fmax(LENS_MIN_CELL, S->sent[i].h + 2 * ROW_PAD));
    y += S->row_h[i];
  }
  S->grid_h = y - S->gy;
  return y;
}

/* Words flow left to right, a new line for every sentence and wherever the width runs out. */
static double place_words(Story *S, double top) {
  const attn_tokens *src = &S->t->source;
  double x = PAD, y = top, line_h = 0, right = PAD;
  for (int k = 0; k < src->n; k++) {
    double w = S->word[k].w + 2 * WORD_PAD;
    if (x > PAD && x + w > PAD + WORDS_MAX_W) y += line_h + WORD_GAP, x = PAD, line_h = 0;
    S->wx[k] = x, S->wy[k] = y;
    x += w + WORD_GAP;
    right = fmax(right, x);
    line_h = fmax(line_h, S->word[k].h + 2 * WORD_PAD);
    if (is_separator(src->tokens[k]) && k + 1 < src->n) y += line_h + WORD_GAP, x = PAD, line_h = 0, S->n++;
  }
  S->text_w = right - PAD;
  return y + line_h;
}

static void story_place(Story *S) {
  double top = PAD + S->title.h + TITLE_GAP, bottom = S->wmap ? place_words(S, top) : place_sentences(S, top);
  S->qa_y = ceil(bottom + QA_GAP);
  S->bar_y = ceil(S->qa_y + S->question.h + QA_LINE_GAP + S->answer.h + BAR_GAP);
  double right = S->wmap ? PAD + S->text_w : S->gx + S->n_hops * S->cell_w;
  right = fmax(right, PAD + fmax(S->title.w, fmax(S->question.w, S->answer.w)));
  right = fmax(right, PAD + S->zero.w + 4 + BAR_W + 4 + S->top.w + 12 + S->legend.w);
  S->W = ceil(right + PAD);
  S->H = ceil(S->bar_y + fmax(BAR_H, S->top.h) + PAD);
}

attn_status lens_story_size(const attn_trace *t, const attn_map *m, const LensRenderOptions *o, double *width,
                            double *height) {
  Story S;
  attn_status st = story_open(&S, t, m, o);
  if (st != ATTN_OK) return st;
  story_place(&S);
  *width = S.W, *height = S.H;
  story_close(&S);
  return ATTN_OK;
}

/* ---- drawing ---- */

/* Black or white, whichever contrasts more with the background (WCAG relative luminance). */
static void ink_on(const double bg[3], double out[3]) {
  static const double wgt[3] = {0.2126, 0.7152, 0.0722};
  double lum = 0;
  for (int c = 0; c < 3; c++) lum += wgt[c] * (bg[c] <= 0.04045 ? bg[c] / 12.92 : pow((bg[c] + 0.055) / 1.055, 2.4));
  double g = (lum + 0.05) / 0.05 > 1.05 / (lum + 0.05) ? 0.07 : 1.0;
  out[0] = out[1] = out[2] = g;
}

/* The colour of a weight; in the word view blended into the background by the weight, so
 * that light weights stay light behind the text. */
static void weight_rgb(const Story *S, double w, double rgb[3]) {
  double a = fmin(1.0, fmax(0.0, w / S->vmax));
  lens_colormap_rgb(S->o->colormap, a, rgb);
  if (S->wmap)
    for (int c = 0; c < 3; c++) rgb[c] = S->th.bg[c] + a * (rgb[c] - S->th.bg[c]);
}

static void draw_cell(cairo_t *cr, const Story *S, int k, int i, int text) {
  const attn_map *m = &S->t->maps[S->hops[k]];
  double w = m->weights[i], rgb[3], ink[3], x = S->gx + k * S->cell_w, y = S->row_y[i];
  weight_rgb(S, w, rgb);
  lens_set_rgb(cr, rgb, 1.0);
  cairo_rectangle(cr, x, y, S->cell_w, S->row_h[i]);
  cairo_fill(cr);
  if (!text || !S->o->show_values) return;
  char v[16];
  snprintf(v, sizeof v, "%.2f", w);
  LensLabel l;
  if (lens_label_set(&l, S->tx, v, LENS_FONT_SMALL) != 0) return;
  ink_on(rgb, ink);
  lens_label_draw(cr, &l, x + (S->cell_w - l.w) / 2, y + (S->row_h[i] - l.h) / 2, 0, ink);
  lens_label_clear(&l);
}

static void draw_sentences(cairo_t *cr, const Story *S, LensLayout *layout, int text) {
  int lit = S->o->highlight_row; /* a clicked sentence (its label is a row label) */
  for (int i = 0; i < S->n; i++) {
    double y = S->row_y[i];
    if (i % 2 == 1) { /* banded rows guide the eye from a sentence to its cells */
      lens_set_rgb(cr, S->th.fg, 0.04);
      cairo_rectangle(cr, PAD, y, S->gx - PAD, S->row_h[i]);
      cairo_fill(cr);
    }
    for (int k = 0; k < S->n_hops; k++) draw_cell(cr, S, k, i, text);
    LensRect ink = lens_label_ink(&S->sent[i], PAD + S->num_w + NUM_GAP, y + (S->row_h[i] - S->sent[i].h) / 2, 0);
    if (text) {
      lens_label_draw(cr, &S->num[i], PAD + S->num_w - S->num[i].w, y + (S->row_h[i] - S->num[i].h) / 2, 0, S->th.muted);
      lens_label_draw(cr, &S->sent[i], PAD + S->num_w + NUM_GAP, y + (S->row_h[i] - S->sent[i].h) / 2, 0,
                      lit >= 0 && lit != i ? S->th.muted : S->th.fg);
    }
    if (layout && i < LENS_LAYOUT_MAX_LABELS) layout->row_labels[layout->n_row_labels++] = ink;
  }
  lens_set_rgb(cr, S->th.bg, 1.0); /* thin gaps between the hop columns */
  for (int k = 1; k < S->n_hops; k++) cairo_rectangle(cr, S->gx + k * S->cell_w - 0.5, S->gy, 1, S->grid_h);
  cairo_fill(cr);
  for (int k = 0; text && k < S->n_hops; k++)
    lens_label_draw(cr, &S->head[k], S->gx + k * S->cell_w + (S->cell_w - S->head[k].w) / 2,
                    S->gy - HEAD_GAP - S->head[k].h, 0, S->hops[k] == S->o->map_index ? S->th.fg : S->th.muted);
  if (lit >= 0 && lit < S->n) {
    lens_set_rgb(cr, S->th.fg, 1.0);
    cairo_set_line_width(cr, 2);
    cairo_rectangle(cr, PAD - 4, S->row_y[lit], S->gx + S->n_hops * S->cell_w - PAD + 4, S->row_h[lit]);
    cairo_stroke(cr);
  }
}

static void draw_words(cairo_t *cr, const Story *S, LensLayout *layout, int text) {
  const attn_tokens *src = &S->t->source;
  for (int k = 0; k < src->n; k++) {
    double rgb[3], ink[3], bw = S->word[k].w + 2 * WORD_PAD, bh = S->word[k].h + 2 * WORD_PAD;
    weight_rgb(S, S->wmap->weights[k], rgb);
    lens_set_rgb(cr, rgb, 1.0);
    cairo_rectangle(cr, S->wx[k], S->wy[k], bw, bh);
    cairo_fill(cr);
    ink_on(rgb, ink);
    if (strncmp(src->tokens[k], "<unk:", 5) == 0) memcpy(ink, S->th.muted, sizeof ink);
    if (text) lens_label_draw(cr, &S->word[k], S->wx[k] + WORD_PAD, S->wy[k] + WORD_PAD, 0, ink);
    if (layout && k < LENS_LAYOUT_MAX_LABELS) layout->col_labels[layout->n_col_labels++] = (LensRect){S->wx[k], S->wy[k], bw, bh};
  }
}

static void draw_legend(cairo_t *cr, const Story *S, LensLayout *layout) {
  double x = PAD + S->zero.w + 4, y = S->bar_y + (fmax(BAR_H, S->top.h) - BAR_H) / 2;
  cairo_pattern_t *p = cairo_pattern_create_linear(x, 0, x + BAR_W, 0);
  double rgb[3];
  for (int k = 0; k <= 64; k++) {
    weight_rgb(S, k / 64.0 * S->vmax, rgb);
    cairo_pattern_add_color_stop_rgb(p, k / 64.0, rgb[0], rgb[1], rgb[2]);
  }
  cairo_set_source(cr, p);
  cairo_rectangle(cr, x, y, BAR_W, BAR_H);
  cairo_fill(cr);
  cairo_pattern_destroy(p);
  double ly = S->bar_y + (fmax(BAR_H, S->top.h) - S->top.h) / 2;
  lens_label_draw(cr, &S->zero, PAD, ly, 0, S->th.muted);
  lens_label_draw(cr, &S->top, x + BAR_W + 4, ly, 0, S->th.muted);
  lens_label_draw(cr, &S->legend, x + BAR_W + 4 + S->top.w + 12, ly, 0, S->th.muted);
  if (layout) layout->colorbar = (LensRect){x, y, BAR_W, BAR_H};
}

static void story_paint(cairo_t *cr, const Story *S, LensLayout *layout, int text) {
  if (S->wmap) draw_words(cr, S, layout, text);
  else draw_sentences(cr, S, layout, text);
  if (!text) return;
  lens_label_draw(cr, &S->title, PAD, PAD, 0, S->th.fg);
  lens_label_draw(cr, &S->question, PAD, S->qa_y, 0, S->th.fg);
  lens_label_draw(cr, &S->answer, PAD, S->qa_y + S->question.h + QA_LINE_GAP, 0, S->th.fg);
  if (S->o->show_colorbar) draw_legend(cr, S, layout);
}

attn_status lens_story_draw(cairo_t *cr, const attn_trace *t, const attn_map *m, const LensRenderOptions *o,
                            double width, double height, LensLayout *layout) {
  Story S;
  attn_status st = story_open(&S, t, m, o);
  if (st != ATTN_OK) return st;
  story_place(&S);
  LensFit fit;
  lens_fit_begin(cr, S.tx, S.W, S.H, width, height, &fit);
  story_paint(cr, &S, layout, fit.text);
  if (layout && !S.wmap) {
    layout->grid = (LensRect){S.gx, S.gy, S.n_hops * S.cell_w, S.grid_h};
    layout->cell_w = S.cell_w;
    layout->cell_h = S.n > 0 ? S.grid_h / S.n : 0;
  }
  lens_fit_end(cr, &fit, layout, m);
  if (layout) layout->rows = S.wmap ? 1 : S.n, layout->cols = S.wmap ? t->source.n : S.n_hops;
  story_close(&S);
  return ATTN_OK;
}
