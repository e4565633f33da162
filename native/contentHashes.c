/*
 * SHA-1 and MD5 of a large upload (and of a file read back for its MD5) computed on libuv's thread
 * pool, with the OpenSSL that Node.js itself carries: src/storage/nativeHashing.ts says why (a
 * hashing worker thread is an isolate of its own, and took copies of the body: a 512 MiB upload
 * peaked 6-9 MiB higher with it).
 *
 *   available: boolean                          false when this Node.js exports no OpenSSL digests
 *   start(sha1: boolean, md5: boolean): Hashes  the hashes of one stream of bytes
 *   update(hashes, pieces: Uint8Array[]): Promise<void>   the pieces' bytes in order, after those before
 *   finish(hashes): { sha1: string | null, md5: string | null }        lower-case hex; the hashes end
 *
 * One update of a Hashes at a time (the caller waits for each): a second while one is on the pool
 * throws, as do an update or finish after finish. `pieces` (the array) is kept alive until its
 * update is done, and must not change meanwhile: the caller hands over request body buffers it
 * no longer writes to, so nothing is copied.
 *
 * OpenSSL's functions are looked up in the running process (dlsym) rather than linked: Node.js
 * exports them for addons, whether it carries OpenSSL inside (nodejs.org's builds) or links the
 * system's, so nothing is needed at build time and the same build serves Node.js 20 and 24. Where
 * one is missing, `available` is false and keepdav hashes on its hashing thread as before.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include "napiArguments.h"
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The few OpenSSL 1.1/3.x EVP functions used, by their stable C signatures (no OpenSSL headers needed). */
typedef struct evp_md_ctx EVP_MD_CTX;
typedef struct evp_md EVP_MD;
static EVP_MD_CTX *(*mdCtxNew)(void);
static void (*mdCtxFree)(EVP_MD_CTX *);
static const EVP_MD *(*mdSha1)(void);
static const EVP_MD *(*mdMd5)(void);
static int (*digestInit)(EVP_MD_CTX *, const EVP_MD *, void *);
static int (*digestUpdate)(EVP_MD_CTX *, const void *, size_t);
static int (*digestFinal)(EVP_MD_CTX *, unsigned char *, unsigned int *);

/** Every function above was found. */
static bool haveOpenSsl;

static bool lookUpOpenSsl(void) {
  mdCtxNew = (EVP_MD_CTX * (*)(void)) dlsym(RTLD_DEFAULT, "EVP_MD_CTX_new");
  mdCtxFree = (void (*)(EVP_MD_CTX *))dlsym(RTLD_DEFAULT, "EVP_MD_CTX_free");
  mdSha1 = (const EVP_MD *(*)(void))dlsym(RTLD_DEFAULT, "EVP_sha1");
  mdMd5 = (const EVP_MD *(*)(void))dlsym(RTLD_DEFAULT, "EVP_md5");
  digestInit = (int (*)(EVP_MD_CTX *, const EVP_MD *, void *))dlsym(RTLD_DEFAULT, "EVP_DigestInit_ex");
  digestUpdate = (int (*)(EVP_MD_CTX *, const void *, size_t))dlsym(RTLD_DEFAULT, "EVP_DigestUpdate");
  digestFinal = (int (*)(EVP_MD_CTX *, unsigned char *, unsigned int *))dlsym(RTLD_DEFAULT, "EVP_DigestFinal_ex");
  return mdCtxNew && mdCtxFree && mdSha1 && mdMd5 && digestInit && digestUpdate && digestFinal;
}

typedef struct {
  EVP_MD_CTX *sha1;  // NULL when not asked for
  EVP_MD_CTX *md5;   // NULL when not asked for
  bool updating;     // an update is on the pool
  bool finished;
  bool failed;       // OpenSSL refused an update: finish throws, and the caller reads the bytes back
} Hashes;

static void freeHashes(Hashes *hashes) {
  if (hashes->sha1 != NULL) mdCtxFree(hashes->sha1);
  if (hashes->md5 != NULL) mdCtxFree(hashes->md5);
  hashes->sha1 = hashes->md5 = NULL;
}

static void finalizeHashes(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  freeHashes(data);
  free(data);
}

static Hashes *hashesArgument(napi_env env, napi_value value) {
  return externalArgument(env, value, "hashes must be what start() gave");
}

static napi_value Start(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  bool sha1 = false, md5 = false;
  const char *usage = "start(sha1: boolean, md5: boolean)";
  if (!takeArguments(env, info, argv, 2, usage)) return NULL;
  if (napi_get_value_bool(env, argv[0], &sha1) != napi_ok || napi_get_value_bool(env, argv[1], &md5) != napi_ok) return throwType(env, usage);
  if (!haveOpenSsl) return throwError(env, "this Node.js exports no OpenSSL digests");
  Hashes *hashes = calloc(1, sizeof *hashes);
  if (hashes == NULL) return throwError(env, "out of memory");
  bool ready = true;
  if (sha1) ready = (hashes->sha1 = mdCtxNew()) != NULL && digestInit(hashes->sha1, mdSha1(), NULL) == 1;
  if (md5 && ready) ready = (hashes->md5 = mdCtxNew()) != NULL && digestInit(hashes->md5, mdMd5(), NULL) == 1;
  napi_value external;
  if (!ready || napi_create_external(env, hashes, finalizeHashes, NULL, &external) != napi_ok) {
    freeHashes(hashes);
    free(hashes);
    return throwError(env, "OpenSSL could not start a digest");
  }
  return external;
}

/** One update on its way to the pool and back. */
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref hashesRef;
  napi_ref piecesRef;
  Hashes *hashes;
  uint32_t count;
  struct { const unsigned char *bytes; size_t length; } *pieces;
} Update;

static void updateExecute(napi_env env, void *data) {
  (void)env;
  Update *update = data;
  Hashes *hashes = update->hashes;
  for (uint32_t i = 0; i < update->count; i++) {
    const unsigned char *bytes = update->pieces[i].bytes;
    size_t length = update->pieces[i].length;
    if (hashes->sha1 != NULL && digestUpdate(hashes->sha1, bytes, length) != 1) hashes->failed = true;
    if (hashes->md5 != NULL && digestUpdate(hashes->md5, bytes, length) != 1) hashes->failed = true;
  }
}

static void freeUpdate(napi_env env, Update *update) {
  if (update->hashesRef != NULL) napi_delete_reference(env, update->hashesRef);
  if (update->piecesRef != NULL) napi_delete_reference(env, update->piecesRef);
  if (update->work != NULL) napi_delete_async_work(env, update->work);
  free(update->pieces);
  free(update);
}

static void updateComplete(napi_env env, napi_status status, void *data) {
  Update *update = data;
  update->hashes->updating = false;
  napi_value nothing;
  napi_get_undefined(env, &nothing);
  if (status == napi_ok) {
    napi_resolve_deferred(env, update->deferred, nothing);
  } else {
    update->hashes->failed = true;
    napi_value message, error;
    napi_create_string_utf8(env, "the update was cancelled", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &error);
    napi_reject_deferred(env, update->deferred, error);
  }
  freeUpdate(env, update);
}

static napi_value UpdateHashes(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!takeArguments(env, info, argv, 2, "update(hashes, pieces)")) return NULL;
  Hashes *hashes = hashesArgument(env, argv[0]);
  if (hashes == NULL) return NULL;
  bool isArray = false;
  uint32_t count = 0;
  if (napi_is_array(env, argv[1], &isArray) != napi_ok || !isArray || napi_get_array_length(env, argv[1], &count) != napi_ok) {
    return throwType(env, "pieces must be an array of Uint8Arrays (Buffers)");
  }
  if (hashes->finished) return throwError(env, "these hashes are finished");
  if (hashes->updating) return throwError(env, "an update of these hashes is under way");
  Update *update = calloc(1, sizeof *update);
  if (update == NULL || (update->pieces = calloc(count > 0 ? count : 1, sizeof *update->pieces)) == NULL) {
    free(update);
    return throwError(env, "out of memory");
  }
  update->hashes = hashes;
  update->count = count;
  for (uint32_t i = 0; i < count; i++) {
    napi_value piece;
    bool isTypedArray = false;
    napi_typedarray_type type;
    size_t length = 0;
    void *bytes = NULL;
    if (napi_get_element(env, argv[1], i, &piece) != napi_ok || napi_is_typedarray(env, piece, &isTypedArray) != napi_ok || !isTypedArray ||
        napi_get_typedarray_info(env, piece, &type, &length, &bytes, NULL, NULL) != napi_ok || type != napi_uint8_array) {
      freeUpdate(env, update);
      return throwType(env, "pieces must be an array of Uint8Arrays (Buffers)");
    }
    update->pieces[i].bytes = bytes;
    update->pieces[i].length = length;
  }
  napi_value promise, name;
  if (napi_create_reference(env, argv[0], 1, &update->hashesRef) != napi_ok || napi_create_reference(env, argv[1], 1, &update->piecesRef) != napi_ok ||
      napi_create_promise(env, &update->deferred, &promise) != napi_ok) {
    freeUpdate(env, update);
    return throwError(env, "out of memory");
  }
  napi_create_string_utf8(env, "keepdav.contentHashes.update", NAPI_AUTO_LENGTH, &name);
  if (napi_create_async_work(env, NULL, name, updateExecute, updateComplete, update, &update->work) != napi_ok ||
      napi_queue_async_work(env, update->work) != napi_ok) {
    napi_value message, error;
    napi_create_string_utf8(env, "the update could not be queued", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &error);
    napi_reject_deferred(env, update->deferred, error);
    freeUpdate(env, update);
    return promise;
  }
  hashes->updating = true;
  return promise;
}

/** The digest of `ctx` as lower-case hex, or null when `ctx` is NULL. */
static napi_value hexDigest(napi_env env, EVP_MD_CTX *ctx, bool *ok) {
  napi_value value;
  if (ctx == NULL) {
    napi_get_null(env, &value);
    return value;
  }
  unsigned char digest[64];
  unsigned int length = 0;
  char hex[129];
  if (digestFinal(ctx, digest, &length) != 1 || length > 64) {
    *ok = false;
    napi_get_null(env, &value);
    return value;
  }
  for (unsigned int i = 0; i < length; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  napi_create_string_utf8(env, hex, 2 * length, &value);
  return value;
}

static napi_value Finish(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!takeArguments(env, info, argv, 1, "finish(hashes)")) return NULL;
  Hashes *hashes = hashesArgument(env, argv[0]);
  if (hashes == NULL) return NULL;
  if (hashes->finished) return throwError(env, "these hashes are finished");
  if (hashes->updating) return throwError(env, "an update of these hashes is under way");
  hashes->finished = true;
  if (hashes->failed) {
    freeHashes(hashes);
    return throwError(env, "OpenSSL refused an update");
  }
  bool ok = true;
  napi_value result;
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "sha1", hexDigest(env, hashes->sha1, &ok));
  napi_set_named_property(env, result, "md5", hexDigest(env, hashes->md5, &ok));
  freeHashes(hashes);
  return ok ? result : throwError(env, "OpenSSL could not finish a digest");
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value available;
  haveOpenSsl = lookUpOpenSsl();
  napi_get_boolean(env, haveOpenSsl, &available);
  napi_set_named_property(env, exports, "available", available);
  const ExportedFunction functions[] = {
    { "start", Start }, { "update", UpdateHashes }, { "finish", Finish },
  };
  return exportFunctions(env, exports, functions, sizeof functions / sizeof functions[0]);
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
