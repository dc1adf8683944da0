/**
 * forge install through a running daemon: an uploaded package (POST /v1/plugins), a
 * registry reference the daemon pulls itself (POST /v1/plugins/pull), or a plan read
 * from an image layout on this machine, uploaded a package at a time.
 */
import { toForgeError } from '@forgeone/common';
import { leftAfterUndo, type PlannedPlugin } from '@forgeone/plugin-manager';
import { call } from '../../../daemon/client.js';
import type { PullOutcome } from '../../../daemon/pulls.js';
import type { InstallOutcome } from '../../../daemon/service.js';
import type { CliIo } from '../../command.js';
import type { DaemonLink } from '../../daemon-link.js';
import { uploadProgress } from '../../progress.js';
import { sanitizeForTerminal } from '../../terminal.js';
import type { InstallSummary } from './install-output.js';

export type DependencyOutcome = PullOutcome['dependencies'][number];

export interface InstallFlags {
  readonly 'approve-permissions': boolean;
  readonly 'allow-downgrade': boolean;
  readonly 'allow-publisher-change': boolean;
  readonly json: boolean;
}

/** Uploads the package to the daemon, with progress on a terminal. */
export async function installThrough(link: DaemonLink, io: CliIo, file: string, bytes: Uint8Array, flags: InstallFlags): Promise<{ json: unknown; summary: InstallSummary }> {
  const query = new URLSearchParams();
  if (flags['approve-permissions']) query.set('approve_permissions', 'true');
  if (flags['allow-downgrade']) query.set('allow_downgrade', 'true');
  if (flags['allow-publisher-change']) query.set('allow_publisher_change', 'true');
  const progress = uploadProgress(io, `uploading ${file}`, 'the daemon verifies and installs it', flags.json);
  let outcome: InstallOutcome;
  try {
    outcome = await call<InstallOutcome>(link.target, {
      method: 'POST',
      path: `/v1/plugins${query.size === 0 ? '' : `?${query.toString()}`}`,
      bytes,
      onUploadProgress: (sent, total) => progress.update(sent, total),
    });
  } finally {
    progress.done();
  }
  return { json: outcome, summary: summaryOf(outcome) };
}

/** What the daemon's answer to an install says, in the form the text output prints. */
function summaryOf(outcome: InstallOutcome): InstallSummary {
  const { plugin } = outcome;
  return {
    action: outcome.action,
    from: outcome.from,
    diff: outcome.diff,
    name: plugin.name,
    version: plugin.version,
    publisher: plugin.publisher,
    attested: plugin.attested,
    digest: plugin.digest,
    path: undefined,
    permissions: plugin.permissions,
    previous: plugin.previousVersion,
  };
}

/**
 * Asks the daemon to pull and install a registry reference (POST /v1/plugins/pull): the
 * daemon pulls with its own credentials from the registries its configuration allows,
 * checks its marketplace's revocations, and installs the dependencies the plugin lacks.
 */
export async function pullThrough(link: DaemonLink, io: CliIo, reference: string, flags: InstallFlags): Promise<{ json: unknown; summary: InstallSummary; dependencies: PullOutcome['dependencies'] }> {
  if (!flags.json && io.stderr.isTTY === true) io.stderr.write(`the daemon pulls ${sanitizeForTerminal(reference)} and its missing dependencies, verifies and installs them\n`);
  const outcome = await call<PullOutcome>(link.target, {
    method: 'POST',
    path: '/v1/plugins/pull',
    json: { reference, approve_permissions: flags['approve-permissions'], allow_downgrade: flags['allow-downgrade'], allow_publisher_change: flags['allow-publisher-change'] },
  });
  return { json: outcome, dependencies: outcome.dependencies, summary: summaryOf(outcome) };
}

/** The version of each plugin the daemon has installed. */
export async function daemonVersions(link: DaemonLink): Promise<(name: string) => Promise<string | undefined>> {
  const { plugins } = await call<{ plugins: { name: string; version: string }[] }>(link.target, { method: 'GET', path: '/v1/plugins' });
  const versions = new Map(plugins.map((plugin) => [plugin.name, plugin.version]));
  return (name) => Promise.resolve(versions.get(name));
}

/**
 * Installs `plan` (dependencies first, read from an image layout) through the daemon, a
 * package at a time as forge install FILE uploads one. When one is refused, the plugins
 * this call installed are removed again (DELETE /v1/plugins/NAME, newest first) and the
 * refusal is thrown, naming any that could not be removed.
 */
export async function planThrough(link: DaemonLink, io: CliIo, plan: readonly PlannedPlugin[], flags: InstallFlags): Promise<{ json: unknown; summary: InstallSummary; dependencies: DependencyOutcome[] }> {
  const done: InstallOutcome[] = [];
  try {
    for (const planned of plan) done.push((await installThrough(link, io, planned.reference, planned.bytes, flags)).json as InstallOutcome);
  } catch (error) {
    const notRemoved: { name: string; error: string }[] = [];
    for (const outcome of [...done].reverse()) {
      if (outcome.action !== 'installed') continue;
      await call(link.target, { method: 'DELETE', path: `/v1/plugins/${encodeURIComponent(outcome.plugin.name)}` }).catch((undo: unknown) => notRemoved.push({ name: outcome.plugin.name, error: toForgeError(undo).message }));
    }
    throw leftAfterUndo(error, notRemoved);
  }
  const root = done[done.length - 1] as InstallOutcome;
  const dependencies = done.slice(0, -1).map((outcome) => ({ name: outcome.plugin.name, version: outcome.plugin.version, action: outcome.action }));
  return { json: { ...root, dependencies }, summary: summaryOf(root), dependencies };
}
