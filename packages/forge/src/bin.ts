#!/usr/bin/env node
/**
 * The `forge` executable: the composition root of the CLI. It is the only place that
 * reads process.argv, process.env and the real stdio.
 */
import { runCli } from './cli/main.js';

// `forge inspect x.forgepkg | head` closes stdout early; that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
  env: process.env,
  uid: process.geteuid?.(),
});
