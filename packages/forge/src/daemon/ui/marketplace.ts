/**
 * The marketplace: search the daemon's verified index (GET /v1/marketplace/search), see
 * a version's permissions before installing it, and install it (POST /v1/plugins/pull
 * with the index's OCI reference and content digest, so the daemon refuses a registry
 * that serves other bytes than the signed index names).
 *
 * Only admins see Install (the daemon checks the role again, whatever the page does); a
 * revoked version shows a badge and no Install. SECURITY: everything in the index is the
 * publishers' text: it goes into the page as text only (dom.ts), cleaned and bounded by
 * {@link plain}, like plugin text everywhere else.
 */
import { ApiError, describe, isMissing, type Api } from './api.js';
import { h, setText } from './dom.js';
import { plain } from './format.js';
import { list, record, roleAllows, type Role } from './types.js';

/** One version as the panel shows it. */
export interface MarketVersion {
  readonly version: string;
  readonly digest: string;
  readonly oci: string;
  readonly permissions: Readonly<Record<string, unknown>>;
  readonly revoked: string | null;
}

/** One plugin of a search. */
export interface MarketPlugin {
  readonly name: string;
  readonly publisher: string;
  readonly description: string;
  readonly revoked: string | null;
  readonly versions: readonly MarketVersion[];
}

const reason = (value: unknown): string | null => (value === null || typeof value !== 'object' ? null : plain(record(value)['reason'], 300));

/** A search result off the wire, or undefined. */
export function marketPlugin(value: unknown): MarketPlugin | undefined {
  const item = record(value);
  if (typeof item['name'] !== 'string') return undefined;
  const versions = list(item['versions']).flatMap((entry): MarketVersion[] => {
    const v = record(entry);
    if (typeof v['version'] !== 'string' || typeof v['digest'] !== 'string' || typeof v['oci'] !== 'string') return [];
    return [{ version: v['version'], digest: v['digest'], oci: v['oci'], permissions: record(v['permissions']), revoked: reason(v['revoked']) }];
  });
  return { name: item['name'], publisher: plain(item['publisher'], 200), description: plain(item['description'], 1024), revoked: reason(item['revoked']), versions };
}

/** A version's permissions as label/value lines, every kind shown (an empty one says "none"). */
export function permissionLines(permissions: Readonly<Record<string, unknown>>): [string, string][] {
  const words = (key: string): string => {
    const values = list(permissions[key]).map((value) => plain(value, 200));
    return values.length === 0 ? 'none' : values.join(', ');
  };
  const volumes = list(permissions['volumes']).map((value) => {
    const v = record(value);
    return `${plain(v['name'], 64)} at ${plain(v['path'], 200)} (${plain(v['mode'] ?? 'ro', 8)})`;
  });
  return [
    ['Filesystem', words('filesystem')],
    ['Network', words('network')],
    ['Allowed hosts', words('allowed_hosts')],
    ['Host calls', words('syscalls')],
    ['Volumes', volumes.length === 0 ? 'none' : volumes.join('; ')],
    ['Threads', permissions['threads'] === true ? 'yes' : 'no'],
  ];
}

/** What the panel is made of. */
export interface MarketplaceParts {
  readonly api: Api;
  readonly form: HTMLFormElement;
  readonly query: HTMLInputElement;
  readonly results: HTMLElement;
  readonly status: HTMLElement;
  /** A plugin was installed (the plugin list changed). */
  readonly onInstalled: () => void;
}

/** See the module comment. */
export class MarketplacePanel {
  readonly #parts: MarketplaceParts;
  #role: Role = 'viewer';
  #searching: AbortController | undefined;

  constructor(parts: MarketplaceParts) {
    this.#parts = parts;
    parts.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.search(parts.query.value.trim());
    });
  }

  /** Lists the marketplace's plugins (the empty query). */
  start(role: Role): void {
    this.#role = role;
    void this.search('');
  }

  stop(): void {
    this.#searching?.abort();
  }

  /** Searches and shows the results; the previous search in flight is dropped. */
  async search(query: string): Promise<void> {
    this.#searching?.abort();
    const searching = new AbortController();
    this.#searching = searching;
    const { status, results } = this.#parts;
    status.dataset['state'] = 'busy';
    setText(status, 'Searching\u2026');
    try {
      const body = record(await this.#parts.api.get(`/v1/marketplace/search?q=${encodeURIComponent(query)}`, searching.signal));
      const found = list(body['results']).flatMap((item) => marketPlugin(item) ?? []);
      const total = typeof body['total'] === 'number' ? body['total'] : found.length;
      status.dataset['state'] = 'ok';
      setText(status, found.length === 0 ? 'No plugin matches.' : total > found.length ? `${found.length} of ${total} plugins.` : `${found.length} plugin${found.length === 1 ? '' : 's'}.`);
      results.replaceChildren(...found.map((plugin) => this.#render(plugin)));
    } catch (error) {
      if (searching.signal.aborted) return;
      const missing = isMissing(error);
      const unconfigured = error instanceof ApiError && error.code === 'FO_MARKET_NOT_CONFIGURED';
      status.dataset['state'] = missing || unconfigured ? 'unavailable' : 'error';
      setText(
        status,
        missing ? 'The marketplace is not available from this daemon.' : unconfigured ? 'This daemon has no marketplace (plugin_manager.marketplace).' : `Could not search the marketplace: ${describe(error)}`,
      );
      results.replaceChildren();
    }
  }

  #render(plugin: MarketPlugin): HTMLElement {
    const name = plain(plugin.name, 128);
    const picker = h('select', { class: 'version', attrs: { 'aria-label': `version of ${name}` } });
    for (const [position, version] of plugin.versions.entries()) {
      const option = h('option', { text: `${plain(version.version, 64)}${version.revoked === null ? '' : ' (revoked)'}`, attrs: { value: String(position) } });
      picker.append(option);
    }
    const permissions = h('dl', { class: 'permissions' });
    const where = h('p', { class: 'market-source muted' });
    const outcome = h('p', { class: 'install-outcome', attrs: { role: 'status' } });
    const badge = h('span', { class: 'revoked-badge', text: 'revoked' });
    const install = h('button', { class: 'install', text: 'Install', attrs: { type: 'button' } });
    const admin = roleAllows(this.#role, 'admin');
    const chosen = (): MarketVersion | undefined => plugin.versions[Number(picker.value)];
    const showVersion = (): void => {
      const version = chosen();
      // Permissions first, before any Install: what the plugin may do is what is being approved.
      permissions.replaceChildren(...permissionLines(version?.permissions ?? {}).flatMap(([label, value]) => [h('dt', { text: label }), h('dd', { text: value, attrs: { 'data-permission': label } })]));
      setText(where, version === undefined ? '' : `${plain(version.oci, 300)}  ${plain(version.digest, 80)}`);
      const revoked = plugin.revoked ?? version?.revoked ?? null;
      badge.hidden = revoked === null;
      badge.title = revoked ?? '';
      // SECURITY (usability): no Install for a revoked version; the daemon refuses it anyway.
      install.hidden = !admin || revoked !== null || version === undefined;
    };
    picker.addEventListener('change', () => {
      setText(outcome, '');
      showVersion();
    });
    install.addEventListener('click', () => void this.#install(plugin, chosen(), install, outcome));
    showVersion();
    const element = h(
      'li',
      { class: 'market-plugin' },
      h('div', { class: 'market-head' }, h('strong', { class: 'name', text: name }), h('span', { class: 'publisher', text: plugin.publisher }), badge),
      h('p', { class: 'description', text: plugin.description }),
      h('label', { class: 'version-label', text: 'Version ' }, picker),
      permissions,
      where,
      ...(admin ? [install] : []),
      outcome,
    );
    element.dataset['name'] = name;
    return element;
  }

  async #install(plugin: MarketPlugin, version: MarketVersion | undefined, button: HTMLButtonElement, outcome: HTMLElement): Promise<void> {
    if (version === undefined) return;
    button.disabled = true;
    outcome.dataset['state'] = 'busy';
    setText(outcome, `Pulling ${plain(version.oci, 300)} and installing\u2026`);
    try {
      const done = record(await this.#parts.api.postJson('/v1/plugins/pull', { reference: version.oci, digest: version.digest }));
      const installed = record(done['plugin']);
      const dependencies = list(done['dependencies']).length;
      outcome.dataset['state'] = 'ok';
      setText(outcome, `${plain(done['action'], 24)}: ${plain(installed['name'], 128)} ${plain(installed['version'], 64)}${dependencies === 0 ? '' : ` with ${dependencies} dependenc${dependencies === 1 ? 'y' : 'ies'}`}`);
      this.#parts.onInstalled();
    } catch (error) {
      outcome.dataset['state'] = 'error';
      setText(outcome, `Install of ${plain(plugin.name, 128)} ${plain(version.version, 64)} failed: ${describe(error)}`);
    } finally {
      button.disabled = false;
    }
  }
}
