import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { ensureDebianPackage } from './debian-packages.ts';
import { testkitLabel, testkitLabels } from './labels.ts';
import { TestkitError } from './testkit-error.ts';

/** One image to build from a scratch base: its Dockerfile and the files of its context. */
export interface FixtureImage {
  /** `repository:tag`, e.g. `dw-testkit/app:v1`. */
  ref: string;
  dockerfile: string;
  /** Context path -> content, or `{ from }` to copy a file from the host. */
  files: Record<string, string | { from: string }>;
  /**
   * One of the testkit's own fixtures, kept across runs as a cache (one image per ref, rebuilt when
   * its content changes). Any other build belongs to the run that made it and is removed at its end.
   */
  cache?: boolean;
}

export const appImage = 'dw-testkit/app';
export const registryImage = 'dw-testkit/registry';
export const appPort = 8080;

/** Releases of the fixture web app, each behaving differently at start and under its health check. */
export const appReleases = ['v1', 'v2', 'unhealthy', 'crash', 'slow'] as const;
export type AppRelease = (typeof appReleases)[number];

const busybox = '/bin/busybox';
const serve = `/bin/busybox httpd -f -p ${appPort} -h /www`;
// busybox httpd as PID 1 ignores SIGTERM: the shell traps it so `docker stop` is quick.
const entry = (script: string) =>
  JSON.stringify(['/bin/busybox', 'sh', '-c', `trap 'exit 0' TERM INT; ${script}`]);

function appDockerfile(release: AppRelease): string {
  const scripts: Record<AppRelease, string> = {
    v1: `${serve} & wait`,
    v2: `${serve} & wait`,
    unhealthy: `${serve} & wait`,
    crash: `echo 'fixture app: failing at start on purpose' >&2; exit 3`,
    slow: `/bin/busybox sleep \${SLOW_START_SECONDS:-4} & wait; ${serve} & wait`,
  };
  return [
    'FROM scratch',
    'COPY busybox /bin/busybox',
    'COPY www /www',
    `EXPOSE ${appPort}`,
    `LABEL org.opencontainers.image.title="docker-watcher fixture app" docker-watcher.fixture.release="${release}"`,
    `HEALTHCHECK --interval=1s --timeout=1s --start-period=1s --retries=3 CMD ["/bin/busybox","wget","-q","-O","/dev/null","http://127.0.0.1:${appPort}/health"]`,
    `ENTRYPOINT ${entry(scripts[release])}`,
    '',
  ].join('\n');
}

function appFiles(release: AppRelease): FixtureImage['files'] {
  const files: FixtureImage['files'] = {
    busybox: { from: busybox },
    'www/version': `${release}\n`,
    'www/index.html': `<!doctype html><title>fixture ${release}</title><h1>docker-watcher fixture app ${release}</h1>\n`,
  };
  // The unhealthy release serves everything but /health, which answers 404.
  if (release !== 'unhealthy') files['www/health'] = 'ok\n';
  return files;
}

export function appFixture(release: AppRelease): FixtureImage {
  return {
    ref: `${appImage}:${release}`,
    dockerfile: appDockerfile(release),
    files: appFiles(release),
    cache: true,
  };
}

const registryBinary = '/usr/bin/docker-registry';
const registryConfig = `version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
http:
  addr: :5000
`;

/** CNCF distribution from Debian's docker-registry, with the two libraries it links. */
export function registryFixture(): FixtureImage {
  return {
    ref: `${registryImage}:2.8`,
    dockerfile: [
      'FROM scratch',
      'COPY registry /bin/registry',
      'COPY libc.so.6 /lib/x86_64-linux-gnu/libc.so.6',
      'COPY ld-linux-x86-64.so.2 /lib64/ld-linux-x86-64.so.2',
      'COPY config.yml /etc/docker/registry/config.yml',
      'COPY tmp /tmp',
      'EXPOSE 5000',
      'ENTRYPOINT ["/bin/registry", "serve", "/etc/docker/registry/config.yml"]',
      '',
    ].join('\n'),
    files: {
      registry: { from: registryBinary },
      'libc.so.6': { from: '/lib/x86_64-linux-gnu/libc.so.6' },
      'ld-linux-x86-64.so.2': { from: '/lib64/ld-linux-x86-64.so.2' },
      'config.yml': registryConfig,
      'tmp/.keep': '',
    },
    cache: true,
  };
}

/** Every fixture image the tests use. */
export function allFixtures(): FixtureImage[] {
  return [...appReleases.map(appFixture), registryFixture()];
}

/** The Debian packages the fixtures are made of. */
export async function ensureFixtureSources(): Promise<void> {
  await ensureDebianPackage('busybox-static', busybox);
  await ensureDebianPackage('docker-registry', registryBinary);
}

function sourceFile(image: FixtureImage, path: string): string {
  if (existsSync(path)) return path;
  throw new TestkitError(
    `Fixture image ${image.ref} needs ${path}, which is missing.`,
    'Install the Debian package that provides it (busybox-static, docker-registry).',
  );
}

/** A hash of everything that goes into the image: the same hash means the same image. */
export function contentHash(image: FixtureImage): string {
  // The salt changes when how images are built changes (labels, build options), not their content.
  const hash = createHash('sha256').update('recipe-2\0').update(image.dockerfile);
  for (const [path, content] of Object.entries(image.files).sort(([a], [b]) => a.localeCompare(b))) {
    hash.update(`\0${path}\0`);
    hash.update(typeof content === 'string' ? content : readFileSync(sourceFile(image, content.from)));
  }
  return hash.digest('hex').slice(0, 24);
}

const hashLabel = `${testkitLabel}.content-hash`;
/** Marks the images of the fixture cache, the only images a test run leaves on the engine. */
export const cacheLabel = `${testkitLabel}.cache`;

/** Whether a reference names an image of the fixture cache (by its ref; the label marks the image). */
export function isCachedFixtureRef(reference: string): boolean {
  return (
    allFixtures().some((fixture) => fixture.ref === reference) || /^dw-testkit\/node:\d+$/.test(reference)
  );
}

/**
 * Builds the image unless an image with the same content hash exists already.
 * Returns whether it built.
 */
export async function buildFixtureImage(docker: Docker, image: FixtureImage): Promise<boolean> {
  const hash = contentHash(image);
  let previous: string | undefined;
  try {
    const existing = await docker.getImage(image.ref).inspect();
    if (existing.Config?.Labels?.[hashLabel] === hash) return false;
    previous = existing.Id;
  } catch {
    // not built yet
  }
  const context = mkdtempSync(join(tmpdir(), 'dw-fixture-'));
  try {
    writeFileSync(join(context, 'Dockerfile'), image.dockerfile);
    for (const [path, content] of Object.entries(image.files)) {
      const target = join(context, path);
      mkdirSync(join(target, '..'), { recursive: true });
      if (typeof content === 'string') writeFileSync(target, content);
      else copyFileSync(sourceFile(image, content.from), target);
    }
    const stream = await docker.buildImage(
      { context, src: ['Dockerfile', ...Object.keys(image.files)] },
      {
        t: image.ref,
        labels: { [hashLabel]: hash, ...(image.cache ? { [cacheLabel]: 'fixture' } : testkitLabels()) },
        rm: true,
        forcerm: true,
      },
    );
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (error: Error | null) => (error ? reject(error) : resolve()),
        (event: { error?: string; errorDetail?: { message?: string } }) => {
          if (event.error) reject(new Error(event.errorDetail?.message ?? event.error));
        },
      );
    });
  } catch (error) {
    if (error instanceof TestkitError) throw error;
    throw new TestkitError(
      `Building fixture image ${image.ref} failed: ${(error as Error).message}`,
      'Check the Docker Engine (docker info) and that the fixture sources exist (/bin/busybox from busybox-static, /usr/bin/docker-registry from docker-registry).',
      { cause: error },
    );
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  // The cache stays one image per ref: the image this one replaces goes, unless something uses it.
  if (previous)
    await docker
      .getImage(previous)
      .remove({ noprune: false })
      .catch(() => undefined);
  return true;
}

/** Builds all fixture images that changed; returns the refs that were built. */
export async function buildFixtureImages(
  docker: Docker,
  images: FixtureImage[] = allFixtures(),
): Promise<string[]> {
  await ensureFixtureSources();
  const built: string[] = [];
  for (const image of images) {
    if (await buildFixtureImage(docker, image)) built.push(image.ref);
  }
  return built;
}
