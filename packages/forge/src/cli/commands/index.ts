import type { Command } from '../command.js';
import { auditTail } from './audit/tail.js';
import { auditVerify } from './audit/verify.js';
import { caInit } from './ca/init.js';
import { caIssue } from './ca/issue.js';
import { caRevoke } from './ca/revoke.js';
import { configCheck } from './config/check.js';
import { daemonEvents } from './daemon/events.js';
import { daemonRun } from './daemon/run.js';
import { daemonStats } from './daemon/stats.js';
import { depsTree } from './deps/tree.js';
import { doctor } from './host/doctor.js';
import { init } from './init/init.js';
import { keygen } from './key/keygen.js';
import { inspect } from './package/inspect.js';
import { lint } from './package/lint.js';
import { marketplaceInit } from './marketplace/init.js';
import { marketplacePublish } from './marketplace/publish.js';
import { marketplaceRevoke } from './marketplace/revoke.js';
import { search } from './marketplace/search.js';
import { marketplaceServe } from './marketplace/serve.js';
import { pluginCall } from './plugin/call.js';
import { pluginInstall } from './plugin/install.js';
import { LIFECYCLE_COMMANDS } from './plugin/lifecycle.js';
import { pluginList } from './plugin/list.js';
import { pluginLogs } from './plugin/logs.js';
import { pluginPs } from './plugin/ps.js';
import { pluginRollback } from './plugin/rollback.js';
import { pluginRm, pluginUninstall } from './plugin/uninstall.js';
import { ociLogin } from './oci/login.js';
import { ociPull } from './oci/pull.js';
import { ociPush } from './oci/push.js';
import { pack } from './package/pack.js';
import { sign } from './package/sign.js';
import { verify } from './package/verify.js';
import { tokenCreate } from './token/create.js';
import { tokenList } from './token/list.js';
import { tokenRevoke } from './token/revoke.js';
import { wasiRun } from './wasi/run.js';

/** Every command, in the order `forge --help` lists them. */
export const COMMANDS: readonly Command[] = [
  daemonRun,
  init,
  pack,
  inspect,
  sign,
  verify,
  lint,
  ociPush,
  ociPull,
  ociLogin,
  pluginInstall,
  pluginPs,
  pluginList,
  pluginUninstall,
  pluginRm,
  pluginRollback,
  ...LIFECYCLE_COMMANDS,
  pluginCall,
  pluginLogs,
  daemonEvents,
  daemonStats,
  tokenCreate,
  tokenList,
  tokenRevoke,
  depsTree,
  search,
  marketplaceInit,
  marketplacePublish,
  marketplaceRevoke,
  marketplaceServe,
  keygen,
  caInit,
  caIssue,
  caRevoke,
  wasiRun,
  auditVerify,
  auditTail,
  configCheck,
  doctor,
];
