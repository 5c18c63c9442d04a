// The dashboard's login routes.
import * as v from 'valibot';
import { defineRoute } from './route.ts';
import { readonlyArray } from './schemas.ts';

/** The CSRF header a mutating request authenticated by the session cookie must carry. */
export const csrfHeader = 'X-CSRF-Token';

// Messages of their own, so that a wrong-typed password is never echoed back.
export const loginBody = v.strictObject(
  {
    username: v.pipe(
      v.string('must be a string'),
      v.minLength(1, 'must not be empty'),
      v.maxLength(128, 'must be at most 128 characters'),
      v.description('User name from `global.server.users`.'),
    ),
    password: v.pipe(
      v.string('must be a string'),
      v.minLength(1, 'must not be empty'),
      v.maxLength(1024, 'must be at most 1024 characters'),
    ),
  },
  'must be an object with exactly username and password',
);

export const sessionSchema = v.object({
  caller: v.object({ name: v.string(), scopes: readonlyArray(v.picklist(['read', 'deploy', 'admin'])) }),
  csrfToken: v.string(),
  expiresAt: v.string(),
});

export const authRoutes = {
  login: defineRoute({
    method: 'post',
    path: '/api/auth/login',
    summary: 'Dashboard login: sets the session cookie; answers the caller and the CSRF token',
    scope: null,
    body: loginBody,
    response: sessionSchema,
    errors: {
      '401': 'Wrong user name or password',
      '403': 'Cross-origin request',
      '429': 'Too many failed logins (Retry-After)',
    },
  }),
  logout: defineRoute({
    method: 'post',
    path: '/api/auth/logout',
    summary: 'End the dashboard session and clear its cookie',
    scope: null,
    session: true,
    response: v.object({ loggedOut: v.literal(true) }),
    errors: { '403': `Session without ${csrfHeader}, or cross-origin` },
  }),
  getSession: defineRoute({
    method: 'get',
    path: '/api/auth/session',
    summary: "The session's caller, CSRF token and expiry",
    scope: null,
    session: true,
    response: sessionSchema,
    errors: { '401': 'No session, or it has ended' },
  }),
} as const;
