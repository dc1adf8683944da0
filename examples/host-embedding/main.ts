/**
 * The original design's embedding example, in TypeScript:
 *
 *   registry = PluginRegistry::new_with_config("config.yaml")
 *   identity = IdentityContext::new("plugin-manager")
 *   trust = TrustContext::new(&identity)
 *   plugin_id = registry.load_plugin("/path/to/plugin.forgepkg", &identity, &trust)
 *   timer = StartupTimer::new(&plugin_id, "example-plugin", "1.0.0")
 *   registry.initialize_plugin(plugin_id); timer.stop(); registry.start_plugin(plugin_id)
 *
 * then a call, pause/resume, stop and unload. Run: `npm run build && node
 * examples/host-embedding/dist/main.js [inline|pool]`.
 */
import { IdentityContext } from '@forgeone/common';
import { TrustContext } from '@forgeone/microkernel';
import { PluginRegistry, StartupTimer } from '@forgeone/plugin-manager';
import { setUp } from './setup.js';

const backend = process.argv[2] === 'inline' ? 'inline' : 'pool';
const workspace = await setUp(backend);
const say = (line: string): void => void process.stdout.write(`${line}\n`);

// Create a plugin registry from a configuration file (trust store, audit log, backend).
const registry = await PluginRegistry.newWithConfig(workspace.config);
try {
  // The host's identity, and a trust context for zero-trust decisions.
  const identity = new IdentityContext('plugin-manager');
  const trust = new TrustContext(identity);

  // Load a plugin: the package is verified against the trust store first.
  const pluginId = await registry.loadPlugin(workspace.package, { identity, trust });
  const info = registry.get(pluginId);
  say(`loaded ${info.name} ${info.version} signed by ${info.publisher} (${info.digest.slice(0, 19)}...), state ${info.state}`);

  // Initialise it with a startup timer, then start it.
  const timer = new StartupTimer(pluginId, info.name, info.version);
  await registry.initializePlugin(pluginId);
  say(`initialised in ${timer.stop().toFixed(2)} ms on the ${backend} backend`);
  await registry.startPlugin(pluginId);
  say(`state: ${registry.get(pluginId).state}`);

  // Call it through the forge/1 ABI.
  const greeting = await registry.call(pluginId, 'greet', new TextEncoder().encode('ForgeOne'));
  say(`greet("ForgeOne") -> ${new TextDecoder().decode(greeting)}`);

  // Pause: calls made meanwhile wait for resume.
  await registry.pausePlugin(pluginId);
  const waiting = registry.call(pluginId, 'greet', new TextEncoder().encode('paused caller'));
  say(`paused; a call is waiting (state ${registry.get(pluginId).state})`);
  await registry.resumePlugin(pluginId);
  say(`resumed; the waiting call got: ${new TextDecoder().decode(await waiting)}`);

  // The trust context we passed knows the plugin's signed ceiling.
  const asPlugin = identity.forPlugin({ publisher: info.publisher, name: info.name, version: info.version, digest: info.digest, attested: info.attested });
  say(`may the plugin open /etc/passwd? ${trust.evaluate(asPlugin, 'wasi_snapshot_preview1.path_open', '/etc/passwd').reason}`);

  await registry.stopPlugin(pluginId);
  say(`state: ${registry.get(pluginId).state}`);
  await registry.unloadPlugin(pluginId);
  say(`unloaded; plugins loaded: ${registry.list().length}`);
} finally {
  await registry.close();
}
say(`audit log: ${workspace.dir}/audit/audit.log (verify with: forge audit verify --config ${workspace.config})`);
