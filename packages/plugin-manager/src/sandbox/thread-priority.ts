/**
 * A worker thread's CPU priority and time slice: the pool's isolation worker lowers its
 * priority (pool-protocol.ts, ISOLATION_NICE), so that the hot plugins kept there yield the
 * CPU to the others; the regular workers take the pool's `workerNice` when it is set, and
 * a short time slice (`workerSliceUs`, pool.ts), so that a call's wake-up is not queued
 * behind other programs' CPU-bound work (docs/sandbox.md, "Waiting under contention").
 */
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { getPriority, platform, release, setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';

/** The lowest (most favoured) nice value. */
export const NICE_MIN = -20;
/** The highest nice value. */
export const NICE_MAX = 19;

/** This thread's id (Linux, /proc/thread-self), or undefined where threads cannot be told apart. */
function threadId(): number | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Sets this thread's nice value (Linux: setpriority on the thread's own id, which touches
 * no other thread). Raising it needs no privilege; where threads cannot be told apart
 * (no /proc/thread-self) nothing changes ({@link niceRefusal} says so beforehand).
 * @throws Error (a SystemError: EACCES) when lowering it is not permitted
 */
export function niceThread(nice: number): void {
  const tid = threadId();
  if (tid !== undefined) setPriority(tid, nice);
}

/**
 * Why threads this thread starts could not take nice value `nice`, or undefined when they
 * can. They start with this thread's nice value; raising it needs no privilege, lowering
 * it needs CAP_SYS_NICE or an RLIMIT_NICE soft limit of at least 20 - nice (setpriority(2)).
 * Read from /proc/self: in a user namespace the capability it shows may not count (the
 * kernel checks it in the initial namespace); the thread's own setpriority then fails.
 */
export function niceRefusal(nice: number): string | undefined {
  if (threadId() === undefined) return 'threads cannot be told apart here (no /proc/thread-self): only Linux sets a thread’s nice value';
  const current = getPriority();
  if (nice >= current) return undefined;
  const status = readOrEmpty('/proc/self/status');
  const effective = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  const CAP_SYS_NICE = 23n;
  if (effective !== undefined && ((BigInt(`0x${effective}`) >> CAP_SYS_NICE) & 1n) === 1n) return undefined;
  const limit = /^Max nice priority\s+(\S+)/m.exec(readOrEmpty('/proc/self/limits'))?.[1];
  const soft = limit === 'unlimited' ? Number.POSITIVE_INFINITY : Number(limit ?? 0);
  if (20 - nice <= soft) return undefined;
  return `lowering the nice value from ${current} to ${nice} needs CAP_SYS_NICE or an RLIMIT_NICE soft limit of at least ${20 - nice} (this process has ${limit ?? 'none'})`;
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The shortest and longest time slice the kernel takes, in microseconds. */
export const SLICE_MIN_US = 100;
export const SLICE_MAX_US = 100_000;

/** native/thread-sched.c. */
interface ThreadSchedModule {
  /** Sets the calling thread's slice; returns the slice the kernel then reports, in ns. */
  setSlice(ns: number): number;
  /** The CPU the calling thread runs on now, -1 when it cannot be told. */
  cpu(): number;
  /** Moves this thread off CPU `cpu` (its first mask minus that CPU; -1: the first mask); false when that leaves none. */
  avoidCpu(cpu: number): boolean;
}

let loaded: ThreadSchedModule | null | undefined;

/** The native module (dist/native/, next to this file's folder or two above the sandbox's bundle), or undefined when it was not built. */
function threadSched(): ThreadSchedModule | undefined {
  if (loaded === undefined) {
    try {
      const path = ['../native/thread-sched.node', '../../native/thread-sched.node'].map((relative) => fileURLToPath(new URL(relative, import.meta.url))).find((candidate) => existsSync(candidate));
      loaded = path === undefined ? null : (createRequire(import.meta.url)(path) as ThreadSchedModule);
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}

/** Whether native/thread-sched.c was built and loads here (npm run build builds it where a C compiler is). */
export function threadSchedBuilt(): boolean {
  return threadSched() !== undefined;
}

/**
 * The CPU this thread runs on now (sched_getcpu, no system call), or -1 where that cannot
 * be told (no native module, not Linux). Read per pool call by the host thread and the
 * worker (pool-protocol.ts, RequestWords.cpu): costs about what a property read through
 * Node-API does.
 */
export function currentCpu(): number {
  const sched = threadSched();
  return sched === undefined ? -1 : sched.cpu();
}

/**
 * Keeps a pool worker thread off the CPU its host thread runs on. The two hand each call
 * back and forth, each spinning for the other's answer: on one CPU the spinner only keeps
 * the other from running (measured on two cores with a CPU-bound process per core: a call
 * 24-25 us median with the two threads on one CPU, 2.5-3.3 us on two; where the kernel
 * puts them is chance, and it keeps them there). Each job says the CPU the host wrote it on
 * (RequestWords.cpu); a worker found on that CPU moves off it (sched_setaffinity: the mask
 * it started with minus that CPU, so it never runs where it could not before) and parks
 * instead of spinning. A job the host does not wait for synchronously gives the thread its
 * whole mask back. Where the native module or the CPU number is missing, nothing happens.
 */
export class HostCpuAvoider {
  /** The CPU this thread is kept off, -1 for none. */
  #avoiding = -1;

  /** Made when the thread starts serving: the CPUs it has now are the most it is ever given back. */
  constructor() {
    try {
      threadSched()?.avoidCpu(-1);
    } catch {
      // No affinity here: moving fails the same way, and is skipped.
    }
  }

  /**
   * Called for each job the host does not wait for synchronously (RequestWords.cpu -1): a
   * thread kept off a CPU gets its whole mask back (two long calls at once then use every CPU).
   */
  release(): void {
    if (this.#avoiding >= 0) this.#move(-1);
  }

  /** @returns true when this thread runs on `hostCpu` (-1: unknown) and should not spin; it then moves off that CPU */
  sharing(hostCpu: number): boolean {
    if (hostCpu < 0) return false;
    const sched = threadSched();
    if (sched === undefined || sched.cpu() !== hostCpu) return false;
    // Again even when it moved off that CPU before: something else set its mask since.
    this.#move(hostCpu);
    return true;
  }

  #move(cpu: number): void {
    try {
      if (threadSched()?.avoidCpu(cpu) === true) this.#avoiding = cpu;
    } catch {
      // Best effort: a mask the system will not take leaves the thread where it is.
    }
  }
}

/**
 * Why a worker thread could not be given its own time slice here, or undefined when it
 * can: Linux 6.12 or later (earlier kernels ignore the slice of a normal thread) and the
 * native module (scripts/build-native.mjs).
 */
export function sliceRefusal(): string | undefined {
  if (platform() !== 'linux') return 'only Linux sets a thread’s time slice';
  const [major = 0, minor = 0] = release().split('.').map((part) => Number.parseInt(part, 10));
  if (major < 6 || (major === 6 && minor < 12)) return `Linux ${release()} ignores a normal thread’s time slice (6.12 or later reads it)`;
  if (threadSched() === undefined) return 'the native module thread-sched.node was not built (scripts/build-native.mjs needs a C compiler)';
  return undefined;
}

/**
 * Asks the kernel for a time slice of `us` microseconds for this thread (its policy and
 * nice value unchanged; no privilege needed): woken, it preempts a thread running a longer
 * slice instead of waiting for that slice to end.
 * @throws Error when that cannot be done, or the kernel does not keep it
 */
export function sliceThread(us: number): void {
  const refusal = sliceRefusal();
  if (refusal !== undefined) throw new Error(`cannot set this thread’s time slice: ${refusal}`);
  const ns = us * 1000;
  const kept = (threadSched() as ThreadSchedModule).setSlice(ns);
  if (kept !== ns) throw new Error(`the kernel did not keep this thread’s time slice of ${us} us (it reports ${kept / 1000} us)`);
}

/**
 * A worker's time slice: short while it parks (so that, woken, it preempts), the kernel's
 * while it spins for its next request (a spinning thread uses a short slice up and is then
 * queued behind the others' full slices: measured, with the slice kept while spinning a pool
 * beside other programs' work sent about 10% of its calls through the event loop, p90 120 us
 * against 41-44). A worker that keeps parking, or keeps spinning, makes no system call; one
 * that parks after a spin ran out makes two per job. It starts short (a new worker parks
 * until its first job).
 */
export class SliceSwitch {
  readonly #us: number | undefined;
  #short = true;

  /** `us`: the short slice; undefined: the kernel's, always. */
  constructor(us: number | undefined) {
    this.#us = us;
  }

  /** Called before the worker parks (true) or spins (false). */
  parking(parks: boolean): void {
    if (this.#us === undefined || parks === this.#short) return;
    this.#short = parks;
    try {
      threadSched()?.setSlice(parks ? this.#us * 1000 : 0);
    } catch {
      // Best effort after start: the slice was set and checked once (applyThreadPriority).
    }
  }
}

/** What a pool worker thread sets on itself at start (PoolWorkerData). */
export interface ThreadPriority {
  readonly nice?: number;
  /** A time slice in microseconds, and whether failing to set it fails the worker (else it keeps the kernel's). */
  readonly slice?: { readonly us: number; readonly required: boolean };
}

/**
 * Applies `priority` to this thread.
 * @throws Error when a nice value below the thread's own is not permitted, or a required slice cannot be set
 */
export function applyThreadPriority(priority: ThreadPriority): void {
  if (priority.nice !== undefined) niceThread(priority.nice);
  const slice = priority.slice;
  if (slice === undefined) return;
  try {
    sliceThread(slice.us);
  } catch (error) {
    if (slice.required) throw error;
  }
}
