/**
 * WebAssembly text for ForgeOne's tests: every test guest in the workspace is assembled
 * here, by one lazily started instance of the npm `wabt` package.
 *
 * Where it lives, and why: wabt is a root devDependency, which scripts/check-layers.mjs
 * lets test files and test-support folders import, but which no package declares; so
 * this cannot go in `@forgeone/common/testing` (published, and it does not depend on
 * wabt). It sits in plugin-manager, the package that runs WebAssembly, in the top-level
 * test-support folder that any folder's tests may import. plugin-manager's tests import
 * it relatively; forge's tests import `@forgeone/plugin-manager/test-support`, a
 * package export kept for them. Published packages leave every test-support folder out
 * (package.json `files`), so that export resolves only inside this workspace, as a test
 * helper should.
 */
import type wabtInit from 'wabt';
import { wasm } from '../abi/wasm-api.js';

type Wabt = Awaited<ReturnType<typeof wabtInit>>;

/** wabt's switches for post-MVP proposals (`{ exceptions: true }`); wabt's defaults apply to the rest. */
export type WatFeatures = Readonly<Record<string, boolean>>;

/** Every proposal wabt can assemble that ForgeOne instruments. */
export const ALL_FEATURES = {
  sign_extension: true,
  sat_float_to_int: true,
  mutable_globals: true,
  bulk_memory: true,
  reference_types: true,
  multi_value: true,
  tail_call: true,
  simd: true,
  threads: true,
} as const satisfies WatFeatures;

/** Options of {@link assembleWat}. */
export interface AssembleOptions {
  /** Proposals to accept beyond wabt's defaults. Default: none. */
  readonly features?: WatFeatures;
  /** The text's name in error messages, without `.wat`. Default: `guest`. */
  readonly name?: string;
  /** Also write the name section. Default: false. */
  readonly names?: boolean;
}

let wabt: Promise<Wabt> | undefined;

/** The one wabt instance, started on first use (it compiles a large module). */
function loadWabt(): Promise<Wabt> {
  wabt ??= import('wabt').then((module) => module.default());
  return wabt;
}

/**
 * Assembles WebAssembly text into module bytes and checks that this engine accepts
 * them. The engine decides validity, not wabt: wabt's validator ignores the features
 * enabled at parse time (it calls a shared memory invalid even with `threads`), so it is
 * consulted only to locate the fault in the text once the engine has refused.
 * @throws Error naming the line of the text, with the line itself and its neighbours,
 *   when the text does not parse; Error with the engine's reason (and wabt's located
 *   errors, when it finds any) when the engine refuses the module
 */
export async function assembleWat(text: string, options: AssembleOptions = {}): Promise<Uint8Array> {
  const file = `${options.name ?? 'guest'}.wat`;
  const tool = await loadWabt();
  let parsed: ReturnType<Wabt['parseWat']>;
  try {
    parsed = tool.parseWat(file, text, options.features ?? {});
  } catch (error) {
    throw new Error(explain(`${file} does not parse (wabt)`, text, error));
  }
  let bytes: Uint8Array;
  let wabtSays: string | undefined;
  try {
    bytes = parsed.toBinary({ write_debug_names: options.names === true }).buffer;
    if (wasm.validate(bytes)) return bytes;
    try {
      parsed.validate();
    } catch (error) {
      wabtSays = explain('wabt says', text, error);
    }
  } finally {
    parsed.destroy();
  }
  const reason = await wasm.compile(bytes).then(
    () => 'WebAssembly.validate answered false',
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
  throw new Error([`${file} assembles into a module this engine refuses: ${reason}`, ...(wabtSays === undefined ? [] : [wabtSays])].join('\n'));
}

/**
 * Disassembles module bytes into text without validating them (for failure messages
 * and for comparing decoders), reading every proposal in {@link ALL_FEATURES} and
 * relaxed SIMD.
 */
export async function disassembleWasm(bytes: Uint8Array): Promise<string> {
  const module = (await loadWabt()).readWasm(bytes, { check: false, ...ALL_FEATURES, relaxed_simd: true });
  try {
    return module.toText({ foldExprs: false, inlineExport: false });
  } finally {
    module.destroy();
  }
}

/** The line-context shown beside each error: this many lines before and after. */
const CONTEXT_LINES = 1;

/**
 * wabt's message (`parseWat failed:\nguest.wat:4:3: error: ...`) rewritten under
 * `header`, showing beneath each located error the numbered lines of `text` around it:
 * WAT built from template strings has no file to open.
 */
function explain(header: string, text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const located = [...message.matchAll(/^[^\n:]*:(\d+):(\d+): error: (.*)$/gm)];
  if (located.length === 0) return `${header}: ${message}`;
  const lines = text.split('\n');
  const width = String(lines.length).length;
  const out = [`${header}:`];
  for (const [, lineText = '0', column = '0', reason = ''] of located) {
    const at = Number(lineText);
    out.push(`  line ${at}, column ${column}: ${reason}`);
    for (let n = Math.max(1, at - CONTEXT_LINES); n <= Math.min(lines.length, at + CONTEXT_LINES); n += 1) {
      out.push(`  ${n === at ? '>' : ' '} ${String(n).padStart(width)} | ${lines[n - 1] ?? ''}`);
    }
  }
  return out.join('\n');
}
