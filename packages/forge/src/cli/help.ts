import { ERROR_KINDS, ERROR_KIND_MEANING, EXIT_CODES } from '@forgeone/common';
import { usageLine, type Command, type FlagSpec } from './command.js';
import { HELP_FLAG } from './parse.js';

function table(rows: readonly (readonly [string, string])[], indent = '  '): string[] {
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `${indent}${left.padEnd(width)}   ${right}`);
}

function flagLabel(flag: FlagSpec): string {
  const value = flag.type === 'boolean' ? '' : ` ${flag.value ?? 'VALUE'}`;
  const repeat = flag.type === 'strings' ? '...' : '';
  return `${flag.short === undefined ? '    ' : `-${flag.short}, `}--${flag.name}${value}${repeat}`;
}

/** The `--help` text of one command. */
export function renderCommandHelp(command: Command): string {
  const lines = [`Usage: ${usageLine(command)}`, '', command.summary];
  if (command.description !== undefined) lines.push('', command.description);
  const args: [string, string][] = command.args.map((arg) => [`${arg.name}${arg.variadic ? '...' : ''}`, arg.description]);
  if (command.passthrough !== undefined) args.push([`-- ${command.passthrough.name}...`, command.passthrough.description]);
  if (args.length > 0) lines.push('', 'Arguments:', ...table(args));
  lines.push('', 'Flags:', ...table([...command.flags, HELP_FLAG].map((flag) => [flagLabel(flag), `${flag.description}${flag.required ? ' (required)' : ''}`])));
  if (command.examples !== undefined && command.examples.length > 0) lines.push('', 'Examples:', ...command.examples.map((example) => `  ${example}`));
  return `${lines.join('\n')}\n`;
}

/** The help text for a group of commands sharing a first word (`forge config`). */
export function renderGroupHelp(noun: string, commands: readonly Command[]): string {
  const members = commands.filter((command) => command.path[0] === noun);
  return `Usage: forge ${noun} <command> [flags]\n\nCommands:\n${table(members.map((command) => [command.path.join(' '), command.summary])).join('\n')}\n\nRun 'forge ${noun} <command> --help' for details.\n`;
}

/** Exit statuses, for `forge --help` and docs/reference/cli.md. */
export function exitStatusRows(): [string, string][] {
  const rows: [string, string][] = [['0', 'success']];
  for (const kind of ERROR_KINDS) rows.push([String(EXIT_CODES[kind]), `${kind}: ${ERROR_KIND_MEANING[kind]}`]);
  return rows.sort((a, b) => Number(a[0]) - Number(b[0]));
}

/** The `forge --help` text. */
export function renderRootHelp(commands: readonly Command[], version: string): string {
  return [
    `forge ${version}: run untrusted WebAssembly plugins under zero trust`,
    '',
    'Usage: forge <command> [flags] [arguments]',
    '',
    'Commands:',
    ...table(commands.map((command) => [command.path.join(' '), command.summary])),
    '',
    'Global flags:',
    ...table([
      ['-h, --help', 'Show help (also: forge help <command>).'],
      ['-V, --version', 'Print the version.'],
    ]),
    '',
    'Data goes to stdout, diagnostics to stderr. Commands that read data take --json.',
    '',
    'Files:',
    '  A configuration (--config, $FORGE_CONFIG or ./plugin-manager.yaml) names where plugins',
    '  and the audit log live. What it leaves out goes under the state directory:',
    '  $XDG_STATE_HOME/forgeone, else ~/.local/state/forgeone; /var/lib/forgeone for root.',
    "  'forge config check' prints the one in use.",
    '',
    'Daemon:',
    '  When a daemon (forge daemon) answers on the configured daemon.socket, commands go through its',
    '  API; otherwise they work on the local files, with the same output. start, stop, pause, resume,',
    '  restart, unload, logs, events and stats need a daemon. FORGE_DAEMON=unix:PATH or',
    '  http://127.0.0.1:PORT names one (no fallback), FORGE_DAEMON=off never uses one, and',
    '  FORGE_TOKEN is sent as the bearer token (needed over TCP).',
    '',
    'Exit status:',
    ...table(exitStatusRows()),
    '',
    "Run 'forge <command> --help' for a command's flags.",
    '',
  ].join('\n');
}
