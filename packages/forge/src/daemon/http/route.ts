/**
 * How an API operation is declared: one table entry per operation, from which the
 * server registers the route (with its JSON schemas, so invalid input is refused at
 * the edge), decides who may call it, audits the decision, and the OpenAPI document
 * (docs/reference/http-api.md) is generated. A handler sees validated input only.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from '../tokens.js';

/** A JSON Schema (draft 2020-12 subset fastify validates with), as a plain object. */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** Who is asking. */
export interface Principal {
  /** As recorded in the audit log: `user:<name>` on the socket, `token:<name>` for a bearer token. */
  readonly name: string;
  readonly role: Role;
  readonly transport: 'socket' | 'tcp';
  /** The id of the token the request carried, if any. */
  readonly tokenId?: string;
}

/** What a handler gets. */
export interface RouteContext<S> {
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, unknown>>;
  /** The validated JSON body, or the raw bytes of an `application/octet-stream` one. */
  readonly body: unknown;
  readonly principal: Principal;
  readonly services: S;
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
}

/** One API operation. */
export interface Route<S> {
  /** Stable name: the OpenAPI operationId and the audit action (`api.<operation>`), e.g. `plugins.start`. */
  readonly operation: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Fastify path syntax: `/v1/plugins/:name/start`. */
  readonly url: string;
  readonly summary: string;
  readonly description?: string;
  /** The least role allowed; `public` needs no credentials at all (health, readiness, the dashboard's files). */
  readonly role: Role | 'public';
  /** True when the operation changes something: audited as a decision, else as a read (level `all` only). */
  readonly mutates: boolean;
  readonly params?: JsonSchema;
  readonly query?: JsonSchema;
  /** A JSON body's schema, or `binary` for `application/octet-stream` (a package, a call's input). */
  readonly body?: JsonSchema | 'binary';
  /** Largest body this operation reads, bytes, below daemon.max_request_size (FO_DAEMON_BODY_TOO_LARGE past it). Default: that setting. */
  readonly maxBodyBytes?: number;
  /** The success status and what it returns: a JSON schema, raw bytes, a stream, or nothing (204). */
  readonly response: {
    readonly status: number;
    readonly content: JsonSchema | 'binary' | 'ndjson' | 'event-stream' | 'html' | 'none';
    readonly description: string;
    /** For `ndjson`, the schema of one line; for `event-stream`, of one event's data. */
    readonly items?: JsonSchema;
  };
  /** What the request touches, for the audit record (usually the plugin name). */
  readonly resource?: (params: Readonly<Record<string, string>>) => string | undefined;
  /**
   * Runs the operation. Returns the body (serialised as the response says), or
   * undefined after writing to `reply` itself (streams).
   * @throws ForgeError answered with the status of its kind
   */
  readonly handler: (context: RouteContext<S>) => Promise<unknown>;
}

/** Defines a route with its types checked. */
export function route<S>(definition: Route<S>): Route<S> {
  return definition;
}

/** The schema of a `name` path parameter: a plugin name as the store accepts it. */
export const PLUGIN_NAME_PARAMS: JsonSchema = {
  type: 'object',
  properties: { name: { type: 'string', pattern: '^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$', description: 'The plugin\'s name.' } },
  required: ['name'],
  additionalProperties: false,
};

/** The error body every failure has. */
export const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string', description: 'A catalog code, FO_<AREA>_<REASON> (docs/reference/errors.md).' },
        kind: { type: 'string' },
        message: { type: 'string' },
        details: { type: 'object' },
      },
      required: ['code', 'kind', 'message'],
    },
  },
  required: ['error'],
};
