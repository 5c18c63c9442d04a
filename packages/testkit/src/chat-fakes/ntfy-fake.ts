import { type ChatServiceFake, loadFixture, startFakeService } from './_fake-service.ts';

export type NtfyAnswer =
  | 'message'
  | 'unauthorized'
  | 'forbidden'
  | 'invalid_actions'
  | 'too_many_requests'
  | 'daily_quota';

export interface NtfyFake extends ChatServiceFake<NtfyAnswer> {
  /** The topic that takes messages; another topic answers 403 `40301`. */
  readonly topic: string;
  /** `Authorization` values accepted: a token as Bearer, or Basic user:password. */
  readonly token: string;
  readonly username: string;
  readonly password: string;
  /** Messages over 4096 bytes, which ntfy turns into attachments. */
  readonly attachments: number;
}

/**
 * ntfy on loopback: JSON publishing at `POST /` (topic in the body) and plain publishing at
 * `POST /<topic>`, with access control (401 `40101` without credentials, 403 `40301` for another
 * topic), at most 3 actions (400 `40018`), and scripted 429s without Retry-After.
 */
export async function startNtfyFake(): Promise<NtfyFake> {
  const topic = 'dw-releases';
  const token = 'tk_dwntfytoken0123456789abcdef';
  const username = 'watcher';
  const password = 'dw-ntfy-password';
  const fixture = loadFixture<NtfyAnswer>('ntfy');
  let attachments = 0;
  const basic = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const tokenAsBasic = `Basic ${Buffer.from(`:${token}`).toString('base64')}`;
  const fake = await startFakeService(fixture, (request) => {
    if (request.method !== 'POST' && request.method !== 'PUT')
      return { message: false, answer: fixture.answers.forbidden };
    const auth = request.headers.authorization;
    if (auth !== `Bearer ${token}` && auth !== basic && auth !== tokenAsBasic)
      return { message: true, answer: fixture.answers.unauthorized, kept: false };
    const json = request.url.pathname === '/';
    const body = (json ? request.json : undefined) as
      | { topic?: unknown; message?: unknown; actions?: unknown[]; priority?: unknown }
      | undefined;
    const target = json ? body?.topic : request.url.pathname.slice(1);
    if (target !== topic) return { message: true, answer: fixture.answers.forbidden, kept: false };
    if ((body?.actions?.length ?? 0) > 3)
      return { message: true, answer: fixture.answers.invalid_actions, kept: false };
    const priority = body?.priority;
    if (
      priority !== undefined &&
      !(Number.isInteger(priority) && Number(priority) >= 1 && Number(priority) <= 5)
    )
      return {
        message: true,
        answer: {
          status: 400,
          headers: { 'content-type': 'application/json' },
          body: { code: 40007, http: 400, error: 'invalid request: priority invalid' },
        },
        kept: false,
      };
    const message = json ? String(body?.message ?? '') : request.body;
    if (Buffer.byteLength(message) > 4096) attachments += 1;
    return { message: true, answer: fixture.answers.message };
  });
  // A getter, so the count is read when asked (Object.assign would copy its value once).
  return Object.defineProperty(Object.assign(fake, { topic, token, username, password }), 'attachments', {
    get: () => attachments,
  }) as NtfyFake;
}
