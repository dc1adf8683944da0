/**
 * native/shared-memory.c, loaded once per thread: the process backend's shared ring
 * (sandbox/process/ring.ts) and copies into and out of shared memory (bytes-copy.ts).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** native/shared-memory.c. */
export interface SharedMemoryModule {
  /** A sealed memfd of `bytes` (close-on-exec). */
  create(bytes: number): number;
  /** A shared mapping of a sealed memfd of exactly `bytes`. */
  map(fd: number, bytes: number): ArrayBuffer;
  /** Polls `fd` for input up to `ms`: false when the time ran out. */
  waitReadable(fd: number, ms: number): boolean;
  /** memmove of min(target.length, source.length) bytes; returns how many. */
  copy(this: void, target: Uint8Array, source: Uint8Array): number;
}

let loaded: SharedMemoryModule | null | undefined;

/**
 * The module's path: dist/native/, one level above this file's folder, or two above the
 * sandbox's bundle (dist/sandbox/process/sandbox-child.cjs), whose own URL
 * `import.meta.url` is there.
 */
function modulePath(): string | undefined {
  return ['../native/shared-memory.node', '../../native/shared-memory.node'].map((relative) => fileURLToPath(new URL(relative, import.meta.url))).find((path) => existsSync(path));
}

/** The native module, or undefined when it was not built (no C compiler). */
export function sharedMemory(): SharedMemoryModule | undefined {
  if (loaded === undefined) {
    try {
      const path = modulePath();
      loaded = path === undefined ? null : (createRequire(import.meta.url)(path) as SharedMemoryModule);
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}
