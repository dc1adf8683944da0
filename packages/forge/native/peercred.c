/*
 * SO_PEERCRED for forge daemon's unix socket: who (pid, uid, gid) is at the other end of
 * a connected socket, as the kernel recorded it at connect time. Node has no API for it.
 * A Node-API module (ABI-stable across Node versions), built by scripts/build-native.mjs.
 *
 *   peerCredentials(fd) -> { pid, uid, gid }    throws with the errno text on failure
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <node_api.h>

static napi_value peer_credentials(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "expected one file descriptor");
    return NULL;
  }
  struct ucred cred;
  socklen_t length = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0 || length != sizeof cred) {
    napi_throw_error(env, "FO_PEERCRED", strerror(errno));
    return NULL;
  }
  napi_value result, value;
  napi_create_object(env, &result);
  napi_create_int32(env, cred.pid, &value);
  napi_set_named_property(env, result, "pid", value);
  napi_create_uint32(env, cred.uid, &value);
  napi_set_named_property(env, result, "uid", value);
  napi_create_uint32(env, cred.gid, &value);
  napi_set_named_property(env, result, "gid", value);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "peerCredentials", NAPI_AUTO_LENGTH, peer_credentials, NULL, &fn);
  napi_set_named_property(env, exports, "peerCredentials", fn);
  return exports;
}
