/* Corpus BLEU as training/bleu.py computes it (and sacreBLEU's defaults): the 13a rules are
 * the same regular expressions, applied in the same order by GRegex (PCRE). */
#include "bleu.h"

#include <math.h>
#include <string.h>

static const char *RULES[][2] = {
    {"([\\{-\\~\\[-\\` -\\&\\(-\\+\\:-\\@\\/])", " \\1 "}, /* punctuation and symbols */
    {"([^0-9])([\\.,])", "\\1 \\2 "},                     /* period/comma unless after a digit */
    {"([\\.,])([^0-9])", " \\1 \\2"},                     /* period/comma unless before a digit */
    {"([0-9])(-)", "\\1 \\2 "},                           /* dash after a digit */
};

static GRegex *compiled[G_N_ELEMENTS(RULES)];

static void compile_rules(void) {
  static gsize done = 0;
  if (g_once_init_enter(&done)) {
    for (guint i = 0; i < G_N_ELEMENTS(RULES); i++) compiled[i] = g_regex_new(RULES[i][0], G_REGEX_OPTIMIZE, 0, NULL);
    g_once_init_leave(&done, 1);
  }
}

static char *replace_all(const char *s, const char *from, const char *to) {
  gchar **parts = g_strsplit(s, from, -1);
  char *out = g_strjoinv(to, parts);
  g_strfreev(parts);
  return out;
}

/* Python's str.isspace for one character (Unicode White_Space, and the separators \x1c-\x1f). */
static int py_space(gunichar c) { return g_unichar_isspace(c) || (c >= 0x1c && c <= 0x1f) || c == 0x85; }

/* " ".join(text.split()) as Python does it (invalid UTF-8 is taken byte by byte). */
static char *join_words(const char *text) {
  GString *out = g_string_new(NULL);
  int in_word = 0;
  for (const char *p = text; *p;) {
    gunichar c = g_utf8_get_char_validated(p, -1);
    const char *next = c == (gunichar)-1 || c == (gunichar)-2 ? p + 1 : g_utf8_next_char(p);
    if (c != (gunichar)-1 && c != (gunichar)-2 && py_space(c)) in_word = 0;
    else {
      if (!in_word && out->len) g_string_append_c(out, ' ');
      in_word = 1;
      g_string_append_len(out, p, next - p);
    }
    p = next;
  }
  return g_string_free(out, FALSE);
}

char *bleu_tokenize_13a(const char *text) {
  compile_rules();
  char *a = replace_all(text, "<skipped>", ""), *b = replace_all(a, "-\n", ""), *line = replace_all(b, "\n", " ");
  g_free(a), g_free(b);
  if (strchr(line, '&')) {
    const char *ents[][2] = {{"&quot;", "\""}, {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}};
    for (guint i = 0; i < G_N_ELEMENTS(ents); i++) {
      char *t = replace_all(line, ents[i][0], ents[i][1]);
      g_free(line);
      line = t;
    }
  }
  char *padded = g_strconcat(" ", line, " ", NULL);
  g_free(line);
  for (guint i = 0; i < G_N_ELEMENTS(RULES); i++) {
    char *t = compiled[i] ? g_regex_replace(compiled[i], padded, -1, 0, RULES[i][1], 0, NULL) : NULL;
    if (t) {
      g_free(padded);
      padded = t;
    }
  }
  char *out = join_words(padded);
  g_free(padded);
  return out;
}

/* n-gram -> count of a token list, as "tok\x01tok..." keys. */
static GHashTable *ngrams(gchar **toks, int n_tok, int n) {
  GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (int i = 0; i + n <= n_tok; i++) {
    GString *k = g_string_new(toks[i]);
    for (int j = 1; j < n; j++) g_string_append_c(k, '\x01'), g_string_append(k, toks[i + j]);
    char *key = g_string_free(k, FALSE);
    gpointer old = g_hash_table_lookup(h, key);
    g_hash_table_replace(h, key, GINT_TO_POINTER(GPOINTER_TO_INT(old) + 1));
  }
  return h;
}

static gchar **split_tokens(const char *tokenized, int *n) {
  gchar **t = *tokenized ? g_strsplit(tokenized, " ", -1) : g_new0(gchar *, 1);
  *n = (int)g_strv_length(t);
  return t;
}

void bleu_add(BleuStats *st, const char *hyp, const char *ref) {
  /* bleu.py tokenises h.rstrip(); the 13a output ends without spaces either way */
  char *ht = bleu_tokenize_13a(hyp), *rt = bleu_tokenize_13a(ref);
  int nh, nr;
  gchar **hv = split_tokens(ht, &nh), **rv = split_tokens(rt, &nr);
  st->hyp_len += nh, st->ref_len += nr;
  for (int n = 1; n <= BLEU_ORDER; n++) {
    GHashTable *hc = ngrams(hv, nh, n), *rc = ngrams(rv, nr, n);
    GHashTableIter it;
    gpointer key, val;
    g_hash_table_iter_init(&it, hc);
    while (g_hash_table_iter_next(&it, &key, &val)) {
      int c = GPOINTER_TO_INT(val), rcount = GPOINTER_TO_INT(g_hash_table_lookup(rc, key));
      st->match[n - 1] += c < rcount ? c : rcount;
    }
    st->total[n - 1] += nh - n + 1 > 0 ? nh - n + 1 : 0;
    g_hash_table_unref(hc), g_hash_table_unref(rc);
  }
  g_strfreev(hv), g_strfreev(rv);
  g_free(ht), g_free(rt);
}

double bleu_score(const BleuStats *st) {
  double logs = 0.0;
  for (int n = 0; n < BLEU_ORDER; n++) {
    if (st->match[n] == 0 || st->total[n] == 0) return 0.0;
    logs += log((double)st->match[n] / (double)st->total[n]);
  }
  double bp = st->hyp_len >= st->ref_len ? 1.0 : st->hyp_len > 0 ? exp(1.0 - (double)st->ref_len / st->hyp_len) : 0.0;
  return 100.0 * bp * exp(logs / BLEU_ORDER);
}
