/*
 * inotify for the listing cache (src/storage/listingCache.ts says why and how it is used): one
 * inotify instance, a watch per cached directory, and the events drained without blocking, on the
 * main thread, before a cached listing is trusted. A change to a directory's members is queued by
 * the kernel inside the system call that makes it (fsnotify), so whatever a client changed before
 * it sent its request is in the queue when the request is served.
 *
 *   open(): number                       the instance's descriptor, or -errno
 *   watch(fd, dir: string): number       the watch descriptor, or -errno; -EXDEV where the
 *                                        filesystem is not a local one inotify sees every change of
 *   unwatch(fd, wd): number              0 or -errno
 *   drain(fd): Int32Array | null         [wd, mask, wd, mask, ...] of the events queued; null when
 *                                        none (a queue overflow is wd -1, mask IN_Q_OVERFLOW)
 *
 * Node-API: one build serves Node.js 20 and 24.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include "napiArguments.h"
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/vfs.h>
#include <unistd.h>

/**
 * What changes a directory's listing: a member made, removed, renamed, written, truncated, its
 * attributes or link count changed; the directory itself removed or renamed.
 */
#define WATCHED (IN_MODIFY | IN_ATTRIB | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

/**
 * Filesystems whose every change passes through this kernel, so inotify sees it: not NFS, SMB,
 * FUSE or an overlay (whose lower layers change unseen), whose changes made elsewhere never queue
 * an event here.
 */
static int isLocalFilesystem(const char *dir) {
  struct statfs fs;
  if (statfs(dir, &fs) != 0) return 0;
  switch ((uint32_t)fs.f_type) {
    case 0xEF53u:     /* ext2, ext3, ext4 */
    case 0x58465342u: /* xfs */
    case 0x9123683Eu: /* btrfs */
    case 0x01021994u: /* tmpfs */
    case 0xF2F52010u: /* f2fs */
    case 0x2FC12FC1u: /* zfs */
    case 0xCA451A4Eu: /* bcachefs */
      return 1;
    default:
      return 0;
  }
}

/** Whether `value` is a number, set into `out` as an int32. */
static int int32Of(napi_env env, napi_value value, int32_t *out) {
  return napi_get_value_int32(env, value, out) == napi_ok;
}

static napi_value int32Value(napi_env env, int32_t n) {
  napi_value result;
  napi_create_int32(env, n, &result);
  return result;
}

static napi_value Open(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  return int32Value(env, fd < 0 ? -errno : fd);
}

static napi_value Watch(napi_env env, napi_callback_info info) {
  const char *usage = "watch(fd, dir: string)";
  napi_value argv[2];
  int32_t fd;
  char dir[PATH_MAX];
  size_t length = 0;
  if (!takeArguments(env, info, argv, 2, usage)) return NULL;
  if (!int32Of(env, argv[0], &fd) || napi_get_value_string_utf8(env, argv[1], dir, sizeof dir, &length) != napi_ok) return throwType(env, usage);
  if (length >= sizeof dir - 1) return int32Value(env, -ENAMETOOLONG);
  if (!isLocalFilesystem(dir)) return int32Value(env, -EXDEV);
  int wd = inotify_add_watch(fd, dir, WATCHED);
  return int32Value(env, wd < 0 ? -errno : wd);
}

static napi_value Unwatch(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd, wd;
  if (!takeArguments(env, info, argv, 2, "unwatch(fd, wd)")) return NULL;
  if (!int32Of(env, argv[0], &fd) || !int32Of(env, argv[1], &wd)) return throwType(env, "unwatch(fd, wd)");
  return int32Value(env, inotify_rm_watch(fd, wd) == 0 ? 0 : -errno);
}

/** Pairs of (wd, mask) gathered by drain. */
typedef struct {
  int32_t *pairs;
  size_t count, capacity;
} Events;

static int addEvent(Events *events, int32_t wd, uint32_t mask) {
  if (events->count + 2 > events->capacity) {
    size_t capacity = events->capacity * 2 + 64;
    int32_t *grown = realloc(events->pairs, capacity * sizeof(int32_t));
    if (grown == NULL) return 0;
    events->pairs = grown;
    events->capacity = capacity;
  }
  events->pairs[events->count++] = wd;
  events->pairs[events->count++] = (int32_t)mask;
  return 1;
}

static napi_value Drain(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!takeArguments(env, info, argv, 1, "drain(fd)")) return NULL;
  if (!int32Of(env, argv[0], &fd)) return throwType(env, "drain(fd)");
  char buffer[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
  Events events = {NULL, 0, 0};
  int lost = 0;
  for (;;) {
    ssize_t got = read(fd, buffer, sizeof buffer);
    if (got <= 0) {
      if (got < 0 && errno == EINTR) continue;
      break; /* EAGAIN: the queue is empty */
    }
    for (char *at = buffer; at < buffer + got;) {
      const struct inotify_event *event = (const struct inotify_event *)at;
      if (!lost && !addEvent(&events, event->mask & IN_Q_OVERFLOW ? -1 : event->wd, event->mask)) lost = 1;
      at += sizeof(struct inotify_event) + event->len;
    }
  }
  /* Out of memory for the list: report an overflow, which forgets every cached listing. */
  if (lost) {
    events.count = 0;
    if (events.capacity < 2) {
      free(events.pairs);
      return throwError(env, "out of memory");
    }
    events.pairs[events.count++] = -1;
    events.pairs[events.count++] = IN_Q_OVERFLOW;
  }
  if (events.count == 0) {
    free(events.pairs);
    napi_value none;
    napi_get_null(env, &none);
    return none;
  }
  void *data;
  napi_value arrayBuffer, array;
  if (napi_create_arraybuffer(env, events.count * sizeof(int32_t), &data, &arrayBuffer) != napi_ok) {
    free(events.pairs);
    return throwError(env, "out of memory");
  }
  memcpy(data, events.pairs, events.count * sizeof(int32_t));
  free(events.pairs);
  napi_create_typedarray(env, napi_int32_array, events.count, arrayBuffer, 0, &array);
  return array;
}

static napi_value Init(napi_env env, napi_value exports) {
  static const ExportedFunction functions[] = {
    {"open", Open},
    {"watch", Watch},
    {"unwatch", Unwatch},
    {"drain", Drain},
  };
  return exportFunctions(env, exports, functions, sizeof functions / sizeof functions[0]);
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
