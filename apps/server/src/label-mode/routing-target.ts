import { CoreError, type DeployTarget, type StageRef } from '@docker-watcher/core';

/**
 * One engine, two kinds of stages: those of the config file go to its target, labelled ones to
 * the in-place target. Which is which is decided by project id (a labelled project never shares
 * an id with one of the file).
 */
export function routeTargets(params: {
  readonly main: DeployTarget;
  readonly labelled: DeployTarget;
  readonly isLabelled: (project: string) => boolean;
}): DeployTarget {
  const { main, labelled, isLabelled } = params;
  const of = (ref: Pick<StageRef, 'project'>) => (isLabelled(ref.project) ? labelled : main);
  return {
    id: main.id,
    capabilities: main.capabilities,
    pull: (input) => {
      const target = of(input.spec);
      return target.pull ? target.pull(input) : Promise.resolve();
    },
    start: (input) => of(input.spec).start(input),
    checkHealth: (input) => of(input.instance).checkHealth(input),
    retire: (input) => of(input.instance).retire(input),
    revert: (input) => of(input.instance).revert(input),
    ...(main.promote || labelled.promote
      ? {
          promote: (input: Parameters<NonNullable<DeployTarget['promote']>>[0]) => {
            const target = of(input.instance);
            if (!target.promote)
              throw new CoreError('UNSUPPORTED', `${target.id} promotes no candidates`, { retryable: false });
            return target.promote(input);
          },
        }
      : {}),
    async list(input) {
      if (input.project !== undefined) return of({ project: input.project }).list(input);
      const [own, adopted] = await Promise.all([main.list(input), labelled.list(input)]);
      return [...own, ...adopted];
    },
    logs: async (input) => {
      const target = of(input.instance);
      return target.logs ? target.logs(input) : [];
    },
    // Each target is disposed by whoever created it.
    dispose: async () => {},
  };
}
