import * as v from 'valibot';

const httpUrl = v.pipe(
  v.string(),
  v.url('Expected a URL'),
  v.check((text) => /^https?:\/\//i.test(text), 'Expected an http:// or https:// URL'),
);

const milliseconds = v.pipe(v.number(), v.integer(), v.minValue(0));

export const caddyProxyOptions = v.strictObject({
  adminUrl: v.optional(
    v.pipe(
      httpUrl,
      v.description(
        "Caddy's admin API. Caddy checks the Host header against its admin origins: use the address it listens on.",
      ),
    ),
    'http://127.0.0.1:2019',
  ),
  adminSocket: v.optional(
    v.pipe(
      v.string(),
      v.startsWith('/', 'Expected an absolute path'),
      v.examples(['/run/caddy/admin.sock']),
      v.description(
        'Unix socket of Caddy\'s admin API (`admin.listen: "unix//run/caddy/admin.sock"`), instead of `adminUrl`: file permissions guard it, not an origin check.',
      ),
    ),
  ),
  server: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[^/\s]+$/, 'Expected a server name without slashes or spaces'),
      v.description(
        'Name of the server in `apps.http.servers` that gets the routes; a Caddyfile names its first server `srv0`.',
      ),
    ),
    'srv0',
  ),
  tls: v.optional(
    v.pipe(
      v.picklist(['off', 'auto']),
      v.description(
        "`auto`: Caddy's automatic HTTPS manages each route's certificate (the server must not disable it). `off`: plain HTTP; when the server has automatic HTTPS on, the host is added to its `automatic_https.skip`.",
      ),
    ),
    'auto',
  ),
  verify: v.optional(
    v.pipe(
      v.boolean(),
      v.description(
        "After each change, request the host through Caddy's listener until the answer comes from the new upstream; on failure restore the previous route. Gives the `verifiedSwitch` capability.",
      ),
    ),
    true,
  ),
  verifyUrl: v.optional(
    v.pipe(
      httpUrl,
      v.description(
        "Base URL of Caddy's listener for verification requests; derived from the server's first `listen` address when absent (wildcard hosts through 127.0.0.1).",
      ),
    ),
  ),
  verifyPath: v.optional(
    v.pipe(
      v.string(),
      v.startsWith('/', 'Expected a path starting with /'),
      v.description(
        'Path requested to verify a switch; any answer from the upstream counts, whatever its status.',
      ),
    ),
    '/',
  ),
  verifyTimeoutMs: v.optional(
    v.pipe(milliseconds, v.description('How long a switch may take to show up before it is rolled back.')),
    10_000,
  ),
  certificateTimeoutMs: v.optional(
    v.pipe(
      milliseconds,
      v.description(
        "With `tls: 'auto'`, how long the verification of a new host waits for its first certificate (nothing served before, so nothing is at stake while waiting).",
      ),
    ),
    120_000,
  ),
  timeoutMs: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1),
      v.description('Timeout of one admin API request (a config load included).'),
    ),
    10_000,
  ),
});

export type CaddyProxyOptions = v.InferInput<typeof caddyProxyOptions>;

/** The admin API has no credentials in this adapter: nothing to redact. */
export const caddyProxySecrets: readonly string[] = [];
