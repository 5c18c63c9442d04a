/** Manifest media types the adapter understands; every manifest HEAD/GET sends all of them. */
export const ociIndex = 'application/vnd.oci.image.index.v1+json';
export const ociManifest = 'application/vnd.oci.image.manifest.v1+json';
export const dockerManifestList = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const dockerManifest = 'application/vnd.docker.distribution.manifest.v2+json';

/**
 * The same list on every request: the digest a registry reports belongs to the representation it
 * returns, so comparing digests over time needs a stable `Accept`.
 */
export const manifestAccept = [ociIndex, ociManifest, dockerManifestList, dockerManifest].join(', ');

const indexTypes: ReadonlySet<string> = new Set([ociIndex, dockerManifestList]);
const manifestTypes: ReadonlySet<string> = new Set([
  ociIndex,
  ociManifest,
  dockerManifestList,
  dockerManifest,
]);

/** `application/vnd.oci.image.index.v1+json; charset=utf-8` -> `application/vnd.oci.image.index.v1+json` */
export function bareMediaType(value: string | null | undefined): string | undefined {
  const bare = value?.split(';')[0]?.trim().toLowerCase();
  return bare ? bare : undefined;
}

export function isIndexType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && indexTypes.has(mediaType);
}

/** An image manifest or index (not a layer, a config blob or a signature). */
export function isManifestType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && manifestTypes.has(mediaType);
}
