/**
 * The audit chain's verification status: GET /v1/audit/verify on demand and once a
 * minute (the daemon recomputes the hash chain and checks the checkpoint signatures,
 * as `forge audit verify` does).
 */
import { describe, isMissing, type Api } from './api.js';
import { setText } from './dom.js';
import { clock, num, plain, seconds } from './format.js';
import { record } from './types.js';

/** Time between automatic verifications, in ms. */
export const VERIFY_EVERY_MS = 60_000;

/** What the panel is made of. */
export interface VerifyParts {
  readonly api: Api;
  readonly status: HTMLElement;
  readonly detail: HTMLElement;
  readonly button: HTMLButtonElement;
}

/** The sentence and state (`ok`, `broken`, `unavailable`, `error`) for a verification answer. */
export function verificationText(answer: unknown): { readonly state: 'ok' | 'broken'; readonly text: string } {
  const body = record(answer);
  const records = num(body['records']) ?? 0;
  const checkpoints = num(body['checkpoints']) ?? 0;
  const age = body['lastCheckpointAge'];
  const ageText = typeof age === 'number' ? `, last checkpoint ${seconds(age)} ago` : typeof age === 'string' ? `, last checkpoint ${plain(age, 40)} ago` : '';
  const counts = `${records} record${records === 1 ? '' : 's'}, ${checkpoints} checkpoint${checkpoints === 1 ? '' : 's'}${ageText}`;
  if (body['ok'] === true) return { state: 'ok', text: `Chain intact: ${counts}.` };
  const bad = record(body['firstBad']);
  const where = typeof bad['seq'] === 'number' ? ` at record #${bad['seq']}` : '';
  return { state: 'broken', text: `Chain BROKEN${where}: ${plain(bad['reason'] ?? 'no reason given', 300)} (${counts}).` };
}

/** See the module comment. */
export class AuditVerifier {
  readonly #parts: VerifyParts;
  #timer: ReturnType<typeof setInterval> | undefined;
  #running = false;
  #missing = false;

  constructor(parts: VerifyParts) {
    this.#parts = parts;
    parts.button.addEventListener('click', () => void this.verify());
  }

  start(): void {
    void this.verify();
    this.#timer = setInterval(() => void this.verify(), VERIFY_EVERY_MS);
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Verifies now (a click, or the minute timer); one at a time. */
  async verify(): Promise<void> {
    if (this.#running || this.#missing) return;
    this.#running = true;
    this.#parts.button.disabled = true;
    this.#parts.status.dataset['state'] = 'checking';
    setText(this.#parts.status, 'Verifying\u2026');
    try {
      const result = verificationText(await this.#parts.api.get('/v1/audit/verify'));
      this.#parts.status.dataset['state'] = result.state;
      setText(this.#parts.status, result.text);
      setText(this.#parts.detail, `checked at ${clock(Date.now())}`);
    } catch (error) {
      this.#missing = isMissing(error);
      this.#parts.status.dataset['state'] = this.#missing ? 'unavailable' : 'error';
      setText(this.#parts.status, this.#missing ? 'Audit verification is not available from this daemon.' : `Could not verify: ${describe(error)}`);
      setText(this.#parts.detail, '');
      if (this.#missing) this.stop();
    } finally {
      this.#running = false;
      this.#parts.button.disabled = this.#missing;
    }
  }
}
