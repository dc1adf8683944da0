import { ForgeError } from '../errors/index.js';

/** Who a plugin is, as established by verifying its package. */
export interface PluginIdentity {
  /** The signer's identity from the verified certificate (subject CN or SAN), or `unsigned`. */
  readonly publisher: string;
  readonly name: string;
  readonly version: string;
  /** `sha256:<hex>` of the package's signed content. */
  readonly digest: string;
  /** True when a signature over the package verified against a trust root. */
  readonly attested: boolean;
}

/** Fields of an {@link IdentityContext}. */
export interface IdentityInit {
  /** The host process or service acting, e.g. `plugin-manager`. */
  readonly host: string;
  /** The human or API client on whose behalf the host acts, if any. */
  readonly user?: string;
  /** The plugin acting, if this context is a plugin's. */
  readonly plugin?: PluginIdentity;
}

const TEXT = /^[^\u0000-\u001f\u007f]{1,256}$/u;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

function check(field: string, value: string, pattern: RegExp, expected: string): void {
  if (!pattern.test(value)) {
    throw new ForgeError('FO_IDENTITY_INVALID', `identity ${field} must be ${expected}, found ${JSON.stringify(value.slice(0, 80))}`, {
      details: { field },
    });
  }
}

/**
 * Who is acting: a host, optionally a user, optionally a plugin. Immutable; derive a
 * narrower context with {@link forPlugin} or {@link forUser}. Policy decisions and
 * audit records are keyed on it.
 *
 * @throws ForgeError FO_IDENTITY_INVALID for empty, overlong (over 256 characters) or
 *   control-character fields, or a plugin digest that is not `sha256:<64 hex>`.
 */
export class IdentityContext {
  readonly host: string;
  readonly user: string | undefined;
  readonly plugin: PluginIdentity | undefined;

  constructor(init: string | IdentityInit) {
    const fields: IdentityInit = typeof init === 'string' ? { host: init } : init;
    check('host', fields.host, TEXT, '1 to 256 printable characters');
    if (fields.user !== undefined) check('user', fields.user, TEXT, '1 to 256 printable characters');
    if (fields.plugin !== undefined) {
      const p = fields.plugin;
      check('plugin.publisher', p.publisher, TEXT, '1 to 256 printable characters');
      check('plugin.name', p.name, TEXT, '1 to 256 printable characters');
      check('plugin.version', p.version, TEXT, '1 to 256 printable characters');
      check('plugin.digest', p.digest, DIGEST, 'sha256:<64 lowercase hex digits>');
    }
    this.host = fields.host;
    this.user = fields.user;
    this.plugin = fields.plugin === undefined ? undefined : Object.freeze({ ...fields.plugin });
    Object.freeze(this);
  }

  /** The same host and user, acting as (or on behalf of) `plugin`. */
  forPlugin(plugin: PluginIdentity): IdentityContext {
    return new IdentityContext({ host: this.host, ...(this.user === undefined ? {} : { user: this.user }), plugin });
  }

  /** The same host and plugin, on behalf of `user`. */
  forUser(user: string): IdentityContext {
    return new IdentityContext({ host: this.host, user, ...(this.plugin === undefined ? {} : { plugin: this.plugin }) });
  }

  /**
   * A stable one-line name for logs, audit records and policy principals:
   * `plugin:<publisher>/<name>@<version>`, else `user:<user>`, else `host:<host>`.
   */
  get principal(): string {
    if (this.plugin !== undefined) return `plugin:${this.plugin.publisher}/${this.plugin.name}@${this.plugin.version}`;
    if (this.user !== undefined) return `user:${this.user}`;
    return `host:${this.host}`;
  }

  toJSON(): IdentityInit {
    return {
      host: this.host,
      ...(this.user === undefined ? {} : { user: this.user }),
      ...(this.plugin === undefined ? {} : { plugin: this.plugin }),
    };
  }
}
