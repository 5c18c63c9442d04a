/**
 * The registry host of an image repository, as Docker reads references: the first path component
 * when it has a `.` or a `:` or is `localhost`, otherwise Docker Hub (`docker.io`).
 */
export function registryHost(image: string): string {
  const slash = image.indexOf('/');
  if (slash === -1) return 'docker.io';
  const first = image.slice(0, slash);
  if (first.includes('.') || first.includes(':') || first === 'localhost') {
    return first === 'index.docker.io' || first === 'registry-1.docker.io' ? 'docker.io' : first;
  }
  return 'docker.io';
}

/** Docker Hub's credentials are looked up under any of its names. */
const dockerHubAliases = [
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'https://index.docker.io/v1/',
];

export function credentialsFor<T>(
  auth: Readonly<Record<string, T>> | undefined,
  host: string,
): T | undefined {
  if (!auth) return undefined;
  const direct = auth[host];
  if (direct !== undefined || host !== 'docker.io') return direct;
  for (const alias of dockerHubAliases) {
    const found = auth[alias];
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The address the engine sends with credentials: Docker Hub's v1 index URL, otherwise the host. */
export function serverAddress(host: string): string {
  return host === 'docker.io' ? 'https://index.docker.io/v1/' : host;
}
