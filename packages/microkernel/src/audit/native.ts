/**
 * The native chain module, loaded once per thread, and this thread's switch for it.
 *
 * `native/chain-fill.c` and `native/chain-check.c` are built by scripts/build-native.mjs
 * into one Node-API module, dist/native/chain-fill.node, with two functions: `fill`
 * (chain-fill.ts: prev, sha256 and hash of a batch's records when writing) and `check`
 * (chain.ts: the chain check of a run of scanned lines when verifying). Without the
 * module (no C compiler at build time, or it does not load) both are done in JS, with
 * the same results.
 */
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

/** native/chain-fill.c's `fill`: fills records `from` up to the first checkpoint or `to`; returns where it stopped. */
export type NativeFill = (buf: Uint8Array, layout: Int32Array, from: number, to: number, prev: string) => number;

/**
 * native/chain-check.c's `check`: accepts the lines of `buf` from `start` that are good
 * next records, stopping before any it leaves to the JS check; returns where it stopped.
 * `io` is [last seq (in/out), seq not to accept (0: none), lines accepted (out)], `hash`
 * the last hash as 64 lowercase hex bytes (in/out).
 */
export type NativeCheck = (buf: Uint8Array, start: number, end: number, limit: number, maxLine: number, io: Float64Array, hash: Uint8Array) => number;

/** The module's functions. */
export interface NativeChain {
  readonly fill: NativeFill;
  readonly check: NativeCheck;
}

let loaded: NativeChain | null | undefined;
let enabled = true;

/**
 * dist/native/chain-fill.node, one level above this file's folder (dist/audit/).
 * RTLD_NOW: were an OpenSSL symbol missing from this Node, loading fails here (and JS
 * does the work) instead of a call aborting the process.
 */
function load(): NativeChain | null {
  if (loaded === undefined) {
    loaded = null;
    const path = fileURLToPath(new URL('../native/chain-fill.node', import.meta.url));
    if (existsSync(path)) {
      try {
        const module = { exports: {} as Partial<NativeChain> };
        process.dlopen(module, path, constants.dlopen.RTLD_NOW);
        const { fill, check } = module.exports;
        // A module built from older sources lacks `check`: JS does both rather than mixing.
        if (typeof fill === 'function' && typeof check === 'function') loaded = { fill, check };
      } catch {
        loaded = null;
      }
    }
  }
  return loaded;
}

/** The native functions this thread uses, or null: do the work in JS. */
export function nativeChainModule(): NativeChain | null {
  return enabled ? load() : null;
}

/** Whether this thread fills and checks the chain natively (false: in JS). */
export function nativeChain(): boolean {
  return nativeChainModule() !== null;
}

/**
 * Fills and checks in JS on this thread from now on (false), or natively again where the
 * module loads (true). It also decides for the workers started after it: a log's chain
 * worker and verification's range workers do as the thread that starts them. Benchmarks
 * and tests compare the two ways; the results are the same.
 */
export function setNativeChain(on: boolean): void {
  enabled = on;
}
