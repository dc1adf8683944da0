/**
 * What a backend test observes: the events a handle emitted. Shared by the conformance
 * suite's files and the backends' own tests (codes come from `@forgeone/common/testing`
 * and, for relayed host refusals, abi/test-support/guest-code.ts).
 */
import type { HandleEvent, PluginHandle } from '../spec.js';

/** Every event `handle` emits from now on, in order. */
export function events(handle: PluginHandle): HandleEvent[] {
  const seen: HandleEvent[] = [];
  handle.onEvent((event) => seen.push(event));
  return seen;
}
