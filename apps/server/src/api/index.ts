// The API as one table of route contracts: the server registers a handler for each, the OpenAPI
// document is generated from it, and the typed client calls it.
import { authRoutes } from './auth.ts';
import { deployRoutes } from './deploys.ts';
import { intakeRoutes } from './intake.ts';
import { labelRoutes } from './labels.ts';
import { projectRoutes } from './projects.ts';
import { stageActionRoutes } from './stage-actions.ts';
import { systemRoutes } from './system.ts';

export const apiRoutes = {
  ...systemRoutes,
  ...authRoutes,
  ...projectRoutes,
  ...stageActionRoutes,
  ...deployRoutes,
  ...intakeRoutes,
  ...labelRoutes,
} as const;

export type ApiRoutes = typeof apiRoutes;
export type RouteName = keyof ApiRoutes;
