/**
 * `forge audit verify` through a running daemon (GET /v1/audit/verify): the daemon holds
 * the log and writes it, so it verifies it between two records, with its own public key.
 */
import { ERROR_CATALOG, EXIT_CODES, formatDuration, isErrorCode } from '@forgeone/common';
import { call } from '../../../daemon/client.js';
import type { CliIo } from '../../command.js';
import type { DaemonLink } from '../../daemon-link.js';
import { sanitizeForTerminal, sanitizeLine, toSafeJson } from '../../terminal.js';

/** The daemon's answer. */
export interface DaemonVerification {
  readonly ok: boolean;
  readonly records: number;
  readonly checkpoints: number;
  /** Seconds since the last checkpoint was written. */
  readonly lastCheckpointAge?: number;
  readonly firstBad?: { readonly seq: number; readonly reason: string };
}

/** The exit status of a failed verification: the kind of the code its reason starts with, else integrity. */
export function failureStatus(reason: string): number {
  const code = /^FO_[A-Z0-9_]+/.exec(reason)?.[0];
  return code !== undefined && isErrorCode(code) ? EXIT_CODES[ERROR_CATALOG[code].kind] : EXIT_CODES.integrity;
}

/**
 * Asks the daemon to verify its log and prints the answer.
 * @returns the exit status: 0 when the log is good
 * @throws ForgeError the daemon's refusal, and the client's codes
 */
export async function verifyThroughDaemon(io: CliIo, link: DaemonLink, json: boolean): Promise<number> {
  const result = await call<DaemonVerification>(link.target, { method: 'GET', path: '/v1/audit/verify' });
  if (json) io.stdout.write(toSafeJson(result));
  else {
    const age = typeof result.lastCheckpointAge === 'number' && Number.isFinite(result.lastCheckpointAge) ? `, the last one ${formatDuration(Math.round(result.lastCheckpointAge) * 1000)} ago` : '';
    const lines = [
      `audit log of the daemon at ${sanitizeForTerminal(link.address)}: ${result.ok ? 'OK' : 'FAILED'}`,
      `  records:      ${sanitizeLine(String(result.records))}${result.ok ? '' : ' good before the problem'}`,
      `  checkpoints:  ${sanitizeLine(String(result.checkpoints))}${result.checkpoints === 0 ? ' (none written yet)' : `${age}, signatures verified by the daemon with its own key`}`,
    ];
    if (result.firstBad !== undefined) lines.push(`first bad record: seq ${sanitizeLine(String(result.firstBad.seq))}: ${sanitizeLine(String(result.firstBad.reason))}`);
    io.stdout.write(`${lines.join('\n')}\n`);
  }
  if (result.ok) return 0;
  const reason = String(result.firstBad?.reason ?? 'the daemon reports the log does not verify');
  io.stderr.write(`forge: ${sanitizeLine(reason)}\n`);
  return failureStatus(reason);
}
