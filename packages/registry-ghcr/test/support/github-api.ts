import type { Loopback } from '@docker-watcher/testkit';
import { sendJson, startLoopback } from '@docker-watcher/testkit';

/** A version as the fake stores it. */
export interface FakeVersion {
  readonly digest: string;
  readonly tags: readonly string[];
  readonly createdAt: string;
}

export interface FakeGitHubOptions {
  /** Owner login -> its kind and its container packages (`name` may hold `/`), newest version first. */
  readonly owners: Record<string, { type: 'org' | 'user'; packages: Record<string, readonly FakeVersion[]> }>;
  /** When set, requests need `Authorization: Bearer <token>`. */
  readonly token?: string;
}

/**
 * GitHub's REST packages API as packages.openapi.json (@octokit/openapi 23.0.2) describes
 * `GET /orgs/{org}/packages/{package_type}/{package_name}/versions` and `/users/{username}/…`:
 * `package-version` objects, `per_page` (max 100) and `page`, `Link` headers with absolute URLs,
 * errors `{ message, documentation_url, status }`.
 */
export async function startFakeGitHub(options: FakeGitHubOptions): Promise<Loopback> {
  let origin = '';
  const server = await startLoopback((request, response) => {
    if (options.token !== undefined && request.headers.authorization !== `Bearer ${options.token}`) {
      sendJson(response, 401, {
        message: 'Bad credentials',
        documentation_url: 'https://docs.github.com/rest',
        status: '401',
      });
      return;
    }
    const match = /^\/(orgs|users)\/([^/]+)\/packages\/container\/([^/]+)\/versions$/.exec(
      request.url.pathname,
    );
    const owner = match ? options.owners[decodeURIComponent(match[2] ?? '')] : undefined;
    const name = decodeURIComponent(match?.[3] ?? '');
    const versions =
      owner && (owner.type === 'org') === (match?.[1] === 'orgs') ? owner.packages[name] : undefined;
    if (!versions) {
      sendJson(response, 404, {
        message: 'Package not found.',
        documentation_url: 'https://docs.github.com/rest/packages/packages',
        status: '404',
      });
      return;
    }
    const perPage = Math.min(100, Number(request.url.searchParams.get('per_page') ?? '30'));
    const page = Math.max(1, Number(request.url.searchParams.get('page') ?? '1'));
    const slice = versions.slice((page - 1) * perPage, page * perPage);
    const ownerName = match?.[2] ?? '';
    const body = slice.map((version, index) => {
      const id = 786000 + (page - 1) * perPage + index;
      return {
        id,
        name: version.digest,
        url: `${origin}/${match?.[1]}/${ownerName}/packages/container/${match?.[3]}/versions/${id}`,
        package_html_url: `https://github.com/orgs/${ownerName}/packages/container/package/${name}`,
        html_url: `https://github.com/orgs/${ownerName}/packages/container/${name}/${id}`,
        license: 'MIT',
        created_at: version.createdAt,
        updated_at: version.createdAt,
        metadata: { package_type: 'container', container: { tags: [...version.tags] } },
      };
    });
    const last = Math.max(1, Math.ceil(versions.length / perPage));
    const link = (n: number, rel: string) => {
      const url = new URL(request.url.pathname, origin);
      url.searchParams.set('per_page', String(perPage));
      url.searchParams.set('state', 'active');
      url.searchParams.set('page', String(n));
      return `<${url.href}>; rel="${rel}"`;
    };
    const links = [
      ...(page < last ? [link(page + 1, 'next'), link(last, 'last')] : []),
      ...(page > 1 ? [link(1, 'first'), link(page - 1, 'prev')] : []),
    ];
    sendJson(response, 200, body, links.length > 0 ? { link: links.join(', ') } : {});
  });
  origin = server.url;
  return server;
}
