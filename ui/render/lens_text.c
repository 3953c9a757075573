/* Text for the renderers: one Pango set-up for measuring and drawing, and token labels. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attn_util.h"
#include "lens_private.h"

struct LensText {
  cairo_surface_t *surface; /* 1x1, only for measuring */
  cairo_t *cr;
  PangoContext *ctx;
  PangoFontDescription *font[LENS_FONT_COUNT];
  double px[LENS_FONT_COUNT];
};

static const double font_scale[LENS_FONT_COUNT] = {1.0, 0.82, 1.3};

static int text_setup_context(LensText *tx) {
  tx->ctx = pango_cairo_create_context(tx->cr);
  if (!tx->ctx) return -1;
  /* Unhinted metrics and unrounded positions make widths scale exactly with the CTM. */
  cairo_font_options_t *fo = cairo_font_options_create();
  cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
  pango_cairo_context_set_font_options(tx->ctx, fo);
  cairo_font_options_destroy(fo);
  pango_cairo_context_set_resolution(tx->ctx, 96.0);
  pango_context_set_round_glyph_positions(tx->ctx, FALSE);
  return 0;
}

LensText *lens_text_new(double font_pt) {
  LensText *tx = calloc(1, sizeof *tx);
  if (!tx) return NULL;
  tx->surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1);
  tx->cr = cairo_create(tx->surface);
  if (cairo_status(tx->cr) != CAIRO_STATUS_SUCCESS || text_setup_context(tx) != 0) {
    lens_text_free(tx);
    return NULL;
  }
  for (int f = 0; f < LENS_FONT_COUNT; f++) {
    tx->font[f] = pango_font_description_from_string("Sans");
    pango_font_description_set_size(tx->font[f], (int)lround(font_pt * font_scale[f] * PANGO_SCALE));
    if (f == LENS_FONT_TITLE) pango_font_description_set_weight(tx->font[f], PANGO_WEIGHT_BOLD);
    tx->px[f] = font_pt * font_scale[f] * 96.0 / 72.0;
  }
  return tx;
}

void lens_text_free(LensText *tx) {
  if (!tx) return;
  for (int f = 0; f < LENS_FONT_COUNT; f++)
    if (tx->font[f]) pango_font_description_free(tx->font[f]);
  if (tx->ctx) g_object_unref(tx->ctx);
  if (tx->cr) cairo_destroy(tx->cr);
  if (tx->surface) cairo_surface_destroy(tx->surface);
  free(tx);
}

double lens_text_px(const LensText *tx, LensFont font) { return tx->px[font]; }

static void label_measure(LensLabel *l) {
  PangoRectangle logical;
  pango_layout_get_extents(l->layout, &l->ink, &logical);
  l->w = (double)logical.width / PANGO_SCALE;
  l->h = (double)logical.height / PANGO_SCALE;
}

static int label_new_layout(LensLabel *l, LensText *tx, LensFont font) {
  memset(l, 0, sizeof *l);
  l->layout = pango_layout_new(tx->ctx);
  if (!l->layout) return -1;
  pango_layout_set_font_description(l->layout, tx->font[font]);
  return 0;
}

size_t lens_label_cut(const char *text) {
  size_t n = strnlen(text, LENS_LABEL_MAX_BYTES + 1);
  if (n <= LENS_LABEL_MAX_BYTES) return n;
  n = LENS_LABEL_MAX_BYTES;
  while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80) n--; /* not inside a character */
  return n;
}

/* Pango's cost grows faster than the length of a paragraph (wrapping one long word, many
 * attributes), so a label shows at most LENS_LABEL_MAX_BYTES and says so with "…": drawing
 * then costs at most a constant per label, linear in the trace. */
static void label_set_text(LensLabel *l, const char *text) {
  size_t n = lens_label_cut(text);
  if (text[n] == '\0') {
    pango_layout_set_text(l->layout, text, (int)n);
    return;
  }
  char *cut = malloc(n + 4);
  if (!cut) {
    pango_layout_set_text(l->layout, "\xe2\x80\xa6", -1);
    return;
  }
  memcpy(cut, text, n);
  memcpy(cut + n, "\xe2\x80\xa6", 4); /* … and the NUL */
  pango_layout_set_text(l->layout, cut, -1);
  free(cut);
}

int lens_label_set(LensLabel *l, LensText *tx, const char *text, LensFont font) {
  if (label_new_layout(l, tx, font) != 0) return -1;
  label_set_text(l, text ? text : "");
  label_measure(l);
  return 0;
}

static PangoAttribute *muted_attr(const double muted[3], size_t start, size_t end) {
  PangoAttribute *a = pango_attr_foreground_new((guint16)lround(muted[0] * 65535),
                                                (guint16)lround(muted[1] * 65535),
                                                (guint16)lround(muted[2] * 65535));
  a->start_index = (guint)start;
  a->end_index = (guint)end;
  return a;
}

/* Special tokens such as </s> or <unk> are shown whole, in the muted colour. */
static int is_special(const char *s) {
  size_t n = strlen(s);
  return n >= 3 && s[0] == '<' && s[n - 1] == '>';
}

int lens_label_token(LensLabel *l, LensText *tx, const char *token, int word_start,
                     int max_chars, const double muted[3]) {
  size_t mark = 0;
  char *shown = lens_token_display(token, word_start, max_chars, &mark);
  if (!shown || label_new_layout(l, tx, LENS_FONT_BODY) != 0) {
    free(shown);
    return -1;
  }
  label_set_text(l, shown);
  size_t end = is_special(shown + mark) ? lens_label_cut(shown) : mark;
  if (end > 0) {
    PangoAttrList *attrs = pango_attr_list_new();
    pango_attr_list_insert(attrs, muted_attr(muted, 0, end));
    pango_layout_set_attributes(l->layout, attrs);
    pango_attr_list_unref(attrs);
  }
  free(shown);
  label_measure(l);
  return 0;
}

void lens_label_wrap(LensLabel *l, double width) {
  pango_layout_set_wrap(l->layout, PANGO_WRAP_WORD_CHAR);
  /* Pango widths are ints of 1/PANGO_SCALE unit: a wider box (a trace of 100k tokens,
   * refused later as too big) cannot be expressed and needs no wrapping anyway. */
  int fits = width > 0 && width < (double)(INT_MAX / PANGO_SCALE);
  pango_layout_set_width(l->layout, fits ? (int)floor(width * PANGO_SCALE) : -1);
  label_measure(l);
}

void lens_label_clear(LensLabel *l) {
  if (l->layout) g_object_unref(l->layout);
  memset(l, 0, sizeof *l);
}

LensRect lens_label_ink(const LensLabel *l, double x, double y, int rotated) {
  double ix = (double)l->ink.x / PANGO_SCALE, iy = (double)l->ink.y / PANGO_SCALE;
  double iw = (double)l->ink.width / PANGO_SCALE, ih = (double)l->ink.height / PANGO_SCALE;
  if (!rotated) return (LensRect){x + ix, y + iy, iw, ih};
  /* Rotated by -90 degrees about (x, y): layout x runs up, layout y runs right. */
  return (LensRect){x + iy, y - ix - iw, ih, iw};
}

LensRect lens_label_draw(cairo_t *cr, const LensLabel *l, double x, double y, int rotated,
                         const double rgb[3]) {
  cairo_save(cr);
  cairo_translate(cr, x, y);
  if (rotated) cairo_rotate(cr, -M_PI / 2);
  lens_set_rgb(cr, rgb, 1.0);
  cairo_move_to(cr, 0, 0);
  pango_cairo_update_layout(cr, l->layout);
  pango_cairo_show_layout(cr, l->layout);
  cairo_new_path(cr); /* drop the current point, or the next arc would join it */
  cairo_restore(cr);
  return lens_label_ink(l, x, y, rotated);
}

/* ---- display form of subword pieces ---- */

typedef struct TextBuf {
  char *s;
  size_t len, cap;
} TextBuf;

static int buf_put(TextBuf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = (b->len + n + 1) * 2;
    char *grown = realloc(b->s, cap);
    if (!grown) return -1;
    b->s = grown;
    b->cap = cap;
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
  return 0;
}

static size_t utf8_seq_len(unsigned char c) {
  return c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

/* One character of the token as it should appear: controls become visible symbols. */
static int put_char(TextBuf *b, const char *p, size_t n) {
  unsigned char c = (unsigned char)p[0];
  if (n == 3 && memcmp(p, "\xe2\x96\x81", 3) == 0) return buf_put(b, " ", 1); /* inner ▁ */
  if (c == '\n') return buf_put(b, "\xe2\x86\xb5", 3);                         /* ↵ */
  if (c == '\t') return buf_put(b, "\xe2\x87\xa5", 3);                         /* ⇥ */
  if (c < 0x20 || c == 0x7f) return buf_put(b, "\xef\xbf\xbd", 3);             /* � */
  return buf_put(b, p, n);
}

static int put_body(TextBuf *b, const char *s, int max_chars) {
  size_t len = strlen(s);
  int chars = 0;
  for (size_t i = 0; i < len; chars++) {
    size_t n = utf8_seq_len((unsigned char)s[i]);
    if (i + n > len || !attn_utf8_valid(s + i, n)) {
      if (buf_put(b, "\xef\xbf\xbd", 3) != 0) return -1;
      i++;
      continue;
    }
    if (max_chars > 0 && chars >= max_chars) return buf_put(b, "\xe2\x80\xa6", 3); /* … */
    if (put_char(b, s + i, n) != 0) return -1;
    i += n;
  }
  return 0;
}

/* Punctuation glued to a word needs no continuation mark: only letters and digits get one. */
static int has_word_char(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s >= 0x80 || (*s >= '0' && *s <= '9') || ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z'))
      return 1;
  return 0;
}

char *lens_token_display(const char *token, int word_start, int max_chars, size_t *mark_len) {
  TextBuf b = {0};
  const char *s = token ? token : "";
  if (strncmp(s, "\xe2\x96\x81", 3) == 0) s += 3;
  *mark_len = 0;
  int ok = buf_put(&b, "", 0) == 0;
  if (ok && !word_start && has_word_char(s)) {
    ok = buf_put(&b, "\xc2\xb7", 2) == 0; /* · marks a piece that continues a word */
    *mark_len = 2;
  }
  if (ok) ok = put_body(&b, s, max_chars) == 0;
  if (ok && b.len == *mark_len) ok = buf_put(&b, "\xe2\x90\xa3", 3) == 0; /* ␣: a bare space */
  if (!ok) {
    free(b.s);
    return NULL;
  }
  return b.s;
}
