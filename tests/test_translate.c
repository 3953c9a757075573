/* Text to trace through the translator: tokens, maps, beams, warnings and bad input,
 * on the tiny random-weight model (its numbers are checked in test_transformer.c). */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "attn_trace_json.h"
#include "attn_translate.h"
#include "golden.h"

static void test_trace_shape(void) {
  attn_translator *t = golden_translator("transformer-tiny");
  attn_trace *tr = golden_translate(t, "abc dag fe", 1, 0);
  g_assert_cmpstr(tr->model, ==, "transformer-tiny");
  g_assert_cmpstr(tr->source.text, ==, "abc dag fe");
  g_assert_cmpstr(tr->source.tokens[tr->source.n - 1], ==, "</s>");
  g_assert_true(attn_tokens_word_start(&tr->source, 0));
  g_assert_nonnull(tr->output.probs);
  /* tiny has 2 layers x 2 heads: their mean, then 4 maps */
  g_assert_cmpint(tr->n_maps, ==, 5);
  g_assert_cmpstr(tr->maps[0].name, ==, "mean of all heads");
  g_assert_cmpstr(tr->maps[4].name, ==, "layer 2 head 2");
  for (int m = 0; m < tr->n_maps; m++) {
    g_assert_cmpint(tr->maps[m].rows, ==, tr->output.n);
    g_assert_cmpint(tr->maps[m].cols, ==, tr->source.n);
  }
  for (int i = 0; i < tr->output.n * tr->source.n; i++) { /* the mean really is the mean */
    float mean = (tr->maps[1].weights[i] + tr->maps[2].weights[i] + tr->maps[3].weights[i] + tr->maps[4].weights[i]) / 4;
    g_assert_cmpfloat_with_epsilon(tr->maps[0].weights[i], mean, 1e-6);
  }
  attn_trace_free(tr);
  attn_translator_free(t);
}

static void test_beam_and_self(void) {
  attn_translator *t = golden_translator("transformer-tiny");
  attn_trace *tr = golden_translate(t, "bad cafe", 3, 1);
  g_assert_cmpint(tr->n_hyps, >=, 1);
  g_assert_cmpint(tr->n_hyps, <=, 2);
  for (int h = 0; h < tr->n_hyps; h++) {
    g_assert_cmpfloat(tr->hyps[h].score, <=, tr->score); /* best first */
    g_assert_cmpint(tr->hyps[h].n_maps, ==, 5);
    g_assert_cmpint(tr->hyps[h].maps[0].rows, ==, tr->hyps[h].output.n);
  }
  int enc = 0, dec = 0;
  for (int m = 0; m < tr->n_maps; m++) {
    enc += tr->maps[m].kind == ATTN_MAP_ENCODER;
    dec += tr->maps[m].kind == ATTN_MAP_DECODER;
  }
  g_assert_cmpint(enc, ==, 5); /* 2 layers x 2 heads and their rollout */
  g_assert_cmpint(dec, ==, 4);
  int d = attn_trace_find_map(tr, "decoder layer 1 head 1");
  g_assert_cmpint(d, >=, 0);
  g_assert_cmpfloat(tr->maps[d].weights[0], ==, 1.0f); /* the first output sees only itself */
  if (tr->maps[d].rows > 1) g_assert_cmpfloat(tr->maps[d].weights[2], ==, 0.0f); /* causal */
  char *json = attn_trace_to_json(tr, 0);
  attn_error err = {0};
  attn_trace *back = attn_trace_from_json(json, strlen(json), &err);
  g_assert_nonnull(back);
  g_assert_cmpint(back->n_hyps, ==, tr->n_hyps);
  free(json);
  attn_trace_free(back);
  attn_trace_free(tr);
  attn_translator_free(t);
}

/* The encoder rollout map equals (A_2 + I)/2 . (A_1 + I)/2 computed here from the trace's own
 * per-head maps (A_l the mean of layer l's heads, a plain float loop in the other order of
 * evaluation: left to right), and it survives JSON. */
static void test_rollout(void) {
  attn_translator *t = golden_translator("transformer-tiny");
  const char *texts[] = {"bad cafe", "abc dag fe", "a"};
  for (size_t x = 0; x < G_N_ELEMENTS(texts); x++) {
    attn_trace *tr = golden_translate(t, texts[x], 1, 1);
    int S = tr->source.n, r = attn_trace_find_map(tr, "encoder rollout (all layers)");
    g_assert_cmpint(r, >=, 0);
    g_assert_cmpint(tr->maps[r].kind, ==, ATTN_MAP_ENCODER);
    g_autofree double *a1 = g_new0(double, S * S), *a2 = g_new0(double, S * S);
    for (int l = 1; l <= 2; l++)
      for (int h = 1; h <= 2; h++) {
        g_autofree char *name = g_strdup_printf("encoder layer %d head %d", l, h);
        int m = attn_trace_find_map(tr, name);
        g_assert_cmpint(m, >=, 0);
        for (int k = 0; k < S * S; k++) (l == 1 ? a1 : a2)[k] += 0.25 * tr->maps[m].weights[k] + (k / S == k % S ? 0.25 : 0);
      }
    /* with two heads: (mean + I)/2 = 0.25 (h1 + h2) + 0.5 I, the I added once per head above */
    double worst = 0;
    for (int i = 0; i < S; i++) {
      double row = 0;
      for (int j = 0; j < S; j++) {
        double v = 0;
        for (int m = 0; m < S; m++) v += a2[i * S + m] * a1[m * S + j];
        worst = fmax(worst, fabs(v - tr->maps[r].weights[i * S + j]));
        row += tr->maps[r].weights[i * S + j];
      }
      g_assert_cmpfloat_with_epsilon(row, 1.0, 1e-5);
    }
    g_assert_cmpfloat(worst, <, 1e-6);
    char *json = attn_trace_to_json(tr, 0);
    attn_error err = {0};
    attn_trace *back = attn_trace_from_json(json, strlen(json), &err);
    g_assert_nonnull(back);
    int rb = attn_trace_find_map(back, "encoder rollout (all layers)");
    g_assert_cmpint(rb, >=, 0);
    g_assert_cmpint(back->maps[rb].kind, ==, ATTN_MAP_ENCODER);
    g_assert_cmpint(back->maps[rb].layer, ==, -1);
    free(json);
    attn_trace_free(back);
    attn_trace_free(tr);
  }
  attn_translator_free(t);
}

/* Step-through decoding: each output step keeps the 5 most probable next tokens, best first; the
 * greedy choice is the first of them with its own probability; beam hypotheses keep their own;
 * JSON and hypothesis copies carry them. */
static void check_candidates(const attn_tokens *out, gboolean greedy) {
  g_assert_cmpint(out->n_cand, ==, 5);
  for (int i = 0; i < out->n; i++) {
    const float *p = out->cand_probs + (size_t)i * 5;
    char *const *tok = out->cand_tokens + (size_t)i * 5;
    for (int j = 1; j < 5; j++) g_assert_cmpfloat(p[j], <=, p[j - 1]);
    double sum = 0;
    gboolean chosen_listed = FALSE;
    for (int j = 0; j < 5; j++) sum += p[j], chosen_listed = chosen_listed || strcmp(tok[j], out->tokens[i]) == 0;
    g_assert_cmpfloat(sum, <=, 1.0 + 1e-5);
    g_assert_cmpfloat(p[0], >=, out->probs[i] - 1e-6); /* nothing likelier was left out */
    if (greedy) {
      g_assert_cmpstr(tok[0], ==, out->tokens[i]);
      g_assert_cmpfloat_with_epsilon(p[0], out->probs[i], 1e-6);
    } else if (out->probs[i] >= p[4]) {
      g_assert_true(chosen_listed); /* a beam's token is listed whenever it ranks in the top 5 */
    }
  }
}

static void test_candidates(void) {
  attn_translator *t = golden_translator("transformer-tiny");
  attn_trace *tr = golden_translate(t, "abc dag fe", 1, 0);
  check_candidates(&tr->output, TRUE);
  char *json = attn_trace_to_json(tr, 0);
  g_assert_nonnull(strstr(json, "\"candidates\""));
  attn_error err = {0};
  attn_trace *back = attn_trace_from_json(json, strlen(json), &err);
  g_assert_nonnull(back);
  g_assert_cmpint(back->output.n_cand, ==, 5);
  for (int i = 0; i < tr->output.n * 5; i++) {
    g_assert_cmpstr(back->output.cand_tokens[i], ==, tr->output.cand_tokens[i]);
    g_assert_cmpfloat_with_epsilon(back->output.cand_probs[i], tr->output.cand_probs[i], 1e-6);
  }
  free(json);
  attn_trace_free(back);
  attn_trace_free(tr);
  tr = golden_translate(t, "bad cafe fed", 3, 0);
  check_candidates(&tr->output, FALSE);
  for (int h = 0; h < tr->n_hyps; h++) check_candidates(&tr->hyps[h].output, FALSE);
  attn_trace *second = attn_trace_select_hypothesis(tr, tr->n_hyps);
  g_assert_cmpint(second->output.n_cand, ==, 5);
  g_assert_cmpstr(second->output.cand_tokens[0], ==, tr->hyps[tr->n_hyps - 1].output.cand_tokens[0]);
  attn_trace_free(second);
  attn_trace_free(tr);
  attn_translator_free(t);
  const char *bad = "{\"version\": 1, \"task\": \"translate\", \"model\": \"m\", \"source\": {\"tokens\": [\"a\"]}, "
                    "\"output\": {\"tokens\": [\"b\"], \"candidates\": [[{\"token\": \"b\"}]]}, \"maps\": []}";
  g_assert_null(attn_trace_from_json(bad, strlen(bad), &err)); /* a candidate without its probability */
  g_assert_nonnull(strstr(err.message, "prob"));
}

static void test_greedy_equals_beam1(void) {
  attn_translator *t = golden_translator("transformer-tiny");
  attn_trace *a = golden_translate(t, "ga he bac", 1, 0), *b = golden_translate(t, "ga he bac", 1, 0);
  char *ja = attn_trace_to_json(a, 0), *jb = attn_trace_to_json(b, 0);
  g_assert_cmpstr(ja, ==, jb); /* deterministic */
  free(ja), free(jb);
  attn_trace_free(a), attn_trace_free(b);
  attn_translator_free(t);
}

static void test_unknown_and_long(void) {
  attn_translator *t = golden_translator("transformer-tiny");
  attn_trace *tr = golden_translate(t, "abc xyz ab", 1, 0);
  g_assert_cmpint(tr->n_warnings, ==, 1);
  g_assert_nonnull(strstr(tr->warnings[0], "\"xyz\""));
  int found = 0;
  for (int i = 0; i < tr->source.n; i++) found |= strcmp(tr->source.tokens[i], "<unk:xyz>") == 0;
  g_assert_true(found);
  attn_trace_free(tr);
  GString *big = g_string_new(NULL);
  for (int i = 0; i < 2000; i++) g_string_append(big, "abc dah ");
  tr = golden_translate(t, big->str, 1, 0);
  g_assert_cmpint(tr->source.n, ==, attn_translator_max_source(t));
  g_assert_nonnull(strstr(tr->warnings[0], "cut"));
  g_assert_cmpuint(strlen(tr->source.text), <, big->len);
  g_string_free(big, TRUE);
  attn_trace_free(tr);
  attn_translator_free(t);
}

static void test_bad_input(void) {
  attn_translator *t = golden_translator("transformer-tiny");
  attn_error err = {0};
  attn_translate_opts o;
  attn_translate_opts_init(&o);
  g_assert_null(attn_translate(t, "", 0, &o, &err));
  g_assert_nonnull(strstr(err.message, "no text"));
  g_assert_null(attn_translate(t, "  \n\t ", 5, &o, &err));
  g_assert_null(attn_translate(t, "ab\xc3", 3, &o, &err));
  g_assert_nonnull(strstr(err.message, "UTF-8"));
  o.beam = 9;
  g_assert_null(attn_translate(t, "ab", 2, &o, &err));
  g_assert_nonnull(strstr(err.message, "beam"));
  attn_translator_free(t);
  g_assert_null(attn_translator_load("/nonexistent/model", &err));
  g_assert_nonnull(strstr(err.message, "/nonexistent/model"));
}

/* A tokenizer without an end-of-sentence piece (eos_id -1) is a broken model, said when it
 * loads; translating with it said "out of memory while tokenising". */
static void test_no_eos(void) {
  g_autofree char *spm = golden_fixture_path("rnn-tiny", "source.spm");
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(spm, &data, &len, NULL));
  g_autofree char *dir = g_dir_make_tmp("attn-noeos-XXXXXX", NULL);
  const char *files[] = {"config.json", "model.safetensors"};
  for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
    g_autofree char *from = golden_fixture_path("rnn-tiny", files[i]), *to = g_build_filename(dir, files[i], NULL);
    g_autofree char *bytes = NULL;
    gsize n = 0;
    g_assert_true(g_file_get_contents(from, &bytes, &n, NULL));
    g_assert_true(g_file_set_contents(to, bytes, (gssize)n, NULL));
  }
  /* a second trainer_spec, merged by protobuf: eos_id (field 42) = -1 */
  static const char eos_minus_one[] = "\x12\x0c\xd0\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01";
  GByteArray *model = g_byte_array_new();
  g_byte_array_append(model, (const guint8 *)data, (guint)len);
  g_byte_array_append(model, (const guint8 *)eos_minus_one, sizeof eos_minus_one - 1);
  g_autofree char *copy = g_build_filename(dir, "source.spm", NULL);
  g_assert_true(g_file_set_contents(copy, (const char *)model->data, model->len, NULL));
  g_byte_array_unref(model);
  attn_error err = {0};
  g_assert_null(attn_translator_load(dir, &err));
  g_assert_nonnull(strstr(err.message, "the tokenizer has no end-of-sentence piece (eos_id -1)"));
  const char *all[] = {"config.json", "model.safetensors", "source.spm"};
  for (size_t i = 0; i < G_N_ELEMENTS(all); i++) {
    g_autofree char *p = g_build_filename(dir, all[i], NULL);
    g_remove(p);
  }
  g_rmdir(dir);
}

static attn_trace *translate_alpha(attn_translator *t, const char *text, double alpha) {
  attn_translate_opts o;
  attn_translate_opts_init(&o); /* alpha -1: the model's config length_penalty */
  o.beam = 3;
  if (alpha >= 0) o.alpha = alpha;
  attn_error err = {0};
  attn_trace *tr = attn_translate(t, text, strlen(text), &o, &err);
  if (!tr) g_test_message("%s", err.message);
  g_assert_nonnull(tr);
  return tr;
}

/* Beam search takes its length normalisation from config.json "length_penalty" (1.0 when
 * absent) unless the caller gives an alpha; out-of-range or non-number values are load errors.
 * Scores are score / len^alpha: with alpha 0 a hypothesis's score is len times its alpha-1 score. */
static void test_length_penalty(void) {
  attn_translator *t1 = golden_translator("rnn-tiny");
  g_autofree char *dir0 = golden_model_copy("rnn-tiny", "length_penalty", "0");
  attn_error err = {0};
  attn_translator *t0 = attn_translator_load(dir0, &err);
  g_assert_nonnull(t0);
  g_assert_cmpfloat(attn_translator_length_penalty(t1), ==, 1.0);
  g_assert_cmpfloat(attn_translator_length_penalty(t0), ==, 0.0);
  const char *texts[] = {"abc dag fe", "bad cafe", "fed cab a"};
  int compared = 0;
  for (size_t i = 0; i < G_N_ELEMENTS(texts); i++) {
    attn_trace *own0 = translate_alpha(t0, texts[i], -1), *given0 = translate_alpha(t1, texts[i], 0.0);
    attn_trace *own1 = translate_alpha(t1, texts[i], -1), *given1 = translate_alpha(t0, texts[i], 1.0);
    g_assert_cmpfloat(own0->score, ==, given0->score); /* the config's alpha is the one used */
    g_assert_cmpint(own0->output.n, ==, given0->output.n);
    g_assert_cmpfloat(own1->score, ==, given1->score); /* opts override the config */
    g_assert_cmpint(own1->output.n, ==, given1->output.n);
    gboolean same = own0->output.n == own1->output.n;
    for (int k = 0; same && k < own0->output.n; k++) same = !strcmp(own0->output.tokens[k], own1->output.tokens[k]);
    if (same && own0->output.n > 1) { /* the same best hypothesis under both: the scores are len apart */
      g_assert_cmpfloat_with_epsilon(own0->score, own1->score * own0->output.n, 1e-4);
      g_assert_cmpfloat(fabs(own0->score - own1->score), >, 1e-6);
      compared++;
    }
    attn_trace_free(own0), attn_trace_free(given0), attn_trace_free(own1), attn_trace_free(given1);
  }
  g_assert_cmpint(compared, >, 0);
  attn_translator_free(t0);
  attn_translator_free(t1);
  golden_model_copy_remove(g_steal_pointer(&dir0));
  const char *bad[] = {"-0.5", "5", "\"1\"", "null"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    char *dir = golden_model_copy("rnn-tiny", "length_penalty", bad[i]);
    attn_translator *t = attn_translator_load(dir, &err);
    if (i < 3) {
      g_assert_null(t);
      g_assert_nonnull(strstr(err.message, "length_penalty"));
    } else { /* null is absent: 1.0 */
      g_assert_nonnull(t);
      g_assert_cmpfloat(attn_translator_length_penalty(t), ==, 1.0);
      attn_translator_free(t);
    }
    golden_model_copy_remove(dir);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/engine/translate/trace-shape", test_trace_shape);
  g_test_add_func("/engine/translate/beam-and-self-attention", test_beam_and_self);
  g_test_add_func("/engine/translate/candidates", test_candidates);
  g_test_add_func("/engine/translate/deterministic", test_greedy_equals_beam1);
  g_test_add_func("/engine/translate/unknown-and-long", test_unknown_and_long);
  g_test_add_func("/engine/translate/bad-input", test_bad_input);
  g_test_add_func("/engine/translate/no-eos", test_no_eos);
  g_test_add_func("/engine/translate/length-penalty", test_length_penalty);
  g_test_add_func("/engine/translate/encoder-rollout", test_rollout);
  return g_test_run();
}
