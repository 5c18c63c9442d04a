import bcrypt from 'bcryptjs';
import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';
import { registryFixture } from './fixture-images.ts';
import { testkitLabels } from './labels.ts';
import { assertPortFree, freePort } from './ports.ts';
import { recordRegistryHost } from './test-run.ts';
import { startTokenServer, type TokenServer } from './token-server.ts';

// Ryuk (testcontainers' reaper) is an image we cannot pull here; the testkit labels and removes what it starts.
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';

export type RegistryAuthMode = 'anonymous' | 'basic' | 'token';

export interface RegistryNotificationEndpoint {
  name: string;
  url: string;
  headers?: Record<string, string>;
}

export interface StartRegistryOptions {
  auth?: RegistryAuthMode;
  /** Loopback port; a free one when absent. */
  port?: number;
  /** Credentials for basic and token modes. */
  users?: Record<string, string>;
  /** Token mode: lifetime of issued tokens. */
  tokenExpiresInSeconds?: number;
  /** Token mode: anonymous clients may pull. */
  anonymousPull?: boolean;
  /** Distribution's push notifications (webhooks). */
  notifications?: RegistryNotificationEndpoint[];
}

export interface LocalRegistry {
  auth: RegistryAuthMode;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `127.0.0.1:<port>`: the host part of image references. Docker treats loopback registries as insecure-allowed. */
  host: string;
  /** Valid credentials in basic and token modes. */
  credentials?: { username: string; password: string };
  /** The token server in token mode. */
  tokenServer?: TokenServer;
  /** Authorization header value the testkit itself uses for a scope (pushes, checks). */
  authorization(scopes: string[]): string | undefined;
  stop(): Promise<void>;
}

export const defaultUser = { username: 'watcher', password: 'fixture-password' };
export const tokenService = 'dw-testkit-registry';
const tokenIssuer = 'dw-testkit';

function configYaml(port: number, auth: string, notifications: RegistryNotificationEndpoint[]): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: info',
    'storage:',
    '  filesystem:',
    '    rootdirectory: /var/lib/registry',
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    auth,
  ];
  if (notifications.length > 0) {
    lines.push('notifications:', '  endpoints:');
    for (const endpoint of notifications) {
      lines.push(
        `    - name: ${endpoint.name}`,
        `      url: ${endpoint.url}`,
        '      timeout: 2s',
        '      threshold: 5',
        '      backoff: 1s',
      );
      const headers = Object.entries(endpoint.headers ?? {});
      if (headers.length > 0) {
        lines.push('      headers:');
        for (const [name, value] of headers) lines.push(`        ${name}: [${JSON.stringify(value)}]`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Starts Debian's distribution registry in a container (through testcontainers) on a loopback port,
 * in one of three auth modes. The container shares the host's network namespace so that the
 * registry, its token realm and notification endpoints are all plain loopback addresses.
 */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<LocalRegistry> {
  const auth = options.auth ?? 'anonymous';
  const port = options.port ?? (await freePort());
  if (options.port !== undefined) await assertPortFree(port, 'local registry');
  const users = options.users ?? { [defaultUser.username]: defaultUser.password };
  const [username, password] = Object.entries(users)[0] ?? [defaultUser.username, defaultUser.password];
  const files: Array<{ content: string; target: string }> = [];
  let authYaml = '';
  let tokenServer: TokenServer | undefined;

  if (auth === 'basic') {
    const htpasswd = Object.entries(users)
      .map(([user, secret]) => `${user}:${bcrypt.hashSync(secret, 5)}`)
      .join('\n');
    files.push({ content: `${htpasswd}\n`, target: '/auth/htpasswd' });
    authYaml = 'auth:\n  htpasswd:\n    realm: docker-watcher-testkit\n    path: /auth/htpasswd';
  } else if (auth === 'token') {
    tokenServer = await startTokenServer({
      users,
      service: tokenService,
      issuer: tokenIssuer,
      ...(options.tokenExpiresInSeconds === undefined
        ? {}
        : { expiresInSeconds: options.tokenExpiresInSeconds }),
      ...(options.anonymousPull === undefined ? {} : { anonymousPull: options.anonymousPull }),
    });
    files.push({ content: tokenServer.certificatePem, target: '/auth/cert.pem' });
    authYaml = [
      'auth:',
      '  token:',
      `    realm: ${tokenServer.realm}`,
      `    service: ${tokenService}`,
      `    issuer: ${tokenIssuer}`,
      '    rootcertbundle: /auth/cert.pem',
    ].join('\n');
  }
  files.push({
    content: configYaml(port, authYaml, options.notifications ?? []),
    target: '/etc/docker/registry/config.yml',
  });

  let container: StartedTestContainer;
  try {
    container = await new GenericContainer(registryFixture().ref)
      .withNetworkMode('host')
      .withLabels(testkitLabels({ 'docker-watcher.testkit.role': 'registry' }))
      .withCopyContentToContainer(files)
      .withWaitStrategy(Wait.forLogMessage(/listening on/))
      .withStartupTimeout(30_000)
      .start();
  } catch (error) {
    await tokenServer?.close();
    throw error;
  }

  // Images pulled from or pushed to it are named after it: the run removes them at its end.
  recordRegistryHost(`127.0.0.1:${port}`);
  const basic = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  let stopping: Promise<void> | undefined;
  return {
    auth,
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    ...(auth === 'anonymous' ? {} : { credentials: { username, password } }),
    ...(tokenServer ? { tokenServer } : {}),
    authorization: (scopes) => {
      if (auth === 'basic') return basic;
      if (auth === 'token' && tokenServer) return `Bearer ${tokenServer.issue(username, scopes)}`;
      return undefined;
    },
    stop: () => {
      stopping ??= (async () => {
        await container.stop({ remove: true, removeVolumes: true, timeout: 1_000 });
        await tokenServer?.close();
      })();
      return stopping;
    },
  };
}
