import { ABI_CODES } from './codes/abi.js';
import { ATTESTATION_CODES } from './codes/attestation.js';
import { AUDIT_CODES } from './codes/audit.js';
import { CORE_CODES } from './codes/core.js';
import { DEPS_CODES } from './codes/deps.js';
import { EXTENSION_CODES } from './codes/extension.js';
import { LIFECYCLE_CODES } from './codes/lifecycle.js';
import { LINT_CODES } from './codes/lint.js';
import { MARKETPLACE_CODES } from './codes/market.js';
import { OCI_CODES } from './codes/oci.js';
import { PACKAGE_CODES } from './codes/package.js';
import { REGISTRY_CODES } from './codes/registry.js';
import { RUNTIME_CODES } from './codes/runtime.js';
import { SANDBOX_CODES } from './codes/sandbox.js';
import { STORE_CODES } from './codes/store.js';
import { DAEMON_CODES } from './codes/daemon.js';
import { SYSCALL_CODES } from './codes/syscall.js';
import { TRUST_CODES } from './codes/trust.js';
import { WASI_CODES } from './codes/wasi.js';
import type { ErrorSpec } from './spec.js';

/** One area of the catalog: the file under `codes/` that owns it and the `FO_<PREFIX>_` prefixes it owns. */
export interface ErrorArea {
  readonly title: string;
  /** `codes/<file>.ts`. */
  readonly file: string;
  /**
   * The prefixes of its codes. A prefix belongs to one area only; an area owns the
   * prefix named like its file and, where one file groups a few closely related
   * prefixes (attestation's signing, chain and revocation codes), those too.
   */
  readonly prefixes: readonly string[];
  readonly codes: Readonly<Record<string, ErrorSpec>>;
}

/**
 * Every area's codes, in the order the reference documentation lists them.
 * Each area owns one file under `codes/`; a code is never reused or renamed.
 */
export const ERROR_AREAS = [
  { title: 'Core: CLI, configuration, files, limits', file: 'core', prefixes: ['CORE', 'CLI', 'CONFIG', 'IDENTITY', 'INTERNAL', 'IO', 'LIMIT', 'TELEMETRY'], codes: CORE_CODES },
  { title: 'Manifests and packages', file: 'package', prefixes: ['PACKAGE', 'PACK', 'MANIFEST'], codes: PACKAGE_CODES },
  {
    title: 'Attestation: signing, verification, trust',
    file: 'attestation',
    prefixes: ['ATTESTATION', 'BUNDLE', 'CA', 'CERT', 'CHAIN', 'KEYLESS', 'KEY', 'REVOCATION', 'REVOKED', 'SIGNER', 'SIGN', 'TRUSTSTORE', 'VERIFY'],
    codes: ATTESTATION_CODES,
  },
  { title: 'Runtime: analysis and instrumentation', file: 'runtime', prefixes: ['RUNTIME'], codes: RUNTIME_CODES },
  { title: 'Sandbox: isolation backends, CPU and time limits', file: 'sandbox', prefixes: ['SANDBOX'], codes: SANDBOX_CODES },
  { title: 'ABI: forge/1 calls and host functions', file: 'abi', prefixes: ['ABI'], codes: ABI_CODES },
  { title: 'WASI preview1', file: 'wasi', prefixes: ['WASI'], codes: WASI_CODES },
  { title: 'Trust: policy decisions and anomaly detection', file: 'trust', prefixes: ['TRUST'], codes: TRUST_CODES },
  { title: 'Audit log', file: 'audit', prefixes: ['AUDIT'], codes: AUDIT_CODES },
  { title: 'Syscall bridge and forge.* host calls', file: 'syscall', prefixes: ['SYSCALL'], codes: SYSCALL_CODES },
  { title: 'Dependencies', file: 'deps', prefixes: ['DEPS'], codes: DEPS_CODES },
  { title: 'Plugin store', file: 'store', prefixes: ['STORE'], codes: STORE_CODES },
  { title: 'Daemon and its API', file: 'daemon', prefixes: ['DAEMON'], codes: DAEMON_CODES },
  { title: 'Lifecycle', file: 'lifecycle', prefixes: ['LIFECYCLE'], codes: LIFECYCLE_CODES },
  { title: 'Registry', file: 'registry', prefixes: ['REGISTRY'], codes: REGISTRY_CODES },
  { title: 'Extension points and calls between plugins', file: 'extension', prefixes: ['EXTENSION'], codes: EXTENSION_CODES },
  { title: 'Marketplace: TUF repository, client and index', file: 'market', prefixes: ['MARKET'], codes: MARKETPLACE_CODES },
  { title: 'OCI distribution: push, pull, login', file: 'oci', prefixes: ['OCI'], codes: OCI_CODES },
  { title: 'Lint: checking a plugin before it ships', file: 'lint', prefixes: ['LINT'], codes: LINT_CODES },
] as const satisfies readonly ErrorArea[];

/** The one catalog of error codes: code -> kind and summary. */
export const ERROR_CATALOG = {
  ...CORE_CODES,
  ...PACKAGE_CODES,
  ...ATTESTATION_CODES,
  ...RUNTIME_CODES,
  ...SANDBOX_CODES,
  ...ABI_CODES,
  ...WASI_CODES,
  ...TRUST_CODES,
  ...AUDIT_CODES,
  ...SYSCALL_CODES,
  ...DEPS_CODES,
  ...STORE_CODES,
  ...DAEMON_CODES,
  ...LIFECYCLE_CODES,
  ...REGISTRY_CODES,
  ...EXTENSION_CODES,
  ...MARKETPLACE_CODES,
  ...OCI_CODES,
  ...LINT_CODES,
} as const satisfies Record<string, ErrorSpec>;

/** A stable error code, `FO_<AREA>_<REASON>`. */
export type ErrorCode = keyof typeof ERROR_CATALOG;

/** True when `value` names a code in the catalog. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CATALOG, value);
}
