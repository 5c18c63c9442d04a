import { CoreError, isCoreError } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import { delegateToOci } from './delegate.ts';
import type { OciRegistry } from './oci-registry.ts';

describe('delegateToOci', () => {
  it('folds repository names to lower case and rebrands errors with the outer id', async () => {
    const seen: string[] = [];
    const oci = {
      id: 'registry:oci/gitea',
      listTags: async ({ repository }: { repository: string }) => {
        seen.push(repository);
        return ['v1'];
      },
      resolveReference: async () => {
        throw new CoreError('NOT_FOUND', 'registry:oci/gitea: no such repository');
      },
    } as unknown as OciRegistry;
    const delegated = delegateToOci(oci, 'registry:gitea');
    expect(await delegated.listTags({ repository: 'Acme/Web' })).toEqual(['v1']);
    expect(seen).toEqual(['acme/web']);
    const error = await delegated
      .resolveReference({ repository: 'acme/web', reference: 'v1' })
      .catch((e: unknown) => e);
    expect(isCoreError(error, 'NOT_FOUND')).toBe(true);
    expect((error as Error).message).toBe('registry:gitea: no such repository');
  });
});
