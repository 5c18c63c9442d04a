// The web dashboard's static build (apps/dashboard), served at `/` from the API's own origin so the
// session cookie, CSRF token and scopes work unchanged.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { brotliCompressSync, gzipSync, constants as zlib } from 'node:zlib';
import type { Context, MiddlewareHandler } from 'hono';
import { errorBody } from './errors.ts';

/** SvelteKit's SPA fallback page (adapter-static `fallback`), answered for every page path. */
const fallbackPage = 'index.html';

/** Where the build is: beside the bundle in the published package, or the workspace's own build. */
export function defaultDashboardDir(): string | undefined {
  const here = import.meta.dirname;
  const candidates = [
    // dist/cli.js and dist/index.js of the package: the build is copied to dist/dashboard.
    join(here, 'dashboard'),
    // apps/server/src/http/dashboard.ts run from source: apps/dashboard/build.
    join(here, '../../../dashboard/build'),
  ];
  return candidates.find((dir) => existsSync(join(dir, fallbackPage)));
}

/**
 * Paths the API, probes, metrics and the registrywatcher routes own: never answered with the
 * dashboard's page, even when no route matches (an unknown `/api/...` stays a JSON 404).
 */
const reserved = /^\/(?:api|metrics|healthz|readyz|ping|repos|tags)(?:\/|$)/;

/**
 * The build's files live under `/_app/` or at the top (`/favicon.svg`); deeper paths are pages, whatever
 * they hold (`/projects/web.app` is a project's page).
 */
const isFilePath = (path: string) => path.startsWith('/_app/') || /^\/[^/]*\.[^/]*$/.test(path);

const types: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.woff2': 'font/woff2',
};

interface Asset {
  readonly type: string;
  readonly body: Uint8Array;
  readonly gzip?: Uint8Array;
  readonly brotli?: Uint8Array;
  readonly etag: string;
  readonly cacheControl: string;
}

// Content-hashed file names never change their content; everything else is revalidated each time.
const immutable = 'public, max-age=31536000, immutable';
const revalidate = 'no-cache';
const compressible = /^(?:text\/|application\/(?:json|manifest\+json)|image\/svg)/;

function loadAsset(dir: string, file: string): Asset {
  const body = readFileSync(join(dir, file));
  const type = types[extname(file)] ?? 'application/octet-stream';
  const shrink = compressible.test(type) && body.length > 512;
  return {
    type,
    body,
    ...(shrink
      ? {
          gzip: gzipSync(body, { level: 9 }),
          brotli: brotliCompressSync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 9 } }),
        }
      : {}),
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
    cacheControl: file.startsWith(`_app${sep}immutable${sep}`) ? immutable : revalidate,
  };
}

/** Every file of the build by its URL path (a Map: request paths never reach the file system). */
function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && statSync(path).size < 16 * 1024 * 1024) {
        const file = relative(dir, path);
        assets.set(`/${file.split(sep).join('/')}`, loadAsset(dir, file));
      }
    }
  };
  walk(dir);
  return assets;
}

// Loaded on first use and kept per folder (a config reload makes a new app, not a new build); a new
// build in the same folder (its page changed) is loaded again.
const builds = new Map<string, { readonly stamp: number; readonly assets: Map<string, Asset> }>();

function buildOf(dir: string): Map<string, Asset> | undefined {
  const page = join(dir, fallbackPage);
  if (!existsSync(page)) return undefined;
  const stamp = statSync(page).mtimeMs;
  const cached = builds.get(dir);
  if (cached?.stamp === stamp) return cached.assets;
  const assets = loadAssets(dir);
  builds.set(dir, { stamp, assets });
  return assets;
}

// The page itself, beyond its CSP meta tag (which cannot say these).
const pageHeaders = {
  'Content-Security-Policy': "frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
};

function answer(c: Context, asset: Asset, extra: Readonly<Record<string, string>> = {}): Response {
  const headers: Record<string, string> = {
    'Content-Type': asset.type,
    'Cache-Control': asset.cacheControl,
    ETag: asset.etag,
    'X-Content-Type-Options': 'nosniff',
    ...extra,
  };
  if (asset.gzip) headers.Vary = 'Accept-Encoding';
  if (c.req.header('if-none-match') === asset.etag) return new Response(null, { status: 304, headers });
  const accepted = c.req.header('accept-encoding') ?? '';
  let body = asset.body;
  if (asset.brotli && /\bbr\b/.test(accepted)) {
    body = asset.brotli;
    headers['Content-Encoding'] = 'br';
  } else if (asset.gzip && /\bgzip\b/.test(accepted)) {
    body = asset.gzip;
    headers['Content-Encoding'] = 'gzip';
  }
  headers['Content-Length'] = String(body.length);
  return new Response(body as Uint8Array<ArrayBuffer>, { status: 200, headers });
}

export interface DashboardOptions {
  /** The dashboard's build folder; `defaultDashboardDir()` when absent. */
  readonly dir?: string;
}

/**
 * `GET` (Hono answers `HEAD` from it) of the dashboard: its files by exact path, and its page for
 * every other page path (the client-side router shows it). Reserved paths and unknown files go on
 * to the app's 404. Without a build, page paths answer a 404 that says how to build it.
 */
export function dashboardHandler(options: DashboardOptions = {}): MiddlewareHandler {
  let dir = options.dir;
  return async (c, next) => {
    const path = c.req.path;
    if (reserved.test(path)) return next();
    // Looked for until found: a dashboard built after the server started is served without a restart.
    dir ??= defaultDashboardDir();
    const assets = dir === undefined ? undefined : buildOf(dir);
    const page = assets?.get(`/${fallbackPage}`);
    const asset = assets?.get(path);
    if (asset && path !== `/${fallbackPage}`) return answer(c, asset);
    // `/deploys/abc` is a page; `/_app/missing.js` is not (a script must never get HTML).
    if (isFilePath(path) && path !== `/${fallbackPage}`) return next();
    if (!page)
      return c.json(
        errorBody(
          'NOT_FOUND',
          'This server has no dashboard build: run `pnpm --filter @docker-watcher/dashboard build` (the published package and the Docker image include it)',
        ),
        404,
      );
    return answer(c, page, pageHeaders);
  };
}
