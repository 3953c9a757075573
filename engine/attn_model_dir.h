/* A model directory in the Hugging Face layout: config.json (hyper-parameters, read with
 * range-checked getters), model.safetensors (checked against a table of expected tensors)
 * and tokenizer files; plus `inspect`, which validates and lists a directory or file.
 *
 * An attn_model_dir is immutable after it is opened: any number of threads may read it. */
#ifndef ATTN_MODEL_DIR_H
#define ATTN_MODEL_DIR_H

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdio.h>

#include "attn_error.h"
#include "attn_safetensors.h"

#define ATTN_CONFIG_MAX_BYTES (1024 * 1024)

/* One tensor a model needs. ndim dimensions; a shape entry of -1 accepts any size. */
typedef struct attn_tensor_spec {
  const char *name;
  int ndim;
  int64_t shape[ATTN_SAFETENSORS_MAX_DIMS];
} attn_tensor_spec;

typedef struct attn_model_dir attn_model_dir;

/* Reads path/config.json (a JSON object of at most 1 MB) and maps path/model.safetensors.
 * Returns NULL on failure. */
attn_model_dir *attn_model_dir_open(const char *path, attn_error *err);
void attn_model_dir_close(attn_model_dir *dir); /* NULL is fine */

/* The directory as given to open. */
const char *attn_model_dir_path(const attn_model_dir *dir);
/* The parsed config.json; owned by dir. Its root item's `string` holds the file's path,
 * which the attn_config_* getters quote in their messages. */
const cJSON *attn_model_dir_config(const attn_model_dir *dir);
/* The opened model.safetensors; owned by dir. */
const attn_safetensors *attn_model_dir_tensors(const attn_model_dir *dir);
/* config "architectures"[0], else "model_type", else "architecture"; NULL if none. */
const char *attn_model_dir_architecture(const attn_model_dir *dir);
/* config "attnlens"."display_name", else the directory's base name. */
const char *attn_model_dir_display_name(const attn_model_dir *dir);

/* The path of a file in the directory (a tokenizer model, vocab.txt, ...), malloc'd, for
 * the caller to free. filename must be a plain name (no '/', not "." or ".."), so that a
 * name taken from config.json cannot reach outside the directory. NULL with err set
 * (ATTN_E_ARG, or ATTN_E_MISSING when it is not a regular file there). */
char *attn_model_dir_file(const attn_model_dir *dir, const char *filename, attn_error *err);

/* Checks that every spec names a tensor with a loadable dtype (F32, F16, BF16) and the
 * expected rank and shape. Stops at the first problem. */
attn_status attn_model_dir_check(const attn_model_dir *dir, const attn_tensor_spec *specs, int n,
                                 attn_error *err);
/* The tensor as a malloc'd float32 array (caller frees); NaN and Inf are errors.
 * Returns NULL on failure. */
float *attn_model_dir_load(const attn_model_dir *dir, const attn_tensor_spec *spec,
                           attn_error *err);
/* The same into dst, which holds dst_count floats (must equal the tensor's size). */
attn_status attn_model_dir_load_into(const attn_model_dir *dir, const attn_tensor_spec *spec,
                                     float *dst, size_t dst_count, attn_error *err);
/* A model's weights in one go: checks every spec (attn_model_dir_check) before allocating
 * anything, since a config could claim any size, then carves the tensors (fixed shapes, no
 * -1) out of one malloc'd block, *data (the caller frees it, also on failure), loads them as
 * F32 and points *dst[i] at tensor i. */
attn_status attn_model_dir_load_all(const attn_model_dir *dir, const attn_tensor_spec *specs, float **const *dst,
                                    int n, float **data, attn_error *err);

/* Config getters. key may be a dotted path into nested objects ("attnlens.task"). A key
 * that is absent or null gives dflt; pass the REQUIRED value as dflt to make it an error
 * (ATTN_E_MISSING). A value of the wrong type is ATTN_E_FORMAT, one out of [lo, hi] is
 * ATTN_E_VALUE; messages name the file and the key. *out is written only on success. */
#define ATTN_CONFIG_REQUIRED_INT INT_MIN
#define ATTN_CONFIG_REQUIRED_BOOL (-1)
/* For floats the required marker is NAN; for strings it is NULL. */
attn_status attn_config_int(const cJSON *cfg, const char *key, int dflt, int lo, int hi, int *out,
                            attn_error *err);
attn_status attn_config_float(const cJSON *cfg, const char *key, float dflt, float lo, float hi,
                              float *out, attn_error *err);
/* *out points into cfg (or is dflt). */
attn_status attn_config_string(const cJSON *cfg, const char *key, const char *dflt,
                               const char **out, attn_error *err);
/* dflt is 0, 1 or ATTN_CONFIG_REQUIRED_BOOL; *out becomes 0 or 1. */
attn_status attn_config_bool(const cJSON *cfg, const char *key, int dflt, int *out,
                             attn_error *err);

/* Validates path (a model directory or a .safetensors file) and prints a report to out:
 * for a directory its architecture, display name, tensor count, parameter count, then
 * one line per tensor (name, dtype, shape, finite or where the first NaN/Inf is); for a
 * file the tensors only. Non-finite values are reported, not errors. Returns ATTN_OK, or
 * the error that made path invalid (nothing is printed then). */
attn_status attn_model_inspect(const char *path, FILE *out, attn_error *err);

#endif
