import type { RegistryHarness } from '@docker-watcher/core/testing';
import { describeRegistry } from '@docker-watcher/core/testing/vitest';
import { createStaticIndexRegistry } from '../src/index.ts';
import { randomDigest, startIndexServer } from './index-server.ts';

const token = 'conformance-token';

/** A loopback server per case; the harness seeds by editing the index it serves. */
async function createHarness(): Promise<RegistryHarness> {
  const server = await startIndexServer({ token });
  return {
    registry: createStaticIndexRegistry({ url: server.url, token }),
    seed: async ({ repository, tags }) => {
      server.index.repositories[repository] ??= { tags: {} };
      const entry = server.index.repositories[repository];
      const digests: Record<string, string> = {};
      for (const tag of tags) {
        const digest = randomDigest();
        entry.tags[tag] = digest;
        digests[tag] = digest;
      }
      return { repository, digests };
    },
    requestCount: () => server.requests,
    dispose: () => server.close(),
  };
}

// No skips: the index is one document (no pages to get wrong), and the cases about image config,
// platforms and webhooks are not run because the adapter does not claim them.
describeRegistry({ name: 'registry:static-index (loopback server)', create: createHarness });
