/*
 * One directory member's stats as Node.js's lstat gives them, for memberListing.c: statx relative
 * to the open directory (fstatat where statx proves missing, as libuv does), the numbers computed
 * as Node.js computes them, and names that are not UTF-8 left to the caller's careful path.
 * Header-only (static functions), included by memberListing.c alone.
 */
#ifndef KEEPDAV_MEMBER_STAT_H
#define KEEPDAV_MEMBER_STAT_H
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

/** Numbers per member: the kind (1 a plain file, 2 a directory, 0 anything else), size, mtimeMs, ctimeMs, birthtimeMs, ino, dev. */
#define FIELDS 7

static double milliseconds(long long sec, unsigned int nsec) {
  return (double)sec * 1e3 + (double)nsec / 1e6;
}

/** Well-formed UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF), as V8 decodes it without replacing anything. */
static bool isUtf8(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) { i++; continue; }
    size_t extra;
    unsigned int lowest;
    if (c >= 0xC2 && c <= 0xDF) { extra = 1; lowest = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { extra = 2; lowest = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { extra = 3; lowest = 0x10000; }
    else return false;
    if (n - i <= extra) return false;
    unsigned int code = c & (0x3F >> extra);
    for (size_t k = 1; k <= extra; k++) {
      unsigned char next = s[i + k];
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    if (code < lowest || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

/** Set once statx proves missing here (old kernels, some seccomp filters): then fstatat, as libuv does. */
static _Atomic int noStatx;

/** Fills `member` (FIELDS numbers) for `name` in the directory `dirFd`, as Node.js's lstat would. */
static void statMember(int dirFd, const char *name, size_t length, double *member) {
  memset(member, 0, FIELDS * sizeof *member);
  if (length == 0 || length > NAME_MAX || strlen(name) != length || !isUtf8((const unsigned char *)name, length)) return;
  if (!atomic_load_explicit(&noStatx, memory_order_relaxed)) {
    struct statx found;
    // libuv's lstat: the same flags and the same fields.
    if (statx(dirFd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME, &found) == 0) {
      member[0] = S_ISREG(found.stx_mode) ? 1 : S_ISDIR(found.stx_mode) ? 2 : 0;
      if (member[0] == 0) return;
      member[1] = (double)found.stx_size;
      member[2] = milliseconds(found.stx_mtime.tv_sec, found.stx_mtime.tv_nsec);
      member[3] = milliseconds(found.stx_ctime.tv_sec, found.stx_ctime.tv_nsec);
      member[4] = milliseconds(found.stx_btime.tv_sec, found.stx_btime.tv_nsec);
      member[5] = (double)found.stx_ino;
      member[6] = (double)makedev(found.stx_dev_major, found.stx_dev_minor);
      return;
    }
    // The errors for which libuv, too, decides statx is missing and uses lstat from then on.
    if (errno != EINVAL && errno != EPERM && errno != ENOSYS && errno != EOPNOTSUPP) return;
    atomic_store_explicit(&noStatx, 1, memory_order_relaxed);
  }
  struct stat found;
  if (fstatat(dirFd, name, &found, AT_SYMLINK_NOFOLLOW) != 0) return;
  member[0] = S_ISREG(found.st_mode) ? 1 : S_ISDIR(found.st_mode) ? 2 : 0;
  if (member[0] == 0) return;
  member[1] = (double)found.st_size;
  member[2] = milliseconds(found.st_mtim.tv_sec, found.st_mtim.tv_nsec);
  member[3] = milliseconds(found.st_ctim.tv_sec, found.st_ctim.tv_nsec);
  member[4] = member[3]; // libuv's lstat without statx: the birth time is the change time
  member[5] = (double)found.st_ino;
  member[6] = (double)found.st_dev;
}

#endif
