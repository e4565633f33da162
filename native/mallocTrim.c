/*
 * keepdav's one native function: glibc's malloc_trim(0), which gives the free memory inside every
 * malloc arena back to the system (madvise), not only what sits at the top of the heap as free()
 * does by itself. Called once the server has gone quiet (src/admin/mallocTrim.ts says why).
 * Node-API, so one build serves Node.js 20 and 24 alike. Elsewhere than glibc it does nothing.
 */
#include <node_api.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

static napi_value Trim(napi_env env, napi_callback_info info) {
  (void)info;
  int released = 0;
#if defined(__GLIBC__)
  released = malloc_trim(0);
#endif
  napi_value result;
  napi_get_boolean(env, released != 0, &result);
  return result;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "trim", NAPI_AUTO_LENGTH, Trim, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "trim", fn) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
