/**
 * @forgeone/microkernel: the zero-trust core. The syscall bridge, policy decisions,
 * the audit log and anomaly detection land here (see docs/architecture.md); until
 * then the package only fixes its place in the layering.
 */
export const MICROKERNEL_API_VERSION = 1;
