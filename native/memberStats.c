/*
 * The stats of a batch of one directory's members in one call, for the listing thread
 * (src/storage/listingThread.ts says why): each member by statx relative to the directory opened
 * once, where fs.lstatSync walks the whole path again for every member and builds a Stats object
 * for it. The numbers are the ones Node.js computes from the same statx (libuv asks for the same
 * fields with the same flags), down to the last bit: the times as seconds * 1e3 + nanoseconds /
 * 1e6 in doubles (binding.gyp turns off fused multiply-add, which would round differently).
 *
 *   statMembers(dir: string, names: string[], out: Float64Array): boolean
 *
 * fills out[i * 7 ...] for names[i] with: the kind (1 a plain file, 2 a directory, 0 anything else
 * or an error, for the caller's careful path), size, mtimeMs, ctimeMs, birthtimeMs, ino, dev. It
 * returns false, having filled nothing, when the directory cannot be opened or statx is missing
 * (the caller then stats the names itself), and throws on arguments of the wrong types.
 * Node-API, so one build serves Node.js 20 and 24 alike.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define FIELDS 7

static double milliseconds(long long sec, unsigned int nsec) {
  return (double)sec * 1e3 + (double)nsec / 1e6;
}

static napi_value boolean(napi_env env, int value) {
  napi_value result;
  napi_get_boolean(env, value, &result);
  return result;
}

static napi_value fail(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static napi_value StatMembers(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) return fail(env, "statMembers(dir, names, out)");

  char dir[PATH_MAX];
  size_t dirLength = 0;
  if (napi_get_value_string_utf8(env, argv[0], dir, sizeof dir, &dirLength) != napi_ok) return fail(env, "dir must be a string");
  if (dirLength >= sizeof dir - 1) return boolean(env, 0);

  bool isArray = false;
  uint32_t count = 0;
  if (napi_is_array(env, argv[1], &isArray) != napi_ok || !isArray || napi_get_array_length(env, argv[1], &count) != napi_ok) {
    return fail(env, "names must be an array");
  }

  bool isTypedArray = false;
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (napi_is_typedarray(env, argv[2], &isTypedArray) != napi_ok || !isTypedArray ||
      napi_get_typedarray_info(env, argv[2], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_float64_array) {
    return fail(env, "out must be a Float64Array");
  }
  if (length < (size_t)count * FIELDS) return fail(env, "out is too short");
  double *out = data;

#if defined(STATX_BASIC_STATS)
  int dirFd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd < 0) return boolean(env, 0);
  // A name is at most 255 bytes (NAME_MAX); anything longer cannot exist, so is "careful".
  char name[NAME_MAX + 2];
  for (uint32_t i = 0; i < count; i++) {
    double *member = out + (size_t)i * FIELDS;
    memset(member, 0, FIELDS * sizeof *member);
    napi_value element;
    size_t nameLength = 0;
    if (napi_get_element(env, argv[1], i, &element) != napi_ok ||
        napi_get_value_string_utf8(env, element, name, sizeof name, &nameLength) != napi_ok) {
      close(dirFd);
      return fail(env, "names must hold strings");
    }
    if (nameLength > NAME_MAX || nameLength == 0 || strlen(name) != nameLength) continue;
    struct statx found;
    // libuv's lstat: the same flags and the same fields.
    if (statx(dirFd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME, &found) != 0) {
      if (errno == ENOSYS) {
        close(dirFd);
        return boolean(env, 0);
      }
      continue;
    }
    member[0] = S_ISREG(found.stx_mode) ? 1 : S_ISDIR(found.stx_mode) ? 2 : 0;
    if (member[0] == 0) continue;
    member[1] = (double)found.stx_size;
    member[2] = milliseconds(found.stx_mtime.tv_sec, found.stx_mtime.tv_nsec);
    member[3] = milliseconds(found.stx_ctime.tv_sec, found.stx_ctime.tv_nsec);
    member[4] = milliseconds(found.stx_btime.tv_sec, found.stx_btime.tv_nsec);
    member[5] = (double)found.stx_ino;
    member[6] = (double)makedev(found.stx_dev_major, found.stx_dev_minor);
  }
  close(dirFd);
  return boolean(env, 1);
#else
  (void)out;
  return boolean(env, 0);
#endif
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "statMembers", NAPI_AUTO_LENGTH, StatMembers, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "statMembers", fn) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
