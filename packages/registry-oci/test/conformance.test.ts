import { describeRegistry } from '@docker-watcher/core/testing/vitest';
import { type LocalRegistry, type RegistryAuthMode, startRegistry } from '@docker-watcher/testkit';
import { afterAll, beforeAll, describe } from 'vitest';
import { ociHarness } from './support/harness.ts';

// One real distribution registry per auth mode; every case gets a fresh adapter and its own repository.
for (const auth of ['anonymous', 'basic', 'token'] as const satisfies readonly RegistryAuthMode[]) {
  describe(`distribution 2.8, ${auth}`, () => {
    let registry: LocalRegistry;
    beforeAll(async () => {
      registry = await startRegistry({ auth });
    });
    afterAll(() => registry?.stop());

    describeRegistry({ name: `registry:oci (${auth})`, create: () => ociHarness(registry) });
  });
}
