import * as dw from '@docker-watcher/core';

type Adapters = { registry: dw.Registry; target: dw.DeployTarget; proxy: dw.ReverseProxy };

/** Watches `team/web-app` for `v1.x` releases and deploys each new one, blue-green, behind the proxy. */
export async function watchAndDeploy({ registry, target, proxy }: Adapters) {
  const engine = dw.createEngine({
    registries: { main: registry },
    target,
    proxy,
    projects: [
      {
        id: 'web-app',
        registry: 'main',
        repository: 'team/web-app',
        stages: {
          prod: {
            policy: dw.compileTagPolicy({ semver: '^1', pattern: 'v*' }),
            autoDeploy: true,
            deploy: { image: 'registry.example.com/team/web-app', port: 8080, host: 'app.example.com' },
          },
        },
      },
    ],
  });
  engine.bus.on('deploy:succeeded', (event) => process.stdout.write(`${event.release.tag} is live\n`));
  await engine.start();
  return engine;
}
