import { bearerOf, type ChatServiceFake, loadFixture, startFakeService } from './_fake-service.ts';

export type GotifyAnswer =
  | 'message'
  | 'unauthorized'
  | 'message_required'
  | 'proxy_bad_gateway'
  | 'proxy_unavailable';

export interface GotifyFake extends ChatServiceFake<GotifyAnswer> {
  /** Base URL with a sub path, as Gotify behind a reverse proxy often has: `<origin>/gotify`. */
  readonly url: string;
  /** The application token. */
  readonly token: string;
}

/**
 * Gotify on loopback under `/gotify`: `POST /gotify/message` with the app token in `X-Gotify-Key`,
 * `Authorization: Bearer` or `?token=` (401 otherwise), `message` required (400), and scripted
 * 502/503 answers of a reverse proxy in front of it.
 */
export async function startGotifyFake(): Promise<GotifyFake> {
  const token = 'AdwGotifyToken0123';
  const fixture = loadFixture<GotifyAnswer>('gotify');
  const fake = await startFakeService(fixture, (request) => {
    if (request.method !== 'POST' || request.url.pathname !== '/gotify/message')
      return { message: false, answer: fixture.answers.unauthorized };
    const given =
      request.headers['x-gotify-key'] ?? bearerOf(request) ?? request.url.searchParams.get('token');
    if (given !== token) return { message: true, answer: fixture.answers.unauthorized, kept: false };
    const body = request.json as { message?: unknown } | undefined;
    if (typeof body?.message !== 'string' || body.message === '')
      return { message: true, answer: fixture.answers.message_required, kept: false };
    return { message: true, answer: fixture.answers.message };
  });
  return Object.assign(fake, { url: `${fake.origin}/gotify`, token });
}
