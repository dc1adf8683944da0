/**
 * From a verified package, its prepared module and the operator's configuration to the
 * {@link PluginSpec} a backend hosts. Pure: every limit is the smaller of what the
 * plugin asks for and what the operator allows, and every grant is the intersection of
 * the manifest and the operator's grant.
 */
import { ANY_PUBLISHER, type ForgeConfig, type GrantConfig, type PluginIdentity } from '@forgeone/common';
import { anomalyOptionsFromConfig, grantsFromConfig, type AuditLevel, type CallSpec } from '@forgeone/microkernel';
import type { Manifest } from '../plugin/index.js';
import type { PreparedModule } from '../runtime/index.js';
import type { PluginSpec, PolicySpec } from '../sandbox/index.js';
import type { VolumeMapping } from '../syscall/index.js';

/** The smaller of what a plugin asks for and what the operator allows. */
export function effectiveLimits(manifest: Manifest, config: ForgeConfig): { memoryBytes: number; fuel: bigint; timeoutMs: number; openFiles: number } {
  const limits = manifest.limits;
  return {
    memoryBytes: Math.min(limits.memory ?? config.sandbox.memory_limit, config.sandbox.memory_limit),
    fuel: BigInt(Math.min(limits.fuel ?? config.runtime.fuel_per_call, config.runtime.fuel_per_call)),
    timeoutMs: Math.min(limits.timeout ?? config.default_timeout, config.default_timeout),
    openFiles: Math.min(limits.file_descriptors ?? config.sandbox.file_descriptor_limit, config.sandbox.file_descriptor_limit),
  };
}

/** The operator policy as data, for backends to rebuild in their own threads. */
export function policySpecFromConfig(config: ForgeConfig, cedarText: string | undefined): PolicySpec {
  return {
    networkAccess: config.sandbox.network_access,
    grants: grantsFromConfig(config),
    ...(cedarText === undefined ? {} : { cedar: { text: cedarText, mode: config.policy.cedar_mode, source: config.policy.cedar ?? 'cedar policies' } }),
  };
}

/**
 * The operator's grant for a plugin (`policy.grants.<name>`), when it is for any
 * publisher or names the plugin's; the same rule the policy decision applies
 * (microkernel `grantFor`). SECURITY: the volumes, hosts and config values (secrets)
 * of a grant naming a publisher never reach a same-name plugin of another publisher.
 */
export function operatorGrant(config: Pick<ForgeConfig, 'policy'>, identity: Pick<PluginIdentity, 'name' | 'publisher'>): GrantConfig | undefined {
  const grant = Object.hasOwn(config.policy.grants, identity.name) ? config.policy.grants[identity.name] : undefined;
  return grant !== undefined && (grant.publisher === ANY_PUBLISHER || grant.publisher === identity.publisher) ? grant : undefined;
}

/**
 * The volumes a plugin gets: those its manifest declares AND its grant
 * ({@link operatorGrant}) maps, each read-only unless both the manifest and the
 * mapping say rw.
 */
export function grantedVolumes(manifest: Manifest, grant: GrantConfig | undefined): VolumeMapping[] {
  const mapped = grant?.volumes ?? {};
  const out: VolumeMapping[] = [];
  for (const volume of manifest.permissions.volumes) {
    const mapping = mapped[volume.name];
    if (mapping === undefined) continue;
    out.push({ guest: volume.path, host: mapping.host, mode: volume.mode === 'rw' && mapping.mode === 'rw' && manifest.permissions.filesystem.includes('write') ? 'rw' : 'ro' });
  }
  return out;
}

/** Inputs of {@link buildPluginSpec}. */
export interface SpecInputs {
  readonly id: string;
  readonly manifest: Manifest;
  readonly identity: PluginIdentity;
  readonly host: string;
  readonly prepared: PreparedModule;
  readonly config: ForgeConfig;
  readonly policy: PolicySpec;
  /** Where the plugin keeps its own data (kv store), keyed by its identity (store/data.ts); absent: none. */
  readonly dataDirectory: string | undefined;
  /** Host calls served on the host thread (the application's, and the registry's own). */
  readonly registered: readonly (string | CallSpec)[];
}

/** Builds the spec a backend hosts. */
export function buildPluginSpec(inputs: SpecInputs): PluginSpec {
  const { manifest, config } = inputs;
  const limits = effectiveLimits(manifest, config);
  const grant = operatorGrant(config, inputs.identity);
  const volumes = grantedVolumes(manifest, grant);
  const auditLevel: AuditLevel = config.audit.level;
  return {
    id: inputs.id,
    identity: inputs.identity,
    host: inputs.host,
    module: inputs.prepared.module,
    moduleBytes: inputs.prepared.bytes,
    fuelExport: inputs.prepared.fuelExport,
    usesWasi: inputs.prepared.info.imports.some((entry) => entry.module === 'wasi_snapshot_preview1'),
    entryPoints: manifest.entry_points,
    fuelPerCall: limits.fuel,
    timeoutMs: limits.timeoutMs,
    ceiling: manifest.permissions,
    policy: inputs.policy,
    auditLevel,
    auditMaxCallRecords: config.audit.max_call_records,
    anomaly: { enabled: config.policy.anomaly.enabled, options: anomalyOptionsFromConfig(config) },
    wasi: {
      args: [manifest.name],
      env: {},
      preopens: volumes.map((volume) => ({ host: volume.host, guest: volume.guest, readOnly: volume.mode === 'ro' })),
      maxOpenFiles: limits.openFiles,
    },
    hostCalls: {
      config: grant?.config ?? {},
      ...(inputs.dataDirectory === undefined ? {} : { kvDirectory: inputs.dataDirectory }),
      explicitHosts: (grant?.hosts ?? []).filter((host) => !host.includes('*')),
      volumes,
      registered: inputs.registered,
    },
  };
}
