import * as v from 'valibot';

const keepUnlessSet = (text: string) =>
  v.optional(v.pipe(v.boolean(), v.description(`${text} Unset: kept as it is.`)));

export const npmProxyOptions = v.strictObject({
  url: v.pipe(
    v.string(),
    v.url('Expected a URL'),
    v.check((text) => /^https?:\/\//i.test(text), 'Expected an http:// or https:// URL'),
    v.description(
      "Nginx Proxy Manager's admin address, e.g. `http://npm:81` (`/api` is added when missing).",
    ),
  ),
  email: v.pipe(
    v.string(),
    v.minLength(1, 'Expected the email of the NPM user'),
    v.description('Email of the NPM user Docker Watcher logs in as (a dedicated user without 2FA).'),
  ),
  password: v.pipe(
    v.string(),
    v.minLength(1, 'Expected a non-empty password'),
    v.description("That user's password; from an environment variable (`password_env`)."),
  ),
  certificate: v.optional(
    v.pipe(
      v.union([v.picklist(['keep', 'match']), v.pipe(v.number(), v.integer(), v.minValue(1))]),
      v.description(
        '`keep`: leave the certificate of an existing host alone (new hosts get none). A number: use the certificate with that id. `match`: use the certificate in NPM that covers the host (exact name before wildcard, then the latest expiry), else keep.',
      ),
    ),
    'keep',
  ),
  sslForced: keepUnlessSet('Redirect HTTP to HTTPS (`ssl_forced`).'),
  http2Support: keepUnlessSet('HTTP/2 (`http2_support`).'),
  hstsEnabled: keepUnlessSet('HSTS (`hsts_enabled`).'),
  hstsSubdomains: keepUnlessSet('HSTS for subdomains (`hsts_subdomains`).'),
  allowWebsocketUpgrade: keepUnlessSet('Allow WebSocket upgrades on all paths (`allow_websocket_upgrade`).'),
  blockExploits: keepUnlessSet("NPM's common-exploit blocking (`block_exploits`)."),
  accessListId: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(0),
      v.description('Access list of the host (`access_list_id`, 0 = none). Unset: kept as it is.'),
    ),
  ),
  advancedConfig: v.optional(
    v.pipe(
      v.string(),
      v.description(
        "nginx directives for the host (`advanced_config`), below Docker Watcher's marker line. Unset: kept as it is.",
      ),
    ),
  ),
  adopt: v.optional(
    v.pipe(
      v.boolean(),
      v.description(
        'Take over proxy hosts Docker Watcher did not create (it marks them as its own from then on). Otherwise such a host is a CONFLICT.',
      ),
    ),
    false,
  ),
  settleMs: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(0),
      v.description(
        "Pause after a successful change before ensureRoute returns: NPM answers before nginx's reload is live (about 0.3 s).",
      ),
    ),
    1_000,
  ),
  timeoutMs: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(1), v.description('Timeout of one API request.')),
    10_000,
  ),
});

export type NpmProxyOptions = v.InferInput<typeof npmProxyOptions>;

/** Option names whose values are never echoed in errors or logs. */
export const npmProxySecrets: readonly string[] = ['password'];
