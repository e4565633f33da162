/*
 * Sends a range of an open file to a TCP socket with sendfile(2), on a thread of its own, for
 * large downloads (src/http/zeroCopySend.ts says when and why): the kernel hands the page
 * cache's pages to the socket, where reading into a buffer and writing it out copies every byte
 * twice through the process.
 *
 *   const transfer = start(socketFd, fileFd, offset, length, idleMs, done);
 *   transfer.cancel();   // ends it early (the answer was closed): done follows
 *   done(errno, sent)    // errno 0: all `length` bytes sent, or the file ended first (sent < length)
 *
 * A thread of its own, not one of libuv's pool: a transfer lasts as long as its client takes, and
 * a few slow clients would otherwise hold every thread the file system calls of all other requests
 * need (the pool has 4 unless UV_THREADPOOL_SIZE says more). The result comes back to the main
 * thread through a thread-safe function, which keeps the event loop alive meanwhile.
 *
 * The socket is non-blocking (it is Node.js's): when its buffer is full the thread waits in
 * poll(2) for room, at most `idleMs` at a time (ETIMEDOUT: the client stopped reading). It works on
 * a duplicate of the socket's descriptor, closed when done, so the number it writes to can never
 * be another file's, even if Node.js closes its own meanwhile. cancel() shuts the duplicate's
 * connection down, which wakes the thread (EPIPE); it does nothing once the transfer has ended.
 * Throws a TypeError on arguments of the wrong types, and an Error when the duplicate cannot be
 * made. Node-API, so one build serves Node.js 20 and 24 alike.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

/* The most one sendfile call moves (Linux's own cap). */
#define MAX_CHUNK 0x7ffff000L

typedef struct {
  int socket;                /* our duplicate; -1 once closed (on the main thread) */
  int file;
  off_t offset;
  long long remaining;
  int idleMs;
  atomic_int cancelled;
  int error;
  long long sent;
  napi_threadsafe_function finished;
  napi_ref done;
  napi_ref handle;           /* keeps the transfer object (and so this memory) alive until done */
} Transfer;

static napi_value fail(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

/* On the transfer's thread: everything but JavaScript. */
static void Send(Transfer *t) {
  while (t->remaining > 0) {
    if (atomic_load(&t->cancelled)) {
      t->error = ECANCELED;
      return;
    }
    ssize_t n = sendfile(t->socket, t->file, &t->offset, t->remaining > MAX_CHUNK ? MAX_CHUNK : (size_t)t->remaining);
    if (n > 0) {
      t->remaining -= n;
      t->sent += n;
      continue;
    }
    if (n == 0) return; /* the file ended first: the caller compares `sent` */
    if (errno == EINTR) continue;
    if (errno != EAGAIN) {
      t->error = errno;
      return;
    }
    struct pollfd room = { .fd = t->socket, .events = POLLOUT, .revents = 0 };
    int ready = poll(&room, 1, t->idleMs);
    if (ready == 0) {
      t->error = ETIMEDOUT;
      return;
    }
    if (ready < 0 && errno != EINTR) {
      t->error = errno;
      return;
    }
    if (room.revents & POLLNVAL) {
      t->error = EBADF;
      return;
    }
    /* POLLERR or POLLHUP: the next sendfile says which error. */
  }
}

/* The transfer's thread: send, then hand the outcome to the main thread (Finished). */
static void *Run(void *data) {
  Transfer *t = data;
  Send(t);
  napi_threadsafe_function finished = t->finished;
  napi_call_threadsafe_function(finished, t, napi_tsfn_blocking);
  napi_release_threadsafe_function(finished, napi_tsfn_release);
  return NULL;
}

/* Back on the main thread: close the duplicate, then tell JavaScript. */
static void Finished(napi_env env, napi_value unused, void *context, void *data) {
  (void)unused;
  (void)context;
  Transfer *t = data;
  close(t->socket);
  t->socket = -1;
  if (env == NULL) return; /* the environment is going away: nobody to tell */
  napi_value done, global, argv[2];
  napi_get_reference_value(env, t->done, &done);
  napi_get_global(env, &global);
  napi_create_int32(env, t->error, &argv[0]);
  napi_create_double(env, (double)t->sent, &argv[1]);
  napi_delete_reference(env, t->done);
  t->done = NULL;
  /* From here the object may be collected, and this memory freed with it: t is not touched again. */
  napi_delete_reference(env, t->handle);
  napi_call_function(env, global, done, 2, argv, NULL);
}

/* The transfer object's cancel(): on the main thread, so it never meets a closed duplicate. */
static napi_value Cancel(napi_env env, napi_callback_info info) {
  napi_value self;
  Transfer *t = NULL;
  if (napi_get_cb_info(env, info, NULL, NULL, &self, NULL) != napi_ok || napi_unwrap(env, self, (void **)&t) != napi_ok) return fail(env, "cancel() is a transfer's method");
  if (t != NULL && t->socket >= 0) {
    atomic_store(&t->cancelled, 1);
    shutdown(t->socket, SHUT_RDWR);
  }
  return NULL;
}

static void Free(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

static napi_value Start(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 6) return fail(env, "start(socketFd, fileFd, offset, length, idleMs, done)");
  int32_t socketFd, fileFd, idleMs;
  double offset, length;
  napi_valuetype doneType;
  if (napi_get_value_int32(env, argv[0], &socketFd) != napi_ok || socketFd < 0) return fail(env, "socketFd must be a descriptor");
  if (napi_get_value_int32(env, argv[1], &fileFd) != napi_ok || fileFd < 0) return fail(env, "fileFd must be a descriptor");
  if (napi_get_value_double(env, argv[2], &offset) != napi_ok || !(offset >= 0) || offset > 9007199254740991.0) return fail(env, "offset must be a byte offset");
  if (napi_get_value_double(env, argv[3], &length) != napi_ok || !(length >= 0) || length > 9007199254740991.0) return fail(env, "length must be a byte count");
  if (napi_get_value_int32(env, argv[4], &idleMs) != napi_ok || idleMs <= 0) return fail(env, "idleMs must be positive");
  if (napi_typeof(env, argv[5], &doneType) != napi_ok || doneType != napi_function) return fail(env, "done must be a function");

  Transfer *t = calloc(1, sizeof *t);
  if (t == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  t->socket = fcntl(socketFd, F_DUPFD_CLOEXEC, 0);
  if (t->socket < 0) {
    free(t);
    napi_throw_error(env, "EBADF", "the socket's descriptor cannot be duplicated");
    return NULL;
  }
  t->file = fileFd;
  t->offset = (off_t)offset;
  t->remaining = (long long)length;
  t->idleMs = idleMs;
  atomic_init(&t->cancelled, 0);

  napi_value handle, cancel, name;
  napi_create_object(env, &handle);
  /* The object owns the memory: freed when it is collected, which t->handle prevents until done. */
  napi_wrap(env, handle, t, Free, NULL, NULL);
  napi_create_function(env, "cancel", NAPI_AUTO_LENGTH, Cancel, NULL, &cancel);
  napi_set_named_property(env, handle, "cancel", cancel);
  napi_create_reference(env, argv[5], 1, &t->done);
  napi_create_reference(env, handle, 1, &t->handle);
  napi_create_string_utf8(env, "keepdav:zeroCopySend", NAPI_AUTO_LENGTH, &name);
  pthread_attr_t attr;
  pthread_t thread;
  int started = napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, NULL, Finished, &t->finished) == napi_ok &&
                pthread_attr_init(&attr) == 0;
  if (started) {
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    started = pthread_create(&thread, &attr, Run, t) == 0;
    pthread_attr_destroy(&attr);
    if (!started) napi_release_threadsafe_function(t->finished, napi_tsfn_abort);
  }
  if (!started) {
    close(t->socket);
    t->socket = -1;
    napi_delete_reference(env, t->done);
    napi_delete_reference(env, t->handle);
    napi_throw_error(env, "EAGAIN", "no thread for the transfer");
    return NULL;
  }
  return handle;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value start;
  napi_create_function(env, "start", NAPI_AUTO_LENGTH, Start, NULL, &start);
  napi_set_named_property(env, exports, "start", start);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
