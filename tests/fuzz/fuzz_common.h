/* What the model-level fuzz harnesses share: the fixture models, copied once into a scratch
 * directory whose files a harness may overwrite with its input. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>

/* The kinds of tiny fixture model (tests/fixtures/<name>-tiny). */
enum { FUZZ_TRANSFORMER, FUZZ_RNN, FUZZ_MEMN2N, FUZZ_READER, FUZZ_CAPTION, FUZZ_KINDS };

/* A scratch copy of the fixture model of that kind (made on the first call, reused). */
const char *fuzz_model_copy(int kind);
/* The fixture model itself, read-only. */
const char *fuzz_fixture(int kind);
/* Writes data to dir/name; aborts when it cannot. */
void fuzz_write(const char *dir, const char *name, const void *data, size_t size);
/* A scratch file path for this process (in /dev/shm when there is one). */
const char *fuzz_scratch_path(const char *name);

#endif
