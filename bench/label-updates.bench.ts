// Label mode under load: a container started by hand with `docker-watcher.enable=true` is updated in
// place 20 times in a row (v1 and v2 alternating, by digest from a local registry, on the real Docker
// Engine) through core's `runDeploy` with the in-place target, while a client asks it for its version:
//
// - behind Caddy (the user's, retrying a failed upstream for up to 30 s), the app finishing its requests in
//   flight when stopped: failed requests, target 0; and the same with the fixture app as it is, which
//   stops at once on SIGTERM, for contrast;
// - side by side: the app (the one that stops at once) with no host port, reached by its alias on the
//   network through Caddy running as a container there, as in a compose file: the new container starts
//   beside the old one and takes its alias once healthy; failed requests, target 0; and once more with
//   Caddy's dial_timeout at 250 ms, which shortens the wait for an address in transition;
// - on a fixed host port, asked directly: the downtime of each update (last answer of the old release to
//   first answer of the new one), beside its floor measured in the same run: the same container replaced
//   by hand with the Engine API calls of `docker stop` + `docker rm` + `docker run` (no pull, no gate).
//
//   node --conditions=@docker-watcher/source bench/label-updates.bench.ts           prints a markdown report
//   node --conditions=@docker-watcher/source bench/label-updates.bench.ts --check   also exits 1 when a request
//                                                                                    through Caddy failed
//   … --updates 4                                                                    a quick look
//
// Starts (and removes again) what it needs: a Docker Engine when none answers, the fixture images, a local
// registry, Caddy. Node runs this file by type stripping: erasable TypeScript only.
import { request } from 'node:http';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import {
  createEventBus,
  createMemoryStateStore,
  defaultHealthCheck,
  type Release,
} from '@docker-watcher/core';
import { runDeploy } from '@docker-watcher/core/testing';
import { createAdoptedContainerTarget } from '@docker-watcher/target-docker';
import {
  appFixture,
  appPort,
  buildFixtureImage,
  buildFixtureImages,
  dockerClient,
  ensureDockerEngine,
  type FixtureImage,
  freePort,
  pushImage,
  startCaddy,
  startRegistry,
  testkitLabels,
} from '@docker-watcher/testkit';
import { quantile } from './_quantile.ts';
import { removeDeployed } from './_remove-deployed.ts';

const { values: args } = parseArgs({
  options: {
    check: { type: 'boolean', default: false },
    updates: { type: 'string', default: '20' },
    // Pause between two requests of the one client: the resolution of the downtime figures.
    'pause-ms': { type: 'string', default: '10' },
    'max-requests': { type: 'string', default: '200000' },
  },
});
const updateCount = Number(args.updates);
const pauseMs = Number(args['pause-ms']);
const maxRequests = Number(args['max-requests']);

const benchLabel = 'docker-watcher-bench.run';
const runId = `label-updates-${process.pid}`;
const network = `dw-bench-lu-${process.pid}`;
const repository = 'bench/label-updates';
const health = { ...defaultHealthCheck, intervalMs: 200 };
/** Caddy's `dial_timeout` in the second side-by-side row. */
const shortDial = '250ms';
const sideBySideShortDial = `side by side, behind Caddy with dial_timeout ${shortDial}, app cut at stop`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Waits (bounded) until `done()`. */
async function until(done: () => boolean, what = 'first answer') {
  const deadline = performance.now() + 60_000;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`no ${what} within 60 s`);
    await sleep(20);
  }
}

interface Answer {
  readonly sent: number;
  readonly ended: number;
  /** The version answered; undefined when the request failed. */
  readonly version?: string;
  /** Why it failed: the status, or the error. */
  readonly failure?: string;
}

function once(port: number, timeoutMs: number): Promise<Answer> {
  const sent = performance.now();
  return new Promise((resolve) => {
    const done = (version?: string, failure?: string) =>
      resolve({
        sent,
        ended: performance.now(),
        ...(version === undefined ? { failure: failure ?? 'no answer' } : { version }),
      });
    const req = request(
      { host: '127.0.0.1', port, path: '/version', agent: false, timeout: timeoutMs },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () =>
          res.statusCode === 200 ? done(body.trim()) : done(undefined, `status ${res.statusCode}`),
        );
        res.on('error', (error) => done(undefined, error.message));
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer in time')));
    req.on('error', (error) => done(undefined, error.message));
    req.end();
  });
}

/** One client, a new connection per request, until stopped (or `maxRequests`). */
function startLoad(port: number, timeoutMs: number) {
  const answers: Answer[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped && answers.length < maxRequests) {
      answers.push(await once(port, timeoutMs));
      await sleep(pauseMs);
    }
  })();
  return {
    answers,
    stop: async () => {
      stopped = true;
      await loop;
      return answers;
    },
  };
}

/** For each switch of version in the answers: ms from the last answer of the old one to the first of the new. */
/** Requests that waited over 500 ms for their answer (or their failure): the waits an update caused. */
const slowRequests = (answers: readonly Answer[]) => answers.filter((a) => a.ended - a.sent > 500).length;

function downtimes(answers: readonly Answer[]): number[] {
  const out: number[] = [];
  let last: Answer | undefined;
  for (const answer of answers) {
    if (answer.version === undefined) continue;
    if (last && answer.version !== last.version) out.push(answer.ended - last.ended);
    last = answer;
  }
  return out;
}

const docker = dockerClient();
const engine = await ensureDockerEngine();
await buildFixtureImages(docker);
const registry = await startRegistry();
const image = `${registry.host}/${repository}`;
const labels = testkitLabels({ [benchLabel]: runId, 'docker-watcher.scope': runId });
const target = createAdoptedContainerTarget({ scope: runId, stopTimeoutSeconds: 1 });
const proxiedPort = await freePort();
const caddy = await startCaddy({
  configure: (config) => {
    const servers = (config.apps as { http: { servers: Record<string, { routes: unknown[] }> } }).http
      .servers;
    for (const server of Object.values(servers)) {
      server.routes.push({
        handle: [
          {
            handler: 'reverse_proxy',
            upstreams: [{ dial: `127.0.0.1:${proxiedPort}` }],
            // A GET whose upstream connection broke (the container stopping, or Docker's port proxy
            // accepting before the app listens) is retried too, not only a failed dial.
            load_balancing: {
              try_duration: '30s',
              try_interval: '100ms',
              retry_match: [{ method: ['GET'] }],
            },
          },
        ],
      });
    }
    return config;
  },
});
const releases: Release[] = [];
/**
 * The fixture app stops at once on SIGTERM, cutting a request in flight. The draining variant (its
 * entrypoint replaced, as a user would run an app that shuts down gracefully) closes its listener
 * first and lets the requests in flight finish.
 */
const draining = [
  '/bin/busybox',
  'sh',
  '-c',
  `/bin/busybox httpd -f -p ${appPort} -h /www & pid=$!; trap 'kill $pid; /bin/busybox sleep 1; exit 0' TERM INT; wait`,
];
/** The app's alias on the network, for the container without a host port. */
const alias = 'app';
/** A container on a fixed loopback host port, or (`port` undefined) reached only by `alias` on the network. */
const create = (
  name: string,
  port: number | undefined,
  reference: string,
  labelled: boolean,
  drains = false,
) =>
  docker.createContainer({
    name,
    Image: reference,
    Labels: labelled ? { ...labels, 'docker-watcher.enable': 'true' } : labels,
    StopTimeout: drains ? 5 : 1,
    ...(drains ? { Entrypoint: draining } : {}),
    HostConfig: {
      NetworkMode: network,
      ...(port === undefined
        ? {}
        : { PortBindings: { [`${appPort}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(port) }] } }),
    },
    ...(port === undefined
      ? { NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [alias] } } } }
      : {}),
  });

/**
 * Caddy as a container on the app's network, as a compose user runs it in front of an app: Debian's
 * binary and the libraries it links, in a scratch image; it dials the app by its alias, so each new
 * connection goes to whichever container holds the alias, and retries a GET as the host's Caddy does.
 */
const caddyImage = (dialTimeout?: string): FixtureImage => ({
  ref: `dw-bench/caddy:${runId}${dialTimeout ? `-dial-${dialTimeout}` : ''}`,
  dockerfile: [
    'FROM scratch',
    'COPY caddy /usr/bin/caddy',
    'COPY libzstd.so.1 libc.so.6 /lib/x86_64-linux-gnu/',
    'COPY ld-linux-x86-64.so.2 /lib64/',
    'COPY caddy.json /etc/caddy.json',
    'ENV XDG_DATA_HOME=/ XDG_CONFIG_HOME=/ GODEBUG=netdns=go',
    'ENTRYPOINT ["/usr/bin/caddy", "run", "--config", "/etc/caddy.json"]',
    '',
  ].join('\n'),
  files: {
    caddy: { from: '/usr/bin/caddy' },
    'libzstd.so.1': { from: '/lib/x86_64-linux-gnu/libzstd.so.1' },
    'libc.so.6': { from: '/lib/x86_64-linux-gnu/libc.so.6' },
    'ld-linux-x86-64.so.2': { from: '/lib64/ld-linux-x86-64.so.2' },
    'caddy.json': JSON.stringify({
      admin: { disabled: true },
      apps: {
        http: {
          servers: {
            bench: {
              listen: [':80'],
              automatic_https: { disable: true },
              routes: [
                {
                  handle: [
                    {
                      handler: 'reverse_proxy',
                      upstreams: [{ dial: `${alias}:${appPort}` }],
                      // Gives up on a dial that gets no answer, and tries again, after this long.
                      ...(dialTimeout ? { transport: { protocol: 'http', dial_timeout: dialTimeout } } : {}),
                      load_balancing: {
                        try_duration: '30s',
                        try_interval: '100ms',
                        retry_match: [{ method: ['GET'] }],
                      },
                    },
                  ],
                },
              ],
            },
          },
        },
      },
    }),
  },
});
const caddyContainer = (dialTimeout?: string) => `${runId}-caddy${dialTimeout ? '-dial' : ''}`;
async function startCaddyContainer(port: number, dialTimeout?: string) {
  const built = caddyImage(dialTimeout);
  await buildFixtureImage(docker, built);
  const container = await docker.createContainer({
    name: caddyContainer(dialTimeout),
    Image: built.ref,
    Labels: labels,
    ExposedPorts: { '80/tcp': {} },
    HostConfig: {
      NetworkMode: network,
      PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] },
    },
  });
  await container.start();
}

interface ModeResult {
  readonly mode: string;
  readonly updatesMs: number[];
  readonly answers: Answer[];
}
const results: ModeResult[] = [];

try {
  for (const tag of ['v1', 'v2'] as const) {
    const pushed = await pushImage(registry, { source: appFixture(tag).ref, repository, tag }, docker);
    releases.push({ tag: 'latest', digest: pushed.digest });
  }
  await pushImage(registry, { source: appFixture('v1').ref, repository, tag: 'latest' }, docker);
  for (const reference of [`${image}:latest`, ...releases.map((r) => `${image}@${r.digest}`)]) {
    await new Promise<void>((resolve, reject) =>
      docker.pull(reference, (error: unknown, stream: NodeJS.ReadableStream) =>
        error ? reject(error) : docker.modem.followProgress(stream, (e) => (e ? reject(e) : resolve())),
      ),
    );
  }
  await docker.createNetwork({ Name: network, Labels: labels });

  /** 20 updates of a labelled container, alternating v2 and v1, with the load on `loadPort`. */
  const updates = async (
    mode: string,
    name: string,
    port: number | undefined,
    loadPort: number,
    timeoutMs: number,
    drains = false,
  ) => {
    await (await create(name, port, `${image}:latest`, true, drains)).start();
    const load = startLoad(loadPort, timeoutMs);
    const updatesMs: number[] = [];
    const store = createMemoryStateStore();
    try {
      await until(() => load.answers.some((a) => a.version === 'v1'));
      for (let index = 1; index <= updateCount; index++) {
        const deployId = `update-${index}`;
        const release = releases[index % 2]!;
        const previous = releases[(index + 1) % 2]!;
        await store.createDeploy({
          deploy: {
            id: deployId,
            project: name,
            stage: 'live',
            release,
            previous,
            trigger: 'auto',
            state: 'pending',
            data: {},
          },
        });
        const started = performance.now();
        const record = await runDeploy(
          { store, target, bus: createEventBus() },
          { deployId, settings: { image, strategy: 'blue-green', health } },
        );
        if (record.state !== 'succeeded')
          throw new Error(`update ${deployId} ended ${record.state}: ${record.error?.message}`);
        updatesMs.push(performance.now() - started);
        await sleep(250);
      }
      await sleep(1_000);
    } finally {
      results.push({ mode, updatesMs, answers: await load.stop() });
    }
  };

  await updates('behind Caddy', `${runId}-proxied`, proxiedPort, caddy.httpPort, 60_000, true);
  await docker.getContainer(`${runId}-proxied`).remove({ force: true });
  await updates('behind Caddy, app cut at stop', `${runId}-cut`, proxiedPort, caddy.httpPort, 60_000);
  await docker.getContainer(`${runId}-cut`).remove({ force: true });
  const frontPort = await freePort();
  await startCaddyContainer(frontPort);
  await updates('side by side, behind Caddy, app cut at stop', `${runId}-sbs`, undefined, frontPort, 60_000);
  // The same with Caddy's dial_timeout short: a dial into an address that is not (or no longer)
  // serving is given up and tried again instead of waiting for TCP's one-second SYN retransmission.
  for (const name of [`${runId}-sbs`, caddyContainer()])
    await docker.getContainer(name).remove({ force: true });
  const dialPort = await freePort();
  await startCaddyContainer(dialPort, shortDial);
  await updates(sideBySideShortDial, `${runId}-sbs-dial`, undefined, dialPort, 60_000);
  await docker.getContainer(caddyContainer(shortDial)).remove({ force: true });
  const directPort = await freePort();
  await updates('fixed port', `${runId}-direct`, directPort, directPort, 5_000);

  // The floor: the same container replaced by hand, `docker stop` + `docker rm` + `docker run`.
  const floorPort = await freePort();
  const floorName = `${runId}-floor`;
  await (await create(floorName, floorPort, `${image}@${releases[0]!.digest}`, false)).start();
  const load = startLoad(floorPort, 5_000);
  const updatesMs: number[] = [];
  try {
    await until(() => load.answers.some((a) => a.version === 'v1'));
    for (let index = 1; index <= updateCount; index++) {
      const started = performance.now();
      const old = docker.getContainer(floorName);
      await old.stop({ t: 1 });
      await old.remove();
      await (await create(floorName, floorPort, `${image}@${releases[index % 2]!.digest}`, false)).start();
      updatesMs.push(performance.now() - started);
      const version = index % 2 === 1 ? 'v2' : 'v1';
      await until(() => load.answers.at(-1)?.version === version, `answer of ${version}`);
      await sleep(250);
    }
    await sleep(1_000);
  } finally {
    results.push({ mode: 'floor: stop + rm + run', updatesMs, answers: await load.stop() });
  }
} finally {
  await removeDeployed(docker, {
    label: `${benchLabel}=${runId}`,
    network,
    images: releases.map((release) => `${image}@${release.digest}`),
    markerPrefix: runId,
  });
  for (const reference of [`${image}:latest`, caddyImage().ref, caddyImage(shortDial).ref])
    await docker
      .getImage(reference)
      .remove()
      .catch(() => undefined);
  await target.dispose();
  await caddy.stop();
  await registry.stop();
  await engine.stop();
}

const fmt = (ms: number) => (Number.isFinite(ms) ? (ms < 10 ? ms.toFixed(1) : ms.toFixed(0)) : '–');
const cpu = cpus()[0]?.model ?? 'unknown CPU';
const lines = [
  '# label-mode updates benchmark',
  '',
  '```sh',
  ['node --conditions=@docker-watcher/source bench/label-updates.bench.ts', ...process.argv.slice(2)].join(
    ' ',
  ),
  '```',
  '',
  `- Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
  `- Node ${process.version}; machine: ${availableParallelism()} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM`,
  `- Load: one client, \`GET /version\` on a new connection per request, ${pauseMs} ms between requests; each row: ${updateCount} updates alternating v1/v2, 250 ms apart`,
  '',
  '| mode | updates | requests | failed | downtime per update median ms | max ms | requests over 500 ms | longest request ms | update median ms |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const { mode, updatesMs, answers } of results) {
  const gaps = downtimes(answers);
  const failed = answers.filter((a) => a.version === undefined).length;
  const longest = Math.max(...answers.map((a) => a.ended - a.sent));
  lines.push(
    `| ${mode} | ${updatesMs.length} | ${answers.length} | ${failed} | ${fmt(quantile(gaps, 0.5))} | ${fmt(Math.max(...gaps))} | ${slowRequests(answers)} | ${fmt(longest)} | ${fmt(quantile(updatesMs, 0.5))} |`,
  );
}
lines.push(
  '',
  'Downtime per update: from the last answer of the old release to the first answer of the new one, as the client',
  'saw it. Behind Caddy requests are held rather than failed; a held request that the old release answers (side by',
  'side, both serve for a while) is not in it, so the requests over 500 ms and the longest one count every wait. An',
  'update runs from the deploy start to its gate passed; the floor has no pull and no gate.',
);
for (const { mode, answers } of results) {
  const why = new Map<string, number>();
  for (const { failure } of answers) if (failure) why.set(failure, (why.get(failure) ?? 0) + 1);
  if (why.size > 0)
    lines.push('', `Failures ${mode}: ${[...why].map(([w, n]) => `${n} × ${w}`).join(', ')}.`);
}
process.stdout.write(`${lines.join('\n')}\n`);

if (args.check) {
  let failing = false;
  for (const mode of ['behind Caddy', 'side by side, behind Caddy, app cut at stop', sideBySideShortDial]) {
    const proxied = results.find((r) => r.mode === mode);
    const failed = proxied?.answers.filter((a) => a.version === undefined).length ?? Number.NaN;
    if (!proxied || failed !== 0 || proxied.updatesMs.length !== updateCount) {
      process.stderr.write(
        `${mode}: ${failed} failed requests over ${proxied?.updatesMs.length ?? 0} updates (target: 0 over ${updateCount})\n`,
      );
      failing = true;
    }
  }
  // The advice the README gives: a short dial timeout must leave fewer long waits than Caddy's default.
  const plain = results.find((r) => r.mode === 'side by side, behind Caddy, app cut at stop');
  const short = results.find((r) => r.mode === sideBySideShortDial);
  if (plain && short && slowRequests(short.answers) >= Math.max(1, slowRequests(plain.answers))) {
    process.stderr.write(
      `${sideBySideShortDial}: ${slowRequests(short.answers)} requests over 500 ms, not fewer than the ${slowRequests(plain.answers)} with Caddy's default dial timeout\n`,
    );
    failing = true;
  }
  if (failing) process.exit(1);
}
