/**
 * The fast path of verification for large logs: the segments are cut into byte ranges
 * that worker threads check at once (range.ts), and the ranges are stitched together
 * here. It only answers "every record is good": on any fault, any doubt at a seam, or
 * a worker failure it returns undefined and the caller runs the sequential verifier,
 * which finds and names the first bad record.
 */
import { stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import type { ChainAnchor } from './chain.js';
import { GENESIS_ANCHOR } from './chain.js';
import type { SegmentFile } from './files.js';
import type { CheckpointVerifyKey } from './keys.js';
import { nativeChain } from './native.js';
import type { RangeResult, RangeTask } from './range.js';

/** A clean log as the workers saw it; locations are filled in like the sequential verifier's. */
export interface ParallelSummary {
  readonly records: number;
  readonly last: ChainAnchor;
  readonly segments: { file: string; index: number; records: number; bytes: number }[];
  readonly checkpoints: number;
  readonly lastCheckpoint: { seq: number; key: string; location: { file: string; line: number; offset: number; index: number; seq: number } } | undefined;
  readonly recoveries: { seq: number; reason: string; cutBytes: number; savedTo: string; location: { file: string; line: number; offset: number; index: number; seq: number } }[];
  readonly stateMatched: boolean;
}

/** Smallest range handed to a worker. */
const MIN_RANGE = 64 * 1024;

interface Planned {
  readonly task: RangeTask;
  readonly segment: SegmentFile;
  readonly size: number;
}

async function plan(segments: readonly SegmentFile[], keys: readonly CheckpointVerifyKey[], stateSeq: number, threads: number): Promise<Planned[]> {
  const sizes = await Promise.all(segments.map(async (segment) => (await stat(segment.path)).size));
  const total = sizes.reduce((sum, size) => sum + size, 0);
  const rangeSize = Math.max(MIN_RANGE, Math.ceil(total / (threads * 4)));
  const publicKeys = keys.map((key) => key.publicKey);
  const native = nativeChain();
  const planned: Planned[] = [];
  for (const [index, segment] of segments.entries()) {
    const size = sizes[index] ?? 0;
    // An empty segment still gets a (empty) range, so that it is listed in the summary.
    for (let start = 0; start < size || start === 0; start += rangeSize) {
      planned.push({ task: { file: segment.path, start, end: Math.min(start + rangeSize, size), keys: publicKeys, stateSeq, native }, segment, size });
      if (size === 0) break;
    }
  }
  return planned;
}

/** Runs every task on a pool of `threads` workers; undefined as soon as one range is not clean. */
async function runPool(tasks: readonly RangeTask[], threads: number): Promise<RangeResult[] | undefined> {
  const results: (RangeResult | undefined)[] = new Array<RangeResult | undefined>(tasks.length);
  const workers = Array.from({ length: Math.min(threads, tasks.length) }, () => new Worker(new URL('./range-worker.js', import.meta.url)));
  let next = 0;
  let failed = false;
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            const dispatch = (): void => {
              if (failed || next >= tasks.length) {
                resolve();
                return;
              }
              const id = next;
              next += 1;
              worker.postMessage({ id, task: tasks[id] });
            };
            worker.on('message', (reply: { id: number; result?: RangeResult; error?: string }) => {
              if (reply.result === undefined || reply.result.fault !== undefined) failed = true;
              else results[reply.id] = reply.result;
              dispatch();
            });
            worker.on('error', () => {
              failed = true;
              resolve();
            });
            dispatch();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  if (failed || results.some((result) => result === undefined)) return undefined;
  return results as RangeResult[];
}

/**
 * Checks the log on `threads` worker threads; undefined unless every range is clean
 * and every seam continues the chain.
 *
 * @param partial true when the log may start after seq 1 (oldest segments removed)
 * @param stateSeq seq of the state file's checkpoint, 0 for none
 */
export async function verifyInParallel(
  segments: readonly SegmentFile[],
  keys: readonly CheckpointVerifyKey[],
  stateSeq: number,
  stateHash: string | undefined,
  partial: boolean,
  threads: number,
): Promise<ParallelSummary | undefined> {
  const planned = await plan(segments, keys, stateSeq, threads);
  const results = await runPool(
    planned.map((p) => p.task),
    threads,
  );
  if (results === undefined) return undefined;
  let head: ChainAnchor | undefined = partial ? undefined : GENESIS_ANCHOR;
  let index = 0;
  let checkpoints = 0;
  let stateMatched = false;
  let lastCheckpoint: ParallelSummary['lastCheckpoint'];
  const recoveries: ParallelSummary['recoveries'] = [];
  const summaries = new Map<string, { file: string; index: number; records: number; bytes: number }>();
  for (const [position, result] of results.entries()) {
    const { segment, size } = planned[position] as Planned;
    let summary = summaries.get(segment.path);
    if (summary === undefined) {
      summary = { file: segment.path, index: segment.index, records: 0, bytes: size };
      summaries.set(segment.path, summary);
    }
    if (result.records === 0) continue;
    if (head !== undefined && (result.firstSeq !== head.seq + 1 || result.firstPrev !== head.hash)) return undefined;
    const fileLine = summary.records;
    if (result.lastCheckpoint !== undefined) {
      const { seq, key, line, offset } = result.lastCheckpoint;
      lastCheckpoint = { seq, key, location: { file: segment.path, line: fileLine + line + 1, offset, index: index + line, seq } };
    }
    for (const { seq, reason, cutBytes, savedTo, line, offset } of result.recoveries) {
      recoveries.push({ seq, reason, cutBytes, savedTo, location: { file: segment.path, line: fileLine + line + 1, offset, index: index + line, seq } });
    }
    if (result.stateHash !== undefined) {
      if (result.stateHash !== stateHash) return undefined;
      stateMatched = true;
    }
    checkpoints += result.checkpoints;
    summary.records += result.records;
    index += result.records;
    head = { seq: result.lastSeq, hash: result.lastHash };
  }
  if (stateSeq > 0 && !stateMatched) return undefined;
  return { records: index, last: head ?? GENESIS_ANCHOR, segments: [...summaries.values()], checkpoints, lastCheckpoint, recoveries, stateMatched };
}
