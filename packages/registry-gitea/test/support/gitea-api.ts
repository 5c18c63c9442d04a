import type { ServerResponse } from 'node:http';
import { type Loopback, type SeenRequest, sendJson, startLoopback } from '@docker-watcher/testkit';

/** A version as the fake stores it: what Gitea 1.26's `Package` object carries per version. */
export interface FakeVersion {
  readonly version: string;
  readonly createdAt: string;
}

export interface FakeGiteaOptions {
  /** `owner/name` -> versions, any order (the fake answers newest first, like Gitea). */
  readonly packages: Record<string, readonly FakeVersion[]>;
  /** When set, requests need `Authorization: token <token>` (or `Bearer`). */
  readonly token?: string;
  /** Gitea's `MAX_RESPONSE_ITEMS` (50 by default): larger `limit`s are capped to it. */
  readonly maxResponseItems?: number;
  /** Leave out `X-Total-Count`, as a proxy stripping headers would. */
  readonly omitTotal?: boolean;
}

const user = (login: string, id: number) => ({
  id,
  login,
  login_name: '',
  source_id: 0,
  full_name: '',
  email: `${login}@noreply.gitea.example`,
  avatar_url: `https://gitea.example/avatars/${id}`,
  html_url: `https://gitea.example/${login}`,
  language: '',
  is_admin: false,
  last_login: '0001-01-01T00:00:00Z',
  created: '2025-01-10T09:00:00Z',
  restricted: false,
  active: false,
  prohibit_login: false,
  location: '',
  website: '',
  description: '',
  visibility: 'public',
  followers_count: 0,
  following_count: 0,
  starred_repos_count: 0,
  username: login,
});

/**
 * Gitea's packages API as swagger.v1.json (1.26.3) describes it, for
 * `GET /api/v1/packages/{owner}/{type}/{name}`: one `Package` object per version, newest first,
 * `page` (1-based) and `limit` capped at `MAX_RESPONSE_ITEMS`, `X-Total-Count` and `Link` headers,
 * JSON errors `{ message, url }`.
 */
export function giteaApiHandler(options: FakeGiteaOptions) {
  const cap = options.maxResponseItems ?? 50;
  return (request: SeenRequest, response: ServerResponse, origin: string) => {
    const authorization = request.headers.authorization;
    if (options.token !== undefined) {
      if (authorization !== `token ${options.token}` && authorization !== `Bearer ${options.token}`) {
        sendJson(response, 401, { message: 'token is required', url: `${origin}/api/swagger` });
        return;
      }
    }
    const match = /^\/api\/v1\/packages\/([^/]+)\/container\/([^/?]+)$/.exec(request.url.pathname);
    const key = match ? `${decodeURIComponent(match[1] ?? '')}/${decodeURIComponent(match[2] ?? '')}` : '';
    const versions = options.packages[key];
    if (!match || !versions) {
      sendJson(response, 404, {
        errors: ['package does not exist'],
        message: "The target couldn't be found.",
        url: `${origin}/api/swagger`,
      });
      return;
    }
    const page = Math.max(1, Number(request.url.searchParams.get('page') ?? '1'));
    const limit = Math.min(cap, Math.max(1, Number(request.url.searchParams.get('limit') ?? '30')));
    const sorted = [...versions].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    const slice = sorted.slice((page - 1) * limit, page * limit);
    const [owner = '', name = ''] = key.split('/');
    const body = slice.map((item, index) => ({
      id: 1000 + (page - 1) * limit + index,
      owner: user(owner, 3),
      repository: null,
      creator: user('ci-bot', 1),
      type: 'container',
      name,
      version: item.version,
      html_url: `https://gitea.example/${owner}/-/packages/container/${name}/${item.version}`,
      created_at: item.createdAt,
    }));
    const last = Math.max(1, Math.ceil(sorted.length / limit));
    const link = (n: number, rel: string) =>
      `<${origin}${request.url.pathname}?limit=${limit}&page=${n}>; rel="${rel}"`;
    const links = [
      ...(page < last ? [link(page + 1, 'next'), link(last, 'last')] : []),
      ...(page > 1 ? [link(1, 'first'), link(page - 1, 'prev')] : []),
    ];
    sendJson(response, 200, body, {
      ...(options.omitTotal ? {} : { 'x-total-count': String(sorted.length) }),
      ...(links.length > 0 ? { link: links.join(',') } : {}),
    });
  };
}

export async function startFakeGitea(options: FakeGiteaOptions): Promise<Loopback> {
  let origin = '';
  const handler = giteaApiHandler(options);
  const loopback = await startLoopback((request, response) => handler(request, response, origin));
  origin = loopback.url;
  return loopback;
}
