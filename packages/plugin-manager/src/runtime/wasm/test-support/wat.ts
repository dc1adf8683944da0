import wabtInit from 'wabt';
import { engine } from '../engine.js';

type Wabt = Awaited<ReturnType<typeof wabtInit>>;
let wabt: Promise<Wabt> | undefined;

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
} as const;

/**
 * Assembles WebAssembly text into a binary module with the npm `wabt` package, with
 * every proposal in {@link ALL_FEATURES} enabled, and checks that the engine accepts it
 * (wabt's own validator ignores some enabled features, such as shared memories).
 * @param options.names also write the name section
 */
export async function wat(source: string, options: { readonly names?: boolean } = {}): Promise<Uint8Array> {
  wabt ??= wabtInit();
  const module = (await wabt).parseWat('test.wat', source, ALL_FEATURES);
  let bytes: Uint8Array;
  try {
    module.resolveNames();
    bytes = module.toBinary({ write_debug_names: options.names === true, canonicalize_lebs: true }).buffer.slice();
  } finally {
    module.destroy();
  }
  if (!engine.validate(bytes)) {
    await engine.compile(bytes).catch((error: unknown) => {
      throw new Error(`the engine refuses the assembled module: ${error instanceof Error ? error.message : String(error)}`);
    });
  }
  return bytes;
}

/** Disassembles a binary (for failure messages), reading it without validation. */
export async function toText(bytes: Uint8Array): Promise<string> {
  wabt ??= wabtInit();
  const module = (await wabt).readWasm(bytes, { check: false, ...ALL_FEATURES, relaxed_simd: true });
  try {
    return module.toText({ foldExprs: false, inlineExport: false });
  } finally {
    module.destroy();
  }
}
