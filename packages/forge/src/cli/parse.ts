import { ForgeError, closestWord } from '@forgeone/common';
import type { Command, CommandInput, FlagSpec } from './command.js';
import { sanitizeForTerminal } from './terminal.js';

/** Flags every command accepts. */
export const HELP_FLAG: FlagSpec = { name: 'help', short: 'h', type: 'boolean', description: 'Show help for the command.' };

/** Suggests a close match: `did you mean --json?`. */
export function suggestion(word: string, candidates: readonly string[], prefix = ''): string {
  const match = closestWord(word, candidates);
  return match === undefined ? '' : ` (did you mean ${prefix}${match}?)`;
}

/**
 * Parses the tokens after a command's name: `--name value`, `--name=value`, `-n value`,
 * boolean `--name`, `--` ending flags. Every malformed input is a usage error naming
 * the flag or argument.
 *
 * @throws ForgeError FO_CLI_UNKNOWN_FLAG, FO_CLI_FLAG_VALUE, FO_CLI_MISSING_ARGUMENT, FO_CLI_EXTRA_ARGUMENT
 */
export function parseCommandLine(command: Command, tokens: readonly string[]): CommandInput & { readonly help: boolean } {
  const specs = [...command.flags, HELP_FLAG];
  const flags: Record<string, boolean | string | string[] | undefined> = {};
  for (const spec of specs) flags[spec.name] = spec.type === 'boolean' ? false : spec.type === 'strings' ? [] : undefined;
  const positional: string[] = [];
  let rest: string[] = [];
  const name = command.path.join(' ');

  for (let index = 0; index < tokens.length; index += 1) {
    const token = tokens[index] ?? '';
    if (token === '--') {
      rest = tokens.slice(index + 1);
      if (command.passthrough === undefined && rest.length > 0) {
        throw new ForgeError('FO_CLI_EXTRA_ARGUMENT', `forge ${name} takes no arguments after --`);
      }
      break;
    }
    if (!token.startsWith('-') || token === '-') {
      positional.push(token);
      continue;
    }
    const long = token.startsWith('--');
    const body = long ? token.slice(2) : token.slice(1);
    const eq = body.indexOf('=');
    const key = eq === -1 ? body : body.slice(0, eq);
    const spec = specs.find((candidate) => (long ? candidate.name === key : candidate.short === key));
    if (spec === undefined) {
      const hint = long ? suggestion(key, specs.map((candidate) => candidate.name), '--') : '';
      throw new ForgeError('FO_CLI_UNKNOWN_FLAG', `forge ${name} has no flag ${sanitizeForTerminal(token.split('=')[0] ?? token)}${hint}`, {
        details: { flag: token },
      });
    }
    if (spec.type === 'boolean') {
      if (eq !== -1) throw new ForgeError('FO_CLI_FLAG_VALUE', `--${spec.name} takes no value`, { details: { flag: spec.name } });
      flags[spec.name] = true;
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) value = body.slice(eq + 1);
    else {
      const next = tokens[index + 1];
      if (next === undefined || (next.startsWith('-') && next !== '-')) {
        throw new ForgeError('FO_CLI_FLAG_VALUE', `--${spec.name} needs a value (${spec.value ?? 'VALUE'})`, { details: { flag: spec.name } });
      }
      value = next;
      index += 1;
    }
    if (spec.type === 'strings') (flags[spec.name] as string[]).push(value);
    else if (flags[spec.name] !== undefined) {
      throw new ForgeError('FO_CLI_FLAG_VALUE', `--${spec.name} may be given only once`, { details: { flag: spec.name } });
    } else flags[spec.name] = value;
  }

  const help = flags['help'] === true;
  const args: Record<string, string | string[] | undefined> = {};
  let cursor = 0;
  for (const arg of command.args) {
    if (arg.variadic) {
      args[arg.name] = positional.slice(cursor);
      cursor = positional.length;
    } else args[arg.name] = positional[cursor++];
    const value = args[arg.name];
    if (!help && arg.required && (value === undefined || (Array.isArray(value) && value.length === 0))) {
      throw new ForgeError('FO_CLI_MISSING_ARGUMENT', `forge ${name} needs ${arg.name}: ${arg.description}`, { details: { argument: arg.name } });
    }
  }
  if (!help && cursor < positional.length) {
    throw new ForgeError('FO_CLI_EXTRA_ARGUMENT', `forge ${name} got an unexpected argument ${JSON.stringify(sanitizeForTerminal(positional[cursor] ?? ''))}`, {
      details: { argument: positional[cursor] },
    });
  }
  for (const spec of command.flags) {
    if (!help && spec.required && (flags[spec.name] === undefined || (Array.isArray(flags[spec.name]) && (flags[spec.name] as string[]).length === 0))) {
      throw new ForgeError('FO_CLI_MISSING_ARGUMENT', `forge ${name} needs --${spec.name} ${spec.value ?? 'VALUE'}: ${spec.description}`, {
        details: { flag: spec.name },
      });
    }
  }
  return { flags, args, rest, help } as CommandInput & { readonly help: boolean };
}
