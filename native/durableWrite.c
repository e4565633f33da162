/*
 * A small upload made durable in one trip through libuv's thread pool (src/storage/durableWrite.ts
 * says when): create the temporary, write the bytes, set its mode and times, fsync it, rename it
 * over the target. Made one call at a time from JavaScript, the same steps took three trips (the
 * create, the fsync, the rename), each waking a pool thread and then the main thread again, which
 * on this 2-core machine cost more CPU than the steps themselves.
 *
 *   write(tempPath, bytes, mode, atimeMs, mtimeMs, targetPath, done)
 *   done(errno, step, fd, fsyncSeconds)
 *
 * `mode` is the permission bits to give the file, or -1 for those of the create (0666 less the
 * umask); `mtimeMs` NaN leaves the times alone. Times are milliseconds since the epoch, set to the
 * nearest nanosecond (fs.futimes takes seconds as a double, so one of its sub-second times can
 * come out a microsecond lower, depending on the Node.js version). On success errno is 0 and `fd`
 * the new file, open read-write: the caller takes its stats and closes it. On failure errno says
 * why and `step` where (STEP_CREATE, STEP_WRITE: the write, mode, times or fsync; STEP_RENAME), and
 * nothing is left: the temporary is removed and closed. `fsyncSeconds` is how long the fsync took
 * (for the metrics), or -1 when none was made. Node-API, so one build serves Node.js 20 and 24 alike.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { STEP_CREATE = 0, STEP_WRITE = 1, STEP_RENAME = 2 };

typedef struct {
  char *temp;
  char *target;
  const char *bytes;
  size_t length;
  int mode;
  double atime;
  double mtime;
  int error;
  int step;
  int fd;
  double fsyncSeconds;
  napi_ref buffer;           /* keeps `bytes` alive until done */
  napi_ref done;
  napi_async_work work;
} Job;

static napi_value fail(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

/* Milliseconds since the epoch (before it too) to the nearest nanosecond. */
static struct timespec toTimespec(double ms) {
  struct timespec ts;
  double seconds = floor(ms / 1000);
  long long nanoseconds = llround((ms - seconds * 1000) * 1e6);
  if (nanoseconds >= 1000000000LL) {
    nanoseconds -= 1000000000LL;
    seconds += 1;
  }
  ts.tv_sec = (time_t)seconds;
  ts.tv_nsec = (long)nanoseconds;
  return ts;
}

static double secondsSince(const struct timespec *start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static int writeAll(int fd, const char *bytes, size_t length) {
  while (length > 0) {
    ssize_t n = write(fd, bytes, length);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    bytes += n;
    length -= (size_t)n;
  }
  return 0;
}

/* On a pool thread: no JavaScript, no Node-API. */
static void Execute(napi_env env, void *data) {
  Job *job = data;
  job->step = STEP_CREATE;
  int fd = open(job->temp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd < 0) {
    job->error = errno;
    return;
  }
  job->step = STEP_WRITE;
  int error = writeAll(fd, job->bytes, job->length);
  if (error == 0 && job->mode >= 0 && fchmod(fd, (mode_t)job->mode) != 0) error = errno;
  if (error == 0 && !isnan(job->mtime)) {
    struct timespec times[2] = { toTimespec(job->atime), toTimespec(job->mtime) };
    if (futimens(fd, times) != 0) error = errno;
  }
  if (error == 0) {
    struct timespec started;
    clock_gettime(CLOCK_MONOTONIC, &started);
    if (fsync(fd) != 0) error = errno;
    job->fsyncSeconds = secondsSince(&started);
  }
  if (error == 0) {
    job->step = STEP_RENAME;
    if (rename(job->temp, job->target) != 0) error = errno;
  }
  if (error != 0) {
    unlink(job->temp);
    close(fd);
    job->error = error;
    return;
  }
  job->fd = fd;
}

static void freeJob(napi_env env, Job *job) {
  if (job->buffer) napi_delete_reference(env, job->buffer);
  if (job->done) napi_delete_reference(env, job->done);
  if (job->work) napi_delete_async_work(env, job->work);
  free(job->temp);
  free(job->target);
  free(job);
}

/* Back on the main thread. */
static void Complete(napi_env env, napi_status status, void *data) {
  Job *job = data;
  if (status != napi_ok && job->fd >= 0) {
    /* Cancelled or failed to run: nothing may be left behind. */
    close(job->fd);
    job->fd = -1;
  }
  if (status == napi_cancelled) job->error = ECANCELED;
  napi_value done, global, argv[4];
  napi_get_reference_value(env, job->done, &done);
  napi_get_global(env, &global);
  napi_create_int32(env, job->error, &argv[0]);
  napi_create_int32(env, job->step, &argv[1]);
  napi_create_int32(env, job->fd, &argv[2]);
  napi_create_double(env, job->fsyncSeconds, &argv[3]);
  freeJob(env, job);
  napi_call_function(env, global, done, 4, argv, NULL);
}

/* A copy of the string argument, NUL-terminated; NULL (and a TypeError thrown) if it is not one or holds a NUL. */
static char *stringArgument(napi_env env, napi_value value, const char *message) {
  size_t length;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) return (fail(env, message), NULL);
  char *copy = malloc(length + 1);
  if (!copy) return (napi_throw_error(env, "ENOMEM", "out of memory"), NULL);
  napi_get_value_string_utf8(env, value, copy, length + 1, &length);
  if (strlen(copy) != length) {
    free(copy);
    return (fail(env, message), NULL);
  }
  return copy;
}

static napi_value Write(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 7) {
    return fail(env, "write(tempPath, bytes, mode, atimeMs, mtimeMs, targetPath, done)");
  }
  bool isBuffer = false;
  void *bytes;
  size_t length;
  int32_t mode;
  double atime, mtime;
  napi_valuetype doneType;
  if (napi_is_buffer(env, argv[1], &isBuffer) != napi_ok || !isBuffer) return fail(env, "bytes must be a Buffer");
  napi_get_buffer_info(env, argv[1], &bytes, &length);
  if (napi_get_value_int32(env, argv[2], &mode) != napi_ok || mode < -1 || mode > 07777) return fail(env, "mode must be permission bits or -1");
  if (napi_get_value_double(env, argv[3], &atime) != napi_ok || napi_get_value_double(env, argv[4], &mtime) != napi_ok) {
    return fail(env, "atimeMs and mtimeMs must be numbers");
  }
  if (!isnan(mtime) && !(isfinite(atime) && isfinite(mtime))) return fail(env, "atimeMs and mtimeMs must be finite, or mtimeMs NaN");
  if (napi_typeof(env, argv[6], &doneType) != napi_ok || doneType != napi_function) return fail(env, "done must be a function");

  Job *job = calloc(1, sizeof(Job));
  if (!job) return (napi_throw_error(env, "ENOMEM", "out of memory"), NULL);
  job->fd = -1;
  job->fsyncSeconds = -1;
  job->temp = stringArgument(env, argv[0], "tempPath must be a path");
  job->target = job->temp ? stringArgument(env, argv[5], "targetPath must be a path") : NULL;
  if (!job->target) {
    freeJob(env, job);
    return NULL;
  }
  job->bytes = bytes;
  job->length = length;
  job->mode = mode;
  job->atime = atime;
  job->mtime = mtime;
  napi_value name;
  napi_create_string_utf8(env, "keepdav:durableWrite", NAPI_AUTO_LENGTH, &name);
  if (napi_create_reference(env, argv[1], 1, &job->buffer) != napi_ok || napi_create_reference(env, argv[6], 1, &job->done) != napi_ok ||
      napi_create_async_work(env, NULL, name, Execute, Complete, job, &job->work) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    freeJob(env, job);
    napi_throw_error(env, "EAGAIN", "the write could not be queued");
    return NULL;
  }
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value write, create, writeStep, rename;
  napi_create_function(env, "write", NAPI_AUTO_LENGTH, Write, NULL, &write);
  napi_set_named_property(env, exports, "write", write);
  napi_create_int32(env, STEP_CREATE, &create);
  napi_create_int32(env, STEP_WRITE, &writeStep);
  napi_create_int32(env, STEP_RENAME, &rename);
  napi_set_named_property(env, exports, "STEP_CREATE", create);
  napi_set_named_property(env, exports, "STEP_WRITE", writeStep);
  napi_set_named_property(env, exports, "STEP_RENAME", rename);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
