import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { forge, jsonError } from '../test-support/cli.js';
import { badFlagValue, MAX_SHOWN_VALUE } from './flag-value.js';

/** Moves the cursor, retitles the window, recolours (C1 CSI) and reverses the text (RLO). */
const HOSTILE = '\u001b[2J\u001b]0;pwned\u0007\u009b31m\u202eevil';
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

describe('bad flag values', () => {
  it('names the flag, what was expected and the value, escaped and truncated', () => {
    const error = badFlagValue('days', 'a whole number', `${HOSTILE}${'x'.repeat(500)}`);
    assert.equal(error.code, 'FO_CLI_FLAG_VALUE');
    assert.doesNotMatch(error.message, UNSAFE);
    assert.doesNotMatch(String(error.details['value']), UNSAFE);
    assert.ok(error.message.startsWith('--days expects a whole number, found "\\u001b[2J\\u001b]0;pwned\\u0007\\u{9b}31m\\u{202e}evil'), error.message);
    assert.ok(error.message.length < MAX_SHOWN_VALUE + 100, error.message);
  });

  // Every command that checks a flag's value itself, with a hostile value it must refuse;
  // the message is checked where a JSON consumer would print it (wasi run has no --json).
  const cases: [string, string[]][] = [
    ['ca init --days', ['ca', 'init', '--out', 'ca', '--days', HOSTILE]],
    ['ca init --path-len', ['ca', 'init', '--out', 'ca', '--path-len', HOSTILE]],
    ['ca init --algorithm', ['ca', 'init', '--out', 'ca', '--algorithm', HOSTILE]],
    ['keygen --algorithm', ['keygen', '--out', 'me', '--algorithm', HOSTILE]],
    ['ca issue --days', ['ca', 'issue', '--ca', 'ca', '--pub', 'me.pub', '--name', 'n', '--out', 'me.pem', '--days', HOSTILE]],
    ['ca revoke --next-update', ['ca', 'revoke', '--ca', 'ca', '--out', 'r.json', '--next-update', HOSTILE]],
    ['audit tail --since', ['audit', 'tail', '--since', HOSTILE]],
    ['audit tail --lines', ['audit', 'tail', '--lines', HOSTILE]],
    ['install --wait', ['install', 'x.forgepkg', '--wait', HOSTILE]],
  ];
  for (const [what, argv] of cases) {
    it(`refuses a hostile ${what} with FO_CLI_FLAG_VALUE, escaped on stderr and in --json`, async () => {
      const cwd = await mkdtemp(join(tmpdir(), 'forge-flag-value-'));
      const run = await forge([...argv, '--json'], { cwd });
      assert.equal(run.status, 2, run.stderr);
      const error = jsonError(run);
      assert.equal(error.code, 'FO_CLI_FLAG_VALUE');
      assert.doesNotMatch(error.message, UNSAFE, 'the message a JSON consumer prints');
      assert.doesNotMatch(JSON.stringify(error.details), UNSAFE);
      assert.doesNotMatch(run.stderr, UNSAFE);
      assert.match(error.message, /\\u\{202e\}evil/);
    });
  }

  for (const [what, argv] of [
    ['wasi run --fuel', ['wasi', 'run', '--fuel', HOSTILE, 'x.wasm']],
    ['wasi run --max-memory', ['wasi', 'run', '--max-memory', HOSTILE, 'x.wasm']],
    ['wasi run --dir', ['wasi', 'run', '--dir', `::${HOSTILE}`, 'x.wasm']],
    ['wasi run --env', ['wasi', 'run', '--env', `=${HOSTILE}`, 'x.wasm']],
  ] as const) {
    it(`refuses a hostile ${what} with FO_CLI_FLAG_VALUE, escaped on stderr`, async () => {
      const run = await forge(argv, { cwd: await mkdtemp(join(tmpdir(), 'forge-flag-value-')) });
      assert.equal(run.status, 2, run.stderr);
      assert.match(run.stderr, new RegExp(`^forge: FO_CLI_FLAG_VALUE: ${what.split(' ').at(-1)!} expects .*\\\\u\\{202e\\}evil`));
      assert.doesNotMatch(run.stderr, UNSAFE);
    });
  }
});
