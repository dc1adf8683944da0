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
  size,
  string,
  withDefault,
  type Infer,
} from '../schema/index.js';

const path = string({ minLength: 1, maxLength: 4096, expected: 'a file system path' });

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/** `plugin_manager.sandbox`: the default limits every plugin runs under. */
export const sandboxSchema = object({
  memory_limit: withDefault(
    size(64 * 1024, 4 * GiB),
    '512MB',
    'Largest linear memory a plugin may grow to. The module\'s memory maximum is clamped to it, so memory.grow past it returns -1. At most 4GiB (the wasm32 address space).',
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
    'Run plugins that use the process backend inside Linux namespaces.',
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
/** `plugin_manager.security`, normalised. */
export type SecurityConfig = Infer<typeof securitySchema>;
/** `plugin_manager.package_limits`, normalised. */
export type PackageLimitsConfig = Infer<typeof packageLimitsSchema>;
