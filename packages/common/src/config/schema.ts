/**
 * The schema of plugin-manager.yaml. Every key of the original example is here with
 * the example's value as its default, so the example file and an empty
 * `plugin_manager: {}` mean the same thing. docs/reference/config.md is generated
 * from this file.
 */
import {
  boolean,
  duration,
  integer,
  number,
  object,
  oneOf,
  optional,
  required,
  array,
  record,
  refine,
  size,
  string,
  withDefault,
  type Infer,
} from '../schema/index.js';
import { marketplaceSchema } from './marketplace-schema.js';

/** `host[:port]` of a registry, as OCI references write it (lower case; IPv6 in brackets). */
const REGISTRY_HOST = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$/;

const path = string({ minLength: 1, maxLength: 4096, expected: 'a file system path' });

/**
 * True for `off` or `HOST:PORT` on this host's loopback interface (127.x.x.x, [::1] or
 * localhost, port 0-65535; 0 takes a free port, which the daemon reports). Listeners speak no TLS, so nothing else is accepted: put a
 * TLS-terminating proxy in front for remote access.
 */
export function isLoopbackListen(value: string): boolean {
  if (value === 'off') return true;
  const colon = value.lastIndexOf(':');
  const host = value.slice(0, colon);
  const port = value.slice(colon + 1);
  if (!/^(?:0|[1-9]\d{0,4})$/.test(port) || Number(port) > 65_535) return false;
  return host === 'localhost' || host === '[::1]' || /^127\.(?:\d{1,3}\.){2}\d{1,3}$/.test(host);
}

/** An address to listen on (loopback only), or `off`. */
function listenOrOff(fallback: string, doc: string) {
  return withDefault(refine(string({ maxLength: 64 }), 'off, or HOST:PORT on the loopback interface (127.0.0.1:PORT, [::1]:PORT, localhost:PORT)', isLoopbackListen), fallback, doc);
}

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/** `plugin_manager.sandbox`: the default limits every plugin runs under. */
export const sandboxSchema = object({
  memory_limit: withDefault(
    size(64 * 1024, 4 * GiB),
    '512MB',
    'A plugin\'s memory budget: its tables first (40 bytes per funcref element, 16 per externref, at each table\'s maximum after clamping: what V8 keeps for them), then its linear memory, whose maximum is clamped to what remains, so memory.grow past it returns -1. At most 4GiB (the wasm32 address space).',
  ),
  cpu_limit: withDefault(
    number({ min: 0.01, max: 1024 }),
    2,
    'CPU share for a plugin, in cores (0.5 = half a core). Enforced by cgroups in the process backend.',
  ),
  file_descriptor_limit: withDefault(
    integer({ min: 4, max: 65_536 }),
    1024,
    'Most files a plugin may hold open at once, counting its stdio and preopened directories.',
  ),
  network_access: withDefault(
    oneOf(['none', 'restricted', 'full'] as const),
    'restricted',
    'none: no plugin may use the network. restricted: only the hosts in a plugin\'s signed allowed_hosts that the operator also grants. full: every host in a plugin\'s signed allowed_hosts.',
  ),
  max_tables: withDefault(
    integer({ min: 0, max: 100_000 }),
    100,
    'Most tables a plugin\'s module may import and define together; a module with more is refused when it is prepared. Compilers emit one; V8 allows 100000.',
  ),
  max_table_elements: withDefault(
    integer({ min: 0, max: 100_000_000 }),
    1_000_000,
    'Most elements of all a module\'s tables together, each table counted at its maximum (a table without one, or with a larger one, is clamped to 100000 or to this value, whichever is smaller); a module with more is refused when it is prepared. The elements are also charged to memory_limit.',
  ),
});

/** `plugin_manager.telemetry`. */
export const telemetrySchema = object({
  metrics_enabled: withDefault(boolean(), true, 'Collect Prometheus metrics.'),
  tracing_enabled: withDefault(boolean(), true, 'Record OpenTelemetry spans for plugin calls and lifecycle steps.'),
  log_level: withDefault(
    oneOf(['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const),
    'info',
    'Least severe log level that is written.',
  ),
  prometheus_endpoint: withDefault(
    string({ pattern: /^\/[\x21-\x7e]*$/, maxLength: 256, expected: 'an HTTP path starting with "/"' }),
    '/metrics',
    'Path under which the daemon serves Prometheus metrics.',
  ),
  prometheus_listen: listenOrOff(
    '127.0.0.1:9464',
    'Where the daemon serves Prometheus metrics (its own listener, apart from the API): HOST:PORT on the loopback interface, or off. Scrapes need no token; keep the address local.',
  ),
  otlp_endpoint: withDefault(
    string({ pattern: /^https?:\/\/[\x21-\x7e]+$/, maxLength: 2048, expected: 'an http(s) URL' }),
    'http://127.0.0.1:4318/v1/traces',
    'Where the daemon sends OpenTelemetry spans (OTLP over HTTP, JSON) when tracing_enabled is true. Failed exports are dropped and logged, never retried without bound.',
  ),
});

/** `plugin_manager.daemon`: `forge daemon`, the host as a service (docs/daemon.md). */
export const daemonSchema = object({
  socket: withDefault(
    path,
    '/var/lib/forgeone/daemon/forge.sock',
    'The unix socket the API listens on, created with mode 0600 in a directory of mode 0700: only the daemon\'s own user (and root) can connect, as admin. A relative path is taken from the configuration file\'s directory.',
  ),
  listen: listenOrOff(
    'off',
    'Also serve the API (and the dashboard at /ui) over TCP at HOST:PORT on the loopback interface, or off. Every TCP request needs a bearer token (forge token create).',
  ),
  database: withDefault(
    path,
    '/var/lib/forgeone/daemon/daemon.db',
    'The daemon\'s own SQLite database: API tokens (hashed), which plugins should be running, pending upgrades. A relative path is taken from the configuration file\'s directory.',
  ),
  max_request_size: withDefault(size(1024, 4 * GiB), '64MB', 'Largest API request body (an uploaded package, a call\'s input); a larger one is refused with FO_DAEMON_BODY_TOO_LARGE before it is read.'),
  request_timeout: withDefault(duration(100, 3_600_000), '60s', 'Longest an API request may take to arrive and be answered (streams of logs and events excepted).'),
  log_buffer: withDefault(integer({ min: 0, max: 1_000_000 }), 1000, 'Log records kept per plugin for forge logs and the dashboard.'),
  max_connections: withDefault(
    integer({ min: 1, max: 1_000_000 }),
    256,
    'Most connections each API listener (the socket, the TCP listener) holds open at once; one more is closed as soon as it is accepted, without an answer. Each listener counts its own, so a flood of TCP connections never locks the socket\'s admin out.',
  ),  pull_registries: withDefault(
    array(string({ pattern: REGISTRY_HOST, maxLength: 261, expected: 'a registry host[:port] in lower case, e.g. "registry.example.org" or "127.0.0.1:5000"' }), { unique: true, maxItems: 256 }),
    [],
    'Registries the daemon may pull plugins from for POST /v1/plugins/pull (and so the dashboard\'s marketplace), host[:port]. Besides these, only registries that a version of the verified marketplace index names, on a public host (not localhost, nor a loopback, private or link-local address), are pulled from; any other is refused with FO_DAEMON_REGISTRY_NOT_ALLOWED, so an API client cannot aim the daemon at its own network.',
  ),
});

/** `plugin_manager.security`. */
export const securitySchema = object({
  verify_signatures: withDefault(
    boolean(),
    true,
    'Refuse to load a package whose signature, certificate chain or revocation status does not verify.',
  ),
  enforce_permissions: withDefault(
    boolean(),
    true,
    'Check every host call against the plugin\'s signed permissions and operator policy.',
  ),
  audit_logging: withDefault(boolean(), true, 'Write the tamper-evident audit log.'),
  namespace_isolation: withDefault(
    boolean(),
    true,
    'Run every plugin confined: in a sandbox process (runtime.backend auto or process) with its own Linux namespaces, seccomp filter and cgroup. When the host cannot confine (forge doctor says why), plugins do not start (FO_SANDBOX_UNAVAILABLE). false allows the inline and pool backends, which run plugins in the host process.',
  ),
  trust_store: withDefault(
    path,
    '/etc/forgeone/trust',
    'Trust store: a directory of roots/, intermediates/, keys/, revocations.json and sigstore/trusted_root.json, or one PEM file of root certificates (docs/signing.md). A relative path is taken from the configuration file\'s directory.',
  ),
  signer_policy: optional(
    path,
    'Signer policy file (JSON: allowed publishers, keyless identities, threshold; docs/signing.md). Absent: one signature from any publisher the trust store trusts. A relative path is taken from the configuration file\'s directory.',
  ),
});

/** `plugin_manager.package_limits`: hard limits applied while reading a .forgepkg. */
export const packageLimitsSchema = object({
  max_package_size: withDefault(size(1024, 4 * GiB), '64MB', 'Largest compressed package accepted.'),
  max_unpacked_size: withDefault(size(1024, 16 * GiB), '256MB', 'Most bytes a package may unpack to, all files together.'),
  max_entries: withDefault(integer({ min: 2, max: 1_000_000 }), 10_000, 'Most entries (files) in one package.'),
  max_file_size: withDefault(size(1024, 4 * GiB), '128MB', 'Largest single file in a package.'),
  max_compression_ratio: withDefault(
    integer({ min: 1, max: 100_000 }),
    100,
    'Most bytes a package may unpack to per compressed byte; stops decompression bombs early.',
  ),
  max_manifest_size: withDefault(size(256, 16 * MiB), '1MB', 'Largest manifest.json or plugin.toml.'),
});

const callPattern = string({
  pattern: /^(?:wasi_snapshot_preview1|forge)\.(?:[a-z0-9_]+|\*)$/,
  expected: 'a host call like "forge.kv_get" or "forge.*"',
});
const hostPattern = string({
  pattern: /^(?:\*\.)?[a-z0-9.-]+(?::\d{1,5})?$|^\[[0-9a-f:.]+\](?::\d{1,5})?$/,
  maxLength: 261,
  expected: 'a lower-case host name, "*.domain" or IP literal, with an optional ":port"',
});

/** A grant's `publisher` that gives it to a plugin of the name from any publisher. */
export const ANY_PUBLISHER = '*';

/**
 * `plugin_manager.policy.grants.<plugin>`: what the operator gives one plugin, within its
 * manifest. A grant is found by the plugin's name and given only when `publisher` is
 * {@link ANY_PUBLISHER} or the plugin's verified publisher (docs/policy.md).
 */
export const grantSchema = object({
  publisher: withDefault(
    string({
      minLength: 1,
      maxLength: 1024,
      // No control or format characters: the value is compared with a certificate's
      // subject and printed to terminals; such a character can only be a mistake or a trick.
      pattern: /^[^\p{Cc}\p{Cf}]+$/u,
      expected: 'a publisher as `forge list` shows it, or "*"',
    }),
    ANY_PUBLISHER,
    'Whose plugin of this name gets this grant: the publisher as verification reports it (the signing certificate\'s subject name; `unsigned` for packages not verified). "*" (the default) gives it to a plugin of this name from any publisher the trust store trusts: anyone who can sign a package called this gets these volumes, hosts and config values. Name the publisher whenever the grant holds secrets or data.',
  ),
  syscalls: optional(array(callPattern, { unique: true }), 'Explicit host calls allowed; absent means every call the manifest lists in permissions.syscalls.'),
  hosts: withDefault(array(hostPattern, { unique: true }), [], 'Hosts the plugin may reach (must also be in its allowed_hosts). Needed for any network use when sandbox.network_access is restricted.'),
  volumes: withDefault(
    record(
      object({
        host: required(path, 'Host directory backing the volume. A relative path is taken from the configuration file\'s directory.'),
        mode: withDefault(oneOf(['ro', 'rw'] as const), 'ro', 'ro, or rw (only if the manifest also asks for rw).'),
      }),
      { key: string({ pattern: /^[a-z0-9](?:[a-z0-9._/-]{0,126}[a-z0-9])?$/, expected: 'a volume name from the plugin\'s manifest' }) },
    ),
    {},
    'Host directories for the volumes the manifest declares, by volume name. A volume not mapped here is not available.',
  ),
  config: withDefault(record(string({ maxLength: 65_536 }), { maxEntries: 1024 }), {}, 'Values the plugin reads with forge.config_get.'),
});

/** `plugin_manager.policy`: operator policy on top of every plugin's signed manifest. */
export const policySchema = object({
  cedar: optional(path, 'A file of Cedar policies (docs/policy.md). A relative path is taken from the configuration file\'s directory.'),
  cedar_mode: withDefault(
    oneOf(['forbid-only', 'require-permit'] as const),
    'forbid-only',
    'forbid-only: Cedar policies can only take away (write forbid rules). require-permit: a call must also be permitted by a Cedar policy.',
  ),
  grants: withDefault(record(grantSchema, { maxEntries: 100_000 }), {}, 'Grants by plugin name, each for the publisher it names (docs/policy.md).'),
  anomaly: withDefault(
    object({
      enabled: withDefault(boolean(), true, 'Watch host-call rates and denials for anomalies.'),
      action: withDefault(oneOf(['alert', 'quarantine'] as const), 'alert', 'alert: emit a security event and an audit record. quarantine: also quarantine the plugin.'),
      spike_factor: withDefault(number({ min: 1.5, max: 10_000 }), 10, 'A call rate above this many times its baseline is a spike.'),
      denial_burst: withDefault(integer({ min: 1, max: 1_000_000 }), 20, 'This many denials within denial_window is a burst.'),
      denial_window: withDefault(duration(100, 3_600_000), '10s', 'Window for counting a denial burst.'),
      warmup: withDefault(duration(0, 24 * 3_600_000), '60s', 'After this long, a call a plugin never made before is reported.'),
    }),
    {},
    'Anomaly detection.',
  ),
});

/** `plugin_manager.runtime`: where plugins run and what happens when they fail. */
export const runtimeSchema = object({
  backend: withDefault(
    oneOf(['auto', 'inline', 'pool', 'process'] as const),
    'auto',
    'auto: process when security.namespace_isolation is true, else pool. inline: on the host thread (lowest latency, no preemption but fuel). pool: many plugins per worker thread. inline and pool run plugins in the host process, so they need security.namespace_isolation: false. process: each plugin (or each publisher\'s plugins) in a confined Linux process: namespaces, seccomp, a cgroup with memory_limit, cpu_limit and process.pids_limit, RLIMIT_NOFILE (Linux with bubblewrap and user namespaces; needs security.namespace_isolation; see docs/sandbox.md).',
  ),
  pool_size: withDefault(integer({ min: 0, max: 1024 }), 0, 'Worker threads in the pool; 0 means one per CPU core.'),
  process: withDefault(
    object({
      group_by: withDefault(
        oneOf(['plugin', 'publisher'] as const),
        'plugin',
        'plugin: one confined process per plugin (strongest). publisher: one per publisher, shared by its plugins that need the same directories (cheaper).',
      ),
      runtime_memory: withDefault(
        size(8 * MiB, 64 * GiB),
        '256MB',
        'Memory each confined process may use for the runtime on top of sandbox.memory_limit; the cgroup limit is the sum, shared by the plugins of the process.',
      ),
      pids_limit: withDefault(integer({ min: 16, max: 65_536 }), 256, 'Most processes and threads a confined process may have (its cgroup\'s pids limit).'),
      warm: withDefault(
        integer({ min: 0, max: 64 }),
        1,
        'Confined processes kept started ahead of need: a plugin that needs no directory (no key-value store, volume or preopen) starts in one in milliseconds instead of about half a second. Each idle one costs its memory (docs/sandbox.md, "Costs").',
      ),
    }),
    {},
    'The process backend (runtime.backend: process).',
  ),
  fuel_per_call: withDefault(
    integer({ min: 1000, max: Number.MAX_SAFE_INTEGER }),
    1_000_000_000,
    'Fuel (about one unit per wasm instruction, 1,000 per host call) each call and lifecycle step may use, unless the plugin\'s limits ask for less.',
  ),
  restart: withDefault(
    oneOf(['no', 'on-failure', 'always'] as const),
    'on-failure',
    'no: a failed plugin stays Failed. on-failure: restart a plugin that trapped, ran out of fuel or time, or lost its worker, with exponential backoff. always: also retry a plugin whose init or start step failed.',
  ),
  max_restarts: withDefault(integer({ min: 0, max: 1000 }), 5, 'Restarts tried before giving up (the plugin stays Failed).'),
  restart_backoff: withDefault(duration(1, 3_600_000), '500ms', 'Delay before the first restart; it doubles after each, up to restart_backoff_max.'),
  restart_backoff_max: withDefault(duration(1, 24 * 3_600_000), '30s', 'Longest delay between restarts.'),
  quarantine_after: withDefault(integer({ min: 1, max: 1000 }), 5, 'Crashes within crash_window that quarantine the plugin.'),
  crash_window: withDefault(duration(1000, 24 * 3_600_000), '10m', 'Window for counting crashes.'),
});

/** The `plugin_manager` table: the whole configuration. */
export const pluginManagerSchema = object({
  plugin_directory: withDefault(
    path,
    '/var/lib/forgeone/plugins',
    'Where installed plugins live. A relative path is taken from the configuration file\'s directory.',
  ),
  temp_directory: withDefault(
    path,
    '/tmp/forgeone/plugins',
    'Scratch space for unpacking packages; each package gets its own directory, removed on failure. Relative paths as above.',
  ),
  max_plugins: withDefault(integer({ min: 1, max: 1_000_000 }), 1000, 'Most plugins installed at once.'),
  default_timeout: withDefault(
    duration(1, 24 * 3_600_000),
    '30s',
    'Time limit for each lifecycle entry point (init, start, stop, ...) and call, unless a plugin\'s limits ask for less.',
  ),
  sandbox: withDefault(sandboxSchema, {}, 'Default limits for every plugin.'),
  telemetry: withDefault(telemetrySchema, {}, 'Metrics, tracing and logging.'),
  security: withDefault(securitySchema, {}, 'Verification, enforcement and audit switches.'),
  package_limits: withDefault(packageLimitsSchema, {}, 'Limits applied while reading packages (not in the original example; added by ForgeOne).'),
  runtime: withDefault(runtimeSchema, {}, 'Where plugins run (inline or a worker pool) and their restart policy.'),
  policy: withDefault(policySchema, {}, 'Operator policy: grants per plugin, Cedar policies, anomaly detection (docs/policy.md).'),
  daemon: withDefault(daemonSchema, {}, 'forge daemon: the API socket, an optional loopback TCP listener, its database (not in the original example; added by ForgeOne).'),
  marketplace: withDefault(marketplaceSchema, {}, 'The marketplace forge search reads, a TUF repository (docs/marketplace.md; added by ForgeOne).'),
  audit: withDefault(
    object({
      path: withDefault(
        path,
        '/var/lib/forgeone/audit/audit.log',
        'The active audit log file (JSON Lines). Rotated segments sit next to it as audit.log.000001, ..., the checkpoint state as audit.log.checkpoint. A relative path is taken from the configuration file\'s directory.',
      ),
      level: withDefault(
        oneOf(['denials', 'decisions', 'all'] as const),
        'decisions',
        'denials: only refused operations. decisions: every policy decision (every denial, and every allow that was evaluated rather than answered from the decision cache), plus lifecycle events. all: every host call.',
      ),
      checkpoint_every: withDefault(
        integer({ min: 1, max: 10_000_000 }),
        10_000,
        'Write a signed checkpoint after this many records.',
      ),
      checkpoint_interval: withDefault(
        duration(1000, 24 * 3_600_000),
        '60s',
        'Also write one after this long, if any record was written since the last checkpoint. Records after the last checkpoint can be rewritten undetected by whoever can write the file.',
      ),
      max_call_records: withDefault(
        integer({ min: 1, max: 1_000_000 }),
        1000,
        'Allowed records one plugin call (an export or an entry point, nested host calls included) writes one by one; past them its allowed records are counted and written as one audit.folded summary when the call ends, even when it fails. Denials are never folded.',
      ),
      rotate_size: withDefault(size(64 * 1024, 64 * GiB), '64MB', 'Start a new segment once the active file reaches this size; segments stay chained.'),
      checkpoint_key: withDefault(
        path,
        '/var/lib/forgeone/audit/checkpoint-key.pem',
        'Ed25519 private key (PKCS#8 PEM) that signs checkpoints; created with mode 0600 if absent, its public half written next to it as checkpoint-key.pub.pem. Keep a copy of the public key off this host to verify with. A relative path is taken from the configuration file\'s directory.',
      ),
      witness: optional(
        path,
        'A file, on another volume or host mount than the log, that every durable checkpoint is appended to (one line each, synced): forge audit verify --witness then detects a log rolled back or truncated together with its state file (docs/audit.md). Its directory must exist. Absent: no witness. A relative path is taken from the configuration file\'s directory.',
      ),
    }),
    {},
    'The tamper-evident audit log (docs/audit.md); security.audit_logging turns it on or off.',
  ),
});

/** The whole file: one top-level `plugin_manager` table. */
export const configFileSchema = object({
  plugin_manager: withDefault(pluginManagerSchema, {}, 'Everything ForgeOne reads from this file.'),
});

/** The normalised configuration: sizes in bytes, durations in milliseconds, paths absolute. */
export type ForgeConfig = Infer<typeof pluginManagerSchema>;
/** `plugin_manager.sandbox`, normalised. */
export type SandboxConfig = Infer<typeof sandboxSchema>;
/** `plugin_manager.telemetry`, normalised. */
export type TelemetryConfig = Infer<typeof telemetrySchema>;
/** `plugin_manager.daemon`, normalised. */
export type DaemonConfig = Infer<typeof daemonSchema>;
/** `plugin_manager.security`, normalised. */
export type SecurityConfig = Infer<typeof securitySchema>;
/** `plugin_manager.runtime`, normalised. */
export type RuntimeConfig = Infer<typeof runtimeSchema>;
/** `plugin_manager.policy`, normalised. */
export type PolicyConfig = Infer<typeof policySchema>;
/** `plugin_manager.policy.grants.<plugin>`, normalised. */
export type GrantConfig = Infer<typeof grantSchema>;
/** `plugin_manager.package_limits`, normalised. */
export type PackageLimitsConfig = Infer<typeof packageLimitsSchema>;
