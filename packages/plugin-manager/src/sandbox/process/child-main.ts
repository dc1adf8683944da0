/**
 * The program a confined sandbox process runs (child.ts): started by the process backend
 * inside bubblewrap, with its frames on descriptors 0 and 1.
 */
import { runSandboxChild } from './child.js';

runSandboxChild();
