import { EXIT_CODES, ForgeError, toForgeError } from '@forgeone/common';
import type { CliIo, Command } from './command.js';
import { COMMANDS } from './commands/index.js';
import { renderCommandHelp, renderGroupHelp, renderRootHelp } from './help.js';
import { parseCommandLine, suggestion } from './parse.js';
import { sanitizeForTerminal, toSafeJson } from './terminal.js';
import { FORGE_VERSION } from '../version.js';

interface Resolved {
  readonly command: Command;
  readonly tokens: readonly string[];
}

/** Finds the command named by the leading words of `argv`, longest path first. */
function resolve(argv: readonly string[], commands: readonly Command[]): Resolved | undefined {
  const ordered = [...commands].sort((a, b) => b.path.length - a.path.length);
  for (const command of ordered) {
    if (command.path.every((word, index) => argv[index] === word)) return { command, tokens: argv.slice(command.path.length) };
  }
  return undefined;
}

function unknownCommand(argv: readonly string[], commands: readonly Command[]): ForgeError {
  const words = argv.filter((token) => !token.startsWith('-'));
  const nouns = [...new Set(commands.map((command) => command.path[0] ?? ''))];
  const first = words[0] ?? '';
  const group = commands.filter((command) => command.path[0] === first && command.path.length > 1);
  // The second word is part of the command only after a group noun (`ca inti`); after an
  // unknown first word it is an argument (`instal x.forgepkg`) and is not echoed back.
  const typedWords = group.length > 0 ? words.slice(0, 2) : words.slice(0, 1);
  const typed = sanitizeForTerminal(typedWords.join(' '));
  const hint =
    group.length > 0
      ? suggestion(words[1] ?? '', group.map((command) => command.path[1] ?? ''), `${first} `)
      : suggestion(first, nouns);
  return new ForgeError('FO_CLI_UNKNOWN_COMMAND', `unknown command "${typed}"${hint}; run 'forge --help' for the list`, {
    details: { command: typedWords },
  });
}

/**
 * Runs the `forge` CLI: resolves the command, parses its flags, runs it and maps any
 * failure to an exit status by error kind (docs/reference/cli.md). Never throws.
 * A command line without its command (bare `forge`, bare `forge ca`) prints the help
 * and exits with the usage status, 2: it is incomplete, and a script that ran it by
 * mistake must not succeed. Asking for help (`--help`, `help`) exits 0.
 *
 * @returns the process exit status
 */
export async function runCli(argv: readonly string[], io: CliIo, commands: readonly Command[] = COMMANDS): Promise<number> {
  const json = argv.includes('--json');
  try {
    const first = argv[0];
    if (first === undefined || first === '--help' || first === '-h' || (first === 'help' && argv.length === 1)) {
      io.stdout.write(renderRootHelp(commands, FORGE_VERSION));
      return first === undefined ? EXIT_CODES.usage : 0;
    }
    if (first === '--version' || first === '-V' || first === 'version') {
      io.stdout.write(json ? toSafeJson({ version: FORGE_VERSION }) : `forge ${FORGE_VERSION}\n`);
      return 0;
    }
    if (first === 'help') {
      const target = resolve(argv.slice(1), commands);
      if (target !== undefined) {
        io.stdout.write(renderCommandHelp(target.command));
        return 0;
      }
      if (commands.some((command) => command.path[0] === argv[1] && command.path.length > 1)) {
        io.stdout.write(renderGroupHelp(argv[1] ?? '', commands));
        return 0;
      }
      throw unknownCommand(argv.slice(1), commands);
    }
    const resolved = resolve(argv, commands);
    if (resolved === undefined) {
      const isGroup = commands.some((command) => command.path[0] === first && command.path.length > 1);
      if (isGroup && (argv.length === 1 || argv[1] === '--help' || argv[1] === '-h')) {
        io.stdout.write(renderGroupHelp(first, commands));
        return argv.length === 1 ? EXIT_CODES.usage : 0;
      }
      throw unknownCommand(argv, commands);
    }
    const input = parseCommandLine(resolved.command, resolved.tokens);
    if (input.help) {
      io.stdout.write(renderCommandHelp(resolved.command));
      return 0;
    }
    return (await resolved.command.run(input, io)) ?? 0;
  } catch (caught) {
    const error = toForgeError(caught);
    io.stderr.write(`forge: ${error.code}: ${sanitizeForTerminal(error.message)}\n`);
    if (error.kind === 'internal' && caught instanceof Error && caught.stack !== undefined && io.env['FORGE_DEBUG'] !== undefined) {
      io.stderr.write(`${caught.stack}\n`);
    }
    if (json) io.stdout.write(toSafeJson({ error: error.toJSON() }));
    return EXIT_CODES[error.kind];
  }
}
