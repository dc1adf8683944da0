import type { Command } from '../command.js';
import { auditTail } from './audit/tail.js';
import { auditVerify } from './audit/verify.js';
import { caInit } from './ca/init.js';
import { caIssue } from './ca/issue.js';
import { caRevoke } from './ca/revoke.js';
import { configCheck } from './config/check.js';
import { daemonRun } from './daemon/run.js';
import { depsTree } from './deps/tree.js';
import { keygen } from './key/keygen.js';
import { inspect } from './package/inspect.js';
import { pluginInstall } from './plugin/install.js';
import { pluginList } from './plugin/list.js';
import { pluginRollback } from './plugin/rollback.js';
import { pluginUninstall } from './plugin/uninstall.js';
import { pack } from './package/pack.js';
import { sign } from './package/sign.js';
import { verify } from './package/verify.js';
import { wasiRun } from './wasi/run.js';

/** Every command, in the order `forge --help` lists them. */
export const COMMANDS: readonly Command[] = [
  daemonRun,
  pack,
  inspect,
  sign,
  verify,
  pluginInstall,
  pluginList,
  pluginUninstall,
  pluginRollback,
  depsTree,
  keygen,
  caInit,
  caIssue,
  caRevoke,
  wasiRun,
  auditVerify,
  auditTail,
  configCheck,
];
