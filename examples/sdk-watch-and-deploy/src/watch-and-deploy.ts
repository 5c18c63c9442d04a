import * as dw from '@docker-watcher/core';

type Setup = { registry: dw.Registry; target: dw.DeployTarget; proxy: dw.ReverseProxy; image: string };

/** Watches `team/web-app` for `v1.x` releases and deploys each new one, blue-green, behind the proxy. */
export async function watchAndDeploy({ registry, target, proxy, image }: Setup) {
  const health = { ...dw.defaultHealthCheck, path: '/health' };
  const prod: dw.EngineStage = {
    policy: dw.compileTagPolicy({ semver: '^1', pattern: 'v*' }),
    autoDeploy: true,
    deploy: { image, port: 8080, host: 'app.example.com', health },
  };
  const engine = dw.createEngine({
    registries: { main: registry },
    target,
    proxy,
    projects: [{ id: 'web-app', registry: 'main', repository: 'team/web-app', stages: { prod } }],
  });
  engine.bus.on('deploy:succeeded', (event) => process.stdout.write(`${event.release.tag} is live\n`));
  await engine.start();
  return engine;
}
