import { describeRegistry } from '@docker-watcher/core/testing/vitest';
import { type LocalRegistry, type RegistryAuthMode, startRegistry } from '@docker-watcher/testkit';
import { afterAll, beforeAll, describe } from 'vitest';
import { giteaHarness } from './support/harness.ts';

// Gitea's registry is a Bearer-token registry (`/v2/token`); the testkit's token mode is the same
// flow. Anonymous mode stands for public packages read without a token.
for (const auth of ['token', 'anonymous'] as const satisfies readonly RegistryAuthMode[]) {
  describe(`gitea registry side on distribution 2.8, ${auth}`, () => {
    let registry: LocalRegistry;
    beforeAll(async () => {
      registry = await startRegistry({ auth });
    });
    afterAll(() => registry?.stop());

    describeRegistry({ name: `registry:gitea (${auth})`, create: () => giteaHarness(registry) });
  });
}
