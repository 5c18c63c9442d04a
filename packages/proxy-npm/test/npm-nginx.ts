import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The nginx the fake drives in its real mode: the testkit's `startNginx()` fits. */
export interface NpmNginx {
  /** The loopback port hosts listen on (NPM's `listen 80`). */
  readonly httpPort: number;
  /** NPM's `/data/nginx/proxy_host`: `<id>.conf` per host, included by the main config. */
  readonly hostsDir: string;
  test(): Promise<{ readonly ok: boolean; readonly output: string }>;
  reload(): Promise<void>;
}

/** The fields of a proxy host its config is rendered from. */
export interface RenderedHost {
  readonly id: number;
  readonly domain_names: readonly string[];
  readonly forward_scheme: string;
  readonly forward_host: string;
  readonly forward_port: number;
  readonly allow_websocket_upgrade: boolean;
  readonly advanced_config: string;
}

const websocket = `    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $http_connection;
    proxy_http_version 1.1;
`;

/**
 * A proxy host's config in the form Nginx Proxy Manager 2.x writes it: `backend/templates/proxy_host.conf`
 * and its `_listen.conf` of NginxProxyManager/nginx-proxy-manager (the upstream in `$forward_scheme`,
 * `$server` and `$port`, the `location /` including `conf.d/include/proxy.conf`). What the fake's hosts
 * never use is left out: certificates and TLS listeners, caching, exploit blocking, HSTS, forced SSL,
 * access lists, custom locations. `listen 80` is the testkit's loopback port; log paths are relative to
 * nginx's prefix instead of `/data/logs`.
 */
export function renderProxyHost(host: RenderedHost, port: number): string {
  const names = host.domain_names.join(', ');
  // NPM skips its default location when the advanced config has its own `location /`.
  const ownRoot = /^(?:.*;)?\s*?location\s*?\/\s*?{/im.test(host.advanced_config);
  return `# ------------------------------------------------------------
# ${names}
# ------------------------------------------------------------

server {
  set $forward_scheme ${host.forward_scheme};
  set $server         "${host.forward_host}";
  set $port           ${host.forward_port};

  listen 127.0.0.1:${port};
  server_name ${host.domain_names.join(' ')};

${host.allow_websocket_upgrade ? websocket : ''}
  access_log logs/proxy-host-${host.id}_access.log proxy;
  error_log logs/proxy-host-${host.id}_error.log warn;

${host.advanced_config}

${
  ownRoot
    ? ''
    : `  location / {
${host.allow_websocket_upgrade ? websocket : ''}
    # Proxy!
    include conf.d/include/proxy.conf;
  }
`
}}
`;
}

/** NPM's `internalNginx.reload`: test, and signal the master only when the whole config passes. */
async function reload(nginx: NpmNginx): Promise<void> {
  if ((await nginx.test()).ok) await nginx.reload();
}

const configFile = (nginx: NpmNginx, id: number) => join(nginx.hostsDir, `${id}.conf`);

/** Whether nginx's whole config passes `nginx -t` now (NPM checks it before it touches a host). */
export async function nginxHealthy(nginx: NpmNginx): Promise<boolean> {
  return (await nginx.test()).ok;
}

/**
 * NPM's `internalNginx.configure` for an enabled host: drop the old file (and its `.err`), write the
 * new one, `nginx -t` (a failing file is renamed to `.err`), then reload. Returns `nginx -t`'s text
 * when the host's config fails.
 */
export async function configureHost(nginx: NpmNginx, host: RenderedHost): Promise<string | undefined> {
  const file = configFile(nginx, host.id);
  rmSync(file, { force: true });
  rmSync(`${file}.err`, { force: true });
  writeFileSync(file, renderProxyHost(host, nginx.httpPort));
  const check = await nginx.test();
  if (!check.ok) renameSync(file, `${file}.err`);
  await reload(nginx);
  return check.ok ? undefined : check.output || 'nginx -t failed';
}

/** NPM's delete and disable: the host's files go, then a reload. */
export async function removeHostConfig(nginx: NpmNginx, id: number): Promise<void> {
  const file = configFile(nginx, id);
  rmSync(file, { force: true });
  rmSync(`${file}.err`, { force: true });
  await reload(nginx);
}
