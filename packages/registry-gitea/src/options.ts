import * as v from 'valibot';

const asUrl = (value: string): URL | undefined => (URL.canParse(value) ? new URL(value) : undefined);

const httpUrl = (description: string) =>
  v.pipe(
    v.string(),
    v.url('must be an absolute URL, e.g. https://git.example.com'),
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

export const giteaRegistryOptions = v.strictObject({
  url: httpUrl(
    'Base URL of the Gitea or Forgejo instance (e.g. `https://git.example.com`): the packages API is under `/api/v1`, the registry under `/v2/`.',
  ),
  registryUrl: v.optional(
    httpUrl(
      'Where the OCI registry answers, when not at `url` (a separate host in front of Gitea; tests point it at a local registry). Its token endpoint is whatever realm its challenge names (`/v2/token` on Gitea).',
    ),
  ),
  username: v.optional(
    v.pipe(
      v.string(),
      v.minLength(1),
      v.description(
        "Owner of the token, sent with it to the registry's token endpoint. Gitea identifies a token by itself, so any name works; `docker-watcher` when omitted.",
      ),
    ),
  ),
  token: v.optional(
    v.pipe(
      v.string(),
      v.minLength(1),
      v.description(
        'Access token with the `read:package` scope (a secret: never logged, never in errors). Anonymous without it: public packages only.',
      ),
    ),
  ),
  webhookSecret: v.optional(
    v.pipe(
      v.string(),
      v.minLength(1),
      v.description(
        'The secret of the package webhook: enables `parseWebhook`, which then refuses deliveries without a valid signature.',
      ),
    ),
  ),
  pageSize: positive(10_000, 'Tags asked for per page of the registry tags list (`n`).', 1000),
  apiPageSize: positive(
    1000,
    'Versions asked for per page of the packages API (`limit`; Gitea caps it at `MAX_RESPONSE_ITEMS`, 50 by default).',
    50,
  ),
  maxPages: positive(100_000, 'Most pages followed for one listing; more is `BAD_RESPONSE`.', 500),
  timeoutMs: positive(
    3_600_000,
    'Time limit of one HTTP request, body included (`TIMEOUT` beyond it).',
    30_000,
  ),
});

/** Options of `createGiteaRegistry`, as written by users (defaults not yet applied). */
export type GiteaRegistryOptions = v.InferInput<typeof giteaRegistryOptions>;
