import { ABI_CODES } from './codes/abi.js';
import { ATTESTATION_CODES } from './codes/attestation.js';
import { AUDIT_CODES } from './codes/audit.js';
import { CORE_CODES } from './codes/core.js';
import { LIFECYCLE_CODES } from './codes/lifecycle.js';
import { PACKAGE_CODES } from './codes/package.js';
import { REGISTRY_CODES } from './codes/registry.js';
import { RUNTIME_CODES } from './codes/runtime.js';
import { SYSCALL_CODES } from './codes/syscall.js';
import { TRUST_CODES } from './codes/trust.js';
import { WASI_CODES } from './codes/wasi.js';
import type { ErrorSpec } from './spec.js';

/**
 * Every area's codes, in the order the reference documentation lists them.
 * Each area owns one file under `codes/`; a code is never reused or renamed.
 */
export const ERROR_AREAS = [
  { title: 'Core: CLI, configuration, files', codes: CORE_CODES },
  { title: 'Manifests and packages', codes: PACKAGE_CODES },
  { title: 'Attestation: signing, verification, trust', codes: ATTESTATION_CODES },
  { title: 'Runtime: analysis, instrumentation, sandbox limits', codes: RUNTIME_CODES },
  { title: 'ABI: forge/1 calls and host functions', codes: ABI_CODES },
  { title: 'WASI preview1', codes: WASI_CODES },
  { title: 'Trust: policy decisions and anomaly detection', codes: TRUST_CODES },
  { title: 'Audit log', codes: AUDIT_CODES },
  { title: 'Syscall bridge and forge.* host calls', codes: SYSCALL_CODES },
  { title: 'Registry: dependencies, store, lifecycle', codes: REGISTRY_CODES },
  { title: 'Registry, lifecycle and extensions', codes: LIFECYCLE_CODES },
] as const;

/** The one catalog of error codes: code -> kind and summary. */
export const ERROR_CATALOG = {
  ...CORE_CODES,
  ...PACKAGE_CODES,
  ...ATTESTATION_CODES,
  ...RUNTIME_CODES,
  ...ABI_CODES,
  ...WASI_CODES,
  ...TRUST_CODES,
  ...AUDIT_CODES,
  ...SYSCALL_CODES,
  ...REGISTRY_CODES,
  ...LIFECYCLE_CODES,
} as const satisfies Record<string, ErrorSpec>;

/** A stable error code, `FO_<AREA>_<REASON>`. */
export type ErrorCode = keyof typeof ERROR_CATALOG;

/** True when `value` names a code in the catalog. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CATALOG, value);
}
