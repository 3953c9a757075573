/* Model directories: config.json with range-checked getters, model.safetensors checked
 * against the tensors a model needs, and the report behind `attnlens inspect`. */
#include "attn_model_dir.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attn_util.h"

struct attn_model_dir {
  char *path;
  cJSON *config;
  attn_safetensors *tensors;
  const char *architecture; /* points into config */
  char *display_name;
};

/* ---- paths ---- */

static char *join_path(const char *dir, const char *name) {
  size_t a = strlen(dir), b = strlen(name);
  size_t slash = a > 0 && dir[a - 1] != '/';
  char *p = malloc(a + slash + b + 1);
  if (!p) return NULL;
  memcpy(p, dir, a);
  if (slash) p[a] = '/';
  memcpy(p + a + slash, name, b + 1);
  return p;
}

/* The last component of path, resolved first so that "." names the real directory. */
static char *base_name(const char *path) {
  char *full = realpath(path, NULL);
  const char *p = full ? full : path;
  size_t end = strlen(p);
  while (end > 1 && p[end - 1] == '/') end--;
  size_t begin = end;
  while (begin > 0 && p[begin - 1] != '/') begin--;
  char *name = malloc(end - begin + 1);
  if (name) {
    memcpy(name, p + begin, end - begin);
    name[end - begin] = '\0';
  }
  free(full);
  return name;
}

char *attn_model_dir_file(const attn_model_dir *dir, const char *filename, attn_error *err) {
  if (!filename || !*filename || strchr(filename, '/') || strcmp(filename, ".") == 0 ||
      strcmp(filename, "..") == 0) {
    attn_error_set(err, ATTN_E_ARG, "%s: '%s' is not a plain file name", dir->path,
                   filename ? filename : "(null)");
    return NULL;
  }
  char *p = join_path(dir->path, filename);
  struct stat sb;
  if (!p) attn_error_set(err, ATTN_E_NOMEM, "%s: out of memory", dir->path);
  else if (stat(p, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    attn_error_set(err, ATTN_E_MISSING, "model directory %s has no file '%s'", dir->path,
                   filename);
    free(p);
    p = NULL;
  }
  return p;
}

/* ---- config.json ---- */

static cJSON *parse_config_text(const char *file, const char *text, size_t len, attn_error *err) {
  if (!attn_utf8_valid(text, len)) {
    attn_error_set(err, ATTN_E_FORMAT, "%s: not valid UTF-8", file);
    return NULL;
  }
  const char *end = NULL;
  /* Requiring the terminator rejects trailing garbage; a NUL inside stops cJSON early. */
  cJSON *cfg = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);
  if (!cfg || end != text + len) {
    attn_error_set(err, ATTN_E_FORMAT, "%s: not valid JSON (at byte %zu)", file,
                   end ? (size_t)(end - text) : 0);
    cJSON_Delete(cfg);
    return NULL;
  }
  if (cJSON_IsObject(cfg)) return cfg;
  attn_error_set(err, ATTN_E_FORMAT, "%s: not a JSON object", file);
  cJSON_Delete(cfg);
  return NULL;
}

static attn_status load_config(attn_model_dir *d, attn_error *err) {
  char *file = join_path(d->path, "config.json");
  if (!file) return attn_error_set(err, ATTN_E_NOMEM, "%s: out of memory", d->path);
  size_t len = 0;
  char *text = attn_read_text_file(file, ATTN_CONFIG_MAX_BYTES, &len, err);
  if (text) d->config = parse_config_text(file, text, len, err);
  free(text);
  if (!d->config) {
    free(file);
    return err->code;
  }
  /* The root has no name of its own; cJSON_Delete frees it, and the getters quote it. */
  d->config->string = file;
  return ATTN_OK;
}

static const char *cfg_file(const cJSON *cfg) {
  return cfg && cfg->string ? cfg->string : "config.json";
}

/* Follows a dotted key through nested objects; NULL when any part is absent. */
static const cJSON *config_lookup(const cJSON *cfg, const char *key) {
  char part[128];
  const cJSON *node = cfg;
  while (node && *key) {
    const char *dot = strchr(key, '.');
    size_t n = dot ? (size_t)(dot - key) : strlen(key);
    if (n >= sizeof part || !cJSON_IsObject(node)) return NULL;
    memcpy(part, key, n);
    part[n] = '\0';
    node = cJSON_GetObjectItemCaseSensitive(node, part);
    key += n + (dot ? 1 : 0);
  }
  return node;
}

/* The value of key in *v, NULL when absent or null; an error only when it is required. */
static attn_status config_value(const cJSON *cfg, const char *key, int required,
                                const cJSON **v, attn_error *err) {
  if (!cfg || !key || !*key)
    return attn_error_set(err, ATTN_E_ARG, "%s: config lookup without a key", cfg_file(cfg));
  *v = config_lookup(cfg, key);
  if (*v && cJSON_IsNull(*v)) *v = NULL;
  if (!*v && required)
    return attn_error_set(err, ATTN_E_MISSING, "%s: required key '%s' is missing",
                          cfg_file(cfg), key);
  return ATTN_OK;
}

static attn_status value_error(const cJSON *cfg, const char *key, const cJSON *v,
                               attn_status code, const char *expected, attn_error *err) {
  char got[48] = "?";
  /* cJSON prints a number past double's range (1e400 parses as infinity) as "null" */
  char *text = cJSON_IsNumber(v) && !isfinite(v->valuedouble) ? NULL : cJSON_PrintUnformatted(v);
  if (text) snprintf(got, sizeof got, "%.40s%s", text, strlen(text) > 40 ? "..." : "");
  else if (cJSON_IsNumber(v)) snprintf(got, sizeof got, "a number too large to represent");
  free(text);
  return attn_error_set(err, code, "%s: '%s' is %s, expected %s", cfg_file(cfg), key, got,
                        expected);
}

attn_status attn_config_int(const cJSON *cfg, const char *key, int dflt, int lo, int hi, int *out,
                            attn_error *err) {
  const cJSON *v = NULL;
  attn_status s = config_value(cfg, key, dflt == ATTN_CONFIG_REQUIRED_INT, &v, err);
  if (s || !v) {
    if (!s) *out = dflt;
    return s;
  }
  char expected[80];
  snprintf(expected, sizeof expected, "an integer in [%d, %d]", lo, hi);
  if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble))
    return value_error(cfg, key, v, ATTN_E_FORMAT, expected, err);
  if (!(v->valuedouble >= lo && v->valuedouble <= hi))
    return value_error(cfg, key, v, ATTN_E_VALUE, expected, err);
  *out = (int)v->valuedouble;
  return ATTN_OK;
}

attn_status attn_config_float(const cJSON *cfg, const char *key, float dflt, float lo, float hi,
                              float *out, attn_error *err) {
  const cJSON *v = NULL;
  attn_status s = config_value(cfg, key, isnan(dflt), &v, err);
  if (s || !v) {
    if (!s) *out = dflt;
    return s;
  }
  char expected[80];
  snprintf(expected, sizeof expected, "a number in [%g, %g]", (double)lo, (double)hi);
  if (!cJSON_IsNumber(v)) return value_error(cfg, key, v, ATTN_E_FORMAT, expected, err);
  /* FLT_MAX too: converting a double outside float's range is undefined behaviour. */
  if (!(v->valuedouble >= lo && v->valuedouble <= hi) || fabs(v->valuedouble) > FLT_MAX)
    return value_error(cfg, key, v, ATTN_E_VALUE, expected, err);
  *out = (float)v->valuedouble;
  return ATTN_OK;
}

attn_status attn_config_string(const cJSON *cfg, const char *key, const char *dflt,
                               const char **out, attn_error *err) {
  const cJSON *v = NULL;
  attn_status s = config_value(cfg, key, dflt == NULL, &v, err);
  if (s || !v) {
    if (!s) *out = dflt;
    return s;
  }
  if (!cJSON_IsString(v)) return value_error(cfg, key, v, ATTN_E_FORMAT, "a string", err);
  *out = v->valuestring;
  return ATTN_OK;
}

attn_status attn_config_bool(const cJSON *cfg, const char *key, int dflt, int *out,
                             attn_error *err) {
  const cJSON *v = NULL;
  attn_status s = config_value(cfg, key, dflt == ATTN_CONFIG_REQUIRED_BOOL, &v, err);
  if (s || !v) {
    if (!s) *out = dflt;
    return s;
  }
  if (!cJSON_IsBool(v)) return value_error(cfg, key, v, ATTN_E_FORMAT, "true or false", err);
  *out = cJSON_IsTrue(v) ? 1 : 0;
  return ATTN_OK;
}

/* ---- the directory ---- */

static const char *find_architecture(const cJSON *cfg) {
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(cfg, "architectures");
  if (cJSON_IsArray(a) && cJSON_IsString(a->child)) return a->child->valuestring;
  a = cJSON_GetObjectItemCaseSensitive(cfg, "model_type");
  if (cJSON_IsString(a)) return a->valuestring;
  a = cJSON_GetObjectItemCaseSensitive(cfg, "architecture");
  return cJSON_IsString(a) ? a->valuestring : NULL;
}

static attn_status load_names(attn_model_dir *d, attn_error *err) {
  const char *name = "";
  attn_status s = attn_config_string(d->config, "attnlens.display_name", "", &name, err);
  if (s) return s;
  d->display_name = *name ? attn_strdup(name) : base_name(d->path);
  if (!d->display_name) return attn_error_set(err, ATTN_E_NOMEM, "%s: out of memory", d->path);
  d->architecture = find_architecture(d->config);
  return ATTN_OK;
}

static attn_status load_tensors(attn_model_dir *d, attn_error *err) {
  char *file = join_path(d->path, "model.safetensors");
  if (!file) return attn_error_set(err, ATTN_E_NOMEM, "%s: out of memory", d->path);
  d->tensors = attn_safetensors_open(file, err);
  free(file);
  return d->tensors ? ATTN_OK : err->code;
}

attn_model_dir *attn_model_dir_open(const char *path, attn_error *err) {
  attn_error local;
  if (!err) err = &local; /* the helpers read the failure's code back from it */
  if (!path) {
    attn_error_set(err, ATTN_E_ARG, "no model directory given");
    return NULL;
  }
  attn_model_dir *d = calloc(1, sizeof *d);
  if (!d || !(d->path = attn_strdup(path))) {
    free(d);
    attn_error_set(err, ATTN_E_NOMEM, "%s: out of memory", path);
    return NULL;
  }
  if (load_config(d, err) || load_names(d, err) || load_tensors(d, err)) {
    attn_model_dir_close(d);
    return NULL;
  }
  return d;
}

void attn_model_dir_close(attn_model_dir *dir) {
  if (!dir) return;
  attn_safetensors_close(dir->tensors);
  cJSON_Delete(dir->config);
  free(dir->display_name);
  free(dir->path);
  free(dir);
}

const char *attn_model_dir_path(const attn_model_dir *dir) { return dir->path; }
const cJSON *attn_model_dir_config(const attn_model_dir *dir) { return dir->config; }
const attn_safetensors *attn_model_dir_tensors(const attn_model_dir *dir) { return dir->tensors; }
const char *attn_model_dir_architecture(const attn_model_dir *dir) { return dir->architecture; }
const char *attn_model_dir_display_name(const attn_model_dir *dir) { return dir->display_name; }

/* ---- tensors ---- */

attn_status attn_model_dir_check(const attn_model_dir *dir, const attn_tensor_spec *specs, int n,
                                 attn_error *err) {
  attn_error local;
  if (!err) err = &local; /* the code of the failure is read back from it */
  for (int i = 0; i < n; i++) {
    const attn_tensor_spec *s = &specs[i];
    if (!attn_safetensors_expect(dir->tensors, s->name, s->ndim, s->shape, err)) return err->code;
  }
  return ATTN_OK;
}

float *attn_model_dir_load(const attn_model_dir *dir, const attn_tensor_spec *spec,
                           attn_error *err) {
  return attn_safetensors_load_f32(dir->tensors, spec->name, spec->ndim, spec->shape, 0, err);
}

attn_status attn_model_dir_load_into(const attn_model_dir *dir, const attn_tensor_spec *spec,
                                     float *dst, size_t dst_count, attn_error *err) {
  return attn_safetensors_load_f32_into(dir->tensors, spec->name, spec->ndim, spec->shape, 0,
                                        dst, dst_count, err);
}

static size_t spec_count(const attn_tensor_spec *s) {
  size_t count = 1;
  for (int k = 0; k < s->ndim; k++) count *= (size_t)s->shape[k];
  return count;
}

attn_status attn_model_dir_load_all(const attn_model_dir *dir, const attn_tensor_spec *specs, float **const *dst,
                                    int n, float **data, attn_error *err) {
  attn_status st = attn_model_dir_check(dir, specs, n, err);
  if (st != ATTN_OK) return st;
  size_t total = 0; /* every shape matched a tensor in the file: bounded by its size */
  for (int i = 0; i < n; i++) total += spec_count(&specs[i]);
  *data = malloc(total * sizeof(float));
  if (!*data) return attn_error_set(err, ATTN_E_NOMEM, "out of memory for %zu weights", total);
  float *at = *data;
  for (int i = 0; i < n && st == ATTN_OK; i++) {
    st = attn_model_dir_load_into(dir, &specs[i], at, spec_count(&specs[i]), err);
    *dst[i] = at;
    at += spec_count(&specs[i]);
  }
  return st;
}

/* ---- inspect ---- */

/* Names come from the file: control characters could drive the terminal, so they are
 * shown as '?' (attn_make_printable, as everywhere file text meets a terminal). */
static void put_clean(FILE *out, const char *s, size_t width) {
  char *shown = attn_strdup(s);
  if (!shown) return;
  attn_make_printable(shown);
  fputs(shown, out);
  for (size_t n = attn_utf8_length(shown, strlen(shown)); n < width; n++) fputc(' ', out);
  free(shown);
}

static void print_tensor(FILE *out, const attn_tensor_info *t, size_t name_w, size_t shape_w) {
  char shape[200];
  const char *kind = "";
  attn_shape_format(shape, sizeof shape, t->ndim, t->shape);
  fputs("  ", out);
  put_clean(out, t->name, name_w);
  fprintf(out, "  %-7s  %-*s  ", attn_dtype_name(t->dtype), (int)shape_w, shape);
  int64_t bad = attn_tensor_first_nonfinite(t, &kind);
  if (bad < 0) fputs("finite\n", out);
  else fprintf(out, "%s at index %" PRId64 "\n", kind, bad);
}

/* "X.scale" beside an I8 tensor X (attn_safetensors.h) */
static int is_int8_scale(const attn_safetensors *st, const attn_tensor_info *t) {
  size_t n = strlen(t->name), k = strlen(ATTN_SAFETENSORS_SCALE_SUFFIX);
  if (n <= k || strcmp(t->name + n - k, ATTN_SAFETENSORS_SCALE_SUFFIX) != 0 || n - k >= 512) return 0;
  char base[512];
  memcpy(base, t->name, n - k);
  base[n - k] = '\0';
  const attn_tensor_info *q = attn_safetensors_find(st, base);
  return q && q->dtype == ATTN_DTYPE_I8;
}

static void print_tensors(const attn_safetensors *st, FILE *out) {
  int n = attn_safetensors_count(st);
  int64_t params = 0;
  size_t name_w = 0, shape_w = 0;
  for (int i = 0; i < n; i++) {
    const attn_tensor_info *t = attn_safetensors_tensor(st, i);
    char shape[200];
    attn_shape_format(shape, sizeof shape, t->ndim, t->shape);
    size_t w = attn_utf8_length(t->name, strlen(t->name));
    name_w = w > name_w && w <= 60 ? w : name_w; /* one odd long name must not widen all */
    shape_w = strlen(shape) > shape_w ? strlen(shape) : shape_w;
    params += is_int8_scale(st, t) ? 0 : t->numel; /* an int8 matrix's row scales are not parameters */
  }
  fprintf(out, "file: %s\ntensors: %d\nparameters: %" PRId64 "\n", attn_safetensors_name(st), n,
          params);
  for (int i = 0; i < n; i++) print_tensor(out, attn_safetensors_tensor(st, i), name_w, shape_w);
  uint64_t unused = attn_safetensors_unused_bytes(st);
  if (unused)
    fprintf(out, "warning: %" PRIu64 " bytes of the data are not used by any tensor\n", unused);
}

static attn_status inspect_dir(const char *path, FILE *out, attn_error *err) {
  attn_model_dir *d = attn_model_dir_open(path, err);
  if (!d) return err->code;
  const char *arch = attn_model_dir_architecture(d);
  fprintf(out, "model directory: %s\narchitecture: ", path);
  put_clean(out, arch ? arch : "(not given)", 0);
  fputs("\ndisplay name: ", out);
  put_clean(out, attn_model_dir_display_name(d), 0);
  fputc('\n', out);
  print_tensors(d->tensors, out);
  attn_model_dir_close(d);
  return ATTN_OK;
}

attn_status attn_model_inspect(const char *path, FILE *out, attn_error *err) {
  attn_error local;
  struct stat sb;
  if (!err) err = &local; /* the code of the failure is read back from it */
  if (!path || !out) return attn_error_set(err, ATTN_E_ARG, "inspect: no path or no output");
  if (stat(path, &sb) != 0) return attn_error_set(err, ATTN_E_IO, "%s: %s", path, strerror(errno));
  if (S_ISDIR(sb.st_mode)) return inspect_dir(path, out, err);
  attn_safetensors *st = attn_safetensors_open(path, err);
  if (!st) return err->code;
  print_tensors(st, out);
  attn_safetensors_close(st);
  return ATTN_OK;
}
