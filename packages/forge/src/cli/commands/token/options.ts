/** What the token commands share: the role and lifetime flags, and rendering tokens for a terminal. */
import { parseDuration } from '@forgeone/common';
import { ROLES, type Role, type TokenInfo } from '../../../daemon/tokens.js';
import { badFlagValue } from '../../flag-value.js';
import { table } from '../../table.js';
import { sanitizeForTerminal } from '../../terminal.js';

export type { CreatedToken, Role, TokenInfo } from '../../../daemon/tokens.js';

/** @throws ForgeError FO_CLI_FLAG_VALUE */
export function parseRole(value: string): Role {
  if (!(ROLES as readonly string[]).includes(value)) throw badFlagValue('role', `one of ${ROLES.join(', ')}`, value);
  return value as Role;
}

/** Shortest and longest token lifetime, in ms (1 s, 3650 days), as the API takes them. */
const MIN_LIFETIME_MS = 1000;
const MAX_LIFETIME_MS = 3650 * 86_400_000;

/**
 * `--expires 30d` in ms (undefined: never).
 * @throws ForgeError FO_CLI_FLAG_VALUE
 */
export function parseExpires(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined || ms < MIN_LIFETIME_MS || ms > MAX_LIFETIME_MS) throw badFlagValue('expires', 'a duration from 1s to 3650d, like 30d, 12h or 90m', value);
  return ms;
}

/** `active`, `revoked` or `expired`, as of `now`. */
export function tokenStatus(token: TokenInfo, now: number): string {
  if (token.revokedAt !== null) return 'revoked';
  if (token.expiresAt !== null && Date.parse(token.expiresAt) <= now) return 'expired';
  return 'active';
}

/** The `forge token list` table; names are the creator's text, so they are escaped. */
export function tokenTable(tokens: readonly TokenInfo[], now: number): string {
  const rows = [
    ['ID', 'NAME', 'ROLE', 'STATUS', 'CREATED', 'EXPIRES', 'LAST USED'],
    ...tokens.map((token) => [
      sanitizeForTerminal(token.id),
      sanitizeForTerminal(token.name),
      sanitizeForTerminal(token.role),
      tokenStatus(token, now),
      sanitizeForTerminal(token.createdAt),
      sanitizeForTerminal(token.expiresAt ?? 'never'),
      sanitizeForTerminal(token.lastUsedAt ?? '-'),
    ]),
  ];
  return `${table(rows).join('\n')}\n`;
}
