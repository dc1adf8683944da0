/*
 * Memory shared between the host and one confined sandbox process, for the process
 * backend's ring transport (src/sandbox/process/ring.ts): Node has no API to map a file
 * into an ArrayBuffer. A Node-API module (ABI-stable across Node versions), built by
 * scripts/build-native.mjs.
 *
 *   create(bytes) -> fd     a memfd of exactly `bytes`, sealed against shrinking, growing
 *                           and further sealing (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
 *                           close-on-exec (a spawn's stdio entry hands the child a copy)
 *   map(fd, bytes) -> ArrayBuffer
 *                           a MAP_SHARED read-write mapping of the first `bytes` of fd,
 *                           unmapped when the ArrayBuffer is collected; refuses an fd
 *                           whose size is not exactly `bytes` or that is not sealed so
 *   copy(target, source) -> bytes
 *                           memmove of min(target.length, source.length) bytes between two
 *                           Uint8Arrays: where one is on a SharedArrayBuffer (a pool slot),
 *                           V8 copies with relaxed atomics, byte by byte unless both sides
 *                           share an alignment (a 1 MiB copy: 50-470 us, against 25 here)
 *   waitReadable(fd, ms) -> boolean
 *                           poll(2) for input on fd for at most ms milliseconds: true when
 *                           it is readable (or at its end, or failed: a read then says
 *                           which), false when the time ran out (the sandbox's idle wait
 *                           before its memory-reducing collection: idle-memory.ts)
 *
 * SECURITY: the sandbox holds the same memfd. Were it able to shrink the file, the host's
 * next access to the mapping would raise SIGBUS and kill the host; the seals make
 * ftruncate fail for every holder, and the sandbox cannot remove them (F_SEAL_SEAL).
 * Everything else the sandbox can do to the shared bytes, the host's reader checks
 * (ring.ts copies before it parses, and bounds every index it reads).
 * Throws with the errno text on failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <node_api.h>

#define SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)
/* A ring of the process backend is well below this; the cap keeps a bad argument from mapping the address space. */
#define MAX_BYTES ((int64_t)1 << 30)

static napi_value fail(napi_env env, const char* what, int error) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", what, strerror(error));
  napi_throw_error(env, "FO_SHARED_MEMORY", message);
  return NULL;
}

static int read_args(napi_env env, napi_callback_info info, size_t wanted, napi_value* argv) {
  size_t argc = wanted;
  return napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == wanted;
}

static napi_value create(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int64_t bytes = 0;
  if (!read_args(env, info, 1, argv) || napi_get_value_int64(env, argv[0], &bytes) != napi_ok || bytes < 4096 || bytes > MAX_BYTES || bytes % 4096 != 0) {
    napi_throw_type_error(env, NULL, "expected a size in bytes: a multiple of 4096 from 4096 to 1 GiB");
    return NULL;
  }
  int fd = memfd_create("forge-sandbox-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return fail(env, "memfd_create", errno);
  if (ftruncate(fd, (off_t)bytes) != 0 || fcntl(fd, F_ADD_SEALS, SEALS) != 0) {
    int error = errno;
    close(fd);
    return fail(env, "sizing and sealing the memfd", error);
  }
  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

static void unmap(napi_env env, void* data, void* hint) {
  (void)env;
  munmap(data, (size_t)(uintptr_t)hint);
}

static napi_value map(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd = -1;
  int64_t bytes = 0;
  if (!read_args(env, info, 2, argv) || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int64(env, argv[1], &bytes) != napi_ok || fd < 0 || bytes < 4096 || bytes > MAX_BYTES) {
    napi_throw_type_error(env, NULL, "expected a file descriptor and a size in bytes from 4096 to 1 GiB");
    return NULL;
  }
  struct stat info_;
  if (fstat(fd, &info_) != 0) return fail(env, "fstat", errno);
  if ((int64_t)info_.st_size != bytes) return fail(env, "the shared memory is not of the expected size", EINVAL);
  int seals = fcntl(fd, F_GET_SEALS);
  if (seals < 0) return fail(env, "F_GET_SEALS", errno);
  if ((seals & SEALS) != SEALS) return fail(env, "the shared memory is not sealed against resizing", EPERM);
  void* data = mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) return fail(env, "mmap", errno);
  napi_value result;
  if (napi_create_external_arraybuffer(env, data, (size_t)bytes, unmap, (void*)(uintptr_t)bytes, &result) != napi_ok) {
    munmap(data, (size_t)bytes);
    napi_throw_error(env, "FO_SHARED_MEMORY", "napi_create_external_arraybuffer failed");
    return NULL;
  }
  return result;
}

static int bytes_of(napi_env env, napi_value value, uint8_t** data, size_t* length) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  void* start;
  if (napi_get_typedarray_info(env, value, &type, length, &start, &buffer, &offset) != napi_ok || type != napi_uint8_array) return 0;
  *data = (uint8_t*)start;
  return 1;
}

static napi_value copy(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  uint8_t *target, *source;
  size_t target_length, source_length;
  if (!read_args(env, info, 2, argv) || !bytes_of(env, argv[0], &target, &target_length) || !bytes_of(env, argv[1], &source, &source_length)) {
    napi_throw_type_error(env, "FO_SHARED_MEMORY", "copy(target, source) takes two Uint8Arrays");
    return NULL;
  }
  size_t count = target_length < source_length ? target_length : source_length;
  if (count > 0) memmove(target, source, count);
  napi_value result;
  napi_create_double(env, (double)count, &result);
  return result;
}

static napi_value wait_readable(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd, ms;
  if (!read_args(env, info, 2, argv) || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int32(env, argv[1], &ms) != napi_ok || fd < 0 || ms < 0) {
    napi_throw_type_error(env, "FO_SHARED_MEMORY", "waitReadable(fd, ms) takes two non-negative integers");
    return NULL;
  }
  struct pollfd watched = { .fd = fd, .events = POLLIN, .revents = 0 };
  int ready = poll(&watched, 1, ms);
  napi_value result;
  /* Interrupted (EINTR) or failed: readable, so the caller's blocking read decides. */
  napi_get_boolean(env, ready != 0, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "copy", NAPI_AUTO_LENGTH, copy, NULL, &fn);
  napi_set_named_property(env, exports, "copy", fn);
  napi_create_function(env, "waitReadable", NAPI_AUTO_LENGTH, wait_readable, NULL, &fn);
  napi_set_named_property(env, exports, "waitReadable", fn);
  napi_create_function(env, "create", NAPI_AUTO_LENGTH, create, NULL, &fn);
  napi_set_named_property(env, exports, "create", fn);
  napi_create_function(env, "map", NAPI_AUTO_LENGTH, map, NULL, &fn);
  napi_set_named_property(env, exports, "map", fn);
  return exports;
}
