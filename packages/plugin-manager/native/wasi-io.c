/*
 * WASI preview1's file reads and writes in one system call each: fd_read, fd_pread,
 * fd_write and fd_pwrite on a host file hand the kernel the guest's whole iovec list
 * (preadv(2) / pwritev(2); pread(2) / pwrite(2) for a single iovec) straight into or
 * out of the guest's memory, with no per-iovec round trip through Node's fs layer. A
 * Node-API module (ABI-stable across Node versions), built by scripts/build-native.mjs;
 * src/runtime/wasi-p1/host-io.ts loads it, and does the same with node:fs without it.
 *
 *   preadv(fd, memory, iovs, count, position) -> bytes read, or -errno
 *   pwritev(fd, memory, iovs, count, position) -> bytes written, or -errno
 *
 *     fd        a host file descriptor
 *     memory    a Uint8Array over the guest's memory
 *     iovs      where the list starts in memory: `count` pairs of little-endian u32
 *               (buffer offset, buffer length), preview1's iovec/ciovec layout
 *     position  the file offset, an integer from 0 to 2^53 - 1
 *
 * SECURITY: the guest writes the iovec list, so nothing in it is trusted. The adapter
 * checks every iovec before it calls here; this module checks again, on its own, and
 * touches nothing unless the list and every buffer it names lie inside `memory`:
 * otherwise it returns -EFAULT (-EINVAL for more than IOV_MAX iovecs) with no byte
 * moved. Offsets and lengths are added in 64 bits, so no u32 sum wraps around.
 * A list of zero bytes in all makes no system call and returns 0. EINTR is retried.
 * Other failures come back as the kernel's errno, negated, for the caller to map to
 * preview1's errno; a wrong argument (a bug in the caller, never guest input) throws
 * a TypeError.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <sys/uio.h>
#include <unistd.h>
#include <node_api.h>

/* POSIX IOV_MAX on Linux; preview1 guests get EINVAL beyond it (docs/wasi.md). */
#define MAX_IOVECS 1024
/* Largest file offset the JS side handles (Number.MAX_SAFE_INTEGER). */
#define MAX_POSITION 9007199254740991.0

typedef ssize_t (*vectors_fn)(int, const struct iovec*, int, off_t);

/* One iovec (the usual case) goes as pread/pwrite: the kernel then imports no vector. */
typedef struct {
  vectors_fn vectors;
  int write;
} transfer_fn;

static uint32_t u32le(const uint8_t* at) {
  return (uint32_t)at[0] | (uint32_t)at[1] << 8 | (uint32_t)at[2] << 16 | (uint32_t)at[3] << 24;
}

static napi_value number(napi_env env, double value) {
  napi_value result;
  napi_create_double(env, value, &result);
  return result;
}

static napi_value transfer(napi_env env, napi_callback_info info, transfer_fn call) {
  size_t argc = 5;
  napi_value argv[5];
  int32_t fd = -1;
  uint32_t iovs = 0, count = 0;
  double position = -1;
  napi_typedarray_type type;
  size_t length = 0;
  void* data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 5 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_typedarray_info(env, argv[1], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_uint8_array ||
      napi_get_value_uint32(env, argv[2], &iovs) != napi_ok || napi_get_value_uint32(env, argv[3], &count) != napi_ok ||
      napi_get_value_double(env, argv[4], &position) != napi_ok || !(position >= 0 && position <= MAX_POSITION) || position != (double)(int64_t)position) {
    napi_throw_type_error(env, "FO_INTERNAL_UNEXPECTED", "expected (fd, Uint8Array, iovs, count, position from 0 to 2^53 - 1)");
    return NULL;
  }
  if (count > MAX_IOVECS) return number(env, -EINVAL);
  const uint8_t* memory = (const uint8_t*)data;
  if ((uint64_t)iovs + (uint64_t)count * 8 > (uint64_t)length) return number(env, -EFAULT);
  struct iovec list[MAX_IOVECS];
  uint64_t total = 0;
  for (uint32_t index = 0; index < count; index += 1) {
    uint32_t ptr = u32le(memory + iovs + index * 8);
    uint32_t size = u32le(memory + iovs + index * 8 + 4);
    if ((uint64_t)ptr + size > (uint64_t)length) return number(env, -EFAULT);
    list[index].iov_base = (void*)(memory + ptr);
    list[index].iov_len = size;
    total += size;
  }
  if (total == 0) return number(env, 0);
  ssize_t done;
  do {
    if (count > 1) done = call.vectors(fd, list, (int)count, (off_t)position);
    else if (call.write) done = pwrite(fd, list[0].iov_base, list[0].iov_len, (off_t)position);
    else done = pread(fd, list[0].iov_base, list[0].iov_len, (off_t)position);
  } while (done < 0 && errno == EINTR);
  return number(env, done < 0 ? -(double)errno : (double)done);
}

static napi_value read_vectors(napi_env env, napi_callback_info info) {
  return transfer(env, info, (transfer_fn){ preadv, 0 });
}

static napi_value write_vectors(napi_env env, napi_callback_info info) {
  return transfer(env, info, (transfer_fn){ pwritev, 1 });
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "preadv", NAPI_AUTO_LENGTH, read_vectors, NULL, &fn);
  napi_set_named_property(env, exports, "preadv", fn);
  napi_create_function(env, "pwritev", NAPI_AUTO_LENGTH, write_vectors, NULL, &fn);
  napi_set_named_property(env, exports, "pwritev", fn);
  return exports;
}
