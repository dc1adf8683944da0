/**
 * Parsing of `forge wasi run`'s repeatable flags, apart from running, so every
 * malformed value is a usage error that names the flag and what was expected.
 */
import { isAbsolute, resolve } from 'node:path';
import type { WasiPreopen } from '@forgeone/plugin-manager/wasi';
import { badFlagValue, showValue } from '../../flag-value.js';

const DIR_SYNTAX = 'HOST::GUEST[:ro] (two colons between the host directory and the guest path)';

/**
 * `--dir HOST::GUEST[:ro]`, or `--dir DIR[:ro]` for the same name on both sides.
 * HOST is resolved against `cwd`; `:ro` makes the preopen read-only (`:rw`, the
 * default, may be written out). A single colon (`data:/data`, the Docker spelling) is
 * refused with the `::` form suggested rather than taken as one odd directory name; a
 * directory whose name holds a colon is written on both sides (`a:b::a:b`).
 *
 * @throws ForgeError FO_CLI_FLAG_VALUE
 */
export function parseDirFlag(value: string, cwd: string): WasiPreopen {
  let spec = value;
  let readOnly = false;
  if (spec.endsWith(':ro') || spec.endsWith(':rw')) {
    readOnly = spec.endsWith(':ro');
    spec = spec.slice(0, -3);
  }
  const split = spec.indexOf('::');
  if (split === -1 && spec.includes(':')) {
    const colon = spec.indexOf(':');
    const suggested = `${spec.slice(0, colon)}::${spec.slice(colon + 1)}${value.slice(spec.length)}`;
    throw badFlagValue('dir', DIR_SYNTAX, value, ` (did you mean ${showValue(suggested)}?)`);
  }
  const host = split === -1 ? spec : spec.slice(0, split);
  const guest = split === -1 ? spec : spec.slice(split + 2);
  if (host.length === 0 || guest.length === 0 || host.includes('\0') || guest.includes('\0')) {
    throw badFlagValue('dir', `${DIR_SYNTAX} with a non-empty host directory and guest path`, value);
  }
  return { host: isAbsolute(host) ? host : resolve(cwd, host), guest, readOnly };
}

/**
 * `--env NAME=VALUE`; the value may be empty or hold `=`.
 * @throws ForgeError FO_CLI_FLAG_VALUE
 */
export function parseEnvFlags(values: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const value of values) {
    const split = value.indexOf('=');
    if (split <= 0 || value.includes('\0')) throw badFlagValue('env', 'NAME=VALUE with a non-empty NAME', value);
    env[value.slice(0, split)] = value.slice(split + 1);
  }
  return env;
}
