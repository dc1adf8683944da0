/**
 * Recording the host calls a plugin makes during one call, for tracing: the gate says
 * which call was decided and how, the import wrapper says when the host call started
 * and ended. Both run in the thread that hosts the plugin (a pool worker, or the host
 * thread for the inline backend); the records travel back with the call's answer and
 * become child spans of the call's span on the host thread.
 *
 * Only a spec built with `traceHostCalls` gets the wrappers; recording itself happens
 * only between {@link HostCallRecorder.begin} and {@link HostCallRecorder.finish}, so a
 * call nobody traces pays one branch per host call. A call records at most
 * {@link MAX_TRACED_HOST_CALLS} host calls and counts the rest: a plugin that makes a
 * million host calls cannot make its trace grow without bound.
 */
import type { HostCallGate } from '@forgeone/common';
import { MAX_TRACED_HOST_CALLS, type CallProbe, type HostCallRecord } from './spec.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Now, in ms since the epoch (fractional), comparable across threads. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** The host calls of one plugin instance's current call. Not thread-safe; one call at a time. */
export class HostCallRecorder {
  readonly #kindOf: (call: string) => string;
  #on = false;
  #records: Mutable<HostCallRecord>[] = [];
  #dropped = 0;

  /** @param kindOf the resource kind of a call in the policy catalog */
  constructor(kindOf: (call: string) => string) {
    this.#kindOf = kindOf;
  }

  /** True between {@link begin} and {@link finish}. */
  get recording(): boolean {
    return this.#on;
  }

  /** Starts recording a call's host calls. */
  begin(): void {
    this.#on = true;
    this.#records = [];
    this.#dropped = 0;
  }

  /** Stops recording and hands what was recorded to `probe` (when given). */
  finish(probe?: Pick<CallProbe, 'hostCalls' | 'droppedHostCalls'>): void {
    if (!this.#on) return;
    this.#on = false;
    if (probe !== undefined) {
      probe.hostCalls = this.#records;
      probe.droppedHostCalls = this.#dropped;
    }
    this.#records = [];
  }

  /** The gate decided `call` (allowed or not); its times are set when its import returns. */
  decided(call: string, allowed: boolean): void {
    if (!this.#on) return;
    if (this.#records.length >= MAX_TRACED_HOST_CALLS) {
      this.#dropped += 1;
      return;
    }
    const now = epochNow();
    this.#records.push({ call, decision: allowed ? 'allow' : 'deny', resourceKind: this.#kindOf(call), start: now, end: now });
  }

  /** `gate` with every decision also reported to this recorder. */
  gate(gate: HostCallGate): HostCallGate {
    return {
      check: (call, resource, access, requested) => {
        const denial = gate.check(call, resource, access, requested);
        this.decided(call, denial === undefined);
        return denial;
      },
      refuse: (call, resource, reason, requested) => {
        gate.refuse(call, resource, reason, requested);
        this.decided(call, false);
      },
    };
  }

  /** Wraps an imported function so the host calls it decides get its start and end times. */
  wrap(fn: (...args: never[]) => unknown): (...args: never[]) => unknown {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the wrapper is a function, not a method.
    const recorder = this;
    return function traced(this: unknown, ...args: never[]): unknown {
      if (!recorder.#on) return fn.apply(this, args);
      const first = recorder.#records.length;
      const start = epochNow();
      try {
        return fn.apply(this, args);
      } finally {
        const end = epochNow();
        const records = recorder.#records;
        for (let i = first; i < records.length; i += 1) {
          const record = records[i];
          if (record === undefined) continue;
          record.start = start;
          record.end = end;
        }
      }
    };
  }
}
