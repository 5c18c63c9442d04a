// `/readyz` says not ready while the store cannot write (issue #16, item 13): reads may still work,
// but a replica that cannot write its leases or deploy records takes no work.
import {
  createMemoryDeployTarget,
  createMemoryLogger,
  createMemoryRegistry,
  createMemoryReverseProxy,
  createMemoryStateStore,
} from '@docker-watcher/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type Composed, compose } from '../src/compose.ts';
import { loadConfigText } from '../src/config/load.ts';
import { createApp } from '../src/http/app.ts';
import { configText, env, webhookSecret } from './support.ts';

let composed: Composed | undefined;
afterEach(async () => {
  await composed?.dispose();
  composed = undefined;
});

describe('/readyz', () => {
  it('is 503 naming the store while it cannot write or does not answer, and 200 again once it writes', async () => {
    const store = createMemoryStateStore();
    composed = compose(await loadConfigText(configText, env), {
      logger: createMemoryLogger(),
      store,
      target: createMemoryDeployTarget(),
      proxy: createMemoryReverseProxy(),
      registries: { local: createMemoryRegistry({ webhookSecret }) },
      listenPort: 0,
    });
    await composed.engine.start();
    const app = createApp(composed, { readyCheckMs: 0 });
    const readyz = async () => {
      const response = await app.request('/readyz');
      return { status: response.status, body: (await response.json()) as unknown };
    };
    expect(await readyz()).toEqual({ status: 200, body: { status: 'ready' } });

    store.faults.failAlways('acquireLease', 'UNAVAILABLE');
    expect(await readyz()).toMatchObject({
      status: 503,
      body: {
        error: {
          code: 'UNAVAILABLE',
          message: expect.stringMatching(/^Not ready: the store cannot write \(UNAVAILABLE: /),
        },
      },
    });
    // Reads still answer: it is the write that is missing.
    expect(await store.listStages()).toBeDefined();

    store.faults.clear('acquireLease');
    store.faults.delay('acquireLease', Number.POSITIVE_INFINITY);
    expect(await readyz()).toMatchObject({
      status: 503,
      body: { error: { message: expect.stringMatching(/^Not ready: the store cannot write/) } },
    });

    store.faults.clear('acquireLease');
    expect(await readyz()).toEqual({ status: 200, body: { status: 'ready' } });
  });
});
