/**
 * Dependency resolution: pick one version of every plugin that a set of roots needs,
 * honouring every semver range, then order them so dependencies start first.
 *
 * The search is depth-first with backtracking over candidate versions, newest first,
 * which is exact for the registry's usual case (one or a few installed versions per
 * plugin) and bounded by a step limit. Failures are explained the way PubGrub explains
 * them, as a derivation a person can follow: who needs what, and why it cannot hold
 * ("a 1.2.0 needs b ^2.0.0, but c 1.0.0 needs b ^1.0.0").
 */
import { ForgeError } from '@forgeone/common';
import semver from 'semver';

/** One available version of a plugin and what it depends on. */
export interface Candidate {
  readonly name: string;
  readonly version: string;
  /** Dependency name -> semver range. */
  readonly dependencies: Readonly<Record<string, string>>;
}

/** Where candidates come from: installed plugins now, the marketplace later. */
export type CandidateSource = (name: string) => readonly Candidate[];

/** A requirement on a plugin, and who imposed it (undefined: the caller). */
interface Requirement {
  readonly range: string;
  readonly by: Candidate | undefined;
}

/** The result: chosen versions, in start order (dependencies first). */
export interface Resolution {
  readonly order: readonly Candidate[];
}

/** Options for {@link resolveDependencies}. */
export interface ResolveOptions {
  /** Most versions tried before giving up (default 10,000). */
  readonly maxSteps?: number;
}

function who(requirement: Requirement): string {
  return requirement.by === undefined ? 'you asked for' : `${requirement.by.name} ${requirement.by.version} needs`;
}

class Search {
  steps = 0;
  /** The failure that explains the search best: the first hit at the deepest point. */
  failure: ForgeError | undefined;
  failureDepth = -1;

  constructor(
    private readonly source: CandidateSource,
    private readonly maxSteps: number,
  ) {}

  fail(error: ForgeError, depth: number): undefined {
    if (depth > this.failureDepth) {
      this.failure = error;
      this.failureDepth = depth;
    }
    return undefined;
  }

  solve(chosen: Map<string, Candidate>, requirements: Map<string, Requirement[]>, queue: readonly string[], depth: number): Map<string, Candidate> | undefined {
    const name = queue.find((pending) => !chosen.has(pending));
    if (name === undefined) return chosen;
    const needs = requirements.get(name) ?? [];
    const available = [...this.source(name)].sort((a, b) => semver.rcompare(a.version, b.version));
    const fitting = available.filter((candidate) => needs.every((need) => semver.satisfies(candidate.version, need.range, { includePrerelease: false })));
    if (fitting.length === 0) return this.fail(explain(name, needs, available), depth);
    for (const candidate of fitting) {
      this.steps += 1;
      if (this.steps > this.maxSteps) {
        throw new ForgeError('FO_DEPS_TOO_COMPLEX', `dependency resolution gave up after trying ${this.maxSteps} versions`, { details: { limit: this.maxSteps } });
      }
      const nextChosen = new Map(chosen).set(name, candidate);
      const nextRequirements = new Map(requirements);
      let clash: ForgeError | undefined;
      for (const [dependency, range] of Object.entries(candidate.dependencies)) {
        const list = [...(nextRequirements.get(dependency) ?? []), { range, by: candidate }];
        nextRequirements.set(dependency, list);
        const already = nextChosen.get(dependency);
        if (already !== undefined && !semver.satisfies(already.version, range)) {
          clash = explain(dependency, list, [already], already);
          break;
        }
      }
      if (clash !== undefined) {
        this.fail(clash, depth + 1);
        continue;
      }
      const nextQueue = [...queue, ...Object.keys(candidate.dependencies).filter((dependency) => !queue.includes(dependency))];
      const solved = this.solve(nextChosen, nextRequirements, nextQueue, depth + 1);
      if (solved !== undefined) return solved;
    }
    return undefined;
  }
}

/** Builds the derivation for a plugin no version of which satisfies everyone. */
function explain(name: string, needs: readonly Requirement[], available: readonly Candidate[], chosen?: Candidate): ForgeError {
  const versions = available.map((candidate) => candidate.version);
  const details = { plugin: name, requirements: needs.map((need) => ({ by: need.by === undefined ? null : `${need.by.name}@${need.by.version}`, range: need.range })), available: versions };
  if (available.length === 0) {
    const first = needs[0];
    return new ForgeError('FO_DEPS_MISSING', `${first === undefined ? 'something needs' : who(first)} ${name} ${first?.range ?? '*'}, but no version of ${name} is available`, { details });
  }
  // Find two requirements that cannot hold together: that is the derivation to show.
  for (let i = 0; i < needs.length; i += 1) {
    for (let j = i + 1; j < needs.length; j += 1) {
      const a = needs[i] as Requirement;
      const b = needs[j] as Requirement;
      if (!semver.intersects(a.range, b.range)) {
        return new ForgeError('FO_DEPS_CONFLICT', `${who(a)} ${name} ${a.range}, but ${who(b)} ${name} ${b.range}`, { details });
      }
    }
  }
  if (chosen !== undefined) {
    const last = needs[needs.length - 1] as Requirement;
    const holders = needs.slice(0, -1).map((need) => `${who(need)} ${name} ${need.range}`);
    return new ForgeError('FO_DEPS_CONFLICT', `${who(last)} ${name} ${last.range}, but ${name} ${chosen.version} was chosen because ${holders.join(' and ')}`, { details });
  }
  const wanted = needs.map((need) => `${who(need)} ${name} ${need.range}`).join(' and ');
  return new ForgeError(needs.length > 1 ? 'FO_DEPS_CONFLICT' : 'FO_DEPS_MISSING', `${wanted}, but the available versions are ${versions.join(', ')}`, { details });
}

/**
 * Resolves `roots` (name -> range) against `source`, and returns the chosen versions
 * with dependencies before dependents.
 *
 * @throws ForgeError FO_DEPS_MISSING, FO_DEPS_CONFLICT (with the derivation),
 *   FO_DEPS_CYCLE (with the cycle's path), FO_DEPS_TOO_COMPLEX
 */
export function resolveDependencies(roots: Readonly<Record<string, string>>, source: CandidateSource, options: ResolveOptions = {}): Resolution {
  const search = new Search(source, options.maxSteps ?? 10_000);
  const requirements = new Map<string, Requirement[]>(Object.entries(roots).map(([name, range]) => [name, [{ range, by: undefined }]]));
  const chosen = search.solve(new Map(), requirements, Object.keys(roots), 0);
  if (chosen === undefined) throw search.failure ?? new ForgeError('FO_DEPS_MISSING', 'no versions satisfy the requirements');
  return { order: startOrder([...chosen.values()]) };
}

/**
 * Orders plugins so each comes after everything it depends on; ties broken by name,
 * so the order is deterministic. Dependencies outside `plugins` are ignored.
 *
 * @throws ForgeError FO_DEPS_CYCLE naming the cycle, e.g. `a -> b -> c -> a`
 */
export function startOrder<T extends Candidate>(plugins: readonly T[]): T[] {
  const byName = new Map(plugins.map((plugin) => [plugin.name, plugin]));
  const state = new Map<string, 'active' | 'done'>();
  const order: T[] = [];
  const visit = (plugin: T, path: readonly string[]): void => {
    const mark = state.get(plugin.name);
    if (mark === 'done') return;
    if (mark === 'active') {
      const cycle = [...path.slice(path.indexOf(plugin.name)), plugin.name];
      throw new ForgeError('FO_DEPS_CYCLE', `plugins depend on each other in a cycle: ${cycle.join(' -> ')}`, { details: { cycle } });
    }
    state.set(plugin.name, 'active');
    for (const dependency of Object.keys(plugin.dependencies).sort()) {
      const next = byName.get(dependency);
      if (next !== undefined) visit(next, [...path, plugin.name]);
    }
    state.set(plugin.name, 'done');
    order.push(plugin);
  };
  for (const plugin of [...plugins].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) visit(plugin, []);
  return order;
}
