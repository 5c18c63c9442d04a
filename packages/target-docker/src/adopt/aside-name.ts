/**
 * While an update runs, two containers of one stage exist, and the one not under the user's name
 * carries the deploy in its name, so that a restart after a crash can tell what each one is:
 * - in place, the old container waits under an aside name, so that restoring it is a rename and a
 *   start;
 * - side by side, the new container is tried under a next name beside the old one, which keeps
 *   serving until the new one passed its gate (then the new one takes the name).
 */
const markers = { aside: '.dw-aside.', next: '.dw-next.' } as const;

export type StandInRole = keyof typeof markers;

export function asideName(name: string, deployId: string): string {
  return `${name}${markers.aside}${deployId}`;
}

export function nextName(name: string, deployId: string): string {
  return `${name}${markers.next}${deployId}`;
}

/** The user's name and the deploy a stand-in name carries, and which kind of stand-in it is. */
export function parseStandInName(
  name: string,
): { readonly role: StandInRole; readonly original: string; readonly deployId: string } | undefined {
  for (const role of ['aside', 'next'] as const) {
    const marker = markers[role];
    const at = name.lastIndexOf(marker);
    if (at <= 0) continue;
    const deployId = name.slice(at + marker.length);
    if (deployId !== '') return { role, original: name.slice(0, at), deployId };
  }
  return undefined;
}
