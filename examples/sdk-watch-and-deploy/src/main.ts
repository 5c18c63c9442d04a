// Runs the example against core's in-memory adapters: swap in createOciRegistry, createDockerTarget
// and createCaddyProxy (or createNpmProxy) to run it for real.
import {
  createMemoryDeployTarget,
  createMemoryRegistry,
  createMemoryReverseProxy,
} from '@docker-watcher/core';
import { watchAndDeploy } from './watch-and-deploy.ts';

const registry = createMemoryRegistry();
registry.push('team/web-app', 'v1.0.0');
registry.push('team/web-app', 'v1.1.0');
const proxy = createMemoryReverseProxy();
const engine = await watchAndDeploy({
  registry,
  target: createMemoryDeployTarget(),
  proxy,
  image: 'registry.example.com/team/web-app',
});
await engine.idle();
registry.push('team/web-app', 'v1.2.0');
await engine.pollOnce();
await engine.idle();
process.stdout.write(`app.example.com -> ${JSON.stringify(proxy.routes[0]?.upstream)}\n`);
await engine.stop();
