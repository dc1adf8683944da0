/**
 * The lifecycle entry points, in a module of their own: the sandbox's worker loop needs
 * the names but not the manifest schema (and the semver parser it builds on), which a
 * confined sandbox would otherwise load for nothing (scripts/bundle-sandbox.mjs).
 */

/** Lifecycle entry points a plugin may export, in the order a host calls them. */
export const ENTRY_POINT_NAMES = ['init', 'start', 'stop', 'pause', 'resume', 'unload'] as const;
export type EntryPointName = (typeof ENTRY_POINT_NAMES)[number];
