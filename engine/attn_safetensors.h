/* Reader for .safetensors files: validates the whole header against the file before any
 * tensor is touched, then hands out tensor views and float32 copies.
 *
 * An attn_safetensors is immutable after it is opened: any number of threads may query
 * and load from it at once. Every function taking an attn_error fills it on failure and
 * names the file, the tensor (where there is one) and what is wrong. */
#ifndef ATTN_SAFETENSORS_H
#define ATTN_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "attn_error.h"

#define ATTN_SAFETENSORS_MAX_DIMS 8
/* Limits on what a header may declare; larger values are rejected as corrupt. */
#define ATTN_SAFETENSORS_MAX_HEADER (100u * 1000u * 1000u) /* bytes */
#define ATTN_SAFETENSORS_MAX_DIM ((int64_t)1 << 40)
/* Largest file attn_safetensors_open reads (it reads the file into memory). */
#define ATTN_SAFETENSORS_MAX_FILE ((size_t)2 << 30)

typedef enum attn_dtype {
  ATTN_DTYPE_F32, /* the three float types can be loaded as float32 */
  ATTN_DTYPE_F16,
  ATTN_DTYPE_BF16,
  ATTN_DTYPE_F64, /* the rest are recognised (listed by inspect) but not loadable */
  ATTN_DTYPE_F8_E4M3,
  ATTN_DTYPE_F8_E5M2,
  ATTN_DTYPE_I64,
  ATTN_DTYPE_I32,
  ATTN_DTYPE_I16,
  ATTN_DTYPE_I8,
  ATTN_DTYPE_U64,
  ATTN_DTYPE_U32,
  ATTN_DTYPE_U16,
  ATTN_DTYPE_U8,
  ATTN_DTYPE_BOOL
} attn_dtype;

/* The name used in safetensors headers ("F32", "BF16", ...). */
const char *attn_dtype_name(attn_dtype dtype);
/* Bytes per element. */
size_t attn_dtype_size(attn_dtype dtype);
/* 1 for F32, F16 and BF16, else 0. attn_safetensors_load_f32 also loads an I8 tensor X of
 * rank >= 1 that comes with a float tensor "X.scale" of shape [rows]: X[r, ...] * scale[r]
 * (per-row symmetric int8, how the general translation models are stored). */
#define ATTN_SAFETENSORS_SCALE_SUFFIX ".scale"
/* (see above) */
int attn_dtype_loadable(attn_dtype dtype);

/* Exact conversions (subnormals, infinities and NaN payloads kept). */
float attn_f16_to_f32(uint16_t h);
float attn_bf16_to_f32(uint16_t b);

/* Writes a shape as "[3, 4]" ("[]" for a scalar, "*" for an entry of -1), truncated to
 * fit size bytes. */
void attn_shape_format(char *buf, size_t size, int ndim, const int64_t *shape);

/* A view of one tensor; valid until the file is closed. */
typedef struct attn_tensor_info {
  const char *name;
  attn_dtype dtype;
  int ndim;                                  /* 0 for a scalar */
  int64_t shape[ATTN_SAFETENSORS_MAX_DIMS]; /* entries past ndim are 0 */
  int64_t numel;                             /* 1 for a scalar; may be 0 */
  size_t nbytes;                             /* numel * attn_dtype_size(dtype) */
  const void *data; /* raw little-endian bytes; NOT aligned, read with memcpy */
} attn_tensor_info;

typedef struct attn_safetensors attn_safetensors;

/* Reads path into memory (at most ATTN_SAFETENSORS_MAX_FILE bytes) and validates it, so
 * later changes to the file cannot affect it. Returns NULL on failure. */
attn_safetensors *attn_safetensors_open(const char *path, attn_error *err);
/* The same on bytes in memory, which are not copied and must outlive the result.
 * name stands for the file in messages. Returns NULL on failure. */
attn_safetensors *attn_safetensors_from_memory(const void *data, size_t size, const char *name,
                                               attn_error *err);
void attn_safetensors_close(attn_safetensors *st); /* NULL is fine */

/* The path (or name) given when opening, as used in messages. */
const char *attn_safetensors_name(const attn_safetensors *st);

/* Tensors are indexed 0..count-1 in name order (strcmp). */
int attn_safetensors_count(const attn_safetensors *st);
/* NULL when index is out of range. */
const attn_tensor_info *attn_safetensors_tensor(const attn_safetensors *st, int index);
/* NULL when there is no tensor of that name. */
const attn_tensor_info *attn_safetensors_find(const attn_safetensors *st, const char *name);

/* The "__metadata__" string for key, or NULL. */
const char *attn_safetensors_metadata(const attn_safetensors *st, const char *key);
int attn_safetensors_metadata_count(const attn_safetensors *st);
/* Key and value of metadata entry index (in header order); -1 when out of range. */
int attn_safetensors_metadata_at(const attn_safetensors *st, int index, const char **key,
                                 const char **value);

/* Bytes of the data buffer no tensor covers (gaps and trailing bytes). A valid file may
 * have some; a large number hints at a file written by a buggy exporter. */
uint64_t attn_safetensors_unused_bytes(const attn_safetensors *st);

/* Index of the first NaN or infinity in t, or -1 when every value is finite (always -1
 * for integer and bool dtypes). When one is found and kind is not NULL, *kind is set to
 * "NaN", "Inf" or "-Inf". */
int64_t attn_tensor_first_nonfinite(const attn_tensor_info *t, const char **kind);

/* Finds name and checks it: a loadable dtype, ndim dimensions (ndim < 0: any rank) and
 * expected_shape (NULL: any shape; an entry of -1 matches any size). Returns the tensor,
 * or NULL with err set (ATTN_E_MISSING, ATTN_E_FORMAT for the dtype, ATTN_E_SHAPE). */
const attn_tensor_info *attn_safetensors_expect(const attn_safetensors *st, const char *name,
                                                int ndim, const int64_t *expected_shape,
                                                attn_error *err);

/* Checks like attn_safetensors_expect, then converts the tensor to float32 into dst,
 * which holds dst_count floats (must equal numel). With allow_nonfinite == 0 a NaN or
 * infinity is an error (ATTN_E_VALUE) and dst's contents are then unspecified. */
attn_status attn_safetensors_load_f32_into(const attn_safetensors *st, const char *name,
                                           int ndim, const int64_t *expected_shape,
                                           int allow_nonfinite, float *dst, size_t dst_count,
                                           attn_error *err);

/* The same into a new malloc'd array the caller frees (never NULL on success, even for
 * an empty tensor). Returns NULL on failure. */
float *attn_safetensors_load_f32(const attn_safetensors *st, const char *name, int ndim,
                                 const int64_t *expected_shape, int allow_nonfinite,
                                 attn_error *err);

#endif
