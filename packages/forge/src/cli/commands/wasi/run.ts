import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fromFsError, parseSize } from '@forgeone/common';
import { FUEL_EXPORT, hostFdInput, hostFdOutput, instrumentModule, isFuelExhausted, runWasiCommand, wasiLimitsFromConfig, type WasiOptions, type WasiOutput } from '@forgeone/plugin-manager/wasi';
import { CONFIG_FLAG, defineCommand, type CliIo } from '../../command.js';
import { loadCliConfig } from '../../config.js';
import { badFlagValue } from '../../flag-value.js';
import { sanitizeForTerminal } from '../../terminal.js';
import { DenialReport, reportingGate } from './denials.js';
import { parseDirFlag, parseEnvFlags } from './flags.js';
import { runPolicy } from './policy.js';
import { text } from '../../help-text.js';

/** Highest exit status a process can report; larger guest codes are clamped to it, never wrapped to 0. */
const MAX_EXIT_STATUS = 255;

/** Output that reaches a non-process stream (tests, embedding) as text, decoded across write boundaries. */
function textOutput(stream: CliIo['stdout']): WasiOutput & { flush(): void } {
  const decoder = new TextDecoder();
  return {
    write: (bytes) => void stream.write(decoder.decode(bytes, { stream: true })),
    flush: () => {
      const rest = decoder.decode();
      if (rest.length > 0) stream.write(rest);
    },
  };
}

/**
 * The guest's stdio. Under the real `forge` process it is the process's own
 * descriptors, written synchronously as the guest runs; a guest's output is its own
 * and is passed through unchanged, as any program runner does. In-process callers get
 * the output as text on their streams and an empty stdin.
 */
function guestStdio(io: CliIo): Pick<WasiOptions, 'stdin' | 'stdout' | 'stderr'> & { flush(): void } {
  if (io.stdout === process.stdout) return { stdin: hostFdInput(0), stdout: hostFdOutput(1), stderr: hostFdOutput(2), flush: () => undefined };
  const stdout = textOutput(io.stdout);
  const stderr = textOutput(io.stderr);
  return {
    stdout,
    stderr,
    flush: () => {
      stdout.flush();
      stderr.flush();
    },
  };
}

/**
 * The step between reading the module and compiling it: fuel metering (the whole run's
 * budget is the counter's initial value) and the memory cap, when asked for.
 */
function preparer(fuel: bigint | undefined, maxMemoryBytes: number | undefined): (bytes: Uint8Array) => Uint8Array {
  if (fuel === undefined && maxMemoryBytes === undefined) return (bytes) => bytes;
  return (bytes) =>
    instrumentModule(bytes, {
      fuel: fuel !== undefined,
      ...(fuel === undefined ? {} : { initialFuel: fuel }),
      ...(maxMemoryBytes === undefined ? {} : { maxMemoryBytes }),
    }).bytes;
}

function parseFuel(value: string | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,19}$/.test(value) || BigInt(value) > 2n ** 63n - 1n) {
    throw badFlagValue('fuel', 'a whole number of fuel units from 0 to 2^63-1', value);
  }
  return BigInt(value);
}

function parseMaxMemory(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const bytes = parseSize(value);
  if (bytes === undefined || bytes < 65536 || bytes > 4 * 1024 ** 3) {
    throw badFlagValue('max-memory', 'a size from 64KiB to 4GiB like "16MB" or 1048576', value);
  }
  return bytes;
}

/** `forge wasi run [--dir HOST::GUEST[:ro]]... [--env K=V]... MODULE.wasm [-- ARGS...]` */
export const wasiRun = defineCommand({
  path: ['wasi', 'run'],
  summary: 'Run a WASI preview1 command module on ForgeOne\'s own WASI implementation.',
  description: text`
    The guest gets exactly what the flags grant: the directories given with --dir, the
    variables given with --env, and MODULE followed by ARGS as its argv. Nothing is inherited
    from the host. Its stdin, stdout and stderr are forge's own. Paths never leave a --dir
    directory, and a read-only one (:ro) refuses every change with ENOTCAPABLE.

    The exit status is the guest's proc_exit code (0 when _start returns; codes above 255
    report 255), or 134 when the guest traps, with the trap on stderr. A call that --policy (or a
    missing --dir) refuses returns an errno to the guest, and forge names it on stderr after the
    run, one line per distinct refusal. docs/wasi.md has the details.
  `,
  flags: [
    { name: 'dir', type: 'strings', value: 'HOST::GUEST[:ro]', description: 'Preopen host directory HOST as GUEST (read-only with :ro). Repeatable; the first is fd 3.' },
    { name: 'env', type: 'strings', value: 'NAME=VALUE', description: 'Set a variable in the guest\'s environment. Repeatable.' },
    { name: 'fuel', type: 'string', value: 'N', description: 'Stop the guest with FO_SANDBOX_CPU_LIMIT (exit 134) after N units of fuel (about one per instruction, 1,000 per WASI call).' },
    { name: 'max-memory', type: 'string', value: 'BYTES', description: 'Cap the guest\'s linear memory (e.g. 16MB); memory.grow past it returns -1.' },
    { name: 'policy', type: 'string', value: 'FILE', description: 'Cedar policies every call is checked against (docs/policy.md), on top of what the flags grant.' },
    { name: 'audit-log', type: 'string', value: 'FILE', description: 'Record every policy decision in this audit log (level and checkpoint key from the configuration\'s audit table).' },
    CONFIG_FLAG,
  ],
  args: [{ name: 'MODULE', description: 'The WASI command module (.wasm) to run.', required: true }],
  passthrough: { name: 'ARGS', description: 'Arguments for the guest, after its argv[0] (MODULE).' },
  examples: ['forge wasi run hello.wasm', 'forge wasi run --dir ./data::/data:ro --env LANG=C tool.wasm -- /data/input.txt'],
  async run({ flags, args, rest }, io) {
    const fuel = parseFuel(flags.fuel);
    const maxMemoryBytes = parseMaxMemory(flags['max-memory']);
    const preopens = flags.dir.map((value) => parseDirFlag(value, io.cwd));
    const env = parseEnvFlags(flags.env);
    const { config } = await loadCliConfig(io, flags.config);
    const file = resolve(io.cwd, args.MODULE);
    const bytes = await readFile(file).catch((error: unknown) => {
      throw fromFsError(error, 'read the module', file);
    });
    const auditLog = flags['audit-log'] === undefined ? undefined : resolve(io.cwd, flags['audit-log']);
    const keyExisted = existsSync(config.audit.checkpoint_key);
    // Every call passes the same syscall bridge as an installed plugin's.
    const policy = await runPolicy({
      module: file,
      bytes,
      preopens,
      config,
      policyFile: flags.policy === undefined ? undefined : resolve(io.cwd, flags.policy),
      auditLog,
    });
    if (auditLog !== undefined && !keyExisted) {
      io.stderr.write(`forge: created the audit checkpoint key ${sanitizeForTerminal(config.audit.checkpoint_key)} (audit.checkpoint_key); forge audit verify uses its public half\n`);
    }
    const denials = new DenialReport();
    const stdio = guestStdio(io);
    let result;
    let instance: Parameters<typeof isFuelExhausted>[0] | undefined;
    try {
      result = await runWasiCommand(bytes, {
        ...wasiLimitsFromConfig(config.sandbox),
        args: [args.MODULE, ...rest],
        env,
        preopens,
        ...stdio,
        gate: reportingGate(policy.gate, denials),
        prepare: preparer(fuel, maxMemoryBytes),
        ...(fuel === undefined ? {} : { fuelExport: FUEL_EXPORT }),
        onInstance: (created) => {
          instance = created;
        },
      });
    } finally {
      stdio.flush();
      await policy.audit?.close();
    }
    for (const line of denials.lines()) io.stderr.write(line);
    if (result.trap !== undefined) {
      if (fuel !== undefined && instance !== undefined && isFuelExhausted(instance)) {
        io.stderr.write(`forge: FO_SANDBOX_CPU_LIMIT: the guest used all ${fuel} units of fuel given by --fuel\n`);
      } else {
        const frames = result.trap.frames.map((frame) => `\n    ${sanitizeForTerminal(frame)}`).join('');
        io.stderr.write(`forge: the guest trapped: ${sanitizeForTerminal(result.trap.message)}${frames}\n`);
      }
    }
    return Math.min(result.exitCode, MAX_EXIT_STATUS);
  },
});
