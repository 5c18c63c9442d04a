import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { CoreError, isCoreError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { requestDeadline } from '../request-deadline.ts';
import { disposedError, type HttpIdentity, identityDetails, requestFailure } from './failure.ts';
import { type HeaderReader, headersOf } from './headers.ts';

export interface HttpRequest {
  /** Default `GET`. */
  readonly method?: string;
  readonly url: URL;
  /** A `host` among them is sent as given, even empty (what a local admin API over a Unix socket expects). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as it is, with `headers` saying what it is. */
  readonly body?: string | Uint8Array;
  /** Sent as `application/json` (instead of `body`). */
  readonly json?: unknown;
  /** Sent only to `authorizedOrigin` (default: `url`'s): never to a redirect target on another host. */
  readonly authorization?: string;
  readonly authorizedOrigin?: string;
  readonly signal?: AbortSignal;
  /** This request's own deadline, instead of the transport's. */
  readonly timeoutMs?: number;
  /** Largest body read, in bytes (default 8 MiB); a longer one is `BAD_RESPONSE`. */
  readonly maxBodyBytes?: number;
  /**
   * The status is the answer, the body a courtesy (a service's words quoted in a message): keep what
   * arrives of it, at most `maxBodyBytes`, instead of failing when it is longer or breaks off.
   */
  readonly partialBody?: boolean;
  /** What the request is for, in errors: `tags of team/app`. */
  readonly what: string;
  /** `refuse`: a redirect comes back as the answer, unfollowed. Default: the transport's. */
  readonly redirects?: 'follow' | 'refuse';
  /**
   * The answer's head only (a probe that needs the status or a header): the body is never read, its
   * connection is closed, and `body` is empty.
   */
  readonly headOnly?: boolean;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: HeaderReader;
  /** The URL that answered, after redirects. */
  readonly url: URL;
  /** Empty for HEAD. */
  readonly body: Uint8Array;
}

/** A private CA, a client certificate, a server name: for services on a private PKI (Nomad). */
export interface HttpTls {
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  readonly serverName?: string | undefined;
  /** `false`: any certificate is accepted, for a check that is about routing, not the certificate. */
  readonly rejectUnauthorized?: false | undefined;
}

export interface HttpTransportOptions {
  readonly identity: HttpIdentity;
  readonly timeoutMs: number;
  /** Aborted on dispose: in-flight requests end, later ones are refused (`UNAVAILABLE`, final). */
  readonly lifetime: AbortSignal;
  readonly logger?: Logger;
  readonly userAgent?: string;
  /** Counted before each request goes out (redirect hops too). */
  readonly counters?: { requests: number };
  readonly tls?: HttpTls;
  /** A Unix socket to send every request to (a local admin API); URLs then give only the path. */
  readonly socketPath?: string;
  /** Default `follow`. */
  readonly redirects?: 'follow' | 'refuse';
  /** `false`: a fresh connection per request (a service that restarts its listener on a config load). */
  readonly keepAlive?: boolean;
}

export interface HttpTransport {
  /**
   * One HTTP exchange with a deadline, cancellation, redirects and a bounded body. A request that
   * gets no whole answer throws a `CoreError`: network failure `UNAVAILABLE`, timeout `TIMEOUT`,
   * caller abort `ABORTED`, a body cut short or too long `BAD_RESPONSE`. Every status is an answer:
   * the caller knows what a 404 means (`httpStatusError` for the rest).
   */
  request(request: HttpRequest): Promise<HttpResponse>;
  /** Lets go of the transport's own connections (those of its TLS material). */
  close(): void;
}

const defaultMaxBodyBytes = 8 * 1024 * 1024;
const maxRedirects = 5;
const redirectStatuses: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

interface Outgoing {
  readonly url: URL;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array | undefined;
}

/** An agent for HTTPS when the defaults do not do: private TLS material, or no keep-alive. */
function tlsAgent(tls: HttpTls | undefined, keepAlive: boolean): HttpsAgent | undefined {
  const { ca, cert, key, serverName, rejectUnauthorized } = tls ?? {};
  if (keepAlive && (ca ?? cert ?? key ?? serverName ?? rejectUnauthorized) === undefined) return undefined;
  return new HttpsAgent({
    keepAlive,
    ...(rejectUnauthorized === false ? { rejectUnauthorized } : {}),
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(serverName === undefined ? {} : { servername: serverName }),
  });
}

/**
 * The body of a request: `json` as JSON text, else `body`. */
function bodyOf(request: HttpRequest): { body: Uint8Array | undefined; type: string | undefined } {
  if (request.json !== undefined)
    return { body: Buffer.from(JSON.stringify(request.json)), type: 'application/json' };
  if (request.body === undefined) return { body: undefined, type: undefined };
  return {
    body: typeof request.body === 'string' ? Buffer.from(request.body) : request.body,
    type: undefined,
  };
}

/** The method and body after a redirect: 303, and 301/302 after a POST, turn into a body-less GET. */
function redirected(outgoing: Outgoing, status: number, to: URL): Outgoing {
  const toGet = status === 303 || ((status === 301 || status === 302) && outgoing.method === 'POST');
  if (!toGet) return { ...outgoing, url: to };
  const { 'content-type': _type, 'content-length': _length, ...headers } = outgoing.headers;
  return { url: to, method: outgoing.method === 'HEAD' ? 'HEAD' : 'GET', headers, body: undefined };
}

/** The only caller headers a request takes to another origin: the rest may be credentials. */
const headersForOtherOrigins: ReadonlySet<string> = new Set(['accept', 'user-agent']);

/**
 * A hop to another origin than the request's: it carries no body (a login's password would go with a
 * 307) and only the headers that say what the answer should be.
 */
function toOtherOrigin(outgoing: Outgoing): Outgoing | undefined {
  if (outgoing.body) return undefined;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(outgoing.headers))
    if (headersForOtherOrigins.has(name.toLowerCase())) headers[name] = value;
  return { ...outgoing, headers };
}

/**
 * Sends `options`' requests with `node:http(s)` (keep-alive agents) and reads each answer whole.
 * Not `fetch`: loading undici and its WebAssembly parser costs an idle server about 7 MB
 * (bench/idle-memory.bench.ts), and it cannot take a private CA without the `undici` package.
 */
export function createHttpTransport(options: HttpTransportOptions): HttpTransport {
  const { identity } = options;
  const keepAlive = options.keepAlive ?? true;
  const agent = tlsAgent(options.tls, keepAlive);
  const plainAgent = options.socketPath || !keepAlive ? new HttpAgent({ keepAlive }) : undefined;

  const send = (outgoing: Outgoing, signal: AbortSignal): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      const https = outgoing.url.protocol === 'https:';
      const open = https ? httpsRequest : httpRequest;
      const headers = { ...outgoing.headers };
      if (outgoing.body) headers['content-length'] = String(outgoing.body.byteLength);
      const request = open(
        outgoing.url,
        {
          method: outgoing.method,
          headers,
          signal,
          // A Host the caller gives is sent as given, an empty one too (a Unix socket has no host name).
          ...(Object.keys(headers).some((name) => name.toLowerCase() === 'host') ? { setHost: false } : {}),
          ...(options.socketPath ? { socketPath: options.socketPath } : {}),
          ...(https ? (agent ? { agent } : {}) : plainAgent ? { agent: plainAgent } : {}),
        },
        resolve,
      );
      request.on('error', reject);
      request.end(outgoing.body);
    });

  const readBody = async (
    message: IncomingMessage,
    request: HttpRequest,
    signal: AbortSignal,
  ): Promise<Uint8Array> => {
    const limit = request.maxBodyBytes ?? defaultMaxBodyBytes;
    const tooLong = () => {
      message.destroy();
      return new CoreError(
        'BAD_RESPONSE',
        `${identity.id} answered the request for ${request.what} with a body over ${limit} bytes`,
        { details: identityDetails(identity, { operation: request.what, limit }) },
      );
    };
    const partial = request.partialBody === true;
    const declared = Number(message.headers['content-length']);
    if (!partial && Number.isFinite(declared) && declared > limit) throw tooLong();
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of message as AsyncIterable<Buffer>) {
        const room = limit - size;
        if (chunk.byteLength > room) {
          if (!partial) throw tooLong();
          // Leaving the loop destroys the message: the rest of the body is never read.
          chunks.push(chunk.subarray(0, room));
          size = limit;
          break;
        }
        chunks.push(chunk);
        size += chunk.byteLength;
      }
    } catch (error) {
      // A cut-off answer is kept with `partialBody`; a deadline, a cancel or a dispose never is.
      if (!partial || signal.aborted) throw error;
    }
    return new Uint8Array(Buffer.concat(chunks, size));
  };

  /** Where a redirect points, or an error when it points nowhere or too often. */
  const nextHop = (request: HttpRequest, from: URL, location: string, status: number, hop: number) => {
    const details = identityDetails(identity, { operation: request.what, status });
    if (hop >= maxRedirects)
      throw new CoreError(
        'BAD_RESPONSE',
        `${identity.id} redirected the request for ${request.what} more than ${maxRedirects} times`,
        { details },
      );
    if (!URL.canParse(location, from.href))
      throw new CoreError(
        'BAD_RESPONSE',
        `${identity.id} redirected the request for ${request.what} to an invalid URL`,
        { details },
      );
    const next = new URL(location, from);
    options.logger?.debug('following a redirect', { operation: request.what, status, to: next.origin });
    return next;
  };

  const exchange = async (request: HttpRequest): Promise<HttpResponse> => {
    const timeoutMs = request.timeoutMs ?? options.timeoutMs;
    // Released when the request ends: per-request timers and signals otherwise outlive it (idle memory).
    const deadline = requestDeadline(timeoutMs, [options.lifetime, request.signal]);
    const failed = (error: unknown, phase: 'request' | 'body') =>
      requestFailure(error, {
        ...options,
        what: request.what,
        signal: request.signal,
        deadline,
        timeoutMs,
        phase,
      });
    const { body, type } = bodyOf(request);
    const authorizedOrigin = request.authorizedOrigin ?? request.url.origin;
    const follow = (request.redirects ?? options.redirects ?? 'follow') === 'follow';
    let outgoing: Outgoing = {
      url: request.url,
      method: request.method ?? 'GET',
      headers: {
        ...(type ? { 'content-type': type } : {}),
        ...request.headers,
        ...(options.userAgent ? { 'user-agent': options.userAgent } : {}),
      },
      body,
    };
    try {
      for (let hop = 0; ; hop++) {
        const headers = { ...outgoing.headers };
        if (request.authorization && outgoing.url.origin === authorizedOrigin)
          headers.authorization = request.authorization;
        if (options.counters) options.counters.requests++;
        const message = await send({ ...outgoing, headers }, deadline.signal).catch((error: unknown) => {
          throw failed(error, 'request');
        });
        const status = message.statusCode ?? 0;
        const responseHeaders = headersOf(message.rawHeaders);
        const location = responseHeaders.get('location');
        if (follow && redirectStatuses.has(status) && location) {
          message.resume();
          outgoing = redirected(outgoing, status, nextHop(request, outgoing.url, location, status, hop));
          if (outgoing.url.origin !== request.url.origin) {
            const leaving = toOtherOrigin(outgoing);
            if (!leaving)
              throw new CoreError(
                'BAD_RESPONSE',
                `${identity.id} redirected the request for ${request.what} with its body to another origin; it was not sent there`,
                {
                  details: identityDetails(identity, {
                    operation: request.what,
                    status,
                    to: outgoing.url.origin,
                  }),
                },
              );
            outgoing = leaving;
          }
          continue;
        }
        let answer: Uint8Array;
        try {
          if (request.headOnly) {
            message.destroy();
            answer = new Uint8Array(0);
          } else if (outgoing.method === 'HEAD') {
            message.resume();
            answer = new Uint8Array(0);
          } else answer = await readBody(message, request, deadline.signal);
        } catch (error) {
          if (isCoreError(error)) throw error;
          throw failed(error, 'body');
        }
        return { status, headers: responseHeaders, url: outgoing.url, body: answer };
      }
    } finally {
      deadline.done();
    }
  };

  return {
    request: (request) =>
      options.lifetime.aborted ? Promise.reject(disposedError(identity, request.what)) : exchange(request),
    close: () => {
      agent?.destroy();
      plainAgent?.destroy();
    },
  };
}

/** A response's body as text (UTF-8). */
export function responseText(response: Pick<HttpResponse, 'body'>): string {
  return new TextDecoder().decode(response.body);
}

/** A response's body as JSON, or `undefined` when it is not JSON. */
export function responseJson(response: Pick<HttpResponse, 'body'>): unknown {
  try {
    return JSON.parse(responseText(response));
  } catch {
    return undefined;
  }
}
