/**
 * What a WASI context is given, and the one place it is checked. Every capability is
 * an explicit grant and every default is the safe one:
 *
 * - `args`: none (not even argv[0]). `env`: empty. Nothing is inherited from the host.
 * - `preopens`: none, so no file system at all.
 * - `stdin`: empty. `stdout`/`stderr`: discarded.
 * - `gate`: {@link ALLOW_ALL_GATE}: with the defaults above there is nothing to allow
 *   but clocks and random bytes; hosts that grant more pass their policy gate.
 * - `maxOpenFiles`: 1024 (the default of `sandbox.file_descriptor_limit`).
 */
import { ALLOW_ALL_GATE, ForgeError, describeValue, type HostCallGate, type SandboxConfig } from '@forgeone/common';
import { DISCARD_OUTPUT, EMPTY_INPUT, type WasiInput, type WasiOutput } from './stdio.js';
import { sleepUntil } from './clock.js';

/** A host directory made visible to the guest. */
export interface WasiPreopen {
  /** The directory on the host (absolute, or relative to the process's working directory). */
  readonly host: string;
  /** The name the guest sees it under, e.g. `/` or `/data`. */
  readonly guest: string;
  /**
   * Grant no right that changes anything below it (write, create, rename, link,
   * unlink, truncate, set times): such calls fail with ENOTCAPABLE. Default false.
   */
  readonly readOnly?: boolean;
}

/** Options of a WASI preview1 context. */
export interface WasiOptions {
  /** The guest's argv, argv[0] included. Default: none. */
  readonly args?: readonly string[];
  /** The guest's whole environment. Default: empty; the host's is never inherited. */
  readonly env?: Readonly<Record<string, string>>;
  /** Directories the guest may use, in order: the first is fd 3. Default: none. */
  readonly preopens?: readonly WasiPreopen[];
  /** Default: empty. */
  readonly stdin?: WasiInput;
  /** Default: discarded. */
  readonly stdout?: WasiOutput;
  /** Default: discarded. */
  readonly stderr?: WasiOutput;
  /** Decides every call before it acts; denied calls return EACCES. Default: allow all. */
  readonly gate?: HostCallGate;
  /**
   * Most descriptors the guest may hold at once, counting stdio and preopens (from
   * `sandbox.file_descriptor_limit`). Opening more fails with EMFILE. Default 1024.
   */
  readonly maxOpenFiles?: number;
  /**
   * Blocks the thread until the monotonic clock reaches a deadline (nanoseconds, as
   * `process.hrtime.bigint()`): what poll_oneoff sleeps with. A host that must stop a
   * sleeping guest early (a pool worker cancelling a call at its deadline) passes one
   * that may return early or throw; what it throws passes through the guest unchanged
   * (a ForgeError is not an errno). Default: {@link sleepUntil}, an uninterruptible sleep.
   */
  readonly sleep?: (deadline: bigint) => void;
}

/** Options with every default applied and every value checked. */
export interface NormalizedWasiOptions {
  readonly args: readonly string[];
  readonly env: readonly (readonly [string, string])[];
  readonly preopens: readonly Required<WasiPreopen>[];
  readonly stdin: WasiInput;
  readonly stdout: WasiOutput;
  readonly stderr: WasiOutput;
  readonly gate: HostCallGate;
  readonly maxOpenFiles: number;
  readonly sleep: (deadline: bigint) => void;
}

/** The default open-file limit, equal to `sandbox.file_descriptor_limit`'s default. */
export const DEFAULT_MAX_OPEN_FILES = 1024;

/** Highest open-file limit accepted (the configuration's maximum). */
const MAX_OPEN_FILES_LIMIT = 65_536;

/** The WASI options that come from `plugin_manager.sandbox` (today: the open-file limit). */
export function wasiLimitsFromConfig(sandbox: Pick<SandboxConfig, 'file_descriptor_limit'>): Pick<WasiOptions, 'maxOpenFiles'> {
  return { maxOpenFiles: sandbox.file_descriptor_limit };
}

/**
 * Applies defaults and checks every option, reporting all problems at once.
 *
 * @throws ForgeError FO_WASI_INVALID_OPTIONS (NUL in an argument or environment
 *   entry, an empty or `=`-holding variable name, an empty or NUL-holding preopen
 *   name, a limit that is not an integer in 3..65536); FO_WASI_TOO_MANY_FILES when
 *   stdio and preopens alone exceed `maxOpenFiles`
 */
export function normalizeWasiOptions(options: WasiOptions): NormalizedWasiOptions {
  const problems: string[] = [];
  const args = [...(options.args ?? [])];
  args.forEach((arg, index) => {
    if (arg.includes('\0')) problems.push(`args[${index}] holds a NUL character`);
  });
  const env = Object.entries(options.env ?? {});
  for (const [name, value] of env) {
    if (name.length === 0 || name.includes('=') || name.includes('\0')) problems.push(`environment variable name ${describeValue(name)} is empty or holds "=" or NUL`);
    if (value.includes('\0')) problems.push(`environment variable ${describeValue(name)} has a value holding NUL`);
  }
  const preopens = (options.preopens ?? []).map((preopen) => ({ host: preopen.host, guest: preopen.guest, readOnly: preopen.readOnly ?? false }));
  preopens.forEach((preopen, index) => {
    if (preopen.guest.length === 0 || preopen.guest.includes('\0')) problems.push(`preopens[${index}].guest ${describeValue(preopen.guest)} is empty or holds NUL`);
    if (preopen.host.length === 0 || preopen.host.includes('\0')) problems.push(`preopens[${index}].host ${describeValue(preopen.host)} is empty or holds NUL`);
  });
  const maxOpenFiles = options.maxOpenFiles ?? DEFAULT_MAX_OPEN_FILES;
  if (!Number.isInteger(maxOpenFiles) || maxOpenFiles < 3 || maxOpenFiles > MAX_OPEN_FILES_LIMIT) {
    problems.push(`maxOpenFiles is ${describeValue(maxOpenFiles)}; expected an integer from 3 to ${MAX_OPEN_FILES_LIMIT}`);
  }
  if (problems.length > 0) {
    throw new ForgeError('FO_WASI_INVALID_OPTIONS', `invalid WASI options: ${problems.join('; ')}`, { details: { problems } });
  }
  if (3 + preopens.length > maxOpenFiles) {
    throw new ForgeError('FO_WASI_TOO_MANY_FILES', `${preopens.length} preopens and 3 standard streams need ${3 + preopens.length} descriptors; maxOpenFiles is ${maxOpenFiles}`, {
      details: { preopens: preopens.length, maxOpenFiles },
    });
  }
  return {
    args,
    env,
    preopens,
    stdin: options.stdin ?? EMPTY_INPUT,
    stdout: options.stdout ?? DISCARD_OUTPUT,
    stderr: options.stderr ?? DISCARD_OUTPUT,
    gate: options.gate ?? ALLOW_ALL_GATE,
    maxOpenFiles,
    sleep: options.sleep ?? sleepUntil,
  };
}
