/* Tests of the safetensors reader and model directories on the fixtures written by
 * tests/fixtures/make_safetensors_fixtures.py (good files decode to exact bits; every
 * malformed kind fails with a message naming the file, the tensor and the problem). */
#include <cjson/cJSON.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attn_model_dir.h"
#include "attn_safetensors.h"

static cJSON *expected; /* expected_values.json */

static char *fixture(const char *name) {
  const char *dir = g_getenv("ATTN_FIXTURES");
  g_assert_nonnull(dir);
  return g_build_filename(dir, "safetensors", name, NULL);
}

/* On failure prints the whole haystack next to what was looked for. */
static void assert_contains(const char *hay, const char *needle) {
  if (!strstr(hay, needle)) g_assert_cmpstr(hay, ==, needle);
}

static attn_safetensors *open_fixture(const char *name) {
  char *path = fixture(name);
  attn_error err = {0};
  attn_safetensors *st = attn_safetensors_open(path, &err);
  if (!st) g_error("%s: %s", name, err.message);
  g_free(path);
  return st;
}

static GBytes *read_fixture(const char *name) {
  char *path = fixture(name), *data = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, &data, &len, NULL));
  g_free(path);
  return g_bytes_new_take(data, len);
}

/* ---- good files ---- */

static void check_shape(const attn_tensor_info *t, const cJSON *shape) {
  g_assert_cmpint(t->ndim, ==, cJSON_GetArraySize(shape));
  int64_t numel = 1;
  for (int i = 0; i < t->ndim; i++) {
    g_assert_cmpint(t->shape[i], ==, (int64_t)cJSON_GetArrayItem(shape, i)->valuedouble);
    numel *= t->shape[i];
  }
  g_assert_cmpint(t->numel, ==, numel);
  g_assert_cmpuint(t->nbytes, ==, (size_t)numel * attn_dtype_size(t->dtype));
}

/* Loads tensor exp->string and compares every value bit for bit. */
static void check_tensor(const attn_safetensors *st, const cJSON *exp) {
  const attn_tensor_info *t = attn_safetensors_find(st, exp->string);
  g_assert_nonnull(t);
  g_assert_cmpstr(t->name, ==, exp->string);
  g_assert_cmpstr(attn_dtype_name(t->dtype), ==,
                  cJSON_GetObjectItem(exp, "dtype")->valuestring);
  check_shape(t, cJSON_GetObjectItem(exp, "shape"));
  const cJSON *bits = cJSON_GetObjectItem(exp, "bits");
  g_assert_cmpint(t->numel, ==, cJSON_GetArraySize(bits));
  attn_error err = {0};
  float *v = attn_safetensors_load_f32(st, t->name, t->ndim, t->shape, 0, &err);
  if (!v) g_error("%s", err.message);
  int i = 0;
  for (const cJSON *b = bits->child; b; b = b->next, i++) {
    uint32_t got;
    memcpy(&got, &v[i], sizeof got);
    g_assert_cmphex(got, ==, (uint32_t)b->valuedouble);
  }
  free(v);
}

static void check_against_expected(const attn_safetensors *st, const char *file) {
  const cJSON *exp = cJSON_GetObjectItem(expected, file);
  g_assert_nonnull(exp);
  g_assert_cmpint(attn_safetensors_count(st), ==, cJSON_GetArraySize(exp));
  for (const cJSON *t = exp->child; t; t = t->next) check_tensor(st, t);
  for (int i = 1; i < attn_safetensors_count(st); i++) /* index order is name order */
    g_assert_cmpint(strcmp(attn_safetensors_tensor(st, i - 1)->name,
                           attn_safetensors_tensor(st, i)->name), <, 0);
  g_assert_null(attn_safetensors_tensor(st, -1));
  g_assert_null(attn_safetensors_tensor(st, attn_safetensors_count(st)));
  g_assert_cmpuint(attn_safetensors_unused_bytes(st), ==, 0);
}

static void test_good(gconstpointer data) {
  attn_safetensors *st = open_fixture(data);
  check_against_expected(st, data);
  attn_safetensors_close(st);
}

/* The same bytes at an odd address, in a buffer exactly their size (ASan sees overreads). */
static void test_good_from_memory(gconstpointer data) {
  GBytes *bytes = read_fixture(data);
  gsize len = 0;
  const char *src = g_bytes_get_data(bytes, &len);
  char *buf = malloc(len + 1);
  memcpy(buf + 1, src, len);
  attn_error err = {0};
  attn_safetensors *st = attn_safetensors_from_memory(buf + 1, len, "mem.safetensors", &err);
  if (!st) g_error("%s", err.message);
  g_assert_cmpstr(attn_safetensors_name(st), ==, "mem.safetensors");
  check_against_expected(st, data);
  attn_safetensors_close(st);
  free(buf);
  g_bytes_unref(bytes);
}

static void test_metadata(void) {
  attn_safetensors *st = open_fixture("good_f32.safetensors");
  const char *key = NULL, *value = NULL;
  g_assert_cmpstr(attn_safetensors_metadata(st, "format"), ==, "pt");
  g_assert_cmpstr(attn_safetensors_metadata(st, "note"), ==, "attnlens fixture");
  g_assert_null(attn_safetensors_metadata(st, "absent"));
  g_assert_cmpint(attn_safetensors_metadata_count(st), ==, 2);
  g_assert_cmpint(attn_safetensors_metadata_at(st, 0, &key, &value), ==, 0);
  g_assert_cmpstr(key, ==, "format");
  g_assert_cmpstr(value, ==, "pt");
  g_assert_cmpint(attn_safetensors_metadata_at(st, 2, &key, &value), ==, -1);
  attn_safetensors_close(st);
  st = open_fixture("good_f16.safetensors");
  g_assert_cmpint(attn_safetensors_metadata_count(st), ==, 0);
  attn_safetensors_close(st);
}

static void test_gaps(void) {
  attn_safetensors *st = open_fixture("gaps.safetensors");
  g_assert_cmpuint(attn_safetensors_unused_bytes(st), ==, 7); /* 4-byte gap + 3 trailing */
  attn_error err = {0};
  float *b = attn_safetensors_load_f32(st, "b", 1, (const int64_t[]){1}, 0, &err);
  g_assert_nonnull(b);
  g_assert_cmpfloat(b[0], ==, 2.0f);
  free(b);
  attn_safetensors_close(st);
}

/* Every half-precision pattern against an independent formula. */
static void test_f16_all(void) {
  for (uint32_t h = 0; h < 0x10000u; h++) {
    uint32_t e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double sign = (h & 0x8000u) ? -1.0 : 1.0;
    float got = attn_f16_to_f32((uint16_t)h);
    if (e == 31 && m != 0) {
      uint32_t bits;
      memcpy(&bits, &got, sizeof bits);
      g_assert_true(isnan(got));
      g_assert_cmphex(bits, ==, ((h & 0x8000u) << 16) | 0x7f800000u | (m << 13));
      continue;
    }
    double want = e == 31 ? sign * INFINITY : e == 0 ? sign * ldexp(m, -24)
                                                      : sign * ldexp(1024 + m, (int)e - 25);
    g_assert_true(got == (float)want && !signbit(got) == !signbit(want));
  }
  uint32_t one;
  float f = attn_bf16_to_f32(0x3f80);
  memcpy(&one, &f, sizeof one);
  g_assert_cmphex(one, ==, 0x3f800000u);
}

/* ---- loading errors ---- */

static void expect_load_error(const char *file, const char *tensor, int ndim,
                              const int64_t *shape, int allow, attn_status code,
                              const char *problem) {
  attn_safetensors *st = open_fixture(file);
  attn_error err = {0};
  char *path = fixture(file);
  g_assert_null(attn_safetensors_load_f32(st, tensor, ndim, shape, allow, &err));
  g_assert_cmpint(err.code, ==, code);
  assert_contains(err.message, path);
  char *quoted = g_strdup_printf("'%s'", tensor);
  assert_contains(err.message, quoted);
  assert_contains(err.message, problem);
  g_free(quoted);
  g_free(path);
  attn_safetensors_close(st);
}

static void test_load_missing(void) {
  expect_load_error("good_f32.safetensors", "nope", -1, NULL, 0, ATTN_E_MISSING, "not found in");
}

static void test_load_wrong_rank(void) {
  expect_load_error("good_f32.safetensors", "matrix", 3, (const int64_t[]){2, 3, 1}, 0,
                    ATTN_E_SHAPE, "has rank 2 (shape [2, 3]), expected rank 3");
}

static void test_load_wrong_shape(void) {
  expect_load_error("good_f32.safetensors", "matrix", 2, (const int64_t[]){3, 2}, 0,
                    ATTN_E_SHAPE, "has shape [2, 3], expected [3, 2]");
}

static void test_load_int_dtype(void) {
  expect_load_error("int_dtypes.safetensors", "ids", -1, NULL, 1, ATTN_E_FORMAT,
                    "dtype I64 not supported");
  expect_load_error("int_dtypes.safetensors", "doubles", -1, NULL, 1, ATTN_E_FORMAT,
                    "dtype F64 not supported");
}

/* A file in memory from a header and data bytes; *buf keeps them alive until g_free. */
static attn_safetensors *from_parts(const char *header, const void *data, size_t data_len, unsigned char **buf,
                                    attn_error *err) {
  size_t n = strlen(header);
  *buf = g_malloc0(8 + n + data_len);
  for (int i = 0; i < 8; i++) (*buf)[i] = (unsigned char)((guint64)n >> (8 * i));
  memcpy(*buf + 8, header, n);
  memcpy(*buf + 8 + n, data, data_len);
  return attn_safetensors_from_memory(*buf, 8 + n + data_len, "q.safetensors", err);
}

/* I8 with a per-row scale loads as q * scale[row]; the values below are worked out by hand
 * (exact in float32). */
static void test_load_int8_rows(void) {
  const signed char q[6] = {1, -2, 127, -127, 0, 5};
  const float scale[2] = {0.5f, 0.25f}, want[6] = {0.5f, -1.0f, 63.5f, -31.75f, 0.0f, 1.25f};
  unsigned char data[14];
  memcpy(data, q, 6), memcpy(data + 6, scale, 8);
  const char *good = "{\"w\":{\"dtype\":\"I8\",\"shape\":[2,3],\"data_offsets\":[0,6]},"
                     "\"w.scale\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[6,14]}}";
  unsigned char *buf;
  attn_error err = {0};
  attn_safetensors *st = from_parts(good, data, sizeof data, &buf, &err);
  g_assert_nonnull(st);
  const int64_t shape[2] = {2, 3};
  g_assert_nonnull(attn_safetensors_expect(st, "w", 2, shape, &err));
  float *v = attn_safetensors_load_f32(st, "w", 2, shape, 0, &err);
  g_assert_nonnull(v);
  for (int i = 0; i < 6; i++) g_assert_cmpfloat(v[i], ==, want[i]);
  free(v);
  attn_safetensors_close(st);
  g_free(buf);
  /* what is wrong with the scale is said, and nothing loads */
  const struct {
    const char *header, *message;
  } bad[] = {
      {"{\"w\":{\"dtype\":\"I8\",\"shape\":[2,3],\"data_offsets\":[0,6]}}", "without its per-row scale tensor 'w.scale'"},
      {"{\"w\":{\"dtype\":\"I8\",\"shape\":[2,3],\"data_offsets\":[0,6]},"
       "\"w.scale\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[6,14]}}", "must be float with shape [2]"},
      {"{\"w\":{\"dtype\":\"I8\",\"shape\":[2,3],\"data_offsets\":[0,6]},"
       "\"w.scale\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[6,14]}}", "must be float with shape [2]"},
      {"{\"w\":{\"dtype\":\"I8\",\"shape\":[],\"data_offsets\":[0,1]},"
       "\"w.scale\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[6,10]}}", "needs at least one dimension"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    st = from_parts(bad[i].header, data, sizeof data, &buf, &err);
    g_assert_nonnull(st);
    g_assert_null(attn_safetensors_load_f32(st, "w", -1, NULL, 0, &err));
    g_assert_cmpint(err.code, ==, ATTN_E_FORMAT);
    assert_contains(err.message, bad[i].message);
    attn_safetensors_close(st);
    g_free(buf);
  }
  const float nan_scale[2] = {0.5f, NAN};
  memcpy(data + 6, nan_scale, 8);
  st = from_parts(good, data, sizeof data, &buf, &err);
  g_assert_null(attn_safetensors_load_f32(st, "w", 2, shape, 0, &err));
  assert_contains(err.message, "'w.scale' in q.safetensors holds NaN");
  attn_safetensors_close(st);
  g_free(buf);
}

static void test_load_wildcard(void) {
  attn_safetensors *st = open_fixture("good_f32.safetensors");
  attn_error err = {0};
  float *v = attn_safetensors_load_f32(st, "matrix", 2, (const int64_t[]){-1, 3}, 0, &err);
  g_assert_nonnull(v);
  free(v);
  v = attn_safetensors_load_f32(st, "scalar", 0, NULL, 0, &err);
  g_assert_nonnull(v);
  g_assert_cmpfloat(v[0], ==, 3.5f);
  free(v);
  v = attn_safetensors_load_f32(st, "empty", 2, (const int64_t[]){0, 4}, 0, &err);
  g_assert_nonnull(v); /* an empty tensor still gives a pointer to free */
  free(v);
  g_assert_nonnull(attn_safetensors_expect(st, "cube", -1, NULL, &err));
  attn_safetensors_close(st);
}

static void test_load_into(void) {
  attn_safetensors *st = open_fixture("good_f32.safetensors");
  attn_error err = {0};
  float dst[6];
  g_assert_cmpint(attn_safetensors_load_f32_into(st, "matrix", 2, NULL, 0, dst, 5, &err), ==,
                  ATTN_E_ARG);
  assert_contains(err.message, "has 6 values but the destination holds 5");
  g_assert_cmpint(attn_safetensors_load_f32_into(st, "matrix", 2, NULL, 0, dst, 6, &err), ==,
                  ATTN_OK);
  g_assert_cmpfloat(dst[5], ==, 1.5f);
  g_assert_cmpint(attn_safetensors_load_f32_into(st, "nope", 2, NULL, 0, dst, 6, NULL), ==,
                  ATTN_E_MISSING);
  attn_safetensors_close(st);
}

static void test_nonfinite_nan(void) {
  expect_load_error("nan_f32.safetensors", "weights", 1, (const int64_t[]){5}, 0, ATTN_E_VALUE,
                    "holds NaN at index 2");
  attn_safetensors *st = open_fixture("nan_f32.safetensors");
  attn_error err = {0};
  float *v = attn_safetensors_load_f32(st, "weights", 1, (const int64_t[]){5}, 1, &err);
  g_assert_nonnull(v);
  g_assert_true(isnan(v[2]) && isinf(v[4]) && v[4] > 0 && v[3] == 3.0f);
  free(v);
  v = attn_safetensors_load_f32(st, "clean", 1, NULL, 0, &err);
  g_assert_nonnull(v);
  free(v);
  attn_safetensors_close(st);
}

static void test_nonfinite_half(void) {
  expect_load_error("nonfinite_half.safetensors", "f16_neg_inf", 1, NULL, 0, ATTN_E_VALUE,
                    "holds -Inf at index 1");
  expect_load_error("nonfinite_half.safetensors", "bf16_nan", 1, NULL, 0, ATTN_E_VALUE,
                    "holds NaN at index 1");
}

static void test_open_missing(void) {
  attn_error err = {0};
  g_assert_null(attn_safetensors_open("/nonexistent/x.safetensors", &err));
  g_assert_cmpint(err.code, ==, ATTN_E_IO);
  assert_contains(err.message, "/nonexistent/x.safetensors");
  char *dir = fixture("tiny_model");
  g_assert_null(attn_safetensors_open(dir, &err));
  assert_contains(err.message, "not a regular file");
  g_free(dir);
  char *tmp = g_dir_make_tmp("attn-fifo-XXXXXX", NULL), *fifo = g_build_filename(tmp, "f", NULL);
  g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
  g_assert_null(attn_safetensors_open(fifo, &err)); /* must not wait for a writer */
  assert_contains(err.message, "not a regular file");
  g_remove(fifo);
  g_rmdir(tmp);
  g_free(fifo);
  g_free(tmp);
  attn_safetensors_close(NULL);
  attn_model_dir_close(NULL);
}

/* A model file rewritten while it is open (a user model being replaced while the window
 * loads it): the tensors must still read as they were, never SIGBUS as a mapped file
 * that shrank would give; the same through a model directory. */
static void test_file_shrinks_while_open(void) {
  g_autofree char *tmp = g_dir_make_tmp("attn-shrink-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(tmp, "model.safetensors", NULL);
  GBytes *bytes = read_fixture("good_f32.safetensors");
  g_assert_true(g_file_set_contents(path, g_bytes_get_data(bytes, NULL), (gssize)g_bytes_get_size(bytes), NULL));
  attn_error err = {0};
  attn_safetensors *st = attn_safetensors_open(path, &err);
  g_assert_nonnull(st);
  g_assert_cmpint(truncate(path, 0), ==, 0);
  check_against_expected(st, "good_f32.safetensors");
  attn_safetensors_close(st);
  g_remove(path);
  g_rmdir(tmp);
  g_bytes_unref(bytes);

  g_autofree char *src = fixture("tiny_model");
  g_autofree char *dir = g_dir_make_tmp("attn-shrink-XXXXXX", NULL);
  const char *files[] = {"config.json", "model.safetensors", "vocab.txt"};
  for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
    g_autofree char *from = g_build_filename(src, files[i], NULL), *to = g_build_filename(dir, files[i], NULL);
    g_autofree char *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(from, &data, &len, NULL));
    g_assert_true(g_file_set_contents(to, data, (gssize)len, NULL));
  }
  attn_model_dir *d = attn_model_dir_open(dir, &err);
  g_assert_nonnull(d);
  g_autofree char *model = g_build_filename(dir, "model.safetensors", NULL);
  g_assert_cmpint(truncate(model, 16), ==, 0);
  attn_safetensors *orig = open_fixture("tiny_model/model.safetensors");
  const attn_safetensors *now = attn_model_dir_tensors(d);
  g_assert_cmpint(attn_safetensors_count(now), ==, attn_safetensors_count(orig));
  for (int i = 0; i < attn_safetensors_count(orig); i++) {
    const attn_tensor_info *t = attn_safetensors_tensor(orig, i), *u = attn_safetensors_tensor(now, i);
    g_assert_cmpstr(t->name, ==, u->name);
    g_assert_cmpmem(t->data, t->nbytes, u->data, u->nbytes);
  }
  attn_safetensors_close(orig);
  attn_model_dir_close(d);
  for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
    g_autofree char *to = g_build_filename(dir, files[i], NULL);
    g_remove(to);
  }
  g_rmdir(dir);
}

/* ---- malformed files ---- */

typedef struct bad_case {
  const char *kind;    /* test path and file name */
  const char *tensor;  /* quoted in the message, or NULL */
  const char *problem; /* substring of the message */
} bad_case;

static const bad_case bad_cases[] = {
    {"empty", NULL, "file is empty"},
    {"short", NULL, "too short for the 8-byte header length"},
    {"header_past_eof", NULL, "header length 1000 runs past the end of the file"},
    {"header_len_huge", NULL, "runs past the end of the file"},
    {"header_empty", NULL, "header is not valid JSON"},
    {"not_json", NULL, "header is not valid JSON"},
    {"not_object", NULL, "header is not a JSON object"},
    {"trailing_garbage", NULL, "header is not valid JSON"},
    {"invalid_utf8", NULL, "header is not valid UTF-8"},
    {"truncated", "b", "run past the end of the data (22 bytes); the file may be truncated"},
    {"offset_past_end", "w", "data_offsets [0, 4096] run past the end of the data"},
    {"reversed_offsets", "w", "data_offsets [16, 0] are reversed"},
    {"overlap", "a", "'b' in "},
    {"shape_overflow", "w", "holds too many elements"},
    {"size_mismatch", "w", "shape [3, 4] of F32 needs 48 bytes but data_offsets [0, 16] hold 16"},
    {"unknown_dtype", "w", "unknown dtype 'F17'"},
    {"dtype_missing", "w", "'dtype' is missing"},
    {"shape_missing", "w", "'shape' is missing"},
    {"duplicate_names", "w", "appears more than once in the header"},
    {"duplicate_keys", "w", "key 'dtype' appears more than once"},
    {"negative_dim", "w", "dimension 0 of the shape is -1"},
    {"fractional_dim", "w", "dimension 0 of the shape is 2.5"},
    {"string_dim", "w", "dimension 0 of the shape is not a number"},
    {"dim_too_large", "w", "is 2199023255552, expected an integer in [0, 2^40]"},
    {"rank_too_large", "w", "more than 8 dimensions"},
    {"offsets_arity", "w", "'data_offsets' must be an array of 2 non-negative integers"},
    {"offsets_not_ints", "w", "'data_offsets' must be an array of 2 non-negative integers"},
    {"entry_not_object", "w", "entry is not a JSON object"},
    {"metadata_not_object", NULL, "'__metadata__' is not a JSON object"},
    {"metadata_not_string", NULL, "metadata 'k' is not a string"},
};

static void check_bad_message(const bad_case *c, const attn_error *err, const char *name) {
  g_assert_cmpint(err->code, ==, ATTN_E_FORMAT);
  assert_contains(err->message, name);
  assert_contains(err->message, c->problem);
  if (c->tensor) {
    char *quoted = g_strdup_printf("tensor '%s'", c->tensor);
    if (strcmp(c->kind, "overlap") == 0) g_free(quoted), quoted = g_strdup("tensors 'a'");
    assert_contains(err->message, quoted);
    g_free(quoted);
  }
}

static void test_malformed(gconstpointer data) {
  const bad_case *c = data;
  char *file = g_strdup_printf("%s.safetensors", c->kind), *path = fixture(file);
  attn_error err = {0};
  g_assert_null(attn_safetensors_open(path, &err));
  check_bad_message(c, &err, path);
  g_test_message("%s", err.message);
  /* From memory too, in a buffer of exactly the file's size. */
  GBytes *bytes = read_fixture(file);
  gsize len = 0;
  const void *src = g_bytes_get_data(bytes, &len);
  void *copy = g_memdup2(src, len);
  attn_error err2 = {0};
  g_assert_null(attn_safetensors_from_memory(copy, len, file, &err2));
  check_bad_message(c, &err2, file);
  g_free(copy);
  g_bytes_unref(bytes);
  g_free(path);
  g_free(file);
}

/* Every shorter prefix of a good file is rejected, never read past. */
static void test_every_truncation(void) {
  GBytes *bytes = read_fixture("good_f32.safetensors");
  gsize len = 0;
  const char *src = g_bytes_get_data(bytes, &len);
  for (gsize n = 0; n < len; n++) {
    char *copy = g_memdup2(src, n);
    attn_error err = {0};
    g_assert_null(attn_safetensors_from_memory(copy, n, "prefix", &err));
    g_assert_cmpint(err.code, ==, ATTN_E_FORMAT);
    assert_contains(err.message, "prefix");
    g_free(copy);
  }
  g_bytes_unref(bytes);
}

/* A hostile 300-byte name is clipped so the message still says what is wrong. */
static void test_long_name(void) {
  GString *h = g_string_new("{\"");
  for (int i = 0; i < 300; i++) g_string_append_c(h, 'n');
  g_string_append(h, "\":{\"dtype\":\"F99\",\"shape\":[],\"data_offsets\":[0,4]}}");
  gsize n = h->len;
  unsigned char *file = g_malloc0(8 + n + 4);
  for (int i = 0; i < 8; i++) file[i] = (unsigned char)((guint64)n >> (8 * i));
  memcpy(file + 8, h->str, n);
  attn_error err = {0};
  g_assert_null(attn_safetensors_from_memory(file, 8 + n + 4, "long.safetensors", &err));
  assert_contains(err.message, "nnn...' in long.safetensors: unknown dtype 'F99'");
  g_free(file);
  g_string_free(h, TRUE);
}

/* Whatever a corrupted header byte does, a file that opens has tensors inside its data. */
static void check_opened(const attn_safetensors *st, size_t len) {
  for (int i = 0; i < attn_safetensors_count(st); i++) {
    const attn_tensor_info *t = attn_safetensors_tensor(st, i);
    g_assert_cmpuint(t->nbytes, <=, len);
    float *v = attn_safetensors_load_f32(st, t->name, -1, NULL, 1, NULL);
    g_assert_true(v != NULL || !attn_dtype_loadable(t->dtype));
    free(v);
  }
}

static void test_byte_mutations(void) {
  static const unsigned char subst[] = {0x00, 0xff, '"', '9', ',', '}', '-', '[', ' ', 'e'};
  GBytes *bytes = read_fixture("good_f16.safetensors");
  gsize len = 0;
  const unsigned char *src = g_bytes_get_data(bytes, &len);
  gsize header_end = 8 + (gsize)src[0] + ((gsize)src[1] << 8);
  for (gsize pos = 0; pos < header_end; pos++) {
    for (size_t k = 0; k < sizeof subst; k++) {
      unsigned char *copy = g_memdup2(src, len);
      copy[pos] = subst[k];
      attn_error err = {0};
      attn_safetensors *st = attn_safetensors_from_memory(copy, len, "mutant", &err);
      if (st) check_opened(st, len);
      else assert_contains(err.message, "mutant");
      attn_safetensors_close(st);
      g_free(copy);
    }
  }
  g_bytes_unref(bytes);
}

/* ---- model directories ---- */

static attn_model_dir *open_tiny(void) {
  char *path = fixture("tiny_model");
  attn_error err = {0};
  attn_model_dir *d = attn_model_dir_open(path, &err);
  if (!d) g_error("%s", err.message);
  g_free(path);
  return d;
}

static void test_dir_open(void) {
  attn_model_dir *d = open_tiny();
  g_assert_cmpstr(attn_model_dir_architecture(d), ==, "TinyAttnModel");
  g_assert_cmpstr(attn_model_dir_display_name(d), ==, "Tiny test model");
  g_assert_true(g_str_has_suffix(attn_model_dir_path(d), "tiny_model"));
  g_assert_cmpint(attn_safetensors_count(attn_model_dir_tensors(d)), ==, 4);
  g_assert_true(cJSON_IsObject(attn_model_dir_config(d)));
  attn_model_dir_close(d);
}

static void test_dir_config(void) {
  attn_model_dir *d = open_tiny();
  const cJSON *cfg = attn_model_dir_config(d);
  attn_error err = {0};
  int i = 0, b = 0;
  float f = 0;
  const char *s = NULL;
  g_assert_cmpint(attn_config_int(cfg, "hidden_size", ATTN_CONFIG_REQUIRED_INT, 1, 64, &i, &err),
                  ==, ATTN_OK);
  g_assert_cmpint(i, ==, 4);
  g_assert_cmpint(attn_config_int(cfg, "hidden_size", 0, 8, 64, &i, &err), ==, ATTN_E_VALUE);
  assert_contains(err.message, "tiny_model/config.json: 'hidden_size' is 4, expected an "
                               "integer in [8, 64]");
  g_assert_cmpint(attn_config_int(cfg, "num_heads", 2, 1, 8, &i, &err), ==, ATTN_OK);
  g_assert_cmpint(i, ==, 2);
  g_assert_cmpint(attn_config_int(cfg, "num_heads", ATTN_CONFIG_REQUIRED_INT, 1, 8, &i, &err),
                  ==, ATTN_E_MISSING);
  assert_contains(err.message, "config.json: required key 'num_heads' is missing");
  g_assert_cmpint(attn_config_int(cfg, "dropout", 0, 0, 1, &i, &err), ==, ATTN_E_FORMAT);
  assert_contains(err.message, "'dropout' is 0.1, expected an integer");
  g_assert_cmpint(attn_config_int(cfg, "pad_token_id", -1, -1, 5, &i, &err), ==, ATTN_OK);
  g_assert_cmpint(i, ==, -1); /* null means absent */
  g_assert_cmpint(attn_config_float(cfg, "dropout", NAN, 0.0f, 1.0f, &f, &err), ==, ATTN_OK);
  g_assert_cmpfloat(f, ==, 0.1f);
  g_assert_cmpint(attn_config_float(cfg, "layer_norm_eps", 1e-6f, 0.5f, 1.0f, &f, &err), ==,
                  ATTN_E_VALUE);
  assert_contains(err.message, "'layer_norm_eps'");
  g_assert_cmpint(attn_config_string(cfg, "attnlens.task", NULL, &s, &err), ==, ATTN_OK);
  g_assert_cmpstr(s, ==, "translate");
  g_assert_cmpint(attn_config_string(cfg, "hidden_size", NULL, &s, &err), ==, ATTN_E_FORMAT);
  assert_contains(err.message, "'hidden_size' is 4, expected a string");
  g_assert_cmpint(attn_config_bool(cfg, "tie_embeddings", ATTN_CONFIG_REQUIRED_BOOL, &b, &err),
                  ==, ATTN_OK);
  g_assert_cmpint(b, ==, 1);
  g_assert_cmpint(attn_config_bool(cfg, "num_layers", 0, &b, &err), ==, ATTN_E_FORMAT);
  g_assert_cmpint(attn_config_bool(cfg, "attnlens.missing", ATTN_CONFIG_REQUIRED_BOOL, &b, &err),
                  ==, ATTN_E_MISSING);
  attn_model_dir_close(d);
}

static const attn_tensor_spec tiny_specs[] = {
    {"embed.weight", 2, {6, 4}},
    {"proj.weight", 2, {4, 4}},
    {"proj.bias", 1, {4}},
};

static void expect_check_error(const attn_tensor_spec *spec, attn_status code,
                               const char *problem) {
  attn_model_dir *d = open_tiny();
  attn_error err = {0};
  g_assert_cmpint(attn_model_dir_check(d, spec, 1, &err), ==, code);
  assert_contains(err.message, "tiny_model/model.safetensors");
  char *quoted = g_strdup_printf("tensor '%s'", spec->name);
  assert_contains(err.message, quoted);
  assert_contains(err.message, problem);
  g_free(quoted);
  g_assert_null(attn_model_dir_load(d, spec, &err));
  g_assert_cmpint(err.code, ==, code);
  attn_model_dir_close(d);
}

static void test_dir_check_ok(void) {
  attn_model_dir *d = open_tiny();
  attn_error err = {0};
  g_assert_cmpint(attn_model_dir_check(d, tiny_specs, 3, &err), ==, ATTN_OK);
  attn_model_dir_close(d);
}

static void test_dir_missing_tensor(void) {
  attn_tensor_spec spec = {"decoder.weight", 2, {4, 4}};
  expect_check_error(&spec, ATTN_E_MISSING, "not found in");
}

static void test_dir_wrong_rank(void) {
  attn_tensor_spec spec = {"proj.bias", 2, {4, 1}};
  expect_check_error(&spec, ATTN_E_SHAPE, "has rank 1 (shape [4]), expected rank 2");
}

static void test_dir_wrong_shape(void) {
  attn_tensor_spec spec = {"embed.weight", 2, {4, 6}};
  expect_check_error(&spec, ATTN_E_SHAPE, "has shape [6, 4], expected [4, 6]");
}

static void test_dir_wrong_dtype(void) {
  attn_tensor_spec spec = {"step", 0, {0}};
  expect_check_error(&spec, ATTN_E_FORMAT, "dtype I64 not supported");
}

static void test_dir_load(void) {
  attn_model_dir *d = open_tiny();
  const cJSON *exp = cJSON_GetObjectItem(expected, "tiny_model/model.safetensors");
  for (const cJSON *t = exp->child; t; t = t->next) check_tensor(attn_model_dir_tensors(d), t);
  attn_error err = {0};
  float *w = attn_model_dir_load(d, &tiny_specs[2], &err);
  g_assert_nonnull(w);
  g_assert_cmpfloat(w[0], ==, 0.5f);
  g_assert_cmpfloat(w[1], ==, -0.25f);
  float into[16];
  g_assert_cmpint(attn_model_dir_load_into(d, &tiny_specs[1], into, 16, &err), ==, ATTN_OK);
  free(w);
  attn_model_dir_close(d);
}

static void test_dir_file(void) {
  attn_model_dir *d = open_tiny();
  attn_error err = {0};
  char *vocab = attn_model_dir_file(d, "vocab.txt", &err);
  g_assert_nonnull(vocab);
  g_assert_true(g_str_has_suffix(vocab, "tiny_model/vocab.txt"));
  free(vocab);
  g_assert_null(attn_model_dir_file(d, "source.spm", &err));
  g_assert_cmpint(err.code, ==, ATTN_E_MISSING);
  assert_contains(err.message, "has no file 'source.spm'");
  g_assert_null(attn_model_dir_file(d, "../good_f32.safetensors", &err));
  g_assert_cmpint(err.code, ==, ATTN_E_ARG);
  g_assert_null(attn_model_dir_file(d, "..", &err));
  g_assert_null(attn_model_dir_file(d, "", &err));
  attn_model_dir_close(d);
}

/* A scratch model directory holding config (NULL: none) and, if with_model, a copy of
 * good_f32.safetensors. */
static char *scratch_dir(const char *config, gssize config_len, int with_model) {
  char *dir = g_dir_make_tmp("attn-model-XXXXXX", NULL);
  g_assert_nonnull(dir);
  if (config) {
    char *p = g_build_filename(dir, "config.json", NULL);
    g_assert_true(g_file_set_contents(p, config, config_len, NULL));
    g_free(p);
  }
  if (with_model) {
    GBytes *b = read_fixture("good_f32.safetensors");
    char *p = g_build_filename(dir, "model.safetensors", NULL);
    g_assert_true(g_file_set_contents(p, g_bytes_get_data(b, NULL), (gssize)g_bytes_get_size(b),
                                      NULL));
    g_free(p);
    g_bytes_unref(b);
  }
  return dir;
}

static void remove_scratch(char *dir) {
  const char *names[] = {"config.json", "model.safetensors"};
  for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
    char *p = g_build_filename(dir, names[i], NULL);
    g_remove(p);
    g_free(p);
  }
  g_assert_cmpint(g_rmdir(dir), ==, 0);
  g_free(dir);
}

static void expect_dir_error(const char *config, gssize len, int with_model, attn_status code,
                             const char *problem) {
  char *dir = scratch_dir(config, len, with_model);
  attn_error err = {0};
  g_assert_null(attn_model_dir_open(dir, &err));
  g_assert_cmpint(err.code, ==, code);
  assert_contains(err.message, dir);
  assert_contains(err.message, problem);
  remove_scratch(dir);
}

static void test_dir_bad_config(void) {
  expect_dir_error(NULL, 0, 1, ATTN_E_IO, "config.json: No such file");
  expect_dir_error("[1]", -1, 1, ATTN_E_FORMAT, "config.json: not a JSON object");
  expect_dir_error("{\"a\": ", -1, 1, ATTN_E_FORMAT, "config.json: not valid JSON");
  expect_dir_error("{} {}", -1, 1, ATTN_E_FORMAT, "config.json: not valid JSON");
  expect_dir_error("{\"a\": \"\xc3\x28\"}", -1, 1, ATTN_E_FORMAT, "config.json: not valid UTF-8");
  expect_dir_error("{}", -1, 0, ATTN_E_IO, "model.safetensors: No such file");
  expect_dir_error("{\"attnlens\": {\"display_name\": 7}}", -1, 1, ATTN_E_FORMAT,
                   "'attnlens.display_name' is 7, expected a string");
  expect_dir_error("{\"a\": 1}\0{\"b\": 2}", 17, 1, ATTN_E_VALUE, "config.json: byte 9 is a NUL byte");
  char *big = g_malloc(ATTN_CONFIG_MAX_BYTES + 2);
  memset(big, ' ', ATTN_CONFIG_MAX_BYTES + 1);
  big[0] = '{';
  big[ATTN_CONFIG_MAX_BYTES] = '}';
  expect_dir_error(big, ATTN_CONFIG_MAX_BYTES + 1, 1, ATTN_E_IO, "more than the limit");
  g_free(big);
}

/* A number past double's range parses as infinity, which cJSON prints as "null": the
 * message said the key "is null". */
static void test_dir_config_huge_number(void) {
  char *dir = scratch_dir("{\"layer_norm_eps\": 1e400, \"n\": -1e999}", -1, 1);
  attn_error err = {0};
  attn_model_dir *d = attn_model_dir_open(dir, &err);
  g_assert_nonnull(d);
  float f = 0;
  int n = 0;
  g_assert_cmpint(attn_config_float(attn_model_dir_config(d), "layer_norm_eps", 1e-5f, 0.0f, 1.0f, &f, &err), ==,
                  ATTN_E_VALUE);
  assert_contains(err.message, "'layer_norm_eps' is a number too large to represent, expected a number in [0, 1]");
  g_assert_cmpint(attn_config_int(attn_model_dir_config(d), "n", 1, 1, 8, &n, &err), !=, ATTN_OK);
  assert_contains(err.message, "'n' is a number too large to represent");
  attn_model_dir_close(d);
  remove_scratch(dir);
}

static void test_dir_display_name_fallback(void) {
  char *dir = scratch_dir("{\"hidden_size\": 3}", -1, 1);
  attn_error err = {0};
  attn_model_dir *d = attn_model_dir_open(dir, &err);
  g_assert_nonnull(d);
  char *base = g_path_get_basename(dir);
  g_assert_cmpstr(attn_model_dir_display_name(d), ==, base);
  g_assert_null(attn_model_dir_architecture(d));
  g_free(base);
  attn_model_dir_close(d);
  remove_scratch(dir);
}

/* ---- inspect ---- */

/* Runs inspect on a fixture; returns its output (caller frees) and status in *status. */
static char *inspect(const char *name, attn_status *status, attn_error *err) {
  char *path = fixture(name), *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  g_assert_nonnull(out);
  *status = attn_model_inspect(path, out, err);
  fclose(out);
  g_free(path);
  return text;
}

static void assert_line(const char *text, const char *pattern) {
  if (!g_regex_match_simple(pattern, text, G_REGEX_MULTILINE, 0))
    g_assert_cmpstr(text, ==, pattern);
}

static void test_inspect_dir(void) {
  attn_error err = {0};
  attn_status st;
  char *text = inspect("tiny_model", &st, &err);
  g_assert_cmpint(st, ==, ATTN_OK);
  assert_line(text, "^architecture: TinyAttnModel$");
  assert_line(text, "^display name: Tiny test model$");
  assert_line(text, "^tensors: 4$");
  assert_line(text, "^parameters: 45$");
  assert_line(text, "^  embed\\.weight +F32 +\\[6, 4\\] +finite$");
  assert_line(text, "^  proj\\.weight +F16 +\\[4, 4\\] +finite$");
  assert_line(text, "^  proj\\.bias +BF16 +\\[4\\] +finite$");
  assert_line(text, "^  step +I64 +\\[\\] +finite$");
  free(text);
}

static void test_inspect_file(void) {
  attn_error err = {0};
  attn_status st;
  char *text = inspect("nan_f32.safetensors", &st, &err);
  g_assert_cmpint(st, ==, ATTN_OK);
  g_assert_null(strstr(text, "architecture"));
  assert_line(text, "^tensors: 2$");
  assert_line(text, "^  weights +F32 +\\[5\\] +NaN at index 2$");
  assert_line(text, "^  clean +F32 +\\[2\\] +finite$");
  free(text);
  text = inspect("int_dtypes.safetensors", &st, &err);
  assert_line(text, "^  doubles +F64 +\\[2\\] +Inf at index 1$");
  assert_line(text, "^  mask +BOOL +\\[4\\] +finite$");
  free(text);
  text = inspect("gaps.safetensors", &st, &err);
  assert_line(text, "^warning: 7 bytes of the data are not used by any tensor$");
  free(text);
}

static void test_inspect_errors(void) {
  attn_error err = {0};
  attn_status st;
  char *text = inspect("overlap.safetensors", &st, &err);
  g_assert_cmpint(st, ==, ATTN_E_FORMAT);
  g_assert_cmpstr(text, ==, ""); /* nothing printed for an invalid file */
  assert_contains(err.message, "overlap");
  free(text);
  text = inspect("no_such_model", &st, &err);
  g_assert_cmpint(st, ==, ATTN_E_IO);
  assert_contains(err.message, "no_such_model");
  free(text);
}

/* ---- main ---- */

static void load_expected(void) {
  char *path = fixture("expected_values.json"), *text = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, &text, &len, NULL));
  expected = cJSON_ParseWithLength(text, len);
  g_assert_nonnull(expected);
  g_free(text);
  g_free(path);
}

static void add_file_tests(void) {
  static const char *const good[][2] = {{"f32", "good_f32.safetensors"},
                                        {"f16", "good_f16.safetensors"},
                                        {"bf16", "good_bf16.safetensors"}};
  for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
    char *p = g_strdup_printf("/engine/safetensors/good/%s", good[i][0]);
    g_test_add_data_func(p, good[i][1], test_good);
    g_free(p);
    p = g_strdup_printf("/engine/safetensors/good/%s_from_memory", good[i][0]);
    g_test_add_data_func(p, good[i][1], test_good_from_memory);
    g_free(p);
  }
  for (size_t i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
    char *p = g_strdup_printf("/engine/safetensors/malformed/%s", bad_cases[i].kind);
    g_test_add_data_func(p, &bad_cases[i], test_malformed);
    g_free(p);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  load_expected();
  add_file_tests();
  g_test_add_func("/engine/safetensors/good/metadata", test_metadata);
  g_test_add_func("/engine/safetensors/good/gaps", test_gaps);
  g_test_add_func("/engine/safetensors/f16_all_patterns", test_f16_all);
  g_test_add_func("/engine/safetensors/open_missing", test_open_missing);
  g_test_add_func("/engine/safetensors/load/missing", test_load_missing);
  g_test_add_func("/engine/safetensors/load/wrong_rank", test_load_wrong_rank);
  g_test_add_func("/engine/safetensors/load/wrong_shape", test_load_wrong_shape);
  g_test_add_func("/engine/safetensors/load/int_dtype", test_load_int_dtype);
  g_test_add_func("/engine/safetensors/load/int8-rows", test_load_int8_rows);
  g_test_add_func("/engine/safetensors/load/wildcard", test_load_wildcard);
  g_test_add_func("/engine/safetensors/load/into", test_load_into);
  g_test_add_func("/engine/safetensors/nonfinite/nan", test_nonfinite_nan);
  g_test_add_func("/engine/safetensors/nonfinite/half", test_nonfinite_half);
  g_test_add_func("/engine/safetensors/malformed/every_truncation", test_every_truncation);
  g_test_add_func("/engine/safetensors/malformed/byte_mutations", test_byte_mutations);
  g_test_add_func("/engine/safetensors/malformed/long_name", test_long_name);
  g_test_add_func("/engine/model_dir/open", test_dir_open);
  g_test_add_func("/engine/model_dir/config", test_dir_config);
  g_test_add_func("/engine/model_dir/check_ok", test_dir_check_ok);
  g_test_add_func("/engine/model_dir/missing_tensor", test_dir_missing_tensor);
  g_test_add_func("/engine/model_dir/wrong_rank", test_dir_wrong_rank);
  g_test_add_func("/engine/model_dir/wrong_shape", test_dir_wrong_shape);
  g_test_add_func("/engine/model_dir/wrong_dtype", test_dir_wrong_dtype);
  g_test_add_func("/engine/model_dir/load", test_dir_load);
  g_test_add_func("/engine/model_dir/file", test_dir_file);
  g_test_add_func("/engine/model_dir/bad_config", test_dir_bad_config);
  g_test_add_func("/engine/model_dir/display_name_fallback", test_dir_display_name_fallback);
  g_test_add_func("/engine/model_dir/config-huge-number", test_dir_config_huge_number);
  g_test_add_func("/engine/safetensors/file-shrinks-while-open", test_file_shrinks_while_open);
  g_test_add_func("/engine/inspect/dir", test_inspect_dir);
  g_test_add_func("/engine/inspect/file", test_inspect_file);
  g_test_add_func("/engine/inspect/errors", test_inspect_errors);
  int rc = g_test_run();
  cJSON_Delete(expected);
  return rc;
}
