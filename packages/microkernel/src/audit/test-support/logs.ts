/**
 * Helpers for the audit tests: temporary logs, deterministic randomness, and reading
 * and rewriting a log's lines across its segments (to tamper with it).
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listSegments } from '../files.js';
import { HASH_OPEN, LINE_CLOSE, TAIL_LENGTH, sha256Hex } from '../format.js';
import { generateCheckpointKey, type CheckpointKey } from '../keys.js';
import { AuditLog } from '../log.js';
import type { AuditLogOptions } from '../options.js';
import type { AuditEntry } from '../record.js';

/** A new empty directory under the OS temp dir. */
export function tempDir(prefix = 'forge-audit-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** A small seeded generator, so a failing property run can be replayed from its seed. */
export { seededRandom as random } from '@forgeone/common/testing';

/** An integer in [0, n). */
export function below(rand: () => number, n: number): number {
  return Math.floor(rand() * n);
}

const WORDS = ['/data/a.txt', 'fd:3', 'kv:user/42', 'example.com', '/srv/x y', 'ünïcødé', 'tab\there', 'quote"and\\back', '\u202eevil', 'nl\nline', '\u0000nul', '😀 emoji', '\ud800 lone'];

/** A plausible entry; with `rand`, one with random (sometimes hostile) text. */
export function sampleEntry(i: number, rand?: () => number): AuditEntry {
  const pick = (): string => (rand === undefined ? (WORDS[i % 4] ?? 'x') : (WORDS[below(rand, WORDS.length)] ?? 'x'));
  return {
    principal: i % 5 === 0 ? 'host:plugin-manager' : 'plugin:acme/demo@1.0.0',
    ...(i % 5 === 0 ? {} : { plugin: `sha256:${'a'.repeat(64)}` }),
    action: i % 3 === 0 ? 'forge.kv_get' : 'wasi_snapshot_preview1.path_open',
    resource: pick(),
    decision: i % 4 === 0 ? 'deny' : 'allow',
    reason: i % 4 === 0 ? `denied: ${pick()}` : 'granted by manifest',
    ...(i % 7 === 0 ? { data: { n: i, ok: true, note: pick() } } : {}),
  };
}

/** Writes a closed log of `count` entries; returns its path and the key that signed it. */
export async function writeLog(
  dir: string,
  count: number,
  options: Partial<AuditLogOptions> & { rand?: () => number } = {},
): Promise<{ path: string; key: CheckpointKey }> {
  const key = options.signingKey ?? generateCheckpointKey();
  const path = options.path ?? join(dir, 'audit.log');
  const log = await AuditLog.open({ checkpointInterval: 0, ...options, path, signingKey: key });
  for (let i = 0; i < count; i += 1) log.append(sampleEntry(i, options.rand));
  await log.close();
  return { path, key };
}

/** One line of a log, newline excluded, with the segment file it is in. */
export interface LogLine {
  file: string;
  text: string;
  /** False to write the line without its newline (a torn last line). */
  newline?: boolean;
}

/** Every line of every segment, in order; a last line without newline is included as is. */
export async function readLines(path: string): Promise<{ lines: LogLine[]; files: string[] }> {
  const files = (await listSegments(path)).map((segment) => segment.path);
  const lines: LogLine[] = [];
  for (const file of files) {
    const text = await readFile(file, 'latin1');
    const parts = text.split('\n');
    if (parts.at(-1) === '') parts.pop();
    for (const part of parts) lines.push({ file, text: part });
  }
  return { lines, files };
}

/** Writes `lines` back to their files (every file in `files` is rewritten, empty if it has no lines). */
export async function writeLines(files: readonly string[], lines: readonly LogLine[]): Promise<void> {
  for (const file of files) {
    const own = lines.filter((line) => line.file === file).map((line) => (line.newline === false ? line.text : `${line.text}\n`));
    await writeFile(file, own.join(''), 'latin1');
  }
}

/** A line (latin1 text of UTF-8 bytes) with its hash field recomputed over its body. */
export function rehash(text: string): string {
  const bytes = Buffer.from(text, 'latin1');
  const body = bytes.subarray(0, bytes.length - TAIL_LENGTH);
  return `${body.toString('latin1')}${HASH_OPEN}${sha256Hex(body)}${LINE_CLOSE}`;
}

/** The 64-hex hash field of a line. */
export function hashOf(text: string): string {
  return text.slice(text.length - TAIL_LENGTH + HASH_OPEN.length, text.length - LINE_CLOSE.length);
}

/** Rewrites `prev` and `hash` of lines[from..] so that they chain again after lines[from - 1]. */
export function rechain(lines: LogLine[], from: number): void {
  for (let i = Math.max(from, 0); i < lines.length; i += 1) {
    const line = lines[i];
    if (line === undefined) continue;
    const prev = i === 0 ? '0'.repeat(64) : hashOf(lines[i - 1]?.text ?? '');
    line.text = rehash(line.text.replace(/"prev":"[0-9a-f]{64}"/, `"prev":"${prev}"`));
  }
}

/**
 * Options of a log `name` under `dir` for comparing a log whose chain runs on the worker
 * with one whose chain runs on the log's thread: a fixed clock (so both write the same
 * bytes), level all, signed checkpoints, no checkpoint timer.
 */
export function comparedLogOptions(dir: string, name: string, key: CheckpointKey, chainWorker: boolean, sizes: Partial<AuditLogOptions>): AuditLogOptions {
  return { path: join(dir, name, 'audit.log'), signingKey: key, clock: () => Date.UTC(2025, 0, 2, 3, 4, 5, 678), checkpointInterval: 0, level: 'all', chainWorker, ...sizes };
}
