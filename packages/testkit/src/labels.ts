/** Every container, network and image the testkit creates carries this label, so cleanup finds it. */
export const testkitLabel = 'docker-watcher.testkit';

/** The label naming the test run (the pid of the process that ran global setup) that owns a resource. */
export const ownerLabel = `${testkitLabel}.pid`;

/** The run that owns what this process creates: global setup sets it for every worker it starts. */
export function testkitOwner(): number {
  return Number(process.env.DW_TESTKIT_RUN ?? process.pid);
}

export function testkitLabels(extra: Record<string, string> = {}): Record<string, string> {
  return { [testkitLabel]: 'true', [ownerLabel]: String(testkitOwner()), ...extra };
}
