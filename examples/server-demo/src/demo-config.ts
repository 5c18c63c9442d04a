import type { StackProject } from './stack-config.ts';

/** The demo's project: the plan's three stages of one app. */
export const demoProject = 'demo';
export const demoRepository = 'demo/web-app';

export const demoProjects: Readonly<Record<string, StackProject>> = {
  [demoProject]: {
    repository: demoRepository,
    stages: {
      // Every dev-* push is deployed at once.
      dev: { tag_pattern: 'dev-*', auto_deploy: true },
      // A v* release waits until someone confirms it.
      rel: { tag_pattern: 'v*', auto_deploy: true, confirm: true },
      // prod takes exactly the digest rel proved, after a confirmation.
      prod: { tag_pattern: 'v*', auto_deploy: true, confirm: true, promote_from: 'rel', subdomain: 'app' },
    },
  },
};
