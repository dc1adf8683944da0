/**
 * What `forge wasi run` tells the operator about refused calls. A guest whose call is
 * denied only sees an errno (EACCES, ENOTCAPABLE) and may exit quietly; without a note
 * the user cannot tell a policy at work from a broken program. Each distinct refusal
 * (call, resource, reason) gets one line on stderr after the run, with a count. The
 * guest chooses the resource names, so they are sanitised and truncated, and the
 * number of distinct refusals kept is bounded whatever the guest does.
 */
import type { HostCallDenial, HostCallGate } from '@forgeone/common';
import { sanitizeForTerminal } from '../../terminal.js';

/** Distinct refusals remembered; later new ones are only counted. */
export const MAX_DISTINCT_DENIALS = 256;
/** Distinct refusals printed; the rest are summarised in one line. */
export const MAX_DENIAL_LINES = 20;
/** Longest resource name shown, in characters. */
const MAX_RESOURCE = 200;

interface Entry {
  readonly call: string;
  readonly resource: string | undefined;
  readonly reason: string;
  count: number;
}

/** Refusals seen during one run. */
export class DenialReport {
  readonly #entries = new Map<string, Entry>();
  #total = 0;
  #unlisted = 0;

  /** Notes one refusal. */
  record(call: string, resource: string | undefined, denial: HostCallDenial): void {
    this.#total += 1;
    const shown = resource === undefined ? undefined : resource.length > MAX_RESOURCE ? `${resource.slice(0, MAX_RESOURCE)}...` : resource;
    const key = JSON.stringify([call, shown ?? null, denial.reason]);
    const entry = this.#entries.get(key);
    if (entry !== undefined) entry.count += 1;
    else if (this.#entries.size < MAX_DISTINCT_DENIALS) this.#entries.set(key, { call, resource: shown, reason: denial.reason, count: 1 });
    else this.#unlisted += 1;
  }

  /** How many calls were refused. */
  get total(): number {
    return this.#total;
  }

  /** Lines for stderr, each ending in a newline; none when nothing was refused. */
  lines(): string[] {
    const entries = [...this.#entries.values()];
    const lines = entries.slice(0, MAX_DENIAL_LINES).map((entry) => {
      const on = entry.resource === undefined ? '' : ` on ${JSON.stringify(entry.resource)}`;
      const times = entry.count === 1 ? '' : ` (${entry.count} times)`;
      return `forge: denied ${sanitizeForTerminal(`${entry.call}${on}: ${entry.reason}`)}${times}\n`;
    });
    const rest = entries.slice(MAX_DENIAL_LINES).reduce((sum, entry) => sum + entry.count, 0) + this.#unlisted;
    if (rest > 0) lines.push(`forge: ... and ${rest} more denied call${rest === 1 ? '' : 's'} (${this.#total} in all; --audit-log records each)\n`);
    return lines;
  }
}

/**
 * A gate that decides exactly as `inner` does and notes every refusal in `report`:
 * policy's denials and the refusals made outside policy (a path leaving its
 * directory, a missing right), which name what the guest asked for.
 */
export function reportingGate(inner: HostCallGate, report: DenialReport): HostCallGate {
  return {
    check(...args: Parameters<HostCallGate['check']>) {
      const denial = inner.check(...args);
      if (denial !== undefined) report.record(args[0], args[1], denial);
      return denial;
    },
    refuse(call, resource, reason, requested) {
      inner.refuse(call, resource, reason, requested);
      report.record(call, requested ?? resource, { reason });
    },
  };
}
