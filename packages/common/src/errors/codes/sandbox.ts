import type { ErrorSpec } from '../spec.js';

/** Codes for the isolation backends: CPU and time limits, workers, closing. */
export const SANDBOX_CODES = {
  FO_SANDBOX_SECCOMP_INVALID: {
    kind: 'invalid',
    summary:
      "The process backend's seccomp filter cannot be built as asked: a system call to deny has a name neither the x86_64 nor the aarch64 table knows, or the architecture is neither x64 nor arm64; details.problems lists every one.",
  },
  FO_SANDBOX_CPU_LIMIT: {
    kind: 'limit',
    summary: 'The guest used all its fuel (its CPU budget) and was stopped.',
  },
  FO_SANDBOX_INLINE_MAY_BLOCK: {
    kind: 'denied',
    summary:
      'The inline backend refuses a module that can block its thread (a shared memory and an atomic wait, allowed by permissions.threads): it cannot preempt the host thread. Host the plugin on the pool backend, whose call timeout replaces a stuck worker.',
  },
  FO_SANDBOX_TIMEOUT: {
    kind: 'limit',
    summary:
      "A call or lifecycle step ran past the plugin's wall-clock limit (timeoutMs); on the pool backend its worker thread was terminated and replaced.",
  },
  FO_SANDBOX_UNLOADED: {
    kind: 'conflict',
    summary: 'The plugin instance was unloaded (or its backend closed) before the call ran; the call did not run.',
  },
  FO_SANDBOX_WORKER_FAILED: {
    kind: 'unavailable',
    summary: 'The worker thread hosting the plugin exited unexpectedly during the call; the worker was replaced.',
  },
  FO_SANDBOX_RESTARTED: {
    kind: 'unavailable',
    summary:
      "The plugin's worker was replaced after a neighbour's timeout or crash; the instance was re-created with fresh state and this queued call did not run.",
  },
  FO_SANDBOX_WORKER_REPLACED: {
    kind: 'unavailable',
    summary:
      "The call was running when another plugin's timeout or crash replaced its worker; it may have had effects before it stopped. Not the plugin's failure: its instance was re-created with fresh state, and the call can be retried.",
  },
  FO_SANDBOX_CLOSED: {
    kind: 'conflict',
    summary: 'The isolation backend is closed; it loads no more plugins.',
  },
  FO_SANDBOX_BAD_OPTION: {
    kind: 'usage',
    summary: 'An isolation backend option (pool size, slot size, wait budget) is out of range; details.problems lists every one.',
  },
  FO_SANDBOX_UNAVAILABLE: {
    kind: 'unavailable',
    summary:
      'The host cannot confine a plugin the way the process backend needs: a cgroup controller, bubblewrap, user namespaces or seccomp is missing or not writable, or a cgroup file could not be used; the message names what is missing and details.path the file.',
  },
  FO_SANDBOX_MEMORY_LIMIT: {
    kind: 'limit',
    summary: "A confined plugin went over its cgroup's memory limit and the kernel killed it (details.oomKills counts the kills).",
  },
  FO_SANDBOX_PROTOCOL_VIOLATION: {
    kind: 'integrity',
    summary:
      "A confined plugin's process sent its host something the protocol does not allow (a malformed or oversized frame, a plugin or call it was not given, a field out of range). The host treats the process as compromised: it is killed, and the plugin whose job was running is failed.",
  },
} as const satisfies Record<string, ErrorSpec>;
