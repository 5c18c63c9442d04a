import { describeReverseProxy } from '@docker-watcher/core/testing/vitest';
import { type CaddyInstance, startCaddy } from '@docker-watcher/testkit';
import { afterAll, beforeAll } from 'vitest';
import { createCaddyProxy } from '../src/index.ts';
import { type LoopbackUpstream, startUpstream } from './upstreams.ts';

// One real Caddy for the file; every case gets a fresh adapter and its own host names.
let caddy: CaddyInstance;
let upstreams: [LoopbackUpstream, LoopbackUpstream];

beforeAll(async () => {
  caddy = await startCaddy();
  upstreams = [await startUpstream('blue'), await startUpstream('green')];
});

afterAll(async () => {
  await caddy?.stop();
  await Promise.all((upstreams ?? []).map((upstream) => upstream.close()));
});

describeReverseProxy({
  name: 'proxy:caddy (real Caddy, verified switches)',
  create: () => ({
    proxy: createCaddyProxy({ adminUrl: caddy.adminUrl, server: caddy.serverName, tls: 'off' }),
    upstreams: [upstreams[0].upstream, upstreams[1].upstream],
  }),
});

describeReverseProxy({
  name: 'proxy:caddy (real Caddy, verify off)',
  create: () => ({
    proxy: createCaddyProxy({
      adminUrl: caddy.adminUrl,
      server: caddy.serverName,
      tls: 'off',
      verify: false,
    }),
    // Nothing listens on these: without verification, routes to them are fine.
    upstreams: [
      { host: '127.0.0.1', port: 9 },
      { host: 'web-app-dev-green', port: 8080 },
    ],
  }),
});
