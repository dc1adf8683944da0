/**
 * The one way a command refuses a flag's value. The value is what the user typed, or
 * what a script pasted from somewhere untrusted, so it is truncated and its control and
 * bidirectional characters escaped in the message itself: the message also reaches
 * `--json` consumers (`jq -r .error.message`) and logs, not only forge's own stderr.
 */
import { ForgeError } from '@forgeone/common';
import { sanitizeForTerminal } from './terminal.js';

/** Most characters of a bad value repeated in the message. */
export const MAX_SHOWN_VALUE = 80;

function truncated(value: string): string {
  return value.length > MAX_SHOWN_VALUE ? `${value.slice(0, MAX_SHOWN_VALUE)}...` : value;
}

/** A bad value as a quoted, escaped, truncated string for a message. */
export function showValue(value: string): string {
  return sanitizeForTerminal(JSON.stringify(truncated(value)));
}

/**
 * `--days expects a whole number from 1 to 36500, found "x"`.
 *
 * @param expected what a good value looks like, e.g. `a duration like "30s"`
 * @param hint appended as is after the value, e.g. ` (did you mean "data::/data"?)`;
 *   it must already be safe for a terminal
 * @returns FO_CLI_FLAG_VALUE with `details.flag` and `details.value` (truncated and
 *   escaped like the message)
 */
export function badFlagValue(flag: string, expected: string, value: string, hint = ''): ForgeError {
  return new ForgeError('FO_CLI_FLAG_VALUE', `--${flag} expects ${expected}, found ${showValue(value)}${hint}`, {
    details: { flag, value: sanitizeForTerminal(truncated(value)) },
  });
}
