/* The C SentencePiece tokenizer against the sentencepiece library on Multi30k val. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_spm.h"

/* Runs tests/spm_reference.py; returns the model path it used, or NULL after skipping. */
static char *make_reference(const char *dir, const char *model) {
  const char *shared = g_getenv("ATTN_SHARED_DIR");
  g_autofree char *val = g_build_filename(shared ? shared : "", "data", "multi30k", "val.en.gz", NULL);
  if (!shared || !g_file_test(val, G_FILE_TEST_EXISTS)) {
    g_test_skip("needs ../shared/data/multi30k (not in a fresh clone)");
    return NULL;
  }
  g_autofree char *script = g_build_filename(g_getenv("ATTN_SOURCE_DIR"), "tests", "spm_reference.py", NULL);
  const char *argv[] = {g_getenv("ATTN_PYTHON"), script, dir, shared, model, NULL};
  char *out = NULL, *err = NULL;
  int status = 0;
  GError *error = NULL;
  g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, &error);
  g_assert_no_error(error);
  if (!g_spawn_check_wait_status(status, NULL)) g_test_message("spm_reference.py: %s", err);
  g_assert_true(g_spawn_check_wait_status(status, NULL)); /* python3-sentencepiece is a test dependency */
  g_free(err);
  g_strchomp(out);
  return out;
}

static void compare_with_reference(const char *model) {
  g_autofree char *dir = g_dir_make_tmp("attn-spm-XXXXXX", NULL);
  g_autofree char *model_path = make_reference(dir, model);
  if (!model_path) return;
  attn_error err = {0};
  attn_spm *s = attn_spm_load(model_path, &err);
  g_assert_nonnull(s);
  g_autofree char *lines_path = g_build_filename(dir, "lines.txt", NULL);
  g_autofree char *exp_path = g_build_filename(dir, "expected.tsv", NULL);
  g_autofree char *lines_text = NULL, *exp_text = NULL;
  g_assert_true(g_file_get_contents(lines_path, &lines_text, NULL, NULL));
  g_assert_true(g_file_get_contents(exp_path, &exp_text, NULL, NULL));
  g_auto(GStrv) lines = g_strsplit(lines_text, "\n", -1);
  g_auto(GStrv) expected = g_strsplit(exp_text, "\n", -1);
  g_assert_cmpuint(g_strv_length(lines), ==, g_strv_length(expected));
  int checked = 0;
  for (int i = 0; lines[i] && lines[i + 1]; i++) { /* the last entry is after the final \n */
    attn_spm_encoding enc;
    g_assert_cmpint(attn_spm_encode(s, lines[i], strlen(lines[i]), &enc, &err), ==, ATTN_OK);
    GString *got = g_string_new(NULL);
    for (int k = 0; k < enc.n; k++) g_string_append_printf(got, k ? " %d" : "%d", enc.ids[k]);
    char *dec = attn_spm_decode(s, enc.ids, enc.n);
    g_string_append_printf(got, "\t%s", dec);
    if (strcmp(got->str, expected[i]) != 0) g_test_message("line %d: %s\n got  %s\n want %s", i, lines[i], got->str, expected[i]);
    g_assert_cmpstr(got->str, ==, expected[i]);
    g_free(dec);
    g_string_free(got, TRUE);
    attn_spm_encoding_clear(&enc);
    checked++;
  }
  g_test_message("%d lines identical to sentencepiece", checked);
  g_assert_cmpint(checked, >, 2000);
  attn_spm_free(s);
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name(d))) {
    g_autofree char *p = g_build_filename(dir, name, NULL);
    g_unlink(p);
  }
  g_rmdir(dir);
}

static void test_tiny_model(void) { compare_with_reference(NULL); }

/* A shipped model's tokenizer against sentencepiece itself. */
static void check_shipped_spm(const char *name) {
  g_autofree char *model = g_build_filename(g_getenv("ATTN_SOURCE_DIR"), "data", "models", name, "source.spm", NULL);
  g_assert_true(g_file_test(model, G_FILE_TEST_EXISTS)); /* shipped in the repository */
  g_test_message("%s", model);
  compare_with_reference(model);
}

/* the Multi30k models share one tokenizer; each general language pair has its own joint one */
static void test_shipped_model(void) { check_shipped_spm("transformer-en-de"); }
static void test_shipped_en_fr_general(void) { check_shipped_spm("rnn-attn-en-fr-general"); }
static void test_shipped_en_de_general(void) { check_shipped_spm("transformer-en-de-general"); }

static void test_offsets_and_flags(void) {
  g_autofree char *dir = g_dir_make_tmp("attn-spm-XXXXXX", NULL);
  g_autofree char *model_path = make_reference(dir, NULL);
  if (!model_path) return;
  attn_error err = {0};
  attn_spm *s = attn_spm_load(model_path, &err);
  g_assert_nonnull(s);
  const char *text = "Two dogs play.";
  attn_spm_encoding enc;
  g_assert_cmpint(attn_spm_encode(s, text, strlen(text), &enc, &err), ==, ATTN_OK);
  g_assert_cmpint(enc.n, >, 0);
  g_assert_cmpint(enc.src_begin[0], ==, 0);
  g_assert_cmpint(enc.src_end[enc.n - 1], ==, (int)strlen(text));
  for (int k = 1; k < enc.n; k++) g_assert_cmpint(enc.src_begin[k], ==, enc.src_end[k - 1]);
  g_assert_true(attn_spm_is_word_start(s, enc.ids[0]));
  attn_spm_encoding_clear(&enc);
  g_assert_cmpint(attn_spm_encode(s, "bad \xff byte", 10, &enc, &err), ==, ATTN_E_VALUE);
  g_assert_nonnull(strstr(err.message, "UTF-8"));
  g_assert_cmpint(attn_spm_unk_id(s), ==, 1);
  g_assert_cmpint(attn_spm_eos_id(s), ==, 3);
  g_assert_cmpstr(attn_spm_piece(s, 3), ==, "</s>");
  g_assert_null(attn_spm_piece(s, 100000));
  attn_spm_free(s);
  g_autofree char *p1 = g_build_filename(dir, "tiny.model", NULL), *p2 = g_build_filename(dir, "tiny.vocab", NULL),
                  *p3 = g_build_filename(dir, "corpus.txt", NULL), *p4 = g_build_filename(dir, "lines.txt", NULL),
                  *p5 = g_build_filename(dir, "expected.tsv", NULL);
  g_unlink(p1), g_unlink(p2), g_unlink(p3), g_unlink(p4), g_unlink(p5);
  g_rmdir(dir);
}

static void test_malformed(void) {
  attn_error err = {0};
  const char junk[] = "\x0a\xff\xff\xff\xff\x0f";
  g_assert_null(attn_spm_from_memory(junk, sizeof junk - 1, "junk.model", &err));
  g_assert_nonnull(strstr(err.message, "junk.model"));
  g_assert_null(attn_spm_from_memory("", 0, "empty.model", &err));
  g_assert_nonnull(strstr(err.message, "empty.model"));
  /* one piece with a truncated string field */
  const char trunc[] = "\x0a\x05\x0a\x09" "abc";
  g_assert_null(attn_spm_from_memory(trunc, sizeof trunc - 1, "trunc.model", &err));
  /* a piece with a NUL inside (found by fuzz_spm): as a C string it would be another piece */
  g_autofree char *tiny = g_build_filename(g_getenv("ATTN_FIXTURES"), "rnn-tiny", "source.spm", NULL);
  g_autofree guint8 *data = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(tiny, (char **)&data, &len, NULL));
  attn_spm *ok = attn_spm_from_memory(data, len, "tiny.model", &err);
  g_assert_nonnull(ok);
  attn_spm_free(ok);
  GByteArray *nul = g_byte_array_new();
  g_byte_array_append(nul, data, (guint)len);
  g_byte_array_append(nul, (const guint8 *)"\x0a\x05\x0a\x03x\0y", 7);
  g_assert_null(attn_spm_from_memory(nul->data, nul->len, "nul.model", &err));
  g_assert_nonnull(strstr(err.message, "nul.model"));
  g_byte_array_unref(nul);
  g_assert_null(attn_spm_load("/nonexistent.model", &err));
  g_assert_nonnull(strstr(err.message, "/nonexistent.model"));
}

/* The byte range of the first top-level field `number` (length-delimited) in a protobuf. */
static gboolean find_field(const guint8 *p, gsize n, guint number, gsize *begin, gsize *end) {
  gsize i = 0;
  while (i < n) {
    gsize start = i;
    guint64 key = 0, len = 0;
    for (int shift = 0; i < n; shift += 7) {
      key |= (guint64)(p[i] & 0x7f) << shift;
      if (!(p[i++] & 0x80)) break;
    }
    g_assert_cmpint(key & 7, ==, 2); /* ModelProto's top-level fields are all messages */
    for (int shift = 0; i < n; shift += 7) {
      len |= (guint64)(p[i] & 0x7f) << shift;
      if (!(p[i++] & 0x80)) break;
    }
    i += len;
    if ((key >> 3) == number) {
      *begin = start, *end = i;
      return TRUE;
    }
  }
  return FALSE;
}

/* A model whose normalizer (with its precompiled_charsmap) comes twice: protobuf merges
 * them and the last charsmap wins; the first must not leak (LeakSanitizer checks). */
static void test_charsmap_twice(void) {
  g_autofree char *path = g_build_filename(g_getenv("ATTN_SOURCE_DIR"), "data", "models", "transformer-en-de",
                                           "source.spm", NULL);
  g_autofree guint8 *data = NULL;
  gsize len = 0, b = 0, e = 0;
  g_assert_true(g_file_get_contents(path, (char **)&data, &len, NULL));
  g_assert_true(find_field(data, len, 3, &b, &e));
  g_assert_cmpuint(e - b, >, 1000); /* it holds a charsmap */
  GByteArray *twice = g_byte_array_new();
  g_byte_array_append(twice, data, (guint)len);
  g_byte_array_append(twice, data + b, (guint)(e - b));
  attn_error err = {0};
  attn_spm *one = attn_spm_from_memory(data, len, "once.spm", &err);
  attn_spm *two = attn_spm_from_memory(twice->data, twice->len, "twice.spm", &err);
  g_assert_nonnull(one);
  g_assert_nonnull(two);
  const char *text = "\xef\xbc\xa1 full-width \xef\xbd\x82 and  spaces";
  char *n1 = attn_spm_normalize(one, text, strlen(text), NULL), *n2 = attn_spm_normalize(two, text, strlen(text), NULL);
  g_assert_cmpstr(n1, ==, n2);
  free(n1), free(n2);
  attn_spm_free(one);
  attn_spm_free(two);
  g_byte_array_unref(twice);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/engine/spm/matches-sentencepiece", test_tiny_model);
  g_test_add_func("/engine/spm/shipped-model", test_shipped_model);
  g_test_add_func("/engine/spm/shipped-en-fr-general", test_shipped_en_fr_general);
  g_test_add_func("/engine/spm/shipped-en-de-general", test_shipped_en_de_general);
  g_test_add_func("/engine/spm/offsets-and-flags", test_offsets_and_flags);
  g_test_add_func("/engine/spm/malformed", test_malformed);
  g_test_add_func("/engine/spm/charsmap-twice", test_charsmap_twice);
  return g_test_run();
}
