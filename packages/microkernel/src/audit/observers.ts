/**
 * Who learns of event records as they are appended (the daemon's live audit stream):
 * a listener list that costs one length check per record when nobody listens, and
 * whose listeners can neither fail an append nor slow it beyond their own work.
 */
import type { Logger } from '@forgeone/common';
import { bounded, type AuditDecision } from './record.js';

/** An event record as it was appended (resource and reason cut as the log cuts them). */
export interface AuditEventNotice {
  readonly seq: number;
  /** The record's timestamp, as written (ISO-8601, UTC). */
  readonly ts: string;
  readonly principal: string;
  /** The plugin's package digest, when a plugin acted. */
  readonly plugin?: string;
  readonly action: string;
  readonly resource?: string;
  readonly decision: AuditDecision;
  readonly reason?: string;
}

/** Receives each event record once it has its seq and hash (before it is durable). Must be quick and not throw. */
export type AuditObserver = (record: AuditEventNotice) => void;

/** The listeners of one log. */
export class AuditObservers {
  #listeners: readonly AuditObserver[] = [];
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** True when someone listens: callers build a notice only then. */
  get active(): boolean {
    return this.#listeners.length > 0;
  }

  /** Adds a listener; returns the function that removes it. */
  add(listener: AuditObserver): () => void {
    this.#listeners = [...this.#listeners, listener];
    return () => {
      this.#listeners = this.#listeners.filter((existing) => existing !== listener);
    };
  }

  /** Hands `record` to every listener; a listener that throws is logged, the others still run. */
  notify(record: AuditEventNotice): void {
    for (const listener of this.#listeners) {
      try {
        listener(record);
      } catch (error) {
        this.#logger.error('an audit observer threw', { seq: record.seq, error: error instanceof Error ? error.message : String(error) });
      }
    }
  }

  /** Builds the notice of an event record (resource and reason cut as the log cuts them) and hands it to every listener. */
  notifyEvent(seq: number, ts: string, principal: string, plugin: string | undefined, action: string, resource: string | undefined, decision: AuditDecision, reason: string | undefined): void {
    this.notify({
      seq,
      ts,
      principal,
      ...(plugin === undefined ? {} : { plugin }),
      action,
      ...(resource === undefined ? {} : { resource: bounded(resource) }),
      decision,
      ...(reason === undefined ? {} : { reason: bounded(reason) }),
    });
  }
}
