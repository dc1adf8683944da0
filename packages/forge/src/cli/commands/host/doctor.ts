import { EXIT_CODES } from '@forgeone/common';
import { probeIsolation, type IsolationProbe } from '@forgeone/plugin-manager';
import { JSON_FLAG, defineCommand, type Command } from '../../command.js';
import { text } from '../../help-text.js';
import { table } from '../../table.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';

/** The flags of `forge doctor`. */
const FLAGS = [JSON_FLAG] as const;

/**
 * `forge doctor [--json]`, with the probe it runs injected (tests pass a fake host's answer).
 *
 * @param probe what the command reports on; default {@link probeIsolation}
 */
export function doctorCommand(probe: () => Promise<IsolationProbe> = probeIsolation): Command<typeof FLAGS, readonly []> {
  return defineCommand({
    path: ['doctor'],
    summary: 'Check what isolation this host supports: bubblewrap, namespaces, seccomp, cgroups.',
    description: text`
      Probes, for real, everything the process backend (plugins in confined child processes)
      relies on: bubblewrap running a sandbox with every namespace, user namespaces, bubblewrap
      loading a seccomp filter, kernel seccomp, and the cgroup controllers (memory, cpu, pids,
      freezer), by creating a group, limiting, freezing and removing it. Each line says ok or
      missing, with what was found or why not.

      Exits 0 when everything is there, else with the status of the unavailable kind (9).
      Run it as the user the daemon runs as: cgroups and namespaces depend on it.
    `,
    flags: FLAGS,
    args: [],
    examples: ['forge doctor', 'forge doctor --json'],
    async run({ flags }, io) {
      const result = await probe();
      const status = result.ready ? 0 : EXIT_CODES.unavailable;
      if (flags.json) {
        io.stdout.write(toSafeJson({ ...result, cgroupVersion: result.cgroupVersion ?? null }));
        return status;
      }
      const rows = result.capabilities.map((capability) => [capability.ok ? 'ok' : 'missing', capability.name, sanitizeForTerminal(capability.detail)]);
      for (const line of table(rows)) io.stdout.write(`${line}\n`);
      io.stderr.write(
        result.ready
          ? `this host supports the process backend (cgroup v${result.cgroupVersion ?? '?'})\n`
          : `the process backend cannot run here: ${result.capabilities.filter((capability) => !capability.ok).map((capability) => capability.name).join(', ')} missing\n`,
      );
      return status;
    },
  });
}

/** `forge doctor [--json]` */
export const doctor = doctorCommand();
