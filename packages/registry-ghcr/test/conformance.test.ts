import { describeRegistry } from '@docker-watcher/core/testing/vitest';
import { type LocalRegistry, type RegistryAuthMode, startRegistry } from '@docker-watcher/testkit';
import { afterAll, beforeAll, describe } from 'vitest';
import { ghcrHarness } from './support/harness.ts';

// ghcr.io is a Bearer-token registry (`https://ghcr.io/token`); the testkit's token mode is the same
// flow (basic user:PAT in, token out). Anonymous mode stands for public images.
for (const auth of ['token', 'anonymous'] as const satisfies readonly RegistryAuthMode[]) {
  describe(`ghcr registry side on distribution 2.8, ${auth}`, () => {
    let registry: LocalRegistry;
    beforeAll(async () => {
      registry = await startRegistry({ auth });
    });
    afterAll(() => registry?.stop());

    describeRegistry({ name: `registry:ghcr (${auth})`, create: () => ghcrHarness(registry) });
  });
}
