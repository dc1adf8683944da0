/**
 * A small OTLP/HTTP (JSON) receiver for tests: a node:http server on 127.0.0.1 that
 * keeps every span it is sent, flattened.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One received span, its attributes as a plain object. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly start: bigint;
  readonly end: bigint;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  readonly statusCode: number;
}

interface OtlpValue {
  readonly stringValue?: string;
  readonly intValue?: string | number;
  readonly boolValue?: boolean;
  readonly doubleValue?: number;
}

interface OtlpBody {
  readonly resourceSpans?: readonly { readonly scopeSpans?: readonly { readonly spans?: readonly Record<string, unknown>[] }[] }[];
}

/** Starts the receiver; `url` is its /v1/traces endpoint. */
export async function otlpReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; requests: () => number; close: () => Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  let requests = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests += 1;
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpBody;
      for (const resource of body.resourceSpans ?? []) for (const scope of resource.scopeSpans ?? []) for (const span of scope.spans ?? []) spans.push(flatten(span));
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    requests: () => requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function flatten(span: Record<string, unknown>): ReceivedSpan {
  const attributes: Record<string, string | number | boolean> = {};
  for (const { key, value } of (span['attributes'] ?? []) as { key: string; value: OtlpValue }[]) {
    attributes[key] = value.stringValue ?? (value.intValue === undefined ? undefined : Number(value.intValue)) ?? value.boolValue ?? value.doubleValue ?? '';
  }
  return {
    traceId: String(span['traceId']),
    spanId: String(span['spanId']),
    parentSpanId: typeof span['parentSpanId'] === 'string' ? span['parentSpanId'] : '',
    name: String(span['name']),
    start: BigInt(String(span['startTimeUnixNano'])),
    end: BigInt(String(span['endTimeUnixNano'])),
    attributes,
    statusCode: Number((span['status'] as { code?: number } | undefined)?.code ?? 0),
  };
}
