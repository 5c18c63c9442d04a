/**
 * While a new container is tried, the old one waits under another name, so that restoring it is a
 * rename and a start, and the deploy that set it aside can be read from its name after a crash.
 */
const marker = '.dw-aside.';

export function asideName(name: string, deployId: string): string {
  return `${name}${marker}${deployId}`;
}

export function parseAsideName(
  name: string,
): { readonly original: string; readonly deployId: string } | undefined {
  const at = name.lastIndexOf(marker);
  if (at <= 0) return undefined;
  const deployId = name.slice(at + marker.length);
  return deployId === '' ? undefined : { original: name.slice(0, at), deployId };
}
