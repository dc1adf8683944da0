// forge.http_request (docs/reference/abi.md §14): an outbound HTTP(S) request, synchronous
// for the plugin. Needs network = ["connect"] and the host in allowed_hosts in the
// manifest, and the operator's grant of the host (a loopback or private address only
// when the grant names that exact host).
import { addressOf } from './abi';
import { ByteReader, ByteWriter, text, utf8 } from './bytes';
import { BytesResult, Status, failInto, failure, settle, writerStatus } from './status';

// @ts-ignore: decorator
@external('forge', 'http_request') declare function forge_http_request(ptr: usize, len: usize): u64;

/** A header, as sent or received. */
export class Header {
  constructor(
    public name: string,
    public value: string,
  ) {}
}

/** An outbound request. */
export class HttpRequest {
  /** GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS. */
  method: string = 'GET';
  /** Request headers (at most 64; Host, Content-Length and the like are the host's). */
  headers: Header[] = [];
  /** Milliseconds; 0: the host's default (10 s), cut to the host's maximum (30 s). */
  timeoutMs: u32 = 0;
  /** Follow up to 5 redirects, each new host put to policy again. */
  followRedirects: bool = false;
  /** The body (at most 1 MiB). */
  body: Uint8Array = new Uint8Array(0);

  constructor(
    /** An absolute http:// or https:// URL. */
    public url: string,
  ) {}

  /** Adds a header; returns this request. */
  header(name: string, value: string): HttpRequest {
    this.headers.push(new Header(name, value));
    return this;
  }
}

/** forge.http_request's answer. */
export class HttpResponse extends Status {
  /** The HTTP status, e.g. 200. */
  status: u32 = 0;
  /** Response headers as received, in order, duplicates kept. */
  headers: Header[] = [];
  /** The URL that answered (after redirects). */
  url: string = '';
  /** The body (at most 4 MiB). */
  body: Uint8Array = new Uint8Array(0);

  /** The first header named `name` (compared without case), or null. */
  header(name: string): string | null {
    const wanted = name.toLowerCase();
    for (let i = 0; i < this.headers.length; i++) if (this.headers[i].name.toLowerCase() == wanted) return this.headers[i].value;
    return null;
  }

  /** The body as UTF-8 text. */
  text(): string {
    return text(this.body);
  }
}

/** A GET of `url`. */
export function httpGet(url: string): HttpResponse {
  return http(new HttpRequest(url));
}

/** forge.http_request: sends `req`, answers the whole response or the host's refusal. */
export function http(req: HttpRequest): HttpResponse {
  const w = new ByteWriter();
  w.field(utf8(req.method));
  w.field(utf8(req.url));
  w.u32(<u32>req.headers.length);
  for (let i = 0; i < req.headers.length; i++) {
    w.field(utf8(req.headers[i].name));
    w.field(utf8(req.headers[i].value));
  }
  w.u32(req.timeoutMs);
  w.u32(req.followRedirects ? 1 : 0);
  w.write(req.body);
  const response = new HttpResponse();
  if (w.failed) return failInto(response, writerStatus(w));
  const request = w.toBytes();
  const out = settle(forge_http_request(addressOf(request), <usize>request.length), new BytesResult());
  if (!out.ok) return failInto(response, out);
  const r = new ByteReader(out.value);
  response.status = r.u32();
  const n = r.u32();
  for (let i: u32 = 0; i < n && !r.failed; i++) {
    const name = text(r.field());
    response.headers.push(new Header(name, text(r.field())));
  }
  response.url = text(r.field());
  response.body = r.rest();
  if (!r.failed) return response;
  const bad = new HttpResponse();
  return failInto(bad, failure('PDK_BAD_RESPONSE', 'forge.http_request answered a malformed response'));
}
