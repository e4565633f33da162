/*
 * What keepdav's native helpers memberListing.c, contentHashes.c and directoryWatch.c share:
 * taking a call's arguments, throwing a TypeError or an Error, taking back an external value the
 * helper gave out earlier, and exporting its functions.
 * Header-only (static inline functions), so each helper stays one self-contained node-gyp target.
 */
#ifndef KEEPDAV_NAPI_ARGUMENTS_H
#define KEEPDAV_NAPI_ARGUMENTS_H
#include <node_api.h>
#include <stdbool.h>

/** Throws a TypeError saying `message`; returns NULL for the caller to return. */
static inline napi_value throwType(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

/** Throws an Error saying `message`; returns NULL for the caller to return. */
static inline napi_value throwError(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

/**
 * The call's first `count` arguments into `argv` (more are ignored); false, with a TypeError saying
 * `usage` thrown, when fewer were given.
 */
static inline bool takeArguments(napi_env env, napi_callback_info info, napi_value *argv, size_t count, const char *usage) {
  size_t argc = count;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc >= count) return true;
  throwType(env, usage);
  return false;
}

/** The data of the external `value`, or NULL with a TypeError saying `message` thrown. */
static inline void *externalArgument(napi_env env, napi_value value, const char *message) {
  napi_valuetype type;
  void *data = NULL;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external || napi_get_value_external(env, value, &data) != napi_ok) {
    throwType(env, message);
    return NULL;
  }
  return data;
}

/** One function a helper exports. */
typedef struct {
  const char *name;
  napi_callback fn;
} ExportedFunction;

/** Sets each of `count` functions on `exports` by its name; `exports`, or NULL when one could not be set. */
static inline napi_value exportFunctions(napi_env env, napi_value exports, const ExportedFunction *functions, size_t count) {
  for (size_t i = 0; i < count; i++) {
    napi_value fn;
    if (napi_create_function(env, functions[i].name, NAPI_AUTO_LENGTH, functions[i].fn, NULL, &fn) != napi_ok ||
        napi_set_named_property(env, exports, functions[i].name, fn) != napi_ok) return NULL;
  }
  return exports;
}

#endif
