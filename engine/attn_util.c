/* Checked arithmetic, UTF-8 validation, whole-file I/O and output files that appear whole. */
#define _GNU_SOURCE /* O_TMPFILE */
#include "attn_util.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
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
static int open_regular(const char *path, attn_error *err) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  if (fd < 0) {
    attn_error_set(err, ATTN_E_IO, "%s: %s", path, strerror(errno));
    return -1;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    attn_error_set(err, ATTN_E_IO, "%s: not a regular file", path);
    close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

/* Reads fd to its end into buf (grown as needed, at most max_bytes). The size stat gave is
 * only a first guess: the file may change while it is read. */
static char *read_to_end(int fd, const char *path, size_t max_bytes, size_t *len, attn_error *err) {
  struct stat st;
  size_t cap = fstat(fd, &st) == 0 && st.st_size > 0 && (uint64_t)st.st_size <= max_bytes
                   ? (size_t)st.st_size + 1 : 4096;
  char *buf = malloc(cap + 1);
  *len = 0;
  while (buf) {
    if (*len == cap) {
      size_t grown_cap = cap > max_bytes / 2 ? max_bytes + 1 : cap * 2;
      char *grown = grown_cap > cap ? realloc(buf, grown_cap + 1) : NULL;
      if (!grown) break;
      buf = grown, cap = grown_cap;
    }
    ssize_t got = read(fd, buf + *len, cap - *len);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      attn_error_set(err, ATTN_E_IO, "%s: read failed: %s", path, strerror(errno));
      free(buf);
      return NULL;
    }
    if (got == 0) {
      buf[*len] = '\0';
      return buf;
    }
    *len += (size_t)got;
    if (*len > max_bytes) {
      attn_error_set(err, ATTN_E_IO, "%s: the file is more than the limit of %zu bytes", path, max_bytes);
      free(buf);
      return NULL;
    }
  }
  free(buf);
  attn_error_set(err, ATTN_E_NOMEM, "%s: cannot allocate %zu bytes", path, cap);
  return NULL;
}

char *attn_read_file(const char *path, size_t max_bytes, size_t *len_out, attn_error *err) {
  int fd = open_regular(path, err);
  if (fd < 0) return NULL;
  struct stat st;
  if (fstat(fd, &st) == 0 && (uint64_t)st.st_size > max_bytes) {
    attn_error_set(err, ATTN_E_IO, "%s: file is %lld bytes, more than the limit of %zu", path,
                   (long long)st.st_size, max_bytes);
    close(fd);
    return NULL;
  }
  size_t len = 0;
  char *buf = read_to_end(fd, path, max_bytes, &len, err);
  close(fd);
  if (buf && len_out) *len_out = len;
  return buf;
}

attn_status attn_check_no_nul(const char *s, size_t len, const char *what, attn_error *err) {
  const char *nul = memchr(s, '\0', len);
  if (!nul) return ATTN_OK;
  return attn_error_set(err, ATTN_E_VALUE, "%s: byte %zu is a NUL byte: this is not text", what,
                        (size_t)(nul - s) + 1);
}

char *attn_read_text_file(const char *path, size_t max_bytes, size_t *len_out, attn_error *err) {
  size_t len = 0;
  char *text = attn_read_file(path, max_bytes, &len, err);
  if (text && attn_check_no_nul(text, len, path, err) != ATTN_OK) {
    free(text);
    return NULL;
  }
  if (text && len_out) *len_out = len;
  return text;
}

/* ---- text for a terminal ---- */

/* Bytes of the printable character at s, or 0 where '?' must stand for one byte. */
static size_t printable_len(const unsigned char *s) {
  if (*s >= 0x20 && *s < 0x7f) return 1;
  int n = utf8_seq_len(*s);
  if (n < 2) return 0;
  for (int k = 1; k < n; k++)
    if (s[k] == '\0') return 0;
  if (!attn_utf8_valid((const char *)s, (size_t)n)) return 0;
  if (s[0] == 0xC2 && s[1] < 0xA0) return 0; /* C1 controls U+0080..U+009F (CSI, OSC, ...) */
  return (size_t)n;
}

void attn_make_printable(char *str) {
  unsigned char *s = (unsigned char *)str, *d = s;
  while (*s) {
    size_t n = printable_len(s);
    if (n == 0) { /* a C1 control is two bytes; anything else unprintable, one */
      s += s[0] == 0xC2 && s[1] >= 0x80 && s[1] < 0xA0 ? 2 : 1;
      *d++ = '?';
      continue;
    }
    memmove(d, s, n);
    d += n, s += n;
  }
  *d = '\0';
}

int attn_fput_printable(const char *s, FILE *out) {
  char *copy = attn_strdup(s ? s : "");
  if (!copy) return EOF;
  attn_make_printable(copy);
  int rc = fputs(copy, out);
  free(copy);
  return rc;
}

/* ---- output files that appear whole ---- */

/* The directory part of path ("." for a bare name); malloc'd. */
static char *dir_of(const char *path) {
  const char *base = attn_path_base(path);
  size_t n = (size_t)(base - path);
  if (n == 0) return attn_strdup(".");
  if (n > 1) n--; /* without the '/' before the base, unless it is the root */
  char *d = malloc(n + 1);
  if (d) memcpy(d, path, n), d[n] = '\0';
  return d;
}

/* Removes "BASE.tmp-PID" files next to path whose process no longer runs. */
static void remove_stale(const char *path) {
  char *dir = dir_of(path);
  DIR *dh = dir ? opendir(dir) : NULL;
  const char *base = attn_path_base(path);
  size_t bl = strlen(base);
  for (struct dirent *e; dh && (e = readdir(dh));) {
    char *end = NULL;
    if (strncmp(e->d_name, base, bl) != 0 || strncmp(e->d_name + bl, ".tmp-", 5) != 0) continue;
    long pid = strtol(e->d_name + bl + 5, &end, 10);
    if (pid <= 0 || *end || pid == (long)getpid()) continue;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* still running */
    size_t n = strlen(dir) + strlen(e->d_name) + 2;
    char *stale = malloc(n);
    if (stale) snprintf(stale, n, "%s/%s", dir, e->d_name), unlink(stale);
    free(stale);
  }
  if (dh) closedir(dh);
  free(dir);
}

static char *named_temp(const char *path) {
  size_t n = strlen(path) + 32;
  char *tmp = malloc(n);
  if (tmp) snprintf(tmp, n, "%s.tmp-%ld", path, (long)getpid());
  return tmp;
}

attn_status attn_out_open(attn_out_file *f, const char *path, attn_error *err) {
  *f = (attn_out_file){.fd = -1, .path = attn_strdup(path)};
  char *dir = dir_of(path);
  if (!f->path || !dir) {
    free(dir);
    attn_out_abort(f);
    return attn_error_set(err, ATTN_E_NOMEM, "%s: out of memory", path);
  }
  remove_stale(path);
  errno = EOPNOTSUPP;
#ifdef O_TMPFILE
  f->fd = open(dir, O_RDWR | O_TMPFILE | O_CLOEXEC, 0644);
#endif
  int saved = errno;
  if (f->fd < 0 && saved != ENOENT && saved != EACCES && saved != EROFS && saved != ENOTDIR) {
    f->tmp = named_temp(path); /* the file system has no anonymous files */
    f->fd = f->tmp ? open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
    saved = errno;
  }
  if (f->fd < 0) {
    attn_error_set(err, ATTN_E_IO, "%s: cannot create the file in %s: %s", path, dir, strerror(saved));
    attn_out_abort(f);
  }
  free(dir);
  return f->fd < 0 ? ATTN_E_IO : ATTN_OK;
}

int attn_out_write(attn_out_file *f, const void *data, size_t len) {
  const char *p = data;
  while (len > 0 && !f->error) {
    ssize_t w = write(f->fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) f->error = w < 0 ? errno : EIO;
    else p += w, len -= (size_t)w;
  }
  return f->error ? -1 : 0;
}

void attn_out_abort(attn_out_file *f) {
  if (f->fd >= 0) close(f->fd);
  if (f->tmp) unlink(f->tmp);
  free(f->tmp);
  free(f->path);
  *f = (attn_out_file){.fd = -1};
}

/* Copies the anonymous file into the named temporary (no /proc to link it through). */
static int copy_anonymous(attn_out_file *f) {
  int to = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (to < 0) return errno;
  attn_out_file named = {.fd = to};
  char buf[65536];
  ssize_t got;
  off_t at = 0;
  while ((got = pread(f->fd, buf, sizeof buf, at)) > 0 && attn_out_write(&named, buf, (size_t)got) == 0)
    at += got;
  int e = got < 0 ? errno : named.error;
  if (!e && fsync(to) != 0 && errno != EINVAL) e = errno;
  if (close(to) != 0 && !e) e = errno;
  return e;
}

/* Gives the anonymous file the name "PATH.tmp-PID", which the rename then replaces. */
static int link_anonymous(attn_out_file *f) {
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", f->fd);
  f->tmp = named_temp(f->path);
  if (!f->tmp) return ENOMEM;
  unlink(f->tmp);
  if (linkat(AT_FDCWD, proc, AT_FDCWD, f->tmp, AT_SYMLINK_FOLLOW) == 0) return 0;
  return copy_anonymous(f);
}

attn_status attn_out_commit(attn_out_file *f, attn_error *err) {
  int e = f->error;
  if (!e && fsync(f->fd) != 0 && errno != EINVAL) e = errno;
  if (!e && !f->tmp) e = link_anonymous(f);
  if (!e && close(f->fd) != 0) e = errno;
  else if (e) close(f->fd);
  f->fd = -1;
  if (!e && rename(f->tmp, f->path) != 0) e = errno;
  attn_status st = ATTN_OK;
  if (e) st = attn_error_set(err, ATTN_E_IO, "%s: cannot write the file: %s", f->path, strerror(e));
  else free(f->tmp), f->tmp = NULL; /* renamed: nothing to remove */
  attn_out_abort(f);
  return st;
}

attn_status attn_write_file_atomic(const char *path, const void *data, size_t len,
                                   attn_error *err) {
  attn_out_file f;
  attn_status st = attn_out_open(&f, path, err);
  if (st != ATTN_OK) return st;
  attn_out_write(&f, data, len);
  return attn_out_commit(&f, err);
}
