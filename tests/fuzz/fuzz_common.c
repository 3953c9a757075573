/* Fixture model copies for the fuzz harnesses (see fuzz_common.h). */
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const names[FUZZ_KINDS] = {"transformer-tiny", "rnn-tiny", "memn2n-tiny",
                                              "attentive-reader-tiny", "caption-tiny"};
static const char *const files[] = {"config.json", "model.safetensors", "source.spm", "vocab.txt"};

static const char *scratch_root(void) {
  static char root[256];
  if (!root[0]) {
    struct stat st;
    const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
    snprintf(root, sizeof root, "%s/attnlens-fuzz-%ld", base, (long)getpid());
    mkdir(root, 0700);
  }
  return root;
}

const char *fuzz_scratch_path(const char *name) {
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", scratch_root(), name);
  return path;
}

const char *fuzz_fixture(int kind) {
  static char paths[FUZZ_KINDS][512];
  if (!paths[kind][0]) snprintf(paths[kind], sizeof paths[kind], "%s/%s", ATTN_FIXTURES_DIR, names[kind]);
  return paths[kind];
}

void fuzz_write(const char *dir, const char *name, const void *data, size_t size) {
  char path[768];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
    fprintf(stderr, "fuzz: cannot write %s\n", path);
    abort();
  }
}

static void copy_file(const char *from_dir, const char *to_dir, const char *name) {
  char path[768];
  snprintf(path, sizeof path, "%s/%s", from_dir, name);
  FILE *f = fopen(path, "rb");
  if (!f) return; /* not every kind has every file */
  static char buf[1 << 20];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  fuzz_write(to_dir, name, buf, n);
}

const char *fuzz_model_copy(int kind) {
  static char dirs[FUZZ_KINDS][512];
  if (!dirs[kind][0]) {
    snprintf(dirs[kind], sizeof dirs[kind], "%s/%s", scratch_root(), names[kind]);
    mkdir(dirs[kind], 0700);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) copy_file(fuzz_fixture(kind), dirs[kind], files[i]);
  }
  return dirs[kind];
}
