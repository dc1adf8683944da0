/**
 * Operator policies in Cedar (https://www.cedarpolicy.com), evaluated with the
 * official engine (`@cedar-policy/cedar-wasm`, loaded lazily through its `nodejs`
 * entry point the first time policies are configured: no I/O at import time).
 *
 * Entities (namespace `ForgeOne`, schema from {@link cedarSchema}):
 * - principal `ForgeOne::Plugin::"<publisher>/<name>"` with name, publisher, version,
 *   digest and attested;
 * - action `ForgeOne::Action::"<call>"` for every host call, each a member of a group
 *   by requirement: `"basic"`, `"filesystem"`, `"network"` or `"explicit"`;
 * - resource by kind: `Path` (path), `Host` (host, name), `Key` (key), `Target` (name),
 *   `Event` (name), `Fd` (fd), or `Nothing`;
 * - context `{ access: "read" | "write" | "none" }`.
 *
 * Policies narrow what the manifest and grants allow: by default the engine adds an
 * implicit `permit` for everything, so a `forbid` is what operators write
 * (`forbid-only` mode). In `require-permit` mode there is no implicit permit and a
 * call must also be permitted by an operator policy.
 */
import { createRequire } from 'node:module';
import { ForgeError } from '@forgeone/common';
import type * as CedarWasm from '@cedar-policy/cedar-wasm/nodejs';
import type { CallCatalog, CallSpec, ResourceKind } from './calls.js';

type Cedar = typeof CedarWasm;
let engine: Cedar | undefined;

function cedar(): Cedar {
  engine ??= createRequire(import.meta.url)('@cedar-policy/cedar-wasm/nodejs') as Cedar;
  return engine;
}

/** How Cedar policies combine with the manifest and grants. */
export type CedarMode = 'forbid-only' | 'require-permit';

const RESOURCE_TYPES: Readonly<Record<ResourceKind, string>> = {
  none: 'Nothing',
  fd: 'Fd',
  path: 'Path',
  host: 'Host',
  key: 'Key',
  plugin: 'Target',
  event: 'Event',
};

const GROUPS: Readonly<Record<CallSpec['requires'], string>> = {
  none: 'basic',
  'fs-read': 'filesystem',
  'fs-write': 'filesystem',
  network: 'network',
  explicit: 'explicit',
};

/** The Cedar schema (human-readable format) for the calls in `catalog`. */
export function cedarSchema(catalog: CallCatalog): string {
  const lines = [
    'namespace ForgeOne {',
    '  entity Plugin = { name: String, publisher: String, version: String, digest: String, attested: Bool };',
    '  entity Path = { path: String };',
    '  entity Host = { host: String, name: String };',
    '  entity Key = { key: String };',
    '  entity Target = { name: String };',
    '  entity Event = { name: String };',
    '  entity Fd = { fd: String };',
    '  entity Nothing;',
    '  type Ctx = { access: String };',
    ...[...new Set(Object.values(GROUPS))].map((group) => `  action "${group}";`),
  ];
  for (const name of catalog.names()) {
    const spec = catalog.get(name);
    if (spec === undefined) continue;
    lines.push(`  action "${name}" in ["${GROUPS[spec.requires]}"] appliesTo { principal: Plugin, resource: ${RESOURCE_TYPES[spec.resource]}, context: Ctx };`);
  }
  lines.push('}');
  return lines.join('\n');
}

/** The principal facts Cedar sees. */
export interface CedarPrincipal {
  readonly publisher: string;
  readonly name: string;
  readonly version: string;
  readonly digest: string;
  readonly attested: boolean;
}

/** Cedar's answer: allowed or not, and the ids of the policies that decided. */
export interface CedarAnswer {
  readonly allowed: boolean;
  readonly policies: readonly string[];
  readonly errors: readonly string[];
}

let nextId = 0;

/** A validated, pre-parsed Cedar policy set. */
export class CedarPolicies {
  readonly #id: string;
  readonly #mode: CedarMode;

  private constructor(id: string, mode: CedarMode) {
    this.#id = id;
    this.#mode = mode;
  }

  /**
   * Parses `text` and validates it against the schema for `catalog`.
   * @throws ForgeError FO_TRUST_POLICY_INVALID listing every parse or validation error.
   */
  static load(text: string, catalog: CallCatalog, mode: CedarMode = 'forbid-only', source = 'policy'): CedarPolicies {
    const engineApi = cedar();
    const policies = mode === 'forbid-only' ? `@id("forge-implicit-permit")\npermit(principal, action, resource);\n${text}` : text;
    const validation = engineApi.validate({ schema: cedarSchema(catalog), policies: { staticPolicies: policies } });
    const problems =
      validation.type === 'failure'
        ? validation.errors.map((error) => error.message)
        : validation.validationErrors.map((error) => `${error.policyId}: ${error.error.message}`);
    if (problems.length > 0) {
      throw new ForgeError('FO_TRUST_POLICY_INVALID', `${source}: ${problems.length} Cedar problem${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`, {
        details: { source, problems },
      });
    }
    const id = `forge-policies-${++nextId}`;
    const parsed = engineApi.preparsePolicySet(id, { staticPolicies: policies });
    if (parsed.type === 'failure') {
      throw new ForgeError('FO_TRUST_POLICY_INVALID', `${source}: ${parsed.errors.map((error) => error.message).join('; ')}`, { details: { source } });
    }
    return new CedarPolicies(id, mode);
  }

  get mode(): CedarMode {
    return this.#mode;
  }

  /**
   * Asks Cedar about one call. Evaluation errors fail closed (not allowed) and are
   * returned so the caller can record them.
   */
  authorize(principal: CedarPrincipal, spec: CallSpec, resource: string | undefined, access: 'read' | 'write' | 'none'): CedarAnswer {
    const principalUid = { type: 'ForgeOne::Plugin', id: `${principal.publisher}/${principal.name}` };
    const resourceType = `ForgeOne::${RESOURCE_TYPES[spec.resource]}`;
    const resourceId = resource ?? '';
    const actionUid = { type: 'ForgeOne::Action', id: spec.name };
    const answer = cedar().statefulIsAuthorized({
      principal: principalUid,
      action: actionUid,
      resource: { type: resourceType, id: resourceId },
      context: { access },
      preparsedPolicySetId: this.#id,
      entities: [
        { uid: principalUid, attrs: { ...principal }, parents: [] },
        // Group membership (`action in ForgeOne::Action::"network"`) comes from here.
        { uid: actionUid, attrs: {}, parents: [{ type: 'ForgeOne::Action', id: GROUPS[spec.requires] }] },
        { uid: { type: resourceType, id: resourceId }, attrs: resourceAttributes(spec.resource, resourceId), parents: [] },
      ],
    });
    if (answer.type === 'failure') return { allowed: false, policies: [], errors: answer.errors.map((error) => error.message) };
    const { decision, diagnostics } = answer.response;
    return {
      allowed: decision === 'allow',
      policies: diagnostics.reason,
      errors: diagnostics.errors.map((error) => `${error.policyId}: ${error.error.message}`),
    };
  }
}

function resourceAttributes(kind: ResourceKind, id: string): Record<string, string> {
  switch (kind) {
    case 'path':
      return { path: id };
    case 'host': {
      const colon = id.startsWith('[') ? id.indexOf(':', id.indexOf(']')) : id.lastIndexOf(':');
      return { host: id, name: colon === -1 ? id : id.slice(0, colon) };
    }
    case 'key':
      return { key: id };
    case 'plugin':
    case 'event':
      return { name: id };
    case 'fd':
      return { fd: id };
    case 'none':
      return {};
  }
}
