import { Agent, request } from 'node:https';

export interface TlsMaterial {
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  readonly serverName?: string | undefined;
}

const noBodyStatuses = new Set([101, 204, 205, 304]);

/**
 * A `fetch` over `node:https` with a private CA and a client certificate: Node's built-in fetch
 * cannot take either without the `undici` package. It covers what ofetch sends (string URL, method,
 * headers, string body, signal) and answers with a standard `Response`.
 */
export function createTlsFetch(material: TlsMaterial): { fetch: typeof fetch; close: () => void } {
  const agent = new Agent({
    keepAlive: true,
    ...(material.ca === undefined ? {} : { ca: material.ca }),
    ...(material.cert === undefined ? {} : { cert: material.cert }),
    ...(material.key === undefined ? {} : { key: material.key }),
    ...(material.serverName === undefined ? {} : { servername: material.serverName }),
  });

  const tlsFetch = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> =>
    new Promise((resolve, reject) => {
      const url = typeof input === 'string' || input instanceof URL ? input.toString() : input.url;
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((value, name) => {
        headers[name] = value;
      });
      const body = typeof init.body === 'string' ? init.body : undefined;
      if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
      const signal = init.signal ?? undefined;
      const abortError = () =>
        signal?.reason instanceof Error
          ? signal.reason
          : new DOMException('This operation was aborted', 'AbortError');
      if (signal?.aborted) {
        reject(abortError());
        return;
      }
      const req = request(url, { method: init.method ?? 'GET', headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error) => reject(new TypeError('fetch failed', { cause: error })));
        res.on('end', () => {
          signal?.removeEventListener('abort', onAbort);
          const status = res.statusCode ?? 500;
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (value === undefined) continue;
            for (const item of Array.isArray(value) ? value : [value]) responseHeaders.append(name, item);
          }
          resolve(
            new Response(noBodyStatuses.has(status) ? null : Buffer.concat(chunks), {
              status,
              statusText: res.statusMessage ?? '',
              headers: responseHeaders,
            }),
          );
        });
      });
      const onAbort = () => {
        req.destroy();
        reject(abortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      // Like undici: a socket or TLS failure is `TypeError: fetch failed` with the cause attached.
      req.on('error', (error) => {
        signal?.removeEventListener('abort', onAbort);
        if (!signal?.aborted) reject(new TypeError('fetch failed', { cause: error }));
      });
      req.end(body);
    });

  return { fetch: tlsFetch as typeof fetch, close: () => agent.destroy() };
}
