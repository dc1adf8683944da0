/**
 * Property test: random logs (random sizes, checkpoint intervals, rotation, hostile
 * text), each tampered with in every way below; verification must fail and name the
 * first bad record exactly. A failure prints the seed and the mutation to replay it.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { it } from 'node:test';
import { checkpointStatement } from './format.js';
import { generateCheckpointKey } from './keys.js';
import { parseAuditRecord } from './record.js';
import { describeBothChains } from './test-support/chain-modes.js';
import { below, random, readLines, rechain, rehash, tempDir, writeLines, writeLog, type LogLine } from './test-support/logs.js';
import { verifyAuditLog } from './verify.js';

const RUNS = 30;
const SEED = 0x5eed;

type Mutation = (lines: LogLine[], rand: () => number) => { expected: number; code?: string; what: string } | undefined;

const isCheckpoint = (line: LogLine | undefined): boolean => line?.text.includes('"type":"checkpoint"') === true;

/** Each mutation changes `lines` in place and says which line index must be named. */
const MUTATIONS: Record<string, Mutation> = {
  // The byte change is applied to the file bytes by the caller; here it is only chosen.
  delete(lines, rand) {
    const k = below(rand, lines.length);
    lines.splice(k, 1);
    return { expected: k, what: `delete line ${k}` };
  },
  swap(lines, rand) {
    if (lines.length < 2) return undefined;
    const k = below(rand, lines.length - 1);
    const j = k + 1 + below(rand, lines.length - k - 1);
    const [a, b] = [lines[k], lines[j]];
    if (a === undefined || b === undefined) return undefined;
    [lines[k], lines[j]] = [{ file: a.file, text: b.text }, { file: b.file, text: a.text }];
    return { expected: k, code: 'FO_AUDIT_CHAIN_BROKEN', what: `swap lines ${k} and ${j}` };
  },
  duplicate(lines, rand) {
    const m = below(rand, lines.length);
    const k = below(rand, lines.length + 1);
    const neighbour = lines[Math.min(k, lines.length - 1)];
    lines.splice(k, 0, { file: neighbour?.file ?? '', text: lines[m]?.text ?? '' });
    // A copy placed just before its original is the original's twin: the second one is the extra.
    return { expected: m === k ? k + 1 : k, code: 'FO_AUDIT_CHAIN_BROKEN', what: `insert a copy of line ${m} at ${k}` };
  },
  forgeInsert(lines, rand) {
    const k = below(rand, lines.length);
    const original = lines[k];
    if (original === undefined) return undefined;
    // Same seq and prev as line k, so it links correctly; different content, correct hash.
    const bytes = Buffer.from(original.text, 'latin1');
    const body = bytes.subarray(0, bytes.length - 75).toString('latin1');
    lines.splice(k, 0, { file: original.file, text: rehash(`${body},"forged":true${original.text.slice(-75)}`) });
    return { expected: k, code: 'FO_AUDIT_CHAIN_BROKEN', what: `insert a forged, correctly linked record at ${k}` };
  },
  truncate(lines, rand) {
    const k = below(rand, lines.length);
    lines.splice(k);
    return { expected: k, code: 'FO_AUDIT_TRUNCATED', what: `truncate at line ${k}` };
  },
  cutMidLine(lines, rand) {
    const k = below(rand, lines.length);
    const line = lines[k];
    if (line === undefined) return undefined;
    lines.splice(k + 1);
    line.text = line.text.slice(0, 1 + below(rand, line.text.length - 1));
    line.newline = false;
    return { expected: k, code: 'FO_AUDIT_TRUNCATED', what: `cut line ${k} in the middle` };
  },
  forgeSignature(lines, rand) {
    const checkpoints = lines.flatMap((line, index) => (isCheckpoint(line) ? [index] : []));
    const c = checkpoints[below(rand, checkpoints.length)];
    const line = c === undefined ? undefined : lines[c];
    if (c === undefined || line === undefined) return undefined;
    const record = parseAuditRecord(Buffer.from(line.text, 'latin1').toString('utf8'));
    // A real Ed25519 signature over the right statement, by the attacker's key, under the host's key id.
    const attacker = generateKeyPairSync('ed25519').privateKey;
    const sig = sign(null, Buffer.from(checkpointStatement(record.seq - 1, record.prev)), attacker).toString('base64');
    line.text = line.text.replace(/"sig":"[^"]+"/, `"sig":"${sig}"`);
    rechain(lines, c);
    return { expected: c, code: 'FO_AUDIT_SIGNATURE_INVALID', what: `forge the signature of checkpoint line ${c} and recompute the chain` };
  },
  rewriteAndRechain(lines, rand) {
    const candidates = lines.flatMap((line, index) => (isCheckpoint(line) ? [] : [index]));
    const k = candidates[below(rand, candidates.length)];
    const line = k === undefined ? undefined : lines[k];
    if (k === undefined || line === undefined) return undefined;
    line.text = line.text.replace('"prev":', '"x":1,"prev":').replace('"x":1,', '');
    line.text = line.text.replace(/"ts":"(\d)/, (_, digit: string) => `"ts":"${(Number(digit) + 1) % 10}`);
    rechain(lines, k);
    // Only a signature can tell: the first checkpoint after the rewritten record is the first bad one.
    const expected = lines.findIndex((candidate, index) => index > k && isCheckpoint(candidate));
    return { expected, code: 'FO_AUDIT_SIGNATURE_INVALID', what: `rewrite line ${k} and recompute the chain` };
  },
};

/** Changes one random byte (possibly a newline, or into one) of one random line, in the file itself. */
async function changeByte(lines: readonly LogLine[], rand: () => number): Promise<{ expected: number; what: string }> {
  const k = below(rand, lines.length);
  const line = lines[k];
  assert.ok(line !== undefined);
  const offset = lines.slice(0, k).filter((other) => other.file === line.file).reduce((sum, other) => sum + other.text.length + 1, 0);
  const at = offset + below(rand, line.text.length + 1); // + 1: the newline too
  const bytes = await readFile(line.file);
  const old = bytes[at] ?? 0;
  const choice = rand() < 0.2 ? 10 : below(rand, 256);
  bytes[at] = choice === old ? (old + 1) % 256 : choice;
  await writeFile(line.file, bytes);
  return { expected: k, what: `byte ${at} of ${line.file} (line ${k}) from ${old} to ${bytes[at] ?? 0}` };
}

describeBothChains('verifyAuditLog property: every kind of tampering is detected at the first bad record', () => {
  it(`holds for ${RUNS} random logs x ${Object.keys(MUTATIONS).length + 1} kinds of tampering`, async () => {
    let checked = 0;
    for (let run = 0; run < RUNS; run += 1) {
      const seed = SEED + run;
      const rand = random(seed);
      const dir = await tempDir('forge-audit-prop-');
      const key = generateCheckpointKey();
      const count = 3 + below(rand, 80);
      const { path } = await writeLog(dir, count, {
        signingKey: key,
        rand,
        checkpointEvery: 1 + below(rand, 20),
        ...(rand() < 0.5 ? { rotateSize: 4096 + below(rand, 8192) } : {}),
        batchRecords: 1 + below(rand, 50),
      });
      const { lines: original, files } = await readLines(path);
      const clean = await verifyAuditLog({ path, keys: [key], threads: 1 });
      assert.equal(clean.ok, true, `seed ${seed}: the untouched log verifies (${JSON.stringify(clean.problem)})`);
      const kinds = ['byte', ...Object.keys(MUTATIONS)];
      for (const kind of kinds) {
        const lines = original.map((line) => ({ ...line }));
        let outcome: { expected: number; code?: string; what: string } | undefined;
        if (kind === 'byte') {
          await writeLines(files, lines);
          outcome = await changeByte(lines, rand);
        } else {
          outcome = MUTATIONS[kind]?.(lines, rand);
          if (outcome === undefined) continue;
          await writeLines(files, lines);
        }
        const result = await verifyAuditLog({ path, keys: [key], threads: 1 });
        const context = `seed ${seed}, ${kind}: ${outcome.what}; got ${JSON.stringify(result.problem)}`;
        assert.equal(result.ok, false, context);
        assert.equal(result.problem?.record?.index, outcome.expected, context);
        if (outcome.code !== undefined) assert.equal(result.problem?.code, outcome.code, context);
        if (run % 10 === 0) {
          // The worker-thread path must fall back to the same precise answer.
          assert.deepEqual(await verifyAuditLog({ path, keys: [key], threads: 2, parallelFrom: 0 }), result, context);
        }
        checked += 1;
      }
      await rm(dir, { recursive: true, force: true });
    }
    assert.ok(checked >= RUNS * 8, `checked ${checked} tampered logs`);
  });
});
