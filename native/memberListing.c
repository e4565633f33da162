/*
 * A collection's members read on libuv's thread pool, a batch at a time: the directory read
 * (readdir, glibc's getdents) and each member's statx relative to the directory, with no second
 * JavaScript thread. src/storage/nativeListing.ts says why (a worker thread's isolate was 15-18
 * MiB of a busy listing's memory) and how keepdav uses it.
 *
 *   open(dir: string): Promise<Listing>                  rejects with { errno } (positive)
 *   read(listing, max: number): Promise<{ names: string[], stats: Float64Array }>   names empty at the end
 *   close(listing): void                                 closes now, or after the read under way
 *   stat(dir: string, names: string[]): Promise<Float64Array>
 *
 * The stats are 7 numbers per name: the kind (1 a plain file, 2 a directory, 0 anything else, an
 * error, or a name that is not UTF-8, for the caller's careful path), size, mtimeMs, ctimeMs,
 * birthtimeMs, ino, dev. They are the numbers Node.js computes from the same statx (libuv asks for
 * the same fields with the same flags), down to the last bit: times as seconds * 1e3 + nanoseconds
 * / 1e6 in doubles (binding.gyp turns off fused multiply-add, which would round differently).
 * Where statx proves missing (old kernels, some seccomp filters), fstatat stands in, as libuv's
 * lstat does, the birth time then being the change time. A name that is not UTF-8 reaches
 * JavaScript with U+FFFD in it, naming no file: it is marked careful, as an lstat of that text
 * would find nothing. Node-API: one build serves Node.js 20 and 24.
 *
 *   useFstatatForTests(): void                           from now on, as without statx
 */
#define _GNU_SOURCE
#include <node_api.h>
#include "napiArguments.h"
#include "memberStat.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/** At most this many names a read (the caller asks for a batch of 256). */
#define MAX_BATCH 4096

/** Names as one run of bytes, each NUL-terminated, with where each begins. */
typedef struct {
  char *bytes;
  size_t used, capacity;
  size_t *starts;
  size_t count;
} Names;

static bool addName(Names *names, const char *name, size_t length) {
  if (names->used + length + 1 > names->capacity) {
    size_t capacity = names->capacity * 2 + length + 1;
    char *grown = realloc(names->bytes, capacity);
    if (grown == NULL) return false;
    names->bytes = grown;
    names->capacity = capacity;
  }
  memcpy(names->bytes + names->used, name, length + 1);
  names->starts[names->count++] = names->used;
  names->used += length + 1;
  return true;
}

/** One open directory. */
typedef struct {
  DIR *dir;
  bool reading;      // a read is on the pool
  bool closeAfter;   // close() came during that read
} Listing;

static void closeListing(Listing *listing) {
  if (listing->dir != NULL) closedir(listing->dir);
  listing->dir = NULL;
}

static void finalizeListing(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  closeListing(data); // dropped without close(): the directory is closed when it is collected
  free(data);
}

/** What one call carries from the main thread to the pool and back. */
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref listingRef;  // read: keeps the listing alive while the pool uses it
  Listing *listing;     // read
  char *dir;            // open, stat
  Names names;          // read: filled on the pool; stat: given
  uint32_t max;         // read
  double *stats;        // read, stat
  int error;            // an errno, or 0
} Call;

static void freeCall(napi_env env, Call *call) {
  if (call->listingRef != NULL) napi_delete_reference(env, call->listingRef);
  if (call->work != NULL) napi_delete_async_work(env, call->work);
  free(call->dir);
  free(call->names.bytes);
  free(call->names.starts);
  free(call->stats);
  free(call);
}

/** Rejects the call's promise with { errno }. */
static void rejectErrno(napi_env env, Call *call) {
  napi_value reason, code;
  napi_create_object(env, &reason);
  napi_create_int32(env, call->error, &code);
  napi_set_named_property(env, reason, "errno", code);
  napi_reject_deferred(env, call->deferred, reason);
}

static napi_value arrayOfStats(napi_env env, const double *stats, size_t count) {
  void *data;
  napi_value buffer, array;
  napi_create_arraybuffer(env, count * FIELDS * sizeof(double), &data, &buffer);
  if (count > 0) memcpy(data, stats, count * FIELDS * sizeof(double));
  napi_create_typedarray(env, napi_float64_array, count * FIELDS, buffer, 0, &array);
  return array;
}

/** The string argument `value` as a malloc'd C string, or NULL (a TypeError is then thrown). */
static char *stringArgument(napi_env env, napi_value value, const char *what) {
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) {
    throwType(env, what);
    return NULL;
  }
  char *text = malloc(length + 1);
  if (text == NULL) {
    throwError(env, "out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, value, text, length + 1, &length);
  return text;
}

/** Queues `call` with the pool's `execute` and `complete`, returning its promise. */
static napi_value queue(napi_env env, Call *call, const char *name, napi_async_execute_callback execute, napi_async_complete_callback complete) {
  napi_value promise, resourceName;
  napi_create_promise(env, &call->deferred, &promise);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resourceName);
  if (napi_create_async_work(env, NULL, resourceName, execute, complete, call, &call->work) != napi_ok ||
      napi_queue_async_work(env, call->work) != napi_ok) {
    call->error = ENOMEM;
    if (call->listingRef != NULL) call->listing->reading = false; // a read that never started
    rejectErrno(env, call);
    freeCall(env, call);
  }
  return promise;
}

/* ---- open ---- */

static void openExecute(napi_env env, void *data) {
  (void)env;
  Call *call = data;
  DIR *dir = opendir(call->dir);
  if (dir == NULL) {
    call->error = errno;
    return;
  }
  call->listing = calloc(1, sizeof *call->listing);
  if (call->listing == NULL) {
    closedir(dir);
    call->error = ENOMEM;
    return;
  }
  call->listing->dir = dir;
}

static void openComplete(napi_env env, napi_status status, void *data) {
  Call *call = data;
  if (status != napi_ok && call->error == 0) call->error = ECANCELED;
  napi_value listing;
  if (call->error == 0 && napi_create_external(env, call->listing, finalizeListing, NULL, &listing) == napi_ok) {
    napi_resolve_deferred(env, call->deferred, listing);
  } else {
    if (call->listing != NULL) {
      closeListing(call->listing);
      free(call->listing);
    }
    if (call->error == 0) call->error = ENOMEM;
    rejectErrno(env, call);
  }
  freeCall(env, call);
}

static napi_value Open(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!takeArguments(env, info, argv, 1, "open(dir)")) return NULL;
  Call *call = calloc(1, sizeof *call);
  if (call == NULL) return throwError(env, "out of memory");
  call->dir = stringArgument(env, argv[0], "dir must be a string");
  if (call->dir == NULL) {
    free(call);
    return NULL;
  }
  return queue(env, call, "keepdav.memberListing.open", openExecute, openComplete);
}

/* ---- read ---- */

static void readExecute(napi_env env, void *data) {
  (void)env;
  Call *call = data;
  DIR *dir = call->listing->dir;
  int dirFd = dirfd(dir);
  for (;;) {
    if (call->names.count >= call->max) break;
    errno = 0;
    struct dirent *entry = readdir(dir);
    if (entry == NULL) {
      call->error = errno; // 0 at the end
      break;
    }
    const char *name = entry->d_name;
    if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
    if (!addName(&call->names, name, strlen(name))) {
      call->error = ENOMEM;
      break;
    }
  }
  if (call->error != 0) return;
  for (size_t i = 0; i < call->names.count; i++) {
    const char *name = call->names.bytes + call->names.starts[i];
    statMember(dirFd, name, strlen(name), call->stats + i * FIELDS);
  }
}

static void readComplete(napi_env env, napi_status status, void *data) {
  Call *call = data;
  Listing *listing = call->listing;
  listing->reading = false;
  if (listing->closeAfter) closeListing(listing);
  if (status != napi_ok && call->error == 0) call->error = ECANCELED;
  if (call->error != 0) {
    rejectErrno(env, call);
  } else {
    napi_value result, names, name;
    napi_create_object(env, &result);
    napi_create_array_with_length(env, call->names.count, &names);
    for (size_t i = 0; i < call->names.count; i++) {
      napi_create_string_utf8(env, call->names.bytes + call->names.starts[i], NAPI_AUTO_LENGTH, &name);
      napi_set_element(env, names, (uint32_t)i, name);
    }
    napi_set_named_property(env, result, "names", names);
    napi_set_named_property(env, result, "stats", arrayOfStats(env, call->stats, call->names.count));
    napi_resolve_deferred(env, call->deferred, result);
  }
  freeCall(env, call);
}

static Listing *listingArgument(napi_env env, napi_value value) {
  return externalArgument(env, value, "listing must be what open() gave");
}

static napi_value Read(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!takeArguments(env, info, argv, 2, "read(listing, max)")) return NULL;
  Listing *listing = listingArgument(env, argv[0]);
  if (listing == NULL) return NULL;
  uint32_t max = 0;
  if (napi_get_value_uint32(env, argv[1], &max) != napi_ok || max == 0 || max > MAX_BATCH) return throwType(env, "max must be a whole number from 1 to 4096");
  if (listing->reading) return throwType(env, "a read of this listing is under way");
  if (listing->dir == NULL) {
    // Closed: the answer is the end, with nothing to do on the pool.
    napi_value promise, result, names;
    napi_deferred deferred;
    napi_create_promise(env, &deferred, &promise);
    napi_create_object(env, &result);
    napi_create_array_with_length(env, 0, &names);
    napi_set_named_property(env, result, "names", names);
    napi_set_named_property(env, result, "stats", arrayOfStats(env, NULL, 0));
    napi_resolve_deferred(env, deferred, result);
    return promise;
  }
  Call *call = calloc(1, sizeof *call);
  if (call == NULL) return throwError(env, "out of memory");
  call->listing = listing;
  call->max = max;
  call->names.starts = malloc(max * sizeof *call->names.starts);
  call->stats = malloc((size_t)max * FIELDS * sizeof(double));
  if (call->names.starts == NULL || call->stats == NULL || napi_create_reference(env, argv[0], 1, &call->listingRef) != napi_ok) {
    freeCall(env, call);
    return throwError(env, "out of memory");
  }
  listing->reading = true;
  return queue(env, call, "keepdav.memberListing.read", readExecute, readComplete);
}

/* ---- close ---- */

static napi_value Close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!takeArguments(env, info, argv, 1, "close(listing)")) return NULL;
  Listing *listing = listingArgument(env, argv[0]);
  if (listing == NULL) return NULL;
  if (listing->reading) listing->closeAfter = true;
  else closeListing(listing);
  return NULL;
}

/* ---- stat ---- */

static void statExecute(napi_env env, void *data) {
  (void)env;
  Call *call = data;
  int dirFd = open(call->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd < 0) {
    call->error = errno;
    return;
  }
  for (size_t i = 0; i < call->names.count; i++) {
    const char *name = call->names.bytes + call->names.starts[i];
    // A name holding NUL was stored whole: its length says so, and it is careful.
    size_t length = (i + 1 < call->names.count ? call->names.starts[i + 1] : call->names.used) - call->names.starts[i] - 1;
    statMember(dirFd, name, length, call->stats + i * FIELDS);
  }
  close(dirFd);
}

static void statComplete(napi_env env, napi_status status, void *data) {
  Call *call = data;
  if (status != napi_ok && call->error == 0) call->error = ECANCELED;
  if (call->error != 0) rejectErrno(env, call);
  else napi_resolve_deferred(env, call->deferred, arrayOfStats(env, call->stats, call->names.count));
  freeCall(env, call);
}

static napi_value Stat(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!takeArguments(env, info, argv, 2, "stat(dir, names)")) return NULL;
  bool isArray = false;
  uint32_t count = 0;
  if (napi_is_array(env, argv[1], &isArray) != napi_ok || !isArray || napi_get_array_length(env, argv[1], &count) != napi_ok) {
    return throwType(env, "names must be an array");
  }
  Call *call = calloc(1, sizeof *call);
  if (call == NULL) return throwError(env, "out of memory");
  call->dir = stringArgument(env, argv[0], "dir must be a string");
  call->names.starts = malloc((count > 0 ? count : 1) * sizeof *call->names.starts);
  call->stats = malloc((size_t)(count > 0 ? count : 1) * FIELDS * sizeof(double));
  if (call->dir == NULL || call->names.starts == NULL || call->stats == NULL) {
    bool thrown = call->dir == NULL;
    freeCall(env, call);
    return thrown ? NULL : throwError(env, "out of memory");
  }
  char name[NAME_MAX + 2];
  for (uint32_t i = 0; i < count; i++) {
    napi_value element;
    size_t length = 0;
    napi_valuetype type;
    if (napi_get_element(env, argv[1], i, &element) != napi_ok || napi_typeof(env, element, &type) != napi_ok || type != napi_string) {
      freeCall(env, call);
      return throwType(env, "names must hold strings");
    }
    // Longer than any name can be (its whole UTF-8, not what fits): kept as "", which is careful.
    napi_get_value_string_utf8(env, element, NULL, 0, &length);
    if (length > NAME_MAX) {
      name[0] = 0;
      length = 0;
    } else napi_get_value_string_utf8(env, element, name, sizeof name, &length);
    if (!addName(&call->names, name, length)) {
      freeCall(env, call);
      return throwError(env, "out of memory");
    }
  }
  return queue(env, call, "keepdav.memberListing.stat", statExecute, statComplete);
}

static napi_value UseFstatatForTests(napi_env env, napi_callback_info info) {
  (void)env;
  (void)info;
  atomic_store_explicit(&noStatx, 1, memory_order_relaxed);
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  const ExportedFunction functions[] = {
    { "open", Open }, { "read", Read }, { "close", Close }, { "stat", Stat }, { "useFstatatForTests", UseFstatatForTests },
  };
  return exportFunctions(env, exports, functions, sizeof functions / sizeof functions[0]);
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
