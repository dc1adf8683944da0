/**
 * An idle sandbox gives back the memory its last burst of work touched. Node runs V8's
 * memory reducer from a task on its event loop; a sandbox waits for its next frame in a
 * blocking read on its main thread (ring.ts), so that task never runs, and the young
 * generation its load touched (two 1 MiB semi-spaces, about 1.4 MiB of an idle sandbox's
 * private memory: docs/sandbox.md) stays resident for its whole life. Instead, before a
 * sandbox blocks on its doorbell it waits up to {@link IDLE_COLLECT_MS} for it; when
 * nothing rang by then it runs one memory-reducing collection (native/memory-reducer.cc:
 * two to seven full collections, the new space shrunk, free pages returned to the kernel)
 * and then blocks as before. Once per idle period: the next collection waits for the next
 * frame and another idle period after it.
 *
 * The cost: a call that arrives during the collection waits for it to end (3-50 ms on a
 * loaded 2-CPU machine, docs/sandbox.md); only a call that comes just after two idle
 * seconds can meet one.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** How long a sandbox waits on its doorbell before it collects, in ms. */
export const IDLE_COLLECT_MS = 2000;

/** native/memory-reducer.cc. */
export interface MemoryReducerModule {
  /** v8::Isolate::LowMemoryNotification(). */
  reduce(): void;
}

/** The native module, or undefined when it was not built (no C++ compiler) or was built for another Node. */
export function memoryReducer(): MemoryReducerModule | undefined {
  try {
    return createRequire(import.meta.url)(fileURLToPath(new URL('../../native/memory-reducer.node', import.meta.url))) as MemoryReducerModule;
  } catch {
    return undefined;
  }
}

/**
 * What a sandbox's ring runs before it blocks on its doorbell `bell`: waits up to
 * `delayMs` for the doorbell (`waitReadable`, poll(2)); when it stayed silent, one
 * memory-reducing collection. Returns either way; the caller's blocking read follows.
 */
export function idleCollector(waitReadable: (fd: number, ms: number) => boolean, reducer: MemoryReducerModule, delayMs = IDLE_COLLECT_MS): (bell: number) => void {
  return (bell) => {
    if (!waitReadable(bell, delayMs)) reducer.reduce();
  };
}
