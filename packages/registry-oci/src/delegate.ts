import type { RepositoryParams } from '@docker-watcher/core';
import type { OciRegistry } from './oci-registry.ts';
import { rebranded } from './rebrand.ts';

/**
 * The registry operations of an inner OCI adapter, under the outer adapter's id, with repository
 * names folded to lower case (Gitea and ghcr.io store image names so; users write `Acme/Web`).
 */
export function delegateToOci(
  oci: OciRegistry,
  id: string,
): Pick<OciRegistry, 'listTags' | 'resolveReference' | 'readImageConfig'> {
  const inner = <T>(call: () => Promise<T>) => rebranded(oci.id, id, call);
  const lower = <P extends RepositoryParams>(params: P): P => ({
    ...params,
    repository: params.repository.toLowerCase(),
  });
  return {
    listTags: (params) => inner(() => oci.listTags(lower(params))),
    resolveReference: (params) => inner(() => oci.resolveReference(lower(params))),
    readImageConfig: (params) => inner(() => oci.readImageConfig(lower(params))),
  };
}
