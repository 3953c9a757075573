/* safetensors reader: every length, offset and shape is checked (overflow-safe) against
 * the file before a tensor is exposed; float tensors convert to float32 on load. */
#include "attn_safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attn_util.h"

/* JSON numbers are doubles: integers above 2^53 cannot be told apart, so offsets beyond
 * that are rejected (no real file comes near it). */
#define MAX_JSON_INT ((uint64_t)1 << 53)
/* Longest tensor name quoted in a message, so the problem itself is never cut off. */
#define CLIP_LEN 96

typedef struct dtype_desc {
  const char *name;
  size_t size;
} dtype_desc;

static const dtype_desc dtypes[] = {
    [ATTN_DTYPE_F32] = {"F32", 4},        [ATTN_DTYPE_F16] = {"F16", 2},
    [ATTN_DTYPE_BF16] = {"BF16", 2},      [ATTN_DTYPE_F64] = {"F64", 8},
    [ATTN_DTYPE_F8_E4M3] = {"F8_E4M3", 1}, [ATTN_DTYPE_F8_E5M2] = {"F8_E5M2", 1},
    [ATTN_DTYPE_I64] = {"I64", 8},        [ATTN_DTYPE_I32] = {"I32", 4},
    [ATTN_DTYPE_I16] = {"I16", 2},        [ATTN_DTYPE_I8] = {"I8", 1},
    [ATTN_DTYPE_U64] = {"U64", 8},        [ATTN_DTYPE_U32] = {"U32", 4},
    [ATTN_DTYPE_U16] = {"U16", 2},        [ATTN_DTYPE_U8] = {"U8", 1},
    [ATTN_DTYPE_BOOL] = {"BOOL", 1},
};
#define N_DTYPES ((int)(sizeof dtypes / sizeof dtypes[0]))

typedef struct meta_entry {
  char *key;
  char *value;
} meta_entry;

struct attn_safetensors {
  char *name;
  void *owned; /* the file's bytes read into memory, or NULL when reading caller memory */
  const unsigned char *bytes; /* the whole file */
  size_t size;
  const unsigned char *data; /* the data buffer after the header */
  uint64_t data_size;
  int n_tensors;
  attn_tensor_info *tensors; /* sorted by name; names owned */
  int n_meta;
  meta_entry *meta;
  uint64_t unused;
};

/* ---- dtypes and conversions ---- */

const char *attn_dtype_name(attn_dtype dtype) {
  return (int)dtype >= 0 && (int)dtype < N_DTYPES ? dtypes[dtype].name : "?";
}

size_t attn_dtype_size(attn_dtype dtype) {
  return (int)dtype >= 0 && (int)dtype < N_DTYPES ? dtypes[dtype].size : 0;
}

int attn_dtype_loadable(attn_dtype dtype) {
  return dtype == ATTN_DTYPE_F32 || dtype == ATTN_DTYPE_F16 || dtype == ATTN_DTYPE_BF16;
}

static float f32_from_bits(uint32_t bits) {
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

float attn_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  if (exp == 0x1f) return f32_from_bits(sign | 0x7f800000u | (mant << 13));
  if (exp != 0) return f32_from_bits(sign | ((exp + 112u) << 23) | (mant << 13));
  if (mant == 0) return f32_from_bits(sign);
  /* A subnormal half is a normal float: shift until the leading 1 is the implicit bit. */
  exp = 113;
  while (!(mant & 0x400u)) {
    mant <<= 1;
    exp--;
  }
  return f32_from_bits(sign | (exp << 23) | ((mant & 0x3ffu) << 13));
}

float attn_bf16_to_f32(uint16_t b) { return f32_from_bits((uint32_t)b << 16); }

/* Files are little-endian and tensor data need not be aligned: assemble bytes. */
static uint16_t rd16(const unsigned char *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

static uint32_t rd32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const unsigned char *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* ---- messages ---- */

typedef struct clipped {
  char s[CLIP_LEN + 4];
} clipped;

/* Names come from the file and may be huge; clip at a UTF-8 boundary. */
static clipped clip(const char *s) {
  clipped c;
  size_t n = strlen(s);
  if (n <= CLIP_LEN) {
    memcpy(c.s, s, n + 1);
    return c;
  }
  n = CLIP_LEN;
  while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
  memcpy(c.s, s, n);
  memcpy(c.s + n, "...", 4);
  return c;
}

static attn_status tensor_error(const attn_safetensors *st, attn_error *err, attn_status code,
                                const char *tensor, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static attn_status tensor_error(const attn_safetensors *st, attn_error *err, attn_status code,
                                const char *tensor, const char *fmt, ...) {
  char what[320];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return attn_error_set(err, code, "tensor '%s' in %s: %s", clip(tensor).s, st->name, what);
}

void attn_shape_format(char *buf, size_t size, int ndim, const int64_t *shape) {
  size_t used = (size_t)snprintf(buf, size, "[");
  for (int i = 0; i < ndim && used < size; i++) {
    const char *sep = i ? ", " : "";
    if (shape[i] < 0) used += (size_t)snprintf(buf + used, size - used, "%s*", sep);
    else used += (size_t)snprintf(buf + used, size - used, "%s%" PRId64, sep, shape[i]);
  }
  if (used < size) snprintf(buf + used, size - used, "]");
}

/* Describes a JSON value that should have been an integer, for messages. */
static void describe_number(const cJSON *v, char *buf, size_t size) {
  if (cJSON_IsNumber(v)) snprintf(buf, size, "%.17g", v->valuedouble);
  else snprintf(buf, size, "not a number");
}

/* ---- header validation ---- */

/* An exact integer in [0, max]; JSON has only doubles, so 2.5 and -1 fail here. */
static int json_uint(const cJSON *v, uint64_t max, uint64_t *out) {
  if (!cJSON_IsNumber(v)) return 0;
  double d = v->valuedouble;
  if (!(d >= 0.0 && d <= (double)max)) return 0;
  if ((double)(uint64_t)d != d) return 0;
  *out = (uint64_t)d;
  return 1;
}

static int cmp_strp(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* cJSON keeps repeated keys; a repeated key would let two readers see different files.
 * Returns -1 when out of memory, 1 with *dup set when a key repeats, else 0. */
static int find_duplicate_key(const cJSON *obj, const char **dup) {
  size_t n = 0, k = 0;
  for (const cJSON *c = obj->child; c; c = c->next) n++;
  if (n < 2) return 0;
  const char **keys = malloc(n * sizeof *keys);
  if (!keys) return -1;
  for (const cJSON *c = obj->child; c; c = c->next) keys[k++] = c->string ? c->string : "";
  qsort(keys, n, sizeof *keys, cmp_strp);
  *dup = NULL;
  for (size_t i = 1; i < n && !*dup; i++)
    if (strcmp(keys[i - 1], keys[i]) == 0) *dup = keys[i];
  free(keys);
  return *dup ? 1 : 0;
}

static attn_status check_sizes(attn_safetensors *st, attn_error *err) {
  const char *f = st->name;
  if (st->size == 0)
    return attn_error_set(err, ATTN_E_FORMAT, "%s: file is empty (0 bytes)", f);
  if (st->size < 8)
    return attn_error_set(err, ATTN_E_FORMAT,
                          "%s: file is %zu bytes, too short for the 8-byte header length", f,
                          st->size);
  uint64_t n = rd64(st->bytes), room = (uint64_t)st->size - 8;
  if (n > room)
    return attn_error_set(err, ATTN_E_FORMAT,
                          "%s: header length %" PRIu64 " runs past the end of the file (%zu "
                          "bytes); the file may be truncated", f, n, st->size);
  if (n > ATTN_SAFETENSORS_MAX_HEADER)
    return attn_error_set(err, ATTN_E_FORMAT,
                          "%s: header length %" PRIu64 " exceeds the limit of %u bytes", f, n,
                          ATTN_SAFETENSORS_MAX_HEADER);
  st->data = st->bytes + 8 + n;
  st->data_size = room - n;
  return ATTN_OK;
}

/* Parses a NUL-terminated copy so cJSON can never read past the header. */
static attn_status parse_header_json(const attn_safetensors *st, cJSON **out, attn_error *err) {
  size_t n = (size_t)(st->data - st->bytes) - 8;
  const char *text = (const char *)st->bytes + 8;
  if (!attn_utf8_valid(text, n))
    return attn_error_set(err, ATTN_E_FORMAT, "%s: header is not valid UTF-8", st->name);
  char *copy = malloc(n + 1);
  if (!copy) return attn_error_set(err, ATTN_E_NOMEM, "%s: cannot copy the header", st->name);
  memcpy(copy, text, n);
  copy[n] = '\0';
  const char *end = NULL;
  /* Requiring the terminator makes cJSON reject anything but padding after the object;
   * a NUL inside the header stops it early, so the end must also be the header's end. */
  cJSON *root = cJSON_ParseWithLengthOpts(copy, n + 1, &end, 1);
  size_t at = end ? (size_t)(end - copy) : 0;
  free(copy);
  if (!root || at != n) {
    cJSON_Delete(root);
    return attn_error_set(err, ATTN_E_FORMAT, "%s: header is not valid JSON (at byte %zu of %zu)",
                          st->name, at, n);
  }
  *out = root;
  if (cJSON_IsObject(root)) return ATTN_OK;
  return attn_error_set(err, ATTN_E_FORMAT, "%s: header is not a JSON object", st->name);
}

static attn_status parse_dtype(const attn_safetensors *st, const cJSON *item,
                               attn_tensor_info *t, attn_error *err) {
  const cJSON *d = cJSON_GetObjectItemCaseSensitive(item, "dtype");
  if (!cJSON_IsString(d))
    return tensor_error(st, err, ATTN_E_FORMAT, t->name, "'dtype' is missing or not a string");
  for (int i = 0; i < N_DTYPES; i++) {
    if (strcmp(d->valuestring, dtypes[i].name) == 0) {
      t->dtype = (attn_dtype)i;
      return ATTN_OK;
    }
  }
  return tensor_error(st, err, ATTN_E_FORMAT, t->name, "unknown dtype '%s'",
                      clip(d->valuestring).s);
}

/* Element count and byte size, failing on overflow rather than wrapping. */
static attn_status shape_size(const attn_safetensors *st, attn_tensor_info *t, attn_error *err) {
  uint64_t numel = 1, nbytes = 0;
  int ok = 1; /* sticky: a later zero dimension must not hide an earlier overflow */
  for (int i = 0; i < t->ndim && ok; i++)
    ok = attn_mul_overflow_u64(numel, (uint64_t)t->shape[i], &numel);
  ok = ok && numel <= INT64_MAX &&
       attn_mul_overflow_u64(numel, attn_dtype_size(t->dtype), &nbytes);
  if (!ok || nbytes > INT64_MAX) {
    char shape[200];
    attn_shape_format(shape, sizeof shape, t->ndim, t->shape);
    return tensor_error(st, err, ATTN_E_FORMAT, t->name,
                        "shape %s holds too many elements (its size overflows)", shape);
  }
  t->numel = (int64_t)numel;
  t->nbytes = (size_t)nbytes;
  return ATTN_OK;
}

static attn_status parse_shape(const attn_safetensors *st, const cJSON *item, attn_tensor_info *t,
                               attn_error *err) {
  const cJSON *sh = cJSON_GetObjectItemCaseSensitive(item, "shape");
  if (!cJSON_IsArray(sh))
    return tensor_error(st, err, ATTN_E_FORMAT, t->name, "'shape' is missing or not an array");
  for (const cJSON *d = sh->child; d; d = d->next) {
    uint64_t v;
    char got[64];
    if (t->ndim == ATTN_SAFETENSORS_MAX_DIMS)
      return tensor_error(st, err, ATTN_E_FORMAT, t->name, "shape has more than %d dimensions",
                          ATTN_SAFETENSORS_MAX_DIMS);
    if (!json_uint(d, (uint64_t)ATTN_SAFETENSORS_MAX_DIM, &v)) {
      describe_number(d, got, sizeof got);
      return tensor_error(st, err, ATTN_E_FORMAT, t->name,
                          "dimension %d of the shape is %s, expected an integer in [0, 2^40]",
                          t->ndim, got);
    }
    t->shape[t->ndim++] = (int64_t)v;
  }
  return shape_size(st, t, err);
}

static attn_status parse_offsets(const attn_safetensors *st, const cJSON *item,
                                 attn_tensor_info *t, attn_error *err) {
  const cJSON *o = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
  uint64_t b, e;
  if (!cJSON_IsArray(o) || !o->child || !o->child->next || o->child->next->next ||
      !json_uint(o->child, MAX_JSON_INT, &b) || !json_uint(o->child->next, MAX_JSON_INT, &e))
    return tensor_error(st, err, ATTN_E_FORMAT, t->name,
                        "'data_offsets' must be an array of 2 non-negative integers");
  if (b > e)
    return tensor_error(st, err, ATTN_E_FORMAT, t->name,
                        "data_offsets [%" PRIu64 ", %" PRIu64 "] are reversed", b, e);
  if (e > st->data_size)
    return tensor_error(st, err, ATTN_E_FORMAT, t->name,
                        "data_offsets [%" PRIu64 ", %" PRIu64 "] run past the end of the data "
                        "(%" PRIu64 " bytes); the file may be truncated", b, e, st->data_size);
  if (e - b != t->nbytes) {
    char shape[200];
    attn_shape_format(shape, sizeof shape, t->ndim, t->shape);
    return tensor_error(st, err, ATTN_E_FORMAT, t->name,
                        "shape %s of %s needs %zu bytes but data_offsets [%" PRIu64 ", %" PRIu64
                        "] hold %" PRIu64, shape, attn_dtype_name(t->dtype), t->nbytes, b, e,
                        e - b);
  }
  t->data = st->data + b;
  return ATTN_OK;
}

static attn_status parse_entry(const attn_safetensors *st, const cJSON *item,
                               attn_tensor_info *t, attn_error *err) {
  const char *dup = NULL;
  t->name = attn_strdup(item->string);
  if (!t->name) return attn_error_set(err, ATTN_E_NOMEM, "%s: out of memory", st->name);
  if (!cJSON_IsObject(item))
    return tensor_error(st, err, ATTN_E_FORMAT, t->name, "entry is not a JSON object");
  int d = find_duplicate_key(item, &dup);
  if (d < 0) return attn_error_set(err, ATTN_E_NOMEM, "%s: out of memory", st->name);
  if (d > 0)
    return tensor_error(st, err, ATTN_E_FORMAT, t->name, "key '%s' appears more than once",
                        clip(dup).s);
  attn_status s = parse_dtype(st, item, t, err);
  if (!s) s = parse_shape(st, item, t, err);
  if (!s) s = parse_offsets(st, item, t, err);
  return s;
}

static attn_status parse_metadata(attn_safetensors *st, const cJSON *m, attn_error *err) {
  const char *dup = NULL;
  if (!cJSON_IsObject(m))
    return attn_error_set(err, ATTN_E_FORMAT, "%s: '__metadata__' is not a JSON object",
                          st->name);
  int d = find_duplicate_key(m, &dup);
  if (d > 0)
    return attn_error_set(err, ATTN_E_FORMAT, "%s: metadata key '%s' appears more than once",
                          st->name, clip(dup).s);
  int n = cJSON_GetArraySize(m);
  st->meta = calloc((size_t)n + 1, sizeof *st->meta);
  if (d < 0 || !st->meta) return attn_error_set(err, ATTN_E_NOMEM, "%s: out of memory", st->name);
  for (const cJSON *c = m->child; c; c = c->next) {
    if (!cJSON_IsString(c))
      return attn_error_set(err, ATTN_E_FORMAT, "%s: metadata '%s' is not a string", st->name,
                            clip(c->string).s);
    meta_entry *e = &st->meta[st->n_meta++];
    e->key = attn_strdup(c->string);
    e->value = attn_strdup(c->valuestring);
    if (!e->key || !e->value)
      return attn_error_set(err, ATTN_E_NOMEM, "%s: out of memory", st->name);
  }
  return ATTN_OK;
}

static int cmp_tensor_name(const void *a, const void *b) {
  return strcmp(((const attn_tensor_info *)a)->name, ((const attn_tensor_info *)b)->name);
}

static attn_status build_index(attn_safetensors *st, const cJSON *root, attn_error *err) {
  const char *dup = NULL;
  int d = find_duplicate_key(root, &dup);
  if (d > 0)
    return attn_error_set(err, ATTN_E_FORMAT, "tensor '%s' appears more than once in the header "
                          "of %s", clip(dup).s, st->name);
  st->tensors = calloc((size_t)cJSON_GetArraySize(root) + 1, sizeof *st->tensors);
  if (d < 0 || !st->tensors)
    return attn_error_set(err, ATTN_E_NOMEM, "%s: out of memory", st->name);
  for (const cJSON *c = root->child; c; c = c->next) {
    attn_status s = strcmp(c->string, "__metadata__") == 0
                        ? parse_metadata(st, c, err)
                        : parse_entry(st, c, &st->tensors[st->n_tensors++], err);
    if (s) return s;
  }
  qsort(st->tensors, (size_t)st->n_tensors, sizeof *st->tensors, cmp_tensor_name);
  return ATTN_OK;
}

typedef struct span {
  uint64_t begin, end;
  const char *name;
} span;

static int cmp_span(const void *a, const void *b) {
  const span *x = a, *y = b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  return (x->end > y->end) - (x->end < y->end);
}

/* Two tensors sharing bytes would alias; empty tensors own no bytes and cannot overlap. */
static attn_status check_overlaps(attn_safetensors *st, attn_error *err) {
  span *s = malloc(((size_t)st->n_tensors + 1) * sizeof *s);
  if (!s) return attn_error_set(err, ATTN_E_NOMEM, "%s: out of memory", st->name);
  size_t n = 0;
  uint64_t covered = 0;
  for (int i = 0; i < st->n_tensors; i++) {
    const attn_tensor_info *t = &st->tensors[i];
    uint64_t b = (uint64_t)((const unsigned char *)t->data - st->data);
    if (t->nbytes) s[n++] = (span){b, b + t->nbytes, t->name};
  }
  qsort(s, n, sizeof *s, cmp_span);
  attn_status rc = ATTN_OK;
  for (size_t i = 0; i < n && !rc; i++) {
    covered += s[i].end - s[i].begin;
    if (i > 0 && s[i].begin < s[i - 1].end)
      rc = attn_error_set(err, ATTN_E_FORMAT, "tensors '%s' and '%s' in %s overlap: data_offsets "
                          "[%" PRIu64 ", %" PRIu64 "] and [%" PRIu64 ", %" PRIu64 "]",
                          clip(s[i - 1].name).s, clip(s[i].name).s, st->name, s[i - 1].begin,
                          s[i - 1].end, s[i].begin, s[i].end);
  }
  st->unused = st->data_size - covered;
  free(s);
  return rc;
}

static attn_status parse(attn_safetensors *st, attn_error *err) {
  cJSON *root = NULL;
  attn_status s = check_sizes(st, err);
  if (!s) s = parse_header_json(st, &root, err);
  if (!s) s = build_index(st, root, err);
  cJSON_Delete(root);
  if (!s) s = check_overlaps(st, err);
  return s;
}

/* ---- opening and closing ---- */

/* Takes ownership of owned (may be NULL); closes everything on failure. */
static attn_safetensors *create(const void *bytes, size_t size, void *owned, const char *name,
                                attn_error *err) {
  static const unsigned char empty[1];
  attn_safetensors *st = calloc(1, sizeof *st);
  char *copy = attn_strdup(name ? name : "(memory)");
  if (!st || !copy) {
    free(owned);
    free(st);
    free(copy);
    attn_error_set(err, ATTN_E_NOMEM, "%s: out of memory", name ? name : "(memory)");
    return NULL;
  }
  *st = (attn_safetensors){.name = copy, .owned = owned,
                           .bytes = bytes ? bytes : empty, .size = size};
  if (parse(st, err) != ATTN_OK) {
    attn_safetensors_close(st);
    return NULL;
  }
  return st;
}

attn_safetensors *attn_safetensors_from_memory(const void *data, size_t size, const char *name,
                                               attn_error *err) {
  if (!data && size) {
    attn_error_set(err, ATTN_E_ARG, "%s: no data", name ? name : "(memory)");
    return NULL;
  }
  return create(data, size, NULL, name, err);
}

/* The file is read, not mapped: a mapped file that shrinks while in use (a model being
 * rewritten while the window loads it) would kill the process with SIGBUS. */
attn_safetensors *attn_safetensors_open(const char *path, attn_error *err) {
  size_t size = 0;
  char *bytes = attn_read_file(path, ATTN_SAFETENSORS_MAX_FILE, &size, err);
  if (!bytes) return NULL;
  return create(bytes, size, bytes, path, err);
}

void attn_safetensors_close(attn_safetensors *st) {
  if (!st) return;
  for (int i = 0; i < st->n_tensors; i++) free((char *)st->tensors[i].name);
  for (int i = 0; i < st->n_meta; i++) {
    free(st->meta[i].key);
    free(st->meta[i].value);
  }
  free(st->tensors);
  free(st->meta);
  free(st->owned);
  free(st->name);
  free(st);
}

/* ---- queries ---- */

const char *attn_safetensors_name(const attn_safetensors *st) { return st->name; }

int attn_safetensors_count(const attn_safetensors *st) { return st->n_tensors; }

const attn_tensor_info *attn_safetensors_tensor(const attn_safetensors *st, int index) {
  return index >= 0 && index < st->n_tensors ? &st->tensors[index] : NULL;
}

static int cmp_key_tensor(const void *key, const void *elem) {
  return strcmp(key, ((const attn_tensor_info *)elem)->name);
}

const attn_tensor_info *attn_safetensors_find(const attn_safetensors *st, const char *name) {
  if (!name || st->n_tensors == 0) return NULL;
  return bsearch(name, st->tensors, (size_t)st->n_tensors, sizeof *st->tensors, cmp_key_tensor);
}

const char *attn_safetensors_metadata(const attn_safetensors *st, const char *key) {
  for (int i = 0; key && i < st->n_meta; i++)
    if (strcmp(st->meta[i].key, key) == 0) return st->meta[i].value;
  return NULL;
}

int attn_safetensors_metadata_count(const attn_safetensors *st) { return st->n_meta; }

int attn_safetensors_metadata_at(const attn_safetensors *st, int index, const char **key,
                                 const char **value) {
  if (index < 0 || index >= st->n_meta) return -1;
  if (key) *key = st->meta[index].key;
  if (value) *value = st->meta[index].value;
  return 0;
}

uint64_t attn_safetensors_unused_bytes(const attn_safetensors *st) { return st->unused; }

/* ---- values ---- */

/* 0 for a finite value, else 1 for NaN, 2 for Inf, 3 for -Inf, judged from the bits: an
 * all-ones exponent is Inf when the mantissa is zero, NaN otherwise. */
static int classify(uint64_t bits, uint64_t exp_mask, uint64_t sign_mask) {
  if ((bits & exp_mask) != exp_mask) return 0;
  if (bits & ~(exp_mask | sign_mask)) return 1;
  return bits & sign_mask ? 3 : 2;
}

static int element_class(const attn_tensor_info *t, size_t i) {
  const unsigned char *p = t->data;
  switch (t->dtype) {
  case ATTN_DTYPE_F32: return classify(rd32(p + 4 * i), 0x7f800000u, 0x80000000u);
  case ATTN_DTYPE_F16: return classify(rd16(p + 2 * i), 0x7c00u, 0x8000u);
  case ATTN_DTYPE_BF16: return classify(rd16(p + 2 * i), 0x7f80u, 0x8000u);
  case ATTN_DTYPE_F64:
    return classify(rd64(p + 8 * i), 0x7ff0000000000000ull, 0x8000000000000000ull);
  case ATTN_DTYPE_F8_E5M2: return classify(p[i], 0x7cu, 0x80u);
  case ATTN_DTYPE_F8_E4M3: return (p[i] & 0x7fu) == 0x7fu; /* no Inf; only S1111111 is NaN */
  default: return 0;
  }
}

int64_t attn_tensor_first_nonfinite(const attn_tensor_info *t, const char **kind) {
  static const char *const names[] = {"finite", "NaN", "Inf", "-Inf"};
  for (int64_t i = 0; i < t->numel; i++) {
    int c = element_class(t, (size_t)i);
    if (c == 0) continue;
    if (kind) *kind = names[c];
    return i;
  }
  return -1;
}

static void convert_f32(const attn_tensor_info *t, float *dst) {
  const unsigned char *p = t->data;
  size_t n = (size_t)t->numel;
  /* One loop per dtype keeps the hot loop free of branches. */
  if (t->dtype == ATTN_DTYPE_F32)
    for (size_t i = 0; i < n; i++) dst[i] = f32_from_bits(rd32(p + 4 * i));
  else if (t->dtype == ATTN_DTYPE_F16)
    for (size_t i = 0; i < n; i++) dst[i] = attn_f16_to_f32(rd16(p + 2 * i));
  else
    for (size_t i = 0; i < n; i++) dst[i] = attn_bf16_to_f32(rd16(p + 2 * i));
}

/* I8 with a per-row scale: dst[i] = q[i] * scale[row], one float32 product, as
 * training/safetensors_io.py's dequantize computes it. */
static attn_status dequantize_i8(const attn_safetensors *st, const attn_tensor_info *t,
                                 const attn_tensor_info *scale, float *dst, attn_error *err) {
  size_t rows = (size_t)t->shape[0], n = (size_t)t->numel, per_row = rows ? n / rows : 0;
  float *sc = malloc((rows ? rows : 1) * sizeof *sc);
  if (!sc) return tensor_error(st, err, ATTN_E_NOMEM, t->name, "cannot allocate %zu scales", rows);
  convert_f32(scale, sc);
  const signed char *q = t->data;
  for (size_t r = 0; r < rows; r++)
    for (size_t j = 0; j < per_row; j++) dst[r * per_row + j] = (float)q[r * per_row + j] * sc[r];
  free(sc);
  return ATTN_OK;
}

static int shape_matches(const attn_tensor_info *t, const int64_t *shape) {
  for (int i = 0; i < t->ndim; i++)
    if (shape[i] >= 0 && shape[i] != t->shape[i]) return 0;
  return 1;
}

static attn_status check_rank_shape(const attn_safetensors *st, const attn_tensor_info *t,
                                    int ndim, const int64_t *expected, attn_error *err) {
  char have[200], want[200];
  attn_shape_format(have, sizeof have, t->ndim, t->shape);
  if (ndim >= 0 && t->ndim != ndim)
    return attn_error_set(err, ATTN_E_SHAPE, "tensor '%s' in %s has rank %d (shape %s), "
                          "expected rank %d", clip(t->name).s, st->name, t->ndim, have, ndim);
  if (ndim < 0 || !expected || shape_matches(t, expected)) return ATTN_OK;
  attn_shape_format(want, sizeof want, ndim, expected);
  return attn_error_set(err, ATTN_E_SHAPE, "tensor '%s' in %s has shape %s, expected %s",
                        clip(t->name).s, st->name, have, want);
}

static attn_status check_finite(const attn_safetensors *st, const attn_tensor_info *t,
                                attn_error *err) {
  const char *kind = "";
  int64_t bad = attn_tensor_first_nonfinite(t, &kind);
  if (bad < 0) return ATTN_OK;
  return attn_error_set(err, ATTN_E_VALUE, "tensor '%s' in %s holds %s at index %" PRId64,
                        clip(t->name).s, st->name, kind, bad);
}

/* The per-row scale of an I8 tensor t: the tensor "<name>.scale", float, shape [rows]. */
static attn_status find_scale(const attn_safetensors *st, const attn_tensor_info *t,
                              const attn_tensor_info **out, attn_error *err) {
  char scale_name[512];
  if (snprintf(scale_name, sizeof scale_name, "%s" ATTN_SAFETENSORS_SCALE_SUFFIX, t->name) >= (int)sizeof scale_name)
    return tensor_error(st, err, ATTN_E_FORMAT, t->name, "name too long for its scale tensor");
  const attn_tensor_info *s = attn_safetensors_find(st, scale_name);
  if (t->ndim < 1)
    return tensor_error(st, err, ATTN_E_FORMAT, t->name, "dtype I8 needs at least one dimension (its rows "
                        "have scales)");
  if (!s)
    return tensor_error(st, err, ATTN_E_FORMAT, t->name, "dtype I8 without its per-row scale tensor "
                        "'%s'", clip(scale_name).s);
  if (!attn_dtype_loadable(s->dtype) || s->ndim != 1 || s->shape[0] != t->shape[0])
    return tensor_error(st, err, ATTN_E_FORMAT, t->name, "its scale tensor '%s' must be float with "
                        "shape [%" PRId64 "]", clip(scale_name).s, t->shape[0]);
  attn_status bad = check_finite(st, s, err);
  if (bad) return bad;
  *out = s;
  return ATTN_OK;
}

static attn_status expect_tensor(const attn_safetensors *st, const char *name, int ndim,
                                 const int64_t *expected_shape, const attn_tensor_info **out,
                                 const attn_tensor_info **scale, attn_error *err) {
  const attn_tensor_info *t = attn_safetensors_find(st, name);
  if (!t)
    return attn_error_set(err, ATTN_E_MISSING, "tensor '%s' not found in %s",
                          name ? clip(name).s : "(null)", st->name);
  const attn_tensor_info *sc = NULL;
  if (t->dtype == ATTN_DTYPE_I8) {
    attn_status s = find_scale(st, t, &sc, err);
    if (s) return s;
  } else if (!attn_dtype_loadable(t->dtype)) {
    return tensor_error(st, err, ATTN_E_FORMAT, name, "dtype %s not supported (only F32, F16, "
                        "BF16 and I8 with per-row scales load as float)", attn_dtype_name(t->dtype));
  }
  *out = t;
  if (scale) *scale = sc;
  return check_rank_shape(st, t, ndim, expected_shape, err);
}

const attn_tensor_info *attn_safetensors_expect(const attn_safetensors *st, const char *name,
                                                int ndim, const int64_t *expected_shape,
                                                attn_error *err) {
  const attn_tensor_info *t = NULL;
  return expect_tensor(st, name, ndim, expected_shape, &t, NULL, err) == ATTN_OK ? t : NULL;
}


attn_status attn_safetensors_load_f32_into(const attn_safetensors *st, const char *name,
                                           int ndim, const int64_t *expected_shape,
                                           int allow_nonfinite, float *dst, size_t dst_count,
                                           attn_error *err) {
  const attn_tensor_info *t = NULL, *scale = NULL;
  attn_status s = expect_tensor(st, name, ndim, expected_shape, &t, &scale, err);
  if (s) return s;
  if (dst_count != (size_t)t->numel || (!dst && dst_count))
    return attn_error_set(err, ATTN_E_ARG, "tensor '%s' in %s has %" PRId64 " values but the "
                          "destination holds %zu", clip(name).s, st->name, t->numel, dst_count);
  if (scale) return dequantize_i8(st, t, scale, dst, err);
  s = allow_nonfinite ? ATTN_OK : check_finite(st, t, err);
  if (!s) convert_f32(t, dst);
  return s;
}

float *attn_safetensors_load_f32(const attn_safetensors *st, const char *name, int ndim,
                                 const int64_t *expected_shape, int allow_nonfinite,
                                 attn_error *err) {
  const attn_tensor_info *t = attn_safetensors_expect(st, name, ndim, expected_shape, err);
  if (!t) return NULL;
  size_t n = (size_t)t->numel;
  float *dst = malloc((n ? n : 1) * sizeof *dst); /* never NULL for an empty tensor */
  if (!dst) {
    attn_error_set(err, ATTN_E_NOMEM, "tensor '%s' in %s: cannot allocate %zu floats",
                   clip(name).s, st->name, n);
    return NULL;
  }
  if (attn_safetensors_load_f32_into(st, name, ndim, expected_shape, allow_nonfinite, dst, n,
                                     err) != ATTN_OK) {
    free(dst);
    return NULL;
  }
  return dst;
}
