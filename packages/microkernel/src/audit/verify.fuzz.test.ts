/**
 * Fuzz: audit log verification. A written log (random size, checkpoint interval,
 * rotation), then one generated corruption: a byte changed (any bit mask, with the
 * case bit 0x20 and low bits favoured, so hex digits change case), a record dropped,
 * duplicated or moved, the log cut at a byte. verifyAuditLog must report every one.
 * (verify.property.test.ts checks that the first bad record is named exactly, for
 * seeded logs; this file lets fast-check search and shrink.)
 * Seeded: see docs/fuzzing.md for FORGE_FUZZ_SEED / FORGE_FUZZ_RUNS.
 */
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { it } from 'node:test';
import { runFuzz } from '@forgeone/common/testing';
import fc from 'fast-check';
import { generateCheckpointKey } from './keys.js';
import { describeBothChains } from './test-support/chain-modes.js';
import { readLines, tempDir, writeLines, writeLog, type LogLine } from './test-support/logs.js';
import { verifyAuditLog } from './verify.js';

type Corruption =
  | { kind: 'byte'; line: number; at: number; mask: number }
  | { kind: 'drop'; line: number }
  | { kind: 'duplicate'; line: number; to: number }
  | { kind: 'move'; line: number; to: number }
  | { kind: 'truncate'; line: number; at: number };

const corruption: fc.Arbitrary<Corruption> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('byte' as const), line: fc.nat(), at: fc.nat(), mask: fc.oneof(fc.constantFrom(0x20, 0x01, 0x02, 0x80), fc.integer({ min: 1, max: 255 })) }), weight: 3 },
  fc.record({ kind: fc.constant('drop' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), line: fc.nat(), to: fc.nat() }),
  fc.record({ kind: fc.constant('move' as const), line: fc.nat(), to: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), line: fc.nat(), at: fc.nat() }),
);

/** Applies `c` to the lines; returns a byte change to make in a file afterwards, or false when `c` changes nothing. */
function corrupt(lines: LogLine[], c: Corruption): { file: string; offset: number; mask: number } | undefined | false {
  const k = c.line % lines.length;
  const line = lines[k];
  if (line === undefined) return false;
  switch (c.kind) {
    case 'byte': {
      const offset = lines.slice(0, k).filter((other) => other.file === line.file).reduce((sum, other) => sum + other.text.length + 1, 0);
      return { file: line.file, offset: offset + (c.at % (line.text.length + 1)), mask: c.mask };
    }
    case 'drop':
      lines.splice(k, 1);
      return undefined;
    case 'duplicate': {
      const to = c.to % (lines.length + 1);
      lines.splice(to, 0, { ...line, file: lines[Math.min(to, lines.length - 1)]?.file ?? line.file });
      return undefined;
    }
    case 'move': {
      const to = c.to % lines.length;
      if (to === k) return false;
      lines.splice(k, 1);
      lines.splice(to, 0, { ...line, file: lines[Math.min(to, lines.length - 1)]?.file ?? line.file });
      return undefined;
    }
    case 'truncate':
      lines.splice(k + 1);
      line.text = line.text.slice(0, c.at % (line.text.length + 1));
      line.newline = false;
      return undefined;
  }
}

describeBothChains('audit fuzz: verifyAuditLog detects every corruption', () => {
  it('a changed byte, a dropped, duplicated or moved record, or a cut is reported', async () => {
    const key = generateCheckpointKey();
    const shape = fc.record({ count: fc.integer({ min: 1, max: 40 }), checkpointEvery: fc.integer({ min: 1, max: 15 }), rotate: fc.boolean() });
    const prop = fc.asyncProperty(shape, corruption, async ({ count, checkpointEvery, rotate }, c) => {
      const dir = await tempDir('forge-audit-fuzz-');
      try {
        const { path } = await writeLog(dir, count, { signingKey: key, checkpointEvery, ...(rotate ? { rotateSize: 4096 } : {}) });
        const { lines, files } = await readLines(path);
        const before = lines.map((line) => line.text).join('\n');
        const change = corrupt(lines, c);
        if (change === false) return;
        await writeLines(files, lines);
        if (change !== undefined) {
          const bytes = await readFile(change.file);
          bytes[change.offset] = (bytes[change.offset] ?? 0) ^ change.mask;
          await writeFile(change.file, bytes);
        } else if (lines.map((line) => line.text).join('\n') === before && lines.every((line) => line.newline !== false)) {
          return; // moving a record among identical ones changes nothing
        }
        const result = await verifyAuditLog({ path, keys: [key], threads: 1 });
        assert.equal(result.ok, false, `the corruption went unnoticed: ${JSON.stringify(c)}`);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
    await runFuzz('verify.fuzz', 100, (settings) => fc.check(prop, settings), (details) => fc.asyncDefaultReportMessage(details));
  });
});
