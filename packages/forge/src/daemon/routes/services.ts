/**
 * What route handlers reach: the parts of a running daemon. One object, built by the
 * daemon's composition root (daemon.ts) and handed to every route.
 */
import type { AuditLog } from '@forgeone/microkernel';
import type { AuditReader } from '../audit-reader.js';
import type { EventHub } from '../events.js';
import type { PluginLogs } from '../logs.js';
import type { RegistryPulls } from '../pulls.js';
import type { RevocationWatch } from '../revocations.js';
import type { PluginService } from '../service.js';
import type { DaemonStats } from '../stats.js';
import type { Streams } from '../streams.js';
import type { Tokens } from '../tokens.js';
import type { Upgrades } from '../upgrades.js';

/** See the module comment. */
export interface DaemonServices {
  readonly plugins: PluginService;
  readonly tokens: Tokens;
  readonly logs: PluginLogs;
  /** Per-plugin call figures (GET /v1/stats). */
  readonly stats: DaemonStats;
  /** The audit log (undefined with security.audit_logging off). */
  readonly audit: AuditLog | undefined;
  /** The audit log read back (tail, verify) from the configured paths. */
  readonly auditReader: AuditReader;
  /** Live lifecycle, plugin and audit events. */
  readonly events: EventHub;
  /** The open streams (log follows, event streams) and their bounds. */
  readonly streams: Streams;
  /** Installs by reference, pulled from a registry. */
  readonly pulls: RegistryPulls;
  /** Upgrades waiting for permission approval. */
  readonly upgrades: Upgrades;
  /** The daemon's version and when it started. */
  readonly about: { readonly version: string; readonly startedAt: string; readonly pid: number };
  /** The marketplace's revocations, enforced (undefined without plugin_manager.marketplace). */
  readonly revocations?: RevocationWatch;
  /** True once every plugin desired running was brought back at start-up. */
  readonly ready: () => boolean;
}
