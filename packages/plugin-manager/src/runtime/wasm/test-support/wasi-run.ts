import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WASI } from 'node:wasi';
import { engine, type CompiledModule, type WasmImports } from '../engine.js';
import { FuelMeter } from '../fuel-meter.js';

/** What a WASI command printed and returned. */
export interface WasiRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Fuel used, when the run was metered. */
  readonly used?: bigint;
}

/**
 * Runs a WASI command module with Node's node:wasi (`returnOnExit`, argv[0] set),
 * capturing stdout and stderr through temporary files. With `fuel`, the module must be
 * instrumented: the run is metered, and running out throws FO_SANDBOX_CPU_LIMIT.
 */
export async function runWasi(
  module: CompiledModule,
  options: { readonly args?: readonly string[]; readonly env?: Readonly<Record<string, string>>; readonly fuel?: bigint } = {},
): Promise<WasiRun> {
  const dir = mkdtempSync(join(tmpdir(), 'forge-wasi-run-'));
  const outPath = join(dir, 'stdout');
  const errPath = join(dir, 'stderr');
  const out = openSync(outPath, 'w');
  const err = openSync(errPath, 'w');
  try {
    const wasi = new WASI({ version: 'preview1', args: ['program', ...(options.args ?? [])], env: { ...options.env }, returnOnExit: true, stdout: out, stderr: err });
    const instance = await engine.instantiate(module, wasi.getImportObject() as WasmImports);
    let exitCode: number;
    let used: bigint | undefined;
    if (options.fuel === undefined) {
      exitCode = wasi.start(instance);
    } else {
      const result = FuelMeter.of(instance).run(options.fuel, () => wasi.start(instance));
      exitCode = result.value;
      used = result.used;
    }
    closeSync(out);
    closeSync(err);
    return { exitCode, stdout: readFileSync(outPath, 'utf8'), stderr: readFileSync(errPath, 'utf8'), ...(used === undefined ? {} : { used }) };
  } finally {
    try {
      closeSync(out);
      closeSync(err);
    } catch {
      // already closed
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
