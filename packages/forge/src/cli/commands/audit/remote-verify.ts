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
  /** Whether the checkpoint signatures were checked (with the daemon's own public key). */
  readonly signatures?: 'verified' | 'unchecked' | 'none';
  /** Seconds since the last checkpoint was written. */
  readonly lastCheckpointAge?: number;
  readonly firstBad?: { readonly seq: number; readonly reason: string };
  readonly problem?: { readonly code: string; readonly message: string };
}

/** The exit status of a failed verification: the kind of its problem's code (or the code its reason starts with), else integrity. */
export function failureStatus(result: Pick<DaemonVerification, 'firstBad' | 'problem'>): number {
  const code = result.problem?.code ?? /^FO_[A-Z0-9_]+/.exec(String(result.firstBad?.reason ?? ''))?.[0];
  return code !== undefined && isErrorCode(code) ? EXIT_CODES[ERROR_CATALOG[code].kind] : EXIT_CODES.integrity;
}

function signatureNote(result: DaemonVerification, age: string): string {
  if (result.checkpoints === 0) return ' (none written yet)';
  if (result.signatures === 'verified') return `${age}, signatures verified by the daemon with its own key`;
  if (result.signatures === 'unchecked') return `${age}, signatures NOT checked (the daemon has no public key beside its checkpoint key)`;
  return age;
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
      `  checkpoints:  ${sanitizeLine(String(result.checkpoints))}${signatureNote(result, age)}`,
    ];
    if (result.firstBad !== undefined) lines.push(`first bad record: seq ${sanitizeLine(String(result.firstBad.seq))}: ${sanitizeLine(String(result.firstBad.reason))}`);
    io.stdout.write(`${lines.join('\n')}\n`);
  }
  if (result.ok) return 0;
  const reason = result.problem !== undefined ? `${String(result.problem.code)}: ${String(result.problem.message)}` : String(result.firstBad?.reason ?? 'the daemon reports that its audit log does not verify');
  io.stderr.write(`forge: ${sanitizeLine(reason)}\n`);
  return failureStatus(result);
}
