import { ForgeError } from '@forgeone/common';
import type { AtomicWaitSite, ModuleInfo } from './analyze.js';
import { engine, type CompiledModule } from './engine.js';
import { WAIT_OPS, type Regions } from './instructions.js';
import { importCounts, type DecodedModule } from './model.js';

/**
 * Threads (shared memories and atomic waits) are the one way a guest can stop its own
 * thread without spending fuel: `memory.atomic.wait32` on a shared memory sleeps until
 * its timeout, which the guest chooses (-1 is forever). On the inline backend that thread
 * is the host's. Everything else in the threads proposal is harmless on one thread:
 * atomic loads, stores and read-modify-writes are ordinary accesses, `atomic.fence` does
 * nothing, and `memory.atomic.notify` wakes nobody (no other thread waits), so they need
 * no permission.
 */

/**
 * The custom section instrumentation appends to a module that can block its thread (a
 * shared memory and an atomic wait), so a backend can tell from the compiled module
 * alone. Its contents say what was found, as UTF-8 text.
 */
export const MAY_BLOCK_SECTION = 'forgeone.may-block';

/**
 * Refuses shared memories and atomic waits unless `granted` (the manifest's
 * `permissions.threads`).
 *
 * @throws ForgeError FO_RUNTIME_SHARED_MEMORY_DENIED naming the first shared memory
 *   (imported or defined); FO_RUNTIME_ATOMIC_WAIT_DENIED naming the first wait
 *   instruction, its function and byte offset, and how many there are
 */
export function checkThreads(info: Pick<ModuleInfo, 'memories' | 'atomicWaits'>, granted: boolean): void {
  if (granted) return;
  const shared = info.memories.findIndex((memory) => memory.shared);
  if (shared !== -1) {
    const imported = info.memories[shared]?.imported === true;
    throw new ForgeError(
      'FO_RUNTIME_SHARED_MEMORY_DENIED',
      `memories: expected none shared (permissions.threads is not granted), found memory ${shared}${imported ? ' (imported)' : ''} declared shared`,
      { details: { memory: shared, imported } },
    );
  }
  const first = info.atomicWaits.first;
  if (first !== undefined) {
    throw new ForgeError(
      'FO_RUNTIME_ATOMIC_WAIT_DENIED',
      `instructions: expected no atomic wait (permissions.threads is not granted), found ${describeWaits(first, info.atomicWaits.count)}`,
      { details: { instruction: first.instruction, function: first.function, offset: first.offset, count: info.atomicWaits.count } },
    );
  }
}

/** Gathers the atomic waits of a module's bodies as the decoder hands them over (its `onBody`). */
export class WaitCollector {
  #count = 0;
  #first: AtomicWaitSite | undefined;

  /** Records the waits of body `index` (defined functions only) from its scan. */
  add(index: number, regions: Regions, module: DecodedModule): void {
    if (regions.waits.length === 0) return;
    this.#count += regions.waits.length / 2;
    this.#first ??= {
      instruction: WAIT_OPS[regions.waits[1] as number] ?? 'memory.atomic.wait32',
      function: importCounts(module).functions + index,
      offset: regions.waits[0] as number,
    };
  }

  /** How many waits, and the first. */
  get summary(): ModuleInfo['atomicWaits'] {
    return this.#first === undefined ? { count: this.#count } : { count: this.#count, first: this.#first };
  }
}

/** "memory.atomic.wait32 in function 3 at byte 120 (and 4 more)". */
export function describeWaits(first: AtomicWaitSite, count: number): string {
  return `${first.instruction} in function ${first.function} at byte ${first.offset}${count > 1 ? ` (and ${count - 1} more)` : ''}`;
}

/**
 * Why a compiled module can block the thread that runs it (the contents of its
 * {@link MAY_BLOCK_SECTION}), or undefined when it cannot.
 */
export function threadBlockingReason(module: CompiledModule): string | undefined {
  const sections = engine.Module.customSections(module, MAY_BLOCK_SECTION);
  if (sections.length === 0) return undefined;
  return new TextDecoder().decode(sections[0]);
}
