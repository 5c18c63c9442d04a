import { registryHost } from '../_image-ref.ts';

/** A container's image reference (`Config.Image`) taken apart as Docker reads it. */
export interface ImageName {
  /** The repository as written, without tag or digest: `nginx`, `127.0.0.1:5000/team/app`. */
  readonly repository: string;
  /** The registry host: `docker.io` for Docker Hub. */
  readonly host: string;
  /** The repository path on that registry: `library/nginx`, `team/app`. */
  readonly path: string;
  /** The tag; `latest` when the reference names neither tag nor digest. */
  readonly tag?: string;
  readonly digest?: string;
}

const digestPattern = /^sha256:[a-f0-9]{64}$/;
const tagPattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const pathPattern = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/** `undefined` for what is not an image reference (an image id, an empty string). */
export function parseImageName(reference: string): ImageName | undefined {
  let rest = reference.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestPattern.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagPattern.test(tag)) return undefined;
  }
  if (rest === '' || rest.startsWith('sha256')) return undefined;
  const host = registryHost(rest);
  const slash = rest.indexOf('/');
  const first = slash === -1 ? '' : rest.slice(0, slash);
  const explicitHost = first.includes('.') || first.includes(':') || first === 'localhost';
  let path = explicitHost ? rest.slice(slash + 1) : rest;
  if (host === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  if (!pathPattern.test(path)) return undefined;
  return {
    repository: rest,
    host,
    path,
    ...(tag === undefined && digest === undefined ? { tag: 'latest' } : tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
  };
}
