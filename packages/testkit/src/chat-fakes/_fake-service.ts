import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** A request a fake service received. */
export interface FakeRequest {
  readonly method: string;
  /** Path and query. */
  readonly path: string;
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The body parsed as JSON, when it is JSON. */
  readonly json: unknown;
  /** When it arrived, in `performance.now()` milliseconds. */
  readonly at: number;
}

export interface FakeAnswer {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** A string is sent as it is; anything else as JSON. */
  readonly body?: unknown;
}

/** An answer by its fixture name, an answer, a reset connection, or no answer at all. */
export type Scripted<Name extends string> = Name | FakeAnswer | 'reset' | 'hang';

/** What a service's handler makes of a request. */
export interface Handled {
  /** Whether the request delivers a message (scripted answers and `breakWith` apply to these only). */
  readonly message: boolean;
  /** The service's own answer, when nothing scripted takes its place. */
  readonly answer: FakeAnswer;
  /** Whether the service kept the message (a duplicate or a rejected one is not kept). */
  readonly kept?: boolean;
}

export interface ChatServiceFake<Name extends string> {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Every request, oldest first. */
  readonly requests: readonly FakeRequest[];
  /** Message requests the service kept, oldest first. */
  readonly messages: readonly FakeRequest[];
  /** The fixture answer named `name`. */
  answer(name: Name): FakeAnswer;
  /** The next message requests get these answers, one each, before the service answers normally again. */
  script(...answers: Scripted<Name>[]): void;
  /** Every message request gets this answer until `heal()`. */
  breakWith(answer: Scripted<Name>): void;
  heal(): void;
  close(): Promise<void>;
}

export interface Fixture<Name extends string> {
  /** Where the answers come from (documentation pages, repositories). */
  readonly $source: string;
  readonly answers: Readonly<Record<Name, FakeAnswer>>;
}

/** Reads one of the JSON fixtures of documented answers next to this file. */
export function loadFixture<Name extends string>(service: string): Fixture<Name> {
  return JSON.parse(
    readFileSync(new URL(`./fixtures/${service}.json`, import.meta.url), 'utf8'),
  ) as Fixture<Name>;
}

function send(response: ServerResponse, answer: FakeAnswer): void {
  const body =
    answer.body === undefined
      ? ''
      : typeof answer.body === 'string'
        ? answer.body
        : JSON.stringify(answer.body);
  response.writeHead(answer.status, { 'content-length': String(Buffer.byteLength(body)), ...answer.headers });
  response.end(body);
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A loopback HTTP server playing a chat service: the handler answers as the service documents,
 * scripted answers (rate limits, outages, resets) take the place of that for message requests.
 */
export async function startFakeService<Name extends string>(
  fixture: Fixture<Name>,
  handle: (request: FakeRequest) => Handled,
): Promise<ChatServiceFake<Name>> {
  const requests: FakeRequest[] = [];
  const messages: FakeRequest[] = [];
  const scripted: Scripted<Name>[] = [];
  let broken: Scripted<Name> | undefined;
  const sockets = new Set<Socket>();
  const resolve = (item: Scripted<Name>): FakeAnswer | 'reset' | 'hang' => {
    if (typeof item !== 'string') return item;
    if (item === 'reset') return 'reset';
    if (item === 'hang') return 'hang';
    return fixture.answers[item as Name];
  };

  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const url = new URL(incoming.url ?? '/', 'http://127.0.0.1');
      const body = Buffer.concat(chunks).toString('utf8');
      const request: FakeRequest = {
        method: incoming.method ?? 'GET',
        path: url.pathname + url.search,
        url,
        headers: incoming.headers,
        body,
        json: parse(body),
        at: performance.now(),
      };
      requests.push(request);
      const handled = handle(request);
      const override = handled.message ? (scripted.shift() ?? broken) : undefined;
      const answer = override === undefined ? handled.answer : resolve(override);
      if (answer === 'hang') return;
      if (answer === 'reset') {
        incoming.socket.destroy();
        return;
      }
      // A scripted success stands for the service's own: the message counts when the service kept it.
      if (handled.message && handled.kept !== false && answer.status < 300) {
        messages.push(request);
      }
      send(response, answer);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((done, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => done());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let closing: Promise<void> | undefined;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    messages,
    answer: (name) => fixture.answers[name],
    script: (...answers) => scripted.push(...answers),
    breakWith: (answer) => {
      broken = answer;
    },
    heal: () => {
      broken = undefined;
      scripted.length = 0;
    },
    close: () => {
      closing ??= new Promise((done) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => done());
      });
      return closing;
    },
  };
}

/** The bearer token of a request, if it has one. */
export function bearerOf(request: FakeRequest): string | undefined {
  const header = request.headers.authorization;
  return typeof header === 'string' && header.startsWith('Bearer ')
    ? header.slice('Bearer '.length)
    : undefined;
}

/** Visible length of a string in characters (code points). */
export const lengthOf = (text: unknown): number => (typeof text === 'string' ? Array.from(text).length : 0);
