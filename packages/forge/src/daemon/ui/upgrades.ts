/**
 * Pending upgrades: installs the daemon refused because the new version asks for more
 * permissions (FO_STORE_APPROVAL_REQUIRED), kept for an admin to approve or discard.
 * Each shows its permission diff; Approve and Discard are enabled for admins only (the
 * daemon checks the role again, whatever the page does).
 */
import { describe, isMissing, type Api } from './api.js';
import { h, setText } from './dom.js';
import { clock, plain } from './format.js';
import { list, record, roleAllows, type PermissionDiff, type Role, type Upgrade } from './types.js';

/** Time between refreshes, in ms. */
const REFRESH_MS = 10_000;

/**
 * The diff as lines (`+` widens, `-` narrows, `~` changes without widening), as the CLI
 * renders it. The diff comes off the wire: anything not of the documented shape is skipped.
 */
export function diffLines(diff: PermissionDiff | null): string[] {
  if (diff === null) return ['(no permission diff)'];
  const body = record(diff);
  const lines: string[] = [];
  const changes = (label: keyof PermissionDiff): void => {
    const change = record(body[label]);
    for (const entry of list(change['added'])) lines.push(`+ ${label}: ${plain(entry, 200)}`);
    for (const entry of list(change['removed'])) lines.push(`- ${label}: ${plain(entry, 200)}`);
  };
  changes('filesystem');
  changes('network');
  changes('allowed_hosts');
  changes('syscalls');
  const volumes = record(body['volumes']);
  const volume = (value: unknown): string => {
    const v = record(value);
    return `${plain(v['name'], 64)} (${plain(v['path'], 200)}, ${plain(v['mode'], 8)})`;
  };
  for (const v of list(volumes['added'])) lines.push(`+ volume ${volume(v)}`);
  for (const v of list(volumes['removed'])) lines.push(`- volume ${volume(v)}`);
  for (const value of list(volumes['changed'])) {
    const change = record(value);
    const from = record(change['from']);
    const to = record(change['to']);
    const parts = [
      ...(from['mode'] === to['mode'] ? [] : [`${plain(from['mode'], 8)} -> ${plain(to['mode'], 8)}`]),
      ...(from['path'] === to['path'] ? [] : [`path ${plain(from['path'], 200)} -> ${plain(to['path'], 200)}`]),
    ];
    lines.push(`${from['mode'] === 'ro' && to['mode'] === 'rw' ? '+' : '~'} volume ${plain(change['name'], 64)}: ${parts.join(', ')}`);
  }
  const threads = record(body['threads']);
  if (typeof threads['to'] === 'boolean' && threads['from'] !== threads['to']) lines.push(`${threads['to'] ? '+' : '-'} threads`);
  return lines.length === 0 ? ['(permissions unchanged)'] : lines;
}

/** An upgrade off the wire, or undefined. */
function upgrade(value: unknown): Upgrade | undefined {
  const item = record(value);
  if (typeof item['id'] !== 'string' || typeof item['name'] !== 'string') return undefined;
  const text = (key: string): string => plain(item[key], 200);
  const diff = item['diff'];
  return {
    id: item['id'],
    name: item['name'],
    from: typeof item['from'] === 'string' ? item['from'] : null,
    to: text('to'),
    publisher: text('publisher'),
    diff: typeof diff === 'object' && diff !== null ? diff : null,
    receivedAt: text('receivedAt'),
    by: text('by'),
  };
}

/** What the panel is made of. */
export interface UpgradeParts {
  readonly api: Api;
  readonly list: HTMLElement;
  readonly status: HTMLElement;
  /** An upgrade was approved (the plugin list changed). */
  readonly onApproved: () => void;
}

/** See the module comment. */
export class UpgradesPanel {
  readonly #parts: UpgradeParts;
  #role: Role = 'viewer';
  #shown = '';
  #timer: ReturnType<typeof setInterval> | undefined;
  #missing = false;

  constructor(parts: UpgradeParts) {
    this.#parts = parts;
  }

  start(role: Role): void {
    this.#role = role;
    void this.refresh();
    this.#timer = setInterval(() => void this.refresh(), REFRESH_MS);
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Reads the pending upgrades and redraws the list if it changed. */
  async refresh(): Promise<void> {
    if (this.#missing) return;
    try {
      const upgrades = list(record(await this.#parts.api.get('/v1/upgrades'))['upgrades']).flatMap((item) => upgrade(item) ?? []);
      const signature = JSON.stringify(upgrades);
      setText(this.#parts.status, upgrades.length === 0 ? 'No upgrade is waiting for approval.' : `${upgrades.length} upgrade${upgrades.length === 1 ? '' : 's'} waiting for approval.`);
      this.#parts.status.dataset['state'] = 'ok';
      // The list is short and rarely changes: redraw it whole, only when it changed.
      if (signature === this.#shown) return;
      this.#shown = signature;
      this.#parts.list.replaceChildren(...upgrades.map((item) => this.#render(item)));
    } catch (error) {
      this.#missing = isMissing(error);
      this.#parts.status.dataset['state'] = this.#missing ? 'unavailable' : 'error';
      setText(this.#parts.status, this.#missing ? 'Pending upgrades are not available from this daemon.' : `Could not read pending upgrades: ${describe(error)}`);
      if (this.#missing) this.stop();
    }
  }

  #render(item: Upgrade): HTMLElement {
    const admin = roleAllows(this.#role, 'admin');
    const why = admin ? undefined : `needs the admin role; this token has ${this.#role}`;
    const approve = h('button', { text: 'Approve', class: 'approve', title: why ?? `install ${plain(item.name, 128)} ${item.to} with these permissions`, attrs: { type: 'button' } });
    const discard = h('button', { text: 'Discard', class: 'discard', title: why ?? 'forget this upgrade', attrs: { type: 'button' } });
    approve.disabled = !admin;
    discard.disabled = !admin;
    const outcome = h('p', { class: 'upgrade-outcome', attrs: { role: 'status' } });
    const act = async (button: HTMLButtonElement, run: () => Promise<unknown>, done: string): Promise<void> => {
      approve.disabled = true;
      discard.disabled = true;
      setText(outcome, `${button.textContent ?? ''}\u2026`);
      try {
        await run();
        setText(outcome, done);
        if (button === approve) this.#parts.onApproved();
        await this.refresh();
      } catch (error) {
        setText(outcome, describe(error));
        approve.disabled = !admin;
        discard.disabled = !admin;
      }
    };
    const path = `/v1/upgrades/${encodeURIComponent(item.id)}`;
    approve.addEventListener('click', () => void act(approve, () => this.#parts.api.post(`${path}/approve`), 'approved and installed'));
    discard.addEventListener('click', () => void act(discard, () => this.#parts.api.delete(path), 'discarded'));
    const lines = diffLines(item.diff);
    const element = h(
      'li',
      { class: 'upgrade' },
      h('div', { class: 'upgrade-head' }, h('strong', { class: 'plugin', text: plain(item.name, 128) }), h('span', { text: ` ${item.from === null ? 'new' : plain(item.from, 40)} \u2192 ${item.to}` })),
      h('div', { class: 'upgrade-meta', text: `signed by ${item.publisher}; received ${clock(item.receivedAt)} from ${item.by}` }),
      h('ul', { class: 'diff' }, ...lines.map((line) => h('li', { class: `diff-${line.startsWith('+') ? 'add' : line.startsWith('-') ? 'remove' : 'other'}`, text: line }))),
      h('div', { class: 'upgrade-actions' }, approve, discard),
      outcome,
    );
    element.dataset['id'] = item.id;
    return element;
  }
}
