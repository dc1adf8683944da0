/**
 * How a registry is created (its options, and the parts they resolve to: the only
 * place the registry reads files named by the configuration), and how a plugin is
 * loaded into it.
 */
import { readFile } from 'node:fs/promises';
import { IdentityContext, defaultTelemetryBus, fromFsError, silentLogger, type ForgeConfig, type Logger, type TelemetryBus } from '@forgeone/common';
import { TrustContext, openConfiguredAuditLog, type AuditLog } from '@forgeone/microkernel';
import { loadAttestationSettings, type OpenPackageOptions } from '../attestation/index.js';
import type { Tracing } from '../metrics/index.js';
import type { PolicySpec } from '../sandbox/index.js';
import type { BackendFactory } from './backend-host.js';
import { policySpecFromConfig } from './spec-builder.js';

/** Options for `PluginRegistry.create`. */
export interface RegistryOptions {
  /**
   * How plugins are hosted (default `configuredBackend`: as `runtime.backend` says).
   * @internal The isolation backend contract is internal: `runtime.backend` chooses one,
   *   and only this package's tests inject their own here. Not in the declarations.
   */
  readonly backend?: BackendFactory;
  /** The host's identity (default `plugin-manager`). */
  readonly identity?: IdentityContext;
  /** The trust context policy decisions are made in (default: a new one with the configured policy). */
  readonly trust?: TrustContext;
  /** The audit log; false for none; default: the configured one when security.audit_logging is true. */
  readonly audit?: AuditLog | false;
  readonly logger?: Logger;
  readonly telemetry?: TelemetryBus;
  /** The configuration file's directory, for relative paths in it (default: the working directory). */
  readonly configDir?: string;
  /** Package verification settings (default: from security.*). */
  readonly attestation?: OpenPackageOptions;
  readonly clock?: () => number;
  /**
   * Traces lifecycle steps and calls, with a child span per host call (metrics/tracing.ts;
   * `createTracing(config.telemetry, ...)`, undefined when tracing_enabled is false).
   * Default: no spans, and host calls are not timed.
   */
  readonly tracing?: Tracing | undefined;
}

/** Options for `PluginRegistry.loadPlugin`. */
export interface LoadOptions {
  /** Who is loading: the plugin's host calls act as this identity, for this plugin (default: the registry's). */
  readonly identity?: IdentityContext;
  /** A trust context that learns the plugin's ceiling too, so the host can ask it about the plugin (the registry's always does). */
  readonly trust?: TrustContext;
  /** Initialise and start the plugin on its first call instead of explicitly. */
  readonly lazy?: boolean;
}

/** Options for `PluginRegistry.registerNative`. */
export interface NativeOptions {
  /** Initialise and start the plugin on its first call instead of explicitly. */
  readonly lazy?: boolean;
}

/** What a registry is made of, once its options are resolved (everything but the backend). */
export interface RegistryParts {
  readonly config: ForgeConfig;
  readonly identity: IdentityContext;
  readonly trust: TrustContext;
  readonly audit: AuditLog | undefined;
  readonly logger: Logger;
  readonly telemetry: TelemetryBus;
  readonly attestation: OpenPackageOptions;
  readonly policy: PolicySpec;
  readonly clock: () => number;
  readonly tracing: Tracing | undefined;
}

/**
 * Resolves a registry's options against its configuration: reads the Cedar policies
 * and the trust store, opens the audit log.
 * @throws ForgeError FO_TRUST_POLICY_INVALID, FO_IO_* (the Cedar file), the trust store's and audit log's codes
 */
export async function registryParts(config: ForgeConfig, options: RegistryOptions): Promise<RegistryParts> {
  const configDir = options.configDir ?? process.cwd();
  const identity = options.identity ?? new IdentityContext('plugin-manager');
  const cedarText =
    config.policy.cedar === undefined
      ? undefined
      : await readFile(config.policy.cedar, 'utf8').catch((error: unknown) => {
          throw fromFsError(error, 'read the Cedar policies', config.policy.cedar ?? '');
        });
  const policy = policySpecFromConfig(config, cedarText);
  const trust = options.trust ?? new TrustContext(identity);
  const attestation = options.attestation ?? (await loadAttestationSettings(config.security, configDir));
  const audit = options.audit === false ? undefined : (options.audit ?? (config.security.audit_logging ? await openConfiguredAuditLog(config.audit, configDir) : undefined));
  const logger = options.logger ?? silentLogger;
  const telemetry = options.telemetry ?? defaultTelemetryBus;
  return { config, identity, trust, audit, logger, telemetry, attestation, policy, clock: options.clock ?? Date.now, tracing: options.tracing };
}
