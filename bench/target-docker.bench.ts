// Blue-green deploy of the fixture app on the real engine: runDeploy + target:docker, side by side
// with a shell script doing the same docker CLI steps (pull, run, wait healthy, stop, rm).
// Run: node --conditions=@docker-watcher/source bench/target-docker.bench.ts [--runs=10] [--check]
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import {
  createEventBus,
  createMemoryReverseProxy,
  createMemoryStateStore,
  type Release,
} from '@docker-watcher/core';
import { runDeploy } from '@docker-watcher/core/testing';
// The bench package does not depend on target-docker (yet): its source, by path.
import { createDockerTarget } from '@docker-watcher/target-docker';
import { appFixture, dockerClient, pushImage, startRegistry, testkitLabel } from '@docker-watcher/testkit';
import { removeDeployed } from './_remove-deployed.ts';

const runs = Number(process.argv.find((arg) => arg.startsWith('--runs='))?.slice(7) ?? 10);
const check = process.argv.includes('--check');
const budget = 1.2;
const health = { path: '/health', intervalMs: 200, timeoutMs: 2_000, retries: 3, startPeriodMs: 0 };
const benchLabel = 'docker-watcher-bench.run';
const runId = `bench-${process.pid}`;
const network = `dw-bench-${process.pid}`;

const quantile = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil(q * values.length) - 1)]!;
const fmt = (ms: number) => ms.toFixed(0);

// The shell side: one deploy, the steps an operator's script would take.
const script = `
set -eu
NEW="$1"; OLD="$2"; REF="$3"; NET="$4"; LABEL="$5"; KEEP="$6"
docker pull -q "$REF" >/dev/null
docker network inspect "$NET" >/dev/null 2>&1 || docker network create --label "$LABEL" "$NET" >/dev/null
docker run -d --name "$NEW" --network "$NET" --label "$LABEL" --label "$KEEP" --restart unless-stopped \\
  --stop-timeout 5 -p 127.0.0.1::8080 "$REF" >/dev/null
PORT=$(docker inspect -f '{{(index (index .NetworkSettings.Ports "8080/tcp") 0).HostPort}}' "$NEW")
tries=0
until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/health"; do
  tries=$((tries + 1)); [ "$tries" -lt 100 ] || { echo "never healthy" >&2; exit 1; }
  sleep 0.2
done
if [ -n "$OLD" ]; then docker stop -t 5 "$OLD" >/dev/null; docker rm "$OLD" >/dev/null; fi
`;

async function main() {
  const docker = dockerClient();
  const registry = await startRegistry();
  const image = `${registry.host}/bench/app`;
  const releases: Release[] = [];
  for (const tag of ['v1', 'v2'] as const) {
    const pushed = await pushImage(registry, { source: appFixture(tag).ref, repository: 'bench/app', tag });
    releases.push({ tag, digest: pushed.digest });
  }

  // Fixture images carry the testkit label, which containers inherit: overridden, so that another
  // test run's cleanup of testkit resources leaves the benchmark's containers alone.
  const target = createDockerTarget({
    network,
    publish: true,
    labels: { [benchLabel]: runId, [testkitLabel]: 'false' },
  });
  const store = createMemoryStateStore();
  const proxy = createMemoryReverseProxy();
  const bus = createEventBus();
  let deploys = 0;
  const watcherDeploy = async (release: Release) => {
    const id = `bench-${++deploys}`;
    await store.createDeploy({
      deploy: { id, project: 'bench', stage: 'dev', release, trigger: 'manual', state: 'pending', data: {} },
    });
    const started = performance.now();
    const record = await runDeploy(
      { store, target, proxy, bus },
      {
        deployId: id,
        settings: { image, port: 8080, strategy: 'blue-green', health, host: 'bench.example.test' },
      },
    );
    const ms = performance.now() - started;
    if (record.state !== 'succeeded')
      throw new Error(`deploy ${id} ended ${record.state}: ${record.error?.message}`);
    return ms;
  };

  let shellOld = '';
  let shellDeploys = 0;
  const shellDeploy = (release: Release) => {
    const name = `dw-bench-shell-${process.pid}-${++shellDeploys}`;
    const started = performance.now();
    const result = spawnSync(
      'sh',
      [
        '-c',
        script,
        'sh',
        name,
        shellOld,
        `${image}@${release.digest}`,
        network,
        `${benchLabel}=${runId}`,
        `${testkitLabel}=false`,
      ],
      { encoding: 'utf8' },
    );
    const ms = performance.now() - started;
    if (result.status !== 0) throw new Error(`shell deploy failed: ${result.stderr}`);
    shellOld = name;
    return ms;
  };

  const watcher: number[] = [];
  const shell: number[] = [];
  try {
    // Warm-up: both pull once and have a release running, so every measured deploy replaces one.
    await watcherDeploy(releases[0]!);
    shellDeploy(releases[0]!);
    for (let i = 1; i <= runs; i++) {
      const release = releases[i % 2]!;
      // Interleaved, so that drift on a shared machine hits both sides alike.
      watcher.push(await watcherDeploy(release));
      shell.push(shellDeploy(release));
    }
  } finally {
    await removeDeployed(docker, {
      label: `${benchLabel}=${runId}`,
      network,
      images: releases.map((release) => `${image}@${release.digest}`),
      markerPrefix: 'bench/',
    });
    await target.dispose();
    await registry.stop();
  }

  const rows = [
    ['runDeploy + target:docker', watcher],
    ['shell script (docker CLI)', shell],
  ] as const;
  const ratio = quantile(watcher, 0.5) / quantile(shell, 0.5);
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  process.stdout.write(
    [
      `### Blue-green deploy of the fixture app (${runs} deploys each, interleaved, after one warm-up)`,
      '',
      `node ${process.version}, ${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GB, ${new Date().toISOString()}`,
      '',
      '| deploy | median ms | p95 ms | min ms | max ms |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...rows.map(
        ([name, values]) =>
          `| ${name} | ${fmt(quantile(values, 0.5))} | ${fmt(quantile(values, 0.95))} | ${fmt(Math.min(...values))} | ${fmt(Math.max(...values))} |`,
      ),
      '',
      `median ratio (target:docker / shell): ${ratio.toFixed(2)}× (budget ≤ ${budget}×)`,
      '',
    ].join('\n'),
  );
  if (check && ratio > budget) {
    process.stderr.write(`target-docker benchmark missed its budget: ${ratio.toFixed(2)}× > ${budget}×\n`);
    process.exitCode = 1;
  }
}

await main();
