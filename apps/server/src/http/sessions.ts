import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface SessionStoreOptions {
  /** A session ends after this long without a request. */
  readonly idleTimeoutMs: number;
  /** A session ends this long after it began, however active. */
  readonly maxAgeMs: number;
  /** Sessions kept at most; beyond it the oldest ends first. */
  readonly maxSessions?: number;
}

export interface Session {
  readonly user: string;
  /** A fingerprint of the credential the session was opened with: a new password ends it. */
  readonly credential: string;
  readonly createdAt: number;
  lastSeenAt: number;
}

export interface OpenedSession {
  /** The cookie value: 256 random bits. Only its hash is kept. */
  readonly id: string;
  readonly csrfToken: string;
  readonly expiresAt: number;
}

export interface SessionStore {
  open(user: string, credential: string): OpenedSession;
  /** The live session of a cookie value, its idle clock restarted; `undefined` once ended. */
  touch(id: string): Session | undefined;
  /** When the session ends if nothing else happens. */
  expiresAt(session: Session): number;
  /** The CSRF token that goes with a session id (an HMAC of it, so nothing more is stored). */
  csrfToken(id: string): string;
  /** Constant-time check of a CSRF token against the session's. */
  checkCsrf(id: string, token: string | undefined): boolean;
  end(id: string): void;
  readonly size: number;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
const keyOf = (id: string) => digest(id).toString('base64url');

/** Dashboard sessions in memory, keyed by the SHA-256 of their ids, with idle and absolute expiry. */
export function createSessionStore(options: SessionStoreOptions): SessionStore {
  const maxSessions = options.maxSessions ?? 10_000;
  const sessions = new Map<string, Session>();
  const csrfKey = randomBytes(32);
  const expiresAt = (session: Session) =>
    Math.min(session.createdAt + options.maxAgeMs, session.lastSeenAt + options.idleTimeoutMs);
  const csrfToken = (id: string) => createHmac('sha256', csrfKey).update(id).digest('base64url');
  const sweep = (now: number) => {
    for (const [key, session] of sessions) if (expiresAt(session) <= now) sessions.delete(key);
    // Insertion order is creation order: the first left is the oldest.
    for (const key of sessions.keys()) {
      if (sessions.size < maxSessions) break;
      sessions.delete(key);
    }
  };
  return {
    open(user, credential) {
      const now = Date.now();
      if (sessions.size >= maxSessions) sweep(now);
      const id = randomBytes(32).toString('base64url');
      const session: Session = { user, credential, createdAt: now, lastSeenAt: now };
      sessions.set(keyOf(id), session);
      return { id, csrfToken: csrfToken(id), expiresAt: expiresAt(session) };
    },
    touch(id) {
      const key = keyOf(id);
      const session = sessions.get(key);
      if (!session) return undefined;
      const now = Date.now();
      if (expiresAt(session) <= now) {
        sessions.delete(key);
        return undefined;
      }
      session.lastSeenAt = now;
      return session;
    },
    expiresAt,
    csrfToken,
    checkCsrf(id, token) {
      if (token === undefined || token === '') return false;
      return timingSafeEqual(digest(csrfToken(id)), digest(token));
    },
    end(id) {
      sessions.delete(keyOf(id));
    },
    get size() {
      return sessions.size;
    },
  };
}
