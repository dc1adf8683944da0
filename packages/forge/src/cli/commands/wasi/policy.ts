/**
 * `forge wasi run` under the same engine as installed plugins: the module becomes a
 * local, unsigned plugin whose ceiling is exactly what the command line grants (its
 * --dir directories as volumes, every WASI call), every call passes the syscall
 * bridge, a --policy file adds Cedar rules, and --audit-log records the decisions.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { IdentityContext, fromFsError, type ForgeConfig, type HostCallGate } from '@forgeone/common';
import {
  CedarPolicies,
  SyscallBridge,
  TrustContext,
  openConfiguredAuditLog,
  type AuditLog,
  type Ceiling,
  type PluginGrant,
} from '@forgeone/microkernel';
import type { WasiPreopen } from '@forgeone/plugin-manager/wasi';

/** The engine a run goes through, and what must be closed after it. */
export interface RunPolicy {
  readonly gate: HostCallGate;
  readonly audit: AuditLog | undefined;
}

function pluginName(file: string): string {
  const name = basename(file).replace(/\.wasm$/i, '').toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return name.length === 0 ? 'module' : name.slice(0, 64);
}

/**
 * Builds the trust context, bridge and (optionally) audit log for one run.
 * @throws ForgeError FO_TRUST_POLICY_INVALID, FO_IO_*, the audit log's codes
 */
export async function runPolicy(options: {
  readonly module: string;
  readonly bytes: Uint8Array;
  readonly preopens: readonly WasiPreopen[];
  readonly config: ForgeConfig;
  readonly policyFile: string | undefined;
  readonly auditLog: string | undefined;
}): Promise<RunPolicy> {
  const digest = `sha256:${createHash('sha256').update(options.bytes).digest('hex')}`;
  const plugin = { publisher: 'local', name: pluginName(options.module), version: '0.0.0', digest, attested: false };
  const volumes = options.preopens.map((preopen, index) => ({ name: `dir${index}`, path: preopen.guest, mode: preopen.readOnly ? ('ro' as const) : ('rw' as const) }));
  const ceiling: Ceiling = { filesystem: ['read', 'write'], network: [], allowed_hosts: [], syscalls: ['wasi_snapshot_preview1.*'], volumes };
  const grant: PluginGrant = { volumes: Object.fromEntries(options.preopens.map((preopen, index) => [`dir${index}`, { host: preopen.host, mode: preopen.readOnly ? 'ro' : 'rw' }])) };
  const host = new IdentityContext('forge-wasi-run');
  const trust = new TrustContext(host);
  let cedar: CedarPolicies | undefined;
  if (options.policyFile !== undefined) {
    const file = options.policyFile;
    const text = await readFile(file, 'utf8').catch((error: unknown) => {
      throw fromFsError(error, 'read the policy file', file);
    });
    cedar = CedarPolicies.load(text, trust.catalog, options.config.policy.cedar_mode, file);
  }
  trust.setPolicy({ networkAccess: 'none', grants: { [plugin.name]: grant }, ...(cedar === undefined ? {} : { cedar }) });
  const pluginTrust = trust.registerPlugin(plugin, ceiling);
  const audit =
    options.auditLog === undefined ? undefined : await openConfiguredAuditLog({ ...options.config.audit, path: options.auditLog }, dirname(options.auditLog));
  const bridge = new SyscallBridge({ trust, ...(audit === undefined ? {} : { audit }) });
  return { gate: bridge.gateFor(pluginTrust, host.forPlugin(plugin)), audit };
}
