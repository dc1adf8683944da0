/**
 * How a `forge` command is declared: metadata (summary, usage, flags, arguments) that
 * drives parsing, `--help` and docs/reference/cli.md, plus a `run` function that gets
 * parsed input and its dependencies. Parsing is apart from running, so commands are
 * tested without a process and every help text is generated from the same spec.
 */

/** A flag. `boolean` flags take no value; `string` takes one; `strings` may repeat. */
export interface FlagSpec {
  readonly name: string;
  readonly short?: string;
  readonly type: 'boolean' | 'string' | 'strings';
  /** Placeholder shown in help, e.g. `FILE`. */
  readonly value?: string;
  readonly description: string;
  readonly required?: boolean;
}

/** A positional argument. A `variadic` argument takes all the remaining ones. */
export interface ArgSpec {
  readonly name: string;
  readonly description: string;
  readonly required?: boolean;
  readonly variadic?: boolean;
}

/** Where a command writes and what it sees of its environment. */
export interface CliIo {
  /**
   * Data. Takes bytes too, for output that is not text (`forge call`). `isTTY`: true when
   * it is a terminal, so plugin output is escaped rather than written raw.
   */
  readonly stdout: { write(chunk: string | Uint8Array): unknown; readonly isTTY?: boolean | undefined };
  /** Diagnostics. `isTTY`: true when it is a terminal, the only place progress is shown. */
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean | undefined };
  /** The working directory relative paths are resolved against. */
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * The effective user id, which picks where state goes by default (0: /var/lib/forgeone,
   * others: their XDG state directory). Undefined where the platform has none.
   */
  readonly uid?: number | undefined;
  /**
   * Ends commands that follow a stream (`forge logs -f`, `forge events`): once aborted
   * they stop reading and exit 0. Without it they run until the stream ends or the
   * process is interrupted.
   */
  readonly signal?: AbortSignal | undefined;
}

/** The parsed value of a flag: a boolean, every value of a repeatable flag, or the value given. */
export type FlagValue<F extends FlagSpec> = F['type'] extends 'boolean' ? boolean : F['type'] extends 'strings' ? string[] : string | undefined;
/** The parsed value of an argument: every value of a variadic one, or the value given. */
export type ArgValue<A extends ArgSpec> = A['variadic'] extends true ? string[] : A['required'] extends true ? string : string | undefined;

/** Parsed command line: flags by name, arguments by name, and what followed `--`. */
export interface CommandInput<F extends readonly FlagSpec[] = readonly FlagSpec[], A extends readonly ArgSpec[] = readonly ArgSpec[]> {
  readonly flags: { readonly [K in F[number] as K['name']]: FlagValue<K> };
  readonly args: { readonly [K in A[number] as K['name']]: ArgValue<K> };
  /** Arguments after `--`, for commands that declare `passthrough`. */
  readonly rest: readonly string[];
}

/** A command: its spec and its behaviour. */
export interface Command<F extends readonly FlagSpec[] = readonly FlagSpec[], A extends readonly ArgSpec[] = readonly ArgSpec[]> {
  /** Words that invoke it: `['config', 'check']`, `['pack']`. */
  readonly path: readonly string[];
  readonly summary: string;
  /** Longer help text: paragraphs separated by blank lines. */
  readonly description?: string;
  readonly flags: F;
  readonly args: A;
  /** Accepts arguments after `--`, described by this text. */
  readonly passthrough?: { readonly name: string; readonly description: string };
  readonly examples?: readonly string[];
  /** Returns the exit status (0 when omitted). Throws ForgeError for failures. */
  run(input: CommandInput<F, A>, io: CliIo): Promise<number | void>;
}

/** Declares a command with its flag and argument types inferred from the spec. */
export function defineCommand<const F extends readonly FlagSpec[], const A extends readonly ArgSpec[]>(command: Command<F, A>): Command<F, A> {
  return command;
}

/** The `--json` flag, for every command that reads data. */
export const JSON_FLAG = { name: 'json', type: 'boolean', description: 'Print machine-readable JSON to stdout.' } as const;

/** The `--config` flag, for every command that reads plugin-manager.yaml. */
export const CONFIG_FLAG = {
  name: 'config',
  type: 'string',
  value: 'FILE',
  description: 'Configuration file (default: $FORGE_CONFIG, else ./plugin-manager.yaml if present, else built-in defaults). Paths it leaves out go under the state directory (forge --help).',
} as const;

/** The usage line of a command: `forge pack DIR [-o FILE]`. */
export function usageLine(command: Command): string {
  const parts = ['forge', ...command.path];
  for (const flag of command.flags) {
    if (!flag.required) continue;
    parts.push(`--${flag.name}${flag.type === 'boolean' ? '' : ` ${flag.value ?? 'VALUE'}`}`);
  }
  if (command.flags.some((flag) => !flag.required)) parts.push('[flags]');
  for (const arg of command.args) {
    const name = `${arg.name}${arg.variadic ? '...' : ''}`;
    parts.push(arg.required ? name : `[${name}]`);
  }
  if (command.passthrough !== undefined) parts.push(`[-- ${command.passthrough.name}...]`);
  return parts.join(' ');
}
