/*
 * A pool worker thread's time slice (src/sandbox/thread-priority.ts): Node has no API for
 * sched_setattr. A Node-API module, built by scripts/build-native.mjs.
 *
 *   setSlice(ns) -> ns      asks the kernel for a time slice of `ns` nanoseconds (0: its
 *                           default again) for the
 *                           calling thread (sched_setattr's sched_runtime, which Linux 6.12
 *                           and later read for the normal policies: a thread with a shorter
 *                           slice than the running one preempts it when it wakes, where it
 *                           would otherwise wait for that one's slice to end), keeping its
 *                           policy and nice value; returns the slice the kernel then reports
 *                           (0, or the default slice, where the kernel ignores it)
 *   cpu() -> number         the CPU the calling thread runs on now (sched_getcpu: glibc
 *                           reads it from the thread's rseq area or the vDSO, no system
 *                           call), -1 when it cannot be told
 *   avoidCpu(cpu) -> bool   moves the calling thread off CPU `cpu`: its affinity becomes the
 *                           mask it had at its first avoidCpu call minus that CPU (so a later
 *                           call with another CPU gives the first one back; never wider than
 *                           that first mask); -1 restores the first mask. Returns false,
 *                           changing nothing, when that leaves no CPU
 *
 * Only a thread under SCHED_OTHER or SCHED_BATCH is touched (the policy is never changed;
 * a real-time thread is refused). Neither a shorter slice nor the call needs privilege: the
 * thread's share of the CPU (its weight, from its nice value) is the same, it only runs in
 * shorter turns. Throws with the errno text on failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <node_api.h>
#include <sched.h>

/* struct sched_attr, first version (48 bytes): no utilization clamps. */
struct slice_attr {
  uint32_t size;
  uint32_t policy;
  uint64_t flags;
  int32_t nice;
  uint32_t priority;
  uint64_t runtime;
  uint64_t deadline;
  uint64_t period;
};

#define POLICY_OTHER 0
#define POLICY_BATCH 3
#define FLAG_RESET_ON_FORK 0x01
/* The kernel clamps a slice to 0.1-100 ms. */
#define MIN_SLICE_NS 100000.0
#define MAX_SLICE_NS 100000000.0

static napi_value fail(napi_env env, const char* what, int error) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", what, strerror(error));
  napi_throw_error(env, "FO_THREAD_SCHED", message);
  return NULL;
}

static int get_attr(struct slice_attr* attr) {
  memset(attr, 0, sizeof *attr);
  return (int)syscall(SYS_sched_getattr, 0, attr, (unsigned int)sizeof *attr, 0);
}

static napi_value set_slice(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  double ns;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 || napi_get_value_double(env, argv[0], &ns) != napi_ok || !(ns == 0 || (ns >= MIN_SLICE_NS && ns <= MAX_SLICE_NS))) {
    napi_throw_range_error(env, "FO_THREAD_SCHED", "setSlice(ns): ns 0 (the kernel's default) or from 100000 to 100000000");
    return NULL;
  }
  struct slice_attr attr;
  if (get_attr(&attr) != 0) return fail(env, "sched_getattr", errno);
  if (attr.policy != POLICY_OTHER && attr.policy != POLICY_BATCH) {
    napi_throw_error(env, "FO_THREAD_SCHED", "setSlice: the thread is not under a normal scheduling policy");
    return NULL;
  }
  attr.size = sizeof attr;
  attr.flags &= FLAG_RESET_ON_FORK;
  attr.priority = 0;
  attr.runtime = (uint64_t)ns;
  attr.deadline = 0;
  attr.period = 0;
  if (syscall(SYS_sched_setattr, 0, &attr, 0) != 0) return fail(env, "sched_setattr", errno);
  if (get_attr(&attr) != 0) return fail(env, "sched_getattr", errno);
  napi_value result;
  napi_create_double(env, (double)attr.runtime, &result);
  return result;
}

/* The calling thread's affinity at its first avoid_cpu call (one per thread). */
static __thread cpu_set_t first_mask;
static __thread int first_taken = 0;

static napi_value avoid_cpu(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t cpu;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 || napi_get_value_int32(env, argv[0], &cpu) != napi_ok || cpu < -1 || cpu >= CPU_SETSIZE) {
    napi_throw_range_error(env, "FO_THREAD_SCHED", "avoidCpu(cpu): cpu -1 or a CPU number");
    return NULL;
  }
  if (!first_taken) {
    if (sched_getaffinity(0, sizeof first_mask, &first_mask) != 0) return fail(env, "sched_getaffinity", errno);
    first_taken = 1;
  }
  cpu_set_t mask = first_mask;
  if (cpu >= 0) CPU_CLR(cpu, &mask);
  napi_value result;
  int applied = CPU_COUNT(&mask) > 0;
  if (applied && sched_setaffinity(0, sizeof mask, &mask) != 0) return fail(env, "sched_setaffinity", errno);
  napi_get_boolean(env, applied, &result);
  return result;
}

static napi_value current_cpu(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_create_int32(env, sched_getcpu(), &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "cpu", NAPI_AUTO_LENGTH, current_cpu, NULL, &fn);
  napi_set_named_property(env, exports, "cpu", fn);
  napi_create_function(env, "avoidCpu", NAPI_AUTO_LENGTH, avoid_cpu, NULL, &fn);
  napi_set_named_property(env, exports, "avoidCpu", fn);
  napi_create_function(env, "setSlice", NAPI_AUTO_LENGTH, set_slice, NULL, &fn);
  napi_set_named_property(env, exports, "setSlice", fn);
  return exports;
}
