/**
 * Fuzz: the .forgepkg archive reader. Generated archives read back exactly; mutated
 * archives (bytes of the tar stream changed, inserted, removed or truncated, then
 * re-compressed so the tar parser sees them, or the gzip bytes changed directly) are
 * either refused with a ForgeError naming a real reason (never FO_INTERNAL_UNEXPECTED,
 * which is how the reader reports an exception it did not expect) or read as entries
 * that all keep to the rules: safe relative names, each within the size limits, the
 * sink holding exactly the bytes the entry declares. Unpacked onto disk (DirectorySink),
 * the outcome is the same as in memory, and the directory holds exactly the entries, or
 * nothing once refused. Read from memory (inflated in one call) the outcome is the same
 * as read from a file (streamed).
 * Seeded: see docs/fuzzing.md for FORGE_FUZZ_SEED / FORGE_FUZZ_RUNS.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ForgeError } from '@forgeone/common';
import { runFuzz } from '@forgeone/common/testing';
import fc from 'fast-check';
import { DirectorySink, MemorySink, entryNameProblem, readArchive, writeArchive, type ArchiveEntry, type ArchiveFile, type ArchiveLimits, type EntrySink } from './index.js';

const LIMITS: Partial<ArchiveLimits> = { maxEntries: 6, maxFileSize: 3000, maxUnpackedSize: 8000, maxPackageSize: 64 * 1024 };

const segment = fc.string({ unit: fc.constantFrom(...'abcXYZ019._-'), minLength: 1, maxLength: 12 }).filter((value) => value !== '.' && value !== '..');
const path = fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/'));
const files = fc
  .uniqueArray(fc.record({ path, data: fc.uint8Array({ maxLength: 700 }) }), { minLength: 1, maxLength: 5, selector: (file) => file.path.toLowerCase() })
  // A file cannot also be a directory of another file.
  .filter((list) => list.every((a) => list.every((b) => !b.path.toLowerCase().startsWith(`${a.path.toLowerCase()}/`))));

type Edit = { kind: 'set'; at: number; byte: number } | { kind: 'insert'; at: number; bytes: Uint8Array } | { kind: 'remove'; at: number; count: number } | { kind: 'truncate'; at: number };
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.oneof(fc.nat(255), fc.constantFrom(0, 0x2f, 0x2e, 0x30, 0x37, 0x20, 0x35, 0x4c, 0x78)) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('remove' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 600 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function apply(bytes: Uint8Array, edits: readonly Edit[]): Buffer {
  let out = Buffer.from(bytes);
  for (const change of edits) {
    const at = out.length === 0 ? 0 : change.at % (out.length + 1);
    if (change.kind === 'set' && at < out.length) out[at] = change.byte;
    else if (change.kind === 'insert') out = Buffer.concat([out.subarray(0, at), change.bytes, out.subarray(at)]);
    else if (change.kind === 'remove') out = Buffer.concat([out.subarray(0, at), out.subarray(at + change.count)]);
    else if (change.kind === 'truncate') out = out.subarray(0, at);
  }
  return out;
}

/** Reads `pkg`; a refusal must be a ForgeError with a real reason, an acceptance must keep every rule. */
async function readOrRefuse(pkg: Uint8Array): Promise<void> {
  const sink = new MemorySink();
  let entries;
  try {
    entries = await readArchive(pkg, sink, LIMITS);
  } catch (error) {
    assert.ok(error instanceof ForgeError, `threw ${String(error)}`);
    assert.notEqual(error.code, 'FO_INTERNAL_UNEXPECTED', `an unexpected exception escaped: ${error.message}\n${String((error.cause as Error | undefined)?.stack)}`);
    assert.equal(sink.files.size, 0, 'a refused package left entries in the sink');
    return;
  }
  assert.ok(entries.length <= (LIMITS.maxEntries ?? 0), `${entries.length} entries`);
  let total = 0;
  for (const entry of entries) {
    assert.equal(entryNameProblem(entry.path), undefined, `accepted a bad name ${JSON.stringify(entry.path)}`);
    assert.ok(!entry.path.split('/').includes('..') && !entry.path.startsWith('/'), `accepted an escaping name ${entry.path}`);
    assert.ok(entry.size <= (LIMITS.maxFileSize ?? 0), `entry ${entry.path} of ${entry.size} bytes`);
    const data = sink.files.get(entry.path);
    assert.ok(data !== undefined && data.length === entry.size, `sink holds ${data?.length} bytes for ${entry.path}, entry says ${entry.size}`);
    assert.equal(createHash('sha256').update(data).digest('hex'), entry.sha256);
    total += entry.size;
  }
  assert.ok(total <= (LIMITS.maxUnpackedSize ?? 0), `${total} bytes unpacked`);
  assert.equal(sink.files.size, entries.length, 'two accepted entries share a name');
}

/** Every file under `dir`, as path -> contents; directories only as the paths they hold. */
function filesUnder(dir: string, prefix = ''): Map<string, Buffer> {
  const found = new Map<string, Buffer>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) for (const [path, data] of filesUnder(join(dir, entry.name), rel)) found.set(path, data);
    else if (entry.isFile()) found.set(rel, readFileSync(join(dir, entry.name)));
    else found.set(rel, Buffer.from(`not a regular file`));
  }
  return found;
}

/** The outcome of one read: the entries, or the refusal's code. */
async function outcome(pkg: Uint8Array | string, sink: EntrySink): Promise<{ entries?: ArchiveEntry[]; code?: string }> {
  try {
    return { entries: await readArchive(pkg, sink, LIMITS) };
  } catch (error) {
    assert.ok(error instanceof ForgeError, `threw ${String(error)}`);
    return { code: error.code };
  }
}

/** Reads `pkg` into memory and onto disk: both must agree, and the disk must hold exactly the entries or nothing. */
async function sameOnDisk(pkg: Uint8Array): Promise<void> {
  const tempRoot = mkdtempSync(join(tmpdir(), 'forge-archive-fuzz-'));
  try {
    const inMemory = await outcome(pkg, new MemorySink());
    const sink = await DirectorySink.create(join(tempRoot, 'unpack'));
    const onDisk = await outcome(pkg, sink);
    assert.deepEqual(onDisk, inMemory, 'the directory sink and the memory sink disagree');
    if (onDisk.entries === undefined) {
      assert.deepEqual(readdirSync(join(tempRoot, 'unpack')), [], 'a refused package left files behind');
      return;
    }
    assert.deepEqual(readdirSync(tempRoot), ['unpack']);
    const files = filesUnder(sink.dir);
    assert.deepEqual([...files.keys()].sort(), onDisk.entries.map((entry) => entry.path).sort(), 'the directory holds other files than the entries');
    for (const entry of onDisk.entries) assert.equal(createHash('sha256').update(files.get(entry.path) ?? '').digest('hex'), entry.sha256, entry.path);
  } finally {
    rmSync(tempRoot, { recursive: true, force: true });
  }
}

/** Reads `pkg` from memory (the in-memory inflate) and from a file (the stream): both must agree, entry for entry or code for code. */
async function sameFromFile(pkg: Uint8Array, file: string): Promise<void> {
  writeFileSync(file, pkg);
  const fromMemory = await outcome(pkg, new MemorySink());
  const fromFile = await outcome(file, new MemorySink());
  assert.deepEqual(fromMemory, fromFile, 'bytes in memory and the same bytes in a file were read differently');
}

describe('archive fuzz: readArchive', () => {
  it('reads generated archives back exactly', async () => {
    await runFuzz(
      'archive.fuzz',
      150,
      (settings) =>
        fc.check(
          fc.asyncProperty(files, async (list: ArchiveFile[]) => {
            const sink = new MemorySink();
            const entries = await readArchive(writeArchive(list), sink, LIMITS);
            assert.deepEqual(entries.map((entry) => entry.path).sort(), list.map((file) => file.path).sort());
            for (const file of list) assert.deepEqual(sink.files.get(file.path), Buffer.from(file.data));
          }),
          settings,
        ),
      (details) => fc.asyncDefaultReportMessage(details),
    );
  });

  it('refuses mutated tar streams with a real reason or reads entries that keep every rule', async () => {
    const mutatedTar = fc.tuple(files, fc.array(edit, { minLength: 1, maxLength: 4 })).map(([list, edits]) => gzipSync(apply(gunzipSync(writeArchive(list)), edits)));
    await runFuzz('archive.fuzz', 1500, (settings) => fc.check(fc.asyncProperty(mutatedTar, readOrRefuse), settings), (details) => fc.asyncDefaultReportMessage(details));
  });

  it('unpacks mutated tar streams onto disk exactly as into memory, or leaves nothing', async () => {
    const mutatedTar = fc.tuple(files, fc.array(edit, { minLength: 1, maxLength: 4 })).map(([list, edits]) => gzipSync(apply(gunzipSync(writeArchive(list)), edits)));
    await runFuzz('archive.fuzz', 150, (settings) => fc.check(fc.asyncProperty(mutatedTar, sameOnDisk), settings), (details) => fc.asyncDefaultReportMessage(details));
  });

  it('reads mutated tar streams and gzip bytes from memory exactly as from a file', async () => {
    const mutatedTar = fc.tuple(files, fc.array(edit, { minLength: 1, maxLength: 4 })).map(([list, edits]) => gzipSync(apply(gunzipSync(writeArchive(list)), edits)));
    const mutatedGzip = fc.tuple(files, fc.array(edit, { minLength: 1, maxLength: 3 })).map(([list, edits]) => apply(writeArchive(list), edits));
    const dir = mkdtempSync(join(tmpdir(), 'forge-archive-fuzz-'));
    try {
      const file = join(dir, 'package.forgepkg');
      const property = fc.asyncProperty(fc.oneof(mutatedTar, mutatedGzip), (pkg) => sameFromFile(pkg, file));
      await runFuzz('archive.fuzz', 300, (settings) => fc.check(property, settings), (details) => fc.asyncDefaultReportMessage(details));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses mutated gzip bytes with a real reason or reads entries that keep every rule', async () => {
    const mutatedGzip = fc.tuple(files, fc.array(edit, { minLength: 1, maxLength: 3 })).map(([list, edits]) => apply(writeArchive(list), edits));
    await runFuzz('archive.fuzz', 600, (settings) => fc.check(fc.asyncProperty(mutatedGzip, readOrRefuse), settings), (details) => fc.asyncDefaultReportMessage(details));
  });
});
