/* From a story and a question to a reading trace: split the story into sentences, tokenise
 * like training/babi.py, look the words up, run MemN2N or the attentive reader, and record
 * which sentences (or words) each hop read. */
#include "attn_read.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_memn2n.h"
#include "attn_model_dir.h"
#include "attn_reader.h"
#include "attn_util.h"

#define VOCAB_MAX_BYTES (64u << 20)
#define DISPLAY_FACTOR 4 /* a sentence shows at most this many times max_words words */

typedef enum reader_arch { ARCH_MEMN2N, ARCH_ATTENTIVE } reader_arch;

struct attn_reader {
  char *name, *display_name;
  attn_model_dir *dir;
  reader_arch arch;
  attn_memn2n *memn2n;
  attn_attentive_reader *attentive;
  int vocab_size, max_sentences, max_words, hops, separator; /* separator: id of ".", -1 if none */
  char *vocab_text;  /* the file, with NULs where the newlines were */
  char **vocab;      /* [vocab_size] entries pointing into vocab_text */
  struct vocab_entry *sorted; /* ids 1..V-1 sorted by their entry, for lookups */
};

typedef struct vocab_entry {
  const char *word;
  int32_t id;
} vocab_entry;

/* ---- tokenizer ---- */

static int is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
static int is_word_byte(unsigned char c) {
  return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static int is_joiner(unsigned char c) { return c == '\'' || c == '-' || c == '_'; }
static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

/* Length of the word starting at s[0] (a word byte): word bytes and inner joiners. */
static size_t word_length(const unsigned char *s, size_t len) {
  size_t j = 1;
  while (j < len && (is_word_byte(s[j]) || (is_joiner(s[j]) && j + 1 < len && is_word_byte(s[j + 1])))) j++;
  return j;
}

void attn_words_free(char **words) {
  for (char **w = words; w && *w; w++) free(*w);
  free(words);
}

/* Appends a lowercased copy of s[0..w) to *out (n entries, room for *cap + the NULL). */
static int push_word(char ***out, int *n, int *cap, const char *s, size_t w) {
  if (*n == *cap) {
    if (*cap > INT_MAX / 2) return -1;
    char **grown = realloc(*out, ((size_t)*cap * 2 + 1) * sizeof **out);
    if (!grown) return -1;
    *out = grown, *cap *= 2;
  }
  char *word = malloc(w + 1);
  if (!word) return -1;
  for (size_t k = 0; k < w; k++) word[k] = lower(s[k]);
  word[w] = '\0';
  (*out)[(*n)++] = word;
  (*out)[*n] = NULL;
  return 0;
}

char **attn_read_tokenize(const char *text, size_t len, int max_words, int *n_words) {
  const unsigned char *s = (const unsigned char *)text;
  int cap = 8, n = 0;
  char **out = calloc((size_t)cap + 1, sizeof *out);
  for (size_t i = 0; out && i < len && n < max_words;) {
    if (is_space(s[i]) || s[i] == '.' || s[i] == '?' || s[i] == '!') {
      i++;
      continue;
    }
    size_t w = is_word_byte(s[i]) ? word_length(s + i, len - i) : 1;
    if (push_word(&out, &n, &cap, text + i, w) != 0) {
      attn_words_free(out);
      return NULL;
    }
    i += w;
  }
  if (out) *n_words = n;
  return out;
}

/* ---- the vocabulary ---- */

static int cmp_entries(const void *a, const void *b) {
  return strcmp(((const vocab_entry *)a)->word, ((const vocab_entry *)b)->word);
}

/* The id of a word, or -1. */
static int word_id(const attn_reader *r, const char *word) {
  int lo = 0, hi = r->vocab_size - 2;
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2, c = strcmp(r->sorted[mid].word, word);
    if (c == 0) return r->sorted[mid].id;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/* Splits the file into entries; checks the count, UTF-8 and duplicates. */
static attn_status parse_vocab(attn_reader *r, const char *path, size_t len, attn_error *err) {
  int n = 0;
  for (size_t i = 0; i < len; i++) n += r->vocab_text[i] == '\n';
  if (len > 0 && r->vocab_text[len - 1] != '\n') n++;
  if (n != r->vocab_size)
    return attn_error_set(err, ATTN_E_SHAPE, "%s has %d entries, the model %d", path, n, r->vocab_size);
  if (!attn_utf8_valid(r->vocab_text, len) || strlen(r->vocab_text) != len)
    return attn_error_set(err, ATTN_E_FORMAT, "%s is not UTF-8 text", path);
  r->vocab = calloc((size_t)n, sizeof *r->vocab);
  r->sorted = malloc((size_t)n * sizeof *r->sorted);
  if (!r->vocab || !r->sorted) return attn_error_set(err, ATTN_E_NOMEM, "out of memory for the vocabulary");
  char *at = r->vocab_text;
  for (int i = 0; i < n; i++) {
    char *nl = strchr(at, '\n');
    if (nl) *nl = '\0';
    if (nl && nl > at && nl[-1] == '\r') nl[-1] = '\0';
    r->vocab[i] = at;
    if (i > 0) r->sorted[i - 1] = (vocab_entry){at, i};
    at = nl ? nl + 1 : at + strlen(at);
  }
  return ATTN_OK;
}

static attn_status load_vocab(attn_reader *r, attn_error *err) {
  const char *file = NULL;
  if (attn_config_string(attn_model_dir_config(r->dir), "attnlens.vocab", "vocab.txt", &file, err) != ATTN_OK)
    return err ? err->code : ATTN_E_FORMAT;
  char *path = attn_model_dir_file(r->dir, file, err);
  if (!path) return err ? err->code : ATTN_E_MISSING;
  size_t len = 0;
  r->vocab_text = attn_read_file(path, VOCAB_MAX_BYTES, &len, err);
  attn_status st = r->vocab_text ? parse_vocab(r, path, len, err) : (err ? err->code : ATTN_E_IO);
  if (st == ATTN_OK) {
    qsort(r->sorted, (size_t)r->vocab_size - 1, sizeof *r->sorted, cmp_entries);
    for (int i = 1; i + 1 < r->vocab_size && st == ATTN_OK; i++)
      if (strcmp(r->sorted[i - 1].word, r->sorted[i].word) == 0)
        st = attn_error_set(err, ATTN_E_FORMAT, "%s lists \"%s\" twice", path, r->sorted[i].word);
  }
  r->separator = st == ATTN_OK ? word_id(r, ".") : -1;
  free(path);
  return st;
}

/* ---- loading ---- */

void attn_reader_free(attn_reader *r) {
  if (!r) return;
  attn_memn2n_free(r->memn2n);
  attn_attentive_reader_free(r->attentive);
  attn_model_dir_close(r->dir);
  free(r->vocab), free(r->sorted), free(r->vocab_text);
  free(r->name), free(r->display_name);
  free(r);
}

static attn_status load_model(attn_reader *r, attn_error *err) {
  const char *arch = attn_model_dir_architecture(r->dir);
  if (arch && (strcmp(arch, "MemN2N") == 0 || strcmp(arch, "memn2n") == 0)) {
    r->arch = ARCH_MEMN2N;
    if (!(r->memn2n = attn_memn2n_load(r->dir, err))) return err ? err->code : ATTN_E_FORMAT;
    const attn_memn2n_dims *D = attn_memn2n_model_dims(r->memn2n);
    r->vocab_size = D->vocab, r->max_sentences = D->memory_size, r->max_words = D->max_sentence_words;
    r->hops = D->hops;
    return ATTN_OK;
  }
  if (arch && (strcmp(arch, "AttentiveReader") == 0 || strcmp(arch, "attentive-reader") == 0)) {
    r->arch = ARCH_ATTENTIVE;
    if (!(r->attentive = attn_attentive_reader_load(r->dir, err))) return err ? err->code : ATTN_E_FORMAT;
    const attn_attentive_reader_dims *D = attn_attentive_reader_model_dims(r->attentive);
    r->vocab_size = D->vocab, r->max_sentences = D->max_sentences, r->max_words = D->max_sentence_words;
    r->hops = 1;
    return ATTN_OK;
  }
  return attn_error_set(err, ATTN_E_VALUE, "%s: architecture \"%s\" is not a reading model attnlens can run",
                        attn_model_dir_path(r->dir), arch ? arch : "(none)");
}

attn_reader *attn_reader_load(const char *dir, attn_error *err) {
  attn_reader *r = calloc(1, sizeof *r);
  if (!r) {
    attn_error_set(err, ATTN_E_NOMEM, "out of memory loading a reading model");
    return NULL;
  }
  r->dir = attn_model_dir_open(dir, err);
  attn_status st = r->dir ? load_model(r, err) : (err ? err->code : ATTN_E_IO);
  if (st == ATTN_OK) st = load_vocab(r, err);
  if (st == ATTN_OK && r->arch == ARCH_ATTENTIVE && r->separator < 1)
    st = attn_error_set(err, ATTN_E_FORMAT, "%s: the vocabulary has no \".\" to close sentences", dir);
  if (st == ATTN_OK) {
    const char *b = attn_path_base(dir);
    r->name = malloc(strcspn(b, "/") + 1);
    if (r->name) snprintf(r->name, strcspn(b, "/") + 1, "%s", b);
    r->display_name = attn_strdup(attn_model_dir_display_name(r->dir));
    if (!r->name || !r->display_name) st = attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  }
  if (st != ATTN_OK) {
    attn_reader_free(r);
    return NULL;
  }
  return r;
}

const char *attn_reader_name(const attn_reader *r) { return r->name; }
const char *attn_reader_display_name(const attn_reader *r) { return r->display_name; }
const char *attn_reader_architecture(const attn_reader *r) {
  return r->arch == ARCH_MEMN2N ? "memn2n" : "attentive-reader";
}
int attn_reader_max_sentences(const attn_reader *r) { return r->max_sentences; }
int attn_reader_max_words(const attn_reader *r) { return r->max_words; }
int attn_reader_knows(const attn_reader *r, const char *word) { return word && word_id(r, word) > 0; }

/* ---- reading: sentences, words, ids ---- */

typedef struct sentence {
  const char *text; /* trimmed line, not NUL-terminated */
  size_t len;
  char **words;     /* as displayed: the known ones, and unknown ones until the cut */
  int n_words;
  int32_t *ids;     /* the known words fed to the model, at most max_words */
  int n_ids;
  int cut;          /* words were left out past the limit */
} sentence;

typedef struct reading {
  sentence *s;      /* the kept sentences, oldest first */
  int n, total;     /* kept, and all non-blank lines */
  sentence q;       /* the question */
  char unknown[320]; /* "a", "b", ... (as many as fit) */
  int n_unknown, n_distinct, q_unknown; /* occurrences, distinct words, occurrences in the question */
  int n_unlisted;                       /* distinct words that did not fit in `unknown` */
} reading;

static void sentence_clear(sentence *s) {
  attn_words_free(s->words);
  free(s->ids);
}

static void reading_clear(reading *rd) {
  for (int i = 0; rd->s && i < rd->n; i++) sentence_clear(&rd->s[i]);
  free(rd->s);
  sentence_clear(&rd->q);
}

static void trim(const char **b, const char **e) {
  while (*b < *e && is_space((unsigned char)**b)) (*b)++;
  while (*e > *b && is_space((unsigned char)(*e)[-1])) (*e)--;
}

/* Counts the non-blank lines; with out, fills the last out_n of them. */
static int story_lines(const char *story, sentence *out, int skip) {
  int count = 0;
  for (const char *p = story; *p;) {
    const char *e = p + strcspn(p, "\n"), *b = p, *next = *e ? e + 1 : e;
    trim(&b, &e);
    if (b < e) {
      if (out && count >= skip) out[count - skip] = (sentence){.text = b, .len = (size_t)(e - b)};
      count++;
    }
    p = next;
  }
  return count;
}

/* Adds "w" to the list of unknown words (once, while it fits; the rest are counted). A
 * long word is quoted by its start and its length, so that it is listed, not lost. */
static void note_unknown(reading *rd, const char *w) {
  char quoted[96];
  size_t used = strlen(rd->unknown), len = strlen(w), cut = 32;
  rd->n_unknown++;
  if (len <= 48) {
    snprintf(quoted, sizeof quoted, "\"%s\"", w);
  } else {
    while (cut > 0 && ((unsigned char)w[cut] & 0xC0) == 0x80) cut--; /* a whole character */
    snprintf(quoted, sizeof quoted, "\"%.*s\xe2\x80\xa6\" (%zu characters)", (int)cut, w, attn_utf8_length(w, len));
  }
  if (strstr(rd->unknown, quoted)) return;
  rd->n_distinct++;
  if (used + strlen(quoted) + 3 < sizeof rd->unknown)
    snprintf(rd->unknown + used, sizeof rd->unknown - used, "%s%s", used ? ", " : "", quoted);
  else
    rd->n_unlisted++;
}

/* Tokenises one sentence and keeps the known words up to max_words (the twin's rule); the
 * display stops there too. Returns 0, or -1 when out of memory. */
static int read_sentence(const attn_reader *r, reading *rd, sentence *s) {
  int cap = DISPLAY_FACTOR * r->max_words, n = 0;
  char **words = attn_read_tokenize(s->text, s->len, cap + 1, &n);
  s->ids = malloc(((size_t)r->max_words + 1) * sizeof *s->ids);
  if (!words || !s->ids) {
    attn_words_free(words);
    return -1;
  }
  int shown = 0;
  for (; shown < n && shown < cap && s->n_ids < r->max_words; shown++) {
    int id = word_id(r, words[shown]);
    if (id > 0) s->ids[s->n_ids++] = id;
    else note_unknown(rd, words[shown]);
  }
  s->cut = shown < n;
  for (int k = shown; k < n; k++) free(words[k]), words[k] = NULL;
  s->words = words;
  s->n_words = shown;
  return 0;
}

static attn_status read_text(const attn_reader *r, const char *story, const char *question, reading *rd,
                             attn_error *err) {
  rd->total = story_lines(story, NULL, 0);
  if (rd->total == 0) return attn_error_set(err, ATTN_E_ARG, "the story has no sentence: write one per line");
  const char *qb = question, *qe = question + strlen(question);
  trim(&qb, &qe);
  if (qb == qe) return attn_error_set(err, ATTN_E_ARG, "there is no question to answer");
  rd->n = rd->total < r->max_sentences ? rd->total : r->max_sentences;
  rd->s = calloc((size_t)rd->n, sizeof *rd->s);
  if (!rd->s) return attn_error_set(err, ATTN_E_NOMEM, "out of memory for %d sentences", rd->n);
  story_lines(story, rd->s, rd->total - rd->n);
  for (int i = 0; i < rd->n; i++)
    if (read_sentence(r, rd, &rd->s[i]) != 0) return attn_error_set(err, ATTN_E_NOMEM, "out of memory reading the story");
  int before = rd->n_unknown;
  rd->q = (sentence){.text = qb, .len = (size_t)(qe - qb)};
  if (read_sentence(r, rd, &rd->q) != 0) return attn_error_set(err, ATTN_E_NOMEM, "out of memory reading the question");
  rd->q_unknown = rd->n_unknown - before;
  return ATTN_OK;
}

/* ---- the trace ---- */

static char *copy_text(const char *s, size_t len) {
  char *c = malloc(len + 1);
  if (!c) return NULL;
  memcpy(c, s, len);
  c[len] = '\0';
  for (size_t i = 0; i < len; i++)
    if (c[i] == '\n' || c[i] == '\r') c[i] = ' ';
  return c;
}

/* The story's words as shown (unknown ones as <unk:word>), each sentence closed by ".";
 * doc_index[k] is the position of source token k in the attentive reader's document
 * (-1 for unknown words). */
static attn_status set_source(const attn_reader *r, const reading *rd, attn_trace *t, int *doc_index) {
  int n = 0, doc = 0;
  for (int i = 0; i < rd->n; i++) n += rd->s[i].n_words + 1;
  char **toks = calloc((size_t)n + 1, sizeof *toks);
  attn_status st = toks ? ATTN_OK : ATTN_E_NOMEM;
  int k = 0;
  for (int i = 0; st == ATTN_OK && i < rd->n; i++) {
    const sentence *s = &rd->s[i];
    for (int j = 0; j <= s->n_words && st == ATTN_OK; j++, k++) {
      const char *w = j < s->n_words ? s->words[j] : ".";
      int known = j == s->n_words || word_id(r, w) > 0;
      size_t size = strlen(w) + 7;
      if (!(toks[k] = malloc(size))) st = ATTN_E_NOMEM;
      else snprintf(toks[k], size, known ? "%s" : "<unk:%s>", w);
      if (doc_index) doc_index[k] = known ? doc++ : -1;
    }
  }
  if (st == ATTN_OK && attn_tokens_set(&t->source, n, (const char *const *)toks, NULL, NULL, NULL) != 0)
    st = ATTN_E_NOMEM;
  for (int i = 0; toks && i < n; i++) free(toks[i]);
  free(toks);
  return st;
}

static attn_status set_sentences(const reading *rd, attn_trace *t) {
  char **lines = calloc((size_t)rd->n, sizeof *lines);
  attn_status st = lines ? ATTN_OK : ATTN_E_NOMEM;
  for (int i = 0; st == ATTN_OK && i < rd->n; i++)
    if (!(lines[i] = copy_text(rd->s[i].text, rd->s[i].len))) st = ATTN_E_NOMEM;
  if (st == ATTN_OK && attn_trace_set_sentences(t, rd->n, (const char *const *)lines) != 0) st = ATTN_E_NOMEM;
  for (int i = 0; lines && i < rd->n; i++) free(lines[i]);
  free(lines);
  return st;
}

/* The answer: the most likely id other than <nil>, its probability over ids 1..V-1, and a
 * note in the text when the question uses words the model does not know. */
static attn_status set_answer(const attn_reader *r, const reading *rd, const float *logits, attn_trace *t) {
  int V = r->vocab_size, best = 1;
  for (int i = 2; i < V; i++)
    if (logits[i] > logits[best]) best = i;
  double sum = 0;
  for (int i = 1; i < V; i++) sum += exp((double)logits[i] - logits[best]);
  float p = (float)(1.0 / sum);
  const char *word = r->vocab[best];
  char text[512];
  if (rd->q.n_ids == 0)
    snprintf(text, sizeof text, "%s (the model cannot answer this: it knows none of the question's words)", word);
  else if (rd->q_unknown > 0)
    snprintf(text, sizeof text, "%s (unreliable: the question uses words the model does not know)", word);
  else
    snprintf(text, sizeof text, "%s", word);
  return attn_tokens_set(&t->output, 1, &word, NULL, &p, text) == 0 ? ATTN_OK : ATTN_E_NOMEM;
}

static int warn_reading(const attn_reader *r, const reading *rd, attn_trace *t) {
  int rc = 0;
  int dropped = rd->total - rd->n;
  if (dropped == 1)
    rc |= attn_trace_warn(t, "the story has %d sentences; the model remembers the last %d, so sentence 1 is left out",
                          rd->total, rd->n);
  else if (dropped > 1)
    rc |= attn_trace_warn(t, "the story has %d sentences; the model remembers the last %d, so sentences 1 to %d are "
                          "left out", rd->total, rd->n, dropped);
  if (rd->n_unknown)
    rc |= attn_trace_warn(t, "%d word%s not in the model's vocabulary, left out: %s%s", rd->n_distinct,
                          rd->n_distinct == 1 ? " is" : "s are", rd->unknown, rd->n_unlisted ? " and more" : "");
  for (int i = 0; i < rd->n; i++)
    if (rd->s[i].cut)
      rc |= attn_trace_warn(t, "sentence %d is longer than the model reads (%d known words): the rest is left out",
                            rd->total - rd->n + i + 1, r->max_words);
  if (rd->q.cut) rc |= attn_trace_warn(t, "the question is longer than the model reads: the rest is left out");
  for (int i = 0; i < rd->n; i++) {
    const char *s = rd->s[i].text;
    for (size_t k = 0; k + 2 < rd->s[i].len; k++)
      if (strchr(".?!", s[k]) && is_space((unsigned char)s[k + 1]) && !is_space((unsigned char)s[k + 2])) {
        rc |= attn_trace_warn(t, "line %d looks like more than one sentence: the model reads each line as one",
                              rd->total - rd->n + i + 1);
        break;
      }
  }
  return rc;
}

/* ---- running the models ---- */

static attn_status run_memn2n(const attn_reader *r, const reading *rd, attn_trace *t, float *logits, attn_error *err) {
  int total = 0, *lens = malloc((size_t)rd->n * sizeof *lens);
  for (int i = 0; i < rd->n; i++) total += rd->s[i].n_ids;
  int32_t *words = malloc(((size_t)total + 1) * sizeof *words);
  float *hops = malloc((size_t)r->hops * rd->n * sizeof *hops);
  attn_status st = lens && words && hops ? ATTN_OK : attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  for (int i = 0, at = 0; st == ATTN_OK && i < rd->n; at += rd->s[i].n_ids, i++) {
    lens[i] = rd->s[i].n_ids;
    memcpy(words + at, rd->s[i].ids, (size_t)lens[i] * sizeof *words);
  }
  if (st == ATTN_OK) st = attn_memn2n_forward(r->memn2n, words, lens, rd->n, rd->q.ids, rd->q.n_ids, logits, hops, err);
  for (int k = 0; st == ATTN_OK && k < r->hops; k++) {
    char name[32];
    snprintf(name, sizeof name, "hop %d", k + 1);
    if (!attn_trace_add_map(t, name, ATTN_MAP_HOP, -1, -1, 1, rd->n, hops + (size_t)k * rd->n))
      st = attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  }
  if (st == ATTN_OK && (set_sentences(rd, t) != ATTN_OK || set_source(r, rd, t, NULL) != ATTN_OK))
    st = attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  free(lens), free(words), free(hops);
  return st;
}

static attn_status run_attentive(const attn_reader *r, const reading *rd, attn_trace *t, float *logits,
                                 attn_error *err) {
  int T = 0, S = 0;
  for (int i = 0; i < rd->n; i++) T += rd->s[i].n_ids + 1, S += rd->s[i].n_words + 1;
  int32_t *doc = malloc((size_t)T * sizeof *doc);
  int *index = malloc((size_t)S * sizeof *index);
  float *attn = malloc((size_t)T * sizeof *attn), *w = calloc((size_t)S, sizeof *w);
  attn_status st = doc && index && attn && w ? ATTN_OK : attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  for (int i = 0, at = 0; st == ATTN_OK && i < rd->n; i++) {
    memcpy(doc + at, rd->s[i].ids, (size_t)rd->s[i].n_ids * sizeof *doc);
    at += rd->s[i].n_ids;
    doc[at++] = r->separator;
  }
  if (st == ATTN_OK) st = attn_attentive_reader_forward(r->attentive, doc, T, rd->q.ids, rd->q.n_ids, logits, attn, err);
  if (st == ATTN_OK && set_source(r, rd, t, index) != ATTN_OK) st = attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  for (int k = 0; st == ATTN_OK && k < S; k++) w[k] = index[k] >= 0 ? attn[index[k]] : 0.0f;
  if (st == ATTN_OK && !attn_trace_add_map(t, "words", ATTN_MAP_HOP, -1, -1, 1, S, w))
    st = attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  free(doc), free(index), free(attn), free(w);
  return st;
}

attn_trace *attn_read(const attn_reader *r, const char *story, const char *question, attn_error *err) {
  if (!r || !story || !question) {
    attn_error_set(err, ATTN_E_ARG, "no reader, story or question given");
    return NULL;
  }
  if (!attn_utf8_valid(story, strlen(story)) || !attn_utf8_valid(question, strlen(question))) {
    attn_error_set(err, ATTN_E_VALUE, "the %s is not valid UTF-8", attn_utf8_valid(story, strlen(story)) ? "question" : "story");
    return NULL;
  }
  reading rd = {0};
  attn_trace *t = attn_trace_new(ATTN_TASK_READ, r->name);
  float *logits = malloc((size_t)r->vocab_size * sizeof *logits);
  attn_status st = t && logits ? read_text(r, story, question, &rd, err) : attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  if (st == ATTN_OK) st = r->arch == ARCH_MEMN2N ? run_memn2n(r, &rd, t, logits, err) : run_attentive(r, &rd, t, logits, err);
  if (st == ATTN_OK && (!(t->question = copy_text(rd.q.text, rd.q.len)) || set_answer(r, &rd, logits, t) != ATTN_OK ||
                        warn_reading(r, &rd, t) != 0))
    st = attn_error_set(err, ATTN_E_NOMEM, "out of memory");
  reading_clear(&rd);
  free(logits);
  if (st != ATTN_OK) {
    attn_trace_free(t);
    return NULL;
  }
  return t;
}
