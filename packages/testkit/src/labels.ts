/** Every container, network and image the testkit creates carries this label, so cleanup finds it. */
export const testkitLabel = 'docker-watcher.testkit';

/** Labels for one test run: cleanup after a crashed run removes everything with `testkitLabel`. */
export function testkitLabels(extra: Record<string, string> = {}): Record<string, string> {
  return { [testkitLabel]: 'true', [`${testkitLabel}.pid`]: String(process.pid), ...extra };
}
