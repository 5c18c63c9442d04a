import {
  bearerOf,
  type ChatServiceFake,
  type FakeAnswer,
  type FakeRequest,
  loadFixture,
  startFakeService,
} from './_fake-service.ts';

export type MatrixAnswer =
  | 'unknown_token'
  | 'missing_token'
  | 'forbidden'
  | 'bad_json'
  | 'limited_header'
  | 'limited_body'
  | 'limited_both';

export interface MatrixFake extends ChatServiceFake<MatrixAnswer> {
  /** The homeserver's base URL. */
  readonly homeserver: string;
  readonly user: string;
  readonly password: string;
  /** An access token issued beforehand (what Shoutrrr's token form uses). */
  readonly accessToken: string;
  /** The room the user has joined, its alias, and a room the user is only invited to. */
  readonly roomId: string;
  readonly roomAlias: string;
  readonly invitedRoomId: string;
  /** Events the rooms hold, by room id, oldest first: a repeated transaction id adds none. */
  readonly events: ReadonlyMap<string, readonly unknown[]>;
  /** Makes every access token issued so far invalid (as a logout elsewhere would). */
  revokeTokens(): void;
}

const json = (status: number, body: unknown): FakeAnswer => ({
  status,
  headers: { 'content-type': 'application/json' },
  body,
});

/**
 * A Matrix homeserver's client-server API on loopback (v3): password login, join (by id or alias),
 * joined rooms, and `PUT /rooms/{roomId}/send/m.room.message/{txnId}`, where a repeated txnId of
 * the same token answers the same event id without a second event, as the spec requires. Unknown
 * tokens answer 401 `M_UNKNOWN_TOKEN`, rooms not joined 403 `M_FORBIDDEN`, events over 65,536 bytes
 * 413 `M_TOO_LARGE`; rate limits are scripted (`Retry-After`, `retry_after_ms`, or both).
 */
export async function startMatrixFake(): Promise<MatrixFake> {
  const user = 'watcher';
  const password = 'dw-matrix-password';
  const server = 'dw.test';
  const roomId = `!dwroom:${server}`;
  const roomAlias = `#deploys:${server}`;
  const invitedRoomId = `!invited:${server}`;
  const accessToken = 'syt_dwmatrixtoken_0123456789';
  const fixture = loadFixture<MatrixAnswer>('matrix');
  const tokens = new Set([accessToken]);
  const joined = new Set([roomId]);
  const events = new Map<string, unknown[]>([
    [roomId, []],
    [invitedRoomId, []],
  ]);
  const transactions = new Map<string, string>();
  let issued = 0;
  const base = '/_matrix/client/v3';

  const handle = (request: FakeRequest) => {
    const path = decodeURIComponent(request.url.pathname);
    if (request.method === 'POST' && path === `${base}/login`) {
      const body = request.json as { identifier?: { user?: unknown }; password?: unknown } | undefined;
      if (body?.identifier?.user !== user || body.password !== password)
        return {
          message: false,
          answer: json(403, { errcode: 'M_FORBIDDEN', error: 'Invalid username or password' }),
        };
      issued += 1;
      const token = `syt_login_${issued}_${Math.random().toString(36).slice(2)}`;
      tokens.add(token);
      return {
        message: false,
        answer: json(200, { user_id: `@${user}:${server}`, access_token: token, device_id: `DW${issued}` }),
      };
    }
    const token = bearerOf(request);
    if (token === undefined)
      return { message: path.includes('/send/'), answer: fixture.answers.missing_token, kept: false };
    if (!tokens.has(token))
      return { message: path.includes('/send/'), answer: fixture.answers.unknown_token, kept: false };
    if (request.method === 'GET' && path === `${base}/joined_rooms`)
      return { message: false, answer: json(200, { joined_rooms: [...joined] }) };
    const join = new RegExp(`^${base}/join/(.+)$`).exec(path);
    if (request.method === 'POST' && join) {
      const target = join[1] === roomAlias ? roomId : join[1];
      if (target !== roomId && target !== invitedRoomId)
        return { message: false, answer: json(404, { errcode: 'M_NOT_FOUND', error: 'No known servers' }) };
      joined.add(target);
      return { message: false, answer: json(200, { room_id: target }) };
    }
    const send = new RegExp(`^${base}/rooms/([^/]+)/send/m\\.room\\.message/([^/]+)$`).exec(path);
    if (request.method !== 'PUT' || !send)
      return {
        message: false,
        answer: json(404, { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' }),
      };
    const [, room = '', txn = ''] = send;
    if (!joined.has(room)) return { message: true, answer: fixture.answers.forbidden, kept: false };
    if (request.json === undefined) return { message: true, answer: fixture.answers.bad_json, kept: false };
    if (Buffer.byteLength(request.body) > 65_536)
      return {
        message: true,
        answer: json(413, { errcode: 'M_TOO_LARGE', error: 'event too large' }),
        kept: false,
      };
    const key = `${token}\u0000${room}\u0000${txn}`;
    const seen = transactions.get(key);
    if (seen) return { message: true, answer: json(200, { event_id: seen }), kept: false };
    const eventId = `$dw${transactions.size + 1}:${server}`;
    transactions.set(key, eventId);
    events.get(room)?.push(request.json);
    return { message: true, answer: json(200, { event_id: eventId }) };
  };

  const fake = await startFakeService(fixture, handle);
  return Object.assign(fake, {
    homeserver: fake.origin,
    user,
    password,
    accessToken,
    roomId,
    roomAlias,
    invitedRoomId,
    events,
    revokeTokens: () => tokens.clear(),
  });
}
