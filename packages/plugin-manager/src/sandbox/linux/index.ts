/**
 * Linux confinement for the process backend (in progress): the bubblewrap launcher
 * (confine.ts, launch.ts, runtime-paths.ts; "Confinement" in docs/sandbox.md), cgroups (cgroups.ts, one
 * handle per sandbox over v1 or v2), the sweep of groups a dead host left, and the host
 * probe behind `forge doctor`. See docs/sandbox.md, "Cgroups and the host probe".
 */
export type { Cgroup, CgroupLimits, CgroupUsage } from './cgroup.js';
export { CgroupHost, type CgroupHostOptions } from './cgroups.js';
export { detectCgroupLayout, type CgroupLayout } from './cgroup-layout.js';
export { sweepStaleCgroups, type SweepOptions } from './cgroup-sweep.js';
export { probeIsolation, type Capability, type IsolationProbe } from './probe.js';
export { confinementArgs, checkConfinementSpec, SANDBOX_HOSTNAME, type ConfinedVolume, type ConfinementSpec } from './confine.js';
export { launchConfined, sharedDescriptor, type ConfinedExit, type ConfinedProcess, type ConfinementLimits, type LaunchOptions } from './launch.js';
export { nodeRuntimePaths } from './runtime-paths.js';
