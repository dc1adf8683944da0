/*
 * What the two halves of the native chain module share (chain-fill.c: filling a batch's
 * chain when writing; chain-check.c: checking a scanned chunk's chain when verifying).
 * Both are compiled into one Node-API module, chain-fill.node (scripts/build-native.mjs);
 * chain-fill.c's NAPI_MODULE_INIT exports both functions.
 */
#ifndef FORGEONE_CHAIN_NATIVE_H
#define FORGEONE_CHAIN_NATIVE_H

#define OPENSSL_SUPPRESS_DEPRECATED
#include <stddef.h>
#include <stdint.h>
#include <node_api.h>
#include <openssl/sha.h>

#define HEX_LENGTH 64
/* strlen(",\"hash\":\"") */
#define HASH_OPEN_LENGTH 9

/* Whether `value` is a typed array of type `wanted`; sets its data and its length in elements. */
static inline int chain_typed_array(napi_env env, napi_value value, napi_typedarray_type wanted, void** data, size_t* length) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  return napi_get_typedarray_info(env, value, &type, length, data, &buffer, &offset) == napi_ok && type == wanted && (*data != NULL || *length == 0);
}

/* Whether `text` is `length` lowercase hex characters. */
static inline int chain_is_lower_hex(const uint8_t* text, size_t length) {
  for (size_t i = 0; i < length; i += 1) {
    uint8_t c = text[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
  }
  return 1;
}

/* The lowercase hex sha256 of data[0, length) into hex[0, 64); 0 when OpenSSL fails. */
static inline int chain_sha256_hex(const uint8_t* data, size_t length, uint8_t* hex) {
  static const char digits[] = "0123456789abcdef";
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256_CTX context;
  if (!SHA256_Init(&context) || !SHA256_Update(&context, data, length) || !SHA256_Final(digest, &context)) return 0;
  for (int i = 0; i < SHA256_DIGEST_LENGTH; i += 1) {
    hex[2 * i] = (uint8_t)digits[digest[i] >> 4];
    hex[2 * i + 1] = (uint8_t)digits[digest[i] & 15];
  }
  return 1;
}

/* chain-check.c's `check`. */
napi_value chain_check(napi_env env, napi_callback_info info);

#endif
