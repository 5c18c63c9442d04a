import * as v from 'valibot';

const asUrl = (value: string): URL | undefined => (URL.canParse(value) ? new URL(value) : undefined);

const httpUrl = (description: string) =>
  v.pipe(
    v.string(),
    v.url('must be an absolute URL, e.g. https://ghcr.io'),
    v.check((value) => /^https?:$/.test(asUrl(value)?.protocol ?? ''), 'must be an http:// or https:// URL'),
    v.check(
      (value) => asUrl(value)?.username === '' && asUrl(value)?.password === '',
      'must not carry credentials: use the username and token options',
    ),
    v.check(
      (value) => asUrl(value)?.search === '' && asUrl(value)?.hash === '',
      'must not have a query or a fragment',
    ),
    v.description(description),
  );

const positive = (max: number, description: string, fallback: number) =>
  v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(max), v.description(description)),
    fallback,
  );

export const ghcrRegistryOptions = v.pipe(
  v.strictObject({
    registryUrl: v.optional(
      httpUrl(
        'The registry (`https://ghcr.io`). Its token endpoint is the realm its challenge names (`https://ghcr.io/token`); tests point this at a local registry and its token server.',
      ),
      'https://ghcr.io',
    ),
    apiUrl: v.optional(
      httpUrl('GitHub REST API base (`https://api.github.com`; GitHub Enterprise: `https://<host>/api/v3`).'),
      'https://api.github.com',
    ),
    username: v.optional(
      v.pipe(
        v.string(),
        v.minLength(1),
        v.description('GitHub user owning `token`; sent with it to the registry token endpoint.'),
      ),
    ),
    token: v.optional(
      v.pipe(
        v.string(),
        v.minLength(1),
        v.description(
          'Classic personal access token with `read:packages` (a secret: never logged, never in errors). Anonymous without it: public images only, and no packages API.',
        ),
      ),
    ),
    ownerType: v.optional(
      v.pipe(
        v.picklist(['auto', 'org', 'user']),
        v.description(
          'Whether package owners are organizations (`/orgs/…`) or users (`/users/…`) for the packages API; `auto` tries the organization path, then the user path, and remembers.',
        ),
      ),
      'auto',
    ),
    webhookSecret: v.optional(
      v.pipe(
        v.string(),
        v.minLength(1),
        v.description(
          'The secret of the `package` / `registry_package` webhook: enables `parseWebhook`, which then refuses deliveries without a valid `X-Hub-Signature-256`.',
        ),
      ),
    ),
    pageSize: positive(10_000, 'Tags asked for per page of the registry tags list (`n`).', 1000),
    apiPageSize: positive(100, 'Versions per page of the packages API (`per_page`, at most 100).', 100),
    maxPages: positive(100_000, 'Most pages followed for one listing; more is `BAD_RESPONSE`.', 500),
    timeoutMs: positive(
      3_600_000,
      'Time limit of one HTTP request, body included (`TIMEOUT` beyond it).',
      30_000,
    ),
  }),
  v.forward(
    v.check(
      (options) => (options.username === undefined) === (options.token === undefined),
      'username and token go together: set both or neither',
    ),
    // Not `token`: messages on secret paths are replaced by a generic one.
    ['username'],
  ),
);

/** Options of `createGhcrRegistry`, as written by users (defaults not yet applied). */
export type GhcrRegistryOptions = v.InferInput<typeof ghcrRegistryOptions>;
