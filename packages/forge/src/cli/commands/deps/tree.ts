import { resolveDependencies, type Candidate } from '@forgeone/plugin-manager';
import { CONFIG_FLAG, JSON_FLAG, defineCommand } from '../../command.js';
import { withCliStore } from '../plugin/store.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';
import { text } from '../../help-text.js';

/** One node of a dependency tree. */
interface TreeNode {
  readonly name: string;
  readonly version: string;
  /** The range the parent asked for; absent at the root. */
  readonly range?: string;
  readonly dependencies: TreeNode[];
}

function tree(chosen: ReadonlyMap<string, Candidate>, name: string, range: string | undefined, seen: ReadonlySet<string>): TreeNode {
  const candidate = chosen.get(name);
  const version = candidate?.version ?? '?';
  const node: TreeNode = { name, version, ...(range === undefined ? {} : { range }), dependencies: [] };
  // The resolver has already refused cycles; `seen` only guards the rendering.
  if (candidate === undefined || seen.has(name)) return node;
  const next = new Set(seen).add(name);
  for (const [dependency, wanted] of Object.entries(candidate.dependencies).sort(([a], [b]) => (a < b ? -1 : 1))) {
    node.dependencies.push(tree(chosen, dependency, wanted, next));
  }
  return node;
}

function render(node: TreeNode, prefix: string, last: boolean, root: boolean, lines: string[]): void {
  const label = `${sanitizeForTerminal(node.name)} ${sanitizeForTerminal(node.version)}${node.range === undefined ? '' : ` (${sanitizeForTerminal(node.range)})`}`;
  lines.push(root ? label : `${prefix}${last ? '└── ' : '├── '}${label}`);
  const childPrefix = root ? '' : `${prefix}${last ? '    ' : '│   '}`;
  node.dependencies.forEach((child, index) => render(child, childPrefix, index === node.dependencies.length - 1, false, lines));
}

/** `forge deps tree NAME [--json]` */
export const depsTree = defineCommand({
  path: ['deps', 'tree'],
  summary: 'Show the dependency tree of an installed plugin, resolved across installed plugins.',
  description: text`
    Resolves NAME's dependencies (semver ranges from the manifests) against the plugins installed in
    plugin_directory and prints the versions chosen, with the range each parent asked for. A cycle is
    reported with its path (exit 7), a conflict as a derivation ("a 1.2.0 needs b ^2.0.0, but c 1.0.0
    needs b ^1.0.0", exit 7), a missing plugin with what exists (exit 6).
  `,
  flags: [JSON_FLAG, CONFIG_FLAG],
  args: [{ name: 'NAME', description: 'An installed plugin.', required: true }],
  examples: ['forge deps tree my-app', 'forge deps tree my-app --json'],
  async run({ flags, args }, io) {
    const { installed, root } = await withCliStore(io, { config: flags.config }, false, async (store) => ({ installed: await store.list(), root: await store.get(args.NAME) }));
    const candidates = new Map(installed.map((plugin) => [plugin.name, { name: plugin.name, version: plugin.version, dependencies: plugin.manifest.dependencies }]));
    const resolution = resolveDependencies({ [root.name]: root.version }, (name) => {
      const candidate = candidates.get(name);
      return candidate === undefined ? [] : [candidate];
    });
    const chosen = new Map(resolution.order.map((candidate) => [candidate.name, candidate]));
    const node = tree(chosen, root.name, undefined, new Set());
    if (flags.json) {
      io.stdout.write(toSafeJson({ tree: node, startOrder: resolution.order.map((candidate) => `${candidate.name}@${candidate.version}`) }));
      return;
    }
    const lines: string[] = [];
    render(node, '', true, true, lines);
    io.stdout.write(`${lines.join('\n')}\n`);
    io.stderr.write(`start order: ${resolution.order.map((candidate) => sanitizeForTerminal(`${candidate.name}@${candidate.version}`)).join(', ')}\n`);
  },
});
