/* Checked arithmetic, UTF-8 validation and whole-file I/O for the engine. */
#include "attn_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool attn_mul_overflow_u64(uint64_t a, uint64_t b, uint64_t *out) {
  if (a != 0 && b > UINT64_MAX / a) return false;
  *out = a * b;
  return true;
}

float *attn_alloc_floats(size_t n, int *ok) {
  float *p = calloc(n ? n : 1, sizeof(float));
  if (!p) *ok = 0;
  return p;
}

attn_status attn_check_ids(const int32_t *ids, int n, int vocab, const char *what, attn_error *err) {
  for (int i = 0; i < n; i++)
    if (ids[i] < 0 || ids[i] >= vocab)
      return attn_error_set(err, ATTN_E_VALUE, "%s id %d is outside the vocabulary", what, ids[i]);
  return ATTN_OK;
}

const char *attn_path_base(const char *path) {
  const char *end = path + strlen(path);
  while (end > path + 1 && end[-1] == '/') end--;
  const char *b = end;
  while (b > path && b[-1] != '/') b--;
  return b;
}

char *attn_strdup(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

/* Length of the sequence starting with lead byte c, or 0 if c cannot start one. */
static int utf8_seq_len(unsigned char c) {
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return 2;
  if (c >= 0xE0 && c <= 0xEF) return 3;
  if (c >= 0xF0 && c <= 0xF4) return 4;
  return 0;
}

bool attn_utf8_valid(const char *str, size_t len) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;
  while (i < len) {
    int n = utf8_seq_len(s[i]);
    if (n == 0 || i + (size_t)n > len) return false;
    for (int k = 1; k < n; k++)
      if ((s[i + k] & 0xC0) != 0x80) return false;
    if (n == 3 && s[i] == 0xE0 && s[i + 1] < 0xA0) return false; /* overlong */
    if (n == 3 && s[i] == 0xED && s[i + 1] >= 0xA0) return false; /* surrogate */
    if (n == 4 && s[i] == 0xF0 && s[i + 1] < 0x90) return false; /* overlong */
    if (n == 4 && s[i] == 0xF4 && s[i + 1] >= 0x90) return false; /* > U+10FFFF */
    i += (size_t)n;
  }
  return true;
}

size_t attn_utf8_length(const char *s, size_t len) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80) n++;
  return n;
}

/* Opens without blocking (a FIFO must not hang us), then insists on a regular file. */
static FILE *open_regular(const char *path, struct stat *st, attn_error *err) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    attn_error_set(err, ATTN_E_IO, "%s: %s", path, strerror(errno));
    return NULL;
  }
  if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
    attn_error_set(err, ATTN_E_IO, "%s: not a regular file", path);
    close(fd);
    return NULL;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  FILE *f = fdopen(fd, "rb");
  if (!f) {
    attn_error_set(err, ATTN_E_IO, "%s: %s", path, strerror(errno));
    close(fd);
  }
  return f;
}

char *attn_read_file(const char *path, size_t max_bytes, size_t *len_out, attn_error *err) {
  struct stat st;
  FILE *f = open_regular(path, &st, err);
  if (!f) return NULL;
  if ((uint64_t)st.st_size > max_bytes) {
    attn_error_set(err, ATTN_E_IO, "%s: file is %lld bytes, more than the limit of %zu", path,
                   (long long)st.st_size, max_bytes);
    fclose(f);
    return NULL;
  }
  size_t size = (size_t)st.st_size;
  char *buf = malloc(size + 1);
  if (!buf) {
    attn_error_set(err, ATTN_E_NOMEM, "%s: cannot allocate %zu bytes", path, size);
    fclose(f);
    return NULL;
  }
  size_t got = fread(buf, 1, size, f);
  fclose(f);
  if (got != size) {
    attn_error_set(err, ATTN_E_IO, "%s: short read (%zu of %zu bytes)", path, got, size);
    free(buf);
    return NULL;
  }
  buf[size] = '\0';
  if (len_out) *len_out = size;
  return buf;
}

char *attn_temp_path_for(const char *path) {
  size_t n = strlen(path) + 32;
  char *tmp = malloc(n);
  if (tmp) snprintf(tmp, n, "%s.tmp-%ld", path, (long)getpid());
  return tmp;
}

attn_status attn_commit_temp(const char *tmp, const char *path, attn_error *err) {
  if (rename(tmp, path) != 0) {
    attn_error_set(err, ATTN_E_IO, "%s: cannot rename temporary file: %s", path, strerror(errno));
    unlink(tmp);
    return ATTN_E_IO;
  }
  return ATTN_OK;
}

attn_status attn_write_file_atomic(const char *path, const void *data, size_t len,
                                   attn_error *err) {
  char *tmp = attn_temp_path_for(path);
  if (!tmp) return attn_error_set(err, ATTN_E_NOMEM, "%s: out of memory", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    attn_error_set(err, ATTN_E_IO, "%s: %s", path, strerror(errno));
    free(tmp);
    return ATTN_E_IO;
  }
  const char *p = data;
  size_t left = len;
  while (left > 0) {
    ssize_t w = write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    p += w;
    left -= (size_t)w;
  }
  int ok = left == 0 && fsync(fd) == 0;
  int saved = errno;
  ok = (close(fd) == 0) && ok;
  if (!ok) {
    attn_error_set(err, ATTN_E_IO, "%s: write failed: %s", path, strerror(saved ? saved : EIO));
    unlink(tmp);
    free(tmp);
    return ATTN_E_IO;
  }
  attn_status st = attn_commit_temp(tmp, path, err);
  free(tmp);
  return st;
}
