// Quick start: a real local registry gets demo pushes, core's tag policies pick what each stage
// should run, and the chosen releases run by digest on the local Docker Engine.
// `node src/main.ts` keeps them running until Ctrl-C; `--once` cleans up and exits.
import { compileTagPolicy, fromRegistryWatcherPin, fromTagPattern } from '@docker-watcher/core';
import {
  appFixture,
  appPort,
  buildFixtureImages,
  dockerClient,
  ensureDockerEngine,
  pushImage,
  startRegistry,
  testkitLabels,
} from '@docker-watcher/testkit';

const once = process.argv.includes('--once');
const say = (line: string) => process.stdout.write(`${line}\n`);

const engine = await ensureDockerEngine();
const docker = dockerClient();
await buildFixtureImages(docker);
const registry = await startRegistry();
const repository = 'demo/web-app';
say(`registry: ${registry.url} (a real CNCF distribution registry on loopback)`);

// What CI would push: two dev builds, two releases and a release candidate.
const pushes = [
  ['v1', 'dev-101'],
  ['v2', 'dev-102'],
  ['v1', 'v1.0.0'],
  ['v2', 'v1.1.0'],
  ['unhealthy', 'v1.2.0-rc.1'],
] as const;
for (const [release, tag] of pushes) {
  const pushed = await pushImage(registry, { source: appFixture(release).ref, repository, tag });
  say(`pushed ${repository}:${tag} -> ${pushed.digest.slice(0, 19)}…`);
}

const { tags } = (await (await fetch(`${registry.url}/v2/${repository}/tags/list`)).json()) as {
  tags: string[];
};
const stages = {
  dev: compileTagPolicy(fromTagPattern('dev-*')),
  rel: compileTagPolicy(fromRegistryWatcherPin('')),
};

const running: string[] = [];
async function cleanUp() {
  await Promise.all(
    running.map((id) =>
      docker
        .getContainer(id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
  await registry.stop();
  await engine.stop();
}

for (const [stage, policy] of Object.entries(stages)) {
  const candidate = policy.select({ tags });
  if (!candidate) throw new Error(`no tag fits the ${stage} policy`);
  const head = await fetch(`${registry.url}/v2/${repository}/manifests/${candidate.tag}`, {
    method: 'HEAD',
    headers: {
      accept:
        'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json',
    },
  });
  const digest = head.headers.get('docker-content-digest') ?? '';
  // Deploy by digest: what runs is exactly what was chosen, whatever the tag points at later.
  const image = `${registry.host}/${repository}@${digest}`;
  await new Promise<void>((resolve, reject) =>
    docker.pull(image, {}, (error, stream) =>
      error || !stream
        ? reject(error)
        : docker.modem.followProgress(stream, (e) => (e ? reject(e) : resolve())),
    ),
  );
  const container = await docker.createContainer({
    Image: image,
    name: `dw-quickstart-${stage}-${process.pid}`,
    Labels: testkitLabels({ 'docker-watcher.stage': stage, 'docker-watcher.release': candidate.tag }),
    ExposedPorts: { [`${appPort}/tcp`]: {} },
    HostConfig: { PortBindings: { [`${appPort}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '' }] } },
  });
  running.push(container.id);
  await container.start();
  const port = (await container.inspect()).NetworkSettings.Ports[`${appPort}/tcp`]?.[0]?.HostPort;
  const url = `http://127.0.0.1:${port}`;
  let healthy = false;
  for (let attempt = 0; attempt < 50 && !healthy; attempt++) {
    healthy = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (!healthy) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const version = healthy ? (await (await fetch(`${url}/version`)).text()).trim() : 'unhealthy';
  say(
    `stage ${stage}: policy chose ${candidate.tag}, running ${digest.slice(0, 19)}… at ${url} (serves ${version})`,
  );
}

if (!once) {
  say('\nTry: curl <url>/version for each stage above. Ctrl-C stops and removes everything.');
  // Nothing else keeps Node running while it waits: hold the process open until a signal.
  const keepAlive = setInterval(() => {}, 60_000);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(keepAlive);
  say('\nstopping…');
}
await cleanUp();
say('done');
