#!/usr/bin/env node
// Conformance adapter: runs a wasi-testsuite test through `forge wasi run`, for the
// runner in ../shared/tools/wasi-conformance (see its README for the contract).
//
//   npm run build
//   node ../shared/tools/wasi-conformance/run.mjs --adapter scripts/wasi-conformance-adapter.mjs
//
// Each test runs the forge CLI in a child process whose stdin, stdout and stderr are
// pipes, exactly as a user's shell would run `forge wasi run --dir HOST::GUEST
// --env K=V MODULE -- ARGS` (the runner's own child process stays the parent, so a
// test cannot disturb it). The child is this file in `--forge` mode: it calls the
// CLI's runCli with process stdio, adding the `wasi run` command when the built CLI
// does not register it yet.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const FORGE_DIST = new URL('../packages/forge/dist/', import.meta.url);

export const name = 'forge wasi run';
export const timeoutSeconds = 5;

export async function version() {
  const { FORGE_VERSION } = await import(new URL('index.js', FORGE_DIST).href);
  return `forge ${FORGE_VERSION} on Node ${process.version}`;
}

/** The `forge` command line for one test. Values go in --flag=value form so a value may start with "-". */
export function forgeArgv(wasmPath, { args = [], env = {}, dirs = [] } = {}) {
  return [
    'wasi',
    'run',
    ...dirs.map((dir) => `--dir=${dir.host}::${dir.guest}`),
    ...Object.entries(env).map(([key, value]) => `--env=${key}=${value}`),
    wasmPath,
    '--',
    ...args,
  ];
}

export function run(wasmPath, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--no-warnings', SELF, '--forge', ...forgeArgv(wasmPath, options)], {
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      // The guest's environment comes only from --env; the CLI gets nothing to leak.
      env: { PATH: process.env.PATH ?? '' },
    });
    const out = [];
    const err = [];
    child.stdout.on('data', (chunk) => out.push(chunk));
    child.stderr.on('data', (chunk) => err.push(chunk));
    child.stdin.on('error', () => {}); // the guest may exit without reading stdin
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const stderr = Buffer.concat(err);
      if (signal !== null) return reject(new Error(`forge was killed by ${signal}: ${stderr.toString().slice(-500)}`));
      const text = stderr.toString();
      // Setup failures (the module does not compile or link) are adapter errors, not guest results.
      if (/^forge: FO_(WASI_MODULE_INVALID|WASI_UNRESOLVED_IMPORT|INTERNAL_UNEXPECTED)/m.test(text)) return reject(new Error(text.trim()));
      const trap = /^forge: the guest trapped: (.*)$/m.exec(text)?.[1];
      resolve({ exitCode: code ?? 1, stdout: Buffer.concat(out), stderr, ...(trap === undefined ? {} : { trap }) });
    });
    child.stdin.end(options.stdin ?? '');
  });
}

if (process.argv[2] === '--forge' && process.argv[1] === SELF) {
  const { runCli, COMMANDS } = await import(new URL('index.js', FORGE_DIST).href);
  const { wasiRun } = await import(new URL('cli/commands/wasi/run.js', FORGE_DIST).href);
  const commands = COMMANDS.some((command) => command.path.join(' ') === 'wasi run') ? COMMANDS : [...COMMANDS, wasiRun];
  process.exitCode = await runCli(process.argv.slice(3), { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: {} }, commands);
}
