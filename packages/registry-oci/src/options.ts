import * as v from 'valibot';

const pathComponent = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;

const asUrl = (value: string): URL | undefined => (URL.canParse(value) ? new URL(value) : undefined);

const registryUrl = v.pipe(
  v.string(),
  v.url('must be an absolute URL, e.g. https://registry.example.com'),
  v.check((value) => /^https?:$/.test(asUrl(value)?.protocol ?? ''), 'must be an http:// or https:// URL'),
  v.check(
    (value) => asUrl(value)?.username === '' && asUrl(value)?.password === '',
    'must not carry credentials: use the username and password options',
  ),
  v.check(
    (value) => asUrl(value)?.search === '' && asUrl(value)?.hash === '',
    'must not have a query or a fragment',
  ),
  v.description(
    'Base URL of the registry, without `/v2/` (e.g. `https://registry.example.com`; Docker Hub: `https://registry-1.docker.io`).',
  ),
);

export const ociRegistryOptions = v.pipe(
  v.strictObject({
    url: registryUrl,
    username: v.optional(
      v.pipe(
        v.string(),
        v.minLength(1),
        v.description(
          'User for Basic auth, or for the token server of a Bearer challenge. Anonymous without it.',
        ),
      ),
    ),
    password: v.optional(
      v.pipe(
        v.string(),
        v.minLength(1),
        v.description('Password or access token of `username` (a secret: never logged, never in errors).'),
      ),
    ),
    defaultNamespace: v.optional(
      v.pipe(
        v.string(),
        v.regex(pathComponent, 'must be one lower-case path component'),
        v.description(
          'Namespace put in front of repository names without a slash (Docker Hub: `library`, so `nginx` means `library/nginx`).',
        ),
      ),
    ),
    platform: v.optional(
      v.pipe(
        v.strictObject({
          os: v.pipe(v.string(), v.minLength(1), v.description('e.g. `linux`')),
          architecture: v.pipe(v.string(), v.minLength(1), v.description('e.g. `amd64`, `arm64`')),
          variant: v.optional(v.pipe(v.string(), v.minLength(1), v.description('e.g. `v8` for arm64'))),
        }),
        v.description(
          'Platform whose manifest `readImageConfig` reads from a multi-platform index, unless the call names one. Without it, an index with several platforms needs the call to name one.',
        ),
      ),
    ),
    pageSize: v.optional(
      v.pipe(
        v.number(),
        v.integer(),
        v.minValue(1),
        v.maxValue(10_000),
        v.description('Tags asked for per page (`n`): large, so that a small repository costs one request.'),
      ),
      1000,
    ),
    maxPages: v.optional(
      v.pipe(
        v.number(),
        v.integer(),
        v.minValue(1),
        v.maxValue(100_000),
        v.description(
          'Most tag pages followed for one listing; a registry that links further is answering wrongly (`BAD_RESPONSE`).',
        ),
      ),
      500,
    ),
    timeoutMs: v.optional(
      v.pipe(
        v.number(),
        v.integer(),
        v.minValue(1),
        v.description('Time limit of one HTTP request, body included (`TIMEOUT` beyond it).'),
      ),
      30_000,
    ),
    webhook: v.optional(
      v.pipe(
        v.strictObject({
          header: v.optional(
            v.pipe(
              v.string(),
              v.regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, 'must be an HTTP header name'),
              v.toLowerCase(),
              v.description(
                'Header the registry sends the shared secret in (`notifications.endpoints[].headers`).',
              ),
            ),
            'authorization',
          ),
          secret: v.pipe(
            v.string(),
            v.minLength(1),
            v.description('The shared secret; the header carries it as is or as `Bearer <secret>`.'),
          ),
        }),
        v.description(
          'Enables `parseWebhook` for distribution notifications: requests must carry the secret in the header.',
        ),
      ),
    ),
  }),
  v.forward(
    v.check(
      (options) => (options.username === undefined) === (options.password === undefined),
      'username and password go together: set both or neither',
    ),
    // Not `password`: messages on secret paths are replaced by a generic one.
    ['username'],
  ),
);

/** Options of `createOciRegistry`, as written by users (defaults not yet applied). */
export type OciRegistryOptions = v.InferInput<typeof ociRegistryOptions>;

/** Docker Hub's registry endpoint (the `docker.io` of image references). */
export const dockerHubUrl = 'https://registry-1.docker.io';

/**
 * Options for Docker Hub: its registry endpoint and the `library/` namespace of official images,
 * so `nginx` lists `library/nginx`. Tokens come from `auth.docker.io` through the usual challenge;
 * with `username` and a personal access token as `password`, pulls count against that account.
 */
export function dockerHubRegistry(options: Omit<OciRegistryOptions, 'url'> = {}): OciRegistryOptions {
  return { url: dockerHubUrl, defaultNamespace: 'library', ...options };
}
