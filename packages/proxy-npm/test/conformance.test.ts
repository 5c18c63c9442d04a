import { describeReverseProxy } from '@docker-watcher/core/testing/vitest';
import { afterAll, beforeAll } from 'vitest';
import { createNpmProxy } from '../src/index.ts';
import { type FakeNpm, startFakeNpm } from './fake-npm.ts';

// A loopback NPM that follows its schemas and observed answers; every case gets a fresh adapter.
let npm: FakeNpm;

beforeAll(async () => {
  npm = await startFakeNpm();
});

afterAll(() => npm?.close());

describeReverseProxy({
  name: 'proxy:npm (loopback NPM 2.15)',
  create: () => ({
    proxy: createNpmProxy({ url: npm.url, email: npm.user.email, password: npm.user.password, settleMs: 0 }),
  }),
});

describeReverseProxy({
  name: 'proxy:npm (loopback NPM 2.15, adopt, certificates matched)',
  create: () => ({
    proxy: createNpmProxy({
      url: `${npm.url}/api/`,
      email: npm.user.email,
      password: npm.user.password,
      adopt: true,
      certificate: 'match',
      allowWebsocketUpgrade: true,
      blockExploits: true,
      settleMs: 0,
    }),
  }),
});
