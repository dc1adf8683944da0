import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { EXIT_CODES } from '@forgeone/common';
import { forge } from '../test-support/cli.js';
import { defineCommand, usageLine } from './command.js';
import { COMMANDS } from './commands/index.js';
import { FORGE_VERSION } from '../version.js';

describe('forge help', () => {
  it('lists every command in forge --help and exits 0', async () => {
    const run = await forge(['--help']);
    assert.equal(run.status, 0);
    for (const command of COMMANDS) assert.ok(run.stdout.includes(command.path.join(' ')), command.path.join(' '));
    assert.match(run.stdout, /Exit status:/);
  });

  for (const command of COMMANDS) {
    const name = command.path.join(' ');
    it(`renders help for forge ${name} with its usage and every flag`, async () => {
      const viaFlag = await forge([...command.path, '--help']);
      const viaHelp = await forge(['help', ...command.path]);
      assert.equal(viaFlag.status, 0, viaFlag.stderr);
      assert.equal(viaFlag.stdout, viaHelp.stdout);
      assert.ok(viaFlag.stdout.startsWith(`Usage: ${usageLine(command)}\n`));
      for (const flag of command.flags) assert.ok(viaFlag.stdout.includes(`--${flag.name}`), `--${flag.name}`);
      for (const arg of command.args) assert.ok(viaFlag.stdout.includes(arg.name), arg.name);
      assert.equal(viaFlag.stderr, '');
    });
  }

  it('offers --json on every command that reads data', () => {
    for (const command of COMMANDS) {
      if (['pack', 'inspect', 'config', 'ps', 'list', 'install', 'call', 'logs', 'events', 'stats', 'token', 'audit', 'start', 'stop', 'pause', 'resume', 'restart', 'unload'].includes(command.path[0] ?? '')) {
        assert.ok(command.flags.some((flag) => flag.name === 'json'), command.path.join(' '));
      }
    }
  });

  it('prints group help for a bare noun and exits with the usage status', async () => {
    const run = await forge(['config']);
    assert.equal(run.status, EXIT_CODES.usage);
    assert.match(run.stdout, /forge config <command>/);
    assert.match(run.stdout, /config check/);
  });

  it('prints the help for a bare forge as for a bare group, with the usage status: the command is incomplete', async () => {
    const bare = await forge([]);
    const group = await forge(['ca']);
    assert.deepEqual([bare.status, group.status], [EXIT_CODES.usage, EXIT_CODES.usage]);
    assert.equal(bare.stdout, (await forge(['--help'])).stdout);
    assert.equal(group.stdout, (await forge(['ca', '--help'])).stdout);
    assert.match(group.stdout, /forge ca <command>/);
    assert.equal((await forge(['help'])).status, 0, 'asking for help is no error');
  });

  it('names only the unknown word of an unknown command, with the closest command', async () => {
    const typo = await forge(['instal', 'x.forgepkg']);
    assert.equal(typo.status, EXIT_CODES.usage);
    assert.equal(typo.stderr, "forge: FO_CLI_UNKNOWN_COMMAND: unknown command \"instal\" (did you mean install?); run 'forge --help' for the list\n");
    const inGroup = await forge(['ca', 'inti', '--out', 'x']);
    assert.match(inGroup.stderr, /unknown command "ca inti" \(did you mean ca init\?\)/);
  });

  it('prints the version, equal to the package version', async () => {
    const run = await forge(['--version']);
    assert.equal(run.stdout, `forge ${FORGE_VERSION}\n`);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(FORGE_VERSION, pkg.version);
  });
});

describe('forge command line', () => {
  const echo = defineCommand({
    path: ['test', 'echo'],
    summary: 'Echo input.',
    flags: [
      { name: 'out', short: 'o', type: 'string', value: 'FILE', description: 'x' },
      { name: 'env', type: 'strings', value: 'K=V', description: 'x' },
      { name: 'json', type: 'boolean', description: 'x' },
      { name: 'must', type: 'string', description: 'x', required: true },
    ],
    args: [
      { name: 'A', description: 'first', required: true },
      { name: 'B', description: 'second' },
    ],
    passthrough: { name: 'ARGS', description: 'rest' },
    run: ({ flags, args, rest }, io) => {
      io.stdout.write(JSON.stringify({ flags, args, rest }));
      return Promise.resolve(0);
    },
  });
  const commands = [echo];

  it('parses long, short, = and repeated flags, arguments and what follows --', async () => {
    const run = await forge(['test', 'echo', 'a', '--must=m', '-o', 'f', '--env', 'X=1', '--env=Y=2', '--json', 'b', '--', '--not-a-flag', 'z'], { commands });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), {
      flags: { out: 'f', env: ['X=1', 'Y=2'], json: true, must: 'm', help: false },
      args: { A: 'a', B: 'b' },
      rest: ['--not-a-flag', 'z'],
    });
  });

  const failures: [string, string[], string, RegExp][] = [
    ['an unknown command', ['nope'], 'FO_CLI_UNKNOWN_COMMAND', /unknown command "nope"/],
    ['an unknown flag, with a suggestion', ['test', 'echo', 'a', '--must', 'm', '--jsn'], 'FO_CLI_UNKNOWN_FLAG', /has no flag --jsn \(did you mean --json\?\)/],
    ['a missing argument', ['test', 'echo', '--must', 'm'], 'FO_CLI_MISSING_ARGUMENT', /needs A: first/],
    ['a missing required flag', ['test', 'echo', 'a'], 'FO_CLI_MISSING_ARGUMENT', /needs --must/],
    ['an extra argument', ['test', 'echo', 'a', 'b', 'c', '--must', 'm'], 'FO_CLI_EXTRA_ARGUMENT', /unexpected argument "c"/],
    ['a flag without its value', ['test', 'echo', 'a', '--must'], 'FO_CLI_FLAG_VALUE', /--must needs a value/],
    ['a repeated single-value flag', ['test', 'echo', 'a', '--must', 'm', '-o', 'x', '-o', 'y'], 'FO_CLI_FLAG_VALUE', /--out may be given only once/],
    ['a value on a boolean flag', ['test', 'echo', 'a', '--must', 'm', '--json=yes'], 'FO_CLI_FLAG_VALUE', /--json takes no value/],
  ];
  for (const [what, argv, code, message] of failures) {
    it(`refuses ${what} with ${code} and exit status 2`, async () => {
      const run = await forge(argv, { commands });
      assert.equal(run.status, 2);
      assert.ok(run.stderr.startsWith(`forge: ${code}: `), run.stderr);
      assert.match(run.stderr, message);
      assert.equal(run.stdout, '');
    });
  }

  it('also prints the error as JSON on stdout under --json', async () => {
    const run = await forge(['test', 'echo', '--json'], { commands });
    assert.equal(run.status, 2);
    assert.deepEqual(JSON.parse(run.stdout), {
      error: { code: 'FO_CLI_MISSING_ARGUMENT', kind: 'usage', message: 'forge test echo needs A: first', details: { argument: 'A' } },
    });
  });

  it('escapes terminal control sequences in what it echoes back', async () => {
    const run = await forge(['test', 'echo', 'a', 'b', '\u001b[2Jevil', '--must', 'm'], { commands });
    assert.ok(!run.stderr.includes('\u001b'));
    assert.match(run.stderr, /\\u\{1b\}\[2Jevil/);
  });

  it('maps an unexpected exception to FO_INTERNAL_UNEXPECTED and exit status 1', async () => {
    const boom = defineCommand({ path: ['boom'], summary: 'x', flags: [], args: [], run: () => Promise.reject(new TypeError('bug')) });
    const run = await forge(['boom'], { commands: [boom] });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /^forge: FO_INTERNAL_UNEXPECTED: bug/);
  });
});
