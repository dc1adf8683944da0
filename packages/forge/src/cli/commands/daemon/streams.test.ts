import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cliFor, forge, jsonError, type CliRun } from '../../../test-support/cli.js';
import { testDaemon, signedSample, type TestDaemon } from '../../../test-support/daemon.js';
import { emitRequest, logRequest, signedHostilePlugin } from '../../../test-support/hostile-plugin.js';
import { COMMANDS } from '../index.js';

const { cli, ok } = cliFor(COMMANDS, {});

const running: TestDaemon[] = [];
after(async () => {
  for (const daemon of running) await daemon.close();
});

async function hostileDaemon(): Promise<TestDaemon> {
  const d = await testDaemon();
  running.push(d);
  await ok(d.dir, 'install', await signedHostilePlugin(d.dir));
  await ok(d.dir, 'start', 'hostile');
  return d;
}

/** A guard, not a deadline: a follow that never ends fails its test instead of hanging the suite. */
const GUARD = { timeout: 120_000 };

/** A message that would set the window title and reverse what follows, and starts a line that looks like another record. */
const HOSTILE = 'hi \u001b]0;pwned\u0007\u202eevil\n2030-01-01T00:00:00.000Z  ERROR  forged';

/**
 * Runs a following command: once `ready` holds for its output (default: at once), does
 * `poke` (which makes the daemon produce something) until `seen` holds, since the
 * command may still be connecting when the first poke happens; then ends it through
 * its signal.
 */
async function follow(d: TestDaemon, argv: string[], steps: { ready?: (stdout: string) => boolean; poke: () => Promise<unknown>; seen: (stdout: string) => boolean }): Promise<CliRun> {
  const stop = new AbortController();
  let output = '';
  let done = false;
  const run = forge(argv, {
    cwd: d.dir,
    env: {},
    signal: stop.signal,
    onOutput: ({ stdout }) => {
      output = stdout;
      if (steps.seen(stdout)) stop.abort();
    },
  }).finally(() => {
    done = true;
  });
  while (!done && !stop.signal.aborted) {
    if (steps.ready === undefined || steps.ready(output)) await steps.poke();
    // A pause between pokes, not a deadline: it keeps the plugin under its forge.log and emit_event rate limits.
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return run;
}

describe('forge logs', () => {
  it('prints the plugin\'s records with its text escaped, one line each, and JSON lines with --json', async () => {
    const d = await hostileDaemon();
    await ok(d.dir, 'call', 'hostile', 'log', logRequest(3, HOSTILE));
    await ok(d.dir, 'call', 'hostile', 'log', logRequest(2, 'second'));
    const text = await cli(d.dir, 'logs', 'hostile');
    assert.equal(text.status, 0, text.stderr);
    const lines = text.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 2, 'a newline inside a message cannot start a line of its own');
    assert.match(lines[0] ?? '', /^\d{4}-\d\d-\d\dT[\d:.]+Z {2}WARN {3}hi \\u\{1b\}\]0;pwned\\u\{7\}\\u\{202e\}evil\\n2030-01-01T00:00:00\.000Z {2}ERROR {2}forged {2}\{"source":"forge\.log"\}$/);
    assert.match(lines[1] ?? '', / {2}INFO {3}second {2}/);
    assert.doesNotMatch(text.stdout, /[\u001b\u0007\u202e]/u);

    const json = (await ok(d.dir, 'logs', 'hostile', '--json')).trimEnd().split('\n');
    assert.equal(json.length, 2);
    const first = JSON.parse(json[0] ?? '') as { plugin: string; level: string; message: string };
    assert.deepEqual([first.plugin, first.level, first.message], ['hostile', 'warn', HOSTILE]);
    assert.doesNotMatch(json.join('\n'), /[\u001b\u0007\u202e]/u);

    const newest = (await ok(d.dir, 'logs', '-n', '1', 'hostile')).trimEnd().split('\n');
    assert.equal(newest.length, 1);
    assert.match(newest[0] ?? '', /second/);
  });

  it('follows new records with -f until stopped, then exits 0', GUARD, async () => {
    const d = await hostileDaemon();
    await ok(d.dir, 'call', 'hostile', 'log', logRequest(2, 'before'));
    let n = 0;
    const run = await follow(d, ['logs', '-f', 'hostile'], {
      // Once the record kept from before is printed, the stream is open: what comes next is followed.
      ready: (stdout) => stdout.includes('before'),
      poke: () => ok(d.dir, 'call', 'hostile', 'log', logRequest(2, `tick ${(n += 1)} \u001b[31m`)),
      seen: (stdout) => /tick \d+ \\u\{1b\}\[31m {2}/.test(stdout),
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, '');
    assert.doesNotMatch(run.stdout, /\u001b/u);
  });

  it('needs a daemon and an installed plugin, and refuses a bad -n', async () => {
    const d = await hostileDaemon();
    const unknown = await cli(d.dir, 'logs', 'nothing', '--json');
    assert.deepEqual([unknown.status, jsonError(unknown).code], [6, 'FO_STORE_NOT_INSTALLED']);
    const badLines = await cli(d.dir, 'logs', '-n', '10001', 'hostile', '--json');
    assert.deepEqual([badLines.status, jsonError(badLines).code], [2, 'FO_CLI_FLAG_VALUE']);
    await d.close();
    const none = await cli(d.dir, 'logs', 'hostile');
    assert.equal(none.status, 9);
    assert.match(none.stderr, /^forge: FO_DAEMON_NOT_RUNNING: forge logs needs a running daemon, .*start one with forge daemon/);
  });
});

describe('forge events', () => {
  it('prints each plugin event as it comes, the payload escaped, until stopped; --json prints the daemon\'s data', GUARD, async () => {
    const d = await hostileDaemon();
    await writeFile(join(d.dir, 'event.bin'), emitRequest('job.done', HOSTILE));
    const emit = (): Promise<string> => ok(d.dir, 'call', 'hostile', 'emit', '--input-file', 'event.bin');
    const text = await follow(d, ['events', '--types', 'plugin'], { poke: emit, seen: (stdout) => stdout.includes('job.done') });
    assert.equal(text.status, 0, text.stderr);
    const line = text.stdout.split('\n')[0] ?? '';
    assert.match(line, /^\d{4}-\d\d-\d\dT[\d:.]+Z {2}plugin {2}hostile {2}job\.done {2}"hi \\u001b\]0;pwned\\u0007\\u\{202e\}evil\\n2030-01-01T00:00:00\.000Z {2}ERROR {2}forged"$/);
    assert.doesNotMatch(text.stdout, /[\u001b\u0007\u202e]/u);

    const json = await follow(d, ['events', '--types', 'plugin', '--json'], { poke: emit, seen: (stdout) => stdout.includes('\n') });
    const event = JSON.parse(json.stdout.split('\n')[0] ?? '') as { event: string; data: { plugin: string; name: string; payload: string } };
    assert.deepEqual([event.event, event.data.plugin, event.data.name, Buffer.from(event.data.payload, 'base64').toString('utf8')], ['plugin', 'hostile', 'job.done', HOSTILE]);
  });

  it('refuses an unknown event type (exit 2) and needs a daemon (exit 9)', async () => {
    const d = await hostileDaemon();
    const bad = await cli(d.dir, 'events', '--types', 'plugin,secrets', '--json');
    assert.deepEqual([bad.status, jsonError(bad).code], [2, 'FO_CLI_FLAG_VALUE']);
    assert.match(jsonError(bad).message, /--types expects event types among lifecycle, plugin, audit, found "secrets"/);
    await d.close();
    assert.equal((await cli(d.dir, 'events')).status, 9);
  });
});

describe('forge stats', () => {
  it('prints the daemon\'s figures for each plugin, and needs a daemon', async () => {
    const d = await testDaemon();
    running.push(d);
    await ok(d.dir, 'install', await signedSample(d.dir));
    await ok(d.dir, 'start', 'sample-plugin');
    const table = (await ok(d.dir, 'stats')).split('\n');
    assert.deepEqual(table[0]?.split(/ {2,}/), ['NAME', 'CALLS', 'ERRORS', 'CALLS/S', 'P50', 'P99', 'MEMORY', 'FUEL']);
    assert.deepEqual(table[1]?.split(/ {2,}/).slice(0, 3), ['sample-plugin', '0', '0'], 'a plugin never called');
    const json = JSON.parse(await ok(d.dir, 'stats', '--json')) as { time: string; plugins: { name: string; calls: number; errors: number }[] };
    assert.deepEqual(
      json.plugins.map((plugin) => [plugin.name, plugin.calls, plugin.errors]),
      [['sample-plugin', 0, 0]],
    );
    await d.close();
    const none = await cli(d.dir, 'stats', '--json');
    assert.deepEqual([none.status, jsonError(none).code], [9, 'FO_DAEMON_NOT_RUNNING']);
  });
});
