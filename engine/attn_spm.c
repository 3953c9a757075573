/* SentencePiece .model reader (minimal protobuf), normaliser (precompiled char map in a
 * darts-clone double array) and unigram Viterbi encoder, following sentencepiece 0.1.9x
 * (normalizer.cc, unigram_model.cc EncodeOptimized) so that pieces match exactly. */
#include "attn_spm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attn_util.h"

#define SPACE_SYMBOL "\xe2\x96\x81" /* U+2581 */
#define UNK_PENALTY 10.0f
#define MAX_MODEL_BYTES (64u * 1024u * 1024u)

typedef struct spm_piece {
  char *text;
  int len;
  float score;
  int type;
} spm_piece;

struct attn_spm {
  int n;
  spm_piece *pieces;
  int32_t *table; /* open-addressing hash: piece text -> id, -1 empty */
  uint32_t table_mask;
  int max_piece_len;
  float min_score, max_score;
  int unk_id, bos_id, eos_id, pad_id;
  int model_type;
  /* normaliser */
  int add_dummy_prefix, remove_extra_whitespaces, escape_whitespaces;
  uint32_t *trie;  /* darts-clone units */
  size_t trie_units;
  char *norm_strings;
  size_t norm_len;
};

/* ---- protobuf wire format ---- */

typedef struct pb {
  const uint8_t *p, *end;
} pb;

static int pb_varint(pb *r, uint64_t *out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (r->p >= r->end) return -1;
    uint8_t b = *r->p++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *out = v;
      return 0;
    }
  }
  return -1;
}

/* Reads one field: its number, wire type, and value (varint / fixed) or sub-slice. */
typedef struct pb_field {
  uint32_t number;
  int wire;
  uint64_t value;
  pb sub;
} pb_field;

static int pb_next(pb *r, pb_field *f) {
  uint64_t key;
  if (pb_varint(r, &key) != 0) return -1;
  f->number = (uint32_t)(key >> 3);
  f->wire = (int)(key & 7);
  switch (f->wire) {
  case 0: return pb_varint(r, &f->value);
  case 1:
  case 5: {
    size_t n = f->wire == 1 ? 8 : 4;
    if ((size_t)(r->end - r->p) < n) return -1;
    f->value = 0;
    for (size_t i = 0; i < n; i++) f->value |= (uint64_t)r->p[i] << (8 * i);
    r->p += n;
    return 0;
  }
  case 2: {
    uint64_t len;
    if (pb_varint(r, &len) != 0 || len > (uint64_t)(r->end - r->p)) return -1;
    f->sub.p = r->p;
    f->sub.end = r->p + len;
    r->p += len;
    return 0;
  }
  default: return -1;
  }
}

static float pb_float(uint64_t bits) {
  uint32_t u = (uint32_t)bits;
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

static int parse_piece(pb r, spm_piece *out) {
  pb_field f;
  out->type = ATTN_SPM_NORMAL;
  while (r.p < r.end) {
    if (pb_next(&r, &f) != 0) return -1;
    if (f.number == 1 && f.wire == 2) {
      size_t n = (size_t)(f.sub.end - f.sub.p);
      /* a NUL inside would cut the piece short wherever it is used as a C string */
      if (n == 0 || n > 1024 || out->text || !attn_utf8_valid((const char *)f.sub.p, n) || memchr(f.sub.p, 0, n))
        return -1;
      out->text = malloc(n + 1);
      if (!out->text) return -1;
      memcpy(out->text, f.sub.p, n);
      out->text[n] = '\0';
      out->len = (int)n;
    } else if (f.number == 2 && f.wire == 5) {
      out->score = pb_float(f.value);
    } else if (f.number == 3 && f.wire == 0) {
      out->type = (int)f.value;
    }
  }
  return out->text && isfinite(out->score) && out->type >= 1 && out->type <= 6 ? 0 : -1;
}

static int parse_trainer(attn_spm *s, pb r) {
  pb_field f;
  while (r.p < r.end) {
    if (pb_next(&r, &f) != 0) return -1;
    if (f.wire != 0) continue;
    int v = (int)(int32_t)f.value;
    switch (f.number) {
    case 3: s->model_type = v; break;
    case 40: s->unk_id = v; break;
    case 41: s->bos_id = v; break;
    case 42: s->eos_id = v; break;
    case 43: s->pad_id = v; break;
    default: break;
    }
  }
  return 0;
}

/* Precompiled char map blob: u32 trie size, the darts-clone units, then NUL-terminated
 * replacement strings addressed by the trie's values. A field given twice is replaced, as
 * protobuf says (the last one wins), so the earlier one is freed first. */
static int parse_charsmap(attn_spm *s, pb blob) {
  size_t n = (size_t)(blob.end - blob.p);
  free(s->trie);
  free(s->norm_strings);
  s->trie = NULL, s->norm_strings = NULL, s->trie_units = 0, s->norm_len = 0;
  if (n == 0) return 0;
  if (n < 4) return -1;
  uint32_t trie_bytes = (uint32_t)blob.p[0] | (uint32_t)blob.p[1] << 8 | (uint32_t)blob.p[2] << 16 |
                        (uint32_t)blob.p[3] << 24;
  if (trie_bytes % 4 != 0 || trie_bytes > n - 4 || trie_bytes == 0) return -1;
  s->trie_units = trie_bytes / 4;
  s->trie = malloc(trie_bytes);
  s->norm_len = n - 4 - trie_bytes;
  s->norm_strings = malloc(s->norm_len + 1);
  if (!s->trie || !s->norm_strings) return -1;
  for (size_t i = 0; i < s->trie_units; i++) {
    const uint8_t *q = blob.p + 4 + 4 * i;
    s->trie[i] = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
  }
  memcpy(s->norm_strings, blob.p + 4 + trie_bytes, s->norm_len);
  s->norm_strings[s->norm_len] = '\0';
  return 0;
}

static int parse_normalizer(attn_spm *s, pb r) {
  pb_field f;
  while (r.p < r.end) {
    if (pb_next(&r, &f) != 0) return -1;
    if (f.number == 2 && f.wire == 2 && parse_charsmap(s, f.sub) != 0) return -1;
    if (f.wire != 0) continue;
    if (f.number == 3) s->add_dummy_prefix = f.value != 0;
    if (f.number == 4) s->remove_extra_whitespaces = f.value != 0;
    if (f.number == 5) s->escape_whitespaces = f.value != 0;
  }
  return 0;
}

static int add_piece(attn_spm *s, pb sub) {
  if (s->n >= 1000000) return -1;
  spm_piece *grown = realloc(s->pieces, (size_t)(s->n + 1) * sizeof *grown);
  if (!grown) return -1;
  s->pieces = grown;
  memset(&grown[s->n], 0, sizeof *grown);
  int rc = parse_piece(sub, &grown[s->n]);
  s->n++; /* counted even on failure so attn_spm_free releases its text */
  return rc;
}

static int parse_model(attn_spm *s, pb r) {
  pb_field f;
  while (r.p < r.end) {
    if (pb_next(&r, &f) != 0) return -1;
    if (f.wire != 2) continue;
    int rc = 0;
    if (f.number == 1) rc = add_piece(s, f.sub);
    else if (f.number == 2) rc = parse_trainer(s, f.sub);
    else if (f.number == 3) rc = parse_normalizer(s, f.sub);
    if (rc != 0) return -1;
  }
  return 0;
}

/* ---- piece lookup ---- */

static uint32_t hash_bytes(const char *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)p[i]) * 16777619u;
  return h;
}

static int lookup(const attn_spm *s, const char *p, size_t n) {
  for (uint32_t i = hash_bytes(p, n) & s->table_mask;; i = (i + 1) & s->table_mask) {
    int32_t id = s->table[i];
    if (id < 0) return -1;
    if ((size_t)s->pieces[id].len == n && memcmp(s->pieces[id].text, p, n) == 0) return id;
  }
}

static int build_table(attn_spm *s) {
  uint32_t size = 16;
  while (size < (uint32_t)s->n * 2) size <<= 1;
  s->table = malloc(size * sizeof *s->table);
  if (!s->table) return -1;
  memset(s->table, 0xff, size * sizeof *s->table);
  s->table_mask = size - 1;
  s->min_score = INFINITY;
  s->max_score = -INFINITY;
  for (int id = 0; id < s->n; id++) {
    spm_piece *pc = &s->pieces[id];
    if (lookup(s, pc->text, (size_t)pc->len) >= 0) return -2; /* duplicate piece */
    uint32_t i = hash_bytes(pc->text, (size_t)pc->len) & s->table_mask;
    while (s->table[i] >= 0) i = (i + 1) & s->table_mask;
    s->table[i] = id;
    if (pc->len > s->max_piece_len) s->max_piece_len = pc->len;
    if (pc->type == ATTN_SPM_NORMAL) {
      s->min_score = fminf(s->min_score, pc->score);
      s->max_score = fmaxf(s->max_score, pc->score);
    }
  }
  return 0;
}

/* ---- loading ---- */

void attn_spm_free(attn_spm *s) {
  if (!s) return;
  for (int i = 0; i < s->n; i++) free(s->pieces[i].text);
  free(s->pieces);
  free(s->table);
  free(s->trie);
  free(s->norm_strings);
  free(s);
}

static attn_status check_ids(const attn_spm *s, const char *name, attn_error *err) {
  if (s->model_type != 1)
    return attn_error_set(err, ATTN_E_FORMAT, "%s: model type %d is not unigram (only unigram is supported)",
                          name, s->model_type);
  if (s->n == 0) return attn_error_set(err, ATTN_E_FORMAT, "%s: no pieces", name);
  if (s->unk_id < 0 || s->unk_id >= s->n || s->pieces[s->unk_id].type != ATTN_SPM_UNKNOWN)
    return attn_error_set(err, ATTN_E_FORMAT, "%s: unknown-piece id %d is invalid", name, s->unk_id);
  int ids[3] = {s->bos_id, s->eos_id, s->pad_id};
  for (int i = 0; i < 3; i++)
    if (ids[i] >= s->n) return attn_error_set(err, ATTN_E_FORMAT, "%s: special id %d out of range", name, ids[i]);
  return ATTN_OK;
}

attn_spm *attn_spm_from_memory(const void *data, size_t size, const char *name, attn_error *err) {
  attn_spm *s = calloc(1, sizeof *s);
  if (!s) {
    attn_error_set(err, ATTN_E_NOMEM, "%s: out of memory", name);
    return NULL;
  }
  s->model_type = 1; /* protobuf defaults */
  s->unk_id = 0, s->bos_id = 1, s->eos_id = 2, s->pad_id = -1;
  s->add_dummy_prefix = s->remove_extra_whitespaces = s->escape_whitespaces = 1;
  pb r = {data, (const uint8_t *)data + size};
  int rc = parse_model(s, r);
  if (rc == 0) rc = build_table(s);
  attn_status st = rc == 0 ? check_ids(s, name, err) : ATTN_E_FORMAT;
  if (rc == -2) attn_error_set(err, st, "%s: duplicate piece in the vocabulary", name);
  else if (rc != 0) attn_error_set(err, st, "%s: not a valid SentencePiece model (malformed protobuf)", name);
  if (st != ATTN_OK) {
    attn_spm_free(s);
    return NULL;
  }
  return s;
}

attn_spm *attn_spm_load(const char *path, attn_error *err) {
  size_t len = 0;
  char *data = attn_read_file(path, MAX_MODEL_BYTES, &len, err);
  if (!data) return NULL;
  attn_spm *s = attn_spm_from_memory(data, len, path, err);
  free(data);
  return s;
}

/* ---- accessors ---- */

int attn_spm_vocab_size(const attn_spm *s) { return s->n; }
const char *attn_spm_piece(const attn_spm *s, int id) { return id >= 0 && id < s->n ? s->pieces[id].text : NULL; }
attn_spm_piece_type attn_spm_type(const attn_spm *s, int id) {
  return id >= 0 && id < s->n ? (attn_spm_piece_type)s->pieces[id].type : ATTN_SPM_UNUSED;
}
int attn_spm_unk_id(const attn_spm *s) { return s->unk_id; }
int attn_spm_bos_id(const attn_spm *s) { return s->bos_id; }
int attn_spm_eos_id(const attn_spm *s) { return s->eos_id; }
int attn_spm_pad_id(const attn_spm *s) { return s->pad_id; }

int attn_spm_piece_to_id(const attn_spm *s, const char *piece) {
  int id = lookup(s, piece, strlen(piece));
  return id >= 0 ? id : s->unk_id;
}

int attn_spm_is_word_start(const attn_spm *s, int id) {
  const char *p = attn_spm_piece(s, id);
  return p && strncmp(p, SPACE_SYMBOL, 3) == 0;
}

/* ---- normaliser ---- */

/* Longest match of the char map at text[0..len): returns its length (0 if none) and
 * sets *value to the replacement's offset. darts-clone commonPrefixSearch, bounds-checked. */
static size_t charsmap_match(const attn_spm *s, const uint8_t *text, size_t len, uint32_t *value) {
  if (!s->trie) return 0;
  size_t best = 0, pos = 0;
  uint32_t unit = s->trie[0];
  pos ^= (unit >> 10) << ((unit & (1u << 9)) >> 6);
  for (size_t i = 0; i < len; i++) {
    pos ^= text[i];
    if (pos >= s->trie_units) break;
    unit = s->trie[pos];
    if ((unit & ((1u << 31) | 0xFF)) != text[i]) break;
    pos ^= (unit >> 10) << ((unit & (1u << 9)) >> 6);
    if (pos >= s->trie_units) break;
    if ((unit >> 8) & 1) {
      uint32_t v = s->trie[pos] & ((1u << 31) - 1);
      if (v < s->norm_len) {
        best = i + 1;
        *value = v;
      }
    }
  }
  return best;
}

static size_t utf8_char_len(const uint8_t *p, size_t left) {
  size_t n = *p < 0x80 ? 1 : *p < 0xE0 ? 2 : *p < 0xF0 ? 3 : 4;
  return n <= left ? n : left;
}

/* One normalisation step: the replacement for the longest prefix of text, and how many
 * input bytes it consumes. */
static const char *normalize_prefix(const attn_spm *s, const char *text, size_t len, size_t *out_len,
                                    size_t *consumed) {
  uint32_t value = 0;
  size_t m = charsmap_match(s, (const uint8_t *)text, len, &value);
  if (m > 0) {
    *consumed = m;
    *out_len = strlen(s->norm_strings + value);
    return s->norm_strings + value;
  }
  *consumed = utf8_char_len((const uint8_t *)text, len);
  *out_len = *consumed;
  return text;
}

typedef struct strbuf {
  char *data;
  int32_t *orig;
  size_t len, cap;
  int failed;
} strbuf;

static void sb_append(strbuf *b, const char *p, size_t n, int32_t orig) {
  if (b->failed) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = (b->len + n + 1) * 2;
    char *d = realloc(b->data, cap);
    int32_t *o = d ? realloc(b->orig, cap * sizeof *o) : NULL;
    if (d) b->data = d;
    if (!d || !o) {
      b->failed = 1;
      return;
    }
    b->orig = o;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  for (size_t i = 0; i < n; i++) b->orig[b->len + i] = orig;
  b->len += n;
  b->data[b->len] = '\0';
}

static void sb_append_piece(const attn_spm *s, strbuf *b, const char *p, size_t n, int32_t orig) {
  for (size_t i = 0; i < n; i++) {
    if (s->escape_whitespaces && p[i] == ' ') sb_append(b, SPACE_SYMBOL, 3, orig);
    else sb_append(b, p + i, 1, orig);
  }
}

char *attn_spm_normalize(const attn_spm *s, const char *text, size_t len, int32_t **orig_offsets) {
  strbuf b = {0};
  sb_append(&b, "", 0, 0);
  size_t at = 0, n, consumed;
  while (s->remove_extra_whitespaces && at < len) { /* leading white space */
    const char *r = normalize_prefix(s, text + at, len - at, &n, &consumed);
    if (!(n == 1 && r[0] == ' ')) break;
    at += consumed;
  }
  if (at < len && s->add_dummy_prefix)
    sb_append_piece(s, &b, " ", 1, (int32_t)at);
  int prev_space = s->remove_extra_whitespaces;
  while (at < len) {
    const char *r = normalize_prefix(s, text + at, len - at, &n, &consumed);
    while (prev_space && n > 0 && r[0] == ' ') r++, n--;
    if (n > 0) {
      sb_append_piece(s, &b, r, n, (int32_t)at);
      prev_space = r[n - 1] == ' ';
    }
    at += consumed;
    prev_space = prev_space && s->remove_extra_whitespaces;
  }
  const char *sp = s->escape_whitespaces ? SPACE_SYMBOL : " ";
  size_t spn = strlen(sp);
  while (s->remove_extra_whitespaces && b.len >= spn && memcmp(b.data + b.len - spn, sp, spn) == 0)
    b.data[b.len -= spn] = '\0';
  if (b.failed) {
    free(b.data);
    free(b.orig);
    return NULL;
  }
  if (orig_offsets) *orig_offsets = b.orig;
  else free(b.orig);
  return b.data;
}

/* ---- unigram Viterbi ---- */

typedef struct best_node {
  int id;
  int starts_at;
  float score;
} best_node;

/* Relaxes every piece starting at `start` (shortest first, strict improvement, as
 * sentencepiece's EncodeOptimized); falls back to one unknown character. */
static void relax_from(const attn_spm *s, const char *norm, int size, int start, best_node *best) {
  float here = best[start].score;
  int mblen = (int)utf8_char_len((const uint8_t *)norm + start, (size_t)(size - start));
  int has_single = 0;
  for (int len = 1; len <= s->max_piece_len && start + len <= size; len++) {
    int id = lookup(s, norm + start, (size_t)len);
    if (id < 0) continue;
    int type = s->pieces[id].type;
    if (type != ATTN_SPM_NORMAL && type != ATTN_SPM_USER_DEFINED) continue;
    /* sentencepiece's ternary has type double, so the sum and the comparison are in
     * double while the stored path score is float: near ties depend on it. */
    double score = type == ATTN_SPM_USER_DEFINED ? len * s->max_score - 0.1 : s->pieces[id].score;
    best_node *t = &best[start + len];
    double cand = score + here;
    if (t->starts_at == -1 || cand > t->score) *t = (best_node){id, start, (float)cand};
    if (len == mblen) has_single = 1;
  }
  if (!has_single) {
    best_node *t = &best[start + mblen];
    float cand = s->min_score - UNK_PENALTY + here;
    if (t->starts_at == -1 || cand > t->score) *t = (best_node){s->unk_id, start, cand};
  }
}

void attn_spm_encoding_clear(attn_spm_encoding *enc) {
  free(enc->ids);
  free(enc->src_begin);
  free(enc->src_end);
  memset(enc, 0, sizeof *enc);
}

/* Walks the best path back from the end and stores it front to back. */
static int backtrack(const attn_spm *s, const best_node *best, int size, const int32_t *orig,
                     size_t text_len, attn_spm_encoding *enc) {
  int n = 0;
  for (int at = size; at > 0; at = best[at].starts_at) n++;
  enc->ids = malloc((size_t)(n ? n : 1) * sizeof(int32_t));
  enc->src_begin = malloc((size_t)(n ? n : 1) * sizeof(int32_t));
  enc->src_end = malloc((size_t)(n ? n : 1) * sizeof(int32_t));
  if (!enc->ids || !enc->src_begin || !enc->src_end) return -1;
  enc->n = n;
  for (int at = size, k = n - 1; at > 0; at = best[at].starts_at, k--) {
    enc->ids[k] = best[at].id;
    enc->src_begin[k] = orig[best[at].starts_at];
    enc->src_end[k] = at < size ? orig[at] : (int32_t)text_len;
  }
  (void)s;
  return 0;
}

/* sentencepiece merges a run of unknown pieces into one unknown piece. */
static void merge_unknowns(const attn_spm *s, attn_spm_encoding *enc) {
  int w = 0;
  for (int r = 0; r < enc->n; r++) {
    if (w > 0 && enc->ids[r] == s->unk_id && enc->ids[w - 1] == s->unk_id) {
      enc->src_end[w - 1] = enc->src_end[r];
      continue;
    }
    enc->ids[w] = enc->ids[r];
    enc->src_begin[w] = enc->src_begin[r];
    enc->src_end[w] = enc->src_end[r];
    w++;
  }
  enc->n = w;
}

attn_status attn_spm_encode(const attn_spm *s, const char *text, size_t len, attn_spm_encoding *enc,
                            attn_error *err) {
  memset(enc, 0, sizeof *enc);
  if (!attn_utf8_valid(text, len)) return attn_error_set(err, ATTN_E_VALUE, "the text is not valid UTF-8");
  if (len > 1u << 24) return attn_error_set(err, ATTN_E_VALUE, "the text is too long (%zu bytes)", len);
  int32_t *orig = NULL;
  char *norm = attn_spm_normalize(s, text, len, &orig);
  int size = norm ? (int)strlen(norm) : 0;
  best_node *best = norm ? malloc((size_t)(size + 1) * sizeof *best) : NULL;
  int rc = best ? 0 : -1;
  for (int i = 0; best && i <= size; i++) best[i] = (best_node){-1, -1, 0.0f};
  for (int at = 0; best && at < size; at += (int)utf8_char_len((const uint8_t *)norm + at, (size_t)(size - at)))
    relax_from(s, norm, size, at, best);
  if (rc == 0) rc = backtrack(s, best, size, orig, len, enc);
  if (rc == 0) merge_unknowns(s, enc);
  free(norm);
  free(orig);
  free(best);
  if (rc != 0) {
    attn_spm_encoding_clear(enc);
    return attn_error_set(err, ATTN_E_NOMEM, "out of memory while tokenising");
  }
  return ATTN_OK;
}

/* ---- decoding ---- */

char *attn_spm_decode(const attn_spm *s, const int32_t *ids, int n) {
  strbuf b = {0};
  sb_append(&b, "", 0, 0);
  for (int i = 0; i < n; i++) {
    int type = attn_spm_type(s, ids[i]);
    if (type == ATTN_SPM_CONTROL || ids[i] < 0 || ids[i] >= s->n) continue;
    const char *p = type == ATTN_SPM_UNKNOWN ? " \xe2\x81\x87 " : s->pieces[ids[i]].text;
    for (size_t k = 0; p[k];) {
      if (strncmp(p + k, SPACE_SYMBOL, 3) == 0) {
        if (b.len > 0 || !s->add_dummy_prefix) sb_append(&b, " ", 1, 0);
        k += 3;
      } else {
        sb_append(&b, p + k, 1, 0);
        k++;
      }
    }
  }
  free(b.orig);
  if (b.failed) {
    free(b.data);
    return NULL;
  }
  return b.data;
}
